//! Each phase id appears once in `phases`.
//!
//! Why: phases are ordered; a repeated id has two positions in the rollout,
//! and which one a service's dependencies are checked against would be a
//! guess.
//!
//! Example:
//!
//! ```yaml
//! phases:
//!   - {id: 2A, title: Critical fixes}
//!   - {id: 2A, title: Monitoring}      # error: 2A is declared twice
//! ```

use super::Context;
use crate::diag::{Diagnostic, Rule, Severity};

pub const RULE: Rule = Rule {
    code: "PG111",
    name: "duplicate-phase",
    severity: Severity::Error,
    source: include_str!("duplicate_phase.rs"),
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for phase in &cx.spec.phases {
        let id = &phase.value.id;
        if let Some((_, first)) = cx.phases.get(id.value.0.as_str())
            && *first != id.span
        {
            out.push(
                Diagnostic::new(
                    &RULE,
                    id.span,
                    format!("phase `{}` is declared twice", id.value.0),
                )
                .with_label("declared again here")
                .with_secondary(*first, "first declared here"),
            );
        }
    }
}

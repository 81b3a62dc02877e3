//! A service depends only on services of its own phase or an earlier one.
//!
//! Why: phases are rolled out in order. A phase-1 service that needs a
//! phase-2 service cannot start when phase 1 is deployed alone, which is
//! exactly what `render --phase 1` and the compose profiles do.
//!
//! Example:
//!
//! ```yaml
//! phases: [{id: "1"}, {id: 2B}]
//! services:
//!   grafana: {phase: "1", depends_on: [prometheus]}   # error: prometheus comes in 2B
//!   prometheus: {phase: 2B}
//! ```

use super::Selection;
use crate::diag::{Diagnostic, Rule, Severity};

pub const RULE: Rule = Rule {
    code: "PG304",
    name: "phase-order",
    severity: Severity::Error,
    source: include_str!("phase_order.rs"),
};

pub fn check(cx: &Selection, out: &mut Vec<Diagnostic>) {
    for s in cx.checked() {
        let Some(phase) = s.phase else { continue };
        for dep in &s.service().depends_on {
            let Some(target) = cx.service(dep) else {
                continue;
            };
            let Some(dep_phase) = target.phase else {
                continue;
            };
            if dep_phase > phase {
                let id = |svc: &super::context::ServiceFacts| {
                    svc.service()
                        .phase
                        .as_ref()
                        .map(|p| p.value.0.clone())
                        .unwrap_or_default()
                };
                let mut d = Diagnostic::new(
                    &RULE,
                    dep.span,
                    format!(
                        "`{}` (phase {}) depends on `{}`, which comes later (phase {})",
                        s.name.value,
                        id(s),
                        target.name.value,
                        id(target)
                    ),
                )
                .with_label("depends on a later phase");
                if let Some(p) = &target.service().phase {
                    d = d.with_secondary(
                        p.span,
                        format!("`{}` is in phase {}", target.name.value, p.value.0),
                    );
                }
                out.push(d.with_help(format!(
                    "move `{}` to phase {} or later, or `{}` to phase {} or earlier",
                    s.name.value,
                    id(target),
                    target.name.value,
                    id(s)
                )));
            }
        }
    }
}

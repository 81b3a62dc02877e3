//! A service does not depend on itself.
//!
//! Why: it could never start: docker-compose reports a dependency cycle and
//! a startup wait would wait forever.
//!
//! Example:
//!
//! ```yaml
//! api:
//!   depends_on: [postgres, api]   # error: depends on itself
//! ```

use super::Selection;
use crate::diag::{Diagnostic, Rule, Severity};

pub const RULE: Rule = Rule {
    code: "PG302",
    name: "self-dependency",
    severity: Severity::Error,
    source: include_str!("self_dependency.rs"),
};

pub fn check(cx: &Selection, out: &mut Vec<Diagnostic>) {
    for s in cx.checked() {
        for dep in &s.service().depends_on {
            if dep.value == s.name.value {
                out.push(
                    Diagnostic::new(
                        &RULE,
                        dep.span,
                        format!("`{}` depends on itself", s.name.value),
                    )
                    .with_label("self-dependency")
                    .with_secondary(s.name.span, "the service is defined here")
                    .with_help("remove it from `depends_on`"),
                );
            }
        }
    }
}

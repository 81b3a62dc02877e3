//! A warning when `depends_on` names a service more than once.
//!
//! Why: it is harmless but always a slip (often a merge that added the
//! same line twice); platgen renders the dependency once.
//!
//! Example:
//!
//! ```yaml
//! api:
//!   depends_on: [postgres, redis, postgres]   # warning: `postgres` twice
//! ```

use super::Selection;
use crate::diag::{Diagnostic, Rule, Severity};

pub const RULE: Rule = Rule {
    code: "PG305",
    name: "duplicate-dependency",
    severity: Severity::Warning,
    source: include_str!("duplicate_dependency.rs"),
};

pub fn check(cx: &Selection, out: &mut Vec<Diagnostic>) {
    for s in cx.checked() {
        let deps = &s.service().depends_on;
        for (i, dep) in deps.iter().enumerate() {
            if let Some(first) = deps[..i].iter().find(|d| d.value == dep.value) {
                out.push(
                    Diagnostic::new(
                        &RULE,
                        dep.span,
                        format!(
                            "`{}` lists `{}` twice in `depends_on`",
                            s.name.value, dep.value
                        ),
                    )
                    .with_label("listed again here")
                    .with_secondary(first.span, "first listed here"),
                );
            }
        }
    }
}

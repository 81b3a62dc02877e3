//! Every name in `depends_on` is a service of the platform.
//!
//! Why: docker-compose refuses to start a project whose service depends on
//! a service that does not exist, and in Kubernetes the dependant would wait
//! for a host name that never resolves. Usually it is a typo, so the error
//! suggests the closest service name.
//!
//! Example:
//!
//! ```yaml
//! api:
//!   depends_on: [postgress]   # error: unknown service; did you mean `postgres`?
//! ```

use super::Selection;
use crate::diag::{Diagnostic, Rule, Severity};

pub const RULE: Rule = Rule {
    code: "PG301",
    name: "unknown-dependency",
    severity: Severity::Error,
    source: include_str!("unknown_dependency.rs"),
};

pub fn check(cx: &Selection, out: &mut Vec<Diagnostic>) {
    for s in cx.checked() {
        for dep in &s.service().depends_on {
            if cx.service(dep).is_none() {
                let mut d = Diagnostic::new(
                    &RULE,
                    dep.span,
                    format!(
                        "`{}` depends on `{}`, which is not a service of this platform",
                        s.name.value, dep.value
                    ),
                )
                .with_label("unknown service");
                if let Some(help) = cx.did_you_mean_service(dep) {
                    d = d.with_help(help);
                }
                out.push(d);
            }
        }
    }
}

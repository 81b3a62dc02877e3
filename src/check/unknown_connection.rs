//! Every name in `connects_to` is another service of the platform.
//!
//! Why: `connects_to` opens the Kubernetes network policies between two
//! services (a tracing collector, a log forwarder that no one waits for).
//! A misspelt name opens nothing, and the traffic is silently dropped in
//! the cluster while it works under docker-compose. A service reaches
//! itself without a policy, so naming itself is a mistake too.
//!
//! Example:
//!
//! ```yaml
//! api:
//!   connects_to: [jeager]    # error: unknown service; did you mean `jaeger`?
//! ```

use super::Context;
use crate::diag::{Diagnostic, Rule, Severity};

pub const RULE: Rule = Rule {
    code: "PG306",
    name: "unknown-connection",
    severity: Severity::Error,
    source: include_str!("unknown_connection.rs"),
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for s in &cx.services {
        for to in &s.service().connects_to {
            if to.value == s.name.value {
                out.push(
                    Diagnostic::new(
                        &RULE,
                        to.span,
                        format!("`{}` lists itself in `connects_to`", s.name.value),
                    )
                    .with_label("the service itself")
                    .with_help("a service reaches its own ports without a policy; remove it"),
                );
            } else if cx.service(to).is_none() {
                let mut d = Diagnostic::new(
                    &RULE,
                    to.span,
                    format!(
                        "`{}` connects to `{}`, which is not a service of this platform",
                        s.name.value, to.value
                    ),
                )
                .with_label("unknown service");
                if let Some(help) = cx.did_you_mean_service(to) {
                    d = d.with_help(help);
                }
                out.push(d);
            }
        }
    }
}

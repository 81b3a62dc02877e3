//! A service with `gateway` policies also has a `route`.
//!
//! Why: the gateway applies its policies (rate limits, authentication, CORS)
//! to a route. Without one, Kong has no path to match, the policies apply to
//! nothing, and the service is not reachable through the gateway at all.
//!
//! Example:
//!
//! ```yaml
//! api:
//!   gateway: {rate_limit_per_minute: 600, auth: jwt}   # error: no `route`
//! ```

use super::Selection;
use crate::diag::{Diagnostic, Rule, Severity};

pub const RULE: Rule = Rule {
    code: "PG407",
    name: "gateway-without-route",
    severity: Severity::Error,
    source: include_str!("gateway_without_route.rs"),
};

pub fn check(cx: &Selection, out: &mut Vec<Diagnostic>) {
    for s in cx.checked() {
        let svc = s.service();
        if let (Some(gateway), None) = (&svc.gateway, &svc.route) {
            out.push(
                Diagnostic::new(
                    &RULE,
                    gateway.span,
                    format!(
                        "`{}` has gateway policies but no `route` for them to apply to",
                        s.name.value
                    ),
                )
                .with_label("policies for no route")
                .with_help("add `route: {path: /...}`, or remove `gateway`"),
            );
        }
    }
}

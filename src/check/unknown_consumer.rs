//! Every consumer a service's `gateway.consumers` lists is defined under the
//! platform's `gateway.consumers`.
//!
//! Why: the list is the route's ACL: only these consumers get through. A
//! consumer that is not defined has no credentials, so it can never pass
//! the route's authentication; a misspelt name silently locks out the
//! consumer that was meant.
//!
//! Example:
//!
//! ```yaml
//! gateway:
//!   consumers:
//!     web-app: {jwt: {public_key: web-app-jwt-public-key}}
//! services:
//!   api:
//!     gateway: {auth: jwt, consumers: [webapp]}   # error: did you mean `web-app`?
//! ```

use super::Context;
use crate::diag::{Diagnostic, Rule, Severity};
use crate::suggest;

pub const RULE: Rule = Rule {
    code: "PG413",
    name: "unknown-consumer",
    severity: Severity::Error,
    source: include_str!("unknown_consumer.rs"),
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    let defined: Vec<&str> = cx
        .spec
        .gateway
        .as_ref()
        .map(|g| g.value.consumers.keys().map(|k| k.value.as_str()).collect())
        .unwrap_or_default();
    for s in &cx.services {
        let Some(g) = &s.service().gateway else {
            continue;
        };
        for c in &g.value.consumers {
            if defined.contains(&c.value.as_str()) {
                continue;
            }
            let mut d = Diagnostic::new(
                &RULE,
                c.span,
                format!(
                    "`{}` lets the consumer `{}` through, which `gateway.consumers` does not define",
                    s.name.value, c.value
                ),
            )
            .with_label("unknown consumer");
            d = match suggest::did_you_mean(&c.value, defined.iter().copied()) {
                Some(help) => d.with_help(help),
                None => d.with_help(format!(
                    "define it at the top level: `gateway: {{consumers: {{{}: {{...credentials...}}}}}}`",
                    c.value
                )),
            };
            out.push(d);
        }
    }
}

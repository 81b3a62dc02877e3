//! A service behind the gateway is not also published to the network: the
//! port its route leads to, when it has a `host` port, is bound to a
//! loopback address (`bind: 127.0.0.1`).
//!
//! Why: the gateway's authentication and rate limits apply only to requests
//! that pass through it. The same port published on every address answers
//! anyone who asks it directly, token or not, as often as they like.
//!
//! Example:
//!
//! ```yaml
//! api:
//!   ports: [{name: http, host: 1400, container: 8080}]   # error: reachable around Kong
//!   route: {path: /api, port: http}
//!   gateway: {auth: jwt}
//! ```

use super::Context;
use super::context::Resolved;
use crate::diag::{Diagnostic, Rule, Severity};
use crate::exposure;

pub const RULE: Rule = Rule {
    code: "PG421",
    name: "gateway-bypass",
    severity: Severity::Error,
    source: include_str!("gateway_bypass.rs"),
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    let has_gateway = cx.spec.roles.as_ref().is_some_and(|r| r.gateway.is_some());
    if !has_gateway {
        return;
    }
    for s in &cx.services {
        let svc = s.service();
        let (Some(route), Some(gateway)) = (&svc.route, &svc.gateway) else {
            continue;
        };
        let Resolved::Port(p) = s.resolve(route.value.port.as_ref()) else {
            continue;
        };
        let Some(host) = &p.spec.value.host else {
            continue;
        };
        if p.spec
            .value
            .bind
            .as_ref()
            .is_some_and(|b| exposure::is_loopback(&b.value))
        {
            continue;
        }
        out.push(
            Diagnostic::new(
                &RULE,
                host.span,
                format!(
                    "`{}` is behind the gateway, but its port is published to the network",
                    s.name.value
                ),
            )
            .with_label("reachable around the gateway")
            .with_secondary(
                gateway.span,
                "the gateway's policies, which this port skips",
            )
            .with_help(
                "add `bind: 127.0.0.1` to the port (the host still reaches it), or remove `host`",
            ),
        );
    }
}

//! A warning when the spec asks for wiring that no service provides: routes
//! without a `roles.proxy`, metrics without a `roles.monitoring`, gateway
//! policies without a `roles.gateway`, `alerting` receivers without a
//! `roles.alerting`; and an alerting role without receivers.
//!
//! Why: platgen still renders the Nginx, Prometheus or Kong config, but
//! nothing runs it, so the routes are unreachable, the metrics are never
//! scraped, or the rate limits and authentication are never enforced. That is
//! rarely what the author meant, and never what a reader of the spec expects.
//! An Alertmanager without receivers shows alerts in its web UI and
//! notifies no one.
//!
//! Example:
//!
//! ```yaml
//! services:
//!   api:
//!     route: {path: /api}     # warning: no roles.proxy serves it
//! ```

use super::Context;
use crate::diag::{Diagnostic, Rule, Severity};

pub const RULE: Rule = Rule {
    code: "PG406",
    name: "missing-role",
    severity: Severity::Warning,
    source: include_str!("missing_role.rs"),
};

fn alerting(cx: &Context, roles: &crate::spec::Roles, out: &mut Vec<Diagnostic>) {
    match (&cx.spec.alerting, &roles.alerting) {
        (Some(a), None) => out.push(
            Diagnostic::new(
                &RULE,
                a.span,
                "the spec has `alerting` receivers, but names no `roles.alerting`: no Alertmanager sends to them",
            )
            .with_label("needs an `alerting` role")
            .with_help("add `roles: {alerting: <service>}` naming the Alertmanager service"),
        ),
        (None, Some(role)) if cx.service(role).is_some() => out.push(
            Diagnostic::new(
                &RULE,
                role.span,
                format!(
                    "`{}` runs Alertmanager, but the spec has no `alerting` receivers: alerts notify no one",
                    role.value
                ),
            )
            .with_label("no receivers")
            .with_help("add `alerting: {receivers: {<name>: {email: ...}}}`"),
        ),
        _ => {}
    }
}

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    let roles = cx.spec.roles.clone().unwrap_or_default();
    alerting(cx, &roles, out);
    let mut warned = [false; 3];
    for s in &cx.services {
        let svc = s.service();
        let needs = [
            (
                svc.route.as_ref().map(|r| r.span),
                roles.proxy.is_none(),
                "route",
                "proxy",
                "no reverse proxy serves it",
            ),
            (
                svc.metrics.as_ref().map(|m| m.span),
                roles.monitoring.is_none(),
                "metrics",
                "monitoring",
                "nothing scrapes them",
            ),
            (
                svc.gateway.as_ref().map(|g| g.span),
                roles.gateway.is_none(),
                "gateway",
                "gateway",
                "no gateway enforces it",
            ),
        ];
        for (i, (span, missing, key, role, consequence)) in needs.into_iter().enumerate() {
            let Some(span) = span else { continue };
            if missing && !warned[i] {
                warned[i] = true;
                out.push(
                    Diagnostic::new(
                        &RULE,
                        span,
                        format!("`{}` has `{key}`, but the spec names no `roles.{role}`: {consequence}", s.name.value),
                    )
                    .with_label(format!("needs a `{role}` role"))
                    .with_help(format!("add `roles: {{{role}: <service>}}` naming the service that runs the generated config"))
                    .with_note("reported once, for the first service that needs it"),
                );
            }
        }
    }
}

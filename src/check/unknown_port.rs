//! The port that `health`, `metrics` or `route` refers to is one of the
//! service's own ports, by name or by container port number. The reference
//! may be left out only when the service has exactly one port.
//!
//! Why: a health check on a port nothing listens on marks a working service
//! unhealthy forever, and its dependants never start. This is the reference
//! plan's RabbitMQ bug: its health check used 2600 while the service was on
//! 2500. Health checks, scrapes and routes run inside the platform, so they
//! use container ports, not published host ports.
//!
//! Example:
//!
//! ```yaml
//! rabbitmq:
//!   ports: [{name: amqp, host: 2500, container: 5672}]
//!   health:
//!     tcp: {port: 2600}    # error: no such port
//! ```

use super::Selection;
use super::context::{Resolved, ServiceFacts};
use crate::diag::{Diagnostic, Rule, Severity};
use crate::source::Span;
use crate::spec::{PortRef, Spanned};

pub const RULE: Rule = Rule {
    code: "PG205",
    name: "unknown-port",
    severity: Severity::Error,
    source: include_str!("unknown_port.rs"),
};

fn describe_ports(s: &ServiceFacts) -> String {
    if s.ports.is_empty() {
        return format!("`{}` declares no ports", s.name.value);
    }
    let list: Vec<String> = s
        .ports
        .iter()
        .map(|p| {
            let container = p
                .container
                .map_or_else(|| "?".to_owned(), |c| c.to_string());
            let host = p.host.map(|h| format!(", host {h}")).unwrap_or_default();
            match p.name() {
                Some(name) => format!("`{name}` ({container}{host})"),
                None => format!("{container}{host}"),
            }
        })
        .collect();
    format!("the ports of `{}` are {}", s.name.value, list.join(", "))
}

fn check_one(
    s: &ServiceFacts,
    what: &str,
    owner: Span,
    reference: Option<&Spanned<PortRef>>,
    out: &mut Vec<Diagnostic>,
) {
    match (s.resolve(reference), reference) {
        (Resolved::Port(_), _) => {}
        (Resolved::Unknown, Some(r)) => {
            let shown = match &r.value {
                PortRef::Name(n) => format!("`{n}`"),
                PortRef::Number(n) => n.to_string(),
            };
            let mut d = Diagnostic::new(
                &RULE,
                r.span,
                format!(
                    "{what} of `{}` refers to port {shown}, which `{}` does not have",
                    s.name.value, s.name.value
                ),
            )
            .with_label("no such port")
            .with_note(describe_ports(s));
            if let PortRef::Number(n) = r.value {
                let as_host = s.ports.iter().find(|p| {
                    p.host
                        .is_some_and(|h| u16::try_from(n).is_ok_and(|n| h.contains(n)))
                });
                if let Some(p) = as_host {
                    d = d.with_help(format!(
                        "{n} is a host port; checks run inside the platform, so refer to the container port {}{}",
                        p.container.map_or_else(String::new, |c| c.to_string()),
                        p.name().map(|n| format!(" or the name `{n}`")).unwrap_or_default()
                    ));
                }
            }
            if let Some(first) = s.ports.first() {
                d = d.with_secondary(first.spec.span, "ports are declared here");
            }
            out.push(d);
        }
        (_, _) if s.ports.is_empty() => {
            out.push(
                Diagnostic::new(
                    &RULE,
                    owner,
                    format!(
                        "{what} of `{}` needs a port, but `{}` declares none",
                        s.name.value, s.name.value
                    ),
                )
                .with_label("no port to use")
                .with_help("declare the port under `ports:`"),
            );
        }
        (_, _) => {
            out.push(
                Diagnostic::new(
                    &RULE,
                    owner,
                    format!(
                        "{what} of `{}` needs `port:`, because the service has {} ports",
                        s.name.value,
                        s.ports.len()
                    ),
                )
                .with_label("which port?")
                .with_note(describe_ports(s)),
            );
        }
    }
}

pub fn check(cx: &Selection, out: &mut Vec<Diagnostic>) {
    for s in cx.checked() {
        let svc = s.service();
        if let Some(health) = &svc.health {
            let h = &health.value;
            let references = [
                h.http
                    .as_ref()
                    .map(|x| ("the http health check", x.span, x.value.port.as_ref())),
                h.grpc
                    .as_ref()
                    .map(|x| ("the grpc health check", x.span, x.value.port.as_ref())),
                h.liveness
                    .as_ref()
                    .map(|x| ("the liveness endpoint", x.span, x.value.port.as_ref())),
                h.tcp
                    .as_ref()
                    .map(|x| ("the tcp health check", x.span, x.value.port.as_ref())),
            ];
            for (what, span, port) in references.into_iter().flatten() {
                check_one(s, what, span, port, out);
            }
        }
        if let Some(metrics) = &svc.metrics {
            check_one(
                s,
                "`metrics`",
                metrics.span,
                metrics.value.port.as_ref(),
                out,
            );
        }
        if let Some(route) = &svc.route {
            check_one(s, "`route`", route.span, route.value.port.as_ref(), out);
        }
    }
}

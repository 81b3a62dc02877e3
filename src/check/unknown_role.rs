//! Each entry of `roles` names a service of the platform, one with a tcp
//! port.
//!
//! Why: the role decides which service gets a generated config mounted
//! (`nginx.conf`, `prometheus.yml`, `kong.yml`, the Grafana datasource,
//! Alertmanager's config). A
//! misspelt service name would leave the generated file unused and the
//! platform unwired. A role's service listens on its first tcp port (Nginx
//! there, Kong proxies there, Grafana finds Prometheus there), so it needs
//! one.
//!
//! Example:
//!
//! ```yaml
//! roles:
//!   proxy: ngnix        # error: unknown service; did you mean `nginx`?
//!   gateway: kong       # error: unknown service; did you mean `api-gateway` (image `kong:3.9.0`)?
//! ```

use super::Context;
use super::context::ServiceFacts;
use crate::diag::{Diagnostic, Rule, Severity};

pub const RULE: Rule = Rule {
    code: "PG405",
    name: "unknown-role",
    severity: Severity::Error,
    source: include_str!("unknown_role.rs"),
};

/// A service whose image is named like the role's missing service
/// (`roles.gateway: kong` and a service `api-gateway` running `kong:3.9.0`).
fn by_image<'c, 's>(cx: &'c Context<'s>, name: &str) -> Option<&'c ServiceFacts<'s>> {
    cx.services.iter().find(|s| {
        let image = &s.service().image.value;
        let repository = image.split(['@', ':']).next().unwrap_or(image);
        repository.rsplit('/').next() == Some(name)
    })
}

/// `the services are a, b, c`, at most a dozen of them.
fn services_note(cx: &Context) -> String {
    const SHOWN: usize = 12;
    let names: Vec<String> = cx.service_names().map(|n| format!("`{n}`")).collect();
    match names.len() {
        0 => "the platform has no services".to_owned(),
        n if n > SHOWN => format!(
            "the services are {} and {} more",
            names[..SHOWN].join(", "),
            n - SHOWN
        ),
        _ => format!("the services are {}", names.join(", ")),
    }
}

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(roles) = &cx.spec.roles else { return };
    let entries = [
        ("proxy", &roles.proxy),
        ("monitoring", &roles.monitoring),
        ("gateway", &roles.gateway),
        ("dashboards", &roles.dashboards),
        ("alerting", &roles.alerting),
    ];
    for (role, name) in entries {
        let Some(name) = name else { continue };
        match cx.service(name) {
            None => {
                let mut d = Diagnostic::new(
                    &RULE,
                    name.span,
                    format!(
                        "the `{role}` role names `{}`, which is not a service of this platform",
                        name.value
                    ),
                )
                .with_label("unknown service");
                if let Some(help) = cx.did_you_mean_service(name) {
                    d = d.with_help(help);
                } else if let Some(s) = by_image(cx, name) {
                    d = d.with_help(format!(
                        "did you mean `{}` (image `{}`)?",
                        s.name.value,
                        s.service().image.value
                    ));
                } else {
                    d = d.with_help(format!(
                        "name the service that runs it, or add a service `{}`",
                        name.value
                    ));
                }
                out.push(d.with_note(services_note(cx)));
            }
            Some(s) if s.ports.is_empty() => out.push(
                Diagnostic::new(
                    &RULE,
                    name.span,
                    format!(
                        "the `{role}` role names `{}`, which declares no ports",
                        name.value
                    ),
                )
                .with_label("no ports")
                .with_secondary(s.name.span, "the service is defined here")
                .with_help("declare the tcp port the service listens on first"),
            ),
            Some(_) => {}
        }
    }
}

//! Each entry of `roles` names a service of the platform, one with a tcp
//! port.
//!
//! Why: the role decides which service gets a generated config mounted
//! (`nginx.conf`, `prometheus.yml`, `kong.yml`, the Grafana datasource). A
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
//! ```

use super::Context;
use crate::diag::{Diagnostic, Rule, Severity};
use crate::suggest;

pub const RULE: Rule = Rule {
    code: "PG405",
    name: "unknown-role",
    severity: Severity::Error,
    source: include_str!("unknown_role.rs"),
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(roles) = &cx.spec.roles else { return };
    let entries = [
        ("proxy", &roles.proxy),
        ("monitoring", &roles.monitoring),
        ("gateway", &roles.gateway),
        ("dashboards", &roles.dashboards),
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
                if let Some(help) = suggest::did_you_mean(name, cx.service_names()) {
                    d = d.with_help(help);
                }
                out.push(d);
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

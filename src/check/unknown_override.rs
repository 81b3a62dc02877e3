//! Every service an environment changes is a service of the platform,
//! every port whose host port it sets is a named port of that service, and
//! every gateway consumer whose credential it changes has that credential.
//!
//! Why: an environment that names a service or a port that does not exist
//! changes nothing, silently: production would run with the development
//! replicas or host ports. Usually it is a typo, or a service renamed in the
//! platform but not in the environment, so the error suggests the closest
//! name.
//!
//! Example:
//!
//! ```yaml
//! environments:
//!   prod:
//!     services:
//!       apii: {replicas: 3}     # error: no service `apii`; did you mean `api`?
//!       web:
//!         ports: {htp: 80}      # error: `web` has no port `htp`; did you mean `http`?
//!     gateway:
//!       consumers:
//!         partners: {jwt: {issuer: https://id.example.com}}   # error: no consumer `partners`
//! ```

use super::Context;
use crate::diag::{Diagnostic, Rule, Severity};
use crate::spec::Environment;
use crate::suggest;

pub const RULE: Rule = Rule {
    code: "PG120",
    name: "unknown-override",
    severity: Severity::Error,
    source: include_str!("unknown_override.rs"),
};

/// The gateway consumers an environment changes, checked against
/// `gateway.consumers`.
fn check_consumers(cx: &Context, env: &str, changes: &Environment, out: &mut Vec<Diagnostic>) {
    let Some(gateway) = &changes.gateway else {
        return;
    };
    let consumers = cx.spec.gateway.as_ref().map(|g| &g.value.consumers);
    for (name, consumer) in &gateway.value.consumers {
        let Some((own_name, own)) = consumers.and_then(|c| c.get_key_value(name.value.as_str()))
        else {
            let names = consumers
                .into_iter()
                .flat_map(|c| c.keys().map(|k| k.value.as_str()));
            let mut d = Diagnostic::new(
                &RULE,
                name.span,
                format!(
                    "environment `{env}` changes the gateway consumer `{}`, which `gateway.consumers` does not define",
                    name.value
                ),
            )
            .with_label("unknown consumer");
            if let Some(help) = suggest::did_you_mean(name, names) {
                d = d.with_help(help);
            }
            out.push(d);
            continue;
        };
        if let Some(jwt) = &consumer.value.jwt
            && own.value.jwt.is_none()
        {
            out.push(
                Diagnostic::new(
                    &RULE,
                    jwt.span,
                    format!(
                        "environment `{env}` changes the `jwt` credential of `{}`, which has none",
                        name.value
                    ),
                )
                .with_label("no `jwt` to change")
                .with_secondary(own_name.span, "the consumer, without `jwt`"),
            );
        }
    }
}

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for (env, changes) in &cx.spec.environments {
        check_consumers(cx, &env.value, &changes.value, out);
        for (name, service) in &changes.value.services {
            let Some(facts) = cx.service(name) else {
                let mut d = Diagnostic::new(
                    &RULE,
                    name.span,
                    format!(
                        "environment `{}` changes `{}`, which is not a service of this platform",
                        env.value, name.value
                    ),
                )
                .with_label("unknown service");
                if let Some(help) = cx.did_you_mean_service(name) {
                    d = d.with_help(help);
                }
                out.push(d);
                continue;
            };
            let names: Vec<&str> = facts.ports.iter().filter_map(|p| p.name()).collect();
            for port in service.value.ports.keys() {
                if names.contains(&port.value.as_str()) {
                    continue;
                }
                let help =
                    suggest::did_you_mean(port, names.iter().copied()).unwrap_or_else(|| {
                        if names.is_empty() {
                            format!(
                                "`{}` has no named ports: give the port a `name` to change it here",
                                name.value
                            )
                        } else {
                            format!("the ports of `{}` are {}", name.value, names.join(", "))
                        }
                    });
                out.push(
                    Diagnostic::new(
                        &RULE,
                        port.span,
                        format!(
                            "environment `{}` sets the host port of `{}`'s port `{}`, which it does not have",
                            env.value, name.value, port.value
                        ),
                    )
                    .with_label("unknown port name")
                    .with_secondary(facts.name.span, "the service")
                    .with_help(help),
                );
            }
        }
    }
}

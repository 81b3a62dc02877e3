//! An internal port stays inside the platform: no `route` leads to it, and
//! its `bind` is a loopback address. A port is internal when it says
//! `expose: internal`, and by default when it belongs to a data store
//! (postgres, redis, elasticsearch, rabbitmq, vault, consul...) or is named
//! `admin`, `management` or `mgmt`.
//!
//! Why: data stores and admin interfaces often trust whoever reaches them
//! (Redis without a password, Elasticsearch with security off, an
//! uninitialised Vault whose first caller becomes its root), and a route
//! or a published port on every address hands them to the network. Making
//! the exception explicit (`expose: public`, with the service's own login
//! or `gateway: {auth: ...}` in front) keeps it a decision rather than an
//! accident.
//!
//! Example:
//!
//! ```yaml
//! vault:
//!   image: hashicorp/vault:1.18.3
//!   ports: [{name: http, container: 8200}]
//!   route: {path: /vault, port: http}   # error: vault's ports are internal
//! ```

use super::Selection;
use super::context::Resolved;
use crate::diag::{Diagnostic, Rule, Severity};
use crate::exposure::{self, DefaultReason};
use crate::spec::Exposure;

pub const RULE: Rule = Rule {
    code: "PG420",
    name: "internal-port",
    severity: Severity::Error,
    source: include_str!("internal_port.rs"),
};

pub fn check(cx: &Selection, out: &mut Vec<Diagnostic>) {
    for s in cx.checked() {
        let svc = s.service();
        let image = &svc.image.value;
        let why = |p: &super::context::PortFacts| -> Option<String> {
            match p.spec.value.expose.as_ref().map(|e| e.value) {
                Some(Exposure::Public) => None,
                Some(Exposure::Internal) => Some("`expose: internal`".to_owned()),
                None => exposure::internal_by_default(image, p.name()).map(|r| match r {
                    DefaultReason::DataStore => format!(
                        "internal by default: `{}` is a data store",
                        exposure::image_name(image)
                    ),
                    DefaultReason::AdminPort => "internal by default: an admin port".to_owned(),
                }),
            }
        };
        if let Some(route) = &svc.route
            && let Resolved::Port(p) = s.resolve(route.value.port.as_ref())
            && let Some(why) = why(p)
        {
            out.push(
                Diagnostic::new(
                    &RULE,
                    route.value.path.span,
                    format!(
                        "the route `{}` of `{}` leads to an internal port",
                        route.value.path.value, s.name.value
                    ),
                )
                .with_label("public path")
                .with_secondary(p.spec.span, why)
                .with_help(
                    "remove the route (operators reach the port from the host or with `kubectl port-forward`), \
                     or set `expose: public` on the port with a login in front of it",
                ),
            );
        }
        for p in &s.ports {
            // Why the port is internal is worked out only for a port bound
            // somewhere: it is a message, and most ports have no bind.
            if let Some(bind) = &p.spec.value.bind
                // A bind that is no address at all is `invalid-port`'s.
                && bind.value.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>().is_ok()
                && !exposure::is_loopback(&bind.value)
                && let Some(why) = why(p)
            {
                out.push(
                    Diagnostic::new(
                        &RULE,
                        bind.span,
                        format!(
                            "an internal port of `{}` is published on `{}`",
                            s.name.value, bind.value
                        ),
                    )
                    .with_label("not a loopback address")
                    .with_secondary(p.spec.span, why)
                    .with_help("remove `bind` (internal ports are published on 127.0.0.1), or set `expose: public`"),
                );
            }
        }
    }
}

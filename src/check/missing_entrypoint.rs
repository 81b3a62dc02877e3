//! A service with a secret of `delivery: entrypoint` names its image's
//! `entrypoint`.
//!
//! Why: the wrapper that reads the secret files into their variables runs
//! in place of the image's entrypoint and then hands over to it; platgen
//! cannot read the image, so only the spec can say what that entrypoint is.
//! Without it the wrapper would run the `command` alone and skip the image's
//! own start-up (RabbitMQ's `docker-entrypoint.sh` writes its config,
//! Keycloak's `kc.sh` builds the server).
//!
//! Example:
//!
//! ```yaml
//! rabbitmq:
//!   image: rabbitmq:3.13.7-management-alpine
//!   secrets:
//!     RABBITMQ_DEFAULT_PASS: {secret: rabbitmq-password, delivery: entrypoint}  # error
//!   # add: entrypoint: [docker-entrypoint.sh] and command: [rabbitmq-server]
//! ```

use super::Context;
use crate::diag::{Diagnostic, Rule, Severity};
use crate::spec::{SecretDelivery, SecretRef};

pub const RULE: Rule = Rule {
    code: "PG422",
    name: "missing-entrypoint",
    severity: Severity::Error,
    source: include_str!("missing_entrypoint.rs"),
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for s in &cx.services {
        let svc = s.service();
        if svc.entrypoint.is_some() {
            continue;
        }
        let wrapped = svc.secrets.values().find_map(|v| match &v.value {
            SecretRef::Detailed(d) => d
                .delivery
                .as_ref()
                .filter(|d| d.value == SecretDelivery::Entrypoint),
            SecretRef::Name(_) => None,
        });
        if let Some(delivery) = wrapped {
            out.push(
                Diagnostic::new(
                    &RULE,
                    delivery.span,
                    format!(
                        "`{}` reads a secret through the entrypoint wrapper but names no `entrypoint`",
                        s.name.value
                    ),
                )
                .with_label("the wrapper runs the image's entrypoint after it")
                .with_help(
                    "add `entrypoint: [...]` with the image's own ENTRYPOINT (and its CMD as `command`)",
                ),
            );
        }
    }
}

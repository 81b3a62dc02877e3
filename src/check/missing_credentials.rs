//! A route with `gateway.auth` can be passed: some consumer has a credential
//! of that kind (a `jwt` public key for `auth: jwt`, a `key_auth` key for
//! `auth: key-auth`, ...), and every consumer the route lists has one.
//!
//! Why: Kong runs DB-less here, from the generated declarative config, and
//! cannot learn consumers or credentials at run time. A route whose
//! authentication no consumer can pass answers 401 to every request,
//! forever: the gateway is up and the API behind it is unreachable.
//!
//! Example:
//!
//! ```yaml
//! gateway:
//!   consumers:
//!     partner: {key_auth: {key: partner-api-key}}
//! services:
//!   api:
//!     gateway: {auth: jwt}   # error: no consumer has `jwt` credentials
//! ```

use super::Context;
use super::unknown_auth::SUPPORTED;
use crate::diag::{Diagnostic, Rule, Severity};
use crate::spec::Consumer;

pub const RULE: Rule = Rule {
    code: "PG414",
    name: "missing-credentials",
    severity: Severity::Error,
    source: include_str!("missing_credentials.rs"),
};

/// Whether `consumer` has a credential that passes `auth`.
fn passes(consumer: &Consumer, auth: &str) -> bool {
    match auth {
        "jwt" => consumer.jwt.is_some(),
        "key-auth" => consumer.key_auth.is_some(),
        "basic-auth" => consumer.basic_auth.is_some(),
        "hmac-auth" => consumer.hmac_auth.is_some(),
        _ => true,
    }
}

/// The spec key of the credential `auth` needs.
fn credential_key(auth: &str) -> &'static str {
    match auth {
        "jwt" => "jwt: {public_key: <secret>}",
        "key-auth" => "key_auth: {key: <secret>}",
        "basic-auth" => "basic_auth: {password: <secret>}",
        _ => "hmac_auth: {secret: <secret>}",
    }
}

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    let consumers = cx.spec.gateway.as_ref().map(|g| &g.value.consumers);
    for s in &cx.services {
        let svc = s.service();
        let (Some(g), Some(route)) = (&svc.gateway, &svc.route) else {
            continue;
        };
        let Some(auth) = &g.value.auth else { continue };
        if !SUPPORTED.contains(&auth.value.as_str()) {
            continue;
        }
        let path = &route.value.path.value;
        if g.value.consumers.is_empty() {
            let any =
                consumers.is_some_and(|all| all.values().any(|c| passes(&c.value, &auth.value)));
            if !any {
                out.push(
                    Diagnostic::new(
                        &RULE,
                        auth.span,
                        format!(
                            "no consumer has `{}` credentials, so every request to `{path}` would be refused with 401",
                            auth.value
                        ),
                    )
                    .with_label("no consumer can pass this")
                    .with_help(format!(
                        "define one: `gateway: {{consumers: {{<name>: {{{}}}}}}}` at the top level",
                        credential_key(&auth.value)
                    )),
                );
            }
            continue;
        }
        for listed in &g.value.consumers {
            let Some((name, consumer)) =
                consumers.and_then(|all| all.get_key_value(listed.value.as_str()))
            else {
                continue;
            };
            if passes(&consumer.value, &auth.value) {
                continue;
            }
            out.push(
                Diagnostic::new(
                    &RULE,
                    listed.span,
                    format!(
                        "the consumer `{}` has no `{}` credentials, so `{}` would refuse it with 401",
                        listed.value, auth.value, s.name.value
                    ),
                )
                .with_label(format!("cannot pass `auth: {}`", auth.value))
                .with_secondary(name.span, "the consumer is defined here")
                .with_help(format!("give it `{}`", credential_key(&auth.value))),
            );
        }
    }
}

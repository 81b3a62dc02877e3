//! An `ingress` has a proxy role to send its routes to; TLS has a `domain`
//! to hold a certificate for; a cert-manager issuer has a `tls_secret` to
//! write the certificate into.
//!
//! Why: platgen's Ingress sends every route's path to the proxy role's
//! Service, where the gateway and prefix rules live; without a proxy there
//! is nothing behind it. A certificate names a host, so TLS without
//! `domain` cannot match a request, and cert-manager writes what it issues
//! into the Secret the Ingress names, so it needs that name.
//!
//! Example:
//!
//! ```yaml
//! ingress:
//!   class: nginx
//!   cert_manager_issuer: letsencrypt    # error: no tls_secret to issue into
//! ```

use super::Context;
use crate::diag::{Diagnostic, Rule, Severity};

pub const RULE: Rule = Rule {
    code: "PG423",
    name: "invalid-ingress",
    severity: Severity::Error,
    source: include_str!("invalid_ingress.rs"),
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(ingress) = &cx.spec.ingress else {
        return;
    };
    let i = &ingress.value;
    if cx
        .spec
        .roles
        .as_ref()
        .and_then(|r| r.proxy.as_ref())
        .is_none()
    {
        out.push(
            Diagnostic::new(
                &RULE,
                i.class.span,
                "an `ingress` but no proxy role to send the routes to",
            )
            .with_label("nothing behind it")
            .with_help(
                "add `roles: {proxy: <service>}`, the service that runs the generated nginx.conf",
            ),
        );
    }
    if let Some(tls) = &i.tls_secret
        && cx.spec.domain.is_none()
    {
        out.push(
            Diagnostic::new(
                &RULE,
                tls.span,
                "TLS for the ingress, but the platform has no `domain`",
            )
            .with_label("a certificate for which host?")
            .with_help("add `domain: <host name>` at the top of the spec"),
        );
    }
    if let Some(issuer) = &i.cert_manager_issuer
        && i.tls_secret.is_none()
    {
        out.push(
            Diagnostic::new(
                &RULE,
                issuer.span,
                "a cert-manager issuer but no `tls_secret` to issue into",
            )
            .with_label("cert-manager writes the certificate into the Ingress's TLS Secret")
            .with_help("add `tls_secret: <name>`; cert-manager creates it"),
        );
    }
}

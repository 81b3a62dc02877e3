//! Names that become host names or Kubernetes object names must be valid
//! ones: the platform name, its domain, service names, volume names, secret
//! names (also those of alert receivers and gateway consumers), phase ids,
//! and the names of alert receivers and gateway consumers.
//!
//! Why: a service name is a host name on the compose network and the name
//! of a Kubernetes Service, Deployment and ConfigMap. Kubernetes accepts only
//! lowercase letters, digits and `-`, at most 63 characters, starting with a
//! letter (a Service name is an RFC 1035 label) and not ending with `-`.
//! `Nags_API` would render, and then fail at `kubectl apply`. Volume names
//! follow the same rule (they name volumes and volume claims); secret names
//! are keys of a Kubernetes Secret and file names, which may also contain
//! dots. Phase ids name compose profiles and label values: letters, digits,
//! `-`, `_` and `.`.
//!
//! Example:
//!
//! ```yaml
//! services:
//!   Nags_API:        # error: uppercase and `_`; use `nags-api`
//!     image: ghcr.io/nags-platform/nags-api:1.0.0
//! ```

use super::{Context, Selection};
use crate::diag::{Diagnostic, Rule, Severity};
use crate::source::Span;
use crate::spec::{SecretRef, Spanned};

pub const RULE: Rule = Rule {
    code: "PG101",
    name: "invalid-name",
    severity: Severity::Error,
    source: include_str!("invalid_name.rs"),
};

/// What is wrong with `name` as an RFC 1035 label, if anything.
pub fn label_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("it is empty".into());
    }
    if name.len() > 63 {
        return Some(format!(
            "it is {} characters long; the limit is 63",
            name.len()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Some(if c.is_ascii_uppercase() {
            format!("it contains the uppercase letter `{c}`")
        } else {
            format!("it contains `{c}`")
        });
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Some("it does not start with a letter".into());
    }
    if name.ends_with('-') {
        return Some("it ends with `-`".into());
    }
    None
}

/// What is wrong with `name` as a DNS-1123 subdomain (dot-separated labels
/// that may start with a digit, 253 characters at most), if anything.
pub fn subdomain_problem(name: &str) -> Option<String> {
    if name.len() > 253 {
        return Some(format!(
            "it is {} characters long; the limit is 253",
            name.len()
        ));
    }
    for part in name.split('.') {
        if part.is_empty() {
            return Some("it has an empty part between dots".into());
        }
        if let Some(c) = part
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
        {
            return Some(format!("it contains `{c}`"));
        }
        if part.starts_with('-') || part.ends_with('-') {
            return Some("a part starts or ends with `-`".into());
        }
    }
    None
}

/// A close valid spelling: lowercase, other characters turned into `-`;
/// `None` when that still does not start with a letter.
pub fn sanitized(name: &str) -> Option<String> {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while out.contains("--") {
        out = out.replace("--", "-");
    }
    let fixed: String = out.trim_matches('-').chars().take(63).collect();
    let fixed = fixed.trim_end_matches('-');
    fixed
        .starts_with(|c: char| c.is_ascii_lowercase())
        .then(|| fixed.to_owned())
}

fn report(out: &mut Vec<Diagnostic>, what: &str, name: &str, span: Span, problem: &str) {
    let mut d = Diagnostic::new(
        &RULE,
        span,
        format!("{what} `{name}` is not a valid name: {problem}"),
    )
    .with_label("invalid name")
    .with_note(
        "names are lowercase letters, digits and `-`, start with a letter, at most 63 characters",
    );
    if let Some(fixed) = sanitized(name).filter(|f| f != name) {
        d = d.with_help(format!("try `{fixed}`"));
    }
    out.push(d);
}

fn secret_span(secret: &Spanned<SecretRef>) -> Span {
    match &secret.value {
        SecretRef::Name(_) => secret.span,
        SecretRef::Detailed(d) => d.secret.span,
    }
}

/// What is wrong with a phase id, which becomes a compose profile name and
/// a label value.
fn phase_id_problem(id: &str) -> Option<String> {
    if id.is_empty() || id.len() > 63 {
        return Some("it must be 1 to 63 characters long".into());
    }
    if let Some(c) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-_.".contains(*c)))
    {
        return Some(format!("it contains `{c}`"));
    }
    if !id.starts_with(|c: char| c.is_ascii_alphanumeric())
        || !id.ends_with(|c: char| c.is_ascii_alphanumeric())
    {
        return Some("it must start and end with a letter or digit".into());
    }
    None
}

fn secret_name(out: &mut Vec<Diagnostic>, name: &str, span: Span) {
    if let Some(problem) = subdomain_problem(name) {
        out.push(
            Diagnostic::new(
                &RULE,
                span,
                format!("secret name `{name}` is not a valid name: {problem}"),
            )
            .with_label("invalid secret name")
            .with_note("secret names are lowercase letters, digits, `-` and `.`"),
        );
    }
}

/// Receiver and consumer names, and the secrets they read.
fn settings(cx: &Context, out: &mut Vec<Diagnostic>) {
    if let Some(a) = &cx.spec.alerting {
        for (name, r) in &a.value.receivers {
            if let Some(problem) = label_problem(name) {
                report(out, "receiver name", name, name.span, &problem);
            }
            let r = &r.value;
            let secrets = [
                r.email.as_ref().and_then(|e| e.value.password.as_ref()),
                r.slack.as_ref().map(|s| &s.value.webhook_url),
                r.pagerduty.as_ref().map(|p| &p.value.routing_key),
                r.webhook
                    .as_ref()
                    .and_then(|w| w.value.bearer_token.as_ref()),
            ];
            for secret in secrets.into_iter().flatten() {
                secret_name(out, secret, secret.span);
            }
        }
    }
    if let Some(g) = &cx.spec.gateway {
        for (name, c) in &g.value.consumers {
            if let Some(problem) = label_problem(name) {
                report(out, "consumer name", name, name.span, &problem);
            }
            let c = &c.value;
            let secrets = [
                c.jwt.as_ref().map(|j| &j.value.public_key),
                c.key_auth.as_ref().map(|k| &k.value.key),
                c.basic_auth.as_ref().map(|b| &b.value.password),
                c.hmac_auth.as_ref().map(|h| &h.value.secret),
            ];
            for secret in secrets.into_iter().flatten() {
                secret_name(out, secret, secret.span);
            }
        }
    }
}

pub fn check(cx: &Selection, out: &mut Vec<Diagnostic>) {
    settings(cx, out);
    for phase in &cx.spec.phases {
        let id = &phase.value.id;
        if let Some(problem) = phase_id_problem(&id.value.0) {
            out.push(
                Diagnostic::new(
                    &RULE,
                    id.span,
                    format!("phase id `{}` is not a valid name: {problem}", id.value.0),
                )
                .with_label("invalid phase id")
                .with_note(
                    "phase ids name compose profiles and Kubernetes labels: letters, digits, `-`, `_` and `.`",
                ),
            );
        }
    }
    let name = &cx.spec.name;
    if let Some(problem) = label_problem(name) {
        report(out, "the platform name", name, name.span, &problem);
    }
    if let Some(domain) = &cx.spec.domain
        && let Some(problem) = subdomain_problem(domain)
    {
        out.push(
                Diagnostic::new(&RULE, domain.span, format!("the domain `{}` is not a host name: {problem}", domain.value))
                    .with_label("invalid host name")
                    .with_note("the domain becomes the proxy's server_name: lowercase letters, digits, `-` and `.`"),
            );
    }
    for s in cx.checked() {
        if let Some(problem) = label_problem(s.name) {
            report(out, "service name", s.name, s.name.span, &problem);
        }
        for volume in s.service().volumes.keys() {
            if let Some(problem) = label_problem(volume) {
                report(out, "volume name", volume, volume.span, &problem);
            }
        }
        for secret in s.service().secrets.values() {
            secret_name(out, secret.value.secret(), secret_span(secret));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(label_problem("nags-api"), None);
        assert!(label_problem("Nags").unwrap().contains("uppercase"));
        assert!(
            label_problem("2fa")
                .unwrap()
                .contains("start with a letter")
        );
        assert!(label_problem("a-").unwrap().contains("ends with"));
        assert!(label_problem(&"a".repeat(64)).unwrap().contains("63"));
        assert_eq!(label_problem(&"a".repeat(63)), None);
        assert_eq!(sanitized("Nags_API").as_deref(), Some("nags-api"));
        assert_eq!(sanitized("2fa"), None);
    }

    #[test]
    fn subdomains() {
        assert_eq!(subdomain_problem("db.password"), None);
        assert!(subdomain_problem("db..password").is_some());
        assert!(subdomain_problem("DB").is_some());
    }
}

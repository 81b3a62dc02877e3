//! `gateway.auth` names a Kong authentication plugin platgen can configure:
//! `jwt`, `key-auth`, `basic-auth` or `hmac-auth`.
//!
//! Why: Kong refuses to load a declarative config that names a plugin it
//! does not have (`jwt-auth`, `apikey`), so the gateway would not start.
//! Kong's other authentication plugins (`oauth2`, `ldap-auth`,
//! `openid-connect`) need settings (grant flows, an LDAP host, an issuer)
//! that the spec does not carry.
//!
//! Example:
//!
//! ```yaml
//! gateway: {auth: jwt-auth}   # error: did you mean `jwt`?
//! ```

use super::Selection;
use crate::diag::{Diagnostic, Rule, Severity};
use crate::suggest;

pub const RULE: Rule = Rule {
    code: "PG408",
    name: "unknown-auth",
    severity: Severity::Error,
    source: include_str!("unknown_auth.rs"),
};

/// The authentication plugins platgen configures.
pub const SUPPORTED: &[&str] = &["jwt", "key-auth", "basic-auth", "hmac-auth"];

/// Kong plugins that authenticate but need settings the spec lacks.
const NEEDS_SETTINGS: &[&str] = &[
    "oauth2",
    "ldap-auth",
    "ldap-auth-advanced",
    "openid-connect",
    "mtls-auth",
    "session",
];

pub fn check(cx: &Selection, out: &mut Vec<Diagnostic>) {
    for s in cx.checked() {
        let Some(gateway) = &s.service().gateway else {
            continue;
        };
        let Some(auth) = &gateway.value.auth else {
            continue;
        };
        if SUPPORTED.contains(&auth.value.as_str()) {
            continue;
        }
        let supported = SUPPORTED
            .iter()
            .map(|a| format!("`{a}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut d = if NEEDS_SETTINGS.contains(&auth.value.as_str()) {
            Diagnostic::new(
                &RULE,
                auth.span,
                format!(
                    "Kong's `{}` plugin needs settings the spec cannot carry",
                    auth.value
                ),
            )
            .with_label("not configurable from the spec")
        } else {
            Diagnostic::new(
                &RULE,
                auth.span,
                format!("Kong has no authentication plugin `{}`", auth.value),
            )
            .with_label("unknown plugin")
        };
        d = match suggest::did_you_mean(&auth.value, SUPPORTED.iter().copied()) {
            Some(help) => d.with_help(help),
            None => d.with_help(format!("use one of {supported}")),
        };
        out.push(d);
    }
}

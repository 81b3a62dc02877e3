//! A setting that platgen writes from a platform-level key is not also
//! written by hand: Prometheus's `--storage.tsdb.retention.*` flags in the
//! monitoring role's `command` next to `monitoring.retention`, or
//! `KONG_TRUSTED_IPS`, `KONG_REAL_IP_HEADER` and `KONG_ADMIN_LISTEN` in the
//! gateway role's `env` next to `gateway.trusted_ips` and `gateway.admin`.
//!
//! Why: two values for one setting leave the reader guessing which one wins
//! (for Prometheus the last flag, for Kong the environment), and a later
//! change to one of them silently does nothing.
//!
//! Example:
//!
//! ```yaml
//! monitoring:
//!   retention: {time: 30d}
//! services:
//!   prometheus:
//!     command: [--storage.tsdb.retention.time=15d]   # error: set twice
//! ```

use super::Context;
use crate::diag::{Diagnostic, Rule, Severity};
use crate::source::Span;

pub const RULE: Rule = Rule {
    code: "PG416",
    name: "duplicate-setting",
    severity: Severity::Error,
    source: include_str!("duplicate_setting.rs"),
};

fn report(out: &mut Vec<Diagnostic>, span: Span, what: &str, key_span: Span, key: &str) {
    out.push(
        Diagnostic::new(&RULE, span, format!("{what} is set here and by `{key}`"))
            .with_label("set by hand")
            .with_secondary(key_span, format!("`{key}` sets it too"))
            .with_help(format!("keep `{key}` and remove this")),
    );
}

fn role<'c>(
    cx: &'c Context,
    name: Option<&crate::spec::Spanned<String>>,
) -> Option<&'c super::context::ServiceFacts<'c>> {
    cx.service(name?)
}

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    let roles = cx.spec.roles.as_ref();
    if let Some(m) = &cx.spec.monitoring
        && let Some(retention) = &m.value.retention
        && let Some(s) = role(cx, roles.and_then(|r| r.monitoring.as_ref()))
        && let Some(command) = &s.service().command
        && command
            .value
            .iter()
            .any(|a| a.starts_with("--storage.tsdb.retention"))
    {
        report(
            out,
            command.span,
            "Prometheus's retention",
            retention.span,
            "monitoring.retention",
        );
    }
    let Some(g) = &cx.spec.gateway else { return };
    let Some(s) = role(cx, roles.and_then(|r| r.gateway.as_ref())) else {
        return;
    };
    for key in s.service().env.keys() {
        let owner = match key.value.as_str() {
            "KONG_TRUSTED_IPS" | "KONG_REAL_IP_HEADER" => g
                .value
                .trusted_ips
                .as_ref()
                .map(|t| (t.span, "gateway.trusted_ips")),
            "KONG_ADMIN_LISTEN" => g.value.admin.as_ref().map(|a| (a.span, "gateway.admin")),
            _ => None,
        };
        if let Some((span, name)) = owner {
            report(out, key.span, &format!("`{}`", key.value), span, name);
        }
    }
}

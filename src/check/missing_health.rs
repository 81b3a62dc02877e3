//! A warning for a service without a `health` check.
//!
//! Why: the platform's own success criterion is that every service has a
//! health check. Without one, dependants start as soon as the container
//! exists (not when it is ready), Kubernetes cannot restart it when it
//! hangs, and nothing tells a broken service from a working one. Use
//! `--deny-warnings` to make this an error.
//!
//! Example:
//!
//! ```yaml
//! kibana:
//!   image: docker.elastic.co/kibana/kibana:8.15.3   # warning: no health check
//! ```

use super::Context;
use crate::diag::{Diagnostic, Rule, Severity};

pub const RULE: Rule = Rule {
    code: "PG403",
    name: "missing-health",
    severity: Severity::Warning,
    source: include_str!("missing_health.rs"),
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for s in &cx.services {
        if s.service().health.is_none() {
            out.push(
                Diagnostic::new(
                    &RULE,
                    s.name.span,
                    format!("service `{}` has no health check", s.name.value),
                )
                .with_label("no `health`")
                .with_help(
                    "add `health:` with `http: {port, path}`, `tcp: {port}` or `command: [...]`",
                ),
            );
        }
    }
}

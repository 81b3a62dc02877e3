//! A warning for a service without a `health` check.
//!
//! Why: the platform's own success criterion is that every service has a
//! health check. (A `job` or `cronjob` is not warned about: it exits when
//! its work is done, and dependants wait for it to exit 0.) Without one, dependants start as soon as the container
//! exists (not when it is ready), Kubernetes cannot restart it when it
//! hangs, and nothing tells a broken service from a working one. Use
//! `--deny-warnings` to make this an error. The proxy role's service is
//! warned about too: the generated nginx.conf answers `/healthz`, and the
//! help says how to check it. A check with `probe: none` (an image
//! without any probe tool) is warned about too: docker-compose gets no
//! health check for it, so its dependants wait only for its start.
//!
//! Example:
//!
//! ```yaml
//! kibana:
//!   image: docker.elastic.co/kibana/kibana:8.15.3   # warning: no health check
//! ```

use super::Selection;
use super::context::ServiceFacts;
use crate::diag::{Diagnostic, Rule, Severity};
use crate::spec::{Probe, Protocol, WorkloadKind};

pub const RULE: Rule = Rule {
    code: "PG403",
    name: "missing-health",
    severity: Severity::Warning,
    source: include_str!("missing_health.rs"),
};

/// The check to add to the proxy role's service: the generated nginx.conf
/// answers `/healthz` on the proxy's first tcp port. platgen does not add it
/// itself, because the tool that runs it (`health.probe`) must exist in the
/// image, which only the spec's author knows.
fn proxy_help(s: &ServiceFacts) -> Option<String> {
    let port = s.ports.iter().find(|p| p.protocol == Protocol::Tcp)?;
    let reference = match (port.name(), port.container) {
        (Some(name), _) => name.to_owned(),
        (None, Some(c)) => c.low.to_string(),
        (None, None) => return None,
    };
    Some(format!(
        "the generated nginx.conf answers `/healthz` on port `{reference}`: add `health: {{http: {{port: {reference}, path: /healthz}}}}` (with `probe: curl` where the image has no wget)"
    ))
}

pub fn check(cx: &Selection, out: &mut Vec<Diagnostic>) {
    let proxy = cx
        .spec
        .roles
        .as_ref()
        .and_then(|r| r.proxy.as_ref())
        .map(|p| p.value.as_str());
    for s in cx.checked() {
        if let Some(probe) = s
            .service()
            .health
            .as_ref()
            .and_then(|h| h.value.probe.as_ref())
            .filter(|p| {
                p.value == Probe::None
                    && s.service()
                        .health
                        .as_ref()
                        .is_some_and(|h| h.value.command.is_none())
            })
        {
            out.push(
                Diagnostic::new(
                    &RULE,
                    probe.span,
                    format!(
                        "service `{}` has no health check under docker-compose",
                        s.name.value
                    ),
                )
                .with_label("the image has no probe tool")
                .with_note("Kubernetes still probes it; under docker-compose its dependants wait only until it has started")
                .with_help("give the image `wget`, `curl` or `busybox` and name it in `probe`, or check with a `command` the image has"),
            );
        }
        // A job or cronjob exits when done: nothing to check while it runs.
        if s.service().health.is_none()
            && s.service()
                .kind
                .as_ref()
                .is_none_or(|k| k.value == WorkloadKind::Service)
        {
            let help = Some(s.name.value.as_str())
                .filter(|name| Some(*name) == proxy)
                .and_then(|_| proxy_help(s))
                .unwrap_or_else(|| {
                    "add `health:` with `http: {port, path}`, `tcp: {port}` or `command: [...]`"
                        .to_owned()
                });
            out.push(
                Diagnostic::new(
                    &RULE,
                    s.name.span,
                    format!("service `{}` has no health check", s.name.value),
                )
                .with_label("no `health`")
                .with_help(help),
            );
        }
    }
}

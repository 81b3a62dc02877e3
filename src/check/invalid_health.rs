//! A health check is exactly one of `http`, `tcp`, `grpc` or `command`;
//! `probe` fits the check; durations are written like `10s` or `1m30s`.
//!
//! Why: a check with two kinds is ambiguous, and one with none checks
//! nothing. Under docker-compose an `http`, `tcp` or `grpc` check runs a
//! tool inside the image: `probe` says which (`wget`, `curl` or `busybox`
//! for http; `nc`, `bash` or `busybox` for tcp; `grpc_health_probe` for
//! grpc; `none` when the image has no tool) and means nothing for a
//! `command` check, which already names its tool. Kubernetes probes need no
//! tool.
//!
//! Example:
//!
//! ```yaml
//! health:
//!   http: {port: http, path: /health}
//!   tcp: {port: http}        # error: two kinds of check
//!   interval: 10             # error: no unit
//! ```

use super::Selection;
use crate::diag::{Diagnostic, Rule, Severity};
use crate::duration;
use crate::spec::{Health, Probe};

pub const RULE: Rule = Rule {
    code: "PG404",
    name: "invalid-health",
    severity: Severity::Error,
    source: include_str!("invalid_health.rs"),
};

/// Why `probe` cannot run the health check `h`, if it cannot.
fn probe_problem(h: &Health, probe: Probe) -> Option<&'static str> {
    if h.command.is_some() && h.http.is_none() && h.tcp.is_none() && h.grpc.is_none() {
        Some(
            "a `command` check runs its own command; `probe` applies to `http`, `tcp` and `grpc` checks",
        )
    } else if h.http.is_some() && matches!(probe, Probe::Nc | Probe::Bash | Probe::GrpcHealthProbe)
    {
        Some(if probe == Probe::GrpcHealthProbe {
            "`grpc_health_probe` speaks gRPC only; use `wget`, `curl` or `busybox` for `http`"
        } else {
            "`nc` and `bash` can only probe `tcp` checks; use `wget`, `curl` or `busybox` for `http`"
        })
    } else if h.tcp.is_some() && matches!(probe, Probe::Wget | Probe::Curl | Probe::GrpcHealthProbe)
    {
        Some("that tool speaks HTTP or gRPC; a `tcp` check needs `nc`, `bash` or `busybox`")
    } else if h.grpc.is_some() && !matches!(probe, Probe::GrpcHealthProbe | Probe::None) {
        Some("a `grpc` check needs `grpc_health_probe` in the image, or `none`")
    } else {
        None
    }
}

pub fn check(cx: &Selection, out: &mut Vec<Diagnostic>) {
    for s in cx.checked() {
        let Some(health) = &s.service().health else {
            continue;
        };
        let h = &health.value;
        let name = &s.name.value;
        let kinds: Vec<(&str, crate::source::Span)> = [
            h.http.as_ref().map(|x| ("http", x.span)),
            h.tcp.as_ref().map(|x| ("tcp", x.span)),
            h.grpc.as_ref().map(|x| ("grpc", x.span)),
            h.command.as_ref().map(|x| ("command", x.span)),
        ]
        .into_iter()
        .flatten()
        .collect();
        match kinds.as_slice() {
            [] => out.push(
                Diagnostic::new(
                    &RULE,
                    health.span,
                    format!("the health check of `{name}` checks nothing"),
                )
                .with_label("no `http`, `tcp`, `grpc` or `command`")
                .with_help(
                    "add one of `http: {port, path}`, `tcp: {port}`, `grpc: {port}` or `command: [...]`",
                ),
            ),
            [_] => {}
            [(first, first_span), rest @ ..] => {
                for (kind, span) in rest {
                    out.push(
                        Diagnostic::new(
                            &RULE,
                            *span,
                            format!("the health check of `{name}` has both `{first}` and `{kind}`"),
                        )
                        .with_label(format!("`{kind}` here"))
                        .with_secondary(*first_span, format!("`{first}` here"))
                        .with_help("keep one kind of check"),
                    );
                }
            }
        }
        if let Some(probe) = &h.probe {
            let problem = probe_problem(h, probe.value);
            if let Some(p) = problem {
                out.push(
                    Diagnostic::new(
                        &RULE,
                        probe.span,
                        format!("`probe` does not fit the health check of `{name}`"),
                    )
                    .with_label("does not fit")
                    .with_help(p),
                );
            }
        }
        for (key, value) in [
            ("interval", &h.interval),
            ("timeout", &h.timeout),
            ("start_period", &h.start_period),
        ] {
            let Some(value) = value else { continue };
            match duration::parse_millis(value) {
                Ok(0) if key != "start_period" => out.push(
                    Diagnostic::new(
                        &RULE,
                        value.span,
                        format!("`{key}` of `{name}`'s health check is zero"),
                    )
                    .with_label("must be positive"),
                ),
                Ok(_) => {}
                Err(problem) => out.push(
                    Diagnostic::new(
                        &RULE,
                        value.span,
                        format!(
                            "`{key}: {}` of `{name}`'s health check is not a duration: {problem}",
                            value.value
                        ),
                    )
                    .with_label("not a duration"),
                ),
            }
        }
    }
}

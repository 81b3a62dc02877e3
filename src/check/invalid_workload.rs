//! A `job` or `cronjob` serves nothing and runs once at a time; a `cronjob`
//! has a `schedule` and only it has one; nothing waits for a cronjob; a
//! `strategy: recreate` service runs one pod.
//!
//! Why: a Job's pod exits when its work is done, so there is nothing for a
//! port, a route, a health check or a scrape target to reach (Prometheus
//! would report it down as soon as it finished), and nothing for an
//! autoscaler to scale; two pods of a migration at once are exactly what
//! `kind: job` is there to prevent. A role's service (the proxy, the
//! gateway, monitoring...) must run all the time. A cronjob starts at its
//! schedule, not with the platform, so a service cannot wait for it to
//! start or to finish. `recreate` stops the old pod before the new one
//! starts, which only means something for a single pod of a Deployment: a
//! service with volumes is a StatefulSet, which does that anyway.
//!
//! Example:
//!
//! ```yaml
//! migrate:
//!   kind: job
//!   route: {path: /migrate}     # error: a job serves nothing
//! backup:
//!   kind: cronjob               # error: no schedule
//! ```

use super::context::ServiceFacts;
use super::{Context, Selection};
use crate::diag::{Diagnostic, Rule, Severity};
use crate::source::Span;
use crate::spec::{Roles, Spanned, Strategy, WorkloadKind};

pub const RULE: Rule = Rule {
    code: "PG505",
    name: "invalid-workload",
    severity: Severity::Error,
    source: include_str!("invalid_workload.rs"),
};

fn kind(s: &ServiceFacts) -> (WorkloadKind, Option<Span>) {
    s.service()
        .kind
        .as_ref()
        .map_or((WorkloadKind::Service, None), |k| (k.value, Some(k.span)))
}

/// The role a service holds, if any.
fn role_of<'r>(
    roles: Option<&'r Roles>,
    name: &str,
) -> Option<(&'static str, &'r Spanned<String>)> {
    let r = roles?;
    [
        ("proxy", &r.proxy),
        ("gateway", &r.gateway),
        ("monitoring", &r.monitoring),
        ("alerting", &r.alerting),
        ("dashboards", &r.dashboards),
    ]
    .into_iter()
    .find_map(|(role, n)| n.as_ref().filter(|n| n.value == name).map(|n| (role, n)))
}

fn runs_to_completion(cx: &Context, s: &ServiceFacts, kind_span: Span, out: &mut Vec<Diagnostic>) {
    let svc = s.service();
    let name = &s.name.value;
    let k = kind(s).0.name();
    let mut serves = |span: Span, what: &str| {
        out.push(
            Diagnostic::new(&RULE, span, format!("`{name}` is a {k} but has {what}"))
                .with_label(format!("a {k} serves nothing"))
                .with_secondary(kind_span, format!("`kind: {k}` here"))
                .with_help(format!(
                    "remove it: a {k}'s pod exits when its work is done, so nothing can reach it"
                )),
        );
    };
    if let Some(p) = svc.ports.first() {
        serves(p.span, "ports");
    }
    if let Some(r) = &svc.route {
        serves(r.span, "a route");
    }
    if let Some(g) = &svc.gateway {
        serves(g.span, "a gateway section");
    }
    if let Some(m) = &svc.metrics {
        serves(m.span, "metrics");
    }
    if let Some(h) = &svc.health {
        serves(h.span, "a health check");
    }
    if let Some(a) = &svc.autoscale {
        serves(a.span, "autoscaling");
    }
    if let Some(r) = svc.replicas.as_ref().filter(|r| r.value > 1) {
        out.push(
            Diagnostic::new(
                &RULE,
                r.span,
                format!("`{name}` is a {k} with {} replicas", r.value),
            )
            .with_label("one pod at a time")
            .with_secondary(kind_span, format!("`kind: {k}` here"))
            .with_help("remove `replicas`: a job runs one pod, and retries it when it fails"),
        );
    }
    if let Some(st) = &svc.strategy {
        out.push(
            Diagnostic::new(
                &RULE,
                st.span,
                format!("`{name}` is a {k} with a `strategy`"),
            )
            .with_label("only for services that run all the time")
            .with_secondary(kind_span, format!("`kind: {k}` here"))
            .with_help("remove `strategy`: a job's pods are never replaced while they run"),
        );
    }
    if let Some((role, at)) = role_of(cx.spec.roles.as_ref(), name) {
        out.push(
            Diagnostic::new(
                &RULE,
                kind_span,
                format!("`{name}` holds the {role} role but is a {k}"),
            )
            .with_label("a role runs all the time")
            .with_secondary(at.span, "the role is given here")
            .with_help("remove `kind`, or give the role to another service"),
        );
    }
}

pub fn check(cx: &Selection, out: &mut Vec<Diagnostic>) {
    for s in cx.checked() {
        let svc = s.service();
        let name = &s.name.value;
        let (k, kind_span) = kind(s);
        match (k, &svc.schedule) {
            (WorkloadKind::Cronjob, None) => out.push(
                Diagnostic::new(
                    &RULE,
                    kind_span.unwrap_or(s.name.span),
                    format!("`{name}` is a cronjob without a `schedule`"),
                )
                .with_label("when does it run?")
                .with_help("add `schedule: \"0 3 * * *\"` (minute, hour, day of month, month, day of week)"),
            ),
            (WorkloadKind::Service | WorkloadKind::Job, Some(schedule)) => out.push(
                Diagnostic::new(
                    &RULE,
                    schedule.span,
                    format!("`{name}` has a `schedule` but is a {}", k.name()),
                )
                .with_label("only a cronjob runs on a schedule")
                .with_help("add `kind: cronjob`, or remove `schedule`"),
            ),
            _ => {}
        }
        if let Some(kind_span) = kind_span.filter(|_| k != WorkloadKind::Service) {
            runs_to_completion(cx, s, kind_span, out);
        }
        if let Some(st) = svc
            .strategy
            .as_ref()
            .filter(|st| st.value == Strategy::Recreate)
            && k == WorkloadKind::Service
        {
            if let Some(a) = &svc.autoscale {
                out.push(
                    Diagnostic::new(
                        &RULE,
                        st.span,
                        format!("`{name}` is recreated as a singleton but autoscales"),
                    )
                    .with_label("one pod")
                    .with_secondary(a.span, "several pods")
                    .with_help("remove `autoscale`, or `strategy: recreate`"),
                );
            }
            if let Some(r) = svc.replicas.as_ref().filter(|r| r.value > 1) {
                out.push(
                    Diagnostic::new(
                        &RULE,
                        st.span,
                        format!(
                            "`{name}` is recreated as a singleton but has {} replicas",
                            r.value
                        ),
                    )
                    .with_label("one pod")
                    .with_secondary(r.span, "several pods")
                    .with_help("set `replicas: 1`, or remove `strategy: recreate`"),
                );
            }
            if let Some((v, _)) = svc.volumes.first() {
                out.push(
                    Diagnostic::new(
                        &RULE,
                        st.span,
                        format!("`{name}` has volumes, so it already stops its pod before starting a new one"),
                    )
                    .with_label("no effect on a StatefulSet")
                    .with_secondary(v.span, "a volume makes it a StatefulSet")
                    .with_help("remove `strategy`"),
                );
            }
        }
        for d in &svc.depends_on {
            if cx
                .service(&d.value)
                .is_some_and(|t| kind(t).0 == WorkloadKind::Cronjob)
            {
                out.push(
                    Diagnostic::new(
                        &RULE,
                        d.span,
                        format!("`{name}` depends on the cronjob `{}`", d.value),
                    )
                    .with_label("a cronjob runs on its schedule, not before its dependants")
                    .with_help(
                        "remove the dependency, or make the dependency a `job` (run once at start)",
                    ),
                );
            }
        }
    }
}

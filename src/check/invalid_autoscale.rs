//! `autoscale` bounds make sense: `1 <= min <= max`, a CPU target between 1
//! and 100 percent, a CPU request for that percentage to be of, and no fixed
//! `replicas` that the autoscaler would override anyway.
//!
//! Why: the Kubernetes API rejects a HorizontalPodAutoscaler whose
//! `minReplicas` exceeds `maxReplicas`, and `min: 0` needs an alpha feature
//! gate. The CPU target is a percentage of the container's CPU request, so
//! without `resources.cpu` the autoscaler has nothing to measure against and
//! never scales. A fixed `replicas` next to `autoscale` is a contradiction:
//! the autoscaler owns the count.
//!
//! Example:
//!
//! ```yaml
//! autoscale: {min: 5, max: 2, cpu_percent: 70}   # error: min above max
//! ```

use super::Selection;
use crate::diag::{Diagnostic, Rule, Severity};

pub const RULE: Rule = Rule {
    code: "PG501",
    name: "invalid-autoscale",
    severity: Severity::Error,
    source: include_str!("invalid_autoscale.rs"),
};

pub fn check(cx: &Selection, out: &mut Vec<Diagnostic>) {
    for s in cx.checked() {
        let svc = s.service();
        let Some(a) = &svc.autoscale else { continue };
        let name = &s.name.value;
        let a_val = &a.value;
        if a_val.min.value == 0 {
            out.push(
                Diagnostic::new(
                    &RULE,
                    a_val.min.span,
                    format!("`autoscale.min` of `{name}` is 0"),
                )
                .with_label("must be at least 1"),
            );
        }
        if a_val.min.value > a_val.max.value {
            out.push(
                Diagnostic::new(
                    &RULE,
                    a_val.max.span,
                    format!(
                        "`autoscale.max` ({}) of `{name}` is below `autoscale.min` ({})",
                        a_val.max.value, a_val.min.value
                    ),
                )
                .with_label("below min")
                .with_secondary(a_val.min.span, "min is set here"),
            );
        }
        if !(1..=100).contains(&a_val.cpu_percent.value) {
            out.push(
                Diagnostic::new(
                    &RULE,
                    a_val.cpu_percent.span,
                    format!(
                        "`autoscale.cpu_percent` of `{name}` is {}",
                        a_val.cpu_percent.value
                    ),
                )
                .with_label("expected 1 to 100"),
            );
        }
        if svc
            .resources
            .as_ref()
            .and_then(|r| r.value.cpu.as_ref())
            .is_none()
        {
            out.push(
                Diagnostic::new(
                    &RULE,
                    a_val.cpu_percent.span,
                    format!("`{name}` autoscales on CPU but sets no `resources.cpu`"),
                )
                .with_label("a percentage of nothing")
                .with_help(
                    "set `resources: {cpu: ...}`: the target is a percentage of that request",
                ),
            );
        }
        if let Some(replicas) = &svc.replicas {
            out.push(
                Diagnostic::new(
                    &RULE,
                    replicas.span,
                    format!("`{name}` sets both `replicas` and `autoscale`"),
                )
                .with_label("fixed count here")
                .with_secondary(a.span, "the autoscaler owns the count")
                .with_help("remove `replicas`; `autoscale.min` is the starting count"),
            );
        }
    }
}

//! The metric and label names in `metrics` are valid Prometheus names:
//! letters, digits, `_` and `:` (labels without `:`), not starting with a
//! digit.
//!
//! Why: they are written into alerting rules; `promtool` and Prometheus
//! reject a rule file with an invalid name, and Prometheus then refuses to
//! start with its configuration.
//!
//! Example:
//!
//! ```yaml
//! metrics: {http_requests: http-requests-total}   # error: `-` is not allowed
//! ```

use super::Selection;
use crate::diag::{Diagnostic, Rule, Severity};

pub const RULE: Rule = Rule {
    code: "PG410",
    name: "invalid-metric-name",
    severity: Severity::Error,
    source: include_str!("invalid_metric_name.rs"),
};

fn valid(name: &str, colon: bool) -> bool {
    let ok = |c: char| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':');
    name.chars()
        .next()
        .is_some_and(|c| !c.is_ascii_digit() && ok(c))
        && name.chars().all(ok)
}

pub fn check(cx: &Selection, out: &mut Vec<Diagnostic>) {
    for s in cx.checked() {
        let Some(m) = &s.service().metrics else {
            continue;
        };
        let names = [
            (m.value.http_requests.as_ref(), "metric", true),
            (m.value.http_duration.as_ref(), "metric", true),
            (m.value.http_status_label.as_ref(), "label", false),
        ];
        for (name, what, colon) in names {
            let Some(name) = name else { continue };
            if !valid(name, colon) {
                out.push(
                    Diagnostic::new(
                        &RULE,
                        name.span,
                        format!("`{}` is not a valid Prometheus {what} name", name.value),
                    )
                    .with_label(format!("invalid {what} name"))
                    .with_help(format!(
                        "use letters, digits and `_`{}, not starting with a digit",
                        if colon { " (and `:`)" } else { "" }
                    )),
                );
            }
        }
    }
}

//! `alerting.routes`, `alerting.default` and `alerting.heartbeat` name
//! receivers that `alerting.receivers` defines.
//!
//! Why: Alertmanager refuses a config whose route names an undefined
//! receiver, so it would not start and no alert would reach anyone. A
//! misspelt receiver is the most likely way for that to happen.
//!
//! Example:
//!
//! ```yaml
//! alerting:
//!   receivers:
//!     oncall: {pagerduty: {routing_key: pagerduty-key}}
//!   routes: {critical: on-call}   # error: did you mean `oncall`?
//! ```

use super::Context;
use crate::diag::{Diagnostic, Rule, Severity};
use crate::spec::Spanned;
use crate::suggest;

pub const RULE: Rule = Rule {
    code: "PG412",
    name: "unknown-receiver",
    severity: Severity::Error,
    source: include_str!("unknown_receiver.rs"),
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(a) = &cx.spec.alerting else { return };
    let a = &a.value;
    let mut references: Vec<(&str, &Spanned<String>)> = Vec::new();
    if let Some(r) = &a.routes {
        for (what, name) in [
            ("the route of `critical` alerts", &r.value.critical),
            ("the route of `warning` alerts", &r.value.warning),
            ("the route of `info` alerts", &r.value.info),
        ] {
            if let Some(name) = name {
                references.push((what, name));
            }
        }
    }
    if let Some(d) = &a.default {
        references.push(("the default route", d));
    }
    if let Some(h) = &a.heartbeat {
        references.push(("the heartbeat", h));
    }
    let names = || a.receivers.keys().map(|k| k.value.as_str());
    for (what, name) in references {
        if names().any(|n| n == name.value) {
            continue;
        }
        let mut d = Diagnostic::new(
            &RULE,
            name.span,
            format!(
                "{what} names the receiver `{}`, which `alerting.receivers` does not define",
                name.value
            ),
        )
        .with_label("unknown receiver");
        d = match suggest::did_you_mean(&name.value, names()) {
            Some(help) => d.with_help(help),
            None => d.with_help(format!(
                "define it under `alerting.receivers`, or use one of: {}",
                names()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        };
        out.push(d);
    }
}

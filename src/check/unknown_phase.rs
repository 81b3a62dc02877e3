//! Every service names a phase the spec declares, and when the spec lists
//! phases, every service names one.
//!
//! Why: the phase decides the rollout order (compose profiles, `render
//! --phase`) and which dependencies are allowed. A service in a phase that
//! does not exist would silently drop out of every phased rollout.
//!
//! Example:
//!
//! ```yaml
//! phases: [{id: "1"}, {id: 2A}]
//! services:
//!   consul:
//!     phase: 2a          # error: unknown phase; did you mean `2A`?
//! ```

use super::Selection;
use crate::diag::{Diagnostic, Rule, Severity};
use crate::suggest;

pub const RULE: Rule = Rule {
    code: "PG110",
    name: "unknown-phase",
    severity: Severity::Error,
    source: include_str!("unknown_phase.rs"),
};

pub fn check(cx: &Selection, out: &mut Vec<Diagnostic>) {
    let ids: Vec<&str> = cx.phases.keys().copied().collect();
    let listed = ids
        .iter()
        .map(|id| format!("`{id}`"))
        .collect::<Vec<_>>()
        .join(", ");
    for s in cx.checked() {
        match &s.service().phase {
            Some(phase) if s.phase.is_none() => {
                let mut d = Diagnostic::new(
                    &RULE,
                    phase.span,
                    format!(
                        "service `{}` is in phase `{}`, which the spec does not declare",
                        s.name.value, phase.value.0
                    ),
                )
                .with_label("unknown phase");
                d = if ids.is_empty() {
                    d.with_help(
                        "declare the phases in a top-level `phases:` list, or remove `phase`",
                    )
                } else if let Some(help) =
                    suggest::did_you_mean(&phase.value.0, ids.iter().copied())
                {
                    d.with_help(help)
                } else {
                    d.with_help(format!("the declared phases are {listed}"))
                };
                out.push(d);
            }
            None if !ids.is_empty() => {
                out.push(
                    Diagnostic::new(
                        &RULE,
                        s.name.span,
                        format!(
                            "service `{}` has no `phase`, but the spec declares phases",
                            s.name.value
                        ),
                    )
                    .with_label("no phase")
                    .with_help(format!("add `phase:` with one of {listed}")),
                );
            }
            _ => {}
        }
    }
}

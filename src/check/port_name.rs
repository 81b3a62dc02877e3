//! Port names must be valid Kubernetes port names and unique within their
//! service.
//!
//! Why: `health`, `metrics` and `route` refer to ports by name, so two ports
//! of one name would make the reference ambiguous. Kubernetes requires port
//! names of at most 15 characters: lowercase letters, digits and `-`, with at
//! least one letter, not starting or ending with `-` and without `--`.
//!
//! Example:
//!
//! ```yaml
//! ports:
//!   - {name: http, container: 8080}
//!   - {name: http, container: 8081}   # error: the name `http` is taken
//! ```

use super::Selection;
use crate::diag::{Diagnostic, Rule, Severity};

pub const RULE: Rule = Rule {
    code: "PG102",
    name: "port-name",
    severity: Severity::Error,
    source: include_str!("port_name.rs"),
};

/// What is wrong with `name` as a Kubernetes port name (`IANA_SVC_NAME`).
pub fn problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("it is empty".into());
    }
    if name.len() > 15 {
        return Some(format!(
            "it is {} characters long; the limit is 15",
            name.len()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Some(format!("it contains `{c}`"));
    }
    if !name.chars().any(|c| c.is_ascii_lowercase()) {
        return Some("it has no letter".into());
    }
    if name.starts_with('-') || name.ends_with('-') || name.contains("--") {
        return Some("it starts or ends with `-`, or contains `--`".into());
    }
    None
}

pub fn check(cx: &Selection, out: &mut Vec<Diagnostic>) {
    for s in cx.checked() {
        for (i, port) in s.ports.iter().enumerate() {
            let Some(name) = &port.spec.name else {
                continue;
            };
            if let Some(problem) = problem(name) {
                out.push(
                    Diagnostic::new(
                        &RULE,
                        name.span,
                        format!(
                            "port name `{}` of `{}` is not valid: {problem}",
                            name.value, s.name.value
                        ),
                    )
                    .with_label("invalid port name")
                    .with_note("port names are at most 15 lowercase letters, digits and `-`"),
                );
            }
            let earlier = s.ports[..i]
                .iter()
                .filter_map(|p| p.spec.name.as_ref())
                .find(|n| n.value == name.value);
            if let Some(first) = earlier {
                out.push(
                    Diagnostic::new(
                        &RULE,
                        name.span,
                        format!(
                            "service `{}` has two ports named `{}`",
                            s.name.value, name.value
                        ),
                    )
                    .with_label("second port of this name")
                    .with_secondary(first.span, "first port of this name")
                    .with_help("give each port its own name"),
                );
            }
        }
    }
}

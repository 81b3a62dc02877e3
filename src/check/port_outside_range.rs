//! Every published host port lies inside `ports.range`, when the spec sets
//! one, and the range itself is a valid `[low, high]` of ports.
//!
//! Why: teams reserve a block of host ports for a platform (the reference
//! platform uses 1000-4999) so that it does not collide with anything else on
//! the machine. A port outside the block is a port nobody reserved.
//!
//! Example:
//!
//! ```yaml
//! ports: {range: [1000, 4999]}
//! services:
//!   web:
//!     ports: [{host: 8080, container: 80}]   # error: outside 1000-4999
//! ```

use super::Selection;
use super::context::PortRange;
use crate::diag::{Diagnostic, Rule, Severity};

pub const RULE: Rule = Rule {
    code: "PG203",
    name: "port-outside-range",
    severity: Severity::Error,
    source: include_str!("port_outside_range.rs"),
};

pub fn check(cx: &Selection, out: &mut Vec<Diagnostic>) {
    let Some(policy) = &cx.spec.ports else { return };
    let (low, high) = policy.range.value;
    let range = match (u16::try_from(low), u16::try_from(high)) {
        (Ok(l), Ok(h)) if l >= 1 && l <= h => PortRange { low: l, high: h },
        _ => {
            out.push(
                Diagnostic::new(
                    &RULE,
                    policy.range.span,
                    format!("`ports.range: [{low}, {high}]` is not a range of ports"),
                )
                .with_label("invalid range")
                .with_help("write `[low, high]` with 1 <= low <= high <= 65535"),
            );
            return;
        }
    };
    for s in cx.checked() {
        for port in &s.ports {
            let (Some(host), Some(spec)) = (port.host, &port.spec.host) else {
                continue;
            };
            if host.low < range.low || host.high > range.high {
                out.push(
                    Diagnostic::new(
                        &RULE,
                        spec.span,
                        format!(
                            "host port{} {host} of `{}` {} outside the platform's port range {range}",
                            if host.is_single() { "" } else { "s" },
                            s.name.value,
                            if host.is_single() { "is" } else { "are" }
                        ),
                    )
                    .with_label("outside the range")
                    .with_secondary(policy.range.span, "the range is set here"),
                );
            }
        }
    }
}

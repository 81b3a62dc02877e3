//! A warning for host ports below 1024.
//!
//! Why: binding them needs root or `CAP_NET_BIND_SERVICE`, so rootless
//! Docker and Podman refuse them, and on a shared machine they are usually
//! taken by the system's own services. Publish a high port and let the
//! proxy in front map 80 and 443, or keep the warning when the platform
//! really owns the machine.
//!
//! Example:
//!
//! ```yaml
//! ports:
//!   - {host: 80, container: 80}   # warning: privileged port
//! ```

use super::Selection;
use crate::diag::{Diagnostic, Rule, Severity};

pub const RULE: Rule = Rule {
    code: "PG204",
    name: "privileged-port",
    severity: Severity::Warning,
    source: include_str!("privileged_port.rs"),
};

pub fn check(cx: &Selection, out: &mut Vec<Diagnostic>) {
    for s in cx.checked() {
        for port in &s.ports {
            let (Some(host), Some(spec)) = (port.host, &port.spec.host) else {
                continue;
            };
            if host.low < 1024 {
                out.push(
                    Diagnostic::new(
                        &RULE,
                        spec.span,
                        format!(
                            "host port {host} of `{}` is privileged (below 1024)",
                            s.name.value
                        ),
                    )
                    .with_label("needs root or CAP_NET_BIND_SERVICE")
                    .with_help("publish a port of 1024 or above"),
                );
            }
        }
    }
}

//! Port numbers are 1 to 65535; a range is written `"low-high"` with low <=
//! high; a published range has as many ports on the host as in the
//! container; `bind` is an IP address.
//!
//! Why: Docker and Kubernetes reject these at deploy time, or worse, Docker
//! maps a host range onto one container port and picks one at random. Here
//! the mistake is shown where it was made.
//!
//! Example:
//!
//! ```yaml
//! ports:
//!   - {host: "1200-1205", container: "7000-7004"}   # error: 6 host ports, 5 container ports
//!   - {host: 70000, container: 80}                  # error: out of range
//! ```

use super::Selection;
use super::context::parse_port_number;
use crate::diag::{Diagnostic, Rule, Severity};

pub const RULE: Rule = Rule {
    code: "PG202",
    name: "invalid-port",
    severity: Severity::Error,
    source: include_str!("invalid_port.rs"),
};

pub fn check(cx: &Selection, out: &mut Vec<Diagnostic>) {
    for s in cx.checked() {
        for port in &s.ports {
            let spec = &port.spec.value;
            let numbers = spec.host.iter().chain(std::iter::once(&spec.container));
            for value in numbers {
                if let Err(problem) = parse_port_number(&value.value) {
                    out.push(
                        Diagnostic::new(&RULE, value.span, problem).with_label("invalid port"),
                    );
                }
            }
            if let (Some(host), Some(container), Some(host_spec)) =
                (port.host, port.container, &spec.host)
                && host.count() != container.count()
                && !(host.is_single() && container.is_single())
            {
                out.push(
                        Diagnostic::new(
                            &RULE,
                            host_spec.span,
                            format!(
                                "host ports {host} ({}) and container ports {container} ({}) differ in length",
                                host.count(),
                                container.count()
                            ),
                        )
                        .with_label(format!("{} host port{}", host.count(), if host.count() == 1 { "" } else { "s" }))
                        .with_secondary(
                            spec.container.span,
                            format!("{} container port{}", container.count(), if container.count() == 1 { "" } else { "s" }),
                        )
                        .with_help("map a range onto a range of the same length, port by port"),
                    );
            }
            if let Some(bind) = &spec.bind {
                let address = bind.value.trim_start_matches('[').trim_end_matches(']');
                if address.parse::<std::net::IpAddr>().is_err() {
                    out.push(
                        Diagnostic::new(&RULE, bind.span, format!("`bind: {}` is not an IP address", bind.value))
                            .with_label("not an IP address")
                            .with_help("use an address such as 127.0.0.1, or remove `bind` to publish on all addresses"),
                    );
                }
            }
        }
    }
}

//! No host port may be published twice for the same protocol, within one
//! service or across services; and no service lists the same container port
//! twice.
//!
//! Why: the second container would fail at `docker compose up` with "port is
//! already allocated", long after the spec was merged. Ranges count port by
//! port (`"1200-1205"` takes 1200 to 1205), conflicts are per protocol (tcp
//! 1053 and udp 1053 can both be published) and per address (ports bound to
//! two different specific addresses do not clash; an unbound port clashes
//! with every address). The message shows both places.
//!
//! Example:
//!
//! ```yaml
//! services:
//!   redis:
//!     ports: [{host: 1200, container: 6379}]
//!   redis-cluster:
//!     ports: [{host: "1200-1205", container: "7000-7005"}]   # error: 1200 is taken
//! ```

use std::collections::BTreeMap;

use super::Context;
use super::context::PortRange;
use crate::diag::{Diagnostic, Rule, Severity};
use crate::source::Span;
use crate::spec::Protocol;

pub const RULE: Rule = Rule {
    code: "PG201",
    name: "port-conflict",
    severity: Severity::Error,
    source: include_str!("port_conflict.rs"),
};

#[derive(Clone, Copy)]
struct Published<'s> {
    protocol: Protocol,
    range: PortRange,
    /// `None` for all addresses.
    bind: Option<&'s str>,
    service: &'s str,
    span: Span,
}

fn ports_word(r: PortRange) -> &'static str {
    if r.is_single() {
        "host port"
    } else {
        "host ports"
    }
}

fn wildcard(bind: Option<&str>) -> Option<&str> {
    bind.filter(|b| !matches!(*b, "0.0.0.0" | "::" | "[::]" | ""))
}

/// The lowest free run of `len` ports at or after `from`, inside `policy`.
fn free_run(used: &[PortRange], from: u16, len: u32, policy: PortRange) -> Option<PortRange> {
    let mut low = u32::from(from.max(policy.low));
    loop {
        let high = low + len - 1;
        if high > u32::from(policy.high) {
            return None;
        }
        let candidate = PortRange {
            low: u16::try_from(low).ok()?,
            high: u16::try_from(high).ok()?,
        };
        match used
            .iter()
            .filter(|u| u.overlaps(candidate))
            .map(|u| u.high)
            .max()
        {
            None => return Some(candidate),
            Some(h) => low = u32::from(h) + 1,
        }
    }
}

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    host_conflicts(cx, out);
    container_duplicates(cx, out);
}

fn policy_range(cx: &Context) -> PortRange {
    cx.spec
        .ports
        .as_ref()
        .and_then(|p| {
            let (low, high) = p.range.value;
            Some(PortRange {
                low: u16::try_from(low).ok()?,
                high: u16::try_from(high).ok()?,
            })
        })
        .unwrap_or(PortRange {
            low: 1024,
            high: 65535,
        })
}

fn message(first: &Published, second: &Published) -> String {
    let protocol = second.protocol.name();
    if first.service == second.service {
        format!(
            "{} {}/{protocol} of `{}` is published twice",
            ports_word(second.range),
            second.range,
            second.service
        )
    } else if first.range == second.range {
        format!(
            "{} {}/{protocol} of `{}` is already published by `{}`",
            ports_word(second.range),
            second.range,
            second.service,
            first.service
        )
    } else {
        format!(
            "{} {}/{protocol} of `{}` overlap{} {} {}/{protocol} of `{}`",
            ports_word(second.range),
            second.range,
            second.service,
            if second.range.is_single() { "s" } else { "" },
            ports_word(first.range),
            first.range,
            first.service
        )
    }
}

fn host_conflicts(cx: &Context, out: &mut Vec<Diagnostic>) {
    let mut published = Vec::new();
    for s in &cx.services {
        for port in &s.ports {
            if let (Some(range), Some(host)) = (port.host, &port.spec.host) {
                published.push(Published {
                    protocol: port.protocol,
                    range,
                    bind: wildcard(port.spec.bind.as_ref().map(|b| b.value.as_str())),
                    service: &s.name.value,
                    span: host.span,
                });
            }
        }
    }
    let policy = policy_range(cx);
    let mut used: BTreeMap<Protocol, Vec<PortRange>> = BTreeMap::new();
    for p in &published {
        used.entry(p.protocol).or_default().push(p.range);
    }

    // Sweep in port order so that large specs stay fast; report each
    // clashing pair once, at the one that comes later in the file.
    let mut order: Vec<&Published> = published.iter().collect();
    order.sort_by_key(|p| (p.protocol, p.range.low, p.span.start));
    let mut active: Vec<&Published> = Vec::new();
    let mut clashes = Vec::new();
    for p in order {
        active.retain(|a| a.protocol == p.protocol && a.range.high >= p.range.low);
        for a in &active {
            let same_address = match (a.bind, p.bind) {
                (Some(x), Some(y)) => x == y,
                _ => true,
            };
            if same_address && a.range.overlaps(p.range) {
                let (first, second) = if a.span.start <= p.span.start {
                    (*a, p)
                } else {
                    (p, *a)
                };
                clashes.push((first, second));
            }
        }
        active.push(p);
    }
    for (first, second) in clashes {
        let protocol = second.protocol.name();
        let mut d = Diagnostic::new(&RULE, second.span, message(first, second))
            .with_label(format!(
                "`{}` publishes {} here",
                second.service, second.range
            ))
            .with_secondary(
                first.span,
                format!("`{}` publishes {} here", first.service, first.range),
            );
        let taken = used.get(&second.protocol).map_or(&[][..], Vec::as_slice);
        if let Some(free) = free_run(taken, second.range.low, second.range.count(), policy) {
            d = d.with_help(format!(
                "the nearest free {protocol} {} from {} is {free}",
                if second.range.is_single() {
                    "port"
                } else {
                    "range"
                },
                second.range.low
            ));
        }
        out.push(d);
    }
}

/// The same container port listed twice in one service.
fn container_duplicates(cx: &Context, out: &mut Vec<Diagnostic>) {
    for s in &cx.services {
        for (i, port) in s.ports.iter().enumerate() {
            let Some(range) = port.container else {
                continue;
            };
            let earlier = s.ports[..i].iter().find(|e| {
                e.protocol == port.protocol && e.container.is_some_and(|c| c.overlaps(range))
            });
            if let Some(first) = earlier {
                out.push(
                    Diagnostic::new(
                        &RULE,
                        port.spec.container.span,
                        if range == first.container.unwrap_or(range) {
                            format!(
                                "container port {range}/{} is listed twice in `{}`",
                                port.protocol.name(),
                                s.name.value
                            )
                        } else {
                            format!(
                                "container ports {range}/{} of `{}` overlap ports listed before",
                                port.protocol.name(),
                                s.name.value
                            )
                        },
                    )
                    .with_label("listed again here")
                    .with_secondary(first.spec.container.span, "first listed here")
                    .with_help("list each container port once"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_run_skips_used_ranges() {
        let used = [
            PortRange {
                low: 1200,
                high: 1205,
            },
            PortRange::single(1206),
        ];
        let policy = PortRange {
            low: 1000,
            high: 4999,
        };
        assert_eq!(
            free_run(&used, 1200, 1, policy),
            Some(PortRange::single(1207))
        );
        assert_eq!(
            free_run(&used, 1200, 6, policy),
            Some(PortRange {
                low: 1207,
                high: 1212
            })
        );
        assert_eq!(free_run(&used, 4999, 2, policy), None);
    }
}

//! The port map: every port of the platform in one table, the free host
//! ports of the platform's range, and the lowest free port or block for a
//! new service (`platgen ports`, `platgen ports --next`).
//!
//! Host ports are what teams fight over, so the map is sorted by host port;
//! internal ports (no host) follow, in spec order. A port bound to one
//! address counts as taken on every address here: a new service should get a
//! port that is free everywhere, not one that only works while the other
//! binding stays as it is.

use std::fmt::Write as _;

use serde::Serialize;

use crate::check::context::PortRange;
use crate::model::Platform;
use crate::spec::Protocol;

/// The host ports considered when the spec sets no `ports.range`: the
/// unprivileged ones, as `port-conflict`'s suggestions do.
pub const DEFAULT_RANGE: PortRange = PortRange {
    low: 1024,
    high: 65535,
};

/// The first port a process may bind without root.
const PRIVILEGED_BELOW: u16 = 1024;

/// One port of one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub service: String,
    /// The port's name (generated, like `tcp-8080`, when the spec has none).
    pub port: String,
    pub host: Option<PortRange>,
    pub container: PortRange,
    pub protocol: Protocol,
    pub bind: Option<String>,
    /// The phase's id, or `None` when the spec declares no phases.
    pub phase: Option<String>,
}

/// A run of free host ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    pub protocol: Protocol,
    pub range: PortRange,
}

/// The whole map.
#[derive(Debug, Clone)]
pub struct PortMap {
    /// The range the free ports are counted in.
    pub range: PortRange,
    /// Whether `range` is the spec's own `ports.range`.
    pub range_declared: bool,
    /// Published ports by host port, then internal ones in spec order.
    pub rows: Vec<Row>,
    /// Free runs inside `range`, per protocol (tcp first), by port.
    pub free: Vec<Gap>,
}

impl PortMap {
    pub fn of(platform: &Platform) -> Self {
        let range = platform.port_range.unwrap_or(DEFAULT_RANGE);
        let mut rows = Vec::new();
        for s in &platform.services {
            for p in &s.ports {
                rows.push(Row {
                    service: s.name.clone(),
                    port: p.name.clone(),
                    host: p.host,
                    container: p.container,
                    protocol: p.protocol,
                    // Where compose really publishes it: an internal port on
                    // loopback.
                    bind: p.bind.clone().or_else(|| {
                        (!p.public).then(|| crate::render::compose::INTERNAL_ADDRESS.to_owned())
                    }),
                    phase: platform.phased.then(|| platform.phases[s.phase].id.clone()),
                });
            }
        }
        // Stable: services and ports that share a host port keep spec order.
        rows.sort_by_key(|r| {
            r.host
                .map_or((1, u16::MAX, r.protocol), |h| (0, h.low, r.protocol))
        });
        let mut free = Vec::new();
        for protocol in [Protocol::Tcp, Protocol::Udp] {
            let used = used(&rows, protocol);
            if protocol == Protocol::Udp && used.is_empty() {
                continue;
            }
            free.extend(
                gaps(&used, range)
                    .into_iter()
                    .map(|range| Gap { protocol, range }),
            );
        }
        Self {
            range,
            range_declared: platform.port_range.is_some(),
            rows,
            free,
        }
    }

    /// The lowest run of `count` consecutive host ports free for `protocol`.
    /// Privileged ports (below 1024) come last: `privileged-port` warns
    /// about them, so they are offered only when the range has nothing else.
    pub fn next(&self, protocol: Protocol, count: u16) -> Option<PortRange> {
        let used = used(&self.rows, protocol);
        let fits = |range: PortRange| {
            gaps(&used, range)
                .into_iter()
                .find(|g| g.count() >= u32::from(count))
                .map(|g| PortRange {
                    low: g.low,
                    high: g.low + (count - 1),
                })
        };
        let unprivileged = (self.range.high >= PRIVILEGED_BELOW).then(|| PortRange {
            low: self.range.low.max(PRIVILEGED_BELOW),
            high: self.range.high,
        });
        unprivileged.and_then(fits).or_else(|| fits(self.range))
    }

    /// The table people read.
    pub fn to_table(&self) -> String {
        let header = ["HOST", "CONTAINER", "PROTO", "SERVICE", "PORT", "PHASE"];
        let cells: Vec<[String; 6]> = self
            .rows
            .iter()
            .map(|r| {
                let host = r.host.map_or_else(
                    || "-".to_owned(),
                    |h| match &r.bind {
                        Some(bind) => format!("{bind}:{h}"),
                        None => h.to_string(),
                    },
                );
                [
                    host,
                    r.container.to_string(),
                    r.protocol.name().to_owned(),
                    r.service.clone(),
                    r.port.clone(),
                    r.phase.clone().unwrap_or_else(|| "-".to_owned()),
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for row in &cells {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        let mut line = |row: &[&str]| {
            let mut text = String::new();
            for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
                if i + 1 == row.len() {
                    text.push_str(cell);
                } else {
                    let _ = write!(text, "{cell:<w$}  ");
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        };
        line(&header);
        for row in &cells {
            line(&row.each_ref().map(String::as_str));
        }
        let published = self.rows.iter().filter(|r| r.host.is_some()).count();
        let _ = writeln!(
            out,
            "\n{} ports, {published} published on the host; free host ports in {} ({}):",
            self.rows.len(),
            self.range,
            if self.range_declared {
                "ports.range"
            } else {
                "no ports.range, so the unprivileged ones"
            }
        );
        if self.free.is_empty() {
            out.push_str("  none\n");
        }
        for gap in &self.free {
            let _ = writeln!(
                out,
                "  {}/{}  ({})",
                gap.range,
                gap.protocol.name(),
                plural(gap.range.count(), "port")
            );
        }
        out
    }

    /// The map as one JSON document.
    pub fn to_json(&self) -> String {
        let doc = JsonMap {
            range: JsonRange::of(self.range),
            range_declared: self.range_declared,
            ports: self
                .rows
                .iter()
                .map(|r| JsonPort {
                    service: &r.service,
                    port: &r.port,
                    host: r.host.map(JsonRange::of),
                    container: JsonRange::of(r.container),
                    protocol: r.protocol.name(),
                    bind: r.bind.as_deref(),
                    phase: r.phase.as_deref(),
                })
                .collect(),
            free: self
                .free
                .iter()
                .map(|g| JsonGap {
                    protocol: g.protocol.name(),
                    range: JsonRange::of(g.range),
                })
                .collect(),
        };
        let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// `--next` as JSON: the block, or `null` when there is none.
pub fn next_json(protocol: Protocol, count: u16, found: Option<PortRange>) -> String {
    #[derive(Serialize)]
    struct Next {
        protocol: &'static str,
        count: u16,
        #[serde(rename = "next")]
        block: Option<JsonRange>,
    }
    let mut text = serde_json::to_string_pretty(&Next {
        protocol: protocol.name(),
        count,
        block: found.map(JsonRange::of),
    })
    .unwrap_or_default();
    text.push('\n');
    text
}

fn plural(n: u32, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Host ports taken for `protocol`, sorted.
fn used(rows: &[Row], protocol: Protocol) -> Vec<PortRange> {
    let mut used: Vec<PortRange> = rows
        .iter()
        .filter(|r| r.protocol == protocol)
        .filter_map(|r| r.host)
        .collect();
    used.sort_by_key(|r| (r.low, r.high));
    used
}

/// The free runs of `range` around `used` (sorted by low port).
fn gaps(used: &[PortRange], range: PortRange) -> Vec<PortRange> {
    let mut out = Vec::new();
    let mut next = u32::from(range.low);
    for u in used {
        if u32::from(u.low) > next && next <= u32::from(range.high) {
            let high = (u32::from(u.low) - 1).min(u32::from(range.high));
            push_run(&mut out, next, high);
        }
        next = next.max(u32::from(u.high) + 1);
    }
    push_run(&mut out, next, u32::from(range.high));
    out
}

fn push_run(out: &mut Vec<PortRange>, low: u32, high: u32) {
    if let (Ok(low), Ok(high)) = (u16::try_from(low), u16::try_from(high))
        && low <= high
    {
        out.push(PortRange { low, high });
    }
}

#[derive(Serialize)]
struct JsonRange {
    low: u16,
    high: u16,
    count: u32,
}

impl JsonRange {
    fn of(r: PortRange) -> Self {
        Self {
            low: r.low,
            high: r.high,
            count: r.count(),
        }
    }
}

#[derive(Serialize)]
struct JsonPort<'a> {
    service: &'a str,
    port: &'a str,
    host: Option<JsonRange>,
    container: JsonRange,
    protocol: &'static str,
    bind: Option<&'a str>,
    phase: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonGap {
    protocol: &'static str,
    #[serde(flatten)]
    range: JsonRange,
}

#[derive(Serialize)]
struct JsonMap<'a> {
    range: JsonRange,
    range_declared: bool,
    ports: Vec<JsonPort<'a>>,
    free: Vec<JsonGap>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(low: u16, high: u16) -> PortRange {
        PortRange { low, high }
    }

    #[test]
    fn gaps_skip_used_runs_and_stay_inside_the_range() {
        let range = r(1000, 1010);
        assert_eq!(gaps(&[], range), vec![range]);
        assert_eq!(
            gaps(&[r(1000, 1000), r(1003, 1005), r(1004, 1004)], range),
            vec![r(1001, 1002), r(1006, 1010)]
        );
        // Ports outside the range (a rule warns about those) take nothing in it.
        assert_eq!(gaps(&[r(900, 999), r(1011, 1020)], range), vec![range]);
        assert_eq!(gaps(&[r(990, 1010)], range), vec![]);
        assert_eq!(
            gaps(&[r(65535, 65535)], r(65530, 65535)),
            vec![r(65530, 65534)]
        );
    }
}

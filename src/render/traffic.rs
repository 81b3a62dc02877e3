//! Who talks to whom, on which ports: the platform's traffic, worked out
//! once from the spec, for the Kubernetes network policies (and for anyone
//! who needs to know which connection a role makes).
//!
//! Every edge comes from something the spec says:
//! - a service reaches each service it `depends_on` or `connects_to`, on
//!   every port that service declares (the spec does not say which of them
//!   it uses), unless that service is a job or cronjob: nothing listens
//!   in a pod that runs to completion, and waiting for it is compose's
//!   business, not the network's;
//! - the proxy role reaches each routed service on its route's port, except
//!   that a route of a service with `gateway` goes to the gateway role's
//!   port, and the gateway then reaches the service on the route's port (as
//!   `nginx.conf` and `kong.yml` send them);
//! - the monitoring role reaches each service with `metrics` on its metrics
//!   port, and itself on its own port when it does not declare metrics (the
//!   job `prometheus.yml` always has);
//! - the dashboards role reaches the monitoring role's port (its datasource).
//!
//! Edges come in a fixed order: by source service in spec order, then
//! dependencies, connections and role edges in that order.

use crate::collections::HashMap;

use super::wiring::{role, role_port};
use crate::model::{Platform, Service};
use crate::spec::Protocol;

/// Why a connection is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// `depends_on`.
    Dependency,
    /// `connects_to`.
    Connection,
    /// The proxy role routes a path to the service.
    Route,
    /// The gateway role serves the service's route.
    Gateway,
    /// The monitoring role scrapes the service.
    Metrics,
    /// The dashboards role reads the monitoring role.
    Datasource,
}

/// A port or a range of ports of one protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    pub protocol: Protocol,
    pub low: u16,
    pub high: u16,
}

/// One allowed connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub ports: Vec<Ports>,
    pub reason: Reason,
    /// What the spec says, for a comment next to the rule.
    pub note: String,
}

fn all_ports(s: &Service) -> Vec<Ports> {
    let mut out: Vec<Ports> = Vec::new();
    for p in &s.ports {
        let ports = Ports {
            protocol: p.protocol,
            low: p.container.low,
            high: p.container.high,
        };
        if !out.contains(&ports) {
            out.push(ports);
        }
    }
    out
}

fn tcp(port: u16) -> Vec<Ports> {
    vec![Ports {
        protocol: Protocol::Tcp,
        low: port,
        high: port,
    }]
}

fn edge(from: &Service, to: &Service, ports: Vec<Ports>, reason: Reason, note: String) -> Edge {
    Edge {
        from: from.name.clone(),
        to: to.name.clone(),
        ports,
        reason,
        note,
    }
}

/// The proxy's edges: to each route's service, or to the gateway for the
/// routes it serves.
fn proxy_edges(platform: &Platform, proxy: &Service, out: &mut Vec<Edge>) {
    let gateway = role(platform, platform.roles.gateway.as_ref());
    let mut through_gateway = false;
    for r in &platform.services {
        let Some(route) = &r.route else { continue };
        if gateway.is_some() && r.gateway.is_some() {
            through_gateway = true;
        } else {
            let note = format!("{} routes {} to {}", proxy.name, route.path, r.name);
            out.push(edge(proxy, r, tcp(route.port.number), Reason::Route, note));
        }
    }
    if let Some(g) = gateway.filter(|_| through_gateway)
        && let Some(port) = role_port(g)
    {
        let note = format!("{} routes the gateway's paths to {}", proxy.name, g.name);
        out.push(edge(proxy, g, tcp(port), Reason::Route, note));
    }
}

/// The gateway's edges: to each service it serves, on the route's port.
fn gateway_edges(platform: &Platform, gateway: &Service, out: &mut Vec<Edge>) {
    for r in &platform.services {
        if let (Some(route), Some(_)) = (&r.route, &r.gateway) {
            let note = format!("{} serves {} of {}", gateway.name, route.path, r.name);
            out.push(edge(
                gateway,
                r,
                tcp(route.port.number),
                Reason::Gateway,
                note,
            ));
        }
    }
}

/// The monitoring role's edges: to every metrics port, and to itself when
/// it declares no metrics of its own.
fn monitoring_edges(platform: &Platform, monitoring: &Service, out: &mut Vec<Edge>) {
    if monitoring.metrics.is_none()
        && let Some(port) = role_port(monitoring)
    {
        let note = format!("{} scrapes itself", monitoring.name);
        out.push(edge(
            monitoring,
            monitoring,
            tcp(port),
            Reason::Metrics,
            note,
        ));
    }
    for t in &platform.services {
        if let Some(metrics) = &t.metrics {
            let note = format!("{} scrapes {}", monitoring.name, t.name);
            out.push(edge(
                monitoring,
                t,
                tcp(metrics.port.number),
                Reason::Metrics,
                note,
            ));
        }
    }
}

/// Every allowed connection between the platform's services.
pub fn edges(platform: &Platform) -> Vec<Edge> {
    let is =
        |role_name: &Option<String>, s: &Service| role_name.as_deref() == Some(s.name.as_str());
    let monitoring = role(platform, platform.roles.monitoring.as_ref());
    let mut out = Vec::new();
    for s in &platform.services {
        for (names, reason, verb) in [
            (&s.depends_on, Reason::Dependency, "depends on"),
            (&s.connects_to, Reason::Connection, "connects to"),
        ] {
            for to in names
                .iter()
                .filter_map(|n| platform.service(n))
                .filter(|to| !to.runs_to_completion())
            {
                let note = format!("{} {verb} {}", s.name, to.name);
                out.push(edge(s, to, all_ports(to), reason, note));
            }
        }
        if is(&platform.roles.proxy, s) {
            proxy_edges(platform, s, &mut out);
        }
        if is(&platform.roles.gateway, s) {
            gateway_edges(platform, s, &mut out);
        }
        if is(&platform.roles.monitoring, s) {
            monitoring_edges(platform, s, &mut out);
        }
        if let Some(m) = monitoring.filter(|_| is(&platform.roles.dashboards, s))
            && let Some(port) = role_port(m)
        {
            let note = format!("{} reads {} as its datasource", s.name, m.name);
            out.push(edge(s, m, tcp(port), Reason::Datasource, note));
        }
    }
    out
}

/// The edges into and out of each service, in the order of [`edges`],
/// looked up by name: a scan of every edge for every service made
/// rendering quadratic in the number of services.
#[derive(Debug, Default)]
pub struct ByService<'e> {
    into: HashMap<&'e str, Vec<&'e Edge>>,
    out_of: HashMap<&'e str, Vec<&'e Edge>>,
}

impl<'e> ByService<'e> {
    pub fn new(edges: &'e [Edge]) -> Self {
        let mut by = ByService::default();
        for e in edges {
            by.into.entry(e.to.as_str()).or_default().push(e);
            by.out_of.entry(e.from.as_str()).or_default().push(e);
        }
        by
    }

    /// The edges into `service`.
    pub fn into(&self, service: &str) -> &[&'e Edge] {
        self.into.get(service).map_or(&[], Vec::as_slice)
    }

    /// The edges out of `service`.
    pub fn out_of(&self, service: &str) -> &[&'e Edge] {
        self.out_of.get(service).map_or(&[], Vec::as_slice)
    }
}

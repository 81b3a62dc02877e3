//! Kubernetes NetworkPolicies, from the platform's traffic
//! ([`traffic::edges`]).
//!
//! Decisions made here:
//! - The namespace denies all ingress and all egress by default
//!   (`default-deny`), so a pod reaches only what the spec says it needs:
//!   a compromised pod can neither probe its neighbours nor send data out.
//! - Every pod may resolve names (`allow-dns`): port 53, UDP and TCP, to
//!   any address, because the cluster's resolver is not always a pod that a
//!   selector could name (NodeLocal DNSCache listens on a link-local
//!   address, OpenShift's resolver has other labels).
//! - Each service's own policy admits, per edge into it, the source's pods
//!   on the edge's ports, and lets it reach, per edge out of it, the
//!   target's pods on the edge's ports. Both sides are needed once both
//!   directions are denied.
//! - The proxy role is the front door: it admits every source on its
//!   ports (its LoadBalancer brings traffic from outside the cluster).
//! - A service with `kubernetes_api` may reach TCP 443 and 6443 on any
//!   address: the API server's address is the cluster's, not the spec's.
//! - `security.egress` entries become `ipBlock` rules.
//!
//! Probes are not affected: kubelet's own traffic to its pods is allowed by
//! every network plugin that enforces policies.

use crate::collections::HashMap;

use serde::Serialize;

use super::kubernetes::Label;
use super::traffic::{ByService, Edge, Ports};
use crate::model::{Platform, Service};
use crate::spec::Protocol;

/// Ports a service that calls the Kubernetes API may reach: the API
/// server's usual ports (443 behind the `kubernetes` Service, 6443 on the
/// control plane's nodes).
pub const API_PORTS: [u16; 2] = [443, 6443];

/// One rule of a policy.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Rule {
    /// Why the rule exists, written next to it.
    pub comment: String,
    /// Empty: every peer.
    pub peers: Vec<Peer>,
    /// Empty: every port.
    pub ports: Vec<PolicyPort>,
}

/// The other side of a rule.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Peer {
    /// The pods of a service of the platform.
    Pods { labels: Vec<Label> },
    /// An address block.
    IpBlock { cidr: String },
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PolicyPort {
    /// `TCP` or `UDP`.
    pub protocol: &'static str,
    pub port: u16,
    /// The last port of a range.
    pub end_port: Option<u16>,
}

/// What one service's NetworkPolicy says.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Policy {
    pub ingress: Vec<Rule>,
    pub egress: Vec<Rule>,
}

fn protocol(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "TCP",
        Protocol::Udp => "UDP",
    }
}

fn policy_ports(ports: &[Ports]) -> Vec<PolicyPort> {
    ports
        .iter()
        .map(|p| PolicyPort {
            protocol: protocol(p.protocol),
            port: p.low,
            end_port: (p.high > p.low).then_some(p.high),
        })
        .collect()
}

/// The labels that select a service's pods, as [`super::kubernetes`] sets them.
pub fn pod_labels(platform: &Platform, service: &str) -> Vec<Label> {
    vec![
        Label {
            key: "app.kubernetes.io/name".into(),
            value: service.to_owned(),
        },
        Label {
            key: "app.kubernetes.io/part-of".into(),
            value: platform.name.clone(),
        },
    ]
}

/// The DNS ports every pod may reach.
pub fn dns_ports() -> Vec<PolicyPort> {
    [Protocol::Udp, Protocol::Tcp]
        .into_iter()
        .map(|p| PolicyPort {
            protocol: protocol(p),
            port: 53,
            end_port: None,
        })
        .collect()
}

fn pods(platform: &Platform, service: &str) -> Vec<Peer> {
    vec![Peer::Pods {
        labels: pod_labels(platform, service),
    }]
}

/// Adds an edge's rule for the pods of the service `peer`, or merges it
/// into the rule already there for them (a gateway that also depends on
/// the service it serves gets one rule). `by_peer` finds that rule by the
/// peer's name: comparing with every earlier rule was quadratic for the
/// monitoring role, whose rules name every service it scrapes (a quarter
/// of a 100,000-service render).
fn add<'e>(
    platform: &Platform,
    rules: &mut Vec<Rule>,
    by_peer: &mut HashMap<&'e str, usize>,
    edge: &Edge,
    peer: &'e str,
) {
    let ports = policy_ports(&edge.ports);
    if let Some(&i) = by_peer.get(peer) {
        let rule = &mut rules[i];
        rule.comment = format!("{}; {}", rule.comment, edge.note);
        for p in ports {
            if !rule.ports.contains(&p) {
                rule.ports.push(p);
            }
        }
    } else {
        by_peer.insert(peer, rules.len());
        rules.push(Rule {
            comment: edge.note.clone(),
            peers: pods(platform, peer),
            ports,
        });
    }
}

/// The policy of one service, from the platform's edges.
pub fn policy(platform: &Platform, edges: &ByService<'_>, s: &Service) -> Policy {
    let mut ingress = Vec::new();
    if platform.roles.proxy.as_deref() == Some(s.name.as_str()) && !s.ports.is_empty() {
        ingress.push(Rule {
            comment: format!("{} is the platform's front door: any source", s.name),
            peers: Vec::new(),
            ports: policy_ports(
                &s.ports
                    .iter()
                    .map(|p| Ports {
                        protocol: p.protocol,
                        low: p.container.low,
                        high: p.container.high,
                    })
                    .collect::<Vec<_>>(),
            ),
        });
    }
    let mut by_peer = HashMap::default();
    for e in edges.into(&s.name) {
        add(platform, &mut ingress, &mut by_peer, e, &e.from);
    }
    let mut egress: Vec<Rule> = Vec::new();
    let mut by_peer = HashMap::default();
    for e in edges.out_of(&s.name) {
        add(platform, &mut egress, &mut by_peer, e, &e.to);
    }
    if s.security.kubernetes_api {
        egress.push(Rule {
            comment: format!("{} calls the Kubernetes API", s.name),
            peers: vec![
                Peer::IpBlock {
                    cidr: "0.0.0.0/0".into(),
                },
                Peer::IpBlock {
                    cidr: "::/0".into(),
                },
            ],
            ports: API_PORTS
                .iter()
                .map(|p| PolicyPort {
                    protocol: "TCP",
                    port: *p,
                    end_port: None,
                })
                .collect(),
        });
    }
    for x in &s.security.egress {
        egress.push(Rule {
            comment: format!("{} may reach {} (security.egress)", s.name, x.cidr),
            peers: vec![Peer::IpBlock {
                cidr: x.cidr.clone(),
            }],
            ports: x
                .ports
                .iter()
                .map(|p| PolicyPort {
                    protocol: "TCP",
                    port: *p,
                    end_port: None,
                })
                .collect(),
        });
    }
    Policy { ingress, egress }
}

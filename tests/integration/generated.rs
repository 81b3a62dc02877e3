//! Generated specs: a proptest strategy for valid platforms that use every
//! part of the spec (published and internal ports, ranges, tcp and udp,
//! dependencies across phases, routes, metrics, the gateway, autoscaling,
//! secrets, volumes, `security` and `connects_to`, all four roles, so all
//! five targets render).
//!
//! For every generated spec, `check` finds nothing, rendering succeeds, the
//! compose file and every Kubernetes document read back strictly, and two
//! renders give the same bytes. One injected fault (a port conflict, an
//! unknown dependency, a cycle, a route collision) is reported as exactly
//! that rule, at the places it involves.
//!
//! Specs are written as YAML text (`yaml_text`) and go through the real
//! parser. `PLATGEN_GENERATED_SPECS=DIR` makes
//! `fixed_seed_specs_check_and_render` write its specs there, one directory
//! each, for CI to render and pass through the real validators.

use std::collections::BTreeSet;
use std::ops::Range;

use platgen::check::{self, Outcome};
use platgen::source::SourceFile;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use crate::render::{check_compose, check_kubernetes, render_all};
use crate::yaml_text::{Node, to_yaml};

// --- the plan a strategy draws, and the spec built from it ----------------

/// One port as drawn: a range of `len` ports, published or not.
#[derive(Debug, Clone)]
struct PortPlan {
    len: u16,
    published: bool,
    udp: bool,
    named: bool,
    gap: u16,
}

#[derive(Debug, Clone)]
struct GatewayPlan {
    rate: Option<u32>,
    auth: Option<usize>,
    consumers: usize,
    cors: usize,
}

#[derive(Debug, Clone)]
#[allow(clippy::struct_excessive_bools)] // independent draws, one per spec key
struct ServicePlan {
    word: usize,
    next_phase: bool,
    image: usize,
    extra_ports: Vec<PortPlan>,
    first_published: bool,
    deps: Vec<usize>,
    health: usize,
    probe: bool,
    metrics: Option<bool>,
    route: Option<(bool, bool)>,
    gateway: Option<GatewayPlan>,
    env: Vec<usize>,
    secrets: Vec<(usize, bool)>,
    volumes: Vec<Option<usize>>,
    scaling: (usize, u32, u32, u32),
    resources: Option<(usize, usize)>,
    command: bool,
    security: Option<SecurityPlan>,
    connects: Vec<usize>,
}

#[derive(Debug, Clone)]
#[allow(clippy::struct_excessive_bools)] // independent draws, one per key
struct SecurityPlan {
    user: u32,
    group: bool,
    fs_group: bool,
    writable_root: bool,
    writable_cache: bool,
    kubernetes_api: bool,
}

#[derive(Debug, Clone)]
struct PlatformPlan {
    phases: usize,
    policy: bool,
    domain: bool,
    base: u16,
    services: Vec<ServicePlan>,
}

fn port_plan() -> impl Strategy<Value = PortPlan> {
    (
        prop_oneof![4 => Just(1u16), 1 => 2u16..=4],
        any::<bool>(),
        prop::bool::weighted(0.2),
        any::<bool>(),
        0u16..3,
    )
        .prop_map(|(len, published, udp, named, gap)| PortPlan {
            len,
            published,
            udp,
            named,
            gap,
        })
}

fn service_plan() -> impl Strategy<Value = ServicePlan> {
    let gateway = (
        prop::option::of(1u32..5000),
        prop::option::of(0usize..4),
        0usize..3,
        0usize..3,
    )
        .prop_map(|(rate, auth, consumers, cors)| GatewayPlan {
            rate,
            auth,
            consumers,
            cors,
        });
    (
        (
            0usize..WORDS.len(),
            prop::bool::weighted(0.3),
            0usize..IMAGES.len(),
            prop::collection::vec(port_plan(), 0..3),
            any::<bool>(),
            prop::collection::vec(0usize..64, 0..3),
            0usize..3,
            any::<bool>(),
            prop::option::of(any::<bool>()),
        ),
        (
            prop::option::weighted(0.6, (any::<bool>(), any::<bool>())),
            prop::option::weighted(0.4, gateway),
            prop::collection::vec(0usize..ENV_VALUES.len(), 0..4),
            prop::collection::vec((0usize..SECRETS.len(), any::<bool>()), 0..3),
            prop::collection::vec(prop::option::of(0usize..SIZES.len()), 0..3),
            (0usize..3, 1u32..4, 0u32..5, 10u32..=90),
            prop::option::of((0usize..CPUS.len(), 0usize..MEMORY.len())),
            any::<bool>(),
        ),
        (
            prop::option::weighted(
                0.4,
                (
                    1000u32..60000,
                    any::<bool>(),
                    any::<bool>(),
                    any::<bool>(),
                    any::<bool>(),
                    prop::bool::weighted(0.2),
                )
                    .prop_map(
                        |(user, group, fs_group, writable_root, writable_cache, kubernetes_api)| {
                            SecurityPlan {
                                user,
                                group,
                                fs_group,
                                writable_root,
                                writable_cache,
                                kubernetes_api,
                            }
                        },
                    ),
            ),
            prop::collection::vec(0usize..64, 0..2),
        ),
    )
        .prop_map(
            |(
                (
                    word,
                    next_phase,
                    image,
                    extra_ports,
                    first_published,
                    deps,
                    health,
                    probe,
                    metrics,
                ),
                (route, gateway, env, secrets, volumes, scaling, resources, command),
                (security, connects),
            )| ServicePlan {
                word,
                next_phase,
                image,
                extra_ports,
                first_published,
                deps,
                health,
                probe,
                metrics,
                route,
                gateway,
                env,
                secrets,
                volumes,
                scaling,
                resources,
                command,
                security,
                connects,
            },
        )
}

fn platform_plan() -> impl Strategy<Value = PlatformPlan> {
    (
        0usize..=3,
        any::<bool>(),
        any::<bool>(),
        1024u16..40000,
        prop::collection::vec(service_plan(), 2..8),
    )
        .prop_map(|(phases, policy, domain, base, services)| PlatformPlan {
            phases,
            policy,
            domain,
            base,
            services,
        })
}

const WORDS: &[&str] = &["api", "web", "worker", "auth", "search", "billing", "ui"];
const IMAGES: &[&str] = &[
    "ghcr.io/example/api:2.3.1",
    "postgres:16.6-alpine",
    "redis:7.4.1-alpine",
    "registry.example.com:5000/team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
];
const PHASE_IDS: &[&str] = &["1", "2A", "2B"];
/// Values that YAML or compose could misread; each must arrive as written.
const ENV_VALUES: &[&str] = &[
    "info",
    "yes",
    "1.10",
    "0755",
    "on",
    "$HOME",
    "a: b",
    "say \"hi\"",
    "ünï ☃",
    "12:30",
];
const SECRETS: &[&str] = &["db-password", "api-token", "signing-key"];
const SIZES: &[&str] = &["1Gi", "20Gi", "512Mi"];
const CPUS: &[&str] = &["250m", "1", "0.5"];
const MEMORY: &[&str] = &["128Mi", "1Gi"];
const AUTH: &[&str] = &["jwt", "key-auth", "basic-auth", "hmac-auth"];

/// A port of the built spec.
#[derive(Debug, Clone)]
pub struct GenPort {
    pub name: Option<String>,
    pub host: Option<(u16, u16)>,
    pub container: (u16, u16),
    pub udp: bool,
    /// `expose: public`, for a data store's routed port.
    pub public: bool,
    /// `bind: 127.0.0.1`, for the routed port of a service behind the
    /// gateway.
    pub loopback: bool,
}

/// A service of the built spec, as plain data the faults can change.
#[derive(Debug, Clone)]
pub struct GenService {
    pub name: String,
    pub phase: usize,
    pub role: bool,
    pub node: Vec<(String, Node)>,
    pub ports: Vec<GenPort>,
    pub depends_on: Vec<String>,
    pub route: Option<String>,
    pub route_flags: Vec<(String, Node)>,
    /// Written only with a route.
    pub gateway: Option<Node>,
}

/// A valid platform, built from a plan.
#[derive(Debug, Clone)]
pub struct GenSpec {
    pub phases: usize,
    pub head: Vec<(String, Node)>,
    pub services: Vec<GenService>,
}

fn range_text((low, high): (u16, u16)) -> Node {
    if low == high {
        Node::Int(i64::from(low))
    } else {
        Node::str(format!("{low}-{high}"))
    }
}

impl GenService {
    /// The first tcp port's reference: its name (all first ports are named).
    fn first_port(&self) -> String {
        self.ports[0].name.clone().unwrap_or_default()
    }

    fn to_node(&self, phased: bool) -> Node {
        let mut m: Vec<(String, Node)> = Vec::new();
        if phased {
            m.push(("phase".into(), Node::str(PHASE_IDS[self.phase])));
        }
        m.extend(self.node.iter().cloned());
        let ports = self
            .ports
            .iter()
            .map(|p| {
                let mut e = Vec::new();
                if let Some(n) = &p.name {
                    e.push(("name".to_owned(), Node::str(n.clone())));
                }
                if let Some(h) = p.host {
                    e.push(("host".to_owned(), range_text(h)));
                }
                e.push(("container".to_owned(), range_text(p.container)));
                if p.udp {
                    e.push(("protocol".to_owned(), Node::str("udp")));
                }
                if p.loopback {
                    e.push(("bind".to_owned(), Node::str("127.0.0.1")));
                }
                if p.public {
                    e.push(("expose".to_owned(), Node::str("public")));
                }
                Node::Map(e)
            })
            .collect();
        // `image` stays first for readability; ports and deps after it.
        let at = m
            .iter()
            .position(|(k, _)| k == "image")
            .map_or(0, |i| i + 1);
        m.insert(at, ("ports".into(), Node::List(ports)));
        if !self.depends_on.is_empty() {
            m.insert(
                at + 1,
                ("depends_on".into(), Node::strs(self.depends_on.clone())),
            );
        }
        if let Some(path) = &self.route {
            let mut r = vec![
                ("path".to_owned(), Node::str(path.clone())),
                ("port".to_owned(), Node::str(self.first_port())),
            ];
            r.extend(self.route_flags.iter().cloned());
            m.push(("route".into(), Node::Map(r)));
            if let Some(g) = &self.gateway {
                m.push(("gateway".into(), g.clone()));
            }
        }
        Node::Map(m)
    }
}

impl GenSpec {
    pub fn yaml(&self) -> String {
        let mut m = self.head.clone();
        let phased = self.phases > 0;
        if phased {
            m.push((
                "phases".into(),
                Node::List(
                    PHASE_IDS[..self.phases]
                        .iter()
                        .map(|id| Node::map([("id", Node::str(*id))]))
                        .collect(),
                ),
            ));
        }
        m.push((
            "roles".into(),
            Node::map([
                ("proxy", Node::str("nginx")),
                ("monitoring", Node::str("prometheus")),
                ("gateway", Node::str("kong")),
                ("dashboards", Node::str("grafana")),
            ]),
        ));
        // Every consumer a route names, with a credential for every kind of
        // authentication a route may ask for: a route nobody can pass is an
        // error (missing-credentials).
        let consumer = |name: &str| {
            Node::map([
                (
                    "jwt",
                    Node::map([("public_key", Node::str(format!("{name}-jwt-key")))]),
                ),
                (
                    "key_auth",
                    Node::map([("key", Node::str(format!("{name}-api-key")))]),
                ),
                (
                    "basic_auth",
                    Node::map([("password", Node::str(format!("{name}-password")))]),
                ),
                (
                    "hmac_auth",
                    Node::map([("secret", Node::str(format!("{name}-hmac-secret")))]),
                ),
            ])
        };
        m.push((
            "gateway".into(),
            Node::map([(
                "consumers",
                Node::map([("alice", consumer("alice")), ("bob", consumer("bob"))]),
            )]),
        ));
        m.push((
            "services".into(),
            Node::Map(
                self.services
                    .iter()
                    .map(|s| (s.name.clone(), s.to_node(phased)))
                    .collect(),
            ),
        ));
        to_yaml(&Node::Map(m))
    }

    fn index(&self, name: &str) -> usize {
        self.services.iter().position(|s| s.name == name).unwrap()
    }

    /// Whether `to` can be reached from `from` along `depends_on`.
    fn reaches(&self, from: usize, to: usize) -> bool {
        let mut stack = vec![from];
        let mut seen = BTreeSet::new();
        while let Some(n) = stack.pop() {
            if n == to {
                return true;
            }
            if seen.insert(n) {
                stack.extend(self.services[n].depends_on.iter().map(|d| self.index(d)));
            }
        }
        false
    }
}

/// Allocates host ports upwards from a base, so none collide.
struct Ports {
    next: u32,
}

impl Ports {
    fn take(&mut self, len: u16, gap: u16) -> (u16, u16) {
        self.next += u32::from(gap);
        let low = u16::try_from(self.next).expect("below 65536");
        self.next += u32::from(len);
        (low, low + len - 1)
    }
}

fn role_service(
    name: &str,
    image: &str,
    ports: &[(&str, u16)],
    health: Node,
    ports_alloc: &mut Ports,
) -> GenService {
    GenService {
        name: name.into(),
        phase: 0,
        role: true,
        node: vec![
            ("image".into(), Node::str(image)),
            ("health".into(), health),
            (
                "resources".into(),
                Node::map([("memory", Node::str("256Mi"))]),
            ),
        ],
        ports: ports
            .iter()
            .enumerate()
            .map(|(i, (n, c))| GenPort {
                name: Some((*n).to_owned()),
                host: (i == 0).then(|| ports_alloc.take(1, 0)),
                container: (*c, *c),
                udp: false,
                public: false,
                loopback: false,
            })
            .collect(),
        depends_on: Vec::new(),
        route: None,
        route_flags: Vec::new(),
        gateway: None,
    }
}

#[allow(clippy::too_many_lines)] // one spec key after another
fn build(plan: &PlatformPlan) -> GenSpec {
    let mut alloc = Ports {
        next: u32::from(plan.base),
    };
    let http_health = |port: &str, path: &str| {
        Node::map([
            (
                "http",
                Node::map([("port", Node::str(port)), ("path", Node::str(path))]),
            ),
            ("probe", Node::str("wget")),
        ])
    };
    let mut services = vec![
        role_service(
            "nginx",
            "nginx:1.27.3-alpine",
            &[("http", 80)],
            http_health("http", "/healthz"),
            &mut alloc,
        ),
        role_service(
            "prometheus",
            "prom/prometheus:v2.55.1",
            &[("http", 9090)],
            http_health("http", "/-/healthy"),
            &mut alloc,
        ),
        role_service(
            "kong",
            "kong:3.9.0",
            &[("proxy", 8000), ("status", 8100)],
            Node::map([("command", Node::strs(["kong", "health"]))]),
            &mut alloc,
        ),
        role_service(
            "grafana",
            "grafana/grafana:11.4.0",
            &[("http", 3000)],
            http_health("http", "/api/health"),
            &mut alloc,
        ),
    ];
    services[3].depends_on.push("prometheus".into());

    let mut phase = 0;
    let first_generated = services.len();
    for (i, s) in plan.services.iter().enumerate() {
        if plan.phases > 0 && s.next_phase && phase + 1 < plan.phases {
            phase += 1;
        }
        let name = format!("{}{i}", WORDS[s.word]);
        // The first port is tcp and named: health, metrics and route use it.
        // A routed port must be public, and one behind the gateway must
        // not be reachable around it.
        let host = s.first_published.then(|| alloc.take(1, 1));
        let mut ports = vec![GenPort {
            name: Some("http".into()),
            host,
            container: (8080, 8080),
            udp: false,
            public: s.route.is_some()
                && platgen::exposure::internal_by_default(IMAGES[s.image], Some("http")).is_some(),
            loopback: s.route.is_some() && s.gateway.is_some() && host.is_some(),
        }];
        let mut container = 9000u16;
        for (j, p) in s.extra_ports.iter().enumerate() {
            let c = (container, container + p.len - 1);
            container += p.len + 10;
            ports.push(GenPort {
                name: p.named.then(|| format!("p{j}")),
                host: p.published.then(|| alloc.take(p.len, p.gap)),
                container: c,
                udp: p.udp,
                public: false,
                loopback: false,
            });
        }
        let earlier = i; // generated services before this one
        let mut depends_on: Vec<String> = Vec::new();
        for d in &s.deps {
            if earlier == 0 {
                break;
            }
            let dep = services[first_generated + d % earlier].name.clone();
            if !depends_on.contains(&dep) {
                depends_on.push(dep);
            }
        }
        let mut node: Vec<(String, Node)> = vec![("image".into(), Node::str(IMAGES[s.image]))];
        // Traffic that no dependency implies: to earlier services, and to
        // the roles.
        let mut connects: Vec<String> = Vec::new();
        for c in &s.connects {
            let to = services[c % services.len()].name.clone();
            if !depends_on.contains(&to) && !connects.contains(&to) {
                connects.push(to);
            }
        }
        if !connects.is_empty() {
            node.push(("connects_to".into(), Node::strs(connects)));
        }
        if let Some(sec) = &s.security {
            let mut e = vec![("run_as_user".to_owned(), Node::Int(i64::from(sec.user)))];
            if sec.group {
                e.push(("run_as_group".into(), Node::Int(i64::from(sec.user))));
            }
            if sec.fs_group {
                e.push(("fs_group".into(), Node::Int(2000)));
            }
            if sec.writable_root {
                e.push(("read_only_root".into(), Node::Bool(false)));
                e.push((
                    "reason".into(),
                    Node::str("the image writes below /etc at start"),
                ));
            }
            if sec.writable_cache {
                e.push((
                    "writable".into(),
                    Node::strs([format!("/var/cache/{name}")]),
                ));
            }
            if sec.kubernetes_api {
                e.push(("kubernetes_api".into(), Node::Bool(true)));
            }
            node.push(("security".into(), Node::Map(e)));
        }
        if s.command {
            node.push((
                "command".into(),
                Node::strs(["serve", "--port", "8080", "--verbose=yes"]),
            ));
        }
        let health = match s.health {
            0 => {
                let mut h = vec![(
                    "http".to_owned(),
                    Node::map([("port", Node::str("http")), ("path", Node::str("/health"))]),
                )];
                if s.probe {
                    h.push(("probe".into(), Node::str("curl")));
                }
                h.push(("interval".into(), Node::str("15s")));
                Node::Map(h)
            }
            1 => {
                let mut h = vec![("tcp".to_owned(), Node::map([("port", Node::str("http"))]))];
                if s.probe {
                    h.push(("probe".into(), Node::str("bash")));
                }
                h.push(("start_period".into(), Node::str("1m30s")));
                Node::Map(h)
            }
            _ => Node::map([
                ("command", Node::strs(["healthcheck", "--quiet"])),
                ("retries", Node::Int(3)),
            ]),
        };
        node.push(("health".into(), health));
        if let Some(alerts) = s.metrics {
            let mut m = vec![
                ("port".to_owned(), Node::str("http")),
                ("path".to_owned(), Node::str("/metrics")),
            ];
            if alerts {
                m.push(("http_requests".into(), Node::str("http_requests_total")));
                m.push((
                    "http_duration".into(),
                    Node::str("http_request_duration_seconds"),
                ));
                m.push(("p95_latency_ms".into(), Node::Int(250)));
            }
            node.push(("metrics".into(), Node::Map(m)));
        }
        let route = s.route.map(|_| format!("/{name}"));
        let route_flags = s.route.map_or_else(Vec::new, |(strip, ws)| {
            vec![
                ("strip_prefix".to_owned(), Node::Bool(strip)),
                ("websocket".to_owned(), Node::Bool(ws)),
            ]
        });
        let mut gateway = None;
        if let Some(g) = &s.gateway {
            let mut e = Vec::new();
            if let Some(rate) = g.rate {
                e.push((
                    "rate_limit_per_minute".to_owned(),
                    Node::Int(i64::from(rate)),
                ));
            }
            if let Some(a) = g.auth {
                e.push(("auth".into(), Node::str(AUTH[a])));
            }
            if g.consumers > 0 {
                e.push((
                    "consumers".into(),
                    Node::strs(["alice", "bob"][..g.consumers].iter().copied()),
                ));
            }
            match g.cors {
                1 => e.push(("cors".into(), Node::Bool(true))),
                2 => e.push((
                    "cors".into(),
                    Node::strs(["https://app.example.com", "http://localhost:3000"]),
                )),
                _ => {}
            }
            gateway = Some(Node::Map(e));
        }
        if !s.env.is_empty() {
            node.push((
                "env".into(),
                Node::Map(
                    s.env
                        .iter()
                        .enumerate()
                        .map(|(k, v)| (format!("SETTING_{k}"), Node::str(ENV_VALUES[*v])))
                        .collect(),
                ),
            ));
        }
        if !s.secrets.is_empty() {
            node.push((
                "secrets".into(),
                Node::Map(
                    s.secrets
                        .iter()
                        .enumerate()
                        .map(|(k, (secret, file_env))| {
                            let secret = Node::str(SECRETS[*secret]);
                            let value = if *file_env {
                                Node::map([
                                    ("secret", secret),
                                    ("file_env", Node::str(format!("CRED_{k}__FILE"))),
                                ])
                            } else {
                                secret
                            };
                            (format!("CRED_{k}_PASSWORD"), value)
                        })
                        .collect(),
                ),
            ));
        }
        if !s.volumes.is_empty() {
            node.push((
                "volumes".into(),
                Node::Map(
                    s.volumes
                        .iter()
                        .enumerate()
                        .map(|(k, size)| {
                            let path = Node::str(format!("/var/lib/{name}/{k}"));
                            let value = match size {
                                Some(sz) => {
                                    Node::map([("path", path), ("size", Node::str(SIZES[*sz]))])
                                }
                                None => path,
                            };
                            (format!("{name}-data{k}"), value)
                        })
                        .collect(),
                ),
            ));
        }
        let (scaling, replicas, min, cpu) = s.scaling;
        let mut resources = s.resources;
        match scaling {
            1 => node.push(("replicas".into(), Node::Int(i64::from(replicas)))),
            2 => {
                node.push((
                    "autoscale".into(),
                    Node::map([
                        ("min", Node::Int(i64::from(replicas))),
                        ("max", Node::Int(i64::from(replicas + min))),
                        ("cpu_percent", Node::Int(i64::from(cpu))),
                    ]),
                ));
                // The CPU target is a share of the CPU request.
                resources = Some(resources.unwrap_or((0, 0)));
            }
            _ => {}
        }
        if let Some((c, mem)) = resources {
            node.push((
                "resources".into(),
                Node::map([
                    ("cpu", Node::str(CPUS[c])),
                    ("memory", Node::str(MEMORY[mem])),
                ]),
            ));
        }
        services.push(GenService {
            name,
            phase,
            role: false,
            node,
            ports,
            depends_on,
            route,
            route_flags,
            gateway,
        });
    }
    // The proxy waits for the routed services of its own phase.
    let routed: Vec<String> = services
        .iter()
        .filter(|s| s.route.is_some() && s.phase == 0)
        .map(|s| s.name.clone())
        .collect();
    services[0].depends_on = routed;

    let mut head = vec![("name".to_owned(), Node::str("gen"))];
    if plan.domain {
        head.push(("domain".into(), Node::str("gen.example.com")));
    }
    if plan.policy {
        let high = u16::try_from(alloc.next + 5).unwrap_or(u16::MAX);
        head.push((
            "ports".into(),
            Node::map([(
                "range",
                Node::List(vec![
                    Node::Int(i64::from(plan.base)),
                    Node::Int(i64::from(high)),
                ]),
            )]),
        ));
    }
    GenSpec {
        phases: plan.phases,
        head,
        services,
    }
}

pub fn valid_spec() -> impl Strategy<Value = GenSpec> {
    platform_plan().prop_map(|p| build(&p))
}

// --- the properties --------------------------------------------------------

fn check_text(text: &str) -> (SourceFile, Outcome) {
    check::check_bytes("platform.yaml", text.as_bytes())
}

fn describe(outcome: &Outcome) -> Vec<String> {
    outcome
        .diagnostics
        .iter()
        .map(|d| format!("{} {}: {}", d.code, d.rule, d.message))
        .collect()
}

/// Everything that must hold for a valid generated spec.
fn holds_for_a_valid_spec(spec: &GenSpec) -> Result<(), TestCaseError> {
    let text = spec.yaml();
    let (_, outcome) = check_text(&text);
    prop_assert!(
        outcome.diagnostics.is_empty(),
        "{:#?}\n{text}",
        describe(&outcome)
    );
    let platform = outcome.platform.expect("a clean spec builds a platform");
    let files = render_all(&platform);
    for target in platgen::render::Target::ALL {
        prop_assert!(
            files.iter().any(|f| f.target == *target),
            "{target} rendered nothing"
        );
    }
    check_compose(&platform, &files, "generated");
    check_kubernetes(&platform, &files, "generated");
    let again = render_all(&check_text(&text).1.platform.unwrap());
    prop_assert_eq!(files, again, "two renders differ");
    Ok(())
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(cases),
        // Failures are minimised and printed; the regression file stays out
        // of the tree (the printed spec is the reproduction).
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(96))]

    #[test]
    fn valid_specs_check_clean_render_and_read_back(spec in valid_spec()) {
        holds_for_a_valid_spec(&spec)?;
    }
}

// --- one injected fault ----------------------------------------------------

/// The byte range of a service's block in the generated text.
fn section(text: &str, service: &str) -> Range<usize> {
    let key = format!("\n  {}:\n", crate::yaml_text::key(service));
    let start = text.find(&key).unwrap_or_else(|| panic!("no {service}"));
    let body = start + key.len();
    // The service's lines are those indented deeper than its key.
    let mut end = body;
    for line in text[body..].split_inclusive('\n') {
        if !line.starts_with("    ") {
            break;
        }
        end += line.len();
    }
    start..end
}

#[derive(Debug, Clone)]
enum Fault {
    PortConflict { taker: usize, owner: usize },
    UnknownDependency { service: usize },
    Cycle { a: usize, b: usize },
    RouteCollision { first: usize, second: usize },
}

/// What the fault is expected to produce: one diagnostic of `rule`, its
/// primary label in `primary`'s section with that text, and (where the
/// fault involves two places) a secondary label in `secondary`'s.
struct Expected {
    rule: &'static str,
    primary: (String, String),
    secondary: Option<(String, String)>,
    /// Primary and secondary may be the other way round.
    either_way: bool,
}

fn inject(spec: &mut GenSpec, fault: &Fault) -> Expected {
    match *fault {
        Fault::PortConflict { taker, owner } => {
            let host = spec.services[owner]
                .ports
                .iter()
                .find_map(|p| p.host.filter(|_| !p.udp))
                .expect("the owner publishes a tcp port");
            let shown = if host.0 == host.1 {
                host.0.to_string()
            } else {
                format!("\"{}-{}\"", host.0, host.1)
            };
            spec.services[taker].ports.push(GenPort {
                name: Some("clash".into()),
                host: Some((host.0, host.0)),
                container: (19999, 19999),
                udp: false,
                public: false,
                loopback: false,
            });
            // The later of the two in the file is reported, the earlier shown.
            let new = (spec.services[taker].name.clone(), host.0.to_string());
            let old = (spec.services[owner].name.clone(), shown);
            let (primary, secondary) = if taker > owner {
                (new, old)
            } else {
                (old, new)
            };
            Expected {
                rule: "port-conflict",
                primary,
                secondary: Some(secondary),
                either_way: false,
            }
        }
        Fault::UnknownDependency { service } => {
            spec.services[service].depends_on.push("nosuch".into());
            Expected {
                rule: "unknown-dependency",
                primary: (spec.services[service].name.clone(), "nosuch".into()),
                secondary: None,
                either_way: false,
            }
        }
        Fault::Cycle { a, b } => {
            let (na, nb) = (spec.services[a].name.clone(), spec.services[b].name.clone());
            spec.services[a].depends_on.push(nb.clone());
            spec.services[b].depends_on.push(na.clone());
            // Which edge closes the cycle depends on where the search
            // enters it; either one, with the other as the secondary label.
            Expected {
                rule: "dependency-cycle",
                primary: (na.clone(), nb.clone()),
                secondary: Some((nb, na)),
                either_way: true,
            }
        }
        Fault::RouteCollision { first, second } => {
            let path = spec.services[first]
                .route
                .get_or_insert_with(|| "/taken".into())
                .clone();
            let again = format!("{path}/");
            spec.services[second].route = Some(again.clone());
            spec.services[second].gateway = None;
            // A routed port is public (a data store's would be internal),
            // and one behind the gateway is published for the host only.
            for i in [first, second] {
                let port = &mut spec.services[i].ports[0];
                port.public = true;
                port.loopback = port.host.is_some();
            }
            Expected {
                rule: "route-collision",
                primary: (spec.services[second].name.clone(), again.clone()),
                secondary: Some((spec.services[first].name.clone(), path.clone())),
                either_way: false,
            }
        }
    }
}

/// A fault that fits `spec`, chosen by `kind` and `pick`.
fn fault_for(spec: &GenSpec, kind: usize, pick: usize) -> Fault {
    let n = spec.services.len();
    let generated: Vec<usize> = (0..n).filter(|i| !spec.services[*i].role).collect();
    match kind % 4 {
        0 => {
            // Roles always publish their first (tcp) port.
            let owners: Vec<usize> = (0..n)
                .filter(|i| {
                    spec.services[*i]
                        .ports
                        .iter()
                        .any(|p| p.host.is_some() && !p.udp)
                })
                .collect();
            let owner = owners[pick % owners.len()];
            let taker = generated[(pick / 7) % generated.len()];
            let taker = if taker == owner {
                generated[(pick / 7 + 1) % generated.len()]
            } else {
                taker
            };
            Fault::PortConflict { taker, owner }
        }
        1 => Fault::UnknownDependency {
            service: generated[pick % generated.len()],
        },
        2 => {
            // Two services of one phase, neither reaching the other: the
            // two new edges make exactly one cycle.
            let mut pairs = Vec::new();
            for a in 0..n {
                for b in a + 1..n {
                    if spec.services[a].phase == spec.services[b].phase
                        && !spec.reaches(a, b)
                        && !spec.reaches(b, a)
                    {
                        pairs.push((a, b));
                    }
                }
            }
            let (a, b) = pairs[pick % pairs.len()];
            Fault::Cycle { a, b }
        }
        _ => {
            // The earlier of the two keeps (or gets) a route, and the later
            // takes the same path with a trailing slash.
            let last = generated[generated.len() - 1];
            let first = generated
                .iter()
                .copied()
                .find(|i| *i < last && spec.services[*i].route.is_some())
                .unwrap_or(generated[0]);
            let later: Vec<usize> = generated.iter().copied().filter(|i| *i > first).collect();
            let second = later[pick % later.len()];
            Fault::RouteCollision { first, second }
        }
    }
}

fn reports_exactly(spec: &GenSpec, fault: &Fault) -> Result<(), TestCaseError> {
    let mut faulty = spec.clone();
    let expected = inject(&mut faulty, fault);
    let text = faulty.yaml();
    let (source, outcome) = check_text(&text);
    let found = describe(&outcome);
    prop_assert_eq!(
        outcome.diagnostics.len(),
        1,
        "{:#?}\n{:?}\n{}",
        found,
        fault,
        text
    );
    let d = &outcome.diagnostics[0];
    prop_assert_eq!(d.rule, expected.rule, "{:#?}\n{}", found, text);
    prop_assert!(outcome.platform.is_none());
    let at = |span: platgen::source::Span, (service, shown): &(String, String)| {
        let inside = section(&text, service);
        let written = source.slice(span).trim_matches('"');
        if inside.contains(&span.start) && written == shown.trim_matches('"') {
            Ok(())
        } else {
            Err(format!(
                "expected {shown} in `{service}`, the label is at line {}: {written:?}",
                source.line_col(span.start).line
            ))
        }
    };
    let both = |primary: &(String, String), secondary: &Option<(String, String)>| {
        at(d.primary.span, primary)?;
        match secondary {
            Some(place) if d.secondary.len() == 1 => at(d.secondary[0].span, place),
            None if d.secondary.is_empty() => Ok(()),
            _ => Err(format!("secondary labels: {:?}", d.secondary)),
        }
    };
    let mut result = both(&expected.primary, &expected.secondary);
    if let (Err(_), true, Some(secondary)) = (&result, expected.either_way, &expected.secondary) {
        result = both(secondary, &Some(expected.primary.clone()));
    }
    if let Err(e) = result {
        return Err(TestCaseError::fail(format!("{e}\n{found:#?}\n{text}")));
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn a_port_conflict_is_reported_alone_at_both_ports(spec in valid_spec(), pick in any::<usize>()) {
        reports_exactly(&spec, &fault_for(&spec, 0, pick))?;
    }

    #[test]
    fn an_unknown_dependency_is_reported_alone_where_it_is_named(spec in valid_spec(), pick in any::<usize>()) {
        reports_exactly(&spec, &fault_for(&spec, 1, pick))?;
    }

    #[test]
    fn a_cycle_is_reported_alone_with_both_edges(spec in valid_spec(), pick in any::<usize>()) {
        reports_exactly(&spec, &fault_for(&spec, 2, pick))?;
    }

    #[test]
    fn a_route_collision_is_reported_alone_at_both_routes(spec in valid_spec(), pick in any::<usize>()) {
        reports_exactly(&spec, &fault_for(&spec, 3, pick))?;
    }
}

// --- fixed seeds, for the real validators in CI ------------------------------

/// How many fixed-seed specs CI renders and validates.
pub const FIXED_SPECS: u8 = 40;

/// The spec of fixed seed `seed`: the same on every machine and every run.
pub fn fixed_spec(seed: u8) -> GenSpec {
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    valid_spec().new_tree(&mut runner).unwrap().current()
}

#[test]
fn fixed_seed_specs_check_and_render() {
    let out = std::env::var_os("PLATGEN_GENERATED_SPECS").map(std::path::PathBuf::from);
    let mut texts = BTreeSet::new();
    for seed in 0..FIXED_SPECS {
        let spec = fixed_spec(seed);
        holds_for_a_valid_spec(&spec).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let text = spec.yaml();
        assert_eq!(text, fixed_spec(seed).yaml(), "seed {seed} is not fixed");
        if let Some(dir) = &out {
            let dir = dir.join(format!("gen-{seed:02}"));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("platform.yaml"), &text).unwrap();
        }
        texts.insert(text);
    }
    assert_eq!(
        texts.len(),
        usize::from(FIXED_SPECS),
        "the seeds give distinct specs"
    );
}

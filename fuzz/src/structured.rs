//! Specs built by `arbitrary` from the fuzzer's bytes, written as YAML.
//!
//! Raw bytes rarely get past the parser; these specs always have the
//! spec's shape, so the fuzzer spends its time in the rules, the model and
//! the renderers. Names, ports, paths and images come mostly from small
//! pools, so that references resolve, ports collide and routes overlap as
//! often as they do not; any field can also be free text.

use arbitrary::Arbitrary;

#[path = "../../tests/integration/yaml_text.rs"]
#[allow(dead_code)]
mod yaml_text;

pub use yaml_text::{Node, to_yaml};

const NAMES: &[&str] = &[
    "api",
    "db",
    "web",
    "nginx",
    "prometheus",
    "kong",
    "grafana",
    "cache",
    "worker",
    "a-b",
];
const PHASES: &[&str] = &["1", "2A", "2B", "3"];
const PORT_NAMES: &[&str] = &["http", "metrics", "grpc", "admin", "ui"];
const PATHS: &[&str] = &[
    "/",
    "/api",
    "/api/",
    "/api/v1",
    "/metrics",
    "/health",
    "/v1/sys/metrics?format=prometheus",
    "/ws",
];
const IMAGES: &[&str] = &[
    "nginx:1.27.3-alpine",
    "postgres:16.6-alpine",
    "prom/prometheus:v2.55.1",
    "kong:3.9.0",
    "grafana/grafana:11.4.0",
    "ghcr.io/example/api:1.0.0",
    "redis@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "busybox",
];
const TEXTS: &[&str] = &[
    "yes", "1.10", "on", "0755", "12:30", "1e3", "~", "null", "-1",
];
const QUANTITIES: &[&str] = &["500m", "1", "0.5", "256Mi", "1Gi", "20Gi", "1.5e3", "0"];
const DURATIONS: &[&str] = &["10s", "1m30s", "500ms", "0s", "2h", "5"];
const ENV_KEYS: &[&str] = &["PORT", "DB_PASSWORD", "API_KEY", "LOG_LEVEL", "_X", "a.b"];
const AUTH: &[&str] = &["jwt", "key-auth", "basic-auth", "hmac-auth", "oauth2"];

/// A value from a pool, or free text.
#[derive(Debug, Arbitrary)]
pub enum Word {
    Pool(u8),
    Free(String),
}

impl Word {
    fn from(&self, pool: &[&str]) -> String {
        match self {
            Word::Pool(i) => pool[usize::from(*i) % pool.len()].to_owned(),
            Word::Free(s) => s.clone(),
        }
    }
}

/// A port number, a range, or whatever a user might write instead.
#[derive(Debug, Arbitrary)]
pub enum PortNum {
    Small(u8),
    Single(u16),
    Range(u16, u8),
    Wide(i64),
    Text(String),
}

impl PortNum {
    fn node(&self) -> Node {
        match self {
            // Around 8080, so that ports collide often.
            PortNum::Small(n) => Node::Int(8080 + i64::from(*n % 8)),
            PortNum::Single(n) => Node::Int(i64::from(*n)),
            PortNum::Range(low, len) => {
                let high = u32::from(*low) + u32::from(*len % 8);
                Node::str(format!("{low}-{high}"))
            }
            PortNum::Wide(n) => Node::Int(*n),
            PortNum::Text(s) => Node::str(s.clone()),
        }
    }
}

#[derive(Debug, Arbitrary)]
pub enum PortRefA {
    Name(Word),
    Number(PortNum),
}

impl PortRefA {
    fn node(&self) -> Node {
        match self {
            PortRefA::Name(w) => Node::Str(w.from(PORT_NAMES)),
            PortRefA::Number(n) => n.node(),
        }
    }
}

#[derive(Debug, Arbitrary)]
pub struct PortA {
    name: Option<Word>,
    host: Option<PortNum>,
    container: PortNum,
    udp: Option<bool>,
    bind: Option<Word>,
}

#[derive(Debug, Arbitrary)]
pub enum CheckA {
    Http(Option<PortRefA>, Word),
    Tcp(Option<PortRefA>),
    Command(Vec<Word>),
}

#[derive(Debug, Arbitrary)]
pub struct HealthA {
    check: CheckA,
    probe: Option<u8>,
    interval: Option<Word>,
    timeout: Option<Word>,
    retries: Option<u8>,
    start_period: Option<Word>,
}

#[derive(Debug, Arbitrary)]
pub struct MetricsA {
    port: Option<PortRefA>,
    path: Option<Word>,
    http_requests: Option<Word>,
    http_status_label: Option<Word>,
    http_duration: Option<Word>,
    p95_latency_ms: Option<u16>,
}

#[derive(Debug, Arbitrary)]
pub struct RouteA {
    path: Word,
    port: Option<PortRefA>,
    strip_prefix: Option<bool>,
    websocket: Option<bool>,
}

#[derive(Debug, Arbitrary)]
pub enum CorsA {
    Enabled(bool),
    Origins(Vec<String>),
}

#[derive(Debug, Arbitrary)]
pub struct GatewayA {
    rate_limit_per_minute: Option<u16>,
    auth: Option<Word>,
    consumers: Vec<Word>,
    cors: Option<CorsA>,
}

#[derive(Debug, Arbitrary)]
pub enum EnvValue {
    Text(Word),
    Int(i32),
    Bool(bool),
}

#[derive(Debug, Arbitrary)]
pub struct SecretA {
    env: Word,
    secret: Word,
    file_env: Option<Word>,
}

#[derive(Debug, Arbitrary)]
pub struct VolumeA {
    name: Word,
    path: Word,
    size: Option<Word>,
}

#[derive(Debug, Arbitrary)]
pub struct ServiceA {
    name: Word,
    phase: Option<Word>,
    image: Word,
    command: Option<Vec<Word>>,
    ports: Vec<PortA>,
    depends_on: Vec<Word>,
    health: Option<HealthA>,
    metrics: Option<MetricsA>,
    route: Option<RouteA>,
    gateway: Option<GatewayA>,
    env: Vec<(Word, EnvValue)>,
    secrets: Vec<SecretA>,
    volumes: Vec<VolumeA>,
    replicas: Option<u8>,
    autoscale: Option<(u8, u8, u8)>,
    resources: Option<(Option<Word>, Option<Word>)>,
    connects_to: Vec<Word>,
    security: Option<SecurityA>,
}

#[derive(Debug, Arbitrary)]
pub struct SecurityA {
    run_as_user: Option<i32>,
    run_as_group: Option<i32>,
    fs_group: Option<i32>,
    read_only_root: Option<bool>,
    writable: Vec<Word>,
    capabilities: Vec<Word>,
    root: Option<bool>,
    reason: Option<String>,
    kubernetes_api: Option<bool>,
}

fn security(x: &SecurityA) -> Node {
    let mut m = Vec::new();
    for (key, value) in [
        ("run_as_user", x.run_as_user),
        ("run_as_group", x.run_as_group),
        ("fs_group", x.fs_group),
    ] {
        opt(&mut m, key, value.map(|n| Node::Int(i64::from(n))));
    }
    opt(&mut m, "read_only_root", x.read_only_root.map(Node::Bool));
    if !x.writable.is_empty() {
        m.push((
            "writable".into(),
            Node::strs(
                x.writable
                    .iter()
                    .map(|w| w.from(&["/tmp", "/var/cache/x", "/data", "rel", "/a:b"])),
            ),
        ));
    }
    if !x.capabilities.is_empty() {
        m.push((
            "capabilities".into(),
            Node::strs(
                x.capabilities
                    .iter()
                    .map(|w| w.from(&["NET_BIND_SERVICE", "SYS_ADMIN", "chown", "ALL"])),
            ),
        ));
    }
    opt(&mut m, "root", x.root.map(Node::Bool));
    opt(&mut m, "reason", x.reason.clone().map(Node::Str));
    opt(&mut m, "kubernetes_api", x.kubernetes_api.map(Node::Bool));
    Node::Map(m)
}

#[derive(Debug, Arbitrary)]
pub struct SpecA {
    name: Word,
    domain: Option<Word>,
    range: Option<(u16, u16)>,
    phases: Vec<(Word, Option<String>)>,
    roles: [Option<Word>; 4],
    services: Vec<ServiceA>,
}

fn path_node(w: &Word) -> Node {
    Node::Str(w.from(PATHS))
}

fn opt(entries: &mut Vec<(String, Node)>, key: &str, value: Option<Node>) {
    if let Some(v) = value {
        entries.push((key.to_owned(), v));
    }
}

fn port(p: &PortA) -> Node {
    let mut m = Vec::new();
    opt(
        &mut m,
        "name",
        p.name.as_ref().map(|w| Node::Str(w.from(PORT_NAMES))),
    );
    opt(&mut m, "host", p.host.as_ref().map(PortNum::node));
    m.push(("container".into(), p.container.node()));
    opt(
        &mut m,
        "protocol",
        p.udp.map(|u| Node::str(if u { "udp" } else { "tcp" })),
    );
    opt(
        &mut m,
        "bind",
        p.bind
            .as_ref()
            .map(|w| Node::Str(w.from(&["127.0.0.1", "0.0.0.0", "::1", "10.0.0.1"]))),
    );
    Node::Map(m)
}

fn health(h: &HealthA) -> Node {
    let mut m = Vec::new();
    match &h.check {
        CheckA::Http(port, path) => {
            let mut c = Vec::new();
            opt(&mut c, "port", port.as_ref().map(PortRefA::node));
            c.push(("path".into(), path_node(path)));
            m.push(("http".into(), Node::Map(c)));
        }
        CheckA::Tcp(port) => {
            let mut c = Vec::new();
            opt(&mut c, "port", port.as_ref().map(PortRefA::node));
            m.push(("tcp".into(), Node::Map(c)));
        }
        CheckA::Command(argv) => m.push((
            "command".into(),
            Node::List(argv.iter().map(|w| Node::Str(w.from(TEXTS))).collect()),
        )),
    }
    opt(
        &mut m,
        "probe",
        h.probe
            .map(|p| Node::str(["wget", "curl", "nc", "bash", "httpie"][usize::from(p % 5)])),
    );
    for (key, value) in [
        ("interval", &h.interval),
        ("timeout", &h.timeout),
        ("start_period", &h.start_period),
    ] {
        opt(
            &mut m,
            key,
            value.as_ref().map(|w| Node::Str(w.from(DURATIONS))),
        );
    }
    opt(
        &mut m,
        "retries",
        h.retries.map(|r| Node::Int(i64::from(r))),
    );
    Node::Map(m)
}

fn metrics(x: &MetricsA) -> Node {
    let mut m = Vec::new();
    opt(&mut m, "port", x.port.as_ref().map(PortRefA::node));
    opt(&mut m, "path", x.path.as_ref().map(path_node));
    let metric_names = &[
        "http_requests_total",
        "http_request_duration_seconds",
        "code",
        "9x",
    ];
    for (key, value) in [
        ("http_requests", &x.http_requests),
        ("http_status_label", &x.http_status_label),
        ("http_duration", &x.http_duration),
    ] {
        opt(
            &mut m,
            key,
            value.as_ref().map(|w| Node::Str(w.from(metric_names))),
        );
    }
    opt(
        &mut m,
        "p95_latency_ms",
        x.p95_latency_ms.map(|n| Node::Int(i64::from(n))),
    );
    Node::Map(m)
}

#[allow(clippy::too_many_lines)] // one spec key after another
fn service(s: &ServiceA) -> Node {
    let mut m = Vec::new();
    opt(
        &mut m,
        "phase",
        s.phase.as_ref().map(|w| Node::Str(w.from(PHASES))),
    );
    m.push(("image".into(), Node::Str(s.image.from(IMAGES))));
    opt(
        &mut m,
        "command",
        s.command
            .as_ref()
            .map(|argv| Node::List(argv.iter().map(|w| Node::Str(w.from(TEXTS))).collect())),
    );
    if !s.ports.is_empty() {
        m.push((
            "ports".into(),
            Node::List(s.ports.iter().map(port).collect()),
        ));
    }
    if !s.depends_on.is_empty() {
        m.push((
            "depends_on".into(),
            Node::strs(s.depends_on.iter().map(|w| w.from(NAMES))),
        ));
    }
    opt(&mut m, "health", s.health.as_ref().map(health));
    opt(&mut m, "metrics", s.metrics.as_ref().map(metrics));
    opt(
        &mut m,
        "route",
        s.route.as_ref().map(|r| {
            let mut e = vec![("path".to_owned(), path_node(&r.path))];
            opt(&mut e, "port", r.port.as_ref().map(PortRefA::node));
            opt(&mut e, "strip_prefix", r.strip_prefix.map(Node::Bool));
            opt(&mut e, "websocket", r.websocket.map(Node::Bool));
            Node::Map(e)
        }),
    );
    opt(
        &mut m,
        "gateway",
        s.gateway.as_ref().map(|g| {
            let mut e = Vec::new();
            opt(
                &mut e,
                "rate_limit_per_minute",
                g.rate_limit_per_minute.map(|n| Node::Int(i64::from(n))),
            );
            opt(
                &mut e,
                "auth",
                g.auth.as_ref().map(|w| Node::Str(w.from(AUTH))),
            );
            if !g.consumers.is_empty() {
                e.push((
                    "consumers".into(),
                    Node::strs(g.consumers.iter().map(|w| w.from(NAMES))),
                ));
            }
            opt(
                &mut e,
                "cors",
                g.cors.as_ref().map(|c| match c {
                    CorsA::Enabled(b) => Node::Bool(*b),
                    CorsA::Origins(o) => Node::strs(o.iter().cloned()),
                }),
            );
            Node::Map(e)
        }),
    );
    if !s.env.is_empty() {
        m.push((
            "env".into(),
            Node::Map(
                s.env
                    .iter()
                    .map(|(k, v)| {
                        let value = match v {
                            EnvValue::Text(Word::Pool(i)) => {
                                Node::Plain(TEXTS[usize::from(*i) % TEXTS.len()].to_owned())
                            }
                            EnvValue::Text(Word::Free(s)) => Node::str(s.clone()),
                            EnvValue::Int(n) => Node::Int(i64::from(*n)),
                            EnvValue::Bool(b) => Node::Bool(*b),
                        };
                        (k.from(ENV_KEYS), value)
                    })
                    .collect(),
            ),
        ));
    }
    if !s.secrets.is_empty() {
        m.push((
            "secrets".into(),
            Node::Map(
                s.secrets
                    .iter()
                    .map(|x| {
                        let secret =
                            Node::Str(x.secret.from(&["db-password", "token", "Bad_Name"]));
                        let value = match &x.file_env {
                            None => secret,
                            Some(f) => Node::map([
                                ("secret", secret),
                                ("file_env", Node::Str(f.from(ENV_KEYS))),
                            ]),
                        };
                        (x.env.from(ENV_KEYS), value)
                    })
                    .collect(),
            ),
        ));
    }
    if !s.volumes.is_empty() {
        m.push((
            "volumes".into(),
            Node::Map(
                s.volumes
                    .iter()
                    .map(|v| {
                        let path = Node::Str(v.path.from(&["/data", "/var/lib/x", "rel", "/"]));
                        let value = match &v.size {
                            None => path,
                            Some(size) => Node::map([
                                ("path", path),
                                ("size", Node::Str(size.from(QUANTITIES))),
                            ]),
                        };
                        (v.name.from(&["data", "logs", "Data"]), value)
                    })
                    .collect(),
            ),
        ));
    }
    if !s.connects_to.is_empty() {
        m.push((
            "connects_to".into(),
            Node::strs(s.connects_to.iter().map(|w| w.from(NAMES))),
        ));
    }
    opt(&mut m, "security", s.security.as_ref().map(security));
    opt(
        &mut m,
        "replicas",
        s.replicas.map(|n| Node::Int(i64::from(n))),
    );
    opt(
        &mut m,
        "autoscale",
        s.autoscale.map(|(min, max, cpu)| {
            Node::map([
                ("min", Node::Int(i64::from(min))),
                ("max", Node::Int(i64::from(max))),
                ("cpu_percent", Node::Int(i64::from(cpu))),
            ])
        }),
    );
    opt(
        &mut m,
        "resources",
        s.resources.as_ref().map(|(cpu, memory)| {
            let mut e = Vec::new();
            opt(
                &mut e,
                "cpu",
                cpu.as_ref().map(|w| Node::Str(w.from(QUANTITIES))),
            );
            opt(
                &mut e,
                "memory",
                memory.as_ref().map(|w| Node::Str(w.from(QUANTITIES))),
            );
            Node::Map(e)
        }),
    );
    Node::Map(m)
}

impl SpecA {
    /// The spec as a YAML document.
    pub fn node(&self) -> Node {
        let mut m = vec![(
            "name".to_owned(),
            Node::Str(self.name.from(&["demo", "Demo", "x"])),
        )];
        opt(
            &mut m,
            "domain",
            self.domain
                .as_ref()
                .map(|w| Node::Str(w.from(&["example.com", "a b", "localhost"]))),
        );
        opt(
            &mut m,
            "ports",
            self.range.map(|(low, high)| {
                Node::map([(
                    "range",
                    Node::List(vec![Node::Int(i64::from(low)), Node::Int(i64::from(high))]),
                )])
            }),
        );
        if !self.phases.is_empty() {
            m.push((
                "phases".into(),
                Node::List(
                    self.phases
                        .iter()
                        .map(|(id, title)| {
                            let mut e = vec![("id".to_owned(), Node::Str(id.from(PHASES)))];
                            opt(&mut e, "title", title.clone().map(Node::Str));
                            Node::Map(e)
                        })
                        .collect(),
                ),
            ));
        }
        let mut roles = Vec::new();
        for (key, value) in ["proxy", "monitoring", "gateway", "dashboards"]
            .iter()
            .zip(&self.roles)
        {
            opt(
                &mut roles,
                key,
                value.as_ref().map(|w| Node::Str(w.from(NAMES))),
            );
        }
        if !roles.is_empty() {
            m.push(("roles".into(), Node::Map(roles)));
        }
        m.push((
            "services".into(),
            Node::Map(
                self.services
                    .iter()
                    .map(|s| (s.name.from(NAMES), service(s)))
                    .collect(),
            ),
        ));
        Node::Map(m)
    }

    pub fn to_yaml(&self) -> String {
        to_yaml(&self.node())
    }
}

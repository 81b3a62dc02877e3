//! The validated platform: what the spec means, with every default applied
//! and every reference resolved. It carries no spans; the renderers read
//! only this.
//!
//! [`Platform::from_spec`] is called only on a spec that passed every rule,
//! so it resolves without failing; where a rule guarantees something (a
//! port reference resolves, a duration parses), a broken guarantee falls
//! back to a neutral value instead of panicking.

use crate::collections::HashMap;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::collections::IndexMap;

use crate::check::Context;
use crate::check::context::{PortFacts, PortRange, Resolved, ServiceFacts};
use crate::duration;
use crate::exposure;
use crate::quantity;
use crate::spec::{
    self, AdminApi, AlertSeverity, Cors, Exposure, JwtAlgorithm, PortRef, Probe, Protocol,
    SecretDelivery, SecretDetail, SecretRef, Spanned, Spec, Strategy, WorkloadKind,
};

/// The whole platform.
#[derive(Debug, Clone)]
pub struct Platform {
    pub name: String,
    pub domain: Option<String>,
    /// The host port policy, when the spec sets one.
    pub port_range: Option<PortRange>,
    /// Phases in rollout order. A spec without phases has one implicit phase.
    pub phases: Vec<Phase>,
    /// `true` when the spec declared its phases.
    pub phased: bool,
    pub roles: Roles,
    /// Services in spec order.
    pub services: Vec<Service>,
    /// Service indices in an order where every service comes after the
    /// services it depends on (ties kept in spec order).
    pub start_order: Vec<usize>,
    /// Service name -> index into `services`.
    index: HashMap<String, usize>,
    /// How the monitoring role scrapes and keeps metrics.
    pub monitoring: Monitoring,
    /// Receivers and routing of the alerting role, when the spec has them.
    pub alerting: Option<Alerting>,
    /// Consumers and policies of the gateway role.
    pub gateway: GatewaySettings,
    /// The Ingress in front of the proxy, when the spec has one.
    pub ingress: Option<Ingress>,
}

/// The Ingress in front of the proxy role.
#[derive(Debug, Clone)]
pub struct Ingress {
    pub class: String,
    pub tls_secret: Option<String>,
    pub cert_manager_issuer: Option<String>,
}

/// The monitoring role's settings, defaults applied.
#[derive(Debug, Clone)]
pub struct Monitoring {
    /// As written (a Prometheus duration), default `15s`.
    pub scrape_interval: String,
    pub scrape_interval_ms: u64,
    /// As written, default `15s`.
    pub evaluation_interval: String,
    pub retention_time: Option<String>,
    pub retention_size: Option<String>,
    /// The runbook base URL without a trailing `/`.
    pub runbook_url: Option<String>,
}

/// The default scrape and evaluation interval.
pub const DEFAULT_SCRAPE_INTERVAL: &str = "15s";

/// Alertmanager's receivers and routing.
#[derive(Debug, Clone)]
pub struct Alerting {
    pub receivers: Vec<Receiver>,
    /// Severity -> receiver, most urgent first.
    pub routes: Vec<(AlertSeverity, String)>,
    /// The receiver of everything else.
    pub default: String,
    /// The receiver of the `Watchdog` heartbeat.
    pub heartbeat: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Receiver {
    pub name: String,
    pub email: Option<Email>,
    pub slack: Option<Slack>,
    /// The secret holding the routing key.
    pub pagerduty: Option<String>,
    pub webhook: Option<Webhook>,
}

#[derive(Debug, Clone)]
pub struct Email {
    pub to: String,
    pub from: String,
    pub smarthost: String,
    pub username: Option<String>,
    /// The secret holding the password.
    pub password: Option<String>,
    pub require_tls: bool,
}

#[derive(Debug, Clone)]
pub struct Slack {
    /// The secret holding the webhook URL.
    pub webhook_url: String,
    pub channel: String,
}

#[derive(Debug, Clone)]
pub struct Webhook {
    pub url: String,
    /// The secret holding the bearer token.
    pub bearer_token: Option<String>,
}

impl Receiver {
    /// The secrets this receiver reads, in a fixed order.
    pub fn secrets(&self) -> Vec<&str> {
        let mut out = Vec::new();
        if let Some(p) = self.email.as_ref().and_then(|e| e.password.as_deref()) {
            out.push(p);
        }
        if let Some(s) = &self.slack {
            out.push(s.webhook_url.as_str());
        }
        if let Some(p) = &self.pagerduty {
            out.push(p.as_str());
        }
        if let Some(t) = self
            .webhook
            .as_ref()
            .and_then(|w| w.bearer_token.as_deref())
        {
            out.push(t);
        }
        out
    }
}

/// The gateway's consumers and policies.
#[derive(Debug, Clone)]
pub struct GatewaySettings {
    /// In spec order.
    pub consumers: Vec<Consumer>,
    /// The spec's trusted addresses; `None` means the default.
    pub trusted_ips: Option<Vec<String>>,
    pub admin: AdminApi,
}

/// The gateway's trusted addresses when the spec names none: the private
/// ranges a proxy in front of it connects from.
pub const DEFAULT_TRUSTED_IPS: &[&str] =
    &["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"];

#[derive(Debug, Clone)]
pub struct Consumer {
    pub name: String,
    pub credentials: Vec<Credential>,
}

/// A credential, by the secret that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Jwt {
        /// The `iss` claim.
        issuer: String,
        algorithm: JwtAlgorithm,
        public_key: String,
    },
    KeyAuth {
        key: String,
    },
    BasicAuth {
        password: String,
    },
    HmacAuth {
        secret: String,
    },
}

impl Credential {
    /// The `gateway.auth` plugin this credential passes.
    pub fn auth(&self) -> &'static str {
        match self {
            Credential::Jwt { .. } => "jwt",
            Credential::KeyAuth { .. } => "key-auth",
            Credential::BasicAuth { .. } => "basic-auth",
            Credential::HmacAuth { .. } => "hmac-auth",
        }
    }

    /// The secret that holds it.
    pub fn secret(&self) -> &str {
        match self {
            Credential::Jwt { public_key: s, .. }
            | Credential::KeyAuth { key: s }
            | Credential::BasicAuth { password: s }
            | Credential::HmacAuth { secret: s } => s,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Phase {
    pub id: String,
    pub title: Option<String>,
}

/// Which services run the generated configs.
#[derive(Debug, Clone, Default)]
pub struct Roles {
    pub proxy: Option<String>,
    pub monitoring: Option<String>,
    pub gateway: Option<String>,
    pub dashboards: Option<String>,
    pub alerting: Option<String>,
}

impl Roles {
    /// Every role the platform names, with its service, in a fixed order.
    pub fn named(&self) -> Vec<(&'static str, &str)> {
        [
            ("proxy", &self.proxy),
            ("gateway", &self.gateway),
            ("monitoring", &self.monitoring),
            ("alerting", &self.alerting),
            ("dashboards", &self.dashboards),
        ]
        .into_iter()
        .filter_map(|(role, name)| name.as_deref().map(|n| (role, n)))
        .collect()
    }
}

#[derive(Debug, Clone)]
pub struct Service {
    pub name: String,
    /// Index into [`Platform::phases`].
    pub phase: usize,
    pub image: String,
    pub command: Option<Vec<String>>,
    /// The spec's entrypoint, replacing the image's.
    pub entrypoint: Option<Vec<String>>,
    /// Runs all the time, once, or on a schedule.
    pub kind: WorkloadKind,
    /// The cron expression of a `cronjob`, as written.
    pub schedule: Option<String>,
    /// How a new version replaces the running one.
    pub strategy: Strategy,
    pub ports: Vec<Port>,
    /// Names of services this one waits for, each once, in spec order.
    pub depends_on: Vec<String>,
    /// Names of services this one reaches without waiting for them, each
    /// once, in spec order.
    pub connects_to: Vec<String>,
    pub health: Option<Health>,
    pub metrics: Option<Metrics>,
    pub route: Option<Route>,
    pub gateway: Option<Gateway>,
    pub env: IndexMap<String, String>,
    /// Secret variables, in spec order.
    pub secrets: Vec<Secret>,
    /// Volume name -> where it is mounted and how large it is.
    pub volumes: IndexMap<String, Volume>,
    pub replicas: u32,
    pub autoscale: Option<Autoscale>,
    pub resources: Resources,
    pub security: Security,
    /// An init process as PID 1.
    pub init: bool,
    /// The signal that stops the container, as the spec wrote it.
    pub stop_signal: Option<String>,
    /// The time the container may take to stop.
    pub stop_grace_period_ms: Option<u64>,
}

impl Service {
    /// Whether the service runs to completion (a job or a cronjob) rather
    /// than all the time.
    pub fn runs_to_completion(&self) -> bool {
        self.kind != WorkloadKind::Service
    }
}

/// How often Kubernetes retries a failed job's pod before the Job fails.
pub const JOB_BACKOFF_LIMIT: u32 = 3;

/// How long a finished Job (and its pods, with their logs) is kept before
/// Kubernetes deletes it: a day.
pub const JOB_TTL_SECONDS: u32 = 86_400;

/// How a service's container runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Security {
    pub run_as_user: Option<u32>,
    pub run_as_group: Option<u32>,
    /// The group of the pod's volumes, as the spec wrote it.
    pub fs_group: Option<u32>,
    pub read_only_root: bool,
    /// The spec's writable paths, in spec order (without the implied `/tmp`).
    pub writable: Vec<String>,
    /// Capabilities added back after dropping all, without `CAP_`.
    pub capabilities: Vec<String>,
    /// The container starts as root.
    pub root: bool,
    pub reason: Option<String>,
    /// The service calls the Kubernetes API.
    pub kubernetes_api: bool,
    pub egress: Vec<Egress>,
}

impl Default for Security {
    fn default() -> Self {
        Self {
            run_as_user: None,
            run_as_group: None,
            fs_group: None,
            read_only_root: true,
            writable: Vec::new(),
            capabilities: Vec::new(),
            root: false,
            reason: None,
            kubernetes_api: false,
            egress: Vec::new(),
        }
    }
}

/// Where `/tmp` is, which every container may write.
pub const TMP: &str = "/tmp";

impl Security {
    /// The group that owns the pod's volumes: `fs_group`, else the group the
    /// container runs as.
    pub fn volume_group(&self) -> Option<u32> {
        self.fs_group.or(self.run_as_group)
    }

    /// The paths that get an emptyDir or a tmpfs: `/tmp` when the root
    /// filesystem is read-only (unless a volume is mounted there), then the
    /// spec's own.
    pub fn scratch_paths(&self, volumes: &IndexMap<String, Volume>) -> Vec<String> {
        let mut paths = Vec::new();
        if self.read_only_root
            && !self.writable.iter().any(|p| p == TMP)
            && !volumes.values().any(|v| v.path == TMP)
        {
            paths.push(TMP.to_owned());
        }
        paths.extend(self.writable.iter().cloned());
        paths
    }
}

/// A destination outside the platform a service may reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Egress {
    pub cidr: String,
    /// Empty: every port.
    pub ports: Vec<u16>,
}

/// A persistent volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    pub path: String,
    /// The claim's size as written (`20Gi`), when the spec gives one.
    pub size: Option<String>,
}

/// A variable whose value is a secret.
#[derive(Debug, Clone)]
pub struct Secret {
    /// The variable the container reads.
    pub env: String,
    /// The secret's name (a file name, and a key of the Kubernetes Secret).
    pub name: String,
    /// The variable through which the secret file's path is passed.
    pub file_env: String,
    pub delivery: SecretDelivery,
}

#[derive(Debug, Clone)]
pub struct Port {
    /// The spec's name, or a generated one (`tcp-8080`) when it had none.
    pub name: String,
    /// Whether the name was written in the spec.
    pub named: bool,
    pub host: Option<PortRange>,
    pub container: PortRange,
    pub protocol: Protocol,
    pub bind: Option<String>,
    /// Reachable from outside the platform (`expose`, defaults applied):
    /// routes may lead to it and compose publishes it on `bind`; an
    /// internal port is published on loopback only.
    pub public: bool,
}

/// A port reference resolved to the container port it means.
#[derive(Debug, Clone)]
pub struct PortTarget {
    /// The port's name (as in [`Port::name`]).
    pub name: String,
    /// The container port number (for a range, the referenced one or the first).
    pub number: u16,
}

#[derive(Debug, Clone)]
pub struct Health {
    pub check: HealthCheck,
    /// The tool compose uses for http and tcp checks.
    pub probe: Probe,
    pub interval_ms: u64,
    pub timeout_ms: u64,
    pub retries: u32,
    pub start_period_ms: Option<u64>,
    /// The port and path of the liveness endpoint, when the spec names one.
    pub liveness: Option<(PortTarget, String)>,
}

#[derive(Debug, Clone)]
pub enum HealthCheck {
    Http {
        port: PortTarget,
        path: String,
    },
    Tcp {
        port: PortTarget,
    },
    Grpc {
        port: PortTarget,
        service: Option<String>,
    },
    Command {
        argv: Vec<String>,
    },
}

#[derive(Debug, Clone)]
pub struct Metrics {
    pub port: PortTarget,
    /// The path without its query string.
    pub path: String,
    /// Query parameters, in order.
    pub params: Vec<(String, String)>,
    /// The HTTP request counter and its status-code label.
    pub http_requests: Option<(String, String)>,
    /// The HTTP duration histogram and the p95 threshold in milliseconds.
    pub http_duration: Option<(String, u32)>,
    /// The severity of the availability alerts.
    pub severity: AlertSeverity,
    /// The severity of the HTTP alerts.
    pub http_severity: AlertSeverity,
}

/// Default threshold of the `HighLatency` alert.
pub const DEFAULT_P95_LATENCY_MS: u32 = 500;

#[derive(Debug, Clone)]
pub struct Route {
    pub path: String,
    pub port: PortTarget,
    pub strip_prefix: bool,
    pub websocket: bool,
}

#[derive(Debug, Clone)]
pub struct Gateway {
    pub rate_limit_per_minute: Option<u32>,
    pub auth: Option<String>,
    pub consumers: Vec<String>,
    /// `None`: no CORS handling; `Some([])`: any origin; else these origins.
    pub cors: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy)]
pub struct Autoscale {
    pub min: u32,
    pub max: u32,
    pub cpu_percent: u32,
}

#[derive(Debug, Clone, Default)]
pub struct Resources {
    pub cpu_millis: Option<u64>,
    /// The CPU amount as written, for Kubernetes.
    pub cpu: Option<String>,
    pub memory_bytes: Option<u64>,
    /// The memory amount as written, for Kubernetes.
    pub memory: Option<String>,
}

/// Defaults for health checks (docker-compose's own defaults are 30s
/// intervals, too slow for a dependency chain of thirty services).
pub const DEFAULT_INTERVAL_MS: u64 = 10_000;
pub const DEFAULT_TIMEOUT_MS: u64 = 5_000;
pub const DEFAULT_RETRIES: u32 = 5;

fn port_name(facts: &PortFacts, container: PortRange) -> String {
    facts.name().map_or_else(
        || format!("{}-{}", facts.protocol.name(), container.low),
        str::to_owned,
    )
}

fn target(s: &ServiceFacts, reference: Option<&Spanned<PortRef>>) -> PortTarget {
    match s.resolve(reference) {
        Resolved::Port(p) => {
            let container = p.container.unwrap_or(PortRange::single(0));
            let number = match reference.map(|r| &r.value) {
                Some(PortRef::Number(n)) => u16::try_from(*n).unwrap_or(container.low),
                _ => container.low,
            };
            PortTarget {
                name: port_name(p, container),
                number,
            }
        }
        Resolved::Unknown | Resolved::Ambiguous => PortTarget {
            name: String::new(),
            number: 0,
        },
    }
}

fn millis(value: Option<&Spanned<spec::Text>>) -> Option<u64> {
    value.and_then(|v| duration::parse_millis(v).ok())
}

fn health(s: &ServiceFacts, h: &spec::Health) -> Health {
    let check = if let Some(http) = &h.http {
        HealthCheck::Http {
            port: target(s, http.value.port.as_ref()),
            path: http.value.path.value.clone(),
        }
    } else if let Some(tcp) = &h.tcp {
        HealthCheck::Tcp {
            port: target(s, tcp.value.port.as_ref()),
        }
    } else if let Some(grpc) = &h.grpc {
        HealthCheck::Grpc {
            port: target(s, grpc.value.port.as_ref()),
            service: grpc.value.service.as_ref().map(|x| x.value.clone()),
        }
    } else {
        HealthCheck::Command {
            argv: h
                .command
                .as_ref()
                .map(|c| c.value.iter().map(|a| a.0.clone()).collect())
                .unwrap_or_default(),
        }
    };
    let default_probe = match check {
        HealthCheck::Tcp { .. } => Probe::Nc,
        HealthCheck::Grpc { .. } => Probe::GrpcHealthProbe,
        HealthCheck::Http { .. } | HealthCheck::Command { .. } => Probe::Wget,
    };
    Health {
        check,
        probe: h.probe.as_ref().map_or(default_probe, |p| p.value),
        interval_ms: millis(h.interval.as_ref()).unwrap_or(DEFAULT_INTERVAL_MS),
        timeout_ms: millis(h.timeout.as_ref()).unwrap_or(DEFAULT_TIMEOUT_MS),
        retries: h.retries.as_ref().map_or(DEFAULT_RETRIES, |r| r.value),
        start_period_ms: millis(h.start_period.as_ref()),
        liveness: h
            .liveness
            .as_ref()
            .map(|l| (target(s, l.value.port.as_ref()), l.value.path.value.clone())),
    }
}

fn metrics(s: &ServiceFacts, m: &spec::Metrics) -> Metrics {
    let full = m.path.as_ref().map_or("/metrics", |p| p.value.as_str());
    let (path, query) = full.split_once('?').unwrap_or((full, ""));
    let params = query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect();
    Metrics {
        port: target(s, m.port.as_ref()),
        path: path.to_owned(),
        params,
        http_requests: m.http_requests.as_ref().map(|c| {
            let label = m
                .http_status_label
                .as_ref()
                .map_or("code", |l| l.value.as_str());
            (c.value.clone(), label.to_owned())
        }),
        http_duration: m.http_duration.as_ref().map(|h| {
            let ms = m
                .p95_latency_ms
                .as_ref()
                .map_or(DEFAULT_P95_LATENCY_MS, |v| v.value);
            (h.value.clone(), ms)
        }),
        severity: m
            .severity
            .as_ref()
            .map_or(AlertSeverity::Critical, |s| s.value),
        http_severity: m
            .http_severity
            .as_ref()
            .map_or(AlertSeverity::Warning, |s| s.value),
    }
}

fn secrets(svc: &spec::Service) -> Vec<Secret> {
    svc.secrets
        .iter()
        .map(|(k, v)| Secret {
            env: k.value.clone(),
            name: v.value.secret().to_owned(),
            file_env: match &v.value {
                SecretRef::Detailed(SecretDetail {
                    file_env: Some(f), ..
                }) => f.value.clone(),
                _ => format!("{}_FILE", k.value),
            },
            delivery: match &v.value {
                SecretRef::Detailed(SecretDetail {
                    delivery: Some(d), ..
                }) => d.value,
                _ => SecretDelivery::File,
            },
        })
        .collect()
}

fn gateway(g: &spec::Gateway) -> Gateway {
    Gateway {
        rate_limit_per_minute: g.rate_limit_per_minute.as_ref().map(|r| r.value),
        auth: g.auth.as_ref().map(|a| a.value.clone()),
        consumers: g.consumers.iter().map(|c| c.value.clone()).collect(),
        cors: g.cors.as_ref().and_then(|c| match &c.value {
            Cors::Enabled(true) => Some(Vec::new()),
            Cors::Enabled(false) => None,
            Cors::Origins(o) => Some(o.clone()),
        }),
    }
}

fn resources(r: &spec::Resources) -> Resources {
    Resources {
        cpu_millis: r.cpu.as_ref().and_then(|c| quantity::cpu_millis(c).ok()),
        cpu: r.cpu.as_ref().map(|c| c.value.0.clone()),
        memory_bytes: r
            .memory
            .as_ref()
            .and_then(|m| quantity::memory_bytes(m).ok()),
        memory: r.memory.as_ref().map(|m| m.value.clone()),
    }
}

/// Ids the rules guarantee to be in range; anything else is dropped.
fn id(value: Option<&Spanned<i64>>) -> Option<u32> {
    value.and_then(|v| u32::try_from(v.value).ok())
}

fn security(sec: &spec::Security) -> Security {
    let flag = |f: &Option<Spanned<bool>>| f.as_ref().map(|b| b.value);
    Security {
        run_as_user: id(sec.run_as_user.as_ref()),
        run_as_group: id(sec.run_as_group.as_ref()),
        fs_group: id(sec.fs_group.as_ref()),
        read_only_root: flag(&sec.read_only_root).unwrap_or(true),
        writable: sec.writable.iter().map(|p| p.value.clone()).collect(),
        capabilities: sec.capabilities.iter().map(|c| c.value.clone()).collect(),
        root: flag(&sec.root).unwrap_or(false),
        reason: sec.reason.as_ref().map(|r| r.value.clone()),
        kubernetes_api: flag(&sec.kubernetes_api).unwrap_or(false),
        egress: sec
            .egress
            .iter()
            .map(|e| Egress {
                cidr: e.value.cidr.value.clone(),
                ports: e
                    .value
                    .ports
                    .iter()
                    .filter_map(|p| u16::try_from(p.value).ok())
                    .collect(),
            })
            .collect(),
    }
}

/// Names in spec order, each once.
fn unique(names: &[Spanned<String>]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in names {
        if !out.contains(&n.value) {
            out.push(n.value.clone());
        }
    }
    out
}

fn service(s: &ServiceFacts) -> Service {
    let svc = s.service();
    let depends_on = unique(&svc.depends_on);
    Service {
        name: s.name.value.clone(),
        phase: s.phase.unwrap_or(0),
        image: svc.image.value.clone(),
        command: svc
            .command
            .as_ref()
            .map(|c| c.value.iter().map(|a| a.0.clone()).collect()),
        entrypoint: svc
            .entrypoint
            .as_ref()
            .map(|c| c.value.iter().map(|a| a.0.clone()).collect()),
        kind: svc.kind.as_ref().map_or(WorkloadKind::Service, |k| k.value),
        schedule: svc.schedule.as_ref().map(|c| c.value.trim().to_owned()),
        strategy: svc.strategy.as_ref().map_or(Strategy::Rolling, |k| k.value),
        ports: s
            .ports
            .iter()
            .map(|p| {
                let container = p.container.unwrap_or(PortRange::single(0));
                Port {
                    name: port_name(p, container),
                    named: p.name().is_some(),
                    host: p.host,
                    container,
                    protocol: p.protocol,
                    bind: p.spec.bind.as_ref().map(|b| b.value.clone()),
                    public: exposure::exposure(
                        &svc.image.value,
                        p.name(),
                        p.spec.expose.as_ref().map(|e| e.value),
                    ) == Exposure::Public,
                }
            })
            .collect(),
        depends_on,
        connects_to: unique(&svc.connects_to),
        health: svc.health.as_ref().map(|h| health(s, &h.value)),
        metrics: svc.metrics.as_ref().map(|m| metrics(s, &m.value)),
        route: svc.route.as_ref().map(|r| Route {
            path: r.value.path.value.clone(),
            port: target(s, r.value.port.as_ref()),
            strip_prefix: r.value.strip_prefix.as_ref().is_some_and(|b| b.value),
            websocket: r.value.websocket.as_ref().is_some_and(|b| b.value),
        }),
        gateway: svc.gateway.as_ref().map(|g| gateway(&g.value)),
        env: svc
            .env
            .iter()
            .map(|(k, v)| (k.value.clone(), v.value.0.clone()))
            .collect(),
        secrets: secrets(svc),
        volumes: svc
            .volumes
            .iter()
            .map(|(k, v)| {
                let volume = Volume {
                    path: v.value.path(v.span).0.to_owned(),
                    size: v.value.size().map(|s| s.value.clone()),
                };
                (k.value.clone(), volume)
            })
            .collect(),
        replicas: svc.replicas.as_ref().map_or_else(
            || svc.autoscale.as_ref().map_or(1, |a| a.value.min.value),
            |r| r.value,
        ),
        autoscale: svc.autoscale.as_ref().map(|a| Autoscale {
            min: a.value.min.value,
            max: a.value.max.value,
            cpu_percent: a.value.cpu_percent.value,
        }),
        resources: svc
            .resources
            .as_ref()
            .map(|r| resources(&r.value))
            .unwrap_or_default(),
        security: svc
            .security
            .as_ref()
            .map(|x| security(&x.value))
            .unwrap_or_default(),
        init: svc.init.as_ref().is_some_and(|i| i.value),
        stop_signal: svc.stop_signal.as_ref().map(|x| x.value.clone()),
        stop_grace_period_ms: millis(svc.stop_grace_period.as_ref()),
    }
}

fn monitoring(m: Option<&spec::MonitoringSettings>) -> Monitoring {
    let text = |v: Option<&Spanned<spec::Text>>| v.map(|t| t.value.0.clone());
    let scrape_interval = text(m.and_then(|m| m.scrape_interval.as_ref()))
        .unwrap_or_else(|| DEFAULT_SCRAPE_INTERVAL.to_owned());
    let retention = m.and_then(|m| m.retention.as_ref()).map(|r| &r.value);
    Monitoring {
        scrape_interval_ms: duration::parse_prometheus_millis(&scrape_interval).unwrap_or(15_000),
        scrape_interval,
        evaluation_interval: text(m.and_then(|m| m.evaluation_interval.as_ref()))
            .unwrap_or_else(|| DEFAULT_SCRAPE_INTERVAL.to_owned()),
        retention_time: text(retention.and_then(|r| r.time.as_ref())),
        retention_size: retention.and_then(|r| r.size.as_ref().map(|s| s.value.clone())),
        runbook_url: m
            .and_then(|m| m.runbook_url.as_ref())
            .map(|u| u.value.trim_end_matches('/').to_owned()),
    }
}

fn alerting(a: &spec::AlertingSettings) -> Alerting {
    let name = |v: &Spanned<String>| v.value.clone();
    let receivers: Vec<Receiver> = a
        .receivers
        .iter()
        .map(|(n, r)| Receiver {
            name: n.value.clone(),
            email: r.value.email.as_ref().map(|e| Email {
                to: name(&e.value.to),
                from: name(&e.value.from),
                smarthost: name(&e.value.smarthost),
                username: e.value.username.as_ref().map(name),
                password: e.value.password.as_ref().map(name),
                require_tls: e.value.require_tls.as_ref().is_none_or(|b| b.value),
            }),
            slack: r.value.slack.as_ref().map(|s| Slack {
                webhook_url: name(&s.value.webhook_url),
                channel: name(&s.value.channel),
            }),
            pagerduty: r
                .value
                .pagerduty
                .as_ref()
                .map(|p| name(&p.value.routing_key)),
            webhook: r.value.webhook.as_ref().map(|w| Webhook {
                url: name(&w.value.url),
                bearer_token: w.value.bearer_token.as_ref().map(name),
            }),
        })
        .collect();
    let mut routes = Vec::new();
    if let Some(r) = &a.routes {
        for (severity, receiver) in [
            (AlertSeverity::Critical, &r.value.critical),
            (AlertSeverity::Warning, &r.value.warning),
            (AlertSeverity::Info, &r.value.info),
        ] {
            if let Some(receiver) = receiver {
                routes.push((severity, receiver.value.clone()));
            }
        }
    }
    Alerting {
        default: a.default.as_ref().map_or_else(
            || {
                receivers
                    .first()
                    .map(|r| r.name.clone())
                    .unwrap_or_default()
            },
            name,
        ),
        receivers,
        routes,
        heartbeat: a.heartbeat.as_ref().map(name),
    }
}

fn gateway_settings(g: Option<&spec::GatewaySettings>) -> GatewaySettings {
    let Some(g) = g else {
        return GatewaySettings {
            consumers: Vec::new(),
            trusted_ips: None,
            admin: AdminApi::Localhost,
        };
    };
    GatewaySettings {
        consumers: g
            .consumers
            .iter()
            .map(|(n, c)| {
                let c = &c.value;
                let mut credentials = Vec::new();
                if let Some(j) = &c.jwt {
                    credentials.push(Credential::Jwt {
                        issuer: j
                            .value
                            .issuer
                            .as_ref()
                            .map_or_else(|| n.value.clone(), |i| i.value.clone()),
                        algorithm: j
                            .value
                            .algorithm
                            .as_ref()
                            .map_or(JwtAlgorithm::RS256, |a| a.value),
                        public_key: j.value.public_key.value.clone(),
                    });
                }
                if let Some(k) = &c.key_auth {
                    credentials.push(Credential::KeyAuth {
                        key: k.value.key.value.clone(),
                    });
                }
                if let Some(b) = &c.basic_auth {
                    credentials.push(Credential::BasicAuth {
                        password: b.value.password.value.clone(),
                    });
                }
                if let Some(h) = &c.hmac_auth {
                    credentials.push(Credential::HmacAuth {
                        secret: h.value.secret.value.clone(),
                    });
                }
                Consumer {
                    name: n.value.clone(),
                    credentials,
                }
            })
            .collect(),
        trusted_ips: g
            .trusted_ips
            .as_ref()
            .map(|t| t.value.iter().map(|a| a.value.clone()).collect()),
        admin: g.admin.as_ref().map_or(AdminApi::Localhost, |a| a.value),
    }
}

/// Kahn's algorithm, always taking the earliest ready service in spec order,
/// so the order is stable and deterministic. The ready services wait in a
/// heap, so the order costs O(n log n), not O(n^2), for n services.
fn start_order(services: &[Service]) -> Vec<usize> {
    let index = name_index(services);
    let mut waiting: Vec<usize> = services
        .iter()
        .map(|s| {
            s.depends_on
                .iter()
                .filter(|d| index.contains_key(d.as_str()))
                .count()
        })
        .collect();
    // Who waits for whom: each dependent once per service it names.
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); services.len()];
    for (i, s) in services.iter().enumerate() {
        for (k, d) in s.depends_on.iter().enumerate() {
            if let Some(&j) = index.get(d.as_str())
                && !s.depends_on[..k].contains(d)
            {
                dependents[j].push(i);
            }
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> = (0..services.len())
        .filter(|&i| waiting[i] == 0)
        .map(Reverse)
        .collect();
    let mut done = vec![false; services.len()];
    let mut order = Vec::with_capacity(services.len());
    while let Some(Reverse(next)) = ready.pop() {
        done[next] = true;
        order.push(next);
        for &i in &dependents[next] {
            waiting[i] -= 1;
            if waiting[i] == 0 && !done[i] {
                ready.push(Reverse(i));
            }
        }
    }
    if order.len() < services.len() {
        // A cycle (the rules forbid it): append the rest in spec order.
        order.extend((0..services.len()).filter(|&i| !done[i]));
    }
    order
}

fn name_index(services: &[Service]) -> HashMap<String, usize> {
    let mut index =
        HashMap::with_capacity_and_hasher(services.len(), crate::collections::Hasher::default());
    for (i, s) in services.iter().enumerate() {
        index.entry(s.name.clone()).or_insert(i);
    }
    index
}

impl Platform {
    /// Builds the platform from a spec that passed every rule.
    pub fn from_spec(spec: &Spec) -> Self {
        let cx = Context::new(spec);
        let declared = !spec.phases.is_empty();
        let phases = if declared {
            cx.phases
                .keys()
                .map(|id| Phase {
                    id: (*id).to_owned(),
                    title: spec
                        .phases
                        .iter()
                        .find(|p| p.value.id.value.0 == *id)
                        .and_then(|p| p.value.title.clone()),
                })
                .collect()
        } else {
            vec![Phase {
                id: "default".to_owned(),
                title: None,
            }]
        };
        let mut services: Vec<Service> = cx.services.iter().map(service).collect();
        let start_order = start_order(&services);
        let role = |r: &Option<Spanned<String>>| r.as_ref().map(|n| n.value.clone());
        let roles = spec.roles.as_ref().map_or_else(Roles::default, |r| Roles {
            proxy: role(&r.proxy),
            monitoring: role(&r.monitoring),
            gateway: role(&r.gateway),
            dashboards: role(&r.dashboards),
            alerting: role(&r.alerting),
        });
        // Prometheus's Kubernetes discovery reads the API: the monitoring
        // role's pods get a service account token and may reach the API.
        if let Some(m) = services
            .iter_mut()
            .find(|s| roles.monitoring.as_deref() == Some(s.name.as_str()))
        {
            m.security.kubernetes_api = true;
        }
        Self {
            name: spec.name.value.clone(),
            domain: spec.domain.as_ref().map(|d| d.value.clone()),
            port_range: spec.ports.as_ref().and_then(|p| {
                Some(PortRange {
                    low: u16::try_from(p.range.value.0).ok()?,
                    high: u16::try_from(p.range.value.1).ok()?,
                })
            }),
            phases,
            phased: declared,
            roles,
            index: name_index(&services),
            services,
            start_order,
            monitoring: monitoring(spec.monitoring.as_ref().map(|m| &m.value)),
            alerting: spec.alerting.as_ref().map(|a| alerting(&a.value)),
            gateway: gateway_settings(spec.gateway.as_ref().map(|g| &g.value)),
            ingress: spec.ingress.as_ref().map(|i| Ingress {
                class: i.value.class.value.clone(),
                tls_secret: i.value.tls_secret.as_ref().map(|t| t.value.clone()),
                cert_manager_issuer: i
                    .value
                    .cert_manager_issuer
                    .as_ref()
                    .map(|t| t.value.clone()),
            }),
        }
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        self.index.get(name).map(|&i| &self.services[i])
    }

    /// Every secret any service reads, each once, sorted.
    pub fn secret_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .services
            .iter()
            .flat_map(|s| {
                s.secrets
                    .iter()
                    .map(|x| x.name.clone())
                    .chain(self.role_secrets(&s.name))
            })
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// The secrets a role's service reads as files for the generated config
    /// it runs (the alerting role's receiver credentials, the gateway's
    /// consumer credentials), each once, in spec order.
    pub fn role_secrets(&self, service: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut add = |name: &str| {
            if !out.iter().any(|n| n == name) {
                out.push(name.to_owned());
            }
        };
        if self.roles.alerting.as_deref() == Some(service)
            && let Some(a) = &self.alerting
        {
            for r in &a.receivers {
                r.secrets().into_iter().for_each(&mut add);
            }
        }
        if self.roles.gateway.as_deref() == Some(service) {
            for c in &self.gateway.consumers {
                for credential in &c.credentials {
                    add(credential.secret());
                }
            }
        }
        out
    }

    /// The platform as it stands after rolling out the phases up to and
    /// including `id`: later services are left out, and so are roles they
    /// held. `None` when there is no such phase.
    pub fn up_to_phase(&self, id: &str) -> Option<Platform> {
        let last = self.phases.iter().position(|p| p.id == id)?;
        let services: Vec<Service> = self
            .services
            .iter()
            .filter(|s| s.phase <= last)
            .cloned()
            .collect();
        let keep = |role: &Option<String>| {
            role.clone()
                .filter(|name| services.iter().any(|s| &s.name == name))
        };
        let roles = Roles {
            proxy: keep(&self.roles.proxy),
            monitoring: keep(&self.roles.monitoring),
            gateway: keep(&self.roles.gateway),
            dashboards: keep(&self.roles.dashboards),
            alerting: keep(&self.roles.alerting),
        };
        let start_order = start_order(&services);
        Some(Platform {
            phases: self.phases[..=last].to_vec(),
            index: name_index(&services),
            services,
            roles,
            start_order,
            ..self.clone()
        })
    }
}

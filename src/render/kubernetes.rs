//! Kubernetes: `kubernetes/namespace.yaml`, one `kubernetes/<service>.yaml`
//! per service, and `kubernetes/kustomization.yaml`, so that
//! `kubectl apply -k kubernetes/` applies the platform.
//!
//! Decisions made here, not in the templates:
//! - A service with volumes is a StatefulSet with one volume claim per
//!   volume (ReadWriteOnce, the spec's size or 1Gi); any other service is a
//!   Deployment.
//! - A Service exposes every container port (a range becomes one port per
//!   number, since Kubernetes has no port ranges); the proxy role's Service
//!   is a LoadBalancer, the platform's front door; every other one is
//!   ClusterIP.
//! - `health` becomes the readiness probe (httpGet, tcpSocket or exec) and
//!   the liveness probe, except that an `http` check is only a tcpSocket
//!   check for liveness (see [`liveness`]); `start_period` becomes a startup
//!   probe that allows that long.
//! - Environment values go into a ConfigMap `<service>-env`; secrets are
//!   `secretKeyRef`s into one Secret, `<platform>-secrets`, whose keys are the
//!   secret names. The Secret itself is the operator's:
//!   `kubectl create secret generic <platform>-secrets --from-file=secrets/`.
//! - `resources` are requests; memory is also the limit (a container that
//!   exceeds it is killed rather than starving its neighbours), CPU is not
//!   limited (a CPU limit only throttles).
//! - `autoscale` becomes an `autoscaling/v2` HorizontalPodAutoscaler, and the
//!   workload then leaves `replicas` to it.
//! - The pod template carries a hash of its environment, so a changed value
//!   rolls the pods on the next apply.
//! - Labels are the recommended `app.kubernetes.io/*` set.
//! - The generated configs are written again under `kubernetes/config/` (in
//!   their Kubernetes flavour: Nginx uses `upstream` blocks there), and the
//!   kustomization turns them into ConfigMaps (`platgen-nginx`, ...) whose
//!   names carry a hash of their contents, so a changed config rolls the
//!   pods that mount it. Each role's service mounts its files read-only at
//!   the same paths as under docker-compose.

use serde::Serialize;

use super::nginx::{self, Flavour};
use super::wiring::{self, Mount};
use super::{Engine, TemplateError, kong, prometheus};
use crate::duration;
use crate::model::{Health, HealthCheck, Platform, Service};
use crate::spec::Protocol;

/// Storage a volume claim requests when the spec gives no size.
pub const VOLUME_SIZE: &str = "1Gi";

/// What `kubernetes/service.yaml.j2` receives: one service's workload and
/// the objects around it.
#[derive(Debug, Serialize)]
pub struct Workload {
    pub name: String,
    pub namespace: String,
    /// `Deployment` or `StatefulSet`.
    pub kind: &'static str,
    /// All labels, in a fixed order.
    pub labels: Vec<Label>,
    /// The subset that selects the pods.
    pub selector: Vec<Label>,
    /// `None` when an autoscaler owns the count.
    pub replicas: Option<u32>,
    /// The ConfigMap holding `env`, when there is any.
    pub env_config_map: Option<String>,
    pub env: Vec<KeyValue>,
    /// The pod template, shared by every workload kind.
    pub pod: Pod,
    /// One claim per volume (StatefulSets only).
    pub volume_claims: Vec<VolumeClaim>,
    /// The Service's ports (ranges expanded).
    pub ports: Vec<K8sPort>,
    /// `ClusterIP` or `LoadBalancer`.
    pub service_type: &'static str,
    pub autoscale: Option<Autoscale>,
}

/// A pod template: what every workload kind (Deployment, StatefulSet, and
/// the Job kinds) runs. `kubernetes/pod.yaml.j2` lays it out.
#[derive(Debug, Serialize)]
pub struct Pod {
    pub labels: Vec<Label>,
    pub annotations: Vec<KeyValue>,
    pub containers: Vec<Container>,
    pub volumes: Vec<PodVolume>,
}

/// One container of a pod.
#[derive(Debug, Serialize)]
pub struct Container {
    pub name: String,
    pub image: String,
    /// Replaces the image's command (CMD), keeping its entrypoint.
    pub args: Option<Vec<String>>,
    pub ports: Vec<K8sPort>,
    /// The ConfigMap whose entries become the environment, if any.
    pub env_from: Option<String>,
    pub env: Vec<EnvVar>,
    pub requests: Vec<KeyValue>,
    pub limits: Vec<KeyValue>,
    pub startup: Option<Probe>,
    pub readiness: Option<Probe>,
    pub liveness: Option<Probe>,
    pub mounts: Vec<VolumeMount>,
}

/// A container's environment variable: a plain value, or a key of a Secret.
#[derive(Debug, Serialize)]
pub struct EnvVar {
    pub name: String,
    pub value: Option<String>,
    pub secret: Option<SecretKey>,
}

#[derive(Debug, Serialize)]
pub struct SecretKey {
    pub name: String,
    pub key: String,
}

#[derive(Debug, Serialize)]
pub struct VolumeMount {
    pub name: String,
    pub mount_path: String,
    /// Mounts one key of the volume as a file.
    pub sub_path: Option<String>,
    pub read_only: bool,
}

/// A volume of the pod (volume claims are the StatefulSet's, not here).
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PodVolume {
    /// A ConfigMap of generated configs.
    ConfigMap { name: String, config_map: String },
}

#[derive(Debug, Serialize)]
pub struct VolumeClaim {
    pub name: String,
    /// The storage the claim requests.
    pub size: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Label {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Serialize)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Serialize)]
pub struct K8sPort {
    /// At most 15 characters.
    pub name: String,
    pub number: u16,
    /// `TCP` or `UDP`.
    pub protocol: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Probe {
    /// `httpGet`, `tcpSocket` or `exec`.
    pub kind: &'static str,
    pub port: Option<u16>,
    pub path: Option<String>,
    pub command: Option<Vec<String>>,
    pub period_seconds: u64,
    pub timeout_seconds: u64,
    pub failure_threshold: u64,
}

#[derive(Debug, Serialize)]
pub struct Autoscale {
    pub min: u32,
    pub max: u32,
    pub cpu_percent: u32,
}

/// What `namespace.yaml.j2` and `kustomization.yaml.j2` receive.
#[derive(Debug, Serialize)]
pub struct Overview {
    pub namespace: String,
    pub labels: Vec<Label>,
    /// The manifest files, in the order `kubectl apply` should read them.
    pub resources: Vec<String>,
    /// The Secret that holds every secret the services read.
    pub secret_name: String,
    /// The secret names the operator must provide, sorted.
    pub secrets: Vec<String>,
    /// ConfigMaps generated from the files under `config/`.
    pub config_maps: Vec<ConfigMapFiles>,
}

#[derive(Debug, Serialize)]
pub struct ConfigMapFiles {
    pub name: String,
    /// `key=path` entries, paths relative to `kubernetes/`.
    pub files: Vec<String>,
}

fn protocol(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "TCP",
        Protocol::Udp => "UDP",
    }
}

/// Whether `value` is a valid label value.
fn label_value(value: &str) -> bool {
    value.len() <= 63
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && (value.is_empty()
            || value.starts_with(|c: char| c.is_ascii_alphanumeric())
                && value.ends_with(|c: char| c.is_ascii_alphanumeric()))
}

fn image_tag(image: &str) -> Option<&str> {
    crate::check::unpinned_image::tag(image).filter(|t| label_value(t))
}

/// The name of the Secret that holds the platform's secrets.
pub fn secret_name(platform: &Platform) -> String {
    format!("{}-secrets", platform.name)
}

fn selector(platform: &Platform, s: &Service) -> Vec<Label> {
    vec![
        Label {
            key: "app.kubernetes.io/name".into(),
            value: s.name.clone(),
        },
        Label {
            key: "app.kubernetes.io/part-of".into(),
            value: platform.name.clone(),
        },
    ]
}

fn labels(platform: &Platform, s: &Service) -> Vec<Label> {
    let mut labels = selector(platform, s);
    labels.insert(
        1,
        Label {
            key: "app.kubernetes.io/instance".into(),
            value: s.name.clone(),
        },
    );
    if let Some(tag) = image_tag(&s.image) {
        labels.push(Label {
            key: "app.kubernetes.io/version".into(),
            value: tag.to_owned(),
        });
    }
    labels.push(Label {
        key: "app.kubernetes.io/managed-by".into(),
        value: "platgen".into(),
    });
    if platform.phased {
        labels.push(Label {
            key: "platgen/phase".into(),
            value: platform.phases[s.phase].id.clone(),
        });
    }
    labels
}

/// A port name of at most 15 characters for port `number` of a range named
/// `name`.
fn range_port_name(name: &str, number: u16) -> String {
    let suffix = format!("-{number}");
    let room = 15 - suffix.len();
    let head: String = name.chars().take(room).collect();
    format!("{}{suffix}", head.trim_end_matches('-'))
}

fn ports(s: &Service) -> Vec<K8sPort> {
    let mut out = Vec::new();
    for p in &s.ports {
        if p.container.is_single() {
            out.push(K8sPort {
                name: p.name.clone(),
                number: p.container.low,
                protocol: protocol(p.protocol),
            });
        } else {
            for number in p.container.low..=p.container.high {
                out.push(K8sPort {
                    name: range_port_name(&p.name, number),
                    number,
                    protocol: protocol(p.protocol),
                });
            }
        }
    }
    out
}

fn probe(health: &Health, failure_threshold: u64) -> Probe {
    let (kind, port, path, command) = match &health.check {
        HealthCheck::Http { port, path } => {
            ("httpGet", Some(port.number), Some(path.clone()), None)
        }
        HealthCheck::Tcp { port } => ("tcpSocket", Some(port.number), None, None),
        HealthCheck::Command { argv } => ("exec", None, None, Some(argv.clone())),
    };
    Probe {
        kind,
        port,
        path,
        command,
        period_seconds: duration::ceil_seconds(health.interval_ms, 1),
        timeout_seconds: duration::ceil_seconds(health.timeout_ms, 1),
        failure_threshold,
    }
}

/// The liveness probe: for an `http` check, only that the port accepts
/// connections. A health endpoint often reports the service's dependencies
/// too; as a liveness probe it would restart every service whenever one
/// shared dependency fails. Readiness keeps the full check.
fn liveness(health: &Health, failure_threshold: u64) -> Probe {
    let mut p = probe(health, failure_threshold);
    if p.kind == "httpGet" {
        p.kind = "tcpSocket";
        p.path = None;
    }
    p
}

/// FNV-1a, 64 bits: a stable fingerprint (not a security measure).
pub fn fingerprint(parts: &[&str]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

/// Requests of what the spec says; memory is also the limit.
fn requests_and_limits(s: &Service) -> (Vec<KeyValue>, Vec<KeyValue>) {
    let mut requests = Vec::new();
    let mut limits = Vec::new();
    if let Some(cpu) = &s.resources.cpu {
        requests.push(KeyValue {
            key: "cpu".into(),
            value: cpu.clone(),
        });
    }
    if let Some(memory) = &s.resources.memory {
        requests.push(KeyValue {
            key: "memory".into(),
            value: memory.clone(),
        });
        limits.push(KeyValue {
            key: "memory".into(),
            value: memory.clone(),
        });
    }
    (requests, limits)
}

/// Changes whenever the pod's environment does, so the pods roll.
fn config_hash(s: &Service) -> String {
    let mut hashed: Vec<&str> = Vec::new();
    for (k, v) in &s.env {
        hashed.push(k);
        hashed.push(v);
    }
    for x in &s.secrets {
        hashed.push(&x.env);
        hashed.push(&x.name);
    }
    fingerprint(&hashed)
}

fn container(platform: &Platform, mine: &[&Mount], s: &Service) -> Container {
    let secret = secret_name(platform);
    let env: Vec<EnvVar> = s
        .secrets
        .iter()
        .map(|x| EnvVar {
            name: x.env.clone(),
            value: None,
            secret: Some(SecretKey {
                name: secret.clone(),
                key: x.name.clone(),
            }),
        })
        .collect();
    let retries = u64::from(s.health.as_ref().map_or(3, |h| h.retries.max(1)));
    let startup = s.health.as_ref().and_then(|h| {
        let period = h.interval_ms.max(1);
        h.start_period_ms
            .map(|start| probe(h, start.div_ceil(period) + retries))
    });
    let (requests, limits) = requests_and_limits(s);
    let mut mounts: Vec<VolumeMount> = s
        .volumes
        .iter()
        .map(|(name, v)| VolumeMount {
            name: name.clone(),
            mount_path: v.path.clone(),
            sub_path: None,
            read_only: false,
        })
        .collect();
    mounts.extend(mine.iter().map(|m| VolumeMount {
        name: m.config_map.to_owned(),
        mount_path: m.path.clone(),
        sub_path: Some(m.key.to_owned()),
        read_only: true,
    }));
    Container {
        name: s.name.clone(),
        image: s.image.clone(),
        args: s.command.clone(),
        ports: ports(s),
        env_from: (!s.env.is_empty()).then(|| env_config_map(s)),
        env,
        requests,
        limits,
        startup,
        readiness: s.health.as_ref().map(|h| probe(h, retries)),
        liveness: s.health.as_ref().map(|h| liveness(h, retries)),
        mounts,
    }
}

/// The ConfigMap that holds a service's `env`.
fn env_config_map(s: &Service) -> String {
    format!("{}-env", s.name)
}

fn pod(platform: &Platform, mounts: &[Mount], s: &Service) -> Pod {
    let mine: Vec<&Mount> = mounts.iter().filter(|m| m.service == s.name).collect();
    let mut config_maps: Vec<&str> = mine.iter().map(|m| m.config_map).collect();
    config_maps.dedup();
    Pod {
        labels: labels(platform, s),
        annotations: vec![KeyValue {
            key: "platgen/config-hash".into(),
            value: config_hash(s),
        }],
        containers: vec![container(platform, &mine, s)],
        volumes: config_maps
            .iter()
            .map(|c| PodVolume::ConfigMap {
                name: (*c).to_owned(),
                config_map: (*c).to_owned(),
            })
            .collect(),
    }
}

fn workload(platform: &Platform, mounts: &[Mount], s: &Service) -> Workload {
    Workload {
        name: s.name.clone(),
        namespace: platform.name.clone(),
        kind: if s.volumes.is_empty() {
            "Deployment"
        } else {
            "StatefulSet"
        },
        labels: labels(platform, s),
        selector: selector(platform, s),
        replicas: s.autoscale.is_none().then_some(s.replicas),
        env_config_map: (!s.env.is_empty()).then(|| env_config_map(s)),
        env: s
            .env
            .iter()
            .map(|(k, v)| KeyValue {
                key: k.clone(),
                value: v.clone(),
            })
            .collect(),
        pod: pod(platform, mounts, s),
        volume_claims: s
            .volumes
            .iter()
            .map(|(name, v)| VolumeClaim {
                name: name.clone(),
                size: v.size.clone().unwrap_or_else(|| VOLUME_SIZE.to_owned()),
            })
            .collect(),
        ports: ports(s),
        service_type: if platform.roles.proxy.as_deref() == Some(s.name.as_str()) {
            "LoadBalancer"
        } else {
            "ClusterIP"
        },
        autoscale: s.autoscale.map(|a| Autoscale {
            min: a.min,
            max: a.max,
            cpu_percent: a.cpu_percent,
        }),
    }
}

/// The generated configs in their Kubernetes flavour, under
/// `kubernetes/config/`, from which the kustomization makes ConfigMaps.
fn configs(platform: &Platform, engine: &Engine) -> Result<Vec<(String, String)>, TemplateError> {
    let mut files = Vec::new();
    if let Some(conf) = nginx::render_conf(platform, engine, Flavour::Kubernetes)? {
        files.push(("kubernetes/config/nginx.conf".to_owned(), conf));
    }
    files.extend(prometheus::render_files(
        platform,
        engine,
        Some("kubernetes/config"),
    )?);
    if let Some(conf) = kong::render_conf(platform, engine)? {
        files.push(("kubernetes/config/kong.yml".to_owned(), conf));
    }
    Ok(files)
}

/// Renders the namespace, one manifest per service, the generated configs
/// and the kustomization.
pub fn render(
    platform: &Platform,
    engine: &Engine,
) -> Result<Vec<(String, String)>, TemplateError> {
    let mounts = wiring::mounts(platform);
    let mut files = configs(platform, engine)?;
    let mut config_maps: Vec<ConfigMapFiles> = Vec::new();
    for m in &mounts {
        let entry = format!("{}={}", m.key, m.kubernetes_file);
        match config_maps.iter_mut().find(|c| c.name == m.config_map) {
            Some(c) => c.files.push(entry),
            None => config_maps.push(ConfigMapFiles {
                name: m.config_map.to_owned(),
                files: vec![entry],
            }),
        }
    }
    let mut resources = vec!["namespace.yaml".to_owned()];
    for s in &platform.services {
        let w = workload(platform, &mounts, s);
        let file = format!("{}.yaml", s.name);
        files.push((
            format!("kubernetes/{file}"),
            engine.render("kubernetes/service.yaml.j2", &w)?,
        ));
        resources.push(file);
    }
    let secrets = platform.secret_names();
    let cx = Overview {
        namespace: platform.name.clone(),
        labels: vec![
            Label {
                key: "app.kubernetes.io/part-of".into(),
                value: platform.name.clone(),
            },
            Label {
                key: "app.kubernetes.io/managed-by".into(),
                value: "platgen".into(),
            },
        ],
        resources,
        secret_name: secret_name(platform),
        secrets,
        config_maps,
    };
    files.push((
        "kubernetes/namespace.yaml".to_owned(),
        engine.render("kubernetes/namespace.yaml.j2", &cx)?,
    ));
    files.push((
        "kubernetes/kustomization.yaml".to_owned(),
        engine.render("kubernetes/kustomization.yaml.j2", &cx)?,
    ));
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_port_names_fit_in_15_characters() {
        assert_eq!(range_port_name("nodes", 7000), "nodes-7000");
        assert_eq!(range_port_name("abcdefghijklmno", 65535), "abcdefghi-65535");
        assert!(range_port_name("abcdefgh-jklmno", 7000).len() <= 15);
        assert!(!range_port_name("abcdefghi-klmno", 7000).contains("--"));
    }

    #[test]
    fn label_values() {
        assert!(label_value("16.6-alpine"));
        assert!(label_value("v2.55.1"));
        assert!(!label_value("-x"));
        assert!(!label_value(&"a".repeat(64)));
    }

    #[test]
    fn fingerprint_is_stable_and_separates_parts() {
        assert_eq!(fingerprint(&["a", "b"]), fingerprint(&["a", "b"]));
        assert_ne!(fingerprint(&["ab", ""]), fingerprint(&["a", "b"]));
    }
}

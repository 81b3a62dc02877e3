//! Kubernetes: `kubernetes/namespace.yaml`, one `kubernetes/<service>.yaml`
//! per service, and `kubernetes/kustomization.yaml`, so that
//! `kubectl apply -k kubernetes/` applies the platform.
//!
//! Decisions made here, not in the templates:
//! - A service with volumes is a StatefulSet with one volume claim per
//!   volume (ReadWriteOnce, the spec's size or 1Gi) and a headless
//!   governing Service, `<service>-headless` (its `serviceName`), besides
//!   the ClusterIP Service that clients use; any other service is a
//!   Deployment, one with `strategy: recreate` of type `Recreate`.
//! - A `job` is a Job, a `cronjob` a CronJob (`concurrencyPolicy: Forbid`),
//!   with [`JOB_BACKOFF_LIMIT`] retries, pods that are not restarted in
//!   place (`restartPolicy: Never`: a failed attempt keeps its logs), and
//!   [`JOB_TTL_SECONDS`] before Kubernetes deletes the finished Job. They
//!   have no Service, PodDisruptionBudget or autoscaler; each volume is a
//!   PersistentVolumeClaim of its own, `<service>-<volume>`.
//! - A Service exposes every container port (a range becomes one port per
//!   number, since Kubernetes has no port ranges); the proxy role's Service
//!   is a LoadBalancer, the platform's front door (unless all its ports are
//!   internal); every other one is ClusterIP. No route leads to an internal
//!   port (the `internal-port` rule).
//! - `health` becomes the readiness probe (httpGet, tcpSocket or exec) and
//!   the liveness probe, except that an `http` check is only a tcpSocket
//!   check for liveness (see [`liveness`]), and `health.liveness`, when
//!   given, is an httpGet liveness probe of its own; `start_period` becomes a startup
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
//! - With an `ingress`, `kubernetes/ingress.yaml` is a
//!   `networking.k8s.io/v1` Ingress of the spec's class that sends every
//!   route's path (Prefix) to the proxy role's Service, on `domain`, with
//!   TLS from `tls_secret` and cert-manager's `cluster-issuer` annotation
//!   when the spec names an issuer; the proxy's Service is then ClusterIP.
//!   No route leads to an internal port, so the Ingress never does either.
//! - The pod template carries a hash of its environment, so a changed value
//!   rolls the pods on the next apply.
//! - Labels are the recommended `app.kubernetes.io/*` set.
//! - The generated configs are written again under `kubernetes/config/` (in
//!   their Kubernetes flavour: Nginx uses `upstream` blocks there), and the
//!   kustomization turns them into ConfigMaps (`platgen-nginx`, ...) whose
//!   names carry a hash of their contents, so a changed config rolls the
//!   pods that mount it. Each role's service mounts its files read-only at
//!   the same paths as under docker-compose. The pod template's
//!   `platgen/config-hash` covers those files too.
//! - The monitoring role's pods run as a ServiceAccount of their own, which
//!   a Role and RoleBinding (`<service>.rbac.yaml`) allow to read the
//!   namespace's Services, Pods and EndpointSlices: what Prometheus's
//!   Kubernetes discovery reads. Nothing else gets API access.
//! - Secret files a role's generated config names (receiver and consumer
//!   credentials) are mounted like the service's own secret files;
//!   `command` and `args` follow [`wiring::launch`] (Prometheus's retention
//!   flags, Kong's credentials script), and the gateway gets the
//!   environment of [`wiring::gateway_env`].

use minijinja::Value;
use serde::Serialize;

use super::network_policy::{self, Policy, PolicyPort};
use super::nginx::{self, Flavour};
use super::traffic;
use super::wiring::{self, Mount, role};
use super::{Engine, RenderError, TemplateError, kong, prometheus};
use crate::duration;
use crate::model::{Health, HealthCheck, JOB_BACKOFF_LIMIT, JOB_TTL_SECONDS, Platform, Service};
use crate::spec::{Protocol, SecretDelivery, Strategy, WorkloadKind};

/// Storage a volume claim requests when the spec gives no size.
pub const VOLUME_SIZE: &str = "1Gi";

/// Where secret files are, under docker-compose and Kubernetes alike.
pub const SECRETS_DIR: &str = "/run/secrets";

/// Where Kubernetes clients look for the service account token.
pub const TOKEN_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// File mode of secret and token files: readable, not writable.
pub const READ_ONLY_MODE: u32 = 0o444;

/// How long a projected token lives; the kubelet renews it before then.
pub const TOKEN_SECONDS: u32 = 3607;

/// Names of the pod volumes platgen adds.
const SECRETS_VOLUME: &str = "platgen-secrets";
const TOKEN_VOLUME: &str = "kube-api-access";

/// What `kubernetes/service.yaml.j2` receives: one service's workload and
/// the objects around it.
#[derive(Debug, Serialize)]
pub struct Workload {
    pub name: String,
    pub namespace: String,
    /// `Deployment`, `StatefulSet`, `Job` or `CronJob`.
    pub kind: &'static str,
    /// A Deployment that stops its pod before starting the new one.
    pub recreate: bool,
    /// The StatefulSet's headless governing Service (`serviceName`).
    pub headless_service: Option<String>,
    /// What a Job or CronJob needs besides its pod.
    pub job: Option<JobSettings>,
    /// Volume claims of their own, for a Job or CronJob's volumes (a
    /// StatefulSet has `volume_claims` templates instead).
    pub claims: Vec<Claim>,
    /// All labels, in a fixed order: a list of [`Label`]s, made into a
    /// template value once for the workload and its pod (see [`shared`]).
    pub labels: Value,
    /// The subset that selects the pods, likewise shared.
    pub selector: Value,
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
    /// The PodDisruptionBudget's `maxUnavailable`, for a service that runs
    /// more than one pod.
    pub disruption_budget: Option<u32>,
    pub network_policy: Policy,
}

/// A Job's retry and clean-up settings, and a CronJob's schedule.
#[derive(Debug, Serialize)]
pub struct JobSettings {
    pub backoff_limit: u32,
    pub ttl_seconds: u32,
    /// The CronJob's schedule.
    pub schedule: Option<String>,
}

/// A PersistentVolumeClaim of its own.
#[derive(Debug, Serialize)]
pub struct Claim {
    /// `<service>-<volume>`.
    pub name: String,
    /// The spec's volume name.
    pub volume: String,
    pub size: String,
}

/// A pod template: what every workload kind (Deployment, StatefulSet, and
/// the Job kinds) runs. `kubernetes/pod.yaml.j2` lays it out.
#[derive(Debug, Serialize)]
pub struct Pod {
    /// The workload's labels (a list of [`Label`]s).
    pub labels: Value,
    pub annotations: Vec<KeyValue>,
    /// The ServiceAccount the pod runs as; `None` for the namespace's
    /// default one.
    pub service_account: Option<String>,
    /// Always false: a pod that calls the API gets its token as a projected
    /// volume instead (see [`PodVolume::ServiceAccountToken`]).
    pub automount_service_account_token: bool,
    /// `Never` for a Job's pods (a failed attempt stays, with its logs, and
    /// the Job starts a new pod); `None` (Always) otherwise.
    pub restart_policy: Option<&'static str>,
    /// `init: true`: the pod's pause process is PID 1 (it reaps zombies, and
    /// the service's process gets the default signal handlers).
    pub share_process_namespace: bool,
    /// `stop_grace_period`, in whole seconds.
    pub termination_grace_period_seconds: Option<u64>,
    pub security: PodSecurity,
    /// Spread over nodes and zones (services with more than one pod).
    pub spread: Vec<Spread>,
    pub containers: Vec<Container>,
    pub volumes: Vec<PodVolume>,
}

/// The pod's `securityContext`.
#[derive(Debug, Serialize)]
pub struct PodSecurity {
    pub run_as_non_root: bool,
    pub run_as_user: Option<u32>,
    pub run_as_group: Option<u32>,
    pub fs_group: Option<u32>,
    /// `OnRootMismatch` with an `fs_group`: changing the owner of every file
    /// of a large volume on every start would delay it by minutes.
    pub fs_group_change_policy: Option<&'static str>,
    /// `RuntimeDefault`.
    pub seccomp_profile: &'static str,
    pub sysctls: Vec<KeyValue>,
}

/// A `topologySpreadConstraints` entry.
#[derive(Debug, Serialize)]
pub struct Spread {
    pub topology_key: &'static str,
    /// `ScheduleAnyway`: a cluster without zones, or with fewer nodes than
    /// pods, still runs every pod.
    pub when_unsatisfiable: &'static str,
    /// The workload's selector (a list of [`Label`]s).
    pub selector: Value,
}

/// A container's `securityContext`.
#[derive(Debug, Serialize)]
pub struct ContainerSecurity {
    pub allow_privilege_escalation: bool,
    pub read_only_root_filesystem: bool,
    pub drop: Vec<&'static str>,
    pub add: Vec<String>,
}

/// What `kubernetes/rbac.yaml.j2` receives: the monitoring role's API
/// access.
#[derive(Debug, Serialize)]
pub struct Rbac {
    pub name: String,
    pub namespace: String,
    pub labels: Vec<Label>,
}

/// One container of a pod.
#[derive(Debug, Serialize)]
pub struct Container {
    pub name: String,
    pub image: String,
    /// Replaces the image's entrypoint (ENTRYPOINT).
    pub command: Option<Vec<String>>,
    /// Replaces the image's command (CMD).
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
    pub security: ContainerSecurity,
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
    /// Scratch space for a writable path.
    EmptyDir { name: String },
    /// A volume claim of the pod's own (a Job's or CronJob's volume).
    Claim { name: String, claim: String },
    /// Keys of the platform's Secret, as files.
    Secret {
        name: String,
        secret: String,
        keys: Vec<String>,
        /// `0444` as a number (YAML readers disagree about octal).
        default_mode: u32,
    },
    /// A short-lived token for the Kubernetes API, with the cluster's CA
    /// and the namespace: what automounting would give, stated explicitly.
    ServiceAccountToken {
        name: String,
        expiration_seconds: u32,
        default_mode: u32,
    },
}

#[derive(Debug, Serialize)]
pub struct VolumeClaim {
    pub name: String,
    /// The storage the claim requests.
    pub size: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    /// `httpGet`, `tcpSocket`, `grpc` or `exec`.
    pub kind: &'static str,
    pub port: Option<u16>,
    pub path: Option<String>,
    /// The gRPC health service name.
    pub service: Option<String>,
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

/// What `kubernetes/ingress.yaml.j2` receives.
#[derive(Debug, Serialize)]
pub struct IngressContext {
    pub name: String,
    pub namespace: String,
    pub labels: Vec<Label>,
    pub annotations: Vec<KeyValue>,
    pub class: String,
    /// The platform's domain; `None` for any host.
    pub host: Option<String>,
    pub tls_secret: Option<String>,
    /// Every route's path, in spec order.
    pub paths: Vec<String>,
    /// The proxy role's Service and port.
    pub backend: String,
    pub port: u16,
}

/// The labels of what belongs to the whole platform rather than a service.
fn platform_labels(platform: &Platform) -> Vec<Label> {
    vec![
        Label {
            key: "app.kubernetes.io/part-of".into(),
            value: platform.name.clone(),
        },
        Label {
            key: "app.kubernetes.io/managed-by".into(),
            value: "platgen".into(),
        },
    ]
}

/// The Ingress in front of the proxy: every route's path, to the proxy's
/// first tcp port; `None` without an `ingress`, a proxy or a route.
pub fn ingress(platform: &Platform) -> Option<IngressContext> {
    let spec = platform.ingress.as_ref()?;
    let proxy = role(platform, platform.roles.proxy.as_ref())?;
    let port = wiring::role_port(proxy)?;
    let paths: Vec<String> = platform
        .services
        .iter()
        .filter_map(|s| s.route.as_ref().map(|r| r.path.clone()))
        .collect();
    if paths.is_empty() {
        return None;
    }
    Some(IngressContext {
        name: platform.name.clone(),
        namespace: platform.name.clone(),
        labels: platform_labels(platform),
        annotations: spec
            .cert_manager_issuer
            .iter()
            .map(|issuer| KeyValue {
                key: "cert-manager.io/cluster-issuer".into(),
                value: issuer.clone(),
            })
            .collect(),
        class: spec.class.clone(),
        host: platform.domain.clone(),
        tls_secret: spec.tls_secret.clone(),
        paths,
        backend: proxy.name.clone(),
        port,
    })
}

/// What `namespace.yaml.j2` and `kustomization.yaml.j2` receive.
#[derive(Debug, Serialize)]
pub struct Overview {
    pub namespace: String,
    pub labels: Vec<Label>,
    /// The namespace's labels: `labels` and the Pod Security Admission
    /// levels.
    pub namespace_labels: Vec<Label>,
    /// The ports every pod may reach for DNS.
    pub dns_ports: Vec<PolicyPort>,
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
pub fn range_port_name(name: &str, number: u16) -> String {
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
    let mut p = Probe {
        kind: "exec",
        port: None,
        path: None,
        service: None,
        command: None,
        period_seconds: duration::ceil_seconds(health.interval_ms, 1),
        timeout_seconds: duration::ceil_seconds(health.timeout_ms, 1),
        failure_threshold,
    };
    match &health.check {
        HealthCheck::Http { port, path } => {
            p.kind = "httpGet";
            p.port = Some(port.number);
            p.path = Some(path.clone());
        }
        HealthCheck::Tcp { port } => {
            p.kind = "tcpSocket";
            p.port = Some(port.number);
        }
        HealthCheck::Grpc { port, service } => {
            p.kind = "grpc";
            p.port = Some(port.number);
            p.service.clone_from(service);
        }
        HealthCheck::Command { argv } => p.command = Some(argv.clone()),
    }
    p
}

/// The liveness probe: for an `http` or `grpc` check, only that the port
/// accepts connections. A health endpoint often reports the service's
/// dependencies too; as a liveness probe it would restart every service
/// whenever one shared dependency fails. Readiness keeps the full check.
fn liveness(health: &Health, failure_threshold: u64) -> Probe {
    let mut p = probe(health, failure_threshold);
    if let Some((port, path)) = &health.liveness {
        p.kind = "httpGet";
        p.port = Some(port.number);
        p.path = Some(path.clone());
        p.command = None;
        p.service = None;
    } else if matches!(p.kind, "httpGet" | "grpc") {
        p.kind = "tcpSocket";
        p.path = None;
        p.service = None;
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

/// The service's environment: the spec's, and what its role needs.
fn environment(platform: &Platform, s: &Service) -> Vec<KeyValue> {
    s.env
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .chain(wiring::gateway_env(platform, s))
        .map(|(key, value)| KeyValue { key, value })
        .collect()
}

/// Changes whenever the pod's configuration does, so the pods roll: its
/// environment, secrets, and the generated configs it mounts (kustomize
/// renames their ConfigMaps when they change; the hash says so on the pod
/// template as well).
fn config_hash(
    platform: &Platform,
    s: &Service,
    mine: &[&Mount],
    configs: &[(String, String)],
) -> String {
    let env = environment(platform, s);
    let mut hashed: Vec<&str> = Vec::new();
    for e in &env {
        hashed.push(&e.key);
        hashed.push(&e.value);
    }
    for x in &s.secrets {
        hashed.push(&x.env);
        hashed.push(&x.name);
    }
    for m in mine {
        let path = format!("kubernetes/{}", m.kubernetes_file);
        if let Some((_, contents)) = configs.iter().find(|(p, _)| *p == path) {
            hashed.push(m.key);
            hashed.push(contents);
        }
    }
    let role_secrets = platform.role_secrets(&s.name);
    hashed.extend(role_secrets.iter().map(String::as_str));
    fingerprint(&hashed)
}

/// The [`config_hash`] of each service that mounts a generated config, by
/// service name; a service that mounts none has the hash of its
/// environment and secrets alone.
type ConfigHashes = crate::collections::HashMap<String, String>;

fn config_hashes(
    platform: &Platform,
    mounting: &[&Service],
    mounts: &[Mount],
    configs: &[(String, String)],
) -> ConfigHashes {
    mounting
        .iter()
        .map(|s| {
            let hash = config_hash(platform, s, &mounts_of(mounts, s), configs);
            (s.name.clone(), hash)
        })
        .collect()
}

/// The generated configs `s` mounts.
fn mounts_of<'m>(mounts: &'m [Mount], s: &Service) -> Vec<&'m Mount> {
    mounts.iter().filter(|m| m.service == s.name).collect()
}

/// Whether the service runs more than one pod (and so gets a disruption
/// budget and is spread over nodes and zones).
pub fn runs_several(s: &Service) -> bool {
    s.autoscale.is_some() || s.replicas > 1
}

/// The volume name of a scratch path: `scratch-` and the path as a DNS
/// label, numbered when two paths would give the same name.
fn scratch_names(paths: &[String]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for path in paths {
        let mut label: String = path
            .trim_matches('/')
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        while label.contains("--") {
            label = label.replace("--", "-");
        }
        let base: String = format!("scratch-{}", label.trim_matches('-'))
            .chars()
            .take(56)
            .collect();
        let base = base.trim_end_matches('-').to_owned();
        let mut name = base.clone();
        let mut n = 2;
        while names.contains(&name) {
            name = format!("{base}-{n}");
            n += 1;
        }
        names.push(name);
    }
    names
}

/// The lowest container port below 1024 of a service that does not run as
/// root: the pod lets unprivileged processes bind from there
/// (`net.ipv4.ip_unprivileged_port_start`, a sysctl Kubernetes counts as
/// safe). Adding `NET_BIND_SERVICE` would not do: Kubernetes cannot give a
/// non-root process a capability its binary does not carry.
pub fn unprivileged_port_start(s: &Service) -> Option<u16> {
    if s.security.root {
        return None;
    }
    s.ports
        .iter()
        .map(|p| p.container.low)
        .filter(|p| *p < 1024)
        .min()
}

fn pod_security(s: &Service) -> PodSecurity {
    let sec = &s.security;
    let fs_group = sec.volume_group();
    PodSecurity {
        run_as_non_root: !sec.root,
        run_as_user: if sec.root { Some(0) } else { sec.run_as_user },
        run_as_group: sec.run_as_group,
        fs_group,
        fs_group_change_policy: fs_group.map(|_| "OnRootMismatch"),
        seccomp_profile: "RuntimeDefault",
        sysctls: unprivileged_port_start(s)
            .map(|port| KeyValue {
                key: "net.ipv4.ip_unprivileged_port_start".into(),
                value: port.to_string(),
            })
            .into_iter()
            .collect(),
    }
}

/// The secrets the container reads as files, each once, in spec order,
/// then those its role's generated config names.
fn secret_files(platform: &Platform, s: &Service) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for x in &s.secrets {
        if x.delivery != SecretDelivery::Variable && !names.contains(&x.name) {
            names.push(x.name.clone());
        }
    }
    for name in platform.role_secrets(&s.name) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// The container's secret variables: the path of a secret file, or (for an
/// image that reads only the variable) the Secret's key itself.
fn secret_env(platform: &Platform, s: &Service) -> Vec<EnvVar> {
    let secret = secret_name(platform);
    s.secrets
        .iter()
        .filter(|x| x.delivery != SecretDelivery::Entrypoint)
        .map(|x| match x.delivery {
            SecretDelivery::File | SecretDelivery::Entrypoint => EnvVar {
                name: x.file_env.clone(),
                value: Some(format!("{SECRETS_DIR}/{}", x.name)),
                secret: None,
            },
            SecretDelivery::Variable => EnvVar {
                name: x.env.clone(),
                value: None,
                secret: Some(SecretKey {
                    name: secret.clone(),
                    key: x.name.clone(),
                }),
            },
        })
        .collect()
}

fn container(platform: &Platform, mine: &[&Mount], s: &Service) -> Container {
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
    let scratch = s.security.scratch_paths(&s.volumes);
    for (name, path) in scratch_names(&scratch).into_iter().zip(&scratch) {
        mounts.push(VolumeMount {
            name,
            mount_path: path.clone(),
            sub_path: None,
            read_only: false,
        });
    }
    // One file per secret, not the directory: a volume over /run/secrets
    // would leave no room for the service account token under /var/run
    // (the same directory in most images).
    for name in secret_files(platform, s) {
        mounts.push(VolumeMount {
            name: SECRETS_VOLUME.to_owned(),
            mount_path: format!("{SECRETS_DIR}/{name}"),
            sub_path: Some(name),
            read_only: true,
        });
    }
    if s.security.kubernetes_api {
        mounts.push(VolumeMount {
            name: TOKEN_VOLUME.to_owned(),
            mount_path: TOKEN_DIR.to_owned(),
            sub_path: None,
            read_only: true,
        });
    }
    let launch = wiring::launch(platform, s);
    Container {
        name: s.name.clone(),
        image: s.image.clone(),
        command: launch.entrypoint,
        args: launch.command,
        ports: ports(s),
        env_from: (!environment(platform, s).is_empty()).then(|| env_config_map(s)),
        env: secret_env(platform, s),
        requests,
        limits,
        startup,
        readiness: s.health.as_ref().map(|h| probe(h, retries)),
        liveness: s.health.as_ref().map(|h| liveness(h, retries)),
        security: ContainerSecurity {
            allow_privilege_escalation: false,
            read_only_root_filesystem: s.security.read_only_root,
            drop: vec!["ALL"],
            add: s.security.capabilities.clone(),
        },
        mounts,
    }
}

/// The ConfigMap that holds a service's `env`.
fn env_config_map(s: &Service) -> String {
    format!("{}-env", s.name)
}

/// The name of the claim that holds a Job's or CronJob's volume.
fn claim_name(s: &Service, volume: &str) -> String {
    format!("{}-{volume}", s.name)
}

fn pod_volumes(platform: &Platform, mine: &[&Mount], s: &Service) -> Vec<PodVolume> {
    let mut config_maps: Vec<&str> = mine.iter().map(|m| m.config_map).collect();
    config_maps.dedup();
    let mut volumes: Vec<PodVolume> = config_maps
        .iter()
        .map(|c| PodVolume::ConfigMap {
            name: (*c).to_owned(),
            config_map: (*c).to_owned(),
        })
        .collect();
    if s.runs_to_completion() {
        volumes.extend(s.volumes.keys().map(|v| PodVolume::Claim {
            name: v.clone(),
            claim: claim_name(s, v),
        }));
    }
    let scratch = s.security.scratch_paths(&s.volumes);
    volumes.extend(
        scratch_names(&scratch)
            .into_iter()
            .map(|name| PodVolume::EmptyDir { name }),
    );
    let files = secret_files(platform, s);
    if !files.is_empty() {
        volumes.push(PodVolume::Secret {
            name: SECRETS_VOLUME.to_owned(),
            secret: secret_name(platform),
            keys: files,
            default_mode: READ_ONLY_MODE,
        });
    }
    if s.security.kubernetes_api {
        volumes.push(PodVolume::ServiceAccountToken {
            name: TOKEN_VOLUME.to_owned(),
            expiration_seconds: TOKEN_SECONDS,
            default_mode: READ_ONLY_MODE,
        });
    }
    volumes
}

/// Labels made into a template value once, for the several places of a
/// manifest that write them: a value shared by the workload, its pod and
/// its spread constraints is serialized (and dropped) once rather than at
/// each of them.
fn shared(labels: &[Label]) -> Value {
    Value::from(minijinja::value::Serde(labels))
}

fn pod(
    platform: &Platform,
    mounts: &[Mount],
    hashes: &ConfigHashes,
    s: &Service,
    labels: &Value,
    selector: &Value,
) -> Pod {
    let mine = mounts_of(mounts, s);
    let mut annotations = vec![KeyValue {
        key: "platgen/config-hash".into(),
        value: hashes
            .get(&s.name)
            .cloned()
            .unwrap_or_else(|| config_hash(platform, s, &mine, &[])),
    }];
    if let Some(reason) = &s.security.reason {
        annotations.push(KeyValue {
            key: "platgen/security-reason".into(),
            value: reason.clone(),
        });
    }
    let spread = if runs_several(s) {
        ["kubernetes.io/hostname", "topology.kubernetes.io/zone"]
            .into_iter()
            .map(|topology_key| Spread {
                topology_key,
                when_unsatisfiable: "ScheduleAnyway",
                selector: selector.clone(),
            })
            .collect()
    } else {
        Vec::new()
    };
    Pod {
        labels: labels.clone(),
        annotations,
        // Prometheus's Kubernetes discovery reads the API as this account.
        service_account: (platform.roles.monitoring.as_deref() == Some(s.name.as_str()))
            .then(|| s.name.clone()),
        automount_service_account_token: false,
        restart_policy: s.runs_to_completion().then_some("Never"),
        share_process_namespace: s.init,
        termination_grace_period_seconds: s
            .stop_grace_period_ms
            .map(|ms| duration::ceil_seconds(ms, 0)),
        security: pod_security(s),
        spread,
        containers: vec![container(platform, &mine, s)],
        volumes: pod_volumes(platform, &mine, s),
    }
}

fn workload(
    platform: &Platform,
    mounts: &[Mount],
    hashes: &ConfigHashes,
    edges: &traffic::ByService<'_>,
    s: &Service,
) -> Workload {
    let labels = shared(&labels(platform, s));
    let selector = shared(&selector(platform, s));
    let env = environment(platform, s);
    Workload {
        name: s.name.clone(),
        namespace: platform.name.clone(),
        kind: workload_kind(s),
        recreate: s.strategy == Strategy::Recreate && s.volumes.is_empty(),
        headless_service: (workload_kind(s) == "StatefulSet").then(|| headless_name(&s.name)),
        job: s.runs_to_completion().then(|| JobSettings {
            backoff_limit: JOB_BACKOFF_LIMIT,
            ttl_seconds: JOB_TTL_SECONDS,
            schedule: s.schedule.clone(),
        }),
        claims: if s.runs_to_completion() {
            s.volumes
                .iter()
                .map(|(name, v)| Claim {
                    name: claim_name(s, name),
                    volume: name.clone(),
                    size: v.size.clone().unwrap_or_else(|| VOLUME_SIZE.to_owned()),
                })
                .collect()
        } else {
            Vec::new()
        },
        pod: pod(platform, mounts, hashes, s, &labels, &selector),
        labels,
        selector,
        replicas: s.autoscale.is_none().then_some(s.replicas),
        env_config_map: (!env.is_empty()).then(|| env_config_map(s)),
        env,
        volume_claims: s
            .volumes
            .iter()
            .filter(|_| !s.runs_to_completion())
            .map(|(name, v)| VolumeClaim {
                name: name.clone(),
                size: v.size.clone().unwrap_or_else(|| VOLUME_SIZE.to_owned()),
            })
            .collect(),
        ports: ports(s),
        service_type: if platform.roles.proxy.as_deref() == Some(s.name.as_str())
            && s.ports.iter().any(|p| p.public)
            && platform.ingress.is_none()
        {
            "LoadBalancer"
        } else {
            "ClusterIP"
        },
        autoscale: s.autoscale.map(|a| Autoscale {
            min: a.min,
            max: a.max,
            cpu_percent: a.cpu_percent,
        }),
        disruption_budget: runs_several(s).then_some(1),
        network_policy: network_policy::policy(platform, edges, s),
    }
}

/// The name of a StatefulSet's headless Service: `<service>-headless`,
/// the service name shortened so that the whole stays a DNS label.
pub fn headless_name(service: &str) -> String {
    const SUFFIX: &str = "-headless";
    let head: String = service.chars().take(63 - SUFFIX.len()).collect();
    format!("{}{SUFFIX}", head.trim_end_matches('-'))
}

/// The workload kind of a service: a Job or CronJob for what runs to
/// completion, a StatefulSet for a service with volumes, else a Deployment.
pub fn workload_kind(s: &Service) -> &'static str {
    match s.kind {
        WorkloadKind::Job => "Job",
        WorkloadKind::Cronjob => "CronJob",
        WorkloadKind::Service if s.volumes.is_empty() => "Deployment",
        WorkloadKind::Service => "StatefulSet",
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
        Flavour::Kubernetes,
    )?);
    files.extend(kong::render_files(platform, engine, Flavour::Kubernetes)?);
    Ok(files)
}

/// Capabilities the Pod Security Standards' baseline level allows to add.
const BASELINE_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// The strictest Pod Security Standard every pod of the platform meets, so
/// the namespace can enforce it: `restricted` when no container starts as
/// root and none adds a capability but `NET_BIND_SERVICE`; `baseline` when
/// the capabilities stay within baseline's list; else `privileged`.
pub fn pod_security_level(platform: &Platform) -> &'static str {
    let caps = || {
        platform
            .services
            .iter()
            .flat_map(|s| s.security.capabilities.iter())
    };
    if caps().any(|c| !BASELINE_CAPABILITIES.contains(&c.as_str())) {
        "privileged"
    } else if platform.services.iter().any(|s| s.security.root)
        || caps().any(|c| c != "NET_BIND_SERVICE")
    {
        "baseline"
    } else {
        "restricted"
    }
}

/// Renders one service's manifest and hands it to `put`.
pub type PerService<'a> = dyn Fn(&Service) -> Result<(), RenderError> + Sync + 'a;

/// The rest of the Kubernetes target's work before its overview: see
/// [`render_each`].
pub type First<'a> = dyn FnMut() -> Result<(), RenderError> + 'a;

/// Renders the namespace, one manifest per service, the generated configs
/// and the kustomization, handing each file to `put` as it is finished
/// (`(path, body)`, from any thread).
///
/// Most of it is made by `spread(services, per_service, first)`, which
/// calls `per_service` once for each of `services`, in any order and on any
/// threads, and `first` once, on its own thread; it returns `first`'s error
/// if it has one, else the first failing service's. `first` renders the
/// generated configs and then the manifests of the services that mount one
/// (their pods carry the configs' hash); `services` are all the others, so
/// that they need not wait for the configs.
pub fn render_each(
    platform: &Platform,
    engine: &Engine,
    put: &(dyn Fn(String, String) -> Result<(), RenderError> + Sync),
    spread: impl FnOnce(&[&Service], &PerService<'_>, &mut First<'_>) -> Result<(), RenderError>,
) -> Result<(), RenderError> {
    let mounts = wiring::mounts(platform);
    let all_edges = traffic::edges(platform);
    let edges = traffic::ByService::new(&all_edges);
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
    let monitoring = role(platform, platform.roles.monitoring.as_ref());
    // A dot, which no service name has, keeps it apart from `<service>.yaml`.
    let rbac_file = monitoring.map(|m| format!("{}.rbac.yaml", m.name));
    let ingress = ingress(platform);
    let mut resources = vec![
        "namespace.yaml".to_owned(),
        "network-policies.yaml".to_owned(),
    ];
    resources.extend(rbac_file.clone());
    resources.extend(ingress.is_some().then(|| "ingress.yaml".to_owned()));
    let manifest = |s: &Service, hashes: &ConfigHashes| {
        let w = workload(platform, &mounts, hashes, &edges, s);
        let body = engine.render("kubernetes/service.yaml.j2", &w)?;
        put(format!("kubernetes/{}.yaml", s.name), body)
    };
    let (mounting, others): (Vec<&Service>, Vec<&Service>) = platform
        .services
        .iter()
        .partition(|s| mounts.iter().any(|m| m.service == s.name));
    let mut first = || -> Result<(), RenderError> {
        let mut files = configs(platform, engine)?;
        // The configs' contents are needed only for the hashes of the pods
        // that mount them: not kept for the whole render (6.5 MB of it at
        // 10,000 services).
        let hashes = config_hashes(platform, &mounting, &mounts, &files);
        if let (Some(monitoring), Some(file)) = (monitoring, &rbac_file) {
            let cx = Rbac {
                name: monitoring.name.clone(),
                namespace: platform.name.clone(),
                labels: labels(platform, monitoring),
            };
            files.push((
                format!("kubernetes/{file}"),
                engine.render("kubernetes/rbac.yaml.j2", &cx)?,
            ));
        }
        if let Some(cx) = &ingress {
            files.push((
                "kubernetes/ingress.yaml".to_owned(),
                engine.render("kubernetes/ingress.yaml.j2", cx)?,
            ));
        }
        for (path, body) in files {
            put(path, body)?;
        }
        mounting.iter().try_for_each(|s| manifest(s, &hashes))
    };
    let none = ConfigHashes::default();
    spread(&others, &|s| manifest(s, &none), &mut first)?;
    resources.extend(platform.services.iter().map(|s| format!("{}.yaml", s.name)));
    let secrets = platform.secret_names();
    let labels = platform_labels(platform);
    let mut namespace_labels = labels.clone();
    for (mode, level) in [
        ("enforce", pod_security_level(platform)),
        ("warn", "restricted"),
        ("audit", "restricted"),
    ] {
        namespace_labels.push(Label {
            key: format!("pod-security.kubernetes.io/{mode}"),
            value: level.to_owned(),
        });
    }
    let cx = Overview {
        namespace: platform.name.clone(),
        labels,
        namespace_labels,
        dns_ports: network_policy::dns_ports(),
        resources,
        secret_name: secret_name(platform),
        secrets,
        config_maps,
    };
    let values = Engine::values(&cx);
    for (path, template) in [
        ("kubernetes/namespace.yaml", "kubernetes/namespace.yaml.j2"),
        (
            "kubernetes/network-policies.yaml",
            "kubernetes/network-policies.yaml.j2",
        ),
        (
            "kubernetes/kustomization.yaml",
            "kubernetes/kustomization.yaml.j2",
        ),
    ] {
        put(path.to_owned(), engine.render_values(template, &values)?)?;
    }
    Ok(())
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
    fn scratch_volumes_get_distinct_dns_label_names() {
        let paths: Vec<String> = ["/tmp", "/var/cache/nginx", "/var_cache/nginx", "/Run/"]
            .iter()
            .map(|p| (*p).to_owned())
            .collect();
        assert_eq!(
            scratch_names(&paths),
            [
                "scratch-tmp",
                "scratch-var-cache-nginx",
                "scratch-var-cache-nginx-2",
                "scratch-run"
            ]
        );
        let long = vec![format!("/{}", "a".repeat(100))];
        assert!(scratch_names(&long)[0].len() <= 63);
    }

    #[test]
    fn fingerprint_is_stable_and_separates_parts() {
        assert_eq!(fingerprint(&["a", "b"]), fingerprint(&["a", "b"]));
        assert_ne!(fingerprint(&["ab", ""]), fingerprint(&["a", "b"]));
    }
}

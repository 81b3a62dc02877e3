//! The raw shape of `platform.yaml`: what the file says, with the span of
//! every value that a check may need to point at.
//!
//! These types are also the source of the JSON Schema (`platgen schema`):
//! every doc comment here becomes a `description` that editors show.

use crate::collections::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use super::yaml::Spanned;

/// A platform: its services, the phases they are rolled out in, and the
/// policies that every service must respect.
///
/// Top-level keys that start with `x-` are ignored, as docker-compose
/// ignores them: they hold YAML anchors for the services to merge in
/// (`<<: *defaults`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "platgen platform spec", extend("patternProperties" = {"^x-": {}}))]
pub struct Spec {
    /// The platform's name: the docker-compose project name, the Kubernetes
    /// namespace and the `app.kubernetes.io/part-of` label. A DNS-1123 label
    /// (lowercase letters, digits and `-`, at most 63 characters).
    pub name: Spanned<String>,
    /// The public host name the platform is served under (the reverse
    /// proxy's `server_name`). Optional: without it, any host.
    #[serde(default)]
    pub domain: Option<Spanned<String>>,
    /// Policies for published host ports.
    #[serde(default)]
    pub ports: Option<PortPolicy>,
    /// Deployment phases, in rollout order. A service may depend only on
    /// services of its own or an earlier phase. When omitted, all services
    /// belong to one implicit phase.
    #[serde(default)]
    pub phases: Vec<Spanned<Phase>>,
    /// Which services run the configs platgen generates: these get the
    /// generated files mounted (compose) or as ConfigMaps (Kubernetes).
    #[serde(default)]
    pub roles: Option<Roles>,
    /// The services, by name. Each name is a DNS-1123 label (it becomes a
    /// host name in compose and a Service name in Kubernetes) and appears once.
    #[serde(deserialize_with = "exact_map")]
    pub services: IndexMap<Spanned<String>, Spanned<Service>>,
    /// How the monitoring role scrapes, evaluates and keeps metrics, and
    /// where its alerts link to.
    #[serde(default)]
    pub monitoring: Option<Spanned<MonitoringSettings>>,
    /// Where the alerting role (Alertmanager) sends alerts: receivers, and
    /// which severity goes to which.
    #[serde(default)]
    pub alerting: Option<Spanned<AlertingSettings>>,
    /// Settings of the gateway role (Kong): its consumers and their
    /// credentials, which addresses it trusts, and its Admin API.
    #[serde(default)]
    pub gateway: Option<Spanned<GatewaySettings>>,
    /// A Kubernetes Ingress in front of the proxy role: the cluster's
    /// ingress controller terminates TLS and sends every route's path to
    /// the proxy, which stays a ClusterIP Service. Without it, the proxy's
    /// Service is a LoadBalancer.
    #[serde(default)]
    pub ingress: Option<Spanned<IngressSettings>>,
    /// Deployment environments (`dev`, `staging`, `prod`, ...), by name: what
    /// each changes of the platform above. `platgen render --env NAME`
    /// renders the platform with one applied; `platgen check` checks the
    /// platform and every environment.
    #[serde(default)]
    pub environments: IndexMap<Spanned<String>, Spanned<Environment>>,
}

/// What one environment changes of the platform. Everything it does not
/// name stays as the platform says.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// The public host name in this environment (replaces `domain`).
    #[serde(default)]
    pub domain: Option<Spanned<String>>,
    /// Changes to services, by the name of a service of the platform.
    #[serde(default)]
    pub services: IndexMap<Spanned<String>, Spanned<ServiceOverride>>,
    /// Changes to the gateway's consumers.
    #[serde(default)]
    pub gateway: Option<Spanned<GatewayOverride>>,
}

/// What an environment changes of the gateway settings.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GatewayOverride {
    /// Changes to consumers, by the name of a consumer of `gateway.consumers`.
    #[serde(default)]
    pub consumers: IndexMap<Spanned<String>, Spanned<ConsumerOverride>>,
}

/// What an environment changes of one gateway consumer.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsumerOverride {
    /// Changes to the consumer's `jwt` credential.
    #[serde(default)]
    pub jwt: Option<Spanned<JwtOverride>>,
}

/// What an environment changes of a JWT credential.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JwtOverride {
    /// The `iss` claim of the consumer's tokens in this environment: an
    /// identity provider on the environment's domain signs them with its
    /// own URL.
    #[serde(default)]
    pub issuer: Option<Spanned<String>>,
}

/// What an environment changes of one service. Each key replaces the
/// service's own; `env` and `ports` change only the entries they name.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceOverride {
    /// The whole image reference, e.g. `ghcr.io/acme/api:2.0.0-rc1`.
    #[serde(default)]
    pub image: Option<Spanned<String>>,
    /// Only the image's tag, e.g. `1.4.2`: the repository stays (a digest
    /// of the platform's image is dropped).
    #[serde(default)]
    pub tag: Option<Spanned<String>>,
    /// How many instances to run: a fixed count, in place of the service's
    /// `autoscale` too.
    #[serde(default)]
    pub replicas: Option<Spanned<u32>>,
    /// Horizontal autoscaling, in place of the service's whole `autoscale`
    /// and of its `replicas`.
    #[serde(default)]
    pub autoscale: Option<Spanned<Autoscale>>,
    /// CPU and memory for one instance (replaces the whole `resources`).
    #[serde(default)]
    pub resources: Option<Spanned<Resources>>,
    /// Environment variables to set or change; the others stay.
    #[serde(default)]
    pub env: IndexMap<Spanned<String>, Spanned<Text>>,
    /// Published host ports, by port name: `{http: 8080}` publishes the
    /// port named `http` on host port 8080 (or a range `"low-high"`).
    #[serde(default)]
    pub ports: IndexMap<Spanned<String>, Spanned<PortNumber>>,
}

/// The Ingress in front of the proxy role.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IngressSettings {
    /// The IngressClass that serves it (`ingressClassName`), e.g. `nginx`
    /// or `traefik`.
    pub class: Spanned<String>,
    /// The Secret (type `kubernetes.io/tls`, in the platform's namespace)
    /// holding the certificate for `domain`. Without it, plain HTTP.
    #[serde(default)]
    pub tls_secret: Option<Spanned<String>>,
    /// A cert-manager ClusterIssuer that issues the certificate into
    /// `tls_secret` (the `cert-manager.io/cluster-issuer` annotation).
    #[serde(default)]
    pub cert_manager_issuer: Option<Spanned<String>>,
}

/// Platform-wide port policy.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PortPolicy {
    /// The inclusive `[low, high]` range every published host port must lie
    /// in, e.g. `[1000, 4999]`.
    pub range: Spanned<(u32, u32)>,
}

/// One deployment phase.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    /// The phase's identifier, as services refer to it (`1`, `2A`, ...).
    pub id: Spanned<Text>,
    /// A human title for the phase.
    #[serde(default)]
    pub title: Option<String>,
}

/// The services that run platgen's generated configs.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Roles {
    /// The reverse proxy: runs the generated `nginx/nginx.conf`.
    #[serde(default)]
    pub proxy: Option<Spanned<String>>,
    /// The metrics server: runs the generated `prometheus/prometheus.yml`
    /// and `prometheus/alerts.yml`.
    #[serde(default)]
    pub monitoring: Option<Spanned<String>>,
    /// The API gateway: runs the generated DB-less `kong/kong.yml`. Routes of
    /// services with a `gateway` section go through it.
    #[serde(default)]
    pub gateway: Option<Spanned<String>>,
    /// The dashboards: gets a generated Prometheus datasource (Grafana).
    #[serde(default)]
    pub dashboards: Option<Spanned<String>>,
    /// The alert manager: runs the generated `alertmanager/alertmanager.cfg`
    /// (Alertmanager's YAML config, receivers from `alerting`); Prometheus
    /// sends its alerts there.
    #[serde(default)]
    pub alerting: Option<Spanned<String>>,
}

/// One service of the platform: one container image, run as one compose
/// service and one Kubernetes workload.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// The id of the phase this service is rolled out in. Required when the
    /// spec lists `phases`.
    #[serde(default)]
    pub phase: Option<Spanned<Text>>,
    /// The container image, with a pinned tag or digest.
    pub image: Spanned<String>,
    /// Overrides the image's command: the full argv, one element per item.
    #[serde(default)]
    pub command: Option<Spanned<Vec<Text>>>,
    /// Overrides the image's entrypoint (Docker's ENTRYPOINT, Kubernetes'
    /// `command`); `command` then follows it as its arguments. Required
    /// with a secret of `delivery: entrypoint`: platgen's wrapper runs it,
    /// so it must be the image's own, e.g. `[docker-entrypoint.sh]`.
    #[serde(default)]
    pub entrypoint: Option<Spanned<Vec<Text>>>,
    /// What the service is: `service` (the default) runs all the time;
    /// `job` runs once to completion (a Kubernetes Job; under
    /// docker-compose its dependants wait until it has exited 0); `cronjob`
    /// runs on `schedule` (a Kubernetes CronJob that never overlaps
    /// itself). A job or cronjob serves nothing: no ports, route, metrics,
    /// health check, autoscaling or more than one replica.
    #[serde(default)]
    pub kind: Option<Spanned<WorkloadKind>>,
    /// When a `cronjob` runs: a cron expression of five fields (minute,
    /// hour, day of month, month, day of week), e.g. `"0 3 * * *"` for
    /// 03:00 every day, or `@hourly`, `@daily`, `@weekly`, `@monthly`,
    /// `@yearly`. In the time zone of the Kubernetes controller manager
    /// (UTC on most clusters).
    #[serde(default)]
    pub schedule: Option<Spanned<String>>,
    /// How a new version replaces the running one on Kubernetes: `rolling`
    /// (the default: the new pod starts before the old one stops) or
    /// `recreate` (the old pod stops first), for a singleton that must
    /// never run twice at once. A service with volumes (a StatefulSet)
    /// always stops its pod before starting the new one.
    #[serde(default)]
    pub strategy: Option<Spanned<Strategy>>,
    /// The ports the container listens on, and which of them are published on
    /// the host.
    #[serde(default)]
    pub ports: Vec<Spanned<Port>>,
    /// Services that must be running (and healthy, when they have a health
    /// check) before this one starts.
    #[serde(default)]
    pub depends_on: Vec<Spanned<String>>,
    /// Services this one reaches over the network without waiting for them
    /// at start (a tracing collector, a log forwarder). Kubernetes network
    /// policies admit the traffic as for `depends_on`; docker-compose does
    /// not wait for them.
    #[serde(default)]
    pub connects_to: Vec<Spanned<String>>,
    /// How to tell that the service is healthy.
    #[serde(default)]
    pub health: Option<Spanned<Health>>,
    /// Where the service serves Prometheus metrics.
    #[serde(default)]
    pub metrics: Option<Spanned<Metrics>>,
    /// The public path under which the reverse proxy serves this service.
    #[serde(default)]
    pub route: Option<Spanned<Route>>,
    /// Puts the route behind the API gateway, with these policies.
    #[serde(default)]
    pub gateway: Option<Spanned<Gateway>>,
    /// Environment variables. Values are passed to the container exactly as
    /// written (numbers and booleans as their text).
    #[serde(default)]
    pub env: IndexMap<Spanned<String>, Spanned<Text>>,
    /// Secret environment variables: variable name -> secret name. Only names
    /// appear in the spec and in the output; the values are the operator's.
    /// Kubernetes sets the variable from the secret; docker-compose mounts the
    /// secret file at `/run/secrets/<secret>` and sets `<VARIABLE>_FILE` to
    /// that path (the convention of the official images), or the variable
    /// that `file_env` names; `delivery` says otherwise for images that
    /// read no file.
    #[serde(default)]
    pub secrets: IndexMap<Spanned<String>, Spanned<SecretRef>>,
    /// Persistent volumes: volume name -> mount path in the container, or
    /// `{path, size}` to size the Kubernetes volume claim (default 1Gi).
    #[serde(default)]
    pub volumes: IndexMap<Spanned<String>, Spanned<VolumeSpec>>,
    /// How many instances to run (default 1).
    #[serde(default)]
    pub replicas: Option<Spanned<u32>>,
    /// Horizontal autoscaling (Kubernetes HorizontalPodAutoscaler).
    #[serde(default)]
    pub autoscale: Option<Spanned<Autoscale>>,
    /// CPU and memory for one instance, as Kubernetes quantities.
    #[serde(default)]
    pub resources: Option<Spanned<Resources>>,
    /// How the container runs: its user, what it may write, its
    /// capabilities and what it may reach outside the platform. Without it
    /// the container runs as the image's own user, which must not be root,
    /// with a read-only root filesystem, no capabilities and no privilege
    /// escalation.
    #[serde(default)]
    pub security: Option<Spanned<Security>>,
    /// Runs a tiny init process as the container's PID 1 (docker-compose
    /// `init: true`; Kubernetes `shareProcessNamespace`, which makes the
    /// pod's pause process PID 1). It forwards signals and reaps zombies, for
    /// images whose process ignores SIGTERM as PID 1 or leaves children
    /// behind.
    #[serde(default)]
    pub init: Option<Spanned<bool>>,
    /// The signal that stops the container, e.g. `SIGINT` or `SIGQUIT`
    /// (default: the image's STOPSIGNAL, else SIGTERM). docker-compose only:
    /// Kubernetes 1.32 sends the image's STOPSIGNAL.
    #[serde(default)]
    pub stop_signal: Option<Spanned<String>>,
    /// How long the container may take to stop after the signal before it is
    /// killed, e.g. `30s` (default 10s under docker-compose, 30s under
    /// Kubernetes, where it is `terminationGracePeriodSeconds`).
    #[serde(default)]
    pub stop_grace_period: Option<Spanned<Text>>,
}

/// What kind of workload a service is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WorkloadKind {
    /// Runs all the time (a Deployment or a StatefulSet).
    Service,
    /// Runs once to completion (a Job), e.g. a database migration.
    Job,
    /// Runs on a schedule (a CronJob), e.g. a backup.
    Cronjob,
}

impl WorkloadKind {
    /// As the spec writes it.
    pub fn name(self) -> &'static str {
        match self {
            WorkloadKind::Service => "service",
            WorkloadKind::Job => "job",
            WorkloadKind::Cronjob => "cronjob",
        }
    }
}

/// How a new version of a service replaces the running one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Start the new pod, then stop the old one.
    Rolling,
    /// Stop the old pod, then start the new one.
    Recreate,
}

/// The container's user, filesystem, capabilities and outside traffic.
/// Every relaxation of the defaults (`root`, `read_only_root: false`,
/// `capabilities`) wants a `reason`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Security {
    /// The user id the container runs as (Kubernetes `runAsUser`,
    /// docker-compose `user`). Use the image's own non-root user: its files
    /// belong to it. Required in practice when the image names its user
    /// (`USER nginx`): Kubernetes can check only a numeric user against
    /// `runAsNonRoot`.
    #[serde(default)]
    pub run_as_user: Option<Spanned<i64>>,
    /// The group id the container runs as (`runAsGroup`, the group part of
    /// docker-compose `user`).
    #[serde(default)]
    pub run_as_group: Option<Spanned<i64>>,
    /// The group that owns the pod's volumes on Kubernetes (`fsGroup`):
    /// fresh cloud volumes belong to root, and a non-root process cannot
    /// write them without it. docker-compose adds it as a supplementary
    /// group. Default: `run_as_group`.
    #[serde(default)]
    pub fs_group: Option<Spanned<i64>>,
    /// Whether the root filesystem is read-only (default true). Set false,
    /// with a `reason`, for an image that writes where no `writable` path
    /// or volume can go.
    #[serde(default)]
    pub read_only_root: Option<Spanned<bool>>,
    /// Paths the container writes to that need not survive a restart: each
    /// gets an emptyDir (Kubernetes) or a tmpfs (docker-compose). `/tmp` is
    /// writable without being listed.
    #[serde(default)]
    pub writable: Vec<Spanned<String>>,
    /// Linux capabilities to add back after dropping all of them, without
    /// the `CAP_` prefix, e.g. `NET_BIND_SERVICE`.
    #[serde(default)]
    pub capabilities: Vec<Spanned<String>>,
    /// The image must start as root (its entrypoint writes files that belong
    /// to root, or drops privileges itself). Needs a `reason`.
    #[serde(default)]
    pub root: Option<Spanned<bool>>,
    /// Why this service needs less than the defaults: printed next to its
    /// security settings in the Kubernetes manifest and cited by audits.
    #[serde(default)]
    pub reason: Option<Spanned<String>>,
    /// The service calls the Kubernetes API: its pod gets a service account
    /// token (projected, short-lived) and may reach the API server.
    #[serde(default)]
    pub kubernetes_api: Option<Spanned<bool>>,
    /// Addresses outside the platform the service may reach on Kubernetes
    /// (network policies deny all other egress).
    #[serde(default)]
    pub egress: Vec<Spanned<Egress>>,
}

/// A destination outside the platform.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Egress {
    /// An address block, e.g. `0.0.0.0/0` or `10.20.0.0/16` (IPv4 or IPv6).
    pub cidr: Spanned<String>,
    /// The tcp ports it may be reached on; omitted means every port.
    #[serde(default)]
    pub ports: Vec<Spanned<i64>>,
}

/// A port the container listens on.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Port {
    /// The port's name, by which `health`, `metrics` and `route` refer to it.
    /// A lowercase DNS label of at most 15 characters (the Kubernetes rule).
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    /// The published host port, or a range `"low-high"`. Omit it for a port
    /// that is reachable only inside the platform.
    #[serde(default)]
    pub host: Option<Spanned<PortNumber>>,
    /// The port inside the container, or a range `"low-high"` of the same
    /// length as `host`.
    pub container: Spanned<PortNumber>,
    /// `tcp` (the default) or `udp`. Host ports conflict per protocol.
    #[serde(default)]
    pub protocol: Option<Spanned<Protocol>>,
    /// The host address to publish on (default: all addresses for a
    /// public port, `127.0.0.1` for an internal one). Ports on two
    /// different specific addresses do not conflict.
    #[serde(default)]
    pub bind: Option<Spanned<String>>,
    /// Who may reach the port from outside the platform. `internal`:
    /// nothing routes to it, and docker-compose publishes its host port on
    /// `127.0.0.1` only (developers reach it from their machine, the
    /// network does not). `public`: routes may lead to it, and its host
    /// port is published on `bind` (all addresses by default). Default:
    /// `internal` for every port of a data store (an image such as
    /// postgres, redis, elasticsearch, rabbitmq, vault, consul; the list is
    /// in the README) and for ports named `admin`, `management` or `mgmt`;
    /// `public` otherwise.
    #[serde(default)]
    pub expose: Option<Spanned<Exposure>>,
}

/// Who may reach a port from outside the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Exposure {
    /// Only the platform's own services (and, under docker-compose, the
    /// host itself on 127.0.0.1).
    Internal,
    /// Anyone the proxy or the published host port serves.
    Public,
}

/// Where a volume is mounted, and how large its claim is.
#[derive(Debug, Clone, JsonSchema)]
#[serde(untagged)]
pub enum VolumeSpec {
    /// The mount path.
    Path(String),
    /// The mount path and the size.
    Detailed(VolumeDetail),
}

/// A volume with a size.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VolumeDetail {
    /// The mount path in the container.
    pub path: Spanned<String>,
    /// The storage the Kubernetes volume claim requests, e.g. `20Gi`.
    #[serde(default)]
    pub size: Option<Spanned<String>>,
}

/// Reads a value written either as a string or as a mapping, as serde's
/// `untagged` would, but straight from the deserializer: `untagged` buffers
/// the value first, and the buffered copy has lost the spans that the
/// mapping's `Spanned` fields need.
struct TextOrMapping<T, M> {
    text: fn(String) -> T,
    mapping: fn(M) -> T,
    expecting: &'static str,
}

impl<'de, T, M: Deserialize<'de>> serde::de::Visitor<'de> for TextOrMapping<T, M> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
        Ok((self.text)(v.to_owned()))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        M::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(self.mapping)
    }
}

impl<'de> Deserialize<'de> for VolumeSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextOrMapping {
            text: VolumeSpec::Path,
            mapping: VolumeSpec::Detailed,
            expecting: "a mount path, or a mapping with `path` and `size`",
        })
    }
}

impl<'de> Deserialize<'de> for SecretRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextOrMapping {
            text: SecretRef::Name,
            mapping: SecretRef::Detailed,
            expecting: "a secret name, or a mapping with `secret`",
        })
    }
}

impl VolumeSpec {
    /// The mount path, and where it was written.
    pub fn path(&self, span: crate::source::Span) -> (&str, crate::source::Span) {
        match self {
            VolumeSpec::Path(p) => (p, span),
            VolumeSpec::Detailed(d) => (&d.path.value, d.path.span),
        }
    }

    pub fn size(&self) -> Option<&Spanned<String>> {
        match self {
            VolumeSpec::Path(_) => None,
            VolumeSpec::Detailed(d) => d.size.as_ref(),
        }
    }
}

/// Which secret a variable comes from.
#[derive(Debug, Clone, JsonSchema)]
#[serde(untagged)]
pub enum SecretRef {
    /// The secret's name.
    Name(String),
    /// The secret's name, and how docker-compose passes it.
    Detailed(SecretDetail),
}

/// A secret with the variable through which docker-compose passes its file.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretDetail {
    /// The secret's name.
    pub secret: Spanned<String>,
    /// The variable that receives the secret file's path under
    /// docker-compose, for images whose convention is not `<VARIABLE>_FILE`
    /// (Grafana reads `GF_SECURITY_ADMIN_PASSWORD__FILE`).
    #[serde(default)]
    pub file_env: Option<Spanned<String>>,
    /// How the container receives the secret (default `file`).
    #[serde(default)]
    pub delivery: Option<Spanned<SecretDelivery>>,
}

/// How a container receives a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SecretDelivery {
    /// A file at `/run/secrets/<secret>`, whose path is in `<VARIABLE>_FILE`
    /// (or `file_env`): both docker-compose and Kubernetes.
    File,
    /// The variable itself holds the value, for images that read no
    /// `_FILE` variable. Kubernetes sets it from the Secret (an audit flags
    /// secrets in variables); docker-compose can pass a secret only as a
    /// file, so there it is delivered as with `file`, which such an image
    /// does not read.
    Variable,
    /// A file, as with `file`, that a wrapper platgen puts before the
    /// image's entrypoint reads into the variable itself, then hands over
    /// to the entrypoint (`exec`): for images that read no `_FILE`
    /// variable (RabbitMQ, Keycloak, Trivy). The value is in no manifest
    /// and no environment but the container's own; the image needs
    /// `/bin/sh`, and the service must name its `entrypoint`.
    Entrypoint,
}

impl SecretRef {
    /// The secret's name.
    pub fn secret(&self) -> &str {
        match self {
            SecretRef::Name(name) => name,
            SecretRef::Detailed(d) => &d.secret.value,
        }
    }
}

/// A port number, or an inclusive range written `"low-high"`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum PortNumber {
    /// A single port.
    Single(i64),
    /// A range of ports, `"low-high"`.
    Range(String),
}

/// A transport protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    /// `tcp` or `udp`, as compose and the diagnostics write it.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// A reference to one of the service's ports: its name, or its container
/// port number.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum PortRef {
    /// The container port number.
    Number(i64),
    /// The port's name.
    Name(String),
}

/// A health check: exactly one of `http`, `tcp`, `grpc` or `command`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Health {
    /// Healthy when an HTTP GET of `path` on `port` answers 2xx or 3xx.
    #[serde(default)]
    pub http: Option<Spanned<HttpCheck>>,
    /// Healthy when `port` accepts a TCP connection.
    #[serde(default)]
    pub tcp: Option<Spanned<TcpCheck>>,
    /// Healthy when the gRPC health service on `port` answers SERVING.
    /// Kubernetes probes it natively; docker-compose runs
    /// `grpc_health_probe`, which the image must have (or `probe: none`).
    #[serde(default)]
    pub grpc: Option<Spanned<GrpcCheck>>,
    /// Healthy when this command, run inside the container, exits 0.
    #[serde(default)]
    pub command: Option<Spanned<Vec<Text>>>,
    /// For `http`, `tcp` and `grpc` checks under docker-compose: the tool in
    /// the image that runs the probe (default `wget` for `http`, `nc` for
    /// `tcp`, `grpc_health_probe` for `grpc`), or `none` when the image has
    /// no tool at all (`FROM scratch`, distroless): compose then gets no
    /// health check and dependants wait only for the start. Kubernetes
    /// probes need no tool.
    #[serde(default)]
    pub probe: Option<Spanned<Probe>>,
    /// Time between checks, e.g. `10s` (default `10s`).
    #[serde(default)]
    pub interval: Option<Spanned<Text>>,
    /// Time one check may take, e.g. `5s` (default `5s`).
    #[serde(default)]
    pub timeout: Option<Spanned<Text>>,
    /// Consecutive failures before the service counts as unhealthy (default 5).
    #[serde(default)]
    pub retries: Option<Spanned<u32>>,
    /// Grace time after start during which failures do not count, e.g. `30s`.
    #[serde(default)]
    pub start_period: Option<Spanned<Text>>,
    /// An HTTP endpoint that says only whether the process itself is alive
    /// (Keycloak's `/health/live`), which the Kubernetes liveness probe
    /// GETs instead of the check above: the check decides readiness, and a
    /// readiness endpoint that reports a dependency down would restart a
    /// healthy process. Without it, the liveness probe of an `http` or
    /// `grpc` check only tests that the port accepts connections, and any
    /// other check is its own liveness probe. docker-compose does not use
    /// it.
    #[serde(default)]
    pub liveness: Option<Spanned<HttpCheck>>,
}

/// An HTTP health check.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpCheck {
    /// The port (name or container number). May be omitted when the service
    /// has exactly one port.
    #[serde(default)]
    pub port: Option<Spanned<PortRef>>,
    /// The path to GET, starting with `/`.
    pub path: Spanned<String>,
}

/// A gRPC health check (the standard `grpc.health.v1.Health` service).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GrpcCheck {
    /// The port (name or container number). May be omitted when the service
    /// has exactly one port.
    #[serde(default)]
    pub port: Option<Spanned<PortRef>>,
    /// The service name to ask about (default: the server as a whole).
    #[serde(default)]
    pub service: Option<Spanned<String>>,
}

/// A TCP health check.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TcpCheck {
    /// The port (name or container number). May be omitted when the service
    /// has exactly one port.
    #[serde(default)]
    pub port: Option<Spanned<PortRef>>,
}

/// The tool a docker-compose health check uses for `http`, `tcp` and
/// `grpc` probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Probe {
    /// `wget` (busybox or GNU) on the PATH: Alpine- and busybox-based images.
    Wget,
    /// `curl`.
    Curl,
    /// `busybox wget` for http, `busybox nc -z` for tcp: images that ship
    /// the busybox binary without its applet links.
    Busybox,
    /// `nc -z` (tcp checks only).
    Nc,
    /// bash's `/dev/tcp` (tcp checks only); for Debian-based images without
    /// wget or curl.
    Bash,
    /// `grpc_health_probe` (grpc checks only).
    GrpcHealthProbe,
    /// The image has no probe tool: no docker-compose health check (a
    /// warning says so); Kubernetes still probes.
    None,
}

impl Probe {
    /// The name written in the spec.
    pub fn name(self) -> &'static str {
        match self {
            Probe::Wget => "wget",
            Probe::Curl => "curl",
            Probe::Busybox => "busybox",
            Probe::Nc => "nc",
            Probe::Bash => "bash",
            Probe::GrpcHealthProbe => "grpc_health_probe",
            Probe::None => "none",
        }
    }
}

/// Where a service serves Prometheus metrics.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Metrics {
    /// The port (name or container number). May be omitted when the service
    /// has exactly one port.
    #[serde(default)]
    pub port: Option<Spanned<PortRef>>,
    /// The path, starting with `/` (default `/metrics`). May carry a query
    /// string, e.g. `/v1/sys/metrics?format=prometheus`.
    #[serde(default)]
    pub path: Option<Spanned<String>>,
    /// The counter of HTTP requests the service serves, with a status-code
    /// label, e.g. `http_requests_total`. Adds a `HighErrorRate` alert.
    #[serde(default)]
    pub http_requests: Option<Spanned<String>>,
    /// The label of `http_requests` that holds the status code (default `code`).
    #[serde(default)]
    pub http_status_label: Option<Spanned<String>>,
    /// The histogram of HTTP request durations in seconds, e.g.
    /// `http_request_duration_seconds`. Adds a `HighLatency` alert.
    #[serde(default)]
    pub http_duration: Option<Spanned<String>>,
    /// The 95th-percentile latency above which `HighLatency` fires, in
    /// milliseconds (default 500).
    #[serde(default)]
    pub p95_latency_ms: Option<Spanned<u32>>,
    /// The severity of the service's availability alerts (`ServiceDown`,
    /// `ServiceAbsent`), by which `alerting.routes` picks a receiver
    /// (default `critical`).
    #[serde(default)]
    pub severity: Option<Spanned<AlertSeverity>>,
    /// The severity of `HighErrorRate` and `HighLatency` (default `warning`).
    #[serde(default)]
    pub http_severity: Option<Spanned<AlertSeverity>>,
}

/// How urgent an alert is: its `severity` label, by which Alertmanager
/// routes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AlertSeverity {
    /// Someone must act now (paging).
    Critical,
    /// Someone must act soon (a ticket, a chat message).
    Warning,
    /// For the record.
    Info,
}

impl AlertSeverity {
    pub fn name(self) -> &'static str {
        match self {
            AlertSeverity::Critical => "critical",
            AlertSeverity::Warning => "warning",
            AlertSeverity::Info => "info",
        }
    }
}

/// A public route through the reverse proxy.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// The public path prefix, starting with `/`, e.g. `/api`.
    pub path: Spanned<String>,
    /// The port (name or container number) requests go to. May be omitted
    /// when the service has exactly one port.
    #[serde(default)]
    pub port: Option<Spanned<PortRef>>,
    /// Remove the prefix before passing the request on (default false: the
    /// service sees the full path).
    #[serde(default)]
    pub strip_prefix: Option<Spanned<bool>>,
    /// Pass WebSocket upgrades through (default false).
    #[serde(default)]
    pub websocket: Option<Spanned<bool>>,
}

/// API gateway policies for a service's route.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Gateway {
    /// Requests per minute per client; omitted means unlimited.
    #[serde(default)]
    pub rate_limit_per_minute: Option<Spanned<u32>>,
    /// The Kong authentication plugin: `jwt`, `key-auth`, `basic-auth` or
    /// `hmac-auth`. Credentials are the operator's, never in the spec.
    #[serde(default)]
    pub auth: Option<Spanned<String>>,
    /// The only consumers allowed through, by user name (an ACL group per
    /// service); their credentials are the operator's, never in the spec.
    #[serde(default)]
    pub consumers: Vec<Spanned<String>>,
    /// Cross-origin requests: `true` for any origin, or a list of origins.
    #[serde(default)]
    pub cors: Option<Spanned<Cors>>,
}

/// Settings of the monitoring role's Prometheus.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MonitoringSettings {
    /// How often every target is scraped, as a Prometheus duration (`15s`,
    /// `1m`; default `15s`). Grafana's datasource gets it as its
    /// `timeInterval`, so dashboards never ask for finer steps than exist.
    #[serde(default)]
    pub scrape_interval: Option<Spanned<Text>>,
    /// How often the alerting rules are evaluated (default `15s`).
    #[serde(default)]
    pub evaluation_interval: Option<Spanned<Text>>,
    /// How long and how much Prometheus keeps; becomes its
    /// `--storage.tsdb.retention.*` flags. Without it, Prometheus's default
    /// (15 days, no size limit) applies.
    #[serde(default)]
    pub retention: Option<Spanned<Retention>>,
    /// The base URL of the runbooks: every alert gets a `runbook_url`
    /// annotation `<base>/<alert name in lowercase>`, e.g.
    /// `https://runbooks.example.com/alerts/servicedown`.
    #[serde(default)]
    pub runbook_url: Option<Spanned<String>>,
}

/// What Prometheus keeps: the oldest data goes first when either limit is
/// reached.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    /// How long, as a Prometheus duration: `15d`, `2w`, `1y`.
    #[serde(default)]
    pub time: Option<Spanned<Text>>,
    /// How much disk the blocks may take: `18GB`, `512MB` (units B, KB, MB,
    /// GB, TB, PB, powers of 1024). Leave headroom below the volume's size
    /// for the write-ahead log and compaction.
    #[serde(default)]
    pub size: Option<Spanned<String>>,
}

/// Alertmanager's receivers and routing.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertingSettings {
    /// The receivers, by name (a DNS label): each sends to one or more of
    /// `email`, `slack`, `pagerduty` and `webhook`. Credentials are secret
    /// names, read from files at run time, never in the spec or the output.
    pub receivers: IndexMap<Spanned<String>, Spanned<Receiver>>,
    /// Which receiver gets the alerts of each severity; a severity not
    /// listed goes to `default`.
    #[serde(default)]
    pub routes: Option<Spanned<SeverityRoutes>>,
    /// The receiver of everything no route takes (default: the first
    /// receiver).
    #[serde(default)]
    pub default: Option<Spanned<String>>,
    /// The receiver of the `Watchdog` heartbeat: an alert that always fires,
    /// so that a dead man's switch at the receiving end (a PagerDuty or
    /// healthchecks.io heartbeat) pages when it stops arriving, which is
    /// the only way to learn that Prometheus or Alertmanager itself is down.
    /// Without it there is no `Watchdog`.
    #[serde(default)]
    pub heartbeat: Option<Spanned<String>>,
}

/// A receiver per severity.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeverityRoutes {
    /// The receiver of `critical` alerts.
    #[serde(default)]
    pub critical: Option<Spanned<String>>,
    /// The receiver of `warning` alerts.
    #[serde(default)]
    pub warning: Option<Spanned<String>>,
    /// The receiver of `info` alerts.
    #[serde(default)]
    pub info: Option<Spanned<String>>,
}

/// Where one receiver sends its notifications: at least one of these.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Receiver {
    /// E-mail through an SMTP server.
    #[serde(default)]
    pub email: Option<Spanned<EmailReceiver>>,
    /// A Slack incoming webhook.
    #[serde(default)]
    pub slack: Option<Spanned<SlackReceiver>>,
    /// PagerDuty (Events API v2).
    #[serde(default)]
    pub pagerduty: Option<Spanned<PagerdutyReceiver>>,
    /// Alertmanager's webhook JSON, POSTed to a URL.
    #[serde(default)]
    pub webhook: Option<Spanned<WebhookReceiver>>,
}

/// E-mail notifications.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailReceiver {
    /// The recipient address.
    pub to: Spanned<String>,
    /// The sender address.
    pub from: Spanned<String>,
    /// The SMTP server, `host:port`.
    pub smarthost: Spanned<String>,
    /// The SMTP user name, when the server wants one.
    #[serde(default)]
    pub username: Option<Spanned<String>>,
    /// The secret holding the SMTP password (a secret name, read from its
    /// file at run time).
    #[serde(default)]
    pub password: Option<Spanned<String>>,
    /// Require STARTTLS (default true).
    #[serde(default)]
    pub require_tls: Option<Spanned<bool>>,
}

/// Slack notifications.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlackReceiver {
    /// The secret holding the incoming-webhook URL (the URL is the
    /// credential).
    pub webhook_url: Spanned<String>,
    /// The channel, e.g. `#alerts`.
    pub channel: Spanned<String>,
}

/// PagerDuty notifications.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PagerdutyReceiver {
    /// The secret holding the integration's routing key.
    pub routing_key: Spanned<String>,
}

/// Webhook notifications.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookReceiver {
    /// The `http://` or `https://` URL to POST to. Put no credential in it:
    /// use `bearer_token`.
    pub url: Spanned<String>,
    /// The secret holding a bearer token sent as `Authorization: Bearer`.
    #[serde(default)]
    pub bearer_token: Option<Spanned<String>>,
}

/// Settings of the gateway role (Kong, DB-less).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GatewaySettings {
    /// The consumers, by user name (a DNS label), with their credentials.
    /// Credentials are secret names: the gateway reads the files when it
    /// starts and adds them to its declarative config, so they are never in
    /// the spec or the output.
    #[serde(default)]
    pub consumers: IndexMap<Spanned<String>, Spanned<Consumer>>,
    /// The addresses whose `X-Real-IP` header the gateway believes (Kong's
    /// `trusted_ips`), as addresses or CIDR ranges. Default, when the
    /// platform has a proxy role: the private ranges the proxy reaches the
    /// gateway from (`10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`,
    /// `fc00::/7`), so rate limits count per client, not per proxy. Narrow
    /// it to the proxy's network where other clients share those ranges.
    #[serde(default)]
    pub trusted_ips: Option<Spanned<Vec<Spanned<String>>>>,
    /// Kong's Admin API: `localhost` (default; only `kong` commands inside
    /// the container reach it) or `off`. It is never on a published port or
    /// on the gateway's Service.
    #[serde(default)]
    pub admin: Option<Spanned<AdminApi>>,
}

/// Where Kong's Admin API listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AdminApi {
    /// `127.0.0.1:8001`, inside the container only.
    Localhost,
    /// Not at all.
    Off,
}

/// A gateway consumer's credentials: one or more of these, each matching
/// the `auth` of the routes the consumer may use.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Consumer {
    /// Tokens signed with a private key whose public half the gateway holds
    /// (routes with `auth: jwt`).
    #[serde(default)]
    pub jwt: Option<Spanned<JwtCredential>>,
    /// An API key sent in the `apikey` header or query parameter (routes
    /// with `auth: key-auth`).
    #[serde(default)]
    pub key_auth: Option<Spanned<KeyCredential>>,
    /// HTTP Basic authentication with the consumer's name as user name
    /// (routes with `auth: basic-auth`).
    #[serde(default)]
    pub basic_auth: Option<Spanned<PasswordCredential>>,
    /// HMAC-signed requests with the consumer's name as user name (routes
    /// with `auth: hmac-auth`).
    #[serde(default)]
    pub hmac_auth: Option<Spanned<HmacCredential>>,
}

/// A JWT issuer the consumer's tokens come from.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JwtCredential {
    /// The `iss` claim of the consumer's tokens (default: the consumer's
    /// name).
    #[serde(default)]
    pub issuer: Option<Spanned<String>>,
    /// The signing algorithm: `RS256` (default), `RS512` or `ES256`. Only
    /// public-key algorithms: the gateway never holds a signing secret.
    #[serde(default)]
    pub algorithm: Option<Spanned<JwtAlgorithm>>,
    /// The secret holding the PEM public key (`-----BEGIN PUBLIC KEY-----`)
    /// that verifies the tokens.
    pub public_key: Spanned<String>,
}

/// A public-key JWT algorithm Kong verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum JwtAlgorithm {
    RS256,
    RS512,
    ES256,
}

impl JwtAlgorithm {
    pub fn name(self) -> &'static str {
        match self {
            JwtAlgorithm::RS256 => "RS256",
            JwtAlgorithm::RS512 => "RS512",
            JwtAlgorithm::ES256 => "ES256",
        }
    }
}

/// An API key.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyCredential {
    /// The secret holding the key (one line).
    pub key: Spanned<String>,
}

/// A password.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordCredential {
    /// The secret holding the password (one line).
    pub password: Spanned<String>,
}

/// An HMAC secret.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HmacCredential {
    /// The secret holding the shared HMAC secret (one line).
    pub secret: Spanned<String>,
}

/// CORS policy.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Cors {
    /// `true` allows any origin, `false` turns CORS handling off.
    Enabled(bool),
    /// The allowed origins, e.g. `https://app.example.com`.
    Origins(Vec<String>),
}

/// Horizontal autoscaling bounds and target.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Autoscale {
    /// The fewest instances.
    pub min: Spanned<u32>,
    /// The most instances.
    pub max: Spanned<u32>,
    /// Target average CPU use, in percent of the CPU request.
    pub cpu_percent: Spanned<u32>,
}

/// CPU and memory for one instance.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// CPU, as a Kubernetes quantity: `500m`, `1`, `0.5`.
    #[serde(default)]
    pub cpu: Option<Spanned<Text>>,
    /// Memory, as a Kubernetes quantity: `256Mi`, `1Gi`.
    #[serde(default)]
    pub memory: Option<Spanned<String>>,
}

/// A value used as text: a string, or a number or boolean taken exactly as
/// written (`1.10` stays `1.10`, `yes` stays `yes`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(transparent)]
pub struct Text(pub String);

impl JsonSchema for Text {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Text".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A string; a number or boolean is taken as the text written.",
            "type": ["string", "number", "boolean"]
        })
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Reads a map into exactly the room its entries need. serde's own reader
/// of an `IndexMap` reserves at most 1 MiB ahead and doubles from there:
/// for the services of a large platform (each some kilobytes) that left
/// up to half of the vector unused, and held the old and the new vector
/// at once while it grew, the peak of a large check.
fn exact_map<'de, D, K, V>(d: D) -> Result<IndexMap<K, V>, D::Error>
where
    D: serde::Deserializer<'de>,
    K: Deserialize<'de> + Eq + std::hash::Hash,
    V: Deserialize<'de>,
{
    struct Exact<K, V>(std::marker::PhantomData<(K, V)>);
    impl<'de, K, V> serde::de::Visitor<'de> for Exact<K, V>
    where
        K: Deserialize<'de> + Eq + std::hash::Hash,
        V: Deserialize<'de>,
    {
        type Value = IndexMap<K, V>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a map")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut access: A,
        ) -> Result<Self::Value, A::Error> {
            let mut map = IndexMap::with_capacity_and_hasher(
                access.size_hint().unwrap_or(0),
                crate::collections::Hasher::default(),
            );
            while let Some((k, v)) = access.next_entry()? {
                map.insert(k, v);
            }
            Ok(map)
        }
    }
    d.deserialize_map(Exact(std::marker::PhantomData))
}

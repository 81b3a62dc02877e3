//! Prometheus: `prometheus/prometheus.yml` (one scrape job per service with
//! `metrics`), `prometheus/alerts.yml` (the alerting rules), when the
//! platform has a dashboards role `grafana/datasources.yml` pointing Grafana
//! at Prometheus, and when it has an alerting role Alertmanager's config
//! (see [`super::alertmanager`]).
//!
//! Decisions made here, not in the templates:
//! - Intervals come from `monitoring` (default 15s). A scrape may take as
//!   long as Prometheus's default timeout (10s) or the interval, whichever
//!   is shorter: Prometheus refuses a timeout longer than the interval.
//! - A job is named after its service, with `platform` and `phase` labels;
//!   a query string in the metrics path becomes scrape `params`.
//! - Under docker-compose a job scrapes the service's DNS name and
//!   container port: one container per service. On Kubernetes a Service
//!   name would reach one random pod per scrape, so a job discovers the
//!   service's pods instead: `kubernetes_sd_configs` with the
//!   `endpointslice` role in the platform's namespace, kept to the
//!   service's Service and its metrics port. Every pod behind the Service is
//!   scraped (also one that is not ready, so that a pod failing its
//!   readiness probe shows up as down instead of vanishing), and gets a
//!   `pod` label. EndpointSlices rather than Endpoints: the v1 Endpoints
//!   API is deprecated since Kubernetes 1.33. The ServiceAccount, Role and
//!   RoleBinding this needs are rendered by the Kubernetes target.
//! - Prometheus scrapes itself, and Alertmanager: when the monitoring or
//!   alerting service has no `metrics` of its own, a job for it is added on
//!   its first tcp port.
//! - Alerts go to the alerting role's Alertmanager: its DNS name under
//!   compose, every discovered pod on Kubernetes (an alert must reach every
//!   Alertmanager, never one behind a load balancer).
//! - See [`alert_groups`] for the rules.

use serde::Serialize;

use super::alertmanager;
use super::nginx::Flavour;
use super::wiring::{role, role_port};
use super::{Engine, TemplateError};
use crate::model::{Platform, Service};
use crate::spec::AlertSeverity;

/// Where the rule file is mounted next to the configuration.
pub const RULES_PATH: &str = "/etc/prometheus/alerts.yml";
/// Prometheus's default scrape timeout, in milliseconds.
pub const DEFAULT_SCRAPE_TIMEOUT_MS: u64 = 10_000;
/// How long no instance may answer before `ServiceDown` fires.
pub const DOWN_FOR: &str = "2m";
/// How long one instance may not answer before `InstanceDown` fires.
pub const INSTANCE_DOWN_FOR: &str = "5m";
/// How long a job may have no target at all before `ServiceAbsent` fires.
pub const ABSENT_FOR: &str = "10m";
/// How long an error rate or latency must hold before it fires.
pub const HTTP_FOR: &str = "10m";
/// How long a fault of Prometheus or Alertmanager must hold.
pub const META_FOR: &str = "10m";
/// The share of 5xx answers above which `HighErrorRate` fires.
pub const ERROR_RATIO: f64 = 0.05;

/// What `prometheus.yml.j2`, `alerts.yml.j2` and `datasources.yml.j2` receive.
#[derive(Debug, Serialize)]
pub struct Context {
    pub platform: String,
    pub flavour: Flavour,
    pub scrape_interval: String,
    /// Set when the interval is shorter than Prometheus's default timeout.
    pub scrape_timeout: Option<String>,
    pub evaluation_interval: String,
    pub rule_file: &'static str,
    pub jobs: Vec<Job>,
    /// Where alerts go, when there is an alerting role.
    pub alertmanagers: Option<Discovery>,
    pub groups: Vec<Group>,
    /// The URL Grafana reaches Prometheus at, when there is a dashboards role.
    pub datasource_url: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Job {
    pub name: String,
    pub metrics_path: String,
    /// Query parameters: name and values.
    pub params: Vec<(String, Vec<String>)>,
    pub discovery: Discovery,
}

/// How Prometheus finds the targets of a job (or the Alertmanagers).
#[derive(Debug, Serialize)]
pub struct Discovery {
    /// Compose: `host:port` targets, with these labels.
    pub targets: Vec<String>,
    pub labels: Vec<(String, String)>,
    /// Kubernetes: the namespace whose EndpointSlices are read, and the
    /// relabelling that keeps the service's port and sets the labels.
    pub kubernetes: Option<KubernetesDiscovery>,
}

#[derive(Debug, Serialize)]
pub struct KubernetesDiscovery {
    pub role: &'static str,
    pub namespace: String,
    pub relabel: Vec<Relabel>,
}

/// One `relabel_configs` entry.
#[derive(Debug, Serialize)]
pub struct Relabel {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_labels: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Group {
    pub name: String,
    pub rules: Vec<AlertRule>,
}

#[derive(Debug, Serialize)]
pub struct AlertRule {
    pub alert: &'static str,
    pub expr: String,
    /// `None` for an alert that fires as soon as its expression holds.
    pub for_duration: Option<&'static str>,
    pub severity: &'static str,
    /// The service the alert is about (Alertmanager groups by it).
    pub service: Option<String>,
    pub summary: String,
    pub description: String,
    pub runbook_url: Option<String>,
}

fn rule(alert: &'static str, expr: String, for_duration: &'static str) -> AlertRule {
    AlertRule {
        alert,
        expr,
        for_duration: Some(for_duration),
        severity: "warning",
        service: None,
        summary: String::new(),
        description: String::new(),
        runbook_url: None,
    }
}

fn about(mut r: AlertRule, job: &str, severity: AlertSeverity) -> AlertRule {
    r.service = Some(job.to_owned());
    r.severity = severity.name();
    r
}

fn service_down(job: &str, severity: AlertSeverity) -> AlertRule {
    AlertRule {
        summary: format!("{job} is down"),
        description: format!(
            "No instance of {job} has answered Prometheus's scrapes for {DOWN_FOR}."
        ),
        ..about(
            rule(
                "ServiceDown",
                format!("max by (job) (up{{job=\"{job}\"}}) == 0"),
                DOWN_FOR,
            ),
            job,
            severity,
        )
    }
}

fn instance_down(job: &str, severity: AlertSeverity) -> AlertRule {
    // One instance of several: less urgent than the service.
    let severity = match severity {
        AlertSeverity::Info => AlertSeverity::Info,
        _ => AlertSeverity::Warning,
    };
    AlertRule {
        summary: format!("an instance of {job} is down"),
        description: format!(
            "{{{{ $labels.instance }}}} of {job} has not answered Prometheus's scrapes for {INSTANCE_DOWN_FOR}."
        ),
        ..about(
            rule(
                "InstanceDown",
                format!("up{{job=\"{job}\"}} == 0"),
                INSTANCE_DOWN_FOR,
            ),
            job,
            severity,
        )
    }
}

fn service_absent(job: &str, severity: AlertSeverity) -> AlertRule {
    AlertRule {
        summary: format!("Prometheus has no target for {job}"),
        description: format!(
            "Prometheus has had no target for {job} for {ABSENT_FOR}: it is not deployed, is scaled to zero, or service discovery does not find it."
        ),
        ..about(
            rule(
                "ServiceAbsent",
                format!("absent(up{{job=\"{job}\"}})"),
                ABSENT_FOR,
            ),
            job,
            severity,
        )
    }
}

fn high_error_rate(job: &str, counter: &str, label: &str, severity: AlertSeverity) -> AlertRule {
    AlertRule {
        summary: format!("{job} answers many requests with 5xx"),
        description: format!(
            "More than {}% of the requests to {job} failed with a 5xx status over the last {HTTP_FOR} (now {{{{ $value | humanizePercentage }}}}).",
            ERROR_RATIO * 100.0
        ),
        ..about(
            rule(
                "HighErrorRate",
                format!(
                    "sum(rate({counter}{{job=\"{job}\",{label}=~\"5..\"}}[5m])) / sum(rate({counter}{{job=\"{job}\"}}[5m])) > {ERROR_RATIO}"
                ),
                HTTP_FOR,
            ),
            job,
            severity,
        )
    }
}

fn high_latency(job: &str, histogram: &str, ms: u32, severity: AlertSeverity) -> AlertRule {
    let seconds = f64::from(ms) / 1000.0;
    AlertRule {
        summary: format!("{job} is slow"),
        description: format!(
            "The 95th percentile of {job}'s request duration has been above {ms}ms for {HTTP_FOR} (now {{{{ $value | humanizeDuration }}}})."
        ),
        ..about(
            rule(
                "HighLatency",
                format!(
                    "histogram_quantile(0.95, sum by (le) (rate({histogram}_bucket{{job=\"{job}\"}}[5m]))) > {seconds}"
                ),
                HTTP_FOR,
            ),
            job,
            severity,
        )
    }
}

/// What can go wrong inside a running Prometheus, where an alert still gets
/// out. (An alert on Prometheus's own `up` cannot fire: while Prometheus
/// runs it scrapes itself, and when it is down nothing evaluates the rule.)
fn prometheus_rules(job: &str) -> Vec<AlertRule> {
    vec![
        AlertRule {
            summary: "Prometheus could not load its configuration".into(),
            description: format!(
                "{job} has run on an older configuration for {META_FOR}: the last reload failed (see its log)."
            ),
            ..about(
                rule(
                    "PrometheusConfigReloadFailed",
                    format!("prometheus_config_last_reload_successful{{job=\"{job}\"}} == 0"),
                    META_FOR,
                ),
                job,
                AlertSeverity::Warning,
            )
        },
        AlertRule {
            summary: "Prometheus fails to evaluate alerting rules".into(),
            description: format!(
                "{job} failed to evaluate rules for {META_FOR}: alerts that should fire may not."
            ),
            ..about(
                rule(
                    "PrometheusRuleEvaluationFailures",
                    format!(
                        "increase(prometheus_rule_evaluation_failures_total{{job=\"{job}\"}}[5m]) > 0"
                    ),
                    META_FOR,
                ),
                job,
                AlertSeverity::Critical,
            )
        },
    ]
}

/// What can go wrong inside a running Alertmanager, where an alert may
/// still get out (through another integration, or once it has reloaded).
fn alertmanager_rules(job: &str) -> Vec<AlertRule> {
    vec![
        AlertRule {
            summary: "Alertmanager cannot deliver notifications".into(),
            description: format!(
                "{job} has failed to send to {{{{ $labels.integration }}}} for {META_FOR}: alerts routed there reach no one."
            ),
            ..about(
                rule(
                    "AlertmanagerNotificationsFailing",
                    format!(
                        "sum by (integration) (rate(alertmanager_notifications_failed_total{{job=\"{job}\"}}[5m])) > 0"
                    ),
                    META_FOR,
                ),
                job,
                AlertSeverity::Critical,
            )
        },
        AlertRule {
            summary: "Alertmanager could not load its configuration".into(),
            description: format!(
                "{job} has run on an older configuration for {META_FOR}: the last reload failed (see its log)."
            ),
            ..about(
                rule(
                    "AlertmanagerConfigReloadFailed",
                    format!("alertmanager_config_last_reload_successful{{job=\"{job}\"}} == 0"),
                    META_FOR,
                ),
                job,
                AlertSeverity::Warning,
            )
        },
    ]
}

/// The heartbeat: always firing, routed to a dead man's switch, which pages
/// when it stops arriving.
pub fn watchdog() -> AlertRule {
    AlertRule {
        alert: "Watchdog",
        expr: "vector(1)".into(),
        for_duration: None,
        severity: "none",
        service: None,
        summary: "Alerting works end to end".into(),
        description: "This alert always fires. If it stops arriving at the heartbeat receiver, Prometheus, Alertmanager or the way between them is down.".into(),
        runbook_url: None,
    }
}

/// The most instances a service may run (Kubernetes).
fn max_instances(s: &Service) -> u32 {
    s.autoscale.map_or(s.replicas, |a| a.max.max(s.replicas))
}

/// The alerting rules:
/// - per job but Prometheus's own: `ServiceDown` when no instance answers
///   (`max by (job) (up)`, for two minutes, the service's `severity`);
///   `InstanceDown` per instance of a service that may run several (five
///   minutes, `warning`; Alertmanager holds it back while `ServiceDown`
///   fires); `ServiceAbsent` when the job has no target at all
///   (`absent(up)`, ten minutes: not deployed, scaled to zero, not
///   discovered);
/// - `HighErrorRate` (more than 5% of requests answered 5xx for ten
///   minutes) and `HighLatency` (95th percentile above its threshold for
///   ten minutes) where `metrics` names the counter and the histogram, with
///   the service's `http_severity`;
/// - for Prometheus itself, what can go wrong while it runs (a failed
///   config reload, failing rule evaluations), and for Alertmanager failing
///   notifications and reloads; with `alerting.heartbeat`, the always-firing
///   `Watchdog`, the one alert that notices when Prometheus or Alertmanager
///   itself is gone: by not arriving.
pub fn alert_groups(platform: &Platform) -> Vec<Group> {
    let monitoring = platform.roles.monitoring.as_deref();
    let alerting = role(platform, platform.roles.alerting.as_ref());
    let mut down = Vec::new();
    let mut http = Vec::new();
    for (job, s) in jobs_of(platform) {
        if Some(job.as_str()) == monitoring {
            continue;
        }
        let (severity, http_severity) = s
            .metrics
            .as_ref()
            .map_or((AlertSeverity::Critical, AlertSeverity::Warning), |m| {
                (m.severity, m.http_severity)
            });
        down.push(service_down(&job, severity));
        if max_instances(s) > 1 {
            down.push(instance_down(&job, severity));
        }
        down.push(service_absent(&job, severity));
        if let Some(m) = &s.metrics {
            if let Some((counter, label)) = &m.http_requests {
                http.push(high_error_rate(&job, counter, label, http_severity));
            }
            if let Some((histogram, ms)) = &m.http_duration {
                http.push(high_latency(&job, histogram, *ms, http_severity));
            }
        }
    }
    let mut meta = monitoring.map(prometheus_rules).unwrap_or_default();
    if let Some(a) = alerting {
        meta.extend(alertmanager_rules(&a.name));
        if platform
            .alerting
            .as_ref()
            .is_some_and(|a| a.heartbeat.is_some())
        {
            meta.push(watchdog());
        }
    }
    let mut groups = Vec::new();
    for (suffix, rules) in [("availability", down), ("http", http), ("meta", meta)] {
        if !rules.is_empty() {
            groups.push(Group {
                name: format!("{}-{suffix}", platform.name),
                rules,
            });
        }
    }
    if let Some(base) = &platform.monitoring.runbook_url {
        for r in groups.iter_mut().flat_map(|g| g.rules.iter_mut()) {
            r.runbook_url = Some(format!("{base}/{}", r.alert.to_ascii_lowercase()));
        }
    }
    groups
}

/// Every scrape job's name and service: the services with `metrics`, and
/// before them Prometheus itself and the Alertmanager when they have none.
fn jobs_of(platform: &Platform) -> Vec<(String, &Service)> {
    let mut jobs: Vec<(String, &Service)> = platform
        .services
        .iter()
        .filter(|s| s.metrics.is_some())
        .map(|s| (s.name.clone(), s))
        .collect();
    let implicit = [
        role(platform, platform.roles.alerting.as_ref()),
        role(platform, platform.roles.monitoring.as_ref()),
    ];
    for s in implicit.into_iter().flatten() {
        if s.metrics.is_none() && role_port(s).is_some() {
            jobs.insert(0, (s.name.clone(), s));
        }
    }
    jobs
}

/// The Kubernetes name of the port `number` of `s` (a range's ports are
/// named one by one there).
fn kubernetes_port_name(s: &Service, number: u16) -> String {
    s.ports
        .iter()
        .find(|p| p.container.contains(number))
        .map_or_else(String::new, |p| {
            if p.container.is_single() {
                p.name.clone()
            } else {
                super::kubernetes::range_port_name(&p.name, number)
            }
        })
}

fn discovery(
    platform: &Platform,
    flavour: Flavour,
    s: &Service,
    port: u16,
    labels: Vec<(String, String)>,
) -> Discovery {
    match flavour {
        Flavour::Compose => Discovery {
            targets: vec![format!("{}:{port}", s.name)],
            labels,
            kubernetes: None,
        },
        Flavour::Kubernetes => {
            let mut relabel = vec![
                Relabel {
                    source_labels: Some(vec![
                        "__meta_kubernetes_service_name",
                        "__meta_kubernetes_endpointslice_port_name",
                    ]),
                    regex: Some(format!("{};{}", s.name, kubernetes_port_name(s, port))),
                    action: Some("keep"),
                    target_label: None,
                    replacement: None,
                },
                Relabel {
                    source_labels: Some(vec!["__meta_kubernetes_pod_name"]),
                    regex: None,
                    action: None,
                    target_label: Some("pod".into()),
                    replacement: None,
                },
            ];
            relabel.extend(labels.into_iter().map(|(k, v)| Relabel {
                source_labels: None,
                regex: None,
                action: None,
                target_label: Some(k),
                replacement: Some(v),
            }));
            Discovery {
                targets: Vec::new(),
                labels: Vec::new(),
                kubernetes: Some(KubernetesDiscovery {
                    role: "endpointslice",
                    namespace: platform.name.clone(),
                    relabel,
                }),
            }
        }
    }
}

/// Builds the context, or `None` when the platform has no monitoring role.
pub fn context(platform: &Platform, flavour: Flavour) -> Option<Context> {
    let monitoring = role(platform, platform.roles.monitoring.as_ref())?;
    let labels = |phase: usize| {
        let mut l = vec![("platform".to_owned(), platform.name.clone())];
        if platform.phased {
            l.push(("phase".to_owned(), platform.phases[phase].id.clone()));
        }
        l
    };
    let mut jobs = Vec::new();
    for (name, s) in jobs_of(platform) {
        let (path, params, port) = match &s.metrics {
            Some(m) => {
                let mut params: Vec<(String, Vec<String>)> = Vec::new();
                for (k, v) in &m.params {
                    match params.iter_mut().find(|(name, _)| name == k) {
                        Some((_, values)) => values.push(v.clone()),
                        None => params.push((k.clone(), vec![v.clone()])),
                    }
                }
                (m.path.clone(), params, m.port.number)
            }
            None => ("/metrics".to_owned(), Vec::new(), role_port(s).unwrap_or(0)),
        };
        jobs.push(Job {
            name,
            metrics_path: path,
            params,
            discovery: discovery(platform, flavour, s, port, labels(s.phase)),
        });
    }
    let port = role_port(monitoring).unwrap_or(9090);
    let alertmanagers = role(platform, platform.roles.alerting.as_ref()).and_then(|a| {
        let port = role_port(a)?;
        let mut d = discovery(platform, flavour, a, port, Vec::new());
        if let Some(k) = &mut d.kubernetes {
            k.relabel.truncate(1);
        }
        Some(d)
    });
    let m = &platform.monitoring;
    Some(Context {
        platform: platform.name.clone(),
        flavour,
        scrape_timeout: (m.scrape_interval_ms < DEFAULT_SCRAPE_TIMEOUT_MS)
            .then(|| m.scrape_interval.clone()),
        scrape_interval: m.scrape_interval.clone(),
        evaluation_interval: m.evaluation_interval.clone(),
        rule_file: RULES_PATH,
        jobs,
        alertmanagers,
        groups: alert_groups(platform),
        datasource_url: role(platform, platform.roles.dashboards.as_ref())
            .map(|_| format!("http://{}:{port}", monitoring.name)),
    })
}

/// The rendered files: under `prometheus/`, `grafana/` and `alertmanager/`
/// for compose, or flat under `kubernetes/config/` for Kubernetes.
pub fn render_files(
    platform: &Platform,
    engine: &Engine,
    flavour: Flavour,
) -> Result<Vec<(String, String)>, TemplateError> {
    render_parts(platform, engine, flavour, Parts::ALL)
}

/// Which of the files [`render_files`] makes [`render_parts`] renders.
#[derive(Debug, Clone, Copy)]
pub struct Parts {
    /// `alerts.yml` and `datasources.yml`: the same in both flavours with
    /// the built-in templates (which do not read `flavour`, `jobs` or
    /// `alertmanagers`).
    pub alerts_and_datasources: bool,
    /// Alertmanager's config, which has no flavour.
    pub alertmanager: bool,
}

impl Parts {
    pub const ALL: Parts = Parts {
        alerts_and_datasources: true,
        alertmanager: true,
    };
}

/// The files of [`render_files`] that `parts` selects (`prometheus.yml`
/// always).
pub fn render_parts(
    platform: &Platform,
    engine: &Engine,
    flavour: Flavour,
    parts: Parts,
) -> Result<Vec<(String, String)>, TemplateError> {
    let path = |dir: &str, name: &str| match flavour {
        Flavour::Kubernetes => format!("kubernetes/config/{name}"),
        Flavour::Compose => format!("{dir}/{name}"),
    };
    let mut files = Vec::new();
    if let Some(cx) = context(platform, flavour) {
        // One context for the three templates, converted once.
        let values = Engine::values(&cx);
        files.push((
            path("prometheus", "prometheus.yml"),
            engine.render_values("prometheus/prometheus.yml.j2", &values)?,
        ));
        if parts.alerts_and_datasources {
            files.push((
                path("prometheus", "alerts.yml"),
                engine.render_values("prometheus/alerts.yml.j2", &values)?,
            ));
        }
        if parts.alerts_and_datasources && cx.datasource_url.is_some() {
            files.push((
                path("grafana", "datasources.yml"),
                engine.render_values("prometheus/datasources.yml.j2", &values)?,
            ));
        }
    }
    if parts.alertmanager
        && let Some(conf) = alertmanager::render_conf(platform, engine)?
    {
        files.push((path("alertmanager", alertmanager::FILE_NAME), conf));
    }
    Ok(files)
}

/// The prometheus target.
pub fn render(
    platform: &Platform,
    engine: &Engine,
) -> Result<Vec<(String, String)>, TemplateError> {
    render_files(platform, engine, Flavour::Compose)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_expressions() {
        let c = AlertSeverity::Critical;
        assert_eq!(
            service_down("api", c).expr,
            "max by (job) (up{job=\"api\"}) == 0"
        );
        assert_eq!(service_absent("api", c).expr, "absent(up{job=\"api\"})");
        assert_eq!(instance_down("api", c).severity, "warning");
        assert_eq!(instance_down("api", AlertSeverity::Info).severity, "info");
        assert_eq!(
            high_error_rate("api", "http_requests_total", "code", AlertSeverity::Warning).expr,
            "sum(rate(http_requests_total{job=\"api\",code=~\"5..\"}[5m])) / sum(rate(http_requests_total{job=\"api\"}[5m])) > 0.05"
        );
        assert!(
            high_latency("api", "d", 250, AlertSeverity::Warning)
                .expr
                .ends_with("> 0.25")
        );
        assert!(
            instance_down("api", c)
                .description
                .contains("{{ $labels.instance }}")
        );
        assert!(watchdog().for_duration.is_none() && watchdog().expr == "vector(1)");
    }
}

//! Prometheus: `prometheus/prometheus.yml` (one scrape job per service with
//! `metrics`), `prometheus/alerts.yml` (the alerting rules), and, when the
//! platform has a dashboards role, `grafana/datasources.yml` pointing
//! Grafana at Prometheus.
//!
//! Decisions made here, not in the templates:
//! - A job is named after its service and scrapes the service's DNS name and
//!   container port, with `platform` and `phase` labels; a query string in
//!   the metrics path becomes scrape `params`.
//! - Prometheus scrapes itself: when the monitoring service has no
//!   `metrics` of its own, a job for it is added on its first tcp port.
//! - Every job gets a `ServiceDown` alert (`up == 0` for two minutes,
//!   critical); a service that names its HTTP request counter gets
//!   `HighErrorRate` (more than 5% of requests answered 5xx for ten
//!   minutes), and one that names its duration histogram gets `HighLatency`
//!   (95th percentile above its threshold for ten minutes), both warnings.
//! - Alert texts are built here and written through the `yaml` filter, so
//!   the `{{ $labels.instance }}` they contain reaches Prometheus as text.

use serde::Serialize;

use super::wiring::{role, role_port};
use super::{Engine, TemplateError};
use crate::model::Platform;

/// Where the rule file is mounted next to the configuration.
pub const RULES_PATH: &str = "/etc/prometheus/alerts.yml";
pub const SCRAPE_INTERVAL: &str = "15s";
/// How long `up == 0` must hold before `ServiceDown` fires.
pub const DOWN_FOR: &str = "2m";
/// How long an error rate or latency must hold before it fires.
pub const HTTP_FOR: &str = "10m";
/// The share of 5xx answers above which `HighErrorRate` fires.
pub const ERROR_RATIO: f64 = 0.05;

/// What `prometheus.yml.j2`, `alerts.yml.j2` and `datasources.yml.j2` receive.
#[derive(Debug, Serialize)]
pub struct Context {
    pub platform: String,
    pub scrape_interval: &'static str,
    pub rule_file: &'static str,
    pub jobs: Vec<Job>,
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
    pub target: String,
    pub labels: Vec<(String, String)>,
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
    pub for_duration: &'static str,
    pub severity: &'static str,
    pub service: String,
    pub summary: String,
    pub description: String,
}

fn service_down(job: &str) -> AlertRule {
    AlertRule {
        alert: "ServiceDown",
        expr: format!("up{{job=\"{job}\"}} == 0"),
        for_duration: DOWN_FOR,
        severity: "critical",
        service: job.to_owned(),
        summary: format!("{job} is down"),
        description: format!(
            "Prometheus has not scraped {job} ({{{{ $labels.instance }}}}) successfully for {DOWN_FOR}."
        ),
    }
}

fn high_error_rate(job: &str, counter: &str, label: &str) -> AlertRule {
    AlertRule {
        alert: "HighErrorRate",
        expr: format!(
            "sum(rate({counter}{{job=\"{job}\",{label}=~\"5..\"}}[5m])) / sum(rate({counter}{{job=\"{job}\"}}[5m])) > {ERROR_RATIO}"
        ),
        for_duration: HTTP_FOR,
        severity: "warning",
        service: job.to_owned(),
        summary: format!("{job} answers many requests with 5xx"),
        description: format!(
            "More than {}% of the requests to {job} failed with a 5xx status over the last {HTTP_FOR} (now {{{{ $value | humanizePercentage }}}}).",
            ERROR_RATIO * 100.0
        ),
    }
}

fn high_latency(job: &str, histogram: &str, ms: u32) -> AlertRule {
    let seconds = f64::from(ms) / 1000.0;
    AlertRule {
        alert: "HighLatency",
        expr: format!(
            "histogram_quantile(0.95, sum by (le) (rate({histogram}_bucket{{job=\"{job}\"}}[5m]))) > {seconds}"
        ),
        for_duration: HTTP_FOR,
        severity: "warning",
        service: job.to_owned(),
        summary: format!("{job} is slow"),
        description: format!(
            "The 95th percentile of {job}'s request duration has been above {ms}ms for {HTTP_FOR} (now {{{{ $value | humanizeDuration }}}})."
        ),
    }
}

/// Builds the context, or `None` when the platform has no monitoring role.
pub fn context(platform: &Platform) -> Option<Context> {
    let monitoring = role(platform, platform.roles.monitoring.as_ref())?;
    let mut jobs = Vec::new();
    let mut down = Vec::new();
    let mut http = Vec::new();
    let labels = |phase: usize| {
        let mut l = vec![("platform".to_owned(), platform.name.clone())];
        if platform.phased {
            l.push(("phase".to_owned(), platform.phases[phase].id.clone()));
        }
        l
    };
    for s in &platform.services {
        let Some(m) = &s.metrics else { continue };
        let mut params: Vec<(String, Vec<String>)> = Vec::new();
        for (k, v) in &m.params {
            match params.iter_mut().find(|(name, _)| name == k) {
                Some((_, values)) => values.push(v.clone()),
                None => params.push((k.clone(), vec![v.clone()])),
            }
        }
        jobs.push(Job {
            name: s.name.clone(),
            metrics_path: m.path.clone(),
            params,
            target: format!("{}:{}", s.name, m.port.number),
            labels: labels(s.phase),
        });
        down.push(service_down(&s.name));
        if let Some((counter, label)) = &m.http_requests {
            http.push(high_error_rate(&s.name, counter, label));
        }
        if let Some((histogram, ms)) = &m.http_duration {
            http.push(high_latency(&s.name, histogram, *ms));
        }
    }
    let port = role_port(monitoring).unwrap_or(9090);
    if monitoring.metrics.is_none() {
        jobs.insert(
            0,
            Job {
                name: monitoring.name.clone(),
                metrics_path: "/metrics".into(),
                params: Vec::new(),
                target: format!("{}:{port}", monitoring.name),
                labels: labels(monitoring.phase),
            },
        );
        down.insert(0, service_down(&monitoring.name));
    }
    let mut groups = vec![Group {
        name: format!("{}-availability", platform.name),
        rules: down,
    }];
    if !http.is_empty() {
        groups.push(Group {
            name: format!("{}-http", platform.name),
            rules: http,
        });
    }
    let datasource_url = role(platform, platform.roles.dashboards.as_ref())
        .map(|_| format!("http://{}:{port}", monitoring.name));
    Some(Context {
        platform: platform.name.clone(),
        scrape_interval: SCRAPE_INTERVAL,
        rule_file: RULES_PATH,
        jobs,
        groups,
        datasource_url,
    })
}

/// The rendered files, relative to `dir` (`prometheus/` and `grafana/`, or
/// one flat directory for the Kubernetes copies).
pub fn render_files(
    platform: &Platform,
    engine: &Engine,
    flat: Option<&str>,
) -> Result<Vec<(String, String)>, TemplateError> {
    let Some(cx) = context(platform) else {
        return Ok(Vec::new());
    };
    let path = |dir: &str, name: &str| match flat {
        Some(flat) => format!("{flat}/{name}"),
        None => format!("{dir}/{name}"),
    };
    let mut files = vec![
        (
            path("prometheus", "prometheus.yml"),
            engine.render("prometheus/prometheus.yml.j2", &cx)?,
        ),
        (
            path("prometheus", "alerts.yml"),
            engine.render("prometheus/alerts.yml.j2", &cx)?,
        ),
    ];
    if cx.datasource_url.is_some() {
        files.push((
            path("grafana", "datasources.yml"),
            engine.render("prometheus/datasources.yml.j2", &cx)?,
        ));
    }
    Ok(files)
}

/// The prometheus target.
pub fn render(
    platform: &Platform,
    engine: &Engine,
) -> Result<Vec<(String, String)>, TemplateError> {
    render_files(platform, engine, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_expressions() {
        assert_eq!(service_down("api").expr, "up{job=\"api\"} == 0");
        assert_eq!(
            high_error_rate("api", "http_requests_total", "code").expr,
            "sum(rate(http_requests_total{job=\"api\",code=~\"5..\"}[5m])) / sum(rate(http_requests_total{job=\"api\"}[5m])) > 0.05"
        );
        assert!(high_latency("api", "d", 250).expr.ends_with("> 0.25"));
        assert!(
            service_down("api")
                .description
                .contains("{{ $labels.instance }}")
        );
    }
}

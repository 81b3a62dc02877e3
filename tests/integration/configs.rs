//! The three configs that make the rendered platform a platform: Nginx,
//! Prometheus (and Grafana's datasource) and Kong. Every count comes from
//! the spec, never from a constant.

use std::collections::BTreeMap;

use platgen::model::Platform;
use platgen::render::OutFile;
use serde::Deserialize;

use crate::render::{platform, render_all, renderable_specs};

fn get<'a>(files: &'a [OutFile], path: &str) -> Option<&'a str> {
    files
        .iter()
        .find(|f| f.path == path)
        .map(|f| f.contents.as_str())
}

fn routed(platform: &Platform) -> Vec<(&str, String)> {
    platform
        .services
        .iter()
        .filter_map(|s| {
            s.route.as_ref().map(|r| {
                (
                    s.name.as_str(),
                    platgen::check::route_collision::normalized(&r.path).to_owned(),
                )
            })
        })
        .collect()
}

/// The `location` lines of an Nginx config, without the `location` word.
fn locations(conf: &str) -> Vec<String> {
    conf.lines()
        .filter_map(|l| l.trim().strip_prefix("location "))
        .map(|l| l.trim_end_matches(" {").to_owned())
        .collect()
}

#[test]
fn nginx_has_a_location_for_every_route_in_both_flavours() {
    for spec in renderable_specs() {
        let platform = platform(&spec);
        let files = render_all(&platform);
        for path in ["nginx/nginx.conf", "kubernetes/config/nginx.conf"] {
            let Some(conf) = get(&files, path) else {
                assert!(
                    platform.roles.proxy.is_none(),
                    "{}: no {path}",
                    spec.display()
                );
                continue;
            };
            let found = locations(conf);
            let routes = routed(&platform);
            let mut expected = vec!["= /healthz".to_owned()];
            for (_, p) in &routes {
                if p == "/" {
                    expected.push("/".into());
                } else {
                    expected.push(format!("= {p}"));
                    expected.push(format!("{p}/"));
                }
            }
            if !routes.iter().any(|(_, p)| p == "/") {
                expected.push("/".into());
            }
            assert_eq!(found, expected, "{} {path}", spec.display());
            // Gateway routes go to the gateway, the others to their service.
            for s in platform.services.iter().filter(|s| s.route.is_some()) {
                let marker = format!("        # {}", s.name);
                let at = conf
                    .find(&marker)
                    .unwrap_or_else(|| panic!("{path}: no section for {}", s.name));
                let section = &conf[at..];
                let pass = section
                    .lines()
                    .find(|l| l.trim().starts_with("proxy_pass"))
                    .unwrap();
                let through = match (&s.gateway, &platform.roles.gateway) {
                    (Some(_), Some(g)) => g.clone(),
                    _ => s.name.clone(),
                };
                assert!(
                    pass.contains(&format!("backend_{}", through.replace('-', "_"))),
                    "{path}: {} -> {pass}",
                    s.name
                );
            }
            assert!(conf.contains("location = /healthz"));
        }
    }
}

#[test]
fn nginx_starts_without_its_upstreams_under_compose() {
    let files = render_all(&platform(&crate::support::root().join("platform.yaml")));
    let compose = get(&files, "nginx/nginx.conf").unwrap();
    assert!(compose.contains("resolver 127.0.0.11"));
    assert!(
        !compose.contains("upstream backend_"),
        "an upstream block resolves at startup"
    );
    assert!(
        compose
            .lines()
            .filter(|l| l.trim().starts_with("proxy_pass"))
            .all(|l| l.contains("http://$backend_"))
    );
    let k8s = get(&files, "kubernetes/config/nginx.conf").unwrap();
    assert!(k8s.contains("upstream backend_") && !k8s.contains("resolver "));
    // The WebSocket route upgrades, the others do not.
    let ws = &compose[compose.find("# nags-websocket").unwrap()..];
    let ws = &ws[..ws.find("\n\n").unwrap_or(ws.len())];
    assert!(
        ws.contains("proxy_set_header Upgrade $http_upgrade;"),
        "{ws}"
    );
}

// --- Prometheus ------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PromConfig {
    global: BTreeMap<String, String>,
    rule_files: Vec<String>,
    scrape_configs: Vec<ScrapeConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScrapeConfig {
    job_name: String,
    metrics_path: String,
    #[serde(default)]
    params: BTreeMap<String, Vec<String>>,
    static_configs: Vec<StaticConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StaticConfig {
    targets: Vec<String>,
    labels: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rules {
    groups: Vec<RuleGroup>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleGroup {
    name: String,
    rules: Vec<AlertRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertRule {
    alert: String,
    expr: String,
    #[serde(rename = "for")]
    for_: String,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
}

#[test]
fn prometheus_has_a_job_and_a_down_alert_for_every_service_with_metrics() {
    for spec in renderable_specs() {
        let platform = platform(&spec);
        let files = render_all(&platform);
        let Some(text) = get(&files, "prometheus/prometheus.yml") else {
            assert!(platform.roles.monitoring.is_none());
            continue;
        };
        assert_eq!(Some(text), get(&files, "kubernetes/config/prometheus.yml"));
        let config: PromConfig = serde_saphyr::from_str(text).unwrap();
        assert_eq!(config.rule_files, ["/etc/prometheus/alerts.yml"]);
        assert!(config.global.contains_key("scrape_interval"));
        let monitoring = platform.roles.monitoring.clone().unwrap();
        let mut expected: Vec<&str> = platform
            .services
            .iter()
            .filter(|s| s.metrics.is_some())
            .map(|s| s.name.as_str())
            .collect();
        if !expected.contains(&monitoring.as_str()) {
            expected.insert(0, &monitoring);
        }
        let jobs: Vec<&str> = config
            .scrape_configs
            .iter()
            .map(|j| j.job_name.as_str())
            .collect();
        assert_eq!(jobs, expected, "{}", spec.display());
        for job in &config.scrape_configs {
            let s = platform.service(&job.job_name).unwrap();
            let target = &job.static_configs[0];
            assert_eq!(target.labels["platform"], platform.name);
            assert_eq!(target.labels.contains_key("phase"), platform.phased);
            if let Some(m) = &s.metrics {
                assert_eq!(target.targets, [format!("{}:{}", s.name, m.port.number)]);
                assert_eq!(job.metrics_path, m.path);
                assert_eq!(job.params.len(), m.params.len());
            }
        }
        let rules: Rules =
            serde_saphyr::from_str(get(&files, "prometheus/alerts.yml").unwrap()).unwrap();
        let all: Vec<&AlertRule> = rules.groups.iter().flat_map(|g| &g.rules).collect();
        for job in &jobs {
            let down: Vec<_> = all
                .iter()
                .filter(|r| r.alert == "ServiceDown" && r.labels["service"] == *job)
                .collect();
            assert_eq!(down.len(), 1, "{job}");
            assert_eq!(down[0].expr, format!("up{{job=\"{job}\"}} == 0"));
        }
        let http = |alert: &str| all.iter().filter(|r| r.alert == alert).count();
        let counters = platform
            .services
            .iter()
            .filter(|s| {
                s.metrics
                    .as_ref()
                    .is_some_and(|m| m.http_requests.is_some())
            })
            .count();
        let histograms = platform
            .services
            .iter()
            .filter(|s| {
                s.metrics
                    .as_ref()
                    .is_some_and(|m| m.http_duration.is_some())
            })
            .count();
        assert_eq!(http("HighErrorRate"), counters);
        assert_eq!(http("HighLatency"), histograms);
        for r in &all {
            assert!(["critical", "warning"].contains(&r.labels["severity"].as_str()));
            assert!(!r.annotations["summary"].is_empty() && !r.for_.is_empty());
        }
        assert!(
            rules
                .groups
                .iter()
                .all(|g| g.name.starts_with(&platform.name))
        );
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Datasources {
    api_version: u32,
    datasources: Vec<Datasource>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Datasource {
    name: String,
    uid: String,
    #[serde(rename = "type")]
    kind: String,
    access: String,
    url: String,
    is_default: bool,
    editable: bool,
    json_data: BTreeMap<String, String>,
}

#[test]
fn grafana_gets_prometheus_as_its_datasource() {
    for spec in renderable_specs() {
        let platform = platform(&spec);
        let files = render_all(&platform);
        let expected = platform.roles.dashboards.is_some() && platform.roles.monitoring.is_some();
        let Some(text) = get(&files, "grafana/datasources.yml") else {
            assert!(!expected, "{}", spec.display());
            continue;
        };
        let d: Datasources = serde_saphyr::from_str(text).unwrap();
        assert_eq!(d.api_version, 1);
        let prom = &d.datasources[0];
        let monitoring = platform
            .service(platform.roles.monitoring.as_ref().unwrap())
            .unwrap();
        assert_eq!(prom.kind, "prometheus");
        assert_eq!(prom.access, "proxy");
        assert!(prom.is_default && !prom.editable && !prom.uid.is_empty() && !prom.name.is_empty());
        assert_eq!(
            prom.url,
            format!(
                "http://{}:{}",
                monitoring.name, monitoring.ports[0].container.low
            )
        );
        assert!(prom.json_data.contains_key("timeInterval"));
        let compose = get(&files, "compose.yaml").unwrap();
        assert!(compose.contains(
            "./grafana/datasources.yml:/etc/grafana/provisioning/datasources/platgen.yml:ro"
        ));
    }
}

// --- Kong ------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KongConfig {
    #[serde(rename = "_format_version")]
    format_version: String,
    services: Vec<KongService>,
    #[serde(default)]
    consumers: Vec<serde_json::Value>,
    plugins: Vec<KongPlugin>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KongService {
    name: String,
    url: String,
    tags: Vec<String>,
    routes: Vec<serde_json::Value>,
    #[serde(default)]
    plugins: Vec<KongPlugin>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KongPlugin {
    name: String,
    config: serde_json::Value,
    tags: Vec<String>,
}

#[test]
fn kong_has_a_service_for_every_service_with_gateway() {
    for spec in renderable_specs() {
        let platform = platform(&spec);
        let files = render_all(&platform);
        let Some(text) = get(&files, "kong/kong.yml") else {
            assert!(platform.roles.gateway.is_none());
            continue;
        };
        let kong: KongConfig = serde_saphyr::from_str(text).unwrap();
        assert_eq!(kong.format_version, "3.0");
        let expected: Vec<&str> = platform
            .services
            .iter()
            .filter(|s| s.gateway.is_some())
            .map(|s| s.name.as_str())
            .collect();
        let found: Vec<&str> = kong.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(found, expected, "{}", spec.display());
        for k in &kong.services {
            let s = platform.service(&k.name).unwrap();
            let (g, route) = (s.gateway.as_ref().unwrap(), s.route.as_ref().unwrap());
            assert_eq!(k.url, format!("http://{}:{}", s.name, route.port.number));
            assert_eq!(k.routes.len(), 1);
            assert_eq!(k.routes[0]["strip_path"], route.strip_prefix);
            let names: Vec<&str> = k.plugins.iter().map(|p| p.name.as_str()).collect();
            assert_eq!(
                names.contains(&"rate-limiting"),
                g.rate_limit_per_minute.is_some()
            );
            assert_eq!(
                g.auth.as_deref().is_some_and(|a| names.contains(&a)),
                g.auth.is_some()
            );
            assert_eq!(names.contains(&"cors"), g.cors.is_some());
            assert_eq!(names.contains(&"acl"), !g.consumers.is_empty());
            if let Some(limit) = g.rate_limit_per_minute {
                let rl = k
                    .plugins
                    .iter()
                    .find(|p| p.name == "rate-limiting")
                    .unwrap();
                assert_eq!(rl.config["minute"], limit);
            }
            assert!(
                k.tags.contains(&"platgen".to_owned())
                    && k.plugins.iter().all(|p| !p.tags.is_empty())
            );
        }
        assert!(kong.plugins.iter().any(|p| p.name == "prometheus"));
        let listed: usize = platform
            .services
            .iter()
            .filter_map(|s| s.gateway.as_ref())
            .flat_map(|g| g.consumers.iter())
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        assert_eq!(kong.consumers.len(), listed);
        for c in &kong.consumers {
            let keys: Vec<&String> = c.as_object().unwrap().keys().collect();
            assert!(
                keys.iter()
                    .all(|k| ["username", "tags", "acls"].contains(&k.as_str())),
                "credentials never: {keys:?}"
            );
        }
    }
}

#[test]
fn a_route_path_cannot_inject_nginx_directives() {
    // `check` rejects it ...
    let spec = "name: demo\nroles: {proxy: web}\nservices:\n  web:\n    image: \"nginx:1.27.3-alpine\"\n    ports: [{container: 80}]\n    health: {http: {path: /healthz}}\n    route: {path: \"/api; return 200 x\"}\n";
    let (_, outcome) = platgen::check::check_bytes("platform.yaml", spec.as_bytes());
    assert!(outcome.diagnostics.iter().any(|d| d.rule == "invalid-path"));
    assert!(outcome.platform.is_none());

    // ... and were it to reach a template, the `nginx` filter refuses it.
    let good = spec.replace("/api; return 200 x", "/api");
    let (_, outcome) = platgen::check::check_bytes("platform.yaml", good.as_bytes());
    let mut platform = outcome.platform.unwrap();
    platform.services[0].route.as_mut().unwrap().path = "/api; return 200 x".into();
    let err = platgen::render::nginx::render_conf(
        &platform,
        &platgen::render::Engine::new(None),
        platgen::render::nginx::Flavour::Compose,
    )
    .unwrap_err();
    assert!(err.to_string().contains("refusing to write"), "{err}");
}

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
    #[serde(default)]
    alerting: Option<PromAlerting>,
    scrape_configs: Vec<ScrapeConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PromAlerting {
    alertmanagers: Vec<Targets>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScrapeConfig {
    job_name: String,
    metrics_path: String,
    #[serde(default)]
    params: BTreeMap<String, Vec<String>>,
    #[serde(flatten)]
    targets: Targets,
}

/// Either static targets (compose) or Kubernetes discovery, never both.
#[derive(Debug, Deserialize)]
#[allow(clippy::struct_field_names)] // Prometheus's own names
struct Targets {
    #[serde(default)]
    static_configs: Vec<StaticConfig>,
    #[serde(default)]
    kubernetes_sd_configs: Vec<KubernetesSd>,
    #[serde(default)]
    relabel_configs: Vec<RelabelConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StaticConfig {
    targets: Vec<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KubernetesSd {
    role: String,
    namespaces: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RelabelConfig {
    #[serde(default)]
    source_labels: Vec<String>,
    regex: Option<String>,
    action: Option<String>,
    target_label: Option<String>,
    replacement: Option<String>,
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
    for_: Option<String>,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
}

/// The jobs Prometheus must have: every service with `metrics`, and the
/// monitoring and alerting services themselves.
fn expected_jobs(platform: &Platform) -> Vec<&str> {
    let mut expected: Vec<&str> = platform
        .services
        .iter()
        .filter(|s| s.metrics.is_some())
        .map(|s| s.name.as_str())
        .collect();
    for role in [&platform.roles.alerting, &platform.roles.monitoring] {
        if let Some(r) = role
            && !expected.contains(&r.as_str())
        {
            expected.insert(0, r);
        }
    }
    expected
}

#[test]
fn prometheus_scrapes_every_service_with_metrics_statically_under_compose() {
    for spec in renderable_specs() {
        let platform = platform(&spec);
        let files = render_all(&platform);
        let Some(text) = get(&files, "prometheus/prometheus.yml") else {
            assert!(platform.roles.monitoring.is_none());
            continue;
        };
        let config: PromConfig = serde_saphyr::from_str(text).unwrap();
        assert_eq!(config.rule_files, ["/etc/prometheus/alerts.yml"]);
        assert_eq!(
            config.global["scrape_interval"],
            platform.monitoring.scrape_interval
        );
        assert_eq!(
            config.global["evaluation_interval"],
            platform.monitoring.evaluation_interval
        );
        let jobs: Vec<&str> = config
            .scrape_configs
            .iter()
            .map(|j| j.job_name.as_str())
            .collect();
        assert_eq!(jobs, expected_jobs(&platform), "{}", spec.display());
        for job in &config.scrape_configs {
            let s = platform.service(&job.job_name).unwrap();
            assert!(job.targets.kubernetes_sd_configs.is_empty());
            let target = &job.targets.static_configs[0];
            assert_eq!(target.labels["platform"], platform.name);
            assert_eq!(target.labels.contains_key("phase"), platform.phased);
            if let Some(m) = &s.metrics {
                assert_eq!(target.targets, [format!("{}:{}", s.name, m.port.number)]);
                assert_eq!(job.metrics_path, m.path);
                assert_eq!(job.params.len(), m.params.len());
            }
        }
        match (&config.alerting, &platform.roles.alerting) {
            (Some(a), Some(role)) => {
                let am = platform.service(role).unwrap();
                assert_eq!(
                    a.alertmanagers[0].static_configs[0].targets,
                    [format!("{role}:{}", am.ports[0].container.low)]
                );
            }
            (None, None) => {}
            other => panic!("{}: alerting {other:?}", spec.display()),
        }
    }
}

#[test]
fn prometheus_on_kubernetes_discovers_every_pod_behind_each_service() {
    for spec in renderable_specs() {
        let platform = platform(&spec);
        let files = render_all(&platform);
        let Some(text) = get(&files, "kubernetes/config/prometheus.yml") else {
            assert!(platform.roles.monitoring.is_none());
            continue;
        };
        let config: PromConfig = serde_saphyr::from_str(text).unwrap();
        let jobs: Vec<&str> = config
            .scrape_configs
            .iter()
            .map(|j| j.job_name.as_str())
            .collect();
        assert_eq!(jobs, expected_jobs(&platform), "{}", spec.display());
        let keeps = |t: &Targets| -> String {
            assert!(t.static_configs.is_empty());
            assert_eq!(t.kubernetes_sd_configs.len(), 1);
            let sd = &t.kubernetes_sd_configs[0];
            assert_eq!(sd.role, "endpointslice");
            assert_eq!(sd.namespaces["names"], std::slice::from_ref(&platform.name));
            let keep = &t.relabel_configs[0];
            assert_eq!(keep.action.as_deref(), Some("keep"));
            assert_eq!(
                keep.source_labels,
                [
                    "__meta_kubernetes_service_name",
                    "__meta_kubernetes_endpointslice_port_name"
                ]
            );
            keep.regex.clone().unwrap()
        };
        for job in &config.scrape_configs {
            let s = platform.service(&job.job_name).unwrap();
            let regex = keeps(&job.targets);
            let (service, port) = regex.split_once(';').unwrap();
            assert_eq!(service, s.name);
            // The port name is one the Service really has.
            let manifest = get(&files, &format!("kubernetes/{}.yaml", s.name)).unwrap();
            assert!(
                manifest.contains(&format!("- name: \"{port}\"")),
                "{}: no port {port}",
                s.name
            );
            let set: BTreeMap<&str, &str> = job
                .targets
                .relabel_configs
                .iter()
                .filter_map(|r| Some((r.target_label.as_deref()?, r.replacement.as_deref()?)))
                .collect();
            assert_eq!(set["platform"], platform.name);
            assert_eq!(set.contains_key("phase"), platform.phased);
            assert!(job.targets.relabel_configs.iter().any(|r| {
                r.target_label.as_deref() == Some("pod")
                    && r.source_labels == ["__meta_kubernetes_pod_name"]
            }));
        }
        if let Some(role) = &platform.roles.alerting {
            let a = config.alerting.as_ref().expect("alerting");
            assert!(keeps(&a.alertmanagers[0]).starts_with(&format!("{role};")));
        }
        // The discovery may read what it needs, and only in the namespace.
        let monitoring = platform.roles.monitoring.as_ref().unwrap();
        let rbac = get(&files, &format!("kubernetes/{monitoring}.rbac.yaml")).unwrap();
        for needed in [
            "kind: ServiceAccount",
            "kind: Role\n",
            "kind: RoleBinding",
            "\"endpointslices\"",
            "\"pods\"",
            "\"services\"",
        ] {
            assert!(rbac.contains(needed), "{needed}");
        }
        assert!(!rbac.contains("ClusterRole"));
        let workload = get(&files, &format!("kubernetes/{monitoring}.yaml")).unwrap();
        assert!(workload.contains(&format!("serviceAccountName: \"{monitoring}\"")));
        let kustomization = get(&files, "kubernetes/kustomization.yaml").unwrap();
        assert!(kustomization.contains(&format!("- \"{monitoring}.rbac.yaml\"")));
    }
}

#[test]
fn every_job_has_availability_alerts_and_prometheus_watches_itself() {
    for spec in renderable_specs() {
        let platform = platform(&spec);
        let files = render_all(&platform);
        let Some(text) = get(&files, "prometheus/alerts.yml") else {
            continue;
        };
        assert_eq!(Some(text), get(&files, "kubernetes/config/alerts.yml"));
        let rules: Rules = serde_saphyr::from_str(text).unwrap();
        let all: Vec<&AlertRule> = rules.groups.iter().flat_map(|g| &g.rules).collect();
        let monitoring = platform.roles.monitoring.clone().unwrap();
        let of = |alert: &str, job: &str| -> Vec<&&AlertRule> {
            all.iter()
                .filter(|r| {
                    r.alert == alert && r.labels.get("service").map(String::as_str) == Some(job)
                })
                .collect()
        };
        for job in expected_jobs(&platform) {
            if job == monitoring {
                // An alert on Prometheus's own `up` could never fire.
                assert!(of("ServiceDown", job).is_empty() && of("ServiceAbsent", job).is_empty());
                continue;
            }
            let s = platform.service(job).unwrap();
            let severity = s.metrics.as_ref().map_or("critical", |m| m.severity.name());
            let down = of("ServiceDown", job);
            assert_eq!(down.len(), 1, "{job}");
            assert_eq!(
                down[0].expr,
                format!("max by (job) (up{{job=\"{job}\"}}) == 0")
            );
            assert_eq!(down[0].labels["severity"], severity);
            let absent = of("ServiceAbsent", job);
            assert_eq!(absent.len(), 1, "{job}");
            assert_eq!(absent[0].expr, format!("absent(up{{job=\"{job}\"}})"));
            let several = s.replicas > 1 || s.autoscale.is_some_and(|a| a.max > 1);
            assert_eq!(of("InstanceDown", job).len(), usize::from(several), "{job}");
        }
        let count = |alert: &str| all.iter().filter(|r| r.alert == alert).count();
        let metrics = || platform.services.iter().filter_map(|s| s.metrics.as_ref());
        assert_eq!(
            count("HighErrorRate"),
            metrics().filter(|m| m.http_requests.is_some()).count()
        );
        assert_eq!(
            count("HighLatency"),
            metrics().filter(|m| m.http_duration.is_some()).count()
        );
        for r in all.iter().filter(|r| r.alert.starts_with("High")) {
            let s = platform.service(&r.labels["service"]).unwrap();
            assert_eq!(
                r.labels["severity"],
                s.metrics.as_ref().unwrap().http_severity.name()
            );
        }
        // What can go wrong inside a running Prometheus, on its own metrics.
        for alert in [
            "PrometheusConfigReloadFailed",
            "PrometheusRuleEvaluationFailures",
        ] {
            let r = of(alert, &monitoring);
            assert_eq!(r.len(), 1, "{alert}");
            assert!(r[0].expr.contains(&format!("{{job=\"{monitoring}\"}}")));
        }
        let heartbeat = platform
            .alerting
            .as_ref()
            .is_some_and(|a| a.heartbeat.is_some());
        assert_eq!(
            count("Watchdog"),
            usize::from(heartbeat && platform.roles.alerting.is_some())
        );
        assert_eq!(
            count("AlertmanagerNotificationsFailing"),
            usize::from(platform.roles.alerting.is_some())
        );
        for r in &all {
            assert!(
                ["critical", "warning", "info", "none"].contains(&r.labels["severity"].as_str())
            );
            assert!(
                !r.annotations["summary"].is_empty() && !r.annotations["description"].is_empty()
            );
            assert_eq!(r.for_.is_none(), r.alert == "Watchdog", "{}", r.alert);
            match &platform.monitoring.runbook_url {
                Some(base) => assert_eq!(
                    r.annotations["runbook_url"],
                    format!("{base}/{}", r.alert.to_lowercase())
                ),
                None => assert!(!r.annotations.contains_key("runbook_url")),
            }
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
        assert_eq!(
            prom.json_data["timeInterval"],
            platform.monitoring.scrape_interval
        );
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
        // Every defined consumer, in spec order, with the services that
        // list it as its ACL groups; never a credential.
        let names: Vec<&str> = kong
            .consumers
            .iter()
            .map(|c| c["username"].as_str().unwrap())
            .collect();
        let defined: Vec<&str> = platform
            .gateway
            .consumers
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(names, defined, "{}", spec.display());
        for c in &kong.consumers {
            let keys: Vec<&String> = c.as_object().unwrap().keys().collect();
            assert!(
                keys.iter()
                    .all(|k| ["username", "tags", "acls"].contains(&k.as_str())),
                "credentials never: {keys:?}"
            );
            let groups: Vec<&str> = c
                .get("acls")
                .map(|a| {
                    a.as_array()
                        .unwrap()
                        .iter()
                        .map(|g| g["group"].as_str().unwrap())
                        .collect()
                })
                .unwrap_or_default();
            let listing: Vec<&str> = platform
                .services
                .iter()
                .filter(|s| {
                    s.gateway
                        .as_ref()
                        .is_some_and(|g| g.consumers.iter().any(|n| n == &c["username"]))
                })
                .map(|s| s.name.as_str())
                .collect();
            assert_eq!(groups, listing);
        }
        // The consumers are the file's last section: the credentials script
        // writes it again.
        if !kong.consumers.is_empty() {
            let at = text.find("\nconsumers:\n").unwrap();
            assert!(
                !text[at + 1..]
                    .lines()
                    .skip(1)
                    .any(|l| !l.starts_with(' ') && !l.starts_with('#'))
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

// --- Alertmanager ----------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AmConfig {
    route: AmRoute,
    receivers: Vec<BTreeMap<String, serde_json::Value>>,
    inhibit_rules: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AmRoute {
    receiver: String,
    group_by: Vec<String>,
    group_wait: String,
    group_interval: String,
    repeat_interval: String,
    #[serde(default)]
    routes: Vec<AmSubRoute>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AmSubRoute {
    matchers: Vec<String>,
    receiver: String,
    group_wait: Option<String>,
    group_interval: Option<String>,
    repeat_interval: Option<String>,
}

#[test]
fn alertmanager_sends_each_severity_to_its_receiver_and_reads_credentials_from_files() {
    for spec in renderable_specs() {
        let platform = platform(&spec);
        let files = render_all(&platform);
        let Some(role) = &platform.roles.alerting else {
            assert!(get(&files, "alertmanager/alertmanager.cfg").is_none());
            continue;
        };
        let compose = get(&files, "compose.yaml").unwrap();
        assert!(
            compose.contains(
                "\"./alertmanager/alertmanager.cfg:/etc/alertmanager/alertmanager.yml:ro\""
            )
        );
        let a = platform.alerting.as_ref().unwrap();
        for (path, dir) in [
            ("alertmanager/alertmanager.cfg", "/run/secrets"),
            ("kubernetes/config/alertmanager.cfg", "/run/secrets"),
        ] {
            let text = get(&files, path).unwrap();
            let am: AmConfig = serde_saphyr::from_str(text).unwrap();
            assert_eq!(am.route.receiver, a.default);
            assert_eq!(am.route.group_by, ["alertname", "service"]);
            assert!(!am.route.group_wait.is_empty() && !am.route.group_interval.is_empty());
            assert!(!am.route.repeat_interval.is_empty());
            let names: Vec<&str> = am
                .receivers
                .iter()
                .map(|r| r["name"].as_str().unwrap())
                .collect();
            let expected: Vec<&str> = a.receivers.iter().map(|r| r.name.as_str()).collect();
            assert_eq!(names, expected);
            let mut routes = am.route.routes.iter();
            if let Some(h) = &a.heartbeat {
                let first = routes.next().unwrap();
                assert_eq!(first.matchers, ["alertname=\"Watchdog\""]);
                assert_eq!(&first.receiver, h);
                assert!(first.group_wait.is_some() && first.group_interval.is_some());
                assert!(first.repeat_interval.is_some());
            }
            for (severity, receiver) in &a.routes {
                let r = routes.next().unwrap();
                assert_eq!(r.matchers, [format!("severity=\"{}\"", severity.name())]);
                assert_eq!(&r.receiver, receiver);
            }
            assert!(routes.next().is_none());
            assert_eq!(am.inhibit_rules.len(), 1);
            // Every credential is a file in the flavour's secrets directory.
            for secret in platform.role_secrets(role) {
                assert!(
                    text.contains(&format!("_file: \"{dir}/{secret}\"")),
                    "{path}: {secret}"
                );
            }
        }
        // Both targets mount those secrets as files.
        let k8s = get(&files, &format!("kubernetes/{role}.yaml")).unwrap();
        for secret in platform.role_secrets(role) {
            assert!(k8s.contains(&format!("mountPath: \"/run/secrets/{secret}\"")));
            assert!(k8s.contains(&format!("- key: \"{secret}\"")));
        }
    }
}

/// The pod template's `platgen/config-hash`.
fn config_hash(files: &[OutFile], service: &str) -> String {
    let text = get(files, &format!("kubernetes/{service}.yaml")).unwrap();
    let line = text
        .lines()
        .find(|l| l.trim().starts_with("platgen/config-hash:"))
        .unwrap();
    line.split_once(": ").unwrap().1.to_owned()
}

#[test]
fn the_config_hash_follows_the_mounted_configs() {
    let spec = crate::support::root().join("platform.yaml");
    let before = render_all(&platform(&spec));
    let mut changed = platform(&spec);
    changed.monitoring.scrape_interval = "30s".into();
    changed
        .services
        .iter_mut()
        .find(|s| s.name == "nags-api")
        .unwrap()
        .route
        .as_mut()
        .unwrap()
        .path = "/api/v2".into();
    let after = render_all(&changed);
    for service in ["nginx", "prometheus", "grafana"] {
        assert_ne!(
            config_hash(&before, service),
            config_hash(&after, service),
            "{service}"
        );
    }
    // A service that mounts none of them keeps its hash.
    assert_eq!(config_hash(&before, "redis"), config_hash(&after, "redis"));
    assert_ne!(
        config_hash(&before, "nginx"),
        config_hash(&before, "prometheus")
    );
}

#[test]
fn an_alertmanager_without_receivers_is_a_warning_and_keeps_alerts_in_its_ui() {
    let spec = "name: demo\nroles: {monitoring: prometheus, alerting: alertmanager}\nservices:\n  prometheus:\n    image: prom/prometheus:v2.55.1\n    ports: [{container: 9090}]\n    health: {http: {path: /-/healthy}}\n  alertmanager:\n    image: prom/alertmanager:v0.27.0\n    ports: [{container: 9093}]\n    health: {http: {path: /-/healthy}}\n";
    let (_, outcome) = platgen::check::check_bytes("platform.yaml", spec.as_bytes());
    let found: Vec<&str> = outcome.diagnostics.iter().map(|d| d.rule).collect();
    assert_eq!(found, ["missing-role"]);
    assert!(outcome.diagnostics[0].message.contains("notify no one"));
    let files = render_all(&outcome.platform.unwrap());
    let am: AmConfig =
        serde_saphyr::from_str(get(&files, "alertmanager/alertmanager.cfg").unwrap()).unwrap();
    assert_eq!(am.route.receiver, "platgen-nowhere");
    assert_eq!(am.receivers.len(), 1);
    assert_eq!(am.receivers[0].len(), 1, "a name and nothing else");
    // Prometheus still sends there, and watches Alertmanager.
    let prom: PromConfig =
        serde_saphyr::from_str(get(&files, "prometheus/prometheus.yml").unwrap()).unwrap();
    assert!(prom.alerting.is_some());
    assert!(
        prom.scrape_configs
            .iter()
            .any(|j| j.job_name == "alertmanager")
    );
}

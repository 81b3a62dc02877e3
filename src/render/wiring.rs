//! Which generated config each role's service reads, and where: shared by
//! the compose target (bind mounts) and the Kubernetes target (ConfigMaps).

use crate::model::{Platform, Service};
use crate::spec::Protocol;

/// Where Kong reads its declarative config unless the spec's
/// `KONG_DECLARATIVE_CONFIG` says otherwise.
pub const KONG_CONFIG_PATH: &str = "/kong/declarative/kong.yml";

/// A generated file that a role's service reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// The service that reads it.
    pub service: String,
    /// The file, relative to the output directory (compose flavour).
    pub file: &'static str,
    /// The file in the Kubernetes target, relative to `kubernetes/`.
    pub kubernetes_file: &'static str,
    /// The ConfigMap that carries it in Kubernetes, and its key there.
    pub config_map: &'static str,
    pub key: &'static str,
    /// Where the service reads it.
    pub path: String,
}

/// The port a role's service listens on: its first tcp port.
pub fn role_port(service: &Service) -> Option<u16> {
    service
        .ports
        .iter()
        .find(|p| p.protocol == Protocol::Tcp)
        .map(|p| p.container.low)
}

/// The role's service, if the platform has that role and the service.
pub fn role<'p>(platform: &'p Platform, name: Option<&String>) -> Option<&'p Service> {
    name.and_then(|n| platform.service(n))
}

/// Every generated config a service reads, in a fixed order.
pub fn mounts(platform: &Platform) -> Vec<Mount> {
    let mut out = Vec::new();
    if let Some(proxy) = role(platform, platform.roles.proxy.as_ref()) {
        out.push(Mount {
            service: proxy.name.clone(),
            file: "nginx/nginx.conf",
            kubernetes_file: "config/nginx.conf",
            config_map: "platgen-nginx",
            key: "nginx.conf",
            path: "/etc/nginx/nginx.conf".into(),
        });
    }
    if let Some(monitoring) = role(platform, platform.roles.monitoring.as_ref()) {
        for (file, kubernetes_file, key) in [
            (
                "prometheus/prometheus.yml",
                "config/prometheus.yml",
                "prometheus.yml",
            ),
            ("prometheus/alerts.yml", "config/alerts.yml", "alerts.yml"),
        ] {
            out.push(Mount {
                service: monitoring.name.clone(),
                file,
                kubernetes_file,
                config_map: "platgen-prometheus",
                key,
                path: format!("/etc/prometheus/{key}"),
            });
        }
        if let Some(dashboards) = role(platform, platform.roles.dashboards.as_ref()) {
            out.push(Mount {
                service: dashboards.name.clone(),
                file: "grafana/datasources.yml",
                kubernetes_file: "config/datasources.yml",
                config_map: "platgen-grafana",
                key: "datasources.yml",
                path: "/etc/grafana/provisioning/datasources/platgen.yml".into(),
            });
        }
    }
    if let Some(gateway) = role(platform, platform.roles.gateway.as_ref()) {
        out.push(Mount {
            service: gateway.name.clone(),
            file: "kong/kong.yml",
            kubernetes_file: "config/kong.yml",
            config_map: "platgen-kong",
            key: "kong.yml",
            path: gateway
                .env
                .get("KONG_DECLARATIVE_CONFIG")
                .cloned()
                .unwrap_or_else(|| KONG_CONFIG_PATH.to_owned()),
        });
    }
    out
}

/// Environment the gateway needs to run the generated config, for the
/// variables the spec does not set itself.
pub fn gateway_env(platform: &Platform, service: &Service) -> Vec<(String, String)> {
    if platform.roles.gateway.as_deref() != Some(service.name.as_str()) {
        return Vec::new();
    }
    [
        ("KONG_DATABASE", "off"),
        ("KONG_DECLARATIVE_CONFIG", KONG_CONFIG_PATH),
    ]
    .into_iter()
    .filter(|(k, _)| !service.env.contains_key(*k))
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

//! Kong: `kong/kong.yml`, the DB-less declarative configuration of the
//! gateway role's service (`_format_version: "3.0"`).
//!
//! Decisions made here, not in the template:
//! - One Kong service per spec service with `gateway`, pointing at the
//!   service's DNS name and route port, with one route: the spec's path,
//!   prefix-stripped when the spec says so, the client's `Host` preserved.
//! - Plugins per service: `rate-limiting` (per minute, counted per consumer
//!   when the route authenticates, else per client address; kept in each Kong
//!   node's memory), the authentication plugin (`jwt` checks the `exp`
//!   claim; `key-auth`, `basic-auth` and `hmac-auth` hide the credentials from
//!   the service), `cors` (the listed origins, or any), and `acl` when the
//!   spec lists consumers, which then belong to an ACL group named after the
//!   service.
//! - Consumers appear by user name only. Their credentials are the
//!   operator's and never in this file.
//! - The `prometheus` plugin is on for everything, so Kong's status listener
//!   serves request, latency and bandwidth metrics at `/metrics`.

use serde::Serialize;
use serde_json::{Value, json};

use super::wiring::role;
use super::{Engine, TemplateError};
use crate::model::{Gateway, Platform};

/// What `kong/kong.yml.j2` receives.
#[derive(Debug, Serialize)]
pub struct Context {
    pub services: Vec<KongService>,
    pub consumers: Vec<Consumer>,
    /// Plugins applied to every service and route.
    pub plugins: Vec<Plugin>,
}

#[derive(Debug, Serialize)]
pub struct KongService {
    pub name: String,
    pub url: String,
    pub route: KongRoute,
    pub plugins: Vec<Plugin>,
}

#[derive(Debug, Serialize)]
pub struct KongRoute {
    pub name: String,
    pub path: String,
    pub strip_path: bool,
}

#[derive(Debug, Serialize)]
pub struct Plugin {
    pub name: &'static str,
    pub config: Value,
}

#[derive(Debug, Serialize)]
pub struct Consumer {
    pub username: String,
    /// ACL groups: the services that list this consumer.
    pub groups: Vec<String>,
}

fn plugins(service: &str, g: &Gateway) -> Vec<Plugin> {
    let mut out = Vec::new();
    if let Some(auth) = &g.auth {
        let config = match auth.as_str() {
            "jwt" => json!({"claims_to_verify": ["exp"]}),
            "key-auth" => json!({"key_names": ["apikey"], "hide_credentials": true}),
            _ => json!({"hide_credentials": true}),
        };
        let name: &'static str = match auth.as_str() {
            "jwt" => "jwt",
            "key-auth" => "key-auth",
            "basic-auth" => "basic-auth",
            _ => "hmac-auth",
        };
        out.push(Plugin { name, config });
    }
    if !g.consumers.is_empty() {
        out.push(Plugin {
            name: "acl",
            config: json!({"allow": [service], "hide_groups_header": true}),
        });
    }
    if let Some(minute) = g.rate_limit_per_minute {
        out.push(Plugin {
            name: "rate-limiting",
            config: json!({
                "minute": minute,
                "limit_by": if g.auth.is_some() { "consumer" } else { "ip" },
                "policy": "local",
            }),
        });
    }
    if let Some(origins) = &g.cors {
        let origins: Vec<&str> = if origins.is_empty() {
            vec!["*"]
        } else {
            origins.iter().map(String::as_str).collect()
        };
        out.push(Plugin {
            name: "cors",
            config: json!({"origins": origins, "max_age": 3600}),
        });
    }
    out
}

/// Builds the context, or `None` when the platform has no gateway role.
pub fn context(platform: &Platform) -> Option<Context> {
    role(platform, platform.roles.gateway.as_ref())?;
    let mut services = Vec::new();
    let mut consumers: Vec<Consumer> = Vec::new();
    for s in &platform.services {
        let (Some(g), Some(route)) = (&s.gateway, &s.route) else {
            continue;
        };
        services.push(KongService {
            name: s.name.clone(),
            url: format!("http://{}:{}", s.name, route.port.number),
            route: KongRoute {
                name: s.name.clone(),
                path: crate::check::route_collision::normalized(&route.path).to_owned(),
                strip_path: route.strip_prefix,
            },
            plugins: plugins(&s.name, g),
        });
        for c in &g.consumers {
            match consumers.iter_mut().find(|x| &x.username == c) {
                Some(existing) => existing.groups.push(s.name.clone()),
                None => consumers.push(Consumer {
                    username: c.clone(),
                    groups: vec![s.name.clone()],
                }),
            }
        }
    }
    consumers.sort_by(|a, b| a.username.cmp(&b.username));
    Some(Context {
        services,
        consumers,
        plugins: vec![Plugin {
            name: "prometheus",
            config: json!({
                "status_code_metrics": true,
                "latency_metrics": true,
                "bandwidth_metrics": true,
                "upstream_health_metrics": true,
            }),
        }],
    })
}

/// Renders `kong.yml`, or nothing without a gateway role.
pub fn render_conf(platform: &Platform, engine: &Engine) -> Result<Option<String>, TemplateError> {
    context(platform)
        .map(|cx| engine.render("kong/kong.yml.j2", &cx))
        .transpose()
}

/// The kong target.
pub fn render(
    platform: &Platform,
    engine: &Engine,
) -> Result<Vec<(String, String)>, TemplateError> {
    Ok(render_conf(platform, engine)?
        .map(|conf| ("kong/kong.yml".to_owned(), conf))
        .into_iter()
        .collect())
}

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
//! - Every consumer of `gateway.consumers` appears by user name, with its
//!   ACL groups, in spec order, as the last section of the file. Their
//!   credentials are never in this file: when consumers have any,
//!   `kong/credentials.sh` runs as the gateway's entrypoint, reads each
//!   credential from its secret file (see [`super::wiring::ROLE_SECRETS_DIR`]),
//!   writes the file's consumers section again with the credentials in it
//!   (`jwt_secrets` with the issuer as `key`, `keyauth_credentials`,
//!   `basicauth_credentials`, `hmacauth_credentials`, nested under their
//!   consumer as decK writes them) into a file private to the container,
//!   points `KONG_DECLARATIVE_CONFIG` at it and hands over to Kong's own
//!   entrypoint. DB-less Kong learns consumers only from its declarative
//!   config, and Kong's vault references do not reach credential fields,
//!   so the credentials have to be in that file when Kong starts. A missing
//!   or empty secret file, a private key where a public one belongs, or a
//!   key of more than one line stops the container with a message naming
//!   the secret, never printing its value.
//! - The `prometheus` plugin is on for everything, so Kong's status listener
//!   serves request, latency and bandwidth metrics at `/metrics`.

use serde::Serialize;
use serde_json::{Value, json};

use super::nginx::Flavour;
use super::wiring::{self, role};
use super::{Engine, TemplateError};
use crate::model::{Credential, Gateway, Platform};

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
    let mut consumers: Vec<Consumer> = platform
        .gateway
        .consumers
        .iter()
        .map(|c| Consumer {
            username: c.name.clone(),
            groups: Vec::new(),
        })
        .collect();
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

/// What `kong/credentials.sh.j2` receives.
#[derive(Debug, Serialize)]
pub struct Credentials {
    /// The generated `kong.yml`'s path in the container, quoted for `sh`.
    pub source: String,
    /// Where the complete config is written, quoted for `sh`.
    pub merged: String,
    /// Every secret the script reads: `(name, kind)`, kind `pem` or `line`.
    pub files: Vec<(String, &'static str)>,
    pub consumers: Vec<ConsumerCredentials>,
}

#[derive(Debug, Serialize)]
pub struct ConsumerCredentials {
    pub username: String,
    pub groups: Vec<String>,
    /// `(issuer, algorithm, secret)`.
    pub jwt: Vec<(String, &'static str, String)>,
    pub key_auth: Vec<String>,
    pub basic_auth: Vec<String>,
    pub hmac_auth: Vec<String>,
}

/// Where the credentials script writes the config Kong loads.
pub const MERGED_PATH: &str = "/tmp/platgen-kong.yml";

/// `text` as one `sh` word.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// Builds the credentials script's context, or `None` when no consumer has
/// credentials (Kong then loads `kong.yml` as it is).
pub fn credentials(platform: &Platform) -> Option<Credentials> {
    let gateway = role(platform, platform.roles.gateway.as_ref())?;
    if !wiring::has_credentials(platform) {
        return None;
    }
    let cx = context(platform)?;
    let mut files: Vec<(String, &'static str)> = Vec::new();
    let consumers = platform
        .gateway
        .consumers
        .iter()
        .zip(cx.consumers)
        .map(|(c, listed)| {
            let mut out = ConsumerCredentials {
                username: c.name.clone(),
                groups: listed.groups,
                jwt: Vec::new(),
                key_auth: Vec::new(),
                basic_auth: Vec::new(),
                hmac_auth: Vec::new(),
            };
            for credential in &c.credentials {
                let secret = credential.secret().to_owned();
                let kind = if matches!(credential, Credential::Jwt { .. }) {
                    "pem"
                } else {
                    "line"
                };
                if !files.iter().any(|(n, _)| *n == secret) {
                    files.push((secret.clone(), kind));
                }
                match credential {
                    Credential::Jwt {
                        issuer, algorithm, ..
                    } => out.jwt.push((issuer.clone(), algorithm.name(), secret)),
                    Credential::KeyAuth { .. } => out.key_auth.push(secret),
                    Credential::BasicAuth { .. } => out.basic_auth.push(secret),
                    Credential::HmacAuth { .. } => out.hmac_auth.push(secret),
                }
            }
            out
        })
        .collect();
    Some(Credentials {
        source: shell_quote(wiring::kong_config_path(gateway)),
        merged: shell_quote(MERGED_PATH),
        files,
        consumers,
    })
}

/// Renders `credentials.sh`, or nothing when no consumer has credentials.
pub fn render_credentials(
    platform: &Platform,
    engine: &Engine,
) -> Result<Option<String>, TemplateError> {
    credentials(platform)
        .map(|cx| engine.render("kong/credentials.sh.j2", &cx))
        .transpose()
}

/// The gateway's files in one flavour: `kong.yml` and, when consumers have
/// credentials, the script that adds them (the same in both flavours: the
/// secrets' directory is its first argument).
pub fn render_files(
    platform: &Platform,
    engine: &Engine,
    flavour: Flavour,
) -> Result<Vec<(String, String)>, TemplateError> {
    let (conf, script) = match flavour {
        Flavour::Compose => ("kong/kong.yml", "kong/credentials.sh"),
        Flavour::Kubernetes => (
            "kubernetes/config/kong.yml",
            "kubernetes/config/kong-credentials.sh",
        ),
    };
    let mut files = Vec::new();
    if let Some(c) = render_conf(platform, engine)? {
        files.push((conf.to_owned(), c));
    }
    if let Some(s) = render_credentials(platform, engine)? {
        files.push((script.to_owned(), s));
    }
    Ok(files)
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
    render_files(platform, engine, Flavour::Compose)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting_keeps_every_character() {
        assert_eq!(shell_quote("/kong/kong.yml"), "'/kong/kong.yml'");
        assert_eq!(shell_quote("a'b; rm -rf /"), "'a'\\''b; rm -rf /'");
    }
}

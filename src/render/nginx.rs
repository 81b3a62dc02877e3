//! Nginx: `nginx/nginx.conf`, the complete configuration of the proxy role's
//! service: the platform's front door.
//!
//! Decisions made here, not in the template:
//! - One location per route. A route `/api` becomes `location = /api` and
//!   `location /api/`, so `/api` and everything below it match but `/apix`
//!   does not; Nginx picks the longest prefix, whatever the order.
//! - `strip_prefix` takes the prefix off before proxying (`/grafana/x`
//!   reaches Grafana as `/x`) and says what was stripped in
//!   `X-Forwarded-Prefix`. The rest is cut from the raw request URI (a `map`
//!   on `$request_uri`), not rewritten, so the service receives it exactly as
//!   the client sent it: `%2F` stays encoded and the query string stays.
//! - Routes of services with `gateway` go to the gateway role's service
//!   (Kong), which applies the policies and strips the prefix itself; the
//!   others go straight to their service.
//! - Startup: under docker-compose a service may not be up (or not be in the
//!   selected profiles) when Nginx starts, and an `upstream` whose host does
//!   not resolve stops Nginx from starting at all. So the compose flavour
//!   resolves upstream hosts per request, through Docker's DNS at
//!   127.0.0.11: Nginx starts regardless, and a service that is down answers
//!   502 on its own routes only. In Kubernetes a Service name resolves as soon
//!   as the Service exists, so that flavour uses `upstream` blocks (with
//!   keep-alive connections).
//! - Every value taken from the spec passes the `nginx` filter, which refuses
//!   anything but URL-path characters: a spec value cannot add a directive.

use serde::Serialize;

use super::wiring::{role, role_port};
use super::{Engine, TemplateError};
use crate::check::route_collision::normalized;
use crate::model::Platform;

/// Which runtime the configuration is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavour {
    Compose,
    Kubernetes,
}

/// Docker's embedded DNS server, on every user-defined network.
pub const DOCKER_DNS: &str = "127.0.0.11";

/// What `nginx/nginx.conf.j2` receives.
#[derive(Debug, Serialize)]
pub struct Context {
    pub flavour: Flavour,
    /// The port Nginx listens on: the proxy service's first tcp port.
    pub listen: u16,
    /// The domain, or `_` for any host.
    pub server_name: String,
    /// The DNS server for per-request resolution (compose flavour only).
    pub resolver: Option<&'static str>,
    /// One per service that a location proxies to, in spec order.
    pub backends: Vec<Backend>,
    pub locations: Vec<Location>,
    /// Whether a route claims `/`; if not, other paths answer 404.
    pub has_root: bool,
    /// Where the master writes its pid: `/tmp`, writable under a read-only
    /// root filesystem and for a non-root master alike.
    pub pid: &'static str,
    /// The prefix of the temporary directories (`<temp>-proxy`, ...), which
    /// Nginx creates at start: in `/tmp`, whose parent exists everywhere.
    pub temp: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Backend {
    /// The service.
    pub service: String,
    /// An Nginx identifier: `backend_<service with _ for ->`.
    pub id: String,
    /// `host:port`.
    pub address: String,
}

#[derive(Debug, Serialize)]
pub struct Location {
    pub service: String,
    /// The route path without a trailing slash (`/` stays `/`).
    pub path: String,
    /// The backend id requests go to.
    pub backend: String,
    /// When the prefix is stripped: how.
    pub strip: Option<Strip>,
    pub websocket: bool,
    /// Whether the request goes through the gateway.
    pub via_gateway: bool,
}

/// Stripping a route's prefix from the raw request URI.
#[derive(Debug, Serialize)]
pub struct Strip {
    /// The Nginx variable (without `$`) that holds the URI to pass on.
    pub var: String,
    /// Matches a request below the prefix; `rest` captures what follows it.
    pub below: String,
    /// Matches the prefix itself, with an optional query string `query`.
    pub exact: String,
}

fn backend_id(service: &str) -> String {
    format!("backend_{}", service.replace('-', "_"))
}

/// `path` as a regular expression that matches it literally.
fn literal_regex(path: &str) -> String {
    let mut literal = String::new();
    for c in path.chars() {
        if ".+*?()[]{}|^$\\".contains(c) {
            literal.push('\\');
        }
        literal.push(c);
    }
    literal
}

fn strip(service: &str, path: &str) -> Strip {
    let literal = literal_regex(path);
    Strip {
        var: format!("strip_{}", service.replace('-', "_")),
        below: format!("^{literal}(?<rest>/.*)$"),
        exact: format!("^{literal}(?<query>\\?.*)?$"),
    }
}

/// Builds the context, or `None` when the platform has no proxy role.
pub fn context(platform: &Platform, flavour: Flavour) -> Option<Context> {
    let proxy = role(platform, platform.roles.proxy.as_ref())?;
    let gateway = role(platform, platform.roles.gateway.as_ref());
    let mut backends: Vec<Backend> = Vec::new();
    // Ids already in `backends`: a linear search would make this quadratic.
    let mut known: crate::collections::HashSet<String> = crate::collections::HashSet::default();
    let mut add_backend = |service: &str, port: u16| {
        let id = backend_id(service);
        if known.insert(id.clone()) {
            backends.push(Backend {
                service: service.to_owned(),
                id: id.clone(),
                address: format!("{service}:{port}"),
            });
        }
        id
    };
    let mut locations = Vec::new();
    for s in &platform.services {
        let Some(route) = &s.route else { continue };
        let via = gateway.filter(|_| s.gateway.is_some());
        let backend = match via.and_then(|g| role_port(g).map(|p| (g, p))) {
            Some((g, port)) => add_backend(&g.name, port),
            None => add_backend(&s.name, route.port.number),
        };
        let path = normalized(&route.path).to_owned();
        locations.push(Location {
            service: s.name.clone(),
            strip: (route.strip_prefix && via.is_none() && path != "/")
                .then(|| strip(&s.name, &path)),
            path,
            backend,
            websocket: route.websocket,
            via_gateway: via.is_some(),
        });
    }
    Some(Context {
        flavour,
        listen: role_port(proxy).unwrap_or(80),
        pid: "/tmp/nginx.pid",
        temp: "/tmp/nginx",
        server_name: platform.domain.clone().unwrap_or_else(|| "_".to_owned()),
        resolver: (flavour == Flavour::Compose).then_some(DOCKER_DNS),
        has_root: locations.iter().any(|l| l.path == "/"),
        backends,
        locations,
    })
}

/// Renders `nginx.conf` in the given flavour, or nothing without a proxy role.
pub fn render_conf(
    platform: &Platform,
    engine: &Engine,
    flavour: Flavour,
) -> Result<Option<String>, TemplateError> {
    context(platform, flavour)
        .map(|cx| engine.render("nginx/nginx.conf.j2", &cx))
        .transpose()
}

/// The nginx target: `nginx/nginx.conf` for docker-compose.
pub fn render(
    platform: &Platform,
    engine: &Engine,
) -> Result<Vec<(String, String)>, TemplateError> {
    Ok(render_conf(platform, engine, Flavour::Compose)?
        .map(|conf| ("nginx/nginx.conf".to_owned(), conf))
        .into_iter()
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_regexes_match_the_path_literally() {
        let s = strip("api-v1", "/api.v1+x");
        assert_eq!(s.var, "strip_api_v1");
        assert_eq!(s.below, "^/api\\.v1\\+x(?<rest>/.*)$");
        assert_eq!(s.exact, "^/api\\.v1\\+x(?<query>\\?.*)?$");
    }

    #[test]
    fn backend_ids_are_identifiers_apart_from_nginx_builtins() {
        assert_eq!(backend_id("nags-api"), "backend_nags_api");
        assert_eq!(backend_id("addr"), "backend_addr");
    }
}

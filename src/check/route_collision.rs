//! No two services claim the same route path.
//!
//! Why: the reverse proxy can send a path to one upstream only; the second
//! service would be unreachable, and which one wins depends on the order of
//! the generated config. `/api` and `/api/` are the same route.
//!
//! Example:
//!
//! ```yaml
//! nags-api:       {route: {path: /api}}
//! nags-dashboard: {route: {path: /api/}}   # error: /api is taken by nags-api
//! ```

use crate::collections::HashMap;

use super::Context;
use crate::diag::{Diagnostic, Rule, Severity};
use crate::source::Span;

pub const RULE: Rule = Rule {
    code: "PG401",
    name: "route-collision",
    severity: Severity::Error,
    source: include_str!("route_collision.rs"),
};

/// A route path as the proxy matches it: without trailing slashes (but `/`
/// stays `/`).
pub fn normalized(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() { "/" } else { trimmed }
}

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    let mut seen: HashMap<&str, (&str, Span)> = HashMap::default();
    for s in &cx.services {
        let Some(route) = &s.service().route else {
            continue;
        };
        let path = &route.value.path;
        let key = normalized(path);
        if let Some((owner, first)) = seen.get(key) {
            out.push(
                Diagnostic::new(
                    &RULE,
                    path.span,
                    format!(
                        "route `{}` of `{}` is already taken by `{owner}`",
                        path.value, s.name.value
                    ),
                )
                .with_label("claimed again here")
                .with_secondary(*first, format!("`{owner}` claims it here"))
                .with_help("give each service its own path prefix"),
            );
        } else {
            seen.insert(key, (&s.name.value, path.span));
        }
    }
}

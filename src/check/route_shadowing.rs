//! A warning when a route's path lies inside an earlier route's path
//! (`/api/admin` after `/api`).
//!
//! Why: Nginx and Kong pick the longest matching prefix, whatever the order,
//! so `/api/admin/users` goes to the service of `/api/admin`. Written the
//! other way round, the spec reads like a first-match router (as many are),
//! where `/api` would take everything below it. Listing the longer prefix
//! first says what the proxy will do; the warning goes away.
//!
//! Example:
//!
//! ```yaml
//! api:   {route: {path: /api}}
//! admin: {route: {path: /api/admin}}   # warning: inside /api, listed after it
//! ```

use crate::collections::HashMap;

use super::Context;
use super::route_collision::normalized;
use crate::diag::{Diagnostic, Rule, Severity};
use crate::source::Span;

pub const RULE: Rule = Rule {
    code: "PG409",
    name: "route-shadowing",
    severity: Severity::Warning,
    source: include_str!("route_shadowing.rs"),
};

/// Whether `inner` is a path below `outer`, segment-wise (`/api/x` is below
/// `/api`; `/apix` is not).
fn below(inner: &str, outer: &str) -> bool {
    outer != "/"
        && inner.len() > outer.len()
        && inner.starts_with(outer)
        && inner[outer.len()..].starts_with('/')
}

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    // Earlier routes by path, with their position: of the routes a path
    // lies below, the one listed first is reported. Looking up each of the
    // path's own prefixes keeps this linear in the number of routes.
    let mut earlier: HashMap<&str, (usize, &str, Span)> = HashMap::default();
    for s in &cx.services {
        let Some(route) = &s.service().route else {
            continue;
        };
        let path = normalized(&route.value.path);
        let outer = path
            .match_indices('/')
            .map(|(i, _)| &path[..i])
            .filter(|p| below(path, p))
            .filter_map(|p| {
                earlier
                    .get(p)
                    .map(|(n, owner, span)| (*n, p, *owner, *span))
            })
            .min_by_key(|(n, ..)| *n);
        if let Some((_, outer, owner, span)) = outer {
            let span = &span;
            out.push(
                Diagnostic::new(
                    &RULE,
                    route.value.path.span,
                    format!(
                        "route `{path}` of `{}` lies inside `{outer}` of `{owner}`, which is listed first",
                        s.name.value
                    ),
                )
                .with_label(format!("requests under {path}/ go here, not to `{owner}`"))
                .with_secondary(*span, format!("`{owner}` gets the rest of {outer}/"))
                .with_help(format!("the proxy picks the longest prefix; list `{}` before `{owner}` to say so", s.name.value)),
            );
        }
        let next = earlier.len();
        earlier
            .entry(path)
            .or_insert((next, &s.name.value, route.value.path.span));
    }
}

#[cfg(test)]
mod tests {
    use super::below;

    #[test]
    fn below_is_segment_wise() {
        assert!(below("/api/admin", "/api"));
        assert!(!below("/apix", "/api"));
        assert!(!below("/api", "/api"));
        assert!(!below("/anything", "/"));
    }
}

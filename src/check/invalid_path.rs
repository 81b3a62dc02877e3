//! Paths are well-formed: route paths, health-check paths and metrics paths
//! start with `/` and use only URL path characters; volume mount paths are
//! absolute.
//!
//! Why: these values are written into generated configs. A route path is an
//! Nginx `location` and a Kong route; a space, quote, `;`, `{` or `}` in it
//! would end the directive and let the rest of the value be read as new
//! directives (`/api; return 200 x` would become a second directive). platgen
//! rejects such paths instead of trying to escape them, so what the proxy
//! matches is always exactly what the spec says. Health and metrics paths
//! may carry a query string; route paths may not.
//!
//! Example:
//!
//! ```yaml
//! route: {path: "/api; return 200 x"}   # error: `;` is not allowed
//! volumes: {data: var/lib/postgres}     # error: not absolute
//! ```

use super::Selection;
use crate::diag::{Diagnostic, Rule, Severity};
use crate::source::Span;

pub const RULE: Rule = Rule {
    code: "PG402",
    name: "invalid-path",
    severity: Severity::Error,
    source: include_str!("invalid_path.rs"),
};

/// Characters allowed in a URL path: unreserved, `%` escapes and a few
/// sub-delimiters that no config syntax we write gives a meaning to.
fn path_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '-' | '.' | '_' | '~' | '%' | '/' | ':' | '@' | '+' | ',' | '=' | '!' | '*'
        )
}

/// What is wrong with a URL path (with a query string when `query` is
/// allowed), if anything.
pub fn url_path_problem(path: &str, query: bool) -> Option<String> {
    let (path_part, query_part) = match path.split_once('?') {
        Some((p, q)) if query => (p, Some(q)),
        _ => (path, None),
    };
    if !path_part.starts_with('/') {
        return Some("it does not start with `/`".into());
    }
    if let Some(c) = path_part.chars().find(|c| !path_char(*c)) {
        return Some(if c == '?' {
            "a route path cannot have a query string".to_owned()
        } else if c.is_whitespace() || c.is_control() {
            format!("it contains whitespace or a control character ({c:?})")
        } else {
            format!("it contains `{c}`")
        });
    }
    if path_part.contains("//") {
        return Some("it contains `//`".into());
    }
    if path_part.split('/').any(|seg| seg == ".." || seg == ".") {
        return Some("it contains a `.` or `..` segment".into());
    }
    if let Some(q) = query_part
        && let Some(c) = q
            .chars()
            .find(|c| !(path_char(*c) || *c == '&' || *c == '?'))
    {
        return Some(format!("its query string contains `{c}`"));
    }
    None
}

fn push(out: &mut Vec<Diagnostic>, span: Span, what: &str, problem: &str, help: &str) {
    out.push(
        Diagnostic::new(
            &RULE,
            span,
            format!("{what} is not a valid path: {problem}"),
        )
        .with_label("invalid path")
        .with_help(help.to_owned()),
    );
}

/// The help for a bad URL path: a path without its leading `/` is the
/// usual slip, and the fix is that path with it, in the words of what the
/// path is for; anything else gets the general rule.
fn url_help(path: &str, query: bool, what: &str, example: &str) -> String {
    let fixed = format!("/{}", path.trim_start_matches("./"));
    if !path.starts_with('/') && url_path_problem(&fixed, query).is_none() {
        format!(
            "{what} paths are absolute URL paths, starting at the server's root: write `{fixed}`"
        )
    } else {
        format!("use a path like `{example}`: letters, digits and `-._~%/:@+,=!*`")
    }
}

pub fn check(cx: &Selection, out: &mut Vec<Diagnostic>) {
    for s in cx.checked() {
        let svc = s.service();
        let name = &s.name.value;
        if let Some(route) = &svc.route {
            let path = &route.value.path;
            if let Some(p) = url_path_problem(path, false) {
                push(
                    out,
                    path.span,
                    &format!("the route path {:?} of `{name}`", path.value),
                    &p,
                    &url_help(path, false, "route", "/api/v1"),
                );
            }
        }
        if let Some(http) = svc.health.as_ref().and_then(|h| h.value.http.as_ref()) {
            let path = &http.value.path;
            if let Some(p) = url_path_problem(path, true) {
                push(
                    out,
                    path.span,
                    &format!("the health-check path {:?} of `{name}`", path.value),
                    &p,
                    &url_help(path, true, "health-check", "/healthz"),
                );
            }
        }
        if let Some(path) = svc.metrics.as_ref().and_then(|m| m.value.path.as_ref())
            && let Some(p) = url_path_problem(path, true)
        {
            push(
                out,
                path.span,
                &format!("the metrics path {:?} of `{name}`", path.value),
                &p,
                &url_help(path, true, "metrics", "/metrics"),
            );
        }
        for (volume, spec) in &svc.volumes {
            let (mount, span) = spec.value.path(spec.span);
            let problem = if !mount.starts_with('/') {
                Some("it is not absolute".to_owned())
            } else if mount.contains(':') || mount.chars().any(char::is_control) {
                Some("it contains `:` or a control character".to_owned())
            } else {
                None
            };
            if let Some(p) = problem {
                push(
                    out,
                    span,
                    &format!("the mount path {mount:?} of volume `{}`", volume.value),
                    &p,
                    "mount paths are absolute paths inside the container, like `/var/lib/postgresql/data`",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_what_could_break_out_of_a_directive() {
        assert!(url_path_problem("/api; return 200 x", false).is_some());
        assert!(url_path_problem("/api{", false).is_some());
        assert!(url_path_problem("/a\"b", false).is_some());
        assert!(url_path_problem("/a$b", false).is_some());
        assert!(url_path_problem("/a?x=1", false).is_some());
        assert_eq!(
            url_path_problem("/v1/sys/metrics?format=prometheus", true),
            None
        );
        assert_eq!(url_path_problem("/api/v1", false), None);
        assert_eq!(url_path_problem("/", false), None);
        assert!(url_path_problem("api", false).is_some());
        assert!(url_path_problem("/a/../b", false).is_some());
        assert!(url_help("healthz", true, "health-check", "/healthz").contains("write `/healthz`"));
        assert!(
            url_help("./ready?x=1", true, "health-check", "/healthz")
                .contains("write `/ready?x=1`")
        );
        assert!(url_help("/a b", true, "health-check", "/healthz").contains("like `/healthz`"));
    }
}

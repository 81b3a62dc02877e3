//! `image` is a valid image reference: `[registry[:port]/]path[:tag][@digest]`,
//! with a lowercase path, a tag of letters, digits, `_`, `.` and `-` (at most
//! 128, not starting with `.` or `-`), and a digest `algorithm:hex`.
//!
//! Why: an image reference goes verbatim into the compose file and the
//! Kubernetes manifests, where a malformed one (`Nginx:Latest`, `nginx:`,
//! a space, a newline) fails only at `docker compose up` or when the
//! kubelet tries to pull it, long after the spec was merged.
//!
//! Example:
//!
//! ```yaml
//! image: Nginx:1.27        # error: the repository path must be lowercase
//! image: "nginx:"          # error: empty tag
//! ```

use super::Selection;
use crate::diag::{Diagnostic, Rule, Severity};

pub const RULE: Rule = Rule {
    code: "PG504",
    name: "invalid-image",
    severity: Severity::Error,
    source: include_str!("invalid_image.rs"),
};

/// `[a-z0-9]+` joined by `.`, `_`, `__` or runs of `-`.
fn path_component(c: &str) -> bool {
    let bytes = c.as_bytes();
    if bytes.is_empty()
        || !bytes[0].is_ascii_lowercase() && !bytes[0].is_ascii_digit()
        || !bytes[bytes.len() - 1].is_ascii_lowercase() && !bytes[bytes.len() - 1].is_ascii_digit()
    {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_lowercase() || b.is_ascii_digit() {
            i += 1;
            continue;
        }
        // A separator: `.`, `_`, `__` or `-`+, between alphanumerics.
        let start = i;
        while i < bytes.len() && !(bytes[i].is_ascii_lowercase() || bytes[i].is_ascii_digit()) {
            i += 1;
        }
        let sep = &c[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.chars().all(|ch| ch == '-')) {
            return false;
        }
    }
    true
}

fn domain(d: &str) -> bool {
    let (host, port) = match d.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || d.starts_with('[') => (h, Some(p)),
        _ => (d, None),
    };
    if port.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<std::net::Ipv6Addr>().is_ok();
    }
    !host.is_empty()
        && host.split('.').all(|c| {
            !c.is_empty()
                && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !c.starts_with('-')
                && !c.ends_with('-')
        })
}

fn tag(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 128
        && t.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

fn digest(d: &str) -> bool {
    let Some((algorithm, hex)) = d.split_once(':') else {
        return false;
    };
    let algorithm_ok = algorithm.split(['+', '.', '-', '_']).all(|part| {
        part.starts_with(|c: char| c.is_ascii_alphabetic())
            && part.chars().all(|c| c.is_ascii_alphanumeric())
    });
    let hex_ok = hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    let sha256_ok = algorithm != "sha256" || hex.len() == 64;
    algorithm_ok && hex_ok && sha256_ok
}

/// What is wrong with an image reference, if anything.
pub fn problem(image: &str) -> Option<String> {
    if image.is_empty() {
        return Some("it is empty".into());
    }
    // Printable ASCII, as nearly every image is, has neither.
    if !image.bytes().all(|b| b.is_ascii_graphic())
        && let Some(c) = image.chars().find(|c| c.is_whitespace() || c.is_control())
    {
        return Some(format!(
            "it contains whitespace or a control character ({c:?})"
        ));
    }
    let (name_tag, digest_part) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    if let Some(d) = digest_part
        && !digest(d)
    {
        return Some(format!(
            "`{d}` is not a digest (`sha256:` and 64 hex digits)"
        ));
    }
    // The tag follows the last `:` after the last `/` (a registry port is not a tag).
    let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
    let (name, tag_part) = match name_tag[last_slash..].rfind(':') {
        Some(i) => (
            &name_tag[..last_slash + i],
            Some(&name_tag[last_slash + i + 1..]),
        ),
        None => (name_tag, None),
    };
    if let Some(t) = tag_part
        && !tag(t)
    {
        return Some(if t.is_empty() {
            "the tag after `:` is empty".into()
        } else {
            format!("`{t}` is not a valid tag (letters, digits, `_`, `.` and `-`, at most 128)")
        });
    }
    if name.len() > 255 {
        return Some("the repository name is longer than 255 characters".into());
    }
    // A first component that reads as a host is the registry's.
    let path = match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.chars().any(|c| c.is_ascii_uppercase()) =>
        {
            if !domain(first) {
                return Some(format!("`{first}` is not a registry host"));
            }
            rest
        }
        _ => name,
    };
    for c in path.split('/') {
        if !path_component(c) {
            return Some(if c.chars().any(|ch| ch.is_ascii_uppercase()) {
                format!("`{c}`: repository paths must be lowercase")
            } else {
                format!("`{c}` is not a valid repository path component")
            });
        }
    }
    None
}

pub fn check(cx: &Selection, out: &mut Vec<Diagnostic>) {
    for s in cx.checked() {
        let image = &s.service().image;
        if let Some(p) = problem(image) {
            out.push(
                Diagnostic::new(&RULE, image.span, format!("the image of `{}` is not a valid reference: {p}", s.name.value))
                    .with_label("invalid image reference")
                    .with_help("write `[registry/]repository[:tag][@sha256:digest]`, e.g. `ghcr.io/team/app:1.2.3`"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::problem;

    #[test]
    fn accepts_real_references() {
        for ok in [
            "nginx",
            "nginx:1.27.3-alpine",
            "grafana/grafana:11.4.0",
            "docker.elastic.co/elasticsearch/elasticsearch:8.15.5",
            "quay.io/keycloak/keycloak:26.0.7",
            "localhost:5000/team/app:1.0",
            "registry.example.com:5000/team/my_app__x:v1",
            "ghcr.io/nags-platform/nags-api:1.0.0",
            "redis@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "a/b-c--d.e:t_1",
        ] {
            assert_eq!(problem(ok), None, "{ok}");
        }
    }

    #[test]
    fn refuses_broken_ones() {
        for bad in [
            "",
            "nginx:",
            "Nginx:Latest",
            "nginx@sha256:abc",
            "nginx:1.27 --privileged",
            "a:1\n  privileged: true",
            "nginx:-x",
            "-nginx",
            "team//app",
            "host:port/app",
        ] {
            assert!(problem(bad).is_some(), "{bad:?}");
        }
    }
}

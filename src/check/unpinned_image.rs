//! A warning for an image without a pinned version: no tag, or `latest`.
//!
//! Why: an unpinned image changes under the platform without a commit. Two
//! machines that render the same spec then run different software, and a
//! rollback does not roll back. Pin a version tag or a digest.
//!
//! Example:
//!
//! ```yaml
//! image: grafana/grafana          # warning: no tag
//! image: redis:latest             # warning: `latest` is not a version
//! ```

use super::Selection;
use crate::diag::{Diagnostic, Rule, Severity};

pub const RULE: Rule = Rule {
    code: "PG503",
    name: "unpinned-image",
    severity: Severity::Warning,
    source: include_str!("unpinned_image.rs"),
};

/// The tag of an image reference, if it has one (`host:5000/repo:tag@digest`
/// has tag `tag`; the registry's port is not a tag).
pub fn tag(image: &str) -> Option<&str> {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last_segment = without_digest.rsplit('/').next().unwrap_or(without_digest);
    last_segment.split_once(':').map(|(_, t)| t)
}

pub fn check(cx: &Selection, out: &mut Vec<Diagnostic>) {
    for s in cx.checked() {
        let image = &s.service().image;
        if image.value.contains('@') {
            continue;
        }
        let problem = match tag(image) {
            None => "has no tag, so it means `latest`",
            Some("latest") => "is tagged `latest`, which is not a version",
            Some(_) => continue,
        };
        // A reference that is no image at all is `invalid-image`'s. Asked
        // last: most images are pinned, and this is the costly question.
        if super::invalid_image::problem(image).is_some() {
            continue;
        }
        out.push(
            Diagnostic::new(
                &RULE,
                image.span,
                format!("the image of `{}` {problem}", s.name.value),
            )
            .with_label("unpinned image")
            .with_help("pin a version tag such as `:1.27.2`, or a digest `@sha256:...`"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::tag;

    #[test]
    fn tags() {
        assert_eq!(tag("redis:7.4"), Some("7.4"));
        assert_eq!(tag("registry:5000/team/app"), None);
        assert_eq!(tag("registry:5000/team/app:1.0"), Some("1.0"));
        assert_eq!(tag("grafana/grafana"), None);
    }
}

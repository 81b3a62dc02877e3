//! A warning for a `security` section that relaxes the defaults (`root:
//! true`, `read_only_root: false`, added `capabilities`) without saying why
//! in `reason`.
//!
//! Why: each relaxation is a hole an audit will find (checkov flags a root
//! container, a writable root filesystem, an added capability). The reason
//! travels with the spec into the Kubernetes manifest, where the operator
//! and the auditor read it, and it is what an audit exception cites.
//!
//! Example:
//!
//! ```yaml
//! security:
//!   read_only_root: false     # warning: no reason
//! ```

use super::Selection;
use crate::diag::{Diagnostic, Rule, Severity};

pub const RULE: Rule = Rule {
    code: "PG602",
    name: "security-without-reason",
    severity: Severity::Warning,
    source: include_str!("security_without_reason.rs"),
};

pub fn check(cx: &Selection, out: &mut Vec<Diagnostic>) {
    for s in cx.checked() {
        let Some(sec) = &s.service().security else {
            continue;
        };
        let sec = &sec.value;
        if sec
            .reason
            .as_ref()
            .is_some_and(|r| !r.value.trim().is_empty())
        {
            continue;
        }
        let mut relaxed = Vec::new();
        if let Some(root) = sec.root.as_ref().filter(|r| r.value) {
            relaxed.push((root.span, "starts as root"));
        }
        if let Some(ro) = sec.read_only_root.as_ref().filter(|r| !r.value) {
            relaxed.push((ro.span, "writes to its root filesystem"));
        }
        if let Some(first) = sec.capabilities.first() {
            relaxed.push((first.span, "adds capabilities"));
        }
        for (span, what) in relaxed {
            let mut d = Diagnostic::new(
                &RULE,
                span,
                format!("`{}` {what}, and `security` says no reason", s.name.value),
            )
            .with_label("relaxes the defaults")
            .with_help("add `reason:` saying why the image needs it");
            if let Some(r) = &sec.reason {
                d = d.with_secondary(r.span, "this reason is empty");
            }
            out.push(d);
        }
    }
}

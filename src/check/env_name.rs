//! Environment variable names (in `env` and `secrets`) must be names that
//! both docker-compose and Kubernetes accept, and a variable may come from
//! `env` or from `secrets`, not both.
//!
//! Why: Kubernetes rejects a variable whose name is not letters, digits,
//! `_`, `-` and `.` (not starting with a digit), so `1PASS` or `API KEY`
//! would render and then fail at `kubectl apply`. Dots are allowed because
//! images such as Elasticsearch read settings like `discovery.type` from the
//! environment. A variable set both as a plain value and as a secret would
//! reach the container twice, and which one wins differs between
//! docker-compose and Kubernetes.
//!
//! Example:
//!
//! ```yaml
//! env: {DB_PASSWORD: changeme}
//! secrets: {DB_PASSWORD: db-password}   # error: set in `env` too
//! ```

use super::Selection;
use crate::diag::{Diagnostic, Rule, Severity};

pub const RULE: Rule = Rule {
    code: "PG103",
    name: "env-name",
    severity: Severity::Error,
    source: include_str!("env_name.rs"),
};

pub fn valid(name: &str) -> bool {
    // Bytes, not characters: every allowed one is ASCII, and a byte of a
    // longer character is none of them.
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || matches!(b, b'_' | b'-' | b'.'))
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

fn suggestion(name: &str) -> String {
    let fixed = name.replace(
        |c: char| !(c.is_ascii_alphanumeric() || "_-.".contains(c)),
        "_",
    );
    if fixed.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{fixed}")
    } else {
        fixed
    }
}

pub fn check(cx: &Selection, out: &mut Vec<Diagnostic>) {
    for s in cx.checked() {
        let svc = s.service();
        let file_envs = svc.secrets.values().filter_map(|s| match &s.value {
            crate::spec::SecretRef::Detailed(d) => d.file_env.as_ref(),
            crate::spec::SecretRef::Name(_) => None,
        });
        for name in svc.env.keys().chain(svc.secrets.keys()).chain(file_envs) {
            if !valid(name) {
                out.push(
                    Diagnostic::new(
                        &RULE,
                        name.span,
                        format!("`{}` is not a valid environment variable name", name.value),
                    )
                    .with_label("invalid variable name")
                    .with_help(format!(
                        "use letters, digits, `_`, `-` and `.`, not starting with a digit, e.g. `{}`",
                        suggestion(&name.value)
                    )),
                );
            }
        }
        for (secret, _) in &svc.secrets {
            if let Some((plain, _)) = svc.env.get_key_value(secret.value.as_str()) {
                out.push(
                    Diagnostic::new(
                        &RULE,
                        secret.span,
                        format!(
                            "`{}` is set both in `env` and in `secrets` of `{}`",
                            secret.value, s.name.value
                        ),
                    )
                    .with_label("set from a secret here")
                    .with_secondary(plain.span, "and as a plain value here")
                    .with_help("keep one: a password belongs in `secrets`"),
                );
            }
        }
    }
}

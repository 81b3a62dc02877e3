//! A warning for an `env` variable whose name says it holds a secret
//! (`*_PASSWORD`, `*_TOKEN`, `*_SECRET`, `*_KEY`, `*_API_KEY`) and whose
//! value is written in the spec.
//!
//! Why: `env` values are copied as they are into `compose.yaml` and into a
//! Kubernetes ConfigMap, so a password there ends up in version control, in
//! every rendered file and in anything that can read ConfigMaps. A secret
//! belongs in `secrets`, which names the secret and never holds its value:
//! docker-compose reads it from `out/secrets/<name>`, Kubernetes from the
//! platform's Secret. Names are matched without regard to case, on the last
//! word (`_`, `-` or `.` separate words); `*_PUBLIC_KEY` is not a secret, and
//! an empty value holds none.
//!
//! Example:
//!
//! ```yaml
//! env: {DB_PASSWORD: changeme}          # warning: a literal secret
//! secrets: {DB_PASSWORD: db-password}   # instead: the value lives in out/secrets/db-password
//! ```

use super::Selection;
use crate::diag::{Diagnostic, Rule, Severity};

pub const RULE: Rule = Rule {
    code: "PG104",
    name: "secret-in-env",
    severity: Severity::Warning,
    source: include_str!("secret_in_env.rs"),
};

/// The words whose last place in a variable name marks a secret.
const SECRET_WORDS: &[&str] = &["PASSWORD", "PASSWD", "TOKEN", "SECRET", "KEY"];

/// Whether a variable of this name holds a secret, by the name alone.
pub fn looks_secret(name: &str) -> bool {
    // From the end, without copying: this runs for every variable of every
    // service, and again for every environment.
    let mut words = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .rev();
    let Some(last) = words.next() else {
        return false;
    };
    // A bare `PASSWORD` is as secret as `DB_PASSWORD`; `KEY` alone, or a
    // public key, names no secret.
    if last.eq_ignore_ascii_case("KEY") {
        return words
            .next()
            .is_some_and(|w| !w.eq_ignore_ascii_case("PUBLIC"));
    }
    SECRET_WORDS.iter().any(|w| last.eq_ignore_ascii_case(w))
}

/// The secret name the help suggests: the variable's name in kebab case.
fn secret_name(variable: &str) -> String {
    let name: String = variable
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let name = name.trim_matches('-');
    if name.is_empty() {
        "secret".into()
    } else {
        name.to_owned()
    }
}

pub fn check(cx: &Selection, out: &mut Vec<Diagnostic>) {
    for s in cx.checked() {
        let svc = s.service();
        for (key, value) in &svc.env {
            // An invalid name, or one set in `secrets` too: `env-name`
            // reports it, as an error.
            if !looks_secret(key)
                || value.value.is_empty()
                || !super::env_name::valid(key)
                || svc.secrets.contains_key(key)
            {
                continue;
            }
            let secret = secret_name(key);
            out.push(
                Diagnostic::new(
                    &RULE,
                    value.span,
                    format!(
                        "`{}` of `{}` looks like a secret, and its value is written in the spec",
                        key.value, s.name.value
                    ),
                )
                .with_label("a literal value")
                .with_secondary(key.span, "the name says it is a secret")
                .with_help(format!(
                    "move it to `secrets`: remove it from `env`, add `secrets: {{{}: {secret}}}` \
                     and put the value in `out/secrets/{secret}` (and the platform's Kubernetes \
                     Secret); the spec and the output then hold only its name",
                    key.value
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::looks_secret;

    #[test]
    fn secret_names() {
        for name in [
            "DB_PASSWORD",
            "PASSWORD",
            "github_token",
            "CLIENT_SECRET",
            "STRIPE_API_KEY",
            "JWT_SIGNING_KEY",
            "redis.password",
            "LDAP_PASSWD",
        ] {
            assert!(looks_secret(name), "{name}");
        }
        for name in [
            "KEY",
            "JWT_PUBLIC_KEY",
            "PASSWORD_FILE",
            "TOKEN_URL",
            "KEYCLOAK_URL",
            "POSTGRES_USER",
            "",
            "_",
        ] {
            assert!(!looks_secret(name), "{name}");
        }
    }
}

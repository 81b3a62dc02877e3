//! The rules: each module checks one thing, carries its code and its
//! documentation (what it checks, why, an example), and has a fixture named
//! after it under `tests/fixtures/invalid/`.
//!
//! [`check`] runs every rule over a parsed spec and collects everything they
//! find; when nothing is an error, it also builds the validated
//! [`Platform`](crate::model::Platform).

pub mod context;

pub mod dependency_cycle;
pub mod duplicate_dependency;
pub mod duplicate_phase;
pub mod duplicate_setting;
pub mod env_name;
pub mod exposed_admin;
pub mod gateway_bypass;
pub mod gateway_without_route;
pub mod internal_port;
pub mod invalid_autoscale;
pub mod invalid_health;
pub mod invalid_image;
pub mod invalid_ingress;
pub mod invalid_metric_name;
pub mod invalid_name;
pub mod invalid_path;
pub mod invalid_port;
pub mod invalid_quantity;
pub mod invalid_schedule;
pub mod invalid_security;
pub mod invalid_setting;
pub mod invalid_stop;
pub mod invalid_workload;
pub mod missing_credentials;
pub mod missing_entrypoint;
pub mod missing_health;
pub mod missing_role;
pub mod phase_order;
pub mod port_conflict;
pub mod port_name;
pub mod port_outside_range;
pub mod privileged_port;
pub mod route_collision;
pub mod route_shadowing;
pub mod secret_in_env;
pub mod security_without_reason;
pub mod self_dependency;
pub mod unknown_auth;
pub mod unknown_connection;
pub mod unknown_consumer;
pub mod unknown_dependency;
pub mod unknown_override;
pub mod unknown_phase;
pub mod unknown_port;
pub mod unknown_receiver;
pub mod unknown_role;
pub mod unpinned_image;

pub use context::Context;

use std::collections::{HashMap, HashSet};

use crate::diag::{self, Diagnostic, Rule};
use crate::model::Platform;
use crate::source::SourceFile;
use crate::spec::{self, Spec, environment};

type Check = fn(&Context, &mut Vec<Diagnostic>);

/// Every rule that runs on a parsed spec, with its check, in code order.
const CHECKS: &[(&Rule, Check)] = &[
    (&invalid_name::RULE, invalid_name::check),
    (&port_name::RULE, port_name::check),
    (&env_name::RULE, env_name::check),
    (&secret_in_env::RULE, secret_in_env::check),
    (&unknown_phase::RULE, unknown_phase::check),
    (&duplicate_phase::RULE, duplicate_phase::check),
    (&unknown_override::RULE, unknown_override::check),
    (&port_conflict::RULE, port_conflict::check),
    (&invalid_port::RULE, invalid_port::check),
    (&port_outside_range::RULE, port_outside_range::check),
    (&privileged_port::RULE, privileged_port::check),
    (&unknown_port::RULE, unknown_port::check),
    (&unknown_dependency::RULE, unknown_dependency::check),
    (&self_dependency::RULE, self_dependency::check),
    (&dependency_cycle::RULE, dependency_cycle::check),
    (&phase_order::RULE, phase_order::check),
    (&duplicate_dependency::RULE, duplicate_dependency::check),
    (&unknown_connection::RULE, unknown_connection::check),
    (&route_collision::RULE, route_collision::check),
    (&invalid_path::RULE, invalid_path::check),
    (&missing_health::RULE, missing_health::check),
    (&invalid_health::RULE, invalid_health::check),
    (&invalid_stop::RULE, invalid_stop::check),
    (&unknown_role::RULE, unknown_role::check),
    (&missing_role::RULE, missing_role::check),
    (&gateway_without_route::RULE, gateway_without_route::check),
    (&unknown_auth::RULE, unknown_auth::check),
    (&route_shadowing::RULE, route_shadowing::check),
    (&invalid_metric_name::RULE, invalid_metric_name::check),
    (&invalid_setting::RULE, invalid_setting::check),
    (&unknown_receiver::RULE, unknown_receiver::check),
    (&unknown_consumer::RULE, unknown_consumer::check),
    (&missing_credentials::RULE, missing_credentials::check),
    (&exposed_admin::RULE, exposed_admin::check),
    (&internal_port::RULE, internal_port::check),
    (&gateway_bypass::RULE, gateway_bypass::check),
    (&missing_entrypoint::RULE, missing_entrypoint::check),
    (&invalid_ingress::RULE, invalid_ingress::check),
    (&duplicate_setting::RULE, duplicate_setting::check),
    (&invalid_autoscale::RULE, invalid_autoscale::check),
    (&invalid_quantity::RULE, invalid_quantity::check),
    (&invalid_workload::RULE, invalid_workload::check),
    (&invalid_schedule::RULE, invalid_schedule::check),
    (&unpinned_image::RULE, unpinned_image::check),
    (&invalid_image::RULE, invalid_image::check),
    (&invalid_security::RULE, invalid_security::check),
    (
        &security_without_reason::RULE,
        security_without_reason::check,
    ),
];

/// Every rule platgen has, parse-stage rules first, in code order.
pub fn all_rules() -> impl Iterator<Item = &'static Rule> {
    spec::rules::ALL
        .iter()
        .copied()
        .chain(CHECKS.iter().map(|(rule, _)| *rule))
}

/// Finds a rule by code (`PG201`) or name (`port-conflict`).
pub fn find_rule(code_or_name: &str) -> Option<&'static Rule> {
    all_rules().find(|r| r.code.eq_ignore_ascii_case(code_or_name) || r.name == code_or_name)
}

/// Runs every rule over `spec`.
pub fn run_rules(spec: &Spec) -> Vec<Diagnostic> {
    let cx = Context::new(spec);
    let mut out = Vec::new();
    for (_, check) in CHECKS {
        check(&cx, &mut out);
    }
    out
}

/// What checking one spec found.
#[derive(Debug)]
pub struct Outcome {
    /// Every problem, in source order.
    pub diagnostics: Vec<Diagnostic>,
    /// The validated platform, when no diagnostic is an error.
    pub platform: Option<Platform>,
    /// The environments checked besides the platform, in file order.
    pub environments: Vec<String>,
}

impl Outcome {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Which environments a check covers besides the platform itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environments<'a> {
    /// The platform alone.
    None,
    /// The platform and every environment (`platgen check`); the platform
    /// built is the one without environments.
    All,
    /// The platform and this one environment; the platform built is the
    /// environment's (`render --env NAME`).
    Only(&'a str),
}

/// Parses and checks one spec source: the whole of `platgen check`, which
/// covers the platform and every environment.
pub fn check(source: &SourceFile) -> Outcome {
    match check_in(source, Environments::All) {
        Ok(outcome) => outcome,
        Err(_) => unreachable!("checking every environment names none"),
    }
}

/// Parses and checks one spec source, with the environments `which`
/// covers applied one at a time.
///
/// A problem an environment brings is reported once, with a note naming
/// the environments that have it; one the platform has already is not
/// repeated. Since every value of an applied spec keeps its span, a
/// problem an environment's change causes points at that change.
pub fn check_in(
    source: &SourceFile,
    which: Environments,
) -> Result<Outcome, environment::UnknownEnvironment> {
    let parsed = spec::parse(source);
    let mut diagnostics = parsed.problems;
    let mut platform = None;
    let mut checked = Vec::new();
    if let Some(spec) = parsed.spec {
        let names: Vec<&str> = match which {
            Environments::None => Vec::new(),
            Environments::All => environment::names(&spec).collect(),
            Environments::Only(name) => {
                environment::find(&spec, name)?;
                vec![name]
            }
        };
        diagnostics.extend(run_rules(&spec));
        let mut applied = None;
        let mut brought: Vec<(Diagnostic, Vec<&str>)> = Vec::new();
        checked = names.iter().map(|n| (*n).to_owned()).collect();
        {
            // Looked up by hash: a spec with thousands of problems would
            // otherwise compare each with every other.
            let known: HashSet<&Diagnostic> = diagnostics.iter().collect();
            let mut seen: HashMap<Diagnostic, usize> = HashMap::new();
            for name in names {
                let env_spec = environment::apply(&spec, name)?;
                for d in run_rules(&env_spec) {
                    if known.contains(&d) {
                        continue;
                    }
                    if let Some(&i) = seen.get(&d) {
                        brought[i].1.push(name);
                    } else {
                        seen.insert(d.clone(), brought.len());
                        brought.push((d, vec![name]));
                    }
                }
                if which == Environments::Only(name) {
                    applied = Some(env_spec);
                }
            }
        }
        for (d, envs) in brought {
            let list: Vec<String> = envs.iter().map(|e| format!("`{e}`")).collect();
            let note = if list.len() == 1 {
                format!("in environment {}", list[0])
            } else {
                format!("in environments {}", list.join(", "))
            };
            diagnostics.push(d.with_note(note));
        }
        if !diagnostics.iter().any(Diagnostic::is_error) {
            platform = Some(Platform::from_spec(applied.as_ref().unwrap_or(&spec)));
        }
    }
    diag::sort(&mut diagnostics);
    Ok(Outcome {
        diagnostics,
        platform,
        environments: checked,
    })
}

/// Checks raw bytes (a file as read from disk), reporting text that is not
/// UTF-8 as a located problem.
pub fn check_bytes(name: &str, bytes: &[u8]) -> (SourceFile, Outcome) {
    match check_bytes_in(name, bytes, Environments::All) {
        Ok(checked) => checked,
        Err(_) => unreachable!("checking every environment names none"),
    }
}

/// [`check_bytes`] with the environments `which` covers.
pub fn check_bytes_in(
    name: &str,
    bytes: &[u8],
    which: Environments,
) -> Result<(SourceFile, Outcome), environment::UnknownEnvironment> {
    let (source, not_utf8) = spec::source_from_bytes(name, bytes);
    if let Some(d) = not_utf8 {
        return Ok((
            source,
            Outcome {
                diagnostics: vec![d],
                platform: None,
                environments: Vec::new(),
            },
        ));
    }
    let outcome = check_in(&source, which)?;
    Ok((source, outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_codes_and_names_are_unique_and_documented() {
        let rules: Vec<&Rule> = all_rules().collect();
        for (i, r) in rules.iter().enumerate() {
            assert!(r.code.starts_with("PG") && r.code.len() == 5, "{}", r.code);
            assert!(
                r.doc().contains("Why:"),
                "{} has no `Why:` in its doc block",
                r.name
            );
            assert!(r.doc().contains("Example:"), "{} has no example", r.name);
            for other in &rules[..i] {
                assert_ne!(r.code, other.code);
                assert_ne!(r.name, other.name);
            }
        }
    }
}

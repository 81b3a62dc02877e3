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

pub use context::{Context, Selection};

use crate::collections::{HashMap, HashSet};

use crate::diag::{self, Diagnostic, Rule};
use crate::model::Platform;
use crate::source::SourceFile;
use crate::spec::{self, Spec, environment};

/// What a rule reads, and so what it checks again in an environment.
#[derive(Clone, Copy)]
enum Scope {
    /// The platform as a whole (conflicts between services, cycles, roles,
    /// settings): run over the whole of every applied spec.
    Platform(fn(&Context, &mut Vec<Diagnostic>)),
    /// One service at a time (see [`Selection`]): in an environment, run
    /// only over the services the environment changes.
    Service(fn(&Selection, &mut Vec<Diagnostic>)),
}

/// Every rule that runs on a parsed spec, with its check, in code order.
const CHECKS: &[(&Rule, Scope)] = &[
    (&invalid_name::RULE, Scope::Service(invalid_name::check)),
    (&port_name::RULE, Scope::Service(port_name::check)),
    (&env_name::RULE, Scope::Service(env_name::check)),
    (&secret_in_env::RULE, Scope::Service(secret_in_env::check)),
    (&unknown_phase::RULE, Scope::Service(unknown_phase::check)),
    (
        &duplicate_phase::RULE,
        Scope::Platform(duplicate_phase::check),
    ),
    (
        &unknown_override::RULE,
        Scope::Platform(unknown_override::check),
    ),
    (&port_conflict::RULE, Scope::Platform(port_conflict::check)),
    (&invalid_port::RULE, Scope::Service(invalid_port::check)),
    (
        &port_outside_range::RULE,
        Scope::Service(port_outside_range::check),
    ),
    (
        &privileged_port::RULE,
        Scope::Service(privileged_port::check),
    ),
    (&unknown_port::RULE, Scope::Service(unknown_port::check)),
    (
        &unknown_dependency::RULE,
        Scope::Service(unknown_dependency::check),
    ),
    (
        &self_dependency::RULE,
        Scope::Service(self_dependency::check),
    ),
    (
        &dependency_cycle::RULE,
        Scope::Platform(dependency_cycle::check),
    ),
    (&phase_order::RULE, Scope::Service(phase_order::check)),
    (
        &duplicate_dependency::RULE,
        Scope::Service(duplicate_dependency::check),
    ),
    (
        &unknown_connection::RULE,
        Scope::Platform(unknown_connection::check),
    ),
    (
        &route_collision::RULE,
        Scope::Platform(route_collision::check),
    ),
    (&invalid_path::RULE, Scope::Service(invalid_path::check)),
    (&missing_health::RULE, Scope::Service(missing_health::check)),
    (&invalid_health::RULE, Scope::Service(invalid_health::check)),
    (&invalid_stop::RULE, Scope::Service(invalid_stop::check)),
    (&unknown_role::RULE, Scope::Platform(unknown_role::check)),
    (&missing_role::RULE, Scope::Platform(missing_role::check)),
    (
        &gateway_without_route::RULE,
        Scope::Service(gateway_without_route::check),
    ),
    (&unknown_auth::RULE, Scope::Service(unknown_auth::check)),
    (
        &route_shadowing::RULE,
        Scope::Platform(route_shadowing::check),
    ),
    (
        &invalid_metric_name::RULE,
        Scope::Service(invalid_metric_name::check),
    ),
    (
        &invalid_setting::RULE,
        Scope::Platform(invalid_setting::check),
    ),
    (
        &unknown_receiver::RULE,
        Scope::Platform(unknown_receiver::check),
    ),
    (
        &unknown_consumer::RULE,
        Scope::Platform(unknown_consumer::check),
    ),
    (
        &missing_credentials::RULE,
        Scope::Platform(missing_credentials::check),
    ),
    (&exposed_admin::RULE, Scope::Platform(exposed_admin::check)),
    (&internal_port::RULE, Scope::Service(internal_port::check)),
    (
        &gateway_bypass::RULE,
        Scope::Platform(gateway_bypass::check),
    ),
    (
        &missing_entrypoint::RULE,
        Scope::Platform(missing_entrypoint::check),
    ),
    (
        &invalid_ingress::RULE,
        Scope::Platform(invalid_ingress::check),
    ),
    (
        &duplicate_setting::RULE,
        Scope::Platform(duplicate_setting::check),
    ),
    (
        &invalid_autoscale::RULE,
        Scope::Service(invalid_autoscale::check),
    ),
    (
        &invalid_quantity::RULE,
        Scope::Service(invalid_quantity::check),
    ),
    (
        &invalid_workload::RULE,
        Scope::Service(invalid_workload::check),
    ),
    (
        &invalid_schedule::RULE,
        Scope::Service(invalid_schedule::check),
    ),
    (&unpinned_image::RULE, Scope::Service(unpinned_image::check)),
    (&invalid_image::RULE, Scope::Service(invalid_image::check)),
    (
        &invalid_security::RULE,
        Scope::Service(invalid_security::check),
    ),
    (
        &security_without_reason::RULE,
        Scope::Service(security_without_reason::check),
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
    run_rules_in(&Context::new(spec), None)
}

/// Runs the platform-wide rules over all of `cx`, and the per-service rules
/// over the services at `only` (ascending indices; all when `None`).
fn run_rules_in(cx: &Context, only: Option<&[usize]>) -> Vec<Diagnostic> {
    let selection = match only {
        None => Selection::all(cx),
        Some(only) => Selection::only(cx, only),
    };
    let mut out = Vec::new();
    for (_, scope) in CHECKS {
        match scope {
            Scope::Platform(check) => check(cx, &mut out),
            Scope::Service(check) => check(&selection, &mut out),
        }
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
    check_environments(source, which, Rerun::Changed)
}

/// Which rules run again over an applied environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rerun {
    /// The platform-wide rules, and the per-service rules over the services
    /// the environment changes, on an [`environment::Overlay`] that copies
    /// only those: what [`check_in`] does.
    Changed,
    /// Every rule over the whole spec [`environment::apply`] makes, to
    /// show that [`Rerun::Changed`] misses nothing.
    #[cfg(test)]
    Everything,
}

fn check_environments(
    source: &SourceFile,
    which: Environments,
    rerun: Rerun,
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
            let mut seen: HashMap<Diagnostic, usize> = HashMap::default();
            for name in names {
                let found = match rerun {
                    Rerun::Changed => {
                        let overlay = environment::overlay(&spec, name)?;
                        let changed: Vec<usize> =
                            overlay.services.iter().map(|(i, _)| *i).collect();
                        run_rules_in(&Context::applied(&spec, &overlay), Some(&changed))
                    }
                    #[cfg(test)]
                    Rerun::Everything => run_rules(&environment::apply(&spec, name)?),
                };
                for d in found {
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
                    applied = Some(name);
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
            let env_spec = applied
                .map(|name| environment::apply(&spec, name))
                .transpose()?;
            platform = Some(Platform::from_spec(env_spec.as_ref().unwrap_or(&spec)));
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
    match check_bytes_in(name, bytes.to_vec(), Environments::All) {
        Ok(checked) => checked,
        Err(_) => unreachable!("checking every environment names none"),
    }
}

/// [`check_bytes`] with the environments `which` covers. The bytes become
/// the source's text, so that a large spec is not held twice while it is
/// checked.
pub fn check_bytes_in(
    name: &str,
    bytes: Vec<u8>,
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

    /// Every `.yaml` file under `dir`, at any depth.
    fn yaml_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                yaml_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                out.push(path);
            }
        }
    }

    /// The platform as `Debug` shows it, without its name index, whose
    /// order is a hash map's.
    fn shown(platform: Option<&Platform>) -> String {
        let text = format!("{platform:?}");
        let Some(start) = text.find(", index: {") else {
            return text;
        };
        let end = start + text[start..].find('}').unwrap();
        format!("{}{}", &text[..start], &text[end + 1..])
    }

    /// Both ways of checking the environments, which must agree.
    fn assert_same(name: &str, text: &str) -> usize {
        let source = SourceFile::new(name, text);
        let fast = check_environments(&source, Environments::All, Rerun::Changed).unwrap();
        let full = check_environments(&source, Environments::All, Rerun::Everything).unwrap();
        assert_eq!(fast.diagnostics, full.diagnostics, "{name}");
        assert_eq!(fast.environments, full.environments, "{name}");
        assert_eq!(fast.platform.is_some(), full.platform.is_some(), "{name}");
        // One environment, as `render --env` checks it.
        for env in &fast.environments {
            let only = Environments::Only(env);
            let fast = check_environments(&source, only, Rerun::Changed).unwrap();
            let full = check_environments(&source, only, Rerun::Everything).unwrap();
            assert_eq!(fast.diagnostics, full.diagnostics, "{name} --env {env}");
            assert_eq!(
                shown(fast.platform.as_ref()),
                shown(full.platform.as_ref()),
                "{name} --env {env}"
            );
        }
        fast.diagnostics
            .iter()
            .filter(|d| d.notes.iter().any(|n| n.contains("in environment")))
            .count()
    }

    /// An environment that gets each thing it can change wrong.
    const WRONG_ENVIRONMENTS: &str = "name: demo
ports: {range: [1000, 1999]}
roles: {proxy: edge}
gateway:
  consumers:
    users: {jwt: {issuer: http://demo.local/id, public_key: users-key}}
services:
  edge:
    image: nginx:1.27.3
    ports: [{name: http, host: 1080, container: 80}]
    health: {http: {port: http, path: /healthz}}
  api:
    image: ghcr.io/example/api:1.0.0
    ports: [{name: http, host: 1400, container: 8080}]
    health: {http: {path: /health}}
    route: {path: /api}
    env: {LOG_LEVEL: info}
    resources: {cpu: 250m, memory: 256Mi}
  job:
    image: ghcr.io/example/job:1.0.0
    kind: job
  web:
    image: ghcr.io/example/web:1.0.0
    ports: [{name: http, host: 1500, container: 8080}]
    health: {http: {path: /health}}
environments:
  dev:
    domain: Not_A_Host
    services:
      api:
        tag: latest
        env: {DB_PASSWORD: hunter2, 1BAD: x}
        ports: {http: 80}
        autoscale: {min: 0, max: 2, cpu_percent: 80}
      job:
        replicas: 3
  prod:
    domain: demo.example.com
    gateway:
      consumers:
        users: {jwt: {issuer: https://demo.example.com/id}}
    services:
      web:
        image: \"not an image\"
        ports: {http: 1400}
        resources: {cpu: \"0\", memory: 1Ki}
      api:
        replicas: 2
        autoscale: {min: 3, max: 2, cpu_percent: 70}
        ports: {http: 2500}
";

    #[test]
    fn rerunning_only_what_an_environment_changes_finds_all_it_brings() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = vec![root.join("platform.yaml")];
        yaml_files(&root.join("tests/fixtures"), &mut files);
        yaml_files(&root.join("examples"), &mut files);
        for path in &files {
            // A file that is no UTF-8 is refused before any rule runs.
            if let Ok(text) = std::fs::read_to_string(path) {
                assert_same(&path.display().to_string(), &text);
            }
        }
        let brought = assert_same("wrong.yaml", WRONG_ENVIRONMENTS);
        assert!(brought >= 8, "only {brought} problems in environments");
    }

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

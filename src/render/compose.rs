//! docker-compose: `compose.yaml`, plus `.env` (which phases `docker compose
//! up` starts) and `.gitignore` (keeps the secret files out of version
//! control).
//!
//! Decisions made here, not in the template:
//! - Every string is passed through the `yaml` filter, and every `$` the
//!   spec wrote becomes `$$`, so compose never interpolates a value.
//! - Health checks run a probe that exists in the image (`health.probe`).
//! - `depends_on` waits for `service_completed_successfully` when the
//!   dependency is a `job` (it must have exited 0), for `service_healthy`
//!   when it has a health check, else for `service_started`.
//! - A `job` runs once: `restart: "no"`. A `cronjob` is not started by
//!   `docker compose up` at all: compose has no scheduler, so it is in the
//!   profile `scheduled` alone, and the host's scheduler runs it with
//!   `docker compose run --rm <service>` (its comment in compose.yaml says
//!   when).
//! - Phases become profiles: services of the first phase have none (they
//!   always start); a later service carries the profile of its own phase and
//!   of every later phase, so `--profile phase-2B` starts phases up to 2B.
//!   `.env` selects the last phase, so a plain `docker compose up` starts
//!   the whole platform.
//! - Secrets are compose secrets read from `secrets/<name>` next to
//!   `compose.yaml`, mounted at `/run/secrets/<name>`, and announced to the
//!   container in the secret's `file_env` variable (`<VARIABLE>_FILE`).
//! - Every container drops all capabilities (adding back the spec's
//!   `capabilities`), runs with `no-new-privileges`, as the spec's user
//!   (`user: uid:gid`), with a read-only root filesystem and a tmpfs per
//!   writable path (`/tmp` always) unless the spec says otherwise. The
//!   volume group (`fs_group`) is a supplementary group, as Kubernetes
//!   adds it. Ports below 1024 need nothing for a non-root process: Docker
//!   lets every container bind them (`ip_unprivileged_port_start=0`).
//! - A public port is published on its `bind` address (all addresses by
//!   default); an internal one (`expose`, a data store's or an admin port
//!   by default) on 127.0.0.1 only, so the host reaches it and the network
//!   does not.
//! - Compose runs one instance of each service: `replicas` and `autoscale`
//!   are Kubernetes' business, and a published host port can be bound once.
//! - The services of the roles get the generated configs bind-mounted
//!   read-only (`./nginx/nginx.conf`, `./prometheus/*.yml`, `./kong/kong.yml`,
//!   `./grafana/datasources.yml`, `./alertmanager/alertmanager.cfg`); the
//!   gateway also gets the environment of [`wiring::gateway_env`], and the
//!   secret files a role's generated config names are mounted with the
//!   service's own secrets. Entrypoint and command follow
//!   [`wiring::launch`].

use serde::Serialize;

use super::wiring::{self, Mount};
use super::{Engine, TemplateError};
use crate::duration;
use crate::model::{Health, HealthCheck, Platform, Port, PortTarget, Security, Service};
use crate::quantity;
use crate::spec::{Probe, SecretDelivery, WorkloadKind};

/// What `compose/compose.yaml.j2` receives.
#[derive(Debug, Serialize)]
pub struct Context {
    /// The compose project name.
    pub project: String,
    pub services: Vec<ComposeService>,
    /// Named volumes, each once, sorted.
    pub volumes: Vec<String>,
    /// Secrets, each once, sorted.
    pub secrets: Vec<SecretFile>,
    /// The profile `.env` selects, when the platform has phases.
    pub default_profile: Option<String>,
    /// The profile of each phase, in order.
    pub phase_profiles: Vec<PhaseProfile>,
}

#[derive(Debug, Serialize)]
pub struct PhaseProfile {
    pub phase: String,
    pub title: Option<String>,
    /// `None` for the first phase, which always starts.
    pub profile: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SecretFile {
    pub name: String,
    /// Relative to `compose.yaml`.
    pub file: String,
}

#[derive(Debug, Serialize)]
pub struct ComposeService {
    pub name: String,
    /// A comment above the service (a cronjob's schedule).
    pub comment: Option<String>,
    pub image: String,
    /// Replaces the image's ENTRYPOINT.
    pub entrypoint: Option<Vec<String>>,
    pub command: Option<Vec<String>>,
    pub profiles: Vec<String>,
    /// `[address:]host:container/protocol`.
    pub ports: Vec<String>,
    /// Container ports that are not published: `port/protocol`.
    pub expose: Vec<String>,
    pub environment: Vec<EnvVar>,
    pub healthcheck: Option<Healthcheck>,
    pub depends_on: Vec<Dependency>,
    /// `volume:/path` and `./file:/path:ro` mounts.
    pub volumes: Vec<String>,
    pub secrets: Vec<String>,
    pub restart: &'static str,
    pub cpus: Option<String>,
    pub memory: Option<String>,
    /// `uid[:gid]`, when the spec names the user (`0` for root).
    pub user: Option<String>,
    /// Supplementary groups: the volume group, as Kubernetes adds it.
    pub group_add: Vec<String>,
    pub read_only: bool,
    /// Paths that get a tmpfs.
    pub tmpfs: Vec<String>,
    pub cap_drop: Vec<&'static str>,
    pub cap_add: Vec<String>,
    /// `no-new-privileges:true`: no setuid binary raises privileges.
    pub security_opt: Vec<&'static str>,
    /// `init: true`: an init process as PID 1.
    pub init: bool,
    pub stop_signal: Option<String>,
    /// A compose duration, e.g. `30s`.
    pub stop_grace_period: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Serialize)]
pub struct Healthcheck {
    /// The exec form: `["CMD", ...]`.
    pub test: Vec<String>,
    pub interval: String,
    pub timeout: String,
    pub retries: u32,
    pub start_period: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Dependency {
    pub name: String,
    /// `service_completed_successfully`, `service_healthy` or
    /// `service_started`.
    pub condition: &'static str,
}

/// Escapes `$` so that compose passes the text through unchanged.
/// Free text for a YAML comment: one line, with every character YAML does
/// not allow in a document (controls, line and paragraph separators, byte
/// order marks) written as a `\u{...}` escape. A line break would end the
/// comment and turn the rest of the text into YAML.
pub fn comment_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control()
            || matches!(
                c,
                '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
            )
        {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

pub fn escape(text: &str) -> String {
    escape_owned(text.to_owned())
}

/// Every argument [`escape`]d.
fn escape_all(argv: Vec<String>) -> Vec<String> {
    argv.into_iter().map(escape_owned).collect()
}

/// [`escape`], keeping the string when it has nothing to escape (most
/// values have no `$`: one search, no copy).
fn escape_owned(text: String) -> String {
    if text.contains('$') {
        text.replace('$', "$$")
    } else {
        text
    }
}

/// Where an internal port is published: the host's loopback address.
pub const INTERNAL_ADDRESS: &str = "127.0.0.1";

fn port_mapping(port: &Port) -> Option<String> {
    let host = port.host?;
    let bind = port
        .bind
        .as_deref()
        .or((!port.public).then_some(INTERNAL_ADDRESS));
    let address = match bind {
        None => String::new(),
        Some(ip) if ip.contains(':') && !ip.starts_with('[') => format!("[{ip}]:"),
        Some(ip) => format!("{ip}:"),
    };
    Some(format!(
        "{address}{host}:{}/{}",
        port.container,
        port.protocol.name()
    ))
}

/// The health check's command, run inside the container; `None` when the
/// image has no tool to run it (`probe: none`).
pub fn probe_command(health: &Health) -> Option<Vec<String>> {
    let timeout = duration::ceil_seconds(health.timeout_ms, 1).to_string();
    let url = |port: &PortTarget, path: &str| format!("http://127.0.0.1:{}{path}", port.number);
    let wget = |port: &PortTarget, path: &str| {
        vec![
            "wget".to_owned(),
            "-q".into(),
            "-T".into(),
            timeout.clone(),
            "-O".into(),
            "/dev/null".into(),
            url(port, path),
        ]
    };
    let nc = |port: &PortTarget| {
        vec![
            "nc".to_owned(),
            "-z".into(),
            "-w".into(),
            timeout.clone(),
            "127.0.0.1".into(),
            port.number.to_string(),
        ]
    };
    let busybox = |mut argv: Vec<String>| {
        argv.insert(0, "busybox".into());
        argv
    };
    let args: Vec<String> = match (&health.check, health.probe) {
        (HealthCheck::Command { argv }, _) => argv.clone(),
        (_, Probe::None) => return None,
        (HealthCheck::Http { port, path }, Probe::Curl) => vec![
            "curl".into(),
            "-fsS".into(),
            "-o".into(),
            "/dev/null".into(),
            "--max-time".into(),
            timeout,
            url(port, path),
        ],
        // Without `-T`: Debian's static busybox 1.35 crashes on it (SIGSEGV,
        // exit 139, seen on bookworm); the check's own `timeout` bounds it.
        (HealthCheck::Http { port, path }, Probe::Busybox) => vec![
            "busybox".into(),
            "wget".into(),
            "-q".into(),
            "-O".into(),
            "/dev/null".into(),
            url(port, path),
        ],
        (HealthCheck::Http { port, path }, _) => wget(port, path),
        (HealthCheck::Tcp { port }, Probe::Bash) => vec![
            "bash".into(),
            "-c".into(),
            format!("exec 3<>/dev/tcp/127.0.0.1/{}", port.number),
        ],
        (HealthCheck::Tcp { port }, Probe::Busybox) => busybox(nc(port)),
        (HealthCheck::Tcp { port }, _) => nc(port),
        (HealthCheck::Grpc { port, service }, _) => {
            let mut argv = vec![
                "grpc_health_probe".to_owned(),
                format!("-addr=127.0.0.1:{}", port.number),
                format!("-connect-timeout={timeout}s"),
                format!("-rpc-timeout={timeout}s"),
            ];
            if let Some(service) = service {
                argv.push(format!("-service={service}"));
            }
            argv
        }
    };
    let mut test: Vec<String> = vec!["CMD".into()];
    test.extend(args);
    Some(test)
}

fn healthcheck(health: &Health) -> Option<Healthcheck> {
    Some(Healthcheck {
        test: probe_command(health)?
            .into_iter()
            .map(escape_owned)
            .collect(),
        interval: duration::format_millis(health.interval_ms),
        timeout: duration::format_millis(health.timeout_ms),
        retries: health.retries,
        start_period: health.start_period_ms.map(duration::format_millis),
    })
}

/// Whether docker-compose can tell when `s` is healthy.
fn has_healthcheck(s: &Service) -> bool {
    s.health.as_ref().is_some_and(has_probe)
}

/// Whether `probe_command(health)` is some, without building it: only
/// `probe: none` for a check that is not a command has none.
fn has_probe(health: &Health) -> bool {
    matches!(health.check, HealthCheck::Command { .. }) || health.probe != Probe::None
}

/// The `user:` of a service: `uid[:gid]` as the spec says, `0` for a root
/// start, none to keep the image's own user.
pub fn user(sec: &Security) -> Option<String> {
    if sec.root {
        return Some("0".to_owned());
    }
    match (sec.run_as_user, sec.run_as_group) {
        (Some(u), Some(g)) => Some(format!("{u}:{g}")),
        (Some(u), None) => Some(u.to_string()),
        // A group alone: compose's `user` needs a user, so the image's own
        // user runs with the image's group.
        (None, _) => None,
    }
}

/// The profile name of phase `id`.
pub fn profile_name(id: &str) -> String {
    format!("phase-{id}")
}

/// The profile of the cronjobs, which `docker compose up` does not start.
pub const SCHEDULED_PROFILE: &str = "scheduled";

fn profiles(platform: &Platform, service: &Service) -> Vec<String> {
    if service.kind == WorkloadKind::Cronjob {
        return vec![SCHEDULED_PROFILE.to_owned()];
    }
    if !platform.phased || service.phase == 0 {
        return Vec::new();
    }
    platform.phases[service.phase..]
        .iter()
        .map(|p| profile_name(&p.id))
        .collect()
}

fn service(platform: &Platform, mounts: &[Mount], s: &Service) -> ComposeService {
    let mut environment: Vec<EnvVar> = s
        .env
        .iter()
        .map(|(k, v)| EnvVar {
            name: k.clone(),
            value: escape(v),
        })
        .collect();
    for (name, value) in wiring::gateway_env(platform, s) {
        environment.push(EnvVar { name, value });
    }
    // The wrapper of `delivery: entrypoint` reads its files itself: no
    // `_FILE` variable, which such an image may even refuse.
    for secret in s
        .secrets
        .iter()
        .filter(|x| x.delivery != SecretDelivery::Entrypoint)
    {
        environment.push(EnvVar {
            name: secret.file_env.clone(),
            value: format!("/run/secrets/{}", secret.name),
        });
    }
    let mut secrets: Vec<String> = Vec::new();
    for name in s
        .secrets
        .iter()
        .map(|x| x.name.clone())
        .chain(platform.role_secrets(&s.name))
    {
        if !secrets.contains(&name) {
            secrets.push(name);
        }
    }
    let launch = wiring::launch(platform, s);
    ComposeService {
        name: s.name.clone(),
        comment: s.schedule.as_ref().map(|schedule| {
            comment_text(&format!(
                "A cronjob: on Kubernetes it runs at \"{schedule}\". Compose has no scheduler: \
                 run it from the host's, e.g. `docker compose run --rm {}`.",
                s.name
            ))
        }),
        image: escape(&s.image),
        entrypoint: launch.entrypoint.map(escape_all),
        command: launch.command.map(escape_all),
        profiles: profiles(platform, s),
        ports: s.ports.iter().filter_map(port_mapping).collect(),
        expose: s
            .ports
            .iter()
            .filter(|p| p.host.is_none())
            .map(|p| format!("{}/{}", p.container, p.protocol.name()))
            .collect(),
        environment,
        healthcheck: s.health.as_ref().and_then(healthcheck),
        depends_on: s
            .depends_on
            .iter()
            .map(|d| Dependency {
                name: d.clone(),
                condition: condition(platform.service(d)),
            })
            .collect(),
        volumes: s
            .volumes
            .iter()
            .map(|(name, v)| format!("{name}:{}", escape(&v.path)))
            .chain(
                mounts
                    .iter()
                    .filter(|m| m.service == s.name)
                    .map(|m| format!("./{}:{}:ro", m.file, escape(&m.path))),
            )
            .collect(),
        secrets,
        restart: if s.runs_to_completion() {
            "no"
        } else {
            "unless-stopped"
        },
        cpus: s.resources.cpu_millis.map(quantity::compose_cpus),
        memory: s.resources.memory_bytes.map(quantity::compose_memory),
        user: user(&s.security),
        group_add: s
            .security
            .fs_group
            .filter(|g| Some(*g) != s.security.run_as_group)
            .map(|g| g.to_string())
            .into_iter()
            .collect(),
        read_only: s.security.read_only_root,
        tmpfs: s.security.scratch_paths(&s.volumes),
        cap_drop: vec!["ALL"],
        cap_add: s.security.capabilities.clone(),
        security_opt: vec!["no-new-privileges:true"],
        init: s.init,
        stop_signal: s.stop_signal.clone(),
        stop_grace_period: s.stop_grace_period_ms.map(duration::format_millis),
    }
}

/// What a dependant waits for: a job to have exited 0, a service with a
/// health check to be healthy, any other to have started.
pub fn condition(dependency: Option<&Service>) -> &'static str {
    match dependency {
        Some(d) if d.kind == WorkloadKind::Job => "service_completed_successfully",
        Some(d) if has_healthcheck(d) => "service_healthy",
        _ => "service_started",
    }
}

/// Builds the context of `compose/compose.yaml.j2`.
pub fn context(platform: &Platform) -> Context {
    let mounts = wiring::mounts(platform);
    let services: Vec<ComposeService> = platform
        .services
        .iter()
        .map(|s| service(platform, &mounts, s))
        .collect();
    let mut volumes: Vec<String> = platform
        .services
        .iter()
        .flat_map(|s| s.volumes.keys().cloned())
        .collect();
    volumes.sort();
    volumes.dedup();
    let multi_phase = platform.phased && platform.phases.len() > 1;
    Context {
        project: platform.name.clone(),
        services,
        volumes,
        secrets: platform
            .secret_names()
            .into_iter()
            .map(|name| SecretFile {
                file: format!("./secrets/{name}"),
                name,
            })
            .collect(),
        default_profile: multi_phase
            .then(|| platform.phases.last().map(|p| profile_name(&p.id)))
            .flatten(),
        phase_profiles: if platform.phased {
            platform
                .phases
                .iter()
                .enumerate()
                .map(|(i, p)| PhaseProfile {
                    phase: p.id.clone(),
                    title: p.title.as_deref().map(comment_text),
                    profile: (i > 0).then(|| profile_name(&p.id)),
                })
                .collect()
        } else {
            Vec::new()
        },
    }
}

/// Renders `compose.yaml` and, when needed, `.env` and `.gitignore`.
pub fn render(
    platform: &Platform,
    engine: &Engine,
) -> Result<Vec<(String, String)>, TemplateError> {
    let cx = context(platform);
    // Converted once for the three templates.
    let values = Engine::values(&cx);
    let (env, gitignore) = (cx.default_profile.is_some(), !cx.secrets.is_empty());
    drop(cx);
    let mut files = vec![(
        "compose.yaml".to_owned(),
        engine.render_values("compose/compose.yaml.j2", &values)?,
    )];
    if env {
        files.push((
            ".env".to_owned(),
            engine.render_values("compose/env.j2", &values)?,
        ));
    }
    if gitignore {
        files.push((
            ".gitignore".to_owned(),
            engine.render_values("compose/gitignore.j2", &values)?,
        ));
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn health(check: HealthCheck, probe: Probe) -> Health {
        Health {
            liveness: None,
            check,
            probe,
            interval_ms: 10_000,
            timeout_ms: 3_500,
            retries: 3,
            start_period_ms: None,
        }
    }

    fn target(number: u16) -> PortTarget {
        PortTarget {
            name: "http".into(),
            number,
        }
    }

    #[test]
    fn has_probe_says_whether_there_is_a_probe_command() {
        let checks = [
            HealthCheck::Http {
                port: target(8080),
                path: "/".into(),
            },
            HealthCheck::Tcp { port: target(5432) },
            HealthCheck::Command {
                argv: vec!["true".into()],
            },
        ];
        for check in &checks {
            for probe in [
                Probe::Wget,
                Probe::Curl,
                Probe::Busybox,
                Probe::Nc,
                Probe::Bash,
                Probe::None,
            ] {
                let h = health(check.clone(), probe);
                assert_eq!(
                    has_probe(&h),
                    probe_command(&h).is_some(),
                    "{check:?} {probe:?}"
                );
            }
        }
    }

    #[test]
    fn escape_doubles_every_dollar() {
        assert_eq!(escape("pa$$w$rd"), "pa$$$$w$$rd");
        assert_eq!(escape_owned("no dollar".into()), "no dollar");
        assert_eq!(escape_owned("$x".into()), "$$x");
    }

    #[test]
    fn probes_use_the_tool_the_spec_names() {
        let http = HealthCheck::Http {
            port: target(8080),
            path: "/health?x=1&y=2".into(),
        };
        let probe = |check: &HealthCheck, tool| probe_command(&health(check.clone(), tool));
        assert_eq!(
            probe(&http, Probe::Wget).unwrap(),
            [
                "CMD",
                "wget",
                "-q",
                "-T",
                "4",
                "-O",
                "/dev/null",
                "http://127.0.0.1:8080/health?x=1&y=2"
            ]
        );
        assert_eq!(probe(&http, Probe::Curl).unwrap()[1], "curl");
        assert_eq!(
            probe(&http, Probe::Busybox).unwrap(),
            [
                "CMD",
                "busybox",
                "wget",
                "-q",
                "-O",
                "/dev/null",
                "http://127.0.0.1:8080/health?x=1&y=2"
            ],
            "no -T, which crashes Debian's static busybox"
        );
        assert_eq!(probe(&http, Probe::None), None, "no tool, no compose check");
        let tcp = HealthCheck::Tcp { port: target(5672) };
        assert_eq!(
            probe(&tcp, Probe::Nc).unwrap(),
            ["CMD", "nc", "-z", "-w", "4", "127.0.0.1", "5672"]
        );
        assert_eq!(
            probe(&tcp, Probe::Busybox).unwrap(),
            ["CMD", "busybox", "nc", "-z", "-w", "4", "127.0.0.1", "5672"]
        );
        assert_eq!(
            probe(&tcp, Probe::Bash).unwrap(),
            ["CMD", "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/5672"]
        );
        let grpc = HealthCheck::Grpc {
            port: target(50051),
            service: Some("orders.v1".into()),
        };
        assert_eq!(
            probe(&grpc, Probe::GrpcHealthProbe).unwrap(),
            [
                "CMD",
                "grpc_health_probe",
                "-addr=127.0.0.1:50051",
                "-connect-timeout=4s",
                "-rpc-timeout=4s",
                "-service=orders.v1"
            ]
        );
        assert_eq!(probe(&grpc, Probe::None), None);
        let command = HealthCheck::Command {
            argv: vec!["pg_isready".into()],
        };
        assert_eq!(
            probe(&command, Probe::None).unwrap(),
            ["CMD", "pg_isready"],
            "a command check names its own tool"
        );
    }

    #[test]
    fn the_user_is_uid_and_gid_or_root() {
        let mut sec = Security {
            run_as_user: Some(70),
            run_as_group: Some(70),
            ..Security::default()
        };
        assert_eq!(user(&sec).as_deref(), Some("70:70"));
        sec.run_as_group = None;
        assert_eq!(user(&sec).as_deref(), Some("70"));
        sec.run_as_user = None;
        sec.run_as_group = Some(5);
        assert_eq!(user(&sec), None, "a group alone keeps the image's user");
        sec.root = true;
        assert_eq!(user(&sec).as_deref(), Some("0"));
    }

    #[test]
    fn dollars_are_escaped_for_compose() {
        assert_eq!(escape("pa$word${HOME}"), "pa$$word$${HOME}");
    }
}

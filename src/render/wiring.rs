//! Which generated config each role's service reads, and where: shared by
//! the compose target (bind mounts) and the Kubernetes target (ConfigMaps).
//! Also what a role's service needs besides its files: environment (Kong),
//! command-line flags (Prometheus's retention), an entrypoint that adds the
//! gateway's credentials at start, and the secret files a generated config
//! names (receiver and consumer credentials).

use std::fmt::Write as _;

use crate::model::{DEFAULT_TRUSTED_IPS, Platform, Service};
use crate::spec::{AdminApi, Protocol, SecretDelivery};

/// Where Kong reads its declarative config unless the spec's
/// `KONG_DECLARATIVE_CONFIG` says otherwise.
pub const KONG_CONFIG_PATH: &str = "/kong/declarative/kong.yml";

/// Where the gateway's credentials script is mounted.
pub const KONG_CREDENTIALS_SCRIPT: &str = "/platgen/kong-credentials.sh";

/// Where Kong's image keeps its own entrypoint, which the credentials
/// script hands over to.
pub const KONG_ENTRYPOINT: &str = "/docker-entrypoint.sh";

/// The image's command when the spec gives none.
pub const KONG_DEFAULT_COMMAND: [&str; 2] = ["kong", "docker-start"];

/// Where Alertmanager reads its config (the official image's default).
pub const ALERTMANAGER_CONFIG_PATH: &str = "/etc/alertmanager/alertmanager.yml";

/// Where Prometheus reads its config (the official image's default).
pub const PROMETHEUS_CONFIG_PATH: &str = "/etc/prometheus/prometheus.yml";

/// The Admin API's address when `gateway.admin` is `localhost`.
pub const KONG_ADMIN_LOCALHOST: &str = "127.0.0.1:8001";

/// The header Nginx sets to the client's address, which Kong believes from
/// its trusted addresses.
pub const REAL_IP_HEADER: &str = "X-Real-IP";

/// Where the secret files a role's generated config names are found: with
/// the service's own secret files, one file each, in both targets.
pub const ROLE_SECRETS_DIR: &str = super::kubernetes::SECRETS_DIR;

/// A generated file that a role's service reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// The service that reads it.
    pub service: String,
    /// The file, relative to the output directory (compose flavour).
    pub file: &'static str,
    /// The file in the Kubernetes target, relative to `kubernetes/`.
    pub kubernetes_file: &'static str,
    /// The ConfigMap that carries it in Kubernetes, and its key there.
    pub config_map: &'static str,
    pub key: &'static str,
    /// Where the service reads it.
    pub path: String,
}

/// The port a role's service listens on: its first tcp port.
pub fn role_port(service: &Service) -> Option<u16> {
    service
        .ports
        .iter()
        .find(|p| p.protocol == Protocol::Tcp)
        .map(|p| p.container.low)
}

/// The role's service, if the platform has that role and the service.
pub fn role<'p>(platform: &'p Platform, name: Option<&String>) -> Option<&'p Service> {
    name.and_then(|n| platform.service(n))
}

/// Every generated config a service reads, in a fixed order.
pub fn mounts(platform: &Platform) -> Vec<Mount> {
    let mut out = Vec::new();
    if let Some(proxy) = role(platform, platform.roles.proxy.as_ref()) {
        out.push(Mount {
            service: proxy.name.clone(),
            file: "nginx/nginx.conf",
            kubernetes_file: "config/nginx.conf",
            config_map: "platgen-nginx",
            key: "nginx.conf",
            path: "/etc/nginx/nginx.conf".into(),
        });
    }
    if let Some(alerting) = role(platform, platform.roles.alerting.as_ref()) {
        out.push(Mount {
            service: alerting.name.clone(),
            file: "alertmanager/alertmanager.cfg",
            kubernetes_file: "config/alertmanager.cfg",
            config_map: "platgen-alertmanager",
            key: "alertmanager.yml",
            path: ALERTMANAGER_CONFIG_PATH.into(),
        });
    }
    if let Some(monitoring) = role(platform, platform.roles.monitoring.as_ref()) {
        for (file, kubernetes_file, key) in [
            (
                "prometheus/prometheus.yml",
                "config/prometheus.yml",
                "prometheus.yml",
            ),
            ("prometheus/alerts.yml", "config/alerts.yml", "alerts.yml"),
        ] {
            out.push(Mount {
                service: monitoring.name.clone(),
                file,
                kubernetes_file,
                config_map: "platgen-prometheus",
                key,
                path: format!("/etc/prometheus/{key}"),
            });
        }
        if let Some(dashboards) = role(platform, platform.roles.dashboards.as_ref()) {
            out.push(Mount {
                service: dashboards.name.clone(),
                file: "grafana/datasources.yml",
                kubernetes_file: "config/datasources.yml",
                config_map: "platgen-grafana",
                key: "datasources.yml",
                path: "/etc/grafana/provisioning/datasources/platgen.yml".into(),
            });
        }
    }
    if let Some(gateway) = role(platform, platform.roles.gateway.as_ref()) {
        out.push(Mount {
            service: gateway.name.clone(),
            file: "kong/kong.yml",
            kubernetes_file: "config/kong.yml",
            config_map: "platgen-kong",
            key: "kong.yml",
            path: kong_config_path(gateway).to_owned(),
        });
        if has_credentials(platform) {
            out.push(Mount {
                service: gateway.name.clone(),
                file: "kong/credentials.sh",
                kubernetes_file: "config/kong-credentials.sh",
                config_map: "platgen-kong",
                key: "credentials.sh",
                path: KONG_CREDENTIALS_SCRIPT.into(),
            });
        }
    }
    out
}

/// Where the gateway reads the generated `kong.yml`.
pub fn kong_config_path(gateway: &Service) -> &str {
    gateway
        .env
        .get("KONG_DECLARATIVE_CONFIG")
        .map_or(KONG_CONFIG_PATH, String::as_str)
}

/// Whether any consumer has credentials, which the gateway then adds to its
/// config when it starts.
pub fn has_credentials(platform: &Platform) -> bool {
    platform
        .gateway
        .consumers
        .iter()
        .any(|c| !c.credentials.is_empty())
}

/// How a role's service is started, where platgen must change that: the
/// entrypoint and the command (Docker's ENTRYPOINT and CMD; Kubernetes'
/// `command` and `args`). `None` keeps what the spec or the image says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Launch {
    pub entrypoint: Option<Vec<String>>,
    pub command: Option<Vec<String>>,
}

/// The service's entrypoint and command:
/// - the monitoring role gets `monitoring.retention` as
///   `--storage.tsdb.retention.*` flags after its command (after the
///   official image's own defaults when the spec gives no command);
/// - the gateway role, when consumers have credentials, starts through the
///   credentials script, which then runs Kong's own entrypoint with the
///   command.
pub fn launch(platform: &Platform, service: &Service) -> Launch {
    let mut launch = Launch {
        entrypoint: service.entrypoint.clone(),
        command: service.command.clone(),
    };
    let is = |r: &Option<String>| r.as_deref() == Some(service.name.as_str());
    if is(&platform.roles.monitoring) {
        let m = &platform.monitoring;
        let flags: Vec<String> = [
            m.retention_time
                .as_ref()
                .map(|t| format!("--storage.tsdb.retention.time={t}")),
            m.retention_size
                .as_ref()
                .map(|s| format!("--storage.tsdb.retention.size={s}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !flags.is_empty() {
            let mut command = service.command.clone().unwrap_or_else(|| {
                let data = service
                    .volumes
                    .values()
                    .next()
                    .map_or("/prometheus", |v| v.path.as_str());
                vec![
                    format!("--config.file={PROMETHEUS_CONFIG_PATH}"),
                    format!("--storage.tsdb.path={data}"),
                ]
            });
            command.extend(flags);
            launch.command = Some(command);
        }
    }
    if is(&platform.roles.gateway) && has_credentials(platform) {
        launch.entrypoint = Some(vec![
            "/bin/sh".into(),
            KONG_CREDENTIALS_SCRIPT.into(),
            ROLE_SECRETS_DIR.into(),
        ]);
        let mut command = vec![KONG_ENTRYPOINT.to_owned()];
        match &service.command {
            Some(c) => command.extend(c.iter().cloned()),
            None => command.extend(KONG_DEFAULT_COMMAND.iter().map(|a| (*a).to_owned())),
        }
        launch.command = Some(command);
    }
    if let Some(command) = redis_command(service, launch.command.as_deref()) {
        launch.command = Some(command);
    }
    if let Some(script) = secrets_wrapper(service) {
        let mut entrypoint = vec![
            "/bin/sh".to_owned(),
            "-c".to_owned(),
            script,
            WRAPPER_NAME.to_owned(),
            ROLE_SECRETS_DIR.to_owned(),
        ];
        entrypoint.extend(launch.entrypoint.unwrap_or_default());
        launch.entrypoint = Some(entrypoint);
    }
    launch
}

/// The share of a Redis container's memory limit that its `maxmemory`
/// gets, in percent: the rest is for the fork that writes snapshots and
/// rewrites the append-only file (copy-on-write pages), buffers and
/// fragmentation.
pub const REDIS_MAXMEMORY_PERCENT: u64 = 75;

/// The command of a Redis (or Valkey) server with a memory limit and no
/// `--maxmemory` of its own: the spec's command (or the image's
/// `redis-server`) with `--maxmemory` at [`REDIS_MAXMEMORY_PERCENT`] of the
/// limit. Without it Redis grows until the kernel kills it at the limit;
/// with it, writes fail with an OOM error first (the default policy,
/// `noeviction`, keeps every key of a store; set `--maxmemory-policy` in
/// the command for a cache). `None` when nothing changes.
pub fn redis_command(service: &Service, command: Option<&[String]>) -> Option<Vec<String>> {
    let server = match crate::exposure::image_name(&service.image) {
        "redis" => "redis-server",
        "valkey" => "valkey-server",
        _ => return None,
    };
    let limit = service.resources.memory_bytes?;
    let mut argv: Vec<String> = match command {
        None => vec![server.to_owned()],
        Some(c) if c.first().is_some_and(|a| a == server) => c.to_vec(),
        Some(_) => return None,
    };
    if argv
        .iter()
        .any(|a| a.starts_with("--maxmemory") && !a.starts_with("--maxmemory-"))
    {
        return None;
    }
    argv.push("--maxmemory".to_owned());
    argv.push((limit.saturating_mul(REDIS_MAXMEMORY_PERCENT) / 100).to_string());
    Some(argv)
}

/// The wrapper's `$0`, which `sh` names in its own messages.
pub const WRAPPER_NAME: &str = "platgen-secrets";

/// The script of the entrypoint wrapper for the service's secrets of
/// `delivery: entrypoint`, when it has any. Run as
/// `sh -c SCRIPT platgen-secrets SECRETS_DIR ENTRYPOINT... COMMAND...`, it
/// reads each secret's file into its variable, exports it and `exec`s the
/// rest, so the image's entrypoint runs as PID 1 with the variable set. A
/// missing or unreadable file stops the container with a message that
/// names the secret (never its value). The script holds no `$(`, which
/// Kubernetes would take for a variable reference, and no `$$`.
pub fn secrets_wrapper(service: &Service) -> Option<String> {
    let secrets: Vec<_> = service
        .secrets
        .iter()
        .filter(|x| x.delivery == SecretDelivery::Entrypoint)
        .collect();
    if secrets.is_empty() {
        return None;
    }
    // Names are checked DNS labels and variable names: nothing to quote.
    let mut script = String::from("set -eu\nd=$1\nshift\n");
    for x in secrets {
        let (var, file) = (&x.env, &x.name);
        let _ = write!(
            script,
            "[ -r \"$d/{file}\" ] || {{ echo \"platgen: the secret {file} is missing (expected the file $d/{file})\" >&2; exit 1; }}\n\
             {var}=`cat \"$d/{file}\"`\n\
             export {var}\n"
        );
    }
    script.push_str("exec \"$@\"\n");
    Some(script)
}

/// Environment the gateway needs to run the generated config, for the
/// variables the spec does not set itself: DB-less mode and the config's
/// path; the Admin API on loopback or off (`gateway.admin`); and, behind
/// the proxy role (or with `gateway.trusted_ips`), the addresses whose
/// `X-Real-IP` Kong believes, so that rate limits count per client rather
/// than per proxy.
pub fn gateway_env(platform: &Platform, service: &Service) -> Vec<(String, String)> {
    if platform.roles.gateway.as_deref() != Some(service.name.as_str()) {
        return Vec::new();
    }
    let settings = &platform.gateway;
    let mut env: Vec<(&str, String)> = vec![
        ("KONG_DATABASE", "off".to_owned()),
        ("KONG_DECLARATIVE_CONFIG", KONG_CONFIG_PATH.to_owned()),
        (
            "KONG_ADMIN_LISTEN",
            match settings.admin {
                AdminApi::Localhost => KONG_ADMIN_LOCALHOST,
                AdminApi::Off => "off",
            }
            .to_owned(),
        ),
    ];
    let trusted: Option<Vec<&str>> = match &settings.trusted_ips {
        Some(ips) => Some(ips.iter().map(String::as_str).collect()),
        None => platform
            .roles
            .proxy
            .as_ref()
            .filter(|p| platform.service(p).is_some())
            .map(|_| DEFAULT_TRUSTED_IPS.to_vec()),
    };
    if let Some(ips) = trusted {
        env.push(("KONG_TRUSTED_IPS", ips.join(",")));
        env.push(("KONG_REAL_IP_HEADER", REAL_IP_HEADER.to_owned()));
    }
    env.into_iter()
        .filter(|(k, _)| !service.env.contains_key(*k))
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    fn platform(yaml: &str) -> Platform {
        let outcome = crate::check::check(&SourceFile::new("t.yaml", yaml));
        outcome.platform.expect("the spec checks")
    }

    const SPEC: &str = "name: demo
services:
  queue:
    image: rabbitmq:3.13.7-management-alpine
    entrypoint: [docker-entrypoint.sh]
    command: [rabbitmq-server]
    health: {command: [rabbitmq-diagnostics, ping]}
    secrets:
      RABBITMQ_DEFAULT_PASS: {secret: rabbitmq-password, delivery: entrypoint}
      ERLANG_COOKIE_FILE_PATH: cookie
";

    #[test]
    fn the_wrapper_reads_only_its_secrets_and_runs_the_image_entrypoint() {
        let p = platform(SPEC);
        let queue = p.service("queue").unwrap();
        let script = secrets_wrapper(queue).unwrap();
        assert!(script.contains("RABBITMQ_DEFAULT_PASS=`cat \"$d/rabbitmq-password\"`"));
        assert!(script.contains("export RABBITMQ_DEFAULT_PASS\n"));
        assert!(
            !script.contains("cookie"),
            "a file secret is not the wrapper's"
        );
        assert!(script.ends_with("exec \"$@\"\n"));
        // Kubernetes expands `$(NAME)` and folds `$$`: the script has neither.
        assert!(!script.contains("$(") && !script.contains("$$"));
        let launch = launch(&p, queue);
        let entrypoint = launch.entrypoint.unwrap();
        assert_eq!(entrypoint[..2], ["/bin/sh", "-c"]);
        assert_eq!(
            entrypoint[3..],
            [WRAPPER_NAME, ROLE_SECRETS_DIR, "docker-entrypoint.sh"]
        );
        assert_eq!(launch.command.unwrap(), ["rabbitmq-server"]);
    }

    #[test]
    fn redis_gets_maxmemory_below_its_memory_limit() {
        let spec = "name: demo
services:
  cache:
    image: redis:7.4.1-alpine
    command: [redis-server, --appendonly, \"yes\"]
    health: {command: [redis-cli, ping]}
    resources: {memory: 512Mi}
";
        let p = platform(spec);
        let cache = p.service("cache").unwrap();
        assert_eq!(
            launch(&p, cache).command.unwrap(),
            [
                "redis-server",
                "--appendonly",
                "yes",
                "--maxmemory",
                "402653184"
            ]
        );
        let own = platform(&spec.replace("\"yes\"]", "\"yes\", --maxmemory, 100mb]"));
        assert_eq!(
            launch(&own, own.service("cache").unwrap()).command.unwrap(),
            [
                "redis-server",
                "--appendonly",
                "yes",
                "--maxmemory",
                "100mb"
            ],
            "the spec's own maxmemory stays"
        );
        let image_cmd =
            platform(&spec.replace("    command: [redis-server, --appendonly, \"yes\"]\n", ""));
        assert_eq!(
            launch(&image_cmd, image_cmd.service("cache").unwrap())
                .command
                .unwrap(),
            ["redis-server", "--maxmemory", "402653184"]
        );
        let unlimited = platform(&spec.replace("    resources: {memory: 512Mi}\n", ""));
        assert_eq!(
            launch(&unlimited, unlimited.service("cache").unwrap())
                .command
                .unwrap(),
            ["redis-server", "--appendonly", "yes"]
        );
    }

    #[test]
    fn no_wrapper_without_an_entrypoint_secret() {
        let p = platform(&SPEC.replace(", delivery: entrypoint", ""));
        let queue = p.service("queue").unwrap();
        assert_eq!(secrets_wrapper(queue), None);
        assert_eq!(
            launch(&p, queue).entrypoint.unwrap(),
            ["docker-entrypoint.sh"],
            "the spec's entrypoint alone"
        );
    }
}

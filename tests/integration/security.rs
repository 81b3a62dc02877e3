//! Least privilege in the rendered output: the network policies admit
//! exactly the traffic the spec implies (derived here from the spec, not
//! from the renderer), every pod and container runs hardened as its
//! `security` says, and docker-compose carries the same settings.

use std::collections::BTreeSet;
use std::path::PathBuf;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort};
use platgen::model::{Platform, Service};
use platgen::render::OutFile;
use platgen::spec::{Protocol, SecretDelivery};

use crate::render::{platform, render_all, renderable_specs};
use crate::support::root;

/// A connection: from, to, protocol, first and last port. `*` as `from` is
/// any source; an address block as `to` is written `cidr:<block>`.
type Flow = (String, String, String, u16, u16);

/// Every spec that renders: the root platform, the examples and the valid
/// fixtures (which exercise what the others do not: udp, ranges,
/// `connects_to`, `kubernetes_api`, `egress`).
fn all_specs() -> Vec<PathBuf> {
    let mut specs = renderable_specs();
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(root().join("tests/fixtures/valid"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    fixtures.sort();
    specs.extend(fixtures);
    specs
}

fn proto(p: Protocol) -> String {
    match p {
        Protocol::Tcp => "TCP".into(),
        Protocol::Udp => "UDP".into(),
    }
}

fn first_tcp_port(s: &Service) -> Option<u16> {
    s.ports
        .iter()
        .find(|p| p.protocol == Protocol::Tcp)
        .map(|p| p.container.low)
}

fn role<'p>(platform: &'p Platform, name: Option<&String>) -> Option<&'p Service> {
    name.and_then(|n| platform.service(n))
}

/// What the spec says may flow between services, worked out from its
/// meaning: dependants and connections reach every port of their target;
/// the proxy reaches what it routes (a gateway route through the gateway);
/// the gateway reaches what it serves; monitoring reaches metrics ports
/// (and itself when it declares none); dashboards reach monitoring.
fn expected(p: &Platform) -> BTreeSet<Flow> {
    let mut flows = BTreeSet::new();
    let mut add = |from: &str, to: &str, protocol: String, low: u16, high: u16| {
        flows.insert((from.to_owned(), to.to_owned(), protocol, low, high));
    };
    for s in &p.services {
        for target in s.depends_on.iter().chain(&s.connects_to) {
            if let Some(t) = p.service(target) {
                for port in &t.ports {
                    add(
                        &s.name,
                        &t.name,
                        proto(port.protocol),
                        port.container.low,
                        port.container.high,
                    );
                }
            }
        }
    }
    let proxy = role(p, p.roles.proxy.as_ref());
    let gateway = role(p, p.roles.gateway.as_ref());
    let monitoring = role(p, p.roles.monitoring.as_ref());
    for r in &p.services {
        let Some(route) = &r.route else { continue };
        let port = route.port.number;
        match (gateway, &r.gateway) {
            (Some(g), Some(_)) => {
                if let (Some(px), Some(gp)) = (proxy, first_tcp_port(g)) {
                    add(&px.name, &g.name, "TCP".into(), gp, gp);
                }
                add(&g.name, &r.name, "TCP".into(), port, port);
            }
            _ => {
                if let Some(px) = proxy {
                    add(&px.name, &r.name, "TCP".into(), port, port);
                }
            }
        }
    }
    if let Some(m) = monitoring {
        for t in &p.services {
            if let Some(metrics) = &t.metrics {
                let n = metrics.port.number;
                add(&m.name, &t.name, "TCP".into(), n, n);
            }
        }
        if m.metrics.is_none()
            && let Some(n) = first_tcp_port(m)
        {
            add(&m.name, &m.name, "TCP".into(), n, n);
        }
        if let (Some(d), Some(n)) = (role(p, p.roles.dashboards.as_ref()), first_tcp_port(m)) {
            add(&d.name, &m.name, "TCP".into(), n, n);
        }
    }
    flows
}

/// Traffic from anywhere (the proxy's front door) and to addresses outside
/// the platform (`security.egress`, the API server for `kubernetes_api`).
fn expected_outside(p: &Platform) -> BTreeSet<Flow> {
    let mut flows = BTreeSet::new();
    if let Some(px) = role(p, p.roles.proxy.as_ref()) {
        for port in &px.ports {
            flows.insert((
                "*".to_owned(),
                px.name.clone(),
                proto(port.protocol),
                port.container.low,
                port.container.high,
            ));
        }
    }
    for s in &p.services {
        let mut add = |cidr: &str, port: u16| {
            flows.insert((
                s.name.clone(),
                format!("cidr:{cidr}"),
                "TCP".into(),
                port,
                port,
            ));
        };
        if s.security.kubernetes_api {
            for cidr in ["0.0.0.0/0", "::/0"] {
                add(cidr, 443);
                add(cidr, 6443);
            }
        }
        for e in &s.security.egress {
            for port in &e.ports {
                add(&e.cidr, *port);
            }
        }
        for e in s.security.egress.iter().filter(|e| e.ports.is_empty()) {
            flows.insert((
                s.name.clone(),
                format!("cidr:{}", e.cidr),
                "any".into(),
                0,
                0,
            ));
        }
    }
    flows
}

fn file<'a>(files: &'a [OutFile], path: &str) -> &'a str {
    &files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("no {path}"))
        .contents
}

fn documents(text: &str) -> Vec<serde_json::Value> {
    serde_saphyr::from_multiple::<serde_json::Value>(text).unwrap()
}

fn strict<T: serde::de::DeserializeOwned>(value: &serde_json::Value, what: &str) -> T {
    let mut unknown = Vec::new();
    let parsed: T = serde_ignored::deserialize(value, |path| unknown.push(path.to_string()))
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(unknown.is_empty(), "{what}: unknown fields {unknown:?}");
    parsed
}

fn kinds<'a>(text: &'a str, kind: &'a str) -> impl Iterator<Item = serde_json::Value> + 'a {
    documents(text)
        .into_iter()
        .filter(move |d| d["kind"] == kind)
}

/// The service a peer names, or the address block it allows.
fn peer_name(platform: &Platform, peer: &NetworkPolicyPeer) -> String {
    if let Some(block) = &peer.ip_block {
        assert!(block.except.is_none());
        return format!("cidr:{}", block.cidr);
    }
    assert!(
        peer.namespace_selector.is_none(),
        "peers stay in the namespace"
    );
    let labels = peer
        .pod_selector
        .as_ref()
        .and_then(|s| s.match_labels.clone())
        .expect("a pod selector with labels");
    assert_eq!(
        labels.get("app.kubernetes.io/part-of"),
        Some(&platform.name)
    );
    assert_eq!(labels.len(), 2, "{labels:?}");
    labels["app.kubernetes.io/name"].clone()
}

fn port_range(p: &NetworkPolicyPort) -> (String, u16, u16) {
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    let Some(IntOrString::Int(low)) = p.port else {
        panic!("ports are numbers: {p:?}")
    };
    let low = u16::try_from(low).unwrap();
    let high = p.end_port.map_or(low, |h| u16::try_from(h).unwrap());
    (p.protocol.clone().unwrap(), low, high)
}

/// The flows a rule allows: each peer (or `*` / `any` port) with each port.
fn flows_of(
    peers: Option<&Vec<NetworkPolicyPeer>>,
    ports: Option<&Vec<NetworkPolicyPort>>,
    platform: &Platform,
    mut flow: impl FnMut(String, (String, u16, u16)),
) {
    let names: Vec<String> = match peers {
        Some(p) if !p.is_empty() => p.iter().map(|p| peer_name(platform, p)).collect(),
        _ => vec!["*".to_owned()],
    };
    let ranges: Vec<(String, u16, u16)> = match ports {
        Some(p) if !p.is_empty() => p.iter().map(port_range).collect(),
        _ => vec![("any".to_owned(), 0, 0)],
    };
    for n in &names {
        for r in &ranges {
            flow(n.clone(), r.clone());
        }
    }
}

#[test]
fn network_policies_allow_exactly_the_traffic_the_spec_implies() {
    for spec in all_specs() {
        let platform = platform(&spec);
        let files = render_all(&platform);
        let mut ingress: BTreeSet<Flow> = BTreeSet::new();
        let mut egress: BTreeSet<Flow> = BTreeSet::new();
        for s in &platform.services {
            let path = format!("kubernetes/{}.yaml", s.name);
            let policies: Vec<NetworkPolicy> = kinds(file(&files, &path), "NetworkPolicy")
                .map(|d| strict(&d, &path))
                .collect();
            assert_eq!(policies.len(), 1, "{path}");
            let spec_ = policies[0].spec.clone().unwrap();
            assert_eq!(
                spec_.policy_types.as_deref(),
                Some(&["Ingress".to_owned(), "Egress".to_owned()][..])
            );
            for rule in spec_.ingress.iter().flatten() {
                flows_of(
                    rule.from.as_ref(),
                    rule.ports.as_ref(),
                    &platform,
                    |from, (p, lo, hi)| {
                        ingress.insert((from, s.name.clone(), p, lo, hi));
                    },
                );
            }
            for rule in spec_.egress.iter().flatten() {
                flows_of(
                    rule.to.as_ref(),
                    rule.ports.as_ref(),
                    &platform,
                    |to, (p, lo, hi)| {
                        egress.insert((s.name.clone(), to, p, lo, hi));
                    },
                );
            }
        }
        let inside = expected(&platform);
        let outside = expected_outside(&platform);
        let is_outside = |f: &Flow| f.0 == "*" || f.1.starts_with("cidr:");
        let ingress_inside: BTreeSet<Flow> =
            ingress.iter().filter(|f| !is_outside(f)).cloned().collect();
        let egress_inside: BTreeSet<Flow> =
            egress.iter().filter(|f| !is_outside(f)).cloned().collect();
        assert_eq!(ingress_inside, inside, "{}: ingress", spec.display());
        assert_eq!(egress_inside, inside, "{}: egress", spec.display());
        let found_outside: BTreeSet<Flow> = ingress
            .iter()
            .chain(&egress)
            .filter(|f| is_outside(f))
            .cloned()
            .collect();
        assert_eq!(found_outside, outside, "{}: outside", spec.display());

        // The namespace denies everything else, and lets every pod resolve
        // names.
        let shared: Vec<NetworkPolicy> = kinds(
            file(&files, "kubernetes/network-policies.yaml"),
            "NetworkPolicy",
        )
        .map(|d| strict(&d, "network-policies.yaml"))
        .collect();
        let deny = &shared[0].spec.as_ref().unwrap();
        assert_eq!(shared[0].metadata.name.as_deref(), Some("default-deny"));
        assert_eq!(
            deny.pod_selector,
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector::default())
        );
        assert!(deny.ingress.is_none() && deny.egress.is_none());
        assert_eq!(deny.policy_types.as_ref().unwrap().len(), 2);
        let dns = shared[1].spec.as_ref().unwrap();
        let rules = dns.egress.as_ref().unwrap();
        assert_eq!(rules.len(), 1);
        assert!(rules[0].to.is_none());
        let dns_ports: BTreeSet<(String, u16, u16)> =
            rules[0].ports.iter().flatten().map(port_range).collect();
        assert_eq!(
            dns_ports,
            BTreeSet::from([("TCP".to_owned(), 53, 53), ("UDP".to_owned(), 53, 53)])
        );
    }
}

#[test]
fn the_root_platforms_allow_list_has_the_expected_shape() {
    // A few flows read off the root platform by hand: if the derivation
    // above and the renderer were wrong the same way, these would still
    // catch it.
    let platform = platform(&root().join("platform.yaml"));
    let flows = expected(&platform);
    let has = |from: &str, to: &str, port: u16| {
        flows
            .iter()
            .any(|f| f.0 == from && f.1 == to && f.3 <= port && port <= f.4)
    };
    assert!(has("nags-api", "postgres", 5432));
    assert!(has("nginx", "kong", 8000), "gateway routes go through kong");
    assert!(has("kong", "nags-audit", 8080), "kong serves /audit");
    assert!(
        !has("nginx", "nags-audit", 8080),
        "nginx never talks to a gateway service directly"
    );
    assert!(has("prometheus", "rabbitmq", 15692), "metrics port");
    assert!(
        !has("prometheus", "rabbitmq", 5672),
        "only the metrics port"
    );
    assert!(has("grafana", "prometheus", 9090));
    assert!(has("nags-api", "jaeger", 4318), "connects_to");
    assert!(!has("postgres", "nags-api", 8080), "no traffic back");
    assert!(!has("nags-api", "vault", 8200), "nothing unsaid");
}

/// The pod template of a service's workload.
fn pod_template(files: &[OutFile], s: &Service) -> PodTemplateSpec {
    use k8s_openapi::api::batch::v1::{CronJob, Job};
    let path = format!("kubernetes/{}.yaml", s.name);
    let text = file(files, &path);
    if let Some(j) = kinds(text, "Job").next() {
        let j: Job = strict(&j, &path);
        return j.spec.unwrap().template;
    }
    if let Some(c) = kinds(text, "CronJob").next() {
        let c: CronJob = strict(&c, &path);
        return c.spec.unwrap().job_template.spec.unwrap().template;
    }
    if let Some(d) = kinds(text, "Deployment").next() {
        let d: Deployment = strict(&d, &path);
        return d.spec.unwrap().template;
    }
    let st: StatefulSet = strict(&kinds(text, "StatefulSet").next().unwrap(), &path);
    st.spec.unwrap().template
}

/// Secrets read as files are files at /run/secrets/<name>, from the
/// platform's Secret; only variable deliveries use the variable.
fn check_secrets(
    platform: &Platform,
    service: &Service,
    container: &k8s_openapi::api::core::v1::Container,
    volumes: &[k8s_openapi::api::core::v1::Volume],
    what: &str,
) {
    let mounts = container.volume_mounts.clone().unwrap_or_default();
    let mounted = |path: &str| mounts.iter().find(|m| m.mount_path == path);
    for x in &service.secrets {
        let env = container.env.iter().flatten();
        match x.delivery {
            SecretDelivery::File => {
                let path = format!("/run/secrets/{}", x.name);
                let m = mounted(&path).unwrap_or_else(|| panic!("{what}: {path}"));
                assert_eq!(m.read_only, Some(true));
                let v = volumes.iter().find(|v| v.name == m.name).unwrap();
                let secret = v.secret.as_ref().unwrap();
                assert_eq!(
                    secret.secret_name.as_deref(),
                    Some(format!("{}-secrets", platform.name).as_str())
                );
                assert_eq!(secret.default_mode, Some(0o444));
                let e = env.clone().find(|e| e.name == x.file_env).unwrap();
                assert_eq!(e.value.as_deref(), Some(path.as_str()));
                assert!(
                    !env.clone().any(|e| e.name == x.env),
                    "{what}: {} is not a variable",
                    x.env
                );
            }
            SecretDelivery::Variable => {
                let e = env.clone().find(|e| e.name == x.env).unwrap();
                let key = e.value_from.as_ref().unwrap().secret_key_ref.as_ref();
                assert_eq!(key.unwrap().key, x.name);
            }
            // A file, read by the wrapper: neither the variable nor a
            // `_FILE` variable is set, and the wrapper runs first.
            SecretDelivery::Entrypoint => {
                let path = format!("/run/secrets/{}", x.name);
                assert!(mounted(&path).is_some(), "{what}: {path}");
                assert!(
                    !env.clone().any(|e| e.name == x.env || e.name == x.file_env),
                    "{what}: {} is set by the wrapper alone",
                    x.env
                );
                let command = container.command.clone().unwrap_or_default();
                assert_eq!(command[..2], ["/bin/sh", "-c"], "{what}");
                assert!(command[2].contains(&format!("export {}", x.env)), "{what}");
            }
        }
    }
}

#[test]
fn every_pod_runs_as_its_security_says() {
    for spec in all_specs() {
        let platform = platform(&spec);
        let files = render_all(&platform);
        for s in &platform.services {
            let what = format!("{} {}", spec.display(), s.name);
            let sec = &s.security;
            let pod = pod_template(&files, s).spec.unwrap();
            assert_eq!(pod.automount_service_account_token, Some(false), "{what}");
            let psc = pod.security_context.clone().unwrap();
            assert_eq!(psc.run_as_non_root, Some(!sec.root), "{what}");
            let uid = if sec.root {
                Some(0)
            } else {
                sec.run_as_user.map(i64::from)
            };
            assert_eq!(psc.run_as_user, uid, "{what}");
            assert_eq!(psc.run_as_group, sec.run_as_group.map(i64::from), "{what}");
            assert_eq!(
                psc.fs_group,
                sec.fs_group.or(sec.run_as_group).map(i64::from),
                "{what}: volumes belong to the container's group"
            );
            assert_eq!(
                psc.seccomp_profile.unwrap().type_,
                "RuntimeDefault",
                "{what}"
            );
            let low = s.ports.iter().map(|p| p.container.low).min();
            let sysctl = psc.sysctls.unwrap_or_default();
            match low.filter(|p| *p < 1024 && !sec.root) {
                Some(port) => assert_eq!(
                    (sysctl[0].name.as_str(), sysctl[0].value.as_str()),
                    (
                        "net.ipv4.ip_unprivileged_port_start",
                        port.to_string().as_str()
                    ),
                    "{what}"
                ),
                None => assert!(sysctl.is_empty(), "{what}"),
            }
            let several = s.autoscale.is_some() || s.replicas > 1;
            assert_eq!(pod.topology_spread_constraints.is_some(), several, "{what}");

            let volumes = pod.volumes.clone().unwrap_or_default();
            let c = &pod.containers[0];
            let csc = c.security_context.clone().unwrap();
            assert_eq!(csc.allow_privilege_escalation, Some(false), "{what}");
            assert_eq!(csc.read_only_root_filesystem, Some(sec.read_only_root));
            let caps = csc.capabilities.unwrap();
            assert_eq!(caps.drop, Some(vec!["ALL".to_owned()]), "{what}");
            assert_eq!(caps.add.unwrap_or_default(), sec.capabilities, "{what}");
            assert!(csc.privileged.is_none() && csc.run_as_user.is_none());

            let mounts = c.volume_mounts.clone().unwrap_or_default();
            let mounted = |path: &str| mounts.iter().find(|m| m.mount_path == path);
            // Every writable path is an emptyDir; /tmp is writable too with a
            // read-only root, unless a volume is there.
            let mut scratch: Vec<&str> = sec.writable.iter().map(String::as_str).collect();
            if sec.read_only_root && !s.volumes.values().any(|v| v.path == "/tmp") {
                scratch.push("/tmp");
            }
            for path in scratch {
                let m = mounted(path).unwrap_or_else(|| panic!("{what}: {path} not mounted"));
                let v = volumes.iter().find(|v| v.name == m.name).unwrap();
                assert!(v.empty_dir.is_some(), "{what}: {path}");
            }
            check_secrets(&platform, s, c, &volumes, &what);
            // The API token, only where the spec asks for it.
            let token = mounted("/var/run/secrets/kubernetes.io/serviceaccount");
            assert_eq!(token.is_some(), sec.kubernetes_api, "{what}");
            if let Some(m) = token {
                let v = volumes.iter().find(|v| v.name == m.name).unwrap();
                let sources = v.projected.as_ref().unwrap().sources.clone().unwrap();
                let t = sources[0].service_account_token.as_ref().unwrap();
                assert!(t.expiration_seconds.unwrap() <= 3607);
            }
            // Every mount names a volume of the pod or a claim.
            for m in &mounts {
                assert!(
                    volumes.iter().any(|v| v.name == m.name) || s.volumes.contains_key(&m.name),
                    "{what}: {} mounts nothing",
                    m.name
                );
            }
        }
    }
}

#[test]
fn the_namespace_enforces_the_strictest_standard_its_pods_meet() {
    for spec in all_specs() {
        let platform = platform(&spec);
        let files = render_all(&platform);
        let ns = &documents(file(&files, "kubernetes/namespace.yaml"))[0];
        let labels = &ns["metadata"]["labels"];
        let any_root = platform.services.iter().any(|s| s.security.root);
        let extra_caps = platform
            .services
            .iter()
            .flat_map(|s| &s.security.capabilities)
            .any(|c| c != "NET_BIND_SERVICE");
        let expected = if any_root || extra_caps {
            "baseline"
        } else {
            "restricted"
        };
        assert_eq!(
            labels["pod-security.kubernetes.io/enforce"],
            expected,
            "{}",
            spec.display()
        );
        assert_eq!(labels["pod-security.kubernetes.io/warn"], "restricted");
    }
}

#[test]
fn compose_runs_every_service_as_its_security_says() {
    for spec in all_specs() {
        let platform = platform(&spec);
        let files = render_all(&platform);
        let compose: crate::render::Compose =
            serde_saphyr::from_str(file(&files, "compose.yaml")).unwrap();
        for s in &platform.services {
            let what = format!("{} {}", spec.display(), s.name);
            let c = &compose.services[&s.name];
            let sec = &s.security;
            let user = match (sec.root, sec.run_as_user, sec.run_as_group) {
                (true, _, _) => Some("0".to_owned()),
                (false, Some(u), Some(g)) => Some(format!("{u}:{g}")),
                (false, Some(u), None) => Some(u.to_string()),
                (false, None, _) => None,
            };
            assert_eq!(c.user, user, "{what}");
            assert_eq!(c.read_only, sec.read_only_root, "{what}");
            assert_eq!(c.cap_drop, ["ALL"], "{what}");
            assert_eq!(c.cap_add, sec.capabilities, "{what}");
            assert_eq!(c.security_opt, ["no-new-privileges:true"], "{what}");
            for path in &sec.writable {
                assert!(c.tmpfs.contains(path), "{what}: {path}");
            }
            assert_eq!(
                c.tmpfs.iter().any(|p| p == "/tmp"),
                sec.read_only_root && !s.volumes.values().any(|v| v.path == "/tmp")
                    || sec.writable.iter().any(|p| p == "/tmp"),
                "{what}"
            );
            if let Some(g) = sec.fs_group.filter(|g| Some(*g) != sec.run_as_group) {
                assert_eq!(c.group_add, [g.to_string()], "{what}");
            }
            // A published port is bound where the spec says, and only there.
            let published: Vec<_> = s.ports.iter().filter(|p| p.host.is_some()).collect();
            for (p, mapping) in published.iter().zip(&c.ports) {
                match &p.bind {
                    Some(ip) if ip.contains(':') => {
                        assert!(
                            mapping.starts_with(&format!("[{ip}]:")),
                            "{what}: {mapping}"
                        );
                    }
                    Some(ip) => {
                        assert!(mapping.starts_with(&format!("{ip}:")), "{what}: {mapping}");
                    }
                    // An internal port on loopback only, a public one on
                    // every address.
                    None if !p.public => {
                        assert!(mapping.starts_with("127.0.0.1:"), "{what}: {mapping}");
                    }
                    None => assert!(
                        mapping.starts_with(&p.host.unwrap().to_string()),
                        "{what}: {mapping}"
                    ),
                }
            }
        }
    }
}

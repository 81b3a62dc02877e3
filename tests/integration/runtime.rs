//! How containers are checked, started and stopped, in both targets: the
//! probe tools (busybox, none), gRPC checks, `init`, `stop_signal` and
//! `stop_grace_period`.

use crate::render::{Compose, check_compose, check_kubernetes, platform, render_all};
use crate::support::fixture;

fn rendered() -> (platgen::model::Platform, Vec<platgen::render::OutFile>) {
    let platform = platform(&fixture("render/runtime.yaml"));
    let files = render_all(&platform);
    (platform, files)
}

fn text<'a>(files: &'a [platgen::render::OutFile], path: &str) -> &'a str {
    &files.iter().find(|f| f.path == path).unwrap().contents
}

#[test]
fn both_targets_read_back_strictly() {
    let (platform, files) = rendered();
    check_compose(&platform, &files, "runtime.yaml");
    check_kubernetes(&platform, &files, "runtime.yaml");
}

#[test]
fn compose_waits_only_for_the_start_of_an_image_without_a_probe_tool() {
    let (_, files) = rendered();
    let compose: Compose = serde_saphyr::from_str(text(&files, "compose.yaml")).unwrap();
    let value: serde_json::Value = serde_saphyr::from_str(text(&files, "compose.yaml")).unwrap();
    let tiny = &value["services"]["tiny"];
    assert!(value["services"]["static"].get("healthcheck").is_none());
    assert_eq!(tiny["depends_on"]["static"]["condition"], "service_started");
    assert_eq!(tiny["depends_on"]["rpc"]["condition"], "service_healthy");
    assert_eq!(
        tiny["healthcheck"]["test"],
        serde_json::json!([
            "CMD",
            "busybox",
            "wget",
            "-q",
            "-O",
            "/dev/null",
            "http://127.0.0.1:8081/ready"
        ])
    );
    assert_eq!(
        value["services"]["rpc"]["healthcheck"]["test"][1],
        "grpc_health_probe"
    );
    assert_eq!(tiny["init"], true);
    assert_eq!(tiny["stop_signal"], "SIGQUIT");
    assert_eq!(tiny["stop_grace_period"], "1s500ms");
    assert_eq!(value["services"]["rpc"]["stop_grace_period"], "45s");
    assert!(value["services"]["rpc"].get("init").is_none());
    assert_eq!(compose.services.len(), 3);
}

#[test]
fn kubernetes_probes_grpc_natively_and_maps_init_and_grace() {
    let (_, files) = rendered();
    let docs = |path: &str| -> Vec<serde_json::Value> {
        text(&files, path)
            .split("\n---\n")
            .map(|d| serde_saphyr::from_str(d).unwrap())
            .collect()
    };
    let pod = |path: &str| {
        docs(path)
            .into_iter()
            .find(|d| d["kind"] == "Deployment")
            .unwrap()["spec"]["template"]["spec"]
            .clone()
    };
    let rpc = pod("kubernetes/rpc.yaml");
    let c = &rpc["containers"][0];
    assert_eq!(
        c["readinessProbe"]["grpc"],
        serde_json::json!({"port": 50051, "service": "orders.v1"})
    );
    // Liveness only asks whether the port answers, as for http checks.
    assert_eq!(
        c["livenessProbe"]["tcpSocket"],
        serde_json::json!({"port": 50051})
    );
    assert_eq!(rpc["terminationGracePeriodSeconds"], 45);
    assert!(rpc.get("shareProcessNamespace").is_none());
    let tiny = pod("kubernetes/tiny.yaml");
    assert_eq!(tiny["shareProcessNamespace"], true);
    assert_eq!(tiny["terminationGracePeriodSeconds"], 2, "rounded up");
    // Kubernetes needs no tool in the image: the probe-less image is probed.
    let stat = pod("kubernetes/static.yaml");
    assert_eq!(
        stat["containers"][0]["readinessProbe"]["httpGet"]["path"],
        "/healthz"
    );
}

#[test]
fn nginx_runs_in_any_nginx_image_read_only_and_logs_to_the_container() {
    for spec in crate::render::renderable_specs() {
        let files = render_all(&platform(&spec));
        for conf in files.iter().filter(|f| f.path.ends_with("nginx.conf")) {
            let what = format!("{}: {}", spec.display(), conf.path);
            let directives: Vec<&str> = conf
                .contents
                .lines()
                .map(str::trim)
                .filter(|l| !l.starts_with('#'))
                .collect();
            // `user nginx;` crash-loops Debian's nginx, which has no such user.
            assert!(!directives.iter().any(|l| l.starts_with("user ")), "{what}");
            assert!(
                directives.contains(&"error_log /dev/stderr notice;"),
                "{what}"
            );
            assert!(
                directives.contains(&"access_log /dev/stdout json;"),
                "{what}"
            );
            let temp: Vec<&&str> = directives
                .iter()
                .filter(|l| l.contains("_temp_path "))
                .collect();
            assert_eq!(temp.len(), 5, "{what}: every temp path is set");
            assert!(
                temp.iter().all(|l| l.contains(" /tmp/")),
                "{what}: {temp:?}"
            );
            assert!(directives.contains(&"pid /tmp/nginx.pid;"), "{what}");
        }
    }
}

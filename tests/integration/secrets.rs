//! Secret values never reach the output: with the operator's secret files in
//! place (`out/secrets/<name>`, as the README says), no rendered file, and
//! nothing `render --stdout` prints, holds any of their values.

use std::path::{Path, PathBuf};

use crate::generated::fixed_spec;
use crate::render::{platform, renderable_specs};
use crate::support::{platgen, stderr};

/// A value no template or default could produce by chance.
fn value_of(secret: &str) -> String {
    format!("pg-test-secret-{secret}-6a1f0c93")
}

fn files_under(dir: &Path, skip: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path == skip {
            continue;
        }
        if path.is_dir() {
            files_under(&path, skip, out);
        } else {
            out.push(path);
        }
    }
}

fn render(spec: &Path, args: &[&str]) -> std::process::Output {
    let spec = spec.to_str().unwrap();
    let mut all = vec!["render", spec];
    all.extend_from_slice(args);
    platgen(&all)
}

#[test]
fn no_rendered_file_holds_a_secret_value() {
    let tmp = tempfile::tempdir().unwrap();
    let mut specs = renderable_specs();
    // Generated specs pass secrets both ways (`<VAR>_FILE` and `file_env`).
    for seed in 0..3 {
        let path = tmp.path().join(format!("gen-{seed}.yaml"));
        std::fs::write(&path, fixed_spec(seed).yaml()).unwrap();
        specs.push(path);
    }
    let mut checked_secrets = 0;
    for (i, spec) in specs.iter().enumerate() {
        let names = platform(spec).secret_names();
        let out = tmp.path().join(format!("out-{i}"));
        let out_arg = out.to_str().unwrap();
        let secrets = out.join("secrets");
        std::fs::create_dir_all(&secrets).unwrap();
        let values: Vec<String> = names.iter().map(|n| value_of(n)).collect();
        for (name, value) in names.iter().zip(&values) {
            std::fs::write(secrets.join(name), value).unwrap();
        }
        // Rendered into a directory that already holds the secrets, and
        // then over a previous render with them in place.
        for _ in 0..2 {
            let o = render(spec, &["--out", out_arg]);
            assert!(o.status.success(), "{}: {}", spec.display(), stderr(&o));
        }
        let o = render(spec, &["--out", out_arg, "--check"]);
        assert!(
            o.status.success(),
            "the secrets are not drift: {}",
            stderr(&o)
        );

        let mut files = Vec::new();
        files_under(&out, &secrets, &mut files);
        assert!(files.len() > 5, "{}: {} files", spec.display(), files.len());
        let mut texts: Vec<(String, String)> = files
            .iter()
            .map(|f| {
                let bytes = std::fs::read(f).unwrap();
                (
                    f.display().to_string(),
                    String::from_utf8_lossy(&bytes).into_owned(),
                )
            })
            .collect();
        let stdout = render(spec, &["--stdout"]);
        assert!(stdout.status.success());
        texts.push((
            "render --stdout".into(),
            String::from_utf8_lossy(&stdout.stdout).into_owned(),
        ));
        texts.push(("render's messages".into(), stderr(&stdout)));
        for (where_, text) in &texts {
            for value in &values {
                assert!(
                    !text.contains(value.as_str()),
                    "{where_} holds the value {value}"
                );
            }
        }
        // The secrets are wired by name, so the values had somewhere to leak.
        let compose = std::fs::read_to_string(out.join("compose.yaml")).unwrap();
        for name in &names {
            assert!(compose.contains(&format!("./secrets/{name}")), "{name}");
            checked_secrets += 1;
        }
    }
    assert!(
        checked_secrets >= 10,
        "only {checked_secrets} secrets checked"
    );
}

/// The argv the entrypoint wrapper of `service` starts with, in both
/// targets: compose's `entrypoint` (with compose's `$$` read as `$`) and
/// the Kubernetes container's `command`. The two must agree.
fn wrapper_argv(files: &[platgen::render::OutFile], service: &str) -> Vec<String> {
    let compose: serde_json::Value =
        serde_saphyr::from_str(crate::render::file(files, "compose.yaml")).unwrap();
    let from_compose: Vec<String> = compose["services"][service]["entrypoint"]
        .as_array()
        .unwrap_or_else(|| panic!("{service} has no entrypoint"))
        .iter()
        .map(|a| a.as_str().unwrap().replace("$$", "$"))
        .collect();
    let path = format!("kubernetes/{service}.yaml");
    let manifest = crate::render::file(files, &path);
    let workload: serde_json::Value = manifest
        .split("\n---\n")
        .map(|d| serde_saphyr::from_str::<serde_json::Value>(d).unwrap())
        .find(|d| d["spec"]["template"]["spec"]["containers"].is_array())
        .unwrap();
    let from_kubernetes: Vec<String> =
        workload["spec"]["template"]["spec"]["containers"][0]["command"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect();
    assert_eq!(from_compose, from_kubernetes, "{service}");
    from_compose
}

/// Runs the wrapper as the container would, with the secrets directory
/// replaced by `dir` and the image's entrypoint by `env`, so the output is
/// the environment the image's entrypoint would start with.
fn run_wrapper(argv: &[String], dir: &Path) -> std::process::Output {
    let at = argv
        .iter()
        .position(|a| a == "/run/secrets")
        .expect("the wrapper is given the secrets directory");
    std::process::Command::new(&argv[0])
        .args(&argv[1..at])
        .arg(dir)
        .args(["env"])
        .env_clear()
        .output()
        .unwrap()
}

#[test]
fn the_entrypoint_wrapper_exports_each_secret_from_its_file_and_execs_the_entrypoint() {
    let spec = crate::support::root().join("platform.yaml");
    let p = platform(&spec);
    let files = crate::render::render_all(&p);
    let mut checked = 0;
    for (service, wanted) in [
        (
            "rabbitmq",
            vec![("RABBITMQ_DEFAULT_PASS", "rabbitmq-password")],
        ),
        (
            "oauth2",
            vec![
                ("KC_DB_PASSWORD", "postgres-password"),
                ("KC_BOOTSTRAP_ADMIN_PASSWORD", "keycloak-admin-password"),
            ],
        ),
        (
            "vulnerability-scanner",
            vec![("TRIVY_TOKEN", "trivy-token")],
        ),
    ] {
        let argv = wrapper_argv(&files, service);
        // The image's own entrypoint comes right after the directory.
        let at = argv.iter().position(|a| a == "/run/secrets").unwrap();
        assert_eq!(
            argv.get(at + 1),
            p.service(service)
                .unwrap()
                .entrypoint
                .as_ref()
                .and_then(|e| e.first()),
            "{service}"
        );
        let dir = tempfile::tempdir().unwrap();
        for (_, secret) in &wanted {
            // A trailing newline, as `echo` writes it, is not part of the value.
            std::fs::write(dir.path().join(secret), format!("{}\n", value_of(secret))).unwrap();
        }
        let out = run_wrapper(&argv, dir.path());
        assert!(
            out.status.success(),
            "{service}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let env = String::from_utf8(out.stdout).unwrap();
        for (var, secret) in &wanted {
            assert!(
                env.lines()
                    .any(|l| l == format!("{var}={}", value_of(secret))),
                "{service}: {var} not exported: {env}"
            );
            assert!(!env.contains(&format!("{var}_FILE")), "{service}");
            checked += 1;
        }
        // A missing file stops the container, naming the secret, not a value.
        let (_, first) = wanted[0];
        std::fs::remove_file(dir.path().join(first)).unwrap();
        let out = run_wrapper(&argv, dir.path());
        assert!(!out.status.success(), "{service} ran without {first}");
        let message = String::from_utf8_lossy(&out.stderr);
        assert!(
            message.contains(&format!("the secret {first} is missing")),
            "{message}"
        );
        assert!(
            out.stdout.is_empty(),
            "{service}: the entrypoint ran anyway"
        );
    }
    assert_eq!(checked, 4);
}

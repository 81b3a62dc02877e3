//! `platgen render` end to end: writing, `--check`, `--stdout`, targets,
//! phases, template overrides, and what must never happen (a failing spec
//! writing anything, a foreign file being touched).

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::Command;

use crate::support::{platgen, platgen_in, root, stderr, stdout};

fn spec_copy(dir: &Path) -> String {
    let path = dir.join("platform.yaml");
    fs::copy(root().join("examples/microservices/platform.yaml"), &path).unwrap();
    path.to_string_lossy().into_owned()
}

fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.strip_prefix(dir).unwrap().display().to_string(),
                    fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn render_then_check_is_clean_and_an_edit_is_drift() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec_copy(dir.path());
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    let r = platgen(&["render", &spec, "--out", out_s]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    let c = platgen(&["render", &spec, "--out", out_s, "--check"]);
    assert_eq!(c.status.code(), Some(0), "{}{}", stdout(&c), stderr(&c));

    // Edit a generated file by hand: --check reports it with a diff, and
    // leaves the directory exactly as it was.
    let compose = out.join("compose.yaml");
    let edited = fs::read_to_string(&compose)
        .unwrap()
        .replace("redis:7.4.1-alpine", "redis:7.2.0-alpine");
    fs::write(&compose, &edited).unwrap();
    fs::remove_file(out.join("kubernetes/redis.yaml")).unwrap();
    let before = tree(&out);
    let c = platgen(&["render", &spec, "--out", out_s, "--check"]);
    assert_eq!(c.status.code(), Some(1));
    let diff = stdout(&c);
    assert!(
        diff.contains("-    image: \"redis:7.2.0-alpine\""),
        "{diff}"
    );
    assert!(
        diff.contains("+    image: \"redis:7.4.1-alpine\""),
        "{diff}"
    );
    assert!(
        stderr(&c).contains("missing: ") && stderr(&c).contains("kubernetes/redis.yaml"),
        "{}",
        stderr(&c)
    );
    assert_eq!(tree(&out), before, "--check wrote something");

    // The spec changes: the committed output is stale.
    let r = platgen(&["render", &spec, "--out", out_s]);
    assert_eq!(r.status.code(), Some(0));
    fs::write(
        &spec,
        fs::read_to_string(&spec)
            .unwrap()
            .replace("min: 2, max: 8", "min: 3, max: 8"),
    )
    .unwrap();
    let c = platgen(&["render", &spec, "--out", out_s, "--check"]);
    assert_eq!(c.status.code(), Some(1));
    assert!(stdout(&c).contains("+  minReplicas: 3"), "{}", stdout(&c));
}

#[test]
fn a_foreign_file_survives_and_a_foreign_file_in_the_way_stops_the_render() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec_copy(dir.path());
    let out = dir.path().join("out");
    fs::create_dir_all(out.join("secrets")).unwrap();
    fs::write(out.join("README.md"), "our notes\n").unwrap();
    fs::write(out.join("secrets/postgres-password"), "hunter2\n").unwrap();
    let r = platgen(&["render", &spec, "--out", out.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    let r = platgen(&[
        "render",
        &spec,
        "--out",
        out.to_str().unwrap(),
        "--target",
        "compose",
    ]);
    assert_eq!(r.status.code(), Some(0));
    assert_eq!(
        fs::read_to_string(out.join("README.md")).unwrap(),
        "our notes\n"
    );
    assert_eq!(
        fs::read_to_string(out.join("secrets/postgres-password")).unwrap(),
        "hunter2\n"
    );
    assert!(
        out.join("kubernetes/orders.yaml").exists(),
        "a compose-only render left kubernetes alone"
    );

    let other = dir.path().join("other");
    fs::create_dir_all(&other).unwrap();
    fs::write(other.join("compose.yaml"), "services: {}\n").unwrap();
    let r = platgen(&["render", &spec, "--out", other.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(2));
    assert!(stderr(&r).contains("did not generate"), "{}", stderr(&r));
    assert_eq!(
        tree(&other).len(),
        1,
        "nothing was written next to the foreign file"
    );
    assert_eq!(
        fs::read_to_string(other.join("compose.yaml")).unwrap(),
        "services: {}\n"
    );
}

#[test]
fn a_failing_spec_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let broken = root().join("examples/broken-plan/platform.yaml");
    let r = platgen(&[
        "render",
        broken.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.status.code(), Some(1));
    assert!(stderr(&r).contains("nothing rendered"), "{}", stderr(&r));
    assert!(!out.exists());

    // Nor does it touch an earlier render.
    let good = spec_copy(dir.path());
    platgen(&["render", &good, "--out", out.to_str().unwrap()]);
    let before = tree(&out);
    fs::write(
        &good,
        "name: shop\nservices: {web: {image: \"nginx:1.27.3-alpine\", depends_on: [nowhere]}}\n",
    )
    .unwrap();
    let r = platgen(&["render", &good, "--out", out.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(1));
    assert_eq!(tree(&out), before);
}

#[test]
fn stdout_prints_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec_copy(dir.path());
    let r = platgen_in(
        dir.path(),
        &["render", &spec, "--stdout", "--target", "kubernetes"],
    );
    assert_eq!(r.status.code(), Some(0));
    let text = stdout(&r);
    assert!(text.contains("==> kubernetes/kustomization.yaml <=="));
    assert!(!text.contains("compose.yaml <=="));
    assert!(!dir.path().join("out").exists());
}

#[test]
fn phase_renders_the_platform_up_to_that_phase() {
    let r = platgen(&["render", "--phase", "2A", "--stdout", "--target", "compose"]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    let text = stdout(&r);
    assert!(text.contains("\n  kong:\n") && text.contains("\n  vault:\n"));
    assert!(!text.contains("\n  fluentd:\n"), "2B is later");
    let r = platgen(&["render", "--phase", "2a", "--stdout"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(stderr(&r).contains("did you mean `2A`?"), "{}", stderr(&r));
}

#[test]
fn templates_can_be_overridden_file_by_file_and_errors_are_located() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("compose")).unwrap();
    fs::write(
        dir.path().join("compose/env.j2"),
        "COMPOSE_PROFILES=phase-1\n",
    )
    .unwrap();
    let templates = dir.path().to_str().unwrap();
    let r = platgen(&[
        "render",
        "--templates",
        templates,
        "--stdout",
        "--target",
        "compose",
    ]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    assert!(stdout(&r).contains("==> .env <==\n# Generated by platgen from platform.yaml; do not edit.\nCOMPOSE_PROFILES=phase-1\n"));
    assert!(
        stdout(&r).contains("\n  postgres:\n"),
        "the other templates are the built-in ones"
    );

    fs::write(
        dir.path().join("compose/env.j2"),
        "one\n{{ default_profile }}\n{{ nope.deeper }}\n",
    )
    .unwrap();
    let r = platgen(&[
        "render",
        "--templates",
        templates,
        "--stdout",
        "--target",
        "compose",
    ]);
    assert_eq!(r.status.code(), Some(2));
    let err = stderr(&r);
    assert!(err.contains("compose/env.j2, line 3"), "{err}");
    assert!(
        !err.contains("phase-2E"),
        "the error must not dump variables: {err}"
    );
}

#[test]
fn check_and_force_do_not_mix() {
    let r = platgen(&["render", "--check", "--force"]);
    assert_eq!(r.status.code(), Some(2));
}

/// A docker-compose v2 binary, for the tests that let compose itself read
/// what platgen wrote (`docker compose config` needs no Docker daemon).
fn compose_binary() -> Option<Vec<String>> {
    if let Ok(bin) = std::env::var("PLATGEN_DOCKER_COMPOSE") {
        return Some(vec![bin]);
    }
    let installed = "/opt/platgen-validators/bin/docker-compose";
    if Path::new(installed).exists() {
        return Some(vec![installed.to_owned()]);
    }
    let docker = Command::new("docker")
        .args(["compose", "version"])
        .output()
        .ok()?;
    (docker.status.success() && String::from_utf8_lossy(&docker.stdout).contains("v2"))
        .then(|| vec!["docker".to_owned(), "compose".to_owned()])
}

/// Values YAML or compose could misread, and what must reach the container.
const TRICKY: &[(&str, &str, &str)] = &[
    ("NORWAY", "NO", "NO"),
    ("SWITCH", "on", "on"),
    ("MODE", "\"0755\"", "0755"),
    ("VERSION", "1.0", "1.0"),
    ("EXP", "1e3", "1e3"),
    ("TIME", "12:30", "12:30"),
    ("DOLLARS", "\"pa$word${HOME}\"", "pa$word${HOME}"),
    ("QUOTES", "'say \"hi\" and ''bye'''", "say \"hi\" and 'bye'"),
    ("NEWLINE", "\"line one\\nline two\"", "line one\nline two"),
    ("EMPTY", "\"\"", ""),
];

fn tricky_spec(dir: &Path) -> String {
    let mut spec = String::from(
        "name: tricky\nservices:\n  app:\n    image: \"alpine:3.20\"\n    health: {command: [\"true\"]}\n    env:\n",
    );
    for (k, yaml, _) in TRICKY {
        let _ = writeln!(spec, "      {k}: {yaml}");
    }
    let path = dir.join("platform.yaml");
    fs::write(&path, spec).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn tricky_env_values_survive_platgens_own_reading() {
    let dir = tempfile::tempdir().unwrap();
    let spec = tricky_spec(dir.path());
    let r = platgen(&["render", &spec, "--stdout", "--target", "compose"]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    let compose: serde_json::Value = serde_saphyr::from_str(&stdout(&r)).unwrap();
    let env = &compose["services"]["app"]["environment"];
    for (k, _, expected) in TRICKY {
        // Exactly the value, with `$` written `$$` so compose does not interpolate it.
        assert_eq!(
            env[k].as_str(),
            Some(expected.replace('$', "$$").as_str()),
            "{k}"
        );
    }
}

#[test]
#[ignore = "needs a docker compose v2 binary; .ci/run installs one and runs the ignored tests"]
fn tricky_env_values_reach_the_container_unchanged_through_docker_compose() {
    let compose =
        compose_binary().expect("no docker compose v2 found (set PLATGEN_DOCKER_COMPOSE)");
    let dir = tempfile::tempdir().unwrap();
    let spec = tricky_spec(dir.path());
    let out = dir.path().join("out");
    let r = platgen(&[
        "render",
        &spec,
        "--out",
        out.to_str().unwrap(),
        "--target",
        "compose",
    ]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    let o = Command::new(&compose[0])
        .args(&compose[1..])
        .args(["-f", "compose.yaml", "config", "--format", "json"])
        .current_dir(&out)
        .env_remove("HOME")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let config: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let env = &config["services"]["app"]["environment"];
    for (k, _, expected) in TRICKY {
        // `config` prints its canonical form, itself a compose file, so it
        // escapes the interpolated value's `$` as `$$` again. Had platgen not
        // escaped `$`, compose would have interpolated `$word` and `${HOME}`
        // (unset here) to nothing, and the value would read `pa`.
        let value = env[k].as_str().map(|v| v.replace("$$", "$"));
        assert_eq!(value.as_deref(), Some(*expected), "{k}: {}", env[k]);
    }
}

#[test]
fn the_root_render_is_what_out_holds() {
    // The committed out/ is the root platform rendered: the drift check CI runs.
    let r = platgen(&["render", "--check"]);
    assert_eq!(r.status.code(), Some(0), "{}{}", stdout(&r), stderr(&r));
}

#[test]
fn a_template_that_writes_broken_yaml_fails_the_render_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("templates/compose")).unwrap();
    fs::write(
        dir.path().join("templates/compose/compose.yaml.j2"),
        "name: {{ project | yaml }}\nservices:\n  a: [1\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("templates/compose/compose.yml.j2"),
        "misnamed\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let r = platgen(&[
        "render",
        "--templates",
        dir.path().join("templates").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.status.code(), Some(2));
    let err = stderr(&r);
    assert!(
        err.contains("the rendered compose.yaml is not valid YAML"),
        "{err}"
    );
    assert!(
        err.contains("compose.yml.j2 is not one of platgen's templates"),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn an_empty_target_says_why() {
    let r = platgen(&["render", "examples/minimal", "--stdout", "--target", "kong"]);
    assert_eq!(r.status.code(), Some(0));
    assert!(
        stderr(&r).contains("kong: nothing rendered, the platform names no `roles.gateway`"),
        "{}",
        stderr(&r)
    );
}

/// Files are staged as they are rendered, so a template that fails late
/// (the per-service Kubernetes manifests come after compose.yaml and the
/// configs) finds files already staged. None of them may show: a fresh
/// directory is not left behind, an existing one keeps every byte, and no
/// temporary file stays.
#[test]
fn a_template_failing_late_leaves_the_directory_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec_copy(dir.path());
    let templates = dir.path().join("templates");
    fs::create_dir_all(templates.join("kubernetes")).unwrap();
    fs::write(
        templates.join("kubernetes/service.yaml.j2"),
        "kind: {{ no_such_value.field }}\n",
    )
    .unwrap();
    let templates = templates.to_str().unwrap();

    let fresh = dir.path().join("fresh");
    let fresh_s = fresh.to_str().unwrap();
    let r = platgen(&["render", &spec, "--out", fresh_s, "--templates", templates]);
    assert_ne!(r.status.code(), Some(0), "{}", stderr(&r));
    assert!(
        stderr(&r).contains("kubernetes/service.yaml.j2"),
        "{}",
        stderr(&r)
    );
    assert!(!fresh.exists(), "a failed render left {}", fresh.display());

    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    let r = platgen(&["render", &spec, "--out", out_s]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    // A change that reaches every target, so that compose.yaml is staged
    // before the failure.
    fs::write(
        &spec,
        fs::read_to_string(&spec)
            .unwrap()
            .replace("min: 2, max: 8", "min: 3, max: 8")
            .replace("redis:7.4.1-alpine", "redis:7.2.0-alpine"),
    )
    .unwrap();
    let before = tree(&out);
    let r = platgen(&["render", &spec, "--out", out_s, "--templates", templates]);
    assert_ne!(r.status.code(), Some(0), "{}", stderr(&r));
    assert_eq!(tree(&out), before, "a failed render changed the directory");
}

/// The targets render side by side, yet the error reported is the one a
/// render target by target meets first: compose's before any manifest's,
/// and that of a Kubernetes config before a per-service manifest's.
#[test]
fn of_two_failing_templates_the_first_target_s_is_reported() {
    for (first, then) in [
        ("compose/compose.yaml.j2", "kubernetes/service.yaml.j2"),
        ("kubernetes/rbac.yaml.j2", "kubernetes/service.yaml.j2"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let templates = dir.path().join("templates");
        for file in [first, then] {
            let path = templates.join(file);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, "{{ this_fails.here }}\n").unwrap();
        }
        let templates = templates.to_str().unwrap();
        let out = dir.path().join("out");
        for _ in 0..3 {
            let r = platgen(&[
                "render",
                "--out",
                out.to_str().unwrap(),
                "--templates",
                templates,
            ]);
            assert_eq!(r.status.code(), Some(2), "{}", stderr(&r));
            assert!(stderr(&r).contains(first), "{}", stderr(&r));
            assert!(!stderr(&r).contains(then), "{}", stderr(&r));
            assert!(!out.exists(), "a failed render left {}", out.display());
        }
    }
}

/// A render, or a clean `--check`, of a spec without diagnostics is
/// remembered: the same spec into the same untouched output needs no
/// render. Every change on either side is seen.
#[test]
fn an_unchanged_output_is_known_without_rendering_and_every_change_is_seen() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec_copy(dir.path());
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    let cached = |r: &std::process::Output| stderr(r).contains("nothing to render");
    let r = platgen(&["render", &spec, "--out", out_s, "-v"]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    assert!(
        !cached(&r),
        "the first render used the cache: {}",
        stderr(&r)
    );
    let before = tree(&out);

    let c = platgen(&["render", &spec, "--out", out_s, "--check", "-v"]);
    assert_eq!(c.status.code(), Some(0), "{}", stderr(&c));
    assert!(cached(&c), "{}", stderr(&c));
    assert!(stderr(&c).contains("up to date ("), "{}", stderr(&c));
    let again = platgen(&["render", &spec, "--out", out_s, "-v"]);
    assert!(cached(&again), "{}", stderr(&again));
    assert!(
        stderr(&again).contains(" 0 written, "),
        "{}",
        stderr(&again)
    );
    assert_eq!(tree(&out), before);

    // An edited generated file: drift, with its diff, and a render puts it
    // back.
    let compose = out.join("compose.yaml");
    let text = fs::read_to_string(&compose).unwrap();
    fs::write(
        &compose,
        text.replace("redis:7.4.1-alpine", "redis:7.2.0-alpine"),
    )
    .unwrap();
    let c = platgen(&["render", &spec, "--out", out_s, "--check", "-v"]);
    assert_eq!(c.status.code(), Some(1), "{}", stderr(&c));
    assert!(!cached(&c) && stdout(&c).contains("+    image: \"redis:7.4.1-alpine\""));
    let r = platgen(&["render", &spec, "--out", out_s, "-v"]);
    assert!(
        !cached(&r) && stderr(&r).contains(" 1 written, "),
        "{}",
        stderr(&r)
    );
    assert_eq!(tree(&out), before);

    // A missing file, and an edited manifest.
    fs::remove_file(out.join("kubernetes/redis.yaml")).unwrap();
    let c = platgen(&["render", &spec, "--out", out_s, "--check"]);
    assert_eq!(c.status.code(), Some(1), "{}", stderr(&c));
    platgen(&["render", &spec, "--out", out_s]);
    let manifest = out.join(".platgen-manifest");
    let text = fs::read_to_string(&manifest).unwrap();
    fs::write(&manifest, format!("{text}# a line of mine\n")).unwrap();
    let c = platgen(&["render", &spec, "--out", out_s, "--check"]);
    assert_eq!(c.status.code(), Some(1), "{}", stderr(&c));
    platgen(&["render", &spec, "--out", out_s]);

    // Another spec byte, with the same output: rendered (and then known).
    fs::write(
        &spec,
        format!("{}\n# a comment\n", fs::read_to_string(&spec).unwrap()),
    )
    .unwrap();
    let c = platgen(&["render", &spec, "--out", out_s, "--check", "-v"]);
    assert_eq!(c.status.code(), Some(0), "{}", stderr(&c));
    assert!(!cached(&c), "{}", stderr(&c));
    let c = platgen(&["render", &spec, "--out", out_s, "--check", "-v"]);
    assert!(cached(&c), "{}", stderr(&c));
    assert_eq!(tree(&out), before);

    // Turned off, it renders.
    let off = std::process::Command::new(env!("CARGO_BIN_EXE_platgen"))
        .args(["render", &spec, "--out", out_s, "--check", "-v"])
        .env("PLATGEN_NO_CACHE", "1")
        .output()
        .unwrap();
    assert_eq!(off.status.code(), Some(0), "{}", stderr(&off));
    assert!(!cached(&off), "{}", stderr(&off));
}

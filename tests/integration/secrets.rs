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

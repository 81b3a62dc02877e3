//! Scale and output-directory guarantees: a 10,000-service spec checks and
//! renders, an alias bomb is refused quickly, a re-render with nothing
//! changed writes nothing, and `--out` must be a directory of its own.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::support::{platgen_in, stderr, stdout};

#[allow(dead_code)]
#[path = "../../examples/gen-spec.rs"]
mod gen_spec;

fn write_spec(dir: &Path, n: usize) -> String {
    let path = dir.join("platform.yaml");
    std::fs::write(&path, gen_spec::spec(n)).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn ten_thousand_services_check_and_render() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), 10_000);
    let source =
        platgen::source::SourceFile::new("platform.yaml", std::fs::read_to_string(&spec).unwrap());
    let outcome = platgen::check::check(&source);
    assert!(
        outcome.diagnostics.is_empty(),
        "{:?}",
        outcome.diagnostics.first()
    );
    let platform = outcome.platform.expect("a platform");
    assert_eq!(platform.services.len(), 10_004);
    let engine = platgen::render::Engine::new(None);
    let options = platgen::render::Options {
        spec_name: "platform.yaml".into(),
        targets: platgen::render::Target::ALL.to_vec(),
    };
    let files = platgen::render::render(&platform, &engine, &options).unwrap();
    // One manifest per service, plus the shared files of every target.
    let manifests = files
        .iter()
        .filter(|f| f.path.starts_with("kubernetes/svc-"))
        .count();
    assert_eq!(manifests, 10_000);
    for path in [
        "compose.yaml",
        "nginx/nginx.conf",
        "prometheus/prometheus.yml",
        "kong/kong.yml",
    ] {
        assert!(files.iter().any(|f| f.path == path), "{path} missing");
    }
    let out = dir.path().join("out");
    let written = platgen::emit::write(&out, &files, platgen::render::Target::ALL, false).unwrap();
    assert_eq!(written.written.len(), files.len());
    assert!(
        platgen::emit::check(&out, &files, platgen::render::Target::ALL)
            .unwrap()
            .is_clean()
    );
}

#[test]
fn a_billion_laughs_is_refused_at_the_alias_limit() {
    let mut text = String::from(
        "name: demo\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
    for pair in names.windows(2) {
        let refs = vec![format!("*{}", pair[0]); 9].join(",");
        let _ = writeln!(text, "{}: &{} [{refs}]", pair[1], pair[1]);
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bomb.yaml"), &text).unwrap();
    let out = platgen_in(dir.path(), &["check", "bomb.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let shown = stdout(&out);
    assert!(
        shown.contains("aliases expand the document by more than 100,000 values (an alias bomb?)")
            && shown.contains("bomb.yaml:"),
        "{shown}"
    );
}

/// Every file under `dir` with its modification time.
fn mtimes(dir: &Path) -> Vec<(String, SystemTime)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let modified = entry.metadata().unwrap().modified().unwrap();
                out.push((path.to_string_lossy().into_owned(), modified));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_render_with_nothing_changed_writes_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), 30);
    let first = platgen_in(dir.path(), &["render", &spec, "--out", "out"]);
    assert!(first.status.success(), "{}", stderr(&first));
    // Age every file, so that a rewrite would show even on a coarse clock.
    let old = SystemTime::now() - Duration::from_secs(3600);
    let before: Vec<(String, SystemTime)> = mtimes(&dir.path().join("out"))
        .into_iter()
        .map(|(path, _)| {
            let file = std::fs::File::options().write(true).open(&path).unwrap();
            file.set_modified(old).unwrap();
            (path, old)
        })
        .collect();
    assert!(before.len() > 30);
    let again = platgen_in(dir.path(), &["render", &spec, "--out", "out"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stderr(&again).contains(" 0 written,"), "{}", stderr(&again));
    assert_eq!(mtimes(&dir.path().join("out")), before);
}

fn assert_refused(dir: &Path, out_dir: &str, expect: &str) {
    let spec = write_spec(dir, 4);
    let out = platgen_in(dir, &["render", &spec, "--out", out_dir]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains(expect), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"));
}

#[test]
fn out_must_be_a_directory_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a-file"), "mine\n").unwrap();
    assert_refused(dir.path(), "a-file", "is a file, not a directory");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("a-file")).unwrap(),
        "mine\n"
    );
    assert_refused(dir.path(), "/", "the root of the file system");
    assert_refused(dir.path(), "a-file/sub", "a-file/sub");
}

#[test]
fn an_unwritable_out_directory_is_an_error_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
    }
    // Root may write anywhere; then /proc stands in, where no one may create files.
    let probe = locked.join("probe");
    let target = if std::fs::write(&probe, "x").is_ok() {
        let _ = std::fs::remove_file(&probe);
        "/proc/platgen-out".to_owned()
    } else {
        locked.join("out").to_string_lossy().into_owned()
    };
    assert_refused(dir.path(), &target, "cannot create");
    assert!(!Path::new(&target).exists());
    assert_eq!(std::fs::read_dir(&locked).unwrap().count(), 0);
}

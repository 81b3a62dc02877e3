//! A render killed at any moment (SIGKILL: no cleanup runs) leaves an output
//! directory that is usable: each file is the previous render's version or
//! the new one, the manifest lists every generated file that is there (so
//! platgen still owns it and can delete it later), and the next render,
//! of either spec, succeeds without `--force` and leaves exactly its own
//! output, with no stray file of the killed one.
//!
//! The test knows nothing of how platgen writes (temporary names, order,
//! flushing): it only compares the directory with complete renders of the
//! two specs. `PLATGEN_KILLS` sets the number of runs (default 60); it takes
//! minutes, so it is run with the ignored tests
//! (`cargo test -- --ignored kill`), as CI does.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use proptest::prelude::RngExt as _;
use proptest::test_runner::{RngAlgorithm, TestRng};

const MANIFEST: &str = ".platgen-manifest";

/// A platform of `services` services, numbered from `first`; `flavour`
/// changes every file's content.
fn large_spec(first: usize, services: usize, flavour: &str) -> String {
    let mut s = String::from(
        "name: big\nphases:\n  - {id: \"1\"}\n  - {id: \"2\"}\nroles: {proxy: proxy, monitoring: prometheus}\nservices:\n  proxy:\n    phase: \"1\"\n    image: nginx:1.27.3-alpine\n    ports: [{name: http, host: 8000, container: 80}]\n    health: {http: {path: /healthz}}\n  prometheus:\n    phase: \"1\"\n    image: prom/prometheus:v2.55.1\n    ports: [{name: http, container: 9090}]\n    health: {http: {path: /-/healthy}}\n",
    );
    for i in first..first + services {
        let phase = if i % 2 == 0 { "1" } else { "2" };
        let _ = write!(
            s,
            "  svc{i}:\n    phase: \"{phase}\"\n    image: ghcr.io/example/svc:{flavour}.{i}\n    ports: [{{name: http, host: {}, container: 8080}}]\n    health: {{http: {{path: /health}}}}\n    metrics: {{port: http}}\n    route: {{path: /svc{i}}}\n    env: {{FLAVOUR: {flavour}, INDEX: \"{i}\"}}\n    volumes: {{data{i}: /data}}\n",
            10000 + i
        );
    }
    s
}

/// Every file under `dir`, relative path -> bytes.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                // A file may vanish while we look (it cannot here: the
                // render was killed and waited for).
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out
}

/// The names under `dir`, and when the manifest last changed: enough to
/// see that a render has started to write, without reading any file.
fn listing(dir: &Path) -> (BTreeSet<std::path::PathBuf>, Option<std::time::SystemTime>) {
    fn walk(dir: &Path, out: &mut BTreeSet<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                walk(&path, out);
            }
            out.insert(path);
        }
    }
    let mut names = BTreeSet::new();
    walk(dir, &mut names);
    let modified = std::fs::metadata(dir.join(MANIFEST))
        .and_then(|m| m.modified())
        .ok();
    (names, modified)
}

/// Waits until the render writes into `dir` (or ends); returns when that was.
fn wait_for_writing(child: &mut std::process::Child, dir: &Path) -> Instant {
    let before = listing(dir);
    loop {
        if listing(dir) != before || child.try_wait().unwrap().is_some() {
            return Instant::now();
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

fn manifest_paths(text: &[u8]) -> BTreeSet<String> {
    String::from_utf8_lossy(text)
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_once(' ').expect("`<target> <path>`").1.to_owned())
        .collect()
}

fn render(spec: &Path, out: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_platgen"));
    c.args([
        "render",
        spec.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    c
}

fn render_fully(spec: &Path, out: &Path) {
    let o = render(spec, out).output().unwrap();
    assert!(
        o.status.success(),
        "the render after a kill failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// What a killed render left, as far as this test can tell.
#[derive(Debug, Default)]
struct Seen {
    kills: usize,
    finished_before_the_kill: usize,
    untouched: usize,
    mixed: usize,
    complete: usize,
    with_leftovers: usize,
}

#[test]
#[ignore = "kills 60 renders of a large spec, minutes of work; .ci/run runs it"]
#[allow(clippy::too_many_lines)] // one property after another, in order
fn a_render_killed_at_any_point_leaves_old_or_new_files_and_a_true_manifest() {
    let kills: usize = std::env::var("PLATGEN_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(60);
    // On the disk the build uses, not a memory file system: flushing and
    // renaming take the time they take for users.
    let tmp = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    // Two specs that share most paths with different contents, and each
    // have paths the other lacks (files to add, and files to delete).
    let specs = [tmp.path().join("a.yaml"), tmp.path().join("b.yaml")];
    std::fs::write(&specs[0], large_spec(0, 80, "1")).unwrap();
    std::fs::write(&specs[1], large_spec(16, 80, "2")).unwrap();
    let reference: Vec<BTreeMap<String, Vec<u8>>> = specs
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let dir = tmp.path().join(format!("reference-{i}"));
            render_fully(spec, &dir);
            tree(&dir)
        })
        .collect();
    let (a, b) = (&reference[0], &reference[1]);
    assert!(a.keys().any(|p| !b.contains_key(p)) && b.keys().any(|p| !a.contains_key(p)));
    assert!(
        a.iter()
            .filter(|(p, c)| b.get(*p).is_some_and(|d| d != *c))
            .count()
            > 60
    );
    let generated: BTreeSet<&String> = a.keys().chain(b.keys()).collect();

    let out = tmp.path().join("out");
    render_fully(&specs[0], &out);
    let mut current = 0;
    // How long a whole render over the other spec's output takes here, and
    // how long of it is spent writing: the shortest of five runs, so that on
    // a machine whose load varies the kills still land while renders run
    // (the longest run once sent most kills after the render had finished).
    let (mut shortest, mut writing) = (Duration::MAX, Duration::MAX);
    for _ in 0..5 {
        let start = Instant::now();
        let mut child = render(&specs[1 - current], &out).spawn().unwrap();
        let first_write = wait_for_writing(&mut child, &out);
        assert!(child.wait().unwrap().success());
        shortest = shortest.min(start.elapsed());
        writing = writing.min(first_write.elapsed());
        current = 1 - current;
    }

    let mut rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[9; 32]);
    let mut seen = Seen::default();
    for kill in 0..kills {
        let target = 1 - current;
        let mut child = render(&specs[target], &out).spawn().unwrap();
        // A third of the kills anywhere in the run; the others while the
        // render writes, where it matters.
        let at = if kill % 3 == 0 {
            let at = rng.random_range(0.0..shortest.as_secs_f64());
            std::thread::sleep(Duration::from_secs_f64(at));
            at
        } else {
            wait_for_writing(&mut child, &out);
            let at = rng.random_range(0.0..writing.as_secs_f64());
            std::thread::sleep(Duration::from_secs_f64(at));
            at
        };
        if child.try_wait().unwrap().is_some() {
            seen.finished_before_the_kill += 1;
        } else {
            child.kill().unwrap(); // SIGKILL
            seen.kills += 1;
        }
        child.wait().unwrap();

        let now = tree(&out);
        let (old, new) = (&reference[current], &reference[target]);
        let mut any_old = false;
        let mut any_new = false;
        let mut leftovers = 0;
        for (path, bytes) in &now {
            if path == MANIFEST {
                continue;
            }
            if !generated.contains(path) {
                leftovers += 1;
                continue;
            }
            let is_old = old.get(path) == Some(bytes);
            let is_new = new.get(path) == Some(bytes);
            assert!(
                is_old || is_new,
                "kill {kill} after {at:.3}s: {path} is neither the old nor the new version"
            );
            any_old |= is_old && !is_new;
            any_new |= is_new && !is_old;
        }
        // Files the new render deletes may be gone, and files it adds not
        // there yet; but no file of either render is lost for good: a
        // file both renders make is there.
        for path in old.keys().filter(|p| new.contains_key(*p)) {
            assert!(now.contains_key(path), "kill {kill}: {path} is missing");
        }
        let manifest = now
            .get(MANIFEST)
            .unwrap_or_else(|| panic!("kill {kill}: the manifest is gone"));
        let listed = manifest_paths(manifest);
        for path in now
            .keys()
            .filter(|p| generated.contains(p) && *p != MANIFEST)
        {
            assert!(
                listed.contains(path),
                "kill {kill} after {at:.3}s: {path} is in the output but not in the manifest, \
                 so no later render will delete or replace it"
            );
        }
        for path in &listed {
            assert!(
                generated.contains(path),
                "kill {kill}: the manifest lists {path}"
            );
        }
        match (any_old, any_new) {
            (true, true) => seen.mixed += 1,
            (false, true) => seen.complete += 1,
            _ => seen.untouched += 1,
        }
        if leftovers > 0 {
            seen.with_leftovers += 1;
        }

        // The next render, of either spec, cleans up after the killed one.
        let next = rng.random_range(0..2usize);
        render_fully(&specs[next], &out);
        let after = tree(&out);
        assert_eq!(
            after.keys().collect::<Vec<_>>(),
            reference[next].keys().collect::<Vec<_>>(),
            "kill {kill}: the render after it left other files (or lacks some)"
        );
        assert!(
            after == reference[next],
            "kill {kill}: a file differs after the next render"
        );
        current = next;
    }
    eprintln!(
        "{kills} runs over {} files, each render at least {shortest:?} of which writing {writing:?}: {seen:?}",
        reference[1].len()
    );
    assert!(
        seen.kills * 2 >= kills,
        "most renders finished before their kill: {seen:?}"
    );
}

#[test]
#[ignore = "kills 20 renders into new directories, a minute of work; .ci/run runs it"]
fn a_render_into_a_new_directory_killed_at_any_point_shows_only_complete_listed_files() {
    let kills: usize = std::env::var("PLATGEN_KILLS")
        .ok()
        .and_then(|k| k.parse::<usize>().ok())
        .map_or(20, |k| k.div_ceil(3));
    let tmp = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let spec = tmp.path().join("a.yaml");
    std::fs::write(&spec, large_spec(0, 80, "1")).unwrap();
    let reference_dir = tmp.path().join("reference");
    let start = Instant::now();
    render_fully(&spec, &reference_dir);
    let shortest = start.elapsed();
    let reference = tree(&reference_dir);

    let mut rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let (mut killed, mut partial) = (0, 0);
    for kill in 0..kills {
        let out = tmp.path().join(format!("out-{kill}"));
        let mut child = render(&spec, &out).spawn().unwrap();
        let at = rng.random_range(0.0..shortest.as_secs_f64());
        std::thread::sleep(Duration::from_secs_f64(at));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            killed += 1;
        }
        child.wait().unwrap();

        let now = tree(&out);
        let present: Vec<&String> = now
            .keys()
            .filter(|p| reference.contains_key(*p) && *p != MANIFEST)
            .collect();
        for path in &present {
            assert!(
                now[*path] == reference[*path],
                "kill {kill} after {at:.3}s: {path} is not the complete file"
            );
        }
        if !present.is_empty() {
            let manifest = now.get(MANIFEST).unwrap_or_else(|| {
                panic!("kill {kill} after {at:.3}s: generated files but no manifest")
            });
            let listed = manifest_paths(manifest);
            for path in &present {
                assert!(
                    listed.contains(*path),
                    "kill {kill} after {at:.3}s: {path} is not in the manifest"
                );
            }
            if present.len() + 1 < reference.len() {
                partial += 1;
            }
        }
        render_fully(&spec, &out);
        assert!(
            tree(&out) == reference,
            "kill {kill}: the render after it differs from a complete one"
        );
    }
    eprintln!(
        "{kills} renders into new directories, each at least {shortest:?}: {killed} killed, {partial} with some files in place"
    );
    assert!(
        killed * 2 >= kills,
        "most renders finished before their kill"
    );
}

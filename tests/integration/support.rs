//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A path under `tests/fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    root().join("tests/fixtures").join(rel)
}

/// The path as the snapshots show it: relative to the repository, with `/`.
pub fn display(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Runs the real binary from the repository root.
pub fn platgen(args: &[&str]) -> Output {
    platgen_in(&root(), args)
}

pub fn platgen_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_platgen"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        // The render cache of the tests' outputs, apart from the user's.
        .env(
            "PLATGEN_CACHE_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("render-cache"),
        )
        .output()
        .expect("platgen runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

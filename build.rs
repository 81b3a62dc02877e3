//! Puts the commit platgen is built from into `--version`, so that a bug
//! report names the exact code. It never fails the build: without git (a
//! crate tarball, a source archive, a sandbox), it reads the commit cargo
//! recorded when it packaged the crate, or `PLATGEN_COMMIT` from the
//! environment, or leaves the commit out.
//!
//! It also compiles the committed schema into the table the schema pass
//! reads (see `src/spec/schema_table.rs`).

use std::path::{Path, PathBuf};
use std::process::Command;

// Only what compiling the schema needs is used here.
#[allow(dead_code)]
#[path = "src/spec/schema_table.rs"]
mod schema_table;

/// Compiles the committed `platform.schema.json` into the table the schema
/// pass reads (`$OUT_DIR/schema_table.rs`), so that `check` does not parse
/// and compile JSON at every start. A file that does not read as JSON
/// gives no table: the binary then checks against the types' own schema.
fn schema_table(dir: &Path) {
    println!("cargo::rerun-if-changed=platform.schema.json");
    println!("cargo::rerun-if-changed=src/spec/schema_table.rs");
    let table = std::fs::read_to_string(dir.join("platform.schema.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .map_or_else(
            || "None".to_owned(),
            |json| {
                let (nodes, root) = schema_table::compile(&json);
                format!("Some({})", schema_table::emit(&nodes, root))
            },
        );
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("schema_table.rs"), table).expect("OUT_DIR is writable");
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!text.is_empty()).then_some(text)
}

/// The commit of the git work tree this package is the root of, and the
/// files whose change means a new commit. A package that merely sits inside
/// some other repository (vendored, say) does not take that repository's
/// commit.
fn from_git(dir: &Path) -> Option<(String, Vec<PathBuf>)> {
    let top = PathBuf::from(git(dir, &["rev-parse", "--show-toplevel"])?);
    if top.canonicalize().ok()? != dir.canonicalize().ok()? {
        return None;
    }
    let commit = git(dir, &["rev-parse", "--short=12", "HEAD"])?;
    let git_dir = PathBuf::from(git(dir, &["rev-parse", "--absolute-git-dir"])?);
    let common = git(dir, &["rev-parse", "--git-common-dir"])
        .map_or_else(|| git_dir.clone(), |c| dir.join(c));
    let mut watch = vec![git_dir.join("HEAD"), common.join("packed-refs")];
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        watch.push(common.join(branch));
    }
    watch.retain(|p| p.exists());
    Some((commit, watch))
}

/// The commit `cargo package` recorded in `.cargo_vcs_info.json`.
fn from_cargo_vcs_info(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(".cargo_vcs_info.json")).ok()?;
    let rest = text.split("\"sha1\"").nth(1)?;
    let sha: String = rest
        .trim_start_matches([' ', ':', '"', '\t', '\n'])
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    (sha.len() >= 12).then(|| sha[..12].to_owned())
}

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=PLATGEN_COMMIT");
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    schema_table(&dir);
    let commit = if let Some((commit, watch)) = from_git(&dir) {
        for path in watch {
            println!("cargo::rerun-if-changed={}", path.display());
        }
        Some(commit)
    } else if let Some(commit) = from_cargo_vcs_info(&dir) {
        Some(commit)
    } else {
        std::env::var("PLATGEN_COMMIT")
            .ok()
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
    };
    let suffix = commit.map_or_else(String::new, |c| format!(" ({c})"));
    println!("cargo::rustc-env=PLATGEN_BUILD_COMMIT={suffix}");
}

//! Puts the commit platgen is built from into `--version`, so that a bug
//! report names the exact code. It never fails the build: without git (a
//! crate tarball, a source archive, a sandbox), it reads the commit cargo
//! recorded when it packaged the crate, or `PLATGEN_COMMIT` from the
//! environment, or leaves the commit out.

use std::path::{Path, PathBuf};
use std::process::Command;

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

//! Putting rendered files where they belong: into a directory (atomically,
//! touching only files platgen generated), compared against a directory
//! (`render --check`), or onto standard output.
//!
//! The output directory keeps a manifest, `.platgen-manifest`, of the files
//! platgen generated there. Only those are ever overwritten or deleted; any
//! other file (a README, a secret) is left alone, and a foreign file standing
//! where platgen wants to write stops the render before anything is written.
//!
//! Writing is done in two steps: every changed file is first written in full
//! to a temporary file next to its destination and flushed to disk; only then
//! are the temporary files renamed into place, which is atomic per file. A
//! render that fails or is interrupted while writing leaves the previous
//! output as it was (the leftover temporary files are removed by the next
//! render); only the final renames, a few system calls, are not one atomic
//! step.

use std::collections::BTreeSet;
use std::fmt;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use similar::TextDiff;

use crate::render::{OutFile, Target};

/// The manifest's file name in the output directory.
pub const MANIFEST: &str = ".platgen-manifest";
const TEMP_PREFIX: &str = ".platgen-tmp-";

/// What went wrong while writing or reading the output directory.
#[derive(Debug)]
pub enum EmitError {
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    /// Files platgen did not generate stand where it would write.
    Foreign(Vec<PathBuf>),
    /// The manifest does not read as one.
    BadManifest { path: PathBuf, line: usize },
}

impl fmt::Display for EmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmitError::Io {
                action,
                path,
                source,
            } => {
                write!(f, "cannot {action} {}: {source}", path.display())
            }
            EmitError::Foreign(paths) => {
                write!(
                    f,
                    "platgen did not generate {} and will not overwrite {}:",
                    if paths.len() == 1 {
                        "this file"
                    } else {
                        "these files"
                    },
                    if paths.len() == 1 { "it" } else { "them" }
                )?;
                for p in paths {
                    write!(f, "\n  {}", p.display())?;
                }
                write!(f, "\nmove them away, or pass --force to overwrite them")
            }
            EmitError::BadManifest { path, line } => write!(
                f,
                "{}:{line} is not a line of a platgen manifest (`<target> <path>`); delete the file to start afresh",
                path.display()
            ),
        }
    }
}

impl std::error::Error for EmitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            EmitError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn io_error<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> EmitError + 'a {
    move |source| EmitError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// The files platgen generated in a directory, by target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    pub entries: BTreeSet<(Target, String)>,
}

impl Manifest {
    pub fn read(dir: &Path) -> Result<Option<Manifest>, EmitError> {
        let path = dir.join(MANIFEST);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error("read", &path)(e)),
        };
        let mut entries = BTreeSet::new();
        for (i, line) in text.lines().enumerate() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let bad = || EmitError::BadManifest {
                path: path.clone(),
                line: i + 1,
            };
            let (target, file) = line.split_once(' ').ok_or_else(bad)?;
            let target = Target::from_name(target).ok_or_else(bad)?;
            if !safe_relative(file) {
                return Err(bad());
            }
            entries.insert((target, file.to_owned()));
        }
        Ok(Some(Manifest { entries }))
    }

    pub fn contains(&self, path: &str) -> bool {
        self.entries.iter().any(|(_, p)| p == path)
    }

    pub fn to_text(&self) -> String {
        let mut out = String::from(
            "# Files platgen generated in this directory. platgen overwrites or deletes\n# only these; keep this file with them.\n",
        );
        for (target, path) in &self.entries {
            out.push_str(target.name());
            out.push(' ');
            out.push_str(path);
            out.push('\n');
        }
        out
    }
}

/// A manifest path must be relative and stay inside the directory.
fn safe_relative(path: &str) -> bool {
    !path.is_empty()
        && Path::new(path)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
}

/// The manifest after rendering `files` for `targets`: entries of other
/// targets are kept, those of the rendered targets are replaced.
fn next_manifest(old: Option<&Manifest>, files: &[OutFile], targets: &[Target]) -> Manifest {
    let mut entries: BTreeSet<(Target, String)> = old
        .map(|m| {
            m.entries
                .iter()
                .filter(|(t, _)| !targets.contains(t))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    entries.extend(files.iter().map(|f| (f.target, f.path.clone())));
    Manifest { entries }
}

/// Files the previous render of `targets` made that this one no longer makes.
fn stale(old: Option<&Manifest>, files: &[OutFile], targets: &[Target]) -> Vec<String> {
    let Some(old) = old else { return Vec::new() };
    old.entries
        .iter()
        .filter(|(t, p)| targets.contains(t) && !files.iter().any(|f| &f.path == p))
        .map(|(_, p)| p.clone())
        .collect()
}

/// What a write did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub written: Vec<String>,
    pub unchanged: Vec<String>,
    pub deleted: Vec<String>,
}

fn remove_leftover_temp_files(dir: &Path) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                stack.push(path);
            } else if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
                let _ = fs::remove_file(path);
            }
        }
    }
}

/// Stages `contents` in a temporary file next to `dest`, flushed to disk.
fn stage(dest: &Path, contents: &[u8]) -> Result<tempfile::NamedTempFile, EmitError> {
    let parent = dest.parent().unwrap_or_else(|| Path::new("."));
    fs::create_dir_all(parent).map_err(io_error("create directory", parent))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMP_PREFIX);
    // Temporary files are private by default; generated configs are not.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o644));
    }
    let mut tmp = builder
        .tempfile_in(parent)
        .map_err(io_error("create a temporary file in", parent))?;
    tmp.write_all(contents)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(io_error("write a temporary file for", dest))?;
    Ok(tmp)
}

/// Writes `files` (rendered for `targets`) into `dir`.
pub fn write(
    dir: &Path,
    files: &[OutFile],
    targets: &[Target],
    force: bool,
) -> Result<Written, EmitError> {
    let old = Manifest::read(dir)?;
    remove_leftover_temp_files(dir);

    // Refuse before writing anything when a foreign file is in the way.
    let mut foreign = Vec::new();
    let mut changed: Vec<&OutFile> = Vec::new();
    let mut report = Written::default();
    for file in files {
        let dest = dir.join(&file.path);
        match fs::read(&dest) {
            Ok(current) if current == file.contents.as_bytes() => {
                report.unchanged.push(file.path.clone());
            }
            Ok(_) => {
                if !force && !old.as_ref().is_some_and(|m| m.contains(&file.path)) {
                    foreign.push(dest);
                }
                changed.push(file);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => changed.push(file),
            Err(e) if dest.is_dir() => {
                let _ = e;
                foreign.push(dest);
            }
            Err(e) => return Err(io_error("read", &dest)(e)),
        }
    }
    if !foreign.is_empty() {
        return Err(EmitError::Foreign(foreign));
    }

    // Step 1: every changed file in full, next to its destination.
    let manifest = next_manifest(old.as_ref(), files, targets);
    let manifest_text = manifest.to_text();
    let mut staged = Vec::new();
    for file in &changed {
        let dest = dir.join(&file.path);
        staged.push((
            stage(&dest, file.contents.as_bytes())?,
            dest,
            file.path.clone(),
        ));
    }
    let manifest_path = dir.join(MANIFEST);
    let manifest_changed =
        fs::read_to_string(&manifest_path).ok().as_deref() != Some(manifest_text.as_str());
    let staged_manifest = if manifest_changed {
        Some(stage(&manifest_path, manifest_text.as_bytes())?)
    } else {
        None
    };

    // Step 2: rename into place; the manifest last.
    for (tmp, dest, path) in staged {
        tmp.persist(&dest)
            .map_err(|e| io_error("replace", &dest)(e.error))?;
        report.written.push(path);
    }
    for path in stale(old.as_ref(), files, targets) {
        let dest = dir.join(&path);
        match fs::remove_file(&dest) {
            Ok(()) => report.deleted.push(path),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error("delete", &dest)(e)),
        }
        // Empty directories that held only generated files go too.
        let mut parent = dest.parent();
        while let Some(p) = parent {
            if p == dir || fs::remove_dir(p).is_err() {
                break;
            }
            parent = p.parent();
        }
    }
    if let Some(tmp) = staged_manifest {
        tmp.persist(&manifest_path)
            .map_err(|e| io_error("replace", &manifest_path)(e.error))?;
    }
    Ok(report)
}

/// How the directory differs from what rendering produces.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Drift {
    /// Files that differ: path and unified diff (on disk -> rendered).
    pub changed: Vec<(String, String)>,
    /// Files that rendering produces and the directory lacks.
    pub missing: Vec<String>,
    /// Generated files the directory has and rendering no longer produces.
    pub extra: Vec<String>,
}

impl Drift {
    pub fn is_clean(&self) -> bool {
        self.changed.is_empty() && self.missing.is_empty() && self.extra.is_empty()
    }
}

fn diff(path: &str, old: &str, new: &str) -> String {
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("{path} (on disk)"), &format!("{path} (rendered)"))
        .to_string()
}

/// Compares `files` with `dir` without writing anything. The manifest is
/// compared too, so that a directory whose files match but whose manifest
/// is stale (or missing) is drift.
pub fn check(dir: &Path, files: &[OutFile], targets: &[Target]) -> Result<Drift, EmitError> {
    let old = Manifest::read(dir)?;
    let mut drift = Drift::default();
    let manifest = OutFile {
        path: MANIFEST.to_owned(),
        contents: next_manifest(old.as_ref(), files, targets).to_text(),
        target: Target::Compose,
    };
    for file in files.iter().chain(std::iter::once(&manifest)) {
        let shown = dir.join(&file.path).display().to_string();
        match fs::read(dir.join(&file.path)) {
            Ok(bytes) => {
                let current = String::from_utf8_lossy(&bytes);
                if current != file.contents {
                    drift
                        .changed
                        .push((file.path.clone(), diff(&shown, &current, &file.contents)));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => drift.missing.push(file.path.clone()),
            Err(e) => return Err(io_error("read", &dir.join(&file.path))(e)),
        }
    }
    drift.extra = stale(old.as_ref(), files, targets)
        .into_iter()
        .filter(|p| dir.join(p).exists())
        .collect();
    Ok(drift)
}

/// All files for standard output: one file as it is; several, each after a
/// `==> path <==` line, as `head` prints several files.
pub fn to_stdout(files: &[OutFile]) -> String {
    if let [only] = files {
        return only.contents.clone();
    }
    let mut out = String::new();
    for (i, file) in files.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str("==> ");
        out.push_str(&file.path);
        out.push_str(" <==\n");
        out.push_str(&file.contents);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, contents: &str) -> OutFile {
        OutFile {
            path: path.into(),
            contents: contents.into(),
            target: Target::Compose,
        }
    }

    #[test]
    fn writes_then_reports_no_drift() {
        let dir = tempfile::tempdir().unwrap();
        let files = [file("compose.yaml", "a: 1\n"), file("sub/x.yaml", "b: 2\n")];
        let w = write(dir.path(), &files, &[Target::Compose], false).unwrap();
        assert_eq!(w.written.len(), 2);
        assert!(
            check(dir.path(), &files, &[Target::Compose])
                .unwrap()
                .is_clean()
        );
        let again = write(dir.path(), &files, &[Target::Compose], false).unwrap();
        assert_eq!(again.unchanged.len(), 2);
        assert!(again.written.is_empty());
    }

    #[test]
    fn refuses_to_overwrite_foreign_files_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("compose.yaml"), "mine\n").unwrap();
        let files = [file("a.yaml", "x\n"), file("compose.yaml", "theirs\n")];
        let err = write(dir.path(), &files, &[Target::Compose], false).unwrap_err();
        assert!(
            matches!(err, EmitError::Foreign(ref p) if p.len() == 1),
            "{err}"
        );
        assert!(!dir.path().join("a.yaml").exists());
        assert_eq!(
            fs::read_to_string(dir.path().join("compose.yaml")).unwrap(),
            "mine\n"
        );
        write(dir.path(), &files, &[Target::Compose], true).unwrap();
        assert_eq!(
            fs::read_to_string(dir.path().join("compose.yaml")).unwrap(),
            "theirs\n"
        );
    }

    #[test]
    fn deletes_only_its_own_stale_files() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[file("old/x.yaml", "x\n"), file("keep.yaml", "k\n")],
            &[Target::Compose],
            false,
        )
        .unwrap();
        fs::write(dir.path().join("README.md"), "mine\n").unwrap();
        let w = write(
            dir.path(),
            &[file("keep.yaml", "k\n")],
            &[Target::Compose],
            false,
        )
        .unwrap();
        assert_eq!(w.deleted, ["old/x.yaml"]);
        assert!(!dir.path().join("old").exists());
        assert!(dir.path().join("README.md").exists());
    }

    #[test]
    fn drift_lists_changed_missing_and_extra() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[file("a.yaml", "a: 1\n"), file("gone.yaml", "g\n")],
            &[Target::Compose],
            false,
        )
        .unwrap();
        let drift = check(
            dir.path(),
            &[file("a.yaml", "a: 2\n"), file("new.yaml", "n\n")],
            &[Target::Compose],
        )
        .unwrap();
        assert_eq!(drift.changed.len(), 2, "a.yaml and the manifest");
        assert!(drift.changed[0].1.contains("-a: 1") && drift.changed[0].1.contains("+a: 2"));
        assert_eq!(drift.missing, ["new.yaml"]);
        assert_eq!(drift.extra, ["gone.yaml"]);
    }

    #[test]
    fn a_manifest_cannot_point_outside_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(MANIFEST), "compose ../../etc/passwd\n").unwrap();
        assert!(matches!(
            Manifest::read(dir.path()),
            Err(EmitError::BadManifest { line: 1, .. })
        ));
    }

    #[test]
    fn leftover_temporary_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(".platgen-tmp-abc"), "half").unwrap();
        write(
            dir.path(),
            &[file("a.yaml", "a\n")],
            &[Target::Compose],
            false,
        )
        .unwrap();
        assert!(!dir.path().join(".platgen-tmp-abc").exists());
    }
}

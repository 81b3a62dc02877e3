//! Files platgen writes once for its user to own and edit: the starter spec
//! of `platgen init`, and the built-in templates `platgen templates DIR`
//! copies out so one can be overridden without a clone of platgen.
//!
//! Unlike rendered output, these are the user's files from the moment they
//! exist, so platgen never overwrites one that differs from what it would
//! write (unless told to with `force`), and checks all of them before it
//! writes any: a refused run writes nothing.

use std::fmt;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use crate::render::engine::BUILTIN;

/// A file to write, its path relative to the target directory (with `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFile {
    pub path: String,
    pub contents: String,
}

/// What a write did.
#[derive(Debug, Default)]
pub struct Report {
    pub written: Vec<PathBuf>,
    /// Files that already held exactly these contents.
    pub unchanged: Vec<PathBuf>,
}

#[derive(Debug)]
pub enum ScaffoldError {
    /// These files exist with other contents; nothing was written.
    Exists(Vec<PathBuf>),
    Io {
        path: PathBuf,
        source: io::Error,
    },
}

impl fmt::Display for ScaffoldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScaffoldError::Exists(paths) => {
                let list: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
                write!(
                    f,
                    "{} already {} and would be overwritten; nothing was written",
                    list.join(", "),
                    if paths.len() == 1 { "exists" } else { "exist" }
                )
            }
            ScaffoldError::Io { path, source } => {
                write!(f, "cannot write {}: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for ScaffoldError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ScaffoldError::Io { source, .. } => Some(source),
            ScaffoldError::Exists(_) => None,
        }
    }
}

/// What to do about a file that exists already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Refuse, whatever it holds.
    Refuse,
    /// Keep it when it holds exactly the new contents; else refuse.
    KeepIfSame,
    /// Replace it.
    Replace,
}

/// Writes `files` under `dir`. Refuses, before writing anything, when a file
/// exists that `existing` does not allow to keep or replace.
pub fn write_new(
    dir: &Path,
    files: &[NewFile],
    existing: Existing,
) -> Result<Report, ScaffoldError> {
    let force = existing == Existing::Replace;
    let mut report = Report::default();
    let mut todo = Vec::new();
    let mut clashes = Vec::new();
    for file in files {
        let dest = if dir == Path::new(".") || dir.as_os_str().is_empty() {
            PathBuf::from(&file.path)
        } else {
            dir.join(&file.path)
        };
        match fs::read(&dest) {
            Ok(_) if existing == Existing::Refuse => clashes.push(dest),
            Ok(old) if old == file.contents.as_bytes() => report.unchanged.push(dest),
            Ok(_) if force => todo.push((dest, file)),
            Ok(_) => clashes.push(dest),
            Err(e) if e.kind() == io::ErrorKind::NotFound => todo.push((dest, file)),
            // A directory or an unreadable file in the way: not ours to replace.
            Err(_) if !force => clashes.push(dest),
            Err(source) => return Err(ScaffoldError::Io { path: dest, source }),
        }
    }
    if !clashes.is_empty() {
        return Err(ScaffoldError::Exists(clashes));
    }
    for (dest, file) in todo {
        write_one(&dest, &file.contents, force).map_err(|source| ScaffoldError::Io {
            path: dest.clone(),
            source,
        })?;
        report.written.push(dest);
    }
    Ok(report)
}

/// Writes a whole file under a temporary name, then moves it into place;
/// without `force`, never over a file that appeared in the meantime.
fn write_one(dest: &Path, contents: &str, force: bool) -> io::Result<()> {
    let parent = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    fs::create_dir_all(parent)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".platgen-tmp-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o644));
    }
    let mut tmp = builder.tempfile_in(parent)?;
    tmp.write_all(contents.as_bytes())?;
    tmp.as_file().sync_all()?;
    if force {
        tmp.persist(dest).map_err(|e| e.error)?;
    } else {
        tmp.persist_noclobber(dest).map_err(|e| e.error)?;
    }
    Ok(())
}

/// What `templates/README.md` says about each template.
pub const TEMPLATES_README: &str = include_str!("../templates/README.md");

/// The built-in templates and the README that says what each receives, as
/// `platgen templates DIR` writes them (ready for `render --templates DIR`).
pub fn template_files() -> Vec<NewFile> {
    let mut files: Vec<NewFile> = BUILTIN
        .iter()
        .map(|(name, source)| NewFile {
            path: (*name).to_owned(),
            contents: (*source).to_owned(),
        })
        .collect();
    files.push(NewFile {
        path: "README.md".to_owned(),
        contents: TEMPLATES_README.to_owned(),
    });
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_before_writing_anything_and_keeps_identical_files() {
        let dir = tempfile::tempdir().unwrap();
        let files = vec![
            NewFile {
                path: "a/one".into(),
                contents: "1\n".into(),
            },
            NewFile {
                path: "two".into(),
                contents: "2\n".into(),
            },
        ];
        fs::write(dir.path().join("two"), "mine\n").unwrap();
        let err = write_new(dir.path(), &files, Existing::KeepIfSame).unwrap_err();
        assert!(
            matches!(err, ScaffoldError::Exists(ref p) if p.len() == 1),
            "{err}"
        );
        assert!(!dir.path().join("a/one").exists());
        assert_eq!(
            fs::read_to_string(dir.path().join("two")).unwrap(),
            "mine\n"
        );

        let report = write_new(dir.path(), &files, Existing::Replace).unwrap();
        assert_eq!(report.written.len(), 2);
        assert_eq!(fs::read_to_string(dir.path().join("two")).unwrap(), "2\n");
        let again = write_new(dir.path(), &files, Existing::KeepIfSame).unwrap();
        assert_eq!((again.written.len(), again.unchanged.len()), (0, 2));
        assert!(write_new(dir.path(), &files, Existing::Refuse).is_err());
    }

    #[test]
    fn every_builtin_template_and_the_readme_are_written() {
        let files = template_files();
        assert_eq!(files.len(), BUILTIN.len() + 1);
        assert!(files.iter().any(|f| f.path == "README.md"));
        assert!(files.iter().any(|f| f.path == "nginx/nginx.conf.j2"));
    }
}

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
//! to a temporary file next to its destination; only then are the temporary
//! files renamed into place, which is atomic per file. A directory that does
//! not exist yet is made under a temporary name and its files are written
//! straight into it; it is renamed into place with the files, so a new tree
//! (a first render of 10,000 services: 10,000 files) costs one rename, not
//! one per file, and no file of it is visible before the renames. A file
//! whose contents are already right is not written at all, so its
//! modification time stays and build caches keyed on it hold. A render that
//! fails before the renames (a template error, a foreign file) leaves the
//! directory as it was; one that is killed during the renames leaves every
//! file either old or new (leftover temporary files and directories are
//! removed by the next render). The manifest stays consistent throughout:
//! before the first rename it is replaced by the union of the old and the new
//! file lists, and after the last rename and deletion by the new list, so at
//! any moment it lists every file platgen may have put there.
//!
//! Durability: by default the data reaches the disk when the kernel writes
//! it back, as with `cp`; a crash of platgen itself never leaves a partial
//! file, a power loss can lose the last few seconds of a render. `--fsync`
//! ([`WriteOptions::fsync`]) flushes every written file before its rename
//! and every touched directory after the renames, for a render that must
//! survive a power loss; it costs one flush per written file.

use crate::collections::{HashMap, HashSet};
use std::collections::{BTreeSet, VecDeque};
use std::fmt;
use std::fs;
use std::io::{self, Write as _};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};

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
    /// The output directory is an existing file.
    NotADirectory(PathBuf),
    /// The output directory is the root of the file system.
    RootDirectory(PathBuf),
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
            EmitError::NotADirectory(path) => write!(
                f,
                "the output directory {} is a file, not a directory; nothing was written",
                path.display()
            ),
            EmitError::RootDirectory(path) => write!(
                f,
                "refusing to render into {}, the root of the file system; nothing was written. Pass --out with a directory of its own",
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
fn next_manifest(
    old: Option<&Manifest>,
    files: &[(Target, String)],
    targets: &[Target],
) -> Manifest {
    let mut entries: BTreeSet<(Target, String)> = old
        .map(|m| {
            m.entries
                .iter()
                .filter(|(t, _)| !targets.contains(t))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    entries.extend(files.iter().cloned());
    Manifest { entries }
}

/// Files the previous render of `targets` made that this one no longer makes.
fn stale(old: Option<&Manifest>, files: &[(Target, String)], targets: &[Target]) -> Vec<String> {
    let Some(old) = old else { return Vec::new() };
    let new: HashSet<&str> = files.iter().map(|(_, p)| p.as_str()).collect();
    old.entries
        .iter()
        .filter(|(t, p)| targets.contains(t) && !new.contains(p.as_str()))
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

/// Removes the temporary files and directories a killed render left in `dir`.
pub fn remove_leftover_temp_files(dir: &Path) {
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
            let temporary = entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX);
            if kind.is_dir() && temporary {
                // A new directory a killed render had not renamed into place.
                let _ = fs::remove_dir_all(path);
            } else if kind.is_dir() {
                stack.push(path);
            } else if temporary {
                let _ = fs::remove_file(path);
            }
        }
    }
}

/// How to write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// Overwrite files platgen did not generate.
    pub force: bool,
    /// Flush each written file and each touched directory to disk.
    pub fsync: bool,
}

/// Refuses an output directory that cannot be one: an existing file, or the
/// root of the file system.
fn usable_dir(dir: &Path) -> Result<(), EmitError> {
    match fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => {
            return Err(EmitError::NotADirectory(dir.to_path_buf()));
        }
        Ok(_) => {
            let resolved = fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
            if resolved.parent().is_none() {
                return Err(EmitError::RootDirectory(dir.to_path_buf()));
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_error("read", dir)(e)),
    }
    Ok(())
}

/// Creates directories as the staging needs them, remembering which ones it
/// made, so that a render that stops before the renames can take them away.
///
/// A directory inside the output directory that does not exist yet is made
/// under a temporary name (its subdirectories inside it), and its files are
/// written straight into it: nothing in it is visible before
/// [`Dirs::unveil`] renames it into place, one rename for a whole new tree
/// instead of one per file.
#[derive(Default)]
struct Dirs {
    /// The output directory: it is made under its own name.
    root: PathBuf,
    known: HashSet<PathBuf>,
    /// The directories made, by the names they are to have.
    made: Vec<PathBuf>,
    /// The same directories as `made`, to look up.
    made_here: HashSet<PathBuf>,
    /// New directories made under a temporary name: (name, temporary path).
    hidden: Vec<(PathBuf, PathBuf)>,
    /// Where each directory inside a hidden one (itself included) is now.
    now_at: HashMap<PathBuf, PathBuf>,
}

impl Dirs {
    fn inside(root: &Path) -> Self {
        Dirs {
            root: root.to_path_buf(),
            ..Dirs::default()
        }
    }

    /// Whether this render made `dir`, so that nothing can be in it yet but
    /// what this render stages there.
    fn fresh(&self, dir: &Path) -> bool {
        self.made_here.contains(dir)
    }

    /// Where `dir` is now if it is not yet visible under its name.
    fn hidden_at(&self, dir: &Path) -> Option<&Path> {
        self.now_at.get(dir).map(PathBuf::as_path)
    }

    fn ensure(&mut self, dir: &Path) -> Result<(), EmitError> {
        if self.known.contains(dir) {
            return Ok(());
        }
        // Parents first, so that each directory made is recorded.
        let mut missing = Vec::new();
        let mut at = Some(dir);
        while let Some(d) = at {
            if d.as_os_str().is_empty() || self.known.contains(d) || d.is_dir() {
                break;
            }
            missing.push(d.to_path_buf());
            at = d.parent();
        }
        for d in missing.into_iter().rev() {
            let parent = d.parent().unwrap_or_else(|| Path::new(""));
            if let Some(inside) = self.hidden_at(parent) {
                let now = inside.join(d.file_name().unwrap_or_default());
                fs::create_dir(&now).map_err(io_error("create directory", &d))?;
                self.now_at.insert(d.clone(), now);
            } else if d.starts_with(&self.root) && d != self.root {
                let now = make_hidden_dir(parent)?;
                self.hidden.push((d.clone(), now.clone()));
                self.now_at.insert(d.clone(), now);
            } else {
                match fs::create_dir(&d) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists && d.is_dir() => {
                        self.known.insert(d);
                        continue;
                    }
                    Err(e) => return Err(io_error("create directory", &d)(e)),
                }
            }
            self.made.push(d.clone());
            self.made_here.insert(d.clone());
            self.known.insert(d);
        }
        self.known.insert(dir.to_path_buf());
        Ok(())
    }

    /// Renames every hidden directory into place; returns their parents.
    fn unveil(&mut self) -> Result<Vec<PathBuf>, EmitError> {
        let mut parents = Vec::new();
        for (name, now) in self.hidden.drain(..) {
            fs::rename(&now, &name).map_err(io_error("create directory", &name))?;
            parents.extend(name.parent().map(Path::to_path_buf));
        }
        self.now_at.clear();
        Ok(parents)
    }

    /// Removes the directories this render made: hidden ones with all
    /// that is in them, the others if empty.
    fn remove_made(&self) {
        for (_, now) in &self.hidden {
            let _ = fs::remove_dir_all(now);
        }
        for d in self.made.iter().rev() {
            let _ = fs::remove_dir(d);
        }
    }
}

/// Makes a directory under a temporary name in `parent`.
fn make_hidden_dir(parent: &Path) -> Result<PathBuf, EmitError> {
    let mut n = 0u32;
    loop {
        let path = parent.join(format!("{TEMP_PREFIX}{}-{n}", std::process::id()));
        match fs::create_dir(&path) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 10_000 => n += 1,
            Err(e) => return Err(io_error("create a directory in", parent)(e)),
        }
    }
}

/// Writes `contents` as the new file `path` (in a hidden directory).
fn write_new(path: &Path, dest: &Path, contents: &[u8], fsync: bool) -> Result<(), EmitError> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(io_error("create", dest))?;
    file.write_all(contents)
        .and_then(|()| if fsync { file.sync_data() } else { Ok(()) })
        .map_err(io_error("write", dest))
}

/// Stages `contents` in a temporary file next to `dest`. The file is closed
/// once written: a render holds every staged file until the renames, and
/// one open descriptor each ran out of descriptors at 100,000 services.
fn stage(
    parent: &Path,
    dest: &Path,
    contents: &[u8],
    fsync: bool,
) -> Result<tempfile::TempPath, EmitError> {
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
        .and_then(|()| {
            if fsync {
                tmp.as_file().sync_data()
            } else {
                Ok(())
            }
        })
        .map_err(io_error("write a temporary file for", dest))?;
    Ok(tmp.into_temp_path())
}

/// Replaces `dest` by `contents` through a temporary file and a rename.
fn replace(dirs: &mut Dirs, dest: &Path, contents: &str, fsync: bool) -> Result<(), EmitError> {
    let parent = dest.parent().unwrap_or_else(|| Path::new("."));
    dirs.ensure(parent)?;
    stage(parent, dest, contents.as_bytes(), fsync)?
        .persist(dest)
        .map_err(|e| io_error("replace", dest)(e.error))?;
    Ok(())
}

/// Writes `files` (rendered for `targets`) into `dir`.
pub fn write(
    dir: &Path,
    files: &[OutFile],
    targets: &[Target],
    force: bool,
) -> Result<Written, EmitError> {
    write_with(
        dir,
        files,
        targets,
        WriteOptions {
            force,
            fsync: false,
        },
    )
}

/// Writes `files` (rendered for `targets`) into `dir`, as `options` say.
pub fn write_with(
    dir: &Path,
    files: &[OutFile],
    targets: &[Target],
    options: WriteOptions,
) -> Result<Written, EmitError> {
    let writer = Writer::open(dir, targets, options)?;
    for file in files {
        if writer.put(file.clone()).is_break() {
            break;
        }
    }
    writer.finish()
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Writes rendered files into a directory as they come, from any thread
/// ([`crate::render::render_each`]'s sink): step 1 of the module's two, per
/// file, as soon as it is rendered, so that no render holds every file.
/// [`Writer::finish`] does step 2. Dropped unfinished (a template failed,
/// a file could not be staged), it removes what it staged and the
/// directories it made: the directory is as it was.
pub struct Writer<'d> {
    dir: &'d Path,
    targets: Vec<Target>,
    options: WriteOptions,
    old: Option<Manifest>,
    /// The paths the old manifest lists.
    generated: HashSet<String>,
    state: Mutex<WriteState>,
    /// Files decided on and not yet written, with their size in bytes.
    queue: Mutex<(VecDeque<Job>, usize)>,
    /// Held by the one thread that writes the queued files: see
    /// [`Writer::put`].
    writing: Mutex<()>,
}

/// A file to create: `now` is where it is created, `dest` where it ends up.
struct Job {
    now: PathBuf,
    dest: PathBuf,
    path: String,
    contents: String,
    /// `now` is in a hidden directory: the file is written straight
    /// there; else it is staged next to `dest`.
    hidden: bool,
}

/// How many bytes of rendered files may wait for the writing thread before
/// a thread that renders more waits too.
const QUEUED_BYTES: usize = 4 << 20;

#[derive(Default)]
struct WriteState {
    dirs: Dirs,
    staged: Vec<(tempfile::TempPath, PathBuf, String)>,
    /// Files written straight into a hidden directory.
    in_hidden: Vec<String>,
    foreign: Vec<PathBuf>,
    unchanged: Vec<String>,
    files: Vec<(Target, String)>,
    error: Option<EmitError>,
    finished: bool,
}

impl<'d> Writer<'d> {
    /// Checks that `dir` can be an output directory, reads its manifest and
    /// removes a killed render's temporary files. Nothing is written yet.
    pub fn open(
        dir: &'d Path,
        targets: &[Target],
        options: WriteOptions,
    ) -> Result<Self, EmitError> {
        usable_dir(dir)?;
        let old = Manifest::read(dir)?;
        remove_leftover_temp_files(dir);
        let generated = old
            .as_ref()
            .map(|m| m.entries.iter().map(|(_, p)| p.clone()).collect())
            .unwrap_or_default();
        Ok(Writer {
            dir,
            targets: targets.to_vec(),
            options,
            old,
            generated,
            state: Mutex::new(WriteState {
                dirs: Dirs::inside(dir),
                ..WriteState::default()
            }),
            queue: Mutex::new((VecDeque::new(), 0)),
            writing: Mutex::new(()),
        })
    }

    /// Takes one rendered file: compares it with what `dir` holds and, if it
    /// differs, queues it to be staged in full next to its destination.
    /// `Break` once something failed; [`Writer::finish`] then says what.
    ///
    /// One thread at a time creates the queued files: the first to find
    /// none doing it, which writes until the queue is empty, while the
    /// others go back to rendering. Creating files in one directory takes
    /// the kernel's lock on it, and a second thread that tried too spun on
    /// that lock instead of rendering: at 10,000 services, 28% of the
    /// render's CPU time was spent so. A thread that would leave more than
    /// [`QUEUED_BYTES`] waiting writes (or waits for the writer) instead.
    pub fn put(&self, file: OutFile) -> ControlFlow<()> {
        let queued = match self.decide(file) {
            Ok(Some(job)) => {
                let mut queue = locked(&self.queue);
                queue.1 += job.contents.len();
                queue.0.push_back(job);
                queue.1
            }
            Ok(None) => 0,
            Err(e) => {
                locked(&self.state).error.get_or_insert(e);
                return ControlFlow::Break(());
            }
        };
        self.write_queued(queued > QUEUED_BYTES);
        if locked(&self.state).error.is_some() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    /// Writes what is queued, unless another thread is writing it (and
    /// `wait` is false).
    fn write_queued(&self, wait: bool) {
        loop {
            let writing = if wait {
                locked(&self.writing)
            } else {
                match self.writing.try_lock() {
                    Ok(guard) => guard,
                    Err(TryLockError::Poisoned(p)) => p.into_inner(),
                    Err(TryLockError::WouldBlock) => return,
                }
            };
            while let Some(job) = self.next_queued() {
                if let Err(e) = self.write(job) {
                    locked(&self.state).error.get_or_insert(e);
                }
            }
            drop(writing);
            // A file queued while this thread held the writing lock, by a
            // thread that therefore left it to this one.
            if locked(&self.queue).0.is_empty() {
                return;
            }
        }
    }

    fn next_queued(&self) -> Option<Job> {
        let mut queue = locked(&self.queue);
        let job = queue.0.pop_front()?;
        queue.1 -= job.contents.len();
        Some(job)
    }

    fn write(&self, job: Job) -> Result<(), EmitError> {
        if job.hidden {
            write_new(
                &job.now,
                &job.dest,
                job.contents.as_bytes(),
                self.options.fsync,
            )?;
            locked(&self.state).in_hidden.push(job.path);
            return Ok(());
        }
        let tmp = stage(
            &job.now,
            &job.dest,
            job.contents.as_bytes(),
            self.options.fsync,
        )?;
        drop(job.contents);
        locked(&self.state).staged.push((tmp, job.dest, job.path));
        Ok(())
    }

    /// What to do with one rendered file: nothing (it is there already, or
    /// a foreign file stops the render), or the file to create.
    fn decide(&self, file: OutFile) -> Result<Option<Job>, EmitError> {
        let dest = self.dir.join(&file.path);
        let fresh = dest
            .parent()
            .is_some_and(|p| locked(&self.state).dirs.fresh(p));
        let current = if fresh {
            Err(io::ErrorKind::NotFound.into())
        } else {
            fs::read(&dest)
        };
        let mut foreign = false;
        let changed = match current {
            Ok(current) if current == file.contents.as_bytes() => false,
            Ok(_) => {
                foreign = !self.options.force && !self.generated.contains(&file.path);
                true
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => true,
            // A directory, or a file where a directory of ours would go.
            Err(_) if dest.is_dir() => {
                foreign = true;
                true
            }
            Err(e) if e.kind() == io::ErrorKind::NotADirectory => {
                foreign = true;
                true
            }
            Err(e) => return Err(io_error("read", &dest)(e)),
        };
        let mut state = locked(&self.state);
        state.files.push((file.target, file.path.clone()));
        if !changed {
            state.unchanged.push(file.path);
            return Ok(None);
        }
        if foreign {
            state.foreign.push(dest.clone());
        }
        // A foreign file stops everything before a single rename; staging
        // more would be undone.
        if !state.foreign.is_empty() {
            return Ok(None);
        }
        let parent = dest.parent().unwrap_or_else(|| Path::new("."));
        state.dirs.ensure(parent)?;
        let (now, hidden) = match state.dirs.hidden_at(parent) {
            Some(inside) => (inside.join(dest.file_name().unwrap_or_default()), true),
            None => (parent.to_path_buf(), false),
        };
        Ok(Some(Job {
            now,
            dest,
            path: file.path,
            contents: file.contents,
            hidden,
        }))
    }

    /// Step 2: the manifest, the renames, the stale files, the manifest
    /// again; or the first error of step 1, with nothing renamed.
    pub fn finish(self) -> Result<Written, EmitError> {
        if locked(&self.state).error.is_none() {
            self.write_queued(true);
        }
        let mut state = locked(&self.state);
        if let Some(e) = state.error.take() {
            return Err(e);
        }
        if !state.foreign.is_empty() {
            let mut foreign = std::mem::take(&mut state.foreign);
            foreign.sort();
            return Err(EmitError::Foreign(foreign));
        }
        state.files.sort_by(|a, b| a.1.cmp(&b.1));
        state.unchanged.sort();
        state.staged.sort_by(|a, b| a.2.cmp(&b.2));
        let written = rename_into_place(&self, &mut state)?;
        state.finished = true;
        Ok(written)
    }
}

impl Drop for Writer<'_> {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        if !state.finished {
            // Temporary files first, then the (now empty) directories.
            state.staged.clear();
            state.dirs.remove_made();
        }
    }
}

/// Flushes a directory's entries to disk (a directory gone is skipped).
fn sync_dir(d: &Path) -> Result<(), EmitError> {
    match fs::File::open(d) {
        Ok(handle) => handle.sync_all().map_err(io_error("flush directory", d)),
        Err(_) => Ok(()),
    }
}

fn rename_into_place(writer: &Writer<'_>, taken: &mut WriteState) -> Result<Written, EmitError> {
    let (dir, options, targets, old) = (
        writer.dir,
        writer.options,
        &writer.targets[..],
        writer.old.as_ref(),
    );
    let mut report = Written {
        unchanged: std::mem::take(&mut taken.unchanged),
        ..Written::default()
    };
    let files = &taken.files;
    let dirs = &mut taken.dirs;
    // The manifest lists every file that may be there from now on, old and
    // new; then the renames; then the stale files go; then the manifest
    // lists exactly the new files.
    let manifest = next_manifest(old, files, targets);
    let manifest_path = dir.join(MANIFEST);
    let current_text = fs::read_to_string(&manifest_path).ok();
    let final_text = manifest.to_text();
    let stale = stale(old, files, targets);
    let mut touched: BTreeSet<PathBuf> = BTreeSet::new();
    if current_text.as_deref() != Some(final_text.as_str()) {
        let mut union = manifest.clone();
        if let Some(old) = old {
            union.entries.extend(old.entries.iter().cloned());
        }
        let union_text = union.to_text();
        let any_writes = !taken.staged.is_empty() || !taken.in_hidden.is_empty();
        if current_text.as_deref() != Some(union_text.as_str()) && any_writes {
            replace(dirs, &manifest_path, &union_text, options.fsync)?;
        }
    }
    if options.fsync {
        // A hidden directory's entries, before it is renamed into place.
        for d in dirs.now_at.values() {
            sync_dir(d)?;
        }
    }
    touched.extend(dirs.unveil()?);
    report.written.append(&mut taken.in_hidden);
    for (tmp, dest, path) in taken.staged.drain(..) {
        tmp.persist(&dest)
            .map_err(|e| io_error("replace", &dest)(e.error))?;
        if let Some(parent) = dest.parent() {
            touched.insert(parent.to_path_buf());
        }
        report.written.push(path);
    }
    for path in stale {
        let dest = dir.join(&path);
        match fs::remove_file(&dest) {
            Ok(()) => report.deleted.push(path),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error("delete", &dest)(e)),
        }
        // Empty directories that held only generated files go too.
        let mut parent = dest.parent();
        while let Some(p) = parent {
            touched.insert(p.to_path_buf());
            if p == dir || fs::remove_dir(p).is_err() {
                break;
            }
            parent = p.parent();
        }
    }
    if fs::read_to_string(&manifest_path).ok().as_deref() != Some(final_text.as_str()) {
        replace(dirs, &manifest_path, &final_text, options.fsync)?;
        touched.insert(dir.to_path_buf());
    }
    if options.fsync {
        // The renames are durable once their directories are.
        touched.extend(
            dirs.made
                .iter()
                .filter_map(|d| d.parent().map(Path::to_path_buf)),
        );
        for d in &touched {
            sync_dir(d)?;
        }
    }
    report.written.sort();
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
    /// How many rendered files were compared (the manifest not counted).
    pub checked: usize,
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
    let comparer = Comparer::open(dir)?;
    for file in files {
        if comparer.put(file.clone()).is_break() {
            break;
        }
    }
    comparer.finish(targets)
}

/// Compares rendered files with a directory as they come, from any
/// thread, keeping only the differences ([`crate::render::render_each`]'s
/// sink for `render --check`).
pub struct Comparer<'d> {
    dir: &'d Path,
    old: Option<Manifest>,
    state: Mutex<CompareState>,
}

#[derive(Default)]
struct CompareState {
    drift: Drift,
    files: Vec<(Target, String)>,
    error: Option<EmitError>,
}

impl<'d> Comparer<'d> {
    pub fn open(dir: &'d Path) -> Result<Self, EmitError> {
        if dir.is_file() {
            return Err(EmitError::NotADirectory(dir.to_path_buf()));
        }
        Ok(Comparer {
            old: Manifest::read(dir)?,
            dir,
            state: Mutex::new(CompareState::default()),
        })
    }

    /// Compares one rendered file; `Break` once one could not be read.
    pub fn put(&self, file: OutFile) -> ControlFlow<()> {
        let on_disk = self.dir.join(&file.path);
        let found = match fs::read(&on_disk) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => {
                locked(&self.state)
                    .error
                    .get_or_insert(io_error("read", &on_disk)(e));
                return ControlFlow::Break(());
            }
        };
        let changed = found.as_ref().and_then(|bytes| {
            (bytes.as_slice() != file.contents.as_bytes()).then(|| {
                let shown = on_disk.display().to_string();
                diff(&shown, &String::from_utf8_lossy(bytes), &file.contents)
            })
        });
        let mut state = locked(&self.state);
        match (found, changed) {
            (None, _) => state.drift.missing.push(file.path.clone()),
            (Some(_), Some(diff)) => state.drift.changed.push((file.path.clone(), diff)),
            (Some(_), None) => {}
        }
        state.files.push((file.target, file.path));
        ControlFlow::Continue(())
    }

    /// The drift of every file taken, then of the manifest and of the
    /// files no longer generated; or the first error.
    pub fn finish(self, targets: &[Target]) -> Result<Drift, EmitError> {
        let CompareState {
            mut drift,
            mut files,
            error,
        } = self
            .state
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(e) = error {
            return Err(e);
        }
        files.sort_by(|a, b| a.1.cmp(&b.1));
        drift.changed.sort_by(|a, b| a.0.cmp(&b.0));
        drift.missing.sort();
        drift.checked = files.len();
        let manifest = next_manifest(self.old.as_ref(), &files, targets).to_text();
        let on_disk = self.dir.join(MANIFEST);
        match fs::read(&on_disk) {
            Ok(bytes) if bytes == manifest.as_bytes() => {}
            Ok(bytes) => {
                let shown = on_disk.display().to_string();
                let diff = diff(&shown, &String::from_utf8_lossy(&bytes), &manifest);
                drift.changed.push((MANIFEST.to_owned(), diff));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                drift.missing.push(MANIFEST.to_owned());
            }
            Err(e) => return Err(io_error("read", &on_disk)(e)),
        }
        drift.extra = stale(self.old.as_ref(), &files, targets)
            .into_iter()
            .filter(|p| self.dir.join(p).exists())
            .collect();
        Ok(drift)
    }
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

    /// Files put from several threads at once, some larger than what may
    /// wait for the writing thread, are all written, each once.
    #[test]
    fn files_put_from_several_threads_are_all_written() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let writer = Writer::open(&out, &[Target::Compose], WriteOptions::default()).unwrap();
        let big = "x".repeat(QUEUED_BYTES / 3);
        std::thread::scope(|scope| {
            for t in 0..4 {
                let (writer, big) = (&writer, &big);
                scope.spawn(move || {
                    for i in 0..50 {
                        let body = if i % 10 == 0 {
                            big.clone()
                        } else {
                            format!("{t} {i}\n")
                        };
                        let path = format!("kubernetes/{t}-{i}.yaml");
                        assert!(writer.put(file(&path, &body)).is_continue());
                    }
                });
            }
        });
        let written = writer.finish().unwrap();
        assert_eq!(written.written.len(), 200);
        for t in 0..4 {
            for i in 0..50 {
                let got = fs::read_to_string(out.join(format!("kubernetes/{t}-{i}.yaml"))).unwrap();
                let want = if i % 10 == 0 {
                    big.clone()
                } else {
                    format!("{t} {i}\n")
                };
                assert!(got == want, "kubernetes/{t}-{i}.yaml");
            }
        }
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

    /// Every name in `dir` and below it, relative to `dir`.
    fn names(dir: &Path) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in fs::read_dir(&d).unwrap().flatten() {
                let path = entry.path();
                out.push(path.strip_prefix(dir).unwrap().display().to_string());
                if path.is_dir() {
                    stack.push(path);
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn a_new_directory_is_written_hidden_and_renamed_into_place_whole() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let writer = Writer::open(&out, &[Target::Compose], WriteOptions::default()).unwrap();
        for f in [
            file("compose.yaml", "a\n"),
            file("k8s/one/x.yaml", "x\n"),
            file("k8s/y.yaml", "y\n"),
        ] {
            assert!(writer.put(f).is_continue());
        }
        // Staged: compose.yaml in a temporary file, the new tree k8s/
        // under a temporary name. Nothing has its own name yet.
        let staged = names(&out);
        assert!(
            staged.iter().all(|n| n.starts_with(TEMP_PREFIX)),
            "{staged:?}"
        );
        assert_eq!(staged.iter().filter(|n| !n.contains('/')).count(), 2);
        let written = writer.finish().unwrap();
        assert_eq!(
            written.written,
            ["compose.yaml", "k8s/one/x.yaml", "k8s/y.yaml"]
        );
        assert_eq!(
            names(&out),
            [
                MANIFEST,
                "compose.yaml",
                "k8s",
                "k8s/one",
                "k8s/one/x.yaml",
                "k8s/y.yaml"
            ]
        );
        assert_eq!(
            fs::read_to_string(out.join("k8s/one/x.yaml")).unwrap(),
            "x\n"
        );

        // A new directory beside existing ones, with --fsync.
        let options = WriteOptions {
            fsync: true,
            ..WriteOptions::default()
        };
        let writer = Writer::open(&out, &[Target::Compose], options).unwrap();
        for f in [file("k8s/two/z.yaml", "z\n"), file("k8s/y.yaml", "y2\n")] {
            assert!(writer.put(f).is_continue());
        }
        assert!(!out.join("k8s/two").exists());
        writer.finish().unwrap();
        assert_eq!(
            fs::read_to_string(out.join("k8s/two/z.yaml")).unwrap(),
            "z\n"
        );
        assert_eq!(fs::read_to_string(out.join("k8s/y.yaml")).unwrap(), "y2\n");
        assert!(names(&out).iter().all(|n| !n.contains(TEMP_PREFIX)));
    }

    #[test]
    fn a_render_that_stops_takes_its_hidden_directories_away() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        fs::create_dir(&out).unwrap();
        let writer = Writer::open(&out, &[Target::Compose], WriteOptions::default()).unwrap();
        assert!(writer.put(file("k8s/one/x.yaml", "x\n")).is_continue());
        assert!(!names(&out).is_empty());
        drop(writer);
        assert!(names(&out).is_empty(), "{:?}", names(&out));

        // A killed render's hidden directory goes with the next render.
        let left = out.join(format!("{TEMP_PREFIX}1-0"));
        fs::create_dir_all(left.join("one")).unwrap();
        fs::write(left.join("one/x.yaml"), "half").unwrap();
        write(&out, &[file("a.yaml", "a\n")], &[Target::Compose], false).unwrap();
        assert_eq!(names(&out), [MANIFEST, "a.yaml"]);
    }
}

//! The render cache: knowing, without rendering, that an output directory
//! already holds exactly what a render would write.
//!
//! `render` and `render --check` of a large platform spend seconds in the
//! templates to find, most of the time, that nothing changed (a pre-commit
//! hook, a second CI step). After a render (or a clean `--check`) whose
//! spec had no diagnostic at all, platgen records two fingerprints in its
//! cache directory, keyed by the output directory's absolute path:
//!
//! - the *inputs*: this platgen (its version, its commit, and the size,
//!   modification time and inode of its executable, so that a rebuilt
//!   binary never trusts an entry of the old one), the spec's name as the
//!   file headers show it, the environment, and every byte of the spec;
//! - the *output*: the directory's manifest, byte for byte, and every file
//!   it lists, path and contents.
//!
//! A later render of the same inputs into a directory whose output still
//! has that fingerprint has nothing to do. Anything else (another spec
//! byte, another environment, an edited, missing or added generated file,
//! an edited manifest, another binary) misses, and the render runs in full,
//! so a miss is never wrong, only slower. Only renders of every target
//! with the built-in templates and no `--phase` are cached: the inputs are
//! then exactly the ones above. The fingerprints are 64-bit (SipHash, and
//! foldhash for the bytes of the spec and of each file: a tenth of the
//! instructions over the megabytes of a large render); they guard against
//! accidents (a stale directory), not against someone who crafts a
//! collision.
//!
//! The cache lives in `$PLATGEN_CACHE_DIR`, else `$XDG_CACHE_HOME/platgen`,
//! else `$HOME/.cache/platgen`; `PLATGEN_NO_CACHE=1` turns it off. Nothing
//! is written into the output directory: a committed output stays exactly
//! what the templates make. Any failure to read or write the cache is a
//! miss, never an error.

use crate::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use crate::emit::{MANIFEST, Manifest};

const FORMAT: &str = "platgen render cache 3";

/// What a cached render depends on, besides the output directory.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The spec's name as the generated files' header names it.
    pub spec_name: &'a str,
    /// `--env`, if given.
    pub env: Option<&'a str>,
    /// The spec's bytes.
    pub spec: &'a [u8],
}

/// The cache for one output directory.
#[derive(Debug)]
pub struct Cache {
    file: PathBuf,
    inputs: u64,
    /// The files this render wrote or compared, by path.
    rendered: Digests,
}

/// The directory the cache lives in, unless it is turned off, from the
/// environment `var` reads.
fn cache_dir(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> Option<PathBuf> {
    if var("PLATGEN_NO_CACHE").is_some_and(|v| !v.is_empty() && v != "0") {
        return None;
    }
    let from = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    from("PLATGEN_CACHE_DIR")
        .or_else(|| from("XDG_CACHE_HOME").map(|d| d.join("platgen")))
        .or_else(|| from("HOME").map(|d| d.join(".cache/platgen")))
}

/// This very executable: a rebuilt or reinstalled binary is a new file.
fn executable(hasher: &mut DefaultHasher) -> Option<()> {
    let meta = std::fs::metadata(std::env::current_exe().ok()?).ok()?;
    meta.len().hash(hasher);
    meta.modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .hash(hasher);
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        (meta.dev(), meta.ino()).hash(hasher);
    }
    Some(())
}

impl Cache {
    /// The cache of renders of `inputs` into `out`; `None` when the cache
    /// is off or this binary cannot be told apart from another.
    pub fn open(out: &Path, inputs: Inputs<'_>) -> Option<Cache> {
        Self::open_in(&cache_dir(|name| std::env::var_os(name))?, out, inputs)
    }

    /// The same, with the cache in `dir`.
    pub fn open_in(dir: &Path, out: &Path, inputs: Inputs<'_>) -> Option<Cache> {
        let absolute = std::path::absolute(out).ok()?;
        let mut hasher = DefaultHasher::new();
        FORMAT.hash(&mut hasher);
        env!("CARGO_PKG_VERSION").hash(&mut hasher);
        option_env!("PLATGEN_COMMIT").hash(&mut hasher);
        executable(&mut hasher)?;
        inputs.spec_name.hash(&mut hasher);
        inputs.env.hash(&mut hasher);
        digest(inputs.spec).hash(&mut hasher);
        let mut key = DefaultHasher::new();
        absolute.hash(&mut key);
        Some(Cache {
            file: dir.join(format!("{:016x}", key.finish())),
            inputs: hasher.finish(),
            rendered: Digests::default(),
        })
    }

    /// Whether `out` holds exactly what the last render of these inputs
    /// wrote there; the generated files if so.
    pub fn holds(&self, out: &Path) -> Option<Vec<String>> {
        let text = std::fs::read_to_string(&self.file).ok()?;
        let mut lines = text.lines();
        if lines.next()? != FORMAT {
            return None;
        }
        let (inputs, output) = lines.next()?.split_once(' ')?;
        if u64::from_str_radix(inputs, 16).ok()? != self.inputs {
            return None;
        }
        let (fingerprint, files) = output_fingerprint(out, &HashMap::default())?;
        (u64::from_str_radix(output, 16).ok()? == fingerprint).then_some(files)
    }

    /// Notes that the render put `contents` at `path` (relative to the
    /// output directory), so that [`Cache::record`] need not read it back
    /// (10,000 services: 100 MB). Any thread may call it.
    pub fn add(&self, path: &str, contents: &[u8]) {
        self.rendered.add(path, contents);
    }

    /// Records that `out` now holds what these inputs render: the files
    /// [`Cache::add`] was told of by their digests, any other file the
    /// manifest lists as read. Best effort: a cache that cannot be written
    /// is only a slower next render.
    pub fn record(&self, out: &Path) {
        let known = self
            .rendered
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let Some((fingerprint, _)) = output_fingerprint(out, &known) else {
            return;
        };
        let text = format!("{FORMAT}\n{:016x} {fingerprint:016x}\n", self.inputs);
        let Some(dir) = self.file.parent() else {
            return;
        };
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
        if let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir) {
            use std::io::Write as _;
            if tmp.write_all(text.as_bytes()).is_ok() {
                let _ = tmp.persist(&self.file);
            }
        }
    }
}

/// The digest of one file's contents: foldhash with a fixed seed, a tenth
/// of SipHash's instructions (a 1,000-service render hashes 7 MB: 18 M
/// instructions with SipHash).
pub fn digest(contents: &[u8]) -> u64 {
    use std::hash::BuildHasher as _;
    let mut hasher = foldhash::quality::FixedState::default().build_hasher();
    hasher.write_usize(contents.len());
    hasher.write(contents);
    hasher.finish()
}

/// The digests of files as a render hands them out, by path.
#[derive(Debug, Default)]
struct Digests(Mutex<HashMap<String, u64>>);

impl Digests {
    fn add(&self, path: &str, contents: &[u8]) {
        let digest = digest(contents);
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(path.to_owned(), digest);
    }
}

/// The fingerprint of a directory's generated output: its manifest, then
/// each file the manifest lists, path and digest (from `known`, else read);
/// with their paths. `None` if any of them cannot be read.
fn output_fingerprint(out: &Path, known: &HashMap<String, u64>) -> Option<(u64, Vec<String>)> {
    let manifest = std::fs::read(out.join(MANIFEST)).ok()?;
    let entries = Manifest::read(out).ok()??.entries;
    let mut hasher = DefaultHasher::new();
    manifest.hash(&mut hasher);
    for (_, path) in &entries {
        path.hash(&mut hasher);
        match known.get(path) {
            Some(d) => d.hash(&mut hasher),
            None => digest(&std::fs::read(out.join(path)).ok()?).hash(&mut hasher),
        }
    }
    Some((
        hasher.finish(),
        entries.into_iter().map(|(_, p)| p).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(spec: &[u8]) -> Inputs<'_> {
        Inputs {
            spec_name: "platform.yaml",
            env: None,
            spec,
        }
    }

    fn with_cache_dir(f: impl FnOnce(&Path, &Path)) {
        let dir = tempfile::tempdir().unwrap();
        f(dir.path(), &dir.path().join("cache"));
    }

    fn write_output(out: &Path, files: &[(&str, &str)]) {
        std::fs::create_dir_all(out).unwrap();
        let mut manifest = String::from("# test\n");
        for (path, contents) in files {
            manifest.push_str("compose ");
            manifest.push_str(path);
            manifest.push('\n');
            std::fs::write(out.join(path), contents).unwrap();
        }
        std::fs::write(out.join(MANIFEST), manifest).unwrap();
    }

    #[test]
    fn a_recorded_output_is_held_until_anything_changes() {
        with_cache_dir(|root, cache_dir| {
            let out = root.join("out");
            write_output(&out, &[("a.yaml", "a: 1\n"), ("b.yaml", "b: 2\n")]);
            let cache = Cache::open_in(cache_dir, &out, inputs(b"spec 1")).unwrap();
            assert_eq!(cache.holds(&out), None, "nothing recorded yet");
            cache.record(&out);
            assert_eq!(cache.holds(&out).map(|f| f.len()), Some(2));

            // Other inputs: another spec byte, another environment.
            assert_eq!(
                Cache::open_in(cache_dir, &out, inputs(b"spec 2"))
                    .unwrap()
                    .holds(&out),
                None
            );
            let prod = Inputs {
                env: Some("prod"),
                ..inputs(b"spec 1")
            };
            assert_eq!(
                Cache::open_in(cache_dir, &out, prod).unwrap().holds(&out),
                None
            );

            // Another output: an edited file, an edited manifest, a
            // missing file.
            std::fs::write(out.join("a.yaml"), "a: 2\n").unwrap();
            assert_eq!(cache.holds(&out), None);
            std::fs::write(out.join("a.yaml"), "a: 1\n").unwrap();
            assert_eq!(cache.holds(&out).map(|f| f.len()), Some(2));
            let manifest = std::fs::read_to_string(out.join(MANIFEST)).unwrap();
            std::fs::write(out.join(MANIFEST), manifest.replace("# test", "# edited")).unwrap();
            assert_eq!(cache.holds(&out), None);
            std::fs::write(out.join(MANIFEST), &manifest).unwrap();
            std::fs::remove_file(out.join("b.yaml")).unwrap();
            assert_eq!(cache.holds(&out), None);

            // Another directory with the same output has no entry.
            let other = root.join("other");
            write_output(&other, &[("a.yaml", "a: 1\n"), ("b.yaml", "b: 2\n")]);
            assert_eq!(
                Cache::open_in(cache_dir, &other, inputs(b"spec 1"))
                    .unwrap()
                    .holds(&other),
                None
            );

            write_output(&out, &[("a.yaml", "a: 1\n"), ("b.yaml", "b: 2\n")]);
            assert_eq!(cache.holds(&out).map(|f| f.len()), Some(2));
        });
    }

    #[test]
    fn digests_of_what_was_rendered_record_the_same_fingerprint_as_reading_it() {
        with_cache_dir(|root, cache_dir| {
            let out = root.join("out");
            write_output(&out, &[("a.yaml", "a: 1\n"), ("b.yaml", "b: 2\n")]);
            let cache = Cache::open_in(cache_dir, &out, inputs(b"spec 1")).unwrap();
            cache.add("a.yaml", b"a: 1\n");
            // b.yaml's digest is not known: it is read.
            cache.record(&out);
            assert_eq!(cache.holds(&out).map(|f| f.len()), Some(2));

            // A digest that is not what the directory holds records an
            // entry the directory does not match: `holds` reads the files.
            let wrong = Cache::open_in(cache_dir, &out, inputs(b"spec 1")).unwrap();
            wrong.add("a.yaml", b"a: 2\n");
            wrong.record(&out);
            assert_eq!(cache.holds(&out), None);
        });
    }

    #[test]
    fn the_cache_directory_comes_from_the_environment_and_can_be_turned_off() {
        type Env = &'static [(&'static str, &'static str)];
        let cases: [(Env, Option<&str>); 6] = [
            (&[("HOME", "/home/u")], Some("/home/u/.cache/platgen")),
            (
                &[("HOME", "/home/u"), ("XDG_CACHE_HOME", "/c")],
                Some("/c/platgen"),
            ),
            (
                &[("XDG_CACHE_HOME", "/c"), ("PLATGEN_CACHE_DIR", "/p")],
                Some("/p"),
            ),
            (
                &[("PLATGEN_CACHE_DIR", "/p"), ("PLATGEN_NO_CACHE", "1")],
                None,
            ),
            (
                &[("PLATGEN_CACHE_DIR", "/p"), ("PLATGEN_NO_CACHE", "0")],
                Some("/p"),
            ),
            (&[], None),
        ];
        for (env, want) in cases {
            let var = |name: &str| {
                env.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| std::ffi::OsString::from(v))
            };
            assert_eq!(cache_dir(var), want.map(PathBuf::from), "{env:?}");
        }
    }
}

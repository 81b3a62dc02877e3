//! Rendering: the validated [`Platform`] in, the files that run it out.
//!
//! Each target has a module that turns the platform into a *render context*
//! (plain data, every decision already made and unit-tested in Rust) and one
//! or more minijinja templates that only lay that data out. Templates are
//! embedded in the binary and can be overridden file by file
//! (`--templates DIR`); `templates/README.md` documents what each receives.

pub mod alertmanager;
pub mod compose;
pub mod engine;
pub mod kong;
pub mod kubernetes;
pub mod network_policy;
pub mod nginx;
pub mod prometheus;
pub mod traffic;
pub mod wiring;

use std::fmt;
use std::ops::ControlFlow;

use crate::model::Platform;

pub use engine::{Engine, TemplateError};

/// One generated file: its path relative to the output directory (with `/`)
/// and its full contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutFile {
    pub path: String,
    pub contents: String,
    /// The target that produced it.
    pub target: Target,
}

/// What platgen can render.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// `compose.yaml` for docker-compose.
    Compose,
    /// `kubernetes/`: manifests and a kustomization.
    Kubernetes,
    /// `nginx/nginx.conf` for the proxy role.
    Nginx,
    /// `prometheus/` for the monitoring role, and Grafana's datasource.
    Prometheus,
    /// `kong/kong.yml` for the gateway role.
    Kong,
}

impl Target {
    pub const ALL: &'static [Target] = &[
        Target::Compose,
        Target::Kubernetes,
        Target::Nginx,
        Target::Prometheus,
        Target::Kong,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Target::Compose => "compose",
            Target::Kubernetes => "kubernetes",
            Target::Nginx => "nginx",
            Target::Prometheus => "prometheus",
            Target::Kong => "kong",
        }
    }

    pub fn from_name(name: &str) -> Option<Target> {
        Self::ALL.iter().copied().find(|t| t.name() == name)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What to render.
#[derive(Debug, Clone)]
pub struct Options {
    /// The spec's file name as the header of every file names it.
    pub spec_name: String,
    /// The targets to render, in [`Target::ALL`] order.
    pub targets: Vec<Target>,
}

/// Why rendering failed.
#[derive(Debug)]
pub enum RenderError {
    /// A template failed: its name, line and what went wrong.
    Template(TemplateError),
    /// A template rendered YAML that does not read back (an overridden
    /// template, most likely): the file, the line, and why.
    InvalidYaml {
        path: String,
        line: usize,
        message: String,
    },
    /// The sink given to [`render_each`] stopped the render; it holds the
    /// reason.
    Stopped,
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RenderError::Template(e) => e.fmt(f),
            RenderError::InvalidYaml {
                path,
                line,
                message,
            } => write!(
                f,
                "the rendered {path} is not valid YAML (line {line}: {message}); nothing was written. Check the template that renders it"
            ),
            RenderError::Stopped => f.write_str("rendering stopped: a file could not be taken"),
        }
    }
}

impl std::error::Error for RenderError {}

impl From<TemplateError> for RenderError {
    fn from(e: TemplateError) -> Self {
        RenderError::Template(e)
    }
}

/// `(side(), items.iter().try_for_each(f))`, on as many threads as the
/// process may use cores (its CPU affinity: `taskset -c 0` makes it one).
/// The calling thread runs `side` first and then joins the others on the
/// items; the other threads start on the items at once. Each thread takes
/// the next item not yet taken, so that a thread that drew cheap items
/// takes more of them: split into a run of consecutive items each, a
/// 1,000-service render kept one thread busy 24% longer than the other
/// (its runs held the costlier services). The error returned is that of
/// the first failing item, as on one thread: items are taken in order, and
/// no thread takes an item after one that has failed.
pub(crate) fn parallel_beside<T: Sync, E: Send, R>(
    items: &[T],
    f: impl Fn(&T) -> Result<(), E> + Sync,
    side: impl FnOnce() -> R,
) -> (R, Result<(), E>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    if threads == 1 || items.is_empty() {
        let r = side();
        return (r, items.iter().try_for_each(f));
    }
    let next = AtomicUsize::new(0);
    let first_failed = AtomicUsize::new(usize::MAX);
    // The first failure this thread met: (item, error).
    let work = || -> Option<(usize, E)> {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= items.len() || first_failed.load(Ordering::Relaxed) < i {
                return None;
            }
            if let Err(e) = f(&items[i]) {
                first_failed.fetch_min(i, Ordering::Relaxed);
                return Some((i, e));
            }
        }
    };
    let (r, failed) = std::thread::scope(|scope| {
        let others: Vec<_> = (1..threads.min(items.len()))
            .map(|_| scope.spawn(work))
            .collect();
        let r = side();
        let mut failed = vec![work()];
        for other in others {
            failed.push(
                other
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e)),
            );
        }
        (r, failed)
    });
    let first = failed.into_iter().flatten().min_by_key(|(i, _)| *i);
    (r, first.map_or(Ok(()), |(_, e)| Err(e)))
}

/// The comment every generated file starts with.
pub fn header(spec_name: &str) -> String {
    format!("# Generated by platgen from {spec_name}; do not edit.\n")
}

/// Renders every selected target. Files come back sorted by path, each with
/// the header and exactly one trailing newline.
pub fn render(
    platform: &Platform,
    engine: &Engine,
    options: &Options,
) -> Result<Vec<OutFile>, RenderError> {
    let files = std::sync::Mutex::new(Vec::new());
    render_each(platform, engine, options, &|file| {
        files
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(file);
        ControlFlow::Continue(())
    })?;
    let mut files = files
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// Where [`render_each`] hands each file as soon as it is finished, from
/// any of its threads, in no particular order. `Break` stops the render
/// (with [`RenderError::Stopped`]); the sink keeps its own reason.
pub type Sink<'a> = dyn Fn(OutFile) -> ControlFlow<()> + Sync + 'a;

/// Renders every selected target, handing each finished file (header
/// first, one trailing newline) to `sink` at once instead of holding them
/// all: at 10,000 services the rendered files were 74 MB of the render's
/// peak memory, and writing each as it is made keeps both cores busy.
pub fn render_each(
    platform: &Platform,
    engine: &Engine,
    options: &Options,
    sink: &Sink<'_>,
) -> Result<(), RenderError> {
    // Re-reading every generated YAML file was half of a large render. The
    // built-in templates write every value through the `yaml` filter and are
    // tested (debug builds, and so the tests, still read back everything);
    // a user's template can write anything, so with overrides every YAML
    // file is read back.
    let read_back = engine.has_overrides() || cfg!(debug_assertions);
    let header = header(&options.spec_name);
    // The configs under `kubernetes/config/` that are another target's
    // files byte for byte are rendered once and handed on under both
    // paths (see [`SHARED`]); that target then renders only the rest.
    let copied = |path: &str| {
        SHARED
            .iter()
            .any(|c| c.path == path && c.copied(engine, options))
    };
    let deliver = |target: Target, path: String, body: String| -> Result<(), RenderError> {
        let contents = finish(&header, body);
        let yaml = std::path::Path::new(&path)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
            || path.ends_with(alertmanager::FILE_NAME);
        if yaml && read_back {
            crate::spec::yaml::check_generated(&contents).map_err(|(line, message)| {
                RenderError::InvalidYaml {
                    path: path.clone(),
                    line,
                    message,
                }
            })?;
        }
        deliver_copy(&path, &contents, engine, options, sink)?;
        match sink(OutFile {
            path,
            contents,
            target,
        }) {
            ControlFlow::Continue(()) => Ok(()),
            ControlFlow::Break(()) => Err(RenderError::Stopped),
        }
    };
    // Every selected target but Kubernetes, in order, up to the first
    // failure and the target it failed in.
    let others = || -> Result<(), (Target, RenderError)> {
        for &target in Target::ALL {
            if !options.targets.contains(&target) {
                continue;
            }
            let rendered = match target {
                Target::Kubernetes => continue,
                Target::Compose => compose::render(platform, engine),
                Target::Nginx => nginx::render(platform, engine),
                Target::Prometheus => {
                    let parts = prometheus::Parts {
                        alerts_and_datasources: !copied("prometheus/alerts.yml"),
                        alertmanager: !copied("alertmanager/alertmanager.cfg"),
                    };
                    prometheus::render_parts(platform, engine, nginx::Flavour::Compose, parts)
                }
                // Every file of the gateway is a copy.
                Target::Kong if copied("kong/kong.yml") => continue,
                Target::Kong => kong::render(platform, engine),
            };
            for (path, body) in rendered.map_err(|e| (target, e.into()))? {
                deliver(target, path, body).map_err(|e| (target, e))?;
            }
            // This target's context and large buffers.
            crate::memory::release_freed();
        }
        Ok(())
    };
    // The per-service manifests are most of the work and independent of
    // each other: other threads start on them at once while this one
    // renders the other targets (the thread that holds the memory the
    // checks freed, which compose's large file then reuses), then joins
    // them. The first failure, in target order, is the one returned.
    let mut beside = None;
    let kubernetes = if options.targets.contains(&Target::Kubernetes) {
        let put = |path: String, body: String| deliver(Target::Kubernetes, path, body);
        kubernetes::render_each(platform, engine, &put, |services, per_service, first| {
            let ((first, others), manifests) =
                parallel_beside(services, |s| per_service(s), || (first(), others()));
            beside = Some(others);
            first.and(manifests)
        })
    } else {
        Ok(())
    };
    match (beside.unwrap_or_else(others), kubernetes) {
        (Err((Target::Compose, e)), _) | (_, Err(e)) | (Err((_, e)), Ok(())) => Err(e),
        (Ok(()), Ok(())) => Ok(()),
    }
}

/// A file of `kubernetes/config/` that is, byte for byte, `path` of
/// `target`.
struct SharedConfig {
    config: &'static str,
    path: &'static str,
    target: Target,
    /// Only with the built-in templates: a user's template may write
    /// something else for each flavour.
    builtin_only: bool,
}

/// The configs both the Kubernetes target and their own target write. A
/// template whose context has no `flavour` renders the same file twice
/// (Kong's, Alertmanager's); the built-in `alerts.yml.j2` and
/// `datasources.yml.j2` read nothing that differs between the flavours
/// (tested). The Prometheus target's `render_parts` leaves out exactly
/// these.
const SHARED: &[SharedConfig] = &[
    SharedConfig {
        config: "kubernetes/config/kong.yml",
        path: "kong/kong.yml",
        target: Target::Kong,
        builtin_only: false,
    },
    SharedConfig {
        config: "kubernetes/config/kong-credentials.sh",
        path: "kong/credentials.sh",
        target: Target::Kong,
        builtin_only: false,
    },
    SharedConfig {
        config: "kubernetes/config/alertmanager.cfg",
        path: "alertmanager/alertmanager.cfg",
        target: Target::Prometheus,
        builtin_only: false,
    },
    SharedConfig {
        config: "kubernetes/config/alerts.yml",
        path: "prometheus/alerts.yml",
        target: Target::Prometheus,
        builtin_only: true,
    },
    SharedConfig {
        config: "kubernetes/config/datasources.yml",
        path: "grafana/datasources.yml",
        target: Target::Prometheus,
        builtin_only: true,
    },
];

impl SharedConfig {
    /// Whether this render hands the config on as the other target's file
    /// instead of that target rendering it again.
    fn copied(&self, engine: &Engine, options: &Options) -> bool {
        options.targets.contains(&Target::Kubernetes)
            && options.targets.contains(&self.target)
            && !(self.builtin_only && engine.has_overrides())
    }
}

/// Hands `sink` the copy of `path` (a finished file) that another
/// selected target writes too, if it is one of [`SHARED`].
fn deliver_copy(
    path: &str,
    contents: &str,
    engine: &Engine,
    options: &Options,
    sink: &Sink<'_>,
) -> Result<(), RenderError> {
    let shared = SHARED
        .iter()
        .find(|c| c.config == path && c.copied(engine, options));
    match shared.map(|c| {
        sink(OutFile {
            path: c.path.to_owned(),
            contents: contents.to_owned(),
            target: c.target,
        })
    }) {
        Some(ControlFlow::Break(())) => Err(RenderError::Stopped),
        _ => Ok(()),
    }
}

/// The header, then the body with trailing blank lines trimmed and one final
/// newline. Done in the body's own buffer, trimmed to fit: a large render
/// holds every file until it is written, and a copy of each (or the slack
/// a growing buffer keeps) was a third of its peak memory.
fn finish(header: &str, mut body: String) -> String {
    let end = body.trim_end().len();
    body.truncate(end);
    let start = body.len() - body.trim_start_matches('\n').len();
    body.replace_range(..start, header);
    body.push('\n');
    body.shrink_to_fit();
    body
}

#[cfg(test)]
mod tests {
    #[test]
    fn finish_puts_the_header_first_and_one_newline_last() {
        assert_eq!(
            super::finish("# h\n", "\n\na: 1\n\n  \n".into()),
            "# h\na: 1\n"
        );
        assert_eq!(super::finish("# h\n", "a: 1".into()), "# h\na: 1\n");
        assert_eq!(super::finish("# h\n", String::new()), "# h\n\n");
    }

    #[test]
    fn parallel_beside_visits_every_item_once_and_runs_the_side_once() {
        for n in [0, 1, 7, 8, 17, 1000] {
            let items: Vec<usize> = (0..n).collect();
            let seen = std::sync::Mutex::new(Vec::new());
            let sides = std::sync::atomic::AtomicUsize::new(0);
            let (side, all) = super::parallel_beside(
                &items,
                |i| {
                    seen.lock().unwrap().push(*i);
                    Ok::<(), ()>(())
                },
                || sides.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + n,
            );
            assert_eq!((side, all), (n, Ok(())));
            assert_eq!(sides.into_inner(), 1);
            let mut seen = seen.into_inner().unwrap();
            seen.sort_unstable();
            assert_eq!(seen, items);
        }
    }

    #[test]
    fn parallel_beside_returns_the_first_failing_item() {
        let items: Vec<usize> = (0..1000).collect();
        for failing in [[3, 900], [600, 601], [999, 999]] {
            let ((), got) = super::parallel_beside(
                &items,
                |i| if failing.contains(i) { Err(*i) } else { Ok(()) },
                || (),
            );
            assert_eq!(got, Err(failing[0]));
        }
    }
}

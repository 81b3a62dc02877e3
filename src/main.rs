//! The `platgen` binary: parse arguments, call the library, print, and map
//! the result to an exit status. Everything else is in the library.

mod cli;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, Result};
use clap::{CommandFactory, Parser};

use cli::{
    CheckArgs, Cli, Color, Command, DataFormat, DocsArgs, Format, GraphArgs, GraphFormat, InitArgs,
    ManArgs, PortsArgs, ProtocolArg, RenderArgs, ReportArgs, SpecArg, TargetArg, TemplatesArgs,
    Verbosity,
};
use platgen::check::{self, Outcome};
use platgen::diag::{self, Counts};
use platgen::model::Platform;
use platgen::ports::PortMap;
use platgen::render::{self, Engine, Target};
use platgen::source::SourceFile;
use platgen::spec::Protocol;
use platgen::{docs, emit, graph, init, scaffold, suggest};

/// Exit statuses, as documented in `--help`.
const EXIT_PROBLEMS: u8 = 1;
const EXIT_USAGE: u8 = 2;

/// A render allocates and frees a value for nearly every byte it writes
/// (template values, context maps, strings); with the system allocator
/// malloc and free were a quarter of a 1,000-service render's
/// instructions. mimalloc 2 (not 3: 3 kept 128 MiB resident at 10,000
/// services where 2 keeps 97) makes that render 18% fewer instructions
/// (BENCHMARKS.md); see [`platgen::memory::Allocator`] for how it is called.
#[global_allocator]
static ALLOCATOR: platgen::memory::Allocator = platgen::memory::Allocator;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            let _ = std::io::stdout().flush();
            eprintln!("platgen: error: {error:#}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let v = cli.verbosity;
    match cli.command {
        Command::Check(args) => run_check(&args, v),
        Command::Render(args) => run_render(&args, v),
        Command::Ports(args) => run_ports(&args, v),
        Command::Graph(args) => run_graph(&args, v),
        Command::Docs(args) => run_docs(&args, v),
        Command::Init(args) => run_init(&args, v),
        Command::Templates(args) => run_templates(&args, v),
        Command::Man(args) => run_man(&args, v),
        Command::Schema => {
            let schema = serde_json::to_string_pretty(&platgen::spec::json_schema())?;
            print_out(&format!("{schema}\n"))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Rules => {
            let mut out = String::new();
            for rule in check::all_rules() {
                let _ = writeln!(
                    out,
                    "{}  {:<22} {:<8} {}",
                    rule.code,
                    rule.name,
                    rule.severity.as_str(),
                    rule.summary()
                );
            }
            print_out(&out)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain { rule } => {
            let Some(found) = check::find_rule(&rule) else {
                let names: Vec<&str> = check::all_rules().map(|r| r.name).collect();
                let hint = suggest::did_you_mean(&rule, names.iter().copied())
                    .unwrap_or_else(|| "`platgen rules` lists them".to_owned());
                anyhow::bail!("no rule `{rule}`; {hint}");
            };
            print_out(&format!(
                "{} {} ({})\n\n{}",
                found.code,
                found.name,
                found.severity.as_str(),
                found.doc()
            ))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "platgen", &mut out);
            let script = String::from_utf8_lossy(&out).into_owned();
            print_out(&platgen::completions::with_rule_names(
                &shell.to_string(),
                script,
            ))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Writes to standard output; a closed pipe (`platgen rules | head`) is not an error.
fn print_out(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// `n word` or `n words`.
fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Reads a spec file (or standard input for `-`) as bytes. A directory
/// stands for the `platform.yaml` in it. A missing `platform.yaml` most
/// often means a project without one yet, so the error says how to start.
pub fn read_spec(path: &Path) -> Result<(String, Vec<u8>)> {
    if path.is_dir() {
        return read_spec(&path.join("platform.yaml"));
    }
    if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("cannot read the spec from standard input")?;
        return Ok(("<stdin>".to_owned(), bytes));
    }
    match std::fs::read(path) {
        Ok(bytes) => Ok((path.display().to_string(), bytes)),
        Err(e)
            if e.kind() == std::io::ErrorKind::NotFound
                && path.file_name().is_some_and(|n| n == "platform.yaml") =>
        {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(String::new, |p| format!(" {}", p.display()));
            anyhow::bail!(
                "cannot read {}: {e}\n  hint: no platform here yet? `platgen init{dir}` writes a starter platform.yaml; or name the spec: `platgen check path/to/platform.yaml`",
                path.display()
            )
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn use_color(color: Color, terminal: bool) -> bool {
    match color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}

/// Whether the outcome should fail the command.
fn fails(outcome: &Outcome, deny_warnings: bool) -> bool {
    outcome.has_errors() || (deny_warnings && !outcome.diagnostics.is_empty())
}

/// Prints what checking found, in the chosen format.
fn report(files: &[(SourceFile, Outcome)], args: &ReportArgs, v: Verbosity) -> Result<()> {
    match args.format {
        Format::Json => {
            let view: Vec<(&SourceFile, &[diag::Diagnostic])> = files
                .iter()
                .map(|(s, o)| (s, o.diagnostics.as_slice()))
                .collect();
            print_out(&diag::json::render(&view))
        }
        Format::Github => {
            let mut out = String::new();
            for (source, outcome) in files {
                out.push_str(&diag::github::render(source, &outcome.diagnostics));
            }
            print_out(&out)
        }
        Format::Human => {
            let color = use_color(args.color, std::io::stdout().is_terminal());
            let mut out = String::new();
            for (source, outcome) in files {
                out.push_str(&diag::human::render(source, &outcome.diagnostics, color));
                if !v.quiet {
                    out.push_str(&summary(source, outcome, args.deny_warnings));
                    out.push('\n');
                }
            }
            print_out(&out)
        }
    }
}

fn summary(source: &SourceFile, outcome: &Outcome, deny_warnings: bool) -> String {
    let counts = Counts::of(&outcome.diagnostics);
    if let Some(platform) = &outcome.platform {
        let phases = if platform.phased {
            format!(" in {}", plural(platform.phases.len(), "phase"))
        } else {
            String::new()
        };
        let mut line = format!(
            "{}: ok, {}{phases}",
            source.name(),
            plural(platform.services.len(), "service")
        );
        match outcome.environments.as_slice() {
            [] => {}
            [one] => {
                let _ = write!(line, ", and environment {one}");
            }
            all => {
                let _ = write!(line, ", and environments {}", all.join(", "));
            }
        }
        if counts.warnings > 0 {
            let _ = write!(line, "; {counts}");
            if deny_warnings {
                line.push_str(" (denied by --deny-warnings)");
            }
        }
        line
    } else {
        format!("{}: {counts}", source.name())
    }
}

fn run_check(args: &CheckArgs, v: Verbosity) -> Result<ExitCode> {
    // A file that cannot be read is reported, and the others are still checked.
    let mut files = Vec::new();
    let mut unreadable = 0;
    for path in &args.specs {
        match read_spec(path) {
            Ok((name, bytes)) => {
                let started = Instant::now();
                let checked =
                    match check::check_bytes_in(&name, bytes, environments(args.env.as_deref())) {
                        Ok(checked) => checked,
                        Err(unknown) => {
                            eprintln!("platgen: error: {name}: {unknown}");
                            unreadable += 1;
                            continue;
                        }
                    };
                if v.verbose {
                    eprintln!(
                        "platgen: {name}: {} rules in {:.1} ms",
                        check::all_rules().count(),
                        started.elapsed().as_secs_f64() * 1000.0
                    );
                }
                files.push(checked);
            }
            Err(error) => {
                eprintln!("platgen: error: {error:#}");
                unreadable += 1;
            }
        }
    }
    if !files.is_empty() {
        report(&files, &args.report, v)?;
    }
    let failed = files
        .iter()
        .any(|(_, o)| fails(o, args.report.deny_warnings));
    // The process ends here: its memory goes back whole, without freeing
    // each service's model (1,000 services: 0.8 M of 58 M instructions).
    std::mem::forget(files);
    Ok(if unreadable > 0 {
        ExitCode::from(EXIT_USAGE)
    } else if failed {
        ExitCode::from(EXIT_PROBLEMS)
    } else {
        ExitCode::SUCCESS
    })
}

fn target(t: TargetArg) -> Target {
    match t {
        TargetArg::Compose => Target::Compose,
        TargetArg::Kubernetes => Target::Kubernetes,
        TargetArg::Nginx => Target::Nginx,
        TargetArg::Prometheus => Target::Prometheus,
        TargetArg::Kong => Target::Kong,
    }
}

/// Prints the diagnostics of a render's check to standard error, so that
/// `--stdout` output stays clean.
fn report_to_stderr(source: &SourceFile, diagnostics: &[diag::Diagnostic], args: &ReportArgs) {
    let text = match args.format {
        Format::Json => diag::json::render(&[(source, diagnostics)]),
        Format::Github => diag::github::render(source, diagnostics),
        Format::Human => diag::human::render(
            source,
            diagnostics,
            use_color(args.color, std::io::stderr().is_terminal()),
        ),
    };
    eprint!("{text}");
}

/// The spec's file name, as generated files name it.
fn spec_name(name: &str) -> String {
    if name == "<stdin>" {
        "standard input".to_owned()
    } else {
        Path::new(name)
            .file_name()
            .map_or_else(|| name.to_owned(), |n| n.to_string_lossy().into_owned())
    }
}

/// Reads and checks the spec of a command that only reads it (`ports`,
/// `graph`, `docs`): errors are printed and stop the command; warnings are
/// `check`'s business and printed only with `--verbose`.
fn validated(arg: &SpecArg, v: Verbosity) -> Result<Result<(String, Platform), ExitCode>> {
    let path = arg.spec.as_path();
    let (name, bytes) = read_spec(path)?;
    let (source, outcome) = checked_in(&name, bytes, arg.env.as_deref())?;
    if outcome.has_errors() {
        let shown: Vec<diag::Diagnostic> = outcome
            .diagnostics
            .into_iter()
            .filter(diag::Diagnostic::is_error)
            .collect();
        let args = ReportArgs {
            format: Format::Human,
            deny_warnings: false,
            color: Color::Auto,
        };
        report_to_stderr(&source, &shown, &args);
        eprintln!(
            "{}: {}; fix them first (`platgen check {}` shows everything)",
            source.name(),
            Counts::of(&shown),
            path.display()
        );
        return Ok(Err(ExitCode::from(EXIT_PROBLEMS)));
    }
    if v.verbose && !outcome.diagnostics.is_empty() {
        let args = ReportArgs {
            format: Format::Human,
            deny_warnings: false,
            color: Color::Auto,
        };
        report_to_stderr(&source, &outcome.diagnostics, &args);
    }
    let Some(platform) = outcome.platform else {
        anyhow::bail!("internal error: a spec without errors built no platform");
    };
    Ok(Ok((name, platform)))
}

/// What `--env` asks to check besides the platform: that environment, or
/// all of them.
fn environments(env: Option<&str>) -> check::Environments<'_> {
    env.map_or(check::Environments::All, check::Environments::Only)
}

/// Checks a spec for a command that uses one platform: the platform itself,
/// or with `--env NAME` the platform and that environment, whose platform
/// it builds. An environment the spec does not define is a usage error.
fn checked_in(name: &str, bytes: Vec<u8>, env: Option<&str>) -> Result<(SourceFile, Outcome)> {
    let which = env.map_or(check::Environments::None, check::Environments::Only);
    check::check_bytes_in(name, bytes, which)
        .map_err(|unknown| anyhow::anyhow!("{name}: {unknown}"))
}

/// The platform as `--phase ID` leaves it, or all of it.
fn select_phase<'p>(
    full: &'p Platform,
    phase: Option<&str>,
    source: &SourceFile,
) -> Result<std::borrow::Cow<'p, Platform>> {
    // Without a phase, the platform itself: a copy of a large one was a
    // tenth of the render's peak memory.
    let Some(id) = phase else {
        return Ok(std::borrow::Cow::Borrowed(full));
    };
    if let Some(p) = full.up_to_phase(id) {
        return Ok(std::borrow::Cow::Owned(p));
    }
    anyhow::ensure!(
        full.phased,
        "--phase {id}: {} declares no phases",
        source.name()
    );
    let ids: Vec<&str> = full.phases.iter().map(|p| p.id.as_str()).collect();
    let hint = suggest::did_you_mean(id, ids.iter().copied())
        .unwrap_or_else(|| format!("the phases are {}", ids.join(", ")));
    anyhow::bail!("no phase `{id}` in {}; {hint}", source.name())
}

fn run_render(args: &RenderArgs, v: Verbosity) -> Result<ExitCode> {
    let (name, bytes) = read_spec(&args.spec.spec)?;
    let cache = cache_for(args, &name, &bytes);
    if let Some(code) = cache.as_ref().and_then(|c| cached(args, c, v)) {
        return Ok(code);
    }
    let engine = engine_beside(args);
    // The bytes become the source's text: a large spec is not held twice.
    let (source, outcome) = checked_in(&name, bytes, args.spec.env.as_deref())?;
    // Only a spec without diagnostics is remembered: a cached render
    // shows none.
    let cache = cache.filter(|_| outcome.diagnostics.is_empty());
    let record = |out: &Path| cache.iter().for_each(|c| c.record(out));
    if !outcome.diagnostics.is_empty() {
        report_to_stderr(&source, &outcome.diagnostics, &args.report);
    }
    if fails(&outcome, args.report.deny_warnings) {
        eprintln!(
            "{}: {}; nothing rendered",
            source.name(),
            Counts::of(&outcome.diagnostics)
        );
        return Ok(ExitCode::from(EXIT_PROBLEMS));
    }
    let Some(full) = outcome.platform else {
        anyhow::bail!("internal error: a spec without errors built no platform");
    };
    let platform = select_phase(&full, args.phase.as_deref(), &source)?;
    // Memory handed back at the points where much was just freed, for a
    // spec large enough to free much (1 MiB: about 2,500 services).
    platgen::memory::release_only_if(source.text().len() >= 1 << 20);
    drop(source); // only diagnostics need the text: 10,000 services, 4 MB
    // What checking freed (the parse tree, the typed spec) goes back before
    // the render's other threads take memory of their own.
    platgen::memory::release_freed();
    let targets = selected_targets(args);
    let engine = joined(engine)?;
    note_unused_overrides(&engine, v);
    let options = render::Options {
        spec_name: match &args.spec.env {
            Some(env) => format!("{} (environment {env})", spec_name(&name)),
            None => spec_name(&name),
        },
        targets: targets.clone(),
    };
    // Files go to the writer (or the comparer) as each is rendered, so that
    // a large render never holds them all.
    let rendered = std::sync::Mutex::new(BTreeSet::new());
    // Each file's target, and for the cache what the file holds.
    let mark = |file: &render::OutFile| {
        locked(&rendered).insert(file.target);
        if let Some(c) = &cache {
            c.add(&file.path, file.contents.as_bytes());
        }
    };
    let note = || {
        if !v.quiet {
            note_empty_targets(
                &locked(&rendered),
                &targets,
                &full,
                &platform,
                args.phase.as_deref(),
                !args.target.is_empty(),
            );
        }
    };
    // A template error wins over the sink's (which only stopped the render).
    let rendered_with = |sink: &render::Sink<'_>| -> Result<()> {
        match render::render_each(&platform, &engine, &options, sink) {
            Ok(()) | Err(render::RenderError::Stopped) => Ok(()),
            Err(e) => Err(e.into()),
        }
    };
    if args.stdout {
        let files = render::render(&platform, &engine, &options)?;
        for f in &files {
            mark(f);
        }
        note();
        print_out(&emit::to_stdout(&files))?;
        return Ok(ExitCode::SUCCESS);
    }
    let out = &args.out;
    if args.check {
        let comparer = emit::Comparer::open(out)?;
        rendered_with(&|f| {
            mark(&f);
            comparer.put(f)
        })?;
        note();
        let drift = comparer.finish(&targets)?;
        if drift.is_clean() {
            record(out);
        }
        return report_drift(args, &drift, v);
    }
    let options = emit::WriteOptions {
        force: args.force,
        fsync: args.fsync,
    };
    let writer = emit::Writer::open(out, &targets, options)?;
    rendered_with(&|f| {
        mark(&f);
        writer.put(f)
    })?;
    note();
    let written = writer.finish()?;
    record(out);
    report_written(out, &written, v);
    Ok(ExitCode::SUCCESS)
}

/// The value behind `m`, even if a thread panicked while holding it.
fn locked<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The render cache of this render, if it can have one: every target, the
/// built-in templates, no `--phase` (see `platgen::cache`).
fn cache_for(args: &RenderArgs, name: &str, spec: &[u8]) -> Option<platgen::cache::Cache> {
    let plain = args.target.is_empty()
        && args.phase.is_none()
        && args.templates.is_none()
        && !args.stdout
        && !args.fsync;
    if !plain {
        return None;
    }
    let spec_name = spec_name(name);
    let inputs = platgen::cache::Inputs {
        spec_name: &spec_name,
        env: args.spec.env.as_deref(),
        spec,
    };
    platgen::cache::Cache::open(&args.out, inputs)
}

/// The outcome of a render whose output directory already holds what it
/// would write, as the cache knows; `None` if the cache does not know.
fn cached(args: &RenderArgs, cache: &platgen::cache::Cache, v: Verbosity) -> Option<ExitCode> {
    let files = cache.holds(&args.out)?;
    let out = &args.out;
    if v.verbose {
        eprintln!(
            "platgen: {} holds what the last render of this spec wrote there; nothing to render (PLATGEN_NO_CACHE=1 renders anyway)",
            out.display()
        );
    }
    if args.check {
        if !v.quiet {
            eprintln!(
                "{}: up to date ({})",
                out.display(),
                plural(files.len(), "file")
            );
        }
    } else {
        emit::remove_leftover_temp_files(out);
        report_written(
            out,
            &emit::Written {
                unchanged: files,
                ..emit::Written::default()
            },
            v,
        );
    }
    Some(ExitCode::SUCCESS)
}

/// The targets `--target` asks for (all without it), in [`Target::ALL`] order.
fn selected_targets(args: &RenderArgs) -> Vec<Target> {
    if args.target.is_empty() {
        Target::ALL.to_vec()
    } else {
        Target::ALL
            .iter()
            .copied()
            .filter(|t| args.target.iter().any(|a| target(*a) == *t))
            .collect()
    }
}

/// The template engine, made and its templates compiled on another core
/// while this one checks the spec (the root platform: 1.5 M of the
/// render's 22.9 M instructions). Left running when the spec fails.
fn engine_beside(args: &RenderArgs) -> std::thread::JoinHandle<Result<Engine>> {
    let templates = args.templates.clone();
    std::thread::spawn(move || engine_for(templates.as_deref()))
}

/// What a thread returned; its panic goes on here.
fn joined<T>(thread: std::thread::JoinHandle<T>) -> T {
    thread
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
}

/// The template engine, its templates compiled.
fn engine_for(templates: Option<&Path>) -> Result<Engine> {
    if let Some(dir) = templates {
        anyhow::ensure!(
            dir.is_dir(),
            "--templates {}: not a directory",
            dir.display()
        );
    }
    let engine = Engine::new(templates);
    engine.compile_all();
    Ok(engine)
}

/// A note for each override file no template is.
fn note_unused_overrides(engine: &Engine, v: Verbosity) {
    if !v.quiet {
        for path in engine.unused_overrides() {
            eprintln!(
                "platgen: note: {} is not one of platgen's templates; it is used only where another template includes it",
                path.display()
            );
        }
    }
}

/// What a render wrote: one line, or with `-v` each file.
fn report_written(out: &Path, written: &emit::Written, v: Verbosity) {
    if v.verbose {
        for (what, paths) in [
            ("written", &written.written),
            ("unchanged", &written.unchanged),
            ("deleted", &written.deleted),
        ] {
            for path in paths {
                eprintln!("{what}: {}", out.join(path).display());
            }
        }
    }
    if !v.quiet {
        eprintln!(
            "{}: {} written, {} unchanged, {} deleted",
            out.display(),
            written.written.len(),
            written.unchanged.len(),
            written.deleted.len()
        );
    }
}

/// `render --check`: prints the drift, never writes.
fn report_drift(args: &RenderArgs, drift: &emit::Drift, v: Verbosity) -> Result<ExitCode> {
    let out = &args.out;
    if drift.is_clean() {
        if !v.quiet {
            eprintln!(
                "{}: up to date ({})",
                out.display(),
                plural(drift.checked, "file")
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut text = String::new();
    for (_, diff) in &drift.changed {
        text.push_str(diff);
    }
    print_out(&text)?;
    for path in &drift.missing {
        eprintln!("missing: {}", out.join(path).display());
    }
    for path in &drift.extra {
        eprintln!("extra (no longer generated): {}", out.join(path).display());
    }
    eprintln!(
        "{} is out of date: {} changed, {} missing, {} extra; run `platgen render {}{} --out {}` and commit the result",
        out.display(),
        drift.changed.len(),
        drift.missing.len(),
        drift.extra.len(),
        args.spec.spec.display(),
        args.spec
            .env
            .as_ref()
            .map_or_else(String::new, |e| format!(" --env {e}")),
        out.display()
    );
    Ok(ExitCode::from(EXIT_PROBLEMS))
}

/// Says why a target produced nothing: no service holds its role, or the
/// one that does is in a phase `--phase` leaves out.
fn note_empty_targets(
    rendered: &BTreeSet<Target>,
    targets: &[Target],
    full: &Platform,
    shown: &Platform,
    phase: Option<&str>,
    asked: bool,
) {
    for t in targets {
        if rendered.contains(t) {
            continue;
        }
        // A platform without a gateway renders no Kong config, and that
        // is news only to someone who asked for it, or whose --phase left
        // the role's service out.
        let dropped = |role: &Option<String>| {
            role.as_ref()
                .is_some_and(|name| shown.service(name).is_none())
        };
        let filtered = match t {
            Target::Nginx => dropped(&full.roles.proxy),
            Target::Prometheus => dropped(&full.roles.monitoring),
            Target::Kong => dropped(&full.roles.gateway),
            Target::Compose | Target::Kubernetes => false,
        };
        if !asked && !filtered {
            continue;
        }
        let role = match t {
            Target::Nginx => Some(("proxy", &full.roles.proxy)),
            Target::Prometheus => Some(("monitoring", &full.roles.monitoring)),
            Target::Kong => Some(("gateway", &full.roles.gateway)),
            Target::Compose | Target::Kubernetes => None,
        };
        let why = match role {
            None => "there is nothing to render".to_owned(),
            Some((role, None)) => format!("the platform names no `roles.{role}`"),
            Some((role, Some(name))) => match (full.service(name), phase) {
                (Some(s), Some(id)) if shown.service(name).is_none() => format!(
                    "the {role} `{name}` is in phase {}, which --phase {id} leaves out",
                    full.phases[s.phase].id
                ),
                _ => format!("the {role} `{name}` gave it nothing to render"),
            },
        };
        eprintln!("platgen: note: {t}: nothing rendered, {why}");
    }
}

fn run_ports(args: &PortsArgs, v: Verbosity) -> Result<ExitCode> {
    let (_, platform) = match validated(&args.spec, v)? {
        Ok(found) => found,
        Err(code) => return Ok(code),
    };
    let map = PortMap::of(&platform);
    if !args.next {
        print_out(&match args.format {
            DataFormat::Human => map.to_table(),
            DataFormat::Json => map.to_json(),
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    let protocol = match args.protocol {
        ProtocolArg::Tcp => Protocol::Tcp,
        ProtocolArg::Udp => Protocol::Udp,
    };
    let found = map.next(protocol, args.count);
    match args.format {
        DataFormat::Json => print_out(&platgen::ports::next_json(protocol, args.count, found))?,
        DataFormat::Human => {
            if let Some(block) = found {
                print_out(&format!("{block}\n"))?;
            }
        }
    }
    if found.is_none() {
        eprintln!(
            "platgen: no {} free {} host port{} in {}",
            if args.count == 1 {
                "one".to_owned()
            } else {
                format!("{} consecutive", args.count)
            },
            protocol.name(),
            if args.count == 1 { "" } else { "s" },
            map.range
        );
        return Ok(ExitCode::from(EXIT_PROBLEMS));
    }
    Ok(ExitCode::SUCCESS)
}

fn run_graph(args: &GraphArgs, v: Verbosity) -> Result<ExitCode> {
    let (_, platform) = match validated(&args.spec, v)? {
        Ok(found) => found,
        Err(code) => return Ok(code),
    };
    print_out(&match args.format {
        GraphFormat::Mermaid => graph::mermaid(&platform),
        GraphFormat::Dot => graph::dot(&platform),
    })?;
    Ok(ExitCode::SUCCESS)
}

fn run_docs(args: &DocsArgs, v: Verbosity) -> Result<ExitCode> {
    let (name, platform) = match validated(&args.spec, v)? {
        Ok(found) => found,
        Err(code) => return Ok(code),
    };
    let page = docs::platform_md(&platform, &spec_name(&name));
    let Some(out) = &args.out else {
        print_out(&page)?;
        return Ok(ExitCode::SUCCESS);
    };
    let shown = out.display().to_string();
    if args.check {
        let on_disk = match std::fs::read_to_string(out) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {shown}")),
        };
        return Ok(match docs::drift(&shown, &on_disk, &page) {
            None => {
                if !v.quiet {
                    eprintln!("{shown}: up to date");
                }
                ExitCode::SUCCESS
            }
            Some(diff) => {
                print_out(&diff)?;
                eprintln!(
                    "{shown} is out of date; run `platgen docs {}{} --out {shown}` and commit the result",
                    args.spec.spec.display(),
                    args.spec
                        .env
                        .as_ref()
                        .map_or_else(String::new, |e| format!(" --env {e}"))
                );
                ExitCode::from(EXIT_PROBLEMS)
            }
        });
    }
    let dir = out.parent().unwrap_or_else(|| Path::new(""));
    let file = scaffold::NewFile {
        path: out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .context("--out names no file")?,
        contents: page,
    };
    // The page is generated: rewriting it is the point.
    let written = scaffold::write_new(dir, &[file], scaffold::Existing::Replace)?;
    if !v.quiet {
        let state = if written.written.is_empty() {
            "unchanged"
        } else {
            "written"
        };
        eprintln!("{shown}: {state}");
    }
    Ok(ExitCode::SUCCESS)
}

fn run_init(args: &InitArgs, v: Verbosity) -> Result<ExitCode> {
    let name = match &args.name {
        Some(name) => {
            if let Some(problem) = check::invalid_name::label_problem(name) {
                let hint = check::invalid_name::sanitized(name)
                    .map_or_else(String::new, |s| format!("; try `--name {s}`"));
                anyhow::bail!("--name {name}: not a valid platform name: {problem}{hint}");
            }
            name.clone()
        }
        None => init::name_for(&args.dir),
    };
    let written = scaffold::write_new(&args.dir, &init::files(&name), scaffold::Existing::Refuse)
        .map_err(|e| match e {
        scaffold::ScaffoldError::Exists(_) => {
            anyhow::anyhow!("{e}; `platgen init` starts a platform, it never replaces one")
        }
        scaffold::ScaffoldError::Io { .. } => anyhow::Error::new(e),
    })?;
    if !v.quiet {
        for path in written.written.iter().chain(&written.unchanged) {
            eprintln!("wrote {}", path.display());
        }
        let cd = if args.dir == Path::new(".") {
            String::new()
        } else {
            format!("  cd {}\n", args.dir.display())
        };
        eprintln!(
            "\nThe platform `{name}` has three services. Next:\n{cd}  platgen check     every problem at once, with its line\n  platgen render    the configs, into out/\n  platgen graph     the picture, in Mermaid"
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn run_templates(args: &TemplatesArgs, v: Verbosity) -> Result<ExitCode> {
    let files = scaffold::template_files();
    let Some(dir) = &args.dir else {
        let mut out = String::new();
        for f in files.iter().filter(|f| f.path != "README.md") {
            let _ = writeln!(out, "{}", f.path);
        }
        print_out(&out)?;
        if !v.quiet {
            eprintln!(
                "platgen: `platgen templates DIR` writes them with README.md (what each receives); `render --templates DIR` uses them"
            );
        }
        return Ok(ExitCode::SUCCESS);
    };
    let written = scaffold::write_new(
        dir,
        &files,
        if args.force {
            scaffold::Existing::Replace
        } else {
            scaffold::Existing::KeepIfSame
        },
    )
    .map_err(|e| match e {
        scaffold::ScaffoldError::Exists(_) => {
            anyhow::anyhow!("{e}; `--force` replaces them with the built-in templates")
        }
        scaffold::ScaffoldError::Io { .. } => anyhow::Error::new(e),
    })?;
    if v.verbose {
        for path in &written.written {
            eprintln!("written: {}", path.display());
        }
    }
    if !v.quiet {
        eprintln!(
            "{}: {} written, {} unchanged; see {} for what each template receives, then `platgen render --templates {}`",
            dir.display(),
            written.written.len(),
            written.unchanged.len(),
            dir.join("README.md").display(),
            dir.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn run_man(args: &ManArgs, v: Verbosity) -> Result<ExitCode> {
    let cli = Cli::command();
    let page = |cmd: clap::Command| -> Result<String> {
        let mut out = Vec::new();
        clap_mangen::Man::new(cmd).render(&mut out)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    };
    let Some(dir) = &args.out else {
        print_out(&page(cli)?)?;
        return Ok(ExitCode::SUCCESS);
    };
    let mut files = vec![scaffold::NewFile {
        path: "platgen.1".to_owned(),
        contents: page(cli.clone())?,
    }];
    for sub in cli.get_subcommands() {
        let name = format!("platgen-{}", sub.get_name());
        let cmd = sub
            .clone()
            .name(name.clone())
            .version(cli::VERSION)
            .display_name(format!("platgen {}", sub.get_name()));
        files.push(scaffold::NewFile {
            path: format!("{name}.1"),
            contents: page(cmd)?,
        });
    }
    let written = scaffold::write_new(dir, &files, scaffold::Existing::Replace)?;
    if !v.quiet {
        eprintln!(
            "{}: {} written, {} unchanged",
            dir.display(),
            written.written.len(),
            written.unchanged.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

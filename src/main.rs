//! The `platgen` binary: parse arguments, call the library, print, and map
//! the result to an exit status. Everything else is in the library.

mod cli;

use std::fmt::Write as _;
use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::{CommandFactory, Parser};

use cli::{CheckArgs, Cli, Color, Command, Format, RenderArgs, ReportArgs, TargetArg};
use platgen::check::{self, Outcome};
use platgen::diag::{self, Counts};
use platgen::emit;
use platgen::render::{self, Engine, Target};
use platgen::source::SourceFile;
use platgen::suggest;

/// Exit statuses, as documented in `--help`.
const EXIT_PROBLEMS: u8 = 1;
const EXIT_USAGE: u8 = 2;

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
    match cli.command {
        Command::Check(args) => run_check(&args),
        Command::Render(args) => run_render(&args),
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
            std::io::stdout().write_all(&out)?;
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
/// stands for the `platform.yaml` in it.
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
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok((path.display().to_string(), bytes))
}

fn use_color(color: Color) -> bool {
    match color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// Whether the outcome should fail the command.
fn fails(outcome: &Outcome, deny_warnings: bool) -> bool {
    outcome.has_errors() || (deny_warnings && !outcome.diagnostics.is_empty())
}

/// Prints what checking found, in the chosen format.
fn report(files: &[(SourceFile, Outcome)], args: &ReportArgs) -> Result<()> {
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
            let color = use_color(args.color);
            let mut out = String::new();
            for (source, outcome) in files {
                out.push_str(&diag::human::render(source, &outcome.diagnostics, color));
                out.push_str(&summary(source, outcome, args.deny_warnings));
                out.push('\n');
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

fn run_check(args: &CheckArgs) -> Result<ExitCode> {
    // A file that cannot be read is reported, and the others are still checked.
    let mut files = Vec::new();
    let mut unreadable = 0;
    for path in &args.specs {
        match read_spec(path) {
            Ok((name, bytes)) => files.push(check::check_bytes(&name, &bytes)),
            Err(error) => {
                eprintln!("platgen: error: {error:#}");
                unreadable += 1;
            }
        }
    }
    if !files.is_empty() {
        report(&files, &args.report)?;
    }
    let failed = files
        .iter()
        .any(|(_, o)| fails(o, args.report.deny_warnings));
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
fn report_to_stderr(source: &SourceFile, outcome: &Outcome, args: &ReportArgs) {
    let text = match args.format {
        Format::Json => diag::json::render(&[(source, outcome.diagnostics.as_slice())]),
        Format::Github => diag::github::render(source, &outcome.diagnostics),
        Format::Human => {
            let color = match args.color {
                Color::Always => true,
                Color::Never => false,
                Color::Auto => {
                    std::io::stderr().is_terminal()
                        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                }
            };
            diag::human::render(source, &outcome.diagnostics, color)
        }
    };
    eprint!("{text}");
}

fn run_render(args: &RenderArgs) -> Result<ExitCode> {
    let (name, bytes) = read_spec(&args.spec)?;
    let (source, outcome) = check::check_bytes(&name, &bytes);
    drop(bytes); // the source holds the text; a large spec need not be kept twice
    if !outcome.diagnostics.is_empty() {
        report_to_stderr(&source, &outcome, &args.report);
    }
    if fails(&outcome, args.report.deny_warnings) {
        eprintln!(
            "{}: {}; nothing rendered",
            source.name(),
            Counts::of(&outcome.diagnostics)
        );
        return Ok(ExitCode::from(EXIT_PROBLEMS));
    }
    let Some(mut platform) = outcome.platform else {
        anyhow::bail!("internal error: a spec without errors built no platform");
    };
    if let Some(id) = &args.phase {
        platform = if let Some(p) = platform.up_to_phase(id) {
            p
        } else {
            anyhow::ensure!(
                platform.phased,
                "--phase {id}: {} declares no phases",
                source.name()
            );
            let ids: Vec<&str> = platform.phases.iter().map(|p| p.id.as_str()).collect();
            let hint = suggest::did_you_mean(id, ids.iter().copied())
                .unwrap_or_else(|| format!("the phases are {}", ids.join(", ")));
            anyhow::bail!("no phase `{id}` in {}; {hint}", source.name());
        };
    }
    if let Some(dir) = &args.templates {
        anyhow::ensure!(
            dir.is_dir(),
            "--templates {}: not a directory",
            dir.display()
        );
    }
    let targets: Vec<Target> = if args.target.is_empty() {
        Target::ALL.to_vec()
    } else {
        Target::ALL
            .iter()
            .copied()
            .filter(|t| args.target.iter().any(|a| target(*a) == *t))
            .collect()
    };
    let spec_name = if name == "<stdin>" {
        "standard input".to_owned()
    } else {
        Path::new(&name)
            .file_name()
            .map_or_else(|| name.clone(), |n| n.to_string_lossy().into_owned())
    };
    let engine = Engine::new(args.templates.as_deref());
    for path in engine.unused_overrides() {
        eprintln!(
            "platgen: note: {} is not one of platgen's templates; it is used only where another template includes it",
            path.display()
        );
    }
    let options = render::Options {
        spec_name,
        targets: targets.clone(),
    };
    let files = render::render(&platform, &engine, &options)?;
    note_empty_targets(&files, &targets);

    if args.stdout {
        print_out(&emit::to_stdout(&files))?;
        return Ok(ExitCode::SUCCESS);
    }
    let out = &args.out;
    if args.check {
        return report_drift(args, &files, &targets);
    }
    let options = emit::WriteOptions {
        force: args.force,
        fsync: args.fsync,
    };
    let written = emit::write_with(out, &files, &targets, options)?;
    eprintln!(
        "{}: {} written, {} unchanged, {} deleted",
        out.display(),
        written.written.len(),
        written.unchanged.len(),
        written.deleted.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// `render --check`: compares, prints the drift, never writes.
fn report_drift(
    args: &RenderArgs,
    files: &[render::OutFile],
    targets: &[Target],
) -> Result<ExitCode> {
    let out = &args.out;
    let drift = emit::check(out, files, targets)?;
    if drift.is_clean() {
        eprintln!(
            "{}: up to date ({})",
            out.display(),
            plural(files.len(), "file")
        );
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
        "{} is out of date: {} changed, {} missing, {} extra; run `platgen render {} --out {}` and commit the result",
        out.display(),
        drift.changed.len(),
        drift.missing.len(),
        drift.extra.len(),
        args.spec.display(),
        out.display()
    );
    Ok(ExitCode::from(EXIT_PROBLEMS))
}

/// Says why a requested target produced nothing.
fn note_empty_targets(files: &[render::OutFile], targets: &[Target]) {
    for t in targets {
        if !files.iter().any(|f| f.target == *t) {
            let why = match t {
                Target::Nginx => "the platform names no `roles.proxy`",
                Target::Prometheus => "the platform names no `roles.monitoring`",
                Target::Kong => "the platform names no `roles.gateway`",
                Target::Compose | Target::Kubernetes => "there is nothing to render",
            };
            eprintln!("platgen: note: {t}: nothing rendered, {why}");
        }
    }
}

//! Command-line arguments (clap types only).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Validate one platform.yaml and render the configs that run the platform.
#[derive(Debug, Parser)]
#[command(name = "platgen", version, about, propagate_version = true)]
#[command(
    after_help = "Exit status: 0 ok; 1 the spec has errors (or --check found drift); 2 usage or I/O error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check specs for every problem at once: syntax, schema, names, ports,
    /// dependencies, phases, routes.
    Check(CheckArgs),
    /// Print the JSON Schema of platform.yaml (for editors and other validators).
    Schema,
    /// List every rule with its code, severity and summary.
    Rules,
    /// Show what a rule checks, why, and an example.
    Explain {
        /// A rule's code (`PG201`) or name (`port-conflict`).
        rule: String,
    },
    /// Print a shell completion script.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The specs to check; `-` reads standard input.
    #[arg(value_name = "SPEC", default_value = "platform.yaml")]
    pub specs: Vec<PathBuf>,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// How problems are reported.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Output format for problems.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Treat warnings as errors (exit 1 when there are any).
    #[arg(long)]
    pub deny_warnings: bool,
    /// Colour the human format.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// rustc-style snippets with carets.
    Human,
    /// One JSON document.
    Json,
    /// GitHub Actions workflow annotations.
    Github,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    /// When standard output is a terminal and NO_COLOR is not set.
    Auto,
    Always,
    Never,
}

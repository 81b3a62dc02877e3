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
    /// Check the spec, then render the configs that run the platform.
    Render(RenderArgs),
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

#[derive(Debug, Args)]
// Each flag is its own clap option; an enum would not read better.
#[allow(clippy::struct_excessive_bools)]
pub struct RenderArgs {
    /// The spec to render.
    #[arg(value_name = "SPEC", default_value = "platform.yaml")]
    pub spec: PathBuf,
    /// The output directory.
    #[arg(long, short, value_name = "DIR", default_value = "out")]
    pub out: PathBuf,
    /// Render only these targets (comma-separated); default all.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "TARGET")]
    pub target: Vec<TargetArg>,
    /// Render only the services of the phases up to and including ID.
    #[arg(long, value_name = "ID")]
    pub phase: Option<String>,
    /// Use the templates in DIR instead of the built-in ones of the same name
    /// (e.g. DIR/compose/compose.yaml.j2).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Render in memory and compare with the output directory: exit 1 and
    /// print a diff when they differ. Never writes.
    #[arg(long, conflicts_with_all = ["stdout", "force"])]
    pub check: bool,
    /// Print the files instead of writing them.
    #[arg(long, conflicts_with = "force")]
    pub stdout: bool,
    /// Overwrite files in the output directory that platgen did not generate.
    #[arg(long)]
    pub force: bool,
    /// Flush every written file and directory to disk before finishing, so
    /// that the output survives a power loss (slower: one flush per file).
    #[arg(long, conflicts_with_all = ["stdout", "check"])]
    pub fsync: bool,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// A render target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TargetArg {
    /// compose.yaml for docker-compose
    Compose,
    /// Kubernetes manifests and a kustomization
    Kubernetes,
    /// nginx.conf for the proxy role
    Nginx,
    /// prometheus.yml and alerts.yml for the monitoring role, and Grafana's datasource
    Prometheus,
    /// kong.yml for the gateway role
    Kong,
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
    /// rustc-style snippets with carets
    Human,
    /// one JSON document
    Json,
    /// GitHub Actions workflow annotations
    Github,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    /// when standard output is a terminal and NO_COLOR is not set
    Auto,
    Always,
    Never,
}

//! Command-line arguments (clap types only).

use std::ffi::OsStr;
use std::path::PathBuf;

use clap::builder::{PossibleValue, StringValueParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum, ValueHint};

/// The version line: the package version and, where the build could tell,
/// the commit it was built from.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), env!("PLATGEN_BUILD_COMMIT"));

/// Validate one platform.yaml and render the configs that run the platform.
#[derive(Debug, Parser)]
#[command(name = "platgen", version = VERSION, about, propagate_version = true)]
#[command(after_help = "\
Examples:
  platgen init                       write a starter platform.yaml here
  platgen check                      check ./platform.yaml
  platgen render                     check it, then render it into out/
  platgen ports --next               the lowest free host port for a new service

Exit status: 0 ok; 1 the spec has errors (or --check found drift); 2 usage or I/O error.")]
pub struct Cli {
    #[command(flatten)]
    pub verbosity: Verbosity,
    #[command(subcommand)]
    pub command: Command,
}

/// How much platgen says besides what was asked for.
#[derive(Debug, Clone, Copy, Args)]
pub struct Verbosity {
    /// Print only problems and the output asked for: no summaries, no notes.
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Say more: every file written, kept or deleted; warnings of commands
    /// that only read the spec; how long checking took.
    #[arg(long, short, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check specs for every problem at once: syntax, schema, names, ports,
    /// dependencies, phases, routes.
    #[command(after_help = "\
Examples:
  platgen check                                  ./platform.yaml
  platgen check services/platform.yaml --deny-warnings
  platgen check --env prod                       the platform and its prod environment
  platgen check --format github                  annotations for GitHub Actions
  platgen check --format json | jq '.summary'")]
    Check(CheckArgs),
    /// Check the spec, then render the configs that run the platform.
    #[command(after_help = "\
Examples:
  platgen render                                 platform.yaml -> out/
  platgen render --check                         exit 1 with a diff when out/ is stale
  platgen render --env prod --out out-prod       with the prod environment applied
  platgen render --phase 2A --out out-2a         only the phases up to 2A
  platgen render --target nginx --stdout         print nginx.conf
  platgen render --templates my-templates        override built-in templates")]
    Render(RenderArgs),
    /// Print the port map: every port by host port, and the free host ports.
    #[command(after_help = "\
Examples:
  platgen ports                                  the table
  platgen ports --next                           the lowest free tcp host port
  platgen ports --next --count 6                 the lowest free block of 6
  platgen ports --next --protocol udp
  platgen ports --env prod                       the host ports of the prod environment
  platgen ports --format json")]
    Ports(PortsArgs),
    /// Print the dependency graph, phases as clusters and roles marked.
    #[command(after_help = "\
Examples:
  platgen graph                                  Mermaid (GitHub draws it)
  platgen graph --format dot | dot -Tsvg > docs/platform.svg")]
    Graph(GraphArgs),
    /// Write PLATFORM.md: the platform's services by phase, routes, secrets
    /// and graph, for people to read.
    #[command(after_help = "\
Examples:
  platgen docs                                   print it
  platgen docs --out PLATFORM.md                 write it
  platgen docs --out PLATFORM.md --check         exit 1 when PLATFORM.md is stale")]
    Docs(DocsArgs),
    /// Write a starter platform.yaml (and the schema it points editors at).
    #[command(after_help = "\
Examples:
  platgen init                                   in this directory
  platgen init shop --name shop                  in ./shop, platform `shop`

It refuses to overwrite a file that exists.")]
    Init(InitArgs),
    /// Write platgen's built-in templates to a directory, to override some
    /// of them with `render --templates DIR`; without DIR, list them.
    #[command(after_help = "\
Examples:
  platgen templates                              list the templates
  platgen templates my-templates                 write them all, and README.md
  platgen render --templates my-templates        then render with your edits

README.md, written with them, says which variables each template receives.
Remove the templates you do not change: the built-in ones fill in for them,
and keep up with platgen's fixes.")]
    Templates(TemplatesArgs),
    /// Print the JSON Schema of platform.yaml (for editors and other validators).
    #[command(after_help = "\
Examples:
  platgen schema > platform.schema.json")]
    Schema,
    /// List every rule with its code, severity and summary.
    #[command(after_help = "\
Examples:
  platgen rules
  platgen rules | grep port")]
    Rules,
    /// Show what a rule checks, why, and an example.
    #[command(after_help = "\
Examples:
  platgen explain port-conflict
  platgen explain PG201")]
    Explain {
        /// A rule's name (`port-conflict`) or code (`PG201`).
        #[arg(value_parser = RuleName, hide_possible_values = true)]
        rule: String,
    },
    /// Print a shell completion script.
    #[command(after_help = "\
Examples:
  platgen completions bash > ~/.local/share/bash-completion/completions/platgen
  platgen completions zsh > ~/.zfunc/_platgen
  platgen completions fish > ~/.config/fish/completions/platgen.fish
  platgen completions powershell >> $PROFILE")]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page, or write one per command into a directory.
    #[command(after_help = "\
Examples:
  platgen man | man -l -
  platgen man --out /usr/local/share/man/man1")]
    Man(ManArgs),
}

/// Offers the rules' names to shell completion, and takes any text, so that
/// an unknown rule gets platgen's own did-you-mean.
#[derive(Debug, Clone, Copy)]
pub struct RuleName;

impl TypedValueParser for RuleName {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<String, clap::Error> {
        StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            platgen::check::all_rules().map(|r| PossibleValue::new(r.name).help(r.summary())),
        ))
    }
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The specs to check; `-` reads standard input, a directory stands for
    /// its platform.yaml.
    #[arg(value_name = "SPEC", default_value = "platform.yaml", value_hint = ValueHint::FilePath)]
    pub specs: Vec<PathBuf>,
    /// Check the platform and only this one of its environments (default:
    /// the platform and every environment).
    #[arg(long = "env", value_name = "NAME", value_hint = ValueHint::Other)]
    pub env: Option<String>,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// The one spec a command reads.
#[derive(Debug, Args)]
pub struct SpecArg {
    /// The spec; `-` reads standard input, a directory stands for its
    /// platform.yaml.
    #[arg(value_name = "SPEC", default_value = "platform.yaml", value_hint = ValueHint::FilePath)]
    pub spec: PathBuf,
    /// Apply the environment NAME of the spec's `environments` (e.g. `prod`).
    #[arg(long = "env", value_name = "NAME", value_hint = ValueHint::Other)]
    pub env: Option<String>,
}

#[derive(Debug, Args)]
// Each flag is its own clap option; an enum would not read better.
#[allow(clippy::struct_excessive_bools)]
pub struct RenderArgs {
    #[command(flatten)]
    pub spec: SpecArg,
    /// The output directory.
    #[arg(long, short, value_name = "DIR", default_value = "out", value_hint = ValueHint::DirPath)]
    pub out: PathBuf,
    /// Render only these targets (comma-separated); default all.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "TARGET")]
    pub target: Vec<TargetArg>,
    /// Render only the services of the phases up to and including ID.
    #[arg(long, value_name = "ID", value_hint = ValueHint::Other)]
    pub phase: Option<String>,
    /// Use the templates in DIR instead of the built-in ones of the same name
    /// (e.g. DIR/compose/compose.yaml.j2); `platgen templates DIR` writes
    /// them out to start from.
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
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

#[derive(Debug, Args)]
pub struct PortsArgs {
    #[command(flatten)]
    pub spec: SpecArg,
    /// Print only the lowest free host port (or block, with --count) inside
    /// `ports.range`, for a new service.
    #[arg(long)]
    pub next: bool,
    /// With --next: how many consecutive ports (for a host range).
    #[arg(long, value_name = "N", default_value_t = 1, requires = "next",
          value_parser = clap::value_parser!(u16).range(1..))]
    pub count: u16,
    /// With --next: the protocol the port is for.
    #[arg(long, value_enum, default_value_t = ProtocolArg::Tcp, requires = "next")]
    pub protocol: ProtocolArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DataFormat::Human)]
    pub format: DataFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProtocolArg {
    Tcp,
    Udp,
}

/// How a command that prints data prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DataFormat {
    /// a table for people
    Human,
    /// one JSON document, for scripts
    Json,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    #[command(flatten)]
    pub spec: SpecArg,
    /// The graph language.
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
    pub format: GraphFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// a Mermaid flowchart (GitHub draws it in Markdown)
    Mermaid,
    /// Graphviz DOT (`dot -Tsvg`)
    Dot,
}

#[derive(Debug, Args)]
pub struct DocsArgs {
    #[command(flatten)]
    pub spec: SpecArg,
    /// Write the page to FILE instead of printing it.
    #[arg(long, short, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub out: Option<PathBuf>,
    /// Compare with --out FILE: exit 1 and print a diff when it is stale.
    /// Never writes.
    #[arg(long, requires = "out")]
    pub check: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The directory to start the platform in (created when missing).
    #[arg(value_name = "DIR", default_value = ".", value_hint = ValueHint::DirPath)]
    pub dir: PathBuf,
    /// The platform's name; default: made from the directory's name.
    #[arg(long, value_name = "NAME", value_hint = ValueHint::Other)]
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct TemplatesArgs {
    /// Where to write the templates; without it, list them.
    #[arg(value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub dir: Option<PathBuf>,
    /// Overwrite files in DIR that differ from the built-in templates.
    #[arg(long, requires = "dir")]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write platgen.1 and one page per command (platgen-check.1, ...)
    /// into DIR instead of printing platgen.1.
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub out: Option<PathBuf>,
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

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// The examples of a command's help, as argument lists (without the
    /// comment after them, and up to a pipe or a redirection).
    fn examples(help: &str) -> Vec<Vec<String>> {
        let Some(section) = help.split("Examples:\n").nth(1) else {
            return Vec::new();
        };
        section
            .lines()
            .take_while(|l| l.starts_with("  "))
            .map(|l| {
                let command = l.trim().split("   ").next().unwrap_or("");
                command
                    .split_whitespace()
                    .take_while(|w| !matches!(*w, "|" | ">" | ">>"))
                    .map(str::to_owned)
                    .collect()
            })
            .collect()
    }

    #[test]
    fn clap_accepts_the_definition() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_has_examples_that_parse() {
        let cli = Cli::command();
        let main_help = cli.get_after_help().map(ToString::to_string).unwrap();
        assert!(!examples(&main_help).is_empty());
        for sub in cli.get_subcommands() {
            let help = sub
                .get_after_help()
                .map(ToString::to_string)
                .unwrap_or_default();
            let found = examples(&help);
            assert!(
                !found.is_empty(),
                "`platgen {}` has no examples",
                sub.get_name()
            );
            for args in found {
                assert_eq!(args[0], "platgen", "{args:?}");
                if let Err(e) = Cli::try_parse_from(&args) {
                    panic!("example {args:?} does not parse: {e}");
                }
            }
        }
    }

    #[test]
    fn explain_offers_every_rule_name() {
        let cli = Cli::command();
        let explain = cli.find_subcommand("explain").unwrap();
        let rule = explain
            .get_arguments()
            .find(|a| a.get_id() == "rule")
            .unwrap();
        let offered: Vec<String> = rule
            .get_possible_values()
            .iter()
            .map(|v| v.get_name().to_owned())
            .collect();
        assert_eq!(offered.len(), platgen::check::all_rules().count());
        assert!(offered.iter().any(|n| n == "port-conflict"));
        // Codes and unknown names still reach platgen's own lookup.
        assert!(Cli::try_parse_from(["platgen", "explain", "pg201"]).is_ok());
    }
}

//! What the generated completion scripts leave out: clap's fish and
//! PowerShell generators complete no values of a positional argument, so
//! `platgen explain <TAB>` would offer file names there. This adds the
//! rules' names, with their summaries, for those shells (bash and zsh get
//! them from clap already).

use std::fmt::Write as _;

use crate::check;

/// `script`, as generated for `shell` (`fish`, `powershell`, ...), with the
/// rules' names added for `explain`.
pub fn with_rule_names(shell: &str, mut script: String) -> String {
    match shell {
        "fish" => {
            for rule in check::all_rules() {
                let _ = writeln!(
                    script,
                    "complete -c platgen -n \"__fish_platgen_using_subcommand explain\" -f -a \"{}\" -d '{}'",
                    rule.name,
                    rule.summary().replace('\\', "\\\\").replace('\'', "\\'")
                );
            }
            // Nothing else (no file names) after `explain`.
            script.push_str(
                "complete -c platgen -n \"__fish_platgen_using_subcommand explain\" -f\n",
            );
            script
        }
        "powershell" => {
            const CASE: &str = "'platgen;explain' {\n";
            let Some(at) = script.find(CASE).map(|i| i + CASE.len()) else {
                return script;
            };
            let mut lines = String::new();
            for rule in check::all_rules() {
                let _ = writeln!(
                    lines,
                    "            [CompletionResult]::new('{0}', '{0}', [CompletionResultType]::ParameterValue, '{1}')",
                    rule.name,
                    rule.summary().replace('\'', "''")
                );
            }
            script.insert_str(at, &lines);
            script
        }
        _ => script,
    }
}

//! GitHub Actions workflow commands: `::error file=…,line=…,col=…::message`,
//! which GitHub shows as annotations on the pull request's diff.

use std::fmt::Write as _;

use super::{Diagnostic, Position, Severity};
use crate::source::SourceFile;

/// Escapes a message the way the Actions runner unescapes it.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Property values additionally may not contain `:` or `,`.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(source: &SourceFile, diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let p = Position::of(source, d.primary.span);
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut message = d.message.clone();
        for label in &d.secondary {
            let at = Position::of(source, label.span);
            let _ = write!(
                message,
                "\n{}:{}:{}: {}",
                source.name(),
                at.line,
                at.column,
                label.message
            );
        }
        // Notes say, for one, which environment a problem is in.
        for note in &d.notes {
            let _ = write!(message, "\nnote: {note}");
        }
        if let Some(help) = &d.help {
            let _ = write!(message, "\nhelp: {help}");
        }
        let _ = writeln!(
            out,
            "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            escape_property(source.name()),
            p.line,
            p.column,
            p.end_line,
            p.end_column,
            escape_property(&format!("{} {}", d.code, d.rule)),
            escape_data(&message)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_the_runner_unescapes() {
        assert_eq!(escape_data("a%b\nc"), "a%25b%0Ac");
        assert_eq!(escape_property("x:1,y"), "x%3A1%2Cy");
    }
}

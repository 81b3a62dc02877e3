//! Machine-readable output: one JSON document for all checked files.

use serde::Serialize;

use super::{Counts, Diagnostic, Label, Position};
use crate::source::SourceFile;

#[derive(Serialize)]
struct Document<'a> {
    /// Bumped when a field changes meaning or disappears.
    version: u32,
    diagnostics: Vec<Entry<'a>>,
    summary: Summary,
}

#[derive(Serialize)]
struct Summary {
    files: usize,
    errors: usize,
    warnings: usize,
}

#[derive(Serialize)]
struct Entry<'a> {
    file: &'a str,
    code: &'a str,
    rule: &'a str,
    severity: &'a str,
    message: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    labels: Vec<LabelEntry<'a>>,
    help: Option<&'a str>,
    notes: &'a [String],
}

#[derive(Serialize)]
struct LabelEntry<'a> {
    primary: bool,
    message: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
}

fn label<'a>(source: &SourceFile, label: &'a Label, primary: bool) -> LabelEntry<'a> {
    let p = Position::of(source, label.span);
    LabelEntry {
        primary,
        message: &label.message,
        line: p.line,
        column: p.column,
        end_line: p.end_line,
        end_column: p.end_column,
    }
}

/// Renders every file's diagnostics as one JSON document.
pub fn render(files: &[(&SourceFile, &[Diagnostic])]) -> String {
    let mut diagnostics = Vec::new();
    let mut counts = Counts::default();
    for (source, diags) in files {
        let c = Counts::of(diags);
        counts.errors += c.errors;
        counts.warnings += c.warnings;
        for d in *diags {
            let p = Position::of(source, d.primary.span);
            let mut labels = vec![label(source, &d.primary, true)];
            labels.extend(d.secondary.iter().map(|l| label(source, l, false)));
            diagnostics.push(Entry {
                file: source.name(),
                code: d.code,
                rule: d.rule,
                severity: d.severity.as_str(),
                message: &d.message,
                line: p.line,
                column: p.column,
                end_line: p.end_line,
                end_column: p.end_column,
                labels,
                help: d.help.as_deref(),
                notes: &d.notes,
            });
        }
    }
    let document = Document {
        version: 1,
        diagnostics,
        summary: Summary {
            files: files.len(),
            errors: counts.errors,
            warnings: counts.warnings,
        },
    };
    let mut out = serde_json::to_string_pretty(&document).unwrap_or_default();
    out.push('\n');
    out
}

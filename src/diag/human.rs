//! rustc-style output: the source line, a caret under the problem, labels
//! for the other places involved, then help and notes.

use annotate_snippets::renderer::DecorStyle;
use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use super::{Diagnostic, Severity};
use crate::source::SourceFile;

/// Renders `diagnostics` (already sorted) for a terminal or a log.
pub fn render(source: &SourceFile, diagnostics: &[Diagnostic], color: bool) -> String {
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    }
    .decor_style(DecorStyle::Ascii);
    let mut out = String::new();
    for diagnostic in diagnostics {
        out.push_str(&renderer.render(&report(source, diagnostic)));
        out.push_str("\n\n");
    }
    out
}

fn report<'a>(source: &'a SourceFile, d: &'a Diagnostic) -> Vec<Group<'a>> {
    let level = match d.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let primary = source.clamp_span(d.primary.span);
    // Only the lines the labels are on (and those between) go to the
    // renderer, which reads every line it is given: handing it the whole
    // file made each message cost the file's length.
    let secondary: Vec<_> = d
        .secondary
        .iter()
        .map(|l| source.clamp_span(l.span))
        .collect();
    let lo = secondary
        .iter()
        .map(|s| s.start)
        .fold(primary.start, usize::min);
    let hi = secondary
        .iter()
        .map(|s| s.end)
        .fold(primary.end, usize::max);
    let (lines, first_line) = source.lines_of(lo, hi);
    let local = |s: crate::source::Span| s.start - lines.start..s.end - lines.start;
    let mut snippet = Snippet::source(&source.text()[lines.range()])
        .line_start(first_line)
        .path(source.name())
        .fold(true)
        .annotation(
            AnnotationKind::Primary
                .span(local(primary))
                .label(non_empty(&d.primary.message)),
        );
    for (label, span) in d.secondary.iter().zip(secondary) {
        snippet = snippet.annotation(
            AnnotationKind::Context
                .span(local(span))
                .label(non_empty(&label.message)),
        );
    }
    let mut title = level
        .primary_title(d.message.as_str())
        .id(d.code)
        .element(snippet);
    for note in &d.notes {
        title = title.element(Level::NOTE.message(note.as_str()));
    }
    if let Some(help) = &d.help {
        title = title.element(Level::HELP.message(help.as_str()));
    }
    vec![title]
}

fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

//! Problems found in a spec, as data.
//!
//! A [`Diagnostic`] knows which rule found it, how severe it is, what it says,
//! and where: a primary label and any number of secondary labels (the other
//! side of a conflict, the first of two duplicates). Rendering is separate:
//! [`human`] (rustc-style snippets), [`json`] and [`github`] (workflow
//! annotations) all read the same data.

pub mod github;
pub mod human;
pub mod json;

use crate::source::{SourceFile, Span};

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth fixing; fails only under `--deny-warnings`.
    Warning,
    /// The spec cannot be rendered.
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// What every rule declares about itself. The rule's documentation is the
/// `//!` block at the top of its source file, so that the text `platgen
/// explain` prints and the text next to the code are one and the same.
#[derive(Debug)]
pub struct Rule {
    /// A stable code, `PG` and three digits.
    pub code: &'static str,
    /// A stable kebab-case name.
    pub name: &'static str,
    pub severity: Severity,
    /// The source file of the rule; its leading `//!` lines are its documentation.
    pub source: &'static str,
}

impl Rule {
    /// The rule's documentation: the leading `//!` block of its module.
    pub fn doc(&self) -> String {
        let mut doc = String::new();
        for line in self.source.lines() {
            let Some(rest) = line.strip_prefix("//!") else {
                break;
            };
            doc.push_str(rest.strip_prefix(' ').unwrap_or(rest));
            doc.push('\n');
        }
        doc
    }

    /// The first paragraph of the documentation, on one line.
    pub fn summary(&self) -> String {
        self.doc()
            .split("\n\n")
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A labelled place in the source.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// One problem in one spec.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    pub code: &'static str,
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    pub primary: Label,
    pub secondary: Vec<Label>,
    pub help: Option<String>,
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// A problem found by `rule`, at `span`, with the rule's own severity.
    pub fn new(rule: &Rule, span: Span, message: impl Into<String>) -> Self {
        Self {
            code: rule.code,
            rule: rule.name,
            severity: rule.severity,
            message: message.into(),
            primary: Label {
                span,
                message: String::new(),
            },
            secondary: Vec::new(),
            help: None,
            notes: Vec::new(),
        }
    }

    /// Text under the primary caret.
    #[must_use]
    pub fn with_label(mut self, message: impl Into<String>) -> Self {
        self.primary.message = message.into();
        self
    }

    /// Another place that takes part in the problem.
    #[must_use]
    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.secondary.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    #[must_use]
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Puts diagnostics in source order (then by code), the order all renderers use.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (a.primary.span.start, a.code, &a.message).cmp(&(b.primary.span.start, b.code, &b.message))
    });
}

/// Counts of errors and warnings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub errors: usize,
    pub warnings: usize,
}

impl Counts {
    pub fn of(diagnostics: &[Diagnostic]) -> Self {
        let errors = diagnostics.iter().filter(|d| d.is_error()).count();
        Self {
            errors,
            warnings: diagnostics.len() - errors,
        }
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.errors, self.warnings) {
            (0, 0) => f.write_str("no problems"),
            (e, 0) => f.write_str(&plural(e, "error")),
            (0, w) => f.write_str(&plural(w, "warning")),
            (e, w) => write!(f, "{} and {}", plural(e, "error"), plural(w, "warning")),
        }
    }
}

/// A label's position as the renderers report it: 1-based line and column
/// of its start and end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

impl Position {
    pub fn of(source: &SourceFile, span: Span) -> Self {
        let span = source.clamp_span(span);
        let start = source.line_col(span.start);
        let end = source.line_col(span.end);
        Self {
            line: start.line,
            column: start.column,
            end_line: end.line,
            end_column: end.column,
        }
    }
}

//! The spec: `platform.yaml` as written, parsed with spans.
//!
//! [`parse`] turns a source into a [`Spec`] or into every problem that stops
//! it from being one: YAML syntax and limits ([`rules::yaml_syntax`],
//! [`rules::yaml_limits`]), then the schema pass ([`schema`]) for duplicate and
//! unknown keys, missing keys, wrong types and invalid values.

pub mod rules;
pub mod schema;
pub mod types;
pub mod yaml;

use std::sync::OnceLock;

pub use types::*;
pub use yaml::Spanned;

use crate::diag::Diagnostic;
use crate::source::{SourceFile, Span};
use yaml::{YamlProblem, YamlProblemKind};

/// The JSON Schema of the spec, as `platgen schema` prints it.
pub fn json_schema() -> schemars::Schema {
    schemars::schema_for!(Spec)
}

fn schema_value() -> &'static serde_json::Value {
    static SCHEMA: OnceLock<serde_json::Value> = OnceLock::new();
    SCHEMA.get_or_init(|| serde_json::to_value(json_schema()).unwrap_or_default())
}

/// Reads raw bytes as a spec source. Bytes that are not UTF-8 are replaced
/// for display, and reported at the first bad byte.
pub fn source_from_bytes(name: &str, bytes: &[u8]) -> (SourceFile, Option<Diagnostic>) {
    // A byte-order mark is not part of the text: without it, columns on the
    // first line count from the first real character.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => (SourceFile::new(name, text), None),
        Err(e) => {
            let at = e.valid_up_to();
            let source = SourceFile::new(name, String::from_utf8_lossy(bytes));
            let d = Diagnostic::new(
                &rules::yaml_syntax::RULE,
                Span::new(at, at),
                format!(
                    "the file is not UTF-8 text: invalid byte 0x{:02x} at offset {at}",
                    bytes[at]
                ),
            )
            .with_label("not UTF-8")
            .with_help("platform.yaml must be UTF-8 text; is this the right file?");
            (source, Some(d))
        }
    }
}

fn yaml_diagnostic(p: YamlProblem) -> Diagnostic {
    let rule = match p.kind {
        YamlProblemKind::Limit => &rules::yaml_limits::RULE,
        YamlProblemKind::Syntax | YamlProblemKind::Shape => &rules::yaml_syntax::RULE,
    };
    let mut d = Diagnostic::new(rule, p.span, p.message).with_label(match p.kind {
        YamlProblemKind::Syntax => "the YAML parser stopped here",
        YamlProblemKind::Limit => "limit reached here",
        YamlProblemKind::Shape => "this value does not fit the spec",
    });
    if let Some(defined) = p.defined_at {
        d = d.with_secondary(defined, "the anchor is defined here");
    }
    if p.kind == YamlProblemKind::Syntax {
        d = d.with_note(
            "the mistake is often just before this point: an unclosed bracket or quote, or a tab",
        );
    }
    d
}

/// What parsing found: the typed spec when it could be read, and every
/// problem of syntax and shape.
///
/// A spec whose only problems are duplicate keys is still read (keeping the
/// first of each), so that the rules can report everything else in the same
/// run; the duplicates remain errors.
#[derive(Debug)]
pub struct Parsed {
    pub spec: Option<Spec>,
    pub problems: Vec<Diagnostic>,
}

/// Parses a spec, reporting every problem of syntax and shape.
pub fn parse(source: &SourceFile) -> Parsed {
    let tree = match yaml::parse_tree(source) {
        Ok(tree) => tree,
        Err(p) => {
            return Parsed {
                spec: None,
                problems: vec![yaml_diagnostic(p)],
            };
        }
    };
    let mut problems = schema::validate(source, &tree, schema_value());
    let duplicates = if problems.is_empty() {
        yaml::Duplicates::Reject
    } else if problems
        .iter()
        .all(|d| d.code == rules::duplicate_key::RULE.code)
    {
        yaml::Duplicates::KeepFirst
    } else {
        return Parsed {
            spec: None,
            problems,
        };
    };
    match yaml::parse_typed::<Spec>(source, duplicates) {
        Ok(spec) => Parsed {
            spec: Some(spec),
            problems,
        },
        Err(p) => {
            problems.push(yaml_diagnostic(p));
            Parsed {
                spec: None,
                problems,
            }
        }
    }
}

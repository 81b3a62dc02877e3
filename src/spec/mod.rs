//! The spec: `platform.yaml` as written, parsed with spans.
//!
//! [`parse`] turns a source into a [`Spec`] or into every problem that stops
//! it from being one: YAML syntax and limits ([`rules::yaml_syntax`],
//! [`rules::yaml_limits`]), then the schema pass ([`schema`]) for duplicate and
//! unknown keys, missing keys, wrong types and invalid values.

pub mod environment;
pub mod rules;
pub mod schema;
pub mod schema_table;
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

/// A schema and its compiled form.
type SchemaPair = (serde_json::Value, schema::Compiled);

/// The committed `platform.schema.json`, built into the binary. The build
/// script compiles it too, so that `check` neither generates the schema
/// from the types nor reads JSON at every start; the text is parsed only
/// to compare it with the generated one.
const COMMITTED_SCHEMA: &str = include_str!("../../platform.schema.json");

/// A schema to check against: the committed one, compiled at build time,
/// or one given whole (a test's stale copy).
enum Committed<'s> {
    BuiltIn(schema::Compiled),
    #[cfg_attr(not(test), allow(dead_code))]
    Given(&'s SchemaPair),
}

impl Committed<'_> {
    fn compiled(&self) -> &schema::Compiled {
        match self {
            Committed::BuiltIn(c) => c,
            Committed::Given(pair) => &pair.1,
        }
    }

    /// Whether this schema is the one the types generate.
    fn is_generated(&self) -> bool {
        match self {
            Committed::BuiltIn(_) => committed_json().is_some_and(|j| *j == generated_schema().0),
            Committed::Given(pair) => pair.0 == generated_schema().0,
        }
    }
}

/// The committed schema as JSON; `None` if it does not read as JSON.
fn committed_json() -> Option<&'static serde_json::Value> {
    static JSON: OnceLock<Option<serde_json::Value>> = OnceLock::new();
    JSON.get_or_init(|| serde_json::from_str(COMMITTED_SCHEMA).ok())
        .as_ref()
}

/// The schema generated from the types now, compiled.
fn generated_schema() -> &'static SchemaPair {
    static SCHEMA: OnceLock<SchemaPair> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let json = json_schema().to_value();
        let compiled = schema::Compiled::new(&json);
        (json, compiled)
    })
}

/// Reads raw bytes as a spec source. Bytes that are not UTF-8 are replaced
/// for display, and reported at the first bad byte. UTF-8 bytes become the
/// text itself, not a copy: a large spec is not held twice.
pub fn source_from_bytes(name: &str, mut bytes: Vec<u8>) -> (SourceFile, Option<Diagnostic>) {
    // A byte-order mark is not part of the text: without it, columns on the
    // first line count from the first real character.
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    match String::from_utf8(bytes) {
        Ok(mut text) => {
            text.shrink_to_fit();
            (SourceFile::new(name, text), None)
        }
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            let source = SourceFile::new(name, String::from_utf8_lossy(&bytes));
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

/// The parser's words for a line indented otherwise than the lines around
/// it expect.
const INDENTATION_WORDS: &[&str] = &[
    "mapping values are not allowed in this context",
    "did not find expected '-' indicator",
    "did not find expected key",
];

/// For a syntax error that reads like wrong indentation: the help that says
/// so, and the line before (where the mistake often is), with both
/// indentations.
fn indentation_hint(source: &SourceFile, at: Span) -> Option<(String, Option<(Span, String)>)> {
    let text = source.text();
    let start = text[..at.start.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let indent = |line: &str| line.len() - line.trim_start_matches(' ').len();
    let this = indent(&text[start..]);
    // The nearest line above with content (not blank, not only a comment).
    let mut end = start.checked_sub(1)?;
    let before = loop {
        let line_start = text[..end].rfind('\n').map_or(0, |i| i + 1);
        let line = &text[line_start..end];
        let content = line.trim_start_matches(' ');
        if !content.trim().is_empty() && !content.starts_with('#') {
            break Some((line_start, line));
        }
        if line_start == 0 {
            break None;
        }
        end = line_start - 1;
    };
    let help = "this reads like wrong indentation: the keys of one mapping, and the `-` of one list, start in the same column, and what belongs to a key is indented further than the key".to_owned();
    let line = source.line_col(start).line;
    let label = before.map(|(line_start, text)| {
        let shown = indent(text);
        let content = text[shown..].trim_end();
        let span = Span::new(line_start + shown, line_start + shown + content.len());
        (
            span,
            format!("indented {shown} spaces; line {line} is indented {this}"),
        )
    });
    Some((help, label))
}

fn yaml_diagnostic(source: &SourceFile, p: YamlProblem) -> Diagnostic {
    let indentation = (p.kind == YamlProblemKind::Syntax
        && INDENTATION_WORDS.iter().any(|w| p.message.contains(w)))
    .then(|| indentation_hint(source, p.span))
    .flatten();
    let rule = match p.kind {
        YamlProblemKind::Limit => &rules::yaml_limits::RULE,
        YamlProblemKind::Syntax | YamlProblemKind::Shape => &rules::yaml_syntax::RULE,
    };
    let mut d = Diagnostic::new(rule, p.span, p.message).with_label(match p.kind {
        YamlProblemKind::Syntax => "the YAML parser stopped here",
        YamlProblemKind::Limit => "limit reached here",
        YamlProblemKind::Shape => "this value does not fit the spec",
    });
    if let Some(help) = p.help {
        d = d.with_help(help);
    }
    if let Some((help, before)) = indentation {
        d = d.with_help(help);
        if let Some((span, label)) = before {
            d = d.with_secondary(span, label);
        }
    }
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
///
/// The schema pass runs against the committed schema built into the
/// binary. A test fails while that copy is stale, but a binary built from a
/// stale copy must still never wrongly refuse or accept a key the types
/// define: whenever the committed schema finds a problem, or the types
/// refuse what it accepted, the schema is generated from the types and, if
/// it differs, the spec is checked again against that one. A spec that
/// passes costs no generation; only one that fails pays for the second look.
pub fn parse(source: &SourceFile) -> Parsed {
    parse_with(
        source,
        schema::Compiled::built_in()
            .map(Committed::BuiltIn)
            .as_ref(),
    )
}

fn only_duplicates(problems: &[Diagnostic]) -> bool {
    problems
        .iter()
        .all(|d| d.code == rules::duplicate_key::RULE.code)
}

/// Specs at least this long are checked against the schema and read
/// into types side by side (about 150 services).
const SIDE_BY_SIDE_BYTES: usize = 64 << 10;

fn parse_with(source: &SourceFile, committed: Option<&Committed>) -> Parsed {
    parse_passes(source, committed, source.text().len() >= SIDE_BY_SIDE_BYTES)
}

fn parse_passes(source: &SourceFile, committed: Option<&Committed>, side_by_side: bool) -> Parsed {
    let tree = match yaml::parse_tree(source) {
        Ok(tree) => tree,
        Err(p) => {
            return Parsed {
                spec: None,
                problems: vec![yaml_diagnostic(source, p)],
            };
        }
    };
    let generated = || &generated_schema().1;
    let mut checked_against_generated = committed.is_none();
    let schema = committed.map_or_else(generated, Committed::compiled);
    // The schema pass and the typed pass read the same tree. On a large
    // spec they run side by side, the schema pass on a thread of its own
    // (at 1,000 services 10.8 M instructions beside the typed pass's 13.4
    // M, while the second core waited); the typed spec counts only where
    // the schema finds nothing but repeated keys. Below that size a
    // thread costs more than it saves, and the typed pass runs only when
    // it counts.
    let (mut problems, mut typed) = if side_by_side {
        std::thread::scope(|scope| {
            let schema_pass = scope.spawn(|| schema::validate(source, &tree, schema));
            let typed = yaml::from_tree::<Spec>(source, &tree);
            let problems = schema_pass
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e));
            (problems, Some(typed))
        })
    } else {
        (schema::validate(source, &tree, schema), None)
    };
    let mut second_look = |problems: &mut Vec<Diagnostic>| {
        if !checked_against_generated {
            checked_against_generated = true;
            if committed.is_some_and(|c| !c.is_generated()) {
                *problems = schema::validate(source, &tree, generated());
                return true;
            }
        }
        false
    };
    if !problems.is_empty() {
        second_look(&mut problems);
    }
    // Duplicate keys alone do not stop the typed pass: it keeps the first of
    // each, so that the rules can report everything else in the same run.
    if !only_duplicates(&problems) {
        return Parsed {
            spec: None,
            problems,
        };
    }
    let typed = typed
        .take()
        .unwrap_or_else(|| yaml::from_tree::<Spec>(source, &tree));
    // The types refuse what the schema accepted: is the committed schema
    // stale? The tree is checked against the schema the types generate.
    if typed.is_err() && second_look(&mut problems) && !only_duplicates(&problems) {
        return Parsed {
            spec: None,
            problems,
        };
    }
    match typed {
        Ok(spec) => Parsed {
            spec: Some(spec),
            problems,
        },
        Err(p) => {
            problems.push(yaml_diagnostic(source, p));
            Parsed {
                spec: None,
                problems,
            }
        }
    }
}

/// The spec generator, for the tests of the spec's readers.
#[cfg(test)]
#[allow(dead_code)]
#[path = "../../examples/gen-spec.rs"]
pub(crate) mod gen_spec;

#[cfg(test)]
mod tests {
    use super::*;

    fn spec_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                spec_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                out.push(path);
            }
        }
    }

    /// Side by side or one after the other, the two passes find the same
    /// problems and the same typed spec: on every spec of the tests and
    /// examples (valid and invalid), the root platform and generated ones.
    #[test]
    fn the_passes_side_by_side_find_what_they_find_one_after_the_other() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = vec![root.join("platform.yaml")];
        spec_files(&root.join("tests/fixtures"), &mut files);
        spec_files(&root.join("examples"), &mut files);
        let mut texts: Vec<(String, String)> = files
            .iter()
            // Not UTF-8 (binary fixtures) is refused before either pass.
            .filter_map(|p| Some((p.display().to_string(), std::fs::read_to_string(p).ok()?)))
            .collect();
        for n in [1, 40, 300] {
            texts.push((format!("{n} generated services"), gen_spec::spec(n)));
        }
        // A large spec with a key the schema refuses, and one with a
        // service twice (a repeated key only: the typed spec is read).
        let big = gen_spec::spec(300);
        for (what, from, to) in [
            (
                "a wrong key",
                "\n  svc-1:\n",
                "\n  svc-1:\n    colour: blue\n",
            ),
            (
                "a service twice",
                "\n  svc-2:\n",
                "\n  svc-1:\n    image: x:1\n  svc-2:\n",
            ),
        ] {
            let text = big.replacen(from, to, 1);
            assert_ne!(text, big);
            texts.push((format!("300 services, {what}"), text));
        }
        let mut failing = 0;
        for (name, text) in &texts {
            let source = SourceFile::new(name.as_str(), text.as_str());
            let committed = schema::Compiled::built_in().map(Committed::BuiltIn);
            let serial = parse_passes(&source, committed.as_ref(), false);
            let beside = parse_passes(&source, committed.as_ref(), true);
            assert_eq!(format!("{serial:?}"), format!("{beside:?}"), "{name}");
            failing += usize::from(serial.spec.is_none());
        }
        assert!(
            texts.len() > 20 && failing > 5,
            "{} specs, {failing} refused",
            texts.len()
        );
    }

    const SPEC: &str =
        "name: demo\nservices:\n  web:\n    image: nginx:1.27.3-alpine\n    replicas: 2\n";

    /// The generated schema with `Service` changed by `edit`, as a committed
    /// copy that has fallen behind the types would be.
    fn stale(edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>)) -> SchemaPair {
        let mut json = json_schema().to_value();
        let props = json["$defs"]["Service"]["properties"]
            .as_object_mut()
            .unwrap();
        edit(props);
        let compiled = schema::Compiled::new(&json);
        (json, compiled)
    }

    #[test]
    fn the_committed_schema_is_the_generated_one() {
        let committed = committed_json().expect("platform.schema.json reads as JSON");
        assert!(
            *committed == generated_schema().0,
            "platform.schema.json is stale: run `cargo run -- schema > platform.schema.json`"
        );
    }

    #[test]
    fn the_built_in_table_is_the_committed_schema_compiled() {
        let committed = committed_json().expect("platform.schema.json reads as JSON");
        let built_in = schema::Compiled::built_in().expect("the build script compiled it");
        assert!(built_in == schema::Compiled::new(committed));
        assert!(Committed::BuiltIn(built_in).is_generated());
    }

    #[test]
    fn a_stale_schema_never_refuses_a_key_the_types_define() {
        let source = SourceFile::new("t.yaml", SPEC);
        let behind = stale(|p| {
            p.shift_remove("replicas");
        });
        let parsed = parse_with(&source, Some(&Committed::Given(&behind)));
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
        assert_eq!(
            parsed.spec.unwrap().services[0]
                .value
                .replicas
                .as_ref()
                .map(|r| r.value),
            Some(2)
        );
    }

    #[test]
    fn a_stale_schema_never_accepts_a_key_the_types_do_not_define() {
        let text = SPEC.replace("replicas: 2", "bogus: 2");
        let source = SourceFile::new("t.yaml", text.as_str());
        let ahead = stale(|p| {
            p.insert("bogus".into(), serde_json::json!({"type": "integer"}));
        });
        let parsed = parse_with(&source, Some(&Committed::Given(&ahead)));
        assert!(parsed.spec.is_none());
        assert_eq!(parsed.problems.len(), 1, "{:?}", parsed.problems);
        assert_eq!(parsed.problems[0].code, rules::unknown_key::RULE.code);
    }

    #[test]
    fn an_unreadable_committed_schema_falls_back_to_the_types() {
        let source = SourceFile::new("t.yaml", SPEC);
        let parsed = parse_with(&source, None);
        assert!(parsed.spec.is_some() && parsed.problems.is_empty());
    }
}

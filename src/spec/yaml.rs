//! The only module that talks to the YAML library.
//!
//! Parsing happens in two passes over the same text:
//!
//! 1. [`parse_tree`] reads the document into a [`Node`] tree in which every
//!    value and every key carries its span. Duplicate keys are passed through
//!    (not merged), so that the schema pass can report each one with both
//!    locations, and every budget (nesting depth, node count, aliases) is on.
//! 2. [`parse_typed`] deserializes the same text into the typed spec once the
//!    tree has passed the schema. Duplicate keys are rejected here as well,
//!    unless the caller has already reported them and asks to keep the first
//!    entry so that the remaining rules can run.

use std::fmt;

use serde::de::{Deserialize, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{DuplicateKeyPolicy, Error as YamlError};

use crate::source::{SourceFile, Span};

/// A value together with the span of the YAML node it was read from.
///
/// Equality, ordering and hashing look at the value only, so spanned strings
/// can be map keys.
#[derive(Debug, Clone)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub const fn new(value: T, span: Span) -> Self {
        Self { value, span }
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}
impl<T: Eq> Eq for Spanned<T> {}
impl<T: std::hash::Hash> std::hash::Hash for Spanned<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.value.hash(state);
    }
}
impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}
impl std::borrow::Borrow<str> for Spanned<String> {
    fn borrow(&self) -> &str {
        &self.value
    }
}

fn span_of(location: serde_saphyr::Location) -> Span {
    let span = location.span();
    match (span.byte_offset(), span.byte_len()) {
        (Some(start), Some(len)) => {
            let start = usize::try_from(start).unwrap_or(usize::MAX);
            Span::new(
                start,
                start.saturating_add(usize::try_from(len).unwrap_or(0)),
            )
        }
        _ => Span::default(),
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = serde_saphyr::Spanned::<T>::deserialize(deserializer)?;
        Ok(Self::new(spanned.value, span_of(spanned.referenced)))
    }
}

impl<T: schemars::JsonSchema> schemars::JsonSchema for Spanned<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> std::borrow::Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}

/// A YAML value as the schema pass sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in document order; duplicate keys are kept.
    Map(Vec<(Node, Node)>),
}

/// A YAML node: a value and where it stands. For a mapping or a sequence the
/// span is where the collection starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

impl Value {
    /// The JSON Schema type name this value has.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::Seq(_) => "array",
            Value::Map(_) => "object",
        }
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<Value, E> {
        i128::try_from(v)
            .map(Value::Int)
            .map_err(|_| E::custom("integer too large"))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Value, E> {
        String::from_utf8(v.to_vec())
            .map(Value::Str)
            .map_err(|_| E::custom("binary data is not text"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Node>()? {
            let value = map.next_value::<Node>()?;
            entries.push((key, value));
        }
        Ok(Value::Map(entries))
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(d)?;
        Ok(Node {
            value: spanned.value,
            span: spanned.span,
        })
    }
}

/// Why the YAML library refused a document, with where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlProblem {
    pub message: String,
    pub span: Span,
    /// A second location, for an alias: where its anchor was defined.
    pub defined_at: Option<Span>,
    pub kind: YamlProblemKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YamlProblemKind {
    /// Not YAML: bad syntax, bad indentation, a control character.
    Syntax,
    /// Valid YAML that exceeds a safety limit: nesting, node count, aliases.
    Limit,
    /// A YAML value that does not fit the typed spec (after the schema pass,
    /// this means the schema and the types disagree).
    Shape,
}

fn options(duplicates: DuplicateKeyPolicy) -> serde_saphyr::Options {
    serde_saphyr::options! {
        duplicate_keys: duplicates,
        with_snippet: false,
        // YAML 1.2: only true/false are booleans, so `on`, `yes` and `NO`
        // are strings, as editors that validate against the schema read them.
        strict_booleans: true,
        budget: serde_saphyr::budget! {
            // Specs are small; anything deeper than this is an attack or a mistake.
            max_depth: 64,
            max_nodes: 250_000,
        },
    }
}

fn problem(source: &SourceFile, error: &YamlError, kind_hint: YamlProblemKind) -> YamlProblem {
    let error = error.without_snippet();
    let locate = |loc: serde_saphyr::Location| {
        let span = span_of(loc);
        if span == Span::default() && (loc.line() > 1 || loc.column() > 1) {
            let line = usize::try_from(loc.line()).unwrap_or(usize::MAX);
            let column = usize::try_from(loc.column()).unwrap_or(usize::MAX);
            let start = source.offset_of(line, column);
            Span::new(start, start)
        } else {
            span
        }
    };
    let (span, defined_at) = match error.locations() {
        Some(locs) => {
            let primary = locs.primary_location().or_else(|| error.location());
            let span = primary.map_or(Span::default(), locate);
            let defined = (locs.defined_location != locs.reference_location
                && locs.defined_location.line() > 0)
                .then(|| locate(locs.defined_location))
                .filter(|d| *d != span);
            (span, defined)
        }
        None => (error.location().map_or(Span::default(), locate), None),
    };
    let raw = error.to_string();
    let (mut message, kind) = describe(&raw, kind_hint);
    if kind == YamlProblemKind::Limit && defined_at.is_some() {
        message.push_str(" through aliases (an alias bomb?)");
    }
    YamlProblem {
        message,
        span: source.clamp_span(span),
        defined_at: defined_at.map(|s| source.clamp_span(s)),
        kind,
    }
}

/// Turns the library's message into ours: without its own "at line X" suffix
/// (our renderer shows the location) and with budget breaches said plainly.
fn describe(raw: &str, kind_hint: YamlProblemKind) -> (String, YamlProblemKind) {
    let text = raw
        .find(" at line ")
        .map_or(raw, |i| &raw[..i])
        .trim()
        .to_owned();
    if text.contains("budget breached") || text.contains("recursion limit") {
        let what = if text.contains("Depth") || text.contains("recursion") {
            "the document nests deeper than 64 levels"
        } else if text.contains("Nodes") {
            "the document expands to more than 250,000 values"
        } else if text.contains("Alias") || text.contains("Anchor") {
            "the document uses too many aliases or anchors"
        } else {
            "the document is larger than platgen reads"
        };
        return (what.to_owned(), YamlProblemKind::Limit);
    }
    (text, kind_hint)
}

/// First pass: the whole document as a spanned tree, duplicate keys kept.
pub fn parse_tree(source: &SourceFile) -> Result<Node, YamlProblem> {
    serde_saphyr::from_str_with_options::<Node>(
        source.text(),
        options(DuplicateKeyPolicy::PassThrough),
    )
    .map_err(|e| problem(source, &e, YamlProblemKind::Syntax))
}

/// How the typed pass treats a duplicate key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duplicates {
    /// Refuse the document.
    Reject,
    /// Keep the first entry. Only for a document whose duplicates have already
    /// been reported as errors, so that the rules can still look at the rest.
    KeepFirst,
}

/// Second pass: the typed value. Only called on a tree the schema accepted.
pub fn parse_typed<T: DeserializeOwned>(
    source: &SourceFile,
    duplicates: Duplicates,
) -> Result<T, YamlProblem> {
    let policy = match duplicates {
        Duplicates::Reject => DuplicateKeyPolicy::Error,
        Duplicates::KeepFirst => DuplicateKeyPolicy::FirstWins,
    };
    serde_saphyr::from_str_with_options::<T>(source.text(), options(policy))
        .map_err(|e| problem(source, &e, YamlProblemKind::Shape))
}

/// Checks that generated text is YAML a strict reader accepts: every
/// document parses, and no mapping repeats a key. Returns the line and the
/// reason otherwise.
pub fn check_generated(text: &str) -> Result<(), (usize, String)> {
    serde_saphyr::from_multiple_with_options::<Node>(text, options(DuplicateKeyPolicy::Error))
        .map(|_| ())
        .map_err(|e| {
            let line = e
                .location()
                .map_or(0, |l| usize::try_from(l.line()).unwrap_or(0));
            let (message, _) = describe(&e.without_snippet().to_string(), YamlProblemKind::Syntax);
            (line, message)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_yaml_is_checked_strictly() {
        assert!(check_generated("a: 1\n---\nb: [1, 2]\n").is_ok());
        assert_eq!(check_generated("a: 1\na: 2\n").unwrap_err().0, 2);
        assert!(check_generated("a: [1\n").is_err());
    }

    fn tree(text: &str) -> Result<Node, YamlProblem> {
        parse_tree(&SourceFile::new("t.yaml", text))
    }

    #[test]
    fn keeps_duplicate_keys_with_their_spans() {
        let node = tree("a: 1\na: 2\n").unwrap();
        let Value::Map(entries) = node.value else {
            panic!("not a map")
        };
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].0.span, Span::new(0, 1));
        assert_eq!(entries[1].0.span, Span::new(5, 6));
    }

    #[test]
    fn deep_nesting_is_a_limit_problem() {
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        let err = tree(&deep).unwrap_err();
        assert_eq!(err.kind, YamlProblemKind::Limit, "{err:?}");
    }

    #[test]
    fn syntax_errors_are_located() {
        let err = tree("a: [1, 2\nb: 3\n").unwrap_err();
        assert_eq!(err.kind, YamlProblemKind::Syntax);
        assert!(err.span.start > 0, "{err:?}");
    }
}

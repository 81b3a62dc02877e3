//! The schema pass: checks the spanned YAML tree against the spec's own JSON
//! Schema (the one `platgen schema` prints), collecting every problem with
//! its location instead of stopping at the first.
//!
//! Because the schema is generated from the typed spec, what this pass
//! accepts is exactly what the types can hold, and what editors validate
//! against the published schema is exactly what platgen accepts. It
//! understands the subset of JSON Schema that schemars generates; a unit
//! test walks the generated schema to make sure no other keyword appears.
//!
//! The JSON Schema is compiled once into a [`Compiled`] table (references
//! resolved, types and properties looked up ahead of time), so checking a
//! value costs a few comparisons, not a walk through JSON maps. Paths for
//! messages (`services.api.ports[0]`) are only written out for a problem.

use crate::collections::HashMap;
use std::borrow::Cow;
use std::fmt::Write as _;

use serde_json::Value as Json;

use super::schema_table::{self, Additional, List, SchemaNode, Text, Ty};

use super::rules::{duplicate_key, invalid_value, missing_key, unknown_key, wrong_type};
use super::yaml::{Node, Value};
use crate::diag::Diagnostic;
use crate::source::{SourceFile, Span};
use crate::suggest;

fn admits(ty: Ty, value: &Value) -> bool {
    matches!(
        (ty, value),
        (Ty::Null, Value::Null)
            | (Ty::Boolean, Value::Bool(_))
            | (Ty::Integer | Ty::Number, Value::Int(_))
            | (Ty::Number, Value::Float(_))
            | (Ty::String, Value::Str)
            | (Ty::Array, Value::Seq(_))
            | (Ty::Object, Value::Map(_))
    )
}

/// The spec's schema, compiled for checking.
#[derive(Debug, Clone, PartialEq)]
pub struct Compiled {
    nodes: List<SchemaNode>,
    root: usize,
}

/// The committed `platform.schema.json` as the build script compiled it
/// (`None` if it did not read as JSON).
#[allow(clippy::unreadable_literal)]
const BUILT_IN: Option<(&[SchemaNode], usize)> =
    include!(concat!(env!("OUT_DIR"), "/schema_table.rs"));

impl Compiled {
    /// Compiles a JSON Schema of the subset schemars generates.
    pub fn new(schema: &Json) -> Compiled {
        let (nodes, root) = schema_table::compile(schema);
        Compiled {
            nodes: Cow::Owned(nodes),
            root,
        }
    }

    /// The committed schema, compiled when the binary was built; `None` if
    /// it does not read as JSON.
    pub fn built_in() -> Option<Compiled> {
        BUILT_IN.map(|(nodes, root)| Compiled {
            nodes: Cow::Borrowed(nodes),
            root,
        })
    }
}

/// Checks `tree` against `schema` and returns every problem found.
pub fn validate(source: &SourceFile, tree: &Node, schema: &Compiled) -> Vec<Diagnostic> {
    let mut v = Validator {
        source,
        schema,
        out: Vec::new(),
    };
    if tree.value == Value::Null {
        v.out.push(
            Diagnostic::new(
                &wrong_type::RULE,
                Span::default(),
                "the spec is empty: expected a mapping with at least `name` and `services`",
            )
            .with_help("the smallest spec is `name: demo` and `services: {web: {image: \"nginx:1.27-alpine\"}}`"),
        );
        return v.out;
    }
    v.check(
        tree,
        schema.root,
        &Path::Root,
        Span::new(tree.span().start, tree.span().start),
    );
    v.out
}

/// Where a value sits in the document, for messages: `services.api.ports[0]`.
/// Built on the stack as the walk descends; written out only for a problem.
#[derive(Clone, Copy)]
enum Path<'p> {
    Root,
    Key(&'p Path<'p>, &'p str),
    Index(&'p Path<'p>, usize),
}

impl Path<'_> {
    fn write(&self, out: &mut String) {
        match self {
            Path::Root => {}
            Path::Key(parent, key) => {
                parent.write(out);
                if !matches!(parent, Path::Root) {
                    out.push('.');
                }
                out.push_str(key);
            }
            Path::Index(parent, i) => {
                parent.write(out);
                let _ = write!(out, "[{i}]");
            }
        }
    }
    fn text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }
    /// "in `services.api`", or "at the top level".
    fn place(&self) -> String {
        if matches!(self, Path::Root) {
            "at the top level".to_owned()
        } else {
            format!("in `{}`", self.text())
        }
    }
    fn subject(&self) -> String {
        if matches!(self, Path::Root) {
            "the spec".to_owned()
        } else {
            format!("`{}`", self.text())
        }
    }
}

/// An entry named like one of an entry's own keys (a service `env`) is
/// most often that key of the entry before it, indented too little: the
/// first problem found in it says so, at its key.
fn too_little_indented(found: &mut [Diagnostic], name: &str, previous: Option<&Node>) {
    let Some(first) = found.iter_mut().min_by_key(|d| d.primary.span.start) else {
        return;
    };
    first.help = Some(match previous {
        Some(entry) => format!(
            "did you mean `{name}` as a key of `{}`? Every entry here can have a key `{name}`, so it is probably indented too little",
            entry.text
        ),
        None => format!(
            "every entry here can have a key `{name}`, so it is probably indented too little"
        ),
    });
    if let Some(entry) = previous {
        first.secondary.push(crate::diag::Label {
            span: entry.span(),
            message: "the entry it probably belongs to".to_owned(),
        });
    }
}

struct Validator<'a> {
    source: &'a SourceFile,
    schema: &'a Compiled,
    out: Vec<Diagnostic>,
}

fn type_phrase(ty: &str) -> &'static str {
    match ty {
        "null" => "nothing",
        "boolean" => "true or false",
        "integer" => "an integer",
        "number" => "a number",
        "string" => "a string",
        "array" => "a sequence",
        "object" => "a mapping",
        _ => "a value",
    }
}

fn join_or(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Maps at most this long find duplicate keys by comparison; longer ones
/// (`services` of a large platform) by hashing.
const LINEAR_KEYS: usize = 16;

impl<'a> Validator<'a> {
    fn node(&self, id: usize) -> &'a SchemaNode {
        &self.schema.nodes[id]
    }

    fn describe(node: &Node) -> String {
        let text = &node.text;
        match &node.value {
            Value::Null => "nothing (an empty value is null in YAML)".to_owned(),
            Value::Bool(_) => format!("the boolean `{text}`"),
            Value::Int(_) => format!("the integer `{text}`"),
            Value::Float(_) => format!("the number `{text}`"),
            Value::Str => format!("the string {text:?}"),
            Value::Seq(_) => "a sequence".to_owned(),
            Value::Map(_) => "a mapping".to_owned(),
        }
    }

    fn wrong_type(&mut self, node: &Node, expected: &[Ty], path: &Path) {
        let mut expected: Vec<&str> = expected
            .iter()
            .map(|t| t.name())
            .filter(|t| *t != "null")
            .collect();
        if expected.contains(&"integer") && expected.contains(&"number") {
            expected.retain(|t| *t != "integer");
        }
        let phrases: Vec<String> = expected.iter().map(|t| type_phrase(t).to_owned()).collect();
        let message = format!(
            "wrong type for {}: expected {}, found {}",
            path.subject(),
            join_or(&phrases),
            Self::describe(node)
        );
        let mut d = Diagnostic::new(&wrong_type::RULE, node.span(), message)
            .with_label(format!("expected {}", join_or(&phrases)));
        if expected == ["string"]
            && matches!(node.value, Value::Int(_) | Value::Float(_) | Value::Bool(_))
        {
            d = d.with_help(format!(
                "quote it to make it a string: \"{}\"",
                self.source.slice(node.span())
            ));
        } else if expected == ["array"] && matches!(node.value, Value::Str | Value::Int(_)) {
            d = d.with_help(format!(
                "write a list: `[{}]`",
                self.source.slice(node.span())
            ));
        } else if node.value == Value::Null
            && expected.contains(&"string")
            && matches!(path, Path::Key(Path::Key(_, "env"), _))
        {
            d = d.with_help("write `\"\"` for an empty string");
        } else if node.value == Value::Null && expected.contains(&"array") {
            d = d.with_help("write `[]` for an empty list, or remove the key");
        } else if node.value == Value::Null && expected.contains(&"object") {
            d = d.with_help("write `{}` for an empty mapping, or remove the key");
        }
        self.out.push(d);
    }

    fn check(&mut self, node: &Node, id: usize, path: &Path, owner: Span) {
        let schema = self.node(id);
        if let Some(branches) = &schema.branches {
            self.check_branches(node, branches, path, owner);
            return;
        }
        if let Some(allowed) = &schema.allowed {
            self.check_enum(node, allowed, path);
            return;
        }
        if let Some(ts) = &schema.types
            && !ts.iter().any(|t| admits(*t, &node.value))
        {
            self.wrong_type(node, ts, path);
            return;
        }
        match &node.value {
            Value::Map(entries) => self.check_object(node, entries, schema, path, owner),
            Value::Seq(items) => self.check_array(node, items, schema, path),
            Value::Int(i) => self.check_integer(node, i.get(), schema, path),
            _ => {}
        }
    }

    fn check_branches(&mut self, node: &Node, branches: &[usize], path: &Path, owner: Span) {
        // An enum written as oneOf of constants (an enum with documented variants).
        if !branches.is_empty() && branches.iter().all(|&b| self.node(b).has_const) {
            let consts: Vec<Text> = branches
                .iter()
                .filter_map(|&b| self.node(b).const_str.clone())
                .collect();
            self.check_enum(node, &consts, path);
            return;
        }
        let fitting: Vec<usize> = branches
            .iter()
            .copied()
            .filter(|&b| {
                self.node(b)
                    .all_types
                    .iter()
                    .any(|t| admits(*t, &node.value))
            })
            .collect();
        match fitting.as_slice() {
            [] => {
                let mut all = Vec::new();
                for &b in branches {
                    for &t in self.node(b).all_types.iter() {
                        if !all.contains(&t) {
                            all.push(t);
                        }
                    }
                }
                self.wrong_type(node, &all, path);
            }
            [only] => self.check(node, *only, path, owner),
            [first, rest @ ..] => {
                // Try each; keep the first branch that fits without errors,
                // or report the first branch's problems.
                let before = self.out.len();
                self.check(node, *first, path, owner);
                if self.out.len() == before {
                    return;
                }
                let first_errors = self.out.split_off(before);
                for &b in rest {
                    self.check(node, b, path, owner);
                    if self.out.len() == before {
                        return;
                    }
                    self.out.truncate(before);
                }
                self.out.extend(first_errors);
            }
        }
    }

    fn check_enum(&mut self, node: &Node, allowed: &[Text], path: &Path) {
        if node.value != Value::Str {
            self.wrong_type(node, &[Ty::String], path);
            return;
        }
        let s: &str = &node.text;
        if allowed.iter().any(|a| a == s) {
            return;
        }
        let list = allowed.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>();
        let mut d = Diagnostic::new(
            &invalid_value::RULE,
            node.span(),
            format!(
                "invalid value {s:?} for {}: expected {}",
                path.subject(),
                join_or(&list)
            ),
        )
        .with_label("not an allowed value");
        if let Some(help) = suggest::did_you_mean(s, allowed.iter().map(AsRef::as_ref)) {
            d = d.with_help(help);
        }
        self.out.push(d);
    }

    /// A key's text; a plain scalar key (`1000:`, `true:`) is the text written.
    fn key_text<'n>(&mut self, key: &'n Node, path: &Path) -> Option<&'n str> {
        if let Value::Seq(_) | Value::Map(_) = &key.value {
            self.out.push(
                Diagnostic::new(
                    &wrong_type::RULE,
                    key.span(),
                    format!(
                        "a mapping key {} must be text, not a collection",
                        path.place()
                    ),
                )
                .with_label("complex key"),
            );
            return None;
        }
        Some(&key.text)
    }

    /// Whether the mappings `id` describes have a key `name` of their own.
    fn is_key_of(&self, id: usize, name: &str) -> bool {
        self.node(id)
            .properties
            .as_ref()
            .is_some_and(|p| p.iter().any(|(k, _)| k == name))
    }

    fn check_object(
        &mut self,
        node: &Node,
        entries: &[(Node, Node)],
        schema: &'a SchemaNode,
        path: &Path,
        owner: Span,
    ) {
        let properties = schema.properties.as_deref();
        let mut seen_few: Vec<(&str, Span)> = Vec::new();
        let mut seen_many: HashMap<&str, Span> = HashMap::default();
        let many = entries.len() > LINEAR_KEYS;
        if many {
            seen_many.reserve(entries.len());
        }
        let mut misspelt: Vec<&str> = Vec::new();
        let mut previous: Option<&Node> = None;
        for (key, value) in entries {
            let Some(name) = self.key_text(key, path) else {
                continue;
            };
            let previous = previous.replace(key);
            let first = if many {
                seen_many.get(name).copied()
            } else {
                seen_few.iter().find(|(k, _)| *k == name).map(|(_, s)| *s)
            };
            if let Some(first) = first {
                self.out.push(
                    Diagnostic::new(
                        &duplicate_key::RULE,
                        key.span(),
                        format!("duplicate key `{name}` {}", path.place()),
                    )
                    .with_label("defined again here")
                    .with_secondary(first, "first defined here")
                    .with_help("YAML readers keep only one of them, usually the last, without a word; remove one or give it its own name"),
                );
                continue;
            }
            if many {
                seen_many.insert(name, key.span());
            } else {
                seen_few.push((name, key.span()));
            }
            let here = Path::Key(path, name);
            if let Some(prop) = properties.and_then(|p| p.iter().find(|(k, _)| k == name)) {
                self.check(value, prop.1, &here, key.span());
            } else if let Some(Additional::Schema(extra)) = schema.additional {
                let before = self.out.len();
                self.check(value, extra, &here, key.span());
                // A real entry named like a key (a service `gateway`) has
                // keys of an entry itself.
                let entry_like = matches!(&value.value, Value::Map(inner)
                    if inner.iter().any(|(k, _)| self.is_key_of(extra, &k.text)));
                if self.out.len() > before && self.is_key_of(extra, name) && !entry_like {
                    too_little_indented(&mut self.out[before..], name, previous);
                }
            } else if schema.prefixes.iter().any(|p| name.starts_with(p.as_ref())) {
                // An extension key (`x-...`), for anchors: anything goes.
            } else if properties.is_some() || schema.additional == Some(Additional::Forbidden) {
                let known: Vec<&str> = properties
                    .map(|p| p.iter().map(|(k, _)| k.as_ref()).collect())
                    .unwrap_or_default();
                let mut d = Diagnostic::new(
                    &unknown_key::RULE,
                    key.span(),
                    format!("unknown key `{name}` {}", path.place()),
                )
                .with_label("unknown key");
                d = if let Some(close) = suggest::closest(name, known.iter().copied()) {
                    misspelt.push(close);
                    d.with_help(format!("did you mean `{close}`?"))
                } else {
                    let mut list = String::new();
                    for (i, k) in known.iter().enumerate() {
                        let _ = write!(list, "{}`{k}`", if i == 0 { "" } else { ", " });
                    }
                    d.with_help(format!("known keys here: {list}"))
                };
                self.out.push(d);
            }
        }
        for r in schema.required.iter() {
            let present = if many {
                seen_many.contains_key(r.as_ref())
            } else {
                seen_few.iter().any(|(k, _)| *k == r.as_ref())
            };
            // A misspelt required key is one mistake, reported once (as unknown).
            if !present && !misspelt.iter().any(|m| *m == r.as_ref()) {
                let span = if owner == Span::default() {
                    Span::new(node.span().start, node.span().start)
                } else {
                    owner
                };
                self.out.push(
                    Diagnostic::new(
                        &missing_key::RULE,
                        span,
                        format!("{} is missing the required key `{r}`", path.subject()),
                    )
                    .with_label(format!("`{r}` is required here")),
                );
            }
        }
    }

    fn check_array(&mut self, node: &Node, items: &[Node], schema: &SchemaNode, path: &Path) {
        let (min, max) = (schema.min_items, schema.max_items);
        let len = items.len() as u64;
        if min.is_some_and(|m| len < m) || max.is_some_and(|m| len > m) {
            let expected = match (min, max) {
                (Some(a), Some(b)) if a == b => format!("exactly {a} items"),
                (Some(a), Some(b)) => format!("{a} to {b} items"),
                (Some(a), None) => format!("at least {a} items"),
                (None, Some(b)) => format!("at most {b} items"),
                (None, None) => unreachable!("guarded above"),
            };
            self.out.push(
                Diagnostic::new(
                    &invalid_value::RULE,
                    node.span(),
                    format!(
                        "{} must have {expected}, found {}",
                        path.subject(),
                        items.len()
                    ),
                )
                .with_label(format!("expected {expected}")),
            );
        }
        for (i, item) in items.iter().enumerate() {
            let item_schema = schema.prefix_items.get(i).copied().or(schema.items);
            if let Some(s) = item_schema {
                self.check(item, s, &Path::Index(path, i), item.span());
            }
        }
    }

    fn check_integer(&mut self, node: &Node, value: i128, schema: &SchemaNode, path: &Path) {
        let (low, high) = schema.int_range;
        if value < low || value > high {
            self.out.push(
                Diagnostic::new(
                    &invalid_value::RULE,
                    node.span(),
                    format!(
                        "{value} is out of range for {}: expected {low} to {high}",
                        path.subject()
                    ),
                )
                .with_label("out of range"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keywords [`Validator`] understands. Anything else in the schema would
    /// be silently ignored, so a test forbids it.
    const KEYWORDS: &[&str] = &[
        "$schema",
        "$defs",
        "$ref",
        "title",
        "description",
        "default",
        "type",
        "format",
        "properties",
        "additionalProperties",
        "patternProperties",
        "required",
        "items",
        "prefixItems",
        "minItems",
        "maxItems",
        "anyOf",
        "oneOf",
        "enum",
        "const",
        "minimum",
        "maximum",
    ];

    fn walk(schema: &Json, at: &str, bad: &mut Vec<String>) {
        if let Json::Object(o) = schema {
            for (k, v) in o {
                if !KEYWORDS.contains(&k.as_str()) {
                    bad.push(format!("{at}/{k}"));
                }
                match k.as_str() {
                    "properties" | "$defs" => {
                        for (name, sub) in v.as_object().into_iter().flatten() {
                            walk(sub, &format!("{at}/{k}/{name}"), bad);
                        }
                    }
                    "items" | "additionalProperties" => walk(v, &format!("{at}/{k}"), bad),
                    "anyOf" | "oneOf" | "prefixItems" => {
                        for (i, sub) in v.as_array().into_iter().flatten().enumerate() {
                            walk(sub, &format!("{at}/{k}/{i}"), bad);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn the_generated_schema_uses_only_keywords_the_validator_understands() {
        let schema = serde_json::to_value(crate::spec::json_schema()).unwrap();
        let mut bad = Vec::new();
        walk(&schema, "#", &mut bad);
        assert!(
            bad.is_empty(),
            "schema keywords the validator would ignore: {bad:?}"
        );
    }
}

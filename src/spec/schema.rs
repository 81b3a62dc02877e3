//! The schema pass: checks the spanned YAML tree against the spec's own JSON
//! Schema (the one `platgen schema` prints), collecting every problem with
//! its location instead of stopping at the first.
//!
//! Because the schema is generated from the typed spec, what this pass
//! accepts is exactly what the types can hold, and what editors validate
//! against the published schema is exactly what platgen accepts. It
//! understands the subset of JSON Schema that schemars generates; a unit
//! test walks the generated schema to make sure no other keyword appears.

use std::fmt::Write as _;

use serde_json::{Map, Value as Json};

use super::rules::{duplicate_key, invalid_value, missing_key, unknown_key, wrong_type};
use super::yaml::{Node, Value};
use crate::diag::Diagnostic;
use crate::source::{SourceFile, Span};
use crate::suggest;

/// Checks `tree` against `schema` and returns every problem found.
pub fn validate(source: &SourceFile, tree: &Node, schema: &Json) -> Vec<Diagnostic> {
    let mut v = Validator {
        source,
        root: schema,
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
        schema,
        &Path::root(),
        Span::new(tree.span.start, tree.span.start),
    );
    v.out
}

/// Where a value sits in the document, for messages: `services.api.ports[0]`.
#[derive(Clone)]
struct Path(String);

impl Path {
    fn root() -> Self {
        Self(String::new())
    }
    fn key(&self, key: &str) -> Self {
        if self.0.is_empty() {
            Self(key.to_owned())
        } else {
            Self(format!("{}.{key}", self.0))
        }
    }
    fn index(&self, i: usize) -> Self {
        Self(format!("{}[{i}]", self.0))
    }
    /// "in `services.api`", or "at the top level".
    fn place(&self) -> String {
        if self.0.is_empty() {
            "at the top level".to_owned()
        } else {
            format!("in `{}`", self.0)
        }
    }
    fn subject(&self) -> String {
        if self.0.is_empty() {
            "the spec".to_owned()
        } else {
            format!("`{}`", self.0)
        }
    }
}

struct Validator<'a> {
    source: &'a SourceFile,
    root: &'a Json,
    out: Vec<Diagnostic>,
}

fn obj(schema: &Json) -> &Map<String, Json> {
    static EMPTY: std::sync::OnceLock<Map<String, Json>> = std::sync::OnceLock::new();
    schema
        .as_object()
        .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
}

/// The alternatives of an `anyOf` or `oneOf`.
fn branches(o: &Map<String, Json>) -> Option<&[Json]> {
    o.get("anyOf")
        .or_else(|| o.get("oneOf"))
        .and_then(Json::as_array)
        .map(Vec::as_slice)
}

/// The JSON Schema types a schema allows, `None` when it does not say.
fn types(schema: &Json) -> Option<Vec<&str>> {
    match obj(schema).get("type")? {
        Json::String(t) => Some(vec![t.as_str()]),
        Json::Array(ts) => Some(ts.iter().filter_map(Json::as_str).collect()),
        _ => None,
    }
}

fn admits(ty: &str, value: &Value) -> bool {
    matches!(
        (ty, value),
        ("null", Value::Null)
            | ("boolean", Value::Bool(_))
            | ("integer" | "number", Value::Int(_))
            | ("number", Value::Float(_))
            | ("string", Value::Str(_))
            | ("array", Value::Seq(_))
            | ("object", Value::Map(_))
    )
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

impl<'a> Validator<'a> {
    fn resolve(&self, mut schema: &'a Json) -> &'a Json {
        // Chains of $ref are short; the bound only guards against a cycle.
        for _ in 0..16 {
            let Some(reference) = obj(schema).get("$ref").and_then(Json::as_str) else {
                break;
            };
            let name = reference.trim_start_matches("#/$defs/");
            match self.root.get("$defs").and_then(|d| d.get(name)) {
                Some(target) => schema = target,
                None => break,
            }
        }
        schema
    }

    /// Every type any of `branches` admits, each once, in order.
    fn union_types(&self, branches: &'a [Json]) -> Vec<&'a str> {
        let mut all = Vec::new();
        for b in branches {
            for t in self.all_types(b) {
                if !all.contains(&t) {
                    all.push(t);
                }
            }
        }
        all
    }

    /// Every type a (resolved) schema admits, following anyOf/oneOf.
    fn all_types(&self, schema: &'a Json) -> Vec<&'a str> {
        let schema = self.resolve(schema);
        let o = obj(schema);
        if let Some(branches) = branches(o) {
            return self.union_types(branches);
        }
        if o.contains_key("enum") || o.contains_key("const") {
            return vec!["string"];
        }
        types(schema).unwrap_or_default()
    }

    fn describe(&self, node: &Node) -> String {
        let text = self.source.slice(node.span);
        match &node.value {
            Value::Null => "nothing (an empty value is null in YAML)".to_owned(),
            Value::Bool(_) => format!("the boolean `{text}`"),
            Value::Int(_) => format!("the integer `{text}`"),
            Value::Float(_) => format!("the number `{text}`"),
            Value::Str(s) => format!("the string {s:?}"),
            Value::Seq(_) => "a sequence".to_owned(),
            Value::Map(_) => "a mapping".to_owned(),
        }
    }

    fn wrong_type(&mut self, node: &Node, expected: &[&str], path: &Path) {
        let mut expected: Vec<&str> = expected.iter().copied().filter(|t| *t != "null").collect();
        if expected.contains(&"integer") && expected.contains(&"number") {
            expected.retain(|t| *t != "integer");
        }
        let phrases: Vec<String> = expected.iter().map(|t| type_phrase(t).to_owned()).collect();
        let message = format!(
            "wrong type for {}: expected {}, found {}",
            path.subject(),
            join_or(&phrases),
            self.describe(node)
        );
        let mut d = Diagnostic::new(&wrong_type::RULE, node.span, message)
            .with_label(format!("expected {}", join_or(&phrases)));
        if expected == ["string"]
            && matches!(node.value, Value::Int(_) | Value::Float(_) | Value::Bool(_))
        {
            d = d.with_help(format!(
                "quote it to make it a string: \"{}\"",
                self.source.slice(node.span)
            ));
        } else if expected == ["array"] && matches!(node.value, Value::Str(_) | Value::Int(_)) {
            d = d.with_help(format!(
                "write a list: `[{}]`",
                self.source.slice(node.span)
            ));
        } else if node.value == Value::Null && expected.contains(&"array") {
            d = d.with_help("write `[]` for an empty list, or remove the key");
        } else if node.value == Value::Null && expected.contains(&"object") {
            d = d.with_help("write `{}` for an empty mapping, or remove the key");
        }
        self.out.push(d);
    }

    fn check(&mut self, node: &Node, schema: &'a Json, path: &Path, owner: Span) {
        let schema = self.resolve(schema);
        let o = obj(schema);

        if let Some(branches) = branches(o) {
            self.check_branches(node, branches, path, owner);
            return;
        }
        if let Some(allowed) = o.get("enum").and_then(Json::as_array) {
            self.check_enum(node, allowed.iter(), path);
            return;
        }
        if let Some(only) = o.get("const") {
            self.check_enum(node, std::iter::once(only), path);
            return;
        }
        if let Some(ts) = types(schema)
            && !ts.iter().any(|t| admits(t, &node.value))
        {
            self.wrong_type(node, &ts, path);
            return;
        }
        match &node.value {
            Value::Map(entries) => self.check_object(node, entries, o, path, owner),
            Value::Seq(items) => self.check_array(node, items, o, path),
            Value::Int(i) => self.check_integer(node, *i, o, path),
            _ => {}
        }
    }

    fn check_branches(&mut self, node: &Node, branches: &'a [Json], path: &Path, owner: Span) {
        // An enum written as oneOf of constants (an enum with documented variants).
        let consts: Vec<&Json> = branches
            .iter()
            .filter_map(|b| obj(self.resolve(b)).get("const"))
            .collect();
        if !consts.is_empty() && consts.len() == branches.len() {
            self.check_enum(node, consts.into_iter(), path);
            return;
        }
        let fitting: Vec<&Json> = branches
            .iter()
            .filter(|b| self.all_types(b).iter().any(|t| admits(t, &node.value)))
            .collect();
        match fitting.as_slice() {
            [] => {
                let all = self.union_types(branches);
                self.wrong_type(node, &all, path);
            }
            [only] => self.check(node, only, path, owner),
            [first, rest @ ..] => {
                // Try each; keep the first branch that fits without errors,
                // or report the first branch's problems.
                let before = self.out.len();
                self.check(node, first, path, owner);
                if self.out.len() == before {
                    return;
                }
                let first_errors = self.out.split_off(before);
                for b in rest {
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

    fn check_enum<'j>(
        &mut self,
        node: &Node,
        allowed: impl Iterator<Item = &'j Json>,
        path: &Path,
    ) {
        let allowed: Vec<&str> = allowed.filter_map(Json::as_str).collect();
        let Value::Str(s) = &node.value else {
            self.wrong_type(node, &["string"], path);
            return;
        };
        if allowed.contains(&s.as_str()) {
            return;
        }
        let list = allowed.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>();
        let mut d = Diagnostic::new(
            &invalid_value::RULE,
            node.span,
            format!(
                "invalid value {s:?} for {}: expected {}",
                path.subject(),
                join_or(&list)
            ),
        )
        .with_label("not an allowed value");
        if let Some(help) = suggest::did_you_mean(s, allowed.iter().copied()) {
            d = d.with_help(help);
        }
        self.out.push(d);
    }

    fn key_text(&mut self, key: &Node, path: &Path) -> Option<String> {
        match &key.value {
            Value::Str(s) => Some(s.clone()),
            Value::Seq(_) | Value::Map(_) => {
                self.out.push(
                    Diagnostic::new(
                        &wrong_type::RULE,
                        key.span,
                        format!(
                            "a mapping key {} must be text, not a collection",
                            path.place()
                        ),
                    )
                    .with_label("complex key"),
                );
                None
            }
            // A plain scalar key (`1000:`, `true:`) is read as the text written.
            _ => Some(self.source.slice(key.span).to_owned()),
        }
    }

    fn check_object(
        &mut self,
        node: &Node,
        entries: &[(Node, Node)],
        o: &'a Map<String, Json>,
        path: &Path,
        owner: Span,
    ) {
        let properties = o.get("properties").and_then(Json::as_object);
        let additional = o.get("additionalProperties");
        let mut seen: Vec<(String, Span)> = Vec::new();
        let mut misspelt: Vec<String> = Vec::new();
        for (key, value) in entries {
            let Some(name) = self.key_text(key, path) else {
                continue;
            };
            if let Some((_, first)) = seen.iter().find(|(k, _)| *k == name) {
                self.out.push(
                    Diagnostic::new(
                        &duplicate_key::RULE,
                        key.span,
                        format!("duplicate key `{name}` {}", path.place()),
                    )
                    .with_label("defined again here")
                    .with_secondary(*first, "first defined here")
                    .with_help("YAML readers keep only one of them, usually the last, without a word; remove one or give it its own name"),
                );
                continue;
            }
            seen.push((name.clone(), key.span));
            if let Some(prop) = properties.and_then(|p| p.get(&name)) {
                self.check(value, prop, &path.key(&name), key.span);
            } else if let Some(extra @ Json::Object(_)) = additional {
                self.check(value, extra, &path.key(&name), key.span);
            } else if properties.is_some() || additional == Some(&Json::Bool(false)) {
                let known: Vec<&str> = properties
                    .map(|p| p.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                let mut d = Diagnostic::new(
                    &unknown_key::RULE,
                    key.span,
                    format!("unknown key `{name}` {}", path.place()),
                )
                .with_label("unknown key");
                d = if let Some(close) = suggest::closest(&name, known.iter().copied()) {
                    misspelt.push(close.to_owned());
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
        if let Some(required) = o.get("required").and_then(Json::as_array) {
            for r in required.iter().filter_map(Json::as_str) {
                // A misspelt required key is one mistake, reported once (as unknown).
                if !seen.iter().any(|(k, _)| k == r) && !misspelt.iter().any(|m| m == r) {
                    let span = if owner == Span::default() {
                        Span::new(node.span.start, node.span.start)
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
    }

    fn check_array(&mut self, node: &Node, items: &[Node], o: &'a Map<String, Json>, path: &Path) {
        let min = o.get("minItems").and_then(Json::as_u64);
        let max = o.get("maxItems").and_then(Json::as_u64);
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
                    node.span,
                    format!(
                        "{} must have {expected}, found {}",
                        path.subject(),
                        items.len()
                    ),
                )
                .with_label(format!("expected {expected}")),
            );
        }
        let prefix = o.get("prefixItems").and_then(Json::as_array);
        for (i, item) in items.iter().enumerate() {
            let item_schema = prefix
                .and_then(|p| p.get(i))
                .or_else(|| o.get("items").filter(|s| s.is_object()));
            if let Some(s) = item_schema {
                self.check(item, s, &path.index(i), item.span);
            }
        }
    }

    fn check_integer(&mut self, node: &Node, value: i128, o: &Map<String, Json>, path: &Path) {
        let (mut low, mut high) = match o.get("format").and_then(Json::as_str) {
            Some("uint8") => (0, i128::from(u8::MAX)),
            Some("uint16") => (0, i128::from(u16::MAX)),
            Some("uint32") => (0, i128::from(u32::MAX)),
            Some("uint64") => (0, i128::from(u64::MAX)),
            Some("int32") => (i128::from(i32::MIN), i128::from(i32::MAX)),
            _ => (i128::from(i64::MIN), i128::from(i64::MAX)),
        };
        if let Some(m) = o.get("minimum").and_then(Json::as_i64) {
            low = low.max(i128::from(m));
        }
        if let Some(m) = o.get("maximum").and_then(Json::as_i64) {
            high = high.min(i128::from(m));
        }
        if value < low || value > high {
            self.out.push(
                Diagnostic::new(
                    &invalid_value::RULE,
                    node.span,
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

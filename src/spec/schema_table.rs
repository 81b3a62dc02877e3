//! The spec's JSON Schema compiled into a table for the schema pass:
//! references resolved, types and properties looked up ahead of time.
//!
//! This file is also compiled into the build script, which compiles the
//! committed `platform.schema.json` with it and writes the table out as
//! Rust statics ([`emit`]): a start of `check` then reads no JSON and
//! compiles nothing. It uses nothing but `std` and `serde_json` for that
//! reason.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;

use serde_json::{Map, Value as Json};

/// Text of the table: borrowed from the binary, or owned when compiled at
/// run time.
pub type Text = Cow<'static, str>;
/// A list of the table: borrowed from the binary, or owned.
pub type List<T> = Cow<'static, [T]>;

/// A JSON Schema type, as the `type` keyword names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Null,
    Boolean,
    Integer,
    Number,
    String,
    Array,
    Object,
}

impl Ty {
    fn from_name(name: &str) -> Option<Ty> {
        Some(match name {
            "null" => Ty::Null,
            "boolean" => Ty::Boolean,
            "integer" => Ty::Integer,
            "number" => Ty::Number,
            "string" => Ty::String,
            "array" => Ty::Array,
            "object" => Ty::Object,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Ty::Null => "null",
            Ty::Boolean => "boolean",
            Ty::Integer => "integer",
            Ty::Number => "number",
            Ty::String => "string",
            Ty::Array => "array",
            Ty::Object => "object",
        }
    }

    fn variant(self) -> &'static str {
        match self {
            Ty::Null => "Ty::Null",
            Ty::Boolean => "Ty::Boolean",
            Ty::Integer => "Ty::Integer",
            Ty::Number => "Ty::Number",
            Ty::String => "Ty::String",
            Ty::Array => "Ty::Array",
            Ty::Object => "Ty::Object",
        }
    }
}

/// What `additionalProperties` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Additional {
    /// Not given, or `true`.
    Allowed,
    /// `false`.
    Forbidden,
    /// A schema every other value must meet.
    Schema(usize),
}

/// One compiled schema: its `$ref`s resolved to indices into the table.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaNode {
    /// `anyOf` or `oneOf`.
    pub branches: Option<List<usize>>,
    /// `enum`, or `const` as an enum of one; only its strings (the spec's
    /// enums are names).
    pub allowed: Option<List<Text>>,
    /// Whether `const` is given, and its string if it is one.
    pub has_const: bool,
    pub const_str: Option<Text>,
    /// `type`, in the schema's order.
    pub types: Option<List<Ty>>,
    /// Every type this schema admits, following branches, in order.
    pub all_types: List<Ty>,
    pub properties: Option<List<(Text, usize)>>,
    pub additional: Option<Additional>,
    /// The literal prefixes of `patternProperties` (`^x-`): keys with one
    /// are allowed, whatever their value.
    pub prefixes: List<Text>,
    pub required: List<Text>,
    pub min_items: Option<u64>,
    pub max_items: Option<u64>,
    pub prefix_items: List<usize>,
    pub items: Option<usize>,
    /// The bounds an integer must lie in (`format`, `minimum`, `maximum`).
    pub int_range: (i128, i128),
}

impl Default for SchemaNode {
    fn default() -> Self {
        SchemaNode {
            branches: None,
            allowed: None,
            has_const: false,
            const_str: None,
            types: None,
            all_types: Cow::Borrowed(&[]),
            properties: None,
            additional: None,
            prefixes: Cow::Borrowed(&[]),
            required: Cow::Borrowed(&[]),
            min_items: None,
            max_items: None,
            prefix_items: Cow::Borrowed(&[]),
            items: None,
            int_range: (0, 0),
        }
    }
}

struct Compiler<'j> {
    root: &'j Json,
    nodes: Vec<SchemaNode>,
    /// `$defs` name -> its node, so that every definition is compiled once.
    defs: HashMap<&'j str, usize>,
}

fn obj(schema: &Json) -> Option<&Map<String, Json>> {
    schema.as_object()
}

impl<'j> Compiler<'j> {
    /// Follows a chain of `$ref` (short; the bound only guards against a cycle).
    fn resolve(&self, mut schema: &'j Json) -> (&'j Json, Option<&'j str>) {
        let mut name = None;
        for _ in 0..16 {
            let Some(reference) = obj(schema)
                .and_then(|o| o.get("$ref"))
                .and_then(Json::as_str)
            else {
                break;
            };
            let def = reference.trim_start_matches("#/$defs/");
            match self.root.get("$defs").and_then(|d| d.get(def)) {
                Some(target) => {
                    schema = target;
                    name = Some(def);
                }
                None => break,
            }
        }
        (schema, name)
    }

    fn compile(&mut self, schema: &'j Json) -> usize {
        let (schema, def) = self.resolve(schema);
        if let Some(def) = def
            && let Some(&id) = self.defs.get(def)
        {
            return id;
        }
        let id = self.nodes.len();
        self.nodes.push(SchemaNode::default());
        if let Some(def) = def {
            self.defs.insert(def, id);
        }
        let Some(o) = obj(schema) else {
            // `true`, or anything that is not a schema: admits everything.
            self.nodes[id].int_range = (i128::from(i64::MIN), i128::from(i64::MAX));
            return id;
        };
        let mut node = SchemaNode {
            int_range: int_range(o),
            ..SchemaNode::default()
        };
        if let Some(bs) = o
            .get("anyOf")
            .or_else(|| o.get("oneOf"))
            .and_then(Json::as_array)
        {
            node.branches = Some(bs.iter().map(|b| self.compile(b)).collect());
        }
        if let Some(values) = o.get("enum").and_then(Json::as_array) {
            node.allowed = Some(strings(values.iter()));
        } else if let Some(only) = o.get("const") {
            node.allowed = Some(strings(std::iter::once(only)));
        }
        node.has_const = o.contains_key("const");
        node.const_str = o
            .get("const")
            .and_then(Json::as_str)
            .map(|s| Cow::Owned(s.to_owned()));
        node.types = match o.get("type") {
            Some(Json::String(t)) => Some(Ty::from_name(t).into_iter().collect()),
            Some(Json::Array(ts)) => Some(
                ts.iter()
                    .filter_map(Json::as_str)
                    .filter_map(Ty::from_name)
                    .collect(),
            ),
            _ => None,
        };
        if let Some(props) = o.get("properties").and_then(Json::as_object) {
            node.properties = Some(
                props
                    .iter()
                    .map(|(k, v)| (Cow::Owned(k.clone()), self.compile(v)))
                    .collect(),
            );
        }
        if let Some(patterns) = o.get("patternProperties").and_then(Json::as_object) {
            node.prefixes = patterns
                .keys()
                .filter_map(|p| p.strip_prefix('^'))
                .filter(|p| !p.contains(|c: char| "\\.[](){}|*+?^$".contains(c)))
                .map(|p| Cow::Owned(p.to_owned()))
                .collect();
        }
        node.additional = match o.get("additionalProperties") {
            Some(extra @ Json::Object(_)) => Some(Additional::Schema(self.compile(extra))),
            Some(Json::Bool(false)) => Some(Additional::Forbidden),
            Some(_) => Some(Additional::Allowed),
            None => None,
        };
        node.required = o
            .get("required")
            .and_then(Json::as_array)
            .map(|r| strings(r.iter()))
            .unwrap_or_default();
        node.min_items = o.get("minItems").and_then(Json::as_u64);
        node.max_items = o.get("maxItems").and_then(Json::as_u64);
        if let Some(prefix) = o.get("prefixItems").and_then(Json::as_array) {
            node.prefix_items = prefix.iter().map(|p| self.compile(p)).collect();
        }
        if let Some(items) = o.get("items").filter(|s| s.is_object()) {
            node.items = Some(self.compile(items));
        }
        self.nodes[id] = node;
        id
    }

    /// Fills in every node's `all_types`: branches' types in order, each once;
    /// an enum is a string.
    fn all_types(&self, id: usize, depth: usize) -> Vec<Ty> {
        let node = &self.nodes[id];
        if let Some(bs) = &node.branches {
            let mut all = Vec::new();
            if depth < 16 {
                for &b in bs.iter() {
                    for t in self.all_types(b, depth + 1) {
                        if !all.contains(&t) {
                            all.push(t);
                        }
                    }
                }
            }
            return all;
        }
        if node.allowed.is_some() {
            return vec![Ty::String];
        }
        node.types
            .as_deref()
            .map(<[Ty]>::to_vec)
            .unwrap_or_default()
    }
}

fn strings<'j>(values: impl Iterator<Item = &'j Json>) -> List<Text> {
    values
        .filter_map(Json::as_str)
        .map(|s| Cow::Owned(s.to_owned()))
        .collect()
}

fn int_range(o: &Map<String, Json>) -> (i128, i128) {
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
    (low, high)
}

/// Compiles a JSON Schema of the subset schemars generates: the table and
/// the index of its root.
pub fn compile(schema: &Json) -> (Vec<SchemaNode>, usize) {
    let mut c = Compiler {
        root: schema,
        nodes: Vec::new(),
        defs: HashMap::new(),
    };
    let root = c.compile(schema);
    for id in 0..c.nodes.len() {
        c.nodes[id].all_types = Cow::Owned(c.all_types(id, 0));
    }
    (c.nodes, root)
}

fn list<T>(out: &mut String, items: &[T], mut item: impl FnMut(&mut String, &T)) {
    out.push_str("::std::borrow::Cow::Borrowed(&[");
    for (i, t) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        item(out, t);
    }
    out.push_str("])");
}

fn text(out: &mut String, s: &Text) {
    let _ = write!(out, "::std::borrow::Cow::Borrowed({:?})", s.as_ref());
}

fn index(out: &mut String, i: usize) {
    let _ = write!(out, "{i}");
}

fn ty(out: &mut String, t: Ty) {
    out.push_str(t.variant());
}

fn option<T>(out: &mut String, value: Option<&T>, some: impl FnOnce(&mut String, &T)) {
    match value {
        None => out.push_str("None"),
        Some(v) => {
            out.push_str("Some(");
            some(out, v);
            out.push(')');
        }
    }
}

/// The table as a Rust expression of type `(&[SchemaNode], usize)`, for
/// the build script: every list and text borrowed from the binary.
pub fn emit(nodes: &[SchemaNode], root: usize) -> String {
    let mut out = String::from("(&[\n");
    for n in nodes {
        out.push_str("SchemaNode { branches: ");
        option(&mut out, n.branches.as_ref(), |o, b| {
            list(o, b, |o, &i| index(o, i));
        });
        out.push_str(", allowed: ");
        option(&mut out, n.allowed.as_ref(), |o, a| list(o, a, text));
        let _ = write!(out, ", has_const: {}, const_str: ", n.has_const);
        option(&mut out, n.const_str.as_ref(), text);
        out.push_str(", types: ");
        option(&mut out, n.types.as_ref(), |o, t| {
            list(o, t, |o, &t| ty(o, t));
        });
        out.push_str(", all_types: ");
        list(&mut out, &n.all_types, |o, &t| ty(o, t));
        out.push_str(", properties: ");
        option(&mut out, n.properties.as_ref(), |o, p| {
            list(o, p, |o, (k, v)| {
                o.push('(');
                text(o, k);
                let _ = write!(o, ", {v})");
            });
        });
        out.push_str(", additional: ");
        option(&mut out, n.additional.as_ref(), |o, a| {
            let _ = match a {
                Additional::Allowed => write!(o, "Additional::Allowed"),
                Additional::Forbidden => write!(o, "Additional::Forbidden"),
                Additional::Schema(s) => write!(o, "Additional::Schema({s})"),
            };
        });
        out.push_str(", prefixes: ");
        list(&mut out, &n.prefixes, text);
        out.push_str(", required: ");
        list(&mut out, &n.required, text);
        let _ = write!(
            out,
            ", min_items: {:?}, max_items: {:?}, prefix_items: ",
            n.min_items, n.max_items
        );
        list(&mut out, &n.prefix_items, |o, &i| index(o, i));
        let _ = write!(
            out,
            ", items: {:?}, int_range: ({}i128, {}i128) }},",
            n.items, n.int_range.0, n.int_range.1
        );
        out.push('\n');
    }
    let _ = write!(out, "], {root})");
    out
}

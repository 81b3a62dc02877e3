//! The only module that talks to the YAML library.
//!
//! The text is parsed once, from the parser's event stream, into a [`Node`]
//! tree in which every value and every key carries its span. A spec in the
//! plain block style most specs are written in is read by a direct reader
//! instead (`fast`), into the very same tree; it hands every other document,
//! and every malformed one, to the parser. Duplicate keys
//! are kept (not merged), so that the schema pass can report each one with
//! both locations. Once the tree has passed the schema, [`from_tree`] reads
//! the typed spec out of the tree itself: the text is never parsed twice.
//!
//! The limits guard against inputs that cost more than they say, not
//! against large honest files (see [`Limits`]): nesting depth, the input's
//! size, and how much aliases may add to the document. An alias-free
//! document never reaches the alias limit, however many values it has.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use serde::de::{
    self, Deserialize, DeserializeOwned, DeserializeSeed, Deserializer, EnumAccess, MapAccess,
    SeqAccess, VariantAccess, Visitor,
};
use serde_saphyr::granit_parser::{ErrorKind, Event, Parser, ScalarStyle, ScanError, Tag};

use crate::source::{SourceFile, Span};

mod fast;

/// The limits on what platgen reads; each is named in the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest spec file, in bytes.
    pub max_input_bytes: usize,
    /// The deepest nesting of sequences and mappings.
    pub max_depth: usize,
    /// Aliases may add to the document at most one value per byte of the
    /// input, and never fewer than this many values.
    pub min_alias_values: usize,
}

/// The limits platgen applies: a 100,000-service spec is about 40 MB and
/// nests 6 levels deep; a billion-laughs bomb of a few hundred bytes would
/// expand to a billion values.
pub const LIMITS: Limits = Limits {
    max_input_bytes: 128 * 1024 * 1024,
    max_depth: 64,
    min_alias_values: 100_000,
};

impl Limits {
    /// How many values aliases may add to a document of `input_bytes`.
    pub fn alias_values(&self, input_bytes: usize) -> usize {
        input_bytes.max(self.min_alias_values)
    }
}

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

/// The newtype name under which [`Spanned`] asks a deserializer for its span.
const SPANNED: &str = "$platgen::Spanned";

thread_local! {
    /// The span of the node a [`TreeDeserializer`] is handing to a
    /// `Spanned<T>`: set immediately before `visit_newtype_struct`, taken at
    /// its start, so it never outlives that one call.
    static NEXT_SPAN: Cell<Option<Span>> = const { Cell::new(None) };
}

struct SpannedVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for SpannedVisitor<T> {
    type Value = Spanned<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        // Any other deserializer (serde's buffering for untagged enums, say)
        // has no span to give: the value is kept, the span is unknown.
        let span = NEXT_SPAN.with(Cell::take).unwrap_or_default();
        Ok(Spanned::new(T::deserialize(d)?, span))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_newtype_struct(SPANNED, SpannedVisitor(std::marker::PhantomData))
    }
}

impl<T: schemars::JsonSchema> schemars::JsonSchema for Spanned<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}

/// A YAML value as the schema pass sees it. A scalar's text is in its
/// [`Node`]; the variant says how YAML 1.2 reads it.
///
/// A large spec's tree is the peak of its memory, so a node is kept small
/// (56 bytes, where 80 were): collections are boxed slices, an integer
/// beyond 64 bits is boxed, and the span is held in 32-bit offsets.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    Int(Integer),
    Float(f64),
    Str,
    Seq(Box<[Node<'a>]>),
    /// Entries in document order; duplicate keys are kept.
    Map(Box<[(Node<'a>, Node<'a>)]>),
}

/// An integer of up to 128 bits, as YAML reads it: one that fits 64 bits
/// (all but a rare few) is held inline, a larger one in a box.
#[derive(Clone, PartialEq, Eq)]
pub struct Integer(IntegerRepr);

#[derive(Clone, PartialEq, Eq)]
enum IntegerRepr {
    Small(i64),
    Big(Box<i128>),
}

impl Integer {
    pub fn new(i: i128) -> Self {
        Self(match i64::try_from(i) {
            Ok(small) => IntegerRepr::Small(small),
            Err(_) => IntegerRepr::Big(Box::new(i)),
        })
    }

    pub fn get(&self) -> i128 {
        match &self.0 {
            IntegerRepr::Small(i) => i128::from(*i),
            IntegerRepr::Big(i) => **i,
        }
    }
}

impl fmt::Debug for Integer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.get(), f)
    }
}

impl fmt::Display for Integer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.get(), f)
    }
}

/// A YAML node: a value and where it stands. For a mapping or a sequence the
/// span is where the collection starts.
#[derive(Clone, PartialEq)]
pub struct Node<'a> {
    pub value: Value<'a>,
    /// A scalar's text, as YAML reads it (quotes and escapes resolved);
    /// empty for a collection.
    pub text: Cow<'a, str>,
    /// The span's offsets: a text the limits admit is far below 4 GiB.
    start: u32,
    end: u32,
}

const _: () = assert!(std::mem::size_of::<Node>() == 56);
const _: () = assert!(LIMITS.max_input_bytes <= u32::MAX as usize);

/// An offset as a node holds it; one past 4 GiB (only under limits other
/// than platgen's) stands at 4 GiB.
fn offset(at: usize) -> u32 {
    u32::try_from(at).unwrap_or(u32::MAX)
}

impl<'a> Node<'a> {
    pub fn new(value: Value<'a>, text: Cow<'a, str>, span: Span) -> Self {
        Self {
            value,
            text,
            start: offset(span.start),
            end: offset(span.end),
        }
    }

    pub fn span(&self) -> Span {
        Span::new(self.start as usize, self.end as usize)
    }
}

impl fmt::Debug for Node<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node")
            .field("value", &self.value)
            .field("text", &self.text)
            .field("span", &self.span())
            .finish()
    }
}

impl Value<'_> {
    /// The JSON Schema type name this value has.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "number",
            Value::Str => "string",
            Value::Seq(_) => "array",
            Value::Map(_) => "object",
        }
    }
}

impl Node<'_> {
    /// This node and every node inside it.
    fn count(&self) -> usize {
        match &self.value {
            Value::Seq(items) => 1 + items.iter().map(Node::count).sum::<usize>(),
            Value::Map(entries) => {
                1 + entries
                    .iter()
                    .map(|(k, v)| k.count() + v.count())
                    .sum::<usize>()
            }
            _ => 1,
        }
    }

    /// A copy in which every node stands at `span`: an alias's value is
    /// reported where the alias is used.
    fn moved_to(&self, span: Span) -> Self {
        let value = match &self.value {
            Value::Seq(items) => Value::Seq(items.iter().map(|n| n.moved_to(span)).collect()),
            Value::Map(entries) => Value::Map(
                entries
                    .iter()
                    .map(|(k, v)| (k.moved_to(span), v.moved_to(span)))
                    .collect(),
            ),
            scalar => scalar.clone(),
        };
        Node::new(value, self.text.clone(), span)
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
    /// What the limit is, for a limit.
    pub help: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YamlProblemKind {
    /// Not YAML: bad syntax, bad indentation, a control character.
    Syntax,
    /// Valid YAML that exceeds a safety limit: size, nesting, aliases.
    Limit,
    /// A YAML value that does not fit the typed spec (after the schema pass,
    /// this means the schema and the types disagree).
    Shape,
}

fn byte_span(span: &serde_saphyr::granit_parser::Span) -> Span {
    match span.byte_range() {
        Some(r) => Span::new(r.start, r.end.max(r.start)),
        None => Span::default(),
    }
}

fn scan_problem(source: &SourceFile, e: &ScanError, limits: Limits) -> YamlProblem {
    let at = e
        .marker()
        .byte_offset()
        .unwrap_or_else(|| source.offset_of(e.marker().line(), e.marker().col() + 1));
    // The parser counts flow and block nesting itself, with our limit.
    let (message, kind, help) = if matches!(e.kind(), ErrorKind::RecursionLimitExceeded) {
        (
            nesting_message(limits),
            YamlProblemKind::Limit,
            Some(NESTING_HELP.to_owned()),
        )
    } else {
        (e.info(), YamlProblemKind::Syntax, None)
    };
    YamlProblem {
        message,
        span: source.clamp_span(Span::new(at, at)),
        defined_at: None,
        kind,
        help,
    }
}

const NESTING_HELP: &str = "a spec nests 6 levels deep; deeper nesting is a mistake or an attack";

fn nesting_message(limits: Limits) -> String {
    format!("the document nests deeper than {} levels", limits.max_depth)
}

/// YAML 1.2 core schema: an integer, decimal (no leading zeros), `0o` octal
/// or `0x` hexadecimal.
fn parse_int(t: &str) -> Option<Integer> {
    let (negative, rest) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, digits) = if let Some(h) = rest.strip_prefix("0x") {
        (16, h)
    } else if let Some(o) = rest.strip_prefix("0o") {
        (8, o)
    } else {
        if rest.len() > 1 && rest.starts_with('0') {
            return None;
        }
        (10, rest)
    };
    if digits.is_empty() || !digits.bytes().all(|b| (b as char).is_digit(radix)) {
        return None;
    }
    let magnitude = i128::from_str_radix(digits, radix).ok()?;
    Some(Integer::new(if negative { -magnitude } else { magnitude }))
}

/// YAML 1.2 core schema: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`,
/// `.inf` and `.nan` (and their capitalisations).
fn parse_float(t: &str) -> Option<f64> {
    let unsigned = t.strip_prefix(['-', '+']).unwrap_or(t);
    match unsigned {
        ".inf" | ".Inf" | ".INF" => {
            return Some(if t.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            });
        }
        ".nan" | ".NaN" | ".NAN" if unsigned.len() == t.len() => return Some(f64::NAN),
        _ => {}
    }
    let b = unsigned.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    let whole = digits(&mut i);
    let mut fraction = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        fraction = digits(&mut i);
    }
    if whole == 0 && fraction == 0 {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    t.parse().ok()
}

/// How YAML 1.2 reads a plain, untagged scalar.
fn resolve_plain(t: &str) -> Value<'static> {
    match t {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let Some(&first) = t.as_bytes().first() else {
        return Value::Str;
    };
    // Most scalars are names and paths: skip the number parsers for them.
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return Value::Str;
    }
    if let Some(i) = parse_int(t) {
        Value::Int(i)
    } else if let Some(f) = parse_float(t) {
        Value::Float(f)
    } else {
        Value::Str
    }
}

/// How a scalar reads: its style and tag decide before its text does.
fn resolve(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Value<'static>, String> {
    let core = tag.and_then(Tag::core_suffix);
    match core {
        Some("str") => return Ok(Value::Str),
        Some("null") => return Ok(Value::Null),
        Some("bool") => {
            return match text {
                "true" | "True" | "TRUE" => Ok(Value::Bool(true)),
                "false" | "False" | "FALSE" => Ok(Value::Bool(false)),
                _ => Err(format!("`!!bool` needs true or false, not {text:?}")),
            };
        }
        Some("int") => {
            return parse_int(text.trim())
                .map(Value::Int)
                .ok_or_else(|| format!("`!!int` needs an integer, not {text:?}"));
        }
        Some("float") => {
            return parse_float(text.trim())
                .map(Value::Float)
                .ok_or_else(|| format!("`!!float` needs a number, not {text:?}"));
        }
        _ => {}
    }
    // The non-specific tag `!` makes a plain scalar a string, as quotes do.
    let non_specific = tag.is_some_and(|t| t.handle() == "!" && t.suffix().is_empty());
    if style == ScalarStyle::Plain && !non_specific {
        Ok(resolve_plain(text))
    } else {
        Ok(Value::Str)
    }
}

enum Frame<'a> {
    Seq {
        items: Vec<Node<'a>>,
        span: Span,
        anchor: usize,
    },
    Map {
        entries: Vec<(Node<'a>, Node<'a>)>,
        key: Option<Node<'a>>,
        span: Span,
        anchor: usize,
    },
}

/// Applies `<<` merge keys: the merged mappings' entries stand where the
/// `<<` stood, keys of the mapping itself win, then earlier merges.
fn merge<'a>(entries: Vec<(Node<'a>, Node<'a>)>) -> Vec<(Node<'a>, Node<'a>)> {
    let is_merge = |k: &Node| k.value == Value::Str && k.text == "<<";
    if !entries.iter().any(|(k, _)| is_merge(k)) {
        return entries;
    }
    let own: Vec<Cow<'a, str>> = entries
        .iter()
        .filter(|(k, _)| !is_merge(k))
        .map(|(k, _)| k.text.clone())
        .collect();
    let mut merged: Vec<Cow<'a, str>> = Vec::new();
    let mut out = Vec::with_capacity(entries.len());
    for (key, value) in entries {
        if !is_merge(&key) {
            out.push((key, value));
            continue;
        }
        let sources = match value.value {
            Value::Map(_) => vec![value],
            Value::Seq(items) => items.into_vec(),
            _ => {
                out.push((key, value));
                continue;
            }
        };
        for source in sources {
            let Value::Map(from) = source.value else {
                continue;
            };
            for (k, v) in from.into_vec() {
                if !own.contains(&k.text) && !merged.contains(&k.text) {
                    merged.push(k.text.clone());
                    out.push((k, v));
                }
            }
        }
    }
    out
}

/// Builds the tree from the parser's events, enforcing the limits.
struct Builder<'a> {
    source: &'a SourceFile,
    limits: Limits,
    stack: Vec<Frame<'a>>,
    /// By anchor id: the anchored node and how many nodes it holds.
    anchors: Vec<Option<(Node<'a>, usize)>>,
    alias_values: usize,
    alias_budget: usize,
    root: Option<Node<'a>>,
}

impl<'a> Builder<'a> {
    fn limit(
        &self,
        message: String,
        span: Span,
        defined_at: Option<Span>,
        help: String,
    ) -> YamlProblem {
        YamlProblem {
            message,
            span: self.source.clamp_span(span),
            defined_at: defined_at.map(|s| self.source.clamp_span(s)),
            kind: YamlProblemKind::Limit,
            help: Some(help),
        }
    }

    fn anchor(&mut self, id: usize, node: &Node<'a>) {
        if id == 0 {
            return;
        }
        if self.anchors.len() <= id {
            self.anchors.resize(id + 1, None);
        }
        self.anchors[id] = Some((node.clone(), node.count()));
    }

    /// Puts a finished node where it belongs: into the open collection, or
    /// at the root.
    fn place(&mut self, node: Node<'a>) {
        match self.stack.last_mut() {
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                Some(k) => entries.push((k, node)),
                None => *key = Some(node),
            },
            None => self.root = Some(node),
        }
    }

    fn open(&mut self, frame: Frame<'a>, span: Span) -> Result<(), YamlProblem> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(self.limit(
                nesting_message(self.limits),
                span,
                None,
                NESTING_HELP.to_owned(),
            ));
        }
        self.stack.push(frame);
        Ok(())
    }

    fn close(&mut self) {
        let node = match self.stack.pop() {
            Some(Frame::Seq {
                items,
                span,
                anchor,
            }) => (
                // Growth leaves up to half of a vector unused; a large
                // spec's tree is the peak of its memory.
                Node::new(
                    Value::Seq(items.into_boxed_slice()),
                    Cow::Borrowed(""),
                    span,
                ),
                anchor,
            ),
            Some(Frame::Map {
                entries,
                key,
                span,
                anchor,
            }) => {
                let mut entries = entries;
                if let Some(k) = key {
                    // A key without a value (the parser emits one; this is a guard).
                    let at = k.span();
                    entries.push((k, Node::new(Value::Null, Cow::Borrowed(""), at)));
                }
                (
                    Node::new(
                        Value::Map(merge(entries).into_boxed_slice()),
                        Cow::Borrowed(""),
                        span,
                    ),
                    anchor,
                )
            }
            None => return,
        };
        self.anchor(node.1, &node.0);
        self.place(node.0);
    }

    fn alias(&mut self, id: usize, span: Span) -> Result<(), YamlProblem> {
        let Some(Some((node, count))) = self.anchors.get(id) else {
            return Err(YamlProblem {
                message: "an alias refers to an anchor that is not defined before it".to_owned(),
                span: self.source.clamp_span(span),
                defined_at: None,
                kind: YamlProblemKind::Syntax,
                help: None,
            });
        };
        self.alias_values = self.alias_values.saturating_add(*count);
        if self.alias_values > self.alias_budget {
            let defined = node.span();
            return Err(self.limit(
                format!(
                    "aliases expand the document by more than {} values (an alias bomb?)",
                    thousands(self.alias_budget)
                ),
                span,
                Some(defined),
                format!(
                    "aliases may add one value per byte of the file, and at least {}",
                    thousands(self.limits.min_alias_values)
                ),
            ));
        }
        let copy = node.moved_to(span);
        self.place(copy);
        Ok(())
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The whole document as a spanned tree, duplicate keys kept.
pub fn parse_tree(source: &SourceFile) -> Result<Node<'_>, YamlProblem> {
    parse_tree_with(source, LIMITS)
}

/// [`parse_tree`] with other limits (for tests of the limits themselves).
pub fn parse_tree_with(source: &SourceFile, limits: Limits) -> Result<Node<'_>, YamlProblem> {
    let text = source.text();
    if text.len() > limits.max_input_bytes {
        let at = limits.max_input_bytes;
        return Err(YamlProblem {
            message: format!(
                "the file is larger than {} MiB, the most platgen reads",
                limits.max_input_bytes / (1024 * 1024)
            ),
            span: source.clamp_span(Span::new(at, at)),
            defined_at: None,
            kind: YamlProblemKind::Limit,
            help: Some(
                "a spec of 100,000 services is about 40 MB; is this the right file?".to_owned(),
            ),
        });
    }
    if let Some(tree) = fast::parse(text, limits.max_depth) {
        return Ok(tree);
    }
    parse_events(source, limits)
}

/// Whether the direct reader's tree of `source` is the YAML parser's tree,
/// value for value, text for text, span for span; `None` when the direct
/// reader leaves the text to the parser. For the fuzz targets.
#[doc(hidden)]
pub fn direct_reader_agrees(source: &SourceFile) -> Option<bool> {
    let direct = fast::parse(source.text(), LIMITS.max_depth)?;
    // Debug output shows every field, and tells NaN apart from itself as
    // `==` cannot.
    Some(
        parse_events(source, LIMITS).is_ok_and(|tree| format!("{tree:?}") == format!("{direct:?}")),
    )
}

/// The tree built from the YAML parser's events: every document the fast
/// reader leaves alone, and the reference it is tested against.
fn parse_events(source: &SourceFile, limits: Limits) -> Result<Node<'_>, YamlProblem> {
    let text = source.text();
    let mut b = Builder {
        source,
        limits,
        stack: Vec::new(),
        anchors: Vec::new(),
        alias_values: 0,
        alias_budget: limits.alias_values(text.len()),
        root: None,
    };
    let mut documents = 0;
    let options = serde_saphyr::granit_parser::options! {
        flow_nesting_limit: limits.max_depth,
        block_nesting_limit: limits.max_depth,
    };
    for event in Parser::new_from_str_with_options(text, options) {
        let (event, gspan) = event.map_err(|e| scan_problem(source, &e, limits))?;
        let span = byte_span(&gspan);
        match event {
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    return Err(YamlProblem {
                        message:
                            "the file holds more than one YAML document; a spec is one document"
                                .to_owned(),
                        span: source.clamp_span(span),
                        defined_at: None,
                        kind: YamlProblemKind::Syntax,
                        help: None,
                    });
                }
            }
            Event::Scalar(value, style, anchor, tag) => {
                let resolved =
                    resolve(&value, style, tag.as_deref()).map_err(|message| YamlProblem {
                        message,
                        span: source.clamp_span(span),
                        defined_at: None,
                        kind: YamlProblemKind::Syntax,
                        help: None,
                    })?;
                let node = Node::new(resolved, value, span);
                b.anchor(anchor, &node);
                b.place(node);
            }
            Event::SequenceStart(_, anchor, _) => b.open(
                Frame::Seq {
                    items: Vec::new(),
                    span,
                    anchor,
                },
                span,
            )?,
            Event::MappingStart(_, anchor, _) => b.open(
                Frame::Map {
                    entries: Vec::new(),
                    key: None,
                    span,
                    anchor,
                },
                span,
            )?,
            Event::SequenceEnd | Event::MappingEnd => b.close(),
            Event::Alias(id) => b.alias(id, span)?,
            _ => {}
        }
    }
    Ok(b.root
        .unwrap_or_else(|| Node::new(Value::Null, Cow::Borrowed(""), Span::default())))
}

/// A value of the tree that does not fit the type asked for.
#[derive(Debug)]
pub struct ShapeError {
    message: String,
    span: Option<Span>,
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ShapeError {}

impl de::Error for ShapeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self {
            message: msg.to_string(),
            span: None,
        }
    }
}

impl ShapeError {
    fn at(mut self, span: Span) -> Self {
        self.span.get_or_insert(span);
        self
    }
}

/// Reads a typed value out of a tree, which it leaves as it is: the
/// schema pass may read the same tree at the same time (see
/// `spec::parse`). Of a repeated key, the first entry counts: the schema
/// pass has reported the others. In the root mapping (`root`), `x-` keys
/// are passed over: they are the user's (anchors to merge from), which the
/// schema admits and the types do not know.
struct TreeDeserializer<'t, 'a> {
    node: &'t Node<'a>,
    root: bool,
}

impl<'t, 'a> TreeDeserializer<'t, 'a> {
    fn of(node: &'t Node<'a>) -> Self {
        Self { node, root: false }
    }

    fn wrong(&self, expected: &str) -> ShapeError {
        ShapeError {
            message: format!("expected {expected}, found {}", self.node.value.type_name()),
            span: Some(self.node.span()),
        }
    }
}

struct SeqReader<'t, 'a> {
    items: std::slice::Iter<'t, Node<'a>>,
}

impl<'de> SeqAccess<'de> for SeqReader<'_, '_> {
    type Error = ShapeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ShapeError> {
        match self.items.next() {
            Some(node) => seed
                .deserialize(TreeDeserializer::of(node))
                .map(Some)
                .map_err(|e| e.at(node.span())),
            None => Ok(None),
        }
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapReader<'t, 'a> {
    entries: std::slice::Iter<'t, (Node<'a>, Node<'a>)>,
    value: Option<&'t Node<'a>>,
    /// Which entries are passed over, by position.
    skip: Skip,
    next: usize,
}

/// The entries of a map the typed pass passes over: those with a complex
/// key, those whose key an earlier entry has (the first counts; the
/// schema pass has reported the others) and, in the root mapping, `x-`
/// keys. By comparison in a short map, by hashing in a long one (the
/// services of a large platform).
enum Skip {
    Few(u16),
    Many(Vec<bool>),
}

/// Maps at most this long find repeated keys by comparison.
const FEW_KEYS: usize = 16;

impl Skip {
    fn of(entries: &[(Node, Node)], root: bool) -> Skip {
        let passed_over = |k: &Node| {
            matches!(k.value, Value::Seq(_) | Value::Map(_)) || root && k.text.starts_with("x-")
        };
        if entries.len() <= FEW_KEYS {
            let mut bits = 0u16;
            for (i, (key, _)) in entries.iter().enumerate() {
                if passed_over(key) || entries[..i].iter().any(|(k, _)| k.text == key.text) {
                    bits |= 1 << i;
                }
            }
            Skip::Few(bits)
        } else {
            let mut seen = crate::collections::HashSet::with_capacity_and_hasher(
                entries.len(),
                crate::collections::Hasher::default(),
            );
            Skip::Many(
                entries
                    .iter()
                    .map(|(k, _)| passed_over(k) || !seen.insert(k.text.as_ref()))
                    .collect(),
            )
        }
    }

    fn get(&self, i: usize) -> bool {
        match self {
            Skip::Few(bits) => i < FEW_KEYS && bits & (1 << i) != 0,
            Skip::Many(list) => list.get(i).copied().unwrap_or(true),
        }
    }
}

impl<'t, 'a> MapReader<'t, 'a> {
    fn new(entries: &'t [(Node<'a>, Node<'a>)], root: bool) -> Self {
        Self {
            skip: Skip::of(entries, root),
            entries: entries.iter(),
            value: None,
            next: 0,
        }
    }
}

impl<'de> MapAccess<'de> for MapReader<'_, '_> {
    type Error = ShapeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ShapeError> {
        for (key, value) in self.entries.by_ref() {
            let at = self.next;
            self.next += 1;
            if self.skip.get(at) {
                continue;
            }
            self.value = Some(value);
            return seed
                .deserialize(TreeDeserializer::of(key))
                .map(Some)
                .map_err(|e| e.at(key.span()));
        }
        Ok(None)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, ShapeError> {
        let node = self
            .value
            .take()
            .ok_or_else(|| de::Error::custom("a value without a key"))?;
        seed.deserialize(TreeDeserializer::of(node))
            .map_err(|e| e.at(node.span()))
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

struct EnumReader<'t, 'a> {
    variant: &'t Node<'a>,
    value: Option<&'t Node<'a>>,
}

impl<'de, 't, 'a> EnumAccess<'de> for EnumReader<'t, 'a> {
    type Error = ShapeError;
    type Variant = VariantReader<'t, 'a>;
    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, VariantReader<'t, 'a>), ShapeError> {
        let v = seed.deserialize(TreeDeserializer::of(self.variant))?;
        Ok((
            v,
            VariantReader {
                variant: self.variant,
                value: self.value,
            },
        ))
    }
}

/// What follows an enum's variant name: its value, if it has one.
struct VariantReader<'t, 'a> {
    variant: &'t Node<'a>,
    value: Option<&'t Node<'a>>,
}

impl VariantReader<'_, '_> {
    fn no_value(&self, expected: &str) -> ShapeError {
        TreeDeserializer::of(self.variant).wrong(expected)
    }
}

impl<'de> VariantAccess<'de> for VariantReader<'_, '_> {
    type Error = ShapeError;
    fn unit_variant(self) -> Result<(), ShapeError> {
        match self.value {
            None => Ok(()),
            Some(node) if node.value == Value::Null => Ok(()),
            Some(node) => Err(TreeDeserializer::of(node).wrong("nothing")),
        }
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, ShapeError> {
        match self.value {
            Some(node) => seed.deserialize(TreeDeserializer::of(node)),
            None => Err(self.no_value("a mapping")),
        }
    }
    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, ShapeError> {
        match self.value {
            Some(node) => TreeDeserializer::of(node).deserialize_seq(visitor),
            None => Err(self.no_value("a sequence")),
        }
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ShapeError> {
        match self.value {
            Some(node) => TreeDeserializer::of(node).deserialize_map(visitor),
            None => Err(self.no_value("a mapping")),
        }
    }
}

impl<'de> Deserializer<'de> for TreeDeserializer<'_, '_> {
    type Error = ShapeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ShapeError> {
        let node = self.node;
        match &node.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(Integer(IntegerRepr::Small(i))) => visitor.visit_i64(*i),
            Value::Int(Integer(IntegerRepr::Big(i))) => visitor.visit_i128(**i),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::Str => visitor.visit_str(&node.text),
            Value::Seq(items) => visitor.visit_seq(SeqReader {
                items: items.iter(),
            }),
            Value::Map(entries) => visitor.visit_map(MapReader::new(entries, self.root)),
        }
    }

    /// Text is taken as written: `1.10` stays `1.10`, `yes` stays `yes`.
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ShapeError> {
        match &self.node.value {
            Value::Seq(_) | Value::Map(_) => self.deserialize_any(visitor),
            _ => visitor.visit_str(&self.node.text),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ShapeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ShapeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ShapeError> {
        if self.node.value == Value::Null {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ShapeError> {
        if name == SPANNED {
            NEXT_SPAN.with(|s| s.set(Some(self.node.span())));
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ShapeError> {
        match &self.node.value {
            Value::Map(entries) => match &entries[..] {
                [(variant, value)] => visitor.visit_enum(EnumReader {
                    variant,
                    value: Some(value),
                }),
                _ => Err(self.wrong("a name")),
            },
            Value::Seq(_) => Err(self.wrong("a name")),
            _ => visitor.visit_enum(EnumReader {
                variant: self.node,
                value: None,
            }),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ShapeError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct
    }
}

/// The typed value a tree holds (the root's `x-` keys passed over). Only
/// called on a tree the schema accepts (or while the schema pass reads
/// it), so a failure here means the schema and the types disagree.
pub fn from_tree<T: DeserializeOwned>(source: &SourceFile, tree: &Node) -> Result<T, YamlProblem> {
    let span = tree.span();
    T::deserialize(TreeDeserializer {
        node: tree,
        root: true,
    })
    .map_err(|e| YamlProblem {
        message: e.message,
        span: source.clamp_span(e.span.unwrap_or(span)),
        defined_at: None,
        kind: YamlProblemKind::Shape,
        help: None,
    })
}

/// Checks that generated text is YAML a strict reader accepts: every
/// document parses, and no mapping repeats a key. Returns the line and the
/// reason otherwise.
///
/// Rendered files are nearly always within the direct reader's subset, a
/// document at a time: those it reads, with no key repeated, are accepted
/// without the YAML parser (which took three quarters of a render with a
/// user's templates, where every file is read back). Anything else, and
/// every problem, is the parser's to find and to locate.
pub fn check_generated(text: &str) -> Result<(), (usize, String)> {
    if generated_is_plain(text) {
        return Ok(());
    }
    check_generated_by_events(text)
}

/// Whether every document of `text`, split at its `---` lines, is one the
/// direct reader reads, with no mapping repeating a key. `false` says only
/// that the YAML parser must decide.
fn generated_is_plain(text: &str) -> bool {
    let plain = |doc| fast::parse(doc, LIMITS.max_depth).is_some_and(|tree| !repeats_a_key(&tree));
    let b = text.as_bytes();
    let mut start = 0;
    // Document markers on lines of their own: the first line, or after a
    // line break, followed by a line break or the end. A marker line with
    // anything after it (or `...`) stays inside a document, and the direct
    // reader leaves that document to the parser.
    for at in memchr::memmem::find_iter(b, b"---") {
        let line_start = at == 0 || b[at - 1] == b'\n';
        let line_end = matches!(b.get(at + 3), None | Some(b'\n'));
        if line_start && line_end {
            if !plain(&text[start..at]) {
                return false;
            }
            start = (at + 4).min(text.len());
        }
    }
    plain(&text[start..])
}

/// Whether a mapping of the tree repeats a key (by its text, as
/// [`check_generated_by_events`] compares keys).
fn repeats_a_key(node: &Node<'_>) -> bool {
    match &node.value {
        Value::Seq(items) => items.iter().any(repeats_a_key),
        Value::Map(entries) => {
            // Most mappings of a manifest have a few keys: compared in
            // place (a set for every mapping cost 6% more at 1,000
            // services, Kubernetes read back: 585.2 M against 553.6 M).
            let repeated = if entries.len() <= 16 {
                (1..entries.len()).any(|i| {
                    entries[..i]
                        .iter()
                        .any(|(k, _)| k.text == entries[i].0.text)
                })
            } else {
                let mut seen = crate::collections::HashSet::default();
                seen.reserve(entries.len());
                !entries.iter().all(|(k, _)| seen.insert(k.text.as_ref()))
            };
            repeated || entries.iter().any(|(_, v)| repeats_a_key(v))
        }
        _ => false,
    }
}

/// Whether the YAML parser accepts a text the direct check of generated
/// text accepts; `None` when that check leaves the text to the parser. For
/// the fuzz targets.
#[doc(hidden)]
pub fn generated_check_agrees(text: &str) -> Option<bool> {
    generated_is_plain(text).then(|| check_generated_by_events(text).is_ok())
}

/// [`check_generated`] by the YAML parser's events alone.
fn check_generated_by_events(text: &str) -> Result<(), (usize, String)> {
    /// Per open collection: for a mapping, its keys so far and whether the
    /// next node is a key.
    enum Open<'t> {
        Seq,
        Map {
            // A set, not a list: a mapping of 10,000 keys (compose's
            // services) was 50 million comparisons.
            keys: crate::collections::HashSet<Cow<'t, str>>,
            at_key: bool,
        },
    }
    // Marks the node just finished in the parent mapping (key or value).
    fn finished<'t>(stack: &mut [Open<'t>], key: Option<Cow<'t, str>>) -> Result<(), String> {
        if let Some(Open::Map { keys, at_key }) = stack.last_mut() {
            if *at_key
                && let Some(k) = key
                && let Some(k) = keys.replace(k)
            {
                return Err(format!("duplicate key `{k}`"));
            }
            *at_key = !*at_key;
        }
        Ok(())
    }
    let mut stack: Vec<Open> = Vec::new();
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| (e.marker().line(), e.info()))?;
        let line = span.start.line();
        let result = match event {
            Event::Scalar(value, ..) => finished(&mut stack, Some(value)),
            Event::Alias(_) => finished(&mut stack, None),
            Event::SequenceStart(..) => {
                stack.push(Open::Seq);
                Ok(())
            }
            Event::MappingStart(..) => {
                stack.push(Open::Map {
                    keys: crate::collections::HashSet::default(),
                    at_key: true,
                });
                Ok(())
            }
            Event::SequenceEnd | Event::MappingEnd => {
                stack.pop();
                finished(&mut stack, None)
            }
            _ => Ok(()),
        };
        result.map_err(|message| (line, message))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_yaml_is_checked_strictly() {
        assert!(check_generated("a: 1\n---\nb: [1, 2]\n").is_ok());
        assert!(check_generated("a: {x: 1, y: 2}\nb: {x: 1}\n").is_ok());
        assert_eq!(check_generated("a: 1\na: 2\n").unwrap_err().0, 2);
        assert_eq!(check_generated("a:\n  b: 1\n  b: 2\n").unwrap_err().0, 3);
        assert!(check_generated("a: [1\n").is_err());
        // A large mapping the parser reads (the anchor keeps the direct
        // reader out), its repeated key found and located.
        let keys: Vec<String> = (0..100).map(|i| format!("k{i}: {i}\n")).collect();
        let large = format!("x: &a 1\n{}k42: again\n", keys.concat());
        assert_eq!(
            check_generated(&large).unwrap_err(),
            (102, "duplicate key `k42`".into())
        );
        assert!(check_generated(&large[..large.len() - 11]).is_ok());
    }

    /// The direct check takes what the renderers write (documents split at
    /// `---` lines, comments, flow sequences) and leaves to the parser
    /// exactly what it must: a repeated key anywhere, other document
    /// markers, what the direct reader does not read. Whatever it takes,
    /// the parser takes too.
    #[test]
    fn generated_text_is_checked_directly_where_the_parser_agrees() {
        let manifest = "# Generated by platgen; do not edit.\napiVersion: v1\nkind: Service\n\
            metadata:\n  name: \"api\"\n  labels:\n    \"app\": \"api\"\nspec:\n  ports:\n\
            \x20   - name: \"http\"\n      port: 80\n---\n# A comment.\nkind: Deployment\n\
            spec:\n  template:\n    spec:\n      containers:\n        - name: \"api\"\n\
            \x20         args: [\"a\", \"b\"]\n          env: {}\n---\n";
        let many = (0..40)
            .map(|i| format!("k{i}: {i}\n"))
            .collect::<Vec<_>>()
            .concat();
        for (text, direct) in [
            (manifest, true),
            ("---\na: 1\n---\n---\nb: 2", true),
            ("# only a comment\n", true),
            ("", true),
            (&*many, true),
            ("a: 1\n---\na: 1\n", true),
            ("a: 1\n---\nb: 1\nb: 2\n", false),
            ("a:\n  - x: 1\n    x: 2\n", false),
            ("\"a\": 1\na: 2\n", false),
            (&format!("{many}k7: again\n"), false),
            ("--- a: 1\n", false),
            ("a: 1\n...\n", false),
            ("a: &x 1\nb: *x\n", false),
            ("a: [1\n---\n]\n", false),
            ("a: 1\n----\nb: 2\n", false),
        ] {
            assert_eq!(generated_is_plain(text), direct, "{text:?}");
            assert_ne!(generated_check_agrees(text), Some(false), "{text:?}");
            assert_eq!(
                check_generated(text).is_ok(),
                check_generated_by_events(text).is_ok(),
                "{text:?}"
            );
        }
    }

    fn tree(text: &str) -> Result<Node<'_>, YamlProblem> {
        // Leaked so that the tree may borrow it in a test.
        let source: &'static SourceFile = Box::leak(Box::new(SourceFile::new("t.yaml", text)));
        parse_tree(source)
    }

    #[test]
    fn keeps_duplicate_keys_with_their_spans() {
        let node = tree("a: 1\na: 2\n").unwrap();
        let Value::Map(entries) = node.value else {
            panic!("not a map")
        };
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].0.span(), Span::new(0, 1));
        assert_eq!(entries[1].0.span(), Span::new(5, 6));
    }

    #[test]
    fn deep_nesting_is_a_limit_problem() {
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        let err = tree(&deep).unwrap_err();
        assert_eq!(err.kind, YamlProblemKind::Limit, "{err:?}");
        assert_eq!(err.span.start, 64, "located at the 65th level: {err:?}");
        let ok = "[".repeat(64) + &"]".repeat(64);
        assert!(tree(&ok).is_ok());
    }

    #[test]
    fn syntax_errors_are_located() {
        let err = tree("a: [1, 2\nb: 3\n").unwrap_err();
        assert_eq!(err.kind, YamlProblemKind::Syntax);
        assert!(err.span.start > 0, "{err:?}");
    }

    #[test]
    fn scalars_read_as_yaml_1_2() {
        let node = tree("[NO, on, yes, true, False, ~, null, 0755, 0o17, 0x1f, -3, 1.5, 1e3, .inf, -.inf, .nan, 12:30, 1_000, \"1\", '2', !!str 3, !!int \"4\"]").unwrap();
        let Value::Seq(items) = node.value else {
            panic!()
        };
        let kinds: Vec<String> = items
            .iter()
            .map(|n| match &n.value {
                Value::Int(i) => format!("int {i}"),
                Value::Float(f) => format!("float {f}"),
                Value::Bool(b) => format!("bool {b}"),
                other => other.type_name().to_owned(),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "string",
                "string",
                "string",
                "bool true",
                "bool false",
                "null",
                "null",
                "float 755",
                "int 15",
                "int 31",
                "int -3",
                "float 1.5",
                "float 1000",
                "float inf",
                "float -inf",
                "float NaN",
                "string",
                "string",
                "string",
                "string",
                "string",
                "int 4"
            ]
        );
        assert_eq!(items[7].text, "0755", "the text is kept as written");
    }

    #[test]
    fn merge_keys_merge_and_own_keys_win() {
        let node = tree("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n").unwrap();
        let Value::Map(top) = node.value else {
            panic!()
        };
        let Value::Map(entries) = &top[1].1.value else {
            panic!()
        };
        let pairs: Vec<(&str, &str)> = entries
            .iter()
            .map(|(k, v)| (k.text.as_ref(), v.text.as_ref()))
            .collect();
        assert_eq!(pairs, [("x", "1"), ("y", "3")]);
    }

    #[test]
    fn an_alias_stands_where_it_is_used() {
        let text = "a: &x [1, 2]\nb: *x\n";
        let node = tree(text).unwrap();
        let Value::Map(top) = node.value else {
            panic!()
        };
        let used = text.find("*x").unwrap();
        assert_eq!(top[1].1.span(), Span::new(used, used + 2));
        let Value::Seq(items) = &top[1].1.value else {
            panic!()
        };
        assert_eq!(items[1].text, "2");
    }

    #[test]
    fn the_alias_budget_grows_with_the_input_and_has_a_floor() {
        assert_eq!(LIMITS.alias_values(400), 100_000);
        assert_eq!(LIMITS.alias_values(40_000_000), 40_000_000);
        let small = Limits {
            min_alias_values: 200,
            ..LIMITS
        };
        // `b` adds 10 copies of `a` (11 values each): 110 values.
        let text = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n";
        assert!(text.len() < 200);
        let source = SourceFile::new("t.yaml", text);
        assert!(parse_tree_with(&source, small).is_ok(), "110 values added");
        // One copy of `b` adds 111 more.
        let text = format!("{text}c: [*b]\n");
        let source = SourceFile::new("t.yaml", text.as_str());
        let err = parse_tree_with(&source, small).unwrap_err();
        assert_eq!(err.kind, YamlProblemKind::Limit);
        assert!(err.message.contains("more than 200 values"), "{err:?}");
        assert_eq!(source.slice(err.span), "*b");
        let b = text.find("&b").unwrap() + 3;
        assert_eq!(err.defined_at.map(|s| s.start), Some(b));
    }

    #[test]
    fn the_input_size_limit_is_located() {
        let small = Limits {
            max_input_bytes: 8,
            ..LIMITS
        };
        let source = SourceFile::new("t.yaml", "name: abcdef\n");
        let err = parse_tree_with(&source, small).unwrap_err();
        assert_eq!(err.kind, YamlProblemKind::Limit);
        assert_eq!(err.span.start, 8);
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(100_000), "100,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Typed {
        name: Spanned<String>,
        count: Option<Spanned<u16>>,
        tags: Vec<String>,
        #[serde(default)]
        kind: Option<Kind>,
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Kind {
        Tcp,
    }

    #[test]
    fn typed_values_come_out_of_the_tree_with_spans() {
        let source = SourceFile::new(
            "t.yaml",
            "name: 1.10\ncount: 8\ntags: [yes, 0755]\nkind: tcp\nname: again\n",
        );
        let tree = parse_tree(&source).unwrap();
        let typed: Typed = from_tree(&source, &tree).unwrap();
        assert_eq!(typed.name.value, "1.10", "text as written");
        assert_eq!(typed.name.span, Span::new(6, 10));
        assert_eq!(typed.count.unwrap().value, 8);
        assert_eq!(typed.tags, ["yes", "0755"]);
        assert_eq!(typed.kind, Some(Kind::Tcp));
        let bad = SourceFile::new("t.yaml", "name: x\ncount: 70000\ntags: []\n");
        let tree = parse_tree(&bad).unwrap();
        let err = from_tree::<Typed>(&bad, &tree).unwrap_err();
        assert_eq!(err.kind, YamlProblemKind::Shape);
        assert_eq!(bad.slice(err.span), "70000");
    }
}

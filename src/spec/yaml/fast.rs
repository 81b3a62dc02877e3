//! A direct reader for the plain subset of YAML that specs are written in.
//!
//! The general reader builds the tree from a full YAML parser's events; most
//! of `check`'s time went there. This reader scans the text once, straight
//! into the same [`Node`] tree, with the same values, texts and spans, for
//! documents that use only:
//!
//! - block mappings and block sequences (also a sequence at its key's own
//!   indentation, `- - nested` and `- key: value` entries), indented with
//!   spaces;
//! - flow mappings and flow sequences that open and close on one line;
//! - plain scalars, single-quoted scalars (`''`) and double-quoted scalars
//!   with the usual escapes, each on one line;
//! - folded and literal block scalars (`>`, `>-`, `|`, `|-`) whose lines all
//!   stand at one indentation, with no blank line between them;
//! - empty values, comments and blank lines, a single implicit document.
//!
//! Anything else gives `None`, and the caller reads the text with the
//! general reader: anchors, aliases, tags, merge keys, complex keys,
//! directives and document markers, multi-line plain or quoted scalars,
//! block scalars with `+`, an indentation indicator, more-indented or blank
//! lines inside, tabs, carriage returns and other control characters, a
//! byte order mark, deep nesting, and every malformed document. So every
//! error, limit and location is the general reader's, and this reader
//! never has to report one.

use std::borrow::Cow;

use super::{Node, Value, resolve_plain};
use crate::source::Span;

/// The longest implicit key YAML allows.
const MAX_KEY_LEN: usize = 1024;

/// The tree of `text`, or `None` when the text is outside the subset this
/// reader is sure of (then the general reader decides).
pub(super) fn parse(text: &str, max_depth: usize) -> Option<Node<'_>> {
    if !plain_characters(text.as_bytes()) {
        return None;
    }
    let mut r = Reader {
        text,
        b: text.as_bytes(),
        pos: 0,
        max_depth,
        marker: false,
        items: Vec::new(),
        entries: Vec::new(),
    };
    let root = match r.peek_line() {
        Some(line) => r.block_node(line.first, line.indent, 0)?,
        None => Node::new(Value::Null, Cow::Borrowed(""), Span::default()),
    };
    if r.peek_line().is_some() || r.marker {
        return None;
    }
    Some(root)
}

/// Whether the text is free of what this reader leaves to the general one:
/// control characters (tabs and carriage returns included), a byte order
/// mark, the non-ASCII line breaks and non-characters.
fn plain_characters(b: &[u8]) -> bool {
    // Most text is printable ASCII: such a run of bytes is passed over
    // without a look at each byte on its own.
    let odd = |c: u8| (c < 0x20 && c != b'\n') || c >= 0x7f;
    let mut chunks = b.chunks_exact(32);
    let mut at = 0;
    for chunk in chunks.by_ref() {
        if chunk.iter().fold(false, |any, &c| any | odd(c)) && !plain_run(b, at, at + 32) {
            return false;
        }
        at += 32;
    }
    chunks.remainder().is_empty() || plain_run(b, at, b.len())
}

/// [`plain_characters`] for the bytes `from..to` of `b`, looking past `to`
/// for the rest of a character.
fn plain_run(b: &[u8], from: usize, to: usize) -> bool {
    (from..to).all(|i| {
        let c = b[i];
        let next = b.get(i + 1).copied().unwrap_or(0);
        let third = b.get(i + 2).copied().unwrap_or(0);
        match c {
            b'\n' => true,
            ..0x20 | 0x7f => false,
            // C1 controls, NEL included.
            0xc2 => next >= 0xa0,
            // LINE and PARAGRAPH SEPARATOR.
            0xe2 => !(next == 0x80 && (third == 0xa8 || third == 0xa9)),
            // The byte order mark, U+FFFE and U+FFFF.
            0xef => !((next == 0xbb && third == 0xbf) || (next == 0xbf && third >= 0xbe)),
            _ => true,
        }
    })
}

/// A line with content: where its first character is and its indentation.
#[derive(Clone, Copy)]
struct Line {
    first: usize,
    indent: usize,
}

/// How a block scalar's final line break is kept.
#[derive(Clone, Copy, PartialEq)]
enum Chomp {
    Clip,
    Strip,
}

struct Reader<'a> {
    text: &'a str,
    b: &'a [u8],
    /// Always at the start of a line (or at the end of the text) between
    /// the parsing of two lines.
    pos: usize,
    max_depth: usize,
    /// Whether a line starts with a directive or a document marker.
    marker: bool,
    /// The entries of the collections being read, innermost last: each
    /// collection takes its own once complete, in a vector of its size.
    items: Vec<Node<'a>>,
    entries: Vec<(Node<'a>, Node<'a>)>,
}

fn is_blank_or_end(c: Option<&u8>) -> bool {
    matches!(c, None | Some(b' ' | b'\n'))
}

const fn is_flow_indicator(c: u8) -> bool {
    matches!(c, b',' | b'[' | b']' | b'{' | b'}')
}

/// The bytes a plain scalar's scan stops at to look closer, in block
/// context (`[0]`) and in flow (`[1]`): a line break, a space (before a
/// comment?), a colon (ending a key?) and, in flow, the flow indicators.
/// Every other byte continues the scalar.
static PLAIN_STOPS: [[bool; 256]; 2] = {
    let mut t = [[false; 256]; 2];
    let mut c = 0;
    while c < 256 {
        #[allow(clippy::cast_possible_truncation)] // c < 256
        let b = c as u8;
        let block = matches!(b, b'\n' | b' ' | b':');
        t[0][c] = block;
        t[1][c] = block || is_flow_indicator(b);
        c += 1;
    }
    t
};

impl<'a> Reader<'a> {
    fn at(&self, i: usize) -> Option<&u8> {
        self.b.get(i)
    }

    fn skip_spaces(&self, mut i: usize) -> usize {
        while self.b.get(i) == Some(&b' ') {
            i += 1;
        }
        i
    }

    /// The position of the line break that ends the line holding `i` (or
    /// the end of the text).
    fn line_end(&self, i: usize) -> usize {
        memchr::memchr(b'\n', &self.b[i..]).map_or(self.b.len(), |n| i + n)
    }

    /// The start of the line after the one holding `i`.
    fn next_line(&self, i: usize) -> usize {
        (self.line_end(i) + 1).min(self.b.len())
    }

    /// The next line with content, skipping blank and comment lines; the
    /// cursor is left at its start.
    fn peek_line(&mut self) -> Option<Line> {
        loop {
            if self.pos >= self.b.len() {
                return None;
            }
            let first = self.skip_spaces(self.pos);
            match self.at(first) {
                None => {
                    self.pos = first;
                    return None;
                }
                Some(b'\n') => self.pos = first + 1,
                Some(b'#') => self.pos = self.next_line(first),
                Some(&c) => {
                    if first == self.pos && matches!(c, b'%' | b'-' | b'.') {
                        let rest = &self.b[first..];
                        if c == b'%' || rest.starts_with(b"---") || rest.starts_with(b"...") {
                            // Left to the general reader: the reading stops here.
                            self.marker = true;
                            return None;
                        }
                    }
                    return Some(Line {
                        first,
                        indent: first - self.pos,
                    });
                }
            }
        }
    }

    /// After a value that ended at `i` on its line: only spaces and a
    /// comment may follow; the cursor moves to the next line.
    fn end_line(&mut self, i: usize) -> Option<()> {
        let j = self.skip_spaces(i);
        match self.at(j) {
            None => self.pos = j,
            Some(b'\n') => self.pos = j + 1,
            Some(b'#') if j > i => self.pos = self.next_line(j),
            Some(_) => return None,
        }
        Some(())
    }

    fn is_entry(&self, i: usize) -> bool {
        self.b[i] == b'-' && is_blank_or_end(self.at(i + 1))
    }

    /// The block node whose first character is at `at`, in column `col`,
    /// with `depth` collections open around it.
    fn block_node(&mut self, at: usize, col: usize, depth: usize) -> Option<Node<'a>> {
        if self.is_entry(at) {
            return self.block_seq(at, col, depth, false);
        }
        if let Some(key) = self.key(at)? {
            return self.block_map(at, col, depth, key);
        }
        self.inline_value(at, col, depth)
    }

    /// A value that starts at `at` and ends on its line (a block scalar
    /// excepted), with the cursor moved past it.
    fn inline_value(&mut self, at: usize, owner: usize, depth: usize) -> Option<Node<'a>> {
        match self.b[at] {
            b'|' | b'>' => self.block_scalar(at, owner),
            b'[' | b'{' => {
                let (node, end) = self.flow_node(at, depth)?;
                self.end_line(end)?;
                Some(node)
            }
            _ => {
                let (node, end) = self.scalar(at, false)?;
                self.end_line(end)?;
                Some(node)
            }
        }
    }

    /// Whether a mapping key starts at `at`: the key and the position just
    /// after its `:`, `Some(None)` if what starts there is no key.
    #[allow(clippy::option_option)]
    fn key(&self, at: usize) -> Option<Option<(Node<'a>, usize)>> {
        let (node, end) = match self.b[at] {
            b'"' | b'\'' => self.quoted(at)?,
            b'[' | b'{' | b'|' | b'>' => return Some(None),
            _ if self.is_entry(at) => return Some(None),
            _ => {
                let (end, stop) = self.plain_end(at, false)?;
                if self.at(stop) != Some(&b':') {
                    return Some(None);
                }
                let node = self.plain_node(at, end);
                if node.text == "<<" {
                    return None;
                }
                (node, end)
            }
        };
        let colon = self.skip_spaces(end);
        if self.at(colon) != Some(&b':') || !is_blank_or_end(self.at(colon + 1)) {
            return Some(None);
        }
        if end - at > MAX_KEY_LEN {
            return None;
        }
        Some(Some((node, colon + 1)))
    }

    fn open(&self, depth: usize) -> Option<usize> {
        let depth = depth + 1;
        (depth < self.max_depth).then_some(depth)
    }

    /// A block mapping whose first key, `key`, starts at `first`.
    fn block_map(
        &mut self,
        first: usize,
        indent: usize,
        depth: usize,
        key: (Node<'a>, usize),
    ) -> Option<Node<'a>> {
        let depth = self.open(depth)?;
        let base = self.entries.len();
        let mut key = key;
        loop {
            let (name, after) = key;
            let value = self.map_value(after, indent, depth)?;
            self.entries.push((name, value));
            match self.peek_line() {
                Some(line) if line.indent == indent => key = self.key(line.first)??,
                Some(line) if line.indent > indent => return None,
                _ => break,
            }
        }
        Some(Node::new(
            Value::Map(self.entries.drain(base..).collect()),
            Cow::Borrowed(""),
            Span::new(first, first),
        ))
    }

    /// The value after a key whose `:` is just before `after`, in a
    /// mapping at `indent`. An empty one stands where the `:` does, as the
    /// parser places it (after the key's end when spaces come between).
    fn map_value(&mut self, after: usize, indent: usize, depth: usize) -> Option<Node<'a>> {
        let v = self.skip_spaces(after);
        match self.at(v) {
            None | Some(b'\n' | b'#') => {
                self.end_line(after)?;
                match self.peek_line() {
                    Some(line) if line.indent > indent => {
                        self.block_node(line.first, line.indent, depth)
                    }
                    Some(line) if line.indent == indent && self.is_entry(line.first) => {
                        self.block_seq(line.first, indent, depth, true)
                    }
                    _ => Some(null_at(after - 1)),
                }
            }
            Some(_) if self.is_entry(v) => None,
            Some(_) => self.inline_value(v, indent, depth),
        }
    }

    /// A block sequence whose first `-` is at `first`, in column `indent`.
    /// An indentless one (at its key's own indentation) stands where its
    /// first entry's content does.
    fn block_seq(
        &mut self,
        first: usize,
        indent: usize,
        depth: usize,
        indentless: bool,
    ) -> Option<Node<'a>> {
        let depth = self.open(depth)?;
        let base = self.items.len();
        let mut span = Span::new(first, first);
        let mut at = first;
        loop {
            let v = self.skip_spaces(at + 1);
            let (item, stands_at) = match self.at(v) {
                None | Some(b'\n' | b'#') => {
                    let end = self.line_end(v);
                    self.pos = (end + 1).min(self.b.len());
                    let item = match self.peek_line() {
                        Some(line) if line.indent > indent => {
                            self.block_node(line.first, line.indent, depth)?
                        }
                        _ => null_at(end),
                    };
                    (item, end)
                }
                Some(_) => {
                    let col = indent + (v - at);
                    let item = if self.is_entry(v) {
                        self.block_seq(v, col, depth, false)?
                    } else if let Some(key) = self.key(v)? {
                        self.block_map(v, col, depth, key)?
                    } else {
                        self.inline_value(v, indent, depth)?
                    };
                    (item, v)
                }
            };
            if indentless && self.items.len() == base {
                span = Span::new(stands_at, stands_at);
            }
            self.items.push(item);
            match self.peek_line() {
                Some(line) if line.indent == indent && self.is_entry(line.first) => at = line.first,
                Some(line) if line.indent > indent => return None,
                _ => break,
            }
        }
        Some(Node::new(
            Value::Seq(self.items.drain(base..).collect()),
            Cow::Borrowed(""),
            span,
        ))
    }

    /// A folded or literal block scalar whose header is at `at`, belonging
    /// to a collection at `owner`. Its lines all stand at one indentation,
    /// deeper than `owner`, with no blank line between them.
    fn block_scalar(&mut self, at: usize, owner: usize) -> Option<Node<'a>> {
        let folded = self.b[at] == b'>';
        let mut i = at + 1;
        let chomp = if self.at(i) == Some(&b'-') {
            i += 1;
            Chomp::Strip
        } else {
            Chomp::Clip
        };
        if !is_blank_or_end(self.at(i)) {
            return None;
        }
        self.end_line(i)?;
        let start = self.pos;
        let first = self.skip_spaces(start);
        let indent = first - start;
        if indent <= owner || is_blank_or_end(self.at(first)) {
            return None;
        }
        let mut text = String::new();
        let mut line = start;
        let mut after_blank = false;
        // Where the span ends (past trailing blank lines and the next
        // line's indentation) and where reading goes on.
        let (end, resume) = loop {
            let content = self.skip_spaces(line);
            let spaces = content - line;
            match self.at(content) {
                None if spaces == 0 => break (content, content),
                Some(b'\n') if spaces == 0 => {
                    after_blank = true;
                    line = content + 1;
                    continue;
                }
                None | Some(b'\n') => return None,
                Some(_) if spaces < indent => break (content, line),
                Some(_) => {}
            }
            if spaces > indent || after_blank {
                return None;
            }
            let stop = self.line_end(content);
            if self.b[stop - 1] == b' ' {
                return None;
            }
            if !text.is_empty() {
                text.push(if folded { ' ' } else { '\n' });
            }
            text.push_str(&self.text[content..stop]);
            if stop == self.b.len() {
                break (stop, stop);
            }
            line = stop + 1;
        };
        if chomp == Chomp::Clip {
            text.push('\n');
        }
        self.pos = resume;
        Some(Node::new(
            Value::Str,
            Cow::Owned(text),
            Span::new(first, end),
        ))
    }

    /// A flow sequence or mapping that opens at `at` and closes on its
    /// line, and the position after it.
    fn flow_node(&mut self, at: usize, depth: usize) -> Option<(Node<'a>, usize)> {
        let depth = self.open(depth)?;
        let close = if self.b[at] == b'[' { b']' } else { b'}' };
        let (items, entries) = (self.items.len(), self.entries.len());
        let mut i = self.skip_spaces(at + 1);
        if self.at(i) != Some(&close) {
            loop {
                if close == b']' {
                    let (item, end) = self.flow_item(i, depth)?;
                    self.items.push(item);
                    i = end;
                } else {
                    let (key, end) = self.scalar(i, true)?;
                    let colon = self.skip_spaces(end);
                    if self.at(colon) != Some(&b':')
                        || self.at(colon + 1) != Some(&b' ')
                        || key.text == "<<"
                        || end - i > MAX_KEY_LEN
                    {
                        return None;
                    }
                    let (value, end) = self.flow_item(self.skip_spaces(colon + 1), depth)?;
                    self.entries.push((key, value));
                    i = end;
                }
                i = self.skip_spaces(i);
                match self.at(i) {
                    Some(&c) if c == close => break,
                    Some(b',') => {
                        i = self.skip_spaces(i + 1);
                        if matches!(self.at(i), Some(b']' | b'}' | b',')) {
                            return None;
                        }
                    }
                    _ => return None,
                }
            }
        }
        let value = if close == b']' {
            Value::Seq(self.items.drain(items..).collect())
        } else {
            Value::Map(self.entries.drain(entries..).collect())
        };
        Some((
            Node::new(value, Cow::Borrowed(""), Span::new(at, at + 1)),
            i + 1,
        ))
    }

    fn flow_item(&mut self, at: usize, depth: usize) -> Option<(Node<'a>, usize)> {
        match self.at(at)? {
            b'[' | b'{' => self.flow_node(at, depth),
            _ => self.scalar(at, true),
        }
    }

    /// A plain or quoted scalar on one line, and the position after it.
    fn scalar(&self, at: usize, flow: bool) -> Option<(Node<'a>, usize)> {
        // In flow, the text may end where a scalar should start.
        match *self.at(at)? {
            b'"' | b'\'' => self.quoted(at),
            _ => {
                let (end, _) = self.plain_end(at, flow)?;
                Some((self.plain_node(at, end), end))
            }
        }
    }

    fn plain_node(&self, at: usize, end: usize) -> Node<'a> {
        let text = &self.text[at..end];
        Node::new(resolve_plain(text), Cow::Borrowed(text), Span::new(at, end))
    }

    /// Where a plain scalar starting at `at` ends (trailing spaces left
    /// out), and where the scan stopped: at a `:` that ends a key, a
    /// comment, the line's end or (in flow) an indicator.
    fn plain_end(&self, at: usize, flow: bool) -> Option<(usize, usize)> {
        let c = self.b[at];
        let starts_plain = match c {
            b'-' => {
                let next = self.at(at + 1);
                !(is_blank_or_end(next) || flow && next.is_some_and(|&n| is_flow_indicator(n)))
            }
            b'?' | b':' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\'' | b'"' | b'%' | b'@'
            | b'`' | b'\n' | b' ' => false,
            _ => !is_flow_indicator(c),
        };
        if !starts_plain {
            return None;
        }
        let stops = &PLAIN_STOPS[usize::from(flow)];
        let mut i = at + 1;
        let mut end = i;
        loop {
            // A run of bytes that can only continue the scalar, skipped by
            // table (a third of the reader's own time went to this loop).
            if let Some(run) = self.b.get(i..) {
                let n = run
                    .iter()
                    .position(|&c| stops[usize::from(c)])
                    .unwrap_or(run.len());
                if n > 0 {
                    i += n;
                    end = i;
                }
            }
            match self.at(i) {
                Some(b' ') => {
                    if self.at(i + 1) == Some(&b'#') {
                        break;
                    }
                }
                Some(b':') => {
                    let next = self.at(i + 1);
                    if is_blank_or_end(next) || flow && next.is_some_and(|&n| is_flow_indicator(n))
                    {
                        break;
                    }
                    end = i + 1;
                }
                // The end, a line break or (in flow) a flow indicator.
                _ => break,
            }
            i += 1;
        }
        Some((end, i))
    }

    /// A single- or double-quoted scalar on one line, and the position
    /// after its closing quote.
    fn quoted(&self, at: usize) -> Option<(Node<'a>, usize)> {
        let quote = self.b[at];
        let mut owned: Option<String> = None;
        let mut run = at + 1;
        let mut i = at + 1;
        loop {
            let c = *self.at(i)?;
            if c == b'\n' {
                return None;
            }
            if c == quote {
                if quote == b'\'' && self.at(i + 1) == Some(&b'\'') {
                    let s = owned.get_or_insert_with(String::new);
                    s.push_str(&self.text[run..=i]);
                    i += 2;
                    run = i;
                    continue;
                }
                break;
            }
            if c == b'\\' && quote == b'"' {
                let s = owned.get_or_insert_with(String::new);
                s.push_str(&self.text[run..i]);
                i = self.escape(i + 1, s)?;
                run = i;
                continue;
            }
            i += 1;
        }
        let text = match owned {
            Some(mut s) => {
                s.push_str(&self.text[run..i]);
                Cow::Owned(s)
            }
            None => Cow::Borrowed(&self.text[at + 1..i]),
        };
        Some((Node::new(Value::Str, text, Span::new(at, i + 1)), i + 1))
    }

    /// The escape whose letter is at `i`, pushed onto `out`; the position
    /// after it.
    fn escape(&self, i: usize, out: &mut String) -> Option<usize> {
        let c = match *self.at(i)? {
            b'0' => '\0',
            b'a' => '\u{7}',
            b'b' => '\u{8}',
            b't' => '\t',
            b'n' => '\n',
            b'v' => '\u{b}',
            b'f' => '\u{c}',
            b'r' => '\r',
            b'e' => '\u{1b}',
            b' ' => ' ',
            b'"' => '"',
            b'/' => '/',
            b'\\' => '\\',
            b'N' => '\u{85}',
            b'_' => '\u{a0}',
            b'L' => '\u{2028}',
            b'P' => '\u{2029}',
            letter @ (b'x' | b'u' | b'U') => {
                let len = match letter {
                    b'x' => 2,
                    b'u' => 4,
                    _ => 8,
                };
                let hex = self.text.get(i + 1..i + 1 + len)?;
                if !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                    return None;
                }
                let c = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
                out.push(c);
                return Some(i + 1 + len);
            }
            _ => return None,
        };
        out.push(c);
        Some(i + 1)
    }
}

fn null_at(at: usize) -> Node<'static> {
    Node::new(Value::Null, Cow::Borrowed("~"), Span::new(at, at))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use proptest::prelude::*;

    use super::super::{LIMITS, parse_events};
    use super::*;
    use crate::source::SourceFile;

    /// Whether the fast reader read `text`; when it did, its tree is the
    /// parser's, value for value, text for text, span for span.
    fn agrees(text: &str) -> bool {
        let Some(fast) = parse(text, LIMITS.max_depth) else {
            return false;
        };
        let source = SourceFile::new("t.yaml", text);
        let reference = parse_events(&source, LIMITS)
            .unwrap_or_else(|e| panic!("read what the parser refuses ({e:?}):\n{text}"));
        // Debug output shows every field, and tells NaN apart from itself
        // as `==` cannot.
        assert_eq!(format!("{fast:#?}"), format!("{reference:#?}"), "{text:?}");
        if !format!("{fast:?}").contains("NaN") {
            assert!(fast == reference, "{text:?}");
        }
        true
    }

    fn yaml_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                yaml_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(path);
            }
        }
    }

    #[test]
    fn every_yaml_file_of_the_repository_reads_as_the_parser_reads_it() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = vec![
            root.join("platform.yaml"),
            root.join(".pre-commit-hooks.yaml"),
        ];
        for dir in [
            ".github",
            "docs",
            "examples",
            "fuzz/corpus",
            "out",
            "src",
            "tests",
        ] {
            yaml_files(&root.join(dir), &mut files);
        }
        let mut read = 0;
        for path in &files {
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            if agrees(&text) {
                read += 1;
            }
        }
        assert!(files.len() > 150, "{} files", files.len());
        // Most specs are in the subset.
        assert!(read * 2 > files.len(), "{read} of {} read", files.len());
    }

    #[test]
    fn specs_are_read_without_the_parser() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for name in [
            "platform.yaml",
            "examples/minimal/platform.yaml",
            "examples/microservices/platform.yaml",
            "examples/broken-plan/platform.yaml",
        ] {
            let text = std::fs::read_to_string(root.join(name)).unwrap();
            assert!(agrees(&text), "{name} was left to the parser");
        }
        for n in [0, 1, 28, 300] {
            assert!(
                agrees(&crate::spec::gen_spec::spec(n)),
                "a spec of {n} services"
            );
        }
    }

    const TRICKY: &[&str] = &[
        "",
        "# only a comment\n\n",
        "a: 1 # after\nb: x#y # after\n",
        "a:\nb:   # comment\nc: 1\n",
        "a:\n  - - x\n    - y\n  - - z\n",
        "- - x\n- - - y\n",
        "items:\n  - name: a\n    port: 1\n  - name: b\n",
        "items:\n- name: a\n  port: 1\n- b\nnext: 2\n",
        "items:\n-\n- x\n-   # c\n-\n  k: v\n",
        "items:\n  -\n  -\n    - 1\n",
        "\"quoted key\": 1\n'single': 2\n\"a b\" : 3\n",
        "a: \"# not a comment\"\nb: '# nor this'\n",
        "a: x   \nb: 'y'  \nc: [1, 2]  \n",
        "a: 1\r\nb: 2\r\n",
        "a: 1\nb: 2",
        "a: [1, 2]",
        "a: |\n  x",
        "a: >-\n  x",
        "\u{e9}t\u{e9}: caf\u{e9} \u{1f600}\n\"\u{e9}\": ['\u{e9}']\n",
        "a: 'it''s'\nb: ''''\nc: ''\n",
        "a: \"\\u00e9\\n\"\nb: \"\\t\\\\\\\"\\/\\x41\\U0001F600\\N\\_\\0\\e\"\nc: \"\"\n",
        "a: \"\\q\"\n",
        "[on, off, yes, no, y, n, 0x1F, 0o17, 0755, 1e3, .inf, -.inf, .NaN, ~, null, Null, True, FALSE, 1_000, -0, +1, 1., .5, 12:30]\n",
        "a: on\nb: 0x1F\nc: 1e3\nd: .inf\ne: ~\nf: .nan\ng: 1.0\nh: 0o7\n",
        "f: -\n",
        "1: one\n2.5: two\n~: three\ntrue: four\n",
        "a: {x: 1, y: [p, \"q\", 'r'], z: {}}\nb: [[], [[a]], {k: [v]}]\n",
        "a: [http://x:1/y, a:b, \"c\"]\nb: {url: http://x:1}\n",
        "a: [a,b,c]\nb: {x: 1,y: 2}\n",
        "a: [a, b,]\n",
        "a: {a: 1,}\n",
        "a: [a\n  , b]\n",
        "a: {x: 1 # c\n}\n",
        "a: -U\nb: [-U, --x, -1]\n",
        "a: [-]\n",
        "a: b: c\n",
        "a: x\n  continued\n",
        "a:\n  x\nb: y\n",
        "a:\n  x\n  y\n",
        "a: \"x\n  y\"\n",
        "a: 'x\n  y'\n",
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "<<: {a: 1}\n",
        "? a\n: b\n",
        "--- \na: 1\n",
        "a: 1\n...\n",
        "%YAML 1.2\n---\na: 1\n",
        "a:\n\t- 1\n",
        "\u{feff}a: 1\n",
        "a: b\u{85}c\n",
        "a: 1\na: 2\n",
        "a:\n  b: 1\n  b: 2\n",
        "  a: 1\n  b: 2\n",
        "a:\n    b: 1\n  c: 2\n",
        "a:\n  b: 1\n   c: 2\n",
        "- a\nb: 1\n",
        "a: 1\n- b\n",
        "plain root\n",
        "plain\nroot\n",
        "\"root\"\n",
        "[root]\n",
        "reason: >-\n  one\n  two\n\nnext: 1\n",
        "reason: >\n  one\n  two\n# c\nnext: 1\n",
        "x:\n  a: |\n    one\n    two\n\n\n  b: 1\n",
        "x:\n  a: |-\n    one\n      two\n  b: 1\n",
        "x:\n  a: >\n    one\n      two\n  b: 1\n",
        "x:\n  a: >\n    one\n\n    two\n  b: 1\n",
        "x:\n  a: >+\n    one\n  b: 1\n",
        "x:\n  a: >2\n    one\n  b: 1\n",
        "x:\n  a: >\n\n    one\n  b: 1\n",
        "x:\n  a: >  # c\n    one\n    # two\n  # c\n  b: 1\n",
        "x:\n  a: >\n  b: 1\n",
        "x:\n- >-\n  q\n- |\n  r\n",
        "a: >-\n  x  \n",
        "a:\n  - >\n    q\n",
        "a: b #c",
        "a:",
        "a:\n-",
        "-",
        "a: - b\n",
        "a: [x] y\n",
        "a: \"x\"y\n",
        "a: \"x\"#y\n",
        "a: 'x' # y\n",
        "a:b\n",
        "a:b: c\n",
        "a : 1\n",
        "- ? x\n",
        "a: @x\n",
        "a: `x`\n",
        "a: %x\n",
        "a: x\x00\n",
        "a: {b: }\n",
        "a: {b}\n",
        "a: [b: c]\n",
        "{a: 1}: b\n",
        "a: [\"x\":1]\n",
        "a: {\"x\": 1, 'y': 2}\n",
        "a: {",
        "a: {x: 1, ",
        "a: {x: 1,",
        "a: {x:",
        "a: {x: ",
        "a: [",
        "a: [x, ",
        "{",
        "[",
        "a: \"",
        "a: \"\\",
        "a: \"\\u12",
        "a: '",
        "a: >",
        "a: |-",
        "- ",
        "a: x\n  ",
        "a: b]\nc: d}\ne: f,g\nh: i{j}\n",
        "a b: 1\nc: d - e\nf: g -\n",
        "a: 'x'\n  b: 1\n",
        "- a\n  - b\n",
        "it's: a\n\"x\\\"y\": 'b'\n",
        "a: x:\n",
        "a:\n  b:\n    c:\n",
        "a:\n- b:\n  c: 1\n-\n",
        "- a: 1\n  b:\n  - x\n  c: 2\n",
    ];

    #[test]
    fn tricky_snippets_read_as_the_parser_reads_them_or_are_left_to_it() {
        let read = TRICKY.iter().filter(|t| agrees(t)).count();
        assert!(read * 3 > TRICKY.len(), "{read} of {} read", TRICKY.len());
    }

    #[test]
    fn the_plain_subset_is_read_directly() {
        for text in [
            "a: 1 # after\nb: x#y # after\n",
            "a: on\nb: 0x1F\nc: 1e3\nd: .inf\ne: ~\nf: .nan\ng: 1.0\nh: 0o7\n",
            "a: -U\nb: [-U, --x, -1]\n",
            "\u{e9}t\u{e9}: caf\u{e9} \u{1f600}\n\"\u{e9}\": ['\u{e9}']\n",
            "a: 1\nb: 2",
            "items:\n- name: a\n  port: 1\n- b\nnext: 2\n",
            "items:\n-\n- x\n-   # c\n-\n  k: v\n",
            "a: 'it''s'\nb: ''''\nc: ''\n",
            "a: \"\\u00e9\\n\"\nb: \"\\t\\\\\\\"\\/\\x41\\U0001F600\\N\\_\\0\\e\"\nc: \"\"\n",
            "reason: >-\n  one\n  two\n\nnext: 1\n",
            "a: 1\na: 2\n",
            // An empty value after spaces and a `:` stands at the `:`.
            "a : 1\nb : ",
            "-\u{fffd}\u{fffd}:ss : ",
            "a :\n  - b :\n    c  :\n",
        ] {
            assert!(agrees(text), "{text:?} was left to the parser");
        }
    }

    #[test]
    fn what_is_outside_the_subset_is_left_to_the_parser() {
        for text in [
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "<<: {a: 1}\n",
            "a: x\n  continued\n",
            "a: \"x\n  y\"\n",
            "a: 1\r\n",
            "a: [a\n  , b]\n",
            "x:\n  a: >\n    one\n\n    two\n  b: 1\n",
            "a: b: c\n",
            "--- \na: 1\n",
        ] {
            assert!(parse(text, LIMITS.max_depth).is_none(), "{text:?} was read");
        }
    }

    #[test]
    fn deep_nesting_is_left_to_the_parser() {
        let nested =
            |levels: usize| -> String { (0..levels).map(|i| " ".repeat(i) + "a:\n").collect() };
        let deep = nested(70);
        assert!(parse(&deep, LIMITS.max_depth).is_none());
        let flow = "[".repeat(70) + &"]".repeat(70);
        assert!(parse(&flow, LIMITS.max_depth).is_none());
        assert!(agrees(&nested(10)));
    }

    /// Lines made of pieces that the subset has and pieces it has not, at
    /// indentations that fit and that do not.
    fn document() -> impl Strategy<Value = String> {
        let indent = prop::sample::select(vec![0usize, 0, 1, 2, 2, 3, 4, 6]);
        let lead = prop::sample::select(vec![
            "", "", "- ", "- - ", "a: ", "b: ", "a:", "- a: ", "\"q\": ", "'k': ", "-", "? ",
        ]);
        let value = prop::sample::select(vec![
            "",
            "x",
            "1",
            "~",
            "on",
            "0x1F",
            "1e3",
            ".inf",
            "-1",
            "x y",
            "x#y",
            "x # c",
            "# c",
            "'it''s'",
            "'a",
            "\"\\u00e9\\n\"",
            "\"a # b\"",
            "\"\\q\"",
            "[a, b]",
            "[a, {b: c}]",
            "{k: v}",
            "{k: [1, 2]}",
            "[]",
            "{}",
            "[a",
            "{k: v",
            "{",
            "[",
            "{k: v, ",
            ">-",
            "|",
            ">",
            "|-",
            "*x",
            "&x y",
            "!t y",
            "c: d",
            "http://h:1",
            "a:b",
            "- z",
            "x  ",
            "'q'  # c",
            "é",
        ]);
        prop::collection::vec((indent, lead, value), 0..12).prop_flat_map(|lines| {
            let text: String = lines
                .iter()
                .map(|(i, l, v)| " ".repeat(*i) + l + v + "\n")
                .collect();
            prop::sample::select(vec![text.clone(), text.trim_end_matches('\n').to_owned()])
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 3000,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn any_document_reads_as_the_parser_reads_it_or_is_left_to_it(text in document()) {
            agrees(&text);
        }
    }
}

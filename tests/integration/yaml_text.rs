//! A small YAML writer for generated specs: block style, as people write
//! `platform.yaml`, with every string double-quoted (JSON escapes are YAML
//! escapes), so any text round-trips, whatever it holds.
//!
//! Generated specs go through YAML text and the real parser, never through
//! the spec types, so the generators test what a user's file would meet and
//! keep working when the spec gains optional keys. The fuzz crate includes
//! this file too (`fuzz/src/structured.rs`).

use std::fmt::Write as _;

/// A YAML node.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Map(Vec<(String, Node)>),
    List(Vec<Node>),
    /// A string, always written quoted.
    Str(String),
    Int(i64),
    Bool(bool),
    /// A plain scalar written as it is (`1.10`, `yes`): for values the spec
    /// must take as the text written.
    Plain(String),
}

impl Node {
    pub fn str(s: impl Into<String>) -> Node {
        Node::Str(s.into())
    }

    /// A mapping from `(key, value)` pairs, in order.
    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Node)>) -> Node {
        Node::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    pub fn strs<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Node {
        Node::List(items.into_iter().map(|s| Node::Str(s.into())).collect())
    }
}

/// `s` as a double-quoted YAML scalar.
pub fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            // Everything YAML does not allow unescaped in a document, and
            // the line breaks it would fold.
            c if c.is_control() || c == '\u{feff}' || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A mapping key: plain when nothing could misread it (`api`, `depends_on`),
/// quoted otherwise.
pub fn key(k: &str) -> String {
    let plain = k.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c))
        && !matches!(
            k.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "true" | "false" | "on" | "off" | "null"
        );
    if plain { k.to_owned() } else { quoted(k) }
}

fn scalar(node: &Node) -> Option<String> {
    match node {
        Node::Str(s) => Some(quoted(s)),
        Node::Int(n) => Some(n.to_string()),
        Node::Bool(b) => Some(b.to_string()),
        Node::Plain(s) => Some(s.clone()),
        Node::Map(m) if m.is_empty() => Some("{}".into()),
        Node::List(l) if l.is_empty() => Some("[]".into()),
        Node::Map(_) | Node::List(_) => None,
    }
}

fn write(node: &Node, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match node {
        Node::Map(entries) => {
            for (k, v) in entries {
                out.push_str(&pad);
                out.push_str(&key(k));
                out.push(':');
                if let Some(s) = scalar(v) {
                    out.push(' ');
                    out.push_str(&s);
                    out.push('\n');
                } else {
                    out.push('\n');
                    write(v, indent + 2, out);
                }
            }
        }
        Node::List(items) => {
            for item in items {
                out.push_str(&pad);
                out.push('-');
                if let Some(s) = scalar(item) {
                    out.push(' ');
                    out.push_str(&s);
                    out.push('\n');
                } else {
                    out.push('\n');
                    write(item, indent + 2, out);
                }
            }
        }
        leaf => {
            out.push_str(&pad);
            out.push_str(&scalar(leaf).unwrap_or_default());
            out.push('\n');
        }
    }
}

/// The document's text.
pub fn to_yaml(node: &Node) -> String {
    let mut out = String::new();
    write(node, 0, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip_through_the_parser_whatever_they_hold() {
        let tricky = [
            "yes",
            "1.10",
            "a: b",
            "#x",
            "- x",
            "\"q\" \\ \u{7} \u{85} \u{2028} \u{feff} ☃",
            "",
        ];
        let doc = Node::map(tricky.iter().chain(&["k", "on"]).map(|k| {
            (
                *k,
                Node::List(tricky.iter().map(|s| Node::str(*s)).collect()),
            )
        }));
        let text = to_yaml(&doc);
        let back: indexmap::IndexMap<String, Vec<String>> = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(back.len(), tricky.len() + 2, "{text}");
        for (k, v) in &back {
            assert_eq!(v, &tricky, "{k}: {text}");
        }
    }

    #[test]
    fn nested_maps_and_lists_are_block_style() {
        let doc = Node::map([(
            "a",
            Node::List(vec![Node::map([("b", Node::Int(1))]), Node::List(vec![])]),
        )]);
        assert_eq!(to_yaml(&doc), "a:\n  -\n    b: 1\n  - []\n");
    }
}

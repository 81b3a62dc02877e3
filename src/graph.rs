//! The platform as a picture: services as nodes, `depends_on` as arrows
//! (from a service to what it waits for), phases as clusters, and the
//! services that hold a role marked with it. Written as Mermaid (GitHub
//! renders it in Markdown) or as Graphviz DOT (`dot -Tsvg`).
//!
//! The output is deterministic (spec order throughout) so that a committed
//! picture can be compared with a fresh one. The DOT graph carries a
//! fingerprint of itself as its `comment`, which Graphviz copies into the
//! SVG: a test can tell a stale SVG without running Graphviz.

use std::fmt::Write as _;

use crate::model::{Platform, Service};

/// The roles a service holds, in a fixed order.
fn roles_of(platform: &Platform, service: &str) -> Vec<&'static str> {
    platform
        .roles
        .named()
        .into_iter()
        .filter(|(_, name)| *name == service)
        .map(|(role, _)| role)
        .collect()
}

fn phase_title(platform: &Platform, index: usize) -> String {
    let phase = &platform.phases[index];
    match &phase.title {
        Some(title) => format!("Phase {}: {title}", phase.id),
        None => format!("Phase {}", phase.id),
    }
}

/// Services grouped by phase, in phase order and spec order within a phase.
fn by_phase(platform: &Platform) -> Vec<(usize, Vec<&Service>)> {
    (0..platform.phases.len())
        .map(|i| {
            let members = platform.services.iter().filter(|s| s.phase == i).collect();
            (i, members)
        })
        .filter(|(_, members): &(usize, Vec<&Service>)| !members.is_empty())
        .collect()
}

/// Every `depends_on` edge, dependant first, in spec order.
fn edges(platform: &Platform) -> impl Iterator<Item = (&str, &str)> {
    platform.services.iter().flat_map(|s| {
        s.depends_on
            .iter()
            .map(move |d| (s.name.as_str(), d.as_str()))
    })
}

/// Service names are DNS labels (lowercase letters, digits, `-`), so `_`
/// for `-` gives Mermaid an identifier without a clash.
fn mermaid_id(name: &str) -> String {
    format!("s_{}", name.replace('-', "_"))
}

/// Mermaid's label text: quotes as entities, and no markup from the spec.
fn mermaid_text(text: &str) -> String {
    text.replace('#', "#35;")
        .replace('&', "#amp;")
        .replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
}

/// The graph as a Mermaid flowchart.
pub fn mermaid(platform: &Platform) -> String {
    let mut out = String::from("flowchart BT\n");
    let node = |out: &mut String, s: &Service, indent: &str| {
        let roles = roles_of(platform, &s.name);
        let id = mermaid_id(&s.name);
        if roles.is_empty() {
            let _ = writeln!(out, "{indent}{id}[\"{}\"]", mermaid_text(&s.name));
        } else {
            let _ = writeln!(
                out,
                "{indent}{id}[[\"{}<br/><i>{}</i>\"]]:::role",
                mermaid_text(&s.name),
                roles.join(", ")
            );
        }
    };
    if platform.phased {
        for (i, members) in by_phase(platform) {
            let _ = writeln!(
                out,
                "  subgraph phase_{i}[\"{}\"]",
                mermaid_text(&phase_title(platform, i))
            );
            for s in members {
                node(&mut out, s, "    ");
            }
            out.push_str("  end\n");
        }
    } else {
        for s in &platform.services {
            node(&mut out, s, "  ");
        }
    }
    for (from, to) in edges(platform) {
        let _ = writeln!(out, "  {} --> {}", mermaid_id(from), mermaid_id(to));
    }
    out.push_str("  classDef role fill:#e8f0fe,stroke:#1a56db,stroke-width:2px\n");
    out
}

/// A DOT string literal.
fn dot_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// FNV-1a, 64 bits: a stable fingerprint (no dependency, no randomness).
fn fingerprint(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// The fingerprint line the DOT graph and the SVG made from it carry.
pub fn dot_fingerprint(dot: &str) -> Option<&str> {
    dot.lines()
        .find_map(|l| l.trim().strip_prefix("comment=\"platgen graph "))
        .and_then(|rest| rest.strip_suffix('"'))
}

/// The graph in Graphviz's DOT language.
pub fn dot(platform: &Platform) -> String {
    let mut body = String::new();
    let node = |out: &mut String, s: &Service, indent: &str| {
        let roles = roles_of(platform, &s.name);
        if roles.is_empty() {
            let _ = writeln!(out, "{indent}{};", dot_string(&s.name));
        } else {
            let _ = writeln!(
                out,
                "{indent}{} [label={}, class=\"role\", penwidth=2, color=\"#1a56db\", fillcolor=\"#e8f0fe\"];",
                dot_string(&s.name),
                dot_string(&format!("{}\n{}", s.name, roles.join(", ")))
            );
        }
    };
    if platform.phased {
        for (i, members) in by_phase(platform) {
            let _ = writeln!(
                body,
                "  subgraph {} {{",
                dot_string(&format!("cluster_{i}"))
            );
            let _ = writeln!(body, "    label={};", dot_string(&phase_title(platform, i)));
            for s in members {
                node(&mut body, s, "    ");
            }
            body.push_str("  }\n");
        }
    } else {
        for s in &platform.services {
            node(&mut body, s, "  ");
        }
    }
    for (from, to) in edges(platform) {
        let _ = writeln!(body, "  {} -> {};", dot_string(from), dot_string(to));
    }
    let head = format!(
        "digraph {} {{\n  graph [rankdir=BT, fontname=\"Helvetica\", fontsize=12, labeljust=l, style=\"rounded\", color=\"#9ca3af\", label={}];\n  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", fontname=\"Helvetica\", fontsize=11];\n  edge [color=\"#6b7280\", arrowsize=0.7];\n",
        dot_string(&platform.name),
        dot_string(&format!(
            "{}: an arrow points from a service to what it depends on",
            platform.name
        )),
    );
    let print = fingerprint(&format!("{head}{body}"));
    format!("{head}  graph [\n    comment=\"platgen graph {print}\"\n  ];\n{body}}}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_strings_escape_quotes_and_backslashes() {
        assert_eq!(dot_string(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(dot_string("a\nb"), r#""a\nb""#);
    }

    #[test]
    fn mermaid_text_cannot_open_markup() {
        assert_eq!(mermaid_text(r#"<b>"x"&"#), "#lt;b#gt;#quot;x#quot;#amp;");
        assert_eq!(mermaid_text("#1"), "#35;1");
        assert_eq!(mermaid_id("nags-api"), "s_nags_api");
    }

    #[test]
    fn the_fingerprint_is_stable_and_found_again() {
        assert_eq!(fingerprint(""), "cbf29ce484222325");
        assert_ne!(fingerprint("a"), fingerprint("b"));
        let dot =
            "digraph x {\n  graph [\n    comment=\"platgen graph 0123456789abcdef\"\n  ];\n}\n";
        assert_eq!(dot_fingerprint(dot), Some("0123456789abcdef"));
    }
}

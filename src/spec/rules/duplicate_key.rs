//! A key may appear only once in a mapping.
//!
//! Why: most YAML readers silently keep the last of two equal keys, so a
//! second `grafana:` entry would replace the first without a word, and a
//! whole service would vanish from the platform. platgen reports both places.
//!
//! Example:
//!
//! ```yaml
//! services:
//!   grafana: {image: "grafana/grafana:11.2.0"}
//!   grafana: {image: "grafana/grafana:10.4.2"}   # error: duplicate key
//! ```

use crate::diag::{Rule, Severity};

pub const RULE: Rule = Rule {
    code: "PG003",
    name: "duplicate-key",
    severity: Severity::Error,
    source: include_str!("duplicate_key.rs"),
};

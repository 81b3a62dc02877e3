//! The document must stay within platgen's safety limits: at most 64 levels
//! of nesting and 250,000 values after expanding aliases.
//!
//! Why: `platgen check` runs as a pre-commit hook on files from anywhere. An
//! alias bomb ("billion laughs": anchors that reference anchors nine times
//! over) or a file of 100,000 nested brackets must get a quick, located
//! error, not exhaust memory or the stack. No real platform comes near the
//! limits.
//!
//! Example:
//!
//! ```yaml
//! a: &a [x, x, x, x, x, x, x, x, x]
//! b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
//! c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]   # ... and so on
//! ```

use crate::diag::{Rule, Severity};

pub const RULE: Rule = Rule {
    code: "PG002",
    name: "yaml-limits",
    severity: Severity::Error,
    source: include_str!("yaml_limits.rs"),
};

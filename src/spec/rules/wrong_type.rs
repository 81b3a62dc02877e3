//! Every value must have the type its key expects: a mapping, a sequence, a
//! string, an integer or a boolean.
//!
//! Why: a list where a mapping belongs, or a word where a number belongs,
//! cannot mean what the author intended. An empty value (`ports:` with
//! nothing after it) is null in YAML, not an empty list; write `[]` or `{}`.
//!
//! Example:
//!
//! ```yaml
//! services:
//!   - api                 # error: expected a mapping, found a sequence
//! ```

use crate::diag::{Rule, Severity};

pub const RULE: Rule = Rule {
    code: "PG006",
    name: "wrong-type",
    severity: Severity::Error,
    source: include_str!("wrong_type.rs"),
};

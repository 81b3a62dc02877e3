//! A value must be one the key allows: one of a fixed set of words
//! (`protocol: tcp` or `udp`), a number within range, a list of the right
//! length.
//!
//! Why: `protocol: tpc` or `retries: -1` would otherwise reach the rendered
//! configs and fail there, far from the mistake. The error lists what is
//! allowed and suggests the closest word.
//!
//! Example:
//!
//! ```yaml
//! ports:
//!   - {container: 53, protocol: tpc}   # error: invalid value; did you mean `tcp`?
//! ```

use crate::diag::{Rule, Severity};

pub const RULE: Rule = Rule {
    code: "PG007",
    name: "invalid-value",
    severity: Severity::Error,
    source: include_str!("invalid_value.rs"),
};

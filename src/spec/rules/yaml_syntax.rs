//! The file must be UTF-8 text in valid YAML syntax.
//!
//! Why: nothing else can be checked in a file that does not parse. The error
//! points at the character where the parser gave up, which is usually the
//! line after the real mistake (an unclosed bracket, a tab used for
//! indentation, a `:` in an unquoted value).
//!
//! Example:
//!
//! ```yaml
//! services:
//!   api:
//!     ports: [1400, 1401     # the flow sequence is never closed
//! ```

use crate::diag::{Rule, Severity};

pub const RULE: Rule = Rule {
    code: "PG001",
    name: "yaml-syntax",
    severity: Severity::Error,
    source: include_str!("yaml_syntax.rs"),
};

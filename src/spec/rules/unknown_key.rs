//! Every key must be one the spec defines.
//!
//! Why: a misspelt key is otherwise ignored, and the setting it was meant to
//! make silently does not happen (`depend_on` would drop every dependency).
//! The error suggests the closest known key.
//!
//! Example:
//!
//! ```yaml
//! services:
//!   api:
//!     image: ghcr.io/example/api:1.0.0
//!     depend_on: [postgres]     # error: unknown key; did you mean `depends_on`?
//! ```

use crate::diag::{Rule, Severity};

pub const RULE: Rule = Rule {
    code: "PG004",
    name: "unknown-key",
    severity: Severity::Error,
    source: include_str!("unknown_key.rs"),
};

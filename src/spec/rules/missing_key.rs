//! Required keys must be present: `name` and `services` at the top, `image`
//! in every service, `container` in every port, `id` in every phase.
//!
//! Why: without them there is nothing to render. The error points at the
//! mapping that lacks the key.
//!
//! Example:
//!
//! ```yaml
//! services:
//!   api:                  # error: missing required key `image`
//!     ports: [{container: 8080}]
//! ```

use crate::diag::{Rule, Severity};

pub const RULE: Rule = Rule {
    code: "PG005",
    name: "missing-key",
    severity: Severity::Error,
    source: include_str!("missing_key.rs"),
};

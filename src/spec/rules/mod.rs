//! The rules the parser and the schema pass enforce. Their logic lives in
//! [`super::yaml`] and [`super::schema`]; each module here declares the rule
//! and documents it.

pub mod duplicate_key;
pub mod invalid_value;
pub mod missing_key;
pub mod unknown_key;
pub mod wrong_type;
pub mod yaml_limits;
pub mod yaml_syntax;

use crate::diag::Rule;

/// The parse-stage rules, in code order.
pub const ALL: &[&Rule] = &[
    &yaml_syntax::RULE,
    &yaml_limits::RULE,
    &duplicate_key::RULE,
    &unknown_key::RULE,
    &missing_key::RULE,
    &wrong_type::RULE,
    &invalid_value::RULE,
];

//! platgen: one `platform.yaml` in; validated, rendered platform configs out.
//!
//! The pipeline runs one way: source -> [`spec`] (parsed, with spans) ->
//! an environment applied ([`spec::environment`], spec -> spec, spans kept)
//! -> [`check`] (rules, diagnostics) -> [`model`] (validated, no spans) ->
//! render -> emit. The library never prints; the binary does.

pub mod cache;
pub mod check;
pub mod collections;
pub mod completions;
pub mod cron;
pub mod diag;
pub mod docs;
pub mod duration;
pub mod emit;
pub mod exposure;
pub mod graph;
pub mod init;
pub mod memory;
pub mod model;
pub mod ports;
pub mod quantity;
pub mod render;
pub mod scaffold;
pub mod source;
pub mod spec;
pub mod suggest;

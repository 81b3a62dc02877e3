//! The one integration test binary: every module drives the library or the
//! real `platgen` executable the way a user would.

mod check;
mod cli;
mod commands;
mod configs;
mod environments;
mod findings;
mod friction;
mod gateway;
mod generated;
mod kill;
mod readme;
mod render;
mod render_cli;
mod runtime;
mod scale;
mod schema;
mod secrets;
mod security;
mod support;
#[allow(dead_code)] // `Node::Plain` is for the fuzz crate, which includes the file too
mod yaml_text;

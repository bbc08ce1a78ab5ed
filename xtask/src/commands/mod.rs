//! One module per `cargo xtask` subcommand, each readable top to bottom:
//! its flags, its `run`, and the steps it carries out. Decisions are made by
//! `study`; effects go through `edges`.
//!
//! May import: `study`, `edges`, `support` and other commands (`seeds` ends
//! with `verify`; `demo` runs the others).

pub mod bench;
pub mod clean_docker;
pub mod demo;
pub mod e2e;
pub mod install_cooperbench;
pub mod oracle;
pub mod report;
pub mod seeds;
pub mod status;
pub mod study;
pub mod triage;
pub mod verify;

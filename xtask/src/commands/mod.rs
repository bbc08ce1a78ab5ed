//! One module per `cargo xtask` subcommand, each readable top to bottom:
//! flags, load, decide (`study`), carry out (`engine`), render. Decisions
//! are made by `study`; effects go through `engine` and `edges`.
//!
//! May import: `engine`, `study`, `edges`, `support`; never another command
//! (tests/layers.rs fails if one does), except that `demo`, `bench` and
//! `e2e` orchestrate others through each one's public `run`.

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

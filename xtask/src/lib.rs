//! The CooperBench seeds harness, in four folders by layer:
//!
//! - `commands/`: one module per `cargo xtask` subcommand;
//! - `study/`: the study's nouns and rules, pure (no process, file or clock);
//! - `edges/`: everything that touches a process, a file or Docker;
//! - `support/`: the simulator checkout and the offline world tests run in.
//!
//! Imports run downwards only: `commands` may use everything, `edges` and
//! `support` use `study`, and `study` uses nothing of the harness but itself.
//! `tests/layers.rs` checks it.

pub mod commands;
pub mod edges;
pub mod study;
pub mod support;

/// An error that means "you called it wrong" (exit 2), not "the data is bad".
#[derive(Debug)]
pub struct UsageError(pub anyhow::Error);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for UsageError {}

pub fn usage(e: anyhow::Error) -> anyhow::Error {
    anyhow::Error::new(UsageError(e))
}

//! The CooperBench seeds harness. `main.rs` parses flags and calls one module
//! per subcommand; the rest are the study's nouns (pair, subset, result,
//! difficulty) and the edges that touch processes and files.

pub mod agent_config;
pub mod bench;
pub mod clean_docker;
pub mod cli;
pub mod command;
pub mod demo;
pub mod difficulty;
pub mod docker;
pub mod e2e;
pub mod eval_summary;
pub mod experiment;
pub mod fig4;
pub mod fixture;
pub mod install_cooperbench;
pub mod json;
pub mod lock;
pub mod logs;
pub mod manifest;
pub mod noise;
pub mod outcomes;
pub mod pair;
pub mod plan;
pub mod plot;
pub mod preflight;
pub mod problem;
pub mod quarantine;
pub mod report;
pub mod result;
pub mod secrets;
pub mod seeds;
pub mod status;
pub mod subset;
pub mod timestamp;
pub mod verify;
pub mod world;

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

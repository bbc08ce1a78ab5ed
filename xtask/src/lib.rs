//! The CooperBench seeds harness, in five folders by layer (ARCHITECTURE.md
//! at the root has the map):
//!
//! - `commands/`: one module per `cargo xtask` subcommand, never importing
//!   another;
//! - `engine/`: the executor: preflight, the job, invocations, sandboxes,
//!   the arm loop;
//! - `study/`: the study's nouns and rules, pure (no process, file or clock);
//! - `edges/`: everything that touches a process, a file or Docker;
//! - `support/`: the simulator checkout and the offline world tests run in.
//!
//! Imports run downwards only: `commands` may use everything, `engine` uses
//! `edges` and `study`, `edges` and `support` use `study`, and `study` uses
//! nothing of the harness but itself. No module is in a circle.
//! `tests/layers.rs` checks it.

use std::path::PathBuf;

pub mod commands;
pub mod edges;
pub mod engine;
pub mod study;
pub mod support;

/// What every command is handed, built once in `main`: the project root,
/// the runner of short commands, and the docker program. (The stop flag
/// stays a process global: the signal handler must reach it; see
/// `edges::cli::interrupted`.)
#[derive(Debug, Clone)]
pub struct Context {
    /// Where `experiment.toml`, `results/` and `fixtures/` live.
    pub root: PathBuf,
    /// Short commands read whole (`docker ps`, `pip freeze`, `--help`).
    pub sh: edges::short::Short,
    pub docker: edges::docker::Docker,
    /// Whether the user chose the docker program (`XTASK_DOCKER`): the demo
    /// uses the bundled stub unless they did.
    pub docker_chosen: bool,
}

impl Context {
    /// From the environment, once: `XTASK_DOCKER` replaces `docker`.
    pub fn from_env() -> Context {
        let chosen = std::env::var("XTASK_DOCKER").ok().filter(|p| !p.is_empty());
        let sh = edges::short::Short::new();
        Context {
            root: edges::layout::project_root(),
            docker_chosen: chosen.is_some(),
            docker: edges::docker::Docker::with(chosen.unwrap_or_else(|| "docker".into()), sh.clone()),
            sh,
        }
    }
}

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

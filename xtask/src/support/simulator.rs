//! The simulator as a program of its own (as the real CLI would be): the
//! binary beside this one, built when missing, and one run and its eval
//! through it. The demo and `bench` use it; the tests call the simulator
//! in process (`fixture`).

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::support::fixture;

/// One run and its eval by the simulator binary (a process of its own, as
/// the real CLI would be), output discarded.
pub fn run(sim: &Path, cb: &Path, subset: &str, run: &str, setting: &str, env: &[(&str, &str)]) -> anyhow::Result<()> {
    for args in fixture::sim_argv(cb, subset, run, setting) {
        let mut cmd = duct::cmd(sim, &args).dir(cb).env("COHERE_API_KEY", "demo-not-a-real-key");
        for (k, v) in env {
            cmd = cmd.env(k, v);
        }
        let out = cmd.stdout_null().stderr_capture().unchecked().run()?;
        anyhow::ensure!(out.status.success(), "simulator failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

/// The simulator binary beside this one, built if `cargo run` did not.
pub fn binary(root: &Path) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let sim = exe.with_file_name("cooperbench-sim");
    if !sim.is_file() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut args = vec!["build", "--quiet", "--package", "xtask", "--bin", "cooperbench-sim"];
        if !cfg!(debug_assertions) {
            args.push("--release");
        }
        duct::cmd(cargo, args).dir(root).run().context("building the simulator failed")?;
    }
    anyhow::ensure!(sim.is_file(), "simulator not found at {}", sim.display());
    Ok(sim)
}

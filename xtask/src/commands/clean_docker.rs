//! `cargo xtask clean-docker`: removes the containers this harness saw
//! appear during its own CLI invocations (the checkout's ledger,
//! `.harness/containers.jsonl`) that are still there, and says why each is
//! ours. Other containers that look like cooperbench's (another job's,
//! perhaps) are listed and left alone; `--all-cooperbench` removes them too,
//! after listing them.

use std::path::PathBuf;

use crate::edges::docker::{self, Container};
use crate::edges::experiment::CommonFlags;

#[derive(Debug, Clone, clap::Args)]
pub struct CleanDockerFlags {
    #[command(flatten)]
    pub common: CommonFlags,
    /// List what would be removed; remove nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Only the containers seen during this run's invocations
    #[arg(long, value_name = "RUN")]
    pub run: Option<String>,
    /// Also remove cooperbench-looking containers this harness did not see
    /// appear (they may be another job's); they are listed first
    #[arg(long)]
    pub all_cooperbench: bool,
}

pub fn run(flags: CleanDockerFlags, ctx: &crate::Context) -> anyhow::Result<i32> {
    let cb: PathBuf = match &flags.common.cooperbench_dir {
        Some(dir) => dir.clone(),
        None => flags.common.load()?.cooperbench_dir,
    };
    ctx.docker.available().map_err(|e| anyhow::anyhow!("docker is not reachable: {e:#}"))?;
    let ledger = crate::edges::layout::ledger(&cb);
    let (known, bad) = docker::read_ledger(&ledger);
    for b in &bad {
        eprintln!("warning: {b} (that line is skipped)");
    }
    // A live seeds' containers are its own to clean: while one holds the
    // checkout, this only lists.
    let lock = if flags.dry_run { None } else { Some(crate::edges::lock::Lock::acquire(&cb, &[])) };
    let dry_run = match &lock {
        Some(Err(e)) => {
            println!("removing nothing: {e:#}");
            true
        }
        _ => flags.dry_run,
    };
    let present = ctx.docker.containers()?;
    let ours = docker::leftovers(&present, &known, flags.run.as_deref());
    let others: Vec<&Container> = present.iter().filter(|c| c.is_cooperbench() && !known.contains_key(&c.id)).collect();

    let verb = if dry_run { "would remove" } else { "removing" };
    if ours.is_empty() {
        println!("no containers of ours (ledger {})", ledger.display());
    } else {
        println!("{verb} {} container(s) of ours:", ours.len());
        for (c, s) in &ours {
            println!("  {} ({})", docker::describe(c), s.why());
        }
    }
    if !others.is_empty() {
        if flags.all_cooperbench {
            println!(
                "{verb} {} cooperbench-looking container(s) not seen by this harness (--all-cooperbench):",
                others.len()
            );
        } else {
            println!(
                "left alone: {} cooperbench-looking container(s) this harness did not see appear (another job's?); --all-cooperbench removes them",
                others.len()
            );
        }
        for c in &others {
            println!("  {}", docker::describe(c));
        }
    }
    if !dry_run {
        let mut ids: Vec<&str> = ours.iter().map(|(c, _)| c.id.as_str()).collect();
        if flags.all_cooperbench {
            ids.extend(others.iter().map(|c| c.id.as_str()));
        }
        ctx.docker.remove(&ids)?;
        if !ids.is_empty() {
            println!("removed {}", ids.len());
        }
    }
    Ok(0)
}

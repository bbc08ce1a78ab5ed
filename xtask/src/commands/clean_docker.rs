//! `cargo xtask clean-docker`: removes the containers that carry this
//! checkout's label (the proxy puts it on every container the CLI creates,
//! `edges::docker_proxy`) and are still there. Other containers that look
//! like cooperbench's (another job's, perhaps) are listed and left alone;
//! `--all-cooperbench` removes them too, after listing them. While a
//! `seeds` or `oracle` holds the checkout, it only lists.

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
    /// Only the containers of this run's invocations
    #[arg(long, value_name = "RUN")]
    pub run: Option<String>,
    /// Also remove cooperbench-looking containers without our label (they
    /// may be another job's); they are listed first
    #[arg(long)]
    pub all_cooperbench: bool,
}

pub fn run(flags: CleanDockerFlags, ctx: &crate::Context) -> anyhow::Result<i32> {
    let cb: PathBuf = match &flags.common.cooperbench_dir {
        Some(dir) => dir.clone(),
        None => flags.common.load()?.cooperbench_dir,
    };
    ctx.docker.available().map_err(|e| anyhow::anyhow!("docker is not reachable: {e:#}"))?;
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
    let owner = docker::Ownership::new(&ctx.docker, &cb);
    let ours = owner.ours(flags.run.as_deref())?;
    let all_ours = owner.ours(None)?;
    let present = ctx.docker.containers()?;
    let others: Vec<&Container> =
        present.iter().filter(|c| c.is_cooperbench() && !all_ours.iter().any(|o| o.id == c.id)).collect();

    let verb = if dry_run { "would remove" } else { "removing" };
    if ours.is_empty() {
        println!("no containers of ours (label {}={})", crate::edges::docker_proxy::CHECKOUT, owner.checkout);
    } else {
        println!("{verb} {} container(s) of ours:", ours.len());
        for c in &ours {
            println!(
                "  {} (labelled {}={})",
                docker::describe(c),
                crate::edges::docker_proxy::CHECKOUT,
                owner.checkout
            );
        }
    }
    if !others.is_empty() {
        if flags.all_cooperbench {
            println!("{verb} {} cooperbench-looking container(s) without our label (--all-cooperbench):", others.len());
        } else {
            println!(
                "left alone: {} cooperbench-looking container(s) without our label (another job's?); --all-cooperbench removes them",
                others.len()
            );
        }
        for c in &others {
            println!("  {}", docker::describe(c));
        }
    }
    if !dry_run {
        let mut ids: Vec<&str> = ours.iter().map(|c| c.id.as_str()).collect();
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

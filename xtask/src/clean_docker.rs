//! `cargo xtask clean-docker`: removes the containers cooperbench leaves
//! (image `akhatua/cooperbench-*`, name `minisweagent-*`) and nothing else.

use crate::docker;

#[derive(Debug, Clone, clap::Args)]
pub struct CleanDockerFlags {
    /// List what would be removed; remove nothing
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(flags: CleanDockerFlags) -> anyhow::Result<i32> {
    docker::available().map_err(|e| anyhow::anyhow!("docker is not reachable: {e:#}"))?;
    let found = docker::clean(flags.dry_run)?;
    let verb = if flags.dry_run { "would remove" } else { "removed" };
    if found.is_empty() {
        println!("no cooperbench containers");
    } else {
        println!("{verb} {} cooperbench container(s):", found.len());
        for c in &found {
            println!("  {}", docker::describe(c));
        }
    }
    Ok(0)
}

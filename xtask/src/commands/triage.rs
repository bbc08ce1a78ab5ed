//! `cargo xtask triage RUN [PAIR]`: what a researcher opens first when a
//! number looks wrong. For one run: how many pairs fall in each class
//! (`study::class`), whether each class is a trial and what `seeds` does
//! about it, and one line per pair that did not pass: its class and the
//! evidence. With a pair: that pair's story, from its files (the words are
//! `study::story`'s, the same the report's page shows).
//! Reads only; starts nothing and spends nothing.

use crate::edges::experiment::CommonFlags;
use crate::edges::layout;
use crate::study::pair::PairId;
use crate::study::run::RunLogs;
use crate::study::story::{render_pair, render_run};

/// A trajectory is read whole for one pair's story, up to this size.
const MAX_TRAJECTORY_BYTES: u64 = 256 << 20;

#[derive(Debug, Clone, clap::Args)]
pub struct TriageFlags {
    #[command(flatten)]
    pub common: CommonFlags,
    /// The run to look into (a folder under logs/)
    pub run: String,
    /// One pair, `repo/task/fA_fB`, for its story
    pub pair: Option<String>,
}

pub fn run(flags: TriageFlags, ctx: &crate::Context) -> anyhow::Result<i32> {
    let exp = flags.common.load(&ctx.root)?;
    let cb = &exp.cooperbench_dir;
    layout::require_checkout(cb).map_err(crate::usage)?;
    let subset = layout::load_subset(cb, &exp.subset).map_err(crate::usage)?;
    let logs = RunLogs::load(cb, &flags.run);
    if !logs.exists {
        return Err(crate::usage(anyhow::anyhow!(
            "run `{}`: no folder {}",
            flags.run,
            layout::run_dir(cb, &flags.run).display()
        )));
    }
    let text = match &flags.pair {
        None => render_run(&logs, &subset.pairs),
        Some(p) => {
            let pair = PairId::parse(p)
                .ok_or_else(|| crate::usage(anyhow::anyhow!("`{p}` is not a pair: write repo/task/fA_fB")))?;
            render_pair(&logs, &pair, &crate::edges::story::read(cb, &logs, &pair, MAX_TRAJECTORY_BYTES))
        }
    };
    // Errors and trajectories can echo a key (a provider's auth error
    // does): what is printed is scrubbed of every secret the study uses.
    let secrets = crate::edges::secrets::Secrets::load(cb, &exp.secret_names());
    print!("{}", secrets.redact(&text));
    Ok(0)
}

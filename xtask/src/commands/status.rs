//! `cargo xtask status`: where every run of the experiment stands, from the
//! logs alone. Starts nothing and spends nothing.

use crate::edges::experiment::CommonFlags;
use crate::study::plan::RunState;
use crate::study::run::RunLogs;
use crate::study::subset::Subset;

#[derive(Debug, Clone, clap::Args)]
pub struct StatusFlags {
    #[command(flatten)]
    pub common: CommonFlags,
}

pub fn run(flags: StatusFlags, _ctx: &crate::Context) -> anyhow::Result<i32> {
    let exp = flags.common.load()?;
    crate::edges::layout::require_checkout(&exp.cooperbench_dir).map_err(crate::usage)?;
    let subset = crate::edges::layout::load_subset(&exp.cooperbench_dir, &exp.subset).map_err(crate::usage)?;
    let mut runs: Vec<(String, String)> = vec![(exp.baseline_run.clone(), "baseline".into())];
    runs.extend(exp.seeds.iter().map(|s| (exp.seed_run(*s), format!("seed {s}"))));
    runs.extend(exp.coop_runs.iter().map(|r| (r.clone(), "coop".into())));
    let states: Vec<(String, RunState)> = runs
        .into_iter()
        .map(|(run, role)| (role, RunState::of(&subset, &RunLogs::load(&exp.cooperbench_dir, &run))))
        .collect();
    print!("{}", render(&subset, &states));
    Ok(0)
}

pub fn render(subset: &Subset, states: &[(String, RunState)]) -> String {
    let mut o = format!("subset {}: {} pairs\n\n", subset.name, subset.pairs.len());
    o += &format!(
        "{:<9} {:<28} {:>9} {:>6} {:>6} {:>6} {:>6} {:>9}  {}\n",
        "role", "run", "results", "errors", "evals", "e.err", "stale", "cost", "state"
    );
    for (role, s) in states {
        o += &format!(
            "{:<9} {:<28} {:>9} {:>6} {:>6} {:>6} {:>6} {:>9}  {}\n",
            role,
            s.run,
            format!("{}/{}", s.done + s.errors, s.expected),
            s.errors,
            s.evals,
            s.eval_errors,
            s.stale_evals,
            format!("${:.2}", s.cost),
            s.headline()
        );
    }
    o
}

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

pub fn run(flags: StatusFlags, ctx: &crate::Context) -> anyhow::Result<i32> {
    let exp = flags.common.load(&ctx.root)?;
    crate::edges::layout::require_checkout(&exp.cooperbench_dir).map_err(crate::usage)?;
    let subset = crate::edges::layout::load_subset(&exp.cooperbench_dir, &exp.subset).map_err(crate::usage)?;
    // Every arm's runs: made before ("baseline" in today's file), then seeds.
    let several = exp.arms.len() > 1 && exp.has_arm_tables;
    let mut runs: Vec<(String, String)> = Vec::new();
    for arm in &exp.arms {
        let prefix = if several { format!("{} ", arm.name) } else { String::new() };
        for (i, r) in arm.runs.iter().enumerate() {
            let role = match (arm.setting, i) {
                (crate::study::setting::Setting::Coop, _) if !several => "coop".to_string(),
                (_, 0) if !several => "baseline".to_string(),
                _ => format!("{prefix}run"),
            };
            runs.push((r.clone(), role));
        }
        runs.extend(arm.seeds.iter().map(|s| (arm.seed_run(*s), format!("{prefix}seed {s}"))));
    }
    let mut classes = Vec::new();
    let states: Vec<(String, RunState)> = runs
        .into_iter()
        .map(|(run, role)| {
            let logs = RunLogs::load(&exp.cooperbench_dir, &run);
            classes.push((run.clone(), class_line(&subset, &logs)));
            (role, RunState::of(&subset, &logs))
        })
        .collect();
    print!("{}", render(&subset, &states));
    // The CLI's work a killed harness left running (edges::groups).
    let orphans = crate::edges::groups::orphans(&exp.cooperbench_dir);
    for l in crate::edges::groups::describe(&orphans) {
        println!("still running, left by a killed harness: {l} (`cargo xtask seeds --stop-orphans` ends it)");
    }
    // Whose each outcome is, for the runs that have any.
    let lines: Vec<String> =
        classes.into_iter().filter(|(_, l)| !l.is_empty()).map(|(run, l)| format!("{run:<28} {l}\n")).collect();
    if !lines.is_empty() {
        print!("\n{}", lines.concat());
    }
    Ok(0)
}

/// `pass 26, fail 66, limits 8` over the subset's pairs the run has.
fn class_line(subset: &Subset, logs: &RunLogs) -> String {
    let mut counts: std::collections::BTreeMap<crate::study::class::Class, usize> = Default::default();
    for p in subset.pairs.iter().filter_map(|p| logs.pairs.get(p)) {
        *counts.entry(p.class).or_default() += 1;
    }
    counts.iter().map(|(c, n)| format!("{} {n}", c.name())).collect::<Vec<_>>().join(", ")
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

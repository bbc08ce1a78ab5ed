//! `cargo xtask study`: every arm of the experiment file (`[[arm]]` tables;
//! today's one-model file is read as the arms it means), in the file's
//! order, each through exactly what `seeds` does for one arm (lock,
//! preflight, canary, budget, resume, retries, Docker ownership, evals), then
//! one `verify` over every run of the study.
//!
//! 1. the matrix: per arm, its setting, model, agent, backend and each run
//!    with what is done (results and evals of the subset's pairs);
//! 2. per arm with seeds to make, `engine::arm::run_arm` (`--dry-run`: its
//!    preflight, plan, commands and estimate; nothing starts);
//! 3. `verify` over the solo runs (difficulty, by model) and the coop runs.
//!
//! An arm that ends badly stops the study: the arms after it are not
//! started (their money is not spent on a setup that just failed); a rerun
//! resumes, paying for no finished pair again.

use crate::engine::arm::{self, ArmFlags, ArmsEnd};
use crate::engine::job::INTERRUPTED;
use crate::study::arms::{Arm, Study};
use crate::study::outcome::Row;
use crate::study::run::RunLogs;
use crate::study::setting::Setting;

#[derive(Debug, Clone, clap::Args)]
pub struct StudyFlags {
    /// Every flag of `seeds`; --arm NAME runs that arm alone
    #[command(flatten)]
    pub seeds: ArmFlags,
}

pub fn run(flags: StudyFlags, ctx: &crate::Context) -> anyhow::Result<i32> {
    let f = flags.seeds;
    let study = f.common.load(&ctx.root)?;
    let arms: Vec<String> = match &f.arm {
        Some(a) => vec![study.arm(a).map_err(crate::usage)?.name],
        None => study.arm_names(),
    };
    arm::one_arm_flags(&f, &arms, "arms")?;
    matrix(&study, &arms);

    // An arm with no seeds has nothing to make: its runs are only read.
    let to_make: Vec<String> =
        arms.iter().filter(|a| study.arm(a).is_ok_and(|v| !v.seeds.is_empty())).cloned().collect();
    let heading = |v: &Arm| Some(format!("\n== arm {} ({}, {}, {})", v.name, v.setting.name(), v.model, v.agent));
    match arm::run_arms(&f, &study, &to_make, ctx, &heading)? {
        ArmsEnd::Done { last } => {
            if f.dry_run {
                crate::say!("\ndry run: nothing was started");
                return Ok(0);
            }
            if last.is_none() {
                crate::say!("\nno arm has seeds to make");
            }
            verify_all(&study)
        }
        ArmsEnd::NotStarted { arm, code } => {
            crate::say!("\narm {arm} was not started: the arms after it were not started either");
            Ok(code)
        }
        ArmsEnd::Interrupted => Ok(INTERRUPTED),
        ArmsEnd::Failed { arm, code } => {
            crate::say!("\narm {} ended with {code}: the arms after it were not started; a rerun resumes", arm.name);
            verify_all(&study)?;
            Ok(code)
        }
    }
}

/// Every run of the study with what is done, arm by arm: what the plan
/// of each arm then details.
fn matrix(study: &Study, arms: &[String]) {
    crate::say!("study {} (subset {}): {} arm(s)", study.name, study.subset, arms.len());
    let subset = crate::edges::layout::load_subset(&study.cooperbench_dir, &study.subset).ok();
    let expected = subset.as_ref().map(|s| s.pairs.len());
    for name in arms {
        let Ok(view) = study.arm(name) else { continue };
        let flags = match (view.setting, view.messaging, view.git) {
            (Setting::Solo, _, _) => String::new(),
            (Setting::Coop, m, g) => {
                format!(", {}{}", if m { "messaging" } else { "no messaging" }, if g { ", git" } else { "" })
            }
        };
        crate::say!(
            "  {name}: {}{flags}, model {}, agent {}, backend {}",
            view.setting.name(),
            view.model,
            view.agent,
            view.backend.name()
        );
        let made_before = study.arms.iter().find(|a| a.name == *name).map(|a| a.runs.clone()).unwrap_or_default();
        for run in view.arm_runs() {
            let logs = RunLogs::load(&study.cooperbench_dir, &run);
            let role = if made_before.contains(&run) { "made before" } else { "seed" };
            let state = if !logs.exists {
                "not started".to_string()
            } else {
                let rows: Vec<Row> = logs.pairs.values().map(Row::of).collect();
                let c = crate::study::table::Counts::of(rows.iter());
                let of = expected.map(|n| format!("/{n}")).unwrap_or_default();
                format!("{}{of} results, {}{of} evals, ${:.2}", c.results, c.evals, c.cost_usd)
            };
            crate::say!("    {run:<32} {role:<12} {state}");
        }
    }
}

/// `verify` over every solo run (difficulty by model) and every coop run.
fn verify_all(study: &Study) -> anyhow::Result<i32> {
    let mut runs = study.solo_runs();
    runs.extend(study.coop_runs());
    crate::engine::verify::final_verify(study, &study.models(), &runs)
}

//! `cargo xtask seeds`: runs and evaluates the extra solo seeds through the
//! real cooperbench CLI, in this order:
//!
//! 1. the flags over the experiment file, validated as one;
//! 2. per solo arm (or the one `--arm` names), `engine::arm::run_arm`: one
//!    spender per checkout (a lock the CLI inherits), preflight, the plan
//!    (`--dry-run` stops there), then `--yes` or a yes, then the steps
//!    `study::plan` decides (quarantine, canary, runs, retries; evals,
//!    forced re-evals, the true `eval_summary.json`);
//! 3. `verify` over every solo run: its exit status is ours.
//!
//! An arm that ends badly stops the arms after it; a rerun resumes, paying
//! for no finished pair again.

use crate::engine::arm::{self, ArmFlags, ArmsEnd};
use crate::engine::job::INTERRUPTED;
use crate::engine::verify::final_verify;
use crate::study::setting::Setting;

#[derive(Debug, Clone, clap::Args)]
pub struct SeedsFlags {
    #[command(flatten)]
    pub arm: ArmFlags,
}

pub fn run(flags: SeedsFlags, ctx: &crate::Context) -> anyhow::Result<i32> {
    let flags = flags.arm;
    let study = flags.common.load(&ctx.root)?;
    // The solo arms (today's file: its one), or the one --arm names.
    let arms: Vec<String> = match &flags.arm {
        Some(a) => vec![a.clone()],
        None => study
            .arms
            .iter()
            .filter(|a| a.setting == Setting::Solo && !a.seeds.is_empty())
            .map(|a| a.name.clone())
            .collect(),
    };
    if arms.is_empty() {
        return Err(crate::usage(anyhow::anyhow!(
            "no solo arm has seeds to make (the arms are {}): `cargo xtask study` runs coop arms",
            study.arm_names().join(", ")
        )));
    }
    arm::one_arm_flags(&flags, &arms, "solo arms")?;
    let several = arms.len() > 1;
    let heading = |view: &crate::study::arms::Arm| several.then(|| format!("\n== arm {}", view.name));
    match arm::run_arms(&flags, &study, &arms, ctx, &heading)? {
        ArmsEnd::Done { last: Some(exp) } => final_verify(&exp.study, &exp.models(), &exp.solo_runs()),
        ArmsEnd::Done { last: None } => Ok(0),
        ArmsEnd::NotStarted { code, .. } => Ok(code),
        ArmsEnd::Interrupted => Ok(INTERRUPTED),
        ArmsEnd::Failed { arm: exp, code } => {
            if several {
                crate::say!("\narm {} ended with {code}: the arms after it were not started", exp.name);
            }
            final_verify(&exp.study, &exp.models(), &exp.solo_runs())?;
            Ok(code)
        }
    }
}

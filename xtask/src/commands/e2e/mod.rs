//! `cargo xtask e2e`: the harness's own commands against the real
//! cooperbench CLI, succeeding, offline and for free (the world of
//! `world.rs`). In order:
//!
//! 1. Docker and the real CLI (`install-cooperbench`), the world's dataset
//!    and task images, the model stand-in;
//! 2. `seeds` with two seeds (preflight, canary, runs, the retry of an
//!    `Error` pair, evals, the forced re-eval of an eval that errored, the
//!    `eval_summary.json` rewrite, verify), then `verify` and `report`;
//! 3. the checks ([`check`], pure): every pair has a real result.json and an
//!    eval.json from tests that ran in a container, each outcome is the
//!    script's, the stand-in was reached with the key from the environment
//!    (never in a file or on a command line), no pair was paid twice, no
//!    container or process is left;
//! 4. faults: Ctrl-C in the middle of a seed, a CLI worker that leaves its
//!    group and outlives a kill -9, a task image missing, the model
//!    endpoint down; and the outcome classes the CLI would grade as plain
//!    fails or errors (a 429, a patch too large for the grader, an empty
//!    submission); the oracle; and a study of two models and a coop arm
//!    from one file, through `cargo xtask study`; the coop arms for real
//!    (messaging through a Redis of ours, a merge conflict, the CLI's shared
//!    git daemon) beside another job's shared infrastructure;
//! 5. a table and the times: wall time, time inside the CLI, the harness's
//!    own overhead.
//!
//! Each scenario works in a folder of its own under `target/e2e/`, removed
//! at the end unless `--keep`. The images are kept (rebuilt when their
//! inputs change); `--remove-images` removes them (ours, by label) and exits.

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context};

use crate::support::world;

mod classes;
mod coop;
mod ctrl_c;
mod endpoint_down;
mod image_missing;
mod image_remade;
mod modal;
mod oracle;
mod scenario;
mod session_worker;
mod study;
mod two_seeds;

use classes::classes;
use coop::coop;
use ctrl_c::ctrl_c;
use endpoint_down::endpoint_down;
use image_missing::image_missing;
use image_remade::image_remade;
use modal::modal;
use oracle::oracle;
use scenario::{baseline_copy, Cli, Outcome, SHOW_ALL};
use session_worker::session_worker;
use study::two_models;
use two_seeds::two_seeds;

#[derive(Debug, Clone, clap::Args)]
pub struct E2eFlags {
    /// Keep the scenario folders under target/e2e/
    #[arg(long)]
    pub keep: bool,
    /// Only the two-seed run and its checks, no faults
    #[arg(long)]
    pub no_faults: bool,
    /// Only this scenario, after the two seeds it needs (none for oracle, study, modal): ctrl-c
    /// mid-seed, worker leaves its group, task image missing, image re-made, endpoint down, outcome classes,
    /// oracle, study, coop, modal
    #[arg(long, value_name = "SCENARIO")]
    pub only: Option<String>,
    /// Remove the world's task images (ours, by label) and exit
    #[arg(long)]
    pub remove_images: bool,
    /// `modal`: the Modal scenario alone (the CLI's Modal code on the
    /// Docker-backed double); `docker` (the default): every scenario
    #[arg(long, value_enum)]
    pub backend: Option<crate::study::setting::Backend>,
}

type Fault = fn(&Path, &Cli, bool) -> anyhow::Result<Outcome>;

/// The scenarios after the two seeds, in the order they run; `--only`
/// takes one of these names.
const SCENARIOS: [(&str, Fault); 10] = [
    ("ctrl-c mid-seed", ctrl_c),
    ("worker leaves its group", session_worker),
    ("task image missing", image_missing),
    ("image re-made", image_remade),
    ("endpoint down", endpoint_down),
    ("outcome classes", classes),
    ("oracle", oracle),
    ("study", two_models),
    ("coop", coop),
    ("modal", modal),
];

pub fn run(mut flags: E2eFlags, ctx: &crate::Context) -> anyhow::Result<i32> {
    // A name is checked before minutes of work, not after them.
    if let Some(only) = flags.only.as_deref().filter(|o| !SCENARIOS.iter().any(|(n, _)| n == o)) {
        return Err(crate::usage(anyhow::anyhow!(
            "--only: no scenario `{only}`; there are: {}",
            SCENARIOS.map(|(n, _)| n).join(", ")
        )));
    }
    match flags.backend {
        Some(crate::study::setting::Backend::Modal) => flags.only = Some("modal".into()),
        Some(crate::study::setting::Backend::Gcp) => {
            bail!("--backend gcp: no e2e scenario (GCP Batch has no offline double here)")
        }
        _ => {}
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if let Err(e) = ctx.docker.available() {
        let msg = format!("e2e needs a Docker engine, and `docker info` failed: {e:#}");
        if ci {
            bail!("{msg}");
        }
        eprintln!("SKIPPED: {msg} (under CI=true this is a failure)");
        return Ok(SKIPPED);
    }
    if flags.remove_images {
        for i in world::remove_images(&ctx.docker)?.into_iter().chain(crate::support::infra::remove(&ctx.docker)) {
            println!("removed {i}");
        }
        return Ok(0);
    }
    let wall = Instant::now();
    let root = ctx.root.join("target/e2e");
    std::fs::create_dir_all(&root)?;
    let cli = install(ctx)?;

    let t = Instant::now();
    let images = world::build_images(&ctx.docker, &root.join("world"))?;
    for (image, how) in &images {
        println!("image {image}: {how}");
    }
    // The coop scenario's Redis and git-server images.
    if !flags.no_faults && flags.only.as_deref().is_none_or(|o| o == "coop") {
        for (image, how) in crate::support::infra::build(&ctx.docker, &root.join("world"))? {
            println!("image {image}: {how}");
        }
    }
    println!("world ready in {:.1}s", t.elapsed().as_secs_f64());

    let mut failures = Vec::new();
    let mut rows: Vec<(String, String, crate::edges::events::Times)> = Vec::new();

    // Every scenario but the oracle resumes a seed and ends with verify,
    // which needs the baseline the two-seed scenario makes.
    if flags.only.as_deref().is_none_or(|o| !NEEDS_NO_BASELINE.contains(&o)) {
        let main = two_seeds(&root, &cli, flags.keep)?;
        println!("\ntwo seeds: {}", if main.failures.is_empty() { "ok" } else { "FAILED" });
        for f in &main.failures {
            println!("  FAIL {f}");
        }
        failures.extend(main.failures.iter().map(|f| format!("two seeds: {f}")));
        rows.push(("two seeds".into(), main.summary, main.times));
    }

    if !flags.no_faults {
        for (name, scenario) in SCENARIOS.into_iter().filter(|(n, _)| flags.only.as_deref().is_none_or(|o| o == *n)) {
            let outcome = scenario(&root, &cli, flags.keep).with_context(|| format!("scenario `{name}`"))?;
            println!("\n{name}: {}", if outcome.failures.is_empty() { "ok" } else { "FAILED" });
            for f in &outcome.failures {
                println!("  FAIL {f}");
            }
            failures.extend(outcome.failures.iter().map(|f| format!("{name}: {f}")));
            rows.push((name.into(), outcome.summary, outcome.times));
        }
    }

    let _ = std::fs::remove_dir_all(baseline_copy(&root));
    // Where each scenario's time went: inside the CLI (every invocation,
    // the oracle's evals and the baseline made directly included), the
    // retry waits the harness chose, and the harness's own; and what the
    // same invocations one after another would have taken.
    println!(
        "\n{:<24} {:>8} {:>8} {:>7} {:>8} {:>6} {:>9} {:>6}  what happened",
        "scenario", "wall", "in CLI", "waits", "harness", "share", "serial", "saved"
    );
    for (name, summary, t) in &rows {
        println!(
            "{name:<24} {:>7.1}s {:>7.1}s {:>6.1}s {:>7.1}s {:>5.1}% {:>8.1}s {:>5.1}%  {summary}",
            t.wall,
            t.cli,
            t.waits,
            t.harness,
            100.0 * t.harness_share(),
            t.serial,
            100.0 * t.saved_share()
        );
    }
    if let Some((_, _, t)) = rows.iter().find(|(n, _, _)| n == "two seeds") {
        println!(
            "two seeds: the harness's own share {:.1}% (goal: at most 2%); overlap saved {:.1}% of the {:.1}s the same invocations take one after another (goal: at least 20%)",
            100.0 * t.harness_share(),
            100.0 * t.saved_share(),
            t.serial
        );
    }
    println!("whole e2e: {:.1}s", wall.elapsed().as_secs_f64());
    if failures.is_empty() {
        println!("e2e: OK");
        Ok(0)
    } else {
        println!("e2e: FAILED ({} check(s))", failures.len());
        Ok(1)
    }
}

/// `cargo xtask demo --real-cli`: the two-seed scenario, its outputs in
/// full, kept for the reader. Docker is required (no skip: it was asked for).
pub fn demo(ctx: &crate::Context) -> anyhow::Result<i32> {
    ctx.docker.available().map_err(|e| anyhow::anyhow!("demo --real-cli needs a Docker engine: {e:#}"))?;
    let root = ctx.root.join("target/e2e");
    let cli = install(ctx)?;
    for (image, how) in world::build_images(&ctx.docker, &root.join("world"))? {
        println!("image {image}: {how}");
    }
    SHOW_ALL.store(true, std::sync::atomic::Ordering::SeqCst);
    let t = Instant::now();
    let outcome = two_seeds(&root, &cli, true)?;
    let _ = std::fs::remove_dir_all(baseline_copy(&root));
    println!(
        "\ndemo --real-cli: the real cooperbench {} ran a baseline and two seeds of {} pairs offline, for free, in {:.0}s ({:.0}s inside the CLI).",
        crate::commands::install_cooperbench::VERSION,
        world::pairs().len(),
        t.elapsed().as_secs_f64(),
        outcome.times.cli
    );
    println!("{}", outcome.summary);
    println!(
        "The model was a scripted stand-in (fixtures/world/stand_in.py): the outcomes show the harness and the CLI working, not a model's skill."
    );
    for f in &outcome.failures {
        println!("  FAIL {f}");
    }
    Ok(if outcome.failures.is_empty() { 0 } else { 1 })
}

fn install(ctx: &crate::Context) -> anyhow::Result<Cli> {
    let venv = ctx.root.join("target/cooperbench-venv");
    let code = crate::commands::install_cooperbench::run(
        crate::commands::install_cooperbench::InstallFlags {
            common: crate::edges::experiment::CheckoutFlags { experiment: None, cooperbench_dir: None },
            venv: Some(venv.clone()),
            python: "python3".into(),
            force: false,
        },
        ctx,
    )?;
    if code != 0 {
        bail!("install-cooperbench failed");
    }
    Ok(Cli {
        bin: venv.join("bin/cooperbench"),
        python: venv.join("bin/python"),
        docker: ctx.docker.clone(),
        fixtures: ctx.root.join("fixtures"),
    })
}

/// Exit status for "skipped" (automake's convention): never 0.
pub const SKIPPED: i32 = 77;

/// Scenarios that make their own runs: `--only` them skips the two seeds.
const NEEDS_NO_BASELINE: [&str; 3] = ["oracle", "study", "modal"];

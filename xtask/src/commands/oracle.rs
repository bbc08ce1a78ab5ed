//! `cargo xtask oracle`: the gold patches through the real `cooperbench
//! eval`, before any model is paid. In this order:
//!
//! 1. the experiment file; the checkout's lock (as `seeds`);
//! 2. the grader's preflight (checkout, CLI, subset, engine, task images;
//!    `--pull` pulls the missing ones);
//! 3. per pair of the subset without one, `logs/<baseline>-oracle/solo/...`
//!    gets a `result.json` as 0.0.29 writes one (Submitted, no steps, $0) and
//!    as `solo.patch` the task's gold (`study::oracle::gold_patch`);
//! 4. every pair without an eval, or whose eval errored, is evaluated alone
//!    by the real CLI, `eval_concurrency` at a time, each timed, through the
//!    executor of `seeds` (process group, Docker ownership, Ctrl-C);
//! 5. `eval_summary.json` recounted, Docker cleaned up;
//! 6. a line per task, `results/<name>/oracle.csv`; exit 0 only when every
//!    pair's gold patch passes.
//!
//! A second `oracle` writes and evaluates only what is missing or errored.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::edges::experiment::CommonFlags;
use crate::edges::layout;
use crate::engine::job::{Stop, INTERRUPTED};
use crate::engine::preflight;
use crate::study::class::Class;
use crate::study::oracle::{self, Gold, GoldSource};
use crate::study::pair::PairId;
use crate::study::run::RunLogs;
use crate::study::setting::Backend;

#[derive(Debug, Clone, clap::Args)]
pub struct OracleFlags {
    #[command(flatten)]
    pub common: CommonFlags,
    /// The cooperbench program [default: <checkout>/.venv/bin/cooperbench, else PATH]
    #[arg(long, value_name = "PATH")]
    pub cooperbench_bin: Option<PathBuf>,
    /// Where the grader's sandboxes run [default: the first solo arm's]
    #[arg(long, value_enum)]
    pub backend: Option<Backend>,
    /// Pull the subset's missing task images first
    #[arg(long)]
    pub pull: bool,
    /// End the CLI processes a killed harness left running (shown first)
    #[arg(long)]
    pub stop_orphans: bool,
    /// Where oracle.csv goes [default: results/<name>/]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub fn run(flags: OracleFlags, ctx: &crate::Context) -> anyhow::Result<i32> {
    // The grader runs where the first solo arm does (its backend, its
    // concurrency); no model is asked.
    let mut exp = flags.common.load(&ctx.root)?.first_arm();
    if let Some(b) = flags.backend {
        exp.backend = b;
    }
    let name = exp.study.name.clone();
    crate::edges::cli::interrupted();
    // The oracle's evals share the engine and the logs with `seeds`.
    let run = oracle::run_name(&exp.study.oracle_base());
    let _lock = crate::edges::lock::acquire_for_spending(
        &exp.study.cooperbench_dir,
        std::slice::from_ref(&run),
        flags.stop_orphans,
    )?;

    crate::say!("preflight (the grader only: no model, no key)");
    let inputs = preflight::Inputs {
        cooperbench_bin: flags.cooperbench_bin.as_deref(),
        max_cost: None,
        no_agent_check: true,
        docker: &ctx.docker,
        pull: flags.pull,
        stop_orphans: flags.stop_orphans,
    };
    let scrub = crate::edges::secrets::Secrets::load(&exp.study.cooperbench_dir, &exp.secret_names());
    let (checks, job) = preflight::for_oracle(&inputs, exp);
    let passed = preflight::show(&checks, &scrub);
    let Some(mut job) = job.filter(|_| passed) else {
        crate::say!("\npreflight failed: nothing was started");
        return Ok(1);
    };
    // Its invocations in .harness/events.jsonl, as a seed's are (their
    // spans are the time spent in the CLI).
    job.events = Some(crate::edges::events::Events::open(&job.cb));
    let cb = job.cb.clone();
    let logs = RunLogs::load(&cb, &run);
    // A folder of that name made by anything else is not ours to add to.
    if let Some((pair, agent)) = logs.pairs.iter().find_map(|(pair, p)| {
        let agent = p.result.as_ref()?.agent_framework.clone().unwrap_or_default();
        (agent != oracle::AGENT).then(|| (pair.clone(), agent))
    }) {
        anyhow::bail!(
            "{}: {pair} was made by agent `{agent}`, not by the oracle: move logs/{run} aside, or choose another baseline_run",
            layout::run_rel(&run)
        );
    }

    crate::say!("\noracle run {}", layout::run_rel(&run));
    // A pair whose files changed since the oracle graded it is graded
    // again: its folder moved aside (never removed), then written anew
    // from today's gold. An oracle that recorded no fingerprints (an older
    // harness) is graded again whole.
    let now = job.manifest.dataset.clone().unwrap_or_else(|| crate::edges::dataset::record(&cb, &job.subset.pairs));
    let was = crate::edges::manifest::Manifest::load(&cb, &run).and_then(|m| m.ok()).and_then(|m| m.dataset);
    let graded: Vec<&PairId> =
        job.subset.pairs.iter().filter(|p| logs.pairs.get(*p).is_some_and(|l| l.result_present)).collect();
    let stale: Vec<(&PairId, String)> = match &was {
        Some(then) => {
            let changed = crate::study::dataset::changed_since(then, &now);
            graded
                .into_iter()
                .filter_map(|p| changed.iter().find(|(c, _)| *c == p.to_string()).map(|(_, why)| (p, why.join(", "))))
                .collect()
        }
        None => graded.into_iter().map(|p| (p, "graded before fingerprints were recorded".to_string())).collect(),
    };
    for (pair, why) in &stale {
        let moved = crate::edges::quarantine::pair_aside(&cb, &run, "solo", pair)
            .with_context(|| format!("cannot move {pair} aside to grade it again"))?;
        crate::say!("  {pair}: {why} since the oracle graded it: moved aside to {moved}, graded again");
    }
    let logs = if stale.is_empty() { logs } else { RunLogs::load(&cb, &run) };
    let mut manifest = job.manifest.clone();
    // Pairs of another subset graded by an earlier oracle keep what they
    // were graded on: one oracle run serves every subset of the baseline.
    let mut now = now;
    if let Some(then) = was {
        for (pair, fp) in then.pairs {
            now.pairs.entry(pair).or_insert(fp);
        }
    }
    manifest.dataset = Some(now);
    manifest.images = Some(job.sandboxes.images(&job.task_images()));
    manifest.write(&cb, &run)?;
    write_config(&cb, &run, job.subset.pairs.len(), job.exp.eval_concurrency)?;
    let mut written = 0;
    for pair in job.subset.pairs.iter().filter(|p| !logs.pairs.get(*p).is_some_and(|l| l.result_present)) {
        match gold_of(&cb, pair) {
            Ok(gold) => {
                write_pair(&cb, &run, pair, &gold)?;
                written += 1;
                if let GoldSource::Features { overlap } = &gold.source {
                    if !overlap.is_empty() {
                        crate::say!(
                            "  {pair}: no combined.patch, and both features touch {}: git may refuse their concatenation",
                            overlap.join(", ")
                        );
                    }
                }
            }
            Err(e) => crate::say!("  {pair}: no gold patch ({e:#}); it stays missing"),
        }
    }
    crate::say!("  {written} pair(s) written with their gold patch");

    let state = RunLogs::load(&cb, &run);
    let to_eval: Vec<PairId> = job
        .subset
        .pairs
        .iter()
        .filter(|p| {
            state.pairs.get(*p).is_some_and(|l| {
                l.result_present
                    && (l.class == Class::NotEvaluated
                        || (l.class.is_eval_error() && l.class != Class::EvalGraderLimit))
            })
        })
        .cloned()
        .collect();
    crate::say!("  to evaluate: {} pair(s), {} at a time", to_eval.len(), job.exp.eval_concurrency);
    let outcome = job.eval_each_timed(&run, &to_eval, job.exp.eval_concurrency);
    let done = RunLogs::load(&cb, &run);
    if !to_eval.is_empty() {
        let path = crate::edges::eval_summary::rewrite(&cb, &done)?;
        crate::say!("  wrote {} from every eval.json", path.display());
    }
    job.clean("after the oracle");
    let images_changed: Vec<String> = job.images_after(&run).unwrap_or_default();
    for line in &images_changed {
        crate::say!("FAILED: {line}: grade those pairs again (`cargo xtask oracle` after moving them aside)");
    }
    match outcome {
        Err(Stop::Interrupted) => {
            crate::say!("\ninterrupted: resume with `cargo xtask oracle` (it evaluates only what is missing)");
            return Ok(INTERRUPTED);
        }
        Err(Stop::Failed(why)) => crate::say!("\nstopped: {}", job.secrets.redact(&why)),
        Ok(()) => {}
    }

    let rows = oracle::rows(&job.subset, &done, &crate::edges::eval_times::read(&cb, &run));
    crate::say!("\noracle of subset {} ({} pairs):", job.subset.name, rows.len());
    for line in task_lines(&rows) {
        crate::say!("  {line}");
    }
    let out = flags.out.unwrap_or_else(|| ctx.root.join("results").join(&name));
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let csv = out.join("oracle.csv");
    std::fs::write(&csv, oracle::csv(&rows)).with_context(|| format!("cannot write {}", csv.display()))?;
    crate::say!("wrote {}", csv.display());
    let j = oracle::judge(&rows);
    if !j.slow.is_empty() {
        let slow: Vec<String> = j.slow.iter().map(|p| p.to_string()).collect();
        crate::say!(
            "slow (eval above {:.0}% of the grader's {:.0} s per test command): {}",
            oracle::SLOW_SHARE * 100.0,
            oracle::EVAL_COMMAND_LIMIT_SECONDS,
            slow.join(", ")
        );
    }
    if !images_changed.is_empty() {
        return Ok(1);
    }
    if j.all_pass() {
        crate::say!("oracle: every gold patch passes: the grader can judge these {} pairs", j.pairs);
        Ok(0)
    } else {
        crate::say!("oracle: the gold patch does not pass on {}", j.failing_line(usize::MAX));
        crate::say!("  these pairs cannot measure a model; `cargo xtask triage {run} PAIR` tells why");
        Ok(1)
    }
}

/// One line per task: how many of its pairs pass, the slowest eval, and
/// each pair that does not pass.
fn task_lines(rows: &[oracle::Row]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        let task = (&rows[i].pair.repo, rows[i].pair.task_id);
        let same: Vec<&oracle::Row> = rows[i..].iter().take_while(|r| (&r.pair.repo, r.pair.task_id) == task).collect();
        i += same.len();
        let pass = same.iter().filter(|r| r.passed).count();
        let slowest =
            same.iter().filter_map(|r| r.seconds).fold(None, |m: Option<f64>, s| Some(m.map_or(s, |m| m.max(s))));
        out.push(format!(
            "{}/{}: {pass} of {} pairs pass{}",
            task.0,
            task.1,
            same.len(),
            slowest.map(|s| format!(" (slowest eval {s:.1} s)")).unwrap_or_default()
        ));
        for r in same.iter().filter(|r| !r.passed) {
            out.push(format!("  {} {}: {}; {}", r.pair, r.class.name(), r.tests[0], r.tests[1]));
        }
    }
    out
}

/// The task's gold: `combined.patch`, else its two features' `feature.patch`.
fn gold_of(cb: &Path, pair: &PairId) -> anyhow::Result<Gold> {
    let task = layout::dataset(cb).join(&pair.repo).join(format!("task{}", pair.task_id));
    let read = |p: PathBuf| std::fs::read_to_string(&p).with_context(|| format!("cannot read {}", p.display()));
    let combined = task.join("combined.patch");
    if combined.is_file() {
        return Ok(oracle::gold_patch(Some(read(combined)?), "", ""));
    }
    let first = read(task.join(format!("feature{}", pair.a)).join("feature.patch"))?;
    let second = read(task.join(format!("feature{}", pair.b)).join("feature.patch"))?;
    Ok(oracle::gold_patch(None, &first, &second))
}

/// The pair's folder as the CLI leaves a solo pair: solo.patch, a
/// trajectory with no messages, result.json last (its presence is what the
/// CLI and the harness take as "done").
fn write_pair(cb: &Path, run: &str, pair: &PairId, gold: &Gold) -> anyhow::Result<()> {
    let rel = layout::pair_rel(run, "solo", pair);
    let dir = cb.join(&rel);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let started = crate::edges::clock::now();
    std::fs::write(dir.join(layout::patch_file("solo")), &gold.patch)?;
    let traj = serde_json::json!({
        "repo": pair.repo, "task_id": pair.task_id, "features": [pair.a, pair.b], "agent_id": "solo",
        "model": oracle::MODEL, "status": "Submitted", "cost": 0, "steps": 0, "messages": [],
        "gold": gold.source.name(),
    });
    std::fs::write(dir.join(layout::trajectory_file("solo")), serde_json::to_string_pretty(&traj)?)?;
    let ended = crate::edges::clock::now().max(started.plus_micros(1));
    let result = oracle::result_json(pair, run, &dir.to_string_lossy(), started, ended, &gold.patch);
    std::fs::write(dir.join("result.json"), serde_json::to_string_pretty(&result)?)?;
    Ok(())
}

/// `logs/<run>/config.json` as the CLI writes one, when there is none.
fn write_config(cb: &Path, run: &str, pairs: usize, concurrency: u32) -> anyhow::Result<()> {
    let path = layout::run_dir(cb, run).join("config.json");
    if path.exists() {
        return Ok(());
    }
    let config = serde_json::json!({
        "run_name": run, "agent_framework": oracle::AGENT, "model": oracle::MODEL, "setting": "solo",
        "concurrency": concurrency, "total_tasks": pairs, "started_at": crate::edges::clock::now().to_iso(),
    });
    std::fs::write(&path, serde_json::to_string_pretty(&config)?)
        .with_context(|| format!("cannot write {}", path.display()))
}

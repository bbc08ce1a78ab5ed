//! Verify as the commands run it: the subset and every run read from the
//! checkout (on every core), then checked by `study::verify`; and the
//! verify that `seeds` and `study` end with, whose exit status is theirs.

use std::collections::BTreeMap;
use std::path::Path;

use crate::edges::events::{Event, Events};
use crate::edges::layout;
use crate::study::arms::Study;
use crate::study::changed::Pairs;
use crate::study::models::Models;
use crate::study::outcome::EvalErrors;
use crate::study::problem::{Check, Problem};
use crate::study::run::RunLogs;
use crate::study::subset::Subset;
use crate::study::verify::{check, check_pooling, render::render_text, Report};

/// Reads the subset and every run, then checks. A missing checkout or subset
/// is a usage error (exit 2); everything inside the logs is a problem.
// Each argument is one of the study's choices; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub fn load_and_check(
    cooperbench_dir: &Path,
    subset_name: &str,
    runs: &[String],
    eval_errors: EvalErrors,
    strict: bool,
    max_bytes: u64,
    allow_mixed: &[String],
    models: &Models,
) -> anyhow::Result<Report> {
    load_and_check_leaving_out(
        cooperbench_dir,
        subset_name,
        runs,
        eval_errors,
        strict,
        max_bytes,
        allow_mixed,
        models,
        None,
        Pairs::All,
    )
}

/// [`load_and_check`]; with `oracle_base`, the pairs whose gold patch
/// fails in that oracle leave the subset and every run first, and the
/// report says how many and which (an error when there is no oracle).
#[allow(clippy::too_many_arguments)]
pub fn load_and_check_leaving_out(
    cooperbench_dir: &Path,
    subset_name: &str,
    runs: &[String],
    eval_errors: EvalErrors,
    strict: bool,
    max_bytes: u64,
    allow_mixed: &[String],
    models: &Models,
    oracle_base: Option<&str>,
    pairs: Pairs,
) -> anyhow::Result<Report> {
    crate::edges::layout::require_checkout(cooperbench_dir).map_err(crate::usage)?;
    check_names(cooperbench_dir, runs)?;
    let mut subset = crate::edges::layout::load_subset(cooperbench_dir, subset_name).map_err(crate::usage)?;
    let failing = match oracle_base {
        Some(base) => Some(crate::engine::oracle::failures(cooperbench_dir, base, &subset)?),
        None => None,
    };
    let (mut logs, history) = std::thread::scope(|s| {
        // The checkout's git history needs no run: asked beside the reading
        // (its processes mostly wait), it is ready when the runs are, with
        // the record of the subset's pairs at the newest commit made.
        let history = s.spawn(|| crate::edges::dataset::History::ask(cooperbench_dir, &subset.pairs));
        let logs = load_runs(cooperbench_dir, runs, max_bytes);
        (logs, history.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    });
    history.infer_missing(&mut logs);
    let excluded = failing.and_then(|f| crate::study::oracle::exclude(&mut subset, &mut logs, &f));
    let note = left_out(pairs, &mut subset, &mut logs, allow_mixed, models);
    let mut report = check(&subset, &logs, eval_errors, strict, models);
    report.problems.extend(excluded);
    if let Some(note) = note {
        report.problems.push(Problem::warning(Check::PairsLeftOut, format!("--pairs unchanged: {note}")));
        report.pairs_note = Some(note);
    }
    let now = crate::edges::clock::now();
    report.problems.extend(logs.iter().flat_map(|l| l.implausible_times(now)));
    check_pooling(&mut report, &logs, allow_mixed, strict, models);
    // Tens of thousands of pairs to free: on a thread of their own, so
    // that the report is not kept waiting for it.
    std::thread::spawn(move || drop(logs));
    Ok(report)
}

/// `--pairs unchanged`: the pairs the difficulty runs did not see alike
/// leave the subset and every run; returns what every output says.
pub fn left_out(
    pairs: Pairs,
    subset: &mut Subset,
    logs: &mut [RunLogs],
    allow_mixed: &[String],
    models: &Models,
) -> Option<String> {
    if pairs != Pairs::Unchanged {
        return None;
    }
    let changed = crate::study::verify::changes(subset, logs, allow_mixed, models).to_leave_out(allow_mixed);
    Some(crate::study::changed::leave_out(subset, logs, &changed))
}

/// Each run named once, and by a name: `a` and `./a` (or a link to `a`)
/// are one folder, so one run.
pub fn check_names(cooperbench_dir: &Path, runs: &[String]) -> anyhow::Result<()> {
    let mut seen: BTreeMap<std::path::PathBuf, &String> = BTreeMap::new();
    for r in runs {
        if r.trim().is_empty() {
            return Err(crate::usage(anyhow::anyhow!("an empty run name: name each run")));
        }
        if let Some(first) = seen.insert(layout::run_identity(cooperbench_dir, r), r) {
            let how = if first == r { String::new() } else { format!(" (as `{first}` and `{r}`: one folder)") };
            return Err(crate::usage(anyhow::anyhow!("run `{r}` is named twice{how}: each run counts once")));
        }
    }
    Ok(())
}

/// Reads runs on every core: reading and parsing is nearly all of verify's time.
pub fn load_runs(cooperbench_dir: &Path, runs: &[String], max_bytes: u64) -> Vec<RunLogs> {
    crate::study::cores::map(runs, |run| RunLogs::load_limited(cooperbench_dir, run, max_bytes))
}

/// `verify` over every run that defines difficulty (all solo arms, each
/// run with its arm's model) and the coop runs given, with the study's
/// pooling rules: the exit status of `seeds` and `study`.
pub fn final_verify(study: &Study, models: &Models, runs: &[String]) -> anyhow::Result<i32> {
    crate::say!("\nverify");
    let report = load_and_check(
        &study.cooperbench_dir,
        &study.subset,
        runs,
        EvalErrors::Exclude,
        false,
        crate::edges::logs::DEFAULT_MAX_FILE_BYTES,
        &study.allow_mixed,
        models,
    )?;
    let secrets = crate::edges::secrets::Secrets::load(&study.cooperbench_dir, &study.secret_names());
    crate::say!("{}", secrets.redact(render_text(&report).trim_end()));
    Events::open(&study.cooperbench_dir).record(Event::Verify {
        ok: report.ok,
        failures: report.failures(),
        warnings: report.warnings(),
    });
    Ok(if report.ok { 0 } else { 1 })
}

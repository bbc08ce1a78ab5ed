//! The true `eval_summary.json`. The CLI's counts only its last invocation
//! (a resumed or retried eval overwrites it with partial counts); this one is
//! recounted from every eval.json, in the CLI's schema, with the study's one
//! eval verdict. The file it replaces is kept beside it as
//! `eval_summary.json.cli-last`: nothing the CLI wrote is lost.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::edges::layout;
use crate::study::outcome::EvalVerdict;
use crate::study::run::RunLogs;

/// The summary of every eval.json of a run (pure).
pub fn of(logs: &RunLogs) -> Value {
    let (mut passed, mut failed, mut errors) = (0u64, 0u64, 0u64);
    let mut results = Vec::new();
    let mut latest = None;
    for (pair, p) in &logs.pairs {
        let Some(e) = &p.eval else { continue };
        let verdict = EvalVerdict::of(e);
        match verdict {
            EvalVerdict::Pass => passed += 1,
            EvalVerdict::Fail => failed += 1,
            _ => errors += 1,
        }
        latest = latest.max(Some(e.evaluated_at));
        results.push(
            json!({"run": format!("{}/{}/{},{}", pair.repo, pair.task_id, pair.a, pair.b), "status": verdict.label()}),
        );
    }
    json!({
        "run_name": logs.name,
        "evaluated_at": latest.map(|t| t.to_iso()),
        "total_runs": passed + failed + errors,
        "passed": passed,
        "failed": failed,
        "errors": errors,
        "skipped": 0,
        "pass_rate": passed as f64 / (passed + failed).max(1) as f64,
        "results": results,
    })
}

/// Writes [`of`] as `logs/<run>/eval_summary.json`, moving a different one aside.
pub fn rewrite(cb: &Path, logs: &RunLogs) -> anyhow::Result<PathBuf> {
    let dir = layout::run_dir(cb, &logs.name);
    let path = dir.join(layout::EVAL_SUMMARY);
    let text = serde_json::to_string_pretty(&of(logs))?;
    if std::fs::read(&path).is_ok_and(|old| old != text.as_bytes()) {
        std::fs::rename(&path, dir.join(layout::EVAL_SUMMARY_CLI_LAST))?;
    }
    crate::edges::write::replace(&path, text.as_bytes())?;
    Ok(path)
}

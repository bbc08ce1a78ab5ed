//! The oracle: each pair's gold patch graded by the real `cooperbench eval`
//! before the model is paid. A pair whose gold patch does not pass cannot
//! measure a model; an eval that takes half the grader's limit on the gold
//! patch may time out on an agent's.
//!
//! Pure: what the oracle writes per pair (`result.json`, `solo.patch`), and
//! what its evals say. `commands/oracle.rs` writes and runs; `seeds`'
//! preflight reads [`judge`].

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::study::class::{Class, FeatureTests};
use crate::study::pair::PairId;
use crate::study::problem::{Check, Problem};
use crate::study::run::RunLogs;
use crate::study::subset::Subset;
use crate::study::timestamp::Timestamp;

/// `agent_framework` of the oracle's results: no model's name, so an oracle
/// run is never read as a model's run.
pub const AGENT: &str = "oracle";
pub const MODEL: &str = "gold";

/// The Docker eval gives each test command 600 s (`DockerSandbox`, timeout
/// 600 in eval/backends/docker.py; `test_solo`'s `timeout: int = 600` in
/// eval/sandbox.py), then grades it `Command timed out after 600 seconds`.
pub const EVAL_COMMAND_LIMIT_SECONDS: f64 = 600.0;
/// A pair whose eval takes more than this share of the limit is `slow`.
pub const SLOW_SHARE: f64 = 0.5;

/// The oracle run of a baseline: `logs/<baseline>-oracle/`.
pub fn run_name(baseline: &str) -> String {
    format!("{baseline}-oracle")
}

/// The patch the oracle writes as `solo.patch` (what a solo eval reads,
/// eval/evaluate.py `_evaluate_single`), and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Gold {
    pub patch: String,
    pub source: GoldSource,
}

#[derive(Debug, Clone, PartialEq)]
pub enum GoldSource {
    /// The task's `combined.patch`: the whole pull request, every feature.
    Combined,
    /// The two features' `feature.patch`, one after the other; `overlap`
    /// names files both touch (git may refuse the second hunk on them).
    Features { overlap: Vec<String> },
}

impl GoldSource {
    pub fn name(&self) -> &'static str {
        match self {
            GoldSource::Combined => "combined.patch",
            GoldSource::Features { .. } => "feature.patch x2",
        }
    }
}

/// The task's `combined.patch` when it has one (the dataset's gold for all
/// its features), else the two features' patches concatenated: `git apply`
/// takes several files' diffs in one patch, so on disjoint files this is
/// exactly both features.
pub fn gold_patch(combined: Option<String>, first: &str, second: &str) -> Gold {
    if let Some(patch) = combined.filter(|p| !p.trim().is_empty()) {
        return Gold { patch, source: GoldSource::Combined };
    }
    let a = touched(first);
    let overlap = touched(second).into_iter().filter(|f| a.contains(f)).collect();
    let mut patch = first.to_string();
    if !patch.is_empty() && !patch.ends_with('\n') {
        patch.push('\n');
    }
    patch.push_str(second);
    Gold { patch, source: GoldSource::Features { overlap } }
}

/// The files a git patch touches (`diff --git a/X b/Y`: Y).
fn touched(patch: &str) -> Vec<String> {
    patch
        .lines()
        .filter_map(|l| l.strip_prefix("diff --git "))
        .filter_map(|l| l.rsplit_once(" b/").map(|(_, b)| b.to_string()))
        .collect()
}

/// The oracle pair's `result.json`, key for key as 0.0.29 writes a solo one
/// (runner/solo.py, `result_data`): Submitted, no steps, no cost.
pub fn result_json(
    pair: &PairId,
    run: &str,
    log_dir: &str,
    started: Timestamp,
    ended: Timestamp,
    patch: &str,
) -> serde_json::Value {
    json!({
        "repo": pair.repo,
        "task_id": pair.task_id,
        "features": [pair.a, pair.b],
        "setting": "solo",
        "run_id": run_id(&format!("{run}/{pair}/{}", started.to_iso())),
        "run_name": run,
        "agent_framework": AGENT,
        "model": MODEL,
        "started_at": started.to_iso(),
        "ended_at": ended.to_iso(),
        "duration_seconds": ended.seconds_since(started),
        "agent": {
            "status": "Submitted",
            "cost": 0,
            "steps": 0,
            "input_tokens": 0,
            "output_tokens": 0,
            "cache_read_tokens": 0,
            "cache_write_tokens": 0,
            "patch_lines": patch.lines().count(),
            "error": null,
        },
        "total_cost": 0,
        "total_steps": 0,
        "log_dir": log_dir,
    })
}

/// Eight hex digits, as the CLI's `uuid4().hex[:8]`; from the pair and the
/// time, so that two oracle results never share one.
fn run_id(seed: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(seed.as_bytes()).iter().take(4).map(|b| format!("{b:02x}")).collect()
}

/// One pair of the oracle, as `oracle.csv` and the text output show it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub pair: PairId,
    pub class: Class,
    pub passed: bool,
    /// Per feature: "3 passed / 0 failed", "timed out", "no test summary"
    /// (no comma: a field of oracle.csv).
    pub tests: [String; 2],
    /// The pair's eval, measured by the harness (both features' commands
    /// and the container's start and stop); `None` when not measured.
    pub seconds: Option<f64>,
    pub slow: bool,
}

fn summary(t: Option<&FeatureTests>) -> String {
    match t {
        None => "no output".into(),
        Some(t) if t.timed_out.is_some() => "timed out".into(),
        Some(t) if !t.summary => "no test summary".into(),
        Some(t) => format!("{} passed / {} failed", t.counts.0, t.counts.1),
    }
}

/// Whether a pair's eval time says its tests may reach the limit. The pair's
/// time bounds each feature's command from above, so a pair under the line
/// has both features under it.
pub fn is_slow(seconds: f64) -> bool {
    seconds > SLOW_SHARE * EVAL_COMMAND_LIMIT_SECONDS
}

/// Every pair of the subset, in its order, from the oracle run's files and
/// the eval times the harness measured.
pub fn rows(subset: &Subset, logs: &RunLogs, times: &BTreeMap<PairId, f64>) -> Vec<Row> {
    subset
        .pairs
        .iter()
        .map(|pair| {
            let p = logs.pairs.get(pair);
            let eval = p.and_then(|p| p.eval.as_ref());
            let class = p.map_or(Class::Missing, |p| p.class);
            let tests = eval.map(|e| e.tests.as_slice()).unwrap_or_default();
            let seconds = times.get(pair).copied();
            Row {
                pair: pair.clone(),
                class,
                passed: class == Class::Pass,
                tests: [summary(tests.first()), summary(tests.get(1))],
                seconds,
                slow: seconds.is_some_and(is_slow),
            }
        })
        .collect()
}

/// `results/<name>/oracle.csv`: one line per pair, in the subset's order.
pub fn csv(rows: &[Row]) -> String {
    let mut out = String::from("pair,class,passed,feature1,feature2,eval_seconds,slow\n");
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            r.pair,
            r.class.name(),
            r.passed,
            r.tests[0],
            r.tests[1],
            r.seconds.map(|s| format!("{s:.1}")).unwrap_or_default(),
            r.slow
        ));
    }
    out
}

/// What the oracle says about a subset: the pairs whose gold patch did not
/// pass (with why), and the slow ones.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Judgement {
    pub pairs: usize,
    pub failing: Vec<(PairId, String)>,
    pub slow: Vec<PairId>,
}

impl Judgement {
    pub fn all_pass(&self) -> bool {
        self.failing.is_empty()
    }

    /// "3 of 7 pairs: a/1/f1_f2 (fail: 0 passed, 1 failed; ...), ..."
    pub fn failing_line(&self, at_most: usize) -> String {
        let mut names: Vec<String> = self.failing.iter().take(at_most).map(|(p, why)| format!("{p} ({why})")).collect();
        if self.failing.len() > at_most {
            names.push(format!("and {} more", self.failing.len() - at_most));
        }
        format!("{} of {} pairs: {}", self.failing.len(), self.pairs, names.join(", "))
    }
}

pub fn judge(rows: &[Row]) -> Judgement {
    Judgement {
        pairs: rows.len(),
        failing: rows
            .iter()
            .filter(|r| !r.passed)
            .map(|r| {
                let why = if r.class == Class::Missing || r.class == Class::NotEvaluated {
                    r.class.name().to_string()
                } else {
                    format!("{}: {}; {}", r.class.name(), r.tests[0], r.tests[1])
                };
                (r.pair.clone(), why)
            })
            .collect(),
        slow: rows.iter().filter(|r| r.slow).map(|r| r.pair.clone()).collect(),
    }
}

/// `--exclude-oracle-failures`: the pairs whose gold patch does not pass
/// leave the subset and every run, so that no count, difficulty or curve
/// holds a pair that cannot measure a model. Returns the warning that says
/// how many and which (verify's text and JSON, REPORT.md).
pub fn exclude(subset: &mut Subset, runs: &mut [RunLogs], failing: &[(PairId, String)]) -> Option<Problem> {
    if failing.is_empty() {
        return None;
    }
    let out = |p: &PairId| failing.iter().any(|(f, _)| f == p);
    subset.pairs.retain(|p| !out(p));
    subset.pair_count = subset.pairs.len();
    let tasks: BTreeSet<(&str, u64)> = subset.pairs.iter().map(|p| (p.repo.as_str(), p.task_id)).collect();
    let repos: BTreeSet<&str> = tasks.iter().map(|t| t.0).collect();
    (subset.tasks, subset.repos) = (tasks.len(), repos.len());
    for r in runs.iter_mut() {
        crate::study::changed::leave_out_of(r, out);
    }
    let named: Vec<String> = failing.iter().map(|(p, why)| format!("{p} ({why})")).collect();
    Some(Problem::warning(
        Check::OracleExcluded,
        format!(
            "{} pair(s) left out of every count: their gold patch does not pass (cargo xtask oracle): {}",
            failing.len(),
            named.join(", ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "diff --git a/feature1.sh b/feature1.sh\nnew file mode 100644\n--- /dev/null\n+++ b/feature1.sh\n@@ -0,0 +1 @@\n+f1() { echo 1; }\n";
    const B: &str = "diff --git a/feature2.sh b/feature2.sh\nnew file mode 100644\n--- /dev/null\n+++ b/feature2.sh\n@@ -0,0 +1 @@\n+f2() { echo 2; }\n";

    #[test]
    fn the_combined_patch_wins_and_else_both_features_go_one_after_the_other() {
        let g = gold_patch(Some("diff --git a/x b/x\n".into()), A, B);
        assert_eq!((g.patch.as_str(), &g.source), ("diff --git a/x b/x\n", &GoldSource::Combined));
        // An empty combined.patch is no gold.
        let g = gold_patch(Some(" \n".into()), A, B);
        assert_eq!(g.patch, format!("{A}{B}"));
        assert_eq!(g.source, GoldSource::Features { overlap: vec![] });
        // A first patch without its last newline still ends its hunk.
        let g = gold_patch(None, A.trim_end(), B);
        assert_eq!(g.patch, format!("{A}{B}"));
        // Both touch feature1.sh: named.
        let g = gold_patch(None, A, A);
        assert_eq!(g.source, GoldSource::Features { overlap: vec!["feature1.sh".into()] });
    }

    #[test]
    fn the_result_is_a_submitted_solo_result_of_no_model() {
        let pair = PairId::new("e2ecalc_task", 1, 1, 2);
        let t0 = Timestamp::parse("2026-12-04T10:00:00.000001").unwrap();
        let v = result_json(&pair, "base-oracle", "logs/x", t0, t0.plus_micros(1500), "a\nb\n");
        assert_eq!(v["agent"]["status"], "Submitted");
        assert_eq!(v["agent"]["patch_lines"], 2);
        assert_eq!(v["features"], json!([1, 2]));
        assert_eq!(v["agent_framework"], AGENT);
        assert_eq!(v["duration_seconds"], 0.0015);
        // It reads back as the CLI's own result would.
        let r = crate::study::result::RunResult::from_text(&v.to_string()).unwrap();
        assert_eq!(r.run_name.as_deref(), Some("base-oracle"));
        assert_eq!(r.status.name(), "Submitted");
    }

    #[test]
    fn slow_is_over_half_the_limit_and_failures_say_why() {
        assert!(!is_slow(300.0));
        assert!(is_slow(300.1));
        let row = |n, class, t: &str| Row {
            pair: PairId::new("r_task", 1, 1, n),
            class,
            passed: class == Class::Pass,
            tests: [t.to_string(), t.to_string()],
            seconds: Some(10.0 * n as f64),
            slow: false,
        };
        let j = judge(&[
            row(2, Class::Pass, "1 passed / 0 failed"),
            row(3, Class::Fail, "0 passed / 1 failed"),
            row(4, Class::Missing, "no output"),
        ]);
        assert!(!j.all_pass());
        assert_eq!(
            j.failing_line(1),
            "2 of 3 pairs: r_task/1/f1_f3 (fail: 0 passed / 1 failed; 0 passed / 1 failed), and 1 more"
        );
        assert_eq!(j.failing[1].1, "missing");
    }

    #[test]
    fn excluded_pairs_leave_the_subset_and_every_run_and_are_named() {
        let text = r#"{"tasks": [{"repo": "a_task", "task_id": 1, "pairs": [[1, 2], [1, 3]]},
                                 {"repo": "b_task", "task_id": 2, "pairs": [[1, 2]]}]}"#;
        let mut subset = Subset::parse("s", text).unwrap();
        let mut run = RunLogs::default();
        for p in &subset.pairs {
            run.pairs.insert(p.clone(), Default::default());
        }
        let mut runs = vec![run];
        assert_eq!(exclude(&mut subset, &mut runs, &[]), None);
        let gone = PairId::new("b_task", 2, 1, 2);
        let w = exclude(&mut subset, &mut runs, &[(gone.clone(), "fail: 0 passed / 1 failed".into())]).unwrap();
        assert_eq!((subset.pairs.len(), subset.pair_count, subset.tasks, subset.repos), (2, 2, 1, 1));
        assert!(!runs[0].pairs.contains_key(&gone));
        assert_eq!(w.check, Check::OracleExcluded);
        assert!(
            w.detail.starts_with("1 pair(s) left out of every count: ") && w.detail.contains("b_task/2/f1_f2 (fail: "),
            "{}",
            w.detail
        );
    }
}

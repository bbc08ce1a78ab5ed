//! What `verify` proves of a study's runs, pure: per run its counts and
//! every problem with its file, the pair overlap across runs, copies that
//! pass for repeats, the difficulty distribution, and the pooling rule over
//! the runs that define difficulty. It takes what `edges::logs` read and
//! returns a [`Report`]; `render.rs` writes it as text.

pub mod render;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::study::class::Class;
use crate::study::difficulty::{self, Difficulty};
use crate::study::models::Models;
use crate::study::outcome::EvalErrors;
use crate::study::outcome::Row;
use crate::study::pair::PairId;
use crate::study::problem::{Check, Problem, Severity};
use crate::study::result::AgentStatus;
use crate::study::run::{self as layout, RunLogs};
use crate::study::subset::Subset;
use crate::study::table::Counts;

#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub name: String,
    pub setting: String,
    pub expected: usize,
    /// The counts of `study::table`, once; flattened so that `--json` keeps
    /// its keys (`results`, `evals`, `passed`, ...).
    #[serde(flatten)]
    pub counts: Counts,
    pub missing_results: Vec<String>,
    pub missing_evals: Vec<String>,
    pub stale_evals: Vec<String>,
    pub quarantined: Vec<String>,
    /// Per class, every subset pair in it (as SWE-bench lists `*_ids`).
    pub class_pairs: BTreeMap<Class, Vec<String>>,
    /// Pairs `seeds` paid for more than once, with how many times.
    pub retried: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OverlapDifference {
    pub run: String,
    pub missing: Vec<String>,
    pub extra: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Overlap {
    /// The run the others are compared with (the first one listed).
    pub reference: Option<String>,
    pub identical: bool,
    pub differences: Vec<OverlapDifference>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Policy {
    pub eval_errors: EvalErrors,
    pub limits_exceeded: &'static str,
    pub agent_errors: &'static str,
}

impl Policy {
    pub fn new(eval_errors: EvalErrors) -> Policy {
        Policy { eval_errors, limits_exceeded: "failure", agent_errors: "excluded" }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DifficultyReport {
    pub seeds: Vec<String>,
    /// Over several models (the arms say which run is whose): each model's
    /// runs; difficulty is then the mean over models of each model's
    /// failure rate (CooperBench's rule). Empty for one model.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<ModelRuns>,
    pub policy: Policy,
    pub distribution: Vec<difficulty::DistributionEntry>,
    pub buckets: [usize; 10],
    pub undefined_pairs: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModelRuns {
    pub model: String,
    pub runs: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub ok: bool,
    pub subset: Subset,
    pub runs: Vec<RunSummary>,
    pub overlap: Overlap,
    pub difficulty: DifficultyReport,
    /// What made each run, field by field, and where each value came from.
    pub provenance: Vec<crate::study::provenance::Provenance>,
    /// The pairs the difficulty runs did not see alike (`study::changed`):
    /// other dataset files, other task images.
    pub changed_dataset: Vec<crate::study::dataset::ChangedPair>,
    pub changed_images: Vec<crate::study::dataset::ChangedPair>,
    /// With `--pairs unchanged`: "N of M pairs; K changed between runs left out".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pairs_note: Option<String>,
    pub problems: Vec<Problem>,
}

impl Report {
    pub fn failures(&self) -> usize {
        self.problems.iter().filter(|p| p.severity == Severity::Failure).count()
    }

    pub fn warnings(&self) -> usize {
        self.problems.len() - self.failures()
    }
}

/// Whether a run's agents could message each other: its manifest says so
/// for a coop arm the harness ran; `None` when unknown.
fn messaging(run: &RunLogs) -> Option<bool> {
    run.manifest.as_ref()?.as_ref().ok()?.messaging
}

pub fn check(subset: &Subset, runs: &[RunLogs], eval_errors: EvalErrors, strict: bool, models: &Models) -> Report {
    let mut problems = Vec::new();
    // Each run's checks read that run alone.
    let checked = crate::study::cores::map(runs, |r| {
        let mut mine = Vec::new();
        (check_run(subset, r, &mut mine), mine)
    });
    let summaries: Vec<RunSummary> = checked
        .into_iter()
        .map(|(summary, mine)| {
            problems.extend(mine);
            summary
        })
        .collect();
    let overlap = check_overlap(runs, &mut problems);
    check_copies(runs, &mut problems);
    let image_pairs = |image: &str| -> Vec<String> {
        let of = |p: &&PairId| crate::study::images::task_image(&p.repo, p.task_id) == image;
        subset.pairs.iter().filter(of).map(|p| p.to_string()).collect()
    };
    problems.extend(crate::study::changed::during_runs(runs, image_pairs));
    let difficulty = difficulty_report(subset, runs, eval_errors, models);
    problems.sort_by(|a, b| {
        (a.severity, &a.run, a.check, &a.pair, &a.path).cmp(&(b.severity, &b.run, b.check, &b.pair, &b.path))
    });
    let ok = !problems.iter().any(|p| p.severity == Severity::Failure || strict);
    Report {
        ok,
        subset: subset.clone(),
        runs: summaries,
        overlap,
        difficulty,
        provenance: Vec::new(),
        changed_dataset: Vec::new(),
        changed_images: Vec::new(),
        pairs_note: None,
        problems,
    }
}

/// Adds each run's provenance and the pooling rule's findings over the runs
/// that define each model's difficulty (its solo ones): runs made by another
/// agent, CLI version, backend or agent config are not repeats of one
/// experiment (`study::provenance::pooling`), unless `allow_mixed` lists the
/// field. Each model's runs are pooled only with themselves.
pub fn check_pooling(report: &mut Report, runs: &[RunLogs], allow_mixed: &[String], strict: bool, models: &Models) {
    use crate::study::provenance::{pooling, Provenance};
    report.provenance = runs.iter().filter(|r| r.exists).map(Provenance::of).collect();
    let solo: Vec<&RunLogs> = runs.iter().filter(|r| r.exists && r.setting == "solo").collect();
    let names: Vec<String> = solo.iter().map(|r| r.name.clone()).collect();
    for model in models.names(&names) {
        let mine = models.runs_of(&model, &names);
        let p: Vec<Provenance> = solo.iter().filter(|r| mine.contains(&r.name)).map(|r| Provenance::of(r)).collect();
        report.problems.extend(pooling(&p, allow_mixed));
    }
    // Pair by pair: the dataset files and task images each run was graded on.
    let changes = changes(&report.subset, runs, allow_mixed, models);
    report.problems.extend(changes.problems);
    (report.changed_dataset, report.changed_images) = (changes.dataset, changes.images);
    // A run an arm names must have been made with that arm's model: else
    // it would define another model's difficulty (unless allow_mixed lets an
    // arm's runs differ in model: the pooling rule then warns instead).
    for p in report.provenance.iter().filter(|_| !allow_mixed.iter().any(|f| f == "model")) {
        let (Some(declared), Some(made)) = (models.by_run.get(&p.run), p.model.value.as_ref()) else { continue };
        if declared != made {
            report.problems.push(
                Problem::failure(
                    Check::ArmModel,
                    format!(
                        "the arm of model {declared:?} names this run, but it was made with {made:?} (from {}): move it to that model's arm",
                        p.model.source.name()
                    ),
                )
                .run(&p.run),
            );
        }
    }
    report.problems.sort_by(|a, b| {
        (a.severity, &a.run, a.check, &a.pair, &a.path).cmp(&(b.severity, &b.run, b.check, &b.pair, &b.path))
    });
    report.ok = !report.problems.iter().any(|p| p.severity == Severity::Failure || strict);
}

/// The per-pair pooling rule (`study::changed`) over each model's runs
/// that define its difficulty (its solo ones).
pub fn changes(
    subset: &Subset,
    runs: &[RunLogs],
    allow_mixed: &[String],
    models: &Models,
) -> crate::study::changed::Changes {
    let solo: Vec<&RunLogs> = runs.iter().filter(|r| r.exists && r.setting == "solo").collect();
    let names: Vec<String> = solo.iter().map(|r| r.name.clone()).collect();
    let mut all = crate::study::changed::Changes::default();
    for model in models.names(&names) {
        let mine = models.runs_of(&model, &names);
        let runs: Vec<&RunLogs> = solo.iter().filter(|r| mine.contains(&r.name)).copied().collect();
        all.extend(crate::study::changed::of(&subset.pairs, &runs, allow_mixed, |p| {
            crate::study::images::task_image(&p.repo, p.task_id)
        }));
    }
    all
}

/// A result that is in two runs (the same pair, attempt id and end time) was
/// copied, not repeated: two folders of one attempt are not two trials.
/// Older files have no `run_name` to tell them apart, so this is the test.
fn check_copies(runs: &[RunLogs], problems: &mut Vec<Problem>) {
    // Hashed, and the time as the numbers it is written from: one key per
    // pair of every run, and verify reads tens of thousands.
    type Attempt<'a> = (&'a PairId, Option<&'a str>, (i64, Option<i32>));
    let mut first: std::collections::HashMap<Attempt, &str> =
        std::collections::HashMap::with_capacity(runs.iter().map(|r| r.pairs.len()).sum());
    for run in runs {
        let mut copied: Vec<(&PairId, &str)> = Vec::new();
        for (pair, p) in &run.pairs {
            let Some(r) = &p.result else { continue };
            let key = (pair, r.run_id.as_deref(), r.ended_at.written());
            match first.get(&key) {
                Some(other) if *other != run.name => copied.push((pair, other)),
                Some(_) => {}
                None => {
                    first.insert(key, &run.name);
                }
            }
        }
        if let Some((pair, other)) = copied.first() {
            problems.push(
                Problem::failure(
                    Check::CopiedResult,
                    format!(
                        "{} result(s) are the same attempts as in run `{other}` (same run_id and ended_at, e.g. {pair}): a copy is not a repeat",
                        copied.len()
                    ),
                )
                .run(&run.name),
            );
        }
    }
}

fn check_run(subset: &Subset, run: &RunLogs, problems: &mut Vec<Problem>) -> RunSummary {
    let name = run.name.as_str();
    let mut s = RunSummary {
        name: name.to_string(),
        setting: run.setting.clone(),
        expected: subset.pairs.len(),
        counts: Counts::default(),
        missing_results: Vec::new(),
        missing_evals: Vec::new(),
        stale_evals: Vec::new(),
        quarantined: Vec::new(),
        class_pairs: BTreeMap::new(),
        retried: BTreeMap::new(),
    };
    if !run.exists {
        problems.push(Problem::failure(Check::MissingRun, "no such run folder").run(name).path(layout::run_rel(name)));
        s.missing_results = subset.pairs.iter().map(|p| p.to_string()).collect();
        return s;
    }
    problems.extend(run.problems.iter().cloned());
    s.counts = Counts::of(run.pairs.values().map(Row::of).collect::<Vec<_>>().iter());
    s.retried = run.attempts.iter().filter(|(_, n)| **n > 1).map(|(p, n)| (p.clone(), *n)).collect();
    for pair in &subset.pairs {
        let class = run.pairs.get(pair).map_or(Class::Missing, |p| p.class);
        s.class_pairs.entry(class).or_default().push(pair.to_string());
    }
    for q in &run.quarantined {
        s.quarantined.push(q.clone());
        problems.push(
            Problem::warning(Check::Quarantined, "unreadable file moved aside by the harness")
                .run(name)
                .path(q.clone()),
        );
    }
    for pair in &subset.pairs {
        if !run.pairs.get(pair).is_some_and(|p| p.result_present) {
            s.missing_results.push(pair.to_string());
            let path = format!("{}/{}", layout::pair_rel(name, &run.setting, pair), layout::RESULT_FILE);
            problems.push(Problem::failure(Check::MissingResult, "no result.json").run(name).pair(pair).path(path));
        }
    }
    for (pair, logs) in &run.pairs {
        if !subset.contains(pair) {
            problems.push(
                Problem::failure(Check::ExtraPair, format!("pair is not in subset `{}`", subset.name))
                    .run(name)
                    .pair(pair)
                    .path(logs.rel_dir.clone()),
            );
        }
        let result_path = format!("{}/{}", logs.rel_dir, layout::RESULT_FILE);
        let eval_path = format!("{}/{}", logs.rel_dir, layout::EVAL_FILE);
        if let Some(r) = &logs.result {
            match r.total_cost {
                None => problems.push(
                    Problem::warning(
                        Check::NullCost,
                        "field `total_cost` is null: this pair's spend is unknown and counted as 0",
                    )
                    .run(name)
                    .pair(pair)
                    .path(result_path.clone()),
                ),
                Some(c) if crate::study::result::valid_cost(Some(c)).is_none() => problems.push(
                    Problem::failure(
                        Check::BadCost,
                        format!("field `total_cost` is {c}: a cost is finite and not negative"),
                    )
                    .run(name)
                    .pair(pair)
                    .path(result_path.clone()),
                ),
                Some(_) => {}
            }
            match &r.status {
                AgentStatus::Error => problems.push(
                    Problem::failure(Check::AgentError, r.error.clone().unwrap_or_else(|| "status Error".into()))
                        .run(name)
                        .pair(pair)
                        .path(result_path.clone()),
                ),
                // An outcome (a failure), counted in the table: not a defect in the data.
                AgentStatus::LimitsExceeded => {}
                AgentStatus::Other(st) => problems.push(
                    Problem::warning(
                        Check::UnknownStatus,
                        format!("agent status {st:?} is not one the CLI is known to write"),
                    )
                    .run(name)
                    .pair(pair)
                    .path(result_path.clone()),
                ),
                AgentStatus::Submitted => {}
            }
        }
        if !logs.coop_missing.is_empty() {
            problems.push(
                Problem::failure(
                    Check::CoopFileMissing,
                    format!("a coop pair without {}", logs.coop_missing.join(", ")),
                )
                .run(name)
                .pair(pair)
                .path(logs.rel_dir.clone()),
            );
        }
        // Silence is the agents' choice, not a defect: said, counted as it is.
        if logs.silent == Some(true) && messaging(run) == Some(true) {
            problems.push(
                Problem::warning(Check::NoMessages, "a messaging arm's agents sent each other no message")
                    .run(name)
                    .pair(pair)
                    .path(format!("{}/conversation.json", logs.rel_dir)),
            );
        }
        if let Some(e) = logs.eval.as_ref().filter(|e| logs.setting == "coop" && e.merge.is_none()) {
            // runner writes `merge: {status, ...}` for every coop eval; without
            // it the grade says nothing of how the two patches met.
            let why = e.error.as_deref().map(one_line).unwrap_or_else(|| "no merge.status".into());
            problems.push(
                Problem::failure(Check::MergeMissing, format!("a coop eval without its merge result ({why})"))
                    .run(name)
                    .pair(pair)
                    .path(eval_path.clone()),
            );
        }
        if !logs.eval_present && logs.result_present {
            s.missing_evals.push(pair.to_string());
            problems.push(
                Problem::failure(Check::MissingEval, "result has no eval.json")
                    .run(name)
                    .pair(pair)
                    .path(eval_path.clone()),
            );
        }
        if let Some(e) = &logs.eval {
            if let Some(err) = &e.error {
                problems.push(
                    Problem::warning(Check::EvalError, one_line(err)).run(name).pair(pair).path(eval_path.clone()),
                );
            }
            if let Some(r) = &logs.result {
                if crate::study::outcome::is_stale(r, e) {
                    s.stale_evals.push(pair.to_string());
                    problems.push(
                        Problem::failure(
                            Check::StaleEval,
                            "eval.json is older than result.json's ended_at; re-evaluate with --force",
                        )
                        .run(name)
                        .pair(pair)
                        .path(eval_path.clone()),
                    );
                }
            }
        }
    }
    let total: f64 = run.pairs.values().filter_map(|p| p.result.as_ref()?.total_cost).filter(|c| *c >= 0.0).sum();
    if !total.is_finite() {
        problems.push(
            Problem::failure(Check::BadCost, "the costs of this run add up to more than a number can hold")
                .run(name)
                .path(layout::run_rel(name)),
        );
    }
    problems.extend(crate::study::provenance::made_otherwise(run));
    let summary_path = format!("{}/{}", layout::run_rel(name), layout::EVAL_SUMMARY_FILE);
    match &run.eval_summary {
        None => problems
            .push(Problem::failure(Check::EvalSummaryMissing, "no eval_summary.json").run(name).path(summary_path)),
        Some(Err(e)) => {
            problems.push(Problem::failure(Check::EvalSummaryUnreadable, e.clone()).run(name).path(summary_path))
        }
        Some(Ok(sum)) => {
            let (p, f, e) = (s.counts.passed as u64, s.counts.failed as u64, s.counts.eval_errors as u64);
            if (sum.passed, sum.failed, sum.errors) != (p, f, e) {
                problems.push(
                    Problem::failure(
                        Check::EvalSummaryMismatch,
                        format!(
                            "says {} passed, {} failed, {} errors; the eval.json files say {p}, {f}, {e} (the CLI counts only its last invocation)",
                            sum.passed, sum.failed, sum.errors
                        ),
                    )
                    .run(name)
                    .path(summary_path),
                );
            }
        }
    }
    s
}

/// Every run must hold the same pairs as the first (the baseline).
fn check_overlap(runs: &[RunLogs], problems: &mut Vec<Problem>) -> Overlap {
    let sets: Vec<(&str, BTreeSet<&PairId>)> = runs
        .iter()
        .map(|r| (r.name.as_str(), r.pairs.iter().filter(|(_, l)| l.result_present).map(|(p, _)| p).collect()))
        .collect();
    overlap(&sets, problems)
}

/// Pair sets of runs, each compared with the first's: the one overlap rule,
/// used on logs here and on `outcomes.csv` by the study summary.
pub fn overlap(sets: &[(&str, BTreeSet<&PairId>)], problems: &mut Vec<Problem>) -> Overlap {
    let mut overlap =
        Overlap { reference: sets.first().map(|(r, _)| r.to_string()), identical: true, differences: Vec::new() };
    let Some((first, reference)) = sets.first() else { return overlap };
    for (run, set) in sets.iter().skip(1) {
        let missing: Vec<String> = reference.difference(set).map(|p| p.to_string()).collect();
        let extra: Vec<String> = set.difference(reference).map(|p| p.to_string()).collect();
        if missing.is_empty() && extra.is_empty() {
            continue;
        }
        overlap.identical = false;
        problems.push(
            Problem::failure(
                Check::PairSetsDiffer,
                format!("{} pair(s) of {first} missing, {} extra", missing.len(), extra.len()),
            )
            .run(run),
        );
        overlap.differences.push(OverlapDifference { run: run.to_string(), missing, extra });
    }
    overlap
}

/// Difficulty per subset pair over the solo runs among `runs`: over one
/// model its failure rate, over several the mean of each model's
/// (`Difficulty::over_models`).
pub fn pair_difficulties(
    subset: &Subset,
    solo: &[&RunLogs],
    eval_errors: EvalErrors,
    models: &Models,
) -> Vec<(PairId, Vec<Class>, Difficulty)> {
    let names: Vec<String> = solo.iter().map(|r| r.name.clone()).collect();
    let groups = models.groups(&names);
    subset
        .pairs
        .iter()
        .map(|pair| {
            let classes: Vec<Class> =
                solo.iter().map(|r| r.pairs.get(pair).map_or(Class::Missing, |p| p.class)).collect();
            let trials: Vec<Option<bool>> = classes.iter().map(|c| c.trial(eval_errors)).collect();
            let d = Difficulty::over_models(&trials, &groups, None);
            (pair.clone(), classes, d)
        })
        .collect()
}

fn difficulty_report(subset: &Subset, runs: &[RunLogs], eval_errors: EvalErrors, models: &Models) -> DifficultyReport {
    let solo: Vec<&RunLogs> = runs.iter().filter(|r| r.setting == "solo").collect();
    let values: Vec<Difficulty> =
        pair_difficulties(subset, &solo, eval_errors, models).into_iter().map(|(_, _, d)| d).collect();
    let dist = difficulty::distribution(&values);
    let names: Vec<String> = solo.iter().map(|r| r.name.clone()).collect();
    let model_names = models.names(&names);
    DifficultyReport {
        models: if model_names.len() > 1 {
            model_names.iter().map(|m| ModelRuns { model: m.clone(), runs: models.runs_of(m, &names) }).collect()
        } else {
            Vec::new()
        },
        seeds: solo.iter().map(|r| r.name.clone()).collect(),
        policy: Policy::new(eval_errors),
        distribution: dist.entries,
        buckets: dist.buckets,
        undefined_pairs: dist.undefined_pairs,
    }
}

fn one_line(s: &str) -> String {
    let first = s.lines().next().unwrap_or("").trim();
    if first.chars().count() > 160 {
        format!("{}...", first.chars().take(160).collect::<String>())
    } else {
        first.to_string()
    }
}

//! The pooling rule, pair by pair: among the runs that define a difficulty,
//! a pair whose dataset files or task image differ between runs (or are
//! unknown in one run and known in another) is a *changed pair*. Pooled
//! silently, a difficulty would average a pair over different task text,
//! tests or images. Verify fails naming them, unless `allow_mixed` lists
//! `"dataset"` (or `"images"`): then a warning everywhere. `--pairs
//! unchanged` leaves them out instead, and every output says how many.

use std::collections::BTreeSet;

use crate::study::dataset::{self, ChangedPair, RunDataset};
use crate::study::images::{self, RunImages};
use crate::study::pair::PairId;
use crate::study::problem::{Check, Problem};
use crate::study::run::RunLogs;

/// Which pairs verify and report count: all of them (a changed pair is
/// then a failure, or a warning with `allow_mixed`), or only those no
/// difficulty run saw differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Pairs {
    #[default]
    All,
    Unchanged,
}

/// The two per-pair fields `allow_mixed` may name.
pub const DATASET: &str = "dataset";
pub const IMAGES: &str = "images";

/// Which pairs the runs did not see alike, and what verify says of it.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub dataset: Vec<ChangedPair>,
    pub images: Vec<ChangedPair>,
    pub problems: Vec<Problem>,
}

impl Changes {
    /// Every changed pair, by either field.
    pub fn pairs(&self) -> BTreeSet<PairId> {
        self.dataset.iter().chain(&self.images).map(|c| c.pair.clone()).collect()
    }

    /// The changed pairs that `--pairs unchanged` leaves out: those of a
    /// field `allow_mixed` does not list (a listed field is pooled by the
    /// user's decision, and warned of everywhere).
    pub fn to_leave_out(&self, allow_mixed: &[String]) -> BTreeSet<PairId> {
        let allowed = |f: &str| allow_mixed.iter().any(|a| a == f);
        let mut out = BTreeSet::new();
        if !allowed(DATASET) {
            out.extend(self.dataset.iter().map(|c| c.pair.clone()));
        }
        if !allowed(IMAGES) {
            out.extend(self.images.iter().map(|c| c.pair.clone()));
        }
        out
    }

    pub fn extend(&mut self, other: Changes) {
        self.dataset.extend(other.dataset);
        self.images.extend(other.images);
        self.problems.extend(other.problems);
    }
}

/// The rule over one model's difficulty runs. `image_of` names a pair's
/// task image as the CLI does.
pub fn of(
    pairs: &[PairId],
    runs: &[&RunLogs],
    allow_mixed: &[String],
    image_of: impl Fn(&PairId) -> String,
) -> Changes {
    let allowed = |f: &str| allow_mixed.iter().any(|a| a == f);
    let mut problems = Vec::new();

    let views: Vec<(String, Result<&dataset::DatasetRecord, String>)> =
        runs.iter().map(|r| (r.name.clone(), r.dataset())).collect();
    let ds: Vec<RunDataset> = views
        .iter()
        .map(|(run, d)| RunDataset { run, record: d.as_ref().ok().copied(), why_unknown: d.as_ref().err().cloned() })
        .collect();
    let changed = dataset::changed_pairs(pairs, &ds);
    let known: Vec<String> =
        ds.iter().filter_map(|r| r.record.map(|d| format!("`{}` ({})", r.run, d.shown()))).collect();
    if allowed(DATASET) {
        let unknown: Vec<String> = dataset::unknown_runs(&ds)
            .iter()
            .map(|r| format!("`{}` ({})", r.run, r.why_unknown.as_deref().unwrap_or("not recorded")))
            .collect();
        if !changed.is_empty() && !unknown.is_empty() {
            problems.push(Problem::warning(
                Check::MixedAllowed,
                format!(
                    "difficulty pools runs whose dataset is unknown, {}, with runs that record it, {} (allowed by allow_mixed)",
                    unknown.join(", "),
                    known.join(", ")
                ),
            ));
        }
        let differing: Vec<ChangedPair> = known_differences(&changed, "unknown in ");
        if !differing.is_empty() {
            problems.push(Problem::warning(
                Check::MixedAllowed,
                format!(
                    "difficulty pools {} pair(s) whose dataset files differ between runs: {} (allowed by allow_mixed)",
                    differing.len(),
                    short_list(&differing, 8)
                ),
            ));
        }
    } else {
        // Said once per run, while any pair it shares is in question.
        for r in dataset::unknown_runs(&ds).into_iter().filter(|_| !changed.is_empty()) {
            problems.push(
                Problem::failure(
                    Check::DatasetChanged,
                    format!(
                        "the dataset it was graded on is unknown ({}), and {} record(s) it: none of its pairs can be shown to be those of the others; pass --pairs unchanged, or list \"dataset\" in allow_mixed",
                        r.why_unknown.as_deref().unwrap_or("not recorded"),
                        known.join(", ")
                    ),
                )
                .run(r.run),
            );
        }
        for c in &changed {
            let known_only: Vec<&String> = c.why.iter().filter(|w| !w.starts_with("unknown in ")).collect();
            if known_only.is_empty() {
                continue;
            }
            let said: Vec<&str> = known_only.iter().map(|s| s.as_str()).collect();
            problems.push(
                Problem::failure(
                    Check::DatasetChanged,
                    format!("{}: the runs were given other task text or tests; pass --pairs unchanged, or list \"dataset\" in allow_mixed", said.join("; ")),
                )
                .pair(&c.pair),
            );
        }
    }

    let ims: Vec<RunImages> = runs.iter().map(|r| RunImages { run: &r.name, record: r.images() }).collect();
    let changed_images = images::changed_pairs(pairs, &ims, image_of);
    if allowed(IMAGES) {
        let recorded: Vec<&str> = ims.iter().filter(|r| r.record.is_some_and(|i| i.verified)).map(|r| r.run).collect();
        let unknown: Vec<&str> = ims.iter().filter(|r| !r.record.is_some_and(|i| i.verified)).map(|r| r.run).collect();
        if !changed_images.is_empty() && !unknown.is_empty() {
            problems.push(Problem::warning(
                Check::MixedAllowed,
                format!(
                    "difficulty pools runs whose task images are unknown ({}: made by the CLI directly, by an older harness, or off Docker) with runs whose image ids were read ({}) (allowed by allow_mixed)",
                    unknown.join(", "),
                    recorded.join(", ")
                ),
            ));
        }
        let differing: Vec<ChangedPair> = known_differences(&changed_images, " unknown in ");
        if !differing.is_empty() {
            problems.push(Problem::warning(
                Check::MixedAllowed,
                format!(
                    "difficulty pools {} pair(s) whose task image differs between runs (same tag, another image): {} (allowed by allow_mixed)",
                    differing.len(),
                    short_list(&differing, 8)
                ),
            ));
        }
    } else {
        let recorded: Vec<&str> = ims.iter().filter(|r| r.record.is_some_and(|i| i.verified)).map(|r| r.run).collect();
        if !recorded.is_empty() && !changed_images.is_empty() {
            for r in ims.iter().filter(|r| !r.record.is_some_and(|i| i.verified)) {
                let why = match r.record {
                    Some(i) => i.source.clone(),
                    None => "no image was recorded (made by the CLI directly, or by an older harness)".into(),
                };
                problems.push(
                    Problem::failure(
                        Check::ImagesChanged,
                        format!(
                            "its task images are unknown ({why}) while {} recorded them: its pairs cannot be shown to be graded in the same images; pass --pairs unchanged, or list \"images\" in allow_mixed",
                            recorded.join(", ")
                        ),
                    )
                    .run(r.run),
                );
            }
        }
        for c in &changed_images {
            let known_only: Vec<&str> =
                c.why.iter().filter(|w| !w.contains(" unknown in ")).map(|s| s.as_str()).collect();
            if known_only.is_empty() {
                continue;
            }
            problems.push(
                Problem::failure(
                    Check::ImagesChanged,
                    format!(
                        "{}: another image under the same tag; pass --pairs unchanged, or list \"images\" in allow_mixed",
                        known_only.join("; ")
                    ),
                )
                .pair(&c.pair),
            );
        }
    }
    Changes { dataset: changed, images: changed_images, problems }
}

/// Every run whose task images changed between its first invocation and
/// its last: its pairs were graded on two images. A failure of that run.
pub fn during_runs(runs: &[RunLogs], image_pairs: impl Fn(&str) -> Vec<String>) -> Vec<Problem> {
    let mut out = Vec::new();
    for r in runs {
        let Some(i) = r.images() else { continue };
        for (image, was, now) in i.changed_during() {
            let pairs = image_pairs(&image);
            out.push(
                Problem::failure(
                    Check::ImageChangedDuringRun,
                    format!(
                        "task image {image} changed during the run (was {was}, then {now}): its pairs ({}) may have been run and graded in different images; run them again in a new seed",
                        if pairs.is_empty() { "none of the subset".to_string() } else { pairs.join(", ") }
                    ),
                )
                .run(&r.name),
            );
        }
    }
    out
}

/// The changed pairs that differ between two runs that both know them
/// (not only unknown in one), with those reasons only.
fn known_differences(changed: &[ChangedPair], unknown_mark: &str) -> Vec<ChangedPair> {
    changed
        .iter()
        .filter_map(|c| {
            let why: Vec<String> = c.why.iter().filter(|w| !w.contains(unknown_mark)).cloned().collect();
            (!why.is_empty()).then(|| ChangedPair { pair: c.pair.clone(), why })
        })
        .collect()
}

/// Leaves out of one run the pairs `out` names (an oracle failure, a
/// changed pair). Its eval summary, which counted them, is reduced by what
/// their eval.json files say, so that verify still checks it against the rest.
pub fn leave_out_of(run: &mut RunLogs, out: impl Fn(&PairId) -> bool) {
    let gone: Vec<PairId> = run.pairs.keys().filter(|p| out(p)).cloned().collect();
    let rows: Vec<crate::study::outcome::Row> =
        gone.iter().filter_map(|p| run.pairs.get(p)).map(crate::study::outcome::Row::of).collect();
    let c = crate::study::table::Counts::of(rows.iter());
    if let Some(Ok(sum)) = &mut run.eval_summary {
        sum.passed = sum.passed.saturating_sub(c.passed as u64);
        sum.failed = sum.failed.saturating_sub(c.failed as u64);
        sum.errors = sum.errors.saturating_sub(c.eval_errors as u64);
    }
    run.pairs.retain(|p, _| !out(p));
}

/// "a/1/f1_f2, b/2/f1_f3 and 3 more".
fn short_list(changed: &[ChangedPair], at_most: usize) -> String {
    let mut names: Vec<String> = changed.iter().take(at_most).map(|c| c.pair.to_string()).collect();
    if changed.len() > at_most {
        names.push(format!("and {} more", changed.len() - at_most));
    }
    names.join(", ")
}

/// `--pairs unchanged`: the changed pairs leave the subset and every run,
/// as `oracle::exclude` does. Returns what every output says first:
/// "N of M pairs; K changed between runs left out: ...".
pub fn leave_out(
    subset: &mut crate::study::subset::Subset,
    runs: &mut [RunLogs],
    changed: &BTreeSet<PairId>,
) -> String {
    let before = subset.pairs.len();
    let gone: Vec<String> = subset.pairs.iter().filter(|p| changed.contains(*p)).map(|p| p.to_string()).collect();
    subset.pairs.retain(|p| !changed.contains(p));
    subset.pair_count = subset.pairs.len();
    let tasks: BTreeSet<(&str, u64)> = subset.pairs.iter().map(|p| (p.repo.as_str(), p.task_id)).collect();
    let repos: BTreeSet<&str> = tasks.iter().map(|t| t.0).collect();
    (subset.tasks, subset.repos) = (tasks.len(), repos.len());
    for r in runs.iter_mut() {
        leave_out_of(r, |p| changed.contains(p));
    }
    let mut text = format!("{} of {before} pairs; {} changed between runs left out", subset.pairs.len(), gone.len());
    if !gone.is_empty() {
        let shown: Vec<&str> = gone.iter().take(20).map(|s| s.as_str()).collect();
        text += &format!(": {}", shown.join(", "));
        if gone.len() > 20 {
            text += &format!(" and {} more", gone.len() - 20);
        }
    }
    text
}

/// What each choice costs when `changed` of `total` pairs changed since the
/// baseline was made, said before any spend: a new baseline, seeds read on
/// the unchanged pairs only, or pooling as `allow_mixed` allows.
pub fn choices(
    changed: usize,
    total: usize,
    seeds: usize,
    estimate: Option<&crate::study::plan::Estimate>,
    allowed: bool,
) -> String {
    let money = |pairs: usize| match estimate {
        Some(e) => format!("about ${:.2}", e.cost(pairs)),
        None => "cost unknown (no estimate)".to_string(),
    };
    let unchanged = total - changed;
    let pooled = if allowed {
        "allowed by allow_mixed: verify and report pool them, with a warning in every output".to_string()
    } else {
        "list \"dataset\" in allow_mixed to pool them anyway, with a warning in every output".to_string()
    };
    format!(
        "Choices before paying: (1) a new baseline on today's dataset: {total} pairs more, {}, then difficulty over all {total}; (2) seeds on the {unchanged} unchanged pairs only: {} for {seeds} seed(s) on a subset file listing just them, or {} as planned with `verify/report --pairs unchanged` leaving the changed pairs' {} results unused; (3) {pooled} ({} as planned)",
        money(total),
        money(unchanged * seeds),
        money(total * seeds),
        changed * seeds,
        money(total * seeds),
    )
}

//! Figure 4 and the statistics beside it, from the outcome table alone
//! (the logs' or a committed `outcomes.csv`'s): the difficulty of each pair,
//! the curves, AUC and retention, the paired differences, the verdict and
//! the assumptions it rests on, per model and pooled, and the checks a
//! reviewer would make of each interval. Pure: `report` reads and writes
//! around it, `summary.rs` gives the study in numbers for snapshots.

mod checks;
pub mod coop;
mod sensitivity;
pub mod summary;

pub use checks::{interval_checks, undefined_in};
pub use sensitivity::{NonTrialSensitivity, SensitivityRow};

use std::collections::BTreeMap;

use serde::Serialize;

use crate::study::class::Class;
use crate::study::fig4::{
    self, round6, Bootstrap, Bucket, Cluster, Curves, Design, DifficultyMode, Estimate, PairTrials, Paired, PairedBoot,
};
use crate::study::models::Models;
use crate::study::noise::{self, Noise};
use crate::study::outcome::EvalErrors;
use crate::study::run::RunLogs;
use crate::study::table::{RunOutcomes, Table};
use crate::study::verdict::{self, EvalErrorComparison, RunRate, SeedAgreement, Verdict};

pub const DEFAULT_REPLICATES: usize = 10_000;
pub const MAX_REPLICATES: usize = 1_000_000;
pub const DEFAULT_BOOTSTRAP_SEED: u64 = 20_260_401;
pub const DEFAULT_DIFFICULTY_SE_TARGET: f64 = 0.1;
pub const DEFAULT_MEAN_SE_TARGET: f64 = 0.01;

/// How the numbers are made, beyond which runs: one value per choice.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub eval_errors: EvalErrors,
    pub difficulty: DifficultyMode,
    pub bootstrap: Bootstrap,
    pub difficulty_se_target: f64,
    pub mean_se_target: f64,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            eval_errors: EvalErrors::Exclude,
            difficulty: DifficultyMode::HeldOut,
            bootstrap: Bootstrap {
                replicates: DEFAULT_REPLICATES,
                seed: DEFAULT_BOOTSTRAP_SEED,
                cluster: Cluster::Pair,
            },
            difficulty_se_target: DEFAULT_DIFFICULTY_SE_TARGET,
            mean_se_target: DEFAULT_MEAN_SE_TARGET,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Policy {
    pub difficulty_runs: Vec<String>,
    pub solo_curve_runs: Vec<String>,
    pub coop_runs: Vec<String>,
    pub trial: &'static str,
    pub eval_errors: EvalErrors,
    pub eval_errors_left_out: usize,
    pub limits_exceeded: &'static str,
    pub agent_errors: &'static str,
    pub coop_status: &'static str,
    pub difficulty: &'static str,
    pub buckets: &'static str,
    pub interval: &'static str,
    pub wilson: &'static str,
    pub auc: &'static str,
    /// Over several models: how difficulty pools them, and each one's runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub models: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rate {
    pub successes: usize,
    pub trials: usize,
    pub rate: Option<f64>,
}

impl Rate {
    fn of(trials: &[bool]) -> Rate {
        let k = trials.iter().filter(|t| **t).count();
        Rate {
            successes: k,
            trials: trials.len(),
            rate: (!trials.is_empty()).then(|| round6(k as f64 / trials.len() as f64)),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RepoRow {
    pub repo: String,
    pub pairs: usize,
    pub solo: Rate,
    pub coop: BTreeMap<String, Rate>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Fig4 {
    pub experiment: String,
    pub subset: String,
    /// With `--pairs unchanged`: "N of M pairs; K changed between runs left
    /// out: ..." (the report sets it; said first everywhere).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pairs: Option<String>,
    /// What the data can show, by explicit rules, before any number.
    pub verdict: Verdict,
    /// The assumptions the numbers rest on, tested.
    pub assumptions: Assumptions,
    pub difficulty_mode: DifficultyMode,
    pub bootstrap: Bootstrap,
    pub policy: Policy,
    pub buckets: Vec<Bucket>,
    /// Bucket indices every curve populates; every AUC is taken over them.
    pub auc_grid: Vec<usize>,
    pub auc: BTreeMap<String, Option<f64>>,
    /// Null unless every bootstrap replicate defines the AUC (see the share).
    pub auc_ci: BTreeMap<String, Option<[f64; 2]>>,
    pub auc_ci_defined_share: BTreeMap<String, f64>,
    pub retention: BTreeMap<String, Option<f64>>,
    pub retention_ci: BTreeMap<String, Option<[f64; 2]>>,
    pub retention_ci_defined_share: BTreeMap<String, f64>,
    /// Why a retention interval is not given though the bootstrap made one.
    pub retention_ci_withheld: BTreeMap<String, Option<String>>,
    /// AUC of each coop curve minus the solo AUC.
    pub auc_difference: BTreeMap<String, Estimate>,
    pub paired_difference: BTreeMap<String, Paired>,
    /// Per coop run, the paired difference bootstrapped over pairs and over
    /// tasks, side by side: its interval, standard error, p-value and the
    /// smallest difference detectable at 80% power.
    pub paired_by_cluster: BTreeMap<String, BTreeMap<String, PairedBoot>>,
    /// When eval errors were left out: the paired difference with them as
    /// failures, to show how much the choice moves it.
    pub eval_error_sensitivity: Option<Sensitivity>,
    /// Every coop run's headline under each way of counting the pairs the
    /// model was not judged on (left out, failures, successes, and the two
    /// that bound it); `None` when every (run, pair) is a trial.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub non_trial_sensitivity: Option<NonTrialSensitivity>,
    /// How far the bootstrap's randomness moves the printed endpoints.
    pub monte_carlo: MonteCarlo,
    /// The buckets the design's difficulties can reach at all (held-out:
    /// from K - 1 seeds, K values), populated or not.
    pub reachable_buckets: Vec<usize>,
    pub noise: Noise,
    pub pass_at_k: BTreeMap<usize, Option<f64>>,
    pub pass_hat_k: BTreeMap<usize, Option<f64>>,
    pub per_repo: Vec<RepoRow>,
    pub undefined_pairs: usize,
    pub warnings: Vec<String>,
    /// Over several models: each model's own Figure 4 (its solo runs define
    /// its difficulty and draw its solo curve; its coop runs its coop
    /// curves). Empty for one model.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub per_model: BTreeMap<String, Fig4>,
    /// Every number REPORT.md does not print, by its key here
    /// (`auc.solo`, `retention.<run>`, ...), with the reason: never a value
    /// without its flag.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub withheld: BTreeMap<String, String>,
    /// Over several models: the paper's pooled row, means of per-model values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pooled_over_models: Option<PooledOverModels>,
    /// Every two coop runs of one model, against each other.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub coop_comparisons: Vec<coop::CoopComparison>,
    /// Per coop run, its merge-conflict rate.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub merge_rates: Vec<coop::MergeRate>,
}

impl Fig4 {
    /// Where the verdict says Figure 4 carries no information, its
    /// summaries (AUC, retention, AUC differences) are flagged in
    /// `withheld` with the reason: REPORT.md does not print them, and a
    /// reader of fig4.json must not take them without the flag.
    fn withhold_figure_summaries(&mut self) {
        let Some(case) = self.verdict.case.title() else { return };
        let why = format!("{case} (see verdict): not printed in REPORT.md; kept here only as the rules' input");
        let keys: Vec<String> = (self.auc.iter().filter(|(_, v)| v.is_some()).map(|(k, _)| format!("auc.{k}")))
            .chain(self.retention.iter().filter(|(_, v)| v.is_some()).map(|(k, _)| format!("retention.{k}")))
            .chain(
                self.auc_difference
                    .iter()
                    .filter(|(_, e)| e.value.is_some())
                    .map(|(k, _)| format!("auc_difference.{k}")),
            )
            .collect();
        for k in keys {
            self.withheld.insert(k, why.clone());
        }
    }
}

/// The paired difference under the other eval-error policy.
#[derive(Debug, Clone, Serialize)]
pub struct Sensitivity {
    pub eval_errors: EvalErrors,
    pub solo_curve_rate: Rate,
    pub paired_difference: BTreeMap<String, PairedBoot>,
}

/// The Monte Carlo error of the bootstrap endpoints: the largest, where it
/// is, every interval whose error reaches the printed precision, and every
/// comparison whose verdict (excludes 0 or not) another seed could flip.
#[derive(Debug, Clone, Serialize)]
pub struct MonteCarlo {
    pub printed_precision: f64,
    pub largest_error: Option<f64>,
    pub largest_at: Option<String>,
    pub above_precision: Vec<String>,
    /// Differences with an endpoint within two Monte Carlo errors of 0.
    pub fragile: Vec<String>,
}

/// Three decimals are printed: an endpoint's Monte Carlo error under half
/// the last digit does not show.
pub const PRINTED_PRECISION: f64 = 0.0005;

fn monte_carlo(c: &Curves, by_cluster: &BTreeMap<String, BTreeMap<String, PairedBoot>>) -> MonteCarlo {
    let mut all: Vec<(String, f64)> = Vec::new();
    // Every difference against no effect 0: its name, bounds and error.
    type Difference = (String, Option<f64>, Option<f64>, Option<f64>);
    let mut differences: Vec<Difference> = Vec::new();
    for (s, e) in &c.auc {
        all.extend(e.ci_mc_error.map(|m| (format!("{s} AUC"), m)));
    }
    for (run, e) in &c.retention {
        all.extend(e.ci_mc_error.map(|m| (format!("{run} retention"), m)));
    }
    for (run, e) in &c.auc_difference {
        all.extend(e.ci_mc_error.map(|m| (format!("{run} AUC minus solo"), m)));
        differences.push((format!("{run} AUC minus solo"), e.ci_lower, e.ci_upper, e.ci_mc_error));
    }
    for (run, by) in by_cluster {
        for (cluster, b) in by {
            let name = format!("{run} paired difference by {cluster}");
            all.extend(b.ci_mc_error.map(|m| (name.clone(), m)));
            differences.push((name, b.ci_lower, b.ci_upper, b.ci_mc_error));
        }
    }
    for b in &c.buckets {
        for (s, cell) in &b.settings {
            all.extend(cell.ci_mc_error.map(|m| (format!("{s} bucket {}", b.bucket), m)));
        }
    }
    let largest = all.iter().max_by(|a, b| a.1.total_cmp(&b.1));
    let fragile = differences
        .into_iter()
        .filter_map(|(name, lo, hi, err)| {
            let err = err?;
            let near = [lo?, hi?].into_iter().find(|x| x.abs() <= 2.0 * err)?;
            Some(format!("{name} (endpoint {near:.3}, Monte Carlo error {err:.4})"))
        })
        .collect();
    MonteCarlo {
        printed_precision: PRINTED_PRECISION,
        largest_error: largest.map(|l| l.1),
        largest_at: largest.map(|l| l.0.clone()),
        above_precision: all.iter().filter(|(_, m)| *m >= PRINTED_PRECISION).map(|(w, _)| w.clone()).collect(),
        fragile,
    }
}

/// Are the solo seeds repeats of one experiment, and did eval errors (left
/// out of every rate) strike the settings alike?
#[derive(Debug, Clone, Serialize)]
pub struct Assumptions {
    pub solo_seeds: SeedAgreement,
    pub eval_errors: EvalErrorComparison,
    /// Pairs with no trial per run (every class that is not a trial), and
    /// each run against the other solo runs.
    pub non_trials: verdict::NonTrials,
}

/// Which runs play which part.
#[derive(Debug, Clone)]
pub struct Roles {
    pub solo: Vec<String>,
    pub solo_curve: Vec<String>,
    pub coop: Vec<String>,
    /// Which model each run belongs to (the arms); default: one model.
    pub models: Models,
}

/// A run plays one part, and only the part its own files allow: a run named
/// twice would count twice, a coop run would define difficulty, a solo run
/// would draw a coop curve. Runs with no folder are left to verify.
pub fn check_roles(solo: &[RunLogs], coop: &[RunLogs]) -> Result<(), String> {
    let mut seen = std::collections::BTreeSet::new();
    for r in solo.iter().chain(coop) {
        if r.name.trim().is_empty() {
            return Err("an empty run name: name each run".into());
        }
        if !seen.insert(r.name.as_str()) {
            return Err(format!("run `{}` is named twice: each run counts once", r.name));
        }
    }
    for (runs, want, part) in [(solo, "solo", "define difficulty"), (coop, "coop", "draw a coop curve")] {
        if let Some(r) = runs.iter().find(|r| r.exists && r.setting != want) {
            return Err(format!(
                "run `{}` holds {} results (logs/{}/{}/): it cannot {part}",
                r.name, r.setting, r.name, r.setting
            ));
        }
    }
    Ok(())
}

/// Figure 4 and the statistics beside it, from the outcome table alone: the
/// same function for the logs (`report`) and for a committed `outcomes.csv`.
pub fn analyse(name: &str, subset: &str, table: &Table, roles: &Roles, opts: &Options) -> Fig4 {
    analyse_with(name, subset, table, roles, opts, None)
}

/// Figure 4 of a study, over one model or several. Over several, as the
/// paper pools them: difficulty is the mean over models of each model's
/// failure rate; a coop run's paired difference, AUC, retention and power
/// are its own model's (its own solo curve, its own paired SE and solo
/// rate), never against a pool of other models' trials; and the pooled
/// line is the mean over models of per-model values (`pooled_over_models`).
pub fn analyse_study(name: &str, subset: &str, table: &Table, roles: &Roles, opts: &Options) -> Fig4 {
    let per = per_model(name, subset, table, roles, opts);
    if per.is_empty() {
        return analyse(name, subset, table, roles, opts);
    }
    let mut fig = analyse_with(name, subset, table, roles, opts, Some(&per));
    let models: Vec<String> =
        per.iter().map(|(m, f)| format!("{m} ({})", f.policy.difficulty_runs.join(", "))).collect();
    fig.policy.models = Some(format!(
        "difficulty over {} models: the mean over models of each model's failure rate over its own valid solo seeds (the paper's rule); held-out leaves a trial out of its own model's rate; a coop run's paired comparison, AUC, retention and power are against its own model's solo seeds: {}",
        models.len(),
        models.join("; ")
    ));
    fig.warnings.push(format!(
        "this figure pools {} models: its seed-level numbers (seed agreement, noise, pass@k) treat different models' runs as seeds of one experiment, which they are not; each model's are in per_model (fig4.json) and the section \"Per model\"",
        models.len()
    ));
    // Each coop run's summaries are its own model's.
    for f in per.values() {
        for c in &f.policy.coop_runs {
            for (to, from) in [(&mut fig.auc, &f.auc), (&mut fig.retention, &f.retention)] {
                to.insert(c.clone(), from.get(c).copied().flatten());
            }
            for (to, from) in [(&mut fig.auc_ci, &f.auc_ci), (&mut fig.retention_ci, &f.retention_ci)] {
                to.insert(c.clone(), from.get(c).copied().flatten());
            }
            fig.auc_ci_defined_share.extend(f.auc_ci_defined_share.get(c).map(|v| (c.clone(), *v)));
            fig.retention_ci_defined_share.extend(f.retention_ci_defined_share.get(c).map(|v| (c.clone(), *v)));
            fig.retention_ci_withheld.extend(f.retention_ci_withheld.get(c).map(|v| (c.clone(), v.clone())));
            fig.auc_difference.extend(f.auc_difference.get(c).map(|v| (c.clone(), v.clone())));
        }
    }
    fig.pooled_over_models = Some(pooled_over_models(&per));
    fig.per_model = per;
    fig
}

/// The paper's pooled row: the mean over models of each model's solo AUC,
/// and, where every model has exactly one coop run, of its coop AUC and
/// retention (the paper's estimand; not a pooled curve's AUC).
#[derive(Debug, Clone, Serialize)]
pub struct PooledOverModels {
    pub models: Vec<String>,
    pub solo_auc: Option<f64>,
    pub coop_auc: Option<f64>,
    pub retention: Option<f64>,
    /// Why a mean is not given.
    pub note: Option<String>,
    /// Models whose own figure carries no information (its verdict's case):
    /// where there are any, REPORT.md prints no mean (fig4.json keeps it).
    pub uninformative: Vec<String>,
}

fn pooled_over_models(per: &BTreeMap<String, Fig4>) -> PooledOverModels {
    let mean = |v: Vec<Option<f64>>| -> Option<f64> {
        let all: Option<Vec<f64>> = v.into_iter().collect();
        all.filter(|a| !a.is_empty()).map(|a| round6(a.iter().sum::<f64>() / a.len() as f64))
    };
    let solo_auc = mean(per.values().map(|f| f.auc.get("solo").copied().flatten()).collect());
    let one_coop = per.values().all(|f| f.policy.coop_runs.len() == 1);
    let (coop_auc, retention, note) = if one_coop {
        let coop = |f: &Fig4, m: &BTreeMap<String, Option<f64>>| m.get(&f.policy.coop_runs[0]).copied().flatten();
        (
            mean(per.values().map(|f| coop(f, &f.auc)).collect()),
            mean(per.values().map(|f| coop(f, &f.retention)).collect()),
            None,
        )
    } else {
        (None, None, Some("a mean of coop AUC and retention over models needs exactly one coop run per model".into()))
    };
    let uninformative: Vec<String> = per
        .iter()
        .filter_map(|(m, f)| f.verdict.case.title().map(|t| format!("{m} ({})", t.split(':').next().unwrap_or(t))))
        .collect();
    PooledOverModels { models: per.keys().cloned().collect(), solo_auc, coop_auc, retention, note, uninformative }
}

/// Each model's own Figure 4 (over several models; none for one): the
/// model's solo runs define its difficulty and draw its solo curve, its coop
/// runs its coop curves. The pooled figure is [`analyse`] over all.
pub fn per_model(name: &str, subset: &str, table: &Table, roles: &Roles, opts: &Options) -> BTreeMap<String, Fig4> {
    let models = roles.models.names(&roles.solo);
    if models.len() < 2 {
        return BTreeMap::new();
    }
    models
        .iter()
        .map(|m| {
            let solo = roles.models.runs_of(m, &roles.solo);
            let mine = Roles {
                solo_curve: roles.solo_curve.iter().filter(|r| solo.contains(r)).cloned().collect(),
                coop: roles.coop.iter().filter(|r| roles.models.by_run.get(*r) == Some(m)).cloned().collect(),
                solo,
                models: Models::default(),
            };
            (m.clone(), analyse(&format!("{name} / {m}"), subset, table, &mine, opts))
        })
        .collect()
}

fn analyse_with(
    name: &str,
    subset: &str,
    table: &Table,
    roles: &Roles,
    opts: &Options,
    own: Option<&BTreeMap<String, Fig4>>,
) -> Fig4 {
    let solo_runs: Vec<&RunOutcomes> = roles.solo.iter().filter_map(|r| table.run(r)).collect();
    let coop_runs: Vec<&RunOutcomes> = roles.coop.iter().filter_map(|r| table.run(r)).collect();
    let mut eval_errors_left_out = 0;
    let mut trial = |c: Class, counted: bool| {
        let t = c.trial(opts.eval_errors);
        if counted && t.is_none() && c.is_eval_error() {
            eval_errors_left_out += 1;
        }
        t
    };
    let pairs: Vec<PairTrials> = table
        .pairs
        .iter()
        .map(|p| PairTrials {
            pair: p.clone(),
            solo: solo_runs.iter().map(|r| trial(r.row(p).class, roles.solo_curve.contains(&r.name))).collect(),
            coop: coop_runs.iter().map(|r| trial(r.row(p).class, true)).collect(),
        })
        .collect();
    let solo_names: Vec<String> = solo_runs.iter().map(|r| r.name.clone()).collect();
    let design = Design {
        mode: opts.difficulty,
        solo_curve: solo_runs.iter().map(|r| roles.solo_curve.contains(&r.name)).collect(),
        coop_runs: coop_runs.len(),
        models: roles.models.groups(&solo_names),
    };
    let coop_names: Vec<String> = coop_runs.iter().map(|r| r.name.clone()).collect();
    let clusters = fig4::clusters(&pairs, opts.bootstrap.cluster);
    let mut curves = fig4::curves(&pairs, &design, &coop_names, &clusters, opts.bootstrap);

    let solo_trials: Vec<Vec<bool>> = pairs.iter().map(|p| p.solo.iter().flatten().copied().collect()).collect();
    let noise = noise::noise(&solo_trials, opts.difficulty_se_target, opts.mean_se_target);
    // Cells at 0/n or n/n: the exact bound, trials made independent by the
    // design effect (see fig4::exact_bounds for why rho is what it is).
    let rho = match opts.bootstrap.cluster {
        Cluster::Pair => noise.icc.unwrap_or(1.0),
        Cluster::Task => 1.0,
    };
    fig4::exact_bounds(&mut curves.buckets, rho);
    let (at, hat) = noise::pass_at_k(&solo_trials, solo_runs.len());

    // Per repository: pairs, solo-curve trials, and each coop run's trials.
    type RepoTrials = (usize, Vec<bool>, Vec<Vec<bool>>);
    let mut per_repo: BTreeMap<&str, RepoTrials> = BTreeMap::new();
    for p in &pairs {
        let e = per_repo.entry(&p.pair.repo).or_insert_with(|| (0, Vec::new(), vec![Vec::new(); coop_names.len()]));
        e.0 += 1;
        e.1.extend(p.solo_curve_trials(&design));
        for (acc, t) in e.2.iter_mut().zip(&p.coop) {
            acc.extend(t);
        }
    }
    let per_repo = per_repo
        .into_iter()
        .map(|(repo, (n, solo, coop))| RepoRow {
            repo: repo.to_string(),
            pairs: n,
            solo: Rate::of(&solo),
            coop: coop_names.iter().cloned().zip(coop.iter().map(|c| Rate::of(c))).collect(),
        })
        .collect();

    let mut paired_by_cluster: BTreeMap<String, BTreeMap<String, PairedBoot>> = BTreeMap::new();
    for by in [Cluster::Pair, Cluster::Task] {
        let boot = Bootstrap { cluster: by, ..opts.bootstrap };
        let found = fig4::paired_bootstrap(&pairs, &design, &fig4::clusters(&pairs, by), boot);
        for (run, b) in coop_names.iter().zip(found) {
            paired_by_cluster.entry(run.clone()).or_default().insert(by.name().to_string(), b);
        }
    }
    let solo_by_pair: Vec<(crate::study::pair::PairId, Vec<bool>)> =
        pairs.iter().map(|p| (p.pair.clone(), p.solo.iter().flatten().copied().collect())).collect();
    let bucket_pairs: Vec<usize> = curves.buckets.iter().map(|b| b.pairs).collect();
    let (wins, tries) =
        solo_by_pair.iter().fold((0, 0), |(w, n), (_, t)| (w + t.iter().filter(|x| **x).count(), n + t.len()));
    let main = opts.bootstrap.cluster.name();
    // A withheld interval's bootstrap is degenerate: no power, no p-value
    // and no detectable difference come from it (`se` is then null).
    // Over several models a coop run is compared with its own model's solo
    // seeds only: its paired numbers, and its power from its model's own
    // paired SE and solo rate.
    let own_fig = |run: &str| own.and_then(|o| o.values().find(|f| f.policy.coop_runs.iter().any(|c| c == run)));
    for (run, by) in paired_by_cluster.iter_mut() {
        if let Some(f) = own_fig(run) {
            *by = f.paired_by_cluster.get(run).cloned().unwrap_or_default();
            curves.paired.extend(f.paired_difference.get(run).map(|p| (run.clone(), p.clone())));
        }
    }
    let pooled_rate = wins as f64 / tries.max(1) as f64;
    let power: Vec<(String, Option<f64>)> = paired_by_cluster
        .iter()
        .map(|(run, by)| {
            let rate = own_fig(run).and_then(|f| f.noise.solo_rate).unwrap_or(pooled_rate);
            let se = by.get(main).and_then(|b| b.se);
            verdict::paper_drop_power_of(rate, &[(run.clone(), se)]).remove(0)
        })
        .collect();
    let paired_lines: Vec<verdict::PairedLine> = paired_by_cluster
        .iter()
        .filter_map(|(run, by)| {
            let b = by.get(main)?;
            Some(verdict::PairedLine {
                run: run.clone(),
                mean: b.mean,
                ci: b.ci_lower.zip(b.ci_upper),
                withheld: b.ci_withheld.clone(),
                exact_p: b.exact_p_value,
            })
        })
        .collect();
    let reachable = checks::reachable_buckets(&pairs, &design);
    let verdict = verdict::verdict(
        &solo_by_pair,
        &bucket_pairs,
        pairs.len() - curves.unplaced_pairs,
        reachable.len(),
        &power,
        &paired_lines,
    );
    let seeds = verdict::seed_agreement(
        &solo_names,
        &pairs.iter().map(|p| (p.pair.clone(), p.solo.clone())).collect::<Vec<_>>(),
    );
    let eval_rate = |r: &&RunOutcomes| {
        let c = crate::study::table::Counts::of(r.rows.values());
        RunRate { run: r.name.clone(), count: c.eval_errors, of: c.evals }
    };
    let evals = verdict::eval_errors(
        &solo_runs.iter().map(eval_rate).collect::<Vec<_>>(),
        &coop_runs.iter().map(eval_rate).collect::<Vec<_>>(),
    );
    let eval_error_sensitivity = (opts.eval_errors == EvalErrors::Exclude && eval_errors_left_out > 0).then(|| {
        // The same pairs with every eval error a failure.
        let failed: Vec<PairTrials> = table
            .pairs
            .iter()
            .map(|p| PairTrials {
                pair: p.clone(),
                solo: solo_runs.iter().map(|r| r.row(p).class.trial(EvalErrors::Fail)).collect(),
                coop: coop_runs.iter().map(|r| r.row(p).class.trial(EvalErrors::Fail)).collect(),
            })
            .collect();
        let solo: Vec<bool> = failed.iter().flat_map(|p| p.solo_curve_trials(&design).collect::<Vec<_>>()).collect();
        let found =
            fig4::paired_bootstrap(&failed, &design, &fig4::clusters(&failed, opts.bootstrap.cluster), opts.bootstrap);
        Sensitivity {
            eval_errors: EvalErrors::Fail,
            solo_curve_rate: Rate::of(&solo),
            paired_difference: coop_names.iter().cloned().zip(found).collect(),
        }
    });
    let non_trial_sensitivity =
        sensitivity::non_trial_sensitivity(table, &solo_runs, &coop_runs, &design, opts.eval_errors, opts.bootstrap);
    let unjudged = |r: &&RunOutcomes| RunRate {
        run: r.name.clone(),
        count: table.pairs.iter().filter(|p| r.row(p).class.trial(opts.eval_errors).is_none()).count(),
        of: table.pairs.len(),
    };
    let non_trials = verdict::non_trials(
        &solo_runs.iter().map(unjudged).collect::<Vec<_>>(),
        &coop_runs.iter().map(unjudged).collect::<Vec<_>>(),
    );
    let mut warnings =
        checks::figure_checks(&curves, &reachable, solo_runs.len(), eval_errors_left_out, opts.difficulty);
    warnings.extend(verdict::assumption_warnings(&seeds, &evals));
    warnings.extend(verdict::non_trial_warnings(&non_trials));
    let monte_carlo = monte_carlo(&curves, &paired_by_cluster);
    for f in &monte_carlo.fragile {
        warnings.push(format!("{f}: whether its interval excludes 0 can change with the bootstrap seed; rerun with a larger --bootstrap before reading it either way"));
    }
    let mut verdict = verdict;
    for (run, row) in non_trial_sensitivity.iter().flat_map(|s| &s.per_run) {
        if row.sign_depends {
            verdict.text += &format!(
                " The sign of `{run}`'s paired difference depends on the outcomes the model was not judged on ({} solo and {} coop (run, pair)s): counted against coop it is {}, against solo {} (section \"Paired comparison\").",
                row.solo_non_trials,
                row.coop_non_trials,
                row.lowest.map(|v| format!("{v:+.3}")).unwrap_or_default(),
                row.highest.map(|v| format!("{v:+.3}")).unwrap_or_default(),
            );
        }
    }
    let pair_ci = |e: &Estimate| e.ci_lower.zip(e.ci_upper).map(|(l, u)| [l, u]);
    let mut fig = Fig4 {
        experiment: name.to_string(),
        subset: subset.to_string(),
        pairs: None,
        verdict,
        assumptions: Assumptions { solo_seeds: seeds, eval_errors: evals, non_trials },
        difficulty_mode: opts.difficulty,
        bootstrap: opts.bootstrap,
        policy: Policy {
            difficulty_runs: solo_runs.iter().map(|r| r.name.clone()).collect(),
            solo_curve_runs: roles.solo_curve.clone(),
            coop_runs: coop_names.clone(),
            trial: "each (run, pair) is one trial: success when both features pass",
            eval_errors: opts.eval_errors,
            eval_errors_left_out,
            limits_exceeded: "failure",
            agent_errors: "left out, as every class that is not a trial (study::class): infra_sandbox, infra_provider, infra_container, agent_config_error, agent_error",
            coop_status: "the worst of its agents",
            difficulty: match opts.difficulty {
                DifficultyMode::HeldOut => "held-out: a solo trial sits at its pair's difficulty over the other solo seeds; a coop trial sits at each of the K held-out difficulties with weight 1/K",
                DifficultyMode::InSample => "in-sample (the paper's): every trial sits at its pair's difficulty over all solo seeds; the solo curve is circular",
            },
            buckets: "floor(failures * 10 / valid seeds), capped at 9, from integers",
            interval: "cluster bootstrap 95% (percentiles 2.5 and 97.5), resampling whole clusters with all their trials; over the replicates that define the statistic, null unless at least 95% do (percentiles of the replicates that happen to define it describe a biased subset of resamples): ci_defined_share says how many did",
            wilson: "Wilson 95% (z = 1.96) on pooled trials, as the paper: too narrow, since seeds of one pair are not independent; null for cells of weighted (held-out coop) trials, whose counts are no numbers of independent trials",
            auc: "trapezoids over the centres 0.05 + 0.1*b of auc_grid, the buckets every curve populates; null under two",
            models: None,
        },
        auc_grid: curves.grid.clone(),
        auc: curves.auc.iter().map(|(k, e)| (k.clone(), e.value)).collect(),
        auc_ci: curves.auc.iter().map(|(k, e)| (k.clone(), pair_ci(e))).collect(),
        auc_ci_defined_share: curves.auc.iter().map(|(k, e)| (k.clone(), e.ci_defined_share)).collect(),
        retention: curves.retention.iter().map(|(k, e)| (k.clone(), e.value)).collect(),
        retention_ci: curves.retention.iter().map(|(k, e)| (k.clone(), pair_ci(e))).collect(),
        retention_ci_defined_share: curves.retention.iter().map(|(k, e)| (k.clone(), e.ci_defined_share)).collect(),
        retention_ci_withheld: curves.retention.iter().map(|(k, e)| (k.clone(), e.ci_withheld.clone())).collect(),
        auc_difference: curves.auc_difference.clone(),
        paired_difference: curves.paired.clone(),
        paired_by_cluster,
        eval_error_sensitivity,
        non_trial_sensitivity,
        monte_carlo,
        reachable_buckets: reachable,
        buckets: curves.buckets,
        noise,
        pass_at_k: at.into_iter().collect(),
        pass_hat_k: hat.into_iter().collect(),
        per_repo,
        undefined_pairs: curves.unplaced_pairs,
        warnings,
        per_model: BTreeMap::new(),
        withheld: BTreeMap::new(),
        pooled_over_models: None,
        coop_comparisons: coop::comparisons(&coop_runs, table, &roles.models, opts.eval_errors, opts.bootstrap),
        merge_rates: coop::merge_rates(&coop_runs, table),
    };
    fig.withhold_figure_summaries();
    fig
}

/// A model's name as a file name (`openai/gpt-4o` is `openai-gpt-4o`).
pub fn model_slug(model: &str) -> String {
    model.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '_' { c } else { '-' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(run, setting, passes per pair)` as an outcomes.csv table.
    fn table(runs: &[(&str, &str, [bool; 4])]) -> Table {
        let mut csv = crate::study::table::CSV_HEADER.join(",") + "\n";
        for (run, setting, passes) in runs {
            for (i, pass) in passes.iter().enumerate() {
                let v = if *pass { "pass" } else { "fail" };
                csv += &format!("{run},{setting},amber_task/{}/f1_f2,Submitted,{v},false,0.1,,{v},\n", 100 + i);
            }
        }
        Table::from_csv(&csv, "test").unwrap()
    }

    fn opts() -> Options {
        Options {
            difficulty: DifficultyMode::InSample,
            bootstrap: Bootstrap { replicates: 50, ..Options::default().bootstrap },
            ..Options::default()
        }
    }

    /// Two models, worked by hand (in-sample, one pair per bucket).
    /// A (3 seeds): solo 1, 2/3, 1/3, 0 at buckets 0, 3, 6, 9: AUC 0.45;
    /// a-coop 1, 0, 0, 0: AUC 0.15, retention 1/3. B (2 seeds): solo 1,
    /// 1/2, 0 at buckets 0, 5, 9: AUC 0.5 * 1.5 / 2 + 0.4 * 0.5 / 2 =
    /// 0.475; b-coop 1, 1, 0: 0.5 + 0.2 = 0.7, retention 1.473684. The
    /// paper's pooled row: solo (0.45 + 0.475) / 2 = 0.4625, coop (0.15 +
    /// 0.7) / 2 = 0.425, retention (0.333333 + 1.473684) / 2.
    #[test]
    fn over_two_models_each_coop_run_is_its_own_models_and_the_pooled_row_is_their_mean() {
        let (t, f) = (true, false);
        let t = table(&[
            ("a-s1", "solo", [t, t, t, f]),
            ("a-s2", "solo", [t, t, f, f]),
            ("a-s3", "solo", [t, f, f, f]),
            ("b-s1", "solo", [t, t, f, f]),
            ("b-s2", "solo", [t, f, f, f]),
            ("a-coop", "coop", [t, f, f, f]),
            ("b-coop", "coop", [t, t, f, f]),
        ]);
        let solo: Vec<String> = ["a-s1", "a-s2", "a-s3", "b-s1", "b-s2"].map(String::from).into();
        let model = |r: &str| if r.starts_with('a') { "A" } else { "B" };
        let roles = Roles {
            solo: solo.clone(),
            solo_curve: solo.clone(),
            coop: vec!["a-coop".into(), "b-coop".into()],
            models: Models::of(solo.iter().cloned().chain(["a-coop".into(), "b-coop".into()]).map(|r| {
                let m = model(&r).to_string();
                (r, m)
            })),
        };
        let fig = analyse_study("two", "lite", &t, &roles, &opts());
        let (a, b) = (&fig.per_model["A"], &fig.per_model["B"]);
        assert_eq!((a.auc["solo"], a.auc["a-coop"], a.retention["a-coop"]), (Some(0.45), Some(0.15), Some(0.333333)));
        assert_eq!((b.auc["solo"], b.auc["b-coop"], b.retention["b-coop"]), (Some(0.475), Some(0.7), Some(1.473684)));
        // The pooled figure's coop numbers are each run's own model's.
        assert_eq!(fig.retention["a-coop"], Some(0.333333));
        assert_eq!(fig.retention["b-coop"], Some(1.473684));
        assert_eq!(fig.auc["a-coop"], Some(0.15));
        assert_eq!(fig.paired_difference["a-coop"], a.paired_difference["a-coop"]);
        assert_eq!(fig.paired_by_cluster["b-coop"], b.paired_by_cluster["b-coop"]);
        // And its power, from its own model's paired SE and solo rate.
        let rule = |f: &Fig4, run: &str| f.verdict.rules.iter().find(|r| r.starts_with(&format!("{run}:"))).cloned();
        assert_eq!(rule(&fig, "a-coop"), rule(a, "a-coop"));
        assert_eq!(rule(&fig, "b-coop"), rule(b, "b-coop"));
        assert!(rule(&fig, "a-coop").is_some());
        let p = fig.pooled_over_models.as_ref().unwrap();
        assert_eq!((p.solo_auc, p.coop_auc), (Some(0.4625), Some(0.425)));
        assert!((p.retention.unwrap() - (0.333333 + 1.473684) / 2.0).abs() < 1e-6, "{:?}", p.retention);
        // One model: no pooled row.
        let one = Roles { models: Models::default(), ..roles };
        assert!(analyse_study("one", "lite", &t, &one, &opts()).pooled_over_models.is_none());
    }
}

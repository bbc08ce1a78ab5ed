//! `cargo xtask report`: the difficulty table, Figure 4's data and plot, and
//! a Markdown report for pull requests, in `results/<experiment>/`:
//! `difficulty.csv`, `outcomes.csv`, `fig4.json`, `fig4.svg`, `REPORT.md`.
//!
//! [`analyse`] is pure (an outcome table in, every number out); [`run`] and
//! [`write`] read the logs and write the files around it.
//!
//! Output is deterministic (no clock, sorted, fixed float formatting) so that
//! committed results diff only when the data does.

pub(crate) mod markdown;
pub(crate) mod plot;

use markdown::{escape_pipes, Align, Markdown};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::edges::experiment::CommonFlags;
use crate::study::class::Class;
use crate::study::difficulty::Difficulty;
use crate::study::fig4::{
    self, round6, Bootstrap, Bucket, CiMethod, Cluster, Curves, Design, DifficultyMode, Estimate, PairTrials, Paired,
    PairedBoot, MIN_DEFINED_SHARE, RELIABLE_BUCKET_PAIRS,
};
use crate::study::models::Models;
use crate::study::noise::{self, Noise};
use crate::study::outcome::EvalErrors;
use crate::study::run::RunLogs;
use crate::study::table::{RunOutcomes, Table};
use crate::study::verdict::{self, EvalErrorComparison, RunRate, SeedAgreement, Verdict};

use crate::engine::verify::check_names;
use crate::study::problem::Severity;
use crate::study::subset::Subset;
use crate::study::verify::{self, Report as VerifyReport};

#[derive(Debug, Clone, clap::Args)]
pub struct ReportFlags {
    #[command(flatten)]
    pub common: CommonFlags,
    /// Solo runs that define difficulty [default: the baseline and the seeds]
    #[arg(long, value_delimiter = ',', value_name = "A,B,..")]
    pub runs: Option<Vec<String>>,
    /// Coop runs, one curve each [default: coop_runs of the experiment]
    #[arg(long, value_delimiter = ',', value_name = "A,B,..")]
    pub coop_runs: Option<Vec<String>>,
    /// Solo runs whose trials make the solo curve [default: all solo runs]
    #[arg(long, value_delimiter = ',', value_name = "A,B,..")]
    pub solo_curve_runs: Option<Vec<String>>,
    /// How eval errors count
    #[arg(long, value_enum, default_value_t = EvalErrors::Exclude)]
    pub eval_errors: EvalErrors,
    /// Where a trial sits on the x axis: difficulty from the other seeds
    /// (held-out), or from all seeds as the paper did (in-sample, circular)
    #[arg(long, value_enum, default_value_t = DifficultyMode::HeldOut)]
    pub difficulty: DifficultyMode,
    /// Bootstrap replicates for the intervals
    #[arg(long, default_value_t = DEFAULT_REPLICATES, value_name = "B")]
    pub bootstrap: usize,
    /// The bootstrap's random seed (same seed, same intervals)
    #[arg(long, default_value_t = DEFAULT_BOOTSTRAP_SEED, value_name = "N")]
    pub bootstrap_seed: u64,
    /// What the bootstrap resamples
    #[arg(long, value_enum, default_value_t = Cluster::Pair)]
    pub cluster: Cluster,
    /// Target standard error of one pair's difficulty, for "seeds needed"
    #[arg(long, default_value_t = DEFAULT_DIFFICULTY_SE_TARGET, value_name = "SE")]
    pub difficulty_se_target: f64,
    /// Target standard error of the mean success rate, for "seeds needed"
    #[arg(long, default_value_t = DEFAULT_MEAN_SE_TARGET, value_name = "SE")]
    pub mean_se_target: f64,
    /// Where to write [default: results/<experiment name>/]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Leave out the pairs whose gold patch fails in `cargo xtask oracle` (named in every output)
    #[arg(long)]
    pub exclude_oracle_failures: bool,
}

impl ReportFlags {
    /// The flags' defaults, for callers that are not the command line.
    pub fn new(common: CommonFlags) -> ReportFlags {
        let o = Options::default();
        ReportFlags {
            common,
            runs: None,
            coop_runs: None,
            solo_curve_runs: None,
            eval_errors: o.eval_errors,
            difficulty: o.difficulty,
            bootstrap: o.bootstrap.replicates,
            bootstrap_seed: o.bootstrap.seed,
            cluster: o.bootstrap.cluster,
            difficulty_se_target: o.difficulty_se_target,
            mean_se_target: o.mean_se_target,
            out: None,
            exclude_oracle_failures: false,
        }
    }
}

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

impl Options {
    fn from_flags(f: &ReportFlags) -> anyhow::Result<Options> {
        for (name, v) in [("--difficulty-se-target", f.difficulty_se_target), ("--mean-se-target", f.mean_se_target)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(crate::usage(anyhow::anyhow!("{name}: {v} is not a positive number")));
            }
        }
        if f.bootstrap == 0 {
            return Err(crate::usage(anyhow::anyhow!("--bootstrap: needs at least one replicate")));
        }
        // Each replicate holds a number per statistic: past this, memory
        // (not precision) is what a larger B buys.
        if f.bootstrap > MAX_REPLICATES {
            return Err(crate::usage(anyhow::anyhow!(
                "--bootstrap: {} replicates is more than {MAX_REPLICATES}; at 10,000 the Monte Carlo error of an endpoint is already about 0.005",
                f.bootstrap
            )));
        }
        let mut seen = std::collections::BTreeSet::new();
        for r in f.solo_curve_runs.iter().flatten().chain(f.runs.iter().flatten()).chain(f.coop_runs.iter().flatten()) {
            if r.trim().is_empty() {
                return Err(crate::usage(anyhow::anyhow!("an empty run name: name each run")));
            }
        }
        for r in f.solo_curve_runs.iter().flatten() {
            if !seen.insert(r) {
                return Err(crate::usage(anyhow::anyhow!(
                    "--solo-curve-runs: `{r}` is named twice: each run counts once"
                )));
            }
        }
        Ok(Options {
            eval_errors: f.eval_errors,
            difficulty: f.difficulty,
            bootstrap: Bootstrap { replicates: f.bootstrap, seed: f.bootstrap_seed, cluster: f.cluster },
            difficulty_se_target: f.difficulty_se_target,
            mean_se_target: f.mean_se_target,
        })
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

/// The buckets a pair's difficulty can fall in, given how many valid solo
/// seeds place it (held-out: the others of each solo-curve seed; in-sample:
/// all), whether or not any pair does.
fn reachable_buckets(pairs: &[PairTrials], design: &Design) -> Vec<usize> {
    // Per placement, the valid trials of each model: every way they could
    // have failed gives a difficulty (one model: failures 0..=valid).
    let mut shapes: std::collections::BTreeSet<Vec<u32>> = std::collections::BTreeSet::new();
    let groups = design.models.iter().copied().max().map_or(1, |m| m + 1);
    let shape = |left_out: Option<usize>, p: &PairTrials| -> Vec<u32> {
        let mut v = vec![0u32; groups];
        for (i, t) in p.solo.iter().enumerate() {
            if Some(i) != left_out && t.is_some() {
                v[design.models.get(i).copied().unwrap_or(0)] += 1;
            }
        }
        v
    };
    for p in pairs {
        match design.mode {
            DifficultyMode::InSample => {
                shapes.insert(shape(None, p));
            }
            DifficultyMode::HeldOut => {
                for i in 0..p.solo.len() {
                    if design.solo_curve.get(i).copied().unwrap_or(false) {
                        shapes.insert(shape(Some(i), p));
                    }
                }
            }
        }
    }
    let mut buckets = std::collections::BTreeSet::new();
    for valid in shapes {
        let defined: Vec<u32> = valid.into_iter().filter(|v| *v > 0).collect();
        if defined.is_empty() {
            continue;
        }
        // Every combination of failures per model (small: seeds per model
        // times models; capped so that a wide study cannot blow up).
        let mut combos: Vec<Vec<u32>> = vec![Vec::new()];
        for v in &defined {
            combos = combos.into_iter().flat_map(|c| (0..=*v).map(move |f| [c.clone(), vec![f]].concat())).collect();
            if combos.len() > 100_000 {
                return (0..10).collect();
            }
        }
        for failures in combos {
            let per: Vec<Difficulty> =
                failures.iter().zip(&defined).map(|(f, v)| Difficulty { failures: *f, valid: *v }).collect();
            let d = if per.len() == 1 { per[0] } else { Difficulty::mean(&per) };
            buckets.extend(d.bucket());
        }
    }
    buckets.into_iter().collect()
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

/// Everything the files are made from.
pub struct Study {
    pub name: String,
    pub subset: Subset,
    pub solo: Vec<RunLogs>,
    pub coop: Vec<RunLogs>,
    pub solo_curve: Vec<String>,
    pub options: Options,
    /// What `--exclude-oracle-failures` left out, said in every output.
    pub excluded: Option<String>,
    /// Provenance fields allowed to differ among the difficulty runs.
    pub allow_mixed: Vec<String>,
    /// Which model each run belongs to (the arms); default: one model.
    pub models: Models,
}

pub fn run(flags: ReportFlags, ctx: &crate::Context) -> anyhow::Result<i32> {
    let exp = flags.common.load()?;
    let options = Options::from_flags(&flags)?;
    let cb = &exp.cooperbench_dir;
    crate::edges::layout::require_checkout(cb).map_err(crate::usage)?;
    let mut subset = crate::edges::layout::load_subset(cb, &exp.subset).map_err(crate::usage)?;
    let solo_names = flags.runs.clone().unwrap_or_else(|| exp.solo_runs());
    let coop_names = flags.coop_runs.clone().unwrap_or_else(|| exp.coop_runs.clone());
    let all_names: Vec<String> = solo_names.iter().chain(&coop_names).cloned().collect();
    check_names(cb, &all_names)?;
    let mut solo: Vec<RunLogs> = solo_names.iter().map(|r| RunLogs::load(cb, r)).collect();
    let mut coop: Vec<RunLogs> = coop_names.iter().map(|r| RunLogs::load(cb, r)).collect();
    let mut excluded = None;
    if flags.exclude_oracle_failures {
        let failing = crate::engine::oracle::failures(cb, &exp.oracle_base(), &subset)?;
        crate::study::oracle::exclude(&mut subset.clone(), &mut coop, &failing);
        excluded = crate::study::oracle::exclude(&mut subset, &mut solo, &failing).map(|p| p.detail);
    }
    let solo_curve = flags.solo_curve_runs.clone().unwrap_or_else(|| solo_names.clone());
    for r in &solo_curve {
        if !solo_names.contains(r) {
            return Err(crate::usage(anyhow::anyhow!(
                "--solo-curve-runs: `{r}` is not one of the solo runs {solo_names:?}"
            )));
        }
    }
    check_roles(&solo, &coop).map_err(|e| crate::usage(anyhow::anyhow!(e)))?;
    // The pooling rule first: a difficulty over runs that are not repeats
    // of one experiment is refused, naming the runs and the field. Each
    // model's runs are pooled only with themselves.
    let pooling_models = if flags.runs.is_some() { Models::default() } else { exp.models() };
    let solo_existing: Vec<String> =
        solo.iter().filter(|r| r.exists && r.setting == "solo").map(|r| r.name.clone()).collect();
    let mut mixed: Vec<String> = Vec::new();
    for model in pooling_models.names(&solo_existing) {
        let mine = pooling_models.runs_of(&model, &solo_existing);
        let pooled: Vec<crate::study::provenance::Provenance> =
            solo.iter().filter(|r| mine.contains(&r.name)).map(crate::study::provenance::Provenance::of).collect();
        mixed.extend(
            crate::study::provenance::pooling(&pooled, &exp.allow_mixed)
                .into_iter()
                .filter(|p| p.severity == crate::study::problem::Severity::Failure)
                .map(|p| p.detail),
        );
    }
    if !mixed.is_empty() {
        return Err(crate::usage(anyhow::anyhow!("not reported: {}", mixed.join("; "))));
    }
    let allow_mixed = exp.allow_mixed.clone();
    // `--runs` names runs outside the arms: they are then one model.
    let models = if flags.runs.is_some() { Models::default() } else { exp.models() };
    let study =
        Study { name: exp.name.clone(), subset, solo, coop, solo_curve, options, excluded, allow_mixed, models };
    let out = flags.out.clone().unwrap_or_else(|| ctx.root.join("results").join(&exp.name));
    let secrets = crate::edges::secrets::Secrets::load(cb, &exp.secret_names());
    let written = write_scrubbed(&study, &out, &secrets)?;
    for p in &written {
        println!("wrote {}", p.display());
    }
    Ok(0)
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

pub const FILES: [&str; 5] = ["difficulty.csv", "outcomes.csv", "fig4.json", "fig4.svg", "REPORT.md"];

/// Writes the files of [`FILES`]; returns their paths.
pub fn write(study: &Study, out: &Path) -> anyhow::Result<Vec<PathBuf>> {
    write_scrubbed(study, out, &crate::edges::secrets::Secrets::default())
}

/// [`write`], every file scrubbed of the secrets' values: an Error's
/// message can echo a key (a provider's auth error does), and REPORT.md is
/// meant to be committed.
pub fn write_scrubbed(
    study: &Study,
    out: &Path,
    secrets: &crate::edges::secrets::Secrets,
) -> anyhow::Result<Vec<PathBuf>> {
    let r = render(study)?;
    std::fs::create_dir_all(out)?;
    let mut written = Vec::new();
    let files = FILES.iter().map(|f| f.to_string()).zip([
        r.difficulty_csv,
        r.outcomes_csv,
        r.fig4_json,
        r.fig4_svg,
        r.report_md,
    ]);
    for (name, body) in files.chain(r.per_model_svg) {
        let path = out.join(&name);
        std::fs::write(&path, secrets.redact(&body))?;
        written.push(path);
    }
    Ok(written)
}

pub struct Rendered {
    /// Over several models: `fig4-<model>.svg` of each.
    pub per_model_svg: Vec<(String, String)>,
    pub difficulty_csv: String,
    pub outcomes_csv: String,
    pub fig4_json: String,
    pub fig4_svg: String,
    pub report_md: String,
}

/// The files' contents.
pub fn render(study: &Study) -> anyhow::Result<Rendered> {
    let all: Vec<RunLogs> = study.solo.iter().chain(&study.coop).cloned().collect();
    let mut check = verify::check(&study.subset, &all, study.options.eval_errors, false, &study.models);
    verify::check_pooling(&mut check, &all, &study.allow_mixed, false, &study.models);
    let table = Table::from_logs(&study.subset, &all);
    let roles = Roles {
        solo: study.solo.iter().map(|r| r.name.clone()).collect(),
        solo_curve: study.solo_curve.clone(),
        coop: study.coop.iter().map(|r| r.name.clone()).collect(),
        models: study.models.clone(),
    };
    let mut fig = analyse(&study.name, &study.subset.name, &table, &roles, &study.options);
    fig.per_model = per_model(&study.name, &study.subset.name, &table, &roles, &study.options);
    if !fig.per_model.is_empty() {
        let models: Vec<String> =
            fig.per_model.iter().map(|(m, f)| format!("{m} ({})", f.policy.difficulty_runs.join(", "))).collect();
        fig.policy.models = Some(format!(
            "difficulty over {} models: the mean over models of each model's failure rate over its own valid solo seeds (the paper's rule); held-out leaves a trial out of its own model's rate; a coop run's paired comparison is against its own model's solo seeds: {}",
            models.len(),
            models.join("; ")
        ));
        fig.warnings.push(format!(
            "this figure pools {} models: its seed-level numbers (seed agreement, noise, pass@k) treat different models' runs as seeds of one experiment, which they are not; each model's are in per_model (fig4.json) and the section \"Per model\"",
            models.len()
        ));
        // A coop run is compared with its own model's solo seeds, never
        // with another model's: its paired numbers are its model's figure's.
        for f in fig.per_model.values() {
            for c in &f.policy.coop_runs {
                if let Some(p) = f.paired_difference.get(c) {
                    fig.paired_difference.insert(c.clone(), p.clone());
                }
                if let Some(p) = f.paired_by_cluster.get(c) {
                    fig.paired_by_cluster.insert(c.clone(), p.clone());
                }
            }
        }
    }
    if !check.ok {
        fig.warnings
            .push(format!("verify found {} failure(s): the figure is built on incomplete data", check.failures()));
    }
    fig.warnings.extend(study.excluded.clone());
    // What is pooled although it differs (allowed), said with the numbers.
    fig.warnings.extend(check.problems.iter().filter(|p| p.check == "mixed_allowed").map(|p| p.detail.clone()));
    let solo_refs: Vec<&RunLogs> = study.solo.iter().collect();
    let per_pair = verify::pair_difficulties(&study.subset, &solo_refs, study.options.eval_errors, &study.models);
    let settings = settings(&roles);
    let mut title = format!("Figure 4: {} ({}, {})", study.name, study.subset.name, mode_name(fig.difficulty_mode));
    // Looked at without the text, the figure must not mislead either.
    if fig.verdict.at_floor {
        title += " - at floor: no information";
    }
    let mut per_model_svg = Vec::new();
    for (m, f) in &fig.per_model {
        let mut t = format!("Figure 4: {} ({}, {})", m, study.subset.name, mode_name(f.difficulty_mode));
        if f.verdict.at_floor {
            t += " - at floor: no information";
        }
        let mut s = vec!["solo".to_string()];
        s.extend(f.policy.coop_runs.iter().cloned());
        let svg = plot::fig4_svg(&f.buckets, &s, &t, "pair difficulty over this model's own solo seeds")?;
        per_model_svg.push((format!("fig4-{}.svg", model_slug(m)), svg));
    }
    Ok(Rendered {
        per_model_svg,
        difficulty_csv: difficulty_csv(study, &per_pair),
        outcomes_csv: table.to_csv(),
        fig4_json: serde_json::to_string_pretty(&fig)? + "\n",
        fig4_svg: plot::fig4_svg(
            &fig.buckets,
            &settings,
            &title,
            match fig.difficulty_mode {
                DifficultyMode::HeldOut => "pair difficulty d = 1 - mean solo success over the other seeds (held out)",
                DifficultyMode::InSample => "pair difficulty d = 1 - mean solo success over all seeds (in-sample)",
            },
        )?,
        report_md: report_md(&fig, &check, &settings),
    })
}

fn settings(roles: &Roles) -> Vec<String> {
    let mut s = vec!["solo".to_string()];
    s.extend(roles.coop.iter().cloned());
    s
}

fn mode_name(m: DifficultyMode) -> &'static str {
    match m {
        DifficultyMode::HeldOut => "held-out difficulty",
        DifficultyMode::InSample => "in-sample difficulty",
    }
}

/// Figure 4 and the statistics beside it, from the outcome table alone: the
/// same function for the logs (`report`) and for a committed `outcomes.csv`.
pub fn analyse(name: &str, subset: &str, table: &Table, roles: &Roles, opts: &Options) -> Fig4 {
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
    let paired_se: Vec<(String, f64)> =
        paired_by_cluster.iter().filter_map(|(run, by)| Some((run.clone(), by.get(main)?.se?))).collect();
    let power = verdict::paper_drop_power(wins as f64 / tries.max(1) as f64, &paired_se);
    let verdict = verdict::verdict(&solo_by_pair, &bucket_pairs, pairs.len() - curves.unplaced_pairs, &power);
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
    let unjudged = |r: &&RunOutcomes| RunRate {
        run: r.name.clone(),
        count: table.pairs.iter().filter(|p| r.row(p).class.trial(opts.eval_errors).is_none()).count(),
        of: table.pairs.len(),
    };
    let non_trials = verdict::non_trials(
        &solo_runs.iter().map(unjudged).collect::<Vec<_>>(),
        &coop_runs.iter().map(unjudged).collect::<Vec<_>>(),
    );
    let reachable = reachable_buckets(&pairs, &design);
    let mut warnings = figure_checks(&curves, &reachable, solo_runs.len(), eval_errors_left_out, opts.difficulty);
    warnings.extend(verdict::assumption_warnings(&seeds, &evals));
    warnings.extend(verdict::non_trial_warnings(&non_trials));
    let monte_carlo = monte_carlo(&curves, &paired_by_cluster);
    for f in &monte_carlo.fragile {
        warnings.push(format!("{f}: whether its interval excludes 0 can change with the bootstrap seed; rerun with a larger --bootstrap before reading it either way"));
    }
    let pair_ci = |e: &Estimate| e.ci_lower.zip(e.ci_upper).map(|(l, u)| [l, u]);
    Fig4 {
        experiment: name.to_string(),
        subset: subset.to_string(),
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
    }
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

/// A model's name as a file name (`openai/gpt-4o` is `openai-gpt-4o`).
pub fn model_slug(model: &str) -> String {
    model.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '_' { c } else { '-' }).collect()
}

/// The study in numbers from an outcome table alone (a committed
/// `outcomes.csv`): `verify`'s counts, the pair overlap and the difficulty
/// distribution, with the same functions `verify` uses, and Figure 4's
/// numbers from [`analyse`]. Solo and coop runs come from the table's
/// `setting` column; every solo run defines difficulty and draws the curve.
#[derive(Debug, Clone, Serialize)]
pub struct TableSummary {
    pub pairs: usize,
    pub runs: Vec<RunCounts>,
    pub overlap: verify::Overlap,
    pub difficulty: crate::study::difficulty::Distribution,
    /// `fig4.json` without its policy texts.
    pub figure4: serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunCounts {
    pub run: String,
    pub setting: String,
    #[serde(flatten)]
    pub counts: crate::study::table::Counts,
}

pub fn summarise(name: &str, subset: &str, table: &Table, opts: &Options) -> TableSummary {
    let runs = table
        .runs
        .iter()
        .map(|r| RunCounts {
            run: r.name.clone(),
            setting: r.setting.clone(),
            counts: crate::study::table::Counts::of(r.rows.values()),
        })
        .collect();
    let sets: Vec<(&str, std::collections::BTreeSet<&crate::study::pair::PairId>)> =
        table.runs.iter().map(|r| (r.name.as_str(), r.present())).collect();
    let overlap = verify::overlap(&sets, &mut Vec::new());
    let of = |setting: &str| -> Vec<String> {
        table.runs.iter().filter(|r| r.setting == setting).map(|r| r.name.clone()).collect()
    };
    // outcomes.csv names no model: its runs are read as one model's.
    let roles = Roles { solo: of("solo"), solo_curve: of("solo"), coop: of("coop"), models: Models::default() };
    let solo: Vec<&RunOutcomes> = roles.solo.iter().filter_map(|r| table.run(r)).collect();
    let values: Vec<crate::study::difficulty::Difficulty> = table
        .pairs
        .iter()
        .map(|p| {
            let classes: Vec<Class> = solo.iter().map(|r| r.row(p).class).collect();
            crate::study::difficulty::Difficulty::from_classes(&classes, opts.eval_errors)
        })
        .collect();
    let mut figure4 = serde_json::to_value(analyse(name, subset, table, &roles, opts)).expect("Fig4 is JSON");
    if let Some(m) = figure4.as_object_mut() {
        m.remove("policy");
    }
    TableSummary {
        pairs: table.pairs.len(),
        runs,
        overlap,
        difficulty: crate::study::difficulty::distribution(&values),
        figure4,
    }
}

/// What a reviewer would object to in the figure, one line each.
fn figure_checks(
    c: &Curves,
    reachable: &[usize],
    solo_runs: usize,
    eval_errors_left_out: usize,
    mode: DifficultyMode,
) -> Vec<String> {
    let mut w = Vec::new();
    if mode == DifficultyMode::InSample {
        w.push("in-sample difficulty: the solo curve is drawn by the seeds that define difficulty, so it falls from 1 to 0 by construction".into());
    }
    let populated: Vec<&Bucket> = c.buckets.iter().filter(|b| b.pairs > 0).collect();
    // A design reaches only some buckets (two held-out seeds: 0, 5 and 9);
    // only buckets it could reach and did not are worth a warning.
    let missed: Vec<String> = reachable.iter().filter(|b| c.buckets[**b].pairs == 0).map(|b| b.to_string()).collect();
    if !missed.is_empty() {
        w.push(format!(
            "{} of the {} buckets these seeds can reach are populated; empty: {}",
            reachable.len() - missed.len(),
            reachable.len(),
            missed.join(", ")
        ));
    }
    if populated.len() < 3 {
        w.push(format!("only {} bucket(s) populated: fewer than three points make no curve", populated.len()));
    }
    for b in &populated {
        if b.pairs < RELIABLE_BUCKET_PAIRS {
            w.push(format!("bucket {} holds {} pair(s) (fewer than five): its rate is unreliable", b.bucket, b.pairs));
        }
    }
    for s in &c.settings {
        let points: Vec<(usize, f64, f64)> = c
            .buckets
            .iter()
            .filter_map(|b| b.settings.get(s).and_then(|x| x.rate.map(|r| (b.bucket, r, x.ci_upper))))
            .collect();
        for win in points.windows(2) {
            let ((b0, _, up0), (b1, r1, _)) = (win[0], win[1]);
            if r1 > up0 {
                w.push(format!("{s}: success rises from bucket {b0} to bucket {b1} beyond bucket {b0}'s interval ({r1:.3} > {up0:.3})"));
            }
        }
    }
    if c.grid.len() < 2 {
        w.push(format!("the curves share {} populated bucket(s): no AUC or retention", c.grid.len()));
    }
    for (run, r) in &c.retention {
        if let Some(v) = r.value {
            if !(0.0..=1.5).contains(&v) {
                w.push(format!("{run}: retention {v:.3} is outside [0, 1.5]"));
            }
        }
    }
    for (run, d) in &c.auc_difference {
        if d.spans_zero() {
            w.push(format!("{run}: the interval of AUC minus solo AUC spans 0: the curves cannot be told apart"));
        }
    }
    for (run, p) in &c.paired {
        if matches!((p.ci_lower, p.ci_upper), (Some(l), Some(u)) if l <= 0.0 && u >= 0.0) {
            w.push(format!("{run}: the interval of the paired difference spans 0"));
        }
    }
    w.extend(interval_checks(c));
    if solo_runs < 3 {
        w.push(format!("difficulty from {solo_runs} solo run(s): values are coarse"));
    }
    if c.unplaced_pairs > 0 {
        w.push(format!("{} pair(s) have no valid solo seed to place them by and are left out", c.unplaced_pairs));
    }
    if eval_errors_left_out > 0 {
        w.push(format!("{eval_errors_left_out} trial(s) left out for eval errors"));
    }
    w
}

type PairRow = (crate::study::pair::PairId, Vec<Class>, crate::study::difficulty::Difficulty);

fn difficulty_csv(study: &Study, per_pair: &[PairRow]) -> String {
    let mut o = String::from("pair,valid_seeds,passes,difficulty,difficulty_value,bucket");
    for r in &study.solo {
        o += &format!(",{}", r.name);
    }
    o.push('\n');
    for (pair, outcomes, d) in per_pair {
        let value = d.value().map(|v| format!("{v:.6}")).unwrap_or_default();
        let bucket = d.bucket().map(|b| b.to_string()).unwrap_or_default();
        let _ = write!(o, "{pair},{},{},{},{value},{bucket}", d.valid, d.passes(), d.fraction());
        for x in outcomes {
            let _ = write!(o, ",{}", x.name());
        }
        o.push('\n');
    }
    o
}

/// Intervals that cannot be read as 95% intervals, one line each: a
/// statistic some bootstrap replicates leave undefined has none at all, and
/// a zero-width one comes from replicates that all agree, not from a
/// measured uncertainty.
fn interval_checks(c: &Curves) -> Vec<String> {
    let mut w = Vec::new();
    let mut named: Vec<(String, &Estimate)> = Vec::new();
    for (s, e) in &c.auc {
        named.push((format!("{s}: AUC"), e));
    }
    for (run, e) in &c.retention {
        named.push((format!("{run}: retention"), e));
    }
    for (run, e) in &c.auc_difference {
        named.push((format!("{run}: AUC minus solo AUC"), e));
    }
    for (what, e) in named {
        if e.value.is_none() {
            continue;
        }
        if let Some(why) = &e.ci_withheld {
            w.push(format!("{what}: no interval: {why}"));
            continue;
        }
        match (e.ci_lower, e.ci_upper) {
            (Some(l), Some(u)) if l == u => w.push(format!(
                "{what}: its interval has zero width ([{l:.3}, {u:.3}]): every replicate gave the same value, which measures no uncertainty"
            )),
            (Some(_), Some(_)) => {}
            _ => w.push(format!("{what}: no interval: {}", undefined_in(e.ci_defined_share))),
        }
    }
    for (run, p) in &c.paired {
        match &p.ci_withheld {
            Some(why) => w.push(format!("{run}: paired difference: no interval: {why}")),
            None if p.mean.is_some() && p.ci_lower.is_none() => {
                w.push(format!("{run}: paired difference: no interval: {}", undefined_in(p.ci_defined_share)))
            }
            None => {}
        }
    }
    for b in &c.buckets {
        for (s, cell) in &b.settings {
            if cell.ci_method == CiMethod::ExactOneSided {
                continue;
            }
            if cell.rate.is_some() && cell.ci_defined_share < MIN_DEFINED_SHARE {
                w.push(format!("{s}: bucket {}: no interval: {}", b.bucket, undefined_in(cell.ci_defined_share)));
            } else if cell.rate.is_some() && cell.ci_lower == cell.ci_upper {
                w.push(format!(
                    "{s}: bucket {}: its interval has zero width ([{:.3}, {:.3}]): every replicate gave the same rate",
                    b.bucket, cell.ci_lower, cell.ci_upper
                ));
            }
        }
    }
    w
}

/// Why a statistic has no interval: the share of replicates that define it.
fn undefined_in(share: f64) -> String {
    format!(
        "defined in {:.1}% of the bootstrap replicates, and an interval needs {:.0}%",
        share * 100.0,
        MIN_DEFINED_SHARE * 100.0
    )
}

/// A paired difference's interval, or why there is none.
fn paired_ci(b: &PairedBoot) -> String {
    match (&b.ci_withheld, b.exact_p_value) {
        (Some(_), Some(p)) => format!("[n/a: excludes 0, the exact test does not (p {p:.3})]"),
        _ => ci(b.ci_lower, b.ci_upper, b.ci_defined_share),
    }
}

/// How far another bootstrap seed would move the printed endpoints.
fn monte_carlo_text(mc: &MonteCarlo, replicates: usize) -> String {
    let (Some(e), Some(at)) = (mc.largest_error, &mc.largest_at) else {
        return "No bootstrap interval was made, so there is no Monte Carlo error to state.".to_string();
    };
    let mut t =
        format!("Monte Carlo error of the bootstrap endpoints ({replicates} replicates): at most {e:.4} ({at}). ");
    t += &if mc.above_precision.is_empty() {
        format!("That is under the printed precision of {PRINTED_PRECISION}: another bootstrap seed would not change the printed digits, save by rounding.")
    } else if e < 10.0 * PRINTED_PRECISION {
        format!(
            "{} of the intervals have an error at or above the printed precision of {PRINTED_PRECISION}: read their endpoints to two decimals; another bootstrap seed moves the third (fig4.json names them, with each error).",
            mc.above_precision.len()
        )
    } else {
        format!(
            "{} of the intervals have an error at or above the printed precision of {PRINTED_PRECISION}, and the largest moves the second decimal: rerun with a larger `--bootstrap` before reading it closely (fig4.json names them, with each error).",
            mc.above_precision.len()
        )
    };
    if !mc.fragile.is_empty() {
        t += &format!(
            " Near 0, within two Monte Carlo errors, so that another seed could flip whether it excludes 0: {}.",
            mc.fragile.join("; ")
        );
    }
    t
}

/// `(lo, hi)`, or why the paper's interval is not given for this cell.
fn wilson_text(lo: Option<f64>, hi: Option<f64>) -> String {
    match (lo, hi) {
        (Some(l), Some(h)) => format!("({l:.3}, {h:.3})"),
        _ => "(Wilson n/a: weighted trials)".into(),
    }
}

fn opt(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.3}")).unwrap_or_else(|| "n/a".into())
}

/// `[lo, hi]`, with the share of replicates behind it when some lacked the
/// statistic, or why there is none (`[n/a: defined in 63.0% of replicates]`).
fn ci(lo: Option<f64>, hi: Option<f64>, share: f64) -> String {
    let part = if share < 1.0 { format!(" in {:.2}% of replicates", share * 100.0) } else { String::new() };
    match (lo, hi) {
        (Some(l), Some(h)) if l == h => format!("[{l:.3}, {h:.3}: zero width{part}]"),
        (Some(l), Some(h)) => format!("[{l:.3}, {h:.3}{part}]"),
        _ if share < 1.0 => format!("[n/a: defined in {:.1}% of replicates]", share * 100.0),
        _ => "[n/a]".into(),
    }
}

/// A weighted count: whole numbers as they are, fractions (held-out coop
/// trials weigh 1/K) with two decimals.
fn count(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x}")
    } else {
        format!("{x:.2}")
    }
}

/// REPORT.md, section by section: what reviewers read in a pull request.
fn report_md(fig: &Fig4, check: &VerifyReport, settings: &[String]) -> String {
    let mut m = Markdown::default();
    m.heading(1, &format!("{}: difficulty and Figure 4", fig.experiment));
    if let Some(models) = &fig.policy.models {
        m.para(&format!("Over several models: {models}."));
    }
    m.para(&format!(
        "Subset `{}` ({} tasks, {} pairs). Difficulty from {} solo run(s): {}. Solo curve from: {}. Coop curves: {}.",
        check.subset.name,
        check.subset.tasks,
        check.subset.pair_count,
        fig.policy.difficulty_runs.len(),
        names(&fig.policy.difficulty_runs),
        names(&fig.policy.solo_curve_runs),
        names(&fig.policy.coop_runs),
    ));
    // What the data can show, then the headline (the paired difference),
    // then where it comes from; AUC and retention, demoted, after the
    // figure they summarise.
    verdict_section(&mut m, fig);
    paired_section(&mut m, fig);
    runs_section(&mut m, fig, check);
    distribution_section(&mut m, check);
    figure_section(&mut m, fig, settings);
    auc_section(&mut m, fig, settings);
    per_model_section(&mut m, fig);
    reference_section(&mut m, !fig.per_model.is_empty());
    noise_section(&mut m, fig);
    per_repo_section(&mut m, fig, settings);
    assumptions_section(&mut m, fig);
    m.para(&format!(
        "Policy: each (run, pair) has one class, and the class decides: pass is a success; fail, limits (LimitsExceeded), model_context, empty_patch and fail_no_tests are failures (the model's); agent errors, the infra_* classes and pairs not run or evaluated are left out (the machine's, or not yet); eval errors (eval_infra, eval_timeout, eval_grader_limit) are {} ({} trial(s) left out); coop status is the worst of its agents.",
        match fig.policy.eval_errors {
            EvalErrors::Exclude => "left out",
            EvalErrors::Fail => "failures",
        },
        fig.policy.eval_errors_left_out
    ));
    warnings_section(&mut m, fig, check);
    m.finish()
}

fn names(v: &[String]) -> String {
    if v.is_empty() {
        "none".to_string()
    } else {
        v.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", ")
    }
}

fn verdict_section(m: &mut Markdown, fig: &Fig4) {
    m.heading(2, "What the data can show");
    m.para(&fig.verdict.text);
    m.bullets(&fig.verdict.rules);
}

fn assumptions_section(m: &mut Markdown, fig: &Fig4) {
    let a = &fig.assumptions;
    m.heading(2, "Assumptions");
    let seeds = &a.solo_seeds;
    let rates: Vec<String> = seeds.per_run.iter().map(|r| format!("`{}` {}/{}", r.run, r.count, r.of)).collect();
    m.para(&format!(
        "Solo seeds as repeats of one experiment, on the {} pairs every seed judged: {}; Cochran's Q {} (p {}). A small p says the seeds differ more than chance allows.",
        seeds.pairs,
        if rates.is_empty() { "none".to_string() } else { rates.join(", ") },
        opt(seeds.cochran_q),
        opt(seeds.p_value)
    ));
    let rows: Vec<Vec<String>> = seeds
        .success
        .iter()
        .map(|r| {
            vec![
                format!("`{}`", r.run),
                format!("{}/{} = {}", r.successes, r.trials, opt(r.rate)),
                r.tasks.to_string(),
                match (r.ci_lower, r.ci_upper) {
                    (Some(l), Some(u)) => format!("[{l:.3}, {u:.3}]"),
                    _ => "[n/a]".into(),
                },
            ]
        })
        .collect();
    m.para("Each solo run's success rate over all its trials, with a 95% interval clustered by task (pairs of one task share a repository state; Wald on the cluster-robust standard error, or at 0/n and n/n the exact one-sided bound with one trial per task):");
    m.table(
        &[("solo run", Align::Left), ("success", Align::Left), ("tasks", Align::Right), ("by task [95%]", Align::Left)],
        &rows,
    );
    let rows: Vec<Vec<String>> = a
        .eval_errors
        .per_run
        .iter()
        .map(|r| {
            let p = a.eval_errors.coop_vs_solo_p.iter().find(|(c, _)| c == &r.run).map(|(_, p)| format!("{p:.4}"));
            vec![format!("`{}`", r.run), format!("{}/{}", r.count, r.of), p.unwrap_or_else(|| "-".into())]
        })
        .collect();
    m.para("Eval errors are left out of every rate (unless `--eval-errors fail`): each coop run's share against the solo runs' pooled share, by Fisher's exact test.");
    m.table(&[("run", Align::Left), ("eval errors", Align::Right), ("Fisher p against solo", Align::Right)], &rows);
    let n = &a.non_trials;
    let rows: Vec<Vec<String>> = n
        .per_run
        .iter()
        .map(|r| {
            let p = n.vs_solo_p.iter().find(|(c, _)| c == &r.run).map(|(_, p)| format!("{p:.4}"));
            vec![format!("`{}`", r.run), format!("{}/{}", r.count, r.of), p.unwrap_or_else(|| "-".into())]
        })
        .collect();
    m.para("Pairs with no trial (the machine's outcomes, or not yet run or evaluated) leave every rate; where their share differs between runs, the rates are over different pairs. Each run against the other solo runs, by Fisher's exact test:");
    m.table(
        &[("run", Align::Left), ("not judged", Align::Right), ("Fisher p against the other solo runs", Align::Right)],
        &rows,
    );
}

fn runs_section(m: &mut Markdown, fig: &Fig4, check: &VerifyReport) {
    m.heading(2, "Runs");
    // What made each run, never guessed: a field no file states is unknown.
    if !check.provenance.is_empty() {
        m.para("What made each run (and whence: the harness's manifest, the CLI's config.json, what every result says, or unknown). Runs that define difficulty must agree on all of it, unless the experiment's `allow_mixed` lists the field (then a warning below says what is pooled).");
        let rows: Vec<Vec<String>> = check
            .provenance
            .iter()
            .map(|p| {
                vec![
                    format!("`{}`", p.run),
                    escape_pipes(&p.model.shown()),
                    escape_pipes(&p.agent.shown()),
                    escape_pipes(&p.cli_version.shown()),
                    escape_pipes(&p.backend.shown()),
                    escape_pipes(&p.agent_config.shown()),
                ]
            })
            .collect();
        let cols = [
            ("run", Align::Left),
            ("model", Align::Left),
            ("agent", Align::Left),
            ("cooperbench", Align::Left),
            ("backend", Align::Left),
            ("agent config", Align::Left),
        ];
        m.table(&cols, &rows);
    }
    m.para("Every rate twice: over the pairs the model was judged on (a trial: pass, fail, limits, model_context, empty_patch, fail_no_tests), and over all the subset's pairs. The others are the machine's outcomes or not yet done, by class (`cargo xtask triage RUN` tells each pair).");
    let rows: Vec<Vec<String>> = check
        .runs
        .iter()
        .map(|s| {
            let count = |c: &Class| s.class_pairs.get(c).map_or(0, |p| p.len());
            let trials: Vec<(Class, usize)> = s.class_pairs.keys().map(|c| (*c, count(c))).collect();
            let judged: usize =
                trials.iter().filter(|(c, _)| c.trial(fig.policy.eval_errors).is_some()).map(|(_, n)| n).sum();
            let passed = count(&Class::Pass);
            let not: Vec<String> = trials
                .iter()
                .filter(|(c, _)| c.trial(fig.policy.eval_errors).is_none())
                .map(|(c, n)| format!("{} {n}", c.name()))
                .collect();
            let pct = |k: usize, n: usize| {
                if n > 0 {
                    format!("{:.1}%", 100.0 * k as f64 / n as f64)
                } else {
                    "n/a".into()
                }
            };
            vec![
                format!("`{}`", s.name),
                s.setting.clone(),
                format!("{}/{}", s.counts.results, s.expected),
                judged.to_string(),
                if not.is_empty() { "0".into() } else { not.join(", ") },
                passed.to_string(),
                format!("{} of judged", pct(passed, judged)),
                format!("{} of all", pct(passed, s.expected)),
                format!("${:.2}", s.counts.cost_usd),
            ]
        })
        .collect();
    let r = Align::Right;
    m.table(
        &[
            ("run", Align::Left),
            ("setting", Align::Left),
            ("results", r),
            ("judged", r),
            ("not judged", Align::Left),
            ("passed", r),
            ("pass rate", r),
            ("over all pairs", r),
            ("cost", r),
        ],
        &rows,
    );
}

fn distribution_section(m: &mut Markdown, check: &VerifyReport) {
    m.heading(2, "Difficulty distribution");
    m.para("A pair's difficulty is the share of its valid solo seeds that failed (all solo runs above).");
    let mut rows: Vec<Vec<String>> = check
        .difficulty
        .distribution
        .iter()
        .map(|e| vec![format!("{} ({:.3})", e.difficulty, e.value), e.pairs.to_string()])
        .collect();
    rows.push(vec!["undefined".into(), check.difficulty.undefined_pairs.to_string()]);
    m.table(&[("difficulty", Align::Left), ("pairs", Align::Right)], &rows);
}

fn figure_section(m: &mut Markdown, fig: &Fig4, settings: &[String]) {
    m.heading(2, &format!("Figure 4 ({})", mode_name(fig.difficulty_mode)));
    m.para("![Figure 4: success rate against difficulty](fig4.svg)");
    m.para(match fig.difficulty_mode {
        DifficultyMode::HeldOut => "Each solo trial is placed by its pair's difficulty over the *other* solo seeds, so no trial is judged by a difficulty it helped define; each coop trial is placed at each of those held-out difficulties with weight 1/K (K solo seeds), so both settings share one estimator and one grid (this is why coop counts can be fractions). A pair is placed once per held-out difficulty, so it can sit in up to K buckets and the `pairs` column sums to more than the pairs. A difficulty from K - 1 seeds is noisy, which pulls both curves toward the middle (regression to the mean: an easy pair placed as hard still often passes), so held-out curves are flatter than the paper's in-sample ones and are not to be laid over its figure.",
        DifficultyMode::InSample => "**In-sample (the paper's construction): the seeds that define a pair's difficulty also draw the solo curve, so the solo curve falls from 1 to 0 by construction and retention is measured against a circular baseline.** `--difficulty held-out` (the default) avoids this.",
    });
    m.para(&format!(
        "Cells read `successes/trials = rate [bootstrap 95%] (Wilson 95%)`. The bootstrap resamples whole {}s with all their seeds ({} replicates, seed {}); Wilson treats every trial as independent, as the paper did, and is too narrow because seeds of one pair are alike; it is not given for cells of weighted (held-out coop) trials. A bootstrap interval is shown only where at least 95% of the replicates define the statistic (with the share when it is not all of them); elsewhere `n/a` says how many did. A cell at 0/n or n/n has no spread for the bootstrap to find: it gets the exact one-sided 95% bound instead, on its effective trials (Kish's n of its weights over the design effect 1 + (m - 1) rho of its m trials per {}, rho {}).",
        fig.bootstrap.cluster.name(),
        fig.bootstrap.replicates,
        fig.bootstrap.seed,
        fig.bootstrap.cluster.name(),
        match fig.bootstrap.cluster {
            Cluster::Pair => format!("= the solo seeds' intra-class correlation, {}", opt(fig.noise.icc)),
            Cluster::Task => "= 1: one trial per task, as no within-task correlation is estimated".to_string(),
        }
    ));
    let reach: Vec<String> = fig.reachable_buckets.iter().map(|b| b.to_string()).collect();
    if fig.reachable_buckets.len() < 10 {
        m.para(&format!(
            "With these seeds a difficulty can take only a few values, so only buckets {} can hold pairs at all (more seeds reach more); the others are empty by design, not for want of data.",
            reach.join(", ")
        ));
    }
    m.para(&monte_carlo_text(&fig.monte_carlo, fig.bootstrap.replicates));
    let mut columns = vec![("bucket", Align::Right), ("centre", Align::Right), ("pairs", Align::Right)];
    columns.extend(settings.iter().map(|s| (s.as_str(), Align::Left)));
    let rows: Vec<Vec<String>> = fig
        .buckets
        .iter()
        .map(|b| {
            let mut row = vec![b.bucket.to_string(), format!("{:.2}", b.center), b.pairs.to_string()];
            row.extend(settings.iter().map(|s| {
                let c = &b.settings[s];
                match c.rate {
                    Some(r) => {
                        let interval = match (c.ci_method, c.effective_trials) {
                            (CiMethod::ExactOneSided, Some(n)) => format!(
                                "[{:.3}, {:.3}: exact one-sided, {n:.1} effective trials]",
                                c.ci_lower, c.ci_upper
                            ),
                            (CiMethod::Bootstrap, _) => ci(Some(c.ci_lower), Some(c.ci_upper), c.ci_defined_share),
                            _ => ci(None, None, c.ci_defined_share),
                        };
                        format!(
                            "{}/{} = {r:.3} {interval} {}",
                            count(c.successes),
                            count(c.trials),
                            wilson_text(c.wilson_lower, c.wilson_upper)
                        )
                    }
                    None => "empty".to_string(),
                }
            }));
            row
        })
        .collect();
    m.table(&columns, &rows);
}

/// The paper's Table 5 (CooperBench, arXiv 2601.13295), as quoted in
/// issue #21: per model, AUC of the solo and coop curves, and pooled.
/// A labelled reference only: other models, a difficulty that is the mean
/// over five models, and its own seeds; never mixed into our numbers.
const PAPER_TABLE_5: [(&str, f64, f64); 6] = [
    ("GPT-5", 0.506, 0.325),
    ("Claude Sonnet 4.5", 0.469, 0.283),
    ("MiniMax-M2", 0.374, 0.171),
    ("Qwen3-Coder", 0.236, 0.148),
    ("Qwen3", 0.106, 0.072),
    ("pooled over the five", 0.338, 0.200),
];

fn reference_section(m: &mut Markdown, several_models: bool) {
    m.heading(2, "Reference: the paper's Table 5 (not our data)");
    m.para(&format!("For orientation only, never compared as if one experiment: the paper's models are not ours, its difficulty is the mean over its five models of each model's solo success ({}), and its curves come from its own runs. Retention is coop AUC / solo AUC.", if several_models { "ours is the same rule over our models, with our seeds" } else { "ours is one model's seeds" }));
    let rows: Vec<Vec<String>> = PAPER_TABLE_5
        .iter()
        .map(|(model, solo, coop)| {
            vec![model.to_string(), format!("{solo:.3}"), format!("{coop:.3}"), format!("{:.2}", coop / solo)]
        })
        .collect();
    m.table(
        &[
            ("model (paper)", Align::Left),
            ("AUC solo", Align::Right),
            ("AUC coop", Align::Right),
            ("retention", Align::Right),
        ],
        &rows,
    );
}

/// The AUC grid's buckets with fewer than [`RELIABLE_BUCKET_PAIRS`] pairs
/// (bucket, pairs): where there are any, no AUC or retention is given.
fn thin_grid(f: &Fig4) -> Vec<(usize, usize)> {
    f.auc_grid
        .iter()
        .filter(|b| f.buckets[**b].pairs < RELIABLE_BUCKET_PAIRS)
        .map(|b| (*b, f.buckets[*b].pairs))
        .collect()
}

/// Over several models: each model's own figure in one table (its AUCs on
/// its own grid, its bucket rates), and the pooled rule said first.
fn per_model_section(m: &mut Markdown, fig: &Fig4) {
    if fig.per_model.is_empty() {
        return;
    }
    m.heading(2, "Per model");
    m.para(&format!(
        "The figure above pools {} models by the paper's rule: a pair's difficulty is the mean over models of each model's failure rate over its own valid solo seeds; each model's runs are pooled only with themselves. Below, each model's own figure (fig4-<model>.svg; per_model in fig4.json): its solo runs define its difficulty ({}) and draw its solo curve; its coop runs draw its coop curves. Seeds of one model are repeats; runs of two models are not.",
        fig.per_model.len(),
        mode_name(fig.difficulty_mode)
    ));
    let mut rows = Vec::new();
    for (model, f) in &fig.per_model {
        // The rules of "Area under the curves", per model: at floor, or on
        // a grid of thin buckets, there is no AUC to give.
        let thin: Vec<String> = thin_grid(f).iter().map(|(b, n)| format!("b{b}: {n}")).collect();
        let auc = |k: &str| match (f.verdict.at_floor, f.auc.get(k).copied().flatten()) {
            (true, _) => "at floor".to_string(),
            _ if !thin.is_empty() => {
                format!("n/a: grid buckets under {RELIABLE_BUCKET_PAIRS} pairs ({})", thin.join(", "))
            }
            (false, Some(v)) => {
                let c = f.auc_ci.get(k).copied().flatten();
                format!("{v:.3} {}", c.map(|[l, u]| format!("[{l:.3}, {u:.3}]")).unwrap_or_else(|| "[n/a]".into()))
            }
            (false, None) => "n/a".into(),
        };
        let coop: Vec<String> = f
            .policy
            .coop_runs
            .iter()
            .map(|c| {
                let ret = match (f.verdict.at_floor, f.retention.get(c).copied().flatten()) {
                    (true, _) => "at floor".to_string(),
                    _ if !thin.is_empty() => "n/a".to_string(),
                    (false, Some(r)) => format!("{r:.2}"),
                    (false, None) => "n/a".into(),
                };
                format!("{c}: AUC {}, retention {ret}", auc(c))
            })
            .collect();
        rows.push(vec![
            model.clone(),
            names(&f.policy.difficulty_runs),
            auc("solo"),
            if coop.is_empty() { "none".into() } else { coop.join("; ") },
        ]);
    }
    m.table(
        &[
            ("model", Align::Left),
            ("solo runs", Align::Left),
            ("AUC solo [95% CI]", Align::Right),
            ("coop", Align::Left),
        ],
        &rows,
    );
    let mut header = vec![("model".to_string(), Align::Left)];
    header.extend((0..10).map(|b| (format!("b{b}"), Align::Right)));
    let rows: Vec<Vec<String>> = fig
        .per_model
        .iter()
        .map(|(model, f)| {
            let mut r = vec![model.clone()];
            r.extend(f.buckets.iter().map(|b| match b.settings.get("solo") {
                Some(c) if c.trials > 0.0 => format!("{}/{}", count(c.successes), count(c.trials)),
                _ => "-".into(),
            }));
            r
        })
        .collect();
    m.para("Solo successes / trials per bucket of each model's own difficulty:");
    let header: Vec<(&str, Align)> = header.iter().map(|(h, a)| (h.as_str(), *a)).collect();
    m.table(&header, &rows);
}

fn auc_section(m: &mut Markdown, fig: &Fig4, settings: &[String]) {
    m.heading(2, "Area under the curves");
    if fig.verdict.at_floor {
        m.para("At floor (see \"What the data can show\"): AUC and retention carry no information and are not given here; fig4.json keeps the numbers the rules were applied to.");
        return;
    }
    let thin: Vec<String> = thin_grid(fig).iter().map(|(b, n)| format!("{b} ({n} pairs)")).collect();
    if !thin.is_empty() {
        m.para(&format!(
            "The AUC grid rests on buckets with fewer than {RELIABLE_BUCKET_PAIRS} pairs ({}): AUC and retention would be carried by a handful of pairs and are not given here; fig4.json keeps them.",
            thin.join(", ")
        ));
        return;
    }
    let grid: Vec<String> = fig.auc_grid.iter().map(|b| b.to_string()).collect();
    m.para(&format!(
        "Every AUC is taken over the same grid, the buckets that every curve populates: {} (trapezoids over their centres). Retention is coop AUC over solo AUC on that grid; the difference is coop AUC minus solo AUC.",
        if grid.is_empty() { "none".to_string() } else { grid.join(", ") }
    ));
    let rows: Vec<Vec<String>> = settings
        .iter()
        .map(|s| {
            let auc_ci = fig.auc_ci[s];
            let (diff, ret) = match (fig.auc_difference.get(s), fig.retention.get(s)) {
                (Some(d), Some(r)) => {
                    let rc = fig.retention_ci[s];
                    let withheld = |w: Option<&String>, text: String| match w {
                        Some(_) => "[n/a: excludes no effect, the exact test does not]".to_string(),
                        None => text,
                    };
                    (
                        format!(
                            "{} {}",
                            opt(d.value),
                            withheld(d.ci_withheld.as_ref(), ci(d.ci_lower, d.ci_upper, d.ci_defined_share))
                        ),
                        format!(
                            "{} {}",
                            opt(*r),
                            withheld(
                                fig.retention_ci_withheld.get(s).and_then(|w| w.as_ref()),
                                ci(rc.map(|c| c[0]), rc.map(|c| c[1]), fig.retention_ci_defined_share[s])
                            )
                        ),
                    )
                }
                _ => ("-".into(), "-".into()),
            };
            vec![
                s.clone(),
                format!(
                    "{} {}",
                    opt(fig.auc[s]),
                    ci(auc_ci.map(|c| c[0]), auc_ci.map(|c| c[1]), fig.auc_ci_defined_share[s])
                ),
                diff,
                ret,
            ]
        })
        .collect();
    let l = Align::Left;
    m.table(&[("setting", l), ("AUC [95%]", l), ("minus solo [95%]", l), ("retention [95%]", l)], &rows);
}

fn paired_section(m: &mut Markdown, fig: &Fig4) {
    if fig.paired_difference.is_empty() {
        return;
    }
    m.heading(2, "Paired comparison");
    let main = fig.bootstrap.cluster.name();
    m.para(&format!("The headline comparison. On the pairs both settings ran: the mean over pairs of (coop success minus the pair's solo success rate), with its bootstrap interval resampling whole pairs and whole tasks (the two can disagree: a difference that holds by pair but not by task rests on a few tasks); the p-value and the smallest difference this design detects at 80% power (two-sided 5%: 2.80 standard errors) are from the {main}-clustered bootstrap. \"solo only\" is the number of pairs where one solo seed, drawn at random, passed and coop failed, \"coop only\" the reverse: one seed against the one coop trial, so K seeds are not K chances."));
    let rows: Vec<Vec<String>> = fig
        .paired_difference
        .iter()
        .map(|(run, p)| {
            let by = |c: &str| fig.paired_by_cluster.get(run).and_then(|m| m.get(c));
            let range = |c: &str| by(c).map(paired_ci).unwrap_or_default();
            let m = by(main);
            vec![
                format!("`{run}`"),
                p.pairs.to_string(),
                opt(p.mean),
                range("pair"),
                range("task"),
                opt(m.and_then(|b| b.p_value)),
                opt(m.and_then(|b| b.mde_80)),
                format!("{:.2}", p.solo_only),
                format!("{:.2}", p.coop_only),
                opt(p.solo_rate_correlation),
                opt(p.exact_p_value),
            ]
        })
        .collect();
    let (l, r) = (Align::Left, Align::Right);
    m.table(
        &[
            ("coop run", l),
            ("pairs", r),
            ("mean difference", r),
            ("by pair [95%]", l),
            ("by task [95%]", l),
            ("p", r),
            ("detectable at 80%", r),
            ("solo only (per seed)", r),
            ("coop only (per seed)", r),
            ("r", r),
            ("exact p", r),
        ],
        &rows,
    );
    if let Some(sens) = &fig.eval_error_sensitivity {
        m.para(&format!(
            "{} trial(s) were left out for eval errors. With every eval error a failure instead (`--eval-errors fail`), the solo-curve rate is {}/{} = {} and the paired difference ({}-clustered) becomes:",
            fig.policy.eval_errors_left_out,
            sens.solo_curve_rate.successes,
            sens.solo_curve_rate.trials,
            opt(sens.solo_curve_rate.rate),
            main
        ));
        let rows: Vec<Vec<String>> = sens
            .paired_difference
            .iter()
            .map(|(run, b)| {
                let left_out = fig.paired_difference.get(run).and_then(|p| p.mean);
                vec![format!("`{run}`"), opt(left_out), opt(b.mean), paired_ci(b), opt(b.p_value)]
            })
            .collect();
        m.table(
            &[("coop run", l), ("left out (default)", r), ("as failures", r), ("as failures [95%]", l), ("p", r)],
            &rows,
        );
    }
}

fn noise_section(m: &mut Markdown, fig: &Fig4) {
    let n = &fig.noise;
    m.heading(2, "Noise, and what the next study needs");
    m.para("From the solo seeds of every pair (0/1 outcomes, one-way analysis of variance over pairs).");
    m.bullets(&[
        format!(
            "Pooled solo success rate {}: its standard error clustered by pair {}, against {} if every trial were independent; design effect {} (trials of this study per independent trial).",
            opt(n.solo_rate),
            opt(n.se_solo_rate),
            opt(n.se_solo_rate_independent),
            opt(n.design_effect)
        ),
        format!(
            "Pairwise disagreement {}: the chance that two seeds of one pair, drawn at random, disagree (it does not depend on how many seeds were run). Flip rate {}: the share of the {} pairs with two or more seeds whose seeds disagree at all (it grows with the seeds).",
            opt(n.pairwise_disagreement),
            opt(n.flip_rate),
            n.pairs_with_repeats
        ),
        format!("Within-pair variance {} and between-pair variance {}: how much a pair's outcome varies from seed to seed, and how much pairs differ in their true success rate.", opt(n.within_pair_variance), opt(n.between_pair_variance)),
        format!("Intra-class correlation {}: the share of the variance that lies between pairs; near 1, a pair's seeds are nearly copies of each other, so they are not independent trials.", opt(n.icc)),
        format!(
            "Seeds per pair for a difficulty standard error under {}, at this study's average within-pair variance: {} (always-pass and always-fail pairs pull it down; the table below gives it per success rate).",
            n.difficulty_se_target,
            n.seeds_needed_difficulty.map(|m| m.to_string()).unwrap_or_else(|| "n/a".into())
        ),
        format!(
            "Seeds per pair for a mean-success standard error under {} with these pairs: {}.",
            n.mean_se_target,
            match n.seeds_needed_mean {
                Some(m) => m.to_string(),
                None if n.between_pair_variance.is_some() =>
                    "no number of seeds: the between-pair variance alone exceeds it; more pairs are needed (below)".into(),
                None => "n/a".into(),
            }
        ),
    ]);
    let worst = n.seeds_needed_by_level.iter().find(|l| l.success_rate == 0.5).map(|l| l.seeds);
    m.para(&format!(
        "Seeds a pair needs for its difficulty's standard error to fall under {}, by its true success rate p (p and 1 - p need the same; p = 1/2 is the worst case{}): p(1 - p)/m under the target squared.",
        n.difficulty_se_target,
        worst.map(|w| format!(", {w} seeds")).unwrap_or_default()
    ));
    let r = Align::Right;
    let rows: Vec<Vec<String>> = n
        .seeds_needed_by_level
        .iter()
        .map(|l| {
            let p = if l.success_rate == 0.5 {
                "0.5".to_string()
            } else {
                format!("{} or {}", l.success_rate, round6(1.0 - l.success_rate))
            };
            vec![p, l.seeds.to_string()]
        })
        .collect();
    m.table(&[("success rate p", r), ("seeds", r)], &rows);
    let drop = n.solo_rate.map(|p| verdict::PAPER_DROP * p);
    m.para(&format!(
        "Pairs needed at 1, 3, 5 and 10 seeds per pair: for a mean-success standard error under {} ((between + within/m)/pairs under its square), and for a two-sided 5% test of the paired difference to find the paper's drop ({:.0}% of the solo rate: {}) 80% of the time, one coop trial per pair ((2.80)^2 within (1 + 1/m)/drop^2; pairs resampled alone; tasks shared by pairs need more). From this study's variances: a plan, not a promise.",
        n.mean_se_target,
        verdict::PAPER_DROP * 100.0,
        opt(drop)
    ));
    let count = |x: Option<u64>| x.map(|v| v.to_string()).unwrap_or_else(|| "n/a".into());
    let rows: Vec<Vec<String>> = n
        .pairs_needed
        .iter()
        .map(|p| vec![p.seeds.to_string(), count(p.mean_target), count(p.paper_effect_80)])
        .collect();
    m.table(&[("seeds per pair", r), ("pairs for the mean target", r), ("pairs for the paper's drop", r)], &rows);
    m.para("pass@k is the chance that at least one of k seeds passes (unbiased estimator), pass^k that all k pass, averaged over pairs with at least k seeds.");
    let rows: Vec<Vec<String>> = fig
        .pass_at_k
        .iter()
        .map(|(k, v)| vec![k.to_string(), opt(*v), opt(fig.pass_hat_k.get(k).copied().flatten())])
        .collect();
    let r = Align::Right;
    m.table(&[("k", r), ("pass@k", r), ("pass^k", r)], &rows);
}

fn per_repo_section(m: &mut Markdown, fig: &Fig4, settings: &[String]) {
    m.heading(2, "Per repository");
    m.para("Success rate over the trials of each repository's pairs (solo: the solo-curve runs).");
    let mut columns = vec![("repository", Align::Left), ("pairs", Align::Right), ("solo", Align::Left)];
    columns.extend(settings[1..].iter().map(|s| (s.as_str(), Align::Left)));
    let rate = |r: &Rate| format!("{}/{} = {}", r.successes, r.trials, opt(r.rate));
    let rows: Vec<Vec<String>> = fig
        .per_repo
        .iter()
        .map(|r| {
            let mut row = vec![r.repo.clone(), r.pairs.to_string(), rate(&r.solo)];
            row.extend(settings[1..].iter().map(|s| r.coop.get(s).map(rate).unwrap_or_default()));
            row
        })
        .collect();
    m.table(&columns, &rows);
}

/// The figure's warnings and verify's problems, one line per class with
/// counts per run; every instance in a collapsed block, so the page stays
/// readable.
fn warnings_section(m: &mut Markdown, fig: &Fig4, check: &VerifyReport) {
    m.heading(2, "Warnings");
    let mut classes: BTreeMap<(Severity, &str), BTreeMap<&str, usize>> = BTreeMap::new();
    for p in &check.problems {
        *classes.entry((p.severity, p.check)).or_default().entry(p.run.as_deref().unwrap_or("-")).or_default() += 1;
    }
    let mut items: Vec<String> = fig.warnings.iter().map(|w| escape_pipes(w)).collect();
    for ((sev, class), runs) in &classes {
        let total: usize = runs.values().sum();
        let per_run: Vec<String> = runs.iter().map(|(r, n)| format!("`{r}` {n}")).collect();
        let sev = match sev {
            Severity::Failure => "failure",
            Severity::Warning => "warning",
        };
        items.push(format!("verify {sev} `{class}`: {total} ({})", per_run.join(", ")));
    }
    if items.is_empty() {
        m.para("None.");
        return;
    }
    m.bullets(&items);
    if !classes.is_empty() {
        let all: Vec<String> = check.problems.iter().map(|p| escape_pipes(&p.line())).collect();
        m.details(&format!("All {} verify problem(s)", check.problems.len()), &all);
    }
}

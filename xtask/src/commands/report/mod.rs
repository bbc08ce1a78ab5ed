//! `cargo xtask report`: the difficulty table, Figure 4's data and plot, and
//! a Markdown report for pull requests, in `results/<experiment>/`:
//! `difficulty.csv`, `outcomes.csv`, `fig4.json`, `fig4.svg`, `REPORT.md`,
//! and `index.html`, the same report as one page with every pair's story.
//!
//! The numbers are `study::analysis` (pure: an outcome table in, every
//! number out); REPORT.md's words are `sections.rs`, the figure `plot.rs`,
//! the page `html.rs`; [`run`] and [`write`] read the logs (and each pair's
//! story, `edges::story`) and write the files around them.
//!
//! Output is deterministic (no clock, sorted, fixed float formatting) so that
//! committed results diff only when the data does.

pub(crate) mod cells;
pub(crate) mod comparisons;
pub(crate) mod html;
pub(crate) mod markdown;
pub(crate) mod plot;
pub(crate) mod sections;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::edges::experiment::CommonFlags;
use crate::engine::verify::check_names;
use crate::study::analysis::{
    analyse_study, check_roles, model_slug, Options, Roles, DEFAULT_BOOTSTRAP_SEED, DEFAULT_DIFFICULTY_SE_TARGET,
    DEFAULT_MEAN_SE_TARGET, DEFAULT_REPLICATES, MAX_REPLICATES,
};
use crate::study::changed::Pairs;
use crate::study::class::Class;
use crate::study::fig4::{Bootstrap, Cluster, DifficultyMode};
use crate::study::models::Models;
use crate::study::outcome::EvalErrors;
use crate::study::problem::Check;
use crate::study::run::RunLogs;
use crate::study::story::Stories;
use crate::study::subset::Subset;
use crate::study::table::Table;
use crate::study::verify;

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
    /// Which pairs count: all, or only those no difficulty run saw with
    /// other dataset files or another task image (said first in every output)
    #[arg(long, value_enum, default_value_t = Pairs::All)]
    pub pairs: Pairs,
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
            pairs: Pairs::All,
        }
    }
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
    /// What `--pairs unchanged` left out ("N of M pairs; K changed between
    /// runs left out"), said first in every output.
    pub pairs_note: Option<String>,
    /// Provenance fields allowed to differ among the difficulty runs.
    pub allow_mixed: Vec<String>,
    /// Which model each run belongs to (the arms); default: one model.
    pub models: Models,
    /// Each (run, pair)'s story, for the page; a pair without one says only
    /// what its result and eval say.
    pub stories: Stories,
    /// The checkout as a path relative to the output folder, for the page's
    /// links to each pair's files (`None`: no links).
    pub logs_link: Option<String>,
    /// The study's secrets: every file is scrubbed of them, and the page's
    /// texts before they are escaped (an escaped key no longer matches).
    pub secrets: crate::edges::secrets::Secrets,
}

/// The flags as the analysis's options, each checked.
fn options(f: &ReportFlags) -> anyhow::Result<Options> {
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
            return Err(crate::usage(anyhow::anyhow!("--solo-curve-runs: `{r}` is named twice: each run counts once")));
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

pub fn run(flags: ReportFlags, ctx: &crate::Context) -> anyhow::Result<i32> {
    let exp = flags.common.load(&ctx.root)?;
    let options = options(&flags)?;
    let cb = &exp.cooperbench_dir;
    crate::edges::layout::require_checkout(cb).map_err(crate::usage)?;
    let mut subset = crate::edges::layout::load_subset(cb, &exp.subset).map_err(crate::usage)?;
    let solo_names = flags.runs.clone().unwrap_or_else(|| exp.solo_runs());
    let coop_names = flags.coop_runs.clone().unwrap_or_else(|| exp.coop_runs());
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
    // What each solo run was graded on: recorded, else inferred from the
    // checkout's history; `--pairs unchanged` leaves out every pair the
    // difficulty runs did not see alike.
    crate::edges::dataset::infer_missing(cb, &mut solo, &subset.pairs);
    crate::edges::dataset::infer_missing(cb, &mut coop, &subset.pairs);
    let pooling_models = if flags.runs.is_some() { Models::default() } else { exp.models() };
    let mut pairs_note = None;
    if flags.pairs == Pairs::Unchanged {
        let changed = verify::changes(&subset, &solo, &exp.allow_mixed, &pooling_models).to_leave_out(&exp.allow_mixed);
        crate::study::changed::leave_out(&mut subset.clone(), &mut coop, &changed);
        pairs_note = Some(crate::study::changed::leave_out(&mut subset, &mut solo, &changed));
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
    // Pair by pair: other dataset files or another task image.
    let changes = verify::changes(&subset, &solo, &exp.allow_mixed, &pooling_models);
    let failing: Vec<String> = changes
        .problems
        .iter()
        .filter(|p| p.severity == crate::study::problem::Severity::Failure)
        .map(|p| match (&p.run, &p.pair) {
            (Some(r), _) => format!("run `{r}`: {}", p.detail),
            (None, Some(pair)) => format!("{pair}: {}", p.detail),
            _ => p.detail.clone(),
        })
        .collect();
    if !failing.is_empty() {
        mixed.push(format!(
            "{} pair(s) changed between the runs that define difficulty (pass --pairs unchanged to leave them out, or list them in allow_mixed): {}",
            changes.to_leave_out(&exp.allow_mixed).len(),
            failing.join("; ")
        ));
    }
    if !mixed.is_empty() {
        return Err(crate::usage(anyhow::anyhow!("not reported: {}", mixed.join("; "))));
    }
    let allow_mixed = exp.allow_mixed.clone();
    // `--runs` names runs outside the arms: they are then one model.
    let models = if flags.runs.is_some() { Models::default() } else { exp.models() };
    let out = flags.out.clone().unwrap_or_else(|| ctx.root.join("results").join(&exp.name));
    let secrets = crate::edges::secrets::Secrets::load(cb, &exp.secret_names());
    if let Some(note) = secrets.pattern_note() {
        eprintln!("note: {note}");
    }
    let runs: Vec<&RunLogs> = solo.iter().chain(&coop).collect();
    let stories = crate::edges::story::read_all(cb, &runs, &subset.pairs, STORY_TRAJECTORY_BYTES);
    let logs_link = logs_link(cb, &out);
    let study = Study {
        name: exp.name.clone(),
        subset,
        solo,
        coop,
        solo_curve,
        options,
        excluded,
        pairs_note,
        allow_mixed,
        models,
        stories,
        logs_link,
        secrets,
    };
    let written = write(&study, &out)?;
    for p in &written {
        println!("wrote {}", p.display());
    }
    Ok(0)
}

pub const FILES: [&str; 6] = ["difficulty.csv", "outcomes.csv", "fig4.json", "fig4.svg", "REPORT.md", "index.html"];

/// A trajectory is read for the page's stories up to this size; a larger
/// one's story says so and its file is a link away.
const STORY_TRAJECTORY_BYTES: u64 = 32 << 20;

/// The checkout relative to the output folder, so that the page's links
/// survive the two being moved together; `None` when there is no such path.
fn logs_link(cooperbench_dir: &Path, out: &Path) -> Option<String> {
    let cb = std::fs::canonicalize(cooperbench_dir).ok()?;
    std::fs::create_dir_all(out).ok()?;
    let out = std::fs::canonicalize(out).ok()?;
    let rel = pathdiff::diff_paths(cb, out)?;
    rel.to_str().map(String::from)
}

/// Writes the files of [`FILES`]; returns their paths. Every file is
/// scrubbed of the study's secrets: an Error's message can echo a key (a
/// provider's auth error does), and REPORT.md and index.html are meant to
/// be committed.
pub fn write(study: &Study, out: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let r = render(study)?;
    std::fs::create_dir_all(out)?;
    let mut written = Vec::new();
    let files = FILES.iter().map(|f| f.to_string()).zip([
        r.difficulty_csv,
        r.outcomes_csv,
        r.fig4_json,
        r.fig4_svg,
        r.report_md,
        r.index_html,
    ]);
    for (name, body) in files.chain(r.per_model_svg) {
        let path = out.join(&name);
        std::fs::write(&path, study.secrets.redact(&body))?;
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
    pub index_html: String,
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
    // Over several models, each coop run against its own model (the
    // paper's pooling): study::analysis::analyse_study.
    let mut fig = analyse_study(&study.name, &study.subset.name, &table, &roles, &study.options);
    if !check.ok {
        fig.warnings
            .push(format!("verify found {} failure(s): the figure is built on incomplete data", check.failures()));
    }
    fig.warnings.extend(study.excluded.clone());
    check.pairs_note = study.pairs_note.clone();
    fig.pairs = study.pairs_note.clone();
    // What is pooled although it differs (allowed), said with the numbers.
    fig.warnings.extend(check.problems.iter().filter(|p| p.check == Check::MixedAllowed).map(|p| p.detail.clone()));
    let solo_refs: Vec<&RunLogs> = study.solo.iter().collect();
    let per_pair = verify::pair_difficulties(&study.subset, &solo_refs, study.options.eval_errors, &study.models);
    let settings = settings(&roles);
    let mut title =
        format!("Figure 4: {} ({}, {})", study.name, study.subset.name, sections::mode_name(fig.difficulty_mode));
    // Looked at without the text, the figure must not mislead either.
    if let Some(t) = fig.verdict.case.title() {
        title += &format!(" - {t}");
    }
    if let Some(note) = &study.pairs_note {
        title += &format!(" - {}", note.split(':').next().unwrap_or(note));
    }
    let mut per_model_svg = Vec::new();
    for (m, f) in &fig.per_model {
        let mut t = format!("Figure 4: {} ({}, {})", m, study.subset.name, sections::mode_name(f.difficulty_mode));
        if let Some(c) = f.verdict.case.title() {
            t += &format!(" - {c}");
        }
        let mut s = vec!["solo".to_string()];
        s.extend(f.policy.coop_runs.iter().cloned());
        let svg = plot::fig4_svg(&f.buckets, &s, &t, "pair difficulty over this model's own solo seeds")?;
        per_model_svg.push((format!("fig4-{}.svg", model_slug(m)), svg));
    }
    let fig4_svg = plot::fig4_svg(
        &fig.buckets,
        &settings,
        &title,
        match fig.difficulty_mode {
            DifficultyMode::HeldOut => "pair difficulty d = 1 - mean solo success over the other seeds (held out)",
            DifficultyMode::InSample => "pair difficulty d = 1 - mean solo success over all seeds (in-sample)",
        },
    )?;
    let report_md = sections::report_md(&fig, &check, &settings);
    let index_html = html::page(&html::Page {
        title: &study.name,
        head_md: &study.secrets.redact(&sections::opening_md(&fig, &check)),
        report_md: &study.secrets.redact(&report_md),
        fig4_svg: &fig4_svg,
        per_model_svg: &per_model_svg,
        columns: all.iter().map(|r| html::Column { run: r.name.clone(), setting: r.setting.clone() }).collect(),
        rows: page_rows(study, &all, &per_pair),
        logs_note: study.logs_link.as_ref().map(|l| {
            format!("Each story's \"files\" link opens the pair's folder under {l}/logs (relative to this page).")
        }),
    });
    Ok(Rendered {
        per_model_svg,
        difficulty_csv: difficulty_csv(study, &per_pair),
        outcomes_csv: table.to_csv(),
        fig4_json: serde_json::to_string_pretty(&fig)? + "\n",
        fig4_svg,
        report_md,
        index_html,
    })
}

/// The page's grid: per pair, its difficulty and each run's class and story.
fn page_rows(study: &Study, runs: &[RunLogs], per_pair: &[PairRow]) -> Vec<html::Row> {
    let empty = crate::study::story::Story::default();
    per_pair
        .iter()
        .map(|(pair, _, d)| html::Row {
            pair: pair.clone(),
            // Not in lowest terms: 0/3 and 0/2 (a seed not judged) are told
            // apart, as the counts they are (over several models, the exact
            // mean of the models' rates).
            difficulty: if d.is_defined() { format!("{}/{}", d.failures, d.valid) } else { d.fraction() },
            value: d.value(),
            valid_seeds: d.valid,
            cells: runs
                .iter()
                .map(|r| {
                    let story = study.stories.get(&(r.name.clone(), pair.clone())).unwrap_or(&empty);
                    let logs = r.pairs.get(pair);
                    html::Cell {
                        class: crate::study::classify::of(logs).0,
                        story: study.secrets.redact(&crate::study::story::render_pair(r, pair, story)),
                        link: study
                            .logs_link
                            .as_ref()
                            .zip(logs)
                            .map(|(base, p)| format!("{base}/{}/", p.rel_dir).trim_start_matches("/").to_string()),
                    }
                })
                .collect(),
        })
        .collect()
}

fn settings(roles: &Roles) -> Vec<String> {
    let mut s = vec!["solo".to_string()];
    s.extend(roles.coop.iter().cloned());
    s
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
        // Seeds and passes as counts: over several models `d` is an exact
        // mean of rates, whose terms are no counts (4/3 for 5 seeds).
        let trials: Vec<bool> = outcomes.iter().filter_map(|c| c.trial(study.options.eval_errors)).collect();
        let passes = trials.iter().filter(|t| **t).count();
        let _ = write!(o, "{pair},{},{passes},{},{value},{bucket}", trials.len(), d.fraction());
        for x in outcomes {
            let _ = write!(o, ",{}", x.name());
        }
        o.push('\n');
    }
    o
}

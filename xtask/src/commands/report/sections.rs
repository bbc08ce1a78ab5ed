//! REPORT.md, section by section: what reviewers read in a pull request.
//! How a number is written is `cells.rs`; the comparisons (coop against
//! solo, coop against coop) are `comparisons.rs`.

use std::collections::BTreeMap;

use super::cells::{case_words, ci, count, names, opt};
use super::comparisons::{coop_settings_section, paired_section};
use super::markdown::{escape_pipes, Align, Markdown};
use crate::study::analysis::{Fig4, MonteCarlo, Rate, PRINTED_PRECISION};
use crate::study::class::Class;
use crate::study::fig4::{round6, CiMethod, Cluster, DifficultyMode, RELIABLE_BUCKET_PAIRS};
use crate::study::outcome::EvalErrors;
use crate::study::problem::{Check, Severity};
use crate::study::verdict::{self, Case};
use crate::study::verify::Report as VerifyReport;

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

/// REPORT.md, section by section: what reviewers read in a pull request.
pub fn report_md(fig: &Fig4, check: &VerifyReport, settings: &[String]) -> String {
    let mut m = Markdown::default();
    opening(&mut m, fig, check);
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

/// REPORT.md's opening, which the page (index.html) also opens with: the
/// title and what was pooled, what the data can show, then the headline
/// (the paired difference) and the coop settings against each other. Where
/// it comes from follows; AUC and retention,
/// demoted, after the figure they summarise.
fn opening(m: &mut Markdown, fig: &Fig4, check: &VerifyReport) {
    m.heading(1, &format!("{}: difficulty and Figure 4", fig.experiment));
    // Said before anything else: every number below is over these pairs.
    if let Some(note) = &fig.pairs {
        m.para(&format!(
            "**Pairs: {}.** Difficulty, Figure 4 and every number below are over the pairs that no difficulty run saw with other dataset files or another task image (`--pairs unchanged`); the left-out pairs are in no count.",
            escape_pipes(note)
        ));
    }
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
    verdict_section(m, fig);
    paired_section(m, fig);
    coop_settings_section(m, fig);
}

/// [`opening`] alone, as Markdown.
pub fn opening_md(fig: &Fig4, check: &VerifyReport) -> String {
    let mut m = Markdown::default();
    opening(&mut m, fig, check);
    m.finish()
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
        "Solo seeds as repeats of one experiment, on the {} pairs every seed judged: {}; Cochran's Q {}. A small p says the seeds differ more than chance allows; Q learns only from pairs whose seeds disagree, and under {} of them its p is no evidence either way.",
        seeds.pairs,
        if rates.is_empty() { "none".to_string() } else { rates.join(", ") },
        if seeds.cochran_informative {
            format!("{} (p {}, {} discordant pairs)", opt(seeds.cochran_q), opt(seeds.p_value), seeds.discordant_pairs)
        } else {
            format!(
                "uninformative: {} discordant pair(s) (Q {}, p {})",
                seeds.discordant_pairs,
                opt(seeds.cochran_q),
                opt(seeds.p_value)
            )
        },
        verdict::MIN_DISCORDANT
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
    m.para("Each solo run's success rate over all its trials, with a 95% interval clustered by task (pairs of one task share a repository state; Wald on the cluster-robust standard error, or with fewer than 5 successes or failures Clopper-Pearson two-sided on the effective n of one trial per task):");
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
                    escape_pipes(&p.dataset.shown()),
                    escape_pipes(&p.images.shown()),
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
            ("dataset", Align::Left),
            ("task images", Align::Left),
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
        "Cells read `successes/trials = rate [bootstrap 95%] (Wilson 95%)`. The bootstrap resamples whole {}s with all their seeds ({} replicates, seed {}); Wilson treats every trial as independent, as the paper did, and is too narrow because seeds of one pair are alike; it is not given for cells of weighted (held-out coop) trials. A bootstrap interval is shown only where at least 95% of the replicates define the statistic (with the share when it is not all of them); elsewhere `n/a` says how many did. A cell with fewer than 5 successes or failures has too little spread for the bootstrap's percentiles (none at 0/n or n/n): it gets Clopper-Pearson's two-sided 95% interval instead, on its effective n (Kish's n of its weights over the design effect 1 + (m - 1) rho of its m trials per {}, rho {}).",
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
                            (CiMethod::ClopperPearson, Some(n)) => {
                                format!("[{:.3}, {:.3}: Clopper-Pearson, effective n {n:.1}]", c.ci_lower, c.ci_upper)
                            }
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
        // The rules of "Area under the curves", per model: at floor, at
        // ceiling, on a flat axis or a grid of thin buckets, there is no
        // AUC to give.
        let case = case_words(f.verdict.case);
        let thin: Vec<String> = thin_grid(f).iter().map(|(b, n)| format!("b{b}: {n}")).collect();
        let auc = |k: &str| match (!f.verdict.figure_informative(), f.auc.get(k).copied().flatten()) {
            (true, _) => case.to_string(),
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
                let ret = match (!f.verdict.figure_informative(), f.retention.get(c).copied().flatten()) {
                    (true, _) => case.to_string(),
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
    if let Some(p) = &fig.pooled_over_models {
        // A mean over models one of which is at floor (or ceiling, or flat)
        // would pass that model's number off as information.
        let blocked =
            (!p.uninformative.is_empty()).then(|| format!("n/a: no information from {}", p.uninformative.join(", ")));
        let coop = match (&blocked, p.coop_auc, p.retention) {
            (Some(b), _, _) => b.clone(),
            (None, Some(a), Some(r)) => format!("mean coop AUC {a:.3}, mean retention {r:.2}"),
            _ => format!("n/a: {}", p.note.clone().unwrap_or_default()),
        };
        rows.push(vec![
            "mean over models (the paper's pooled estimand)".into(),
            format!("{} models", p.models.len()),
            blocked.clone().unwrap_or_else(|| opt(p.solo_auc)),
            coop,
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
    if fig.pooled_over_models.is_some() {
        m.para("The last row is the paper's pooled row: the mean over models of each model's own values (no interval: models are not resampled), given only when every model's own figure carries information. It is not the AUC of the pooled figure above, whose solo curve pools every model's trials (a model with more seeds weighs more). Each coop run's AUC, retention, paired difference and power, in every section, are its own model's.");
    }
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
    if !fig.verdict.figure_informative() {
        let case = case_words(fig.verdict.case);
        let mut c = case.chars();
        let case = c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default();
        m.para(&format!("{case} (see \"What the data can show\"): AUC and retention carry no information and are not given here; fig4.json keeps the numbers the rules were applied to, each flagged in `withheld` with the reason."));
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
    if fig.verdict.case == Case::Floor {
        m.para("At floor these counts are what the variances imply, not a plan: more seeds or pairs of a model that almost never passes buy little; the fix is a stronger model (or an easier subset).");
    }
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
    let mut classes: BTreeMap<(Severity, Check), BTreeMap<&str, usize>> = BTreeMap::new();
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

pub(crate) fn mode_name(m: DifficultyMode) -> &'static str {
    match m {
        DifficultyMode::HeldOut => "held-out difficulty",
        DifficultyMode::InSample => "in-sample difficulty",
    }
}

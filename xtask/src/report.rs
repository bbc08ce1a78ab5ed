//! `cargo xtask report`: the difficulty table, Figure 4's data and plot, and
//! a Markdown report for pull requests, in `results/<experiment>/`:
//! `difficulty.csv`, `fig4.json`, `fig4.svg`, `REPORT.md`.
//!
//! Output is deterministic (no clock, sorted, fixed float formatting) so that
//! committed results diff only when the data does.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::difficulty::{EvalErrors, Outcome};
use crate::experiment::{project_root, CommonFlags};
use crate::fig4::{self, Bucket};
use crate::logs::RunLogs;
use crate::plot;
use crate::problem::Severity;
use crate::subset::{self, Subset};
use crate::verify::{self, Report as VerifyReport};

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
    /// Where to write [default: results/<experiment name>/]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
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
    pub buckets: &'static str,
    pub interval: &'static str,
    pub auc: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Fig4 {
    pub experiment: String,
    pub subset: String,
    pub policy: Policy,
    pub buckets: Vec<Bucket>,
    pub auc: std::collections::BTreeMap<String, Option<f64>>,
    pub retention: std::collections::BTreeMap<String, Option<f64>>,
    pub undefined_pairs: usize,
    pub warnings: Vec<String>,
}

/// Everything the four files are made from.
pub struct Study {
    pub name: String,
    pub subset: Subset,
    pub solo: Vec<RunLogs>,
    pub coop: Vec<RunLogs>,
    pub solo_curve: Vec<String>,
    pub eval_errors: EvalErrors,
}

pub fn run(flags: ReportFlags) -> anyhow::Result<i32> {
    let exp = flags.common.load()?;
    let cb = &exp.cooperbench_dir;
    subset::require_dir(cb).map_err(crate::usage)?;
    let subset = Subset::load(cb, &exp.subset).map_err(crate::usage)?;
    let solo_names = flags.runs.clone().unwrap_or_else(|| exp.solo_runs());
    let coop_names = flags.coop_runs.clone().unwrap_or_else(|| exp.coop_runs.clone());
    let solo: Vec<RunLogs> = solo_names.iter().map(|r| RunLogs::load(cb, r)).collect();
    let coop: Vec<RunLogs> = coop_names.iter().map(|r| RunLogs::load(cb, r)).collect();
    let solo_curve = flags.solo_curve_runs.clone().unwrap_or_else(|| solo_names.clone());
    for r in &solo_curve {
        if !solo_names.contains(r) {
            return Err(crate::usage(anyhow::anyhow!(
                "--solo-curve-runs: `{r}` is not one of the solo runs {solo_names:?}"
            )));
        }
    }
    let study = Study { name: exp.name.clone(), subset, solo, coop, solo_curve, eval_errors: flags.eval_errors };
    let out = flags.out.clone().unwrap_or_else(|| project_root().join("results").join(&exp.name));
    let written = write(&study, &out)?;
    for p in &written {
        println!("wrote {}", p.display());
    }
    Ok(0)
}

/// Writes the four files; returns their paths.
pub fn write(study: &Study, out: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let (csv, fig, svg, md) = render(study)?;
    std::fs::create_dir_all(out)?;
    let mut written = Vec::new();
    for (name, body) in [("difficulty.csv", csv), ("fig4.json", fig), ("fig4.svg", svg), ("REPORT.md", md)] {
        let path = out.join(name);
        std::fs::write(&path, body)?;
        written.push(path);
    }
    Ok(written)
}

/// The four files' contents: `(difficulty.csv, fig4.json, fig4.svg, REPORT.md)`.
pub fn render(study: &Study) -> anyhow::Result<(String, String, String, String)> {
    let all: Vec<RunLogs> = study.solo.iter().chain(&study.coop).cloned().collect();
    let check = verify::check(&study.subset, &all, study.eval_errors, false);
    let solo_refs: Vec<&RunLogs> = study.solo.iter().collect();
    let per_pair = verify::pair_difficulties(&study.subset, &solo_refs, study.eval_errors);

    let coop_names: Vec<String> = study.coop.iter().map(|r| r.name.clone()).collect();
    let mut settings = vec!["solo".to_string()];
    settings.extend(coop_names.iter().cloned());
    let mut pairs_per_bucket = [0usize; 10];
    let mut trials = Vec::new();
    let mut eval_errors_left_out = 0;
    for (pair, outcomes, d) in &per_pair {
        let Some(b) = d.bucket() else { continue };
        pairs_per_bucket[b] += 1;
        for (run, o) in study.solo.iter().zip(outcomes) {
            if !study.solo_curve.contains(&run.name) {
                continue;
            }
            match o.trial(study.eval_errors) {
                Some(ok) => trials.push((b, "solo".to_string(), ok)),
                None if *o == Outcome::EvalError => eval_errors_left_out += 1,
                None => {}
            }
        }
        for run in &study.coop {
            let o = Outcome::of(run.pairs.get(pair));
            match o.trial(study.eval_errors) {
                Some(ok) => trials.push((b, run.name.clone(), ok)),
                None if o == Outcome::EvalError => eval_errors_left_out += 1,
                None => {}
            }
        }
    }
    let buckets = fig4::buckets(&pairs_per_bucket, &trials, &settings);
    let auc: std::collections::BTreeMap<String, Option<f64>> =
        settings.iter().map(|s| (s.clone(), fig4::setting_auc(&buckets, s))).collect();
    let retention =
        coop_names.iter().map(|c| (c.clone(), fig4::retention(auc[c], auc["solo"]).map(fig4::round6))).collect();

    let mut warnings = Vec::new();
    let populated = pairs_per_bucket.iter().filter(|n| **n > 0).count();
    if populated < 10 {
        warnings
            .push(format!("{populated} of 10 buckets populated{}", if populated < 5 { "; AUC is rough" } else { "" }));
    }
    if study.solo.len() < 3 {
        warnings.push(format!("difficulty from {} solo run(s): values are coarse", study.solo.len()));
    }
    let undefined = per_pair.iter().filter(|(_, _, d)| !d.is_defined()).count();
    if undefined > 0 {
        warnings.push(format!("{undefined} pair(s) have no valid solo seed and are left out"));
    }
    if eval_errors_left_out > 0 {
        warnings.push(format!("{eval_errors_left_out} trial(s) left out for eval errors"));
    }
    if !check.ok {
        warnings.push(format!("verify found {} failure(s): the figure is built on incomplete data", check.failures()));
    }

    let fig = Fig4 {
        experiment: study.name.clone(),
        subset: study.subset.name.clone(),
        policy: Policy {
            difficulty_runs: study.solo.iter().map(|r| r.name.clone()).collect(),
            solo_curve_runs: study.solo_curve.clone(),
            coop_runs: coop_names.clone(),
            trial: "each (run, pair) is one trial: success when both features pass",
            eval_errors: study.eval_errors,
            eval_errors_left_out,
            limits_exceeded: "failure",
            agent_errors: "left out",
            coop_status: "the worst of its agents",
            buckets: "floor(failures * 10 / valid seeds), capped at 9, from integers",
            interval: "Wilson 95% (z = 1.96); no trials gives [0, 1]",
            auc: "trapezoids over the centres 0.05 + 0.1*b of the buckets a setting populates; null under two",
        },
        buckets,
        auc,
        retention,
        undefined_pairs: undefined,
        warnings,
    };
    let csv = difficulty_csv(study, &per_pair);
    let svg = plot::fig4_svg(&fig.buckets, &settings, &format!("Figure 4: {} ({})", study.name, study.subset.name))?;
    let md = report_md(&fig, &check, &settings);
    Ok((csv, serde_json::to_string_pretty(&fig)? + "\n", svg, md))
}

type PairRow = (crate::pair::PairId, Vec<Outcome>, crate::difficulty::Difficulty);

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
            let _ = write!(o, ",{}", x.label());
        }
        o.push('\n');
    }
    o
}

fn opt(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.3}")).unwrap_or_else(|| "n/a".into())
}

fn report_md(fig: &Fig4, check: &VerifyReport, settings: &[String]) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# {}: difficulty and Figure 4\n", fig.experiment);
    let _ = writeln!(
        o,
        "Subset `{}` ({} tasks, {} pairs). Difficulty from {} solo run(s): {}.\n",
        check.subset.name,
        check.subset.tasks,
        check.subset.pair_count,
        fig.policy.difficulty_runs.len(),
        fig.policy.difficulty_runs.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", ")
    );
    let _ = writeln!(o, "## Runs\n");
    let _ = writeln!(o, "| run | setting | results | Submitted | LimitsExceeded | Error | evals | passed | eval errors | pass rate | cost |");
    let _ = writeln!(o, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for s in &check.runs {
        let st = |k: &str| s.agent_status.get(k).copied().unwrap_or(0);
        let judged = s.passed + s.failed;
        let rate = if judged > 0 { format!("{:.1}%", 100.0 * s.passed as f64 / judged as f64) } else { "n/a".into() };
        let _ = writeln!(
            o,
            "| `{}` | {} | {}/{} | {} | {} | {} | {} | {} | {} | {rate} | ${:.2} |",
            s.name,
            s.setting,
            s.results,
            s.expected,
            st("Submitted"),
            st("LimitsExceeded"),
            st("Error"),
            s.evals,
            s.passed,
            s.eval_errors,
            s.cost_usd
        );
    }
    let _ = writeln!(o, "\n## Difficulty distribution\n");
    let _ = writeln!(o, "| difficulty | pairs |");
    let _ = writeln!(o, "|---|---:|");
    for e in &check.difficulty.distribution {
        let _ = writeln!(o, "| {} ({:.3}) | {} |", e.difficulty, e.value, e.pairs);
    }
    let _ = writeln!(o, "| undefined | {} |", check.difficulty.undefined_pairs);
    let _ = writeln!(o, "\n## Figure 4\n");
    let _ = writeln!(o, "![Figure 4: success rate against difficulty](fig4.svg)\n");
    let mut head = String::from("| bucket | centre | pairs |");
    let mut rule = String::from("|---:|---:|---:|");
    for s in settings {
        head += &format!(" {s} |");
        rule += "---|";
    }
    let _ = writeln!(o, "{head}\n{rule}");
    for b in &fig.buckets {
        let mut row = format!("| {} | {:.2} | {} |", b.bucket, b.center, b.pairs);
        for s in settings {
            let c = &b.settings[s];
            row += &match c.rate {
                Some(r) => format!(" {}/{} = {r:.3} [{:.3}, {:.3}] |", c.successes, c.trials, c.ci_lower, c.ci_upper),
                None => " empty |".to_string(),
            };
        }
        let _ = writeln!(o, "{row}");
    }
    let _ = writeln!(o, "\n| setting | AUC | retention |");
    let _ = writeln!(o, "|---|---:|---:|");
    for s in settings {
        let ret = fig.retention.get(s).map(|r| opt(*r)).unwrap_or_else(|| "-".into());
        let _ = writeln!(o, "| {s} | {} | {ret} |", opt(fig.auc[s]));
    }
    let _ = writeln!(o, "\nPolicy: LimitsExceeded is a failure; agent errors are left out; eval errors are {} ({} trial(s) left out); coop status is the worst of its agents; intervals are Wilson 95%.", match fig.policy.eval_errors { EvalErrors::Exclude => "left out", EvalErrors::Fail => "failures" }, fig.policy.eval_errors_left_out);
    let _ = writeln!(o, "\n## Warnings\n");
    let warnings: Vec<String> = fig
        .warnings
        .iter()
        .cloned()
        .chain(
            check.problems.iter().filter(|p| p.severity == Severity::Failure).map(|p| format!("verify: {}", p.line())),
        )
        .chain(
            check.problems.iter().filter(|p| p.severity == Severity::Warning).map(|p| format!("verify: {}", p.line())),
        )
        .collect();
    if warnings.is_empty() {
        let _ = writeln!(o, "None.");
    }
    for w in warnings {
        let _ = writeln!(o, "- {}", w.replace('|', "\\|"));
    }
    o
}

//! REPORT.md's comparisons: coop against solo pair by pair (the headline),
//! with its sensitivity to what is no trial, and coop settings against each
//! other with their merge conflicts.

use super::cells::{ci, opt, paired_ci};
use super::markdown::{Align, Markdown};
use crate::study::analysis::Fig4;
use crate::study::verdict;

pub(super) fn paired_section(m: &mut Markdown, fig: &Fig4) {
    if fig.paired_difference.is_empty() {
        return;
    }
    m.heading(2, "Paired comparison");
    let main = fig.bootstrap.cluster.name();
    m.para(&format!("The headline comparison. On the pairs both settings ran: the mean over pairs of (coop success minus the pair's solo success rate), with its bootstrap interval resampling whole pairs and whole tasks (the two can disagree: a difference that holds by pair but not by task rests on a few tasks); `p` and the smallest difference this design detects at 80% power (two-sided 5%: 2.80 standard errors) are from the {main}-clustered bootstrap, except where its interval is withheld: then `p` is the exact test's (marked \"exact\") and no detectable difference is given. `exact p` is the exact test of no coop effect that keeps the pairing (each pair's coop trial against the pair's own pooled success rate). \"solo only\" is the number of pairs where one solo seed, drawn at random, passed and coop failed, \"coop only\" the reverse: one seed against the one coop trial, so K seeds are not K chances."));
    let rows: Vec<Vec<String>> = fig
        .paired_difference
        .iter()
        .map(|(run, p)| {
            let by = |c: &str| fig.paired_by_cluster.get(run).and_then(|m| m.get(c));
            let range = |c: &str| by(c).map(paired_ci).unwrap_or_default();
            let m = by(main);
            // Where the main interval is withheld its bootstrap is
            // degenerate: the p shown is the exact test's, said so, and no
            // detectable difference is given.
            let withheld = m.is_some_and(|b| b.ci_withheld.is_some());
            let (p_cell, mde_cell) = if withheld {
                (
                    p.exact_p_value.map(|x| format!("{} (exact)", verdict::p_text(x))).unwrap_or_else(|| "n/a".into()),
                    "n/a (interval withheld)".to_string(),
                )
            } else {
                (opt(m.and_then(|b| b.p_value)), opt(m.and_then(|b| b.mde_80)))
            };
            vec![
                format!("`{run}`"),
                p.pairs.to_string(),
                opt(p.mean),
                range("pair"),
                range("task"),
                p_cell,
                mde_cell,
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
    if let Some(sens) = &fig.non_trial_sensitivity {
        m.para(&format!(
            "Sensitivity to the outcomes the model was not judged on ({}; pairs not yet run or evaluated aside): the headline with them left out (the default), each counted as a failure, each as a success, and the two that bound it (solo's as successes and coop's as failures: the lowest; the reverse: the highest). Drops that depend on the outcome bias the headline, and a coop pair is dropped when either agent hits infrastructure. Fisher's p compares the coop run's share of them with the solo-curve runs'.",
            sens.classes.join(", ")
        ));
        let rows: Vec<Vec<String>> = sens
            .per_run
            .iter()
            .map(|(run, r)| {
                vec![
                    format!("`{run}`"),
                    format!("{}/{}", r.solo_non_trials, r.solo_cases),
                    format!("{}/{}", r.coop_non_trials, r.coop_cases),
                    format!("{:.4}", r.fisher_p),
                    opt(r.left_out),
                    opt(r.as_failures),
                    opt(r.as_successes),
                    format!("[{}, {}]", opt(r.lowest), opt(r.highest)),
                    if r.sign_depends { "yes: its sign depends on them".into() } else { "no".into() },
                ]
            })
            .collect();
        m.table(
            &[
                ("coop run", l),
                ("not judged, solo", r),
                ("not judged, coop", r),
                ("Fisher p", r),
                ("left out (default)", r),
                ("as failures", r),
                ("as successes", r),
                ("bounds", l),
                ("sign depends", l),
            ],
            &rows,
        );
    }
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

/// Coop against coop (messaging against none, git against none) and each
/// coop run's merge conflicts: what the coop runs hold, compared.
pub(super) fn coop_settings_section(m: &mut Markdown, fig: &Fig4) {
    let merges: Vec<&crate::study::analysis::coop::MergeRate> =
        fig.merge_rates.iter().filter(|r| r.merged > 0).collect();
    if fig.coop_comparisons.is_empty() && merges.is_empty() {
        return;
    }
    m.heading(2, "Coop settings");
    let (l, r) = (Align::Left, Align::Right);
    if !fig.coop_comparisons.is_empty() {
        m.para("Every two coop runs of one model, on the pairs both were judged on: the mean over pairs of (the first's success minus the second's), its bootstrap interval by pair and by task (withheld where it excludes 0 and the exact test does not), and McNemar's exact test on the pairs where the two differ.");
        let cell = |c: &crate::study::analysis::coop::CoopComparison, by: &str| match c.by_cluster.get(by) {
            Some(i) if i.ci_withheld.is_some() => "[n/a: excludes 0, the exact test does not]".to_string(),
            Some(i) => ci(i.ci_lower, i.ci_upper, i.ci_defined_share),
            None => "n/a".into(),
        };
        let rows: Vec<Vec<String>> = fig
            .coop_comparisons
            .iter()
            .map(|c| {
                vec![
                    format!("`{}` minus `{}`", c.a, c.b),
                    c.pairs.to_string(),
                    c.a_only.to_string(),
                    c.b_only.to_string(),
                    opt(c.mean),
                    cell(c, "pair"),
                    cell(c, "task"),
                    c.exact_p_value.map(verdict::p_text).unwrap_or_else(|| "n/a".into()),
                ]
            })
            .collect();
        m.table(
            &[
                ("comparison", l),
                ("pairs", r),
                ("first only", r),
                ("second only", r),
                ("mean difference", r),
                ("by pair [95%]", l),
                ("by task [95%]", l),
                ("exact p (McNemar)", r),
            ],
            &rows,
        );
    }
    if !merges.is_empty() {
        m.para("Merge conflicts per coop run: the share of evaluated pairs whose two patches conflicted (eval.json's `merge.status` is `conflicts`, as the CLI grades it), with Clopper-Pearson's two-sided 95% interval on the pairs as independent trials (pairs of one task share a repository: if anything too narrow). A conflict graded as a fail is the model's outcome, not the machine's.");
        let rows: Vec<Vec<String>> = merges
            .iter()
            .map(|x| {
                let statuses: Vec<String> = x.statuses.iter().map(|(k, n)| format!("{k} {n}")).collect();
                vec![
                    format!("`{}`", x.run),
                    x.merged.to_string(),
                    x.conflicts.to_string(),
                    format!("{} {}", opt(x.rate), ci(x.ci_lower, x.ci_upper, 1.0)),
                    statuses.join(", "),
                ]
            })
            .collect();
        m.table(&[("coop run", l), ("merged", r), ("conflicts", r), ("rate [95%]", l), ("statuses", l)], &rows);
    }
}

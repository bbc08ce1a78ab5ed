//! Coop against coop, the study's own question: for every two coop runs of
//! one model (messaging against none, git against none), the paired
//! difference on the pairs both judged, bootstrapped by pair and by task,
//! with the exact test (McNemar's, on the pairs where they differ); and per
//! coop run the merge-conflict rate, from eval.json's `merge.status` as the
//! CLI writes it. Pure: from the outcome table alone.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::study::exact;
use crate::study::fig4::{self, interval, round6, withhold_unbacked_by, Bootstrap, Cluster, PairTrials, Rng};
use crate::study::models::Models;
use crate::study::outcome::EvalErrors;
use crate::study::table::{RunOutcomes, Table};

/// Two coop runs of one model on the pairs both were judged on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoopComparison {
    pub a: String,
    pub b: String,
    pub pairs: usize,
    /// Pairs where only `a` passed, and only `b`.
    pub a_only: usize,
    pub b_only: usize,
    /// Mean over pairs of (a's success minus b's).
    pub mean: Option<f64>,
    /// By `pair` and by `task`: the 95% bootstrap interval, or why none.
    pub by_cluster: BTreeMap<String, CoopInterval>,
    /// McNemar's exact two-sided test of no difference.
    pub exact_p_value: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoopInterval {
    pub ci_lower: Option<f64>,
    pub ci_upper: Option<f64>,
    pub ci_withheld: Option<String>,
    pub ci_defined_share: f64,
}

/// One coop run's merges, as its evals graded them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MergeRate {
    pub run: String,
    /// Pairs whose eval recorded a merge status.
    pub merged: usize,
    pub conflicts: usize,
    pub rate: Option<f64>,
    /// Clopper-Pearson two-sided 95% on the pairs as independent trials
    /// (tasks share a repository, so it is if anything too narrow).
    pub ci_lower: Option<f64>,
    pub ci_upper: Option<f64>,
    /// Every status seen, with its count.
    pub statuses: BTreeMap<String, usize>,
}

/// The merge status 0.0.29 writes for two patches that conflicted (its
/// statuses: clean, conflicts, missing_input; cited as
/// `study::class::MERGE_CONFLICTS`, `eval/sandbox.py`).
pub const CONFLICTS: &str = "conflicts";

pub fn merge_rates(coop: &[&RunOutcomes], table: &Table) -> Vec<MergeRate> {
    coop.iter()
        .map(|r| {
            let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
            for p in &table.pairs {
                if let Some(m) = r.row(p).merge {
                    *statuses.entry(m).or_default() += 1;
                }
            }
            let merged: usize = statuses.values().sum();
            let conflicts = statuses.get(CONFLICTS).copied().unwrap_or(0);
            let ci = exact::clopper_pearson(conflicts as f64, merged as f64);
            MergeRate {
                run: r.name.clone(),
                merged,
                conflicts,
                rate: (merged > 0).then(|| round6(conflicts as f64 / merged as f64)),
                ci_lower: ci.map(|c| round6(c.0)),
                ci_upper: ci.map(|c| round6(c.1)),
                statuses,
            }
        })
        .collect()
}

/// Every two coop runs of one model, in the order given.
pub fn comparisons(
    coop: &[&RunOutcomes],
    table: &Table,
    models: &Models,
    eval_errors: EvalErrors,
    boot: Bootstrap,
) -> Vec<CoopComparison> {
    let names: Vec<String> = coop.iter().map(|r| r.name.clone()).collect();
    let groups = models.groups(&names);
    let mut out = Vec::new();
    for i in 0..coop.len() {
        for j in i + 1..coop.len() {
            if groups[i] == groups[j] {
                out.push(compare(coop[i], coop[j], table, eval_errors, boot));
            }
        }
    }
    out
}

fn compare(
    a: &RunOutcomes,
    b: &RunOutcomes,
    table: &Table,
    eval_errors: EvalErrors,
    boot: Bootstrap,
) -> CoopComparison {
    let diffs: Vec<Option<f64>> = table
        .pairs
        .iter()
        .map(|p| match (a.row(p).class.trial(eval_errors), b.row(p).class.trial(eval_errors)) {
            (Some(x), Some(y)) => Some(f64::from(u8::from(x)) - f64::from(u8::from(y))),
            _ => None,
        })
        .collect();
    let judged: Vec<f64> = diffs.iter().flatten().copied().collect();
    let a_only = judged.iter().filter(|d| **d > 0.0).count();
    let b_only = judged.iter().filter(|d| **d < 0.0).count();
    let mean = (!judged.is_empty()).then(|| round6(judged.iter().sum::<f64>() / judged.len() as f64));
    let exact_p =
        (!judged.is_empty()).then(|| round6(exact::poisson_binomial_two_sided(&vec![0.5; a_only + b_only], a_only)));
    let shells: Vec<PairTrials> =
        table.pairs.iter().map(|p| PairTrials { pair: p.clone(), solo: Vec::new(), coop: Vec::new() }).collect();
    let mut by_cluster = BTreeMap::new();
    for by in [Cluster::Pair, Cluster::Task] {
        let clusters = fig4::clusters(&shells, by);
        let mut rng = Rng::new(boot.seed);
        let mut values = Vec::with_capacity(boot.replicates);
        for _ in 0..boot.replicates {
            let (mut sum, mut n) = (0.0, 0usize);
            for _ in 0..clusters.len() {
                for &i in &clusters[rng.below(clusters.len())] {
                    if let Some(d) = diffs[i] {
                        sum += d;
                        n += 1;
                    }
                }
            }
            if n > 0 {
                values.push(sum / n as f64);
            }
        }
        let iv = interval(values, boot.replicates);
        let tasks = (by == Cluster::Task).then_some(clusters.len());
        let (lo, hi, withheld) =
            withhold_unbacked_by(iv.bounds.map(|x| x.0), iv.bounds.map(|x| x.1), 0.0, exact_p, tasks);
        by_cluster.insert(
            by.name().to_string(),
            CoopInterval { ci_lower: lo, ci_upper: hi, ci_withheld: withheld, ci_defined_share: iv.defined_share },
        );
    }
    CoopComparison {
        a: a.name.clone(),
        b: b.name.clone(),
        pairs: judged.len(),
        a_only,
        b_only,
        mean,
        by_cluster,
        exact_p_value: exact_p,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(runs: &[(&str, &[(bool, &str)])]) -> Table {
        let mut csv = crate::study::table::CSV_HEADER.join(",") + "\n";
        for (run, rows) in runs {
            for (i, (pass, merge)) in rows.iter().enumerate() {
                let v = if *pass { "pass" } else { "fail" };
                csv += &format!(
                    "{run},coop,amber_task/{}/f1_f{},Submitted,{v},false,0.1,,{v},{merge}\n",
                    100 + i / 2,
                    2 + i % 2
                );
            }
        }
        Table::from_csv(&csv, "test").unwrap()
    }

    /// Messaging passes 8 of 10 pairs, none 2: they differ on 6 pairs, all
    /// for messaging: mean 0.6, McNemar's exact p = 2 * 0.5^6 = 0.03125.
    /// Conflicts in 1 of 10 merges with messaging, 5 of 10 without.
    #[test]
    fn two_coop_runs_by_hand() {
        let comm: Vec<(bool, &str)> = (0..10).map(|i| (i < 8, if i == 9 { "conflicts" } else { "clean" })).collect();
        let none: Vec<(bool, &str)> = (0..10).map(|i| (i < 2, if i >= 5 { "conflicts" } else { "clean" })).collect();
        let t = table(&[("comm", &comm), ("nocomm", &none)]);
        let runs: Vec<&RunOutcomes> = t.runs.iter().collect();
        let boot = Bootstrap { replicates: 500, seed: 3, cluster: Cluster::Pair };
        let c = comparisons(&runs, &t, &Models::default(), EvalErrors::Exclude, boot);
        assert_eq!(c.len(), 1);
        let c = &c[0];
        assert_eq!((c.a.as_str(), c.b.as_str(), c.pairs, c.a_only, c.b_only), ("comm", "nocomm", 10, 6, 0));
        assert_eq!((c.mean, c.exact_p_value), (Some(0.6), Some(0.03125)));
        let by_pair = &c.by_cluster["pair"];
        assert!(by_pair.ci_lower.unwrap() > 0.0 && by_pair.ci_withheld.is_none(), "{by_pair:?}");
        let m = merge_rates(&runs, &t);
        assert_eq!((m[0].conflicts, m[0].merged, m[0].rate), (1, 10, Some(0.1)));
        assert_eq!((m[1].conflicts, m[1].rate), (5, Some(0.5)));
        // Clopper-Pearson 1 of 10: [0.002529, 0.445016].
        assert_eq!((m[0].ci_lower, m[0].ci_upper), (Some(0.002529), Some(0.445016)));
        // Two models' coop runs are not compared with each other.
        let models = Models::of([("comm".to_string(), "A".to_string()), ("nocomm".to_string(), "B".to_string())]);
        assert!(comparisons(&runs, &t, &models, EvalErrors::Exclude, boot).is_empty());
    }
}

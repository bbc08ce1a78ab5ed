//! Coop against solo, pair by pair: the paired difference of each coop run
//! bootstrapped over clusters, its exact test, and the rule that withholds
//! an interval the exact test does not back.

use serde::Serialize;

use super::resample::{interval, Rng};
use super::trials::{contribution, Bootstrap, Contribution, Design, PairTrials};
use crate::study::exact;
use crate::study::json::round6;

/// The exact p-value of coop run `c` (see [`Paired::exact_p_value`]).
pub(super) fn paired_exact_p(
    pairs: &[PairTrials],
    contributions: &[Contribution],
    design: &Design,
    c: usize,
) -> Option<f64> {
    let (mut chances, mut coop_passes) = (Vec::new(), 0);
    for (pair, x) in pairs.iter().zip(contributions) {
        if let Some(t) = x.paired[c] {
            let solo: Vec<bool> = pair.solo_curve_trials(design).collect();
            let successes = solo.iter().filter(|ok| **ok).count() + usize::from(t.coop);
            chances.push(successes as f64 / (solo.len() + 1) as f64);
            coop_passes += usize::from(t.coop);
        }
    }
    (!chances.is_empty()).then(|| exact::poisson_binomial_two_sided(&chances, coop_passes))
}

/// The study's rule for the interval of a coop-against-solo comparison:
/// one that excludes `no_effect` (0 for a difference, 1 for retention)
/// where the exact test does not is no evidence (the percentile bootstrap
/// on a few pairs that differ excludes it whenever they all lean one way),
/// so its bounds are withheld and the reason, with them, is given instead.
pub fn withhold_unbacked(
    lo: Option<f64>,
    hi: Option<f64>,
    no_effect: f64,
    exact_p: Option<f64>,
) -> (Option<f64>, Option<f64>, Option<String>) {
    withhold_unbacked_by(lo, hi, no_effect, exact_p, None)
}

/// [`withhold_unbacked`], with the true reason when the clusters are
/// tasks (`Some(how many)`): a percentile bootstrap over a few dozen
/// clusters is anti-conservative (its 95% intervals cover less), which is
/// why it is not evidence, however many pairs differ.
pub fn withhold_unbacked_by(
    lo: Option<f64>,
    hi: Option<f64>,
    no_effect: f64,
    exact_p: Option<f64>,
    task_clusters: Option<usize>,
) -> (Option<f64>, Option<f64>, Option<String>) {
    match (lo, hi, exact_p) {
        (Some(l), Some(u), Some(p)) if (l > no_effect || u < no_effect) && p >= EXACT_ALPHA => {
            let why = match task_clusters {
                Some(n) => format!(
                    "a percentile bootstrap over {n} tasks is anti-conservative (its 95% intervals cover less than 95% with this few clusters), so it is no evidence where the exact test finds none"
                ),
                None => "too few pairs differ for its percentiles to be evidence".to_string(),
            };
            (
                None,
                None,
                Some(format!(
                    "the bootstrap's [{l:.3}, {u:.3}] excludes {no_effect} but the exact test does not (p = {p:.3}): {why}"
                )),
            )
        }
        _ => (lo, hi, None),
    }
}

/// The level of the exact test behind [`withhold_unbacked`].
const EXACT_ALPHA: f64 = 0.05;

/// The paired difference of one coop run under one clustering: its
/// interval, standard error, a two-sided p-value and the smallest
/// difference this design would detect.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairedBoot {
    /// The point estimate, as in `paired_difference`.
    pub mean: Option<f64>,
    pub ci_lower: Option<f64>,
    pub ci_upper: Option<f64>,
    /// Why the interval is not given though the bootstrap made one.
    pub ci_withheld: Option<String>,
    pub ci_defined_share: f64,
    pub ci_mc_error: Option<f64>,
    /// The exact test of no coop effect, as in `paired_difference`.
    pub exact_p_value: Option<f64>,
    /// Standard deviation of the replicates; null (as `p_value` and
    /// `mde_80`) where the interval is withheld (`ci_withheld` says why).
    pub se: Option<f64>,
    /// Percentile bootstrap: twice the smaller share of replicates on one
    /// side of 0 (the level at which the interval would just reach 0).
    pub p_value: Option<f64>,
    /// (z 0.975 + z 0.80) x se: the difference a two-sided 5% test would
    /// find four times in five, in either direction.
    pub mde_80: Option<f64>,
}

/// z(0.975) + z(0.80).
pub const MDE_FACTOR: f64 = 1.959_963_985 + 0.841_621_234;

/// The paired difference of every coop run, bootstrapped over `clusters`
/// (of pair indices) alone: the same replicates as the figure's when the
/// clusters and the seed are the same.
pub fn paired_bootstrap(
    pairs: &[PairTrials],
    design: &Design,
    clusters: &[Vec<usize>],
    boot: Bootstrap,
) -> Vec<PairedBoot> {
    let contributions: Vec<Contribution> = pairs.iter().map(|p| contribution(p, design)).collect();
    let mut values: Vec<Vec<f64>> = vec![Vec::new(); design.coop_runs];
    let means: Vec<Option<f64>> = (0..design.coop_runs)
        .map(|c| {
            let d: Vec<f64> = contributions.iter().filter_map(|x| x.paired[c]).map(|p| p.difference()).collect();
            (!d.is_empty()).then(|| round6(d.iter().sum::<f64>() / d.len() as f64))
        })
        .collect();
    let mut rng = Rng::new(boot.seed);
    for _ in 0..boot.replicates {
        let mut sums = vec![(0.0, 0usize); design.coop_runs];
        for _ in 0..clusters.len() {
            for &i in &clusters[rng.below(clusters.len())] {
                for (acc, p) in sums.iter_mut().zip(&contributions[i].paired) {
                    if let Some(p) = p {
                        acc.0 += p.difference();
                        acc.1 += 1;
                    }
                }
            }
        }
        for (v, (sum, n)) in values.iter_mut().zip(sums) {
            if n > 0 {
                v.push(sum / n as f64);
            }
        }
    }
    values
        .into_iter()
        .zip(means)
        .enumerate()
        .map(|(c, (v, mean_point))| {
            let i = interval(v.clone(), boot.replicates);
            let defined = i.bounds.is_some() && v.len() > 1;
            let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
            let se = defined.then(|| (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt());
            let below = v.iter().filter(|x| **x <= 0.0).count() as f64 / v.len().max(1) as f64;
            let above = v.iter().filter(|x| **x >= 0.0).count() as f64 / v.len().max(1) as f64;
            let exact_p = paired_exact_p(pairs, &contributions, design, c);
            let tasks = (boot.cluster == super::trials::Cluster::Task).then_some(clusters.len());
            let (lo, hi, withheld) =
                withhold_unbacked_by(i.bounds.map(|b| b.0), i.bounds.map(|b| b.1), 0.0, exact_p, tasks);
            // A withheld interval's replicates give no standard error, p or
            // detectable difference either: null, the reason in ci_withheld.
            let trusted = defined && withheld.is_none();
            let se = se.filter(|_| trusted);
            PairedBoot {
                mean: mean_point,
                ci_lower: lo,
                ci_upper: hi,
                ci_withheld: withheld,
                exact_p_value: exact_p.map(round6),
                ci_defined_share: i.defined_share,
                ci_mc_error: i.mc_error,
                se: se.map(round6),
                p_value: trusted.then(|| round6((2.0 * below.min(above)).min(1.0))),
                mde_80: se.map(|s| round6(MDE_FACTOR * s)),
            }
        })
        .collect()
}

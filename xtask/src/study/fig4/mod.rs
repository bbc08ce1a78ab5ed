//! Figure 4's numbers, pure: success rate per difficulty bucket and setting,
//! the area under each curve on one grid, coop retention, the paired
//! coop-minus-solo difference, and cluster-bootstrap intervals for all of
//! them (Wilson intervals beside, as the paper drew them).
//!
//! Where a trial sits on the x axis is the study's one rule of placement:
//! - held-out (the default): seed s's trial on pair p sits at p's difficulty
//!   over the *other* solo seeds, so no trial is judged by a difficulty it
//!   helped make; a coop trial sits at each of those K held-out difficulties
//!   with weight 1/K, so both settings share one estimator and one grid.
//! - in-sample (the paper's): every trial sits at the difficulty over all
//!   solo seeds, which makes the solo curve fall from 1 to 0 by construction.

mod paired;
mod resample;
mod trials;

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};

use crate::study::exact;
pub use crate::study::json::round6;
use paired::paired_exact_p;
pub use paired::{paired_bootstrap, withhold_unbacked, withhold_unbacked_by, PairedBoot, MDE_FACTOR};
use resample::Z;
pub use resample::{interval, quantile, quantile_mc_error, Interval, Rng, MIN_DEFINED_SHARE};
pub use trials::{clusters, contribution, Bootstrap, Cluster, Contribution, Design, DifficultyMode, PairTrials};

/// Wilson score interval for `k` successes in `n` trials; `n = 0` is [0, 1].
/// Weighted (fractional) counts are taken as they are.
pub fn wilson(k: f64, n: f64) -> (f64, f64) {
    if n <= 0.0 {
        return (0.0, 1.0);
    }
    let p = k / n;
    let z2 = Z * Z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = Z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// The x of bucket `b` on the plot.
pub fn center(b: usize) -> f64 {
    0.05 + 0.1 * b as f64
}

/// Trapezoids over `(x, y)` points sorted by x; fewer than two points have
/// no area to speak of (`None`).
pub fn auc(points: &[(f64, f64)]) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    Some(points.windows(2).map(|w| (w[1].0 - w[0].0) * (w[0].1 + w[1].1) / 2.0).sum())
}

/// `AUC_coop / AUC_solo`, `None` when either is missing or solo's is 0.
pub fn retention(coop: Option<f64>, solo: Option<f64>) -> Option<f64> {
    match (coop, solo) {
        (Some(c), Some(s)) if s > 0.0 => Some(c / s),
        _ => None,
    }
}

/// Sums of contributions: the figure's raw counts.
#[derive(Debug, Clone)]
struct Tally {
    /// `[bucket * settings + setting] = (successes, trials)`.
    cells: Vec<(f64, f64)>,
    /// Whether a cell holds trials of weight below 1 (held-out coop).
    weighted: Vec<bool>,
    pairs: [usize; 10],
    /// Per coop run: (sum of differences, pairs, solo only, coop only).
    paired: Vec<(f64, usize, f64, f64)>,
}

impl Tally {
    fn new(design: &Design) -> Tally {
        Tally {
            cells: vec![(0.0, 0.0); 10 * design.settings()],
            weighted: vec![false; 10 * design.settings()],
            pairs: [0; 10],
            paired: vec![(0.0, 0, 0.0, 0.0); design.coop_runs],
        }
    }

    fn add(&mut self, c: &Contribution, settings: usize) {
        for &(b, s, k, n) in &c.cells {
            let cell = &mut self.cells[b * settings + s];
            cell.0 += k;
            cell.1 += n;
            self.weighted[b * settings + s] |= (n - 1.0).abs() > 1e-9;
        }
        for (b, placed) in c.placed.iter().enumerate() {
            self.pairs[b] += usize::from(*placed);
        }
        for (acc, p) in self.paired.iter_mut().zip(&c.paired) {
            if let Some(p) = p {
                let (so, co) = p.discordance();
                acc.0 += p.difference();
                acc.1 += 1;
                acc.2 += so;
                acc.3 += co;
            }
        }
    }

    fn rate(&self, b: usize, s: usize, settings: usize) -> Option<f64> {
        let (k, n) = self.cells[b * settings + s];
        (n > 0.0).then(|| k / n)
    }
}

/// The statistics the bootstrap recomputes in each replicate.
#[derive(Debug, Clone)]
struct Stats {
    rates: Vec<Option<f64>>,
    auc: Vec<Option<f64>>,
    retention: Vec<Option<f64>>,
    auc_difference: Vec<Option<f64>>,
    paired: Vec<Option<f64>>,
}

fn stats(t: &Tally, grid: &[usize], settings: usize) -> Stats {
    let rates: Vec<Option<f64>> = (0..10 * settings).map(|i| t.rate(i / settings, i % settings, settings)).collect();
    let auc: Vec<Option<f64>> = (0..settings)
        .map(|s| {
            let points: Option<Vec<(f64, f64)>> =
                grid.iter().map(|&b| rates[b * settings + s].map(|r| (center(b), r))).collect();
            auc(&points?)
        })
        // Rounded as written, so that dividing the printed AUCs gives the
        // printed retention.
        .map(|a| a.map(round6))
        .collect();
    let retention = (1..settings).map(|s| retention(auc[s], auc[0])).collect();
    let auc_difference = (1..settings).map(|s| Some(auc[s]? - auc[0]?)).collect();
    let paired = t.paired.iter().map(|(sum, n, _, _)| (*n > 0).then(|| sum / *n as f64)).collect();
    Stats { rates, auc, retention, auc_difference, paired }
}

/// A bucket with fewer pairs than this gives a rate too unreliable to draw
/// a curve through: the report warns, and the figure draws it hollow.
pub const RELIABLE_BUCKET_PAIRS: usize = 5;

/// Numbers written with six decimals, whole numbers without a fraction, so
/// that in-sample counts read `27`, as they always did.
fn num<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        s.serialize_i64(*x as i64)
    } else {
        s.serialize_f64(round6(*x))
    }
}

/// Where a cell's interval comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CiMethod {
    /// Percentiles of the cluster bootstrap.
    Bootstrap,
    /// Fewer than five successes or failures (at 0/n or n/n the
    /// bootstrap's replicates all agree, a zero-width interval that
    /// measures nothing): Clopper and Pearson's two-sided 95% interval on
    /// the effective trials instead.
    ClopperPearson,
    /// No interval: an empty cell, or too few replicates define it.
    #[default]
    None,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Cell {
    #[serde(serialize_with = "num")]
    pub successes: f64,
    #[serde(serialize_with = "num")]
    pub trials: f64,
    pub rate: Option<f64>,
    /// The 95% interval `ci_method` names; [0, 1] when there is none.
    pub ci_lower: f64,
    pub ci_upper: f64,
    pub ci_method: CiMethod,
    /// The share of bootstrap replicates in which the cell has trials.
    pub ci_defined_share: f64,
    pub ci_mc_error: Option<f64>,
    /// Kish's effective number of trials of the cell's weights (its trials
    /// when every weight is 1), and the clusters they fall in.
    pub kish_trials: f64,
    pub clusters: usize,
    /// With Clopper-Pearson: the independent trials it rests on (the
    /// effective n), Kish's n divided by the design effect of its clusters.
    pub effective_trials: Option<f64>,
    /// The paper's interval, treating every trial as independent; `None`
    /// for a cell of weighted trials (a held-out coop trial counts 1/K in up
    /// to K cells), whose count is no number of independent trials.
    pub wilson_lower: Option<f64>,
    pub wilson_upper: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Bucket {
    pub bucket: usize,
    pub center: f64,
    pub empty: bool,
    pub pairs: usize,
    pub settings: BTreeMap<String, Cell>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    pub value: Option<f64>,
    pub ci_lower: Option<f64>,
    pub ci_upper: Option<f64>,
    /// The share of bootstrap replicates that define it; below
    /// [`MIN_DEFINED_SHARE`], no interval.
    pub ci_defined_share: f64,
    pub ci_mc_error: Option<f64>,
    /// Why the interval is not given though the bootstrap made one.
    pub ci_withheld: Option<String>,
}

impl Estimate {
    fn new(value: Option<f64>, ci: Interval) -> Estimate {
        Estimate {
            value: value.map(round6),
            ci_lower: ci.bounds.map(|c| c.0),
            ci_upper: ci.bounds.map(|c| c.1),
            ci_defined_share: ci.defined_share,
            ci_mc_error: ci.mc_error,
            ci_withheld: None,
        }
    }

    /// Both ends known and zero between them: no difference can be claimed.
    pub fn spans_zero(&self) -> bool {
        matches!((self.ci_lower, self.ci_upper), (Some(l), Some(u)) if l <= 0.0 && u >= 0.0)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Paired {
    pub mean: Option<f64>,
    pub ci_lower: Option<f64>,
    pub ci_upper: Option<f64>,
    /// Why the interval is not given though the bootstrap made one.
    pub ci_withheld: Option<String>,
    pub ci_defined_share: f64,
    pub ci_mc_error: Option<f64>,
    /// Seed-averaged: pairs where one solo seed, drawn at random, passed
    /// and coop failed (and the reverse), summed over pairs.
    pub solo_only: f64,
    pub coop_only: f64,
    pub pairs: usize,
    /// Pearson's correlation, over the pairs, of a pair's solo success rate
    /// and its coop outcome: near 0, coop success does not follow what
    /// solo finds easy, and the difficulty axis explains little of it.
    pub solo_rate_correlation: Option<f64>,
    /// The exact test of no coop effect that keeps the pairing: with no
    /// effect, a pair's coop trial is one more of its seeds, so given the
    /// pair's t successes among its m solo-curve trials and coop trial,
    /// coop passes with chance t/m; the coop passes summed over pairs are
    /// then Poisson-binomial, and this is the two-sided exact p-value.
    /// Each pair is one unit (no seed is taken as independent of its
    /// pair's others; tasks are not modelled). A bootstrap interval that
    /// excludes 0 where this test does not rests on too few pairs that
    /// differ, and the report withholds it.
    pub exact_p_value: Option<f64>,
}

/// Everything Figure 4 says, per setting name (`solo`, then the coop runs).
#[derive(Debug, Clone)]
pub struct Curves {
    pub settings: Vec<String>,
    pub buckets: Vec<Bucket>,
    /// Bucket indices where every setting has trials: the one AUC grid.
    pub grid: Vec<usize>,
    pub auc: BTreeMap<String, Estimate>,
    pub retention: BTreeMap<String, Estimate>,
    pub auc_difference: BTreeMap<String, Estimate>,
    pub paired: BTreeMap<String, Paired>,
    /// Pairs that no trial could be placed for.
    pub unplaced_pairs: usize,
}

/// The figure from each pair's trials, with intervals from `bootstrap`
/// replicates that resample clusters of pairs (`clusters` lists pair indices).
pub fn curves(
    pairs: &[PairTrials],
    design: &Design,
    coop_names: &[String],
    clusters: &[Vec<usize>],
    boot: Bootstrap,
) -> Curves {
    let n_settings = design.settings();
    let mut settings = vec!["solo".to_string()];
    settings.extend(coop_names.iter().cloned());
    let contributions: Vec<Contribution> = pairs.iter().map(|p| contribution(p, design)).collect();
    let mut all = Tally::new(design);
    for c in &contributions {
        all.add(c, n_settings);
    }
    let grid: Vec<usize> = (0..10).filter(|&b| (0..n_settings).all(|s| all.rate(b, s, n_settings).is_some())).collect();
    let point = stats(&all, &grid, n_settings);

    let mut replicates: Vec<Stats> = Vec::with_capacity(boot.replicates);
    let mut rng = Rng::new(boot.seed);
    for _ in 0..boot.replicates {
        let mut t = Tally::new(design);
        for _ in 0..clusters.len() {
            for &i in &clusters[rng.below(clusters.len())] {
                t.add(&contributions[i], n_settings);
            }
        }
        replicates.push(stats(&t, &grid, n_settings));
    }
    let ci = |get: &dyn Fn(&Stats) -> Option<f64>| -> Interval {
        interval(replicates.iter().filter_map(get).collect(), boot.replicates)
    };
    // Per cell: the sum of weights, of squared weights, and the clusters
    // with trials in it, for Kish's n and the design effect.
    let mut design_cells = vec![(0.0f64, 0.0f64, 0usize); 10 * n_settings];
    for cluster in clusters {
        let mut touched = vec![false; design_cells.len()];
        for &i in cluster {
            for &(b, s, _, w) in &contributions[i].cells {
                let j = b * n_settings + s;
                design_cells[j].0 += w;
                design_cells[j].1 += w * w;
                touched[j] = true;
            }
        }
        for (d, t) in design_cells.iter_mut().zip(touched) {
            d.2 += usize::from(t);
        }
    }

    let buckets = (0..10)
        .map(|b| {
            let cells = (0..n_settings)
                .map(|s| {
                    let (k, n) = all.cells[b * n_settings + s];
                    let whole = !all.weighted[b * n_settings + s];
                    let (wl, wu) = wilson(k, n);
                    let interval = if n > 0.0 {
                        ci(&|r| r.rates[b * n_settings + s])
                    } else {
                        Interval { bounds: None, defined_share: 0.0, mc_error: None }
                    };
                    let (cl, cu) = interval.bounds.unwrap_or((0.0, 1.0));
                    let (sum_w, sum_w2, in_clusters) = design_cells[b * n_settings + s];
                    let cell = Cell {
                        successes: k,
                        trials: n,
                        rate: point.rates[b * n_settings + s].map(round6),
                        ci_lower: cl,
                        ci_upper: cu,
                        ci_method: if interval.bounds.is_some() { CiMethod::Bootstrap } else { CiMethod::None },
                        ci_defined_share: interval.defined_share,
                        ci_mc_error: interval.mc_error,
                        kish_trials: round6(exact::kish_n(sum_w, sum_w2)),
                        clusters: in_clusters,
                        effective_trials: None,
                        wilson_lower: whole.then(|| round6(wl)),
                        wilson_upper: whole.then(|| round6(wu)),
                    };
                    (settings[s].clone(), cell)
                })
                .collect();
            Bucket {
                bucket: b,
                center: round6(center(b)),
                empty: all.pairs[b] == 0,
                pairs: all.pairs[b],
                settings: cells,
            }
        })
        .collect();
    let auc = (0..n_settings).map(|s| (settings[s].clone(), Estimate::new(point.auc[s], ci(&|r| r.auc[s])))).collect();
    let per_coop = |f: &dyn Fn(&Stats, usize) -> Option<f64>| -> BTreeMap<String, Estimate> {
        (0..design.coop_runs).map(|c| (coop_names[c].clone(), Estimate::new(f(&point, c), ci(&|r| f(r, c))))).collect()
    };
    let exact_p: Vec<Option<f64>> =
        (0..design.coop_runs).map(|c| paired_exact_p(pairs, &contributions, design, c)).collect();
    // Retention excludes 1 exactly when the AUC difference excludes 0: the
    // same rule withholds both where the exact test finds nothing.
    let backed = |mut m: BTreeMap<String, Estimate>, no_effect: f64| {
        for (c, name) in coop_names.iter().enumerate() {
            if let Some(e) = m.get_mut(name) {
                (e.ci_lower, e.ci_upper, e.ci_withheld) =
                    withhold_unbacked(e.ci_lower, e.ci_upper, no_effect, exact_p[c]);
            }
        }
        m
    };
    let retention = backed(per_coop(&|s, c| s.retention[c]), 1.0);
    let auc_difference = backed(per_coop(&|s, c| s.auc_difference[c]), 0.0);
    let paired = (0..design.coop_runs)
        .map(|c| {
            let e = Estimate::new(point.paired[c], ci(&|r| r.paired[c]));
            let (_, n, so, co) = all.paired[c];
            let points: Vec<(f64, f64)> = contributions
                .iter()
                .filter_map(|x| x.paired[c])
                .map(|p| (p.solo_rate, f64::from(u8::from(p.coop))))
                .collect();
            let (lo, hi, withheld) = withhold_unbacked(e.ci_lower, e.ci_upper, 0.0, exact_p[c]);
            let p = Paired {
                mean: e.value,
                ci_lower: lo,
                ci_upper: hi,
                ci_withheld: withheld,
                ci_defined_share: e.ci_defined_share,
                ci_mc_error: e.ci_mc_error,
                solo_only: round6(so),
                coop_only: round6(co),
                pairs: n,
                solo_rate_correlation: exact::correlation(&points).map(round6),
                exact_p_value: exact_p[c].map(round6),
            };
            (coop_names[c].clone(), p)
        })
        .collect();
    let unplaced_pairs = contributions.iter().filter(|c| !c.is_placed()).count();
    Curves { settings, buckets, grid, auc, retention, auc_difference, paired, unplaced_pairs }
}

/// Fewer successes or failures than this (on the effective trials), and a
/// rate's interval is Clopper and Pearson's, not the bootstrap's: its
/// percentiles on a handful of events are too narrow (at 0/n or n/n they
/// have zero width).
pub const FEW_EVENTS: f64 = 5.0;

/// Cells with fewer than [`FEW_EVENTS`] successes or failures get Clopper
/// and Pearson's two-sided 95% interval on their effective trials in place
/// of the bootstrap's percentiles. Their trials are made independent by
/// the design effect of their clusters, with `rho` the correlation of
/// outcomes within one cluster: the solo seeds' intra-class correlation
/// when clusters are pairs, 1 when they are tasks (no estimate of the
/// within-task correlation is made: one trial per task, the cautious end).
pub fn exact_bounds(buckets: &mut [Bucket], rho: f64) {
    for cell in buckets.iter_mut().flat_map(|b| b.settings.values_mut()) {
        let Some(rate) = cell.rate else { continue };
        let n = exact::design_effect_n(cell.kish_trials, cell.clusters, rho);
        let k = rate * n;
        if k >= FEW_EVENTS && n - k >= FEW_EVENTS {
            continue;
        }
        let Some((lo, hi)) = exact::clopper_pearson(k, n) else { continue };
        (cell.ci_lower, cell.ci_upper) = (round6(lo), round6(hi));
        cell.ci_method = CiMethod::ClopperPearson;
        cell.ci_mc_error = None;
        cell.effective_trials = Some(round6(n));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::study::pair::PairId;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 5e-7
    }

    #[test]
    fn wilson_known_points() {
        let (lo, hi) = wilson(1.0, 1.0);
        assert!(close(lo, 0.206543) && close(hi, 1.0), "{lo} {hi}");
        let (lo, hi) = wilson(0.0, 95.0);
        assert!(close(lo, 0.0) && close(hi, 0.038866), "{lo} {hi}");
        assert_eq!(wilson(0.0, 0.0), (0.0, 1.0));
        let (lo, hi) = wilson(5.0, 10.0);
        assert!(close(lo + hi, 1.0) && lo < 0.5 && hi > 0.5);
    }

    #[test]
    fn auc_and_retention_by_hand() {
        // Solo: 1.0 at 0.05, 0.5 at 0.35, 0.0 at 0.95.
        // (0.3 * 1.5 / 2) + (0.6 * 0.5 / 2) = 0.225 + 0.15 = 0.375
        let solo = auc(&[(0.05, 1.0), (0.35, 0.5), (0.95, 0.0)]).unwrap();
        assert!(close(solo, 0.375));
        // Coop: 0.5 at 0.05, 0.25 at 0.35, 0.0 at 0.95: half of solo.
        let coop = auc(&[(0.05, 0.5), (0.35, 0.25), (0.95, 0.0)]).unwrap();
        assert!(close(retention(Some(coop), Some(solo)).unwrap(), 0.5));
        assert_eq!(auc(&[(0.05, 1.0)]), None);
        assert_eq!(retention(Some(0.1), Some(0.0)), None);
        assert_eq!(retention(None, Some(0.3)), None);
    }

    fn trials(solo: &[Option<bool>], coop: &[Option<bool>]) -> PairTrials {
        PairTrials { pair: PairId::new("a_task", 1, 1, 2), solo: solo.to_vec(), coop: coop.to_vec() }
    }

    fn design(mode: DifficultyMode, k: usize) -> Design {
        Design { mode, solo_curve: vec![true; k], coop_runs: 1, models: Vec::new() }
    }

    const T: Option<bool> = Some(true);
    const F: Option<bool> = Some(false);

    #[test]
    fn held_out_places_each_seed_by_the_others() {
        // Solo pass, pass, fail; coop pass.
        let p = trials(&[T, T, F], &[T]);
        let c = contribution(&p, &design(DifficultyMode::HeldOut, 3));
        // Seed 0 and seed 1 (passes) sit at d(other two) = 1/2 -> bucket 5;
        // seed 2 (the failure) at d(pass, pass) = 0 -> bucket 0.
        let solo: Vec<_> = c.cells.iter().filter(|x| x.1 == 0).map(|x| (x.0, x.2, x.3)).collect();
        assert_eq!(solo, [(5, 1.0, 1.0), (5, 1.0, 1.0), (0, 0.0, 1.0)]);
        // Coop sits at each of the three held-out difficulties with weight
        // 1/3, the two in bucket 5 as one trial of weight 2/3.
        let coop: Vec<_> = c.cells.iter().filter(|x| x.1 == 1).map(|x| (x.0, x.2, x.3)).collect();
        assert_eq!(coop.iter().map(|x| x.0).collect::<Vec<_>>(), [5, 0]);
        assert!(close(coop[0].1, 2.0 / 3.0) && close(coop[0].2, 2.0 / 3.0), "{coop:?}");
        assert!(close(coop[1].1, 1.0 / 3.0) && close(coop[1].2, 1.0 / 3.0), "{coop:?}");
        // In-sample: all at 1/3 -> bucket 3, weight 1.
        let c = contribution(&p, &design(DifficultyMode::InSample, 3));
        assert!(c.cells.iter().all(|x| x.0 == 3 && x.3 == 1.0));
        // Paired: coop 1 - solo 2/3 = 1/3; coop passed where 1 of 3 seeds
        // failed: coop only 1/3 per seed, solo only 0.
        let p = c.paired[0].unwrap();
        let (so, co) = p.discordance();
        assert!(close(p.difference(), 1.0 / 3.0) && close(so, 0.0) && close(co, 1.0 / 3.0));
    }

    #[test]
    fn a_solo_curve_subset_places_coop_where_its_seeds_sit() {
        // Seeds pass, pass, fail; only seeds 0 and 2 draw the solo curve.
        // Seed 0 sits at d(seeds 1, 2) = 1/2 (bucket 5), seed 2 at
        // d(seeds 0, 1) = 0 (bucket 0): coop goes to those two, 1/2 each,
        // never to seed 1's held-out difficulty.
        let p = trials(&[T, T, F], &[T]);
        let d =
            Design { mode: DifficultyMode::HeldOut, solo_curve: vec![true, false, true], coop_runs: 1, models: vec![] };
        let c = contribution(&p, &d);
        let solo: Vec<_> = c.cells.iter().filter(|x| x.1 == 0).map(|x| (x.0, x.3)).collect();
        assert_eq!(solo, [(5, 1.0), (0, 1.0)]);
        let coop: Vec<_> = c.cells.iter().filter(|x| x.1 == 1).map(|x| (x.0, x.3)).collect();
        assert_eq!(coop, [(5, 0.5), (0, 0.5)]);
    }

    #[test]
    fn a_pair_with_one_valid_seed_gives_no_held_out_trial() {
        let p = trials(&[T, None, None], &[T]);
        let c = contribution(&p, &design(DifficultyMode::HeldOut, 3));
        // Leaving out seed 0 leaves no valid seed; leaving out 1 or 2 leaves
        // seed 0 (d = 0), which places the coop trial (weight 1/3 twice:
        // one entry of 2/3) but no solo trial.
        assert!(c.cells.iter().all(|x| x.1 == 1 && x.0 == 0));
        assert_eq!(c.cells.len(), 1);
        assert!(close(c.cells[0].3, 2.0 / 3.0));
        let p = trials(&[T, None, None], &[None]);
        assert!(!contribution(&p, &design(DifficultyMode::HeldOut, 3)).is_placed());
    }

    #[test]
    fn curves_by_hand_and_a_deterministic_bootstrap() {
        // Four pairs, in-sample d = 0, 1/3, 2/3, 1.
        let pairs = vec![
            trials(&[T, T, T], &[T]),
            trials(&[T, T, F], &[T]),
            trials(&[T, F, F], &[F]),
            trials(&[F, F, F], &[F]),
        ];
        let names = vec!["coop".to_string()];
        let boot = Bootstrap { replicates: 200, seed: 7, cluster: Cluster::Pair };
        let cl = clusters(&pairs, Cluster::Pair);
        let c = curves(&pairs, &design(DifficultyMode::InSample, 3), &names, &cl, boot);
        assert_eq!(c.grid, [0, 3, 6, 9]);
        // Solo 1, 2/3, 1/3, 0: AUC = 0.3*(5/3)/2 + 0.3*1/2 + 0.3*(1/3)/2 = 0.45.
        assert_eq!(c.auc["solo"].value, Some(0.45));
        // Coop 1, 1, 0, 0: 0.3 + 0.15 + 0 = 0.45; retention 1.
        assert_eq!(c.auc["coop"].value, Some(0.45));
        assert_eq!(c.retention["coop"].value, Some(1.0));
        // Paired: (1-1) + (1-2/3) + (0-1/3) + (0-0) = 0 over 4 pairs.
        let p = &c.paired["coop"];
        // Per seed: pair 2 (P P F vs P) coop only 1/3; pair 3 (P F F vs F)
        // solo only 1/3.
        assert_eq!((p.mean, p.pairs), (Some(0.0), 4));
        assert!(close(p.solo_only, 1.0 / 3.0) && close(p.coop_only, 1.0 / 3.0), "{p:?}");
        let again = curves(&pairs, &design(DifficultyMode::InSample, 3), &names, &cl, boot);
        assert_eq!(c.auc["coop"], again.auc["coop"]);
        assert_eq!(c.paired["coop"], again.paired["coop"]);
        let other = curves(&pairs, &design(DifficultyMode::InSample, 3), &names, &cl, Bootstrap { seed: 8, ..boot });
        assert_ne!(c.paired["coop"].ci_lower, None);
        assert!(c.paired["coop"] != other.paired["coop"] || c.auc["coop"] != other.auc["coop"]);
        // A bucket's bootstrap interval holds its rate.
        let b3 = &c.buckets[3].settings["solo"];
        assert!(b3.ci_lower <= b3.rate.unwrap() && b3.rate.unwrap() <= b3.ci_upper);
    }

    #[test]
    fn task_clusters_group_pairs_of_one_task() {
        let mut a = trials(&[T], &[]);
        let mut b = a.clone();
        let mut c = a.clone();
        a.pair = PairId::new("r_task", 1, 1, 2);
        b.pair = PairId::new("r_task", 2, 1, 2);
        c.pair = PairId::new("r_task", 1, 1, 3);
        assert_eq!(clusters(&[a, b, c], Cluster::Task), vec![vec![0, 2], vec![1]]);
    }

    #[test]
    fn a_cell_at_0_of_n_gets_the_exact_bound_on_its_effective_trials() {
        // Six pairs of three seeds that always fail, in-sample: bucket 9
        // holds 18 solo trials in 6 pair clusters. With rho 0.5 the design
        // effect is 1 + (3 - 1) * 0.5 = 2: 9 effective trials. The coop
        // cell: 6 trials in 6 clusters, deff 1: 6 effective trials.
        let pairs: Vec<PairTrials> = (0..6).map(|_| trials(&[F, F, F], &[F])).collect();
        let boot = Bootstrap { replicates: 50, seed: 1, cluster: Cluster::Pair };
        let d = design(DifficultyMode::InSample, 3);
        let mut c = curves(&pairs, &d, &["coop".into()], &clusters(&pairs, Cluster::Pair), boot);
        let solo = c.buckets[9].settings["solo"];
        assert_eq!((solo.ci_lower, solo.ci_upper, solo.ci_method), (0.0, 0.0, CiMethod::Bootstrap));
        assert_eq!((solo.kish_trials, solo.clusters), (18.0, 6));
        exact_bounds(&mut c.buckets, 0.5);
        let solo = c.buckets[9].settings["solo"];
        // Two-sided Clopper-Pearson at 0/9: 1 - 0.025^(1/9) = 0.336267.
        assert_eq!((solo.ci_lower, solo.ci_upper, solo.ci_method), (0.0, 0.336_267, CiMethod::ClopperPearson));
        assert_eq!(solo.effective_trials, Some(9.0));
        let coop = c.buckets[9].settings["coop"];
        // 0/6: 1 - 0.025^(1/6) = 0.459258.
        assert_eq!((coop.ci_upper, coop.effective_trials), (0.459258, Some(6.0)));
        // Held-out coop weights of 1/3 at one bucket sum to one trial each.
        let mut c = curves(
            &pairs,
            &design(DifficultyMode::HeldOut, 3),
            &["coop".into()],
            &clusters(&pairs, Cluster::Pair),
            boot,
        );
        assert_eq!(c.buckets[9].settings["coop"].kish_trials, 6.0);
        assert_eq!(c.buckets[9].settings["coop"].wilson_lower, Some(0.0), "whole trials keep Wilson");
        exact_bounds(&mut c.buckets, 1.0);
        assert_eq!(c.buckets[9].settings["solo"].effective_trials, Some(6.0));
    }

    /// Four of twenty pairs pass one solo seed in three, coop fails them
    /// all: nearly every replicate draws one of the four (all 16 others
    /// differ by 0), so the bootstrap interval excludes 0; the exact test
    /// does not (four pairs at chance 1/4, none passed: p = 0.578125).
    #[test]
    fn few_pairs_that_differ_fool_the_bootstrap_but_not_the_exact_test() {
        let mut pairs: Vec<PairTrials> = (0..4).map(|_| trials(&[T, F, F], &[F])).collect();
        pairs.extend((0..16).map(|_| trials(&[F, F, F], &[F])));
        let boot = Bootstrap { replicates: 2000, seed: 5, cluster: Cluster::Pair };
        let d = design(DifficultyMode::HeldOut, 3);
        let c = curves(&pairs, &d, &["coop".into()], &clusters(&pairs, Cluster::Pair), boot);
        let p = &c.paired["coop"];
        assert_eq!((p.ci_lower, p.ci_upper), (None, None), "{p:?}");
        assert_eq!(p.exact_p_value, Some(0.578125));
        let why = p.ci_withheld.as_deref().unwrap();
        assert!(
            why.starts_with("the bootstrap's [-0.")
                && why.contains("excludes 0 but the exact test does not (p = 0.578)"),
            "{why}"
        );
        let b = paired_bootstrap(&pairs, &d, &clusters(&pairs, Cluster::Pair), boot);
        assert_eq!((b[0].ci_upper, b[0].exact_p_value), (None, Some(0.578125)));
        // Where the exact test agrees, the interval stands.
        assert_eq!(withhold_unbacked(Some(-0.2), Some(-0.1), 0.0, Some(0.01)), (Some(-0.2), Some(-0.1), None));
        assert_eq!(withhold_unbacked(Some(-0.2), Some(0.1), 0.0, Some(0.9)), (Some(-0.2), Some(0.1), None));
        // Retention: 1 is no effect.
        assert_eq!(withhold_unbacked(Some(0.5), Some(0.9), 1.0, Some(0.9)).0, None);
        assert_eq!(withhold_unbacked(Some(0.5), Some(1.2), 1.0, Some(0.9)).0, Some(0.5));
    }

    #[test]
    fn the_paired_bootstrap_by_hand() {
        // Coop fails everywhere solo passes everywhere: every replicate's
        // mean difference is -1: no spread, p = 0, nothing smaller to detect.
        let pairs: Vec<PairTrials> = (0..6).map(|_| trials(&[T, T, T], &[F])).collect();
        let boot = Bootstrap { replicates: 100, seed: 3, cluster: Cluster::Pair };
        let b = paired_bootstrap(&pairs, &design(DifficultyMode::HeldOut, 3), &clusters(&pairs, Cluster::Pair), boot);
        assert_eq!(b[0].ci_lower, Some(-1.0));
        assert_eq!((b[0].se, b[0].p_value, b[0].mde_80), (Some(0.0), Some(0.0), Some(0.0)));
        // Half the pairs one way, half the other: centred on 0, p near 1.
        let mut pairs: Vec<PairTrials> = (0..10).map(|_| trials(&[T, T, T], &[F])).collect();
        pairs.extend((0..10).map(|_| trials(&[F, F, F], &[T])));
        let b = paired_bootstrap(&pairs, &design(DifficultyMode::HeldOut, 3), &clusters(&pairs, Cluster::Pair), boot);
        let (p, se, mde) = (b[0].p_value.unwrap(), b[0].se.unwrap(), b[0].mde_80.unwrap());
        assert!(p > 0.5, "{p}");
        // A mean of 20 values of +-1: se near sqrt(1/20) = 0.224.
        assert!((0.17..0.28).contains(&se), "{se}");
        assert!((mde - 2.801585 * se).abs() < 1e-5, "{mde} {se}");
    }

    /// Under no coop effect (each pair's coop trial succeeds with the same
    /// chance as its solo seeds), the paired difference's 95% interval
    /// excludes 0 in about 5% of studies, and the held-out retention
    /// averages about 1. 400 synthetic studies of 40 pairs and 3 seeds,
    /// 400 replicates each, from a fixed seed: a binomial 5% of 400 has a
    /// standard deviation of 1.1 points, so 2% to 9% is a loose band; the
    /// percentile bootstrap on 40 clusters runs a little liberal.
    #[test]
    fn with_no_coop_effect_the_paired_interval_excludes_zero_about_5_percent_of_the_time() {
        let mut rng = Rng::new(20_261_204);
        let mut uniform = move || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let (studies, n_pairs, k): (usize, usize, usize) = (400, 40, 3);
        let boot = Bootstrap { replicates: 400, seed: 1, cluster: Cluster::Pair };
        let (mut excluded, mut retentions) = (0, Vec::new());
        for s in 0..studies {
            let pairs: Vec<PairTrials> = (0..n_pairs)
                .map(|_| {
                    let p = uniform();
                    let solo: Vec<Option<bool>> = (0..k).map(|_| Some(uniform() < p)).collect();
                    PairTrials { pair: PairId::new("a_task", 1, 1, 2), solo, coop: vec![Some(uniform() < p)] }
                })
                .collect();
            let b = paired_bootstrap(
                &pairs,
                &design(DifficultyMode::HeldOut, k),
                &clusters(&pairs, Cluster::Pair),
                Bootstrap { seed: s as u64, ..boot },
            );
            if let (Some(lo), Some(hi)) = (b[0].ci_lower, b[0].ci_upper) {
                excluded += usize::from(lo > 0.0 || hi < 0.0);
            }
            let c = curves(
                &pairs,
                &design(DifficultyMode::HeldOut, k),
                &["coop".to_string()],
                &clusters(&pairs, Cluster::Pair),
                Bootstrap { replicates: 0, ..boot },
            );
            retentions.extend(c.retention["coop"].value);
        }
        let rate = excluded as f64 / studies as f64;
        assert!((0.02..=0.09).contains(&rate), "excluded 0 in {excluded} of {studies} studies");
        let mean = retentions.iter().sum::<f64>() / retentions.len() as f64;
        assert!(retentions.len() > studies / 2, "retention defined in {} studies", retentions.len());
        assert!((0.9..=1.1).contains(&mean), "mean held-out retention {mean}");
    }
}

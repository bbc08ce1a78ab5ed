//! How noisy one pair's outcome is across solo seeds, and what the next
//! study needs: seeds per pair for a difficulty label, pairs for a mean or
//! for detecting the paper's effect. Pure; the input is each pair's solo
//! trials (`true` a success), pairs with no trial left out.

use serde::Serialize;

use crate::study::fig4::{round6, MDE_FACTOR};
use crate::study::verdict::PAPER_DROP;

/// The seeds per pair the planning table looks at.
pub const PLANNED_SEEDS: [u64; 4] = [1, 3, 5, 10];
/// The success rates per pair the seeds-needed table looks at (a rate p
/// and 1 - p need the same: p = 1/2 is the worst case).
pub const PLANNED_LEVELS: [f64; 5] = [0.1, 0.2, 0.3, 0.4, 0.5];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Noise {
    /// Pairs with at least two trials.
    pub pairs_with_repeats: usize,
    /// Share of those whose trials disagree.
    pub flip_rate: Option<f64>,
    /// One-way ANOVA estimates on the 0/1 outcomes: seed-to-seed variance
    /// within a pair, and pair-to-pair variance of the true success rate.
    pub within_pair_variance: Option<f64>,
    pub between_pair_variance: Option<f64>,
    /// between / (between + within): how alike the seeds of one pair are.
    pub icc: Option<f64>,
    /// Standard error of the pooled solo success rate, clustered by pair.
    pub se_solo_rate: Option<f64>,
    pub difficulty_se_target: f64,
    pub mean_se_target: f64,
    /// Seeds per pair for SE(difficulty of one pair) < the target.
    pub seeds_needed_difficulty: Option<u64>,
    /// Seeds per pair for SE(mean success rate) < the target, with as many
    /// pairs as now; `None` when between-pair variance alone exceeds it
    /// (more pairs, not more seeds, are needed).
    pub seeds_needed_mean: Option<u64>,
    /// The pooled solo success rate, its standard error as if every trial
    /// were independent, and the design effect: (clustered SE / that)^2,
    /// how many trials of this study are worth one independent trial.
    pub solo_rate: Option<f64>,
    pub se_solo_rate_independent: Option<f64>,
    pub design_effect: Option<f64>,
    /// The chance that two seeds of one pair, drawn at random, disagree,
    /// averaged over the pairs with two or more: unlike the flip rate, it
    /// does not grow with the number of seeds.
    pub pairwise_disagreement: Option<f64>,
    /// Seeds for SE(difficulty) under the target, for a pair whose true
    /// success rate is p (or 1 - p): p(1-p)/m < target^2.
    pub seeds_needed_by_level: Vec<SeedsAtLevel>,
    /// Pairs needed at 1, 3, 5 and 10 seeds.
    pub pairs_needed: Vec<PairsNeeded>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeedsAtLevel {
    pub success_rate: f64,
    pub seeds: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairsNeeded {
    pub seeds: u64,
    /// For SE(mean success rate) under the target: (between + within/m)/g
    /// < target^2. `None` without variance estimates.
    pub mean_target: Option<u64>,
    /// For a two-sided 5% test of the paired difference to find the
    /// paper's drop (30% of the solo rate) 80% of the time, with one coop
    /// trial and m solo seeds per pair and no coop effect: the difference's
    /// variance per pair is within x (1 + 1/m), so g >= (2.80)^2 within
    /// (1 + 1/m) / drop^2. Pairs resampled alone (clustering by task needs
    /// more). `None` when the solo rate is 0 (no drop to find).
    pub paper_effect_80: Option<u64>,
}

pub fn noise(pairs: &[Vec<bool>], difficulty_se_target: f64, mean_se_target: f64) -> Noise {
    let pairs: Vec<&Vec<bool>> = pairs.iter().filter(|p| !p.is_empty()).collect();
    let repeated: Vec<&&Vec<bool>> = pairs.iter().filter(|p| p.len() >= 2).collect();
    let flips = repeated.iter().filter(|p| p.iter().any(|x| *x) && p.iter().any(|x| !*x)).count();
    let flip_rate = (!repeated.is_empty()).then(|| flips as f64 / repeated.len() as f64);

    let y = |x: &bool| f64::from(u8::from(*x));
    let g = pairs.len();
    let n_total: usize = pairs.iter().map(|p| p.len()).sum();
    let grand = pairs.iter().flat_map(|p| p.iter().map(y)).sum::<f64>() / n_total.max(1) as f64;
    let mean = |p: &Vec<bool>| p.iter().map(y).sum::<f64>() / p.len() as f64;
    let ss_within: f64 = pairs.iter().map(|p| p.iter().map(|x| (y(x) - mean(p)).powi(2)).sum::<f64>()).sum();
    let ss_between: f64 = pairs.iter().map(|p| p.len() as f64 * (mean(p) - grand).powi(2)).sum();
    let (within, between) = if g >= 2 && n_total > g {
        let msw = ss_within / (n_total - g) as f64;
        let msb = ss_between / (g - 1) as f64;
        // n0: the "average" pair size of an unbalanced one-way design.
        let n0 = (n_total as f64 - pairs.iter().map(|p| (p.len() * p.len()) as f64).sum::<f64>() / n_total as f64)
            / (g - 1) as f64;
        (Some(msw), Some(((msb - msw) / n0).max(0.0)))
    } else {
        (None, None)
    };
    let icc = match (within, between) {
        (Some(w), Some(b)) if w + b > 0.0 => Some(b / (w + b)),
        _ => None,
    };
    // Clustered by pair: a pair's seeds are not independent trials.
    let se_solo_rate = crate::study::exact::clustered_se(&pairs);
    // SE of one pair's difficulty with m seeds is sqrt(within / m).
    let seeds_needed_difficulty = within.map(|w| smallest_m(|m| (w / m as f64).sqrt() < difficulty_se_target));
    // SE of the mean over g pairs with m seeds each: sqrt((between + within/m) / g).
    let seeds_needed_mean = match (within, between) {
        (Some(w), Some(b)) if b / (g as f64) < mean_se_target.powi(2) => {
            Some(smallest_m(|m| ((b + w / m as f64) / g as f64).sqrt() < mean_se_target))
        }
        _ => None,
    };
    let solo_rate = (n_total > 0).then_some(grand);
    let se_independent = solo_rate.map(|p| (p * (1.0 - p) / n_total as f64).sqrt());
    let design_effect = match (se_solo_rate, se_independent) {
        (Some(c), Some(i)) if i > 0.0 => Some((c / i).powi(2)),
        _ => None,
    };
    let disagreement: Vec<f64> = repeated
        .iter()
        .map(|p| {
            let (m, c) = (p.len() as f64, p.iter().filter(|x| **x).count() as f64);
            2.0 * c * (m - c) / (m * (m - 1.0))
        })
        .collect();
    let pairwise_disagreement =
        (!disagreement.is_empty()).then(|| disagreement.iter().sum::<f64>() / disagreement.len() as f64);
    let seeds_needed_by_level = PLANNED_LEVELS
        .iter()
        .map(|&p| SeedsAtLevel {
            success_rate: p,
            seeds: smallest_m(|m| (p * (1.0 - p) / m as f64).sqrt() < difficulty_se_target),
        })
        .collect();
    let drop = solo_rate.map(|p| PAPER_DROP * p).filter(|d| *d > 0.0);
    let pairs_needed = PLANNED_SEEDS
        .iter()
        .map(|&m| {
            let m_f = m as f64;
            PairsNeeded {
                seeds: m,
                mean_target: within
                    .zip(between)
                    .map(|(w, b)| smallest_m(|g| ((b + w / m_f) / g as f64).sqrt() < mean_se_target)),
                paper_effect_80: within.zip(drop).map(|(w, d)| {
                    let per_pair = w * (1.0 + 1.0 / m_f);
                    smallest_m(|g| MDE_FACTOR * (per_pair / g as f64).sqrt() <= d)
                }),
            }
        })
        .collect();
    Noise {
        pairs_with_repeats: repeated.len(),
        flip_rate: flip_rate.map(round6),
        within_pair_variance: within.map(round6),
        between_pair_variance: between.map(round6),
        icc: icc.map(round6),
        se_solo_rate: se_solo_rate.map(round6),
        difficulty_se_target,
        mean_se_target,
        seeds_needed_difficulty,
        seeds_needed_mean,
        solo_rate: solo_rate.map(round6),
        se_solo_rate_independent: se_independent.map(round6),
        design_effect: design_effect.map(round6),
        pairwise_disagreement: pairwise_disagreement.map(round6),
        seeds_needed_by_level,
        pairs_needed,
    }
}

/// The least m >= 1 for which `ok(m)` holds; `ok` is monotone in m and does
/// hold eventually (the callers check that), so doubling then bisecting ends.
fn smallest_m(ok: impl Fn(u64) -> bool) -> u64 {
    let mut hi = 1u64;
    while !ok(hi) {
        hi *= 2;
    }
    let mut lo = hi / 2;
    while lo + 1 < hi {
        let mid = (lo + hi) / 2;
        if ok(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

fn choose(n: u64, k: u64) -> f64 {
    if k > n {
        return 0.0;
    }
    (0..k).map(|i| (n - i) as f64 / (k - i) as f64).product()
}

/// Unbiased pass@k (at least one of k trials passes) and pass^k (all k
/// pass), averaged over the pairs with at least k trials; k = 1..=max.
/// `(k, value)` for k = 1..=max; `None` where no pair has k trials.
pub type ByK = Vec<(usize, Option<f64>)>;

pub fn pass_at_k(pairs: &[Vec<bool>], max_k: usize) -> (ByK, ByK) {
    let (mut at, mut hat) = (Vec::new(), Vec::new());
    for k in 1..=max_k {
        let eligible: Vec<(u64, u64)> = pairs
            .iter()
            .filter(|p| p.len() >= k)
            .map(|p| (p.len() as u64, p.iter().filter(|x| **x).count() as u64))
            .collect();
        let avg = |f: &dyn Fn(u64, u64) -> f64| {
            (!eligible.is_empty())
                .then(|| round6(eligible.iter().map(|&(n, c)| f(n, c)).sum::<f64>() / eligible.len() as f64))
        };
        let k = k as u64;
        at.push((k as usize, avg(&|n, c| 1.0 - choose(n - c, k) / choose(n, k))));
        hat.push((k as usize, avg(&|n, c| choose(c, k) / choose(n, k))));
    }
    (at, hat)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: bool = true;
    const F: bool = false;

    #[test]
    fn noise_by_hand() {
        // Two pairs of two seeds: [1,1] and [1,0]. Grand mean 3/4.
        // SSW = 0 + (0.5^2 + 0.5^2) = 0.5; MSW = 0.5 / (4 - 2) = 0.25.
        // SSB = 2*(1-0.75)^2 + 2*(0.5-0.75)^2 = 0.25; MSB = 0.25.
        // n0 = (4 - 8/4) / 1 = 2; between = (0.25 - 0.25)/2 = 0; ICC 0.
        let n = noise(&[vec![T, T], vec![T, F]], 0.1, 0.01);
        assert_eq!(n.flip_rate, Some(0.5));
        assert_eq!(n.within_pair_variance, Some(0.25));
        assert_eq!(n.between_pair_variance, Some(0.0));
        assert_eq!(n.icc, Some(0.0));
        // Residual sums: (0.25+0.25) = 0.5 and (0.25-0.75) = -0.5:
        // sqrt(2/1 * 0.5) / 4 = 0.25.
        assert_eq!(n.se_solo_rate, Some(0.25));
        // sqrt(0.25 / m) < 0.1 <=> m > 25: 26 seeds.
        assert_eq!(n.seeds_needed_difficulty, Some(26));
        // sqrt(0.25 / (2m)) < 0.01 <=> m > 1250.
        assert_eq!(n.seeds_needed_mean, Some(1251));
        // Pooled 3/4 over 4 trials: independent SE sqrt(3/16 / 4) =
        // 0.216506; design effect (0.25 / 0.216506)^2 = 4/3.
        assert_eq!((n.solo_rate, n.se_solo_rate_independent), (Some(0.75), Some(0.216506)));
        assert_eq!(n.design_effect, Some(1.333333));
        // Two seeds disagree: never in [1,1], always in [1,0].
        assert_eq!(n.pairwise_disagreement, Some(0.5));
        // p = 0.1: 0.09/m < 0.01 <=> m > 9; p = 0.5: 0.25/m < 0.01: 26.
        let levels: Vec<(f64, u64)> = n.seeds_needed_by_level.iter().map(|l| (l.success_rate, l.seeds)).collect();
        assert_eq!(levels, [(0.1, 10), (0.2, 17), (0.3, 22), (0.4, 25), (0.5, 26)]);
        // Mean target, between 0 and within 0.25: 0.25 / (m g) < 1e-4, so
        // g > 2500 / m: 2501 at one seed, 834 at three, 501, 251.
        let mean: Vec<Option<u64>> = n.pairs_needed.iter().map(|p| p.mean_target).collect();
        assert_eq!(mean, [Some(2501), Some(834), Some(501), Some(251)]);
        // The paper's drop: 0.3 * 0.75 = 0.225. At one seed the per-pair
        // variance is 0.25 * 2 = 0.5: g >= 2.801585^2 * 0.5 / 0.050625 =
        // 77.52, so 78; at ten seeds 0.275: 42.64, so 43.
        let paper: Vec<Option<u64>> = n.pairs_needed.iter().map(|p| p.paper_effect_80).collect();
        assert_eq!(paper, [Some(78), Some(52), Some(47), Some(43)]);
    }

    #[test]
    fn pairwise_disagreement_does_not_grow_with_seeds() {
        // A pair at p = 1/2 with 2 seeds [1,0] and with 4 seeds [1,0,1,0]:
        // the flip rate is 1 for both; two seeds drawn from four disagree
        // 2 * 2 * 2 / (4 * 3) = 2/3 of the time, from two, always.
        let two = noise(&[vec![T, F]], 0.1, 0.01);
        let four = noise(&[vec![T, F, T, F]], 0.1, 0.01);
        assert_eq!((two.flip_rate, four.flip_rate), (Some(1.0), Some(1.0)));
        assert_eq!((two.pairwise_disagreement, four.pairwise_disagreement), (Some(1.0), Some(0.666667)));
        // At floor the paper's drop is 0: nothing to plan for.
        let none = noise(&[vec![F, F], vec![F, F]], 0.1, 0.01);
        assert!(none.pairs_needed.iter().all(|p| p.paper_effect_80.is_none()));
    }

    #[test]
    fn seeds_cannot_fix_between_pair_variance() {
        // Pairs always pass or always fail: all variance is between pairs.
        let n = noise(&[vec![T, T, T], vec![F, F, F], vec![T, T, T], vec![F, F, F]], 0.1, 0.01);
        assert_eq!(n.flip_rate, Some(0.0));
        assert_eq!(n.within_pair_variance, Some(0.0));
        assert_eq!(n.icc, Some(1.0));
        assert_eq!(n.seeds_needed_difficulty, Some(1));
        assert_eq!(n.seeds_needed_mean, None);
    }

    #[test]
    fn pass_at_k_by_hand() {
        // n=3, c=1: pass@1 = 1/3, pass@2 = 1 - C(2,2)/C(3,2) = 2/3, pass@3 = 1;
        // pass^1 = 1/3, pass^2 = 0. n=2, c=2: all 1 (k <= 2).
        let (at, hat) = pass_at_k(&[vec![T, F, F], vec![T, T]], 3);
        assert_eq!(at, [(1, Some(0.666667)), (2, Some(0.833333)), (3, Some(1.0))]);
        assert_eq!(hat, [(1, Some(0.666667)), (2, Some(0.5)), (3, Some(0.0))]);
        assert_eq!(pass_at_k(&[], 1).0, [(1, None)]);
    }
}

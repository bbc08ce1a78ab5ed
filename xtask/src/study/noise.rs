//! How noisy one pair's outcome is across solo seeds, and how many seeds a
//! difficulty label needs. Pure; the input is each pair's solo trials
//! (`true` a success), pairs with no trial left out.

use serde::Serialize;

use crate::study::fig4::round6;

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
    // Cluster-robust (sandwich) SE of the pooled rate, with the g/(g-1)
    // small-sample factor: each pair's residuals are summed before squaring.
    let se_solo_rate = (g >= 2).then(|| {
        let s: f64 = pairs.iter().map(|p| p.iter().map(|x| y(x) - grand).sum::<f64>().powi(2)).sum();
        (g as f64 / (g - 1) as f64 * s).sqrt() / n_total as f64
    });
    // SE of one pair's difficulty with m seeds is sqrt(within / m).
    let seeds_needed_difficulty = within.map(|w| smallest_m(|m| (w / m as f64).sqrt() < difficulty_se_target));
    // SE of the mean over g pairs with m seeds each: sqrt((between + within/m) / g).
    let seeds_needed_mean = match (within, between) {
        (Some(w), Some(b)) if b / (g as f64) < mean_se_target.powi(2) => {
            Some(smallest_m(|m| ((b + w / m as f64) / g as f64).sqrt() < mean_se_target))
        }
        _ => None,
    };
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

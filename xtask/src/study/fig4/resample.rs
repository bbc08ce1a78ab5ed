//! The bootstrap's machinery, apart from what it resamples: a seeded
//! generator (same seed, same intervals), percentiles, an interval that
//! exists only when nearly every replicate defines its statistic, and the
//! Monte Carlo error of an endpoint.

use crate::study::json::round6;

/// z for a 95% interval.
pub(super) const Z: f64 = 1.96;

/// SplitMix64, written out so that a figure never changes with a crate
/// update: the same `--bootstrap-seed` gives the same intervals forever.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`, without modulo bias (rejection).
    pub fn below(&mut self, n: usize) -> usize {
        let n = n as u64;
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let x = self.next_u64();
            if x < zone {
                return (x % n) as usize;
            }
        }
    }
}

/// Linear-interpolation quantile (R's type 7) of sorted values.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// A bootstrap interval, or why there is none.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// The 2.5% and 97.5% quantiles; `None` unless at least
    /// [`MIN_DEFINED_SHARE`] of the replicates define the statistic.
    pub bounds: Option<(f64, f64)>,
    /// The share of replicates that define it, 0 to 1.
    pub defined_share: f64,
    /// The Monte Carlo error of the endpoints (the larger of the two): how
    /// far another bootstrap seed would move them, about one time in three.
    pub mc_error: Option<f64>,
}

/// The share of bootstrap replicates that must define a statistic for its
/// percentiles to be an interval. Percentiles of the replicates that happen
/// to define it describe a subset of the resamples (those that kept the
/// pairs it needs): at 63%, as on the study's real data, that subset is
/// biased and there is no interval; one replicate in 2,000 missing changes
/// nothing that shows. Between this and 1 the report prints the share
/// beside the interval.
pub const MIN_DEFINED_SHARE: f64 = 0.95;

/// The percentile interval of the replicates that define the statistic,
/// when at least [`MIN_DEFINED_SHARE`] of them do; the share says why there
/// is none.
pub fn interval(mut values: Vec<f64>, replicates: usize) -> Interval {
    let defined_share = if replicates == 0 { 0.0 } else { round6(values.len() as f64 / replicates as f64) };
    if values.is_empty() || (values.len() as f64) < MIN_DEFINED_SHARE * replicates as f64 {
        return Interval { bounds: None, defined_share, mc_error: None };
    }
    values.sort_by(f64::total_cmp);
    let mc_error = quantile_mc_error(&values, 0.025).max(quantile_mc_error(&values, 0.975));
    Interval {
        bounds: Some((round6(quantile(&values, 0.025)), round6(quantile(&values, 0.975)))),
        defined_share,
        mc_error: Some(round6(mc_error)),
    }
}

/// The Monte Carlo standard error of the `q` quantile of `sorted`
/// replicates: the number of replicates below the true quantile is
/// binomial(n, q), so the order statistics z = 1.96 binomial standard
/// errors either side of the estimate's rank hold the true quantile 95% of
/// the time; their distance over 2z is one standard error.
pub fn quantile_mc_error(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n < 2 {
        return 0.0;
    }
    let centre = (n - 1) as f64 * q;
    let spread = Z * (n as f64 * q * (1.0 - q)).sqrt();
    let lo = (centre - spread).floor().max(0.0) as usize;
    let hi = ((centre + spread).ceil() as usize).min(n - 1);
    (sorted[hi] - sorted[lo]) / (2.0 * Z)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 5e-7
    }

    #[test]
    fn rng_and_quantile() {
        let mut r = Rng::new(0);
        // SplitMix64's published first output for seed 0.
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert!((0..1000).all(|_| r.below(3) < 3));
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.5), 2.5);
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.0), 1.0);
    }

    #[test]
    fn an_interval_needs_nearly_every_replicate() {
        // 40 replicates 1..=40: type-7 quantiles at 0.975 and 39.025.
        let all: Vec<f64> = (1..=40).map(f64::from).collect();
        let i = interval(all.clone(), 40);
        assert_eq!(i.bounds, Some((1.975, 39.025)));
        assert_eq!(i.defined_share, 1.0);
        // 38 of 40 (95%) still make one, over the 38 that define it:
        // quantiles at 37 * 0.025 = 0.925 and 37 * 0.975 = 36.075.
        let i = interval(all[..38].to_vec(), 40);
        assert_eq!(i.bounds, Some((1.925, 37.075)));
        assert_eq!(i.defined_share, 0.95);
        // 37 of 40 do not: no interval, and the share says why.
        let i = interval(all[..37].to_vec(), 40);
        assert_eq!(i.bounds, None);
        assert_eq!(i.defined_share, 0.925);
        assert_eq!(interval(Vec::new(), 0), Interval { bounds: None, defined_share: 0.0, mc_error: None });
    }

    #[test]
    fn monte_carlo_error_of_an_endpoint_by_hand() {
        // 40 replicates 1..=40, q = 0.025: rank (40 - 1) * 0.025 = 0.975,
        // binomial sd sqrt(40 * 0.025 * 0.975) = 0.987, times 1.96 = 1.935:
        // ranks 0 to 3 (values 1 and 4): (4 - 1) / 3.92 = 0.765306; the
        // upper end mirrors it.
        let all: Vec<f64> = (1..=40).map(f64::from).collect();
        assert!(close(quantile_mc_error(&all, 0.025), 0.765_306));
        assert_eq!(interval(all, 40).mc_error, Some(0.765_306));
        // Replicates that all agree have none.
        assert_eq!(quantile_mc_error(&[0.5; 100], 0.975), 0.0);
    }
}

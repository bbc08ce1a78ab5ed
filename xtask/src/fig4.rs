//! Figure 4's numbers: success rate per difficulty bucket and setting, with
//! Wilson intervals, the area under each curve and coop retention. Pure.

use std::collections::BTreeMap;

use serde::Serialize;

pub use crate::json::round6;

/// z for a 95% interval.
const Z: f64 = 1.96;

/// Wilson score interval for `k` successes in `n` trials; `n = 0` is [0, 1].
pub fn wilson(k: u64, n: u64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (k, n) = (k as f64, n as f64);
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

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Cell {
    pub successes: u64,
    pub trials: u64,
    pub rate: Option<f64>,
    pub ci_lower: f64,
    pub ci_upper: f64,
}

impl Cell {
    pub fn new(successes: u64, trials: u64) -> Cell {
        let (lo, hi) = wilson(successes, trials);
        Cell {
            successes,
            trials,
            rate: (trials > 0).then(|| round6(successes as f64 / trials as f64)),
            ci_lower: round6(lo),
            ci_upper: round6(hi),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Bucket {
    pub bucket: usize,
    pub center: f64,
    pub empty: bool,
    pub pairs: usize,
    pub settings: BTreeMap<String, Cell>,
}

/// Trials per bucket and setting: `(bucket, setting, success)` triples.
pub fn buckets(pairs_per_bucket: &[usize; 10], trials: &[(usize, String, bool)], settings: &[String]) -> Vec<Bucket> {
    (0..10)
        .map(|b| {
            let settings = settings
                .iter()
                .map(|s| {
                    let mine = trials.iter().filter(|(tb, ts, _)| *tb == b && ts == s);
                    let (k, n) = mine.fold((0, 0), |(k, n), (_, _, ok)| (k + *ok as u64, n + 1));
                    (s.clone(), Cell::new(k, n))
                })
                .collect();
            Bucket {
                bucket: b,
                center: round6(center(b)),
                empty: pairs_per_bucket[b] == 0,
                pairs: pairs_per_bucket[b],
                settings,
            }
        })
        .collect()
}

/// AUC of one setting over the buckets it populates.
pub fn setting_auc(buckets: &[Bucket], setting: &str) -> Option<f64> {
    let points: Vec<(f64, f64)> = buckets
        .iter()
        .filter_map(|b| b.settings.get(setting).and_then(|c| c.rate).map(|r| (center(b.bucket), r)))
        .collect();
    auc(&points).map(round6)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 5e-7
    }

    #[test]
    fn wilson_known_points() {
        let (lo, hi) = wilson(1, 1);
        assert!(close(lo, 0.206543) && close(hi, 1.0), "{lo} {hi}");
        let (lo, hi) = wilson(0, 95);
        assert!(close(lo, 0.0) && close(hi, 0.038866), "{lo} {hi}");
        assert_eq!(wilson(0, 0), (0.0, 1.0));
        let (lo, hi) = wilson(5, 10);
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

    #[test]
    fn buckets_count_trials_per_setting() {
        let mut pairs = [0; 10];
        pairs[0] = 1;
        pairs[9] = 1;
        let t = vec![
            (0, "solo".to_string(), true),
            (0, "solo".into(), true),
            (9, "solo".into(), false),
            (9, "coop".into(), false),
        ];
        let b = buckets(&pairs, &t, &["solo".into(), "coop".into()]);
        assert_eq!(b[0].settings["solo"], Cell::new(2, 2));
        assert_eq!(b[0].settings["coop"].trials, 0);
        assert_eq!(b[0].settings["coop"].rate, None);
        assert!(b[5].empty && !b[9].empty);
        assert_eq!(setting_auc(&b, "solo"), Some(0.45));
    }
}

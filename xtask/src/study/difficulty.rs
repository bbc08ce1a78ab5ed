//! Pair difficulty over the solo seeds: d = failures / valid seeds, kept as
//! integers so that buckets never suffer from `1 - 0.9 = 0.0999...`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::study::class::Class;
use crate::study::outcome::EvalErrors;

/// `failures / valid` as integers; `valid == 0` is "undefined", never 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Difficulty {
    pub failures: u32,
    pub valid: u32,
}

impl Difficulty {
    /// From each seed's class, by the one rule of a trial.
    pub fn from_classes(classes: &[Class], policy: EvalErrors) -> Difficulty {
        Difficulty::from_trials(classes.iter().map(|c| c.trial(policy)))
    }

    /// From trials already judged (`None` is no trial).
    pub fn from_trials(trials: impl IntoIterator<Item = Option<bool>>) -> Difficulty {
        let (mut failures, mut valid) = (0, 0);
        for ok in trials.into_iter().flatten() {
            valid += 1;
            failures += u32::from(!ok);
        }
        Difficulty { failures, valid }
    }

    /// The paper's difficulty over several models (CooperBench, section
    /// 4.2): the mean over models of each model's failure rate over its own
    /// valid seeds, so that a model with more seeds weighs no more. `groups`
    /// gives each trial's model; `left_out` drops one trial (held-out
    /// placement). A model with no valid trial on the pair is left out of
    /// the mean. One model is exactly [`Difficulty::from_trials`]. Kept as
    /// an exact fraction (`failures / valid` in lowest terms): `valid` is
    /// then no count of seeds.
    pub fn over_models(trials: &[Option<bool>], groups: &[usize], left_out: Option<usize>) -> Difficulty {
        let kept = trials.iter().enumerate().filter(|(i, _)| Some(*i) != left_out);
        let mut per: BTreeMap<usize, Difficulty> = BTreeMap::new();
        for (i, t) in kept {
            let d = per.entry(groups.get(i).copied().unwrap_or(0)).or_insert(Difficulty { failures: 0, valid: 0 });
            if let Some(ok) = t {
                d.valid += 1;
                d.failures += u32::from(!ok);
            }
        }
        let defined: Vec<Difficulty> = per.into_values().filter(|d| d.is_defined()).collect();
        match defined.as_slice() {
            [] => Difficulty { failures: 0, valid: 0 },
            [one] => *one,
            many => Difficulty::mean(many),
        }
    }

    /// The mean of several defined difficulties, exactly.
    pub fn mean(of: &[Difficulty]) -> Difficulty {
        let l = of.iter().fold(1u64, |l, d| lcm(l, u64::from(d.valid)));
        let num: u64 = of.iter().map(|d| u64::from(d.failures) * (l / u64::from(d.valid))).sum();
        let den = l * of.len() as u64;
        let g = gcd64(num, den);
        let (num, den) = (num / g, den / g);
        match (u32::try_from(num), u32::try_from(den)) {
            (Ok(failures), Ok(valid)) => Difficulty { failures, valid },
            // Only with hundreds of seeds per model: a millionth is finer
            // than any bucket edge could care about.
            _ => Difficulty { failures: (num as f64 / den as f64 * 1e6).round() as u32, valid: 1_000_000 },
        }
    }

    pub fn is_defined(self) -> bool {
        self.valid > 0
    }

    pub fn passes(self) -> u32 {
        self.valid - self.failures
    }

    /// Lowest terms, so that 2/4 and 1/2 are one value: `(num, den)`.
    pub fn reduced(self) -> Option<(u32, u32)> {
        if self.valid == 0 {
            return None;
        }
        let g = gcd(self.failures, self.valid);
        Some((self.failures / g, self.valid / g))
    }

    pub fn fraction(self) -> String {
        match self.reduced() {
            Some((n, d)) => format!("{n}/{d}"),
            None => "undefined".into(),
        }
    }

    pub fn value(self) -> Option<f64> {
        self.reduced().map(|(n, d)| n as f64 / d as f64)
    }

    /// Ten equal-width buckets over [0, 1], bucket 9 holding 1.0.
    pub fn bucket(self) -> Option<usize> {
        if self.valid == 0 {
            return None;
        }
        Some(((self.failures as usize * 10) / self.valid as usize).min(9))
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a.max(1)
    } else {
        gcd(b, a % b)
    }
}

fn gcd64(a: u64, b: u64) -> u64 {
    if b == 0 {
        a.max(1)
    } else {
        gcd64(b, a % b)
    }
}

fn lcm(a: u64, b: u64) -> u64 {
    a / gcd64(a, b) * b
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DistributionEntry {
    pub difficulty: String,
    pub value: f64,
    pub pairs: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Distribution {
    pub entries: Vec<DistributionEntry>,
    pub buckets: [usize; 10],
    pub undefined_pairs: usize,
}

/// Each distinct value with its pair count (ascending), and bucket counts.
pub fn distribution(values: &[Difficulty]) -> Distribution {
    let mut by_value: BTreeMap<(u64, u64), (u32, u32, usize)> = BTreeMap::new();
    let mut buckets = [0; 10];
    let mut undefined_pairs = 0;
    for d in values {
        let (Some((n, den)), Some(b)) = (d.reduced(), d.bucket()) else {
            undefined_pairs += 1;
            continue;
        };
        buckets[b] += 1;
        // Order by value exactly: n/den < n'/den' iff n*den' < n'*den, done
        // through a common denominator key below.
        by_value.entry(order_key(n, den)).or_insert((n, den, 0)).2 += 1;
    }
    let entries = by_value
        .into_values()
        .map(|(n, d, pairs)| DistributionEntry { difficulty: format!("{n}/{d}"), value: n as f64 / d as f64, pairs })
        .collect();
    Distribution { entries, buckets, undefined_pairs }
}

/// A key that sorts fractions by value: scaled to a common denominator large
/// enough for any seed count we will see (lcm of 1..=20 fits easily in u64).
fn order_key(n: u32, d: u32) -> (u64, u64) {
    const L: u64 = 232_792_560; // lcm(1..=20)
    if L.is_multiple_of(d as u64) {
        (n as u64 * (L / d as u64), 0)
    } else {
        // More than 20 valid seeds: fall back to a float key, still distinct.
        ((n as f64 / d as f64 * L as f64) as u64, d as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Class::*;

    fn d(f: u32, v: u32) -> Difficulty {
        Difficulty { failures: f, valid: v }
    }

    #[test]
    fn nine_passes_of_ten_is_bucket_one() {
        let mut o = vec![Pass; 9];
        o.push(Fail);
        let diff = Difficulty::from_classes(&o, EvalErrors::Exclude);
        assert_eq!(diff, d(1, 10));
        assert_eq!(diff.bucket(), Some(1));
        assert_eq!(diff.fraction(), "1/10");
    }

    #[test]
    fn buckets_cover_zero_to_one_inclusive() {
        assert_eq!(d(0, 3).bucket(), Some(0));
        assert_eq!(d(1, 3).bucket(), Some(3));
        assert_eq!(d(2, 3).bucket(), Some(6));
        assert_eq!(d(3, 3).bucket(), Some(9));
        assert_eq!(d(0, 0).bucket(), None);
    }

    #[test]
    fn limits_fail_and_eval_errors_follow_the_policy() {
        // The machine's classes are no trial: a gone container, a timed-out
        // test command (unless eval errors count as failures).
        let o = [Pass, Limits, EvalInfra, AgentError, Missing, InfraContainer, EvalTimeout, ModelContext];
        assert_eq!(Difficulty::from_classes(&o, EvalErrors::Exclude), d(2, 3));
        assert_eq!(Difficulty::from_classes(&o, EvalErrors::Fail), d(4, 5));
        let none = Difficulty::from_classes(&[EvalInfra, Missing], EvalErrors::Exclude);
        assert!(!none.is_defined());
        assert_eq!(none.fraction(), "undefined");
    }

    #[test]
    fn two_models_are_the_mean_of_their_means_worked_by_hand() {
        // Model A: seeds pass, fail, pass (fails 1/3); model B: pass, fail
        // (fails 1/2). d = (1/3 + 1/2) / 2 = 5/12, not the 2/5 of pooling
        // all five trials.
        let t = [Some(true), Some(false), Some(true), Some(true), Some(false)];
        let g = [0, 0, 0, 1, 1];
        let d = Difficulty::over_models(&t, &g, None);
        assert_eq!(d.fraction(), "5/12");
        assert_eq!(d.bucket(), Some(4));
        // Held out: A's second seed left out: A fails 0/2, B 1/2: 1/4.
        assert_eq!(Difficulty::over_models(&t, &g, Some(1)).fraction(), "1/4");
        // A model with no valid trial is left out of the mean.
        let t = [None, None, Some(true), Some(false)];
        assert_eq!(Difficulty::over_models(&t, &[0, 0, 1, 1], None).fraction(), "1/2");
        // One model: exactly today's difficulty, counts and all.
        let t = [Some(true), Some(false), Some(false)];
        assert_eq!(Difficulty::over_models(&t, &[0, 0, 0], None), d_(2, 3));
        assert_eq!(Difficulty::over_models(&t, &[], Some(0)), d_(2, 2));
        assert!(!Difficulty::over_models(&[None], &[0], None).is_defined());
    }

    fn d_(f: u32, v: u32) -> Difficulty {
        Difficulty { failures: f, valid: v }
    }

    #[test]
    fn distribution_merges_equal_values_and_sorts_them() {
        let dist = distribution(&[d(1, 2), d(2, 4), d(0, 3), d(3, 3), d(0, 0), d(1, 3)]);
        let got: Vec<(String, usize)> = dist.entries.iter().map(|e| (e.difficulty.clone(), e.pairs)).collect();
        assert_eq!(got, [("0/1".into(), 1), ("1/3".into(), 1), ("1/2".into(), 2), ("1/1".into(), 1)]);
        assert_eq!(dist.buckets, [1, 0, 0, 1, 0, 2, 0, 0, 0, 1]);
        assert_eq!(dist.undefined_pairs, 1);
    }
}

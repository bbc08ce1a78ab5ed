//! The tests the report uses to check its own assumptions, written out so
//! that a reviewer can follow them: Fisher's exact test on a 2x2 table
//! (are two rates of eval errors, or of successes, alike?), Cochran's Q
//! over the solo seeds (are the seeds exchangeable repeats?), and the
//! chi-square tail Cochran's Q is read against; and the small formulas the
//! report prints beside its bootstrap: the exact bound of a rate at 0/n or
//! n/n, Kish's effective n of weighted trials, the design effect of
//! clustered ones, power, and a correlation.

/// ln(n!), summed: the tables here hold at most a few thousand trials.
fn ln_factorial(n: u64) -> f64 {
    (2..=n).map(|i| (i as f64).ln()).sum()
}

/// Two-sided Fisher's exact test of the table `[[a, b], [c, d]]` (rows:
/// the two groups; columns: yes and no): the probability, with the margins
/// fixed, of a table no more likely than this one.
pub fn fisher_two_sided(a: u64, b: u64, c: u64, d: u64) -> f64 {
    let (row1, col1, n) = (a + b, a + c, a + b + c + d);
    if n == 0 {
        return 1.0;
    }
    let base =
        ln_factorial(row1) + ln_factorial(n - row1) + ln_factorial(col1) + ln_factorial(n - col1) - ln_factorial(n);
    let p = |x: u64| -> f64 {
        let (b, c) = (row1 - x, col1 - x);
        let d = n - row1 - c;
        (base - ln_factorial(x) - ln_factorial(b) - ln_factorial(c) - ln_factorial(d)).exp()
    };
    let low = (row1 + col1).saturating_sub(n);
    let high = row1.min(col1);
    let observed = p(a);
    // Tables as likely as the observed one, within rounding, count too.
    let total: f64 = (low..=high).map(p).filter(|q| *q <= observed * (1.0 + 1e-7)).sum();
    total.min(1.0)
}

/// Cochran's Q for `k` binary outcomes (the seeds) on each of `n` blocks
/// (the pairs; every block has all `k`), and its p-value against
/// chi-square with k - 1 degrees of freedom. `None` when it is undefined:
/// fewer than two seeds or blocks, or every block all pass or all fail.
pub fn cochran_q(blocks: &[Vec<bool>]) -> Option<(f64, f64)> {
    let k = blocks.first()?.len();
    if k < 2 || blocks.len() < 2 || blocks.iter().any(|b| b.len() != k) {
        return None;
    }
    let mut columns = vec![0u64; k];
    let (mut total, mut rows_squared) = (0u64, 0u64);
    for b in blocks {
        let r = b.iter().filter(|x| **x).count() as u64;
        total += r;
        rows_squared += r * r;
        for (c, x) in columns.iter_mut().zip(b) {
            *c += u64::from(*x);
        }
    }
    let k = k as f64;
    let denominator = k * total as f64 - rows_squared as f64;
    if denominator <= 0.0 {
        return None;
    }
    let columns_squared: f64 = columns.iter().map(|c| (*c as f64).powi(2)).sum();
    let q = (k - 1.0) * (k * columns_squared - (total as f64).powi(2)) / denominator;
    Some((q, chi_square_sf(q, k - 1.0)))
}

/// Φ(x), the standard normal distribution function, through erfc
/// (Numerical Recipes' Chebyshev fit, fractional error under 1.2e-7).
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// The power of a two-sided 5% z-test to detect `effect` when the
/// estimate's standard error is `se`.
pub fn power_two_sided(effect: f64, se: f64) -> f64 {
    if se <= 0.0 {
        return if effect != 0.0 { 1.0 } else { 0.05 };
    }
    let z = effect.abs() / se;
    normal_cdf(z - 1.959_963_985) + normal_cdf(-z - 1.959_963_985)
}

/// Clopper and Pearson's two-sided 95% interval on a rate: `k` successes
/// in `n` trials, both possibly effective (fractional) counts, the Beta
/// quantiles `B(0.025; k, n - k + 1)` and `B(0.975; k + 1, n - k)`, with
/// 0 and 1 at the ends. Monotone in `k`: one more success never lowers
/// either bound. `None` when `n` is not positive.
pub fn clopper_pearson(k: f64, n: f64) -> Option<(f64, f64)> {
    if n.is_nan() || k.is_nan() || n <= 0.0 {
        return None;
    }
    let k = k.clamp(0.0, n);
    let lower = if k <= 0.0 { 0.0 } else { beta_quantile(k, n - k + 1.0, 0.025) };
    let upper = if k >= n { 1.0 } else { beta_quantile(k + 1.0, n - k, 0.975) };
    Some((lower, upper))
}

/// The `p` quantile of Beta(a, b), by bisection on [`beta_regularised`]
/// (monotone in x; 100 halvings are past f64's precision).
fn beta_quantile(a: f64, b: f64, p: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if beta_regularised(a, b, mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The regularised incomplete beta I_x(a, b), by its continued fraction
/// (Numerical Recipes, 6.4), on the side where it converges fast.
pub fn beta_regularised(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_fraction(a, b, x) / a
    } else {
        1.0 - ln_front.exp() * beta_fraction(b, a, 1.0 - x) / b
    }
}

fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    let tiny = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < tiny {
        d = tiny;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..1000 {
        let m = m as f64;
        let m2 = 2.0 * m;
        for aa in [m * (b - m) * x / ((qam + m2) * (a + m2)), -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))] {
            d = 1.0 + aa * d;
            if d.abs() < tiny {
                d = tiny;
            }
            c = 1.0 + aa / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            h *= d * c;
        }
        if (d * c - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// Kish's effective number of trials of weighted trials, `(Σw)² / Σw²`:
/// as many equal-weight trials as would give the weighted mean its
/// variance. Equal weights give their count; one heavy trial among light
/// ones pulls it toward 1.
pub fn kish_n(sum_weights: f64, sum_squared_weights: f64) -> f64 {
    if sum_squared_weights <= 0.0 {
        return 0.0;
    }
    sum_weights * sum_weights / sum_squared_weights
}

/// Trials made independent: `n` (Kish's) trials in `clusters` clusters
/// whose members correlate `rho`, divided by the design effect
/// `1 + (m - 1) rho` with `m = n / clusters` trials per cluster. rho = 0
/// leaves `n`; rho = 1 leaves one trial per cluster.
pub fn design_effect_n(n: f64, clusters: usize, rho: f64) -> f64 {
    if clusters == 0 || n <= 0.0 {
        return 0.0;
    }
    let m = n / clusters as f64;
    n / (1.0 + (m - 1.0) * rho.clamp(0.0, 1.0))
}

/// The two-sided exact p-value of `observed` successes among independent
/// trials that succeed with chances `probs` (the Poisson-binomial law,
/// built one trial at a time): the probability of a total no more likely
/// than the observed one.
pub fn poisson_binomial_two_sided(probs: &[f64], observed: usize) -> f64 {
    let mut law = vec![1.0f64];
    for &p in probs {
        let mut next = vec![0.0; law.len() + 1];
        for (k, q) in law.iter().enumerate() {
            next[k] += q * (1.0 - p);
            next[k + 1] += q * p;
        }
        law = next;
    }
    let Some(&at) = law.get(observed) else { return 0.0 };
    law.iter().filter(|q| **q <= at * (1.0 + 1e-7)).sum::<f64>().min(1.0)
}

/// The cluster-robust (sandwich) standard error of a pooled 0/1 rate, with
/// the g/(g-1) small-sample factor: each cluster's residuals from the
/// pooled rate are summed before squaring, so clusters whose trials move
/// together count as one. `None` under two clusters or with no trial.
pub fn clustered_se<C: AsRef<[bool]>>(clusters: &[C]) -> Option<f64> {
    let clusters: Vec<&[bool]> = clusters.iter().map(|c| c.as_ref()).filter(|c| !c.is_empty()).collect();
    let g = clusters.len();
    let n: usize = clusters.iter().map(|c| c.len()).sum();
    if g < 2 || n == 0 {
        return None;
    }
    let y = |x: &bool| f64::from(u8::from(*x));
    let rate = clusters.iter().flat_map(|c| c.iter().map(y)).sum::<f64>() / n as f64;
    let s: f64 = clusters.iter().map(|c| c.iter().map(|x| y(x) - rate).sum::<f64>().powi(2)).sum();
    Some((g as f64 / (g - 1) as f64 * s).sqrt() / n as f64)
}

/// `k` of `n` against a pool's `pool_k` of `pool_n`: Fisher's two-sided p.
pub fn fisher_against(k: usize, n: usize, pool_k: usize, pool_n: usize) -> f64 {
    fisher_two_sided(k as u64, (n - k) as u64, pool_k as u64, (pool_n - pool_k) as u64)
}

/// Pearson's correlation of `(x, y)` points; `None` under two points or
/// when either variable is constant.
pub fn correlation(points: &[(f64, f64)]) -> Option<f64> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let (mx, my) = (points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let syy: f64 = points.iter().map(|p| (p.1 - my).powi(2)).sum();
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// P(X > x) for X chi-square with `df` degrees of freedom: the regularised
/// upper incomplete gamma Q(df/2, x/2).
pub fn chi_square_sf(x: f64, df: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    upper_gamma_regularised(df / 2.0, x / 2.0)
}

/// Q(a, x), by its series below a + 1 and its continued fraction above
/// (Numerical Recipes, 6.2), to about 1e-12.
fn upper_gamma_regularised(a: f64, x: f64) -> f64 {
    let ln_prefix = a * x.ln() - x - ln_gamma(a);
    if x < a + 1.0 {
        let (mut term, mut sum, mut ap) = (1.0 / a, 1.0 / a, a);
        for _ in 0..1000 {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if term.abs() < sum.abs() * 1e-15 {
                break;
            }
        }
        1.0 - sum * ln_prefix.exp()
    } else {
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..1000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-15 {
                break;
            }
        }
        ln_prefix.exp() * h
    }
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, nine coefficients).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1-x) = π / sin(πx).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let series: f64 = G[0] + (1..9).map(|i| G[i] / (x + i as f64)).sum::<f64>();
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + series.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn fisher_on_published_tables() {
        // Fisher's lady tasting tea, 3 of 4 right: p = 34/70.
        assert!(close(fisher_two_sided(3, 1, 1, 3), 34.0 / 70.0, 1e-12));
        // The real data: 3/290 solo passes against 0/96 coop: no
        // difference can be seen (p = 1).
        assert!(close(fisher_two_sided(3, 287, 0, 96), 1.0, 1e-12));
        // And its eval errors: 12/100 coop against 11/300 solo, p = 0.005.
        let p = fisher_two_sided(12, 88, 11, 289);
        assert!((0.004..0.006).contains(&p), "{p}");
        // Symmetric in the rows and the columns.
        assert!(close(fisher_two_sided(11, 289, 12, 88), p, 1e-12));
        assert!(close(fisher_two_sided(88, 12, 289, 11), p, 1e-12));
        assert_eq!(fisher_two_sided(0, 0, 0, 0), 1.0);
    }

    #[test]
    fn chi_square_tail_at_known_points() {
        // df 2: exactly exp(-x/2).
        assert!(close(chi_square_sf(3.0, 2.0), (-1.5f64).exp(), 1e-12));
        // The 5% critical values of df 1 and df 4.
        assert!(close(chi_square_sf(3.841_459, 1.0), 0.05, 1e-6));
        assert!(close(chi_square_sf(9.487_729, 4.0), 0.05, 1e-6));
        assert!(close(chi_square_sf(0.5, 3.0), 0.918_891_4, 1e-6));
        assert_eq!(chi_square_sf(0.0, 2.0), 1.0);
        assert!(close(ln_gamma(5.0), 24f64.ln(), 1e-12));
    }

    #[test]
    fn normal_and_power_at_known_points() {
        assert!(close(normal_cdf(0.0), 0.5, 1e-7));
        assert!(close(normal_cdf(1.959_963_985), 0.975, 1e-7));
        assert!(close(normal_cdf(-1.0), 0.158_655_25, 1e-7));
        // An effect of 2.8 standard errors is found 80% of the time.
        assert!(close(power_two_sided(2.801_585, 1.0), 0.80, 1e-4));
        // No effect: the test's own 5%.
        assert!(close(power_two_sided(0.0, 0.1), 0.05, 1e-6));
    }

    #[test]
    fn kish_and_the_design_effect_by_hand() {
        // Four trials of weight 1: four. Weights 1, 1/3, 1/3, 1/3:
        // (2)^2 / (1 + 3/9) = 4 / (4/3) = 3.
        assert!(close(kish_n(4.0, 4.0), 4.0, 1e-12));
        assert!(close(kish_n(2.0, 4.0 / 3.0), 3.0, 1e-12));
        assert_eq!(kish_n(0.0, 0.0), 0.0);
        // 30 trials in 10 clusters (m = 3), rho 0.5: deff 1 + 2 * 0.5 = 2,
        // so 15; rho 0 keeps 30; rho 1 keeps one per cluster.
        assert!(close(design_effect_n(30.0, 10, 0.5), 15.0, 1e-12));
        assert!(close(design_effect_n(30.0, 10, 0.0), 30.0, 1e-12));
        assert!(close(design_effect_n(30.0, 10, 1.0), 10.0, 1e-12));
        assert_eq!(design_effect_n(3.0, 0, 0.5), 0.0);
    }

    #[test]
    fn poisson_binomial_by_hand() {
        // Four trials at 1/4, none passed: P(0) = (3/4)^4 = 0.316406; the
        // totals no more likely: 0, 2 (0.210938), 3 (0.046875), 4
        // (0.003906), not 1 (0.421875): p = 0.578125.
        assert!(close(poisson_binomial_two_sided(&[0.25; 4], 0), 0.578_125, 1e-9));
        // Chances 0 and 1 are certain: no evidence either way.
        assert!(close(poisson_binomial_two_sided(&[0.0, 1.0], 1), 1.0, 1e-12));
        // A fair coin, 10 of 10: 2 / 1024.
        assert!(close(poisson_binomial_two_sided(&[0.5; 10], 10), 2.0 / 1024.0, 1e-12));
        assert_eq!(poisson_binomial_two_sided(&[0.5], 3), 0.0);
    }

    #[test]
    fn correlation_by_hand() {
        // y = 2x: 1; y = -x: -1; (0,0), (1,1), (2,0): sxy = 0: 0.
        assert!(close(correlation(&[(0.0, 0.0), (1.0, 2.0), (2.0, 4.0)]).unwrap(), 1.0, 1e-12));
        assert!(close(correlation(&[(0.0, 0.0), (1.0, -1.0)]).unwrap(), -1.0, 1e-12));
        assert!(close(correlation(&[(0.0, 0.0), (1.0, 1.0), (2.0, 0.0)]).unwrap(), 0.0, 1e-12));
        // Solo rates 0, 1/3, 2/3, 1 against coop 0, 0, 1, 1: mean x 1/2,
        // mean y 1/2; sxy = (1/2 + 1/6 + 1/6 + 1/2) / 2 = 2/3; sxx = 5/9;
        // syy = 1: r = (2/3) / sqrt(5/9) = 0.894427.
        let r = correlation(&[(0.0, 0.0), (1.0 / 3.0, 0.0), (2.0 / 3.0, 1.0), (1.0, 1.0)]).unwrap();
        assert!(close(r, 0.894_427, 1e-6), "{r}");
        assert_eq!(correlation(&[(0.0, 1.0), (1.0, 1.0)]), None);
    }

    #[test]
    fn cochran_q_by_hand() {
        // Three seeds, four pairs: columns 3, 2, 1 (N = 6), rows 2, 1, 3, 0
        // (sum of squares 14): Q = 2 (3 * 14 - 36) / (18 - 14) = 3, and
        // with df 2, p = exp(-1.5).
        let b = vec![vec![true, true, false], vec![true, false, false], vec![true, true, true], vec![false; 3]];
        let (q, p) = cochran_q(&b).unwrap();
        assert!(close(q, 3.0, 1e-12) && close(p, (-1.5f64).exp(), 1e-12), "{q} {p}");
        // Seeds that agree on every pair say nothing either way.
        assert_eq!(cochran_q(&[vec![true, true], vec![false, false]]), None);
        assert_eq!(cochran_q(&[vec![true]]), None);
    }

    #[test]
    fn clopper_pearson_known_points_and_monotone() {
        // R: binom.test(0, 10)$conf.int = [0, 0.3084971];
        // binom.test(3, 10) = [0.06673951, 0.6524529];
        // binom.test(10, 10) = [0.6915029, 1].
        let close = |a: f64, b: f64| (a - b).abs() < 1e-6;
        let (l, u) = clopper_pearson(0.0, 10.0).unwrap();
        assert!(l == 0.0 && close(u, 0.308_497_1), "{u}");
        let (l, u) = clopper_pearson(3.0, 10.0).unwrap();
        assert!(close(l, 0.066_739_51) && close(u, 0.652_452_9), "{l} {u}");
        let (l, u) = clopper_pearson(10.0, 10.0).unwrap();
        assert!(close(l, 0.691_502_9) && u == 1.0, "{l}");
        // The run rates: 0/97 and 1/97 on 26 tasks' worth of
        // effective trials: one success never narrows the upper bound.
        for n in [26.0, 97.0, 9.5] {
            let mut last = (0.0, 0.0);
            for k10 in 0..=((n * 10.0) as usize) {
                let k = k10 as f64 / 10.0;
                let (l, u) = clopper_pearson(k, n).unwrap();
                assert!(l >= last.0 - 1e-12 && u >= last.1 - 1e-12, "n {n}: k {k} gives [{l}, {u}] after {last:?}");
                last = (l, u);
            }
        }
        assert_eq!(clopper_pearson(1.0, 0.0), None);
    }
}

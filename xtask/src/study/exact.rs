//! The tests the report uses to check its own assumptions, written out so
//! that a reviewer can follow them: Fisher's exact test on a 2x2 table
//! (are two rates of eval errors, or of successes, alike?), Cochran's Q
//! over the solo seeds (are the seeds exchangeable repeats?), and the
//! chi-square tail Cochran's Q is read against.

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
}

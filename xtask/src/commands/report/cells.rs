//! How a number is written in REPORT.md, once: a value, an interval (or
//! why there is none), a weighted count, a list of runs, a verdict's case.

use crate::study::fig4::PairedBoot;
use crate::study::verdict::Case;

/// A paired difference's interval, or why there is none.
pub(super) fn paired_ci(b: &PairedBoot) -> String {
    match (&b.ci_withheld, b.exact_p_value) {
        (Some(_), Some(p)) => format!("[n/a: excludes 0, the exact test does not (p {p:.3})]"),
        _ => ci(b.ci_lower, b.ci_upper, b.ci_defined_share),
    }
}

pub(super) fn opt(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.3}")).unwrap_or_else(|| "n/a".into())
}

/// `[lo, hi]`, with the share of replicates behind it when some lacked the
/// statistic, or why there is none (`[n/a: defined in 63.0% of replicates]`).
pub(super) fn ci(lo: Option<f64>, hi: Option<f64>, share: f64) -> String {
    let part = if share < 1.0 { format!(" in {:.2}% of replicates", share * 100.0) } else { String::new() };
    match (lo, hi) {
        (Some(l), Some(h)) if l == h => format!("[{l:.3}, {h:.3}: zero width{part}]"),
        (Some(l), Some(h)) => format!("[{l:.3}, {h:.3}{part}]"),
        _ if share < 1.0 => format!("[n/a: defined in {:.1}% of replicates]", share * 100.0),
        _ => "[n/a]".into(),
    }
}

/// A weighted count: whole numbers as they are, fractions (held-out coop
/// trials weigh 1/K) with two decimals.
pub(super) fn count(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x}")
    } else {
        format!("{x:.2}")
    }
}

/// A case of the verdict in a few words.
pub(super) fn case_words(c: Case) -> &'static str {
    match c {
        Case::Floor => "at floor",
        Case::Ceiling => "at ceiling",
        Case::Flat => "on a flat axis",
        Case::Readable => "readable",
    }
}

pub(super) fn names(v: &[String]) -> String {
    if v.is_empty() {
        "none".to_string()
    } else {
        v.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", ")
    }
}

//! What a reviewer would object to in a figure, one line each: its shape,
//! its buckets, and every interval that cannot be read as a 95% interval.
//! And which buckets a design can reach at all. Pure, over the curves and
//! the design alone.

use crate::study::difficulty::Difficulty;
use crate::study::fig4::{
    Bucket, CiMethod, Curves, Design, DifficultyMode, Estimate, PairTrials, MIN_DEFINED_SHARE, RELIABLE_BUCKET_PAIRS,
};

/// What a reviewer would object to in the figure, one line each.
pub(super) fn figure_checks(
    c: &Curves,
    reachable: &[usize],
    solo_runs: usize,
    eval_errors_left_out: usize,
    mode: DifficultyMode,
) -> Vec<String> {
    let mut w = Vec::new();
    if mode == DifficultyMode::InSample {
        w.push("in-sample difficulty: the solo curve is drawn by the seeds that define difficulty, so it falls from 1 to 0 by construction".into());
    }
    let populated: Vec<&Bucket> = c.buckets.iter().filter(|b| b.pairs > 0).collect();
    // A design reaches only some buckets (two held-out seeds: 0, 5 and 9);
    // only buckets it could reach and did not are worth a warning.
    let missed: Vec<String> = reachable.iter().filter(|b| c.buckets[**b].pairs == 0).map(|b| b.to_string()).collect();
    if !missed.is_empty() {
        w.push(format!(
            "{} of the {} buckets these seeds can reach are populated; empty: {}",
            reachable.len() - missed.len(),
            reachable.len(),
            missed.join(", ")
        ));
    }
    if populated.len() < 3 {
        w.push(format!("only {} bucket(s) populated: fewer than three points make no curve", populated.len()));
    }
    for b in &populated {
        if b.pairs < RELIABLE_BUCKET_PAIRS {
            w.push(format!("bucket {} holds {} pair(s) (fewer than five): its rate is unreliable", b.bucket, b.pairs));
        }
    }
    for s in &c.settings {
        let points: Vec<(usize, f64, f64)> = c
            .buckets
            .iter()
            .filter_map(|b| b.settings.get(s).and_then(|x| x.rate.map(|r| (b.bucket, r, x.ci_upper))))
            .collect();
        for win in points.windows(2) {
            let ((b0, _, up0), (b1, r1, _)) = (win[0], win[1]);
            if r1 > up0 {
                w.push(format!("{s}: success rises from bucket {b0} to bucket {b1} beyond bucket {b0}'s interval ({r1:.3} > {up0:.3})"));
            }
        }
    }
    if c.grid.len() < 2 {
        w.push(format!("the curves share {} populated bucket(s): no AUC or retention", c.grid.len()));
    }
    for (run, r) in &c.retention {
        if let Some(v) = r.value {
            if !(0.0..=1.5).contains(&v) {
                w.push(format!("{run}: retention {v:.3} is outside [0, 1.5]"));
            }
        }
    }
    for (run, d) in &c.auc_difference {
        if d.spans_zero() {
            w.push(format!("{run}: the interval of AUC minus solo AUC spans 0: the curves cannot be told apart"));
        }
    }
    for (run, p) in &c.paired {
        if matches!((p.ci_lower, p.ci_upper), (Some(l), Some(u)) if l <= 0.0 && u >= 0.0) {
            w.push(format!("{run}: the interval of the paired difference spans 0"));
        }
    }
    w.extend(interval_checks(c));
    if solo_runs < 3 {
        w.push(format!("difficulty from {solo_runs} solo run(s): values are coarse"));
    }
    if c.unplaced_pairs > 0 {
        w.push(format!("{} pair(s) have no valid solo seed to place them by and are left out", c.unplaced_pairs));
    }
    if eval_errors_left_out > 0 {
        w.push(format!("{eval_errors_left_out} trial(s) left out for eval errors"));
    }
    w
}

/// Intervals that cannot be read as 95% intervals, one line each: a
/// statistic some bootstrap replicates leave undefined has none at all, and
/// a zero-width one comes from replicates that all agree, not from a
/// measured uncertainty.
pub fn interval_checks(c: &Curves) -> Vec<String> {
    let mut w = Vec::new();
    let mut named: Vec<(String, &Estimate)> = Vec::new();
    for (s, e) in &c.auc {
        named.push((format!("{s}: AUC"), e));
    }
    for (run, e) in &c.retention {
        named.push((format!("{run}: retention"), e));
    }
    for (run, e) in &c.auc_difference {
        named.push((format!("{run}: AUC minus solo AUC"), e));
    }
    for (what, e) in named {
        if e.value.is_none() {
            continue;
        }
        if let Some(why) = &e.ci_withheld {
            w.push(format!("{what}: no interval: {why}"));
            continue;
        }
        match (e.ci_lower, e.ci_upper) {
            (Some(l), Some(u)) if l == u => w.push(format!(
                "{what}: its interval has zero width ([{l:.3}, {u:.3}]): every replicate gave the same value, which measures no uncertainty"
            )),
            (Some(_), Some(_)) => {}
            _ => w.push(format!("{what}: no interval: {}", undefined_in(e.ci_defined_share))),
        }
    }
    for (run, p) in &c.paired {
        match &p.ci_withheld {
            Some(why) => w.push(format!("{run}: paired difference: no interval: {why}")),
            None if p.mean.is_some() && p.ci_lower.is_none() => {
                w.push(format!("{run}: paired difference: no interval: {}", undefined_in(p.ci_defined_share)))
            }
            None => {}
        }
    }
    for b in &c.buckets {
        for (s, cell) in &b.settings {
            if cell.ci_method == CiMethod::ClopperPearson {
                continue;
            }
            if cell.rate.is_some() && cell.ci_defined_share < MIN_DEFINED_SHARE {
                w.push(format!("{s}: bucket {}: no interval: {}", b.bucket, undefined_in(cell.ci_defined_share)));
            } else if cell.rate.is_some() && cell.ci_lower == cell.ci_upper {
                w.push(format!(
                    "{s}: bucket {}: its interval has zero width ([{:.3}, {:.3}]): every replicate gave the same rate",
                    b.bucket, cell.ci_lower, cell.ci_upper
                ));
            }
        }
    }
    w
}

/// Why a statistic has no interval: the share of replicates that define it.
pub fn undefined_in(share: f64) -> String {
    format!(
        "defined in {:.1}% of the bootstrap replicates, and an interval needs {:.0}%",
        share * 100.0,
        MIN_DEFINED_SHARE * 100.0
    )
}

/// The buckets a pair's difficulty can fall in, given how many valid solo
/// seeds place it (held-out: the others of each solo-curve seed; in-sample:
/// all), whether or not any pair does.
pub(super) fn reachable_buckets(pairs: &[PairTrials], design: &Design) -> Vec<usize> {
    // Per placement, the valid trials of each model: every way they could
    // have failed gives a difficulty (one model: failures 0..=valid).
    let mut shapes: std::collections::BTreeSet<Vec<u32>> = std::collections::BTreeSet::new();
    let groups = design.models.iter().copied().max().map_or(1, |m| m + 1);
    let shape = |left_out: Option<usize>, p: &PairTrials| -> Vec<u32> {
        let mut v = vec![0u32; groups];
        for (i, t) in p.solo.iter().enumerate() {
            if Some(i) != left_out && t.is_some() {
                v[design.models.get(i).copied().unwrap_or(0)] += 1;
            }
        }
        v
    };
    for p in pairs {
        match design.mode {
            DifficultyMode::InSample => {
                shapes.insert(shape(None, p));
            }
            DifficultyMode::HeldOut => {
                for i in 0..p.solo.len() {
                    if design.solo_curve.get(i).copied().unwrap_or(false) {
                        shapes.insert(shape(Some(i), p));
                    }
                }
            }
        }
    }
    let mut buckets = std::collections::BTreeSet::new();
    for valid in shapes {
        let defined: Vec<u32> = valid.into_iter().filter(|v| *v > 0).collect();
        if defined.is_empty() {
            continue;
        }
        // Every combination of failures per model (small: seeds per model
        // times models; capped so that a wide study cannot blow up).
        let mut combos: Vec<Vec<u32>> = vec![Vec::new()];
        for v in &defined {
            combos = combos.into_iter().flat_map(|c| (0..=*v).map(move |f| [c.clone(), vec![f]].concat())).collect();
            if combos.len() > 100_000 {
                return (0..10).collect();
            }
        }
        for failures in combos {
            let per: Vec<Difficulty> =
                failures.iter().zip(&defined).map(|(f, v)| Difficulty { failures: *f, valid: *v }).collect();
            let d = if per.len() == 1 { per[0] } else { Difficulty::mean(&per) };
            buckets.extend(d.bucket());
        }
    }
    buckets.into_iter().collect()
}

//! How the headline moves with the outcomes that are no trial: each
//! counted left out (the default), as a failure, as a success, and the two
//! ways that bound it. Pure.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::study::class::Class;
use crate::study::exact;
use crate::study::fig4::{self, round6, Bootstrap, Design, PairTrials};
use crate::study::outcome::EvalErrors;
use crate::study::table::{RunOutcomes, Table};

/// How the headline moves with the (run, pair)s that are no trial: the
/// machine's outcomes (infrastructure, agent configuration and errors, eval
/// errors under the default policy). Pairs not yet run or evaluated are
/// not counted (verify names them). Drops that depend on the outcome bias
/// the headline: a coop pair is dropped when either agent hits
/// infrastructure, so coop is exposed about twice as often as solo.
#[derive(Debug, Clone, Serialize)]
pub struct NonTrialSensitivity {
    pub classes: Vec<&'static str>,
    pub per_run: BTreeMap<String, SensitivityRow>,
}

/// One coop run's paired difference (the main clustering's point estimate)
/// under each way of counting.
#[derive(Debug, Clone, Serialize)]
pub struct SensitivityRow {
    /// Non-trials among the solo-curve runs' (run, pair)s, and this run's.
    pub solo_non_trials: usize,
    pub solo_cases: usize,
    pub coop_non_trials: usize,
    pub coop_cases: usize,
    /// This run's share of non-trials against the solo runs' pooled share.
    pub fisher_p: f64,
    pub left_out: Option<f64>,
    pub as_failures: Option<f64>,
    pub as_successes: Option<f64>,
    /// Solo's counted as successes, coop's as failures: the lowest the
    /// headline can be.
    pub lowest: Option<f64>,
    /// Solo's as failures, coop's as successes: the highest.
    pub highest: Option<f64>,
    /// The headline is not 0 and a bound reaches 0 or the other sign: its
    /// sign rests on how outcomes the model was not judged on would have
    /// gone.
    pub sign_depends: bool,
}

/// Whether a class is counted by the sensitivity: no trial, and done.
fn counted_non_trial(c: Class, policy: EvalErrors) -> bool {
    c.trial(policy).is_none() && !matches!(c, Class::Missing | Class::NotEvaluated)
}

pub(super) fn non_trial_sensitivity(
    table: &Table,
    solo_runs: &[&RunOutcomes],
    coop_runs: &[&RunOutcomes],
    design: &Design,
    policy: EvalErrors,
    bootstrap: Bootstrap,
) -> Option<NonTrialSensitivity> {
    let classes: Vec<&'static str> =
        Class::ALL.iter().filter(|c| counted_non_trial(**c, policy)).map(|c| c.name()).collect();
    let solo_curve: Vec<&&RunOutcomes> =
        solo_runs.iter().zip(&design.solo_curve).filter(|(_, on)| **on).map(|(r, _)| r).collect();
    let count = |r: &RunOutcomes| table.pairs.iter().filter(|p| counted_non_trial(r.row(p).class, policy)).count();
    let solo_non_trials: usize = solo_curve.iter().map(|r| count(r)).sum();
    let solo_cases = solo_curve.len() * table.pairs.len();
    let coop_counts: Vec<usize> = coop_runs.iter().map(|r| count(r)).collect();
    if solo_non_trials + coop_counts.iter().sum::<usize>() == 0 || coop_runs.is_empty() {
        return None;
    }
    // The paired means with non-trials counted as `solo`/`coop` say.
    let means = |solo: Option<bool>, coop: Option<bool>| -> Vec<Option<f64>> {
        let as_ = |c: Class, v: Option<bool>| if counted_non_trial(c, policy) { v } else { c.trial(policy) };
        let pairs: Vec<PairTrials> = table
            .pairs
            .iter()
            .map(|p| PairTrials {
                pair: p.clone(),
                solo: solo_runs.iter().map(|r| as_(r.row(p).class, solo)).collect(),
                coop: coop_runs.iter().map(|r| as_(r.row(p).class, coop)).collect(),
            })
            .collect();
        let boot = Bootstrap { replicates: 1, ..bootstrap };
        fig4::paired_bootstrap(&pairs, design, &fig4::clusters(&pairs, bootstrap.cluster), boot)
            .into_iter()
            .map(|b| b.mean)
            .collect()
    };
    let (left, fail, pass) = (means(None, None), means(Some(false), Some(false)), means(Some(true), Some(true)));
    let (low, high) = (means(Some(true), Some(false)), means(Some(false), Some(true)));
    let per_run = coop_runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let coop_cases = table.pairs.len();
            let row = SensitivityRow {
                solo_non_trials,
                solo_cases,
                coop_non_trials: coop_counts[i],
                coop_cases,
                fisher_p: round6(exact::fisher_against(coop_counts[i], coop_cases, solo_non_trials, solo_cases)),
                left_out: left[i],
                as_failures: fail[i],
                as_successes: pass[i],
                lowest: low[i],
                highest: high[i],
                sign_depends: match (left[i], low[i], high[i]) {
                    (Some(m), Some(l), Some(h)) => (m > 0.0 && l <= 0.0) || (m < 0.0 && h >= 0.0),
                    _ => false,
                },
            };
            (r.name.clone(), row)
        })
        .collect();
    Some(NonTrialSensitivity { classes, per_run })
}

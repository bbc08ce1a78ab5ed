//! What the data can and cannot show, decided by explicit rules before any
//! number is read, and the assumptions the numbers rest on, tested: that a
//! pair's solo seeds are exchangeable repeats (Cochran's Q), and that eval
//! errors, which are left out of every rate, struck the settings alike
//! (Fisher's exact test). The report prints these first.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::study::exact;
use crate::study::fig4::round6;
use crate::study::pair::PairId;

/// Fewer solo successes than this, and the figure is at floor.
pub const FLOOR_SUCCESSES: usize = 10;
/// More than this share of the placed pairs in one bucket, and the figure
/// is at floor too: one bucket is no curve.
pub const FLOOR_BUCKET_SHARE: f64 = 0.8;
/// Below this p-value an assumption is reported as failing.
pub const ALPHA: f64 = 0.05;
/// The paper's effect: coop success 30% below solo, relatively.
pub const PAPER_DROP: f64 = 0.3;
/// Below this chance of detecting the paper's effect, the design cannot
/// tell the settings apart, and the verdict says so.
pub const MIN_POWER: f64 = 0.5;

/// The chance of detecting the paper's 30% relative drop in coop success,
/// per coop run, from the solo success rate and the paired difference's
/// standard error: `(run, power)`.
pub fn paper_drop_power(solo_rate: f64, paired_se: &[(String, f64)]) -> Vec<(String, f64)> {
    paired_se
        .iter()
        .map(|(run, se)| (run.clone(), round6(exact::power_two_sided(PAPER_DROP * solo_rate, *se))))
        .collect()
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub at_floor: bool,
    pub solo_successes: usize,
    pub solo_trials: usize,
    /// Tasks (repo and task id) with at least one solo success.
    pub tasks_with_successes: usize,
    /// The largest bucket's share of the placed pairs.
    pub largest_bucket_share: f64,
    /// One short paragraph in plain words.
    pub text: String,
    /// The rules, as applied.
    pub rules: Vec<String>,
}

/// The verdict from every solo trial (per pair, all solo runs) and the
/// pairs each bucket holds; `placed` is how many pairs were placed at all.
pub fn verdict(
    solo: &[(PairId, Vec<bool>)],
    bucket_pairs: &[usize],
    placed: usize,
    power: &[(String, f64)],
) -> Verdict {
    let solo_trials: usize = solo.iter().map(|(_, t)| t.len()).sum();
    let solo_successes: usize = solo.iter().map(|(_, t)| t.iter().filter(|x| **x).count()).sum();
    let tasks: BTreeSet<(&str, u64)> =
        solo.iter().filter(|(_, t)| t.iter().any(|x| *x)).map(|(p, _)| (p.repo.as_str(), p.task_id)).collect();
    let largest = bucket_pairs.iter().copied().max().unwrap_or(0);
    let largest_bucket_share = if placed == 0 { 0.0 } else { round6((largest as f64 / placed as f64).min(1.0)) };
    let few = solo_successes < FLOOR_SUCCESSES;
    let piled = largest_bucket_share > FLOOR_BUCKET_SHARE;
    let at_floor = few || piled;
    let mut rules = vec![
        format!(
            "at floor when fewer than {FLOOR_SUCCESSES} solo successes: {solo_successes} in {solo_trials} trials{}",
            if few { " (at floor)" } else { "" }
        ),
        format!(
            "at floor when more than {:.0}% of the placed pairs sit in one bucket: {:.1}% of {placed}{}",
            FLOOR_BUCKET_SHARE * 100.0,
            largest_bucket_share * 100.0,
            if piled { " (at floor)" } else { "" }
        ),
        format!("solo successes come from {} task(s)", tasks.len()),
    ];
    for (run, p) in power {
        rules.push(format!(
            "{run}: a {:.0}% relative drop (the paper's) would be detected {:.1}% of the time{}",
            PAPER_DROP * 100.0,
            p * 100.0,
            if *p < MIN_POWER { " (under 50%: the settings cannot be told apart)" } else { "" }
        ));
    }
    let weak: Vec<String> =
        power.iter().filter(|(_, p)| *p < MIN_POWER).map(|(r, p)| format!("{r} {:.1}%", p * 100.0)).collect();
    let power_note = if weak.is_empty() {
        String::new()
    } else {
        format!(
            " A drop of {:.0}% in coop success, the paper's, would be detected only this often: {}; a difference not found here is not shown absent.",
            PAPER_DROP * 100.0,
            weak.join(", ")
        )
    };
    let where_from = match tasks.len() {
        0 => String::new(),
        1 => ", all in one task".to_string(),
        n => format!(", across {n} tasks"),
    };
    let mut text = if at_floor {
        format!(
            "At floor: {solo_successes} solo passes in {solo_trials} trials{where_from}; {:.0}% of the placed pairs sit in one bucket. Figure 4 carries no information here, AUC and retention are not given, and no difference between settings can be read from it.",
            largest_bucket_share * 100.0
        )
    } else if tasks.len() == 1 {
        format!(
            "Not at floor by the rules ({solo_successes} solo passes in {solo_trials} trials), but every success is in one task: the figure describes that task more than the benchmark."
        )
    } else {
        format!(
            "Not at floor: {solo_successes} solo passes in {solo_trials} trials{where_from}; the largest bucket holds {:.0}% of the placed pairs. The numbers below can be read with their intervals and warnings.",
            largest_bucket_share * 100.0
        )
    };
    text += &power_note;
    Verdict {
        at_floor,
        solo_successes,
        solo_trials,
        tasks_with_successes: tasks.len(),
        largest_bucket_share,
        text,
        rules,
    }
}

/// A rate of something in one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRate {
    pub run: String,
    pub count: usize,
    pub of: usize,
}

/// Are the solo seeds exchangeable? Their pass rates on the pairs where
/// every seed is a trial, and Cochran's Q over those pairs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeedAgreement {
    pub pairs: usize,
    pub per_run: Vec<RunRate>,
    pub cochran_q: Option<f64>,
    pub p_value: Option<f64>,
    /// Each solo run's success rate over all its trials, with a 95%
    /// interval clustered by task.
    pub success: Vec<RunSuccess>,
}

/// One run's success rate and its task-clustered interval: Wald on the
/// cluster-robust standard error (tasks share a repository state, so their
/// pairs are not independent), clipped to [0, 1]; at 0/n or n/n the exact
/// one-sided bound with one trial per task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSuccess {
    pub run: String,
    pub successes: usize,
    pub trials: usize,
    pub rate: Option<f64>,
    pub tasks: usize,
    pub ci_lower: Option<f64>,
    pub ci_upper: Option<f64>,
}

/// `trials` holds, per task, the run's trials on that task's pairs.
pub fn run_success(run: &str, trials: &[Vec<bool>]) -> RunSuccess {
    let tasks: Vec<&Vec<bool>> = trials.iter().filter(|t| !t.is_empty()).collect();
    let n: usize = tasks.iter().map(|t| t.len()).sum();
    let k: usize = tasks.iter().map(|t| t.iter().filter(|x| **x).count()).sum();
    let g = tasks.len();
    let rate = (n > 0).then(|| k as f64 / n as f64);
    let (lo, hi) = match rate {
        Some(_) if k == 0 || k == n => match exact::all_or_none_bound(k == n, g as f64) {
            Some(b) if k == n => (Some(b), Some(1.0)),
            Some(b) => (Some(0.0), Some(b)),
            None => (None, None),
        },
        Some(p) if g >= 2 => {
            let se = exact::clustered_se(&tasks).unwrap_or(0.0);
            (Some((p - 1.96 * se).max(0.0)), Some((p + 1.96 * se).min(1.0)))
        }
        _ => (None, None),
    };
    RunSuccess {
        run: run.to_string(),
        successes: k,
        trials: n,
        rate: rate.map(round6),
        tasks: g,
        ci_lower: lo.map(round6),
        ci_upper: hi.map(round6),
    }
}

/// `runs` names the solo runs; `trials` holds per pair its task and one
/// entry per run (`None`: no trial).
pub fn seed_agreement(runs: &[String], pairs: &[(PairId, Vec<Option<bool>>)]) -> SeedAgreement {
    let trials: Vec<&Vec<Option<bool>>> = pairs.iter().map(|(_, t)| t).collect();
    let complete: Vec<Vec<bool>> = trials
        .iter()
        .filter(|t| t.len() == runs.len() && t.iter().all(Option::is_some))
        .map(|t| t.iter().map(|x| x.unwrap_or(false)).collect())
        .collect();
    let per_run = runs
        .iter()
        .enumerate()
        .map(|(i, r)| RunRate { run: r.clone(), count: complete.iter().filter(|t| t[i]).count(), of: complete.len() })
        .collect();
    let q = exact::cochran_q(&complete);
    let mut by_task: BTreeMap<(&str, u64), Vec<&Vec<Option<bool>>>> = BTreeMap::new();
    for (p, t) in pairs {
        by_task.entry((p.repo.as_str(), p.task_id)).or_default().push(t);
    }
    let success = runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let per_task: Vec<Vec<bool>> =
                by_task.values().map(|ts| ts.iter().filter_map(|t| t.get(i).copied().flatten()).collect()).collect();
            run_success(r, &per_task)
        })
        .collect();
    SeedAgreement {
        pairs: complete.len(),
        per_run,
        cochran_q: q.map(|(q, _)| round6(q)),
        p_value: q.map(|(_, p)| round6(p)),
        success,
    }
}

/// Eval errors are left out of every rate; a run whose share of them
/// differs from the solo runs' makes the comparison lean.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalErrorComparison {
    /// Eval errors of each run, of its evals.
    pub per_run: Vec<RunRate>,
    /// Each coop run against the solo runs pooled: Fisher's exact p-value.
    pub coop_vs_solo_p: Vec<(String, f64)>,
}

pub fn eval_errors(solo: &[RunRate], coop: &[RunRate]) -> EvalErrorComparison {
    let (se, sn) = solo.iter().fold((0, 0), |(e, n), r| (e + r.count, n + r.of));
    let coop_vs_solo_p =
        coop.iter().map(|r| (r.run.clone(), round6(exact::fisher_against(r.count, r.of, se, sn)))).collect();
    EvalErrorComparison { per_run: solo.iter().chain(coop).cloned().collect(), coop_vs_solo_p }
}

/// Pairs the model was not judged on (the machine's classes, or not run or
/// evaluated yet) leave every rate; when their share differs between runs
/// or settings, the rates compare different pairs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NonTrials {
    /// Per run: pairs with no trial, of the subset's pairs.
    pub per_run: Vec<RunRate>,
    /// Each run against the solo runs other than itself, pooled: Fisher's
    /// exact p-value.
    pub vs_solo_p: Vec<(String, f64)>,
}

pub fn non_trials(solo: &[RunRate], coop: &[RunRate]) -> NonTrials {
    let vs_solo_p = solo
        .iter()
        .chain(coop)
        .filter_map(|r| {
            let others: Vec<&RunRate> = solo.iter().filter(|o| o.run != r.run).collect();
            let (k, n) = others.iter().fold((0, 0), |(k, n), o| (k + o.count, n + o.of));
            (n > 0).then(|| (r.run.clone(), round6(exact::fisher_against(r.count, r.of, k, n))))
        })
        .collect();
    NonTrials { per_run: solo.iter().chain(coop).cloned().collect(), vs_solo_p }
}

/// One line per run whose share of pairs with no trial differs.
pub fn non_trial_warnings(n: &NonTrials) -> Vec<String> {
    n.vs_solo_p
        .iter()
        .filter(|(_, p)| *p < ALPHA)
        .filter_map(|(run, p)| {
            let r = n.per_run.iter().find(|r| &r.run == run)?;
            Some(format!(
                "{run}: {} of {} pairs not judged (the machine's outcomes, or not yet run or evaluated), a share unlike the other solo runs' (Fisher's exact p = {p:.4}): its rates are over other pairs",
                r.count, r.of
            ))
        })
        .collect()
}

/// The warnings the assumptions give, one line each.
pub fn assumption_warnings(seeds: &SeedAgreement, evals: &EvalErrorComparison) -> Vec<String> {
    let mut w = Vec::new();
    if let (Some(q), Some(p)) = (seeds.cochran_q, seeds.p_value) {
        if p < ALPHA {
            let rates: Vec<String> = seeds.per_run.iter().map(|r| format!("{} {}/{}", r.run, r.count, r.of)).collect();
            w.push(format!(
                "the solo seeds differ (Cochran's Q = {q:.2}, p = {p:.4} on {} pairs: {}): they may not be repeats of one experiment",
                seeds.pairs,
                rates.join(", ")
            ));
        }
    }
    let solo_rate = {
        let solo: Vec<&RunRate> =
            evals.per_run.iter().filter(|r| !evals.coop_vs_solo_p.iter().any(|(c, _)| c == &r.run)).collect();
        let (e, n) = solo.iter().fold((0, 0), |(e, n), r| (e + r.count, n + r.of));
        format!("{e}/{n}")
    };
    for (run, p) in &evals.coop_vs_solo_p {
        if *p < ALPHA {
            let r = evals.per_run.iter().find(|r| &r.run == run);
            let own = r.map(|r| format!("{}/{}", r.count, r.of)).unwrap_or_default();
            w.push(format!(
                "{run}: eval errors {own} against the solo runs' {solo_rate} (Fisher's exact p = {p:.4}): left out of its rates, they can bias the comparison"
            ));
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(task: u64, a: u32) -> PairId {
        PairId::new("amber_task", task, a, a + 1)
    }

    #[test]
    fn three_passes_in_one_task_are_at_floor() {
        // The study's real data, in small: 3 passes, all in task 1.
        let mut solo = vec![(pair(1, 1), vec![true, true, true])];
        solo.extend((2..98).map(|t| (pair(t, 1), vec![false, false, false])));
        let mut buckets = vec![0; 10];
        buckets[0] = 1;
        buckets[9] = 96;
        let v = verdict(&solo, &buckets, 97, &[("coop".into(), 0.27)]);
        assert!(v.at_floor);
        assert_eq!((v.solo_successes, v.solo_trials, v.tasks_with_successes), (3, 291, 1));
        assert!(
            v.text.starts_with("At floor: 3 solo passes in 291 trials, all in one task; 99% of the placed pairs"),
            "{}",
            v.text
        );
        assert!(v.rules[0].ends_with("(at floor)") && v.rules[1].ends_with("(at floor)"), "{:?}", v.rules);
        assert!(
            v.text.ends_with(
                "would be detected only this often: coop 27.0%; a difference not found here is not shown absent."
            ),
            "{}",
            v.text
        );
        assert!(
            v.rules[3]
                .starts_with("coop: a 30% relative drop (the paper's) would be detected 27.0% of the time (under 50%"),
            "{:?}",
            v.rules
        );
    }

    #[test]
    fn power_for_the_papers_drop() {
        // Solo success 0.5: the drop is 0.15; with se 0.0536 it is 2.8
        // standard errors, found 80% of the time.
        let p = paper_drop_power(0.5, &[("c".into(), 0.15 / 2.801_585)]);
        assert!((p[0].1 - 0.8).abs() < 1e-3, "{p:?}");
    }

    #[test]
    fn enough_successes_spread_out_are_not_at_floor() {
        let solo: Vec<(PairId, Vec<bool>)> = (0..20).map(|t| (pair(t, 1), vec![t % 2 == 0, t % 3 == 0])).collect();
        let buckets = [4, 0, 0, 0, 0, 8, 0, 0, 0, 8];
        let v = verdict(&solo, &buckets, 20, &[]);
        assert!(!v.at_floor, "{}", v.text);
        assert_eq!(v.solo_successes, 10 + 7);
        assert_eq!(v.largest_bucket_share, 0.4);
        assert!(v.text.starts_with("Not at floor: 17 solo passes in 40 trials, across"), "{}", v.text);
        // Ten successes in one bucket of all twenty pairs: at floor by the pile.
        let v = verdict(&solo, &[0, 0, 0, 0, 0, 0, 0, 0, 0, 17], 20, &[]);
        assert!(v.at_floor && v.rules[1].ends_with("(at floor)"), "{:?}", v.rules);
    }

    #[test]
    fn seeds_that_differ_are_named() {
        let runs: Vec<String> = ["s0", "s1", "s2"].map(String::from).into();
        // s0 passes everything, s2 nothing, s1 half: clearly not alike.
        let trials: Vec<(PairId, Vec<Option<bool>>)> = (0..20)
            .map(|i| (pair(i / 4, 1), vec![Some(true), Some(i % 2 == 0), Some(false)]))
            .chain([(pair(9, 1), vec![None, None, None])])
            .collect();
        let a = seed_agreement(&runs, &trials);
        // s0 20/20 in 5 tasks: exact lower bound 0.05^(1/5) = 0.549280;
        // s1 10/20, each task 2 of 4: residuals sum to 0 in every task, so
        // the clustered SE is 0 and the interval [0.5, 0.5].
        assert_eq!(a.success[0].ci_lower, Some(0.54928));
        assert_eq!((a.success[0].ci_upper, a.success[0].tasks), (Some(1.0), 5));
        assert_eq!((a.success[1].ci_lower, a.success[1].ci_upper), (Some(0.5), Some(0.5)));
        assert_eq!((a.success[2].ci_lower, a.success[2].ci_upper), (Some(0.0), Some(0.45072)));
        assert_eq!(a.pairs, 20);
        assert_eq!(a.per_run.iter().map(|r| r.count).collect::<Vec<_>>(), [20, 10, 0]);
        // Columns 20, 10, 0 (N = 30); rows 2 (ten times) and 1 (ten times),
        // sum of squares 50: Q = 2 (3 * 500 - 900) / (90 - 50) = 30.
        assert_eq!(a.cochran_q, Some(30.0));
        let w = assumption_warnings(&a, &eval_errors(&[], &[]));
        assert_eq!(w.len(), 1);
        assert!(
            w[0].starts_with(
                "the solo seeds differ (Cochran's Q = 30.00, p = 0.0000 on 20 pairs: s0 20/20, s1 10/20, s2 0/20)"
            ),
            "{}",
            w[0]
        );
    }

    #[test]
    fn a_run_rate_clustered_by_task_by_hand() {
        // Two tasks: [1, 1] and [0, 0]. p = 1/2; residual sums +1 and -1:
        // SE = sqrt(2/1 * 2) / 4 = 0.5, so 0.5 +- 0.98, clipped to [0, 1];
        // as independent trials it would be sqrt(0.25/4) = 0.25.
        let r = run_success("s", &[vec![true, true], vec![false, false]]);
        assert_eq!((r.rate, r.ci_lower, r.ci_upper, r.tasks), (Some(0.5), Some(0.0), Some(1.0), 2));
        // Four tasks [1,0] [1,0] [1,1] [0,0]: sums 0, 0, 1, -1: SE =
        // sqrt(4/3 * 2) / 8 = 0.204124; 0.5 +- 0.400083.
        let r = run_success("s", &[vec![true, false], vec![true, false], vec![true, true], vec![false, false]]);
        assert_eq!((r.ci_lower, r.ci_upper), (Some(0.099917), Some(0.900083)));
        assert_eq!(run_success("s", &[]).rate, None);
    }

    #[test]
    fn runs_that_leave_more_pairs_unjudged_are_named() {
        // Solo runs 2/100 and 3/100 unjudged; a coop run 20/100: against
        // the solo 5/200, Fisher's p is far below 0.05; the solo runs agree.
        let solo = [RunRate { run: "s0".into(), count: 2, of: 100 }, RunRate { run: "s1".into(), count: 3, of: 100 }];
        let coop = [RunRate { run: "c".into(), count: 20, of: 100 }];
        let n = non_trials(&solo, &coop);
        assert_eq!(n.vs_solo_p.len(), 3);
        assert!(n.vs_solo_p[0].1 > 0.5 && n.vs_solo_p[2].1 < 0.001, "{:?}", n.vs_solo_p);
        let w = non_trial_warnings(&n);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].starts_with("c: 20 of 100 pairs not judged"), "{}", w[0]);
        // One solo run alone has no other to compare with.
        assert!(non_trials(&solo[..1], &[]).vs_solo_p.is_empty());
    }

    #[test]
    fn eval_errors_that_differ_between_settings_are_named() {
        // The numbers: coop 12/100 against solo 11/300.
        let solo = [RunRate { run: "s".into(), count: 11, of: 300 }];
        let coop = [RunRate { run: "c".into(), count: 12, of: 100 }, RunRate { run: "d".into(), count: 4, of: 100 }];
        let e = eval_errors(&solo, &coop);
        assert!((0.004..0.006).contains(&e.coop_vs_solo_p[0].1), "{:?}", e.coop_vs_solo_p);
        assert!(e.coop_vs_solo_p[1].1 > 0.5, "{:?}", e.coop_vs_solo_p);
        let agree = SeedAgreement { pairs: 0, per_run: vec![], cochran_q: None, p_value: None, success: vec![] };
        let w = assumption_warnings(&agree, &e);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].starts_with("c: eval errors 12/100 against the solo runs' 11/300 (Fisher's exact p = 0.00"),
            "{}",
            w[0]
        );
    }
}

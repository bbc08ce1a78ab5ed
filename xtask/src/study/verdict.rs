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

/// Fewer solo failures than this, and the figure is at ceiling: nearly
/// every pair is easy, there is no difficulty to spread over.
pub const CEILING_FAILURES: usize = 10;
/// Fewer reachable buckets than this (held-out difficulty from two seeds
/// can only be 0 or 1), and the axis cannot spread: no curve has a shape.
pub const MIN_REACHABLE_BUCKETS: usize = 3;

/// Which of the figure's cases the data are in: each has its own sentence
/// about Figure 4, and only about Figure 4 (the paired comparison is read
/// on its own terms, in every case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Case {
    /// Too few solo successes.
    Floor,
    /// Too few solo failures.
    Ceiling,
    /// A difficulty axis that cannot spread: too few seeds to reach three
    /// buckets, or one bucket holding most pairs.
    Flat,
    /// None of these: the figure can be read with its intervals.
    Readable,
}

impl Case {
    /// A few words for a figure's title.
    pub fn title(self) -> Option<&'static str> {
        match self {
            Case::Floor => Some("at floor: no information"),
            Case::Ceiling => Some("at ceiling: no information"),
            Case::Flat => Some("flat axis: no information"),
            Case::Readable => None,
        }
    }
}

/// One coop run's paired comparison as the verdict states it: the mean,
/// its interval when shown (else why not), the exact test.
#[derive(Debug, Clone, PartialEq)]
pub struct PairedLine {
    pub run: String,
    pub mean: Option<f64>,
    pub ci: Option<(f64, f64)>,
    pub withheld: Option<String>,
    pub exact_p: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub case: Case,
    /// `case` is `floor` (kept: readers of fig4.json check it).
    pub at_floor: bool,
    pub solo_successes: usize,
    pub solo_trials: usize,
    /// Tasks (repo and task id) with at least one solo success.
    pub tasks_with_successes: usize,
    /// The largest bucket's share of the placed pairs.
    pub largest_bucket_share: f64,
    /// Buckets this design's difficulties can reach at all.
    pub reachable_buckets: usize,
    /// One short paragraph in plain words.
    pub text: String,
    /// The rules, as applied.
    pub rules: Vec<String>,
}

impl Verdict {
    /// Whether Figure 4 and its summaries (AUC, retention) carry information.
    pub fn figure_informative(&self) -> bool {
        self.case == Case::Readable
    }
}

/// p as printed beside a claim: below 0.001 as such.
pub fn p_text(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".into()
    } else {
        format!("{p:.3}")
    }
}

/// What one coop run's paired comparison shows, in a sentence: the
/// interval when it is shown, and what the exact test says; never "no
/// difference" where the exact test rejects.
pub fn paired_sentence(l: &PairedLine) -> String {
    let Some(mean) = l.mean else { return format!("`{}`: no pair both settings ran", l.run) };
    let exact = l.exact_p.map(|p| format!("exact p {}", p_text(p))).unwrap_or_else(|| "no exact test".into());
    let rejects = l.exact_p.is_some_and(|p| p < ALPHA);
    let direction = if mean < 0.0 { "coop below solo" } else { "coop above solo" };
    match (l.ci, &l.withheld) {
        (Some((lo, hi)), _) => {
            let excludes = lo > 0.0 || hi < 0.0;
            let reading = match (excludes, rejects) {
                (true, true) => direction.to_string(),
                (false, true) => format!("the exact test finds {direction}, the interval spans 0"),
                (true, false) => "the interval excludes 0, the exact test does not: not shown".into(),
                (false, false) => "no difference shown (not shown absent)".into(),
            };
            format!("`{}` {mean:+.3} [{lo:+.3}, {hi:+.3}], {exact}: {reading}", l.run)
        }
        (None, Some(_)) | (None, None) => {
            let reading = if rejects { direction.to_string() } else { "no difference shown (not shown absent)".into() };
            format!("`{}` {mean:+.3}, interval withheld (below), {exact}: {reading}", l.run)
        }
    }
}

/// The verdict from every solo trial (per pair, all solo runs) and the
/// pairs each bucket holds; `placed` is how many pairs were placed at all,
/// `reachable` how many buckets the design can reach, `power` each coop
/// run's chance of detecting the paper's drop (`None`: no standard error
/// to compute it from), `paired` each coop run's comparison.
pub fn verdict(
    solo: &[(PairId, Vec<bool>)],
    bucket_pairs: &[usize],
    placed: usize,
    reachable: usize,
    power: &[(String, Option<f64>)],
    paired: &[PairedLine],
) -> Verdict {
    let solo_trials: usize = solo.iter().map(|(_, t)| t.len()).sum();
    let solo_successes: usize = solo.iter().map(|(_, t)| t.iter().filter(|x| **x).count()).sum();
    let solo_failures = solo_trials - solo_successes;
    let tasks: BTreeSet<(&str, u64)> =
        solo.iter().filter(|(_, t)| t.iter().any(|x| *x)).map(|(p, _)| (p.repo.as_str(), p.task_id)).collect();
    let largest = bucket_pairs.iter().copied().max().unwrap_or(0);
    let largest_bucket_share = if placed == 0 { 0.0 } else { round6((largest as f64 / placed as f64).min(1.0)) };
    let few = solo_successes < FLOOR_SUCCESSES;
    let full = solo_failures < CEILING_FAILURES;
    let narrow = reachable < MIN_REACHABLE_BUCKETS;
    let piled = largest_bucket_share > FLOOR_BUCKET_SHARE;
    // Floor first: with too few trials for either, there is nothing to read.
    let case = if few {
        Case::Floor
    } else if full {
        Case::Ceiling
    } else if narrow || piled {
        Case::Flat
    } else {
        Case::Readable
    };
    let mark = |hit: bool, what: &str| if hit { format!(" ({what})") } else { String::new() };
    let mut rules = vec![
        format!(
            "at floor when fewer than {FLOOR_SUCCESSES} solo successes: {solo_successes} in {solo_trials} trials{}",
            mark(few, "at floor")
        ),
        format!(
            "at ceiling when fewer than {CEILING_FAILURES} solo failures: {solo_failures} in {solo_trials} trials{}",
            mark(full && !few, "at ceiling")
        ),
        format!(
            "the axis cannot spread when the seeds reach fewer than {MIN_REACHABLE_BUCKETS} buckets: {reachable}{}",
            mark(narrow && case == Case::Flat, "flat")
        ),
        format!(
            "the axis cannot spread when more than {:.0}% of the placed pairs sit in one bucket: {:.1}% of {placed}{}",
            FLOOR_BUCKET_SHARE * 100.0,
            largest_bucket_share * 100.0,
            mark(piled && case == Case::Flat, "flat")
        ),
        format!("solo successes come from {} task(s)", tasks.len()),
    ];
    for (run, p) in power {
        rules.push(match p {
            Some(p) => format!(
                "{run}: a {:.0}% relative drop (the paper's) would be detected {:.1}% of the time{}",
                PAPER_DROP * 100.0,
                p * 100.0,
                if *p < MIN_POWER { " (under 50%: the settings cannot be told apart)" } else { "" }
            ),
            None => format!(
                "{run}: the chance of detecting a {:.0}% relative drop is not given: its interval is withheld, and the standard error beside it comes from the same degenerate bootstrap",
                PAPER_DROP * 100.0
            ),
        });
    }
    let weak: Vec<String> = power
        .iter()
        .filter_map(|(r, p)| p.filter(|p| *p < MIN_POWER).map(|p| format!("{r} {:.1}%", p * 100.0)))
        .collect();
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
    let figure = "Figure 4 carries no information here, and AUC and retention are not given";
    let mut text = match case {
        Case::Floor => format!(
            "At floor: {solo_successes} solo passes in {solo_trials} trials{where_from}; {:.0}% of the placed pairs sit in one bucket. {figure}.",
            largest_bucket_share * 100.0
        ),
        Case::Ceiling => format!(
            "At ceiling: {solo_failures} solo failures in {solo_trials} trials; nearly every pair is easy for solo, so there is no difficulty to spread the pairs over. {figure}."
        ),
        Case::Flat if narrow => format!(
            "The difficulty axis cannot spread: these solo seeds place a pair in only {reachable} bucket(s) (a held-out difficulty from one other seed is 0 or 1), and {:.0}% of the placed pairs sit in one. {figure}: more seeds are needed.",
            largest_bucket_share * 100.0
        ),
        Case::Flat => format!(
            "The difficulty axis cannot spread: {:.0}% of the placed pairs sit in one bucket ({solo_successes} solo passes in {solo_trials} trials). {figure}.",
            largest_bucket_share * 100.0
        ),
        Case::Readable if tasks.len() == 1 => format!(
            "Figure 4 can be read by the rules ({solo_successes} solo passes in {solo_trials} trials), but every success is in one task: the figure describes that task more than the benchmark."
        ),
        Case::Readable => format!(
            "Figure 4 can be read: {solo_successes} solo passes in {solo_trials} trials{where_from}, neither at floor nor at ceiling; the largest bucket holds {:.0}% of the placed pairs. The numbers below can be read with their intervals and warnings.",
            largest_bucket_share * 100.0
        ),
    };
    if !paired.is_empty() {
        text += " Coop against solo, pair by pair (mean of coop success minus the pair's solo rate): ";
        text += &paired.iter().map(paired_sentence).collect::<Vec<_>>().join("; ");
        text += ".";
    }
    text += &power_note;
    Verdict {
        case,
        at_floor: case == Case::Floor,
        solo_successes,
        solo_trials,
        tasks_with_successes: tasks.len(),
        largest_bucket_share,
        reachable_buckets: reachable,
        text,
        rules,
    }
}

/// The chance of detecting the paper's 30% relative drop, per coop run,
/// from the solo success rate and the paired difference's standard error;
/// `None` where there is no standard error to trust.
pub fn paper_drop_power_of(solo_rate: f64, paired_se: &[(String, Option<f64>)]) -> Vec<(String, Option<f64>)> {
    paired_se
        .iter()
        .map(|(run, se)| (run.clone(), se.map(|se| round6(exact::power_two_sided(PAPER_DROP * solo_rate, se)))))
        .collect()
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
    /// Pairs whose seeds disagree: the only ones Cochran's Q learns from.
    pub discordant_pairs: usize,
    /// Under [`MIN_DISCORDANT`] discordant pairs Q's chi-square p is no
    /// evidence either way (Q 0.000, p 1.000 on three successes is not
    /// reassurance): said as "uninformative".
    pub cochran_informative: bool,
    /// Each solo run's success rate over all its trials, with a 95%
    /// interval clustered by task.
    pub success: Vec<RunSuccess>,
}

/// Fewer discordant pairs than this, and Cochran's Q is uninformative.
pub const MIN_DISCORDANT: usize = 10;

/// One run's success rate and its task-clustered interval: Wald on the
/// cluster-robust standard error (tasks share a repository state, so their
/// pairs are not independent), clipped to [0, 1]; with fewer than five
/// successes or failures, Clopper and Pearson's two-sided 95% interval on
/// the effective n of one trial per task.
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
    let few = |x: usize| (x as f64) < crate::study::fig4::FEW_EVENTS;
    let (lo, hi) = match rate {
        // Few successes or failures: Clopper-Pearson on the effective n,
        // one trial per task (the cautious end: no within-task correlation
        // is estimated), so that k + 1 never gets a narrower bound than k.
        Some(p) if few(k) || few(n - k) => match exact::clopper_pearson(p * g as f64, g as f64) {
            Some((l, u)) => (Some(l), Some(u)),
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
    let discordant_pairs = complete.iter().filter(|t| t.iter().any(|x| *x) && t.iter().any(|x| !*x)).count();
    SeedAgreement {
        pairs: complete.len(),
        per_run,
        cochran_q: q.map(|(q, _)| round6(q)),
        p_value: q.map(|(_, p)| round6(p)),
        discordant_pairs,
        cochran_informative: discordant_pairs >= MIN_DISCORDANT,
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
        if p < ALPHA && seeds.cochran_informative {
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

    fn line(run: &str, mean: f64, ci: Option<(f64, f64)>, exact_p: f64) -> PairedLine {
        PairedLine {
            run: run.into(),
            mean: Some(mean),
            ci,
            withheld: ci.is_none().then(|| "degenerate".into()),
            exact_p: Some(exact_p),
        }
    }

    #[test]
    fn three_passes_in_one_task_are_at_floor() {
        // The study's real data, in small: 3 passes, all in task 1.
        let mut solo = vec![(pair(1, 1), vec![true, true, true])];
        solo.extend((2..98).map(|t| (pair(t, 1), vec![false, false, false])));
        let mut buckets = vec![0; 10];
        buckets[0] = 1;
        buckets[9] = 96;
        let paired = [line("coop", -0.01, None, 0.6)];
        let v = verdict(&solo, &buckets, 97, 3, &[("coop".into(), Some(0.27))], &paired);
        assert_eq!(v.case, Case::Floor);
        assert!(v.at_floor && !v.figure_informative());
        assert_eq!((v.solo_successes, v.solo_trials, v.tasks_with_successes), (3, 291, 1));
        assert!(
            v.text.starts_with("At floor: 3 solo passes in 291 trials, all in one task; 99% of the placed pairs"),
            "{}",
            v.text
        );
        assert!(v.rules[0].ends_with("(at floor)"), "{:?}", v.rules);
        // Floor comes first: the other rules are stated, not marked.
        assert!(!v.rules[1].contains("(at") && !v.rules[3].contains("(flat)"), "{:?}", v.rules);
        // Nothing a reviewer could read as a finding: no difference shown.
        assert!(
            v.text.contains("`coop` -0.010, interval withheld (below), exact p 0.600: no difference shown"),
            "{}",
            v.text
        );
        assert!(!v.text.contains("no difference between settings can be read"), "{}", v.text);
        assert!(
            v.text.ends_with(
                "would be detected only this often: coop 27.0%; a difference not found here is not shown absent."
            ),
            "{}",
            v.text
        );
        assert!(
            v.rules[5]
                .starts_with("coop: a 30% relative drop (the paper's) would be detected 27.0% of the time (under 50%"),
            "{:?}",
            v.rules
        );
    }

    /// The ceiling: solo about 0.98, coop at 0.7 of it. Not a
    /// floor; the paired loss the exact test finds is stated.
    #[test]
    fn a_ceiling_is_a_ceiling_and_its_paired_loss_is_stated() {
        let solo: Vec<(PairId, Vec<bool>)> =
            (0..100).map(|t| (pair(t, 1), vec![true, t % 50 != 0, t % 60 != 1])).collect();
        let mut buckets = vec![0; 10];
        buckets[0] = 96;
        buckets[5] = 4;
        let paired = [line("coop", -0.343, Some((-0.443, -0.253)), 0.0001)];
        let v = verdict(&solo, &buckets, 100, 3, &[("coop".into(), Some(0.99))], &paired);
        assert_eq!(v.case, Case::Ceiling, "{}", v.text);
        assert!(!v.at_floor && !v.figure_informative());
        assert!(v.text.starts_with("At ceiling: 4 solo failures in 300 trials;"), "{}", v.text);
        assert!(v.text.contains("`coop` -0.343 [-0.443, -0.253], exact p < 0.001: coop below solo"), "{}", v.text);
        assert!(!v.text.contains("no difference"), "{}", v.text);
        assert!(v.rules[1].ends_with("(at ceiling)"), "{:?}", v.rules);
        assert_eq!(Case::Ceiling.title(), Some("at ceiling: no information"));
    }

    /// Two seeds at 36% solo success: held-out difficulty is 0 or 1, most
    /// pairs in one bucket: the axis cannot spread (not a floor).
    #[test]
    fn two_seeds_make_a_flat_axis() {
        let solo: Vec<(PairId, Vec<bool>)> = (0..100).map(|t| (pair(t, 1), vec![t % 3 == 0, t % 4 == 0])).collect();
        let mut buckets = vec![0; 10];
        buckets[0] = 15;
        buckets[9] = 85;
        let v = verdict(&solo, &buckets, 100, 2, &[], &[]);
        assert_eq!(v.case, Case::Flat, "{}", v.text);
        assert!(
            v.text.starts_with("The difficulty axis cannot spread: these solo seeds place a pair in only 2 bucket(s)"),
            "{}",
            v.text
        );
        assert!(v.rules[2].ends_with("(flat)") && v.rules[3].ends_with("(flat)"), "{:?}", v.rules);
    }

    #[test]
    fn a_paired_sentence_never_calls_a_rejection_no_difference() {
        let s = paired_sentence(&line("c", -0.2, None, 0.01));
        assert!(s.ends_with("coop below solo"), "{s}");
        let s = paired_sentence(&line("c", -0.2, Some((-0.3, 0.01)), 0.03));
        assert!(s.contains("the exact test finds coop below solo, the interval spans 0"), "{s}");
        let s = paired_sentence(&line("c", 0.05, Some((0.01, 0.1)), 0.2));
        assert!(s.ends_with("the interval excludes 0, the exact test does not: not shown"), "{s}");
        let s = paired_sentence(&line("c", 0.05, Some((-0.01, 0.1)), 0.2));
        assert!(s.ends_with("no difference shown (not shown absent)"), "{s}");
    }

    #[test]
    fn power_for_the_papers_drop() {
        // Solo success 0.5: the drop is 0.15; with se 0.0536 it is 2.8
        // standard errors, found 80% of the time.
        let p = paper_drop_power_of(0.5, &[("c".into(), Some(0.15 / 2.801_585)), ("d".into(), None)]);
        assert!((p[0].1.unwrap() - 0.8).abs() < 1e-3, "{p:?}");
        assert_eq!(p[1].1, None);
    }

    #[test]
    fn enough_successes_spread_out_are_readable() {
        let solo: Vec<(PairId, Vec<bool>)> = (0..40).map(|t| (pair(t, 1), vec![t % 2 == 0, t % 3 == 0])).collect();
        let buckets = [8, 0, 0, 0, 0, 16, 0, 0, 0, 16];
        let v = verdict(&solo, &buckets, 40, 3, &[], &[]);
        assert_eq!(v.case, Case::Readable, "{}", v.text);
        assert_eq!(v.solo_successes, 20 + 14);
        assert_eq!(v.largest_bucket_share, 0.4);
        assert!(v.text.starts_with("Figure 4 can be read: 34 solo passes in 80 trials, across"), "{}", v.text);
        // The same trials, every pair in one bucket: a flat axis.
        let v = verdict(&solo, &[0, 0, 0, 0, 0, 0, 0, 0, 0, 34], 40, 3, &[], &[]);
        assert_eq!(v.case, Case::Flat);
        assert!(v.rules[3].ends_with("(flat)"), "{:?}", v.rules);
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
        // s0 20/20 in 5 tasks: Clopper-Pearson on 5 effective trials,
        // lower 0.025^(1/5) = 0.478176; s1 10/20, each task 2 of 4:
        // residuals sum to 0 in every task, so the clustered SE is 0 and
        // the interval [0.5, 0.5].
        assert_eq!(a.success[0].ci_lower, Some(0.478176));
        assert_eq!((a.success[0].ci_upper, a.success[0].tasks), (Some(1.0), 5));
        assert_eq!((a.success[1].ci_lower, a.success[1].ci_upper), (Some(0.5), Some(0.5)));
        assert_eq!((a.success[2].ci_lower, a.success[2].ci_upper), (Some(0.0), Some(0.521824)));
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
        // Six tasks, three [1, 1] and three [0, 0]: p = 1/2; residual sums
        // +1 and -1: SE = sqrt(6/5 * 6) / 12 = 0.223607, so 0.5 +-
        // 0.438269; as independent trials it would be sqrt(0.25/12).
        let (pass, fail) = (vec![true, true], vec![false, false]);
        let tasks = [pass.clone(), pass.clone(), pass, fail.clone(), fail.clone(), fail];
        let r = run_success("s", &tasks);
        assert_eq!((r.rate, r.ci_lower, r.ci_upper, r.tasks), (Some(0.5), Some(0.061731), Some(0.938269), 6));
        // Two tasks [1, 1] and [0, 0]: 2 of 4, fewer than five of each:
        // Clopper-Pearson on one trial per task, 1 of 2.
        let r = run_success("s", &[vec![true, true], vec![false, false]]);
        assert_eq!((r.ci_lower, r.ci_upper), (Some(0.012579), Some(0.987421)));
        assert_eq!(run_success("s", &[]).rate, None);
    }

    /// The bounds: 0/97 and 1/97 over 26 tasks. One success more
    /// never gives a narrower upper bound (it did: [0, 0.109] against
    /// [0, 0.031]).
    #[test]
    fn a_run_rate_bound_is_monotone_in_its_successes() {
        let tasks = |k: usize| -> Vec<Vec<bool>> {
            (0..26).map(|t| (0..if t < 19 { 4 } else { 3 }).map(|i| t == 0 && i < k).collect()).collect()
        };
        assert_eq!(tasks(0).iter().map(Vec::len).sum::<usize>(), 97);
        let mut last = (0.0, 0.0);
        for k in 0..4 {
            let r = run_success("s", &tasks(k));
            let (l, u) = (r.ci_lower.unwrap(), r.ci_upper.unwrap());
            assert!(u >= last.1 && l >= last.0, "{k}/97: [{l}, {u}] after {last:?}");
            last = (l, u);
        }
        // 0/97: Clopper-Pearson on 26 effective trials, 1 - 0.025^(1/26).
        assert_eq!(run_success("s", &tasks(0)).ci_upper, Some(0.132275));
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
        let agree = SeedAgreement {
            pairs: 0,
            per_run: vec![],
            cochran_q: None,
            p_value: None,
            discordant_pairs: 0,
            cochran_informative: false,
            success: vec![],
        };
        let w = assumption_warnings(&agree, &e);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].starts_with("c: eval errors 12/100 against the solo runs' 11/300 (Fisher's exact p = 0.00"),
            "{}",
            w[0]
        );
    }
}

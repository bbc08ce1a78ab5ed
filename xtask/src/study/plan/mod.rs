//! The plan of `seeds`, pure: where each run stands (what is done, what the
//! CLI would redo), what the rest should cost, and, from those and the
//! policy, the next step. No process, file or clock is touched here, so
//! every decision (the canary, the retries, the budget stop, the forced
//! re-evals) is tested on states made in memory. `seeds` carries the steps
//! out; `status` shows the same states.

mod budget;
mod lanes;
mod state;

use std::collections::{BTreeMap, BTreeSet};

use crate::study::class::{Action, Class};
use crate::study::pair::PairId;
pub use budget::{human_duration, live_over_budget, run_concurrency, sandbox_over, Estimate, SpendPolicy};
pub use lanes::{agents_next, budget, eval_concurrency};
pub use state::RunState;

/// What `seeds` did so far in one seed's run phase, in this invocation:
/// with the state on disk, all the planner needs. Only [`RunHistory::record`]
/// changes it, from the step the executor carried out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunHistory {
    canary: Option<PairId>,
    runs: u32,
    reran: BTreeSet<PairId>,
    /// The attempt the last wait was for.
    waited_for: u32,
    /// Per pair, its retries alone (after the first plain run).
    alone: BTreeMap<PairId, u32>,
}

impl RunHistory {
    /// The executor carried `step` out (whatever the CLI made of it: the
    /// files say that, and the next state holds it).
    pub fn record(&mut self, step: &RunStep) {
        match step {
            RunStep::Canary(pair) => self.canary = Some(pair.clone()),
            RunStep::Run { attempt, .. } => self.runs = *attempt,
            RunStep::Rerun(pair) => {
                self.reran.insert(pair.clone());
            }
            RunStep::Wait { attempt, .. } => self.waited_for = *attempt,
            RunStep::RetryAlone { pair, .. } => *self.alone.entry(pair.clone()).or_default() += 1,
            RunStep::Quarantine(_) | RunStep::Done { .. } | RunStep::Stop(_) => {}
        }
    }
}

/// The next thing to do in one seed's run phase.
#[derive(Debug, Clone, PartialEq)]
pub enum RunStep {
    /// Move these files (relative to the checkout) aside: the CLI cannot read them.
    Quarantine(Vec<String>),
    /// One pair, `-c 1`, before the money of the whole run.
    Canary(PairId),
    /// A plain `run`; it does every pair without a good result.
    Run { attempt: u32, pairs: usize },
    /// Retry one pair alone (`-r -t -f`): a plain run would also redo an
    /// Error the harness keeps (the CLI redoes every Error it sees).
    RetryAlone { attempt: u32, pair: PairId },
    /// Wait before a retry: the provider refused (rate limit, 5xx), and
    /// asking again at once is asking to be refused again.
    Wait { attempt: u32, seconds: u32, why: String },
    /// Move this pair's folder aside and run it alone: it ended on a
    /// container that was gone, and the CLI would not redo it. Once a pair.
    Rerun(PairId),
    /// Nothing left to do; these pairs still had no good result.
    Done { failing: Vec<(PairId, String)> },
    /// Stop this seed, and say why.
    Stop(String),
}

/// How far the plain evals of a seed have gone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Evals {
    #[default]
    None,
    /// The first `eval` of the seed ran.
    Once,
    /// And the one retry for pairs it left without an eval.json.
    Retried,
}

/// What `seeds` did so far in one seed's eval phase; only
/// [`EvalHistory::record`] changes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvalHistory {
    evals: Evals,
    forced: BTreeSet<PairId>,
    summary_written: bool,
}

impl EvalHistory {
    pub fn record(&mut self, step: &EvalStep) {
        match step {
            EvalStep::Eval => self.evals = Evals::Once,
            EvalStep::EvalRetry { .. } => self.evals = Evals::Retried,
            EvalStep::ForceEval(pair) => {
                self.forced.insert(pair.clone());
            }
            EvalStep::RewriteSummary => self.summary_written = true,
            EvalStep::Quarantine(_) | EvalStep::Done | EvalStep::Stop(_) => {}
        }
    }
}

/// The next thing to do in one seed's eval phase.
#[derive(Debug, Clone, PartialEq)]
pub enum EvalStep {
    /// Move these eval.json files aside: the CLI cannot read them.
    Quarantine(Vec<String>),
    Eval,
    /// Pairs with no eval.json after the first eval: the container never started.
    EvalRetry {
        missing: usize,
    },
    /// `eval --force` for one pair whose eval errored or is stale.
    ForceEval(PairId),
    /// Recount `eval_summary.json` from every eval.json.
    RewriteSummary,
    Done,
    /// Stop this seed, and say why.
    Stop(String),
}

/// The next step of a seed's run phase.
pub fn next_run_step(seed: u32, st: &RunState, h: &RunHistory, p: &SpendPolicy, spent: f64) -> RunStep {
    if let Some(f) = st.unreadable.first() {
        return RunStep::Stop(format!("seed {seed}: {}: {}", f.path, f.why));
    }
    // Files the CLI cannot read are moved aside right before a run redoes
    // them, and not otherwise: a seed that stops leaves them for the user.
    let corrupt: Vec<String> = st.corrupt.iter().map(|f| f.path.clone()).collect();
    let before_a_run = |step: RunStep| if corrupt.is_empty() { step } else { RunStep::Quarantine(corrupt.clone()) };
    match (&h.canary, st.first_to_run()) {
        (None, Some(pair)) => {
            return over_budget(p, spent, 1, &format!("the seed {seed} canary"))
                .unwrap_or_else(|| before_a_run(RunStep::Canary(pair.clone())))
        }
        (Some(pair), _) if h.runs == 0 => {
            if let Some(why) = st.error_of.get(pair) {
                return RunStep::Stop(format!(
                    "seed {seed} canary {pair} ended Error: {why}. One pair was spent instead of {}.",
                    st.expected
                ));
            }
            if st.new.contains(pair) || st.corrupt.iter().any(|f| &f.pair == pair) {
                return RunStep::Stop(format!(
                    "seed {seed} canary {pair} wrote no readable result.json; see the CLI output above"
                ));
            }
        }
        _ => {}
    }
    // After a plain run (which redoes every Error), an Error the same call
    // would give again (the key, the model name, the agent) is this run's:
    // stop the seed rather than pay for a retry of it.
    // A pair tried alone in this invocation counts as such a run for itself.
    {
        let config: Vec<&PairId> = st
            .redo
            .iter()
            .filter(|p| st.redo_class.get(*p) == Some(&Class::AgentConfigError))
            .filter(|p| h.runs > 0 || h.alone.contains_key(*p))
            .collect();
        if let Some(first) = config.first() {
            return RunStep::Stop(format!(
                "seed {seed}: {} pair(s) ended {} in this invocation, e.g. {first}: {}. The same call fails the same way; not retried.",
                config.len(),
                Class::AgentConfigError.name(),
                st.error_of.get(*first).map(String::as_str).unwrap_or("(no message)")
            ));
        }
    }
    if st.to_run() > 0 && h.runs < p.attempts {
        let pairs = st.to_run();
        // A retry waits as long as its pairs' classes ask (the policy table).
        let waits: Vec<(u32, Class)> = st
            .redo_class
            .values()
            .filter_map(|c| match c.policy().action {
                Action::Retry { wait_seconds, .. } if wait_seconds > 0 => Some((wait_seconds, *c)),
                _ => None,
            })
            .collect();
        let attempt = h.runs + 1;
        if let Some(&(seconds, class)) = waits.iter().max_by_key(|w| w.0) {
            if h.runs > 0 && h.waited_for != attempt {
                let why = format!("{} pair(s) of class {} to retry", waits.len(), class.name());
                return RunStep::Wait { attempt, seconds, why };
            }
        }
        // A plain run redoes every Error, a kept one too: once one is kept,
        // the pairs go one by one, also on a resume whose kept Error an
        // earlier invocation left (a deterministic failure is never paid
        // for twice; the price is the concurrency of that run).
        if !st.kept.is_empty() {
            let to_run = st.new.iter().chain(&st.redo).chain(st.corrupt.iter().map(|f| &f.pair));
            // Round by round: every pair's second try before any third. A
            // plain run of this invocation was every pair's first try.
            let next = to_run
                .map(|pr| (pr, h.runs.min(1) + h.alone.get(pr).copied().unwrap_or(0)))
                .filter(|(_, n)| *n < p.attempts)
                .min_by_key(|(_, n)| *n);
            if let Some((pair, tries)) = next {
                return over_budget(p, spent, 1, &format!("the retry of {pair}"))
                    .unwrap_or_else(|| before_a_run(RunStep::RetryAlone { attempt: tries + 1, pair: pair.clone() }));
            }
        } else {
            return over_budget(p, spent, pairs, &format!("{pairs} pairs of seed {seed}"))
                .unwrap_or_else(|| before_a_run(RunStep::Run { attempt, pairs }));
        }
    }
    // Pairs the machine failed although they look done: once each, alone.
    if let Some(pair) = st.rerun.iter().find(|p| !h.reran.contains(*p)) {
        return over_budget(p, spent, 1, &format!("the rerun of {pair}"))
            .unwrap_or_else(|| RunStep::Rerun(pair.clone()));
    }
    let failing = st
        .new
        .iter()
        .map(|p| (p.clone(), "no result.json".to_string()))
        .chain(st.redo.iter().map(|p| (p.clone(), st.error_of.get(p).cloned().unwrap_or_default())))
        .chain(st.corrupt.iter().map(|f| (f.pair.clone(), f.why.clone())))
        .chain(
            st.rerun
                .iter()
                .map(|p| (p.clone(), "infra_container: its container was gone, also after a rerun".to_string())),
        )
        .chain(st.kept.iter().map(|(p, c)| {
            let why = st.error_of.get(p).cloned().unwrap_or_default();
            (p.clone(), format!("{} (not retried: the same call fails the same way): {why}", c.name()))
        }))
        .collect();
    RunStep::Done { failing }
}

/// The next step of a seed's eval phase.
pub fn next_eval_step(st: &RunState, h: &EvalHistory) -> EvalStep {
    if let Some(f) = st.unreadable_evals.first() {
        return EvalStep::Stop(format!("{}: {}", f.path, f.why));
    }
    // As in the run phase: moved aside only right before an eval redoes them.
    let corrupt: Vec<String> = st.corrupt_evals.iter().map(|f| f.path.clone()).collect();
    let before_an_eval = |step: EvalStep| if corrupt.is_empty() { step } else { EvalStep::Quarantine(corrupt.clone()) };
    let missing = st.missing_evals + corrupt.len();
    match h.evals {
        Evals::None => return before_an_eval(EvalStep::Eval),
        Evals::Once if missing > 0 => return before_an_eval(EvalStep::EvalRetry { missing }),
        Evals::Once | Evals::Retried => {}
    }
    // One forced retry per pair: an error that comes back is the pair's.
    if let Some(pair) = st.eval_redo.iter().find(|p| !h.forced.contains(*p)) {
        return EvalStep::ForceEval(pair.clone());
    }
    if !h.summary_written {
        return EvalStep::RewriteSummary;
    }
    EvalStep::Done
}

/// The budget rule, before a step: a step whose estimate would take the
/// spend past `--max-cost` is not started.
fn over_budget(p: &SpendPolicy, spent: f64, pairs: usize, what: &str) -> Option<RunStep> {
    let (max, e) = (p.max_cost?, p.estimate?);
    let next = e.cost(pairs);
    (spent + next > max).then(|| {
        RunStep::Stop(format!(
            "--max-cost ${max:.2}: ${spent:.2} spent + ${next:.2} estimated for {what} would pass it; stopped before starting it"
        ))
    })
}

#[cfg(test)]
mod tests {
    //! The planner on states made in memory: no process, no file.
    use super::*;
    use crate::study::plan::state::FileTrouble;
    use crate::study::run::{PairLogs, RunLogs};
    use crate::study::subset::Subset;

    fn pair(n: u64) -> PairId {
        PairId::new("amber_task", n, 1, 2)
    }

    /// `expected` pairs: `done` of them done, the rest new.
    fn state(expected: u64, done: u64) -> RunState {
        RunState {
            run: "seed1".into(),
            exists: done > 0,
            expected: expected as usize,
            new: (done..expected).map(pair).collect(),
            done: done as usize,
            ..RunState::default()
        }
    }

    fn trouble(n: u64, file: &str) -> FileTrouble {
        FileTrouble { pair: pair(n), path: format!("logs/seed1/solo/amber_task/{n}/f1_f2/{file}"), why: "why".into() }
    }

    /// The canary done, then `runs` plain runs, as the executor reports them.
    fn after_canary(runs: u32) -> RunHistory {
        let mut h = RunHistory::default();
        h.record(&RunStep::Canary(pair(0)));
        for attempt in 1..=runs {
            h.record(&RunStep::Run { attempt, pairs: 1 });
        }
        h
    }

    const POLICY: SpendPolicy = SpendPolicy { attempts: 3, max_cost: None, estimate: None };

    /// The steps the planner takes on a state that never changes (every
    /// attempt fails the same way), until it is done.
    fn until_done(st: &RunState, mut h: RunHistory) -> Vec<RunStep> {
        let mut steps = Vec::new();
        loop {
            let step = next_run_step(1, st, &h, &POLICY, 0.0);
            if matches!(step, RunStep::Done { .. }) {
                return steps;
            }
            h.record(&step);
            steps.push(step);
        }
    }

    fn finish(st: &mut RunState, n: u64) {
        st.new.retain(|p| p != &pair(n));
        st.redo.retain(|p| p != &pair(n));
        st.done += 1;
    }

    #[test]
    fn refusals_on_modal_halve_the_next_runs_concurrency() {
        let mut st = RunState { expected: 4, ..RunState::default() };
        assert_eq!(run_concurrency(32, true, 2, &st), (32, None));
        st.redo_class.insert(PairId::parse("r_task/1/f1_f2").unwrap(), Class::InfraProvider);
        let (c, why) = run_concurrency(32, true, 2, &st);
        assert_eq!(c, 16);
        assert!(why.unwrap().contains("-c 16 instead of 32 for attempt 2"));
        assert_eq!(run_concurrency(32, true, 3, &st).0, 8);
        assert_eq!(run_concurrency(1, true, 3, &st), (1, None));
        // The first attempt, and Docker, keep what was configured.
        assert_eq!(run_concurrency(32, true, 1, &st), (32, None));
        assert_eq!(run_concurrency(4, false, 2, &st), (4, None));
        // A model's own failure is no refusal.
        st.redo_class.clear();
        st.redo_class.insert(PairId::parse("r_task/1/f1_f2").unwrap(), Class::ModelContext);
        assert_eq!(run_concurrency(32, true, 2, &st), (32, None));
    }

    #[test]
    fn sandbox_hours_are_estimated_and_bounded_like_money() {
        let e = Estimate { cost_per_pair: 0.5, seconds_per_pair: 360.0, from_pairs: 100 };
        // 100 solo pairs at 6 min: 10 h; coop: two agents, 20 h.
        assert_eq!(e.sandbox_seconds(100, 1), 36_000.0);
        assert_eq!(e.sandbox_seconds(100, 2), 72_000.0);
        assert_eq!(sandbox_over(None, 1e9, 1e9, "x"), None);
        assert_eq!(sandbox_over(Some(10.0), 0.0, 36_000.0, "x"), None);
        let why = sandbox_over(Some(10.0), 3600.0, 36_000.0, "would be used").unwrap();
        assert_eq!(
            why,
            "--max-sandbox-hours 10: 1.00 h used + 10.00 h estimated = 11.00 h of agent sandboxes would be used"
        );
        // Live: nothing estimated, the recorded time alone.
        assert!(sandbox_over(Some(1.0), 3601.0, 0.0, "used").is_some());
    }

    #[test]
    fn a_canary_then_the_run_then_done() {
        let mut st = state(4, 0);
        let mut h = RunHistory::default();
        assert_eq!(next_run_step(1, &st, &h, &POLICY, 0.0), RunStep::Canary(pair(0)));
        h.record(&RunStep::Canary(pair(0)));
        finish(&mut st, 0);
        assert_eq!(next_run_step(1, &st, &h, &POLICY, 0.0), RunStep::Run { attempt: 1, pairs: 3 });
        h.record(&RunStep::Run { attempt: 1, pairs: 3 });
        for n in 1..4 {
            finish(&mut st, n);
        }
        assert_eq!(next_run_step(1, &st, &h, &POLICY, 0.0), RunStep::Done { failing: vec![] });
    }

    #[test]
    fn a_complete_seed_needs_no_canary() {
        assert_eq!(
            next_run_step(1, &state(4, 4), &RunHistory::default(), &POLICY, 0.0),
            RunStep::Done { failing: vec![] }
        );
    }

    #[test]
    fn a_canary_that_ends_error_stops_the_seed_after_one_pair() {
        let mut st = state(100, 0);
        let h = after_canary(0);
        st.new.retain(|p| p != &pair(0));
        st.redo.push(pair(0));
        st.error_of.insert(pair(0), "Unknown agent: 'mini_swe_agent'".into());
        assert_eq!(
            next_run_step(1, &st, &h, &POLICY, 0.0),
            RunStep::Stop(
                "seed 1 canary amber_task/0/f1_f2 ended Error: Unknown agent: 'mini_swe_agent'. One pair was spent instead of 100."
                    .into()
            )
        );
    }

    #[test]
    fn a_canary_that_writes_nothing_stops_the_seed() {
        let h = after_canary(0);
        let step = next_run_step(1, &state(3, 0), &h, &POLICY, 0.0);
        assert!(
            matches!(&step, RunStep::Stop(m) if m.contains("canary amber_task/0/f1_f2 wrote no readable result.json")),
            "{step:?}"
        );
    }

    #[test]
    fn errors_are_retried_up_to_the_attempts_then_named() {
        let mut st = state(3, 1);
        st.new = vec![pair(1)];
        st.redo = vec![pair(2)];
        st.error_of.insert(pair(2), "Container exited".into());
        let mut h = after_canary(0);
        for attempt in 1..=3 {
            assert_eq!(next_run_step(1, &st, &h, &POLICY, 0.0), RunStep::Run { attempt, pairs: 2 });
            h.record(&RunStep::Run { attempt, pairs: 2 });
        }
        assert_eq!(
            next_run_step(1, &st, &h, &POLICY, 0.0),
            RunStep::Done { failing: vec![(pair(1), "no result.json".into()), (pair(2), "Container exited".into())] }
        );
    }

    #[test]
    fn with_a_kept_error_the_retries_go_pair_by_pair() {
        // Pair 0 ran past the context window (kept); pairs 1 and 2 hit a
        // sandbox error. After the first plain run, each is retried alone,
        // up to the attempts (3: two retries each), never pair 0.
        let mut st = state(3, 0);
        st.new.clear();
        st.kept = vec![(pair(0), Class::ModelContext)];
        st.redo = vec![pair(1), pair(2)];
        st.redo_class.insert(pair(1), Class::InfraSandbox);
        st.redo_class.insert(pair(2), Class::InfraSandbox);
        let steps = until_done(&st, after_canary(1));
        assert_eq!(
            steps,
            [
                RunStep::RetryAlone { attempt: 2, pair: pair(1) },
                RunStep::RetryAlone { attempt: 2, pair: pair(2) },
                RunStep::RetryAlone { attempt: 3, pair: pair(1) },
                RunStep::RetryAlone { attempt: 3, pair: pair(2) },
            ]
        );
        // No kept Error: the retry is one plain run.
        st.kept.clear();
        assert_eq!(next_run_step(1, &st, &after_canary(1), &POLICY, 0.0), RunStep::Run { attempt: 2, pairs: 2 });
    }

    #[test]
    fn a_resumed_seed_with_a_kept_error_goes_pair_by_pair_from_the_start() {
        // An earlier invocation left pair 0 past the context window (kept)
        // and pairs 1 and 2 without a result. A plain run would pay for
        // pair 0 again, so even the first try of 1 and 2 goes alone.
        let mut st = state(3, 0);
        st.new = vec![pair(1), pair(2)];
        st.kept = vec![(pair(0), Class::ModelContext)];
        let steps = until_done(&st, after_canary(0));
        let alone = |attempt, n| RunStep::RetryAlone { attempt, pair: pair(n) };
        assert_eq!(steps, [alone(1, 1), alone(1, 2), alone(2, 1), alone(2, 2), alone(3, 1), alone(3, 2)]);
        // Pair 1 tried alone came back with a bad key: the seed stops, as
        // after a plain run; pair 2, not yet tried here, does not stop it.
        st.new = vec![pair(2)];
        st.redo = vec![pair(1)];
        st.redo_class.insert(pair(1), Class::AgentConfigError);
        let mut h = after_canary(0);
        assert!(matches!(next_run_step(1, &st, &h, &POLICY, 0.0), RunStep::RetryAlone { .. }));
        h.record(&alone(1, 1));
        assert!(
            matches!(next_run_step(1, &st, &h, &POLICY, 0.0), RunStep::Stop(why) if why.contains("agent_config_error"))
        );
    }

    #[test]
    fn a_configuration_error_after_a_run_stops_the_seed() {
        let mut st = state(3, 1);
        st.new.clear();
        st.redo = vec![pair(1), pair(2)];
        st.redo_class.insert(pair(1), Class::AgentConfigError);
        st.redo_class.insert(pair(2), Class::InfraSandbox);
        st.error_of.insert(pair(1), "litellm.AuthenticationError: bad key".into());
        // Before any plain run of this invocation (a resume: the key may be
        // fixed since), the canary decides; after one, the seed stops.
        assert!(matches!(next_run_step(1, &st, &after_canary(0), &POLICY, 0.0), RunStep::Run { .. }));
        let step = next_run_step(1, &st, &after_canary(1), &POLICY, 0.0);
        let RunStep::Stop(why) = step else { panic!("{step:?}") };
        assert!(why.starts_with("seed 1: 1 pair(s) ended agent_config_error in this invocation, e.g. amber_task/1/f1_f2: litellm.AuthenticationError: bad key."), "{why}");
    }

    #[test]
    fn a_retry_of_what_the_provider_refused_waits_first() {
        let mut st = state(3, 2);
        st.new.clear();
        st.redo = vec![pair(2)];
        st.redo_class.insert(pair(2), Class::InfraProvider);
        let mut h = after_canary(1);
        let step = next_run_step(1, &st, &h, &POLICY, 0.0);
        assert_eq!(
            step,
            RunStep::Wait { attempt: 2, seconds: 60, why: "1 pair(s) of class infra_provider to retry".into() }
        );
        h.record(&step);
        assert_eq!(next_run_step(1, &st, &h, &POLICY, 0.0), RunStep::Run { attempt: 2, pairs: 1 });
        // A sandbox that did not start is retried at once.
        st.redo_class.insert(pair(2), Class::InfraSandbox);
        assert_eq!(next_run_step(1, &st, &after_canary(1), &POLICY, 0.0), RunStep::Run { attempt: 2, pairs: 1 });
    }

    #[test]
    fn a_pair_that_ended_on_a_gone_container_is_rerun_once_alone() {
        let mut st = state(3, 3);
        st.new.clear();
        st.rerun = vec![pair(2)];
        let mut h = after_canary(1);
        assert_eq!(next_run_step(1, &st, &h, &POLICY, 0.0), RunStep::Rerun(pair(2)));
        h.record(&RunStep::Rerun(pair(2)));
        // Still gone after the rerun: named, not run a third time.
        let RunStep::Done { failing } = next_run_step(1, &st, &h, &POLICY, 0.0) else { panic!() };
        assert_eq!(failing.len(), 1);
        assert!(failing[0].1.starts_with("infra_container"), "{failing:?}");
        // The budget rule holds for it too.
        let e = Estimate { cost_per_pair: 0.5, seconds_per_pair: 60.0, from_pairs: 100 };
        let tight = SpendPolicy { attempts: 3, max_cost: Some(1.0), estimate: Some(e) };
        assert!(
            matches!(next_run_step(1, &st, &after_canary(1), &tight, 0.8), RunStep::Stop(m) if m.contains("rerun of"))
        );
    }

    #[test]
    fn a_failure_that_would_come_back_is_never_retried() {
        // Pair 1 ran past the model's context window: kept, never retried;
        // with nothing else to run the seed is done, and says why.
        let mut st = state(2, 1);
        st.new.clear();
        st.kept = vec![(pair(1), Class::ModelContext)];
        st.error_of.insert(pair(1), "litellm.ContextWindowExceededError: too long".into());
        assert_eq!(st.to_run(), 0);
        let step = next_run_step(1, &st, &after_canary(0), &POLICY, 0.0);
        let RunStep::Done { failing } = step else { panic!("{step:?}") };
        assert_eq!(failing.len(), 1);
        assert!(failing[0].1.starts_with("model_context (not retried"), "{}", failing[0].1);
    }

    /// One pair's files: task id, agent status, agent error (JSON), patch
    /// size, and its eval (error as JSON, feature2's output).
    type PairFiles<'a> = (u64, &'a str, &'a str, u64, Option<(&'a str, &'a str)>);

    /// A run's files, made in memory.
    fn logs(pairs: &[PairFiles]) -> (Subset, RunLogs) {
        let mut logs = RunLogs { name: "seed1".into(), exists: true, setting: "solo".into(), ..RunLogs::default() };
        for (n, status, error, patch, eval) in pairs {
            let result = format!(
                r#"{{"repo": "amber_task", "task_id": {n}, "features": [1, 2], "setting": "solo", "ended_at": "2026-01-01T10:00:00", "total_cost": 0.1, "agent": {{"status": "{status}", "steps": 5, "error": {error}}}}}"#
            );
            let mut p = PairLogs {
                result_present: true,
                result: Some(crate::study::result::RunResult::from_text(&result).unwrap()),
                ..PairLogs::default()
            };
            p.patch_bytes.insert("solo".into(), *patch);
            if let Some((err, out)) = eval {
                let e = format!(
                    r#"{{"repo": "amber_task", "task_id": {n}, "features": [1, 2], "both_passed": false, "error": {err}, "evaluated_at": "2026-01-01T11:00:00", "feature1": {{"test_output": "1 passed"}}, "feature2": {{"test_output": "{out}"}}}}"#
                );
                p.eval_present = true;
                p.eval = Some(crate::study::result::EvalResult::from_text(&e).unwrap());
            }
            p.class = crate::study::classify::of(Some(&p)).0;
            logs.pairs.insert(pair(*n), p);
        }
        let subset = Subset {
            name: "lite".into(),
            tasks: pairs.len(),
            repos: 1,
            pairs: pairs.iter().map(|p| pair(p.0)).collect(),
            pair_count: pairs.len(),
        };
        (subset, logs)
    }

    #[test]
    fn the_state_sorts_errors_and_evals_by_class() {
        let (subset, l) = logs(&[
            (0, "Error", r#""litellm.ContextWindowExceededError: too long""#, 10, None),
            (1, "Error", r#""litellm.RateLimitError: RateLimitError: 429""#, 10, None),
            (2, "Submitted", "null", 123_519, Some((r#""Failed to write solo.patch: ""#, "1 passed"))),
            (3, "Submitted", "null", 10, Some(("null", "Command timed out after 600 seconds"))),
            (4, "Submitted", "null", 10, Some((r#""Failed to get base commit SHA""#, ""))),
        ]);
        let st = RunState::of(&subset, &l);
        assert_eq!(st.kept, [(pair(0), Class::ModelContext)]);
        assert_eq!(st.redo, [pair(1)]);
        assert_eq!(st.eval_kept, [(pair(2), Class::EvalGraderLimit)]);
        assert_eq!(st.eval_redo, [pair(3), pair(4)]);
        let h = st.headline();
        assert!(h.contains("1 Error(s) not retried") && h.contains("1 eval(s) the grader cannot take"), "{h}");
    }

    #[test]
    fn evals_are_forced_again_by_class() {
        // A grader-limit error is kept; a timeout and an infra error are
        // forced once each (the plain evals done).
        let mut st = state(3, 3);
        st.eval_redo = vec![pair(1), pair(2)];
        st.eval_kept = vec![(pair(0), Class::EvalGraderLimit)];
        let mut h = EvalHistory::default();
        h.record(&EvalStep::Eval);
        assert_eq!(next_eval_step(&st, &h), EvalStep::ForceEval(pair(1)));
        h.record(&EvalStep::ForceEval(pair(1)));
        assert_eq!(next_eval_step(&st, &h), EvalStep::ForceEval(pair(2)));
        h.record(&EvalStep::ForceEval(pair(2)));
        assert_eq!(next_eval_step(&st, &h), EvalStep::RewriteSummary);
    }

    #[test]
    fn the_budget_stops_before_the_step_that_would_pass_it() {
        let e = Estimate { cost_per_pair: 0.5, seconds_per_pair: 60.0, from_pairs: 100 };
        let p = SpendPolicy { attempts: 3, max_cost: Some(10.0), estimate: Some(e) };
        // $9.60 spent: the canary ($0.50) would pass $10.
        let step = next_run_step(2, &state(100, 0), &RunHistory::default(), &p, 9.6);
        assert_eq!(
            step,
            RunStep::Stop("--max-cost $10.00: $9.60 spent + $0.50 estimated for the seed 2 canary would pass it; stopped before starting it".into())
        );
        assert_eq!(next_run_step(2, &state(100, 0), &RunHistory::default(), &p, 9.4), RunStep::Canary(pair(0)));
        // After the canary: 99 pairs at $0.50 do not fit in $10 - $0.50.
        let mut st = state(100, 0);
        finish(&mut st, 0);
        let h = after_canary(0);
        assert!(matches!(next_run_step(2, &st, &h, &p, 0.5), RunStep::Stop(m) if m.contains("for 99 pairs of seed 2")));
        // No limit, or no estimate: no stop.
        assert_eq!(next_run_step(2, &st, &h, &POLICY, 0.5), RunStep::Run { attempt: 1, pairs: 99 });
    }

    #[test]
    fn only_what_python_cannot_read_is_quarantined_and_a_read_error_stops() {
        let mut st = state(3, 1);
        st.new = vec![pair(1)];
        st.corrupt = vec![trouble(2, "result.json")];
        assert_eq!(
            next_run_step(1, &st, &RunHistory::default(), &POLICY, 0.0),
            RunStep::Quarantine(vec!["logs/seed1/solo/amber_task/2/f1_f2/result.json".into()])
        );
        // When no run follows (the attempts are spent), nothing is moved.
        let spent = after_canary(3);
        assert!(matches!(next_run_step(1, &st, &spent, &POLICY, 0.0), RunStep::Done { failing } if failing.len() == 2));
        st.unreadable = vec![trouble(0, "result.json")];
        let step = next_run_step(1, &st, &RunHistory::default(), &POLICY, 0.0);
        assert_eq!(step, RunStep::Stop("seed 1: logs/seed1/solo/amber_task/0/f1_f2/result.json: why".into()));
    }

    #[test]
    fn a_file_with_a_bad_field_is_never_the_canary_nor_paid_again() {
        let mut st = state(2, 1);
        st.new.clear();
        st.done = 1;
        st.bad = vec![trouble(1, "result.json")];
        assert_eq!(st.to_run(), 0);
        assert_eq!(st.first_to_run(), None);
        assert_eq!(next_run_step(1, &st, &RunHistory::default(), &POLICY, 0.0), RunStep::Done { failing: vec![] });
        assert!(st.headline().contains("1 file(s) to look at"), "{}", st.headline());
    }

    #[test]
    fn evals_retry_missing_once_force_each_bad_one_once_then_recount() {
        let mut st = state(4, 4);
        let mut h = EvalHistory::default();
        assert_eq!(next_eval_step(&st, &h), EvalStep::Eval);
        h.record(&EvalStep::Eval);
        st.missing_evals = 1;
        st.eval_redo = vec![pair(1), pair(3)];
        assert_eq!(next_eval_step(&st, &h), EvalStep::EvalRetry { missing: 1 });
        h.record(&EvalStep::EvalRetry { missing: 1 });
        // Still missing after the retry: not retried a third time.
        assert_eq!(next_eval_step(&st, &h), EvalStep::ForceEval(pair(1)));
        h.record(&EvalStep::ForceEval(pair(1)));
        assert_eq!(next_eval_step(&st, &h), EvalStep::ForceEval(pair(3)));
        h.record(&EvalStep::ForceEval(pair(3)));
        // The errors came back: they are the pairs' now, not forced again.
        assert_eq!(next_eval_step(&st, &h), EvalStep::RewriteSummary);
        h.record(&EvalStep::RewriteSummary);
        assert_eq!(next_eval_step(&st, &h), EvalStep::Done);
    }

    #[test]
    fn a_corrupt_eval_is_quarantined_and_an_unreadable_one_stops() {
        let mut st = state(2, 2);
        st.corrupt_evals = vec![trouble(0, "eval.json")];
        assert_eq!(
            next_eval_step(&st, &EvalHistory::default()),
            EvalStep::Quarantine(vec!["logs/seed1/solo/amber_task/0/f1_f2/eval.json".into()])
        );
        st.unreadable_evals = vec![trouble(1, "eval.json")];
        assert!(
            matches!(next_eval_step(&st, &EvalHistory::default()), EvalStep::Stop(m) if m.contains("1/f1_f2/eval.json"))
        );
    }

    #[test]
    fn the_live_spend_stops_the_cli_only_past_the_limit() {
        let p = SpendPolicy { attempts: 3, max_cost: Some(5.0), estimate: None };
        assert_eq!(live_over_budget(&p, 5.0), None);
        assert_eq!(
            live_over_budget(&p, 5.01).as_deref(),
            Some("--max-cost $5.00: $5.01 spent; stopping the CLI's process group now")
        );
        assert_eq!(live_over_budget(&POLICY, 1e9), None);
    }

    #[test]
    fn the_headline_counts_only_what_there_is() {
        let mut st = state(3, 1);
        st.new.clear();
        st.redo = vec![pair(1), pair(2)];
        assert_eq!(st.headline(), "1 done, 2 to redo (Error)");
        st.new = vec![pair(2)];
        st.redo = vec![pair(1)];
        assert_eq!(st.headline(), "1 done, 1 to run, 1 to redo (Error)");
        assert_eq!(state(2, 2).headline(), "2 done, complete");
    }
}

//! Where one run stands, from its files: what is done, what the CLI would
//! redo (and why, by class), what is new, what only the user can mend, and
//! which evals are missing, stale or errored. `status` shows it; the
//! planner decides from it.

use std::collections::BTreeMap;

use crate::study::class::{Action, Class};
use crate::study::outcome::{is_stale, EvalVerdict};
use crate::study::pair::PairId;
use crate::study::result::AgentStatus;
use crate::study::run::{PairLogs, RunLogs, Trouble, EVAL_FILE, RESULT_FILE};
use crate::study::subset::Subset;

/// A file of one pair that needs the user or the quarantine: the pair and
/// its path relative to the checkout, and the sentence that says why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileTrouble {
    pub pair: PairId,
    pub path: String,
    pub why: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunState {
    pub run: String,
    pub exists: bool,
    pub expected: usize,
    /// No result.json yet.
    pub new: Vec<PairId>,
    /// `Error` results: the next plain `run` redoes them.
    pub redo: Vec<PairId>,
    /// The error message of each `Error` result.
    pub error_of: BTreeMap<PairId, String>,
    /// The class of each pair to redo.
    pub redo_class: BTreeMap<PairId, Class>,
    /// `Error` results of a class the harness never pays for twice
    /// (`study::class`: the model's context window): not retried by it.
    pub kept: Vec<(PairId, Class)>,
    /// Evals of a class no re-evaluation can change (`eval_grader_limit`).
    pub eval_kept: Vec<(PairId, Class)>,
    /// Pairs that ended normally on a container that was gone
    /// (`infra_container`): the CLI counts them done, so only moving the
    /// folder aside and running the pair alone redoes them.
    pub rerun: Vec<PairId>,
    /// result.json that Python cannot parse either: quarantined, then redone.
    pub corrupt: Vec<FileTrouble>,
    /// result.json the harness cannot read (permissions, I/O, size): stops.
    pub unreadable: Vec<FileTrouble>,
    /// result.json Python reads but with a wrong field: the CLI counts the
    /// pair as done; named for the user, never moved.
    pub bad: Vec<FileTrouble>,
    /// result.json with a `NaN` or infinite `duration_seconds`: read and
    /// kept, but every later `cooperbench run` of the run ends in a traceback.
    pub nonfinite: Vec<FileTrouble>,
    pub done: usize,
    pub errors: usize,
    pub evals: usize,
    pub eval_errors: usize,
    pub missing_evals: usize,
    pub stale_evals: usize,
    /// Evals that must be forced (`eval --force`, pair by pair): an error
    /// inside the container, or older than the result it judges.
    pub eval_redo: Vec<PairId>,
    pub corrupt_evals: Vec<FileTrouble>,
    pub unreadable_evals: Vec<FileTrouble>,
    pub bad_evals: Vec<FileTrouble>,
    pub cost: f64,
}

impl RunState {
    pub fn of(subset: &Subset, logs: &RunLogs) -> RunState {
        let mut s = RunState {
            run: logs.name.clone(),
            exists: logs.exists,
            expected: subset.pairs.len(),
            cost: logs.total_cost(),
            ..RunState::default()
        };
        for pair in &subset.pairs {
            let Some(p) = logs.pairs.get(pair).filter(|p| p.result_present) else {
                s.new.push(pair.clone());
                continue;
            };
            let file = |name: &str, t: &Trouble| FileTrouble {
                pair: pair.clone(),
                path: format!("{}/{name}", p.rel_dir),
                why: t.explained(),
            };
            if let Some(r) = p.result.as_ref().filter(|r| !r.duration_seconds.is_finite()) {
                s.nonfinite.push(FileTrouble {
                    pair: pair.clone(),
                    path: format!("{}/result.json", p.rel_dir),
                    why: format!(
                        "field `duration_seconds` is {}: Python reads it, so the pair stays done, but every later `cooperbench run` of this run ends in a ValueError traceback after its work (the harness reads the files, not the exit code); write a number there to silence it",
                        r.duration_seconds
                    ),
                });
            }
            match (&p.result, &p.result_trouble) {
                (Some(r), _) if r.status == AgentStatus::Error => {
                    s.errors += 1;
                    s.error_of.insert(pair.clone(), r.error.clone().unwrap_or_else(|| "(no message)".into()));
                    // Retried by class: what the same call would fail again
                    // with is kept (an agent_config_error stays to run: the
                    // canary then stops the seed on it).
                    match p.class {
                        c if c.policy().action == Action::Keep => s.kept.push((pair.clone(), c)),
                        c => {
                            s.redo.push(pair.clone());
                            s.redo_class.insert(pair.clone(), c);
                        }
                    }
                }
                (Some(r), _) => {
                    s.done += 1;
                    if p.class == Class::InfraContainer {
                        s.rerun.push(pair.clone());
                    }
                    s.eval_of(pair, p, r, &file);
                }
                (None, Some(t @ Trouble::NotJson(_))) => s.corrupt.push(file(RESULT_FILE, t)),
                (None, Some(t @ Trouble::BadField(_))) => s.bad.push(file(RESULT_FILE, t)),
                (None, Some(t)) => s.unreadable.push(file(RESULT_FILE, t)),
                (None, None) => s.new.push(pair.clone()),
            }
        }
        s
    }

    fn eval_of(
        &mut self,
        pair: &PairId,
        p: &PairLogs,
        r: &crate::study::result::RunResult,
        file: &dyn Fn(&str, &Trouble) -> FileTrouble,
    ) {
        match (&p.eval, &p.eval_trouble) {
            (Some(e), _) => {
                self.evals += 1;
                let stale = is_stale(r, e);
                let errored = EvalVerdict::of(e) == EvalVerdict::Error;
                self.eval_errors += usize::from(errored);
                self.stale_evals += usize::from(stale);
                // Re-evaluated by class: a patch the grader cannot take
                // fails the same way every time; a timed-out test command
                // is tried once more (forced evals run alone, one pair each,
                // after the plain evals).
                let class = p.class;
                match class.policy().action {
                    _ if stale => self.eval_redo.push(pair.clone()),
                    Action::ReEvaluate | Action::ReEvaluateAloneAtEnd => self.eval_redo.push(pair.clone()),
                    Action::Keep if class.is_eval_error() => self.eval_kept.push((pair.clone(), class)),
                    _ => {}
                }
            }
            (None, Some(t)) => {
                self.evals += 1;
                let f = file(EVAL_FILE, t);
                match t {
                    Trouble::NotJson(_) => self.corrupt_evals.push(f),
                    Trouble::BadField(_) => self.bad_evals.push(f),
                    Trouble::Unreadable(_) => self.unreadable_evals.push(f),
                }
            }
            (None, None) => self.missing_evals += 1,
        }
    }

    /// Pairs the next plain `cooperbench run` will spend money on.
    pub fn to_run(&self) -> usize {
        self.new.len() + self.redo.len() + self.corrupt.len()
    }

    /// The first pair, in subset order, that the next run would spend on:
    /// the canary.
    pub fn first_to_run(&self) -> Option<&PairId> {
        self.new.iter().chain(&self.redo).chain(self.corrupt.iter().map(|f| &f.pair)).min()
    }

    /// Files that need a person: unreadable or with a bad field.
    pub fn for_the_user(&self) -> impl Iterator<Item = &FileTrouble> {
        self.unreadable
            .iter()
            .chain(&self.bad)
            .chain(&self.nonfinite)
            .chain(&self.unreadable_evals)
            .chain(&self.bad_evals)
    }

    /// "63 done, 37 to run" / "not started" / "complete".
    pub fn headline(&self) -> String {
        let started = self.done + self.redo.len() + self.corrupt.len() + self.unreadable.len() + self.bad.len();
        if !self.exists || started == 0 {
            return "not started".into();
        }
        let mut parts = vec![format!("{} done", self.done)];
        if !self.new.is_empty() {
            parts.push(format!("{} to run", self.new.len()));
        }
        if !self.redo.is_empty() {
            parts.push(format!("{} to redo (Error)", self.redo.len()));
        }
        if !self.corrupt.is_empty() {
            parts.push(format!("{} corrupt (to quarantine and redo)", self.corrupt.len()));
        }
        if !self.kept.is_empty() {
            parts.push(format!("{} Error(s) not retried (the same call would fail again)", self.kept.len()));
        }
        if !self.rerun.is_empty() {
            parts.push(format!("{} ended on a container that was gone (to rerun alone)", self.rerun.len()));
        }
        if !self.eval_kept.is_empty() {
            parts.push(format!("{} eval(s) the grader cannot take (not re-evaluated)", self.eval_kept.len()));
        }
        if !self.corrupt_evals.is_empty() {
            parts.push(format!("{} eval.json corrupt (to quarantine and redo)", self.corrupt_evals.len()));
        }
        let user = self.for_the_user().count();
        if user > 0 {
            parts.push(format!("{user} file(s) to look at (see verify)"));
        }
        if self.to_run() == 0 && user == 0 && self.corrupt_evals.is_empty() {
            parts.push("complete".into());
        }
        parts.join(", ")
    }
}

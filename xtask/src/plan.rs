//! Where each run stands (what is done, what the CLI would redo) and what the
//! rest should cost, from the logs alone. Pure: shared by `seeds` and `status`.

use crate::logs::RunLogs;
use crate::pair::PairId;
use crate::result::AgentStatus;
use crate::subset::Subset;

#[derive(Debug, Clone, Default)]
pub struct RunState {
    pub run: String,
    pub exists: bool,
    pub expected: usize,
    /// No result.json yet.
    pub new: Vec<PairId>,
    /// `Error` results: the next plain `run` redoes them.
    pub redo: Vec<PairId>,
    /// result.json that cannot be read: quarantined before the next run.
    pub unreadable: Vec<PairId>,
    pub done: usize,
    pub errors: usize,
    pub evals: usize,
    pub eval_errors: usize,
    pub missing_evals: usize,
    pub stale_evals: usize,
    /// eval.json files that cannot be read: the run is not complete.
    pub unreadable_evals: usize,
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
            match &p.result {
                None => s.unreadable.push(pair.clone()),
                Some(r) if r.status == AgentStatus::Error => {
                    s.errors += 1;
                    s.redo.push(pair.clone());
                }
                Some(r) => {
                    s.done += 1;
                    match &p.eval {
                        Some(e) => {
                            s.evals += 1;
                            if e.error.is_some() {
                                s.eval_errors += 1;
                            }
                            if crate::outcomes::is_stale(r, e) {
                                s.stale_evals += 1;
                            }
                        }
                        None if p.eval_present => {
                            s.evals += 1;
                            s.unreadable_evals += 1;
                        }
                        None => s.missing_evals += 1,
                    }
                }
            }
        }
        s
    }

    /// Pairs the next plain `cooperbench run` will spend money on.
    pub fn to_run(&self) -> usize {
        self.new.len() + self.redo.len() + self.unreadable.len()
    }

    /// "63 done, 37 to run" / "not started" / "complete".
    pub fn headline(&self) -> String {
        if !self.exists || self.done == 0 && self.redo.is_empty() && self.unreadable.is_empty() {
            return "not started".into();
        }
        if self.to_run() == 0 {
            if self.unreadable_evals > 0 {
                return format!("{} done, {} eval.json unreadable (see verify)", self.done, self.unreadable_evals);
            }
            return format!("{} done, complete", self.done);
        }
        let mut parts = vec![format!("{} done", self.done), format!("{} to run", self.new.len())];
        if !self.redo.is_empty() {
            parts.push(format!("{} to redo (Error)", self.redo.len()));
        }
        if !self.unreadable.is_empty() {
            parts.push(format!("{} unreadable (to quarantine and redo)", self.unreadable.len()));
        }
        parts.join(", ")
    }
}

/// Per-pair cost and time, from the baseline run's results.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub cost_per_pair: f64,
    pub seconds_per_pair: f64,
    pub from_pairs: usize,
}

impl Estimate {
    pub fn from_run(logs: &RunLogs) -> Option<Estimate> {
        let results: Vec<_> =
            logs.pairs.values().filter_map(|p| p.result.as_ref()).filter(|r| r.status != AgentStatus::Error).collect();
        if results.is_empty() {
            return None;
        }
        let n = results.len() as f64;
        Some(Estimate {
            cost_per_pair: results.iter().map(|r| r.cost()).sum::<f64>() / n,
            seconds_per_pair: results.iter().map(|r| r.duration_seconds).sum::<f64>() / n,
            from_pairs: results.len(),
        })
    }

    pub fn cost(&self, pairs: usize) -> f64 {
        self.cost_per_pair * pairs as f64
    }

    /// Wall time with `concurrency` pairs at once.
    pub fn seconds(&self, pairs: usize, concurrency: u32) -> f64 {
        (pairs as f64 / concurrency.max(1) as f64).ceil() * self.seconds_per_pair
    }
}

pub fn human_duration(secs: f64) -> String {
    let s = secs.round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, s / 60 % 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

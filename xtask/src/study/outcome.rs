//! Every rule about one (run, pair), once: what its `result.json` says
//! ([`RowStatus`]), what its `eval.json` says ([`EvalVerdict`]), whether the
//! eval is stale ([`is_stale`]), and the study's one classification of the
//! two together ([`Outcome`]): a success, a failure or no trial at all.

use serde::Serialize;

use crate::study::class::Class;
pub use crate::study::class::EvalErrors;
use crate::study::result::{AgentStatus, EvalResult, RunResult};
use crate::study::run::PairLogs;

/// What one seed says about one pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pass,
    Fail,
    /// `LimitsExceeded`: a failure whatever its eval says.
    Limits,
    /// The evaluation itself broke (`eval.json` has an `error`).
    EvalError,
    /// The agent run broke (`Error`): says nothing about the pair.
    AgentError,
    /// The eval predates the result it should judge.
    Stale,
    Missing,
}

impl Outcome {
    pub fn of(pair: Option<&PairLogs>) -> Outcome {
        match pair {
            Some(p) => Row::of(p).outcome(),
            None => Outcome::Missing,
        }
    }

    /// The study's one classification of a (run, pair): what its result
    /// and eval say, in this order of precedence.
    pub fn classify(status: &RowStatus, eval: EvalVerdict, stale: bool) -> Outcome {
        match status {
            RowStatus::Missing | RowStatus::Unreadable => return Outcome::Missing,
            RowStatus::Agent(AgentStatus::LimitsExceeded) => return Outcome::Limits,
            RowStatus::Agent(AgentStatus::Error) => return Outcome::AgentError,
            RowStatus::Agent(_) => {}
        }
        match eval {
            EvalVerdict::Missing | EvalVerdict::Unreadable => Outcome::Missing,
            _ if stale => Outcome::Stale,
            EvalVerdict::Error => Outcome::EvalError,
            EvalVerdict::Pass => Outcome::Pass,
            EvalVerdict::Fail => Outcome::Fail,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Limits => "limits",
            Outcome::EvalError => "error",
            Outcome::AgentError => "agent_error",
            Outcome::Stale => "stale",
            Outcome::Missing => "missing",
        }
    }

    /// The class a table without a class column (an `outcomes.csv` written
    /// before classes) stands for: the nearest the outcome alone can say.
    pub fn nearest_class(self) -> Class {
        match self {
            Outcome::Pass => Class::Pass,
            Outcome::Fail => Class::Fail,
            Outcome::Limits => Class::Limits,
            Outcome::EvalError => Class::EvalInfra,
            Outcome::AgentError => Class::AgentError,
            Outcome::Stale => Class::NotEvaluated,
            Outcome::Missing => Class::Missing,
        }
    }
}

/// What the pair's `result.json` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowStatus {
    Missing,
    /// The file is there but could not be read or parsed.
    Unreadable,
    Agent(AgentStatus),
}

/// What the pair's `eval.json` says on its own (staleness is separate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalVerdict {
    Missing,
    Unreadable,
    Pass,
    Fail,
    /// The evaluation itself failed (`error` is set).
    Error,
}

impl EvalVerdict {
    /// The study's one verdict of an eval.json that could be read.
    pub fn of(e: &EvalResult) -> EvalVerdict {
        if e.error.is_some() {
            EvalVerdict::Error
        } else if e.both_passed {
            EvalVerdict::Pass
        } else {
            EvalVerdict::Fail
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            EvalVerdict::Missing => "missing",
            EvalVerdict::Unreadable => "unreadable",
            EvalVerdict::Pass => "pass",
            EvalVerdict::Fail => "fail",
            EvalVerdict::Error => "error",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<EvalVerdict> {
        Some(match s {
            "missing" => EvalVerdict::Missing,
            "unreadable" => EvalVerdict::Unreadable,
            "pass" => EvalVerdict::Pass,
            "fail" => EvalVerdict::Fail,
            "error" => EvalVerdict::Error,
            _ => return None,
        })
    }
}

/// The study's one staleness rule: an eval that predates the end of the run
/// it judges (the pair was re-run after it) says nothing about that run.
pub fn is_stale(result: &RunResult, eval: &EvalResult) -> bool {
    eval.evaluated_at < result.ended_at
}

/// One run's record of one pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub status: RowStatus,
    pub eval: EvalVerdict,
    /// The eval predates the result it should judge.
    pub stale: bool,
    pub cost: Option<f64>,
    pub cooperbench_version: Option<String>,
    /// The model's outcome or the machine's (`study::class`).
    pub class: Class,
    /// A coop eval's merge status (`EvalResult::merge`).
    pub merge: Option<String>,
}

impl Row {
    pub fn missing() -> Row {
        Row {
            status: RowStatus::Missing,
            eval: EvalVerdict::Missing,
            stale: false,
            cost: None,
            cooperbench_version: None,
            class: Class::Missing,
            merge: None,
        }
    }

    pub fn of(p: &PairLogs) -> Row {
        let status = match (&p.result, p.result_present) {
            (Some(r), _) => RowStatus::Agent(r.status.clone()),
            (None, true) => RowStatus::Unreadable,
            (None, false) => RowStatus::Missing,
        };
        let eval = match (&p.eval, p.eval_present) {
            (Some(e), _) => EvalVerdict::of(e),
            (None, true) => EvalVerdict::Unreadable,
            (None, false) => EvalVerdict::Missing,
        };
        let stale = match (&p.result, &p.eval) {
            (Some(r), Some(e)) => is_stale(r, e),
            _ => false,
        };
        Row {
            status,
            eval,
            stale,
            cost: crate::study::result::valid_cost(p.result.as_ref().and_then(|r| r.total_cost)),
            cooperbench_version: None,
            class: p.class,
            merge: p.eval.as_ref().and_then(|e| e.merge.clone()),
        }
    }

    pub fn outcome(&self) -> Outcome {
        Outcome::classify(&self.status, self.eval, self.stale)
    }
}

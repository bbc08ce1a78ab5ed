//! A run's tree as it stands on disk, in memory: what `logs.rs` (in
//! `edges/`) reads from `logs/<run>/<setting>/<repo>/<task_id>/fA_fB/`, and
//! every rule and count that follows from it reads from here.

use std::collections::BTreeMap;

use crate::study::pair::PairId;
use crate::study::problem::{Check, Problem};
use crate::study::result::{EvalResult, EvalSummary, RunResult};

/// The two files per pair the study reads (the CLI writes them; `edges::layout`
/// places them).
pub const RESULT_FILE: &str = "result.json";
pub const EVAL_FILE: &str = "eval.json";
/// The run's eval summary, as the CLI names it.
pub const EVAL_SUMMARY_FILE: &str = "eval_summary.json";

/// `logs/<run>`, relative to the checkout.
pub fn run_rel(run: &str) -> String {
    format!("logs/{run}")
}

/// `logs/<run>/<setting>/<repo>/<task_id>/fA_fB`, relative to the checkout.
pub fn pair_rel(run: &str, setting: &str, pair: &PairId) -> String {
    format!("logs/{run}/{setting}/{}", pair.rel_dir())
}

#[derive(Debug, Clone, Default)]
pub struct PairLogs {
    /// `logs/<run>/<setting>/<repo>/<task>/<fA_fB>`, relative to the checkout.
    pub rel_dir: String,
    /// The setting folder it sits in (`solo`, `coop`, `team`).
    pub setting: String,
    pub result_present: bool,
    pub result: Option<RunResult>,
    /// Why a present result.json has no model.
    pub result_trouble: Option<Trouble>,
    pub eval_present: bool,
    pub eval: Option<EvalResult>,
    pub eval_trouble: Option<Trouble>,
    /// Per agent id (`solo`, `agent1`, ...): the size of its patch file.
    pub patch_bytes: BTreeMap<String, u64>,
    /// Per agent id: the text of a small patch (`class::SMALL_PATCH_BYTES`).
    pub patch_texts: BTreeMap<String, String>,
    /// Per agent id: what the last bytes of its trajectory say.
    pub trajectories: BTreeMap<String, crate::study::class::TrajectoryTail>,
    /// Coop: the files a coop pair's folder should hold beside result.json
    /// (each agent's patch and trajectory, `conversation.json`) that are not
    /// there (runner/coop.py writes them all before result.json).
    pub coop_missing: Vec<String>,
    /// Coop: whether `conversation.json` holds no message (`[]`); `None`
    /// when it is not there or not coop.
    pub silent: Option<bool>,
    /// Its class, computed once when read (`study::classify::of` recomputes it
    /// with the evidence).
    pub class: crate::study::class::Class,
}

/// Why a file that is there could not be read into its model. The kind
/// decides what `seeds` may do about it: only what the CLI itself cannot
/// read is ever moved aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trouble {
    /// The harness cannot read the bytes (permissions, I/O, too large):
    /// the CLI may well read it, so nothing moves it; the user must look.
    Unreadable(String),
    /// Python's `json` cannot parse it either (truncated, not UTF-8): the
    /// CLI fails on it forever, so `seeds` quarantines it and redoes the pair.
    NotJson(String),
    /// Python parses it, so the CLI trusts it and skips the pair, but a
    /// field is wrong: named, left in place, for the user to fix or move.
    BadField(String),
}

impl Trouble {
    pub fn message(&self) -> &str {
        match self {
            Trouble::Unreadable(m) | Trouble::NotJson(m) | Trouble::BadField(m) => m,
        }
    }

    /// The whole sentence a report shows, with what to do.
    pub fn explained(&self) -> String {
        match self {
            Trouble::Unreadable(m) => {
                format!("{m}; nothing was moved: the CLI may well read it, so look at the file, then rerun")
            }
            Trouble::NotJson(m) => format!("{m} (Python's json cannot read it either, so the CLI fails on it)"),
            Trouble::BadField(m) => format!(
                "{m}: Python's json reads this file, so the CLI trusts it and will not redo it; fix the field, or move the file aside to have it redone"
            ),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct RunConfig {
    pub model: Option<String>,
    pub agent_framework: Option<String>,
    pub setting: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RunLogs {
    pub name: String,
    pub exists: bool,
    /// `solo` or `coop` (or `team`): the setting folder the run holds.
    pub setting: String,
    pub pairs: BTreeMap<PairId, PairLogs>,
    pub config: Option<RunConfig>,
    /// `None` when the file is absent, `Some(Err)` when unreadable.
    pub eval_summary: Option<Result<EvalSummary, String>>,
    /// Files the harness moved aside, relative to the checkout.
    pub quarantined: Vec<String>,
    /// Per pair (`repo/task/fA_fB`), how many times `seeds` paid for it
    /// (`logs/<run>/harness-attempts.jsonl`; empty for runs it did not make).
    pub attempts: BTreeMap<String, usize>,
    /// What made the run, when `seeds` made it (`None`: absent).
    pub manifest: Option<Result<crate::study::manifest::Manifest, String>>,
    /// For a run whose manifest records no dataset: what `edges::dataset`
    /// inferred from the checkout's history, or why nothing could be.
    /// Shared: runs of one day infer one commit, and its record is large.
    pub inferred_dataset: Option<Result<std::sync::Arc<crate::study::dataset::DatasetRecord>, String>>,
    pub problems: Vec<Problem>,
}

impl RunLogs {
    /// The dataset the run was graded on: recorded in its manifest, else
    /// inferred (said as such); `Err` says why it is unknown.
    pub fn dataset(&self) -> Result<&crate::study::dataset::DatasetRecord, String> {
        if let Some(Ok(m)) = &self.manifest {
            if let Some(d) = &m.dataset {
                return Ok(d);
            }
        }
        match &self.inferred_dataset {
            Some(Ok(d)) => Ok(d.as_ref()),
            Some(Err(why)) => Err(why.clone()),
            None => Err(match &self.manifest {
                Some(Ok(_)) => "its manifest records no dataset (an older harness made it)".into(),
                _ => "made by the CLI directly, and nothing was inferred".into(),
            }),
        }
    }

    /// The task images the run was graded in, when the harness recorded them.
    pub fn images(&self) -> Option<&crate::study::images::ImagesRecord> {
        self.manifest.as_ref()?.as_ref().ok()?.images.as_ref()
    }

    /// When the run began, as far as its files tell: the earliest result's
    /// `ended_at` less its `duration_seconds` (its `started_at`).
    pub fn earliest_start(&self) -> Option<crate::study::timestamp::Timestamp> {
        self.pairs
            .values()
            .filter_map(|p| p.result.as_ref())
            .map(|r| r.ended_at.plus_micros(-(r.duration_seconds.max(0.0) * 1e6) as i64))
            .min()
    }

    /// A warning per time no CLI can have written (`Timestamp::implausible`),
    /// in result.json's `ended_at` and eval.json's `evaluated_at`.
    pub fn implausible_times(&self, now: crate::study::timestamp::Timestamp) -> Vec<Problem> {
        let mut out = Vec::new();
        for (pair, p) in &self.pairs {
            let times = [
                (RESULT_FILE, "ended_at", p.result.as_ref().map(|r| r.ended_at)),
                (EVAL_FILE, "evaluated_at", p.eval.as_ref().map(|e| e.evaluated_at)),
            ];
            for (file, field, t) in times {
                if let Some(why) = t.and_then(|t| t.implausible(now)) {
                    out.push(
                        Problem::warning(Check::ImplausibleTime, format!("field `{field}`: {why}"))
                            .run(&self.name)
                            .pair(pair)
                            .path(format!("{}/{file}", p.rel_dir)),
                    );
                }
            }
        }
        out
    }

    pub fn total_cost(&self) -> f64 {
        self.pairs.values().filter_map(|p| p.result.as_ref()).map(|r| r.cost()).sum()
    }
}

//! A problem found in the data: what check, how bad, and where to look.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Failure,
    Warning,
}

/// The kind of a problem, one per check `verify` makes; named in every
/// output by [`Check::name`], the word reviewers and `--json` readers see.
/// Ordered by that name, so that sorted problems read as they always did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Check {
    AgentError,
    ArmModel,
    BadCost,
    BrokenLink,
    CoopFileMissing,
    CopiedResult,
    DatasetChanged,
    DuplicatePair,
    EvalError,
    EvalSummaryMismatch,
    EvalSummaryMissing,
    EvalSummaryUnreadable,
    ExtraPair,
    ImageChangedDuringRun,
    ImagesChanged,
    ImplausibleTime,
    MismatchedEval,
    MismatchedResult,
    MergeMissing,
    MissingEval,
    MissingResult,
    MissingRun,
    MixedAllowed,
    MixedProvenance,
    MixedSettings,
    NoMessages,
    NonfiniteNumber,
    NullCost,
    OracleExcluded,
    PairSetsDiffer,
    PairsLeftOut,
    Provenance,
    Quarantined,
    StaleEval,
    SymlinkLoop,
    UnknownStatus,
    UnreadableDir,
    UnreadableEval,
    UnreadableManifest,
    UnreadableResult,
}

impl Check {
    pub fn name(self) -> &'static str {
        match self {
            Check::AgentError => "agent_error",
            Check::ArmModel => "arm_model",
            Check::BadCost => "bad_cost",
            Check::BrokenLink => "broken_link",
            Check::CoopFileMissing => "coop_file_missing",
            Check::CopiedResult => "copied_result",
            Check::DatasetChanged => "dataset_changed",
            Check::DuplicatePair => "duplicate_pair",
            Check::EvalError => "eval_error",
            Check::EvalSummaryMismatch => "eval_summary_mismatch",
            Check::EvalSummaryMissing => "eval_summary_missing",
            Check::EvalSummaryUnreadable => "eval_summary_unreadable",
            Check::ExtraPair => "extra_pair",
            Check::ImageChangedDuringRun => "image_changed_during_run",
            Check::ImagesChanged => "images_changed",
            Check::ImplausibleTime => "implausible_time",
            Check::MismatchedEval => "mismatched_eval",
            Check::MismatchedResult => "mismatched_result",
            Check::MergeMissing => "merge_missing",
            Check::MissingEval => "missing_eval",
            Check::MissingResult => "missing_result",
            Check::MissingRun => "missing_run",
            Check::MixedAllowed => "mixed_allowed",
            Check::MixedProvenance => "mixed_provenance",
            Check::MixedSettings => "mixed_settings",
            Check::NoMessages => "no_messages",
            Check::NonfiniteNumber => "nonfinite_number",
            Check::NullCost => "null_cost",
            Check::OracleExcluded => "oracle_excluded",
            Check::PairSetsDiffer => "pair_sets_differ",
            Check::PairsLeftOut => "pairs_left_out",
            Check::Provenance => "provenance",
            Check::Quarantined => "quarantined",
            Check::StaleEval => "stale_eval",
            Check::SymlinkLoop => "symlink_loop",
            Check::UnknownStatus => "unknown_status",
            Check::UnreadableDir => "unreadable_dir",
            Check::UnreadableEval => "unreadable_eval",
            Check::UnreadableManifest => "unreadable_manifest",
            Check::UnreadableResult => "unreadable_result",
        }
    }
}

impl PartialOrd for Check {
    fn partial_cmp(&self, other: &Check) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Check {
    fn cmp(&self, other: &Check) -> std::cmp::Ordering {
        self.name().cmp(other.name())
    }
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `pad`, so that `{:<22}` aligns a check as it aligned its name.
        f.pad(self.name())
    }
}

impl Serialize for Check {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Problem {
    pub check: Check,
    pub severity: Severity,
    pub run: Option<String>,
    pub pair: Option<String>,
    /// Relative to the CooperBench checkout, so reports read the same anywhere.
    pub path: Option<String>,
    pub detail: String,
}

impl Problem {
    pub fn failure(check: Check, detail: impl Into<String>) -> Problem {
        Problem { check, severity: Severity::Failure, run: None, pair: None, path: None, detail: detail.into() }
    }

    pub fn warning(check: Check, detail: impl Into<String>) -> Problem {
        Problem { severity: Severity::Warning, ..Problem::failure(check, detail) }
    }

    pub fn run(mut self, run: &str) -> Problem {
        self.run = Some(run.to_string());
        self
    }

    pub fn pair(mut self, pair: impl ToString) -> Problem {
        self.pair = Some(pair.to_string());
        self
    }

    pub fn path(mut self, path: impl Into<String>) -> Problem {
        self.path = Some(path.into());
        self
    }

    /// One line: `failure missing_eval   logs/x/...: no eval.json`.
    pub fn line(&self) -> String {
        let sev = match self.severity {
            Severity::Failure => "FAIL",
            Severity::Warning => "warn",
        };
        let place = self.path.clone().or_else(|| self.run.clone()).unwrap_or_default();
        if place.is_empty() {
            format!("{sev} {:<22} {}", self.check, self.detail)
        } else {
            format!("{sev} {:<22} {place}: {}", self.check, self.detail)
        }
    }
}

//! What a pair asks and how it is graded, as data: the fingerprint of every
//! file of the dataset that defines a pair (its two features' task text,
//! gold and tests; its task's whole-PR patch, runner, test script, setup and
//! Dockerfile), as git blob ids. A run records them when the harness starts
//! it (`edges::dataset`); for a run made by the CLI directly they are
//! inferred from the checkout's git history, said as inferred, never as
//! fact. Pure: comparing records, naming what changed.
//!
//! Why git blob ids: in a git checkout they are what git already knows (so
//! a revision in its history has fingerprints at no cost), and elsewhere
//! the same hash is made from the files, so both give the same verdict.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::study::pair::PairId;

/// A task's files that grade every one of its pairs (whichever exist).
pub const TASK_FILES: [&str; 5] = ["combined.patch", "runner.sh", "run_tests.sh", "setup.sh", "Dockerfile"];
/// Each feature's files: the agent's task text, the gold, the tests.
pub const FEATURE_FILES: [&str; 3] = ["feature.md", "feature.patch", "tests.patch"];

/// One pair's files, by their path under `dataset/<repo>/task<id>/`
/// (`feature3/feature.md`, `runner.sh`), each with its blob id. A file the
/// task does not have is not in the map.
pub type Fingerprint = BTreeMap<String, String>;

/// The paths under `dataset/<repo>/task<id>/` that define `pair`.
pub fn files_of(pair: &PairId) -> Vec<String> {
    let mut out: Vec<String> = TASK_FILES.iter().map(|f| f.to_string()).collect();
    for f in [pair.a, pair.b] {
        out.extend(FEATURE_FILES.iter().map(|name| format!("feature{f}/{name}")));
    }
    out
}

/// "feature 3's feature.md", "the task's runner.sh": a file as a reader names it.
pub fn describe(file: &str) -> String {
    match file.split_once('/') {
        Some((feature, name)) => match feature.strip_prefix("feature") {
            Some(n) => format!("feature {n}'s {name}"),
            None => file.to_string(),
        },
        None => format!("the task's {file}"),
    }
}

/// The files whose content differs between two fingerprints of one pair,
/// a file present in one and absent in the other included.
pub fn differing(a: &Fingerprint, b: &Fingerprint) -> Vec<String> {
    let names: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    names.into_iter().filter(|n| a.get(*n) != b.get(*n)).cloned().collect()
}

/// How a run's record was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum How {
    /// Hashed by the harness from the checkout when it started the run.
    Recorded,
    /// Read from the checkout's git history at the revision the run most
    /// likely saw: an inference, shown as one.
    Inferred,
}

/// What dataset a run was graded on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetRecord {
    pub how: How,
    /// In words: what was hashed, or how the revision was inferred.
    pub source: String,
    /// The checkout's commit (recorded) or the inferred one; `None`
    /// outside git.
    pub commit: Option<String>,
    /// Whether the working tree had changes under `dataset/` when recorded
    /// (then the commit alone does not say what the run saw: the hashes do).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dirty: Option<bool>,
    /// Per pair (`repo/task/fA_fB`), its fingerprint.
    pub pairs: BTreeMap<String, Fingerprint>,
}

impl DatasetRecord {
    pub fn of(&self, pair: &PairId) -> Option<&Fingerprint> {
        self.pairs.get(&pair.to_string())
    }

    /// "recorded at abc1234" / "inferred: ..." : whence, in a few words.
    pub fn shown(&self) -> String {
        let commit = self.commit.as_deref().map(|c| &c[..c.len().min(12)]);
        match (self.how, commit) {
            (How::Recorded, Some(c)) => {
                format!("recorded at {c}{}", if self.dirty == Some(true) { " with local changes" } else { "" })
            }
            (How::Recorded, None) => "recorded (files hashed)".into(),
            (How::Inferred, _) => format!("inferred: {}", self.source),
        }
    }
}

/// One run's view of the dataset, as the pooling rule sees it.
#[derive(Clone)]
pub struct RunDataset<'a> {
    pub run: &'a str,
    pub record: Option<&'a DatasetRecord>,
    /// Why there is no record (made by the CLI directly, outside git...).
    pub why_unknown: Option<String>,
}

/// A pair the runs did not all see alike: what each run saw, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedPair {
    pub pair: PairId,
    /// "feature 3's feature.md differs between `a` and `b`", or "unknown in `a`".
    pub why: Vec<String>,
}

/// Per pair among `pairs`, whether the runs saw it alike: a pair whose
/// fingerprint differs between two runs, or is unknown in one and known in
/// another, is changed (it cannot be shown to be the same). Where no run
/// knows it, nothing is known to differ and nothing is said here (the
/// runs' unknown records are said once by [`unknown_runs`]).
pub fn changed_pairs(pairs: &[PairId], runs: &[RunDataset]) -> Vec<ChangedPair> {
    let mut out = Vec::new();
    // Runs inferred at one commit share one record: nothing can differ.
    if let Some(one) = runs.first().and_then(|r| r.record) {
        if runs.iter().all(|r| r.record.is_some_and(|d| std::ptr::eq(d, one))) {
            return out;
        }
    }
    for pair in pairs {
        let key = pair.to_string();
        let seen: Vec<(&str, Option<&Fingerprint>)> =
            runs.iter().map(|r| (r.run, r.record.and_then(|d| d.pairs.get(&key)))).collect();
        let Some((first_run, first)) = seen.iter().find_map(|(r, f)| f.map(|f| (*r, f))) else { continue };
        let mut why = Vec::new();
        for (run, f) in &seen {
            match f {
                None => why.push(format!("unknown in `{run}`")),
                Some(f) => {
                    let files = differing(first, f);
                    if !files.is_empty() {
                        let named: Vec<String> = files.iter().map(|f| describe(f)).collect();
                        why.push(format!("{} differ(s) between `{first_run}` and `{run}`", named.join(", ")));
                    }
                }
            }
        }
        if !why.is_empty() {
            out.push(ChangedPair { pair: pair.clone(), why });
        }
    }
    out
}

/// The runs with no record while another run has one, with why: said once
/// per run rather than once per pair.
pub fn unknown_runs<'a>(runs: &'a [RunDataset]) -> Vec<&'a RunDataset<'a>> {
    if runs.iter().all(|r| r.record.is_none()) {
        return Vec::new();
    }
    runs.iter().filter(|r| r.record.is_none()).collect()
}

/// The pairs of `now` whose fingerprint differs from `then`'s (a pair
/// `then` does not know counts as changed): what a resumed run or the
/// oracle must not pretend is the same.
pub fn changed_since(then: &DatasetRecord, now: &DatasetRecord) -> Vec<(String, Vec<String>)> {
    now.pairs
        .iter()
        .filter_map(|(pair, fp)| match then.pairs.get(pair) {
            None => Some((pair.clone(), vec!["not recorded then".to_string()])),
            Some(old) => {
                let d = differing(old, fp);
                (!d.is_empty()).then(|| (pair.clone(), d.iter().map(|f| describe(f)).collect()))
            }
        })
        .collect()
}

/// "a/1/f1_f2 (feature 1's feature.md), b/2/f1_f3 (the task's runner.sh)
/// and 3 more": a list of changed pairs in one line.
pub fn list(changed: &[(String, Vec<String>)], at_most: usize) -> String {
    let mut parts: Vec<String> =
        changed.iter().take(at_most).map(|(p, files)| format!("{p} ({})", files.join(", "))).collect();
    if changed.len() > at_most {
        parts.push(format!("and {} more", changed.len() - at_most));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(how: How, pairs: &[(&PairId, &[(&str, &str)])]) -> DatasetRecord {
        DatasetRecord {
            how,
            source: "test".into(),
            commit: None,
            dirty: None,
            pairs: pairs
                .iter()
                .map(|(p, files)| {
                    (p.to_string(), files.iter().map(|(f, id)| (f.to_string(), id.to_string())).collect())
                })
                .collect(),
        }
    }

    #[test]
    fn a_pairs_files_are_its_tasks_and_its_two_features() {
        let files = files_of(&PairId::new("r_task", 7, 2, 5));
        assert_eq!(files.len(), 5 + 6);
        assert!(files.contains(&"feature5/tests.patch".to_string()) && files.contains(&"Dockerfile".to_string()));
        assert_eq!(describe("feature3/feature.md"), "feature 3's feature.md");
        assert_eq!(describe("runner.sh"), "the task's runner.sh");
    }

    #[test]
    fn a_pair_is_changed_when_a_file_differs_or_it_is_unknown_against_known() {
        let (p, q, r) = (PairId::new("a", 1, 1, 2), PairId::new("a", 1, 1, 3), PairId::new("b", 2, 1, 2));
        let base = record(How::Inferred, &[(&p, &[("feature1/feature.md", "x")]), (&q, &[("runner.sh", "r")])]);
        let seed = record(
            How::Recorded,
            &[(&p, &[("feature1/feature.md", "y")]), (&q, &[("runner.sh", "r")]), (&r, &[("runner.sh", "s")])],
        );
        let runs = [
            RunDataset { run: "base", record: Some(&base), why_unknown: None },
            RunDataset { run: "seed1", record: Some(&seed), why_unknown: None },
        ];
        let c = changed_pairs(&[p.clone(), q.clone(), r.clone()], &runs);
        assert_eq!(c.len(), 2, "{c:?}");
        assert_eq!(c[0].pair, p);
        assert_eq!(c[0].why, ["feature 1's feature.md differ(s) between `base` and `seed1`"]);
        assert_eq!(c[1].pair, r);
        assert_eq!(c[1].why, ["unknown in `base`"]);
        // A run with no record at all: every pair it shares with a known one
        // is changed, and the run is said once.
        let runs = [
            RunDataset { run: "base", record: None, why_unknown: Some("made by the CLI".into()) },
            RunDataset { run: "seed1", record: Some(&seed), why_unknown: None },
        ];
        assert_eq!(changed_pairs(&[p.clone(), q.clone()], &runs).len(), 2);
        assert_eq!(unknown_runs(&runs).len(), 1);
        // Runs that share one record (inferred at one commit) see alike;
        // beside an unknown run, the shared record's pairs are still changed.
        let shared = [
            RunDataset { run: "base", record: Some(&seed), why_unknown: None },
            RunDataset { run: "seed1", record: Some(&seed), why_unknown: None },
        ];
        assert!(changed_pairs(&[p.clone(), q.clone(), r.clone()], &shared).is_empty());
        let copy = seed.clone();
        let equal = [shared[0].clone(), RunDataset { run: "seed2", record: Some(&copy), why_unknown: None }];
        assert!(changed_pairs(&[p.clone(), q.clone(), r.clone()], &equal).is_empty());
        let with_unknown =
            [shared[0].clone(), shared[1].clone(), RunDataset { run: "x", record: None, why_unknown: None }];
        let c = changed_pairs(&[p.clone(), q.clone()], &with_unknown);
        assert_eq!(c.len(), 2, "{c:?}");
        assert_eq!(c[0].why, ["unknown in `x`"]);
        // Nobody knows: nothing is known to differ.
        let none = [RunDataset { run: "base", record: None, why_unknown: None }];
        assert!(changed_pairs(std::slice::from_ref(&p), &none).is_empty() && unknown_runs(&none).is_empty());
        // Since: the pairs of now that differ from then.
        let since = changed_since(&base, &seed);
        assert_eq!(since.len(), 2);
        assert_eq!(list(&since, 1), "a/1/f1_f2 (feature 1's feature.md), and 1 more");
    }
}

//! The dataset's fingerprints read from the checkout (`study::dataset` says
//! what they mean): each file that defines a pair hashed as git hashes a
//! blob, the checkout's commit and whether `dataset/` has local changes;
//! and, for a run the CLI made directly, the revision it most likely saw,
//! inferred from the checkout's git history and said as inferred.

use std::collections::BTreeMap;
use std::path::Path;

use crate::study::dataset::{files_of, DatasetRecord, Fingerprint, How};
use crate::study::pair::PairId;
use crate::study::run::RunLogs;

/// Git's id of a blob with these bytes: sha1 of `blob <len>\0<bytes>`.
/// The same id git gives the file, so a commit's tree compares with it.
pub fn blob_id(bytes: &[u8]) -> String {
    use sha1::Digest;
    let mut h = sha1::Sha1::new();
    h.update(format!("blob {}\0", bytes.len()).as_bytes());
    h.update(bytes);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// `git -C cb ARGS`, its stdout; `None` when git fails or is absent.
fn git(cb: &Path, args: &[&str]) -> Option<String> {
    let out = duct::cmd("git", args)
        .dir(cb)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdout_capture()
        .stderr_null()
        .unchecked()
        .run()
        .ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether `cb` is the top of a git work tree of its own (a checkout
/// inside another repository is not: its history is not the dataset's).
pub fn is_git_checkout(cb: &Path) -> bool {
    // The top of a work tree holds `.git` (a folder, or a file for a
    // worktree): without it, no process needs asking.
    if std::fs::symlink_metadata(cb.join(".git")).is_err() {
        return false;
    }
    let Some(top) = git(cb, &["rev-parse", "--show-toplevel"]) else { return false };
    match (std::fs::canonicalize(top.trim()), std::fs::canonicalize(cb)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The fingerprints of `pairs` as the files are now, with the checkout's
/// commit and whether `dataset/` differs from it.
pub fn record(cb: &Path, pairs: &[PairId]) -> DatasetRecord {
    let root = crate::edges::layout::dataset(cb);
    let mut by_task: BTreeMap<(String, u64), BTreeMap<String, Option<String>>> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for pair in pairs {
        let task = by_task.entry((pair.repo.clone(), pair.task_id)).or_default();
        let dir = root.join(&pair.repo).join(format!("task{}", pair.task_id));
        let mut fp = Fingerprint::new();
        for file in files_of(pair) {
            let id =
                task.entry(file.clone()).or_insert_with(|| std::fs::read(dir.join(&file)).ok().map(|b| blob_id(&b)));
            if let Some(id) = id {
                fp.insert(file, id.clone());
            }
        }
        out.insert(pair.to_string(), fp);
    }
    let git_here = is_git_checkout(cb);
    let commit = git_here.then(|| git(cb, &["rev-parse", "HEAD"])).flatten().map(|s| s.trim().to_string());
    let dirty = commit
        .as_ref()
        .and_then(|_| git(cb, &["status", "--porcelain", "--untracked-files=all", "--", "dataset"]))
        .map(|s| !s.trim().is_empty());
    DatasetRecord {
        how: How::Recorded,
        source: if git_here {
            "each file's git blob id, hashed from the working tree when the run began".into()
        } else {
            "each file's git blob id, hashed from the files when the run began (not a git checkout)".into()
        },
        commit,
        dirty,
        pairs: out,
    }
}

/// For a run whose manifest records no dataset: the revision it most
/// likely saw, the last commit touching `dataset/` before the run's first
/// result began, and the fingerprints of its pairs in that commit; or why
/// nothing can be inferred.
pub fn infer(cb: &Path, run: &RunLogs, pairs: &[PairId]) -> Result<std::sync::Arc<DatasetRecord>, String> {
    History::of(cb, pairs).infer(run)
}

/// Fills in what can be inferred for every run whose manifest records no
/// dataset (a run the harness did not make, or made before it recorded one).
pub fn infer_missing(cb: &Path, runs: &mut [RunLogs], pairs: &[PairId]) {
    // Asked as needed: nothing ahead when every run recorded its own.
    History::of(cb, pairs).infer_missing(runs)
}

/// The checkout's history, asked once per question: whether it is a git
/// checkout, every commit touching `dataset/`, and each commit's tree (runs
/// of one day share a commit). Asked before the runs are read, it is
/// answered beside the reading ([`History::ask`] needs no run).
pub struct History {
    cb: std::path::PathBuf,
    git: bool,
    /// Every commit touching `dataset/`, newest first, with its committer
    /// date in local time (as the CLI writes result times); read once.
    commits: Option<Result<Vec<(String, String)>, String>>,
    /// The pairs whose records are made.
    pairs: Vec<PairId>,
    /// Per commit, the record its runs share.
    records: BTreeMap<String, std::sync::Arc<DatasetRecord>>,
}

impl History {
    fn of(cb: &Path, pairs: &[PairId]) -> History {
        History {
            cb: cb.to_path_buf(),
            git: is_git_checkout(cb),
            commits: None,
            pairs: pairs.to_vec(),
            records: BTreeMap::new(),
        }
    }

    /// Whether `cb` is a git checkout of its own, its dataset's commits and
    /// the record of `pairs` in the newest (the one a run made after the
    /// last change to the dataset saw: nearly every run): three git
    /// processes, none of which needs the runs, so that a caller can ask
    /// them while it reads.
    pub fn ask(cb: &Path, pairs: &[PairId]) -> History {
        let mut h = History::of(cb, pairs);
        if h.git {
            if let Ok(Some((newest, date))) = h.history().map(|c| c.first().cloned()) {
                // A failure here is asked again, and said, by the run that needs it.
                let _ = h.record_at(&newest, &date);
            }
        }
        h
    }

    /// Fills in what can be inferred for every run whose manifest records
    /// no dataset.
    pub fn infer_missing(mut self, runs: &mut [RunLogs]) {
        for r in runs.iter_mut().filter(|r| r.exists) {
            let recorded = matches!(&r.manifest, Some(Ok(m)) if m.dataset.is_some());
            if !recorded {
                r.inferred_dataset = Some(self.infer(r));
            }
        }
    }

    fn history(&mut self) -> Result<&[(String, String)], String> {
        let cb = &self.cb;
        let commits = self.commits.get_or_insert_with(|| {
            let log = git(cb, &["log", "--date=format-local:%Y-%m-%dT%H:%M:%S", "--format=%H %cd", "--", "dataset"])
                .ok_or("git log failed")?;
            Ok(log
                .lines()
                .filter_map(|l| l.split_once(' ').map(|(h, d)| (h.to_string(), d.trim().to_string())))
                .collect())
        });
        commits.as_deref().map_err(Clone::clone)
    }

    fn infer(&mut self, run: &RunLogs) -> Result<std::sync::Arc<DatasetRecord>, String> {
        if !self.git {
            return Err(
                "made by the CLI directly, in a checkout that is not a git repository: nothing to infer from".into()
            );
        }
        let Some(start) = run.earliest_start() else {
            return Err("no result says when the run began: nothing to infer from".into());
        };
        // Result times are the CLI's naive local time; the history's dates
        // are local too, in the same form, so they compare as text.
        let before = start.to_iso().split('.').next().unwrap_or_default().to_string();
        let Some((commit, date)) = self.history()?.iter().find(|(_, d)| *d <= before).cloned() else {
            return Err(format!("no commit touched dataset/ before the run began ({before})"));
        };
        self.record_at(&commit, &date)
    }

    /// The record of the pairs in `commit` (of `date`), made once per commit.
    fn record_at(&mut self, commit: &str, date: &str) -> Result<std::sync::Arc<DatasetRecord>, String> {
        if let Some(r) = self.records.get(commit) {
            return Ok(r.clone());
        }
        let tree =
            git(&self.cb, &["ls-tree", "-r", "--full-tree", commit, "--", "dataset"]).ok_or("git ls-tree failed")?;
        // `<mode> blob <id>\t<path>`.
        let ids: BTreeMap<&str, &str> = tree
            .lines()
            .filter_map(|l| {
                let (meta, path) = l.split_once('\t')?;
                Some((path, meta.split_whitespace().nth(2)?))
            })
            .collect();
        let mut out = BTreeMap::new();
        for pair in &self.pairs {
            let prefix = format!("dataset/{}/task{}/", pair.repo, pair.task_id);
            let fp: Fingerprint = files_of(pair)
                .into_iter()
                .filter_map(|f| ids.get(format!("{prefix}{f}").as_str()).map(|id| (f, id.to_string())))
                .collect();
            out.insert(pair.to_string(), fp);
        }
        let record = std::sync::Arc::new(DatasetRecord {
            how: How::Inferred,
            source: format!(
                "the last commit touching dataset/ before the run began: {} of {date}",
                &commit[..commit.len().min(12)]
            ),
            commit: Some(commit.to_string()),
            dirty: None,
            pairs: out,
        });
        self.records.insert(commit.to_string(), record.clone());
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn blob_ids_are_gits() {
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(super::blob_id(b"hello\n"), "ce013625030ba8dba906f756967f9e9ca394464a");
        assert_eq!(super::blob_id(b""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
    }
}

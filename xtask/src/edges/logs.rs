//! Reading a run's tree, `logs/<run>/<setting>/<repo>/<task_id>/fA_fB/`, into
//! memory. Anything unreadable becomes a [`Problem`]; reading goes on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::study::class::{TrajectoryTail, SMALL_PATCH_BYTES};
use crate::study::json;
use crate::study::pair::PairId;
use crate::study::problem::{Check, Problem};
use crate::study::result::AgentStatus;
use crate::study::result::{EvalResult, EvalSummary, RunResult};
use crate::study::run::{PairLogs, RunConfig, RunLogs, Trouble};

use crate::edges::layout::{self, QUARANTINE_LOG, SETTINGS};

/// Reads one present file's bytes into a model (and its text), classifying
/// any trouble.
fn classify<T>(
    bytes: Result<Vec<u8>, String>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<(T, String), Trouble> {
    let bytes = bytes.map_err(Trouble::Unreadable)?;
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => return Err(Trouble::NotJson(format!("not UTF-8 text ({})", e.utf8_error()))),
    };
    match parse(&text) {
        Ok(v) => Ok((v, text)),
        Err(m) if json::python_reads(text.as_bytes()) => Err(Trouble::BadField(m)),
        Err(m) => Err(Trouble::NotJson(m)),
    }
}

/// result.json and eval.json are a few KiB; anything past this is not one
/// (a file linked to /dev/zero, a trajectory saved in the wrong place) and
/// is refused before it is read whole.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 8 << 20;

impl RunLogs {
    pub fn load(cooperbench_dir: &Path, name: &str) -> RunLogs {
        RunLogs::load_limited(cooperbench_dir, name, DEFAULT_MAX_FILE_BYTES)
    }

    /// As [`RunLogs::load`], refusing per-pair files over `max_bytes`.
    pub fn load_limited(cooperbench_dir: &Path, name: &str, max_bytes: u64) -> RunLogs {
        let dir = layout::run_dir(cooperbench_dir, name);
        let mut run = RunLogs { name: name.to_string(), exists: dir.is_dir(), ..RunLogs::default() };
        if !run.exists {
            return run;
        }
        run.config = read_json(&dir.join(layout::CONFIG)).ok().map(|v| RunConfig {
            model: v.get("model").and_then(|m| m.as_str()).map(String::from),
            agent_framework: v.get("agent_framework").and_then(|m| m.as_str()).map(String::from),
            setting: v.get("setting").and_then(|m| m.as_str()).map(String::from),
        });
        run.quarantined = crate::edges::read::text_or_empty(&dir.join(QUARANTINE_LOG), crate::edges::read::SMALL)
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim().is_empty() && cooperbench_dir.join(l.trim()).exists())
            .map(|l| l.trim().to_string())
            .collect();
        run.manifest = crate::edges::manifest::Manifest::load(cooperbench_dir, name);
        run.attempts =
            crate::edges::attempts::read(cooperbench_dir, name).into_iter().map(|(p, a)| (p, a.len())).collect();
        let summary = dir.join(layout::EVAL_SUMMARY);
        if summary.exists() {
            run.eval_summary = Some(read_text(&summary).and_then(|t| EvalSummary::from_text(&t)));
        }
        let mut settings_seen = Vec::new();
        for setting in SETTINGS {
            let sdir = dir.join(setting);
            if sdir.is_dir() {
                settings_seen.push(setting);
                run.load_setting(&sdir, setting, max_bytes);
            }
        }
        run.setting = match settings_seen.as_slice() {
            // No pair yet: the CLI's config.json, else our manifest (a coop
            // arm's run is one before the CLI wrote anything).
            [] => run
                .config
                .as_ref()
                .and_then(|c| c.setting.clone())
                .or_else(|| run.manifest.as_ref().and_then(|m| m.as_ref().ok()).and_then(|m| m.setting.clone()))
                .unwrap_or_else(|| "solo".into()),
            [one] => one.to_string(),
            [first, ..] => {
                run.problems.push(
                    Problem::failure(
                        Check::MixedSettings,
                        format!("run holds several settings: {}", settings_seen.join(", ")),
                    )
                    .run(name)
                    .path(layout::run_rel(name)),
                );
                first.to_string()
            }
        };
        run
    }

    fn load_setting(&mut self, sdir: &Path, setting: &str, max_bytes: u64) {
        let rel_setting = format!("{}/{setting}", layout::run_rel(&self.name));
        let (dirs, trouble) = pair_dirs(sdir);
        for (rel, problem) in trouble {
            let path = if rel.is_empty() { rel_setting.clone() } else { format!("{rel_setting}/{rel}") };
            self.problems.push(problem.run(&self.name).path(path));
        }
        for (dir, [repo, task, folder]) in dirs {
            let rel_dir = format!("{rel_setting}/{repo}/{task}/{folder}");
            let (repo, task, folder) = (&repo, &task, &folder);
            let pair = match (task.parse::<u64>(), PairId::parse_folder(folder)) {
                (Ok(task_id), Some((a, b))) => PairId::new(repo, task_id, a, b),
                _ => {
                    self.problems.push(
                        Problem::failure(Check::MismatchedResult, "folder name is not <repo>/<task_id>/f<a>_f<b>")
                            .run(&self.name)
                            .path(rel_dir),
                    );
                    continue;
                }
            };
            let logs = self.load_pair(&dir, &pair, setting, rel_dir.clone(), max_bytes);
            if folder != &pair.folder() {
                self.problems.push(
                    Problem::failure(
                        Check::MismatchedResult,
                        format!("folder should be named {} (features sorted)", pair.folder()),
                    )
                    .run(&self.name)
                    .pair(&pair)
                    .path(rel_dir.clone()),
                );
            }
            if let Some(first) = self.pairs.get(&pair) {
                self.problems.push(
                    Problem::failure(Check::DuplicatePair, format!("same pair as {}", first.rel_dir))
                        .run(&self.name)
                        .pair(&pair)
                        .path(rel_dir),
                );
                continue;
            }
            self.pairs.insert(pair, logs);
        }
    }

    /// Opens the two files directly (no directory listing: this is the hot
    /// loop of `verify`); a file that is absent is simply not present.
    fn load_pair(&mut self, dir: &Path, pair: &PairId, setting: &str, rel_dir: String, max_bytes: u64) -> PairLogs {
        let mut logs = PairLogs { rel_dir, setting: setting.to_string(), ..PairLogs::default() };
        let result_bytes = read_if_present(&dir.join(layout::RESULT), max_bytes);
        let eval_bytes = read_if_present(&dir.join(layout::EVAL), max_bytes);
        logs.result_present = result_bytes.is_some();
        logs.eval_present = eval_bytes.is_some();
        if let Some(bytes) = result_bytes {
            let path = format!("{}/{}", logs.rel_dir, layout::RESULT);
            match classify(bytes, RunResult::from_text) {
                Ok((r, text)) => {
                    self.flag_nonfinite(&text, pair, &path);
                    let (a, b) = r.features;
                    let said = PairId::new(&r.repo, r.task_id, a, b);
                    if &said != pair {
                        self.problems.push(
                            Problem::failure(Check::MismatchedResult, format!("result.json says it is {said}"))
                                .run(&self.name)
                                .pair(pair)
                                .path(path.clone()),
                        );
                    }
                    logs.result = Some(r);
                }
                Err(t) => {
                    self.problems.push(
                        Problem::failure(Check::UnreadableResult, t.explained()).run(&self.name).pair(pair).path(path),
                    );
                    logs.result_trouble = Some(t);
                }
            }
        }
        if let Some(bytes) = eval_bytes {
            let path = format!("{}/{}", logs.rel_dir, layout::EVAL);
            match classify(bytes, EvalResult::from_text) {
                Ok((e, _)) => {
                    let said = PairId::new(&e.repo, e.task_id, e.features.0, e.features.1);
                    if &said != pair {
                        self.problems.push(
                            Problem::failure(Check::MismatchedEval, format!("eval.json says it is {said}"))
                                .run(&self.name)
                                .pair(pair)
                                .path(path),
                        );
                    }
                    logs.eval = Some(e)
                }
                Err(t) => {
                    self.problems.push(
                        Problem::failure(Check::UnreadableEval, t.explained()).run(&self.name).pair(pair).path(path),
                    );
                    logs.eval_trouble = Some(t);
                }
            }
        }
        self.read_agent_files(dir, &mut logs);
        // The class, once per pair: every count and rate reads it.
        logs.class = crate::study::classify::of(Some(&logs)).0;
        logs
    }

    /// What the classes need of each agent's patch and trajectory, and no
    /// more: verify reads thousands of pairs and must stay near the cost of
    /// reading their small files. result.json's `patch_lines` says which
    /// patches are empty or one line (Docker's error, written as the patch
    /// when the container is gone); only those are opened, and the sizes
    /// only when the eval could not write a patch (the grader's limit). A
    /// trajectory's end is read for an Error (its exit status) and for an
    /// empty patch (a container gone before its pull request).
    fn read_agent_files(&self, dir: &Path, logs: &mut PairLogs) {
        let Some(r) = &logs.result else { return };
        let unwritable = logs
            .eval
            .as_ref()
            .and_then(|e| e.error.as_deref())
            .is_some_and(|e| e.starts_with(crate::study::class::FAILED_TO_WRITE.text));
        let agents: Vec<(String, AgentStatus, Option<u64>)> =
            r.agents.iter().map(|a| (a.id.clone(), a.status.clone(), a.patch_lines)).collect();
        if logs.setting == "coop" {
            // Stat only: these can be large, and only their presence counts.
            for (id, _, _) in &agents {
                for file in [layout::patch_file(id), layout::trajectory_file(id)] {
                    if regular_file_size(&dir.join(&file)).is_none() {
                        logs.coop_missing.push(file);
                    }
                }
            }
            match regular_file_size(&dir.join(layout::CONVERSATION)) {
                // runner/coop.py writes `json.dump(sent_msgs, indent=2)`: `[]` when none.
                Some(n) => logs.silent = Some(n <= 2),
                None => logs.coop_missing.push(layout::CONVERSATION.to_string()),
            }
        }
        for (id, status, lines) in agents {
            let tiny = lines.is_none_or(|n| n <= 1);
            let patch_path = dir.join(layout::patch_file(&id));
            let size = (tiny || unwritable).then(|| regular_file_size(&patch_path)).flatten();
            if let Some(size) = size {
                logs.patch_bytes.insert(id.clone(), size);
            }
            if tiny && size.is_some_and(|b| b > 0 && b <= SMALL_PATCH_BYTES) {
                if let Some(text) = read_tail(&patch_path, SMALL_PATCH_BYTES) {
                    logs.patch_texts.insert(id.clone(), String::from_utf8_lossy(&text).into_owned());
                }
            }
            let empty = lines == Some(0) || size == Some(0);
            if status == AgentStatus::Error || empty {
                if let Some(tail) = read_tail(&dir.join(layout::trajectory_file(&id)), TRAJECTORY_TAIL_BYTES) {
                    logs.trajectories.insert(id.clone(), TrajectoryTail::of(&tail));
                }
            }
        }
    }

    /// `NaN` and the infinities: Python reads them, so they stay; each is
    /// named (a `total_cost` one is verify's `bad_cost` already).
    fn flag_nonfinite(&mut self, text: &str, pair: &PairId, path: &str) {
        for (field, token) in json::nonfinite_numbers(text).into_iter().filter(|(f, _)| f != "total_cost") {
            self.problems.push(
                Problem::warning(
                    Check::NonfiniteNumber,
                    format!("field `{field}` is {token}: Python's json (and so the CLI) reads it; kept, but it is not a number to use"),
                )
                .run(&self.name)
                .pair(pair)
                .path(path.to_string()),
            );
        }
    }
}

/// How much of a trajectory's end is read: its exit message and the last
/// observation or two (a trajectory runs to megabytes; verify reads
/// thousands, and must stay near the cost of reading the small files). A
/// container that is gone makes every later command answer Docker's short
/// error, so that is what the end holds.
pub const TRAJECTORY_TAIL_BYTES: u64 = 8 << 10;

/// The size of a regular file; `None` when there is none (or it is a pipe,
/// a device, a folder: nothing a patch file can be).
fn regular_file_size(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().filter(|m| m.is_file()).map(|m| m.len())
}

/// The last `n` bytes of a regular file; `None` when it is absent, not a
/// regular file, or unreadable. One open, non-blocking, so that a named
/// pipe in its place is refused rather than waited on.
fn read_tail(path: &Path, n: u64) -> Option<Vec<u8>> {
    use std::os::unix::fs::{FileExt, OpenOptionsExt};
    let file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path).ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() {
        return None;
    }
    let start = meta.len().saturating_sub(n);
    let mut bytes = vec![0u8; (meta.len() - start) as usize];
    let mut got = 0;
    while got < bytes.len() {
        match file.read_at(&mut bytes[got..], start + got as u64) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(_) => return None,
        }
    }
    bytes.truncate(got);
    Some(bytes)
}

/// The first `n` bytes of a regular file, or why there are none. One
/// open, non-blocking, as [`read_tail`].
pub fn read_head(path: &Path, n: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let file = match std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err("no file".into()),
        Err(e) => return Err(e.to_string()),
    };
    if !file.metadata().map_err(|e| e.to_string())?.is_file() {
        return Err("not a regular file".into());
    }
    let mut bytes = Vec::new();
    file.take(n).read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    Ok(bytes)
}

/// `None` when the file does not exist; `Some(Err)` when it cannot be read
/// (the error says why: permissions, I/O, size).
fn read_if_present(path: &Path, max_bytes: u64) -> Option<Result<Vec<u8>, String>> {
    match crate::edges::read::bytes(path, max_bytes) {
        Ok(None) => None,
        Ok(Some(b)) => Some(Ok(b)),
        Err(crate::edges::read::ReadError::TooLarge { .. }) => {
            Some(Err(format!("larger than {} MiB: not a result or eval file (limit: --max-file-mib)", max_bytes >> 20)))
        }
        Err(e) => Some(Err(e.into())),
    }
}

type PairDir = (PathBuf, [String; 3]);

/// The folders three levels under a setting folder (repo/task/pair), sorted,
/// following symbolic links. Folders that cannot be listed and link loops
/// come back as problems with their path relative to the setting folder.
fn pair_dirs(sdir: &Path) -> (Vec<PairDir>, Vec<(String, Problem)>) {
    let mut trouble = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let root = std::fs::canonicalize(sdir).ok();
    let mut subdirs = |dir: &Path, rel: &str, trouble: &mut Vec<(String, Problem)>| -> Vec<(PathBuf, String)> {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => {
                trouble.push((
                    rel.to_string(),
                    Problem::failure(Check::UnreadableDir, format!("cannot list folder: {e}")),
                ));
                return Vec::new();
            }
        };
        let mut v: Vec<(PathBuf, String)> = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let child_rel = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
            let (is_dir, linked) = match entry.file_type() {
                Ok(t) if t.is_dir() => (true, false),
                // A link is followed; what it points to decides.
                Ok(t) if t.is_symlink() => match std::fs::metadata(entry.path()) {
                    Ok(m) => (m.is_dir(), true),
                    Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                        trouble.push((child_rel.clone(), Problem::failure(Check::SymlinkLoop, "symbolic link loops")));
                        (false, true)
                    }
                    Err(e) => {
                        // A dangling link would otherwise pass for a missing pair.
                        trouble.push((
                            child_rel.clone(),
                            Problem::failure(Check::BrokenLink, format!("symbolic link leads nowhere: {e}")),
                        ));
                        (false, true)
                    }
                },
                _ => (false, false),
            };
            if !is_dir {
                continue;
            }
            // A linked folder inside this run, or reached by two links, would
            // count twice. Only links are resolved: the hot loop stays cheap.
            if linked {
                if let Ok(real) = std::fs::canonicalize(entry.path()) {
                    let inside = root.as_ref().is_some_and(|r| real.starts_with(r));
                    if inside || !seen.insert(real.clone()) {
                        // Relative to the setting folder when inside it, so
                        // reports read the same on every machine.
                        let target = match root.as_ref().and_then(|r| real.strip_prefix(r).ok()) {
                            Some(rel) if rel.as_os_str().is_empty() => "the setting folder itself".to_string(),
                            Some(rel) => format!("{} of this run", rel.display()),
                            None => real.display().to_string(),
                        };
                        trouble.push((
                            child_rel,
                            Problem::failure(
                                Check::SymlinkLoop,
                                format!("links to {target}, which is counted already"),
                            ),
                        ));
                        continue;
                    }
                }
            }
            v.push((entry.path(), name));
        }
        v.sort_by(|a, b| a.1.cmp(&b.1));
        v
    };
    let mut out = Vec::new();
    for (repo_dir, repo) in subdirs(sdir, "", &mut trouble) {
        for (task_dir, task) in subdirs(&repo_dir, &repo, &mut trouble) {
            for (pair_dir, folder) in subdirs(&task_dir, &format!("{repo}/{task}"), &mut trouble) {
                out.push((pair_dir, [repo.clone(), task.clone(), folder]));
            }
        }
    }
    (out, trouble)
}

/// The results of some runs, looked at every second while the CLI works
/// (progress, and the live spend against `--max-cost`): each look lists the
/// result.json files and reads again only those whose size or time changed
/// since the last, never the whole tree.
pub struct ResultsWatch {
    cooperbench_dir: PathBuf,
    runs: Vec<String>,
    /// Per file: its (modified, length) when read, and what it said.
    seen: BTreeMap<PathBuf, (Option<std::time::SystemTime>, u64, Option<RunResult>)>,
}

/// What a look found in one run: readable results (any status) and their cost.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Spend {
    pub results: usize,
    pub cost: f64,
    /// Agent time the results record (each pair's episode), summed: on
    /// Modal, about the agent sandboxes' lifetime per agent.
    pub seconds: f64,
}

impl ResultsWatch {
    pub fn new(cooperbench_dir: &Path, runs: &[String]) -> ResultsWatch {
        ResultsWatch { cooperbench_dir: cooperbench_dir.to_path_buf(), runs: runs.to_vec(), seen: BTreeMap::new() }
    }

    /// Per run, in the order given.
    pub fn look(&mut self) -> Vec<Spend> {
        let mut out = Vec::new();
        for run in &self.runs {
            let mut spend = Spend::default();
            let pattern = format!(
                "{}/*/*/*/*/{}",
                glob::Pattern::escape(&layout::run_dir(&self.cooperbench_dir, run).to_string_lossy()),
                layout::RESULT
            );
            for path in glob::glob(&pattern).into_iter().flatten().flatten() {
                let Ok(meta) = std::fs::metadata(&path) else { continue };
                let key = (meta.modified().ok(), meta.len());
                let fresh = !matches!(self.seen.get(&path), Some((m, l, _)) if (*m, *l) == key);
                if fresh {
                    let result = read_if_present(&path, DEFAULT_MAX_FILE_BYTES)
                        .and_then(Result::ok)
                        .and_then(|b| String::from_utf8(b).ok())
                        .and_then(|t| RunResult::from_text(&t).ok());
                    self.seen.insert(path.clone(), (key.0, key.1, result));
                }
                if let Some((_, _, Some(r))) = self.seen.get(&path) {
                    spend.results += 1;
                    spend.cost += r.cost();
                    if r.duration_seconds.is_finite() {
                        spend.seconds += r.duration_seconds;
                    }
                }
            }
            out.push(spend);
        }
        out
    }
}

/// The messages of a trajectory, `(role, text)` in order, read whole (for
/// one pair's story, not for a run), up to `max_bytes`; only regular files.
pub fn trajectory_messages(path: &Path, max_bytes: u64) -> Result<Vec<(String, String)>, String> {
    let size = regular_file_size(path).ok_or("no trajectory file")?;
    if size > max_bytes {
        return Err(format!("trajectory of {} MiB, over the {} MiB read for a story", size >> 20, max_bytes >> 20));
    }
    let v = read_json(path)?;
    let messages = v.get("messages").and_then(|m| m.as_array()).ok_or("no `messages` list")?;
    Ok(messages
        .iter()
        .map(|m| {
            let role = m.get("role").and_then(|r| r.as_str()).unwrap_or("?").to_string();
            let mut text = match m.get("content") {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(serde_json::Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            // The exit message's content is often empty: how the agent
            // ended is in `extra.exit_status` (0.0.29:
            // agents/mini_swe_agent_v2/agents/default.py).
            if let Some(status) = m.pointer("/extra/exit_status").and_then(|s| s.as_str()) {
                if text.trim().is_empty() {
                    text = format!("exit_status: {status}");
                }
            }
            (role, text)
        })
        .collect())
}

/// Each feature's `test_output` of an eval.json (empty when absent or
/// unreadable); only regular files, at most the result-file limit.
pub fn test_outputs(path: &Path) -> Vec<String> {
    let Some(Ok(bytes)) = regular_file_size(path).and_then(|_| read_if_present(path, DEFAULT_MAX_FILE_BYTES)) else {
        return Vec::new();
    };
    let Ok(v) = json::parse(&String::from_utf8_lossy(&bytes)) else { return Vec::new() };
    ["feature1", "feature2"].iter().filter_map(|f| v.get(f)?.get("test_output")?.as_str().map(String::from)).collect()
}

/// A small file of the run's (config, summary, manifest): a regular file,
/// at most [`crate::edges::read::SMALL`].
pub fn read_text(path: &Path) -> Result<String, String> {
    crate::edges::read::text(path, crate::edges::read::SMALL).map_err(String::from)
}

pub fn read_json(path: &Path) -> Result<serde_json::Value, String> {
    json::parse(&read_text(path)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder that cannot be listed is a problem with its path, not an
    /// empty folder. (Permissions cannot be provoked as root, so this uses
    /// a path that is not a folder at all.)
    #[test]
    fn an_unlistable_folder_is_a_problem() {
        let file = tempfile_path();
        let (dirs, trouble) = pair_dirs(&file);
        assert!(dirs.is_empty());
        assert_eq!(trouble.len(), 1);
        assert_eq!(trouble[0].1.check, Check::UnreadableDir);
        assert!(trouble[0].1.detail.starts_with("cannot list folder: "), "{}", trouble[0].1.detail);
        std::fs::remove_file(file).unwrap();
    }

    fn tempfile_path() -> PathBuf {
        let p = std::env::temp_dir().join(format!("xtask-logs-test-{}", std::process::id()));
        std::fs::write(&p, "not a folder").unwrap();
        p
    }

    #[test]
    fn oversized_files_are_refused_without_reading_them_whole() {
        let big = std::env::temp_dir().join(format!("xtask-logs-big-{}", std::process::id()));
        std::fs::write(&big, vec![b' '; (1 << 20) + 10]).unwrap();
        let r = read_if_present(&big, 1 << 20).unwrap();
        assert_eq!(r.unwrap_err(), "larger than 1 MiB: not a result or eval file (limit: --max-file-mib)");
        std::fs::remove_file(&big).unwrap();
        // A device is not read at all.
        let r = read_if_present(Path::new("/dev/zero"), 1 << 20).unwrap();
        assert!(r.unwrap_err().starts_with("not a regular file"));
        assert!(read_if_present(Path::new("/nonexistent/xtask"), 1).is_none());
    }
}

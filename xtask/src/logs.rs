//! Reading a run's tree, `logs/<run>/<setting>/<repo>/<task_id>/fA_fB/`, into
//! memory. Anything unreadable becomes a [`Problem`]; reading goes on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::json;
use crate::pair::PairId;
use crate::problem::Problem;
use crate::result::{EvalResult, EvalSummary, RunResult};

pub const SETTINGS: [&str; 3] = ["solo", "coop", "team"];

/// Files moved aside by the harness carry this in their name, e.g.
/// `result.json.corrupt-1`; the CLI never looks at them.
pub const QUARANTINE_TAG: &str = ".corrupt-";

/// Each run's list of what the harness moved aside, one path (relative to
/// the checkout) a line, so that verify need not list every pair folder.
pub const QUARANTINE_LOG: &str = "quarantined.log";

#[derive(Debug, Clone, Default)]
pub struct PairLogs {
    /// `logs/<run>/<setting>/<repo>/<task>/<fA_fB>`, relative to the checkout.
    pub rel_dir: String,
    pub result_present: bool,
    pub result: Option<RunResult>,
    pub eval_present: bool,
    pub eval: Option<EvalResult>,
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
    pub problems: Vec<Problem>,
}

pub fn run_dir(cooperbench_dir: &Path, run: &str) -> PathBuf {
    cooperbench_dir.join("logs").join(run)
}

impl RunLogs {
    pub fn load(cooperbench_dir: &Path, name: &str) -> RunLogs {
        let dir = run_dir(cooperbench_dir, name);
        let mut run = RunLogs { name: name.to_string(), exists: dir.is_dir(), ..RunLogs::default() };
        if !run.exists {
            return run;
        }
        run.config = read_json(&dir.join("config.json")).ok().map(|v| RunConfig {
            model: v.get("model").and_then(|m| m.as_str()).map(String::from),
            agent_framework: v.get("agent_framework").and_then(|m| m.as_str()).map(String::from),
            setting: v.get("setting").and_then(|m| m.as_str()).map(String::from),
        });
        run.quarantined = std::fs::read_to_string(dir.join(QUARANTINE_LOG))
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim().is_empty() && cooperbench_dir.join(l.trim()).exists())
            .map(|l| l.trim().to_string())
            .collect();
        let summary = dir.join("eval_summary.json");
        if summary.exists() {
            run.eval_summary = Some(read_json(&summary).and_then(|v| EvalSummary::parse(&v)));
        }
        let mut settings_seen = Vec::new();
        for setting in SETTINGS {
            let sdir = dir.join(setting);
            if sdir.is_dir() {
                settings_seen.push(setting);
                run.load_setting(&sdir, setting);
            }
        }
        run.setting = match settings_seen.as_slice() {
            [] => run.config.as_ref().and_then(|c| c.setting.clone()).unwrap_or_else(|| "solo".into()),
            [one] => one.to_string(),
            [first, ..] => {
                run.problems.push(
                    Problem::failure(
                        "mixed_settings",
                        format!("run holds several settings: {}", settings_seen.join(", ")),
                    )
                    .run(name)
                    .path(format!("logs/{name}")),
                );
                first.to_string()
            }
        };
        run
    }

    fn load_setting(&mut self, sdir: &Path, setting: &str) {
        for (dir, [repo, task, folder]) in pair_dirs(sdir) {
            let rel_dir = format!("logs/{}/{setting}/{repo}/{task}/{folder}", self.name);
            let (repo, task, folder) = (&repo, &task, &folder);
            let pair = match (task.parse::<u64>(), PairId::parse_folder(folder)) {
                (Ok(task_id), Some((a, b))) => PairId::new(repo, task_id, a, b),
                _ => {
                    self.problems.push(
                        Problem::failure("mismatched_result", "folder name is not <repo>/<task_id>/f<a>_f<b>")
                            .run(&self.name)
                            .path(rel_dir),
                    );
                    continue;
                }
            };
            let logs = self.load_pair(&dir, &pair, rel_dir.clone());
            if folder != &pair.folder() {
                self.problems.push(
                    Problem::failure(
                        "mismatched_result",
                        format!("folder should be named {} (features sorted)", pair.folder()),
                    )
                    .run(&self.name)
                    .pair(&pair)
                    .path(rel_dir.clone()),
                );
            }
            if let Some(first) = self.pairs.get(&pair) {
                self.problems.push(
                    Problem::failure("duplicate_pair", format!("same pair as {}", first.rel_dir))
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
    fn load_pair(&mut self, dir: &Path, pair: &PairId, rel_dir: String) -> PairLogs {
        let mut logs = PairLogs { rel_dir, ..PairLogs::default() };
        let result_text = read_if_present(&dir.join("result.json"));
        let eval_text = read_if_present(&dir.join("eval.json"));
        logs.result_present = result_text.is_some();
        logs.eval_present = eval_text.is_some();
        if let Some(text) = result_text {
            let path = format!("{}/result.json", logs.rel_dir);
            match text.and_then(|t| RunResult::from_text(&t)) {
                Ok(r) => {
                    let (a, b) = r.features;
                    let said = PairId::new(&r.repo, r.task_id, a, b);
                    if &said != pair {
                        self.problems.push(
                            Problem::failure("mismatched_result", format!("result.json says it is {said}"))
                                .run(&self.name)
                                .pair(pair)
                                .path(path),
                        );
                    }
                    logs.result = Some(r);
                }
                Err(e) => {
                    self.problems.push(Problem::failure("unreadable_result", e).run(&self.name).pair(pair).path(path))
                }
            }
        }
        if let Some(text) = eval_text {
            let path = format!("{}/eval.json", logs.rel_dir);
            match text.and_then(|t| EvalResult::from_text(&t)) {
                Ok(e) => logs.eval = Some(e),
                Err(e) => {
                    self.problems.push(Problem::failure("unreadable_eval", e).run(&self.name).pair(pair).path(path))
                }
            }
        }
        logs
    }

    pub fn total_cost(&self) -> f64 {
        self.pairs.values().filter_map(|p| p.result.as_ref()).map(|r| r.total_cost).sum()
    }
}

/// `None` when the file does not exist; `Some(Err)` when it cannot be read.
fn read_if_present(path: &Path) -> Option<Result<String, String>> {
    match std::fs::read_to_string(path) {
        Ok(t) => Some(Ok(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => Some(Err(format!("cannot read: {e}"))),
    }
}

/// The folders three levels under a setting folder (repo/task/pair), sorted,
/// with the file type from the listing itself (no stat per entry).
fn pair_dirs(sdir: &Path) -> Vec<(PathBuf, [String; 3])> {
    fn subdirs(dir: &Path) -> Vec<(PathBuf, String)> {
        let mut v: Vec<(PathBuf, String)> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| (e.path(), e.file_name().to_string_lossy().into_owned()))
            .collect();
        v.sort_by(|a, b| a.1.cmp(&b.1));
        v
    }
    let mut out = Vec::new();
    for (repo_dir, repo) in subdirs(sdir) {
        for (task_dir, task) in subdirs(&repo_dir) {
            for (pair_dir, folder) in subdirs(&task_dir) {
                out.push((pair_dir, [repo.clone(), task.clone(), folder]));
            }
        }
    }
    out
}

pub fn read_text(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))
}

pub fn read_json(path: &Path) -> Result<serde_json::Value, String> {
    json::parse(&read_text(path)?)
}

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

#[derive(Debug, Clone, Default)]
pub struct PairLogs {
    /// `logs/<run>/<setting>/<repo>/<task>/<fA_fB>`, relative to the checkout.
    pub rel_dir: String,
    pub result_present: bool,
    pub result: Option<RunResult>,
    pub eval_present: bool,
    pub eval: Option<EvalResult>,
    pub quarantined: Vec<String>,
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
        let pattern = format!("{}/*/*/*", glob::Pattern::escape(&sdir.to_string_lossy()));
        let Ok(entries) = glob::glob(&pattern) else { return };
        for dir in entries.flatten() {
            let rel = |p: &Path| -> String {
                let tail = p.strip_prefix(sdir).unwrap_or(p).to_string_lossy().replace('\\', "/");
                format!("logs/{}/{setting}/{tail}", self.name)
            };
            let rel_dir = rel(&dir);
            let parts: Vec<String> =
                dir.strip_prefix(sdir).unwrap_or(&dir).iter().map(|s| s.to_string_lossy().into_owned()).collect();
            let (repo, task, folder) = (&parts[0], &parts[1], &parts[2]);
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
            // Not a folder (a stray file at pair depth): nothing to read.
            let Some(logs) = self.load_pair(&dir, &pair, rel_dir.clone()) else { continue };
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

    fn load_pair(&mut self, dir: &Path, pair: &PairId, rel_dir: String) -> Option<PairLogs> {
        let mut logs = PairLogs { rel_dir, ..PairLogs::default() };
        let read = std::fs::read_dir(dir).ok()?;
        for entry in read.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            match name.as_str() {
                "result.json" => logs.result_present = true,
                "eval.json" => logs.eval_present = true,
                n if n.contains(QUARANTINE_TAG) => logs.quarantined.push(format!("{}/{n}", logs.rel_dir)),
                _ => {}
            }
        }
        logs.quarantined.sort();
        if logs.result_present {
            let path = format!("{}/result.json", logs.rel_dir);
            match read_text(&dir.join("result.json")).and_then(|t| RunResult::from_text(&t)) {
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
        if logs.eval_present {
            let path = format!("{}/eval.json", logs.rel_dir);
            match read_text(&dir.join("eval.json")).and_then(|t| EvalResult::from_text(&t)) {
                Ok(e) => logs.eval = Some(e),
                Err(e) => {
                    self.problems.push(Problem::failure("unreadable_eval", e).run(&self.name).pair(pair).path(path))
                }
            }
        }
        Some(logs)
    }

    pub fn total_cost(&self) -> f64 {
        self.pairs.values().filter_map(|p| p.result.as_ref()).map(|r| r.total_cost).sum()
    }
}

pub fn read_text(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))
}

pub fn read_json(path: &Path) -> Result<serde_json::Value, String> {
    json::parse(&read_text(path)?)
}

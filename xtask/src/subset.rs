//! `dataset/subsets/<name>.json`: the pairs a run is expected to hold.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Serialize;

use crate::json::{self, Fields};
use crate::pair::PairId;

#[derive(Debug, Clone, Serialize)]
pub struct Subset {
    pub name: String,
    pub tasks: usize,
    #[serde(skip)]
    pub repos: usize,
    #[serde(skip)]
    pub pairs: Vec<PairId>,
    #[serde(rename = "pairs")]
    pub pair_count: usize,
}

pub fn path(cooperbench_dir: &Path, name: &str) -> PathBuf {
    cooperbench_dir.join("dataset").join("subsets").join(format!("{name}.json"))
}

impl Subset {
    pub fn load(cooperbench_dir: &Path, name: &str) -> anyhow::Result<Subset> {
        let file = path(cooperbench_dir, name);
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("subset `{name}` not found: cannot read {}", file.display()))?;
        Subset::parse(name, &text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))
    }

    pub fn parse(name: &str, text: &str) -> Result<Subset, String> {
        let v = json::parse(text)?;
        let Some(tasks) = v.get("tasks").and_then(|t| t.as_array()) else {
            return Err("missing field `tasks` (an array)".into());
        };
        let mut pairs = Vec::new();
        let mut repos = std::collections::BTreeSet::new();
        for (i, task) in tasks.iter().enumerate() {
            let mut f = Fields::new(task);
            let repo = f.str("repo");
            let task_id = f.u64("task_id");
            let list = f.get("pairs").and_then(|p| p.as_array()).cloned();
            let (Some(repo), Some(task_id), Some(list)) = (repo, task_id, list) else {
                let mut errs = f.errors;
                if task.get("pairs").and_then(|p| p.as_array()).is_none() {
                    errs.push("missing field `pairs` (an array)".into());
                }
                return Err(format!("tasks[{i}]: {}", errs.join("; ")));
            };
            repos.insert(repo.clone());
            for (j, p) in list.iter().enumerate() {
                let ab = p.as_array().and_then(|a| match a.as_slice() {
                    [x, y] => Some((x.as_u64()? as u32, y.as_u64()? as u32)),
                    _ => None,
                });
                let Some((a, b)) = ab else {
                    return Err(format!("field `tasks[{i}].pairs[{j}]`: expected two feature numbers, found {p}"));
                };
                pairs.push(PairId::new(&repo, task_id, a, b));
            }
        }
        pairs.sort();
        let before = pairs.len();
        pairs.dedup();
        if pairs.len() != before {
            return Err(format!("{} pair(s) listed twice", before - pairs.len()));
        }
        Ok(Subset { name: name.to_string(), tasks: tasks.len(), repos: repos.len(), pair_count: pairs.len(), pairs })
    }

    /// The subset's pair list for one task, in the order the file gives them
    /// (the CLI keeps that order in `result.json`'s `features`).
    pub fn contains(&self, pair: &PairId) -> bool {
        self.pairs.binary_search(pair).is_ok()
    }
}

pub fn require_dir(cooperbench_dir: &Path) -> anyhow::Result<()> {
    if !cooperbench_dir.join("dataset").is_dir() {
        bail!(
            "{} is not a CooperBench checkout (no dataset/ folder); pass --cooperbench-dir or set cooperbench_dir in the experiment file",
            cooperbench_dir.display()
        );
    }
    Ok(())
}

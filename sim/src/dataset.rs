//! Which pairs an invocation works on: the subset's, or every pair the
//! dataset folder holds, narrowed by `-r`, `-t` and `-f` as the CLI does.

use serde_json::Value;

use super::{Args, Job};

pub(crate) fn load_subset(a: &Args, name: &str) -> Result<Vec<Job>, String> {
    let path = a.dataset_dir.join("subsets").join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).map_err(|e| format!("subset not found: {} ({e})", path.display()))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut jobs = Vec::new();
    for t in v["tasks"].as_array().ok_or("subset has no tasks")? {
        let repo = t["repo"].as_str().ok_or("task without repo")?.to_string();
        let task_id = t["task_id"].as_u64().ok_or("task without task_id")?;
        for p in t["pairs"].as_array().ok_or("task without pairs")? {
            let (x, y) = (p[0].as_u64().ok_or("bad pair")? as u32, p[1].as_u64().ok_or("bad pair")? as u32);
            jobs.push(Job { repo: repo.clone(), task_id, features: (x, y) });
        }
    }
    Ok(jobs)
}

/// All tasks in the dataset folder, every pair of their features.
pub(crate) fn scan_dataset(a: &Args) -> Vec<Job> {
    let mut jobs = Vec::new();
    let mut repos: Vec<_> =
        std::fs::read_dir(&a.dataset_dir).into_iter().flatten().flatten().map(|e| e.path()).collect();
    repos.sort();
    for repo in repos.into_iter().filter(|p| p.is_dir() && !p.ends_with("subsets")) {
        let mut tasks: Vec<_> = std::fs::read_dir(&repo).into_iter().flatten().flatten().map(|e| e.path()).collect();
        tasks.sort();
        for task in tasks {
            let Some(id) = task.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_prefix("task")?.parse().ok())
            else {
                continue;
            };
            let mut feats: Vec<u32> = std::fs::read_dir(&task)
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.strip_prefix("feature")?.parse().ok())
                .collect();
            feats.sort();
            for (i, x) in feats.iter().enumerate() {
                for y in &feats[i + 1..] {
                    let repo_name = repo.file_name().unwrap().to_string_lossy().into_owned();
                    jobs.push(Job { repo: repo_name, task_id: id, features: (*x, *y) });
                }
            }
        }
    }
    jobs
}

pub(crate) fn select(a: &Args) -> Result<Vec<Job>, String> {
    let mut jobs = match &a.subset {
        Some(s) => load_subset(a, s)?,
        None => scan_dataset(a),
    };
    jobs.retain(|j| a.repo.as_ref().is_none_or(|r| r == &j.repo) && a.task.is_none_or(|t| t == j.task_id));
    if let Some(f) = a.features {
        // -f overrides the pairs: that pair, on every selected task having both.
        let mut tasks: Vec<(String, u64)> = jobs.iter().map(|j| (j.repo.clone(), j.task_id)).collect();
        tasks.dedup();
        let have = |repo: &str, t: u64, n: u32| {
            a.dataset_dir.join(repo).join(format!("task{t}")).join(format!("feature{n}")).is_dir()
        };
        jobs = tasks
            .into_iter()
            .filter(|(r, t)| have(r, *t, f.0) && have(r, *t, f.1))
            .map(|(repo, task_id)| Job { repo, task_id, features: f })
            .collect();
    }
    Ok(jobs)
}

//! Synthetic CooperBench checkouts for tests, the demo and the benchmark:
//! a dataset shaped like a real subset (no files from the real dataset), and
//! runs written by the simulator, so fixtures have the CLI's own layout.

use std::path::Path;

use serde_json::json;

use cooperbench_sim as sim;

/// How big a synthetic subset is. `LITE` matches lite: 12 repos, 26 tasks, 100 pairs.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub repos: usize,
    pub tasks: usize,
    pub pairs: usize,
}

pub const LITE: Shape = Shape { repos: 12, tasks: 26, pairs: 100 };

const REPO_NAMES: [&str; 12] = [
    "amber_task",
    "basalt_task",
    "cedar_task",
    "delta_task",
    "ember_task",
    "fjord_task",
    "garnet_task",
    "harbor_task",
    "indigo_task",
    "juniper_task",
    "kelp_task",
    "lumen_task",
];

/// Writes `dataset/subsets/<subset>.json` and the feature folders it names.
pub fn write_dataset(root: &Path, subset: &str, shape: Shape) -> anyhow::Result<()> {
    let mut tasks = Vec::new();
    let mut left = shape.pairs;
    for t in 0..shape.tasks {
        let repo_index = t % shape.repos;
        let repo = if repo_index < REPO_NAMES.len() {
            REPO_NAMES[repo_index].to_string()
        } else {
            format!("repo{repo_index}_task")
        };
        let task_id = 1000 + 37 * t as u64;
        // Spread the pairs as evenly as the shape allows.
        let n = left.div_ceil(shape.tasks - t);
        left -= n;
        let features = (2..).find(|f| f * (f - 1) / 2 >= n).unwrap_or(2) as u32;
        let mut pairs = Vec::new();
        'outer: for a in 1..=features {
            for b in a + 1..=features {
                if pairs.len() == n {
                    break 'outer;
                }
                pairs.push(json!([a, b]));
            }
        }
        let task_dir = root.join("dataset").join(&repo).join(format!("task{task_id}"));
        for f in 1..=features {
            let fdir = task_dir.join(format!("feature{f}"));
            std::fs::create_dir_all(&fdir)?;
            std::fs::write(fdir.join("feature.md"), format!("# Feature {f} of {repo} task {task_id}\n\nSynthetic.\n"))?;
            std::fs::write(fdir.join("tests.patch"), "")?;
            // A gold patch the simulator's grader recognises (study's oracle).
            let gold = format!(
                "diff --git a/feature_{f}.py b/feature_{f}.py\nnew file mode 100644\n--- /dev/null\n+++ b/feature_{f}.py\n@@ -0,0 +1 @@\n+FEATURE_{f} = \"{repo}/{task_id}\"\n"
            );
            std::fs::write(fdir.join("feature.patch"), gold)?;
        }
        std::fs::write(task_dir.join("Dockerfile"), "FROM scratch\n")?;
        std::fs::write(
            task_dir.join("runner.sh"),
            format!("#!/bin/bash\n# runs the tests of {repo} task {task_id}\n"),
        )?;
        tasks.push(json!({"repo": repo, "task_id": task_id, "pairs": pairs}));
    }
    let mut repos: Vec<&str> = tasks.iter().map(|t| t["repo"].as_str().unwrap_or("")).collect();
    repos.sort();
    repos.dedup();
    let doc = json!({"name": subset, "description": format!("synthetic {subset}-shaped subset"),
        "stats": {"tasks": shape.tasks, "pairs": shape.pairs, "repos": repos.len()}, "tasks": tasks});
    let dir = root.join("dataset").join("subsets");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join(format!("{subset}.json")), serde_json::to_string_pretty(&doc)?)?;
    // A CooperBench checkout is a git clone: the dataset is committed (on a
    // fixed date well before any run), so that the revision a run made by
    // the CLI saw can be inferred from history as it is in a real checkout.
    commit_dataset(root, "the dataset", Some("2026-01-01T00:00:00Z"))?;
    Ok(())
}

/// Commits everything under `dataset/` in the checkout `root` (made a git
/// repository first when it is not one), dated `date` (`None`: now).
pub fn commit_dataset(root: &Path, message: &str, date: Option<&str>) -> anyhow::Result<()> {
    let git = |args: &[&str]| -> anyhow::Result<()> {
        let mut cmd = duct::cmd("git", args)
            .dir(root)
            .env("GIT_AUTHOR_NAME", "fixture")
            .env("GIT_AUTHOR_EMAIL", "fixture@example.invalid")
            .env("GIT_COMMITTER_NAME", "fixture")
            .env("GIT_COMMITTER_EMAIL", "fixture@example.invalid");
        if let Some(date) = date {
            cmd = cmd.env("GIT_AUTHOR_DATE", date).env("GIT_COMMITTER_DATE", date);
        }
        let out = cmd
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .stdout_null()
            .stderr_capture()
            .unchecked()
            .run()?;
        anyhow::ensure!(
            out.status.success(),
            "git {} in {}: {}",
            args.join(" "),
            root.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
        Ok(())
    };
    if !root.join(".git").exists() {
        git(&["init", "-q", "-b", "main"])?;
    }
    git(&["add", "--", "dataset"])?;
    git(&["commit", "-q", "--allow-empty", "-m", message])?;
    Ok(())
}

/// The two simulator invocations that make one complete run of `root`:
/// `run` (the baseline's model and agent) then `eval`.
pub fn sim_argv(root: &Path, subset: &str, run: &str, setting: &str) -> [Vec<String>; 2] {
    sim_argv_model(root, subset, run, setting, "command-a-03-2025")
}

/// [`sim_argv`] with another model.
pub fn sim_argv_model(root: &Path, subset: &str, run: &str, setting: &str, model: &str) -> [Vec<String>; 2] {
    let dirs = [
        "--dataset-dir".to_string(),
        root.join("dataset").display().to_string(),
        "--log-dir".into(),
        root.join("logs").display().to_string(),
    ];
    let common = ["-n", run, "-s", subset, "--backend", "docker"];
    let model = ["-m", model, "-a", "mini_swe_agent_v2", "--setting", setting, "--no-auto-eval"];
    let argv = |cmd: &str, extra: &[&str]| -> Vec<String> {
        std::iter::once(cmd).chain(common).chain(extra.iter().copied()).map(String::from).chain(dirs.clone()).collect()
    };
    [argv("run", &model), argv("eval", &[])]
}

/// Runs and evaluates one run with the in-process simulator, no faults.
pub fn sim_run(root: &Path, run: &str, subset: &str, setting: &str) -> anyhow::Result<()> {
    sim_run_model(root, run, subset, setting, "command-a-03-2025")
}

/// [`sim_run`] with another model.
pub fn sim_run_model(root: &Path, run: &str, subset: &str, setting: &str, model: &str) -> anyhow::Result<()> {
    let k = sim::Knobs::default();
    for args in sim_argv_model(root, subset, run, setting, model) {
        let code = sim::invoke(&args, &k);
        anyhow::ensure!(code == 0, "simulator failed ({code}) on {args:?}");
    }
    Ok(())
}

/// A checkout with the dataset and `runs` solo runs, all complete.
pub fn solo_tree(root: &Path, subset: &str, shape: Shape, runs: &[&str]) -> anyhow::Result<()> {
    write_dataset(root, subset, shape)?;
    for run in runs {
        sim_run(root, run, subset, "solo")?;
    }
    Ok(())
}

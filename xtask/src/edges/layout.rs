//! Every path of a CooperBench checkout, once: where the CLI writes a run and
//! its pairs, where the dataset and subsets are, and the harness's own files
//! under `.harness/`. Paths shown to the user (problems, plans) are relative
//! to the checkout, so reports read the same on every machine.

use std::path::{Path, PathBuf};

use anyhow::bail;

use crate::study::pair::PairId;
use crate::study::subset::Subset;

/// The settings a run folder may hold, as the CLI names them.
pub const SETTINGS: [&str; 3] = ["solo", "coop", "team"];

pub const RESULT: &str = crate::study::run::RESULT_FILE;
pub const EVAL: &str = crate::study::run::EVAL_FILE;
pub const CONFIG: &str = "config.json";
/// A coop pair's messages, as runner/coop.py writes them.
pub const CONVERSATION: &str = "conversation.json";

/// An agent's patch and trajectory in its pair folder: `solo.patch` and
/// `solo_traj.json`, coop's `agent<feature>.patch` and
/// `agent<feature>_traj.json` (runner/solo.py, runner/coop.py).
pub fn patch_file(agent: &str) -> String {
    format!("{agent}.patch")
}

pub fn trajectory_file(agent: &str) -> String {
    format!("{agent}_traj.json")
}
pub const EVAL_SUMMARY: &str = crate::study::run::EVAL_SUMMARY_FILE;
/// The CLI's own `eval_summary.json`, kept when the harness rewrites it.
pub const EVAL_SUMMARY_CLI_LAST: &str = "eval_summary.json.cli-last";
/// What made a seed run, written by `seeds` before the CLI first touches it.
pub const MANIFEST: &str = crate::study::manifest::MANIFEST_FILE;
/// Each run's list of what the harness moved aside, one path (relative to
/// the checkout) a line, so that verify need not list every pair folder.
pub const QUARANTINE_LOG: &str = "quarantined.log";
/// Files moved aside by the harness carry this in their name, e.g.
/// `result.json.corrupt-1`; the CLI never looks at them.
pub const QUARANTINE_TAG: &str = ".corrupt-";
/// The seeds' progress as data, one JSON line per step (see `seeds`).
pub const EVENTS: &str = "harness-events.jsonl";

pub use crate::study::run::{pair_rel, run_rel};

/// Where a pair folder moved aside for a rerun goes: under the run's
/// `moved-aside/`, outside every setting folder (so no reader takes it for
/// the pair), with `.N` on its name; never deleted.
pub fn moved_aside_rel(run: &str, setting: &str, pair: &PairId, n: u32) -> String {
    format!("logs/{run}/moved-aside/{setting}/{}.{n}", pair.rel_dir())
}

pub fn run_dir(cooperbench_dir: &Path, run: &str) -> PathBuf {
    cooperbench_dir.join("logs").join(run)
}

/// What a run is: its folder with links, `.` and `..` resolved, so that
/// `a`, `./a` and a link to `a` are one run (named twice, counted once).
pub fn run_identity(cooperbench_dir: &Path, run: &str) -> PathBuf {
    let dir = run_dir(cooperbench_dir, run);
    dir.canonicalize().unwrap_or_else(|_| {
        let mut out = PathBuf::new();
        for c in dir.components() {
            match c {
                std::path::Component::CurDir => {}
                std::path::Component::ParentDir => {
                    out.pop();
                }
                other => out.push(other),
            }
        }
        out
    })
}

/// `logs/<run>/harness-attempts.jsonl` (`edges::attempts`).
pub fn attempts(cooperbench_dir: &Path, run: &str) -> PathBuf {
    run_dir(cooperbench_dir, run).join("harness-attempts.jsonl")
}

/// `logs/<run>/harness-eval-times.jsonl` (`edges::eval_times`).
pub fn eval_times(cooperbench_dir: &Path, run: &str) -> PathBuf {
    run_dir(cooperbench_dir, run).join("harness-eval-times.jsonl")
}

pub fn manifest(cooperbench_dir: &Path, run: &str) -> PathBuf {
    run_dir(cooperbench_dir, run).join(MANIFEST)
}

pub fn dataset(cooperbench_dir: &Path) -> PathBuf {
    cooperbench_dir.join("dataset")
}

pub fn subset_file(cooperbench_dir: &Path, name: &str) -> PathBuf {
    dataset(cooperbench_dir).join("subsets").join(format!("{name}.json"))
}

/// The harness's own files in a checkout: the lock, the process groups,
/// the agent config it writes. Never the CLI's.
pub fn harness_dir(cooperbench_dir: &Path) -> PathBuf {
    cooperbench_dir.join(".harness")
}

pub fn lock_file(cooperbench_dir: &Path) -> PathBuf {
    harness_dir(cooperbench_dir).join("seeds.lock")
}

/// The `--agent-config` YAML the harness writes from `[model_kwargs]`.
pub fn agent_config(cooperbench_dir: &Path) -> PathBuf {
    harness_dir(cooperbench_dir).join("agent-config.yaml")
}

pub fn events(cooperbench_dir: &Path) -> PathBuf {
    harness_dir(cooperbench_dir).join("events.jsonl")
}

/// The checkout's `.env`, which the harness reads (the CLI reads only the one
/// beside its installed package).
pub fn dotenv(cooperbench_dir: &Path) -> PathBuf {
    cooperbench_dir.join(".env")
}

/// Where `install-cooperbench` puts the CLI by default.
pub fn venv(cooperbench_dir: &Path) -> PathBuf {
    cooperbench_dir.join(".venv")
}

/// The project root: where `experiment.toml`, `results/` and `fixtures/` live.
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// A checkout has a `dataset/` folder; say plainly when it is not one.
pub fn require_checkout(cooperbench_dir: &Path) -> anyhow::Result<()> {
    let dataset = dataset(cooperbench_dir);
    match std::fs::metadata(&dataset) {
        Ok(m) if m.is_dir() => Ok(()),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            // Permissions, a path too long: say what it is, not "missing".
            bail!("cannot look at {}: {e}", dataset.display())
        }
        _ => bail!(
            "{} is not a CooperBench checkout (no dataset/ folder): get one with `git clone https://github.com/cooperbench/CooperBench {}`, or pass --cooperbench-dir or set cooperbench_dir in the experiment file (README, \"A real study\")",
            cooperbench_dir.display(),
            cooperbench_dir.display()
        ),
    }
}

/// `dataset/subsets/<name>.json`, read and checked.
pub fn load_subset(cooperbench_dir: &Path, name: &str) -> anyhow::Result<Subset> {
    let file = subset_file(cooperbench_dir, name);
    let text = crate::edges::read::text(&file, crate::edges::read::SMALL)
        .map_err(|e| anyhow::anyhow!("subset `{name}` not found: {}: {e}", file.display()))?;
    Subset::parse(name, &text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))
}

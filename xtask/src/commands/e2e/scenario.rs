//! What every scenario works with: the real CLI installed, a checkout of
//! the world of its own with the stand-in model, the harness's commands as
//! children (the key in their environment only), and how a scenario ends
//! (`Scenario::outcome`): its failures, its times, nothing of ours left.

use crate::study::pair::PairId;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::{json, Value};

use crate::edges::events::{self, Event, Line};
use crate::support::world::{self, StandIn};

/// The e2e's runs: the baseline the CLI makes directly, then two seeds.
pub const RUNS: [&str; 3] = ["e2e-baseline", "e2e-solo-seed1", "e2e-solo-seed2"];

/// The key the harness hands the CLI; the checks look for it everywhere.
pub(super) const KEY_PREFIX: &str = "sk-e2e-stand-in-";

/// One scenario: a checkout of the world, its experiment file, a stand-in.
pub(super) struct Scenario {
    pub(super) docker: crate::edges::docker::Docker,
    pub(super) dir: PathBuf,
    pub(super) cb: PathBuf,
    pub(super) experiment: PathBuf,
    pub(super) key: String,
    pub(super) stand_in: Option<StandIn>,
}

/// The real CLI, the Python beside it.
pub(super) struct Cli {
    pub(super) bin: PathBuf,
    pub(super) python: PathBuf,
    /// The engine the CLI's containers run on, as the context names it.
    pub(super) docker: crate::edges::docker::Docker,
    /// The project's `fixtures/` (the context's root).
    pub(super) fixtures: PathBuf,
}

/// Print harness outputs whole (the demo) instead of their last lines.
pub(super) static SHOW_ALL: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub(super) struct Outcome {
    pub(super) failures: Vec<String>,
    pub(super) summary: String,
    /// Wall time, inside the CLI, deliberate waits, the harness's own, and
    /// the same work one invocation after another (`edges::events::Times`).
    pub(super) times: events::Times,
}

impl Scenario {
    /// What `seeds` recorded in this scenario's checkout.
    pub(super) fn events(&self) -> Vec<Line> {
        events::read(&crate::edges::layout::events(&self.cb))
    }

    pub(super) fn new(
        root: &Path,
        name: &str,
        cli: &Cli,
        script: Option<&BTreeMap<String, Vec<&str>>>,
    ) -> anyhow::Result<Scenario> {
        Scenario::with_script(root, name, cli, script.map(|s| json!({"default": "solve", "pairs": s})))
    }

    /// With the stand-in's script document as it is (`dataset` is added).
    pub(super) fn with_script(root: &Path, name: &str, cli: &Cli, doc: Option<Value>) -> anyhow::Result<Scenario> {
        let dir = root.join(format!("{name}-{}", std::process::id()));
        if dir.exists() {
            bail!("{} exists already: another e2e of this process? move it aside", dir.display());
        }
        let cb = dir.join("CooperBench");
        world::write_dataset(&cb, &dir)?;
        let baseline = baseline_copy(root);
        if baseline.exists() {
            copy_dir(&baseline, &cb.join("logs").join(RUNS[0]))?;
        }
        std::fs::create_dir_all(dir.join("mswea"))?;
        let stand_in = match doc {
            Some(mut d) => {
                d["dataset"] = json!(cb.join("dataset"));
                Some(StandIn::start(&cli.python, &dir.join("stand-in"), &d)?)
            }
            None => None,
        };
        let key = format!("{KEY_PREFIX}{:08x}", std::process::id() ^ 0x5eed_cafe);
        let experiment = dir.join("experiment.toml");
        let port = stand_in.as_ref().map(|s| s.port).unwrap_or_else(closed_port);
        Scenario { docker: cli.docker.clone(), dir, cb, experiment, key, stand_in }.with_experiment(port)
    }

    pub(super) fn with_experiment(self, port: u16) -> anyhow::Result<Scenario> {
        let text = format!(
            r#"# Written by `cargo xtask e2e`.
name = "e2e"
cooperbench_dir = "{cb}"
subset = "{subset}"
expected_pairs = {pairs}
model = "openai/gpt-4o-mini"
agent = "mini_swe_agent_v2"
backend = "docker"
run_concurrency = 2
# Beside seed k+1's two agents, seed k's evals take the other two.
eval_concurrency = 4
baseline_run = "{baseline}"
seeds = [1, 2]
seed_run_name = "e2e-solo-seed{{seed}}"
attempts = 2
# The baseline is made by the CLI directly, which records no version,
# backend, agent config or task image ids; the seeds' manifests do. (Its
# dataset revision is inferred from the world's git history.)
allow_mixed = ["cli_version", "backend", "agent_config", "images"]

[model_kwargs]
api_base = "http://127.0.0.1:{port}/v1"
"#,
            cb = self.cb.display(),
            baseline = RUNS[0],
            subset = world::SUBSET,
            pairs = world::pairs().len(),
        );
        std::fs::write(&self.experiment, text)?;
        Ok(self)
    }

    /// A harness command, as a child: output captured and echoed, the key
    /// in its environment only.
    pub(super) fn xtask(&self, args: &[&str], extra_env: &[(&str, &str)]) -> duct::Expression {
        let exe = std::env::current_exe().unwrap_or_else(|_| "xtask".into());
        let mut all = vec![args[0].to_string(), "--experiment".into(), self.experiment.display().to_string()];
        all.extend(args[1..].iter().map(|s| s.to_string()));
        let mut e = duct::cmd(exe, all)
            .dir(&self.dir)
            .env("OPENAI_API_KEY", &self.key)
            .env("MSWEA_GLOBAL_CONFIG_DIR", self.dir.join("mswea"))
            .env_remove("OPENAI_BASE_URL")
            .env_remove("OPENAI_API_BASE")
            .env_remove("AZURE_OPENAI_ENDPOINT")
            .env_remove("AZURE_OPENAI_API_KEY")
            .env_remove("XTASK_DOCKER")
            .stdin_null()
            .stderr_to_stdout()
            .stdout_capture()
            .unchecked();
        for (k, v) in extra_env {
            e = e.env(k, v);
        }
        e
    }

    pub(super) fn seeds(&self, cli: &Cli, extra: &[&str], env: &[(&str, &str)]) -> duct::Expression {
        let bin = cli.bin.display().to_string();
        let mut args = vec!["seeds", "--cooperbench-bin", bin.as_str(), "--yes"];
        args.extend_from_slice(extra);
        self.xtask(&args, env)
    }

    /// How the scenario ended: its failures and every container it left
    /// on the world's images (once they settle), its wall time since
    /// `started`, the time inside the CLI its events record (plus
    /// `cli_before`: the CLI run directly, outside the harness), and its
    /// folder removed unless `keep`.
    pub(super) fn outcome(
        self,
        mut failures: Vec<String>,
        summary: impl Into<String>,
        started: Instant,
        cli_before: f64,
        keep: bool,
    ) -> Outcome {
        for c in settled_containers(&self.docker) {
            failures.push(format!("container left: {c}"));
        }
        let times = events::Times::of(&self.events(), started.elapsed().as_secs_f64(), cli_before);
        self.finish(keep);
        Outcome { failures, summary: summary.into(), times }
    }

    pub(super) fn finish(self, keep: bool) {
        drop(self.stand_in);
        if keep {
            println!("kept {}", self.dir.display());
        } else if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            println!("could not remove {}: {e}", self.dir.display());
        }
    }
}

/// Where the two-seed scenario leaves its baseline run for the others.
pub(super) fn baseline_copy(root: &Path) -> PathBuf {
    root.join(format!("baseline-{}", std::process::id()))
}

pub(super) fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to.parent().unwrap_or(Path::new(".")))?;
    let out = duct::cmd!("cp", "-a", from, to).stderr_capture().unchecked().run()?;
    if !out.status.success() {
        bail!("cannot copy {} to {}: {}", from.display(), to.display(), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

/// A port nothing listens on (bound, then closed).
pub(super) fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(9)
}

pub(super) fn text(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub(super) fn echo(what: &str, out: &str) {
    let path = std::env::temp_dir().join(format!("xtask-e2e-{}-{what}.log", std::process::id()));
    let _ = std::fs::write(&path, out);
    let lines: Vec<&str> = out.lines().collect();
    println!("--- {what}: {} lines (whole output: {})", lines.len(), path.display());
    let show = if SHOW_ALL.load(std::sync::atomic::Ordering::SeqCst) { lines.len() } else { 12 };
    for l in lines.iter().rev().take(show).rev() {
        println!("    {l}");
    }
}

/// Every file under `dir` whose bytes hold `key`.
pub(super) fn key_in_files(dir: &Path, key: &str) -> Vec<String> {
    let pattern = format!("{}/**/*", glob::Pattern::escape(&dir.to_string_lossy()));
    glob::glob(&pattern)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|p| p.is_file())
        .filter(|p| std::fs::read(p).is_ok_and(|b| b.windows(key.len()).any(|w| w == key.as_bytes())))
        .map(|p| p.display().to_string())
        .collect()
}

pub(super) fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs()
}

/// Containers carrying the harness's checkout label, any checkout.
pub(super) fn labelled_containers(docker: &crate::edges::docker::Docker) -> Vec<String> {
    docker.labelled(crate::edges::docker_proxy::CHECKOUT).unwrap_or_default().into_iter().map(|c| c.name).collect()
}

/// Every container created on the world's images since `since` (Docker's
/// events), but `except`, must carry our labels: made through the proxy.
pub(super) fn unlabelled_creations(docker: &crate::edges::docker::Docker, since: u64, except: &str) -> Vec<String> {
    let images: Vec<String> = world::all_tasks().map(|t| crate::edges::docker::task_image(t.repo, t.id)).collect();
    let format = format!(
        "{{{{.Actor.Attributes.name}}}}\t{{{{.Actor.Attributes.image}}}}\t{{{{index .Actor.Attributes \"{}\"}}}}",
        crate::edges::docker_proxy::CHECKOUT
    );
    let out = duct::cmd!(
        docker.program(),
        "events",
        "--since",
        since.to_string(),
        "--until",
        (unix_now() + 1).to_string(),
        "--filter",
        "event=create",
        "--format",
        format
    )
    .stdout_capture()
    .stderr_null()
    .unchecked()
    .run();
    let Ok(out) = out else { return vec!["docker events could not be read".into()] };
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut seen = 0;
    let mut failures = Vec::new();
    for l in text.lines() {
        let f: Vec<&str> = l.split('\t').collect();
        let (name, image, label) =
            (f.first().copied().unwrap_or(""), f.get(1).copied().unwrap_or(""), f.get(2).copied().unwrap_or(""));
        if name == except || !images.iter().any(|i| i == image) {
            continue;
        }
        seen += 1;
        if label.is_empty() || label == "<no value>" {
            failures.push(format!("container {name} on {image} was made without our labels"));
        }
    }
    if seen == 0 {
        failures.push("no container creation was seen in Docker's events".into());
    }
    failures
}

/// Containers (any state) on the world's task images: only e2e makes those.
pub(super) fn containers_on_world_images(docker: &crate::edges::docker::Docker) -> Vec<String> {
    let images: Vec<String> = world::all_tasks().map(|t| crate::edges::docker::task_image(t.repo, t.id)).collect();
    docker
        .containers()
        .unwrap_or_default()
        .into_iter()
        .filter(|c| images.contains(&c.image))
        .map(|c| crate::edges::docker::describe(&c))
        .collect()
}

/// `kill -9` of the harness started as `handle`, then what of its CLI is
/// still working in `dir` ten seconds later (it must die with the harness).
pub(super) fn kill_9(dir: &Path, handle: &duct::Handle) -> Vec<String> {
    // SAFETY: kills the harness process this scenario started.
    unsafe { libc::kill(handle.pids()[0] as i32, libc::SIGKILL) };
    let _ = handle.wait();
    let gone = Instant::now() + Duration::from_secs(10);
    while !processes_in(dir).is_empty() && Instant::now() < gone {
        std::thread::sleep(Duration::from_millis(100));
    }
    processes_in(dir).into_iter().map(|p| format!("after kill -9, process left: {p}")).collect()
}

/// Processes whose working folder is inside `dir` (the CLI runs in the checkout).
pub(super) fn processes_in(dir: &Path) -> Vec<String> {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|c| c.starts_with(&dir)))
        .map(|pid| {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            format!("pid {pid}: {}", String::from_utf8_lossy(&cmd).replace('\0', " ").trim())
        })
        .collect()
}

/// The containers left after a scenario settle: a run's agent container
/// lingers about 10 s before its `--rm` (CONTRACT.md).
pub(super) fn settled_containers(docker: &crate::edges::docker::Docker) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = containers_on_world_images(docker);
        if left.is_empty() || Instant::now() > deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

pub(super) fn results_in(cb: &Path, run: &str) -> usize {
    let pattern = format!("{}/logs/{run}/solo/*/*/*/result.json", glob::Pattern::escape(&cb.to_string_lossy()));
    glob::glob(&pattern).map(|g| g.count()).unwrap_or(0)
}

/// What a fault that the canary must catch leaves: `seeds` exits 1, the
/// canary `pair` ended Error, and it was the only pair attempted.
pub(super) fn canary_stopped(out: &std::process::Output, sc: &Scenario, pair: &str) -> Vec<String> {
    let mut failures = Vec::new();
    if out.status.code() != Some(1) {
        failures.push(format!("seeds exited {:?}, expected 1", out.status.code()));
    }
    let events = sc.events();
    let canary_error = events
        .iter()
        .any(|l| matches!(&l.event, Event::Canary { pair: p, status: Some(s), .. } if p == pair && s == "Error"));
    let stopped = events.iter().any(|l| matches!(&l.event, Event::Stop { .. }));
    if !(canary_error && stopped) {
        failures.push("the canary did not stop the seed with the pair's Error".into());
    }
    let attempted = results_in(&sc.cb, RUNS[1]);
    if attempted != 1 {
        failures.push(format!("{attempted} pairs were attempted, expected 1"));
    }
    failures
}

/// Waits until seed 1 has two results (the harness started as `handle`
/// is mid-seed), then gives the pairs done so far.
pub(super) fn pairs_done_mid_seed(sc: &Scenario, handle: &duct::Handle) -> anyhow::Result<Vec<PairId>> {
    let deadline = Instant::now() + Duration::from_secs(300);
    while results_in(&sc.cb, RUNS[1]) < 2 {
        if handle.try_wait()?.is_some() || Instant::now() > deadline {
            anyhow::bail!("seeds ended (or hung) before two pairs were done");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(world::pairs()
        .into_iter()
        .filter(|p| sc.cb.join("logs").join(RUNS[1]).join("solo").join(p.to_string()).join("result.json").exists())
        .collect())
}

/// After the rerun: seed 1 is whole, and each pair done before `what`
/// (the interruption) was paid for once.
pub(super) fn finished_and_paid_once(sc: &Scenario, done_before: &[PairId], what: &str) -> Vec<String> {
    let mut failures = Vec::new();
    if results_in(&sc.cb, RUNS[1]) != world::pairs().len() {
        failures.push("the rerun did not finish every pair".into());
    }
    let conversations = world::conversations(&sc.stand_in.as_ref().map(|s| s.requests()).unwrap_or_default());
    for p in done_before {
        let n = conversations.get(&p.to_string()).copied().unwrap_or(0);
        if n != 1 {
            failures.push(format!("{p} had a result before {what} and was paid for {n} times"));
        }
    }
    failures
}

//! `cargo xtask e2e`: the harness's own commands against the real
//! cooperbench CLI, succeeding, offline and for free (the world of
//! `world.rs`). In order:
//!
//! 1. Docker and the real CLI (`install-cooperbench`), the world's dataset
//!    and task images, the model stand-in;
//! 2. `seeds` with two seeds (preflight, canary, runs, the retry of an
//!    `Error` pair, evals, the forced re-eval of an eval that errored, the
//!    `eval_summary.json` rewrite, verify), then `verify` and `report`;
//! 3. the checks ([`check`], pure): every pair has a real result.json and an
//!    eval.json from tests that ran in a container, each outcome is the
//!    script's, the stand-in was reached with the key from the environment
//!    (never in a file or on a command line), no pair was paid twice, no
//!    container or process is left;
//! 4. faults: Ctrl-C in the middle of a seed, a task image missing, the model
//!    endpoint down; and the outcome classes the CLI would grade as plain
//!    fails or errors (a 429, a patch too large for the grader, an empty
//!    submission); the oracle; and a study of two models and a coop arm
//!    from one file, through `cargo xtask study`;
//! 5. a table and the times: wall time, time inside the CLI, the harness's
//!    own overhead.
//!
//! Each scenario works in a folder of its own under `target/e2e/`, removed
//! at the end unless `--keep`. The images are kept (rebuilt when their
//! inputs change); `--remove-images` removes them (ours, by label) and exits.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Value};

use crate::edges::events::{self, Event, Line};
use crate::study::pair::PairId;
use crate::support::world::{self, StandIn};

mod classes;
mod ctrl_c;
mod endpoint_down;
mod image_missing;
mod modal;
mod oracle;
mod study;
mod two_seeds;

use classes::classes;
use ctrl_c::ctrl_c;
use endpoint_down::endpoint_down;
use image_missing::image_missing;
use modal::modal;
use oracle::oracle;
use study::two_models;
use two_seeds::{two_seeds, RUNS};

#[derive(Debug, Clone, clap::Args)]
pub struct E2eFlags {
    /// Keep the scenario folders under target/e2e/
    #[arg(long)]
    pub keep: bool,
    /// Only the two-seed run and its checks, no faults
    #[arg(long)]
    pub no_faults: bool,
    /// Only this fault scenario (e.g. `oracle`), after the two seeds it needs (none for `oracle`)
    #[arg(long, value_name = "SCENARIO")]
    pub only: Option<String>,
    /// Remove the world's task images (ours, by label) and exit
    #[arg(long)]
    pub remove_images: bool,
    /// `modal`: the Modal scenario alone (the CLI's Modal code on the
    /// Docker-backed double); `docker` (the default): every scenario
    #[arg(long, value_enum)]
    pub backend: Option<crate::edges::experiment::Backend>,
}

/// The key the harness hands the CLI; the checks look for it everywhere.
const KEY_PREFIX: &str = "sk-e2e-stand-in-";

/// One scenario: a checkout of the world, its experiment file, a stand-in.
struct Scenario {
    docker: crate::edges::docker::Docker,
    dir: PathBuf,
    cb: PathBuf,
    experiment: PathBuf,
    key: String,
    stand_in: Option<StandIn>,
}

/// The real CLI, the Python beside it.
struct Cli {
    bin: PathBuf,
    python: PathBuf,
    /// The engine the CLI's containers run on, as the context names it.
    docker: crate::edges::docker::Docker,
}

pub fn run(mut flags: E2eFlags, ctx: &crate::Context) -> anyhow::Result<i32> {
    match flags.backend {
        Some(crate::edges::experiment::Backend::Modal) => flags.only = Some("modal".into()),
        Some(crate::edges::experiment::Backend::Gcp) => {
            bail!("--backend gcp: no e2e scenario (GCP Batch has no offline double here)")
        }
        _ => {}
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if let Err(e) = ctx.docker.available() {
        let msg = format!("e2e needs a Docker engine, and `docker info` failed: {e:#}");
        if ci {
            bail!("{msg}");
        }
        eprintln!("SKIPPED: {msg} (under CI=true this is a failure)");
        return Ok(SKIPPED);
    }
    if flags.remove_images {
        for i in world::remove_images(&ctx.docker)? {
            println!("removed {i}");
        }
        return Ok(0);
    }
    let wall = Instant::now();
    let root = crate::edges::layout::project_root().join("target/e2e");
    std::fs::create_dir_all(&root)?;
    let cli = install(ctx)?;

    let t = Instant::now();
    let images = world::build_images(&ctx.docker, &root.join("world"))?;
    for (image, how) in &images {
        println!("image {image}: {how}");
    }
    println!("world ready in {:.1}s", t.elapsed().as_secs_f64());

    let mut failures = Vec::new();
    let mut rows: Vec<(String, String, f64, f64)> = Vec::new();

    // Every scenario but the oracle resumes a seed and ends with verify,
    // which needs the baseline the two-seed scenario makes.
    if flags.only.as_deref().is_none_or(|o| !NEEDS_NO_BASELINE.contains(&o)) {
        let main = two_seeds(&root, &cli, flags.keep)?;
        println!("\ntwo seeds: {}", if main.failures.is_empty() { "ok" } else { "FAILED" });
        for f in &main.failures {
            println!("  FAIL {f}");
        }
        failures.extend(main.failures.iter().map(|f| format!("two seeds: {f}")));
        rows.push(("two seeds".into(), main.summary, main.wall, main.cli));
    }

    type Fault = fn(&Path, &Cli, bool) -> anyhow::Result<Outcome>;
    let faults: [(&str, Fault); 7] = [
        ("ctrl-c mid-seed", ctrl_c),
        ("task image missing", image_missing),
        ("endpoint down", endpoint_down),
        ("outcome classes", classes),
        ("oracle", oracle),
        ("study", two_models),
        ("modal", modal),
    ];
    if let Some(only) = flags.only.as_deref().filter(|o| !faults.iter().any(|(n, _)| n == o)) {
        bail!("no scenario `{only}`; there are: {}", faults.map(|(n, _)| n).join(", "));
    }
    if !flags.no_faults {
        for (name, scenario) in faults.into_iter().filter(|(n, _)| flags.only.as_deref().is_none_or(|o| o == *n)) {
            let outcome = scenario(&root, &cli, flags.keep).with_context(|| format!("scenario `{name}`"))?;
            println!("\n{name}: {}", if outcome.failures.is_empty() { "ok" } else { "FAILED" });
            for f in &outcome.failures {
                println!("  FAIL {f}");
            }
            failures.extend(outcome.failures.iter().map(|f| format!("{name}: {f}")));
            rows.push((name.into(), outcome.summary, outcome.wall, outcome.cli));
        }
    }

    let _ = std::fs::remove_dir_all(baseline_copy(&root));
    println!("\n{:<20} {:>8} {:>8} {:>9}  what happened", "scenario", "wall", "in CLI", "harness");
    for (name, summary, w, c) in &rows {
        println!("{name:<20} {w:>7.1}s {c:>7.1}s {:>8.1}s  {summary}", w - c);
    }
    println!("whole e2e: {:.1}s", wall.elapsed().as_secs_f64());
    if failures.is_empty() {
        println!("e2e: OK");
        Ok(0)
    } else {
        println!("e2e: FAILED ({} check(s))", failures.len());
        Ok(1)
    }
}

/// `cargo xtask demo --real-cli`: the two-seed scenario, its outputs in
/// full, kept for the reader. Docker is required (no skip: it was asked for).
pub fn demo(ctx: &crate::Context) -> anyhow::Result<i32> {
    ctx.docker.available().map_err(|e| anyhow::anyhow!("demo --real-cli needs a Docker engine: {e:#}"))?;
    let root = crate::edges::layout::project_root().join("target/e2e");
    let cli = install(ctx)?;
    for (image, how) in world::build_images(&ctx.docker, &root.join("world"))? {
        println!("image {image}: {how}");
    }
    SHOW_ALL.store(true, std::sync::atomic::Ordering::SeqCst);
    let t = Instant::now();
    let outcome = two_seeds(&root, &cli, true)?;
    let _ = std::fs::remove_dir_all(baseline_copy(&root));
    println!(
        "\ndemo --real-cli: the real cooperbench {} ran a baseline and two seeds of {} pairs offline, for free, in {:.0}s ({:.0}s inside the CLI).",
        crate::commands::install_cooperbench::VERSION,
        world::pairs().len(),
        t.elapsed().as_secs_f64(),
        outcome.cli
    );
    println!("{}", outcome.summary);
    println!(
        "The model was a scripted stand-in (fixtures/world/stand_in.py): the outcomes show the harness and the CLI working, not a model's skill."
    );
    for f in &outcome.failures {
        println!("  FAIL {f}");
    }
    Ok(if outcome.failures.is_empty() { 0 } else { 1 })
}

/// Print harness outputs whole (the demo) instead of their last lines.
static SHOW_ALL: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn install(ctx: &crate::Context) -> anyhow::Result<Cli> {
    let venv = crate::edges::layout::project_root().join("target/cooperbench-venv");
    let code = crate::commands::install_cooperbench::run(
        crate::commands::install_cooperbench::InstallFlags {
            common: crate::edges::experiment::CommonFlags { experiment: None, cooperbench_dir: None, subset: None },
            venv: Some(venv.clone()),
            python: "python3".into(),
            force: false,
        },
        ctx,
    )?;
    if code != 0 {
        bail!("install-cooperbench failed");
    }
    Ok(Cli { bin: venv.join("bin/cooperbench"), python: venv.join("bin/python"), docker: ctx.docker.clone() })
}

/// Exit status for "skipped" (automake's convention): never 0.
pub const SKIPPED: i32 = 77;

/// Scenarios that make their own runs: `--only` them skips the two seeds.
const NEEDS_NO_BASELINE: [&str; 3] = ["oracle", "study", "modal"];

struct Outcome {
    failures: Vec<String>,
    summary: String,
    wall: f64,
    cli: f64,
}

impl Scenario {
    /// What `seeds` recorded in this scenario's checkout.
    fn events(&self) -> Vec<Line> {
        events::read(&crate::edges::layout::events(&self.cb))
    }

    fn new(
        root: &Path,
        name: &str,
        cli: &Cli,
        script: Option<&BTreeMap<String, Vec<&str>>>,
    ) -> anyhow::Result<Scenario> {
        Scenario::with_script(root, name, cli, script.map(|s| json!({"default": "solve", "pairs": s})))
    }

    /// With the stand-in's script document as it is (`dataset` is added).
    fn with_script(root: &Path, name: &str, cli: &Cli, doc: Option<Value>) -> anyhow::Result<Scenario> {
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

    fn with_experiment(self, port: u16) -> anyhow::Result<Scenario> {
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
eval_concurrency = 2
baseline_run = "{baseline}"
seeds = [1, 2]
seed_run_name = "e2e-solo-seed{{seed}}"
attempts = 2
# The baseline is made by the CLI directly, which records no version,
# backend or agent config; the seeds' manifests do.
allow_mixed = ["cli_version", "backend", "agent_config"]

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
    fn xtask(&self, args: &[&str], extra_env: &[(&str, &str)]) -> duct::Expression {
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

    fn seeds(&self, cli: &Cli, extra: &[&str], env: &[(&str, &str)]) -> duct::Expression {
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
    fn outcome(
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
        let cli = events::cli_seconds(&self.events()) + cli_before;
        let wall = started.elapsed().as_secs_f64();
        self.finish(keep);
        Outcome { failures, summary: summary.into(), wall, cli }
    }

    fn finish(self, keep: bool) {
        drop(self.stand_in);
        if keep {
            println!("kept {}", self.dir.display());
        } else if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            println!("could not remove {}: {e}", self.dir.display());
        }
    }
}

/// Where the two-seed scenario leaves its baseline run for the others.
fn baseline_copy(root: &Path) -> PathBuf {
    root.join(format!("baseline-{}", std::process::id()))
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to.parent().unwrap_or(Path::new(".")))?;
    let out = duct::cmd!("cp", "-a", from, to).stderr_capture().unchecked().run()?;
    if !out.status.success() {
        bail!("cannot copy {} to {}: {}", from.display(), to.display(), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

/// A port nothing listens on (bound, then closed).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(9)
}

fn text(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn echo(what: &str, out: &str) {
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
fn key_in_files(dir: &Path, key: &str) -> Vec<String> {
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

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs()
}

/// Containers carrying the harness's checkout label, any checkout.
fn labelled_containers(docker: &crate::edges::docker::Docker) -> Vec<String> {
    docker.labelled(crate::edges::docker_proxy::CHECKOUT).unwrap_or_default().into_iter().map(|c| c.name).collect()
}

/// Every container created on the world's images since `since` (Docker's
/// events), but `except`, must carry our labels: made through the proxy.
fn unlabelled_creations(docker: &crate::edges::docker::Docker, since: u64, except: &str) -> Vec<String> {
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
fn containers_on_world_images(docker: &crate::edges::docker::Docker) -> Vec<String> {
    let images: Vec<String> = world::all_tasks().map(|t| crate::edges::docker::task_image(t.repo, t.id)).collect();
    docker
        .containers()
        .unwrap_or_default()
        .into_iter()
        .filter(|c| images.contains(&c.image))
        .map(|c| crate::edges::docker::describe(&c))
        .collect()
}

/// Processes whose working folder is inside `dir` (the CLI runs in the checkout).
fn processes_in(dir: &Path) -> Vec<String> {
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
fn settled_containers(docker: &crate::edges::docker::Docker) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = containers_on_world_images(docker);
        if left.is_empty() || Instant::now() > deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn results_in(cb: &Path, run: &str) -> usize {
    let pattern = format!("{}/logs/{run}/solo/*/*/*/result.json", glob::Pattern::escape(&cb.to_string_lossy()));
    glob::glob(&pattern).map(|g| g.count()).unwrap_or(0)
}

/// What a fault that the canary must catch leaves: `seeds` exits 1, the
/// canary `pair` ended Error, and it was the only pair attempted.
fn canary_stopped(out: &std::process::Output, sc: &Scenario, pair: &str) -> Vec<String> {
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

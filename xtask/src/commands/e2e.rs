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

/// What the stand-in does for each conversation of each pair, in order (see
/// `fixtures/world/stand_in.py`). Chosen so that the two seeds disagree on
/// four pairs (difficulty 0, 1/2 and 1), the canary passes, one pair needs
/// the harness's retry, and one ends `LimitsExceeded`.
pub fn script() -> BTreeMap<String, Vec<&'static str>> {
    // Entry 1 is the baseline run (made by the CLI directly, no retry),
    // then seed 1, then seed 2.
    [
        ("e2ecalc_task/1/f1_f2", vec!["solve", "solve", "solve"]),
        // Seed 1: three 429s (the agent's client tries three times), an
        // infra_provider Error the harness retries after its wait.
        ("e2ecalc_task/1/f1_f3", vec!["half", "rate_limit", "rate_limit", "rate_limit", "solve", "half"]),
        ("e2ecalc_task/1/f2_f3", vec!["half", "half", "half"]),
        ("e2etext_task/2/f1_f2", vec!["solve", "limits", "solve"]),
        ("e2elist_task/3/f1_f2", vec!["solve", "solve", "half"]),
        ("e2elist_task/3/f1_f3", vec!["half", "half", "solve"]),
    ]
    .into_iter()
    .map(|(p, b)| (p.to_string(), b))
    .collect()
}

/// The runs of the two-seed scenario, in the order they consume the script.
pub const RUNS: [&str; 3] = ["e2e-baseline", "e2e-solo-seed1", "e2e-solo-seed2"];

/// What one seed should end with for one pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    Pass,
    Fail,
    Limits,
}

/// Per pair, the outcome of each run and the conversations it costs: a run
/// takes entries until one that is not `http_error` or `rate_limit` (each
/// try of a refused request is a conversation; the harness retries an
/// `Error` pair within a seed; the baseline's entry is never one).
pub fn expected(script: &BTreeMap<String, Vec<&str>>, seeds: usize) -> BTreeMap<String, (Vec<Expected>, usize)> {
    script
        .iter()
        .map(|(pair, plan)| {
            let (mut outcomes, mut used) = (Vec::new(), 0);
            for _ in 0..seeds {
                loop {
                    let b = plan.get(used).copied().unwrap_or("solve");
                    used += 1;
                    let o = match b {
                        "http_error" | "rate_limit" => continue,
                        "half" => Expected::Fail,
                        "limits" => Expected::Limits,
                        _ => Expected::Pass,
                    };
                    outcomes.push(o);
                    break;
                }
            }
            (pair.clone(), (outcomes, used))
        })
        .collect()
}

/// What one seed run left for one pair, as read from its files.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PairSeen {
    pub status: Option<String>,
    pub both_passed: Option<bool>,
    pub eval_error: Option<String>,
    /// The runner's "N passed, M failed" line is in both features' test output.
    pub tests_ran: bool,
    /// Written by the real CLI (the seed's manifest names 0.0.29, not the simulator).
    pub real_cli: bool,
}

/// Everything the checks look at, gathered by the thin layer.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// (seed index, pair) -> what its files say.
    pub pairs: BTreeMap<(usize, String), PairSeen>,
    pub conversations: BTreeMap<String, u64>,
    /// (path, model, header names) of every request.
    pub requests: Vec<(String, String, Vec<String>)>,
    /// Files or outputs that hold the key.
    pub key_seen_in: Vec<String>,
    pub containers_left: Vec<String>,
    pub processes_left: Vec<String>,
    pub exit_codes: Vec<(String, Option<i32>)>,
}

/// The checks, pure: every failure, named; empty when all hold.
pub fn check(expect: &BTreeMap<String, (Vec<Expected>, usize)>, o: &Observed, model: &str) -> Vec<String> {
    let mut bad = Vec::new();
    for (what, code) in &o.exit_codes {
        if *code != Some(0) {
            bad.push(format!("`{what}` exited {code:?}, expected 0"));
        }
    }
    for (pair, (outcomes, conversations)) in expect {
        for (i, want) in outcomes.iter().enumerate() {
            let Some(seen) = o.pairs.get(&(i, pair.clone())) else {
                bad.push(format!("seed {}: {pair}: no result.json", i + 1));
                continue;
            };
            let got = match (seen.status.as_deref(), seen.both_passed) {
                (Some("LimitsExceeded"), _) => Some(Expected::Limits),
                (Some("Submitted"), Some(true)) => Some(Expected::Pass),
                (Some("Submitted"), Some(false)) => Some(Expected::Fail),
                _ => None,
            };
            if got != Some(*want) {
                bad.push(format!(
                    "seed {}: {pair}: expected {want:?}, the files say status {:?}, both_passed {:?}",
                    i + 1,
                    seen.status,
                    seen.both_passed
                ));
            }
            if !seen.real_cli {
                bad.push(format!("seed {}: {pair}: not written by the real CLI", i + 1));
            }
            if *want != Expected::Limits && !seen.tests_ran {
                bad.push(format!("seed {}: {pair}: eval.json shows no test run in a container", i + 1));
            }
            if let Some(e) = &seen.eval_error {
                bad.push(format!("seed {}: {pair}: eval.json still has an error: {e}", i + 1));
            }
        }
        let had = o.conversations.get(pair).copied().unwrap_or(0);
        if had != *conversations as u64 {
            bad.push(format!("{pair}: the stand-in had {had} conversation(s), the script pays for {conversations}"));
        }
    }
    if o.requests.is_empty() {
        bad.push("the stand-in received no request: the [model_kwargs] api_base route did not take effect".into());
    }
    let want_model = model.split_once('/').map(|(_, m)| m).unwrap_or(model);
    for (path, m, headers) in &o.requests {
        if path != "/v1/chat/completions" || m != want_model {
            bad.push(format!("a request to {path} for model {m:?}, expected /v1/chat/completions for {want_model:?}"));
        }
        if !headers.iter().any(|h| h.eq_ignore_ascii_case("authorization")) {
            bad.push(format!("a request to {path} without an Authorization header: the key did not reach the CLI"));
        }
    }
    for f in &o.key_seen_in {
        bad.push(format!("the key is written in {f}"));
    }
    for c in &o.containers_left {
        bad.push(format!("container left: {c}"));
    }
    for p in &o.processes_left {
        bad.push(format!("process left: {p}"));
    }
    bad.sort();
    bad.dedup();
    bad
}

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

/// What `seeds` must have done in the two-seed scenario, read from its
/// events (never from the wording of its output): one failure per step
/// that did not happen.
pub fn steps_missing(events: &[Line]) -> Vec<String> {
    let calc = "e2ecalc_task/1/f1_f2";
    let seen = |what: &str, f: &dyn Fn(&Event) -> bool| {
        (!events.iter().any(|l| f(&l.event))).then(|| format!("{what} did not happen (no such event in events.jsonl)"))
    };
    [
        seen(
            "the canary",
            &|e| matches!(e, Event::Canary { pair, status: Some(s), .. } if pair == calc && s == "Submitted"),
        ),
        seen("the retry of the Error pair", &|e| matches!(e, Event::Run { attempt: 2, .. })),
        seen("the forced re-eval of the errored eval", &|e| matches!(e, Event::ForceEval { pair, .. } if pair == calc)),
        seen("the eval_summary.json rewrite", &|e| matches!(e, Event::SummaryRewritten { .. })),
        seen("verify", &|e| matches!(e, Event::Verify { ok: true, .. })),
    ]
    .into_iter()
    .flatten()
    .collect()
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

fn two_seeds(root: &Path, cli: &Cli, keep: bool) -> anyhow::Result<Outcome> {
    let s = script();
    let sc = Scenario::new(root, "two-seeds", cli, Some(&s))?;
    let t = Instant::now();
    // The baseline run, as the study's was made: by the CLI itself.
    println!("\ntwo seeds: the baseline, by `cooperbench run` and `eval` (about a minute) in {}", sc.cb.display());
    let baseline_cli = baseline(&sc, cli)?;
    // Kept for the fault scenarios, whose checkouts need a baseline too.
    copy_dir(&sc.cb.join("logs").join(RUNS[0]), &baseline_copy(root))?;
    // One feature's tests.patch is missing when the first eval runs, so that
    // eval writes an error into eval.json; it is put back as soon as that
    // eval.json appears, before the harness's forced re-eval of the pair.
    let tests = sc.cb.join("dataset/e2ecalc_task/task1/feature2/tests.patch");
    let held = sc.dir.join("tests.patch.held");
    std::fs::rename(&tests, &held)?;
    println!("two seeds: `cargo xtask seeds --yes` with two seeds (about three minutes)");
    // One try of the agent's own per refused request, not ten with back-off.
    let since = unix_now();
    let handle = sc.seeds(cli, &[], &[("MSWEA_MODEL_RETRY_STOP_AFTER_ATTEMPT", "1")]).start()?;
    let errored = sc.cb.join("logs/e2e-solo-seed1/solo/e2ecalc_task/1/f1_f2/eval.json");
    let mut restored = false;
    let out = loop {
        if !restored && errored.exists() {
            std::fs::rename(&held, &tests)?;
            restored = true;
        }
        if let Some(out) = handle.try_wait()? {
            break out.clone();
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    if !restored {
        std::fs::rename(&held, &tests).ok();
    }
    let seeds_out = text(&out);
    echo("seeds", &seeds_out);
    let events = sc.events();
    let cli_time = events::cli_seconds(&events) + baseline_cli;
    let verify = sc.xtask(&["verify"], &[]).run()?;
    echo("verify", &text(&verify));
    let report_dir = sc.dir.join("report");
    let report =
        sc.xtask(&["report", "--out", report_dir.to_str().unwrap_or("report"), "--bootstrap", "200"], &[]).run()?;
    echo("report", &text(&report));
    let wall = t.elapsed().as_secs_f64();

    let mut o = observe(&sc, &[&seeds_out, &text(&verify), &text(&report)]);
    o.exit_codes = vec![
        ("seeds".into(), out.status.code()),
        ("verify".into(), verify.status.code()),
        ("report".into(), report.status.code()),
    ];
    let mut failures = check(&expected(&s, RUNS.len()), &o, "openai/gpt-4o-mini");
    // The harness's own steps, from its events.
    failures.extend(steps_missing(&events));
    // Every container the CLI made for the seeds carried our labels.
    failures.extend(unlabelled_creations(&cli.docker, since, ""));
    if !restored {
        failures.push("the eval that should have errored wrote no eval.json".into());
    }
    if !sc.cb.join("logs/e2e-solo-seed1/eval_summary.json.cli-last").exists() {
        failures.push("no eval_summary.json.cli-last: the CLI's partial summary was not replaced".into());
    }
    let values = difficulty_values(&report_dir);
    if values.len() < 4 {
        failures.push(format!("difficulty takes {} value(s) ({values:?}), expected 4", values.len()));
    }
    let summary = format!(
        "{} pairs x (baseline + 2 seeds), difficulties {values:?}, {} requests to the stand-in",
        world::pairs().len(),
        o.requests.len()
    );
    sc.finish(keep);
    Ok(Outcome { failures, summary, wall, cli: cli_time })
}

/// `cooperbench run` and `eval` of the baseline, straight; seconds inside them.
fn baseline(sc: &Scenario, cli: &Cli) -> anyhow::Result<f64> {
    let port = sc.stand_in.as_ref().map(|s| s.port).unwrap_or(9);
    let cfg = sc.dir.join("baseline-agent-config.yaml");
    std::fs::write(&cfg, format!("model:\n  model_kwargs:\n    api_base: \"http://127.0.0.1:{port}/v1\"\n"))?;
    let cfg = cfg.display().to_string();
    let t = Instant::now();
    for args in [
        vec![
            "run",
            "-n",
            RUNS[0],
            "-m",
            "openai/gpt-4o-mini",
            "-a",
            "mini_swe_agent_v2",
            "-s",
            world::SUBSET,
            "--setting",
            "solo",
            "--backend",
            "docker",
            "-c",
            "2",
            "--no-auto-eval",
            "--agent-config",
            &cfg,
        ],
        vec!["eval", "-n", RUNS[0], "-s", world::SUBSET, "--backend", "docker", "-c", "2"],
    ] {
        let out = duct::cmd(&cli.bin, &args)
            .dir(&sc.cb)
            .env("OPENAI_API_KEY", &sc.key)
            .env("MSWEA_GLOBAL_CONFIG_DIR", sc.dir.join("mswea"))
            .env("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            .stdin_null()
            .stderr_to_stdout()
            .stdout_capture()
            .unchecked()
            .run()?;
        if !out.status.success() {
            echo(&format!("baseline {}", args[0]), &text(&out));
            bail!("the baseline's `cooperbench {}` exited {:?}", args[0], out.status.code());
        }
    }
    Ok(t.elapsed().as_secs_f64())
}

/// The distinct difficulty values in the report's difficulty.csv.
fn difficulty_values(report: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(report.join("difficulty.csv")).unwrap_or_default();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let col = rdr.headers().ok().and_then(|h| h.iter().position(|c| c == "difficulty"));
    let mut v: Vec<String> = rdr
        .records()
        .flatten()
        .filter_map(|r| col.and_then(|c| r.get(c)).map(String::from))
        .filter(|d| !d.is_empty())
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Reads what the scenario left: files, the stand-in's log, Docker, /proc.
fn observe(sc: &Scenario, outputs: &[&str]) -> Observed {
    let mut o = Observed::default();
    for (i, run) in RUNS.iter().enumerate() {
        // The baseline is made by e2e with the real CLI; a seed says so in its manifest.
        let real = i == 0
            || std::fs::read_to_string(sc.cb.join("logs").join(run).join(crate::edges::layout::MANIFEST))
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .and_then(|m| m["cooperbench_version"].as_str().map(String::from))
                .is_some_and(|v| v == crate::commands::install_cooperbench::VERSION);
        for pair in world::pairs() {
            let dir = sc.cb.join("logs").join(run).join("solo").join(pair.to_string());
            let read = |f: &str| {
                std::fs::read_to_string(dir.join(f)).ok().and_then(|t| serde_json::from_str::<Value>(&t).ok())
            };
            let Some(result) = read("result.json") else { continue };
            let eval = read("eval.json");
            let ran = |f: &str| {
                eval.as_ref().and_then(|e| e[f]["test_output"].as_str()).is_some_and(|t| t.contains(" passed, "))
            };
            o.pairs.insert(
                (i, pair.to_string()),
                PairSeen {
                    status: result["agent"]["status"].as_str().map(String::from),
                    both_passed: eval.as_ref().and_then(|e| e["both_passed"].as_bool()),
                    eval_error: eval.as_ref().and_then(|e| e["error"].as_str()).map(String::from),
                    tests_ran: ran("feature1") && ran("feature2"),
                    real_cli: real,
                },
            );
        }
    }
    if let Some(s) = &sc.stand_in {
        let requests = s.requests();
        o.conversations = world::conversations(&requests);
        o.requests = requests
            .iter()
            .map(|r| {
                let headers =
                    r["headers"].as_array().map(|h| h.iter().filter_map(|x| x.as_str().map(String::from)).collect());
                (
                    r["path"].as_str().unwrap_or("").to_string(),
                    r["model"].as_str().unwrap_or("").to_string(),
                    headers.unwrap_or_default(),
                )
            })
            .collect();
    }
    o.key_seen_in = key_in_files(&sc.dir, &sc.key);
    for (n, out) in outputs.iter().enumerate() {
        if out.contains(&sc.key) {
            o.key_seen_in.push(format!("the output of harness command {}", n + 1));
        }
    }
    o.containers_left = containers_on_world_images(&sc.docker);
    o.processes_left = processes_in(&sc.dir);
    o
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

/// Ctrl-C in the middle of seed 1: nothing of it is left, a rerun finishes,
/// and no pair that had a result before the signal is paid again.
fn ctrl_c(root: &Path, cli: &Cli, keep: bool) -> anyhow::Result<Outcome> {
    let all_solve = BTreeMap::new();
    let sc = Scenario::new(root, "ctrl-c", cli, Some(&all_solve))?;
    let t = Instant::now();
    let handle = sc.seeds(cli, &["--seeds", "1"], &[]).start()?;
    let deadline = Instant::now() + Duration::from_secs(300);
    while results_in(&sc.cb, RUNS[1]) < 2 {
        if handle.try_wait()?.is_some() || Instant::now() > deadline {
            bail!("seeds ended (or hung) before two pairs were done");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let done_before: Vec<PairId> = world::pairs()
        .into_iter()
        .filter(|p| sc.cb.join("logs/e2e-solo-seed1/solo").join(p.to_string()).join("result.json").exists())
        .collect();
    let pid = handle.pids()[0] as i32;
    // SAFETY: signals the harness process this scenario started.
    unsafe { libc::kill(pid, libc::SIGINT) };
    let out = handle.wait()?.clone();
    let first = text(&out);
    echo("seeds (interrupted)", &first);
    let mut failures = Vec::new();
    if out.status.code() != Some(crate::engine::job::INTERRUPTED) {
        failures.push(format!("the interrupted seeds exited {:?}, expected 130", out.status.code()));
    }
    for p in processes_in(&sc.dir) {
        failures.push(format!("after Ctrl-C, process left: {p}"));
    }
    for c in settled_containers(&cli.docker) {
        failures.push(format!("after Ctrl-C, container left: {c}"));
    }
    // Then a kill -9 mid-run, with another job's container started on a task
    // image meanwhile: the CLI dies with the harness, and the rerun removes
    // what carries our labels (one made just before the kill too), not it.
    let since = unix_now();
    let foreign = format!("xtask-e2e-foreign-{}", std::process::id());
    let handle = sc.seeds(cli, &["--seeds", "1"], &[]).start()?;
    let before_kill = results_in(&sc.cb, RUNS[1]);
    let deadline = Instant::now() + Duration::from_secs(300);
    while labelled_containers(&cli.docker).is_empty() {
        if handle.try_wait()?.is_some() || Instant::now() > deadline {
            failures.push("the second seeds ended (or hung) before a container of ours appeared".into());
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let image = crate::edges::docker::task_image(world::TASKS[0].repo, world::TASKS[0].id);
    let planted = duct::cmd!(cli.docker.program(), "run", "-d", "--name", &foreign, &image, "sleep", "600")
        .stdout_null()
        .stderr_capture()
        .unchecked()
        .run()?;
    if !planted.status.success() {
        failures.push(format!("could not start the foreign container: {}", String::from_utf8_lossy(&planted.stderr)));
    }
    // SAFETY: kills the harness process this scenario started.
    unsafe { libc::kill(handle.pids()[0] as i32, libc::SIGKILL) };
    let _ = handle.wait();
    let gone = Instant::now() + Duration::from_secs(10);
    while !processes_in(&sc.dir).is_empty() && Instant::now() < gone {
        std::thread::sleep(Duration::from_millis(100));
    }
    for p in processes_in(&sc.dir) {
        failures.push(format!("after kill -9, process left: {p}"));
    }
    println!("ctrl-c: killed the harness (-9) with {} result(s) before it", before_kill);
    let rerun = sc.seeds(cli, &["--seeds", "1"], &[]).run()?;
    let second = text(&rerun);
    echo("seeds (resumed)", &second);
    let survived =
        crate::edges::docker::Docker::new(cli.docker.program()).containers()?.iter().any(|c| c.name == foreign);
    if !survived {
        failures.push(format!("{foreign}, another job's container started during our run, was removed"));
    }
    let _ = duct::cmd!(cli.docker.program(), "rm", "-f", &foreign).stdout_null().stderr_null().unchecked().run();
    failures.extend(unlabelled_creations(&cli.docker, since, &foreign));
    if rerun.status.code() != Some(0) {
        failures.push(format!("the rerun exited {:?}, expected 0", rerun.status.code()));
    }
    if results_in(&sc.cb, RUNS[1]) != world::pairs().len() {
        failures.push("the rerun did not finish every pair".into());
    }
    let conversations = world::conversations(&sc.stand_in.as_ref().map(|s| s.requests()).unwrap_or_default());
    for p in &done_before {
        let n = conversations.get(&p.to_string()).copied().unwrap_or(0);
        if n != 1 {
            failures.push(format!("{p} had a result before Ctrl-C and was paid for {n} times"));
        }
    }
    for c in settled_containers(&cli.docker) {
        failures.push(format!("after the rerun, container left: {c}"));
    }
    let summary = format!(
        "stopped with {} of {} done; the rerun paid none of them again",
        done_before.len(),
        world::pairs().len()
    );
    let events = sc.events();
    if !events.iter().any(|l| l.event == Event::Interrupted) {
        failures.push("the interrupted seeds recorded no `interrupted` event".into());
    }
    let cli_time = events::cli_seconds(&events);
    let wall = t.elapsed().as_secs_f64();
    sc.finish(keep);
    Ok(Outcome { failures, summary, wall, cli: cli_time })
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

/// A task whose image does not exist: the canary stops after one pair and
/// shows the CLI's own error.
fn image_missing(root: &Path, cli: &Cli, keep: bool) -> anyhow::Result<Outcome> {
    let all_solve = BTreeMap::new();
    let sc = Scenario::new(root, "image-missing", cli, Some(&all_solve))?;
    // A fourth task, `e2eabsent_task`, with features but no image, in a
    // subset of its own; it sorts first, so its pair is the canary.
    let ghost = sc.cb.join("dataset/e2eabsent_task/task9");
    for f in [1, 2] {
        let d = ghost.join(format!("feature{f}"));
        std::fs::create_dir_all(&d)?;
        std::fs::write(d.join("feature.md"), format!("[[task e2eabsent_task/9/f{f}]]\n\nNothing.\n"))?;
        std::fs::write(d.join("feature.patch"), "")?;
        std::fs::write(d.join("tests.patch"), "")?;
    }
    let doc = json!({"name": "ghost", "tasks": [{"repo": "e2eabsent_task", "task_id": 9, "pairs": [[1, 2]]},
        {"repo": "e2ecalc_task", "task_id": 1, "pairs": [[1, 2]]}]});
    std::fs::write(sc.cb.join("dataset/subsets/ghost.json"), serde_json::to_string_pretty(&doc)?)?;
    let exp = std::fs::read_to_string(&sc.experiment)?;
    let exp = exp.replace(&format!("expected_pairs = {}", world::pairs().len()), "expected_pairs = 2");
    std::fs::write(&sc.experiment, exp.replace(&format!("subset = \"{}\"", world::SUBSET), "subset = \"ghost\""))?;
    let t = Instant::now();
    let out = sc.seeds(cli, &["--seeds", "1"], &[]).run()?;
    let o = text(&out);
    echo("seeds (image missing)", &o);
    let mut failures = canary_stopped(&out, &sc, "e2eabsent_task/9/f1_f2");
    let image = crate::edges::docker::task_image("e2eabsent_task", 9);
    // The agent's own words: "Command '['docker', 'run', ..., 'akhatua/cooperbench-e2eabsent:task9', ...]'
    // returned non-zero exit status 125."
    let named = image.split(':').next().unwrap_or(&image).trim_start_matches("akhatua/").to_string();
    let said =
        sc.events().into_iter().any(|l| matches!(&l.event, Event::Canary { error: Some(e), .. } if e.contains(&named)));
    if !said {
        failures.push(format!("the canary's error does not carry the CLI's words about {image}"));
    }
    let spent = sc.stand_in.as_ref().map(|s| s.requests().len()).unwrap_or(0);
    if spent != 0 {
        failures.push(format!("the stand-in was asked {spent} times for a pair with no image"));
    }
    let cli_time = events::cli_seconds(&sc.events());
    let wall = t.elapsed().as_secs_f64();
    sc.finish(keep);
    Ok(Outcome {
        failures,
        summary: "the canary stopped after one pair, with the CLI's error".into(),
        wall,
        cli: cli_time,
    })
}

/// The model endpoint down: the canary stops, having spent one pair.
fn endpoint_down(root: &Path, cli: &Cli, keep: bool) -> anyhow::Result<Outcome> {
    let sc = Scenario::new(root, "endpoint-down", cli, None)?;
    let t = Instant::now();
    // One attempt instead of the agent's ten with back-off (CONTRACT.md).
    let out = sc.seeds(cli, &["--seeds", "1"], &[("MSWEA_MODEL_RETRY_STOP_AFTER_ATTEMPT", "1")]).run()?;
    let o = text(&out);
    echo("seeds (endpoint down)", &o);
    let mut failures = canary_stopped(&out, &sc, "e2ecalc_task/1/f1_f2");
    for c in settled_containers(&cli.docker) {
        failures.push(format!("container left: {c}"));
    }
    let cli_time = events::cli_seconds(&sc.events());
    let wall = t.elapsed().as_secs_f64();
    sc.finish(keep);
    Ok(Outcome { failures, summary: "the canary stopped after one pair".into(), wall, cli: cli_time })
}

/// Outcome classes, made by the real CLI: a pair whose stand-in answers
/// 429 once (retried, then passes) and one that answers 429 every time
/// (ends `infra_provider`), a pair whose pull request carries a generated
/// file too large for the grader (`eval_grader_limit` with the CLI's own
/// error, never re-evaluated), and a pair submitted with nothing changed
/// (`empty_patch`, never retried). The classes are read back through
/// `verify --json`, the conversations paid from the stand-in's log.
fn classes(root: &Path, cli: &Cli, keep: bool) -> anyhow::Result<Outcome> {
    const RETRIED: &str = "e2ecalc_task/1/f1_f3";
    const RATE_LIMITED: &str = "e2elist_task/3/f1_f2";
    const BIG: &str = "e2ecalc_task/1/f2_f3";
    const EMPTY: &str = "e2etext_task/2/f1_f2";
    // The agent's OpenAI client tries a request three times (its own two
    // retries), and each try starts a conversation at the stand-in: three
    // 429s end one attempt of the harness.
    let script: BTreeMap<String, Vec<&str>> = [
        (RETRIED, vec!["rate_limit"; 3].into_iter().chain(["solve"]).collect()),
        (RATE_LIMITED, vec!["rate_limit"; 9]),
        (BIG, vec!["big", "big"]),
        (EMPTY, vec!["empty", "empty"]),
    ]
    .into_iter()
    .map(|(p, b)| (p.to_string(), b))
    .collect();
    let sc = Scenario::new(root, "classes", cli, Some(&script))?;
    let t = Instant::now();
    // One attempt of the agent's own instead of ten with back-off.
    let out = sc.seeds(cli, &["--seeds", "1"], &[("MSWEA_MODEL_RETRY_STOP_AFTER_ATTEMPT", "1")]).run()?;
    echo("seeds (outcome classes)", &text(&out));
    let verify = sc.xtask(&["verify", "--json", "--runs", RUNS[1]], &[]).run()?;
    let mut failures = Vec::new();
    let v: Value = serde_json::from_slice(&verify.stdout).unwrap_or(Value::Null);
    let class_of = |pair: &str| -> Option<String> {
        v["runs"][0]["class_pairs"]
            .as_object()?
            .iter()
            .find(|(_, pairs)| pairs.as_array().is_some_and(|a| a.iter().any(|p| p == pair)))
            .map(|(c, _)| c.clone())
    };
    // Conversations the stand-in served (not refused with a 429): what was paid.
    let requests = sc.stand_in.as_ref().map(|s| s.requests()).unwrap_or_default();
    let served =
        |pair: &str| requests.iter().filter(|r| r["pair"] == pair && r["step"] == 0 && r["status"] == 200).count();
    let refused = |pair: &str| requests.iter().filter(|r| r["pair"] == pair && r["status"] == 429).count();
    let forced: Vec<String> = sc
        .events()
        .into_iter()
        .filter_map(|l| match l.event {
            Event::ForceEval { pair, .. } => Some(pair),
            _ => None,
        })
        .collect();
    // (pair, class, conversations served, 429s): a 429 pair retried once by
    // the harness (attempts = 2) is refused twice three times.
    for (pair, class, paid, limited) in [
        (RETRIED, "pass", 1, 3),
        (RATE_LIMITED, "infra_provider", 0, 6),
        (BIG, "eval_grader_limit", 1, 0),
        (EMPTY, "empty_patch", 1, 0),
    ] {
        let got = class_of(pair);
        if got.as_deref() != Some(class) {
            failures.push(format!("{pair}: class {got:?}, expected {class}"));
        }
        if served(pair) != paid || refused(pair) != limited {
            failures.push(format!(
                "{pair}: the stand-in served {} conversation(s) and refused {} request(s), expected {paid} and {limited}",
                served(pair),
                refused(pair)
            ));
        }
    }
    if forced.iter().any(|p| p == BIG) {
        failures.push(format!("{BIG}: re-evaluated, though no eval can take its patch"));
    }
    let eval = std::fs::read_to_string(sc.cb.join("logs").join(RUNS[1]).join("solo").join(BIG).join("eval.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok());
    let error = eval.as_ref().and_then(|e| e["error"].as_str()).unwrap_or("");
    if error != "Failed to write solo.patch: " {
        failures.push(format!("{BIG}: the real CLI's eval error is {error:?}, not \"Failed to write solo.patch: \""));
    }
    let result =
        std::fs::read_to_string(sc.cb.join("logs").join(RUNS[1]).join("solo").join(RATE_LIMITED).join("result.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok());
    let said = result.as_ref().and_then(|r| r["agent"]["error"].as_str()).unwrap_or("").to_string();
    println!("outcome classes: the real CLI's error for a 429: {}", crate::study::class::cut(&said, 160));
    let triage = sc.xtask(&["triage", RUNS[1]], &[]).run()?;
    echo("triage", &text(&triage));
    if !text(&triage).contains("eval_grader_limit") {
        failures.push("triage does not name the eval_grader_limit pair".into());
    }
    for c in settled_containers(&cli.docker) {
        failures.push(format!("container left: {c}"));
    }
    let cli_time = events::cli_seconds(&sc.events());
    let wall = t.elapsed().as_secs_f64();
    sc.finish(keep);
    Ok(Outcome {
        failures,
        summary: "429 retried then passed / kept failing, grader limit, empty patch".into(),
        wall,
        cli: cli_time,
    })
}

/// `cargo xtask oracle` on the real CLI: every gold patch of the world
/// passes (one task through its combined.patch, the others through their
/// features' patches); then the subset with the broken task names its pair
/// and evaluates nothing twice; then `seeds` with `require_oracle = true`
/// refuses before the canary, having spent nothing.
fn oracle(root: &Path, cli: &Cli, keep: bool) -> anyhow::Result<Outcome> {
    const BROKEN: &str = "e2ebroken_task/4/f1_f2";
    let sc = Scenario::new(root, "oracle", cli, None)?;
    let t = Instant::now();
    let bin = cli.bin.display().to_string();
    let out_dir = sc.dir.join("results");
    let od = out_dir.display().to_string();
    let mut failures = Vec::new();
    let first = sc.xtask(&["oracle", "--cooperbench-bin", &bin, "--out", &od], &[]).run()?;
    echo("oracle", &text(&first));
    if first.status.code() != Some(0) {
        failures.push(format!("oracle on subset e2e exited {:?}, expected 0", first.status.code()));
    }
    let csv = std::fs::read_to_string(out_dir.join("oracle.csv")).unwrap_or_default();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    if rows.len() != world::pairs().len() || !rows.iter().all(|r| r.contains(",pass,true,")) {
        failures.push(format!("oracle.csv does not have every e2e pair passing:\n{csv}"));
    }
    if rows.iter().any(|r| r.split(',').nth(5).is_none_or(|s| s.parse::<f64>().is_err())) {
        failures.push(format!("oracle.csv lacks an eval time:\n{csv}"));
    }
    let run = crate::study::oracle::run_name(RUNS[0]);
    let times =
        || std::fs::read_to_string(crate::edges::layout::eval_times(&sc.cb, &run)).unwrap_or_default().lines().count();
    let evaluated = times();

    let second =
        sc.xtask(&["oracle", "--cooperbench-bin", &bin, "--out", &od, "--subset", world::ORACLE_SUBSET], &[]).run()?;
    echo("oracle (with the broken task)", &text(&second));
    if second.status.code() != Some(1) || !text(&second).contains(&format!("{BROKEN} fail")) {
        failures.push(format!("the oracle did not name {BROKEN} as failing (exit {:?})", second.status.code()));
    }
    if times() != evaluated + 1 {
        failures.push(format!("the second oracle evaluated {} pair(s), expected only {BROKEN}", times() - evaluated));
    }

    // The experiment as a careful user sets it: the oracle is required.
    // (`--subset` sets aside the file's expected_pairs, which are e2e's.)
    let text_of = std::fs::read_to_string(&sc.experiment)?;
    let strict: String = text_of
        .lines()
        .map(|l| if l.starts_with("attempts") { format!("{l}\nrequire_oracle = true") } else { l.to_string() })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&sc.experiment, strict + "\n")?;
    let seeds = sc.seeds(cli, &["--subset", world::ORACLE_SUBSET], &[]).run()?;
    let said = text(&seeds);
    echo("seeds with require_oracle", &said);
    if seeds.status.success() || !said.contains(&format!("does not pass on 1 of 7 pairs: {BROKEN}")) {
        failures.push(format!("seeds with require_oracle did not refuse naming {BROKEN}"));
    }
    if !said.contains("nothing was spent") || sc.cb.join("logs/e2e-solo-seed1").exists() {
        failures.push("seeds with require_oracle started a seed".into());
    }
    for c in settled_containers(&cli.docker) {
        failures.push(format!("container left: {c}"));
    }
    let wall = t.elapsed().as_secs_f64();
    sc.finish(keep);
    Ok(Outcome {
        failures,
        summary: "gold patches pass; a broken test named; seeds refused with require_oracle".into(),
        wall,
        cli: 0.0,
    })
}

/// The two models of the study scenario, as litellm prices them, and what
/// the stand-in does for each one's two seeds (entry n is seed n).
pub const STUDY_MODELS: [&str; 2] = ["openai/gpt-4o-mini", "openai/gpt-4o"];

pub fn study_scripts() -> [BTreeMap<String, Vec<&'static str>>; 2] {
    let of = |v: [(&str, [&'static str; 2]); 6]| v.into_iter().map(|(p, b)| (p.to_string(), b.to_vec())).collect();
    [
        of([
            ("e2ecalc_task/1/f1_f2", ["solve", "solve"]),
            ("e2ecalc_task/1/f1_f3", ["half", "solve"]),
            ("e2ecalc_task/1/f2_f3", ["half", "half"]),
            ("e2etext_task/2/f1_f2", ["solve", "half"]),
            ("e2elist_task/3/f1_f2", ["solve", "solve"]),
            ("e2elist_task/3/f1_f3", ["half", "half"]),
        ]),
        of([
            ("e2ecalc_task/1/f1_f2", ["solve", "solve"]),
            ("e2ecalc_task/1/f1_f3", ["solve", "solve"]),
            ("e2ecalc_task/1/f2_f3", ["half", "solve"]),
            ("e2etext_task/2/f1_f2", ["half", "half"]),
            ("e2elist_task/3/f1_f2", ["half", "solve"]),
            ("e2elist_task/3/f1_f3", ["solve", "half"]),
        ]),
    ]
}

/// The pooled difficulty of each pair, by the paper's rule, from the
/// scripts alone: the mean over the two models of each one's failure rate
/// over its two seeds, as a fraction in lowest terms.
pub fn study_difficulty() -> BTreeMap<String, String> {
    let [a, b] = study_scripts();
    a.keys()
        .map(|pair| {
            let fails = |s: &BTreeMap<String, Vec<&str>>| s[pair].iter().filter(|x| **x != "solve").count() as u32;
            // (fa/2 + fb/2) / 2 = (fa + fb) / 4
            let crate::study::difficulty::Difficulty { failures, valid } =
                crate::study::difficulty::Difficulty::mean(&[
                    crate::study::difficulty::Difficulty { failures: fails(&a), valid: 2 },
                    crate::study::difficulty::Difficulty { failures: fails(&b), valid: 2 },
                ]);
            (pair.clone(), crate::study::difficulty::Difficulty { failures, valid }.fraction())
        })
        .collect()
}

/// A study of two models from one file, on the real CLI: two solo arms
/// (gpt-4o-mini and gpt-4o, two seeds each, each model its own script) and
/// a coop arm without messaging, through `cargo xtask study`; then
/// `report`'s pooled and per-model difficulty against the scripts'.
fn two_models(root: &Path, cli: &Cli, keep: bool) -> anyhow::Result<Outcome> {
    let [mini, big] = study_scripts();
    let doc = json!({
        "default": "solve",
        "models": {
            "gpt-4o-mini": {"default": "solve", "pairs": mini},
            "gpt-4o": {"default": "solve", "pairs": big},
        },
    });
    let sc = Scenario::with_script(root, "study", cli, Some(doc))?;
    let port = sc.stand_in.as_ref().map(|s| s.port).unwrap_or(9);
    let arm = |name: &str, model: &str, extra: &str| {
        format!(
            "\n[[arm]]\nname = \"{name}\"\nmodel = \"{model}\"\nagent = \"mini_swe_agent_v2\"\n{extra}\n[arm.model_kwargs]\napi_base = \"http://127.0.0.1:{port}/v1\"\n"
        )
    };
    let file = format!(
        "# Written by `cargo xtask e2e` (scenario study).\nname = \"e2e-study\"\ncooperbench_dir = \"{}\"\nsubset = \"{}\"\nexpected_pairs = {}\nrun_concurrency = 2\neval_concurrency = 2\nattempts = 2\n{}{}{}",
        sc.cb.display(),
        world::SUBSET,
        world::pairs().len(),
        arm("mini", STUDY_MODELS[0], "seeds = [1, 2]\nrun_name = \"mini-s{seed}\""),
        arm("big", STUDY_MODELS[1], "seeds = [1, 2]\nrun_name = \"big-s{seed}\""),
        arm("mini-coop", STUDY_MODELS[0], "setting = \"coop\"\nmessaging = false\nseeds = [1]\nrun_name = \"mini-coop-s{seed}\""),
    );
    std::fs::write(&sc.experiment, file)?;
    let t = Instant::now();
    let bin = cli.bin.display().to_string();
    let mut failures = Vec::new();

    let plan = sc.xtask(&["study", "--cooperbench-bin", &bin, "--dry-run"], &[]).run()?;
    echo("study --dry-run", &text(&plan));
    for want in
        ["study e2e-study", "mini-coop: coop, no messaging", "--setting coop --no-messaging", "-m openai/gpt-4o "]
    {
        if !text(&plan).contains(want) {
            failures.push(format!("study --dry-run does not say {want:?}"));
        }
    }
    println!("study: `cargo xtask study --yes`: two models x two seeds, and a coop seed (about four minutes)");
    let since = unix_now();
    let out = sc
        .xtask(&["study", "--cooperbench-bin", &bin, "--yes"], &[("MSWEA_MODEL_RETRY_STOP_AFTER_ATTEMPT", "1")])
        .run()?;
    echo("study", &text(&out));
    if out.status.code() != Some(0) {
        failures.push(format!("study exited {:?}, expected 0", out.status.code()));
    }
    let cli_time = events::cli_seconds(&sc.events());
    let report_dir = sc.dir.join("report");
    let report =
        sc.xtask(&["report", "--out", report_dir.to_str().unwrap_or("report"), "--bootstrap", "200"], &[]).run()?;
    echo("report", &text(&report));
    if report.status.code() != Some(0) {
        failures.push(format!("report exited {:?}, expected 0", report.status.code()));
    }

    // Each solo seed's outcome per pair is its model's script's.
    let read = |p: PathBuf| std::fs::read_to_string(p).ok().and_then(|t| serde_json::from_str::<Value>(&t).ok());
    for (model, script, prefix) in [(STUDY_MODELS[0], &mini, "mini-s"), (STUDY_MODELS[1], &big, "big-s")] {
        for seed in 0..2 {
            let run = format!("{prefix}{}", seed + 1);
            for (pair, plan) in script {
                let dir = sc.cb.join("logs").join(&run).join("solo").join(pair);
                let result = read(dir.join("result.json"));
                let said = result.as_ref().and_then(|r| r["model"].as_str().map(String::from));
                if said.as_deref() != Some(model) {
                    failures.push(format!("{run} {pair}: result.json says model {said:?}, expected {model}"));
                }
                let passed = read(dir.join("eval.json")).and_then(|e| e["both_passed"].as_bool());
                if passed != Some(plan[seed] == "solve") {
                    failures.push(format!("{run} {pair}: both_passed {passed:?}, the script says {}", plan[seed]));
                }
            }
        }
    }
    // The coop arm: two agents per pair, results and evals by the real CLI.
    let mut coop_passed = 0;
    for pair in world::pairs() {
        let dir = sc.cb.join("logs/mini-coop-s1/coop").join(pair.to_string());
        let result = read(dir.join("result.json"));
        if result.as_ref().and_then(|r| r["setting"].as_str()) != Some("coop") {
            failures.push(format!("mini-coop-s1 {pair}: no coop result.json"));
        }
        match read(dir.join("eval.json")).and_then(|e| e["both_passed"].as_bool()) {
            Some(p) => coop_passed += usize::from(p),
            None => failures.push(format!("mini-coop-s1 {pair}: no graded eval.json")),
        }
    }
    // The stand-in answered both models.
    if let Some(s) = &sc.stand_in {
        let models: std::collections::BTreeSet<String> =
            s.requests().iter().filter_map(|r| r["model"].as_str().map(String::from)).collect();
        for m in ["gpt-4o-mini", "gpt-4o"] {
            if !models.iter().any(|x| x.trim_start_matches("openai/") == m) {
                failures.push(format!("the stand-in never answered {m} (it saw {models:?})"));
            }
        }
    }
    // The pooled difficulty is the scripts', worked by the paper's rule.
    let csv = std::fs::read_to_string(report_dir.join("difficulty.csv")).unwrap_or_default();
    let mut rdr = csv::Reader::from_reader(csv.as_bytes());
    let cols =
        rdr.headers().ok().map(|h| (h.iter().position(|c| c == "pair"), h.iter().position(|c| c == "difficulty")));
    let got: BTreeMap<String, String> = match cols {
        Some((Some(p), Some(d))) => {
            rdr.records().flatten().filter_map(|r| Some((r.get(p)?.to_string(), r.get(d)?.to_string()))).collect()
        }
        _ => BTreeMap::new(),
    };
    let want = study_difficulty();
    if got != want {
        failures.push(format!("pooled difficulty {got:?}, the scripts give {want:?}"));
    }
    let fig = read(report_dir.join("fig4.json")).unwrap_or(Value::Null);
    let per: Vec<String> = fig["per_model"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
    if per != ["openai/gpt-4o", "openai/gpt-4o-mini"] {
        failures.push(format!("fig4.json per_model holds {per:?}, expected both models"));
    }
    if fig["per_model"]["openai/gpt-4o-mini"]["policy"]["coop_runs"] != json!(["mini-coop-s1"]) {
        failures.push("the coop run is not gpt-4o-mini's coop curve in per_model".into());
    }
    if fig["paired_difference"]["mini-coop-s1"]
        != fig["per_model"]["openai/gpt-4o-mini"]["paired_difference"]["mini-coop-s1"]
    {
        failures.push("the pooled figure compares the coop run with other models' solo seeds".into());
    }
    for f in ["fig4-openai-gpt-4o.svg", "fig4-openai-gpt-4o-mini.svg"] {
        if !report_dir.join(f).is_file() {
            failures.push(format!("report wrote no {f}"));
        }
    }
    failures.extend(unlabelled_creations(&cli.docker, since, ""));
    for c in settled_containers(&cli.docker) {
        failures.push(format!("container left: {c}"));
    }
    for f in key_in_files(&sc.dir, &sc.key) {
        failures.push(format!("the key is in {f}"));
    }
    let wall = t.elapsed().as_secs_f64();
    let summary = format!(
        "2 models x 2 seeds + a coop seed (no messaging): pooled difficulties {:?}; coop passed {coop_passed}/{}",
        want.values().collect::<std::collections::BTreeSet<_>>(),
        world::pairs().len()
    );
    sc.finish(keep);
    Ok(Outcome { failures, summary, wall, cli: cli_time })
}

/// What the stand-in does on the Modal scenario: the same for every
/// conversation of a pair, so that a pair cut short by kill -9 and redone
/// ends as the script says. Seeds pass all but two pairs.
pub fn modal_script() -> BTreeMap<String, Vec<&'static str>> {
    world::pairs()
        .into_iter()
        .map(|p| {
            let p = p.to_string();
            let b = if p == "e2ecalc_task/1/f1_f3" || p == "e2etext_task/2/f1_f2" { "half" } else { "solve" };
            (p, vec![b; 8])
        })
        .collect()
}

/// The running sandboxes the Modal double holds in one environment.
fn sandboxes_in(docker: &crate::edges::docker::Docker, env: &str) -> Vec<String> {
    duct::cmd!(docker.program(), "ps", "-q", "--filter", format!("label=modal-double.environment={env}"))
        .stdout_capture()
        .stderr_null()
        .unchecked()
        .read()
        .unwrap_or_default()
        .split_whitespace()
        .map(String::from)
        .collect()
}

/// Waits (up to 5 minutes) for a sandbox in `env` while `handle` runs:
/// whether one appeared before it ended.
fn sandbox_appears(handle: &duct::Handle, docker: &crate::edges::docker::Docker, env: &str) -> anyhow::Result<bool> {
    let deadline = Instant::now() + Duration::from_secs(300);
    while sandboxes_in(docker, env).is_empty() {
        if handle.try_wait()?.is_some() || Instant::now() > deadline {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(true)
}

/// Seeds on Modal, on the real CLI's Modal code, with a test double of the
/// `modal` client backed by Docker (fixtures/modal-double; first on the
/// CLI's PYTHONPATH here only): each seed run in a Modal environment of its
/// own; a kill -9 of the harness mid-seed leaves sandboxes that the next
/// `seeds` terminates, in that seed's environment only (another
/// environment's sandbox, made before, survives); Ctrl-C terminates them at
/// once; the outcomes are the script's.
fn modal(root: &Path, cli: &Cli, keep: bool) -> anyhow::Result<Outcome> {
    let script = modal_script();
    let sc = Scenario::new(root, "modal", cli, Some(&script))?;
    // One solo arm on Modal, with no baseline: the scenario stands alone.
    let port = sc.stand_in.as_ref().map(|s| s.port).unwrap_or(9);
    std::fs::write(
        &sc.experiment,
        format!(
            "# Written by `cargo xtask e2e` (scenario modal).\nname = \"e2e\"\ncooperbench_dir = \"{}\"\nsubset = \"{}\"\nexpected_pairs = {}\nrun_concurrency = 2\neval_concurrency = 2\nattempts = 2\n\n[[arm]]\nname = \"e2e-solo\"\nmodel = \"openai/gpt-4o-mini\"\nagent = \"mini_swe_agent_v2\"\nbackend = \"modal\"\nseeds = [1, 2]\nrun_name = \"e2e-solo-seed{{seed}}\"\n[arm.model_kwargs]\napi_base = \"http://127.0.0.1:{port}/v1\"\n",
            sc.cb.display(),
            world::SUBSET,
            world::pairs().len()
        ),
    )?;
    let double = crate::edges::layout::project_root().join("fixtures/modal-double");
    let state = sc.dir.join("modal-state");
    let token = format!("as-e2e-modal-secret-{:08x}", std::process::id() ^ 0x0dd_ba11);
    let (d, st) = (double.display().to_string(), state.display().to_string());
    let env: Vec<(&str, &str)> = vec![
        ("PYTHONPATH", d.as_str()),
        ("MODAL_DOUBLE_STATE", st.as_str()),
        ("MODAL_TOKEN_ID", "ak-e2e-modal-double"),
        ("MODAL_TOKEN_SECRET", token.as_str()),
        ("MSWEA_MODEL_RETRY_STOP_AFTER_ATTEMPT", "1"),
    ];
    let t = Instant::now();
    let mut failures = Vec::new();
    let environment = |run: &str| crate::edges::modal::environment("e2e", run);
    let seed_env = [environment("e2e-solo-seed1"), environment("e2e-solo-seed2"), environment("e2e-solo-seed3")];

    // Another job's sandbox, in another environment, made before the seeds.
    let foreign_env = format!("e2e-foreign-{}", std::process::id());
    let image = crate::edges::docker::task_image(world::TASKS[0].repo, world::TASKS[0].id);
    let make_foreign = format!(
        "import modal\nfrom modal import environments\nenvironments.create_environment({foreign_env:?})\napp = modal.App.lookup('cooperbench', environment_name={foreign_env:?}, create_if_missing=True)\nsb = modal.Sandbox.create('sleep', 'infinity', image=modal.Image.from_registry({image:?}).entrypoint([]), timeout=900, app=app)\nprint(sb.object_id)\n"
    );
    let mut foreign = duct::cmd!(&cli.python, "-c", make_foreign).stderr_to_stdout().stdout_capture().unchecked();
    for (k, v) in &env {
        foreign = foreign.env(k, v);
    }
    let made = foreign.run()?;
    if !made.status.success() || sandboxes_in(&cli.docker, &foreign_env).len() != 1 {
        failures.push(format!("could not make the foreign sandbox: {}", text(&made)));
    }

    // kill -9 in the middle of seed 1, with a sandbox of it running.
    println!("modal: `seeds --yes` on the Modal double, killed (-9) once a sandbox of seed 1 runs");
    let handle = sc.seeds(cli, &[], &env).start()?;
    if !sandbox_appears(&handle, &cli.docker, &seed_env[0])? {
        failures.push("seeds ended (or hung) before a sandbox of seed 1 appeared".into());
    }
    // SAFETY: kills the harness process this scenario started.
    unsafe { libc::kill(handle.pids()[0] as i32, libc::SIGKILL) };
    let killed = handle.wait().map(text).unwrap_or_default();
    echo("seeds (killed)", &killed);
    let left = sandboxes_in(&cli.docker, &seed_env[0]);
    if left.is_empty() {
        failures.push("kill -9 left no sandbox of seed 1: the scenario proves nothing".into());
    }
    println!("modal: {} sandbox(es) of seed 1 left running by the killed harness", left.len());

    // As the refusal of a rerun says when a process of the killed CLI still
    // lingers (the double's `docker exec` client can, for a moment):
    // --stop-orphans ends it first.
    let rerun = sc.seeds(cli, &["--stop-orphans"], &env).run()?;
    let second = text(&rerun);
    echo("seeds (after kill -9)", &second);
    if rerun.status.code() != Some(0) {
        failures.push(format!("the rerun exited {:?}, expected 0", rerun.status.code()));
    }
    let ended_left: Vec<String> = sc
        .events()
        .into_iter()
        .filter_map(|l| match l.event {
            Event::ModalTerminated { run, when, sandboxes, .. }
                if run == "e2e-solo-seed1" && when == "left by an earlier seeds" =>
            {
                Some(sandboxes)
            }
            _ => None,
        })
        .flatten()
        .collect();
    if ended_left.is_empty() {
        failures.push("the rerun recorded no terminated sandbox left by the killed harness".into());
    }
    if sandboxes_in(&cli.docker, &foreign_env).len() != 1 {
        failures.push(format!("the foreign sandbox in environment {foreign_env} did not survive"));
    }
    for e in &seed_env[..2] {
        for sb in sandboxes_in(&cli.docker, e) {
            failures.push(format!("sandbox {sb} left running in {e}"));
        }
    }
    // The outcomes are the script's, read from the real CLI's files.
    for run in ["e2e-solo-seed1", "e2e-solo-seed2"] {
        for (pair, plan) in &script {
            let eval = std::fs::read_to_string(sc.cb.join("logs").join(run).join("solo").join(pair).join("eval.json"))
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok());
            let passed = eval.and_then(|e| e["both_passed"].as_bool());
            if passed != Some(plan[0] == "solve") {
                failures.push(format!("{run} {pair}: both_passed {passed:?}, the script says {}", plan[0]));
            }
        }
    }
    let sandbox_seconds: f64 = sc
        .events()
        .iter()
        .filter_map(|l| match &l.event {
            Event::SandboxTime { agent_seconds, .. } => Some(*agent_seconds),
            _ => None,
        })
        .sum();
    if sandbox_seconds <= 0.0 {
        failures.push("no agent sandbox time was recorded per invocation".into());
    }
    let manifest = std::fs::read_to_string(sc.cb.join("logs/e2e-solo-seed1").join(crate::edges::layout::MANIFEST))
        .unwrap_or_default();
    if !manifest.contains("\"backend\": \"modal\"") {
        failures.push("the seed's manifest does not record the modal backend".into());
    }

    // Ctrl-C in the middle of a third seed: its sandboxes end at once.
    let handle = sc.seeds(cli, &["--seeds", "3"], &env).start()?;
    if !sandbox_appears(&handle, &cli.docker, &seed_env[2])? {
        failures.push("seed 3 ended (or hung) before a sandbox appeared".into());
    }
    // SAFETY: signals the harness process this scenario started.
    unsafe { libc::kill(handle.pids()[0] as i32, libc::SIGINT) };
    let out = handle.wait()?.clone();
    echo("seeds --seeds 3 (Ctrl-C)", &text(&out));
    if out.status.code() != Some(crate::engine::job::INTERRUPTED) {
        failures.push(format!("the interrupted seeds exited {:?}, expected 130", out.status.code()));
    }
    for sb in sandboxes_in(&cli.docker, &seed_env[2]) {
        failures.push(format!("after Ctrl-C, sandbox {sb} still running in {}", seed_env[2]));
    }
    if sandboxes_in(&cli.docker, &foreign_env).len() != 1 {
        failures.push("Ctrl-C ended the foreign sandbox".into());
    }
    // Ours to remove: the foreign sandbox this scenario made.
    for sb in sandboxes_in(&cli.docker, &foreign_env) {
        let _ = duct::cmd!(cli.docker.program(), "rm", "-f", sb).stdout_null().stderr_null().unchecked().run();
    }
    for f in key_in_files(&sc.dir, &token) {
        failures.push(format!("the Modal token secret is in {f}"));
    }
    for (what, o) in [("killed", &killed), ("rerun", &second), ("ctrl-c", &text(&out))] {
        if o.contains(&token) {
            failures.push(format!("the Modal token secret is in the output of seeds ({what})"));
        }
    }
    for c in settled_containers(&cli.docker) {
        failures.push(format!("container left: {c}"));
    }
    let cli_time = events::cli_seconds(&sc.events());
    let wall = t.elapsed().as_secs_f64();
    let summary = format!(
        "two seeds on the Modal double ({sandbox_seconds:.0} s of agent sandbox time recorded); kill -9 left {} sandbox(es), the rerun ended {} (its environment only); Ctrl-C ended seed 3's at once",
        left.len(),
        ended_left.len()
    );
    sc.finish(keep);
    Ok(Outcome { failures, summary, wall, cli: cli_time })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_study_scripts_give_the_difficulties_worked_by_hand() {
        let d = study_difficulty();
        // calc f1_f3: mini fails 1 of 2, big 0 of 2: (1/2 + 0) / 2 = 1/4.
        assert_eq!(d["e2ecalc_task/1/f1_f3"], "1/4");
        // calc f2_f3: mini 2/2, big 1/2: (1 + 1/2) / 2 = 3/4.
        assert_eq!(d["e2ecalc_task/1/f2_f3"], "3/4");
        assert_eq!(d["e2ecalc_task/1/f1_f2"], "0/1");
        assert_eq!(d["e2etext_task/2/f1_f2"], "3/4");
        assert_eq!(d["e2elist_task/3/f1_f2"], "1/4");
        assert_eq!(d["e2elist_task/3/f1_f3"], "3/4");
    }

    #[test]
    fn the_script_gives_four_difficulties_and_one_retry() {
        let e = expected(&script(), RUNS.len());
        assert_eq!(e["e2ecalc_task/1/f1_f3"], (vec![Expected::Fail, Expected::Pass, Expected::Fail], 6));
        assert_eq!(e["e2etext_task/2/f1_f2"], (vec![Expected::Pass, Expected::Limits, Expected::Pass], 3));
        let d: std::collections::BTreeSet<usize> =
            e.values().map(|(o, _)| o.iter().filter(|x| **x != Expected::Pass).count()).collect();
        assert_eq!(d, [0, 1, 2, 3].into(), "difficulty 0, 1/3, 2/3 and 1");
        // The baseline (no retry there) never starts with an HTTP error.
        assert!(script().values().all(|plan| plan[0] != "http_error" && plan[0] != "rate_limit"));
    }

    fn good() -> (BTreeMap<String, (Vec<Expected>, usize)>, Observed) {
        let mut e = BTreeMap::new();
        e.insert("r_task/1/f1_f2".to_string(), (vec![Expected::Pass, Expected::Fail], 2));
        let mut o = Observed::default();
        for (i, passed) in [(0, true), (1, false)] {
            o.pairs.insert(
                (i, "r_task/1/f1_f2".into()),
                PairSeen {
                    status: Some("Submitted".into()),
                    both_passed: Some(passed),
                    eval_error: None,
                    tests_ran: true,
                    real_cli: true,
                },
            );
        }
        o.conversations.insert("r_task/1/f1_f2".into(), 2);
        o.requests.push(("/v1/chat/completions".into(), "gpt-4o-mini".into(), vec!["Authorization".into()]));
        o.exit_codes.push(("seeds".into(), Some(0)));
        (e, o)
    }

    #[test]
    fn the_checker_passes_what_matches() {
        let (e, o) = good();
        assert_eq!(check(&e, &o, "openai/gpt-4o-mini"), Vec::<String>::new());
    }

    type Breakage = Box<dyn Fn(&mut Observed)>;

    /// Each misbehaviour of the harness or the CLI is caught, and named.
    #[test]
    fn the_checker_fails_what_does_not() {
        let (e, good) = good();
        let cases: Vec<(Breakage, &str)> = vec![
            (
                Box::new(|o| o.pairs.get_mut(&(1, "r_task/1/f1_f2".into())).unwrap().both_passed = Some(true)),
                "expected Fail",
            ),
            (
                Box::new(|o| *o.conversations.get_mut("r_task/1/f1_f2").unwrap() = 3),
                "had 3 conversation(s), the script pays for 2",
            ),
            (Box::new(|o| o.requests.clear()), "received no request"),
            (Box::new(|o| o.requests[0].2.clear()), "without an Authorization header"),
            (
                Box::new(|o| o.key_seen_in.push("x/agent-config.yaml".into())),
                "the key is written in x/agent-config.yaml",
            ),
            (Box::new(|o| o.containers_left.push("abc minisweagent-1".into())), "container left"),
            (Box::new(|o| o.processes_left.push("pid 7: cooperbench run".into())), "process left"),
            (
                Box::new(|o| o.pairs.get_mut(&(0, "r_task/1/f1_f2".into())).unwrap().real_cli = false),
                "not written by the real CLI",
            ),
            (
                Box::new(|o| o.pairs.get_mut(&(0, "r_task/1/f1_f2".into())).unwrap().tests_ran = false),
                "no test run in a container",
            ),
            (
                Box::new(|o| {
                    o.pairs.remove(&(1, "r_task/1/f1_f2".into()));
                }),
                "seed 2: r_task/1/f1_f2: no result.json",
            ),
            (Box::new(|o| o.exit_codes[0].1 = Some(1)), "`seeds` exited Some(1)"),
        ];
        for (break_it, says) in cases {
            let mut o = good.clone();
            break_it(&mut o);
            let failures = check(&e, &o, "openai/gpt-4o-mini");
            assert!(failures.iter().any(|f| f.contains(says)), "{says:?} not in {failures:?}");
        }
    }

    #[test]
    fn the_seeds_steps_are_read_from_the_events() {
        let line = |event| Line { at: "2026-12-04T10:00:00".into(), event };
        let calc = || "e2ecalc_task/1/f1_f2".to_string();
        let mut all = vec![
            line(Event::Canary {
                run: RUNS[1].into(),
                pair: calc(),
                status: Some("Submitted".into()),
                error: None,
                cost: Some(0.0),
            }),
            line(Event::Run { run: RUNS[1].into(), attempt: 2, pairs: 1 }),
            line(Event::ForceEval { run: RUNS[1].into(), pair: calc() }),
            line(Event::SummaryRewritten { run: RUNS[1].into() }),
            line(Event::Verify { ok: true, failures: 0, warnings: 0 }),
        ];
        assert_eq!(steps_missing(&all), Vec::<String>::new());
        all.remove(1);
        all[0].event =
            Event::Canary { run: RUNS[1].into(), pair: calc(), status: Some("Error".into()), error: None, cost: None };
        assert_eq!(
            steps_missing(&all),
            [
                "the canary did not happen (no such event in events.jsonl)",
                "the retry of the Error pair did not happen (no such event in events.jsonl)"
            ]
        );
    }
}

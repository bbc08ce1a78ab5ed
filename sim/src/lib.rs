//! A stand-in for the cooperbench CLI (`cooperbench-sim`), for tests and the
//! demo. It takes the same flags, writes the same layout and schemas, and
//! keeps the CLI's traps (see `shared/cooperbench/CONTRACT.md`): `Error` for
//! an unknown agent, skip-unless-Error on `run`, skip-if-eval.json on `eval`,
//! an `eval_summary.json` of the last invocation only, exit 0 on failures.
//!
//! Outcomes are a pure function of (run name, pair), so every run is
//! reproducible. Faults come from environment variables:
//!
//! | variable | effect |
//! |---|---|
//! | `COOPERBENCH_SIM_RUN_ERRORS=N` | the last N pairs (sorted) end `Error` on their first attempt in a run |
//! | `COOPERBENCH_SIM_EVAL_ERRORS=N` | the first N pairs' first eval writes an `error` into eval.json |
//! | `COOPERBENCH_SIM_EVAL_SKIPS=N` | the first N pairs' first eval writes nothing (container not created) |
//! | `COOPERBENCH_SIM_CRASH_AFTER=N` | the process dies after N pairs of this invocation |
//! | `COOPERBENCH_SIM_TRUNCATE_AFTER=N` | after N pairs, the next result.json is written half and the process dies |
//! | `COOPERBENCH_SIM_SLOW_MS=MS` | each pair takes MS milliseconds |
//! | `COOPERBENCH_SIM_LEAK_KEY=1` | prints `COHERE_API_KEY` in its output, as a careless library might, whole and wrapped over two lines with a colour code in it |
//! | `COOPERBENCH_SIM_LEAVE_CONTAINER=1` | the first pair of each `run` invocation leaves an agent container (`minisweagent-<8 hex>`, on the task's image), as a killed agent does |
//! | `COOPERBENCH_SIM_MISSING_IMAGES=repo_task/ID,..` | these tasks have no image: `run` ends their pairs `Error` with the agent's failed `docker run` (as 0.0.29 words it), `eval` writes no eval.json for them |
//! | `COOPERBENCH_SIM_BROKEN_TASKS=repo_task/ID,..` | these tasks' tests fail on their gold patch |
//! | `COOPERBENCH_SIM_DOCKER=PROGRAM` | the docker program for that container (default `docker`) |
//! | `COOPERBENCH_SIM_SHARED=PROGRAM` | a coop `run` on Docker brings up the CLI's shared infrastructure through this docker program, as 0.0.29 does: messaging pings `--redis` and, when nothing answers, creates `cooperbench-redis`; `--git` creates `cooperbench-git` unless `ps` lists it (record: `redis <run> <url> answered|created`, `git <run> created|reused`) |
//! | `COOPERBENCH_SIM_RECORD=FILE` | where the record of work done goes (default `<log-dir>/.sim-record.log`) |
//!
//! A Cohere model (`command-*`) without `COHERE_API_KEY` set ends every
//! pair `Error` with an authentication message, as litellm would.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

mod clock;
mod dataset;
mod shared;
mod transcript;

use clock::Timestamp;
use dataset::{load_subset, scan_dataset, select};
use shared::{leave_container, shared_infrastructure};
use transcript::trajectory;

/// The agents the CLI registers (CONTRACT.md "Agents"), written out here
/// and not taken from the harness: the double must not agree with the code
/// it checks by construction.
const AGENTS: [&str; 5] = ["mini_swe_agent_v2", "swe_agent", "openhands_sdk", "claude_code", "codex"];

/// `fA_fB` as the two numbers.
fn parse_folder(name: &str) -> Option<(u32, u32)> {
    let (x, y) = name.split_once('_')?;
    Some((x.strip_prefix('f')?.parse().ok()?, y.strip_prefix('f')?.parse().ok()?))
}

const HELP: &str = "Usage: cooperbench [OPTIONS] COMMAND [ARGS]...

  CooperBench: multi-agent coding benchmark (simulator).

Commands:
  run   Run benchmark tasks
  eval  Evaluate completed runs
";

#[derive(Debug, Default, Clone)]
struct Args {
    name: String,
    model: String,
    agent: String,
    subset: Option<String>,
    setting: String,
    backend: String,
    repo: Option<String>,
    task: Option<u64>,
    features: Option<(u32, u32)>,
    force: bool,
    dataset_dir: PathBuf,
    log_dir: PathBuf,
    concurrency: u32,
    /// `--redis` (the CLI's default when not given).
    redis: String,
    messaging: bool,
    git: bool,
}

/// One selected pair: features in the order the subset gives them.
#[derive(Debug, Clone)]
struct Job {
    repo: String,
    task_id: u64,
    features: (u32, u32),
}

impl Job {
    /// How the CLI's summaries name a pair: `repo/task/a,b`, subset order.
    fn label(&self) -> String {
        format!("{}/{}/{},{}", self.repo, self.task_id, self.features.0, self.features.1)
    }

    fn key(&self) -> String {
        let (a, b) = sorted(self.features);
        format!("{}/{}/f{a}_f{b}", self.repo, self.task_id)
    }
}

fn sorted((a, b): (u32, u32)) -> (u32, u32) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

/// The fault knobs, read from the environment by the binary and given
/// directly by in-process callers (fixtures), which must not touch env vars.
#[derive(Debug, Clone, Default)]
pub struct Knobs {
    pub run_errors: usize,
    pub eval_errors: usize,
    pub eval_skips: usize,
    pub crash_after: Option<usize>,
    pub truncate_after: Option<usize>,
    pub slow_ms: u64,
    pub record: Option<PathBuf>,
    /// `None`: do not check for an API key.
    pub api_key_present: Option<bool>,
    pub leak_key: Option<String>,
    /// The docker program, when each `run` invocation leaves a container.
    pub leave_container: Option<String>,
    /// The docker program a coop run's shared infrastructure goes through.
    pub shared: Option<String>,
    /// Tasks (`repo/task_id`) whose image is missing.
    pub missing_images: Vec<String>,
    /// Tasks (`repo/task_id`) whose tests fail on the gold patch.
    pub broken_tasks: Vec<String>,
}

impl Knobs {
    pub fn from_env() -> Knobs {
        let n = |name: &str| std::env::var(name).ok().and_then(|v| v.parse().ok());
        Knobs {
            run_errors: n("COOPERBENCH_SIM_RUN_ERRORS").unwrap_or(0),
            eval_errors: n("COOPERBENCH_SIM_EVAL_ERRORS").unwrap_or(0),
            eval_skips: n("COOPERBENCH_SIM_EVAL_SKIPS").unwrap_or(0),
            crash_after: n("COOPERBENCH_SIM_CRASH_AFTER"),
            truncate_after: n("COOPERBENCH_SIM_TRUNCATE_AFTER"),
            slow_ms: n("COOPERBENCH_SIM_SLOW_MS").unwrap_or(0) as u64,
            record: std::env::var_os("COOPERBENCH_SIM_RECORD").map(PathBuf::from),
            api_key_present: Some(std::env::var_os("COHERE_API_KEY").is_some_and(|v| !v.is_empty())),
            leak_key: std::env::var("COOPERBENCH_SIM_LEAK_KEY").ok().and(std::env::var("COHERE_API_KEY").ok()),
            missing_images: std::env::var("COOPERBENCH_SIM_MISSING_IMAGES")
                .map(|v| v.split(',').filter(|t| !t.is_empty()).map(String::from).collect())
                .unwrap_or_default(),
            broken_tasks: std::env::var("COOPERBENCH_SIM_BROKEN_TASKS")
                .map(|v| v.split(',').filter(|t| !t.is_empty()).map(String::from).collect())
                .unwrap_or_default(),
            shared: std::env::var("COOPERBENCH_SIM_SHARED").ok(),
            leave_container: std::env::var_os("COOPERBENCH_SIM_LEAVE_CONTAINER")
                .map(|_| std::env::var("COOPERBENCH_SIM_DOCKER").unwrap_or_else(|_| "docker".into())),
        }
    }
}

pub fn main(argv: Vec<String>) -> i32 {
    invoke(&argv, &Knobs::from_env())
}

pub fn invoke(argv: &[String], k: &Knobs) -> i32 {
    let Some(cmd) = argv.first().map(String::as_str) else {
        print!("{HELP}");
        return 0;
    };
    match cmd {
        "--help" | "-h" => {
            print!("{HELP}");
            0
        }
        // The real CLI has no --version (the harness asks its Python package
        // instead); the simulator answers this, marked as itself.
        "--version" => {
            println!("cooperbench-sim 0.0.29+sim");
            0
        }
        "run" | "eval" => match parse_args(cmd, &argv[1..]) {
            Ok(None) => 0,
            Ok(Some(args)) => {
                let result = if cmd == "run" { run(&args, k) } else { eval(&args, k) };
                match result {
                    Ok(()) => 0,
                    Err(e) => {
                        eprintln!("Error: {e}");
                        1
                    }
                }
            }
            Err(e) => {
                eprintln!("Usage: cooperbench {cmd} [OPTIONS]\nTry 'cooperbench {cmd} --help' for help.\n\nError: {e}");
                2
            }
        },
        other => {
            eprintln!("Error: No such command '{other}'.");
            2
        }
    }
}

fn parse_args(cmd: &str, argv: &[String]) -> Result<Option<Args>, String> {
    let mut a = Args {
        setting: "coop".into(),
        backend: "modal".into(),
        model: "gemini/gemini-3-flash-preview".into(),
        agent: "mini_swe_agent_v2".into(),
        dataset_dir: "dataset".into(),
        log_dir: "logs".into(),
        concurrency: 20,
        redis: "redis://localhost:6379".into(),
        messaging: true,
        ..Args::default()
    };
    let mut it = argv.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("Option '{flag}' requires an argument."));
        match flag.as_str() {
            "--help" | "-h" => {
                println!("Usage: cooperbench {cmd} [OPTIONS]");
                return Ok(None);
            }
            "-n" | "--name" => a.name = value()?,
            "-m" | "--model" if cmd == "run" => a.model = value()?,
            "-a" | "--agent" if cmd == "run" => a.agent = value()?,
            "-s" | "--subset" => a.subset = Some(value()?),
            "--setting" if cmd == "run" => a.setting = value()?,
            "--backend" => a.backend = value()?,
            "-c" | "--concurrency" => a.concurrency = value()?.parse().map_err(|_| "Invalid value for '-c'")?,
            "-r" | "--repo" => a.repo = Some(value()?),
            "-t" | "--task" => {
                let t: u64 = value()?.parse().map_err(|_| "Invalid value for '-t'")?;
                // The CLI treats 0 as "no filter".
                a.task = (t != 0).then_some(t);
            }
            "-f" | "--features" => {
                let v = value()?;
                let (x, y) = v.split_once(',').ok_or("features must be A,B")?;
                a.features =
                    Some((x.trim().parse().map_err(|_| "bad feature")?, y.trim().parse().map_err(|_| "bad feature")?));
            }
            "--force" => a.force = true,
            "--dataset-dir" => a.dataset_dir = value()?.into(),
            "--log-dir" => a.log_dir = value()?.into(),
            "--agent-config" if cmd == "run" => {
                let p = value()?;
                if !Path::new(&p).exists() {
                    return Err(format!("Agent config file not found: {p}"));
                }
            }
            "--redis" if cmd == "run" => a.redis = value()?,
            "--no-messaging" if cmd == "run" => a.messaging = false,
            "--git" if cmd == "run" => a.git = true,
            "--eval-concurrency" | "--base-url" | "--auth-token" if cmd == "run" => {
                value()?;
            }
            "--team-no-task-list"
            | "--team-no-scratchpad"
            | "--team-no-mcp"
            | "--team-no-auto-refresh"
            | "--team-no-protocol"
                if cmd == "run" => {}
            "--no-auto-eval" if cmd == "run" => {}
            other => return Err(format!("No such option: {other}")),
        }
    }
    if a.name.is_empty() {
        return Err("Missing option '-n' / '--name'.".into());
    }
    if !["docker", "modal", "gcp"].contains(&a.backend.as_str()) {
        return Err(format!("Invalid value for '--backend': '{}'", a.backend));
    }
    if !["solo", "coop", "team"].contains(&a.setting.as_str()) {
        return Err(format!("Invalid value for '--setting': '{}'", a.setting));
    }
    Ok(Some(a))
}

fn record_path(a: &Args, k: &Knobs) -> PathBuf {
    k.record.clone().unwrap_or_else(|| a.log_dir.join(".sim-record.log"))
}

/// The simulator's own record of the work it did, one line per pair.
fn record(a: &Args, k: &Knobs, kind: &str, key: &str) {
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(record_path(a, k)) {
        // One write per line: O_APPEND keeps lines whole across processes.
        let _ = f.write_all(format!("{kind} {} {key}\n", a.name).as_bytes());
    }
}

/// The task's image, named as the CLI names it (every `_task` dropped).
fn image_of(j: &Job) -> String {
    format!("akhatua/cooperbench-{}:task{}", j.repo.replace("_task", "").replace('_', "-"), j.task_id)
}

/// Python's json reads bare `NaN`, `Infinity` and `-Infinity`; serde_json
/// does not. Outside strings they become `null`, which is all the
/// simulator needs to read an old result as the CLI would.
fn python_json(text: &str) -> String {
    let (mut out, mut rest) = (String::with_capacity(text.len()), text);
    let (mut in_string, mut escaped) = (false, false);
    while let Some(c) = rest.chars().next() {
        if in_string {
            in_string = escaped || c != '"';
            escaped = !escaped && c == '\\';
        } else if c == '"' {
            in_string = true;
        } else if let Some(t) = ["-Infinity", "Infinity", "NaN"].iter().find(|t| rest.starts_with(**t)) {
            out.push_str("null");
            rest = &rest[t.len()..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// How often this kind of work was already done for the pair.
fn attempts_before(a: &Args, k: &Knobs, kind: &str, key: &str) -> usize {
    let line = format!("{kind} {} {key}", a.name);
    std::fs::read_to_string(record_path(a, k)).map(|t| t.lines().filter(|l| *l == line).count()).unwrap_or(0)
}

/// FNV-1a: stable across Rust versions, unlike the std hasher.
pub fn hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// Whether the agent's work on a pair passes both features' tests: each pair
/// has an ease of its own and each run a draw, so seeds agree often but not
/// always, giving difficulties across [0, 1].
/// Whether the patch holds the task's gold: its non-empty combined.patch,
/// or both features' non-empty feature.patch.
fn is_gold(dataset: &Path, j: &Job, patch: &Path) -> bool {
    let Ok(patch) = std::fs::read_to_string(patch) else { return false };
    let task = dataset.join(&j.repo).join(format!("task{}", j.task_id));
    let read = |p: PathBuf| std::fs::read_to_string(p).ok().filter(|t| !t.trim().is_empty());
    if let Some(c) = read(task.join("combined.patch")) {
        return patch == c;
    }
    [j.features.0, j.features.1]
        .iter()
        .all(|f| read(task.join(format!("feature{f}")).join("feature.patch")).is_some_and(|g| patch.contains(&g)))
}

pub fn passes(run: &str, key: &str) -> bool {
    let ease = hash(key) % 100;
    let draw = hash(&format!("{run}:{key}")) % 100;
    draw < ease.saturating_sub(20)
}

pub fn limits_exceeded(run: &str, key: &str) -> bool {
    hash(&format!("limits:{run}:{key}")).is_multiple_of(17)
}

pub fn cost_of(run: &str, key: &str) -> f64 {
    let cents = 8 + hash(&format!("cost:{run}:{key}")) % 40;
    cents as f64 / 100.0
}

fn pair_dir(a: &Args, setting: &str, j: &Job) -> PathBuf {
    let (x, y) = sorted(j.features);
    a.log_dir.join(&a.name).join(setting).join(&j.repo).join(j.task_id.to_string()).join(format!("f{x}_f{y}"))
}

fn write_json(path: &Path, v: &Value) -> std::io::Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(v).unwrap_or_default())
}

fn run(a: &Args, k: &Knobs) -> Result<(), String> {
    let jobs = select(a)?;
    // Faults pick pairs by rank in the whole selection source, so a one-pair
    // canary sees the same pair ranks as the full run.
    let mut order: Vec<String> = match &a.subset {
        Some(s) => load_subset(a, s)?.iter().map(Job::key).collect(),
        None => scan_dataset(a).iter().map(Job::key).collect(),
    };
    order.sort();
    if jobs.is_empty() {
        println!("no tasks found");
        return Ok(());
    }
    println!();
    println!("cooperbench {} ({})", a.name, a.setting);
    println!("tasks: {} concurrency: {}", jobs.len(), a.concurrency);
    println!("agent: {}", a.agent);
    println!("model: {}", a.model);
    if let Some(key) = &k.leak_key {
        println!("litellm: using api_key={key}");
        // As rich prints it on a pipe: wrapped at a column, a colour change
        // in the middle.
        let half = key.len() / 2;
        println!("AuthenticationError: \x1b[1m{}\x1b[0m", &key[..half]);
        println!("{} is not valid", &key[half..]);
    }
    println!();
    let run_dir = a.log_dir.join(&a.name);
    std::fs::create_dir_all(&run_dir).map_err(|e| e.to_string())?;
    let started = Timestamp::now();
    write_json(
        &run_dir.join("config.json"),
        &json!({"run_name": a.name, "agent_framework": a.agent, "model": a.model, "setting": a.setting,
                "concurrency": a.concurrency, "total_tasks": jobs.len(), "started_at": started.to_iso()}),
    )
    .map_err(|e| e.to_string())?;

    if let (Some(docker), "coop", "docker") = (&k.shared, a.setting.as_str(), a.backend.as_str()) {
        shared_infrastructure(a, k, docker);
    }
    let (crash_after, truncate_after, slow) = (k.crash_after, k.truncate_after, k.slow_ms);
    let (mut completed, mut skipped, mut failed, mut total_cost) = (0usize, 0usize, 0usize, 0.0f64);
    let mut results = Vec::new();
    let mut done_here = 0usize;
    for j in &jobs {
        let key = j.key();
        let dir = pair_dir(a, &a.setting, j);
        let result_file = dir.join("result.json");
        let label = format!("{}/{} [{},{}]", j.repo, j.task_id, j.features.0, j.features.1);
        if result_file.exists() && !a.force {
            // The real CLI json.load()s the old result and dies on a bad one;
            // Python's json reads NaN and the infinities, so this does too.
            let prev: Value =
                match std::fs::read_to_string(&result_file).map(|t| serde_json::from_str(&python_json(&t))) {
                    Ok(Ok(v)) => v,
                    _ => {
                        failed += 1;
                        println!("✗ failed {label}");
                        results.push(json!({"task": j.label(), "status": "failed", "cost": 0}));
                        continue;
                    }
                };
            let status = prev.pointer("/agent/status").or(prev.pointer("/agents/agent1/status"));
            if status.and_then(|s| s.as_str()) != Some("Error") {
                skipped += 1;
                let cost = prev["total_cost"].as_f64().unwrap_or(0.0);
                total_cost += cost;
                println!("→ done {label}");
                results.push(json!({"task": j.label(), "status": "skip", "cost": cost}));
                continue;
            }
        }
        if crash_after == Some(done_here) {
            eprintln!("Killed");
            std::process::exit(137);
        }
        if done_here == 0 {
            if let Some(docker) = &k.leave_container {
                leave_container(a, k, docker, j);
            }
        }
        let start = Timestamp::now();
        if slow > 0 {
            std::thread::sleep(std::time::Duration::from_millis(slow));
        }
        let first_attempt = attempts_before(a, k, "run", &key) == 0;
        let rank = order.iter().position(|x| x == &key).unwrap_or(0);
        let in_last = rank + k.run_errors >= order.len();
        let error = if !AGENTS.contains(&a.agent.as_str()) {
            let mut known = AGENTS.to_vec();
            known.sort();
            Some(format!("Unknown agent: '{}'. Available: {}", a.agent, known.join(", ")))
        } else if a.model.starts_with("command") && k.api_key_present == Some(false) {
            Some("litellm.AuthenticationError: CohereException - {\"message\":\"no api key supplied\"}".to_string())
        } else if k.missing_images.contains(&format!("{}/{}", j.repo, j.task_id)) {
            // What the real 0.0.29 records when the agent's container cannot start.
            let name = format!("minisweagent-{:08x}", hash(&format!("{}:{key}:{}", a.name, start.to_iso())) as u32);
            Some(format!(
                "Command '['docker', 'run', '-d', '--name', '{name}', '-w', '/workspace/repo', '--entrypoint', '/bin/bash', '--rm', '{}', '-c', 'sleep 2h']' returned non-zero exit status 125.",
                image_of(j)
            ))
        } else if first_attempt && in_last {
            Some("Container exited unexpectedly (simulated)".to_string())
        } else {
            None
        };
        let run_key = format!("{}:{key}", a.name);
        let (status, cost, steps) = match &error {
            Some(_) => ("Error", 0.0, 0),
            None if limits_exceeded(&a.name, &key) => ("LimitsExceeded", cost_of(&a.name, &key) * 3.0, 100),
            None => ("Submitted", cost_of(&a.name, &key), 10 + (hash(&run_key) % 60) as u32),
        };
        // A diff of the size real ones have (a few KiB): readers of the tree
        // (verify, its benchmark) meet what they would meet in a study.
        let patch = if error.is_none() {
            let n = hash(&run_key) % 1000;
            let mut p = String::from(
                "diff --git a/src/feature.py b/src/feature.py\nindex 3f2a1b0..9c8d7e6 100644\n--- a/src/feature.py\n+++ b/src/feature.py\n@@ -1,3 +1,40 @@\n",
            );
            for i in 0..40 {
                p += &format!("+    value_{i} = compute_feature_{n}(arguments, options, context)  # line {i}\n");
            }
            p
        } else {
            String::new()
        };
        let end = Timestamp::now().max(start.plus_micros(1));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let log_dir = dir.to_string_lossy().into_owned();
        let agent = |feature: Option<u32>| {
            let mut v = json!({"status": status, "cost": cost, "steps": steps, "input_tokens": steps * 900,
                "output_tokens": steps * 80, "cache_read_tokens": 0, "cache_write_tokens": 0,
                "patch_lines": patch.lines().count(), "error": error});
            if let Some(f) = feature {
                v["feature_id"] = json!(f);
            }
            v
        };
        let mut result = json!({"repo": j.repo, "task_id": j.task_id, "setting": a.setting,
            "run_id": format!("{:08x}", hash(&format!("id:{run_key}:{}", start.to_iso())) as u32), "run_name": a.name,
            "agent_framework": a.agent, "model": a.model, "started_at": start.to_iso(), "ended_at": end.to_iso(),
            "duration_seconds": end.seconds_since(start), "total_cost": cost * if a.setting == "solo" { 1.0 } else { 2.0 },
            "total_steps": steps, "log_dir": log_dir});
        if a.setting == "solo" {
            result["features"] = json!([j.features.0, j.features.1]);
            result["agent"] = agent(None);
            std::fs::write(dir.join("solo.patch"), &patch).map_err(|e| e.to_string())?;
            let messages = trajectory(status, error.is_some(), &patch, &[]);
            write_json(
                &dir.join("solo_traj.json"),
                &json!({"repo": j.repo, "task_id": j.task_id, "messages": messages}),
            )
            .map_err(|e| e.to_string())?;
        } else {
            let (x, y) = sorted(j.features);
            result["features"] = json!([x, y]);
            result["agents"] = json!({"agent1": agent(Some(x)), "agent2": agent(Some(y))});
            let sent = if error.is_some() { 0 } else { hash(&run_key) % 7 };
            result["messages_sent"] = json!(sent);
            // The agents take turns, agent x first; each message as the
            // agent's bash `send_message` (what runner/coop.py parses).
            let conversation: Vec<Value> = (0..sent)
                .map(|i| {
                    let (from, to) = if i % 2 == 0 { (x, y) } else { (y, x) };
                    json!({"from": format!("agent{from}"), "to": format!("agent{to}"),
                        "message": format!("I am editing src/feature.py lines {}-{}; please keep to your feature's part", 1 + 10 * i, 10 + 10 * i),
                        "timestamp": start.plus_micros(i as i64 + 1).to_iso(), "feature_id": from})
                })
                .collect();
            for f in [x, y] {
                std::fs::write(dir.join(format!("agent{f}.patch")), &patch).map_err(|e| e.to_string())?;
                let mine: Vec<&Value> =
                    conversation.iter().filter(|m| m["from"] == json!(format!("agent{f}"))).collect();
                let messages = trajectory(status, error.is_some(), &patch, &mine);
                write_json(&dir.join(format!("agent{f}_traj.json")), &json!({"messages": messages}))
                    .map_err(|e| e.to_string())?;
            }
            write_json(&dir.join("conversation.json"), &json!(conversation)).map_err(|e| e.to_string())?;
        }
        if truncate_after == Some(done_here) {
            let text = serde_json::to_string_pretty(&result).unwrap_or_default();
            let _ = std::fs::write(&result_file, &text[..text.len() / 2]);
            eprintln!("Killed");
            std::process::exit(137);
        }
        write_json(&result_file, &result).map_err(|e| e.to_string())?;
        record(a, k, "run", &key);
        done_here += 1;
        completed += 1;
        total_cost += result["total_cost"].as_f64().unwrap_or(0.0);
        println!("✓ done {label}");
        results.push(json!({"task": j.label(), "status": "done", "cost": result["total_cost"]}));
    }
    let session = Timestamp::now().seconds_since(started);
    write_json(
        &run_dir.join("summary.json"),
        &json!({"run_name": a.name, "completed_at": Timestamp::now().to_iso(), "pass_rate": null,
                "total_tasks": jobs.len(), "completed": completed, "skipped": skipped, "failed": failed,
                "total_cost": total_cost, "total_time_seconds": session, "results": results}),
    )
    .map_err(|e| e.to_string())?;
    // The real CLI prints its time totals over every result.json of the run
    // with int(): a NaN or infinite duration anywhere ends every later `run`
    // in a traceback, after the work and summary.json (0.0.29, observed).
    if let Some(bad) = nonfinite_duration(&run_dir.join(&a.setting)) {
        eprintln!("Traceback (most recent call last):");
        eprintln!("  File \"cooperbench/runner/core.py\", line 668, in fmt_time");
        return Err(format!("ValueError: cannot convert float {bad} to integer"));
    }
    println!();
    println!("completed: {completed} skipped: {skipped} failed: {failed} cost: ${total_cost:.2}");
    Ok(())
}

/// `NaN` or `infinity` when some result.json under `dir` has such a duration.
fn nonfinite_duration(dir: &Path) -> Option<&'static str> {
    let pattern = format!("{}/*/*/*/result.json", glob::Pattern::escape(&dir.to_string_lossy()));
    for path in glob::glob(&pattern).into_iter().flatten().flatten() {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let Some(at) = text.find("\"duration_seconds\"") else { continue };
        let value = text[at + 18..].trim_start_matches([':', ' ']);
        if value.starts_with("NaN") {
            return Some("NaN");
        }
        if value.starts_with("Infinity") || value.starts_with("-Infinity") {
            return Some("infinity");
        }
    }
    None
}

fn eval(a: &Args, k: &Knobs) -> Result<(), String> {
    // The CLI discovers runs from the logs; the subset filter narrows them.
    let wanted: Option<Vec<String>> = match &a.subset {
        Some(s) => Some(load_subset(a, s)?.iter().map(Job::key).collect()),
        None => None,
    };
    let mut found = Vec::new();
    for setting in ["solo", "coop"] {
        let base = a.log_dir.join(&a.name).join(setting);
        let pattern = format!("{}/*/*/*/result.json", glob::Pattern::escape(&base.to_string_lossy()));
        for path in glob::glob(&pattern).into_iter().flatten().flatten() {
            let dir = path.parent().unwrap().to_path_buf();
            let rel: Vec<String> =
                dir.strip_prefix(&base).unwrap().iter().map(|s| s.to_string_lossy().into_owned()).collect();
            let (Ok(task_id), Some((x, y))) = (rel[1].parse::<u64>(), parse_folder(&rel[2])) else {
                continue;
            };
            let j = Job { repo: rel[0].clone(), task_id, features: (x, y) };
            if a.repo.as_ref().is_some_and(|r| r != &j.repo) || a.task.is_some_and(|t| t != task_id) {
                continue;
            }
            if a.features.is_some_and(|f| sorted(f) != (x, y)) {
                continue;
            }
            if wanted.as_ref().is_some_and(|w| !w.contains(&j.key())) {
                continue;
            }
            found.push((setting, j, dir));
        }
    }
    if found.is_empty() {
        println!("no runs found to evaluate");
        return Ok(());
    }
    let total = found.len();
    if !a.force {
        found.retain(|(_, _, dir)| !dir.join("eval.json").exists());
        if total > found.len() {
            println!("skipping {} already evaluated", total - found.len());
        }
        if found.is_empty() {
            println!("all runs already evaluated");
            return Ok(());
        }
    }
    println!();
    println!("cooperbench eval {}", a.name);
    println!("runs: {}", found.len());
    println!("backend: {}", a.backend);
    println!();
    let (eval_errors, eval_skips, slow) = (k.eval_errors, k.eval_skips, k.slow_ms);
    let order = eval_order(a, &found);
    let (mut passed, mut failed, mut errors) = (0, 0, 0);
    let mut results = Vec::new();
    for (setting, j, dir) in &found {
        let key = j.key();
        let label = format!("{}/{} [{},{}]", j.repo, j.task_id, j.features.0, j.features.1);
        let rank = order.iter().position(|x| x == &key).unwrap_or(usize::MAX);
        let first = attempts_before(a, k, "eval", &key) == 0;
        if slow > 0 {
            std::thread::sleep(std::time::Duration::from_millis(slow));
        }
        record(a, k, "eval", &key);
        if k.missing_images.contains(&format!("{}/{}", j.repo, j.task_id)) {
            // The container cannot be created: no eval.json (CONTRACT.md).
            errors += 1;
            println!("✗ error {label} 500 Server Error for images/create?fromImage={} (simulated)", image_of(j));
            results.push(json!({"run": j.label(), "status": "error"}));
            continue;
        }
        if first && rank < eval_skips {
            errors += 1;
            println!("✗ error {label} Failed to create container (simulated)");
            results.push(json!({"run": j.label(), "status": "error"}));
            continue;
        }
        let result: Value = std::fs::read_to_string(dir.join("result.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null);
        let status = result
            .pointer("/agent/status")
            .or(result.pointer("/agents/agent1/status"))
            .and_then(|s| s.as_str())
            .unwrap_or("Error");
        let missing_tests = [j.features.0, j.features.1].into_iter().find_map(|f| {
            let p = format!("dataset/{}/task{}/feature{f}/tests.patch", j.repo, j.task_id);
            (!a.dataset_dir
                .join(&j.repo)
                .join(format!("task{}", j.task_id))
                .join(format!("feature{f}"))
                .join("tests.patch")
                .exists())
            .then(|| format!("Tests patch not found: {p}"))
        });
        let error = missing_tests
            .or_else(|| (first && rank < eval_errors).then(|| "Failed to write solo.patch (simulated)".to_string()));
        // A solo.patch that is the task's gold (its combined.patch, or both
        // features' feature.patch) passes, as the real tests would on it,
        // unless the task's tests are broken; any other patch draws.
        let gold = *setting == "solo" && is_gold(&a.dataset_dir, j, &dir.join("solo.patch"));
        let graded =
            if gold { !k.broken_tasks.contains(&format!("{}/{}", j.repo, j.task_id)) } else { passes(&a.name, &key) };
        let ok = error.is_none() && status == "Submitted" && graded;
        let f1 = ok || (error.is_none() && hash(&format!("f1:{}:{key}", a.name)).is_multiple_of(2));
        let (x, y) = sorted(j.features);
        let mut v = json!({"repo": j.repo, "task_id": j.task_id, "features": [x, y], "setting": setting, "merge": null,
            "feature1": {"passed": f1, "test_output": format!("{} passed", if f1 { 3 } else { 2 })},
            "feature2": {"passed": ok, "test_output": format!("{} passed", if ok { 3 } else { 1 })},
            "both_passed": ok, "error": error, "evaluated_at": Timestamp::now().to_iso()});
        if *setting == "coop" {
            v["apply_status"] = json!("applied");
            // Some failing pairs are ones whose two patches conflicted (a
            // share like the reproduction's: about half of the failures);
            // 0.0.29 tries the naive merge only (eval/sandbox.py).
            let conflicts = !ok && hash(&format!("merge:{}:{key}", a.name)).is_multiple_of(2);
            v["merge"] = if conflicts {
                json!({"status": "conflicts", "strategy": "naive", "diff": ""})
            } else {
                json!({"status": "clean", "strategy": "naive", "diff": ""})
            };
        }
        write_json(&dir.join("eval.json"), &v).map_err(|e| e.to_string())?;
        let st = if v["error"].is_string() {
            errors += 1;
            "error"
        } else if ok {
            passed += 1;
            "pass"
        } else {
            failed += 1;
            "fail"
        };
        println!(
            "{} {label}",
            match st {
                "pass" => "✓ pass",
                "fail" => "✗ fail",
                _ => "✗ error",
            }
        );
        results.push(json!({"run": j.label(), "status": st}));
    }
    let pass_rate = passed as f64 / ((passed + failed).max(1)) as f64;
    write_json(
        &a.log_dir.join(&a.name).join("eval_summary.json"),
        &json!({"run_name": a.name, "evaluated_at": Timestamp::now().to_iso(), "total_runs": found.len(),
                "passed": passed, "failed": failed, "errors": errors, "skipped": 0, "pass_rate": pass_rate,
                "results": results}),
    )
    .map_err(|e| e.to_string())?;
    println!();
    println!("passed: {passed} failed: {failed} errors: {errors}");
    Ok(())
}

/// Faults target "the first N pairs" of the run in sorted order, whatever
/// this invocation selected, so that a retry of one pair sees the same rank.
fn eval_order(a: &Args, found: &[(&str, Job, PathBuf)]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for setting in ["solo", "coop"] {
        let base = a.log_dir.join(&a.name).join(setting);
        let pattern = format!("{}/*/*/*/result.json", glob::Pattern::escape(&base.to_string_lossy()));
        for path in glob::glob(&pattern).into_iter().flatten().flatten() {
            let rel: Vec<String> = path
                .parent()
                .unwrap()
                .strip_prefix(&base)
                .unwrap()
                .iter()
                .map(|s| s.to_string_lossy().into_owned())
                .collect();
            keys.push(format!("{}/{}/{}", rel[0], rel[1], rel[2]));
        }
    }
    if keys.is_empty() {
        keys = found.iter().map(|(_, j, _)| j.key()).collect();
    }
    keys.sort();
    keys
}

//! `cargo xtask seeds`: runs and evaluates the extra solo seeds through the
//! real cooperbench CLI, in this order:
//!
//! 1. preflight: everything that can be checked for free;
//! 2. plan: per seed what is done and what is left, with a cost estimate
//!    (`--dry-run` stops here), then `--yes` or a yes at the prompt;
//! 3. per seed: a one-pair canary, the full run, re-runs of `Error` pairs;
//! 4. evals, a retry of missing ones, a forced retry of errored or stale
//!    ones, and a true `eval_summary.json`;
//! 5. `verify` over the baseline and the seeds: its exit status is ours.
//!
//! Ctrl-C (or SIGTERM, or `--timeout`) stops the CLI's whole process group,
//! removes the Docker containers cooperbench left, and prints how to resume.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use crate::cli::{self, Ended, Invocation};
use crate::difficulty::EvalErrors;
use crate::docker;
use crate::experiment::{Backend, CommonFlags, Experiment};
use crate::logs::{self, RunLogs};
use crate::manifest::{self, Manifest};
use crate::pair::PairId;
use crate::plan::{human_duration, Estimate, RunState};
use crate::quarantine;
use crate::result::AgentStatus;
use crate::secrets::Secrets;
use crate::subset::{self, Subset};
use crate::verify;

/// The agents the CLI registers (CONTRACT.md); anything else makes it write
/// an `Error` result per pair and exit 0.
pub const REGISTERED_AGENTS: [&str; 5] = ["mini_swe_agent_v2", "swe_agent", "openhands_sdk", "claude_code", "codex"];

/// Exit status after Ctrl-C or SIGTERM, as shells use.
pub const INTERRUPTED: i32 = 130;

#[derive(Debug, Clone, clap::Args)]
pub struct SeedsFlags {
    #[command(flatten)]
    pub common: CommonFlags,
    /// The cooperbench program [default: <checkout>/.venv/bin/cooperbench, else PATH]
    #[arg(long, value_name = "PATH")]
    pub cooperbench_bin: Option<PathBuf>,
    /// Seed numbers to run, e.g. 1,2
    #[arg(long, value_delimiter = ',', value_name = "N,..")]
    pub seeds: Option<Vec<u32>>,
    #[arg(long)]
    pub model: Option<String>,
    #[arg(long)]
    pub agent: Option<String>,
    #[arg(long, value_enum)]
    pub backend: Option<Backend>,
    /// CLI invocations per seed while Error results remain
    #[arg(long)]
    pub attempts: Option<u32>,
    /// Run the seeds at once (modal and gcp only; docker seeds share a host)
    #[arg(long)]
    pub parallel_seeds: bool,
    /// Evaluate the seeds one after another instead of at once
    #[arg(long)]
    pub serial_evals: bool,
    /// Stop before launching work that would take the spend past USD
    #[arg(long, value_name = "USD")]
    pub max_cost: Option<f64>,
    /// Per CLI invocation, in minutes: a hung child is stopped like Ctrl-C
    #[arg(long, value_name = "MINUTES")]
    pub timeout: Option<f64>,
    /// Print the plan and the exact commands; start nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Start without asking
    #[arg(long)]
    pub yes: bool,
    /// Let the CLI judge the agent name (a newer CLI may register more);
    /// the canary still stops an unknown one after one pair
    #[arg(long)]
    pub no_agent_check: bool,
}

/// Everything a seed needs, fixed after preflight.
struct Job {
    exp: Experiment,
    cb: PathBuf,
    program: PathBuf,
    subset: Subset,
    secrets: Secrets,
    agent_config: Option<PathBuf>,
    estimate: Option<Estimate>,
    timeout: Option<Duration>,
    max_cost: Option<f64>,
    /// Written beside each seed run before the CLI first touches it.
    manifest: Option<Manifest>,
}

pub fn run(flags: SeedsFlags) -> anyhow::Result<i32> {
    let mut exp = flags.common.load()?;
    if let Some(s) = &flags.seeds {
        exp.seeds = s.clone();
    }
    if let Some(m) = &flags.model {
        exp.model = m.clone();
    }
    if let Some(a) = &flags.agent {
        exp.agent = a.clone();
    }
    if let Some(b) = flags.backend {
        exp.backend = b;
    }
    if let Some(n) = flags.attempts {
        exp.attempts = n;
    }
    if let Some(t) = flags.timeout {
        exp.timeout_minutes = Some(t);
    }
    // Flags go through the same rules as the file: `--seeds 3,3` or
    // `--attempts 0` are refused whichever side they come from.
    exp.validate().map_err(|e| crate::usage(anyhow::anyhow!("after the flags: {e:#}")))?;
    if flags.parallel_seeds && exp.backend == Backend::Docker {
        return Err(crate::usage(anyhow::anyhow!(
            "--parallel-seeds is for modal and gcp: docker seeds share one host"
        )));
    }
    cli::interrupted();
    // Two `seeds` at once on one checkout would pay for every pair twice.
    let _lock = if flags.dry_run {
        None
    } else {
        Some(crate::lock::Lock::acquire(&exp.cooperbench_dir).map_err(crate::usage)?)
    };

    crate::say!("preflight");
    let (checks, job) = preflight(&flags, exp);
    for c in &checks {
        crate::say!(
            "  {} {}",
            if !c.ok {
                "FAIL"
            } else if c.warn {
                "warn"
            } else {
                "ok  "
            },
            c.line
        );
    }
    let Some(job) = job.filter(|_| checks.iter().all(|c| c.ok)) else {
        crate::say!("\npreflight failed: nothing was started, nothing was spent");
        return Ok(1);
    };

    let states = job.states();
    crate::say!("\nplan ({} seed(s), {} pairs each)", states.len(), job.subset.pairs.len());
    let mut to_run = 0;
    for (seed, st) in job.exp.seeds.iter().zip(&states) {
        crate::say!(
            "  seed {seed} ({}): {}; new {}, redo {}, done {}",
            st.run,
            st.headline(),
            st.new.len() + st.unreadable.len(),
            st.redo.len(),
            st.done
        );
        to_run += st.to_run();
    }
    match job.estimate {
        Some(e) => crate::say!(
            "  estimate: {to_run} pairs at ${:.3} and {} each (from {} pairs of {}): about ${:.2} and {} of agent time at -c {}",
            e.cost_per_pair,
            human_duration(e.seconds_per_pair),
            e.from_pairs,
            job.exp.baseline_run,
            e.cost(to_run),
            human_duration(e.seconds(to_run, job.exp.run_concurrency) ),
            job.exp.run_concurrency
        ),
        None => crate::say!("  estimate: unknown (the baseline run `{}` has no results)", job.exp.baseline_run),
    }
    crate::say!("\ncommands");
    for (seed, st) in job.exp.seeds.iter().zip(&states) {
        if let Some(pair) = canary_pair(st) {
            crate::say!("  seed {seed} canary: {}", cli::shell_line(&job.program, &job.run_args(&st.run, Some(pair))));
        }
        crate::say!("  seed {seed} run:    {}", cli::shell_line(&job.program, &job.run_args(&st.run, None)));
        crate::say!("  seed {seed} eval:   {}", cli::shell_line(&job.program, &job.eval_args(&st.run, None)));
    }
    crate::say!("  (run in {}; retries repeat the run; forced re-evals add -r -t -f --force)", job.cb.display());
    if flags.dry_run {
        crate::say!("\ndry run: nothing was started");
        return Ok(0);
    }
    if to_run > 0 && !flags.yes && !confirm(&job, to_run)? {
        crate::say!("not started");
        return Ok(1);
    }
    job.write_agent_config()?;

    let code = job.execute(flags.parallel_seeds, flags.serial_evals)?;
    if code == INTERRUPTED {
        return Ok(code);
    }
    crate::say!("\nverify");
    let report = verify::load_and_check(
        &job.cb,
        &job.subset.name,
        &job.exp.solo_runs(),
        EvalErrors::Exclude,
        false,
        crate::logs::DEFAULT_MAX_FILE_BYTES,
    )?;
    crate::say!("{}", verify::render_text(&report).trim_end());
    Ok(if code != 0 {
        code
    } else if report.ok {
        0
    } else {
        1
    })
}

struct Check {
    ok: bool,
    /// Passes, but the user should read it.
    warn: bool,
    line: String,
}

fn check(ok: bool, good: impl Into<String>, bad: impl Into<String>) -> Check {
    Check { ok, warn: false, line: if ok { good.into() } else { bad.into() } }
}

fn preflight(flags: &SeedsFlags, exp: Experiment) -> (Vec<Check>, Option<Job>) {
    let mut checks = Vec::new();
    let cb = exp.cooperbench_dir.clone();
    if let Err(e) = subset::require_dir(&cb) {
        checks.push(check(false, "", format!("{e:#}")));
        return (checks, None);
    }
    checks.push(check(true, format!("checkout {}", cb.display()), ""));

    let program = cli::find_program(flags.cooperbench_bin.as_deref(), &cb);
    let program = match program {
        None => {
            checks.push(check(
                false,
                "",
                "cooperbench not found: run `cargo xtask install-cooperbench`, or pass --cooperbench-bin",
            ));
            None
        }
        Some(p) => match cli::answers_help(&p) {
            Ok(()) => {
                checks.push(check(true, format!("cooperbench {} answers --help", p.display()), ""));
                Some(p)
            }
            Err(e) => {
                checks.push(check(false, "", format!("{e:#}; reinstall with `cargo xtask install-cooperbench`")));
                None
            }
        },
    };

    let subset = match Subset::load(&cb, &exp.subset) {
        Ok(s) => {
            let want = exp.expected_pairs;
            checks.push(check(
                want.is_none_or(|w| w == s.pairs.len()),
                format!("subset {}: {} tasks, {} pairs", s.name, s.tasks, s.pairs.len()),
                format!(
                    "subset {} has {} pairs, the experiment expects {}: check dataset/subsets/{}.json or expected_pairs",
                    s.name,
                    s.pairs.len(),
                    want.unwrap_or(0),
                    s.name
                ),
            ));
            Some(s)
        }
        Err(e) => {
            checks.push(check(false, "", format!("{e:#}")));
            None
        }
    };

    if exp.backend == Backend::Docker {
        checks.push(match docker::available() {
            Ok(v) => check(true, format!("docker engine {v} answers"), ""),
            Err(e) => check(false, "", format!("docker info failed ({e:#}): start Docker or choose another --backend")),
        });
    }

    let names = exp.secret_names();
    let secrets = Secrets::load(&cb, &names);
    if names.is_empty() {
        checks.push(check(
            true,
            format!("no API key known for model {} (set `secrets` if it needs one)", exp.model),
            "",
        ));
    }
    for name in &names {
        checks.push(check(
            secrets.is_set(name),
            format!("{name} is set"),
            format!("{name} is missing: export it, or put it in {}/.env", cb.display()),
        ));
    }

    let known = REGISTERED_AGENTS.contains(&exp.agent.as_str()) || flags.no_agent_check;
    let hint = if exp.agent == "mini_swe_agent" { "; use `mini_swe_agent_v2` (the old name was removed)" } else { "" };
    checks.push(check(
        known,
        if flags.no_agent_check {
            format!("agent {} not checked (--no-agent-check): the canary will tell", exp.agent)
        } else {
            format!("agent {} is registered", exp.agent)
        },
        format!(
            "agent `{}` is not registered by the CLI (it would write an Error per pair and exit 0){hint}; registered: {}",
            exp.agent,
            REGISTERED_AGENTS.join(", ")
        ),
    ));
    for key in crate::secrets::secret_looking_keys(&exp.model_kwargs) {
        checks.push(check(
            false,
            "",
            format!("model_kwargs.{key} looks like a secret: keys go in the environment, never in a file"),
        ));
    }
    for w in &secrets.warnings {
        checks.push(Check { ok: true, warn: true, line: w.clone() });
    }

    if let Some(subset) = &subset {
        for seed in &exp.seeds {
            let run = exp.seed_run(*seed);
            if run == exp.baseline_run {
                checks.push(check(
                    false,
                    "",
                    format!("seed {seed} run `{run}` is the baseline run: change seed_run_name"),
                ));
                continue;
            }
            let logs = RunLogs::load(&cb, &run);
            if !logs.exists {
                continue;
            }
            let mut mixed = Vec::new();
            if let Some(c) = &logs.config {
                if c.model.as_deref().is_some_and(|m| m != exp.model) {
                    mixed.push(format!("model {}", c.model.clone().unwrap_or_default()));
                }
                if c.agent_framework.as_deref().is_some_and(|a| a != exp.agent) {
                    mixed.push(format!("agent {}", c.agent_framework.clone().unwrap_or_default()));
                }
                if c.setting.as_deref().is_some_and(|s| s != "solo") {
                    mixed.push(format!("setting {}", c.setting.clone().unwrap_or_default()));
                }
            }
            for r in logs.pairs.values().filter_map(|p| p.result.as_ref()) {
                if r.model.as_deref().is_some_and(|m| m != exp.model) {
                    mixed.push(format!("results with model {}", r.model.clone().unwrap_or_default()));
                    break;
                }
            }
            let extra = logs.pairs.keys().filter(|p| !subset.contains(p)).count();
            if extra > 0 {
                mixed.push(format!("{extra} pairs outside subset {}", subset.name));
            }
            checks.push(check(
                mixed.is_empty(),
                format!("seed {seed} run `{run}` exists and matches (it will be resumed)"),
                format!(
                    "seed {seed} run `{run}` exists with {}: refusing to mix; choose other --seeds or move logs/{run} aside",
                    mixed.join(", ")
                ),
            ));
        }
    }

    let baseline = RunLogs::load(&cb, &exp.baseline_run);
    let estimate = Estimate::from_run(&baseline);
    if estimate.is_none() && flags.max_cost.is_some() {
        checks.push(check(
            false,
            "",
            format!("--max-cost needs an estimate, and the baseline run `{}` has no results", exp.baseline_run),
        ));
    }

    let job = match (program, subset) {
        (Some(program), Some(subset)) => Some(Job {
            timeout: exp.timeout_minutes.map(|m| Duration::from_secs_f64(m * 60.0)),
            agent_config: (!exp.model_kwargs.is_empty()).then(|| cb.join(".harness").join("agent-config.yaml")),
            exp,
            cb,
            program,
            subset,
            secrets,
            estimate,
            max_cost: flags.max_cost,
            manifest: None,
        }),
        _ => None,
    };
    // A seed made by another cooperbench (grading changed between releases)
    // or another configuration is never resumed into this one.
    let job = job.map(|mut job| {
        match job.manifest() {
            Ok(now) => {
                checks.push(check(
                    now.cooperbench_version.is_some(),
                    format!("cooperbench version {}", now.cooperbench_version.clone().unwrap_or_default()),
                    "the cooperbench version cannot be told: reinstall with `cargo xtask install-cooperbench`",
                ));
                for seed in &job.exp.seeds {
                    let run = job.exp.seed_run(*seed);
                    match Manifest::load(&job.cb, &run) {
                        None => {}
                        Some(Err(e)) => checks.push(check(false, "", format!("logs/{run}/{}: {e}", manifest::FILE))),
                        Some(Ok(was)) => {
                            let d = was.differences(&now);
                            checks.push(check(
                                d.is_empty(),
                                format!("seed {seed} run `{run}` was made by this configuration"),
                                format!(
                                    "seed {seed} run `{run}` was made by another configuration ({}): refusing to mix; choose other --seeds or move logs/{run} aside",
                                    d.join("; ")
                                ),
                            ));
                        }
                    }
                }
                job.manifest = Some(now);
            }
            Err(e) => checks.push(check(false, "", format!("{e:#}"))),
        }
        job
    });
    (checks, job)
}

/// The first pair, in subset order, that the next run would spend money on.
fn canary_pair(st: &RunState) -> Option<&PairId> {
    st.new.iter().chain(&st.redo).chain(&st.unreadable).min()
}

fn confirm(job: &Job, to_run: usize) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Err(crate::usage(anyhow::anyhow!(
            "this spends money on {to_run} pairs: pass --yes (no terminal to ask on)"
        )));
    }
    let cost = job.estimate.map(|e| format!("about ${:.2}", e.cost(to_run))).unwrap_or("an unknown amount".into());
    print!("\nrun {to_run} pairs for {cost}? [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

/// What `execute` stops for.
enum Stop {
    Interrupted,
    Failed(String),
}

impl Job {
    fn states(&self) -> Vec<RunState> {
        self.exp
            .seeds
            .iter()
            .map(|s| RunState::of(&self.subset, &RunLogs::load(&self.cb, &self.exp.seed_run(*s))))
            .collect()
    }

    fn run_args(&self, run: &str, pair: Option<&PairId>) -> Vec<String> {
        let e = &self.exp;
        let mut a: Vec<String> =
            ["run", "-n", run, "-m", &e.model, "-a", &e.agent, "-s", &e.subset, "--setting", "solo"]
                .map(String::from)
                .into();
        a.extend(["--backend".into(), e.backend.name().into()]);
        match pair {
            Some(p) => a.extend(pair_filter(p).into_iter().chain(["-c".into(), "1".into()])),
            None => a.extend(["-c".into(), e.run_concurrency.to_string()]),
        }
        a.push("--no-auto-eval".into());
        if let Some(cfg) = &self.agent_config {
            a.extend(["--agent-config".into(), cfg.display().to_string()]);
        }
        a
    }

    fn eval_args(&self, run: &str, pair: Option<&PairId>) -> Vec<String> {
        let e = &self.exp;
        let mut a: Vec<String> =
            ["eval", "-n", run, "-s", &e.subset, "--backend", e.backend.name()].map(String::from).into();
        match pair {
            Some(p) => a.extend(pair_filter(p).into_iter().chain(["-c".into(), "1".into(), "--force".into()])),
            None => a.extend(["-c".into(), e.eval_concurrency.to_string()]),
        }
        a
    }

    /// The CLI cannot take an API base or sampling settings as flags, and
    /// ignores MSWEA_MODEL_API_BASE: they go in an --agent-config YAML.
    fn write_agent_config(&self) -> anyhow::Result<()> {
        let (Some(path), Some(yaml)) = (&self.agent_config, self.agent_config_text()?) else { return Ok(()) };
        std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
        std::fs::write(path, yaml).with_context(|| format!("cannot write {}", path.display()))
    }

    fn agent_config_text(&self) -> anyhow::Result<Option<String>> {
        if self.agent_config.is_none() {
            return Ok(None);
        }
        let mut yaml = String::from(
            "# Written by `cargo xtask seeds` from experiment.toml [model_kwargs].\nmodel:\n  model_kwargs:\n",
        );
        for (k, v) in &self.exp.model_kwargs {
            let key = if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                k.clone()
            } else {
                serde_json::to_string(k)?
            };
            yaml.push_str(&format!("    {key}: {}\n", yaml_value(v)?));
        }
        Ok(Some(yaml))
    }

    /// What this invocation of `seeds` would make a seed run with.
    fn manifest(&self) -> anyhow::Result<Manifest> {
        Ok(Manifest {
            cooperbench_version: manifest::cooperbench_version(&self.program),
            model: self.exp.model.clone(),
            agent: self.exp.agent.clone(),
            subset: self.subset.name.clone(),
            backend: self.exp.backend.name().to_string(),
            agent_config_sha256: self.agent_config_text()?.map(|t| manifest::digest(t.as_bytes())),
            harness_version: env!("CARGO_PKG_VERSION").to_string(),
        })
    }

    fn invoke(&self, run: &str, args: Vec<String>, what: &str) -> anyhow::Result<Ended> {
        let prefix = format!("[{}] ", seed_label(&self.exp, run));
        let inv = Invocation {
            program: &self.program,
            args,
            dir: &self.cb,
            prefix: prefix.clone(),
            secrets: &self.secrets,
            timeout: self.timeout,
        };
        crate::say!("{prefix}{what}: {}", inv.line());
        let mut last = None;
        let mut over = false;
        let ended = inv.run(|| {
            if what.starts_with("run") {
                let st = RunState::of(&self.subset, &RunLogs::load(&self.cb, run));
                let now = (st.done + st.errors, st.cost);
                if last != Some(now) {
                    crate::say!("{prefix}progress: {}/{} results, ${:.2} spent", now.0, st.expected, now.1);
                    last = Some(now);
                }
            }
            // The estimate checked before the start can be wrong: the live
            // spend, read every second, stops the CLI as soon as it passes.
            if let (Some(max), false) = (self.max_cost, over) {
                let spent = self.spent();
                if spent > max {
                    crate::say!(
                        "{prefix}--max-cost ${max:.2}: ${spent:.2} spent; stopping the CLI's process group now"
                    );
                    over = true;
                }
            }
            over
        })?;
        if ended == Ended::TimedOut {
            crate::say!("{prefix}{what} ran past --timeout and was stopped");
        }
        Ok(ended)
    }

    /// Money spent so far by the seed runs.
    fn spent(&self) -> f64 {
        self.exp.seed_runs().iter().map(|r| RunLogs::load(&self.cb, r).total_cost()).sum()
    }

    fn within_budget(&self, pairs: usize, what: &str) -> Result<(), Stop> {
        let (Some(max), Some(e)) = (self.max_cost, self.estimate) else { return Ok(()) };
        let spent = self.spent();
        let next = e.cost(pairs);
        if spent + next > max {
            return Err(Stop::Failed(format!(
                "--max-cost ${max:.2}: ${spent:.2} spent + ${next:.2} estimated for {what} would pass it; stopped before starting it"
            )));
        }
        Ok(())
    }

    fn execute(&self, parallel: bool, serial_evals: bool) -> anyhow::Result<i32> {
        let seeds = self.exp.seeds.clone();
        let outcomes: Vec<Result<(), Stop>> = if parallel {
            at_once(&seeds, |seed| self.run_seed(*seed))
        } else {
            let mut v = Vec::new();
            for seed in &seeds {
                let r = self.run_seed(*seed);
                let stop = r.is_err();
                v.push(r);
                if stop {
                    break;
                }
            }
            v
        };
        if let Some(code) = self.stop_if_needed(&outcomes) {
            return Ok(code);
        }

        if self.exp.backend == Backend::Docker {
            self.clean_docker("before evals");
        }
        let runs = self.exp.seed_runs();
        let outcomes: Vec<Result<(), Stop>> = if serial_evals {
            runs.iter().map(|r| self.eval_seed(r)).collect()
        } else {
            at_once(&runs, |r| self.eval_seed(r))
        };
        if self.exp.backend == Backend::Docker {
            self.clean_docker("after evals");
        }
        Ok(self.stop_if_needed(&outcomes).unwrap_or(0))
    }

    fn stop_if_needed(&self, outcomes: &[Result<(), Stop>]) -> Option<i32> {
        if outcomes.iter().any(|o| matches!(o, Err(Stop::Interrupted))) {
            self.abort();
            return Some(INTERRUPTED);
        }
        let failures: Vec<&String> = outcomes
            .iter()
            .filter_map(|o| match o {
                Err(Stop::Failed(m)) => Some(m),
                _ => None,
            })
            .collect();
        if failures.is_empty() {
            return None;
        }
        crate::say!();
        for f in failures {
            crate::say!("stopped: {}", self.secrets.redact(f));
        }
        if self.exp.backend == Backend::Docker {
            self.clean_docker("after the stop");
        }
        Some(1)
    }

    fn abort(&self) {
        crate::say!("\ninterrupted: the cooperbench process group was stopped");
        if self.exp.backend == Backend::Docker {
            self.clean_docker("after the interruption");
        }
        crate::say!("finished so far:");
        for st in self.states() {
            crate::say!("  {}: {}", st.run, st.headline());
        }
        crate::say!("resume with: cargo xtask seeds --yes (it does only the missing work)");
    }

    fn clean_docker(&self, when: &str) {
        match docker::clean(false) {
            Ok(gone) if gone.is_empty() => crate::say!("docker clean-up {when}: no cooperbench containers"),
            Ok(gone) => {
                crate::say!("docker clean-up {when}: removed {}", gone.len());
                for c in gone {
                    crate::say!("  {}", docker::describe(&c));
                }
            }
            Err(e) => crate::say!("docker clean-up {when} failed: {e:#}; run `cargo xtask clean-docker`"),
        }
    }

    fn run_seed(&self, seed: u32) -> Result<(), Stop> {
        let run = self.exp.seed_run(seed);
        let label = seed_label(&self.exp, &run);
        let state = || RunState::of(&self.subset, &RunLogs::load(&self.cb, &run));
        if let (Some(m), None) = (&self.manifest, Manifest::load(&self.cb, &run)) {
            m.write(&self.cb, &run).map_err(fail)?;
        }
        self.quarantine(&run, "result.json");
        let st = state();
        crate::say!("[{label}] {}", st.headline());
        if let Some(pair) = canary_pair(&st).cloned() {
            self.within_budget(1, &format!("the seed {seed} canary"))?;
            let ended = self.invoke(&run, self.run_args(&run, Some(&pair)), "canary").map_err(fail)?;
            check_ended(ended)?;
            let logs = RunLogs::load(&self.cb, &run);
            match logs.pairs.get(&pair).and_then(|p| p.result.as_ref()) {
                None => {
                    return Err(Stop::Failed(format!(
                        "seed {seed} canary {pair} wrote no readable result.json; see the CLI output above"
                    )))
                }
                Some(r) if r.status == AgentStatus::Error => {
                    return Err(Stop::Failed(format!(
                        "seed {seed} canary {pair} ended Error: {}. One pair was spent instead of {}.",
                        r.error.as_deref().unwrap_or("(no message)"),
                        self.subset.pairs.len()
                    )))
                }
                Some(r) => crate::say!("[{label}] canary {pair}: {} (${:.2})", r.status.name(), r.cost()),
            }
        }
        for attempt in 1..=self.exp.attempts {
            let st = state();
            if st.to_run() == 0 {
                break;
            }
            self.within_budget(st.to_run(), &format!("{} pairs of seed {seed}", st.to_run()))?;
            self.quarantine(&run, "result.json");
            let what = if attempt == 1 { "run".to_string() } else { format!("run (attempt {attempt})") };
            let ended = self.invoke(&run, self.run_args(&run, None), &what).map_err(fail)?;
            check_ended(ended)?;
            let st = state();
            crate::say!("[{label}] after {what}: {}", st.headline());
        }
        let st = state();
        if st.to_run() > 0 {
            let logs = RunLogs::load(&self.cb, &run);
            crate::say!("[{label}] still failing after {} attempt(s):", self.exp.attempts);
            for p in st.new.iter().chain(&st.redo).chain(&st.unreadable) {
                let why = logs
                    .pairs
                    .get(p)
                    .and_then(|l| l.result.as_ref())
                    .and_then(|r| r.error.clone())
                    .unwrap_or_else(|| "no result.json".into());
                crate::say!("[{label}]   {p}: {}", self.secrets.redact(&why));
            }
        }
        Ok(())
    }

    fn eval_seed(&self, run: &str) -> Result<(), Stop> {
        let label = seed_label(&self.exp, run);
        self.quarantine(run, "eval.json");
        check_ended(self.invoke(run, self.eval_args(run, None), "eval").map_err(fail)?)?;
        let missing = |logs: &RunLogs| logs.pairs.values().filter(|p| p.result_present && !p.eval_present).count();
        let logs = RunLogs::load(&self.cb, run);
        if missing(&logs) > 0 {
            // No eval.json at all: the container never started; plain retry.
            let what = format!("eval retry ({} pairs without eval.json)", missing(&logs));
            check_ended(self.invoke(run, self.eval_args(run, None), &what).map_err(fail)?)?;
        }
        let logs = RunLogs::load(&self.cb, run);
        let redo: Vec<PairId> = logs
            .pairs
            .iter()
            .filter(|(_, p)| match (&p.result, &p.eval) {
                (Some(r), Some(e)) => e.error.is_some() || crate::outcomes::is_stale(r, e),
                _ => false,
            })
            .map(|(id, _)| id.clone())
            .collect();
        for pair in &redo {
            // An error inside the container sticks until --force, pair by pair.
            let ended =
                self.invoke(run, self.eval_args(run, Some(pair)), &format!("eval --force {pair}")).map_err(fail)?;
            check_ended(ended)?;
        }
        let logs = RunLogs::load(&self.cb, run);
        match rewrite_eval_summary(&self.cb, &logs) {
            Ok(path) => crate::say!("[{label}] wrote {} from every eval.json", path.display()),
            Err(e) => return Err(Stop::Failed(format!("cannot write eval_summary.json for {run}: {e:#}"))),
        }
        Ok(())
    }

    fn quarantine(&self, run: &str, file: &str) {
        match quarantine::run(&self.cb, run, file) {
            Ok(moved) => {
                for p in moved {
                    crate::say!("[{}] quarantined unreadable {}", seed_label(&self.exp, run), p.display());
                }
            }
            Err(e) => crate::say!("quarantine of {run} failed: {e:#}"),
        }
    }
}

/// `f` on every item in a thread of its own; results in item order.
fn at_once<T: Sync>(items: &[T], f: impl Fn(&T) -> Result<(), Stop> + Sync) -> Vec<Result<(), Stop>> {
    std::thread::scope(|s| {
        let handles: Vec<_> = items.iter().map(|item| s.spawn(|| f(item))).collect();
        handles.into_iter().map(|h| h.join().unwrap_or(Err(Stop::Failed("a worker thread panicked".into())))).collect()
    })
}

fn fail(e: anyhow::Error) -> Stop {
    Stop::Failed(format!("{e:#}"))
}

fn check_ended(ended: Ended) -> Result<(), Stop> {
    match ended {
        Ended::Interrupted => Err(Stop::Interrupted),
        Ended::TimedOut => Err(Stop::Failed("a CLI invocation ran past --timeout".into())),
        Ended::Stopped => {
            Err(Stop::Failed("the spend passed --max-cost during a CLI invocation, which was stopped".into()))
        }
        // The CLI's exit code says nothing about the work (exit 0 when every
        // pair failed); the files are checked instead.
        Ended::Exited(_) => Ok(()),
    }
}

fn seed_label(exp: &Experiment, run: &str) -> String {
    exp.seeds.iter().find(|s| exp.seed_run(**s) == run).map(|s| format!("seed{s}")).unwrap_or_else(|| run.to_string())
}

fn pair_filter(p: &PairId) -> Vec<String> {
    vec!["-r".into(), p.repo.clone(), "-t".into(), p.task_id.to_string(), "-f".into(), format!("{},{}", p.a, p.b)]
}

fn yaml_value(v: &toml::Value) -> anyhow::Result<String> {
    Ok(match v {
        toml::Value::String(s) => serde_json::to_string(s)?,
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => format!("{f:?}"),
        toml::Value::Boolean(b) => b.to_string(),
        // JSON is YAML: nested tables and arrays go in flow style.
        other => serde_json::to_string(&serde_json::to_value(other)?)?,
    })
}

/// The CLI's `eval_summary.json` counts only its last invocation; this one is
/// recomputed from every eval.json, in the CLI's schema. The file it replaces
/// is kept beside it as `eval_summary.json.cli-last`.
pub fn rewrite_eval_summary(cb: &Path, logs: &RunLogs) -> anyhow::Result<PathBuf> {
    let (mut passed, mut failed, mut errors) = (0u64, 0u64, 0u64);
    let mut results = Vec::new();
    let mut latest = None;
    for (pair, p) in &logs.pairs {
        let Some(e) = &p.eval else { continue };
        let status = if e.error.is_some() {
            errors += 1;
            "error"
        } else if e.both_passed {
            passed += 1;
            "pass"
        } else {
            failed += 1;
            "fail"
        };
        latest = latest.max(Some(e.evaluated_at));
        results.push(serde_json::json!({"run": format!("{}/{}/{},{}", pair.repo, pair.task_id, pair.a, pair.b), "status": status}));
    }
    let total = passed + failed + errors;
    let summary = serde_json::json!({
        "run_name": logs.name,
        "evaluated_at": latest.map(|t| t.to_iso()),
        "total_runs": total,
        "passed": passed,
        "failed": failed,
        "errors": errors,
        "skipped": 0,
        "pass_rate": passed as f64 / (passed + failed).max(1) as f64,
        "results": results,
    });
    let dir = logs::run_dir(cb, &logs.name);
    let path = dir.join("eval_summary.json");
    let text = serde_json::to_string_pretty(&summary)?;
    if std::fs::read(&path).is_ok_and(|old| old != text.as_bytes()) {
        std::fs::rename(&path, dir.join("eval_summary.json.cli-last"))?;
    }
    std::fs::write(&path, text)?;
    Ok(path)
}

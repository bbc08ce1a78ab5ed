//! `cargo xtask seeds`: runs and evaluates the extra solo seeds through the
//! real cooperbench CLI, in this order:
//!
//! 1. the flags over the experiment file, validated as one;
//! 2. one `seeds` per checkout (a lock the CLI inherits);
//! 3. preflight (`preflight.rs`): everything that can be checked for free;
//! 4. the plan: per seed what is done and what is left, a cost estimate and
//!    the exact commands (`--dry-run` stops here), then `--yes` or a yes;
//! 5. per seed, the steps `plan::next_run_step` decides (quarantine, canary,
//!    runs), then per seed the steps of `plan::next_eval_step` (eval, retry,
//!    forced re-evals, the true `eval_summary.json`);
//! 6. `verify` over the baseline and the seeds: its exit status is ours.
//!
//! This file only carries steps out: every decision is a pure function in
//! `plan.rs`. Ctrl-C, SIGTERM, SIGHUP, a closed output or `--timeout` stop
//! the CLI's whole process group; the containers that carry our labels (the
//! Docker proxy's) are removed, and the resume command is printed.

pub(crate) mod preflight;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;

use crate::edges::attempts::Attempt;
use crate::edges::cli::{self, Ended, Invocation};
use crate::edges::command;
use crate::edges::docker;
use crate::edges::events::{Event, Events};
use crate::edges::experiment::{Backend, CommonFlags, Experiment};
use crate::edges::logs::ResultsWatch;
use crate::edges::manifest::Manifest;
use crate::study::class::Class;
use crate::study::outcome::EvalErrors;
use crate::study::pair::PairId;
use crate::study::plan::{self, human_duration, EvalHistory, EvalStep, RunHistory, RunState, RunStep};
use crate::study::run::RunLogs;

use crate::commands::verify;
use crate::edges::quarantine;

pub use preflight::{Job, REGISTERED_AGENTS};

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
    /// Modal: stop before (by the estimate) or during (by the agent time the
    /// results record) going past this many hours of agent sandboxes
    #[arg(long, value_name = "HOURS")]
    pub max_sandbox_hours: Option<f64>,
    /// Per CLI invocation, in minutes: a hung child is stopped like Ctrl-C
    #[arg(long, value_name = "MINUTES")]
    pub timeout: Option<f64>,
    /// Print the plan and the exact commands; start nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Pull the subset's missing task images before the canary
    #[arg(long)]
    pub pull: bool,
    /// End the CLI processes a killed harness left running (shown first)
    #[arg(long)]
    pub stop_orphans: bool,
    /// Start without asking
    #[arg(long)]
    pub yes: bool,
    /// The arm to run (`[[arm]]` tables) [default: every solo arm, in order]
    #[arg(long, value_name = "NAME")]
    pub arm: Option<String>,
    /// Let the CLI judge the agent name (a newer CLI may register more);
    /// the canary still stops an unknown one after one pair
    #[arg(long)]
    pub no_agent_check: bool,
}

/// Which CLI invocation a step makes: its command line, its label in the
/// output, the labels of its containers and the events, and whether it shows progress.
#[derive(Debug, Clone, Copy)]
enum Kind<'a> {
    Canary(&'a PairId),
    /// One pair again, alone, its old folder moved aside.
    Rerun(&'a PairId),
    /// One Error pair retried alone.
    Retry(&'a PairId),
    Run {
        attempt: u32,
        /// `-c`: the configured concurrency, or less after refusals.
        concurrency: u32,
    },
    Eval,
    EvalRetry {
        missing: usize,
    },
    ForceEval(&'a PairId),
}

impl Kind<'_> {
    fn label(self) -> String {
        match self {
            Kind::Canary(_) => "canary".into(),
            Kind::Rerun(pair) => format!("rerun {pair} (its container was gone)"),
            Kind::Retry(pair) => format!("retry {pair} alone"),
            Kind::Run { attempt: 1, .. } => "run".into(),
            Kind::Run { attempt, .. } => format!("run (attempt {attempt})"),
            Kind::Eval => "eval".into(),
            // No eval.json at all: the container never started.
            Kind::EvalRetry { missing } => format!("eval retry ({missing} pairs without eval.json)"),
            Kind::ForceEval(pair) => format!("eval --force {pair}"),
        }
    }

    /// An invocation whose agents work (not an eval).
    fn runs_agents(self) -> bool {
        matches!(self, Kind::Canary(_) | Kind::Rerun(_) | Kind::Retry(_) | Kind::Run { .. })
    }

    /// A whole `run`: its progress is worth a line as results appear (a
    /// canary has one pair, an eval writes no result.json).
    fn shows_progress(self) -> bool {
        matches!(self, Kind::Run { .. })
    }
}

/// Why a seed stopped.
pub(crate) enum Stop {
    Interrupted,
    Failed(String),
}

pub fn run(flags: SeedsFlags, ctx: &crate::Context) -> anyhow::Result<i32> {
    let study = flags.common.load()?;
    // The solo arms (today's file: its one), or the one --arm names.
    let arms: Vec<String> = match &flags.arm {
        Some(a) => vec![a.clone()],
        None => study
            .arms
            .iter()
            .filter(|a| a.setting == crate::edges::experiment::Setting::Solo && !a.seeds.is_empty())
            .map(|a| a.name.clone())
            .collect(),
    };
    if arms.is_empty() {
        return Err(crate::usage(anyhow::anyhow!(
            "no solo arm has seeds to make (the arms are {}): `cargo xtask study` runs coop arms",
            study.arm_names().join(", ")
        )));
    }
    one_arm_flags(&flags, &arms, "solo arms")?;
    let mut last = None;
    for name in &arms {
        if arms.len() > 1 {
            crate::say!("\n== arm {name}");
        }
        let exp = experiment(&flags, study.for_arm(name).map_err(crate::usage)?)?;
        match run_arm(&flags, exp.clone(), ctx)? {
            ArmEnd::DryRun => continue,
            ArmEnd::NotStarted(code) => return Ok(code),
            ArmEnd::Ran(INTERRUPTED) => return Ok(INTERRUPTED),
            ArmEnd::Ran(0) => last = Some(exp),
            ArmEnd::Ran(code) => {
                if arms.len() > 1 {
                    crate::say!("\narm {name} ended with {code}: the arms after it were not started");
                }
                final_verify(&exp, &exp.solo_runs())?;
                return Ok(code);
            }
        }
    }
    match last {
        Some(exp) => final_verify(&exp, &exp.solo_runs()),
        None => Ok(0),
    }
}

/// How one arm's part of `seeds` ended.
pub enum ArmEnd {
    DryRun,
    /// Preflight failed, or the user said no: nothing spent.
    NotStarted(i32),
    /// The runs and evals were carried out: 0, or why not.
    Ran(i32),
}

/// `--model`, `--agent` and `--seeds` choose for one arm: refused when
/// `arms` (the `what` about to run) are several.
pub(crate) fn one_arm_flags(flags: &SeedsFlags, arms: &[String], what: &str) -> anyhow::Result<()> {
    if arms.len() > 1 && (flags.model.is_some() || flags.agent.is_some() || flags.seeds.is_some()) {
        return Err(crate::usage(anyhow::anyhow!(
            "--model, --agent and --seeds choose for one arm: name it with --arm (the {what} are {})",
            arms.join(", ")
        )));
    }
    Ok(())
}

/// `verify` over every run that defines difficulty (all solo arms), with
/// the study's models and pooling rules: the exit status of `seeds`.
pub fn final_verify(exp: &Experiment, runs: &[String]) -> anyhow::Result<i32> {
    crate::say!("\nverify");
    let report = verify::load_and_check(
        &exp.cooperbench_dir,
        &exp.subset,
        runs,
        EvalErrors::Exclude,
        false,
        crate::edges::logs::DEFAULT_MAX_FILE_BYTES,
        &exp.allow_mixed,
        &exp.models(),
    )?;
    let secrets = crate::edges::secrets::Secrets::load(&exp.cooperbench_dir, &exp.secret_names());
    crate::say!("{}", secrets.redact(verify::render_text(&report).trim_end()));
    Events::open(&exp.cooperbench_dir).record(Event::Verify {
        ok: report.ok,
        failures: report.failures(),
        warnings: report.warnings(),
    });
    Ok(if report.ok { 0 } else { 1 })
}

/// One arm: the lock, preflight, the plan (`--dry-run` stops there), then
/// its seeds' runs and evals. Its exit status; `verify` is the caller's.
pub fn run_arm(flags: &SeedsFlags, exp: Experiment, ctx: &crate::Context) -> anyhow::Result<ArmEnd> {
    cli::interrupted();
    // Two `seeds` at once on one checkout would pay for every pair twice.
    let _lock = if flags.dry_run {
        None
    } else {
        Some(crate::edges::lock::acquire_for_spending(&exp.cooperbench_dir, &exp.seed_runs(), flags.stop_orphans)?)
    };

    crate::say!("preflight");
    let (exp_dir, secret_names) = (exp.cooperbench_dir.clone(), exp.secret_names());
    let (checks, job) = preflight::run(
        &preflight::Inputs {
            cooperbench_bin: flags.cooperbench_bin.as_deref(),
            // The flag, else the arm's own budget.
            max_cost: flags.max_cost.or(exp.max_cost),
            no_agent_check: flags.no_agent_check,
            docker: &ctx.docker,
            pull: flags.pull && !flags.dry_run,
            stop_orphans: flags.stop_orphans && !flags.dry_run,
        },
        exp,
    );
    let passed = preflight::show(&checks, &crate::edges::secrets::Secrets::load(&exp_dir, &secret_names));
    let Some(mut job) = job.filter(|_| passed) else {
        crate::say!("\npreflight failed: nothing was started, nothing was spent");
        return Ok(ArmEnd::NotStarted(1));
    };

    let to_run = job.show_plan();
    job.max_sandbox_hours = flags.max_sandbox_hours;
    // Sandbox time, on Modal: the estimate before any spend, as for money.
    if job.modal.is_some() || job.exp.backend == Backend::Modal {
        let agents = job.exp.setting.agents();
        match job.policy.estimate {
            Some(e) => {
                let next = e.sandbox_seconds(to_run, agents);
                crate::say!(
                    "  sandbox time: about {:.2} h of agent sandboxes ({to_run} pairs x {agents} agent(s) x {}; eval sandboxes not estimated: eval.json records no duration)",
                    next / 3600.0,
                    human_duration(e.seconds_per_pair)
                );
                if let Some(why) = plan::sandbox_over(flags.max_sandbox_hours, 0.0, next, "would be used") {
                    crate::say!("\n{why}: nothing was started, nothing was spent");
                    return Ok(ArmEnd::NotStarted(1));
                }
            }
            None if flags.max_sandbox_hours.is_some() => {
                crate::say!("\n--max-sandbox-hours needs an estimate, and there is no baseline with results: nothing was started");
                return Ok(ArmEnd::NotStarted(1));
            }
            None => crate::say!("  sandbox time: unknown (no baseline with results to estimate it from)"),
        }
    }
    if flags.dry_run {
        // What each outcome will lead to, from the study's policy table.
        crate::say!("\nwhat seeds does with each outcome class (study::class::POLICY):");
        for p in crate::study::class::POLICY {
            let trial = match p.trial {
                crate::study::class::Trial::None => "not a trial",
                _ => "a trial",
            };
            crate::say!("  {:<20} {:<12} {}", p.class.name(), trial, crate::commands::triage::action(p.action));
        }
        crate::say!("\ndry run: nothing was started");
        return Ok(ArmEnd::DryRun);
    }
    if to_run > 0 && !flags.yes && !confirm(&job, to_run)? {
        crate::say!("not started");
        return Ok(ArmEnd::NotStarted(1));
    }
    job.events = Some(Events::open(&job.cb));
    job.event(Event::Start { pid: std::process::id() });
    if let Some((path, text)) = &job.agent_config {
        std::fs::create_dir_all(path.parent().unwrap_or(&job.cb))?;
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    // Containers an earlier `seeds` saw and could not remove (it was killed).
    job.clean_docker("left by an earlier seeds");

    Ok(ArmEnd::Ran(job.execute(flags.parallel_seeds, flags.serial_evals)))
}

/// The experiment file with the flags over it, validated as one: `--seeds
/// 3,3` or `--attempts 0` are refused whichever side they come from.
pub(crate) fn experiment(flags: &SeedsFlags, mut exp: Experiment) -> anyhow::Result<Experiment> {
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
    exp.validate().map_err(|e| crate::usage(anyhow::anyhow!("after the flags: {e:#}")))?;
    // NaN compares false with every spend, and would turn the budget off.
    if let Some(m) = flags.max_cost.filter(|m| !(m.is_finite() && *m > 0.0)) {
        return Err(crate::usage(anyhow::anyhow!("--max-cost: {m} is not a positive number of USD")));
    }
    if let Some(h) = flags.max_sandbox_hours.filter(|h| !(h.is_finite() && *h > 0.0)) {
        return Err(crate::usage(anyhow::anyhow!("--max-sandbox-hours: {h} is not a positive number of hours")));
    }
    if flags.max_sandbox_hours.is_some() && exp.backend != Backend::Modal {
        return Err(crate::usage(anyhow::anyhow!(
            "--max-sandbox-hours is for the modal backend (this arm runs on {})",
            exp.backend.name()
        )));
    }
    if flags.parallel_seeds && exp.backend == Backend::Docker {
        return Err(crate::usage(anyhow::anyhow!(
            "--parallel-seeds is for modal and gcp: docker seeds share one host"
        )));
    }
    Ok(exp)
}

fn confirm(job: &Job, to_run: usize) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Err(crate::usage(anyhow::anyhow!(
            "this spends money on {to_run} pairs: pass --yes (no terminal to ask on)"
        )));
    }
    let cost =
        job.policy.estimate.map(|e| format!("about ${:.2}", e.cost(to_run))).unwrap_or("an unknown amount".into());
    print!("\nrun {to_run} pairs for {cost}? [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

impl Job {
    fn state(&self, run: &str) -> RunState {
        RunState::of(&self.subset, &RunLogs::load(&self.cb, run))
    }

    fn states(&self) -> Vec<RunState> {
        self.exp.seed_runs().iter().map(|r| self.state(r)).collect()
    }

    /// Prints the plan and the commands; returns the pairs to pay for.
    fn show_plan(&self) -> usize {
        let states = self.states();
        crate::say!("\nplan ({} seed(s), {} pairs each)", states.len(), self.subset.pairs.len());
        let mut to_run = 0;
        for (seed, st) in self.exp.seeds.iter().zip(&states) {
            crate::say!(
                "  seed {seed} ({}): {}; new {}, redo {}, done {}",
                st.run,
                st.headline(),
                st.new.len() + st.corrupt.len(),
                st.redo.len(),
                st.done
            );
            for f in st.corrupt.iter() {
                crate::say!("    to quarantine: {}: {}", f.path, f.why);
            }
            for f in st.for_the_user() {
                crate::say!("    look at: {}: {}", f.path, f.why);
            }
            // The planner's rule (study::plan): a plain run would pay again
            // for an Error kept as the model's, so these pairs go one by one.
            if let (Some((pair, class)), true) = (st.kept.first(), st.to_run() > 0) {
                crate::say!(
                    "    one by one: {} kept Error(s) (e.g. {pair}: {}) would be paid again by a plain run, so its {} pair(s) run alone, one after another (no -c {})",
                    st.kept.len(),
                    class.name(),
                    st.to_run(),
                    self.exp.run_concurrency
                );
            }
            to_run += st.to_run();
        }
        match self.policy.estimate {
            Some(e) => crate::say!(
                "  estimate: {to_run} pairs at ${:.3} and {} each (from {} pairs of {}): about ${:.2} and {} of agent time at -c {}",
                e.cost_per_pair,
                human_duration(e.seconds_per_pair),
                e.from_pairs,
                self.exp.baseline_run.as_deref().unwrap_or("?"),
                e.cost(to_run),
                human_duration(e.seconds(to_run, self.exp.run_concurrency)),
                self.exp.run_concurrency
            ),
            None => match &self.exp.baseline_run {
                Some(b) => crate::say!("  estimate: unknown (the baseline run `{b}` has no results)"),
                None => crate::say!("  estimate: unknown (arm `{}` names no run made before)", self.exp.arm),
            },
        }
        crate::say!("\ncommands");
        for (seed, st) in self.exp.seeds.iter().zip(&states) {
            if let Some(pair) = st.first_to_run() {
                crate::say!(
                    "  seed {seed} canary: {}",
                    cli::shell_line(&self.program, &self.run_args(&st.run, Some(pair)))
                );
            }
            crate::say!("  seed {seed} run:    {}", cli::shell_line(&self.program, &self.run_args(&st.run, None)));
            crate::say!(
                "  seed {seed} eval:   {}",
                cli::shell_line(&self.program, &command::eval(&self.exp, &st.run, None))
            );
        }
        crate::say!("  (run in {}; retries repeat the run; forced re-evals add -r -t -f --force)", self.cb.display());
        to_run
    }

    fn run_args(&self, run: &str, pair: Option<&crate::study::pair::PairId>) -> Vec<String> {
        command::run(&self.exp, run, pair, self.agent_config.as_ref().map(|(p, _)| p.as_path()))
    }

    /// The seeds (one after another, or at once), then their evals.
    fn execute(&self, parallel: bool, serial_evals: bool) -> i32 {
        let outcomes = if parallel {
            at_once(&self.exp.seeds, |seed| self.run_seed(*seed))
        } else {
            let mut v = Vec::new();
            for seed in &self.exp.seeds {
                v.push(self.run_seed(*seed));
                if v.last().is_some_and(|r| r.is_err()) {
                    break;
                }
            }
            v
        };
        if let Some(code) = self.stop_if_needed(&outcomes) {
            return code;
        }
        self.clean_docker("after the runs");
        let runs = self.exp.seed_runs();
        let outcomes = if serial_evals {
            runs.iter().map(|r| self.eval_seed(r)).collect()
        } else {
            at_once(&runs, |r| self.eval_seed(r))
        };
        self.clean_docker("after the evals");
        self.stop_if_needed(&outcomes).unwrap_or(0)
    }

    /// Appends to `.harness/events.jsonl` (when the run has begun).
    /// Records that `pairs` are about to be paid for (their class before);
    /// a failure to write is said, and the run goes on.
    fn attempts(&self, run: &str, pairs: &[PairId], invocation: &str) {
        let logs = RunLogs::load(&self.cb, run);
        let at = crate::edges::clock::now().to_iso();
        let lines: Vec<Attempt> = pairs
            .iter()
            .map(|p| Attempt {
                at: at.clone(),
                pair: p.to_string(),
                class_before: logs.pairs.get(p).map_or(Class::Missing, |l| l.class).name().to_string(),
                invocation: invocation.to_string(),
            })
            .collect();
        if let Err(e) = crate::edges::attempts::record(&self.cb, run, &lines) {
            crate::say!("[{}] could not record the attempts: {e}", seed_label(&self.exp, run));
        }
    }

    fn event(&self, e: Event) {
        if let Some(events) = &self.events {
            events.record(e);
        }
    }

    /// A seed's stop, recorded with its reason (scrubbed).
    fn stopped(&self, run: &str, r: Result<(), Stop>) -> Result<(), Stop> {
        if let Err(Stop::Failed(why)) = &r {
            self.event(Event::Stop { run: run.to_string(), reason: self.secrets.redact(why) });
        }
        r
    }

    fn run_seed(&self, seed: u32) -> Result<(), Stop> {
        let run = self.exp.seed_run(seed);
        self.stopped(&run, self.run_seed_steps(seed))
    }

    fn eval_seed(&self, run: &str) -> Result<(), Stop> {
        self.stopped(run, self.eval_seed_steps(run))
    }

    fn run_seed_steps(&self, seed: u32) -> Result<(), Stop> {
        let run = self.exp.seed_run(seed);
        let label = seed_label(&self.exp, &run);
        if Manifest::load(&self.cb, &run).is_none() {
            let mut manifest = self.manifest.clone();
            if self.modal.is_some() {
                manifest.modal_environment = Some(self.modal_environment(&run));
            }
            manifest.write(&self.cb, &run).map_err(fail)?;
        }
        crate::say!("[{label}] {}", self.state(&run).headline());
        let mut h = RunHistory::default();
        loop {
            let st = self.state(&run);
            let step = plan::next_run_step(seed, &st, &h, &self.policy, self.spent());
            match &step {
                RunStep::Quarantine(paths) => self.quarantine(&run, paths)?,
                RunStep::Canary(pair) => {
                    self.attempts(&run, std::slice::from_ref(pair), "canary");
                    self.invoke(&run, Kind::Canary(pair))?;
                    let r = RunLogs::load(&self.cb, &run).pairs.get(pair).and_then(|p| p.result.clone());
                    if let Some(r) = &r {
                        crate::say!("[{label}] canary {pair}: {} (${:.2})", r.status.name(), r.cost());
                    }
                    self.event(Event::Canary {
                        run: run.clone(),
                        pair: pair.to_string(),
                        status: r.as_ref().map(|r| r.status.name().to_string()),
                        error: r.as_ref().and_then(|r| r.error.as_deref()).map(|e| self.secrets.redact(e)),
                        cost: r.as_ref().map(|r| r.cost()),
                    });
                }
                RunStep::Run { attempt, pairs } => {
                    let paying: Vec<PairId> =
                        st.new.iter().chain(&st.redo).chain(st.corrupt.iter().map(|f| &f.pair)).cloned().collect();
                    self.attempts(&run, &paying, &format!("run {attempt}"));
                    self.event(Event::Run { run: run.clone(), attempt: *attempt, pairs: *pairs });
                    let (concurrency, why) = plan::run_concurrency(
                        self.exp.run_concurrency,
                        self.exp.backend == Backend::Modal,
                        *attempt,
                        &st,
                    );
                    if let Some(why) = why {
                        crate::say!("[{label}] {why}");
                    }
                    let kind = Kind::Run { attempt: *attempt, concurrency };
                    crate::say!("[{label}] {}: {pairs} pairs", kind.label());
                    self.invoke(&run, kind)?;
                    crate::say!("[{label}] after {}: {}", kind.label(), self.state(&run).headline());
                }
                RunStep::RetryAlone { attempt, pair } => {
                    self.attempts(&run, std::slice::from_ref(pair), &format!("run {attempt}, alone"));
                    let kind = Kind::Retry(pair);
                    crate::say!(
                        "[{label}] {} (attempt {attempt}): a plain run would redo a kept Error too",
                        kind.label()
                    );
                    self.invoke(&run, kind)?;
                }
                RunStep::Wait { attempt, seconds, why } => {
                    crate::say!("[{label}] waiting {seconds} s before attempt {attempt}: {why}");
                    // In one-second slices, so that Ctrl-C stops the wait.
                    for _ in 0..*seconds {
                        if cli::interrupted().load(std::sync::atomic::Ordering::SeqCst) {
                            return Err(Stop::Interrupted);
                        }
                        std::thread::sleep(std::time::Duration::from_secs(1));
                    }
                }
                RunStep::Rerun(pair) => {
                    self.attempts(&run, std::slice::from_ref(pair), "rerun");
                    let setting = RunLogs::load(&self.cb, &run).setting;
                    let moved = quarantine::pair_aside(&self.cb, &run, &setting, pair)
                        .map_err(|e| Stop::Failed(format!("cannot move {pair} aside for its rerun: {e:#}")))?;
                    crate::say!("[{label}] moved {pair} aside to {moved}: it ended on a container that was gone");
                    self.event(Event::Quarantine { run: run.clone(), paths: vec![moved] });
                    self.invoke(&run, Kind::Rerun(pair))?;
                    crate::say!("[{label}] after {}: {}", Kind::Rerun(pair).label(), self.state(&run).headline());
                }
                RunStep::Done { failing } => {
                    self.event(Event::Done {
                        run: run.clone(),
                        phase: "run".into(),
                        failing: failing.iter().map(|(p, _)| p.to_string()).collect(),
                    });
                    if !failing.is_empty() {
                        crate::say!("[{label}] still failing after {} attempt(s):", self.exp.attempts);
                        for (p, why) in failing {
                            crate::say!("[{label}]   {p}: {}", self.secrets.redact(why));
                        }
                    }
                    return Ok(());
                }
                RunStep::Stop(why) => return Err(Stop::Failed(why.clone())),
            }
            h.record(&step);
        }
    }

    fn eval_seed_steps(&self, run: &str) -> Result<(), Stop> {
        let label = seed_label(&self.exp, run);
        let mut h = EvalHistory::default();
        loop {
            let step = plan::next_eval_step(&self.state(run), &h);
            match &step {
                EvalStep::Quarantine(paths) => self.quarantine(run, paths)?,
                EvalStep::Eval => {
                    self.event(Event::Eval { run: run.to_string() });
                    self.invoke(run, Kind::Eval)?
                }
                EvalStep::EvalRetry { missing } => {
                    self.event(Event::EvalRetry { run: run.to_string(), missing: *missing });
                    self.invoke(run, Kind::EvalRetry { missing: *missing })?
                }
                EvalStep::ForceEval(pair) => {
                    self.event(Event::ForceEval { run: run.to_string(), pair: pair.to_string() });
                    self.invoke(run, Kind::ForceEval(pair))?
                }
                EvalStep::RewriteSummary => {
                    let path = crate::edges::eval_summary::rewrite(&self.cb, &RunLogs::load(&self.cb, run))
                        .map_err(|e| Stop::Failed(format!("cannot write eval_summary.json for {run}: {e:#}")))?;
                    crate::say!("[{label}] wrote {} from every eval.json", path.display());
                    self.event(Event::SummaryRewritten { run: run.to_string() });
                }
                EvalStep::Done => {
                    self.event(Event::Done { run: run.to_string(), phase: "eval".into(), failing: Vec::new() });
                    return Ok(());
                }
                EvalStep::Stop(why) => return Err(Stop::Failed(why.clone())),
            }
            h.record(&step);
        }
    }

    /// Evaluates each of these pairs of `run` in an invocation of its own
    /// (`eval -r -t -f --force`), `workers` at a time, and times each: the
    /// only measure of one pair's eval there is (eval.json has none). Each
    /// time is appended to `logs/<run>/harness-eval-times.jsonl`. Ctrl-C
    /// stops the lot; a pair not begun is left for the next invocation.
    pub(crate) fn eval_each_timed(&self, run: &str, pairs: &[PairId], workers: u32) -> Result<(), Stop> {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let worker = || -> Result<(), Stop> {
            while !stop.load(Ordering::SeqCst) {
                let Some(pair) = pairs.get(next.fetch_add(1, Ordering::SeqCst)) else { return Ok(()) };
                let started = std::time::Instant::now();
                let r = self.invoke(run, Kind::ForceEval(pair));
                if r.is_err() {
                    stop.store(true, Ordering::SeqCst);
                    return r;
                }
                let t = crate::edges::eval_times::EvalTime {
                    at: crate::edges::clock::now().to_iso(),
                    pair: pair.to_string(),
                    seconds: started.elapsed().as_secs_f64(),
                };
                if let Err(e) = crate::edges::eval_times::record(&self.cb, run, &t) {
                    crate::say!("[{run}] could not record the eval time of {pair}: {e}");
                }
            }
            Ok(())
        };
        let n = (workers as usize).clamp(1, pairs.len().max(1));
        let outcomes = at_once(&vec![(); n], |_| worker());
        outcomes.into_iter().find(|o| o.is_err()).unwrap_or(Ok(()))
    }

    /// One CLI invocation, watched: progress, the live spend against
    /// `--max-cost`, and the containers that appear while it runs.
    fn invoke(&self, run: &str, kind: Kind) -> Result<(), Stop> {
        let what = kind.label();
        let args = match kind {
            Kind::Canary(pair) | Kind::Rerun(pair) | Kind::Retry(pair) => self.run_args(run, Some(pair)),
            Kind::Run { concurrency, .. } => {
                let mut exp = self.exp.clone();
                exp.run_concurrency = concurrency;
                command::run(&exp, run, None, self.agent_config.as_ref().map(|(p, _)| p.as_path()))
            }
            Kind::Eval | Kind::EvalRetry { .. } => command::eval(&self.exp, run, None),
            Kind::ForceEval(pair) => command::eval(&self.exp, run, Some(pair)),
        };
        let prefix = format!("[{}] ", seed_label(&self.exp, run));
        let mut inv = Invocation {
            program: &self.program,
            args,
            dir: &self.cb,
            prefix: prefix.clone(),
            secrets: &self.secrets,
            timeout: self.timeout,
            run,
            env: Vec::new(),
        };
        crate::say!("{prefix}{what}: {}", inv.line());
        // Every container the CLI makes goes through our proxy and carries
        // our labels: ownership is read back from the engine, not guessed.
        let _proxy = match &self.docker {
            Some(d) => {
                let labels = d.labels(run, &what);
                let proxy = docker_proxy(&labels).map_err(|e| Stop::Failed(format!("{e:#}")))?;
                let json = serde_json::to_string(&labels).unwrap_or_default();
                inv.env = vec![("DOCKER_HOST".into(), proxy.docker_host()), ("XTASK_PROXY_LABELS".into(), json)];
                Some(proxy)
            }
            None => None,
        };
        // On Modal, the seed run's own environment: its sandboxes are told
        // from every other run's by that alone.
        if self.modal.is_some() {
            self.ensure_modal(run)?;
            inv.env.push(("MODAL_ENVIRONMENT".into(), self.modal_environment(run)));
        }
        // Every second: only the result.json files that changed are read.
        let runs = self.exp.seed_runs();
        let this = runs.iter().position(|r| r == run);
        let mut results = ResultsWatch::new(&self.cb, &runs);
        // The agent time this run's results record, before: on Modal, the
        // invocation's agent sandbox time is what it adds.
        let recorded = |spend: &[crate::edges::logs::Spend]| this.and_then(|i| spend.get(i)).map_or(0.0, |s| s.seconds);
        let seconds_before = recorded(&results.look());
        let expected = self.subset.pairs.len();
        let (mut last, mut over) = (None, false);
        let started = std::time::Instant::now();
        let ended = inv
            .run(|| {
                let spend = results.look();
                if let (true, Some(i)) = (kind.shows_progress(), this) {
                    let now = (spend[i].results, spend[i].cost);
                    if last != Some(now) {
                        crate::say!("{prefix}progress: {}/{expected} results, ${:.2} spent", now.0, now.1);
                        last = Some(now);
                    }
                }
                if !over {
                    if let Some(why) = plan::live_over_budget(&self.policy, spend.iter().map(|s| s.cost).sum()) {
                        crate::say!("{prefix}{why}");
                        over = true;
                    }
                }
                if !over && self.max_sandbox_hours.is_some() {
                    let used = spend.iter().map(|s| s.seconds).sum::<f64>() * f64::from(self.exp.setting.agents());
                    if let Some(why) = plan::sandbox_over(
                        self.max_sandbox_hours,
                        used,
                        0.0,
                        "recorded; stopping the CLI's process group now",
                    ) {
                        crate::say!("{prefix}{why}");
                        over = true;
                    }
                }
                over
            })
            .map_err(fail)?;
        // The CLI terminates its sandboxes as pairs end; what it left (a
        // killed child, an exception) is ended now.
        self.clean_modal_run(run, &format!("after {what}"));
        if self.modal.is_some() && kind.runs_agents() {
            let seconds = (recorded(&results.look()) - seconds_before).max(0.0) * f64::from(self.exp.setting.agents());
            crate::say!("{prefix}{what}: about {seconds:.0} s of agent sandbox time (the episodes its results record)");
            self.event(Event::SandboxTime { run: run.to_string(), what: what.clone(), agent_seconds: seconds });
        }
        // Its span, for time accounting (`cargo xtask e2e` sums their union).
        let end = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let took = started.elapsed().as_secs_f64();
        crate::say!("{prefix}{what}: ended after {took:.1}s, at {:.1}", end.as_secs_f64());
        self.event(Event::Invocation {
            run: run.to_string(),
            what: what.clone(),
            started: end.as_secs_f64() - took,
            ended: end.as_secs_f64(),
        });
        match ended {
            Ended::Interrupted => Err(Stop::Interrupted),
            Ended::TimedOut => {
                crate::say!("{prefix}{what} ran past --timeout and was stopped");
                Err(Stop::Failed("a CLI invocation ran past --timeout".into()))
            }
            Ended::Stopped => Err(Stop::Failed(
                "the spend passed --max-cost (or --max-sandbox-hours) during a CLI invocation, which was stopped"
                    .into(),
            )),
            // The CLI's exit code says nothing about the work (exit 0 when
            // every pair failed); the files are read instead.
            Ended::Exited(_) => Ok(()),
        }
    }

    /// Money spent so far by the seed runs.
    fn spent(&self) -> f64 {
        self.exp.seed_runs().iter().map(|r| RunLogs::load(&self.cb, r).total_cost()).sum()
    }

    fn quarantine(&self, run: &str, paths: &[String]) -> Result<(), Stop> {
        self.event(Event::Quarantine { run: run.to_string(), paths: paths.to_vec() });
        let moved = quarantine::aside(&self.cb, run, paths).map_err(|e| Stop::Failed(format!("quarantine: {e:#}")))?;
        for p in moved {
            crate::say!("[{}] quarantined (Python cannot read it) {}", seed_label(&self.exp, run), p.display());
        }
        Ok(())
    }

    fn stop_if_needed(&self, outcomes: &[Result<(), Stop>]) -> Option<i32> {
        if outcomes.iter().any(|o| matches!(o, Err(Stop::Interrupted))) {
            crate::say!("\ninterrupted: the cooperbench process group was stopped");
            self.clean_docker("after the interruption");
            crate::say!("finished so far:");
            for st in self.states() {
                crate::say!("  {}: {}", st.run, st.headline());
            }
            crate::say!("resume with: cargo xtask seeds --yes (it does only the missing work)");
            self.event(Event::Interrupted);
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
        self.clean_docker("after the stop");
        Some(1)
    }

    /// The Modal environment of a seed run (modal backend).
    fn modal_environment(&self, run: &str) -> String {
        crate::edges::modal::environment(&self.exp.name, run)
    }

    /// Terminates the sandboxes of cooperbench's two apps in `run`'s own
    /// Modal environment (and nowhere else), naming each; recorded in the
    /// events. Nothing on another backend.
    pub(crate) fn clean_modal_run(&self, run: &str, when: &str) {
        let Some(m) = &self.modal else { return };
        let env = self.modal_environment(run);
        let label = seed_label(&self.exp, run);
        match m.terminate(&env) {
            Ok(gone) if gone.is_empty() => {}
            Ok(gone) => {
                crate::say!(
                    "[{label}] modal clean-up {when}: terminated {} sandbox(es) in environment {env}",
                    gone.len()
                );
                for sb in &gone {
                    crate::say!("[{label}]   {} (app {})", sb.id, sb.app);
                }
                self.event(Event::ModalTerminated {
                    run: run.to_string(),
                    environment: env,
                    when: when.to_string(),
                    sandboxes: gone.into_iter().map(|s| s.id).collect(),
                });
            }
            Err(e) => {
                crate::say!("[{label}] modal clean-up {when} failed: {e:#}; see `cargo xtask clean-docker --modal`")
            }
        }
    }

    /// The run's Modal environment, made when missing, before the CLI
    /// first runs in it (asked once per run).
    fn ensure_modal(&self, run: &str) -> Result<(), Stop> {
        let Some(m) = &self.modal else { return Ok(()) };
        let env = self.modal_environment(run);
        let mut ready = self.modal_ready.lock().unwrap_or_else(|p| p.into_inner());
        if ready.contains(&env) {
            return Ok(());
        }
        match m.ensure(&env) {
            Ok(created) => {
                if created {
                    crate::say!("[{}] modal environment {env}: created", seed_label(&self.exp, run));
                }
                ready.insert(env);
                Ok(())
            }
            Err(e) => Err(Stop::Failed(format!("modal environment {env}: {e:#}"))),
        }
    }

    /// Removes the containers that carry this checkout's label, never
    /// others; called only when none of ours runs.
    pub(crate) fn clean_docker(&self, when: &str) {
        // On Modal: every seed run's environment, each on its own.
        if self.modal.is_some() {
            for run in self.exp.seed_runs() {
                self.clean_modal_run(&run, when);
            }
        }
        let Some(d) = &self.docker else { return };
        match d.clean() {
            Ok(gone) if gone.is_empty() => crate::say!("docker clean-up {when}: no containers of ours"),
            Ok(gone) => {
                crate::say!("docker clean-up {when}: removed {} container(s) of ours", gone.len());
                for c in gone {
                    crate::say!(
                        "  {} (labelled {}={})",
                        docker::describe(&c),
                        crate::edges::docker_proxy::CHECKOUT,
                        d.checkout
                    );
                }
            }
            Err(e) => crate::say!("docker clean-up {when} failed: {e:#}; run `cargo xtask clean-docker`"),
        }
    }
}

/// A proxy for one invocation, on a socket of its own (a short path: a
/// Unix socket's is limited to 107 bytes).
fn docker_proxy(
    labels: &std::collections::BTreeMap<String, String>,
) -> anyhow::Result<crate::edges::docker_proxy::Proxy> {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    if n == 0 {
        sweep_proxy_sockets();
    }
    let socket = std::env::temp_dir().join(format!("xtask-docker-{}-{n}.sock", std::process::id()));
    let upstream = crate::edges::docker_proxy::upstream().ok_or_else(|| {
        anyhow::anyhow!("DOCKER_HOST is not a Unix socket: the CLI's containers could not be labelled")
    })?;
    crate::edges::docker_proxy::Proxy::start(&socket, &upstream, labels.clone())
}

/// Removes the proxy sockets of harnesses that are gone (killed: no Drop
/// ran). Only names of our own making, `xtask-docker-<pid>-<n>.sock`.
fn sweep_proxy_sockets() {
    let Ok(rd) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix("xtask-docker-").and_then(|r| r.split('-').next()) else { continue };
        let ours = name.ends_with(".sock") && pid.parse::<u32>().is_ok();
        if ours && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_file(e.path());
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

fn seed_label(exp: &Experiment, run: &str) -> String {
    exp.seeds.iter().find(|s| exp.seed_run(**s) == run).map(|s| format!("seed{s}")).unwrap_or_else(|| run.to_string())
}

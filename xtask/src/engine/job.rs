//! The executor: one arm's seeds carried out step by step. Every decision
//! is a pure function of the state on disk (`study::plan`); this file only
//! does the step decided: a CLI invocation (`invoke.rs`), a quarantine, a
//! wait, a summary rewritten, an event recorded. Ctrl-C, SIGTERM, SIGHUP, a
//! closed output or `--timeout` stop the CLI's whole process group; what
//! ran in our sandboxes is cleaned up (`sandboxes.rs`) at every stop.

use std::path::PathBuf;
use std::time::Duration;

use crate::edges::attempts::Attempt;
use crate::edges::cli;
use crate::edges::command;
use crate::edges::events::{Event, Events};
use crate::edges::manifest::Manifest;
use crate::edges::quarantine;
use crate::edges::secrets::Secrets;
use crate::engine::lanes::Lanes;
use crate::engine::sandboxes::Sandboxes;
use crate::study::arms::Arm;
use crate::study::class::Class;
use crate::study::pair::PairId;
use crate::study::plan::{self, human_duration, EvalHistory, EvalStep, RunHistory, RunState, RunStep, SpendPolicy};
use crate::study::run::RunLogs;
use crate::study::setting::Backend;
use crate::study::subset::Subset;

/// Exit status after Ctrl-C or SIGTERM, as shells use.
pub const INTERRUPTED: i32 = 130;

/// Which CLI invocation a step makes: its command line, its label in the
/// output, the labels of its containers and the events, and whether it shows progress.
#[derive(Debug, Clone, Copy)]
pub enum Kind<'a> {
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
    /// `-c`: the configured eval concurrency, or what is left of the
    /// budget beside another seed's agents (`study::plan::pipeline`).
    Eval {
        concurrency: u32,
    },
    EvalRetry {
        missing: usize,
        concurrency: u32,
    },
    ForceEval(&'a PairId),
}

impl Kind<'_> {
    pub fn label(self) -> String {
        match self {
            Kind::Canary(_) => "canary".into(),
            Kind::Rerun(pair) => format!("rerun {pair} (its container was gone)"),
            Kind::Retry(pair) => format!("retry {pair} alone"),
            Kind::Run { attempt: 1, .. } => "run".into(),
            Kind::Run { attempt, .. } => format!("run (attempt {attempt})"),
            Kind::Eval { .. } => "eval".into(),
            // No eval.json at all: the container never started.
            Kind::EvalRetry { missing, .. } => format!("eval retry ({missing} pairs without eval.json)"),
            Kind::ForceEval(pair) => format!("eval --force {pair}"),
        }
    }

    /// An invocation whose agents work (not an eval).
    pub fn runs_agents(self) -> bool {
        matches!(self, Kind::Canary(_) | Kind::Rerun(_) | Kind::Retry(_) | Kind::Run { .. })
    }

    /// A whole `run`: its progress is worth a line as results appear (a
    /// canary has one pair, an eval writes no result.json).
    pub fn shows_progress(self) -> bool {
        matches!(self, Kind::Run { .. })
    }
}

/// Everything a seed needs, fixed after preflight.
pub struct Job {
    pub exp: Arm,
    pub cb: PathBuf,
    pub program: PathBuf,
    pub subset: Subset,
    pub secrets: Secrets,
    /// The `--agent-config` file and its text, when `[model_kwargs]` has settings.
    pub agent_config: Option<(PathBuf, String)>,
    pub policy: SpendPolicy,
    pub timeout: Option<Duration>,
    /// Written beside each seed run before the CLI first touches it.
    pub manifest: Manifest,
    /// Where the CLI's sandboxes run, and which of them are ours.
    pub sandboxes: Sandboxes,
    /// `--max-sandbox-hours` (modal backend).
    pub max_sandbox_hours: Option<f64>,
    /// `.harness/events.jsonl`, opened once the run is to start (a dry run
    /// writes nothing).
    pub events: Option<Events>,
    /// The spender's lock (none on a dry run): each run folder is locked
    /// through it before anything is written into it.
    pub lock: Option<std::sync::Arc<crate::edges::lock::Lock>>,
}

/// The evals lane held for one invocation, let go when dropped.
struct EvalLane<'a>(&'a Lanes, u32);

impl Drop for EvalLane<'_> {
    fn drop(&mut self) {
        self.0.release_evals(self.1);
    }
}

/// Why a seed stopped.
pub enum Stop {
    Interrupted,
    Failed(String),
}

impl From<crate::engine::lanes::Halt> for Stop {
    fn from(h: crate::engine::lanes::Halt) -> Stop {
        match h {
            crate::engine::lanes::Halt::Interrupted => Stop::Interrupted,
            crate::engine::lanes::Halt::Stopped => {
                Stop::Failed("another seed stopped: nothing more was started".into())
            }
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

pub(crate) fn fail(e: anyhow::Error) -> Stop {
    Stop::Failed(format!("{e:#}"))
}

pub(crate) fn seed_label(exp: &Arm, run: &str) -> String {
    exp.seeds.iter().find(|s| exp.seed_run(**s) == run).map(|s| format!("seed{s}")).unwrap_or_else(|| run.to_string())
}

impl Job {
    fn state(&self, run: &str) -> RunState {
        RunState::of(&self.subset, &RunLogs::load(&self.cb, run))
    }

    fn states(&self) -> Vec<RunState> {
        self.exp.seed_runs().iter().map(|r| self.state(r)).collect()
    }

    /// Prints the plan and the commands; returns the pairs to pay for.
    pub(crate) fn show_plan(&self) -> usize {
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
                None => crate::say!("  estimate: unknown (arm `{}` names no run made before)", self.exp.name),
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

    /// The seeds and their evals. At once on Modal (`--parallel-seeds`):
    /// every run, then every eval. On one host, in the stages of
    /// `study::plan::pipeline`: seed k's evals beside seed k+1's agents,
    /// within one budget of containers; clean-up between stages, when
    /// nothing of ours runs.
    pub(crate) fn execute(&self, parallel: bool, serial_evals: bool) -> i32 {
        let runs = self.exp.seed_runs();
        if parallel {
            let outcomes = at_once(&self.exp.seeds, |seed| self.run_seed(*seed, None));
            if let Some(code) = self.stop_if_needed(&outcomes) {
                return code;
            }
            self.clean("after the runs");
            let c = self.exp.eval_concurrency;
            let outcomes = if serial_evals {
                runs.iter().map(|r| self.eval_seed(r, c, None)).collect()
            } else {
                at_once(&runs, |r| self.eval_seed(r, c, None))
            };
            self.clean("after the evals");
            if let Some(code) = self.stop_if_needed(&outcomes) {
                return code;
            }
        } else {
            // Each seed its own way, sharing the agents and evals lanes by
            // the rules of `study::plan` (lanes.rs): seed k's evals beside
            // seed k+1's agents, and the next seed's agents through a
            // seed's rate-limit wait.
            let lanes = Lanes::new(&self.exp.seeds, self.exp.run_concurrency, self.exp.eval_concurrency);
            let c = plan::eval_concurrency(self.exp.run_concurrency, self.exp.eval_concurrency, true);
            crate::say!(
                "\nat most {} containers at once: a seed's agents at -c {}, beside them another seed's evals at -c {}, alone at -c {}",
                plan::budget(self.exp.run_concurrency, self.exp.eval_concurrency),
                self.exp.run_concurrency,
                c.map(|c| c.to_string()).unwrap_or_else(|| "0 (they wait for the runs)".into()),
                self.exp.eval_concurrency
            );
            let outcomes = at_once(&self.exp.seeds, |seed| self.seed_in_lanes(*seed, &lanes));
            self.clean("after the seeds");
            if let Some(code) = self.stop_if_needed(&outcomes) {
                return code;
            }
        }
        // An image re-made under its tag while a seed ran: its pairs were
        // not all run and graded in one image. That seed failed.
        let mut changed = Vec::new();
        for run in &runs {
            match self.images_after(run) {
                Ok(lines) => changed.extend(lines),
                Err(Stop::Failed(why)) => crate::say!("could not record the task images after {run}: {why}"),
                Err(Stop::Interrupted) => return INTERRUPTED,
            }
        }
        for line in &changed {
            crate::say!("FAILED: {line}; verify fails this run");
        }
        if changed.is_empty() {
            0
        } else {
            1
        }
    }

    /// One seed on a shared host: its run, then its evals, each step in
    /// its lane. A seed that fails stops the others before their next step.
    fn seed_in_lanes(&self, seed: u32, lanes: &Lanes) -> Result<(), Stop> {
        let run = self.exp.seed_run(seed);
        let ran = self.run_seed(seed, Some(lanes));
        if ran.is_err() {
            // Before its lane is let go: no other seed starts in between.
            lanes.stop();
        }
        lanes.run_over(seed);
        ran?;
        // Its containers left over, while other seeds' may run.
        self.sandboxes.clean_finished(&run, &format!("after {}'s run", seed_label(&self.exp, &run)));
        let evaluated = self.eval_seed(&run, self.exp.eval_concurrency, Some(lanes));
        if evaluated.is_err() {
            lanes.stop();
        }
        evaluated
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

    /// The run folder made by us and locked, resolved, before anything is
    /// written into it (see `Lock::hold_run`); a folder that another
    /// spender holds stops the seed.
    pub(crate) fn hold_run(&self, run: &str) -> Result<(), Stop> {
        match &self.lock {
            Some(l) => l.hold_run(&self.cb, run).map_err(|e| Stop::Failed(format!("{e:#}"))),
            None => Ok(()),
        }
    }

    pub(crate) fn event(&self, e: Event) {
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

    fn run_seed(&self, seed: u32, lanes: Option<&Lanes>) -> Result<(), Stop> {
        let run = self.exp.seed_run(seed);
        self.stopped(&run, self.run_seed_steps(seed, lanes))
    }

    fn eval_seed(&self, run: &str, concurrency: u32, lanes: Option<&Lanes>) -> Result<(), Stop> {
        self.stopped(run, self.eval_seed_steps(run, concurrency, lanes))
    }

    fn run_seed_steps(&self, seed: u32, lanes: Option<&Lanes>) -> Result<(), Stop> {
        let run = self.exp.seed_run(seed);
        let label = seed_label(&self.exp, &run);
        self.hold_run(&run)?;
        self.write_manifest(&run)?;
        crate::say!("[{label}] {}", self.state(&run).headline());
        let mut h = RunHistory::default();
        loop {
            let st = self.state(&run);
            let step = plan::next_run_step(seed, &st, &h, &self.policy, self.spent());
            // The agents lane: held through the seed's invocations, let go
            // for a wait (another seed's agents may use it) and at the end.
            if let Some(l) = lanes {
                match &step {
                    RunStep::Wait { .. } | RunStep::Done { .. } => l.release_agents(seed),
                    // Kept until the seed's stop is known to the others.
                    RunStep::Stop(_) => {}
                    _ => l.agents(seed)?,
                }
            }
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
                    let epoch = || {
                        std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .unwrap_or_default()
                            .as_secs_f64()
                    };
                    let started = epoch();
                    // In one-second slices, so that Ctrl-C stops the wait.
                    for _ in 0..*seconds {
                        if cli::interrupted().load(std::sync::atomic::Ordering::SeqCst) {
                            return Err(Stop::Interrupted);
                        }
                        std::thread::sleep(std::time::Duration::from_secs(1));
                    }
                    self.event(Event::Wait { run: run.clone(), why: why.clone(), started, ended: epoch() });
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

    fn eval_seed_steps(&self, run: &str, concurrency: u32, lanes: Option<&Lanes>) -> Result<(), Stop> {
        let label = seed_label(&self.exp, run);
        let seed = self.exp.seeds.iter().copied().find(|s| self.exp.seed_run(*s) == run).unwrap_or_default();
        let mut h = EvalHistory::default();
        loop {
            let step = plan::next_eval_step(&self.state(run), &h);
            // The evals lane, for each invocation; its concurrency is what
            // the agents leave while any seed's run goes on.
            let invokes = matches!(step, EvalStep::Eval | EvalStep::EvalRetry { .. } | EvalStep::ForceEval(_));
            let concurrency = match (lanes, invokes) {
                (Some(l), true) => l.evals(seed)?,
                _ => concurrency,
            };
            let _lane = lanes.filter(|_| invokes).map(|l| EvalLane(l, seed));
            match &step {
                EvalStep::Quarantine(paths) => self.quarantine(run, paths)?,
                EvalStep::Eval => {
                    self.event(Event::Eval { run: run.to_string() });
                    self.invoke(run, Kind::Eval { concurrency })?
                }
                EvalStep::EvalRetry { missing } => {
                    self.event(Event::EvalRetry { run: run.to_string(), missing: *missing });
                    self.invoke(run, Kind::EvalRetry { missing: *missing, concurrency })?
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
            self.clean("after the interruption");
            crate::say!("finished so far:");
            for st in self.states() {
                crate::say!("  {}: {}", st.run, st.headline());
            }
            // The same command again; a study of arms is resumed whole (or one arm).
            if self.exp.study.has_arm_tables {
                crate::say!(
                    "resume with: cargo xtask study --yes, or seeds --arm {} --yes for this arm alone (either does only the missing work)",
                    self.exp.name
                );
            } else {
                crate::say!("resume with: cargo xtask seeds --yes (it does only the missing work)");
            }
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
        self.clean("after the stop");
        Some(1)
    }

    /// Cleans up every sandbox of ours (Docker: the containers that carry
    /// this checkout's label; Modal: each seed run's environment); called
    /// only when none of ours runs.
    pub(crate) fn clean(&self, when: &str) {
        let runs: Vec<(String, String)> =
            self.exp.seed_runs().into_iter().map(|r| (r.clone(), seed_label(&self.exp, &r))).collect();
        self.sandboxes.clean(&runs, when, &|e| self.event(e));
    }
}

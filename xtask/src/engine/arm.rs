//! One arm as `seeds` and `study` run it, and the loop over arms they
//! share: the flags over the experiment file, validated as one; one
//! spender per checkout (a lock the CLI inherits); preflight; the plan
//! (`--dry-run` stops there), then `--yes` or a yes; then the job's seeds
//! and evals. The verify that ends a command is the command's.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;

use crate::edges::cli;
use crate::edges::events::{Event, Events};
use crate::edges::experiment::CommonFlags;
use crate::engine::job::{Job, INTERRUPTED};
use crate::engine::preflight;
use crate::study::arms::{Arm, Study};
use crate::study::plan::{self, human_duration};
use crate::study::setting::Backend;

/// The flags of `seeds`, and of `study`, which runs each arm as `seeds` does.
#[derive(Debug, Clone, clap::Args)]
pub struct ArmFlags {
    #[command(flatten)]
    pub common: CommonFlags,
    /// The cooperbench program [default: <checkout>/.venv/bin/cooperbench, else PATH]
    #[arg(long, value_name = "PATH")]
    pub cooperbench_bin: Option<PathBuf>,
    /// Seed numbers to run, e.g. 1,2
    #[arg(long, value_delimiter = ',', value_name = "N,..")]
    pub seeds: Option<Vec<u32>>,
    /// The model, as the CLI's `-m` takes it [default: the arm's]
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,
    /// The agent framework, as the CLI's `-a` takes it [default: the arm's]
    #[arg(long, value_name = "AGENT")]
    pub agent: Option<String>,
    /// Where the CLI's sandboxes run [default: the arm's]
    #[arg(long, value_enum)]
    pub backend: Option<Backend>,
    /// CLI invocations per seed while Error results remain [default: the file's, else 3]
    #[arg(long, value_name = "N")]
    pub attempts: Option<u32>,
    /// Run the seeds at once (modal and gcp only; docker seeds share a host)
    #[arg(long)]
    pub parallel_seeds: bool,
    /// With --parallel-seeds: evaluate the seeds one after another instead
    /// of at once (on one host each seed's evals already run beside the next
    /// seed's agents, one seed at a time)
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
    /// The one arm to run (`[[arm]]` tables) [default: seeds: every solo arm with seeds; study: every arm; in the file's order]
    #[arg(long, value_name = "NAME")]
    pub arm: Option<String>,
    /// Let the CLI judge the agent name (a newer CLI may register more);
    /// the canary still stops an unknown one after one pair
    #[arg(long)]
    pub no_agent_check: bool,
}

/// How a loop over arms ended.
pub enum ArmsEnd {
    /// Every arm was carried out or planned; the last that ran to 0.
    Done {
        last: Option<Arm>,
    },
    /// An arm did not start (preflight failed, or the user said no):
    /// nothing of it was spent, and the arms after it were not started.
    NotStarted {
        arm: String,
        code: i32,
    },
    Interrupted,
    /// An arm ran and ended badly: the arms after it were not started.
    Failed {
        arm: Arm,
        code: i32,
    },
}

/// The arms named, in order, each through [`run_arm`], stopping at the
/// first that does not end well (a setup that just failed spends no more).
/// `heading` says what to print before an arm, if anything.
pub fn run_arms(
    flags: &ArmFlags,
    study: &Study,
    arms: &[String],
    ctx: &crate::Context,
    heading: &dyn Fn(&Arm) -> Option<String>,
) -> anyhow::Result<ArmsEnd> {
    let mut last = None;
    for name in arms {
        let view = study.arm(name).map_err(crate::usage)?;
        if let Some(h) = heading(&view) {
            crate::say!("{h}");
        }
        let exp = experiment(flags, view)?;
        match run_arm(flags, exp.clone(), ctx)? {
            ArmEnd::DryRun => {}
            ArmEnd::NotStarted(code) => return Ok(ArmsEnd::NotStarted { arm: name.clone(), code }),
            ArmEnd::Ran(INTERRUPTED) => return Ok(ArmsEnd::Interrupted),
            ArmEnd::Ran(0) => last = Some(exp),
            ArmEnd::Ran(code) => return Ok(ArmsEnd::Failed { arm: exp, code }),
        }
    }
    Ok(ArmsEnd::Done { last })
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
pub fn one_arm_flags(flags: &ArmFlags, arms: &[String], what: &str) -> anyhow::Result<()> {
    if arms.len() > 1 && (flags.model.is_some() || flags.agent.is_some() || flags.seeds.is_some()) {
        return Err(crate::usage(anyhow::anyhow!(
            "--model, --agent and --seeds choose for one arm: name it with --arm (the {what} are {})",
            arms.join(", ")
        )));
    }
    Ok(())
}

/// One arm: the lock, preflight, the plan (`--dry-run` stops there), then
/// its seeds' runs and evals. Its exit status; `verify` is the caller's.
pub fn run_arm(flags: &ArmFlags, exp: Arm, ctx: &crate::Context) -> anyhow::Result<ArmEnd> {
    cli::interrupted();
    // Two `seeds` at once on one checkout would pay for every pair twice.
    let _lock = if flags.dry_run {
        None
    } else {
        Some(std::sync::Arc::new(crate::edges::lock::acquire_for_spending(
            &exp.study.cooperbench_dir,
            &exp.seed_runs(),
            flags.stop_orphans,
        )?))
    };

    crate::say!("preflight");
    let (exp_dir, secret_names) = (exp.study.cooperbench_dir.clone(), exp.secret_names());
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
    if job.sandboxes.is_modal() || job.exp.backend == Backend::Modal {
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
            crate::say!("  {:<20} {:<12} {}", p.class.name(), trial, p.action.describe());
        }
        crate::say!("\ndry run: nothing was started");
        return Ok(ArmEnd::DryRun);
    }
    if to_run > 0 && !flags.yes && !confirm(&job, to_run)? {
        crate::say!("not started");
        return Ok(ArmEnd::NotStarted(1));
    }
    job.lock = _lock.clone();
    job.events = Some(Events::open(&job.cb));
    job.event(Event::Start { pid: std::process::id() });
    if let Some((path, text)) = &job.agent_config {
        std::fs::create_dir_all(path.parent().unwrap_or(&job.cb))?;
        crate::edges::write::replace(path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    // Containers an earlier `seeds` saw and could not remove (it was killed).
    job.clean("left by an earlier seeds");

    Ok(ArmEnd::Ran(job.execute(flags.parallel_seeds, flags.serial_evals)))
}

/// The experiment file with the flags over it, validated as one: `--seeds
/// 3,3` or `--attempts 0` are refused whichever side they come from.
pub fn experiment(flags: &ArmFlags, mut exp: Arm) -> anyhow::Result<Arm> {
    // A flag's own value is refused in the flag's name; what the file says
    // was checked when it was read.
    let refuse = |flag: &str, why: String| Err(crate::usage(anyhow::anyhow!("{flag}: {why}")));
    if let Some(s) = flags.seeds.as_ref().filter(|s| (1..s.len()).any(|i| s[..i].contains(&s[i]))) {
        return refuse("--seeds", format!("a seed is listed twice: {s:?}"));
    }
    for (flag, v) in [("--model", &flags.model), ("--agent", &flags.agent)] {
        if v.as_deref().is_some_and(|v| v.trim().is_empty()) {
            return refuse(flag, "empty".into());
        }
    }
    if flags.attempts == Some(0) {
        return refuse("--attempts", "must be at least 1".into());
    }
    if let Some(t) = flags.timeout.filter(|t| !(t.is_finite() && *t > 0.0)) {
        return refuse("--timeout", format!("{t} is not a positive number of minutes (leave it out for no timeout)"));
    }
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

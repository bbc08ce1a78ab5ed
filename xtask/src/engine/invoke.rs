//! One CLI invocation of a job, watched: its command line, its sandboxes
//! prepared, its progress, the live spend against `--max-cost` and
//! `--max-sandbox-hours`, and how it ended. The CLI's exit status says
//! nothing of the work (exit 0 when every pair failed): the files do.

use crate::edges::cli::{Ended, Invocation};
use crate::edges::command;
use crate::edges::events::Event;
use crate::edges::logs::ResultsWatch;
use crate::engine::job::{fail, seed_label, Job, Kind, Stop};
use crate::study::plan;

impl Job {
    pub(crate) fn run_args(&self, run: &str, pair: Option<&crate::study::pair::PairId>) -> Vec<String> {
        command::run(&self.exp, run, pair, self.agent_config.as_ref().map(|(p, _)| p.as_path()))
    }

    /// One CLI invocation, watched: progress, the live spend against
    /// `--max-cost`, and the containers that appear while it runs.
    pub(crate) fn invoke(&self, run: &str, kind: Kind) -> Result<(), Stop> {
        // Still the folder we locked (not swapped for a link since).
        self.hold_run(run)?;
        let what = kind.label();
        let mut args = match kind {
            Kind::Canary(pair) | Kind::Rerun(pair) | Kind::Retry(pair) => self.run_args(run, Some(pair)),
            Kind::Run { concurrency, .. } => {
                let mut exp = self.exp.clone();
                exp.run_concurrency = concurrency;
                command::run(&exp, run, None, self.agent_config.as_ref().map(|(p, _)| p.as_path()))
            }
            Kind::Eval { concurrency } | Kind::EvalRetry { concurrency, .. } => {
                let mut exp = self.exp.clone();
                exp.eval_concurrency = concurrency;
                command::eval(&exp, run, None)
            }
            Kind::ForceEval(pair) => command::eval(&self.exp, run, Some(pair)),
        };
        let prefix = format!("[{}] ", seed_label(&self.exp, run));
        // Messaging coop: a Redis of our own for this invocation, so the CLI
        // never starts (or shares) the host's `cooperbench-redis`.
        let _redis = if self.exp.messages() && kind.runs_agents() {
            self.sandboxes.redis(run, &what, &self.exp.study.redis_image).map_err(Stop::Failed)?
        } else {
            None
        };
        if let Some(r) = &_redis {
            crate::say!(
                "{prefix}{what}: a Redis of our own for the agents' messages, {} (container {})",
                r.url,
                &r.id[..r.id.len().min(12)]
            );
            args.extend(command::redis(&r.url));
        }
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
        // Docker: every container the CLI makes goes through our proxy and
        // carries our labels (ownership is read back from the engine, not
        // guessed). Modal: the seed run's own environment (its sandboxes are
        // told from every other run's by that alone).
        let prepared = self.sandboxes.prepare(run, &what, &seed_label(&self.exp, run)).map_err(Stop::Failed)?;
        inv.env = prepared.env;
        let _proxy = prepared.proxy;
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
        self.sandboxes.clean_run(run, &format!("after {what}"), &seed_label(&self.exp, run), &|e| self.event(e));
        if self.sandboxes.is_modal() && kind.runs_agents() {
            let seconds = (recorded(&results.look()) - seconds_before).max(0.0) * f64::from(self.exp.setting.agents());
            crate::say!("{prefix}{what}: about {seconds:.0} s of agent sandbox time (the episodes its results record)");
            self.event(Event::SandboxTime { run: run.to_string(), what: what.clone(), agent_seconds: seconds });
        }
        // Its span, for time accounting (`cargo xtask e2e` sums their union).
        let end = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let took = started.elapsed().as_secs_f64();
        // Epoch times go to events.jsonl; a person reads a duration.
        let took_words = if took < 60.0 { format!("{took:.1}s") } else { plan::human_duration(took) };
        crate::say!("{prefix}{what}: ended after {took_words}");
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
}

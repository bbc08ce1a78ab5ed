//! What a step should cost and how long it should take, from the baseline
//! run's results, and the rules that stop a spend: `--max-cost` live,
//! `--max-sandbox-hours` before and during, and the concurrency after the
//! provider or the sandbox backend refused.

use crate::study::class::Class;
use crate::study::plan::state::RunState;
use crate::study::result::AgentStatus;
use crate::study::run::RunLogs;

/// What `seeds` may spend and how often it retries, fixed after preflight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpendPolicy {
    /// Plain `run` invocations per seed while pairs remain to run.
    pub attempts: u32,
    /// No CLI invocation starts whose estimate would take the seeds' spend past this.
    pub max_cost: Option<f64>,
    pub estimate: Option<Estimate>,
}

/// The budget rule, during a step: the estimate checked before the start
/// can be wrong, so the live spend (read every second) stops the CLI as soon
/// as it passes `--max-cost`. `Some` says why to stop.
pub fn live_over_budget(p: &SpendPolicy, spent: f64) -> Option<String> {
    let max = p.max_cost?;
    (spent > max).then(|| format!("--max-cost ${max:.2}: ${spent:.2} spent; stopping the CLI's process group now"))
}

/// Per-pair cost and time, from the baseline run's results.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub cost_per_pair: f64,
    pub seconds_per_pair: f64,
    pub from_pairs: usize,
}

impl Estimate {
    pub fn from_run(logs: &RunLogs) -> Option<Estimate> {
        let results: Vec<_> =
            logs.pairs.values().filter_map(|p| p.result.as_ref()).filter(|r| r.status != AgentStatus::Error).collect();
        if results.is_empty() {
            return None;
        }
        let n = results.len() as f64;
        Some(Estimate {
            cost_per_pair: results.iter().map(|r| r.cost()).sum::<f64>() / n,
            // A NaN duration (Python writes and reads them) says nothing.
            seconds_per_pair: results.iter().map(|r| r.duration_seconds).filter(|d| d.is_finite()).sum::<f64>()
                / results.iter().filter(|r| r.duration_seconds.is_finite()).count().max(1) as f64,
            from_pairs: results.len(),
        })
    }

    pub fn cost(&self, pairs: usize) -> f64 {
        self.cost_per_pair * pairs as f64
    }

    /// Wall time with `concurrency` pairs at once.
    pub fn seconds(&self, pairs: usize, concurrency: u32) -> f64 {
        (pairs as f64 / concurrency.max(1) as f64).ceil() * self.seconds_per_pair
    }

    /// Agent sandbox time on Modal: one sandbox per agent lives through its
    /// pair's episode (solo one agent, coop two). Eval sandboxes are not
    /// in it: eval.json records no duration.
    pub fn sandbox_seconds(&self, pairs: usize, agents: u32) -> f64 {
        pairs as f64 * f64::from(agents) * self.seconds_per_pair
    }
}

/// On Modal, where `run_concurrency` may be set far higher than on one
/// machine: a plain run after an attempt whose Errors were refusals (the
/// provider's rate limit or 5xx, `infra_provider`; the sandbox backend's,
/// `infra_sandbox`, such as Modal's `UNAVAILABLE`) goes at half the
/// concurrency of the one before (at least 1), and says why. Elsewhere, and
/// without refusals, the configured concurrency.
pub fn run_concurrency(configured: u32, modal: bool, attempt: u32, st: &RunState) -> (u32, Option<String>) {
    let refused = st.redo_class.values().filter(|c| matches!(c, Class::InfraProvider | Class::InfraSandbox)).count();
    if !modal || attempt < 2 || refused == 0 {
        return (configured, None);
    }
    let c = (configured >> (attempt - 1).min(31)).max(1);
    let why = (c < configured).then(|| {
        format!("{refused} pair(s) were refused (infra_provider or infra_sandbox): -c {c} instead of {configured} for attempt {attempt}")
    });
    (c, why)
}

/// The sandbox-time rule, as `--max-cost` is the money rule: before the
/// start, an estimate past `--max-sandbox-hours` is refused; during an
/// invocation, the agent time the results record (times agents) past it
/// stops the CLI. `Some` says why.
pub fn sandbox_over(max_hours: Option<f64>, used_seconds: f64, next_seconds: f64, when: &str) -> Option<String> {
    let max = max_hours?;
    let total = (used_seconds + next_seconds) / 3600.0;
    (total > max).then(|| {
        format!(
            "--max-sandbox-hours {max}: {:.2} h used + {:.2} h estimated = {total:.2} h of agent sandboxes {when}",
            used_seconds / 3600.0,
            next_seconds / 3600.0
        )
    })
}

pub fn human_duration(secs: f64) -> String {
    let s = secs.round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, s / 60 % 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

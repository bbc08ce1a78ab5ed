//! The two small files the CLI writes per pair: `result.json` (what the agent
//! did) and `eval.json` (whether the tests passed). Trajectories and patches
//! are never read: they are large and nothing here needs them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::json::Fields;
use crate::timestamp::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum AgentStatus {
    Submitted,
    LimitsExceeded,
    Error,
    Other(String),
}

impl AgentStatus {
    pub fn parse(s: &str) -> AgentStatus {
        match s {
            "Submitted" => AgentStatus::Submitted,
            "LimitsExceeded" => AgentStatus::LimitsExceeded,
            "Error" => AgentStatus::Error,
            other => AgentStatus::Other(other.to_string()),
        }
    }

    pub fn name(&self) -> &str {
        match self {
            AgentStatus::Submitted => "Submitted",
            AgentStatus::LimitsExceeded => "LimitsExceeded",
            AgentStatus::Error => "Error",
            AgentStatus::Other(s) => s,
        }
    }

    /// Coop pairs take the worst status of their two agents.
    fn badness(&self) -> u8 {
        match self {
            AgentStatus::Submitted => 0,
            AgentStatus::Other(_) => 1,
            AgentStatus::LimitsExceeded => 2,
            AgentStatus::Error => 3,
        }
    }
}

#[derive(Debug, Clone)]
pub struct RunResult {
    pub repo: String,
    pub task_id: u64,
    pub features: (u32, u32),
    pub setting: String,
    pub model: Option<String>,
    pub agent_framework: Option<String>,
    pub status: AgentStatus,
    /// The agent's (or first failing agent's) error message.
    pub error: Option<String>,
    pub total_cost: f64,
    pub duration_seconds: f64,
    pub ended_at: Timestamp,
}

/// The shape a well-formed result.json has. Deserialising straight into it
/// is several times faster than building a `Value`; anything it does not
/// accept goes the slow way, which names the field at fault.
#[derive(Deserialize)]
struct FastResult {
    repo: String,
    task_id: u64,
    features: (u32, u32),
    setting: String,
    model: Option<String>,
    agent_framework: Option<String>,
    total_cost: Option<f64>,
    duration_seconds: Option<f64>,
    ended_at: String,
    agent: Option<FastAgent>,
    agents: Option<std::collections::BTreeMap<String, FastAgent>>,
}

#[derive(Deserialize)]
struct FastAgent {
    status: String,
    error: Option<String>,
}

#[derive(Deserialize)]
struct FastEval {
    repo: String,
    task_id: u64,
    features: (u32, u32),
    both_passed: bool,
    error: Option<String>,
    evaluated_at: String,
}

impl RunResult {
    /// Parses result.json text: the fast typed path, else the field-by-field one.
    pub fn from_text(text: &str) -> Result<RunResult, String> {
        if let Ok(f) = serde_json::from_str::<FastResult>(text) {
            let ended_at = Timestamp::parse(&f.ended_at);
            let agent = if f.setting == "solo" || f.agent.is_some() {
                f.agent.map(|a| (AgentStatus::parse(&a.status), a.error))
            } else {
                f.agents.and_then(|m| {
                    m.into_values().map(|a| (AgentStatus::parse(&a.status), a.error)).reduce(|w, x| {
                        if x.0.badness() > w.0.badness() {
                            x
                        } else {
                            w
                        }
                    })
                })
            };
            if let (Some(ended_at), Some((status, error)), Some(total_cost)) = (ended_at, agent, f.total_cost) {
                return Ok(RunResult {
                    repo: f.repo,
                    task_id: f.task_id,
                    features: f.features,
                    setting: f.setting,
                    model: f.model,
                    agent_framework: f.agent_framework,
                    status,
                    error,
                    total_cost,
                    duration_seconds: f.duration_seconds.unwrap_or(0.0),
                    ended_at,
                });
            }
        }
        RunResult::parse(&crate::json::parse(text)?)
    }

    pub fn parse(v: &Value) -> Result<RunResult, String> {
        let mut f = Fields::new(v);
        let repo = f.str("repo");
        let task_id = f.u64("task_id");
        let features = f.features("features");
        let setting = f.str("setting");
        let model = f.opt_str("model");
        let agent_framework = f.opt_str("agent_framework");
        let total_cost = f.f64("total_cost");
        let duration_seconds = f.opt_f64("duration_seconds").unwrap_or(0.0);
        let ended_at = timestamp(&mut f, "ended_at");
        let (status, error) = if setting.as_deref() == Some("solo") || f.get("agent").is_some() {
            let status = f.str("agent.status").map(|s| AgentStatus::parse(&s));
            (status, f.opt_str("agent.error"))
        } else {
            worst_agent(&mut f)
        };
        let value = (|| {
            Some(RunResult {
                repo: repo?,
                task_id: task_id?,
                features: features?,
                setting: setting?,
                model,
                agent_framework,
                status: status?,
                error,
                total_cost: total_cost?,
                duration_seconds,
                ended_at: ended_at?,
            })
        })();
        f.finish(value)
    }
}

fn worst_agent(f: &mut Fields) -> (Option<AgentStatus>, Option<String>) {
    let Some(agents) = f.get("agents").and_then(|a| a.as_object()) else {
        f.str("agents");
        return (None, None);
    };
    let mut keys: Vec<&String> = agents.keys().collect();
    keys.sort();
    let mut worst: Option<(AgentStatus, Option<String>)> = None;
    for key in keys {
        let status = f.str(&format!("agents.{key}.status")).map(|s| AgentStatus::parse(&s));
        let error = f.opt_str(&format!("agents.{key}.error"));
        if let Some(status) = status {
            if worst.as_ref().is_none_or(|(w, _)| status.badness() > w.badness()) {
                worst = Some((status, error));
            }
        }
    }
    match worst {
        Some((s, e)) => (Some(s), e),
        None => {
            f.errors.push("field `agents`: no agent has a status".into());
            (None, None)
        }
    }
}

fn timestamp(f: &mut Fields, path: &str) -> Option<Timestamp> {
    let s = f.str(path)?;
    let t = Timestamp::parse(&s);
    if t.is_none() {
        f.errors.push(format!("field `{path}`: not an ISO timestamp: {s:?}"));
    }
    t
}

#[derive(Debug, Clone)]
pub struct EvalResult {
    pub repo: String,
    pub task_id: u64,
    pub features: (u32, u32),
    pub both_passed: bool,
    /// Non-null when the evaluation itself broke, not the agent's work.
    pub error: Option<String>,
    pub evaluated_at: Timestamp,
}

impl EvalResult {
    pub fn from_text(text: &str) -> Result<EvalResult, String> {
        if let Ok(f) = serde_json::from_str::<FastEval>(text) {
            if let Some(evaluated_at) = Timestamp::parse(&f.evaluated_at) {
                return Ok(EvalResult {
                    repo: f.repo,
                    task_id: f.task_id,
                    features: f.features,
                    both_passed: f.both_passed,
                    error: f.error,
                    evaluated_at,
                });
            }
        }
        EvalResult::parse(&crate::json::parse(text)?)
    }

    pub fn parse(v: &Value) -> Result<EvalResult, String> {
        let mut f = Fields::new(v);
        let repo = f.str("repo");
        let task_id = f.u64("task_id");
        let features = f.features("features");
        let both_passed = f.bool("both_passed");
        let error = f.opt_str("error");
        let evaluated_at = timestamp(&mut f, "evaluated_at");
        let value = (|| {
            Some(EvalResult {
                repo: repo?,
                task_id: task_id?,
                features: features?,
                both_passed: both_passed?,
                error,
                evaluated_at: evaluated_at?,
            })
        })();
        f.finish(value)
    }
}

/// `logs/<run>/eval_summary.json`; only the counts matter here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalSummary {
    pub passed: u64,
    pub failed: u64,
    pub errors: u64,
}

impl EvalSummary {
    pub fn parse(v: &Value) -> Result<EvalSummary, String> {
        let mut f = Fields::new(v);
        let passed = f.u64("passed");
        let failed = f.u64("failed");
        let errors = f.u64("errors");
        let value = (|| Some(EvalSummary { passed: passed?, failed: failed?, errors: errors? }))();
        f.finish(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn solo() -> Value {
        json!({"repo": "dspy_task", "task_id": 8394, "features": [4, 3], "setting": "solo",
               "ended_at": "2026-01-01T10:00:00.5", "duration_seconds": 12.5,
               "agent": {"status": "Submitted", "cost": 0.2, "error": null}, "total_cost": 0.2,
               "some_future_field": [1, 2, 3]})
    }

    #[test]
    fn reads_solo_result_and_ignores_unknown_fields() {
        let r = RunResult::parse(&solo()).unwrap();
        assert_eq!(r.features, (4, 3));
        assert_eq!(r.status, AgentStatus::Submitted);
        assert_eq!(r.total_cost, 0.2);
    }

    #[test]
    fn names_missing_and_mistyped_fields() {
        let mut v = solo();
        v["agent"].as_object_mut().unwrap().remove("status");
        v["total_cost"] = json!("0.2");
        let err = RunResult::parse(&v).unwrap_err();
        assert_eq!(err, "field `total_cost`: expected a number, found a string; missing field `agent.status`");
        assert_eq!(RunResult::parse(&json!([1])).unwrap_err(), "expected a JSON object, found an array");
    }

    #[test]
    fn coop_takes_the_worst_agent() {
        let v = json!({"repo": "r", "task_id": 1, "features": [1, 2], "setting": "coop",
            "ended_at": "2026-01-01T10:00:00", "total_cost": 1.0,
            "agents": {"agent1": {"status": "Submitted"}, "agent2": {"status": "LimitsExceeded", "error": "steps"}}});
        let r = RunResult::parse(&v).unwrap();
        assert_eq!(r.status, AgentStatus::LimitsExceeded);
        assert_eq!(r.error.as_deref(), Some("steps"));
    }

    #[test]
    fn fast_and_slow_paths_agree() {
        let coop = json!({"repo": "r", "task_id": 1, "features": [2, 1], "setting": "coop",
            "ended_at": "2026-01-01T10:00:00", "total_cost": null, "duration_seconds": 3.5,
            "agents": {"agent1": {"status": "Error", "error": "boom"}, "agent2": {"status": "LimitsExceeded"}}});
        for v in [solo(), coop] {
            let fast = RunResult::from_text(&v.to_string()).unwrap();
            let slow = RunResult::parse(&v).unwrap();
            assert_eq!(format!("{fast:?}"), format!("{slow:?}"));
        }
        let mut bad = solo();
        bad["agent"]["error"] = json!({"code": 3});
        assert_eq!(RunResult::from_text(&bad.to_string()).unwrap().error.as_deref(), Some("{\"code\":3}"));
        assert_eq!(RunResult::from_text("{\"repo\": ").unwrap_err(), "truncated JSON (ends at line 1, column 9)");
    }

    #[test]
    fn reads_eval() {
        let v = json!({"repo": "r", "task_id": 1, "features": [1, 2], "setting": "solo", "merge": null,
            "feature1": {"passed": true}, "feature2": {"passed": false}, "both_passed": false,
            "error": null, "evaluated_at": "2026-01-01T11:00:00"});
        let e = EvalResult::parse(&v).unwrap();
        assert!(!e.both_passed && e.error.is_none());
        assert_eq!(format!("{:?}", EvalResult::from_text(&v.to_string()).unwrap()), format!("{e:?}"));
        let mut bad = v.clone();
        bad["both_passed"] = json!(1);
        assert_eq!(EvalResult::parse(&bad).unwrap_err(), "field `both_passed`: expected true or false, found a number");
    }
}

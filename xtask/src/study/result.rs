//! The two small files the CLI writes per pair: `result.json` (what the agent
//! did) and `eval.json` (whether the tests passed). Trajectories and patches
//! are large: `edges::logs` reads only their sizes and last bytes.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::study::json::{Feature, Number, TaskId};
use crate::study::timestamp::Timestamp;

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
    /// The run that wrote it, as the file says (older files have none).
    pub run_name: Option<String>,
    /// The CLI's id of this one attempt (`uuid4().hex[:8]`).
    pub run_id: Option<String>,
    pub model: Option<String>,
    pub agent_framework: Option<String>,
    pub status: AgentStatus,
    /// The agent's (or first failing agent's) error message.
    pub error: Option<String>,
    /// Each agent as the file says: `solo`, or coop's by key (`agent1`, ...).
    pub agents: Vec<AgentRecord>,
    /// As written: `None` for a `null` cost (the CLI could not track it);
    /// negative or infinite values are kept for verify to name.
    pub total_cost: Option<f64>,
    pub duration_seconds: f64,
    pub ended_at: Timestamp,
}

/// The study's one rule of a valid cost: a number, finite and not negative.
/// `None` for a `null` cost (the CLI could not track it) and for an
/// impossible one; verify names both.
pub fn valid_cost(cost: Option<f64>) -> Option<f64> {
    cost.filter(|c| c.is_finite() && *c >= 0.0)
}

impl RunResult {
    /// The cost that counts toward spend: a missing or impossible cost is 0
    /// here, and verify reports it.
    pub fn cost(&self) -> f64 {
        valid_cost(self.total_cost).unwrap_or(0.0)
    }
}

/// The one model of result.json (solo and coop). Unknown keys are ignored
/// (the CLI adds some between releases); every error names its field path.
#[derive(Deserialize)]
struct RawResult {
    repo: String,
    task_id: TaskId,
    features: (Feature, Feature),
    setting: String,
    #[serde(default)]
    run_name: Option<String>,
    #[serde(default)]
    run_id: Option<Value>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    agent_framework: Option<String>,
    /// Required, but may be null.
    #[serde(deserialize_with = "nullable")]
    total_cost: Option<Number>,
    #[serde(default)]
    duration_seconds: Option<Number>,
    ended_at: String,
    #[serde(default)]
    agent: Option<RawAgent>,
    #[serde(default)]
    agents: Option<std::collections::BTreeMap<String, RawAgent>>,
}

#[derive(Deserialize)]
struct RawAgent {
    status: String,
    #[serde(default)]
    error: Option<Value>,
    #[serde(default)]
    steps: Option<Number>,
    #[serde(default)]
    patch_lines: Option<Number>,
    /// Coop: the feature the agent had, which names its files.
    #[serde(default)]
    feature_id: Option<Number>,
}

/// One agent of a pair: its status, error and steps, and the name its
/// patch and trajectory files carry (`solo`, or coop's `agent<feature>`).
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRecord {
    pub id: String,
    pub status: AgentStatus,
    pub error: Option<String>,
    pub steps: Option<u64>,
    /// Lines of its patch, as result.json says (0: an empty patch).
    pub patch_lines: Option<u64>,
}

fn nullable<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Number>, D::Error> {
    Option::<Number>::deserialize(d)
}

/// The CLI stores `str(e)`; anything else is still worth showing.
fn message(v: Option<Value>) -> Option<String> {
    match v? {
        Value::Null => None,
        Value::String(s) => Some(s),
        other => Some(other.to_string()),
    }
}

/// A count as the file says it, when it is a whole number.
fn whole(n: Option<Number>) -> Option<u64> {
    n.map(|n| n.0).filter(|n| *n >= 0.0 && n.fract() == 0.0).map(|n| n as u64)
}

impl RunResult {
    pub fn from_text(text: &str) -> Result<RunResult, String> {
        let r: RawResult = crate::study::json::from_str(text)?;
        let ended_at = Timestamp::parse(&r.ended_at).map_err(|e| format!("field `ended_at`: {e}"))?;
        let record = |id: String, a: RawAgent| AgentRecord {
            id,
            status: AgentStatus::parse(&a.status),
            error: message(a.error),
            steps: whole(a.steps),
            patch_lines: whole(a.patch_lines),
        };
        let agents: Vec<AgentRecord> = if r.setting == "solo" || r.agent.is_some() {
            vec![record("solo".into(), r.agent.ok_or("missing field `agent`")?)]
        } else {
            // Coop writes each agent's files as `agent<feature_id>` (runner/coop.py).
            r.agents
                .ok_or("missing field `agents`")?
                .into_iter()
                .map(|(key, a)| {
                    let id = a.feature_id.map(|f| format!("agent{}", f.0)).unwrap_or(key);
                    record(id, a)
                })
                .collect()
        };
        // Coop takes the worst of its agents; ties go to the first by name.
        let (status, error) = agents
            .iter()
            .map(|a| (a.status.clone(), a.error.clone()))
            .reduce(|w, x| if x.0.badness() > w.0.badness() { x } else { w })
            .ok_or("field `agents`: no agent has a status")?;
        Ok(RunResult {
            repo: r.repo,
            task_id: r.task_id.0,
            features: (r.features.0 .0, r.features.1 .0),
            setting: r.setting,
            run_name: r.run_name,
            run_id: r.run_id.and_then(|v| v.as_str().map(String::from)),
            model: r.model,
            agent_framework: r.agent_framework,
            status,
            error,
            agents,
            total_cost: r.total_cost.map(|n| n.0),
            duration_seconds: r.duration_seconds.map_or(0.0, |n| n.0),
            ended_at,
        })
    }
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
    /// Each feature's test output, reduced to what classifies it.
    pub tests: Vec<crate::study::class::FeatureTests>,
    /// A coop eval's `merge.status` as 0.0.29 writes it (clean, conflicts,
    /// missing_input, identical, error); `None` for solo (`merge: null`).
    pub merge: Option<String>,
}

#[derive(Deserialize)]
struct RawEval {
    repo: String,
    task_id: TaskId,
    features: (Feature, Feature),
    both_passed: bool,
    #[serde(default)]
    error: Option<Value>,
    evaluated_at: String,
    #[serde(default)]
    feature1: Option<RawFeature>,
    #[serde(default)]
    feature2: Option<RawFeature>,
    #[serde(default)]
    merge: Option<Value>,
}

#[derive(Deserialize)]
struct RawFeature {
    #[serde(default)]
    test_output: Option<Value>,
    #[serde(default)]
    passed: Option<Value>,
}

impl EvalResult {
    pub fn from_text(text: &str) -> Result<EvalResult, String> {
        let e: RawEval = crate::study::json::from_str(text)?;
        Ok(EvalResult {
            evaluated_at: Timestamp::parse(&e.evaluated_at).map_err(|x| format!("field `evaluated_at`: {x}"))?,
            repo: e.repo,
            task_id: e.task_id.0,
            features: (e.features.0 .0, e.features.1 .0),
            both_passed: e.both_passed,
            error: message(e.error),
            tests: [e.feature1, e.feature2]
                .into_iter()
                .flatten()
                .map(|f| crate::study::class::FeatureTests {
                    passed: f.passed.and_then(|v| v.as_bool()),
                    ..crate::study::class::FeatureTests::of(&message(f.test_output).unwrap_or_default())
                })
                .collect(),
            merge: e.merge.as_ref().and_then(|m| m.get("status")).and_then(|s| s.as_str()).map(String::from),
        })
    }
}

/// `logs/<run>/eval_summary.json`; only the counts matter here.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct EvalSummary {
    pub passed: u64,
    pub failed: u64,
    pub errors: u64,
}

impl EvalSummary {
    pub fn from_text(text: &str) -> Result<EvalSummary, String> {
        crate::study::json::from_str(text)
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

    fn parse(v: &Value) -> Result<RunResult, String> {
        RunResult::from_text(&v.to_string())
    }

    #[test]
    fn reads_solo_result_and_ignores_unknown_fields() {
        let r = parse(&solo()).unwrap();
        assert_eq!(r.features, (4, 3));
        assert_eq!(r.status, AgentStatus::Submitted);
        assert_eq!(r.total_cost, Some(0.2));
        assert_eq!(r.duration_seconds, 12.5);
    }

    #[test]
    fn names_missing_and_mistyped_fields() {
        let mut v = solo();
        v["agent"].as_object_mut().unwrap().remove("status");
        assert_eq!(parse(&v).unwrap_err(), "field `agent`: missing field `status`");
        let mut v = solo();
        v["total_cost"] = json!("0.2");
        assert_eq!(parse(&v).unwrap_err(), "field `total_cost`: invalid type: string \"0.2\", expected a number");
        let mut v = solo();
        v.as_object_mut().unwrap().remove("total_cost");
        assert_eq!(parse(&v).unwrap_err(), "missing field `total_cost`");
        assert_eq!(RunResult::from_text("[1]").unwrap_err(), "expected a JSON object, found an array");
        assert_eq!(RunResult::from_text("{\"repo\": ").unwrap_err(), "truncated JSON (ends at line 1, column 9)");
    }

    #[test]
    fn out_of_range_numbers_are_errors_not_truncations() {
        let mut v = solo();
        v["features"] = json!([4294967298u64, 3]);
        assert_eq!(
            parse(&v).unwrap_err(),
            "field `features[0]`: invalid value: integer `4294967298`, expected a feature number (0 to 4294967295)"
        );
        let mut v = solo();
        v["task_id"] = json!(-1);
        assert!(parse(&v).unwrap_err().starts_with("field `task_id`: invalid value: integer `-1`"));
    }

    #[test]
    fn impossible_times_name_the_field() {
        let mut v = solo();
        v["ended_at"] = json!("2026-02-31T10:00:00");
        assert!(parse(&v).unwrap_err().starts_with("field `ended_at`: \"2026-02-31T10:00:00\" is not an ISO 8601"));
    }

    #[test]
    fn null_cost_is_kept_as_none() {
        let mut v = solo();
        v["total_cost"] = Value::Null;
        let r = parse(&v).unwrap();
        assert_eq!((r.total_cost, r.cost()), (None, 0.0));
        v["total_cost"] = json!(-1.0);
        assert_eq!(parse(&v).unwrap().cost(), 0.0);
    }

    #[test]
    fn coop_takes_the_worst_agent() {
        let v = json!({"repo": "r", "task_id": 1, "features": [1, 2], "setting": "coop",
            "ended_at": "2026-01-01T10:00:00", "total_cost": 1.0,
            "agents": {"agent1": {"status": "Submitted"}, "agent2": {"status": "LimitsExceeded", "error": "steps"}}});
        let r = parse(&v).unwrap();
        assert_eq!(r.status, AgentStatus::LimitsExceeded);
        assert_eq!(r.error.as_deref(), Some("steps"));
        let mut bad = solo();
        bad["agent"]["error"] = json!({"code": 3});
        assert_eq!(parse(&bad).unwrap().error.as_deref(), Some("{\"code\":3}"));
        let empty = json!({"repo": "r", "task_id": 1, "features": [1, 2], "setting": "coop",
            "ended_at": "2026-01-01T10:00:00", "total_cost": 1.0, "agents": {}});
        assert_eq!(parse(&empty).unwrap_err(), "field `agents`: no agent has a status");
    }

    #[test]
    fn reads_eval() {
        let v = json!({"repo": "r", "task_id": 1, "features": [1, 2], "setting": "solo", "merge": null,
            "feature1": {"passed": true}, "feature2": {"passed": false}, "both_passed": false,
            "error": null, "evaluated_at": "2026-01-01T11:00:00"});
        let e = EvalResult::from_text(&v.to_string()).unwrap();
        assert!(!e.both_passed && e.error.is_none());
        let mut bad = v.clone();
        bad["both_passed"] = json!(1);
        assert_eq!(
            EvalResult::from_text(&bad.to_string()).unwrap_err(),
            "field `both_passed`: invalid type: integer `1`, expected a boolean"
        );
    }
}

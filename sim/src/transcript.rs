//! What an agent's trajectory holds, as the simulator writes it.

use serde_json::{json, Value};

/// A short trajectory as mini_swe_agent_v2 writes one: the task, a look,
/// the messages this agent sent, the submission, the exit. An agent that
/// ended in an Error keeps an empty one (its story is the error).
pub(crate) fn trajectory(status: &str, error: bool, patch: &str, sent: &[&Value]) -> Vec<Value> {
    if error {
        return Vec::new();
    }
    let mut m = vec![
        json!({"role": "system", "content": "You are a helpful assistant that can interact with a computer shell to solve programming tasks."}),
        json!({"role": "user", "content": "Implement the feature described in feature.md in the repository at /workspace/repo."}),
        json!({"role": "assistant", "content": "THOUGHT: I will look at the module first.\n\n```bash\nsed -n 1,40p src/feature.py\n```"}),
        json!({"role": "tool", "content": "<returncode>0</returncode>\n<output>def compute(arguments, options, context):\n    ...</output>"}),
    ];
    for s in sent {
        m.push(json!({"role": "assistant", "content": format!("THOUGHT: tell my teammate.\n\n```bash\nsend_message {} \"{}\"\n```", s["to"].as_str().unwrap_or("?"), s["message"].as_str().unwrap_or(""))}));
    }
    m.push(json!({"role": "assistant", "content": "THOUGHT: The feature is in place; submitting.\n\n```bash\necho COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && git diff\n```"}));
    m.push(json!({"role": "exit", "content": "", "extra": {"exit_status": status, "submission": format!("{} lines", patch.lines().count())}}));
    m
}

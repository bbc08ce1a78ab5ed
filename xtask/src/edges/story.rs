//! Reading one (run, pair)'s story from its folder: each agent's trajectory
//! (its last messages) and patch (its first lines), a coop pair's
//! `conversation.json`, the eval's test outputs. The words are
//! `study::story`'s. Only regular files are opened, each bounded: a story
//! never waits on a pipe nor reads a trajectory past `max_trajectory_bytes`.

use std::path::Path;

use crate::edges::layout;
use crate::study::pair::PairId;
use crate::study::run::RunLogs;
use crate::study::story::{self, Conversation, Stories, Story, LAST_CONVERSATION, LAST_MESSAGES, TEST_LINES};

/// A patch is read up to this many bytes for its first lines.
const PATCH_HEAD_BYTES: u64 = 16 << 10;

/// The story of `pair` in `logs`, from its folder under `cooperbench_dir`.
pub fn read(cooperbench_dir: &Path, logs: &RunLogs, pair: &PairId, max_trajectory_bytes: u64) -> Story {
    let mut s = Story::default();
    let Some(p) = logs.pairs.get(pair) else { return s };
    let dir = cooperbench_dir.join(&p.rel_dir);
    let agents: Vec<String> =
        p.result.as_ref().map(|r| r.agents.iter().map(|a| a.id.clone()).collect()).unwrap_or_default();
    for a in agents {
        let path = dir.join(layout::trajectory_file(&a));
        let last = crate::edges::logs::trajectory_messages(&path, max_trajectory_bytes).map(|m| {
            let skip = m.len().saturating_sub(LAST_MESSAGES);
            m.into_iter().skip(skip).collect()
        });
        s.messages.insert(a.clone(), last);
        let head = crate::edges::logs::read_head(&dir.join(layout::patch_file(&a)), PATCH_HEAD_BYTES)
            .map(|bytes| story::patch_head(&String::from_utf8_lossy(&bytes)));
        s.patches.insert(a, head);
    }
    if p.setting != "solo" {
        s.conversation = Some(conversation(&dir.join(layout::CONVERSATION)));
    }
    s.tests = crate::edges::logs::test_outputs(&dir.join(layout::EVAL))
        .into_iter()
        .map(|out| story::output_end(&out, TEST_LINES))
        .collect();
    s
}

/// Every story of these runs over these pairs (a pair a run has no folder
/// for has none).
pub fn read_all(cooperbench_dir: &Path, runs: &[&RunLogs], pairs: &[PairId], max_trajectory_bytes: u64) -> Stories {
    let mut out = Stories::new();
    for r in runs {
        for p in pairs.iter().filter(|p| r.pairs.contains_key(p)) {
            out.insert((r.name.clone(), p.clone()), read(cooperbench_dir, r, p, max_trajectory_bytes));
        }
    }
    out
}

/// `conversation.json` as runner/coop.py writes it: a list of the messages
/// sent, each `{from, to, message, timestamp, feature_id}`.
fn conversation(path: &Path) -> Result<Conversation, String> {
    let v = crate::edges::logs::read_json(path)?;
    let list = v.as_array().ok_or("conversation.json: not a list")?;
    let field = |m: &serde_json::Value, k: &str| match m.get(k) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => "?".to_string(),
        Some(other) => other.to_string(),
    };
    let skip = list.len().saturating_sub(LAST_CONVERSATION);
    let last = list[skip..].iter().map(|m| (field(m, "from"), field(m, "to"), field(m, "message"))).collect();
    Ok(Conversation { sent: list.len(), last })
}

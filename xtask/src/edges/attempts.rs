//! `logs/<run>/harness-attempts.jsonl`: every time `seeds` is about to pay
//! for a pair (the canary, a plain run, a retry), one line: when, which
//! pair, its class before (`missing` for a pair never run), and which
//! invocation. Appended, never rewritten; `verify` counts a pair's lines to
//! name the pairs that needed more than one attempt.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::edges::layout;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub at: String,
    pub pair: String,
    pub class_before: String,
    pub invocation: String,
}

/// Appends the attempts, one JSON line each.
pub fn record(cooperbench_dir: &Path, run: &str, attempts: &[Attempt]) -> std::io::Result<()> {
    let dir = layout::run_dir(cooperbench_dir, run);
    std::fs::create_dir_all(&dir)?;
    let mut f = crate::edges::write::append(&layout::attempts(cooperbench_dir, run))?;
    let mut text = String::new();
    for a in attempts {
        text += &serde_json::to_string(a).map_err(std::io::Error::other)?;
        text.push('\n');
    }
    f.write_all(text.as_bytes())
}

/// The attempts read back per pair, in order; lines that do not parse are
/// skipped (an interrupted write leaves at most a cut last line). Only a
/// regular file is read, and at most 64 MiB of it.
pub fn read(cooperbench_dir: &Path, run: &str) -> BTreeMap<String, Vec<Attempt>> {
    let path = layout::attempts(cooperbench_dir, run);
    let mut by_pair: BTreeMap<String, Vec<Attempt>> = BTreeMap::new();
    let bytes = crate::edges::read::bytes(&path, 64 << 20).ok().flatten().unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    for a in text.lines().filter_map(|l| serde_json::from_str::<Attempt>(l).ok()) {
        by_pair.entry(a.pair.clone()).or_default().push(a);
    }
    by_pair
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_append_and_read_back_by_pair() {
        let dir = std::env::temp_dir().join(format!("xtask-attempts-{}", std::process::id()));
        let a = |pair: &str, class: &str, inv: &str| Attempt {
            at: "2026-12-04T10:00:00".into(),
            pair: pair.into(),
            class_before: class.into(),
            invocation: inv.into(),
        };
        record(&dir, "s1", &[a("r/1/f1_f2", "missing", "canary")]).unwrap();
        record(&dir, "s1", &[a("r/1/f1_f3", "missing", "run 1"), a("r/1/f1_f3", "infra_provider", "run 2")]).unwrap();
        // A cut last line (an interrupted write) is skipped.
        let path = layout::attempts(&dir, "s1");
        let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"at\": \"2026").unwrap();
        let back = read(&dir, "s1");
        assert_eq!(back["r/1/f1_f2"].len(), 1);
        assert_eq!(
            back["r/1/f1_f3"].iter().map(|a| a.class_before.as_str()).collect::<Vec<_>>(),
            ["missing", "infra_provider"]
        );
        assert!(read(&dir, "no-such-run").is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

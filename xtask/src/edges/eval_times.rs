//! `logs/<run>/harness-eval-times.jsonl`: how long each pair's eval took,
//! measured by the harness around a `cooperbench eval` of that pair alone
//! (the CLI records no duration in eval.json). One JSON line per eval,
//! appended; the last line of a pair is its time.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::edges::layout;
use crate::study::pair::PairId;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalTime {
    pub at: String,
    pub pair: String,
    pub seconds: f64,
}

pub fn record(cooperbench_dir: &Path, run: &str, t: &EvalTime) -> std::io::Result<()> {
    std::fs::create_dir_all(layout::run_dir(cooperbench_dir, run))?;
    let mut f = crate::edges::write::append(&layout::eval_times(cooperbench_dir, run))?;
    let line = serde_json::to_string(t).map_err(std::io::Error::other)? + "\n";
    f.write_all(line.as_bytes())
}

/// The last time per pair; lines that do not parse are skipped (a cut last
/// line). Only a regular file is read, and at most 16 MiB of it.
pub fn read(cooperbench_dir: &Path, run: &str) -> BTreeMap<PairId, f64> {
    let path = layout::eval_times(cooperbench_dir, run);
    let mut out = BTreeMap::new();
    let bytes = crate::edges::read::bytes(&path, crate::edges::read::SMALL).ok().flatten().unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    for t in text.lines().filter_map(|l| serde_json::from_str::<EvalTime>(l).ok()) {
        if let (Some(pair), true) = (PairId::parse(&t.pair), t.seconds.is_finite() && t.seconds >= 0.0) {
            out.insert(pair, t.seconds);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_time_of_a_pair_wins_and_a_cut_line_is_skipped() {
        let dir = std::env::temp_dir().join(format!("xtask-eval-times-{}", std::process::id()));
        let t = |pair: &str, seconds| EvalTime { at: "2026-12-04T10:00:00".into(), pair: pair.into(), seconds };
        record(&dir, "o", &t("r_task/1/f1_f2", 12.0)).unwrap();
        record(&dir, "o", &t("r_task/1/f1_f2", 8.5)).unwrap();
        record(&dir, "o", &t("r_task/1/f1_f3", f64::NAN)).unwrap();
        let mut f = std::fs::OpenOptions::new().append(true).open(layout::eval_times(&dir, "o")).unwrap();
        f.write_all(b"{\"at\": \"20").unwrap();
        let back = read(&dir, "o");
        assert_eq!(back.len(), 1, "{back:?}");
        assert_eq!(back[&PairId::new("r_task", 1, 1, 2)], 8.5);
        assert!(read(&dir, "none").is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

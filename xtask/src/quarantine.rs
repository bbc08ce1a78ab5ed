//! Moving unreadable result.json / eval.json aside (never deleting them), so
//! that the CLI, which would otherwise fail on or skip that pair forever,
//! redoes it. The file keeps its name plus `.corrupt-N`.

use std::path::{Path, PathBuf};

use crate::logs::{self, QUARANTINE_LOG, QUARANTINE_TAG, SETTINGS};

/// Quarantines every unparseable `file_name` (result.json or eval.json) in a
/// run; returns the new paths.
pub fn run(cooperbench_dir: &Path, run: &str, file_name: &str) -> anyhow::Result<Vec<PathBuf>> {
    let mut moved = Vec::new();
    for setting in SETTINGS {
        let base = logs::run_dir(cooperbench_dir, run).join(setting);
        let pattern = format!("{}/*/*/*/{file_name}", glob::Pattern::escape(&base.to_string_lossy()));
        for path in glob::glob(&pattern)?.flatten() {
            let readable = std::fs::read_to_string(&path)
                .ok()
                .is_some_and(|t| serde_json::from_str::<serde_json::Value>(&t).is_ok_and(|v| v.is_object()));
            if !readable {
                moved.push(move_aside(&path)?);
            }
        }
    }
    if !moved.is_empty() {
        let mut log =
            std::fs::read_to_string(logs::run_dir(cooperbench_dir, run).join(QUARANTINE_LOG)).unwrap_or_default();
        for p in &moved {
            let rel = p.strip_prefix(cooperbench_dir).unwrap_or(p);
            log.push_str(&format!("{}\n", rel.display()));
        }
        std::fs::write(logs::run_dir(cooperbench_dir, run).join(QUARANTINE_LOG), log)?;
    }
    Ok(moved)
}

pub fn move_aside(path: &Path) -> anyhow::Result<PathBuf> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let target = (1..)
        .map(|n| path.with_file_name(format!("{name}{QUARANTINE_TAG}{n}")))
        .find(|p| !p.exists())
        .expect("an unused name");
    std::fs::rename(path, &target)?;
    Ok(target)
}

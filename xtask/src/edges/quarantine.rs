//! Moving aside (never deleting) the result.json and eval.json files the CLI
//! itself cannot read, so that it redoes the pair instead of failing on it,
//! or skipping it, forever. Which files: the plan says (`plan::Step::Quarantine`);
//! each is read once more here and left alone if Python's json reads it.
//! The file keeps its name plus `.corrupt-N`.

use std::path::{Path, PathBuf};

use crate::edges::layout::{self, QUARANTINE_LOG, QUARANTINE_TAG};

/// Moves these files (relative to the checkout) aside and lists them in
/// the run's quarantine log; returns the new paths. A file that cannot be
/// read, or that Python reads, is not moved: that is an error.
pub fn aside(cooperbench_dir: &Path, run: &str, rel_paths: &[String]) -> anyhow::Result<Vec<PathBuf>> {
    let mut moved = Vec::new();
    for rel in rel_paths {
        let path = cooperbench_dir.join(rel);
        let bytes = std::fs::read(&path).map_err(|e| anyhow::anyhow!("{rel}: cannot read: {e}; nothing was moved"))?;
        anyhow::ensure!(
            !crate::study::json::python_reads(&bytes),
            "{rel}: Python's json reads it, so the CLI does: not moved"
        );
        moved.push(move_aside(&path)?);
    }
    if !moved.is_empty() {
        let log_path = layout::run_dir(cooperbench_dir, run).join(QUARANTINE_LOG);
        let mut log = crate::edges::read::text_or_empty(&log_path, crate::edges::read::SMALL)
            .map_err(|e| anyhow::anyhow!("{}: {e}", log_path.display()))?;
        for p in &moved {
            let rel = p.strip_prefix(cooperbench_dir).unwrap_or(p);
            log.push_str(&format!("{}\n", rel.display()));
        }
        crate::edges::write::replace(&log_path, log.as_bytes())?;
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

/// Moves a pair's whole folder aside (never deletes it), so that the CLI
/// runs the pair again as new; returns where it went, relative to the
/// checkout. (The attempt history and the events record it; the quarantine
/// log is for unreadable files.)
pub fn pair_aside(
    cooperbench_dir: &Path,
    run: &str,
    setting: &str,
    pair: &crate::study::pair::PairId,
) -> anyhow::Result<String> {
    let from = cooperbench_dir.join(layout::pair_rel(run, setting, pair));
    anyhow::ensure!(from.is_dir(), "{}: no such folder; nothing was moved", from.display());
    let rel = (1..)
        .map(|n| layout::moved_aside_rel(run, setting, pair, n))
        .find(|r| !cooperbench_dir.join(r).exists())
        .expect("an unused name");
    let to = cooperbench_dir.join(&rel);
    std::fs::create_dir_all(to.parent().unwrap_or(cooperbench_dir))?;
    std::fs::rename(&from, &to)?;
    Ok(rel)
}

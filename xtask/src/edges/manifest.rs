//! `logs/<run>/harness-manifest.json`: what made a seed run. The CLI's
//! `config.json` records no cooperbench version, and grading changed between
//! releases, so a seed made by another version or configuration must never
//! be mixed in silently: `seeds` refuses to resume it, `verify` checks its
//! results against it, and `outcomes.csv` carries its version.

use std::path::Path;

use sha2::Digest;

pub use crate::study::manifest::Manifest;

pub fn digest(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

impl Manifest {
    /// `None` when absent; `Some(Err)` names the file's problem.
    pub fn load(cooperbench_dir: &Path, run: &str) -> Option<Result<Manifest, String>> {
        let path = crate::edges::layout::manifest(cooperbench_dir, run);
        // Absent is "not made by seeds"; anything else at the path (a
        // folder, a pipe, a link to a device) is a problem to name.
        let meta = std::fs::symlink_metadata(&path).ok()?;
        if !meta.is_file() {
            return Some(Err("not a regular file".into()));
        }
        Some(
            crate::edges::read::text(&path, crate::edges::read::SMALL)
                .map_err(String::from)
                .and_then(|t| crate::study::json::from_str(&t)),
        )
    }

    pub fn write(&self, cooperbench_dir: &Path, run: &str) -> anyhow::Result<()> {
        let p = crate::edges::layout::manifest(cooperbench_dir, run);
        std::fs::create_dir_all(p.parent().unwrap_or(Path::new(".")))?;
        crate::edges::write::replace(&p, (serde_json::to_string_pretty(self)? + "\n").as_bytes())?;
        Ok(())
    }
}

/// The installed cooperbench's version: a Python console script asks its
/// own interpreter's package metadata (the CLI has no `--version`);
/// anything else (the simulator) is asked `--version`.
/// The Python a console script runs under (its `#!` line); `None` for a
/// program that is not a Python script (the simulator).
pub fn python_of(program: &Path) -> Option<std::path::PathBuf> {
    let head = crate::edges::read::bytes(program, crate::edges::read::SMALL).ok()??;
    let first = head.split(|b| *b == b'\n').next().unwrap_or_default();
    let first = String::from_utf8_lossy(first);
    let interp = first.strip_prefix("#!")?;
    interp.contains("python").then(|| interp.split_whitespace().next().map(std::path::PathBuf::from)).flatten()
}

pub fn cooperbench_version(program: &Path) -> Option<String> {
    let out = match python_of(program) {
        Some(python) => duct::cmd!(python, "-c", "import importlib.metadata as m; print(m.version('cooperbench'))")
            .stdout_capture()
            .stderr_null()
            .unchecked()
            .run()
            .ok()?,
        _ => duct::cmd!(program, "--version").stdout_capture().stderr_null().unchecked().run().ok()?,
    };
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let v = text.split_whitespace().last()?.to_string();
    v.chars().next().is_some_and(|c| c.is_ascii_digit()).then_some(v)
}

#[cfg(test)]
mod tests {
    #[test]
    fn digests_are_sha256_in_hex() {
        assert_eq!(super::digest(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}

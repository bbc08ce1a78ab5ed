//! What the CLI says about itself (it answers `--help`; its version),
//! asked once per installation and cached: `cooperbench --help` imports
//! every adapter (the openhands one imports modal) and takes seconds, and
//! preflight asks it on every `seeds`, `study` and `oracle`. The cache is
//! keyed by the installation's identity: the program, its interpreter, the
//! site-packages folder, and every file of the `cooperbench` package and
//! its metadata (path, size, modification time). Any change there (a
//! reinstall, an upgrade, an edited file) asks again.
//!
//! Kept in the project's own `target/xtask-cache/cli-facts.json`, never in
//! the user's virtualenv.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What the installation said about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    /// As the package metadata reports it (`None`: it cannot be told).
    pub version: Option<String>,
}

/// Where the answers come from, for the preflight line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whence {
    Asked,
    Cached,
}

fn cache_file() -> PathBuf {
    crate::edges::layout::project_root().join("target/xtask-cache/cli-facts.json")
}

/// A stat line for `path` (size and modification time), or nothing.
fn stat(path: &Path) -> Option<String> {
    let m = std::fs::metadata(path).ok()?;
    let t = m.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?;
    Some(format!("{}\t{}\t{}.{:09}\n", path.display(), m.len(), t.as_secs(), t.subsec_nanos()))
}

/// The installation's identity as a digest; `None` when the program
/// cannot be looked at (then nothing is cached).
pub fn identity(program: &Path) -> Option<String> {
    let program = std::fs::canonicalize(program).ok()?;
    let mut parts = vec![stat(&program)?];
    if let Some(python) = crate::edges::manifest::python_of(&program) {
        let python = std::fs::canonicalize(&python).unwrap_or(python);
        parts.extend(stat(&python));
        // <venv>/bin/cooperbench -> <venv>/lib/python3.X/site-packages
        let venv = program.parent().and_then(Path::parent).map(Path::to_path_buf).unwrap_or_default();
        let libs = std::fs::read_dir(venv.join("lib")).into_iter().flatten().flatten();
        for lib in libs {
            let site = lib.path().join("site-packages");
            parts.extend(stat(&site));
            let Ok(entries) = std::fs::read_dir(&site) else { continue };
            let mut names: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    let n = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                    n == "cooperbench" || (n.starts_with("cooperbench-") && n.ends_with(".dist-info"))
                })
                .collect();
            names.sort();
            let mut stack = names;
            while let Some(p) = stack.pop() {
                if p.is_dir() {
                    let mut inner: Vec<PathBuf> =
                        std::fs::read_dir(&p).into_iter().flatten().flatten().map(|e| e.path()).collect();
                    inner.sort();
                    stack.extend(inner.into_iter().filter(|p| !p.ends_with("__pycache__")));
                } else {
                    parts.extend(stat(&p));
                }
            }
        }
    }
    Some(crate::edges::manifest::digest(parts.concat().as_bytes()))
}

fn load() -> BTreeMap<String, Facts> {
    crate::edges::read::text_or_empty(&cache_file(), 1 << 20)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

fn store(key: &str, facts: &Facts) {
    let mut all = load();
    all.insert(key.to_string(), facts.clone());
    // Stale keys are installations gone or changed; a few are kept.
    while all.len() > 32 {
        let Some(first) = all.keys().next().cloned() else { break };
        all.remove(&first);
    }
    let path = cache_file();
    if std::fs::create_dir_all(path.parent().unwrap_or(Path::new("."))).is_ok() {
        // A cache: a failure to write it costs the next preflight seconds.
        let _ = crate::edges::write::replace(&path, serde_json::to_string_pretty(&all).unwrap_or_default().as_bytes());
    }
}

/// The facts of the installation at `program`: from the cache when its
/// identity is unchanged, else asked (`--help` must answer, then the
/// version) and cached.
pub fn known(sh: &crate::edges::short::Short, program: &Path) -> anyhow::Result<(Facts, Whence)> {
    let key = identity(program);
    if let Some(f) = key.as_ref().and_then(|k| load().remove(k)) {
        return Ok((f, Whence::Cached));
    }
    crate::edges::cli::answers_help(sh, program)?;
    let facts = Facts { version: crate::edges::manifest::cooperbench_version(program) };
    if let Some(k) = key {
        store(&k, &facts);
    }
    Ok((facts, Whence::Asked))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asked_once_per_installation_and_again_when_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let calls = dir.path().join("calls");
        let program = dir.path().join("cooperbench");
        let script = |v: &str| {
            format!(
                "#!/bin/sh\necho \"$1\" >> '{}'\n[ \"$1\" = --version ] && echo 'cooperbench {v}'\nexit 0\n",
                calls.display()
            )
        };
        std::fs::write(&program, script("1.0")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        let sh = crate::edges::short::Short::new();
        let asked = || std::fs::read_to_string(&calls).unwrap_or_default().lines().count();
        let (f, w) = known(&sh, &program).unwrap();
        assert_eq!((f.version.as_deref(), w, asked()), (Some("1.0"), Whence::Asked, 2));
        let (f, w) = known(&sh, &program).unwrap();
        assert_eq!((f.version.as_deref(), w, asked()), (Some("1.0"), Whence::Cached, 2));
        // Another installation at the same path (its file changed): asked again.
        std::fs::write(&program, script("1.1")).unwrap();
        let (f, w) = known(&sh, &program).unwrap();
        assert_eq!((f.version.as_deref(), w, asked()), (Some("1.1"), Whence::Asked, 4));
    }
}

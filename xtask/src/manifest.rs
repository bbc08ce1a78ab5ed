//! `logs/<run>/harness-manifest.json`: what made a seed run. The CLI's
//! `config.json` records no cooperbench version, and grading changed between
//! releases, so a seed made by another version or configuration must never
//! be mixed in silently: `seeds` refuses to resume it, `verify` checks its
//! results against it, and `outcomes.csv` carries its version.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::Digest;

pub const FILE: &str = "harness-manifest.json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// As the installed package reports it; `None` when it cannot be told.
    pub cooperbench_version: Option<String>,
    pub model: String,
    pub agent: String,
    pub subset: String,
    pub backend: String,
    /// sha256 of the `--agent-config` YAML, `None` when there is none.
    pub agent_config_sha256: Option<String>,
    pub harness_version: String,
}

pub fn path(cooperbench_dir: &Path, run: &str) -> PathBuf {
    crate::logs::run_dir(cooperbench_dir, run).join(FILE)
}

pub fn digest(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

impl Manifest {
    /// `None` when absent; `Some(Err)` names the file's problem.
    pub fn load(cooperbench_dir: &Path, run: &str) -> Option<Result<Manifest, String>> {
        let text = std::fs::read_to_string(path(cooperbench_dir, run)).ok()?;
        Some(crate::json::from_str(&text))
    }

    pub fn write(&self, cooperbench_dir: &Path, run: &str) -> anyhow::Result<()> {
        let p = path(cooperbench_dir, run);
        std::fs::create_dir_all(p.parent().unwrap_or(Path::new(".")))?;
        std::fs::write(&p, serde_json::to_string_pretty(self)? + "\n")?;
        Ok(())
    }

    /// What differs from `now`, one `field: was X, now Y` each. The
    /// harness's own version is left out: it does not grade anything.
    pub fn differences(&self, now: &Manifest) -> Vec<String> {
        let show = |o: &Option<String>| o.clone().unwrap_or_else(|| "unknown".into());
        let mut d = Vec::new();
        let mut cmp = |field: &str, was: String, is: String| {
            if was != is {
                d.push(format!("{field}: was {was}, now {is}"));
            }
        };
        cmp("cooperbench_version", show(&self.cooperbench_version), show(&now.cooperbench_version));
        cmp("model", self.model.clone(), now.model.clone());
        cmp("agent", self.agent.clone(), now.agent.clone());
        cmp("subset", self.subset.clone(), now.subset.clone());
        cmp("backend", self.backend.clone(), now.backend.clone());
        cmp("agent_config_sha256", show(&self.agent_config_sha256), show(&now.agent_config_sha256));
        d
    }
}

/// The installed cooperbench's version: a Python console script asks its
/// own interpreter's package metadata (the CLI has no `--version`);
/// anything else (the simulator) is asked `--version`.
pub fn cooperbench_version(program: &Path) -> Option<String> {
    let head = std::fs::read(program).ok()?;
    let first = head.split(|b| *b == b'\n').next().unwrap_or_default();
    let first = String::from_utf8_lossy(first);
    let out = match first.strip_prefix("#!") {
        Some(interp) if interp.contains("python") => {
            let python = interp.split_whitespace().next()?;
            duct::cmd!(python, "-c", "import importlib.metadata as m; print(m.version('cooperbench'))")
                .stdout_capture()
                .stderr_null()
                .unchecked()
                .run()
                .ok()?
        }
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
    use super::*;

    fn m() -> Manifest {
        Manifest {
            cooperbench_version: Some("0.0.29".into()),
            model: "command-a-03-2025".into(),
            agent: "mini_swe_agent_v2".into(),
            subset: "lite".into(),
            backend: "docker".into(),
            agent_config_sha256: None,
            harness_version: "0.1.0".into(),
        }
    }

    #[test]
    fn differences_name_each_field() {
        let mut now = m();
        assert!(m().differences(&now).is_empty());
        now.cooperbench_version = Some("0.0.28".into());
        now.harness_version = "9".into();
        now.agent_config_sha256 = Some(digest(b"model: {}"));
        let d = m().differences(&now);
        assert_eq!(d.len(), 2, "{d:?}");
        assert_eq!(d[0], "cooperbench_version: was 0.0.29, now 0.0.28");
        assert!(d[1].starts_with("agent_config_sha256: was unknown, now "));
        assert_eq!(digest(b"").len(), 64);
    }
}

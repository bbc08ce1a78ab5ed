//! Provenance: what made a run. For seeds the harness made, the manifest it
//! wrote beside the run (`logs/<run>/harness-manifest.json`; the CLI's
//! `config.json` records no cooperbench version, and grading changed between
//! releases); the rule that says a run was "made otherwise" lives here once.

use serde::{Deserialize, Serialize};

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

impl Manifest {
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
        now.agent_config_sha256 = Some("ab".repeat(32));
        let d = m().differences(&now);
        assert_eq!(d.len(), 2, "{d:?}");
        assert_eq!(d[0], "cooperbench_version: was 0.0.29, now 0.0.28");
        assert!(d[1].starts_with("agent_config_sha256: was unknown, now "));
    }
}

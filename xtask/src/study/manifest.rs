//! `logs/<run>/harness-manifest.json` as data: what made a seed run (the
//! CLI's version, model, agent, subset, backend, agent config). Read and
//! written by `edges::manifest`; compared here and by `provenance`.

use serde::{Deserialize, Serialize};

/// The manifest's file name in a run folder (`edges::layout` places it).
pub const MANIFEST_FILE: &str = "harness-manifest.json";

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
    /// On Modal: the run's own environment (its sandboxes live there only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modal_environment: Option<String>,
    /// The dataset the run was graded on, pair by pair (`study::dataset`);
    /// absent in manifests of older harnesses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<crate::study::dataset::DatasetRecord>,
    /// The task images, before the first invocation and after the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<crate::study::images::ImagesRecord>,
    /// `coop` for a coop arm's run, so that it reads as one before any
    /// result (or the CLI's config.json) exists; absent: solo, or a
    /// manifest of an older harness.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setting: Option<String>,
    /// A coop arm's run: whether its agents could message each other.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messaging: Option<bool>,
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
        // The pairs whose files changed since the run began: resumed, they
        // would be graded on other task text or tests than its first pairs.
        if let (Some(then), Some(is)) = (&self.dataset, &now.dataset) {
            let changed = crate::study::dataset::changed_since(then, is);
            if !changed.is_empty() {
                d.push(format!(
                    "dataset: {} pair(s) changed since it began: {}",
                    changed.len(),
                    crate::study::dataset::list(&changed, 5)
                ));
            }
        }
        d
    }
}

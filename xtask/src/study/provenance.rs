//! Provenance: what made a run. For seeds the harness made, the manifest it
//! wrote beside the run (`logs/<run>/harness-manifest.json`; the CLI's
//! `config.json` records no cooperbench version, and grading changed between
//! releases); the rule that says a run was "made otherwise" lives here once.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::study::problem::Problem;
use crate::study::run::RunLogs;

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

/// The study's one rule of "this result was made otherwise": where a result
/// sits must be what it says (setting and `run_name`: a copied folder keeps
/// the name of the run that made it), and every result of a run was made by
/// one model and one agent: those of the harness's manifest when there is
/// one, else of the run's config.json when it names them, else those most of
/// its results say.
pub fn made_otherwise(run: &RunLogs) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (pair, logs) in &run.pairs {
        let Some(r) = &logs.result else { continue };
        let mut disagree = |field: &str, says: &str, expected: &str| {
            problems.push(
                Problem::failure(
                    "provenance",
                    format!("field `{field}` says {says:?}, expected {expected:?} (from its folder)"),
                )
                .run(&run.name)
                .pair(pair)
                .path(format!("{}/result.json", logs.rel_dir)),
            )
        };
        if r.setting != logs.setting {
            disagree("setting", &r.setting, &logs.setting);
        }
        if let Some(run_name) = r.run_name.as_deref().filter(|n| *n != run.name) {
            disagree("run_name", run_name, &run.name);
        }
    }
    let manifest = match &run.manifest {
        Some(Ok(m)) => Some(m),
        Some(Err(e)) => {
            problems.push(
                Problem::failure("unreadable_manifest", e.clone())
                    .run(&run.name)
                    .path(format!("logs/{}/{}", run.name, MANIFEST_FILE)),
            );
            None
        }
        None => None,
    };
    type Get = fn(&crate::study::result::RunResult) -> Option<&String>;
    let config = run.config.as_ref();
    let fields: [(&str, Get, Option<&String>); 2] = [
        ("model", |r| r.model.as_ref(), manifest.map(|m| &m.model).or(config.and_then(|c| c.model.as_ref()))),
        (
            "agent_framework",
            |r| r.agent_framework.as_ref(),
            manifest.map(|m| &m.agent).or(config.and_then(|c| c.agent_framework.as_ref())),
        ),
    ];
    for (field, get, configured) in fields {
        let expected = match configured {
            Some(v) => v.clone(),
            None => {
                let mut votes: BTreeMap<&String, usize> = BTreeMap::new();
                for r in run.pairs.values().filter_map(|p| p.result.as_ref()) {
                    if let Some(v) = get(r) {
                        *votes.entry(v).or_default() += 1;
                    }
                }
                match votes.into_iter().max_by_key(|(v, n)| (*n, std::cmp::Reverse(*v))) {
                    Some((v, _)) => v.clone(),
                    None => continue,
                }
            }
        };
        let source = match (manifest, configured) {
            (Some(_), _) => MANIFEST_FILE,
            (None, Some(_)) => "config.json",
            (None, None) => "most of the run's results",
        };
        for (pair, logs) in &run.pairs {
            let Some(says) = logs.result.as_ref().and_then(get) else { continue };
            if *says != expected {
                problems.push(
                    Problem::failure(
                        "provenance",
                        format!("field `{field}` says {says:?}, expected {expected:?} (from {source})"),
                    )
                    .run(&run.name)
                    .pair(pair)
                    .path(format!("{}/result.json", logs.rel_dir)),
                );
            }
        }
    }
    problems
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

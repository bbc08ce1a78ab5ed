//! Provenance: what made a run. For seeds the harness made, the manifest it
//! wrote beside the run (`logs/<run>/harness-manifest.json`; the CLI's
//! `config.json` records no cooperbench version, and grading changed between
//! releases); the rule that says a run was "made otherwise" lives here once.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::study::manifest::{Manifest, MANIFEST_FILE};
use crate::study::problem::{Check, Problem};
use crate::study::run::RunLogs;

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
                    Check::Provenance,
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
                Problem::failure(Check::UnreadableManifest, e.clone())
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
                        Check::Provenance,
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

/// Where a provenance value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The harness's manifest: it made the run.
    Manifest,
    /// The CLI's `config.json`.
    ConfigJson,
    /// Every result of the run says it.
    Results,
    /// The checkout's git history, at the run's time: an inference.
    GitHistory,
    Unknown,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::Manifest => "manifest",
            Source::ConfigJson => "config.json",
            Source::Results => "results",
            Source::GitHistory => "inferred from git history",
            Source::Unknown => "unknown",
        }
    }
}

/// One field of a run's provenance: its value when known, and whence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Known {
    pub value: Option<String>,
    pub source: Source,
}

impl Known {
    fn unknown() -> Known {
        Known { value: None, source: Source::Unknown }
    }

    fn from(value: Option<&String>, source: Source) -> Known {
        match value {
            Some(v) => Known { value: Some(v.clone()), source },
            None => Known::unknown(),
        }
    }

    pub fn shown(&self) -> String {
        match &self.value {
            Some(v) => format!("{v} ({})", self.source.name()),
            None => "unknown".into(),
        }
    }
}

/// What made a run, field by field, never guessed: a field no file states
/// is unknown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Provenance {
    pub run: String,
    pub model: Known,
    pub agent: Known,
    pub cli_version: Known,
    pub backend: Known,
    /// sha256 of the agent config YAML, or "none".
    pub agent_config: Known,
    /// The dataset it was graded on (`study::dataset`): the commit it was
    /// recorded at, or inferred from git history, or unknown. Compared pair
    /// by pair (`study::changed`), not here.
    pub dataset: Known,
    /// Its task images: how many, and whether their ids were read.
    pub images: Known,
}

/// The fields the pooling rule compares, by the names `allow_mixed` takes.
pub const POOLED_FIELDS: [&str; 5] = ["model", "agent", "cli_version", "backend", "agent_config"];

impl Provenance {
    /// What a manifest says (a run the harness made, or is about to).
    pub fn from_manifest(run: &str, m: &Manifest) -> Provenance {
        let config = Some(m.agent_config_sha256.clone().unwrap_or_else(|| "none".into()));
        let images = m.images.as_ref().map(|i| {
            let changed = i.changed_during().len();
            match (i.verified, &i.after) {
                (false, _) => format!("{} unverified", i.before.len()),
                (true, None) => format!("{} ids read before", i.before.len()),
                (true, Some(_)) if changed > 0 => {
                    format!("{} ids read before and after, {changed} changed", i.before.len())
                }
                (true, Some(_)) => format!("{} ids read before and after", i.before.len()),
            }
        });
        Provenance {
            dataset: Known::from(m.dataset.as_ref().map(|d| d.shown()).as_ref(), Source::Manifest),
            images: Known::from(images.as_ref(), Source::Manifest),
            run: run.to_string(),
            model: Known::from(Some(&m.model), Source::Manifest),
            agent: Known::from(Some(&m.agent), Source::Manifest),
            cli_version: Known::from(m.cooperbench_version.as_ref(), Source::Manifest),
            backend: Known::from(Some(&m.backend), Source::Manifest),
            agent_config: Known::from(config.as_ref(), Source::Manifest),
        }
    }

    pub fn of(run: &RunLogs) -> Provenance {
        let dataset = match run.dataset() {
            Ok(d) if d.how == crate::study::dataset::How::Inferred => {
                let c = d.commit.as_deref().unwrap_or_default();
                Known::from(Some(&c[..c.len().min(12)].to_string()), Source::GitHistory)
            }
            Ok(d) => Known::from(Some(&d.shown()), Source::Manifest),
            Err(_) => Known::unknown(),
        };
        if let Some(Ok(m)) = &run.manifest {
            return Provenance { dataset, ..Provenance::from_manifest(&run.name, m) };
        }
        // A run the harness did not make: config.json, else what every one
        // of its results says (a split run is unknown: verify names it).
        type Get = fn(&crate::study::result::RunResult) -> Option<&String>;
        let from = |config: Option<&String>, get: Get| -> Known {
            if let Some(v) = config {
                return Known::from(Some(v), Source::ConfigJson);
            }
            let values: std::collections::BTreeSet<&String> =
                run.pairs.values().filter_map(|p| p.result.as_ref()).filter_map(get).collect();
            match values.len() {
                1 => Known::from(values.into_iter().next(), Source::Results),
                _ => Known::unknown(),
            }
        };
        let c = run.config.as_ref();
        Provenance {
            run: run.name.clone(),
            model: from(c.and_then(|c| c.model.as_ref()), |r| r.model.as_ref()),
            agent: from(c.and_then(|c| c.agent_framework.as_ref()), |r| r.agent_framework.as_ref()),
            cli_version: Known::unknown(),
            backend: Known::unknown(),
            agent_config: Known::unknown(),
            dataset,
            images: Known::unknown(),
        }
    }

    fn field(&self, name: &str) -> &Known {
        match name {
            "model" => &self.model,
            "agent" => &self.agent,
            "cli_version" => &self.cli_version,
            "backend" => &self.backend,
            _ => &self.agent_config,
        }
    }
}

/// The study's one pooling rule: the runs that define a difficulty must
/// agree on every field of [`POOLED_FIELDS`]; a field unknown in one run
/// and known in another counts as differing (it cannot be shown to agree).
/// A disagreement is a failure, unless `allow_mixed` names the field: then
/// a warning that says what is pooled.
pub fn pooling(runs: &[Provenance], allow_mixed: &[String]) -> Vec<Problem> {
    pooling_by_field(runs, allow_mixed).into_iter().map(|(_, p)| p).collect()
}

/// The fields among `allow_mixed` in which the runs differ only because
/// some record nothing (a run made by the CLI directly records no version,
/// backend or agent config): pooled as allowed, with nothing to decide.
pub fn unrecorded_allowed(runs: &[Provenance], allow_mixed: &[String]) -> Vec<&'static str> {
    POOLED_FIELDS
        .into_iter()
        .filter(|f| allow_mixed.iter().any(|a| a == f))
        .filter(|f| {
            let known: BTreeSet<&String> = runs.iter().filter_map(|p| p.field(f).value.as_ref()).collect();
            known.len() == 1 && runs.iter().any(|p| p.field(f).value.is_none())
        })
        .collect()
}

/// [`pooling`], each finding with its field.
pub fn pooling_by_field(runs: &[Provenance], allow_mixed: &[String]) -> Vec<(&'static str, Problem)> {
    let mut out = Vec::new();
    for field in POOLED_FIELDS {
        let mut seen: Vec<(String, &Provenance)> = Vec::new();
        for p in runs {
            let shown = p.field(field).value.clone().unwrap_or_else(|| "unknown".into());
            if !seen.iter().any(|(v, _)| *v == shown) {
                seen.push((shown, p));
            }
        }
        if seen.len() < 2 {
            continue;
        }
        let all_unknown_but_one = seen.iter().all(|(v, _)| v == "unknown");
        if all_unknown_but_one {
            continue;
        }
        let by_value: Vec<String> = seen
            .iter()
            .map(|(v, first)| {
                let names: Vec<&str> = runs
                    .iter()
                    .filter(|p| p.field(field).value.clone().unwrap_or_else(|| "unknown".into()) == *v)
                    .map(|p| p.run.as_str())
                    .collect();
                let source = first.field(field).source.name();
                format!("{} ({v}, from {source})", names.join(", "))
            })
            .collect();
        let what = format!("difficulty pools runs of different {field}: {}", by_value.join(" vs "));
        out.push((
            field,
            if allow_mixed.iter().any(|a| a == field) {
                Problem::warning(Check::MixedAllowed, format!("{what} (allowed by allow_mixed)"))
            } else {
                Problem::failure(
                    Check::MixedProvenance,
                    format!("{what}: they are not repeats of one experiment; make the runs agree, or list \"{field}\" in allow_mixed"),
                )
            },
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(v: &str, source: Source) -> Known {
        Known { value: Some(v.into()), source }
    }

    fn prov(run: &str, agent: &str, version: Option<&str>) -> Provenance {
        let m = |v: &str| known(v, Source::Manifest);
        Provenance {
            run: run.into(),
            model: m("command-a-03-2025"),
            agent: m(agent),
            cli_version: version.map(m).unwrap_or(Known { value: None, source: Source::Unknown }),
            backend: m("docker"),
            agent_config: m("none"),
            dataset: Known { value: None, source: Source::Unknown },
            images: Known { value: None, source: Source::Unknown },
        }
    }

    #[test]
    fn the_pooling_rule_names_runs_and_fields() {
        let same = [prov("s1", "mini_swe_agent_v2", Some("0.0.29")), prov("s2", "mini_swe_agent_v2", Some("0.0.29"))];
        assert!(pooling(&same, &[]).is_empty());
        // Another agent: a failure naming both runs and the field.
        let mixed = [prov("base", "mini_swe_agent", Some("0.0.29")), prov("s1", "mini_swe_agent_v2", Some("0.0.29"))];
        let p = pooling(&mixed, &[]);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].check, Check::MixedProvenance);
        assert!(p[0].detail.starts_with("difficulty pools runs of different agent: base (mini_swe_agent, from manifest) vs s1 (mini_swe_agent_v2, from manifest)"), "{}", p[0].detail);
        // Allowed: a warning that still says it.
        let p = pooling(&mixed, &["agent".into()]);
        assert_eq!((p[0].check, p[0].severity), (Check::MixedAllowed, crate::study::problem::Severity::Warning));
        // Another version; an unknown version against a known one differs too.
        let v = [prov("a", "x", Some("0.0.28")), prov("b", "x", Some("0.0.29"))];
        assert_eq!(pooling(&v, &[])[0].check, Check::MixedProvenance);
        let u = [prov("a", "x", None), prov("b", "x", Some("0.0.29"))];
        let p = pooling(&u, &[]);
        assert!(p[0].detail.contains("a (unknown, from unknown) vs b (0.0.29, from manifest)"), "{}", p[0].detail);
        // Two unknowns cannot be told apart: nothing to say.
        assert!(pooling(&[prov("a", "x", None), prov("b", "x", None)], &[]).is_empty());
    }

    fn m() -> Manifest {
        Manifest {
            cooperbench_version: Some("0.0.29".into()),
            model: "command-a-03-2025".into(),
            agent: "mini_swe_agent_v2".into(),
            subset: "lite".into(),
            backend: "docker".into(),
            agent_config_sha256: None,
            harness_version: "0.1.0".into(),
            modal_environment: None,
            dataset: None,
            images: None,
            setting: None,
            messaging: None,
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

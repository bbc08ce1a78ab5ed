//! The experiment file (`experiment.toml` at the project root): the study's
//! one declaration, read by every subcommand, each value overridable by a flag.

use std::path::{Path, PathBuf};

use anyhow::bail;
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Docker,
    Modal,
    Gcp,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Docker => "docker",
            Backend::Modal => "modal",
            Backend::Gcp => "gcp",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// Names `results/<name>/`.
    pub name: String,
    /// The folder holding `dataset/` and `logs/`; relative to this file.
    pub cooperbench_dir: PathBuf,
    pub subset: String,
    /// Pairs the subset must hold (100 for lite); checked before any run.
    pub expected_pairs: Option<usize>,
    pub model: String,
    pub agent: String,
    pub backend: Backend,
    pub run_concurrency: u32,
    pub eval_concurrency: u32,
    pub baseline_run: String,
    pub seeds: Vec<u32>,
    /// Run name of a seed; `{baseline}` and `{seed}` are filled in.
    pub seed_run_name: String,
    #[serde(default)]
    pub coop_runs: Vec<String>,
    /// Environment variables the model needs; default from the model name.
    pub secrets: Option<Vec<String>>,
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    /// Settings the CLI cannot take as flags (api_base, temperature, ...),
    /// written into an `--agent-config` YAML under `model: model_kwargs:`.
    #[serde(default)]
    pub model_kwargs: toml::Table,
    /// `seeds` refuses to start unless `cargo xtask oracle` passed on every
    /// pair of the subset after the last change to its dataset.
    #[serde(default)]
    pub require_oracle: bool,
    /// Provenance fields whose values may differ among the runs that define
    /// difficulty (`study::provenance::POOLED_FIELDS`); every output then
    /// says what is pooled. Empty: runs must agree.
    #[serde(default)]
    pub allow_mixed: Vec<String>,
    /// Per CLI invocation, in minutes; none by default.
    /// Fractions are allowed (0.5 is thirty seconds); zero is refused.
    pub timeout_minutes: Option<f64>,
}

fn default_attempts() -> u32 {
    3
}

pub fn default_path() -> PathBuf {
    crate::edges::layout::project_root().join("experiment.toml")
}

impl Experiment {
    pub fn load(path: &Path) -> anyhow::Result<Experiment> {
        let text = crate::edges::read::text(path, crate::edges::read::SMALL)
            .map_err(|e| anyhow::anyhow!("cannot read experiment file {}: {e}", path.display()))?;
        let mut exp: Experiment = toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        if exp.cooperbench_dir.is_relative() {
            let base = path.parent().unwrap_or(Path::new("."));
            exp.cooperbench_dir = base.join(&exp.cooperbench_dir);
        }
        exp.validate().map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        Ok(exp)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        for (field, value) in [("model", &self.model), ("agent", &self.agent), ("baseline_run", &self.baseline_run)] {
            if value.trim().is_empty() {
                bail!("field `{field}`: empty");
            }
        }
        if !self.seed_run_name.contains("{seed}") {
            bail!("field `seed_run_name`: must contain {{seed}}, got {:?}", self.seed_run_name);
        }
        if self.run_concurrency == 0 || self.eval_concurrency == 0 {
            bail!("fields `run_concurrency` and `eval_concurrency` must be at least 1");
        }
        for f in &self.allow_mixed {
            if !crate::study::provenance::POOLED_FIELDS.contains(&f.as_str()) {
                bail!(
                    "field `allow_mixed`: {f:?} is not one of {}",
                    crate::study::provenance::POOLED_FIELDS.join(", ")
                );
            }
        }
        if self.attempts == 0 {
            bail!("field `attempts`: must be at least 1");
        }
        if let Some(t) = self.timeout_minutes.filter(|t| !(t.is_finite() && *t > 0.0 && *t < 1e6)) {
            bail!("field `timeout_minutes`: {t} is not a positive number of minutes (leave it out for no timeout)");
        }
        if self.seeds.is_empty() {
            bail!("field `seeds`: name at least one seed");
        }
        let mut seeds = self.seeds.clone();
        seeds.sort();
        seeds.dedup();
        if seeds.len() != self.seeds.len() {
            bail!("field `seeds`: a seed is listed twice: {:?}", self.seeds);
        }
        for name in self.seed_runs() {
            if name == self.baseline_run {
                bail!("field `seed_run_name`: seed run `{name}` would overwrite the baseline run");
            }
        }
        for (key, _) in self.model_kwargs.iter() {
            if key.is_empty() {
                bail!("field `model_kwargs`: empty key");
            }
        }
        Ok(())
    }

    pub fn seed_run(&self, seed: u32) -> String {
        self.seed_run_name.replace("{baseline}", &self.baseline_run).replace("{seed}", &seed.to_string())
    }

    pub fn seed_runs(&self) -> Vec<String> {
        self.seeds.iter().map(|s| self.seed_run(*s)).collect()
    }

    /// Baseline first, then the seeds: the runs that define difficulty.
    pub fn solo_runs(&self) -> Vec<String> {
        let mut runs = vec![self.baseline_run.clone()];
        runs.extend(self.seed_runs());
        runs
    }

    pub fn secret_names(&self) -> Vec<String> {
        if let Some(s) = &self.secrets {
            return s.clone();
        }
        let m = self.model.to_ascii_lowercase();
        let name = if m.starts_with("command") || m.starts_with("cohere") {
            "COHERE_API_KEY"
        } else if m.starts_with("gpt") || m.starts_with("openai/") || m.starts_with("o1") || m.starts_with("o3") {
            "OPENAI_API_KEY"
        } else if m.starts_with("claude") || m.starts_with("anthropic/") {
            "ANTHROPIC_API_KEY"
        } else if m.starts_with("gemini/") {
            "GEMINI_API_KEY"
        } else {
            return Vec::new();
        };
        vec![name.to_string()]
    }
}

/// Flags every subcommand shares; each overrides the experiment file.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonFlags {
    /// The experiment file [default: experiment.toml at the project root]
    #[arg(long, value_name = "FILE")]
    pub experiment: Option<PathBuf>,
    /// The CooperBench checkout (holds dataset/ and logs/)
    #[arg(long, value_name = "DIR")]
    pub cooperbench_dir: Option<PathBuf>,
    /// Subset name (dataset/subsets/<NAME>.json)
    #[arg(long, value_name = "NAME")]
    pub subset: Option<String>,
}

impl CommonFlags {
    pub fn load(&self) -> anyhow::Result<Experiment> {
        let path = self.experiment.clone().unwrap_or_else(default_path);
        let mut exp = Experiment::load(&path).map_err(crate::usage)?;
        if let Some(dir) = &self.cooperbench_dir {
            exp.cooperbench_dir = dir.clone();
        }
        if let Some(s) = self.subset.as_ref().filter(|s| **s != exp.subset) {
            // `expected_pairs` is the count of the file's subset, not of this one.
            exp.subset = s.clone();
            exp.expected_pairs = None;
        }
        Ok(exp)
    }
}

/// The demo's experiment file (`cargo xtask demo`); also the one the
/// integration tests start from.
pub const DEMO: &str = r#"# The demo's experiment: the study's, pointed at a synthetic checkout.
name = "demo"
cooperbench_dir = "CooperBench"
subset = "lite"
expected_pairs = 100
model = "command-a-03-2025"
agent = "mini_swe_agent_v2"
backend = "docker"
run_concurrency = 4
eval_concurrency = 10
baseline_run = "command-a-solo"
seeds = [1, 2]
seed_run_name = "{baseline}-seed{seed}"
coop_runs = ["command-a-coop-comm", "command-a-coop-nocomm"]
# The baseline was made by the CLI directly, which records no cooperbench
# version, backend or agent config: pooled with the seeds all the same, and
# every output says so.
allow_mixed = ["cli_version", "backend", "agent_config"]
"#;

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = DEMO;

    #[test]
    fn names_seed_runs_and_secrets() {
        let exp: Experiment = toml::from_str(GOOD).unwrap();
        exp.validate().unwrap();
        assert_eq!(exp.solo_runs(), ["command-a-solo", "command-a-solo-seed1", "command-a-solo-seed2"]);
        assert_eq!(exp.coop_runs, ["command-a-coop-comm", "command-a-coop-nocomm"]);
        assert_eq!(exp.secret_names(), ["COHERE_API_KEY"]);
        assert_eq!(exp.attempts, 3);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let err = toml::from_str::<Experiment>(&format!("{GOOD}\nconcurency = 3\n")).unwrap_err().to_string();
        assert!(err.contains("unknown field `concurency`"), "{err}");
        let err = toml::from_str::<Experiment>(&GOOD.replace("\"docker\"", "\"dockr\"")).unwrap_err().to_string();
        assert!(err.contains("dockr"), "{err}");
        let exp: Experiment = toml::from_str(&GOOD.replace("-seed{seed}", "")).unwrap();
        assert!(exp.validate().unwrap_err().to_string().contains("seed_run_name"));
    }

    #[test]
    fn another_subset_sets_aside_the_files_expected_pairs() {
        let dir = std::env::temp_dir().join(format!("xtask-experiment-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("experiment.toml");
        std::fs::write(&path, GOOD).unwrap();
        let flags = |subset: Option<&str>| CommonFlags {
            experiment: Some(path.clone()),
            cooperbench_dir: None,
            subset: subset.map(String::from),
        };
        assert_eq!(flags(None).load().unwrap().expected_pairs, Some(100));
        assert_eq!(flags(Some("lite")).load().unwrap().expected_pairs, Some(100));
        let other = flags(Some("flash")).load().unwrap();
        assert_eq!((other.subset.as_str(), other.expected_pairs), ("flash", None));
        assert!(!other.require_oracle, "require_oracle defaults to false");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

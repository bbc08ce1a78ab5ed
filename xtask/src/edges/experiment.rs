//! The experiment file (`experiment.toml` at the project root): the study's
//! one declaration, read by every subcommand, each value overridable by a flag.

use std::path::{Path, PathBuf};

use anyhow::bail;
use serde::Deserialize;

use crate::study::arms::{ArmSpec, Study};
use crate::study::setting::{Backend, Setting};

/// The file as written: either today's one-model form (model, baseline_run,
/// seeds, ...) or `[[arm]]` tables, never both.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    name: String,
    cooperbench_dir: PathBuf,
    subset: String,
    expected_pairs: Option<usize>,
    model: Option<String>,
    agent: Option<String>,
    backend: Option<Backend>,
    run_concurrency: Option<u32>,
    eval_concurrency: Option<u32>,
    baseline_run: Option<String>,
    seeds: Option<Vec<u32>>,
    seed_run_name: Option<String>,
    coop_runs: Option<Vec<String>>,
    secrets: Option<Vec<String>>,
    #[serde(default = "default_attempts")]
    attempts: u32,
    model_kwargs: Option<toml::Table>,
    #[serde(default)]
    require_oracle: bool,
    #[serde(default)]
    allow_mixed: Vec<String>,
    timeout_minutes: Option<f64>,
    redis_image: Option<String>,
    #[serde(default)]
    arm: Vec<ArmSpec>,
}

fn default_attempts() -> u32 {
    3
}

/// The experiment file of the project at `root`.
pub fn default_path(root: &Path) -> PathBuf {
    root.join("experiment.toml")
}

/// The study a file declares, its `cooperbench_dir` taken relative to it.
pub fn load(path: &Path) -> anyhow::Result<Study> {
    let text = crate::edges::read::text(path, crate::edges::read::SMALL)
        .map_err(|e| anyhow::anyhow!("cannot read experiment file {}: {e}", path.display()))?;
    let mut study = parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    if study.cooperbench_dir.is_relative() {
        let base = path.parent().unwrap_or(Path::new("."));
        study.cooperbench_dir = base.join(&study.cooperbench_dir);
    }
    Ok(study)
}

/// The file's text, validated: today's one-model form is read as the arms
/// it means (a solo arm of the baseline and the seeds, a coop arm of
/// `coop_runs`).
pub fn parse(text: &str) -> anyhow::Result<Study> {
    let f: File = toml::from_str(text)?;
    let arms = if f.arm.is_empty() {
        legacy_arms(&f)?
    } else {
        let given = [
            ("model", f.model.is_some()),
            ("agent", f.agent.is_some()),
            ("backend", f.backend.is_some()),
            ("baseline_run", f.baseline_run.is_some()),
            ("seeds", f.seeds.is_some()),
            ("seed_run_name", f.seed_run_name.is_some()),
            ("coop_runs", f.coop_runs.is_some()),
            ("secrets", f.secrets.is_some()),
            ("model_kwargs", f.model_kwargs.is_some()),
        ];
        if let Some((field, _)) = given.iter().find(|(_, g)| *g) {
            bail!("field `{field}`: with [[arm]] tables it is set per arm, in each [[arm]]");
        }
        f.arm.clone()
    };
    let study = Study {
        name: f.name.clone(),
        cooperbench_dir: f.cooperbench_dir.clone(),
        subset: f.subset.clone(),
        expected_pairs: f.expected_pairs,
        attempts: f.attempts,
        require_oracle: f.require_oracle,
        allow_mixed: f.allow_mixed.clone(),
        timeout_minutes: f.timeout_minutes,
        redis_image: f.redis_image.clone().unwrap_or_else(|| crate::study::shared::REDIS_IMAGE.to_string()),
        run_concurrency: f.run_concurrency.unwrap_or(4),
        eval_concurrency: f.eval_concurrency.unwrap_or(10),
        has_arm_tables: !f.arm.is_empty(),
        arms,
    };
    study.validate()?;
    Ok(study)
}

/// Today's one-model file, read as the arms it means.
fn legacy_arms(f: &File) -> anyhow::Result<Vec<ArmSpec>> {
    let need = |field: &str, v: &Option<String>| -> anyhow::Result<String> {
        v.clone().ok_or_else(|| anyhow::anyhow!("missing field `{field}` (or give [[arm]] tables)"))
    };
    let baseline = need("baseline_run", &f.baseline_run)?;
    if baseline.trim().is_empty() {
        bail!("field `baseline_run`: empty");
    }
    let seeds = f.seeds.clone().ok_or_else(|| anyhow::anyhow!("missing field `seeds` (or give [[arm]] tables)"))?;
    if seeds.is_empty() {
        bail!("field `seeds`: name at least one seed");
    }
    let template = need("seed_run_name", &f.seed_run_name)?;
    if !template.contains("{seed}") {
        bail!("field `seed_run_name`: must contain {{seed}}, got {template:?}");
    }
    let solo = ArmSpec {
        name: baseline.clone(),
        setting: Setting::Solo,
        model: need("model", &f.model)?,
        agent: need("agent", &f.agent)?,
        backend: f.backend.unwrap_or(Backend::Docker),
        seeds,
        run_name: Some(template),
        runs: vec![baseline],
        run_concurrency: f.run_concurrency,
        eval_concurrency: f.eval_concurrency,
        max_cost: None,
        messaging: None,
        git: false,
        secrets: f.secrets.clone(),
        model_kwargs: f.model_kwargs.clone().unwrap_or_default(),
    };
    let mut arms = vec![solo.clone()];
    let coop = f.coop_runs.clone().unwrap_or_default();
    if !coop.is_empty() {
        arms.push(ArmSpec {
            name: "coop".into(),
            setting: Setting::Coop,
            seeds: Vec::new(),
            run_name: None,
            runs: coop,
            max_cost: None,
            messaging: None,
            git: false,
            ..solo
        });
    }
    Ok(arms)
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
    /// The experiment: `--experiment`, else the project's own (at `root`).
    pub fn load(&self, root: &Path) -> anyhow::Result<Study> {
        let path = self.experiment.clone().unwrap_or_else(|| default_path(root));
        let mut exp = load(&path).map_err(crate::usage)?;
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

/// The flags of a command that needs the checkout only (no subset): the
/// experiment file, or the checkout named outright.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckoutFlags {
    /// The experiment file [default: experiment.toml at the project root]
    #[arg(long, value_name = "FILE")]
    pub experiment: Option<PathBuf>,
    /// The CooperBench checkout (holds dataset/ and logs/) [default: the experiment's]
    #[arg(long, value_name = "DIR")]
    pub cooperbench_dir: Option<PathBuf>,
}

impl CheckoutFlags {
    /// The study, with the checkout the flag names.
    pub fn load(&self, root: &Path) -> anyhow::Result<Study> {
        let common = CommonFlags {
            experiment: self.experiment.clone(),
            cooperbench_dir: self.cooperbench_dir.clone(),
            subset: None,
        };
        common.load(root)
    }

    /// The checkout: the flag's, else the experiment's (read only then).
    pub fn cooperbench_dir(&self, root: &Path) -> anyhow::Result<PathBuf> {
        match &self.cooperbench_dir {
            Some(d) => Ok(d.clone()),
            None => Ok(self.load(root)?.cooperbench_dir),
        }
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
# version, backend, agent config or task image ids: pooled with the seeds
# all the same, and every output says so. (Its dataset revision is
# inferred from the checkout's git history, and compared pair by pair.)
allow_mixed = ["cli_version", "backend", "agent_config", "images"]
"#;

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = DEMO;

    #[test]
    fn names_seed_runs_and_secrets() {
        let study = parse(GOOD).unwrap();
        assert_eq!(study.solo_runs(), ["command-a-solo", "command-a-solo-seed1", "command-a-solo-seed2"]);
        assert_eq!(study.coop_runs(), ["command-a-coop-comm", "command-a-coop-nocomm"]);
        assert_eq!(study.secret_names(), ["COHERE_API_KEY"]);
        assert_eq!(study.first_arm().secret_names(), ["COHERE_API_KEY"]);
        assert_eq!(study.attempts, 3);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let err = parse(&format!("{GOOD}\nconcurency = 3\n")).unwrap_err().to_string();
        assert!(err.contains("unknown field `concurency`"), "{err}");
        let err = parse(&GOOD.replace("\"docker\"", "\"dockr\"")).unwrap_err().to_string();
        assert!(err.contains("dockr"), "{err}");
        let err = parse(&GOOD.replace("-seed{seed}", "")).unwrap_err().to_string();
        assert!(err.contains("seed_run_name"), "{err}");
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
        assert_eq!(flags(None).load(Path::new("/unused")).unwrap().expected_pairs, Some(100));
        assert_eq!(flags(Some("lite")).load(Path::new("/unused")).unwrap().expected_pairs, Some(100));
        let other = flags(Some("flash")).load(Path::new("/unused")).unwrap();
        assert_eq!((other.subset.as_str(), other.expected_pairs), ("flash", None));
        assert!(!other.require_oracle, "require_oracle defaults to false");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[cfg(test)]
mod arm_tests {
    use super::*;

    const STUDY: &str = r#"
name = "two-models"
cooperbench_dir = "CooperBench"
subset = "lite"
run_concurrency = 2
allow_mixed = ["cli_version"]

[[arm]]
name = "mini"
model = "openai/gpt-4o-mini"
agent = "mini_swe_agent_v2"
seeds = [1, 2]
run_name = "mini-solo-s{seed}"

[[arm]]
name = "big"
model = "openai/gpt-4o"
agent = "mini_swe_agent_v2"
runs = ["big-old"]
seeds = [1, 2]
run_concurrency = 3
[arm.model_kwargs]
temperature = 0.0

[[arm]]
name = "mini-coop"
setting = "coop"
model = "openai/gpt-4o-mini"
agent = "mini_swe_agent_v2"
messaging = false
seeds = [1]
"#;

    #[test]
    fn arms_are_read_in_order_with_their_runs_and_models() {
        let study = parse(STUDY).unwrap();
        assert_eq!(study.arm_names(), ["mini", "big", "mini-coop"]);
        // The first solo arm.
        let exp = study.first_arm();
        assert_eq!((exp.name.as_str(), exp.model.as_str(), exp.run_concurrency), ("mini", "openai/gpt-4o-mini", 2));
        assert_eq!(exp.baseline_run, None);
        assert_eq!(exp.seed_runs(), ["mini-solo-s1", "mini-solo-s2"]);
        assert_eq!(study.solo_runs(), ["mini-solo-s1", "mini-solo-s2", "big-old", "big-seed1", "big-seed2"]);
        assert_eq!(exp.solo_runs(), study.solo_runs());
        assert_eq!(study.coop_runs(), ["mini-coop-seed1"]);
        let big = study.arm("big").unwrap();
        assert_eq!((big.run_concurrency, big.baseline_run.as_deref()), (3, Some("big-old")));
        assert_eq!(big.model_kwargs.get("temperature").and_then(|v| v.as_float()), Some(0.0));
        assert_eq!(big.arm_runs(), ["big-old", "big-seed1", "big-seed2"]);
        let coop = study.arm("mini-coop").unwrap();
        assert_eq!((coop.setting, coop.messaging, coop.run_concurrency), (Setting::Coop, false, 2));
        let models = study.models();
        assert_eq!(models.names(&study.solo_runs()), ["openai/gpt-4o-mini", "openai/gpt-4o"]);
        assert_eq!(models.groups(&study.solo_runs()), [0, 0, 1, 1, 1]);
        assert_eq!(study.oracle_base(), "two-models");
        assert!(study.arm("nope").unwrap_err().to_string().contains("the arms are mini, big, mini-coop"));
        // Seeds the flags chose for one arm are that arm's runs everywhere.
        let mut one = study.arm("big").unwrap();
        one.seeds = vec![7];
        assert_eq!(one.solo_runs(), ["mini-solo-s1", "mini-solo-s2", "big-old", "big-seed7"]);
        assert_eq!(one.models().names(&one.solo_runs()), ["openai/gpt-4o-mini", "openai/gpt-4o"]);
    }

    #[test]
    fn todays_file_is_the_arms_it_means() {
        let study = parse(DEMO).unwrap();
        assert_eq!(study.arm_names(), ["command-a-solo", "coop"]);
        assert_eq!(study.first_arm().arm_runs(), ["command-a-solo", "command-a-solo-seed1", "command-a-solo-seed2"]);
        assert_eq!(study.oracle_base(), "command-a-solo");
        assert_eq!(study.models().count(&study.solo_runs()), 1);
    }

    #[test]
    fn the_projects_own_file_still_reads_as_it_did() {
        let study = load(&default_path(&crate::edges::layout::project_root())).unwrap();
        assert_eq!(study.arm_names(), ["command-a-solo"]);
        assert_eq!(study.solo_runs(), ["command-a-solo", "command-a-solo-seed1", "command-a-solo-seed2"]);
        let exp = study.first_arm();
        assert_eq!((exp.model.as_str(), exp.agent.as_str()), ("command-a-03-2025", "mini_swe_agent_v2"));
        assert!(study.coop_runs().is_empty() && !study.has_arm_tables);
    }

    #[test]
    fn bad_arms_are_named_with_the_field() {
        let err = |text: &str| parse(text).unwrap_err().to_string();
        assert!(
            err(&format!("model = \"x\"\n{STUDY}")).contains("field `model`: with [[arm]] tables it is set per arm")
        );
        assert!(err(&STUDY.replace("\"big\"", "\"mini\"")).contains("`mini` names two arms"));
        assert!(err(&STUDY.replace("runs = [\"big-old\"]", "runs = [\"mini-solo-s1\"]"))
            .contains("run `mini-solo-s1` is also an arm `mini` run"));
        assert!(err(&STUDY.replace("run_name = \"mini-solo-s{seed}\"", "run_name = \"mini\"")).contains("`run_name`"));
        assert!(err(&STUDY.replace("seeds = [1, 2]\nrun_name", "messaging = true\nseeds = [1, 2]\nrun_name"))
            .contains("only a coop arm has messaging or git"));
    }
}

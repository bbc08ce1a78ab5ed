//! The experiment file (`experiment.toml` at the project root): the study's
//! one declaration, read by every subcommand, each value overridable by a flag.

use std::path::{Path, PathBuf};

use anyhow::bail;
use serde::Deserialize;

pub use crate::study::setting::{Backend, Setting};

/// One arm of the study (`[[arm]]` in the experiment file): one model, agent,
/// setting and backend, its runs made before and the seeds still to make.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Arm {
    pub name: String,
    #[serde(default)]
    pub setting: Setting,
    pub model: String,
    pub agent: String,
    #[serde(default = "default_backend")]
    pub backend: Backend,
    /// Seeds to make; each becomes the run `run_name` names.
    #[serde(default)]
    pub seeds: Vec<u32>,
    /// Run name of a seed: `{seed}` and `{arm}` are filled in (`{baseline}`:
    /// the first of `runs`) [default: "{arm}-seed{seed}"].
    pub run_name: Option<String>,
    /// Runs of this arm made before (read, never run again): they count in
    /// its difficulty, and the first is the cost estimate's baseline.
    #[serde(default)]
    pub runs: Vec<String>,
    pub run_concurrency: Option<u32>,
    pub eval_concurrency: Option<u32>,
    /// USD this arm may spend (`--max-cost` overrides it).
    pub max_cost: Option<f64>,
    /// Coop only: the agents may message each other (the CLI's default;
    /// false passes `--no-messaging`, which needs no Redis).
    pub messaging: Option<bool>,
    /// Coop only: a shared git server (`--git`).
    #[serde(default)]
    pub git: bool,
    pub secrets: Option<Vec<String>>,
    #[serde(default)]
    pub model_kwargs: toml::Table,
}

fn default_backend() -> Backend {
    Backend::Docker
}

impl Arm {
    pub fn run_name_template(&self) -> String {
        let t = self.run_name.clone().unwrap_or_else(|| "{arm}-seed{seed}".into());
        let t = t.replace("{arm}", &self.name);
        match self.runs.first() {
            Some(b) => t.replace("{baseline}", b),
            None => t,
        }
    }

    pub fn seed_run(&self, seed: u32) -> String {
        self.run_name_template().replace("{seed}", &seed.to_string())
    }

    /// Runs made before, then the seeds: every run of the arm.
    pub fn all_runs(&self) -> Vec<String> {
        let mut r = self.runs.clone();
        r.extend(self.seeds.iter().map(|s| self.seed_run(*s)));
        r
    }
}

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
    #[serde(default)]
    arm: Vec<Arm>,
}

/// The experiment as one arm sees it: the study's settings (checkout,
/// subset, pooling rules, the runs that define difficulty) and the arm's own
/// (model, agent, backend, seeds). Every command but `study` works on the
/// first solo arm's view; today's one-model file is read as the arms it
/// means (a solo arm of the baseline and the seeds, a coop arm of coop_runs).
#[derive(Debug, Clone)]
pub struct Experiment {
    /// Names `results/<name>/`.
    pub name: String,
    /// The folder holding `dataset/` and `logs/`; relative to this file.
    pub cooperbench_dir: PathBuf,
    pub subset: String,
    /// Pairs the subset must hold (100 for lite); checked before any run.
    pub expected_pairs: Option<usize>,
    /// The arm this view is of.
    pub arm: String,
    pub setting: Setting,
    pub model: String,
    pub agent: String,
    pub backend: Backend,
    pub messaging: bool,
    pub git: bool,
    pub run_concurrency: u32,
    pub eval_concurrency: u32,
    /// The arm's first run made before: the cost estimate's baseline.
    pub baseline_run: Option<String>,
    pub seeds: Vec<u32>,
    /// Run name of a seed; `{seed}` is filled in.
    pub seed_run_name: String,
    /// Every coop arm's runs: read by `report` and checked by `verify`.
    pub coop_runs: Vec<String>,
    /// Environment variables the model needs; default from the model name.
    pub secrets: Option<Vec<String>>,
    pub attempts: u32,
    /// Settings the CLI cannot take as flags (api_base, temperature, ...),
    /// written into an `--agent-config` YAML under `model: model_kwargs:`.
    pub model_kwargs: toml::Table,
    /// `seeds` refuses to start unless `cargo xtask oracle` passed on every
    /// pair of the subset after the last change to its dataset.
    pub require_oracle: bool,
    /// Provenance fields whose values may differ among the runs that define
    /// a model's difficulty (`study::provenance::POOLED_FIELDS`); every
    /// output then says what is pooled. Empty: runs must agree.
    pub allow_mixed: Vec<String>,
    /// Per CLI invocation, in minutes; none by default.
    /// Fractions are allowed (0.5 is thirty seconds); zero is refused.
    pub timeout_minutes: Option<f64>,
    /// The arm's budget in USD, if it has one.
    pub max_cost: Option<f64>,
    /// Every arm of the study, in the file's order.
    pub arms: Vec<Arm>,
    /// The file had `[[arm]]` tables (not today's one-model form).
    pub has_arm_tables: bool,
}

fn default_attempts() -> u32 {
    3
}

/// The experiment file of the project at `root`.
pub fn default_path(root: &Path) -> PathBuf {
    root.join("experiment.toml")
}

impl Experiment {
    pub fn load(path: &Path) -> anyhow::Result<Experiment> {
        let text = crate::edges::read::text(path, crate::edges::read::SMALL)
            .map_err(|e| anyhow::anyhow!("cannot read experiment file {}: {e}", path.display()))?;
        let mut exp = Experiment::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        if exp.cooperbench_dir.is_relative() {
            let base = path.parent().unwrap_or(Path::new("."));
            exp.cooperbench_dir = base.join(&exp.cooperbench_dir);
        }
        Ok(exp)
    }

    /// The file's text, validated, as the first solo arm's view.
    pub fn parse(text: &str) -> anyhow::Result<Experiment> {
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
        let first = arms.iter().position(|a| a.setting == Setting::Solo).unwrap_or(0);
        let mut exp = Experiment {
            name: f.name.clone(),
            cooperbench_dir: f.cooperbench_dir.clone(),
            subset: f.subset.clone(),
            expected_pairs: f.expected_pairs,
            arm: String::new(),
            setting: Setting::Solo,
            model: String::new(),
            agent: String::new(),
            backend: Backend::Docker,
            messaging: true,
            git: false,
            run_concurrency: f.run_concurrency.unwrap_or(4),
            eval_concurrency: f.eval_concurrency.unwrap_or(10),
            baseline_run: None,
            seeds: Vec::new(),
            seed_run_name: String::new(),
            coop_runs: Vec::new(),
            secrets: None,
            attempts: f.attempts,
            model_kwargs: toml::Table::new(),
            require_oracle: f.require_oracle,
            allow_mixed: f.allow_mixed.clone(),
            timeout_minutes: f.timeout_minutes,
            max_cost: None,
            arms,
            has_arm_tables: !f.arm.is_empty(),
        };
        exp.coop_runs = exp.arms.iter().filter(|a| a.setting == Setting::Coop).flat_map(|a| a.all_runs()).collect();
        exp.validate_arms()?;
        exp.select(first, f.run_concurrency, f.eval_concurrency);
        exp.validate()?;
        Ok(exp)
    }

    fn select(&mut self, i: usize, run_c: Option<u32>, eval_c: Option<u32>) {
        let a = self.arms[i].clone();
        self.arm = a.name.clone();
        self.setting = a.setting;
        self.model = a.model.clone();
        self.agent = a.agent.clone();
        self.backend = a.backend;
        self.messaging = a.messaging.unwrap_or(true);
        self.git = a.git;
        self.run_concurrency = a.run_concurrency.or(run_c).unwrap_or(self.run_concurrency);
        self.eval_concurrency = a.eval_concurrency.or(eval_c).unwrap_or(self.eval_concurrency);
        self.baseline_run = a.runs.first().cloned();
        self.seeds = a.seeds.clone();
        self.seed_run_name = a.run_name_template();
        self.secrets = a.secrets.clone();
        self.model_kwargs = a.model_kwargs.clone();
        self.max_cost = a.max_cost;
    }

    /// The view of the arm named `name`.
    pub fn for_arm(&self, name: &str) -> anyhow::Result<Experiment> {
        let Some(i) = self.arms.iter().position(|a| a.name == name) else {
            let names: Vec<&str> = self.arms.iter().map(|a| a.name.as_str()).collect();
            bail!("no arm `{name}`: the arms are {}", names.join(", "));
        };
        let mut view = self.clone();
        view.select(i, None, None);
        if self.arms[i].run_concurrency.is_none() {
            view.run_concurrency = self.run_concurrency;
        }
        if self.arms[i].eval_concurrency.is_none() {
            view.eval_concurrency = self.eval_concurrency;
        }
        Ok(view)
    }

    /// Every arm's name, in the file's order.
    pub fn arm_names(&self) -> Vec<String> {
        self.arms.iter().map(|a| a.name.clone()).collect()
    }

    fn validate_arms(&self) -> anyhow::Result<()> {
        let mut names = std::collections::BTreeSet::new();
        let mut runs: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
        for a in &self.arms {
            let at = |field: &str| format!("[[arm]] `{}`, field `{field}`", a.name);
            if a.name.trim().is_empty() {
                bail!("[[arm]] field `name`: empty");
            }
            if !names.insert(a.name.clone()) {
                bail!("[[arm]] field `name`: `{}` names two arms", a.name);
            }
            for (field, v) in [("model", &a.model), ("agent", &a.agent)] {
                if v.trim().is_empty() {
                    bail!("{}: empty", at(field));
                }
            }
            if !a.seeds.is_empty() && !a.run_name_template().contains("{seed}") {
                bail!("{}: must contain {{seed}}, got {:?}", at("run_name"), a.run_name);
            }
            if a.setting == Setting::Solo && (a.messaging.is_some() || a.git) {
                bail!("{}: only a coop arm has messaging or git", at("messaging"));
            }
            if a.run_concurrency == Some(0) || a.eval_concurrency == Some(0) {
                bail!("{}: must be at least 1", at("run_concurrency/eval_concurrency"));
            }
            if let Some(m) = a.max_cost.filter(|m| !(m.is_finite() && *m > 0.0)) {
                bail!("{}: {m} is not a positive number of USD", at("max_cost"));
            }
            let mut seeds = a.seeds.clone();
            seeds.sort();
            seeds.dedup();
            if seeds.len() != a.seeds.len() {
                bail!("{}: a seed is listed twice: {:?}", at("seeds"), a.seeds);
            }
            for r in a.all_runs() {
                if let Some(other) = runs.insert(r.clone(), a.name.clone()) {
                    if other == a.name {
                        bail!(
                            "{}: run `{r}` is named twice (a seed's run would overwrite a run made before)",
                            at("run_name")
                        );
                    }
                    bail!("{}: run `{r}` is also an arm `{other}` run: each run belongs to one arm", at("runs"));
                }
            }
        }
        if self.arms.iter().all(|a| a.setting != Setting::Solo) {
            bail!("no solo arm: difficulty is defined by solo runs");
        }
        Ok(())
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        for (field, value) in [("model", &self.model), ("agent", &self.agent)] {
            if value.trim().is_empty() {
                bail!("field `{field}`: empty");
            }
        }
        if !self.seeds.is_empty() && !self.seed_run_name.contains("{seed}") {
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
        let mut seeds = self.seeds.clone();
        seeds.sort();
        seeds.dedup();
        if seeds.len() != self.seeds.len() {
            bail!("field `seeds`: a seed is listed twice: {:?}", self.seeds);
        }
        for name in self.seed_runs() {
            if Some(&name) == self.baseline_run.as_ref() {
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
        let base = self.baseline_run.as_deref().unwrap_or(&self.arm);
        self.seed_run_name.replace("{baseline}", base).replace("{seed}", &seed.to_string())
    }

    pub fn seed_runs(&self) -> Vec<String> {
        self.seeds.iter().map(|s| self.seed_run(*s)).collect()
    }

    /// The runs that define difficulty: every solo arm's runs made before,
    /// then its seeds, arm by arm (today's file: the baseline, then the seeds).
    pub fn solo_runs(&self) -> Vec<String> {
        self.arms.iter().filter(|a| a.setting == Setting::Solo).flat_map(|a| self.runs_of(a)).collect()
    }

    /// An arm's runs: made before, then its seeds (this view's arm with the
    /// seeds the flags chose).
    fn runs_of(&self, a: &Arm) -> Vec<String> {
        if a.name != self.arm {
            return a.all_runs();
        }
        let mut r = a.runs.clone();
        r.extend(self.seed_runs());
        r
    }

    /// The arm's own runs: made before, then its seeds.
    pub fn arm_runs(&self) -> Vec<String> {
        match self.arms.iter().find(|a| a.name == self.arm) {
            Some(a) => self.runs_of(a),
            None => self.seed_runs(),
        }
    }

    /// Which model each run belongs to, from the arms.
    pub fn models(&self) -> crate::study::models::Models {
        crate::study::models::Models::of(self.arms.iter().flat_map(|a| {
            // This view's arm with the model the flags chose.
            let model = if a.name == self.arm { self.model.clone() } else { a.model.clone() };
            self.runs_of(a).into_iter().map(move |r| (r, model.clone()))
        }))
    }

    /// The run `cargo xtask oracle` writes: beside the baseline in today's
    /// file (`<baseline>-oracle`), else `<name>-oracle`.
    pub fn oracle_base(&self) -> String {
        if self.has_arm_tables {
            self.name.clone()
        } else {
            self.baseline_run.clone().unwrap_or_else(|| self.name.clone())
        }
    }

    pub fn secret_names(&self) -> Vec<String> {
        if let Some(s) = &self.secrets {
            return s.clone();
        }
        secret_names_for(&self.model)
    }
}

/// The key a model's provider needs, from its name; none when unknown.
pub fn secret_names_for(model: &str) -> Vec<String> {
    let m = model.to_ascii_lowercase();
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

/// Today's one-model file, read as the arms it means.
fn legacy_arms(f: &File) -> anyhow::Result<Vec<Arm>> {
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
    let solo = Arm {
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
        arms.push(Arm {
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
    pub fn load(&self, root: &Path) -> anyhow::Result<Experiment> {
        let path = self.experiment.clone().unwrap_or_else(|| default_path(root));
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
        let exp = Experiment::parse(GOOD).unwrap();
        assert_eq!(exp.solo_runs(), ["command-a-solo", "command-a-solo-seed1", "command-a-solo-seed2"]);
        assert_eq!(exp.coop_runs, ["command-a-coop-comm", "command-a-coop-nocomm"]);
        assert_eq!(exp.secret_names(), ["COHERE_API_KEY"]);
        assert_eq!(exp.attempts, 3);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let err = Experiment::parse(&format!("{GOOD}\nconcurency = 3\n")).unwrap_err().to_string();
        assert!(err.contains("unknown field `concurency`"), "{err}");
        let err = Experiment::parse(&GOOD.replace("\"docker\"", "\"dockr\"")).unwrap_err().to_string();
        assert!(err.contains("dockr"), "{err}");
        let err = Experiment::parse(&GOOD.replace("-seed{seed}", "")).unwrap_err().to_string();
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
        let exp = Experiment::parse(STUDY).unwrap();
        assert_eq!(exp.arm_names(), ["mini", "big", "mini-coop"]);
        // The first solo arm's view.
        assert_eq!((exp.arm.as_str(), exp.model.as_str(), exp.run_concurrency), ("mini", "openai/gpt-4o-mini", 2));
        assert_eq!(exp.baseline_run, None);
        assert_eq!(exp.seed_runs(), ["mini-solo-s1", "mini-solo-s2"]);
        assert_eq!(exp.solo_runs(), ["mini-solo-s1", "mini-solo-s2", "big-old", "big-seed1", "big-seed2"]);
        assert_eq!(exp.coop_runs, ["mini-coop-seed1"]);
        let big = exp.for_arm("big").unwrap();
        assert_eq!((big.run_concurrency, big.baseline_run.as_deref()), (3, Some("big-old")));
        assert_eq!(big.model_kwargs.get("temperature").and_then(|v| v.as_float()), Some(0.0));
        assert_eq!(big.arm_runs(), ["big-old", "big-seed1", "big-seed2"]);
        let coop = exp.for_arm("mini-coop").unwrap();
        assert_eq!((coop.setting, coop.messaging), (Setting::Coop, false));
        let models = exp.models();
        assert_eq!(models.names(&exp.solo_runs()), ["openai/gpt-4o-mini", "openai/gpt-4o"]);
        assert_eq!(models.groups(&exp.solo_runs()), [0, 0, 1, 1, 1]);
        assert_eq!(exp.oracle_base(), "two-models");
        assert!(exp.for_arm("nope").unwrap_err().to_string().contains("the arms are mini, big, mini-coop"));
    }

    #[test]
    fn todays_file_is_the_arms_it_means() {
        let exp = Experiment::parse(DEMO).unwrap();
        assert_eq!(exp.arm_names(), ["command-a-solo", "coop"]);
        assert_eq!(exp.arm_runs(), ["command-a-solo", "command-a-solo-seed1", "command-a-solo-seed2"]);
        assert_eq!(exp.oracle_base(), "command-a-solo");
        assert_eq!(exp.models().count(&exp.solo_runs()), 1);
    }

    #[test]
    fn the_projects_own_file_still_reads_as_it_did() {
        let exp = Experiment::load(&default_path(&crate::edges::layout::project_root())).unwrap();
        assert_eq!(exp.arm_names(), ["command-a-solo"]);
        assert_eq!(exp.solo_runs(), ["command-a-solo", "command-a-solo-seed1", "command-a-solo-seed2"]);
        assert_eq!((exp.model.as_str(), exp.agent.as_str()), ("command-a-03-2025", "mini_swe_agent_v2"));
        assert!(exp.coop_runs.is_empty() && !exp.has_arm_tables);
    }

    #[test]
    fn bad_arms_are_named_with_the_field() {
        let err = |text: &str| Experiment::parse(text).unwrap_err().to_string();
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

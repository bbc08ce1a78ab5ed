//! What the experiment file declares, as data: a [`Study`] (the checkout,
//! the subset, the pooling rules) of [`ArmSpec`]s in the file's order, and
//! an [`Arm`]: one arm as a command runs it, its settings resolved and the
//! flags applied. `edges::experiment` reads the file into these; the rules
//! of what is valid and which run belongs to whom are here, pure.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::bail;
use serde::Deserialize;

use crate::study::models::Models;
use crate::study::setting::{Backend, Setting};

/// One `[[arm]]` of the file, as written: one model, agent, setting and
/// backend, its runs made before and the seeds still to make.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArmSpec {
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

impl ArmSpec {
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

/// The whole study: what every arm shares, and the arms in the file's order.
/// `verify`, `report`, `status` and `triage` work on it; `seeds` and
/// `study` run its arms one [`Arm`] at a time.
#[derive(Debug, Clone)]
pub struct Study {
    /// Names `results/<name>/`.
    pub name: String,
    /// The folder holding `dataset/` and `logs/`; relative to the file.
    pub cooperbench_dir: PathBuf,
    pub subset: String,
    /// Pairs the subset must hold (100 for lite); checked before any run.
    pub expected_pairs: Option<usize>,
    /// CLI invocations per seed while Error results remain.
    pub attempts: u32,
    /// `seeds` refuses to start unless `cargo xtask oracle` passed on every
    /// pair of the subset after the last change to its dataset.
    pub require_oracle: bool,
    /// Provenance fields whose values may differ among the runs that define
    /// a model's difficulty (`study::provenance::POOLED_FIELDS`); every
    /// output then says what is pooled. Empty: runs must agree.
    pub allow_mixed: Vec<String>,
    /// Per CLI invocation, in minutes; none by default. Fractions are
    /// allowed (0.5 is thirty seconds); zero is refused.
    pub timeout_minutes: Option<f64>,
    /// The image of the Redis the harness starts for each invocation of a
    /// messaging coop arm on Docker (`edges::redis`) [default: redis:alpine,
    /// the CLI's own].
    pub redis_image: String,
    /// The file's concurrency, for arms that set none.
    pub run_concurrency: u32,
    pub eval_concurrency: u32,
    pub arms: Vec<ArmSpec>,
    /// The file had `[[arm]]` tables (not today's one-model form).
    pub has_arm_tables: bool,
}

/// One arm as a command runs it: the study it belongs to, and the arm's own
/// settings resolved (concurrency, the seed run's name, messaging), the
/// flags applied over them.
#[derive(Debug, Clone)]
pub struct Arm {
    pub study: Study,
    pub name: String,
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
    /// Environment variables the model needs; default from the model name.
    pub secrets: Option<Vec<String>>,
    /// The study's, or the flag's.
    pub attempts: u32,
    /// The study's, or the flag's.
    pub timeout_minutes: Option<f64>,
    /// Settings the CLI cannot take as flags (api_base, temperature, ...),
    /// written into an `--agent-config` YAML under `model: model_kwargs:`.
    pub model_kwargs: toml::Table,
    /// The arm's budget in USD, if it has one.
    pub max_cost: Option<f64>,
}

impl Study {
    /// Every arm's name, in the file's order.
    pub fn arm_names(&self) -> Vec<String> {
        self.arms.iter().map(|a| a.name.clone()).collect()
    }

    /// The arm named `name`, as a command runs it.
    pub fn arm(&self, name: &str) -> anyhow::Result<Arm> {
        let Some(a) = self.arms.iter().find(|a| a.name == name) else {
            bail!("no arm `{name}`: the arms are {}", self.arm_names().join(", "));
        };
        Ok(Arm {
            study: self.clone(),
            name: a.name.clone(),
            setting: a.setting,
            model: a.model.clone(),
            agent: a.agent.clone(),
            backend: a.backend,
            messaging: a.messaging.unwrap_or(true),
            git: a.git,
            run_concurrency: a.run_concurrency.unwrap_or(self.run_concurrency),
            eval_concurrency: a.eval_concurrency.unwrap_or(self.eval_concurrency),
            baseline_run: a.runs.first().cloned(),
            seeds: a.seeds.clone(),
            seed_run_name: a.run_name_template(),
            secrets: a.secrets.clone(),
            attempts: self.attempts,
            timeout_minutes: self.timeout_minutes,
            model_kwargs: a.model_kwargs.clone(),
            max_cost: a.max_cost,
        })
    }

    /// The arm the single-arm commands work on (`oracle`'s grader, the
    /// secrets' default): the first solo arm, else the first.
    pub fn first_arm(&self) -> Arm {
        let a = self.arms.iter().find(|a| a.setting == Setting::Solo).unwrap_or(&self.arms[0]);
        self.arm(&a.name).expect("the arm is the study's own")
    }

    /// The runs that define difficulty: every solo arm's runs made before,
    /// then its seeds, arm by arm (today's file: the baseline, then the seeds).
    pub fn solo_runs(&self) -> Vec<String> {
        self.runs_where(Setting::Solo, None)
    }

    /// Every coop arm's runs: read by `report` and checked by `verify`.
    pub fn coop_runs(&self) -> Vec<String> {
        self.runs_where(Setting::Coop, None)
    }

    /// Which model each run belongs to, from the arms.
    pub fn models(&self) -> Models {
        self.models_with(None)
    }

    /// The run `cargo xtask oracle` writes: beside the baseline in today's
    /// file (`<baseline>-oracle`), else `<name>-oracle`.
    pub fn oracle_base(&self) -> String {
        match (self.has_arm_tables, self.arms.first().and_then(|a| a.runs.first())) {
            (false, Some(baseline)) => baseline.clone(),
            _ => self.name.clone(),
        }
    }

    /// Every key any arm's model needs: what the reports are scrubbed of.
    pub fn secret_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for a in &self.arms {
            for n in secrets_of(&a.secrets, &a.model) {
                if !names.contains(&n) {
                    names.push(n);
                }
            }
        }
        names
    }

    /// The runs of the arms of `setting`; `this` replaces one arm's seed
    /// runs (an arm whose seeds the flags chose).
    fn runs_where(&self, setting: Setting, this: Option<&Arm>) -> Vec<String> {
        self.arms.iter().filter(|a| a.setting == setting).flat_map(|a| runs_of(a, this)).collect()
    }

    fn models_with(&self, this: Option<&Arm>) -> Models {
        Models::of(self.arms.iter().flat_map(|a| {
            let model = match this {
                Some(t) if t.name == a.name => t.model.clone(),
                _ => a.model.clone(),
            };
            runs_of(a, this).into_iter().map(move |r| (r, model.clone()))
        }))
    }

    /// Checks what every arm must be, naming the arm and the field.
    pub fn validate(&self) -> anyhow::Result<()> {
        let mut names = BTreeSet::new();
        let mut runs: BTreeMap<String, String> = BTreeMap::new();
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
            if has_duplicates(&a.seeds) {
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
        if self.run_concurrency == 0 || self.eval_concurrency == 0 {
            bail!("fields `run_concurrency` and `eval_concurrency` must be at least 1");
        }
        // The run-wide fields, then the per-pair ones (`study::changed`).
        let fields: Vec<&str> = crate::study::provenance::POOLED_FIELDS
            .into_iter()
            .chain([crate::study::changed::DATASET, crate::study::changed::IMAGES])
            .collect();
        for f in &self.allow_mixed {
            if !fields.contains(&f.as_str()) {
                bail!("field `allow_mixed`: {f:?} is not one of {}", fields.join(", "));
            }
        }
        // Each arm carries the study's attempts and timeout: checked there.
        for a in &self.arms {
            self.arm(&a.name)?.validate()?;
        }
        Ok(())
    }
}

/// A timeout in minutes a child can be given.
pub fn valid_minutes(t: f64) -> bool {
    t.is_finite() && t > 0.0 && t < 1e6
}

fn has_duplicates(seeds: &[u32]) -> bool {
    let mut s = seeds.to_vec();
    s.sort();
    s.dedup();
    s.len() != seeds.len()
}

/// An arm's runs: made before, then its seeds (`this` arm's with the seeds
/// the flags chose).
fn runs_of(a: &ArmSpec, this: Option<&Arm>) -> Vec<String> {
    match this {
        Some(t) if t.name == a.name => {
            let mut r = a.runs.clone();
            r.extend(t.seed_runs());
            r
        }
        _ => a.all_runs(),
    }
}

impl Arm {
    /// What one arm must be once the flags are applied. (The file's fields
    /// are named as fields: the flags' own values are checked as flags.)
    pub fn validate(&self) -> anyhow::Result<()> {
        for (field, value) in [("model", &self.model), ("agent", &self.agent)] {
            if value.trim().is_empty() {
                bail!("field `{field}`: empty");
            }
        }
        if !self.seeds.is_empty() && !self.seed_run_name.contains("{seed}") {
            bail!("field `seed_run_name`: must contain {{seed}}, got {:?}", self.seed_run_name);
        }
        if self.attempts == 0 {
            bail!("field `attempts`: must be at least 1");
        }
        if let Some(t) = self.timeout_minutes.filter(|t| !valid_minutes(*t)) {
            bail!("field `timeout_minutes`: {t} is not a positive number of minutes (leave it out for no timeout)");
        }
        if has_duplicates(&self.seeds) {
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
        let base = self.baseline_run.as_deref().unwrap_or(&self.name);
        self.seed_run_name.replace("{baseline}", base).replace("{seed}", &seed.to_string())
    }

    /// A coop arm whose agents message each other (through Redis).
    pub fn messages(&self) -> bool {
        self.setting == crate::study::setting::Setting::Coop && self.messaging
    }

    pub fn seed_runs(&self) -> Vec<String> {
        self.seeds.iter().map(|s| self.seed_run(*s)).collect()
    }

    /// The study's runs that define difficulty, with this arm's seeds as
    /// the flags chose them.
    pub fn solo_runs(&self) -> Vec<String> {
        self.study.runs_where(Setting::Solo, Some(self))
    }

    /// The arm's own runs: made before, then its seeds.
    pub fn arm_runs(&self) -> Vec<String> {
        match self.study.arms.iter().find(|a| a.name == self.name) {
            Some(a) => runs_of(a, Some(self)),
            None => self.seed_runs(),
        }
    }

    /// Which model each run belongs to, with this arm's model as the flags
    /// chose it.
    pub fn models(&self) -> Models {
        self.study.models_with(Some(self))
    }

    /// The keys this arm's model needs.
    pub fn secret_names(&self) -> Vec<String> {
        secrets_of(&self.secrets, &self.model)
    }
}

/// An arm's keys: those it names, else those its model's provider needs.
fn secrets_of(named: &Option<Vec<String>>, model: &str) -> Vec<String> {
    named.clone().unwrap_or_else(|| secret_names_for(model))
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

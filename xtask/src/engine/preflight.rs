//! The checks `seeds` (and `study`, and `oracle`) make before they spend anything: the checkout, the
//! CLI, the subset, Docker, the keys, the agent, secret-looking settings,
//! seed runs made by another configuration, and the estimate `--max-cost`
//! needs. Each check is a line of the plan; any failure starts nothing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::edges::cli;
use crate::edges::docker;
use crate::edges::manifest::{self, Manifest};
use crate::edges::secrets::Secrets;
use crate::engine::job::Job;
use crate::engine::sandboxes::Sandboxes;
use crate::study::arms::Arm;
use crate::study::plan::{Estimate, SpendPolicy};
use crate::study::run::RunLogs;
use crate::study::setting::{Backend, Setting};
use crate::study::subset::Subset;

/// The agents the CLI registers (CONTRACT.md); anything else makes it write
/// an `Error` result per pair and exit 0.
pub const REGISTERED_AGENTS: [&str; 5] = ["mini_swe_agent_v2", "swe_agent", "openhands_sdk", "claude_code", "codex"];

/// What preflight takes from the flags of `seeds` (the rest is in the
/// experiment, flags already applied).
pub struct Inputs<'a> {
    /// `--cooperbench-bin`.
    pub cooperbench_bin: Option<&'a Path>,
    pub max_cost: Option<f64>,
    pub no_agent_check: bool,
    pub docker: &'a docker::Docker,
    /// `--pull`: pull the missing task images in preflight.
    pub pull: bool,
    /// `--stop-orphans`: end the groups a killed harness left running.
    pub stop_orphans: bool,
}

pub use crate::engine::check::Check;

/// Prints the checks, one a line, scrubbed of secrets (a line can hold a
/// program's stderr: a failing `--help`); true when every one passed.
pub fn show(checks: &[Check], scrub: &Secrets) -> bool {
    for c in checks {
        let mark = if !c.ok {
            "FAIL"
        } else if c.warn {
            "warn"
        } else {
            "ok  "
        };
        crate::say!("  {mark} {}", scrub.redact(&c.line));
    }
    checks.iter().all(|c| c.ok)
}

use crate::engine::check::check;

/// The checks the grader needs too (`oracle` makes only these): the
/// checkout, the CLI, the subset, the engine, the images.
pub fn grader_checks(flags: &Inputs, exp: &Arm) -> (Vec<Check>, Option<PathBuf>, Option<Subset>, Option<String>) {
    let mut checks = Vec::new();
    let cb = exp.study.cooperbench_dir.clone();
    if let Err(e) = crate::edges::layout::require_checkout(&cb) {
        checks.push(check(false, "", format!("{e:#}")));
        return (checks, None, None, None);
    }
    checks.push(check(true, format!("checkout {}", cb.display()), ""));
    if exp.backend == Backend::Gcp {
        // 0.0.29 runs every agent that is not on docker in a Modal sandbox
        // (agents/mini_swe_agent_v2/adapter.py: `if backend == "docker"`,
        // else `ModalEnvironment`) and moves only the evals to GCP Batch
        // (eval/backends/gcp.py); nothing here sees or cleans Batch jobs,
        // and there is no offline double to prove it.
        checks.push(check(
            false,
            "",
            "backend gcp is refused until it can be proven here as Modal is: 0.0.29 still runs the agents on Modal and sends only the evals to GCP Batch, whose jobs the harness can neither see nor clean, and there is no offline double of Batch to test it on; use backend docker or modal",
        ));
        return (checks, None, None, None);
    }

    // The CLI's work left running by a harness that was killed (-9): it
    // may still be paying, and a run beside it would pay for its pairs again.
    let orphans = crate::edges::groups::orphans(&cb);
    if !orphans.is_empty() {
        let lines = crate::edges::groups::describe(&orphans);
        if flags.stop_orphans {
            for l in &lines {
                crate::say!("  stopping {l}");
            }
            crate::edges::groups::stop(&cb, &orphans);
            checks.push(check(
                true,
                format!("stopped {} group(s) left running by a killed harness", orphans.len()),
                "",
            ));
        } else {
            checks.push(check(
                false,
                "",
                format!(
                    "the CLI's work of a harness that was killed is still running: {}; wait for it to end, or pass --stop-orphans",
                    lines.join("; ")
                ),
            ));
        }
    }

    // The subset is read first (a file); then the CLI (its facts cached by
    // installation, `edges::cli_facts`) and the engine are asked at once.
    let subset = crate::edges::layout::load_subset(&cb, &exp.study.subset);
    let found = cli::find_program(flags.cooperbench_bin, &cb);
    let (facts, engine_checks) = std::thread::scope(|s| {
        let facts = found.as_ref().map(|p| s.spawn(move || crate::edges::cli_facts::known(flags.docker.sh(), p)));
        let mut engine_checks = match (&subset, exp.backend) {
            (Ok(sub), Backend::Docker) => docker_checks(flags, Some(sub)),
            (Err(_), Backend::Docker) => docker_checks(flags, None),
            _ => Vec::new(),
        };
        if exp.backend == Backend::Docker && exp.messages() {
            engine_checks.push(redis_image(flags, &exp.study.redis_image));
        }
        let facts = facts.map(|h| h.join().unwrap_or_else(|_| Err(anyhow::anyhow!("the CLI check panicked"))));
        (facts, engine_checks)
    });
    let (program, version) = match (found, facts) {
        (Some(p), Some(Ok((f, whence)))) => {
            let how = match whence {
                crate::edges::cli_facts::Whence::Asked => "answers --help",
                crate::edges::cli_facts::Whence::Cached => {
                    "answered --help (this installation, unchanged since: cached)"
                }
            };
            checks.push(check(true, format!("cooperbench {} {how}", p.display()), ""));
            (Some(p), Some(f.version))
        }
        (Some(_), Some(Err(e))) => {
            checks.push(check(false, "", format!("{e:#}")));
            (None, None)
        }
        _ => {
            checks.push(check(
                false,
                "",
                "cooperbench not found: run `cargo xtask install-cooperbench`, or pass --cooperbench-bin",
            ));
            (None, None)
        }
    };

    let subset = match subset {
        Ok(s) => {
            let want = exp.study.expected_pairs;
            checks.push(check(
                want.is_none_or(|w| w == s.pairs.len()),
                format!("subset {}: {} tasks, {} pairs", s.name, s.tasks, s.pairs.len()),
                format!(
                    "subset {} has {} pairs, the experiment expects {}: check dataset/subsets/{}.json or expected_pairs",
                    s.name,
                    s.pairs.len(),
                    want.unwrap_or(0),
                    s.name
                ),
            ));
            Some(s)
        }
        Err(e) => {
            checks.push(check(false, "", format!("{e:#}")));
            None
        }
    };
    checks.extend(engine_checks);

    if exp.backend == Backend::Modal {
        checks.extend(modal_checks(program.as_deref()));
        // Modal resolves the tags in its cloud and caches them: said before
        // the spend, and recorded so in each seed's manifest.
        checks.push(crate::engine::check::warn(
            "task images on Modal: their ids cannot be read from here, so each seed's manifest records the references as unverified; the first invocation in a seed's new Modal environment sets MODAL_FORCE_BUILD=1 so that Modal resolves them afresh instead of from its cache (docs/dataset.md)",
        ));
    }

    (checks, program, subset, version.flatten())
}

/// The engine answers, the task images the subset needs, and the socket
/// the labelling proxy needs.
fn docker_checks(flags: &Inputs, subset: Option<&Subset>) -> Vec<Check> {
    let mut checks = Vec::new();
    let engine = flags.docker.available();
    let up = engine.is_ok();
    checks.push(match engine {
        Ok(v) => check(true, format!("docker engine {v} answers"), ""),
        Err(e) => check(false, "", format!("{e:#}")),
    });
    if let (true, Some(s)) = (up, subset) {
        checks.extend(images(flags, s));
    }
    // The CLI's containers are labelled by our proxy, which reaches the
    // engine through its Unix socket only.
    if flags.docker.upstream().is_none() {
        checks.push(check(
            false,
            "",
            "the engine (DOCKER_HOST, or the current docker context) is not a unix:// socket: the harness could not label (and so could not own) the CLI's containers; use a context on a local socket",
        ));
    }
    checks
}

/// The image of the Redis a messaging coop arm's invocations get
/// (`edges::redis`): here before the spend, so that no invocation waits on
/// a pull it did not say, or fails on one mid-seed.
fn redis_image(flags: &Inputs, image: &str) -> Check {
    match flags.docker.image_size(image) {
        Ok(Some(bytes)) => check(
            true,
            format!("redis image {image} is here ({:.0} MB): each messaging invocation gets a Redis of its own from it", bytes as f64 / 1e6),
            "",
        ),
        Ok(None) => check(
            false,
            "",
            format!("redis image {image} is not on this host: `docker pull {image}`, or set `redis_image` in the experiment file to one that is (docs/coop.md)"),
        ),
        Err(e) => check(false, "", format!("redis image {image}: {e:#}")),
    }
}

/// Modal's credentials (where they are, never what), and the CLI's own
/// Python importing `modal`: what a modal run needs before any spend.
/// Docker is not asked (a solo run on Modal needs no engine here).
fn modal_checks(program: Option<&Path>) -> Vec<Check> {
    let mut checks = Vec::new();
    let home = std::env::var_os("HOME").map(PathBuf::from);
    checks.push(
        match crate::edges::modal::credentials(|n| std::env::var_os(n).is_some_and(|v| !v.is_empty()), home.as_deref())
        {
            Ok(where_) => check(true, where_, ""),
            Err(why) => check(false, "", why),
        },
    );
    match program.map(|p| (p, crate::edges::modal::Modal::of_program(p))) {
        Some((_, Some(m))) => checks.push(match m.version() {
            Ok(v) => check(true, format!("the CLI's Python imports modal {v}"), ""),
            Err(e) => check(
                false,
                "",
                format!("the CLI's Python cannot import modal ({e:#}): reinstall with `cargo xtask install-cooperbench`"),
            ),
        }),
        Some((p, None)) => checks.push(check(
            true,
            format!("{} is no Python console script: its Modal client is not checked, and no Modal environment is made or cleaned", p.display()),
            "",
        )),
        None => {}
    }
    checks
}

/// The task images the subset needs (the CLI's naming), which are here and
/// their size, which are not and the pairs that need them. With `--pull`
/// the missing ones are pulled now: the agent's own pull gives up after
/// 120 s and its pair ends an Error.
fn images(flags: &Inputs, subset: &Subset) -> Vec<Check> {
    let mut needed: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for p in &subset.pairs {
        needed.entry(docker::task_image(&p.repo, p.task_id)).or_default().push(p.to_string());
    }
    let mut bytes = 0u64;
    let mut missing = Vec::new();
    // Each image asked at once: a `docker image inspect` apiece.
    let sizes: Vec<anyhow::Result<Option<u64>>> = std::thread::scope(|s| {
        let asked: Vec<_> = needed.keys().map(|image| s.spawn(move || flags.docker.image_size(image))).collect();
        asked.into_iter().map(|h| h.join().unwrap_or_else(|_| Err(anyhow::anyhow!("a reader panicked")))).collect()
    });
    for (image, size) in needed.keys().zip(sizes) {
        match size {
            Ok(Some(b)) => bytes += b,
            Ok(None) => missing.push(image.clone()),
            Err(e) => return vec![check(false, "", format!("docker image inspect {image} failed: {e:#}"))],
        }
    }
    let here = needed.len() - missing.len();
    let mut out = vec![check(
        true,
        format!("task images: {here} of {} on this host ({:.1} GB)", needed.len(), bytes as f64 / 1e9),
        "",
    )];
    if missing.is_empty() {
        return out;
    }
    if flags.pull {
        for image in &missing {
            crate::say!("  pulling {image}");
            out.push(match flags.docker.pull(image) {
                Ok(()) => check(true, format!("pulled {image}"), ""),
                Err(e) => check(false, "", format!("{e:#}: its pairs {} cannot run", needed[image].join(", "))),
            });
        }
        return out;
    }
    let named: Vec<String> = missing.iter().map(|i| format!("{i} (pairs {})", needed[i].join(", "))).collect();
    out.push(Check {
        ok: true,
        warn: true,
        line: format!(
            "{} task image(s) not on this host: {}. The agent's own pull gives up after 120 s and the pair ends Error: pull them first, or pass --pull",
            missing.len(),
            named.join("; ")
        ),
    });
    out
}

/// What the latest oracle of the subset says (`cargo xtask oracle`): the
/// pairs whose gold patch does not pass, and whether the dataset changed
/// since. A warning, or with `require_oracle` a refusal.
fn oracle_gate(cb: &Path, exp: &Arm, subset: &Subset, now: &crate::study::dataset::DatasetRecord) -> Vec<Check> {
    use crate::study::oracle;
    let run = oracle::run_name(&exp.study.oracle_base());
    let need = exp.study.require_oracle;
    let say = |line: String| Check { ok: !need, warn: !need, line };
    let Some((_, j)) = crate::engine::oracle::latest(cb, &exp.study.oracle_base(), subset) else {
        return vec![if need {
            say(format!(
                "require_oracle: no oracle yet (logs/{run}): run `cargo xtask oracle` first (no model, no spend)"
            ))
        } else {
            check(
                true,
                format!("no oracle yet: `cargo xtask oracle` grades the gold patches for free (logs/{run})"),
                "",
            )
        }];
    };
    let mut out = Vec::new();
    if !j.all_pass() {
        out.push(say(format!(
            "oracle (logs/{run}): the gold patch does not pass on {}; these pairs cannot measure a model",
            j.failing_line(10)
        )));
    }
    // By fingerprint, pair by pair: a file's time says nothing (a checkout,
    // a copy or a pull sets it), its content does.
    let manifest = crate::edges::manifest::Manifest::load(cb, &run).and_then(|m| m.ok());
    if let Some(why) = crate::engine::graded::oracle_changed(manifest.as_ref(), now, subset) {
        out.push(say(format!(
            "oracle (logs/{run}) is not of today's dataset: {why}: run `cargo xtask oracle` again (it regrades those pairs)"
        )));
    }
    if out.is_empty() {
        out.push(check(true, format!("oracle: every gold patch of the {} pairs passes (logs/{run})", j.pairs), ""));
    }
    out
}

/// The job of `oracle`: the grader's checks only (no model, no key, no
/// agent); nothing it runs is paid for.
pub fn for_oracle(flags: &Inputs, mut exp: Arm) -> (Vec<Check>, Option<Job>) {
    let (checks, program, subset, version) = grader_checks(flags, &exp);
    let (Some(program), Some(subset)) = (program, subset) else { return (checks, None) };
    let cb = exp.study.cooperbench_dir.clone();
    let sandboxes = Sandboxes::of(exp.backend, flags.docker, &cb, &program, &exp.study.name);
    let manifest = Manifest {
        cooperbench_version: version.clone(),
        model: crate::study::oracle::MODEL.into(),
        agent: crate::study::oracle::AGENT.into(),
        subset: subset.name.clone(),
        backend: exp.backend.name().to_string(),
        agent_config_sha256: None,
        harness_version: env!("CARGO_PKG_VERSION").to_string(),
        modal_environment: None,
        dataset: Some(crate::edges::dataset::record(&cb, &subset.pairs)),
        images: None,
        setting: None,
        messaging: None,
    };
    // The oracle's progress is its own: no seed's spend is watched.
    exp.seeds = Vec::new();
    let job = Job {
        timeout: exp.timeout_minutes.map(|m| Duration::from_secs_f64(m * 60.0)),
        policy: SpendPolicy { attempts: 1, max_cost: None, estimate: None },
        agent_config: None,
        secrets: Secrets::load(&cb, &exp.secret_names()),
        exp,
        cb,
        program,
        subset,
        manifest,
        sandboxes,
        max_sandbox_hours: None,
        events: None,
        lock: None,
    };
    (checks, Some(job))
}

/// The checks, in the order shown, and the job when every one passed
/// far enough to build it.
pub fn run(flags: &Inputs, exp: Arm) -> (Vec<Check>, Option<Job>) {
    let (mut checks, program, subset, version) = grader_checks(flags, &exp);
    let cb = exp.study.cooperbench_dir.clone();
    if crate::edges::layout::require_checkout(&cb).is_err() {
        return (checks, None);
    }
    let names = exp.secret_names();
    let secrets = Secrets::load(&cb, &names);
    if names.is_empty() {
        checks.push(check(
            true,
            format!("no API key known for model {} (set `secrets` if it needs one)", exp.model),
            "",
        ));
    }
    for name in &names {
        checks.push(check(
            secrets.is_set(name),
            format!("{name} is set"),
            format!("{name} is missing: export it, or put it in {}/.env", cb.display()),
        ));
    }

    let known = REGISTERED_AGENTS.contains(&exp.agent.as_str()) || flags.no_agent_check;
    let hint = if exp.agent == "mini_swe_agent" { "; use `mini_swe_agent_v2` (the old name was removed)" } else { "" };
    checks.push(check(
        known,
        if flags.no_agent_check {
            format!("agent {} not checked (--no-agent-check): the canary will tell", exp.agent)
        } else {
            format!("agent {} is registered", exp.agent)
        },
        format!(
            "agent `{}` is not registered by the CLI (it would write an Error per pair and exit 0){hint}; registered: {}",
            exp.agent,
            REGISTERED_AGENTS.join(", ")
        ),
    ));
    for key in crate::edges::secrets::secret_looking_keys(&exp.model_kwargs) {
        checks.push(check(
            false,
            "",
            format!("model_kwargs.{key} looks like a secret: keys go in the environment, never in a file"),
        ));
    }
    // A secret's value in a setting, whatever its key is called (`auth`,
    // `headers.Cookie`, a key inside `api_base`'s URL): the setting goes
    // into a file, so it is refused and that file is never written.
    for path in crate::edges::secrets::values_holding(&exp.model_kwargs, &secrets) {
        checks.push(check(
            false,
            "",
            format!("model_kwargs.{path} holds the value of a secret: keys go in the environment, never in a file"),
        ));
    }
    for w in &secrets.warnings {
        checks.push(Check { ok: true, warn: true, line: w.clone() });
    }

    if let Some(subset) = &subset {
        for seed in &exp.seeds {
            let run = exp.seed_run(*seed);
            if Some(&run) == exp.baseline_run.as_ref() {
                checks.push(check(
                    false,
                    "",
                    format!("seed {seed} run `{run}` is the baseline run: change seed_run_name"),
                ));
                continue;
            }
            let logs = RunLogs::load(&cb, &run);
            if !logs.exists {
                continue;
            }
            let mut mixed = Vec::new();
            if let Some(c) = &logs.config {
                if c.model.as_deref().is_some_and(|m| m != exp.model) {
                    mixed.push(format!("model {}", c.model.clone().unwrap_or_default()));
                }
                if c.agent_framework.as_deref().is_some_and(|a| a != exp.agent) {
                    mixed.push(format!("agent {}", c.agent_framework.clone().unwrap_or_default()));
                }
                if c.setting.as_deref().is_some_and(|s| s != exp.setting.name()) {
                    mixed.push(format!("setting {}", c.setting.clone().unwrap_or_default()));
                }
            }
            for r in logs.pairs.values().filter_map(|p| p.result.as_ref()) {
                if r.model.as_deref().is_some_and(|m| m != exp.model) {
                    mixed.push(format!("results with model {}", r.model.clone().unwrap_or_default()));
                    break;
                }
            }
            let extra = logs.pairs.keys().filter(|p| !subset.contains(p)).count();
            if extra > 0 {
                mixed.push(format!("{extra} pairs outside subset {}", subset.name));
            }
            checks.push(check(
                mixed.is_empty(),
                format!("seed {seed} run `{run}` exists and matches (it will be resumed)"),
                format!(
                    "seed {seed} run `{run}` exists with {}: refusing to mix; choose other --seeds or move logs/{run} aside",
                    mixed.join(", ")
                ),
            ));
        }
    }

    // What each pair asks and how it is graded, as the files are now: the
    // seeds' manifests record it, and it is compared with the baseline's
    // and the oracle's before any spend.
    let dataset_now = subset.as_ref().map(|s| crate::edges::dataset::record(&cb, &s.pairs));
    if let (Some(subset), Some(now)) = (&subset, &dataset_now) {
        checks.extend(oracle_gate(&cb, &exp, subset, now));
    }

    // The arm's first run made before: the estimate's source. The seeds
    // repeat it: a run of another setting there would define the
    // difficulty of solo seeds (or draw a coop curve from solo runs).
    let baseline_name = exp.baseline_run.clone().unwrap_or_default();
    let baseline = match &exp.baseline_run {
        Some(b) => RunLogs::load(&cb, b),
        None => RunLogs::default(),
    };
    let setting = exp.setting.name();
    if baseline.exists && baseline.setting != setting {
        checks.push(check(
            false,
            "",
            format!(
                "run `{baseline_name}` holds {} results (logs/{baseline_name}/{}/): the first run of a {setting} arm must be a {setting} run",
                baseline.setting, baseline.setting
            ),
        ));
    }
    let estimate = Estimate::from_run(&baseline);
    if estimate.is_none() && flags.max_cost.or(exp.max_cost).is_some() {
        let why = match &exp.baseline_run {
            Some(b) => format!("the baseline run `{b}` has no results"),
            None => format!("arm `{}` names no run made before (`runs`)", exp.name),
        };
        checks.push(check(false, "", format!("a budget needs an estimate, and {why}")));
    }

    let agent_config = match crate::edges::agent_config::text(&exp.model_kwargs) {
        Ok(t) => t.map(|t| (crate::edges::layout::agent_config(&cb), t)),
        Err(e) => {
            checks.push(check(false, "", format!("[model_kwargs] cannot be written as YAML: {e:#}")));
            return (checks, None);
        }
    };
    let (Some(program), Some(subset), Some(dataset_now)) = (program, subset, dataset_now) else {
        return (checks, None);
    };
    checks.extend(crate::engine::graded::baseline_dataset(
        &cb,
        &exp,
        &subset,
        &baseline,
        &dataset_now,
        estimate.as_ref(),
    ));

    // A seed made by another cooperbench (grading changed between releases)
    // or another configuration is never resumed into this one.
    let now = Manifest {
        cooperbench_version: version.clone(),
        model: exp.model.clone(),
        agent: exp.agent.clone(),
        subset: subset.name.clone(),
        backend: exp.backend.name().to_string(),
        agent_config_sha256: agent_config.as_ref().map(|(_, t)| manifest::digest(t.as_bytes())),
        harness_version: env!("CARGO_PKG_VERSION").to_string(),
        modal_environment: None,
        dataset: Some(dataset_now),
        images: None,
        setting: (exp.setting == crate::study::setting::Setting::Coop).then(|| "coop".to_string()),
        messaging: (exp.setting == crate::study::setting::Setting::Coop).then_some(exp.messaging),
    };
    checks.push(check(
        now.cooperbench_version.is_some(),
        format!("cooperbench version {}", now.cooperbench_version.clone().unwrap_or_default()),
        "the cooperbench version cannot be told: reinstall with `cargo xtask install-cooperbench`",
    ));
    // The seeds about to be made against the baseline, by the pooling rule
    // verify and report apply: said before the spend, with what to do.
    if baseline.exists && !exp.seeds.is_empty() {
        use crate::study::provenance::{pooling_by_field, unrecorded_allowed, Provenance};
        let runs = [Provenance::of(&baseline), Provenance::from_manifest(&exp.seed_run(exp.seeds[0]), &now)];
        // What the baseline could not record is said once, plainly: there
        // is nothing to decide about it (allow_mixed decided).
        let unrecorded = unrecorded_allowed(&runs, &exp.study.allow_mixed);
        if !unrecorded.is_empty() {
            checks.push(check(
                true,
                format!(
                    "baseline `{baseline_name}` records no {} (the CLI made it directly; the seeds' manifests will): pooled with the seeds, as allow_mixed says",
                    unrecorded.join(", ")
                ),
                "",
            ));
        }
        for (field, p) in pooling_by_field(&runs, &exp.study.allow_mixed) {
            if unrecorded.contains(&field) {
                continue;
            }
            let line = if exp.setting == Setting::Coop {
                // Coop runs define no difficulty; still, they would not be
                // repeats of one experiment either.
                p.detail.replace("difficulty pools runs of different", "this coop arm would hold runs of different")
            } else if p.check == crate::study::problem::Check::MixedProvenance {
                format!(
                    "{}. Before paying: make a new baseline with this configuration (e.g. seeds 0, 1, 2 under another seed_run_name), pin a cooperbench that still has the baseline's, or list the field in allow_mixed; as it stands verify and report will refuse to pool them",
                    p.detail
                )
            } else {
                p.detail
            };
            checks.push(Check { ok: true, warn: true, line });
        }
    }
    let sandboxes = Sandboxes::of(exp.backend, flags.docker, &cb, &program, &exp.study.name);
    for seed in &exp.seeds {
        let run = exp.seed_run(*seed);
        match Manifest::load(&cb, &run) {
            None => {}
            Some(Err(e)) => checks.push(check(
                false,
                "",
                format!("{}/{}: {e}", crate::edges::layout::run_rel(&run), crate::edges::layout::MANIFEST),
            )),
            Some(Ok(was)) => {
                checks.extend(crate::engine::graded::images_since_begun(&sandboxes, &run, &was));
                let d = was.differences(&now);
                checks.push(check(
                    d.is_empty(),
                    format!("seed {seed} run `{run}` was made by this configuration"),
                    format!(
                        "seed {seed} run `{run}` was made by another configuration ({}): refusing to mix; choose other --seeds or move logs/{run} aside",
                        d.join("; ")
                    ),
                ));
            }
        }
    }

    let job = Job {
        sandboxes,
        max_sandbox_hours: None,
        timeout: exp.timeout_minutes.map(|m| Duration::from_secs_f64(m * 60.0)),
        policy: SpendPolicy { attempts: exp.attempts, max_cost: flags.max_cost, estimate },
        agent_config,
        exp,
        cb,
        program,
        subset,
        secrets,
        manifest: now,
        events: None,
        lock: None,
    };
    (checks, Some(job))
}

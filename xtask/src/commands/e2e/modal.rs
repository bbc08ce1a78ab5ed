//! The Modal backend on the Docker-backed double of the modal client: the
//! CLI's own Modal code, kill -9 mid-seed, a foreign environment untouched
//! (another checkout's of the same experiment file).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::scenario::*;
use crate::edges::events::Event;
use crate::support::world;

/// What the stand-in does on the Modal scenario: the same for every
/// conversation of a pair, so that a pair cut short by kill -9 and redone
/// ends as the script says. Seeds pass all but two pairs.
pub fn modal_script() -> BTreeMap<String, Vec<&'static str>> {
    world::pairs()
        .into_iter()
        .map(|p| {
            let p = p.to_string();
            let b = if p == "e2ecalc_task/1/f1_f3" || p == "e2etext_task/2/f1_f2" { "half" } else { "solve" };
            (p, vec![b; 8])
        })
        .collect()
}

/// The running sandboxes the Modal double holds in one environment.
pub(super) fn sandboxes_in(docker: &crate::edges::docker::Docker, env: &str) -> Vec<String> {
    duct::cmd!(docker.program(), "ps", "-q", "--filter", format!("label=modal-double.environment={env}"))
        .stdout_capture()
        .stderr_null()
        .unchecked()
        .read()
        .unwrap_or_default()
        .split_whitespace()
        .map(String::from)
        .collect()
}

/// Waits (up to 5 minutes) for a sandbox in `env` while `handle` runs:
/// whether one appeared before it ended.
pub(super) fn sandbox_appears(
    handle: &duct::Handle,
    docker: &crate::edges::docker::Docker,
    env: &str,
) -> anyhow::Result<bool> {
    let deadline = Instant::now() + Duration::from_secs(300);
    while sandboxes_in(docker, env).is_empty() {
        if handle.try_wait()?.is_some() || Instant::now() > deadline {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(true)
}

/// Seeds on Modal, on the real CLI's Modal code, with a test double of the
/// `modal` client backed by Docker (fixtures/modal-double; first on the
/// CLI's PYTHONPATH here only): each seed run in a Modal environment of its
/// own; a kill -9 of the harness mid-seed leaves sandboxes that the next
/// `seeds` terminates, in that seed's environment only (another
/// environment's sandbox, made before, survives); Ctrl-C terminates them at
/// once; the outcomes are the script's.
pub(super) fn modal(root: &Path, cli: &Cli, keep: bool) -> anyhow::Result<Outcome> {
    let script = modal_script();
    let sc = Scenario::new(root, "modal", cli, Some(&script))?;
    // One solo arm on Modal, with no baseline: the scenario stands alone.
    let port = sc.stand_in.as_ref().map(|s| s.port).unwrap_or(9);
    std::fs::write(
        &sc.experiment,
        format!(
            "# Written by `cargo xtask e2e` (scenario modal).\nname = \"e2e\"\ncooperbench_dir = \"{}\"\nsubset = \"{}\"\nexpected_pairs = {}\nrun_concurrency = 2\neval_concurrency = 2\nattempts = 2\n\n[[arm]]\nname = \"e2e-solo\"\nmodel = \"openai/gpt-4o-mini\"\nagent = \"mini_swe_agent_v2\"\nbackend = \"modal\"\nseeds = [1, 2]\nrun_name = \"e2e-solo-seed{{seed}}\"\n[arm.model_kwargs]\napi_base = \"http://127.0.0.1:{port}/v1\"\n",
            sc.cb.display(),
            world::SUBSET,
            world::pairs().len()
        ),
    )?;
    let double = cli.fixtures.join("modal-double");
    let state = sc.dir.join("modal-state");
    let token = format!("as-e2e-modal-secret-{:08x}", std::process::id() ^ 0x0dd_ba11);
    let (d, st) = (double.display().to_string(), state.display().to_string());
    let env: Vec<(&str, &str)> = vec![
        ("PYTHONPATH", d.as_str()),
        ("MODAL_DOUBLE_STATE", st.as_str()),
        ("MODAL_TOKEN_ID", "ak-e2e-modal-double"),
        ("MODAL_TOKEN_SECRET", token.as_str()),
        ("MSWEA_MODEL_RETRY_STOP_AFTER_ATTEMPT", "1"),
    ];
    let t = Instant::now();
    let mut failures = Vec::new();
    let checkout = crate::edges::identity::checkout_id(&sc.cb);
    let environment = |run: &str| crate::edges::modal::environment("e2e", run, &checkout);
    let seed_env = [environment("e2e-solo-seed1"), environment("e2e-solo-seed2"), environment("e2e-solo-seed3")];

    // Another job's sandbox, in another environment, made before the seeds.
    // Another checkout of this same experiment file on this Modal
    // workspace (N40): its seed 1 runs in the environment its own identity
    // names. Before, both checkouts' seed 1 shared one environment, and our
    // clean-up terminated the other's sandboxes.
    let other_checkout = format!("{:032x}", u128::from(std::process::id()) << 64 | 0x0dd);
    let foreign_env = crate::edges::modal::environment("e2e", "e2e-solo-seed1", &other_checkout);
    let image = crate::edges::docker::task_image(world::TASKS[0].repo, world::TASKS[0].id);
    let make_foreign = format!(
        "import modal\nfrom modal import environments\nenvironments.create_environment({foreign_env:?})\napp = modal.App.lookup('cooperbench', environment_name={foreign_env:?}, create_if_missing=True)\nsb = modal.Sandbox.create('sleep', 'infinity', image=modal.Image.from_registry({image:?}).entrypoint([]), timeout=900, app=app)\nprint(sb.object_id)\n"
    );
    let mut foreign = duct::cmd!(&cli.python, "-c", make_foreign).stderr_to_stdout().stdout_capture().unchecked();
    for (k, v) in &env {
        foreign = foreign.env(k, v);
    }
    let made = foreign.run()?;
    if !made.status.success() || sandboxes_in(&cli.docker, &foreign_env).len() != 1 {
        failures.push(format!("could not make the foreign sandbox: {}", text(&made)));
    }

    // kill -9 in the middle of seed 1, with a sandbox of it running.
    println!("modal: `seeds --yes` on the Modal double, killed (-9) once a sandbox of seed 1 runs");
    let handle = sc.seeds(cli, &[], &env).start()?;
    if !sandbox_appears(&handle, &cli.docker, &seed_env[0])? {
        failures.push("seeds ended (or hung) before a sandbox of seed 1 appeared".into());
    }
    // SAFETY: kills the harness process this scenario started.
    unsafe { libc::kill(handle.pids()[0] as i32, libc::SIGKILL) };
    let killed = handle.wait().map(text).unwrap_or_default();
    echo("seeds (killed)", &killed);
    let left = sandboxes_in(&cli.docker, &seed_env[0]);
    if left.is_empty() {
        failures.push("kill -9 left no sandbox of seed 1: the scenario proves nothing".into());
    }
    println!("modal: {} sandbox(es) of seed 1 left running by the killed harness", left.len());

    // As the refusal of a rerun says when a process of the killed CLI still
    // lingers (the double's `docker exec` client can, for a moment):
    // --stop-orphans ends it first.
    let rerun = sc.seeds(cli, &["--stop-orphans"], &env).run()?;
    let second = text(&rerun);
    echo("seeds (after kill -9)", &second);
    if rerun.status.code() != Some(0) {
        failures.push(format!("the rerun exited {:?}, expected 0", rerun.status.code()));
    }
    let ended_left: Vec<String> = sc
        .events()
        .into_iter()
        .filter_map(|l| match l.event {
            Event::ModalTerminated { run, when, sandboxes, .. }
                if run == "e2e-solo-seed1" && when == "left by an earlier seeds" =>
            {
                Some(sandboxes)
            }
            _ => None,
        })
        .flatten()
        .collect();
    if ended_left.is_empty() {
        failures.push("the rerun recorded no terminated sandbox left by the killed harness".into());
    }
    if sandboxes_in(&cli.docker, &foreign_env).len() != 1 {
        failures.push(format!("the foreign sandbox in environment {foreign_env} did not survive"));
    }
    for e in &seed_env[..2] {
        for sb in sandboxes_in(&cli.docker, e) {
            failures.push(format!("sandbox {sb} left running in {e}"));
        }
    }
    // The outcomes are the script's, read from the real CLI's files.
    for run in ["e2e-solo-seed1", "e2e-solo-seed2"] {
        for (pair, plan) in &script {
            let eval = std::fs::read_to_string(sc.cb.join("logs").join(run).join("solo").join(pair).join("eval.json"))
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok());
            let passed = eval.and_then(|e| e["both_passed"].as_bool());
            if passed != Some(plan[0] == "solve") {
                failures.push(format!("{run} {pair}: both_passed {passed:?}, the script says {}", plan[0]));
            }
        }
    }
    let sandbox_seconds: f64 = sc
        .events()
        .iter()
        .filter_map(|l| match &l.event {
            Event::SandboxTime { agent_seconds, .. } => Some(*agent_seconds),
            _ => None,
        })
        .sum();
    if sandbox_seconds <= 0.0 {
        failures.push("no agent sandbox time was recorded per invocation".into());
    }
    let manifest = std::fs::read_to_string(sc.cb.join("logs/e2e-solo-seed1").join(crate::edges::layout::MANIFEST))
        .unwrap_or_default();
    if !manifest.contains("\"backend\": \"modal\"") {
        failures.push("the seed's manifest does not record the modal backend".into());
    }
    // The images: unverifiable from here, so recorded as such; and the
    // first sandbox in each new environment asked Modal to resolve its
    // image afresh (MODAL_FORCE_BUILD), the later ones not.
    if !manifest.contains("\"verified\": false") {
        failures.push("the seed's manifest does not record its images as unverified".into());
    }
    let log = std::fs::read_to_string(state.join("images.log")).unwrap_or_default();
    for env in &seed_env[..2] {
        let mine: Vec<&str> = log.lines().filter(|l| l.starts_with(&format!("{env}\t"))).collect();
        if mine.first().is_none_or(|l| !l.ends_with("\tforce_build")) {
            failures.push(format!("the first sandbox in {env} did not ask for a fresh image: {mine:?}"));
        }
        if mine.len() < 2 || mine[1..].iter().any(|l| l.ends_with("\tforce_build")) {
            failures.push(format!("after the first, sandboxes in {env} should use Modal's cache: {mine:?}"));
        }
    }

    // Ctrl-C in the middle of a third seed: its sandboxes end at once.
    let handle = sc.seeds(cli, &["--seeds", "3"], &env).start()?;
    if !sandbox_appears(&handle, &cli.docker, &seed_env[2])? {
        failures.push("seed 3 ended (or hung) before a sandbox appeared".into());
    }
    // SAFETY: signals the harness process this scenario started.
    unsafe { libc::kill(handle.pids()[0] as i32, libc::SIGINT) };
    let out = handle.wait()?.clone();
    echo("seeds --seeds 3 (Ctrl-C)", &text(&out));
    if out.status.code() != Some(crate::engine::job::INTERRUPTED) {
        failures.push(format!("the interrupted seeds exited {:?}, expected 130", out.status.code()));
    }
    for sb in sandboxes_in(&cli.docker, &seed_env[2]) {
        failures.push(format!("after Ctrl-C, sandbox {sb} still running in {}", seed_env[2]));
    }
    if sandboxes_in(&cli.docker, &foreign_env).len() != 1 {
        failures.push("Ctrl-C ended the foreign sandbox".into());
    }
    // Ours to remove: the foreign sandbox this scenario made.
    for sb in sandboxes_in(&cli.docker, &foreign_env) {
        let _ = duct::cmd!(cli.docker.program(), "rm", "-f", sb).stdout_null().stderr_null().unchecked().run();
    }
    for f in key_in_files(&sc.dir, &token) {
        failures.push(format!("the Modal token secret is in {f}"));
    }
    for (what, o) in [("killed", &killed), ("rerun", &second), ("ctrl-c", &text(&out))] {
        if o.contains(&token) {
            failures.push(format!("the Modal token secret is in the output of seeds ({what})"));
        }
    }
    let summary = format!(
        "two seeds on the Modal double ({sandbox_seconds:.0} s of agent sandbox time recorded); kill -9 left {} sandbox(es), the rerun ended {} (its environment only); Ctrl-C ended seed 3's at once",
        left.len(),
        ended_left.len()
    );
    Ok(sc.outcome(failures, summary, t, 0.0, keep))
}

//! The coop arms for real, through `cargo xtask study`: one with messaging
//! (the agents talk through a Redis of the harness's own, and two of them
//! edit the same line of the same file, so that pair's merge conflicts) and
//! one with `--git` (the CLI's shared git daemon, made from the world's
//! `cooperbench-git-server:local`). Ctrl-C mid messaging arm, then `kill
//! -9` mid `--git` arm: nothing of ours left, nothing paid twice on the
//! reruns. Beside it all, the host's shared
//! infrastructure as another job would use it: a `cooperbench-redis` and a
//! client on the `cooperbench` network, both still working after our
//! clean-ups.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::scenario::*;
use crate::study::shared::{GIT_CONTAINER, GIT_NETWORK, GIT_VOLUME, REDIS_CONTAINER};
use crate::support::{infra, world};

/// The label of the foreign containers this scenario makes (and removes).
const FOREIGN: &str = "xtask-e2e-foreign";
/// The pair whose two agents both rewrite README.md's line 3.
const CONFLICTING: &str = "e2ecalc_task/1/f2_f3";

pub(super) fn coop(root: &Path, cli: &Cli, keep: bool) -> anyhow::Result<Outcome> {
    let docker = &cli.docker;
    let mut failures = Vec::new();
    // Every agent talks (in the --git arm, without messaging, its
    // `send_message` reaches bash and fails, as a model's would); calc's f2
    // and f3 also rewrite the same line (they meet in f2_f3 only). The
    // solo arm is the two-seed scenario's baseline, read only: difficulty
    // is defined by solo runs.
    let conflict: Vec<&str> = vec!["conflict"; 8];
    let doc = json!({
        "default": "solve",
        "models": {
            "gpt-4o-mini": {"default": "message", "pairs": {
                "e2ecalc_task/1/f2": conflict, "e2ecalc_task/1/f3": conflict}},
        },
    });
    let sc = Scenario::with_script(root, "coop", cli, Some(doc))?;
    let port = sc.stand_in.as_ref().map(|s| s.port).unwrap_or(9);
    let arm = |name: &str, model: &str, extra: &str| {
        format!(
            "\n[[arm]]\nname = \"{name}\"\nsetting = \"coop\"\nmodel = \"{model}\"\nagent = \"mini_swe_agent_v2\"\nseeds = [1]\nrun_name = \"{name}-s{{seed}}\"\n{extra}\n[arm.model_kwargs]\napi_base = \"http://127.0.0.1:{port}/v1\"\n"
        )
    };
    let file = format!(
        "# Written by `cargo xtask e2e` (scenario coop).\nname = \"e2e-coop\"\ncooperbench_dir = \"{}\"\nsubset = \"{}\"\nexpected_pairs = {}\nrun_concurrency = 2\neval_concurrency = 2\nattempts = 2\nredis_image = \"{}\"\n# The baseline is made by the CLI directly (no manifest).\nallow_mixed = [\"cli_version\", \"backend\", \"agent_config\", \"images\"]\n\n[[arm]]\nname = \"base\"\nmodel = \"openai/gpt-4o-mini\"\nagent = \"mini_swe_agent_v2\"\nruns = [\"{}\"]\n{}{}",
        sc.cb.display(),
        world::SUBSET,
        world::pairs().len(),
        infra::REDIS_IMAGE,
        RUNS[0],
        arm("talk", "openai/gpt-4o-mini", "messaging = true"),
        arm("git", "openai/gpt-4o-mini", "messaging = false\ngit = true"),
    );
    std::fs::write(&sc.experiment, file)?;
    let t = Instant::now();
    let bin = cli.bin.display().to_string();

    // Another job's Redis, as the CLI names it: made here when there is
    // none (no port: nothing of the host's is taken), used as it is when
    // there is one (then only looked at).
    let made_redis = !exists(docker, REDIS_CONTAINER);
    if made_redis {
        let out = docker_cmd(
            docker,
            &["run", "-d", "--name", REDIS_CONTAINER, "--label", &format!("{FOREIGN}=1"), infra::REDIS_IMAGE],
        );
        if !out.0 {
            failures.push(format!("could not start a foreign {REDIS_CONTAINER}: {}", out.1));
        }
        std::thread::sleep(Duration::from_millis(500));
        docker_cmd(docker, &["exec", REDIS_CONTAINER, "redis-cli", "SET", "foreign:job", "working"]);
    }
    // What of the git server's infrastructure was here before: only the rest
    // is this scenario's to remove at its end.
    let made_git: Vec<&str> = [
        (GIT_CONTAINER, exists(docker, GIT_CONTAINER)),
        (GIT_NETWORK, docker_cmd(docker, &["network", "inspect", GIT_NETWORK]).0),
        (GIT_VOLUME, docker_cmd(docker, &["volume", "inspect", GIT_VOLUME]).0),
    ]
    .into_iter()
    .filter(|(_, there)| !there)
    .map(|(name, _)| name)
    .collect();

    // Ctrl-C once the messaging arm has two pairs done.
    println!("coop: `cargo xtask study --yes` (a messaging arm, then a --git arm), Ctrl-C mid-arm, then the rerun");
    let since = unix_now();
    let handle = sc.xtask(&["study", "--cooperbench-bin", &bin, "--yes"], &[]).start()?;
    if !two_done(&sc.cb, "talk-s1", &handle, 600)? {
        failures.push("the study ended (or hung) before two coop pairs were done".into());
    }
    let before: BTreeMap<String, String> = coop_results(&sc.cb, "talk-s1");
    // SAFETY: signals the harness process this scenario started.
    unsafe { libc::kill(handle.pids()[0] as i32, libc::SIGINT) };
    let out = handle.wait()?.clone();
    echo("study (interrupted)", &text(&out));
    if out.status.code() != Some(crate::engine::job::INTERRUPTED) {
        failures.push(format!("the interrupted study exited {:?}, expected 130", out.status.code()));
    }
    for p in processes_in(&sc.dir) {
        failures.push(format!("after Ctrl-C, process left: {p}"));
    }
    for c in settled_containers(docker) {
        failures.push(format!("after Ctrl-C, container left: {c}"));
    }
    if !ours_redis(docker).is_empty() {
        failures.push(format!("after Ctrl-C, a Redis of ours was left: {:?}", ours_redis(docker)));
    }

    let first = text(&out);
    if !first.contains("resume with: cargo xtask study --yes") {
        failures.push("the interrupted study did not say to resume with `cargo xtask study --yes`".into());
    }

    // The rerun finishes the messaging arm and starts the --git arm: kill -9
    // once two of its pairs are done, with the git daemon in use.
    let handle = sc.xtask(&["study", "--cooperbench-bin", &bin, "--yes"], &[]).start()?;
    if !two_done(&sc.cb, "git-s1", &handle, 900)? {
        failures.push("the rerun ended (or hung) before two --git pairs were done".into());
    }
    let before_kill = coop_results(&sc.cb, "git-s1");
    failures.extend(kill_9(&sc.dir, &handle));

    let out = sc.xtask(&["study", "--cooperbench-bin", &bin, "--yes"], &[]).run()?;
    echo("study (resumed after kill -9)", &text(&out));
    if out.status.code() != Some(0) {
        failures.push(format!("the resumed study exited {:?}, expected 0", out.status.code()));
    }
    // Paid once: a pair done before the Ctrl-C or the kill keeps its result
    // (its run_id).
    for (run, done, what) in [("talk-s1", &before, "Ctrl-C"), ("git-s1", &before_kill, "kill -9")] {
        let after = coop_results(&sc.cb, run);
        for (pair, id) in done {
            if after.get(pair) != Some(id) {
                failures.push(format!(
                    "{run} {pair}: done before {what}, run again after it (run_id {id} -> {:?})",
                    after.get(pair)
                ));
            }
        }
    }
    let read = |p: PathBuf| std::fs::read_to_string(p).ok().and_then(|t| serde_json::from_str::<Value>(&t).ok());
    let mut conflicts = 0;
    for run in ["talk-s1", "git-s1"] {
        for pair in world::pairs() {
            let dir = sc.cb.join("logs").join(run).join("coop").join(pair.to_string());
            for f in [pair.a, pair.b] {
                for file in [format!("agent{f}.patch"), format!("agent{f}_traj.json")] {
                    if !dir.join(&file).is_file() {
                        failures.push(format!("{run} {pair}: no {file}"));
                    }
                }
            }
            let said = read(dir.join("conversation.json"));
            let conversation = said.as_ref().and_then(|c| c.as_array().map(|a| a.len()));
            // The scripted words, each from its own agent to the other.
            let text = said.as_ref().map(|c| c.to_string()).unwrap_or_default();
            let scripted = ["agent1", "agent2"].iter().all(|a| text.contains(&format!("{a} here: I take ")));
            match (run, conversation) {
                ("talk-s1", Some(n)) if n < 2 => {
                    failures.push(format!("{run} {pair}: {n} message(s), the script sends 2"))
                }
                ("talk-s1", Some(_)) if !scripted => failures
                    .push(format!("{run} {pair}: conversation.json does not hold the scripted messages: {text}")),
                ("git-s1", Some(n)) if n > 0 => {
                    failures.push(format!("{run} {pair}: {n} message(s) with --no-messaging"))
                }
                (_, None) => failures.push(format!("{run} {pair}: no conversation.json")),
                _ => {}
            }
            let eval = read(dir.join("eval.json"));
            let status = eval.as_ref().and_then(|e| e["merge"]["status"].as_str().map(String::from));
            let want = if pair.to_string() == CONFLICTING { "conflicts" } else { "clean" };
            if status.as_deref() != Some(want) {
                failures.push(format!("{run} {pair}: merge status {status:?}, expected {want}"));
            }
            if status.as_deref() == Some("conflicts") {
                conflicts += 1;
                if eval.as_ref().and_then(|e| e["both_passed"].as_bool()) != Some(false) {
                    failures.push(format!("{run} {pair}: a conflicting merge was not graded a fail"));
                }
            }
        }
    }
    // The messages went through a Redis of ours, never the shared one.
    if !first.contains("a Redis of our own for the agents' messages, redis://127.0.0.1:") {
        failures.push("the messaging arm's invocations were given no Redis of ours".into());
    }
    if made_redis {
        let keys = docker_cmd(docker, &["exec", REDIS_CONTAINER, "redis-cli", "--scan", "--pattern", "run:*"]);
        if !keys.1.trim().is_empty() {
            failures.push(format!("our run's messages went through the shared {REDIS_CONTAINER}: {}", keys.1.trim()));
        }
        let job = docker_cmd(docker, &["exec", REDIS_CONTAINER, "redis-cli", "GET", "foreign:job"]);
        if job.1.trim() != "working" {
            failures.push(format!("the foreign job's Redis lost its key after our clean-up: {:?}", job.1.trim()));
        }
    } else if !running(docker, REDIS_CONTAINER) {
        failures.push(format!("{REDIS_CONTAINER} (not ours) is not running after our study"));
    }
    // The git daemon the CLI made through our proxy carries our labels, and
    // still serves another job's client after our clean-ups.
    if !running(docker, GIT_CONTAINER) {
        failures.push(format!("{GIT_CONTAINER} is not running after our clean-up"));
    }
    let client = format!("{FOREIGN}-git-client-{}", std::process::id());
    let image = crate::edges::docker::task_image(world::TASKS[0].repo, world::TASKS[0].id);
    let started = docker_cmd(
        docker,
        &[
            "run",
            "-d",
            "--name",
            &client,
            "--label",
            &format!("{FOREIGN}=1"),
            "--network",
            GIT_NETWORK,
            &image,
            "sleep",
            "600",
        ],
    );
    if !started.0 {
        failures.push(format!("could not start a foreign client on {GIT_NETWORK}: {}", started.1));
    }
    let ls = docker_cmd(
        docker,
        &["exec", &client, "git", "ls-remote", &format!("git://{GIT_CONTAINER}:9418/{FOREIGN}/repo.git")],
    );
    // The daemon answers (a repository it does not export is its answer).
    if !(ls.1.contains("not exported") || ls.1.contains("access denied") || ls.0) {
        failures.push(format!("the foreign client got no answer from the git daemon: {}", ls.1.trim()));
    }
    let clean = |extra: &[&str]| {
        let mut args = vec!["clean-docker"];
        args.extend_from_slice(extra);
        sc.xtask(&args, &[]).run().map(|o| (o.status.code(), text(&o))).unwrap_or((None, String::new()))
    };
    let (code, listed) = clean(&[]);
    echo("clean-docker", &listed);
    if code != Some(0) || !listed.contains("shared with every coop run on this host") || !running(docker, GIT_CONTAINER)
    {
        failures.push(format!("clean-docker did not leave {GIT_CONTAINER} listed apart and running (exit {code:?})"));
    }
    let (code, refused) = clean(&["--shared", GIT_CONTAINER]);
    echo("clean-docker --shared", &refused);
    if code != Some(1) || !refused.contains(&client) || !running(docker, GIT_CONTAINER) {
        failures.push(format!("clean-docker --shared {GIT_CONTAINER} with a client on its network: exit {code:?}"));
    }
    docker_cmd(docker, &["rm", "-f", &client]);
    // What this scenario made of the shared infrastructure, it removes (by
    // name, when nothing uses it); what was there before stays.
    if !made_git.is_empty() {
        let mut args = Vec::new();
        for name in &made_git {
            args.extend(["--shared", *name]);
        }
        let (code, gone) = clean(&args);
        echo("clean-docker --shared (nothing live)", &gone);
        if code != Some(0) || running(docker, GIT_CONTAINER) {
            failures.push(format!("clean-docker --shared {} with nothing live: exit {code:?}", made_git.join(" ")));
        }
    }
    if made_redis {
        docker_cmd(docker, &["rm", "-f", REDIS_CONTAINER]);
    }
    failures.extend(unlabelled_creations(docker, since, &client));
    for f in key_in_files(&sc.dir, &sc.key) {
        failures.push(format!("the key is in {f}"));
    }
    let summary = format!(
        "messaging + --git arms, {} pair(s) each; {conflicts} merge conflict(s) graded; Ctrl-C after {} pair(s), kill -9 after {} more, none paid twice",
        world::pairs().len(),
        before.len(),
        before_kill.len()
    );
    Ok(sc.outcome(failures, summary, t, 0.0, keep))
}

/// Waits (at most `seconds`) until `run` has two coop results while the
/// harness started as `handle` works; false when it ended or hung first.
fn two_done(cb: &Path, run: &str, handle: &duct::Handle, seconds: u64) -> anyhow::Result<bool> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while coop_results(cb, run).len() < 2 {
        if handle.try_wait()?.is_some() || Instant::now() > deadline {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(true)
}

/// `pair -> run_id` of a coop run's result.json files.
fn coop_results(cb: &Path, run: &str) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    for pair in world::pairs() {
        let path = cb.join("logs").join(run).join("coop").join(pair.to_string()).join("result.json");
        let id = std::fs::read_to_string(path).ok().and_then(|t| serde_json::from_str::<Value>(&t).ok());
        if let Some(id) = id.and_then(|v| v["run_id"].as_str().map(String::from)) {
            found.insert(pair.to_string(), id);
        }
    }
    found
}

fn docker_cmd(docker: &crate::edges::docker::Docker, args: &[&str]) -> (bool, String) {
    match duct::cmd(docker.program(), args).stderr_to_stdout().stdout_capture().unchecked().run() {
        Ok(o) => (o.status.success(), String::from_utf8_lossy(&o.stdout).into_owned()),
        Err(e) => (false, e.to_string()),
    }
}

fn exists(docker: &crate::edges::docker::Docker, name: &str) -> bool {
    docker_cmd(docker, &["container", "inspect", name]).0
}

fn running(docker: &crate::edges::docker::Docker, name: &str) -> bool {
    docker_cmd(docker, &["container", "inspect", "--format", "{{.State.Running}}", name]).1.trim() == "true"
}

/// Containers of ours on our Redis image (any checkout's).
fn ours_redis(docker: &crate::edges::docker::Docker) -> Vec<String> {
    docker
        .labelled(crate::edges::docker_proxy::CHECKOUT)
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c.image == infra::REDIS_IMAGE)
        .map(|c| c.name)
        .collect()
}

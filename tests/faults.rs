//! Surviving faults: a crashed CLI resumed without paying twice, a truncated
//! result.json quarantined and redone, Ctrl-C mid-run, secrets never shown.

mod common;

use std::time::{Duration, Instant};

use common::*;

fn assert_each_pair_run_once(c: &Checkout, run: &str) {
    let mut pairs = c.sim_work("run", run);
    assert_eq!(pairs.len(), 100, "{run}: {} runs recorded", pairs.len());
    pairs.sort();
    pairs.dedup();
    assert_eq!(pairs.len(), 100, "{run}: a pair was run twice");
}

#[test]
fn crash_then_resume_runs_no_pair_twice() {
    let c = Checkout::with_baseline("");
    // Every invocation dies after 30 pairs; three attempts leave 9 to do.
    let out = c.seeds(&["--yes", "--seeds", "1"], &[("COOPERBENCH_SIM_CRASH_AFTER", "30")]).ran();
    out.expect_code(1);
    assert!(text(&out).contains("[seed1] still failing after 3 attempt(s):"), "{}", text(&out));
    assert_eq!(c.sim_work("run", SEED1).len(), 91);
    // The resume says where it stands up front, then does only the rest.
    let out = c.seeds(&["--yes"], &[]).ran();
    out.expect_code(0);
    let o = text(&out);
    assert!(o.contains("seed 1 (command-a-solo-seed1): 91 done, 9 to run"), "{o}");
    assert!(o.contains("seed 2 (command-a-solo-seed2): not started"), "{o}");
    assert_each_pair_run_once(&c, SEED1);
    assert_each_pair_run_once(&c, SEED2);
    let status = c.xtask(&["status"]).ran();
    assert!(text(&status).contains("100 done, complete"), "{}", text(&status));
}

#[test]
fn truncated_result_is_quarantined_and_redone() {
    let c = Checkout::with_baseline("");
    let out = c.seeds(&["--yes", "--seeds", "1", "--attempts", "1"], &[("COOPERBENCH_SIM_TRUNCATE_AFTER", "5")]).ran();
    out.expect_code(1);
    let v = c.xtask(&["verify", "--runs", SEED1]).ran();
    assert!(text(&v).contains("FAIL unreadable_result"), "{}", text(&v));
    // The 6th pair of the run (after the canary) was cut mid-write.
    // The text report lists instances under their class: "    logs/...json: why".
    let report = text(&v);
    let lines: Vec<&str> = report.lines().collect();
    let heading = lines.iter().position(|l| l.contains("FAIL unreadable_result in")).unwrap();
    let truncated = lines[heading + 1];
    let path = truncated.trim().split(": ").next().unwrap().to_string();
    let out = c.seeds(&["--yes", "--seeds", "1"], &[]).ran();
    out.expect_code(0);
    assert!(text(&out).contains("quarantined (Python cannot read it)"), "{}", text(&out));
    let moved = c.cb().join(format!("{path}.corrupt-1"));
    assert!(moved.exists(), "{} was not kept", moved.display());
    assert!(c.cb().join(&path).exists(), "the pair was not redone");
    let v = c.xtask(&["verify", "--runs", SEED1]).ran();
    v.expect_code(0);
    assert!(text(&v).contains("warn quarantined"), "{}", text(&v));
}

/// Waits until seed 1 has `n` pairs done.
fn wait_for_pairs(c: &Checkout, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while c.sim_work("run", SEED1).len() < n {
        assert!(Instant::now() < deadline, "the run never started");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sends SIGINT `times` times, 30 ms apart, and waits for the harness to end.
fn interrupt(handle: &duct::Handle, times: usize) -> common::Ran {
    let pid = handle.pids()[0] as i32;
    for i in 0..times {
        if i > 0 {
            std::thread::sleep(Duration::from_millis(30));
        }
        // SAFETY: signals the harness process this test started.
        unsafe { libc::kill(pid, libc::SIGINT) };
    }
    let sent = Instant::now();
    loop {
        if let Some(o) = handle.try_wait().unwrap() {
            break common::Ran { command: format!("{handle:?} (after {times} SIGINT)"), output: o.clone() };
        }
        assert!(sent.elapsed() < Duration::from_secs(15), "still running 15 s after SIGINT");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Processes of the simulator still running in this checkout.
fn sims_left(c: &Checkout) -> Vec<u32> {
    let cb = c.cb().canonicalize().unwrap();
    let sim = std::path::Path::new(SIM).canonicalize().unwrap();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
            let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).ok();
            exe.as_deref() == Some(sim.as_path()) && cwd.as_deref() == Some(cb.as_path())
        })
        .collect()
}

#[test]
fn sigint_stops_everything_and_resume_works() {
    let c = Checkout::with_baseline("");
    let handle = c.seeds(&["--yes"], &[("COOPERBENCH_SIM_SLOW_MS", "150")]).start().unwrap();
    let seed_dir = c.cb().join("logs").join(SEED1).join("solo");
    wait_for_pairs(&c, 4);
    assert!(seed_dir.exists());
    let sent = Instant::now();
    let out = interrupt(&handle, 1);
    out.expect_code(130);
    assert!(sent.elapsed() < Duration::from_secs(10));
    let o = text(&out);
    assert!(o.contains("interrupted: the cooperbench process group was stopped"), "{o}");
    assert!(o.contains("resume with: cargo xtask seeds --yes"), "{o}");
    assert!(o.contains("docker clean-up after the interruption"), "{o}");
    assert!(sims_left(&c).is_empty(), "simulator processes left: {:?}", sims_left(&c));
    let done = c.sim_work("run", SEED1).len();
    assert!(done < 100, "the run finished before the signal");
    let out = c.seeds(&["--yes"], &[]).ran();
    out.expect_code(0);
    assert!(
        text(&out).contains(&format!("seed 1 (command-a-solo-seed1): {done} done, {} to run", 100 - done)),
        "{}",
        text(&out)
    );
    assert_each_pair_run_once(&c, SEED1);
    assert_each_pair_run_once(&c, SEED2);
}

#[test]
fn a_second_sigint_leaves_no_orphans_either() {
    let c = Checkout::with_baseline("");
    let handle = c.seeds(&["--yes"], &[("COOPERBENCH_SIM_SLOW_MS", "150")]).start().unwrap();
    wait_for_pairs(&c, 2);
    let out = interrupt(&handle, 2);
    out.expect_code(130);
    assert!(sims_left(&c).is_empty(), "simulator processes left: {:?}", sims_left(&c));
}

#[test]
fn timeout_stops_a_hung_child() {
    let c = Checkout::with_baseline("timeout_minutes = 0.02");
    let out = c.seeds(&["--yes", "--seeds", "1"], &[("COOPERBENCH_SIM_SLOW_MS", "2000")]).ran();
    out.expect_code(1);
    assert!(text(&out).contains("ran past --timeout"), "{}", text(&out));
    assert!(sims_left(&c).is_empty());
}

/// Every file under `dir`, recursively.
fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn secret_appears_in_no_output_and_no_file() {
    let c = Checkout::with_baseline("[model_kwargs]\napi_base = \"https://example.invalid/v1\"\ntemperature = 0.0");
    let leak = [("COOPERBENCH_SIM_LEAK_KEY", "1"), ("COOPERBENCH_SIM_EVAL_ERRORS", "1")];
    let mut outputs = Vec::new();
    for args in [&["--dry-run"][..], &["--yes"][..]] {
        outputs.push(c.seeds(args, &leak).ran());
    }
    outputs[1].expect_code(0);
    assert!(text(&outputs[1]).contains("using api_key=[redacted]"), "the leak was not exercised");
    assert!(
        text(&outputs[1]).contains("AuthenticationError: \x1b[1m[redacted]"),
        "the wrapped leak: {}",
        text(&outputs[1])
    );
    // An Error whose message echoes the key (a provider's auth error).
    let result = c.pair_dir(SEED1, "amber_task/1000/f1_f2").join("result.json");
    edit_json(&result, |v| {
        v["agent"]["status"] = "Error".into();
        v["agent"]["error"] = format!("AuthenticationError: invalid api key {KEY}").into();
    });
    let out_dir = c.tmp.path().join("results");
    outputs.push(c.xtask(&["report", "--out", out_dir.to_str().unwrap()]).env("COHERE_API_KEY", KEY).ran());
    outputs.push(c.xtask(&["verify", "--json"]).env("COHERE_API_KEY", KEY).ran());
    outputs.push(c.xtask(&["verify"]).env("COHERE_API_KEY", KEY).ran());
    outputs.push(c.xtask(&["triage", SEED1]).env("COHERE_API_KEY", KEY).ran());
    assert!(
        text(&outputs[outputs.len() - 2]).contains("[redacted]"),
        "verify did not show the Error: {}",
        text(&outputs[outputs.len() - 2])
    );
    outputs.push(c.xtask(&["status"]).env("COHERE_API_KEY", KEY).ran());
    for o in &outputs {
        assert!(!text(o).contains(KEY), "secret printed:\n{}", text(o));
    }
    let yaml = std::fs::read_to_string(c.cb().join(".harness/agent-config.yaml")).unwrap();
    assert!(yaml.contains("api_base: \"https://example.invalid/v1\""), "{yaml}");
    let mut checked = 0;
    for f in files(&c.cb()).into_iter().chain(files(&out_dir)) {
        // The record of the simulator's work, and the result the test
        // itself wrote the key into.
        if f.ends_with("logs/.sim-record.log") || f == result {
            continue;
        }
        let bytes = std::fs::read(&f).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains(KEY), "secret written to {}", f.display());
        checked += 1;
    }
    assert!(checked > 1000, "only {checked} files checked");
}

#[test]
fn dotenv_in_the_checkout_is_honoured() {
    let c = Checkout::with_baseline("");
    std::fs::write(c.cb().join(".env"), format!("COHERE_API_KEY={KEY}\n")).unwrap();
    let out = c
        .xtask(&["seeds", "--cooperbench-bin", SIM, "--yes", "--seeds", "1"])
        .env_remove("COHERE_API_KEY")
        .stdin_null()
        .ran();
    out.expect_code(0);
    assert!(text(&out).contains("COHERE_API_KEY is set"));
    assert!(!text(&out).contains(KEY));
}

/// A secret's value in a setting, whatever the setting is called, is
/// refused, and the agent config (a file) is never written.
#[test]
fn model_kwargs_holding_a_secrets_value_under_any_name_are_refused() {
    let kwargs = format!(
        "[model_kwargs]\nauth = \"{KEY}\"\napi_base = \"https://user:{KEY}@host.invalid/v1\"\n[model_kwargs.extra_headers]\nX-Auth = \"Bearer {KEY}\"\n[model_kwargs.headers]\nCookie = \"session={KEY}\""
    );
    let c = Checkout::with_baseline(&kwargs);
    let out = c.seeds(&["--yes"], &[]).ran();
    out.expect_code(1);
    let o = text(&out);
    for path in ["auth", "api_base", "extra_headers.X-Auth", "headers.Cookie"] {
        assert!(o.contains(&format!("model_kwargs.{path} holds the value of a secret")), "{path}: {o}");
    }
    assert!(!o.contains(KEY), "{o}");
    assert!(!c.cb().join(".harness/agent-config.yaml").exists());
}

#[test]
fn model_kwargs_holding_a_key_are_refused() {
    let c = Checkout::with_baseline("[model_kwargs]\napi_key = \"sk-oops\"");
    let out = c.seeds(&["--yes"], &[]).ran();
    out.expect_code(1);
    assert!(text(&out).contains("model_kwargs.api_key looks like a secret"), "{}", text(&out));
    // No agent-config YAML was written (the folder itself holds the lock).
    assert!(!c.cb().join(".harness/agent-config.yaml").exists());
}

/// A key pasted with `$(cat keyfile)` ends with a newline; one with a line
/// break in it would be printed in halves. Neither is shown, the CLI gets
/// the trimmed key, and preflight says what it did.
#[test]
fn keys_with_line_breaks_are_never_printed() {
    let c = Checkout::with_baseline("");
    // Not `Checkout::seeds`: it sets the planted key itself.
    let seeds = |args: &[&str], key: &str| {
        let mut all = vec!["seeds", "--cooperbench-bin", SIM];
        all.extend_from_slice(args);
        c.xtask(&all).env("COHERE_API_KEY", key).env("COOPERBENCH_SIM_LEAK_KEY", "1").stdin_null().ran()
    };
    let out = seeds(&["--yes", "--seeds", "1"], &format!("{KEY}\n"));
    out.expect_code(0);
    assert!(text(&out).contains("warn COHERE_API_KEY ended with a line break"), "{}", text(&out));
    assert!(!text(&out).contains(KEY), "{}", text(&out));
    let (a, b) = KEY.split_at(KEY.len() / 2);
    let out = seeds(&["--dry-run", "--seeds", "2"], &format!("{a}\n{b}"));
    assert!(text(&out).contains("COHERE_API_KEY holds a line break"), "{}", text(&out));
    assert!(!text(&out).contains(a) && !text(&out).contains(b), "{}", text(&out));
}

#[test]
fn a_variable_that_reroutes_model_calls_is_warned_about() {
    let c = Checkout::with_baseline("");
    let out = c.seeds(&["--dry-run"], &[("AZURE_OPENAI_ENDPOINT", "http://127.0.0.1:9")]).ran();
    assert!(text(&out).contains("warn AZURE_OPENAI_ENDPOINT is set"), "{}", text(&out));
}

#[test]
fn secret_looking_model_kwargs_are_refused_at_any_depth() {
    for (toml, key) in [
        ("[model_kwargs]\napi_token = \"t\"", "api_token"),
        ("[model_kwargs]\nauthorization = \"Bearer x\"", "authorization"),
        ("[model_kwargs.extra_headers]\nX-Api-Secret = \"s\"", "extra_headers.X-Api-Secret"),
    ] {
        let c = Checkout::with_baseline(toml);
        let out = c.seeds(&["--yes"], &[]).ran();
        out.expect_code(1);
        assert!(text(&out).contains(&format!("model_kwargs.{key} looks like a secret")), "{}", text(&out));
        // No agent-config YAML was written (the folder itself holds the lock).
        assert!(!c.cb().join(".harness/agent-config.yaml").exists());
    }
}

/// A flag's bad value is refused in the flag's own name (the file's fields
/// are named as fields when the file is read).
#[test]
fn flags_go_through_the_files_rules() {
    let c = Checkout::with_baseline("");
    for (args, want) in [
        (&["--seeds", "3,3"][..], "--seeds: a seed is listed twice"),
        (&["--attempts", "0"], "--attempts: must be at least 1"),
        (&["--timeout", "0"], "--timeout: 0 is not a positive number of minutes"),
        // NaN compares false with every spend: it would turn the budget off.
        (&["--max-cost", "nan"], "--max-cost: NaN is not a positive number of USD"),
        (&["--max-cost=-1"], "--max-cost: -1 is not a positive number of USD"),
        (&["--max-cost", "inf"], "--max-cost: inf is not a positive number of USD"),
        (&["--model", ""], "--model: empty"),
        (&["--agent", " "], "--agent: empty"),
    ] {
        let mut all = vec!["--dry-run"];
        all.extend_from_slice(args);
        let out = c.seeds(&all, &[]).ran();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(text(&out).contains(want), "{args:?}: {}", text(&out));
    }
    c.write_experiment("timeout_minutes = 0");
    let out = c.seeds(&["--dry-run"], &[]).ran();
    out.expect_code(2);
    assert!(text(&out).contains("field `timeout_minutes`"), "{}", text(&out));
}

/// One run named twice by two spellings of its folder counts once; a
/// duplicate curve run, a huge --bootstrap and a coop baseline are refused.
#[test]
fn runs_are_identified_by_their_folder_and_bounds_are_kept() {
    let c = Checkout::with_baseline("");
    for args in [
        &["verify", "--runs", "command-a-solo,./command-a-solo"][..],
        &["report", "--runs", "command-a-solo,./command-a-solo"],
    ] {
        let out = c.xtask(args).ran();
        out.expect_code(2);
        assert!(
            text(&out).contains(
                "run `./command-a-solo` is named twice (as `command-a-solo` and `./command-a-solo`: one folder)"
            ),
            "{args:?}: {}",
            text(&out)
        );
    }
    std::os::unix::fs::symlink("command-a-solo", c.cb().join("logs/linked")).unwrap();
    let out = c.xtask(&["verify", "--runs", "command-a-solo,linked"]).ran();
    out.expect_code(2);
    let out =
        c.xtask(&["report", "--runs", "command-a-solo", "--solo-curve-runs", "command-a-solo,command-a-solo"]).ran();
    out.expect_code(2);
    assert!(text(&out).contains("--solo-curve-runs: `command-a-solo` is named twice"), "{}", text(&out));
    // Before: capacity overflow (a panic), or 12 GB allocated at once.
    for b in ["18446744073709551615", "100000000"] {
        let out = c.xtask(&["report", "--bootstrap", b]).ran();
        out.expect_code(2);
        assert!(text(&out).contains("is more than 1000000"), "{b}: {}", text(&out));
    }
    // A coop run as the baseline of solo seeds.
    let solo = c.cb().join("logs/command-a-solo/solo");
    std::fs::rename(&solo, c.cb().join("logs/command-a-solo/coop")).unwrap();
    let out = c.seeds(&["--dry-run"], &[]).ran();
    out.expect_code(1);
    assert!(text(&out).contains("the first run of a solo arm must be a solo run"), "{}", text(&out));
}

/// `bench --dir D` removes the tree it made, never the rest of D, also when
/// it fails (here: at once, since D/CooperBench is not a folder it can use).
#[test]
fn bench_removes_only_what_it_made() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("mine.txt"), "keep me").unwrap();
    let out = duct::cmd(
        XTASK,
        ["bench", "--this-build", "--dir", d.path().to_str().unwrap(), "--runs", "1", "--pairs", "4", "--repeat", "1"],
    )
    .stdout_capture()
    .stderr_capture()
    .unchecked()
    .ran();
    out.expect_code(0);
    assert!(text(&out).contains("verify/floor ratio"), "{}", text(&out));
    assert!(d.path().join("mine.txt").exists(), "bench removed a file it did not make");
    assert!(!d.path().join("CooperBench").exists(), "bench left its tree");
    std::fs::write(d.path().join("CooperBench"), "in the way").unwrap();
    let out =
        duct::cmd(XTASK, ["bench", "--this-build", "--dir", d.path().to_str().unwrap(), "--runs", "1", "--pairs", "4"])
            .stdout_capture()
            .stderr_capture()
            .unchecked()
            .ran();
    assert_ne!(out.status.code(), Some(0));
    assert!(d.path().join("mine.txt").exists() && d.path().join("CooperBench").is_file());
}

/// A signal while the bench builds its tree (gigabytes at the default
/// size) stops it with 130, and the tree it made is removed as on any
/// other return; the rest of its folder stays.
#[test]
fn bench_stopped_by_a_signal_removes_its_tree() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("mine.txt"), "keep me").unwrap();
    let dir = d.path().to_str().unwrap();
    let handle = duct::cmd(XTASK, ["bench", "--this-build", "--dir", dir, "--runs", "500", "--pairs", "4"])
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .start()
        .unwrap();
    // Stopped while it builds: once its first run is written.
    let first = d.path().join("CooperBench/logs/solo-00");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !first.exists() {
        assert!(handle.try_wait().unwrap().is_none(), "the bench ended before it was stopped");
        assert!(Instant::now() < deadline, "the bench never began its tree");
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = interrupt(&handle, 1);
    out.expect_code(130);
    assert!(text(&out).contains("interrupted; the tree it made is removed"), "{}", text(&out));
    assert!(!d.path().join("CooperBench").exists(), "bench left its tree");
    assert!(d.path().join("mine.txt").exists(), "bench removed a file it did not make");
}

/// Another job's container, exactly like the ones cooperbench leaves, in
/// the fake Docker's state before `seeds` starts; see [`assert_foreign_kept`].
fn plant_foreign(c: &Checkout) -> String {
    let line = "foreign01\tminisweagent-0f0f0f0f\takhatua/cooperbench-amber:task1000\trunning\n".to_string();
    std::fs::write(c.tmp.path().join("docker.state"), &line).unwrap();
    line
}

fn assert_foreign_kept(c: &Checkout, foreign: &str) {
    let state = std::fs::read_to_string(c.tmp.path().join("docker.state")).unwrap();
    assert_eq!(state, foreign, "a container that was not ours was removed");
}

/// Two `seeds` at once on one checkout: the second is refused and names the
/// holder; the first finishes; every pair is paid once.
#[test]
fn two_seeds_at_once_pay_each_pair_once() {
    let c = Checkout::with_baseline("");
    let foreign = plant_foreign(&c);
    // Slow enough that the first still holds the lock when the second starts
    // (it is refused at once, before its preflight): 100 pairs take a second.
    let first = c.seeds(&["--yes", "--seeds", "1"], &[("COOPERBENCH_SIM_SLOW_MS", "10")]).start().unwrap();
    wait_for_pairs(&c, 2);
    let second = c.seeds(&["--yes", "--seeds", "1"], &[]).ran();
    second.expect_code(2);
    assert!(
        text(&second).contains("this checkout is in use by another `cargo xtask seeds` or `oracle`"),
        "{}",
        text(&second)
    );
    assert!(text(&second).contains(&format!("pid {} started", first.pids()[0])), "{}", text(&second));
    // clean-docker in a second terminal only lists while the run lives.
    let clean = c.xtask(&["clean-docker"]).ran();
    assert!(text(&clean).contains("removing nothing: this checkout is in use"), "{}", text(&clean));
    let calls = std::fs::read_to_string(c.tmp.path().join("docker.log")).unwrap_or_default();
    assert!(!calls.lines().any(|l| l.starts_with("rm")), "{calls}");
    let out = common::finished(&first);
    out.expect_code(0);
    assert_each_pair_run_once(&c, SEED1);
    // Once it has ended, the lock is free again.
    let out = c.seeds(&["--yes", "--seeds", "1"], &[]).ran();
    out.expect_code(0);
    assert_foreign_kept(&c, &foreign);
}

/// kill -9 gives the harness no chance to clean up: the CLI must die with
/// it (no orphan to pay for a pair a rerun pays for again), and the
/// containers labelled ours are removed by the rerun, and only those,
/// also one made in the last moment before the kill (labelled at creation).
#[test]
fn kill_9_takes_the_cli_with_it_and_a_rerun_pays_each_pair_once() {
    let c = Checkout::with_baseline("");
    let foreign = plant_foreign(&c);
    let docker = fake_docker();
    let env = [
        ("COOPERBENCH_SIM_SLOW_MS", "150"),
        ("COOPERBENCH_SIM_LEAVE_CONTAINER", "1"),
        ("COOPERBENCH_SIM_DOCKER", docker.to_str().unwrap()),
    ];
    let handle = c.seeds(&["--yes", "--seeds", "1"], &env).start().unwrap();
    wait_for_pairs(&c, 16);
    // SAFETY: signals the harness process this test started.
    unsafe { libc::kill(handle.pids()[0] as i32, libc::SIGKILL) };
    let _ = handle.wait();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !sims_left(&c).is_empty() {
        assert!(Instant::now() < deadline, "the CLI outlived the harness: {:?}", sims_left(&c));
        std::thread::sleep(Duration::from_millis(50));
    }
    let done = c.sim_work("run", SEED1).len();
    assert!(done < 100, "the run finished before the kill");
    let made = c.sim_work("container", SEED1);
    assert_eq!(made.len(), 2, "{made:?}");
    let state = std::fs::read_to_string(c.tmp.path().join("docker.state")).unwrap();
    assert!(
        made.iter()
            .all(|m| state.lines().any(|l| l.contains(m.as_str()) && l.contains("xtask.run=command-a-solo-seed1"))),
        "not all labelled: {state}"
    );

    let out = c.seeds(&["--yes", "--seeds", "1"], &[]).ran();
    out.expect_code(0);
    assert!(
        text(&out).contains("docker clean-up left by an earlier seeds: removed 2 container(s) of ours"),
        "{}",
        text(&out)
    );
    assert_foreign_kept(&c, &foreign);
    assert_each_pair_run_once(&c, SEED1);
}

/// A closed terminal (SIGHUP) is handled like Ctrl-C.
#[test]
fn sighup_stops_everything_like_ctrl_c() {
    let c = Checkout::with_baseline("");
    let foreign = plant_foreign(&c);
    let handle = c.seeds(&["--yes"], &[("COOPERBENCH_SIM_SLOW_MS", "150")]).start().unwrap();
    wait_for_pairs(&c, 2);
    // SAFETY: signals the harness process this test started.
    unsafe { libc::kill(handle.pids()[0] as i32, libc::SIGHUP) };
    let out = common::finished(&handle);
    out.expect_code(130);
    assert!(text(&out).contains("resume with: cargo xtask seeds --yes"), "{}", text(&out));
    assert!(sims_left(&c).is_empty(), "simulator processes left: {:?}", sims_left(&c));
    // The resume pays for what is left, once.
    let out = c.seeds(&["--yes", "--seeds", "1"], &[]).ran();
    out.expect_code(0);
    assert_each_pair_run_once(&c, SEED1);
    assert_foreign_kept(&c, &foreign);
}

/// `seeds --yes | head`: when our output goes away the run stops like
/// Ctrl-C, no panic, and the summary with the resume command goes to stderr.
#[test]
fn a_closed_output_pipe_stops_the_run_cleanly() {
    let c = Checkout::with_baseline("");
    let err = c.tmp.path().join("stderr.txt");
    let line = format!(
        "'{XTASK}' seeds --experiment '{}' --cooperbench-bin '{SIM}' --yes 2>'{}' | head -n 3 >/dev/null",
        c.experiment().display(),
        err.display()
    );
    let out = duct::cmd!("sh", "-c", line)
        .dir(c.tmp.path())
        .env("XTASK_DOCKER", fake_docker())
        .env("FAKE_DOCKER_LOG", c.tmp.path().join("docker.log"))
        .env("COHERE_API_KEY", KEY)
        .env("COOPERBENCH_SIM_SLOW_MS", "100")
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .ran();
    assert!(out.status.success(), "head failed");
    let err = std::fs::read_to_string(err).unwrap();
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("resume with: cargo xtask seeds --yes"), "{err}");
    assert!(sims_left(&c).is_empty(), "simulator processes left: {:?}", sims_left(&c));
    assert!(c.sim_work("run", SEED1).len() < 100, "the run went on after its output closed");
}

/// The estimate checked before a start can be wrong; the live spend, read
/// every second, stops the CLI as soon as it passes `--max-cost`.
#[test]
fn max_cost_stops_the_cli_as_soon_as_the_live_spend_passes_it() {
    let c = Checkout::with_baseline("");
    // The baseline's costs make the estimate: make it far too low.
    let pattern = format!("{}/logs/command-a-solo/solo/*/*/*/result.json", c.cb().display());
    for f in glob::glob(&pattern).unwrap().flatten() {
        edit_json(&f, |v| v["total_cost"] = 0.001.into());
    }
    let out = c.seeds(&["--yes", "--seeds", "1", "--max-cost", "2"], &[("COOPERBENCH_SIM_SLOW_MS", "100")]).ran();
    out.expect_code(1);
    assert!(text(&out).contains("spent; stopping the CLI's process group now"), "{}", text(&out));
    assert!(text(&out).contains("the spend passed --max-cost"), "{}", text(&out));
    let done = c.sim_work("run", SEED1).len();
    // About $0.33 a pair: past $2 after 7 pairs; the spend is read once a
    // second (about 20 pairs at this pace), so the stop comes well before 100.
    assert!((6..70).contains(&done), "{done} pairs run");
    assert!(sims_left(&c).is_empty(), "simulator processes left: {:?}", sims_left(&c));
}

fn mkfifo(path: &std::path::Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo on a path inside the test's own checkout.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo {}", path.display());
}

/// Runs the command, failing the test if it has not ended within a minute
/// (a hang guard, not a speed target: the commands take about a second).
fn ends(e: duct::Expression) -> common::Ran {
    let h = e.start().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(out) = h.try_wait().unwrap() {
            return common::Ran { command: format!("{e:?}"), output: out.clone() };
        }
        if Instant::now() > deadline {
            h.kill().unwrap();
            panic!("hung on a named pipe");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A named pipe (or a device) where a file should be is refused, never
/// waited on or read forever: result.json, eval_summary.json, .env,
/// the manifest, config.json.
#[test]
fn a_named_pipe_or_a_device_in_place_of_a_file_hangs_nothing() {
    let c = Checkout::with_baseline("");
    c.seeds(&["--yes", "--seeds", "1"], &[]).ran().expect_code(0);
    let run = c.cb().join("logs").join(SEED1);
    std::fs::remove_file(run.join("eval_summary.json")).unwrap();
    mkfifo(&run.join("eval_summary.json"));
    let pair = c.pair_dir(SEED1, "amber_task/1000/f1_f3");
    std::fs::remove_file(pair.join("result.json")).unwrap();
    mkfifo(&pair.join("result.json"));
    std::fs::remove_file(run.join("harness-manifest.json")).unwrap();
    mkfifo(&run.join("harness-manifest.json"));
    std::fs::remove_file(run.join("config.json")).ok();
    std::os::unix::fs::symlink("/dev/zero", run.join("config.json")).unwrap();
    mkfifo(&c.cb().join(".env"));

    let v = ends(c.xtask(&["verify", "--runs", SEED1]).stdin_null());
    let o = text(&v);
    assert!(o.contains("not a regular file"), "{o}");
    assert!(o.contains("harness-manifest.json"), "the manifest is named: {o}");
    v.expect_code(1);
    let s = ends(c.xtask(&["status"]).stdin_null());
    assert!(!text(&s).is_empty());
    // seeds: preflight names the manifest and .env, and spends nothing.
    let before = c.sim_work("run", SEED1).len();
    let out = ends(c.seeds(&["--yes", "--seeds", "1"], &[]));
    let o = text(&out);
    assert!(o.contains(".env: not a regular file"), "{o}");
    assert!(o.contains("harness-manifest.json: not a regular file"), "{o}");
    assert_eq!(c.sim_work("run", SEED1).len(), before, "{o}");
}

/// A process's state letter (`T` when stopped), from /proc.
fn state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 2..].chars().next()
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cond() {
        assert!(Instant::now() < deadline, "{what}: not within 30 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Ctrl-Z stops the CLI's group with the harness (the CLI, in a group of
/// its own, does not get the terminal's SIGTSTP), and `fg` continues both.
#[test]
fn ctrl_z_stops_the_cli_with_the_harness() {
    let c = Checkout::with_baseline("");
    let h = c.seeds(&["--yes", "--seeds", "1"], &[("COOPERBENCH_SIM_SLOW_MS", "30")]).start().unwrap();
    wait_for_pairs(&c, 5);
    let harness = h.pids()[0];
    // SAFETY: signals the harness process this test started.
    unsafe { libc::kill(harness as i32, libc::SIGTSTP) };
    wait_until("the harness stopped", || state(harness) == Some('T'));
    let sims = sims_left(&c);
    assert!(!sims.is_empty());
    wait_until("the CLI stopped", || sims.iter().all(|p| state(*p).is_none_or(|s| s == 'T')));
    let done = c.sim_work("run", SEED1).len();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(c.sim_work("run", SEED1).len(), done, "the CLI kept working while stopped");
    // SAFETY: as above.
    unsafe { libc::kill(harness as i32, libc::SIGCONT) };
    let out = common::finished(&h);
    out.expect_code(0);
    assert!(text(&out).contains("stopped (Ctrl-Z) with the CLI's 1 group(s)"), "{}", text(&out));
    assert_eq!(c.sim_work("run", SEED1).len(), 100);
}

/// The CLI's work in a grandchild (a launcher such as `conda run`) outlives
/// a kill -9 of the harness: the parent-death signal reaches the launcher
/// only. The next `seeds` finds it through the recorded process group and
/// refuses to start beside it; `--stop-orphans` ends it first.
#[test]
fn a_worker_left_by_kill_9_is_found_and_refused_then_stopped() {
    let c = Checkout::with_baseline("");
    let launcher = c.tmp.path().join("launcher.sh");
    // Python's subprocess, as a launcher written in Python runs its worker:
    // the worker does not inherit the lock's descriptors (close_fds), and
    // writes to a log of its own, so the harness's death does not end it.
    let log = c.tmp.path().join("worker.log");
    std::fs::write(
        &launcher,
        format!(
            "#!/bin/sh\nexec python3 -c 'import subprocess, sys; a = sys.argv[1:]; sys.exit(subprocess.call(a, stdout=open(\"{}\", \"a\") if a[1:2] == [\"run\"] else None))' \"{SIM}\" \"$@\"\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&launcher, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let bin = launcher.display().to_string();
    // Slow pairs for the run that is killed (its worker must outlive the
    // harness); the runs after it need no more time than their work.
    let run = |extra: &[&str], slow_ms: &str| {
        let mut args = vec!["seeds", "--cooperbench-bin", bin.as_str(), "--yes", "--seeds", "1"];
        args.extend_from_slice(extra);
        c.xtask(&args).stdin_null().env("COOPERBENCH_SIM_SLOW_MS", slow_ms).env("COHERE_API_KEY", KEY)
    };
    let h = run(&[], "100").start().unwrap();
    wait_for_pairs(&c, 3);
    // SAFETY: kills the harness process this test started.
    unsafe { libc::kill(h.pids()[0] as i32, libc::SIGKILL) };
    let _ = h.wait();
    wait_until("the worker outlived the harness", || !sims_left(&c).is_empty());
    let out = run(&[], "0").ran();
    out.expect_code(1);
    let o = text(&out);
    assert!(o.contains("the CLI's work of a harness that was killed is still running: group"), "{o}");
    assert!(o.contains("of run command-a-solo-seed1"), "{o}");
    let status = c.xtask(&["status"]).ran();
    assert!(text(&status).contains("still running, left by a killed harness"), "{}", text(&status));
    // --stop-orphans ends it, then the seed runs to its end.
    let out = run(&["--stop-orphans"], "0").ran();
    assert!(text(&out).contains("stopping, left running by a killed harness: group"), "{}", text(&out));
    out.expect_code(0);
    assert!(sims_left(&c).is_empty());
}

/// A CLI whose `--help` fails with the key in its error: preflight names
/// the failure without the key.
#[test]
fn a_failing_help_that_echoes_the_key_is_scrubbed() {
    let c = Checkout::with_baseline("");
    let bin = c.tmp.path().join("broken-cli.sh");
    std::fs::write(&bin, "#!/bin/sh\necho \"Traceback: bad key $COHERE_API_KEY\" >&2\nexit 1\n").unwrap();
    std::fs::set_permissions(&bin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = c
        .xtask(&["seeds", "--cooperbench-bin", bin.to_str().unwrap(), "--dry-run"])
        .env("COHERE_API_KEY", KEY)
        .stdin_null()
        .ran();
    out.expect_code(1);
    let o = text(&out);
    assert!(o.contains("--help` failed (exit status 1): Traceback: bad key [redacted]; reinstall with"), "{o}");
    assert!(!o.contains(KEY), "{o}");
}

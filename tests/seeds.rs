//! `cargo xtask seeds` end to end: the real binary drives the simulator
//! (`cooperbench-sim`) in a lite-shaped checkout that has a baseline run.

mod common;

use common::*;
use xtask::support::fixture;

fn with_baseline() -> Checkout {
    Checkout::with_baseline("")
}

fn seeds(c: &Checkout, args: &[&str], env: &[(&str, &str)]) -> common::Ran {
    c.seeds(args, env).ran()
}

fn count(c: &Checkout, kind: &str, run: &str) -> usize {
    c.sim_work(kind, run).len()
}

fn report(c: &Checkout, runs: &[&str]) -> xtask::study::verify::Report {
    let runs: Vec<String> = runs.iter().map(|s| s.to_string()).collect();
    xtask::engine::verify::load_and_check(
        &c.cb(),
        "lite",
        &runs,
        xtask::study::outcome::EvalErrors::Exclude,
        false,
        xtask::edges::logs::DEFAULT_MAX_FILE_BYTES,
        // The demo experiment's: the baseline records no version, backend, config or images.
        &["cli_version".into(), "backend".into(), "agent_config".into(), "images".into()],
        &Default::default(),
    )
    .unwrap()
}

/// The verify report the command ends with.
fn final_report(out: &std::process::Output) -> String {
    let t = String::from_utf8_lossy(&out.stdout).into_owned();
    t[t.rfind("\nverify\n").expect("no final verify") + 1..].to_string()
}

#[test]
fn happy_path_two_clean_seeds() {
    let c = with_baseline();
    let out = seeds(&c, &["--yes"], &[]);
    out.expect_code(0);
    let r = report(&c, &["command-a-solo", SEED1, SEED2]);
    assert!(r.ok);
    for run in [SEED1, SEED2] {
        let s = r.runs.iter().find(|s| s.name == run).unwrap();
        assert_eq!((s.counts.results, s.counts.evals), (100, 100), "{run}");
        // Canary plus the rest: every pair run exactly once.
        assert_eq!(count(&c, "run", run), 100);
    }
    let o = text(&out);
    assert!(o.contains("[seed1] canary amber_task/1000/f1_f2: Submitted"), "{o}");
    assert!(o.contains("[seed2] progress: "), "no progress line: {o}");
    // Each seed's containers once its run is over; everything at the end.
    assert!(o.contains("docker clean-up after seed1's run: no containers of ours"), "{o}");
    assert!(o.contains("docker clean-up after seed2's run: no containers of ours"), "{o}");
    assert!(o.contains("docker clean-up after the seeds: no containers of ours"), "{o}");
    let calls = std::fs::read_to_string(c.tmp.path().join("docker.log")).unwrap();
    assert!(calls.lines().any(|l| l.starts_with("ps -a")), "{calls}");
    assert!(!calls.lines().any(|l| l.starts_with("rm")), "nothing was ours, yet: {calls}");
    insta::assert_snapshot!("happy_path_final_report", final_report(&out));
}

#[test]
fn modal_seeds_run_at_once_and_never_touch_docker() {
    let c = with_baseline();
    // No Modal credentials: refused before any spend, naming where they go.
    let home = tempfile::tempdir().unwrap();
    let h = home.path().to_str().unwrap();
    let bare = [("HOME", h), ("MODAL_TOKEN_ID", ""), ("MODAL_TOKEN_SECRET", "")];
    let out = seeds(&c, &["--yes", "--backend", "modal"], &bare);
    out.expect_code(1);
    assert!(text(&out).contains("no Modal credentials: set MODAL_TOKEN_ID and MODAL_TOKEN_SECRET"), "{}", text(&out));
    assert_eq!(count(&c, "run", SEED1), 0, "something ran without credentials");
    let secret = "as-modal-secret-never-shown";
    let tokens = [("HOME", h), ("MODAL_TOKEN_ID", "ak-test"), ("MODAL_TOKEN_SECRET", secret)];
    let out = seeds(&c, &["--yes", "--backend", "modal", "--parallel-seeds"], &tokens);
    out.expect_code(0);
    assert!(text(&out).contains("MODAL_TOKEN_ID and MODAL_TOKEN_SECRET are set"), "{}", text(&out));
    assert!(!text(&out).contains(secret), "the token secret was shown");
    let o = text(&out);
    assert!(o.contains("--backend modal"), "{o}");
    assert!(!o.contains("docker"), "docker mentioned for a modal run: {o}");
    assert!(!c.tmp.path().join("docker.log").exists(), "docker was called");
    assert_eq!(count(&c, "run", SEED1), 100);
    assert_eq!(count(&c, "run", SEED2), 100);
    assert!(text(&out).contains("sandbox time: about"), "{}", text(&out));
    // A sandbox budget is Modal's; a nonsense one is refused before anything.
    let out = seeds(&c, &["--dry-run", "--max-sandbox-hours", "2"], &tokens);
    out.expect_code(2);
    assert!(text(&out).contains("--max-sandbox-hours is for the modal backend"), "{}", text(&out));
    let out = seeds(&c, &["--dry-run", "--backend", "modal", "--max-sandbox-hours", "NaN"], &tokens);
    out.expect_code(2);
    // The live rule: each pair takes 0.2 s here, and 0.36 s of agent
    // sandbox time (0.0001 h) is passed within a few pairs: the CLI is
    // stopped, as for --max-cost, long before the seed's 100 pairs.
    let mut slow = tokens.to_vec();
    slow.push(("COOPERBENCH_SIM_SLOW_MS", "200"));
    let out = seeds(&c, &["--yes", "--backend", "modal", "--seeds", "3", "--max-sandbox-hours", "0.0001"], &slow);
    out.expect_code(1);
    assert!(text(&out).contains("of agent sandboxes recorded; stopping the CLI's process group now"), "{}", text(&out));
    assert!(count(&c, "run", "command-a-solo-seed3") < 20, "{}", text(&out));
    // Docker seeds share one host: running them at once is refused.
    let out = seeds(&c, &["--yes", "--parallel-seeds"], &[]);
    out.expect_code(2);
    assert!(text(&out).contains("--parallel-seeds is for modal and gcp"), "{}", text(&out));
}

#[test]
fn unknown_agent_stops_at_the_canary() {
    let c = with_baseline();
    // Preflight knows the name is gone:
    let out = seeds(&c, &["--yes", "--agent", "mini_swe_agent"], &[]);
    out.expect_code(1);
    assert!(text(&out).contains("use `mini_swe_agent_v2`"), "{}", text(&out));
    assert_eq!(count(&c, "run", SEED1), 0, "preflight must start nothing");
    // And if the harness's list is bypassed, the canary stops it after one pair:
    let out = seeds(&c, &["--yes", "--agent", "mini_swe_agent", "--no-agent-check"], &[]);
    out.expect_code(1);
    let o = text(&out);
    assert!(o.contains("canary amber_task/1000/f1_f2 ended Error: Unknown agent: 'mini_swe_agent'. Available: claude_code, codex, mini_swe_agent_v2, openhands_sdk, swe_agent"), "{o}");
    assert_eq!(count(&c, "run", SEED1), 1);
    assert_eq!(count(&c, "run", SEED2), 0);
}

#[test]
fn run_errors_are_retried_until_clean() {
    let c = with_baseline();
    let out = seeds(&c, &["--yes"], &[("COOPERBENCH_SIM_RUN_ERRORS", "3")]);
    out.expect_code(0);
    let o = text(&out);
    assert!(o.contains("[seed1] after run: 97 done, 3 to redo (Error)"), "{o}");
    assert!(o.contains("[seed1] run (attempt 2)"), "{o}");
    // 100 pairs, 3 of them twice: the CLI redid only the Error ones.
    assert_eq!(count(&c, "run", SEED1), 103);
    let r = report(&c, &["command-a-solo", SEED1, SEED2]);
    assert!(r.ok);
    // The attempt history names them, with their class before the retry
    // (0 steps and no exit message: infra_sandbox), and verify lists them.
    let history = std::fs::read_to_string(c.cb().join("logs").join(SEED1).join("harness-attempts.jsonl")).unwrap();
    let retries: Vec<&str> = history.lines().filter(|l| l.contains("\"invocation\":\"run 2\"")).collect();
    assert_eq!(retries.len(), 3, "{history}");
    assert!(retries.iter().all(|l| l.contains("\"class_before\":\"infra_sandbox\"")), "{history}");
    assert_eq!(history.lines().filter(|l| l.contains("\"invocation\":\"canary\"")).count(), 1);
    let seed1 = r.runs.iter().find(|s| s.name == SEED1).unwrap();
    assert_eq!(seed1.retried.len(), 3, "{:?}", seed1.retried);
    assert!(seed1.retried.values().all(|n| *n == 2));
    let text = xtask::study::verify::render::render_text(&r);
    assert!(text.contains("paid more than once:"), "{text}");
}

#[test]
fn persistent_run_errors_are_reported_by_pair() {
    let c = with_baseline();
    let out = seeds(&c, &["--yes", "--attempts", "1", "--seeds", "1"], &[("COOPERBENCH_SIM_RUN_ERRORS", "2")]);
    out.expect_code(1);
    let o = text(&out);
    assert!(o.contains("[seed1] still failing after 1 attempt(s):"), "{o}");
    assert!(o.contains("lumen_task/1851/f2_f3: Container exited unexpectedly (simulated)"), "{o}");
    assert!(o.contains("FAIL agent_error"), "{o}");
}

#[test]
fn eval_errors_and_missing_evals_are_retried() {
    let c = with_baseline();
    let env = [("COOPERBENCH_SIM_EVAL_ERRORS", "4"), ("COOPERBENCH_SIM_EVAL_SKIPS", "2")];
    let out = seeds(&c, &["--yes"], &env);
    out.expect_code(0);
    let o = text(&out);
    assert!(o.contains("[seed1] eval retry (2 pairs without eval.json)"), "{o}");
    assert!(o.contains("[seed1] eval --force amber_task/1000/f1_f4"), "{o}");
    let r = report(&c, &[SEED1, SEED2]);
    assert!(
        r.runs.iter().all(|s| s.counts.evals == 100 && s.counts.eval_errors == 0),
        "{}",
        xtask::study::verify::render::render_text(&r)
    );
    // Two plain evals for the skipped pairs, a forced one for the errored.
    let rec = c.sim_record();
    assert_eq!(rec.iter().filter(|l| *l == &format!("eval {SEED1} amber_task/1000/f1_f2")).count(), 2);
    assert_eq!(rec.iter().filter(|l| *l == &format!("eval {SEED1} amber_task/1000/f2_f3")).count(), 2);
}

#[test]
fn partial_eval_summary_is_rewritten() {
    let c = with_baseline();
    let out = seeds(&c, &["--yes"], &[("COOPERBENCH_SIM_EVAL_SKIPS", "2")]);
    out.expect_code(0);
    let dir = c.cb().join("logs").join(SEED1);
    let cli: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("eval_summary.json.cli-last")).unwrap()).unwrap();
    // The CLI's own file counts only its last invocation (the retry of 2):
    assert_eq!(cli["total_runs"], 2);
    let ours: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("eval_summary.json")).unwrap()).unwrap();
    assert_eq!(ours["total_runs"], 100);
    let s = &report(&c, &[SEED1]).runs[0];
    assert_eq!(
        (ours["passed"].as_u64(), ours["failed"].as_u64()),
        (Some(s.counts.passed as u64), Some(s.counts.failed as u64))
    );
    assert_eq!(ours["results"].as_array().unwrap().len(), 100);
}

#[test]
fn dry_run_starts_nothing() {
    let c = with_baseline();
    let before = c.sim_record().len();
    let out = seeds(&c, &["--dry-run"], &[]);
    out.expect_code(0);
    let o = text(&out);
    assert!(o.contains(&format!("seed 1 run:    {SIM} run -n command-a-solo-seed1 -m command-a-03-2025 -a mini_swe_agent_v2 -s lite --setting solo --backend docker -c 4 --no-auto-eval")), "{o}");
    assert!(o.contains("seed 1 (command-a-solo-seed1): not started; new 100, redo 0, done 0"), "{o}");
    assert!(o.contains("estimate: 200 pairs at $0.327"), "{o}");
    assert!(o.contains("dry run: nothing was started"));
    // And what each outcome class would lead to, from the policy table.
    assert!(o.contains("what seeds does with each outcome class"), "{o}");
    let row = o.lines().find(|l| l.trim_start().starts_with("eval_grader_limit")).unwrap_or_else(|| panic!("{o}"));
    assert!(row.contains("not a trial") && row.ends_with("nothing: the outcome stands"), "{row}");
    assert_eq!(c.sim_record().len(), before);
    assert!(!c.cb().join("logs").join(SEED1).exists());
    assert!(!o.contains(KEY));
}

#[test]
fn no_terminal_and_no_yes_refuses() {
    let c = with_baseline();
    let out = seeds(&c, &[], &[]);
    out.expect_code(2);
    assert!(text(&out).contains("pass --yes"));
    assert!(!c.cb().join("logs").join(SEED1).exists());
}

#[test]
fn max_cost_stops_before_the_full_run() {
    let c = with_baseline();
    // $0.33 per pair estimated: the canary fits in $20, 99 more pairs do not.
    let out = seeds(&c, &["--yes", "--max-cost", "20"], &[]);
    out.expect_code(1);
    let o = text(&out);
    assert!(o.contains("--max-cost $20.00:"), "{o}");
    assert!(o.contains("estimated for 99 pairs of seed 1 would pass it"), "{o}");
    assert_eq!(count(&c, "run", SEED1), 1);
    assert_eq!(count(&c, "run", SEED2), 0);
}

#[test]
fn preflight_names_what_to_do() {
    let c = with_baseline();
    let out = c
        .xtask(&["seeds", "--cooperbench-bin", "/nonexistent/cooperbench", "--yes"])
        .env_remove("COHERE_API_KEY")
        .ran();
    out.expect_code(1);
    let o = text(&out);
    assert!(o.contains("COHERE_API_KEY is missing: export it"), "{o}");
    assert!(
        o.contains("FAIL `/nonexistent/cooperbench --help` could not be started (command not found: `/nonexistent/cooperbench`); reinstall with"),
        "{o}"
    );
    assert!(o.contains("nothing was started"));
    // A seed run made with another model is never mixed in.
    let c = with_baseline();
    fixture::sim_run(&c.cb(), SEED1, "lite", "solo").unwrap();
    let cfg = c.cb().join("logs").join(SEED1).join("config.json");
    edit_json(&cfg, |v| v["model"] = "gpt-4o".into());
    let out = seeds(&c, &["--yes"], &[]);
    out.expect_code(1);
    assert!(text(&out).contains("exists with model gpt-4o: refusing to mix"), "{}", text(&out));
}

/// Each seed run gets a manifest of what made it; a seed made by another
/// cooperbench or configuration is refused, and verify and outcomes.csv use it.
#[test]
fn seed_manifest_records_and_guards_the_configuration() {
    let c = with_baseline();
    let out = seeds(&c, &["--yes", "--seeds", "1"], &[]);
    out.expect_code(0);
    assert!(text(&out).contains("cooperbench version 0.0.29+sim"), "{}", text(&out));
    let file = c.cb().join("logs/command-a-solo-seed1/harness-manifest.json");
    let m: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(m["cooperbench_version"], "0.0.29+sim");
    assert_eq!(
        (m["model"].as_str(), m["agent"].as_str(), m["subset"].as_str()),
        (Some("command-a-03-2025"), Some("mini_swe_agent_v2"), Some("lite"))
    );
    // The same configuration resumes it.
    let out = seeds(&c, &["--dry-run", "--seeds", "1"], &[]);
    assert!(text(&out).contains("seed 1 run `command-a-solo-seed1` was made by this configuration"), "{}", text(&out));
    // Another cooperbench version made it: refused before anything runs.
    edit_json(&file, |v| v["cooperbench_version"] = "0.0.28".into());
    let out = seeds(&c, &["--yes", "--seeds", "1"], &[]);
    out.expect_code(1);
    assert!(
        text(&out).contains("was made by another configuration (cooperbench_version: was 0.0.28, now 0.0.29+sim)"),
        "{}",
        text(&out)
    );
    // outcomes.csv carries the version of the run that made each row.
    let dir = c.tmp.path().join("r");
    let o = c
        .xtask(&[
            "report",
            "--runs",
            "command-a-solo,command-a-solo-seed1",
            "--bootstrap",
            "10",
            "--out",
            dir.to_str().unwrap(),
        ])
        .ran();
    o.expect_code(0);
    let csv = std::fs::read_to_string(dir.join("outcomes.csv")).unwrap();
    // The version column, then the class and the merge.
    let version = |l: &str| l.rsplit(',').nth(2).unwrap_or_default().to_string();
    assert!(csv.lines().filter(|l| l.starts_with("command-a-solo-seed1,")).all(|l| version(l) == "0.0.28"), "{csv}");
    assert!(csv.lines().filter(|l| l.starts_with("command-a-solo,")).all(|l| version(l).is_empty()), "{csv}");
    // verify holds the results to the manifest.
    edit_json(&file, |v| v["model"] = "gpt-4o".into());
    let r = report(&c, &["command-a-solo-seed1"]);
    assert!(
        r.problems.iter().any(|p| p.check.name() == "provenance" && p.detail.contains("from harness-manifest.json")),
        "{}",
        xtask::study::verify::render::render_text(&r)
    );
    std::fs::write(&file, "{").unwrap();
    let r = report(&c, &["command-a-solo-seed1"]);
    assert!(
        r.problems.iter().any(|p| p.check.name() == "unreadable_manifest"),
        "{}",
        xtask::study::verify::render::render_text(&r)
    );
}

/// The result.json of `pair` in `run`.
fn result_file(c: &Checkout, run: &str, pair: &str) -> std::path::PathBuf {
    c.pair_dir(run, pair).join("result.json")
}

fn moved_aside(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".corrupt-"))
        .collect()
}

/// `NaN` in a result.json is JSON to Python, so to the CLI: the file stays
/// where it is, the pair is not paid for again, and verify names the field.
#[test]
fn a_nan_that_python_reads_is_neither_moved_nor_paid_again() {
    let c = with_baseline();
    seeds(&c, &["--yes", "--seeds", "1"], &[]).expect_code(0);
    let pair = "amber_task/1000/f1_f3";
    let file = result_file(&c, SEED1, pair);
    let text = std::fs::read_to_string(&file).unwrap();
    let at = text.find("\"duration_seconds\": ").unwrap() + "\"duration_seconds\": ".len();
    let end = at + text[at..].find([',', '\n']).unwrap();
    std::fs::write(&file, format!("{}NaN{}", &text[..at], &text[end..])).unwrap();
    // Also a pair left to do, so that the rerun runs the CLI.
    std::fs::remove_dir_all(c.pair_dir(SEED1, "amber_task/1000/f1_f2")).unwrap();

    let out = seeds(&c, &["--yes", "--seeds", "1"], &[]);
    out.expect_code(0);
    assert!(moved_aside(&c.pair_dir(SEED1, pair)).is_empty(), "a file Python reads was moved aside");
    assert!(std::fs::read_to_string(&file).unwrap().contains("NaN"));
    let work = c.sim_work("run", SEED1);
    assert_eq!(work.iter().filter(|p| *p == pair).count(), 1, "the pair was paid for again");
    assert_eq!(work.len(), 101, "only the removed pair is redone");
    let o = text_of(&out);
    assert!(o.contains("warn nonfinite_number"), "{o}");
    assert!(
        o.contains(&format!("look at: logs/{SEED1}/solo/{pair}/result.json: field `duration_seconds` is NaN")),
        "{o}"
    );
    // The CLI's own traceback (as the real 0.0.29 prints it) does not stop the harness.
    assert!(o.contains("ValueError: cannot convert float NaN to integer"), "{o}");
    assert!(o.contains("field `duration_seconds` is NaN: Python's json (and so the CLI) reads it"), "{o}");
}

fn text_of(o: &std::process::Output) -> String {
    text(o)
}

/// A file Python reads, with one wrong field: the CLI counts the pair as
/// done, so it is neither moved nor the canary; the plan names the file and
/// the field, the rest of the seed goes on, and verify fails on it.
#[test]
fn a_bad_field_is_named_and_the_rest_goes_on() {
    let c = with_baseline();
    seeds(&c, &["--yes", "--seeds", "1"], &[]).expect_code(0);
    let bad = "amber_task/1000/f1_f2";
    edit_json(&result_file(&c, SEED1, bad), |v| v["task_id"] = serde_json::json!("one thousand"));
    for p in ["amber_task/1000/f1_f3", "lumen_task/1851/f2_f3"] {
        std::fs::remove_dir_all(c.pair_dir(SEED1, p)).unwrap();
    }
    let out = seeds(&c, &["--yes", "--seeds", "1"], &[]);
    let o = text(&out);
    assert_eq!(out.status.code(), Some(1), "verify must fail on the bad field: {o}");
    assert!(
        o.contains(&format!(
            "look at: logs/{SEED1}/solo/{bad}/result.json: field `task_id`: invalid type: string \"one thousand\""
        )),
        "{o}"
    );
    assert!(o.contains("fix the field, or move the file aside to have it redone"), "{o}");
    assert!(o.contains("[seed1] canary amber_task/1000/f1_f3: Submitted"), "the canary must be a pair to pay for: {o}");
    assert!(moved_aside(&c.pair_dir(SEED1, bad)).is_empty(), "a file Python reads was moved aside");
    let work = c.sim_work("run", SEED1);
    assert_eq!(work.len(), 102, "{work:?}");
    assert_eq!(work.iter().filter(|p| *p == bad).count(), 1, "the bad-field pair was paid again");
}

/// A result.json the harness cannot read (here a folder: permissions cannot
/// be provoked as root) stops the seed before any spend and moves nothing.
#[test]
fn a_read_error_stops_before_any_spend_and_moves_nothing() {
    let c = with_baseline();
    seeds(&c, &["--yes", "--seeds", "1"], &[]).expect_code(0);
    let pair = "amber_task/1000/f1_f2";
    let file = result_file(&c, SEED1, pair);
    std::fs::remove_file(&file).unwrap();
    std::fs::create_dir(&file).unwrap();
    std::fs::remove_dir_all(c.pair_dir(SEED1, "amber_task/1000/f1_f3")).unwrap();
    let before = c.sim_record().len();
    let out = seeds(&c, &["--yes", "--seeds", "1"], &[]);
    let o = text(&out);
    out.expect_code(1);
    assert!(
        o.contains(&format!("stopped: seed 1: logs/{SEED1}/solo/{pair}/result.json: not a regular file (a folder, a pipe or a device): not read")),
        "{o}"
    );
    assert!(o.contains("nothing was moved"), "{o}");
    assert!(file.is_dir() && moved_aside(&c.pair_dir(SEED1, pair)).is_empty());
    assert_eq!(c.sim_record().len(), before, "the CLI was started");
}

/// `seeds` removes the containers that carry its label (the proxy's) and
/// nothing else: a container that looks exactly like cooperbench's (same
/// name prefix, same task image) stays.
#[test]
fn docker_clean_up_removes_only_what_carries_our_label() {
    let c = with_baseline();
    let state = c.tmp.path().join("docker.state");
    let foreign = "foreign01\tminisweagent-0f0f0f0f\takhatua/cooperbench-amber:task1000\trunning";
    let unrelated = "other02\tmy-db\tpostgres:16\trunning";
    std::fs::write(&state, format!("{foreign}\n{unrelated}\n")).unwrap();
    let docker = fake_docker();
    let env = [("COOPERBENCH_SIM_LEAVE_CONTAINER", "1"), ("COOPERBENCH_SIM_DOCKER", docker.to_str().unwrap())];
    let out = seeds(&c, &["--yes", "--seeds", "1"], &env);
    let o = text(&out);
    out.expect_code(0);
    let made: Vec<String> = c.sim_work("container", SEED1);
    assert_eq!(made.len(), 2, "a container for the canary and one for the run: {made:?}");
    assert!(o.contains("docker clean-up after seed1's run: removed 2 container(s) of ours"), "{o}");
    for name in &made {
        assert!(o.contains(name.as_str()), "{name} not listed: {o}");
    }
    assert!(o.contains("(labelled xtask.checkout="), "{o}");
    let left = std::fs::read_to_string(&state).unwrap();
    assert_eq!(left, format!("{foreign}\n{unrelated}\n"), "the other job's containers were touched");
    // What the CLI was handed: the proxy's socket, and (for doubles) its labels.
    let calls = std::fs::read_to_string(c.tmp.path().join("docker.log")).unwrap();
    assert!(calls.lines().any(|l| l.starts_with("ps -a --no-trunc --filter label=xtask.checkout=")), "{calls}");

    // clean-docker: nothing of ours left; the look-alike is listed, left alone.
    let out = c.xtask(&["clean-docker"]).ran();
    let o = text(&out);
    out.expect_code(0);
    assert!(o.contains("no containers of ours"), "{o}");
    assert!(o.contains("left alone: 1 cooperbench-looking container(s) without our label"), "{o}");
    assert!(o.contains("minisweagent-0f0f0f0f"), "{o}");
    assert_eq!(std::fs::read_to_string(&state).unwrap(), format!("{foreign}\n{unrelated}\n"));
    // Only the explicit flag reaches it, after listing it (fake Docker only:
    // a test never runs this against a real engine).
    let out = c.xtask(&["clean-docker", "--all-cooperbench"]).ran();
    let o = text(&out);
    assert!(o.contains("removing 1 cooperbench-looking container(s) without our label"), "{o}");
    assert_eq!(std::fs::read_to_string(&state).unwrap(), format!("{unrelated}\n"));
}

/// A task image missing, as the real CLI words it (seen in `cargo xtask
/// e2e`): the agent's `docker run` fails, the canary ends Error with that
/// message, and nothing more is spent.
#[test]
fn a_missing_task_image_stops_the_canary_with_the_clis_words() {
    let c = with_baseline();
    let out = seeds(&c, &["--yes", "--seeds", "1"], &[("COOPERBENCH_SIM_MISSING_IMAGES", "amber_task/1000")]);
    let o = text(&out);
    out.expect_code(1);
    assert!(
        o.contains(
            "canary amber_task/1000/f1_f2 ended Error: Command '['docker', 'run', '-d', '--name', 'minisweagent-"
        ),
        "{o}"
    );
    assert!(
        o.contains("'akhatua/cooperbench-amber:task1000', '-c', 'sleep 2h']' returned non-zero exit status 125."),
        "{o}"
    );
    assert_eq!(count(&c, "run", SEED1), 1, "more than the canary was spent");
}

/// A pair that ended normally on a container that was gone (the CLI took
/// Docker's error as its patch, connectors/git.py) looks done to the CLI.
/// The next `seeds` moves its folder aside (never deletes it), runs it
/// alone once, and records the attempt.
#[test]
fn a_pair_whose_container_was_gone_is_rerun_alone() {
    let c = with_baseline();
    seeds(&c, &["--yes", "--seeds", "1"], &[]).expect_code(0);
    let pair = "amber_task/1000/f1_f3";
    let dir = c.pair_dir(SEED1, pair);
    edit_json(&dir.join("result.json"), |v| v["agent"]["patch_lines"] = 1.into());
    std::fs::write(dir.join("solo.patch"), "Error response from daemon: container 4f2ae1 is not running\n").unwrap();
    let before = count(&c, "run", SEED1);
    let out = seeds(&c, &["--yes", "--seeds", "1"], &[]);
    out.expect_code(0);
    let o = text(&out);
    assert!(o.contains("1 ended on a container that was gone (to rerun alone)"), "{o}");
    assert!(o.contains(&format!("moved {pair} aside to logs/{SEED1}/moved-aside/solo/{pair}.1")), "{o}");
    // One more run, of that pair alone.
    assert_eq!(count(&c, "run", SEED1), before + 1);
    assert_eq!(c.sim_work("run", SEED1).iter().filter(|p| *p == pair).count(), 2);
    // The old folder is kept, whole; the new one is the CLI's.
    let kept = c.cb().join(format!("logs/{SEED1}/moved-aside/solo/{pair}.1"));
    assert!(std::fs::read_to_string(kept.join("solo.patch")).unwrap().starts_with("Error response from daemon"));
    assert!(!std::fs::read_to_string(dir.join("solo.patch")).unwrap().contains("daemon"));
    let history = std::fs::read_to_string(c.cb().join("logs").join(SEED1).join("harness-attempts.jsonl")).unwrap();
    assert!(
        history.lines().any(|l| l.contains(pair)
            && l.contains("\"class_before\":\"infra_container\"")
            && l.contains("\"invocation\":\"rerun\"")),
        "{history}"
    );
    let r = report(&c, &[SEED1]);
    assert!(r.ok, "{}", xtask::study::verify::render::render_text(&r));
    assert!(!r.runs[0].class_pairs.contains_key(&xtask::study::class::Class::InfraContainer));
}

/// A resumed seed whose earlier invocation left an Error kept as the
/// model's (past the context window): a plain run would pay for it again
/// (the CLI redoes every Error), so the pairs left go one by one and the
/// kept one is never run.
#[test]
fn a_resumed_seed_with_a_kept_error_never_pays_for_it_again() {
    let c = with_baseline();
    seeds(&c, &["--yes", "--seeds", "1"], &[]).expect_code(0);
    let kept = "amber_task/1000/f1_f3";
    edit_json(&c.pair_dir(SEED1, kept).join("result.json"), |v| {
        v["agent"]["status"] = "Error".into();
        v["agent"]["error"] = "litellm.ContextWindowExceededError: prompt is too long".into();
    });
    // Two pairs the earlier invocation never finished (files this test made).
    let mut pairs: Vec<String> =
        glob::glob(&format!("{}/*/*/*", c.cb().join("logs").join(SEED1).join("solo").display()))
            .unwrap()
            .map(|p| {
                p.unwrap().strip_prefix(c.cb().join("logs").join(SEED1).join("solo")).unwrap().display().to_string()
            })
            .collect();
    pairs.sort();
    let left: Vec<&str> = pairs.iter().map(String::as_str).filter(|p| *p != kept).take(2).collect();
    for pair in &left {
        std::fs::remove_dir_all(c.pair_dir(SEED1, pair)).unwrap();
    }
    let before = count(&c, "run", SEED1);
    let out = seeds(&c, &["--yes", "--seeds", "1"], &[]);
    let o = text(&out);
    assert!(o.contains("one by one: 1 kept Error(s) (e.g. amber_task/1000/f1_f3: model_context)"), "{o}");
    // The canary takes the first pair left; the other runs alone.
    assert_eq!(count(&c, "run", SEED1), before + 2, "{o}");
    let work = c.sim_work("run", SEED1);
    assert_eq!(work.iter().filter(|p| *p == kept).count(), 1, "the kept Error was paid again: {o}");
    for pair in &left {
        assert_eq!(work.iter().filter(|p| p == pair).count(), 2, "{pair}: {o}");
    }
    assert!(!o.contains("] run: "), "a plain run was made: {o}");
    assert!(o.contains(&format!("[seed1] retry {} alone (attempt 1)", left[1])), "{o}");
}

/// The study's baseline as it really is: made with `mini_swe_agent` (a name
/// the CLI no longer has), its seeds with `mini_swe_agent_v2`. Said before
/// the spend; verify fails naming both runs and the field, report refuses;
/// with the field in `allow_mixed`, both pass and say what is pooled.
#[test]
fn a_baseline_of_another_agent_is_said_before_the_spend_and_refused_after() {
    let c = with_baseline();
    let base = c.cb().join("logs/command-a-solo");
    edit_json(&base.join("config.json"), |v| v["agent_framework"] = "mini_swe_agent".into());
    for f in glob::glob(&format!("{}/solo/*/*/*/result.json", base.display())).unwrap() {
        edit_json(&f.unwrap(), |v| v["agent_framework"] = "mini_swe_agent".into());
    }
    let said = "difficulty pools runs of different agent: command-a-solo (mini_swe_agent, from config.json) vs command-a-solo-seed1";
    let dry = seeds(&c, &["--dry-run", "--seeds", "1"], &[]);
    dry.expect_code(0);
    let d = text(&dry);
    assert!(
        d.contains(&format!("warn {said} (mini_swe_agent_v2, from manifest)"))
            && d.contains(". Before paying: make a new baseline"),
        "{d}"
    );

    seeds(&c, &["--yes", "--seeds", "1"], &[]).expect_code(1);
    let out = c.xtask(&["verify", "--runs", "command-a-solo,command-a-solo-seed1"]).ran();
    out.expect_code(1);
    let problems = |o: &str| o[o.find("problems:").unwrap()..].to_string();
    insta::assert_snapshot!("mixed_agent_refused", problems(&text(&out)));
    let report = c.xtask(&["report", "--runs", "command-a-solo,command-a-solo-seed1"]).ran();
    report.expect_code(2);
    assert!(
        text(&report).contains(&format!("not reported: {said} (mini_swe_agent_v2, from manifest)")),
        "{}",
        text(&report)
    );

    // Allowed: verify passes and says it, in text, JSON and REPORT.md.
    let exp = std::fs::read_to_string(c.experiment()).unwrap();
    let allowed = exp.replace("allow_mixed = [\"cli_version\"", "allow_mixed = [\"agent\", \"cli_version\"");
    assert_ne!(exp, allowed);
    std::fs::write(c.experiment(), allowed).unwrap();
    let out = c.xtask(&["verify", "--runs", "command-a-solo,command-a-solo-seed1"]).ran();
    out.expect_code(0);
    insta::assert_snapshot!("mixed_agent_allowed", problems(&text(&out)));
    let json = c.xtask(&["verify", "--json", "--runs", "command-a-solo,command-a-solo-seed1"]).ran();
    assert!(
        json.stdout_text().contains("\"check\": \"mixed_allowed\"") && json.stdout_text().contains(said),
        "{}",
        json.stdout_text()
    );
    let dir = c.tmp.path().join("report");
    let d = dir.display().to_string();
    c.xtask(&["report", "--runs", "command-a-solo,command-a-solo-seed1", "--out", &d, "--bootstrap", "200"])
        .ran()
        .expect_code(0);
    let md = std::fs::read_to_string(dir.join("REPORT.md")).unwrap();
    assert!(
        md.contains(said)
            && md.contains("| `command-a-solo` | command-a-03-2025 (config.json) | mini_swe_agent (config.json) |"),
        "{md}"
    );
}

/// N23: a container run from an image `docker commit`ted from one of ours
/// carries our labels without being ours (they came with the image, not
/// from our proxy): clean-up names it and leaves it; a container our proxy
/// labelled is removed.
#[test]
fn a_container_from_a_committed_image_of_ours_is_not_ours() {
    let c = with_baseline();
    let id = xtask::edges::identity::checkout_id(&c.cb());
    let state = c.tmp.path().join("docker.state");
    let labels = format!("xtask.checkout={id},xtask.run={SEED1}");
    let committed = format!("debug01\tdebugging\tme/debug:commit\trunning\t{labels}");
    let real = format!("ours02\tminisweagent-0a0a0a0a\takhatua/cooperbench-amber:task1000\texited\t{labels}");
    std::fs::write(&state, format!("{committed}\n{real}\n")).unwrap();
    let image_labels = c.tmp.path().join("image-labels");
    std::fs::write(&image_labels, format!("me/debug:commit\t{id}\n")).unwrap();
    let out = c.xtask(&["clean-docker"]).env("FAKE_DOCKER_IMAGE_LABELS", &image_labels).ran();
    out.expect_code(0);
    let o = text(&out);
    assert!(o.contains("not ours, though labelled: 1 container(s) whose image carries our label"), "{o}");
    assert!(o.contains("debug01"), "{o}");
    let left = std::fs::read_to_string(&state).unwrap();
    assert_eq!(left.trim_end(), committed, "the committed image's container was removed, or ours was not");
}

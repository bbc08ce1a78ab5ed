//! Outcome classes on a baseline tree whose pairs were edited by hand to
//! carry what 0.0.29 writes when the machine, not the model, fails: a
//! provider error, an empty patch, a patch too large for the grader, a
//! timed-out test command, a container gone mid-episode, an output no test
//! runner wrote. `verify` counts and lists them; `triage` tells each one.

mod common;

use common::*;

const RUN: &str = "command-a-solo";
const PROVIDER: &str = "amber_task/1000/f1_f2";
const EMPTY: &str = "amber_task/1000/f1_f3";
const HUGE: &str = "amber_task/1000/f1_f4";
const TIMEOUT: &str = "amber_task/1000/f2_f3";
const GONE: &str = "amber_task/1444/f1_f2";
const NO_TESTS: &str = "amber_task/1444/f1_f3";

fn set_agent(c: &Checkout, pair: &str, f: impl FnOnce(&mut serde_json::Value)) {
    edit_json(&c.pair_dir(RUN, pair).join("result.json"), |v| f(&mut v["agent"]));
}

fn set_eval(c: &Checkout, pair: &str, f: impl FnOnce(&mut serde_json::Value)) {
    edit_json(&c.pair_dir(RUN, pair).join("eval.json"), f);
}

fn classes_tree() -> Checkout {
    let c = Checkout::with_baseline("");
    // litellm's text of a 429 after its retries, and the exit message the
    // agent writes for an uncaught exception (agents/default.py).
    set_agent(&c, PROVIDER, |a| {
        a["status"] = "Error".into();
        a["error"] = "litellm.RateLimitError: RateLimitError: OpenAIException - 429 Too Many Requests".into();
    });
    std::fs::write(
        c.pair_dir(RUN, PROVIDER).join("solo_traj.json"),
        r#"{"messages": [{"role": "exit", "content": "429", "extra": {"exit_status": "RateLimitError", "submission": "", "exception_str": "429"}}]}"#,
    )
    .unwrap();
    std::fs::write(c.pair_dir(RUN, EMPTY).join("solo.patch"), "").unwrap();
    set_agent(&c, EMPTY, |a| a["patch_lines"] = 0.into());
    set_eval(&c, EMPTY, |v| v["both_passed"] = false.into());
    // A generated file in the pull request: the grader's one argument
    // overflows and the Docker backend returns no stderr.
    std::fs::write(c.pair_dir(RUN, HUGE).join("solo.patch"), "+".repeat(123_519)).unwrap();
    set_eval(&c, HUGE, |v| {
        v["error"] = "Failed to write solo.patch: ".into();
        v["both_passed"] = false.into();
    });
    set_eval(&c, TIMEOUT, |v| {
        v["feature2"]["test_output"] = "Command timed out after 600 seconds".into();
        v["feature2"]["passed"] = false.into();
        v["both_passed"] = false.into();
    });
    set_agent(&c, GONE, |a| {
        a["status"] = "LimitsExceeded".into();
        a["patch_lines"] = 1.into();
    });
    // Its pull request lived in the container: with the container gone,
    // `submitted_patch`'s `git diff` answers Docker's error, and the CLI
    // writes that as the patch (connectors/git.py).
    std::fs::write(
        c.pair_dir(RUN, GONE).join("solo.patch"),
        "Error response from daemon: container 4f2ae1 is not running\n",
    )
    .unwrap();
    let mut traj = String::from(r#"{"messages": ["#);
    traj += &r#"{"role": "tool", "content": "<returncode>0</returncode><output>ok</output>"}, "#.repeat(2000);
    traj += r#"{"role": "tool", "content": "<returncode>1</returncode><output>Error response from daemon: container 4f2ae1 is not running</output>"}, {"role": "exit", "content": "", "extra": {"exit_status": "LimitsExceeded", "submission": ""}}]}"#;
    std::fs::write(c.pair_dir(RUN, GONE).join("solo_traj.json"), traj).unwrap();
    // Docker's error is no diff: the grader cannot apply it.
    set_eval(&c, GONE, |v| {
        v["feature1"]["passed"] = false.into();
        v["feature2"]["passed"] = false.into();
        v["both_passed"] = false.into();
    });
    set_eval(&c, NO_TESTS, |v| {
        v["feature1"]["test_output"] = "ImportError: cannot import name 'thing'".into();
        v["feature2"]["test_output"] = "ImportError: cannot import name 'thing'".into();
        v["feature1"]["passed"] = false.into();
        v["feature2"]["passed"] = false.into();
        v["both_passed"] = false.into();
    });
    c
}

#[test]
fn verify_counts_and_lists_every_class() {
    let c = classes_tree();
    let o = c.xtask(&["verify", "--json", "--runs", RUN]).ran();
    let v: serde_json::Value = serde_json::from_str(&o.stdout_text()).unwrap_or_else(|e| panic!("{e}: {}", o.story()));
    let run = &v["runs"][0];
    for (class, pair) in [
        ("infra_provider", PROVIDER),
        ("empty_patch", EMPTY),
        ("eval_grader_limit", HUGE),
        ("eval_timeout", TIMEOUT),
        ("infra_container", GONE),
        ("fail_no_tests", NO_TESTS),
    ] {
        assert_eq!(run["class_pairs"][class], serde_json::json!([pair]), "{class}: {}", run["class_pairs"]);
        assert_eq!(run["classes"][class], 1, "{class}: {}", run["classes"]);
    }
    let text = c.xtask(&["verify", "--runs", RUN]).ran();
    let line =
        text.stdout_text().lines().find(|l| l.starts_with(RUN) && l.contains("infra_provider")).map(String::from);
    let line = line.unwrap_or_else(|| panic!("{}", text.story()));
    assert!(line.contains("infra_provider 1, infra_container 1,") && line.contains("eval_grader_limit 1"), "{line}");
}

#[test]
fn triage_tells_each_pair_and_its_evidence() {
    let c = classes_tree();
    let o = c.xtask(&["triage", RUN]).ran();
    o.expect_code(0);
    let out = o.stdout_text();
    let line =
        |pair: &str| out.lines().find(|l| l.starts_with(pair)).unwrap_or_else(|| panic!("{pair}: {out}")).to_string();
    assert!(
        line(PROVIDER).contains("infra_provider")
            && line(PROVIDER).ends_with("solo_traj.json exit_status: RateLimitError"),
        "{}",
        line(PROVIDER)
    );
    assert!(line(EMPTY).contains("empty_patch") && line(EMPTY).ends_with("solo.patch size: empty"), "{}", line(EMPTY));
    assert!(
        line(HUGE).ends_with("eval.json error: \"Failed to write solo.patch: \" with patches of 123519 bytes"),
        "{}",
        line(HUGE)
    );
    assert!(
        line(TIMEOUT).ends_with("eval.json feature2 test_output: Command timed out after 600 seconds"),
        "{}",
        line(TIMEOUT)
    );
    assert!(
        line(GONE).contains("infra_container")
            && line(GONE).contains("Error response from daemon: container 4f2ae1 is not running"),
        "{}",
        line(GONE)
    );
    assert!(line(NO_TESTS).contains("fail_no_tests"), "{}", line(NO_TESTS));
    // The class table says what each is and what seeds does about it.
    let row = out.lines().find(|l| l.starts_with("eval_grader_limit")).unwrap();
    assert!(row.contains("no ") && row.ends_with("nothing: the outcome stands"), "{row}");
    let row = out.lines().find(|l| l.starts_with("infra_provider")).unwrap();
    assert!(row.contains("runs it again, up to 2 time(s), 60 s apart"), "{row}");

    // One pair's story: the end of its test outputs and of its trajectory.
    let o = c.xtask(&["triage", RUN, TIMEOUT]).ran();
    o.expect_code(0);
    let story = o.stdout_text();
    assert!(
        story.contains("class: eval_timeout (eval.json feature2 test_output: Command timed out after 600 seconds)"),
        "{story}"
    );
    assert!(story.contains("a trial: no; seeds: evaluates it again, once, alone, after the rest"), "{story}");
    let o = c.xtask(&["triage", RUN, GONE]).ran();
    let story = o.stdout_text();
    assert!(story.contains("solo: LimitsExceeded"), "{story}");
    assert!(story.contains("class: infra_container (solo.patch text: Error response from daemon"), "{story}");
    assert!(story.contains("[tool] <returncode>1</returncode><output>Error response from daemon"), "{story}");
    assert!(story.contains("[exit]"), "{story}");

    // A run or a pair that is not there is a usage error.
    c.xtask(&["triage", "no-such-run"]).ran().expect_code(2);
    c.xtask(&["triage", RUN, "not-a-pair"]).ran().expect_code(2);
}

/// REPORT.md gives every run's rate over the pairs judged and over all
/// pairs, and names the classes that were not judged.
#[test]
fn report_gives_both_denominators() {
    let c = classes_tree();
    let out = c.tmp.path().join("out");
    let o = c.xtask(&["report", "--runs", RUN, "--bootstrap", "50", "--out", out.to_str().unwrap()]).ran();
    o.expect_code(0);
    let md = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    let row = md.lines().find(|l| l.starts_with(&format!("| `{RUN}` | solo |"))).unwrap_or_else(|| panic!("{md}"));
    // Six pairs edited: four are the machine's (provider, gone container,
    // grader limit, timeout); empty_patch and fail_no_tests are the model's.
    assert!(row.contains("| 96 | infra_provider 1, infra_container 1, eval_grader_limit 1, eval_timeout 1 |"), "{row}");
    assert!(row.contains("of judged") && row.contains("of all"), "{row}");
    let fig: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("fig4.json")).unwrap()).unwrap();
    assert_eq!(fig["assumptions"]["non_trials"]["per_run"][0]["count"], 4, "{}", fig["assumptions"]["non_trials"]);
    let csv = std::fs::read_to_string(out.join("outcomes.csv")).unwrap();
    assert!(csv.contains(&format!("{RUN},solo,{TIMEOUT},Submitted,fail,false,")), "{csv}");
    assert!(
        csv.lines().any(|l| l.starts_with(&format!("{RUN},solo,{TIMEOUT},")) && l.ends_with(",eval_timeout,")),
        "{csv}"
    );
}

/// `status` says whose each outcome is too, per run.
#[test]
fn status_shows_the_classes() {
    let c = classes_tree();
    let o = c.xtask(&["status"]).ran();
    o.expect_code(0);
    let out = o.stdout_text();
    let line =
        out.lines().find(|l| l.starts_with(RUN) && l.contains("infra_provider")).unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains("infra_provider 1, infra_container 1,") && line.contains("empty_patch 1"), "{line}");
}

/// An Error whose message echoes the key (as a provider's auth error can)
/// is told by `triage` with the key scrubbed, in the run's lines and in
/// the pair's story.
#[test]
fn triage_never_prints_the_key() {
    let c = classes_tree();
    let key = "co-test-key-that-must-not-show-0123456789";
    set_agent(&c, PROVIDER, |a| a["error"] = format!("litellm.AuthenticationError: bad key {key}").into());
    for args in [vec!["triage", RUN], vec!["triage", RUN, PROVIDER]] {
        let o = c.xtask(&args).env("COHERE_API_KEY", key).ran();
        o.expect_code(0);
        let out = o.stdout_text();
        assert!(!out.contains(key), "{out}");
        assert!(out.contains("AuthenticationError"), "{out}");
    }
}

//! `cargo xtask oracle` on the simulator (whose grader passes a task's gold
//! patch, as real tests would, unless the task is broken), the gate in
//! `seeds`' preflight, and the task images named before any spend. The real
//! CLI does the same in `cargo xtask e2e` (scenario "oracle").

mod common;

use common::*;

const BROKEN: &str = "amber_task/1000";

fn oracle(c: &Checkout, args: &[&str], env: &[(&str, &str)]) -> common::Ran {
    let out = c.tmp.path().join("results").display().to_string();
    let mut all = vec!["oracle", "--cooperbench-bin", SIM, "--out", out.as_str()];
    all.extend_from_slice(args);
    let mut e = c.xtask(&all).stdin_null();
    for (k, v) in env {
        e = e.env(k, v);
    }
    e.ran()
}

fn csv(c: &Checkout) -> String {
    std::fs::read_to_string(c.tmp.path().join("results/oracle.csv")).unwrap()
}

#[test]
fn every_gold_patch_passes_and_a_second_oracle_evaluates_nothing() {
    let c = Checkout::with_baseline("");
    let out = oracle(&c, &[], &[]);
    out.expect_code(0);
    let o = text(&out);
    assert!(o.contains("oracle: every gold patch passes: the grader can judge these 100 pairs"), "{o}");
    assert!(o.contains("amber_task/1000: "), "no line per task: {o}");
    // No key is needed: the oracle pays no model.
    assert!(!o.contains("COHERE_API_KEY"), "{o}");
    let table = csv(&c);
    assert_eq!(table.lines().count(), 101);
    assert!(
        table.lines().skip(1).all(|l| l.contains(",pass,true,3 passed / 0 failed,3 passed / 0 failed,")),
        "{table}"
    );
    let evals = c.sim_work("eval", "command-a-solo-oracle").len();
    assert_eq!(evals, 100, "each pair evaluated once, alone");
    // The result.json is the CLI's shape, of no model, and costs nothing.
    let r: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(c.cb().join("logs/command-a-solo-oracle/solo/amber_task/1000/f1_f2/result.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!((r["agent_framework"].as_str(), r["total_cost"].as_f64()), (Some("oracle"), Some(0.0)));
    insta::with_settings!({filters => vec![(r",[0-9]+\.[0-9],false", ",<seconds>,false")]}, {
        insta::assert_snapshot!("oracle_csv_head", table.lines().take(6).collect::<Vec<_>>().join("\n"));
    });

    let again = oracle(&c, &[], &[]);
    again.expect_code(0);
    assert_eq!(c.sim_work("eval", "command-a-solo-oracle").len(), evals, "{}", text(&again));
    assert!(text(&again).contains("to evaluate: 0 pair(s)"), "{}", text(&again));
}

#[test]
fn a_broken_task_is_named_and_require_oracle_refuses_before_any_spend() {
    let c = Checkout::with_baseline("require_oracle = true");
    // No oracle yet: refused, nothing run.
    let out = c.seeds(&["--yes"], &[]).ran();
    out.expect_code(1);
    assert!(text(&out).contains("require_oracle: no oracle yet (logs/command-a-solo-oracle)"), "{}", text(&out));
    assert!(c.sim_work("run", SEED1).is_empty());

    let out = oracle(&c, &[], &[("COOPERBENCH_SIM_BROKEN_TASKS", BROKEN)]);
    out.expect_code(1);
    let o = text(&out);
    assert!(o.contains("oracle: the gold patch does not pass on 4 of 100 pairs: amber_task/1000/f1_f2 (fail: "), "{o}");
    assert!(o.contains("amber_task/1000: 0 of 4 pairs pass"), "{o}");

    let out = c.seeds(&["--yes"], &[]).ran();
    out.expect_code(1);
    let o = text(&out);
    assert!(o.contains("FAIL oracle (logs/command-a-solo-oracle): the gold patch does not pass on 4 of 100 pairs: amber_task/1000/f1_f2"), "{o}");
    assert!(o.contains("nothing was started, nothing was spent"), "{o}");
    assert!(c.sim_work("run", SEED1).is_empty(), "a pair was paid for: {o}");

    // Without require_oracle the same finding is a warning, and the dry run goes on.
    c.write_experiment("");
    let out = c.seeds(&["--dry-run"], &[]).ran();
    out.expect_code(0);
    assert!(
        text(&out).contains("warn oracle (logs/command-a-solo-oracle): the gold patch does not pass on 4 of 100 pairs"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_dataset_changed_after_the_oracle_makes_it_stale_by_content_not_by_time() {
    let c = Checkout::with_baseline("require_oracle = true");
    oracle(&c, &[], &[]).expect_code(0);
    // A file touched (a checkout, a copy, a pull sets the time) is the same
    // file: the oracle still holds.
    let tests = c.cb().join("dataset/amber_task/task1000/feature1/tests.patch");
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    std::fs::File::options().write(true).open(&tests).unwrap().set_modified(later).unwrap();
    c.seeds(&["--dry-run"], &[]).ran().expect_code(0);
    // Its content changed: the pairs of that feature must be graded again.
    std::fs::write(&tests, "changed\n").unwrap();
    let out = c.seeds(&["--dry-run"], &[]).ran();
    out.expect_code(1);
    assert!(
        text(&out).contains("is not of today's dataset: 3 pair(s) changed since it graded them: amber_task/1000/f1_f2 (feature 1's tests.patch)"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_missing_task_image_is_named_with_its_pairs_before_any_spend() {
    let c = Checkout::with_baseline("");
    // Every image of the subset is here but amber_task/1000's.
    let lite = c.cb().join("dataset/subsets/lite.json");
    let subset: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(lite).unwrap()).unwrap();
    let images: String = subset["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| xtask::edges::docker::task_image(t["repo"].as_str().unwrap(), t["task_id"].as_u64().unwrap()))
        .filter(|i| !i.ends_with("amber:task1000"))
        .map(|i| format!("{i}\t500000000\n"))
        .collect();
    let list = c.tmp.path().join("images.tsv");
    std::fs::write(&list, images).unwrap();
    let env = [("FAKE_DOCKER_IMAGES", list.to_str().unwrap())];
    let out = c.seeds(&["--dry-run"], &env).ran();
    out.expect_code(0);
    let o = text(&out);
    assert!(o.contains("ok   task images: 25 of 26 on this host (12.5 GB)"), "{o}");
    assert!(
        o.contains("warn 1 task image(s) not on this host: akhatua/cooperbench-amber:task1000 (pairs amber_task/1000/f1_f2, amber_task/1000/f1_f3, amber_task/1000/f1_f4, amber_task/1000/f2_f3)"),
        "{o}"
    );
    // --pull that fails is a failure, before any spend.
    let out = c.seeds(&["--yes", "--pull"], &[env[0], ("FAKE_DOCKER_PULL_FAILS", "1")]).ran();
    out.expect_code(1);
    assert!(
        text(&out).contains(
            "pull akhatua/cooperbench-amber:task1000` failed (exit status 1); can this host reach the registry"
        ),
        "{}",
        text(&out)
    );
    assert!(c.sim_work("run", SEED1).is_empty());
    // --pull that works pulls it, and the check passes.
    let out = c.seeds(&["--dry-run", "--pull"], &env).ran();
    assert!(!text(&out).contains("pulling"), "a dry run pulls nothing: {}", text(&out));
    let out = oracle(&c, &["--pull"], &env);
    assert!(text(&out).contains("ok   pulled akhatua/cooperbench-amber:task1000"), "{}", text(&out));
}

#[test]
fn verify_and_report_can_leave_out_what_the_oracle_failed_and_say_so() {
    let c = Checkout::with_baseline("");
    // No oracle: the flag is refused, with what to do.
    let out = c.xtask(&["verify", "--runs", "command-a-solo", "--exclude-oracle-failures"]).ran();
    out.expect_code(2);
    assert!(text(&out).contains("there is no oracle (logs/command-a-solo-oracle): run `cargo xtask oracle` first"));

    oracle(&c, &[], &[("COOPERBENCH_SIM_BROKEN_TASKS", BROKEN)]).expect_code(1);
    let out = c.xtask(&["verify", "--json", "--runs", "command-a-solo", "--exclude-oracle-failures"]).ran();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["subset"]["pairs"], 96, "{v}");
    assert_eq!(v["runs"][0]["results"], 96);
    let w = v["problems"].as_array().unwrap().iter().find(|p| p["check"] == "oracle_excluded").expect("no warning");
    assert!(w["detail"].as_str().unwrap().starts_with("4 pair(s) left out of every count: "), "{w}");
    assert!(w["detail"].as_str().unwrap().contains("amber_task/1000/f1_f4"), "{w}");
    // Without the flag, every pair counts.
    let out = c.xtask(&["verify", "--json", "--runs", "command-a-solo"]).ran();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["subset"]["pairs"], 100);

    let dir = c.tmp.path().join("report");
    let d = dir.display().to_string();
    c.xtask(&["report", "--runs", "command-a-solo", "--exclude-oracle-failures", "--out", &d, "--bootstrap", "200"])
        .ran()
        .expect_code(0);
    let md = std::fs::read_to_string(dir.join("REPORT.md")).unwrap();
    assert!(md.contains("4 pair(s) left out of every count: their gold patch does not pass"), "{md}");
    let rows = std::fs::read_to_string(dir.join("difficulty.csv")).unwrap();
    assert_eq!(rows.lines().count(), 97, "header and 96 pairs");
    assert!(!rows.contains("amber_task/1000/") && rows.contains("amber_task/1444/"), "{rows}");
}

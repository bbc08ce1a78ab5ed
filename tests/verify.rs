//! `cargo xtask verify` over generated trees: one clean lite-shaped tree,
//! one broken tree per failure, and a 10-seed tree. The clean tree's
//! readable and JSON reports are snapshotted whole; each broken tree
//! snapshots only what changed against the clean report (a diff of the
//! readable report) and its problems as JSON, so one behaviour change moves
//! one snapshot.

mod common;

use common::*;
use xtask::study::outcome::EvalErrors;
use xtask::study::verify;
use xtask::support::fixture::{self, LITE};

const RUNS: [&str; 3] = ["command-a-solo", "command-a-solo-seed1", "command-a-solo-seed2"];
/// The first pair of the synthetic subset; most mutations hit it.
const PAIR: &str = "amber_task/1000/f1_f2";

/// The clean three-seed tree (a copy of one built once per process).
fn clean() -> Checkout {
    let c = from_template("verify-clean", |dir| {
        fixture::solo_tree(&dir.join("CooperBench"), "lite", LITE, &RUNS).unwrap();
        prune_template(&dir.join("CooperBench"), true);
    });
    c.write_experiment("");
    c
}

fn check(c: &Checkout) -> verify::Report {
    check_runs(c, &RUNS.map(String::from))
}

fn check_runs(c: &Checkout, runs: &[String]) -> verify::Report {
    xtask::engine::verify::load_and_check(
        &c.cb(),
        "lite",
        runs,
        EvalErrors::Exclude,
        false,
        xtask::edges::logs::DEFAULT_MAX_FILE_BYTES,
        &[],
        &Default::default(),
    )
    .unwrap()
}

/// The clean tree's readable report, made once.
fn clean_text() -> &'static str {
    static CLEAN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    CLEAN.get_or_init(|| verify::render::render_text(&check(&clean())))
}

/// What a broken tree changes in the readable report, and its problems.
fn snapshot(name: &str, c: &Checkout) -> verify::Report {
    let report = check(c);
    let text = verify::render::render_text(&report);
    let diff = similar::TextDiff::from_lines(clean_text(), &text)
        .unified_diff()
        .context_radius(1)
        .header("clean", name)
        .to_string();
    // Where a cut file ends depends on the simulator's timestamps and costs.
    insta::with_settings!({filters => vec![(r"line \d+, column \d+", "line [L], column [C]")]}, {
        insta::assert_snapshot!(format!("{name}.diff"), diff);
        // One line a problem (what `verify` prints), so a reviewer reads them.
        let lines: Vec<String> = report.problems.iter().map(|p| p.line()).collect();
        insta::assert_snapshot!(format!("{name}.problems"), lines.join("\n"));
    });
    report
}

fn has(report: &verify::Report, check: &str, path_part: &str) -> bool {
    report.problems.iter().any(|p| p.check.name() == check && p.path.as_deref().unwrap_or("").contains(path_part))
}

#[test]
fn clean_three_seed_lite_tree() {
    let c = clean();
    let r = check(&c);
    insta::assert_snapshot!("clean.txt", verify::render::render_text(&r));
    // One line per value (`common::review`), as fig4.json is reviewed.
    insta::assert_snapshot!("clean.json", common::review(&serde_json::to_value(&r).unwrap()));
    assert!(r.ok, "{}", verify::render::render_text(&r));
    // LimitsExceeded is an outcome, not a problem: a clean tree passes --strict.
    assert!(r.runs.iter().any(|s| s.counts.agent_status.get("LimitsExceeded").is_some_and(|n| *n > 0)));
    let out = c.xtask(&["verify", "--strict"]).ran();
    out.expect_code(0);
    assert_eq!(r.subset.tasks, 26);
    assert_eq!(r.subset.pair_count, 100);
    assert!(r.runs.iter().all(|s| s.counts.results == 100 && s.counts.evals == 100));
    assert_eq!(r.difficulty.buckets.iter().sum::<usize>() + r.difficulty.undefined_pairs, 100);
    let out = c.xtask(&["verify", "--json"]).ran();
    out.expect_code(0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["ok", "subset", "runs", "overlap", "difficulty", "problems"] {
        assert!(v.get(key).is_some(), "missing key {key}");
    }
    for key in [
        "name",
        "setting",
        "results",
        "evals",
        "passed",
        "failed",
        "eval_errors",
        "agent_status",
        "missing_results",
        "missing_evals",
        "cost_usd",
    ] {
        assert!(v["runs"][0].get(key).is_some(), "missing runs[].{key}");
    }
    assert_eq!(v["difficulty"]["buckets"].as_array().unwrap().len(), 10);
}

/// Each broken tree: the mutation, then the check and path that must be named.
fn broken(name: &str, check: &str, path_part: &str, mutate: impl FnOnce(&Checkout)) {
    let c = clean();
    mutate(&c);
    let r = snapshot(name, &c);
    assert!(!r.ok || check == "eval_error", "{name}: verify passed");
    assert!(has(&r, check, path_part), "{name}: no {check} at {path_part}:\n{}", verify::render::render_text(&r));
    let out = c.xtask(&["verify"]).ran();
    let want = if check == "eval_error" { 0 } else { 1 };
    assert_eq!(out.status.code(), Some(want), "{name}: {}", text(&out));
    assert!(text(&out).contains(path_part), "{name}: output does not name {path_part}");
}

fn seed1(c: &Checkout) -> std::path::PathBuf {
    c.pair_dir(RUNS[1], PAIR)
}

/// Copies seed 1's first pair (result and eval) into a sibling folder.
fn copy_pair(c: &Checkout, folder: &str) -> std::path::PathBuf {
    let from = seed1(c);
    let to = from.with_file_name(folder);
    std::fs::create_dir_all(&to).unwrap();
    for f in ["result.json", "eval.json"] {
        std::fs::copy(from.join(f), to.join(f)).unwrap();
    }
    to
}

#[test]
fn missing_result() {
    broken("missing_result", "missing_result", "seed1/solo/amber_task/1000/f1_f2/result.json", |c| {
        let d = seed1(c);
        std::fs::rename(&d, d.with_file_name("moved_away")).unwrap();
    });
}

#[test]
fn agent_error() {
    broken("agent_error", "agent_error", "seed1/solo/amber_task/1000/f1_f2/result.json", |c| {
        edit_json(&seed1(c).join("result.json"), |v| {
            v["agent"]["status"] = "Error".into();
            v["agent"]["error"] = "Unknown agent: mini_swe_agent".into();
        });
    });
}

#[test]
fn missing_eval() {
    broken("missing_eval", "missing_eval", "seed1/solo/amber_task/1000/f1_f2/eval.json", |c| {
        std::fs::remove_file(seed1(c).join("eval.json")).unwrap();
    });
}

#[test]
fn eval_error_is_a_warning() {
    broken("eval_error", "eval_error", "seed1/solo/amber_task/1000/f1_f2/eval.json", |c| {
        let mut was_passed = false;
        edit_json(&seed1(c).join("eval.json"), |v| {
            was_passed = v["both_passed"].as_bool().unwrap();
            v["error"] = "Failed to write solo.patch".into();
        });
        // Keep the summary true to the files, so only the warning remains.
        edit_json(&c.cb().join("logs").join(RUNS[1]).join("eval_summary.json"), |v| {
            let field = if was_passed { "passed" } else { "failed" };
            v[field] = (v[field].as_u64().unwrap() - 1).into();
            v["errors"] = (v["errors"].as_u64().unwrap() + 1).into();
        });
    });
}

#[test]
fn stale_eval() {
    broken("stale_eval", "stale_eval", "seed1/solo/amber_task/1000/f1_f2/eval.json", |c| {
        edit_json(&seed1(c).join("eval.json"), |v| v["evaluated_at"] = "2024-01-02T00:00:00".into());
    });
}

#[test]
fn truncated_json() {
    broken("truncated_json", "unreadable_result", "seed1/solo/amber_task/1000/f1_f2/result.json", |c| {
        let p = seed1(c).join("result.json");
        let t = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, &t[..t.len() / 2]).unwrap();
    });
}

#[test]
fn wrong_type() {
    broken("wrong_type", "unreadable_eval", "seed1/solo/amber_task/1000/f1_f2/eval.json", |c| {
        edit_json(&seed1(c).join("eval.json"), |v| v["both_passed"] = "yes".into());
    });
}

#[test]
fn result_in_wrong_folder() {
    broken("wrong_folder", "mismatched_result", "seed1/solo/amber_task/1000/f1_f2/result.json", |c| {
        edit_json(&seed1(c).join("result.json"), |v| v["features"] = serde_json::json!([1, 3]));
    });
}

#[test]
fn pair_not_in_subset() {
    broken("extra_pair", "extra_pair", "seed1/solo/amber_task/1000/f7_f8", |c| {
        let to = copy_pair(c, "f7_f8");
        edit_json(&to.join("result.json"), |v| v["features"] = serde_json::json!([7, 8]));
    });
}

#[test]
fn duplicated_pair() {
    broken("duplicate_pair", "duplicate_pair", "seed1/solo/amber_task/1000/f2_f1", |c| {
        copy_pair(c, "f2_f1");
    });
}

#[test]
fn partial_eval_summary() {
    broken("partial_eval_summary", "eval_summary_mismatch", "seed1/eval_summary.json", |c| {
        // What a resumed `cooperbench eval` leaves: counts of its last pass only.
        edit_json(&c.cb().join("logs").join(RUNS[1]).join("eval_summary.json"), |v| {
            v["passed"] = 1.into();
            v["failed"] = 2.into();
            v["errors"] = 0.into();
            v["total_runs"] = 3.into();
        });
    });
}

#[test]
fn pair_sets_differ() {
    let c = clean();
    let d = c.pair_dir(RUNS[2], "lumen_task/1407/f1_f2");
    std::fs::rename(&d, d.with_file_name("f1_f9")).unwrap();
    let r = snapshot("pair_sets_differ", &c);
    assert!(!r.overlap.identical);
    let diff = &r.overlap.differences[0];
    assert_eq!(diff.run, RUNS[2]);
    assert_eq!(diff.missing, ["lumen_task/1407/f1_f2"]);
    assert_eq!(diff.extra, ["lumen_task/1407/f1_f9"]);
    assert!(r.problems.iter().any(|p| p.check.name() == "pair_sets_differ"));
}

#[test]
fn ten_seeds_with_a_nine_of_ten_pair() {
    let c = Checkout::new();
    let runs: Vec<String> = (0..10).map(|i| format!("s{i}")).collect();
    let names: Vec<&str> = runs.iter().map(String::as_str).collect();
    fixture::solo_tree(&c.cb(), "lite", LITE, &names).unwrap();
    for (i, run) in runs.iter().enumerate() {
        let dir = c.pair_dir(run, PAIR);
        edit_json(&dir.join("result.json"), |v| v["agent"]["status"] = "Submitted".into());
        edit_json(&dir.join("eval.json"), |v| v["both_passed"] = (i != 0).into());
    }
    let report = check_runs(&c, &runs);
    let logs: Vec<xtask::study::run::RunLogs> =
        runs.iter().map(|r| xtask::study::run::RunLogs::load(&c.cb(), r)).collect();
    let refs: Vec<&xtask::study::run::RunLogs> = logs.iter().collect();
    let subset = xtask::edges::layout::load_subset(&c.cb(), "lite").unwrap();
    let per_pair = verify::pair_difficulties(&subset, &refs, EvalErrors::Exclude, &Default::default());
    let (_, _, d) = per_pair.iter().find(|(p, _, _)| p.to_string() == PAIR).unwrap();
    assert_eq!(d.fraction(), "1/10");
    assert_eq!(d.bucket(), Some(1), "9 passes of 10 must land in bucket 1, not 0");
    insta::assert_snapshot!("ten_seeds.txt", verify::render::render_text(&report));
    insta::assert_yaml_snapshot!("ten_seeds_difficulty", report.difficulty);
}

#[test]
fn usage_errors_exit_2() {
    let c = Checkout::new();
    c.write_experiment("");
    let out = c.xtask(&["verify"]).ran();
    out.expect_code(2);
    assert!(text(&out).contains("not a CooperBench checkout"), "{}", text(&out));
    fixture::write_dataset(&c.cb(), "lite", LITE).unwrap();
    let out = c.xtask(&["verify", "--subset", "nope"]).ran();
    out.expect_code(2);
    assert!(text(&out).contains("subset `nope` not found"), "{}", text(&out));
    let out = c.xtask(&["verify", "--no-such-flag"]).ran();
    out.expect_code(2);
    c.write_experiment("concurency = 3");
    let out = c.xtask(&["verify"]).ran();
    out.expect_code(2);
    assert!(text(&out).contains("unknown field `concurency`"), "{}", text(&out));
}

/// A warning, not a failure: verify passes, `--strict` does not.
fn warned(name: &str, check: &str, path_part: &str, mutate: impl FnOnce(&Checkout)) {
    let c = clean();
    mutate(&c);
    let r = snapshot(name, &c);
    assert!(r.ok, "{name}: a warning failed verify");
    assert!(has(&r, check, path_part), "{name}: no {check} at {path_part}:\n{}", verify::render::render_text(&r));
    c.xtask(&["verify"]).ran().expect_code(0);
    c.xtask(&["verify", "--strict"]).ran().expect_code(1);
}

fn detail(r: &verify::Report, check: &str) -> String {
    r.problems.iter().filter(|p| p.check.name() == check).map(|p| p.detail.clone()).collect::<Vec<_>>().join("\n")
}

const SEED1_RESULT: &str = "seed1/solo/amber_task/1000/f1_f2/result.json";
const SEED1_EVAL: &str = "seed1/solo/amber_task/1000/f1_f2/eval.json";

#[test]
fn seed_that_is_a_copy_of_the_baseline() {
    broken("copied_seed", "provenance", SEED1_RESULT, |c| {
        let (base, seed) = (c.cb().join("logs").join(RUNS[0]), c.cb().join("logs").join(RUNS[1]));
        std::fs::remove_dir_all(&seed).unwrap();
        let ok = std::process::Command::new("cp").arg("-a").arg(&base).arg(&seed).status().unwrap();
        assert!(ok.success());
    });
}

#[test]
fn result_from_another_model() {
    let c = clean();
    edit_json(&seed1(&c).join("result.json"), |v| v["model"] = "gpt-4o".into());
    let r = snapshot("other_model", &c);
    assert!(!r.ok && has(&r, "provenance", SEED1_RESULT));
    assert!(detail(&r, "provenance").contains(r#"field `model` says "gpt-4o", expected "command-a-03-2025""#));
}

#[test]
fn eval_copied_from_another_pair() {
    broken("copied_eval", "mismatched_eval", SEED1_EVAL, |c| {
        let other = c.pair_dir(RUNS[1], "amber_task/1000/f1_f3");
        std::fs::copy(other.join("eval.json"), seed1(c).join("eval.json")).unwrap();
    });
}

#[test]
fn offsets_without_a_colon_are_hours() {
    // ended 10:00-0500 is 15:00 UTC: an eval at 16:00Z is fresh, at 14:00Z stale.
    let c = clean();
    edit_json(&seed1(&c).join("result.json"), |v| v["ended_at"] = "2026-01-15T10:00:00-0500".into());
    edit_json(&seed1(&c).join("eval.json"), |v| v["evaluated_at"] = "2026-01-15T16:00:00Z".into());
    assert!(!has(&check(&c), "stale_eval", SEED1_EVAL));
    broken("stale_offset", "stale_eval", SEED1_EVAL, |c| {
        edit_json(&seed1(c).join("result.json"), |v| v["ended_at"] = "2026-01-15T10:00:00-0500".into());
        edit_json(&seed1(c).join("eval.json"), |v| v["evaluated_at"] = "2026-01-15T14:00:00+0000".into());
    });
}

#[test]
fn impossible_date() {
    let c = clean();
    edit_json(&seed1(&c).join("eval.json"), |v| v["evaluated_at"] = "2026-02-31T10:00:00".into());
    let r = snapshot("impossible_date", &c);
    assert!(!r.ok && has(&r, "unreadable_eval", SEED1_EVAL));
    assert!(detail(&r, "unreadable_eval").starts_with("field `evaluated_at`: \"2026-02-31T10:00:00\""));
}

#[test]
fn feature_number_out_of_range() {
    let c = clean();
    edit_json(&seed1(&c).join("result.json"), |v| v["features"] = serde_json::json!([4294967298u64, 2]));
    let r = snapshot("feature_out_of_range", &c);
    assert!(!r.ok && has(&r, "unreadable_result", SEED1_RESULT));
    assert!(detail(&r, "unreadable_result").starts_with("field `features[0]`: invalid value: integer `4294967298`"));
}

#[test]
fn negative_cost() {
    broken("negative_cost", "bad_cost", SEED1_RESULT, |c| {
        edit_json(&seed1(c).join("result.json"), |v| v["total_cost"] = (-1.5).into());
    });
}

#[test]
fn costs_that_overflow() {
    broken("overflowing_cost", "bad_cost", "logs/command-a-solo-seed1", |c| {
        for pair in [PAIR, "amber_task/1000/f1_f3"] {
            edit_json(&c.pair_dir(RUNS[1], pair).join("result.json"), |v| v["total_cost"] = 1e308.into());
        }
    });
}

#[test]
fn null_cost_is_counted_and_reported() {
    warned("null_cost", "null_cost", SEED1_RESULT, |c| {
        edit_json(&seed1(c).join("result.json"), |v| v["total_cost"] = serde_json::Value::Null);
    });
}

#[test]
fn result_linked_to_dev_zero_is_refused_unread() {
    let c = clean();
    let p = seed1(&c).join("result.json");
    std::fs::remove_file(&p).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &p).unwrap();
    let r = snapshot("dev_zero", &c);
    assert!(has(&r, "unreadable_result", SEED1_RESULT));
    assert!(detail(&r, "unreadable_result").starts_with("not a regular file"), "{}", detail(&r, "unreadable_result"));
}

#[test]
fn symlinked_pair_folder_is_followed() {
    let c = clean();
    let (d, away) = (seed1(&c), c.tmp.path().join("elsewhere"));
    std::fs::rename(&d, &away).unwrap();
    std::os::unix::fs::symlink(&away, &d).unwrap();
    let r = check(&c);
    assert!(r.ok, "{}", verify::render::render_text(&r));
    assert_eq!(r.runs[1].counts.results, 100);
}

#[test]
fn symlink_loops_are_reported() {
    broken("symlink_loop", "symlink_loop", "seed1/solo/amber_task/1000/f1_f9", |c| {
        let task = seed1(c).parent().unwrap().to_path_buf();
        std::os::unix::fs::symlink("f1_f9", task.join("f1_f9")).unwrap();
        std::os::unix::fs::symlink(".", task.join("f2_f9")).unwrap();
    });
}

#[test]
fn bad_subsets_name_the_pair() {
    let c = clean();
    let file = c.cb().join("dataset/subsets/lite.json");
    for (edit, want) in [
        (serde_json::json!([3, 3]), "field `tasks[0].pairs[0]`: [3, 3] pairs feature 3 with itself"),
        (serde_json::json!([4294967297u64, 2]), "field `tasks[0].pairs[0][0]`: invalid value: integer `4294967297`"),
        (serde_json::json!([2, 1]), "pair amber_task/1000/f1_f2 is listed twice"),
    ] {
        edit_json(&file, |v| {
            let pairs = v["tasks"][0]["pairs"].as_array_mut().unwrap();
            if edit == serde_json::json!([2, 1]) {
                pairs.push(edit.clone());
            } else {
                pairs[0] = edit.clone();
            }
        });
        let out = c.xtask(&["verify"]).ran();
        out.expect_code(2);
        assert!(text(&out).contains("lite.json") && text(&out).contains(want), "{}", text(&out));
        fixture::write_dataset(&c.cb(), "lite", LITE).unwrap();
    }
}

#[test]
fn runs_named_twice_and_coop_runs_in_difficulty() {
    let c = clean();
    let out = c.xtask(&["verify", "--runs", "command-a-solo,command-a-solo-seed1,command-a-solo"]).ran();
    out.expect_code(2);
    assert!(text(&out).contains("run `command-a-solo` is named twice"), "{}", text(&out));
    // A coop run among the runs is checked but never defines difficulty.
    fixture::sim_run(&c.cb(), "coopy", "lite", "coop").unwrap();
    let out = c.xtask(&["verify", "--json", "--runs", "command-a-solo,coopy"]).ran();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["difficulty"]["seeds"], serde_json::json!(["command-a-solo"]));
    let out = c.xtask(&["verify", "--runs", "command-a-solo,coopy"]).ran();
    assert!(text(&out).contains("not in difficulty (their setting is not solo): coopy"), "{}", text(&out));
}

#[test]
fn a_path_too_long_says_so() {
    let c = clean();
    let long = format!("/{}", "x".repeat(5000));
    let out = c.xtask(&["verify", "--cooperbench-dir", &long]).ran();
    out.expect_code(2);
    assert!(text(&out).contains("File name too long"), "{}", text(&out));
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let c = clean();
    let cmd = format!("'{}' verify --json --experiment '{}' | head -c 10 >/dev/null", XTASK, c.experiment().display());
    let out = duct::cmd!("sh", "-c", cmd).stderr_capture().unchecked().ran();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked") && !err.contains("Broken pipe"), "{err}");
}

#[test]
fn status_does_not_call_an_unreadable_eval_complete() {
    let c = clean();
    std::fs::write(seed1(&c).join("eval.json"), "{\"repo\": ").unwrap();
    let out = c.xtask(&["status"]).ran();
    let line = text(&out).lines().find(|l| l.contains(RUNS[1])).unwrap_or_default().to_string();
    assert!(line.contains("1 eval.json corrupt") && !line.contains("complete"), "{}", text(&out));
}

#[test]
fn a_dangling_link_is_not_a_missing_pair() {
    broken("broken_link", "broken_link", "seed1/solo/amber_task/1000/f1_f2", |c| {
        let d = seed1(c);
        std::fs::remove_dir_all(&d).unwrap();
        std::os::unix::fs::symlink("/nonexistent-xtask-target", &d).unwrap();
    });
}

#[test]
fn a_solo_run_listed_as_coop_is_refused() {
    let c = clean();
    c.write_experiment(r#"coop_runs = ["command-a-solo"]"#);
    let out = c.xtask(&["verify"]).ran();
    out.expect_code(2);
    assert!(text(&out).contains("run `command-a-solo` is also an arm `command-a-solo` run"), "{}", text(&out));
}

/// A time no CLI can have written is named: a leap second is refused as a
/// bad field, a year before 2024 or a day in the future is a warning.
#[test]
fn implausible_times_are_named() {
    let c = Checkout::with_baseline("");
    let dir = c.cb().join("logs/command-a-solo/solo/amber_task/1000");
    edit_json(&dir.join("f1_f2/result.json"), |v| v["ended_at"] = "0000-01-01T00:00:00".into());
    edit_json(&dir.join("f1_f3/eval.json"), |v| v["evaluated_at"] = "2999-01-01T00:00:00".into());
    edit_json(&dir.join("f2_f3/result.json"), |v| v["ended_at"] = "2026-06-30T23:59:60".into());
    let out = c.xtask(&["verify", "--json", "--runs", "command-a-solo"]).ran();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let problems = v["problems"].as_array().unwrap();
    let find = |check: &str, path: &str| {
        problems.iter().find(|p| p["check"] == check && p["path"].as_str().is_some_and(|x| x.ends_with(path))).cloned()
    };
    let old = find("implausible_time", "f1_f2/result.json").expect("year 0000 not named");
    assert_eq!(old["detail"], "field `ended_at`: 0000-01-01T00:00:00 is before 2024, before any cooperbench release");
    let future = find("implausible_time", "f1_f3/eval.json").expect("year 2999 not named");
    assert!(future["detail"].as_str().unwrap().contains("more than a day after now"));
    let leap = problems
        .iter()
        .find(|p| p["path"].as_str().is_some_and(|x| x.ends_with("f2_f3/result.json")))
        .expect("the leap second not named");
    assert!(leap["detail"].as_str().unwrap().contains("leap second"), "{leap}");
}

/// A copy of the baseline under another name, its files without
/// `run_name` (as older CLIs wrote them), is not a second seed.
#[test]
fn a_copied_run_is_not_a_repeat() {
    let c = Checkout::with_baseline("");
    let logs = c.cb().join("logs");
    let out = duct::cmd!("cp", "-a", logs.join("command-a-solo"), logs.join("copy")).run().unwrap();
    assert!(out.status.success());
    for f in glob::glob(&format!("{}/copy/solo/*/*/*/result.json", logs.display())).unwrap() {
        edit_json(&f.unwrap(), |v| {
            v.as_object_mut().unwrap().remove("run_name");
        });
    }
    let out = c.xtask(&["verify", "--json", "--runs", "command-a-solo,copy"]).ran();
    out.expect_code(1);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let p = v["problems"].as_array().unwrap().iter().find(|p| p["check"] == "copied_result").expect("not named");
    assert_eq!(p["run"], "copy");
    assert!(
        p["detail"].as_str().unwrap().starts_with("100 result(s) are the same attempts as in run `command-a-solo`"),
        "{p}"
    );
}

/// A coop pair is whole only with both agents' patches and trajectories,
/// its conversation and, once graded, its merge result; a messaging arm's
/// silent pair is said (a warning: silence is the agents' choice).
#[test]
fn a_coop_pairs_missing_files_silence_and_absent_merge_are_named() {
    let c = clean();
    fixture::sim_run(&c.cb(), "coopy", "lite", "coop").unwrap();
    let runs = ["command-a-solo".to_string(), "coopy".to_string()];
    let clean_report = check_runs(&c, &runs);
    let coop_checks = ["coop_file_missing", "merge_missing", "no_messages"];
    assert!(
        !clean_report.problems.iter().any(|p| coop_checks.contains(&p.check.name())),
        "{:#?}",
        clean_report.problems
    );
    let dir = c.cb().join("logs/coopy/coop").join(PAIR);
    std::fs::remove_file(dir.join("agent2.patch")).unwrap();
    std::fs::remove_file(dir.join("agent1_traj.json")).unwrap();
    edit_json(&dir.join("eval.json"), |v| v["merge"] = serde_json::Value::Null);
    let other = c.cb().join("logs/coopy/coop/amber_task/1000/f1_f3");
    std::fs::write(other.join("conversation.json"), "[]").unwrap();
    let r = check_runs(&c, &runs);
    let missing = r.problems.iter().find(|p| p.check.name() == "coop_file_missing").expect("coop_file_missing");
    assert_eq!(missing.detail, "a coop pair without agent1_traj.json, agent2.patch", "{missing:?}");
    assert_eq!(missing.pair.as_deref(), Some(PAIR));
    assert!(has(&r, "merge_missing", &format!("{PAIR}/eval.json")), "{:#?}", r.problems);
    assert!(!r.ok);
    // The run's manifest does not say it could message: silence is not named.
    assert!(!has(&r, "no_messages", "f1_f3"), "{:#?}", r.problems);
    std::fs::write(
        c.cb().join("logs/coopy/harness-manifest.json"),
        serde_json::json!({"cooperbench_version": "0.0.29", "model": "command-a-03-2025", "agent": "mini_swe_agent_v2",
            "subset": "lite", "backend": "docker", "agent_config_sha256": null, "harness_version": "0.1.0",
            "setting": "coop", "messaging": true})
        .to_string(),
    )
    .unwrap();
    let r = check_runs(&c, &runs);
    let silent = r.problems.iter().find(|p| p.check.name() == "no_messages").expect("no_messages");
    assert_eq!(format!("{:?}", silent.severity), "Warning");
    assert!(silent.path.as_deref().unwrap_or("").ends_with("amber_task/1000/f1_f3/conversation.json"), "{silent:?}");
}

//! `cargo xtask verify` over generated trees: one clean lite-shaped tree,
//! one broken tree per failure, and a 10-seed tree. Each case snapshots the
//! readable report and the JSON report.

mod common;

use common::*;
use xtask::difficulty::EvalErrors;
use xtask::fixture::{self, LITE};
use xtask::verify;

const RUNS: [&str; 3] = ["command-a-solo", "command-a-solo-seed1", "command-a-solo-seed2"];
/// The first pair of the synthetic subset; most mutations hit it.
const PAIR: &str = "amber_task/1000/f1_f2";

fn clean() -> Checkout {
    let c = Checkout::new();
    fixture::solo_tree(&c.cb(), "lite", LITE, &RUNS).unwrap();
    c.write_experiment("");
    c
}

fn snapshot(name: &str, c: &Checkout) -> verify::Report {
    let runs: Vec<String> = RUNS.iter().map(|s| s.to_string()).collect();
    let report = verify::load_and_check(&c.cb(), "lite", &runs, EvalErrors::Exclude, false).unwrap();
    insta::assert_snapshot!(format!("{name}.txt"), verify::render_text(&report));
    insta::assert_json_snapshot!(format!("{name}.json"), report);
    report
}

fn has(report: &verify::Report, check: &str, path_part: &str) -> bool {
    report.problems.iter().any(|p| p.check == check && p.path.as_deref().unwrap_or("").contains(path_part))
}

#[test]
fn clean_three_seed_lite_tree() {
    let c = clean();
    let r = snapshot("clean", &c);
    assert!(r.ok, "{}", verify::render_text(&r));
    assert_eq!(r.subset.tasks, 26);
    assert_eq!(r.subset.pair_count, 100);
    assert!(r.runs.iter().all(|s| s.results == 100 && s.evals == 100));
    assert_eq!(r.difficulty.buckets.iter().sum::<usize>() + r.difficulty.undefined_pairs, 100);
    let out = c.xtask(&["verify", "--json"]).run().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
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
    assert!(has(&r, check, path_part), "{name}: no {check} at {path_part}:\n{}", verify::render_text(&r));
    let out = c.xtask(&["verify"]).run().unwrap();
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
        edit_json(&seed1(c).join("eval.json"), |v| v["evaluated_at"] = "2000-01-01T00:00:00".into());
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
    assert!(r.problems.iter().any(|p| p.check == "pair_sets_differ"));
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
    let report = verify::load_and_check(&c.cb(), "lite", &runs, EvalErrors::Exclude, false).unwrap();
    let logs: Vec<xtask::logs::RunLogs> = runs.iter().map(|r| xtask::logs::RunLogs::load(&c.cb(), r)).collect();
    let refs: Vec<&xtask::logs::RunLogs> = logs.iter().collect();
    let subset = xtask::subset::Subset::load(&c.cb(), "lite").unwrap();
    let per_pair = verify::pair_difficulties(&subset, &refs, EvalErrors::Exclude);
    let (_, _, d) = per_pair.iter().find(|(p, _, _)| p.to_string() == PAIR).unwrap();
    assert_eq!(d.fraction(), "1/10");
    assert_eq!(d.bucket(), Some(1), "9 passes of 10 must land in bucket 1, not 0");
    insta::assert_snapshot!("ten_seeds.txt", verify::render_text(&report));
    insta::assert_yaml_snapshot!("ten_seeds_difficulty", report.difficulty);
}

#[test]
fn usage_errors_exit_2() {
    let c = Checkout::new();
    c.write_experiment("");
    let out = c.xtask(&["verify"]).run().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("not a CooperBench checkout"), "{}", text(&out));
    fixture::write_dataset(&c.cb(), "lite", LITE).unwrap();
    let out = c.xtask(&["verify", "--subset", "nope"]).run().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("subset `nope` not found"), "{}", text(&out));
    let out = c.xtask(&["verify", "--no-such-flag"]).run().unwrap();
    assert_eq!(out.status.code(), Some(2));
    c.write_experiment("concurency = 3");
    let out = c.xtask(&["verify"]).run().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("unknown field `concurency`"), "{}", text(&out));
}

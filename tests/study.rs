//! A study of two models from one file (`[[arm]]` tables): difficulty is the
//! paper's, the mean over models of each model's failure rate over its own
//! seeds; verify and report say so, and report gives each model's figure.

mod common;

use common::*;
use xtask::support::fixture::{self, Shape};

const SHAPE: Shape = Shape { repos: 2, tasks: 5, pairs: 20 };
const A: &str = "command-a-03-2025";
const B: &str = "command-r-08-2024";

const STUDY: &str = r#"name = "two-models"
cooperbench_dir = "CooperBench"
subset = "lite"
allow_mixed = []

[[arm]]
name = "a-solo"
model = "command-a-03-2025"
agent = "mini_swe_agent_v2"
seeds = [1, 2, 3]
run_name = "a-s{seed}"

[[arm]]
name = "b-solo"
model = "command-r-08-2024"
agent = "mini_swe_agent_v2"
seeds = [1, 2]
run_name = "b-s{seed}"

[[arm]]
name = "a-coop"
setting = "coop"
model = "command-a-03-2025"
agent = "mini_swe_agent_v2"
messaging = false
runs = ["a-coop"]
"#;

fn two_models() -> Checkout {
    let c = from_template("study-two-models", |dir| {
        let cb = dir.join("CooperBench");
        fixture::write_dataset(&cb, "lite", SHAPE).unwrap();
        for r in ["a-s1", "a-s2", "a-s3"] {
            fixture::sim_run_model(&cb, r, "lite", "solo", A).unwrap();
        }
        for r in ["b-s1", "b-s2"] {
            fixture::sim_run_model(&cb, r, "lite", "solo", B).unwrap();
        }
        fixture::sim_run_model(&cb, "a-coop", "lite", "coop", A).unwrap();
        prune_template(&cb, true);
    });
    std::fs::write(c.experiment(), STUDY).unwrap();
    c
}

/// `pair -> passed` of one run, from outcomes.csv (both features passed).
fn passes(csv: &str, run: &str) -> std::collections::BTreeMap<String, Option<bool>> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no column {name}"));
    let (run_c, pair_c, class_c) = (col("run"), col("pair"), col("class"));
    lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f[run_c] == run)
        .map(|f| {
            let trial = match f[class_c] {
                "pass" => Some(true),
                "fail" | "limits" | "model_context" | "empty_patch" | "fail_no_tests" => Some(false),
                _ => None,
            };
            (f[pair_c].to_string(), trial)
        })
        .collect()
}

#[test]
fn difficulty_over_two_models_is_the_mean_of_their_means() {
    let c = two_models();
    let out = c.xtask(&["verify"]).ran();
    out.expect_code(0);
    let t = text(&out);
    assert!(
        t.contains("difficulty over 2 models: the mean of each model's failure rate over its own solo seeds"),
        "{t}"
    );
    assert!(t.contains("command-a-03-2025: 3 seed(s): a-s1, a-s2, a-s3"), "{t}");
    assert!(t.contains("command-r-08-2024: 2 seed(s): b-s1, b-s2"), "{t}");

    let dir = c.cb().join("../results");
    let out = c.xtask(&["report", "--out", dir.to_str().unwrap(), "--bootstrap", "200"]).ran();
    out.expect_code(0);
    for f in ["fig4-command-a-03-2025.svg", "fig4-command-r-08-2024.svg", "REPORT.md", "fig4.json"] {
        assert!(dir.join(f).is_file(), "{f} not written: {}", text(&out));
    }
    // The hand computation, from outcomes.csv: each model's failure rate
    // over its valid seeds, then their mean.
    let outcomes = std::fs::read_to_string(dir.join("outcomes.csv")).unwrap();
    let a: Vec<_> = ["a-s1", "a-s2", "a-s3"].iter().map(|r| passes(&outcomes, r)).collect();
    let b: Vec<_> = ["b-s1", "b-s2"].iter().map(|r| passes(&outcomes, r)).collect();
    let rate = |runs: &[std::collections::BTreeMap<String, Option<bool>>], pair: &str| -> Option<f64> {
        let t: Vec<bool> = runs.iter().filter_map(|r| r[pair]).collect();
        (!t.is_empty()).then(|| t.iter().filter(|ok| !**ok).count() as f64 / t.len() as f64)
    };
    let csv = std::fs::read_to_string(dir.join("difficulty.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let value_c = header.iter().position(|h| *h == "difficulty_value").unwrap();
    let mut checked = 0;
    let mut differs_from_pooling_trials = 0;
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        let pair = f[0];
        let want = match (rate(&a, pair), rate(&b, pair)) {
            (Some(x), Some(y)) => Some((x + y) / 2.0),
            (Some(x), None) | (None, Some(x)) => Some(x),
            (None, None) => None,
        };
        let got: Option<f64> = f[value_c].parse().ok();
        match (want, got) {
            (Some(w), Some(g)) => assert!((w - g).abs() < 1e-6, "{pair}: want {w}, got {g}"),
            (None, None) => {}
            other => panic!("{pair}: {other:?}"),
        }
        // Where the two rules part: all five trials pooled as one.
        let all: Vec<bool> = a.iter().chain(&b).filter_map(|r| r[pair]).collect();
        if let (Some(w), false) = (want, all.is_empty()) {
            let pooled = all.iter().filter(|ok| !**ok).count() as f64 / all.len() as f64;
            differs_from_pooling_trials += usize::from((pooled - w).abs() > 1e-9);
        }
        checked += 1;
    }
    assert_eq!(checked, 20);
    assert!(differs_from_pooling_trials > 0, "the data never tells the two rules apart: a weak test");

    let fig: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("fig4.json")).unwrap()).unwrap();
    let per = fig["per_model"].as_object().unwrap();
    assert_eq!(per.keys().collect::<Vec<_>>(), [A, B]);
    assert_eq!(per[A]["policy"]["difficulty_runs"], serde_json::json!(["a-s1", "a-s2", "a-s3"]));
    assert_eq!(per[A]["policy"]["coop_runs"], serde_json::json!(["a-coop"]));
    assert_eq!(per[B]["policy"]["coop_runs"], serde_json::json!([]));
    assert!(fig["policy"]["models"].as_str().unwrap().starts_with("difficulty over 2 models"));
    // The coop run is compared with its own model's seeds, not the pool's.
    assert_eq!(fig["paired_difference"]["a-coop"], per[A]["paired_difference"]["a-coop"]);
    assert_eq!(fig["paired_by_cluster"]["a-coop"], per[A]["paired_by_cluster"]["a-coop"]);
    let md = std::fs::read_to_string(dir.join("REPORT.md")).unwrap();
    let section = md.split("## Per model").nth(1).unwrap().split("\n## ").next().unwrap();
    insta::assert_snapshot!("per_model_section", section);
    assert!(md.contains("treat different models' runs as seeds of one experiment"), "{md}");
}

/// A coop arm's new seeds against its run made before: said before the
/// spend, as a coop arm's (it defines no difficulty).
#[test]
fn a_coop_arms_mismatch_is_said_as_a_coop_arms() {
    let c = two_models();
    std::fs::write(c.experiment(), STUDY.replace("runs = [\"a-coop\"]", "runs = [\"a-coop\"]\nseeds = [1]")).unwrap();
    let out = c
        .xtask(&["study", "--cooperbench-bin", SIM, "--dry-run", "--arm", "a-coop"])
        .env("COHERE_API_KEY", KEY)
        .stdin_null()
        .ran();
    out.expect_code(0);
    let t = text(&out);
    assert!(t.contains("this coop arm would hold runs of different cli_version: a-coop (unknown"), "{t}");
    assert!(!t.contains("difficulty pools"), "{t}");
}

#[test]
fn a_run_made_by_another_model_than_its_arm_is_named() {
    let c = two_models();
    // b-s2 listed in model A's arm.
    std::fs::write(
        c.experiment(),
        STUDY
            .replace(
                "seeds = [1, 2, 3]\nrun_name = \"a-s{seed}\"",
                "seeds = [1, 2, 3]\nrun_name = \"a-s{seed}\"\nruns = [\"b-s2\"]",
            )
            .replace("seeds = [1, 2]\n", "seeds = [1]\n"),
    )
    .unwrap();
    let out = c.xtask(&["verify"]).ran();
    out.expect_code(1);
    let t = text(&out);
    assert!(t.contains("FAIL arm_model in b-s2"), "{t}");
    assert!(t.contains("the arm of model \"command-a-03-2025\" names this run, but it was made with \"command-r-08-2024\" (from config.json)"), "{t}");
    let out = c.xtask(&["report", "--out", c.cb().join("../r").to_str().unwrap()]).ran();
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
}

/// `cargo xtask study` runs every arm in the file's order, each as `seeds`
/// runs one (canary, run, evals), a coop arm with the CLI's coop flags, then
/// verify over all: the simulator records the work.
#[test]
fn study_runs_every_arm_in_order_and_resumes_with_nothing_to_pay() {
    let c = from_template("study-empty", |dir| {
        fixture::write_dataset(&dir.join("CooperBench"), "lite", SHAPE).unwrap();
    });
    let file = STUDY
        .replace("seeds = [1, 2, 3]", "seeds = [1]")
        .replace("seeds = [1, 2]\nrun_name = \"b-s{seed}\"", "seeds = [1]\nrun_name = \"b-s{seed}\"")
        .replace("runs = [\"a-coop\"]", "seeds = [1]\nrun_name = \"a-coop-s{seed}\"");
    std::fs::write(c.experiment(), file).unwrap();
    let study = |args: &[&str]| {
        let mut all = vec!["study", "--cooperbench-bin", SIM];
        all.extend_from_slice(args);
        c.xtask(&all).env("COHERE_API_KEY", KEY).stdin_null()
    };
    let out = study(&["--dry-run"]).ran();
    out.expect_code(0);
    let t = text(&out);
    assert!(t.contains("study two-models (subset lite): 3 arm(s)"), "{t}");
    assert!(t.contains("a-coop: coop, no messaging, model command-a-03-2025"), "{t}");
    assert!(t.contains("a-coop-s1"), "{t}");
    assert!(t.contains("--setting coop --no-messaging"), "{t}");
    assert!(t.contains("-m command-r-08-2024"), "{t}");
    assert!(c.sim_record().is_empty(), "a dry run started something");

    let out = study(&["--yes"]).ran();
    let t = text(&out);
    out.expect_code(0);
    // In the file's order: a-solo, then b-solo, then the coop arm.
    let order: Vec<usize> = ["== arm a-solo", "== arm b-solo", "== arm a-coop"]
        .iter()
        .map(|h| t.find(h).unwrap_or_else(|| panic!("no {h}: {t}")))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{t}");
    for run in ["a-s1", "b-s1", "a-coop-s1"] {
        assert_eq!(count(&c, "run", run), 20, "{run}: {t}");
        assert_eq!(count(&c, "eval", run), 20, "{run}: {t}");
    }
    assert!(c.cb().join("logs/a-coop-s1/coop").is_dir(), "the coop arm made no coop run: {t}");
    assert!(t.contains("difficulty over 2 models"), "{t}");
    assert!(t.contains("verify: OK"), "{t}");

    // Again: every arm is done, nothing is paid again.
    let before = c.sim_record().len();
    let out = study(&["--yes"]).ran();
    out.expect_code(0);
    assert_eq!(c.sim_record().len(), before, "{}", text(&out));
}

fn count(c: &Checkout, kind: &str, run: &str) -> usize {
    // The canary's pair is a line of its own: count distinct pairs.
    let mut pairs = c.sim_work(kind, run);
    pairs.sort();
    pairs.dedup();
    pairs.len()
}

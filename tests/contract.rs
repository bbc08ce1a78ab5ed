//! The harness against the real cooperbench CLI (0.0.29, installed by
//! `cargo xtask install-cooperbench`), with no model and no task image
//! reachable; and the simulator, given the same scenario, writing the same
//! files with the same JSON keys.
//!
//! The real CLI is found at $COOPERBENCH_REAL_BIN, else in
//! target/cooperbench-venv, where the test installs the pinned one when it
//! is missing. The test is `#[ignore]`d so that a plain `cargo test` reports
//! it as ignored, never as passed; `.ci/run` (and the README's test command)
//! pass `--include-ignored`, and then a CLI that cannot be installed is a
//! failure.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::*;

const PAIR: &str = "amber_task/1000/f1_f2";

/// The real CLI: $COOPERBENCH_REAL_BIN, else the pinned one in
/// target/cooperbench-venv, installed there first when missing (once per
/// process; `install-cooperbench` locks the folder against a parallel one).
fn real_cli() -> PathBuf {
    if let Some(path) = std::env::var_os("COOPERBENCH_REAL_BIN").map(PathBuf::from) {
        assert!(path.is_file(), "COOPERBENCH_REAL_BIN={} is not a file", path.display());
        return path;
    }
    static INSTALLED: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/cooperbench-venv");
            let out = duct::cmd(XTASK, ["install-cooperbench", "--venv", venv.to_str().unwrap()])
                .stdin_null()
                .stderr_to_stdout()
                .stdout_capture()
                .unchecked()
                .ran();
            out.expect_code(0);
            venv.join("bin/cooperbench")
        })
        .clone()
}

fn seeds(c: &Checkout, bin: &Path, args: &[&str]) -> common::Ran {
    let mut all = vec!["seeds", "--cooperbench-bin", bin.to_str().unwrap(), "--yes"];
    all.extend_from_slice(args);
    c.xtask(&all).env("COHERE_API_KEY", "not-a-real-key-for-the-contract-test").stdin_null().ran()
}

fn results_in(c: &Checkout, run: &str) -> usize {
    let pattern = format!("{}/logs/{run}/solo/*/*/*/result.json", c.cb().display());
    glob::glob(&pattern).unwrap().count()
}

/// Every key path of a JSON document: `agent.status`, `feature1.passed`, ...
fn keys(path: &Path) -> BTreeSet<String> {
    fn walk(v: &serde_json::Value, prefix: &str, out: &mut BTreeSet<String>) {
        if let Some(map) = v.as_object() {
            for (k, v) in map {
                let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                out.insert(p.clone());
                walk(v, &p, out);
            }
        }
    }
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut out = BTreeSet::new();
    walk(&v, "", &mut out);
    out
}

fn files(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect()
}

/// Runs the scenario with `bin`: the two canaries, then an eval of seed 2
/// with one tests.patch removed, so that the CLI writes an eval.json.
fn scenario(bin: &Path) -> (Checkout, common::Ran, common::Ran) {
    let c = Checkout::with_baseline("");
    let bad_agent = seeds(&c, bin, &["--seeds", "1", "--agent", "mini_swe_agent", "--no-agent-check"]);
    let no_model = seeds(&c, bin, &["--seeds", "2"]);
    std::fs::remove_file(c.cb().join("dataset/amber_task/task1000/feature1/tests.patch")).unwrap();
    let eval = duct::cmd(bin, ["eval", "-n", "command-a-solo-seed2", "-s", "lite", "--backend", "docker", "-c", "1"])
        .dir(c.cb())
        .env("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .ran();
    assert!(eval.status.success(), "{}", text(&eval));
    (c, bad_agent, no_model)
}

#[test]
#[ignore = "needs the real cooperbench CLI: run with --include-ignored, as .ci/run does"]
fn real_cli_meets_the_harness_and_the_simulator_matches_it() {
    let real = real_cli();
    let (c, bad_agent, no_model) = scenario(&real);

    // (a) the old agent name: the canary stops with the CLI's own message.
    bad_agent.expect_code(1);
    assert!(text(&bad_agent).contains("ended Error: Unknown agent: 'mini_swe_agent'"), "{}", text(&bad_agent));
    assert_eq!(results_in(&c, "command-a-solo-seed1"), 1, "more than one pair attempted");

    // (b) no model and no image: the canary stops with the CLI's error.
    no_model.expect_code(1);
    let written: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(c.cb().join("logs/command-a-solo-seed2/solo").join(PAIR).join("result.json")).unwrap(),
    )
    .unwrap();
    let cli_error = written["agent"]["error"].as_str().unwrap().to_string();
    assert!(!cli_error.is_empty());
    assert!(text(&no_model).contains(&format!("ended Error: {cli_error}")), "{}", text(&no_model));
    assert_eq!(results_in(&c, "command-a-solo-seed2"), 1, "more than one pair attempted");

    // (b1) the oracle's result.json has exactly the keys of the one the real
    // CLI wrote (`cargo xtask oracle` writes it in place of an agent's).
    let real_keys = keys(&c.cb().join("logs/command-a-solo-seed2/solo").join(PAIR).join("result.json"));
    let t0 = xtask::study::timestamp::Timestamp::parse("2026-12-04T10:00:00.000001").unwrap();
    let oracle = xtask::study::oracle::result_json(
        &xtask::study::pair::PairId::new("amber_task", 1000, 1, 2),
        "command-a-solo-oracle",
        "logs/x",
        t0,
        t0.plus_micros(5),
        "",
    );
    let oracle_file = c.tmp.path().join("oracle-result.json");
    std::fs::write(&oracle_file, oracle.to_string()).unwrap();
    assert_eq!(keys(&oracle_file), real_keys, "the oracle's result.json differs from the real CLI's in its keys");

    // (c) verify reads every file the real CLI wrote without a parse problem.
    let out = c.xtask(&["verify", "--json", "--runs", "command-a-solo-seed1,command-a-solo-seed2"]).ran();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let parse_checks = [
        "unreadable_result",
        "unreadable_eval",
        "eval_summary_unreadable",
        "mismatched_result",
        "mismatched_eval",
        "provenance",
    ];
    for p in report["problems"].as_array().unwrap() {
        assert!(!parse_checks.contains(&p["check"].as_str().unwrap()), "parse problem on a real file: {p}");
    }
    assert_eq!(report["runs"][1]["evals"], 1, "the real eval.json was not read");
    assert_eq!(report["runs"][1]["eval_errors"], 1);

    // (c1) the seed manifest records the real package's version (the CLI
    // has no --version; the harness asks its Python package).
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(c.cb().join("logs/command-a-solo-seed2/harness-manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["cooperbench_version"], "0.0.29", "{manifest}");

    // (c2) the two seeds were made with two agents (the old name, then
    // mini_swe_agent_v2): report refuses to pool them, naming the field;
    // allowed, it turns the real files into outcomes.csv rows as they are.
    let out_dir = c.tmp.path().join("report");
    let runs = ["report", "--runs", "command-a-solo-seed1,command-a-solo-seed2", "--bootstrap", "20"];
    let out = c.xtask(&[&runs[..], &["--out", out_dir.to_str().unwrap()]].concat()).ran();
    out.expect_code(2);
    assert!(
        text(&out)
            .contains("difficulty pools runs of different agent: command-a-solo-seed1 (mini_swe_agent, from manifest)"),
        "{}",
        text(&out)
    );
    let exp = std::fs::read_to_string(c.experiment()).unwrap();
    std::fs::write(
        c.experiment(),
        exp.replace("allow_mixed = [\"cli_version\"", "allow_mixed = [\"agent\", \"cli_version\""),
    )
    .unwrap();
    let out = c.xtask(&[&runs[..], &["--out", out_dir.to_str().unwrap()]].concat()).ran();
    out.expect_code(0);
    let outcomes = std::fs::read_to_string(out_dir.join("outcomes.csv")).unwrap();
    assert!(outcomes.contains(&format!("\ncommand-a-solo-seed1,solo,{PAIR},Error,")), "{outcomes}");
    assert!(outcomes.contains(&format!("\ncommand-a-solo-seed2,solo,{PAIR},Error,error,false,")), "{outcomes}");

    // (d) the simulator, same scenario: same files, same keys.
    let sim = Path::new(SIM);
    let (s, sim_bad, sim_no_model) = scenario(sim);
    sim_bad.expect_code(1);
    assert_eq!(sim_no_model.status.code(), Some(0), "the simulator has a model; its canary passes");
    for run in ["command-a-solo-seed1", "command-a-solo-seed2"] {
        let (r, m) = (c.cb().join("logs").join(run), s.cb().join("logs").join(run));
        let run_files =
            |d: &Path| -> BTreeSet<String> { files(d).into_iter().filter(|f| f.ends_with(".json")).collect() };
        if run == "command-a-solo-seed1" {
            assert_eq!(run_files(&r), run_files(&m), "{run}: run-level files differ");
        }
        for f in ["config.json", "summary.json"] {
            assert_eq!(keys(&r.join(f)), keys(&m.join(f)), "{run}/{f}: keys differ");
        }
        let (rp, mp) = (r.join("solo").join(PAIR), m.join("solo").join(PAIR));
        assert_eq!(files(&rp), files(&mp), "{run}/{PAIR}: files differ");
        for f in files(&rp).iter().filter(|f| f.ends_with(".json") && !f.contains("traj")) {
            assert_eq!(keys(&rp.join(f)), keys(&mp.join(f)), "{run}/{PAIR}/{f}: keys differ");
        }
    }
    let real_summary = keys(&c.cb().join("logs/command-a-solo-seed2/eval_summary.json"));
    for f in ["eval_summary.json", "eval_summary.json.cli-last"] {
        // The simulator's own, and the one the harness rewrote from it.
        assert_eq!(real_summary, keys(&s.cb().join("logs/command-a-solo-seed2").join(f)), "{f}: keys differ");
    }
}

/// `cooperbench run` for the one pair [`PAIR`] of seed 1.
fn run_one_pair(c: &Checkout, bin: &Path) -> common::Ran {
    let args = [
        "run",
        "-n",
        SEED1,
        "-m",
        "command-a-03-2025",
        "-a",
        "mini_swe_agent_v2",
        "-s",
        "lite",
        "--setting",
        "solo",
        "--backend",
        "docker",
        "-r",
        "amber_task",
        "-t",
        "1000",
        "-f",
        "1,2",
        "-c",
        "1",
        "--no-auto-eval",
    ];
    duct::cmd(bin, args)
        .dir(c.cb())
        .env("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        .env("COHERE_API_KEY", "not-a-real-key-for-the-contract-test")
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .ran()
}

/// A result.json with `NaN` in it is JSON to Python: the real CLI reads it
/// and skips the pair (so the harness must never move it aside and pay for
/// the pair again), and the simulator does the same. Both then end in a
/// traceback (0.0.29 prints its time totals with `int()`), after writing
/// summary.json: the exit code says nothing about the work, again.
#[test]
#[ignore = "needs the real cooperbench CLI: run with --include-ignored, as .ci/run does"]
fn a_nan_result_is_read_and_skipped_by_the_real_cli_and_the_simulator() {
    let real = real_cli();
    for bin in [real.as_path(), Path::new(SIM)] {
        let c = Checkout::with_baseline("");
        let (from, to) = (c.pair_dir("command-a-solo", PAIR), c.pair_dir(SEED1, PAIR));
        std::fs::create_dir_all(&to).unwrap();
        let original = std::fs::read_to_string(from.join("result.json")).unwrap();
        let mut v: serde_json::Value = serde_json::from_str(&original).unwrap();
        v["run_name"] = SEED1.into();
        v["duration_seconds"] = "__NAN__".into();
        let nan = serde_json::to_string_pretty(&v).unwrap().replace("\"__NAN__\"", "NaN");
        std::fs::write(to.join("result.json"), &nan).unwrap();

        let out = run_one_pair(&c, bin);
        assert_eq!(out.status.code(), Some(1), "{}: {}", bin.display(), text(&out));
        assert!(
            text(&out).contains("ValueError: cannot convert float NaN to integer"),
            "{}: {}",
            bin.display(),
            text(&out)
        );
        let after = std::fs::read_to_string(to.join("result.json")).unwrap();
        assert_eq!(after, nan, "{}: the pair was run again ({})", bin.display(), text(&out));
        let summary: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(c.cb().join("logs").join(SEED1).join("summary.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(
            (summary["skipped"].as_u64(), summary["failed"].as_u64()),
            (Some(1), Some(0)),
            "{}: {summary}",
            bin.display()
        );
    }
}

/// The harness's rule for "Python's json reads this file" (the only files
/// it may quarantine are those it says no to), against the CLI's own Python.
#[test]
#[ignore = "needs the real cooperbench CLI's Python: run with --include-ignored, as .ci/run does"]
fn python_reads_agrees_with_the_clis_python() {
    let python = real_cli().with_file_name("python");
    let tmp = tempfile::tempdir().unwrap();
    let samples: [&[u8]; 16] = [
        b"{}",
        b"{\"a\": NaN}",
        b"{\"a\": -Infinity, \"b\": [Infinity]}",
        b"{\"a\": nan}",
        b"{\"a\": 1e999}",
        b"{\"a\": 1",
        b"{\"a\": 1,}",
        b"{'a': 1}",
        b"",
        b"\xef\xbb\xbf{}",
        b"\xff{}",
        b"[1, 2]",
        b"{\"s\": \"NaN\\\"\"}",
        b"{\"a\": 01}",
        b"{\"a\": 1} trailing",
        b" {\"a\": \"\\u00e9\"}\n",
    ];
    for (i, bytes) in samples.iter().enumerate() {
        let f = tmp.path().join(format!("{i}.json"));
        std::fs::write(&f, bytes).unwrap();
        let py = duct::cmd!(&python, "-c", "import json,sys; json.load(open(sys.argv[1], encoding='utf-8'))", &f)
            .stdout_null()
            .stderr_null()
            .unchecked()
            .ran()
            .status
            .success();
        assert_eq!(xtask::study::json::python_reads(bytes), py, "sample {:?}", String::from_utf8_lossy(bytes));
    }
}

/// Every string `study::class` matches is where its citation says, in the
/// installed 0.0.29 tree (the CLI's package and litellm, its dependency).
#[test]
#[ignore = "needs the real cooperbench CLI's installed source: run with --include-ignored, as .ci/run does"]
fn every_failure_string_is_where_its_citation_says() {
    let venv = real_cli().parent().unwrap().parent().unwrap().to_path_buf();
    let pattern = format!("{}/lib/python3*/site-packages", venv.display());
    let site = glob::glob(&pattern).unwrap().flatten().next().expect("the venv's site-packages");
    let version = std::fs::read_to_string(site.join("cooperbench/__about__.py")).unwrap_or_default();
    assert!(version.contains("0.0.29"), "the strings are cited from 0.0.29: {version}");
    for c in xtask::study::class::citations() {
        let file = site.join(c.file);
        let source = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(source.contains(c.text), "{:?} is not in {}", c.text, c.file);
    }
}

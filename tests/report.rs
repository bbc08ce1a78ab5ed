//! `cargo xtask report`: hand-worked numbers on a four-pair tree, snapshots
//! of the four files on a lite-shaped tree with three solo seeds and two coop
//! runs, and byte-identical output from run to run.

mod common;

use common::*;
use xtask::commands::report::{self, Study};
use xtask::study::analysis::Options;
use xtask::study::fig4::DifficultyMode;
use xtask::study::run::RunLogs;
use xtask::support::fixture::{self, Shape, LITE};

const SOLO: [&str; 3] = ["command-a-solo", "command-a-solo-seed1", "command-a-solo-seed2"];
const COOP: [&str; 2] = ["command-a-coop-comm", "command-a-coop-nocomm"];

fn study(c: &Checkout) -> Study {
    study_with(c, Options::default())
}

fn in_sample() -> Options {
    Options { difficulty: DifficultyMode::InSample, ..Options::default() }
}

fn study_with(c: &Checkout, options: Options) -> Study {
    Study {
        name: "test".into(),
        subset: xtask::edges::layout::load_subset(&c.cb(), "lite").unwrap(),
        solo: SOLO.iter().map(|r| RunLogs::load(&c.cb(), r)).collect(),
        coop: COOP.iter().map(|r| RunLogs::load(&c.cb(), r)).collect(),
        solo_curve: SOLO.iter().map(|s| s.to_string()).collect(),
        options,
        excluded: None,
        pairs_note: None,
        allow_mixed: Vec::new(),
        models: Default::default(),
        stories: Default::default(),
        logs_link: None,
        secrets: Default::default(),
    }
}

fn lite_with_coop() -> Checkout {
    let c = from_template("report-lite-with-coop", |dir| {
        let cb = dir.join("CooperBench");
        solo_and_coop_runs(&cb, LITE);
        prune_template(&cb, true);
    });
    c.write_experiment(r#"coop_runs = ["command-a-coop-comm", "command-a-coop-nocomm"]"#);
    c
}

/// A `lite` subset of `shape` in `cb`, the three solo seeds and the two
/// coop runs made by the simulator.
fn solo_and_coop_runs(cb: &std::path::Path, shape: Shape) {
    fixture::solo_tree(cb, "lite", shape, &SOLO).unwrap();
    for run in COOP {
        fixture::sim_run(cb, run, "lite", "coop").unwrap();
    }
}

/// Sets one run's outcome for one pair: "pass", "fail", "limits", "error"
/// (the eval's) or "infra" (the provider failed the agent: infra_provider).
fn set(c: &Checkout, run: &str, setting: &str, pair: &str, outcome: &str) {
    let dir = c.cb().join("logs").join(run).join(setting).join(pair);
    edit_json(&dir.join("result.json"), |v| {
        let status = match outcome {
            "limits" => "LimitsExceeded",
            "infra" => "Error",
            _ => "Submitted",
        };
        let agent = if setting == "solo" { &mut v["agent"] } else { &mut v["agents"]["agent1"] };
        agent["status"] = status.into();
        if outcome == "infra" {
            agent["error"] = "litellm.RateLimitError: RateLimitError: OpenAIException - 429 Too Many Requests".into();
        }
        if setting != "solo" {
            v["agents"]["agent2"]["status"] = "Submitted".into();
        }
    });
    edit_json(&dir.join("eval.json"), |v| {
        v["both_passed"] = (outcome == "pass").into();
        v["error"] = if outcome == "error" { "Failed to write solo.patch".into() } else { serde_json::Value::Null };
    });
}

/// Four pairs, three solo seeds, two coop runs, outcomes set by hand.
fn four_pairs() -> Checkout {
    let c = Checkout::new();
    solo_and_coop_runs(&c.cb(), Shape { repos: 1, tasks: 2, pairs: 4 });
    let pairs = ["amber_task/1000/f1_f2", "amber_task/1000/f1_f3", "amber_task/1037/f1_f2", "amber_task/1037/f1_f3"];
    // Solo seeds: d = 0, 1/3, 2/3, and 1 (fail, limits, eval error left out).
    let solo =
        [["pass", "pass", "pass"], ["pass", "pass", "fail"], ["pass", "fail", "fail"], ["fail", "limits", "error"]];
    for (pair, outcomes) in pairs.iter().zip(solo) {
        for (run, o) in SOLO.iter().zip(outcomes) {
            set(&c, run, "solo", pair, o);
        }
    }
    let coop = [["pass", "pass"], ["pass", "fail"], ["pass", "fail"], ["fail", "fail"]];
    for (pair, outcomes) in pairs.iter().zip(coop) {
        for (run, o) in COOP.iter().zip(outcomes) {
            set(&c, run, "coop", pair, o);
        }
    }
    c
}

#[test]
fn in_sample_numbers_agree_with_a_hand_calculation() {
    let c = four_pairs();
    let r = report::render(&study_with(&c, in_sample())).unwrap();
    let (csv, md) = (r.difficulty_csv, r.report_md);
    let fig: serde_json::Value = serde_json::from_str(&r.fig4_json).unwrap();
    let b = |i: usize, s: &str, k: &str| fig["buckets"][i]["settings"][s][k].clone();
    assert_eq!(fig["difficulty_mode"], "in-sample");
    // Buckets 0, 3, 6, 9 hold one pair each.
    let pops: Vec<u64> = (0..10).map(|i| fig["buckets"][i]["pairs"].as_u64().unwrap()).collect();
    assert_eq!(pops, [1, 0, 0, 1, 0, 0, 1, 0, 0, 1]);
    // Solo: 3/3, 2/3, 1/3, 0/2 (the eval error is not a trial).
    assert_eq!((b(0, "solo", "successes"), b(0, "solo", "trials")), (3.into(), 3.into()));
    assert_eq!((b(3, "solo", "successes"), b(3, "solo", "trials")), (2.into(), 3.into()));
    assert_eq!((b(6, "solo", "successes"), b(6, "solo", "trials")), (1.into(), 3.into()));
    assert_eq!((b(9, "solo", "successes"), b(9, "solo", "trials")), (0.into(), 2.into()));
    assert_eq!(b(9, "solo", "wilson_upper"), serde_json::json!(0.657628));
    assert_eq!(b(5, "solo", "rate"), serde_json::Value::Null);
    assert_eq!((b(5, "solo", "ci_lower"), b(5, "solo", "ci_upper")), (0.0.into(), 1.0.into()));
    assert_eq!(fig["auc_grid"], serde_json::json!([0, 3, 6, 9]));
    // AUC solo = 0.3*(1+2/3)/2 + 0.3*(2/3+1/3)/2 + 0.3*(1/3+0)/2 = 0.45
    assert_eq!(fig["auc"]["solo"], serde_json::json!(0.45));
    // comm: 1, 1, 1, 0 -> 0.3 + 0.3 + 0.15 = 0.75; retention 0.75/0.45
    assert_eq!(fig["auc"]["command-a-coop-comm"], serde_json::json!(0.75));
    assert_eq!(fig["retention"]["command-a-coop-comm"], serde_json::json!(1.666667));
    // nocomm: 1, 0, 0, 0 -> 0.15; retention 1/3
    assert_eq!(fig["auc"]["command-a-coop-nocomm"], serde_json::json!(0.15));
    assert_eq!(fig["retention"]["command-a-coop-nocomm"], serde_json::json!(0.333333));
    assert_eq!(fig["policy"]["eval_errors_left_out"], 1);
    assert!(csv.contains("amber_task/1037/f1_f3,2,0,1/1,1.000000,9,fail,limits,eval_infra\n"), "{csv}");
    // Three seeds reach buckets 0, 3, 6, 9; the pair with two valid seeds
    // could also have reached 5: only that one is worth a warning.
    assert_eq!(fig["reachable_buckets"], serde_json::json!([0, 3, 5, 6, 9]));
    assert!(md.contains("4 of the 5 buckets these seeds can reach are populated; empty: 5"), "{md}");
    // 0/2 and 3/3 are no spread for the bootstrap: Clopper-Pearson.
    assert_eq!(b(9, "solo", "ci_method"), "clopper-pearson");
    assert_eq!((b(9, "solo", "ci_lower"), b(0, "solo", "ci_upper")), (0.0.into(), 1.0.into()));
    // 2/3 on one pair: replicates without that pair leave it undefined,
    // and two successes are few: Clopper-Pearson, which needs no replicate.
    assert_eq!(b(3, "solo", "ci_method"), "clopper-pearson");
    assert!(md.contains("the solo curve is drawn by the seeds that define difficulty"), "{md}");
    assert!(md.contains("![Figure 4"));
    svg_has_one_curve_per_setting(&r.fig4_svg, 3);
}

#[test]
fn held_out_numbers_agree_with_a_hand_calculation() {
    let c = four_pairs();
    let r = report::render(&study(&c)).unwrap();
    let fig: serde_json::Value = serde_json::from_str(&r.fig4_json).unwrap();
    let b = |i: usize, s: &str, k: &str| fig["buckets"][i]["settings"][s][k].clone();
    assert_eq!(fig["difficulty_mode"], "held-out");
    // Each seed sits at the difficulty of the other two:
    //   pair 1 (P P P): three passes at 0            -> bucket 0: 3/3
    //   pair 2 (P P F): passes at 1/2, the fail at 0 -> bucket 5: 2/2, bucket 0: 0/1
    //   pair 3 (P F F): the pass at 1, fails at 1/2  -> bucket 9: 1/1, bucket 5: 0/2
    //   pair 4 (F L e): both fails at 1/1            -> bucket 9: 0/2
    assert_eq!((b(0, "solo", "successes"), b(0, "solo", "trials")), (3.into(), 4.into()));
    assert_eq!((b(5, "solo", "successes"), b(5, "solo", "trials")), (2.into(), 4.into()));
    assert_eq!((b(9, "solo", "successes"), b(9, "solo", "trials")), (1.into(), 3.into()));
    let pops: Vec<u64> = (0..10).map(|i| fig["buckets"][i]["pairs"].as_u64().unwrap()).collect();
    assert_eq!(pops, [2, 0, 0, 0, 0, 2, 0, 0, 0, 2]);
    // Coop trials weigh 1/3 at each held-out difficulty. comm (P P P F):
    // bucket 0: 1 + 1/3 of 4/3; bucket 5: 4/3 of 4/3; bucket 9: 1/3 of 4/3.
    assert_eq!(b(0, "command-a-coop-comm", "rate"), serde_json::json!(1.0));
    assert_eq!(b(5, "command-a-coop-comm", "trials"), serde_json::json!(1.333333));
    assert_eq!(b(9, "command-a-coop-comm", "rate"), serde_json::json!(0.25));
    // nocomm (P F F F): 1 of 4/3 at bucket 0, nothing passes elsewhere.
    assert_eq!(b(0, "command-a-coop-nocomm", "rate"), serde_json::json!(0.75));
    assert_eq!(b(5, "command-a-coop-nocomm", "rate"), serde_json::json!(0.0));
    // Weighted coop cells get no Wilson interval (4/3 is no number of
    // independent trials); solo cells, whole trials, keep the paper's.
    assert!(b(0, "command-a-coop-comm", "wilson_lower").is_null());
    assert!(b(0, "solo", "wilson_lower").is_number());
    assert!(r.report_md.contains("(Wilson n/a: weighted trials)"), "{}", r.report_md);
    assert_eq!(fig["auc_grid"], serde_json::json!([0, 5, 9]));
    // Solo 0.75, 0.5, 1/3 at 0.05, 0.55, 0.95: 0.5*1.25/2 + 0.4*(5/6)/2.
    assert_eq!(fig["auc"]["solo"], serde_json::json!(0.479167));
    // comm 1, 1, 0.25: 0.5 + 0.25 = 0.75; nocomm 0.75, 0, 0: 0.1875.
    assert_eq!(fig["auc"]["command-a-coop-comm"], serde_json::json!(0.75));
    // 0.75 / 0.479167 (retention divides the AUCs as printed).
    assert_eq!(fig["retention"]["command-a-coop-comm"], serde_json::json!(1.565216));
    assert_eq!(fig["auc"]["command-a-coop-nocomm"], serde_json::json!(0.1875));
    // Paired: comm 0, +1/3, +2/3, 0 -> 0.25; nocomm 0, -2/3, -1/3, 0 -> -0.25,
    // solo alone passing on pairs 2 and 3.
    let p = &fig["paired_difference"];
    assert_eq!(p["command-a-coop-comm"]["mean"], serde_json::json!(0.25));
    assert_eq!(p["command-a-coop-nocomm"]["mean"], serde_json::json!(-0.25));
    // Per seed: solo alone passes on pair 2 for 2 of 3 seeds and on pair 3
    // for 1 of 3: one pair in all (not two: K seeds are not K chances).
    assert_eq!(p["command-a-coop-nocomm"]["solo_only"], serde_json::json!(1.0));
    assert_eq!(p["command-a-coop-nocomm"]["coop_only"], serde_json::json!(0.0));
    // Both clusterings side by side, each with its p-value and detectable
    // size, unless its interval is withheld: then none, and the reason (by
    // task: two tasks, where a percentile bootstrap is anti-conservative).
    let b = &fig["paired_by_cluster"]["command-a-coop-nocomm"]["pair"];
    assert!(b["p_value"].is_number() && b["mde_80"].is_number(), "pair: {b}");
    let b = &fig["paired_by_cluster"]["command-a-coop-nocomm"]["task"];
    assert!(b["p_value"].is_null() && b["mde_80"].is_null() && b["se"].is_null(), "task: {b}");
    assert!(
        b["ci_withheld"].as_str().unwrap().contains("a percentile bootstrap over 2 tasks is anti-conservative"),
        "{b}"
    );
    assert_eq!(p["command-a-coop-nocomm"]["pairs"], 4);
    // nocomm's coop passes only where solo is 1 (solo rates 1, 2/3, 1/3,
    // 0; coop 1, 0, 0, 0): mean rate 1/2, coop 1/4; sxy = 0.375 + 0.125,
    // sxx = 5/9, syy = 3/4: r = 0.5 / sqrt(5/12) = 0.774597.
    assert_eq!(p["command-a-coop-nocomm"]["solo_rate_correlation"], serde_json::json!(0.774597));
    // The exact test: pair 1 passes coop surely (4 of 4), pair 2 with
    // chance 2/4, pair 3 1/4, pair 4 never: P(1 pass) = 0.375, and only
    // 3 passes (0.125) is as unlikely: p = 0.5.
    assert_eq!(p["command-a-coop-nocomm"]["exact_p_value"], serde_json::json!(0.5));
    // One eval error was left out: the figure shows what counting it as a
    // failure would change (here only the solo rate: 6 of 12, not 11).
    let sens = &fig["eval_error_sensitivity"];
    assert_eq!(sens["eval_errors"], "fail", "{sens}");
    assert_eq!(
        (sens["solo_curve_rate"]["successes"].as_u64(), sens["solo_curve_rate"]["trials"].as_u64()),
        (Some(6), Some(12))
    );
    assert_eq!(sens["paired_difference"]["command-a-coop-nocomm"]["mean"], serde_json::json!(-0.25));
    assert!(r.report_md.contains("1 trial(s) were left out for eval errors. With every eval error a failure instead (`--eval-errors fail`), the solo-curve rate is 6/12 = 0.500"), "{}", r.report_md);
    // Noise: pairs 2 and 3 of 4 flip; pass@1 = mean(1, 2/3, 1/3, 0).
    assert_eq!(fig["noise"]["flip_rate"], serde_json::json!(0.5));
    assert_eq!(fig["pass_at_k"]["1"], serde_json::json!(0.5));
    assert_eq!(fig["per_repo"][0]["pairs"], 4);
    assert_eq!(fig["per_repo"][0]["solo"]["successes"], 6);
    let warnings: Vec<&str> = fig["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    assert!(warnings.contains(&"command-a-coop-comm: retention 1.565 is outside [0, 1.5]"), "{warnings:?}");
    assert!(warnings.iter().any(|w| w.starts_with("bucket 0 holds 2 pair(s)")), "{warnings:?}");
    // Six passes in eleven trials: at floor, so REPORT.md gives no AUC.
    assert!(r.report_md.contains("At floor: 6 solo passes in 11 trials"), "{}", r.report_md);
    assert!(r.report_md.contains("AUC and retention carry no information and are not given here"));
    // The intervals come from a fixed seed: the same bytes twice, others for another seed.
    assert_eq!(report::render(&study(&c)).unwrap().fig4_json, r.fig4_json);
    let other = Options {
        bootstrap: xtask::study::fig4::Bootstrap { seed: 1, ..Options::default().bootstrap },
        ..Options::default()
    };
    assert_ne!(report::render(&study_with(&c, other)).unwrap().fig4_json, r.fig4_json);
}

/// The SVG parses as XML and has one coloured data line per setting.
fn svg_has_one_curve_per_setting(svg: &str, settings: usize) {
    let doc = roxmltree::Document::parse(svg).expect("fig4.svg is not XML");
    let mut colours: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .filter(|n| n.attribute("stroke-width") == Some("2"))
        .filter(|n| n.attribute("points").is_some_and(|p| p.split_whitespace().count() >= 2))
        .filter_map(|n| n.attribute("stroke"))
        .collect();
    // Each setting draws its curve and its legend line in one colour.
    colours.sort();
    colours.dedup();
    assert_eq!(colours.len(), settings, "{colours:?}");
    let text: String = doc.descendants().filter(|n| n.is_text()).filter_map(|n| n.text()).collect();
    assert!(text.contains("pair difficulty") && text.contains("success rate"), "axes unlabelled");
}

/// fig4.json as a reviewer reads it (see `common::review`).
fn review_json(text: &str) -> String {
    common::review(&serde_json::from_str(text).unwrap())
}

#[test]
fn lite_tree_with_two_coop_runs_snapshots() {
    let c = lite_with_coop();
    let r = report::render(&study(&c)).unwrap();
    insta::assert_snapshot!("difficulty.csv", r.difficulty_csv);
    insta::assert_snapshot!("fig4.json", review_json(&r.fig4_json));
    insta::assert_snapshot!("REPORT.md", r.report_md);
    svg_has_one_curve_per_setting(&r.fig4_svg, 3);
    // The paper's numbers stand in their own labelled section, and never in
    // the data (fig4.json) nor in our own sections.
    let reference = r.report_md.find("## Reference: the paper's Table 5 (not our data)").expect("no reference section");
    let after = &r.report_md[reference..];
    let end = after[3..].find("\n## ").map_or(after.len(), |i| i + 3);
    assert!(after[..end].contains("| pooled over the five | 0.338 | 0.200 | 0.59 |"), "{}", &after[..end]);
    assert!(!r.fig4_json.contains("0.338") && !r.report_md[..reference].contains("0.338"));
    // The paper's construction, pinned too, so a change to it shows in
    // review: as what it changes against the held-out figure above.
    let held_out = review_json(&r.fig4_json);
    let r = report::render(&study_with(&c, in_sample())).unwrap();
    let diff = similar::TextDiff::from_lines(&held_out, &review_json(&r.fig4_json))
        .unified_diff()
        .context_radius(1)
        .header("held-out", "in-sample")
        .to_string();
    insta::assert_snapshot!("fig4_in_sample.diff", diff);
}

#[test]
fn report_command_writes_identical_bytes_twice() {
    let c = lite_with_coop();
    let (a, b) = (c.tmp.path().join("a"), c.tmp.path().join("b"));
    for out in [&a, &b] {
        let o = c.xtask(&["report", "--out", out.to_str().unwrap()]).ran();
        o.expect_code(0);
    }
    for f in report::FILES {
        let (x, y) = (std::fs::read(a.join(f)).unwrap(), std::fs::read(b.join(f)).unwrap());
        assert!(!x.is_empty(), "{f} is empty");
        assert_eq!(x, y, "{f} differs between two runs");
    }
    let fig: serde_json::Value = serde_json::from_slice(&std::fs::read(a.join("fig4.json")).unwrap()).unwrap();
    for key in ["policy", "buckets", "auc", "retention", "difficulty_mode", "auc_grid", "auc_ci", "retention_ci"] {
        assert!(fig.get(key).is_some(), "fig4.json lacks {key}");
    }
    assert_eq!(fig["buckets"].as_array().unwrap().len(), 10);
    assert!(fig["retention"].get("command-a-coop-comm").is_some());
}

#[test]
fn report_flags_choose_the_construction_and_are_checked() {
    let c = lite_with_coop();
    let out = c.tmp.path().join("o");
    let args =
        ["report", "--difficulty", "in-sample", "--cluster", "task", "--bootstrap", "50", "--bootstrap-seed", "5"];
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--out", out.to_str().unwrap()]);
    let o = c.xtask(&all).ran();
    o.expect_code(0);
    let fig: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("fig4.json")).unwrap()).unwrap();
    assert_eq!(fig["difficulty_mode"], "in-sample");
    assert_eq!(fig["bootstrap"], serde_json::json!({"replicates": 50, "seed": 5, "cluster": "task"}));
    let md = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    assert!(md.contains("resamples whole tasks with all their seeds (50 replicates, seed 5)"), "{md}");
    for bad in
        [&["report", "--bootstrap", "0"][..], &["report", "--mean-se-target", "0"], &["report", "--difficulty", "both"]]
    {
        let o = c.xtask(bad).ran();
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {}", text(&o));
    }
}

#[test]
fn one_solo_run_places_nothing_held_out_and_says_so() {
    let c = lite_with_coop();
    let mut s = study(&c);
    s.solo.truncate(1);
    s.solo_curve.truncate(1);
    let r = report::render(&s).unwrap();
    let fig: serde_json::Value = serde_json::from_str(&r.fig4_json).unwrap();
    assert_eq!(fig["undefined_pairs"], 100);
    assert_eq!(fig["auc_grid"], serde_json::json!([]));
    let w = fig["warnings"].to_string();
    assert!(w.contains("100 pair(s) have no valid solo seed to place them by"), "{w}");
    assert!(w.contains("no AUC or retention"), "{w}");
}

#[test]
fn a_run_plays_one_part_and_only_the_one_its_files_allow() {
    let c = lite_with_coop();
    let cases: [(&[&str], &str); 3] = [
        (&["report", "--runs", "command-a-solo,command-a-solo,command-a-solo-seed1"], "run `command-a-solo` is named twice"),
        (&["report", "--coop-runs", "command-a-solo"], "run `command-a-solo` is named twice"),
        (&["report", "--runs", "command-a-solo,command-a-coop-comm", "--coop-runs", "command-a-coop-nocomm"], "run `command-a-coop-comm` holds coop results (logs/command-a-coop-comm/coop/): it cannot define difficulty"),
    ];
    for (args, want) in cases {
        let o = c.xtask(args).ran();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(want), "{args:?}: {}", text(&o));
    }
    let o = c.xtask(&["report", "--coop-runs", ""]).ran();
    o.expect_code(2);
    assert!(text(&o).contains("an empty run name"), "{}", text(&o));
    let o = c.xtask(&["report", "--runs", "command-a-solo-seed1", "--coop-runs", "command-a-solo"]).ran();
    o.expect_code(2);
    assert!(
        text(&o).contains(
            "run `command-a-solo` holds solo results (logs/command-a-solo/solo/): it cannot draw a coop curve"
        ),
        "{}",
        text(&o)
    );
}

/// Twenty pairs in five tasks, three solo seeds and two coop runs; pair
/// `i` (in subset order) passes in every run when `passes(i)`, else fails.
fn twenty_pairs(passes: fn(usize) -> bool) -> Checkout {
    let c = Checkout::new();
    solo_and_coop_runs(&c.cb(), Shape { repos: 2, tasks: 5, pairs: 20 });
    let pairs = xtask::edges::layout::load_subset(&c.cb(), "lite").unwrap().pairs;
    for (i, pair) in pairs.iter().enumerate() {
        let outcome = if passes(i) { "pass" } else { "fail" };
        for run in SOLO {
            set(&c, run, "solo", &pair.to_string(), outcome);
        }
        for run in COOP {
            set(&c, run, "coop", &pair.to_string(), outcome);
        }
    }
    c
}

/// At floor, with every success in one pair: the AUC exists only in the
/// bootstrap replicates that happen to draw that pair (about 1 - (19/20)^20
/// = 64% of them), so it has no interval, and the report says why instead
/// of printing percentiles of a biased subset of replicates.
#[test]
fn a_statistic_some_replicates_leave_undefined_has_no_interval() {
    let c = twenty_pairs(|i| i == 0);
    let r = report::render(&study(&c)).unwrap();
    let fig: serde_json::Value = serde_json::from_str(&r.fig4_json).unwrap();
    assert_eq!(fig["auc_grid"], serde_json::json!([0, 9]), "{}", r.fig4_json);
    assert!(fig["auc"]["solo"].is_number(), "the point estimate exists");
    assert!(fig["auc_ci"]["solo"].is_null(), "no interval: {}", fig["auc_ci"]);
    let share = fig["auc_ci_defined_share"]["solo"].as_f64().unwrap();
    assert!((0.55..0.75).contains(&share), "share {share}");
    let cell = &fig["buckets"][0]["settings"]["solo"];
    assert!(cell["ci_defined_share"].as_f64().unwrap() < 1.0, "{cell}");
    let md = &r.report_md;
    assert!(md.contains("solo: AUC: no interval: defined in"), "{md}");
    // Its bucket-0 cell (3/3 on one pair, whose seeds are copies: the ICC
    // is 1) has Clopper-Pearson on one effective trial (two-sided: 0.025
    // at 1/1), never percentiles.
    assert_eq!(cell["ci_method"], "clopper-pearson", "{cell}");
    let row = md.lines().find(|l| l.starts_with("| 0 | 0.05 |")).unwrap();
    assert!(row.contains("3/3 = 1.000 [0.025, 1.000: Clopper-Pearson, effective n 1.0]"), "{row}");
    // And the verdict comes first: at floor, so no AUC is given at all.
    assert_eq!(fig["verdict"]["at_floor"], true, "{}", fig["verdict"]);
    let verdict = md.find("## What the data can show").unwrap();
    assert!(verdict < md.find("## Runs").unwrap());
    assert!(
        md[verdict..].lines().nth(2).unwrap().starts_with("At floor: 3 solo passes in 60 trials, all in one task"),
        "{md}"
    );
    assert!(md.contains("AUC and retention carry no information and are not given here"), "{md}");
    assert!(!md.lines().any(|l| l.starts_with("| solo | ")), "an AUC row at floor: {md}");
    // The figure alone says so too: its title, and bucket 0 (one pair)
    // drawn hollow, joined to nothing.
    assert!(r.fig4_svg.contains("at floor: no information"), "title");
    let doc = roxmltree::Document::parse(&r.fig4_svg).unwrap();
    let circles: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("circle")).collect();
    let hollow = circles.iter().filter(|c| c.attribute("fill") == Some("none")).count();
    assert_eq!(hollow, 3, "solo and two coop runs in bucket 0, of {} circles", circles.len());
    // The other bucket (9, 19 pairs) is solid, once per setting.
    assert_eq!(circles.len() - hollow, 3);
}

/// In-sample, the solo curve is 1 in bucket 0 in every replicate: no
/// spread for the bootstrap to find, so the cell gets Clopper-Pearson on
/// its effective trials instead of a zero-width "interval".
#[test]
fn a_cell_at_n_of_n_gets_an_exact_bound_not_a_zero_width_interval() {
    let c = lite_with_coop();
    let r = report::render(&study_with(&c, in_sample())).unwrap();
    let fig: serde_json::Value = serde_json::from_str(&r.fig4_json).unwrap();
    let cell = &fig["buckets"][0]["settings"]["solo"];
    assert_eq!(cell["ci_method"], "clopper-pearson", "{cell}");
    let n = cell["effective_trials"].as_f64().unwrap();
    let lower = cell["ci_lower"].as_f64().unwrap();
    // At n/n the two-sided lower bound is 0.025^(1/n).
    assert!((lower - 0.025f64.powf(1.0 / n)).abs() < 1e-6, "{cell}");
    // Fewer effective trials than trials: the pairs' seeds are alike.
    assert!(n < cell["trials"].as_f64().unwrap(), "{cell}");
    assert!(
        r.report_md.contains(&format!("[{lower:.3}, 1.000: Clopper-Pearson, effective n {n:.1}]")),
        "{}",
        r.report_md
    );
    let warnings: Vec<&str> = fig["warnings"].as_array().unwrap().iter().filter_map(|w| w.as_str()).collect();
    assert!(!warnings.iter().any(|w| w.starts_with("solo: bucket 0:")), "{warnings:?}");
}

/// Every pair always passes or always fails: in-sample, the solo curve is
/// 1 then 0 in every replicate, so its AUC's percentiles coincide. That is
/// no interval, and it is flagged where it is printed and among the
/// warnings.
#[test]
fn a_zero_width_interval_is_flagged() {
    let c = twenty_pairs(|i| i < 16);
    let r = report::render(&study_with(&c, in_sample())).unwrap();
    let fig: serde_json::Value = serde_json::from_str(&r.fig4_json).unwrap();
    assert_eq!(fig["auc_ci"]["solo"], serde_json::json!([0.45, 0.45]), "{}", fig["auc_ci"]);
    let warnings: Vec<&str> = fig["warnings"].as_array().unwrap().iter().filter_map(|w| w.as_str()).collect();
    assert!(warnings.iter().any(|w| w.starts_with("solo: AUC: its interval has zero width")), "{warnings:?}");
}

/// Not at floor, but the AUC grid rests on a bucket of four pairs: the AUC
/// would be carried by a handful of pairs, so REPORT.md gives none and says
/// why (fig4.json keeps it).
#[test]
fn an_auc_on_a_thin_bucket_is_not_given() {
    // 16 pairs always pass (bucket 0, 80%: not more), 4 always fail (bucket 9).
    let c = twenty_pairs(|i| i < 16);
    let r = report::render(&study(&c)).unwrap();
    let fig: serde_json::Value = serde_json::from_str(&r.fig4_json).unwrap();
    assert_eq!(fig["verdict"]["at_floor"], false, "{}", fig["verdict"]);
    assert!(fig["auc"]["solo"].is_number(), "fig4.json keeps the AUC");
    assert!(
        r.report_md.contains("The AUC grid rests on buckets with fewer than 5 pairs (9 (4 pairs))"),
        "{}",
        r.report_md
    );
}

/// The issue's floor, built: a lite-shaped tree where one solo seed passes
/// the pairs of one task and everything else fails, coop included. The
/// verdict says so first, AUC and retention are not given, and no
/// interval of a difference excludes 0 where an exact test does not: the
/// pair bootstrap would (nearly every replicate draws one of the few pairs
/// that differ), so it is withheld with the reason.
#[test]
fn at_floor_no_interval_claims_what_an_exact_test_does_not() {
    let c = Checkout::new();
    solo_and_coop_runs(&c.cb(), LITE);
    let pairs = xtask::edges::layout::load_subset(&c.cb(), "lite").unwrap().pairs;
    let in_task: Vec<bool> = pairs.iter().map(|p| p.repo == pairs[0].repo && p.task_id == pairs[0].task_id).collect();
    for (p, in_task) in pairs.iter().zip(&in_task) {
        for (i, run) in SOLO.iter().enumerate() {
            set(&c, run, "solo", &p.to_string(), if i == 1 && *in_task { "pass" } else { "fail" });
        }
        for run in COOP {
            set(&c, run, "coop", &p.to_string(), "fail");
        }
    }
    let passing = in_task.iter().filter(|x| **x).count();
    assert!((2..10).contains(&passing), "{passing} pairs in the task");
    let r = report::render(&study(&c)).unwrap();
    let fig: serde_json::Value = serde_json::from_str(&r.fig4_json).unwrap();
    let md = &r.report_md;

    // The verdict block says it first, in plain words.
    let verdict = md.find("## What the data can show").unwrap();
    assert!(verdict < md.find("## Runs").unwrap());
    // The headline next: the paired comparison, before the figure and AUC.
    let paired = md.find("## Paired comparison").unwrap();
    assert!(verdict < paired && paired < md.find("## Runs").unwrap() && paired < md.find("## Area").unwrap());
    let first = md[verdict..].lines().nth(2).unwrap();
    let want = format!("At floor: {passing} solo passes in 300 trials, all in one task;");
    assert!(first.starts_with(&want), "{first}");
    // The page (index.html) says it first too: its first section is the
    // verdict, whose first paragraph is this one, before any number.
    let html = &r.index_html;
    let h2 = html.find("<h2>").unwrap();
    assert_eq!(&html[h2..h2 + "<h2>What the data can show</h2>".len()], "<h2>What the data can show</h2>");
    let p = html[h2..].find("<p>").unwrap() + h2;
    assert!(html[p + 3..].starts_with(&want), "{}", &html[p..p + 200]);
    assert!(p < html.find("<table>").unwrap() && p < html.find("<svg").unwrap());
    assert!(html.contains("at floor: no information"), "the page's figure title");
    assert!(first.contains("Figure 4 carries no information here"), "{first}");
    // AUC and retention are n/a, in the report and in its figure.
    assert!(md.contains("AUC and retention carry no information and are not given here"), "{md}");
    assert!(!md.lines().any(|l| l.starts_with("| solo | ")), "an AUC row at floor");
    assert!(r.fig4_svg.contains("at floor: no information"));

    // The exact tests find nothing: the one that keeps the pairing (each
    // pair passes 1 of its 4 trials, coop none: p = (3/4)^passing + ...)
    // and Fisher's on the pooled trials ({passing}/300 against 0/100).
    let fisher = xtask::study::exact::fisher_two_sided(passing as u64, 300 - passing as u64, 0, 100);
    assert!(fisher >= 0.05, "{fisher}");
    let excludes_zero = |v: &serde_json::Value| match (v["ci_lower"].as_f64(), v["ci_upper"].as_f64()) {
        (Some(l), Some(u)) => l > 0.0 || u < 0.0,
        _ => false,
    };
    for run in COOP {
        let p = &fig["paired_difference"][run];
        assert!(p["exact_p_value"].as_f64().unwrap() >= 0.05, "{p}");
        assert!(!excludes_zero(p), "{run}: {p}");
        for cluster in ["pair", "task"] {
            let b = &fig["paired_by_cluster"][run][cluster];
            assert!(!excludes_zero(b), "{run} by {cluster}: {b}");
        }
        assert!(!excludes_zero(&fig["auc_difference"][run]), "{}", fig["auc_difference"][run]);
        // By pair the bootstrap did exclude 0: withheld, and said why.
        let why = fig["paired_by_cluster"][run]["pair"]["ci_withheld"].as_str().unwrap();
        assert!(why.contains("excludes 0 but the exact test does not"), "{why}");
        let row = md.lines().find(|l| l.starts_with(&format!("| `{run}` | 100 |"))).unwrap();
        assert!(row.contains("[n/a: excludes 0, the exact test does not (p "), "{row}");
    }
    // And no cell of 0/n pretends to a zero-width interval.
    for b in fig["buckets"].as_array().unwrap() {
        for (s, cell) in b["settings"].as_object().unwrap() {
            if cell["rate"] == 0.0 {
                assert_eq!(cell["ci_method"], "clopper-pearson", "{s} bucket {}: {cell}", b["bucket"]);
                assert!(cell["ci_upper"].as_f64().unwrap() > 0.0);
            }
        }
    }
}

/// The page's size is bounded whatever the files hold: a story shows the
/// last messages, the first lines of a patch and the end of a test output,
/// each line and message cut. Every file of a 100-pair, 5-run study filled
/// past every bound (long messages, long patches, long outputs, a long
/// conversation): the page stays under 4 MiB.
#[test]
fn the_page_stays_small_when_every_file_is_long() {
    let c = lite_with_coop();
    let long = |c: char| c.to_string().repeat(2_000);
    let messages: Vec<serde_json::Value> =
        (0..8).map(|i| serde_json::json!({"role": "assistant", "content": format!("{i} {}", long('m'))})).collect();
    let patch: String = (0..40).map(|i| format!("+{i} {}\n", "p".repeat(400))).collect();
    let output: String = (0..30).map(|i| format!("test_{i} {} FAILED\n", "o".repeat(400))).collect();
    let conversation: Vec<serde_json::Value> = (0..20)
        .map(|i| serde_json::json!({"from": "agent1", "to": "agent2", "message": format!("{i} {}", long('c'))}))
        .collect();
    let mut dirs = 0;
    for run in SOLO.iter().chain(&COOP) {
        let logs = RunLogs::load(&c.cb(), run);
        for p in logs.pairs.values() {
            let dir = c.cb().join(&p.rel_dir);
            for a in p.result.iter().flat_map(|r| &r.agents) {
                std::fs::write(
                    dir.join(format!("{}_traj.json", a.id)),
                    serde_json::json!({"messages": messages}).to_string(),
                )
                .unwrap();
                std::fs::write(dir.join(format!("{}.patch", a.id)), &patch).unwrap();
            }
            if p.setting == "coop" {
                std::fs::write(
                    dir.join("conversation.json"),
                    serde_json::Value::from(conversation.clone()).to_string(),
                )
                .unwrap();
            }
            edit_json(&dir.join("eval.json"), |v| {
                v["feature1"]["test_output"] = output.clone().into();
                v["feature2"]["test_output"] = output.clone().into();
            });
            dirs += 1;
        }
    }
    assert_eq!(dirs, 500);
    let mut s = study(&c);
    let runs: Vec<&RunLogs> = s.solo.iter().chain(&s.coop).collect();
    s.stories = xtask::edges::story::read_all(&c.cb(), &runs, &s.subset.pairs, 32 << 20);
    let html = report::render(&s).unwrap().index_html;
    println!("index.html: {} bytes for 100 pairs x 5 runs, every file long", html.len());
    assert!(html.len() < 4 << 20, "{} bytes", html.len());
    // And the bounds did bite: the stories are there, cut.
    assert!(html.contains("conversation: 20 message(s) sent; the last 6"));
    assert_eq!(html.matches("test_29 ").count(), 1000, "each output's end, once per feature per (run, pair)");
}

/// The issue's bias, built: no true effect (coop passes exactly where a
/// pair's solo seeds mostly pass), but the provider fails coop on 20 of
/// the 50 pairs coop would fail. Left out, those drops make coop look
/// better (+0.083); counted against coop the difference is 0: the
/// sensitivity table and the verdict say the headline's sign depends on
/// them.
#[test]
fn drops_that_fall_on_would_fail_coop_trials_are_flagged() {
    let c = Checkout::new();
    solo_and_coop_runs(&c.cb(), LITE);
    let pairs = xtask::edges::layout::load_subset(&c.cb(), "lite").unwrap().pairs;
    assert_eq!(pairs.len(), 100);
    for (i, p) in pairs.iter().enumerate() {
        let easy = i % 2 == 0;
        // Easy pairs: two of three solo seeds pass; hard: one of three.
        for (k, run) in SOLO.iter().enumerate() {
            let pass = if easy { k < 2 } else { k < 1 };
            set(&c, run, "solo", &p.to_string(), if pass { "pass" } else { "fail" });
        }
        let coop = if easy {
            "pass"
        } else if i % 10 == 1 || i % 10 == 3 {
            "infra"
        } else {
            "fail"
        };
        for run in COOP {
            set(&c, run, "coop", &p.to_string(), coop);
        }
    }
    let r = report::render(&study(&c)).unwrap();
    let fig: serde_json::Value = serde_json::from_str(&r.fig4_json).unwrap();
    let row = &fig["non_trial_sensitivity"]["per_run"]["command-a-coop-comm"];
    assert_eq!(row["coop_non_trials"], 20, "{row}");
    assert_eq!(row["solo_non_trials"], 0, "{row}");
    // Left out: 50 pairs at +1/3, 30 at -1/3, over 80.
    assert_eq!(row["left_out"], serde_json::json!(0.083333), "{row}");
    assert_eq!(row["lowest"], serde_json::json!(0.0), "{row}");
    // Counted for coop: 20 more pairs at +2/3: (50/3 - 30/3 + 40/3) / 100.
    assert_eq!(row["highest"], serde_json::json!(0.2), "{row}");
    assert_eq!(row["sign_depends"], true, "{row}");
    assert!(row["fisher_p"].as_f64().unwrap() < 0.001, "{row}");
    let text = fig["verdict"]["text"].as_str().unwrap();
    assert!(
        text.contains("The sign of `command-a-coop-comm`'s paired difference depends on the outcomes the model was not judged on (0 solo and 20 coop (run, pair)s): counted against coop it is +0.000"),
        "{text}"
    );
    let md = &r.report_md;
    let line = md
        .lines()
        .find(|l| l.starts_with("| `command-a-coop-comm` | 0/300 | 20/100 |"))
        .unwrap_or_else(|| panic!("{md}"));
    assert!(line.contains("| 0.083 | 0.000 | 0.200 | [0.000, 0.200] | yes: its sign depends on them |"), "{line}");
}

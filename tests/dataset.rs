//! What each run was graded on (#30): the dataset moves under a study (one
//! feature's `feature.md`, another's `tests.patch`, a task's `runner.sh`)
//! between the baseline and the seeds; a task image is re-made under its
//! tag. Verify names exactly the pairs and files, `allow_mixed` pools them
//! with a warning everywhere, `--pairs unchanged` leaves them out and says
//! so first, `seeds --dry-run` says it before any spend; a checkout that is
//! no git repository gives the same verdict by hashing the files. On the
//! simulator and the fake docker; `cargo xtask e2e` does it on the real CLI.

mod common;

use std::collections::BTreeSet;

use common::*;

/// The subset's pairs of its `n`th task, as `repo/task/fA_fB`.
fn task_pairs(c: &Checkout, n: usize) -> (String, u64, Vec<(u32, u32)>) {
    let subset: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(c.cb().join("dataset/subsets/lite.json")).unwrap()).unwrap();
    let t = &subset["tasks"][n];
    let pairs =
        t["pairs"].as_array().unwrap().iter().map(|p| (p[0].as_u64().unwrap() as u32, p[1].as_u64().unwrap() as u32));
    (t["repo"].as_str().unwrap().to_string(), t["task_id"].as_u64().unwrap(), pairs.collect())
}

/// Changes three files of the dataset: feature 1's `feature.md` of the
/// first task, feature 2's `tests.patch` of the second, the third task's
/// `runner.sh`. Returns the pairs that changed, and the words verify uses.
fn move_the_dataset(c: &Checkout) -> BTreeSet<String> {
    let mut changed = BTreeSet::new();
    let dir = |repo: &str, id: u64| c.cb().join("dataset").join(repo).join(format!("task{id}"));
    let (repo, id, pairs) = task_pairs(c, 0);
    std::fs::write(dir(&repo, id).join("feature1/feature.md"), "# Feature 1, amended by the dataset fix\n").unwrap();
    changed.extend(pairs.iter().filter(|(a, b)| *a == 1 || *b == 1).map(|(a, b)| format!("{repo}/{id}/f{a}_f{b}")));
    let (repo, id, pairs) = task_pairs(c, 1);
    std::fs::write(dir(&repo, id).join("feature2/tests.patch"), "diff --git a/t b/t\n").unwrap();
    changed.extend(pairs.iter().filter(|(a, b)| *a == 2 || *b == 2).map(|(a, b)| format!("{repo}/{id}/f{a}_f{b}")));
    let (repo, id, pairs) = task_pairs(c, 2);
    std::fs::write(dir(&repo, id).join("runner.sh"), "#!/bin/bash\n# fixed runner\n").unwrap();
    changed.extend(pairs.iter().map(|(a, b)| format!("{repo}/{id}/f{a}_f{b}")));
    changed
}

fn verify_json(c: &Checkout, args: &[&str]) -> (Ran, serde_json::Value) {
    let mut all = vec!["verify", "--json"];
    all.extend_from_slice(args);
    let out = c.xtask(&all).ran();
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.story()));
    (out, v)
}

/// The pairs verify names under `check`, and every detail it gives.
fn named(v: &serde_json::Value, check: &str) -> (BTreeSet<String>, String) {
    let problems = v["problems"].as_array().unwrap().iter().filter(|p| p["check"] == check);
    let mut pairs = BTreeSet::new();
    let mut details = String::new();
    for p in problems {
        if let Some(pair) = p["pair"].as_str() {
            pairs.insert(pair.to_string());
        }
        details += p["detail"].as_str().unwrap_or_default();
        details.push('\n');
    }
    (pairs, details)
}

fn set_allow_mixed(c: &Checkout, fields: &str) {
    let text = std::fs::read_to_string(c.experiment()).unwrap();
    let start = text.find("allow_mixed = [").unwrap();
    let end = start + text[start..].find(']').unwrap() + 1;
    std::fs::write(c.experiment(), format!("{}allow_mixed = [{fields}]{}", &text[..start], &text[end..])).unwrap();
}

#[test]
fn a_dataset_moved_between_baseline_and_seeds_is_named_pooled_only_when_allowed_and_left_out_on_request() {
    let c = Checkout::with_baseline("");
    let changed = move_the_dataset(&c);
    assert_eq!(changed.len(), 3 + 2 + 4, "{changed:?}");
    // After the baseline began (a commit of its very second would be ambiguous).
    xtask::support::fixture::commit_dataset(&c.cb(), "the dataset fix", Some("2099-01-01T00:00:00Z")).unwrap();

    // Before any spend: how many, which, and what each choice costs.
    let work_before = c.sim_record().len();
    let dry = c.seeds(&["--dry-run"], &[]).ran();
    dry.expect_code(0);
    let o = text(&dry);
    assert!(
        o.contains(&format!(
            "dataset: {} of 100 pairs changed since baseline `command-a-solo` was made (inferred: ",
            changed.len()
        )),
        "{o}"
    );
    for words in [
        "feature 1's feature.md",
        "feature 2's tests.patch",
        "the task's runner.sh",
        "(1) a new baseline on today's dataset: 100 pairs more, about $",
        "(2) seeds on the 91 unchanged pairs only: about $",
        "(3) list \"dataset\" in allow_mixed",
    ] {
        assert!(o.contains(words), "{words:?} not in {o}");
    }
    assert_eq!(c.sim_record().len(), work_before, "a dry run spent");

    // Paid and made: the seeds' manifests record today's files; the
    // baseline's are inferred from history. Verify fails on exactly them.
    let out = c.seeds(&["--yes"], &[]).ran();
    out.expect_code(1);
    let (v_out, v) = verify_json(&c, &[]);
    v_out.expect_code(1);
    let (pairs, details) = named(&v, "dataset_changed");
    assert_eq!(pairs, changed, "{details}");
    assert!(
        details.contains("feature 1's feature.md differ(s) between `command-a-solo` and `command-a-solo-seed1`"),
        "{details}"
    );
    assert!(details.contains("feature 2's tests.patch") && details.contains("the task's runner.sh"), "{details}");
    let seed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(c.cb().join("logs/command-a-solo-seed1/harness-manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(seed["dataset"]["how"], "recorded");
    assert_eq!(seed["dataset"]["dirty"], false);
    let prov = v["provenance"].as_array().unwrap();
    assert_eq!(prov[0]["dataset"]["source"], "git_history", "{:?}", prov[0]);
    let shown = text(&c.xtask(&["verify"]).ran());
    assert!(shown.contains("FAIL dataset_changed") && shown.contains("(inferred from git history)"), "{shown}");

    // The report refuses to pool them silently.
    let results = c.tmp.path().join("results");
    let r = c.xtask(&["report", "--out", results.to_str().unwrap()]).ran();
    r.expect_code(2);
    assert!(
        text(&r).contains(&format!("{} pair(s) changed between the runs that define difficulty", changed.len())),
        "{}",
        text(&r)
    );

    // --pairs unchanged: the rest, said first everywhere.
    let note = format!("91 of 100 pairs; {} changed between runs left out", changed.len());
    let (v_out, v) = verify_json(&c, &["--pairs", "unchanged"]);
    v_out.expect_code(0);
    assert!(v["pairs_note"].as_str().unwrap().starts_with(&note), "{v}");
    assert_eq!(v["subset"]["pairs"], 91);
    let shown = text(&c.xtask(&["verify", "--pairs", "unchanged"]).ran());
    assert!(shown.starts_with(&format!("pairs: {note}")), "{shown}");
    c.xtask(&["report", "--pairs", "unchanged", "--out", results.to_str().unwrap()]).ran().expect_code(0);
    let md = std::fs::read_to_string(results.join("REPORT.md")).unwrap();
    let second_paragraph = md.split("\n\n").nth(1).unwrap();
    assert!(second_paragraph.starts_with(&format!("**Pairs: {note}")), "{md}");
    let fig: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(results.join("fig4.json")).unwrap()).unwrap();
    assert!(fig["pairs"].as_str().unwrap().starts_with(&note));
    let svg = std::fs::read_to_string(results.join("fig4.svg")).unwrap();
    assert!(svg.contains(&note), "the figure's title does not say it");
    let csv = std::fs::read_to_string(results.join("difficulty.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 91);
    assert!(changed.iter().all(|p| !csv.contains(&format!("{p},"))));

    // allow_mixed = [..., "dataset"]: pooled, with a warning in text, JSON,
    // REPORT.md and fig4.json.
    set_allow_mixed(&c, r#""cli_version", "backend", "agent_config", "images", "dataset""#);
    let (v_out, v) = verify_json(&c, &[]);
    v_out.expect_code(0);
    let (_, details) = named(&v, "mixed_allowed");
    let warning = format!("difficulty pools {} pair(s) whose dataset files differ between runs", changed.len());
    assert!(details.contains(&warning), "{details}");
    assert!(text(&c.xtask(&["verify"]).ran()).contains(&warning));
    c.xtask(&["report", "--out", results.to_str().unwrap()]).ran().expect_code(0);
    assert!(std::fs::read_to_string(results.join("REPORT.md")).unwrap().contains(&warning));
    assert!(std::fs::read_to_string(results.join("fig4.json")).unwrap().contains(&warning));
}

/// Two seeds, the dataset moved between them: the same pairs named whether
/// the checkout is a git repository (blob ids) or not (the files hashed).
#[test]
fn a_checkout_outside_git_hashes_its_files_and_gives_the_same_verdict() {
    let mut verdicts = Vec::new();
    for git in [true, false] {
        let c = Checkout::with_baseline("");
        if !git {
            std::fs::remove_dir_all(c.cb().join(".git")).unwrap();
        }
        c.seeds(&["--yes", "--seeds", "1"], &[]).ran();
        let changed = move_the_dataset(&c);
        if git {
            // After the baseline began (a commit of its very second would be ambiguous).
            xtask::support::fixture::commit_dataset(&c.cb(), "the dataset fix", Some("2099-01-01T00:00:00Z")).unwrap();
        }
        c.seeds(&["--yes", "--seeds", "2"], &[]).ran();
        let (out, v) = verify_json(&c, &["--runs", "command-a-solo-seed1,command-a-solo-seed2"]);
        out.expect_code(1);
        let (pairs, details) = named(&v, "dataset_changed");
        assert_eq!(pairs, changed, "git {git}: {details}");
        let manifest = std::fs::read_to_string(c.cb().join("logs/command-a-solo-seed2/harness-manifest.json")).unwrap();
        assert_eq!(manifest.contains("\"commit\": null"), !git, "{manifest}");
        if !git {
            // The baseline cannot be placed: said once, for the run.
            let (_, v) = verify_json(&c, &[]);
            let (_, details) = named(&v, "dataset_changed");
            assert!(
                details.contains("is unknown (made by the CLI directly, in a checkout that is not a git repository"),
                "{details}"
            );
        }
        verdicts.push(details);
    }
    assert_eq!(verdicts[0], verdicts[1]);
}

/// A task image re-made under its tag between two seeds is named, pair by
/// pair; one re-made while a seed runs fails that seed.
#[test]
fn an_image_re_made_under_its_tag_is_named_and_one_changed_during_a_seed_fails_it() {
    let c = Checkout::with_baseline("");
    // The demo's experiment pools the CLI-made baseline's unknown images;
    // between two seeds of the harness nothing is unknown, and nothing pooled.
    set_allow_mixed(&c, r#""cli_version", "backend", "agent_config""#);
    let ids = c.tmp.path().join("image-ids");
    std::fs::write(&ids, "").unwrap();
    let ids_env = ids.to_str().unwrap().to_string();
    let env = [("FAKE_DOCKER_IMAGE_IDS", ids_env.as_str())];
    // (Its final verify fails: the baseline, made by the CLI, has no image
    // ids against the seed's. Seed against seed is what is read below.)
    c.seeds(&["--yes", "--seeds", "1"], &env).ran();
    assert!(c.cb().join("logs/command-a-solo-seed1/harness-manifest.json").is_file());
    let (repo, id, pairs) = task_pairs(&c, 0);
    let image = xtask::edges::docker::task_image(&repo, id);
    std::fs::write(&ids, format!("{image}\tsha256:{}\n", "ab".repeat(32))).unwrap();
    c.seeds(&["--yes", "--seeds", "2"], &env).ran();
    let (out, v) = verify_json(&c, &["--runs", "command-a-solo-seed1,command-a-solo-seed2"]);
    let manifest =
        |run: &str| std::fs::read_to_string(c.cb().join(format!("logs/{run}/harness-manifest.json"))).unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}\n{}",
        manifest("command-a-solo-seed1"),
        manifest("command-a-solo-seed2")
    );
    let (named_pairs, details) = named(&v, "images_changed");
    let expected: BTreeSet<String> = pairs.iter().map(|(a, b)| format!("{repo}/{id}/f{a}_f{b}")).collect();
    assert_eq!(named_pairs, expected, "{details}");
    assert!(
        details.contains(&format!("{image} was ")) && details.contains(", abababababab in `command-a-solo-seed2`"),
        "{details}"
    );

    // Re-made while seed 3 runs: read before its first invocation and after
    // its last, two ids. The seed fails, and verify names the run.
    let (repo, id, pairs) = task_pairs(&c, 1);
    let image = xtask::edges::docker::task_image(&repo, id);
    let mark = c.tmp.path().join("remade").display().to_string();
    let out = c
        .seeds(
            &["--yes", "--seeds", "3"],
            &[("FAKE_DOCKER_REMAKE", image.as_str()), ("FAKE_DOCKER_REMAKE_MARK", mark.as_str())],
        )
        .ran();
    out.expect_code(1);
    assert!(
        text(&out).contains(&format!("FAILED: task image {image} changed during command-a-solo-seed3")),
        "{}",
        text(&out)
    );
    let (_, v) = verify_json(&c, &["--runs", "command-a-solo-seed3"]);
    let (_, details) = named(&v, "image_changed_during_run");
    assert!(details.contains(&format!("task image {image} changed during the run")), "{details}");
    assert!(pairs.iter().all(|(a, b)| details.contains(&format!("{repo}/{id}/f{a}_f{b}"))), "{details}");
}

/// The oracle by fingerprint: a pair whose test changed since the oracle
/// graded it is named by the gate and graded again, and only it.
#[test]
fn the_oracle_regrades_exactly_the_pairs_whose_files_changed_since() {
    let c = Checkout::with_baseline("require_oracle = true");
    let results = c.tmp.path().join("results");
    let oracle = |c: &Checkout| {
        c.xtask(&["oracle", "--cooperbench-bin", SIM, "--out", results.to_str().unwrap()]).stdin_null().ran()
    };
    oracle(&c).expect_code(0);
    let graded = c.sim_work("eval", "command-a-solo-oracle").len();
    let (repo, id, pairs) = task_pairs(&c, 1);
    std::fs::write(c.cb().join(format!("dataset/{repo}/task{id}/feature2/tests.patch")), "diff --git a/u b/u\n")
        .unwrap();
    let expected: Vec<String> =
        pairs.iter().filter(|(a, b)| *a == 2 || *b == 2).map(|(a, b)| format!("{repo}/{id}/f{a}_f{b}")).collect();

    let dry = c.seeds(&["--dry-run"], &[]).ran();
    dry.expect_code(1);
    let o = text(&dry);
    assert!(
        o.contains(&format!("is not of today's dataset: {} pair(s) changed since it graded them: ", expected.len())),
        "{o}"
    );
    assert!(o.contains("feature 2's tests.patch"), "{o}");

    let again = oracle(&c);
    again.expect_code(0);
    let o = text(&again);
    for p in &expected {
        assert!(
            o.contains(&format!("  {p}: feature 2's tests.patch since the oracle graded it: moved aside to ")),
            "{p}: {o}"
        );
    }
    assert_eq!(c.sim_work("eval", "command-a-solo-oracle").len(), graded + expected.len(), "{o}");
    c.seeds(&["--dry-run"], &[]).ran().expect_code(0);
}

/// `backend = "gcp"` is refused before anything, with the reason.
#[test]
fn the_gcp_backend_is_refused_by_preflight_with_the_reason() {
    let c = Checkout::with_baseline("");
    let work_before = c.sim_record().len();
    let out = c.seeds(&["--dry-run", "--backend", "gcp"], &[]).ran();
    out.expect_code(1);
    let o = text(&out);
    assert!(o.contains("FAIL backend gcp is refused until it can be proven here as Modal is: 0.0.29 still runs the agents on Modal"), "{o}");
    assert_eq!(c.sim_record().len(), work_before);
}

//! A study of two models and a coop arm from one file, through `cargo
//! xtask study`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{json, Value};

use super::scenario::*;
use crate::support::world;

/// The two models of the study scenario, as litellm prices them, and what
/// the stand-in does for each one's two seeds (entry n is seed n).
pub const STUDY_MODELS: [&str; 2] = ["openai/gpt-4o-mini", "openai/gpt-4o"];

pub fn study_scripts() -> [BTreeMap<String, Vec<&'static str>>; 2] {
    let of = |v: [(&str, [&'static str; 2]); 6]| v.into_iter().map(|(p, b)| (p.to_string(), b.to_vec())).collect();
    [
        of([
            ("e2ecalc_task/1/f1_f2", ["solve", "solve"]),
            ("e2ecalc_task/1/f1_f3", ["half", "solve"]),
            ("e2ecalc_task/1/f2_f3", ["half", "half"]),
            ("e2etext_task/2/f1_f2", ["solve", "half"]),
            ("e2elist_task/3/f1_f2", ["solve", "solve"]),
            ("e2elist_task/3/f1_f3", ["half", "half"]),
        ]),
        of([
            ("e2ecalc_task/1/f1_f2", ["solve", "solve"]),
            ("e2ecalc_task/1/f1_f3", ["solve", "solve"]),
            ("e2ecalc_task/1/f2_f3", ["half", "solve"]),
            ("e2etext_task/2/f1_f2", ["half", "half"]),
            ("e2elist_task/3/f1_f2", ["half", "solve"]),
            ("e2elist_task/3/f1_f3", ["solve", "half"]),
        ]),
    ]
}

/// The pooled difficulty of each pair, by the paper's rule, from the
/// scripts alone: the mean over the two models of each one's failure rate
/// over its two seeds, as a fraction in lowest terms.
pub fn study_difficulty() -> BTreeMap<String, String> {
    let [a, b] = study_scripts();
    a.keys()
        .map(|pair| {
            let fails = |s: &BTreeMap<String, Vec<&str>>| s[pair].iter().filter(|x| **x != "solve").count() as u32;
            // (fa/2 + fb/2) / 2 = (fa + fb) / 4
            let crate::study::difficulty::Difficulty { failures, valid } =
                crate::study::difficulty::Difficulty::mean(&[
                    crate::study::difficulty::Difficulty { failures: fails(&a), valid: 2 },
                    crate::study::difficulty::Difficulty { failures: fails(&b), valid: 2 },
                ]);
            (pair.clone(), crate::study::difficulty::Difficulty { failures, valid }.fraction())
        })
        .collect()
}

/// A study of two models from one file, on the real CLI: two solo arms
/// (gpt-4o-mini and gpt-4o, two seeds each, each model its own script) and
/// a coop arm without messaging, through `cargo xtask study`; then
/// `report`'s pooled and per-model difficulty against the scripts'.
pub(super) fn two_models(root: &Path, cli: &Cli, keep: bool) -> anyhow::Result<Outcome> {
    let [mini, big] = study_scripts();
    let doc = json!({
        "default": "solve",
        "models": {
            "gpt-4o-mini": {"default": "solve", "pairs": mini},
            "gpt-4o": {"default": "solve", "pairs": big},
        },
    });
    let sc = Scenario::with_script(root, "study", cli, Some(doc))?;
    let port = sc.stand_in.as_ref().map(|s| s.port).unwrap_or(9);
    let arm = |name: &str, model: &str, extra: &str| {
        format!(
            "\n[[arm]]\nname = \"{name}\"\nmodel = \"{model}\"\nagent = \"mini_swe_agent_v2\"\n{extra}\n[arm.model_kwargs]\napi_base = \"http://127.0.0.1:{port}/v1\"\n"
        )
    };
    let file = format!(
        "# Written by `cargo xtask e2e` (scenario study).\nname = \"e2e-study\"\ncooperbench_dir = \"{}\"\nsubset = \"{}\"\nexpected_pairs = {}\nrun_concurrency = 2\neval_concurrency = 2\nattempts = 2\n{}{}{}",
        sc.cb.display(),
        world::SUBSET,
        world::pairs().len(),
        arm("mini", STUDY_MODELS[0], "seeds = [1, 2]\nrun_name = \"mini-s{seed}\""),
        arm("big", STUDY_MODELS[1], "seeds = [1, 2]\nrun_name = \"big-s{seed}\""),
        arm("mini-coop", STUDY_MODELS[0], "setting = \"coop\"\nmessaging = false\nseeds = [1]\nrun_name = \"mini-coop-s{seed}\""),
    );
    std::fs::write(&sc.experiment, file)?;
    let t = Instant::now();
    let bin = cli.bin.display().to_string();
    let mut failures = Vec::new();

    let plan = sc.xtask(&["study", "--cooperbench-bin", &bin, "--dry-run"], &[]).run()?;
    echo("study --dry-run", &text(&plan));
    for want in
        ["study e2e-study", "mini-coop: coop, no messaging", "--setting coop --no-messaging", "-m openai/gpt-4o "]
    {
        if !text(&plan).contains(want) {
            failures.push(format!("study --dry-run does not say {want:?}"));
        }
    }
    println!("study: `cargo xtask study --yes`: two models x two seeds, and a coop seed (about four minutes)");
    let since = unix_now();
    let out = sc
        .xtask(&["study", "--cooperbench-bin", &bin, "--yes"], &[("MSWEA_MODEL_RETRY_STOP_AFTER_ATTEMPT", "1")])
        .run()?;
    echo("study", &text(&out));
    if out.status.code() != Some(0) {
        failures.push(format!("study exited {:?}, expected 0", out.status.code()));
    }
    let report_dir = sc.dir.join("report");
    let report =
        sc.xtask(&["report", "--out", report_dir.to_str().unwrap_or("report"), "--bootstrap", "200"], &[]).run()?;
    echo("report", &text(&report));
    if report.status.code() != Some(0) {
        failures.push(format!("report exited {:?}, expected 0", report.status.code()));
    }

    // Each solo seed's outcome per pair is its model's script's.
    let read = |p: PathBuf| std::fs::read_to_string(p).ok().and_then(|t| serde_json::from_str::<Value>(&t).ok());
    for (model, script, prefix) in [(STUDY_MODELS[0], &mini, "mini-s"), (STUDY_MODELS[1], &big, "big-s")] {
        for seed in 0..2 {
            let run = format!("{prefix}{}", seed + 1);
            for (pair, plan) in script {
                let dir = sc.cb.join("logs").join(&run).join("solo").join(pair);
                let result = read(dir.join("result.json"));
                let said = result.as_ref().and_then(|r| r["model"].as_str().map(String::from));
                if said.as_deref() != Some(model) {
                    failures.push(format!("{run} {pair}: result.json says model {said:?}, expected {model}"));
                }
                let passed = read(dir.join("eval.json")).and_then(|e| e["both_passed"].as_bool());
                if passed != Some(plan[seed] == "solve") {
                    failures.push(format!("{run} {pair}: both_passed {passed:?}, the script says {}", plan[seed]));
                }
            }
        }
    }
    // The coop arm: two agents per pair, results and evals by the real CLI.
    let mut coop_passed = 0;
    for pair in world::pairs() {
        let dir = sc.cb.join("logs/mini-coop-s1/coop").join(pair.to_string());
        let result = read(dir.join("result.json"));
        if result.as_ref().and_then(|r| r["setting"].as_str()) != Some("coop") {
            failures.push(format!("mini-coop-s1 {pair}: no coop result.json"));
        }
        match read(dir.join("eval.json")).and_then(|e| e["both_passed"].as_bool()) {
            Some(p) => coop_passed += usize::from(p),
            None => failures.push(format!("mini-coop-s1 {pair}: no graded eval.json")),
        }
    }
    // The stand-in answered both models.
    if let Some(s) = &sc.stand_in {
        let models: std::collections::BTreeSet<String> =
            s.requests().iter().filter_map(|r| r["model"].as_str().map(String::from)).collect();
        for m in ["gpt-4o-mini", "gpt-4o"] {
            if !models.iter().any(|x| x.trim_start_matches("openai/") == m) {
                failures.push(format!("the stand-in never answered {m} (it saw {models:?})"));
            }
        }
    }
    // The pooled difficulty is the scripts', worked by the paper's rule.
    let csv = std::fs::read_to_string(report_dir.join("difficulty.csv")).unwrap_or_default();
    let mut rdr = csv::Reader::from_reader(csv.as_bytes());
    let cols =
        rdr.headers().ok().map(|h| (h.iter().position(|c| c == "pair"), h.iter().position(|c| c == "difficulty")));
    let got: BTreeMap<String, String> = match cols {
        Some((Some(p), Some(d))) => {
            rdr.records().flatten().filter_map(|r| Some((r.get(p)?.to_string(), r.get(d)?.to_string()))).collect()
        }
        _ => BTreeMap::new(),
    };
    let want = study_difficulty();
    if got != want {
        failures.push(format!("pooled difficulty {got:?}, the scripts give {want:?}"));
    }
    let fig = read(report_dir.join("fig4.json")).unwrap_or(Value::Null);
    let per: Vec<String> = fig["per_model"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
    if per != ["openai/gpt-4o", "openai/gpt-4o-mini"] {
        failures.push(format!("fig4.json per_model holds {per:?}, expected both models"));
    }
    if fig["per_model"]["openai/gpt-4o-mini"]["policy"]["coop_runs"] != json!(["mini-coop-s1"]) {
        failures.push("the coop run is not gpt-4o-mini's coop curve in per_model".into());
    }
    if fig["paired_difference"]["mini-coop-s1"]
        != fig["per_model"]["openai/gpt-4o-mini"]["paired_difference"]["mini-coop-s1"]
    {
        failures.push("the pooled figure compares the coop run with other models' solo seeds".into());
    }
    for f in ["fig4-openai-gpt-4o.svg", "fig4-openai-gpt-4o-mini.svg"] {
        if !report_dir.join(f).is_file() {
            failures.push(format!("report wrote no {f}"));
        }
    }
    failures.extend(unlabelled_creations(&cli.docker, since, ""));
    for f in key_in_files(&sc.dir, &sc.key) {
        failures.push(format!("the key is in {f}"));
    }
    let summary = format!(
        "2 models x 2 seeds + a coop seed (no messaging): pooled difficulties {:?}; coop passed {coop_passed}/{}",
        want.values().collect::<std::collections::BTreeSet<_>>(),
        world::pairs().len()
    );
    Ok(sc.outcome(failures, summary, t, 0.0, keep))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_study_scripts_give_the_difficulties_worked_by_hand() {
        let d = study_difficulty();
        // calc f1_f3: mini fails 1 of 2, big 0 of 2: (1/2 + 0) / 2 = 1/4.
        assert_eq!(d["e2ecalc_task/1/f1_f3"], "1/4");
        // calc f2_f3: mini 2/2, big 1/2: (1 + 1/2) / 2 = 3/4.
        assert_eq!(d["e2ecalc_task/1/f2_f3"], "3/4");
        assert_eq!(d["e2ecalc_task/1/f1_f2"], "0/1");
        assert_eq!(d["e2etext_task/2/f1_f2"], "3/4");
        assert_eq!(d["e2elist_task/3/f1_f2"], "1/4");
        assert_eq!(d["e2elist_task/3/f1_f3"], "3/4");
    }
}

//! The two-seed scenario, which the others build on: a baseline made by
//! the CLI directly, then `seeds` with two seeds (canary, runs, the retry of
//! an `Error` pair, evals, the forced re-eval of an eval that errored, the
//! `eval_summary.json` rewrite, verify), `verify` and `report`; and the
//! checks ([`check`], pure) of what the files and the stand-in saw.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::Value;

use super::scenario::*;
use crate::edges::events::{Event, Line};
use crate::support::world;

/// What the stand-in does for each conversation of each pair, in order (see
/// `fixtures/world/stand_in.py`). Chosen so that the two seeds disagree on
/// three pairs (difficulty 0, 1/3, 2/3 and 1), the canary passes, one pair
/// needs the harness's retry, and one ends `LimitsExceeded`. The retried
/// pair solves in both seeds: seed 2's agents work through seed 1's wait,
/// so which seed takes which of its last two conversations is not fixed.
pub fn script() -> BTreeMap<String, Vec<&'static str>> {
    // Entry 1 is the baseline run (made by the CLI directly, no retry),
    // then seed 1, then seed 2.
    [
        ("e2ecalc_task/1/f1_f2", vec!["solve", "solve", "solve"]),
        // Seed 1: three 429s (the agent's client tries three times), an
        // infra_provider Error the harness retries after its wait.
        ("e2ecalc_task/1/f1_f3", vec!["half", "rate_limit", "rate_limit", "rate_limit", "solve", "solve"]),
        ("e2ecalc_task/1/f2_f3", vec!["half", "half", "half"]),
        ("e2etext_task/2/f1_f2", vec!["solve", "limits", "solve"]),
        ("e2elist_task/3/f1_f2", vec!["solve", "solve", "half"]),
        ("e2elist_task/3/f1_f3", vec!["half", "half", "solve"]),
    ]
    .into_iter()
    .map(|(p, b)| (p.to_string(), b))
    .collect()
}

/// What one seed should end with for one pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    Pass,
    Fail,
    Limits,
}

/// Per pair, the outcome of each run and the conversations it costs: a run
/// takes entries until one that is not `http_error` or `rate_limit` (each
/// try of a refused request is a conversation; the harness retries an
/// `Error` pair within a seed; the baseline's entry is never one).
pub fn expected(script: &BTreeMap<String, Vec<&str>>, seeds: usize) -> BTreeMap<String, (Vec<Expected>, usize)> {
    script
        .iter()
        .map(|(pair, plan)| {
            let (mut outcomes, mut used) = (Vec::new(), 0);
            for _ in 0..seeds {
                loop {
                    let b = plan.get(used).copied().unwrap_or("solve");
                    used += 1;
                    let o = match b {
                        "http_error" | "rate_limit" => continue,
                        "half" => Expected::Fail,
                        "limits" => Expected::Limits,
                        _ => Expected::Pass,
                    };
                    outcomes.push(o);
                    break;
                }
            }
            (pair.clone(), (outcomes, used))
        })
        .collect()
}

/// What one seed run left for one pair, as read from its files.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PairSeen {
    pub status: Option<String>,
    pub both_passed: Option<bool>,
    pub eval_error: Option<String>,
    /// The runner's "N passed, M failed" line is in both features' test output.
    pub tests_ran: bool,
    /// Written by the real CLI (the seed's manifest names 0.0.29, not the simulator).
    pub real_cli: bool,
}

/// Everything the checks look at, gathered by the thin layer.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// (seed index, pair) -> what its files say.
    pub pairs: BTreeMap<(usize, String), PairSeen>,
    pub conversations: BTreeMap<String, u64>,
    /// (path, model, header names) of every request.
    pub requests: Vec<(String, String, Vec<String>)>,
    /// Files or outputs that hold the key.
    pub key_seen_in: Vec<String>,
    pub containers_left: Vec<String>,
    pub processes_left: Vec<String>,
    pub exit_codes: Vec<(String, Option<i32>)>,
}

/// The checks, pure: every failure, named; empty when all hold.
pub fn check(expect: &BTreeMap<String, (Vec<Expected>, usize)>, o: &Observed, model: &str) -> Vec<String> {
    let mut bad = Vec::new();
    for (what, code) in &o.exit_codes {
        if *code != Some(0) {
            bad.push(format!("`{what}` exited {code:?}, expected 0"));
        }
    }
    for (pair, (outcomes, conversations)) in expect {
        for (i, want) in outcomes.iter().enumerate() {
            let Some(seen) = o.pairs.get(&(i, pair.clone())) else {
                bad.push(format!("seed {}: {pair}: no result.json", i + 1));
                continue;
            };
            let got = match (seen.status.as_deref(), seen.both_passed) {
                (Some("LimitsExceeded"), _) => Some(Expected::Limits),
                (Some("Submitted"), Some(true)) => Some(Expected::Pass),
                (Some("Submitted"), Some(false)) => Some(Expected::Fail),
                _ => None,
            };
            if got != Some(*want) {
                bad.push(format!(
                    "seed {}: {pair}: expected {want:?}, the files say status {:?}, both_passed {:?}",
                    i + 1,
                    seen.status,
                    seen.both_passed
                ));
            }
            if !seen.real_cli {
                bad.push(format!("seed {}: {pair}: not written by the real CLI", i + 1));
            }
            if *want != Expected::Limits && !seen.tests_ran {
                bad.push(format!("seed {}: {pair}: eval.json shows no test run in a container", i + 1));
            }
            if let Some(e) = &seen.eval_error {
                bad.push(format!("seed {}: {pair}: eval.json still has an error: {e}", i + 1));
            }
        }
        let had = o.conversations.get(pair).copied().unwrap_or(0);
        if had != *conversations as u64 {
            bad.push(format!("{pair}: the stand-in had {had} conversation(s), the script pays for {conversations}"));
        }
    }
    if o.requests.is_empty() {
        bad.push("the stand-in received no request: the [model_kwargs] api_base route did not take effect".into());
    }
    let want_model = model.split_once('/').map(|(_, m)| m).unwrap_or(model);
    for (path, m, headers) in &o.requests {
        if path != "/v1/chat/completions" || m != want_model {
            bad.push(format!("a request to {path} for model {m:?}, expected /v1/chat/completions for {want_model:?}"));
        }
        if !headers.iter().any(|h| h.eq_ignore_ascii_case("authorization")) {
            bad.push(format!("a request to {path} without an Authorization header: the key did not reach the CLI"));
        }
    }
    for f in &o.key_seen_in {
        bad.push(format!("the key is written in {f}"));
    }
    for c in &o.containers_left {
        bad.push(format!("container left: {c}"));
    }
    for p in &o.processes_left {
        bad.push(format!("process left: {p}"));
    }
    bad.sort();
    bad.dedup();
    bad
}

/// What `seeds` must have done in the two-seed scenario, read from its
/// events (never from the wording of its output): one failure per step
/// that did not happen.
pub fn steps_missing(events: &[Line]) -> Vec<String> {
    let calc = "e2ecalc_task/1/f1_f2";
    let seen = |what: &str, f: &dyn Fn(&Event) -> bool| {
        (!events.iter().any(|l| f(&l.event))).then(|| format!("{what} did not happen (no such event in events.jsonl)"))
    };
    [
        seen(
            "the canary",
            &|e| matches!(e, Event::Canary { pair, status: Some(s), .. } if pair == calc && s == "Submitted"),
        ),
        seen("the retry of the Error pair", &|e| matches!(e, Event::Run { attempt: 2, .. })),
        seen("the forced re-eval of the errored eval", &|e| matches!(e, Event::ForceEval { pair, .. } if pair == calc)),
        seen("the eval_summary.json rewrite", &|e| matches!(e, Event::SummaryRewritten { .. })),
        seen("verify", &|e| matches!(e, Event::Verify { ok: true, .. })),
    ]
    .into_iter()
    .flatten()
    .collect()
}

pub(super) fn two_seeds(root: &Path, cli: &Cli, keep: bool) -> anyhow::Result<Outcome> {
    let s = script();
    let sc = Scenario::new(root, "two-seeds", cli, Some(&s))?;
    let t = Instant::now();
    // The baseline run, as the study's was made: by the CLI itself.
    println!("\ntwo seeds: the baseline, by `cooperbench run` and `eval` (about a minute) in {}", sc.cb.display());
    let baseline_cli = baseline(&sc, cli)?;
    // Kept for the fault scenarios, whose checkouts need a baseline too.
    copy_dir(&sc.cb.join("logs").join(RUNS[0]), &baseline_copy(root))?;
    // One feature's tests.patch goes missing once the seeds have begun (their
    // manifests record the dataset as it was: whole) and is missing when the
    // first eval runs, so that eval writes an error into eval.json; it is put
    // back as soon as that eval.json appears, before the harness's forced
    // re-eval of the pair. A glitch of the machine, not a dataset change.
    let tests = sc.cb.join("dataset/e2ecalc_task/task1/feature2/tests.patch");
    let held = sc.dir.join("tests.patch.held");
    println!("two seeds: `cargo xtask seeds --yes` with two seeds (about three minutes)");
    // One try of the agent's own per refused request, not ten with back-off.
    let since = unix_now();
    let handle = sc.seeds(cli, &[], &[("MSWEA_MODEL_RETRY_STOP_AFTER_ATTEMPT", "1")]).start()?;
    let begun = sc.cb.join("logs").join(RUNS[1]).join(crate::edges::layout::MANIFEST);
    // The first eval of the pair, whichever seed's (seed 2's evals may run
    // while seed 1 waits out its rate limit).
    let errored: Vec<std::path::PathBuf> =
        RUNS[1..].iter().map(|r| sc.cb.join("logs").join(r).join("solo/e2ecalc_task/1/f1_f2/eval.json")).collect();
    let (mut held_back, mut restored) = (false, false);
    let out = loop {
        if !held_back && begun.exists() {
            std::fs::rename(&tests, &held)?;
            held_back = true;
        }
        if held_back && !restored && errored.iter().any(|e| e.exists()) {
            std::fs::rename(&held, &tests)?;
            restored = true;
        }
        if let Some(out) = handle.try_wait()? {
            break out.clone();
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    if held_back && !restored {
        std::fs::rename(&held, &tests).ok();
    }
    let seeds_out = text(&out);
    echo("seeds", &seeds_out);
    let events = sc.events();
    let verify = sc.xtask(&["verify"], &[]).run()?;
    echo("verify", &text(&verify));
    let report_dir = sc.dir.join("report");
    let report =
        sc.xtask(&["report", "--out", report_dir.to_str().unwrap_or("report"), "--bootstrap", "200"], &[]).run()?;
    echo("report", &text(&report));

    let mut o = observe(&sc, &[&seeds_out, &text(&verify), &text(&report)]);
    o.exit_codes = vec![
        ("seeds".into(), out.status.code()),
        ("verify".into(), verify.status.code()),
        ("report".into(), report.status.code()),
    ];
    let mut failures = check(&expected(&s, RUNS.len()), &o, "openai/gpt-4o-mini");
    // The harness's own steps, from its events.
    failures.extend(steps_missing(&events));
    // Every container the CLI made for the seeds carried our labels.
    failures.extend(unlabelled_creations(&cli.docker, since, ""));
    if !restored {
        failures.push("the eval that should have errored wrote no eval.json".into());
    }
    if !sc.cb.join("logs/e2e-solo-seed1/eval_summary.json.cli-last").exists() {
        failures.push("no eval_summary.json.cli-last: the CLI's partial summary was not replaced".into());
    }
    let values = difficulty_values(&report_dir);
    if values.len() < 4 {
        failures.push(format!("difficulty takes {} value(s) ({values:?}), expected 4", values.len()));
    }
    let summary = format!(
        "{} pairs x (baseline + 2 seeds), difficulties {values:?}, {} requests to the stand-in",
        world::pairs().len(),
        o.requests.len()
    );
    Ok(sc.outcome(failures, summary, t, baseline_cli, keep))
}

/// `cooperbench run` and `eval` of the baseline, straight; seconds inside them.
pub(super) fn baseline(sc: &Scenario, cli: &Cli) -> anyhow::Result<f64> {
    let port = sc.stand_in.as_ref().map(|s| s.port).unwrap_or(9);
    let cfg = sc.dir.join("baseline-agent-config.yaml");
    std::fs::write(&cfg, format!("model:\n  model_kwargs:\n    api_base: \"http://127.0.0.1:{port}/v1\"\n"))?;
    let cfg = cfg.display().to_string();
    let t = Instant::now();
    for args in [
        vec![
            "run",
            "-n",
            RUNS[0],
            "-m",
            "openai/gpt-4o-mini",
            "-a",
            "mini_swe_agent_v2",
            "-s",
            world::SUBSET,
            "--setting",
            "solo",
            "--backend",
            "docker",
            "-c",
            "2",
            "--no-auto-eval",
            "--agent-config",
            &cfg,
        ],
        vec!["eval", "-n", RUNS[0], "-s", world::SUBSET, "--backend", "docker", "-c", "2"],
    ] {
        let out = duct::cmd(&cli.bin, &args)
            .dir(&sc.cb)
            .env("OPENAI_API_KEY", &sc.key)
            .env("MSWEA_GLOBAL_CONFIG_DIR", sc.dir.join("mswea"))
            .env("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            .stdin_null()
            .stderr_to_stdout()
            .stdout_capture()
            .unchecked()
            .run()?;
        if !out.status.success() {
            echo(&format!("baseline {}", args[0]), &text(&out));
            bail!("the baseline's `cooperbench {}` exited {:?}", args[0], out.status.code());
        }
    }
    Ok(t.elapsed().as_secs_f64())
}

/// The distinct difficulty values in the report's difficulty.csv.
pub(super) fn difficulty_values(report: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(report.join("difficulty.csv")).unwrap_or_default();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let col = rdr.headers().ok().and_then(|h| h.iter().position(|c| c == "difficulty"));
    let mut v: Vec<String> = rdr
        .records()
        .flatten()
        .filter_map(|r| col.and_then(|c| r.get(c)).map(String::from))
        .filter(|d| !d.is_empty())
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Reads what the scenario left: files, the stand-in's log, Docker, /proc.
pub(super) fn observe(sc: &Scenario, outputs: &[&str]) -> Observed {
    let mut o = Observed::default();
    for (i, run) in RUNS.iter().enumerate() {
        // The baseline is made by e2e with the real CLI; a seed says so in its manifest.
        let real = i == 0
            || std::fs::read_to_string(sc.cb.join("logs").join(run).join(crate::edges::layout::MANIFEST))
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .and_then(|m| m["cooperbench_version"].as_str().map(String::from))
                .is_some_and(|v| v == crate::commands::install_cooperbench::VERSION);
        for pair in world::pairs() {
            let dir = sc.cb.join("logs").join(run).join("solo").join(pair.to_string());
            let read = |f: &str| {
                std::fs::read_to_string(dir.join(f)).ok().and_then(|t| serde_json::from_str::<Value>(&t).ok())
            };
            let Some(result) = read("result.json") else { continue };
            let eval = read("eval.json");
            let ran = |f: &str| {
                eval.as_ref().and_then(|e| e[f]["test_output"].as_str()).is_some_and(|t| t.contains(" passed, "))
            };
            o.pairs.insert(
                (i, pair.to_string()),
                PairSeen {
                    status: result["agent"]["status"].as_str().map(String::from),
                    both_passed: eval.as_ref().and_then(|e| e["both_passed"].as_bool()),
                    eval_error: eval.as_ref().and_then(|e| e["error"].as_str()).map(String::from),
                    tests_ran: ran("feature1") && ran("feature2"),
                    real_cli: real,
                },
            );
        }
    }
    if let Some(s) = &sc.stand_in {
        let requests = s.requests();
        o.conversations = world::conversations(&requests);
        o.requests = requests
            .iter()
            .map(|r| {
                let headers =
                    r["headers"].as_array().map(|h| h.iter().filter_map(|x| x.as_str().map(String::from)).collect());
                (
                    r["path"].as_str().unwrap_or("").to_string(),
                    r["model"].as_str().unwrap_or("").to_string(),
                    headers.unwrap_or_default(),
                )
            })
            .collect();
    }
    o.key_seen_in = key_in_files(&sc.dir, &sc.key);
    for (n, out) in outputs.iter().enumerate() {
        if out.contains(&sc.key) {
            o.key_seen_in.push(format!("the output of harness command {}", n + 1));
        }
    }
    o.containers_left = containers_on_world_images(&sc.docker);
    o.processes_left = processes_in(&sc.dir);
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_gives_four_difficulties_and_one_retry() {
        let e = expected(&script(), RUNS.len());
        assert_eq!(e["e2ecalc_task/1/f1_f3"], (vec![Expected::Fail, Expected::Pass, Expected::Pass], 6));
        assert_eq!(e["e2etext_task/2/f1_f2"], (vec![Expected::Pass, Expected::Limits, Expected::Pass], 3));
        let d: std::collections::BTreeSet<usize> =
            e.values().map(|(o, _)| o.iter().filter(|x| **x != Expected::Pass).count()).collect();
        assert_eq!(d, [0, 1, 2, 3].into(), "difficulty 0, 1/3, 2/3 and 1");
        // The baseline (no retry there) never starts with an HTTP error.
        assert!(script().values().all(|plan| plan[0] != "http_error" && plan[0] != "rate_limit"));
    }

    fn good() -> (BTreeMap<String, (Vec<Expected>, usize)>, Observed) {
        let mut e = BTreeMap::new();
        e.insert("r_task/1/f1_f2".to_string(), (vec![Expected::Pass, Expected::Fail], 2));
        let mut o = Observed::default();
        for (i, passed) in [(0, true), (1, false)] {
            o.pairs.insert(
                (i, "r_task/1/f1_f2".into()),
                PairSeen {
                    status: Some("Submitted".into()),
                    both_passed: Some(passed),
                    eval_error: None,
                    tests_ran: true,
                    real_cli: true,
                },
            );
        }
        o.conversations.insert("r_task/1/f1_f2".into(), 2);
        o.requests.push(("/v1/chat/completions".into(), "gpt-4o-mini".into(), vec!["Authorization".into()]));
        o.exit_codes.push(("seeds".into(), Some(0)));
        (e, o)
    }

    #[test]
    fn the_checker_passes_what_matches() {
        let (e, o) = good();
        assert_eq!(check(&e, &o, "openai/gpt-4o-mini"), Vec::<String>::new());
    }

    type Breakage = Box<dyn Fn(&mut Observed)>;

    /// Each misbehaviour of the harness or the CLI is caught, and named.
    #[test]
    fn the_checker_fails_what_does_not() {
        let (e, good) = good();
        let cases: Vec<(Breakage, &str)> = vec![
            (
                Box::new(|o| o.pairs.get_mut(&(1, "r_task/1/f1_f2".into())).unwrap().both_passed = Some(true)),
                "expected Fail",
            ),
            (
                Box::new(|o| *o.conversations.get_mut("r_task/1/f1_f2").unwrap() = 3),
                "had 3 conversation(s), the script pays for 2",
            ),
            (Box::new(|o| o.requests.clear()), "received no request"),
            (Box::new(|o| o.requests[0].2.clear()), "without an Authorization header"),
            (
                Box::new(|o| o.key_seen_in.push("x/agent-config.yaml".into())),
                "the key is written in x/agent-config.yaml",
            ),
            (Box::new(|o| o.containers_left.push("abc minisweagent-1".into())), "container left"),
            (Box::new(|o| o.processes_left.push("pid 7: cooperbench run".into())), "process left"),
            (
                Box::new(|o| o.pairs.get_mut(&(0, "r_task/1/f1_f2".into())).unwrap().real_cli = false),
                "not written by the real CLI",
            ),
            (
                Box::new(|o| o.pairs.get_mut(&(0, "r_task/1/f1_f2".into())).unwrap().tests_ran = false),
                "no test run in a container",
            ),
            (
                Box::new(|o| {
                    o.pairs.remove(&(1, "r_task/1/f1_f2".into()));
                }),
                "seed 2: r_task/1/f1_f2: no result.json",
            ),
            (Box::new(|o| o.exit_codes[0].1 = Some(1)), "`seeds` exited Some(1)"),
        ];
        for (break_it, says) in cases {
            let mut o = good.clone();
            break_it(&mut o);
            let failures = check(&e, &o, "openai/gpt-4o-mini");
            assert!(failures.iter().any(|f| f.contains(says)), "{says:?} not in {failures:?}");
        }
    }

    #[test]
    fn the_seeds_steps_are_read_from_the_events() {
        let line = |event| Line { at: "2026-12-04T10:00:00".into(), event };
        let calc = || "e2ecalc_task/1/f1_f2".to_string();
        let mut all = vec![
            line(Event::Canary {
                run: RUNS[1].into(),
                pair: calc(),
                status: Some("Submitted".into()),
                error: None,
                cost: Some(0.0),
            }),
            line(Event::Run { run: RUNS[1].into(), attempt: 2, pairs: 1 }),
            line(Event::ForceEval { run: RUNS[1].into(), pair: calc() }),
            line(Event::SummaryRewritten { run: RUNS[1].into() }),
            line(Event::Verify { ok: true, failures: 0, warnings: 0 }),
        ];
        assert_eq!(steps_missing(&all), Vec::<String>::new());
        all.remove(1);
        all[0].event =
            Event::Canary { run: RUNS[1].into(), pair: calc(), status: Some("Error".into()), error: None, cost: None };
        assert_eq!(
            steps_missing(&all),
            [
                "the canary did not happen (no such event in events.jsonl)",
                "the retry of the Error pair did not happen (no such event in events.jsonl)"
            ]
        );
    }
}

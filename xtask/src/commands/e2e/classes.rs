//! Outcome classes as the real CLI makes them: a 429 retried, a 429 every
//! time, a patch too large for the grader, an empty submission.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use serde_json::Value;

use super::scenario::*;
use crate::edges::events::Event;

/// Outcome classes, made by the real CLI: a pair whose stand-in answers
/// 429 once (retried, then passes) and one that answers 429 every time
/// (ends `infra_provider`), a pair whose pull request carries a generated
/// file too large for the grader (`eval_grader_limit` with the CLI's own
/// error, never re-evaluated), and a pair submitted with nothing changed
/// (`empty_patch`, never retried). The classes are read back through
/// `verify --json`, the conversations paid from the stand-in's log.
pub(super) fn classes(root: &Path, cli: &Cli, keep: bool) -> anyhow::Result<Outcome> {
    const RETRIED: &str = "e2ecalc_task/1/f1_f3";
    const RATE_LIMITED: &str = "e2elist_task/3/f1_f2";
    const BIG: &str = "e2ecalc_task/1/f2_f3";
    const EMPTY: &str = "e2etext_task/2/f1_f2";
    // The agent's OpenAI client tries a request three times (its own two
    // retries), and each try starts a conversation at the stand-in: three
    // 429s end one attempt of the harness.
    let script: BTreeMap<String, Vec<&str>> = [
        (RETRIED, vec!["rate_limit"; 3].into_iter().chain(["solve"]).collect()),
        (RATE_LIMITED, vec!["rate_limit"; 9]),
        (BIG, vec!["big", "big"]),
        (EMPTY, vec!["empty", "empty"]),
    ]
    .into_iter()
    .map(|(p, b)| (p.to_string(), b))
    .collect();
    let sc = Scenario::new(root, "classes", cli, Some(&script))?;
    let t = Instant::now();
    // One attempt of the agent's own instead of ten with back-off.
    let out = sc.seeds(cli, &["--seeds", "1"], &[("MSWEA_MODEL_RETRY_STOP_AFTER_ATTEMPT", "1")]).run()?;
    echo("seeds (outcome classes)", &text(&out));
    let verify = sc.xtask(&["verify", "--json", "--runs", RUNS[1]], &[]).run()?;
    let mut failures = Vec::new();
    let v: Value = serde_json::from_slice(&verify.stdout).unwrap_or(Value::Null);
    let class_of = |pair: &str| -> Option<String> {
        v["runs"][0]["class_pairs"]
            .as_object()?
            .iter()
            .find(|(_, pairs)| pairs.as_array().is_some_and(|a| a.iter().any(|p| p == pair)))
            .map(|(c, _)| c.clone())
    };
    // Conversations the stand-in served (not refused with a 429): what was paid.
    let requests = sc.stand_in.as_ref().map(|s| s.requests()).unwrap_or_default();
    let served =
        |pair: &str| requests.iter().filter(|r| r["pair"] == pair && r["step"] == 0 && r["status"] == 200).count();
    let refused = |pair: &str| requests.iter().filter(|r| r["pair"] == pair && r["status"] == 429).count();
    let forced: Vec<String> = sc
        .events()
        .into_iter()
        .filter_map(|l| match l.event {
            Event::ForceEval { pair, .. } => Some(pair),
            _ => None,
        })
        .collect();
    // (pair, class, conversations served, 429s): a 429 pair retried once by
    // the harness (attempts = 2) is refused twice three times.
    for (pair, class, paid, limited) in [
        (RETRIED, "pass", 1, 3),
        (RATE_LIMITED, "infra_provider", 0, 6),
        (BIG, "eval_grader_limit", 1, 0),
        (EMPTY, "empty_patch", 1, 0),
    ] {
        let got = class_of(pair);
        if got.as_deref() != Some(class) {
            failures.push(format!("{pair}: class {got:?}, expected {class}"));
        }
        if served(pair) != paid || refused(pair) != limited {
            failures.push(format!(
                "{pair}: the stand-in served {} conversation(s) and refused {} request(s), expected {paid} and {limited}",
                served(pair),
                refused(pair)
            ));
        }
    }
    if forced.iter().any(|p| p == BIG) {
        failures.push(format!("{BIG}: re-evaluated, though no eval can take its patch"));
    }
    let eval = std::fs::read_to_string(sc.cb.join("logs").join(RUNS[1]).join("solo").join(BIG).join("eval.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok());
    let error = eval.as_ref().and_then(|e| e["error"].as_str()).unwrap_or("");
    if error != "Failed to write solo.patch: " {
        failures.push(format!("{BIG}: the real CLI's eval error is {error:?}, not \"Failed to write solo.patch: \""));
    }
    let result =
        std::fs::read_to_string(sc.cb.join("logs").join(RUNS[1]).join("solo").join(RATE_LIMITED).join("result.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok());
    let said = result.as_ref().and_then(|r| r["agent"]["error"].as_str()).unwrap_or("").to_string();
    println!("outcome classes: the real CLI's error for a 429: {}", crate::study::class::cut(&said, 160));
    let triage = sc.xtask(&["triage", RUNS[1]], &[]).run()?;
    echo("triage", &text(&triage));
    if !text(&triage).contains("eval_grader_limit") {
        failures.push("triage does not name the eval_grader_limit pair".into());
    }
    Ok(sc.outcome(failures, "429 retried then passed / kept failing, grader limit, empty patch", t, 0.0, keep))
}

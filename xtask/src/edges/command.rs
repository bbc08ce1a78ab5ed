//! The cooperbench command lines `seeds` runs, spelled once, as pure
//! functions of the experiment (CONTRACT.md, "Flags").

use std::path::Path;

use crate::study::arms::Arm;
use crate::study::pair::PairId;

/// `cooperbench run` for one seed run: every pair, or one (the canary).
pub fn run(exp: &Arm, run: &str, pair: Option<&PairId>, agent_config: Option<&Path>) -> Vec<String> {
    let mut a: Vec<String> = [
        "run",
        "-n",
        run,
        "-m",
        &exp.model,
        "-a",
        &exp.agent,
        "-s",
        &exp.study.subset,
        "--setting",
        exp.setting.name(),
    ]
    .map(String::from)
    .into();
    // A coop arm's flags as the CLI names them; messaging is its default
    // (and needs Redis), so only its absence is said.
    if exp.setting == crate::study::setting::Setting::Coop {
        if !exp.messaging {
            a.push("--no-messaging".into());
        }
        if exp.git {
            a.push("--git".into());
        }
    }
    a.extend(["--backend".into(), exp.backend.name().into()]);
    match pair {
        Some(p) => a.extend(filter(p).into_iter().chain(["-c".into(), "1".into()])),
        None => a.extend(["-c".into(), exp.run_concurrency.to_string()]),
    }
    // Evals are the harness's own step, with their own retries.
    a.push("--no-auto-eval".into());
    if let Some(cfg) = agent_config {
        a.extend(["--agent-config".into(), cfg.display().to_string()]);
    }
    a
}

/// The Redis a messaging coop invocation uses (`--redis`, `cli.py`).
pub fn redis(url: &str) -> [String; 2] {
    ["--redis".into(), url.into()]
}

/// `cooperbench eval` for one seed run: every pair, or one forced.
pub fn eval(exp: &Arm, run: &str, forced: Option<&PairId>) -> Vec<String> {
    let mut a: Vec<String> =
        ["eval", "-n", run, "-s", &exp.study.subset, "--backend", exp.backend.name()].map(String::from).into();
    match forced {
        // An error inside the container sticks until --force, pair by pair.
        Some(p) => a.extend(filter(p).into_iter().chain(["-c".into(), "1".into(), "--force".into()])),
        None => a.extend(["-c".into(), exp.eval_concurrency.to_string()]),
    }
    a
}

fn filter(p: &PairId) -> Vec<String> {
    vec!["-r".into(), p.repo.clone(), "-t".into(), p.task_id.to_string(), "-f".into(), format!("{},{}", p.a, p.b)]
}

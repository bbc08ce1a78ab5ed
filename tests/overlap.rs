//! Seed k's evals beside seed k+1's agents (#35), on the simulator: the
//! two invocations really run at once, within one budget of containers,
//! and Ctrl-C during the overlap pays for nothing twice on the rerun.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::*;

/// Every CLI invocation's span from `.harness/events.jsonl`: (run, what, started, ended).
fn spans(c: &Checkout) -> Vec<(String, String, f64, f64)> {
    let text = std::fs::read_to_string(c.cb().join(".harness/events.jsonl")).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["event"] == "invocation")
        .map(|v| {
            (
                v["run"].as_str().unwrap_or_default().to_string(),
                v["what"].as_str().unwrap_or_default().to_string(),
                v["started"].as_f64().unwrap_or_default(),
                v["ended"].as_f64().unwrap_or_default(),
            )
        })
        .collect()
}

/// How many times the simulator did `kind` for each pair of `run`.
fn per_pair(c: &Checkout, kind: &str, run: &str) -> BTreeMap<String, usize> {
    let mut n = BTreeMap::new();
    for p in c.sim_work(kind, run) {
        *n.entry(p).or_default() += 1;
    }
    n
}

#[test]
fn seed_twos_agents_start_before_seed_ones_last_eval_ends_within_the_budget() {
    let c = Checkout::with_baseline("");
    let out = c.seeds(&["--yes"], &[("COOPERBENCH_SIM_SLOW_MS", "15")]).ran();
    out.expect_code(0);
    let o = text(&out);
    // The demo's experiment: agents -c 4, evals -c 10; beside the agents
    // the evals take what is left of the larger.
    assert!(
        o.contains("at most 10 containers at once: a seed's agents at -c 4, beside them another seed's evals at -c 6, alone at -c 10"),
        "{o}"
    );
    assert!(o.contains(&format!("eval: {SIM} eval -n {SEED1} -s lite --backend docker -c 6")), "{o}");
    assert!(o.contains(&format!("eval: {SIM} eval -n {SEED2} -s lite --backend docker -c 10")), "{o}");
    let s = spans(&c);
    let first_of_seed2 = s.iter().filter(|x| x.0 == SEED2).map(|x| x.2).fold(f64::MAX, f64::min);
    let last_eval_of_seed1 =
        s.iter().filter(|x| x.0 == SEED1 && x.1.starts_with("eval")).map(|x| x.3).fold(0.0, f64::max);
    assert!(first_of_seed2 < last_eval_of_seed1, "no overlap: {s:?}");
    // Each run's agents only after its own run's... and every pair once.
    for run in [SEED1, SEED2] {
        let runs = per_pair(&c, "run", run);
        assert_eq!((runs.len(), runs.values().max().copied()), (100, Some(1)), "{run}");
        assert_eq!(per_pair(&c, "eval", run).len(), 100, "{run}");
    }
    let v = c.xtask(&["verify"]).ran();
    v.expect_code(0);
}

#[test]
fn ctrl_c_during_the_overlap_pays_for_nothing_twice() {
    let c = Checkout::with_baseline("");
    // Slow enough that neither seed 2's run nor seed 1's evals end before
    // the signal (the simulator's pairs take this long each, -c at a time).
    let handle = c.seeds(&["--yes"], &[("COOPERBENCH_SIM_SLOW_MS", "200")]).start().unwrap();
    // Both at work: seed 2's agents and seed 1's grader.
    let deadline = Instant::now() + Duration::from_secs(120);
    while c.sim_work("run", SEED2).len() < 3 || c.sim_work("eval", SEED1).len() < 3 {
        assert!(handle.try_wait().unwrap().is_none(), "seeds ended before the overlap: {}", c.sim_record().len());
        assert!(Instant::now() < deadline, "never overlapped");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = handle.pids()[0] as i32;
    // SAFETY: signals the harness process this test started.
    unsafe { libc::kill(pid, libc::SIGINT) };
    let out = loop {
        if let Some(o) = handle.try_wait().unwrap() {
            break o.clone();
        }
        assert!(Instant::now() < deadline + Duration::from_secs(15), "still running after SIGINT");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    let (ran2, graded1) = (c.sim_work("run", SEED2).len(), c.sim_work("eval", SEED1).len());
    assert!(ran2 < 100 && graded1 < 100, "the overlap ended before the signal: {ran2} runs, {graded1} evals");
    let again = c.seeds(&["--yes"], &[]).ran();
    again.expect_code(0);
    for run in [SEED1, SEED2] {
        let runs = per_pair(&c, "run", run);
        assert_eq!(runs.len(), 100, "{run}");
        assert_eq!(runs.values().max().copied(), Some(1), "{run}: a pair paid for twice: {runs:?}");
    }
    c.xtask(&["verify"]).ran().expect_code(0);
}

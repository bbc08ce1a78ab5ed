//! `cargo xtask oracle` on the world: every gold patch graded by the real
//! `cooperbench eval`.

use std::path::Path;
use std::time::Instant;

use super::scenario::*;
use crate::support::world;

/// `cargo xtask oracle` on the real CLI: every gold patch of the world
/// passes (one task through its combined.patch, the others through their
/// features' patches); then the subset with the broken task names its pair
/// and evaluates nothing twice; then `seeds` with `require_oracle = true`
/// refuses before the canary, having spent nothing.
pub(super) fn oracle(root: &Path, cli: &Cli, keep: bool) -> anyhow::Result<Outcome> {
    const BROKEN: &str = "e2ebroken_task/4/f1_f2";
    let sc = Scenario::new(root, "oracle", cli, None)?;
    let t = Instant::now();
    let bin = cli.bin.display().to_string();
    let out_dir = sc.dir.join("results");
    let od = out_dir.display().to_string();
    let mut failures = Vec::new();
    let first = sc.xtask(&["oracle", "--cooperbench-bin", &bin, "--out", &od], &[]).run()?;
    echo("oracle", &text(&first));
    if first.status.code() != Some(0) {
        failures.push(format!("oracle on subset e2e exited {:?}, expected 0", first.status.code()));
    }
    let csv = std::fs::read_to_string(out_dir.join("oracle.csv")).unwrap_or_default();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    if rows.len() != world::pairs().len() || !rows.iter().all(|r| r.contains(",pass,true,")) {
        failures.push(format!("oracle.csv does not have every e2e pair passing:\n{csv}"));
    }
    if rows.iter().any(|r| r.split(',').nth(5).is_none_or(|s| s.parse::<f64>().is_err())) {
        failures.push(format!("oracle.csv lacks an eval time:\n{csv}"));
    }
    let run = crate::study::oracle::run_name(RUNS[0]);
    let times =
        || std::fs::read_to_string(crate::edges::layout::eval_times(&sc.cb, &run)).unwrap_or_default().lines().count();
    let evaluated = times();

    let second =
        sc.xtask(&["oracle", "--cooperbench-bin", &bin, "--out", &od, "--subset", world::ORACLE_SUBSET], &[]).run()?;
    echo("oracle (with the broken task)", &text(&second));
    if second.status.code() != Some(1) || !text(&second).contains(&format!("{BROKEN} fail")) {
        failures.push(format!("the oracle did not name {BROKEN} as failing (exit {:?})", second.status.code()));
    }
    if times() != evaluated + 1 {
        failures.push(format!("the second oracle evaluated {} pair(s), expected only {BROKEN}", times() - evaluated));
    }

    // The dataset moves: one feature's test changes (still a passing test).
    // The oracle names the pairs of that feature and grades only them again.
    let (repo, id, f) = ("e2elist_task", 3, 3);
    let tests = sc.cb.join(format!("dataset/{repo}/task{id}/feature{f}/tests.patch"));
    let patch = std::fs::read_to_string(&tests)?;
    std::fs::write(&tests, patch.replace("= \"y\" ]", "= \"y\"  ]"))?;
    let regraded: Vec<String> = world::TASKS
        .iter()
        .filter(|t| t.repo == repo)
        .flat_map(|t| t.pairs.iter().filter(|(a, b)| *a == f || *b == f).map(|(a, b)| format!("{repo}/{id}/f{a}_f{b}")))
        .collect();
    let before = times();
    let third = sc.xtask(&["oracle", "--cooperbench-bin", &bin, "--out", &od], &[]).run()?;
    let said = text(&third);
    echo("oracle (a test changed since)", &said);
    let named_all = regraded.iter().all(|p| {
        said.contains(&format!("  {p}: feature {f}'s tests.patch since the oracle graded it: moved aside to "))
    });
    if third.status.code() != Some(0) || !named_all || times() != before + regraded.len() {
        failures.push(format!(
            "after feature {f}'s tests.patch of {repo}/{id} changed, the oracle did not grade again exactly {regraded:?} (exit {:?}, {} evaluated)",
            third.status.code(),
            times() - before
        ));
    }

    // The experiment as a careful user sets it: the oracle is required.
    // (`--subset` sets aside the file's expected_pairs, which are e2e's.)
    let text_of = std::fs::read_to_string(&sc.experiment)?;
    let strict: String = text_of
        .lines()
        .map(|l| if l.starts_with("attempts") { format!("{l}\nrequire_oracle = true") } else { l.to_string() })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&sc.experiment, strict + "\n")?;
    let seeds = sc.seeds(cli, &["--subset", world::ORACLE_SUBSET], &[]).run()?;
    let said = text(&seeds);
    echo("seeds with require_oracle", &said);
    if seeds.status.success() || !said.contains(&format!("does not pass on 1 of 7 pairs: {BROKEN}")) {
        failures.push(format!("seeds with require_oracle did not refuse naming {BROKEN}"));
    }
    if !said.contains("nothing was spent") || sc.cb.join("logs/e2e-solo-seed1").exists() {
        failures.push("seeds with require_oracle started a seed".into());
    }
    Ok(sc.outcome(failures, "gold patches pass; a broken test named; seeds refused with require_oracle", t, 0.0, keep))
}

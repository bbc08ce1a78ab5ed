//! A launcher that starts the real CLI in a session of its own
//! (`start_new_session=True`, as launchers and worker pools do): after a
//! `kill -9` of the harness the CLI lives on outside every group the
//! harness recorded. It carries the mark every invocation sets, so the
//! rerun finds it and refuses; `--stop-orphans` ends it; the rerun pays
//! for nothing twice.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::bail;

use super::scenario::*;
use crate::study::pair::PairId;
use crate::support::world;

pub(super) fn session_worker(root: &Path, cli: &Cli, keep: bool) -> anyhow::Result<Outcome> {
    let all_solve = BTreeMap::new();
    let sc = Scenario::new(root, "session-worker", cli, Some(&all_solve))?;
    // The launcher: the venv's Python (so the harness reads the CLI's
    // version and agents through it, as through the CLI itself), the real
    // CLI in a new session, its exit status passed on.
    let launcher = sc.dir.join("launcher");
    std::fs::write(
        &launcher,
        format!(
            "#!{}\nimport subprocess, sys\np = subprocess.Popen([{:?}] + sys.argv[1:], start_new_session=True)\nsys.exit(p.wait())\n",
            cli.python.display(),
            cli.bin.display().to_string()
        ),
    )?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&launcher, std::fs::Permissions::from_mode(0o755))?;
    let bin = launcher.display().to_string();
    let seeds = |extra: &[&str]| {
        let mut args = vec!["seeds", "--cooperbench-bin", bin.as_str(), "--yes", "--seeds", "1"];
        args.extend_from_slice(extra);
        sc.xtask(&args, &[])
    };
    let t = Instant::now();
    let handle = seeds(&[]).start()?;
    let deadline = Instant::now() + Duration::from_secs(300);
    while results_in(&sc.cb, RUNS[1]) < 2 {
        if handle.try_wait()?.is_some() || Instant::now() > deadline {
            bail!("seeds ended (or hung) before two pairs were done");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let done_before: Vec<PairId> = world::pairs()
        .into_iter()
        .filter(|p| sc.cb.join("logs/e2e-solo-seed1/solo").join(p.to_string()).join("result.json").exists())
        .collect();
    // SAFETY: kills the harness process this scenario started.
    unsafe { libc::kill(handle.pids()[0] as i32, libc::SIGKILL) };
    let _ = handle.wait();
    std::thread::sleep(Duration::from_millis(500));
    let mut failures = Vec::new();
    let survivors = processes_in(&sc.dir);
    if survivors.is_empty() {
        failures.push("no CLI process outlived the harness: the scenario proves nothing".into());
    }
    println!("session-worker: killed the harness (-9); left running: {}", survivors.join("; "));
    let refused = seeds(&[]).unchecked().run()?;
    let said = text(&refused);
    echo("seeds (beside the worker)", &said);
    if refused.status.success() {
        failures.push("seeds started beside the CLI worker a killed harness left".into());
    }
    if !said.contains("left their group") {
        failures.push("the refusal does not name the worker that left its group".into());
    }
    let rerun = seeds(&["--stop-orphans"]).unchecked().run()?;
    let second = text(&rerun);
    echo("seeds (--stop-orphans)", &second);
    if rerun.status.code() != Some(0) {
        failures.push(format!("seeds --stop-orphans exited {:?}, expected 0", rerun.status.code()));
    }
    for p in processes_in(&sc.dir) {
        failures.push(format!("after --stop-orphans and the rerun, process left: {p}"));
    }
    if results_in(&sc.cb, RUNS[1]) != world::pairs().len() {
        failures.push("the rerun did not finish every pair".into());
    }
    let conversations = world::conversations(&sc.stand_in.as_ref().map(|s| s.requests()).unwrap_or_default());
    for p in &done_before {
        let n = conversations.get(&p.to_string()).copied().unwrap_or(0);
        if n != 1 {
            failures.push(format!("{p} had a result before the kill and was paid for {n} times"));
        }
    }
    let summary = format!(
        "a worker in its own session outlived kill -9, was refused beside and stopped; {} pair(s) done before were paid once",
        done_before.len()
    );
    Ok(sc.outcome(failures, summary, t, 0.0, keep))
}

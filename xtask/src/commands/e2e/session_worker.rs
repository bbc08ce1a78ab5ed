//! A launcher that starts the real CLI in a session of its own
//! (`start_new_session=True`, as launchers and worker pools do): after a
//! `kill -9` of the harness the CLI lives on outside every group the
//! harness recorded. It carries the mark every invocation sets, so the
//! rerun finds it and refuses; `--stop-orphans` ends it; the rerun pays
//! for nothing twice.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use super::scenario::*;

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
    let done_before = pairs_done_mid_seed(&sc, &handle)?;
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
    failures.extend(finished_and_paid_once(&sc, &done_before, "the kill"));
    let summary = format!(
        "a worker in its own session outlived kill -9, was refused beside and stopped; {} pair(s) done before were paid once",
        done_before.len()
    );
    Ok(sc.outcome(failures, summary, t, 0.0, keep))
}

//! Ctrl-C in the middle of a seed, then `kill -9` mid-run with a foreign
//! container started meanwhile: nothing of ours left, the foreign one
//! untouched, nothing paid twice on the rerun.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use super::scenario::*;
use crate::edges::events::Event;
use crate::support::world;

/// Ctrl-C in the middle of seed 1: nothing of it is left, a rerun finishes,
/// and no pair that had a result before the signal is paid again.
pub(super) fn ctrl_c(root: &Path, cli: &Cli, keep: bool) -> anyhow::Result<Outcome> {
    let all_solve = BTreeMap::new();
    let sc = Scenario::new(root, "ctrl-c", cli, Some(&all_solve))?;
    let t = Instant::now();
    let handle = sc.seeds(cli, &["--seeds", "1"], &[]).start()?;
    let done_before = pairs_done_mid_seed(&sc, &handle)?;
    let pid = handle.pids()[0] as i32;
    // SAFETY: signals the harness process this scenario started.
    unsafe { libc::kill(pid, libc::SIGINT) };
    let out = handle.wait()?.clone();
    let first = text(&out);
    echo("seeds (interrupted)", &first);
    let mut failures = Vec::new();
    if out.status.code() != Some(crate::engine::job::INTERRUPTED) {
        failures.push(format!("the interrupted seeds exited {:?}, expected 130", out.status.code()));
    }
    for p in processes_in(&sc.dir) {
        failures.push(format!("after Ctrl-C, process left: {p}"));
    }
    for c in settled_containers(&cli.docker) {
        failures.push(format!("after Ctrl-C, container left: {c}"));
    }
    // Then a kill -9 mid-run, with another job's container started on a task
    // image meanwhile: the CLI dies with the harness, and the rerun removes
    // what carries our labels (one made just before the kill too), not it.
    let since = unix_now();
    let foreign = format!("xtask-e2e-foreign-{}", std::process::id());
    let handle = sc.seeds(cli, &["--seeds", "1"], &[]).start()?;
    let before_kill = results_in(&sc.cb, RUNS[1]);
    let deadline = Instant::now() + Duration::from_secs(300);
    while labelled_containers(&cli.docker).is_empty() {
        if handle.try_wait()?.is_some() || Instant::now() > deadline {
            failures.push("the second seeds ended (or hung) before a container of ours appeared".into());
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let image = crate::edges::docker::task_image(world::TASKS[0].repo, world::TASKS[0].id);
    let planted = duct::cmd!(cli.docker.program(), "run", "-d", "--name", &foreign, &image, "sleep", "600")
        .stdout_null()
        .stderr_capture()
        .unchecked()
        .run()?;
    if !planted.status.success() {
        failures.push(format!("could not start the foreign container: {}", String::from_utf8_lossy(&planted.stderr)));
    }
    failures.extend(kill_9(&sc.dir, &handle));
    println!("ctrl-c: killed the harness (-9) with {} result(s) before it", before_kill);
    let rerun = sc.seeds(cli, &["--seeds", "1"], &[]).run()?;
    let second = text(&rerun);
    echo("seeds (resumed)", &second);
    let survived =
        crate::edges::docker::Docker::new(cli.docker.program()).containers()?.iter().any(|c| c.name == foreign);
    if !survived {
        failures.push(format!("{foreign}, another job's container started during our run, was removed"));
    }
    let _ = duct::cmd!(cli.docker.program(), "rm", "-f", &foreign).stdout_null().stderr_null().unchecked().run();
    failures.extend(unlabelled_creations(&cli.docker, since, &foreign));
    if rerun.status.code() != Some(0) {
        failures.push(format!("the rerun exited {:?}, expected 0", rerun.status.code()));
    }
    failures.extend(finished_and_paid_once(&sc, &done_before, "Ctrl-C"));
    let summary = format!(
        "stopped with {} of {} done; the rerun paid none of them again",
        done_before.len(),
        world::pairs().len()
    );
    let events = sc.events();
    if !events.iter().any(|l| l.event == Event::Interrupted) {
        failures.push("the interrupted seeds recorded no `interrupted` event".into());
    }
    Ok(sc.outcome(failures, summary, t, 0.0, keep))
}

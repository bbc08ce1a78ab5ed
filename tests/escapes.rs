//! Nothing escapes: what a careful but unlucky user's setup does to the
//! harness's own files and processes (the second review's tries, #29). A
//! named pipe where the harness writes is refused, not waited on; a CLI
//! worker that left its group is found by its mark, refused beside and
//! stopped; a daemonised worker's zombie is reaped so its launcher ends.

mod common;

use std::time::{Duration, Instant};

use common::*;

/// N37, N38: a named pipe where the harness keeps its events and a seed's
/// attempts. Before, `seeds` blocked in open() (no reader comes) and did
/// not hear Ctrl-C; now each is refused at once, said, and the work goes on.
#[test]
fn a_pipe_in_place_of_the_harness_files_is_refused_not_waited_on() {
    let c = Checkout::with_baseline("");
    let mkfifo = |p: std::path::PathBuf| {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let s = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mkfifo(3) on a path in this test's own checkout.
        assert_eq!(unsafe { libc::mkfifo(s.as_ptr(), 0o600) }, 0, "{}", p.display());
    };
    mkfifo(c.cb().join(".harness/events.jsonl"));
    mkfifo(c.cb().join("logs").join(SEED1).join("harness-attempts.jsonl"));
    let handle = c.seeds(&["--yes", "--seeds", "1"], &[]).start().unwrap();
    let out = finished_within(&handle, 120, "blocked on a pipe");
    out.expect_code(0);
    let o = text(&out);
    assert!(o.contains("events.jsonl"), "the events file is named: {o}");
    assert!(o.contains("could not record the attempts"), "{o}");
    assert_eq!(c.sim_work("run", SEED1).len(), 100);
}

/// N5, N6: a CLI worker that left the CLI's process group (as a worker
/// pool's `start_new_session=True` does) outlives a `kill -9` of its
/// harness. It carries the mark every invocation sets, so the next start
/// finds it: `status` names it, `seeds` refuses to start beside it, and
/// `--stop-orphans` ends it (and then runs).
#[test]
fn a_worker_that_left_its_group_is_found_by_its_mark_refused_and_stopped() {
    use std::os::unix::process::CommandExt;
    let c = Checkout::with_baseline("");
    let id = xtask::edges::identity::checkout_id(&c.cb());
    // Its harness, pid 999999 started at tick 1, is no process: killed.
    let mark = format!("{id}/999999/1/{SEED1}");
    let mut cmd = std::process::Command::new("sleep");
    cmd.arg("300").env("XTASK_MARK", &mark);
    // SAFETY: setsid(2) in the child before exec: a session of its own.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    struct Reaped(std::process::Child);
    impl Drop for Reaped {
        fn drop(&mut self) {
            // Ours: made above; ended whatever the test did.
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut worker = Reaped(cmd.spawn().unwrap());
    let pid = worker.0.id();
    let status = c.xtask(&["status"]).ran();
    assert!(text(&status).contains(&format!("pid {pid} `sleep 300`")), "{}", status.story());
    let refused = c.seeds(&["--yes", "--seeds", "1"], &[]).ran();
    assert_ne!(refused.output.status.code(), Some(0), "{}", refused.story());
    let t = text(&refused);
    assert!(t.contains("left their group") && t.contains(&format!("pid {pid}")), "{t}");
    assert!(c.sim_work("run", SEED1).is_empty(), "nothing paid beside it");
    let stopped = c.seeds(&["--yes", "--seeds", "1", "--stop-orphans"], &[]).ran();
    stopped.expect_code(0);
    let ended = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        worker.0.try_wait().ok().flatten().is_some()
    });
    assert!(ended, "the marked worker still runs after --stop-orphans");
    assert_eq!(c.sim_work("run", SEED1).len(), 100);
}

/// N7: a launcher that daemonises its worker (a double fork into a session
/// of its own) and then polls `kill(worker, 0)` until it is gone. The
/// worker's parent exits, so the harness (the subreaper) adopts it; when
/// it exits it stays a zombie unless the harness reaps it, and the
/// launcher waits forever. The harness reaps every adopted child: the
/// invocation ends.
#[test]
fn a_daemonised_worker_is_reaped_so_its_launcher_ends() {
    let c = Checkout::with_baseline("");
    let launcher = c.tmp.path().join("launcher");
    std::fs::write(
        &launcher,
        format!(
            r#"#!/usr/bin/env bash
case "$1" in
  run|eval)
    # The worker: forked by a subshell that exits at once (so the worker
    # is adopted by the nearest subreaper), in a session of its own.
    worker=$( (setsid sleep 1 >/dev/null 2>&1 & echo $!) )
    while kill -0 "$worker" 2>/dev/null; do sleep 0.1; done ;;
esac
exec {SIM:?} "$@"
"#
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&launcher, std::fs::Permissions::from_mode(0o755)).unwrap();
    let handle = c
        .xtask(&["seeds", "--cooperbench-bin", launcher.to_str().unwrap(), "--yes", "--seeds", "1"])
        .env("COHERE_API_KEY", KEY)
        .stdin_null()
        .start()
        .unwrap();
    let out = finished_within(&handle, 120, "a launcher waits on a zombie nobody reaps");
    out.expect_code(0);
    assert_eq!(c.sim_work("run", SEED1).len(), 100);
}

/// The run `handle` ended within `secs` seconds; else it is killed and the
/// test fails saying `why` it would hang.
fn finished_within(handle: &duct::Handle, secs: u64, why: &str) -> common::Ran {
    let started = Instant::now();
    loop {
        if let Some(o) = handle.try_wait().unwrap() {
            return common::Ran { command: format!("{handle:?}"), output: o.clone() };
        }
        if started.elapsed() > Duration::from_secs(secs) {
            let _ = handle.kill();
            panic!("still running after {secs} s: {why}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

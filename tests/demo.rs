//! The demo runs end to end on the simulator, and the committed
//! results/demo/ is what it makes today.

mod common;

use common::*;

#[test]
fn demo_runs_and_committed_results_are_fresh() {
    let tmp = tempfile::tempdir().unwrap();
    let out = duct::cmd(XTASK, ["demo", "--dir", tmp.path().to_str().unwrap()])
        .env("XTASK_DOCKER", fake_docker())
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .ran();
    out.expect_code(0);
    let o = text(&out);
    assert!(o.contains("verify: OK"), "{o}");
    assert!(o.contains("This used the bundled simulator"), "{o}");
    let committed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../results/demo");
    for f in xtask::commands::report::FILES {
        let fresh = std::fs::read(tmp.path().join("results").join(f)).unwrap();
        let old = std::fs::read(committed.join(f)).unwrap_or_default();
        assert!(fresh == old, "results/demo/{f} is stale: run `cargo xtask demo --write-results` and commit");
    }
}

/// The test helper itself: a failed expectation tells the command, its exit
/// code, stdout and stderr (ripgrep's TestCommand does the same).
#[test]
fn a_failed_expectation_tells_the_commands_story() {
    let ran = duct::cmd!("sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 5")
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .ran();
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ran.expect_code(0);
    }))
    .unwrap_err();
    let msg = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    for part in ["expected exit code 0", "command: ", "sh", "exit: Some(5)", "to-stdout", "to-stderr"] {
        assert!(msg.contains(part), "{part:?} not in {msg}");
    }
    ran.expect_code(5);
}

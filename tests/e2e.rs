//! `cargo xtask e2e` as a test: the harness against the real cooperbench
//! CLI, succeeding, offline (see the README). It needs Docker and installs
//! the real CLI into target/cooperbench-venv; it takes about 7 minutes.
//! `#[ignore]`d, so a plain `cargo test` reports it as ignored, never as
//! passed; `--include-ignored` (as in `.ci/run`) runs it, and then a missing
//! Docker is a failure.

mod common;

use common::*;

#[test]
#[ignore = "needs Docker and the real CLI (about 7 minutes): run with --include-ignored, as .ci/run does"]
fn e2e_against_the_real_cli() {
    let out = duct::cmd(XTASK, ["e2e"])
        .env_remove("XTASK_DOCKER")
        .stdin_null()
        .stderr_to_stdout()
        .stdout_capture()
        .unchecked()
        .ran();
    let o = String::from_utf8_lossy(&out.stdout);
    assert_ne!(out.status.code(), Some(77), "e2e was SKIPPED (no Docker here):\n{o}");
    out.expect_code(0);
    assert!(o.contains("e2e: OK"), "{o}");
}

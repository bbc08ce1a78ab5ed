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
        .run()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
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

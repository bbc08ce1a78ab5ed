//! Helpers shared by the integration tests: temporary checkouts, the
//! experiment file that points at them, and running the real binaries.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

pub const XTASK: &str = env!("CARGO_BIN_EXE_xtask");
pub const SIM: &str = env!("CARGO_BIN_EXE_cooperbench-sim");

pub struct Checkout {
    pub tmp: tempfile::TempDir,
}

impl Checkout {
    pub fn new() -> Checkout {
        Checkout { tmp: tempfile::tempdir().unwrap() }
    }

    /// The CooperBench checkout.
    pub fn cb(&self) -> PathBuf {
        self.tmp.path().join("CooperBench")
    }

    pub fn pair_dir(&self, run: &str, pair: &str) -> PathBuf {
        self.cb().join("logs").join(run).join("solo").join(pair)
    }

    pub fn experiment(&self) -> PathBuf {
        self.tmp.path().join("experiment.toml")
    }

    /// Writes an experiment file for this checkout; `extra` lines are appended.
    pub fn write_experiment(&self, extra: &str) {
        // The demo's experiment, without its coop runs.
        let base: String =
            xtask::demo::EXPERIMENT.lines().filter(|l| !l.starts_with("coop_runs")).map(|l| format!("{l}\n")).collect();
        let text = format!("{}{extra}\n", base.replace("name = \"demo\"", "name = \"test\""));
        std::fs::write(self.experiment(), text).unwrap();
    }

    pub fn xtask(&self, args: &[&str]) -> duct::Expression {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        all.insert(1, "--experiment".into());
        all.insert(2, self.experiment().display().to_string());
        duct::cmd(XTASK, all)
            .dir(self.tmp.path())
            .env("XTASK_DOCKER", fake_docker())
            .env("FAKE_DOCKER_LOG", self.tmp.path().join("docker.log"))
            .stdout_capture()
            .stderr_capture()
            .unchecked()
    }
}

/// The stub that stands in for `docker` (see fixtures/fake-docker).
pub fn fake_docker() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/fake-docker")
}

pub fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

pub fn edit_json(path: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    f(&mut v);
    std::fs::write(path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

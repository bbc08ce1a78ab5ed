//! Helpers shared by the integration tests: temporary checkouts, the
//! experiment file that points at them, and running the real binaries.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

pub const XTASK: &str = env!("CARGO_BIN_EXE_xtask");
pub const SIM: &str = env!("CARGO_BIN_EXE_cooperbench-sim");

/// The API key the tests hand the harness; no output or file may show it.
pub const KEY: &str = "sk-planted-secret-4d1b9e7a20";
pub const SEED1: &str = "command-a-solo-seed1";
pub const SEED2: &str = "command-a-solo-seed2";

pub struct Checkout {
    pub tmp: tempfile::TempDir,
}

impl Checkout {
    /// An empty folder under [`scratch`], removed when the test ends.
    pub fn new() -> Checkout {
        Checkout { tmp: tempfile::Builder::new().prefix("checkout-").tempdir_in(scratch()).unwrap() }
    }

    /// A lite-shaped checkout with a complete baseline run; `extra` lines
    /// go into its experiment file.
    pub fn with_baseline(extra: &str) -> Checkout {
        let c = from_template("lite-baseline", |dir| {
            let lite = xtask::support::fixture::LITE;
            xtask::support::fixture::solo_tree(&dir.join("CooperBench"), "lite", lite, &["command-a-solo"]).unwrap();
            prune_template(&dir.join("CooperBench"), false);
        });
        c.write_experiment(extra);
        c
    }

    /// `cargo xtask seeds` on the simulator, with [`KEY`] set and no terminal.
    pub fn seeds(&self, args: &[&str], env: &[(&str, &str)]) -> duct::Expression {
        let mut all = vec!["seeds", "--cooperbench-bin", SIM];
        all.extend_from_slice(args);
        let mut e = self.xtask(&all).env("COHERE_API_KEY", KEY).stdin_null();
        for (k, v) in env {
            e = e.env(k, v);
        }
        e
    }

    /// The simulator's own record of the work it did, a line per pair.
    pub fn sim_record(&self) -> Vec<String> {
        std::fs::read_to_string(self.cb().join("logs/.sim-record.log"))
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }

    /// The pairs the simulator did `kind` ("run" or "eval") for in `run`.
    pub fn sim_work(&self, kind: &str, run: &str) -> Vec<String> {
        let prefix = format!("{kind} {run} ");
        self.sim_record().iter().filter_map(|l| l.strip_prefix(&prefix)).map(String::from).collect()
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
        let base: String = xtask::edges::experiment::DEMO
            .lines()
            .filter(|l| !l.starts_with("coop_runs"))
            .map(|l| format!("{l}\n"))
            .collect();
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
            .env("FAKE_DOCKER_STATE", self.tmp.path().join("docker.state"))
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

/// A JSON value as a reviewer reads it in a snapshot diff: a value whose
/// compact form fits on a line is that line; a larger object is one line per
/// key, a larger array one line per element, each opened the same way. One
/// changed number then changes one short line, not a block of a pretty
/// print.
pub fn review(v: &serde_json::Value) -> String {
    let mut out = String::new();
    review_into(v, 0, &mut out);
    out
}

fn review_into(v: &serde_json::Value, depth: usize, out: &mut String) {
    const WIDTH: usize = 200;
    let pad = "  ".repeat(depth);
    match v {
        serde_json::Value::Object(map) => {
            for (k, child) in map {
                let compact = child.to_string();
                if compact.len() + k.len() + pad.len() <= WIDTH {
                    out.push_str(&format!("{pad}{k}: {compact}\n"));
                } else {
                    out.push_str(&format!("{pad}{k}:\n"));
                    review_into(child, depth + 1, out);
                }
            }
        }
        serde_json::Value::Array(items) => {
            for child in items {
                let compact = child.to_string();
                if compact.len() + pad.len() <= WIDTH {
                    out.push_str(&format!("{pad}- {compact}\n"));
                } else {
                    out.push_str(&format!("{pad}-\n"));
                    review_into(child, depth + 1, out);
                }
            }
        }
        scalar => out.push_str(&format!("{pad}{scalar}\n")),
    }
}

/// A finished command, in the way of ripgrep's `TestCommand`: when an
/// expectation fails, the message shows the command, its exit code, its
/// stdout and its stderr, so a failing test explains itself in CI's log.
pub struct Ran {
    pub command: String,
    pub output: Output,
}

impl std::ops::Deref for Ran {
    type Target = Output;
    fn deref(&self) -> &Output {
        &self.output
    }
}

impl Ran {
    /// Panics with the whole story unless the command exited with `code`.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Ran {
        if self.output.status.code() != Some(code) {
            panic!("expected exit code {code}\n{}", self.story());
        }
        self
    }

    /// What it printed on stdout.
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    /// The command, its exit, stdout and stderr, for a failure message.
    pub fn story(&self) -> String {
        format!(
            "command: {}\nexit: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command,
            self.output.status.code(),
            String::from_utf8_lossy(&self.output.stdout),
            String::from_utf8_lossy(&self.output.stderr)
        )
    }
}

/// `expr.ran()`: runs a duct expression (unchecked, captured) into a [`Ran`].
pub trait RunExt {
    fn ran(&self) -> Ran;
}

impl RunExt for duct::Expression {
    #[track_caller]
    fn ran(&self) -> Ran {
        let command = format!("{self:?}");
        let output = self.run().unwrap_or_else(|e| panic!("cannot start {command}: {e}"));
        Ran { command, output }
    }
}

/// Waits for a started expression to end, into a [`Ran`].
pub fn finished(handle: &duct::Handle) -> Ran {
    let output = handle.wait().unwrap_or_else(|e| panic!("waiting for {handle:?}: {e}")).clone();
    Ran { command: format!("{handle:?}"), output }
}

/// A checkout copied from a template that `build` makes once per test
/// process and name: building a lite tree through the simulator costs about
/// a second (every file is created through a slow file system), copying it
/// a fraction. The templates live under cargo's `CARGO_TARGET_TMPDIR`, one
/// folder per process; a later process removes those of processes that
/// have ended (they are ours: nothing else writes there).
/// Where the tests' checkouts and templates live: a folder of ours in
/// memory (`/dev/shm`, tmpfs) where there is one, else cargo's
/// `CARGO_TARGET_TMPDIR`. The tests create and remove hundreds of thousands
/// of small files; on a virtual disk each costs the kernel about 0.2 ms,
/// in memory a few microseconds (the default suite's time is mostly this).
pub fn scratch() -> PathBuf {
    use std::sync::OnceLock;
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let shm = Path::new("/dev/shm").join("xtask-tests");
        // Tests run scripts they write into their checkouts: a folder
        // mounted noexec will not do.
        let usable = std::fs::create_dir_all(&shm).is_ok()
            && tempfile::Builder::new().prefix("probe-").tempdir_in(&shm).is_ok_and(|d| {
                let script = d.path().join("probe.sh");
                std::fs::write(&script, "#!/bin/sh\nexit 0\n").is_ok()
                    && std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).is_ok()
                    && std::process::Command::new(&script).status().is_ok_and(|s| s.success())
            });
        if usable {
            shm
        } else {
            PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        }
    })
    .clone()
}

pub fn from_template(name: &str, build: fn(&Path)) -> Checkout {
    use std::collections::BTreeMap;
    use std::sync::{Mutex, OnceLock};
    static BUILT: OnceLock<Mutex<BTreeMap<String, PathBuf>>> = OnceLock::new();
    let root = scratch().join(format!("templates-{}", std::process::id()));
    let mut built = BUILT
        .get_or_init(|| {
            remove_templates_of_ended_processes();
            Mutex::new(BTreeMap::new())
        })
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let template = built
        .entry(name.to_string())
        .or_insert_with(|| {
            let dir = root.join(name);
            build(&dir);
            dir
        })
        .clone();
    drop(built);
    let c = Checkout::new();
    copy_tree(&template, c.tmp.path());
    c
}

fn remove_templates_of_ended_processes() {
    let Ok(entries) = std::fs::read_dir(scratch()) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix("templates-").and_then(|p| p.parse::<u32>().ok()) else { continue };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Copies a tree of folders and regular files (templates hold nothing else).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// Removes from a template what the harness never reads (trajectories and
/// patches; with `dataset_features`, the dataset's per-feature files too),
/// so that each test copies and deletes half the files.
pub fn prune_template(cb: &Path, dataset_features: bool) {
    let mut patterns = vec![format!("{}/logs/*/*/*/*/*/solo_*", cb.display())];
    if dataset_features {
        patterns.push(format!("{}/dataset/*_task", cb.display()));
    }
    for p in patterns {
        for path in glob::glob(&p).unwrap().flatten() {
            if path.is_dir() {
                std::fs::remove_dir_all(&path).unwrap();
            } else {
                std::fs::remove_file(&path).unwrap();
            }
        }
    }
}

//! `cargo xtask bench`: `verify --json` on a tree the size of the full
//! benchmark (652 pairs x 20 solo runs, a 1 MiB trajectory in every pair
//! folder), timed against the floor of merely reading every result.json and
//! eval.json. Aim: within 1.3x (where it stands, and why: docs/limits.md).
//! A benchmark, never a timed test.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::engine::verify;
use crate::study::outcome::EvalErrors;
use crate::support::fixture::{self, Shape};

#[derive(Debug, Clone, clap::Args)]
pub struct BenchFlags {
    /// Solo runs in the tree
    #[arg(long, default_value_t = 20)]
    pub runs: usize,
    /// Pairs per run
    #[arg(long, default_value_t = 652)]
    pub pairs: usize,
    /// Timed repetitions; the best of each is reported
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
    /// Where to build the tree; only the tree it makes there is removed [default: a temporary folder]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Run in this build, even a debug one, whose times say little: for the
    /// tests of what bench builds and removes, not for its numbers
    #[arg(long, hide = true)]
    pub this_build: bool,
}

pub fn run(flags: BenchFlags, ctx: &crate::Context) -> anyhow::Result<i32> {
    if cfg!(debug_assertions) && !flags.this_build {
        // Timing a debug build says little; hand over to a release build.
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut args: Vec<String> =
            ["run", "--quiet", "--release", "--package", "xtask", "--bin", "xtask", "--", "bench"]
                .map(String::from)
                .into();
        args.extend(std::env::args().skip(2));
        let status = duct::cmd(cargo, args).dir(&ctx.root).unchecked().run()?.status;
        return Ok(status.code().unwrap_or(1));
    }
    // The tree is large (a MiB of trajectory per pair, gigabytes at the
    // default size): a signal stops the bench between steps, and the tree
    // is removed as on any other return.
    let stop = crate::edges::cli::interrupted();
    let stopped = || stop.load(std::sync::atomic::Ordering::SeqCst);
    let dir = flags
        .dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("cooperbench-bench-{}", std::process::id())));
    let cb = dir.join("CooperBench");
    anyhow::ensure!(!cb.exists(), "{} exists already", cb.display());
    // Only what this run made is removed, also when it fails: the tree, and
    // the folder itself only if it did not exist before.
    let made_dir = !dir.exists();
    std::fs::create_dir_all(&dir)?;
    let _cleanup = Cleanup { tree: cb.clone(), dir: made_dir.then(|| dir.clone()) };
    let runs: Vec<String> = (0..flags.runs).map(|i| format!("solo-{i:02}")).collect();
    let t = Instant::now();
    let shape = Shape { repos: 12, tasks: flags.pairs.div_ceil(4).max(1), pairs: flags.pairs };
    fixture::write_dataset(&cb, "full", shape)?;
    let sim = crate::support::simulator::binary(&ctx.root)?;
    let mut files = Vec::new();
    let trajectory = vec![b'x'; 1 << 20];
    for run in &runs {
        if stopped() {
            return interrupted();
        }
        // The record of work done is for tests; here it would be quadratic.
        crate::support::simulator::run(&sim, &cb, "full", run, "solo", &[("COOPERBENCH_SIM_RECORD", "/dev/null")])?;
        let pattern =
            format!("{}/*/*/*", glob::Pattern::escape(&cb.join("logs").join(run).join("solo").to_string_lossy()));
        for pair in glob::glob(&pattern)?.flatten() {
            std::fs::write(pair.join("solo_traj.json"), &trajectory)?;
            files.push(pair.join("result.json"));
            files.push(pair.join("eval.json"));
        }
    }
    println!(
        "tree: {} runs x {} pairs, {} files to read, built in {:.1}s",
        runs.len(),
        flags.pairs,
        files.len(),
        t.elapsed().as_secs_f64()
    );

    if stopped() {
        return interrupted();
    }
    // Warm the page cache once so both sides read from memory.
    floor(&files)?;
    let floor_t = best(flags.repeat, || floor(&files).map(|_| ()))?;
    let verify_t = best(flags.repeat, || {
        let report = verify::load_and_check(
            &cb,
            "full",
            &runs,
            EvalErrors::Exclude,
            false,
            crate::edges::logs::DEFAULT_MAX_FILE_BYTES,
            &[],
            &Default::default(),
        )?;
        let json = serde_json::to_string_pretty(&report)?;
        anyhow::ensure!(report.runs.iter().all(|r| r.counts.results == flags.pairs), "the tree is incomplete");
        std::hint::black_box(json);
        Ok(())
    })?;
    if stopped() {
        return interrupted();
    }
    println!("floor (read every result.json and eval.json): {:.3}s", floor_t.as_secs_f64());
    println!("verify --json:                                {:.3}s", verify_t.as_secs_f64());
    println!("verify/floor ratio: {:.2}", verify_t.as_secs_f64() / floor_t.as_secs_f64());
    Ok(0)
}

fn interrupted() -> anyhow::Result<i32> {
    eprintln!("bench: interrupted; the tree it made is removed");
    Ok(crate::engine::job::INTERRUPTED)
}

struct Cleanup {
    tree: PathBuf,
    dir: Option<PathBuf>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.tree);
        if let Some(d) = &self.dir {
            // Empty unless someone else wrote there meanwhile: then it stays.
            let _ = std::fs::remove_dir(d);
        }
    }
}

fn floor(files: &[PathBuf]) -> anyhow::Result<usize> {
    let mut total = 0;
    for f in files {
        total += std::fs::read(f)?.len();
    }
    Ok(total)
}

fn best(n: usize, mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<Duration> {
    let mut best = Duration::MAX;
    for _ in 0..n.max(1) {
        let t = Instant::now();
        f()?;
        best = best.min(t.elapsed());
    }
    Ok(best)
}

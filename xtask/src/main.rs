use clap::{Parser, Subcommand};

use xtask::commands::*;
use xtask::{Context, UsageError};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "CooperBench seeds harness", version)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Prove the runs complete and consistent; name every problem
    Verify(verify::VerifyFlags),
    /// Run and evaluate the extra solo seeds through the cooperbench CLI
    Seeds(seeds::SeedsFlags),
    /// Every arm of the experiment file in order (solo and coop), each as `seeds` runs one, then verify
    Study(study::StudyFlags),
    /// Grade every pair's gold patch with the real `cooperbench eval` (free: no model)
    Oracle(oracle::OracleFlags),
    /// Where each run stands (results, errors, evals, cost); runs nothing
    Status(status::StatusFlags),
    /// One run's outcomes by class (the model's or the machine's), or one pair's story
    Triage(triage::TriageFlags),
    /// Remove the containers that carry this checkout's label (the CLI made them through our proxy)
    CleanDocker(clean_docker::CleanDockerFlags),
    /// Difficulty table, Figure 4 data and plot, REPORT.md
    Report(report::ReportFlags),
    /// The whole job on the bundled simulator, in a temporary checkout
    Demo(demo::DemoFlags),
    /// Install the real cooperbench CLI into a virtualenv (Python 3.11 workaround)
    InstallCooperbench(install_cooperbench::InstallFlags),
    /// The harness against the real CLI, succeeding, offline: world, seeds, verify, report, faults
    E2e(e2e::E2eFlags),
    /// Time verify --json on a full-benchmark-sized tree against the read floor
    Bench(bench::BenchFlags),
}

fn main() {
    let cli = Cli::parse();
    // Read-only commands end quietly when their reader goes away
    // (`verify --json | head`), as Unix tools do; `seeds` keeps the default
    // so that its own clean-up runs.
    if matches!(cli.cmd, Cmd::Verify(_) | Cmd::Status(_) | Cmd::Report(_) | Cmd::Triage(_)) {
        // SAFETY: restoring the default disposition of one signal at start-up,
        // before any thread exists.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    let ctx = Context::from_env();
    let result = match cli.cmd {
        Cmd::Verify(f) => verify::run(f, &ctx),
        Cmd::Seeds(f) => seeds::run(f, &ctx),
        Cmd::Study(f) => study::run(f, &ctx),
        Cmd::Oracle(f) => oracle::run(f, &ctx),
        Cmd::Status(f) => status::run(f, &ctx),
        Cmd::Triage(f) => triage::run(f, &ctx),
        Cmd::CleanDocker(f) => clean_docker::run(f, &ctx),
        Cmd::Report(f) => report::run(f, &ctx),
        Cmd::Demo(f) => demo::run(f, &ctx),
        Cmd::InstallCooperbench(f) => install_cooperbench::run(f, &ctx),
        Cmd::Bench(f) => bench::run(f, &ctx),
        Cmd::E2e(f) => e2e::run(f, &ctx),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(if e.downcast_ref::<UsageError>().is_some() { 2 } else { 1 });
        }
    }
}

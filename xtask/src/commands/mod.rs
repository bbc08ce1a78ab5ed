//! One module per `cargo xtask` subcommand, each readable top to bottom:
//! flags, load, decide (`study`), carry out (`engine`), render. Decisions
//! are made by `study`; effects go through `engine` and `edges`.
//!
//! May import: `engine`, `study`, `edges`, `support`; never another command
//! (tests/layers.rs fails if one does), except that `demo`, `bench` and
//! `e2e` orchestrate others through each one's public `run`.

pub mod bench;
pub mod clean_docker;
pub mod demo;
pub mod e2e;
pub mod install_cooperbench;
pub mod oracle;
pub mod report;
pub mod seeds;
pub mod status;
pub mod study;
pub mod triage;
pub mod verify;

/// The command line: `cargo xtask <command> [flags]`. Here, in the library,
/// so that the tests parse the documented commands with the very parser
/// `main` uses.
#[derive(clap::Parser, Debug)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", about = "CooperBench seeds harness", version)]
pub struct Cli {
    #[command(subcommand)]
    pub cmd: Cmd,
}

/// The commands, in the order a study uses them.
#[derive(clap::Subcommand, Debug)]
pub enum Cmd {
    /// The whole job on the bundled simulator, in a temporary checkout (no key, no Docker image)
    Demo(demo::DemoFlags),
    /// Install the real cooperbench CLI into a virtualenv (Python 3.11 workaround)
    InstallCooperbench(install_cooperbench::InstallFlags),
    /// Grade every pair's gold patch with the real `cooperbench eval` (free: no model)
    Oracle(oracle::OracleFlags),
    /// Run and evaluate the extra solo seeds through the cooperbench CLI
    Seeds(seeds::SeedsFlags),
    /// Every arm of the experiment file in order (solo and coop), each as `seeds` runs one, then verify
    Study(study::StudyFlags),
    /// Where each run stands (results, errors, evals, cost); runs nothing
    Status(status::StatusFlags),
    /// One run's outcomes by class (the model's or the machine's), or one pair's story
    Triage(triage::TriageFlags),
    /// Prove the runs complete and consistent; name every problem
    Verify(verify::VerifyFlags),
    /// Difficulty table, Figure 4 data and plot, REPORT.md
    Report(report::ReportFlags),
    /// Remove the containers that carry this checkout's label (the CLI made them through our proxy)
    CleanDocker(clean_docker::CleanDockerFlags),
    /// The harness against the real CLI, succeeding, offline: world, seeds, verify, report, faults
    E2e(e2e::E2eFlags),
    /// Time verify --json on a full-benchmark-sized tree against the read floor
    Bench(bench::BenchFlags),
}

impl Cmd {
    /// Carries the command out; its exit status.
    pub fn run(self, ctx: &crate::Context) -> anyhow::Result<i32> {
        match self {
            Cmd::Demo(f) => demo::run(f, ctx),
            Cmd::InstallCooperbench(f) => install_cooperbench::run(f, ctx),
            Cmd::Oracle(f) => oracle::run(f, ctx),
            Cmd::Seeds(f) => seeds::run(f, ctx),
            Cmd::Study(f) => study::run(f, ctx),
            Cmd::Status(f) => status::run(f, ctx),
            Cmd::Triage(f) => triage::run(f, ctx),
            Cmd::Verify(f) => verify::run(f, ctx),
            Cmd::Report(f) => report::run(f, ctx),
            Cmd::CleanDocker(f) => clean_docker::run(f, ctx),
            Cmd::E2e(f) => e2e::run(f, ctx),
            Cmd::Bench(f) => bench::run(f, ctx),
        }
    }

    /// A command that only reads: it ends quietly when its reader goes away
    /// (`verify --json | head`), as Unix tools do. The others keep the
    /// default, so that their clean-up runs.
    pub fn only_reads(&self) -> bool {
        matches!(self, Cmd::Verify(_) | Cmd::Status(_) | Cmd::Report(_) | Cmd::Triage(_))
    }
}

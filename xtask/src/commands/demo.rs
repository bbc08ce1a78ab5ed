//! `cargo xtask demo`: the main job end to end on the bundled simulator, in
//! a temporary lite-shaped checkout: a baseline and two coop runs made by the
//! simulator, then `seeds`, `verify` and `report` exactly as against the
//! real CLI. No API key, no Docker image, no money.

use std::path::PathBuf;

use crate::commands::report::{self, ReportFlags};
use crate::commands::seeds::{self, SeedsFlags};
use crate::edges::experiment::CommonFlags;
use crate::engine::arm::ArmFlags;
use crate::support::fixture::{self, LITE};

#[derive(Debug, Clone, clap::Args)]
pub struct DemoFlags {
    /// Where to build the checkout [default: a new temporary folder]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Write the report into results/demo/ (commit it) instead of <dir>/results
    #[arg(long)]
    pub write_results: bool,
    /// The study's flow on the real cooperbench CLI, offline and keyless
    /// (the world of `cargo xtask e2e`; needs Docker; about 4 minutes)
    #[arg(long)]
    pub real_cli: bool,
}

pub fn run(flags: DemoFlags, ctx: &crate::Context) -> anyhow::Result<i32> {
    if flags.real_cli {
        return crate::commands::e2e::demo(ctx);
    }
    let dir = match &flags.dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("cooperbench-demo-{}", std::process::id())),
    };
    if dir.join("CooperBench").exists() {
        return Err(crate::usage(anyhow::anyhow!("{} already holds a demo: pass another --dir", dir.display())));
    }
    let sim = crate::support::simulator::binary(&ctx.root)?;
    // The demo must never touch the machine's real containers: unless the
    // user chose a docker program, its seeds talk to the bundled stub.
    let ctx = &if ctx.docker_chosen {
        ctx.clone()
    } else {
        let stub = ctx.root.join("fixtures").join("fake-docker");
        crate::Context { docker: crate::edges::docker::Docker::new(stub.to_string_lossy()), ..ctx.clone() }
    };
    let cb = dir.join("CooperBench");
    println!("demo: building a lite-shaped checkout in {}", cb.display());
    fixture::write_dataset(&cb, "lite", LITE)?;
    for (run, setting) in
        [("command-a-solo", "solo"), ("command-a-coop-comm", "coop"), ("command-a-coop-nocomm", "coop")]
    {
        crate::support::simulator::run(&sim, &cb, "lite", run, setting, &[])?;
        println!("demo: {run} ({setting}) made by the simulator");
    }
    // A key for the simulator's check, through .env as a user's would be.
    std::fs::write(cb.join(".env"), "COHERE_API_KEY=demo-not-a-real-key\n")?;
    let experiment = dir.join("experiment.toml");
    std::fs::write(&experiment, crate::edges::experiment::DEMO)?;
    let common = CommonFlags { experiment: Some(experiment), cooperbench_dir: None, subset: None };

    println!("\ndemo: cargo xtask seeds --yes --cooperbench-bin {}\n", sim.display());
    let code = seeds::run(
        SeedsFlags {
            arm: ArmFlags {
                arm: None,
                max_sandbox_hours: None,
                common: common.clone(),
                cooperbench_bin: Some(sim.clone()),
                seeds: None,
                model: None,
                agent: None,
                backend: None,
                attempts: None,
                parallel_seeds: false,
                serial_evals: false,
                max_cost: None,
                timeout: None,
                dry_run: false,
                pull: false,
                stop_orphans: false,
                yes: true,
                no_agent_check: false,
            },
        },
        ctx,
    )?;
    anyhow::ensure!(code == 0, "seeds exited {code}");

    // The report is written beside the checkout, so that the page's links
    // to each pair's files read `../CooperBench/logs/...` wherever the demo
    // ran; --write-results then copies it, byte for byte, into results/demo.
    let mut out = dir.join("results");
    println!("\ndemo: cargo xtask report --out {}", out.display());
    report::run(ReportFlags { out: Some(out.clone()), ..ReportFlags::new(common) }, ctx)?;
    if flags.write_results {
        let committed = ctx.root.join("results").join("demo");
        std::fs::create_dir_all(&committed)?;
        for f in report::FILES {
            std::fs::copy(out.join(f), committed.join(f))?;
        }
        println!("demo: copied into {}", committed.display());
        out = committed;
    }
    println!(
        "\ndemo: done. This used the bundled simulator ({}), not the real cooperbench CLI:\n\
         no model was called, no money was spent, and Docker calls went to a stub.\n\
         The checkout is {}; the report is {}.",
        sim.display(),
        cb.display(),
        out.join("REPORT.md").display()
    );
    Ok(0)
}

//! `cargo xtask clean-docker`: removes the containers that carry this
//! checkout's label (the proxy puts it on every container the CLI creates,
//! `edges::docker_proxy`) and are still there. Other containers that look
//! like cooperbench's (another job's, perhaps) are listed and left alone;
//! `--all-cooperbench` removes them too, after listing them. While a
//! `seeds` or `oracle` holds the checkout, it only lists.
//!
//! The CLI's shared coop infrastructure (`cooperbench-redis`,
//! `cooperbench-git`, the `cooperbench` network, the `cooperbench-git-data`
//! volume; `study::shared`) is listed apart and never removed with the rest,
//! whoever's labels it carries: every coop run on this host uses it.
//! `--shared NAME` removes one, by name, only when nothing that could use it
//! is live (a cooperbench agent or eval container anywhere on the engine, a
//! container on the `cooperbench` network, a cooperbench process on this
//! host, a harness holding this checkout); else it names what is live and
//! exits 1.
//!
//! `--modal`: instead, the sandboxes of cooperbench's two apps in each seed
//! run's own Modal environment (`edges::modal`), listed with their run and
//! environment, then terminated; never another environment's.

use std::path::PathBuf;

use crate::edges::docker::{self, Container};
use crate::edges::experiment::CheckoutFlags;

#[derive(Debug, Clone, clap::Args)]
pub struct CleanDockerFlags {
    #[command(flatten)]
    pub common: CheckoutFlags,
    /// List what would be removed; remove nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Only the containers of this run's invocations
    #[arg(long, value_name = "RUN")]
    pub run: Option<String>,
    /// Also remove cooperbench-looking containers without our label (they
    /// may be another job's); they are listed first
    #[arg(long)]
    pub all_cooperbench: bool,
    /// Remove this piece of the CLI's shared coop infrastructure
    /// (cooperbench-redis, cooperbench-git, cooperbench, cooperbench-git-data),
    /// only if nothing that could use it is live; repeatable
    #[arg(long, value_name = "NAME")]
    pub shared: Vec<String>,
    /// Modal, not Docker: the sandboxes in each seed run's Modal environment
    #[arg(long)]
    pub modal: bool,
    /// The cooperbench program whose Python reaches Modal (with --modal)
    #[arg(long, value_name = "PATH")]
    pub cooperbench_bin: Option<PathBuf>,
}

pub fn run(flags: CleanDockerFlags, ctx: &crate::Context) -> anyhow::Result<i32> {
    if flags.modal {
        return modal(&flags, ctx);
    }
    let cb: PathBuf = match &flags.common.cooperbench_dir {
        Some(dir) => dir.clone(),
        None => flags.common.load(&ctx.root)?.cooperbench_dir,
    };
    ctx.docker.available().map_err(|e| anyhow::anyhow!("docker is not reachable: {e:#}"))?;
    // A live seeds' containers are its own to clean: while one holds the
    // checkout, this only lists.
    let (lock, dry_run) = listing_only(&flags, &cb, "removing nothing");
    let owner = docker::Ownership::new(&ctx.docker, &cb);
    let ours = owner.ours(flags.run.as_deref())?;
    let all_ours = owner.ours(None)?;
    let present = ctx.docker.containers()?;
    let others: Vec<&Container> =
        present.iter().filter(|c| c.is_cooperbench() && !all_ours.iter().any(|o| o.id == c.id)).collect();

    let verb = if dry_run { "would remove" } else { "removing" };
    if ours.is_empty() {
        println!("no containers of ours (label {}={})", crate::edges::docker_proxy::CHECKOUT, owner.checkout);
    } else {
        println!("{verb} {} container(s) of ours:", ours.len());
        for c in &ours {
            println!(
                "  {} (labelled {}={})",
                docker::describe(c),
                crate::edges::docker_proxy::CHECKOUT,
                owner.checkout
            );
        }
    }
    if !others.is_empty() {
        if flags.all_cooperbench {
            println!("{verb} {} cooperbench-looking container(s) without our label (--all-cooperbench):", others.len());
        } else {
            println!(
                "left alone: {} cooperbench-looking container(s) without our label (another job's?); --all-cooperbench removes them",
                others.len()
            );
        }
        for c in &others {
            println!("  {}", docker::describe(c));
        }
    }
    let shared_here = crate::edges::shared::present(&ctx.docker, &present);
    if !shared_here.is_empty() {
        println!("shared with every coop run on this host, never removed by a clean-up (`--shared NAME` removes one when nothing is live):");
        for (name, kind, how) in &shared_here {
            let what = crate::study::shared::named(name).map_or("", |s| s.2);
            println!("  {name} ({kind:?}, {how}): {what}");
        }
    }
    if !flags.shared.is_empty() {
        return shared(&flags, ctx, &cb, dry_run, lock.is_none(), &shared_here);
    }
    if !dry_run {
        let mut ids: Vec<&str> = ours.iter().map(|c| c.id.as_str()).collect();
        if flags.all_cooperbench {
            ids.extend(others.iter().map(|c| c.id.as_str()));
        }
        ctx.docker.remove(&ids)?;
        if !ids.is_empty() {
            println!("removed {}", ids.len());
        }
    }
    Ok(0)
}

/// `--shared NAME...`: each named piece of the shared infrastructure,
/// removed when nothing that could use it is live; else what is live, named,
/// and exit 1. `held`: this checkout is held by a live harness.
fn shared(
    flags: &CleanDockerFlags,
    ctx: &crate::Context,
    cb: &std::path::Path,
    dry_run: bool,
    held: bool,
    here: &[(String, crate::study::shared::Kind, String)],
) -> anyhow::Result<i32> {
    use crate::study::shared;
    let mut asked = Vec::new();
    for name in &flags.shared {
        match shared::named(name) {
            Some(s) => asked.push(s),
            None => {
                return Err(crate::usage(anyhow::anyhow!(
                    "--shared {name}: not a piece of the CLI's shared coop infrastructure; they are: {}",
                    shared::SHARED.map(|s| s.0).join(", ")
                )))
            }
        }
    }
    let held = if held && !flags.dry_run { vec![cb.display().to_string()] } else { Vec::new() };
    // `XTASK_PROC`: the process table to read (tests give one of their own,
    // so that another test's CLI on this host does not decide theirs).
    let proc = std::env::var_os("XTASK_PROC").map_or_else(|| PathBuf::from("/proc"), PathBuf::from);
    let live = crate::edges::shared::liveness(&ctx.docker, &proc, held)?;
    let why = shared::blockers(&live, docker::IMAGE_PREFIX, docker::NAME_PREFIX);
    if !why.is_empty() {
        println!(
            "not removed: {}: something that could use it is live (other checkouts' harnesses are seen only through their containers and processes):",
            flags.shared.join(", ")
        );
        for w in &why {
            println!("  {w}");
        }
        return Ok(1);
    }
    let mut code = 0;
    for (name, kind, _) in asked {
        if !here.iter().any(|(n, _, _)| n == name) {
            println!("{name}: not here");
            continue;
        }
        if dry_run {
            println!("would remove {name} ({kind:?}): nothing that could use it is live");
            continue;
        }
        match crate::edges::shared::remove(&ctx.docker, name, kind) {
            Ok(()) => println!("removed {name} ({kind:?}): nothing that could use it was live"),
            Err(e) => {
                println!("{name}: not removed: {e:#}");
                code = 1;
            }
        }
    }
    Ok(code)
}

/// `--modal`: each arm's runs' environments, what runs there, and (unless
/// `--dry-run`, or a seeds holds the checkout) terminated.
fn modal(flags: &CleanDockerFlags, ctx: &crate::Context) -> anyhow::Result<i32> {
    let exp = flags.common.load(&ctx.root)?;
    let cb = exp.cooperbench_dir.clone();
    let program = crate::edges::cli::find_program(flags.cooperbench_bin.as_deref(), &cb)
        .ok_or_else(|| anyhow::anyhow!("cooperbench not found: pass --cooperbench-bin"))?;
    let m = crate::edges::modal::Modal::of_program(&program)
        .ok_or_else(|| anyhow::anyhow!("{} is no Python console script: no Modal client to ask", program.display()))?;
    let (_lock, dry_run) = listing_only(flags, &cb, "terminating nothing");
    let mut runs: Vec<String> = exp.arms.iter().flat_map(|a| a.all_runs()).collect();
    if let Some(r) = &flags.run {
        runs.retain(|x| x == r);
    }
    let mut total = 0;
    for run in runs {
        let env = crate::edges::modal::environment(&exp.name, &run, &crate::edges::identity::checkout_id(&cb));
        let found = if dry_run { m.list(&env) } else { m.terminate(&env) };
        match found {
            Ok(s) if s.is_empty() => {}
            Ok(s) => {
                total += s.len();
                let verb = if dry_run { "running" } else { "terminated" };
                println!("{run} (Modal environment {env}): {verb} {} sandbox(es):", s.len());
                for sb in s {
                    println!("  {} (app {})", sb.id, sb.app);
                }
            }
            Err(e) => println!("{run} (Modal environment {env}): {e:#}"),
        }
    }
    if total == 0 {
        println!("no sandboxes of ours in the seed runs' Modal environments");
    }
    Ok(0)
}

/// The checkout's lock, and whether to only list: `--dry-run`, or a
/// `seeds`/`oracle` holds the checkout (what it runs is its own to clean).
fn listing_only(
    flags: &CleanDockerFlags,
    cb: &std::path::Path,
    nothing: &str,
) -> (Option<crate::edges::lock::Lock>, bool) {
    if flags.dry_run {
        return (None, true);
    }
    match crate::edges::lock::Lock::acquire(cb, &[]) {
        Ok(l) => (Some(l), false),
        Err(e) => {
            println!("{nothing}: {e:#}");
            (None, true)
        }
    }
}

use clap::Parser;

use xtask::commands::Cli;
use xtask::{Context, UsageError};

fn main() {
    let cli = Cli::parse();
    if cli.cmd.only_reads() {
        // SAFETY: restoring the default disposition of one signal at start-up,
        // before any thread exists.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    let ctx = Context::from_env();
    match cli.cmd.run(&ctx) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(if e.downcast_ref::<UsageError>().is_some() { 2 } else { 1 });
        }
    }
}

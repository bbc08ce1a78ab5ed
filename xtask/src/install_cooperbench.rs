//! `cargo xtask install-cooperbench`: the real CLI in a virtualenv, with the
//! Python 3.11 workaround from CONTRACT.md: cooperbench itself without its
//! dependencies (openhands-sdk needs Python 3.12), then the ones a solo run
//! with mini_swe_agent_v2 needs, by name.

use std::path::PathBuf;

use anyhow::Context;

use crate::experiment::CommonFlags;

pub const VERSION: &str = "0.0.29";

/// Everything but openhands-* and tom-swe (CONTRACT.md, "Install").
pub const DEPENDENCIES: [&str; 25] = [
    "bashlex",
    "binaryornot",
    "cachetools",
    "deprecation",
    "docker",
    "fastmcp",
    "filelock",
    "func-timeout",
    "google-auth",
    "httpx",
    "huggingface-hub",
    "jinja2",
    "libtmux",
    "litellm",
    "platformdirs",
    "pydantic",
    "python-dotenv",
    "python-frontmatter",
    "python-json-logger",
    "pyyaml",
    "redis",
    "rich",
    "tenacity",
    "websockets",
    "modal",
];

#[derive(Debug, Clone, clap::Args)]
pub struct InstallFlags {
    #[command(flatten)]
    pub common: CommonFlags,
    /// Where the virtualenv goes [default: <checkout>/.venv]
    #[arg(long, value_name = "DIR")]
    pub venv: Option<PathBuf>,
    /// The Python to make it with
    #[arg(long, default_value = "python3")]
    pub python: String,
    /// Reinstall even if the right version answers already
    #[arg(long)]
    pub force: bool,
}

pub fn run(flags: InstallFlags) -> anyhow::Result<i32> {
    let venv = match &flags.venv {
        Some(v) => v.clone(),
        None => {
            let dir = flags.common.load()?.cooperbench_dir;
            crate::subset::require_dir(&dir).map_err(crate::usage)?;
            dir.join(".venv")
        }
    };
    let sh = xshell::Shell::new()?;
    let bin = venv.join("bin");
    let (pip, cooperbench) = (bin.join("pip"), bin.join("cooperbench"));
    let version = VERSION;
    if !flags.force && cooperbench.is_file() {
        let installed = xshell::cmd!(sh, "{pip} show cooperbench").quiet().ignore_status().read().unwrap_or_default();
        if installed.lines().any(|l| l.trim() == format!("Version: {version}"))
            && crate::cli::answers_help(&cooperbench).is_ok()
        {
            println!("cooperbench {version} already installed: {}", cooperbench.display());
            return Ok(0);
        }
    }
    let python = &flags.python;
    println!("making the virtualenv {}", venv.display());
    xshell::cmd!(sh, "{python} -m venv {venv}").run().context("python -m venv failed")?;
    xshell::cmd!(sh, "{pip} install --quiet --upgrade pip").run().ok();
    println!("installing cooperbench=={version} without its dependencies (openhands-sdk needs Python >= 3.12)");
    xshell::cmd!(sh, "{pip} install --quiet --no-deps cooperbench=={version}").run()?;
    let deps = DEPENDENCIES;
    println!("installing what a solo mini_swe_agent_v2 run needs: {}", deps.join(" "));
    xshell::cmd!(sh, "{pip} install --quiet {deps...}").run()?;
    crate::cli::answers_help(&cooperbench)?;
    println!(
        "installed: {} (pip reports openhands-* and tom-swe missing; solo runs do not need them)",
        cooperbench.display()
    );
    Ok(0)
}

//! `cargo xtask install-cooperbench`: the real CLI in a virtualenv, with the
//! Python 3.11 workaround from CONTRACT.md: cooperbench itself without its
//! dependencies (openhands-sdk needs Python 3.12), then the ones a solo run
//! with mini_swe_agent_v2 needs, by name, pinned by the committed
//! `fixtures/cooperbench-constraints.txt` (the versions that worked). It then
//! checks what pip installed against the pins, names any package that could
//! not be installed or differs, and records the result in the virtualenv
//! (`xtask-install.json`).

use std::path::{Path, PathBuf};

use crate::edges::experiment::CheckoutFlags;

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
    pub common: CheckoutFlags,
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

pub fn run(flags: InstallFlags, ctx: &crate::Context) -> anyhow::Result<i32> {
    let venv = match &flags.venv {
        Some(v) => v.clone(),
        None => {
            let dir = flags.common.load(&ctx.root)?.cooperbench_dir;
            crate::edges::layout::require_checkout(&dir).map_err(crate::usage)?;
            dir.join(".venv")
        }
    };
    // One install at a time into one virtualenv: tests and e2e install it
    // when missing, and may start together. The lock is a file beside it.
    let _lock = lock_beside(&venv)?;
    let sh = &ctx.sh;
    let bin = venv.join("bin");
    let (pip, cooperbench) = (bin.join("pip"), bin.join("cooperbench"));
    let version = VERSION;
    let pip_fix = "is PyPI reachable? (pip's words are above); --force starts the virtualenv over";
    if !flags.force && cooperbench.is_file() {
        let installed = sh.read(&pip, &["show", "cooperbench"], pip_fix).unwrap_or_default();
        if installed.lines().any(|l| l.trim() == format!("Version: {version}"))
            && crate::edges::cli_facts::known(sh, &cooperbench).is_ok()
        {
            let frozen = sh.read(&pip, &["freeze"], pip_fix).unwrap_or_default();
            let drift = differences(&std::fs::read_to_string(constraints_file(&ctx.root))?, &frozen);
            if drift.is_empty() {
                println!("cooperbench {version} already installed, as pinned: {}", cooperbench.display());
                return Ok(0);
            }
            println!(
                "cooperbench {version} is installed, but not as pinned ({}): installing the pins",
                drift.join(", ")
            );
        }
    }
    let python = &flags.python;
    println!("making the virtualenv {}", venv.display());
    let venv_arg = venv.display().to_string();
    sh.run_shown(
        python,
        &["-m", "venv", venv_arg.as_str()],
        "pass --python with a Python 3.11 or 3.12 that has venv (on Debian: apt-get install python3-venv)",
    )?;
    // A newer pip resolves the pins better; an old one still installs them.
    sh.run_shown(&pip, &["install", "--quiet", "--upgrade", "pip"], pip_fix).ok();
    println!("installing cooperbench=={version} without its dependencies (openhands-sdk needs Python >= 3.12)");
    let pinned = format!("cooperbench=={version}");
    sh.run_shown(&pip, &["install", "--quiet", "--no-deps", pinned.as_str()], pip_fix)?;
    let deps = DEPENDENCIES;
    let constraints = constraints_file(&ctx.root);
    println!(
        "installing what a solo mini_swe_agent_v2 run needs, pinned by {}: {}",
        constraints.display(),
        deps.join(" ")
    );
    let mut args = vec!["install".to_string(), "--quiet".into(), "-c".into(), constraints.display().to_string()];
    args.extend(deps.iter().map(|d| d.to_string()));
    let out = sh.output(&pip, &args, &[], pip_fix)?;
    if !out.success() {
        let err = &out.stderr;
        anyhow::bail!(
            "pip could not install {}: {}",
            failed_package(err).unwrap_or_else(|| "the dependencies".into()),
            err.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim()
        );
    }
    let frozen = sh.read(&pip, &["freeze"], pip_fix)?;
    let pins = std::fs::read_to_string(&constraints)?;
    let drift = differences(&pins, &frozen);
    if !drift.is_empty() {
        anyhow::bail!("installed versions differ from {}: {}", constraints.display(), drift.join(", "));
    }
    // Asked once here, and cached for preflight (edges::cli_facts).
    crate::edges::cli_facts::known(sh, &cooperbench)?;
    let record = serde_json::json!({"cooperbench": version, "python": python, "constraints": constraints.display().to_string(),
        "packages": frozen.lines().filter(|l| l.contains("==")).collect::<Vec<_>>()});
    std::fs::write(venv.join("xtask-install.json"), serde_json::to_string_pretty(&record)?)?;
    println!(
        "installed: {} (pip reports openhands-* and tom-swe missing; solo runs do not need them)",
        cooperbench.display()
    );
    Ok(0)
}

/// Holds `<venv>.lock` (made when missing) until dropped; waits while
/// another install holds it.
fn lock_beside(venv: &Path) -> anyhow::Result<std::fs::File> {
    let path = venv.with_extension("lock");
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
    if file.try_lock().is_err() {
        println!("another install into {} is under way: waiting for it", venv.display());
        file.lock().map_err(|e| anyhow::anyhow!("cannot lock {}: {e}", path.display()))?;
    }
    Ok(file)
}

/// The committed pins.
pub fn constraints_file(root: &Path) -> PathBuf {
    root.join("fixtures/cooperbench-constraints.txt")
}

/// The package pip names in its error, if it names one.
pub fn failed_package(stderr: &str) -> Option<String> {
    for marker in ["No matching distribution found for ", "Could not find a version that satisfies the requirement "] {
        if let Some(rest) = stderr.lines().find_map(|l| l.split(marker).nth(1)) {
            return rest.split_whitespace().next().map(String::from);
        }
    }
    None
}

/// `name==version` pins that `pip freeze` shows otherwise (names compared as
/// pip normalises them); a pinned package that is not installed is fine (the
/// pins cover more than a solo run needs).
pub fn differences(pins: &str, frozen: &str) -> Vec<String> {
    let norm = |n: &str| n.to_ascii_lowercase().replace(['_', '.'], "-");
    let parse = |text: &str| -> std::collections::BTreeMap<String, String> {
        text.lines()
            .filter_map(|l| l.split('#').next()?.trim().split_once("=="))
            .map(|(n, v)| (norm(n.trim()), v.trim().to_string()))
            .collect()
    };
    let (want, got) = (parse(pins), parse(frozen));
    want.iter().filter_map(|(n, v)| got.get(n).filter(|g| *g != v).map(|g| format!("{n} {g} (pinned {v})"))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pip_errors_name_the_package() {
        let err = "ERROR: Could not find a version that satisfies the requirement litellm==9.9.9 (from versions: none)\nERROR: No matching distribution found for litellm==9.9.9\n";
        assert_eq!(failed_package(err).as_deref(), Some("litellm==9.9.9"));
        assert_eq!(failed_package("ERROR: something else"), None);
    }

    #[test]
    fn drift_from_the_pins_is_named() {
        let pins = "# comment\nLiteLLM==1.110.2\npyyaml==6.0.4\nnot-installed==1.0\n";
        let frozen = "litellm==1.111.0\nPyYAML==6.0.4\nextra==2\n";
        assert_eq!(differences(pins, frozen), ["litellm 1.111.0 (pinned 1.110.2)"]);
        assert!(differences(pins, "litellm==1.110.2\npyyaml==6.0.4\n").is_empty());
    }

    #[test]
    fn the_committed_pins_cover_every_dependency() {
        let pins = std::fs::read_to_string(constraints_file(&crate::edges::layout::project_root()))
            .unwrap()
            .to_ascii_lowercase()
            .replace('_', "-");
        for d in DEPENDENCIES {
            assert!(pins.lines().any(|l| l.starts_with(&format!("{d}=="))), "{d} is not pinned");
        }
        // pip itself and cooperbench are installed apart, never pinned here.
        assert!(!pins.lines().any(|l| l.starts_with("cooperbench==") || l.starts_with("pip==")));
    }
}

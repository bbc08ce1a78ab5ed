//! Modal, as the harness reaches it: through the CLI's own Python and its
//! `modal` package (the one cooperbench itself imports), never a client of
//! our own. What 0.0.29 does there (README, "Running on Modal"): every run
//! shares the apps `cooperbench` (agents) and `cooperbench-eval` (evals) of
//! the active Modal environment, and nothing terminates a killed run's
//! sandboxes. So each seed run gets an environment of its own (the CLI
//! reads `MODAL_ENVIRONMENT`), and the harness terminates the sandboxes of
//! those two apps in that environment, and only there, after every
//! invocation, on every stop and at the next start.

use std::path::{Path, PathBuf};

/// The apps cooperbench 0.0.29 creates its sandboxes in
/// (agents/mini_swe_agent_v2/environments/modal.py, eval/backends/modal.py).
pub const APPS: [&str; 2] = ["cooperbench", "cooperbench-eval"];

/// The helper run by the CLI's Python: `ensure ENV` creates the environment
/// when missing; `list ENV` / `terminate ENV` print (and end) the running
/// sandboxes of [`APPS`] in ENV, one JSON line each.
const HELPER: &str = r#"
import json, sys
import modal
from modal import exception
action, env = sys.argv[1], sys.argv[2]
if action == "ensure":
    from modal import environments
    if env in [e.name for e in environments.list_environments()]:
        print(json.dumps({"environment": env, "created": False}))
    else:
        environments.create_environment(env)
        print(json.dumps({"environment": env, "created": True}))
    sys.exit(0)
for name in APPS:
    try:
        app = modal.App.lookup(name, environment_name=env)
    except exception.NotFoundError:
        continue
    for sb in modal.Sandbox.list(app_id=app.app_id):
        if action == "terminate":
            sb.terminate()
        print(json.dumps({"sandbox": sb.object_id, "app": name}), flush=True)
"#;

/// The Modal environment of one seed run of one checkout:
/// `<study>-<run>-<first 8 of the checkout's id>`, in the characters Modal
/// takes (lowercase letters, digits, `-`), at most 63; a longer name keeps
/// its start and a hash of the whole, so two runs never share one, and two
/// checkouts of one experiment file on one Modal workspace never terminate
/// each other's sandboxes (N40).
pub fn environment(study: &str, run: &str, checkout: &str) -> String {
    let short: String = checkout.chars().filter(|c| c.is_ascii_alphanumeric()).take(8).collect();
    let base = study_run(study, run);
    if short.is_empty() {
        return base;
    }
    let keep = 63 - short.len() - 1;
    format!("{}-{}", base[..base.len().min(keep)].trim_end_matches('-'), short.to_ascii_lowercase())
}

fn study_run(study: &str, run: &str) -> String {
    let raw = format!("{study}-{run}");
    let mut s: String = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if s.len() > 63 || s != raw {
        // Two raw names that clean to one name (`a_b`, `a.b`) stay apart.
        let h = crate::edges::manifest::digest(raw.as_bytes());
        s.truncate(54);
        s = format!("{}-{}", s.trim_end_matches('-'), &h[..8]);
    }
    s
}

/// One sandbox seen (and, by `terminate`, ended).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sandbox {
    pub id: String,
    pub app: String,
}

#[derive(Debug, Clone)]
pub struct Modal {
    pub python: PathBuf,
}

impl Modal {
    /// The Python of the cooperbench program (its `#!` line), as the
    /// manifest reads the version; `None` for anything else (the simulator).
    pub fn of_program(program: &Path) -> Option<Modal> {
        crate::edges::manifest::python_of(program).map(|python| Modal { python })
    }

    /// `python -c SOURCE ARGS...` in `env` (MODAL_ENVIRONMENT): its
    /// standard output, or the last line of its error.
    fn python(&self, source: &str, args: &[&str], env: &str) -> anyhow::Result<String> {
        let mut argv = vec!["-c", source];
        argv.extend_from_slice(args);
        let out = duct::cmd(&self.python, &argv)
            .env("MODAL_ENVIRONMENT", env)
            .stdin_null()
            .stdout_capture()
            .stderr_capture()
            .unchecked()
            .run()?;
        if !out.status.success() {
            let out = crate::edges::short::Output {
                code: out.status.code(),
                stdout: String::new(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            };
            return Err(crate::edges::short::failure(
                &self.python,
                &["-c", "<the harness's modal helper>"],
                &out,
                "are Modal's credentials set (`modal token new`, or MODAL_TOKEN_ID and MODAL_TOKEN_SECRET), and does the CLI's Python import modal (`cargo xtask install-cooperbench`)?",
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn helper(&self, action: &str, env: &str) -> anyhow::Result<Vec<serde_json::Value>> {
        let source = HELPER.replace("APPS", &format!("{APPS:?}"));
        let out =
            self.python(&source, &[action, env], env).map_err(|e| anyhow::anyhow!("modal {action} {env}: {e:#}"))?;
        Ok(out.lines().filter_map(|l| serde_json::from_str(l).ok()).collect())
    }

    /// `import modal` works in the CLI's Python: its version.
    pub fn version(&self) -> anyhow::Result<String> {
        let v = self.python("import modal; print(getattr(modal, '__version__', 'double'))", &[], "main")?;
        Ok(v.trim().to_string())
    }

    /// Creates the environment when missing; whether it did.
    pub fn ensure(&self, env: &str) -> anyhow::Result<bool> {
        Ok(self.helper("ensure", env)?.first().and_then(|v| v["created"].as_bool()).unwrap_or(false))
    }

    /// The running sandboxes of [`APPS`] in `env`.
    pub fn list(&self, env: &str) -> anyhow::Result<Vec<Sandbox>> {
        Ok(sandboxes(self.helper("list", env)?))
    }

    /// Terminates the running sandboxes of [`APPS`] in `env`, and only
    /// there; the ones it ended.
    pub fn terminate(&self, env: &str) -> anyhow::Result<Vec<Sandbox>> {
        Ok(sandboxes(self.helper("terminate", env)?))
    }
}

fn sandboxes(lines: Vec<serde_json::Value>) -> Vec<Sandbox> {
    lines
        .iter()
        .filter_map(|v| Some(Sandbox { id: v["sandbox"].as_str()?.to_string(), app: v["app"].as_str()?.to_string() }))
        .collect()
}

/// Modal credentials, as the client finds them: `MODAL_TOKEN_ID` and
/// `MODAL_TOKEN_SECRET` in the environment, or `~/.modal.toml`. Only
/// where they are is said, never a value.
pub fn credentials(env_has: impl Fn(&str) -> bool, home: Option<&Path>) -> Result<String, String> {
    match (env_has("MODAL_TOKEN_ID"), env_has("MODAL_TOKEN_SECRET")) {
        (true, true) => return Ok("MODAL_TOKEN_ID and MODAL_TOKEN_SECRET are set".into()),
        (true, false) | (false, true) => {
            return Err(
                "only one of MODAL_TOKEN_ID and MODAL_TOKEN_SECRET is set: set both, or neither and use ~/.modal.toml"
                    .into(),
            )
        }
        (false, false) => {}
    }
    match home.map(|h| h.join(".modal.toml")).filter(|p| p.is_file()) {
        Some(p) => Ok(format!("Modal token in {}", p.display())),
        None => Err(
            "no Modal credentials: set MODAL_TOKEN_ID and MODAL_TOKEN_SECRET, or run `modal token new` (~/.modal.toml)"
                .into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_seed_run_of_each_checkout_gets_an_environment_of_its_own() {
        let id = "0123abcd0123abcd0123abcd0123abcd";
        assert_eq!(
            environment("command-a-lite", "command-a-solo-seed1", id),
            "command-a-lite-command-a-solo-seed1-0123abcd"
        );
        // Cleaned names keep a hash of the raw one: `a_b` and `a.b` differ.
        let (x, y) = (environment("s", "a_b", id), environment("s", "a.b", id));
        assert!(x.starts_with("s-a-b-") && y.starts_with("s-a-b-") && x != y, "{x} {y}");
        let long = environment(&"x".repeat(80), "seed1", id);
        assert!(long.len() <= 63 && long.ends_with("-0123abcd"), "{long}");
        assert!(long.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{long}");
        assert_ne!(environment("s", "Seed1", id), environment("s", "seed1", id));
        // N40: two checkouts of one experiment file never share one.
        assert_ne!(environment("s", "seed1", id), environment("s", "seed1", "ffff0000ffff0000ffff0000ffff0000"));
    }

    #[test]
    fn credentials_are_found_and_never_shown() {
        let none = |_: &str| false;
        let both = |_: &str| true;
        let one = |n: &str| n == "MODAL_TOKEN_ID";
        assert!(credentials(both, None).unwrap().contains("are set"));
        assert!(credentials(one, None).unwrap_err().contains("only one of"));
        assert!(credentials(none, None).unwrap_err().contains("no Modal credentials"));
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join(".modal.toml"), "[default]\ntoken_secret = \"as-secret\"\n").unwrap();
        let found = credentials(none, Some(d.path())).unwrap();
        assert!(found.contains(".modal.toml") && !found.contains("as-secret"), "{found}");
    }
}

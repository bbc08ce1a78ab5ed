//! Short commands whose output is read whole (`docker ps`, `pip freeze`,
//! `cooperbench --help`), through xshell: one runner, made once in `main`
//! and held by the `Context` (and the `Docker` it builds), and one way to
//! say a failure: the command, its exit status, the last lines of its
//! stderr, and the likely fix. The long, streamed child (`cooperbench run`)
//! is `edges::cli`'s, through duct.

use std::ffi::OsStr;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// How many lines of a failing command's stderr an error quotes.
const STDERR_LINES: usize = 3;

/// The runner: one xshell `Shell`, made when first used and shared by
/// clones (a `Shell` is not `Sync`: commands from several threads take
/// turns, which short commands can afford).
#[derive(Clone, Default)]
pub struct Short {
    sh: Arc<Mutex<Option<xshell::Shell>>>,
}

impl std::fmt::Debug for Short {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Short")
    }
}

/// What a finished command said.
#[derive(Debug, Clone)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

impl Short {
    pub fn new() -> Short {
        Short::default()
    }

    fn with<T>(&self, f: impl FnOnce(&xshell::Shell) -> anyhow::Result<T>) -> anyhow::Result<T> {
        let mut guard = self.sh.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            *guard = Some(xshell::Shell::new().map_err(|e| anyhow::anyhow!("cannot start a command here: {e}"))?);
        }
        f(guard.as_ref().expect("made above"))
    }

    /// Runs `program args` (with `env`) to the end, whatever its exit
    /// status; an error only when it cannot be started, with `fix`.
    pub fn output<A: AsRef<OsStr>>(
        &self,
        program: impl AsRef<Path>,
        args: &[A],
        env: &[(&str, &str)],
        fix: &str,
    ) -> anyhow::Result<Output> {
        let program = program.as_ref();
        self.with(|sh| {
            let mut cmd = sh.cmd(program).args(args).quiet().ignore_status();
            for (k, v) in env {
                cmd = cmd.env(k, v);
            }
            let out = cmd
                .output()
                .map_err(|e| anyhow::anyhow!("`{}` could not be started ({e}); {fix}", line(program, args)))?;
            Ok(Output {
                code: out.status.code(),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            })
        })
    }

    /// Its standard output, trimmed; a failure names the command, its
    /// status, the end of its stderr and `fix`.
    pub fn read<A: AsRef<OsStr>>(&self, program: impl AsRef<Path>, args: &[A], fix: &str) -> anyhow::Result<String> {
        let out = self.output(program.as_ref(), args, &[], fix)?;
        if !out.success() {
            return Err(failure(program.as_ref(), args, &out, fix));
        }
        Ok(out.stdout.trim().to_string())
    }

    /// Runs it with its output shown as it comes (a pull, an install: the
    /// child inherits the terminal, outside xshell); a failure names the
    /// command, its status and `fix` (its stderr was shown).
    pub fn run_shown<A: AsRef<OsStr>>(&self, program: impl AsRef<Path>, args: &[A], fix: &str) -> anyhow::Result<()> {
        let program = program.as_ref();
        let shown = line(program, args);
        // Its output is the user's to watch: it inherits the terminal.
        let status = std::process::Command::new(program)
            .args(args)
            .status()
            .map_err(|e| anyhow::anyhow!("`{shown}` could not be started ({e}); {fix}"))?;
        if !status.success() {
            anyhow::bail!("`{shown}` failed ({}); {fix}", status_words(status.code()));
        }
        Ok(())
    }
}

/// The error of a command that ended badly: `` `docker ps -a` failed (exit
/// status 1): <the end of its stderr>; <fix> ``.
pub fn failure<A: AsRef<OsStr>>(program: &Path, args: &[A], out: &Output, fix: &str) -> anyhow::Error {
    let tail = stderr_tail(&out.stderr);
    let said = if tail.is_empty() { String::new() } else { format!(": {tail}") };
    anyhow::anyhow!("`{}` failed ({}){said}; {fix}", line(program, args), status_words(out.code))
}

/// The last few non-empty lines of a stderr, on one line.
pub fn stderr_tail(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    lines[lines.len().saturating_sub(STDERR_LINES)..].join(" | ")
}

fn status_words(code: Option<i32>) -> String {
    match code {
        Some(c) => format!("exit status {c}"),
        None => "killed by a signal".into(),
    }
}

fn line<A: AsRef<OsStr>>(program: &Path, args: &[A]) -> String {
    let mut words = vec![program.display().to_string()];
    words.extend(args.iter().map(|a| a.as_ref().to_string_lossy().into_owned()));
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_names_the_command_its_status_the_end_of_its_stderr_and_the_fix() {
        let sh = Short::new();
        let out = sh
            .output("sh", &["-c", "echo one >&2; echo; echo two >&2; echo three >&2; echo four >&2; exit 3"], &[], "")
            .unwrap();
        assert_eq!(out.code, Some(3));
        let e = failure(Path::new("sh"), &["-c", "x"], &out, "try again").to_string();
        assert_eq!(e, "`sh -c x` failed (exit status 3): two | three | four; try again");
        let e = sh.read("sh", &["-c", "exit 1"], "look").unwrap_err().to_string();
        assert_eq!(e, "`sh -c exit 1` failed (exit status 1); look");
        assert_eq!(sh.read("sh", &["-c", "echo ' hi '"], "").unwrap(), "hi");
        let e = sh.output("/no/such/program", &["x"], &[], "install it").unwrap_err().to_string();
        assert!(e.starts_with("`/no/such/program x` could not be started ("), "{e}");
        assert!(e.ends_with("; install it"), "{e}");
    }
}

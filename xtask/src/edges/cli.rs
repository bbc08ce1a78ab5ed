//! Driving the cooperbench CLI: finding it, building its argv, and running it
//! as a long, streamed child in its own process group, so that Ctrl-C, a
//! timeout or an error stops it and everything it started.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::edges::secrets::Secrets;

/// `--cooperbench-bin`, else the checkout's `.venv/bin/cooperbench`, else PATH.
pub fn find_program(flag: Option<&Path>, cooperbench_dir: &Path) -> Option<PathBuf> {
    if let Some(p) = flag {
        return Some(p.to_path_buf());
    }
    let venv = cooperbench_dir.join(".venv").join("bin").join("cooperbench");
    if venv.is_file() {
        return Some(venv);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join("cooperbench")).find(|p| p.is_file())
}

/// Quotes an argv for display so that it can be pasted into a shell.
pub fn shell_line(program: &Path, args: &[String]) -> String {
    std::iter::once(program.display().to_string())
        .chain(args.iter().cloned())
        .map(|a| {
            if !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || "-_./,=:+@".contains(c)) {
                a
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Set by SIGINT, SIGTERM or SIGHUP (a closed terminal), or when our own
/// output can no longer be written (`seeds --yes | head`); every long wait
/// checks it, and all of them lead to the same clean-up.
pub fn interrupted() -> &'static Arc<AtomicBool> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP] {
            // Replaces the default action, so a second Ctrl-C cannot kill the
            // harness half-way through its clean-up.
            let _ = signal_hook::flag::register(sig, Arc::clone(&flag));
        }
        flag
    })
}

/// The CLI groups alive now, for Ctrl-Z to stop with the harness.
fn live_groups() -> &'static std::sync::Mutex<std::collections::BTreeSet<i32>> {
    static LIVE: OnceLock<std::sync::Mutex<std::collections::BTreeSet<i32>>> = OnceLock::new();
    LIVE.get_or_init(Default::default)
}

/// Counts the times the harness was stopped (Ctrl-Z) and continued: each
/// invocation resumes its group only after checking the budget again.
static RESUMES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Ctrl-Z (SIGTSTP) stops the CLI's groups, then the harness; `fg` (SIGCONT)
/// continues the harness, whose invocations check the budget before they
/// continue their groups. Without this the CLI, in a group of its own, is
/// not stopped by the terminal and keeps paying. Installed once.
fn job_control() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        // A child subreaper: the CLI's grandchildren whose parent dies are
        // re-parented to the harness (not to init), so that they stay in
        // reach, are killed with their group and reaped here.
        // SAFETY: prctl(2) on this process, no memory passed.
        unsafe {
            libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1);
        }
        let Ok(mut signals) = signal_hook::iterator::Signals::new([signal_hook::consts::SIGTSTP]) else { return };
        std::thread::spawn(move || {
            for _ in signals.forever() {
                let groups: Vec<i32> = live_groups().lock().map(|g| g.iter().copied().collect()).unwrap_or_default();
                for g in &groups {
                    kill_group(*g, libc::SIGSTOP);
                }
                let _ = writeln_stderr(&format!(
                    "stopped (Ctrl-Z) with the CLI's {} group(s); `fg` continues, after the budget is checked again",
                    groups.len()
                ));
                // SAFETY: raise(2) stops this process; SIGCONT returns here.
                unsafe {
                    libc::raise(libc::SIGSTOP);
                }
                RESUMES.fetch_add(1, Ordering::SeqCst);
            }
        });
    });
}

fn writeln_stderr(line: &str) -> std::io::Result<()> {
    use std::io::Write;
    writeln!(std::io::stderr(), "{line}")
}

static OUTPUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes one line of the harness's own output. When standard output is
/// gone (a closed pipe), the run is stopped as by Ctrl-C and everything
/// after, the summary and the resume command among it, goes to stderr.
pub fn say_line(line: &str) {
    use std::io::Write;
    if !OUTPUT_CLOSED.load(Ordering::SeqCst) {
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{line}").and_then(|_| out.flush()).is_ok() {
            return;
        }
        OUTPUT_CLOSED.store(true, Ordering::SeqCst);
        interrupted().store(true, Ordering::SeqCst);
    }
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// `println!` for the harness's output; see [`say_line`].
#[macro_export]
macro_rules! say {
    () => { $crate::edges::cli::say_line("") };
    ($($t:tt)*) => { $crate::edges::cli::say_line(&format!($($t)*)) };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Exited(Option<i32>),
    Interrupted,
    TimedOut,
    /// `tick` asked for a stop (the live spend passed `--max-cost`).
    Stopped,
}

/// One CLI invocation.
pub struct Invocation<'a> {
    pub program: &'a Path,
    pub args: Vec<String>,
    /// The checkout: the CLI resolves `dataset/` and `logs/` from here.
    pub dir: &'a Path,
    /// Marks every streamed line, e.g. `[seed1] `.
    pub prefix: String,
    pub secrets: &'a Secrets,
    pub timeout: Option<Duration>,
    /// The run it works on, for the record of its process group.
    pub run: &'a str,
    /// More variables for the child (the Docker proxy's).
    pub env: Vec<(String, String)>,
}

impl Invocation<'_> {
    /// Runs to the end, streaming output; `tick` is called about once a
    /// second and once at the end (for the progress line), and stops the
    /// child's whole group by returning true. Never returns while the child lives.
    pub fn run(&self, mut tick: impl FnMut() -> bool) -> anyhow::Result<Ended> {
        let flag = interrupted();
        // Stopped already (a signal, a closed output): start nothing more.
        if flag.load(Ordering::SeqCst) {
            return Ok(Ended::Interrupted);
        }
        let mut expr = duct::cmd(self.program, &self.args)
            .dir(self.dir)
            .stderr_to_stdout()
            .unchecked()
            .env("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            .env("PYTHONUNBUFFERED", "1")
            .before_spawn(|cmd| {
                use std::os::unix::process::CommandExt;
                cmd.process_group(0);
                let parent = std::process::id() as i32;
                // SAFETY: async-signal-safe calls only, in the child before exec.
                unsafe {
                    cmd.pre_exec(move || {
                        // The CLI never outlives the harness, however the
                        // harness dies (kill -9 included). The signal comes
                        // when the spawning thread ends; `run` waits on the
                        // child in that thread, so it outlives the child.
                        if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                            return Err(std::io::Error::last_os_error());
                        }
                        if libc::getppid() != parent {
                            // The harness died before the prctl took hold.
                            libc::_exit(1);
                        }
                        Ok(())
                    });
                }
                Ok(())
            });
        for (k, v) in self.secrets.env() {
            expr = expr.env(k, v);
        }
        for (k, v) in &self.env {
            expr = expr.env(k, v);
        }
        // Every descendant inherits it, whatever it does with its group or
        // session: the next start finds what a kill -9 of ours left.
        let checkout = crate::edges::identity::checkout_id(self.dir);
        expr = expr.env(crate::edges::groups::MARK, crate::edges::groups::mark(&checkout, self.run));
        job_control();
        let reader = Arc::new(expr.reader().with_context(|| format!("cannot start {}", self.program.display()))?);
        let pid = reader.pids().first().copied().unwrap_or(0) as i32;
        // Its group on disk, so that a harness killed with -9 leaves a trace
        // the next one follows (edges::groups), and in memory for Ctrl-Z.
        let record = crate::edges::groups::Record {
            pgid: pid,
            start_ticks: crate::edges::groups::start_ticks(pid).unwrap_or(0),
            run: self.run.to_string(),
            command: self.line(),
            harness_pid: std::process::id(),
            harness_start_ticks: crate::edges::groups::start_ticks(std::process::id() as i32).unwrap_or(0),
            marked: false,
        };
        if let Err(e) = crate::edges::groups::record(self.dir, &record) {
            crate::say!(
                "{}cannot record the CLI's process group ({e}); a kill -9 of the harness would leave it unknown",
                self.prefix
            );
        }
        if let Ok(mut g) = live_groups().lock() {
            g.insert(pid);
        }
        let mut resumes = RESUMES.load(Ordering::SeqCst);
        let (tx, rx) = mpsc::channel::<String>();
        let r = Arc::clone(&reader);
        let pump = std::thread::spawn(move || {
            let mut lines = BufReader::new(&*r);
            let mut buf = Vec::new();
            while lines.read_until(b'\n', &mut buf).unwrap_or(0) > 0 {
                let _ = tx.send(String::from_utf8_lossy(&buf).trim_end().to_string());
                buf.clear();
            }
        });
        let start = Instant::now();
        let mut last_tick = Instant::now();
        let mut ended = None;
        // Scrubbed across lines: a key wrapped over two arrives in pieces.
        let mut stream = crate::edges::secrets::Stream::new(self.secrets);
        let mut last_line = Instant::now();
        let show = |lines: Vec<String>| {
            for l in lines {
                crate::say!("{}{l}", self.prefix);
            }
        };
        loop {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    last_line = Instant::now();
                    show(stream.push(&line));
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    // A held line waits a second at most for its next one.
                    if last_line.elapsed() > Duration::from_secs(1) {
                        show(stream.flush());
                    }
                }
            }
            let mut stop = false;
            let now_resumes = RESUMES.load(Ordering::SeqCst);
            if now_resumes != resumes {
                // Continued after Ctrl-Z: the budget first, then the group.
                resumes = now_resumes;
                stop = tick();
                last_tick = Instant::now();
                if !stop {
                    kill_group(pid, libc::SIGCONT);
                }
            } else if last_tick.elapsed() >= Duration::from_secs(1) {
                stop = tick();
                last_tick = Instant::now();
                reap_adopted();
            }
            if ended.is_none() {
                if stop {
                    ended = Some(Ended::Stopped);
                } else if flag.load(Ordering::SeqCst) {
                    ended = Some(Ended::Interrupted);
                } else if self.timeout.is_some_and(|t| start.elapsed() > t) {
                    ended = Some(Ended::TimedOut);
                }
                if ended.is_some() {
                    stop_group(pid, &reader);
                }
            }
        }
        let _ = pump.join();
        show(stream.flush());
        tick();
        let status = reader.try_wait().ok().flatten().and_then(|o| o.status.code());
        // Whatever ended it, make sure nothing of its group is left.
        kill_group(pid, libc::SIGKILL);
        reap_group(pid);
        reap_adopted();
        if let Ok(mut g) = live_groups().lock() {
            g.remove(&pid);
        }
        crate::edges::groups::forget(self.dir, pid);
        Ok(ended.unwrap_or(Ended::Exited(status)))
    }

    pub fn line(&self) -> String {
        shell_line(self.program, &self.args)
    }
}

fn kill_group(pid: i32, sig: i32) {
    if pid > 0 {
        // SAFETY: kill(2) with a negative pid signals the process group we
        // created with process_group(0); it touches no memory.
        unsafe {
            libc::kill(-pid, sig);
        }
    }
}

/// Reaps the group's members re-parented to us (we are their subreaper),
/// never its leader, which duct waits for.
fn reap_group(pgid: i32) {
    let me = std::process::id() as i32;
    for _ in 0..20 {
        let ours: Vec<i32> = crate::edges::groups::processes()
            .into_iter()
            .filter(|p| p.ppid == me && p.pgid == pgid && p.pid != pgid)
            .map(|p| p.pid)
            .collect();
        if ours.is_empty() {
            return;
        }
        for p in ours {
            // SAFETY: waitpid(2) on a child of ours, without blocking.
            unsafe {
                libc::waitpid(p, std::ptr::null_mut(), libc::WNOHANG);
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Reaps every zombie child the subreaper adopted, in whatever group (N7:
/// a daemonising launcher's worker that left the CLI's group and exited
/// would stay a zombie, and a launcher polling `kill(pid, 0)` would wait
/// forever). Never a child we spawned ourselves: those are in our own
/// group (short commands) or lead a live group (the CLI), and their
/// handles wait for them.
fn reap_adopted() {
    let me = std::process::id() as i32;
    // SAFETY: getpgrp(2) reads this process's group; no memory passed.
    let my_group = unsafe { libc::getpgrp() };
    let leaders: Vec<i32> = live_groups().lock().map(|g| g.iter().copied().collect()).unwrap_or_default();
    for p in crate::edges::groups::processes() {
        if p.ppid == me && p.state == 'Z' && p.pgid != my_group && !leaders.contains(&p.pid) {
            // SAFETY: waitpid(2) on a zombie child of ours, without blocking.
            unsafe {
                libc::waitpid(p.pid, std::ptr::null_mut(), libc::WNOHANG);
            }
        }
    }
}

/// SIGTERM to the whole group (continued, were it stopped by Ctrl-Z), then
/// SIGKILL after a grace period.
fn stop_group(pid: i32, reader: &duct::ReaderHandle) {
    kill_group(pid, libc::SIGTERM);
    kill_group(pid, libc::SIGCONT);
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if reader.try_wait().ok().flatten().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    kill_group(pid, libc::SIGKILL);
}

/// `program --help` answers (short, read whole); a failure names the
/// command, its status, the end of its stderr and the fix.
pub fn answers_help(sh: &crate::edges::short::Short, program: &Path) -> anyhow::Result<()> {
    const FIX: &str = "reinstall with `cargo xtask install-cooperbench`, or pass --cooperbench-bin";
    let out = sh.output(program, &["--help"], &[("LITELLM_LOCAL_MODEL_COST_MAP", "True")], FIX)?;
    if !out.success() {
        return Err(crate::edges::short::failure(program, &["--help"], &out, FIX));
    }
    Ok(())
}

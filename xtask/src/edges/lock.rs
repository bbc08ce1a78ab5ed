//! One spender per checkout and per run folder at a time. The lock is a set
//! of `flock`s, held by the kernel for as long as a process holding the
//! descriptors lives (kill -9 releases them; a stale file never blocks):
//!
//! - on the checkout folder itself, its `logs/` and each run folder the
//!   money goes into (`logs/<run>`), resolved through links, so that
//!   deleting a file cannot free it, and two checkouts whose `logs/` (or a
//!   run folder) is one folder exclude each other;
//! - on `.harness/seeds.lock`, which says who holds it; after taking it the
//!   file at the path must still be the one locked (else it was replaced
//!   under us, and it is taken again).
//!
//! The descriptors are inherited by the CLI processes `seeds` starts, so a
//! CLI that outlives the harness still holds them and a rerun refuses to
//! start beside it.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

/// Held while it lives: dropping it closes the files and frees the locks.
pub struct Lock {
    _held: Vec<File>,
    /// Run folders locked since (`hold_run`), by their resolved path.
    runs: std::sync::Mutex<Vec<(std::path::PathBuf, File)>>,
    holder: String,
}

impl Lock {
    /// Takes the checkout's lock, its `logs/` folder's and each existing run
    /// folder's, or says who holds them.
    pub fn acquire(cooperbench_dir: &Path, runs: &[String]) -> anyhow::Result<Lock> {
        let (file, holder) = lock_file(cooperbench_dir)?;
        let holder = if holder.is_empty() { "holder unknown".to_string() } else { holder.replace('\n', "; ") };
        let mut held = vec![file];
        let held_by_another = |what: String| {
            anyhow::anyhow!(
                "{what} is in use by another `cargo xtask seeds` or `oracle`, or by a CLI one of them started ({holder}); \
                 wait for it to end, or stop it (`cargo xtask status` shows what is running)"
            )
        };
        held.push(lock_dir(cooperbench_dir)?.ok_or_else(|| held_by_another("this checkout".into()))?);
        // logs/ (the CLI makes it anyway), and each run folder that exists
        // (one that does not cannot be a link into another checkout yet).
        let logs = cooperbench_dir.join("logs");
        std::fs::create_dir_all(&logs).map_err(|e| anyhow::anyhow!("cannot make {}: {e}", logs.display()))?;
        let folders = std::iter::once(logs.clone())
            .chain(runs.iter().map(|r| crate::edges::layout::run_dir(cooperbench_dir, r)).filter(|d| d.is_dir()));
        for dir in folders {
            let real = dir.canonicalize().unwrap_or(dir);
            let f = lock_dir(&real)?.ok_or_else(|| held_by_another(format!("{}", real.display())))?;
            held.push(f);
        }
        for f in &held {
            inherit(f);
        }
        Ok(Lock { _held: held, runs: Default::default(), holder })
    }

    /// Before anything is written into a run folder: the harness makes it
    /// (never the CLI first) and locks it, resolved through links, when it
    /// came to exist after [`Lock::acquire`], or when the folder at its
    /// path is no longer the one locked (replaced by a link into another
    /// checkout, N1). Refused when another holds it.
    pub fn hold_run(&self, cooperbench_dir: &Path, run: &str) -> anyhow::Result<()> {
        let dir = crate::edges::layout::run_dir(cooperbench_dir, run);
        std::fs::create_dir_all(&dir).map_err(|e| anyhow::anyhow!("cannot make {}: {e}", dir.display()))?;
        let real = dir.canonicalize().map_err(|e| anyhow::anyhow!("cannot resolve {}: {e}", dir.display()))?;
        let meta = std::fs::metadata(&real).map_err(|e| anyhow::anyhow!("{}: {e}", real.display()))?;
        let same = |f: &File| f.metadata().is_ok_and(|m| m.ino() == meta.ino() && m.dev() == meta.dev());
        if self._held.iter().any(same) {
            return Ok(());
        }
        let mut runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        if runs.iter().any(|(_, f)| same(f)) {
            return Ok(());
        }
        let f = lock_dir(&real)?.ok_or_else(|| {
            anyhow::anyhow!(
                "{} is in use by another `cargo xtask seeds` or `oracle`, or by a CLI one of them started ({}): not written into; \
                 a run folder that is a link into another checkout is that checkout's",
                real.display(),
                self.holder
            )
        })?;
        inherit(&f);
        runs.push((real, f));
        Ok(())
    }
}

/// Clears FD_CLOEXEC on our own descriptor, so that the CLI inherits the
/// lock and a CLI outliving the harness still holds it.
fn inherit(f: &File) {
    // SAFETY: fcntl(2) on a descriptor we own.
    unsafe { libc::fcntl(f.as_raw_fd(), libc::F_SETFD, 0) };
}

/// [`Lock::acquire`] for a spender (`seeds`, `oracle`): first the groups a
/// killed harness left running (`edges::groups`), ended with `stop_orphans`
/// or else named in a refusal (a launcher that keeps descriptors passes
/// the lock on to them); a usage error when the lock is not taken.
pub fn acquire_for_spending(cooperbench_dir: &Path, runs: &[String], stop_orphans: bool) -> anyhow::Result<Lock> {
    let orphans = crate::edges::groups::before_lock(cooperbench_dir, stop_orphans);
    // Stopped processes let go of the inherited lock as they exit, a moment
    // after they stop running: wait for that (a few seconds at most).
    let mut tries = if stop_orphans { 20 } else { 1 };
    let mut got = Lock::acquire(cooperbench_dir, runs);
    while got.is_err() && tries > 1 {
        tries -= 1;
        std::thread::sleep(std::time::Duration::from_millis(250));
        got = Lock::acquire(cooperbench_dir, runs);
    }
    got.map_err(|e| {
        crate::usage(match orphans {
            Some(o) => anyhow::anyhow!("{e:#}\n{o}"),
            None => e,
        })
    })
}

/// `flock` on a folder; `None` when another holds it.
fn lock_dir(dir: &Path) -> anyhow::Result<Option<File>> {
    let f = File::open(dir).map_err(|e| anyhow::anyhow!("cannot open {}: {e}", dir.display()))?;
    match f.try_lock() {
        Ok(()) => Ok(Some(f)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => anyhow::bail!("cannot lock {}: {e}", dir.display()),
    }
}

/// `.harness/seeds.lock`, locked and still the file at its path, with who
/// held it before (for the refusal) written over by us.
fn lock_file(cooperbench_dir: &Path) -> anyhow::Result<(File, String)> {
    let path = crate::edges::layout::lock_file(cooperbench_dir);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    for _ in 0..10 {
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            // The lock file is ours: never through a link, never blocking.
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&path)
            .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
        let mut holder = String::new();
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim().replace('\n', "; ");
                anyhow::bail!(
                    "this checkout is in use by another `cargo xtask seeds` or `oracle`, or by a CLI one of them started ({}); \
                     wait for it to end, or stop it (`cargo xtask status` shows what is running)",
                    if holder.is_empty() { "holder unknown".to_string() } else { holder }
                );
            }
            Err(std::fs::TryLockError::Error(e)) => anyhow::bail!("cannot lock {}: {e}", path.display()),
        }
        // The file at the path must be the one locked: if it was removed or
        // replaced between the open and the lock, lock the new one.
        let same = std::fs::metadata(&path)
            .ok()
            .zip(file.metadata().ok())
            .is_some_and(|(at_path, ours)| at_path.ino() == ours.ino() && at_path.dev() == ours.dev());
        if !same {
            continue;
        }
        let _ = file.read_to_string(&mut holder);
        file.set_len(0)?;
        file.rewind()?;
        writeln!(file, "pid {} started {}", std::process::id(), crate::edges::clock::now().to_iso())?;
        return Ok((file, holder.trim().to_string()));
    }
    anyhow::bail!("{} keeps being replaced while it is locked", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_and_told_who_holds_it() {
        let dir = std::env::temp_dir().join(format!("xtask-lock-test-{}", std::process::id()));
        let first = Lock::acquire(&dir, &[]).unwrap();
        let e = Lock::acquire(&dir, &[]).err().unwrap().to_string();
        assert!(e.contains(&format!("pid {} started", std::process::id())), "{e}");
        assert!(!e.contains("seeds.lock") && !e.contains("delete"), "the refusal names no file to delete: {e}");
        drop(first);
        let again = Lock::acquire(&dir, &[]).unwrap();
        drop(again);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn deleting_the_lock_file_or_linking_logs_does_not_free_it() {
        let root = std::env::temp_dir().join(format!("xtask-lock-test2-{}", std::process::id()));
        let (a, b) = (root.join("a"), root.join("b"));
        std::fs::create_dir_all(a.join("logs")).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        let first = Lock::acquire(&a, &["s1".into()]).unwrap();
        // The file the refusal once named, deleted, and the whole .harness/.
        std::fs::remove_dir_all(a.join(".harness")).unwrap();
        let e = Lock::acquire(&a, &["s1".into()]).err().expect("a second holder after deleting .harness/");
        assert!(e.to_string().contains("in use"), "{e}");
        // A second checkout whose logs/ is the first's.
        std::os::unix::fs::symlink(a.join("logs"), b.join("logs")).unwrap();
        let e = Lock::acquire(&b, &["s1".into()]).err().expect("a second holder through a linked logs/");
        assert!(e.to_string().contains("/a/logs is in use"), "{e}");
        // A third whose one run folder is the first's.
        let c = root.join("c");
        std::fs::create_dir_all(a.join("logs/s1")).unwrap();
        std::fs::create_dir_all(c.join("logs")).unwrap();
        std::os::unix::fs::symlink(a.join("logs/s1"), c.join("logs/s1")).unwrap();
        drop(first);
        let first = Lock::acquire(&a, &["s1".into()]).unwrap();
        let e = Lock::acquire(&c, &["s1".into()]).err().expect("a second holder through a linked run folder");
        assert!(e.to_string().contains("/a/logs/s1 is in use"), "{e}");
        drop(Lock::acquire(&c, &["s2".into()]).unwrap());
        drop(first);
        drop(Lock::acquire(&b, &["s1".into()]).unwrap());
        std::fs::remove_dir_all(&root).unwrap();
    }

    /// N1: a run folder that comes to exist after the lock was taken (the
    /// seed had not started), then turns out to be a link into a checkout
    /// that is spending into it: refused before anything is written.
    #[test]
    fn a_run_folder_made_later_is_locked_before_use() {
        let root = std::env::temp_dir().join(format!("xtask-lock-test3-{}", std::process::id()));
        let (a, b) = (root.join("a"), root.join("b"));
        std::fs::create_dir_all(a.join("logs/s1")).unwrap();
        std::fs::create_dir_all(b.join("logs")).unwrap();
        let first = Lock::acquire(&a, &["s1".into()]).unwrap();
        // b starts before its s1 exists: nothing of s1 to lock yet.
        let second = Lock::acquire(&b, &["s1".into()]).unwrap();
        std::os::unix::fs::symlink(a.join("logs/s1"), b.join("logs/s1")).unwrap();
        let e = second.hold_run(&b, "s1").expect_err("the link's target is the first's");
        assert!(e.to_string().contains("/a/logs/s1 is in use"), "{e}");
        // Its own folder, made by the harness, is held...
        second.hold_run(&b, "s2").unwrap();
        assert!(b.join("logs/s2").is_dir());
        second.hold_run(&b, "s2").unwrap();
        // ... and a later holder of b is refused it.
        drop(first);
        std::fs::remove_file(b.join("logs/s1")).unwrap();
        let third = std::thread::spawn({
            let b = b.clone();
            move || Lock::acquire(&b, &["s2".into()]).err().map(|e| e.to_string())
        });
        assert!(third.join().unwrap().is_some(), "b is still held");
        drop(second);
        std::fs::remove_dir_all(&root).unwrap();
    }
}

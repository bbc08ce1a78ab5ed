//! One `seeds` per checkout at a time. The lock is an `flock` on
//! `<checkout>/.harness/seeds.lock`: the kernel holds it for as long as a
//! process holding the file open lives, so a crash (kill -9 included)
//! releases it and a stale file never blocks. The descriptor is inherited by
//! the CLI processes `seeds` starts, so a CLI that outlives the harness
//! still holds the lock and a rerun refuses to start beside it.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::Path;

/// Held while it lives: dropping it closes the file and frees the lock.
pub struct Lock {
    _file: File,
}

impl Lock {
    /// Takes the lock or says who holds it.
    pub fn acquire(cooperbench_dir: &Path) -> anyhow::Result<Lock> {
        let path = crate::edges::layout::lock_file(cooperbench_dir);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
        // std's file lock is flock(2) on Linux: held by the open file, so by
        // every process that inherits the descriptor.
        if let Err(e) = file.try_lock() {
            if let std::fs::TryLockError::Error(e) = e {
                anyhow::bail!("cannot lock {}: {e}", path.display());
            }
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim().replace('\n', "; ");
            anyhow::bail!(
                "another `cargo xtask seeds` on this checkout is running, or a CLI it started still is ({}); \
                 wait for it to end or stop it, then run again. Lock: {}",
                if holder.is_empty() { "holder unknown".to_string() } else { holder },
                path.display()
            );
        }
        // SAFETY: clears FD_CLOEXEC on our own descriptor so children inherit it.
        unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETFD, 0) };
        file.set_len(0)?;
        file.rewind()?;
        writeln!(file, "pid {} started {}", std::process::id(), crate::edges::clock::now().to_iso())?;
        Ok(Lock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_and_told_who_holds_it() {
        let dir = std::env::temp_dir().join(format!("xtask-lock-test-{}", std::process::id()));
        let first = Lock::acquire(&dir).unwrap();
        let e = Lock::acquire(&dir).err().unwrap().to_string();
        assert!(e.contains(&format!("pid {} started", std::process::id())), "{e}");
        drop(first);
        let again = Lock::acquire(&dir).unwrap();
        drop(again);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

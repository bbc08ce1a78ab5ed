//! Every file the harness writes of its own goes through here (events,
//! attempts, eval times, manifests, group records): never through a link
//! (a link in its place, say to a file outside the checkout, is refused,
//! not written through) and never blocking (a named pipe in its place is
//! refused at once, not waited on while Ctrl-C goes unheard). What was made
//! by someone else at that path is left as it is.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

fn refused(path: &Path, why: &str) -> std::io::Error {
    std::io::Error::other(format!("{}: {why}: not written", path.display()))
}

/// The file opened for appending (made when absent): a regular file only.
pub fn append(path: &Path) -> std::io::Result<std::fs::File> {
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => refused(path, "a link"),
            // A pipe with no reader answers a non-blocking open so.
            Some(libc::ENXIO) => refused(path, "not a regular file (a pipe or a device)"),
            _ => std::io::Error::other(format!("{}: {e}", path.display())),
        })?;
    // Checked on the descriptor: what was opened, not what the path is now.
    if !f.metadata()?.is_file() {
        return Err(refused(path, "not a regular file (a pipe or a device)"));
    }
    Ok(f)
}

/// `bytes` as the whole file: written beside it, then renamed over it, so
/// that a link or a pipe at the path is replaced, never written through.
pub fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(&tmp)?;
    f.write_all(bytes)?;
    drop(f);
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fifo(path: &Path) {
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mkfifo(3) on a path of our own temporary folder.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    }

    /// N37, N38, N39: a named pipe where events or attempts go is refused
    /// at once (no reader: an open for writing would block forever), and a
    /// link to a file outside is never appended to.
    #[test]
    fn pipes_and_links_are_refused_never_waited_on_or_written_through() {
        let d = tempfile::tempdir().unwrap();
        let pipe = d.path().join("events.jsonl");
        fifo(&pipe);
        let t = std::time::Instant::now();
        let e = append(&pipe).unwrap_err();
        assert!(t.elapsed() < std::time::Duration::from_secs(2));
        assert!(e.to_string().contains("events.jsonl: not a regular file"), "{e}");
        let outside = d.path().join("outside.txt");
        std::fs::write(&outside, "theirs\n").unwrap();
        let link = d.path().join("attempts.jsonl");
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        assert!(append(&link).unwrap_err().to_string().contains("a link"));
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "theirs\n");
        // Replacing: the link itself is replaced, its target untouched.
        replace(&link, b"ours\n").unwrap();
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "theirs\n");
        assert_eq!(std::fs::read_to_string(&link).unwrap(), "ours\n");
        assert!(!std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        // A plain file appends.
        let plain = d.path().join("plain.jsonl");
        writeln!(append(&plain).unwrap(), "a").unwrap();
        writeln!(append(&plain).unwrap(), "b").unwrap();
        assert_eq!(std::fs::read_to_string(&plain).unwrap(), "a\nb\n");
    }
}

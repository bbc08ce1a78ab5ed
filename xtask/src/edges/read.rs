//! Every file the harness reads goes through here: only a regular file
//! (a link to one is followed), opened without blocking, so that a named
//! pipe or a device in its place is refused rather than waited on or read
//! forever, and read up to a limit.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The limit for the harness's own small files: configs, summaries,
/// manifests, `.env`, the experiment file, a subset, a record.
pub const SMALL: u64 = 16 << 20;

/// The file's bytes; `Ok(None)` when it is absent.
pub fn bytes(path: &Path, max: u64) -> Result<Option<Vec<u8>>, String> {
    let file = match std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read: {e}")),
    };
    // Checked on the open file: what was at the path when it was opened.
    match file.metadata() {
        Ok(m) if m.is_file() => {}
        Ok(_) => return Err("not a regular file (a folder, a pipe or a device): not read".into()),
        Err(e) => return Err(format!("cannot read: {e}")),
    }
    let mut out = Vec::new();
    // One byte past the limit tells "too large" without reading it all.
    match file.take(max + 1).read_to_end(&mut out) {
        Ok(n) if n as u64 > max => Err(format!("larger than {} MiB: not read", (max >> 20).max(1))),
        Ok(_) => Ok(Some(out)),
        Err(e) => Err(format!("cannot read: {e}")),
    }
}

/// The file's text (UTF-8 or an error); absent is an error too.
pub fn text(path: &Path, max: u64) -> Result<String, String> {
    let bytes = bytes(path, max)?.ok_or_else(|| "cannot read: No such file or directory".to_string())?;
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())
}

/// The file's text, or "" when it is absent; other troubles are errors.
pub fn text_or_empty(path: &Path, max: u64) -> Result<String, String> {
    match bytes(path, max)? {
        None => Ok(String::new()),
        Some(b) => String::from_utf8(b).map_err(|_| "not UTF-8 text".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pipe_a_device_and_a_folder_are_refused_without_waiting() {
        let dir = std::env::temp_dir().join(format!("xtask-read-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo on a path we own.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // Opening a FIFO for reading blocks until a writer comes; this returns.
        assert!(bytes(&fifo, SMALL).unwrap_err().starts_with("not a regular file"));
        assert!(bytes(Path::new("/dev/zero"), SMALL).unwrap_err().starts_with("not a regular file"));
        assert!(bytes(&dir, SMALL).is_err());
        let link = dir.join("zero");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        assert!(text(&link, SMALL).unwrap_err().starts_with("not a regular file"));
        // A regular file: read, within its limit.
        let f = dir.join("f");
        std::fs::write(&f, vec![b'a'; 2 << 20]).unwrap();
        assert_eq!(bytes(&f, 4 << 20).unwrap().unwrap().len(), 2 << 20);
        assert_eq!(bytes(&f, 1 << 20).unwrap_err(), "larger than 1 MiB: not read");
        assert_eq!(bytes(&dir.join("absent"), 1).unwrap(), None);
        assert_eq!(text_or_empty(&dir.join("absent"), 1).unwrap(), "");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

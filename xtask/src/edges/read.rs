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

/// Why a file could not be read; each says so in the words the reports
/// have always used, and callers tell the kinds apart by the variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// The system's own reason (permissions, I/O, absent where required).
    Cannot(String),
    /// A folder, a pipe or a device where a file should be.
    NotRegular,
    /// Past the limit, in MiB (at least 1).
    TooLarge {
        max_mib: u64,
    },
    NotUtf8,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Cannot(why) => write!(f, "cannot read: {why}"),
            ReadError::NotRegular => write!(f, "not a regular file (a folder, a pipe or a device): not read"),
            ReadError::TooLarge { max_mib } => write!(f, "larger than {max_mib} MiB: not read"),
            ReadError::NotUtf8 => write!(f, "not UTF-8 text"),
        }
    }
}

impl From<ReadError> for String {
    fn from(e: ReadError) -> String {
        e.to_string()
    }
}

/// The file's bytes; `Ok(None)` when it is absent.
pub fn bytes(path: &Path, max: u64) -> Result<Option<Vec<u8>>, ReadError> {
    let file = match std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ReadError::Cannot(e.to_string())),
    };
    // Checked on the open file: what was at the path when it was opened.
    let len = match file.metadata() {
        Ok(m) if m.is_file() => m.len(),
        Ok(_) => return Err(ReadError::NotRegular),
        Err(e) => return Err(ReadError::Cannot(e.to_string())),
    };
    if len > max {
        return Err(ReadError::TooLarge { max_mib: (max >> 20).max(1) });
    }
    // Room for the whole file and one byte more: read in one call, the end
    // seen without growing the buffer (verify reads tens of thousands).
    let mut out = Vec::with_capacity(len as usize + 1);
    // One byte past the limit tells "too large" without reading it all.
    match file.take(max + 1).read_to_end(&mut out) {
        Ok(n) if n as u64 > max => Err(ReadError::TooLarge { max_mib: (max >> 20).max(1) }),
        Ok(_) => Ok(Some(out)),
        Err(e) => Err(ReadError::Cannot(e.to_string())),
    }
}

/// The file's text (UTF-8 or an error); absent is an error too.
pub fn text(path: &Path, max: u64) -> Result<String, ReadError> {
    let bytes = bytes(path, max)?.ok_or_else(|| ReadError::Cannot("No such file or directory".into()))?;
    String::from_utf8(bytes).map_err(|_| ReadError::NotUtf8)
}

/// The file's text, or "" when it is absent; other troubles are errors.
pub fn text_or_empty(path: &Path, max: u64) -> Result<String, ReadError> {
    match bytes(path, max)? {
        None => Ok(String::new()),
        Some(b) => String::from_utf8(b).map_err(|_| ReadError::NotUtf8),
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
        assert_eq!(bytes(&fifo, SMALL).unwrap_err(), ReadError::NotRegular);
        assert_eq!(bytes(Path::new("/dev/zero"), SMALL).unwrap_err(), ReadError::NotRegular);
        assert!(bytes(&dir, SMALL).is_err());
        let link = dir.join("zero");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        assert!(text(&link, SMALL).unwrap_err().to_string().starts_with("not a regular file"));
        // A regular file: read, within its limit.
        let f = dir.join("f");
        std::fs::write(&f, vec![b'a'; 2 << 20]).unwrap();
        assert_eq!(bytes(&f, 4 << 20).unwrap().unwrap().len(), 2 << 20);
        assert_eq!(bytes(&f, 1 << 20).unwrap_err().to_string(), "larger than 1 MiB: not read");
        assert_eq!(bytes(&dir.join("absent"), 1).unwrap(), None);
        assert_eq!(text_or_empty(&dir.join("absent"), 1).unwrap(), "");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

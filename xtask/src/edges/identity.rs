//! This checkout's identity: a random id, made once and kept in
//! `.harness/checkout-id`. It names what the harness owns outside the
//! checkout (the label on every container the CLI makes through our proxy,
//! the Modal environments of its runs). A hash of the path would not do:
//! two checkouts at the same path (CI jobs in containers that share the
//! host's Docker socket, two hosts on one engine) would share it, and one's
//! clean-up would remove the other's live containers.

use std::io::Write as _;
use std::path::Path;

use crate::edges::layout;

const FILE: &str = "checkout-id";

/// The id, made on first use. Where it cannot be kept (a read-only
/// checkout), a hash of the path stands in, as before (said once).
pub fn checkout_id(cooperbench_dir: &Path) -> String {
    let dir = layout::harness_dir(cooperbench_dir);
    let path = dir.join(FILE);
    if let Some(id) = read(&path) {
        return id;
    }
    let fresh = random_hex();
    let made = std::fs::create_dir_all(&dir).and_then(|_| {
        // create_new: two harnesses starting at once agree on the first.
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(&path)?;
        f.write_all(fresh.as_bytes())
    });
    match made {
        Ok(()) => fresh,
        Err(_) => read(&path).unwrap_or_else(|| {
            crate::say!("{}: cannot keep this checkout's id there; using a hash of its path", path.display());
            path_hash(cooperbench_dir)
        }),
    }
}

fn read(path: &Path) -> Option<String> {
    let text = crate::edges::read::text(path, 256).ok()?;
    let id = text.trim();
    (id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit())).then(|| id.to_string())
}

/// 128 random bits as hex, from the kernel.
fn random_hex() -> String {
    let mut bytes = [0u8; 16];
    let got = std::fs::File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes));
    if got.is_err() {
        // No /dev/urandom: the clock and the pid, hashed (unique enough
        // for one host's checkouts).
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let seed = format!("{}:{}", now.as_nanos(), std::process::id());
        return crate::edges::manifest::digest(seed.as_bytes())[..32].to_string();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The checkout's folder, resolved, hashed: for display, and where no id
/// can be kept.
pub fn path_hash(cooperbench_dir: &Path) -> String {
    let real = cooperbench_dir.canonicalize().unwrap_or_else(|_| cooperbench_dir.to_path_buf());
    crate::edges::manifest::digest(real.as_os_str().as_encoded_bytes())[..16].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two checkouts at one path (the second made after the first is gone,
    /// as two CI jobs' containers would) get different ids; one checkout
    /// keeps its own.
    #[test]
    fn two_checkouts_at_one_path_do_not_share_an_id() {
        let tmp = tempfile::tempdir().unwrap();
        let cb = tmp.path().join("CooperBench");
        std::fs::create_dir_all(&cb).unwrap();
        let first = checkout_id(&cb);
        assert_eq!(first.len(), 32);
        assert_eq!(checkout_id(&cb), first, "kept");
        std::fs::remove_dir_all(&cb).unwrap();
        std::fs::create_dir_all(&cb).unwrap();
        let second = checkout_id(&cb);
        assert_ne!(first, second);
        assert_eq!(path_hash(&cb).len(), 16);
    }
}

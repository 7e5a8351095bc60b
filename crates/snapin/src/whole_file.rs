//! Files read and written whole: a read that stops past a cap instead of
//! reading on, and a write through a temporary file beside the target,
//! renamed over it, so that a reader sees the old file or the new one,
//! never part of either.

use std::io::{Read as _, Write as _};
use std::path::Path;

/// The bytes of the file at `path`; none when it holds more than `cap`
/// bytes (no more than `cap + 1` are read).
#[cfg_attr(not(feature = "provenance"), allow(dead_code))]
pub(crate) fn read_capped(path: &Path, cap: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(cap.saturating_add(1))
        .read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= cap).then_some(bytes))
}

/// Writes `bytes` as the file at `path`, through a temporary file named
/// `PREFIX...` in the same directory, synced, then renamed over it.
#[cfg_attr(not(feature = "registry"), allow(dead_code))]
pub(crate) fn replace(path: &Path, prefix: &str, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new().prefix(prefix).tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

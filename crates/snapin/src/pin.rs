//! Pins: the sha256 of a plugin file, taken at install, so that a file
//! changed behind the user's back is not run until they re-pin it; and the
//! file's stamp, which lets a check skip hashing a file that has not
//! changed.
//!
//! A pin is taken, and checked, through one open file: the stamp recorded
//! is that of the very file that was hashed, taken before and after hashing
//! and kept only when both agree (a file written while it was hashed gets
//! no stamp, so the next check hashes it again). A stamp is only trusted on
//! a filesystem where every change of content changes it
//! ([`stamps_are_reliable`]): on tmpfs, for one, a write through a memory
//! map changes neither size, times nor inode, so a file there is hashed on
//! every check.

use std::fs::File;
use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Size, times and identity of a file, as `stat` reports them. Any write
/// to the file, or replacing it, changes the change time (`ctime`), which
/// a user cannot set back: the same check git makes before it trusts a
/// cached hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStamp {
    /// Size in bytes.
    pub len: u64,
    /// Modification time (seconds, nanoseconds).
    pub mtime: (i64, i64),
    /// Change time (seconds, nanoseconds).
    pub ctime: (i64, i64),
    /// Inode number.
    pub ino: u64,
    /// Device number.
    pub dev: u64,
}

impl FileStamp {
    /// The stamp of the open file `file` now, when it can be trusted to
    /// change with the file's content; `None` where it cannot be (a
    /// filesystem that does not keep it, see [`stamps_are_reliable`], or
    /// off Unix, where every check hashes).
    fn of(file: &File) -> io::Result<Option<FileStamp>> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let m = file.metadata()?;
            if !stamps_are_reliable_on(m.dev(), file) {
                return Ok(None);
            }
            Ok(Some(FileStamp {
                len: m.size(),
                mtime: (m.mtime(), m.mtime_nsec()),
                ctime: (m.ctime(), m.ctime_nsec()),
                ino: m.ino(),
                dev: m.dev(),
            }))
        }
        #[cfg(not(unix))]
        {
            let _ = file;
            Ok(None)
        }
    }
}

/// [`stamps_are_reliable`] for `file` on device `dev`, asked once per
/// device in a process: `plugins list` checks every plugin's pin, and
/// plugins share a few filesystems.
#[cfg(unix)]
fn stamps_are_reliable_on(dev: u64, file: &File) -> bool {
    use std::sync::Mutex;
    static KNOWN: Mutex<Vec<(u64, bool)>> = Mutex::new(Vec::new());
    let mut known = KNOWN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(&(_, reliable)) = known.iter().find(|(d, _)| *d == dev) {
        return reliable;
    }
    let reliable = stamps_are_reliable(file);
    known.push((dev, reliable));
    reliable
}

/// Whether the filesystem holding `file` changes a file's stamp with every
/// change of its content. On Linux only filesystems known to do so are
/// trusted, by their magic number (`statfs`'s `f_type`): local disk
/// filesystems, and overlayfs on top of them. Not trusted: tmpfs and
/// ramfs (a write through a memory map changes no time), network
/// filesystems (NFS, SMB, 9p: the server's times, cached), FUSE (whatever
/// the daemon says), FAT (two-second times), and every filesystem not in
/// the list. Elsewhere on
/// Unix, stamps are trusted.
#[cfg(unix)]
fn stamps_are_reliable(file: &File) -> bool {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        // From linux/magic.h (and bcachefs, zfs: their own headers).
        const RELIABLE: [u64; 9] = [
            0xEF53,      // ext2, ext3, ext4
            0x5846_5342, // xfs
            0x9123_683E, // btrfs
            0xF2F5_2010, // f2fs
            0xCA45_1A4E, // bcachefs
            0x2FC1_2FC1, // zfs
            0x794C_7630, // overlayfs
            0x7371_7368, // squashfs (read-only)
            0xE0F5_E1E2, // erofs (read-only)
        ];
        match rustix::fs::fstatfs(file) {
            // `f_type`'s width and sign differ between targets.
            #[allow(clippy::useless_conversion, clippy::unnecessary_cast)]
            Ok(fs) => RELIABLE.contains(&(fs.f_type as u64 & 0xFFFF_FFFF)),
            Err(_) => false,
        }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let _ = file;
        true
    }
}

/// A file's pin: its sha256, and its stamp when the stamp can be trusted
/// to tell that the file is unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// The hex sha256 of its content.
    pub sha256: String,
    /// Its stamp, taken from the file that was hashed, before and after.
    pub stamp: Option<FileStamp>,
}

/// Pins the file at `path`: opens it once, hashes it, and keeps the stamp
/// of that same open file when it did not change while it was hashed.
///
/// A stamp whose change time is not older than the moment hashing started
/// is not kept either: file times tick in steps (a few milliseconds on
/// Linux), so a write later in the same step would leave the stamp as it
/// was (git calls such an index entry "racily clean").
pub fn pin_file(path: &Path) -> io::Result<Pin> {
    let mut file = File::open(path)?;
    let started = file_clock_now();
    let before = FileStamp::of(&file)?;
    let sha256 = sha256_reader(&mut file)?;
    let after = FileStamp::of(&file)?;
    let stamp =
        after.filter(|after| Some(after) == before.as_ref() && settled(after.ctime, started));
    Ok(Pin { sha256, stamp })
}

/// Whether a write at or after `started` would move a change time that is
/// `ctime` now. Where times keep nanoseconds, any time after `ctime` does;
/// a time of whole seconds may come from a filesystem that keeps only
/// those (ext3's small inodes keep one-second steps), so the next two
/// seconds must have begun.
fn settled(ctime: (i64, i64), started: (i64, i64)) -> bool {
    let step_end = if ctime.1 == 0 {
        (ctime.0.saturating_add(2), 0)
    } else {
        ctime
    };
    step_end < started
}

/// The time now as the kernel stamps files (seconds, nanoseconds): on
/// Linux its coarse clock, which file times are taken from.
fn file_clock_now() -> (i64, i64) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let now = rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse);
        // `tv_nsec` is narrower on some targets.
        #[allow(clippy::useless_conversion)]
        let nanos = i64::from(now.tv_nsec);
        (now.tv_sec, nanos)
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        (
            i64::try_from(now.as_secs()).unwrap_or(i64::MAX),
            i64::from(now.subsec_nanos()),
        )
    }
}

/// Whether the file at `path` is still the one pinned as `sha256` with
/// `stamp`: without hashing it when its stamp is the one recorded (and
/// stamps can be trusted there), otherwise by hashing the open file whose
/// stamp was read. Returns the sha256 it has now when it changed.
pub fn changed(path: &Path, sha256: &str, stamp: Option<&FileStamp>) -> io::Result<Option<String>> {
    let mut file = File::open(path)?;
    let now = FileStamp::of(&file)?;
    if now.is_some() && now.as_ref() == stamp {
        return Ok(None);
    }
    let now = sha256_reader(&mut file)?;
    Ok((now != sha256).then_some(now))
}

/// The hex sha256 of the file at `path`.
pub fn sha256_file(path: &Path) -> io::Result<String> {
    sha256_reader(&mut File::open(path)?)
}

/// The hex sha256 of what `reader` reads to its end.
fn sha256_reader(reader: &mut impl io::Read) -> io::Result<String> {
    let mut hasher = Sha256::new();
    io::copy(reader, &mut hasher)?;
    Ok(format!("{:x}", hasher.finalize()))
}

/// The hex sha256 of `bytes`.
#[cfg_attr(not(feature = "wasm"), allow(dead_code))]
pub fn sha256_bytes(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// The first 12 hex digits of a sha256, as shown in listings.
pub fn short(sha256: &str) -> &str {
    sha256.get(..12).unwrap_or(sha256)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn a_stamp_is_kept_only_once_a_write_would_move_it() {
        assert!(settled((10, 5), (10, 6)));
        assert!(!settled((10, 5), (10, 5)));
        assert!(!settled((10, 7), (10, 5)));
        // Whole seconds: perhaps a filesystem of one-second steps.
        assert!(!settled((10, 0), (11, 500_000_000)));
        assert!(!settled((10, 0), (12, 0)));
        assert!(settled((10, 0), (12, 1)));
    }

    #[test]
    fn hashes_like_sha256sum() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "abc").unwrap();
        assert_eq!(sha256_file(&path).unwrap(), ABC);
        assert_eq!(pin_file(&path).unwrap().sha256, ABC);
        assert_eq!(short("ba7816bf8f01cfea"), "ba7816bf8f01");
    }

    /// A same-size edit with its times set back keeps no stamp of the old
    /// file valid: the change time moved.
    #[cfg(unix)]
    #[test]
    fn a_same_size_edit_with_its_times_set_back_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "abc").unwrap();
        let pin = pin_file(&path).unwrap();
        assert_eq!(
            changed(&path, &pin.sha256, pin.stamp.as_ref()).unwrap(),
            None
        );
        let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&path, "abd").unwrap();
        File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(modified)
            .unwrap();
        assert!(
            changed(&path, &pin.sha256, pin.stamp.as_ref())
                .unwrap()
                .is_some()
        );
    }

    /// A file replaced by another of the same size and times is a new
    /// inode: the stamp no longer matches, and hashing tells.
    #[cfg(unix)]
    #[test]
    fn a_replaced_file_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "abc").unwrap();
        let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let pin = pin_file(&path).unwrap();
        let other = dir.path().join("g");
        std::fs::write(&other, "abd").unwrap();
        File::options()
            .write(true)
            .open(&other)
            .unwrap()
            .set_modified(modified)
            .unwrap();
        std::fs::rename(&other, &path).unwrap();
        assert_eq!(
            changed(&path, &pin.sha256, pin.stamp.as_ref()).unwrap(),
            Some(sha256_bytes(b"abd"))
        );
    }

    /// On tmpfs a stamp is never kept: every check hashes.
    #[cfg(target_os = "linux")]
    #[test]
    fn no_stamp_is_trusted_on_tmpfs() {
        let dir = tempfile::tempdir_in("/dev/shm").unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "abc").unwrap();
        assert_eq!(pin_file(&path).unwrap().stamp, None);
    }
}

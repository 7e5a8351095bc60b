//! Trust in a plugin file: whether anyone but the user (and root, or the
//! administrators on Windows) could replace it.
//!
//! The pin ([`crate::pin`]) notices a plugin file that changed since it was
//! installed, but only at the moment it is checked: a file that someone
//! else can write, or that sits in a directory someone else can write, can
//! be swapped between that check and the moment it runs. So before a plugin
//! file is described at install or upgrade, and before each run, the file
//! and every directory above it must be as follows.
//!
//! ## On Unix
//!
//! - **writable only by its owner**: not by others, and not by its group
//!   unless that group is the owner's private group (no one else is in it:
//!   the "user private group" most Linux distributions give each user,
//!   whose umask 002 makes files group-writable; Debian's OpenSSH makes the
//!   same exception). A directory owned by root with the sticky bit, such as
//!   `/tmp`, is fine: others may create files in it but not rename or
//!   replace anyone else's (the exception sudo makes; OpenSSH's
//!   `StrictModes` makes the same owner and mode checks on
//!   `authorized_keys` and the directories above);
//! - **owned by root or by the user running the host**. Running as root,
//!   that means root only: a file of another user would let that user run
//!   code as root. An owner the user explicitly trusts for one plugin
//!   (`plugins install --trust-owner`, recorded in the index) is accepted
//!   for that plugin; nothing overrides the writable rule, whose fix is one
//!   `chmod`.
//!
//! On Linux a POSIX access control list (the `system.posix_acl_access`
//! extended attribute) counts too: an entry that lets another user or a
//! group write, through the ACL's mask, is judged like the mode's group
//! bits (a named user other than the owner and root never may; a group
//! only when it is private). `chmod go-w` fixes it too: on a file with an
//! ACL it clears the mask's write bit, which every such entry goes
//! through. A filesystem without extended attributes has no ACLs.
//!
//! The path is checked as recorded and as it resolves now (symbolic links
//! followed), so a link in a directory others can write is refused too.
//! Group membership is read from `/etc/passwd` and `/etc/group`, every
//! entry with the group's id; a group found only through another name
//! service (LDAP, ...) is not known to be private, so a file it can write
//! is refused, with the `chmod` that fixes it.
//!
//! ## On Windows
//!
//! The owner and the DACL of the file and of every directory above it
//! (as recorded and as it resolves now, links followed) are read
//! (`trust/windows.rs`), and each must be:
//!
//! - **writable only by the user and the administration**: no
//!   access-allowed entry (inherited or not; inherit-only entries apply to
//!   what is created below, not to the object) may give anyone else the
//!   right to write or append to the file, to delete or rename anything in
//!   a directory above it, to add a file to the directory that holds it
//!   (a DLL beside a program is loaded before the system's), to delete or
//!   rename any of them, to change a DACL or take ownership (or the
//!   generic write and all rights, which include them). The user, SYSTEM,
//!   BUILTIN\Administrators, TrustedInstaller, the owner (judged by the
//!   next rule) and CREATOR OWNER and OWNER RIGHTS (which stand for the
//!   owner) may. A NULL DACL lets everyone do everything (a FAT or exFAT
//!   drive keeps no permissions, and so shows none), and is refused.
//!   Adding a subdirectory, or a file further up than the plugin's own
//!   directory, is not counted: it replaces nothing already there (as in a
//!   sticky directory on Unix), and Windows lets every user do it in
//!   `C:\ProgramData` and at the root of the system drive. The fix is one
//!   `icacls`: `/remove:g` of the SIDs named (with `/inheritance:d` first
//!   when an entry is inherited), or `/reset` for a NULL DACL;
//! - **owned by the user, SYSTEM, BUILTIN\Administrators or
//!   TrustedInstaller**. `--trust-owner` cannot trust another account:
//!   the index records uids, so such a path is refused, and the fix is to
//!   copy the plugin into a directory of the user's own.
//!
//! Not checked on Windows: deny entries (an allowed right that a deny
//! entry takes back still refuses the file, so this errs on the side of
//! refusing); who is in a group (a group the user alone is in still
//! counts as someone else); privileges that bypass DACLs (backup,
//! restore, take ownership), which administrators hold anyway; integrity
//! labels; the DACL of a symbolic link or junction itself rather than of
//! what it points to; and, on a network share, the share's own
//! permissions and whatever the server enforces beyond the DACL it shows.
//! Wine synthesizes a DACL from a Unix file's mode bits when none is
//! stored: the owner and SYSTEM get everything and Everyone what the
//! "others" bits allow (the group bits and the sticky bit do not show):
//! under Wine a `chmod o+w` file is refused and a `chmod g+w` one is
//! not, and every plugin below `/tmp` (mode 1777) is refused.
//!
//! Elsewhere (neither Unix nor Windows) every file is accepted.

use std::path::Path;

mod error;
#[cfg(unix)]
mod unix;
#[cfg(windows)]
mod windows;

pub use error::{TrustError, quoted};

/// Checks that only the user, root and the owners in `trusted` (uids) can
/// change the plugin file at `path` or any directory above it.
pub fn check(path: &Path, trusted: &[u32]) -> Result<(), TrustError> {
    Checker::default().check(path, trusted)
}

/// [`check`] for `plugins install`, `upgrade` and `check`: with
/// `trust_others` (`--trust-owner`), the other owners found on the path are
/// added to `trusted` first. Returns the owners trusted, sorted, to record
/// for the plugin.
pub fn check_trusting(
    path: &Path,
    mut trusted: Vec<u32>,
    trust_others: bool,
) -> Result<Vec<u32>, TrustError> {
    if trust_others {
        trusted.extend(other_owners(path)?);
        trusted.sort_unstable();
        trusted.dedup();
    }
    check(path, &trusted)?;
    Ok(trusted)
}

/// Checks many plugin files at one moment (`plugins list`, `doctor`),
/// Checks many plugin files at one moment (`plugins list`, `doctor`),
/// examining each directory they share once. What it learnt about a
/// directory is kept for its lifetime: make one per batch, so a directory
/// changed later is examined again. Each plugin file is examined afresh.
#[derive(Debug, Default)]
pub struct Checker {
    #[cfg(unix)]
    seen: unix::Seen,
    #[cfg(windows)]
    seen: windows::Seen,
}

impl Checker {
    /// [`check`], with what this checker already knows of the directories.
    pub fn check(&self, path: &Path, trusted: &[u32]) -> Result<(), TrustError> {
        #[cfg(unix)]
        {
            unix::check(&self.seen, path, trusted)
        }
        // The uids `--trust-owner` records mean nothing here.
        #[cfg(windows)]
        {
            let _ = trusted;
            windows::check(&self.seen, path)
        }
        #[cfg(not(any(unix, windows)))]
        {
            let _ = (path, trusted);
            Ok(())
        }
    }
}

/// The owners (uids) of the file at `path` and the directories above it
/// that are neither root nor the user: what `--trust-owner` records.
pub fn other_owners(path: &Path) -> Result<Vec<u32>, TrustError> {
    #[cfg(unix)]
    {
        unix::other_owners(path)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(Vec::new())
    }
}

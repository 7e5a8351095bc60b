//! Trust in a plugin file: whether anyone but the user (and root) could
//! replace it.
//!
//! The pin ([`crate::pin`]) notices a plugin file that changed since it was
//! installed, but only at the moment it is checked: a file that someone
//! else can write, or that sits in a directory someone else can write, can
//! be swapped between that check and the moment it runs. So before a plugin
//! file is described at install or upgrade, and before each run, the file
//! and every directory above it must be:
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
//! is refused, with the `chmod` that fixes it. Off Unix there are no such
//! modes and every file is accepted.

use std::io;
use std::path::{Path, PathBuf};

#[cfg(unix)]
mod unix;

/// Why a plugin file may not be trusted to run, with the exact fix.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// The file, or a directory above it, can be written by others.
    #[error("{} is writable by {by}, who could replace the plugin", subject(*.dir, .path))]
    Writable {
        /// The file or directory.
        path: PathBuf,
        /// Whether it is a directory above the plugin file.
        dir: bool,
        /// Who: "its group", "others", "user 1001 (through its ACL)", ...,
        /// joined with "and".
        by: String,
    },
    /// The file, or a directory above it, belongs to another user.
    #[error("{} belongs to uid {owner}, {}", subject(*.dir, .path), whose(*.you))]
    Owner {
        /// The file or directory.
        path: PathBuf,
        /// Whether it is a directory above the plugin file.
        dir: bool,
        /// Its owner's uid.
        owner: u32,
        /// The effective uid of this process.
        you: u32,
    },
    /// The file or a directory above it cannot be examined.
    #[error("cannot check who may change {}: {source}", .path.display())]
    Unreadable {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

/// "its file /p" or "the directory /d above its file".
fn subject(dir: bool, path: &Path) -> String {
    if dir {
        format!("the directory {} above its file", path.display())
    } else {
        format!("its file {}", path.display())
    }
}

fn whose(you: u32) -> String {
    if you == 0 {
        "not root, and it would run as root".to_string()
    } else {
        format!("neither you (uid {you}) nor root, so that user could replace it")
    }
}

impl TrustError {
    /// The command or step that fixes the problem on the file system.
    pub fn fix(&self) -> String {
        match self {
            TrustError::Writable { path, .. } => format!("`chmod go-w {}`", quoted(path)),
            TrustError::Owner { path, you: 0, .. } => format!("`chown root {}`", quoted(path)),
            TrustError::Owner { .. } => {
                "copy the plugin into a directory that only you can write and install it from there"
                    .to_string()
            }
            TrustError::Unreadable { .. } => {
                "check that the file and the directories above it exist and can be read".to_string()
            }
        }
    }

    /// The uid of the other user who owns the file or a directory above
    /// it, when that is the problem.
    pub fn other_owner(&self) -> Option<u32> {
        match self {
            TrustError::Owner { owner, .. } => Some(*owner),
            _ => None,
        }
    }

    /// [`TrustError::fix`], and when another user owns the path, how to
    /// trust them instead: `trusting` is the step that does it (`re-run
    /// with `--trust-owner``).
    pub fn fix_or_trust(&self, trusting: &str) -> String {
        match self.other_owner() {
            Some(uid) => format!("{}, or, if you trust uid {uid}, {trusting}", self.fix()),
            None => self.fix(),
        }
    }
}

/// A path as the user can paste it into a shell.
pub fn quoted(path: &Path) -> String {
    let text = path.display().to_string();
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+,:@%".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        text
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

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
}

impl Checker {
    /// [`check`], with what this checker already knows of the directories.
    pub fn check(&self, path: &Path, trusted: &[u32]) -> Result<(), TrustError> {
        #[cfg(unix)]
        {
            unix::check(&self.seen, path, trusted)
        }
        #[cfg(not(unix))]
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

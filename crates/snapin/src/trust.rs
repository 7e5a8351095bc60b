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

use std::io;
use std::path::{Path, PathBuf};

#[cfg(unix)]
mod unix;
#[cfg(windows)]
mod windows;

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
        /// Who: "its group", "others", "user 1001 (through its ACL)", ...
        /// on Unix, "Everyone", "BUILTIN\Users", ... on Windows, joined
        /// with "and".
        by: String,
        /// (Windows) The SIDs of those who may write, for the fix; none
        /// when the file has no DACL.
        #[cfg(windows)]
        sids: Vec<String>,
        /// (Windows) Whether an entry that lets them write is inherited.
        #[cfg(windows)]
        inherited: bool,
    },
    /// The file, or a directory above it, belongs to another user.
    #[cfg(unix)]
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
    /// The file, or a directory above it, belongs to another account.
    #[cfg(windows)]
    #[error(
        "{} belongs to {owner}, neither you ({you}) nor SYSTEM, Administrators or TrustedInstaller, so that account could replace it",
        subject(*.dir, .path)
    )]
    Owner {
        /// The file or directory.
        path: PathBuf,
        /// Whether it is a directory above the plugin file.
        dir: bool,
        /// Its owner: the account's name, or its SID when it has none.
        owner: String,
        /// The account this process runs as, named likewise.
        you: String,
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

#[cfg(unix)]
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
            #[cfg(not(windows))]
            TrustError::Writable { path, .. } => format!("`chmod go-w {}`", quoted(path)),
            #[cfg(windows)]
            TrustError::Writable {
                path,
                sids,
                inherited,
                ..
            } => format!("`{}`", windows::icacls(path, sids, *inherited)),
            #[cfg(unix)]
            TrustError::Owner { path, you: 0, .. } => format!("`chown root {}`", quoted(path)),
            #[cfg(unix)]
            TrustError::Owner { .. } => {
                "copy the plugin into a directory that only you can write and install it from there"
                    .to_string()
            }
            // `--trust-owner` records uids: another account cannot be
            // trusted on Windows, only avoided.
            #[cfg(windows)]
            TrustError::Owner { .. } => {
                "copy the plugin into a directory that only you can write and install it from there (on Windows `--trust-owner` cannot trust another account)"
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
            #[cfg(unix)]
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

/// A path as the user can paste it into a shell: a POSIX shell's on Unix;
/// on Windows, both cmd's and PowerShell's, which share only double
/// quotes (a Windows name holds no `"`, but inside them cmd still expands
/// `%VAR%` and PowerShell `$var`: such names are left as they are).
pub fn quoted(path: &Path) -> String {
    let text = path.display().to_string();
    #[cfg(not(windows))]
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+,:@%".contains(c);
    // Not `,` (PowerShell makes a list of it) nor `@` (splatting).
    #[cfg(windows)]
    let plain = |c: char| c.is_ascii_alphanumeric() || "\\/._-+:".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        text
    } else if cfg!(windows) {
        format!("\"{text}\"")
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

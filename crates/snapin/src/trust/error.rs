//! Why a plugin file may not be trusted to run, and the command that fixes
//! it: `chmod` or `chown` on Unix, `icacls` on Windows.

use std::io;
use std::path::{Path, PathBuf};

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
            } => format!("`{}`", icacls(path, sids, *inherited)),
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

/// The command that stops the SIDs `sids` writing `path`: `icacls`
/// removes what their entries grant (`/remove:g`, the SIDs written
/// `*S-1-…` so no account name needs quoting or translating). An
/// inherited entry cannot be removed while inheritance brings it, so
/// `/inheritance:d` first turns inherited entries into the file's own.
/// Without a DACL, `/reset` gives it the one its directory hands down.
#[cfg(windows)]
pub(super) fn icacls(path: &Path, sids: &[String], inherited: bool) -> String {
    let path = quoted(path);
    if sids.is_empty() {
        return format!("icacls {path} /reset");
    }
    let inheritance = if inherited { " /inheritance:d" } else { "" };
    let sids: Vec<String> = sids.iter().map(|sid| format!("*{sid}")).collect();
    format!("icacls {path}{inheritance} /remove:g {}", sids.join(" "))
}

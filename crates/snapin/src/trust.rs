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
//! The path is checked as recorded and as it resolves now (symbolic links
//! followed), so a link in a directory others can write is refused too.
//! Group membership is read from `/etc/passwd` and `/etc/group`; a group
//! found only through another name service (LDAP, ...) is not known to be
//! private, so a file it can write is refused, with the `chmod` that fixes
//! it. Off Unix there are no such modes and every file is accepted.

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
        /// "its group", "others" or "its group and others".
        by: &'static str,
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
/// examining each directory they share once. What it learnt about a
/// directory is kept for its lifetime: make one per batch, so a directory
/// changed later is examined again. Each plugin file is examined afresh.
#[derive(Debug, Default)]
pub struct Checker {
    /// Directories seen, with what the rules need.
    #[cfg(unix)]
    dirs: std::cell::RefCell<std::collections::HashMap<PathBuf, Stat>>,
    /// Directories that plugin files were found in, with their canonical
    /// path.
    #[cfg(unix)]
    canonical: std::cell::RefCell<std::collections::HashMap<PathBuf, PathBuf>>,
}

impl Checker {
    /// [`check`], with what this checker already knows of the directories.
    pub fn check(&self, path: &Path, trusted: &[u32]) -> Result<(), TrustError> {
        #[cfg(unix)]
        {
            let you = effective_uid();
            for (component, stat) in self.components(path)? {
                if let Some(e) = judge(&component, stat, you, trusted, &private_group) {
                    return Err(e);
                }
            }
            Ok(())
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
        let you = effective_uid();
        let mut owners: Vec<u32> = Checker::default()
            .components(path)?
            .into_iter()
            .map(|(_, stat)| stat.uid)
            .filter(|&uid| uid != 0 && uid != you)
            .collect();
        owners.sort_unstable();
        owners.dedup();
        Ok(owners)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(Vec::new())
    }
}

/// The effective uid of this process: whose rights a plugin runs with.
#[cfg(unix)]
pub fn effective_uid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// What the rules need to know about one file or directory.
#[derive(Debug, Clone, Copy)]
struct Stat {
    mode: u32,
    uid: u32,
    gid: u32,
    dir: bool,
}

#[cfg(unix)]
impl Checker {
    /// The file at `path` and every directory above it, both as `path` names
    /// them and as they resolve now; the file first.
    fn components(&self, path: &Path) -> Result<Vec<(PathBuf, Stat)>, TrustError> {
        let unreadable = |path: &Path| {
            let path = path.to_path_buf();
            move |source| TrustError::Unreadable { path, source }
        };
        let file = std::fs::symlink_metadata(path).map_err(unreadable(path))?;
        let (resolved, file) = match (path.parent(), path.file_name()) {
            (Some(parent), Some(name)) if !file.file_type().is_symlink() => {
                let parent = if parent.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    parent
                };
                let parent = self.canonical_dir(parent).map_err(unreadable(parent))?;
                (parent.join(name), file)
            }
            _ => {
                let resolved = std::fs::canonicalize(path).map_err(unreadable(path))?;
                let file = std::fs::metadata(&resolved).map_err(unreadable(&resolved))?;
                (resolved, file)
            }
        };
        let mut seen = vec![(resolved.clone(), stat_of(&file))];
        for dir in resolved.ancestors().skip(1).chain(path.ancestors().skip(1)) {
            if !dir.as_os_str().is_empty() && !seen.iter().any(|(p, _)| p == dir) {
                let stat = self.dir_stat(dir).map_err(unreadable(dir))?;
                seen.push((dir.to_path_buf(), stat));
            }
        }
        Ok(seen)
    }

    /// The canonical path of directory `dir`, resolved once per checker.
    /// (Its ancestors are canonical too, so only a plugin file's own
    /// directory is resolved.)
    fn canonical_dir(&self, dir: &Path) -> io::Result<PathBuf> {
        if let Some(known) = self.canonical.borrow().get(dir) {
            return Ok(known.clone());
        }
        let canonical = std::fs::canonicalize(dir)?;
        self.canonical
            .borrow_mut()
            .insert(dir.to_path_buf(), canonical.clone());
        Ok(canonical)
    }

    /// The [`Stat`] of directory `dir` (symbolic links followed), examined
    /// once per checker.
    fn dir_stat(&self, dir: &Path) -> io::Result<Stat> {
        if let Some(&known) = self.dirs.borrow().get(dir) {
            return Ok(known);
        }
        let stat = stat_of(&std::fs::metadata(dir)?);
        self.dirs.borrow_mut().insert(dir.to_path_buf(), stat);
        Ok(stat)
    }
}

#[cfg(unix)]
fn stat_of(meta: &std::fs::Metadata) -> Stat {
    use std::os::unix::fs::MetadataExt;
    Stat {
        mode: meta.mode(),
        uid: meta.uid(),
        gid: meta.gid(),
        dir: meta.is_dir(),
    }
}

/// The rules for one file or directory, run as uid `you`;
/// `private_group(gid, uid)` says whether group `gid` has no member but
/// user `uid`.
fn judge(
    path: &Path,
    stat: Stat,
    you: u32,
    trusted: &[u32],
    private_group: &dyn Fn(u32, u32) -> bool,
) -> Option<TrustError> {
    const STICKY: u32 = 0o1000;
    let sticky_root_dir = stat.dir && stat.uid == 0 && stat.mode & STICKY != 0;
    let group_writes =
        !sticky_root_dir && stat.mode & 0o020 != 0 && !private_group(stat.gid, stat.uid);
    let by = match (group_writes, stat.mode & 0o002 != 0) {
        _ if sticky_root_dir => None,
        (true, true) => Some("its group and others"),
        (true, false) => Some("its group"),
        (false, true) => Some("others"),
        (false, false) => None,
    };
    if let Some(by) = by {
        return Some(TrustError::Writable {
            path: path.to_path_buf(),
            dir: stat.dir,
            by,
        });
    }
    if stat.uid != 0 && stat.uid != you && !trusted.contains(&stat.uid) {
        return Some(TrustError::Owner {
            path: path.to_path_buf(),
            dir: stat.dir,
            owner: stat.uid,
            you,
        });
    }
    None
}

/// Whether group `gid` has no member but user `uid`, by `/etc/passwd` and
/// `/etc/group`.
#[cfg(unix)]
fn private_group(gid: u32, uid: u32) -> bool {
    // Read once per process: `plugins list` checks every plugin.
    static ACCOUNTS: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();
    let (passwd, group) = ACCOUNTS.get_or_init(|| {
        let read = |path| std::fs::read_to_string(path).unwrap_or_default();
        (read("/etc/passwd"), read("/etc/group"))
    });
    is_private_group(passwd, group, gid, uid)
}

/// [`private_group`] on the text of `/etc/passwd` and `/etc/group`: the
/// users whose primary group is `gid` and the group's listed members are
/// exactly user `uid`. A group not in `group` is not known to be private.
fn is_private_group(passwd: &str, group: &str, gid: u32, uid: u32) -> bool {
    let users: Vec<(&str, Option<u32>, Option<u32>)> = passwd
        .lines()
        .map(|line| {
            let mut f = line.split(':');
            let name = f.next().unwrap_or_default();
            let uid = f.nth(1).and_then(|u| u.parse().ok());
            let gid = f.next().and_then(|g| g.parse().ok());
            (name, uid, gid)
        })
        .collect();
    let Some(&(owner, ..)) = users.iter().find(|u| u.1 == Some(uid)) else {
        return false;
    };
    let others_primary = users
        .iter()
        .any(|&(name, _, primary)| primary == Some(gid) && name != owner);
    let entry = group.lines().find_map(|line| {
        let mut f = line.split(':');
        let _name = f.next()?;
        let id: u32 = f.nth(1)?.parse().ok()?;
        (id == gid).then(|| f.next().unwrap_or_default())
    });
    let Some(members) = entry else {
        return false;
    };
    let members_are_owner = members
        .split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .all(|m| m == owner);
    let owner_is_in = users
        .iter()
        .any(|&(name, _, primary)| name == owner && primary == Some(gid))
        || members.split(',').any(|m| m.trim() == owner);
    !others_primary && members_are_owner && owner_is_in
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: u32 = 1000;
    const OTHER: u32 = 1001;

    /// Judged with a group shared by several users.
    fn judged(mode: u32, uid: u32, dir: bool, you: u32, trusted: &[u32]) -> Option<String> {
        let stat = Stat {
            mode,
            uid,
            gid: 100,
            dir,
        };
        judge(Path::new("/p"), stat, you, trusted, &|_, _| false).map(|e| e.to_string())
    }

    #[test]
    fn a_private_group_may_write() {
        let stat = Stat {
            mode: 0o775,
            uid: USER,
            gid: USER,
            dir: false,
        };
        let private = |gid: u32, uid: u32| gid == uid;
        assert!(judge(Path::new("/p"), stat, USER, &[], &private).is_none());
        let shared = Stat { gid: 100, ..stat };
        assert!(judge(Path::new("/p"), shared, USER, &[], &private).is_some());
        // Others writing is never excused.
        let open = Stat {
            mode: 0o777,
            ..stat
        };
        assert!(judge(Path::new("/p"), open, USER, &[], &private).is_some());
    }

    #[test]
    fn a_private_group_has_no_one_but_its_user() {
        let passwd = "root:x:0:0:root:/root:/bin/sh\n\
                      ann:x:1000:1000::/home/ann:/bin/sh\n\
                      bob:x:1001:100::/home/bob:/bin/sh\n\
                      cat:x:1002:100::/home/cat:/bin/sh\n\
                      dan:x:1003:1003::/home/dan:/bin/sh\n";
        let group = "root:x:0:\nann:x:1000:\nusers:x:100:\ndan:x:1003:dan,ann\nsolo:x:1004:ann\n";
        assert!(is_private_group(passwd, group, 1000, 1000));
        assert!(is_private_group(passwd, group, 0, 0));
        assert!(
            is_private_group(passwd, group, 1004, 1000),
            "ann alone, as a member"
        );
        assert!(!is_private_group(passwd, group, 100, 1001), "bob and cat");
        assert!(
            !is_private_group(passwd, group, 1003, 1003),
            "ann is in dan's group"
        );
        assert!(
            !is_private_group(passwd, group, 1000, 1001),
            "not bob's group"
        );
        assert!(
            !is_private_group(passwd, group, 4242, 1000),
            "an unknown group"
        );
        assert!(
            !is_private_group(passwd, group, 1000, 4242),
            "an unknown user"
        );
    }

    #[test]
    fn only_the_owner_may_write() {
        assert_eq!(judged(0o755, USER, false, USER, &[]), None);
        assert_eq!(judged(0o700, 0, true, USER, &[]), None);
        assert_eq!(
            judged(0o775, USER, false, USER, &[]).as_deref(),
            Some("its file /p is writable by its group, who could replace the plugin")
        );
        assert_eq!(
            judged(0o757, USER, true, USER, &[]).as_deref(),
            Some(
                "the directory /p above its file is writable by others, who could replace the plugin"
            )
        );
        assert!(
            judged(0o777, 0, true, USER, &[])
                .unwrap()
                .contains("its group and others")
        );
    }

    #[test]
    fn a_sticky_directory_is_fine_only_when_root_owns_it() {
        assert_eq!(judged(0o1777, 0, true, USER, &[]), None);
        assert!(judged(0o1777, USER, true, USER, &[]).is_some());
        // A sticky file is no directory: others can still write it.
        assert!(judged(0o1777, 0, false, USER, &[]).is_some());
    }

    #[test]
    fn files_of_other_users_are_refused_unless_trusted() {
        assert!(
            judged(0o755, OTHER, false, USER, &[])
                .unwrap()
                .contains("belongs to uid 1001, neither you (uid 1000) nor root")
        );
        assert_eq!(judged(0o755, OTHER, false, USER, &[OTHER]), None);
        // Trust in the owner does not excuse a file others can write.
        assert!(judged(0o775, OTHER, false, USER, &[OTHER]).is_some());
    }

    #[test]
    fn running_as_root_only_root_may_own_the_path() {
        assert_eq!(judged(0o755, 0, false, 0, &[]), None);
        assert!(
            judged(0o755, USER, true, 0, &[])
                .unwrap()
                .contains("belongs to uid 1000, not root")
        );
        assert_eq!(judged(0o755, USER, true, 0, &[USER]), None);
    }

    #[test]
    fn fixes_are_commands_to_paste() {
        let writable = TrustError::Writable {
            path: PathBuf::from("/a b/it's"),
            dir: false,
            by: "others",
        };
        assert_eq!(writable.fix(), r"`chmod go-w '/a b/it'\''s'`");
        let owner = TrustError::Owner {
            path: PathBuf::from("/opt/p"),
            dir: false,
            owner: OTHER,
            you: 0,
        };
        assert_eq!(owner.fix(), "`chown root /opt/p`");
        assert_eq!(owner.other_owner(), Some(OTHER));
    }

    #[cfg(unix)]
    #[test]
    fn a_real_path_is_checked_up_to_the_root() {
        use std::os::unix::fs::PermissionsExt;

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plugin");
        std::fs::write(&file, "x").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
        check(&file, &[]).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = check(&file, &[]).unwrap_err();
        assert!(
            matches!(&e, TrustError::Writable { path, dir: true, .. } if path == &std::fs::canonicalize(dir.path()).unwrap()),
            "{e}"
        );
        assert!(matches!(
            check(&dir.path().join("gone"), &[]),
            Err(TrustError::Unreadable { .. })
        ));
    }
}

//! The Unix meaning of [`super`]'s rules: the owner (uid) and mode bits of
//! the plugin file and every directory above it, the POSIX access control
//! list where Linux keeps one, and whether a group that may write is the
//! owner's private group (read from `/etc/passwd` and `/etc/group`).

use std::io;
use std::path::{Path, PathBuf};

use super::error::TrustError;

/// What a `Checker` (trust.rs) learnt about directories, kept for its
/// lifetime.
#[derive(Debug, Default)]
pub(super) struct Seen {
    /// Directories seen, with what the rules need.
    dirs: std::cell::RefCell<std::collections::HashMap<PathBuf, Stat>>,
    /// Directories that plugin files were found in, with their canonical
    /// path.
    canonical: std::cell::RefCell<std::collections::HashMap<PathBuf, PathBuf>>,
}

/// `trust::check`, with what `seen` already knows of the directories.
pub(super) fn check(seen: &Seen, path: &Path, trusted: &[u32]) -> Result<(), TrustError> {
    let you = effective_uid();
    for (component, stat) in seen.components(path)? {
        if let Some(e) = judge(&component, &stat, you, trusted, &private_group) {
            return Err(e);
        }
    }
    Ok(())
}

/// `trust::other_owners`: the owners (uids) of the file at `path` and
/// the directories above it that are neither root nor the user.
pub(super) fn other_owners(path: &Path) -> Result<Vec<u32>, TrustError> {
    let you = effective_uid();
    let mut owners: Vec<u32> = Seen::default()
        .components(path)?
        .into_iter()
        .map(|(_, stat)| stat.uid)
        .filter(|&uid| uid != 0 && uid != you)
        .collect();
    owners.sort_unstable();
    owners.dedup();
    Ok(owners)
}

/// The effective uid of this process: whose rights a plugin runs with.
fn effective_uid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// What the rules need to know about one file or directory.
#[derive(Debug, Clone)]
struct Stat {
    mode: u32,
    uid: u32,
    gid: u32,
    dir: bool,
    /// Its access control list, when it has one.
    acl: Option<Vec<AclEntry>>,
}

/// One entry of a POSIX access control list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct AclEntry {
    tag: AclTag,
    /// Read 4, write 2, execute 1.
    perm: u16,
}

/// Whom an [`AclEntry`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AclTag {
    /// The owner (the mode's user bits).
    Owner,
    /// A named user, by uid.
    User(u32),
    /// The file's group (the mode's group bits when there is no mask).
    Group,
    /// A named group, by gid.
    NamedGroup(u32),
    /// The most any named user, named group or the file's group gets
    /// (shown as the mode's group bits).
    Mask,
    /// Everyone else (the mode's other bits).
    Other,
}

/// Decodes the value of the `system.posix_acl_access` extended attribute:
/// a little-endian u32 version (2), then 8-byte entries of a u16 tag, a
/// u16 permission set and a u32 id (see Linux's `posix_acl_xattr.h`).
#[cfg_attr(not(any(target_os = "linux", target_os = "android")), allow(dead_code))]
fn parse_acl(bytes: &[u8]) -> Result<Vec<AclEntry>, String> {
    let (version, entries) = bytes
        .split_first_chunk::<4>()
        .ok_or("it is shorter than its header")?;
    if u32::from_le_bytes(*version) != 2 {
        return Err(format!("version {} is not 2", u32::from_le_bytes(*version)));
    }
    if entries.len() % 8 != 0 {
        return Err("its length is not a whole number of entries".to_string());
    }
    entries
        .chunks_exact(8)
        .map(|e| {
            let tag = u16::from_le_bytes([e[0], e[1]]);
            let perm = u16::from_le_bytes([e[2], e[3]]);
            let id = u32::from_le_bytes([e[4], e[5], e[6], e[7]]);
            let tag = match tag {
                0x01 => AclTag::Owner,
                0x02 => AclTag::User(id),
                0x04 => AclTag::Group,
                0x08 => AclTag::NamedGroup(id),
                0x10 => AclTag::Mask,
                0x20 => AclTag::Other,
                other => return Err(format!("it has an entry of unknown tag {other:#x}")),
            };
            Ok(AclEntry { tag, perm })
        })
        .collect()
}

/// The access control list of the file or directory at `path` (symbolic
/// links followed); `None` when it has none, or its filesystem keeps none.
fn acl_of(path: &Path) -> io::Result<Option<Vec<AclEntry>>> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::io::Errno;
        const NAME: &str = "system.posix_acl_access";
        let none = |e: Errno| {
            if e == Errno::NODATA || e == Errno::NOTSUP || e == Errno::OPNOTSUPP {
                Ok(None)
            } else {
                Err(io::Error::from(e))
            }
        };
        // Sized first; a list that grows in between is read again.
        for _ in 0..3 {
            let len = match rustix::fs::getxattr_query(path, NAME) {
                Ok(len) => len,
                Err(e) => return none(e),
            };
            let mut buf = vec![0u8; len];
            match rustix::fs::getxattr(path, NAME, &mut buf[..]) {
                Ok(read) => {
                    buf.truncate(read);
                    return parse_acl(&buf).map(Some).map_err(|why| {
                        io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!("its access control list cannot be read: {why}"),
                        )
                    });
                }
                Err(Errno::RANGE) => continue,
                Err(e) => return none(e),
            }
        }
        Err(io::Error::other("its access control list keeps changing"))
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let _ = path;
        Ok(None)
    }
}

impl Seen {
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
        let file = stat_of(&resolved, &file).map_err(unreadable(&resolved))?;
        let mut seen = vec![(resolved.clone(), file)];
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
        if let Some(known) = self.dirs.borrow().get(dir) {
            return Ok(known.clone());
        }
        let stat = stat_of(dir, &std::fs::metadata(dir)?)?;
        self.dirs
            .borrow_mut()
            .insert(dir.to_path_buf(), stat.clone());
        Ok(stat)
    }
}

/// The [`Stat`] of the file or directory at `path`, whose metadata is
/// `meta`.
fn stat_of(path: &Path, meta: &std::fs::Metadata) -> io::Result<Stat> {
    use std::os::unix::fs::MetadataExt;
    Ok(Stat {
        mode: meta.mode(),
        uid: meta.uid(),
        gid: meta.gid(),
        dir: meta.is_dir(),
        // With an access control list, the mode's group bits are its mask,
        // which caps every entry but the owner's and others': without
        // group write in the mode, no entry of the list can let anyone
        // else write, and the list need not be read (one system call less
        // per plugin in `plugins list`).
        acl: if meta.mode() & 0o020 != 0 {
            acl_of(path)?
        } else {
            None
        },
    })
}

/// The rules for one file or directory, run as uid `you`;
/// `private_group(gid, uid)` says whether group `gid` has no member but
/// user `uid`.
fn judge(
    path: &Path,
    stat: &Stat,
    you: u32,
    trusted: &[u32],
    private_group: &dyn Fn(u32, u32) -> bool,
) -> Option<TrustError> {
    const STICKY: u32 = 0o1000;
    let sticky_root_dir = stat.dir && stat.uid == 0 && stat.mode & STICKY != 0;
    let writers = if sticky_root_dir {
        Vec::new()
    } else {
        writers(stat, private_group)
    };
    if !writers.is_empty() {
        return Some(TrustError::Writable {
            path: path.to_path_buf(),
            dir: stat.dir,
            by: writers.join(" and "),
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

/// Who besides the owner and root may write the file or directory `stat`
/// describes, as a message names them: its group (unless private), named
/// users and groups of its access control list (through the mask), and
/// others.
fn writers(stat: &Stat, private_group: &dyn Fn(u32, u32) -> bool) -> Vec<String> {
    const WRITE: u16 = 0o2;
    let mut by = Vec::new();
    let group_may = |gid| !private_group(gid, stat.uid);
    match &stat.acl {
        None => {
            if stat.mode & 0o020 != 0 && group_may(stat.gid) {
                by.push("its group".to_string());
            }
        }
        Some(acl) => {
            // Without a mask (a minimal ACL) the file's group entry is the
            // mode's group bits.
            let mask = acl
                .iter()
                .find(|e| e.tag == AclTag::Mask)
                .map_or(0o7, |e| e.perm);
            let writes = |e: &AclEntry| e.perm & mask & WRITE != 0;
            for entry in acl.iter().filter(|e| writes(e)) {
                match entry.tag {
                    AclTag::Group if group_may(stat.gid) => by.push("its group".to_string()),
                    AclTag::User(uid) if uid != stat.uid && uid != 0 => {
                        by.push(format!("user {uid} (through its ACL)"));
                    }
                    AclTag::NamedGroup(gid) if group_may(gid) => {
                        by.push(format!("group {gid} (through its ACL)"));
                    }
                    _ => {}
                }
            }
        }
    }
    if stat.mode & 0o002 != 0 {
        by.push("others".to_string());
    }
    by
}

/// Whether group `gid` has no member but user `uid`, by `/etc/passwd` and
/// `/etc/group`.
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
/// users whose primary group is `gid` and the members listed in every
/// entry with that id (several group names may share one) are exactly
/// user `uid`. A group not in `group` is not known to be private.
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
    let members: Vec<&str> = group
        .lines()
        .filter_map(|line| {
            let mut f = line.split(':');
            let _name = f.next()?;
            let id: u32 = f.nth(1)?.trim().parse().ok()?;
            (id == gid).then(|| f.next().unwrap_or_default())
        })
        .flat_map(|members| members.split(',').map(str::trim))
        .filter(|m| !m.is_empty())
        .collect();
    let listed = group.lines().any(|line| {
        line.split(':')
            .nth(2)
            .and_then(|id| id.trim().parse::<u32>().ok())
            == Some(gid)
    });
    let owner_is_in = users
        .iter()
        .any(|&(name, _, primary)| name == owner && primary == Some(gid))
        || members.contains(&owner);
    listed && !others_primary && members.iter().all(|&m| m == owner) && owner_is_in
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
            acl: None,
        };
        judge(Path::new("/p"), &stat, you, trusted, &|_, _| false).map(|e| e.to_string())
    }

    #[test]
    fn a_private_group_may_write() {
        let stat = Stat {
            mode: 0o775,
            uid: USER,
            gid: USER,
            dir: false,
            acl: None,
        };
        let private = |gid: u32, uid: u32| gid == uid;
        assert!(judge(Path::new("/p"), &stat, USER, &[], &private).is_none());
        let shared = Stat {
            gid: 100,
            ..stat.clone()
        };
        assert!(judge(Path::new("/p"), &shared, USER, &[], &private).is_some());
        // Others writing is never excused.
        let open = Stat {
            mode: 0o777,
            ..stat
        };
        assert!(judge(Path::new("/p"), &open, USER, &[], &private).is_some());
    }

    /// An ACL as `setfacl` would leave it: `entries` (tag, perm, id) after
    /// the version header.
    fn acl_bytes(entries: &[(u16, u16, u32)]) -> Vec<u8> {
        let mut bytes = 2u32.to_le_bytes().to_vec();
        for &(tag, perm, id) in entries {
            bytes.extend(tag.to_le_bytes());
            bytes.extend(perm.to_le_bytes());
            bytes.extend(id.to_le_bytes());
        }
        bytes
    }

    /// Who may write a file of USER with mode `mode` (group USER, private)
    /// and the ACL `entries`.
    fn acl_writers(mode: u32, entries: &[(u16, u16, u32)]) -> Option<String> {
        let stat = Stat {
            mode,
            uid: USER,
            gid: USER,
            dir: false,
            acl: Some(parse_acl(&acl_bytes(entries)).unwrap()),
        };
        let private = |gid: u32, uid: u32| gid == uid;
        judge(Path::new("/p"), &stat, USER, &[], &private).map(|e| e.to_string())
    }

    #[test]
    fn an_acl_that_lets_another_user_or_group_write_is_refused() {
        const ID: u32 = u32::MAX; // ACL_UNDEFINED_ID, for the unnamed entries
        let (owner, user, group, named_group, mask, other) = (0x01, 0x02, 0x04, 0x08, 0x10, 0x20);
        let base = |group_perm: u16, mask_perm: Option<u16>, extra: &[(u16, u16, u32)]| {
            let mut entries = vec![(owner, 7, ID), (group, group_perm, ID)];
            entries.extend_from_slice(extra);
            if let Some(m) = mask_perm {
                entries.push((mask, m, ID));
            }
            entries.push((other, 5, ID));
            entries
        };
        let table = [
            ("a minimal ACL", 0o755, base(5, None, &[]), None),
            (
                "a reader",
                0o755,
                base(5, Some(5), &[(user, 5, OTHER)]),
                None,
            ),
            (
                "a named user who may write",
                0o775,
                base(5, Some(7), &[(user, 7, OTHER)]),
                Some("user 1001 (through its ACL)"),
            ),
            (
                "a named group who may write",
                0o775,
                base(5, Some(7), &[(named_group, 6, 100)]),
                Some("group 100 (through its ACL)"),
            ),
            (
                "the private group hides no named entry",
                0o775,
                base(7, Some(7), &[(user, 7, OTHER), (named_group, 7, 100)]),
                Some("user 1001 (through its ACL) and group 100 (through its ACL)"),
            ),
            (
                "a mask without write stops them",
                0o755,
                base(5, Some(5), &[(user, 7, OTHER), (named_group, 7, 100)]),
                None,
            ),
            (
                "the owner and root named are no one else",
                0o775,
                base(5, Some(7), &[(user, 7, USER), (user, 7, 0)]),
                None,
            ),
            (
                "the owner's private group as a named group",
                0o775,
                base(5, Some(7), &[(named_group, 7, USER)]),
                None,
            ),
            (
                "a writer and others",
                0o777,
                base(5, Some(7), &[(user, 2, OTHER)]),
                Some("user 1001 (through its ACL) and others"),
            ),
        ];
        for (what, mode, entries, by) in table {
            let expected = by
                .map(|by| format!("its file /p is writable by {by}, who could replace the plugin"));
            assert_eq!(acl_writers(mode, &entries), expected, "{what}");
        }
    }

    #[test]
    fn an_acl_that_cannot_be_decoded_is_an_error() {
        assert!(parse_acl(&[]).is_err());
        assert!(
            parse_acl(&1u32.to_le_bytes())
                .unwrap_err()
                .contains("version 1")
        );
        let mut odd = acl_bytes(&[(0x01, 7, 0)]);
        odd.push(0);
        assert!(parse_acl(&odd).is_err());
        assert!(
            parse_acl(&acl_bytes(&[(0x40, 7, 0)]))
                .unwrap_err()
                .contains("0x40")
        );
        assert_eq!(parse_acl(&acl_bytes(&[])), Ok(Vec::new()));
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
    fn every_group_entry_with_the_id_counts() {
        let passwd = "ann:x:1000:1000::/home/ann:/bin/sh\n\
                      bob:x:1001:1001::/home/bob:/bin/sh\n";
        let table = [
            ("ann:x:1000:\n", true, "one entry, no one else"),
            (
                "ann:x:1000:\nann2:x:1000:ann\n",
                true,
                "a second name, ann alone",
            ),
            (
                "ann:x:1000:\nshare:x:1000:bob\n",
                false,
                "a second name with bob",
            ),
            (
                "share:x:1000:bob\nann:x:1000:\n",
                false,
                "bob's entry first",
            ),
            (
                "ann:x:1000:\nshare:x:1000:ann, bob\n",
                false,
                "bob among several",
            ),
            ("bob:x:1001:\n", false, "no entry with the id"),
        ];
        for (group, private, what) in table {
            assert_eq!(
                is_private_group(passwd, group, 1000, 1000),
                private,
                "{what}"
            );
        }
        // Another user whose primary group it is, with or without an entry.
        let passwd = format!("{passwd}cat:x:1002:1000::/home/cat:/bin/sh\n");
        assert!(!is_private_group(&passwd, "ann:x:1000:\n", 1000, 1000));
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
            by: "others".to_string(),
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

    #[test]
    fn a_real_path_is_checked_up_to_the_root() {
        use std::os::unix::fs::PermissionsExt;

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plugin");
        std::fs::write(&file, "x").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
        check(&Seen::default(), &file, &[]).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = check(&Seen::default(), &file, &[]).unwrap_err();
        assert!(
            matches!(&e, TrustError::Writable { path, dir: true, .. } if path == &std::fs::canonicalize(dir.path()).unwrap()),
            "{e}"
        );
        assert!(matches!(
            check(&Seen::default(), &dir.path().join("gone"), &[]),
            Err(TrustError::Unreadable { .. })
        ));
    }
}

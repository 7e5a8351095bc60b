//! The Windows meaning of [`super`]'s rules: the owner and the
//! discretionary access control list (DACL) of the plugin file and every
//! directory above it, read with `GetNamedSecurityInfoW`.
//!
//! Accounts are compared by SID, in their string form (`S-1-5-18`); names
//! are looked up only for a message.

// The Win32 security API is C: raw pointers into a security descriptor
// that the system allocates. Each `unsafe` block says what it relies on.
#![allow(unsafe_code)]

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{OsStr, c_void};
use std::io;
use std::os::windows::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::OnceLock;

use windows_sys::Win32::Foundation::{CloseHandle, GENERIC_ALL, GENERIC_WRITE, HANDLE, LocalFree};
use windows_sys::Win32::Security::Authorization::{
    ConvertSidToStringSidW, ConvertStringSidToSidW, GetNamedSecurityInfoW, SE_FILE_OBJECT,
};
use windows_sys::Win32::Security::{
    ACCESS_ALLOWED_ACE, ACE_HEADER, ACL, ACL_SIZE_INFORMATION, AclSizeInformation,
    DACL_SECURITY_INFORMATION, GetAce, GetAclInformation, GetTokenInformation, INHERIT_ONLY_ACE,
    INHERITED_ACE, LookupAccountSidW, OWNER_SECURITY_INFORMATION, PSECURITY_DESCRIPTOR, PSID,
    TOKEN_QUERY, TOKEN_USER, TokenUser,
};
use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

use super::error::TrustError;
// The fix's text, which the tests read.
#[cfg(test)]
use super::error::{icacls, quoted};

/// The accounts that run the machine, as root does on Unix: SYSTEM,
/// BUILTIN\Administrators and TrustedInstaller (which owns the system's
/// own files). They may own the path and may write it.
const ADMINISTRATION: [&str; 3] = [
    "S-1-5-18",
    "S-1-5-32-544",
    "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464",
];

/// CREATOR OWNER and OWNER RIGHTS: entries for them give rights to the
/// owner, whom the owner rule judges.
const OWNER_STAND_INS: [&str; 2] = ["S-1-3-0", "S-1-3-4"];

// Access rights, as winnt.h numbers them (windows-sys keeps the file
// rights in a module of its own, not worth a feature for five numbers).
/// Write a file's data; on a directory, add a file to it.
const FILE_WRITE_DATA: u32 = 0x0002;
/// Append to a file; on a directory, add a subdirectory to it.
const FILE_APPEND_DATA: u32 = 0x0004;
/// Delete or rename anything in a directory, whatever its own DACL says.
const FILE_DELETE_CHILD: u32 = 0x0040;
/// Delete or rename it.
const DELETE: u32 = 0x0001_0000;
/// Change its DACL, and so give oneself any other right.
const WRITE_DAC: u32 = 0x0004_0000;
/// Make oneself its owner, who may change its DACL.
const WRITE_OWNER: u32 = 0x0008_0000;

/// The rights that let someone replace a plugin file, or give themselves
/// the right to. Writing extended attributes or attributes (times, the
/// read-only flag) changes no byte of what runs, and is not counted.
const WRITE_FILE: u32 = FILE_WRITE_DATA
    | FILE_APPEND_DATA
    | DELETE
    | WRITE_DAC
    | WRITE_OWNER
    | GENERIC_WRITE
    | GENERIC_ALL;

/// The rights that let someone replace what a directory above the plugin
/// holds: delete or rename anything in it (or the directory itself), or
/// give themselves the right to. Adding a file or a subdirectory replaces
/// nothing already there (as in a sticky directory on Unix), and Windows
/// lets every user do it in `C:\ProgramData` and, for subdirectories, at
/// the root of the system drive, so it is not counted.
const WRITE_ABOVE: u32 =
    FILE_DELETE_CHILD | DELETE | WRITE_DAC | WRITE_OWNER | GENERIC_WRITE | GENERIC_ALL;

/// [`WRITE_ABOVE`], and adding a file, for the directory that holds the
/// plugin file: a DLL put next to a program is loaded before the system's.
const WRITE_HOLDER: u32 = WRITE_ABOVE | FILE_WRITE_DATA;

/// Where on the path a file or directory is: what writing to it can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// The plugin file.
    File,
    /// The directory it is in.
    Holder,
    /// A directory further up.
    Above,
}

impl Place {
    /// The rights that let someone replace the plugin here.
    fn rights(self) -> u32 {
        match self {
            Place::File => WRITE_FILE,
            Place::Holder => WRITE_HOLDER,
            Place::Above => WRITE_ABOVE,
        }
    }
}

/// `ACCESS_ALLOWED_ACE_TYPE` and `ACCESS_ALLOWED_CALLBACK_ACE_TYPE` (a
/// conditional entry, counted as if its condition held): the two kinds
/// of entry that grant rights on a file, laid out alike up to the SID.
const ALLOWED_ACE_TYPES: [u8; 2] = [0, 9];

/// What a `Checker` (trust.rs) learnt about directories, kept for its
/// lifetime.
#[derive(Debug, Default)]
pub(super) struct Seen {
    dirs: RefCell<HashMap<PathBuf, Descriptor>>,
}

/// `trust::check` on Windows, with what `seen` already knows of the
/// directories.
pub(super) fn check(seen: &Seen, path: &Path) -> Result<(), TrustError> {
    let you = current_user().map_err(|source| TrustError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    for (component, place, descriptor) in seen.components(path)? {
        if let Some(e) = judge(&component, place, &descriptor, &you, &account_name) {
            return Err(e);
        }
    }
    Ok(())
}

/// What the rules need of one security descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Descriptor {
    /// The owner's SID.
    owner: String,
    /// The entries that grant rights, inherit-only ones left out; `None`
    /// for a NULL DACL, which grants everyone everything.
    dacl: Option<Vec<Ace>>,
}

/// One access-allowed entry of a DACL.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ace {
    sid: String,
    mask: u32,
    /// Whether it was inherited from a directory above, rather than set on
    /// the file itself.
    inherited: bool,
}

impl Seen {
    /// The file at `path` and every directory above it, both as `path`
    /// names them and as they resolve now (links followed), each with its
    /// place; the file first.
    fn components(&self, path: &Path) -> Result<Vec<(PathBuf, Place, Descriptor)>, TrustError> {
        let unreadable = |path: &Path| {
            let path = path.to_path_buf();
            move |source| TrustError::Unreadable { path, source }
        };
        let resolved = plain(std::fs::canonicalize(path).map_err(unreadable(path))?);
        let file = descriptor_of(&resolved).map_err(unreadable(&resolved))?;
        let given = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let mut seen = vec![(resolved.clone(), Place::File, file)];
        for (i, dir) in
            (resolved.ancestors().enumerate().skip(1)).chain(given.ancestors().enumerate().skip(1))
        {
            if !dir.as_os_str().is_empty() && !seen.iter().any(|(p, ..)| p == dir) {
                let descriptor = self.dir_descriptor(dir).map_err(unreadable(dir))?;
                let place = if i == 1 { Place::Holder } else { Place::Above };
                seen.push((dir.to_path_buf(), place, descriptor));
            }
        }
        Ok(seen)
    }

    /// The [`Descriptor`] of directory `dir`, read once per checker.
    fn dir_descriptor(&self, dir: &Path) -> io::Result<Descriptor> {
        if let Some(known) = self.dirs.borrow().get(dir) {
            return Ok(known.clone());
        }
        let descriptor = descriptor_of(dir)?;
        self.dirs
            .borrow_mut()
            .insert(dir.to_path_buf(), descriptor.clone());
        Ok(descriptor)
    }
}

/// `path` without the `\\?\` that `canonicalize` puts before it, when it
/// means the same without (a drive path short enough for every API), so
/// that messages and fixes show the path as users type it.
fn plain(path: PathBuf) -> PathBuf {
    let text = path.as_os_str().to_string_lossy();
    let stripped = match text.strip_prefix(r"\\?\") {
        Some(rest) if rest.starts_with(r"UNC\") => Some(format!(r"\\{}", &rest[4..])),
        Some(rest) if rest.as_bytes().get(1) == Some(&b':') => Some(rest.to_string()),
        _ => None,
    };
    match stripped {
        // MAX_PATH, with its terminating NUL.
        Some(short) if short.len() < 260 && !text.contains('\u{FFFD}') => PathBuf::from(short),
        _ => path,
    }
}

/// The rules for the file or directory at `place` whose security
/// descriptor is `d`, run as the account whose SID is `you`; `name_of`
/// names a SID for a message.
fn judge(
    path: &Path,
    place: Place,
    d: &Descriptor,
    you: &str,
    name_of: &dyn Fn(&str) -> String,
) -> Option<TrustError> {
    let administration = |sid: &str| ADMINISTRATION.contains(&sid);
    let dir = place != Place::File;
    let Some(aces) = &d.dacl else {
        return Some(TrustError::Writable {
            path: path.to_path_buf(),
            dir,
            by: "everyone (it has no access control list)".to_string(),
            sids: Vec::new(),
            inherited: false,
        });
    };
    let rights = place.rights();
    // The owner is the owner rule's business: it may write, if it may own.
    let excused = |sid: &str| {
        sid == you || sid == d.owner || administration(sid) || OWNER_STAND_INS.contains(&sid)
    };
    let mut sids: Vec<String> = Vec::new();
    let mut inherited = false;
    for ace in aces
        .iter()
        .filter(|a| a.mask & rights != 0 && !excused(&a.sid))
    {
        inherited |= ace.inherited;
        if !sids.contains(&ace.sid) {
            sids.push(ace.sid.clone());
        }
    }
    if !sids.is_empty() {
        let by: Vec<String> = sids.iter().map(|sid| name_of(sid)).collect();
        return Some(TrustError::Writable {
            path: path.to_path_buf(),
            dir,
            by: by.join(" and "),
            sids,
            inherited,
        });
    }
    if d.owner != you && !administration(&d.owner) {
        return Some(TrustError::Owner {
            path: path.to_path_buf(),
            dir,
            owner: name_of(&d.owner),
            you: name_of(you),
        });
    }
    None
}

/// The owner and DACL of the file or directory at `path` (links
/// followed).
fn descriptor_of(path: &Path) -> io::Result<Descriptor> {
    let name = wide(path.as_os_str());
    let mut owner: PSID = ptr::null_mut();
    let mut dacl: *mut ACL = ptr::null_mut();
    let mut sd: PSECURITY_DESCRIPTOR = ptr::null_mut();
    // SAFETY: `name` is NUL-terminated; on success the owner and DACL
    // point into `sd`, which the system allocated and `Local` frees after
    // they are read.
    let status = unsafe {
        GetNamedSecurityInfoW(
            name.as_ptr(),
            SE_FILE_OBJECT,
            OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION,
            &mut owner,
            ptr::null_mut(),
            &mut dacl,
            ptr::null_mut(),
            &mut sd,
        )
    };
    if status != 0 {
        return Err(io::Error::from_raw_os_error(status as i32));
    }
    let _sd = Local(sd);
    if owner.is_null() {
        return Err(io::Error::other("it has no owner"));
    }
    Ok(Descriptor {
        owner: sid_string(owner)?,
        dacl: if dacl.is_null() {
            None
        } else {
            Some(allowed_aces(dacl)?)
        },
    })
}

/// The access-allowed entries of `acl` that apply to the object itself
/// (an inherit-only entry is only handed down).
fn allowed_aces(acl: *const ACL) -> io::Result<Vec<Ace>> {
    let mut size = ACL_SIZE_INFORMATION::default();
    // SAFETY: `acl` is a valid ACL (from `GetNamedSecurityInfoW`), and
    // `size` is as large as the class asked for.
    let ok = unsafe {
        GetAclInformation(
            acl,
            (&raw mut size).cast::<c_void>(),
            std::mem::size_of::<ACL_SIZE_INFORMATION>() as u32,
            AclSizeInformation,
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    let mut aces = Vec::new();
    for i in 0..size.AceCount {
        let mut ace: *mut c_void = ptr::null_mut();
        // SAFETY: `i` is below the ACL's count of entries.
        if unsafe { GetAce(acl, i, &mut ace) } == 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: every entry starts with an ACE_HEADER.
        let header = unsafe { ptr::read_unaligned(ace.cast::<ACE_HEADER>()) };
        let flags = u32::from(header.AceFlags);
        if !ALLOWED_ACE_TYPES.contains(&header.AceType) || flags & INHERIT_ONLY_ACE != 0 {
            continue;
        }
        let allowed = ace.cast::<ACCESS_ALLOWED_ACE>();
        // SAFETY: both allowed types are an ACCESS_ALLOWED_ACE up to its
        // SID, which starts at `SidStart` and lies within the entry.
        let (mask, sid) = unsafe {
            (
                ptr::read_unaligned(&raw const (*allowed).Mask),
                (&raw const (*allowed).SidStart).cast_mut().cast::<c_void>(),
            )
        };
        aces.push(Ace {
            sid: sid_string(sid)?,
            mask,
            inherited: flags & INHERITED_ACE != 0,
        });
    }
    Ok(aces)
}

/// The SID of the account this process runs as.
fn current_user() -> io::Result<String> {
    static USER: OnceLock<Result<String, String>> = OnceLock::new();
    USER.get_or_init(|| token_user().map_err(|e| e.to_string()))
        .clone()
        .map_err(|why| io::Error::other(format!("cannot tell which account this is: {why}")))
}

fn token_user() -> io::Result<String> {
    let mut token: HANDLE = ptr::null_mut();
    // SAFETY: the pseudo-handle of the current process needs no closing;
    // `token` is closed below.
    if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) } == 0 {
        return Err(io::Error::last_os_error());
    }
    let mut len = 0u32;
    // SAFETY: asks only for the size (a null buffer of length 0).
    unsafe { GetTokenInformation(token, TokenUser, ptr::null_mut(), 0, &mut len) };
    // u64s, so that the TOKEN_USER at its start is aligned.
    let mut buf = vec![0u64; (len as usize).div_ceil(8)];
    // SAFETY: `buf` holds `len` bytes.
    let ok =
        unsafe { GetTokenInformation(token, TokenUser, buf.as_mut_ptr().cast(), len, &mut len) };
    let error = io::Error::last_os_error();
    // SAFETY: `token` was opened above and is not used after.
    unsafe { CloseHandle(token) };
    if ok == 0 {
        return Err(error);
    }
    // SAFETY: on success `buf` starts with a TOKEN_USER whose SID points
    // into `buf`, which outlives this read.
    let sid = unsafe { (*buf.as_ptr().cast::<TOKEN_USER>()).User.Sid };
    sid_string(sid)
}

/// `sid` as `S-1-…`.
fn sid_string(sid: PSID) -> io::Result<String> {
    let mut text: *mut u16 = ptr::null_mut();
    // SAFETY: `sid` is a valid SID; `text` is freed by `Local`.
    if unsafe { ConvertSidToStringSidW(sid, &mut text) } == 0 {
        return Err(io::Error::last_os_error());
    }
    let _text = Local(text.cast());
    // SAFETY: the system wrote a NUL-terminated string at `text`.
    let text = unsafe {
        let len = (0..).take_while(|&i| *text.add(i) != 0).count();
        std::slice::from_raw_parts(text, len)
    };
    Ok(String::from_utf16_lossy(text))
}

/// The account `sid` names, as `DOMAIN\name` (`Everyone`, `BUILTIN\Users`),
/// or the SID itself when it names none this computer knows.
fn account_name(sid: &str) -> String {
    lookup_account(sid).unwrap_or_else(|| sid.to_string())
}

fn lookup_account(sid: &str) -> Option<String> {
    let text = wide(OsStr::new(sid));
    let mut psid: PSID = ptr::null_mut();
    // SAFETY: `text` is NUL-terminated; `psid` is freed by `Local`.
    if unsafe { ConvertStringSidToSidW(text.as_ptr(), &mut psid) } == 0 {
        return None;
    }
    let _psid = Local(psid);
    let (mut name, mut domain) = ([0u16; 256], [0u16; 256]);
    let (mut name_len, mut domain_len, mut kind) = (256u32, 256u32, 0);
    // SAFETY: the lengths are those of the buffers, in characters.
    let ok = unsafe {
        LookupAccountSidW(
            ptr::null(),
            psid,
            name.as_mut_ptr(),
            &mut name_len,
            domain.as_mut_ptr(),
            &mut domain_len,
            &mut kind,
        )
    };
    if ok == 0 {
        return None;
    }
    let name = String::from_utf16_lossy(name.get(..name_len as usize)?);
    let domain = String::from_utf16_lossy(domain.get(..domain_len as usize)?);
    Some(if domain.is_empty() {
        name
    } else {
        format!(r"{domain}\{name}")
    })
}

/// `text` as a NUL-terminated UTF-16 string.
fn wide(text: &OsStr) -> Vec<u16> {
    text.encode_wide().chain(std::iter::once(0)).collect()
}

/// Memory the system allocated with `LocalAlloc`, freed when dropped.
struct Local(*mut c_void);

impl Drop for Local {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: allocated by the system call that returned it, and
            // freed once.
            unsafe { LocalFree(self.0) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const YOU: &str = "S-1-5-21-1-2-3-1000";
    const BOB: &str = "S-1-5-21-1-2-3-1001";
    const EVERYONE: &str = "S-1-1-0";
    const USERS: &str = "S-1-5-32-545";
    const SYSTEM: &str = "S-1-5-18";
    const ADMINS: &str = "S-1-5-32-544";

    fn ace(sid: &str, mask: u32) -> Ace {
        Ace {
            sid: sid.to_string(),
            mask,
            inherited: false,
        }
    }

    fn named(sid: &str) -> String {
        match sid {
            EVERYONE => "Everyone".to_string(),
            USERS => r"BUILTIN\Users".to_string(),
            BOB => r"PC\bob".to_string(),
            YOU => r"PC\you".to_string(),
            other => other.to_string(),
        }
    }

    /// The message and fix for the file or directory at `place` owned by
    /// `owner` with the entries `aces`, seen by YOU.
    fn judged(place: Place, owner: &str, aces: Option<Vec<Ace>>) -> Option<(String, String)> {
        let d = Descriptor {
            owner: owner.to_string(),
            dacl: aces,
        };
        judge(Path::new(r"C:\p\greet.exe"), place, &d, YOU, &named)
            .map(|e| (e.to_string(), e.fix()))
    }

    /// What a new file in the user's profile gets.
    fn usual() -> Vec<Ace> {
        const FULL: u32 = 0x001F_01FF;
        vec![ace(SYSTEM, FULL), ace(ADMINS, FULL), ace(YOU, FULL)]
    }

    #[test]
    fn only_the_user_and_the_administration_may_write() {
        const READ_EXECUTE: u32 = 0x0012_00A9;
        let mut readers = usual();
        readers.extend([ace(USERS, READ_EXECUTE), ace(EVERYONE, READ_EXECUTE)]);
        assert_eq!(judged(Place::File, YOU, Some(readers.clone())), None);
        assert_eq!(judged(Place::Above, ADMINS, Some(readers)), None);

        let mut open = usual();
        open.push(ace(EVERYONE, FILE_WRITE_DATA));
        open.push(ace(USERS, WRITE_DAC));
        assert_eq!(
            judged(Place::File, YOU, Some(open)),
            Some((
                r"its file C:\p\greet.exe is writable by Everyone and BUILTIN\Users, who could replace the plugin"
                    .to_string(),
                r"`icacls C:\p\greet.exe /remove:g *S-1-1-0 *S-1-5-32-545`".to_string()
            ))
        );
    }

    #[test]
    fn an_inherited_entry_is_removed_after_inheritance_is_turned_off() {
        let mut aces = usual();
        aces.push(Ace {
            inherited: true,
            ..ace(USERS, GENERIC_WRITE)
        });
        let (_, fix) = judged(Place::File, YOU, Some(aces)).unwrap();
        assert_eq!(
            fix,
            r"`icacls C:\p\greet.exe /inheritance:d /remove:g *S-1-5-32-545`"
        );
    }

    #[test]
    fn others_may_add_to_a_directory_above_but_not_delete_from_it() {
        // The root of the system drive: signed-in users may create folders.
        let mut root = usual();
        root.push(ace("S-1-5-11", FILE_APPEND_DATA));
        assert_eq!(judged(Place::Holder, SYSTEM, Some(root.clone())), None);
        // On a file the same right appends to it.
        assert!(judged(Place::File, YOU, Some(root)).is_some());
        // C:\ProgramData: users may add files, which replace nothing above
        // the plugin's directory, but beside the plugin could be a DLL it
        // loads.
        let mut program_data = usual();
        program_data.push(ace(USERS, FILE_WRITE_DATA | FILE_APPEND_DATA));
        assert_eq!(
            judged(Place::Above, SYSTEM, Some(program_data.clone())),
            None
        );
        assert!(judged(Place::Holder, SYSTEM, Some(program_data)).is_some());
        let mut drop_box = usual();
        drop_box.push(ace(USERS, FILE_DELETE_CHILD));
        assert_eq!(
            judged(Place::Above, YOU, Some(drop_box)).unwrap().0,
            r"the directory C:\p\greet.exe above its file is writable by BUILTIN\Users, who could replace the plugin"
        );
    }

    #[test]
    fn no_dacl_lets_everyone_write() {
        assert_eq!(
            judged(Place::File, YOU, None),
            Some((
                r"its file C:\p\greet.exe is writable by everyone (it has no access control list), who could replace the plugin"
                    .to_string(),
                r"`icacls C:\p\greet.exe /reset`".to_string()
            ))
        );
    }

    #[test]
    fn another_account_may_not_own_it() {
        let mut aces = usual();
        aces.push(ace(BOB, 0x001F_01FF));
        let (message, fix) = judged(Place::File, BOB, Some(aces)).unwrap();
        assert_eq!(
            message,
            r"its file C:\p\greet.exe belongs to PC\bob, neither you (PC\you) nor SYSTEM, Administrators or TrustedInstaller, so that account could replace it"
        );
        assert!(fix.starts_with("copy the plugin into a directory"), "{fix}");
    }

    #[test]
    fn fixes_quote_paths_for_cmd_and_powershell_alike() {
        let everyone = [EVERYONE.to_string()];
        assert_eq!(
            icacls(
                Path::new(r"C:\Program Files\a,b\greet.exe"),
                &everyone,
                false
            ),
            r#"icacls "C:\Program Files\a,b\greet.exe" /remove:g *S-1-1-0"#
        );
        assert_eq!(
            icacls(Path::new(r"D:\"), &everyone, true),
            r"icacls D:\ /inheritance:d /remove:g *S-1-1-0"
        );
    }

    #[test]
    fn paths_are_shown_as_users_type_them() {
        let shown = |p: &str| plain(PathBuf::from(p)).display().to_string();
        assert_eq!(
            shown(r"\\?\C:\Users\ann\greet.exe"),
            r"C:\Users\ann\greet.exe"
        );
        assert_eq!(
            shown(r"\\?\UNC\srv\share\greet.exe"),
            r"\\srv\share\greet.exe"
        );
        let long = format!(r"\\?\C:\{}", "a".repeat(300));
        assert_eq!(shown(&long), long);
    }

    /// Grants `sid` the right to write `path`, as `icacls PATH /grant
    /// SID:W` would.
    fn grant_write(path: &Path, sid: &str) {
        use windows_sys::Win32::Security::Authorization::{
            EXPLICIT_ACCESS_W, GRANT_ACCESS, SetEntriesInAclW, SetNamedSecurityInfoW,
            TRUSTEE_IS_SID, TRUSTEE_IS_WELL_KNOWN_GROUP, TRUSTEE_W,
        };
        use windows_sys::Win32::Security::NO_INHERITANCE;

        let name = wide(path.as_os_str());
        let text = wide(OsStr::new(sid));
        let (mut old, mut sd, mut psid) = (ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
        let mut new: *mut ACL = ptr::null_mut();
        // SAFETY: as in `descriptor_of` and `lookup_account`; the new ACL
        // is a copy of the old with one entry more.
        unsafe {
            assert_eq!(
                GetNamedSecurityInfoW(
                    name.as_ptr(),
                    SE_FILE_OBJECT,
                    DACL_SECURITY_INFORMATION,
                    ptr::null_mut(),
                    ptr::null_mut(),
                    &mut old,
                    ptr::null_mut(),
                    &mut sd,
                ),
                0
            );
            let _sd = Local(sd);
            assert_ne!(ConvertStringSidToSidW(text.as_ptr(), &mut psid), 0);
            let _psid = Local(psid);
            let entry = EXPLICIT_ACCESS_W {
                grfAccessPermissions: FILE_WRITE_DATA | FILE_APPEND_DATA,
                grfAccessMode: GRANT_ACCESS,
                grfInheritance: NO_INHERITANCE,
                Trustee: TRUSTEE_W {
                    TrusteeForm: TRUSTEE_IS_SID,
                    TrusteeType: TRUSTEE_IS_WELL_KNOWN_GROUP,
                    ptstrName: psid.cast(),
                    ..TRUSTEE_W::default()
                },
            };
            assert_eq!(SetEntriesInAclW(1, &entry, old, &mut new), 0);
            let _new = Local(new.cast());
            assert_eq!(
                SetNamedSecurityInfoW(
                    name.as_ptr(),
                    SE_FILE_OBJECT,
                    DACL_SECURITY_INFORMATION,
                    ptr::null_mut(),
                    ptr::null_mut(),
                    new,
                    ptr::null(),
                ),
                0
            );
        }
    }

    #[test]
    fn a_real_file_that_everyone_may_write_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mycli-greet.exe");
        std::fs::write(&file, "x").unwrap();
        check(&Seen::default(), &file).unwrap();

        grant_write(&file, EVERYONE);
        let e = check(&Seen::default(), &file).unwrap_err();
        let shown = plain(std::fs::canonicalize(&file).unwrap());
        assert_eq!(
            e.to_string(),
            format!(
                "its file {} is writable by Everyone, who could replace the plugin",
                shown.display()
            )
        );
        assert_eq!(
            e.fix(),
            format!("`icacls {} /remove:g *S-1-1-0`", quoted(&shown))
        );
    }
}

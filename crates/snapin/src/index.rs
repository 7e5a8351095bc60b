//! The installed-plugins index: the one file start-up reads.
//!
//! `plugins install` describes a plugin once and records here what start-up
//! needs (its manifest, where it came from, its pin), so that no plugin is
//! scanned or started to build the command line. Writers hold an exclusive
//! lock on a sibling lock file and replace the index by rename, so a reader
//! never sees a half-written file, a crash never leaves one, and two
//! concurrent installs never lose each other's entry. The previous version is
//! kept beside it as `plugins.json.bak`.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use snapin_protocol::Manifest;

use crate::diagnostic::Diagnostic;
use crate::paths;
pub use crate::pin::FileStamp;

/// The index format this version reads and writes.
pub const INDEX_FORMAT: u32 = 1;

/// The whole index file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Index {
    /// Format version of the file; see [`INDEX_FORMAT`].
    pub index: u32,
    /// Installed plugins, in install order (which decides who keeps a
    /// contested command name).
    #[serde(default)]
    pub plugins: Vec<Entry>,
}

impl Default for Index {
    fn default() -> Self {
        Index {
            index: INDEX_FORMAT,
            plugins: Vec::new(),
        }
    }
}

/// One installed plugin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Plugin name (the manifest's, or the file's when it could not describe
    /// itself and was installed with `--force`).
    pub name: String,
    /// Which runtime runs it.
    pub kind: Kind,
    /// Absolute path of the plugin file.
    pub path: PathBuf,
    /// How the user named it at install.
    pub origin: Origin,
    /// Hex sha256 of the file when it was installed or last upgraded.
    pub sha256: String,
    /// Disabled plugins stay installed but add no commands.
    pub enabled: bool,
    /// When it was installed or last upgraded (RFC 3339, UTC).
    pub installed_at: String,
    /// The manifest it described, when describing worked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<Manifest>,
    /// Why describing failed, for plugins installed with `--force`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub describe_error: Option<String>,
    /// What the user let a sandboxed plugin reach beyond its sandbox.
    #[serde(default, skip_serializing_if = "Grants::is_empty")]
    pub grants: Grants,
    /// For a component: the hex sha256 of the machine code compiled from it
    /// at install or upgrade. A run loads the compiled-code cache entry only
    /// when it has this digest, so whoever can write the cache directory
    /// (a plugin granted it, say) cannot choose the code the host runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compiled_sha256: Option<String>,
    /// The file's metadata when it was hashed, so an unchanged file need
    /// not be hashed again before each run (none where it cannot be
    /// trusted: see `pin.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileStamp>,
    /// Other users (uids) the user trusts to own this plugin's file or a
    /// directory above it (`plugins install --trust-owner`); see
    /// `trust.rs`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_owners: Vec<u32>,
}

/// Access granted by the user to a sandboxed plugin at install. Nothing
/// else is reachable from inside the sandbox.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grants {
    /// Directories, visible to the plugin at the same absolute path.
    #[serde(default)]
    pub dirs: Vec<DirGrant>,
    /// Names of environment variables it may read.
    #[serde(default)]
    pub env: Vec<String>,
}

impl Grants {
    /// Whether nothing is granted.
    pub fn is_empty(&self) -> bool {
        self.dirs.is_empty() && self.env.is_empty()
    }
}

impl std::fmt::Display for Grants {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_empty() {
            return f.write_str("nothing");
        }
        let dirs = self.dirs.iter().map(|d| {
            let access = if d.write { "write" } else { "read" };
            format!("{access} {}", d.path.display())
        });
        let env = self.env.iter().map(|e| format!("env {e}"));
        let all: Vec<String> = dirs.chain(env).collect();
        f.write_str(&all.join(", "))
    }
}

/// One granted directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirGrant {
    /// Absolute path on the host (and in the sandbox).
    pub path: PathBuf,
    /// Whether the plugin may also create, change and delete files there.
    #[serde(default)]
    pub write: bool,
}

/// The runtime a plugin needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Kind {
    /// A native executable, any language.
    Exec,
    /// A WebAssembly component, run in a sandbox inside the host.
    Wasm,
    /// Compiled into the host (never stored in the index). Shown as
    /// `builtin`, the word `plugins list --json` has always used.
    #[serde(rename = "builtin")]
    CompiledIn,
}

impl Kind {
    /// The short name shown by `plugins list`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Exec => "exec",
            Kind::Wasm => "wasm",
            Kind::CompiledIn => "builtin",
        }
    }
}

/// How the user pointed at a plugin when installing it, shown in
/// `plugins list` so they can see where their commands come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Origin {
    /// A file path, as typed.
    Path {
        /// The path as the user gave it.
        given: String,
    },
    /// A `<ns>-NAME` executable found on `PATH`.
    Search {
        /// The executable name that was looked up.
        command: String,
    },
    /// An OCI artifact: a registry repository or an image layout. The file
    /// lies under the host's data directory, which the host owns.
    Oci(Box<OciOrigin>),
}

/// Where a plugin installed from an OCI artifact came from, by digest.
/// Never holds credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OciOrigin {
    /// `oci://HOST[:PORT]/REPO` or `oci-layout://DIR`, without tag or
    /// digest.
    pub source: String,
    /// The registry (`HOST[:PORT]`), for a registry source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    /// The repository, for a registry source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// The tag it was installed from, when installed by tag or as the
    /// newest version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// The digest of the version's image index (or lone manifest).
    pub digest: String,
    /// The platform installed (`linux/amd64`, `wasip2/wasm`) and its
    /// manifest's digest.
    pub platform: String,
    /// The digest of that platform's image manifest.
    pub manifest: String,
    /// The publisher's key that signed it, pinned when it first arrived
    /// signed; none for an unsigned plugin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<Signer>,
    /// The digest of the signature's manifest, a referrer of the index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// A publisher's key that signed a plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signer {
    /// How it is shown: `minisign:KEYID`, or an SSH key's `SHA256:`
    /// fingerprint.
    pub id: String,
    /// The key as `plugins trust add` takes it: a minisign public key or
    /// an OpenSSH public key line.
    pub key: String,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Path { given } => write!(f, "path {given}"),
            Origin::Search { command } => write!(f, "PATH {command}"),
            Origin::Oci(oci) => {
                let digest = oci.digest.strip_prefix("sha256:").unwrap_or(&oci.digest);
                write!(
                    f,
                    "{}{}@sha256:{}",
                    oci.source,
                    oci.tag
                        .as_deref()
                        .map(|t| format!(":{t}"))
                        .unwrap_or_default(),
                    digest.chars().take(12).collect::<String>()
                )
            }
        }
    }
}

/// Why the index could not be read or written. The message says what
/// failed and why; [`IndexError::fix`] says what to do.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The file exists but is not a valid index.
    #[error("the plugin index {path} is damaged: {source}")]
    Corrupt {
        /// The index file.
        path: PathBuf,
        /// What the parser said.
        source: serde_json::Error,
    },
    /// Written by a newer version of the host, in a form this one cannot
    /// read.
    #[error(
        "the plugin index {path} has format {found}, newer than format {INDEX_FORMAT} that this version reads, and it cannot be read"
    )]
    TooNew {
        /// The index file.
        path: PathBuf,
        /// The format found in the file.
        found: u32,
    },
    /// Written by a newer version of the host: readable, so its plugins
    /// run, but this version must not rewrite it and lose what it does not
    /// understand.
    #[error(
        "the plugin index {path} has format {found}, newer than format {INDEX_FORMAT} that this version writes, so it is used read-only and cannot be changed"
    )]
    ReadOnly {
        /// The index file.
        path: PathBuf,
        /// The format found in the file.
        found: u32,
    },
    /// A change would leave an index that does not read back (a manifest
    /// nested past the decoder's limit, recorded with `--force`): refused,
    /// and the index is left as it was.
    #[error(
        "cannot write the plugin index {path}: the changed index would not read back ({source}); nothing was changed"
    )]
    Unreadable {
        /// The index file.
        path: PathBuf,
        /// What the decoder said of the bytes that were to be written.
        source: serde_json::Error,
    },
    /// Reading, locking or writing failed.
    #[error(
        "cannot {action} the plugin index {path}: {source}{}",
        if io_fix_of(source).is_some() { "; nothing was changed" } else { "" }
    )]
    Io {
        /// What was being done ("read", "lock", "write").
        action: &'static str,
        /// The file involved.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
}

impl IndexError {
    /// The error as the user of host `ns` reads it.
    pub(crate) fn diagnostic(&self, ns: &str) -> Diagnostic {
        Diagnostic::new(self.to_string()).with_fix_opt(self.fix(ns))
    }

    /// Whether the index was read (it is only too new to be written), so
    /// that every plugin it holds was seen.
    pub(crate) fn is_read_only(&self) -> bool {
        matches!(self, IndexError::ReadOnly { .. })
    }

    /// What the user of host `ns` can do about it, when there is something.
    pub fn fix(&self, ns: &str) -> Option<String> {
        match self {
            IndexError::Corrupt { path, .. } => Some(format!(
                "restore {} over it, or move it away to start with no plugins",
                backup_of(path).display()
            )),
            IndexError::TooNew { .. } | IndexError::ReadOnly { .. } => {
                Some(format!("upgrade {ns}"))
            }
            IndexError::Unreadable { .. } => Some(
                "record a release of the plugin that follows the snapin contract (docs/protocol.md §2)"
                    .to_string(),
            ),
            IndexError::Io { path, source, .. } => {
                let dir = path.parent().unwrap_or(Path::new("."));
                Some(match io_fix_of(source)? {
                    IoFix::Writable => format!(
                        "make {} writable, or point {} at a writable directory",
                        dir.display(),
                        paths::home_var(ns)
                    ),
                    IoFix::Space => format!(
                        "free space on the file system of {} and try again",
                        dir.display()
                    ),
                    IoFix::SizeLimit => {
                        "raise the file size limit (`ulimit -f`) and try again".to_string()
                    }
                })
            }
        }
    }
}

/// The I/O failures of the index that the user can fix.
enum IoFix {
    Writable,
    Space,
    SizeLimit,
}

fn io_fix_of(source: &io::Error) -> Option<IoFix> {
    match source.kind() {
        io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
            Some(IoFix::Writable)
        }
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => Some(IoFix::Space),
        io::ErrorKind::FileTooLarge => Some(IoFix::SizeLimit),
        _ => None,
    }
}

impl Index {
    /// Reads the index at `path`; a missing file is an empty index.
    ///
    /// Takes no lock: writers replace the file by rename, so this always
    /// sees one whole version.
    pub fn load(path: &Path) -> Result<Index, IndexError> {
        let bytes = match fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Index::default()),
            Err(source) => {
                return Err(IndexError::Io {
                    action: "read",
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        Index::from_slice(&bytes, path)
    }

    /// Reads the whole index from `file`, the index file open at `path`, and
    /// where each entry lies in it ([`Index::from_slice_with_spans`]).
    pub fn read_with_spans(file: &File, path: &Path) -> Result<(Index, Vec<Span>), IndexError> {
        let mut bytes = Vec::new();
        let mut reader = file;
        reader
            .read_to_end(&mut bytes)
            .map_err(|source| IndexError::Io {
                action: "read",
                path: path.to_path_buf(),
                source,
            })?;
        Index::from_slice_with_spans(&bytes, path)
    }

    /// Decodes the bytes of an index file, as [`Index::load`] does after
    /// reading it; `path` is only named in errors. The one decoder, so that
    /// the fuzz target exercises exactly what start-up runs.
    ///
    /// An index of a newer format is read as far as this version
    /// understands it (unknown fields are ignored), for read-only use: see
    /// [`Index::read_only`].
    pub fn from_slice(bytes: &[u8], path: &Path) -> Result<Index, IndexError> {
        serde_json::from_slice(bytes).map_err(|source| {
            /// Just the format number, to tell "newer" from "damaged".
            #[derive(Deserialize)]
            struct Format {
                index: u32,
            }
            match serde_json::from_slice::<Format>(bytes) {
                Ok(Format { index: found }) if found > INDEX_FORMAT => IndexError::TooNew {
                    path: path.to_path_buf(),
                    found,
                },
                _ => IndexError::Corrupt {
                    path: path.to_path_buf(),
                    source,
                },
            }
        })
    }

    /// Decodes the bytes of an index file as [`Index::from_slice`] does, and
    /// says where in them each entry lies (in the order of `plugins`): what
    /// the start-up lookup records, so that a run reads and decodes only the
    /// entry of the plugin it needs.
    pub fn from_slice_with_spans(
        bytes: &[u8],
        path: &Path,
    ) -> Result<(Index, Vec<Span>), IndexError> {
        let index = Index::from_slice(bytes, path)?;
        let corrupt = |source| IndexError::Corrupt {
            path: path.to_path_buf(),
            source,
        };
        let spans = spans_of_entries(bytes).map_err(corrupt)?;
        if spans.len() != index.plugins.len() {
            return Err(corrupt(serde::de::Error::custom(
                "its entries cannot be told apart",
            )));
        }
        Ok((index, spans))
    }

    /// Why this index, read from `path`, must not be written: it has a newer
    /// format than this version writes, and rewriting it would drop what this
    /// version does not understand.
    pub fn read_only(&self, path: &Path) -> Option<IndexError> {
        (self.index > INDEX_FORMAT).then(|| IndexError::ReadOnly {
            path: path.to_path_buf(),
            found: self.index,
        })
    }

    /// Changes the index at `path` under an exclusive lock: reads the
    /// current version, lets `change` edit it, and writes it back atomically
    /// if `change` succeeds. Nothing is written when `change` fails.
    pub fn update<T, E>(
        path: &Path,
        change: impl FnOnce(&mut Index) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<IndexError>,
    {
        let io_err = |action, path: &Path| {
            let path = path.to_path_buf();
            move |source| IndexError::Io {
                action,
                path,
                source,
            }
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(io_err("create the directory of", path))?;
        let lock_path = dir.join(paths::INDEX_LOCK_FILE);
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err("open the lock file of", path))?;
        lock.lock().map_err(io_err("lock", path))?;
        remove_stale_temporary_files(dir);

        let mut index = Index::load(path)?;
        if let Some(e) = index.read_only(path) {
            return Err(e.into());
        }
        let out = change(&mut index)?;
        index.write(path)?;
        // Dropping `lock` releases it.
        drop(lock);
        Ok(out)
    }

    /// Replaces the index at `path` with this one, keeping the previous
    /// version as the backup. Each file is written whole beside its target
    /// and renamed over it, so a crash at any point leaves both readable.
    fn write(&self, path: &Path) -> Result<(), IndexError> {
        let fail = |(action, source)| IndexError::Io {
            action,
            path: path.to_path_buf(),
            source,
        };
        let mut json = serde_json::to_vec_pretty(self).map_err(|e| fail(("encode", e.into())))?;
        json.push(b'\n');
        // Never write what the reader would refuse: every plugin would
        // disappear, and `list` and `remove` with them.
        if let Err(e) = Index::from_slice_with_spans(&json, path) {
            let source = match e {
                IndexError::Corrupt { source, .. } => source,
                other => serde::de::Error::custom(other),
            };
            return Err(IndexError::Unreadable {
                path: path.to_path_buf(),
                source,
            });
        }
        match fs::read(path) {
            Ok(previous) => {
                replace(&backup_of(path), &previous).map_err(|(_, e)| fail(("back up", e)))?
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(fail(("read", e))),
        }
        replace(path, &json).map_err(fail)
    }

    /// The entry for plugin `name`.
    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.plugins.iter().find(|e| e.name == name)
    }

    /// The entry for plugin `name`, to change it.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Entry> {
        self.plugins.iter_mut().find(|e| e.name == name)
    }
}

/// Where one entry lies in the index file: its first byte and its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// Offset of its first byte.
    pub offset: u64,
    /// Its length in bytes.
    pub len: u64,
}

/// Where each entry of `plugins` lies in the index file `bytes`.
fn spans_of_entries(bytes: &[u8]) -> Result<Vec<Span>, serde_json::Error> {
    /// The entries as the slices of `bytes` that hold them.
    #[derive(Deserialize)]
    struct Raw<'a> {
        #[serde(default, borrow)]
        plugins: Vec<&'a serde_json::value::RawValue>,
    }
    let raw: Raw<'_> = serde_json::from_slice(bytes)?;
    let start = bytes.as_ptr() as usize;
    raw.plugins
        .iter()
        .map(|entry| {
            let text = entry.get();
            // A borrowed raw value is a slice of `bytes`.
            let offset = (text.as_ptr() as usize)
                .checked_sub(start)
                .filter(|offset| offset + text.len() <= bytes.len())
                .ok_or_else(|| serde::de::Error::custom("an entry lies outside the file"))?;
            Ok(Span {
                offset: offset as u64,
                len: text.len() as u64,
            })
        })
        .collect()
}

/// Writes `bytes` to a temporary file beside `path`, syncs it and renames
/// it over `path`; on failure, what was being done and why.
fn replace(path: &Path, bytes: &[u8]) -> Result<(), (&'static str, io::Error)> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(paths::INDEX_TEMPORARY_PREFIX)
        .tempfile_in(dir)
        .map_err(|e| ("create a temporary file beside", e))?;
    tmp.write_all(bytes).map_err(|e| ("write", e))?;
    tmp.as_file().sync_all().map_err(|e| ("sync", e))?;
    tmp.persist(path).map_err(|e| ("replace", e.error))?;
    Ok(())
}

/// Removes temporary files left by a writer that was killed before it
/// could rename them; called under the lock, when no writer of the index is
/// active. The start-up lookup's are swept too: its writers take no lock,
/// and one that loses its file here only fails to save a lookup that this
/// write makes stale anyway.
fn remove_stale_temporary_files(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if [
            paths::INDEX_TEMPORARY_PREFIX,
            paths::LOOKUP_TEMPORARY_PREFIX,
        ]
        .iter()
        .any(|prefix| name.starts_with(prefix))
        {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Where the previous version of the index at `path` is kept.
pub fn backup_of(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".bak");
    path.with_file_name(name)
}

/// The current time as RFC 3339 (UTC, seconds), for `installed_at`.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str) -> Entry {
        Entry {
            name: name.into(),
            kind: Kind::Exec,
            path: PathBuf::from("/bin/true"),
            origin: Origin::Path {
                given: "/bin/true".into(),
            },
            sha256: "00".repeat(32),
            enabled: true,
            installed_at: now_rfc3339(),
            manifest: None,
            describe_error: Some("x".into()),
            grants: Grants::default(),
            compiled_sha256: None,
            file: None,
            trusted_owners: Vec::new(),
        }
    }

    #[test]
    fn missing_file_is_empty_and_update_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/plugins.json");
        assert_eq!(Index::load(&path).unwrap(), Index::default());
        Index::update(&path, |idx| {
            idx.plugins.push(entry("a"));
            Ok::<_, IndexError>(())
        })
        .unwrap();
        Index::update(&path, |idx| {
            idx.plugins.push(entry("b"));
            Ok::<_, IndexError>(())
        })
        .unwrap();
        let idx = Index::load(&path).unwrap();
        assert_eq!(idx.plugins.len(), 2);
        assert_eq!(Index::load(&backup_of(&path)).unwrap().plugins.len(), 1);
    }

    /// An entry whose manifest nests `levels` commands, as `--force` can
    /// record one: its own JSON decodes, wrapped in the index it may not.
    fn nested(name: &str, levels: usize) -> Entry {
        let mut json = r#"{"name":"leaf"}"#.to_string();
        for _ in 1..levels {
            json = format!(r#"{{"name":"node","subcommands":[{json}]}}"#);
        }
        let manifest: Manifest = serde_json::from_str(&format!(
            r#"{{"manifest":1,"host":"mycli","name":"{name}","version":"1.0.0","api":"^1.0","commands":[{json}]}}"#
        ))
        .unwrap();
        Entry {
            manifest: Some(manifest),
            describe_error: None,
            ..entry(name)
        }
    }

    #[test]
    fn a_change_the_reader_would_refuse_is_not_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plugins.json");
        Index::update(&path, |idx| {
            idx.plugins.push(entry("a"));
            Ok::<_, IndexError>(())
        })
        .unwrap();
        let before = fs::read(&path).unwrap();
        // 62 levels of commands: 125 levels of JSON alone, past the
        // decoder's 128 inside an index entry.
        let deep = nested("deep", 62);
        assert!(serde_json::from_slice::<Entry>(&serde_json::to_vec(&deep).unwrap()).is_ok());
        let r = Index::update(&path, |idx| {
            idx.plugins.push(deep);
            Ok::<_, IndexError>(())
        });
        let e = r.unwrap_err();
        assert!(matches!(e, IndexError::Unreadable { .. }), "{e}");
        let msg = e.to_string();
        assert!(msg.contains("would not read back"), "{msg}");
        assert!(msg.contains("recursion limit"), "{msg}");
        assert!(!msg.contains('\n'), "{msg}");
        assert_eq!(fs::read(&path).unwrap(), before, "the index is as it was");
        assert_eq!(Index::load(&path).unwrap().plugins.len(), 1);
        assert!(!backup_of(&path).exists(), "nor is its backup replaced");
        // A manifest nested as deep as the contract allows is written.
        Index::update(&path, |idx| {
            idx.plugins.push(nested("ok", crate::manifest::MAX_DEPTH));
            Ok::<_, IndexError>(())
        })
        .unwrap();
        assert_eq!(Index::load(&path).unwrap().plugins.len(), 2);
    }

    #[test]
    fn each_entry_decodes_alone_from_its_span() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plugins.json");
        Index::update(&path, |idx| {
            idx.plugins.push(entry("a"));
            idx.plugins.push(nested("b", 3));
            idx.plugins.push(entry("c"));
            Ok::<_, IndexError>(())
        })
        .unwrap();
        let bytes = fs::read(&path).unwrap();
        let (index, spans) = Index::from_slice_with_spans(&bytes, &path).unwrap();
        assert_eq!(index, Index::load(&path).unwrap());
        assert_eq!(spans.len(), 3);
        for (entry, span) in index.plugins.iter().zip(&spans) {
            let at = usize::try_from(span.offset).unwrap();
            let len = usize::try_from(span.len).unwrap();
            let alone: Entry = serde_json::from_slice(&bytes[at..at + len]).unwrap();
            assert_eq!(&alone, entry);
        }
        // Hand-written, compact, with other fields around: the same.
        let text = format!(
            r#"{{"later":[1,{{"x":2}}],"plugins":[ {} ,{}],"index":1}}"#,
            serde_json::to_string(&entry("x")).unwrap(),
            serde_json::to_string(&entry("y")).unwrap()
        );
        let (index, spans) = Index::from_slice_with_spans(text.as_bytes(), &path).unwrap();
        for (entry, span) in index.plugins.iter().zip(&spans) {
            let at = usize::try_from(span.offset).unwrap();
            let len = usize::try_from(span.len).unwrap();
            assert_eq!(
                &serde_json::from_str::<Entry>(&text[at..at + len]).unwrap(),
                entry
            );
        }
    }

    #[test]
    fn failed_change_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plugins.json");
        let r: Result<(), IndexError> = Index::update(&path, |idx| {
            idx.plugins.push(entry("a"));
            Err(IndexError::TooNew {
                path: PathBuf::new(),
                found: 9,
            })
        });
        assert!(r.is_err());
        assert!(!path.exists());
    }

    #[test]
    fn a_newer_index_is_read_but_never_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plugins.json");
        let newer = INDEX_FORMAT + 1;
        let text = format!(r#"{{"index": {newer}, "plugins": [], "shelves": ["a newer idea"]}}"#);
        fs::write(&path, &text).unwrap();
        let index = Index::load(&path).unwrap();
        let e = index.read_only(&path).unwrap();
        let why = e.to_string();
        assert!(why.contains(&format!("has format {newer}")), "{why}");
        assert_eq!(e.fix("mycli").as_deref(), Some("upgrade mycli"));
        let r = Index::update(&path, |idx| {
            idx.plugins.push(entry("a"));
            Ok::<_, IndexError>(())
        });
        assert!(matches!(r, Err(IndexError::ReadOnly { found, .. }) if found == newer));
        assert_eq!(fs::read_to_string(&path).unwrap(), text);

        // Too new to decode at all: named as newer, not as damaged.
        fs::write(&path, format!(r#"{{"index": {newer}, "plugins": 7}}"#)).unwrap();
        assert!(matches!(
            Index::load(&path),
            Err(IndexError::TooNew { found, .. }) if found == newer
        ));
    }

    #[test]
    fn a_write_sweeps_up_temporary_files_of_killed_writers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plugins.json");
        let stale = dir.path().join(".plugins.json.AbC123");
        fs::write(&stale, "{\"index\": 1, \"plu").unwrap();
        let stale_lookup = dir.path().join(".plugins.lookup.XyZ789");
        fs::write(&stale_lookup, "SNAPLKP1").unwrap();
        let lookup = dir.path().join(".plugins.lookup");
        fs::write(&lookup, "SNAPLKP1").unwrap();
        Index::update(&path, |idx| {
            idx.plugins.push(entry("a"));
            Ok::<_, IndexError>(())
        })
        .unwrap();
        assert!(!stale.exists());
        assert!(!stale_lookup.exists());
        assert!(lookup.exists(), "the lookup itself is not a temporary file");
        assert_eq!(Index::load(&path).unwrap().plugins.len(), 1);
    }

    #[test]
    fn corrupt_index_is_an_error_naming_the_file_and_the_backup() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plugins.json");
        fs::write(&path, "{not json").unwrap();
        let e = Index::load(&path).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("plugins.json is damaged"), "{msg}");
        let fix = e.fix("mycli").unwrap_or_default();
        assert!(fix.contains("plugins.json.bak"), "{fix}");
    }

    #[test]
    fn concurrent_updates_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plugins.json");
        std::thread::scope(|s| {
            for t in 0..4 {
                let path = &path;
                s.spawn(move || {
                    for i in 0..10 {
                        Index::update(path, |idx| {
                            idx.plugins.push(entry(&format!("p{t}-{i}")));
                            Ok::<_, IndexError>(())
                        })
                        .unwrap();
                    }
                });
            }
        });
        assert_eq!(Index::load(&path).unwrap().plugins.len(), 40);
    }
}

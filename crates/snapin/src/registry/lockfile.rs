//! The lock file (`<NS>-plugins.lock`, TOML): the registry plugins a
//! project wants, by digest, with every platform's digest so a lock made
//! on one system syncs on another, and the grants each was given.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::diagnostic::Diagnostic;
use crate::index::{Grants, Signer};

/// The lock format this version reads and writes.
pub(crate) const LOCK_FORMAT: u32 = 1;

/// The default file name, in the current directory.
pub(crate) fn default_name(ns: &str) -> String {
    format!("{ns}-plugins.lock")
}

/// The whole lock file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct LockFile {
    pub(crate) version: u32,
    #[serde(default, rename = "plugin")]
    pub(crate) plugins: Vec<Locked>,
}

/// One locked plugin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Locked {
    pub(crate) name: String,
    /// `oci://HOST[:PORT]/REPO` or `oci-layout://DIR`.
    pub(crate) source: String,
    pub(crate) version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) tag: Option<String>,
    /// The image index's digest.
    pub(crate) digest: String,
    /// Every platform in the index and its manifest's digest.
    pub(crate) platforms: BTreeMap<String, String>,
    /// The publisher's public key that signed it; a sync refuses a
    /// version signed by another key, or unsigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) signer: Option<Signer>,
    /// The digest of the signature's manifest, read by `sync --frozen`
    /// from the download cache or the exported layout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) signature: Option<String>,
    #[serde(default, skip_serializing_if = "Grants::is_empty")]
    pub(crate) grants: Grants,
}

impl LockFile {
    /// Reads the lock at `path`.
    pub(crate) fn load(ns: &str, path: &Path) -> Result<LockFile, Diagnostic> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Diagnostic::new(format!("cannot read the lock file {}: {e}", path.display())).with_fix(
                format!("write one with `{ns} plugins lock`, or name it with --file"),
            )
        })?;
        let lock: LockFile = toml::from_str(&text).map_err(|e| {
            let reason = e.message().lines().next().unwrap_or("").to_string();
            let at = e
                .span()
                .map(|s| {
                    let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
                    format!(" at line {line}")
                })
                .unwrap_or_default();
            Diagnostic::new(format!(
                "cannot read the lock file {}{at}: {reason}",
                path.display()
            ))
            .with_fix(format!("write it again with `{ns} plugins lock`"))
        })?;
        if lock.version != LOCK_FORMAT {
            return Err(Diagnostic::new(format!(
                "the lock file {} has format {}, which this {ns} does not read (it reads {LOCK_FORMAT})",
                path.display(),
                lock.version
            ))
            .with_fix(format!("upgrade {ns}, or write the lock again with `{ns} plugins lock`")));
        }
        Ok(lock)
    }

    /// Writes the lock to `path` through a temporary file.
    pub(crate) fn save(&self, ns: &str, path: &Path) -> Result<(), Diagnostic> {
        let body = toml::to_string(self).map_err(|e| {
            Diagnostic::new(format!("cannot write the lock file: {e}"))
                .with_fix("report this as a bug")
        })?;
        let text = format!(
            "# Written by `{ns} plugins lock`; `{ns} plugins sync` installs what it names.\n{body}"
        );
        crate::whole_file::replace(path, ".lock-", text.as_bytes()).map_err(|e| {
            Diagnostic::new(format!(
                "cannot write the lock file {}: {e}",
                path.display()
            ))
            .with_fix("check that the directory exists and is writable, and that the disk has room")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_reads_back_what_it_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mycli-plugins.lock");
        let lock = LockFile {
            version: LOCK_FORMAT,
            plugins: vec![Locked {
                name: "greet".into(),
                source: "oci://127.0.0.1:5000/greet".into(),
                version: "0.2.0".into(),
                tag: Some("0.2.0".into()),
                digest: "sha256:aa".into(),
                platforms: BTreeMap::from([("linux/amd64".into(), "sha256:bb".into())]),
                signer: None,
                signature: None,
                grants: Grants::default(),
            }],
        };
        lock.save("mycli", &path).unwrap();
        assert_eq!(LockFile::load("mycli", &path).unwrap(), lock);
        std::fs::write(&path, "version = 1\n[[plugin]]\nname = 3\n").unwrap();
        let e = LockFile::load("mycli", &path).unwrap_err().to_string();
        assert!(e.contains("at line 3"), "{e}");
    }
}

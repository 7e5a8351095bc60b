//! The publishers' keys the user trusts (`plugins trust add KEY [--for
//! PREFIX]`), each for every source or only for sources under one prefix:
//! a key trusted for `oci://ghcr.io/acme/` vouches for
//! `oci://ghcr.io/acme/greet` and for nothing outside `acme/`.
//!
//! ```toml
//! # $MYCLI_HOME/config/trusted-keys.toml
//! [[key]]
//! key = "ssh-ed25519 AAAAC3Nza..."
//! for = "oci://ghcr.io/acme/"
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::key::PublicKey;

/// The trusted keys file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Keyring {
    #[serde(default, rename = "key")]
    pub(crate) keys: Vec<TrustedKey>,
}

/// One trusted key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TrustedKey {
    /// The key, in the form [`PublicKey::to_text`] writes.
    pub(crate) key: String,
    /// The sources it vouches for: those under this prefix; all when none.
    #[serde(default, rename = "for", skip_serializing_if = "Option::is_none")]
    pub(crate) scope: Option<String>,
}

impl TrustedKey {
    /// Whether it vouches for `key` publishing at `source`.
    pub(crate) fn vouches(&self, key: &PublicKey, source: &str) -> bool {
        PublicKey::parse(&self.key).is_ok_and(|k| k == *key)
            && self.scope.as_deref().is_none_or(|p| in_scope(source, p))
    }
}

/// Whether `source` is under `prefix`, on a path boundary: the prefix
/// `oci://ghcr.io/acme` holds `oci://ghcr.io/acme/greet`, not
/// `oci://ghcr.io/acme-tools/greet`.
pub(crate) fn in_scope(source: &str, prefix: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    source == prefix
        || source
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

impl Keyring {
    /// Reads the file at `path`; no file is an empty keyring.
    pub(crate) fn load(path: &Path) -> Result<Keyring, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Keyring::default()),
            Err(e) => return Err(e.to_string()),
        };
        let keyring: Keyring = toml::from_str(&text)
            .map_err(|e| e.message().lines().next().unwrap_or("").to_string())?;
        for (i, k) in keyring.keys.iter().enumerate() {
            PublicKey::parse(&k.key).map_err(|why| format!("key {}: {why}", i + 1))?;
        }
        Ok(keyring)
    }

    /// Writes it to `path` whole, through a temporary file beside it.
    pub(crate) fn save(&self, path: &Path) -> Result<(), String> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        let text = toml::to_string_pretty(self).map_err(|e| e.to_string())?;
        crate::whole_file::replace(path, ".trusted-keys-", text.as_bytes())
            .map_err(|e| e.to_string())
    }

    /// Whether a key here vouches for `key` publishing at `source`.
    pub(crate) fn vouches(&self, key: &PublicKey, source: &str) -> bool {
        self.keys.iter().any(|k| k.vouches(key, source))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_holds_what_is_under_it_on_a_path_boundary() {
        assert!(in_scope("oci://ghcr.io/acme/greet", "oci://ghcr.io/acme/"));
        assert!(in_scope("oci://ghcr.io/acme/greet", "oci://ghcr.io/acme"));
        assert!(in_scope(
            "oci://ghcr.io/acme/tools/greet",
            "oci://ghcr.io/acme"
        ));
        assert!(in_scope(
            "oci://ghcr.io/acme/greet",
            "oci://ghcr.io/acme/greet"
        ));
        assert!(!in_scope(
            "oci://ghcr.io/acme-tools/greet",
            "oci://ghcr.io/acme"
        ));
        assert!(!in_scope(
            "oci://ghcr.io/other/greet",
            "oci://ghcr.io/acme/"
        ));
        assert!(!in_scope(
            "oci://evil.io/ghcr.io/acme/greet",
            "oci://ghcr.io/acme/"
        ));
    }
}

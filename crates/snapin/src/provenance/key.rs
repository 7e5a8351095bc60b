//! Publishers' public keys: minisign keys and SSH keys (ed25519,
//! ecdsa-sha2-nistp256), as users paste or keep them.
//!
//! A public key has one canonical line ([`PublicKey::to_text`]) and a short
//! name to show ([`PublicKey::id`]), the same one `minisign` and
//! `ssh-keygen -l` print, so that users can match what snapin says with what
//! their tools say.

use ssh_key::public::KeyData;
use ssh_key::{Algorithm, EcdsaCurve, HashAlg};

/// The signature algorithm of a minisign key ("Ed": Ed25519).
pub(super) const MINISIGN_ALGORITHM: [u8; 2] = *b"Ed";

/// The untrusted first line of a minisign key or signature file.
pub(super) const MINISIGN_COMMENT: &str = "untrusted comment:";

/// What to say about an SSH key type that is not supported.
const SSH_TYPES: &str =
    "ed25519 keys work (ssh-keygen -t ed25519), and so do ecdsa-sha2-nistp256 keys";

/// A publisher's public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// A minisign Ed25519 key.
    Minisign {
        /// The key id: 8 bytes, little-endian in [`PublicKey::id`] as minisign prints it.
        key_id: [u8; 8],
        /// The Ed25519 public key.
        key: [u8; 32],
    },
    /// An SSH key, ed25519 or ecdsa-sha2-nistp256; its comment is not kept.
    Ssh(KeyData),
}

impl PublicKey {
    /// Reads a key as users paste or keep it: a minisign public key line
    /// ("RW..." base64), a whole minisign .pub file ("untrusted comment:
    /// ...\nRW...\n"), or an OpenSSH public key line ("ssh-ed25519 AAAA...
    /// comment", also ecdsa-sha2-nistp256). Other SSH key types are refused,
    /// naming the type.
    pub fn parse(text: &str) -> Result<PublicKey, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("it is empty, not a minisign or SSH public key".to_string());
        }
        if text.starts_with(MINISIGN_COMMENT) {
            let mut lines = text
                .lines()
                .skip(1)
                .map(str::trim)
                .filter(|l| !l.is_empty());
            let (Some(line), None) = (lines.next(), lines.next()) else {
                return Err("it is not a minisign public key file: \
                     it must have a comment line and one key line"
                    .to_string());
            };
            return parse_minisign(line);
        }
        let mut words = text.split_whitespace();
        let first = words.next().unwrap_or_default();
        if words.next().is_none() && !looks_like_ssh_type(first) {
            return parse_minisign(first);
        }
        parse_ssh(text, first)
    }

    /// The canonical one-line form, comment dropped: the minisign base64
    /// line, or "ssh-ed25519 AAAA...". `parse(to_text())` gives the key back.
    pub fn to_text(&self) -> String {
        match self {
            PublicKey::Minisign { key_id, key } => {
                let mut bytes = Vec::with_capacity(42);
                bytes.extend_from_slice(&MINISIGN_ALGORITHM);
                bytes.extend_from_slice(key_id);
                bytes.extend_from_slice(key);
                base64_encode(&bytes)
            }
            PublicKey::Ssh(data) => {
                // Key data that was decoded encodes again; were it not to,
                // the type name alone is no key, so it is not taken for
                // another one.
                ssh_key::PublicKey::new(data.clone(), "")
                    .to_openssh()
                    .unwrap_or_else(|_| data.algorithm().as_str().to_string())
            }
        }
    }

    /// A short name to show users: "minisign:" and the key id as 16
    /// uppercase hex digits (as minisign prints it), or the SSH fingerprint
    /// "SHA256:..." (as `ssh-keygen -l` prints it).
    pub fn id(&self) -> String {
        match self {
            PublicKey::Minisign { key_id, .. } => minisign_id(key_id),
            PublicKey::Ssh(data) => data.fingerprint(HashAlg::Sha256).to_string(),
        }
    }

    /// An SSH key of a type snapin reads.
    pub(super) fn from_ssh(data: &KeyData) -> Result<PublicKey, String> {
        supported_ssh(data).map(|()| PublicKey::Ssh(data.clone()))
    }

    /// The key as minisign-verify checks with.
    pub(super) fn to_minisign(&self) -> Option<minisign_verify::PublicKey> {
        match self {
            PublicKey::Minisign { .. } => {
                minisign_verify::PublicKey::from_base64(&self.to_text()).ok()
            }
            PublicKey::Ssh(_) => None,
        }
    }
}

/// How a minisign key id is shown: "minisign:" and the id as minisign
/// prints it, a little-endian number in 16 uppercase hex digits.
pub(super) fn minisign_id(key_id: &[u8; 8]) -> String {
    format!("minisign:{:016X}", u64::from_le_bytes(*key_id))
}

/// Reads a minisign public key line.
pub(super) fn parse_minisign(line: &str) -> Result<PublicKey, String> {
    let not = |why: &str| format!("it is not a minisign or SSH public key: {why}");
    let bytes = base64_decode(line).ok_or_else(|| not("it is not base64"))?;
    if bytes.len() > 8 && bytes[..3] == [0, 0, 0] && bytes[4..].starts_with(b"ssh-") {
        return Err(not("it is the base64 part of an SSH key alone: \
             give the whole line (\"ssh-ed25519 AAAA...\")"));
    }
    if bytes.len() != 42 {
        return Err(not(&format!(
            "a minisign key is 42 bytes in base64, this is {}",
            bytes.len()
        )));
    }
    if bytes[..2] != MINISIGN_ALGORITHM {
        return Err(not("it does not start as a minisign Ed25519 key (\"RW\")"));
    }
    let mut key_id = [0; 8];
    key_id.copy_from_slice(&bytes[2..10]);
    let mut key = [0; 32];
    key.copy_from_slice(&bytes[10..42]);
    Ok(PublicKey::Minisign { key_id, key })
}

/// Reads an OpenSSH public key line whose first word is `kind`.
fn parse_ssh(line: &str, kind: &str) -> Result<PublicKey, String> {
    match ssh_key::PublicKey::from_openssh(line) {
        Ok(key) => PublicKey::from_ssh(key.key_data()),
        Err(_) if looks_like_ssh_type(kind) && !is_supported_ssh_type(kind) => {
            Err(format!("{kind} keys are not supported: {SSH_TYPES}"))
        }
        Err(e) if looks_like_ssh_type(kind) => Err(format!("it is not a valid {kind} key: {e}")),
        Err(_) => Err(
            "it is not a minisign or SSH public key: expected a minisign key (\"RW...\") \
             or an OpenSSH key line (\"ssh-ed25519 AAAA...\")"
                .to_string(),
        ),
    }
}

/// Whether SSH key data is of a type snapin signs and verifies with.
fn supported_ssh(data: &KeyData) -> Result<(), String> {
    match data.algorithm() {
        Algorithm::Ed25519 => Ok(()),
        Algorithm::Ecdsa {
            curve: EcdsaCurve::NistP256,
        } => Ok(()),
        other => Err(format!(
            "{} keys are not supported: {SSH_TYPES}",
            other.as_str()
        )),
    }
}

/// Whether `word` reads as an SSH key type name ("ssh-rsa",
/// "ecdsa-sha2-nistp384", "sk-ssh-ed25519@openssh.com").
fn looks_like_ssh_type(word: &str) -> bool {
    word.starts_with("ssh-")
        || word.starts_with("ecdsa-")
        || word.starts_with("sk-")
        || word.contains("@openssh.com")
}

/// Whether `word` names a supported SSH key type.
fn is_supported_ssh_type(word: &str) -> bool {
    word == "ssh-ed25519" || word == "ecdsa-sha2-nistp256"
}

/// Standard base64 with padding, as minisign writes it.
pub(super) fn base64_encode(bytes: &[u8]) -> String {
    use base64ct::Encoding as _;
    base64ct::Base64::encode_string(bytes)
}

/// Standard base64 with padding, strictly: the canonical encoding of some
/// bytes (no stray bits, no whitespace), or None.
pub(super) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64ct::Encoding as _;
    if text.is_empty() {
        return None;
    }
    base64ct::Base64::decode_vec(text).ok()
}

#[cfg(test)]
pub(super) mod tests {
    use std::path::Path;
    use std::path::PathBuf;
    use std::process::Command;

    use super::*;

    /// `bytes` as uppercase hex.
    pub(crate) fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02X}")).collect()
    }

    /// Runs a tool, failing the test when it fails, and returns its stdout.
    pub(crate) fn run(command: &mut Command) -> String {
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "{command:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// A minisign key pair made by `minisign -G -W` in `dir`, as
    /// `NAME.pub` and `NAME.key`: (public, secret) paths.
    pub(crate) fn minisign_keys(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        let (public, secret) = (
            dir.join(format!("{name}.pub")),
            dir.join(format!("{name}.key")),
        );
        run(Command::new("minisign")
            .arg("-G")
            .arg("-W")
            .arg("-p")
            .arg(&public)
            .arg("-s")
            .arg(&secret));
        (public, secret)
    }

    /// An SSH key made by `ssh-keygen -t TYPE` in `dir`: the private key path (public is `.pub` beside it).
    pub(crate) fn ssh_key_file(dir: &Path, kind: &str, name: &str) -> PathBuf {
        let path = dir.join(name);
        let mut command = Command::new("ssh-keygen");
        command
            .args([
                "-q",
                "-t",
                kind,
                "-N",
                "",
                "-C",
                "someone@example.com",
                "-f",
            ])
            .arg(&path);
        if kind == "ecdsa" {
            command.args(["-b", "256"]);
        }
        run(&mut command);
        path
    }

    #[test]
    fn base64_round_trips_and_refuses_non_canonical_text() {
        for len in 0..10 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 200) as u8).collect();
            let text = base64_encode(&bytes);
            if len > 0 {
                assert_eq!(base64_decode(&text), Some(bytes));
            }
        }
        assert_eq!(base64_encode(b"Ed"), "RWQ=");
        assert_eq!(base64_decode("RWQ="), Some(b"Ed".to_vec()));
        assert_eq!(base64_decode("RWR="), None, "trailing bits set");
        assert_eq!(base64_decode("RWQ"), None);
        assert_eq!(base64_decode("R=WQ"), None);
        assert_eq!(base64_decode("RW?="), None);
        assert_eq!(base64_decode("===="), None);
        assert_eq!(base64_decode(""), None);
    }

    #[test]
    fn a_minisign_public_key_reads_as_a_line_or_a_file_and_its_id_is_the_one_minisign_prints() {
        let dir = tempfile::tempdir().unwrap();
        let (public, _) = minisign_keys(dir.path(), "key");
        let file = std::fs::read_to_string(&public).unwrap();
        // "untrusted comment: minisign public key 7DE1ED487D6380FC"
        let printed = file.lines().next().unwrap().rsplit(' ').next().unwrap();
        let line = file.lines().nth(1).unwrap();

        let key = PublicKey::parse(&file).unwrap();
        assert_eq!(PublicKey::parse(line).unwrap(), key);
        assert_eq!(PublicKey::parse(&format!("  {line}\n")).unwrap(), key);
        assert_eq!(key.id(), format!("minisign:{printed}"));
        assert_eq!(key.to_text(), line);
        assert_eq!(PublicKey::parse(&key.to_text()).unwrap(), key);
        let PublicKey::Minisign { key_id, .. } = &key else {
            panic!("{key:?}")
        };
        assert_eq!(
            hex(&key_id.iter().rev().copied().collect::<Vec<_>>()),
            printed
        );
    }

    #[test]
    fn an_ssh_public_key_reads_without_its_comment_and_its_id_is_the_fingerprint_ssh_keygen_prints()
    {
        let dir = tempfile::tempdir().unwrap();
        for kind in ["ed25519", "ecdsa"] {
            let private = ssh_key_file(dir.path(), kind, kind);
            let public = private.with_extension("pub");
            let line = std::fs::read_to_string(&public).unwrap();
            let key = PublicKey::parse(&line).unwrap();
            // "256 SHA256:... someone@example.com (ED25519)"
            let listed = run(Command::new("ssh-keygen").arg("-l").arg("-f").arg(&public));
            assert_eq!(key.id(), listed.split(' ').nth(1).unwrap(), "{kind}");
            let text = key.to_text();
            assert!(!text.contains("someone"), "{text}");
            assert_eq!(line.rsplit_once(' ').unwrap().0, text);
            assert_eq!(PublicKey::parse(&text).unwrap(), key);
        }
    }

    #[test]
    fn other_ssh_key_types_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let private = ssh_key_file(dir.path(), "rsa", "rsa");
        let line = std::fs::read_to_string(private.with_extension("pub")).unwrap();
        let e = PublicKey::parse(&line).unwrap_err();
        assert_eq!(
            e,
            "ssh-rsa keys are not supported: ed25519 keys work (ssh-keygen -t ed25519), and so do ecdsa-sha2-nistp256 keys"
        );
        let e = PublicKey::parse("ssh-dss AAAAB3NzaC1kc3MAAACBAP").unwrap_err();
        assert!(e.starts_with("ssh-dss keys are not supported"), "{e}");
        let e = PublicKey::parse("ssh-ed25519 AAAAnotakey").unwrap_err();
        assert!(e.starts_with("it is not a valid ssh-ed25519 key: "), "{e}");
    }

    #[test]
    fn what_is_not_a_key_is_refused_with_a_reason() {
        let not_minisign = base64_encode(&[b'X'; 42]);
        for (text, reason) in [
            ("", "it is empty, not a minisign or SSH public key"),
            ("   \n", "it is empty, not a minisign or SSH public key"),
            (
                "hello",
                "it is not a minisign or SSH public key: it is not base64",
            ),
            (
                "RWQ=",
                "it is not a minisign or SSH public key: a minisign key is 42 bytes in base64, this is 2",
            ),
            (
                "AAAAC3NzaC1lZDI1NTE5AAAAIDE4NjQ0MzkzNDc3MjI0NzM4MjU3MjE2NDgzMzUx",
                "it is not a minisign or SSH public key: it is the base64 part of an SSH key alone: give the whole line (\"ssh-ed25519 AAAA...\")",
            ),
            (
                not_minisign.as_str(),
                "it is not a minisign or SSH public key: it does not start as a minisign Ed25519 key (\"RW\")",
            ),
            (
                "hello world",
                "it is not a minisign or SSH public key: expected a minisign key (\"RW...\") \
             or an OpenSSH key line (\"ssh-ed25519 AAAA...\")",
            ),
            (
                "untrusted comment: x",
                "it is not a minisign public key file: it must have a comment line and one key line",
            ),
        ] {
            assert_eq!(PublicKey::parse(text).unwrap_err(), reason, "{text:?}");
        }
    }
}

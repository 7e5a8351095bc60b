//! What a signature binds, and checking one: minisign signatures (.minisig,
//! checked by minisign-verify) and SSH signatures (SSHSIG, as
//! `ssh-keygen -Y sign` writes them, checked by ssh-key).
//!
//! A signature is kept as the exact bytes it was read from, so that it is
//! stored and passed on unchanged; it is parsed again to be checked.

use ssh_key::SshSig;

use super::key::{PublicKey, base64_decode, minisign_id};

/// The SSHSIG namespace of every snapin signature.
pub(crate) const NAMESPACE: &str = "snapin-plugin";

/// Largest signature read (bytes); anything bigger is refused before parsing.
pub(crate) const SIGNATURE_CAP: u64 = 64 << 10;

/// The armor line an SSH signature starts with.
const SSH_BEGIN: &str = "-----BEGIN SSH SIGNATURE-----";

/// The first line of a minisign signature starts with this.
const MINISIGN_BEGIN: &str = "untrusted comment:";

/// The third line of a minisign signature starts with this.
const TRUSTED_COMMENT: &str = "trusted comment: ";

/// A signature's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// A minisign signature (.minisig).
    Minisign,
    /// An SSH signature (SSHSIG, armored).
    Ssh,
}

impl Format {
    /// The media type a signature of this format is stored under.
    pub(crate) fn media_type(self) -> &'static str {
        match self {
            Format::Minisign => "application/vnd.snapin.signature.minisign.v1",
            Format::Ssh => "application/vnd.snapin.signature.sshsig.v1",
        }
    }

    /// The format stored under media type `t`, if any.
    pub(crate) fn from_media_type(t: &str) -> Option<Format> {
        [Format::Minisign, Format::Ssh]
            .into_iter()
            .find(|f| f.media_type() == t)
    }
}

/// A signature: its format and the exact bytes it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The format, told from the content.
    format: Format,
    /// The bytes, as read.
    bytes: Vec<u8>,
}

impl Signature {
    /// Reads a signature file's bytes (a .minisig, or one starting with
    /// "-----BEGIN SSH SIGNATURE-----"), telling the format from the content.
    pub fn parse(bytes: &[u8]) -> Result<Signature, String> {
        if bytes.len() as u64 > SIGNATURE_CAP {
            return Err(format!(
                "it is larger than {} KiB, too large for a signature",
                SIGNATURE_CAP >> 10
            ));
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|_| "it is not text, so not a minisign or SSH signature".to_string())?;
        let start = text.trim_start();
        let format = if start.is_empty() {
            return Err("it is empty".to_string());
        } else if start.starts_with(SSH_BEGIN) {
            parse_ssh(text)?;
            Format::Ssh
        } else if start.starts_with(MINISIGN_BEGIN) {
            parse_minisign(text)?;
            Format::Minisign
        } else {
            return Err(format!(
                "it is not a minisign or SSH signature: \
                 it starts with neither \"{MINISIGN_BEGIN}\" nor \"{SSH_BEGIN}\""
            ));
        };
        Ok(Signature {
            format,
            bytes: bytes.to_vec(),
        })
    }

    /// The format.
    pub(crate) fn format(&self) -> Format {
        self.format
    }

    /// The bytes, exactly as read.
    pub fn to_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Checks that `key` signed `payload`.
    ///
    /// Minisign signatures must be prehashed, as `minisign -V -H` requires
    /// (`minisign -S` prehashes; `minisign -S -l` writes the legacy form). SSH signatures must be in [`NAMESPACE`].
    pub fn verify(&self, key: &PublicKey, payload: &[u8]) -> Result<(), String> {
        let text = self.text()?;
        match (self.format, key) {
            (Format::Minisign, PublicKey::Minisign { key_id, .. }) => {
                let (signed_by, signature) = parse_minisign(text)?;
                if signed_by != *key_id {
                    return Err(another_key(&minisign_id(&signed_by), key));
                }
                let checker = key.to_minisign().ok_or_else(|| {
                    format!("the key {} cannot be read by minisign-verify", key.id())
                })?;
                checker
                    .verify(payload, &signature, false)
                    .map_err(|e| match e {
                        minisign_verify::Error::UnexpectedAlgorithm => {
                            "it is in minisign's legacy format: sign again without -l".to_string()
                        }
                        minisign_verify::Error::UnexpectedKeyId => {
                            another_key(&minisign_id(&signed_by), key)
                        }
                        _ => "it does not match what was signed".to_string(),
                    })
            }
            (Format::Ssh, PublicKey::Ssh(data)) => {
                let signature = parse_ssh(text)?;
                if signature.public_key() != data {
                    let signer = signature.public_key().fingerprint(ssh_key::HashAlg::Sha256);
                    return Err(another_key(&signer.to_string(), key));
                }
                if signature.namespace() != NAMESPACE {
                    return Err(format!(
                        "it was made for another use, namespace \"{}\", not \"{NAMESPACE}\" \
                         (ssh-keygen -Y sign -n {NAMESPACE})",
                        signature.namespace()
                    ));
                }
                ssh_key::PublicKey::new(data.clone(), "")
                    .verify(NAMESPACE, payload, &signature)
                    .map_err(|_| "it does not match what was signed".to_string())
            }
            (Format::Minisign, PublicKey::Ssh(_)) => Err(format!(
                "it is a minisign signature, and the key {} is an SSH key",
                key.id()
            )),
            (Format::Ssh, PublicKey::Minisign { .. }) => Err(format!(
                "it is an SSH signature, and the key {} is a minisign key",
                key.id()
            )),
        }
    }

    /// The key an SSH signature carries (SSHSIG embeds it); None for
    /// minisign, which carries only a key id.
    pub(crate) fn embedded_key(&self) -> Option<PublicKey> {
        match self.format {
            Format::Minisign => None,
            Format::Ssh => {
                let signature = parse_ssh(self.text().ok()?).ok()?;
                PublicKey::from_ssh(signature.public_key()).ok()
            }
        }
    }

    /// The bytes as text, which parsing checked them to be.
    fn text(&self) -> Result<&str, String> {
        std::str::from_utf8(&self.bytes)
            .map_err(|_| "it is not text, so not a minisign or SSH signature".to_string())
    }
}

/// The reason for a signature made by `signer`, not by `key`.
fn another_key(signer: &str, key: &PublicKey) -> String {
    format!("it was made by another key, {signer}, not {}", key.id())
}

/// Reads an armored SSH signature, made by an ed25519 or ecdsa-sha2-nistp256 key.
fn parse_ssh(text: &str) -> Result<SshSig, String> {
    let signature = SshSig::from_pem(text.trim())
        .map_err(|e| format!("it is not a valid SSH signature: {e}"))?;
    // Only the key types snapin reads: checking another type's signature
    // would fail later, and less clearly.
    PublicKey::from_ssh(signature.public_key())
        .map_err(|e| format!("it was made by a key snapin does not read: {e}"))?;
    Ok(signature)
}

/// Reads a .minisig: an untrusted comment line, the signature (algorithm,
/// key id, Ed25519 signature), the trusted comment line, and the global
/// signature over the signature and the trusted comment. Returns the key id
/// and the signature as minisign-verify checks it.
fn parse_minisign(text: &str) -> Result<([u8; 8], minisign_verify::Signature), String> {
    let bad = |why: &str| format!("it is not a valid minisign signature: {why}");
    let lines: Vec<&str> = text.trim().lines().collect();
    if lines.len() < 4 {
        return Err(bad(&format!(
            "it has {} of the 4 lines of a .minisig; it may be cut short",
            lines.len()
        )));
    }
    if lines.len() > 4 {
        return Err(bad("it has more than the 4 lines of a .minisig"));
    }
    let signature = base64_decode(lines[1])
        .filter(|b| b.len() == 74)
        .ok_or_else(|| bad("its second line is not a signature in base64 (74 bytes)"))?;
    if !lines[2].starts_with(TRUSTED_COMMENT) {
        return Err(bad("its third line is not its trusted comment"));
    }
    if base64_decode(lines[3]).is_none_or(|b| b.len() != 64) {
        return Err(bad(
            "its fourth line is not a global signature in base64 (64 bytes)",
        ));
    }
    let mut key_id = [0; 8];
    key_id.copy_from_slice(&signature[2..10]);
    let decoded = minisign_verify::Signature::decode(&lines.join("\n")).map_err(|e| match e {
        minisign_verify::Error::UnsupportedAlgorithm => {
            bad("its algorithm is neither Ed25519 nor prehashed Ed25519")
        }
        e => bad(&e.to_string()),
    })?;
    Ok((key_id, decoded))
}

/// What a plugin signature binds: exactly these bytes, so that one
/// signature covers every platform of one version and cannot be replayed
/// for another name, version or index digest:
/// "snapin-plugin-signature v1\nname {name}\nversion {version}\nindex {digest}\n".
///
/// The fields are one line each: the caller passes a validated name,
/// version and digest, none of which holds a line break.
pub(crate) fn plugin_payload(name: &str, version: &str, digest: &str) -> Vec<u8> {
    format!("snapin-plugin-signature v1\nname {name}\nversion {version}\nindex {digest}\n")
        .into_bytes()
}

/// A key rotation statement, signed by the old key, naming the new one for
/// plugin `name`:
/// "snapin-key-rotation v1\nname {name}\nfrom {from.to_text()}\nto {to.to_text()}\n".
pub(crate) fn rotation_payload(name: &str, from: &PublicKey, to: &PublicKey) -> Vec<u8> {
    format!(
        "snapin-key-rotation v1\nname {name}\nfrom {}\nto {}\n",
        from.to_text(),
        to.to_text()
    )
    .into_bytes()
}

#[cfg(test)]
pub(super) mod tests {
    use std::path::{Path, PathBuf};
    use std::process::Command;

    use super::super::key::tests::{self as key_files, run};
    use super::*;

    const DIGEST: &str = "sha256:6ae8a75555209fd6c44157c0aed8016e763ff435a19cf186f76863140143ff72";

    /// The payload the tests sign.
    pub(crate) fn payload() -> Vec<u8> {
        plugin_payload("greet", "1.2.0", DIGEST)
    }

    /// A minisign key pair made by `minisign -G -W` in `dir`, named `name`.
    pub(crate) fn minisign_keys(dir: &Path, name: &str) -> (PublicKey, PathBuf, PathBuf) {
        let (public, secret) = key_files::minisign_keys(dir, name);
        let key = PublicKey::parse(&std::fs::read_to_string(&public).unwrap()).unwrap();
        (key, public, secret)
    }

    /// An SSH key made by `ssh-keygen` in `dir`: the public key and the private key path.
    pub(crate) fn ssh_keys(dir: &Path, kind: &str, name: &str) -> (PublicKey, PathBuf) {
        let path = key_files::ssh_key_file(dir, kind, name);
        let public = std::fs::read_to_string(path.with_extension("pub")).unwrap();
        (PublicKey::parse(&public).unwrap(), path)
    }

    /// Writes the payload to a file in `dir` and returns its path.
    pub(crate) fn payload_file(dir: &Path) -> PathBuf {
        let path = dir.join("payload");
        std::fs::write(&path, payload()).unwrap();
        path
    }

    /// A signature of the payload by `minisign -S` with extra arguments.
    fn minisign_sign(dir: &Path, secret: &Path, extra: &[&str]) -> Signature {
        let file = payload_file(dir);
        let sig = dir.join("payload.minisig");
        let _ = std::fs::remove_file(&sig);
        run(Command::new("minisign")
            .arg("-S")
            .arg("-s")
            .arg(secret)
            .args(extra)
            .arg("-m")
            .arg(&file));
        Signature::parse(&std::fs::read(sig).unwrap()).unwrap()
    }

    /// A signature of the payload by `ssh-keygen -Y sign` in `namespace`.
    fn ssh_sign(dir: &Path, private: &Path, namespace: &str) -> Signature {
        let file = payload_file(dir);
        let sig = dir.join("payload.sig");
        let _ = std::fs::remove_file(&sig);
        run(Command::new("ssh-keygen")
            .args(["-Y", "sign", "-n", namespace, "-f"])
            .arg(private)
            .arg(&file));
        Signature::parse(&std::fs::read(sig).unwrap()).unwrap()
    }

    #[test]
    fn payloads_are_exactly_the_documented_bytes() {
        assert_eq!(
            plugin_payload("greet", "1.2.0", "sha256:ab"),
            b"snapin-plugin-signature v1\nname greet\nversion 1.2.0\nindex sha256:ab\n"
        );
        let from =
            PublicKey::parse("RWT8gGN9SO3hfbOx9TZRH7L/cmFWMZNdKnKdCqZb7fbW2XNL172zvFop").unwrap();
        let to = PublicKey::parse(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIRNBdZBz/GiW5MrgMO3AOFqmUK1Rk6O7AQlO8rFPqK+ me",
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(rotation_payload("greet", &from, &to)).unwrap(),
            "snapin-key-rotation v1\nname greet\n\
             from RWT8gGN9SO3hfbOx9TZRH7L/cmFWMZNdKnKdCqZb7fbW2XNL172zvFop\n\
             to ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIRNBdZBz/GiW5MrgMO3AOFqmUK1Rk6O7AQlO8rFPqK+\n"
        );
    }

    #[test]
    fn media_types_name_each_format() {
        for format in [Format::Minisign, Format::Ssh] {
            assert_eq!(Format::from_media_type(format.media_type()), Some(format));
        }
        assert_eq!(
            Format::Minisign.media_type(),
            "application/vnd.snapin.signature.minisign.v1"
        );
        assert_eq!(
            Format::Ssh.media_type(),
            "application/vnd.snapin.signature.sshsig.v1"
        );
        assert_eq!(Format::from_media_type("application/octet-stream"), None);
    }

    #[test]
    fn a_signature_by_minisign_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let (key, _, secret) = minisign_keys(dir.path(), "a");
        let signature = minisign_sign(dir.path(), &secret, &[]);
        assert_eq!(signature.format(), Format::Minisign);
        assert_eq!(signature.embedded_key(), None);
        signature.verify(&key, &payload()).unwrap();
        assert_eq!(Signature::parse(signature.to_bytes()).unwrap(), signature);
    }

    #[test]
    fn a_signature_by_ssh_keygen_verifies() {
        let dir = tempfile::tempdir().unwrap();
        for kind in ["ed25519", "ecdsa"] {
            let (key, private) = ssh_keys(dir.path(), kind, kind);
            let signature = ssh_sign(dir.path(), &private, NAMESPACE);
            assert_eq!(signature.format(), Format::Ssh);
            assert_eq!(signature.embedded_key(), Some(key.clone()));
            signature.verify(&key, &payload()).unwrap();
        }
    }

    #[test]
    fn a_payload_for_another_name_version_or_digest_does_not_verify() {
        let dir = tempfile::tempdir().unwrap();
        let (minisign_key, _, secret) = minisign_keys(dir.path(), "a");
        let (ssh_key, private) = ssh_keys(dir.path(), "ed25519", "k");
        for (key, signature) in [
            (minisign_key, minisign_sign(dir.path(), &secret, &[])),
            (ssh_key, ssh_sign(dir.path(), &private, NAMESPACE)),
        ] {
            for other in [
                plugin_payload("greet2", "1.2.0", DIGEST),
                plugin_payload("greet", "1.2.1", DIGEST),
                plugin_payload("greet", "1.2.0", &DIGEST.replace('6', "7")),
                Vec::new(),
            ] {
                assert_eq!(
                    signature.verify(&key, &other).unwrap_err(),
                    "it does not match what was signed"
                );
            }
        }
    }

    #[test]
    fn a_signature_by_another_key_names_that_key() {
        let dir = tempfile::tempdir().unwrap();
        let (a, _, secret) = minisign_keys(dir.path(), "a");
        let (b, _, _) = minisign_keys(dir.path(), "b");
        let signature = minisign_sign(dir.path(), &secret, &[]);
        assert_eq!(
            signature.verify(&b, &payload()).unwrap_err(),
            format!("it was made by another key, {}, not {}", a.id(), b.id())
        );

        let (c, private) = ssh_keys(dir.path(), "ed25519", "c");
        let (d, _) = ssh_keys(dir.path(), "ed25519", "d");
        let signature = ssh_sign(dir.path(), &private, NAMESPACE);
        assert_eq!(
            signature.verify(&d, &payload()).unwrap_err(),
            format!("it was made by another key, {}, not {}", c.id(), d.id())
        );
    }

    #[test]
    fn a_minisign_key_with_the_signers_id_but_another_key_does_not_verify() {
        let dir = tempfile::tempdir().unwrap();
        let (a, _, secret) = minisign_keys(dir.path(), "a");
        let (b, _, _) = minisign_keys(dir.path(), "b");
        let (PublicKey::Minisign { key_id, .. }, PublicKey::Minisign { key, .. }) = (a, b) else {
            panic!("minisign keys")
        };
        let forged = PublicKey::Minisign { key_id, key };
        let signature = minisign_sign(dir.path(), &secret, &[]);
        assert_eq!(
            signature.verify(&forged, &payload()).unwrap_err(),
            "it does not match what was signed"
        );
    }

    #[test]
    fn a_signature_whose_format_is_not_the_keys_does_not_verify() {
        let dir = tempfile::tempdir().unwrap();
        let (a, _, secret) = minisign_keys(dir.path(), "a");
        let (c, private) = ssh_keys(dir.path(), "ed25519", "c");
        assert_eq!(
            minisign_sign(dir.path(), &secret, &[])
                .verify(&c, &payload())
                .unwrap_err(),
            format!(
                "it is a minisign signature, and the key {} is an SSH key",
                c.id()
            )
        );
        assert_eq!(
            ssh_sign(dir.path(), &private, NAMESPACE)
                .verify(&a, &payload())
                .unwrap_err(),
            format!(
                "it is an SSH signature, and the key {} is a minisign key",
                a.id()
            )
        );
    }

    #[test]
    fn an_ssh_signature_in_another_namespace_does_not_verify() {
        let dir = tempfile::tempdir().unwrap();
        let (key, private) = ssh_keys(dir.path(), "ed25519", "c");
        let signature = ssh_sign(dir.path(), &private, "git");
        assert_eq!(
            signature.verify(&key, &payload()).unwrap_err(),
            "it was made for another use, namespace \"git\", not \"snapin-plugin\" (ssh-keygen -Y sign -n snapin-plugin)"
        );
    }

    #[test]
    fn ssh_key_itself_refuses_another_key_and_another_namespace() {
        // verify() checks both before calling ssh-key, for its reasons; this
        // is what ssh-key does alone.
        let dir = tempfile::tempdir().unwrap();
        let (PublicKey::Ssh(c), private) = ssh_keys(dir.path(), "ed25519", "c") else {
            panic!("an SSH key")
        };
        let (PublicKey::Ssh(d), _) = ssh_keys(dir.path(), "ed25519", "d") else {
            panic!("an SSH key")
        };
        let text = String::from_utf8(ssh_sign(dir.path(), &private, NAMESPACE).bytes).unwrap();
        let signature = SshSig::from_pem(&text).unwrap();
        let (c, d) = (
            ssh_key::PublicKey::new(c, ""),
            ssh_key::PublicKey::new(d, ""),
        );
        c.verify(NAMESPACE, &payload(), &signature).unwrap();
        assert!(matches!(
            d.verify(NAMESPACE, &payload(), &signature),
            Err(ssh_key::Error::PublicKey)
        ));
        assert!(matches!(
            c.verify("git", &payload(), &signature),
            Err(ssh_key::Error::Namespace)
        ));
        assert!(c.verify(NAMESPACE, b"other", &signature).is_err());
    }

    #[test]
    fn a_legacy_minisign_signature_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (key, _, secret) = minisign_keys(dir.path(), "a");
        let signature = minisign_sign(dir.path(), &secret, &["-l"]);
        assert_eq!(
            signature.verify(&key, &payload()).unwrap_err(),
            "it is in minisign's legacy format: sign again without -l"
        );
    }

    #[test]
    fn a_tampered_minisign_signature_or_trusted_comment_does_not_verify() {
        let dir = tempfile::tempdir().unwrap();
        let (key, _, secret) = minisign_keys(dir.path(), "a");
        let text = String::from_utf8(minisign_sign(dir.path(), &secret, &[]).bytes).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        // A byte of the Ed25519 signature, past the algorithm and key id.
        let mut tampered = lines[1].as_bytes().to_vec();
        tampered[20] = if tampered[20] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        for changed in [
            format!("{}\n{tampered}\n{}\n{}\n", lines[0], lines[2], lines[3]),
            format!("{}\n{}\n{}x\n{}\n", lines[0], lines[1], lines[2], lines[3]),
        ] {
            let signature = Signature::parse(changed.as_bytes()).unwrap();
            assert_eq!(
                signature.verify(&key, &payload()).unwrap_err(),
                "it does not match what was signed"
            );
        }
        // The untrusted comment is not signed.
        let relabelled = text.replacen(lines[0], "untrusted comment: anything", 1);
        Signature::parse(relabelled.as_bytes())
            .unwrap()
            .verify(&key, &payload())
            .unwrap();
    }

    #[test]
    fn a_tampered_ssh_signature_does_not_verify() {
        let dir = tempfile::tempdir().unwrap();
        let (key, private) = ssh_keys(dir.path(), "ed25519", "c");
        let text = String::from_utf8(ssh_sign(dir.path(), &private, NAMESPACE).bytes).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        // The last base64 line ends inside the Ed25519 signature.
        let last = lines.len() - 2;
        let mut tampered = lines[last].as_bytes().to_vec();
        tampered[2] = if tampered[2] == b'A' { b'B' } else { b'A' };
        let mut changed: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        changed[last] = String::from_utf8(tampered).unwrap();
        let signature = Signature::parse(changed.join("\n").as_bytes()).unwrap();
        assert_eq!(
            signature.verify(&key, &payload()).unwrap_err(),
            "it does not match what was signed"
        );
    }

    #[test]
    fn a_cut_short_signature_is_refused_at_every_length() {
        let dir = tempfile::tempdir().unwrap();
        let (_, _, secret) = minisign_keys(dir.path(), "a");
        let (_, private) = ssh_keys(dir.path(), "ed25519", "c");
        for signature in [
            minisign_sign(dir.path(), &secret, &[]),
            ssh_sign(dir.path(), &private, NAMESPACE),
        ] {
            let bytes = signature.to_bytes();
            // Cutting the final newline (and, for SSH, trailing armor
            // dashes is still an error) leaves the content whole.
            let whole = bytes.len() - 1;
            for len in 0..whole {
                let cut = &bytes[..len];
                if let Ok(parsed) = Signature::parse(cut) {
                    panic!("{len} of {} bytes parsed: {parsed:?}", bytes.len());
                }
            }
            assert_eq!(
                Signature::parse(&bytes[..whole]).unwrap().format(),
                signature.format()
            );
        }
    }

    #[test]
    fn what_is_not_a_signature_is_refused_with_a_reason() {
        let big = vec![b'a'; (SIGNATURE_CAP + 1) as usize];
        let cases: [(&[u8], &str); 9] = [
            (b"", "it is empty"),
            (b" \n\n", "it is empty"),
            (
                b"\xff\xfe",
                "it is not text, so not a minisign or SSH signature",
            ),
            (
                b"hello",
                "it is not a minisign or SSH signature: it starts with neither \"untrusted comment:\" nor \"-----BEGIN SSH SIGNATURE-----\"",
            ),
            (&big, "it is larger than 64 KiB, too large for a signature"),
            (
                b"untrusted comment: x\n!!!!\ntrusted comment: y\nAAAA\n",
                "it is not a valid minisign signature: its second line is not a signature in base64 (74 bytes)",
            ),
            (
                b"untrusted comment: x\nRWQ=\ntrusted comment: y\nAAAA\n",
                "it is not a valid minisign signature: its second line is not a signature in base64 (74 bytes)",
            ),
            (
                b"untrusted comment: x\na\nb\nc\nd\n",
                "it is not a valid minisign signature: it has more than the 4 lines of a .minisig",
            ),
            (
                b"untrusted comment: x\n",
                "it is not a valid minisign signature: it has 1 of the 4 lines of a .minisig; it may be cut short",
            ),
        ];
        for (bytes, reason) in cases {
            assert_eq!(
                Signature::parse(bytes).unwrap_err(),
                reason,
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
        let e = Signature::parse(
            b"-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n",
        )
        .unwrap_err();
        assert!(e.starts_with("it is not a valid SSH signature: "), "{e}");
        let e =
            Signature::parse(b"-----BEGIN SSH SIGNATURE-----\n!!!!\n-----END SSH SIGNATURE-----\n")
                .unwrap_err();
        assert!(e.starts_with("it is not a valid SSH signature: "), "{e}");
    }

    #[test]
    fn an_ssh_signature_by_an_rsa_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rsa");
        run(Command::new("ssh-keygen")
            .args(["-q", "-t", "rsa", "-N", "", "-f"])
            .arg(&path));
        let file = payload_file(dir.path());
        run(Command::new("ssh-keygen")
            .args(["-Y", "sign", "-n", NAMESPACE, "-f"])
            .arg(&path)
            .arg(&file));
        let e =
            Signature::parse(&std::fs::read(dir.path().join("payload.sig")).unwrap()).unwrap_err();
        assert!(
            e.starts_with(
                "it was made by a key snapin does not read: rsa-sha2-512 keys are not supported"
            ) || e.starts_with(
                "it was made by a key snapin does not read: ssh-rsa keys are not supported"
            ),
            "{e}"
        );
    }
}

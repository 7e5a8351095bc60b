//! Publishers' secret keys, to sign with: minisign key files (encrypted,
//! or unencrypted as `minisign -G -W` writes them) and unencrypted OpenSSH
//! private keys (ed25519, ecdsa-sha2-nistp256).

use std::path::Path;

use ssh_key::{HashAlg, LineEnding};

use super::key::{MINISIGN_ALGORITHM, MINISIGN_COMMENT, PublicKey, base64_decode, parse_minisign};
use super::signature::{NAMESPACE, Signature};

/// The first line of an OpenSSH private key file.
const OPENSSH_PRIVATE_BEGIN: &str = "-----BEGIN OPENSSH PRIVATE KEY-----";

/// Largest secret key file read (bytes): the keys snapin reads are well
/// under 1 KiB.
const SECRET_KEY_CAP: u64 = 64 << 10;

/// A publisher's secret key, to sign with.
pub(crate) struct SecretKey {
    /// The key and its format.
    inner: Secret,
    /// Its public half.
    public: PublicKey,
}

/// A secret key by format.
enum Secret {
    /// A decrypted minisign key.
    Minisign(minisign::SecretKey),
    /// An unencrypted OpenSSH key (boxed: it is over twice the size of a
    /// minisign key).
    Ssh(Box<ssh_key::PrivateKey>),
}

impl SecretKey {
    /// Reads a key file: a minisign secret key (encrypted with `password`,
    /// or unencrypted as `minisign -G -W` writes), or an unencrypted OpenSSH
    /// private key (ed25519 or ecdsa p256).
    ///
    /// Encrypted OpenSSH keys are refused with how to make an unencrypted
    /// copy: reading them takes ssh-key's `encryption` feature, which brings
    /// bcrypt-pbkdf, blowfish and four cipher crates (AES-CBC, AES-CTR,
    /// AES-GCM, ChaCha20-Poly1305) for keys that signing in CI holds
    /// unencrypted anyway.
    ///
    /// Never prompts: with `password` None an encrypted minisign key is an
    /// error saying to set the password.
    pub(crate) fn load(path: &Path, password: Option<&str>) -> Result<SecretKey, String> {
        let text = read_capped(path)?;
        if text.trim_start().starts_with(OPENSSH_PRIVATE_BEGIN) {
            return load_ssh(&text);
        }
        if text.trim_start().starts_with(MINISIGN_COMMENT) {
            return load_minisign(&text, password);
        }
        Err("it is not a minisign secret key or an OpenSSH private key".to_string())
    }

    /// The public half.
    pub(crate) fn public(&self) -> PublicKey {
        self.public.clone()
    }

    /// Signs `payload`: minisign keys write a standard .minisig (prehashed,
    /// as `minisign -S` does), SSH keys an armored SSHSIG in namespace
    /// [`NAMESPACE`] with sha512, as `ssh-keygen -Y sign -n snapin-plugin` does.
    pub(crate) fn sign(&self, payload: &[u8]) -> Result<Signature, String> {
        let bytes = match &self.inner {
            Secret::Minisign(secret) => {
                let seconds = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let trusted = format!("timestamp:{seconds}\tsnapin signature");
                let id = self.public.id();
                let untrusted = format!(
                    "signature from minisign secret key {}",
                    id.trim_start_matches("minisign:")
                );
                let signed =
                    minisign::sign(None, secret, payload, Some(&trusted), Some(&untrusted))
                        .map_err(|e| format!("signing failed: {e}"))?;
                signed.into_string().into_bytes()
            }
            Secret::Ssh(secret) => secret
                .sign(NAMESPACE, HashAlg::Sha512, payload)
                .and_then(|s| s.to_pem(LineEnding::LF))
                .map_err(|e| format!("signing failed: {e}"))?
                .into_bytes(),
        };
        let signature = Signature::parse(&bytes)
            .map_err(|e| format!("signing made an unreadable signature: {e}"))?;
        // A key file without a checksum (`minisign -W`) may be damaged
        // unseen until now.
        signature.verify(&self.public, payload).map_err(|e| {
            format!(
                "the key file is damaged: its signature does not check with its public half ({e})"
            )
        })?;
        Ok(signature)
    }
}

/// Reads a key file, refusing one too large to be a key.
fn read_capped(path: &Path) -> Result<String, String> {
    let bytes = crate::whole_file::read_capped(path, SECRET_KEY_CAP)
        .map_err(|e| format!("it cannot be read: {e}"))?
        .ok_or_else(|| {
            format!(
                "it is larger than {} KiB, too large for a key file",
                SECRET_KEY_CAP >> 10
            )
        })?;
    String::from_utf8(bytes)
        .map_err(|_| "it is not text, so not a minisign or OpenSSH key file".to_string())
}

/// Reads an OpenSSH private key file.
fn load_ssh(text: &str) -> Result<SecretKey, String> {
    let key = ssh_key::PrivateKey::from_openssh(text)
        .map_err(|e| format!("it is not a valid OpenSSH private key: {e}"))?;
    if key.is_encrypted() {
        return Err(
            "it is encrypted with a passphrase, and snapin reads only unencrypted OpenSSH keys: \
             sign with an unencrypted copy (cp KEY COPY; ssh-keygen -p -N \"\" -f COPY)"
                .to_string(),
        );
    }
    let public = PublicKey::from_ssh(key.public_key().key_data())?;
    Ok(SecretKey {
        inner: Secret::Ssh(Box::new(key)),
        public,
    })
}

/// Reads a minisign secret key file.
///
/// The key line decodes to: signature algorithm (2 bytes), KDF algorithm
/// (2), checksum algorithm (2), KDF salt (32), ops limit (8), memory limit
/// (8), key id (8), secret key (64, its second half the public key) and
/// checksum (32), these last three encrypted when the KDF is scrypt.
fn load_minisign(text: &str, password: Option<&str>) -> Result<SecretKey, String> {
    let line = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .nth(1)
        .ok_or("it is not a minisign secret key: it has no key line")?;
    let bytes =
        base64_decode(line).ok_or("it is not a minisign secret key: its key line is not base64")?;
    if bytes.len() != 158 || bytes[..2] != MINISIGN_ALGORITHM {
        return Err("it is not a minisign Ed25519 secret key".to_string());
    }
    let secret = match &bytes[2..4] {
        b"Sc" => {
            let Some(password) = password else {
                return Err(
                    "it is encrypted, and no password was given: set the password".to_string(),
                );
            };
            // A password given never prompts.
            minisign::SecretKeyBox::from_string(text)
                .and_then(|b| b.into_secret_key(Some(password.to_string())))
                .map_err(|e| match e.kind() {
                    minisign::ErrorKind::Verify => "the password is wrong".to_string(),
                    _ => format!("it cannot be decrypted: {e}"),
                })?
        }
        [0, 0] => {
            // `minisign -G -W` leaves the checksum all zeros, which the
            // crate's own reader refuses as a corrupted key: read the bytes
            // directly then, and check a checksum that is there.
            if bytes[126..].iter().all(|&b| b == 0) {
                minisign::SecretKey::from_bytes(&bytes)
                    .map_err(|e| format!("it is not a valid minisign secret key: {e}"))?
            } else {
                minisign::SecretKeyBox::from_string(text)
                    .and_then(minisign::SecretKeyBox::into_unencrypted_secret_key)
                    .map_err(|e| format!("it is not a valid minisign secret key: {e}"))?
            }
        }
        _ => {
            return Err(
                "it is a minisign secret key encrypted in a way minisign does not write"
                    .to_string(),
            );
        }
    };
    let public = minisign::PublicKey::from_secret_key(&secret)
        .map_err(|e| format!("it is not a valid minisign secret key: {e}"))?;
    let public = parse_minisign(&public.to_base64())?;
    Ok(SecretKey {
        inner: Secret::Minisign(secret),
        public,
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::process::{Command, Stdio};

    use ssh_key::SshSig;

    use super::super::key::base64_encode;
    use super::super::key::tests::{minisign_keys, run, ssh_key_file};
    use super::super::signature::Format;
    use super::super::signature::tests::{
        minisign_keys as named_minisign_keys, payload, payload_file, ssh_keys,
    };
    use super::*;

    #[test]
    fn a_minisign_secret_key_from_minisign_signs_as_its_public_key() {
        let dir = tempfile::tempdir().unwrap();
        let (public, secret) = minisign_keys(dir.path(), "key");
        let key = SecretKey::load(&secret, None).unwrap();
        let public = PublicKey::parse(&std::fs::read_to_string(public).unwrap()).unwrap();
        assert_eq!(key.public(), public);
        // A password given for an unencrypted key does not matter.
        assert_eq!(
            SecretKey::load(&secret, Some("x")).unwrap().public(),
            public
        );
        // The crate's own reader refuses what `minisign -W` writes.
        let text = std::fs::read_to_string(&secret).unwrap();
        let e = minisign::SecretKeyBox::from_string(&text)
            .and_then(minisign::SecretKeyBox::into_unencrypted_secret_key)
            .unwrap_err();
        assert!(e.to_string().contains("Corrupted"), "{e}");
    }

    #[test]
    fn a_damaged_minisign_key_without_a_checksum_does_not_sign() {
        let dir = tempfile::tempdir().unwrap();
        let (_, secret) = minisign_keys(dir.path(), "key");
        let text = std::fs::read_to_string(&secret).unwrap();
        let line = text.lines().nth(1).unwrap();
        let mut bytes = base64_decode(line).unwrap();
        // A byte of the Ed25519 seed.
        bytes[70] ^= 1;
        std::fs::write(&secret, text.replace(line, &base64_encode(&bytes))).unwrap();
        let e = SecretKey::load(&secret, None)
            .unwrap()
            .sign(b"payload")
            .err()
            .unwrap();
        assert_eq!(
            e,
            "the key file is damaged: its signature does not check with its public half (it does not match what was signed)"
        );
    }

    /// An encrypted minisign key pair, made by the crate (scrypt with 32
    /// MiB, where `minisign -G` uses 1 GiB, slow in a debug build).
    fn encrypted_minisign_key(dir: &Path, password: &str) -> (PublicKey, PathBuf) {
        let pair =
            minisign::KeyPair::generate_encrypted_keypair(Some(password.to_string())).unwrap();
        let path = dir.join("encrypted.key");
        std::fs::write(&path, pair.sk.to_box(None).unwrap().to_string()).unwrap();
        (PublicKey::parse(&pair.pk.to_base64()).unwrap(), path)
    }

    #[test]
    fn an_encrypted_minisign_key_takes_its_password() {
        let dir = tempfile::tempdir().unwrap();
        let (public, path) = encrypted_minisign_key(dir.path(), "correct horse");
        let key = SecretKey::load(&path, Some("correct horse")).unwrap();
        assert_eq!(key.public(), public);
        let signature = key.sign(b"payload").unwrap();
        signature.verify(&public, b"payload").unwrap();
        let e = SecretKey::load(&path, None).err().unwrap();
        assert_eq!(
            e,
            "it is encrypted, and no password was given: set the password"
        );
        let e = SecretKey::load(&path, Some("wrong")).err().unwrap();
        assert_eq!(e, "the password is wrong");
    }

    #[test]
    #[cfg_attr(
        debug_assertions,
        ignore = "1 GiB of scrypt: seconds in a release build, minutes unoptimised"
    )]
    fn an_encrypted_minisign_key_from_minisign_takes_its_password() {
        let dir = tempfile::tempdir().unwrap();
        let (public, secret) = (dir.path().join("key.pub"), dir.path().join("key.sec"));
        let mut child = Command::new("minisign")
            .arg("-G")
            .arg("-p")
            .arg(&public)
            .arg("-s")
            .arg(&secret)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"pw\npw\n").unwrap();
        assert!(child.wait().unwrap().success());
        let key = SecretKey::load(&secret, Some("pw")).unwrap();
        assert_eq!(
            key.public(),
            PublicKey::parse(&std::fs::read_to_string(public).unwrap()).unwrap()
        );
    }

    #[test]
    fn ssh_private_keys_load_unencrypted_and_are_refused_encrypted() {
        let dir = tempfile::tempdir().unwrap();
        for kind in ["ed25519", "ecdsa"] {
            let private = ssh_key_file(dir.path(), kind, kind);
            let key = SecretKey::load(&private, None).unwrap();
            let public =
                PublicKey::parse(&std::fs::read_to_string(private.with_extension("pub")).unwrap())
                    .unwrap();
            assert_eq!(key.public(), public);
        }
        let rsa = ssh_key_file(dir.path(), "rsa", "rsa");
        let e = SecretKey::load(&rsa, None).err().unwrap();
        assert!(e.starts_with("ssh-rsa keys are not supported"), "{e}");

        let encrypted = dir.path().join("encrypted");
        run(Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "secret", "-f"])
            .arg(&encrypted));
        let e = SecretKey::load(&encrypted, Some("secret")).err().unwrap();
        assert_eq!(
            e,
            "it is encrypted with a passphrase, and snapin reads only unencrypted OpenSSH keys: \
             sign with an unencrypted copy (cp KEY COPY; ssh-keygen -p -N \"\" -f COPY)"
        );
    }

    #[test]
    fn what_is_not_a_secret_key_is_refused_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        for (content, reason) in [
            (
                &b"hello"[..],
                "it is not a minisign secret key or an OpenSSH private key",
            ),
            (
                b"\xff\xfe",
                "it is not text, so not a minisign or OpenSSH key file",
            ),
            (
                b"untrusted comment: x\n",
                "it is not a minisign secret key: it has no key line",
            ),
            (
                b"untrusted comment: x\nRWQ=\n",
                "it is not a minisign Ed25519 secret key",
            ),
            (
                b"untrusted comment: x\n!!!!\n",
                "it is not a minisign secret key: its key line is not base64",
            ),
        ] {
            std::fs::write(&path, content).unwrap();
            assert_eq!(SecretKey::load(&path, None).err().unwrap(), reason);
        }
        std::fs::write(
            &path,
            "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
        )
        .unwrap();
        let e = SecretKey::load(&path, None).err().unwrap();
        assert!(
            e.starts_with("it is not a valid OpenSSH private key: "),
            "{e}"
        );
        std::fs::write(&path, vec![b'a'; 65 << 10]).unwrap();
        assert_eq!(
            SecretKey::load(&path, None).err().unwrap(),
            "it is larger than 64 KiB, too large for a key file"
        );
        let e = SecretKey::load(&dir.path().join("missing"), None)
            .err()
            .unwrap();
        assert!(e.starts_with("it cannot be read: "), "{e}");
    }

    #[test]
    fn a_minisign_signature_by_snapin_verifies_with_minisign() {
        let dir = tempfile::tempdir().unwrap();
        let (key, public, secret) = named_minisign_keys(dir.path(), "a");
        let signature = SecretKey::load(&secret, None)
            .unwrap()
            .sign(&payload())
            .unwrap();
        assert_eq!(signature.format(), Format::Minisign);
        signature.verify(&key, &payload()).unwrap();
        let file = payload_file(dir.path());
        std::fs::write(dir.path().join("payload.minisig"), signature.to_bytes()).unwrap();
        // -H: only a prehashed signature verifies.
        let out = run(Command::new("minisign")
            .arg("-V")
            .arg("-H")
            .arg("-p")
            .arg(&public)
            .arg("-m")
            .arg(&file));
        assert!(
            out.contains("Signature and comment signature verified"),
            "{out}"
        );
        assert!(out.contains("snapin signature"), "{out}");
    }

    #[test]
    fn an_ssh_signature_by_snapin_verifies_with_ssh_keygen() {
        let dir = tempfile::tempdir().unwrap();
        for kind in ["ed25519", "ecdsa"] {
            let (key, private) = ssh_keys(dir.path(), kind, kind);
            let signature = SecretKey::load(&private, None)
                .unwrap()
                .sign(&payload())
                .unwrap();
            assert_eq!(signature.format(), Format::Ssh);
            signature.verify(&key, &payload()).unwrap();
            let sig = dir.path().join("snapin.sig");
            std::fs::write(&sig, signature.to_bytes()).unwrap();
            let file = std::fs::File::open(payload_file(dir.path())).unwrap();
            let out = run(Command::new("ssh-keygen")
                .args(["-Y", "check-novalidate", "-n", NAMESPACE, "-f"])
                .arg(private.with_extension("pub"))
                .arg("-s")
                .arg(&sig)
                .stdin(file));
            assert!(out.contains("Good \"snapin-plugin\" signature"), "{out}");
            // ssh-keygen -Y sign hashes with sha512 by default, as snapin does.
            let text = String::from_utf8(signature.to_bytes().to_vec()).unwrap();
            let parsed = SshSig::from_pem(&text).unwrap();
            assert_eq!(parsed.hash_alg(), ssh_key::HashAlg::Sha512);
        }
    }
}

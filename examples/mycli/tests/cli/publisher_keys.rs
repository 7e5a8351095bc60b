//! A publisher's keys, made with the real `minisign` and `ssh-keygen` in a
//! scratch directory, and the signatures those tools make with them.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Output, Stdio};

use crate::support::{Home, require_tool, stderr, stdout};

/// A publisher's keys: `m.key`/`m.pub` (minisign), `s`/`s.pub` (OpenSSH
/// ed25519), and `t.key`/`t.pub`, a minisign key nobody vouches for.
pub struct Keys {
    dir: PathBuf,
}

impl Keys {
    /// The keys, made in `h`'s scratch directory; `None` (the test is
    /// skipped, see [`require_tool`]) when minisign or ssh-keygen is not
    /// installed.
    pub fn make(h: &Home) -> Option<Keys> {
        let dir = h.scratch("keys");
        fs::create_dir_all(&dir).expect("create the keys directory");
        if !require_tool(
            "minisign",
            &["-v"],
            "it makes the publisher's minisign keys and signatures",
        ) {
            return None;
        }
        for name in ["m", "t"] {
            let (public, secret) = (format!("{name}.pub"), format!("{name}.key"));
            tool(
                &dir,
                "minisign",
                &["-G", "-W", "-p", &public, "-s", &secret],
            );
        }
        // Making the SSH key is the probe: ssh-keygen has no option that
        // only says it works.
        let ssh = dir.join("s");
        if !require_tool(
            "ssh-keygen",
            &["-q", "-t", "ed25519", "-N", "", "-f", &path_text(&ssh)],
            "it makes the publisher's SSH key and signatures",
        ) {
            return None;
        }
        Some(Keys { dir })
    }

    /// The path of key file `file` (`m.key`, `s.pub`, ...).
    pub fn path(&self, file: &str) -> String {
        path_text(&self.dir.join(file))
    }

    /// `minisign:ID`, ID being what minisign wrote in `NAME.pub`'s comment
    /// ("untrusted comment: minisign public key ID"), in 16 digits: minisign
    /// 0.11 drops leading zeros there, later versions keep them.
    pub fn minisign_id(&self, name: &str) -> String {
        let text = self.read(&format!("{name}.pub"));
        let comment = text.lines().next().expect("a comment line");
        let id = comment
            .strip_prefix("untrusted comment: minisign public key ")
            .unwrap_or_else(|| panic!("{comment}"));
        format!("minisign:{id:0>16}")
    }

    /// The key line of `NAME.pub`: `RW...`.
    pub fn minisign_key(&self, name: &str) -> String {
        let text = self.read(&format!("{name}.pub"));
        text.lines().nth(1).expect("a key line").trim().to_string()
    }

    /// The fingerprint `ssh-keygen -l -f s.pub` prints: `SHA256:...`.
    pub fn ssh_fingerprint(&self) -> String {
        let out = tool(&self.dir, "ssh-keygen", &["-l", "-f", "s.pub"]);
        let text = stdout(&out);
        let fingerprint = text.split_whitespace().nth(1);
        fingerprint.expect("a fingerprint").to_string()
    }

    /// `ssh-ed25519 AAAA...`: `s.pub` without its comment.
    pub fn ssh_key(&self) -> String {
        let text = self.read("s.pub");
        let fields: Vec<&str> = text.split_whitespace().take(2).collect();
        fields.join(" ")
    }

    /// What `minisign -S` with key `NAME` writes for `payload`.
    pub fn minisign_over(&self, name: &str, payload: &[u8]) -> Vec<u8> {
        read_bytes(&self.minisign_file(name, payload))
    }

    /// The path of the file `minisign -S` with key `NAME` writes for
    /// `payload`, put in a file of its own.
    pub fn minisign_file(&self, name: &str, payload: &[u8]) -> String {
        let file = self.payload_file(payload);
        let key = format!("{name}.key");
        tool(
            &self.dir,
            "minisign",
            &["-S", "-s", &key, "-m", &path_text(&file)],
        );
        format!("{}.minisig", path_text(&file))
    }

    /// What `ssh-keygen -Y sign -n snapin-plugin` with key `s` writes for
    /// `payload`.
    pub fn ssh_over(&self, payload: &[u8]) -> Vec<u8> {
        read_bytes(&self.ssh_file(payload))
    }

    /// The path of the file `ssh-keygen -Y sign -n snapin-plugin` with key
    /// `s` writes for `payload`, put in a file of its own.
    pub fn ssh_file(&self, payload: &[u8]) -> String {
        let file = self.payload_file(payload);
        tool(
            &self.dir,
            "ssh-keygen",
            &[
                "-Y",
                "sign",
                "-f",
                "s",
                "-n",
                "snapin-plugin",
                &path_text(&file),
            ],
        );
        format!("{}.sig", path_text(&file))
    }

    /// `payload` in a new file of its own (its signatures go beside it).
    fn payload_file(&self, payload: &[u8]) -> PathBuf {
        let file = tempfile::Builder::new()
            .prefix("payload-")
            .suffix(".txt")
            .tempfile_in(&self.dir)
            .expect("create a payload file");
        fs::write(file.path(), payload).expect("write the payload");
        file.into_temp_path().keep().expect("keep the payload file")
    }

    /// The text of key file `file`.
    fn read(&self, file: &str) -> String {
        let path = self.dir.join(file);
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }
}

/// Runs `program ARGS` in `dir`, which must succeed.
fn tool(dir: &Path, program: &str, args: &[&str]) -> Output {
    let out = StdCommand::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    assert!(
        out.status.success(),
        "{program} {}: {}",
        args.join(" "),
        stderr(&out)
    );
    out
}

/// `path` as text, as the tools take it on their command lines.
fn path_text(path: &Path) -> String {
    path.to_str().expect("a UTF-8 path").to_string()
}

/// The bytes of the file at `path`.
fn read_bytes(path: &str) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

//! Signatures of registry plugins against a real registry (distribution
//! 2.8, which has no referrers API, so a version's signatures are listed
//! under its tag `sha256-HEX`), with keys and signatures made by the real
//! `minisign` and `ssh-keygen`: signing at publish and afterwards, the
//! signer pinned at install and held at upgrade, key rotation, trusted keys
//! and their prefixes, `require-signatures`, the lock, sync (also
//! `--frozen` with the registry stopped) and an exported layout; and
//! signatures that are forged, damaged or listed for another version, each
//! refused in one line with its fix, changing nothing.

#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Output, Stdio};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::registry::{Auth, Registry};
use crate::support::{Home, bin_dir, native_plugin, one_line, require_tool, stderr, stdout};

/// What a version's signature is, in its list of referrers.
const SIGNATURE_TYPE: &str = "application/vnd.snapin.plugin.signature.v1";
/// The layer of a minisign signature.
const MINISIGN_TYPE: &str = "application/vnd.snapin.signature.minisign.v1";
/// The layer of an SSH signature.
const SSHSIG_TYPE: &str = "application/vnd.snapin.signature.sshsig.v1";
/// The annotation of the layer that names the key.
const SIGNER: &str = "dev.snapin.signer";
const INDEX_TYPE: &str = "application/vnd.oci.image.index.v1+json";
const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
const EMPTY_TYPE: &str = "application/vnd.oci.empty.v1+json";

/// A publisher's keys, made with the real tools in a scratch directory:
/// `m.key`/`m.pub` (minisign), `s`/`s.pub` (OpenSSH ed25519), and
/// `t.key`/`t.pub`, a minisign key nobody vouches for.
struct Keys {
    dir: PathBuf,
}

impl Keys {
    /// `None` (the test is skipped, see [`require_tool`]) when minisign or
    /// ssh-keygen is not installed.
    fn make(h: &Home) -> Option<Keys> {
        let dir = h.scratch("keys");
        fs::create_dir_all(&dir).unwrap();
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
            &["-q", "-t", "ed25519", "-N", "", "-f", ssh.to_str().unwrap()],
            "it makes the publisher's SSH key and signatures",
        ) {
            return None;
        }
        Some(Keys { dir })
    }

    /// The path of key file `file`.
    fn path(&self, file: &str) -> String {
        self.dir.join(file).to_str().unwrap().to_string()
    }

    /// `minisign:ID`, ID being what minisign wrote in `NAME.pub`'s comment
    /// ("untrusted comment: minisign public key ID"), in 16 digits: minisign
    /// 0.11 drops leading zeros there, later versions keep them.
    fn minisign_id(&self, name: &str) -> String {
        let text = fs::read_to_string(self.dir.join(format!("{name}.pub"))).unwrap();
        let comment = text.lines().next().unwrap();
        let id = comment
            .strip_prefix("untrusted comment: minisign public key ")
            .unwrap_or_else(|| panic!("{comment}"));
        format!("minisign:{id:0>16}")
    }

    /// The key line of `NAME.pub`: `RW...`.
    fn minisign_key(&self, name: &str) -> String {
        let text = fs::read_to_string(self.dir.join(format!("{name}.pub"))).unwrap();
        text.lines().nth(1).unwrap().trim().to_string()
    }

    /// The fingerprint `ssh-keygen -l -f s.pub` prints: `SHA256:...`.
    fn ssh_fingerprint(&self) -> String {
        let out = tool(&self.dir, "ssh-keygen", &["-l", "-f", "s.pub"]);
        stdout(&out).split_whitespace().nth(1).unwrap().to_string()
    }

    /// `ssh-ed25519 AAAA...`: `s.pub` without its comment.
    fn ssh_key(&self) -> String {
        let text = fs::read_to_string(self.dir.join("s.pub")).unwrap();
        let fields: Vec<&str> = text.split_whitespace().take(2).collect();
        fields.join(" ")
    }

    /// What `minisign -S` with key `NAME` writes for `payload`.
    fn minisign_over(&self, name: &str, payload: &[u8]) -> Vec<u8> {
        let file = self.payload_file(payload);
        let key = format!("{name}.key");
        tool(
            &self.dir,
            "minisign",
            &["-S", "-s", &key, "-m", file.to_str().unwrap()],
        );
        fs::read(format!("{}.minisig", file.display())).unwrap()
    }

    /// What `ssh-keygen -Y sign -n snapin-plugin` with key `s` writes for
    /// `payload`.
    fn ssh_over(&self, payload: &[u8]) -> Vec<u8> {
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
                file.to_str().unwrap(),
            ],
        );
        fs::read(format!("{}.sig", file.display())).unwrap()
    }

    /// `payload` in a new file of its own (its signatures go beside it).
    fn payload_file(&self, payload: &[u8]) -> PathBuf {
        let file = tempfile::Builder::new()
            .prefix("payload-")
            .suffix(".txt")
            .tempfile_in(&self.dir)
            .unwrap();
        fs::write(file.path(), payload).unwrap();
        file.into_temp_path().keep().unwrap()
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

/// `mycli ARGS` in `h`, run to its end.
fn run(h: &Home, args: &[&str]) -> Output {
    h.mycli()
        .args(args)
        .env_remove("MYCLI_SIGNING_PASSWORD")
        .output()
        .expect("mycli runs")
}

/// `mycli ARGS` in `h`, which must succeed.
#[track_caller]
fn ok(h: &Home, args: &[&str]) -> Output {
    let out = run(h, args);
    assert!(
        out.status.success(),
        "mycli {} failed: {}",
        args.join(" "),
        stderr(&out)
    );
    out
}

/// Compiles plugin `name` `version` and publishes it to `repo`, signed
/// with key file `sign` when given; the output of publish.
fn publish(
    h: &Home,
    registry: &Registry,
    repo: &str,
    name: &str,
    version: &str,
    sign: Option<&str>,
) -> Output {
    let file = native_plugin(
        &h.scratch(&format!("{name}-{version}")),
        name,
        version,
        "^1.0",
    );
    let target = registry.oci(repo);
    let mut args = vec!["plugins", "publish", &target, file.to_str().unwrap()];
    if let Some(key) = sign {
        args.extend(["--sign", key]);
    }
    ok(h, &args)
}

/// Asserts that plugin `name` runs as version `version`.
#[track_caller]
fn assert_runs(h: &Home, name: &str, version: &str) {
    h.mycli()
        .arg(name)
        .assert()
        .success()
        .stdout(format!("{name} {version} ran\n"));
}

/// Asserts that `plugins list --json` and `plugins info` show plugin
/// `name` signed by key `key`, whose id is `id`.
#[track_caller]
fn assert_signer(h: &Home, name: &str, id: &str, key: &str) {
    assert_eq!(h.row(name)["signer"], json!({"id": id, "key": key}));
    let info = stdout(&ok(h, &["plugins", "info", name]));
    let line = info
        .lines()
        .find(|l| l.starts_with("signer:"))
        .unwrap_or_else(|| panic!("no signer line: {info}"));
    assert_eq!(line, format!("signer:       {id} ({key})"));
}

/// Asserts that `plugins info` says nothing shows who published `name`.
#[track_caller]
fn assert_unsigned(h: &Home, name: &str) {
    assert!(h.row(name)["signer"].is_null(), "{}", h.row(name));
    let info = stdout(&ok(h, &["plugins", "info", name]));
    assert!(
        info.lines()
            .any(|l| l == "signer:       none: nothing shows who published it"),
        "{info}"
    );
}

/// `sha256:HEX` of `bytes`.
fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// The first 12 hex digits of a digest, as messages show it.
fn short(digest: &str) -> &str {
    let hex = digest.strip_prefix("sha256:").unwrap();
    &hex[..12]
}

/// The tag that lists the referrers of `digest` where a registry has no
/// referrers API.
fn referrers_tag(digest: &str) -> String {
    digest.replace(':', "-")
}

/// Pushes a signature artifact as `plugins sign` writes one: the empty
/// config, one layer of `layer_type` holding `signature` and naming key
/// `signer`, and `subject`; returns its entry for a list of referrers.
fn push_signature(
    registry: &Registry,
    repo: &str,
    subject: &Value,
    layer_type: &str,
    signature: &[u8],
    signer: &str,
) -> Value {
    let empty = registry.push_blob(repo, b"{}");
    let layer = registry.push_blob(repo, signature);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "artifactType": SIGNATURE_TYPE,
        "config": {"mediaType": EMPTY_TYPE, "digest": empty, "size": 2},
        "layers": [{
            "mediaType": layer_type,
            "digest": layer,
            "size": signature.len(),
            "annotations": {SIGNER: signer},
        }],
        "subject": subject,
    }))
    .unwrap();
    let digest = registry.push_manifest(repo, &sha256(&manifest), MANIFEST_TYPE, &manifest);
    json!({
        "mediaType": MANIFEST_TYPE,
        "digest": digest,
        "size": manifest.len(),
        "artifactType": SIGNATURE_TYPE,
    })
}

/// Makes `entries` the whole list of referrers of `subject` (a digest),
/// under the tag `sha256-HEX`, as registries without a referrers API keep
/// it.
fn set_referrers(registry: &Registry, repo: &str, subject: &str, entries: &[Value]) {
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": INDEX_TYPE,
        "manifests": entries,
    }))
    .unwrap();
    registry.push_manifest(repo, &referrers_tag(subject), INDEX_TYPE, &index);
}

/// The manifest or index at `repo:reference` in `registry`, as JSON.
fn document(registry: &Registry, repo: &str, reference: &str) -> Value {
    let bytes = registry
        .manifest(repo, reference)
        .unwrap_or_else(|| panic!("no {repo}:{reference}"));
    serde_json::from_slice(&bytes).unwrap()
}

/// Every path under `dir` (files and directories), relative to it.
fn entries_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path.clone());
            }
            found.push(path.strip_prefix(dir).unwrap().to_path_buf());
        }
    }
    found.sort();
    found
}

/// What a refused command must leave as it found it: the index, the
/// installed files, and the blobs of the download cache.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    index: Option<String>,
    installed: Vec<PathBuf>,
    blobs: Vec<PathBuf>,
}

impl Snapshot {
    fn of(h: &Home) -> Snapshot {
        Snapshot {
            index: fs::read_to_string(h.index()).ok(),
            installed: entries_under(&h.home().join("installed")),
            blobs: entries_under(&h.home().join("cache/oci/blobs/sha256")),
        }
    }
}

/// Asserts that `out` is a refusal in one line with its fix, holding each
/// of `words`, that left `h` as `before` found it (nothing half-written in
/// the cache either); returns the line.
#[track_caller]
fn assert_refused(h: &Home, before: &Snapshot, out: &Output, words: &[&str]) -> String {
    assert!(
        !out.status.success(),
        "it succeeded: {}{}",
        stdout(out),
        stderr(out)
    );
    let line = one_line(&stderr(out));
    assert!(line.starts_with("mycli: error: "), "{line}");
    assert!(line.contains("; fix: "), "{line}");
    for word in words {
        assert!(
            line.contains(word),
            "the line does not say {word:?}: {line}"
        );
    }
    assert_eq!(&Snapshot::of(h), before, "the home changed: {line}");
    let partial: Vec<PathBuf> = entries_under(&h.home().join("cache/oci"))
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(".partial-"))
        .collect();
    assert!(partial.is_empty(), "half-written: {partial:?} ({line})");
    line
}

/// Runs the last `mycli ...` command a message's fix quotes in backticks
/// through `sh`, pasted as written (quotes and all), with this build's
/// `mycli` first on PATH and `h` as its home.
fn paste_fix(h: &Home, message: &str) -> Output {
    let (_, fix) = message.rsplit_once("; fix: ").expect("a fix");
    let command = fix
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|q| q.starts_with("mycli "))
        .last()
        .unwrap_or_else(|| panic!("no `mycli ...` command in {message:?}"));
    let path = std::env::var("PATH").unwrap_or_default();
    StdCommand::new("sh")
        .args(["-c", command])
        .env("PATH", format!("{}:{path}", bin_dir().display()))
        .env("MYCLI_HOME", h.home())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn the_first_signer_is_pinned_and_a_new_key_needs_the_old_ones_signature_or_rotation() {
    let Some(registry) = Registry::start(Auth::Anonymous) else {
        return;
    };
    let h = Home::new();
    let Some(keys) = Keys::make(&h) else {
        return;
    };
    let repo = registry.oci("acme/hello");
    let (m, s, t) = (keys.path("m.key"), keys.path("s"), keys.path("t.key"));
    let (m_id, s_id) = (keys.minisign_id("m"), keys.ssh_fingerprint());
    let upgrade = ["plugins", "upgrade", "hello", "--yes"];

    // Signed at publish with the minisign key, under the id minisign
    // gives it; installed, its signer is pinned, with a warning.
    let out = publish(&h, &registry, "acme/hello", "hello", "0.1.0", Some(&m));
    assert!(
        stdout(&out).contains(&format!("signed it with {m_id}")),
        "{}",
        stdout(&out)
    );
    let out = ok(&h, &["plugins", "install", &repo, "--yes"]);
    assert!(
        stderr(&out).contains(&format!(
            "warning: plugin 'hello' is signed by {m_id}, a key you have not trusted: it is pinned now"
        )),
        "{}",
        stderr(&out)
    );
    assert_runs(&h, "hello", "0.1.0");
    assert_signer(&h, "hello", &m_id, &keys.minisign_key("m"));

    // 0.2.0 signed by the SSH key only: refused, naming both keys.
    publish(&h, &registry, "acme/hello", "hello", "0.2.0", Some(&s));
    let before = Snapshot::of(&h);
    let out = run(&h, &upgrade);
    assert_refused(
        &h,
        &before,
        &out,
        &[&format!(
            "cannot upgrade plugin 'hello' to 0.2.0: it is signed by {s_id}, but plugin 'hello' was signed by {m_id} when it was installed"
        )],
    );
    assert_runs(&h, "hello", "0.1.0");
    // Signed by the pinned key as well, it goes through.
    let out = ok(
        &h,
        &["plugins", "sign", &format!("{repo}:0.2.0"), "--key", &m],
    );
    assert!(
        stdout(&out).starts_with("signed plugin 'hello' 0.2.0 (")
            && stdout(&out).contains(&format!(") with {m_id}")),
        "{}",
        stdout(&out)
    );
    ok(&h, &upgrade);
    assert_runs(&h, "hello", "0.2.0");
    assert_signer(&h, "hello", &m_id, &keys.minisign_key("m"));

    // 0.3.0 by the SSH key, with a rotation statement signed by a key
    // that is not the pinned one: refused, saying so.
    publish(&h, &registry, "acme/hello", "hello", "0.3.0", Some(&s));
    let at = format!("{repo}:0.3.0");
    ok(
        &h,
        &["plugins", "sign", &at, "--key", &s, "--rotate-from", &t],
    );
    let before = Snapshot::of(&h);
    let out = run(&h, &upgrade);
    assert_refused(
        &h,
        &before,
        &out,
        &[&format!(
            "it is signed by {s_id}, but plugin 'hello' was signed by {m_id} when it was installed (its key rotation statement is not signed by {m_id})"
        )],
    );
    assert_runs(&h, "hello", "0.2.0");
    // A statement by the pinned key: accepted with a warning, and the SSH
    // key, under the fingerprint ssh-keygen gives it, is the signer now.
    let out = ok(
        &h,
        &["plugins", "sign", &at, "--key", &s, "--rotate-from", &m],
    );
    assert!(
        stdout(&out).contains(&format!(
            "attached a statement by {m_id} that {s_id} replaces it"
        )),
        "{}",
        stdout(&out)
    );
    let out = ok(&h, &upgrade);
    assert!(
        stderr(&out).contains(&format!(
            "warning: plugin 'hello' is now signed by {s_id}: {m_id} rotated to it in a signed statement"
        )),
        "{}",
        stderr(&out)
    );
    assert_runs(&h, "hello", "0.3.0");
    assert_signer(&h, "hello", &s_id, &keys.ssh_key());

    // An unsigned 0.4.0 after that: refused. The fix, run as written,
    // removes the plugin; installed again, it is unsigned, with a warning.
    publish(&h, &registry, "acme/hello", "hello", "0.4.0", None);
    let before = Snapshot::of(&h);
    let out = run(&h, &upgrade);
    let line = assert_refused(
        &h,
        &before,
        &out,
        &[&format!(
            "cannot upgrade plugin 'hello' to 0.4.0: it is not signed, but plugin 'hello' was signed by {s_id} when it was installed"
        )],
    );
    assert_runs(&h, "hello", "0.3.0");
    h.fix_command(&line).assert().success();
    let out = ok(&h, &["plugins", "install", &repo, "--yes"]);
    assert!(
        stderr(&out).contains(
            "warning: plugin 'hello' 0.4.0 is not signed: nothing shows who published it"
        ),
        "{}",
        stderr(&out)
    );
    assert_runs(&h, "hello", "0.4.0");
    assert_unsigned(&h, "hello");
}

#[test]
fn signatures_made_by_minisign_and_ssh_keygen_attach_and_a_key_vouches_only_under_its_prefix() {
    let Some(registry) = Registry::start(Auth::Anonymous) else {
        return;
    };
    let h = Home::new();
    let Some(keys) = Keys::make(&h) else {
        return;
    };
    let dir = &keys.dir;
    let repo = registry.oci("acme/tool");
    let version = format!("{repo}:1.0.0");
    let (m_id, s_id) = (keys.minisign_id("m"), keys.ssh_fingerprint());
    publish(&h, &registry, "acme/tool", "tool", "1.0.0", None);
    let digest = sha256(&registry.manifest("acme/tool", "1.0.0").unwrap());

    // What to sign names the plugin, its version and its index.
    let payload = ok(&h, &["plugins", "sign", &version, "--payload"]).stdout;
    assert_eq!(
        String::from_utf8(payload.clone()).unwrap(),
        format!("snapin-plugin-signature v1\nname tool\nversion 1.0.0\nindex {digest}\n")
    );
    fs::write(dir.join("p"), &payload).unwrap();

    // A signature of other bytes is refused, and nothing is attached; the
    // fix, run as written, prints what to sign.
    fs::write(dir.join("q"), "something else\n").unwrap();
    tool(dir, "minisign", &["-S", "-s", "m.key", "-m", "q"]);
    let out = run(
        &h,
        &[
            "plugins",
            "sign",
            &version,
            "--signature",
            &keys.path("q.minisig"),
            "--signer",
            &keys.path("m.pub"),
        ],
    );
    assert!(!out.status.success());
    let line = one_line(&stderr(&out));
    assert!(
        line.contains(&format!(
            "cannot sign {version}: the signature is not valid for 'tool' 1.0.0 ({repo}@sha256:{})",
            short(&digest)
        )),
        "{line}"
    );
    assert!(
        registry
            .manifest("acme/tool", &referrers_tag(&digest))
            .is_none(),
        "something was attached"
    );
    let shown = h.fix_command(&line).output().unwrap();
    assert_eq!(shown.stdout, payload, "{line}");

    // minisign's and ssh-keygen's signatures of it are attached, each
    // under the id its tool gives the key.
    tool(dir, "minisign", &["-S", "-s", "m.key", "-m", "p"]);
    let out = ok(
        &h,
        &[
            "plugins",
            "sign",
            &version,
            "--signature",
            &keys.path("p.minisig"),
            "--signer",
            &keys.path("m.pub"),
        ],
    );
    assert!(
        stdout(&out).contains(&format!("with {m_id}")),
        "{}",
        stdout(&out)
    );
    tool(
        dir,
        "ssh-keygen",
        &["-Y", "sign", "-f", "s", "-n", "snapin-plugin", "p"],
    );
    let out = ok(
        &h,
        &[
            "plugins",
            "sign",
            &version,
            "--signature",
            &keys.path("p.sig"),
            "--signer",
            &keys.path("s.pub"),
        ],
    );
    assert!(
        stdout(&out).contains(&format!("with {s_id}")),
        "{}",
        stdout(&out)
    );
    let listed = document(&registry, "acme/tool", &referrers_tag(&digest));
    let listed = listed["manifests"].as_array().unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(listed.iter().all(|d| d["artifactType"] == SIGNATURE_TYPE));

    // Trusted for all of acme/, the SSH key vouches for acme/tool.
    let user = Home::new();
    let acme = format!("oci://{}/acme/", registry.addr());
    ok(
        &user,
        &[
            "plugins",
            "trust",
            "add",
            &keys.path("s.pub"),
            "--for",
            &acme,
        ],
    );
    let trusted: Value =
        serde_json::from_slice(&ok(&user, &["plugins", "trust", "list", "--json"]).stdout).unwrap();
    assert_eq!(
        trusted,
        json!([{"id": s_id, "key": keys.ssh_key(), "for": acme}])
    );
    let install = ["plugins", "install", &repo, "--require-signatures", "--yes"];
    ok(&user, &install);
    assert_runs(&user, "tool", "1.0.0");
    assert_signer(&user, "tool", &s_id, &keys.ssh_key());
    // Trusted no more, it vouches for nothing.
    ok(&user, &["plugins", "remove", "tool"]);
    ok(&user, &["plugins", "trust", "remove", &s_id]);
    let trusted = ok(&user, &["plugins", "trust", "list", "--json"]).stdout;
    assert_eq!(
        serde_json::from_slice::<Value>(&trusted).unwrap(),
        json!([])
    );
    let before = Snapshot::of(&user);
    let out = run(&user, &install);
    assert_refused(&user, &before, &out, &["signatures are required"]);

    // Trusted only for other/, it vouches for nothing here: refused. The
    // fix, pasted into a shell as written, trusts it here too, and the
    // install then works.
    let user = Home::new();
    let other = format!("oci://{}/other/", registry.addr());
    ok(
        &user,
        &[
            "plugins",
            "trust",
            "add",
            &keys.path("s.pub"),
            "--for",
            &other,
        ],
    );
    let before = Snapshot::of(&user);
    let out = run(&user, &install);
    let line = assert_refused(
        &user,
        &before,
        &out,
        &[
            &format!("cannot install {repo}: it is signed by "),
            &format!("not trusted for {repo} ({s_id} is trusted only for {other})"),
            "signatures are required",
        ],
    );
    assert!(line.contains(&m_id), "both signers are named: {line}");
    let pasted = paste_fix(&user, &line);
    assert!(pasted.status.success(), "{line}: {}", stderr(&pasted));
    ok(&user, &install);
    assert_runs(&user, "tool", "1.0.0");
    assert_signer(&user, "tool", &s_id, &keys.ssh_key());
}

#[test]
fn an_unsigned_plugin_is_refused_where_signatures_are_required_and_installs_with_a_warning_elsewhere()
 {
    let Some(registry) = Registry::start(Auth::Anonymous) else {
        return;
    };
    let work = Home::new();
    publish(&work, &registry, "acme/x", "x", "0.1.0", None);
    let repo = registry.oci("acme/x");
    let refusal = format!("cannot install {repo}: it is not signed, and signatures are required");

    let h = Home::new();
    let before = Snapshot::of(&h);
    let out = run(
        &h,
        &["plugins", "install", &repo, "--require-signatures", "--yes"],
    );
    assert_refused(&h, &before, &out, &[&refusal]);

    // The same from the config file, whose fix names it.
    let config = h.home().join("config/config.toml");
    fs::create_dir_all(config.parent().unwrap()).unwrap();
    fs::write(&config, "[registry]\nrequire-signatures = true\n").unwrap();
    let before = Snapshot::of(&h);
    let out = run(&h, &["plugins", "install", &repo, "--yes"]);
    let line = assert_refused(&h, &before, &out, &[&refusal]);
    assert!(
        line.contains(&format!(
            "set require-signatures = false under [registry] in {}",
            config.display()
        )),
        "{line}"
    );

    // Done as it says, the install works, warning that nothing shows who
    // published it.
    fs::write(&config, "[registry]\nrequire-signatures = false\n").unwrap();
    let out = ok(&h, &["plugins", "install", &repo, "--yes"]);
    assert!(
        stderr(&out).contains(
            "mycli: warning: plugin 'x' 0.1.0 is not signed: nothing shows who published it"
        ),
        "{}",
        stderr(&out)
    );
    assert_runs(&h, "x", "0.1.0");
    assert_unsigned(&h, "x");
}

#[test]
fn the_lock_keeps_the_signer_and_sync_checks_it_online_frozen_and_from_an_exported_layout() {
    let Some(mut registry) = Registry::start(Auth::Anonymous) else {
        return;
    };
    let h = Home::new();
    let Some(keys) = Keys::make(&h) else {
        return;
    };
    let (s_id, s_key) = (keys.ssh_fingerprint(), keys.ssh_key());
    let repo = registry.oci("acme/x");
    publish(&h, &registry, "acme/x", "x", "1.0.0", Some(&keys.path("s")));
    ok(&h, &["plugins", "install", &repo, "--yes"]);

    // The index records the signer and the signature, an OCI artifact
    // whose subject is the version and whose layer names the key.
    let index: Value = serde_json::from_str(&fs::read_to_string(h.index()).unwrap()).unwrap();
    let origin = &index["plugins"][0]["origin"];
    assert_eq!(origin["signer"], json!({"id": s_id, "key": s_key}));
    let signature = origin["signature"].as_str().unwrap().to_string();
    let artifact = document(&registry, "acme/x", &signature);
    assert_eq!(artifact["artifactType"], SIGNATURE_TYPE);
    assert_eq!(artifact["subject"]["digest"], origin["digest"]);
    assert_eq!(artifact["config"]["mediaType"], EMPTY_TYPE);
    assert_eq!(artifact["layers"][0]["mediaType"], SSHSIG_TYPE);
    assert_eq!(artifact["layers"][0]["annotations"][SIGNER], s_key);

    // The lock records them too.
    let lock = h.scratch("mycli-plugins.lock");
    let file = lock.to_str().unwrap();
    ok(&h, &["plugins", "lock", "--file", file]);
    let text = fs::read_to_string(&lock).unwrap();
    let parsed: toml::Table = toml::from_str(&text).unwrap();
    let locked = &parsed["plugin"].as_array().unwrap()[0];
    assert_eq!(locked["signature"].as_str(), Some(signature.as_str()));
    assert_eq!(
        locked["signer"]["id"].as_str(),
        Some(s_id.as_str()),
        "{text}"
    );
    assert_eq!(locked["signer"]["key"].as_str(), Some(s_key.as_str()));

    // The lock exported to a layout takes the signature with it.
    let layout = h.scratch("layout");
    let out = ok(
        &h,
        &[
            "plugins",
            "export",
            "--layout",
            layout.to_str().unwrap(),
            "--file",
            file,
        ],
    );
    assert!(
        stdout(&out).starts_with("exported 1 plugin to ")
            && stdout(&out).contains("(x:1.0.0), with its signature"),
        "{}",
        stdout(&out)
    );

    // A fresh home syncs it, the signer checked against the lock's.
    let fresh = Home::new();
    ok(&fresh, &["plugins", "sync", "--file", file, "--yes"]);
    assert_runs(&fresh, "x", "1.0.0");
    assert_signer(&fresh, "x", &s_id, &s_key);

    // With the registry stopped, sync --frozen checks it from the cache:
    // against a lock whose signer was changed, it refuses; against the
    // lock, it installs.
    registry.stop();
    ok(&fresh, &["plugins", "remove", "x"]);
    let m_id = keys.minisign_id("m");
    let edited = h.scratch("edited.lock");
    fs::write(
        &edited,
        text.replace(&s_key, &keys.minisign_key("m"))
            .replace(&s_id, &m_id),
    )
    .unwrap();
    let before = Snapshot::of(&fresh);
    let out = run(
        &fresh,
        &[
            "plugins",
            "sync",
            "--frozen",
            "--file",
            edited.to_str().unwrap(),
            "--yes",
        ],
    );
    let line = assert_refused(
        &fresh,
        &before,
        &out,
        &[&format!(
            "cannot sync plugin 'x' 1.0.0: it is signed by {s_id}, but the lock file says plugin 'x' is signed by {m_id}"
        )],
    );
    assert!(line.contains("`mycli plugins lock`"), "{line}");
    ok(
        &fresh,
        &["plugins", "sync", "--frozen", "--file", file, "--yes"],
    );
    assert_runs(&fresh, "x", "1.0.0");
    assert_signer(&fresh, "x", &s_id, &s_key);

    // Another fresh home syncs from the layout alone.
    let offline = Home::new();
    let from = format!("oci-layout://{}", layout.display());
    ok(
        &offline,
        &[
            "plugins", "sync", "--frozen", "--from", &from, "--file", file, "--yes",
        ],
    );
    assert_runs(&offline, "x", "1.0.0");
    assert_signer(&offline, "x", &s_id, &s_key);
}

#[test]
fn forged_damaged_and_misplaced_signatures_are_refused_and_change_nothing() {
    let Some(registry) = Registry::start(Auth::Anonymous) else {
        return;
    };
    let work = Home::new();
    let Some(keys) = Keys::make(&work) else {
        return;
    };
    let repo = registry.oci("acme/x");
    let version = format!("{repo}:0.2.0");
    publish(
        &work,
        &registry,
        "acme/x",
        "x",
        "0.1.0",
        Some(&keys.path("m.key")),
    );
    publish(&work, &registry, "acme/x", "x", "0.2.0", None);
    let payload = |tag: &str| {
        ok(
            &work,
            &["plugins", "sign", &format!("{repo}:{tag}"), "--payload"],
        )
        .stdout
    };
    let (p1, p2) = (payload("0.1.0"), payload("0.2.0"));
    let v1 = sha256(&registry.manifest("acme/x", "0.1.0").unwrap());
    let index = registry.manifest("acme/x", "0.2.0").unwrap();
    let v2 = sha256(&index);
    let subject = json!({"mediaType": INDEX_TYPE, "digest": v2, "size": index.len()});
    // 0.2.0's payload with one line changed.
    let changed = |from: &str, to: &str| {
        let text = String::from_utf8(p2.clone()).unwrap();
        assert!(text.contains(from), "{text}");
        text.replace(from, to).into_bytes()
    };
    let (m_key, m_id) = (keys.minisign_key("m"), keys.minisign_id("m"));
    let (s_key, s_id) = (keys.ssh_key(), keys.ssh_fingerprint());
    let sign = |layer: &str, signature: &[u8], key: &str| {
        push_signature(&registry, "acme/x", &subject, layer, signature, key)
    };
    let by_m = |payload: &[u8]| sign(MINISIGN_TYPE, &keys.minisign_over("m", payload), &m_key);
    // The signature publish attached to 0.1.0, as its list holds it.
    let listed = document(&registry, "acme/x", &referrers_tag(&v1));
    let signature_of_v1 = listed["manifests"][0].clone();
    let whole = keys.minisign_over("m", &p2);

    let invalid_by_m = format!("its signature by {m_id} is not valid for 'x' 0.2.0");
    let invalid_by_s = format!("its signature by {s_id} is not valid for 'x' 0.2.0");
    let misplaced = format!("is listed for {} but signs {}", short(&v2), short(&v1));
    let cases: Vec<(&str, Value, &str)> = vec![
        ("0.1.0's payload", by_m(&p1), &invalid_by_m),
        (
            "another name",
            by_m(&changed("name x\n", "name y\n")),
            &invalid_by_m,
        ),
        (
            "another version",
            sign(
                SSHSIG_TYPE,
                &keys.ssh_over(&changed("version 0.2.0\n", "version 0.2.1\n")),
                &s_key,
            ),
            &invalid_by_s,
        ),
        ("another digest", by_m(&changed(&v2, &v1)), &invalid_by_m),
        (
            "a truncated signature",
            sign(MINISIGN_TYPE, &whole[..whole.len() / 2], &m_key),
            "is unreadable",
        ),
        (
            "garbage",
            sign(MINISIGN_TYPE, b"\x00\xffnot a signature", &m_key),
            "is unreadable",
        ),
        ("0.1.0's signature", signature_of_v1, &misplaced),
    ];
    let h = Home::new();
    for (what, entry, words) in cases {
        set_referrers(&registry, "acme/x", &v2, &[entry]);
        let before = Snapshot::of(&h);
        let out = run(&h, &["plugins", "install", &version, "--yes"]);
        let line = assert_refused(
            &h,
            &before,
            &out,
            &[&format!("cannot install {version}: "), words],
        );
        assert!(
            line.contains("fix: do not use this version; tell its publisher"),
            "{what}: {line}"
        );
    }

    // A good signature by a key nobody vouches for, where signatures are
    // required.
    let t_key = keys.minisign_key("t");
    let by_t = sign(MINISIGN_TYPE, &keys.minisign_over("t", &p2), &t_key);
    set_referrers(&registry, "acme/x", &v2, &[by_t]);
    let before = Snapshot::of(&h);
    let out = run(
        &h,
        &[
            "plugins",
            "install",
            &version,
            "--require-signatures",
            "--yes",
        ],
    );
    assert_refused(
        &h,
        &before,
        &out,
        &[&format!(
            "it is signed by {}, a key you have not trusted for {repo}, and signatures are required",
            keys.minisign_id("t")
        )],
    );

    // The publisher's own signature of 0.2.0, listed the same way, is
    // taken: what was refused above was the signatures.
    set_referrers(
        &registry,
        "acme/x",
        &v2,
        &[sign(MINISIGN_TYPE, &whole, &m_key)],
    );
    ok(&h, &["plugins", "install", &version, "--yes"]);
    assert_runs(&h, "x", "0.2.0");
    assert_signer(&h, "x", &m_id, &m_key);
}

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

use serde_json::{Value, json};

use crate::registry::{Auth, Registry};
use crate::registry_home::{
    assert_runs, fix_command, ok, ok_output, publish, refused, registry_and_keys, run,
};
use crate::support::{Home, one_line, sha256, stderr, stdout};

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

/// Asserts that `plugins list --json` and `plugins info` show plugin
/// `name` signed by key `key`, whose id is `id`.
#[track_caller]
fn assert_signer(h: &Home, name: &str, id: &str, key: &str) {
    assert_eq!(h.row(name)["signer"], json!({"id": id, "key": key}));
    let info = ok(h, &["plugins", "info", name]);
    let line = info
        .lines()
        .find(|l| l.starts_with("signer:"))
        .unwrap_or_else(|| panic!("no signer line: {info}"));
    assert_eq!(line, format!("signer:       {id} ({key})"));
}

/// Installs `source` in `h`, which must warn that plugin `name` `version`
/// is not signed; asserts that it runs, and that `plugins list --json` and
/// `plugins info` say nothing shows who published it.
#[track_caller]
fn assert_installs_unsigned(h: &Home, source: &str, name: &str, version: &str) {
    let out = ok_output(h, &["plugins", "install", source, "--yes"]);
    let warning = format!(
        "mycli: warning: plugin '{name}' {version} is not signed: nothing shows who published it"
    );
    assert!(stderr(&out).contains(&warning), "{}", stderr(&out));
    assert_runs(h, name, version);
    assert!(h.row(name)["signer"].is_null(), "{}", h.row(name));
    let info = ok(h, &["plugins", "info", name]);
    assert!(
        info.lines()
            .any(|l| l == "signer:       none: nothing shows who published it"),
        "{info}"
    );
}

/// The keys `mycli plugins trust list --json` in `h` lists.
fn trust_list_json(h: &Home) -> Value {
    serde_json::from_str(&ok(h, &["plugins", "trust", "list", "--json"])).unwrap()
}

/// The arguments of `mycli plugins sign VERSION --signature FILE --signer
/// KEY`: attach the signature in FILE, made with KEY, to VERSION.
fn attach<'a>(version: &'a str, signature: &'a str, signer: &'a str) -> [&'a str; 7] {
    [
        "plugins",
        "sign",
        version,
        "--signature",
        signature,
        "--signer",
        signer,
    ]
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

#[test]
fn the_first_signer_is_pinned_and_a_new_key_needs_the_old_ones_signature_or_rotation() {
    let h = Home::new();
    let Some((registry, keys)) = registry_and_keys(&h) else {
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
    let out = ok_output(&h, &["plugins", "install", &repo, "--yes"]);
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
    refused(
        &h,
        &upgrade,
        &[&format!(
            "cannot upgrade plugin 'hello' to 0.2.0: it is signed by {s_id}, but plugin 'hello' was signed by {m_id} when it was installed"
        )],
    );
    assert_runs(&h, "hello", "0.1.0");
    // Signed by the pinned key as well, it goes through.
    let said = ok(
        &h,
        &["plugins", "sign", &format!("{repo}:0.2.0"), "--key", &m],
    );
    assert!(
        said.starts_with("signed plugin 'hello' 0.2.0 (")
            && said.contains(&format!(") with {m_id}")),
        "{said}"
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
    refused(
        &h,
        &upgrade,
        &[&format!(
            "it is signed by {s_id}, but plugin 'hello' was signed by {m_id} when it was installed (its key rotation statement is not signed by {m_id})"
        )],
    );
    assert_runs(&h, "hello", "0.2.0");
    // A statement by the pinned key: accepted with a warning, and the SSH
    // key, under the fingerprint ssh-keygen gives it, is the signer now.
    let said = ok(
        &h,
        &["plugins", "sign", &at, "--key", &s, "--rotate-from", &m],
    );
    assert!(
        said.contains(&format!(
            "attached a statement by {m_id} that {s_id} replaces it"
        )),
        "{said}"
    );
    let out = ok_output(&h, &upgrade);
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
    let line = refused(
        &h,
        &upgrade,
        &[&format!(
            "cannot upgrade plugin 'hello' to 0.4.0: it is not signed, but plugin 'hello' was signed by {s_id} when it was installed"
        )],
    );
    assert_runs(&h, "hello", "0.3.0");
    fix_command(&h, &line).assert().success();
    assert_installs_unsigned(&h, &repo, "hello", "0.4.0");
}

#[test]
fn signatures_made_by_minisign_and_ssh_keygen_attach_and_a_key_vouches_only_under_its_prefix() {
    let h = Home::new();
    let Some((registry, keys)) = registry_and_keys(&h) else {
        return;
    };
    let repo = registry.oci("acme/tool");
    let version = format!("{repo}:1.0.0");
    let (m_id, s_id) = (keys.minisign_id("m"), keys.ssh_fingerprint());
    publish(&h, &registry, "acme/tool", "tool", "1.0.0", None);
    let digest = sha256(&registry.manifest("acme/tool", "1.0.0").unwrap());

    // What to sign names the plugin, its version and its index.
    let payload = ok_output(&h, &["plugins", "sign", &version, "--payload"]).stdout;
    assert_eq!(
        String::from_utf8(payload.clone()).unwrap(),
        format!("snapin-plugin-signature v1\nname tool\nversion 1.0.0\nindex {digest}\n")
    );

    // A signature of other bytes is refused, and nothing is attached; the
    // fix, run as written, prints what to sign.
    let other = keys.minisign_file("m", b"something else\n");
    let out = run(&h, &attach(&version, &other, &keys.path("m.pub")));
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
    let shown = fix_command(&h, &line).output().unwrap();
    assert_eq!(shown.stdout, payload, "{line}");

    // minisign's and ssh-keygen's signatures of it are attached, each
    // under the id its tool gives the key.
    let by_m = keys.minisign_file("m", &payload);
    let said = ok(&h, &attach(&version, &by_m, &keys.path("m.pub")));
    assert!(said.contains(&format!("with {m_id}")), "{said}");
    let by_s = keys.ssh_file(&payload);
    let said = ok(&h, &attach(&version, &by_s, &keys.path("s.pub")));
    assert!(said.contains(&format!("with {s_id}")), "{said}");
    let listed = document(&registry, "acme/tool", &referrers_tag(&digest));
    let listed = listed["manifests"].as_array().unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(listed.iter().all(|d| d["artifactType"] == SIGNATURE_TYPE));

    // Trusted for all of acme/, the SSH key vouches for acme/tool.
    let s_pub = keys.path("s.pub");
    let user = Home::new();
    let acme = format!("oci://{}/acme/", registry.addr());
    ok(&user, &["plugins", "trust", "add", &s_pub, "--for", &acme]);
    assert_eq!(
        trust_list_json(&user),
        json!([{"id": s_id, "key": keys.ssh_key(), "for": acme}])
    );
    let install = ["plugins", "install", &repo, "--require-signatures", "--yes"];
    ok(&user, &install);
    assert_runs(&user, "tool", "1.0.0");
    assert_signer(&user, "tool", &s_id, &keys.ssh_key());
    // Trusted no more, it vouches for nothing.
    ok(&user, &["plugins", "remove", "tool"]);
    ok(&user, &["plugins", "trust", "remove", &s_id]);
    assert_eq!(trust_list_json(&user), json!([]));
    refused(&user, &install, &["signatures are required"]);

    // Trusted only for other/, it vouches for nothing here: refused. The
    // fix, pasted into a shell as written, trusts it here too, and the
    // install then works.
    let user = Home::new();
    let other = format!("oci://{}/other/", registry.addr());
    ok(&user, &["plugins", "trust", "add", &s_pub, "--for", &other]);
    let line = refused(
        &user,
        &install,
        &[
            &format!("cannot install {repo}: it is signed by "),
            &format!("not trusted for {repo} ({s_id} is trusted only for {other})"),
            "signatures are required",
        ],
    );
    assert!(line.contains(&m_id), "both signers are named: {line}");
    let pasted = user.paste_fix(&line);
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
    refused(
        &h,
        &["plugins", "install", &repo, "--require-signatures", "--yes"],
        &[&refusal],
    );

    // The same from the config file, whose fix names it.
    let config = h.home().join("config/config.toml");
    fs::create_dir_all(config.parent().unwrap()).unwrap();
    fs::write(&config, "[registry]\nrequire-signatures = true\n").unwrap();
    let line = refused(&h, &["plugins", "install", &repo, "--yes"], &[&refusal]);
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
    assert_installs_unsigned(&h, &repo, "x", "0.1.0");
}

#[test]
fn the_lock_keeps_the_signer_and_sync_checks_it_online_frozen_and_from_an_exported_layout() {
    let h = Home::new();
    let Some((mut registry, keys)) = registry_and_keys(&h) else {
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
    let said = ok(
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
        said.starts_with("exported 1 plugin to ") && said.contains("(x:1.0.0), with its signature"),
        "{said}"
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
    let line = refused(
        &fresh,
        &[
            "plugins",
            "sync",
            "--frozen",
            "--file",
            edited.to_str().unwrap(),
            "--yes",
        ],
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
    let work = Home::new();
    let Some((registry, keys)) = registry_and_keys(&work) else {
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
        ok_output(
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
        let line = refused(
            &h,
            &["plugins", "install", &version, "--yes"],
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
    refused(
        &h,
        &[
            "plugins",
            "install",
            &version,
            "--require-signatures",
            "--yes",
        ],
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

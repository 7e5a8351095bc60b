//! Plugins shipped through a real OCI registry (Debian's docker-registry,
//! distribution 2.8) and read back by skopeo: publish, install with no tag,
//! outdated, upgrade, lock, sync in a fresh home, sync --frozen with the
//! registry stopped, export to a layout, and a component pushed by another
//! tool in the CNCF wasm layout.

#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::Path;
use std::process::Command as StdCommand;

use serde_json::{Value, json};

use crate::registry::{Auth, Registry};
use crate::registry_home::ok;
use crate::support::{
    Home, native_plugin, one_line, other_machine_copy, require_tool, sha256, stderr, stdout,
    wasm_example,
};

fn skopeo() -> bool {
    require_tool("skopeo", &["--version"], "it reads what was pushed")
}

/// `skopeo inspect --raw` of `reference` (docker://...), as JSON.
fn inspect_raw(registry: &Registry, reference: &str) -> Value {
    let out = StdCommand::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{}/{reference}", registry.addr()))
        .output()
        .expect("skopeo runs");
    assert!(out.status.success(), "skopeo: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("skopeo prints JSON")
}

#[test]
fn publish_install_outdated_upgrade_lock_and_sync_through_a_real_registry() {
    let Some(mut registry) = Registry::start(Auth::Anonymous) else {
        return;
    };
    if !skopeo() {
        return;
    }
    let home = Home::new();
    let builds = home.scratch("builds");
    let v1 = native_plugin(&builds.join("v1"), "hello", "0.1.0", "^1.0");
    let v2 = native_plugin(&builds.join("v2"), "hello", "0.2.0", "^1.0");
    let other = builds.join("v2-other/mycli-hello");
    other_machine_copy(&v2, &other);
    let repo = registry.oci("acme/hello");

    // Version 1, then install with no tag: the newest compatible.
    let out = ok(&home, &["plugins", "publish", &repo, v1.to_str().unwrap()]);
    assert!(out.contains("published plugin 'hello' 0.1.0"), "{out}");
    ok(&home, &["plugins", "install", &repo, "--yes"]);
    assert_eq!(ok(&home, &["hello"]).trim(), "hello 0.1.0 ran");
    let row = home.row("hello");
    let origin = row["origin"].as_str().unwrap();
    assert!(
        origin.starts_with(&format!("{repo}:0.1.0@sha256:")),
        "{origin}"
    );
    let info = ok(&home, &["plugins", "info", "hello"]);
    assert!(info.contains(&format!("{repo}:0.1.0@sha256:")), "{info}");

    // Version 2 for two platforms, with an annotation; skopeo reads it.
    let source = "org.opencontainers.image.source=https://example.com/hello";
    let out = ok(
        &home,
        &[
            "plugins",
            "publish",
            &repo,
            v2.to_str().unwrap(),
            other.to_str().unwrap(),
            "--annotation",
            source,
        ],
    );
    assert!(out.contains("published plugin 'hello' 0.2.0"), "{out}");
    let index = inspect_raw(&registry, "acme/hello:0.2.0");
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    assert_eq!(
        index["annotations"]["org.opencontainers.image.version"],
        "0.2.0"
    );
    assert_eq!(
        index["annotations"]["org.opencontainers.image.title"],
        "hello"
    );
    assert_eq!(
        index["annotations"]["org.opencontainers.image.source"],
        "https://example.com/hello"
    );
    assert!(index["annotations"]["org.opencontainers.image.created"].is_string());
    let platforms: Vec<String> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{}/{}",
                m["platform"]["os"].as_str().unwrap(),
                m["platform"]["architecture"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(platforms.len(), 2, "{platforms:?}");
    assert!(
        platforms.contains(&"linux/amd64".to_string())
            || platforms.contains(&"linux/arm64".to_string())
    );
    let manifest_digest = index["manifests"][0]["digest"].as_str().unwrap();
    let manifest = inspect_raw(&registry, &format!("acme/hello@{manifest_digest}"));
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.snapin.plugin.config.v1+json"
    );
    assert_eq!(manifest["layers"].as_array().unwrap().len(), 1);
    assert_eq!(
        manifest["layers"][0]["annotations"]["org.opencontainers.image.title"],
        "mycli-hello"
    );

    // outdated names the newer version; upgrade --all moves to it.
    let out = ok(&home, &["plugins", "outdated"]);
    let line = out
        .lines()
        .find(|l| l.starts_with("hello"))
        .expect("a hello row");
    let cells: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(cells, ["hello", "0.1.0", "0.2.0", "0.2.0"], "{out}");
    let json: Value = serde_json::from_str(&ok(&home, &["plugins", "outdated", "--json"])).unwrap();
    assert_eq!(json[0]["compatible"], "0.2.0");
    let out = ok(&home, &["plugins", "upgrade", "--all", "--dry-run"]);
    assert!(out.contains("0.1.0 -> 0.2.0"), "{out}");
    assert_eq!(
        ok(&home, &["hello"]).trim(),
        "hello 0.1.0 ran",
        "a dry run changes nothing"
    );
    ok(&home, &["plugins", "upgrade", "--all", "--yes"]);
    assert_eq!(ok(&home, &["hello"]).trim(), "hello 0.2.0 ran");
    let out = ok(&home, &["plugins", "upgrade", "hello"]);
    assert!(out.contains("is up to date"), "{out}");
    let upgraded = home.installed_file("hello");
    assert_eq!(fs::read(&upgraded).unwrap(), fs::read(&v2).unwrap());

    // lock: every platform's digest, the index digest, the source.
    let project = home.scratch("project");
    fs::create_dir_all(&project).unwrap();
    let lock = project.join("mycli-plugins.lock");
    home.mycli()
        .current_dir(&project)
        .args(["plugins", "lock"])
        .assert()
        .success();
    let text = fs::read_to_string(&lock).unwrap();
    let parsed: toml::Table = toml::from_str(&text).unwrap();
    let locked = &parsed["plugin"].as_array().unwrap()[0];
    assert_eq!(locked["name"].as_str(), Some("hello"));
    assert_eq!(locked["version"].as_str(), Some("0.2.0"));
    assert_eq!(locked["source"].as_str(), Some(repo.as_str()));
    assert_eq!(locked["platforms"].as_table().unwrap().len(), 2, "{text}");
    for (platform, digest) in locked["platforms"].as_table().unwrap() {
        assert!(
            digest.as_str().unwrap().starts_with("sha256:"),
            "{platform}"
        );
    }

    // sync in a fresh home gives the same bytes.
    let fresh = Home::new();
    let out = fresh
        .mycli()
        .current_dir(&project)
        .args(["plugins", "sync", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        fs::read(fresh.installed_file("hello")).unwrap(),
        fs::read(&v2).unwrap()
    );
    assert_eq!(ok(&fresh, &["hello"]).trim(), "hello 0.2.0 ran");
    let out = fresh
        .mycli()
        .current_dir(&project)
        .args(["plugins", "sync", "--yes"])
        .output()
        .unwrap();
    assert!(stdout(&out).contains("match"), "{}", stdout(&out));

    // With the registry stopped, sync --frozen reads the download cache.
    registry.stop();
    ok(&fresh, &["plugins", "remove", "hello"]);
    assert!(
        !fresh
            .home()
            .join("installed/hello")
            .read_dir()
            .unwrap()
            .any(|_| true)
    );
    let out = fresh
        .mycli()
        .current_dir(&project)
        .args(["plugins", "sync", "--frozen", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        fs::read(fresh.installed_file("hello")).unwrap(),
        fs::read(&v2).unwrap()
    );
    // Without it, the network is needed and the message says so.
    let out = fresh
        .mycli()
        .current_dir(&project)
        .args(["plugins", "upgrade", "hello"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let line = one_line(&stderr(&out));
    assert!(line.contains("unreachable"), "{line}");
}

#[test]
fn sync_makes_a_home_match_the_lock_and_leaves_path_plugins_alone() {
    let Some(registry) = Registry::start(Auth::Anonymous) else {
        return;
    };
    let home = Home::with_greet();
    let builds = home.scratch("builds");
    let a = native_plugin(&builds.join("a"), "alpha", "1.0.0", "^1.0");
    let b = native_plugin(&builds.join("b"), "beta", "1.0.0", "^1.0");
    ok(
        &home,
        &[
            "plugins",
            "publish",
            &registry.oci("acme/alpha"),
            a.to_str().unwrap(),
        ],
    );
    ok(
        &home,
        &[
            "plugins",
            "publish",
            &registry.oci("acme/beta"),
            b.to_str().unwrap(),
        ],
    );
    ok(
        &home,
        &["plugins", "install", &registry.oci("acme/alpha"), "--yes"],
    );
    let lock = home.scratch("mycli-plugins.lock");
    ok(
        &home,
        &["plugins", "lock", "--file", lock.to_str().unwrap()],
    );
    // Another registry plugin, not in the lock: sync removes it and its
    // file, and keeps greet, which came from a path.
    ok(
        &home,
        &["plugins", "install", &registry.oci("acme/beta"), "--yes"],
    );
    let out = ok(
        &home,
        &["plugins", "sync", "--file", lock.to_str().unwrap(), "--yes"],
    );
    assert!(out.contains("removed plugin 'beta'"), "{out}");
    assert!(
        !home
            .home()
            .join("installed/beta")
            .read_dir()
            .unwrap()
            .any(|_| true)
    );
    let names: Vec<String> = home
        .list()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    assert!(
        names.contains(&"alpha".to_string()) && names.contains(&"greet".to_string()),
        "{names:?}"
    );
    assert!(!names.contains(&"beta".to_string()), "{names:?}");
    home.assert_greet_runs();
}

#[test]
fn an_exported_layout_installs_offline_and_skopeo_copies_it_into_a_registry() {
    let Some(registry) = Registry::start(Auth::Anonymous) else {
        return;
    };
    if !skopeo() {
        return;
    }
    let home = Home::new();
    let v1 = native_plugin(&home.scratch("b"), "hello", "0.3.0", "^1.0");
    ok(
        &home,
        &[
            "plugins",
            "publish",
            &registry.oci("acme/hello"),
            v1.to_str().unwrap(),
        ],
    );
    ok(
        &home,
        &[
            "plugins",
            "install",
            &registry.oci("acme/hello:0.3.0"),
            "--yes",
        ],
    );
    let lock = home.scratch("mycli-plugins.lock");
    ok(
        &home,
        &["plugins", "lock", "--file", lock.to_str().unwrap()],
    );
    let layout = home.scratch("layout");
    let out = ok(
        &home,
        &[
            "plugins",
            "export",
            "--layout",
            layout.to_str().unwrap(),
            "--file",
            lock.to_str().unwrap(),
        ],
    );
    assert!(out.contains("hello:0.3.0"), "{out}");
    assert!(layout.join("oci-layout").is_file());

    // Install straight from the layout in another home, and sync from it.
    let offline = Home::new();
    let source = format!("oci-layout://{}:hello:0.3.0", layout.display());
    ok(&offline, &["plugins", "install", &source, "--yes"]);
    assert_eq!(ok(&offline, &["hello"]).trim(), "hello 0.3.0 ran");
    let synced = Home::new();
    let from = format!("oci-layout://{}", layout.display());
    ok(
        &synced,
        &[
            "plugins",
            "sync",
            "--frozen",
            "--from",
            &from,
            "--file",
            lock.to_str().unwrap(),
            "--yes",
        ],
    );
    assert_eq!(ok(&synced, &["hello"]).trim(), "hello 0.3.0 ran");

    // skopeo copies the layout into a registry, which installs.
    let out = StdCommand::new("skopeo")
        .args(["copy", "--all", "--dest-tls-verify=false"])
        .arg(format!("oci:{}:hello:0.3.0", layout.display()))
        .arg(format!("docker://{}/copied/hello:0.3.0", registry.addr()))
        .output()
        .unwrap();
    assert!(out.status.success(), "skopeo copy: {}", stderr(&out));
    let copied = Home::new();
    ok(
        &copied,
        &["plugins", "install", &registry.oci("copied/hello"), "--yes"],
    );
    assert_eq!(ok(&copied, &["hello"]).trim(), "hello 0.3.0 ran");
}

/// Writes an OCI image layout holding one image manifest (config and one
/// layer) tagged `tag`, as another tool would; with `platform`, inside an
/// image index that lists it for that platform.
fn write_layout(
    dir: &Path,
    tag: &str,
    config: (&str, &[u8]),
    layer: (&str, &[u8]),
    platform: Option<(&str, &str)>,
) {
    let blobs = dir.join("blobs/sha256");
    fs::create_dir_all(&blobs).unwrap();
    let put = |bytes: &[u8]| {
        let digest = sha256(bytes);
        fs::write(blobs.join(digest.trim_start_matches("sha256:")), bytes).unwrap();
        digest
    };
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": config.0, "digest": put(config.1), "size": config.1.len()},
        "layers": [{"mediaType": layer.0, "digest": put(layer.1), "size": layer.1.len()}],
    }))
    .unwrap();
    let mut top = json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": put(&manifest),
        "size": manifest.len(),
    });
    if let Some((os, architecture)) = platform {
        top["platform"] = json!({"os": os, "architecture": architecture});
        let index = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [top],
        }))
        .unwrap();
        top = json!({
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": put(&index),
            "size": index.len(),
        });
    }
    top["annotations"] = json!({"org.opencontainers.image.ref.name": tag});
    fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let index = json!({"schemaVersion": 2, "manifests": [top]});
    fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
}

#[test]
fn a_component_pushed_by_another_tool_in_the_cncf_layout_installs() {
    let Some(registry) = Registry::start(Auth::Anonymous) else {
        return;
    };
    if !skopeo() {
        return;
    }
    let home = Home::new();
    let component = fs::read(wasm_example("wstats")).unwrap();
    let config = serde_json::to_vec(&json!({
        "created": "2026-01-01T00:00:00Z",
        "architecture": "wasm",
        "os": "wasip2",
        "layerDigests": [sha256(&component)],
        "component": {"exports": [], "imports": [], "target": null},
    }))
    .unwrap();
    let layout = home.scratch("cncf");
    write_layout(
        &layout,
        "1.0.0",
        ("application/vnd.wasm.config.v0+json", &config),
        ("application/wasm", &component),
        None,
    );
    let out = StdCommand::new("skopeo")
        .args(["copy", "--dest-tls-verify=false"])
        .arg(format!("oci:{}:1.0.0", layout.display()))
        .arg(format!("docker://{}/wasm/wstats:1.0.0", registry.addr()))
        .output()
        .unwrap();
    assert!(out.status.success(), "skopeo copy: {}", stderr(&out));
    ok(
        &home,
        &["plugins", "install", &registry.oci("wasm/wstats"), "--yes"],
    );
    let row = home.row("wstats");
    assert_eq!(row["kind"], "wasm", "{row}");
    assert_eq!(row["status"], "ok", "{row}");
    let out = ok(&home, &["wstats", "10"]);
    assert!(!out.trim().is_empty());
}

/// This machine in OCI words.
fn this_platform() -> (&'static str, &'static str) {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    (std::env::consts::OS, arch)
}

#[test]
fn a_file_whose_description_differs_from_its_published_manifest_is_refused() {
    let home = Home::new();
    let real = native_plugin(&home.scratch("b"), "hello", "0.2.0", "^1.0");
    // The config claims another version than the file describes.
    let claimed = br#"{"manifest":1,"host":"mycli","name":"hello","version":"9.9.9","api":"^1.0","commands":[{"name":"hello"}]}"#;
    let layout = home.scratch("lying");
    write_layout(
        &layout,
        "9.9.9",
        ("application/vnd.snapin.plugin.config.v1+json", claimed),
        (
            "application/vnd.snapin.plugin.executable.v1",
            &fs::read(&real).unwrap(),
        ),
        Some(this_platform()),
    );
    let source = format!("oci-layout://{}:9.9.9", layout.display());
    let out = home
        .mycli()
        .args(["plugins", "install", &source, "--yes"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let line = one_line(&stderr(&out));
    assert!(
        line.contains("describes itself ('hello' 0.2.0) differently from the manifest published with it ('hello' 9.9.9)"),
        "{line}"
    );
    assert!(!home.index().exists(), "nothing recorded");
    let installed = home.home().join("installed/hello");
    assert!(
        !installed.exists() || !installed.read_dir().unwrap().any(|_| true),
        "no file left"
    );
}

#[test]
fn start_up_dispatch_help_completion_list_and_info_never_reach_the_registry() {
    let Some(registry) = Registry::start(Auth::Anonymous) else {
        return;
    };
    let proxy = crate::fault_proxy::FaultProxy::start(&registry);
    let home = Home::new();
    let v1 = native_plugin(&home.scratch("b"), "hello", "0.1.0", "^1.0");
    ok(
        &home,
        &[
            "plugins",
            "publish",
            &registry.oci("acme/hello"),
            v1.to_str().unwrap(),
        ],
    );
    ok(
        &home,
        &["plugins", "install", &proxy.oci("acme/hello"), "--yes"],
    );
    let asked = proxy.requests().len();
    assert!(asked > 0, "the install went through the proxy");
    assert_eq!(ok(&home, &["hello"]).trim(), "hello 0.1.0 ran");
    ok(&home, &["--help"]);
    ok(&home, &["--version"]);
    ok(&home, &["plugins", "list"]);
    ok(&home, &["plugins", "info", "hello"]);
    let out = home
        .mycli()
        .env("MYCLI_COMPLETE", "fish")
        .args(["--", "mycli", "hel"])
        .output()
        .unwrap();
    assert!(stdout(&out).contains("hello"), "{}", stdout(&out));
    assert_eq!(proxy.requests().len(), asked, "{:?}", proxy.requests());
}

#[test]
fn a_layout_of_several_plugins_is_read_per_plugin_by_outdated_and_upgrade() {
    let home = Home::new();
    let layout = home.scratch("shelf");
    let shelf = |reference: &str| format!("oci-layout://{}:{reference}", layout.display());
    for (name, version) in [("alpha", "1.0.0"), ("alpha", "1.1.0"), ("beta", "2.0.0")] {
        let file = native_plugin(
            &home.scratch(&format!("{name}-{version}")),
            name,
            version,
            "^1.0",
        );
        let out = ok(
            &home,
            &[
                "plugins",
                "publish",
                &shelf(&format!("{name}:{version}")),
                file.to_str().unwrap(),
            ],
        );
        assert!(out.contains(&format!("'{name}' {version}")), "{out}");
    }
    ok(
        &home,
        &["plugins", "install", &shelf("alpha:1.0.0"), "--yes"],
    );
    let out = ok(&home, &["plugins", "outdated"]);
    let line = out
        .lines()
        .find(|l| l.starts_with("alpha"))
        .expect("an alpha row");
    let cells: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        cells,
        ["alpha", "1.0.0", "1.1.0", "1.1.0"],
        "beta's 2.0.0 is not alpha's: {out}"
    );
    ok(&home, &["plugins", "upgrade", "alpha", "--yes"]);
    assert_eq!(ok(&home, &["alpha"]).trim(), "alpha 1.1.0 ran");
}

#[test]
fn mycli_hands_registry_commands_to_its_helper_and_says_so_when_it_is_missing() {
    let home = Home::new();
    // mycli alone, without mycli-registry beside it.
    let alone = home.scratch("alone");
    fs::create_dir_all(&alone).unwrap();
    let mycli = alone.join("mycli");
    fs::copy(env!("CARGO_BIN_EXE_mycli"), &mycli).unwrap();
    let run = |args: &[&str]| {
        StdCommand::new(&mycli)
            .args(args)
            .env("MYCLI_HOME", home.home())
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    // The commands that never reach a registry do not need it.
    assert!(run(&["plugins", "list"]).status.success());
    let help = run(&["plugins", "--help"]);
    assert!(stdout(&help).contains("outdated"), "{}", stdout(&help));
    for args in [
        &["plugins", "outdated"][..],
        &["plugins", "install", "oci://127.0.0.1:9/acme/x", "--yes"],
    ] {
        let out = run(args);
        assert!(!out.status.success());
        let line = one_line(&stderr(&out));
        assert!(
            line.contains(
                "runs registry commands with `mycli-registry`, which is not installed beside it"
            ),
            "{line}"
        );
        assert!(line.contains("; fix: install mycli again"), "{line}");
    }
    // Beside it, the same command runs there, under mycli's name.
    let out = home
        .mycli()
        .args(["plugins", "publish", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Usage: mycli plugins publish"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn the_fixes_of_registry_messages_work_when_run() {
    let home = Home::new();
    let layout = home.scratch("shelf");
    let file = native_plugin(&home.scratch("b"), "alpha", "1.0.0", "^1.0");
    let source = format!("oci-layout://{}:alpha:1.0.0", layout.display());
    ok(
        &home,
        &["plugins", "publish", &source, file.to_str().unwrap()],
    );
    ok(&home, &["plugins", "install", &source, "--yes"]);

    // Installed already: the fix makes room, and the install then works.
    let out = home
        .mycli()
        .args(["plugins", "install", &source, "--yes"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let line = one_line(&stderr(&out));
    assert!(
        line.contains("is already installed from oci-layout://"),
        "{line}"
    );
    assert!(line.contains("`mycli plugins upgrade alpha`"), "{line}");
    home.fix_command(&line).assert().success();
    ok(&home, &["plugins", "install", &source, "--yes"]);

    // No lock file here: the fix writes one, and sync then works.
    let project = home.scratch("project");
    fs::create_dir_all(&project).unwrap();
    let sync = || {
        home.mycli()
            .current_dir(&project)
            .args(["plugins", "sync", "--yes"])
            .output()
            .unwrap()
    };
    let out = sync();
    assert!(!out.status.success());
    let line = one_line(&stderr(&out));
    assert!(
        line.contains("cannot read the lock file mycli-plugins.lock"),
        "{line}"
    );
    home.fix_command(&line)
        .current_dir(&project)
        .assert()
        .success();
    let out = sync();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("match"), "{}", stdout(&out));
}

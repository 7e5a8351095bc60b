//! `plugins install oci://...` against a registry that fails: error
//! statuses, bodies cut short, damaged or too long, HTML where a manifest
//! belongs, slowness, a redirect to another host, missing credentials, a
//! registry that is down or a name that does not resolve, versions that do
//! not exist or cannot run here, and two installs racing.
//!
//! Versions are published to the real registry; installs go through the
//! fault proxy in front of it, each into a fresh home. Every failure must
//! cost one line with its fix and leave the home as it was: the index, the
//! installed files and the download cache.

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, Write};
use std::net::{Shutdown, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::fault_proxy::{Fault, FaultProxy};
use crate::registry::{Auth, Registry, Server, bind_loopback, read_request};
use crate::registry_home::{
    self, PASSWORD_VAR, USER_VAR, assert_nothing_half_written, fix_command, mycli, refusal_line,
};
use crate::support::{Home, entries_under, native_plugin, require_tool, sha256, stderr};

/// [`mycli`] as a `std::process::Command`, for processes run side by side.
fn mycli_process(h: &Home) -> StdCommand {
    let mut cmd = StdCommand::new(env!("CARGO_BIN_EXE_mycli"));
    cmd.env("MYCLI_HOME", h.home())
        .env("NO_COLOR", "1")
        .env("DOCKER_CONFIG", h.scratch("no-docker-config"))
        .env_remove(USER_VAR)
        .env_remove(PASSWORD_VAR)
        .env_remove("SNAPIN_CONTEXT")
        .env_remove("SNAPIN_HOST")
        .env_remove("SNAPIN_API")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    cmd
}

/// `mycli plugins install REFERENCE --yes` in `h`, run to its end.
fn install(h: &Home, reference: &str) -> Output {
    install_with(h, reference, &[])
}

/// [`install`] with environment variables added.
fn install_with(h: &Home, reference: &str, env: &[(&str, &str)]) -> Output {
    let mut cmd = mycli(h);
    cmd.args(["plugins", "install", reference, "--yes"]);
    for (name, value) in env {
        cmd.env(name, value);
    }
    cmd.output().expect("mycli runs")
}

/// The credential variables for `registry`'s user.
fn credentials_env(registry: &Registry) -> Vec<(&'static str, String)> {
    let (user, password) = registry
        .credentials()
        .expect("the registry wants credentials");
    vec![(USER_VAR, user), (PASSWORD_VAR, password)]
}

/// Compiles plugin `name` `version` needing host API `api` in `work`'s
/// scratch directory and publishes it to `registry` as `repo` (tag: the
/// version), with the registry's credentials; returns the file.
fn publish(
    work: &Home,
    registry: &Registry,
    repo: &str,
    name: &str,
    version: &str,
    api: &str,
) -> PathBuf {
    let file = native_plugin(
        &work.scratch(&format!("{name}-{version}")),
        name,
        version,
        api,
    );
    let mut cmd = mycli(work);
    cmd.args(["plugins", "publish", &registry.oci(repo)])
        .arg(&file);
    if registry.credentials().is_some() {
        for (name, value) in credentials_env(registry) {
            cmd.env(name, value);
        }
    }
    let out = cmd.output().expect("mycli runs");
    assert!(
        out.status.success(),
        "publishing {name} {version} failed: {}\nregistry log:\n{}",
        stderr(&out),
        registry.log_tail()
    );
    file
}

/// Plugin `x` 0.1.0 published as `acme/x` to an anonymous registry, with
/// the fault proxy in front of it.
struct Published {
    registry: Registry,
    proxy: FaultProxy,
    /// The file published: the layer.
    file: PathBuf,
    /// Where it was built and published from.
    _work: Home,
}

impl Published {
    /// `None` when the registry is not installed (the test is skipped).
    fn x() -> Option<Published> {
        let registry = Registry::start(Auth::Anonymous)?;
        let work = Home::new();
        let file = publish(&work, &registry, "acme/x", "x", "0.1.0", "^1.0");
        let proxy = FaultProxy::start(&registry);
        Some(Published {
            registry,
            proxy,
            file,
            _work: work,
        })
    }

    /// The part of a request path that names the layer: `/blobs/sha256:..`.
    fn layer(&self) -> String {
        blob_of(&fs::read(&self.file).expect("read the plugin file"))
    }
}

/// The part of a request path that names blob `bytes`.
fn blob_of(bytes: &[u8]) -> String {
    format!("/blobs/sha256:{:x}", Sha256::digest(bytes))
}

/// How many of `proxy`'s requests were `METHOD` to a path containing
/// `part`.
fn count(proxy: &FaultProxy, method: &str, part: &str) -> usize {
    proxy
        .requests()
        .iter()
        .filter(|r| r.starts_with(&format!("{method} ")) && r.contains(part))
        .count()
}

/// Asserts that plugin `name` is installed and runs as version `version`.
#[track_caller]
fn assert_runs(h: &Home, out: &Output, name: &str, version: &str) {
    assert!(out.status.success(), "the install failed: {}", stderr(out));
    registry_home::assert_runs(h, name, version);
}

/// The download cache of `h`.
fn cache(h: &Home) -> PathBuf {
    h.home().join("cache/oci")
}

/// What a failed install must leave as it found it.
struct Before {
    index: Option<Vec<u8>>,
    blobs: BTreeSet<PathBuf>,
}

impl Before {
    fn of(h: &Home) -> Before {
        Before {
            index: fs::read(h.index()).ok(),
            blobs: entries_under(&cache(h).join("blobs/sha256"))
                .into_iter()
                .collect(),
        }
    }
}

/// Asserts that `out` is a refusal a user can act on, naming each of
/// `words` (any case), and that `h` is as `before` recorded it: the same
/// `plugins.json` (or still none), nothing under `installed/`, no new blob
/// in the download cache and nothing half-written there. Returns the line.
#[track_caller]
fn assert_refused(h: &Home, before: &Before, out: &Output, words: &[&str]) -> String {
    let line = refusal_line(out);
    let lower = line.to_lowercase();
    for word in words {
        assert!(
            lower.contains(&word.to_lowercase()),
            "the line does not name {word:?}: {line}"
        );
    }
    assert!(
        fs::read(h.index()).ok() == before.index,
        "plugins.json changed: {line}"
    );
    let installed = entries_under(&h.home().join("installed"));
    assert!(
        installed.is_empty(),
        "left under installed/: {installed:?} ({line})"
    );
    let blobs: BTreeSet<PathBuf> = entries_under(&cache(h).join("blobs/sha256"))
        .into_iter()
        .collect();
    let added: Vec<&PathBuf> = blobs.difference(&before.blobs).collect();
    assert!(
        added.is_empty(),
        "left in the download cache: {added:?} ({line})"
    );
    assert_nothing_half_written(h, &line);
    line
}

// ------------------------------------------------------------ retries

/// The layer answered 503 twice: the third attempt, after the backoff,
/// installs the plugin.
#[test]
fn a_blob_answered_503_twice_is_fetched_on_the_third_attempt() {
    let Some(x) = Published::x() else {
        return;
    };
    let proxy = &x.proxy;
    let layer = x.layer();
    proxy.on(
        Some("GET"),
        &layer,
        Fault::Status {
            code: 503,
            times: 2,
            retry_after: None,
        },
    );
    let h = Home::new();
    let out = install(&h, &proxy.oci("acme/x"));
    assert_runs(&h, &out, "x", "0.1.0");
    assert_eq!(count(proxy, "GET", &layer), 3, "{:#?}", proxy.requests());
}

/// The manifest answered 429 with Retry-After once: asked again, it is
/// read and the plugin installed.
#[test]
fn a_manifest_answered_429_once_is_fetched_again() {
    let Some(x) = Published::x() else {
        return;
    };
    let proxy = &x.proxy;
    proxy.on(
        Some("GET"),
        "/manifests/",
        Fault::Status {
            code: 429,
            times: 1,
            retry_after: Some(1),
        },
    );
    let h = Home::new();
    let out = install(&h, &proxy.oci("acme/x:0.1.0"));
    assert_runs(&h, &out, "x", "0.1.0");
    assert_eq!(
        count(proxy, "GET", "/manifests/0.1.0"),
        2,
        "{:#?}",
        proxy.requests()
    );
}

/// Every manifest request answered 503: four attempts, backing off, then
/// one line that names the status and the attempts and says to try later.
#[test]
fn manifests_answered_503_every_time_fail_after_four_attempts() {
    let Some(x) = Published::x() else {
        return;
    };
    let proxy = &x.proxy;
    proxy.on(
        None,
        "/manifests/",
        Fault::Status {
            code: 503,
            times: 1000,
            retry_after: None,
        },
    );
    let h = Home::new();
    let before = Before::of(&h);
    let started = Instant::now();
    let out = install(&h, &proxy.oci("acme/x"));
    let line = assert_refused(&h, &before, &out, &["503", "after 4 attempts"]);
    let (_, fix) = line.split_once("; fix: ").expect("a fix");
    assert!(fix.contains("try again later"), "{line}");
    assert_eq!(
        count(proxy, "GET", "/manifests/"),
        4,
        "{:#?}",
        proxy.requests()
    );
    // 250 + 500 + 1000 ms of backoff between the four.
    assert!(started.elapsed() >= Duration::from_millis(1750));
}

// --------------------------------------------------- damaged downloads

/// The layer cut short after 10 bytes on every attempt: one line saying
/// so, after four attempts, not blaming the disk; cut short once, the
/// retry installs it.
#[test]
fn a_blob_cut_short_every_time_fails_and_once_is_retried() {
    let Some(x) = Published::x() else {
        return;
    };
    let proxy = &x.proxy;
    let layer = x.layer();
    proxy.on(Some("GET"), &layer, Fault::Truncate { keep: 10 });
    let h = Home::new();
    let before = Before::of(&h);
    let out = install(&h, &proxy.oci("acme/x"));
    let line = assert_refused(&h, &before, &out, &["cut short", "after 4 attempts"]);
    assert!(!line.contains("disk space"), "{line}");
    assert_eq!(count(proxy, "GET", &layer), 4, "{:#?}", proxy.requests());

    // Cut short once, then whole: the retry installs it.
    let clean = FaultProxy::start(&x.registry);
    let once = FaultOnce::start(proxy, &clean, &layer);
    let h = Home::new();
    let out = install(&h, &once.oci("acme/x"));
    assert_runs(&h, &out, "x", "0.1.0");
    assert_eq!(
        (count(proxy, "GET", &layer), count(&clean, "GET", &layer)),
        (5, 1),
        "{:#?}",
        clean.requests()
    );
}

/// A relay in front of two fault proxies of one registry: the first
/// request whose path contains `part` goes to `faulty`, every other one to
/// `clean`. A fault the proxy repeats (a truncation, say) then happens once.
struct FaultOnce {
    server: Server,
}

impl FaultOnce {
    fn start(faulty: &FaultProxy, clean: &FaultProxy, part: &str) -> FaultOnce {
        let (faulty, clean, part) = (faulty.addr(), clean.addr(), part.to_string());
        let used = AtomicBool::new(false);
        let server = Server::start(
            bind_loopback("127.0.0.1"),
            "fault-once",
            Arc::new(move |client| {
                relay(client, |path| {
                    if path.contains(&part) && !used.swap(true, Ordering::SeqCst) {
                        &faulty
                    } else {
                        &clean
                    }
                });
            }),
        );
        FaultOnce { server }
    }

    /// `oci://127.0.0.1:PORT/REPO`.
    fn oci(&self, repo: &str) -> String {
        format!("oci://{}/{repo}", self.server.addr())
    }
}

/// Passes one connection's request to the address `choose` picks for its
/// path, and the answer back, byte for byte.
fn relay<'a>(mut client: TcpStream, choose: impl FnOnce(&str) -> &'a str) {
    let Ok(request) = read_request(&mut client) else {
        return;
    };
    let path = request.target.split('?').next().unwrap_or_default();
    let Ok(mut upstream) = TcpStream::connect(choose(path)) else {
        return;
    };
    let mut head = format!("{} {} HTTP/1.1\r\n", request.method, request.target);
    for (name, value) in &request.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    if upstream.write_all(head.as_bytes()).is_err() || upstream.write_all(&request.rest).is_err() {
        return;
    }
    let (Ok(mut from_client), Ok(mut to_upstream)) = (client.try_clone(), upstream.try_clone())
    else {
        return;
    };
    std::thread::spawn(move || {
        let _ = io::copy(&mut from_client, &mut to_upstream);
        let _ = to_upstream.shutdown(Shutdown::Write);
    });
    let _ = io::copy(&mut upstream, &mut client);
    let _ = client.shutdown(Shutdown::Write);
}

/// The layer with a byte flipped: refused for its digest, as damage the
/// registry served, not as a problem of this machine's disk.
#[test]
fn a_corrupt_blob_fails_naming_the_digest() {
    let Some(x) = Published::x() else {
        return;
    };
    let proxy = &x.proxy;
    let layer = x.layer();
    proxy.on(Some("GET"), &layer, Fault::Corrupt);
    let h = Home::new();
    let before = Before::of(&h);
    let out = install(&h, &proxy.oci("acme/x"));
    let line = assert_refused(&h, &before, &out, &["digest"]);
    // The damage is the registry's, not this machine's disk.
    assert!(!line.contains("disk space"), "{line}");
    assert!(!line.contains("download cache"), "{line}");
}

/// The layer answered with more bytes than its descriptor gives: refused.
#[test]
fn a_blob_longer_than_its_manifest_says_is_refused() {
    let Some(x) = Published::x() else {
        return;
    };
    let proxy = &x.proxy;
    let layer = x.layer();
    let mut longer = fs::read(&x.file).expect("read the plugin file");
    longer.extend_from_slice(&[0x90; 4096]);
    proxy.on(
        Some("GET"),
        &layer,
        Fault::Body {
            content_type: "application/octet-stream".to_string(),
            body: longer,
            status: 200,
        },
    );
    let h = Home::new();
    let before = Before::of(&h);
    let out = install(&h, &proxy.oci("acme/x"));
    assert_refused(&h, &before, &out, &["more than"]);
}

/// An HTML page (a proxy's maintenance page) where the manifest belongs:
/// the line says it is HTML.
#[test]
fn html_instead_of_a_manifest_is_called_html() {
    let Some(x) = Published::x() else {
        return;
    };
    let proxy = &x.proxy;
    proxy.on(
        Some("GET"),
        "/manifests/",
        Fault::Body {
            content_type: "text/html".to_string(),
            body: b"<html><body><h1>Down for maintenance</h1></body></html>\n".to_vec(),
            status: 200,
        },
    );
    let h = Home::new();
    let before = Before::of(&h);
    let out = install(&h, &proxy.oci("acme/x"));
    assert_refused(&h, &before, &out, &["HTML"]);
}

/// A manifest that takes 1.5 s to come: well inside the time-outs, the
/// install waits for it.
#[test]
fn a_slow_manifest_is_waited_for() {
    let Some(x) = Published::x() else {
        return;
    };
    let proxy = &x.proxy;
    proxy.on(
        Some("GET"),
        "/manifests/0.1.0",
        Fault::Delay { seconds: 1.5 },
    );
    let h = Home::new();
    let started = Instant::now();
    let out = install(&h, &proxy.oci("acme/x"));
    assert_runs(&h, &out, "x", "0.1.0");
    assert!(started.elapsed() >= Duration::from_millis(1500));
    assert_eq!(count(proxy, "GET", "/manifests/0.1.0"), 1);
}

// -------------------------------------------------------- credentials

/// Blobs redirected to another host: the install follows the redirect
/// and does not send the registry's credentials there.
#[test]
fn a_blob_redirected_to_another_host_gets_no_credentials() {
    let Some(registry) = Registry::start(Auth::Basic) else {
        return;
    };
    let work = Home::new();
    publish(&work, &registry, "acme/x", "x", "0.1.0", "^1.0");
    let proxy = FaultProxy::start(&registry);
    proxy.on(Some("GET"), "/blobs/", Fault::RedirectElsewhere);
    let h = Home::new();
    let env = credentials_env(&registry);
    let env: Vec<(&str, &str)> = env.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let out = install_with(&h, &proxy.oci("acme/x"), &env);
    assert_runs(&h, &out, "x", "0.1.0");
    assert_eq!(proxy.redirected_with_authorization(), Some(false));
}

/// A registry in mode `auth` refuses an anonymous install, saying how to
/// log in; the credential variables, or a Docker configuration, then make
/// the same install work.
fn credentials_are_asked_for_then_used(auth: Auth) {
    let Some(registry) = Registry::start(auth) else {
        return;
    };
    let work = Home::new();
    publish(&work, &registry, "acme/x", "x", "0.1.0", "^1.0");
    let reference = registry.oci("acme/x");

    let h = Home::new();
    let before = Before::of(&h);
    let out = install(&h, &reference);
    let line = assert_refused(&h, &before, &out, &["refused", "anonymous"]);
    let (_, fix) = line.split_once("; fix: ").expect("a fix");
    assert!(
        fix.contains(&format!("`docker login {}`", registry.addr())),
        "{line}"
    );
    assert!(
        fix.contains(USER_VAR) && fix.contains(PASSWORD_VAR),
        "{line}"
    );

    let env = credentials_env(&registry);
    let env: Vec<(&str, &str)> = env.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let out = install_with(&h, &reference, &env);
    assert_runs(&h, &out, "x", "0.1.0");
    // The password reaches neither the index, nor the lock, nor a log line
    // of the most verbose run.
    let lock = h.scratch("mycli-plugins.lock");
    let mut cmd = mycli(&h);
    cmd.args(["-vvv", "--debug", "plugins", "lock", "--file"])
        .arg(&lock)
        .envs(env.iter().copied());
    let locked = cmd.output().expect("mycli runs");
    assert!(locked.status.success(), "{}", stderr(&locked));
    let mut cmd = mycli(&h);
    cmd.args(["-vvv", "--debug", "plugins", "outdated"])
        .envs(env.iter().copied());
    let outdated = cmd.output().expect("mycli runs");
    assert!(outdated.status.success(), "{}", stderr(&outdated));
    let password = &env[1].1;
    for (what, text) in [
        (
            "the index",
            std::fs::read_to_string(h.index()).expect("read the index"),
        ),
        (
            "the lock",
            std::fs::read_to_string(&lock).expect("read the lock"),
        ),
        ("the lock's log", stderr(&locked)),
        ("outdated's log", stderr(&outdated)),
    ] {
        assert!(
            !text.contains(password),
            "{what} holds the password: {text}"
        );
    }

    let h = Home::new();
    let docker = h.scratch("docker");
    registry.write_docker_config(&docker);
    let docker = docker.to_string_lossy();
    let out = install_with(&h, &reference, &[("DOCKER_CONFIG", &docker)]);
    assert_runs(&h, &out, "x", "0.1.0");
}

#[test]
fn basic_registry_asks_for_credentials_then_takes_them() {
    credentials_are_asked_for_then_used(Auth::Basic);
}

#[test]
fn token_registry_asks_for_credentials_then_takes_them() {
    credentials_are_asked_for_then_used(Auth::Token);
}

// ------------------------------------------------------- unreachable

/// A registry that is not running: one line saying it is unreachable.
#[test]
fn a_stopped_registry_is_unreachable() {
    let Some(mut registry) = Registry::start(Auth::Anonymous) else {
        return;
    };
    let reference = registry.oci("acme/x");
    registry.stop();
    let h = Home::new();
    let before = Before::of(&h);
    let out = install(&h, &reference);
    assert_refused(&h, &before, &out, &["unreachable", &registry.addr()]);
}

/// A registry whose name does not resolve: one line naming the host.
#[test]
fn a_registry_name_that_does_not_resolve_is_named() {
    let h = Home::new();
    let before = Before::of(&h);
    let started = Instant::now();
    let out = install(&h, "oci://no-such-host.invalid/acme/x");
    // `.invalid` never resolves (RFC 6761), with or without a resolver.
    assert_refused(
        &h,
        &before,
        &out,
        &["no-such-host.invalid", "does not resolve"],
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

// ---------------------------------------------------------- versions

/// A tag that does not exist: the line lists the versions there are, and
/// its fix, a command, installs one of them.
#[test]
fn a_version_that_does_not_exist_lists_the_close_ones_and_the_fix_installs() {
    let Some(registry) = Registry::start(Auth::Anonymous) else {
        return;
    };
    let work = Home::new();
    publish(&work, &registry, "acme/x", "x", "0.1.0", "^1.0");
    publish(&work, &registry, "acme/x", "x", "0.2.0", "^1.0");
    let proxy = FaultProxy::start(&registry);
    let h = Home::new();
    let before = Before::of(&h);
    let out = install(&h, &format!("{}:0.9.9", proxy.oci("acme/x")));
    let line = assert_refused(&h, &before, &out, &["0.9.9", "0.1.0", "0.2.0"]);
    let (_, fix) = line.split_once("; fix: ").expect("a fix");
    assert!(
        fix.starts_with("`mycli plugins install ") && fix.ends_with('`'),
        "the fix is a command: {line}"
    );
    let version = fix
        .trim_end_matches('`')
        .rsplit_once(':')
        .map(|(_, v)| v.to_string())
        .expect("the fix names a tag");
    assert!(["0.1.0", "0.2.0"].contains(&version.as_str()), "{line}");
    let out = fix_command(&h, &line)
        .arg("--yes")
        .output()
        .expect("mycli runs");
    assert_runs(&h, &out, "x", &version);
}

/// Only a version that needs API ^9.0: an install with no tag names the
/// newest version and the API it needs.
#[test]
fn no_compatible_version_names_the_newest_and_the_api_it_needs() {
    let Some(registry) = Registry::start(Auth::Anonymous) else {
        return;
    };
    let work = Home::new();
    publish(&work, &registry, "acme/x", "x", "0.3.0", "^9.0");
    let proxy = FaultProxy::start(&registry);
    let h = Home::new();
    let before = Before::of(&h);
    let out = install(&h, &proxy.oci("acme/x"));
    assert_refused(&h, &before, &out, &["0.3.0", "^9.0"]);
}

/// The plugin file of the plan9/mips build.
const PLAN9_LAYER: &[u8] = b"#!/bin/rc\necho plan9 0.1.0 ran\n";

/// Writes an OCI image layout at `dir` holding, under reference name
/// `0.1.0`, an image index whose one manifest is plugin `plan9`'s build
/// for plan9/mips: what `plugins publish` would push from that machine.
fn plan9_layout(dir: &Path) {
    let blobs = dir.join("blobs/sha256");
    fs::create_dir_all(&blobs).expect("create the layout");
    let put = |bytes: &[u8]| {
        let d = sha256(bytes);
        fs::write(blobs.join(d.trim_start_matches("sha256:")), bytes).expect("write a blob");
        serde_json::json!({"digest": d, "size": bytes.len()})
    };
    let with_type = |mut descriptor: serde_json::Value, media_type: &str| {
        descriptor["mediaType"] = media_type.into();
        descriptor
    };
    let config = br#"{"manifest":1,"host":"mycli","name":"plan9","version":"0.1.0","api":"^1.0","description":"Says plan9","commands":[{"name":"plan9","about":"Say plan9"}]}"#;
    let config = with_type(put(config), "application/vnd.snapin.plugin.config.v1+json");
    let mut layer = with_type(
        put(PLAN9_LAYER),
        "application/vnd.snapin.plugin.executable.v1",
    );
    layer["annotations"] = serde_json::json!({"org.opencontainers.image.title": "mycli-plan9"});
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config,
        "layers": [layer],
    });
    let mut entry = with_type(
        put(manifest.to_string().as_bytes()),
        "application/vnd.oci.image.manifest.v1+json",
    );
    entry["platform"] = serde_json::json!({"os": "plan9", "architecture": "mips"});
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [entry],
    });
    let mut top = with_type(
        put(index.to_string().as_bytes()),
        "application/vnd.oci.image.index.v1+json",
    );
    top["annotations"] = serde_json::json!({"org.opencontainers.image.ref.name": "0.1.0"});
    let layout = serde_json::json!({"schemaVersion": 2, "manifests": [top]});
    fs::write(dir.join("index.json"), layout.to_string()).expect("write index.json");
    fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#)
        .expect("write oci-layout");
}

/// A version built only for plan9/mips (pushed with skopeo, as no file
/// here can describe itself for it): by tag or newest, the line lists the
/// platform it has, and no plugin code is downloaded.
#[test]
fn a_version_with_no_build_for_this_machine_lists_the_platforms_it_has() {
    if !require_tool(
        "skopeo",
        &["--version"],
        "it pushes a build for plan9/mips, which publish cannot describe here",
    ) {
        return;
    }
    let Some(registry) = Registry::start(Auth::Anonymous) else {
        return;
    };
    let layout = tempfile::tempdir().expect("temp dir");
    plan9_layout(layout.path());
    let out = StdCommand::new("skopeo")
        .args(["--insecure-policy", "copy", "--all", "--preserve-digests"])
        .arg("--dest-tls-verify=false")
        .arg(format!("oci:{}:0.1.0", layout.path().display()))
        .arg(format!("docker://{}/acme/plan9:0.1.0", registry.addr()))
        .env_remove("REGISTRY_AUTH_FILE")
        .stdin(Stdio::null())
        .output()
        .expect("skopeo runs");
    assert!(out.status.success(), "skopeo copy failed: {}", stderr(&out));
    let proxy = FaultProxy::start(&registry);
    let h = Home::new();
    for reference in [proxy.oci("acme/plan9:0.1.0"), proxy.oci("acme/plan9")] {
        let before = Before::of(&h);
        let out = install(&h, &reference);
        assert_refused(&h, &before, &out, &["plan9/mips", "build for"]);
    }
    // Nothing was downloaded but documents: no plugin code.
    let layer = blob_of(PLAN9_LAYER);
    assert_eq!(count(&proxy, "GET", &layer), 0, "{:#?}", proxy.requests());
}

// -------------------------------------------------------------- races

/// Two installs of one reference started together in one home: one
/// succeeds, the other fails with one error line; the index holds the
/// plugin once, and `installed/x/` one directory.
#[test]
fn two_installs_at_once_record_the_plugin_once() {
    let Some(registry) = Registry::start(Auth::Anonymous) else {
        return;
    };
    let work = Home::new();
    publish(&work, &registry, "acme/x", "x", "0.1.0", "^1.0");
    let reference = registry.oci("acme/x");
    let h = Home::new();
    let spawn = || {
        mycli_process(&h)
            .args(["plugins", "install", &reference, "--yes"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("mycli starts")
    };
    let (a, b) = (spawn(), spawn());
    let outs = [
        a.wait_with_output().expect("wait for mycli"),
        b.wait_with_output().expect("wait for mycli"),
    ];
    let (won, lost): (Vec<&Output>, Vec<&Output>) = outs.iter().partition(|o| o.status.success());
    assert_eq!(
        (won.len(), lost.len()),
        (1, 1),
        "exactly one install succeeds: {:?}",
        outs.iter().map(stderr).collect::<Vec<_>>()
    );
    // The loser may have shown what it was about to install (as every
    // install does, on stderr) before finding the index taken: then its
    // error is the one line after that summary.
    let text = stderr(lost[0]);
    let lines: Vec<&str> = text.lines().collect();
    let line = *lines.last().expect("the loser says why");
    assert!(
        line.starts_with("mycli: error: ") && line.contains("; fix: "),
        "{text}"
    );
    assert!(line.contains("'x'"), "{text}");
    assert_eq!(
        lines.iter().filter(|l| l.contains("error")).count(),
        1,
        "{text}"
    );
    if lines.len() > 1 {
        assert!(lines[0].starts_with("Plugin 'x' 0.1.0"), "{text}");
    }
    let rows: Vec<serde_json::Value> = h.list().into_iter().filter(|r| r["name"] == "x").collect();
    assert_eq!(rows.len(), 1, "{rows:?}");
    let placed = entries_under(&h.home().join("installed/x"));
    let dirs: Vec<&PathBuf> = placed
        .iter()
        .filter(|p| p.components().count() == 1)
        .collect();
    assert_eq!(dirs.len(), 1, "installed/x holds {placed:?}");
    registry_home::assert_runs(&h, "x", "0.1.0");
    // The loser took back nothing the winner stored: the installed file's
    // bytes are still in the download cache.
    let file = h.row("x")["path"].as_str().expect("a path").to_string();
    let bytes = std::fs::read(&file).expect("read the installed file");
    let hex = format!("{:x}", sha2::Sha256::digest(&bytes));
    assert!(
        cache(&h).join("blobs/sha256").join(&hex).is_file(),
        "the layer {hex} is in the cache"
    );
}

/// A disk that fills up while the plugin downloads: one line, and nothing
/// left behind. `ulimit -f` (4 KiB a file) stands in for the full disk, as
/// in the index's own full-disk test.
#[test]
fn a_full_disk_during_the_download_leaves_nothing_behind() {
    let Some(registry) = Registry::start(Auth::Anonymous) else {
        return;
    };
    let work = Home::new();
    publish(&work, &registry, "acme/x", "x", "0.1.0", "^1.0");
    let h = Home::new();
    let before = Before::of(&h);
    let out = std::process::Command::new("sh")
        .args([
            "-c",
            r#"ulimit -f 8 && exec "$0" "$@""#,
            env!("CARGO_BIN_EXE_mycli"),
        ])
        .args(["plugins", "install", &registry.oci("acme/x"), "--yes"])
        .env("MYCLI_HOME", h.home())
        .env("NO_COLOR", "1")
        .output()
        .expect("mycli runs");
    assert_refused(&h, &before, &out, &["File too large"]);
}

//! The OCI registry harness proven with skopeo, not with mycli: pushes and
//! pulls in each authentication mode, the fault proxy's faults, stopping
//! and restarting the registry.

use std::fs;
use std::io::ErrorKind;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::fault_proxy::{Fault, FaultProxy};
use crate::registry::{Auth, Registry, base64, http_get};
use crate::support::{require_tool, stderr};

/// The repository and tag the tests push.
const REPO: &str = "harness/tiny";
const TAG: &str = "v1";
const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";

/// A tiny OCI image layout: one gzip layer, a config, a manifest tagged
/// [`TAG`].
struct Layout {
    dir: tempfile::TempDir,
    manifest: Vec<u8>,
    config: Vec<u8>,
    layer: Vec<u8>,
}

fn digest(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

impl Layout {
    fn new() -> Layout {
        let dir = tempfile::tempdir().expect("temp dir");
        let content = b"a layer of the mycli registry harness\n";
        let layer = gzip_stored(content);
        let config = serde_json::to_vec(&serde_json::json!({
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [digest(content)]},
        }))
        .expect("config JSON");
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": MANIFEST_TYPE,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": digest(&config),
                "size": config.len(),
            },
            "layers": [{
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": digest(&layer),
                "size": layer.len(),
            }],
        }))
        .expect("manifest JSON");
        let index = serde_json::json!({
            "schemaVersion": 2,
            "manifests": [{
                "mediaType": MANIFEST_TYPE,
                "digest": digest(&manifest),
                "size": manifest.len(),
                "annotations": {"org.opencontainers.image.ref.name": TAG},
            }],
        });
        let blobs = dir.path().join("blobs/sha256");
        fs::create_dir_all(&blobs).expect("blobs dir");
        for blob in [&layer, &config, &manifest] {
            let name = digest(blob).replace("sha256:", "");
            fs::write(blobs.join(name), blob).expect("write blob");
        }
        fs::write(dir.path().join("index.json"), index.to_string()).expect("index.json");
        fs::write(
            dir.path().join("oci-layout"),
            r#"{"imageLayoutVersion":"1.0.0"}"#,
        )
        .expect("oci-layout");
        Layout {
            dir,
            manifest,
            config,
            layer,
        }
    }

    /// skopeo's name of the image.
    fn source(&self) -> String {
        format!("oci:{}:{TAG}", self.dir.path().display())
    }
}

/// `data` in a gzip stream of one stored (uncompressed) block: a layer
/// skopeo sees as compressed already, so it pushes it and the manifest
/// unchanged.
fn gzip_stored(data: &[u8]) -> Vec<u8> {
    let len = u16::try_from(data.len()).expect("a short layer");
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 1];
    out.extend(len.to_le_bytes());
    out.extend((!len).to_le_bytes());
    out.extend(data);
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    out.extend((!crc).to_le_bytes());
    out.extend(u32::from(len).to_le_bytes());
    out
}

/// Whether skopeo runs here (see [`require_tool`]).
fn have_skopeo() -> bool {
    require_tool(
        "skopeo",
        &["--version"],
        "it pushes and pulls images to prove the registry harness",
    )
}

/// `skopeo --insecure-policy ARGS`, with no inherited auth file.
fn skopeo(args: &[&str]) -> Output {
    Command::new("skopeo")
        .arg("--insecure-policy")
        .args(args)
        .env_remove("REGISTRY_AUTH_FILE")
        .stdin(Stdio::null())
        .output()
        .expect("skopeo runs")
}

fn creds_arg(registry: &Registry) -> Option<String> {
    registry.credentials().map(|(u, p)| format!("{u}:{p}"))
}

/// Pushes `layout` to `addr` (the registry or a proxy in front of it).
fn push(layout: &Layout, addr: &str, creds: Option<&str>) -> Output {
    let dest = format!("docker://{addr}/{REPO}:{TAG}");
    let source = layout.source();
    let mut args = vec!["copy", "--dest-tls-verify=false"];
    if let Some(creds) = creds {
        args.extend(["--dest-creds", creds]);
    }
    args.extend([source.as_str(), dest.as_str()]);
    skopeo(&args)
}

/// `skopeo inspect --tls-verify=false EXTRA... docker://ADDR/REPO:TAG`.
fn inspect(addr: &str, extra: &[&str]) -> Output {
    let image = format!("docker://{addr}/{REPO}:{TAG}");
    let mut args = vec!["inspect", "--tls-verify=false"];
    args.extend(extra);
    args.push(&image);
    skopeo(&args)
}

#[track_caller]
fn assert_ok(out: &Output, what: &str, registry: &Registry) {
    assert!(
        out.status.success(),
        "{what} failed: {}\nregistry log:\n{}",
        stderr(out),
        registry.log_tail()
    );
}

fn is_auth_error(out: &Output) -> bool {
    let err = stderr(out).to_lowercase();
    !out.status.success()
        && (err.contains("unauthorized")
            || err.contains("authentication required")
            || err.contains("invalid username/password"))
}

/// Pushes to a registry in mode `auth` and reads the manifest back; with
/// authentication, anonymous reads fail and an auth file works.
fn push_and_pull(auth: Auth) {
    if !have_skopeo() {
        return;
    }
    let Some(registry) = Registry::start(auth) else {
        return;
    };
    let layout = Layout::new();
    let creds = creds_arg(&registry);
    let started = Instant::now();
    assert_ok(
        &push(&layout, &registry.addr(), creds.as_deref()),
        "skopeo copy",
        &registry,
    );
    let mut raw = vec!["--raw"];
    let creds_args;
    if let Some(creds) = &creds {
        creds_args = ["--creds", creds.as_str()];
        raw.extend(creds_args);
    }
    let out = inspect(&registry.addr(), &raw);
    assert_ok(&out, "skopeo inspect --raw", &registry);
    assert_eq!(
        out.stdout, layout.manifest,
        "the manifest pushed comes back"
    );

    let anonymous = inspect(&registry.addr(), &["--raw", "--no-creds"]);
    if auth == Auth::Anonymous {
        assert_ok(&anonymous, "anonymous skopeo inspect", &registry);
    } else {
        assert!(
            is_auth_error(&anonymous),
            "an anonymous read fails with an authentication error: {}",
            stderr(&anonymous)
        );
        let config = tempfile::tempdir().expect("temp dir");
        registry.write_docker_config(config.path());
        let file = config.path().join("config.json");
        let out = inspect(
            &registry.addr(),
            &["--raw", "--authfile", &file.to_string_lossy()],
        );
        assert_ok(&out, "skopeo inspect --authfile", &registry);
        assert_eq!(out.stdout, layout.manifest);
    }
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn anonymous_registry_takes_a_push_and_gives_the_manifest_back() {
    push_and_pull(Auth::Anonymous);
}

#[test]
fn basic_registry_wants_credentials() {
    push_and_pull(Auth::Basic);
}

#[test]
fn token_registry_wants_credentials() {
    push_and_pull(Auth::Token);
}

#[test]
fn docker_config_holds_the_credentials_for_the_address() {
    let Some(registry) = Registry::start(Auth::Basic) else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    registry.write_docker_config(dir.path());
    let config: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join("config.json")).expect("read"))
            .expect("config.json is JSON");
    let (user, password) = registry.credentials().expect("Basic has credentials");
    assert_eq!(
        config["auths"][registry.addr()]["auth"],
        base64(format!("{user}:{password}").as_bytes())
    );
    assert!(registry.addr().starts_with("127.0.0.1:"));
    assert_eq!(
        registry.oci("a/b"),
        format!("oci://{}/a/b", registry.addr())
    );
    // Basic credentials open the API; none get a challenge.
    let basic = format!("Basic {}", base64(format!("{user}:{password}").as_bytes()));
    let open = http_get(&registry.addr(), "/v2/", &[("Authorization", &basic)]).expect("GET /v2/");
    assert_eq!(open.status, 200);
    let challenged = http_get(&registry.addr(), "/v2/", &[]).expect("GET /v2/");
    assert_eq!(challenged.status, 401);
    assert!(
        challenged
            .header("www-authenticate")
            .is_some_and(|c| c.starts_with("Basic")),
        "{:?}",
        challenged.headers
    );
}

#[test]
fn token_server_grants_the_scopes_asked_to_the_right_credentials() {
    let Some(registry) = Registry::start(Auth::Token) else {
        return;
    };
    let challenge = http_get(&registry.addr(), "/v2/", &[]).expect("GET /v2/");
    assert_eq!(challenge.status, 401);
    let challenge = challenge.header("www-authenticate").expect("a challenge");
    let realm = challenge
        .split("realm=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a realm");
    let server = realm
        .strip_prefix("http://")
        .and_then(|r| r.strip_suffix("/token"))
        .expect("the token server on loopback");
    let service = challenge
        .split("service=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a service");
    let (user, password) = registry.credentials().expect("Token has credentials");
    let token_for = |query: &str, password: &str| {
        let basic = format!("Basic {}", base64(format!("{user}:{password}").as_bytes()));
        let path = format!("/token?service={service}&{query}");
        http_get(server, &path, &[("Authorization", &basic)]).expect("GET /token")
    };
    assert_eq!(token_for("scope=registry:catalog:*", "wrong").status, 401);
    let anonymous = http_get(server, &format!("/token?service={service}"), &[]).expect("GET");
    assert_eq!(anonymous.status, 401);

    let catalog = |answer: crate::registry::Response| {
        assert_eq!(answer.status, 200);
        let json: serde_json::Value = serde_json::from_slice(&answer.body).expect("JSON");
        assert_eq!(json["token"], json["access_token"]);
        assert_eq!(json["expires_in"], 300);
        let bearer = format!("Bearer {}", json["token"].as_str().expect("a token"));
        http_get(
            &registry.addr(),
            "/v2/_catalog",
            &[("Authorization", &bearer)],
        )
        .expect("GET /v2/_catalog")
        .status
    };
    // Several scope parameters, one of them with several actions.
    let both = token_for(
        "scope=repository%3Aa%2Fb%3Apull%2Cpush&scope=registry:catalog:*",
        &password,
    );
    assert_eq!(catalog(both), 200);
    let repository_only = token_for("scope=repository:a/b:pull,push", &password);
    assert_eq!(catalog(repository_only), 401);
}

/// An anonymous registry holding the tiny image, with a proxy in front.
fn pushed_behind_proxy() -> Option<(Registry, Layout, FaultProxy)> {
    if !have_skopeo() {
        return None;
    }
    let registry = Registry::start(Auth::Anonymous)?;
    let layout = Layout::new();
    assert_ok(
        &push(&layout, &registry.addr(), None),
        "skopeo copy",
        &registry,
    );
    let proxy = FaultProxy::start(&registry);
    Some((registry, layout, proxy))
}

#[test]
fn fault_proxy_answers_a_status_the_times_asked() {
    let Some((registry, layout, proxy)) = pushed_behind_proxy() else {
        return;
    };
    proxy.on(
        Some("GET"),
        "/manifests/",
        Fault::Status {
            code: 503,
            times: 1,
            retry_after: Some(1),
        },
    );
    let manifest_get = format!("GET /v2/{REPO}/manifests/{TAG}");
    let failed = inspect(&proxy.addr(), &["--raw"]);
    assert!(!failed.status.success(), "the 503 reaches skopeo");
    assert!(stderr(&failed).contains("503"), "{}", stderr(&failed));
    assert_eq!(
        proxy
            .requests()
            .iter()
            .filter(|r| **r == manifest_get)
            .count(),
        1,
        "{:?}",
        proxy.requests()
    );
    let out = inspect(&proxy.addr(), &["--raw"]);
    assert_ok(&out, "skopeo inspect through the proxy", &registry);
    assert_eq!(out.stdout, layout.manifest);
    assert_eq!(
        proxy
            .requests()
            .iter()
            .filter(|r| **r == manifest_get)
            .count(),
        2,
        "{:?}",
        proxy.requests()
    );
}

#[test]
fn fault_proxy_truncates_corrupts_replaces_and_delays() {
    let Some((_registry, layout, proxy)) = pushed_behind_proxy() else {
        return;
    };
    let layer = format!("/v2/{REPO}/blobs/{}", digest(&layout.layer));
    let config = format!("/v2/{REPO}/blobs/{}", digest(&layout.config));
    let manifest = format!("/v2/{REPO}/manifests/{TAG}");
    let get = |path: &str| http_get(&proxy.addr(), path, &[]).expect("GET through the proxy");

    // Untouched first: the proxy forwards.
    let whole = get(&layer);
    assert_eq!((whole.status, &whole.body), (200, &layout.layer));

    proxy.on(Some("GET"), &layer, Fault::Truncate { keep: 5 });
    let short = get(&layer);
    assert_eq!(short.status, 200);
    assert_eq!(
        short.header("content-length"),
        Some(layout.layer.len().to_string().as_str())
    );
    assert_eq!(short.body, layout.layer[..5]);

    proxy.on(None, &config, Fault::Corrupt);
    let corrupt = get(&config);
    assert_eq!(corrupt.body.len(), layout.config.len());
    assert_ne!(corrupt.body, layout.config);
    assert_eq!(
        corrupt
            .body
            .iter()
            .zip(&layout.config)
            .filter(|(a, b)| a != b)
            .count(),
        1
    );

    proxy.on(
        None,
        "/_catalog",
        Fault::Status {
            code: 429,
            times: 1,
            retry_after: Some(7),
        },
    );
    let busy = get("/v2/_catalog");
    assert_eq!((busy.status, busy.header("retry-after")), (429, Some("7")));
    assert_eq!(get("/v2/_catalog").status, 200, "one time only");

    proxy.on(
        Some("GET"),
        "/tags/list",
        Fault::Body {
            content_type: "text/html".to_string(),
            body: b"<html>maintenance</html>".to_vec(),
            status: 200,
        },
    );
    let html = get(&format!("/v2/{REPO}/tags/list"));
    assert_eq!(html.header("content-type"), Some("text/html"));
    assert_eq!(html.body, b"<html>maintenance</html>");

    proxy.on(Some("GET"), "/manifests/", Fault::Delay { seconds: 0.5 });
    let started = Instant::now();
    let slow =
        http_get(&proxy.addr(), &manifest, &[("Accept", MANIFEST_TYPE)]).expect("GET the manifest");
    assert!(started.elapsed() >= Duration::from_millis(500));
    assert_eq!(slow.body, layout.manifest);

    assert_eq!(
        proxy.requests()[..2],
        [format!("GET {layer}"), format!("GET {layer}")]
    );
}

#[test]
fn fault_proxy_takes_pushes_and_redirects_elsewhere() {
    if !have_skopeo() {
        return;
    }
    let Some(registry) = Registry::start(Auth::Basic) else {
        return;
    };
    let creds = creds_arg(&registry).expect("Basic has credentials");
    let proxy = FaultProxy::start(&registry);
    assert_eq!(proxy.oci("a/b"), format!("oci://{}/a/b", proxy.addr()));
    let layout = Layout::new();
    // Upload URLs come back rewritten to the proxy, so the whole push goes
    // through it.
    assert_ok(
        &push(&layout, &proxy.addr(), Some(&creds)),
        "skopeo copy through the proxy",
        &registry,
    );
    let requests = proxy.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with(&format!("PUT /v2/{REPO}/blobs/uploads/"))),
        "{requests:?}"
    );
    assert!(requests.contains(&format!("PUT /v2/{REPO}/manifests/{TAG}")));

    assert_eq!(proxy.redirected_with_authorization(), None);
    proxy.on(Some("GET"), "/blobs/", Fault::RedirectElsewhere);
    // skopeo reads the config blob, following the redirect to another
    // host without the credentials.
    let out = inspect(&proxy.addr(), &["--creds", &creds]);
    assert_ok(&out, "skopeo inspect through the redirect", &registry);
    assert_eq!(proxy.redirected_with_authorization(), Some(false));

    // A client that carries them along is seen.
    let basic = format!("Basic {}", base64(creds.as_bytes()));
    let auth = [("Authorization", basic.as_str())];
    let config = format!("/v2/{REPO}/blobs/{}", digest(&layout.config));
    let redirect = http_get(&proxy.addr(), &config, &auth).expect("GET through the proxy");
    assert_eq!(redirect.status, 307);
    let location = redirect.header("location").expect("a Location");
    let elsewhere = location
        .strip_prefix("http://")
        .and_then(|l| l.strip_suffix(config.as_str()))
        .expect("the same path on another host");
    assert_ne!(elsewhere, proxy.addr());
    let followed = http_get(elsewhere, &config, &auth).expect("GET elsewhere");
    assert_eq!((followed.status, &followed.body), (200, &layout.config));
    assert_eq!(proxy.redirected_with_authorization(), Some(true));
}

#[test]
fn stop_refuses_connections_and_restart_keeps_the_storage() {
    if !have_skopeo() {
        return;
    }
    let Some(mut registry) = Registry::start(Auth::Anonymous) else {
        return;
    };
    let layout = Layout::new();
    assert_ok(
        &push(&layout, &registry.addr(), None),
        "skopeo copy",
        &registry,
    );
    registry.stop();
    let err = http_get(&registry.addr(), "/v2/", &[]).expect_err("GET /v2/ fails once stopped");
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
    registry.restart();
    let out = inspect(&registry.addr(), &["--raw"]);
    assert_ok(&out, "skopeo inspect after the restart", &registry);
    assert_eq!(out.stdout, layout.manifest);
}

#[test]
fn gzip_stored_is_what_gzip_reads() {
    if !require_tool("gzip", &["--version"], "it checks the layer's encoding") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("layer.gz");
    fs::write(&file, gzip_stored(b"hello, layer\n")).expect("write");
    let out = Command::new("gzip")
        .arg("-dc")
        .arg(&file)
        .output()
        .expect("gzip runs");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout, b"hello, layer\n");
}

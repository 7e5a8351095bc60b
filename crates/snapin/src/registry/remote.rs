//! One repository in a registry, through the ORAS project's `oci-client`:
//! tags, manifests and blobs in, blobs and manifests out. It adds what
//! the host promises on top of the client: plain HTTP only to loopback
//! and configured hosts, bounded time-outs, retries with backoff on 429
//! and 5xx, size caps, digests checked on every byte, and failures in one
//! line with their fix.

use std::io::Write as _;
use std::time::Duration;

use futures_util::StreamExt as _;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{DigestError, OciDistributionError, OciErrorCode};
use oci_client::manifest::OciDescriptor;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, RegistryOperation};
use sha2::{Digest as _, Sha256};

use crate::diagnostic::Diagnostic;
use crate::ui;

use super::credentials;
use super::layout::Layout;
use super::oci::{self, Descriptor, hex};

/// How long to wait for a connection, and for each read.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Attempts of a request the registry answered with 429 or 5xx, and the
/// first wait between them (doubled each time).
const ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(250);

/// A repository in a registry, and who the host is to it.
pub(crate) struct Remote {
    client: Client,
    auth: RegistryAuth,
    registry: String,
    repository: String,
    ns: String,
    authenticated: std::cell::Cell<Option<RegistryOperation>>,
}

/// Whether `registry` (`HOST[:PORT]`) is this machine, which is reached
/// over plain HTTP as Docker does.
pub(crate) fn is_loopback(registry: &str) -> bool {
    let host = match registry.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => registry,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A client and the credentials for one registry, shared by every
/// repository a command reads there: setting up TLS (reading the system's
/// certificates) and asking a credential helper happen once per registry.
#[derive(Clone)]
pub(crate) struct Connection {
    client: Client,
    auth: RegistryAuth,
}

impl Connection {
    /// A connection to `registry`, plain HTTP when it is loopback or listed
    /// in `insecure`.
    pub(crate) fn open(
        ns: &str,
        registry: &str,
        insecure: &[String],
    ) -> Result<Connection, Diagnostic> {
        // One process-wide TLS provider: ring. Installing it twice is
        // harmless (the second is refused).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let protocol = if is_loopback(registry) || insecure.iter().any(|h| h == registry) {
            ClientProtocol::HttpsExcept(vec![registry.to_string()])
        } else {
            ClientProtocol::Https
        };
        let config = ClientConfig {
            protocol,
            connect_timeout: Some(CONNECT_TIMEOUT),
            read_timeout: Some(READ_TIMEOUT),
            max_concurrent_download: 1,
            max_concurrent_upload: 1,
            user_agent: concat!("snapin/", env!("CARGO_PKG_VERSION")),
            ..ClientConfig::default()
        };
        let client = Client::try_from(config).map_err(|e| {
            Diagnostic::new(format!("cannot set up a registry client: {e}"))
                .with_fix("report this as a bug")
        })?;
        Ok(Connection {
            client,
            auth: credentials::for_registry(ns, registry),
        })
    }
}

impl Remote {
    /// The repository `repository` of `registry`, through `connection`.
    pub(crate) fn new(
        ns: &str,
        connection: &Connection,
        registry: &str,
        repository: &str,
    ) -> Remote {
        Remote {
            client: connection.client.clone(),
            auth: connection.auth.clone(),
            registry: registry.to_string(),
            repository: repository.to_string(),
            ns: ns.to_string(),
            authenticated: std::cell::Cell::new(None),
        }
    }

    fn image(&self, tag_or_digest: &str) -> oci_client::Reference {
        if tag_or_digest.starts_with("sha256:") {
            oci_client::Reference::with_digest(
                self.registry.clone(),
                self.repository.clone(),
                tag_or_digest.to_string(),
            )
        } else {
            oci_client::Reference::with_tag(
                self.registry.clone(),
                self.repository.clone(),
                tag_or_digest.to_string(),
            )
        }
    }

    /// `oci://HOST/REPO`.
    pub(crate) fn url(&self) -> String {
        format!("oci://{}/{}", self.registry, self.repository)
    }

    /// Authenticates for `op` once (a push also needs a pull token).
    async fn authenticate(&self, op: RegistryOperation) -> Result<(), Diagnostic> {
        if self.authenticated.get() == Some(RegistryOperation::Push)
            || self.authenticated.get() == Some(op)
        {
            return Ok(());
        }
        let image = self.image("latest");
        let ops: &[RegistryOperation] = match op {
            RegistryOperation::Pull => &[RegistryOperation::Pull],
            RegistryOperation::Push => &[RegistryOperation::Pull, RegistryOperation::Push],
        };
        for op in ops {
            self.retrying(&format!("use {}", self.url()), || async {
                self.client.auth(&image, &self.auth, *op).await.map(|_| ())
            })
            .await?;
        }
        self.authenticated.set(Some(op));
        Ok(())
    }

    /// Runs `request` until it succeeds, fails for good, or has been
    /// answered 429 or 5xx [`ATTEMPTS`] times.
    async fn retrying<T, F, Fut>(&self, what: &str, request: F) -> Result<T, Diagnostic>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, OciDistributionError>>,
    {
        let mut wait = FIRST_BACKOFF;
        let mut attempt = 1;
        loop {
            match request().await {
                Ok(value) => return Ok(value),
                Err(e) if attempt < ATTEMPTS && is_retryable(&e) => {
                    tracing::debug!(
                        "{}: {what}: {e}; attempt {attempt} of {ATTEMPTS}, again in {wait:?}",
                        self.url()
                    );
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                    attempt += 1;
                }
                Err(e) => return Err(self.diagnose(what, &e, attempt)),
            }
        }
    }

    /// The repository's tags.
    pub(crate) async fn tags(&self) -> Result<Vec<String>, Diagnostic> {
        self.authenticate(RegistryOperation::Pull).await?;
        let image = self.image("latest");
        let response = self
            .retrying(&format!("list the tags of {}", self.url()), || {
                self.client.list_tags(&image, &self.auth, None, None)
            })
            .await?;
        Ok(response.tags)
    }

    /// The manifest or index at a tag or digest: its bytes and digest,
    /// checked against the digest asked for and the registry's header.
    pub(crate) async fn manifest(
        &self,
        tag_or_digest: &str,
    ) -> Result<(Vec<u8>, String), Diagnostic> {
        self.authenticate(RegistryOperation::Pull).await?;
        let image = self.image(tag_or_digest);
        let what = format!("read {}{}", self.url(), at(tag_or_digest));
        let (bytes, digest) = self
            .retrying(&what, || {
                self.client
                    .pull_manifest_raw(&image, &self.auth, oci::ACCEPTED)
            })
            .await?;
        if bytes.len() as u64 > oci::MANIFEST_CAP {
            return Err(Diagnostic::new(format!(
                "cannot {what}: its manifest is {} bytes, more than the {} a plugin's can be",
                bytes.len(),
                oci::MANIFEST_CAP
            ))
            .with_fix("publish the plugin again with this host's `plugins publish`"));
        }
        Ok((bytes.to_vec(), digest))
    }

    /// Downloads blob `descriptor` into `cache`, checking its size and
    /// digest as it comes, with a progress bar on a terminal.
    pub(crate) async fn blob_into(
        &self,
        descriptor: &Descriptor,
        cache: &Layout,
        cap: u64,
        label: &str,
    ) -> Result<(), Diagnostic> {
        let what = format!("download {} from {}", descriptor.digest, self.url());
        if descriptor.size > cap {
            return Err(too_large(&what, descriptor.size, cap));
        }
        self.authenticate(RegistryOperation::Pull).await?;
        let image = self.image(&descriptor.digest);
        let layer = OciDescriptor {
            media_type: descriptor.media_type.clone(),
            digest: descriptor.digest.clone(),
            size: descriptor.size as i64,
            ..OciDescriptor::default()
        };
        let disk = |e: std::io::Error| {
            Diagnostic::new(format!(
                "cannot {what}: cannot write the download cache {}: {e}",
                cache.dir().display()
            ))
            .with_fix("free some disk space or fix the directory's permissions, then try again")
        };
        let mut wait = FIRST_BACKOFF;
        let mut attempt = 1;
        loop {
            let mut tmp = cache.temporary().map_err(disk)?;
            let progress = ui::Progress::bytes(&self.ns, label, descriptor.size);
            // Errors of the stream are the registry's or the network's;
            // only writing the temporary file is the disk's.
            let result: Result<(), Fetch> = async {
                let mut stream = self.client.pull_blob_stream(&image, &layer).await?;
                let mut hasher = Sha256::new();
                let mut got = 0u64;
                while let Some(chunk) = stream.next().await {
                    let chunk = chunk.map_err(stream_error)?;
                    got += chunk.len() as u64;
                    if got > descriptor.size {
                        return Err(OciDistributionError::GenericError(Some(format!(
                            "it sent more than the {} bytes its manifest gives",
                            descriptor.size
                        )))
                        .into());
                    }
                    hasher.update(&chunk);
                    tmp.write_all(&chunk).map_err(Fetch::Disk)?;
                    progress.advance(chunk.len() as u64);
                }
                if got != descriptor.size {
                    return Err(OciDistributionError::GenericError(Some(format!(
                        "it sent {got} of the {} bytes its manifest gives (cut short)",
                        descriptor.size
                    )))
                    .into());
                }
                let actual = format!("sha256:{}", hex(&hasher.finalize()));
                if actual != descriptor.digest {
                    return Err(OciDistributionError::GenericError(Some(format!(
                        "its content has digest {actual}, not {}",
                        descriptor.digest
                    )))
                    .into());
                }
                Ok(())
            }
            .await;
            drop(progress);
            let e = match result {
                Ok(()) => {
                    return cache
                        .keep(tmp, &cache.blob_path(&descriptor.digest))
                        .map_err(disk);
                }
                Err(Fetch::Disk(e)) => return Err(disk(e)),
                Err(Fetch::Registry(e)) => e,
            };
            if attempt >= ATTEMPTS || !(is_retryable(&e) || is_cut_short(&e)) {
                return Err(self.diagnose(&what, &e, attempt));
            }
            tracing::debug!("{what}: {e}; attempt {attempt} of {ATTEMPTS}, again in {wait:?}");
            tokio::time::sleep(wait).await;
            wait *= 2;
            attempt += 1;
        }
    }

    /// Uploads `bytes` as a blob unless the registry has it.
    pub(crate) async fn push_blob(&self, bytes: &[u8], digest: &str) -> Result<(), Diagnostic> {
        self.authenticate(RegistryOperation::Push).await?;
        let image = self.image(digest);
        let what = format!("upload {digest} to {}", self.url());
        let exists = self
            .retrying(&what, || self.client.blob_exists(&image, digest))
            .await?;
        if !exists {
            self.retrying(&what, || {
                self.client.push_blob(&image, bytes.to_vec(), digest)
            })
            .await?;
        }
        Ok(())
    }

    /// The referrers of `digest` (signatures and the like): through the
    /// registry's referrers API, or, where it has none (404), the index
    /// under the tag `sha256-HEX` (the OCI referrers tag schema).
    pub(crate) async fn referrers(&self, digest: &str) -> Result<Vec<Descriptor>, Diagnostic> {
        self.authenticate(RegistryOperation::Pull).await?;
        let image = self.image(digest);
        let what = format!("read the referrers of {}@{digest}", self.url());
        let index = self
            .retrying(&what, || self.client.pull_referrers(&image, None))
            .await?;
        let entries = serde_json::to_value(&index.manifests)
            .and_then(serde_json::from_value::<Vec<Descriptor>>)
            .map_err(|e| {
                Diagnostic::new(format!("cannot {what}: its list is malformed: {e}"))
                    .with_fix("try again; if it persists, the registry serves damaged content")
            })?;
        for entry in &entries {
            super::reference::digest(&entry.digest).map_err(|why| {
                Diagnostic::new(format!("cannot {what}: one of its entries is wrong: {why}"))
                    .with_fix("try again; if it persists, the registry serves damaged content")
            })?;
        }
        Ok(entries)
    }

    /// Uploads a manifest or index under `tag_or_digest`.
    pub(crate) async fn push_manifest(
        &self,
        bytes: &[u8],
        media_type: &str,
        tag_or_digest: &str,
    ) -> Result<(), Diagnostic> {
        self.authenticate(RegistryOperation::Push).await?;
        let image = self.image(tag_or_digest);
        let what = format!("push {}{}", self.url(), at(tag_or_digest));
        let content_type = http::HeaderValue::from_str(media_type)
            .map_err(|e| Diagnostic::new(format!("cannot {what}: {e}")))?;
        self.retrying(&what, || {
            self.client
                .push_manifest_raw(&image, bytes.to_vec(), content_type.clone())
        })
        .await?;
        Ok(())
    }

    /// The failure `e` of `what` in one line with its fix.
    fn diagnose(&self, what: &str, e: &OciDistributionError, attempts: u32) -> Diagnostic {
        let ns = &self.ns;
        let registry = &self.registry;
        let what = format!("cannot {what}");
        let (user_var, password_var) = credentials::env_names(ns);
        let login =
            format!("log in with `docker login {registry}`, or set {user_var} and {password_var}");
        let after = if attempts > 1 {
            format!(" (after {attempts} attempts)")
        } else {
            String::new()
        };
        match e {
            OciDistributionError::RequestError(r) => {
                let chain = error_chain(r);
                if r.is_timeout() {
                    Diagnostic::new(format!("{what}: the registry did not answer in time{after}"))
                        .with_fix("check the registry's address and your network, then try again")
                } else if is_tls(&chain) {
                    Diagnostic::new(format!("{what}: the TLS connection failed: {chain}"))
                        .with_fix(format!(
                            "check the address; a registry without TLS must be listed under [registry] insecure in {ns}'s config.toml"
                        ))
                } else if chain.contains("dns error") || chain.contains("failed to lookup") {
                    Diagnostic::new(format!("{what}: the name {registry} does not resolve"))
                        .with_fix("check the registry's host name and your network")
                } else if r.is_connect() {
                    let cause = chain.rsplit(": ").next().unwrap_or(&chain).to_string();
                    Diagnostic::new(format!("{what}: the registry is unreachable ({cause})"))
                        .with_fix("check the registry's address and that it is running, then try again")
                } else {
                    Diagnostic::new(format!("{what}: {chain}{after}"))
                        .with_fix("check the registry's address and your network, then try again")
                }
            }
            OciDistributionError::UnauthorizedError { .. }
            | OciDistributionError::AuthenticationFailure(_) => Diagnostic::new(format!(
                "{what}: the registry refused {}",
                match self.auth {
                    RegistryAuth::Anonymous => "anonymous access",
                    _ => "the credentials given",
                }
            ))
            .with_fix(login),
            OciDistributionError::RegistryError { envelope, .. } => {
                let codes: Vec<&OciErrorCode> = envelope.errors.iter().map(|e| &e.code).collect();
                let message = envelope
                    .errors
                    .first()
                    .map(|e| e.message.clone())
                    .unwrap_or_default();
                if codes.iter().any(|c| {
                    matches!(c, OciErrorCode::Unauthorized | OciErrorCode::Denied)
                }) {
                    Diagnostic::new(format!("{what}: the registry refused access: {message}"))
                        .with_fix(login)
                } else if codes.iter().any(|c| {
                    matches!(
                        c,
                        OciErrorCode::NameUnknown
                            | OciErrorCode::ManifestUnknown
                            | OciErrorCode::BlobUnknown
                            | OciErrorCode::NotFound
                    )
                }) {
                    Diagnostic::new(format!("{what}: it does not exist ({message})"))
                        .with_fix("check the repository's name and the version")
                } else {
                    Diagnostic::new(format!("{what}: the registry said: {message}"))
                        .with_fix("check the reference, then try again")
                }
            }
            OciDistributionError::ServerError { code, message, .. } => match code {
                401 | 403 => Diagnostic::new(format!("{what}: the registry refused access ({code})"))
                    .with_fix(login),
                404 => Diagnostic::new(format!("{what}: it does not exist (404)"))
                    .with_fix("check the repository's name and the version"),
                _ => Diagnostic::new(format!(
                    "{what}: the registry answered {code}{after}{}",
                    summary(message)
                ))
                .with_fix("try again later, or tell the registry's operators"),
            },
            OciDistributionError::DigestError(d) => {
                Diagnostic::new(format!("{what}: its content does not match its digest: {d}"))
                    .with_fix("try again; if it persists, the registry serves damaged content: tell its operators")
            }
            OciDistributionError::IoError(io) => Diagnostic::new(format!(
                "{what}: it was cut short ({}){after}",
                error_chain(io)
            ))
            .with_fix("try again; if it persists, check your network or tell the registry's operators"),
            OciDistributionError::GenericError(Some(reason)) => {
                Diagnostic::new(format!("{what}: {reason}{after}"))
                    .with_fix("try again; if it persists, the registry serves damaged content: tell its operators")
            }
            OciDistributionError::JsonError(_)
            | OciDistributionError::ManifestParsingError(_)
            | OciDistributionError::VersionedParsingError(_)
            | OciDistributionError::ManifestEncodingError(_)
            | OciDistributionError::RegistryTokenDecodeError(_)
            | OciDistributionError::SpecViolationError(_) => Diagnostic::new(format!(
                "{what}: the registry's answer is not what the OCI distribution API sends ({e})"
            ))
            .with_fix("check that the address is an OCI registry"),
            other => Diagnostic::new(format!("{what}: {other}"))
                .with_fix("check the reference and the registry, then try again"),
        }
    }
}

fn at(tag_or_digest: &str) -> String {
    if tag_or_digest.starts_with("sha256:") {
        format!("@{tag_or_digest}")
    } else {
        format!(":{tag_or_digest}")
    }
}

fn too_large(what: &str, size: u64, cap: u64) -> Diagnostic {
    Diagnostic::new(format!(
        "cannot {what}: it is {size} bytes, more than the {cap} this host downloads"
    ))
    .with_fix("check that the reference names a plugin")
}

/// The first line of a registry's message, short, after `: `.
fn summary(message: &str) -> String {
    let line = message.lines().next().unwrap_or("").trim();
    if line.is_empty() || line.starts_with('<') {
        return String::new();
    }
    let short: String = line.chars().take(120).collect();
    format!(": {short}")
}

/// A reqwest error and its causes, joined.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

fn is_tls(chain: &str) -> bool {
    let lower = chain.to_ascii_lowercase();
    [
        "certificate",
        "tls",
        "handshake",
        "invalidcontenttype",
        "corrupt message",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

fn is_retryable(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::ServerError { code, .. } => *code == 429 || *code >= 500,
        OciDistributionError::RegistryError { envelope, .. } => envelope
            .errors
            .iter()
            .any(|e| matches!(e.code, OciErrorCode::Toomanyrequests)),
        OciDistributionError::RequestError(r) => r
            .status()
            .is_some_and(|s| s.as_u16() == 429 || s.is_server_error()),
        _ => false,
    }
}

/// Whether a blob download ended early: fewer bytes than its size, or
/// the connection broke inside the body (the stream's I/O errors, which
/// [`stream_error`] left as such, are all the network's).
fn is_cut_short(e: &OciDistributionError) -> bool {
    matches!(e, OciDistributionError::GenericError(Some(r)) if r.contains("cut short"))
        || matches!(e, OciDistributionError::IoError(_))
        || matches!(e, OciDistributionError::RequestError(r) if r.is_body() || r.is_decode())
}

/// Why a blob download failed: the registry or the network, or writing
/// the download cache.
enum Fetch {
    Registry(OciDistributionError),
    Disk(std::io::Error),
}

impl From<OciDistributionError> for Fetch {
    fn from(e: OciDistributionError) -> Fetch {
        Fetch::Registry(e)
    }
}

/// An error of a blob's byte stream: the client's own digest check at its
/// end, said as this host's check says it, or the network's.
fn stream_error(e: std::io::Error) -> OciDistributionError {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<DigestError>())
    {
        Some(DigestError::VerificationError { expected, actual }) => {
            OciDistributionError::GenericError(Some(format!(
                "its content has digest {actual}, not {expected}"
            )))
        }
        Some(other) => OciDistributionError::GenericError(Some(other.to_string())),
        None => OciDistributionError::IoError(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_registries_are_told_apart() {
        for yes in [
            "127.0.0.1:5000",
            "localhost:5000",
            "[::1]:5000",
            "127.1.2.3",
            "localhost",
        ] {
            assert!(is_loopback(yes), "{yes}");
        }
        for no in ["ghcr.io", "10.0.0.1:5000", "localhost.example.com:5000"] {
            assert!(!is_loopback(no), "{no}");
        }
    }

    #[test]
    fn a_blob_stream_that_fails_its_digest_is_damage_not_a_broken_download() {
        let mismatch = std::io::Error::other(DigestError::VerificationError {
            expected: "sha256:aa".to_string(),
            actual: "sha256:bb".to_string(),
        });
        let e = stream_error(mismatch);
        assert!(
            matches!(&e, OciDistributionError::GenericError(Some(r)) if r == "its content has digest sha256:bb, not sha256:aa"),
            "{e:?}"
        );
        assert!(!is_cut_short(&e) && !is_retryable(&e));
        let broken = stream_error(std::io::Error::other("error decoding response body"));
        assert!(matches!(broken, OciDistributionError::IoError(_)));
        assert!(is_cut_short(&broken));
    }
}

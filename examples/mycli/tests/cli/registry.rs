//! A real OCI registry for the tests: distribution's `docker-registry` on
//! 127.0.0.1, anonymous, behind htpasswd Basic authentication, or behind a
//! token server that runs in the test process; and the few blocking HTTP/1.1
//! pieces the token server, the fault proxy and the tests share.

use std::fmt::Write as _;
use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use sha2::{Digest, Sha256};

use crate::support::require_tool;

/// How long the registry may take to answer `GET /v2/` after it starts.
const START_DEADLINE: Duration = Duration::from_secs(20);
/// How long any socket of the harness waits for its peer.
pub const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest request or response head the harness reads.
const MAX_HEAD: usize = 64 * 1024;

/// The `service` and `issuer` the registry expects in tokens.
const SERVICE: &str = "mycli-test-registry";
const ISSUER: &str = "mycli-test-token-server";

/// How the registry authenticates its clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    /// No authentication: anyone may pull and push.
    Anonymous,
    /// HTTP Basic against an htpasswd file (bcrypt).
    Basic,
    /// Bearer tokens from a token server that wants Basic credentials.
    Token,
}

/// A running `docker-registry`, killed with its token server on drop.
pub struct Registry {
    dir: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
    credentials: Option<(String, String)>,
    /// Stops on drop, after the registry (fields drop after `drop`).
    _token_server: Option<Server>,
}

impl Registry {
    /// Starts a registry with storage in a fresh temporary directory.
    /// `None` (after [`require_tool`] failed the test under CI, or skipped
    /// it loudly) when `docker-registry`, or `htpasswd` for [`Auth::Basic`],
    /// is not installed.
    pub fn start(auth: Auth) -> Option<Registry> {
        // mycli hands the registry commands to mycli-registry.
        crate::support::ensure_registry_helper();
        if !require_tool(
            "docker-registry",
            &["--version"],
            "it is the OCI registry the plugin publish and install tests talk to",
        ) {
            return None;
        }
        if auth == Auth::Basic
            && !require_tool(
                "htpasswd",
                &["-nbB", "probe", "probe"],
                "it writes the registry's password file",
            )
        {
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let credentials = match auth {
            Auth::Anonymous => None,
            Auth::Basic | Auth::Token => Some(("mycli-user".to_string(), random_hex(12))),
        };
        let (auth_section, token_server) = match auth {
            Auth::Anonymous => (String::new(), None),
            Auth::Basic => {
                let (user, password) = credentials.as_ref().expect("Basic has credentials");
                let out = Command::new("htpasswd")
                    .args(["-nbB", user, password])
                    .stdin(Stdio::null())
                    .output()
                    .expect("htpasswd runs");
                assert!(
                    out.status.success(),
                    "htpasswd failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                let file = dir.path().join("htpasswd");
                fs::write(&file, &out.stdout).expect("write htpasswd");
                let section = format!(
                    "auth:\n  htpasswd:\n    realm: mycli-test\n    path: {}\n",
                    file.display()
                );
                (section, None)
            }
            Auth::Token => {
                let (user, password) = credentials.clone().expect("Token has credentials");
                let issuer = TokenIssuer::new(user, password);
                let bundle = dir.path().join("token-issuer.pem");
                fs::write(&bundle, pem_certificate(&issuer.certificate)).expect("write cert");
                let server = Server::start(
                    bind_loopback("127.0.0.1"),
                    "token-server",
                    Arc::new(move |stream| issuer.serve(stream)),
                );
                let section = format!(
                    "auth:\n  token:\n    realm: http://{}/token\n    service: {SERVICE}\n    issuer: {ISSUER}\n    rootcertbundle: {}\n",
                    server.addr(),
                    bundle.display()
                );
                (section, Some(server))
            }
        };
        let mut registry = Registry {
            port: 0,
            child: None,
            credentials,
            _token_server: token_server,
            dir,
        };
        // The port is free when found, but another process may take it
        // before the registry binds it: then try another.
        for attempt in 1..=5 {
            registry.port = free_port();
            registry.write_config(&auth_section);
            match registry.spawn_and_wait() {
                Ok(()) => return Some(registry),
                Err(e) if e.contains("address already in use") && attempt < 5 => continue,
                Err(e) => panic!("{e}"),
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `oci://127.0.0.1:PORT/REPO`.
    pub fn oci(&self, repo: &str) -> String {
        format!("oci://{}/{repo}", self.addr())
    }

    /// The user and password that [`Auth::Basic`] and [`Auth::Token`]
    /// registries accept; `None` for [`Auth::Anonymous`].
    pub fn credentials(&self) -> Option<(String, String)> {
        self.credentials.clone()
    }

    /// Writes `DIR/config.json` in Docker's format, with `auths` for
    /// [`Registry::addr`] holding the credentials (none for an anonymous
    /// registry): for tests that set `DOCKER_CONFIG=DIR`, or pass the file
    /// as skopeo's `--authfile`.
    pub fn write_docker_config(&self, dir: &Path) {
        let auths = match &self.credentials {
            Some((user, password)) => serde_json::json!({
                self.addr(): {"auth": base64(format!("{user}:{password}").as_bytes())}
            }),
            None => serde_json::json!({}),
        };
        fs::create_dir_all(dir).expect("create the docker config directory");
        let config = serde_json::json!({ "auths": auths });
        fs::write(dir.join("config.json"), config.to_string()).expect("write config.json");
    }

    /// Kills the registry and waits for it: later requests fail to
    /// connect. The storage is kept for [`Registry::restart`].
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the registry if it runs and starts it again on the same port
    /// with the same storage.
    pub fn restart(&mut self) {
        self.stop();
        if let Err(e) = self.spawn_and_wait() {
            panic!("{e}");
        }
    }

    /// The last lines of the registry's log (warnings and errors), for
    /// failure messages.
    pub fn log_tail(&self) -> String {
        let log = fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Uploads `bytes` as a blob of `repo`, in one piece (POST for an
    /// upload, then PUT with the digest), as any registry client may;
    /// returns its digest, `sha256:HEX`. Anonymous registries only.
    pub fn push_blob(&self, repo: &str, bytes: &[u8]) -> String {
        let digest = format!("sha256:{:x}", Sha256::digest(bytes));
        let started = http_request(
            &self.addr(),
            "POST",
            &format!("/v2/{repo}/blobs/uploads/"),
            &[],
            &[],
        )
        .expect("POST a blob upload");
        assert_eq!(
            started.status,
            202,
            "{}",
            String::from_utf8_lossy(&started.body)
        );
        let location = started.header("location").expect("the upload's Location");
        // The registry answers with an absolute URL: keep its path.
        let path = location
            .find("/v2/")
            .map(|at| &location[at..])
            .expect("the Location names a /v2/ path");
        let sep = if path.contains('?') { '&' } else { '?' };
        let done = http_request(
            &self.addr(),
            "PUT",
            &format!("{path}{sep}digest={digest}"),
            &[("Content-Type", "application/octet-stream")],
            bytes,
        )
        .expect("PUT the blob");
        assert_eq!(done.status, 201, "{}", String::from_utf8_lossy(&done.body));
        digest
    }

    /// Uploads manifest or index `bytes` of `media_type` as
    /// `repo:reference` (a tag or a digest); returns its digest.
    pub fn push_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> String {
        let answer = http_request(
            &self.addr(),
            "PUT",
            &format!("/v2/{repo}/manifests/{reference}"),
            &[("Content-Type", media_type)],
            bytes,
        )
        .expect("PUT the manifest");
        assert_eq!(
            answer.status,
            201,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        format!("sha256:{:x}", Sha256::digest(bytes))
    }

    /// The bytes of the manifest or index at `repo:reference`; `None`
    /// when there is none.
    pub fn manifest(&self, repo: &str, reference: &str) -> Option<Vec<u8>> {
        let accept =
            "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json";
        let answer = http_get(
            &self.addr(),
            &format!("/v2/{repo}/manifests/{reference}"),
            &[("Accept", accept)],
        )
        .expect("GET the manifest");
        match answer.status {
            200 => Some(answer.body),
            404 => None,
            status => panic!(
                "GET {repo}:{reference}: {status}: {}",
                String::from_utf8_lossy(&answer.body)
            ),
        }
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("registry.log")
    }

    fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.yml")
    }

    fn write_config(&self, auth_section: &str) {
        let storage = self.dir.path().join("storage");
        let config = format!(
            "version: 0.1
log:
  level: warn
  formatter: text
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
http:
  addr: {addr}
  secret: mycli-test-secret
{auth_section}",
            storage = storage.display(),
            addr = self.addr(),
        );
        fs::write(self.config_path(), config).expect("write the registry config");
    }

    /// Starts the registry and waits until `GET /v2/` answers; on failure,
    /// a message with the log's tail.
    fn spawn_and_wait(&mut self) -> Result<(), String> {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("open the registry log");
        let mut cmd = Command::new("docker-registry");
        cmd.arg("serve")
            .arg(self.config_path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log file"))
            .stderr(log);
        // REGISTRY_* variables override the configuration file.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("REGISTRY_") {
                cmd.env_remove(name);
            }
        }
        self.child = Some(cmd.spawn().expect("docker-registry starts"));
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            let child = self.child.as_mut().expect("just spawned");
            if let Some(status) = child.try_wait().expect("wait for docker-registry") {
                self.child = None;
                return Err(format!(
                    "docker-registry exited ({status}) on {}; its log ends:\n{}",
                    self.addr(),
                    self.log_tail()
                ));
            }
            if let Ok(answer) = http_get(&self.addr(), "/v2/", &[])
                && matches!(answer.status, 200 | 401)
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                self.stop();
                return Err(format!(
                    "docker-registry did not answer GET /v2/ on {} within {START_DEADLINE:?}; its log ends:\n{}",
                    self.addr(),
                    self.log_tail()
                ));
            }
            thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Signs tokens for the registry: the Docker token protocol's server side,
/// granting whatever a client with the right Basic credentials asks for.
struct TokenIssuer {
    key: EcdsaKeyPair,
    /// The key's self-signed certificate (DER), the registry's only root.
    certificate: Vec<u8>,
    user: String,
    /// `BASE64(user:password)`, the only Basic credentials accepted.
    basic: String,
}

impl TokenIssuer {
    fn new(user: String, password: String) -> TokenIssuer {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .expect("generate the token signing key");
        let mut params =
            rcgen::CertificateParams::new(Vec::<String>::new()).expect("certificate parameters");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, ISSUER);
        let certificate = params
            .self_signed(&key)
            .expect("self-sign the token certificate")
            .der()
            .to_vec();
        let key = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &key.serialize_der(),
            &SystemRandom::new(),
        )
        .expect("load the token signing key");
        let basic = base64(format!("{user}:{password}").as_bytes());
        TokenIssuer {
            key,
            certificate,
            user,
            basic,
        }
    }

    /// Answers one `GET /token?service=..&scope=..` request.
    fn serve(&self, mut stream: TcpStream) {
        let Ok(request) = read_request(&mut stream) else {
            return;
        };
        let authorized = request
            .header("authorization")
            .and_then(|a| a.trim().split_once(' '))
            .is_some_and(|(scheme, credentials)| {
                scheme.eq_ignore_ascii_case("basic") && credentials.trim() == self.basic
            });
        let (path, query) = request
            .target
            .split_once('?')
            .unwrap_or((&request.target, ""));
        let (status, extra, body) = if request.method != "GET" || path != "/token" {
            (404, "", r#"{"details":"not found"}"#.to_string())
        } else if !authorized {
            (
                401,
                "WWW-Authenticate: Basic realm=\"mycli-test-token\"\r\n",
                r#"{"details":"authentication required"}"#.to_string(),
            )
        } else {
            let scopes: Vec<String> = query_values(query, "scope")
                .iter()
                .flat_map(|s| s.split(' ').map(str::to_string).collect::<Vec<_>>())
                .filter(|s| !s.is_empty())
                .collect();
            let token = self.token(&scopes);
            let body = serde_json::json!({
                "token": token,
                "access_token": token,
                "expires_in": 300,
                "issued_at": rfc3339(SystemTime::now()),
            });
            (200, "", body.to_string())
        };
        let head = format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
            reason(status),
            body.len()
        );
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(body.as_bytes());
        let _ = stream.shutdown(Shutdown::Write);
    }

    /// A JWT signed with ES256, its certificate in `x5c`, granting every
    /// `TYPE:NAME:ACTION,...` scope asked.
    fn token(&self, scopes: &[String]) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_secs();
        let access: Vec<serde_json::Value> = scopes
            .iter()
            .filter_map(|scope| {
                let (kind, rest) = scope.split_once(':')?;
                let (name, actions) = rest.rsplit_once(':')?;
                let actions: Vec<&str> = actions.split(',').filter(|a| !a.is_empty()).collect();
                Some(serde_json::json!({"type": kind, "name": name, "actions": actions}))
            })
            .collect();
        let header = serde_json::json!({
            "typ": "JWT",
            "alg": "ES256",
            "x5c": [base64(&self.certificate)],
        });
        let claims = serde_json::json!({
            "iss": ISSUER,
            "sub": self.user,
            "aud": SERVICE,
            "exp": now + 300,
            "nbf": now.saturating_sub(10),
            "iat": now,
            "jti": random_hex(16),
            "access": access,
        });
        let signed = format!(
            "{}.{}",
            base64_url(header.to_string().as_bytes()),
            base64_url(claims.to_string().as_bytes())
        );
        let signature = self
            .key
            .sign(&SystemRandom::new(), signed.as_bytes())
            .expect("sign the token");
        format!("{signed}.{}", base64_url(signature.as_ref()))
    }
}

/// A loopback listener and its accept thread, which runs `handle` on a
/// thread of its own for each connection. Stops accepting on drop;
/// connections already accepted end by themselves (their sockets time out).
pub struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// What a [`Server`] runs for each connection.
pub type Handler = Arc<dyn Fn(TcpStream) + Send + Sync>;

impl Server {
    /// Serves `listener` with `handle`; `name` names the threads.
    pub fn start(listener: TcpListener, name: &str, handle: Handler) -> Server {
        let addr = listener.local_addr().expect("listener address");
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let name = name.to_string();
        let thread = thread::Builder::new()
            .name(name.clone())
            .spawn(move || {
                for stream in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
                    let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
                    let handle = Arc::clone(&handle);
                    let _ = thread::Builder::new()
                        .name(format!("{name} connection"))
                        .spawn(move || handle(stream));
                }
            })
            .expect("spawn the accept thread");
        Server {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    /// `HOST:PORT`.
    pub fn addr(&self) -> String {
        self.addr.to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept thread up, so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A listener on `host` (a loopback address) and a port the system chose.
pub fn bind_loopback(host: &str) -> TcpListener {
    TcpListener::bind((host, 0)).unwrap_or_else(|e| panic!("bind {host}:0: {e}"))
}

/// A port free on 127.0.0.1 a moment ago.
fn free_port() -> u16 {
    bind_loopback("127.0.0.1")
        .local_addr()
        .expect("listener address")
        .port()
}

/// A parsed request head, with what was read past it.
pub struct Request {
    /// `GET`, `PUT`...
    pub method: String,
    /// The path and query: `/v2/a/b/blobs/uploads/?mount=..`.
    pub target: String,
    /// The headers in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// Bytes read after the head: the start of the body.
    pub rest: Vec<u8>,
}

impl Request {
    /// The first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

#[derive(Clone, Debug)]
/// A response: read whole by [`http_get`], or from an upstream.
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The headers in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body: for [`http_get`], every byte up to the end of the
    /// connection (chunked encoding decoded), whatever Content-Length said.
    pub body: Vec<u8>,
}

impl Response {
    /// The first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// `GET PATH` on `addr` with `headers`, over a new connection that the
/// server closes (`Connection: close`); the body is read to the end.
pub fn http_get(addr: &str, path: &str, headers: &[(&str, &str)]) -> io::Result<Response> {
    http_request(addr, "GET", path, headers, &[])
}

/// `METHOD PATH` on `addr` with `headers` and `body` (sent with its
/// Content-Length unless a GET without one), over a new connection that
/// the server closes (`Connection: close`); the body is read to the end.
pub fn http_request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<Response> {
    let target: SocketAddr = addr
        .parse()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("{addr}: {e}")))?;
    let mut stream = TcpStream::connect_timeout(&target, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n");
    for (name, value) in headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    if method != "GET" || !body.is_empty() {
        let _ = write!(head, "Content-Length: {}\r\n", body.len());
    }
    head.push_str("Connection: close\r\n\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut response = read_response_head(&mut stream)?;
    let chunked = response
        .header("transfer-encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"));
    let rest = std::mem::take(&mut response.body);
    response.body = read_body(
        &mut stream,
        rest,
        if chunked {
            BodyLength::Chunked
        } else if method == "HEAD" {
            BodyLength::Empty
        } else {
            BodyLength::ToEnd
        },
    )?;
    Ok(response)
}

/// Reads up to the blank line that ends an HTTP head: the head and
/// whatever was read past it. Fails at once on bytes no HTTP/1 message
/// starts with (a TLS handshake, say).
fn read_head(stream: &mut impl Read) -> io::Result<(Vec<u8>, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the connection closed inside an HTTP head",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
        if !buf[0].is_ascii_alphabetic() {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "not HTTP/1"));
        }
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return Ok((buf, rest));
        }
        if buf.len() > MAX_HEAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "HTTP head too long",
            ));
        }
    }
}

fn bad(what: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

fn collect_headers(headers: &[httparse::Header<'_>]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|h| {
            (
                h.name.to_string(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect()
}

/// Reads and parses a request head.
pub fn read_request(stream: &mut impl Read) -> io::Result<Request> {
    let (head, rest) = read_head(stream)?;
    let mut headers = [httparse::EMPTY_HEADER; 128];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(&head).map_err(bad)? {
        httparse::Status::Complete(_) => {}
        httparse::Status::Partial => return Err(bad("partial request head")),
    }
    Ok(Request {
        method: request.method.unwrap_or_default().to_string(),
        target: request.path.unwrap_or_default().to_string(),
        headers: collect_headers(request.headers),
        rest,
    })
}

/// Reads and parses a response head; `body` holds what was read past it.
pub fn read_response_head(stream: &mut impl Read) -> io::Result<Response> {
    let (head, rest) = read_head(stream)?;
    let mut headers = [httparse::EMPTY_HEADER; 128];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(&head).map_err(bad)? {
        httparse::Status::Complete(_) => {}
        httparse::Status::Partial => return Err(bad("partial response head")),
    }
    Ok(Response {
        status: response.code.unwrap_or_default(),
        headers: collect_headers(response.headers),
        body: rest,
    })
}

/// How a message's body is delimited.
#[derive(Clone, Copy, Debug)]
pub enum BodyLength {
    /// No body (a HEAD answer, a 204...).
    Empty,
    /// Content-Length bytes.
    Exactly(usize),
    /// Chunked transfer-encoding.
    Chunked,
    /// Up to the end of the connection.
    ToEnd,
}

impl BodyLength {
    /// The length a message with `headers` declares; `otherwise` when it
    /// declares none.
    pub fn of(headers: &[(String, String)], otherwise: BodyLength) -> io::Result<BodyLength> {
        if header(headers, "transfer-encoding")
            .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"))
        {
            return Ok(BodyLength::Chunked);
        }
        match header(headers, "content-length") {
            Some(n) => Ok(BodyLength::Exactly(n.trim().parse().map_err(bad)?)),
            None => Ok(otherwise),
        }
    }
}

/// Reads a body delimited by `length`, `rest` being its first bytes,
/// already read; chunked bodies are decoded.
pub fn read_body(stream: &mut impl Read, rest: Vec<u8>, length: BodyLength) -> io::Result<Vec<u8>> {
    let mut reader = BufReader::new(io::Cursor::new(rest).chain(stream));
    let mut body = Vec::new();
    match length {
        BodyLength::Empty => {}
        BodyLength::Exactly(n) => {
            body.resize(n, 0);
            reader.read_exact(&mut body)?;
        }
        BodyLength::ToEnd => {
            reader.read_to_end(&mut body)?;
        }
        BodyLength::Chunked => loop {
            let mut line = String::new();
            reader.read_line(&mut line)?;
            let size = line.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size, 16).map_err(bad)?;
            if size == 0 {
                // Trailers, up to the blank line.
                loop {
                    line.clear();
                    if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
                        break;
                    }
                }
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..])?;
            line.clear();
            reader.read_line(&mut line)?;
        },
    }
    Ok(body)
}

/// The reason phrase of the statuses the harness writes itself.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// The values of parameter `name` in a query string, percent-decoded.
fn query_values(query: &str, name: &str) -> Vec<String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(n, _)| percent_decode(n) == name)
        .map(|(_, v)| percent_decode(v))
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// URL-safe base64 without padding, as JWTs use.
fn base64_url(data: &[u8]) -> String {
    base64(data)
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_")
}

/// A certificate's DER as PEM.
fn pem_certificate(der: &[u8]) -> String {
    let encoded = base64(der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in encoded.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}

/// `bytes` random bytes, in hex.
fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    SystemRandom::new()
        .fill(&mut buf)
        .expect("the system's random numbers");
    buf.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// `time` as RFC 3339 in UTC: `2025-01-02T03:04:05Z`.
fn rfc3339(time: SystemTime) -> String {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[test]
fn base64_and_dates_match_known_values() {
    assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
    assert_eq!(base64(b"ab"), "YWI=");
    assert_eq!(base64(b"a"), "YQ==");
    assert_eq!(base64_url(&[0xfb, 0xff]), "-_8");
    assert_eq!(
        rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400 + 3_723)),
        "2000-02-29T01:02:03Z"
    );
    assert_eq!(
        percent_decode("repository%3Aa%2Fb%3Apull%2Cpush+x%"),
        "repository:a/b:pull,push x%"
    );
}

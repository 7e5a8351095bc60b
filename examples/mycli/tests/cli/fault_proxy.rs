//! A reverse proxy in front of a test [`Registry`] that injects the faults
//! a real registry will not produce on demand: error statuses, short or
//! damaged bodies, HTML where JSON belongs, slowness, and a redirect to
//! another host.
//!
//! Blocking HTTP/1.1, plain on both sides, one request per connection
//! (every answer says `Connection: close`), one thread per connection.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::registry::{
    BodyLength, IO_TIMEOUT, Registry, Response, Server, bind_loopback, read_body, read_request,
    read_response_head, reason,
};

/// What the proxy does to a request a rule matches.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answers `code` (with `Retry-After: SECONDS` when given) the next
    /// `times` matching requests, then lets them through.
    Status {
        code: u16,
        times: usize,
        retry_after: Option<u32>,
    },
    /// Forwards the upstream's answer with the Content-Length it declared
    /// but only the first `keep` bytes of its body, then closes.
    Truncate { keep: usize },
    /// Forwards the upstream's answer with one byte of its body flipped.
    Corrupt,
    /// Answers `status` with this body instead of forwarding.
    Body {
        content_type: String,
        body: Vec<u8>,
        status: u16,
    },
    /// Waits this long, then forwards.
    Delay { seconds: f64 },
    /// Answers 307 to the same path on another host (127.0.0.2 where it
    /// can be bound, else another port), which serves the upstream's
    /// answer and records whether the request carried Authorization. The
    /// upstream's answer is fetched first with the original request: when
    /// it is not a success (a 401 asking for credentials), it is forwarded
    /// instead of redirecting.
    RedirectElsewhere,
}

struct Rule {
    method: Option<String>,
    path_part: String,
    fault: Fault,
    /// How many more requests the rule applies to.
    left: usize,
}

struct Shared {
    upstream: String,
    addr: String,
    elsewhere: String,
    rules: Mutex<Vec<Rule>>,
    requests: Mutex<Vec<String>>,
    /// For each request the other host served: whether it carried
    /// Authorization.
    redirected: Mutex<Vec<bool>>,
    /// The upstream's answers the other host serves, by request target.
    stash: Mutex<HashMap<String, Response>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The proxy; it and its other host stop accepting on drop.
pub struct FaultProxy {
    shared: Arc<Shared>,
    _server: Server,
    _elsewhere: Server,
}

impl FaultProxy {
    /// A proxy on 127.0.0.1 in front of `upstream`, forwarding everything
    /// until [`FaultProxy::on`] adds a rule.
    pub fn start(upstream: &Registry) -> FaultProxy {
        let listener = bind_loopback("127.0.0.1");
        let elsewhere_listener = std::net::TcpListener::bind(("127.0.0.2", 0))
            .unwrap_or_else(|_| bind_loopback("127.0.0.1"));
        let shared = Arc::new(Shared {
            upstream: upstream.addr(),
            addr: listener.local_addr().expect("proxy address").to_string(),
            elsewhere: elsewhere_listener
                .local_addr()
                .expect("other host address")
                .to_string(),
            rules: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
            redirected: Mutex::new(Vec::new()),
            stash: Mutex::new(HashMap::new()),
        });
        let proxy = Arc::clone(&shared);
        let server = Server::start(
            listener,
            "fault-proxy",
            Arc::new(move |stream| serve(&proxy, stream)),
        );
        let other = Arc::clone(&shared);
        let elsewhere = Server::start(
            elsewhere_listener,
            "fault-proxy-elsewhere",
            Arc::new(move |stream| serve_elsewhere(&other, stream)),
        );
        FaultProxy {
            shared,
            _server: server,
            _elsewhere: elsewhere,
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        self.shared.addr.clone()
    }

    /// `oci://127.0.0.1:PORT/REPO`.
    pub fn oci(&self, repo: &str) -> String {
        format!("oci://{}/{repo}", self.addr())
    }

    /// Applies `fault` to the requests whose method is `method` (any when
    /// `None`) and whose path (without the query) contains `path_part`:
    /// `"/blobs/"`, `"/manifests/"`, `"/tags/list"`, `"/v2/"`. The first
    /// rule added that matches and is not used up applies.
    pub fn on(&self, method: Option<&str>, path_part: &str, fault: Fault) {
        let left = match fault {
            Fault::Status { times, .. } => times,
            _ => usize::MAX,
        };
        lock(&self.shared.rules).push(Rule {
            method: method.map(str::to_string),
            path_part: path_part.to_string(),
            fault,
            left,
        });
    }

    /// The requests received, in order: `GET /v2/REPO/blobs/sha256:...`
    /// (method and path, without the query).
    pub fn requests(&self) -> Vec<String> {
        lock(&self.shared.requests).clone()
    }

    /// Whether a request that followed a [`Fault::RedirectElsewhere`]
    /// carried an Authorization header (`true` when any did); `None` when
    /// no redirect was followed.
    pub fn redirected_with_authorization(&self) -> Option<bool> {
        let redirected = lock(&self.shared.redirected);
        (!redirected.is_empty()).then(|| redirected.iter().any(|&a| a))
    }
}

/// Headers that belong to one connection, which the proxy sets itself.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "content-length",
    "expect",
    "host",
];

fn hop_by_hop(name: &str) -> bool {
    HOP_BY_HOP.iter().any(|h| h.eq_ignore_ascii_case(name))
}

/// Whether an answer to `method` with `status` has no body.
fn bodiless(method: &str, status: u16) -> bool {
    method == "HEAD" || status / 100 == 1 || status == 204 || status == 304
}

fn serve(shared: &Shared, mut client: TcpStream) {
    let Ok(request) = read_request(&mut client) else {
        // As Go's server answers a TLS handshake: clients then try HTTP.
        let _ = client.write_all(b"HTTP/1.0 400 Bad Request\r\nConnection: close\r\n\r\n");
        return;
    };
    if request
        .header("expect")
        .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
    {
        let _ = client.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
    }
    let body = match BodyLength::of(&request.headers, BodyLength::Empty)
        .and_then(|length| read_body(&mut client, request.rest.clone(), length))
    {
        Ok(body) => body,
        Err(_) => return,
    };
    let path = request.target.split('?').next().unwrap_or_default();
    lock(&shared.requests).push(format!("{} {path}", request.method));
    let fault = {
        let mut rules = lock(&shared.rules);
        rules
            .iter_mut()
            .find(|r| {
                r.left > 0
                    && r.method.as_ref().is_none_or(|m| *m == request.method)
                    && path.contains(&r.path_part)
            })
            .map(|r| {
                r.left -= 1;
                r.fault.clone()
            })
    };
    let forward = || {
        forward(
            shared,
            &request.method,
            &request.target,
            &request.headers,
            &body,
        )
    };
    let upstream = match fault {
        None | Some(Fault::Truncate { .. } | Fault::Corrupt | Fault::RedirectElsewhere) => {
            forward()
        }
        Some(Fault::Delay { seconds }) => {
            std::thread::sleep(Duration::from_secs_f64(seconds));
            forward()
        }
        Some(Fault::Status {
            code, retry_after, ..
        }) => {
            let error = match code {
                429 => "TOOMANYREQUESTS",
                503 => "UNAVAILABLE",
                _ => "UNKNOWN",
            };
            let body = format!(
                r#"{{"errors":[{{"code":"{error}","message":"injected by the test proxy","detail":null}}]}}"#
            );
            let mut headers = vec![("Content-Type".to_string(), "application/json".to_string())];
            if let Some(seconds) = retry_after {
                headers.push(("Retry-After".to_string(), seconds.to_string()));
            }
            let body = if request.method == "HEAD" {
                Vec::new()
            } else {
                body.into_bytes()
            };
            answer(&mut client, code, &headers, Some(body.len()), &body);
            return;
        }
        Some(Fault::Body {
            content_type,
            body,
            status,
        }) => {
            let headers = [("Content-Type".to_string(), content_type)];
            answer(&mut client, status, &headers, Some(body.len()), &body);
            return;
        }
    };
    let mut upstream = match upstream {
        Ok(upstream) => upstream,
        Err(e) => {
            let message = format!("the test proxy could not reach the registry: {e}\n");
            answer(
                &mut client,
                502,
                &[("Content-Type".to_string(), "text/plain".to_string())],
                Some(message.len()),
                message.as_bytes(),
            );
            return;
        }
    };
    let no_body = bodiless(&request.method, upstream.status);
    match fault {
        Some(Fault::RedirectElsewhere) if upstream.status / 100 == 2 => {
            lock(&shared.stash).insert(request.target.clone(), upstream);
            let location = format!("http://{}{}", shared.elsewhere, request.target);
            answer(
                &mut client,
                307,
                &[("Location".to_string(), location)],
                Some(0),
                &[],
            );
        }
        Some(Fault::Truncate { keep }) if !no_body => {
            let declared = upstream
                .header("content-length")
                .and_then(|n| n.trim().parse().ok())
                .unwrap_or(upstream.body.len());
            let kept = &upstream.body[..keep.min(upstream.body.len())];
            answer(
                &mut client,
                upstream.status,
                &upstream.headers,
                Some(declared),
                kept,
            );
        }
        Some(Fault::Corrupt) if !upstream.body.is_empty() => {
            let middle = upstream.body.len() / 2;
            upstream.body[middle] ^= 0xff;
            pass_on(&mut client, &request.method, &upstream);
        }
        _ => pass_on(&mut client, &request.method, &upstream),
    }
}

/// Sends `request` to the upstream registry over a new connection and
/// reads its whole answer; `Location` headers that point at the upstream
/// are rewritten to point at the proxy.
fn forward(
    shared: &Shared,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<Response> {
    let addr: SocketAddr = shared
        .upstream
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{e}")))?;
    let mut upstream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    upstream.set_read_timeout(Some(IO_TIMEOUT))?;
    upstream.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {}\r\n",
        shared.upstream
    );
    for (name, value) in headers.iter().filter(|(n, _)| !hop_by_hop(n)) {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("Connection: close\r\n\r\n");
    upstream.write_all(head.as_bytes())?;
    upstream.write_all(body)?;
    let mut response = read_response_head(&mut upstream)?;
    let length = if bodiless(method, response.status) {
        BodyLength::Empty
    } else {
        BodyLength::of(&response.headers, BodyLength::ToEnd)?
    };
    let rest = std::mem::take(&mut response.body);
    response.body = read_body(&mut upstream, rest, length)?;
    let from = format!("http://{}", shared.upstream);
    for (name, value) in &mut response.headers {
        if name.eq_ignore_ascii_case("location")
            && let Some(tail) = value.strip_prefix(&from)
        {
            *value = format!("http://{}{tail}", shared.addr);
        }
    }
    Ok(response)
}

/// Sends `response` to the client as the answer to `method`.
fn pass_on(client: &mut TcpStream, method: &str, response: &Response) {
    if bodiless(method, response.status) {
        // A HEAD answer's Content-Length tells the size of what a GET gets.
        answer(client, response.status, &response.headers, None, &[]);
    } else {
        answer(
            client,
            response.status,
            &response.headers,
            Some(response.body.len()),
            &response.body,
        );
    }
}

/// Writes an answer and closes: `headers` less the hop-by-hop ones (but
/// for a Content-Length when `content_length` is `None`), then
/// `Content-Length: content_length` when given, and `body`.
fn answer(
    client: &mut TcpStream,
    status: u16,
    headers: &[(String, String)],
    content_length: Option<usize>,
    body: &[u8],
) {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers {
        let keep = if content_length.is_none() {
            name.eq_ignore_ascii_case("content-length") || !hop_by_hop(name)
        } else {
            !hop_by_hop(name)
        };
        if keep {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    if let Some(length) = content_length {
        head.push_str(&format!("Content-Length: {length}\r\n"));
    }
    head.push_str("Connection: close\r\n\r\n");
    let _ = client.write_all(head.as_bytes());
    let _ = client.write_all(body);
    let _ = client.flush();
    let _ = client.shutdown(Shutdown::Write);
    // Let the client read everything before the socket closes: drain what
    // it still sends, until it closes its side or the timeout.
    let _ = client.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = std::io::copy(&mut client.take(1 << 20), &mut std::io::sink());
}

/// The other host a [`Fault::RedirectElsewhere`] sends clients to: serves
/// the upstream answer stashed for the request target.
fn serve_elsewhere(shared: &Shared, mut client: TcpStream) {
    let Ok(request) = read_request(&mut client) else {
        return;
    };
    lock(&shared.redirected).push(request.header("authorization").is_some());
    let stashed = lock(&shared.stash).get(&request.target).cloned();
    match stashed {
        Some(response) => pass_on(&mut client, &request.method, &response),
        None => answer(&mut client, 404, &[], Some(0), &[]),
    }
}

//! The backend behind Envoy: answers every request with 200 and a JSON
//! object of the request headers (and trailers) it received, so a test can
//! see exactly what the filter let through. Also records each request. `Upstream::serve`
//! runs the same server with another answer (the demo's ONE Record backend).

use super::http::{Response, read_body_and_trailers, read_headers, read_line_bytes};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::io::{BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// One request as the backend received it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    /// The trailers of a chunked body, names lowercased.
    pub trailers: Vec<(String, String)>,
}

/// What a backend started with `Upstream::serve` answers.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    /// Sent as given; `content-length` is added.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Computes the answer to one request.
pub type Handler = dyn Fn(&Seen) -> Reply + Send + Sync;

struct Shared {
    handler: Arc<Handler>,
    stop: AtomicBool,
    seen: Mutex<Vec<Seen>>,
    connections: Mutex<Vec<TcpStream>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

pub struct Upstream {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl Upstream {
    /// The echo backend on a free loopback port.
    pub fn start() -> Upstream {
        Upstream::serve(([127, 0, 0, 1], 0).into(), Arc::new(echo)).expect("bind upstream")
    }

    /// A backend on `addr` (port 0: any free one) answering with `handler`.
    pub fn serve(addr: SocketAddr, handler: Arc<Handler>) -> std::io::Result<Upstream> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            handler,
            stop: AtomicBool::new(false),
            seen: Mutex::default(),
            connections: Mutex::default(),
            workers: Mutex::default(),
        });
        let acceptor = {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || accept_loop(listener, shared))
        };
        Ok(Upstream {
            addr,
            shared,
            acceptor: Some(acceptor),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().expect("seen lock").clone()
    }

    pub fn count(&self) -> usize {
        self.shared.seen.lock().expect("seen lock").len()
    }

    /// Removes and returns the requests received so far, so that a long run
    /// need not keep them all; `seen` and `count` start again from nothing.
    pub fn take_seen(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.shared.seen.lock().expect("seen lock"))
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes accept()
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        for conn in self
            .shared
            .connections
            .lock()
            .expect("connections lock")
            .drain(..)
        {
            let _ = conn.shutdown(Shutdown::Both);
        }
        let workers: Vec<_> = self
            .shared
            .workers
            .lock()
            .expect("workers lock")
            .drain(..)
            .collect();
        for worker in workers {
            let _ = worker.join();
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for conn in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(conn) = conn else { continue };
        if let Ok(clone) = conn.try_clone() {
            shared
                .connections
                .lock()
                .expect("connections lock")
                .push(clone);
        }
        let worker = {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || serve(conn, &shared))
        };
        shared.workers.lock().expect("workers lock").push(worker);
    }
}

/// Serves requests on one keep-alive connection until the peer closes it
/// or sends something this server cannot read (then it closes, so Envoy
/// does not wait for an answer).
fn serve(conn: TcpStream, shared: &Shared) {
    let Ok(out) = conn.try_clone() else {
        return;
    };
    serve_requests(conn, &out, shared);
    let _ = out.shutdown(Shutdown::Both);
}

fn serve_requests(conn: TcpStream, mut out: &TcpStream, shared: &Shared) {
    let mut input = BufReader::new(conn);
    // The request line as bytes: a path that is not UTF-8 is still a
    // request received, recorded with U+FFFD for what is not.
    while let Ok(line) = read_line_bytes(&mut input) {
        let line = String::from_utf8_lossy(&line);
        let mut parts = line.split(' ');
        let (Some(method), Some(path)) = (parts.next(), parts.next()) else {
            return;
        };
        let Ok(headers) = read_headers(&mut input) else {
            return;
        };
        let framed = headers
            .iter()
            .any(|(n, _)| n == "content-length" || n == "transfer-encoding");
        let trailers = match framed {
            // A request cut short (Envoy reset it) is not a request received.
            true => match read_body_and_trailers(&mut input, &headers) {
                Ok((_, trailers)) => trailers,
                Err(_) => return,
            },
            false => Vec::new(),
        };
        let seen = Seen {
            method: method.to_string(),
            path: path.to_string(),
            headers,
            trailers,
        };
        let reply = (shared.handler)(&seen);
        let close = seen
            .headers
            .iter()
            .any(|(n, v)| n == "connection" && v.eq_ignore_ascii_case("close"));
        shared.seen.lock().expect("seen lock").push(seen);
        if out.write_all(&encode(&reply, method != "HEAD")).is_err() || close {
            return;
        }
    }
}

/// The status line, the reply's headers, `content-length` and the body
/// (without it for a HEAD request, whose reply has none).
fn encode(reply: &Reply, with_body: bool) -> Vec<u8> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        reply.status,
        reason_phrase(reply.status)
    );
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("content-length: {}\r\n\r\n", reply.body.len()));
    let mut bytes = head.into_bytes();
    if with_body {
        bytes.extend_from_slice(&reply.body);
    }
    bytes
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Status",
    }
}

/// The default answer: 200 with every request header (`echo_json`).
fn echo(seen: &Seen) -> Reply {
    Reply {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: echo_json(seen).to_string().into_bytes(),
    }
}

/// Echo keys of trailers: `:trailer:<name>`.
pub const TRAILER_KEY: &str = ":trailer:";

/// `{":method": [..], ":path": [..], "<header>": [values..],
/// ":trailer:<name>": [values..]}`. Pseudo names cannot collide with real
/// ones: HTTP/1.1 header and trailer names have no colon.
fn echo_json(seen: &Seen) -> Value {
    let mut map = Map::new();
    map.insert(":method".into(), Value::from(vec![seen.method.clone()]));
    map.insert(":path".into(), Value::from(vec![seen.path.clone()]));
    let trailers = seen
        .trailers
        .iter()
        .map(|(name, value)| (format!("{TRAILER_KEY}{name}"), value));
    let headers = seen
        .headers
        .iter()
        .map(|(name, value)| (name.clone(), value));
    for (name, value) in headers.chain(trailers) {
        let entry = map.entry(name).or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(values) = entry {
            values.push(Value::from(value.clone()));
        }
    }
    Value::Object(map)
}

/// What the backend received, read back from its response body.
#[derive(Clone, Debug)]
pub struct Echo {
    pub headers: BTreeMap<String, Vec<String>>,
}

impl Echo {
    /// Parses an upstream answer; panics (with the response) if the request
    /// did not reach the backend.
    pub fn of(resp: &Response) -> Echo {
        assert_eq!(
            resp.status,
            200,
            "expected the request to reach the upstream; got {resp:#?} body={}",
            resp.text()
        );
        let headers = serde_json::from_slice(&resp.body)
            .unwrap_or_else(|e| panic!("upstream echo is not a header map ({e}): {}", resp.text()));
        Echo { headers }
    }

    /// The single value of `name`; panics if the header came more than once.
    pub fn get(&self, name: &str) -> Option<&str> {
        let values = self.all(name);
        assert!(
            values.len() <= 1,
            "upstream got {name} {} times: {values:?}",
            values.len()
        );
        values.first().map(String::as_str)
    }

    pub fn all(&self, name: &str) -> &[String] {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    pub fn path(&self) -> &str {
        self.get(":path").unwrap_or_default()
    }

    /// Every header whose name starts with `prefix`, with its values.
    pub fn with_prefix(&self, prefix: &str) -> BTreeMap<String, Vec<String>> {
        self.headers
            .iter()
            .filter(|(n, _)| n.starts_with(prefix))
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect()
    }

    /// Every trailer the backend received, by name.
    pub fn trailers(&self) -> BTreeMap<String, Vec<String>> {
        self.headers
            .iter()
            .filter_map(|(n, v)| Some((n.strip_prefix(TRAILER_KEY)?.to_string(), v.clone())))
            .collect()
    }
}

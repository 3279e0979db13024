//! A lean HTTP/1.1 backend for the proxied runs: every request gets the same
//! small 200, nothing is parsed beyond finding where each request ends, and
//! nothing is recorded. GET without a body is all the benchmark sends.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

const REPLY: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok";
const END_OF_HEAD: &[u8] = b"\r\n\r\n";

#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    connections: Mutex<Vec<TcpStream>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

pub struct LeanUpstream {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl LeanUpstream {
    /// Listens on a free loopback port; one thread per connection (Envoy
    /// keeps a handful open, so the threads stay few).
    pub fn start() -> std::io::Result<LeanUpstream> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let acceptor = {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || accept_loop(listener, shared))
        };
        Ok(LeanUpstream {
            addr,
            shared,
            acceptor: Some(acceptor),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for LeanUpstream {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes accept()
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        for conn in self.shared.connections.lock().expect("lock").drain(..) {
            let _ = conn.shutdown(Shutdown::Both);
        }
        let workers: Vec<_> = self
            .shared
            .workers
            .lock()
            .expect("lock")
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
        let _ = conn.set_nodelay(true);
        if let Ok(clone) = conn.try_clone() {
            shared.connections.lock().expect("lock").push(clone);
        }
        let worker = std::thread::spawn(move || serve(conn));
        shared.workers.lock().expect("lock").push(worker);
    }
}

/// Answers every complete request head in what has arrived with one write,
/// so pipelined requests cost one syscall.
fn serve(mut conn: TcpStream) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut filled = 0;
    let mut out = Vec::with_capacity(REPLY.len() * 4);
    loop {
        if filled == buf.len() {
            return; // a request head larger than the buffer: not ours
        }
        let n = match conn.read(&mut buf[filled..]) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        filled += n;
        let mut start = 0;
        while let Some(end) = find(&buf[start..filled], END_OF_HEAD) {
            start += end + END_OF_HEAD.len();
            out.extend_from_slice(REPLY);
        }
        buf.copy_within(start..filled, 0);
        filled -= start;
        if !out.is_empty() {
            if conn.write_all(&out).is_err() {
                return;
            }
            out.clear();
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

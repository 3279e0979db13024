//! A CA's CRL distribution point for end-to-end tests: serves whatever the
//! test sets (a CRL, a 404, garbage) at any path, counts the fetches, and
//! can be stopped to play a dead server. Envoy reaches it through the
//! cluster [`CrlServer::cluster`] describes.

use crate::upstream::{Reply, Upstream};
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub struct CrlServer {
    addr: SocketAddr,
    reply: Arc<Mutex<Reply>>,
    server: Option<Upstream>,
}

impl CrlServer {
    /// Serving a 404 until told otherwise.
    pub fn start() -> CrlServer {
        CrlServer::start_on(([127, 0, 0, 1], 0).into()).expect("bind the CRL server")
    }

    /// As [`start`](Self::start), on `addr` (port 0: any free port).
    pub fn start_on(addr: SocketAddr) -> std::io::Result<CrlServer> {
        let reply = Arc::new(Mutex::new(not_found()));
        let served = Arc::clone(&reply);
        let server = Upstream::serve(
            addr,
            Arc::new(move |_| served.lock().expect("reply lock").clone()),
        )?;
        Ok(CrlServer {
            addr: server.addr(),
            reply,
            server: Some(server),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves `der` as `application/pkix-crl` from now on.
    pub fn serve(&self, der: &[u8]) {
        self.set(Reply {
            status: 200,
            headers: vec![("content-type".into(), "application/pkix-crl".into())],
            body: der.to_vec(),
        });
    }

    pub fn set(&self, reply: Reply) {
        *self.reply.lock().expect("reply lock") = reply;
    }

    pub fn not_found(&self) {
        self.set(not_found());
    }

    /// Requests served so far (none after [`stop`](Self::stop)).
    pub fn fetches(&self) -> usize {
        self.server.as_ref().map_or(0, Upstream::count)
    }

    /// Closes the port: fetches then fail to connect.
    pub fn stop(&mut self) {
        self.server = None;
    }

    /// A STATIC cluster named `name` pointing at this server.
    pub fn cluster(&self, name: &str) -> Value {
        crate::ocsp_responder::static_cluster(name, self.addr)
    }
}

fn not_found() -> Reply {
    Reply {
        status: 404,
        headers: vec![("content-type".into(), "text/plain".into())],
        body: b"no CRL here".to_vec(),
    }
}

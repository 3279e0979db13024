//! OpenSSL's own OCSP responder (`openssl ocsp -index ... -port ...`) for
//! end-to-end tests: it answers from an index file the test writes (good
//! or revoked per serial), signs with the issuer's key or a delegated
//! responder's, and is killed with its process group when dropped. Envoy
//! reaches it through the cluster [`OcspResponder::cluster`] describes.

use crate::pki::Issued;
use crate::process::Group;
use crate::tempdir::TempDir;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Where OpenSSL prints what it reads and answers.
const LOG: &str = "responder.log";

pub struct OcspResponder {
    addr: SocketAddr,
    log: std::path::PathBuf,
    /// The index and keys, removed with the responder.
    _dir: TempDir,
    process: Option<Group>,
}

/// A free loopback port (the responder binds it right after).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Whether a request to `/` at `addr` gets an HTTP answer.
fn answers(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut reply = [0u8; 16];
    stream.write_all(b"GET / HTTP/1.0\r\n\r\n").is_ok()
        && stream
            .read(&mut reply)
            .is_ok_and(|n| reply[..n].starts_with(b"HTTP/"))
}

impl OcspResponder {
    /// Answers for certificates `issuer` issued on `port`, signing with its
    /// key, each of `statuses` good or revoked (`true`), any other unknown;
    /// nextUpdate `next_update_minutes` after each answer. (OpenSSL reads
    /// the index once, at start.)
    pub fn start(
        port: u16,
        issuer: &Issued,
        next_update_minutes: u32,
        statuses: &[(&Issued, bool)],
    ) -> OcspResponder {
        Self::start_signed_by(port, issuer, issuer, next_update_minutes, statuses)
    }

    /// As [`OcspResponder::start`], the answers signed by `signer` (a
    /// delegated responder, or one that is not) with its key, and its
    /// certificate sent in each answer.
    pub fn start_signed_by(
        port: u16,
        issuer: &Issued,
        signer: &Issued,
        next_update_minutes: u32,
        statuses: &[(&Issued, bool)],
    ) -> OcspResponder {
        let dir = TempDir::new("ocsp-responder");
        dir.write("index.txt", index(statuses));
        dir.write("index.txt.attr", "unique_subject = no\n");
        let ca = dir.write("issuer.pem", issuer.pem());
        let rsigner = dir.write("signer.pem", signer.pem());
        let key = dir.write("signer.key", signer.key_pem());
        // Unbuffered output (coreutils' stdbuf), so that `requests` sees
        // each request as soon as it is read, not a block later.
        let mut command = Command::new("stdbuf");
        command
            .args(["-o0", "openssl", "ocsp"])
            .arg("-index")
            .arg(dir.join("index.txt"))
            .args(["-port", &port.to_string()])
            .arg("-rsigner")
            .arg(&rsigner)
            .arg("-rkey")
            .arg(&key)
            .arg("-CA")
            .arg(&ca)
            .args(["-nmin", &next_update_minutes.to_string()])
            .arg("-ignore_err")
            // Each request it reads, printed: what `requests` counts.
            .arg("-text")
            .stdout(Stdio::from(
                std::fs::File::create(dir.join(LOG)).expect("the responder's log"),
            ))
            .stderr(Stdio::null());
        let process = Group::spawn(command).expect("start openssl ocsp");
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let start = Instant::now();
        // A whole request, never a bare connect: the responder serves one
        // connection at a time and would wait on an empty one for good.
        while !answers(addr) {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "openssl ocsp did not listen on {addr}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        OcspResponder {
            addr,
            log: dir.join(LOG),
            _dir: dir,
            process: Some(process),
        }
    }

    /// The OCSP requests it has read so far (OpenSSL prints each one).
    pub fn requests(&self) -> usize {
        std::fs::read_to_string(&self.log)
            .map(|log| log.matches("OCSP Request Data:").count())
            .unwrap_or(0)
    }

    /// The AIA value naming this responder.
    pub fn aia(port: u16) -> String {
        format!("OCSP;URI:http://127.0.0.1:{port}/")
    }

    /// Closes the port: queries then fail to connect.
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.stop(Duration::from_secs(1));
        }
    }

    /// A STATIC cluster named `name` pointing at this responder, one
    /// request per connection: OpenSSL serves one connection at a time, so
    /// a connection Envoy kept open would hold up every other query.
    pub fn cluster(&self, name: &str) -> Value {
        let mut cluster = static_cluster(name, self.addr);
        cluster["typed_extension_protocol_options"] = json!({
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                "common_http_protocol_options": { "max_requests_per_connection": 1 },
                "explicit_http_config": { "http_protocol_options": {} }
            }
        });
        cluster
    }
}

/// A STATIC cluster named `name` pointing at `addr`.
pub fn static_cluster(name: &str, addr: SocketAddr) -> Value {
    json!({
        "name": name,
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [{ "lb_endpoints": [{ "endpoint": { "address": {
                "socket_address": {
                    "address": addr.ip().to_string(),
                    "port_value": addr.port()
                }
            }}}]}]
        }
    })
}

/// The index: each certificate good (`V`) or revoked (`R`).
fn index(certificates: &[(&Issued, bool)]) -> String {
    let mut index = String::new();
    for (cert, revoked) in certificates {
        let serial = cert
            .cert
            .serial_number()
            .to_bn()
            .expect("serial")
            .to_hex_str()
            .expect("hex")
            .to_string();
        let serial = if serial.len() % 2 == 1 {
            format!("0{serial}")
        } else {
            serial
        };
        let subject = "/CN=client";
        if *revoked {
            index.push_str(&format!(
                "R\t491231235959Z\t250101000000Z,keyCompromise\t{serial}\tunknown\t{subject}\n"
            ));
        } else {
            index.push_str(&format!(
                "V\t491231235959Z\t\t{serial}\tunknown\t{subject}\n"
            ));
        }
    }
    index
}

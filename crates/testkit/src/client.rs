//! HTTP/1.1 clients: plaintext, and TLS through OpenSSL with control over
//! protocol versions, ciphers and exactly which certificates are presented.

use super::http::{Request, Response, read_response, write_request};
use super::pki::Issued;
use openssl::pkey::{PKey, Private};
use openssl::ssl::{SslConnector, SslMethod, SslMode, SslStream, SslVerifyMode, SslVersion};
use openssl::x509::X509;
use std::io::{BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Name the server certificate is issued for.
pub const SERVER_NAME: &str = "localhost";
const IO_TIMEOUT: Duration = Duration::from_secs(15);

trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

/// One client connection; `send` may be called repeatedly (keep-alive).
pub struct Connection {
    io: BufReader<Box<dyn Stream>>,
    tls_version: Option<String>,
}

impl Connection {
    pub fn send(&mut self, req: &Request) -> std::io::Result<Response> {
        write_request(self.io.get_mut(), req, SERVER_NAME)?;
        read_response(&mut self.io, req.method == "HEAD")
    }

    pub fn get(&mut self, path: &str) -> Response {
        self.send(&Request::get(path))
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// Writes `head` (request line and headers, up to and including the
    /// blank line) byte for byte, for requests `Request` cannot spell (bytes
    /// that are not UTF-8), and reads the response.
    pub fn send_raw(&mut self, head: &[u8]) -> std::io::Result<Response> {
        let out = self.io.get_mut();
        out.write_all(head)?;
        out.flush()?;
        read_response(&mut self.io, false)
    }

    /// The negotiated protocol as OpenSSL names it (`TLSv1.2`); `None` on plaintext.
    pub fn tls_version(&self) -> Option<&str> {
        self.tls_version.as_deref()
    }
}

pub fn connect_plain(addr: SocketAddr) -> Connection {
    try_connect_plain(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"))
}

pub fn try_connect_plain(addr: SocketAddr) -> std::io::Result<Connection> {
    Ok(Connection {
        io: BufReader::new(Box::new(tcp(addr)?)),
        tls_version: None,
    })
}

/// A TLS client configuration. `TlsClient::new(ca)` verifies the server
/// against `ca` and offers TLS 1.2 and 1.3 with OpenSSL's defaults.
#[derive(Clone)]
pub struct TlsClient {
    pub ca: X509,
    pub min_version: Option<SslVersion>,
    pub max_version: Option<SslVersion>,
    pub cipher_list: Option<String>,
    pub cert: Option<(X509, PKey<Private>)>,
    /// Sent after the leaf, in this order, and nothing else.
    pub chain: Vec<X509>,
}

impl TlsClient {
    pub fn new(ca: &X509) -> TlsClient {
        TlsClient {
            ca: ca.clone(),
            min_version: Some(SslVersion::TLS1_2),
            max_version: None,
            cipher_list: None,
            cert: None,
            chain: Vec::new(),
        }
    }

    /// Offers exactly one protocol version. TLS 1.0/1.1 also need OpenSSL's
    /// security level lowered, or it refuses them before sending a byte.
    pub fn version(mut self, version: SslVersion) -> TlsClient {
        self.min_version = Some(version);
        self.max_version = Some(version);
        if version == SslVersion::TLS1 || version == SslVersion::TLS1_1 {
            self.cipher_list = Some("DEFAULT@SECLEVEL=0".to_string());
        }
        self
    }

    pub fn cipher_list(mut self, list: &str) -> TlsClient {
        self.cipher_list = Some(list.to_string());
        self
    }

    /// Presents `leaf` (with its key) as the client certificate.
    pub fn cert(mut self, leaf: &Issued) -> TlsClient {
        self.cert = Some((leaf.cert.clone(), leaf.key.clone()));
        self
    }

    /// Presents `cert` signed for `key`, which need not match (for forgery tests).
    pub fn cert_with_key(mut self, cert: &X509, key: &PKey<Private>) -> TlsClient {
        self.cert = Some((cert.clone(), key.clone()));
        self
    }

    /// The certificates sent after the leaf, exactly these, in this order.
    pub fn chain(mut self, certs: &[&Issued]) -> TlsClient {
        self.chain = certs.iter().map(|c| c.cert.clone()).collect();
        self
    }

    pub fn chain_x509(mut self, certs: Vec<X509>) -> TlsClient {
        self.chain = certs;
        self
    }

    /// Connects and completes the handshake; the error text says why not.
    pub fn connect(&self, addr: SocketAddr) -> Result<Connection, String> {
        self.prepare()?.connect(addr)
    }

    /// The OpenSSL context for this configuration, built once for many
    /// connections (building one reads the system's CA store, which costs
    /// more than a handshake).
    pub fn prepare(&self) -> Result<PreparedClient, String> {
        // This client speaks HTTP/1.1 only; never let the server pick h2.
        self.prepare_alpn(b"\x08http/1.1")
    }

    /// As [`TlsClient::prepare`], offering exactly the ALPN `protocols`
    /// (wire format: length-prefixed names).
    pub fn prepare_alpn(&self, protocols: &[u8]) -> Result<PreparedClient, String> {
        let mut builder =
            SslConnector::builder(SslMethod::tls_client()).map_err(|e| e.to_string())?;
        builder
            .set_min_proto_version(self.min_version)
            .map_err(|e| e.to_string())?;
        builder
            .set_max_proto_version(self.max_version)
            .map_err(|e| e.to_string())?;
        if let Some(list) = &self.cipher_list {
            builder.set_cipher_list(list).map_err(|e| e.to_string())?;
        }
        builder
            .cert_store_mut()
            .add_cert(self.ca.clone())
            .map_err(|e| e.to_string())?;
        builder.set_verify(SslVerifyMode::PEER);
        // Present only what the test chose, never a chain OpenSSL built itself.
        builder.set_mode(SslMode::NO_AUTO_CHAIN);
        if let Some((cert, key)) = &self.cert {
            builder.set_certificate(cert).map_err(|e| e.to_string())?;
            builder.set_private_key(key).map_err(|e| e.to_string())?;
            for extra in &self.chain {
                builder
                    .add_extra_chain_cert(extra.clone())
                    .map_err(|e| e.to_string())?;
            }
        }
        builder
            .set_alpn_protos(protocols)
            .map_err(|e| e.to_string())?;
        Ok(PreparedClient {
            connector: builder.build(),
        })
    }

    /// Connects or panics with the handshake error.
    pub fn open(&self, addr: SocketAddr) -> Connection {
        self.connect(addr).unwrap_or_else(|e| panic!("{e}"))
    }

    /// One request on a fresh connection.
    pub fn send(&self, addr: SocketAddr, req: &Request) -> Response {
        let mut conn = self.open(addr);
        conn.send(req)
            .unwrap_or_else(|e| panic!("{} {}: {e}", req.method, req.path))
    }

    pub fn get(&self, addr: SocketAddr, path: &str) -> Response {
        self.send(addr, &Request::get(path))
    }
}

/// A `TlsClient` ready to connect, for many connections.
pub struct PreparedClient {
    connector: SslConnector,
}

impl PreparedClient {
    /// Connects and completes the handshake; the error text says why not.
    pub fn connect(&self, addr: SocketAddr) -> Result<Connection, String> {
        let stream = self.connect_tls(addr)?;
        let tls_version = Some(stream.ssl().version_str().to_string());
        Ok(Connection {
            io: BufReader::new(Box::new(stream)),
            tls_version,
        })
    }
}

impl PreparedClient {
    /// The TLS stream itself, after the handshake (for other protocols).
    pub fn connect_tls(&self, addr: SocketAddr) -> Result<SslStream<TcpStream>, String> {
        let tcp = tcp(addr).map_err(|e| format!("connect {addr}: {e}"))?;
        self.connector
            .connect(SERVER_NAME, tcp)
            .map_err(|e| format!("TLS handshake with {addr}: {e}"))
    }
}

/// One request on a fresh plaintext connection.
pub fn plain_send(addr: SocketAddr, req: &Request) -> Response {
    connect_plain(addr)
        .send(req)
        .unwrap_or_else(|e| panic!("{} {}: {e}", req.method, req.path))
}

fn tcp(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

//! A TLS client that resumes sessions when it reconnects, as rustls, Go,
//! Java and browsers do. Envoy offers OpenSSL's client (`client.rs`) no
//! resumption once it has presented a certificate, so resumption with a
//! client certificate is tested through this one.

use super::client::SERVER_NAME;
use super::http::{Request, Response, read_response, write_request};
use super::pki::Issued;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, HandshakeKind, RootCertStore, StreamOwned};
use std::io::BufReader;
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

/// One client identity whose TLS sessions are kept between connections.
pub struct ResumingClient {
    config: Arc<ClientConfig>,
}

impl ResumingClient {
    /// Trusts `server_ca`; presents `leaf`, then `chain`.
    pub fn new(server_ca: &Issued, leaf: &Issued, chain: &[&Issued]) -> ResumingClient {
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from(server_ca.der()))
            .expect("the server CA is a certificate");
        let presented: Vec<CertificateDer<'static>> = std::iter::once(leaf)
            .chain(chain.iter().copied())
            .map(|c| CertificateDer::from(c.der()))
            .collect();
        let key = leaf.key.private_key_to_pkcs8().expect("a PKCS#8 key");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS 1.2 and 1.3")
            .with_root_certificates(roots)
            .with_client_auth_cert(
                presented,
                PrivateKeyDer::from(PrivatePkcs8KeyDer::from(key)),
            )
            .expect("a usable client key");
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        ResumingClient {
            config: Arc::new(config),
        }
    }

    /// A new connection, resuming the last session this client was given
    /// when the server agrees.
    pub fn connect(&self, addr: SocketAddr) -> ResumingConnection {
        let name = ServerName::try_from(SERVER_NAME).expect("a DNS name");
        let tls = ClientConnection::new(Arc::clone(&self.config), name).expect("a TLS client");
        let tcp = TcpStream::connect_timeout(&addr, Duration::from_secs(15)).expect("connect");
        tcp.set_read_timeout(Some(Duration::from_secs(15)))
            .expect("a timeout");
        ResumingConnection {
            io: BufReader::new(StreamOwned::new(tls, tcp)),
        }
    }
}

pub struct ResumingConnection {
    io: BufReader<StreamOwned<ClientConnection, TcpStream>>,
}

impl ResumingConnection {
    pub fn get(&mut self, path: &str) -> Response {
        write_request(self.io.get_mut(), &Request::get(path), SERVER_NAME)
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        read_response(&mut self.io, false).unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// Whether the handshake resumed an earlier session (known once a
    /// request has been sent).
    pub fn resumed(&self) -> bool {
        self.io.get_ref().conn.handshake_kind() == Some(HandshakeKind::Resumed)
    }
}

//! Two real Envoys: an edge that terminates the client's mTLS and forwards
//! over mTLS with its own certificate, and an inner Envoy running the
//! filter with `trusted_proxies` naming the edge. What the inner Envoy
//! forwards reaches the recording upstream.

use super::bootstrap::{EnvoySpec, LEGACY_CIPHERS};
use super::client::TlsClient;
use super::envoy::{self, Envoy};
use super::fixture::TestPki;
use super::pki::{CertSpec, Issued, issue, pem_bundle, self_signed};
use super::stack::Stack;
use super::tempdir::TempDir;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::OnceLock;

/// The edge's SPIFFE ID, which the inner Envoy's plugin trusts.
pub const EDGE_SPIFFE_ID: &str = "spiffe://onerecord.test/ns/edge/sa/gateway";
/// The header the edge sets to the client's TLS version.
pub const TLS_VERSION_HEADER: &str = "x-forwarded-tls-version";
/// The edge's listener.
pub const EDGE: &str = "edge";

/// The mesh CA that issues the edge's certificate, and that certificate.
pub struct Mesh {
    pub ca: Issued,
    pub edge: Issued,
}

/// One per test binary.
pub fn mesh() -> &'static Mesh {
    static MESH: OnceLock<Mesh> = OnceLock::new();
    MESH.get_or_init(|| {
        let ca = self_signed(&CertSpec::ca("Test Mesh CA"));
        let edge = issue(
            &CertSpec::client("edge-gateway").uri_sans(&[EDGE_SPIFFE_ID]),
            &ca,
        );
        Mesh { ca, edge }
    })
}

/// What a two-tier test varies.
#[derive(Clone, Debug)]
pub struct TwoTierSpec {
    /// The inner plugin's configuration, `trusted_proxies` added.
    pub plugin_config: Value,
    /// The inner Envoy's `forward_client_cert_details`.
    pub inner_forwarding: String,
    /// The edge's `tls_minimum_protocol_version` (`TLSv1_0` also offers
    /// the legacy suites, on an RSA server certificate).
    pub edge_min_tls: String,
}

impl TwoTierSpec {
    pub fn new(plugin_config: Value, inner_forwarding: &str) -> TwoTierSpec {
        TwoTierSpec {
            plugin_config,
            inner_forwarding: inner_forwarding.to_string(),
            edge_min_tls: "TLSv1_2".to_string(),
        }
    }

    /// An edge that still accepts TLS 1.0 and 1.1.
    pub fn legacy_edge(mut self) -> TwoTierSpec {
        self.edge_min_tls = "TLSv1_0".to_string();
        self
    }
}

pub struct TwoTier {
    // Dropped first: the edge stops before the Envoy it forwards to.
    pub edge: Envoy,
    pub inner: Stack,
}

impl TwoTier {
    pub fn start(spec: TwoTierSpec) -> TwoTier {
        let pki = TestPki::shared();
        let mesh = mesh();
        let mut plugin = spec.plugin_config.clone();
        plugin["trusted_proxies"] = json!({
            "peers": { "uri_san": [EDGE_SPIFFE_ID] },
            "tls_version_header": TLS_VERSION_HEADER,
            "forward_client_cert": spec.inner_forwarding,
        });
        // The inner Envoy validates the edge (mesh CA) and, for clients
        // that connect directly, the client roots.
        let trust = pem_bundle(&[&pki.client_ca, &pki.other_root, &mesh.ca]);
        let mut inner_spec = EnvoySpec::new(&plugin).client_ca_pem(&trust);
        inner_spec.forward_client_cert_details = spec.inner_forwarding.clone();
        let inner = Stack::start_spec(inner_spec);
        let dir = TempDir::new("edge");
        let bootstrap = edge_bootstrap(&spec, &dir, inner.tls());
        let edge = Envoy::start(dir, &bootstrap).unwrap_or_else(|exited| {
            panic!(
                "edge Envoy exited during start ({}); log:\n{}",
                exited.status,
                envoy::tail(&exited.log, 40)
            )
        });
        TwoTier { edge, inner }
    }

    /// The edge's client-facing listener.
    pub fn edge_addr(&self) -> SocketAddr {
        self.edge.listener(EDGE)
    }

    /// A client of the edge presenting no certificate yet.
    pub fn client(&self) -> TlsClient {
        TlsClient::new(&TestPki::shared().server_ca.cert)
    }
}

/// The edge: client mTLS (any chain let through, expired ones too, so the
/// verdict is the inner filter's), XFCC `SANITIZE_SET` with cert and chain,
/// the client's TLS version in [`TLS_VERSION_HEADER`] over any client copy,
/// and mTLS with the edge's own certificate to the inner Envoy.
fn edge_bootstrap(spec: &TwoTierSpec, dir: &TempDir, inner: SocketAddr) -> Value {
    let pki = TestPki::shared();
    let mesh = mesh();
    let legacy = spec.edge_min_tls != "TLSv1_2" && spec.edge_min_tls != "TLSv1_3";
    let server = if legacy {
        &pki.legacy_server
    } else {
        &pki.server
    };
    let mut params = json!({ "tls_minimum_protocol_version": spec.edge_min_tls });
    if legacy {
        params["cipher_suites"] = json!(LEGACY_CIPHERS);
    }
    let downstream = json!({
        "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
        "require_client_certificate": false,
        "common_tls_context": {
            "tls_params": params,
            "alpn_protocols": ["h2", "http/1.1"],
            "tls_certificates": [certificate(dir, "edge-server", server)],
            "validation_context": {
                "trusted_ca": { "filename": dir.write("client-roots.pem", pki.envoy_trust()) },
                "trust_chain_verification": "ACCEPT_UNTRUSTED",
                "allow_expired_certificate": true,
            },
        }
    });
    let upstream = json!({
        "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
        "sni": "localhost",
        "common_tls_context": {
            "tls_certificates": [certificate(dir, "edge-client", &mesh.edge)],
            "validation_context": {
                "trusted_ca": { "filename": dir.write("server-ca.pem", pki.server_ca.pem()) },
            },
        }
    });
    let route = json!({
        "match": { "prefix": "/" },
        "route": { "cluster": "inner" },
    });
    let manager = json!({
        "name": "envoy.filters.network.http_connection_manager",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            "stat_prefix": EDGE,
            "codec_type": "AUTO",
            "normalize_path": true,
            "merge_slashes": true,
            "forward_client_cert_details": "SANITIZE_SET",
            "set_current_client_cert_details": { "cert": true, "chain": true, "subject": true, "uri": true, "dns": true },
            "route_config": {
                "name": "edge",
                "request_headers_to_remove": [TLS_VERSION_HEADER],
                "request_headers_to_add": [{
                    "header": { "key": TLS_VERSION_HEADER, "value": "%DOWNSTREAM_TLS_VERSION%" },
                    "append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
                }],
                "virtual_hosts": [{ "name": "all", "domains": ["*"], "routes": [route] }]
            },
            "http_filters": [{
                "name": "envoy.filters.http.router",
                "typed_config": { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" }
            }],
        }
    });
    json!({
        "admin": { "address": address(([127, 0, 0, 1], 0).into()) },
        "static_resources": {
            "listeners": [{
                "name": EDGE,
                "address": address(([127, 0, 0, 1], 0).into()),
                "filter_chains": [{
                    "filters": [manager],
                    "transport_socket": { "name": "envoy.transport_sockets.tls", "typed_config": downstream },
                }],
            }],
            "clusters": [{
                "name": "inner",
                "type": "STATIC",
                "connect_timeout": "5s",
                "load_assignment": {
                    "cluster_name": "inner",
                    "endpoints": [{ "lb_endpoints": [{ "endpoint": { "address": address(inner) } }] }]
                },
                "transport_socket": { "name": "envoy.transport_sockets.tls", "typed_config": upstream },
            }]
        }
    })
}

fn certificate(dir: &TempDir, name: &str, cert: &Issued) -> Value {
    json!({
        "certificate_chain": { "filename": dir.write(&format!("{name}.pem"), cert.pem()) },
        "private_key": { "filename": dir.write(&format!("{name}.key"), cert.key_pem()) },
    })
}

fn address(addr: SocketAddr) -> Value {
    json!({ "socket_address": { "address": addr.ip().to_string(), "port_value": addr.port() } })
}

//! The mock host of a request whose client presented the test PKI's chain,
//! as Envoy reports it: the peer's digest and certificate, and the XFCC
//! element Envoy sets. Shared by the glue's tests.

use super::XFCC_HEADER;
use super::mock::MockHost;
use super::properties::{PEER_CERTIFICATE, PEER_DIGEST, dotted};
use crate::xfcc::envoy_format;
use onerecord_tls_policy_testkit::pinned::Pki;

/// A TLS 1.3 request at `now` from `k.leaf`, which presented leaf,
/// intermediate and root.
pub(crate) fn presenting(k: &Pki, now: u64) -> MockHost {
    let mut host = MockHost::tls("TLSv1.3");
    host.now = now;
    host.set_property(&dotted(PEER_DIGEST), k.leaf.sha256_hex().as_bytes());
    host.set_property(&dotted(PEER_CERTIFICATE), k.leaf.pem().as_bytes());
    let chain = [k.leaf.der(), k.inter.der(), k.root.der()];
    let element = envoy_format::element(&k.leaf.der(), &chain);
    host.headers.push((XFCC_HEADER.into(), element));
    host
}

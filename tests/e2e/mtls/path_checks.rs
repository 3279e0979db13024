//! The checks along the path: revocation, weak keys and signatures, key
//! usage, chain length.

use super::{
    assert_verified, cas, client_cert, get_through_envoy, policy, presenting, spec, start,
};
use onerecord_tls_policy_testkit as support;
use serde_json::json;
use support::client::TlsClient;
use support::onerecord::assert_denied;
use support::pki::{CertSpec, Issued, KeyKind, SigDigest, issue, self_signed};
use support::policies::DELEGATION;
use support::stack::Stack;

#[test]
fn revoked_leaf_and_revoked_intermediate_are_denied() {
    let root = cas().root;
    let revoked_leaf = client_cert("revoked", root);
    let revoked_inter = issue(&CertSpec::ca("Revoked Intermediate CA"), root);
    let under_revoked = client_cert("under-revoked", &revoked_inter);
    let s = start(policy(json!({
        "revoked_sha256": [revoked_leaf.sha256_hex(), revoked_inter.sha256_hex()]
    })));

    let resp = get_through_envoy(&presenting(&s, &revoked_leaf, &[]), s.tls(), DELEGATION);
    assert_denied(&resp, "certificate_revoked", DELEGATION);
    let client = presenting(&s, &under_revoked, &[&revoked_inter]);
    let resp = get_through_envoy(&client, s.tls(), DELEGATION);
    assert_denied(&resp, "certificate_revoked", DELEGATION);

    // The list names certificates, not their issuers.
    let sibling = client_cert("sibling", root);
    let resp = get_through_envoy(&presenting(&s, &sibling, &[]), s.tls(), DELEGATION);
    assert_verified(&resp, &sibling, root);
}

/// OpenSSL's default security level refuses to use weak keys and SHA-1
/// certificates on the client side before Envoy sees them.
fn lenient(client: TlsClient) -> TlsClient {
    client.cipher_list("DEFAULT@SECLEVEL=0")
}

#[test]
fn rsa_1024_leaf_is_denied_weak_key() {
    let s = start(policy(json!({})));
    let weak = issue(
        &CertSpec::client("rsa-1024").key(KeyKind::Rsa(1024)),
        cas().root,
    );
    let resp = get_through_envoy(&lenient(presenting(&s, &weak, &[])), s.tls(), DELEGATION);
    assert_denied(&resp, "weak_key", DELEGATION);
}

#[test]
fn sha1_signed_leaf_is_denied_weak_signature_algorithm() {
    let s = start(policy(json!({})));
    let sha1 = issue(
        &CertSpec::client("sha1").digest(SigDigest::Sha1),
        cas().root,
    );
    let resp = get_through_envoy(&lenient(presenting(&s, &sha1, &[])), s.tls(), DELEGATION);
    assert_denied(&resp, "weak_signature_algorithm", DELEGATION);
}

#[test]
fn server_auth_only_leaf_is_denied_missing_client_auth_usage() {
    // Envoy verifies client certificates for the TLS client purpose and
    // refuses this one at the handshake ("unsupported certificate purpose"),
    // so it is told to let untrusted chains through to the filter.
    let s = Stack::start_spec(spec(policy(json!({}))).accept_untrusted_client_certs());
    let server_only = issue(
        &CertSpec::client("server-only").eku(Some(vec!["serverAuth"])),
        cas().root,
    );
    let resp = get_through_envoy(&presenting(&s, &server_only, &[]), s.tls(), DELEGATION);
    assert_denied(&resp, "missing_client_auth_usage", DELEGATION);
}

#[test]
fn chain_longer_than_max_chain_length_is_denied() {
    let root = cas().root;
    let upper = issue(&CertSpec::ca("Upper Intermediate CA"), root);
    let lower = issue(&CertSpec::ca("Lower Intermediate CA"), &upper);
    let deep = client_cert("deep", &lower);
    let shallow = client_cert("shallow", &upper);
    let s = start(policy(json!({ "max_chain_length": 3 })));

    // leaf, lower, upper, root: four on the path.
    let resp = get_through_envoy(
        &presenting(&s, &deep, &[&lower, &upper]),
        s.tls(),
        DELEGATION,
    );
    assert_denied(&resp, "chain_too_long", DELEGATION);
    // Four presented, the path three: what the path does not use may be sent.
    let padded = presenting(&s, &shallow, &[&upper, root, cas().other_root]);
    let resp = get_through_envoy(&padded, s.tls(), DELEGATION);
    assert_verified(&resp, &shallow, root);
    // Seven presented, more than twice the limit: refused before any path building.
    let decoys: Vec<Issued> = (0..3)
        .map(|i| self_signed(&CertSpec::ca(&format!("Decoy CA {i}"))))
        .collect();
    let mut sent = vec![&upper, root, cas().other_root];
    sent.extend(&decoys);
    let resp = get_through_envoy(&presenting(&s, &shallow, &sent), s.tls(), DELEGATION);
    assert_denied(&resp, "chain_too_long", DELEGATION);
    // Exactly three is within the limit.
    let resp = get_through_envoy(&presenting(&s, &shallow, &[&upper]), s.tls(), DELEGATION);
    assert_verified(&resp, &shallow, root);
}

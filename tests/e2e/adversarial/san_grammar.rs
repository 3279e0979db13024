//! SAN values that break the XFCC grammar Envoy writes.

use onerecord_tls_policy_testkit as support;

use super::{Target, get, no_identity, pki, policy, spec};
use onerecord_tls_policy::xfcc::envoy_format::url_encode_pem;
use serde_json::json;
use support::onerecord::assert_allowed;
use support::pki::{CertSpec, Issued, issue};
use support::policies::{DELEGATION, OBJECT};
use support::stack::Stack;

/// Envoy writes `URI=` and `DNS=` values unquoted and verbatim, so a SAN
/// holding `,` or `"` (both legal in URIs) splits or breaks its own XFCC
/// element. The filter cannot tell such a certificate from an injection
/// and, with the grammar broken, refuses to use the chain: the certificate
/// is not verified (`peer_chain_unavailable` where mTLS is required). A SAN
/// that injects a whole element gains nothing either: the leaf and its
/// digest come from the handshake.
#[test]
fn san_values_that_break_envoys_xfcc_grammar_fail_closed() {
    let p = pki();
    let allowed = json!({ "sha256": [p.forwarder.sha256_hex()] });
    let t = Target::start(spec(&policy(json!({
        "rules": [{ "name": "access-delegations", "path_prefix": "/access-delegations", "allowed_clients": allowed }]
    }))));
    let victim = url_encode_pem(&p.forwarder.pem());
    let victim_hash = p.forwarder.sha256_hex();
    let base = "https://1r.example.com/logistics-agents";
    let leaf_with = |uri: &str, dns: &[&str]| {
        let leaf = issue(
            &CertSpec::client("san-case").uri_sans(&[uri]).dns_sans(dns),
            &p.client_ca,
        );
        // The SAN is in the certificate exactly as written.
        let names = leaf.cert.subject_alt_names().expect("SAN");
        assert!(names.iter().any(|n| n.uri() == Some(uri)), "{uri}");
        leaf
    };

    // Grammar broken: not verified, whatever the route.
    for leaf in [
        leaf_with(&format!("{base}/a,b"), &[]),
        leaf_with(&format!("{base}/a\"b"), &[]),
        leaf_with(&format!("{base}/ok"), &["a,b.example.com"]),
    ] {
        t.expect_deny("peer_chain_unavailable", DELEGATION, || {
            get(&t.presenting(&leaf, &[]), t.tls(), DELEGATION)
        });
        t.expect_allow(&no_identity(None), || {
            get(&t.presenting(&leaf, &[]), t.tls(), OBJECT)
        });
    }

    // A whole element claiming the allowed forwarder after the comma: its
    // `Hash=` is not the handshake's.
    let full = format!("{base}/x,Hash={victim_hash};Cert=\"{victim}\";Chain=\"{victim}\"");
    let leaf = leaf_with(&full, &[]);
    t.expect_deny("certificate_mismatch", DELEGATION, || {
        get(&t.presenting(&leaf, &[]), t.tls(), DELEGATION)
    });
    t.expect_allow(&no_identity(None), || {
        get(&t.presenting(&leaf, &[]), t.tls(), OBJECT)
    });

    // Without `Hash=`: where Envoy reports the handshake's certificate
    // itself (1.40), the client is verified as itself, which the allow-list
    // refuses; before that (1.36) the leaf is the element's `Cert=`, which
    // is not the handshake's.
    let injected = leaf_with(&format!("{base}/x,Cert=\"{victim}\""), &[]);
    if reports_peer_certificate(&t.s) {
        assert_verified_as_itself_but_not_allowed(&t, &injected);
    } else {
        t.expect_deny("certificate_mismatch", DELEGATION, || {
            get(&t.presenting(&injected, &[]), t.tls(), DELEGATION)
        });
    }
    // A `;` only ends the value early; the identity is the certificate's.
    let semicolon = leaf_with(&format!("{base}/a;v=1"), &[]);
    assert_verified_as_itself_but_not_allowed(&t, &semicolon);
    t.assert_vm_intact();
}

/// Denied under the forwarder-only rule, verified as itself elsewhere.
fn assert_verified_as_itself_but_not_allowed(t: &Target, leaf: &Issued) {
    t.expect_deny("client_not_allowed", DELEGATION, || {
        get(&t.presenting(leaf, &[]), t.tls(), DELEGATION)
    });
    let echo = assert_allowed(&get(&t.presenting(leaf, &[]), t.tls(), OBJECT));
    assert_eq!(echo.get("x-onerecord-mtls"), Some("verified"));
    assert_eq!(
        echo.get("x-onerecord-client-sha256"),
        Some(leaf.sha256_hex().as_str())
    );
}

/// Whether this Envoy has `connection.peer_certificate` (1.40 and later).
fn reports_peer_certificate(s: &Stack) -> bool {
    let info = s.envoy.admin_get("/server_info").json();
    let version = info["version"].as_str().expect("server_info version");
    // `<commit>/1.40.0/Clean/RELEASE/BoringSSL`
    let number = version.split('/').nth(1).expect("version number");
    let mut parts = number
        .split('.')
        .map(|p| p.parse::<u32>().expect("numeric"));
    let (major, minor) = (parts.next(), parts.next());
    (major, minor) >= (Some(1), Some(40))
}

//! Whose chains the filter trusts: resumed sessions, unpinned CAs Envoy
//! trusts, a pinned CA appended as a decoy, a forged intermediate.

use super::{assert_verified, cas, client_cert, get_through_envoy, policy, presenting, start};
use onerecord_tls_policy_testkit as support;
use serde_json::json;
use support::onerecord::assert_denied;
use support::pki::{CertSpec, KeyKind, issue};
use support::policies::DELEGATION;
use support::resuming::ResumingClient;

/// Clients reconnect with session tickets. Envoy does not validate the
/// client certificate again on a resumed session and reports it as not
/// validated (envoyproxy/envoy#21235), although the session carries the same
/// certificate. The filter's verdict must not change with resumption, in
/// either direction: a good client stays verified on every new connection,
/// a client of an unpinned CA stays untrusted.
#[test]
fn a_resumed_tls_session_is_decided_as_its_first_handshake() {
    let s = start(policy(json!({})));
    let leaf = client_cert("resumer", cas().root);
    let stranger = client_cert("stranger", cas().other_root);
    for (client, verified) in [(&leaf, true), (&stranger, false)] {
        let resuming = ResumingClient::new(&s.pki.server_ca, client, &[]);
        let mut resumed = 0;
        for _ in 0..4 {
            let mut conn = resuming.connect(s.tls());
            for _ in 0..2 {
                let resp = conn.get(DELEGATION);
                if verified {
                    assert_verified(&resp, client, cas().root);
                } else {
                    assert_denied(&resp, "untrusted_ca", DELEGATION);
                }
            }
            resumed += usize::from(conn.resumed());
        }
        assert!(resumed >= 2, "Envoy resumed {resumed} of 3 sessions");
    }
}

#[test]
fn client_of_an_unpinned_ca_envoy_trusts_is_untrusted() {
    let s = start(policy(json!({})));
    let other = cas().other_root;
    let leaf = client_cert("outsider", other);
    for chain in [vec![], vec![other]] {
        let resp = get_through_envoy(&presenting(&s, &leaf, &chain), s.tls(), DELEGATION);
        assert_denied(&resp, "untrusted_ca", DELEGATION);
    }
    assert_eq!(s.upstream.count(), 0);
}

#[test]
fn decoy_pinned_ca_appended_to_a_foreign_chain_is_untrusted() {
    // The pinned root reaches the filter only through what clients present.
    let root = cas().root;
    let s = start(json!({ "mtls": "required", "trusted_ca_sha256": [root.sha256_hex()] }));

    // A genuine client may anchor at a pinned CA it presents ...
    let genuine = client_cert("airline-1", root);
    let resp = get_through_envoy(&presenting(&s, &genuine, &[root]), s.tls(), DELEGATION);
    assert_verified(&resp, &genuine, root);

    // ... but appending the (public) pinned CA to a foreign chain is no path to it.
    let other = cas().other_root;
    let decoy = client_cert("decoy", other);
    for chain in [vec![root], vec![other, root], vec![root, other]] {
        let resp = get_through_envoy(&presenting(&s, &decoy, &chain), s.tls(), DELEGATION);
        assert_denied(&resp, "untrusted_ca", DELEGATION);
    }
    assert_eq!(s.upstream.count(), 1);
}

#[test]
fn forged_intermediate_with_the_pinned_subject_is_denied() {
    let genuine = cas().intermediate;
    let s = start(json!({
        "mtls": "required",
        "trusted_ca_sha256": [genuine.sha256_hex()],
        "ca_certificates_pem": genuine.pem(),
    }));
    // Same subject and key type as the pinned intermediate, another key;
    // issued by the unpinned root so that Envoy accepts the chain.
    let forged = issue(
        &CertSpec::ca("ONE Record Pinned Intermediate CA").key(KeyKind::Rsa(2048)),
        cas().other_root,
    );
    assert_eq!(
        forged.cert.subject_name().to_der().unwrap(),
        genuine.cert.subject_name().to_der().unwrap()
    );
    let leaf = client_cert("forger", &forged);

    // The leaf names the pinned intermediate as issuer, so the pinned anchor
    // is a candidate and its signature check fails; webpki reports the most
    // specific error of the candidates it tried, and a bad signature ranks
    // above "no issuer found" (the forged copy leading to the unpinned root).
    // Hence certificate_invalid, not untrusted_ca.
    for chain in [vec![&forged], vec![&forged, genuine]] {
        let resp = get_through_envoy(&presenting(&s, &leaf, &chain), s.tls(), DELEGATION);
        assert_denied(&resp, "certificate_invalid", DELEGATION);
    }
    assert_eq!(s.upstream.count(), 0);
}

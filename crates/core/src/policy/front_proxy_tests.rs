//! Behind a trusted front proxy: only a listed peer's XFCC element and
//! TLS-version header are the client's, the right element for how this
//! Envoy forwards, and nothing one client proved is kept for the next
//! request on the proxy's connection.

use super::cache_tests::{peer, request};
use super::test_fixture::{Peer, Pki, now, pki, remembering};
use super::*;
use crate::config::ForwardClientCert;
use crate::facts::PeerFacts;
use crate::xfcc::envoy_format;
use onerecord_tls_policy_testkit::pki::{CertSpec, Issued, self_signed};

const GATEWAY_SPIFFE: &str = "spiffe://cluster.local/ns/istio-system/sa/ingress-gateway";

fn gateway() -> Issued {
    self_signed(&CertSpec::client("ingress-gateway").uri_sans(&[GATEWAY_SPIFFE]))
}

fn by_sha256(proxy: &Issued, mode: &str) -> String {
    format!(
        r#","trusted_proxies":{{"peers":{{"sha256":["{}"]}},"forward_client_cert":"{mode}"}}"#,
        proxy.sha256_hex()
    )
}

/// The element Envoy writes about a client presenting `chain`.
fn element(chain: &[&Issued]) -> String {
    let ders: Vec<Vec<u8>> = chain.iter().map(|c| c.der()).collect();
    envoy_format::element(&ders[0], &ders)
}

/// A request on connection 7 from `proxy`, whose XFCC header is `xfcc` and
/// whose TLS-version header has `tls` values.
fn via(proxy: &Issued, uri_san: Option<&str>, xfcc: Option<String>, tls: &[&str]) -> Facts {
    let gateway = Peer {
        id: Some(7),
        facts: PeerFacts {
            sha256_digest: Some(proxy.sha256_hex()),
            certificate_pem: Some(proxy.pem()),
            xfcc,
        },
    };
    let mut facts = request(gateway, now());
    facts.request.authority = "onerecord.example".into();
    facts.request.forwarded_tls_version = tls.iter().map(|t| t.to_string()).collect();
    if let Ok(connection) = &mut facts.connection {
        connection.peer_uri_san = uri_san.map(str::to_string);
    }
    facts
}

/// The header this Envoy forwards for `client` (an element, or none).
fn header(proxy: &Issued, client: Option<String>, mode: ForwardClientCert) -> Option<String> {
    let ours = format!("Hash={};URI={GATEWAY_SPIFFE}", proxy.sha256_hex());
    match (mode, client) {
        (ForwardClientCert::ForwardOnly, client) => client,
        (ForwardClientCert::AppendForward, Some(client)) => Some(format!("{client},{ours}")),
        (ForwardClientCert::AppendForward, None) => Some(ours),
    }
}

fn good(k: &Pki) -> String {
    element(&[&k.leaf, &k.inter, &k.root])
}

#[test]
fn a_listed_proxy_reports_the_client_with_either_forwarding() {
    let k = pki();
    let gw = gateway();
    for mode in [
        ForwardClientCert::AppendForward,
        ForwardClientCert::ForwardOnly,
    ] {
        let p = Policy::new(
            crate::config::Config::parse(
                onerecord_tls_policy_testkit::pinned::policy_json(
                    &k.root,
                    &by_sha256(&gw, mode.as_str()),
                )
                .as_bytes(),
            )
            .unwrap(),
        );
        let facts = via(&gw, None, header(&gw, Some(good(&k)), mode), &["TLSv1.2"]);
        let decision = p.decide(&facts);
        assert_eq!(decision.deny_reason(), None, "{mode:?}");
        assert_eq!(decision.facts_from, FactsSource::TrustedProxy);
        assert_eq!(
            decision.tls_version,
            Some(TlsVersion::Tls12),
            "the client's"
        );
        let client = decision.client.unwrap();
        assert_eq!(client.leaf_sha256.to_hex(), k.leaf.sha256_hex());
    }
}

#[test]
fn a_proxy_is_recognised_by_its_uri_san_and_nothing_else() {
    let k = pki();
    let gw = gateway();
    let extra = format!(r#","trusted_proxies":{{"peers":{{"uri_san":["{GATEWAY_SPIFFE}"]}}}}"#);
    let p = super::test_fixture::policy(&k.root, &extra);
    let xfcc = header(&gw, Some(good(&k)), ForwardClientCert::AppendForward);
    let listed = p.decide(&via(&gw, Some(GATEWAY_SPIFFE), xfcc.clone(), &["TLSv1.3"]));
    assert_eq!(listed.deny_reason(), None);
    assert_eq!(listed.facts_from, FactsSource::TrustedProxy);

    // Another URI SAN: judged on its own handshake (its own certificate,
    // the last element, about itself, has no chain to a pinned anchor).
    let other = p.decide(&via(&gw, Some("spiffe://x/other"), xfcc, &["TLSv1.3"]));
    assert_eq!(other.facts_from, FactsSource::Handshake);
    assert_eq!(other.deny_reason(), Some(Reason::PeerChainUnavailable));
    assert_eq!(other.client, None);
}

#[test]
fn any_other_peer_is_judged_as_itself_and_its_headers_are_not_read() {
    let k = pki();
    let gw = gateway();
    let p = super::test_fixture::policy(&k.root, &by_sha256(&gw, "APPEND_FORWARD"));
    // A valid client connecting directly, claiming another client (the
    // decoy's element in front of Envoy's own) and TLS 1.3 by header on
    // its TLS 1.2 connection.
    let mut direct = peer(&[&k.other_leaf, &k.other_root]).facts;
    let mut facts = via(&gw, None, None, &["TLSv1.3"]);
    let mine = peer(&[&k.leaf, &k.inter, &k.root]).facts;
    direct.xfcc = Some(format!("{},{}", good(&k), mine.xfcc.clone().unwrap()));
    direct.sha256_digest = mine.sha256_digest.clone();
    direct.certificate_pem = mine.certificate_pem.clone();
    if let Ok(connection) = &mut facts.connection {
        connection.peer = Some(direct);
        connection.tls_version = Some("TLSv1.2".into());
    }
    let decision = p.decide(&facts);
    assert_eq!(decision.facts_from, FactsSource::Handshake);
    assert_eq!(decision.tls_version, Some(TlsVersion::Tls12));
    assert_eq!(
        decision.client.unwrap().leaf_sha256.to_hex(),
        k.leaf.sha256_hex()
    );

    // Without a certificate of its own, a forged element proves nothing.
    if let Ok(connection) = &mut facts.connection {
        connection.peer = None;
    }
    assert_eq!(
        p.decide(&facts).deny_reason(),
        Some(Reason::ClientCertificateRequired)
    );
}

#[test]
fn the_proxys_tls_version_header_decides_the_version() {
    let k = pki();
    let gw = gateway();
    let p = super::test_fixture::policy(&k.root, &by_sha256(&gw, "APPEND_FORWARD"));
    let xfcc = || header(&gw, Some(good(&k)), ForwardClientCert::AppendForward);
    let cases: [(&[&str], Option<Reason>); 6] = [
        (&["TLSv1.3"], None),
        (&["TLSv1.1"], Some(Reason::TlsVersionTooLow)),
        (&["SSLv9"], Some(Reason::TlsVersionUnrecognized)),
        (&["-"], Some(Reason::TlsRequired)),
        (&[], Some(Reason::ConnectionFactsUnavailable)),
        (
            &["TLSv1.3", "TLSv1.3"],
            Some(Reason::ConnectionFactsUnavailable),
        ),
    ];
    for (tls, expected) in cases {
        let decision = p.decide(&via(&gw, None, xfcc(), tls));
        assert_eq!(decision.deny_reason(), expected, "{tls:?}");
    }
}

#[test]
fn the_clients_element_is_verified_as_a_handshake_would_be() {
    let k = pki();
    let gw = gateway();
    let p = super::test_fixture::policy(&k.root, &by_sha256(&gw, "APPEND_FORWARD"));
    let decide = |client: Option<String>| {
        let xfcc = header(&gw, client, ForwardClientCert::AppendForward);
        p.decide(&via(&gw, None, xfcc, &["TLSv1.3"])).deny_reason()
    };
    // No element about the client: it presented no certificate.
    assert_eq!(decide(None), Some(Reason::ClientCertificateRequired));
    // Unpinned.
    assert_eq!(
        decide(Some(element(&[&k.other_leaf, &k.other_root]))),
        Some(Reason::UntrustedCa)
    );
    // A Hash that is not the Cert's: the binding fails.
    let swapped = good(&k).replace(&k.leaf.sha256_hex(), &k.other_leaf.sha256_hex());
    assert_eq!(decide(Some(swapped)), Some(Reason::CertificateMismatch));
    // An element without a certificate.
    let bare = format!("Hash={}", k.leaf.sha256_hex());
    assert_eq!(decide(Some(bare)), Some(Reason::PeerChainUnavailable));
}

#[test]
fn with_append_forward_the_last_element_must_be_about_the_proxy() {
    let k = pki();
    let gw = gateway();
    let p = super::test_fixture::policy(&k.root, &by_sha256(&gw, "APPEND_FORWARD"));
    // Only the client's element: this Envoy does not append, so the
    // configuration is wrong for it and nothing is believed.
    let decision = p.decide(&via(&gw, None, Some(good(&k)), &["TLSv1.3"]));
    assert_eq!(decision.deny_reason(), Some(Reason::PeerChainUnavailable));
    let malformed = p.decide(&via(&gw, None, Some("Hash=\"x".into()), &["TLSv1.3"]));
    assert_eq!(malformed.deny_reason(), Some(Reason::PeerChainUnavailable));
}

#[test]
fn no_clients_facts_outlive_its_request_on_the_proxys_connection() {
    let k = pki();
    let gw = gateway();
    let mut p = remembering(&k.root, &by_sha256(&gw, "APPEND_FORWARD"));
    let request = |client: Option<String>| {
        let xfcc = header(&gw, client, ForwardClientCert::AppendForward);
        via(&gw, None, xfcc, &["TLSv1.3"])
    };
    let first = p.decide(&request(Some(good(&k))));
    assert_eq!(first.deny_reason(), None);
    // The next request on connection 7 carries the certificate again.
    assert!(p.policy.needs(&p.state, Some(7), now()).certificate);
    let decoy = p.decide(&request(Some(element(&[&k.other_leaf, &k.other_root]))));
    assert_eq!(decoy.deny_reason(), Some(Reason::UntrustedCa));
    let none = p.decide(&request(None));
    assert_eq!(none.deny_reason(), Some(Reason::ClientCertificateRequired));
    assert_eq!(p.decide(&request(Some(good(&k)))), first);
    assert_eq!(p.verdict_cache_stats().connection_hits, 0);
}

#[test]
fn verdicts_are_remembered_per_proxy() {
    let k = pki();
    let gw = gateway();
    let gw2 = self_signed(&CertSpec::client("edge-2"));
    let extra = format!(
        r#","trusted_proxies":{{"peers":{{"sha256":["{}","{}"]}}}}"#,
        gw.sha256_hex(),
        gw2.sha256_hex()
    );
    let mut p = remembering(&k.root, &extra);
    let facts = |proxy: &Issued| {
        let xfcc = header(proxy, Some(good(&k)), ForwardClientCert::AppendForward);
        let mut facts = via(proxy, None, xfcc, &["TLSv1.3"]);
        // The same client element on each: only the proxy differs.
        if let Ok(c) = &mut facts.connection
            && let Some(peer) = &mut c.peer
        {
            peer.xfcc = Some(format!("{},Hash={}", good(&k), proxy.sha256_hex()));
        }
        facts
    };
    assert_eq!(p.decide(&facts(&gw)).deny_reason(), None);
    assert_eq!(p.decide(&facts(&gw)).deny_reason(), None);
    let s = p.verdict_cache_stats();
    assert_eq!((s.entries, s.hits), (1, 1));
    assert_eq!(p.decide(&facts(&gw2)).deny_reason(), None);
    let s = p.verdict_cache_stats();
    assert_eq!((s.entries, s.hits), (2, 1), "another proxy, another key");
}

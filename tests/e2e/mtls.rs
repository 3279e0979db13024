//! mTLS against a real Envoy whose `trusted_ca` is broader than the pinned
//! list: Envoy trusts the pinned root *and* an unpinned one, so every client
//! here completes the handshake and the trust decision is the filter's.
//! Each test issues the client certificates with exactly the defect it is
//! about; the CAs are shared. Each test runs its own Envoy, so they run in
//! parallel.

use onerecord_tls_policy_testkit as support;

use openssl::asn1::Asn1Time;
use openssl::x509::X509;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::bootstrap::EnvoySpec;
use support::client::TlsClient;
use support::http::{Request, Response};
use support::onerecord::{assert_allowed, assert_denied};
use support::pki::{CertSpec, Issued, KeyKind, SigDigest, issue, pem_bundle, self_signed};
use support::resuming::ResumingClient;
use support::stack::Stack;
use support::upstream::Echo;

const OBJECT: &str = "/logistics-objects/shipment-1";
const DELEGATION: &str = "/access-delegations/delegation-1";
const ACTION: &str = "/action-requests/request-1";

// --- PKI -------------------------------------------------------------------

/// The client-side CAs every test shares.
struct Cas {
    /// The pinned root (EC P-256).
    root: Issued,
    /// Under `root`; RSA, so RSA signatures appear on paths too.
    intermediate: Issued,
    /// A root Envoy trusts that is on no pinned list.
    other_root: Issued,
}

fn cas() -> &'static Cas {
    static CAS: OnceLock<Cas> = OnceLock::new();
    CAS.get_or_init(|| {
        let root = self_signed(&CertSpec::ca("ONE Record Pinned Root CA"));
        let intermediate = issue(
            &CertSpec::ca("ONE Record Pinned Intermediate CA").key(KeyKind::Rsa(2048)),
            &root,
        );
        let other_root = self_signed(&CertSpec::ca("Other Trusted Root CA"));
        Cas {
            root,
            intermediate,
            other_root,
        }
    })
}

fn uri(name: &str) -> String {
    format!("https://1r.example.com/logistics-agents/{name}")
}

/// A valid client certificate for `name` issued by `issuer`.
fn client_cert(name: &str, issuer: &Issued) -> Issued {
    issue(&CertSpec::client(name), issuer)
}

/// RFC 4514 subject of a `CertSpec::client(name)` certificate (CN, then O; last RDN first).
fn client_subject(name: &str) -> String {
    format!("O=Example Airline,CN={name}")
}

fn unix_now() -> i64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock");
    i64::try_from(now.as_secs()).expect("seconds fit i64")
}

fn not_after_unix(cert: &X509) -> i64 {
    let epoch = Asn1Time::from_unix(0).expect("epoch");
    let diff = epoch.diff(cert.not_after()).expect("notAfter");
    i64::from(diff.days) * 86_400 + i64::from(diff.secs)
}

// --- stacks and clients ------------------------------------------------------

/// mTLS required everywhere, the root pinned and available to complete
/// chains; `extra` adds or replaces fields.
fn policy(extra: Value) -> Value {
    let mut config = json!({
        "mtls": "required",
        "trusted_ca_sha256": [cas().root.sha256_hex()],
        "ca_certificates_pem": cas().root.pem(),
    });
    for (key, value) in extra.as_object().expect("extra is an object") {
        config[key] = value.clone();
    }
    config
}

/// Envoy validates clients against both roots, pinned or not.
fn spec(config: Value) -> EnvoySpec {
    let envoy_trust = pem_bundle(&[&cas().root, &cas().other_root]);
    EnvoySpec::new(&config).client_ca_pem(&envoy_trust)
}

fn start(config: Value) -> Stack {
    Stack::start_spec(spec(config))
}

/// A client presenting `leaf`, then exactly `chain`.
fn presenting(s: &Stack, leaf: &Issued, chain: &[&Issued]) -> TlsClient {
    s.client().cert(leaf).chain(chain)
}

/// One request on a fresh connection; `Err` when the handshake or the
/// exchange fails (with TLS 1.3 a refused client certificate shows only
/// when the client first reads).
fn try_get(client: &TlsClient, addr: SocketAddr, path: &str) -> Result<Response, String> {
    let mut conn = client.connect(addr)?;
    conn.send(&Request::get(path)).map_err(|e| e.to_string())
}

/// The client completed the handshake and got an answer: the verdict, if
/// any, is the filter's.
fn get_through_envoy(client: &TlsClient, addr: SocketAddr, path: &str) -> Response {
    try_get(client, addr, path)
        .unwrap_or_else(|e| panic!("Envoy refused a client the test needs it to accept: {e}"))
}

/// The request reached the backend as `leaf`, anchored at `anchor`.
fn assert_verified(resp: &Response, leaf: &Issued, anchor: &Issued) -> Echo {
    let echo = assert_allowed(resp);
    let context = format!("upstream headers: {:#?}", echo.headers);
    assert_eq!(echo.get("x-onerecord-mtls"), Some("verified"), "{context}");
    assert_eq!(
        echo.get("x-onerecord-client-sha256"),
        Some(leaf.sha256_hex().as_str()),
        "{context}"
    );
    assert_eq!(
        echo.get("x-onerecord-trust-anchor-sha256"),
        Some(anchor.sha256_hex().as_str()),
        "{context}"
    );
    assert_eq!(echo.get("x-onerecord-policy"), None, "{context}");
    echo
}

/// The request reached the backend with no client identity.
fn assert_unverified(resp: &Response) -> Echo {
    let echo = assert_allowed(resp);
    let context = format!("upstream headers: {:#?}", echo.headers);
    assert_eq!(echo.get("x-onerecord-mtls"), Some("none"), "{context}");
    for name in [
        "x-onerecord-client-sha256",
        "x-onerecord-client-subject",
        "x-onerecord-client-uri-san",
        "x-onerecord-trust-anchor-sha256",
    ] {
        assert_eq!(echo.get(name), None, "{context}");
    }
    echo
}

// --- valid clients ----------------------------------------------------------

#[test]
fn root_anchored_rsa_and_ecdsa_clients_are_verified_and_annotated() {
    let s = start(policy(json!({})));
    let root = &cas().root;

    // ECDSA leaf straight under the root, two URI SANs, sending only itself.
    let ec = issue(
        &CertSpec::client("airline-ec").uri_sans(&[&uri("airline-ec"), &uri("airline-ec-2")]),
        root,
    );
    let echo = assert_verified(
        &get_through_envoy(&presenting(&s, &ec, &[]), s.tls(), DELEGATION),
        &ec,
        root,
    );
    assert_eq!(
        echo.get("x-onerecord-client-subject"),
        Some(client_subject("airline-ec").as_str())
    );
    let both = format!("{},{}", uri("airline-ec"), uri("airline-ec-2"));
    assert_eq!(echo.get("x-onerecord-client-uri-san"), Some(both.as_str()));

    // RSA leaf under the RSA intermediate, sending leaf and intermediate.
    let rsa = issue(
        &CertSpec::client("airline-rsa").key(KeyKind::Rsa(2048)),
        &cas().intermediate,
    );
    let client = presenting(&s, &rsa, &[&cas().intermediate]);
    let echo = assert_verified(&get_through_envoy(&client, s.tls(), DELEGATION), &rsa, root);
    assert_eq!(
        echo.get("x-onerecord-client-subject"),
        Some(client_subject("airline-rsa").as_str())
    );
    assert_eq!(
        echo.get("x-onerecord-client-uri-san"),
        Some(uri("airline-rsa").as_str())
    );
}

#[test]
fn intermediate_anchored_rsa_and_ecdsa_clients_are_verified_and_annotated() {
    let inter = &cas().intermediate;
    // Only the intermediate is pinned, and only the client's chain carries it.
    let s = start(json!({ "mtls": "required", "trusted_ca_sha256": [inter.sha256_hex()] }));

    let ec = issue(&CertSpec::client("airline-p384").key(KeyKind::P384), inter);
    let client = presenting(&s, &ec, &[inter]);
    let echo = assert_verified(&get_through_envoy(&client, s.tls(), DELEGATION), &ec, inter);
    assert_eq!(
        echo.get("x-onerecord-client-subject"),
        Some(client_subject("airline-p384").as_str())
    );
    assert_eq!(
        echo.get("x-onerecord-client-uri-san"),
        Some(uri("airline-p384").as_str())
    );

    // The path stops at the pinned intermediate even when the root is sent too.
    let rsa = issue(
        &CertSpec::client("airline-rsa").key(KeyKind::Rsa(2048)),
        inter,
    );
    let client = presenting(&s, &rsa, &[inter, &cas().root]);
    let echo = assert_verified(
        &get_through_envoy(&client, s.tls(), DELEGATION),
        &rsa,
        inter,
    );
    assert_eq!(
        echo.get("x-onerecord-client-uri-san"),
        Some(uri("airline-rsa").as_str())
    );
}

// --- trust ----------------------------------------------------------------

/// Clients reconnect with session tickets. Envoy does not validate the
/// client certificate again on a resumed session and reports it as not
/// validated (envoyproxy/envoy#21235), although the session carries the same
/// certificate. The filter's verdict must not change with resumption, in
/// either direction: a good client stays verified on every new connection,
/// a client of an unpinned CA stays untrusted.
#[test]
fn a_resumed_tls_session_is_decided_as_its_first_handshake() {
    let s = start(policy(json!({})));
    let leaf = client_cert("resumer", &cas().root);
    let stranger = client_cert("stranger", &cas().other_root);
    for (client, verified) in [(&leaf, true), (&stranger, false)] {
        let resuming = ResumingClient::new(&s.pki.server_ca, client, &[]);
        let mut resumed = 0;
        for _ in 0..4 {
            let mut conn = resuming.connect(s.tls());
            for _ in 0..2 {
                let resp = conn.get(DELEGATION);
                if verified {
                    assert_verified(&resp, client, &cas().root);
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
    let other = &cas().other_root;
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
    let root = &cas().root;
    let s = start(json!({ "mtls": "required", "trusted_ca_sha256": [root.sha256_hex()] }));

    // A genuine client may anchor at a pinned CA it presents ...
    let genuine = client_cert("airline-1", root);
    let resp = get_through_envoy(&presenting(&s, &genuine, &[root]), s.tls(), DELEGATION);
    assert_verified(&resp, &genuine, root);

    // ... but appending the (public) pinned CA to a foreign chain is no path to it.
    let other = &cas().other_root;
    let decoy = client_cert("decoy", other);
    for chain in [vec![root], vec![other, root], vec![root, other]] {
        let resp = get_through_envoy(&presenting(&s, &decoy, &chain), s.tls(), DELEGATION);
        assert_denied(&resp, "untrusted_ca", DELEGATION);
    }
    assert_eq!(s.upstream.count(), 1);
}

#[test]
fn forged_intermediate_with_the_pinned_subject_is_denied() {
    let genuine = &cas().intermediate;
    let s = start(json!({
        "mtls": "required",
        "trusted_ca_sha256": [genuine.sha256_hex()],
        "ca_certificates_pem": genuine.pem(),
    }));
    // Same subject and key type as the pinned intermediate, another key;
    // issued by the unpinned root so that Envoy accepts the chain.
    let forged = issue(
        &CertSpec::ca("ONE Record Pinned Intermediate CA").key(KeyKind::Rsa(2048)),
        &cas().other_root,
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

// --- validity periods -------------------------------------------------------

#[test]
fn expired_and_not_yet_valid_leaves_envoy_accepts_are_denied() {
    let envoy = spec(policy(json!({ "clock_skew_seconds": 0 }))).allow_expired_certificate();
    let s = Stack::start_spec(envoy);
    let root = &cas().root;

    // Half a minute out: within the default skew, outside a zero one.
    let expired = issue(&CertSpec::client("expired").validity(-3600, -30), root);
    let resp = get_through_envoy(&presenting(&s, &expired, &[]), s.tls(), DELEGATION);
    assert_denied(&resp, "certificate_expired", DELEGATION);

    let early = issue(&CertSpec::client("early").validity(30, 3600), root);
    let resp = get_through_envoy(&presenting(&s, &early, &[]), s.tls(), DELEGATION);
    assert_denied(&resp, "certificate_not_yet_valid", DELEGATION);
    assert_eq!(s.upstream.count(), 0);
}

#[test]
fn certificate_expiring_on_a_keep_alive_connection_is_denied_there() {
    const LIFETIME: i64 = 5;
    let s = start(policy(json!({ "clock_skew_seconds": 0 })));
    // Issued once Envoy is up, so its few seconds are not spent waiting for it.
    let leaf = issue(
        &CertSpec::client("short-lived").validity(-3600, LIFETIME),
        &cas().root,
    );
    let not_after = not_after_unix(&leaf.cert);
    let client = presenting(&s, &leaf, &[]);

    let mut conn = client.open(s.tls());
    assert_verified(&conn.get(DELEGATION), &leaf, &cas().root);

    // Envoy checked the validity at the handshake only; the filter checks it
    // on every request. Poll the same connection until it flips.
    let deadline = Instant::now() + Duration::from_secs(LIFETIME as u64 + 15);
    let denied = loop {
        let resp = conn.get(DELEGATION);
        if resp.status != 200 {
            break resp;
        }
        assert!(
            unix_now() <= not_after + 5,
            "still allowed 5 s after notAfter ({not_after})"
        );
        assert!(Instant::now() < deadline, "never denied");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        unix_now() > not_after,
        "denied before notAfter ({not_after}): {denied:#?}"
    );
    assert_denied(&denied, "certificate_expired", DELEGATION);

    // A new connection with the same certificate is Envoy's to refuse.
    let fresh = try_get(&client, s.tls(), DELEGATION);
    assert!(
        fresh.is_err(),
        "Envoy accepted an expired certificate: {fresh:?}"
    );
}

/// What Envoy's own validation refuses at the handshake, which is why the
/// tests above relax it: certificates outside their validity period (both
/// directions; `allow_expired_certificate` lifts both) and leaves whose EKU
/// lacks clientAuth (Envoy verifies for the TLS client purpose).
#[test]
fn envoy_refuses_out_of_period_and_server_only_certificates_at_the_handshake() {
    let s = start(policy(json!({})));
    let root = &cas().root;
    for cert_spec in [
        CertSpec::client("expired").validity(-7200, -3600),
        CertSpec::client("early").validity(3600, 7200),
        CertSpec::client("server-only").eku(Some(vec!["serverAuth"])),
    ] {
        let leaf = issue(&cert_spec, root);
        let outcome = try_get(&presenting(&s, &leaf, &[]), s.tls(), DELEGATION);
        assert!(
            outcome.is_err(),
            "Envoy accepted {}: {outcome:?}",
            cert_spec.common_name
        );
    }
    assert_eq!(s.upstream.count(), 0);
}

// --- path checks --------------------------------------------------------------

#[test]
fn revoked_leaf_and_revoked_intermediate_are_denied() {
    let root = &cas().root;
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
        &cas().root,
    );
    let resp = get_through_envoy(&lenient(presenting(&s, &weak, &[])), s.tls(), DELEGATION);
    assert_denied(&resp, "weak_key", DELEGATION);
}

#[test]
fn sha1_signed_leaf_is_denied_weak_signature_algorithm() {
    let s = start(policy(json!({})));
    let sha1 = issue(
        &CertSpec::client("sha1").digest(SigDigest::Sha1),
        &cas().root,
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
        &cas().root,
    );
    let resp = get_through_envoy(&presenting(&s, &server_only, &[]), s.tls(), DELEGATION);
    assert_denied(&resp, "missing_client_auth_usage", DELEGATION);
}

#[test]
fn chain_longer_than_max_chain_length_is_denied() {
    let root = &cas().root;
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
    // Four presented, though the path would be three.
    let padded = presenting(&s, &shallow, &[&upper, root, &cas().other_root]);
    let resp = get_through_envoy(&padded, s.tls(), DELEGATION);
    assert_denied(&resp, "chain_too_long", DELEGATION);
    // Exactly three is within the limit.
    let resp = get_through_envoy(&presenting(&s, &shallow, &[&upper]), s.tls(), DELEGATION);
    assert_verified(&resp, &shallow, root);
}

// --- allow-lists ---------------------------------------------------------------

#[test]
fn allowed_clients_globally_and_per_rule() {
    let root = &cas().root;
    let airline = client_cert("airline-1", root);
    let forwarder = client_cert("forwarder-1", root);
    // Globally only the airline; under the rule only the forwarder (a rule's
    // list replaces the global one).
    let s = start(policy(json!({
        "mtls": "optional",
        "allowed_clients": { "uri_san": [uri("airline-1")] },
        "rules": [{
            "name": "access-delegations",
            "path_prefix": "/access-delegations",
            "allowed_clients": { "sha256": [forwarder.sha256_hex()] }
        }]
    })));
    let as_airline = presenting(&s, &airline, &[]);
    let as_forwarder = presenting(&s, &forwarder, &[]);

    assert_verified(
        &get_through_envoy(&as_airline, s.tls(), OBJECT),
        &airline,
        root,
    );
    let resp = get_through_envoy(&as_forwarder, s.tls(), OBJECT);
    assert_denied(&resp, "client_not_allowed", OBJECT);

    let echo = assert_verified(
        &get_through_envoy(&as_forwarder, s.tls(), DELEGATION),
        &forwarder,
        root,
    );
    assert_eq!(echo.get("x-onerecord-rule"), Some("access-delegations"));
    let resp = get_through_envoy(&as_airline, s.tls(), DELEGATION);
    assert_denied(&resp, "client_not_allowed", DELEGATION);

    // The list makes a certificate required.
    assert_denied(
        &get_through_envoy(&s.client(), s.tls(), OBJECT),
        "client_certificate_required",
        OBJECT,
    );
}

// --- requirements and audit ---------------------------------------------------

#[test]
fn rule_and_route_metadata_require_mtls_where_the_default_is_optional() {
    let config = policy(json!({
        "mtls": "optional",
        "rules": [{ "name": "access-delegations", "path_prefix": "/access-delegations", "mtls": "required" }]
    }));
    let s = Stack::start_spec(spec(config).route_mtls("/action-requests", json!("required")));
    let root = &cas().root;
    let valid = client_cert("airline-1", root);
    let untrusted = client_cert("outsider", &cas().other_root);

    for path in [DELEGATION, ACTION] {
        let resp = get_through_envoy(&s.client(), s.tls(), path);
        assert_denied(&resp, "client_certificate_required", path);
        let resp = get_through_envoy(&presenting(&s, &untrusted, &[]), s.tls(), path);
        assert_denied(&resp, "untrusted_ca", path);
        assert_verified(
            &get_through_envoy(&presenting(&s, &valid, &[]), s.tls(), path),
            &valid,
            root,
        );
    }

    // Where mTLS is optional an unverifiable certificate is ignored, not trusted.
    assert_unverified(&get_through_envoy(&s.client(), s.tls(), OBJECT));
    assert_unverified(&get_through_envoy(
        &presenting(&s, &untrusted, &[]),
        s.tls(),
        OBJECT,
    ));
    assert_verified(
        &get_through_envoy(&presenting(&s, &valid, &[]), s.tls(), OBJECT),
        &valid,
        root,
    );
}

#[test]
fn audit_mode_passes_an_untrusted_client_with_the_verdict() {
    let s = start(policy(json!({ "mode": "audit" })));
    let untrusted = client_cert("outsider", &cas().other_root);
    let resp = get_through_envoy(&presenting(&s, &untrusted, &[]), s.tls(), DELEGATION);
    let echo = assert_allowed(&resp);
    assert_eq!(
        echo.get("x-onerecord-policy"),
        Some("audit-deny; reason=untrusted_ca"),
        "{:#?}",
        echo.headers
    );
    assert_eq!(echo.get("x-onerecord-mtls"), Some("none"));
    assert_eq!(echo.get("x-onerecord-client-sha256"), None);
}

// --- XFCC ----------------------------------------------------------------------

#[test]
fn xfcc_without_chain_leaves_an_intermediate_issued_leaf_unverifiable() {
    let s = Stack::start_spec(spec(policy(json!({}))).xfcc_without_chain());
    let root = &cas().root;
    let inter = &cas().intermediate;
    let leaf = client_cert("airline-1", inter);
    let resp = get_through_envoy(&presenting(&s, &leaf, &[inter]), s.tls(), DELEGATION);
    assert_denied(&resp, "peer_chain_unavailable", DELEGATION);

    // A leaf issued by a configured CA needs no chain.
    let direct = client_cert("airline-2", root);
    let resp = get_through_envoy(&presenting(&s, &direct, &[]), s.tls(), DELEGATION);
    assert_verified(&resp, &direct, root);
}

/// An XFCC element as Envoy would set it for a client presenting `leaf` alone.
fn xfcc_claiming(leaf: &Issued) -> String {
    let pem: String = leaf.pem().bytes().map(|b| format!("%{b:02X}")).collect();
    format!("Hash={};Cert=\"{pem}\";Chain=\"{pem}\"", leaf.sha256_hex())
}

#[test]
fn client_sent_xfcc_cannot_claim_another_certificate() {
    let root = &cas().root;
    let airline = client_cert("airline-1", root);
    let forwarder = client_cert("forwarder-1", root);
    let s = start(policy(
        json!({ "allowed_clients": { "sha256": [forwarder.sha256_hex()] } }),
    ));

    // The airline, claiming to be the allowed forwarder, is still the airline.
    let req =
        Request::get(DELEGATION).header("x-forwarded-client-cert", &xfcc_claiming(&forwarder));
    let mut conn = presenting(&s, &airline, &[]).open(s.tls());
    let resp = conn.send(&req).expect("response");
    assert_denied(&resp, "client_not_allowed", DELEGATION);

    // The forwarder, claiming to be the airline, is still the forwarder.
    let req = Request::get(DELEGATION).header("x-forwarded-client-cert", &xfcc_claiming(&airline));
    let mut conn = presenting(&s, &forwarder, &[]).open(s.tls());
    let echo = assert_verified(&conn.send(&req).expect("response"), &forwarder, root);
    let xfcc = echo.all("x-forwarded-client-cert");
    assert_eq!(xfcc.len(), 1, "{xfcc:?}");
    assert!(
        xfcc[0].contains(&format!("Hash={};", forwarder.sha256_hex()))
            && !xfcc[0].contains(&airline.sha256_hex()),
        "Envoy did not replace the client's XFCC: {xfcc:?}"
    );

    // An untrusted client claiming a pinned certificate gains nothing either.
    let outsider = client_cert("outsider", &cas().other_root);
    let req =
        Request::get(DELEGATION).header("x-forwarded-client-cert", &xfcc_claiming(&forwarder));
    let mut conn = presenting(&s, &outsider, &[]).open(s.tls());
    assert_denied(
        &conn.send(&req).expect("response"),
        "untrusted_ca",
        DELEGATION,
    );
}

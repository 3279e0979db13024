//! Client-written XFCC prefixes under APPEND_FORWARD: claimed identities
//! and malformed prefixes never change who the client is.

use onerecord_tls_policy_testkit as support;

use super::{Target, airline, identity, no_identity, pki, policy, spec, xfcc_of};
use serde_json::json;
use support::forged::{forged, forged_headers};
use support::http::Request;
use support::pki::Issued;
use support::policies::{DELEGATION, OBJECT};

/// The request head for `path` with `xfcc` (raw bytes) and the forged
/// annotations, for XFCC values `Request` cannot hold.
fn raw_head(path: &str, xfcc: &[u8]) -> Vec<u8> {
    let mut head = format!("GET {path} HTTP/1.1\r\nhost: localhost\r\n").into_bytes();
    head.extend_from_slice(b"x-forwarded-client-cert: ");
    head.extend_from_slice(xfcc);
    head.extend_from_slice(b"\r\n");
    for (name, value) in forged_headers() {
        head.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    head.extend_from_slice(b"\r\n");
    head
}

/// APPEND_FORWARD, with only the forwarder allowed under the rule.
fn append_forward_target() -> Target {
    let allowed = json!({ "sha256": [pki().forwarder.sha256_hex()] });
    let config = policy(json!({
        "rules": [{ "name": "access-delegations", "path_prefix": "/access-delegations", "allowed_clients": allowed }]
    }));
    Target::start(spec(&config).xfcc_append_forward())
}

#[test]
fn xfcc_prefix_claiming_a_pinned_identity_does_not_change_the_verdict() {
    let t = append_forward_target();
    let p = pki();
    let as_forwarder = xfcc_of(&p.forwarder);
    let send = |leaf: &Issued, path: &str, xfcc: &[&str]| {
        let mut req = forged(Request::get(path));
        for value in xfcc {
            req = req.header("x-forwarded-client-cert", value);
        }
        t.presenting(leaf, &[]).send(t.tls(), &req)
    };

    // The airline claiming to be the allowed forwarder is still the airline.
    t.expect_deny("client_not_allowed", DELEGATION, || {
        send(&p.client, DELEGATION, &[&as_forwarder])
    });
    let echo = t.expect_allow(&airline(), || send(&p.client, OBJECT, &[&as_forwarder]));
    // The client's element was kept and Envoy's appended after it.
    let xfcc = echo.all("x-forwarded-client-cert");
    let envoys = xfcc_of(&p.client);
    assert_eq!(xfcc.len(), 1, "{xfcc:?}");
    assert!(
        xfcc[0].starts_with(&format!("{as_forwarder},")) && xfcc[0].contains(&envoys[..80]),
        "not APPEND_FORWARD: {xfcc:?}"
    );

    // Split over two header lines (Envoy joins them with a comma), or
    // claimed twice: the same.
    let by = "By=spiffe://1r.example.com/proxy";
    t.expect_deny("client_not_allowed", DELEGATION, || {
        send(&p.client, DELEGATION, &[by, &as_forwarder])
    });
    t.expect_deny("client_not_allowed", DELEGATION, || {
        send(
            &p.client,
            DELEGATION,
            &[&format!("{as_forwarder},{as_forwarder}")],
        )
    });

    // An outsider claiming a pinned identity is still untrusted.
    t.expect_deny("untrusted_ca", DELEGATION, || {
        send(&p.outsider, DELEGATION, &[&as_forwarder])
    });
    t.expect_allow(&no_identity(None), || {
        send(&p.outsider, OBJECT, &[&as_forwarder])
    });

    // The forwarder claiming to be the airline is still the forwarder.
    let forwarder = identity(
        &p.forwarder,
        "forwarder-1",
        Some("access-delegations"),
        "TLSv1.3",
    );
    t.expect_allow(&forwarder, || {
        send(&p.forwarder, DELEGATION, &[&xfcc_of(&p.client)])
    });

    // HTTP/2 the same.
    t.expect_deny("client_not_allowed", DELEGATION, || {
        t.h2_as(Some(&p.client))
            .header("x-forwarded-client-cert", &as_forwarder)
            .get(DELEGATION)
    });
    t.expect_allow(&forwarder, || {
        t.h2_as(Some(&p.forwarder))
            .header("x-forwarded-client-cert", &xfcc_of(&p.client))
            .get(DELEGATION)
    });
    t.assert_vm_intact();
}

/// What a client-written XFCC prefix makes of the forwarder's request.
#[derive(Clone, Copy, Debug)]
enum Prefix {
    /// Well-formed as far as the grammar goes: only the last element (Envoy's)
    /// is interpreted, so the forwarder is verified as itself.
    Harmless,
    /// The header no longer parses: the chain is unavailable. Required routes
    /// deny `peer_chain_unavailable`; optional ones pass without identity.
    Unparseable,
    /// Not UTF-8: the filter cannot read the header at all and refuses on
    /// every route.
    Unreadable,
}

#[test]
fn malformed_xfcc_prefixes_never_yield_another_identity() {
    let t = append_forward_target();
    let p = pki();
    let claim = xfcc_of(&p.client);
    let cases: Vec<(&str, Vec<u8>, Prefix)> = vec![
        (
            "bad percent-encoding",
            br#"Cert="%ZZ""#.to_vec(),
            Prefix::Harmless,
        ),
        (
            "truncated percent-encoding",
            br#"Chain="%E""#.to_vec(),
            Prefix::Harmless,
        ),
        (
            "repeated keys, bad hash",
            b"Hash=00;Hash=zz".to_vec(),
            Prefix::Harmless,
        ),
        (
            "a quote left open",
            br#"Subject="CN=a"#.to_vec(),
            Prefix::Unparseable,
        ),
        (
            "an escaped closing quote",
            br#"Subject="CN=a\""#.to_vec(),
            Prefix::Unparseable,
        ),
        (
            "a quote inside a value",
            br#"By=a"b"#.to_vec(),
            Prefix::Unparseable,
        ),
        ("an empty key", b"=x".to_vec(), Prefix::Unparseable),
        (
            "a trailing semicolon",
            b"By=a;".to_vec(),
            Prefix::Unparseable,
        ),
        ("a trailing comma", b"By=a,".to_vec(), Prefix::Unparseable),
        ("a pair without =", b"By".to_vec(), Prefix::Unparseable),
        (
            "a claim ending in an open quote",
            format!("{claim};URI=\"").into_bytes(),
            Prefix::Unparseable,
        ),
        (
            "a claim quoting Envoy's element away",
            format!("{claim};Subject=\"x\\").into_bytes(),
            Prefix::Unparseable,
        ),
        (
            "a byte that is not UTF-8",
            b"By=spiffe://\xff".to_vec(),
            Prefix::Unreadable,
        ),
    ];
    let forwarder = |rule| identity(&p.forwarder, "forwarder-1", rule, "TLSv1.3");
    // Each case on a new connection: the first request on a connection is
    // the one whose XFCC the filter reads (see below for later ones).
    for (what, prefix, outcome) in &cases {
        let mut conn = t.presenting(&p.forwarder, &[]).open(t.tls());
        for path in [DELEGATION, OBJECT] {
            let rule = (path == DELEGATION).then_some("access-delegations");
            let send = || {
                conn.send_raw(&raw_head(path, prefix))
                    .unwrap_or_else(|e| panic!("{what}: {e}"))
            };
            match outcome {
                Prefix::Harmless => {
                    t.expect_allow(&forwarder(rule), send);
                }
                Prefix::Unparseable if path == DELEGATION => {
                    t.expect_deny("peer_chain_unavailable", path, send);
                }
                Prefix::Unparseable => {
                    t.expect_allow(&no_identity(rule), send);
                }
                Prefix::Unreadable => {
                    t.expect_deny("connection_facts_unavailable", path, send);
                }
            }
        }
    }

    // Once a connection's certificate is verified, later requests on it are
    // decided from that verification without reading XFCC (the handshake
    // cannot change): whatever a client prefixes, it stays itself.
    let mut conn = t.presenting(&p.forwarder, &[]).open(t.tls());
    let verified = forwarder(Some("access-delegations"));
    let harmless = br#"Cert="%ZZ""#;
    t.expect_allow(&verified, || {
        conn.send_raw(&raw_head(DELEGATION, harmless))
            .expect("a first request")
    });
    // (Not the non-UTF-8 one: the echo backend cannot answer it.)
    let unparseable = cases
        .iter()
        .filter(|(_, _, outcome)| matches!(outcome, Prefix::Unparseable));
    for (what, prefix, _) in unparseable {
        t.expect_allow(&verified, || {
            conn.send_raw(&raw_head(DELEGATION, prefix))
                .unwrap_or_else(|e| panic!("{what} on a verified connection: {e}"))
        });
    }
    t.assert_vm_intact();
}

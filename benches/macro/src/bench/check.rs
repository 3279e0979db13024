//! The check each Envoy passes before it is timed: it must do what its
//! configuration claims, on both routes and at the echo backend.

use super::authorization;
use crate::configs::{DIRECT, ECHO, FACTS_HEADER, Kind, LADDER, LUA_HEADER, PROXIED};
use onerecord_tls_policy_testkit as support;
use sfv::{BareItem, Dictionary, ListEntry, Parser};
use support::bootstrap::TLS;
use support::client::TlsClient;
use support::envoy::Envoy;
use support::fixture::TestPki;
use support::http::Request;
use support::onerecord::deny_reason;
use support::pki::Issued;
use support::upstream::Echo;

/// Each Envoy must do what its configuration claims before it is timed.
pub(super) fn check(
    kind: Kind,
    envoy: &Envoy,
    pki: &TestPki,
    (leaf, issuing): (&Issued, &Issued),
    (token, agent): (&str, &str),
) -> Result<(), String> {
    let addr = envoy.listener(TLS);
    let fail = |what: String| Err(format!("{} {}: {what}", kind.key(), kind.label()));
    let client = TlsClient::new(&pki.server_ca.cert)
        .cert(leaf)
        .chain(&[issuing]);
    let request = |path: &str| match authorization(kind, token) {
        Some(value) => Request::get(path).header("authorization", &value),
        None => Request::get(path),
    };
    for path in [DIRECT, PROXIED] {
        let status = client.send(addr, &request(path)).status;
        if status != 200 {
            return fail(format!(
                "GET {path} with the client certificate got {status}"
            ));
        }
    }
    let echo = Echo::of(&client.send(addr, &request(ECHO)));
    let digest = leaf.sha256_hex();
    let annotated = || {
        vec![
            ("x-onerecord-mtls", "verified".to_string()),
            ("x-onerecord-client-sha256", digest.clone()),
            (
                "x-onerecord-trust-anchor-sha256",
                pki.client_ca.sha256_hex(),
            ),
        ]
    };
    let expected: Vec<(&str, String)> = match kind {
        Kind::Plugin | Kind::OcspHard => annotated(),
        Kind::TokenBound => {
            let mut expected = annotated();
            expected.push(("x-onerecord-token-binding", "verified".to_string()));
            expected.push(("x-onerecord-logistics-agent", agent.to_string()));
            expected
        }
        Kind::Lua => vec![(LUA_HEADER, format!("TLSv1.3 {digest}"))],
        // The probe sets the plugin's annotations with placeholder values.
        Kind::Probe(n) if LADDER[..n].iter().any(|(step, _)| *step == "annotate") => {
            vec![("x-onerecord-mtls", "verified".to_string())]
        }
        _ => vec![],
    };
    for (name, value) in &expected {
        if echo.get(name) != Some(value.as_str()) {
            return fail(format!(
                "backend got {name}: {:?}, expected {value:?}",
                echo.get(name)
            ));
        }
    }
    if kind == Kind::Lean {
        dictionary_annotation(&echo, &digest).or_else(fail)?;
    }
    let anonymous = TlsClient::new(&pki.server_ca.cert).get(addr, DIRECT).status;
    let refuses = matches!(
        kind,
        Kind::Rbac | Kind::Plugin | Kind::TokenBound | Kind::OcspHard | Kind::Lean
    );
    if (anonymous == 403) != refuses {
        return fail(format!(
            "GET {DIRECT} without a client certificate got {anonymous}"
        ));
    }
    if kind == Kind::TokenBound {
        // The certificate without the token: refused by the plugin, not by jwt_authn.
        let resp = client.get(addr, DIRECT);
        if resp.status != 401 || deny_reason(&resp) != Some("token_required") {
            return fail(format!(
                "GET {DIRECT} without a token got {} ({:?})",
                resp.status,
                deny_reason(&resp)
            ));
        }
    }
    Ok(())
}

/// H's facts reach the backend as one dictionary header, `mtls=verified`
/// and the client's digest in it, and not as separate headers.
fn dictionary_annotation(echo: &Echo, digest: &str) -> Result<(), String> {
    let facts = echo
        .get(FACTS_HEADER)
        .ok_or_else(|| format!("backend got no {FACTS_HEADER}"))?;
    let dictionary: Dictionary = Parser::new(facts)
        .parse_dictionary()
        .map_err(|e| format!("backend got {FACTS_HEADER}: {facts:?}, not a dictionary: {e}"))?;
    let item = |key: &str| match dictionary.iter().find(|(k, _)| k.as_str() == key) {
        Some((_, ListEntry::Item(item))) => Some(item.bare_item.clone()),
        _ => None,
    };
    let verified = item("mtls")
        .as_ref()
        .and_then(BareItem::as_token)
        .is_some_and(|t| t.as_str() == "verified");
    let of_client = item("client-sha256")
        .as_ref()
        .and_then(BareItem::as_string)
        .is_some_and(|s| s.as_str() == digest);
    if !verified || !of_client {
        return Err(format!(
            "backend got {FACTS_HEADER}: {facts:?}, expected mtls=verified and the client's digest"
        ));
    }
    for name in ["x-onerecord-mtls", "x-onerecord-client-sha256"] {
        if let Some(value) = echo.get(name) {
            return Err(format!(
                "backend got {name}: {value:?} besides {FACTS_HEADER}"
            ));
        }
    }
    Ok(())
}

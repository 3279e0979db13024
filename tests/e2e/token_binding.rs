//! Binding the ONE Record token to the client certificate, against a real
//! Envoy with its own `jwt_authn` in front of the filter, verifying tokens
//! signed here against an inline JWKS. Each case checks what the recording
//! upstream received (or that it received nothing).

use onerecord_tls_policy_testkit as support;

use serde_json::{Value, json};
use support::bootstrap::EnvoySpec;
use support::client::TlsClient;
use support::fixture::TestPki;
use support::http::{Request, Response};
use support::jwt::{self, TokenIssuer};
use support::onerecord::{assert_allowed, deny_reason};
use support::pki::Issued;
use support::policies::{DELEGATION, OBJECT, pinned_client_ca, with};
use support::stack::Stack;
use support::unix_now;
use support::upstream::Echo;
use support::vm;

const AIRLINE: &str = "https://1r.example.com/logistics-agents/airline-1";
const FORWARDER: &str = "https://1r.example.com/logistics-agents/forwarder-1";

/// Binding required (with `cnf`) under `/access-delegations`, optional
/// under `/logistics-objects`; mTLS optional elsewhere.
fn policy() -> Value {
    with(
        pinned_client_ca(),
        json!({
            "mtls": "optional",
            "rules": [
                { "name": "access-delegations", "path_prefix": "/access-delegations",
                  "token_binding": "required", "require_cnf": true },
                { "name": "logistics-objects", "path_prefix": "/logistics-objects",
                  "token_binding": "optional" },
            ],
        }),
    )
}

/// Envoy with `jwt_authn` (`missing`: what it does with a request without
/// a valid token) in front of the filter.
fn start(issuer: &TokenIssuer, missing: &str) -> Stack {
    let filter = jwt::jwt_authn_filter(issuer, missing);
    Stack::start_edited(EnvoySpec::new(&policy()), |bootstrap, _| {
        jwt::insert_in_front(bootstrap, &filter)
    })
}

fn presenting(s: &Stack, leaf: &Issued) -> TlsClient {
    s.client().cert(leaf)
}

fn with_token(path: &str, token: &str) -> Request {
    Request::get(path).header("authorization", &format!("Bearer {token}"))
}

/// A token for `agent` bound to `holder`'s certificate, signed by `issuer`.
fn token(issuer: &TokenIssuer, agent: &str, holder: &Issued) -> String {
    issuer.sign(&jwt::claims(agent, Some(&holder.der()), unix_now()))
}

fn assert_bound(resp: &Response, agent: &str) -> Echo {
    let echo = assert_allowed(resp);
    let context = format!("upstream headers: {:#?}", echo.headers);
    assert_eq!(echo.get("x-onerecord-mtls"), Some("verified"), "{context}");
    assert_eq!(
        echo.get("x-onerecord-logistics-agent"),
        Some(agent),
        "{context}"
    );
    assert_eq!(
        echo.get("x-onerecord-token-binding"),
        Some("verified"),
        "{context}"
    );
    echo
}

fn assert_unbound(echo: &Echo) {
    assert_eq!(
        echo.get("x-onerecord-logistics-agent"),
        None,
        "{:#?}",
        echo.headers
    );
    assert_eq!(
        echo.get("x-onerecord-token-binding"),
        None,
        "{:#?}",
        echo.headers
    );
}

/// Refused by the filter with `status` and `reason`; nothing more reached the upstream.
fn assert_refused(s: &Stack, resp: &Response, status: u16, reason: &str, seen_before: usize) {
    assert_eq!(resp.status, status, "{resp:#?}");
    assert_eq!(deny_reason(resp), Some(reason), "{resp:#?}");
    assert_eq!(s.upstream.count(), seen_before, "{:#?}", s.upstream.seen());
}

#[test]
fn a_bound_token_passes_only_over_its_own_certificate() {
    let pki = TestPki::shared();
    let issuer = TokenIssuer::generate("k1");
    let s = start(&issuer, "allow_missing");
    let airline_token = token(&issuer, AIRLINE, &pki.client);

    // Its own certificate; client-sent copies of the annotations are gone.
    let mut airline = presenting(&s, &pki.client).open(s.tls());
    let forged = with_token(DELEGATION, &airline_token)
        .header("x-onerecord-logistics-agent", FORWARDER)
        .header("x-onerecord-token-binding", "verified");
    let echo = assert_bound(&airline.send(&forged).unwrap(), AIRLINE);
    assert_eq!(echo.all("x-onerecord-logistics-agent").len(), 1);

    // The same connection, its verdict remembered: the token is still
    // checked on every request.
    let forwarder_token = token(&issuer, FORWARDER, &pki.forwarder);
    let seen = s.upstream.count();
    let resp = airline
        .send(&with_token(DELEGATION, &forwarder_token))
        .unwrap();
    assert_refused(&s, &resp, 403, "token_certificate_mismatch", seen);

    // The airline's token over the forwarder's verified connection.
    let forwarder = presenting(&s, &pki.forwarder);
    let resp = forwarder.send(s.tls(), &with_token(DELEGATION, &airline_token));
    assert_refused(&s, &resp, 403, "token_certificate_mismatch", seen);
    let body = resp.json();
    assert!(!body.to_string().contains(&airline_token), "{body}");

    // Bound to the airline's certificate, but for another agent.
    let other_agent = token(&issuer, FORWARDER, &pki.client);
    let resp = presenting(&s, &pki.client).send(s.tls(), &with_token(DELEGATION, &other_agent));
    assert_refused(&s, &resp, 403, "token_agent_mismatch", seen);

    // Without `logistics_agent_uri`.
    let mut claims = jwt::claims(AIRLINE, Some(&pki.client.der()), unix_now());
    claims
        .as_object_mut()
        .unwrap()
        .remove("logistics_agent_uri");
    let resp =
        presenting(&s, &pki.client).send(s.tls(), &with_token(DELEGATION, &issuer.sign(&claims)));
    assert_refused(&s, &resp, 403, "token_agent_missing", seen);

    // Without `cnf` where the rule requires it.
    let unbound = issuer.sign(&jwt::claims(AIRLINE, None, unix_now()));
    let resp = presenting(&s, &pki.client).send(s.tls(), &with_token(DELEGATION, &unbound));
    assert_refused(&s, &resp, 403, "token_certificate_mismatch", seen);

    // No token at all: 401 with the ONE Record title.
    let resp = presenting(&s, &pki.client).send(s.tls(), &Request::get(DELEGATION));
    assert_refused(&s, &resp, 401, "token_required", seen);
    assert_eq!(
        resp.json()["api:hasTitle"],
        "Not authenticated or expired token"
    );
    assert_eq!(resp.header("www-authenticate"), Some("Bearer"));

    // And the first request again, on a fresh connection.
    let resp = presenting(&s, &pki.client).send(s.tls(), &with_token(DELEGATION, &airline_token));
    assert_bound(&resp, AIRLINE);

    let counters = vm::counters(&s.envoy);
    for (result, count) in [
        ("verified", 2),
        ("token_certificate_mismatch", 3),
        ("token_agent_mismatch", 1),
        ("token_agent_missing", 1),
        ("token_required", 1),
        ("absent", 0),
    ] {
        let name = format!(".onerecord_tls_policy.token_bindings_total.result.{result}");
        assert_eq!(vm::sum_suffix(&counters, &name), count, "{name}");
    }
}

#[test]
fn optional_binding_passes_without_a_token_and_checks_one_that_is_present() {
    let pki = TestPki::shared();
    let issuer = TokenIssuer::generate("k1");
    let s = start(&issuer, "allow_missing");
    let client = presenting(&s, &pki.client);

    let echo = assert_allowed(&client.get(s.tls(), OBJECT));
    assert_eq!(echo.get("x-onerecord-mtls"), Some("verified"));
    assert_unbound(&echo);

    let seen = s.upstream.count();
    let other_agent = token(&issuer, FORWARDER, &pki.client);
    let resp = client.send(s.tls(), &with_token(OBJECT, &other_agent));
    assert_refused(&s, &resp, 403, "token_agent_mismatch", seen);

    // `cnf` is not required here: a token without it binds by agent.
    let unbound = issuer.sign(&jwt::claims(AIRLINE, None, unix_now()));
    assert_bound(
        &client.send(s.tls(), &with_token(OBJECT, &unbound)),
        AIRLINE,
    );
    assert_bound(
        &client.send(
            s.tls(),
            &with_token(OBJECT, &token(&issuer, AIRLINE, &pki.client)),
        ),
        AIRLINE,
    );

    // Binding implies mTLS: no client certificate is refused.
    let seen = s.upstream.count();
    let resp = s.client().send(s.tls(), &with_token(OBJECT, &unbound));
    assert_refused(&s, &resp, 403, "client_certificate_required", seen);
}

#[test]
fn forged_payload_headers_and_unverified_tokens_change_nothing() {
    let pki = TestPki::shared();
    let issuer = TokenIssuer::generate("k1");
    // `jwt_authn` lets every request through, verified or not: what the
    // filter does with a token it did not see verified shows.
    let s = start(&issuer, "allow_missing_or_failed");
    let client = presenting(&s, &pki.client);
    let claims = jwt::claims(AIRLINE, Some(&pki.client.der()), unix_now());

    let forged = Request::get(DELEGATION)
        .header("jwt_payload", &claims.to_string())
        .header("x-jwt-payload", &jwt::b64url(claims.to_string().as_bytes()))
        .header("x-onerecord-logistics-agent", AIRLINE)
        .header("x-onerecord-token-binding", "verified");
    let resp = client.send(s.tls(), &forged);
    assert_refused(&s, &resp, 401, "token_required", 0);

    let unsigned = with_token(DELEGATION, &jwt::unsigned(&claims));
    assert_refused(
        &s,
        &client.send(s.tls(), &unsigned),
        401,
        "token_required",
        0,
    );

    let stranger = TokenIssuer::generate("k1");
    let foreign = with_token(DELEGATION, &stranger.sign(&claims));
    assert_refused(
        &s,
        &client.send(s.tls(), &foreign),
        401,
        "token_required",
        0,
    );

    // On an optional rule they are no token: passed, and nothing claimed.
    let resp = client.send(s.tls(), &with_token(OBJECT, &jwt::unsigned(&claims)));
    assert_unbound(&assert_allowed(&resp));

    // The same claims, signed by the issuer, pass.
    assert_bound(
        &client.send(s.tls(), &with_token(DELEGATION, &issuer.sign(&claims))),
        AIRLINE,
    );
}

/// Envoy cannot hand a payload with a `null` claim to wasm in one read (it
/// serialises no null): the filter reads the claims it needs one by one.
#[test]
fn a_payload_with_a_null_claim_is_still_bound() {
    let pki = TestPki::shared();
    let issuer = TokenIssuer::generate("k1");
    let s = start(&issuer, "allow_missing");
    let mut claims = jwt::claims(AIRLINE, Some(&pki.client.der()), unix_now());
    claims["nickname"] = Value::Null;
    let client = presenting(&s, &pki.client);
    assert_bound(
        &client.send(s.tls(), &with_token(DELEGATION, &issuer.sign(&claims))),
        AIRLINE,
    );
    let seen = s.upstream.count();
    claims["logistics_agent_uri"] = json!(FORWARDER);
    let resp = client.send(s.tls(), &with_token(DELEGATION, &issuer.sign(&claims)));
    assert_refused(&s, &resp, 403, "token_agent_mismatch", seen);
    claims["cnf"]["x5t#S256"] = json!(jwt::x5t_s256(&pki.forwarder.der()));
    claims["logistics_agent_uri"] = json!(AIRLINE);
    let resp = client.send(s.tls(), &with_token(DELEGATION, &issuer.sign(&claims)));
    assert_refused(&s, &resp, 403, "token_certificate_mismatch", seen);
}

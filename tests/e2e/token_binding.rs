//! Binding the ONE Record token to the client certificate, against a real
//! Envoy with its own `jwt_authn` in front of the filter, verifying tokens
//! signed here against an inline JWKS. Each case checks what the recording
//! upstream received (or that it received nothing).

use crate::observability::access_log::{decision_format, entries_after_stop};
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
use support::tempdir::TempDir;
use support::unix_now;
use support::upstream::Echo;
use support::vm;

const AIRLINE: &str = "https://1r.example.com/logistics-agents/airline-1";
const FORWARDER: &str = "https://1r.example.com/logistics-agents/forwarder-1";

/// Binding required (with `cnf`) under `/access-delegations`, optional
/// under `/logistics-objects`; mTLS optional elsewhere.
fn policy() -> Value {
    binding_policy(
        json!({ "token_binding": "required", "require_cnf": true }),
        json!({ "token_binding": "optional" }),
    )
}

/// The `access-delegations` and `logistics-objects` rules with these
/// binding fields; mTLS optional elsewhere.
fn binding_policy(delegations: Value, objects: Value) -> Value {
    let rule = |name: &str, fields: Value| {
        with(
            json!({ "name": name, "path_prefix": format!("/{name}") }),
            fields,
        )
    };
    with(
        pinned_client_ca(),
        json!({
            "mtls": "optional",
            "rules": [rule("access-delegations", delegations), rule("logistics-objects", objects)],
        }),
    )
}

/// Envoy with `jwt_authn` (`missing`: what it does with a request without
/// a valid token) in front of the filter.
fn start(issuer: &TokenIssuer, missing: &str) -> Stack {
    start_spec(EnvoySpec::new(&policy()), issuer, missing)
}

fn start_spec(spec: EnvoySpec, issuer: &TokenIssuer, missing: &str) -> Stack {
    let filter = jwt::jwt_authn_filter(issuer, missing);
    Stack::start_edited(spec, |bootstrap, _| {
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

/// `token` sent to `path` over `client`, bound to `agent`.
fn assert_token_bound(s: &Stack, client: &TlsClient, path: &str, token: &str, agent: &str) -> Echo {
    assert_bound(&client.send(s.tls(), &with_token(path, token)), agent)
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

/// `token_bindings_total` by result, as Envoy counted it.
fn assert_binding_counts(s: &Stack, expected: &[(&str, u64)]) {
    let counters = vm::counters(&s.envoy);
    for (result, count) in expected {
        let name = format!(".onerecord_tls_policy.token_bindings_total.result.{result}");
        assert_eq!(vm::sum_suffix(&counters, &name), *count, "{name}");
    }
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

    assert_binding_counts(
        &s,
        &[
            ("verified", 2),
            ("token_certificate_mismatch", 3),
            ("token_agent_mismatch", 1),
            ("token_agent_missing", 1),
            ("token_required", 1),
            ("absent", 0),
        ],
    );
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

/// `"agent_match": "host"` under `/access-delegations`, the default exact
/// match under `/logistics-objects`; the token required on both.
fn agent_match_policy() -> Value {
    binding_policy(
        json!({ "token_binding": "required", "agent_match": "host" }),
        json!({ "token_binding": "required" }),
    )
}

#[test]
fn host_agent_match_accepts_another_path_of_the_same_origin_and_exact_does_not() {
    let pki = TestPki::shared();
    let issuer = TokenIssuer::generate("k1");
    let s = start_spec(
        EnvoySpec::new(&agent_match_policy()),
        &issuer,
        "allow_missing",
    );
    let client = presenting(&s, &pki.client);
    // The client's URI SAN is AIRLINE; these name its origin with another path.
    const BRANCH: &str = "https://1r.example.com/logistics-agents/airline-1/branch-lhr";
    const SPELLED: &str = "HTTPS://1R.Example.COM:443/logistics-agents";
    let branch = token(&issuer, BRANCH, &pki.client);

    // host: passes, and the backend is told the token's agent, not the SAN.
    let echo = assert_token_bound(&s, &client, DELEGATION, &branch, BRANCH);
    assert_eq!(echo.all("x-onerecord-logistics-agent").len(), 1);
    let spelled = token(&issuer, SPELLED, &pki.client);
    assert_token_bound(&s, &client, DELEGATION, &spelled, SPELLED);

    // exact: the same token is refused.
    let seen = s.upstream.count();
    let resp = client.send(s.tls(), &with_token(OBJECT, &branch));
    assert_refused(&s, &resp, 403, "token_agent_mismatch", seen);

    // host: another host, port or scheme, or userinfo, is not the same origin.
    for agent in [
        "https://1r.example.org/logistics-agents/airline-1",
        "https://1r.example.com.evil.example/logistics-agents/airline-1",
        "https://1r.example.com:8443/logistics-agents/airline-1",
        "http://1r.example.com/logistics-agents/airline-1",
        "https://airline-1@1r.example.com/logistics-agents/airline-1",
    ] {
        let resp = client.send(
            s.tls(),
            &with_token(DELEGATION, &token(&issuer, agent, &pki.client)),
        );
        assert_eq!(resp.status, 403, "{agent}: {resp:#?}");
        assert_eq!(deny_reason(&resp), Some("token_agent_mismatch"), "{agent}");
        assert_eq!(s.upstream.count(), seen, "{agent}");
    }

    // exact: the SAN itself passes.
    let own = token(&issuer, AIRLINE, &pki.client);
    assert_token_bound(&s, &client, OBJECT, &own, AIRLINE);

    assert_binding_counts(&s, &[("verified", 3), ("token_agent_mismatch", 6)]);
}

#[test]
fn the_access_log_value_carries_the_binding_result() {
    let pki = TestPki::shared();
    let issuer = TokenIssuer::generate("k1");
    let logs = TempDir::new("token-access-log");
    let log = logs.join("access.json");
    let spec = EnvoySpec::new(&policy()).access_log(&log, decision_format());
    let s = start_spec(spec, &issuer, "allow_missing");
    let client = presenting(&s, &pki.client);
    const BOUND: &str = "/access-delegations/bound";
    const MISMATCH: &str = "/access-delegations/mismatch";
    const NO_TOKEN: &str = "/access-delegations/no-token";
    const ABSENT: &str = "/logistics-objects/absent";
    const ANONYMOUS: &str = "/logistics-objects/anonymous";
    const UNBOUND: &str = "/unbound";

    let own = token(&issuer, AIRLINE, &pki.client);
    assert_token_bound(&s, &client, BOUND, &own, AIRLINE);
    assert_unbound(&assert_allowed(&client.get(s.tls(), ABSENT)));
    assert_unbound(&assert_allowed(&client.get(s.tls(), UNBOUND)));
    let seen = s.upstream.count();
    let other_agent = token(&issuer, FORWARDER, &pki.client);
    let resp = client.send(s.tls(), &with_token(MISMATCH, &other_agent));
    assert_refused(&s, &resp, 403, "token_agent_mismatch", seen);
    assert_refused(
        &s,
        &client.get(s.tls(), NO_TOKEN),
        401,
        "token_required",
        seen,
    );
    let resp = s.client().get(s.tls(), ANONYMOUS);
    assert_refused(&s, &resp, 403, "client_certificate_required", seen);
    let received: Vec<String> = s.upstream.seen().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        received,
        [BOUND, ABSENT, UNBOUND],
        "the upstream's requests"
    );

    let client_sha256 = pki.client.sha256_hex();
    let anchor_sha256 = pki.client_ca.sha256_hex();
    let Stack { envoy, .. } = s;
    let (text, lines) = entries_after_stop(envoy, &log);
    // The entry's status and its value's fields, in order.
    let logged = |path: &str| -> (u64, Vec<(String, String)>) {
        let found: Vec<&Value> = lines.iter().filter(|l| l["path"] == path).collect();
        assert_eq!(found.len(), 1, "{path} logged once: {text}");
        let entry = found[0];
        let status = entry["status"]
            .as_u64()
            .unwrap_or_else(|| panic!("{entry}"));
        let value = entry["onerecord"].as_str().unwrap_or_default();
        let fields = value
            .split(';')
            .map(|field| {
                let (key, value) = field.split_once('=').unwrap_or_else(|| panic!("{value}"));
                (key.to_string(), value.to_string())
            })
            .collect();
        (status, fields)
    };
    let field = |fields: &[(String, String)], key: &str| {
        fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    for (path, status, decision, reason, rule, binding) in [
        (
            BOUND,
            200,
            "allow",
            "-",
            "access-delegations",
            Some("verified"),
        ),
        (
            ABSENT,
            200,
            "allow",
            "-",
            "logistics-objects",
            Some("absent"),
        ),
        (
            MISMATCH,
            403,
            "deny",
            "token_agent_mismatch",
            "access-delegations",
            Some("token_agent_mismatch"),
        ),
        (
            NO_TOKEN,
            401,
            "deny",
            "token_required",
            "access-delegations",
            Some("token_required"),
        ),
        // No verified client: no binding result.
        (
            ANONYMOUS,
            403,
            "deny",
            "client_certificate_required",
            "logistics-objects",
            None,
        ),
        // No rule binds the token here.
        (UNBOUND, 200, "allow", "-", "-", None),
    ] {
        let (logged_status, fields) = logged(path);
        let context = format!("{path}: {fields:?}");
        assert_eq!(logged_status, status, "{context}");
        assert_eq!(
            field(&fields, "decision").as_deref(),
            Some(decision),
            "{context}"
        );
        assert_eq!(
            field(&fields, "reason").as_deref(),
            Some(reason),
            "{context}"
        );
        assert_eq!(field(&fields, "rule").as_deref(), Some(rule), "{context}");
        assert_eq!(
            field(&fields, "token_binding").as_deref(),
            binding,
            "{context}"
        );
        // The binding result comes last, after the client's fields.
        if binding.is_some() {
            assert_eq!(
                fields.last().map(|(k, _)| k.as_str()),
                Some("token_binding"),
                "{context}"
            );
        }
        if decision == "allow" {
            assert_eq!(
                field(&fields, "client_sha256"),
                Some(client_sha256.clone()),
                "{context}"
            );
            assert_eq!(
                field(&fields, "anchor_sha256"),
                Some(anchor_sha256.clone()),
                "{context}"
            );
        }
    }
}

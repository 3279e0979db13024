//! Clients Envoy and the filter both accept: root- and intermediate-anchored,
//! RSA and ECDSA, verified and annotated as themselves.

use super::{
    assert_verified, cas, client_subject, get_through_envoy, policy, presenting, start, uri,
};
use onerecord_tls_policy_testkit as support;
use serde_json::json;
use support::pki::{CertSpec, KeyKind, issue};
use support::policies::DELEGATION;

#[test]
fn root_anchored_rsa_and_ecdsa_clients_are_verified_and_annotated() {
    let s = start(policy(json!({})));
    let root = cas().root;

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
        cas().intermediate,
    );
    let client = presenting(&s, &rsa, &[cas().intermediate]);
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
    let inter = cas().intermediate;
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
    let client = presenting(&s, &rsa, &[inter, cas().root]);
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

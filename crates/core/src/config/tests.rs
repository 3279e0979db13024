use super::*;
use crate::fingerprint::Fingerprint;

const FP: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

fn parse(json: &str) -> Result<Config, ConfigError> {
    Config::parse(json.as_bytes())
}

fn field_of(json: &str) -> String {
    parse(json).unwrap_err().field
}

#[test]
fn empty_and_empty_object_give_defaults() {
    assert_eq!(parse("").unwrap(), Config::default());
    assert_eq!(parse("{}").unwrap(), Config::default());
    let d = Config::default();
    assert_eq!(d.mode, Mode::Enforce);
    assert_eq!(d.min_tls_version, TlsVersion::Tls12);
    assert_eq!(d.mtls, MtlsRequirement::Optional);
    assert_eq!(d.annotation_prefix, "x-onerecord-");
    assert_eq!(d.trust.max_chain_length, 5);
    assert_eq!(d.trust.clock_skew_seconds, 60);
}

#[test]
fn full_configuration_parses() {
    let json = format!(
        r#"{{
        "mode": "audit", "min_tls_version": "TLSv1.3", "mtls": "required",
        "trusted_ca_sha256": ["{}"], "revoked_sha256": ["{FP}"],
        "allowed_clients": {{"uri_san": ["https://a.example/1"], "dns_san": ["A.Example.com"],
                             "subject_organization": ["Example Airline"], "sha256": ["{FP}"]}},
        "rules": [{{"name": "access-delegations", "path_prefix": "/access-delegations",
                    "methods": ["post", "GET"], "mtls": "required",
                    "allowed_clients": {{"subject_organization": ["Example Forwarder"]}}}},
                  {{"name": "root", "path_exact": "/", "mtls": "optional"}}],
        "annotation_prefix": "x-1r-", "max_chain_length": 3, "clock_skew_seconds": 0
    }}"#,
        FP.to_uppercase()
    );
    let c = parse(&json).unwrap();
    assert_eq!(c.mode, Mode::Audit);
    assert_eq!(c.min_tls_version, TlsVersion::Tls13);
    assert_eq!(c.mtls, MtlsRequirement::Required);
    assert_eq!(
        c.trust.trusted_ca_sha256,
        vec![Fingerprint::parse(FP).unwrap()]
    );
    assert_eq!(c.trust.revoked_sha256.len(), 1);
    let allowed = c.allowed_clients.as_ref().unwrap();
    assert_eq!(allowed.dns_san, vec!["a.example.com"]);
    assert_eq!(c.rules.len(), 2);
    let r = &c.rules[0];
    assert_eq!(r.path, PathMatch::Prefix("/access-delegations".into()));
    assert_eq!(r.methods, vec!["POST", "GET"]);
    assert_eq!(r.mtls, Some(MtlsRequirement::Required));
    assert_eq!(c.rules[1].path, PathMatch::Exact("/".into()));
    assert_eq!(c.annotation_prefix, "x-1r-");
    assert_eq!(c.trust.max_chain_length, 3);
    assert_eq!(c.trust.clock_skew_seconds, 0);
    assert_eq!(
        c.allowed_clients_for(Some(r)).unwrap().subject_organization,
        vec!["Example Forwarder"]
    );
    assert_eq!(
        c.allowed_clients_for(Some(&c.rules[1])),
        c.allowed_clients.as_ref()
    );
}

#[test]
fn errors_name_the_field() {
    assert_eq!(field_of(r#"{"mode":"block"}"#), "mode");
    assert_eq!(field_of(r#"{"mode":1}"#), "mode");
    assert_eq!(field_of(r#"{"typo_field":1}"#), "typo_field");
    assert_eq!(field_of(r#"{"mtls":"sometimes"}"#), "mtls");
    assert_eq!(
        field_of(r#"{"trusted_ca_sha256":["abc"]}"#),
        "trusted_ca_sha256[0]"
    );
    assert_eq!(
        field_of(r#"{"trusted_ca_sha256":"abc"}"#),
        "trusted_ca_sha256"
    );
    assert_eq!(field_of(r#"{"revoked_sha256":[1]}"#), "revoked_sha256[0]");
    assert_eq!(field_of(r#"{"max_chain_length":0}"#), "max_chain_length");
    assert_eq!(field_of(r#"{"max_chain_length":99}"#), "max_chain_length");
    assert_eq!(field_of(r#"{"max_chain_length":-1}"#), "max_chain_length");
    assert_eq!(
        field_of(r#"{"clock_skew_seconds":999999}"#),
        "clock_skew_seconds"
    );
    assert_eq!(
        field_of(r#"{"annotation_prefix":"X-Bad "}"#),
        "annotation_prefix"
    );
    assert_eq!(
        field_of(r#"{"annotation_prefix":"x-"}"#),
        "annotation_prefix"
    );
    assert_eq!(
        field_of(r#"{"annotation_prefix":"x-forwarded-"}"#),
        "annotation_prefix"
    );
    assert_eq!(field_of(r#"{"rules":{}}"#), "rules");
    assert_eq!(
        field_of(r#"{"rules":[{"path_prefix":"/a"}]}"#),
        "rules[0].name"
    );
    assert_eq!(field_of(r#"{"rules":[{"name":"a"}]}"#), "rules[0]");
    assert_eq!(
        field_of(r#"{"rules":[{"name":"a","path_prefix":"/a","path_exact":"/a"}]}"#),
        "rules[0]"
    );
    assert_eq!(
        field_of(r#"{"rules":[{"name":"a","path_prefix":"a"}]}"#),
        "rules[0].path_prefix"
    );
    assert_eq!(
        field_of(r#"{"rules":[{"name":"a","path_exact":"/a?b"}]}"#),
        "rules[0].path_exact"
    );
    assert_eq!(
        field_of(r#"{"rules":[{"name":"a","path_prefix":"/a","methods":["G T"]}]}"#),
        "rules[0].methods[0]"
    );
    assert_eq!(
        field_of(r#"{"rules":[{"name":"a","path_prefix":"/a","mtls":"x"}]}"#),
        "rules[0].mtls"
    );
    assert_eq!(
        field_of(r#"{"rules":[{"name":"a b","path_prefix":"/a"}]}"#),
        "rules[0].name"
    );
    assert_eq!(
        field_of(r#"{"rules":[{"name":"-","path_prefix":"/a"}]}"#),
        "rules[0].name"
    );
    assert_eq!(
        field_of(r#"{"rules":[{"name":"a","path_prefix":"/a","colour":1}]}"#),
        "rules[0].colour"
    );
    assert_eq!(
        field_of(r#"{"rules":[{"name":"a","path_prefix":"/a"},{"name":"a","path_prefix":"/b"}]}"#),
        "rules"
    );
    assert_eq!(
        field_of(r#"{"allowed_clients":{"uri":["x"]}}"#),
        "allowed_clients.uri"
    );
    assert_eq!(field_of(r#"{"allowed_clients":{}}"#), "allowed_clients");
    assert_eq!(
        field_of(r#"{"ca_certificates_pem":"not pem"}"#),
        "ca_certificates_pem"
    );
}

#[test]
fn tls_below_1_2_is_refused_with_the_spec_reason() {
    for old in ["TLSv1", "TLSv1.0", "TLSv1.1", "SSLv3"] {
        let e = parse(&format!(r#"{{"min_tls_version":"{old}"}}"#)).unwrap_err();
        assert_eq!(e.field, "min_tls_version");
        assert!(e.message.contains("forbids"), "{e}");
    }
    assert_eq!(
        field_of(r#"{"min_tls_version":"TLSv2"}"#),
        "min_tls_version"
    );
}

#[test]
fn requiring_clients_without_anchors_is_an_error() {
    assert_eq!(field_of(r#"{"mtls":"required"}"#), "trusted_ca_sha256");
    assert_eq!(
        field_of(r#"{"allowed_clients":{"dns_san":["a"]}}"#),
        "trusted_ca_sha256"
    );
    assert_eq!(
        field_of(r#"{"rules":[{"name":"a","path_prefix":"/a","mtls":"required"}]}"#),
        "trusted_ca_sha256"
    );
    assert!(
        parse(&format!(
            r#"{{"mtls":"required","trusted_ca_sha256":["{FP}"]}}"#
        ))
        .is_ok()
    );
}

#[test]
fn not_json_or_not_an_object_is_an_error() {
    assert!(
        parse("{")
            .unwrap_err()
            .to_string()
            .contains("not valid JSON")
    );
    assert!(parse("[]").unwrap_err().to_string().contains("JSON object"));
    assert!(Config::parse(&[0xff, 0xfe]).is_err());
}

#[test]
fn null_fields_mean_default() {
    let c = parse(r#"{"allowed_clients":null,"mode":null}"#).unwrap();
    assert_eq!(c, Config::default());
}

#[test]
fn error_display_names_field() {
    let e = parse(r#"{"mode":"block"}"#).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid plugin configuration: field `mode`: must be \"enforce\" or \"audit\", got \"block\""
    );
}

#[test]
fn ca_bundle_must_hold_ca_certificates() {
    // A syntactically valid PEM block whose content is not a certificate.
    let pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    let e = parse(&serde_json::json!({ "ca_certificates_pem": pem }).to_string()).unwrap_err();
    assert_eq!(e.field, "ca_certificates_pem");
    let key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    let e = parse(&serde_json::json!({ "ca_certificates_pem": key }).to_string()).unwrap_err();
    assert!(e.message.contains("expected CERTIFICATE"), "{e}");
}

#[test]
fn verdict_cache_size_defaults_allows_zero_and_is_bounded() {
    assert_eq!(Config::default().verdict_cache_size, 1024);
    assert_eq!(
        parse(r#"{"verdict_cache_size":0}"#)
            .unwrap()
            .verdict_cache_size,
        0
    );
    assert_eq!(
        parse(r#"{"verdict_cache_size":65536}"#)
            .unwrap()
            .verdict_cache_size,
        65_536
    );
    for bad in ["65537", "-1", "1.5", "\"1024\"", "true"] {
        let e = parse(&format!(r#"{{"verdict_cache_size":{bad}}}"#)).unwrap_err();
        assert_eq!(e.field, "verdict_cache_size", "{bad}: {e}");
    }
    assert!(
        parse(r#"{"verdict_cache_size":100000}"#)
            .unwrap_err()
            .message
            .contains("at most 65536")
    );
}

fn rule_error(path_key: &str, path: &str) -> ConfigError {
    let json = serde_json::json!({ "rules": [{ "name": "a", path_key: path }] });
    parse(&json.to_string()).unwrap_err()
}

#[test]
fn rule_paths_must_be_in_the_compared_form() {
    let e = rule_error("path_prefix", "/logistics%2Dobjects");
    assert_eq!(e.field, "rules[0].path_prefix");
    assert_eq!(
        e.message,
        r#""/logistics%2Dobjects" can never match: rules compare the normalised path; use "/logistics-objects""#
    );
    for (path, use_instead) in [
        ("/a;v=1", "/a"),
        ("/a%2Fb", "/a/b"),
        ("/a%2fb", "/a/b"),
        ("/a%5Cb", "/a/b"),
        ("/a\\b", "/a/b"),
        ("/a%3Bb", "/a"),
        ("//a", "/a"),
        ("/a/./b", "/a/b"),
        ("/a/../b", "/b"),
        ("/a/..", "/"),
        ("/caf%c3%a9", "/caf%C3%A9"),
        ("/caf\u{e9}", "/caf%C3%A9"),
        ("/a b", "/a%20b"),
        ("/a%", "/a%25"),
        ("/a?b", "/a"),
        ("/a#b", "/a"),
    ] {
        for key in ["path_prefix", "path_exact"] {
            let e = rule_error(key, path);
            assert_eq!(e.field, format!("rules[0].{key}"), "{path}");
            assert!(
                e.message.ends_with(&format!("use {use_instead:?}")),
                "{path}: {}",
                e.message
            );
            // What the message suggests is accepted.
            let ok = serde_json::json!({ "rules": [{ "name": "a", key: use_instead }] });
            assert!(parse(&ok.to_string()).is_ok(), "{use_instead}");
        }
    }
    let e = rule_error("path_prefix", "access-delegations");
    assert_eq!(
        e.message,
        r#"must start with '/', got "access-delegations"; use "/access-delegations""#
    );
}

#[test]
fn rule_paths_already_normalised_are_kept() {
    for path in [
        "/",
        "/access-delegations",
        "/Access-Delegations/",
        "/caf%C3%A9",
        "/a%252F",
    ] {
        let c = parse(
            &serde_json::json!({ "rules": [{ "name": "a", "path_prefix": path }] }).to_string(),
        )
        .unwrap();
        assert_eq!(c.rules[0].path, PathMatch::Prefix(path.into()));
    }
}

#[test]
fn case_sensitive_is_a_boolean_defaulting_to_false() {
    let c = parse(r#"{"rules":[{"name":"a","path_prefix":"/a"},{"name":"b","path_prefix":"/b","case_sensitive":true}]}"#).unwrap();
    assert!(!c.rules[0].case_sensitive);
    assert!(c.rules[1].case_sensitive);
    let e =
        parse(r#"{"rules":[{"name":"a","path_prefix":"/a","case_sensitive":"yes"}]}"#).unwrap_err();
    assert_eq!(e.field, "rules[0].case_sensitive");
    assert_eq!(e.message, "must be true or false, got a string");
}

#[test]
fn the_trust_store_takes_the_ca_certificates_as_read() {
    use onerecord_tls_policy_testkit::pki::{CertSpec, issue, self_signed};
    let root = self_signed(&CertSpec::ca("Root"));
    let intermediate = issue(&CertSpec::ca("Intermediate"), &root);
    let pem = format!("{}{}{}", root.pem(), intermediate.pem(), root.pem());
    let config = parse(
        &serde_json::json!({
            "trusted_ca_sha256": [root.sha256_hex()],
            "ca_certificates_pem": pem,
        })
        .to_string(),
    )
    .unwrap();
    assert_eq!(config.trust.ca_certificates_der.len(), 3);
    let (store, rebuilt) = (config.trust_store(), TrustStore::new(&config.trust));
    assert_eq!(store.configured_anchor_count(), 1);
    assert_eq!(store.configured_intermediate_count(), 1);
    assert_eq!(
        rebuilt.configured_anchor_count(),
        store.configured_anchor_count()
    );
    assert_eq!(
        rebuilt.configured_intermediate_count(),
        store.configured_intermediate_count()
    );
}

//! `Config::parse` on arbitrary bytes.
//!
//! Invariants for an accepted configuration: everything the README promises
//! the validation enforces (TLS 1.2 minimum, limits in range, rule names and
//! paths, each its own reading for every backend, a pinned CA whenever clients can be required, a safe annotation
//! prefix, CA-only `ca_certificates_pem`); parsing is deterministic; and no
//! accepted configuration lets plaintext or TLS 1.1 through. A refused one
//! gives one log line: its message has no line break or control character.
#![no_main]

use libfuzzer_sys::fuzz_target;
use onerecord_tls_policy::config::{
    Config, MAX_CLOCK_SKEW_SECONDS, MAX_MAX_CHAIN_LENGTH, MtlsRequirement, PathMatch, TlsVersion,
};
use onerecord_tls_policy::facts::{ConnectionFacts, Facts, RequestFacts, Unavailable};
use onerecord_tls_policy::policy::{Policy, Verdict};
use onerecord_tls_policy::reason::Reason;
use onerecord_tls_policy_fuzz::path_oracle::{backend_path, backends, is_origin_form};

fuzz_target!(|data: &[u8]| {
    let config = match Config::parse(data) {
        Ok(config) => config,
        Err(e) => {
            let line = e.to_string();
            assert!(
                !line.chars().any(char::is_control),
                "a configuration error is more than one log line: {line:?}"
            );
            return;
        }
    };
    assert_eq!(Config::parse(data).as_ref(), Ok(&config), "deterministic");
    assert_valid(&config);

    let policy = Policy::new(config);
    for (tls, expected) in [
        (None, Reason::TlsRequired),
        (Some("TLSv1.1"), Reason::TlsVersionTooLow),
        (Some("TLSv1"), Reason::TlsVersionTooLow),
        (Some("tlsv1.2"), Reason::TlsVersionUnrecognized),
    ] {
        let facts = Facts {
            request: RequestFacts {
                path: "/access-delegations".into(),
                method: "GET".into(),
                ..RequestFacts::default()
            },
            connection: Ok(ConnectionFacts {
                peer_uri_san: None,
                id: None,
                tls_version: tls.map(str::to_string),
                peer: None,
            }),
            now_unix: 1_800_000_000,
        };
        assert_eq!(
            policy.decide(&facts).verdict,
            Verdict::Deny(expected),
            "{tls:?}"
        );
    }
    let unavailable = Facts {
        request: RequestFacts::default(),
        connection: Err(Unavailable("fuzz".into())),
        now_unix: 0,
    };
    assert_eq!(
        policy.decide(&unavailable).verdict,
        Verdict::Deny(Reason::ConnectionFactsUnavailable)
    );
});

fn assert_valid(config: &Config) {
    assert!(config.min_tls_version >= TlsVersion::Tls12);
    let trust = &config.trust;
    assert!((1..=MAX_MAX_CHAIN_LENGTH).contains(&trust.max_chain_length));
    assert!(trust.clock_skew_seconds <= MAX_CLOCK_SKEW_SECONDS);

    let prefix = &config.annotation_prefix;
    assert!(prefix.len() >= 3);
    assert!(
        prefix
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    );
    for protected in [
        "x-forwarded-client-cert",
        "x-request-id",
        "x-envoy-original-path",
    ] {
        assert!(
            !protected.starts_with(prefix.as_str()),
            "{prefix} strips {protected}"
        );
    }

    let mut names: Vec<&str> = Vec::new();
    for rule in &config.rules {
        assert!(!rule.name.is_empty());
        assert!(
            rule.name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        );
        assert!(!names.contains(&rule.name.as_str()), "duplicate rule name");
        names.push(&rule.name);
        let (PathMatch::Prefix(path) | PathMatch::Exact(path)) = &rule.path;
        assert!(path.starts_with('/'));
        assert!(is_origin_form(path), "{path:?}");
        for backend in backends() {
            assert_eq!(
                backend_path(path, backend),
                *path,
                "{backend:?} reads {path:?} otherwise"
            );
        }
        for m in &rule.methods {
            assert!(
                !m.is_empty() && m.bytes().all(|b| b.is_ascii_uppercase()),
                "{m:?}"
            );
        }
    }

    let allow_lists = config.allowed_clients.iter().chain(
        config
            .rules
            .iter()
            .filter_map(|r| r.allowed_clients.as_ref()),
    );
    for list in allow_lists {
        let total = list.uri_san.len()
            + list.dns_san.len()
            + list.subject_organization.len()
            + list.sha256.len();
        assert!(total > 0, "an empty allow-list denies everyone");
        assert!(list.dns_san.iter().all(|d| *d == d.to_ascii_lowercase()));
    }

    let requires_clients = config.mtls == MtlsRequirement::Required
        || config.allowed_clients.is_some()
        || config.binds_any_token()
        || config
            .rules
            .iter()
            .any(|r| r.mtls == Some(MtlsRequirement::Required) || r.allowed_clients.is_some());
    if requires_clients {
        assert!(
            !trust.trusted_ca_sha256.is_empty(),
            "clients required, nothing trusted"
        );
    }

    for der in &trust.ca_certificates_der {
        let cert = match x509_parser::parse_x509_certificate(der) {
            Ok(([], cert)) => cert,
            _ => panic!("ca_certificates_pem accepted a block that is not one certificate"),
        };
        assert!(
            cert.is_ca(),
            "ca_certificates_pem accepted a non-CA certificate"
        );
    }
}

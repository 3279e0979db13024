//! Hostile inputs the fuzzers (`fuzz/`) reached, kept as exact expectations
//! on the public API: crashers found by fuzzing, and the extremes of each
//! input (sizes at and past the limits, nesting, huge DER lengths).

use onerecord_tls_policy::config::{Config, TrustSettings};
use onerecord_tls_policy::facts::{ConnectionFacts, Facts, PeerFacts, RequestFacts};
use onerecord_tls_policy::fingerprint::Fingerprint;
use onerecord_tls_policy::policy::{Policy, Verdict, normalize_path};
use onerecord_tls_policy::reason::Reason;
use onerecord_tls_policy::trust::{PresentedChain, TrustStore};
use onerecord_tls_policy::xfcc::{
    MAX_CERTIFICATES, MAX_HEADER_BYTES, XfccError, envoy_format, parse_last_element,
    pem_to_der_certificates,
};

const HASH: &str = "468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688";

fn one_line(text: &str) -> bool {
    !text.chars().any(char::is_control)
}

// ---- Crashers of the `config` target ---------------------------------------

/// An unknown key is named in the error verbatim: a newline in it split the
/// "one log line naming the field" the README promises.
#[test]
fn unknown_key_with_a_newline_stays_one_log_line() {
    let e = Config::parse(br#"{"\n": 0}"#).unwrap_err();
    assert!(e.message.starts_with("unknown field"), "{e:?}");
    assert!(one_line(&e.to_string()), "{:?}", e.to_string());
    let nested = br#"{"rules": [{"name": "a", "path_prefix": "/", "x\r\ny": 1}]}"#;
    let e = Config::parse(nested).unwrap_err();
    assert!(e.message.starts_with("unknown field"), "{e:?}");
    assert!(one_line(&e.to_string()), "{:?}", e.to_string());
}

/// A non-CA certificate in `ca_certificates_pem` is named by its subject,
/// which here holds a control character (0x1c in `O=Test\x1cPKI`).
#[test]
fn non_ca_subject_with_a_control_character_stays_one_log_line() {
    const PEM: &str = "-----BEGIN CERTIFICATE-----
MIIBrjCCAVWgAwIBAgIGeQMAAAAHMAoGCCqGSM49BAMDMCwxFzAVBgNVBAMMDklu
dGVybWVkaWF0ZSAxMREwDwYDVQQKDAhUZXN0IFBLSTAeFw0yNjExMjcyMDQyMjZa
Fw0yNzExMjcyMTQyMjZaMCwxFzAVBgNVBAMMDkludGVybWVkaWF0ZSAyMREwDwYD
VQQKDAhUZXN0HFBLSTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABDHjCqTAIdIZ
hWp5Yz/cHzwN1oLTNPH0r/t+7cjOS/+oqrOtuYsjkPtzx/n2NSJi2tmfQwQITw8Y
H9Hj93RTPzijYzBhMA8GA1UdEwEB/wQFhUZXNf8wDgYDVR0PAQH/BAQDAgEGMB0G
A1UdDgQWBBR2xMynyybMAr6VjYs3JsSkfPuJgDAfBgNVHSMEGDAWgBRoywc0GhD/
OSPXmKr7db9M0iBu7zAKBggqhkjOPQQDAwNHADBEAiAs9z1K8D+NaysP5fbnV1Je
JzBrXPVchMadbtixcosnbwIgNuokslb/R/Tf7fnatN+I8ZjpjHjg2ZbS2+QnoDNL
3Jk=
-----END CERTIFICATE-----
";
    let json = serde_json::json!({ "ca_certificates_pem": PEM }).to_string();
    let e = Config::parse(json.as_bytes()).unwrap_err();
    assert_eq!(e.field, "ca_certificates_pem");
    assert!(e.message.contains("is not a CA certificate"), "{e:?}");
    assert!(one_line(&e.to_string()), "{:?}", e.to_string());
}

// ---- XFCC ------------------------------------------------------------------

#[test]
fn thousands_of_elements_parse_to_the_last() {
    let last = format!("Hash={HASH};URI=spiffe://client");
    let header = format!("{}{last}", "By=spiffe://proxy;URI=\"a,b\",".repeat(5_000));
    let element = parse_last_element(&header).unwrap();
    assert_eq!(element.hash.as_deref(), Some(HASH));
    assert_eq!(element.uri, ["spiffe://client"]);
    assert!(element.by.is_empty());
}

#[test]
fn header_size_limit_is_exact() {
    let pair = "a=b,";
    let mut header = pair.repeat(MAX_HEADER_BYTES / pair.len());
    header.replace_range(header.len() - 1.., "c");
    assert_eq!(header.len(), MAX_HEADER_BYTES);
    assert!(parse_last_element(&header).is_ok());
    header.push('d');
    assert_eq!(parse_last_element(&header), Err(XfccError::TooLarge));
    assert_eq!(
        parse_last_element(&"a=b,".repeat(100_000)),
        Err(XfccError::TooLarge)
    );
}

#[test]
fn long_runs_of_escapes_and_open_quotes() {
    let escapes = "\\\"".repeat(50_000);
    let element = parse_last_element(&format!("Subject=\"{escapes}\"")).unwrap();
    assert_eq!(element.subject.as_deref(), Some(escapes.as_str()));
    // A backslash escapes the closing quote: the value never ends.
    assert_eq!(
        parse_last_element(&format!("Subject=\"{escapes}\\\"")),
        Err(XfccError::UnterminatedQuote)
    );
    // Quotes pair up across commas (`a=",a="` is one pair), so an even run
    // leaves the last element intact and an odd one never closes.
    let pairs = format!("{}Hash={HASH}", "a=\",".repeat(10_000));
    assert_eq!(
        parse_last_element(&pairs).unwrap().hash.as_deref(),
        Some(HASH)
    );
    assert_eq!(
        parse_last_element(&format!("a=\",{pairs}")),
        Err(XfccError::UnterminatedQuote)
    );
}

/// An open quote written by the client swallows the comma in front of
/// Envoy's element; Envoy's first quote then closes it, and what follows
/// is refused rather than read as a different element.
#[test]
fn client_prefix_with_open_quote_or_escape_is_refused() {
    let envoy = format!("Hash={HASH};Cert=\"-----BEGIN%20CERTIFICATE-----\";URI=spiffe://real");
    for prefix in [
        "a=\"",
        "a=\"\\",
        "Subject=\"x\\\";Hash=1",
        "URI=\"spiffe://forged",
    ] {
        let header = format!("{prefix},{envoy}");
        assert!(parse_last_element(&header).is_err(), "{header}");
    }
}

// ---- PEM and DER -----------------------------------------------------------

fn pem_block(der: &[u8]) -> String {
    envoy_format::pem(der)
}

#[test]
fn pem_block_count_limit_is_exact() {
    let block = pem_block(&[0x30, 0x00]);
    assert_eq!(
        pem_to_der_certificates(&block.repeat(MAX_CERTIFICATES)).map(|d| d.len()),
        Ok(MAX_CERTIFICATES)
    );
    assert_eq!(
        pem_to_der_certificates(&block.repeat(MAX_CERTIFICATES + 1)),
        Err(XfccError::TooManyCertificates)
    );
    assert_eq!(
        pem_to_der_certificates(&block.repeat(10_000)),
        Err(XfccError::TooLarge)
    );
}

/// Long-form lengths far beyond the data, more length octets than a usize,
/// and BER's indefinite length.
fn bad_lengths() -> Vec<Vec<u8>> {
    vec![
        vec![0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x02, 0x01, 0x00],
        vec![0x30, 0x89, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x00],
        vec![0x30, 0x80, 0x02, 0x01, 0x00, 0x00, 0x00],
        vec![0x30, 0x81, 0x05, 0x02, 0x01, 0x00],
        vec![0x30, 0x02, 0x02, 0x01, 0x00],
    ]
}

#[test]
fn huge_and_indefinite_der_lengths_are_malformed() {
    for der in bad_lengths() {
        assert_eq!(
            pem_to_der_certificates(&pem_block(&der)),
            Err(XfccError::MalformedDer),
            "{der:02x?}"
        );
    }
}

fn nested_sequences(depth: usize) -> Vec<u8> {
    let mut der = Vec::new();
    for _ in 0..depth {
        let mut outer = vec![0x30];
        match der.len() {
            n @ 0..=0x7f => outer.push(n as u8),
            n @ 0x80..=0xff => outer.extend([0x81, n as u8]),
            n @ 0x100..=0xffff => outer.extend([0x82, (n >> 8) as u8, n as u8]),
            n => outer.extend([0x83, (n >> 16) as u8, (n >> 8) as u8, n as u8]),
        }
        outer.extend(der);
        der = outer;
    }
    der
}

fn store() -> TrustStore {
    TrustStore::new(&TrustSettings {
        trusted_ca_sha256: vec![Fingerprint::of_der(b"pinned")],
        ca_certificates_der: Vec::new(),
        revoked_sha256: Vec::new(),
        max_chain_length: 5,
        clock_skew_seconds: 60,
        profile: Default::default(),
    })
}

#[test]
fn deeply_nested_der_is_one_sequence_but_no_certificate() {
    let nested = nested_sequences(20_000);
    let split = pem_to_der_certificates(&pem_block(&nested)).unwrap();
    assert_eq!(split, std::slice::from_ref(&nested));
    let chain = PresentedChain {
        leaf: nested.clone(),
        others: vec![nested],
    };
    assert_eq!(
        store().verify(&chain, 1_800_000_000),
        Err(Reason::CertificateInvalid)
    );
}

#[test]
fn malformed_leaf_or_chain_der_is_certificate_invalid() {
    for der in bad_lengths()
        .into_iter()
        .chain([Vec::new(), vec![0x30], vec![0xff; 4096]])
    {
        let leaf = PresentedChain {
            leaf: der.clone(),
            others: Vec::new(),
        };
        assert_eq!(
            store().verify(&leaf, 0),
            Err(Reason::CertificateInvalid),
            "{der:02x?}"
        );
    }
}

#[test]
fn more_distinct_certificates_than_allowed_is_refused_before_parsing_them() {
    let leaf = nested_sequences(1);
    let others: Vec<Vec<u8>> = (0..100u8).map(|i| vec![0x30, 0x01, i]).collect();
    let chain = PresentedChain { leaf, others };
    // The unreadable leaf is reported first; a readable one would be ChainTooLong.
    assert_eq!(store().verify(&chain, 0), Err(Reason::CertificateInvalid));
}

// ---- The whole decision ----------------------------------------------------

fn policy() -> Policy {
    let config = format!(r#"{{"mtls": "required", "trusted_ca_sha256": ["{HASH}"]}}"#);
    Policy::new(Config::parse(config.as_bytes()).unwrap())
}

fn decide(peer: PeerFacts) -> Verdict {
    let facts = Facts {
        request: RequestFacts {
            path: "/logistics-objects/1".into(),
            method: "GET".into(),
            ..RequestFacts::default()
        },
        connection: Ok(ConnectionFacts {
            peer_uri_san: None,
            id: None,
            tls_version: Some("TLSv1.2".into()),
            peer: Some(peer),
        }),
        now_unix: 1_800_000_000,
    };
    policy().decide(&facts).verdict
}

#[test]
fn xfcc_with_thousands_of_elements_and_no_certificate() {
    let xfcc = format!("{}Hash={HASH}", "By=spiffe://proxy,".repeat(10_000));
    let peer = PeerFacts {
        sha256_digest: Some(HASH.into()),
        xfcc: Some(xfcc),
        ..PeerFacts::default()
    };
    assert_eq!(decide(peer), Verdict::Deny(Reason::PeerChainUnavailable));
}

#[test]
fn oversized_xfcc_is_peer_chain_unavailable() {
    let peer = PeerFacts {
        sha256_digest: Some(HASH.into()),
        certificate_pem: Some(pem_block(&[0x30, 0x00])),
        xfcc: Some("a=b,".repeat(MAX_HEADER_BYTES)),
    };
    assert_eq!(decide(peer), Verdict::Deny(Reason::PeerChainUnavailable));
}

#[test]
fn hostile_leaf_pem_is_certificate_invalid() {
    let nested = nested_sequences(20_000);
    let leaves = [
        (
            pem_block(&[0x30, 0x00]).repeat(MAX_CERTIFICATES + 1),
            HASH.to_string(),
        ),
        (pem_block(&[0x30, 0x00]).repeat(2), HASH.to_string()),
        (pem_block(&bad_lengths()[0]), HASH.to_string()),
        // Framed as one SEQUENCE, so it reaches the verifier (digest matching).
        (pem_block(&nested), Fingerprint::of_der(&nested).to_hex()),
    ];
    for (pem, digest) in leaves {
        let peer = PeerFacts {
            sha256_digest: Some(digest),
            certificate_pem: Some(pem),
            ..PeerFacts::default()
        };
        assert_eq!(decide(peer), Verdict::Deny(Reason::CertificateInvalid));
    }
}

#[test]
fn hostile_chain_in_xfcc() {
    let leaf = nested_sequences(2);
    let chain_of = |chain: &str| PeerFacts {
        sha256_digest: Some(Fingerprint::of_der(&leaf).to_hex()),
        certificate_pem: Some(pem_block(&leaf)),
        xfcc: Some(format!("Chain=\"{}\"", envoy_format::url_encode_pem(chain))),
    };
    // More blocks than the parser takes is more than any path allows.
    let too_many = pem_block(&[0x30, 0x00]).repeat(MAX_CERTIFICATES + 1);
    assert_eq!(
        decide(chain_of(&too_many)),
        Verdict::Deny(Reason::ChainTooLong)
    );
    let huge_length = pem_block(&bad_lengths()[0]);
    assert_eq!(
        decide(chain_of(&huge_length)),
        Verdict::Deny(Reason::CertificateInvalid)
    );
}

#[test]
fn digest_of_multibyte_characters_is_refused() {
    // 64 bytes but 32 characters: neither a digest nor a panic on a char boundary.
    let text = "é".repeat(32);
    assert_eq!(text.len(), 64);
    assert!(Fingerprint::parse(&text).is_err());
    let config = format!(r#"{{"trusted_ca_sha256": ["{text}"]}}"#);
    assert_eq!(
        Config::parse(config.as_bytes()).unwrap_err().field,
        "trusted_ca_sha256[0]"
    );
    let leaf = nested_sequences(1);
    let peer = PeerFacts {
        sha256_digest: Some(text),
        certificate_pem: Some(pem_block(&leaf)),
        ..PeerFacts::default()
    };
    assert_eq!(decide(peer), Verdict::Deny(Reason::CertificateMismatch));
}

#[test]
fn path_normalisation_of_hostile_paths() {
    assert_eq!(normalize_path(&"/..".repeat(100_000)), "/");
    assert_eq!(normalize_path(&"/%2e%2E/".repeat(10_000)), "/");
    assert_eq!(normalize_path(&"/".repeat(100_000)), "/");
    assert_eq!(normalize_path("/a/%"), "/a/%");
    assert_eq!(normalize_path("/a%é/b"), "/a%é/b");
    assert_eq!(normalize_path("/%61%2Fb?%2e%2e#x"), "/a%2Fb");
}

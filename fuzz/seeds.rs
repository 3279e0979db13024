//! Writes seed corpora for every fuzz target from the test PKI:
//! `seeds [DIR]` fills `DIR/<target>/` (default `fuzz/corpus`).
//!
//! Each scenario is a chain a client could present, leaf first, with the CA
//! to pin last. The verdict the filter gives each one is checked here, so a
//! seed that stopped exercising what its name says fails loudly instead of
//! quietly fuzzing the wrong thing.

use onerecord_tls_policy_testkit::pki;

use onerecord_tls_policy::config::TrustSettings;
use onerecord_tls_policy::fingerprint::Fingerprint;
use onerecord_tls_policy::reason::Reason;
use onerecord_tls_policy::trust::{PresentedChain, TrustStore};
use onerecord_tls_policy::xfcc::envoy_format;
use onerecord_tls_policy_fuzz::pool::Pool;
use pki::{CertSpec, Issued, KeyKind, SigDigest, issue, issue_with_key, self_signed};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

const DAY: i64 = 86_400;

struct Scenario {
    name: &'static str,
    chain: Vec<Vec<u8>>,
    /// What `TrustStore::verify` says when the last certificate is pinned.
    expected: Result<(), Reason>,
}

fn der(certs: &[&Issued]) -> Vec<Vec<u8>> {
    certs.iter().map(|c| c.der()).collect()
}

fn scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    let mut add = |name, chain, expected| {
        out.push(Scenario {
            name,
            chain,
            expected,
        })
    };

    let root = self_signed(&CertSpec::ca("Root P-256"));
    let leaf = issue(&CertSpec::client("direct"), &root);
    add("direct-p256", der(&[&leaf, &root]), Ok(()));

    let rsa_root = self_signed(&CertSpec::ca("Root RSA").key(KeyKind::Rsa(2048)));
    let p384 = issue(
        &CertSpec::ca("Intermediate P-384").key(KeyKind::P384),
        &rsa_root,
    );
    let ed = issue(
        &CertSpec::client("ed25519")
            .key(KeyKind::Ed25519)
            .dns_sans(&["Client.Example.com"]),
        &p384,
    );
    add("rsa-p384-ed25519", der(&[&ed, &p384, &rsa_root]), Ok(()));

    let i1 = issue(&CertSpec::ca("Intermediate 1"), &root);
    let i2 = issue(
        &CertSpec::ca("Intermediate 2").digest(SigDigest::Sha384),
        &i1,
    );
    let deep = issue(&CertSpec::client("deep"), &i2);
    add("deep", der(&[&deep, &i2, &i1, &root]), Ok(()));

    // Renewed with the same key: the new copy is not valid yet, so today's
    // path goes through the old one; later both paths exist.
    let key = pki::generate_key(KeyKind::P256);
    let old = issue_with_key(
        &CertSpec::ca("Renewed").validity(-10 * DAY, DAY),
        key.clone(),
        Some(&root),
    );
    let new = issue_with_key(
        &CertSpec::ca("Renewed").validity(3600, 365 * DAY),
        key,
        Some(&root),
    );
    let renewed = issue(&CertSpec::client("renewed"), &old);
    add(
        "renewed-intermediate",
        der(&[&renewed, &new, &old, &root]),
        Ok(()),
    );

    let foreign = self_signed(&CertSpec::ca("Foreign Root"));
    let decoy = issue(&CertSpec::client("decoy"), &foreign);
    add(
        "decoy-appends-pinned-root",
        der(&[&decoy, &foreign, &root]),
        Err(Reason::UntrustedCa),
    );

    let forged = issue_with_key(
        &CertSpec::ca("Intermediate 1"),
        pki::generate_key(KeyKind::P256),
        Some(&foreign),
    );
    let under_forged = issue(&CertSpec::client("forged"), &forged);
    add(
        "forged-intermediate-subject",
        der(&[&under_forged, &forged, &i1, &root]),
        Err(Reason::CertificateInvalid),
    );

    let expired = issue(
        &CertSpec::client("expired").validity(-10 * DAY, -DAY),
        &root,
    );
    add(
        "expired-leaf",
        der(&[&expired, &root]),
        Err(Reason::CertificateExpired),
    );
    let early = issue(&CertSpec::client("early").validity(DAY, 10 * DAY), &root);
    add(
        "not-yet-valid-leaf",
        der(&[&early, &root]),
        Err(Reason::CertificateNotYetValid),
    );

    let sha1 = issue(&CertSpec::client("sha1").digest(SigDigest::Sha1), &rsa_root);
    add(
        "sha1-signed-leaf",
        der(&[&sha1, &rsa_root]),
        Err(Reason::WeakSignatureAlgorithm),
    );
    let weak = issue(&CertSpec::client("rsa1024").key(KeyKind::Rsa(1024)), &root);
    add("rsa1024-leaf", der(&[&weak, &root]), Err(Reason::WeakKey));
    let server = issue(&CertSpec::server("server.example.com"), &root);
    add(
        "server-auth-only",
        der(&[&server, &root]),
        Err(Reason::MissingClientAuthUsage),
    );
    let ca_leaf = issue(&CertSpec::ca("CA as client"), &root);
    add(
        "ca-as-leaf",
        der(&[&ca_leaf, &root]),
        Err(Reason::CertificateInvalid),
    );

    let constrained = issue(
        &CertSpec::ca("Constrained")
            .extension("nameConstraints", "critical,permitted;DNS:example.com"),
        &root,
    );
    let outside = issue(
        &CertSpec::client("outside")
            .uri_sans(&[])
            .dns_sans(&["evil.test"]),
        &constrained,
    );
    add(
        "name-constraints-violated",
        der(&[&outside, &constrained, &root]),
        Err(Reason::NameConstraintViolation),
    );

    let len0 = self_signed(&CertSpec::ca("Root pathlen 0").path_len(Some(0)));
    let below = issue(&CertSpec::ca("Below pathlen 0"), &len0);
    let too_deep = issue(&CertSpec::client("too-deep"), &below);
    add(
        "path-length-exceeded",
        der(&[&too_deep, &below, &len0]),
        Err(Reason::CertificateInvalid),
    );

    let critical = issue(
        &CertSpec::client("critical").extension("1.3.6.1.4.1.99999.1", "critical,DER:05:00"),
        &root,
    );
    add(
        "unknown-critical-extension",
        der(&[&critical, &root]),
        Err(Reason::CertificateInvalid),
    );

    let mut long = vec![self_signed(&CertSpec::ca("Long Root"))];
    for i in 0..6 {
        let next = issue(&CertSpec::ca(&format!("Long {i}")), long.last().unwrap());
        long.push(next);
    }
    let long_leaf = issue(&CertSpec::client("long"), long.last().unwrap());
    long.push(long_leaf);
    long.reverse();
    add(
        "longer-than-max",
        long.iter().map(Issued::der).collect(),
        Err(Reason::ChainTooLong),
    );
    out
}

fn settings_pinning(chain: &[Vec<u8>]) -> TrustSettings {
    TrustSettings {
        trusted_ca_sha256: vec![Fingerprint::of_der(chain.last().unwrap())],
        ca_certificates_der: Vec::new(),
        revoked_sha256: Vec::new(),
        max_chain_length: 5,
        clock_skew_seconds: 60,
        profile: Default::default(),
    }
}

/// Request paths common backends map to a protected resource (the last: a
/// raw byte, as HTTP/2 forwards it without `normalize_path`).
const PATH_FORMS: &[&[u8]] = &[
    b"/access-delegations/1",
    b"/ACCESS-DELEGATIONS",
    b"/Access-Delegations",
    b"/%41ccess-delegations",
    b"/;x/access-delegations",
    b"/;/access-delegations",
    b"/x/..;/access-delegations",
    b"/.;/access-delegations",
    b"/x%2F..%2Faccess-delegations",
    b"/%2Faccess-delegations",
    b"/x/..%5caccess-delegations",
    b"/x/..\\access-delegations",
    b"/public/..;/access-delegations",
    b"/access-delegations/../public",
    b"/admin/",
    b"/admin;x",
    b"/Admin",
    b"/reports/1",
    b"/logistics-objects/%C3%A9?q=/access-delegations",
    b"/access-delegations/\xff",
];

fn write(dir: &Path, target: &str, name: &str, bytes: &[u8]) {
    let dir = dir.join(target);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    std::fs::write(dir.join(name), bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
}

fn main() {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "fuzz/corpus".into()),
    );
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let scenarios = scenarios();
    let mut count = 0;
    let mut seed = |target: &str, name: &str, bytes: &[u8]| {
        write(&dir, target, name, bytes);
        count += 1;
    };

    // The path forms of the finding, each with the finding's rules.
    for (i, path) in PATH_FORMS.iter().enumerate() {
        seed("path", &format!("form-{i}"), path);
    }

    // Token payloads, as JSON and as Envoy serialises them.
    for (i, payload) in [
        serde_json::json!({ "iss": "https://idp.example.com", "exp": 1_900_000_000,
            "logistics_agent_uri": "https://1r.example.com/logistics-agents/airline-1",
            "cnf": { "x5t#S256": "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0" },
            "aud": ["a", "b"], "admin": false }),
        serde_json::json!({ "logistics_agent_uri": { "nested": [1, 2.5, "x"] }, "cnf": "flat" }),
        serde_json::json!({}),
    ]
    .iter()
    .enumerate()
    {
        seed(
            "token_payload",
            &format!("json-{i}"),
            payload.to_string().as_bytes(),
        );
        if let Some(wire) = onerecord_tls_policy::binding::payload::envoy_serialization(payload) {
            seed("token_payload", &format!("envoy-{i}"), &wire);
        }
    }

    for s in &scenarios {
        let store = TrustStore::new(&settings_pinning(&s.chain));
        let chain = PresentedChain {
            leaf: s.chain[0].clone(),
            others: s.chain[1..].to_vec(),
        };
        let verdict = store.verify(&chain, now).map(|_| ());
        assert_eq!(verdict, s.expected, "scenario {}", s.name);

        let n = s.chain.len();
        seed("chain", s.name, &Pool::encode(now, &s.chain, &[]));
        seed("decide", s.name, &Pool::encode(now, &s.chain, &[]));
        if n >= 2 {
            // The root comes from ca_certificates_der, the client sends the rest.
            let root_bit = if n <= 8 { 1u8 << (n - 1) } else { 0 };
            let short = [0, root_bit, 0, 0, 0, 11, (n - 1) as u8, 0, 0, 0];
            seed(
                "chain",
                &format!("{}-root-configured", s.name),
                &Pool::encode(now, &s.chain, &short),
            );
            // The issuer of the leaf is revoked.
            seed(
                "chain",
                &format!("{}-issuer-revoked", s.name),
                &Pool::encode(now, &s.chain, &[0, 0, 0, 0, 2]),
            );
            // Presented anchor first, leaf last.
            let swapped = [0, 0, 0, 0, 0, 9, 0, (n - 1) as u8, 0, 0];
            seed(
                "chain",
                &format!("{}-reversed", s.name),
                &Pool::encode(now, &s.chain, &swapped),
            );
        }

        let leaf = &s.chain[0];
        let element = envoy_format::element(leaf, &s.chain);
        let with = |mode: u8, text: &str| [&[mode][..], text.as_bytes()].concat();
        seed("xfcc", &format!("{}-element", s.name), &with(0, &element));
        let header = format!("By=spiffe://edge.example.com;URI=\"a,b\",{element}");
        seed(
            "xfcc",
            &format!("{}-two-elements", s.name),
            &with(0, &header),
        );
        let prefixed = format!("Subject=\"x\\\";Hash=1\0{element}");
        seed("xfcc", &format!("{}-prefixed", s.name), &with(1, &prefixed));
        let bundle: String = s.chain.iter().map(|d| envoy_format::pem(d)).collect();
        seed("xfcc", &format!("{}-pem", s.name), &with(2, &bundle));
    }
    let docs = "By=http://frontend.lyft.com;Hash=468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688;Subject=\"/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client\";URI=http://testclient.lyft.com";
    seed("xfcc", "envoy-docs", &[&[0][..], docs.as_bytes()].concat());

    let direct = &scenarios[0].chain;
    let deep = &scenarios[2].chain;
    let sha = |d: &Vec<u8>| Fingerprint::of_der(d).to_hex();
    let ca_pem: String = deep[1..].iter().map(|d| envoy_format::pem(d)).collect();
    let configs = [
        ("empty", String::new()),
        ("object", "{}".to_string()),
        (
            "readme",
            format!(
                r#"{{ "trusted_ca_sha256": ["{}"], "rules": [ {{ "name": "access-delegations", "path_prefix": "/access-delegations", "mtls": "required" }} ] }}"#,
                sha(direct.last().unwrap())
            ),
        ),
        (
            "everything",
            serde_json::json!({
                "mode": "audit",
                "min_tls_version": "TLSv1.3",
                "mtls": "required",
                "trusted_ca_sha256": [sha(deep.last().unwrap()).to_uppercase()],
                "ca_certificates_pem": ca_pem,
                "revoked_sha256": [sha(&deep[1])],
                "allowed_clients": {
                    "uri_san": ["https://1r.example.com/logistics-agents/deep"],
                    "dns_san": ["Client.Example.com"],
                    "subject_organization": ["Example Airline"],
                    "sha256": [sha(&deep[0])]
                },
                "rules": [
                    {"name": "objects", "path_exact": "/logistics-objects", "methods": ["get", "POST"], "mtls": "optional"},
                    {"name": "delegations.v2", "path_prefix": "/access-delegations", "case_sensitive": true, "allowed_clients": {"sha256": [sha(&direct[0])]}}
                ],
                "annotation_prefix": "x-1r-",
                "max_chain_length": 8,
                "clock_skew_seconds": 86400
            })
            .to_string(),
        ),
        ("bad-mtls", r#"{"rules":[{"name":"a","path_prefix":"/","mtls":"yes"}]}"#.to_string()),
        (
            "bad-path",
            r#"{"rules":[{"name":"a","path_prefix":"/logistics%2Dobjects;v=1/../x"}]}"#.to_string(),
        ),
    ];
    for (name, text) in &configs {
        seed("config", name, text.as_bytes());
    }

    // CRLs of each key type and shape, with the certificate that signs them.
    use onerecord_tls_policy_fuzz::crl_input::join;
    use onerecord_tls_policy_testkit::crl::{CrlSpec, RawExtension, serial_contents};
    use onerecord_tls_policy_testkit::pki::{CertSpec, KeyKind, issue, self_signed};
    for (name, kind) in [
        ("p256", KeyKind::P256),
        ("p384", KeyKind::P384),
        ("rsa", KeyKind::Rsa(2048)),
    ] {
        let ca = self_signed(&CertSpec::ca(&format!("CRL Seed {name}")).key(kind));
        let leaf = issue(&CertSpec::client("crl-seed"), &ca);
        let serial = serial_contents(&leaf);
        let crls = [
            ("empty", CrlSpec::default()),
            (
                "listing",
                CrlSpec::default()
                    .revoke(&leaf)
                    .revoke_serial(vec![0x80, 0x01], None),
            ),
            (
                "extensions",
                CrlSpec::default()
                    .revoke(&leaf)
                    .extension(RawExtension::private(1, false)),
            ),
            (
                "user-only",
                CrlSpec::default()
                    .revoke(&leaf)
                    .extension(RawExtension::issuing_distribution_point(true, false, false)),
            ),
        ];
        for (shape, spec) in crls {
            let crl = spec.sign(&ca);
            seed(
                "crl",
                &format!("{name}-{shape}"),
                &join(&ca.der(), &crl.der, &serial),
            );
        }
    }
    // OCSP responses about a leaf of each key type, with its issuer.
    use onerecord_tls_policy_testkit::ocsp::{OcspSpec, Status};
    for (name, kind) in [("p256", KeyKind::P256), ("rsa", KeyKind::Rsa(2048))] {
        let ca = self_signed(&CertSpec::ca(&format!("OCSP Seed {name}")).key(kind));
        let leaf = issue(&CertSpec::client("ocsp-seed"), &ca);
        let responder = issue(
            &CertSpec::client("ocsp-seed-responder").eku(Some(vec!["OCSPSigning"])),
            &ca,
        );
        let responses = [
            ("good", OcspSpec::default().sign(&leaf, &ca)),
            (
                "revoked",
                OcspSpec::default().status(Status::Revoked).sign(&leaf, &ca),
            ),
            ("sha256", OcspSpec::default().sha256().sign(&leaf, &ca)),
            (
                "delegated",
                OcspSpec::default().sign_with(&leaf, &ca, &responder, &[&responder]),
            ),
        ];
        for (shape, response) in responses {
            seed(
                "ocsp",
                &format!("{name}-{shape}"),
                &join(&ca.der(), &response, &leaf.der()),
            );
        }
    }
    println!("wrote {count} seeds under {}", dir.display());
}

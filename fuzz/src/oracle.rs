//! Re-checks a path the filter verified, without the filter's code: OpenSSL
//! checks every signature and key, x509-parser reads names, validity and
//! extensions. Any disagreement is a panic, which libFuzzer reports.

use onerecord_tls_policy::config::TrustSettings;
use onerecord_tls_policy::fingerprint::Fingerprint;
use onerecord_tls_policy::trust::VerifiedClient;
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, Public};
use openssl::x509::X509;
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

/// Signature algorithms the ONE Record profile refuses (MD2/MD4/MD5/SHA-1).
const WEAK_SIGNATURE_OIDS: &[&str] = &[
    "1.2.840.113549.1.1.2",
    "1.2.840.113549.1.1.3",
    "1.2.840.113549.1.1.4",
    "1.2.840.113549.1.1.5",
    "1.3.14.3.2.25",
    "1.3.14.3.2.29",
    "1.2.840.10045.4.1",
    "1.2.840.10040.4.3",
];

/// What must hold for every path `TrustStore::verify` returns:
/// - it starts at `leaf` and ends at a pinned anchor, each certificate once,
///   at most `max_chain_length` long;
/// - every certificate on it is one the verifier was given (`material`);
/// - each certificate's issuer name is its parent's subject and OpenSSL
///   verifies its signature with the parent's key;
/// - nothing on it is revoked, expired or not yet valid (± skew), weakly
///   signed or weakly keyed;
/// - the leaf is no CA and may do client auth; the issuers are CAs allowed to
///   sign certificates.
pub fn assert_verified_path(
    client: &VerifiedClient,
    leaf: &[u8],
    material: &[&[u8]],
    settings: &TrustSettings,
    now: u64,
) {
    let path = &client.path_sha256;
    assert_eq!(client.leaf_sha256, Fingerprint::of_der(leaf), "leaf digest");
    assert_eq!(
        path.first(),
        Some(&client.leaf_sha256),
        "path starts at the leaf"
    );
    assert_eq!(
        path.last(),
        Some(&client.anchor_sha256),
        "path ends at the anchor"
    );
    assert!(
        settings.trusted_ca_sha256.contains(&client.anchor_sha256),
        "anchor {} is not pinned",
        client.anchor_sha256
    );
    assert!(path.len() >= 2, "a path has a leaf and an anchor: {path:?}");
    assert!(
        path.len() <= settings.max_chain_length,
        "path of {} exceeds max_chain_length {}",
        path.len(),
        settings.max_chain_length
    );
    for (i, fp) in path.iter().enumerate() {
        assert!(!path[..i].contains(fp), "{fp} twice on the path");
        assert!(
            !settings.revoked_sha256.contains(fp),
            "revoked {fp} on the path"
        );
    }

    let ders: Vec<&[u8]> = path
        .iter()
        .map(|fp| {
            material
                .iter()
                .copied()
                .find(|der| Fingerprint::of_der(der) == *fp)
                .unwrap_or_else(|| panic!("{fp} on the path was never given to the verifier"))
        })
        .collect();
    let parsed: Vec<X509Certificate<'_>> = ders
        .iter()
        .map(|der| match X509Certificate::from_der(der) {
            Ok(([], cert)) => cert,
            _ => panic!("a certificate on the path is not exactly one X.509 certificate"),
        })
        .collect();
    // Keys come from the SubjectPublicKeyInfo alone: a pinned anchor is
    // trusted as bytes, and OpenSSL may refuse to read the rest of it.
    let keys: Vec<PKey<Public>> = parsed
        .iter()
        .map(|cert| {
            PKey::public_key_from_der(cert.public_key().raw).expect("OpenSSL reads the key")
        })
        .collect();

    let skew = i128::from(settings.clock_skew_seconds);
    let now = i128::from(now);
    let last = parsed.len() - 1;
    for (i, cert) in parsed.iter().enumerate() {
        let validity = cert.validity();
        assert!(
            i128::from(validity.not_before.timestamp()) <= now + skew,
            "certificate {i} on the path is not yet valid"
        );
        assert!(
            i128::from(validity.not_after.timestamp()) >= now - skew,
            "certificate {i} on the path has expired"
        );
        let sig = cert.signature_algorithm.algorithm.to_id_string();
        assert!(
            !WEAK_SIGNATURE_OIDS.contains(&sig.as_str()),
            "certificate {i} on the path is signed with {sig}"
        );
        assert_strong_key(&keys[i], i);

        let bc = cert
            .basic_constraints()
            .expect("readable basic constraints");
        let ku = cert.key_usage().expect("readable key usage");
        if i == 0 {
            assert!(!bc.is_some_and(|bc| bc.value.ca), "the leaf is a CA");
            let eku = cert.extended_key_usage().expect("readable EKU");
            assert!(
                eku.is_none_or(|eku| eku.value.client_auth),
                "the leaf's EKU lacks clientAuth"
            );
            assert!(
                ku.is_none_or(|ku| ku.value.digital_signature()),
                "the leaf's key usage lacks digitalSignature"
            );
        } else {
            let v1_anchor = i == last && bc.is_none() && cert.version().0 == 0;
            assert!(
                bc.is_some_and(|bc| bc.value.ca) || v1_anchor,
                "issuer {i} on the path is not a CA"
            );
            assert!(
                ku.is_none_or(|ku| ku.value.key_cert_sign()),
                "issuer {i} on the path may not sign certificates"
            );
        }
    }

    for i in 0..last {
        let (child, parent) = (&parsed[i], &parsed[i + 1]);
        assert_eq!(
            child.issuer().as_raw(),
            parent.subject().as_raw(),
            "certificate {i}'s issuer is not the next certificate's subject"
        );
        // Only signed certificates are read whole by OpenSSL: their bytes
        // come from a real CA, never from the fuzzer alone.
        let signed = X509::from_der(ders[i]).expect("OpenSSL reads a signed certificate");
        assert!(
            signed.verify(&keys[i + 1]).unwrap_or(false),
            "OpenSSL rejects the signature on certificate {i} of a verified path"
        );
    }
}

/// RSA ≥ 2048 bits, EC on P-256/P-384, or Ed25519.
fn assert_strong_key(key: &PKey<Public>, i: usize) {
    let strong = match key.id() {
        Id::RSA => key.bits() >= 2048,
        Id::EC => key
            .ec_key()
            .ok()
            .and_then(|ec| ec.group().curve_name())
            .is_some_and(|nid| nid == Nid::X9_62_PRIME256V1 || nid == Nid::SECP384R1),
        Id::ED25519 => true,
        _ => false,
    };
    assert!(
        strong,
        "certificate {i} on the path has a weak key ({:?}, {} bits)",
        key.id(),
        key.bits()
    );
}

//! The ONE Record certificate policy for client certificates
//! (`onerecord_profile`): clientAuth EKU, a critical key usage with
//! digitalSignature, at least one URI SAN `https://<host>/<company-id>`
//! (the logistics agent's URI, path segments ending in the company id), and
//! signatures over SHA-256 or better on the leaf and every intermediate.

use super::name_constraints::Names;
use x509_parser::certificate::X509Certificate;
use x509_parser::der_parser::oid;
use x509_parser::oid_registry::{OID_PKCS1_RSASSAPSS, OID_SIG_ED25519, Oid};
use x509_parser::signature_algorithm::RsaSsaPssParams;

/// SHA-256, SHA-384 and SHA-512 based signature algorithms.
const STRONG_SIGNATURES: &[Oid<'static>] = &[
    oid!(1.2.840.113549.1.1.11), // sha256WithRSAEncryption
    oid!(1.2.840.113549.1.1.12), // sha384WithRSAEncryption
    oid!(1.2.840.113549.1.1.13), // sha512WithRSAEncryption
    oid!(1.2.840.10045.4.3.2),   // ecdsa-with-SHA256
    oid!(1.2.840.10045.4.3.3),   // ecdsa-with-SHA384
    oid!(1.2.840.10045.4.3.4),   // ecdsa-with-SHA512
];

const STRONG_HASHES: &[Oid<'static>] = &[
    oid!(2.16.840.1.101.3.4.2.1), // SHA-256
    oid!(2.16.840.1.101.3.4.2.2), // SHA-384
    oid!(2.16.840.1.101.3.4.2.3), // SHA-512
];

/// What the policy reads from one certificate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct OneRecordFacts {
    /// KeyUsage present, critical, with digitalSignature.
    pub critical_digital_signature: bool,
    pub client_auth_eku: bool,
    pub strong_signature: bool,
}

impl OneRecordFacts {
    pub(crate) fn of(cert: &X509Certificate<'_>) -> Self {
        let ku = cert.key_usage().ok().flatten();
        let eku = cert.extended_key_usage().ok().flatten();
        let algorithm = &cert.signature_algorithm;
        let strong_signature = STRONG_SIGNATURES.contains(&algorithm.algorithm)
            || algorithm.algorithm == OID_SIG_ED25519
            || (algorithm.algorithm == OID_PKCS1_RSASSAPSS
                && algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| RsaSsaPssParams::try_from(p).ok())
                    .is_some_and(|p| STRONG_HASHES.contains(p.hash_algorithm_oid())));
        OneRecordFacts {
            critical_digital_signature: ku
                .is_some_and(|ku| ku.critical && ku.value.digital_signature()),
            client_auth_eku: eku.is_some_and(|eku| eku.value.client_auth),
            strong_signature,
        }
    }
}

/// The first rule the leaf (with `names`) or an intermediate breaks.
pub(crate) fn check<'a>(
    leaf: &OneRecordFacts,
    leaf_names: &Names,
    intermediates: impl Iterator<Item = &'a OneRecordFacts>,
) -> Result<(), &'static str> {
    if !leaf.client_auth_eku {
        return Err("onerecord_client_auth_eku_missing");
    }
    if !leaf.critical_digital_signature {
        return Err("onerecord_key_usage_not_critical_digital_signature");
    }
    if !leaf_names.uris.iter().any(|u| is_agent_uri(u)) {
        return Err("onerecord_uri_san_missing");
    }
    if !leaf.strong_signature || !intermediates.into_iter().all(|c| c.strong_signature) {
        return Err("onerecord_signature_below_sha256");
    }
    Ok(())
}

/// `https://<host>/<segment>/…/<company-id>`: a DNS host (a port allowed),
/// no user info, query or fragment, every path segment present.
pub(crate) fn is_agent_uri(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("https://") else {
        return false;
    };
    let Some((authority, path)) = rest.split_once('/') else {
        return false;
    };
    let host = authority.split_once(':').map_or(authority, |(host, port)| {
        if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
            host
        } else {
            ""
        }
    });
    let host_ok = host.contains('.')
        && host
            .split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    let path_ok = !path.contains(['?', '#', '@']) && path.split('/').all(|s| !s.is_empty());
    host_ok && path_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_uris() {
        for good in [
            "https://1r.example.com/acme",
            "https://1r.example.com/logistics-agents/acme",
            "https://1r.example.com:8443/acme",
        ] {
            assert!(is_agent_uri(good), "{good}");
        }
        for bad in [
            "http://1r.example.com/acme",
            "https://1r.example.com",
            "https://1r.example.com/",
            "https://1r.example.com/acme/",
            "https://1r.example.com/acme?x=1",
            "https://user@1r.example.com/acme",
            "https://localhost/acme",
            "urn:example:acme",
        ] {
            assert!(!is_agent_uri(bad), "{bad}");
        }
    }
}

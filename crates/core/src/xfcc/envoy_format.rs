//! What Envoy reports for a client that presents a certificate chain:
//! `connection.peer_certificate`, its digest, and the XFCC element written
//! with `set_current_client_cert_details` (cert, chain, subject, uri, dns).
//! The operator CLI's `explain` and the tests build facts with it, so they
//! feed the policy exactly what the filter sees inside Envoy.

use crate::facts::PeerFacts;
use crate::fingerprint::Fingerprint;
use crate::x509;

/// The peer facts for a client presenting `chain` (DER, leaf first); `None`
/// for an empty chain, i.e. no client certificate.
pub fn peer_facts(chain: &[Vec<u8>]) -> Option<PeerFacts> {
    let leaf = chain.first()?;
    Some(PeerFacts {
        sha256_digest: Some(Fingerprint::of_der(leaf).to_hex()),
        certificate_pem: Some(pem(leaf)),
        xfcc: Some(element(leaf, chain)),
    })
}

/// The XFCC element Envoy writes for this connection (without `By`, which
/// names Envoy's own certificate and plays no part in the decision).
pub fn element(leaf: &[u8], chain: &[Vec<u8>]) -> String {
    let chain_pem: String = chain.iter().map(|der| pem(der)).collect();
    let (subject, uris, dns) = names(leaf);
    let mut parts = vec![
        format!("Hash={}", Fingerprint::of_der(leaf).to_hex()),
        format!("Cert=\"{}\"", url_encode_pem(&pem(leaf))),
        format!("Chain=\"{}\"", url_encode_pem(&chain_pem)),
        format!("Subject=\"{subject}\""),
    ];
    // Envoy writes a bare `URI=` when the certificate has no URI SAN.
    if uris.is_empty() {
        parts.push("URI=".to_string());
    }
    parts.extend(uris.iter().map(|u| format!("URI={u}")));
    parts.extend(dns.iter().map(|d| format!("DNS={d}")));
    parts.join(";")
}

/// Subject (RFC 4514), URI SANs and DNS SANs, in certificate order; names
/// that cannot be read are left out, as Envoy leaves them out.
fn names(der: &[u8]) -> (String, Vec<String>, Vec<String>) {
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else {
        return (String::new(), Vec::new(), Vec::new());
    };
    let names = x509::alt_names(&cert).unwrap_or_default();
    (x509::rfc4514(cert.subject()), names.uris, names.dns)
}

/// PEM as OpenSSL's `PEM_write_bio_X509` writes it: 64-character base64
/// lines, each ending in `\n`.
pub fn pem(der: &[u8]) -> String {
    use base64ct::Encoding;
    let encoded = base64ct::Base64::encode_string(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in encoded.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// Envoy's URL encoding of PEM in XFCC `Cert` and `Chain`.
pub fn url_encode_pem(pem: &str) -> String {
    let mut out = String::with_capacity(pem.len() + pem.len() / 8);
    for c in pem.chars() {
        match c {
            '\n' => out.push_str("%0A"),
            ' ' => out.push_str("%20"),
            '+' => out.push_str("%2B"),
            '/' => out.push_str("%2F"),
            '=' => out.push_str("%3D"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xfcc;
    use onerecord_tls_policy_testkit::pki::{self as pki, CertSpec, issue, self_signed};

    #[test]
    fn pem_is_byte_for_byte_what_openssl_writes() {
        let root = self_signed(&CertSpec::ca("Root").key(pki::KeyKind::Rsa(2048)));
        assert_eq!(pem(&root.der()), root.pem());
        let short = pem(&[0xab; 100]);
        let lengths: Vec<usize> = short.lines().map(str::len).collect();
        assert_eq!(lengths, [27, 64, 64, 8, 25]);
    }

    #[test]
    fn url_encoding_is_envoys() {
        assert_eq!(url_encode_pem("a+b/c=\n d%"), "a%2Bb%2Fc%3D%0A%20d%");
    }

    #[test]
    fn the_xfcc_parser_reads_back_cert_chain_and_names() {
        let root = self_signed(&CertSpec::ca("Root"));
        let leaf = issue(
            &CertSpec::client("client-1").dns_sans(&["a.example.com", "b.example.com"]),
            &root,
        );
        let peer = peer_facts(&[leaf.der(), root.der()]).unwrap();
        assert_eq!(peer.sha256_digest, Some(leaf.sha256_hex()));
        assert_eq!(peer.certificate_pem, Some(leaf.pem()));

        let element = xfcc::parse_last_element(peer.xfcc.as_deref().unwrap()).unwrap();
        assert_eq!(element.hash, Some(leaf.sha256_hex()));
        assert_eq!(element.cert, Some(leaf.pem()));
        assert_eq!(element.chain, Some(pki::pem_bundle(&[&leaf, &root])));
        assert_eq!(
            element.subject.as_deref(),
            Some("O=Example Airline,CN=client-1")
        );
        assert_eq!(
            element.uri,
            ["https://1r.example.com/logistics-agents/client-1"]
        );
        assert_eq!(element.dns, ["a.example.com", "b.example.com"]);
    }

    #[test]
    fn no_uri_san_is_a_bare_uri_key_and_no_chain_no_peer() {
        let root = self_signed(&CertSpec::ca("Root"));
        let leaf = issue(&CertSpec::client("c").uri_sans(&[]), &root);
        assert!(element(&leaf.der(), &[leaf.der()]).ends_with(";URI="));
        assert!(peer_facts(&[]).is_none());
    }
}

//! PEM bundles from `Cert` and `Chain`, read strictly.

use super::*;
use crate::pem::{PEM_BEGIN, PEM_END};

#[test]
fn pem_single_and_chain() {
    let p = pki();
    assert_eq!(
        pem_to_der_certificates(&p.leaf_pem).unwrap(),
        vec![p.leaf_der.clone()]
    );
    let chain = format!("{}{}{}", p.ca_pem, p.leaf_pem, p.ca_pem);
    assert_eq!(
        pem_to_der_certificates(&chain).unwrap(),
        vec![p.ca_der.clone(), p.leaf_der.clone(), p.ca_der.clone()]
    );
}

#[test]
fn pem_layout_variants_that_are_accepted() {
    let p = pki();
    let crlf = p.leaf_pem.replace('\n', "\r\n");
    assert_eq!(
        pem_to_der_certificates(&crlf).unwrap(),
        vec![p.leaf_der.clone()]
    );
    let no_final_newline = p.leaf_pem.trim_end_matches('\n');
    assert_eq!(
        pem_to_der_certificates(no_final_newline).unwrap(),
        vec![p.leaf_der.clone()]
    );
    let blank_lines = format!("\n{}\n\n{}\n", p.leaf_pem, p.ca_pem);
    assert_eq!(
        pem_to_der_certificates(&blank_lines).unwrap(),
        vec![p.leaf_der.clone(), p.ca_der.clone()]
    );
}

#[test]
fn empty_bundle_is_an_error() {
    assert_eq!(pem_to_der_certificates(""), Err(XfccError::NoCertificates));
    assert_eq!(
        pem_to_der_certificates("\n\r\n\n"),
        Err(XfccError::NoCertificates)
    );
}

#[test]
fn garbage_pem_is_refused() {
    let p = pki();
    let body: Vec<&str> = p.leaf_pem.lines().collect();
    let b64 = body[1..body.len() - 1].join("\n");
    let cases: Vec<(String, XfccError)> = vec![
        ("hello".into(), XfccError::MalformedPem),
        (" ".into(), XfccError::MalformedPem),
        (format!("comment\n{}", p.leaf_pem), XfccError::MalformedPem),
        (
            format!("{}trailing text\n", p.leaf_pem),
            XfccError::MalformedPem,
        ),
        (format!(" {}", p.leaf_pem), XfccError::MalformedPem),
        (format!("{PEM_BEGIN}\n{b64}\n"), XfccError::MalformedPem),
        (format!("{PEM_BEGIN}\n{b64}"), XfccError::MalformedPem),
        (format!("{PEM_BEGIN}\n{PEM_END}\n"), XfccError::MalformedPem),
        (
            format!("{PEM_BEGIN}\n{b64}\n-----END PRIVATE KEY-----\n"),
            XfccError::MalformedPem,
        ),
        (
            format!("{PEM_BEGIN}x\n{b64}\n{PEM_END}\n"),
            XfccError::MalformedPem,
        ),
        (
            format!("{PEM_BEGIN}\n{b64}\n{PEM_END} \n"),
            XfccError::MalformedPem,
        ),
        (
            format!("{PEM_BEGIN}\n{b64}\n\n{PEM_END}\n"),
            XfccError::MalformedPem,
        ),
        (
            format!("{PEM_BEGIN}\n {b64}\n{PEM_END}\n"),
            XfccError::MalformedPem,
        ),
        (
            format!("{PEM_BEGIN}\nProc-Type: 4,ENCRYPTED\n{b64}\n{PEM_END}\n"),
            XfccError::MalformedPem,
        ),
        (
            format!("{PEM_BEGIN}\n!!!!\n{PEM_END}\n"),
            XfccError::MalformedPem,
        ),
        // Base64 that is not padded / not canonical.
        (
            format!("{PEM_BEGIN}\nAAA\n{PEM_END}\n"),
            XfccError::MalformedPem,
        ),
        (
            format!("{PEM_BEGIN}\nAB==\nAAAA\n{PEM_END}\n"),
            XfccError::MalformedPem,
        ),
        (
            format!("{PEM_BEGIN}\nAB=A\n{PEM_END}\n"),
            XfccError::MalformedPem,
        ),
        // Nested BEGIN.
        (
            format!("{PEM_BEGIN}\n{}", p.leaf_pem),
            XfccError::MalformedPem,
        ),
        // Valid base64, but not a DER SEQUENCE.
        (
            format!("{PEM_BEGIN}\nAAAA\n{PEM_END}\n"),
            XfccError::MalformedDer,
        ),
        (
            format!("{PEM_BEGIN}\nMAA=\nMAA=\n{PEM_END}\n"),
            XfccError::MalformedPem,
        ),
        (
            format!("{PEM_BEGIN}\nMAAA\n{PEM_END}\n"),
            XfccError::MalformedDer,
        ),
        (
            format!("{PEM_BEGIN}\nMAE=\n{PEM_END}\n"),
            XfccError::MalformedDer,
        ),
        (
            format!("{PEM_BEGIN}\nBAA=\n{PEM_END}\n"),
            XfccError::MalformedDer,
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(pem_to_der_certificates(&input), Err(expected), "{input:?}");
    }
    // The smallest well-framed SEQUENCE passes framing (validity is the verifier's job).
    assert_eq!(
        pem_to_der_certificates(&format!("{PEM_BEGIN}\nMAA=\n{PEM_END}\n")),
        Ok(vec![vec![0x30, 0x00]])
    );
}

#[test]
fn trailing_bytes_after_the_certificate_are_refused() {
    let p = pki();
    let mut der = p.leaf_der.clone();
    der.push(0);
    let x509 = X509::from_der(&p.leaf_der).unwrap();
    // Re-wrap by hand: openssl will not emit a trailing byte for us.
    let b64 = openssl::base64::encode_block(&der);
    let lines: Vec<String> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    let pem = format!("{PEM_BEGIN}\n{}\n{PEM_END}\n", lines.join("\n"));
    assert_eq!(pem_to_der_certificates(&pem), Err(XfccError::MalformedDer));
    // Control: the same wrapping without the extra byte is accepted.
    let b64 = openssl::base64::encode_block(&x509.to_der().unwrap());
    let lines: Vec<String> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    let pem = format!("{PEM_BEGIN}\n{}\n{PEM_END}\n", lines.join("\n"));
    assert_eq!(pem_to_der_certificates(&pem), Ok(vec![p.leaf_der.clone()]));
}

#[test]
fn non_certificate_blocks_are_refused() {
    let p = pki();
    let key = "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n";
    assert_eq!(
        pem_to_der_certificates(key),
        Err(XfccError::NotCertificateBlock)
    );
    assert_eq!(
        pem_to_der_certificates(&format!("{}{key}", p.leaf_pem)),
        Err(XfccError::NotCertificateBlock)
    );
    let trusted = p.leaf_pem.replace("CERTIFICATE", "TRUSTED CERTIFICATE");
    assert_eq!(
        pem_to_der_certificates(&trusted),
        Err(XfccError::NotCertificateBlock)
    );
    let crl = "-----BEGIN X509 CRL-----\nMAA=\n-----END X509 CRL-----\n";
    assert_eq!(
        pem_to_der_certificates(crl),
        Err(XfccError::NotCertificateBlock)
    );
}

#[test]
fn certificate_count_limit() {
    let p = pki();
    let sixty_four = p.leaf_pem.repeat(MAX_CERTIFICATES);
    assert_eq!(
        pem_to_der_certificates(&sixty_four).unwrap().len(),
        MAX_CERTIFICATES
    );
    let sixty_five = p.leaf_pem.repeat(MAX_CERTIFICATES + 1);
    assert_eq!(
        pem_to_der_certificates(&sixty_five),
        Err(XfccError::TooManyCertificates)
    );
    // Refused before decoding: a broken 66th block does not change the answer.
    let broken_tail = format!("{sixty_five}{PEM_BEGIN}\n!!\n");
    assert_eq!(
        pem_to_der_certificates(&broken_tail),
        Err(XfccError::TooManyCertificates)
    );
    // Through the header as well: a Chain of 65 parses, its PEM is refused.
    let element =
        parse_last_element(&format!("Chain=\"{}\"", envoy_url_encode(&sixty_five))).unwrap();
    assert_eq!(
        pem_to_der_certificates(element.chain.as_deref().unwrap()),
        Err(XfccError::TooManyCertificates)
    );
}

#[test]
fn oversize_pem_is_refused() {
    let p = pki();
    let mut big = p.leaf_pem.clone();
    big.push_str(&"\n".repeat(MAX_HEADER_BYTES));
    assert_eq!(pem_to_der_certificates(&big), Err(XfccError::TooLarge));
}

//! `Cert` and `Chain` values: percent-decoding.

use super::*;

#[test]
fn cert_decoding_treats_plus_as_plus_and_accepts_lowercase_hex() {
    let p = pki();
    // Only newline and space encoded; `+`, `/` and `=` left raw.
    let partly = p.leaf_pem.replace('\n', "%0a").replace(' ', "%20");
    let element = parse_last_element(&format!("Cert=\"{partly}\"")).unwrap();
    assert_eq!(element.cert.as_deref(), Some(p.leaf_pem.as_str()));
    assert_eq!(
        parse_last_element("Cert=a+b%2B%2bc")
            .unwrap()
            .cert
            .as_deref(),
        Some("a+b++c")
    );
}

#[test]
fn chain_decoding_of_unquoted_value() {
    let p = pki();
    let element = parse_last_element(&format!("Chain={}", envoy_url_encode(&p.ca_pem))).unwrap();
    assert_eq!(element.chain.as_deref(), Some(p.ca_pem.as_str()));
}

#[test]
fn malformed_percent_encoding_is_refused() {
    for bad in ["%", "%G1", "%4", "%4G", "abc%", "%%41", "%0"] {
        for key in ["Cert", "Chain"] {
            assert_eq!(
                err(&format!("{key}=\"{bad}\"")),
                XfccError::BadPercentEncoding,
                "{key}={bad}"
            );
            assert_eq!(
                err(&format!("{key}={bad}")),
                XfccError::BadPercentEncoding,
                "{key}={bad}"
            );
        }
    }
}

#[test]
fn percent_decoded_bytes_must_be_utf8() {
    assert_eq!(err("Cert=%FF"), XfccError::NotUtf8);
    assert_eq!(err("Chain=\"%C3\""), XfccError::NotUtf8);
    assert_eq!(
        parse_last_element("Cert=%C3%A9").unwrap().cert.as_deref(),
        Some("é")
    );
}

#[test]
fn percent_encoding_is_only_decoded_in_cert_and_chain() {
    assert_eq!(
        parse_last_element("URI=https://x/a%20b;DNS=%;Subject=\"%G1\"").unwrap(),
        XfccElement {
            uri: strings(&["https://x/a%20b"]),
            dns: strings(&["%"]),
            subject: Some("%G1".to_string()),
            ..XfccElement::default()
        }
    );
}

#[test]
fn empty_cert_or_chain_is_refused() {
    assert_eq!(err("Cert=\"\""), XfccError::EmptyValue("Cert"));
    assert_eq!(err("Chain="), XfccError::EmptyValue("Chain"));
}

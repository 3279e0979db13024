//! The XFCC parser and the PEM splitter on arbitrary text.
//!
//! The first byte picks what the rest is:
//! - 0: a whole header. A parsed element must be well-formed and survive a
//!   round trip through `xfcc_text::serialize`.
//! - 1: `prefix NUL element`. What a client writes in front of Envoy's
//!   element must never change what the last element parses to: the header
//!   `prefix,element` is refused or reads exactly as `element` alone.
//! - 2: a PEM bundle. Accepted blocks are single DER SEQUENCEs, at most
//!   `MAX_CERTIFICATES`, and the DER survives re-encoding as Envoy's PEM.
#![no_main]

use libfuzzer_sys::fuzz_target;
use onerecord_tls_policy::xfcc::{
    self, MAX_CERTIFICATES, MAX_HEADER_BYTES, XfccElement, XfccError, envoy_format,
    parse_last_element, pem_to_der_certificates,
};
use onerecord_tls_policy_fuzz::xfcc_text;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    match mode % 3 {
        0 => whole_header(&text),
        1 => prefixed(&text),
        _ => pem_bundle(&text),
    }
});

fn whole_header(header: &str) {
    let Ok(element) = parse_last_element(header) else {
        return;
    };
    assert_well_formed(&element);
    let again = xfcc_text::serialize(&element);
    if again.len() > MAX_HEADER_BYTES {
        return;
    }
    assert_eq!(
        parse_last_element(&again),
        Ok(element.clone()),
        "round trip of {again:?}"
    );
    // The policy splits what it gets; that must not panic either.
    for pem in element.cert.iter().chain(&element.chain) {
        let _ = pem_to_der_certificates(pem);
    }
}

fn prefixed(text: &str) {
    let Some((prefix, last)) = text.split_once('\0') else {
        return;
    };
    let Ok(alone) = parse_last_element(last) else {
        return;
    };
    let header = format!("{prefix},{last}");
    match parse_last_element(&header) {
        Ok(element) => assert_eq!(element, alone, "a prefix changed the last element"),
        Err(XfccError::TooLarge) => assert!(header.len() > MAX_HEADER_BYTES),
        Err(_) => {}
    }
}

fn assert_well_formed(e: &XfccElement) {
    if let Some(hash) = &e.hash {
        assert!(hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()));
    }
    assert!(e.cert.as_ref().is_none_or(|c| !c.is_empty()));
    assert!(e.chain.as_ref().is_none_or(|c| !c.is_empty()));
    for name in e.by.iter().chain(&e.uri).chain(&e.dns) {
        assert!(!name.is_empty(), "empty names are dropped");
        assert!(
            !name.bytes().any(|b| b < 0x20 || b == 0x7f),
            "control character in {name:?}"
        );
    }
    if let Some(subject) = &e.subject {
        assert!(!subject.bytes().any(|b| b < 0x20 || b == 0x7f));
    }
}

fn pem_bundle(pem: &str) {
    let Ok(ders) = pem_to_der_certificates(pem) else {
        return;
    };
    assert!(!ders.is_empty() && ders.len() <= MAX_CERTIFICATES);
    assert_eq!(
        ders.len(),
        pem.lines()
            .filter(|l| l.trim_end_matches('\r') == "-----BEGIN CERTIFICATE-----")
            .count(),
        "one DER per block"
    );
    for der in &ders {
        assert_eq!(der.first(), Some(&0x30), "a DER SEQUENCE");
    }
    let rewritten: String = ders.iter().map(|der| envoy_format::pem(der)).collect();
    if rewritten.len() > MAX_HEADER_BYTES {
        return;
    }
    assert_eq!(
        xfcc::pem_to_der_certificates(&rewritten).as_ref(),
        Ok(&ders),
        "DER survives re-encoding"
    );
}

//! Tests of the XFCC parser, a module per section; the shared certificates
//! and helpers are here.

use super::*;
use crate::fingerprint::Fingerprint;
use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::PKey;
use openssl::x509::extension::SubjectAlternativeName;
use openssl::x509::{X509, X509NameBuilder};
use std::sync::OnceLock;

// ---------------------------------------------------------------- helpers

/// A self-signed P-256 certificate with URI and DNS SANs.
fn make_cert(cn: &str, serial: u32) -> X509 {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    let key = PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_nid(Nid::COMMONNAME, cn).unwrap();
    name.append_entry_by_nid(Nid::ORGANIZATIONNAME, "Example Airline")
        .unwrap();
    let name = name.build();
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    let serial = Asn1Integer::from_bn(&BigNum::from_u32(serial).unwrap()).unwrap();
    b.set_serial_number(&serial).unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(&name).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::days_from_now(1).unwrap())
        .unwrap();
    let san = SubjectAlternativeName::new()
        .uri(&format!("https://1r.example.com/logistics-agents/{cn}"))
        .dns("a.example.com")
        .build(&b.x509v3_context(None, None))
        .unwrap();
    b.append_extension(san).unwrap();
    b.sign(&key, MessageDigest::sha256()).unwrap();
    b.build()
}

struct Pki {
    leaf_pem: String,
    leaf_der: Vec<u8>,
    ca_pem: String,
    ca_der: Vec<u8>,
}

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let leaf = make_cert("client-1", 1);
        let ca = make_cert("ca", 2);
        Pki {
            leaf_pem: String::from_utf8(leaf.to_pem().unwrap()).unwrap(),
            leaf_der: leaf.to_der().unwrap(),
            ca_pem: String::from_utf8(ca.to_pem().unwrap()).unwrap(),
            ca_der: ca.to_der().unwrap(),
        }
    })
}

/// Exactly what Envoy does to PEM before putting it in XFCC.
fn envoy_url_encode(pem: &str) -> String {
    super::envoy_format::url_encode_pem(pem)
}

const HASH: &str = "468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688";
const HASH2: &str = "9ba61d6425303443c0748a02dd8de688468ed33be74eee6556d90c0149c1309e";

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn err(header: &str) -> XfccError {
    parse_last_element(header).unwrap_err()
}

mod decoding;
mod elements;
mod malformed;
mod pem_bundles;
mod random;

//! Test PKI generated in code (openssl crate): roots, intermediates and
//! leaves with exactly the defect a test is about.

use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::extension::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
};
use openssl::x509::{X509, X509Builder, X509NameBuilder};
use std::sync::atomic::{AtomicU32, Ordering};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    Rsa(u32),
    P256,
    P384,
    Ed25519,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigDigest {
    Sha1,
    Sha256,
    Sha384,
}

/// What to put in a certificate. Start from `CertSpec::ca` or `CertSpec::client`.
#[derive(Clone, Debug)]
pub struct CertSpec {
    pub common_name: String,
    pub organization: Option<String>,
    pub is_ca: bool,
    /// Emit a BasicConstraints extension at all (leaves may omit it).
    pub basic_constraints: bool,
    pub path_len: Option<u32>,
    pub key: KeyKind,
    pub digest: SigDigest,
    /// Validity as offsets from now, in seconds.
    pub not_before_offset: i64,
    pub not_after_offset: i64,
    /// `None` leaves the EKU extension out.
    pub eku: Option<Vec<&'static str>>,
    pub uri_sans: Vec<String>,
    pub dns_sans: Vec<String>,
    /// Extra extensions as openssl config strings, e.g.
    /// `("nameConstraints", "critical,permitted;DNS:.example.com")` or
    /// `("1.3.6.1.4.1.99999.1", "critical,DER:05:00")`. A `keyUsage` entry
    /// replaces the default key usage.
    pub extra_extensions: Vec<(String, String)>,
    /// Emit subjectKeyIdentifier and authorityKeyIdentifier (the default).
    pub key_identifiers: bool,
    /// The serial number in hex (`-` for a negative one); `None`: a fresh one.
    pub serial_hex: Option<String>,
}

impl CertSpec {
    pub fn ca(common_name: &str) -> Self {
        CertSpec {
            common_name: common_name.to_string(),
            organization: Some("Test PKI".to_string()),
            is_ca: true,
            basic_constraints: true,
            path_len: None,
            key: KeyKind::P256,
            digest: SigDigest::Sha256,
            not_before_offset: -3600,
            not_after_offset: 365 * 86_400,
            eku: None,
            uri_sans: Vec::new(),
            dns_sans: Vec::new(),
            extra_extensions: Vec::new(),
            key_identifiers: true,
            serial_hex: None,
        }
    }

    pub fn client(common_name: &str) -> Self {
        CertSpec {
            common_name: common_name.to_string(),
            organization: Some("Example Airline".to_string()),
            is_ca: false,
            basic_constraints: true,
            path_len: None,
            key: KeyKind::P256,
            digest: SigDigest::Sha256,
            not_before_offset: -3600,
            not_after_offset: 30 * 86_400,
            eku: Some(vec!["clientAuth"]),
            uri_sans: vec![format!(
                "https://1r.example.com/logistics-agents/{common_name}"
            )],
            dns_sans: Vec::new(),
            extra_extensions: Vec::new(),
            key_identifiers: true,
            serial_hex: None,
        }
    }

    pub fn server(dns_name: &str) -> Self {
        let mut spec = CertSpec::client(dns_name);
        spec.eku = Some(vec!["serverAuth"]);
        spec.uri_sans = Vec::new();
        spec.dns_sans = vec![dns_name.to_string()];
        spec
    }

    pub fn serial_hex(mut self, hex: &str) -> Self {
        self.serial_hex = Some(hex.to_string());
        self
    }
    pub fn key(mut self, key: KeyKind) -> Self {
        self.key = key;
        self
    }
    pub fn digest(mut self, digest: SigDigest) -> Self {
        self.digest = digest;
        self
    }
    pub fn validity(mut self, not_before_offset: i64, not_after_offset: i64) -> Self {
        self.not_before_offset = not_before_offset;
        self.not_after_offset = not_after_offset;
        self
    }
    pub fn organization(mut self, org: Option<&str>) -> Self {
        self.organization = org.map(str::to_string);
        self
    }
    pub fn eku(mut self, eku: Option<Vec<&'static str>>) -> Self {
        self.eku = eku;
        self
    }
    pub fn path_len(mut self, path_len: Option<u32>) -> Self {
        self.path_len = path_len;
        self
    }
    pub fn uri_sans(mut self, uris: &[&str]) -> Self {
        self.uri_sans = uris.iter().map(|s| s.to_string()).collect();
        self
    }
    pub fn dns_sans(mut self, names: &[&str]) -> Self {
        self.dns_sans = names.iter().map(|s| s.to_string()).collect();
        self
    }
    /// Leaves subjectKeyIdentifier and authorityKeyIdentifier out, as a
    /// forger would to keep its certificates candidate issuers of any child.
    pub fn without_key_identifiers(mut self) -> Self {
        self.key_identifiers = false;
        self
    }

    pub fn extension(mut self, name: &str, value: &str) -> Self {
        self.extra_extensions
            .push((name.to_string(), value.to_string()));
        self
    }
}

/// A certificate with its private key.
pub struct Issued {
    pub cert: X509,
    pub key: PKey<Private>,
}

impl Issued {
    pub fn der(&self) -> Vec<u8> {
        self.cert.to_der().expect("certificate DER")
    }
    pub fn pem(&self) -> String {
        String::from_utf8(self.cert.to_pem().expect("certificate PEM")).expect("PEM is ASCII")
    }
    pub fn key_pem(&self) -> String {
        String::from_utf8(self.key.private_key_to_pem_pkcs8().expect("key PEM"))
            .expect("PEM is ASCII")
    }
    /// Lowercase hex SHA-256 of the DER, as the plugin config wants it.
    pub fn sha256_hex(&self) -> String {
        let digest = self.cert.digest(MessageDigest::sha256()).expect("digest");
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

pub fn generate_key(kind: KeyKind) -> PKey<Private> {
    match kind {
        KeyKind::Rsa(bits) => PKey::from_rsa(Rsa::generate(bits).expect("rsa key")).expect("pkey"),
        KeyKind::P256 => ec_key(Nid::X9_62_PRIME256V1),
        KeyKind::P384 => ec_key(Nid::SECP384R1),
        KeyKind::Ed25519 => PKey::generate_ed25519().expect("ed25519 key"),
    }
}

fn ec_key(nid: Nid) -> PKey<Private> {
    let group = EcGroup::from_curve_name(nid).expect("curve");
    PKey::from_ec_key(EcKey::generate(&group).expect("ec key")).expect("pkey")
}

/// A self-signed certificate (a root CA, or a self-signed leaf for negative tests).
pub fn self_signed(spec: &CertSpec) -> Issued {
    let key = generate_key(spec.key);
    build(spec, key, None)
}

/// A certificate for `spec` signed by `issuer`.
pub fn issue(spec: &CertSpec, issuer: &Issued) -> Issued {
    let key = generate_key(spec.key);
    build(spec, key, Some(issuer))
}

/// A certificate for `spec` with a given key (to forge a subject with another key,
/// or to reuse a key across certificates).
pub fn issue_with_key(spec: &CertSpec, key: PKey<Private>, issuer: Option<&Issued>) -> Issued {
    build(spec, key, issuer)
}

static SERIAL: AtomicU32 = AtomicU32::new(1);

fn unix_now() -> i64 {
    crate::unix_now() as i64
}

fn build(spec: &CertSpec, key: PKey<Private>, issuer: Option<&Issued>) -> Issued {
    let mut name = X509NameBuilder::new().expect("name");
    name.append_entry_by_nid(Nid::COMMONNAME, &spec.common_name)
        .expect("CN");
    if let Some(org) = &spec.organization {
        name.append_entry_by_nid(Nid::ORGANIZATIONNAME, org)
            .expect("O");
    }
    let name = name.build();

    let mut b = X509Builder::new().expect("builder");
    b.set_version(2).expect("v3");
    let serial =
        (u64::from(std::process::id()) << 32) | u64::from(SERIAL.fetch_add(1, Ordering::Relaxed));
    let serial = match &spec.serial_hex {
        Some(hex) => BigNum::from_hex_str(hex).expect("serial hex"),
        None => BigNum::from_dec_str(&serial.to_string()).expect("serial"),
    };
    b.set_serial_number(&Asn1Integer::from_bn(&serial).expect("serial"))
        .expect("serial");
    b.set_subject_name(&name).expect("subject");
    match issuer {
        Some(i) => b.set_issuer_name(i.cert.subject_name()).expect("issuer"),
        None => b.set_issuer_name(&name).expect("issuer"),
    }
    b.set_pubkey(&key).expect("pubkey");
    let now = unix_now();
    b.set_not_before(&Asn1Time::from_unix(now + spec.not_before_offset).expect("nbf"))
        .expect("nbf");
    b.set_not_after(&Asn1Time::from_unix(now + spec.not_after_offset).expect("naf"))
        .expect("naf");

    if spec.basic_constraints {
        let mut bc = BasicConstraints::new();
        bc.critical();
        if spec.is_ca {
            bc.ca();
            if let Some(len) = spec.path_len {
                bc.pathlen(len);
            }
        }
        b.append_extension(bc.build().expect("bc")).expect("bc");
    }
    // A `keyUsage` in `extra_extensions` replaces the default one.
    if !spec
        .extra_extensions
        .iter()
        .any(|(name, _)| name == "keyUsage")
    {
        let mut ku = KeyUsage::new();
        ku.critical();
        if spec.is_ca {
            ku.key_cert_sign().crl_sign();
        } else {
            ku.digital_signature();
            if matches!(spec.key, KeyKind::Rsa(_)) {
                ku.key_encipherment();
            }
        }
        b.append_extension(ku.build().expect("ku")).expect("ku");
    }
    if let Some(ekus) = &spec.eku {
        let mut eku = ExtendedKeyUsage::new();
        for usage in ekus {
            match *usage {
                "clientAuth" => eku.client_auth(),
                "serverAuth" => eku.server_auth(),
                "codeSigning" => eku.code_signing(),
                "emailProtection" => eku.email_protection(),
                other => eku.other(other),
            };
        }
        b.append_extension(eku.build().expect("eku")).expect("eku");
    }
    if !spec.uri_sans.is_empty() || !spec.dns_sans.is_empty() {
        let mut san = SubjectAlternativeName::new();
        for uri in &spec.uri_sans {
            san.uri(uri);
        }
        for dns in &spec.dns_sans {
            san.dns(dns);
        }
        let ctx = b.x509v3_context(issuer.map(|i| i.cert.as_ref()), None);
        let ext = san.build(&ctx).expect("san");
        b.append_extension(ext).expect("san");
    }
    for (ext_name, value) in &spec.extra_extensions {
        let ctx = b.x509v3_context(issuer.map(|i| i.cert.as_ref()), None);
        #[allow(deprecated)]
        let ext = openssl::x509::X509Extension::new(None, Some(&ctx), ext_name, value)
            .unwrap_or_else(|e| panic!("extension {ext_name}={value}: {e}"));
        b.append_extension(ext).expect("extension");
    }
    if spec.key_identifiers {
        let ctx = b.x509v3_context(issuer.map(|i| i.cert.as_ref()), None);
        #[allow(deprecated)]
        let ski =
            openssl::x509::X509Extension::new(None, Some(&ctx), "subjectKeyIdentifier", "hash")
                .expect("ski");
        b.append_extension(ski).expect("ski");
    }
    if let Some(i) = issuer.filter(|_| spec.key_identifiers) {
        let ctx = b.x509v3_context(Some(i.cert.as_ref()), None);
        #[allow(deprecated)]
        if let Ok(aki) =
            openssl::x509::X509Extension::new(None, Some(&ctx), "authorityKeyIdentifier", "keyid")
        {
            b.append_extension(aki).expect("aki");
        }
    }

    let signing_key = issuer.map(|i| &i.key).unwrap_or(&key);
    let digest = if signing_key.id() == openssl::pkey::Id::ED25519 {
        MessageDigest::null()
    } else {
        match spec.digest {
            SigDigest::Sha1 => MessageDigest::sha1(),
            SigDigest::Sha256 => MessageDigest::sha256(),
            SigDigest::Sha384 => MessageDigest::sha384(),
        }
    };
    b.sign(signing_key, digest).expect("sign");
    Issued {
        cert: b.build(),
        key,
    }
}

/// PEM of several certificates, concatenated in order.
pub fn pem_bundle(certs: &[&Issued]) -> String {
    certs.iter().map(|c| c.pem()).collect()
}

#[cfg(test)]
mod self_tests {
    use super::*;

    #[test]
    fn issues_a_chain_openssl_verifies() {
        let root = self_signed(&CertSpec::ca("Root"));
        let inter = issue(&CertSpec::ca("Intermediate").key(KeyKind::Rsa(2048)), &root);
        let leaf = issue(&CertSpec::client("client-1"), &inter);
        assert!(leaf.cert.verify(&inter.key).unwrap());
        assert!(inter.cert.verify(&root.key).unwrap());
        assert_eq!(leaf.sha256_hex().len(), 64);
    }
}

//! The pool's certificates as the inputs refer to them: by index (modulo
//! the pool's size), with their fingerprints and names.

use onerecord_tls_policy::fingerprint::Fingerprint;
use onerecord_tls_policy::trust::rfc4514;
use x509_parser::extensions::GeneralName;

/// The pool's certificates with the names pieces are taken from.
pub struct Certs<'a> {
    pub der: Vec<&'a [u8]>,
}

impl Certs<'_> {
    pub fn get(&self, i: u8) -> &[u8] {
        match self.der.len() {
            0 => &[],
            n => self.der[usize::from(i) % n],
        }
    }

    pub fn sha256(&self, i: u8) -> String {
        Fingerprint::of_der(self.get(i)).to_hex()
    }

    /// Subject (RFC 4514), URI SANs, DNS SANs, organisations.
    pub fn names(&self, i: u8) -> (String, Vec<String>, Vec<String>, Vec<String>) {
        let mut names = (String::new(), Vec::new(), Vec::new(), Vec::new());
        let Ok((_, cert)) = x509_parser::parse_x509_certificate(self.get(i)) else {
            return names;
        };
        names.0 = rfc4514(cert.subject());
        if let Ok(Some(san)) = cert.subject_alternative_name() {
            for name in &san.value.general_names {
                match name {
                    GeneralName::URI(u) => names.1.push(u.to_string()),
                    GeneralName::DNSName(d) => names.2.push(d.to_string()),
                    _ => {}
                }
            }
        }
        names.3 = cert
            .subject()
            .iter_organization()
            .filter_map(|o| o.as_str().ok().map(str::to_string))
            .collect();
        names
    }
}

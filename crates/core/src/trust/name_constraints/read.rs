//! The names a certificate carries and the constraints a CA imposes, read
//! once when the certificate is parsed, in the forms matching compares.

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, GeneralSubtree, ParsedExtension};
use x509_parser::oid_registry::{OID_PKCS9_EMAIL_ADDRESS, OID_X509_EXT_SUBJECT_ALT_NAME};
use x509_parser::x509::X509Name;

/// One relative distinguished name: (attribute type, compared value) pairs, sorted.
pub(crate) type Rdn = Vec<(String, Vec<u8>)>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Subtree {
    Dns(String),
    /// Address and mask, both 4 or both 16 octets; anything else is kept
    /// as `Malformed` so that it fails closed.
    Ip(Vec<u8>, Vec<u8>),
    Email(String),
    /// The host part a URI must be in: `host` or `.domain`.
    Uri(String),
    Directory(Vec<Rdn>),
    /// A form (its GeneralName tag) this checker does not evaluate.
    Other(u8),
    Malformed(u8),
}

/// A CA's nameConstraints.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Constraints {
    /// `None` when the extension has no permittedSubtrees.
    pub permitted: Option<Vec<Subtree>>,
    pub excluded: Vec<Subtree>,
}

/// Every name of a certificate a constraint can apply to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Names {
    /// Lowercased.
    pub dns: Vec<String>,
    pub ips: Vec<Vec<u8>>,
    /// rfc822Name SANs and the subject's emailAddress attributes.
    pub emails: Vec<String>,
    pub uris: Vec<String>,
    /// The subject (when not empty) and directoryName SANs.
    pub directories: Vec<Vec<Rdn>>,
    /// Tags of the other forms present (otherName, x400Address, …).
    pub others: Vec<u8>,
    /// A subjectAltName, a name in it or an emailAddress could not be read:
    /// no constraint can be said to hold.
    pub unreadable: bool,
}

impl Names {
    pub(crate) fn count(&self) -> usize {
        self.dns.len()
            + self.ips.len()
            + self.emails.len()
            + self.uris.len()
            + self.directories.len()
            + self.others.len()
    }

    pub(crate) fn of(cert: &X509Certificate<'_>) -> Self {
        let mut names = Names::default();
        if cert.subject().iter_rdn().next().is_some() {
            names.directories.push(rdns(cert.subject()));
        }
        for email in cert.subject().iter_by_oid(&OID_PKCS9_EMAIL_ADDRESS) {
            match email.as_str() {
                Ok(email) => names.emails.push(email.to_string()),
                Err(_) => names.unreadable = true,
            }
        }
        for ext in cert.extensions() {
            match ext.parsed_extension() {
                ParsedExtension::SubjectAlternativeName(san) => {
                    for name in &san.general_names {
                        names.add(name);
                    }
                }
                ParsedExtension::ParseError { .. } if ext.oid == OID_X509_EXT_SUBJECT_ALT_NAME => {
                    names.unreadable = true;
                }
                _ => {}
            }
        }
        names
    }

    fn add(&mut self, name: &GeneralName<'_>) {
        match name {
            GeneralName::DNSName(d) => self.dns.push(d.to_ascii_lowercase()),
            GeneralName::IPAddress(ip) => self.ips.push(ip.to_vec()),
            GeneralName::RFC822Name(e) => self.emails.push((*e).to_string()),
            GeneralName::URI(u) => self.uris.push((*u).to_string()),
            GeneralName::DirectoryName(dn) => self.directories.push(rdns(dn)),
            GeneralName::Invalid(..) => self.unreadable = true,
            other => self.others.push(tag(other)),
        }
    }
}

impl Constraints {
    /// The nameConstraints of `cert`, when it has the extension.
    pub(crate) fn of(cert: &X509Certificate<'_>) -> Option<Self> {
        cert.extensions()
            .iter()
            .find_map(|ext| match ext.parsed_extension() {
                ParsedExtension::NameConstraints(nc) => Some(Constraints {
                    permitted: nc.permitted_subtrees.as_ref().map(|t| subtrees(t)),
                    excluded: nc
                        .excluded_subtrees
                        .as_ref()
                        .map(|t| subtrees(t))
                        .unwrap_or_default(),
                }),
                _ => None,
            })
    }
}

fn subtrees(trees: &[GeneralSubtree<'_>]) -> Vec<Subtree> {
    trees.iter().map(|t| subtree(&t.base)).collect()
}

fn subtree(base: &GeneralName<'_>) -> Subtree {
    match base {
        GeneralName::DNSName(d) => Subtree::Dns(d.to_ascii_lowercase()),
        GeneralName::IPAddress(bytes) if bytes.len() == 8 || bytes.len() == 32 => {
            let (address, mask) = bytes.split_at(bytes.len() / 2);
            Subtree::Ip(address.to_vec(), mask.to_vec())
        }
        GeneralName::IPAddress(_) => Subtree::Malformed(7),
        GeneralName::RFC822Name(e) => Subtree::Email((*e).to_string()),
        GeneralName::URI(u) => Subtree::Uri(u.to_ascii_lowercase()),
        GeneralName::DirectoryName(dn) => Subtree::Directory(rdns(dn)),
        GeneralName::Invalid(t, _) => Subtree::Malformed(t.0.try_into().unwrap_or(u8::MAX)),
        other => Subtree::Other(tag(other)),
    }
}

/// The GeneralName tag of a form.
pub(crate) fn tag(name: &GeneralName<'_>) -> u8 {
    match name {
        GeneralName::OtherName(..) => 0,
        GeneralName::RFC822Name(_) => 1,
        GeneralName::DNSName(_) => 2,
        GeneralName::X400Address(_) => 3,
        GeneralName::DirectoryName(_) => 4,
        GeneralName::EDIPartyName(_) => 5,
        GeneralName::URI(_) => 6,
        GeneralName::IPAddress(_) => 7,
        GeneralName::RegisteredID(_) => 8,
        GeneralName::Invalid(t, _) => t.0.try_into().unwrap_or(u8::MAX),
    }
}

/// A name as RDNs whose values compare as RFC 5280 7.1 asks of the string
/// types CAs use: surrounding spaces removed, inner runs of spaces as one,
/// ASCII case folded. Other values compare byte for byte.
fn rdns(name: &X509Name<'_>) -> Vec<Rdn> {
    name.iter_rdn()
        .map(|rdn| {
            let mut attributes: Rdn = rdn
                .iter()
                .map(|atv| {
                    let value = match atv.as_str() {
                        Ok(text) => {
                            let folded = text.split_whitespace().collect::<Vec<_>>().join(" ");
                            let mut v = vec![b's'];
                            v.extend(folded.to_ascii_lowercase().into_bytes());
                            v
                        }
                        Err(_) => {
                            let mut v = vec![b'r'];
                            v.extend_from_slice(atv.as_slice());
                            v
                        }
                    };
                    (atv.attr_type().to_id_string(), value)
                })
                .collect();
            attributes.sort();
            attributes
        })
        .collect()
}

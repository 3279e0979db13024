//! The RFC 5280 certificate profile (and the CA/Browser Forum rules a client
//! certificate can be held to), read from each certificate once: what webpki
//! lets through. Each defect says on which role it counts and whether the
//! `compatible` profile tolerates it because real client PKIs issue it.

mod names;

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::oid_registry::{
    OID_PKCS1_RSAENCRYPTION, OID_PKIX_AUTHORITY_INFO_ACCESS, OID_X509_EXT_AUTHORITY_KEY_IDENTIFIER,
    OID_X509_EXT_BASIC_CONSTRAINTS, OID_X509_EXT_CERTIFICATE_POLICIES,
    OID_X509_EXT_EXTENDED_KEY_USAGE, OID_X509_EXT_INHIBIT_ANY_POLICY, OID_X509_EXT_KEY_USAGE,
    OID_X509_EXT_NAME_CONSTRAINTS, OID_X509_EXT_POLICY_CONSTRAINTS, OID_X509_EXT_POLICY_MAPPINGS,
    OID_X509_EXT_SUBJECT_ALT_NAME, OID_X509_EXT_SUBJECT_KEY_IDENTIFIER,
};
use x509_parser::public_key::PublicKey;

/// Where a certificate sits on a candidate path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Leaf,
    Intermediate,
    Anchor,
}

/// One departure from the profile, named as the log and `explain` show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Defect {
    SerialNotPositive,
    SerialTooLong,
    AuthorityKeyIdMissing,
    AuthorityKeyIdCritical,
    /// A self-signed certificate whose authorityKeyIdentifier is not just its
    /// own subjectKeyIdentifier.
    SelfSignedAuthorityKeyIdMalformed,
    SubjectKeyIdMissing,
    SubjectKeyIdCritical,
    BasicConstraintsNotCritical,
    NameConstraintsNotCritical,
    NameConstraintsInLeaf,
    NameConstraintsEmpty,
    NameConstraintsDnsLeadingPeriod,
    PolicyConstraintsNotCritical,
    SubjectAltNameNotCriticalWithEmptySubject,
    SubjectAltNameCriticalWithSubject,
    DnsNameMalformed,
    DnsNameWildcard,
    CommonNameNotInSubjectAltName,
    CaSubjectEmpty,
    UnknownCriticalExtension,
    KeyCertSignWithoutCa,
    ExtendedKeyUsageAny,
    ExtendedKeyUsageCritical,
    ExtendedKeyUsageMissing,
    ExtendedKeyUsageOnAnchor,
    AuthorityInfoAccessMalformed,
    RsaModulusNotWholeOctets,
}

impl Defect {
    /// The detail logged and shown by `explain`.
    pub fn code(self) -> &'static str {
        use Defect as D;
        match self {
            D::SerialNotPositive => "serial_number_not_positive",
            D::SerialTooLong => "serial_number_over_20_octets",
            D::AuthorityKeyIdMissing => "authority_key_identifier_missing",
            D::AuthorityKeyIdCritical => "authority_key_identifier_critical",
            D::SelfSignedAuthorityKeyIdMalformed => {
                "self_signed_authority_key_identifier_malformed"
            }
            D::SubjectKeyIdMissing => "subject_key_identifier_missing",
            D::SubjectKeyIdCritical => "subject_key_identifier_critical",
            D::BasicConstraintsNotCritical => "basic_constraints_not_critical",
            D::NameConstraintsNotCritical => "name_constraints_not_critical",
            D::NameConstraintsInLeaf => "name_constraints_in_end_entity",
            D::NameConstraintsEmpty => "name_constraints_empty",
            D::NameConstraintsDnsLeadingPeriod => "name_constraints_dns_leading_period",
            D::PolicyConstraintsNotCritical => "policy_constraints_not_critical",
            D::SubjectAltNameNotCriticalWithEmptySubject => {
                "subject_alt_name_not_critical_with_empty_subject"
            }
            D::SubjectAltNameCriticalWithSubject => "subject_alt_name_critical_with_subject",
            D::DnsNameMalformed => "dns_name_malformed",
            D::DnsNameWildcard => "dns_name_wildcard",
            D::CommonNameNotInSubjectAltName => "common_name_not_in_subject_alt_name",
            D::CaSubjectEmpty => "ca_subject_empty",
            D::UnknownCriticalExtension => "unknown_critical_extension",
            D::KeyCertSignWithoutCa => "key_cert_sign_without_ca",
            D::ExtendedKeyUsageAny => "extended_key_usage_any",
            D::ExtendedKeyUsageCritical => "extended_key_usage_critical",
            D::ExtendedKeyUsageMissing => "extended_key_usage_missing",
            D::ExtendedKeyUsageOnAnchor => "extended_key_usage_on_anchor",
            D::AuthorityInfoAccessMalformed => "authority_info_access_malformed",
            D::RsaModulusNotWholeOctets => "rsa_modulus_not_whole_octets",
        }
    }

    /// Whether `compatible` lets it pass: markings and identifiers that RFC
    /// 5280 requires of CAs but that deployed private CAs get wrong without
    /// any effect on what the certificate proves.
    fn tolerated_when_compatible(self) -> bool {
        use Defect as D;
        !matches!(
            self,
            D::NameConstraintsInLeaf
                | D::NameConstraintsEmpty
                | D::CaSubjectEmpty
                | D::UnknownCriticalExtension
                | D::KeyCertSignWithoutCa
                | D::ExtendedKeyUsageAny
        )
    }

    /// Whether it counts for a certificate in `role`.
    fn counts_as(self, role: Role) -> bool {
        use Defect as D;
        match self {
            // webpki refuses these itself below the anchor.
            D::UnknownCriticalExtension => role == Role::Anchor,
            D::NameConstraintsInLeaf
            | D::SubjectAltNameNotCriticalWithEmptySubject
            | D::SubjectAltNameCriticalWithSubject
            | D::DnsNameMalformed
            | D::DnsNameWildcard
            | D::CommonNameNotInSubjectAltName
            | D::KeyCertSignWithoutCa
            | D::ExtendedKeyUsageAny
            | D::ExtendedKeyUsageCritical
            | D::ExtendedKeyUsageMissing => role == Role::Leaf,
            // A self-issued intermediate names its issuer's key, not its own.
            D::ExtendedKeyUsageOnAnchor | D::SelfSignedAuthorityKeyIdMalformed => {
                role == Role::Anchor
            }
            D::SubjectKeyIdMissing | D::CaSubjectEmpty | D::BasicConstraintsNotCritical => {
                role != Role::Leaf
            }
            _ => true,
        }
    }
}

/// The defects of one certificate, as read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Defects(Vec<Defect>);

impl Defects {
    /// The first defect that counts for `role` under `strict` (or not).
    pub(crate) fn first(&self, role: Role, strict: bool) -> Option<Defect> {
        self.0
            .iter()
            .copied()
            .find(|d| d.counts_as(role) && (strict || !d.tolerated_when_compatible()))
    }

    pub(crate) fn of(cert: &X509Certificate<'_>) -> Self {
        let mut found = Vec::new();
        let mut add = |d: Defect| {
            if !found.contains(&d) {
                found.push(d);
            }
        };
        serial(cert.raw_serial(), &mut add);
        let self_issued = cert.issuer().as_raw() == cert.subject().as_raw();
        let subject_empty = cert.subject().iter_rdn().next().is_none();
        let is_ca = cert
            .basic_constraints()
            .ok()
            .flatten()
            .is_some_and(|bc| bc.value.ca);
        let (mut aki, mut ski, mut eku, mut san) = (None, None, None, None);
        for ext in cert.extensions() {
            let parsed = ext.parsed_extension();
            if ext.oid == OID_PKIX_AUTHORITY_INFO_ACCESS
                && matches!(parsed, ParsedExtension::ParseError { .. })
            {
                add(Defect::AuthorityInfoAccessMalformed);
            }
            if ext.critical && !known_critical(&ext.oid) {
                add(Defect::UnknownCriticalExtension);
            }
            match parsed {
                ParsedExtension::AuthorityKeyIdentifier(a) => {
                    if ext.critical {
                        add(Defect::AuthorityKeyIdCritical);
                    }
                    aki = Some(a);
                }
                ParsedExtension::SubjectKeyIdentifier(s) => {
                    if ext.critical {
                        add(Defect::SubjectKeyIdCritical);
                    }
                    ski = Some(s);
                }
                ParsedExtension::BasicConstraints(bc) if bc.ca && !ext.critical => {
                    add(Defect::BasicConstraintsNotCritical);
                }
                ParsedExtension::NameConstraints(nc) => {
                    if !ext.critical {
                        add(Defect::NameConstraintsNotCritical);
                    }
                    if !is_ca {
                        add(Defect::NameConstraintsInLeaf);
                    }
                    let count = |t: &Option<Vec<_>>| t.as_ref().map_or(0, Vec::len);
                    if count(&nc.permitted_subtrees) + count(&nc.excluded_subtrees) == 0 {
                        add(Defect::NameConstraintsEmpty);
                    }
                    let subtrees = nc.permitted_subtrees.iter().chain(&nc.excluded_subtrees);
                    if subtrees
                        .flatten()
                        .any(|t| matches!(t.base, GeneralName::DNSName(d) if d.starts_with('.')))
                    {
                        add(Defect::NameConstraintsDnsLeadingPeriod);
                    }
                }
                ParsedExtension::PolicyConstraints(_) if !ext.critical => {
                    add(Defect::PolicyConstraintsNotCritical);
                }
                ParsedExtension::KeyUsage(ku) if ku.key_cert_sign() && !is_ca => {
                    add(Defect::KeyCertSignWithoutCa);
                }
                ParsedExtension::ExtendedKeyUsage(e) => {
                    if ext.critical {
                        add(Defect::ExtendedKeyUsageCritical);
                    }
                    eku = Some(e);
                }
                ParsedExtension::SubjectAlternativeName(s) => {
                    if subject_empty && !ext.critical {
                        add(Defect::SubjectAltNameNotCriticalWithEmptySubject);
                    }
                    if !subject_empty && ext.critical {
                        add(Defect::SubjectAltNameCriticalWithSubject);
                    }
                    san = Some(s);
                }
                _ => {}
            }
        }
        match (&aki, self_issued) {
            (None, false) => add(Defect::AuthorityKeyIdMissing),
            (Some(a), true) => {
                let own = ski.as_ref().map(|s| s.0);
                if a.authority_cert_issuer.is_some()
                    || a.authority_cert_serial.is_some()
                    || a.key_identifier.as_ref().map(|k| k.0) != own
                {
                    add(Defect::SelfSignedAuthorityKeyIdMalformed);
                }
            }
            _ => {}
        }
        if ski.is_none() {
            add(Defect::SubjectKeyIdMissing);
        }
        if is_ca && subject_empty {
            add(Defect::CaSubjectEmpty);
        }
        match &eku {
            None => add(Defect::ExtendedKeyUsageMissing),
            Some(e) => {
                if e.any {
                    add(Defect::ExtendedKeyUsageAny);
                }
                // A defect only on an anchor, where any EKU is one.
                add(Defect::ExtendedKeyUsageOnAnchor);
            }
        }
        let names = san.map(|s| s.general_names.as_slice()).unwrap_or_default();
        names::defects(cert, names, &mut add);
        let rsa = cert.public_key().algorithm.algorithm == OID_PKCS1_RSAENCRYPTION;
        if let (true, Ok(PublicKey::RSA(rsa))) = (rsa, cert.public_key().parsed()) {
            // The modulus' first significant octet has its top bit set.
            let top = rsa.modulus.iter().find(|b| **b != 0).copied().unwrap_or(0);
            if top < 0x80 {
                add(Defect::RsaModulusNotWholeOctets);
            }
        }
        Defects(found)
    }
}

/// Whether an extension's meaning is known (webpki's list and the policy
/// ones): any other marked critical makes a certificate unusable.
pub(crate) fn known_critical(oid: &x509_parser::oid_registry::Oid<'_>) -> bool {
    KNOWN_CRITICAL.contains(oid)
}

const KNOWN_CRITICAL: &[x509_parser::oid_registry::Oid<'static>] = &[
    OID_X509_EXT_BASIC_CONSTRAINTS,
    OID_X509_EXT_KEY_USAGE,
    OID_X509_EXT_EXTENDED_KEY_USAGE,
    OID_X509_EXT_SUBJECT_ALT_NAME,
    OID_X509_EXT_NAME_CONSTRAINTS,
    OID_X509_EXT_POLICY_CONSTRAINTS,
    OID_X509_EXT_CERTIFICATE_POLICIES,
    OID_X509_EXT_POLICY_MAPPINGS,
    OID_X509_EXT_INHIBIT_ANY_POLICY,
    OID_X509_EXT_AUTHORITY_KEY_IDENTIFIER,
    OID_X509_EXT_SUBJECT_KEY_IDENTIFIER,
];

/// RFC 5280 4.1.2.2: a positive INTEGER of at most 20 octets.
fn serial(raw: &[u8], add: &mut impl FnMut(Defect)) {
    let negative = raw.first().is_some_and(|b| b & 0x80 != 0);
    if negative || raw.iter().all(|b| *b == 0) {
        add(Defect::SerialNotPositive);
    }
    if raw.len() > 20 {
        add(Defect::SerialTooLong);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_numbers_must_be_positive_and_short() {
        let mut found = Vec::new();
        for raw in [
            &[0x00][..],
            &[0x80, 0x01],
            &[0x01; 21],
            &[0x00, 0x80],
            &[0x01; 20],
        ] {
            serial(raw, &mut |d| found.push((raw.len(), d)));
        }
        assert_eq!(
            found,
            [
                (1, Defect::SerialNotPositive),
                (2, Defect::SerialNotPositive),
                (21, Defect::SerialTooLong),
            ]
        );
    }

    #[test]
    fn compatible_keeps_the_checks_that_matter_for_trust() {
        assert_eq!(
            Defects(vec![Defect::SerialTooLong]).first(Role::Leaf, false),
            None
        );
        assert_eq!(
            Defects(vec![Defect::SerialTooLong, Defect::KeyCertSignWithoutCa])
                .first(Role::Leaf, false),
            Some(Defect::KeyCertSignWithoutCa)
        );
        // A leaf's defect does not count on an anchor, and the other way round.
        let leaf_only = Defects(vec![Defect::ExtendedKeyUsageMissing]);
        assert_eq!(leaf_only.first(Role::Anchor, true), None);
        let anchor_only = Defects(vec![Defect::UnknownCriticalExtension]);
        assert_eq!(anchor_only.first(Role::Leaf, true), None);
        assert_eq!(
            anchor_only.first(Role::Anchor, false),
            Some(Defect::UnknownCriticalExtension)
        );
    }
}

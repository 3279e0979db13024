//! The extensions of a CRL and of its entries: the ones understood, and
//! the rule that any other critical one makes the whole CRL unusable.

use super::crl::Scope;
use x509_parser::der_parser::oid;
use x509_parser::extensions::{ParsedExtension, X509Extension};
use x509_parser::oid_registry::Oid;

/// CRL extensions understood (any other critical one makes the CRL unusable).
const AUTHORITY_KEY_IDENTIFIER: Oid<'static> = oid!(2.5.29.35);
const ISSUER_ALT_NAME: Oid<'static> = oid!(2.5.29.18);
const CRL_NUMBER: Oid<'static> = oid!(2.5.29.20);
const DELTA_CRL_INDICATOR: Oid<'static> = oid!(2.5.29.27);
const ISSUING_DISTRIBUTION_POINT: Oid<'static> = oid!(2.5.29.28);
/// Entry extensions understood.
const REASON_CODE: Oid<'static> = oid!(2.5.29.21);
const INVALIDITY_DATE: Oid<'static> = oid!(2.5.29.24);
const CERTIFICATE_ISSUER: Oid<'static> = oid!(2.5.29.29);

pub(super) type CrlFacts = (Option<Vec<u8>>, Scope);

pub(super) fn crl_extensions(extensions: &[X509Extension<'_>]) -> Result<CrlFacts, String> {
    let (mut number, mut scope) = (None, Scope::All);
    no_duplicates(extensions)?;
    for extension in extensions {
        let oid = &extension.oid;
        match extension.parsed_extension() {
            _ if *oid == CRL_NUMBER && extension.critical => {
                return Err("a critical CRL number (RFC 5280 makes it non-critical)".into());
            }
            ParsedExtension::CRLNumber(n) if *oid == CRL_NUMBER => {
                let mut bytes = n.to_bytes_be();
                while bytes.len() > 1 && bytes.first() == Some(&0) {
                    bytes.remove(0);
                }
                number = Some(bytes);
            }
            ParsedExtension::IssuingDistributionPoint(idp)
                if *oid == ISSUING_DISTRIBUTION_POINT =>
            {
                if idp.indirect_crl {
                    return Err("an indirect CRL (issuingDistributionPoint indirectCRL)".into());
                }
                if idp.only_some_reasons.is_some() {
                    return Err("a CRL for some reasons only (onlySomeReasons)".into());
                }
                if idp.only_contains_attribute_certs {
                    return Err("a CRL for attribute certificates".into());
                }
                scope = match (idp.only_contains_user_certs, idp.only_contains_ca_certs) {
                    (false, false) => Scope::All,
                    (true, false) => Scope::UserCertificates,
                    (false, true) => Scope::CaCertificates,
                    (true, true) => {
                        return Err(
                            "issuingDistributionPoint for user and CA certificates only".into()
                        );
                    }
                };
            }
            _ if *oid == DELTA_CRL_INDICATOR => {
                return Err("a delta CRL (deltaCRLIndicator)".into());
            }
            ParsedExtension::ParseError { .. } if extension.critical => {
                return Err(format!("critical extension {oid} cannot be read"));
            }
            _ if *oid == AUTHORITY_KEY_IDENTIFIER || *oid == ISSUER_ALT_NAME => {}
            _ if extension.critical => {
                return Err(format!("unknown critical extension {oid}"));
            }
            _ => {}
        }
    }
    Ok((number, scope))
}

/// An entry's reasonCode, or why the entry makes the CRL unusable.
pub(super) fn entry_extensions(extensions: &[X509Extension<'_>]) -> Result<Option<u8>, String> {
    no_duplicates(extensions)?;
    let mut reason = None;
    for extension in extensions {
        let oid = &extension.oid;
        match extension.parsed_extension() {
            ParsedExtension::ReasonCode(code) if *oid == REASON_CODE => reason = Some(code.0),
            _ if *oid == CERTIFICATE_ISSUER => {
                return Err("an entry for another issuer (certificateIssuer)".into());
            }
            ParsedExtension::ParseError { .. } if extension.critical => {
                return Err(format!("critical entry extension {oid} cannot be read"));
            }
            _ if *oid == REASON_CODE || *oid == INVALIDITY_DATE => {}
            _ if extension.critical => {
                return Err(format!("unknown critical entry extension {oid}"));
            }
            _ => {}
        }
    }
    Ok(reason)
}

fn no_duplicates(extensions: &[X509Extension<'_>]) -> Result<(), String> {
    for (i, extension) in extensions.iter().enumerate() {
        let later = extensions.get(i.saturating_add(1)..).unwrap_or_default();
        if later.iter().any(|other| other.oid == extension.oid) {
            return Err(format!("extension {} appears twice", extension.oid));
        }
    }
    Ok(())
}

//! The certificate webpki is shown: the presented one without the two
//! things webpki would judge otherwise than RFC 5280, which the profile
//! judges instead on the certificate as signed:
//! - the nameConstraints extension: webpki refuses every directoryName,
//!   rfc822Name and URI constraint (`name_constraints/`);
//! - the pathLenConstraint of BasicConstraints: webpki counts self-issued
//!   intermediates against it, RFC 5280 6.1.4 (l) does not (`path_len.rs`).
//!
//! Only the TBSCertificate changes; the signature stays the CA's over the
//! original. The signature memo maps the view's TBS back to the original's
//! (`Memo::alias`), so every signature webpki checks is still the real one
//! over the bytes the CA signed, and nothing here touches cryptography.

use crate::reason::Reason;
use crate::trust::memo::Memo;
use crate::trust::presented::Cert;
use crate::trust::signed::{Signed, encode_tlv, tlv};

const SEQUENCE: u8 = 0x30;
const EXTENSIONS: u8 = 0xa3;
const OID: u8 = 0x06;
const BOOLEAN: u8 = 0x01;
const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
/// 2.5.29.30, id-ce-nameConstraints.
const NAME_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x1e];
/// 2.5.29.19, id-ce-basicConstraints.
const BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];

/// A view of one certificate and the TBS it was made from.
pub(crate) struct View {
    pub der: Vec<u8>,
    pub tbs: Vec<u8>,
    pub original_tbs: Vec<u8>,
}

/// The candidates as webpki sees them, each with its view when it has one,
/// the views' TBS registered with the memo. A certificate whose own TBS is
/// some candidate's view is a copy of that CA with its constraints cut off
/// and the CA's signature pasted on: the memo would vouch for it, so it is
/// dropped (and such a leaf refused), whichever constraint was cut.
pub(crate) fn show<'a, 'c>(
    leaf: &[u8],
    intermediates: Vec<&'a Cert<'c>>,
    memo: &Memo,
) -> Result<(Vec<&'a Cert<'c>>, Vec<Option<View>>), Reason> {
    let views: Vec<Option<View>> = intermediates
        .iter()
        .map(|c| for_webpki(&c.der, c.facts.path_len))
        .collect();
    let view_tbs: Vec<Vec<u8>> = views.iter().flatten().map(|v| v.tbs.clone()).collect();
    if view_tbs.is_empty() {
        return Ok((intermediates, views));
    }
    let is_a_view = |der: &[u8]| {
        Signed::parse(der).is_some_and(|signed| view_tbs.iter().any(|t| t.as_slice() == signed.tbs))
    };
    if is_a_view(leaf) {
        return Err(Reason::CertificateInvalid);
    }
    let (kept, views): (Vec<_>, Vec<_>) = intermediates
        .into_iter()
        .zip(views)
        .filter(|(cert, _)| !is_a_view(&cert.der))
        .unzip();
    for view in views.iter().flatten() {
        memo.alias(view.tbs.clone(), view.original_tbs.clone());
    }
    Ok((kept, views))
}

/// The certificate without nameConstraints and without the
/// pathLenConstraint of its BasicConstraints; `None` when it has neither
/// (or cannot be walked, in which case webpki judges it as it is).
/// `path_len` is the constraint the profile read and will enforce: only
/// that one is removed, and only when webpki would have read it too (0 to
/// 255, in DER), so that a constraint nothing enforces is never hidden.
pub(crate) fn for_webpki(der: &[u8], path_len: Option<u32>) -> Option<View> {
    let (tag, certificate, rest) = tlv(der)?;
    if tag != SEQUENCE || !rest.is_empty() {
        return None;
    }
    let (tbs_tag, tbs_contents, after_tbs) = tlv(certificate)?;
    let original_tbs = certificate.get(..certificate.len().checked_sub(after_tbs.len())?)?;
    if tbs_tag != SEQUENCE {
        return None;
    }
    let mut fields = Vec::with_capacity(tbs_contents.len());
    let mut removed = false;
    let mut input = tbs_contents;
    while !input.is_empty() {
        let (tag, contents, rest) = tlv(input)?;
        let whole = input.get(..input.len().checked_sub(rest.len())?)?;
        if tag == EXTENSIONS {
            let (list_tag, list, trailing) = tlv(contents)?;
            if list_tag != SEQUENCE || !trailing.is_empty() {
                return None;
            }
            let kept = kept_extensions(list, path_len, &mut removed)?;
            fields.extend(encode_tlv(EXTENSIONS, &encode_tlv(SEQUENCE, &kept)));
        } else {
            fields.extend_from_slice(whole);
        }
        input = rest;
    }
    if !removed {
        return None;
    }
    let tbs = encode_tlv(SEQUENCE, &fields);
    let mut body = tbs.clone();
    body.extend_from_slice(after_tbs);
    Some(View {
        der: encode_tlv(SEQUENCE, &body),
        tbs,
        original_tbs: original_tbs.to_vec(),
    })
}

/// The extensions other than nameConstraints, re-encoded as they were, but
/// BasicConstraints without its pathLenConstraint.
fn kept_extensions(mut list: &[u8], path_len: Option<u32>, removed: &mut bool) -> Option<Vec<u8>> {
    let mut kept = Vec::with_capacity(list.len());
    while !list.is_empty() {
        let (tag, extension, rest) = tlv(list)?;
        let whole = list.get(..list.len().checked_sub(rest.len())?)?;
        let (oid_tag, oid, _) = tlv(extension)?;
        if tag != SEQUENCE || oid_tag != OID {
            return None;
        }
        if oid == NAME_CONSTRAINTS {
            *removed = true;
        } else if let Some(shorter) = (oid == BASIC_CONSTRAINTS)
            .then(|| without_path_len(extension, path_len))
            .flatten()
        {
            *removed = true;
            kept.extend(shorter);
        } else {
            kept.extend_from_slice(whole);
        }
        list = rest;
    }
    Some(kept)
}

/// A BasicConstraints extension (its SEQUENCE contents) re-encoded without
/// its pathLenConstraint; `None` when it has none, when that is not `read`,
/// or when the extension is not the
/// `{ OID, [critical], OCTET STRING { SEQUENCE { [cA], [pathLen] } } }`
/// RFC 5280 defines (then webpki sees it as it is).
fn without_path_len(extension: &[u8], read: Option<u32>) -> Option<Vec<u8>> {
    let (_, _, after_oid) = tlv(extension)?;
    let oid = extension.get(..extension.len().checked_sub(after_oid.len())?)?;
    let (mut tag, mut value, mut rest) = tlv(after_oid)?;
    let mut critical: &[u8] = &[];
    if tag == BOOLEAN {
        critical = after_oid.get(..after_oid.len().checked_sub(rest.len())?)?;
        (tag, value, rest) = tlv(rest)?;
    }
    if tag != OCTET_STRING || !rest.is_empty() {
        return None;
    }
    let (bc_tag, fields, trailing) = tlv(value)?;
    if bc_tag != SEQUENCE || !trailing.is_empty() {
        return None;
    }
    let mut kept: &[u8] = &[];
    let mut input = fields;
    if let Some((BOOLEAN, _, after_ca)) = tlv(input) {
        kept = input.get(..input.len().checked_sub(after_ca.len())?)?;
        input = after_ca;
    }
    let (INTEGER, value, []) = tlv(input)? else {
        return None;
    };
    if read.is_none() || small_integer(value).map(u32::from) != read {
        return None;
    }
    let mut contents = oid.to_vec();
    contents.extend_from_slice(critical);
    contents.extend(encode_tlv(OCTET_STRING, &encode_tlv(SEQUENCE, kept)));
    Some(encode_tlv(SEQUENCE, &contents))
}

/// A DER INTEGER's contents in 0..=255, as webpki reads a pathLenConstraint.
fn small_integer(contents: &[u8]) -> Option<u8> {
    match *contents {
        [value] if value < 0x80 => Some(value),
        [0, value] if value >= 0x80 => Some(value),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use onerecord_tls_policy_testkit::pki::{CertSpec, issue, self_signed};
    use x509_parser::prelude::{FromDer, X509Certificate};

    #[test]
    fn drops_only_name_constraints_and_keeps_the_signature() {
        let root = self_signed(&CertSpec::ca("Root CA"));
        let spec = CertSpec::ca("Sub CA")
            .extension("nameConstraints", "critical,permitted;URI:.example.com")
            .extension("1.3.6.1.4.1.99999.2", "DER:05:00");
        let inter = issue(&spec, &root);
        let der = inter.der();
        let view = for_webpki(&der, None).unwrap();
        let (_, original) = X509Certificate::from_der(&der).unwrap();
        let (rest, shown) = X509Certificate::from_der(&view.der).unwrap();
        assert!(rest.is_empty());
        assert_eq!(view.original_tbs, original.tbs_certificate.as_ref());
        assert_eq!(view.tbs, shown.tbs_certificate.as_ref());
        assert!(shown.name_constraints().unwrap().is_none());
        assert_eq!(shown.extensions().len() + 1, original.extensions().len());
        assert_eq!(shown.subject(), original.subject());
        assert_eq!(shown.signature_value, original.signature_value);
        // Without the extension there is nothing to show differently.
        assert!(for_webpki(&root.der(), None).is_none());
    }

    #[test]
    fn drops_only_the_path_length_and_keeps_the_signature() {
        let root = self_signed(&CertSpec::ca("Root CA"));
        let inter = issue(&CertSpec::ca("Sub CA").path_len(Some(0)), &root);
        let der = inter.der();
        // Only the constraint the profile read is removed.
        assert!(for_webpki(&der, None).is_none());
        assert!(for_webpki(&der, Some(1)).is_none());
        let view = for_webpki(&der, Some(0)).unwrap();
        let (_, original) = X509Certificate::from_der(&der).unwrap();
        let (rest, shown) = X509Certificate::from_der(&view.der).unwrap();
        assert!(rest.is_empty());
        let bc = |c: &X509Certificate<'_>| {
            let bc = c.basic_constraints().unwrap().unwrap();
            (bc.critical, bc.value.ca, bc.value.path_len_constraint)
        };
        assert_eq!(bc(&original), (true, true, Some(0)));
        assert_eq!(bc(&shown), (true, true, None));
        assert_eq!(shown.extensions().len(), original.extensions().len());
        assert_eq!(shown.signature_value, original.signature_value);
        assert_eq!(view.original_tbs, original.tbs_certificate.as_ref());

        // Both removed from one certificate, in one view.
        let both = issue(
            &CertSpec::ca("Both CA")
                .path_len(Some(3))
                .extension("nameConstraints", "critical,permitted;DNS:example.com"),
            &root,
        );
        let view = for_webpki(&both.der(), Some(3)).unwrap();
        let (_, shown) = X509Certificate::from_der(&view.der).unwrap();
        assert!(shown.name_constraints().unwrap().is_none());
        assert_eq!(bc(&shown), (true, true, None));
    }

    #[test]
    fn a_presented_copy_of_a_view_is_dropped_and_as_leaf_refused() {
        let root = self_signed(&CertSpec::ca("Root CA"));
        let upper = issue(&CertSpec::ca("Sub CA").path_len(Some(0)), &root);
        let plain = issue(&CertSpec::ca("Plain CA"), &root);
        let (upper_der, plain_der) = (upper.der(), plain.der());
        let stripped = for_webpki(&upper_der, Some(0)).unwrap().der;
        let certs = [&upper_der, &stripped, &plain_der].map(|d| Cert::parse(d).unwrap());
        let memo = Memo::new(8);
        let (kept, views) = show(&plain_der, certs.iter().collect(), &memo).unwrap();
        let kept: Vec<&[u8]> = kept.iter().map(|c| c.der.as_ref()).collect();
        assert_eq!(kept, [upper_der.as_slice(), plain_der.as_slice()]);
        assert_eq!(views.first().unwrap().as_ref().unwrap().der, stripped);
        assert!(views.get(1).unwrap().is_none());
        let as_leaf = show(&stripped, certs.iter().collect(), &Memo::new(8));
        assert_eq!(as_leaf.err(), Some(Reason::CertificateInvalid));
    }

    #[test]
    fn a_basic_constraints_without_path_length_is_kept_whole() {
        // OID, critical, OCTET STRING { SEQUENCE { TRUE } }
        let ca_only = hex::decode("0603551d130101ff040530030101ff").unwrap();
        assert_eq!(without_path_len(&ca_only, None), None);
        // Not critical, pathLen 2: re-encoded with the BOOLEAN kept.
        let with_len = hex::decode("0603551d13040830060101ff020102").unwrap();
        let shorter = without_path_len(&with_len, Some(2)).unwrap();
        assert_eq!(
            shorter,
            hex::decode("300c0603551d13040530030101ff").unwrap()
        );
        // Trailing bytes after the pathLen: not the RFC's shape, left alone.
        let trailing = hex::decode("0603551d13040a30080101ff0201020500").unwrap();
        assert_eq!(without_path_len(&trailing, Some(2)), None);
        // What webpki would not read as a path length stays for it to refuse:
        // negative, over 255, not minimally encoded.
        for integer in ["0201ff", "02020100", "02020005"] {
            let bc = format!("30{:02x}0101ff{integer}", 3 + integer.len() / 2);
            let extension = format!("0603551d1304{:02x}{bc}", bc.len() / 2);
            let extension = hex::decode(extension).unwrap();
            assert_eq!(without_path_len(&extension, Some(5)), None, "{integer}");
            assert_eq!(without_path_len(&extension, Some(256)), None, "{integer}");
        }
        assert_eq!(small_integer(&[0x00, 0xff]), Some(255));
        assert_eq!(small_integer(&[0x7f]), Some(127));
    }
}

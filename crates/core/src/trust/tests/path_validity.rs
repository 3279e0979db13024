//! Validity window of the path.

use super::*;

#[test]
fn path_validity_is_the_overlap_of_every_certificate_on_it() {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let period = |c: &Issued| {
        let der = c.der();
        let (_, x) = X509Certificate::from_der(&der).unwrap();
        let v = x.validity();
        (v.not_before.timestamp(), v.not_after.timestamp())
    };
    let day = 86_400;
    // The anchor ends first and the leaf starts last; then the intermediate ends first.
    let anchor_ends = pki(
        root_spec().validity(-7200, 10 * day),
        inter_spec().validity(-3600, 20 * day),
        leaf_spec().validity(-600, 30 * day),
    );
    let inter_ends = pki(
        root_spec().validity(-7200, 40 * day),
        inter_spec().validity(-3600, 5 * day),
        leaf_spec().validity(-600, 30 * day),
    );
    for (p, ends_first) in [
        (&anchor_ends, &anchor_ends.root),
        (&inter_ends, &inter_ends.inter),
    ] {
        let store = TrustStore::new(&trusting(&[&p.root]));
        let (client, validity) = store
            .verify_path(&chain(&p.leaf, &[&p.inter]), now())
            .unwrap();
        assert_eq!(
            client.path_sha256,
            path_of(&[&p.leaf, &p.inter, &p.root]).unwrap()
        );
        let (not_before, not_after) = (period(&p.leaf).0, period(ends_first).1);
        assert_eq!(
            validity,
            PathValidity {
                not_before,
                not_after
            }
        );
        assert!(validity.contains(not_before as u64) && validity.contains(not_after as u64));
        assert!(!validity.contains(not_before as u64 - 1));
        assert!(!validity.contains(not_after as u64 + 1));
    }
}

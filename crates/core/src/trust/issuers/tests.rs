use super::*;
use onerecord_tls_policy_testkit::pki::{
    CertSpec, Issued, KeyKind, generate_key, issue, issue_with_key, self_signed,
};

fn cert(issued: &Issued) -> Cert<'static> {
    Cert::parse(&issued.der()).unwrap().into_owned()
}

/// The candidates webpki would get, and the signatures computed.
fn pruned(leaf: &Issued, candidates: &[&Issued], anchor: &Issued) -> (Vec<usize>, usize) {
    let leaf = cert(leaf);
    let candidates: Vec<Cert<'static>> = candidates.iter().map(|c| cert(c)).collect();
    let anchor = Anchor::new(&cert(anchor)).unwrap();
    let memo = Memo::new(64);
    let refs: Vec<&Cert<'_>> = candidates.iter().collect();
    let kept = prune(&leaf, &refs, &[&anchor], &memo).unwrap();
    (kept, memo.cost(0).signatures_computed)
}

#[test]
fn names_that_do_not_lead_to_an_anchor_cost_nothing() {
    let root = self_signed(&CertSpec::ca("Root CA"));
    let other = self_signed(&CertSpec::ca("Other CA"));
    let other_inter = issue(&CertSpec::ca("Other Intermediate"), &other);
    let leaf = issue(&CertSpec::client("client-1"), &other_inter);
    assert_eq!(
        pruned(&leaf, &[&other_inter, &other, &root], &root),
        (vec![], 0)
    );
}

#[test]
fn a_bad_signature_is_no_issuer() {
    let root = self_signed(&CertSpec::ca("Root CA"));
    let spec = CertSpec::ca("Intermediate CA").without_key_identifiers();
    let inter = issue(&spec, &root);
    let forged = issue_with_key(&spec, generate_key(KeyKind::P256), Some(&root));
    let leaf = issue(
        &CertSpec::client("client-1").without_key_identifiers(),
        &inter,
    );
    // Both name the root and verify under it; only one signed the leaf.
    assert_eq!(pruned(&leaf, &[&forged, &inter], &root), (vec![1], 4));
}

#[test]
fn differing_key_identifiers_refuse_an_edge_unchecked() {
    let root = self_signed(&CertSpec::ca("Root CA"));
    let fake_root = self_signed(&CertSpec::ca("Root CA"));
    let forged = issue(&CertSpec::ca("Intermediate CA"), &fake_root);
    let leaf = issue(&CertSpec::client("client-1"), &forged);
    // forged → root is refused by its authorityKeyIdentifier without a
    // check; webpki still sees forged (the leaf names it) and reports
    // its bad signature under the root.
    assert_eq!(pruned(&leaf, &[&forged], &root), (vec![0], 0));

    let bare = CertSpec::ca("Intermediate CA").without_key_identifiers();
    let forged = issue(&bare, &fake_root);
    let leaf = issue(&CertSpec::client("client-1"), &forged);
    assert_eq!(pruned(&leaf, &[&forged], &root), (vec![0], 1));
}

#[test]
fn a_certificate_is_not_its_own_issuer() {
    // A renewed root with the same key, sent as an intermediate: it verifies
    // under the pinned one and under itself, but only the first is an edge.
    let key = generate_key(KeyKind::P256);
    let pinned = issue_with_key(&CertSpec::ca("Root CA"), key.clone(), None);
    let renewed = issue_with_key(&CertSpec::ca("Root CA"), key, None);
    let inter = issue(&CertSpec::ca("Intermediate CA"), &renewed);
    let leaf = issue(&CertSpec::client("client-1"), &inter);
    // inter → pinned, renewed → pinned, leaf → inter; inter → renewed is
    // the same key, message and signature as inter → pinned: remembered.
    assert_eq!(pruned(&leaf, &[&inter, &renewed], &pinned), (vec![0, 1], 3));
}

#[test]
fn copies_under_the_pinned_root_name_cost_one_check_under_the_root() {
    // Finding 1: a leaf of an unpinned CA, three self-issued copies of that
    // CA's subject with their own keys, and one certificate of that
    // subject issued under the pinned root's name by another key.
    let root = self_signed(&CertSpec::ca("Root CA"));
    let unpinned = self_signed(&CertSpec::ca("Envoy-trusted CA"));
    let leaf = issue(&CertSpec::client("client-1"), &unpinned);
    let copy = || self_signed(&CertSpec::ca("Envoy-trusted CA").without_key_identifiers());
    let (a, b, c) = (copy(), copy(), copy());
    let fake_root = self_signed(&CertSpec::ca("Root CA").without_key_identifiers());
    let bridge = issue(
        &CertSpec::ca("Envoy-trusted CA").without_key_identifiers(),
        &fake_root,
    );
    // bridge → root is the one signature computed, under the root's key;
    // no key of the client's choosing is ever used. Without key
    // identifiers, the copies still chain by name for webpki's reason.
    assert_eq!(
        pruned(&leaf, &[&a, &b, &c, &bridge], &root),
        (vec![0, 1, 2, 3], 1)
    );
    // With them (as the copies would have by default), the leaf's
    // authorityKeyIdentifier names none of them: nothing is left.
    let a = self_signed(&CertSpec::ca("Envoy-trusted CA"));
    let bridge = issue(&CertSpec::ca("Envoy-trusted CA"), &fake_root);
    assert_eq!(pruned(&leaf, &[&a, &bridge], &root), (vec![], 1));
}

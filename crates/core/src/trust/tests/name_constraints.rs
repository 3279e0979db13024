//! Name constraints of every form client PKIs use, on an intermediate or on
//! the pinned anchor: satisfied ones pass, violated ones are refused with
//! `name_constraint_violation` and the form in the detail.

use super::*;
use onerecord_tls_policy_testkit::name_constraints::{Subtrees, directory_name};

/// A client leaf whose only SANs are `san` (openssl's syntax).
fn leaf_with(san: &str) -> CertSpec {
    leaf_spec().uri_sans(&[]).extension("subjectAltName", san)
}

fn verified(root: CertSpec, inter: CertSpec, leaf: CertSpec) -> Verification {
    let p = pki(root, inter, leaf);
    TrustStore::new(&trusting(&[&p.root])).verify_counted(&chain(&p.leaf, &[&p.inter]), now())
}

fn assert_passes(v: &Verification) {
    assert!(v.result.is_ok(), "{:?} {:?}", v.result, v.detail);
}

fn assert_violates(v: &Verification, detail: &str) {
    assert_eq!(
        v.result.as_ref().err(),
        Some(&Reason::NameConstraintViolation)
    );
    assert_eq!(v.detail, Some(detail));
}

#[test]
fn uri_host_constraints() {
    let ca = || inter_spec().extension("nameConstraints", "critical,permitted;URI:.example.com");
    let inside = leaf_with("URI:https://1r.example.com/logistics-agents/acme");
    assert_passes(&verified(root_spec(), ca(), inside));
    let outside = leaf_with("URI:https://1r.example.org/logistics-agents/acme");
    assert_violates(&verified(root_spec(), ca(), outside), "uri_not_permitted");
    let no_host = leaf_with("URI:urn:example:acme");
    assert_violates(&verified(root_spec(), ca(), no_host), "uri_not_permitted");

    let excluding =
        inter_spec().extension("nameConstraints", "critical,excluded;URI:rogue.example.com");
    let rogue = leaf_with("URI:https://rogue.example.com/logistics-agents/acme");
    assert_violates(&verified(root_spec(), excluding, rogue), "uri_excluded");
}

#[test]
fn directory_name_constraints_on_the_subject() {
    // The test kit's subjects are CN=…, O=…: CN=client-1 begins the leaf's.
    let permitted = directory_name(Subtrees::Permitted, &[("CN", "client-1")]);
    let ca = || inter_spec().extension("nameConstraints", &permitted);
    assert_passes(&verified(root_spec(), ca(), leaf_spec()));
    let mut other = leaf_spec();
    other.common_name = "client-2".into();
    assert_violates(
        &verified(root_spec(), ca(), other),
        "directory_name_not_permitted",
    );

    // On the pinned anchor, which webpki would take on faith.
    let excluded = directory_name(Subtrees::Excluded, &[("CN", "client-1")]);
    let root = root_spec().extension("nameConstraints", &excluded);
    assert_violates(
        &verified(root, inter_spec(), leaf_spec()),
        "directory_name_excluded",
    );
}

#[test]
fn email_constraints() {
    let ca = || inter_spec().extension("nameConstraints", "critical,permitted;email:example.com");
    assert_passes(&verified(
        root_spec(),
        ca(),
        leaf_with("email:ops@example.com"),
    ));
    assert_violates(
        &verified(root_spec(), ca(), leaf_with("email:ops@example.org")),
        "email_not_permitted",
    );
}

#[test]
fn a_wildcard_san_is_within_a_dns_constraint_only_with_every_name_it_matches() {
    let ca =
        |subtrees: &str| inter_spec().extension("nameConstraints", &format!("critical,{subtrees}"));
    let wildcard = || leaf_with("DNS:*.example.com");
    assert_passes(&verified(
        root_spec(),
        ca("permitted;DNS:example.com"),
        wildcard(),
    ));
    // It also matches names outside a narrower permitted subtree.
    assert_violates(
        &verified(root_spec(), ca("permitted;DNS:foo.example.com"), wildcard()),
        "dns_name_not_permitted",
    );
    // It matches the excluded name.
    assert_violates(
        &verified(
            root_spec(),
            ca("permitted;DNS:example.com,excluded;DNS:bar.example.com"),
            wildcard(),
        ),
        "dns_name_excluded",
    );
}

#[test]
fn dns_and_ip_constraints() {
    let ca = || {
        inter_spec().extension(
            "nameConstraints",
            "critical,permitted;DNS:example.com,permitted;IP:10.0.0.0/255.0.0.0",
        )
    };
    assert_passes(&verified(
        root_spec(),
        ca(),
        leaf_with("DNS:a.example.com,IP:10.1.2.3"),
    ));
    assert_violates(
        &verified(
            root_spec(),
            ca(),
            leaf_with("DNS:a.example.com,IP:192.168.0.1"),
        ),
        "ip_address_not_permitted",
    );
}

#[test]
fn an_anchor_constrains_intermediates_except_self_issued_ones() {
    let root = || root_spec().extension("nameConstraints", "critical,permitted;DNS:example.com");
    let outside = || inter_spec().dns_sans(&["not-example.org"]);
    let v = verified(root(), outside(), leaf_with("DNS:a.example.com"));
    assert_violates(&v, "dns_name_not_permitted");
    // The same intermediate under the root's own name (a key rollover) is exempt.
    let mut self_issued = outside();
    self_issued.common_name = "Root CA".into();
    assert_passes(&verified(
        root(),
        self_issued,
        leaf_with("DNS:a.example.com"),
    ));
}

#[test]
fn many_names_against_many_subtrees_are_bounded() {
    let subtrees: Vec<String> = (0..80)
        .map(|i| format!("permitted;DNS:d{i}.example.com"))
        .collect();
    let ca = inter_spec().extension(
        "nameConstraints",
        &format!("critical,{}", subtrees.join(",")),
    );
    let names: Vec<String> = (0..80).map(|i| format!("DNS:d{i}.example.com")).collect();
    let v = verified(root_spec(), ca, leaf_with(&names.join(",")));
    assert_eq!(
        v.result.as_ref().err(),
        Some(&Reason::VerificationBudgetExceeded)
    );
    assert_eq!(v.detail, Some("name_constraint_comparisons"));
}

#[test]
fn a_constrained_ca_copied_without_its_constraints_does_not_verify() {
    use crate::trust::view::for_webpki;
    let root = self_signed(&root_spec());
    let ca = issue(
        &inter_spec().extension("nameConstraints", "critical,permitted;URI:.example.com"),
        &root,
    );
    let leaf = issue(
        &leaf_with("URI:https://1r.example.org/logistics-agents/x"),
        &ca,
    );
    // The CA's certificate with the extension cut out and its signature kept.
    let stripped = for_webpki(&ca.der(), None).unwrap().der;
    let settings = trusting(&[&root]);
    for others in [
        vec![stripped.clone(), ca.der()],
        vec![ca.der(), stripped.clone()],
    ] {
        let chain = PresentedChain {
            leaf: leaf.der(),
            others,
        };
        let v = TrustStore::new(&settings).verify_counted(&chain, now());
        assert_eq!(
            v.result.as_ref().err(),
            Some(&Reason::NameConstraintViolation)
        );
    }
    // Alone, the copy's signature is simply wrong.
    let alone = PresentedChain {
        leaf: leaf.der(),
        others: vec![stripped],
    };
    assert!(TrustStore::new(&settings).verify(&alone, now()).is_err());
}

#[test]
fn a_name_that_cannot_be_read_satisfies_no_constraint() {
    // A dNSName that is not ASCII: x509-parser cannot read it as a name.
    let unreadable = || leaf_with("DER:30:03:82:01:FF");
    let ca = inter_spec().extension("nameConstraints", "critical,excluded;DNS:evil.example");
    assert_violates(&verified(root_spec(), ca, unreadable()), "name_unreadable");
    // Unconstrained, it is still refused (the identity cannot be read).
    let v = verified(root_spec(), inter_spec(), unreadable());
    assert_eq!(v.result.as_ref().err(), Some(&Reason::CertificateInvalid));
}

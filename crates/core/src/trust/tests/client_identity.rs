//! The verified client's identity: subject, names, organizations.

use super::*;

#[test]
fn identity_fields_are_exact() {
    let root = self_signed(&root_spec());
    let inter = issue(&inter_spec(), &root);
    let leaf = issue(
        &leaf_spec()
            .uri_sans(&[
                "https://1r.example.com/logistics-agents/client-1",
                "urn:example:carrier:42",
            ])
            .dns_sans(&["Client-1.Example.COM", "api.example.com"]),
        &inter,
    );
    let client = verify(&trusting(&[&root]), &chain(&leaf, &[&leaf, &inter])).unwrap();
    assert_eq!(
        client,
        VerifiedClient {
            leaf_sha256: sha(&leaf),
            subject: "O=Example Airline,CN=client-1".to_string(),
            uri_sans: vec![
                "https://1r.example.com/logistics-agents/client-1".to_string(),
                "urn:example:carrier:42".to_string(),
            ],
            dns_sans: vec![
                "client-1.example.com".to_string(),
                "api.example.com".to_string()
            ],
            organizations: vec!["Example Airline".to_string()],
            anchor_sha256: sha(&root),
            path_sha256: vec![sha(&leaf), sha(&inter), sha(&root)],
            path_links: client.path_links.clone(),
            ocsp_queries: client.ocsp_queries.clone(),
            not_after: client.not_after,
        }
    );
    assert_eq!(
        client.path_links.len(),
        2,
        "leaf and intermediate, not the anchor"
    );
}

#[test]
fn identity_escapes_the_subject_and_keeps_organizations_verbatim() {
    let p = pki(
        root_spec(),
        inter_spec(),
        CertSpec::client("client+1")
            .organization(Some("Cargo, Inc."))
            .uri_sans(&[]),
    );
    let client = verify(&trusting(&[&p.root]), &chain(&p.leaf, &[&p.inter])).unwrap();
    assert_eq!(client.subject, "O=Cargo\\, Inc.,CN=client\\+1");
    assert_eq!(client.organizations, vec!["Cargo, Inc.".to_string()]);
    assert!(client.uri_sans.is_empty() && client.dns_sans.is_empty());

    let no_org = pki(root_spec(), inter_spec(), leaf_spec().organization(None));
    let client = verify(
        &trusting(&[&no_org.root]),
        &chain(&no_org.leaf, &[&no_org.inter]),
    )
    .unwrap();
    assert_eq!(client.subject, "CN=client-1");
    assert!(client.organizations.is_empty());
}

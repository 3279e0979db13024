//! Matching per form, on names and subtrees written out.

use super::matching::{dns_within, email_within, uri_host, uri_within};

#[test]
fn dns_names_within_a_subtree() {
    assert!(dns_within("example.com", "example.com"));
    assert!(dns_within("a.b.example.com", "example.com"));
    assert!(!dns_within("notexample.com", "example.com"));
    assert!(!dns_within("example.com", ".example.com"));
    assert!(dns_within("a.example.com", ".example.com"));
    assert!(dns_within("anything", ""));
}

#[test]
fn mailboxes_within_a_subtree() {
    assert!(email_within("ops@example.com", "ops@example.com"));
    assert!(!email_within("dev@example.com", "ops@example.com"));
    assert!(email_within("ops@EXAMPLE.com", "example.com"));
    assert!(!email_within("ops@sub.example.com", "example.com"));
    assert!(email_within("ops@sub.example.com", ".example.com"));
    assert!(email_within("*@example.com", "*@example.com"));
    assert!(!email_within("user@example.com", "*@example.com"));
    for invalid in ["no-at-sign", "@example.com", "a@b@example.com", "ops@"] {
        assert!(!email_within(invalid, "example.com"), "{invalid}");
    }
}

#[test]
fn uri_hosts_within_a_subtree() {
    assert_eq!(
        uri_host("https://1r.example.com/logistics-agents/x"),
        Some("1r.example.com")
    );
    assert_eq!(
        uri_host("https://user@host.example.com:8443/x"),
        Some("host.example.com")
    );
    assert_eq!(uri_host("urn:example:a"), None);
    assert_eq!(uri_host("https://[::1]/x"), None);
    assert_eq!(uri_host("https://10.0.0.1/x"), None);
    assert!(uri_within("https://1r.example.com/a", ".example.com"));
    assert!(uri_within("https://1r.example.com/a", "1r.example.com"));
    assert!(!uri_within("https://example.com/a", ".example.com"));
    assert!(!uri_within("https://1r.example.org/a", ".example.com"));
}

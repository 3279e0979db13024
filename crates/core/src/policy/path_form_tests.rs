//! Decisions on the path forms backends read differently: every reading
//! that meets a rule subjects the request to it.

use super::tests::{FP, facts as request, policy, with_peer};
use super::*;

fn tls(path: &str, method: &str) -> Facts {
    request(Some("TLSv1.3"), path, method)
}

/// `/access-delegations` requires mTLS, `/public` does not, the default
/// neither: the finding's configuration.
fn delegations() -> Policy {
    policy(&format!(
        r#"{{"trusted_ca_sha256":["{FP}"], "rules":[
            {{"name":"public","path_prefix":"/public","mtls":"optional"}},
            {{"name":"access-delegations","path_prefix":"/access-delegations","mtls":"required"}},
            {{"name":"admin","path_exact":"/admin","mtls":"required"}},
            {{"name":"read-reports","path_prefix":"/reports","methods":["GET"],"mtls":"required"}}]}}"#
    ))
}

fn assert_required(p: &Policy, path: &str, method: &str, rule: &str) {
    let d = p.decide(&tls(path, method));
    assert_eq!(
        d.deny_reason(),
        Some(Reason::ClientCertificateRequired),
        "{method} {path}"
    );
    assert_eq!(d.rule.as_deref(), Some(rule), "{method} {path}");
}

#[test]
fn every_form_of_the_protected_path_meets_its_rule() {
    let p = delegations();
    for path in [
        "/ACCESS-DELEGATIONS",
        "/Access-Delegations",
        "/%41ccess-delegations",
        "/;x/access-delegations",
        "/;/access-delegations",
        "/x/..;/access-delegations",
        "/.;/access-delegations",
        "/x%2F..%2Faccess-delegations",
        "/%2Faccess-delegations",
        "/x/..%5caccess-delegations",
        "/x/..\\access-delegations",
        "/x/..%3B/access-delegations",
        "/access-delegations;jsessionid=1/1",
        "/access-delegations/../logistics-objects/1",
        "/./access-delegations//..",
        "/%2e/access-delegations/x//%2e%2e",
    ] {
        assert_required(&p, path, "GET", "access-delegations");
    }
}

#[test]
fn exact_paths_and_head_requests_meet_their_rules() {
    let p = delegations();
    for path in ["/admin", "/admin/", "/Admin", "/admin;x", "/./admin//.."] {
        assert_required(&p, path, "GET", "admin");
    }
    assert_eq!(p.decide(&tls("/admin/x", "GET")).deny_reason(), None);
    assert_required(&p, "/reports/1", "HEAD", "read-reports");
    assert_required(&p, "/reports/1", "GET", "read-reports");
    assert_eq!(p.decide(&tls("/reports/1", "POST")).deny_reason(), None);
}

#[test]
fn a_case_sensitive_rule_compares_bytes() {
    let p = policy(&format!(
        r#"{{"trusted_ca_sha256":["{FP}"], "rules":[
            {{"name":"ad","path_prefix":"/access-delegations","mtls":"required","case_sensitive":true}}]}}"#
    ));
    assert_required(&p, "/access-delegations/1", "GET", "ad");
    assert_required(&p, "/x/..;/access-delegations/1", "GET", "ad");
    let d = p.decide(&tls("/ACCESS-DELEGATIONS/1", "GET"));
    assert_eq!((d.deny_reason(), d.rule), (None, None));
}

#[test]
fn the_strictest_selected_rule_decides_and_is_reported() {
    let p = delegations();
    // `public` matches the ordinary reading, `access-delegations` the one
    // without `;` parameters: the request is subject to both.
    assert_required(
        &p,
        "/public/..;/access-delegations",
        "GET",
        "access-delegations",
    );
    assert_required(
        &p,
        "/public/..%2Faccess-delegations",
        "GET",
        "access-delegations",
    );
    let d = p.decide(&tls("/public/a;b", "GET"));
    assert_eq!((d.deny_reason(), d.rule.as_deref()), (None, Some("public")));
}

#[test]
fn a_reading_no_rule_meets_contributes_the_default() {
    let p = policy(&format!(
        r#"{{"trusted_ca_sha256":["{FP}"], "mtls":"required", "rules":[
            {{"name":"public","path_prefix":"/public","mtls":"optional"}}]}}"#
    ));
    let d = p.decide(&tls("/public/..;/private", "GET"));
    assert_eq!(d.deny_reason(), Some(Reason::ClientCertificateRequired));
    assert_eq!(
        d.rule, None,
        "the default, not `public`, set the requirement"
    );
    let d = p.decide(&tls("/public/1", "GET"));
    assert_eq!((d.deny_reason(), d.rule.as_deref()), (None, Some("public")));
}

#[test]
fn ties_report_the_earliest_rule() {
    let p = policy(&format!(
        r#"{{"trusted_ca_sha256":["{FP}"], "rules":[
            {{"name":"first","path_prefix":"/b","mtls":"required"}},
            {{"name":"second","path_prefix":"/a","mtls":"required"}}]}}"#
    ));
    assert_required(&p, "/a/..;/b", "GET", "first");
    assert_required(&p, "/b/..;/a", "GET", "first");
}

#[test]
fn ordinary_paths_are_unaffected() {
    let p = delegations();
    for path in [
        "/logistics-objects/1",
        "/logistics-objects/%C3%A9",
        "/logistics-objects/1?next=/access-delegations",
        "/logistics-objects/access-delegations",
        "/public/access-delegations",
        "/",
    ] {
        let d = p.decide(&tls(path, "GET"));
        assert_eq!(d.deny_reason(), None, "{path}");
    }
    assert_eq!(
        p.decide(&tls("/public/1", "GET")).rule.as_deref(),
        Some("public")
    );
}

#[test]
fn a_path_that_cannot_be_read_is_denied_after_the_tls_checks() {
    let p = delegations();
    for path in [
        "",
        "/access-delegations/\u{fffd}",
        "/caf\u{e9}",
        "/a b",
        "/a\u{1}",
        "/a%zz",
        "/a%4",
        "a",
        "*",
        "https://example.com/access-delegations",
    ] {
        let d = p.decide(&tls(path, "GET"));
        assert_eq!(
            d.deny_reason(),
            Some(Reason::RequestPathInvalid),
            "{path:?}"
        );
        assert_eq!(d.rule, None);
        assert_eq!(
            p.decide(&request(None, path, "GET")).deny_reason(),
            Some(Reason::TlsRequired)
        );
        assert_eq!(
            p.decide(&request(Some("TLSv1.1"), path, "GET"))
                .deny_reason(),
            Some(Reason::TlsVersionTooLow)
        );
        let mut f = tls(path, "GET");
        f.request.route_mtls = Some("bogus".into());
        assert_eq!(p.decide(&f).deny_reason(), Some(Reason::RequestPathInvalid));
    }
}

#[test]
fn route_metadata_still_overrides_the_rules() {
    let p = delegations();
    let mut f = tls("/x/..;/access-delegations", "GET");
    f.request.route_mtls = Some("optional".into());
    assert_eq!(p.decide(&f).deny_reason(), None);
}

mod allow_lists {
    use super::*;
    use crate::policy::test_fixture::{Pki, pki};
    use crate::policy::tests::with_certificates::peer;

    fn verified_client(k: &Pki, path: &str) -> Facts {
        let mut f = with_peer(peer(&k.leaf, &[&k.leaf, &k.inter, &k.root]));
        f.request.path = path.into();
        f
    }

    /// The fixture's client is in organisation "Example Airline".
    fn lists(k: &Pki, global: &str) -> Policy {
        policy(&format!(
            r#"{{"trusted_ca_sha256":["{}"], {global} "rules":[
                {{"name":"airlines","path_prefix":"/airlines","allowed_clients":{{"subject_organization":["Example Airline"]}}}},
                {{"name":"forwarders","path_prefix":"/forwarders","allowed_clients":{{"subject_organization":["Example Forwarder"]}}}}]}}"#,
            k.root.sha256_hex()
        ))
    }

    #[test]
    fn a_client_must_pass_every_selected_allow_list() {
        let k = pki();
        let p = lists(&k, "");
        assert_eq!(
            p.decide(&verified_client(&k, "/airlines/1")).deny_reason(),
            None
        );
        assert_eq!(
            p.decide(&verified_client(&k, "/forwarders/1"))
                .deny_reason(),
            Some(Reason::ClientNotAllowed)
        );
        assert_eq!(
            p.decide(&verified_client(&k, "/airlines/..;/forwarders/1"))
                .deny_reason(),
            Some(Reason::ClientNotAllowed)
        );
    }

    #[test]
    fn a_reading_without_a_rule_brings_the_global_allow_list() {
        let k = pki();
        let p = lists(&k, r#""allowed_clients":{"dns_san":["someone.example"]},"#);
        assert_eq!(
            p.decide(&verified_client(&k, "/airlines/1")).deny_reason(),
            None
        );
        assert_eq!(
            p.decide(&verified_client(&k, "/airlines/..;/other"))
                .deny_reason(),
            Some(Reason::ClientNotAllowed)
        );
    }
}

#[test]
fn a_method_override_meets_the_rule_of_the_method_it_names() {
    let p = delegations();
    // A POST under /reports meets no rule; asking the backend for GET does.
    let mut facts = tls("/reports/1", "POST");
    assert_eq!(p.decide(&facts).deny_reason(), None);
    facts.request.method_overrides = vec!["get".to_string()];
    let d = p.decide(&facts);
    assert_eq!(d.deny_reason(), Some(Reason::ClientCertificateRequired));
    assert_eq!(d.rule.as_deref(), Some("read-reports"));
    // An override that names no protected method changes nothing.
    facts.request.method_overrides = vec!["PATCH".to_string()];
    assert_eq!(p.decide(&facts).deny_reason(), None);
}

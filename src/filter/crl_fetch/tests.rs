//! CRL fetching through the mock host: two VMs of one Envoy (one host, so
//! one shared data), one fetching, both applying.

use crate::effects::metrics::{
    CRL_SECONDS_UNTIL_NEXT_UPDATE, crl_fetch_counter_name, crl_gauge_name,
};
use crate::filter::mock::MockHost;
use crate::filter::{Plugin, configure};
use onerecord_tls_policy_testkit::crl::CrlSpec;
use onerecord_tls_policy_testkit::pki::{CertSpec, Issued, self_signed};

fn config(root: &Issued) -> String {
    format!(
        r#"{{"trusted_ca_sha256":["{}"],"ca_certificates_pem":{},"crl_sources":[{{"cluster":"crl_server","path":"/root.crl","authority":"crl.example","refresh_seconds":60}}]}}"#,
        root.sha256_hex(),
        serde_json::to_string(&root.pem()).unwrap()
    )
}

fn vm(host: &mut MockHost, root: &Issued) -> Plugin {
    configure(host, Ok(config(root).into_bytes())).expect("loads")
}

fn counted(host: &MockHost, result: &str) -> u64 {
    host.counter(&crl_fetch_counter_name(0, result)).unwrap()
}

#[test]
fn one_vm_fetches_and_every_vm_applies() {
    let root = self_signed(&CertSpec::ca("Fetched Root"));
    let mut host = MockHost {
        now: onerecord_tls_policy_testkit::unix_now(),
        ..MockHost::default()
    };
    let (mut a, mut b) = (vm(&mut host, &root), vm(&mut host, &root));
    assert!(a.needs_ticks());
    a.on_tick(&mut host);
    b.on_tick(&mut host);
    assert_eq!(host.http_calls.len(), 1, "one fetch per Envoy");
    let (token, cluster, headers) = host.http_calls[0].clone();
    assert_eq!(cluster, "crl_server");
    assert!(headers.contains(&(":path".into(), "/root.crl".into())));
    assert!(headers.contains(&(":authority".into(), "crl.example".into())));

    // Not the fetcher's token: nothing happens.
    assert!(!b.on_http_call_response(&mut host, token, Some(200), b""));
    let crl = CrlSpec::default().sign(&root);
    assert!(a.on_http_call_response(&mut host, token, Some(200), &crl.der));
    assert_eq!(counted(&host, "ok"), 1);
    assert!(a.state().revocation.from_source(0).is_some());
    assert!(b.state().revocation.from_source(0).is_none());
    b.on_tick(&mut host);
    assert_eq!(
        b.state().revocation.from_source(0),
        a.state().revocation.from_source(0),
        "the other VM applies the same CRL"
    );
    let until = host
        .gauge(&crl_gauge_name(CRL_SECONDS_UNTIL_NEXT_UPDATE, 0))
        .unwrap();
    assert!(until > 0);

    // Not due again before refresh_seconds.
    a.on_tick(&mut host);
    assert_eq!(host.http_calls.len(), 1);
}

#[test]
fn failures_keep_the_last_good_crl_are_counted_and_back_off() {
    let root = self_signed(&CertSpec::ca("Failing Root"));
    let mut host = MockHost {
        now: onerecord_tls_policy_testkit::unix_now(),
        ..MockHost::default()
    };
    let mut a = vm(&mut host, &root);
    a.on_tick(&mut host);
    let good = CrlSpec::default().number(Some(3)).sign(&root);
    assert!(a.on_http_call_response(&mut host, 1, Some(200), &good.der));
    let in_force = a.state().revocation.from_source(0).cloned();

    let other = self_signed(&CertSpec::ca("Failing Root"));
    let older = CrlSpec::default()
        .times(-3600, Some(86_400))
        .number(Some(2))
        .sign(&root);
    let cases: [(Option<u32>, Vec<u8>, &str); 4] = [
        (Some(404), Vec::new(), "http_error"),
        (None, Vec::new(), "http_error"),
        (Some(200), b"<html>".to_vec(), "parse_error"),
        (
            Some(200),
            CrlSpec::default()
                .number(Some(9))
                .sign_as(&root, &other)
                .der,
            "bad_signature",
        ),
    ];
    let mut backoffs = Vec::new();
    for (status, body, result) in
        cases
            .iter()
            .cloned()
            .chain([(Some(200), older.der.clone(), "older")])
    {
        // Due after refresh_seconds the first time, then after the backoff.
        let calls = host.http_calls.len();
        let start = host.now;
        while host.http_calls.len() == calls {
            host.now += 1;
            a.on_tick(&mut host);
        }
        backoffs.push(host.now - start);
        let token = host.http_calls.last().unwrap().0;
        let before = counted(&host, result);
        assert!(a.on_http_call_response(&mut host, token, status, &body));
        assert_eq!(counted(&host, result), before + 1, "{result}");
        assert_eq!(
            a.state().revocation.from_source(0).cloned(),
            in_force,
            "{result}"
        );
    }
    assert_eq!(
        backoffs,
        [60, 1, 2, 4, 8],
        "refresh, then 1, 2, 4, 8 seconds"
    );
}

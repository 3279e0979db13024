//! Requests whose headers come near, and past, Envoy's limit.

use onerecord_tls_policy_testkit as support;

use super::{Target, identity, no_identity, pki, policy, spec};
use serde_json::json;
use std::collections::BTreeMap;
use support::forged::forged;
use support::http::Request;
use support::pki::Issued;
use support::policies::{DELEGATION, OBJECT};
use support::vm::{self};

/// Headers adding up to `kib` KiB (names and values, as Envoy counts them).
fn padded(mut req: Request, kib: usize) -> Request {
    let have: usize = req
        .headers
        .iter()
        .map(|(n, v)| n.len() + v.len())
        .sum::<usize>()
        + req.path.len()
        + "localhost".len()
        + 16;
    let mut left = (kib * 1024).saturating_sub(have);
    let mut i = 0;
    while left > 0 {
        let name = format!("x-padding-{i:02}");
        let len = left.saturating_sub(name.len()).min(8 * 1024);
        req = req.header(&name, &"p".repeat(len));
        left = left.saturating_sub(name.len() + len);
        i += 1;
    }
    req
}

#[test]
fn headers_near_envoys_limit_are_decided_correctly() {
    // APPEND_FORWARD so that a client's XFCC can be large too.
    let t = Target::start(spec(&policy(json!({}))).xfcc_append_forward());
    let p = pki();
    let near = |path: &str| padded(forged(Request::get(path)), 59);

    t.expect_deny("client_certificate_required", DELEGATION, || {
        t.s.client().send(t.tls(), &near(DELEGATION))
    });
    let echo = t.expect_allow(&no_identity(None), || {
        t.s.client().send(t.tls(), &near(OBJECT))
    });
    assert_eq!(echo.all("x-padding-00").len(), 1, "padding lost");
    // Envoy adds XFCC after its size check, past the limit; the filter reads it whole.
    let rule = Some("access-delegations");
    t.expect_allow(&identity(&p.client, "airline-1", rule, "TLSv1.3"), || {
        t.presenting(&p.client, &[])
            .send(t.tls(), &near(DELEGATION))
    });
    t.expect_deny("untrusted_ca", DELEGATION, || {
        t.presenting(&p.outsider, &[])
            .send(t.tls(), &near(DELEGATION))
    });
    // A 56 KiB client XFCC prefix in front of Envoy's element.
    let big_prefix = format!("By={}", "b".repeat(56 * 1024));
    let req = forged(Request::get(DELEGATION)).header("x-forwarded-client-cert", &big_prefix);
    t.expect_allow(&identity(&p.client, "airline-1", rule, "TLSv1.3"), || {
        t.presenting(&p.client, &[]).send(t.tls(), &req)
    });

    // HTTP/2 the same.
    let h2_near = |leaf: Option<&Issued>, path: &str| {
        let mut curl = t.h2_as(leaf);
        for (name, value) in padded(Request::get(path), 58).headers {
            curl = curl.header(&name, &value);
        }
        curl.get(path)
    };
    t.expect_deny("client_certificate_required", DELEGATION, || {
        h2_near(None, DELEGATION)
    });
    t.expect_allow(&identity(&p.client, "airline-1", rule, "TLSv1.3"), || {
        h2_near(Some(&p.client), DELEGATION)
    });

    // Beyond the limit Envoy answers 431 itself; the filter never runs.
    let before = vm::counters(&t.s.envoy);
    let resp =
        t.s.client()
            .send(t.tls(), &padded(Request::get(DELEGATION), 61));
    assert_eq!(resp.status, 431, "{resp:#?}");
    let after = vm::counters(&t.s.envoy);
    let decided = |c: &BTreeMap<String, u64>| {
        c.iter()
            .filter(|(n, _)| n.starts_with("wasmcustom.") && n.contains("_total"))
            .map(|(_, v)| v)
            .sum::<u64>()
    };
    assert_eq!(
        decided(&after),
        decided(&before),
        "the filter saw the request"
    );
    t.assert_vm_intact();
}

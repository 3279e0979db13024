//! The plugin's effects for a decided request, over the in-memory host:
//! the reply or the annotations, the counters and the access-log property.

use crate::path_oracle::is_origin_form;
use onerecord_tls_policy::config::{AnnotationFormat, NO_RULE};
use onerecord_tls_policy::effects::{
    DenyResponse, Resource, annotations, deny_response, header_safe,
};
use onerecord_tls_policy::facts::Facts;
use onerecord_tls_policy::filter::{Action, Outcome, access_log, configure, gather_facts, metrics};
use onerecord_tls_policy::policy::{Decision, Policy, normalize_path};
use onerecord_tls_policy::reason::Reason;
use onerecord_tls_policy::state::State;
use onerecord_tls_policy::test_host::hostcalls::{SEND_LOCAL_RESPONSE, SET_PROPERTY};
use onerecord_tls_policy::test_host::{MockHost, representable};
use serde_json::Value;
use std::collections::HashMap;

pub fn printable(value: &str) -> bool {
    value.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// Runs the request through the plugin as Envoy would: configure, then
/// `on_request_headers`, and checks every effect against the decision.
pub fn check_effects(
    config_text: &str,
    policy: &Policy,
    facts: &Facts,
    decision: &Decision,
    forged: &[(String, String)],
) {
    let prefix = policy.config.annotation_prefix.as_str();
    let format = policy.config.annotation_format;
    for (name, value) in annotations(decision, prefix, format) {
        assert!(name.starts_with(prefix));
        assert!(printable(&value), "annotation {name}: {value:?}");
    }
    if let Some(client) = &decision.client {
        let safe = header_safe(&client.subject);
        let ours = annotations(decision, prefix, format);
        match format {
            AnnotationFormat::Headers => {
                assert!(ours.contains(&(format!("{prefix}client-subject"), safe)));
            }
            // The subject as an sf-string: quotes and backslashes escaped.
            AnnotationFormat::Dictionary => {
                let quoted = safe.replace('\\', "\\\\").replace('"', "\\\"");
                let (name, value) = ours.first().expect("one dictionary header");
                assert_eq!(name, &format!("{prefix}facts"));
                assert!(value.contains(&format!("client-subject=\"{quoted}\"")));
            }
        }
    }
    let reason = decision.deny_reason().unwrap_or(Reason::TlsRequired);
    check_deny_response(
        &deny_response(reason, &Resource::of(facts), prefix),
        reason,
        &facts.request.path,
        prefix,
    );

    let mut host = MockHost::serving(facts);
    for (suffix, value) in forged {
        host.headers.push((
            format!("{prefix}{suffix}").to_ascii_lowercase(),
            value.clone(),
        ));
    }
    // A fresh policy and no memo: the host is asked for every fact.
    let gathered = gather_facts(&host, &Policy::new(policy.config.clone()), &State::new(0)).facts;
    let expected = if representable(facts) {
        assert_eq!(&gathered, facts, "the host reports the facts");
        decision.clone()
    } else {
        Policy::new(policy.config.clone()).decide(&gathered)
    };
    let mut plugin = configure(&mut host, Ok(config_text.as_bytes().to_vec()))
        .expect("a configuration Config::parse accepts loads");
    host.increments.clear();
    let (action, outcome) = plugin.on_request_headers(&mut host);
    assert_eq!(outcome, Outcome::of(action == Action::Pause, &expected));
    assert_eq!(action == Action::Pause, expected.rejects());

    let family = match outcome {
        Outcome::Allowed => metrics::ALLOWED,
        Outcome::Denied(_) => metrics::DENIED,
        Outcome::AuditDenied(_) => metrics::AUDIT_DENIED,
    };
    let rule = expected.rule.as_deref().unwrap_or(NO_RULE);
    // The plugin is fresh, so it verifies in full exactly when a fresh
    // policy does, and counts that verification by its result first.
    let reference = Policy::new(policy.config.clone());
    let mut want: Vec<String> = reference
        .decide_with(&gathered, &mut reference.new_state())
        .chain_verification
        .map(metrics::verification_counter_name)
        .into_iter()
        .collect();
    want.push(metrics::counter_name(family, outcome.reason(), rule));
    // Then what of the verified client's ends within the warning window.
    if expected.expiring.certificate {
        want.push(metrics::counter_name(
            onerecord_tls_policy::effects::metrics::EXPIRING_CLIENTS,
            None,
            rule,
        ));
    }
    if expected.expiring.crl {
        want.push(metrics::counter_name(
            onerecord_tls_policy::effects::metrics::EXPIRING_CRLS,
            None,
            rule,
        ));
    }
    assert_eq!(
        host.incremented(),
        want,
        "one verdict counter per request, after the full verification it ran"
    );
    assert_eq!(
        (host.hostcalls.calls(SET_PROPERTY), &host.set_properties),
        (
            1,
            &HashMap::from([(
                access_log::PROPERTY.to_string(),
                access_log::value(outcome, &expected).into_bytes()
            )])
        ),
        "one access-log property"
    );
    let log_value = &host.set_properties[access_log::PROPERTY];
    assert!(
        log_value.iter().all(|b| (0x20..0x7f).contains(b)),
        "access-log value {log_value:?}"
    );

    if expected.rejects() {
        assert_eq!(
            host.hostcalls.calls(SEND_LOCAL_RESPONSE),
            1,
            "one local reply"
        );
        let reason = expected.deny_reason().expect("a deny has a reason");
        let (status, headers, body) = host.sent.clone().expect("a local reply");
        let reply = DenyResponse {
            status,
            headers,
            body: String::from_utf8(body).expect("a UTF-8 body"),
        };
        check_deny_response(&reply, reason, &facts.request.path, prefix);
    } else {
        assert_eq!(host.hostcalls.calls(SEND_LOCAL_RESPONSE), 0);
        let mut under_prefix: Vec<(String, String)> = host
            .headers
            .iter()
            .filter(|(k, _)| k.to_ascii_lowercase().starts_with(prefix))
            .cloned()
            .collect();
        let mut ours = annotations(&expected, prefix, policy.config.annotation_format);
        under_prefix.sort();
        ours.sort();
        assert_eq!(
            under_prefix, ours,
            "only the filter's own annotations reach the backend"
        );
    }
}

pub fn check_deny_response(reply: &DenyResponse, reason: Reason, path: &str, prefix: &str) {
    assert_eq!(reply.status, reason.http_status());
    assert!(
        reply
            .headers
            .contains(&(format!("{prefix}deny-reason"), reason.code().to_string()))
    );
    for (name, value) in &reply.headers {
        assert!(printable(name) && printable(value));
    }
    let body: Value = serde_json::from_str(&reply.body).expect("the body is JSON");
    let resource = &body["api:hasErrorDetail"][0]["api:hasResource"];
    if is_origin_form(path) {
        let resource = resource.as_str().expect("a resource");
        assert!(resource.len() <= 512);
        let (_, after_scheme) = resource.split_once("://").expect("an absolute URI");
        let at = after_scheme.find('/').expect("a path after the authority");
        let path_part = after_scheme.get(at..).unwrap_or_default();
        assert!(
            normalize_path(path).starts_with(path_part),
            "the resource's path is the normalised path"
        );
    } else {
        assert_eq!(*resource, Value::Null, "an invalid path is not echoed");
    }
    assert_eq!(
        body["api:hasErrorDetail"][0]["api:hasMessage"],
        reason.message()
    );
}

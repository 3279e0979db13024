use super::*;

#[test]
fn names_put_the_labels_in_fixed_segments() {
    assert_eq!(
        counter_name(DENIED, Some(Reason::UntrustedCa), "access-delegations"),
        "onerecord_tls_policy.denied_total.reason.untrusted_ca.rule.access-delegations"
    );
    assert_eq!(
        counter_name(ALLOWED, None, NO_RULE),
        "onerecord_tls_policy.allowed_total.rule.-"
    );
}

#[test]
fn chain_verifications_are_counted_by_result_from_the_start() {
    use crate::filter::mock::MockHost;
    use crate::policy::ChainVerification;
    let config = Config::parse(br#"{"trusted_ca_sha256":[]}"#).unwrap();
    let mut host = MockHost::tls("TLSv1.3");
    let metrics = Metrics::define(&mut host, &config);
    let verified = verification_counter_name(ChainVerification::Verified);
    assert_eq!(
        verified,
        "onerecord_tls_policy.chain_verifications_total.result.verified"
    );
    let budget = verification_counter_name(ChainVerification::Failed(
        Reason::VerificationBudgetExceeded,
    ));
    assert_eq!(host.counter(&verified), Some(0));
    assert_eq!(host.counter(&budget), Some(0));
    for reason in chain_failures() {
        let name = verification_counter_name(ChainVerification::Failed(reason));
        assert_eq!(host.counter(&name), Some(0), "{name}");
    }
    metrics.count_verification(&mut host, ChainVerification::Verified);
    metrics.count_verification(
        &mut host,
        ChainVerification::Failed(Reason::VerificationBudgetExceeded),
    );
    metrics.count_verification(
        &mut host,
        ChainVerification::Failed(Reason::VerificationBudgetExceeded),
    );
    assert_eq!(host.counter(&verified), Some(1));
    assert_eq!(host.counter(&budget), Some(2));
    // The result tag takes exactly this family's segment.
    let (_, result) = STATS_TAGS[2];
    assert!(result.contains(CHAIN_VERIFICATIONS));
}

#[test]
fn reason_discriminants_follow_reason_all() {
    // `RuleCounters::id` indexes by `reason as usize`.
    for (index, reason) in Reason::ALL.into_iter().enumerate() {
        assert_eq!(reason as usize, index, "{reason:?}");
    }
}

#[test]
fn the_example_envoy_config_carries_the_stats_tags() {
    // The YAML quotes the regexes in single quotes, which keep backslashes.
    let yaml = include_str!("../../../envoy/envoy.yaml");
    for (name, regex) in STATS_TAGS {
        assert!(
            yaml.contains(&format!("tag_name: {name}")),
            "envoy.yaml lacks tag {name}"
        );
        assert!(
            yaml.contains(&format!("'{regex}'")),
            "envoy.yaml lacks the {name} regex {regex}"
        );
    }
    assert!(yaml.contains(&format!(
        "%FILTER_STATE({}:PLAIN)%",
        crate::filter::access_log::FILTER_STATE_KEY
    )));
}

#[test]
fn token_bindings_are_counted_by_result_where_a_rule_binds_the_token() {
    use crate::binding::BindingResult;
    use crate::filter::mock::MockHost;
    let pin = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    let binding = format!(
        r#"{{"trusted_ca_sha256":["{pin}"],"rules":[{{"name":"a","path_prefix":"/a","token_binding":"required"}}]}}"#
    );
    let mut host = MockHost::tls("TLSv1.3");
    let metrics = Metrics::define(&mut host, &Config::parse(binding.as_bytes()).unwrap());
    for result in binding_results() {
        assert_eq!(
            host.counter(&binding_counter_name(result)),
            Some(0),
            "{result:?}"
        );
    }
    metrics.count_binding(&mut host, BindingResult::Failed(Reason::TokenAgentMismatch));
    assert_eq!(
        host.counter("onerecord_tls_policy.token_bindings_total.result.token_agent_mismatch"),
        Some(1)
    );
    let (_, result) = STATS_TAGS[2];
    assert!(result.contains(TOKEN_BINDINGS));

    let mut host = MockHost::tls("TLSv1.3");
    Metrics::define(&mut host, &Config::parse(br#"{}"#).unwrap());
    assert_eq!(
        host.counter(&binding_counter_name(BindingResult::Verified)),
        None
    );
}

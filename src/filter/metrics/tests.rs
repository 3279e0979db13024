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

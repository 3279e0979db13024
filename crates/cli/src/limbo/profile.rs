//! The wrong rejects the ONE Record client profile explains: the one list
//! `limbo` does not count as mismatches, shown with the same words in
//! docs/validation.md (a test holds the two together).

/// limbo case id, and why the profile refuses what limbo accepts.
pub const PROFILE_REJECTS: &[(&str, &str)] = &[
    (
        "pathlen::validation-ignores-pathlen-in-leaf",
        "the leaf is a CA certificate: never a client",
    ),
    (
        "cve::cve-2024-0567",
        "the pinned Root A is cross-signed (issued by another CA) and has no \
         authorityKeyIdentifier, which strict refuses as limbo's own \
         rfc5280::aki::cross-signed-root-missing-aki requires; compatible accepts it",
    ),
];

/// Why the profile refuses case `id`, when it is one of the list.
pub fn explained(id: &str) -> Option<&'static str> {
    PROFILE_REJECTS
        .iter()
        .find(|(listed, _)| *listed == id)
        .map(|(_, why)| *why)
}

#[cfg(test)]
mod tests {
    use super::PROFILE_REJECTS;

    #[test]
    fn docs_show_every_profile_reject_with_its_reason() {
        let docs = include_str!("../../../../docs/validation.md");
        for (id, why) in PROFILE_REJECTS {
            let row = format!("| `{id}` | profile |");
            let line = docs.lines().find(|l| l.starts_with(&row));
            assert!(
                line.is_some_and(|l| l.contains(why)),
                "docs/validation.md has no row `{row} … {why}`"
            );
        }
    }
}

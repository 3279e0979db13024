//! One x509-limbo test case, read from the suite's JSON, and the filter's
//! verdict on it: the case's trusted certificates pinned (by SHA-256, and in
//! `ca_certificates_pem`), its untrusted intermediates as the chain the
//! client presents after its leaf, and `Policy::decide` at its
//! `validation_time`, as `explain` runs it.

use onerecord_tls_policy_core::config::{Config, MAX_MAX_CHAIN_LENGTH};
use onerecord_tls_policy_core::facts::{ConnectionFacts, Facts, RequestFacts};
use onerecord_tls_policy_core::fingerprint::Fingerprint;
use onerecord_tls_policy_core::pem;
use onerecord_tls_policy_core::policy::Policy;
use onerecord_tls_policy_core::rfc3339::parse_rfc3339;
use onerecord_tls_policy_core::x509;
use onerecord_tls_policy_core::xfcc::envoy_format;
use serde_json::{Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

/// What a case asks, as far as the filter can answer it.
#[derive(Debug)]
pub struct Case {
    pub id: String,
    /// `CLIENT` or `SERVER`, as limbo labels it.
    pub kind: String,
    pub trusted_pem: Vec<String>,
    pub intermediates_pem: Vec<String>,
    pub peer_pem: String,
    /// `None`: limbo means now.
    pub validation_time: Option<String>,
    pub extended_key_usage: Vec<String>,
    pub max_chain_depth: Option<u64>,
    pub has_crls: bool,
    /// A denial-of-service case: its failure is about cost, never the name.
    pub denial_of_service: bool,
    /// limbo's `pedantic-public-suffix-wildcard`: a wildcard over a public
    /// suffix, whose failure is matching it to a peer name.
    pub public_suffix_wildcard: bool,
    pub expect_success: bool,
    /// Cases limbo marks as contradicting this one (a harness follows one).
    pub conflicts_with: Vec<String>,
    /// `expected_peer_name`'s value, when the case names a DNS name.
    pub peer_name: Option<String>,
}

/// What the filter did with a case.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Accept {
        dns_sans: Vec<String>,
    },
    /// The deny reason's code, or why the configuration was refused.
    Reject(String),
}

impl Case {
    pub fn read(value: &Value) -> Result<Case, String> {
        let text = |field: &str| {
            value
                .get(field)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| format!("a case without a string `{field}`"))
        };
        let texts = |field: &str| -> Vec<String> {
            value
                .get(field)
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        let id = text("id")?;
        let expected = text("expected_result")?;
        Ok(Case {
            kind: text("validation_kind")?,
            trusted_pem: texts("trusted_certs"),
            intermediates_pem: texts("untrusted_intermediates"),
            peer_pem: text("peer_certificate")?,
            validation_time: text("validation_time").ok(),
            extended_key_usage: texts("extended_key_usage"),
            max_chain_depth: value.get("max_chain_depth").and_then(Value::as_u64),
            has_crls: !texts("crls").is_empty() || texts("features").iter().any(|f| f == "has-crl"),
            conflicts_with: texts("conflicts_with"),
            denial_of_service: texts("features").iter().any(|f| f == "denial-of-service"),
            public_suffix_wildcard: texts("features")
                .iter()
                .any(|f| f == "pedantic-public-suffix-wildcard"),
            expect_success: expected == "SUCCESS",
            // Only DNS names: the filter reports no IP SANs to compare with.
            peer_name: value
                .get("expected_peer_name")
                .filter(|n| n.get("kind").and_then(Value::as_str) == Some("DNS"))
                .and_then(|n| n.get("value"))
                .and_then(Value::as_str)
                .map(str::to_string),
            id,
        })
    }

    /// Why the filter cannot answer this case, if it cannot.
    pub fn skip_reason(&self, client_role: bool) -> Option<String> {
        if !client_role && self.kind != "CLIENT" {
            return Some("server-role case (the client-role file asks it of a client)".into());
        }
        if self.has_crls {
            return Some("needs CRL checking".into());
        }
        if let Some(other) = self.extended_key_usage.iter().find(|e| *e != "clientAuth") {
            return Some(format!(
                "asks for EKU {other}; the filter requires clientAuth"
            ));
        }
        None
    }

    /// The filter's verdict, from the same code the filter runs.
    pub fn verdict(&self, x509_profile: &str) -> Result<Verdict, String> {
        let at = match &self.validation_time {
            Some(time) => parse_rfc3339(time)?,
            None => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_err(|e| e.to_string())?
                .as_secs(),
        };
        let der = |pem_text: &str| -> Result<Vec<u8>, String> {
            pem::blocks(pem_text.as_bytes())
                .next()
                .ok_or_else(|| "no PEM block".to_string())?
                .map(|block| block.contents)
                .map_err(|e| e.to_string())
        };
        let mut pinned = Vec::new();
        for pem_text in &self.trusted_pem {
            pinned.push(Fingerprint::of_der(&der(pem_text)?).to_hex());
        }
        let mut chain = vec![der(&self.peer_pem)?];
        for pem_text in &self.intermediates_pem {
            chain.push(der(pem_text)?);
        }
        // limbo's depth counts intermediates that are not self-issued (RFC
        // 5280 6.1.4 (l)); the filter's length counts every certificate, leaf
        // and anchor too, so each self-issued intermediate the case presents
        // is added. Without a depth, the filter's own maximum.
        let self_issued = chain
            .iter()
            .skip(1)
            .filter(|der| is_self_issued(der))
            .count() as u64;
        let length = self
            .max_chain_depth
            .map_or(MAX_MAX_CHAIN_LENGTH as u64, |d| {
                d.saturating_add(2).saturating_add(self_issued)
            })
            .min(MAX_MAX_CHAIN_LENGTH as u64);
        let mut config = json!({
            "mtls": "required",
            "trusted_ca_sha256": pinned,
            "max_chain_length": length,
            "clock_skew_seconds": 0,
            "x509_profile": x509_profile,
        });
        if let (Some(fields), false) = (config.as_object_mut(), self.trusted_pem.is_empty()) {
            fields.insert(
                "ca_certificates_pem".into(),
                Value::String(self.trusted_pem.concat()),
            );
        }
        let config = match Config::parse(config.to_string().as_bytes()) {
            Ok(config) => config,
            Err(e) => return Ok(Verdict::Reject(format!("configuration refused: {e}"))),
        };
        let facts = Facts {
            request: RequestFacts {
                path: "/".into(),
                method: "GET".into(),
                ..RequestFacts::default()
            },
            connection: Ok(ConnectionFacts {
                tls_version: Some("TLSv1.3".into()),
                peer: envoy_format::peer_facts(&chain),
                ..ConnectionFacts::default()
            }),
            now_unix: at,
        };
        let decision = Policy::new(config).decide(&facts);
        Ok(match decision.deny_reason() {
            Some(reason) => Verdict::Reject(match decision.detail {
                Some(detail) => format!("{} ({detail})", reason.code()),
                None => reason.code().to_string(),
            }),
            None => Verdict::Accept {
                dns_sans: decision
                    .client
                    .map(|c| c.dns_sans.clone())
                    .unwrap_or_default(),
            },
        })
    }

    /// limbo's namespace: the id up to its last `::`.
    pub fn namespace(&self) -> &str {
        self.id
            .rsplit_once("::")
            .map_or(self.id.as_str(), |(ns, _)| ns)
    }

    /// Whether the leaf's DNS names cover `expected_peer_name` the way a
    /// server-name check would (exact, or a `*.` wildcard for one label).
    /// Used only to say why an accepted FAILURE case is out of scope.
    pub fn peer_name_matches(&self, dns_sans: &[String]) -> bool {
        let Some(name) = self.peer_name.as_ref().filter(|_| !self.denial_of_service) else {
            return true;
        };
        let name = name.to_ascii_lowercase();
        dns_sans.iter().any(|san| {
            let san = san.to_ascii_lowercase();
            san == name
                || san.strip_prefix("*.").is_some_and(|suffix| {
                    name.split_once('.')
                        .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix)
                })
        })
    }
}

/// Subject and issuer the same name (compared as encoded): RFC 5280's
/// self-issued, which limbo's depth does not count.
fn is_self_issued(der: &[u8]) -> bool {
    x509::parse(der).is_ok_and(|cert| cert.subject().as_raw() == cert.issuer().as_raw())
}

//! End-to-end checks of `TrustStore::verify` over PKIs generated per test,
//! a module per section; the PKI builders they share are here.

use super::*;
use std::time::{SystemTime, UNIX_EPOCH};

use onerecord_tls_policy_testkit::pki::{
    CertSpec, Issued, KeyKind, SigDigest, generate_key, issue, issue_with_key, self_signed,
};

const UNKNOWN_CRITICAL: (&str, &str) = ("1.3.6.1.4.1.99999.1", "critical,DER:05:00");

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn sha(cert: &Issued) -> Fingerprint {
    Fingerprint::of_der(&cert.der())
}

/// Pins `anchors` and configures their certificates.
fn trusting(anchors: &[&Issued]) -> TrustSettings {
    TrustSettings {
        trusted_ca_sha256: anchors.iter().map(|c| sha(c)).collect(),
        ca_certificates_der: anchors.iter().map(|c| c.der()).collect(),
        revoked_sha256: Vec::new(),
        max_chain_length: 5,
        clock_skew_seconds: 60,
        profile: Default::default(),
    }
}

/// Pins `anchors` without configuring them: the client has to send them.
fn pinned_only(anchors: &[&Issued]) -> TrustSettings {
    TrustSettings {
        ca_certificates_der: Vec::new(),
        ..trusting(anchors)
    }
}

fn chain(leaf: &Issued, others: &[&Issued]) -> PresentedChain {
    PresentedChain {
        leaf: leaf.der(),
        others: others.iter().map(|c| c.der()).collect(),
    }
}

fn verify(settings: &TrustSettings, chain: &PresentedChain) -> Result<VerifiedClient, Reason> {
    TrustStore::new(settings).verify(chain, now())
}

/// The verified path, or the reason.
fn outcome(settings: &TrustSettings, chain: &PresentedChain) -> Result<Vec<Fingerprint>, Reason> {
    verify(settings, chain).map(|client| client.path_sha256)
}

fn path_of(certs: &[&Issued]) -> Result<Vec<Fingerprint>, Reason> {
    Ok(certs.iter().map(|c| sha(c)).collect())
}

struct Pki {
    root: Issued,
    inter: Issued,
    leaf: Issued,
}

fn pki(root: CertSpec, inter: CertSpec, leaf: CertSpec) -> Pki {
    let root = self_signed(&root);
    let inter = issue(&inter, &root);
    let leaf = issue(&leaf, &inter);
    Pki { root, inter, leaf }
}

fn root_spec() -> CertSpec {
    CertSpec::ca("Root CA")
}

fn inter_spec() -> CertSpec {
    CertSpec::ca("Intermediate CA")
}

fn leaf_spec() -> CertSpec {
    CertSpec::client("client-1")
}

fn standard() -> Pki {
    pki(root_spec(), inter_spec(), leaf_spec())
}

/// The standard PKI with the root pinned and configured, leaf + intermediate sent.
fn standard_outcome(p: &Pki) -> Result<Vec<Fingerprint>, Reason> {
    outcome(&trusting(&[&p.root]), &chain(&p.leaf, &[&p.inter]))
}

mod algorithms_and_anchoring;
mod client_identity;
mod hostile_input;
mod limits_and_constraints;
mod name_constraints;
mod onerecord_profile;
mod path_validity;
mod revocation_and_profile;
mod rfc5280_profile;
mod validity_in_time;

//! Client certificate chain → verified path → profile → identity.
//! (Interface fixed here; implementation lands with the mTLS work.)

use crate::config::TrustSettings;
use crate::fingerprint::Fingerprint;
use crate::reason::Reason;

/// What a verified client certificate tells the backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedClient {
    pub leaf_sha256: Fingerprint,
    /// RFC 4514 form of the leaf's subject.
    pub subject: String,
    pub uri_sans: Vec<String>,
    /// Lowercased.
    pub dns_sans: Vec<String>,
    pub organizations: Vec<String>,
    pub anchor_sha256: Fingerprint,
    /// SHA-256 of every certificate on the verified path, leaf first, anchor last.
    pub path_sha256: Vec<Fingerprint>,
}

/// The certificates Envoy reported for this connection, as DER.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PresentedChain {
    pub leaf: Vec<u8>,
    /// Everything else the client sent (may include the leaf again, decoys, anchors).
    pub others: Vec<Vec<u8>>,
}

/// The pinned anchors and limits, prepared once per configuration.
#[derive(Clone, Debug)]
pub struct TrustStore {
    settings: TrustSettings,
}

impl TrustStore {
    pub fn new(settings: &TrustSettings) -> Self {
        TrustStore { settings: settings.clone() }
    }

    /// Verifies `chain` against the pinned anchors at `now_unix` (seconds).
    pub fn verify(&self, _chain: &PresentedChain, _now_unix: u64) -> Result<VerifiedClient, Reason> {
        let _ = &self.settings;
        Err(Reason::UntrustedCa)
    }
}

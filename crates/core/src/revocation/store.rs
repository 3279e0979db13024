//! The CRLs in force on one VM, by issuer: the configured ones, replaced by
//! newer ones as the sources deliver them. Part of the [`State`](crate::state::State):
//! it changes while the configuration does not.

use super::crl::{Crl, CrlError, RevokedEntry, UnverifiedCrl, reason_name};
use super::{IssuerId, IssuerKey, PathLink};
use crate::reason::Reason;
use crate::rfc3339::format_rfc3339;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// Issuer ids are SHA-256 digests already: eight of their bytes are as good
/// a hash as any, at no cost.
#[derive(Clone, Copy, Debug, Default)]
struct IssuerHasher(u64);

impl Hasher for IssuerHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for (i, byte) in bytes.iter().take(8).enumerate() {
            self.0 ^= u64::from(*byte) << (8 * i);
        }
    }
}

/// Issuers learned from verified paths, for checking fetched CRLs: beyond
/// this many distinct intermediates, the oldest is forgotten.
const MAX_SEEN_ISSUERS: usize = 256;

/// Where the CRL in force for an issuer came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// `crls_pem`, the CRL's index there.
    Configured(usize),
    /// `crl_sources`, the source's index there.
    Source(usize),
    /// Given by hand (the CLI's `explain --crl`).
    Given,
}

#[derive(Clone, Debug)]
struct InForce {
    crl: Arc<Crl>,
    origin: Origin,
}

/// What a source has delivered so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceStatus {
    /// The issuer of the CRL it last delivered; `None` until it has.
    pub issuer: Option<IssuerId>,
}

/// What became of a CRL a source delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Offered {
    /// Now in force for its issuer (with the key that verified it).
    Applied(Arc<Crl>, IssuerKey),
    /// The very CRL already in force.
    Unchanged,
    /// Older (thisUpdate, then CRL number) than the one in force.
    Older,
    ParseError(CrlError),
    /// Unknown issuer, or not signed by its key.
    BadSignature(CrlError),
}

impl Offered {
    /// The metric label of the result.
    pub fn result(&self) -> &'static str {
        match self {
            Offered::Applied(..) | Offered::Unchanged => "ok",
            Offered::Older => "older",
            Offered::ParseError(_) => "parse_error",
            Offered::BadSignature(_) => "bad_signature",
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Revocations {
    grace_seconds: u64,
    in_force: HashMap<IssuerId, InForce, BuildHasherDefault<IssuerHasher>>,
    sources: Vec<SourceStatus>,
    /// The configured CA certificates (pinned anchors among them).
    configured: Vec<IssuerKey>,
    /// Issuers seen on verified paths, oldest first.
    seen: Vec<IssuerKey>,
    /// Those learned here since [`take_learned`](Self::take_learned), for
    /// the glue to share with the other VMs.
    learned: Vec<IssuerKey>,
}

impl Revocations {
    /// The configured CRLs in force, `sources` sources not yet delivered.
    pub fn new(
        configured_crls: &[Arc<Crl>],
        configured_issuers: Vec<IssuerKey>,
        sources: usize,
        grace_seconds: u64,
    ) -> Self {
        let mut store = Revocations {
            grace_seconds,
            sources: vec![SourceStatus::default(); sources],
            configured: configured_issuers,
            ..Revocations::default()
        };
        for (i, crl) in configured_crls.iter().enumerate() {
            let replaces = store
                .in_force
                .get(&crl.issuer)
                .is_none_or(|current| current.crl.is_older_than(crl));
            if replaces {
                let origin = Origin::Configured(i);
                let crl = Arc::clone(crl);
                store.in_force.insert(crl.issuer, InForce { crl, origin });
            }
        }
        store
    }

    /// Whether anything is checked at all (else requests skip the check).
    pub fn is_active(&self) -> bool {
        !self.in_force.is_empty() || !self.sources.is_empty()
    }

    /// The revocation check of a verified path at `now_unix`: a listed
    /// serial is `CertificateRevoked` (whatever else), else a certificate
    /// whose status cannot be known is `RevocationStatusUnknown`.
    pub fn check(&self, links: &[PathLink], now_unix: u64) -> Result<(), Reason> {
        if !self.is_active() {
            return Ok(());
        }
        // One lookup per certificate: a revocation anywhere on the path
        // wins over an unknown status elsewhere.
        let mut unknown = false;
        for link in links {
            match self.in_force.get(&link.issuer) {
                Some(in_force) if in_force.crl.covers(link.is_ca) => {
                    let crl = &in_force.crl;
                    if let Some(entry) = crl.entry(&link.serial) {
                        log::info!(
                            "onerecord-tls-policy: {}",
                            describe_revoked(crl, link, *entry)
                        );
                        return Err(Reason::CertificateRevoked);
                    }
                    unknown |= !self.fresh(crl, now_unix);
                }
                Some(_) => {}
                None => unknown |= self.sources.iter().any(|s| s.issuer.is_none()),
            }
        }
        if unknown {
            Err(Reason::RevocationStatusUnknown)
        } else {
            Ok(())
        }
    }

    /// The first certificate of `links` a CRL in force lists, with the CRL
    /// and its entry.
    pub fn find_revoked<'a>(
        &'a self,
        links: &'a [PathLink],
    ) -> Option<(&'a Crl, &'a PathLink, RevokedEntry)> {
        links.iter().find_map(|link| {
            let crl = &self.in_force.get(&link.issuer)?.crl;
            if !crl.covers(link.is_ca) {
                return None;
            }
            crl.entry(&link.serial).map(|entry| (&**crl, link, *entry))
        })
    }

    /// Within nextUpdate plus the grace (a CRL without nextUpdate always is).
    fn fresh(&self, crl: &Crl, now_unix: u64) -> bool {
        crl.next_update.is_none_or(|next| {
            i128::from(now_unix) <= i128::from(next) + i128::from(self.grace_seconds)
        })
    }

    /// Whether a CRL in force for one of `links` reaches its nextUpdate
    /// within `window` seconds of `now_unix`.
    pub fn expiring_within(&self, links: &[PathLink], now_unix: u64, window: u64) -> bool {
        let limit = i128::from(now_unix) + i128::from(window);
        links.iter().any(|link| {
            self.in_force
                .get(&link.issuer)
                .and_then(|f| f.crl.next_update)
                .is_some_and(|next| i128::from(next) <= limit)
        })
    }

    /// Remembers the issuers of a verified path as CAs a fetched CRL may
    /// be signed by.
    pub fn learn(&mut self, issuers: &[IssuerKey]) {
        for issuer in issuers {
            if self.know(issuer) && self.learned.len() < MAX_SEEN_ISSUERS {
                self.learned.push(issuer.clone());
            }
        }
    }

    /// Issuers another VM learned.
    pub fn learn_shared(&mut self, issuers: &[IssuerKey]) {
        for issuer in issuers {
            self.know(issuer);
        }
    }

    /// Remembers `issuer`; `true` when it was not known.
    fn know(&mut self, issuer: &IssuerKey) -> bool {
        if self.configured.contains(issuer) || self.seen.contains(issuer) {
            return false;
        }
        if self.seen.len() >= MAX_SEEN_ISSUERS {
            self.seen.remove(0);
        }
        self.seen.push(issuer.clone());
        true
    }

    /// The issuers learned from verified paths since the last call.
    pub fn take_learned(&mut self) -> Vec<IssuerKey> {
        std::mem::take(&mut self.learned)
    }

    /// A CRL source `source` delivered, checked against every CA known.
    pub fn offer(&mut self, source: usize, der: &[u8]) -> Offered {
        let known: Vec<&IssuerKey> = self.configured.iter().chain(&self.seen).collect();
        let keys = known.into_iter().cloned().collect();
        self.offer_checked(Origin::Source(source), der, keys)
    }

    /// A CRL another VM of this Envoy accepted, with the key it verified it
    /// with. The issuer's id includes that key, so a CRL can only ever
    /// apply to certificates issued under the key that signed it.
    pub fn adopt(&mut self, source: usize, der: &[u8], issuer: IssuerKey) -> Offered {
        self.offer_checked(Origin::Source(source), der, vec![issuer])
    }

    /// A CRL given by hand, checked against `issuers` (for the same reason
    /// as in [`adopt`](Self::adopt), a CRL signed by a certificate off the
    /// verified path applies to nothing).
    pub fn offer_given(&mut self, der: &[u8], issuers: Vec<IssuerKey>) -> Offered {
        let mut keys = self.configured.clone();
        keys.extend(issuers);
        self.offer_checked(Origin::Given, der, keys)
    }

    fn offer_checked(&mut self, origin: Origin, der: &[u8], keys: Vec<IssuerKey>) -> Offered {
        let unverified = match UnverifiedCrl::parse(der) {
            Ok(crl) => crl,
            Err(e) => return Offered::ParseError(e),
        };
        let (crl, key) = match unverified.verify(&keys) {
            Ok(verified) => verified,
            Err(e) => return Offered::BadSignature(e),
        };
        if let Some(current) = self.in_force.get(&crl.issuer) {
            if current.crl.sha256 == crl.sha256 {
                self.bind(origin, crl.issuer);
                return Offered::Unchanged;
            }
            if crl.is_older_than(&current.crl) {
                return Offered::Older;
            }
        }
        let crl = Arc::new(crl);
        self.bind(origin, crl.issuer);
        let in_force = InForce {
            crl: Arc::clone(&crl),
            origin,
        };
        self.in_force.insert(crl.issuer, in_force);
        Offered::Applied(crl, key)
    }

    fn bind(&mut self, origin: Origin, issuer: IssuerId) {
        if let Origin::Source(source) = origin
            && let Some(status) = self.sources.get_mut(source)
        {
            status.issuer = Some(issuer);
        }
    }

    /// The CRL a source delivered last and that is still in force.
    pub fn from_source(&self, source: usize) -> Option<&Arc<Crl>> {
        let issuer = self.sources.get(source)?.issuer?;
        self.in_force.get(&issuer).map(|f| &f.crl)
    }

    /// Every CRL in force, with its origin.
    pub fn in_force(&self) -> impl Iterator<Item = (&Arc<Crl>, Origin)> {
        self.in_force.values().map(|f| (&f.crl, f.origin))
    }

    pub fn sources(&self) -> &[SourceStatus] {
        &self.sources
    }
}

/// One line on a revoked certificate: its serial, the CRL and the entry's
/// reason code.
pub fn describe_revoked(crl: &Crl, link: &PathLink, entry: RevokedEntry) -> String {
    format!(
        "certificate serial {} issued by {} is revoked by its CRL (number {}, reason {}, since {})",
        link.serial,
        crl.issuer_name,
        crl.number_hex(),
        reason_name(entry.reason),
        format_rfc3339(u64::try_from(entry.revoked_at).unwrap_or(0)),
    )
}

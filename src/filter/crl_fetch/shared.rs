//! What the VMs of one Envoy share about CRL sources, in shared data: per
//! source a lease (`<holder> <expires>`) and the CRL in force with the key
//! that verified it; and the issuers seen on verified paths.

use crate::effects::metrics::PREFIX;
use crate::filter::{Host, HostError};
use crate::revocation::{IssuerKey, Revocations};

/// At most this many issuers are shared (the store keeps as many).
const MAX_SHARED_ISSUERS: usize = 256;
const ISSUERS_KEY: &str = "onerecord_tls_policy.crl_issuers";

pub(super) fn lease_key(source: &str) -> String {
    format!("{PREFIX}.crl_lease.{source}")
}

pub(super) fn crl_key(source: &str) -> String {
    format!("{PREFIX}.crl.{source}")
}

/// Takes or renews the lease of a source for `me` until `now + seconds`:
/// `true` when this VM holds it. A lease is free when unset or expired.
pub(super) fn take_lease(host: &mut dyn Host, key: &str, me: &str, now: u64, seconds: u64) -> bool {
    let current = match host.shared_data(key) {
        Ok(current) => current,
        Err(_) => return false,
    };
    let cas = match &current {
        Some((value, cas)) => {
            let text = String::from_utf8_lossy(value);
            let mut parts = text.split(' ');
            let holder = parts.next().unwrap_or_default();
            let expires: u64 = parts.next().and_then(|e| e.parse().ok()).unwrap_or(0);
            if holder != me && expires >= now {
                return false;
            }
            *cas
        }
        None => 0,
    };
    let lease = format!("{me} {}", now.saturating_add(seconds));
    if !matches!(host.set_shared_data(key, lease.as_bytes(), cas), Ok(true)) {
        return false;
    }
    // A first lease is set without a token (Envoy compares none for a new
    // key): read it back, so that of two VMs racing only one fetches.
    matches!(host.shared_data(key), Ok(Some((value, _))) if value == lease.as_bytes())
}

/// Shares the CRL a fetch accepted, with its issuer's key; its new token.
pub(super) fn publish_crl(
    host: &mut dyn Host,
    key: &str,
    issuer: &IssuerKey,
    der: &[u8],
) -> Result<u32, HostError> {
    let mut value = encode_key(issuer);
    value.extend_from_slice(der);
    host.set_shared_data(key, &value, 0)?;
    Ok(host.shared_data(key)?.map_or(0, |(_, cas)| cas))
}

/// The issuer's key and the CRL's DER of a shared CRL.
pub(super) fn decode_crl(value: &[u8]) -> Option<(IssuerKey, &[u8])> {
    decode_key(value)
}

/// Adds `learned` to the shared issuers (a few tries against other VMs).
pub(super) fn add_issuers(host: &mut dyn Host, learned: &[IssuerKey]) {
    for _ in 0..3 {
        let (mut value, cas) = match host.shared_data(ISSUERS_KEY) {
            Ok(Some((value, cas))) => (value, cas),
            Ok(None) => (Vec::new(), 0),
            Err(_) => return,
        };
        let known = decode_keys(&value);
        let mut added = known.len();
        for issuer in learned {
            if added < MAX_SHARED_ISSUERS && !known.contains(issuer) {
                value.extend(encode_key(issuer));
                added += 1;
            }
        }
        if matches!(host.set_shared_data(ISSUERS_KEY, &value, cas), Ok(true)) {
            return;
        }
    }
}

/// Teaches `revocations` the shared issuers when they changed since `cas`;
/// the token read.
pub(super) fn read_issuers(host: &mut dyn Host, revocations: &mut Revocations, cas: u32) -> u32 {
    match host.shared_data(ISSUERS_KEY) {
        Ok(Some((value, current))) if current != cas => {
            revocations.learn_shared(&decode_keys(&value));
            current
        }
        _ => cas,
    }
}

fn encode_key(key: &IssuerKey) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.subject.len() + key.spki.len() + 9);
    for part in [&key.subject, &key.spki] {
        let length = u32::try_from(part.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&length.to_be_bytes());
        out.extend_from_slice(part);
    }
    out.push(u8::from(key.crl_sign));
    out
}

/// One key from the front of `value`, and what follows it.
fn decode_key(value: &[u8]) -> Option<(IssuerKey, &[u8])> {
    let (subject, rest) = take_part(value)?;
    let (spki, rest) = take_part(rest)?;
    let (&crl_sign, rest) = rest.split_first()?;
    let key = IssuerKey {
        subject: subject.to_vec(),
        spki: spki.to_vec(),
        crl_sign: crl_sign == 1,
    };
    Some((key, rest))
}

fn decode_keys(mut value: &[u8]) -> Vec<IssuerKey> {
    let mut keys = Vec::new();
    while let Some((key, rest)) = decode_key(value) {
        keys.push(key);
        value = rest;
    }
    keys
}

fn take_part(value: &[u8]) -> Option<(&[u8], &[u8])> {
    let length = value.get(..4)?;
    let length = usize::try_from(u32::from_be_bytes(length.try_into().ok()?)).ok()?;
    let rest = value.get(4..)?;
    Some((rest.get(..length)?, rest.get(length..)?))
}

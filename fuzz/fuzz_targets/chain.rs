//! Trust verification on arbitrary DER and on mutations of real chains.
//!
//! Input: a `Pool` (the original chain, leaf first, and the clock), then
//! choices read with a `Cursor` (zero everywhere means: pin the last
//! certificate, configure nothing, limits at their defaults, present the
//! chain as it is):
//!
//! ```text
//! pinned   u8  which original is pinned, counted from the end
//! config   u8  bit i puts original i into ca_certificates_der
//! max      u8  max_chain_length = 1 + (max + 4) % 8
//! skew     u8  clock_skew_seconds, one of SKEWS
//! revoked  u8  0: none, k: original (k - 1) % n is revoked
//! ops          until the input ends, at most MAX_OPS, each `kind a b c d`
//! ```
//!
//! The ops act on the presented list: flip or set a byte, truncate, insert or
//! delete a byte, blow up a length field, append trailing bytes, wrap in a
//! SEQUENCE, splice a range from another certificate, swap, duplicate, drop,
//! put an original back in its place.
//!
//! Invariants: a verified path passes the independent oracle, so a mutated
//! certificate can be on it only if OpenSSL too finds it signed by its parent
//! (libFuzzer may corrupt the input's copy of a certificate and an op repair
//! it); the anchor is the pinned original and the leaf digest is the
//! presented leaf's. A leaf that is not one X.509 certificate is refused as
//! `CertificateInvalid`; more distinct certificates than allowed are refused.
#![no_main]

use libfuzzer_sys::{fuzz_mutator, fuzz_target};
use onerecord_tls_policy::config::TrustSettings;
use onerecord_tls_policy::fingerprint::Fingerprint;
use onerecord_tls_policy::reason::Reason;
use onerecord_tls_policy::trust::{PresentedChain, TrustStore};
use onerecord_tls_policy_fuzz::oracle::assert_verified_path;
use onerecord_tls_policy_fuzz::pool::{Cursor, Pool};
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

/// One mutation in this many may touch the pool's DER directly.
const WHOLE_INPUT_EVERY: u32 = 2;

const SKEWS: [u64; 5] = [60, 0, 1, 3600, 86_400];
const MAX_OPS: usize = 16;

// Half the mutations go to the ops after the pool (structure-aware), the
// other half anywhere, the certificates' DER included (arbitrary bytes).
fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    Pool::mutate(data, size, max_size, seed, WHOLE_INPUT_EVERY)
});

fuzz_target!(|data: &[u8]| {
    let pool = Pool::decode(data);
    let originals: Vec<Vec<u8>> = pool.certs.iter().map(|c| c.to_vec()).collect();
    let n = originals.len().max(1);
    let mut c = Cursor::new(pool.rest);

    let pinned_index = n - 1 - usize::from(c.u8()) % n;
    let pinned = Fingerprint::of_der(originals.get(pinned_index).map_or(&[][..], |d| d));
    let config_mask = c.u8();
    let max_chain_length = 1 + (usize::from(c.u8()) + 4) % 8;
    let clock_skew_seconds = SKEWS[usize::from(c.u8()) % SKEWS.len()];
    let revoked_sha256 = match c.u8() {
        0 => Vec::new(),
        k => originals
            .get(usize::from(k - 1) % n)
            .map(|d| vec![Fingerprint::of_der(d)])
            .unwrap_or_default(),
    };
    let configured: Vec<Vec<u8>> = originals
        .iter()
        .enumerate()
        .filter(|(i, _)| *i < 8 && config_mask & (1 << i) != 0)
        .map(|(_, d)| d.clone())
        .collect();
    let settings = TrustSettings {
        trusted_ca_sha256: vec![pinned],
        ca_certificates_der: configured.clone(),
        revoked_sha256,
        max_chain_length,
        clock_skew_seconds,
        profile: Default::default(),
    };

    let mut presented = originals.clone();
    for _ in 0..MAX_OPS {
        if c.is_empty() {
            break;
        }
        mutate(&mut presented, &originals, &mut c);
    }
    let chain = PresentedChain {
        leaf: presented.first().cloned().unwrap_or_default(),
        others: presented.iter().skip(1).cloned().collect(),
    };

    let store = TrustStore::new(&settings);
    match store.verify(&chain, pool.now) {
        Ok(client) => {
            let material: Vec<&[u8]> = presented
                .iter()
                .chain(&configured)
                .map(Vec::as_slice)
                .collect();
            assert_verified_path(&client, &chain.leaf, &material, &settings, pool.now);
            assert_eq!(
                client.anchor_sha256, pinned,
                "the anchor is the pinned root"
            );
        }
        Err(reason) => {
            if !is_one_certificate(&chain.leaf) {
                assert_eq!(reason, Reason::CertificateInvalid, "unreadable leaf");
            }
            let leaf_fp = Fingerprint::of_der(&chain.leaf);
            let mut distinct: Vec<Fingerprint> = Vec::new();
            for der in &chain.others {
                let fp = Fingerprint::of_der(der);
                if fp != leaf_fp && !distinct.contains(&fp) {
                    distinct.push(fp);
                }
            }
            // Up to twice `max_chain_length` may be presented (trust/presented.rs).
            if distinct.len() + 1 > 2 * max_chain_length {
                assert!(
                    matches!(reason, Reason::ChainTooLong | Reason::CertificateInvalid),
                    "{} distinct certificates against a limit of 2 × {max_chain_length}: {reason:?}",
                    distinct.len() + 1
                );
            }
        }
    }
});

fn is_one_certificate(der: &[u8]) -> bool {
    matches!(X509Certificate::from_der(der), Ok(([], _)))
}

fn mutate(presented: &mut Vec<Vec<u8>>, originals: &[Vec<u8>], c: &mut Cursor<'_>) {
    let kind = c.u8();
    let (a, b) = (usize::from(c.u8()), usize::from(c.u8()));
    let arg = c.u16();
    let len = presented.len();
    if len == 0 {
        presented.push(Vec::new());
        return;
    }
    let at = |cert: &Vec<u8>| usize::from(arg) % cert.len().max(1);
    let i = a % len;
    match kind % 13 {
        0 => {
            let cert = &mut presented[i];
            let pos = at(cert);
            if let Some(byte) = cert.get_mut(pos) {
                *byte ^= (b as u8).max(1);
            }
        }
        1 => {
            let cert = &mut presented[i];
            let pos = at(cert);
            if let Some(byte) = cert.get_mut(pos) {
                *byte = b as u8;
            }
        }
        2 => {
            let cert = &mut presented[i];
            let pos = at(cert);
            cert.truncate(pos);
        }
        3 => {
            let cert = &mut presented[i];
            let pos = at(cert).min(cert.len());
            cert.insert(pos, b as u8);
        }
        4 => {
            let cert = &mut presented[i];
            let pos = at(cert);
            if pos < cert.len() {
                cert.remove(pos);
            }
        }
        5 => {
            // A long-form length claiming far more than there is.
            let cert = &mut presented[i];
            let pos = at(cert).min(cert.len());
            let huge = [0x84, 0xff, 0xff, 0xff, (b as u8) | 0xf0];
            cert.splice(pos..(pos + 1).min(cert.len()), huge);
        }
        6 => presented[i].extend(std::iter::repeat_n(b as u8, 1 + usize::from(arg % 4))),
        7 => {
            let inner = std::mem::take(&mut presented[i]);
            presented[i] = der_sequence(&inner);
        }
        8 => {
            // Copy a range from another certificate at the same offset: the
            // classic forgery moves a subject, key or extension across.
            let donor = presented[b % len].clone();
            let cert = &mut presented[i];
            let start = at(cert);
            let span = 1 + usize::from(arg >> 8);
            let end = (start + span).min(cert.len()).min(donor.len());
            if start < end {
                cert[start..end].copy_from_slice(&donor[start..end]);
            }
        }
        9 => presented.swap(i, b % len),
        10 => {
            let copy = presented[i].clone();
            presented.insert(b % (len + 1), copy);
        }
        11 => {
            if len > 1 {
                presented.remove(i);
            }
        }
        _ => {
            if let Some(original) = originals.get(b % originals.len().max(1)) {
                presented[i] = original.clone();
            } else {
                presented[i].clear();
            }
        }
    }
}

fn der_sequence(content: &[u8]) -> Vec<u8> {
    let mut out = vec![0x30];
    match content.len() {
        n @ 0..=0x7f => out.push(n as u8),
        n @ 0x80..=0xff => out.extend([0x81, n as u8]),
        n @ 0x100..=0xffff => out.extend([0x82, (n >> 8) as u8, n as u8]),
        n => out.extend([0x83, (n >> 16) as u8, (n >> 8) as u8, n as u8]),
    }
    out.extend(content);
    out
}

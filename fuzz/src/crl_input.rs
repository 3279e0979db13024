//! The `crl` target's input: an issuer certificate and a CRL, each behind a
//! two-byte big-endian length, then a serial to look up.

/// `(issuer DER, CRL DER, serial contents)`; `None` when the lengths do not fit.
pub fn split(data: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let (issuer, rest) = take(data)?;
    let (crl, serial) = take(rest)?;
    Some((issuer, crl, serial))
}

/// The input for `issuer`, `crl` and `serial`, as the seeds write it.
pub fn join(issuer: &[u8], crl: &[u8], serial: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for part in [issuer, crl] {
        let length = u16::try_from(part.len()).expect("a part under 64 KiB");
        out.extend(length.to_be_bytes());
        out.extend(part);
    }
    out.extend(serial);
    out
}

fn take(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let (length, rest) = data.split_at_checked(2)?;
    let length = usize::from(u16::from_be_bytes([length[0], length[1]]));
    rest.split_at_checked(length)
}

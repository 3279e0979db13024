//! SHA-256 fingerprints of certificates, in the form operators paste into config.

use sha2::{Digest, Sha256};
use std::fmt;

/// A certificate's SHA-256 digest over its DER encoding.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// The fingerprint of a DER-encoded certificate.
    pub fn of_der(der: &[u8]) -> Self {
        Fingerprint(Sha256::digest(der).into())
    }

    /// Parses hex in any case, with or without colons between bytes
    /// (`openssl x509 -fingerprint -sha256` prints `AB:CD:...`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let mut out = [0u8; 32];
        // A bare value of 64 digits (a trusted proxy's XFCC `Hash=`, a
        // digest in another case) is read in place, without a copy.
        if text.len() == 64 && hex::decode_to_slice(text, &mut out).is_ok() {
            return Ok(Fingerprint(out));
        }
        let digits: String = text.chars().filter(|c| *c != ':').collect();
        if digits.len() != 64 {
            return Err(format!(
                "expected 64 hex digits (colons allowed), got {} characters",
                digits.len()
            ));
        }
        hex::decode_to_slice(&digits, &mut out)
            .map_err(|_| "contains a character that is not a hex digit".to_string())?;
        Ok(Fingerprint(out))
    }

    /// Lowercase hex without separators, as Envoy prints `sha256_peer_certificate_digest`.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", self.to_hex())
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABC_SHA256: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn digest_matches_known_vector() {
        assert_eq!(Fingerprint::of_der(b"abc").to_hex(), ABC_SHA256);
    }

    #[test]
    fn parses_openssl_style_with_colons_and_uppercase() {
        let colons: String = ABC_SHA256
            .to_uppercase()
            .as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(":");
        assert_eq!(Fingerprint::parse(&colons), Fingerprint::parse(ABC_SHA256));
        assert_eq!(Fingerprint::parse(&colons).unwrap().to_hex(), ABC_SHA256);
    }

    #[test]
    fn rejects_wrong_length_and_non_hex() {
        assert!(
            Fingerprint::parse("abcd")
                .unwrap_err()
                .contains("64 hex digits")
        );
        let bad = format!("{}zz", &ABC_SHA256[..62]);
        assert!(
            Fingerprint::parse(&bad)
                .unwrap_err()
                .contains("not a hex digit")
        );
    }

    #[test]
    fn reads_envoys_form_in_place_like_any_other() {
        let abc = Fingerprint::of_der(b"abc");
        for text in [
            ABC_SHA256.to_string(),
            ABC_SHA256.to_uppercase(),
            format!(" {ABC_SHA256}\t"),
        ] {
            assert_eq!(Fingerprint::parse(&text), Ok(abc), "{text:?}");
        }
        // 64 characters, one a colon: 63 digits, not a fingerprint.
        let colon = format!("{}:{}", &ABC_SHA256[..31], &ABC_SHA256[32..]);
        assert_eq!(colon.len(), 64);
        assert!(
            Fingerprint::parse(&colon)
                .unwrap_err()
                .contains("64 hex digits")
        );
        // 64 bytes that are not 64 ASCII digits: refused, never a panic.
        let wide = format!("{}é", &ABC_SHA256[..62]);
        assert_eq!(wide.len(), 64);
        assert!(Fingerprint::parse(&wide).is_err());
    }
}

//! Signature verification for webpki over the RustCrypto crates, so the wasm
//! build needs no C toolchain (ring and aws-lc-rs both do).
//!
//! Key strength is not judged here: a short RSA key still verifies, so that a
//! weak key on an otherwise valid path is reported as `WeakKey` by the profile
//! check instead of surfacing as a signature failure.

use rustls_pki_types::{
    AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm, alg_id,
};
use sha2::{Digest, Sha256, Sha384, Sha512};

/// Every algorithm a certificate on a client path may be signed with.
pub(crate) static ALGORITHMS: &[&dyn SignatureVerificationAlgorithm] = &[
    &Ecdsa {
        curve: Curve::P256,
        hash: Hash::Sha256,
    },
    &Ecdsa {
        curve: Curve::P256,
        hash: Hash::Sha384,
    },
    &Ecdsa {
        curve: Curve::P384,
        hash: Hash::Sha256,
    },
    &Ecdsa {
        curve: Curve::P384,
        hash: Hash::Sha384,
    },
    &Ed25519,
    &Rsa {
        padding: Padding::Pkcs1,
        hash: Hash::Sha256,
    },
    &Rsa {
        padding: Padding::Pkcs1,
        hash: Hash::Sha384,
    },
    &Rsa {
        padding: Padding::Pkcs1,
        hash: Hash::Sha512,
    },
    &Rsa {
        padding: Padding::Pss,
        hash: Hash::Sha256,
    },
    &Rsa {
        padding: Padding::Pss,
        hash: Hash::Sha384,
    },
    &Rsa {
        padding: Padding::Pss,
        hash: Hash::Sha512,
    },
];

/// Bounds the cost of one RSA verification, as webpki's own providers do.
const RSA_MAX_MODULUS_BITS: usize = 8192;

#[derive(Clone, Copy, Debug)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn digest(self, message: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => Sha256::digest(message).to_vec(),
            Hash::Sha384 => Sha384::digest(message).to_vec(),
            Hash::Sha512 => Sha512::digest(message).to_vec(),
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Curve {
    P256,
    P384,
}

#[derive(Debug)]
struct Ecdsa {
    curve: Curve,
    hash: Hash,
}

impl SignatureVerificationAlgorithm for Ecdsa {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        use p256::ecdsa::signature::hazmat::PrehashVerifier;
        // ECDSA truncates or pads the digest to the curve size (bits2field),
        // which is what makes the cross-size combinations well defined.
        let prehash = self.hash.digest(message);
        let verified = match self.curve {
            Curve::P256 => {
                let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(public_key)
                    .map_err(|_| InvalidSignature)?;
                let sig =
                    p256::ecdsa::Signature::from_der(signature).map_err(|_| InvalidSignature)?;
                key.verify_prehash(&prehash, &sig)
            }
            Curve::P384 => {
                let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(public_key)
                    .map_err(|_| InvalidSignature)?;
                let sig =
                    p384::ecdsa::Signature::from_der(signature).map_err(|_| InvalidSignature)?;
                key.verify_prehash(&prehash, &sig)
            }
        };
        verified.map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        match self.curve {
            Curve::P256 => alg_id::ECDSA_P256,
            Curve::P384 => alg_id::ECDSA_P384,
        }
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        match self.hash {
            Hash::Sha256 => alg_id::ECDSA_SHA256,
            Hash::Sha384 => alg_id::ECDSA_SHA384,
            Hash::Sha512 => alg_id::ECDSA_SHA512,
        }
    }
}

#[derive(Debug)]
struct Ed25519;

impl SignatureVerificationAlgorithm for Ed25519 {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        let key: [u8; 32] = public_key.try_into().map_err(|_| InvalidSignature)?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&key).map_err(|_| InvalidSignature)?;
        let sig = ed25519_dalek::Signature::from_slice(signature).map_err(|_| InvalidSignature)?;
        // Strict: rejects small-order keys and non-canonical signatures.
        key.verify_strict(message, &sig)
            .map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ED25519
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ED25519
    }
}

#[derive(Clone, Copy, Debug)]
enum Padding {
    Pkcs1,
    /// With MGF1 over the same hash and a salt as long as the hash: the only
    /// parameters the `RSA_PSS_*` algorithm identifiers express.
    Pss,
}

#[derive(Debug)]
struct Rsa {
    padding: Padding,
    hash: Hash,
}

impl SignatureVerificationAlgorithm for Rsa {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        use rsa::signature::Verifier;
        let key = rsa_public_key(public_key)?;
        let verified = match self.padding {
            Padding::Pkcs1 => {
                let sig =
                    rsa::pkcs1v15::Signature::try_from(signature).map_err(|_| InvalidSignature)?;
                match self.hash {
                    Hash::Sha256 => {
                        rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key).verify(message, &sig)
                    }
                    Hash::Sha384 => {
                        rsa::pkcs1v15::VerifyingKey::<Sha384>::new(key).verify(message, &sig)
                    }
                    Hash::Sha512 => {
                        rsa::pkcs1v15::VerifyingKey::<Sha512>::new(key).verify(message, &sig)
                    }
                }
            }
            Padding::Pss => {
                let sig = rsa::pss::Signature::try_from(signature).map_err(|_| InvalidSignature)?;
                // `new` fixes the salt length to the digest length.
                match self.hash {
                    Hash::Sha256 => {
                        rsa::pss::VerifyingKey::<Sha256>::new(key).verify(message, &sig)
                    }
                    Hash::Sha384 => {
                        rsa::pss::VerifyingKey::<Sha384>::new(key).verify(message, &sig)
                    }
                    Hash::Sha512 => {
                        rsa::pss::VerifyingKey::<Sha512>::new(key).verify(message, &sig)
                    }
                }
            }
        };
        verified.map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::RSA_ENCRYPTION
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        match (self.padding, self.hash) {
            (Padding::Pkcs1, Hash::Sha256) => alg_id::RSA_PKCS1_SHA256,
            (Padding::Pkcs1, Hash::Sha384) => alg_id::RSA_PKCS1_SHA384,
            (Padding::Pkcs1, Hash::Sha512) => alg_id::RSA_PKCS1_SHA512,
            (Padding::Pss, Hash::Sha256) => alg_id::RSA_PSS_SHA256,
            (Padding::Pss, Hash::Sha384) => alg_id::RSA_PSS_SHA384,
            (Padding::Pss, Hash::Sha512) => alg_id::RSA_PSS_SHA512,
        }
    }
}

/// Decodes a PKCS#1 `RSAPublicKey` (the content of an rsaEncryption SPKI).
fn rsa_public_key(der: &[u8]) -> Result<rsa::RsaPublicKey, InvalidSignature> {
    use rsa::pkcs1::der::Decode;
    let key = rsa::pkcs1::RsaPublicKey::from_der(der).map_err(|_| InvalidSignature)?;
    let n = rsa::BigUint::from_bytes_be(key.modulus.as_bytes());
    let e = rsa::BigUint::from_bytes_be(key.public_exponent.as_bytes());
    rsa::RsaPublicKey::new_with_max_size(n, e, RSA_MAX_MODULUS_BITS).map_err(|_| InvalidSignature)
}

#[cfg(test)]
mod tests;

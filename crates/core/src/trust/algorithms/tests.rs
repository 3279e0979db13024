use super::*;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Padding as OsslPadding;
use openssl::sign::{RsaPssSaltlen, Signer};

const MESSAGE: &[u8] = b"ONE Record logistics object";

/// The subjectPublicKey bits webpki hands to an algorithm.
fn public_key_bits(key: &PKey<Private>) -> Vec<u8> {
    let spki = key.public_key_to_der().unwrap();
    let (_, parsed) = <x509_parser::x509::SubjectPublicKeyInfo as x509_parser::prelude::FromDer<
        _,
    >>::from_der(&spki)
    .unwrap();
    parsed.subject_public_key.data.to_vec()
}

fn find(
    pk: AlgorithmIdentifier,
    sig: AlgorithmIdentifier,
) -> &'static dyn SignatureVerificationAlgorithm {
    *ALGORITHMS
        .iter()
        .find(|a| a.public_key_alg_id() == pk && a.signature_alg_id() == sig)
        .unwrap()
}

fn sign(key: &PKey<Private>, digest: Option<MessageDigest>, pss: bool) -> Vec<u8> {
    let mut signer = match digest {
        Some(d) => Signer::new(d, key).unwrap(),
        None => Signer::new_without_digest(key).unwrap(),
    };
    if pss {
        signer.set_rsa_padding(OsslPadding::PKCS1_PSS).unwrap();
        signer
            .set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH)
            .unwrap();
        signer.set_rsa_mgf1_md(digest.unwrap()).unwrap();
    }
    signer.sign_oneshot_to_vec(MESSAGE).unwrap()
}

/// Verifies a good signature, then the same signature over another message.
fn assert_verifies(alg: &dyn SignatureVerificationAlgorithm, key: &[u8], sig: &[u8]) {
    assert!(
        alg.verify_signature(key, MESSAGE, sig).is_ok(),
        "{alg:?} rejected a good signature"
    );
    assert!(
        alg.verify_signature(key, b"tampered", sig).is_err(),
        "{alg:?} accepted a tampered message"
    );
    let mut bad = sig.to_vec();
    if let Some(last) = bad.last_mut() {
        *last ^= 1;
    }
    assert!(
        alg.verify_signature(key, MESSAGE, &bad).is_err(),
        "{alg:?} accepted a flipped bit"
    );
}

fn ec_key(nid: openssl::nid::Nid) -> PKey<Private> {
    let group = openssl::ec::EcGroup::from_curve_name(nid).unwrap();
    PKey::from_ec_key(openssl::ec::EcKey::generate(&group).unwrap()).unwrap()
}

#[test]
fn ecdsa_all_curve_and_hash_combinations() {
    let p256 = ec_key(openssl::nid::Nid::X9_62_PRIME256V1);
    let p384 = ec_key(openssl::nid::Nid::SECP384R1);
    for (key, pk_id) in [(&p256, alg_id::ECDSA_P256), (&p384, alg_id::ECDSA_P384)] {
        for (digest, sig_id) in [
            (MessageDigest::sha256(), alg_id::ECDSA_SHA256),
            (MessageDigest::sha384(), alg_id::ECDSA_SHA384),
        ] {
            let sig = sign(key, Some(digest), false);
            assert_verifies(find(pk_id, sig_id), &public_key_bits(key), &sig);
        }
    }
    // A P-256 key is not a P-384 key.
    let sig = sign(&p256, Some(MessageDigest::sha256()), false);
    let wrong = find(alg_id::ECDSA_P384, alg_id::ECDSA_SHA256);
    assert!(
        wrong
            .verify_signature(&public_key_bits(&p256), MESSAGE, &sig)
            .is_err()
    );
}

#[test]
fn ed25519_verifies_and_rejects_wrong_length_key() {
    let key = PKey::generate_ed25519().unwrap();
    let sig = sign(&key, None, false);
    let alg = find(alg_id::ED25519, alg_id::ED25519);
    assert_verifies(alg, &public_key_bits(&key), &sig);
    assert!(alg.verify_signature(&[0u8; 31], MESSAGE, &sig).is_err());
}

#[test]
fn rsa_pkcs1_and_pss_with_each_hash() {
    let key = PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
    let bits = public_key_bits(&key);
    let cases = [
        (MessageDigest::sha256(), false, alg_id::RSA_PKCS1_SHA256),
        (MessageDigest::sha384(), false, alg_id::RSA_PKCS1_SHA384),
        (MessageDigest::sha512(), false, alg_id::RSA_PKCS1_SHA512),
        (MessageDigest::sha256(), true, alg_id::RSA_PSS_SHA256),
        (MessageDigest::sha384(), true, alg_id::RSA_PSS_SHA384),
        (MessageDigest::sha512(), true, alg_id::RSA_PSS_SHA512),
    ];
    for (digest, pss, sig_id) in cases {
        let sig = sign(&key, Some(digest), pss);
        assert_verifies(find(alg_id::RSA_ENCRYPTION, sig_id), &bits, &sig);
    }
    // PKCS#1 v1.5 and PSS are not interchangeable.
    let pkcs1 = sign(&key, Some(MessageDigest::sha256()), false);
    let pss = find(alg_id::RSA_ENCRYPTION, alg_id::RSA_PSS_SHA256);
    assert!(pss.verify_signature(&bits, MESSAGE, &pkcs1).is_err());
}

#[test]
fn rsa_pss_requires_salt_as_long_as_the_hash() {
    let key = PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
    let mut signer = Signer::new(MessageDigest::sha256(), &key).unwrap();
    signer.set_rsa_padding(OsslPadding::PKCS1_PSS).unwrap();
    signer
        .set_rsa_pss_saltlen(RsaPssSaltlen::custom(20))
        .unwrap();
    signer.set_rsa_mgf1_md(MessageDigest::sha256()).unwrap();
    let sig = signer.sign_oneshot_to_vec(MESSAGE).unwrap();
    let alg = find(alg_id::RSA_ENCRYPTION, alg_id::RSA_PSS_SHA256);
    assert!(
        alg.verify_signature(&public_key_bits(&key), MESSAGE, &sig)
            .is_err()
    );
}

#[test]
fn rsa_weak_key_still_verifies_and_huge_key_is_refused() {
    let weak = PKey::from_rsa(openssl::rsa::Rsa::generate(1024).unwrap()).unwrap();
    let sig = sign(&weak, Some(MessageDigest::sha256()), false);
    let alg = find(alg_id::RSA_ENCRYPTION, alg_id::RSA_PKCS1_SHA256);
    assert!(
        alg.verify_signature(&public_key_bits(&weak), MESSAGE, &sig)
            .is_ok()
    );

    // A modulus beyond the bound is refused before any arithmetic.
    let huge = rsa::pkcs1::RsaPublicKey {
        modulus: rsa::pkcs1::UintRef::new(&[0xff; RSA_MAX_MODULUS_BITS / 8 + 1]).unwrap(),
        public_exponent: rsa::pkcs1::UintRef::new(&[1, 0, 1]).unwrap(),
    };
    let der = rsa::pkcs1::der::Encode::to_der(&huge).unwrap();
    assert!(rsa_public_key(&der).is_err());
}

#[test]
fn garbage_keys_and_signatures_are_rejected_without_panic() {
    for alg in ALGORITHMS {
        for key in [
            &[][..],
            &[0u8; 1][..],
            &[0x30, 0x82, 0xff, 0xff][..],
            &[0x04; 65][..],
        ] {
            assert!(alg.verify_signature(key, MESSAGE, &[0x30, 0x00]).is_err());
            assert!(alg.verify_signature(key, MESSAGE, &[]).is_err());
        }
    }
}

//! Hostile input.

use super::*;

#[test]
fn garbage_is_certificate_invalid() {
    let p = standard();
    let settings = trusting(&[&p.root]);
    let mut truncated = p.leaf.der();
    truncated.truncate(truncated.len() / 2);
    let mut trailing = p.leaf.der();
    trailing.push(0);
    for leaf in [
        Vec::new(),
        b"not a certificate".to_vec(),
        truncated.clone(),
        trailing,
        vec![0x30, 0x80, 0, 0],
    ] {
        let garbage = PresentedChain {
            leaf,
            others: vec![p.inter.der()],
        };
        assert_eq!(
            outcome(&settings, &garbage),
            Err(Reason::CertificateInvalid)
        );
    }
    for other in [Vec::new(), b"junk".to_vec(), truncated] {
        let garbage = PresentedChain {
            leaf: p.leaf.der(),
            others: vec![p.inter.der(), other],
        };
        assert_eq!(
            outcome(&settings, &garbage),
            Err(Reason::CertificateInvalid)
        );
    }
}

#[test]
fn mutated_chains_never_verify_and_never_panic() {
    let p = standard();
    let store = TrustStore::new(&trusting(&[&p.root]));
    let good = chain(&p.leaf, &[&p.inter]);
    assert!(store.verify(&good, now()).is_ok());

    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..400 {
        let mut mutated = good.clone();
        let target = if next() % 2 == 0 {
            &mut mutated.leaf
        } else {
            &mut mutated.others[0]
        };
        let at = (next() as usize) % target.len();
        target[at] ^= 1 << (next() % 8);
        assert!(
            store.verify(&mutated, now()).is_err(),
            "bit flip at {at} verified"
        );
    }
    for cut in (0..p.inter.der().len()).step_by(13) {
        let mut cut_chain = good.clone();
        cut_chain.others[0].truncate(cut);
        assert!(store.verify(&cut_chain, now()).is_err());
    }
}

//! Answers OpenSSL's responder signs with a certificate other than the
//! issuer's: a delegated responder the issuer certified for OCSP signing is
//! believed, good and revoked; a certificate the issuer did not certify for
//! it, one from another CA, and one with a critical extension nobody
//! understands are no answer (`revocation_status_unknown` in hard mode),
//! although each responder was asked and answered.

use super::any_responder::dynamic_cluster;
use super::*;
use support::pki::self_signed;

/// A responder certificate `issuer` signs: OCSPSigning unless `eku` says
/// otherwise, `extra` added.
fn responder_cert(issuer: &Issued, eku: &'static str, extra: Option<(&str, &str)>) -> Issued {
    let mut spec = CertSpec::client("OCSP Responder").eku(Some(vec![eku]));
    if let Some((name, value)) = extra {
        spec = spec.extension(name, value);
    }
    issue(&spec, issuer)
}

#[test]
fn a_delegated_responder_is_believed_only_with_the_issuers_ocsp_signing_grant() {
    let ports: Vec<u16> = (0..4).map(|_| free_port()).collect();
    let s = start("hard", dynamic_cluster(&ports));

    // Certified by the client's CA for OCSP signing: its answers decide.
    let good = client("delegated-good", ports[0]);
    let revoked = client("delegated-revoked", ports[0]);
    let delegate = responder_cert(root(), "OCSPSigning", None);
    let statuses = [(&good, false), (&revoked, true)];
    let responder = OcspResponder::start_signed_by(ports[0], root(), &delegate, 60, &statuses);
    assert_eq!(get(&s, &good).status, 200, "{}", diagnose(&s));
    let resp = get(&s, &revoked);
    assert_refused(
        &s,
        &resp,
        "certificate_revoked",
        "the delegate says revoked",
    );
    assert_eq!(responder.requests(), 2);
    assert_eq!((asked(&s, "good"), asked(&s, "revoked")), (1, 1));
    assert_eq!(s.upstream.count(), 1);

    // Each says "good" for a client of the CA, and none may say it.
    let stranger_ca = self_signed(&CertSpec::ca("Stranger CA"));
    let untrusted = [
        ("no OCSPSigning", responder_cert(root(), "clientAuth", None)),
        (
            "another CA's responder",
            responder_cert(&stranger_ca, "OCSPSigning", None),
        ),
        (
            "an unknown critical extension",
            responder_cert(
                root(),
                "OCSPSigning",
                Some(("1.3.6.1.4.1.99999.1", "critical,DER:05:00")),
            ),
        ),
    ];
    for (i, (what, signer)) in untrusted.iter().enumerate() {
        let port = ports[i + 1];
        let leaf = client(&format!("delegated-refused-{i}"), port);
        let responder = OcspResponder::start_signed_by(port, root(), signer, 60, &[(&leaf, false)]);
        let resp = get(&s, &leaf);
        assert_refused(&s, &resp, "revocation_status_unknown", what);
        assert_eq!(responder.requests(), 1, "{what}: the responder answered");
        assert_eq!(asked(&s, "bad_response"), i as u64 + 1, "{what}");
    }
    assert_eq!(asked(&s, "good"), 1, "no refused answer counted good");
    assert_eq!(s.upstream.count(), 1);
}

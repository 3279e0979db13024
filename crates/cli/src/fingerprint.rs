//! `fingerprint FILE`: the SHA-256 of each certificate, as the configuration wants it.

use crate::Failure;
use crate::args::FingerprintArgs;
use crate::certs;
use onerecord_tls_policy_core::fingerprint::Fingerprint;
use std::process::ExitCode;

pub fn run(args: &FingerprintArgs) -> Result<ExitCode, Failure> {
    let bundle = certs::read_file(&args.file)?;
    for (number, label) in &bundle.skipped {
        eprintln!(
            "note: {}: skipped PEM block {number} ({label}): not a certificate",
            args.file.display()
        );
    }
    for cert in &bundle.certificates {
        let digest = if args.colons {
            with_colons(&cert.sha256)
        } else {
            cert.sha256.to_hex()
        };
        println!("{digest}  {}", cert.subject);
    }
    Ok(ExitCode::SUCCESS)
}

/// `AB:CD:…`, the form `openssl x509 -fingerprint -sha256` prints.
fn with_colons(fingerprint: &Fingerprint) -> String {
    fingerprint
        .0
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colon_form_parses_back() {
        let f = Fingerprint::of_der(b"abc");
        let text = with_colons(&f);
        assert_eq!(text.len(), 64 + 31);
        assert!(text.starts_with("BA:78:16:BF"));
        assert_eq!(Fingerprint::parse(&text), Ok(f));
    }
}

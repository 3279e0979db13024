//! Writes an `XfccElement` back as header text, so the parser's output can be
//! fed to it again (round trip), and encodes PEM the ways a header may carry it.

use onerecord_tls_policy::xfcc::XfccElement;

/// One element in Envoy's key order. `Cert`/`Chain` are percent-encoded in
/// full; the other values go out as the parser returned them (quoted content
/// is kept verbatim by the parser, escapes included), quoted only when they
/// hold a separator or a quote.
pub fn serialize(e: &XfccElement) -> String {
    let mut pairs = Vec::new();
    pairs.extend(e.by.iter().map(|v| format!("By={}", value(v))));
    if let Some(hash) = &e.hash {
        pairs.push(format!("Hash={hash}"));
    }
    if let Some(cert) = &e.cert {
        pairs.push(format!("Cert=\"{}\"", percent_encode_all(cert)));
    }
    if let Some(chain) = &e.chain {
        pairs.push(format!("Chain={}", percent_encode_all(chain)));
    }
    if let Some(subject) = &e.subject {
        pairs.push(format!("Subject={}", value(subject)));
    }
    pairs.extend(e.uri.iter().map(|v| format!("URI={}", value(v))));
    pairs.extend(e.dns.iter().map(|v| format!("DNS={}", value(v))));
    if pairs.is_empty() {
        // An element of unknown keys only: the parser ignores them, but the
        // element itself must not be empty.
        pairs.push("Other=".to_string());
    }
    pairs.join(";")
}

fn value(v: &str) -> String {
    if v.contains([';', ',', '"']) {
        format!("\"{v}\"")
    } else {
        v.to_string()
    }
}

/// Every byte but ASCII letters and digits as `%XX`.
pub fn percent_encode_all(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

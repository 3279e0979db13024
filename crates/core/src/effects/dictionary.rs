//! The facts as one RFC 8941 (Structured Field Values) dictionary:
//! `tls-version=TLSv1.3, mtls=verified, client-sha256="…", client-uri-san=("…" "…")`.
//! Fixed words are tokens, text is a string (its `"` and `\` escaped; it is
//! printable ASCII already), a list is an inner list of strings, and audit
//! mode's deny is the token `audit-deny` with `reason` and `detail` parameters.

use super::annotations::Fact;

pub fn serialize(facts: &[(&'static str, Fact)]) -> String {
    let mut out = String::new();
    for (i, (key, fact)) in facts.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(key);
        out.push('=');
        match fact {
            Fact::Word(word) => out.push_str(word),
            Fact::Text(text) => string(&mut out, text),
            Fact::List(items) => {
                out.push('(');
                for (j, item) in items.iter().enumerate() {
                    if j > 0 {
                        out.push(' ');
                    }
                    string(&mut out, item);
                }
                out.push(')');
            }
            Fact::AuditDeny { reason, detail } => {
                out.push_str("audit-deny;reason=");
                out.push_str(reason);
                if let Some(detail) = detail {
                    out.push_str(";detail=");
                    string(&mut out, detail);
                }
            }
        }
    }
    out
}

/// An sf-string. Anything outside printable ASCII was percent-encoded by
/// `header_safe`; should some not be, it is encoded here, so the value is
/// always a valid string.
fn string(out: &mut String, text: &str) {
    out.push('"');
    for b in text.bytes() {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x20..=0x7e => out.push(char::from(b)),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out.push('"');
}

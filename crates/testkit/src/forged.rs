//! Client-sent copies of the filter's annotations: what every suite that
//! checks the stripping sends, in several spellings.

use super::curl::Curl;
use super::http::Request;

/// The filter's headers with values a client would like the backend to
/// believe (a verified admin, an allow verdict).
pub fn forged_headers() -> Vec<(&'static str, String)> {
    vec![
        ("x-onerecord-mtls", "verified".into()),
        ("X-OneRecord-Mtls", "verified".into()),
        ("x-onerecord-client-sha256", "ab".repeat(32)),
        (
            "x-onerecord-client-subject",
            "O=Example Airline,CN=admin".into(),
        ),
        (
            "x-onerecord-client-uri-san",
            "https://1r.example.com/logistics-agents/admin".into(),
        ),
        ("x-onerecord-trust-anchor-sha256", "cd".repeat(32)),
        ("x-onerecord-tls-version", "TLSv1.3".into()),
        ("x-onerecord-rule", "none".into()),
        ("x-onerecord-policy", "allow".into()),
        ("x-onerecord-deny-reason", "none".into()),
    ]
}

/// `req` carrying the forged headers.
pub fn forged(mut req: Request) -> Request {
    for (name, value) in forged_headers() {
        req = req.header(name, &value);
    }
    req
}

/// `curl` sending the forged headers.
pub fn forged_curl(mut curl: Curl) -> Curl {
    for (name, value) in forged_headers() {
        curl = curl.header(name, &value);
    }
    curl
}

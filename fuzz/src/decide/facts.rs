//! The facts a [`Case`] describes: the request, the TLS version, and the
//! peer facts built from pieces of the pool's certificates (whole, bit
//! flipped or truncated) with attacker elements in front.

use super::case::{
    Case, ClockChoice, DigestSpec, Encoding, Form, Layout, Pair, PathChoice, PeerChoice, PemSpec,
    Piece, RouteChoice, TlsChoice, Tweak, XfccSpec,
};
use super::certs::Certs;
use super::config::method;
use crate::xfcc_text::percent_encode_all;
use onerecord_tls_policy::config::{Config, PathMatch};
use onerecord_tls_policy::facts::{ConnectionFacts, Facts, PeerFacts, RequestFacts, Unavailable};
use onerecord_tls_policy::xfcc::envoy_format;

/// The realistic path, `PathChoice::Resource`.
const RESOURCE: &str = "/logistics-objects/1";

pub fn clock(choice: &ClockChoice, pool_now: u64) -> u64 {
    match *choice {
        ClockChoice::Pool => pool_now,
        ClockChoice::Shift(s) => pool_now.saturating_add_signed(i64::from(s)),
        ClockChoice::At(t) => t,
    }
}

pub fn facts(case: &Case, certs: &Certs<'_>, config: &Config, pool_now: u64) -> Facts {
    let path = match &case.path {
        PathChoice::Resource => RESOURCE.to_string(),
        PathChoice::Rule(i, suffix) => {
            let rule = match config.rules.len() {
                0 => None,
                n => config.rules.get(usize::from(*i) % n),
            };
            let base = rule.map_or("/", |r| match &r.path {
                PathMatch::Prefix(p) | PathMatch::Exact(p) => p.as_str(),
            });
            format!("{base}{suffix}")
        }
        PathChoice::Form(i, forms) => {
            let rule = match config.rules.len() {
                0 => None,
                n => config.rules.get(usize::from(*i) % n),
            };
            let mut path = rule
                .map_or("/", |r| match &r.path {
                    PathMatch::Prefix(p) | PathMatch::Exact(p) => p.as_str(),
                })
                .to_string();
            for form in forms {
                let rest = path.strip_prefix('/').unwrap_or(&path).to_string();
                path = match form {
                    Form::Upper => path.to_ascii_uppercase(),
                    Form::Parameter => format!("/;x{path}"),
                    Form::DotDotParameter => format!("/x/..;{path}"),
                    Form::EncodedSlashes => format!("/{}", rest.replace('/', "%2F")),
                    Form::Backslashes => format!("/{}", rest.replace('/', "\\")),
                    Form::TrailingSlash => format!("{path}/"),
                    Form::Up => format!("{path}/../x"),
                };
            }
            path
        }
        PathChoice::Text(t) => t.clone(),
    };
    let route_mtls = match &case.route {
        RouteChoice::Unset => None,
        RouteChoice::Required => Some("required".to_string()),
        RouteChoice::Optional => Some("optional".to_string()),
        RouteChoice::Text(t) => Some(t.clone()),
    };
    let tls_version = match &case.tls {
        TlsChoice::V12 => Ok(Some("TLSv1.2")),
        TlsChoice::V13 => Ok(Some("TLSv1.3")),
        TlsChoice::V11 => Ok(Some("TLSv1.1")),
        TlsChoice::V10 => Ok(Some("TLSv1")),
        TlsChoice::Ssl3 => Ok(Some("SSLv3")),
        TlsChoice::Plaintext => Ok(None),
        TlsChoice::Empty => Ok(Some("")),
        TlsChoice::Unavailable => Err(()),
        TlsChoice::Text(t) => Ok(Some(t.as_str())),
    };
    let now_unix = clock(&case.clock, pool_now);
    let connection = match tls_version {
        Err(()) => Err(Unavailable("connection.tls_version".into())),
        Ok(tls) => Ok(ConnectionFacts {
            peer_uri_san: None,
            id: None,
            tls_version: tls.map(str::to_string),
            peer: peer(&case.peer, certs),
        }),
    };
    Facts {
        request: RequestFacts {
            path,
            method: method(&case.method),
            route_mtls,
            authority: "onerecord.example:8443".to_string(),
            ..RequestFacts::default()
        },
        connection,
        now_unix,
    }
}

pub fn peer(choice: &PeerChoice, certs: &Certs<'_>) -> Option<PeerFacts> {
    match choice {
        PeerChoice::NoCertificate => None,
        PeerChoice::Custom(spec) => Some(PeerFacts {
            sha256_digest: spec.digest.as_ref().map(|d| digest(d, certs)),
            certificate_pem: spec.pem.as_ref().map(|p| pem(p, certs)),
            xfcc: spec.xfcc.as_ref().map(|x| element(x, certs)),
        }),
        PeerChoice::Envoy(tweaks) => {
            let chain: Vec<Vec<u8>> = certs.der.iter().map(|d| d.to_vec()).collect();
            let mut peer = envoy_format::peer_facts(&chain).unwrap_or_default();
            for tweak in tweaks {
                match tweak {
                    Tweak::Chain(indices) => {
                        let chain: Vec<Vec<u8>> =
                            indices.iter().map(|&i| certs.get(i).to_vec()).collect();
                        if let Some(p) = envoy_format::peer_facts(&chain) {
                            peer = p;
                        }
                    }
                    Tweak::DropPem => peer.certificate_pem = None,
                    Tweak::DropDigest => peer.sha256_digest = None,
                    Tweak::DropXfcc => peer.xfcc = None,
                    Tweak::Digest(d) => peer.sha256_digest = Some(digest(d, certs)),
                    Tweak::Pem(p) => peer.certificate_pem = Some(pem(p, certs)),
                    Tweak::Prefix(text) => {
                        peer.xfcc = Some(format!("{text},{}", peer.xfcc.unwrap_or_default()))
                    }
                    Tweak::PrefixElement(x) => {
                        let e = element(x, certs);
                        peer.xfcc = Some(format!("{e},{}", peer.xfcc.unwrap_or_default()))
                    }
                    Tweak::Append(x) => {
                        let e = element(x, certs);
                        peer.xfcc = Some(format!("{},{e}", peer.xfcc.unwrap_or_default()))
                    }
                    Tweak::Replace(x) => peer.xfcc = Some(element(x, certs)),
                }
            }
            Some(peer)
        }
    }
}

pub fn digest(spec: &DigestSpec, certs: &Certs<'_>) -> String {
    match spec {
        DigestSpec::Of(i) => certs.sha256(*i),
        DigestSpec::Upper(i) => certs.sha256(*i).to_ascii_uppercase(),
        DigestSpec::Colons(i) => {
            let hex = certs.sha256(*i);
            let pairs: Vec<&str> = (0..hex.len() / 2).map(|k| &hex[2 * k..2 * k + 2]).collect();
            pairs.join(":")
        }
        DigestSpec::Text(t) => t.clone(),
    }
}

pub fn piece(p: &Piece, certs: &Certs<'_>) -> Vec<u8> {
    match p {
        Piece::Pool(i) => certs.get(*i).to_vec(),
        Piece::Flipped { index, at, xor } => {
            let mut der = certs.get(*index).to_vec();
            let len = der.len();
            if len > 0 {
                der[usize::from(*at) % len] ^= (*xor).max(1);
            }
            der
        }
        Piece::Truncated { index, len } => {
            let der = certs.get(*index);
            der[..usize::from(*len).min(der.len())].to_vec()
        }
        Piece::Bytes(b) => b.clone(),
    }
}

pub fn pem(spec: &PemSpec, certs: &Certs<'_>) -> String {
    let text: String = spec
        .certs
        .iter()
        .map(|p| envoy_format::pem(&piece(p, certs)))
        .collect();
    match &spec.layout {
        Layout::OpenSsl => text,
        Layout::Crlf => text.replace('\n', "\r\n"),
        Layout::NoFinalNewline => text.trim_end_matches('\n').to_string(),
        Layout::Text(t) => format!("{text}{t}"),
    }
}

pub fn element(spec: &XfccSpec, certs: &Certs<'_>) -> String {
    let pairs: Vec<String> = spec
        .pairs
        .iter()
        .map(|pair| match pair {
            Pair::Hash(d) => format!("Hash={}", digest(d, certs)),
            Pair::Cert(p, enc) => format!("Cert={}", encode(&pem(p, certs), enc)),
            Pair::Chain(p, enc) => format!("Chain={}", encode(&pem(p, certs), enc)),
            Pair::Subject(i) => format!("Subject=\"{}\"", certs.names(*i).0),
            Pair::Uri(i) => certs
                .names(*i)
                .1
                .iter()
                .map(|u| format!("URI={u}"))
                .collect::<Vec<_>>()
                .join(";"),
            Pair::Dns(i) => certs
                .names(*i)
                .2
                .iter()
                .map(|d| format!("DNS={d}"))
                .collect::<Vec<_>>()
                .join(";"),
            Pair::By(b) => format!("By={b}"),
            Pair::Text(k, v) => format!("{k}={v}"),
        })
        .collect();
    pairs.join(";")
}

pub fn encode(pem: &str, enc: &Encoding) -> String {
    match enc {
        Encoding::Envoy => format!("\"{}\"", envoy_format::url_encode_pem(pem)),
        Encoding::Percent => percent_encode_all(pem),
        Encoding::Verbatim => format!("\"{pem}\""),
    }
}

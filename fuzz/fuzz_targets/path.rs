//! Path forms against the rules. Input: the request path's text up to the
//! first NUL byte (bytes that are not UTF-8 read as the filter reads them),
//! then an `arbitrary` `Case`: more of the path built from the pieces
//! backends read differently (`;` parameters, encoded and back slashes, dot
//! segments, case, escapes, queries, raw bytes), and rules beside the
//! finding's own (`public` optional, `access-delegations` required, an exact
//! `/admin`, a `GET`-only rule). Seeds are the finding's path forms.
//!
//! Invariants:
//! - a path that is not origin form (RFC 3986) selects nothing and is
//!   denied `request_path_invalid`, after the TLS checks;
//! - for each reading of the independent oracle (`path_oracle`), the rule
//!   it selects is among the rules the filter applied, and the filter
//!   applied no rule that no reading selects;
//! - the decided requirement is the strictest of those rules' (a reading
//!   that selects none brings the default), and the reported rule is the
//!   earliest that set it;
//! - an accepted rule path is its own reading for every backend.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use onerecord_tls_policy::config::{Config, PathMatch};
use onerecord_tls_policy::facts::{ConnectionFacts, Facts, RequestFacts};
use onerecord_tls_policy::policy::{Policy, Verdict};
use onerecord_tls_policy::reason::Reason;
use onerecord_tls_policy_fuzz::path_oracle::{self, backend_path, backends, is_origin_form};
use serde_json::{Value, json};

/// Pinned so that rules may require clients; no client is ever presented.
const FP: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

#[derive(Arbitrary, Debug)]
struct Case {
    /// The finding's rules after the arbitrary ones instead of before.
    base_last: bool,
    default_required: bool,
    global_allow_list: bool,
    rules: Vec<RuleSpec>,
    path: Vec<Piece>,
    method: Method,
    plaintext: bool,
}

#[derive(Arbitrary, Debug)]
struct RuleSpec {
    words: Vec<Word>,
    trailing_slash: bool,
    /// A path written as is instead (the configuration may refuse it).
    raw: Option<String>,
    exact: bool,
    case_sensitive: bool,
    methods: Vec<Method>,
    mtls: Option<bool>,
    allow_list: bool,
}

/// A small vocabulary, so that rules and paths meet.
#[derive(Arbitrary, Debug)]
enum Word {
    AccessDelegations,
    Public,
    Admin,
    A,
    Text(String),
}

#[derive(Arbitrary, Debug)]
enum Piece {
    Slash,
    Word(Word),
    UpperWord(Word),
    Dot,
    DotDot,
    Param(Word),
    EncodedSlash { lower: bool },
    EncodedBackslash { lower: bool },
    Backslash,
    EncodedSemicolon,
    Escape { byte: u8, lower: bool },
    Query(String),
    Fragment,
    Byte(u8),
}

#[derive(Arbitrary, Debug)]
enum Method {
    Get,
    Head,
    Post,
    Text(String),
}

fn word(w: &Word) -> String {
    match w {
        Word::AccessDelegations => "access-delegations".into(),
        Word::Public => "public".into(),
        Word::Admin => "Admin".into(),
        Word::A => "a".into(),
        Word::Text(t) => t.clone(),
    }
}

fn method(m: &Method) -> String {
    match m {
        Method::Get => "GET".into(),
        Method::Head => "HEAD".into(),
        Method::Post => "post".into(),
        Method::Text(t) => t.clone(),
    }
}

fn escape(byte: u8, lower: bool) -> String {
    if lower {
        format!("%{byte:02x}")
    } else {
        format!("%{byte:02X}")
    }
}

fn request_path(pieces: &[Piece]) -> String {
    let mut path = String::new();
    for piece in pieces {
        match piece {
            Piece::Slash => path.push('/'),
            Piece::Word(w) => path.push_str(&word(w)),
            Piece::UpperWord(w) => path.push_str(&word(w).to_ascii_uppercase()),
            Piece::Dot => path.push('.'),
            Piece::DotDot => path.push_str(".."),
            Piece::Param(w) => path.push_str(&format!(";{}", word(w))),
            Piece::EncodedSlash { lower } => path.push_str(&escape(b'/', *lower)),
            Piece::EncodedBackslash { lower } => path.push_str(&escape(b'\\', *lower)),
            Piece::Backslash => path.push('\\'),
            Piece::EncodedSemicolon => path.push_str("%3B"),
            Piece::Escape { byte, lower } => path.push_str(&escape(*byte, *lower)),
            Piece::Query(q) => path.push_str(&format!("?{q}")),
            Piece::Fragment => path.push('#'),
            // As the filter reads a byte that is not UTF-8 (U+FFFD) or any other.
            Piece::Byte(b) if *b >= 0x80 => path.push('\u{fffd}'),
            Piece::Byte(b) => path.push(char::from(*b)),
        }
    }
    path
}

fn base_rules() -> Vec<Value> {
    vec![
        json!({ "name": "public", "path_prefix": "/public", "mtls": "optional" }),
        json!({ "name": "access-delegations", "path_prefix": "/access-delegations", "mtls": "required" }),
        json!({ "name": "admin", "path_exact": "/admin", "mtls": "required" }),
        json!({ "name": "reports", "path_prefix": "/reports", "methods": ["GET"], "mtls": "required" }),
    ]
}

fn config_json(case: &Case) -> Value {
    let mut rules: Vec<Value> = case
        .rules
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let path = spec.raw.clone().unwrap_or_else(|| {
                let words: Vec<String> = spec.words.iter().map(word).collect();
                let slash = if spec.trailing_slash { "/" } else { "" };
                format!("/{}{slash}", words.join("/"))
            });
            let key = if spec.exact {
                "path_exact"
            } else {
                "path_prefix"
            };
            let mut rule = json!({ "name": format!("rule-{i}"), key: path });
            if spec.case_sensitive {
                rule["case_sensitive"] = json!(true);
            }
            if !spec.methods.is_empty() {
                rule["methods"] = json!(spec.methods.iter().map(method).collect::<Vec<_>>());
            }
            if let Some(required) = spec.mtls {
                rule["mtls"] = json!(if required { "required" } else { "optional" });
            }
            if spec.allow_list {
                rule["allowed_clients"] = json!({ "dns_san": ["rule.example"] });
            }
            rule
        })
        .collect();
    if case.base_last {
        rules.extend(base_rules());
    } else {
        rules.splice(0..0, base_rules());
    }
    let mut config = json!({ "trusted_ca_sha256": [FP], "rules": rules });
    if case.default_required {
        config["mtls"] = json!("required");
    }
    if case.global_allow_list {
        config["allowed_clients"] = json!({ "dns_san": ["global.example"] });
    }
    config
}

fuzz_target!(|data: &[u8]| {
    let (text, rest) = match data.iter().position(|&b| b == 0) {
        Some(nul) => (&data[..nul], &data[nul + 1..]),
        None => (data, &[][..]),
    };
    let Ok(case) = Case::arbitrary_take_rest(Unstructured::new(rest)) else {
        return;
    };
    let Ok(config) = Config::parse(config_json(&case).to_string().as_bytes()) else {
        return;
    };
    for rule in &config.rules {
        let (PathMatch::Prefix(p) | PathMatch::Exact(p)) = &rule.path;
        assert!(is_origin_form(p), "accepted rule path {p:?}");
        for backend in backends() {
            assert_eq!(
                backend_path(p, backend),
                *p,
                "{backend:?} reads {p:?} otherwise"
            );
        }
    }
    let policy = Policy::new(config);
    let config = &policy.config;
    let path = String::from_utf8_lossy(text).into_owned() + &request_path(&case.path);
    let method = method(&case.method);
    let facts = Facts {
        request: RequestFacts {
            path: path.clone(),
            method: method.clone(),
            ..RequestFacts::default()
        },
        connection: Ok(ConnectionFacts {
            peer_uri_san: None,
            id: None,
            tls_version: (!case.plaintext).then(|| "TLSv1.2".to_string()),
            peer: None,
        }),
        now_unix: 1_800_000_000,
    };
    let decision = policy.decide(&facts);
    let selection = policy.select_rules(&path, &method);
    if case.plaintext {
        assert_eq!(decision.verdict, Verdict::Deny(Reason::TlsRequired));
    }

    if !is_origin_form(&path) {
        assert_eq!(selection, None, "{path:?} is no origin-form path");
        assert_eq!(decision.rule, None);
        if !case.plaintext {
            assert_eq!(decision.verdict, Verdict::Deny(Reason::RequestPathInvalid));
        }
        return;
    }
    let selection = selection.expect("an origin-form path has readings");
    let picks = path_oracle::picks(&config.rules, &path, &method);
    for &pick in &picks {
        assert!(
            selection.includes(pick),
            "{path:?}: a reading selects {pick:?}, the filter applied {:?}",
            selection.picks().collect::<Vec<_>>()
        );
    }
    for pick in selection.picks() {
        assert!(
            picks.contains(&pick),
            "{path:?}: {pick:?} selected by no reading"
        );
    }

    let required = picks.iter().any(|&p| path_oracle::requires(config, p));
    let reported = path_oracle::reported(config, &picks);
    assert_eq!(
        decision.rule,
        reported.map(|i| config.rules[i].name.clone()),
        "{path:?}: the reported rule"
    );
    if !case.plaintext {
        let expected = if required {
            Verdict::Deny(Reason::ClientCertificateRequired)
        } else {
            Verdict::Allow
        };
        assert_eq!(decision.verdict, expected, "{path:?} {method}");
    }
});

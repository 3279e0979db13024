//! The values a configuration is made of: mode, TLS versions, mTLS
//! requirements, allow-lists and rules.

use crate::fingerprint::Fingerprint;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Enforce,
    Audit,
}

/// TLS protocol versions Envoy reports in `connection.tls_version`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    Ssl3,
    Tls10,
    Tls11,
    Tls12,
    Tls13,
}

impl TlsVersion {
    /// Parses Envoy's spelling (`TLSv1`, `TLSv1.1`, `TLSv1.2`, `TLSv1.3`).
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "SSLv3" => Some(TlsVersion::Ssl3),
            "TLSv1" | "TLSv1.0" => Some(TlsVersion::Tls10),
            "TLSv1.1" => Some(TlsVersion::Tls11),
            "TLSv1.2" => Some(TlsVersion::Tls12),
            "TLSv1.3" => Some(TlsVersion::Tls13),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TlsVersion::Ssl3 => "SSLv3",
            TlsVersion::Tls10 => "TLSv1",
            TlsVersion::Tls11 => "TLSv1.1",
            TlsVersion::Tls12 => "TLSv1.2",
            TlsVersion::Tls13 => "TLSv1.3",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MtlsRequirement {
    Optional,
    Required,
}

impl MtlsRequirement {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "optional" => Some(MtlsRequirement::Optional),
            "required" => Some(MtlsRequirement::Required),
            _ => None,
        }
    }
}

/// Which verified clients may pass. A client matches when any one of its
/// identities is listed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowedClients {
    pub uri_san: Vec<String>,
    pub dns_san: Vec<String>,
    pub subject_organization: Vec<String>,
    pub sha256: Vec<Fingerprint>,
}

/// A rule's path, in the form every reading of a request path is compared
/// with (see [`crate::policy::path`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathMatch {
    Prefix(String),
    Exact(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub name: String,
    pub path: PathMatch,
    /// Compare the path byte for byte; by default ASCII case is ignored,
    /// as case-insensitive backends route.
    pub case_sensitive: bool,
    /// Uppercase method names; empty means every method (`GET` covers `HEAD`).
    pub methods: Vec<String>,
    pub mtls: Option<MtlsRequirement>,
    pub allowed_clients: Option<AllowedClients>,
    /// This rule's token binding; what it leaves out is the global setting.
    pub token_binding: super::TokenBinding,
}

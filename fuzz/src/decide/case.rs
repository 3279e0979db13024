//! The `decide` target's input after the pool: every enum's first variant
//! is the realistic choice (mTLS required, the pool's last certificate
//! pinned, TLS 1.2, the facts Envoy reports for the pool as the chain).

use arbitrary::Arbitrary;

#[derive(Arbitrary, Debug)]
pub struct Case {
    pub config: ConfigSpec,
    pub path: PathChoice,
    pub method: Method,
    pub route: RouteChoice,
    pub tls: TlsChoice,
    pub peer: PeerChoice,
    pub clock: ClockChoice,
    /// A later request on the same policy, its verdict cache warm.
    pub later: Option<Later>,
    /// Client-sent headers under the annotation prefix (name suffix, value).
    pub forged: Vec<(String, String)>,
}

#[derive(Arbitrary, Debug)]
pub struct Later {
    pub clock: ClockChoice,
    /// `None`: the same client again.
    pub peer: Option<PeerChoice>,
    /// The same client again on the same connection, as the filter sends
    /// it: with the connection's id, and without the certificate when the
    /// policy says it does not need it.
    pub same_connection: bool,
}

#[derive(Arbitrary, Debug)]
pub struct ConfigSpec {
    pub mtls: Requirement,
    pub pins: Pins,
    pub min_tls13: bool,
    pub audit: bool,
    /// Pool indices written to `ca_certificates_pem`.
    pub ca_pem: Vec<u8>,
    pub revoked: Vec<u8>,
    pub allowed: Option<AllowedSpec>,
    pub rules: Vec<RuleSpec>,
    pub max_chain_length: Option<u8>,
    pub clock_skew_seconds: Option<u32>,
    pub verdict_cache_size: Option<u8>,
    pub prefix: Option<String>,
    /// `annotation_format: "dictionary"` instead of one header per fact.
    pub dictionary: bool,
}

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq)]
pub enum Requirement {
    Required,
    Optional,
    Unset,
}

#[derive(Arbitrary, Debug)]
pub enum Pins {
    Last,
    Pool(Vec<u8>),
    Nothing,
    Text(Vec<String>),
}

#[derive(Arbitrary, Debug)]
pub struct AllowedSpec {
    /// Each index names a pool certificate whose identity is listed.
    pub uri_of: Vec<u8>,
    pub dns_of: Vec<u8>,
    pub org_of: Vec<u8>,
    pub sha256_of: Vec<u8>,
    pub uri_text: Vec<String>,
}

#[derive(Arbitrary, Debug)]
pub struct RuleSpec {
    pub path: String,
    pub exact: bool,
    pub methods: Vec<Method>,
    pub mtls: Requirement,
    pub allowed: Option<AllowedSpec>,
}

#[derive(Arbitrary, Debug, Clone)]
pub enum Method {
    Get,
    Post,
    Patch,
    Text(String),
}

#[derive(Arbitrary, Debug)]
pub enum PathChoice {
    Resource,
    /// A rule's path with something appended.
    Rule(u8, String),
    /// A rule's path in a form some backend reads as that path.
    Form(u8, Vec<Form>),
    Text(String),
}

#[derive(Arbitrary, Debug)]
pub enum Form {
    Upper,
    /// `/;x` in front.
    Parameter,
    /// `/x/..;` in front.
    DotDotParameter,
    /// Every `/` after the first as `%2F`.
    EncodedSlashes,
    /// Every `/` after the first as `\`.
    Backslashes,
    TrailingSlash,
    /// `/..` after it, as a backend that does not resolve dots keeps it.
    Up,
}

#[derive(Arbitrary, Debug)]
pub enum RouteChoice {
    Unset,
    Required,
    Optional,
    Text(String),
}

#[derive(Arbitrary, Debug)]
pub enum TlsChoice {
    V12,
    V13,
    V11,
    V10,
    Ssl3,
    Plaintext,
    Empty,
    Unavailable,
    Text(String),
}

#[derive(Arbitrary, Debug)]
pub enum ClockChoice {
    Pool,
    Shift(i32),
    At(u64),
}

#[derive(Arbitrary, Debug)]
pub enum PeerChoice {
    /// What Envoy reports for the pool as the presented chain, then tweaks.
    Envoy(Vec<Tweak>),
    NoCertificate,
    Custom(PeerSpec),
}

#[derive(Arbitrary, Debug)]
pub enum Tweak {
    /// The chain Envoy reports is these pool certificates instead.
    Chain(Vec<u8>),
    DropPem,
    DropDigest,
    DropXfcc,
    Digest(DigestSpec),
    Pem(PemSpec),
    /// An element the client wrote in front of Envoy's.
    Prefix(String),
    PrefixElement(XfccSpec),
    /// An element after Envoy's (a proxy configured to append).
    Append(XfccSpec),
    Replace(XfccSpec),
}

#[derive(Arbitrary, Debug)]
pub struct PeerSpec {
    pub digest: Option<DigestSpec>,
    pub pem: Option<PemSpec>,
    pub xfcc: Option<XfccSpec>,
}

#[derive(Arbitrary, Debug)]
pub enum DigestSpec {
    Of(u8),
    Upper(u8),
    Colons(u8),
    Text(String),
}

#[derive(Arbitrary, Debug)]
pub struct PemSpec {
    pub certs: Vec<Piece>,
    pub layout: Layout,
}

#[derive(Arbitrary, Debug)]
pub enum Piece {
    Pool(u8),
    Flipped { index: u8, at: u16, xor: u8 },
    Truncated { index: u8, len: u16 },
    Bytes(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
pub enum Layout {
    OpenSsl,
    Crlf,
    NoFinalNewline,
    Text(String),
}

#[derive(Arbitrary, Debug)]
pub struct XfccSpec {
    pub pairs: Vec<Pair>,
}

#[derive(Arbitrary, Debug)]
pub enum Pair {
    Hash(DigestSpec),
    Cert(PemSpec, Encoding),
    Chain(PemSpec, Encoding),
    Subject(u8),
    Uri(u8),
    Dns(u8),
    By(String),
    Text(String, String),
}

#[derive(Arbitrary, Debug)]
pub enum Encoding {
    Envoy,
    Percent,
    Verbatim,
}

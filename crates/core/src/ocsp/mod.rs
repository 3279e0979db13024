//! OCSP (RFC 6960) for client certificates: the request for one
//! certificate, the checks a response must pass, and the answers kept per
//! (issuer, serial) until the responder's nextUpdate.
//!
//! # What a response must be
//! `successful`, of type id-pkix-ocsp-basic, with a SingleResponse whose
//! CertID names the certificate asked about (issuer name hash, issuer key
//! hash, serial; SHA-1 or SHA-256), signed by the issuer's key or by a
//! responder certificate the issuer signed with id-kp-OCSPSigning and valid
//! now, `thisUpdate` no later than now plus `clock_skew_seconds` and
//! `nextUpdate`, when present, not passed. Anything else is no answer.
//!
//! # Nonces
//! Requests carry no nonce: many responders ignore it or serve pre-signed
//! answers, and a replayed answer is bounded by the freshness checks above
//! like any cached one.

pub mod cache;
mod request;
mod response;
mod signer;

#[cfg(test)]
mod tests;

pub use cache::{Cached, Lookup, OcspCache};
pub use request::{CertQuery, ocsp_urls};
pub use response::{OcspAnswer, OcspError, OcspStatus, Signer, check_response};

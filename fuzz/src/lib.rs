//! Shared pieces of the fuzz targets: the `crl` and `decide` targets' inputs, builders
//! and checks, the certificate-pool input layout, an XFCC writer, the oracle
//! that re-checks every verified path, and the backends' readings of a
//! request path. The in-memory host standing in for Envoy is
//! `onerecord_tls_policy::test_host`.

pub mod crl_input;
pub mod decide;
pub mod oracle;
pub mod path_oracle;
pub mod pool;
pub mod token_payload;
pub mod xfcc_text;

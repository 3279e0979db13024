//! Shared pieces of the fuzz targets: the certificate-pool input layout,
//! an XFCC writer, the oracle that re-checks every verified path, the
//! backends' readings of a request path, and an
//! in-memory host standing in for Envoy.

pub mod host;
pub mod oracle;
pub mod path_oracle;
pub mod pool;
pub mod xfcc_text;

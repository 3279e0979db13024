//! The benchmark's client certificate, the same for the driver and the
//! hostcall counter.

use onerecord_tls_policy_testkit::pki::CertSpec;

/// `forwarder-42`, valid a year as client certificates are issued: the test
/// kit's 30 days fall inside `expiry_warning_days`, and every request would
/// also count an expiring client.
pub fn spec() -> CertSpec {
    CertSpec::client("forwarder-42").validity(-3600, 365 * 86_400)
}

//! The stack a case runs against, and how it expects a verdict.

use onerecord_tls_policy_testkit as support;

use super::try_get;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use support::bootstrap::EnvoySpec;
use support::client::TlsClient;
use support::curl::Curl;
use support::forged::forged_curl;
use support::http::Response;
use support::onerecord::{assert_allowed, assert_denied};
use support::pki::Issued;
use support::policies::{DELEGATION, OBJECT};
use support::stack::Stack;
use support::upstream::Echo;
use support::vm::{self, VmHealth};

/// A running stack and what its VMs looked like once it served a request.
pub(super) struct Target {
    pub(super) s: Stack,
    vm: VmHealth,
}

impl Target {
    pub(super) fn start(spec: EnvoySpec) -> Target {
        let s = Stack::start_spec(spec);
        // One request first, so the baseline is taken with every VM in use.
        assert_allowed(&s.client().get(s.tls(), OBJECT));
        let vm = VmHealth::read(&s.envoy);
        Target { s, vm }
    }

    pub(super) fn tls(&self) -> SocketAddr {
        self.s.tls()
    }

    /// A client presenting `leaf` and then exactly `chain`.
    pub(super) fn presenting(&self, leaf: &Issued, chain: &[&Issued]) -> TlsClient {
        self.s.client().cert(leaf).chain(chain)
    }

    /// HTTP/2 over TLS presenting `leaf` (alone), with the forged annotations.
    pub(super) fn h2_as(&self, leaf: Option<&Issued>) -> Curl {
        let mut curl = forged_curl(self.s.h2());
        if let Some(leaf) = leaf {
            let dir = self.s.envoy.dir();
            let name = leaf.sha256_hex();
            let cert = dir.write(&format!("{name}.pem"), leaf.pem());
            let key = dir.write(&format!("{name}.key"), leaf.key_pem());
            curl = curl.client_cert(&cert, &key);
        }
        curl
    }

    /// The deny `reason` for `path`, and nothing reached the upstream.
    pub(super) fn expect_deny(&self, reason: &str, path: &str, send: impl FnOnce() -> Response) {
        let before = self.s.upstream.count();
        let resp = send();
        assert_denied(&resp, reason, path);
        assert_eq!(
            self.s.upstream.count(),
            before,
            "a request denied {reason} reached the upstream: {:#?}",
            self.s.upstream.seen().last()
        );
    }

    /// Forwarded exactly once, with exactly the `expected` annotations.
    pub(super) fn expect_allow(
        &self,
        expected: &BTreeMap<String, Vec<String>>,
        send: impl FnOnce() -> Response,
    ) -> Echo {
        let before = self.s.upstream.count();
        let echo = assert_allowed(&send());
        assert_eq!(self.s.upstream.count(), before + 1);
        let ours = echo.with_prefix("x-onerecord-");
        assert_eq!(&ours, expected, "annotations the upstream got");
        echo
    }

    /// Envoy refuses `client` at the handshake: no HTTP exchange, the
    /// listener's `ssl.<stat>` grows by one and `ssl.handshake` does not.
    pub(super) fn expect_handshake_refused(&self, client: &TlsClient, stat: &str) {
        let before = vm::counters(&self.s.envoy);
        let outcome = try_get(client, self.tls(), DELEGATION);
        assert!(
            outcome.is_err(),
            "Envoy completed the handshake: {outcome:?}"
        );
        let want = vm::sum_suffix(&before, &format!(".ssl.{stat}")) + 1;
        let after = wait_for(&self.s, &format!(".ssl.{stat}"), want);
        for unchanged in [".ssl.handshake", ".downstream_rq_total"] {
            assert_eq!(
                sum_non_admin(unchanged, &after),
                sum_non_admin(unchanged, &before),
                "{unchanged} moved for a refused handshake"
            );
        }
    }

    pub(super) fn assert_vm_intact(&self) {
        vm::assert_vm_intact(&self.s.envoy, &self.vm);
    }
}

/// Sum of the counters ending in `suffix`, without the admin listener's.
fn sum_non_admin(suffix: &str, counters: &BTreeMap<String, u64>) -> u64 {
    counters
        .iter()
        .filter(|(name, _)| name.ends_with(suffix) && !name.starts_with("http.admin."))
        .map(|(_, value)| value)
        .sum()
}

/// Polls `/stats` until the counters ending in `suffix` sum to `want`
/// (Envoy may count a refusal just after the client saw it).
fn wait_for(s: &Stack, suffix: &str, want: u64) -> BTreeMap<String, u64> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let counters = vm::counters(&s.envoy);
        let have = vm::sum_suffix(&counters, suffix);
        if have == want {
            return counters;
        }
        assert!(
            have < want && Instant::now() < deadline,
            "{suffix}: want {want}, have {have}; log:\n{}",
            s.envoy.log_tail(20)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

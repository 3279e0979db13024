//! Where each part of the demo listens, and which of those ports are taken.

use super::{AUDIT, HTTP, HTTPS, LEGACY_TLS};
use std::net::TcpListener;

/// Where each part of the demo listens (on 127.0.0.1). 0 means any free port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ports {
    pub https: u16,
    pub http: u16,
    pub audit: u16,
    pub legacy_tls: u16,
    pub admin: u16,
    pub backend: u16,
    /// The demo CA's CRL server.
    pub crl: u16,
}

impl Ports {
    /// `make run`: the ports of envoy/envoy.yaml, and two more for the
    /// demo's own listeners.
    pub const FIXED: Ports = Ports {
        https: 8443,
        http: 8000,
        audit: 8444,
        legacy_tls: 8445,
        admin: 9901,
        backend: 8080,
        crl: 8081,
    };
    /// Free ports, chosen at bind time (tests; `--any-ports`).
    pub const ANY: Ports = Ports {
        https: 0,
        http: 0,
        audit: 0,
        legacy_tls: 0,
        admin: 0,
        backend: 0,
        crl: 0,
    };

    pub(super) fn listener(&self, name: &str) -> Option<u16> {
        match name {
            HTTPS => Some(self.https),
            HTTP => Some(self.http),
            AUDIT => Some(self.audit),
            LEGACY_TLS => Some(self.legacy_tls),
            _ => None,
        }
    }

    /// The fixed ports that something on this machine already listens on.
    pub fn busy(&self) -> Vec<u16> {
        let all = [
            self.https,
            self.http,
            self.audit,
            self.legacy_tls,
            self.admin,
            self.backend,
            self.crl,
        ];
        all.into_iter()
            .filter(|port| *port != 0 && TcpListener::bind(("127.0.0.1", *port)).is_err())
            .collect()
    }
}

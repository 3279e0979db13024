//! An in-memory host for testing the glue without Envoy.

use super::{Host, HostError};
use std::collections::HashMap;

/// A local reply the filter sent: status, headers, body.
pub type SentReply = (u32, Vec<(String, String)>, Vec<u8>);

#[derive(Default)]
pub struct MockHost {
    pub properties: HashMap<String, Vec<u8>>,
    /// Properties whose hostcall fails.
    pub failing_properties: Vec<String>,
    pub headers: Vec<(String, String)>,
    pub sent: Option<SentReply>,
    pub now: u64,
    pub fail_header_writes: bool,
}

impl MockHost {
    pub fn tls(version: &str) -> Self {
        let mut host = MockHost {
            now: 1_800_000_000,
            ..MockHost::default()
        };
        host.set_property("connection.tls_version", version.as_bytes());
        host.set_property("connection.mtls", &[0]);
        host.headers
            .push((":path".into(), "/logistics-objects/1".into()));
        host.headers.push((":method".into(), "GET".into()));
        host
    }

    pub fn plaintext() -> Self {
        let mut host = MockHost {
            now: 1_800_000_000,
            ..MockHost::default()
        };
        host.headers.push((":path".into(), "/".into()));
        host.headers.push((":method".into(), "GET".into()));
        host
    }

    pub fn set_property(&mut self, dotted: &str, value: &[u8]) {
        self.properties.insert(dotted.to_string(), value.to_vec());
    }

    pub fn header(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

impl Host for MockHost {
    fn property(&self, path: &[&str]) -> Result<Option<Vec<u8>>, HostError> {
        let key = path.join(".");
        if self.failing_properties.contains(&key) {
            return Err(HostError(format!("{key} failed")));
        }
        Ok(self.properties.get(&key).cloned())
    }

    fn request_header(&self, name: &str) -> Result<Option<String>, HostError> {
        Ok(self
            .headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone()))
    }

    fn request_header_names(&self) -> Result<Vec<String>, HostError> {
        Ok(self.headers.iter().map(|(k, _)| k.clone()).collect())
    }

    fn remove_request_header(&mut self, name: &str) -> Result<(), HostError> {
        if self.fail_header_writes {
            return Err(HostError("write failed".into()));
        }
        self.headers.retain(|(k, _)| k != name);
        Ok(())
    }

    fn set_request_header(&mut self, name: &str, value: &str) -> Result<(), HostError> {
        if self.fail_header_writes {
            return Err(HostError("write failed".into()));
        }
        self.headers.retain(|(k, _)| k != name);
        self.headers.push((name.to_string(), value.to_string()));
        Ok(())
    }

    fn send_response(
        &mut self,
        status: u32,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<(), HostError> {
        self.sent = Some((status, headers.to_vec(), body.to_vec()));
        Ok(())
    }

    fn now_unix(&self) -> Result<u64, HostError> {
        Ok(self.now)
    }
}

//! An in-memory host for testing the glue without Envoy.

use super::header_map::{HeaderMap, serialize_fields};
use super::{Host, HostError};
use std::cell::RefCell;
use std::collections::HashMap;

/// A local reply the filter sent: status, headers, body.
pub type SentReply = (u32, Vec<(String, String)>, Vec<u8>);

#[derive(Default)]
pub struct MockHost {
    pub properties: HashMap<String, Vec<u8>>,
    /// Properties whose hostcall fails.
    pub failing_properties: Vec<String>,
    pub headers: Vec<(String, String)>,
    /// Headers whose names are not UTF-8, served after `headers`.
    pub raw_headers: Vec<(Vec<u8>, Vec<u8>)>,
    /// The request trailers.
    pub trailers: Vec<(Vec<u8>, Vec<u8>)>,
    pub fail_trailer_reads: bool,
    pub fail_trailer_writes: bool,
    /// Removals answer OK and remove nothing (a host that changed the name).
    pub ignore_removals: bool,
    /// Every removal asked for, in order: `("header" | "trailer", name)`.
    pub removals: Vec<(&'static str, Vec<u8>)>,
    pub sent: Option<SentReply>,
    pub now: u64,
    pub fail_header_writes: bool,
    pub fail_header_reads: bool,
    /// Defined counters, `(name, value)`; a counter's id is its index.
    pub counters: Vec<(String, u64)>,
    /// `define_counter` and `increment_counter` fail.
    pub fail_metrics: bool,
    /// What `set_property` was given, by name.
    pub set_properties: HashMap<String, Vec<u8>>,
    pub fail_set_property: bool,
    /// Keys `claim_shared` marked (shared data, as across Envoy's VMs).
    pub shared: Vec<String>,
    /// Every read, in order: property paths (dotted), `headers` for the map.
    pub reads: RefCell<Vec<String>>,
}

impl MockHost {
    pub fn tls(version: &str) -> Self {
        let mut host = MockHost {
            now: 1_800_000_000,
            ..MockHost::default()
        };
        host.set_property("connection.tls_version", version.as_bytes());
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

    /// A counter's value by name; `None` when it was never defined.
    pub fn counter(&self, name: &str) -> Option<u64> {
        self.counters
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, value)| *value)
    }

    /// How many times `what` (a dotted property, `headers`, `trailers`) was read.
    pub fn read_count(&self, what: &str) -> usize {
        self.reads.borrow().iter().filter(|r| *r == what).count()
    }

    /// The deny reason of a 403 the filter sent; `None` when it sent none.
    pub fn deny_reason(&self) -> Option<&str> {
        let (status, headers, _) = self.sent.as_ref()?;
        assert_eq!(*status, 403, "a deny is a 403");
        headers
            .iter()
            .find(|(name, _)| name.ends_with("deny-reason"))
            .map(|(_, value)| value.as_str())
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
        self.reads.borrow_mut().push(key.clone());
        if self.failing_properties.contains(&key) {
            return Err(HostError(format!("{key} failed")));
        }
        Ok(self.properties.get(&key).cloned())
    }

    fn request_headers(&self) -> Result<HeaderMap, HostError> {
        self.reads.borrow_mut().push("headers".into());
        if self.fail_header_reads {
            return Err(HostError("read failed".into()));
        }
        let mut pairs: Vec<(&[u8], &[u8])> = self
            .headers
            .iter()
            .map(|(k, v)| (k.as_bytes(), v.as_bytes()))
            .collect();
        pairs.extend(self.raw_headers.iter().map(|(k, v)| (&k[..], &v[..])));
        HeaderMap::parse(serialize_fields(&pairs)).ok_or_else(|| HostError("bad map".into()))
    }

    fn remove_request_header(&mut self, name: &[u8]) -> Result<(), HostError> {
        self.removals.push(("header", name.to_vec()));
        if self.fail_header_writes {
            return Err(HostError("write failed".into()));
        }
        if !self.ignore_removals {
            self.headers.retain(|(k, _)| k.as_bytes() != name);
            self.raw_headers.retain(|(k, _)| k != name);
        }
        Ok(())
    }

    fn request_trailers(&self) -> Result<HeaderMap, HostError> {
        self.reads.borrow_mut().push("trailers".into());
        if self.fail_trailer_reads {
            return Err(HostError("trailer read failed".into()));
        }
        HeaderMap::parse(serialize_fields(&self.trailers))
            .ok_or_else(|| HostError("bad map".into()))
    }

    fn remove_request_trailer(&mut self, name: &[u8]) -> Result<(), HostError> {
        self.removals.push(("trailer", name.to_vec()));
        if self.fail_trailer_writes {
            return Err(HostError("trailer write failed".into()));
        }
        if !self.ignore_removals {
            self.trailers.retain(|(k, _)| k != name);
        }
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

    /// Like Envoy: defining a name again gives the same counter.
    fn define_counter(&mut self, name: &str) -> Result<u32, HostError> {
        if self.fail_metrics {
            return Err(HostError("define failed".into()));
        }
        let index = match self.counters.iter().position(|(n, _)| n == name) {
            Some(index) => index,
            None => {
                self.counters.push((name.to_string(), 0));
                self.counters.len() - 1
            }
        };
        Ok(u32::try_from(index).expect("few counters"))
    }

    fn increment_counter(&mut self, id: u32) -> Result<(), HostError> {
        if self.fail_metrics {
            return Err(HostError("increment failed".into()));
        }
        let counter = self
            .counters
            .get_mut(id as usize)
            .ok_or_else(|| HostError(format!("no counter {id}")))?;
        counter.1 += 1;
        Ok(())
    }

    fn set_property(&mut self, name: &str, value: &[u8]) -> Result<(), HostError> {
        if self.fail_set_property {
            return Err(HostError("set_property failed".into()));
        }
        self.set_properties.insert(name.to_string(), value.to_vec());
        Ok(())
    }

    fn claim_shared(&mut self, key: &str) -> Result<bool, HostError> {
        if self.shared.iter().any(|k| k == key) {
            return Ok(false);
        }
        self.shared.push(key.to_string());
        Ok(true)
    }
}

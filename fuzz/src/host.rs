//! An in-memory stand-in for Envoy: serves a request's facts through the
//! filter's `Host` trait the way Envoy's properties and headers carry them,
//! and records everything the filter does to the request.

use onerecord_tls_policy::effects::DenyResponse;
use onerecord_tls_policy::facts::Facts;
use onerecord_tls_policy::filter::header_map::HeaderMap;
use onerecord_tls_policy::filter::{Host, HostError, XFCC_HEADER};
use std::collections::HashMap;

const ROUTE_MTLS: &str = "xds.route_metadata.filter_metadata.onerecord_tls_policy.mtls";

/// A host that serves `facts` the way Envoy would and records what the filter does.
#[derive(Default)]
pub struct FuzzHost {
    pub properties: HashMap<String, Result<Vec<u8>, HostError>>,
    pub headers: Vec<(String, String)>,
    pub now: u64,
    pub sent: Vec<DenyResponse>,
    pub counters: Vec<String>,
    pub counter_ids: HashMap<String, u32>,
    pub increments: Vec<u32>,
    pub stream_properties: Vec<(String, Vec<u8>)>,
    pub shared: Vec<String>,
}

impl Host for FuzzHost {
    fn property(&self, path: &[&str]) -> Result<Option<Vec<u8>>, HostError> {
        self.properties.get(&path.join(".")).cloned().transpose()
    }
    fn request_headers(&self) -> Result<HeaderMap, HostError> {
        Ok(HeaderMap::from_pairs(&self.headers))
    }
    fn remove_request_header(&mut self, name: &[u8]) -> Result<(), HostError> {
        self.headers.retain(|(k, _)| k.as_bytes() != name);
        Ok(())
    }
    /// The fuzzed requests have no trailers.
    fn request_trailers(&self) -> Result<HeaderMap, HostError> {
        Ok(HeaderMap::default())
    }
    fn remove_request_trailer(&mut self, _name: &[u8]) -> Result<(), HostError> {
        Ok(())
    }
    fn set_request_header(&mut self, name: &str, value: &str) -> Result<(), HostError> {
        self.remove_request_header(name.as_bytes())?;
        self.headers.push((name.to_string(), value.to_string()));
        Ok(())
    }
    fn send_response(
        &mut self,
        status: u32,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<(), HostError> {
        self.sent.push(DenyResponse {
            status,
            headers: headers.to_vec(),
            body: String::from_utf8(body.to_vec()).expect("a UTF-8 body"),
        });
        Ok(())
    }
    fn now_unix(&self) -> Result<u64, HostError> {
        Ok(self.now)
    }
    fn define_counter(&mut self, name: &str) -> Result<u32, HostError> {
        let next = self.counters.len() as u32;
        let id = *self.counter_ids.entry(name.to_string()).or_insert(next);
        if id == next {
            self.counters.push(name.to_string());
        }
        Ok(id)
    }
    fn increment_counter(&mut self, id: u32) -> Result<(), HostError> {
        self.increments.push(id);
        Ok(())
    }
    fn set_property(&mut self, name: &str, value: &[u8]) -> Result<(), HostError> {
        self.stream_properties
            .push((name.to_string(), value.to_vec()));
        Ok(())
    }
    fn claim_shared(&mut self, key: &str) -> Result<bool, HostError> {
        let first = !self.shared.iter().any(|k| k == key);
        if first {
            self.shared.push(key.to_string());
        }
        Ok(first)
    }
}

impl FuzzHost {
    pub fn serving(facts: &Facts, forged: &[(String, String)], prefix: &str) -> Self {
        let mut host = FuzzHost {
            now: facts.now_unix,
            ..FuzzHost::default()
        };
        let mut set = |key: &str, value: Result<Vec<u8>, HostError>| {
            host.properties.insert(key.to_string(), value);
        };
        if let Some(route) = &facts.request.route_mtls {
            set(ROUTE_MTLS, Ok(route.as_bytes().to_vec()));
        }
        match &facts.connection {
            Err(e) => set("connection.tls_version", Err(HostError(e.0.clone()))),
            Ok(connection) => {
                if let Some(tls) = &connection.tls_version {
                    set("connection.tls_version", Ok(tls.as_bytes().to_vec()));
                }
                if let Some(peer) = &connection.peer {
                    if let Some(d) = &peer.sha256_digest {
                        set(
                            "connection.sha256_peer_certificate_digest",
                            Ok(d.as_bytes().to_vec()),
                        );
                    }
                    if let Some(p) = &peer.certificate_pem {
                        set("connection.peer_certificate", Ok(p.as_bytes().to_vec()));
                    }
                }
            }
        }
        host.headers
            .push((":path".into(), facts.request.path.clone()));
        host.headers
            .push((":method".into(), facts.request.method.clone()));
        if let Some(xfcc) = facts
            .connection
            .as_ref()
            .ok()
            .and_then(|c| c.peer.as_ref())
            .and_then(|p| p.xfcc.clone())
        {
            host.headers.push((XFCC_HEADER.into(), xfcc));
        }
        for (suffix, value) in forged {
            host.headers.push((
                format!("{prefix}{suffix}").to_ascii_lowercase(),
                value.clone(),
            ));
        }
        host
    }
}

/// Whether the host reports exactly `facts` (Envoy has no way to say some of them).
pub fn representable(facts: &Facts) -> bool {
    let Ok(connection) = &facts.connection else {
        return false;
    };
    if connection.id.is_some() {
        return false;
    }
    match &connection.tls_version {
        None => connection.peer.is_none(),
        Some(v) if v.is_empty() => false,
        Some(_) => connection
            .peer
            .as_ref()
            // Envoy says "a client certificate" with a non-empty digest.
            .is_none_or(|p| {
                p.certificate_pem.as_deref() != Some("")
                    && p.sha256_digest.as_deref().is_some_and(|d| !d.is_empty())
            }),
    }
}

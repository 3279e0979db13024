//! [`MockHost`] answering the filter's hostcalls: from its fields, failing
//! where a `fail_*` flag says so, and recording each call.

use super::MockHost;
use super::hostcalls::{
    DEFINE_METRIC, DISPATCH_HTTP_CALL, GET_CURRENT_TIME, GET_HEADER_MAP_PAIRS, GET_SHARED_DATA,
    INCREMENT_METRIC, RECORD_METRIC, REMOVE_HEADER_MAP_VALUE, REPLACE_HEADER_MAP_VALUE,
    SEND_LOCAL_RESPONSE, SET_PROPERTY, SET_SHARED_DATA,
};
use crate::filter::header_map::{HeaderMap, serialize_fields};
use crate::filter::{Host, HostError};

impl MockHost {
    fn count(&self, call: &str, to_wasm: usize, to_host: usize) {
        if !self.timing {
            self.hostcalls.record(call, to_wasm, to_host);
        }
    }

    fn note_read(&self, what: &str) {
        if !self.timing {
            self.reads.borrow_mut().push(what.to_string());
        }
    }

    /// The header map as the host hands it over: one serialised buffer.
    fn header_map(&self, wire: Vec<u8>) -> Result<HeaderMap, HostError> {
        self.count(GET_HEADER_MAP_PAIRS, wire.len(), 0);
        HeaderMap::parse(wire).ok_or_else(|| HostError("bad map".into()))
    }
}

impl Host for MockHost {
    fn property(&self, path: &[&str]) -> Result<Option<Vec<u8>>, HostError> {
        let key = path.join(".");
        self.note_read(&key);
        if self.failing_properties.contains(&key) {
            self.count(&format!("proxy_get_property {key}"), 0, key.len());
            return Err(HostError(format!("{key} failed")));
        }
        let value = self.properties.get(&key).cloned();
        if !self.timing {
            let size = value.as_ref().map_or(0, Vec::len);
            self.count(&format!("proxy_get_property {key}"), size, key.len());
        }
        Ok(value)
    }

    fn request_headers(&self) -> Result<HeaderMap, HostError> {
        self.note_read("headers");
        if self.fail_header_reads {
            return Err(HostError("read failed".into()));
        }
        let mut pairs: Vec<(&[u8], &[u8])> = self
            .headers
            .iter()
            .map(|(k, v)| (k.as_bytes(), v.as_bytes()))
            .collect();
        pairs.extend(self.raw_headers.iter().map(|(k, v)| (&k[..], &v[..])));
        self.header_map(serialize_fields(&pairs))
    }

    fn remove_request_header(&mut self, name: &[u8]) -> Result<(), HostError> {
        self.count(REMOVE_HEADER_MAP_VALUE, 0, name.len());
        if !self.timing {
            self.removals.push(("header", name.to_vec()));
        }
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
        self.note_read("trailers");
        if self.fail_trailer_reads {
            return Err(HostError("trailer read failed".into()));
        }
        self.header_map(serialize_fields(&self.trailers))
    }

    fn remove_request_trailer(&mut self, name: &[u8]) -> Result<(), HostError> {
        self.count(REMOVE_HEADER_MAP_VALUE, 0, name.len());
        if !self.timing {
            self.removals.push(("trailer", name.to_vec()));
        }
        if self.fail_trailer_writes {
            return Err(HostError("trailer write failed".into()));
        }
        if !self.ignore_removals {
            self.trailers.retain(|(k, _)| k != name);
        }
        Ok(())
    }

    fn set_request_header(&mut self, name: &str, value: &str) -> Result<(), HostError> {
        if self.timing {
            return Ok(());
        }
        self.count(REPLACE_HEADER_MAP_VALUE, 0, name.len() + value.len());
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
        let size = headers
            .iter()
            .map(|(n, v)| n.len() + v.len())
            .sum::<usize>()
            + body.len();
        self.count(SEND_LOCAL_RESPONSE, 0, size);
        self.sent = Some((status, headers.to_vec(), body.to_vec()));
        Ok(())
    }

    fn now_unix(&self) -> Result<u64, HostError> {
        self.count(GET_CURRENT_TIME, 0, 0);
        Ok(self.now)
    }

    /// Like Envoy: defining a name again gives the same counter.
    fn define_counter(&mut self, name: &str) -> Result<u32, HostError> {
        self.count(DEFINE_METRIC, 0, name.len());
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
        u32::try_from(index).map_err(|_| HostError("too many counters".into()))
    }

    fn increment_counter(&mut self, id: u32) -> Result<(), HostError> {
        self.count(INCREMENT_METRIC, 0, 0);
        if self.fail_metrics {
            return Err(HostError("increment failed".into()));
        }
        let counter = usize::try_from(id)
            .ok()
            .and_then(|index| self.counters.get_mut(index))
            .ok_or_else(|| HostError(format!("no counter {id}")))?;
        counter.1 += 1;
        if !self.timing {
            self.increments.push(id);
        }
        Ok(())
    }

    fn set_property(&mut self, name: &str, value: &[u8]) -> Result<(), HostError> {
        self.count(SET_PROPERTY, 0, name.len() + value.len());
        if self.fail_set_property {
            return Err(HostError("set_property failed".into()));
        }
        if !self.timing {
            self.set_properties.insert(name.to_string(), value.to_vec());
        }
        Ok(())
    }

    fn claim_shared(&mut self, key: &str) -> Result<bool, HostError> {
        self.count(GET_SHARED_DATA, 0, key.len());
        if self.shared.iter().any(|k| k == key) {
            return Ok(false);
        }
        self.shared.push(key.to_string());
        Ok(true)
    }

    fn dispatch_http_call(
        &mut self,
        cluster: &str,
        headers: &[(&str, &str)],
        _timeout_ms: u64,
    ) -> Result<u32, HostError> {
        let size: usize = headers.iter().map(|(n, v)| n.len() + v.len()).sum();
        self.count(DISPATCH_HTTP_CALL, 0, cluster.len() + size);
        if self.fail_http_calls {
            return Err(HostError("dispatch failed".into()));
        }
        let token = u32::try_from(self.http_calls.len() + 1)
            .map_err(|_| HostError("too many calls".into()))?;
        let headers = headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        self.http_calls.push((token, cluster.to_string(), headers));
        Ok(token)
    }

    fn dispatch_http_post(
        &mut self,
        cluster: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        timeout_ms: u64,
    ) -> Result<u32, HostError> {
        let token = self.dispatch_http_call(cluster, headers, timeout_ms)?;
        self.http_bodies.push((token, body.to_vec()));
        Ok(token)
    }

    fn resume_request(&mut self) -> Result<(), HostError> {
        self.resumed += 1;
        Ok(())
    }

    fn shared_data(&self, key: &str) -> Result<Option<(Vec<u8>, u32)>, HostError> {
        let value = self.shared_values.get(key).cloned();
        self.count(
            GET_SHARED_DATA,
            value.as_ref().map_or(0, |(v, _)| v.len()),
            key.len(),
        );
        Ok(value)
    }

    /// Like Envoy: a token of 0 always sets; another must be the current one.
    fn set_shared_data(&mut self, key: &str, value: &[u8], cas: u32) -> Result<bool, HostError> {
        self.count(SET_SHARED_DATA, 0, key.len() + value.len());
        let current = self.shared_values.get(key).map_or(0, |(_, cas)| *cas);
        if cas != 0 && current != 0 && cas != current {
            return Ok(false);
        }
        self.shared_values
            .insert(key.to_string(), (value.to_vec(), current + 1));
        Ok(true)
    }

    fn define_gauge(&mut self, name: &str) -> Result<u32, HostError> {
        self.count(DEFINE_METRIC, 0, name.len());
        let index = match self.gauges.iter().position(|(n, _)| n == name) {
            Some(index) => index,
            None => {
                self.gauges.push((name.to_string(), 0));
                self.gauges.len() - 1
            }
        };
        u32::try_from(index).map_err(|_| HostError("too many gauges".into()))
    }

    fn set_gauge(&mut self, id: u32, value: u64) -> Result<(), HostError> {
        self.count(RECORD_METRIC, 0, 0);
        let gauge = usize::try_from(id)
            .ok()
            .and_then(|index| self.gauges.get_mut(index))
            .ok_or_else(|| HostError(format!("no gauge {id}")))?;
        gauge.1 = value;
        Ok(())
    }
}

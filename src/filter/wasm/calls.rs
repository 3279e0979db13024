//! The hostcalls of CRL fetching (HTTP calls, the tick, shared data with
//! its token, gauges), called directly as in `abi.rs`, every status handled.

use super::super::HostError;
use super::abi::{
    bytes_call, failed, proxy_define_metric, proxy_get_buffer_bytes, proxy_get_shared_data,
    proxy_set_shared_data,
};

use super::abi_values::{
    BUFFER_HTTP_CALL_RESPONSE_BODY, MAP_HTTP_CALL_RESPONSE_HEADERS, METRIC_GAUGE,
    STATUS_CAS_MISMATCH, STATUS_NOT_FOUND, STATUS_OK,
};

#[link(wasm_import_module = "env")]
unsafe extern "C" {
    fn proxy_set_tick_period_milliseconds(period: u32) -> u32;
    fn proxy_get_header_map_value(
        map_type: u32,
        key_data: *const u8,
        key_size: usize,
        return_value_data: *mut *mut u8,
        return_value_size: *mut usize,
    ) -> u32;
    fn proxy_record_metric(metric_id: u32, value: u64) -> u32;
}

/// Through the SDK, which must register the token to route the response
/// to the root context; it handles every status Envoy's `httpCall` returns
/// (OK, BadArgument for an unknown cluster or bad headers, InternalFailure).
pub fn dispatch_http_call(
    cluster: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
    timeout_ms: u64,
) -> Result<u32, HostError> {
    proxy_wasm::hostcalls::dispatch_http_call(
        cluster,
        headers.to_vec(),
        body,
        Vec::new(),
        std::time::Duration::from_millis(timeout_ms),
    )
    .map_err(|status| HostError(format!("proxy_http_call returned {status:?}")))
}

pub fn set_tick_period(milliseconds: u64) -> Result<(), HostError> {
    let period = u32::try_from(milliseconds).unwrap_or(u32::MAX);
    // SAFETY: no pointers.
    match unsafe { proxy_set_tick_period_milliseconds(period) } {
        STATUS_OK => Ok(()),
        status => Err(failed("proxy_set_tick_period_milliseconds", status)),
    }
}

/// The `:status` of an HTTP call's response; `None` when it has none (the
/// call failed: no healthy host, a reset, a timeout).
pub fn http_call_status() -> Option<u32> {
    let key = ":status";
    // SAFETY: pointers describe live buffers; out-params are live locals.
    let value = bytes_call("proxy_get_header_map_value", |data, size| unsafe {
        proxy_get_header_map_value(
            MAP_HTTP_CALL_RESPONSE_HEADERS,
            key.as_ptr(),
            key.len(),
            data,
            size,
        )
    })
    .ok()
    .flatten()?;
    std::str::from_utf8(&value).ok()?.parse().ok()
}

pub fn http_call_body(size: usize) -> Vec<u8> {
    // SAFETY: as above.
    bytes_call("proxy_get_buffer_bytes", |data, out| unsafe {
        proxy_get_buffer_bytes(BUFFER_HTTP_CALL_RESPONSE_BODY, 0, size, data, out)
    })
    .ok()
    .flatten()
    .unwrap_or_default()
}

pub fn shared_data(key: &str) -> Result<Option<(Vec<u8>, u32)>, HostError> {
    let mut cas: u32 = 0;
    // SAFETY: as above; `cas` is a live local.
    let value = bytes_call("proxy_get_shared_data", |data, size| unsafe {
        proxy_get_shared_data(key.as_ptr(), key.len(), data, size, &mut cas)
    })?;
    Ok(value.map(|value| (value, cas)))
}

pub fn set_shared_data(key: &str, value: &[u8], cas: u32) -> Result<bool, HostError> {
    // SAFETY: pointers describe live buffers.
    let status =
        unsafe { proxy_set_shared_data(key.as_ptr(), key.len(), value.as_ptr(), value.len(), cas) };
    match status {
        STATUS_OK => Ok(true),
        STATUS_CAS_MISMATCH | STATUS_NOT_FOUND => Ok(false),
        status => Err(failed("proxy_set_shared_data", status)),
    }
}

pub fn define_gauge(name: &str) -> Result<u32, HostError> {
    let mut id: u32 = 0;
    // SAFETY: pointers describe a live string; the host writes one u32 to a live local.
    match unsafe { proxy_define_metric(METRIC_GAUGE, name.as_ptr(), name.len(), &mut id) } {
        STATUS_OK => Ok(id),
        status => Err(failed("proxy_define_metric", status)),
    }
}

pub fn set_gauge(id: u32, value: u64) -> Result<(), HostError> {
    // SAFETY: no pointers.
    match unsafe { proxy_record_metric(id, value) } {
        STATUS_OK => Ok(()),
        status => Err(failed("proxy_record_metric", status)),
    }
}

//! The proxy-wasm hostcalls the filter uses, called directly so that every
//! status is handled: the SDK's wrappers panic on statuses they don't expect,
//! and a panic kills the VM. Statuses are read as plain `u32`.

use super::super::HostError;
use super::super::header_map::HeaderMap;
use std::ptr::null_mut;

use super::abi_values::{BUFFER_PLUGIN_CONFIGURATION, METRIC_COUNTER, STATUS_NOT_FOUND, STATUS_OK};

#[link(wasm_import_module = "env")]
unsafe extern "C" {
    fn proxy_log(level: u32, message_data: *const u8, message_size: usize) -> u32;
    fn proxy_get_current_time_nanoseconds(return_time: *mut u64) -> u32;
    fn proxy_get_property(
        path_data: *const u8,
        path_size: usize,
        return_value_data: *mut *mut u8,
        return_value_size: *mut usize,
    ) -> u32;
    pub(super) fn proxy_get_buffer_bytes(
        buffer_type: u32,
        start: usize,
        max_size: usize,
        return_buffer_data: *mut *mut u8,
        return_buffer_size: *mut usize,
    ) -> u32;
    fn proxy_get_log_level(return_level: *mut u32) -> u32;
    fn proxy_get_header_map_pairs(
        map_type: u32,
        return_map_data: *mut *mut u8,
        return_map_size: *mut usize,
    ) -> u32;
    fn proxy_remove_header_map_value(map_type: u32, key_data: *const u8, key_size: usize) -> u32;
    fn proxy_replace_header_map_value(
        map_type: u32,
        key_data: *const u8,
        key_size: usize,
        value_data: *const u8,
        value_size: usize,
    ) -> u32;
    #[allow(clippy::too_many_arguments)]
    fn proxy_send_local_response(
        status_code: u32,
        status_code_details_data: *const u8,
        status_code_details_size: usize,
        body_data: *const u8,
        body_size: usize,
        headers_data: *const u8,
        headers_size: usize,
        grpc_status: i32,
    ) -> u32;
    pub(super) fn proxy_define_metric(
        metric_type: u32,
        name_data: *const u8,
        name_size: usize,
        return_metric_id: *mut u32,
    ) -> u32;
    fn proxy_increment_metric(metric_id: u32, offset: i64) -> u32;
    pub(super) fn proxy_get_shared_data(
        key_data: *const u8,
        key_size: usize,
        return_value_data: *mut *mut u8,
        return_value_size: *mut usize,
        return_cas: *mut u32,
    ) -> u32;
    pub(super) fn proxy_set_shared_data(
        key_data: *const u8,
        key_size: usize,
        value_data: *const u8,
        value_size: usize,
        cas: u32,
    ) -> u32;
    fn proxy_set_property(
        path_data: *const u8,
        path_size: usize,
        value_data: *const u8,
        value_size: usize,
    ) -> u32;
}

pub(super) fn failed(call: &str, status: u32) -> HostError {
    HostError(format!("{call} returned status {status}"))
}

/// Takes ownership of a buffer the host allocated through the SDK's
/// `proxy_on_memory_allocate` (a `Vec` allocation of exactly `size`).
fn take(data: *mut u8, size: usize) -> Vec<u8> {
    if data.is_null() {
        return Vec::new();
    }
    // SAFETY: the host filled a buffer it obtained from our allocator with `size` bytes.
    unsafe { Vec::from_raw_parts(data, size, size) }
}

/// Calls a hostcall that returns a byte buffer; `None` on NOT_FOUND.
pub(super) fn bytes_call(
    call: &str,
    f: impl FnOnce(*mut *mut u8, *mut usize) -> u32,
) -> Result<Option<Vec<u8>>, HostError> {
    let mut data: *mut u8 = null_mut();
    let mut size: usize = 0;
    match f(&mut data, &mut size) {
        STATUS_OK => Ok(Some(take(data, size))),
        STATUS_NOT_FOUND => Ok(None),
        status => Err(failed(call, status)),
    }
}

pub fn log(level: u32, message: &str) {
    // SAFETY: pointer and length describe a live string.
    unsafe {
        proxy_log(level, message.as_ptr(), message.len());
    }
}

pub fn now_unix() -> Result<u64, HostError> {
    let mut nanos: u64 = 0;
    // SAFETY: the host writes one u64 to a live local.
    match unsafe { proxy_get_current_time_nanoseconds(&mut nanos) } {
        STATUS_OK => Ok(nanos / 1_000_000_000),
        status => Err(failed("proxy_get_current_time_nanoseconds", status)),
    }
}

pub fn property(path: &[&str]) -> Result<Option<Vec<u8>>, HostError> {
    let serialized = path.join("\0");
    // SAFETY: pointers describe live buffers; out-params are live locals.
    bytes_call("proxy_get_property", |data, size| unsafe {
        proxy_get_property(serialized.as_ptr(), serialized.len(), data, size)
    })
}

pub fn plugin_configuration(size: usize) -> Result<Vec<u8>, HostError> {
    // SAFETY: as above.
    let bytes = bytes_call("proxy_get_buffer_bytes", |data, out| unsafe {
        proxy_get_buffer_bytes(BUFFER_PLUGIN_CONFIGURATION, 0, size, data, out)
    })?;
    Ok(bytes.unwrap_or_default())
}

pub fn header_map(map: u32) -> Result<HeaderMap, HostError> {
    // SAFETY: as above.
    let bytes = bytes_call("proxy_get_header_map_pairs", |data, size| unsafe {
        proxy_get_header_map_pairs(map, data, size)
    })?;
    HeaderMap::parse(bytes.unwrap_or_default())
        .ok_or_else(|| HostError("proxy_get_header_map_pairs returned a malformed map".to_string()))
}

/// Envoy's current log level for wasm logs (trace 0 … critical 5).
pub fn log_level() -> Option<u32> {
    let mut level: u32 = 0;
    // SAFETY: the host writes one u32 to a live local.
    match unsafe { proxy_get_log_level(&mut level) } {
        STATUS_OK => Some(level),
        _ => None,
    }
}

/// Removes `name`, passed as raw bytes: the hostcall takes any bytes, so a
/// name that is not UTF-8 is removed as it is.
pub fn remove_header(map: u32, name: &[u8]) -> Result<(), HostError> {
    // SAFETY: pointers describe live buffers.
    match unsafe { proxy_remove_header_map_value(map, name.as_ptr(), name.len()) } {
        STATUS_OK | STATUS_NOT_FOUND => Ok(()),
        status => Err(failed("proxy_remove_header_map_value", status)),
    }
}

pub fn replace_header(map: u32, name: &str, value: &str) -> Result<(), HostError> {
    // SAFETY: pointers describe live buffers.
    match unsafe {
        proxy_replace_header_map_value(map, name.as_ptr(), name.len(), value.as_ptr(), value.len())
    } {
        STATUS_OK => Ok(()),
        status => Err(failed("proxy_replace_header_map_value", status)),
    }
}

pub fn send_local_response(
    status_code: u32,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<(), HostError> {
    let serialized = crate::filter::header_map::serialize_pairs(headers);
    let details = "onerecord_tls_policy_denied";
    // SAFETY: pointers describe live buffers.
    match unsafe {
        proxy_send_local_response(
            status_code,
            details.as_ptr(),
            details.len(),
            body.as_ptr(),
            body.len(),
            serialized.as_ptr(),
            serialized.len(),
            -1,
        )
    } {
        STATUS_OK => Ok(()),
        status => Err(failed("proxy_send_local_response", status)),
    }
}

/// Defines a counter; Envoy names it `wasmcustom.<name>`.
pub fn define_counter(name: &str) -> Result<u32, HostError> {
    let mut id: u32 = 0;
    // SAFETY: pointers describe a live string; the host writes one u32 to a live local.
    match unsafe { proxy_define_metric(METRIC_COUNTER, name.as_ptr(), name.len(), &mut id) } {
        STATUS_OK => Ok(id),
        status => Err(failed("proxy_define_metric", status)),
    }
}

pub fn increment_counter(id: u32) -> Result<(), HostError> {
    // SAFETY: no pointers.
    match unsafe { proxy_increment_metric(id, 1) } {
        STATUS_OK => Ok(()),
        status => Err(failed("proxy_increment_metric", status)),
    }
}

/// Sets a one-segment property; Envoy keeps it as filter state `wasm.<name>`.
pub fn set_property(name: &str, value: &[u8]) -> Result<(), HostError> {
    // SAFETY: pointers describe live buffers.
    match unsafe { proxy_set_property(name.as_ptr(), name.len(), value.as_ptr(), value.len()) } {
        STATUS_OK => Ok(()),
        status => Err(failed("proxy_set_property", status)),
    }
}

/// Sets `key` in the data every VM of this Envoy shares; `true` when it was
/// not set before. Not atomic (Envoy ignores `cas` for a new key), which is
/// enough for configuration time, where the main thread goes first.
pub fn claim_shared(key: &str) -> Result<bool, HostError> {
    let mut cas: u32 = 0;
    // SAFETY: as above; `cas` is a live local.
    let existing = bytes_call("proxy_get_shared_data", |data, size| unsafe {
        proxy_get_shared_data(key.as_ptr(), key.len(), data, size, &mut cas)
    })?;
    if existing.is_some() {
        return Ok(false);
    }
    let value = b"1";
    // SAFETY: pointers describe live buffers.
    match unsafe { proxy_set_shared_data(key.as_ptr(), key.len(), value.as_ptr(), value.len(), 0) }
    {
        STATUS_OK => Ok(true),
        status => Err(failed("proxy_set_shared_data", status)),
    }
}

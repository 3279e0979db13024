//! The proxy-wasm ABI 0.2.1 enumerations the hostcalls take and return,
//! named once for `abi.rs` and `calls.rs`.

// WasmResult: a hostcall's status.
pub(super) const STATUS_OK: u32 = 0;
pub(super) const STATUS_NOT_FOUND: u32 = 1;
pub(super) const STATUS_CAS_MISMATCH: u32 = 8;

// MapType.
pub(super) const MAP_REQUEST_HEADERS: u32 = 0;
pub(super) const MAP_REQUEST_TRAILERS: u32 = 1;
pub(super) const MAP_HTTP_CALL_RESPONSE_HEADERS: u32 = 6;

// BufferType.
pub(super) const BUFFER_HTTP_CALL_RESPONSE_BODY: u32 = 4;
pub(super) const BUFFER_PLUGIN_CONFIGURATION: u32 = 7;

// LogLevel.
pub(super) const LOG_TRACE: u32 = 0;

// MetricType.
pub(super) const METRIC_COUNTER: u32 = 0;
pub(super) const METRIC_GAUGE: u32 = 1;

//! The wasm entry: proxy-wasm root and HTTP contexts over the real host.

mod abi;
mod abi_values;
mod calls;
mod logger;

use super::header_map::HeaderMap;
use super::ocsp_ask::Asking;
use super::{Action as FilterAction, Forwarded, Headers, Host, HostError, Plugin, configure};
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType};
use std::cell::RefCell;
use std::rc::Rc;

proxy_wasm::main! {{
    logger::install();
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(PolicyRoot { plugin: None }) });
}}

/// The loaded plugin, shared by the root and its HTTP contexts. A VM is
/// single-threaded and a request runs to the end of its callback, so the
/// plugin is borrowed by one request at a time.
type Shared = Rc<RefCell<Plugin>>;

struct PolicyRoot {
    plugin: Option<Shared>,
}

impl Context for PolicyRoot {
    /// A CRL fetch or an OCSP refresh answered (or failed: then it has no
    /// `:status`).
    fn on_http_call_response(
        &mut self,
        token_id: u32,
        _num_headers: usize,
        body_size: usize,
        _num_trailers: usize,
    ) {
        if let Some((mut plugin, status, body)) = call_response(self.plugin.as_ref(), body_size) {
            plugin.on_http_call_response(&mut WasmHost, token_id, status, &body);
        }
    }
}

impl RootContext for PolicyRoot {
    fn on_configure(&mut self, plugin_configuration_size: usize) -> bool {
        let configuration = abi::plugin_configuration(plugin_configuration_size);
        match configure(&mut WasmHost, configuration) {
            Some(plugin) => {
                if plugin.needs_ticks()
                    && let Err(e) = calls::set_tick_period(super::crl_fetch::TICK_MILLISECONDS)
                {
                    log::error!("onerecord-tls-policy: cannot start the CRL timer: {}", e.0);
                }
                self.plugin = Some(Rc::new(RefCell::new(plugin)));
                true
            }
            None => false,
        }
    }

    fn on_tick(&mut self) {
        if let Some(Ok(mut plugin)) = self.plugin.as_deref().map(RefCell::try_borrow_mut) {
            plugin.on_tick(&mut WasmHost);
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(PolicyHttp {
            plugin: self.plugin.clone(),
            forwarded: None,
            waiting: Vec::new(),
            trailers_waiting: false,
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct PolicyHttp {
    plugin: Option<Shared>,
    /// Set when the headers phase forwarded the request; only then are its
    /// trailers handled (a denied request has been answered already).
    forwarded: Option<Forwarded>,
    /// OCSP queries the paused request waits for. Envoy cancels them when
    /// the stream goes first; the last answer decides the request once.
    waiting: Vec<Asking>,
    /// The trailers came while OCSP answers were awaited.
    trailers_waiting: bool,
}

impl Context for PolicyHttp {
    fn on_http_call_response(
        &mut self,
        token_id: u32,
        _num_headers: usize,
        body_size: usize,
        _num_trailers: usize,
    ) {
        let Some((mut plugin, status, body)) = call_response(self.plugin.as_ref(), body_size)
        else {
            return;
        };
        let answer = (token_id, status, body.as_slice());
        let had_trailers = self.trailers_waiting;
        if let Some((action, forwarded)) =
            plugin.on_ocsp_response(&mut WasmHost, &mut self.waiting, answer, had_trailers)
        {
            self.forwarded = forwarded.filter(|_| action == FilterAction::Continue);
        }
    }
}

impl HttpContext for PolicyHttp {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let mut host = WasmHost;
        let plugin = self.plugin.as_deref().map(RefCell::try_borrow_mut);
        let Some(Ok(mut plugin)) = plugin else {
            // No valid configuration: Envoy should not have created us; refuse.
            // (The plugin is never in use here: one request runs at a time.)
            log::error!("onerecord-tls-policy: no configuration; refusing the request");
            let _ = host.send_response(503, &[], b"");
            return Action::Pause;
        };
        match plugin.on_request_headers_asking(&mut host) {
            Headers::Done(action, _, forwarded) => {
                self.forwarded = forwarded;
                wasm_action(action)
            }
            Headers::Waiting(asking) => {
                self.waiting = asking;
                Action::Pause
            }
        }
    }

    /// A body that comes while OCSP answers are awaited waits too (a
    /// Continue here would let the paused headers go on).
    fn on_http_request_body(&mut self, _body_size: usize, _end_of_stream: bool) -> Action {
        if self.waiting.is_empty() {
            Action::Continue
        } else {
            Action::Pause
        }
    }

    /// Runs only for requests that have trailers.
    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        if !self.waiting.is_empty() {
            self.trailers_waiting = true;
            return Action::Pause;
        }
        let (Some(plugin), Some(forwarded)) = (self.plugin.as_deref(), self.forwarded.as_ref())
        else {
            return Action::Continue;
        };
        let mut host = WasmHost;
        let action = match plugin.try_borrow() {
            Ok(plugin) => plugin.on_request_trailers(&mut host, forwarded),
            // Never in use here (one request runs at a time); refuse
            // rather than skip the strip.
            Err(_) => {
                let _ = host.send_response(503, &[], b"");
                FilterAction::Pause
            }
        };
        if action == FilterAction::Pause {
            self.forwarded = None;
        }
        wasm_action(action)
    }
}

/// The plugin and an HTTP call's `:status` and body, in the call's callback.
fn call_response(
    plugin: Option<&Shared>,
    body_size: usize,
) -> Option<(std::cell::RefMut<'_, Plugin>, Option<u32>, Vec<u8>)> {
    let plugin = plugin?.try_borrow_mut().ok()?;
    Some((
        plugin,
        calls::http_call_status(),
        calls::http_call_body(body_size),
    ))
}

fn wasm_action(action: FilterAction) -> Action {
    match action {
        FilterAction::Continue => Action::Continue,
        FilterAction::Pause => Action::Pause,
    }
}

/// The real host, through the direct hostcalls.
struct WasmHost;

impl Host for WasmHost {
    fn property(&self, path: &[&str]) -> Result<Option<Vec<u8>>, HostError> {
        abi::property(path)
    }

    fn request_headers(&self) -> Result<HeaderMap, HostError> {
        abi::header_map(abi_values::MAP_REQUEST_HEADERS)
    }

    fn remove_request_header(&mut self, name: &[u8]) -> Result<(), HostError> {
        abi::remove_header(abi_values::MAP_REQUEST_HEADERS, name)
    }

    fn request_trailers(&self) -> Result<HeaderMap, HostError> {
        abi::header_map(abi_values::MAP_REQUEST_TRAILERS)
    }

    fn remove_request_trailer(&mut self, name: &[u8]) -> Result<(), HostError> {
        abi::remove_header(abi_values::MAP_REQUEST_TRAILERS, name)
    }

    fn set_request_header(&mut self, name: &str, value: &str) -> Result<(), HostError> {
        abi::replace_header(abi_values::MAP_REQUEST_HEADERS, name, value)
    }

    fn send_response(
        &mut self,
        status: u32,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<(), HostError> {
        abi::send_local_response(status, headers, body)
    }

    fn now_unix(&self) -> Result<u64, HostError> {
        abi::now_unix()
    }

    fn define_counter(&mut self, name: &str) -> Result<u32, HostError> {
        abi::define_counter(name)
    }

    fn increment_counter(&mut self, id: u32) -> Result<(), HostError> {
        abi::increment_counter(id)
    }

    fn set_property(&mut self, name: &str, value: &[u8]) -> Result<(), HostError> {
        abi::set_property(name, value)
    }

    fn claim_shared(&mut self, key: &str) -> Result<bool, HostError> {
        abi::claim_shared(key)
    }

    fn dispatch_http_call(
        &mut self,
        cluster: &str,
        headers: &[(&str, &str)],
        timeout_ms: u64,
    ) -> Result<u32, HostError> {
        calls::dispatch_http_call(cluster, headers, None, timeout_ms)
    }

    fn dispatch_http_post(
        &mut self,
        cluster: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        timeout_ms: u64,
    ) -> Result<u32, HostError> {
        calls::dispatch_http_call(cluster, headers, Some(body), timeout_ms)
    }

    fn resume_request(&mut self) -> Result<(), HostError> {
        proxy_wasm::hostcalls::resume_http_request()
            .map_err(|status| HostError(format!("proxy_continue_stream returned {status:?}")))
    }

    fn shared_data(&self, key: &str) -> Result<Option<(Vec<u8>, u32)>, HostError> {
        calls::shared_data(key)
    }

    fn set_shared_data(&mut self, key: &str, value: &[u8], cas: u32) -> Result<bool, HostError> {
        calls::set_shared_data(key, value, cas)
    }

    fn define_gauge(&mut self, name: &str) -> Result<u32, HostError> {
        calls::define_gauge(name)
    }

    fn set_gauge(&mut self, id: u32, value: u64) -> Result<(), HostError> {
        calls::set_gauge(id, value)
    }
}

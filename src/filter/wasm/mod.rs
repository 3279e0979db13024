//! The wasm entry: proxy-wasm root and HTTP contexts over the real host.

mod abi;
mod logger;

use super::{Action as FilterAction, Host, HostError, on_request_headers};
use crate::config::Config;
use crate::policy::Policy;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType};
use std::rc::Rc;

proxy_wasm::main! {{
    logger::install();
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(PolicyRoot { policy: None }) });
}}

struct PolicyRoot {
    policy: Option<Rc<Policy>>,
}

impl Context for PolicyRoot {}

impl RootContext for PolicyRoot {
    fn on_configure(&mut self, plugin_configuration_size: usize) -> bool {
        let bytes = match abi::plugin_configuration(plugin_configuration_size) {
            Ok(bytes) => bytes,
            Err(e) => {
                log::error!(
                    "onerecord-tls-policy: cannot read the plugin configuration: {}",
                    e.0
                );
                return false;
            }
        };
        match Config::parse(&bytes) {
            Ok(config) => {
                log::info!(
                    "onerecord-tls-policy: configuration loaded (mode={:?}, min_tls_version={}, rules={}, trusted CAs={})",
                    config.mode,
                    config.min_tls_version.as_str(),
                    config.rules.len(),
                    config.trust.trusted_ca_sha256.len()
                );
                self.policy = Some(Rc::new(Policy::new(config)));
                true
            }
            Err(e) => {
                log::error!("onerecord-tls-policy: {e}");
                false
            }
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(PolicyHttp {
            policy: self.policy.clone(),
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct PolicyHttp {
    policy: Option<Rc<Policy>>,
}

impl Context for PolicyHttp {}

impl HttpContext for PolicyHttp {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let mut host = WasmHost;
        let Some(policy) = self.policy.as_deref() else {
            // No valid configuration: Envoy should not have created us; refuse.
            log::error!("onerecord-tls-policy: no configuration; refusing the request");
            let _ = host.send_response(503, &[], b"");
            return Action::Pause;
        };
        match on_request_headers(&mut host, policy).0 {
            FilterAction::Continue => Action::Continue,
            FilterAction::Pause => Action::Pause,
        }
    }
}

/// The real host, through the direct hostcalls.
struct WasmHost;

impl Host for WasmHost {
    fn property(&self, path: &[&str]) -> Result<Option<Vec<u8>>, HostError> {
        abi::property(path)
    }

    fn request_header(&self, name: &str) -> Result<Option<String>, HostError> {
        match abi::header(abi::MAP_REQUEST_HEADERS, name)? {
            None => Ok(None),
            Some(bytes) => String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| HostError(format!("request header {name} is not UTF-8"))),
        }
    }

    fn request_header_names(&self) -> Result<Vec<String>, HostError> {
        Ok(abi::header_pairs(abi::MAP_REQUEST_HEADERS)?
            .into_iter()
            .map(|(name, _)| String::from_utf8_lossy(&name).into_owned())
            .collect())
    }

    fn remove_request_header(&mut self, name: &str) -> Result<(), HostError> {
        abi::remove_header(abi::MAP_REQUEST_HEADERS, name)
    }

    fn set_request_header(&mut self, name: &str, value: &str) -> Result<(), HostError> {
        abi::replace_header(abi::MAP_REQUEST_HEADERS, name, value)
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
}

//! A static HTTP file server on loopback: serves one file at one path (404
//! elsewhere) and records every request, for Envoy's remote code
//! (`vm_config.code.remote`) to fetch the module from.

use super::upstream::{Reply, Upstream};
use std::sync::Arc;

/// Serves `body` at `path` on a free loopback port.
pub fn serve(path: &str, body: Vec<u8>) -> Upstream {
    let path = path.to_string();
    let handler = move |seen: &super::upstream::Seen| match seen.path == path {
        true => Reply {
            status: 200,
            headers: vec![("content-type".to_string(), "application/wasm".to_string())],
            body: body.clone(),
        },
        false => Reply {
            status: 404,
            headers: Vec::new(),
            body: Vec::new(),
        },
    };
    Upstream::serve(([127, 0, 0, 1], 0).into(), Arc::new(handler)).expect("bind file server")
}

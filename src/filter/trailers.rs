//! Request trailers. A client can send annotation names as trailers (over
//! HTTP/2, or HTTP/1.1 chunked where Envoy accepts trailers), and they reach
//! the backend after the body, where some frameworks merge them with the
//! headers. The filter strips them as it strips headers; when it cannot,
//! the request is refused instead of forwarded with them. Envoy calls this
//! only for requests that have trailers.

use super::forged::{self, RequestMap};
use super::request::send;
use super::{Host, HostError};
use crate::decision::Decision;
use crate::effects::{Plan, Resource};
use crate::policy::Policy;

/// Strips forged annotations from the trailers of a request the headers
/// phase forwarded with `decision`. When that fails, the core's fallback
/// plan (denied, `connection_facts_unavailable`) is sent and returned.
pub fn on_request_trailers(
    host: &mut dyn Host,
    policy: &Policy,
    decision: &Decision,
) -> Option<Plan> {
    let Err(e) = strip(host, policy) else {
        return None;
    };
    log::error!(
        "onerecord-tls-policy: cannot rewrite request trailers ({}); denying",
        e.0
    );
    // Only for the reply's `api:hasResource`; Envoy keeps the request
    // headers readable until the stream ends.
    let headers = host.request_headers().ok();
    let text = |name: &str| {
        headers
            .as_ref()
            .and_then(|headers| headers.get(name))
            .and_then(|value| std::str::from_utf8(value).ok())
            .unwrap_or_default()
    };
    // The decision saw the TLS version when the connection had one.
    let resource = Resource {
        secure: decision.tls_version.is_some(),
        authority: text(":authority"),
        path: text(":path"),
    };
    let denied = policy.fallback(decision.clone(), &resource);
    send(host, &denied);
    Some(denied)
}

fn strip(host: &mut dyn Host, policy: &Policy) -> Result<(), HostError> {
    let trailers = host.request_trailers()?;
    let prefix = policy.config.annotation_prefix.as_bytes();
    forged::strip(host, RequestMap::Trailers, &trailers, prefix).map(|_| ())
}

#[cfg(test)]
mod tests;

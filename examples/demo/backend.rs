//! A small ONE Record server for the demo, behind Envoy. It serves the server
//! information, a sample logistics object and acknowledgements on the mTLS
//! resources, all as JSON-LD, and every answer carries the `x-onerecord-*`
//! headers it received under `receivedSecurityFacts`: what the filter told it.

use onerecord_tls_policy_testkit::upstream::{Reply, Seen};
use serde_json::{Map, Value, json};

pub const API_NS: &str = "https://onerecord.iata.org/ns/api#";
pub const CARGO_NS: &str = "https://onerecord.iata.org/ns/cargo#";
/// The key under which every answer lists the annotations it received.
pub const FACTS_KEY: &str = "receivedSecurityFacts";
const ANNOTATION_PREFIX: &str = "x-onerecord-";

/// The answer to one request that reached the backend.
pub fn answer(request: &Seen) -> Reply {
    let path = request.path.split('?').next().unwrap_or_default();
    let base = format!("https://{}", header(request, "host").unwrap_or("localhost"));
    let (status, mut body) = match (request.method.as_str(), path) {
        ("GET", "/") => (200, server_information(&base)),
        ("GET", _) if logistics_object_id(path).is_some() => {
            let id = logistics_object_id(path).unwrap_or_default();
            (200, piece(&base, id))
        }
        (_, _) if logistics_object_id(path).is_some() => (
            405,
            error(405, "This demo serves logistics objects read-only.", path),
        ),
        (method, _) if under(path, "/access-delegations") => (
            if method == "POST" { 201 } else { 200 },
            access_delegation_request(&base, request),
        ),
        (method, _) if under(path, "/action-requests") => {
            (200, action_request(&base, method, path))
        }
        _ => (
            404,
            error(404, "No such resource on this demo server.", path),
        ),
    };
    body[FACTS_KEY] = facts(request);
    let mut headers = vec![
        (
            "content-type".to_string(),
            "application/ld+json".to_string(),
        ),
        ("content-language".to_string(), "en-US".to_string()),
    ];
    if status == 201
        && let Some(location) = body["@id"].as_str()
    {
        headers.push(("location".to_string(), location.to_string()));
    }
    Reply {
        status,
        headers,
        body: serde_json::to_vec_pretty(&body).unwrap_or_default(),
    }
}

/// Every `x-onerecord-*` request header, by name.
pub fn facts(request: &Seen) -> Value {
    let mut facts = Map::new();
    for (name, value) in &request.headers {
        if name.starts_with(ANNOTATION_PREFIX) {
            facts.insert(name.clone(), Value::from(value.clone()));
        }
    }
    Value::Object(facts)
}

fn context() -> Value {
    json!({ "api": API_NS, "cargo": CARGO_NS })
}

fn server_information(base: &str) -> Value {
    json!({
        "@context": context(),
        "@id": format!("{base}/"),
        "@type": "api:ServerInformation",
        "api:hasDataOwner": {
            "@id": format!("{base}/logistics-objects/demo-data-owner"),
            "@type": "cargo:Organization"
        },
        "api:hasServerEndpoint": format!("{base}/"),
        "api:hasSupportedApiVersion": ["2.0.0"],
        "api:hasSupportedContentType": ["application/ld+json"],
        "api:hasSupportedLanguage": ["en-US"],
        "api:hasSupportedLogisticsObjectType": [
            format!("{CARGO_NS}Shipment"),
            format!("{CARGO_NS}Piece")
        ],
        "api:hasSupportedOntology": [
            "https://onerecord.iata.org/ns/cargo",
            "https://onerecord.iata.org/ns/api"
        ]
    })
}

fn piece(base: &str, id: &str) -> Value {
    json!({
        "@context": context(),
        "@id": format!("{base}/logistics-objects/{id}"),
        "@type": "cargo:Piece",
        "cargo:goodsDescription": "Spare aircraft parts",
        "cargo:coload": false,
        "cargo:grossWeight": {
            "@type": "cargo:Value",
            "cargo:numericalValue": 42.5,
            "cargo:unit": "KGM"
        },
        "cargo:handlingInstructions": [{
            "@type": "cargo:HandlingInstructions",
            "cargo:handlingInstructionsType": "SPH",
            "cargo:handlingInstructionsTypeCode": "VAL",
            "cargo:description": "Valuable cargo"
        }],
        "cargo:ofShipment": { "@id": format!("{base}/logistics-objects/demo-shipment-1") }
    })
}

/// Creating an access delegation yields a pending request; the requester is
/// the client identity the filter verified, if any.
fn access_delegation_request(base: &str, request: &Seen) -> Value {
    let mut body = json!({
        "@context": context(),
        "@id": format!("{base}/action-requests/demo-access-delegation-1"),
        "@type": "api:AccessDelegationRequest",
        "api:hasRequestStatus": { "@id": "api:REQUEST_PENDING" },
    });
    // The bound token's agent where the filter verified one (ONE Record's
    // isRequestedBy), else the client certificate's identity.
    let requester = header(request, "x-onerecord-logistics-agent")
        .or_else(|| header(request, "x-onerecord-client-uri-san"));
    if let Some(requester) = requester {
        body["api:isRequestedBy"] = json!({ "@id": requester });
    }
    body
}

fn action_request(base: &str, method: &str, path: &str) -> Value {
    let status = if method == "DELETE" {
        "api:REQUEST_REVOKED"
    } else {
        "api:REQUEST_PENDING"
    };
    json!({
        "@context": context(),
        "@id": format!("{base}{path}"),
        "@type": "api:ActionRequest",
        "api:hasRequestStatus": { "@id": status },
    })
}

fn error(status: u16, message: &str, path: &str) -> Value {
    json!({
        "@context": { "api": API_NS },
        "@type": "api:Error",
        "api:hasTitle": message,
        "api:hasErrorDetail": [{
            "@type": "api:ErrorDetail",
            "api:hasCode": status.to_string(),
            "api:hasMessage": message,
            "api:hasResource": path
        }]
    })
}

/// `/logistics-objects/<id>` with a non-empty, single-segment id.
fn logistics_object_id(path: &str) -> Option<&str> {
    path.strip_prefix("/logistics-objects/")
        .filter(|id| !id.is_empty() && !id.contains('/'))
}

fn under(path: &str, prefix: &str) -> bool {
    path == prefix || path.starts_with(&format!("{prefix}/"))
}

fn header<'a>(request: &'a Seen, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

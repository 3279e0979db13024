//! The tally counts what crosses the wasm boundary, and timing records nothing.

use super::MockHost;
use super::hostcalls::{GET_HEADER_MAP_PAIRS, REPLACE_HEADER_MAP_VALUE, Tally, property_call};
use crate::filter::Host;
use crate::filter::header_map::serialize_pairs;
use crate::filter::properties::{CONNECTION_ID, TLS_VERSION};

#[test]
fn hostcalls_are_counted_with_their_bytes() {
    let mut host = MockHost::tls("TLSv1.3");
    host.property(TLS_VERSION).unwrap();
    host.property(TLS_VERSION).unwrap();
    host.property(CONNECTION_ID).unwrap();
    host.request_headers().unwrap();
    host.set_request_header("x-onerecord-mtls", "none").unwrap();

    let tallies = host.hostcalls.tallies();
    let read = |calls, to_wasm, to_host| Tally {
        calls,
        to_wasm,
        to_host,
    };
    assert_eq!(tallies[&property_call(TLS_VERSION)], read(2, 14, 44));
    assert_eq!(tallies[&property_call(CONNECTION_ID)], read(1, 0, 13));
    let wire = serialize_pairs(&MockHost::tls("TLSv1.3").headers).len() as u64;
    assert_eq!(tallies[GET_HEADER_MAP_PAIRS], read(1, wire, 0));
    assert_eq!(tallies[REPLACE_HEADER_MAP_VALUE], read(1, 0, 20));
    assert_eq!(host.read_count("connection.tls_version"), 2);
}

#[test]
fn a_timing_host_answers_and_records_nothing() {
    let mut host = MockHost::tls("TLSv1.3");
    host.timing = true;
    assert_eq!(
        host.property(TLS_VERSION).unwrap(),
        Some(b"TLSv1.3".to_vec())
    );
    host.set_request_header("x-onerecord-mtls", "none").unwrap();
    assert!(host.hostcalls.tallies().is_empty());
    assert!(host.reads.borrow().is_empty());
    assert!(host.header("x-onerecord-mtls").is_empty());
}

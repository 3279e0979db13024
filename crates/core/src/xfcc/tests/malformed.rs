//! Malformed headers, and prefixes a client could write.

use super::*;

#[test]
fn empty_header_and_empty_elements() {
    assert_eq!(err(""), XfccError::Empty);
    assert_eq!(err(","), XfccError::EmptyElement);
    assert_eq!(err(",DNS=a"), XfccError::EmptyElement);
    assert_eq!(err("DNS=a,"), XfccError::EmptyElement);
    assert_eq!(err("DNS=a,,DNS=b"), XfccError::EmptyElement);
}

#[test]
fn unterminated_quote() {
    assert_eq!(err("Subject=\"CN=a"), XfccError::UnterminatedQuote);
    assert_eq!(err("Subject=\""), XfccError::UnterminatedQuote);
    assert_eq!(err(r#"Subject="CN=a\""#), XfccError::UnterminatedQuote);
    assert_eq!(err(r#"Subject="CN=a\"#), XfccError::UnterminatedQuote);
    // In an earlier element it swallows the rest of the header.
    assert_eq!(
        err(&format!("Subject=\"x,Hash={HASH}")),
        XfccError::UnterminatedQuote
    );
}

#[test]
fn missing_equals() {
    assert_eq!(err("Hash"), XfccError::MissingEquals);
    assert_eq!(err("By=a;URI"), XfccError::MissingEquals);
    assert_eq!(err("By=a;"), XfccError::MissingEquals);
    assert_eq!(err("By=a;;URI=b"), XfccError::MissingEquals);
    assert_eq!(err("By=a;,URI=b"), XfccError::MissingEquals);
    assert_eq!(err("junk,DNS=b"), XfccError::MissingEquals);
}

#[test]
fn invalid_keys() {
    assert_eq!(err("=x"), XfccError::InvalidKey);
    assert_eq!(err("B y=x"), XfccError::InvalidKey);
    assert_eq!(err(" By=x"), XfccError::InvalidKey);
    assert_eq!(err("\"By\"=x"), XfccError::InvalidKey);
    assert_eq!(err("DNS=a; URI=b"), XfccError::InvalidKey);
    assert_eq!(err("Bÿ=x"), XfccError::InvalidKey);
}

#[test]
fn misplaced_quotes() {
    assert_eq!(err("URI=a\"b\""), XfccError::UnexpectedQuote);
    assert_eq!(err("Subject=\"a\"b"), XfccError::UnexpectedQuote);
    assert_eq!(err("Subject=\"a\" ;DNS=d"), XfccError::UnexpectedQuote);
    assert_eq!(err("Subject=\"a\"\"b\""), XfccError::UnexpectedQuote);
    assert_eq!(err("DNS=x\""), XfccError::UnexpectedQuote);
}

#[test]
fn control_characters_are_refused() {
    assert_eq!(err("DNS=a\tb"), XfccError::ControlCharacter);
    assert_eq!(err("Subject=\"a\nb\""), XfccError::ControlCharacter);
    assert_eq!(err("Subject=\"a\\\u{0}\""), XfccError::ControlCharacter);
    assert_eq!(err("DNS=a\u{7f}"), XfccError::ControlCharacter);
    assert_eq!(err("By\r=a"), XfccError::ControlCharacter);
}

#[test]
fn duplicate_single_valued_keys() {
    assert_eq!(
        err(&format!("Hash={HASH};Hash={HASH}")),
        XfccError::DuplicateKey("Hash")
    );
    assert_eq!(
        err(&format!("Hash={HASH};Hash={HASH2}")),
        XfccError::DuplicateKey("Hash")
    );
    assert_eq!(err("Cert=a;Cert=a"), XfccError::DuplicateKey("Cert"));
    assert_eq!(err("Chain=a;Chain=b"), XfccError::DuplicateKey("Chain"));
    assert_eq!(
        err("Subject=\"\";Subject=\"\""),
        XfccError::DuplicateKey("Subject")
    );
    // Duplicates in an earlier element are not interpreted.
    let header = format!("Hash={HASH};Hash={HASH2},Hash={HASH}");
    assert_eq!(
        parse_last_element(&header).unwrap().hash.as_deref(),
        Some(HASH)
    );
}

#[test]
fn earlier_elements_must_be_well_formed_but_are_not_decoded() {
    assert_eq!(err(&format!("junk,Hash={HASH}")), XfccError::MissingEquals);
    assert_eq!(
        err(&format!("URI=a\"b,Hash={HASH}")),
        XfccError::UnexpectedQuote
    );
    // Bad percent-encoding or hash in an earlier element: not our connection's data.
    let header = format!("Cert=%G1;Hash=zz,Hash={HASH}");
    assert_eq!(
        parse_last_element(&header).unwrap().hash.as_deref(),
        Some(HASH)
    );
}

#[test]
fn client_prefix_cannot_forge_the_last_element() {
    let p = pki();
    let envoy = format!(
        "By=spiffe://gw;Hash={HASH};Cert=\"{}\";Subject=\"CN=real\\,x,O=Real\";URI=https://real;DNS=real.example",
        envoy_url_encode(&p.leaf_pem)
    );
    assert_eq!(
        parse_last_element(&envoy).unwrap().uri,
        strings(&["https://real"])
    );
    // A prefix that leaves a quote open (optionally mid-escape) must not
    // shift quoting inside Envoy's element.
    for prefix in [
        "Hash=0;URI=\"",
        "Subject=\"x\\",
        "Subject=\"CN=a\\\"",
        "DNS=forged.example;Subject=\"",
        "Subject=\"\\\\\\\"",
    ] {
        let header = format!("{prefix},{envoy}");
        let result = parse_last_element(&header);
        assert!(result.is_err(), "prefix {prefix:?} gave {result:?}");
    }
    // Same with an Envoy element whose only quoted value is the Subject.
    let envoy = format!("Hash={HASH};Subject=\"CN=a\\\"b\\\",O=c\";URI=https://real");
    for prefix in ["Subject=\"", "a=\"\\"] {
        let header = format!("{prefix},{envoy}");
        assert!(parse_last_element(&header).is_err(), "prefix {prefix:?}");
    }
    // Without any quoted value in Envoy's element, the open quote never closes.
    let header = format!("Subject=\",Hash={HASH};URI=https://real");
    assert_eq!(err(&header), XfccError::UnterminatedQuote);
}

#[test]
fn header_size_limit() {
    let filler = "a".repeat(MAX_HEADER_BYTES - "DNS=".len());
    let at_limit = format!("DNS={filler}");
    assert_eq!(at_limit.len(), MAX_HEADER_BYTES);
    assert_eq!(parse_last_element(&at_limit).unwrap().dns, vec![filler]);
    let over = format!("{at_limit}b");
    assert_eq!(err(&over), XfccError::TooLarge);
    // Checked before anything else, even when the content is garbage.
    assert_eq!(err(&"\"".repeat(MAX_HEADER_BYTES + 1)), XfccError::TooLarge);
}

#[test]
fn large_headers_of_many_small_pieces_parse() {
    // Many elements, many pairs, many escapes: all one pass.
    let element = r#"A="\"\\\,;",B=1;C=2,"#;
    let mut header = element.repeat((MAX_HEADER_BYTES - 32) / element.len());
    header.push_str("DNS=last.example");
    assert!(header.len() <= MAX_HEADER_BYTES);
    assert_eq!(
        parse_last_element(&header).unwrap().dns,
        strings(&["last.example"])
    );
}

#[test]
fn display_does_not_echo_input() {
    let messages: Vec<String> = [
        err(""),
        err("x"),
        err("Subject=\"secret-value"),
        err("Cert=%secret"),
        err("Hash=secret"),
        pem_to_der_certificates("secret").unwrap_err(),
    ]
    .iter()
    .map(|e| e.to_string())
    .collect();
    for m in &messages {
        assert!(!m.is_empty());
        assert!(!m.contains("secret"), "{m}");
    }
    assert_eq!(
        XfccError::DuplicateKey("Hash").to_string(),
        "x-forwarded-client-cert element repeats the Hash key"
    );
}

use super::*;
use crate::fingerprint::Fingerprint;
use crate::pem::{PEM_BEGIN, PEM_END};
use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::PKey;
use openssl::x509::extension::SubjectAlternativeName;
use openssl::x509::{X509, X509NameBuilder};
use std::sync::OnceLock;

// ---------------------------------------------------------------- helpers

/// A self-signed P-256 certificate with URI and DNS SANs.
fn make_cert(cn: &str, serial: u32) -> X509 {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    let key = PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_nid(Nid::COMMONNAME, cn).unwrap();
    name.append_entry_by_nid(Nid::ORGANIZATIONNAME, "Example Airline")
        .unwrap();
    let name = name.build();
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    let serial = Asn1Integer::from_bn(&BigNum::from_u32(serial).unwrap()).unwrap();
    b.set_serial_number(&serial).unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(&name).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::days_from_now(1).unwrap())
        .unwrap();
    let san = SubjectAlternativeName::new()
        .uri(&format!("https://1r.example.com/logistics-agents/{cn}"))
        .dns("a.example.com")
        .build(&b.x509v3_context(None, None))
        .unwrap();
    b.append_extension(san).unwrap();
    b.sign(&key, MessageDigest::sha256()).unwrap();
    b.build()
}

struct Pki {
    leaf_pem: String,
    leaf_der: Vec<u8>,
    ca_pem: String,
    ca_der: Vec<u8>,
}

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let leaf = make_cert("client-1", 1);
        let ca = make_cert("ca", 2);
        Pki {
            leaf_pem: String::from_utf8(leaf.to_pem().unwrap()).unwrap(),
            leaf_der: leaf.to_der().unwrap(),
            ca_pem: String::from_utf8(ca.to_pem().unwrap()).unwrap(),
            ca_der: ca.to_der().unwrap(),
        }
    })
}

/// Exactly what Envoy does to PEM before putting it in XFCC.
fn envoy_url_encode(pem: &str) -> String {
    super::envoy_format::url_encode_pem(pem)
}

const HASH: &str = "468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688";
const HASH2: &str = "9ba61d6425303443c0748a02dd8de688468ed33be74eee6556d90c0149c1309e";

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn err(header: &str) -> XfccError {
    parse_last_element(header).unwrap_err()
}

// ---------------------------------------------------------------- elements

#[test]
fn single_envoy_element_with_real_certificates() {
    let p = pki();
    let chain_pem = format!("{}{}", p.leaf_pem, p.ca_pem);
    let hash = Fingerprint::of_der(&p.leaf_der).to_hex();
    let header = format!(
        "By=spiffe://cluster.local/ns/default/sa/gw;Hash={hash};Cert=\"{}\";Chain=\"{}\";\
         Subject=\"CN=client-1,O=Example Airline\";URI=https://1r.example.com/logistics-agents/client-1;\
         DNS=a.example.com",
        envoy_url_encode(&p.leaf_pem),
        envoy_url_encode(&chain_pem),
    );
    let element = parse_last_element(&header).unwrap();
    assert_eq!(
        element,
        XfccElement {
            by: strings(&["spiffe://cluster.local/ns/default/sa/gw"]),
            hash: Some(hash),
            cert: Some(p.leaf_pem.clone()),
            chain: Some(chain_pem),
            subject: Some("CN=client-1,O=Example Airline".to_string()),
            uri: strings(&["https://1r.example.com/logistics-agents/client-1"]),
            dns: strings(&["a.example.com"]),
        }
    );
    let cert = pem_to_der_certificates(element.cert.as_deref().unwrap()).unwrap();
    assert_eq!(cert, vec![p.leaf_der.clone()]);
    let chain = pem_to_der_certificates(element.chain.as_deref().unwrap()).unwrap();
    assert_eq!(chain, vec![p.leaf_der.clone(), p.ca_der.clone()]);
}

#[test]
fn envoy_docs_example() {
    let header = format!(
        "By=http://frontend.lyft.com;Hash={HASH};Subject=\"/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client\";\
         URI=http://testclient.lyft.com;DNS=lyft.com;DNS=www.lyft.com"
    );
    assert_eq!(
        parse_last_element(&header).unwrap(),
        XfccElement {
            by: strings(&["http://frontend.lyft.com"]),
            hash: Some(HASH.to_string()),
            subject: Some("/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client".to_string()),
            uri: strings(&["http://testclient.lyft.com"]),
            dns: strings(&["lyft.com", "www.lyft.com"]),
            ..XfccElement::default()
        }
    );
}

#[test]
fn only_the_last_element_counts() {
    let header = format!(
        "By=http://frontend.lyft.com;Hash={HASH};URI=http://testclient.lyft.com,\
         By=http://backend.lyft.com;Hash={HASH2};URI=http://frontend.lyft.com"
    );
    assert_eq!(
        parse_last_element(&header).unwrap(),
        XfccElement {
            by: strings(&["http://backend.lyft.com"]),
            hash: Some(HASH2.to_string()),
            uri: strings(&["http://frontend.lyft.com"]),
            ..XfccElement::default()
        }
    );
}

#[test]
fn quoted_comma_in_earlier_element_does_not_split() {
    // Were the quoted `,` a separator, the last element would be `URI=...`
    // taken from inside the forged Subject.
    let header = format!(
        "Hash={HASH};Subject=\"CN=evil,URI=https://forged;DNS=forged\";DNS=x,Hash={HASH2};DNS=real.example"
    );
    assert_eq!(
        parse_last_element(&header).unwrap(),
        XfccElement {
            hash: Some(HASH2.to_string()),
            dns: strings(&["real.example"]),
            ..XfccElement::default()
        }
    );
    // And a quoted comma as the very last thing before the real element.
    let header = format!("Subject=\",\",Hash={HASH}");
    assert_eq!(
        parse_last_element(&header).unwrap().hash.as_deref(),
        Some(HASH)
    );
    // A quoted value in the last element that contains a comma stays whole.
    let header = "Subject=\"a\",Subject=\"CN=x,O=y\"";
    assert_eq!(
        parse_last_element(header).unwrap().subject.as_deref(),
        Some("CN=x,O=y")
    );
}

#[test]
fn quoted_subject_keeps_commas_semicolons_and_escapes_verbatim() {
    // RFC 2253 as BoringSSL prints it: `\"`, `\\` and `\,` are the DN's own escapes.
    let header = r#"Subject="CN=say \"hi\"\; ok,O=Example\, Inc.,OU=back\\slash;x=y",URI=ignored"#;
    // The `,URI=ignored` after the quote is the next element, which is last.
    assert_eq!(
        parse_last_element(header).unwrap(),
        XfccElement {
            uri: strings(&["ignored"]),
            ..XfccElement::default()
        }
    );

    let header =
        r#"Hash=00;URI=a,Subject="CN=say \"hi\"\; ok,O=Example\, Inc.,OU=back\\slash;x=y";URI=b"#;
    assert_eq!(
        parse_last_element(header).unwrap(),
        XfccElement {
            subject: Some(r#"CN=say \"hi\"\; ok,O=Example\, Inc.,OU=back\\slash;x=y"#.to_string()),
            uri: strings(&["b"]),
            ..XfccElement::default()
        }
    );
}

#[test]
fn escaped_quote_does_not_close_and_escaped_backslash_does() {
    // `\\` is one escape, so the following `"` closes the value.
    assert_eq!(
        parse_last_element(r#"Subject="a\\";DNS=d"#).unwrap(),
        XfccElement {
            subject: Some(r"a\\".to_string()),
            dns: strings(&["d"]),
            ..XfccElement::default()
        }
    );
    // `\"` is an escape, so the value runs on to the next quote.
    assert_eq!(
        parse_last_element(r#"Subject="a\";DNS=d""#).unwrap(),
        XfccElement {
            subject: Some(r#"a\";DNS=d"#.to_string()),
            ..XfccElement::default()
        }
    );
}

#[test]
fn empty_subject_is_kept() {
    // Envoy writes `Subject=""` for a certificate with an empty subject.
    assert_eq!(
        parse_last_element("Subject=\"\"")
            .unwrap()
            .subject
            .as_deref(),
        Some("")
    );
}

#[test]
fn repeated_by_uri_and_dns_keep_order() {
    let header = "By=spiffe://a;By=spiffe://b;URI=https://x/1;DNS=one.example;URI=https://x/2;\
                  DNS=two.example;DNS=three.example";
    assert_eq!(
        parse_last_element(header).unwrap(),
        XfccElement {
            by: strings(&["spiffe://a", "spiffe://b"]),
            uri: strings(&["https://x/1", "https://x/2"]),
            dns: strings(&["one.example", "two.example", "three.example"]),
            ..XfccElement::default()
        }
    );
}

#[test]
fn empty_uri_means_no_uri_san() {
    assert_eq!(
        parse_last_element(&format!("Hash={HASH};Subject=\"CN=c\";URI=;DNS=d.example")).unwrap(),
        XfccElement {
            hash: Some(HASH.to_string()),
            subject: Some("CN=c".to_string()),
            dns: strings(&["d.example"]),
            ..XfccElement::default()
        }
    );
    assert_eq!(
        parse_last_element("URI=;DNS=;By=").unwrap(),
        XfccElement::default()
    );
}

#[test]
fn unquoted_values_keep_equals_and_backslashes() {
    // Envoy writes URI SANs unquoted, query strings included.
    assert_eq!(
        parse_last_element(r"URI=https://x/?a=b&c=d;DNS=back\slash").unwrap(),
        XfccElement {
            uri: strings(&["https://x/?a=b&c=d"]),
            dns: strings(&[r"back\slash"]),
            ..XfccElement::default()
        }
    );
}

#[test]
fn quoted_uri_and_by_are_unquoted() {
    assert_eq!(
        parse_last_element(r#"By="spiffe://a;b";URI="https://x/a,b""#).unwrap(),
        XfccElement {
            by: strings(&["spiffe://a;b"]),
            uri: strings(&["https://x/a,b"]),
            ..XfccElement::default()
        }
    );
}

#[test]
fn keys_are_case_insensitive() {
    let header = format!(
        "by=spiffe://a;HASH={HASH};cErT=\"x%0A\";CHAIN=\"y%0A\";subject=\"CN=c\";uRi=https://u;Dns=d.example"
    );
    assert_eq!(
        parse_last_element(&header).unwrap(),
        XfccElement {
            by: strings(&["spiffe://a"]),
            hash: Some(HASH.to_string()),
            cert: Some("x\n".to_string()),
            chain: Some("y\n".to_string()),
            subject: Some("CN=c".to_string()),
            uri: strings(&["https://u"]),
            dns: strings(&["d.example"]),
        }
    );
    assert_eq!(
        err(&format!("Hash={HASH};hAsH={HASH}")),
        XfccError::DuplicateKey("Hash")
    );
}

#[test]
fn unknown_keys_are_ignored() {
    assert_eq!(
        parse_last_element("Future=1;X-Thing=\"a,b;c\";DNS=d;Other_Key=").unwrap(),
        XfccElement {
            dns: strings(&["d"]),
            ..XfccElement::default()
        }
    );
}

#[test]
fn hash_must_be_64_hex_digits() {
    let upper = HASH.to_ascii_uppercase();
    assert_eq!(
        parse_last_element(&format!("Hash={upper}")).unwrap().hash,
        Some(upper)
    );
    assert_eq!(
        err(&format!("Hash={}", &HASH[..63])),
        XfccError::InvalidHash
    );
    assert_eq!(err(&format!("Hash={HASH}0")), XfccError::InvalidHash);
    assert_eq!(
        err(&format!("Hash={}g", &HASH[..63])),
        XfccError::InvalidHash
    );
    assert_eq!(err(&format!("Hash=\"{HASH} \"")), XfccError::InvalidHash);
    assert_eq!(err("Hash="), XfccError::EmptyValue("Hash"));
}

// ---------------------------------------------------------------- Cert / Chain decoding

#[test]
fn cert_decoding_treats_plus_as_plus_and_accepts_lowercase_hex() {
    let p = pki();
    // Only newline and space encoded; `+`, `/` and `=` left raw.
    let partly = p.leaf_pem.replace('\n', "%0a").replace(' ', "%20");
    let element = parse_last_element(&format!("Cert=\"{partly}\"")).unwrap();
    assert_eq!(element.cert.as_deref(), Some(p.leaf_pem.as_str()));
    assert_eq!(
        parse_last_element("Cert=a+b%2B%2bc")
            .unwrap()
            .cert
            .as_deref(),
        Some("a+b++c")
    );
}

#[test]
fn chain_decoding_of_unquoted_value() {
    let p = pki();
    let element = parse_last_element(&format!("Chain={}", envoy_url_encode(&p.ca_pem))).unwrap();
    assert_eq!(element.chain.as_deref(), Some(p.ca_pem.as_str()));
}

#[test]
fn malformed_percent_encoding_is_refused() {
    for bad in ["%", "%G1", "%4", "%4G", "abc%", "%%41", "%0"] {
        for key in ["Cert", "Chain"] {
            assert_eq!(
                err(&format!("{key}=\"{bad}\"")),
                XfccError::BadPercentEncoding,
                "{key}={bad}"
            );
            assert_eq!(
                err(&format!("{key}={bad}")),
                XfccError::BadPercentEncoding,
                "{key}={bad}"
            );
        }
    }
}

#[test]
fn percent_decoded_bytes_must_be_utf8() {
    assert_eq!(err("Cert=%FF"), XfccError::NotUtf8);
    assert_eq!(err("Chain=\"%C3\""), XfccError::NotUtf8);
    assert_eq!(
        parse_last_element("Cert=%C3%A9").unwrap().cert.as_deref(),
        Some("é")
    );
}

#[test]
fn percent_encoding_is_only_decoded_in_cert_and_chain() {
    assert_eq!(
        parse_last_element("URI=https://x/a%20b;DNS=%;Subject=\"%G1\"").unwrap(),
        XfccElement {
            uri: strings(&["https://x/a%20b"]),
            dns: strings(&["%"]),
            subject: Some("%G1".to_string()),
            ..XfccElement::default()
        }
    );
}

#[test]
fn empty_cert_or_chain_is_refused() {
    assert_eq!(err("Cert=\"\""), XfccError::EmptyValue("Cert"));
    assert_eq!(err("Chain="), XfccError::EmptyValue("Chain"));
}

// ---------------------------------------------------------------- malformed headers

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

// ---------------------------------------------------------------- PEM

#[test]
fn pem_single_and_chain() {
    let p = pki();
    assert_eq!(
        pem_to_der_certificates(&p.leaf_pem).unwrap(),
        vec![p.leaf_der.clone()]
    );
    let chain = format!("{}{}{}", p.ca_pem, p.leaf_pem, p.ca_pem);
    assert_eq!(
        pem_to_der_certificates(&chain).unwrap(),
        vec![p.ca_der.clone(), p.leaf_der.clone(), p.ca_der.clone()]
    );
}

#[test]
fn pem_layout_variants_that_are_accepted() {
    let p = pki();
    let crlf = p.leaf_pem.replace('\n', "\r\n");
    assert_eq!(
        pem_to_der_certificates(&crlf).unwrap(),
        vec![p.leaf_der.clone()]
    );
    let no_final_newline = p.leaf_pem.trim_end_matches('\n');
    assert_eq!(
        pem_to_der_certificates(no_final_newline).unwrap(),
        vec![p.leaf_der.clone()]
    );
    let blank_lines = format!("\n{}\n\n{}\n", p.leaf_pem, p.ca_pem);
    assert_eq!(
        pem_to_der_certificates(&blank_lines).unwrap(),
        vec![p.leaf_der.clone(), p.ca_der.clone()]
    );
}

#[test]
fn empty_bundle_is_an_error() {
    assert_eq!(pem_to_der_certificates(""), Err(XfccError::NoCertificates));
    assert_eq!(
        pem_to_der_certificates("\n\r\n\n"),
        Err(XfccError::NoCertificates)
    );
}

#[test]
fn garbage_pem_is_refused() {
    let p = pki();
    let body: Vec<&str> = p.leaf_pem.lines().collect();
    let b64 = body[1..body.len() - 1].join("\n");
    let cases: Vec<(String, XfccError)> = vec![
        ("hello".into(), XfccError::MalformedPem),
        (" ".into(), XfccError::MalformedPem),
        (format!("comment\n{}", p.leaf_pem), XfccError::MalformedPem),
        (
            format!("{}trailing text\n", p.leaf_pem),
            XfccError::MalformedPem,
        ),
        (format!(" {}", p.leaf_pem), XfccError::MalformedPem),
        (format!("{PEM_BEGIN}\n{b64}\n"), XfccError::MalformedPem),
        (format!("{PEM_BEGIN}\n{b64}"), XfccError::MalformedPem),
        (format!("{PEM_BEGIN}\n{PEM_END}\n"), XfccError::MalformedPem),
        (
            format!("{PEM_BEGIN}\n{b64}\n-----END PRIVATE KEY-----\n"),
            XfccError::MalformedPem,
        ),
        (
            format!("{PEM_BEGIN}x\n{b64}\n{PEM_END}\n"),
            XfccError::MalformedPem,
        ),
        (
            format!("{PEM_BEGIN}\n{b64}\n{PEM_END} \n"),
            XfccError::MalformedPem,
        ),
        (
            format!("{PEM_BEGIN}\n{b64}\n\n{PEM_END}\n"),
            XfccError::MalformedPem,
        ),
        (
            format!("{PEM_BEGIN}\n {b64}\n{PEM_END}\n"),
            XfccError::MalformedPem,
        ),
        (
            format!("{PEM_BEGIN}\nProc-Type: 4,ENCRYPTED\n{b64}\n{PEM_END}\n"),
            XfccError::MalformedPem,
        ),
        (
            format!("{PEM_BEGIN}\n!!!!\n{PEM_END}\n"),
            XfccError::MalformedPem,
        ),
        // Base64 that is not padded / not canonical.
        (
            format!("{PEM_BEGIN}\nAAA\n{PEM_END}\n"),
            XfccError::MalformedPem,
        ),
        (
            format!("{PEM_BEGIN}\nAB==\nAAAA\n{PEM_END}\n"),
            XfccError::MalformedPem,
        ),
        (
            format!("{PEM_BEGIN}\nAB=A\n{PEM_END}\n"),
            XfccError::MalformedPem,
        ),
        // Nested BEGIN.
        (
            format!("{PEM_BEGIN}\n{}", p.leaf_pem),
            XfccError::MalformedPem,
        ),
        // Valid base64, but not a DER SEQUENCE.
        (
            format!("{PEM_BEGIN}\nAAAA\n{PEM_END}\n"),
            XfccError::MalformedDer,
        ),
        (
            format!("{PEM_BEGIN}\nMAA=\nMAA=\n{PEM_END}\n"),
            XfccError::MalformedPem,
        ),
        (
            format!("{PEM_BEGIN}\nMAAA\n{PEM_END}\n"),
            XfccError::MalformedDer,
        ),
        (
            format!("{PEM_BEGIN}\nMAE=\n{PEM_END}\n"),
            XfccError::MalformedDer,
        ),
        (
            format!("{PEM_BEGIN}\nBAA=\n{PEM_END}\n"),
            XfccError::MalformedDer,
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(pem_to_der_certificates(&input), Err(expected), "{input:?}");
    }
    // The smallest well-framed SEQUENCE passes framing (validity is the verifier's job).
    assert_eq!(
        pem_to_der_certificates(&format!("{PEM_BEGIN}\nMAA=\n{PEM_END}\n")),
        Ok(vec![vec![0x30, 0x00]])
    );
}

#[test]
fn trailing_bytes_after_the_certificate_are_refused() {
    let p = pki();
    let mut der = p.leaf_der.clone();
    der.push(0);
    let x509 = X509::from_der(&p.leaf_der).unwrap();
    // Re-wrap by hand: openssl will not emit a trailing byte for us.
    let b64 = openssl::base64::encode_block(&der);
    let lines: Vec<String> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    let pem = format!("{PEM_BEGIN}\n{}\n{PEM_END}\n", lines.join("\n"));
    assert_eq!(pem_to_der_certificates(&pem), Err(XfccError::MalformedDer));
    // Control: the same wrapping without the extra byte is accepted.
    let b64 = openssl::base64::encode_block(&x509.to_der().unwrap());
    let lines: Vec<String> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    let pem = format!("{PEM_BEGIN}\n{}\n{PEM_END}\n", lines.join("\n"));
    assert_eq!(pem_to_der_certificates(&pem), Ok(vec![p.leaf_der.clone()]));
}

#[test]
fn non_certificate_blocks_are_refused() {
    let p = pki();
    let key = "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n";
    assert_eq!(
        pem_to_der_certificates(key),
        Err(XfccError::NotCertificateBlock)
    );
    assert_eq!(
        pem_to_der_certificates(&format!("{}{key}", p.leaf_pem)),
        Err(XfccError::NotCertificateBlock)
    );
    let trusted = p.leaf_pem.replace("CERTIFICATE", "TRUSTED CERTIFICATE");
    assert_eq!(
        pem_to_der_certificates(&trusted),
        Err(XfccError::NotCertificateBlock)
    );
    let crl = "-----BEGIN X509 CRL-----\nMAA=\n-----END X509 CRL-----\n";
    assert_eq!(
        pem_to_der_certificates(crl),
        Err(XfccError::NotCertificateBlock)
    );
}

#[test]
fn certificate_count_limit() {
    let p = pki();
    let sixty_four = p.leaf_pem.repeat(MAX_CERTIFICATES);
    assert_eq!(
        pem_to_der_certificates(&sixty_four).unwrap().len(),
        MAX_CERTIFICATES
    );
    let sixty_five = p.leaf_pem.repeat(MAX_CERTIFICATES + 1);
    assert_eq!(
        pem_to_der_certificates(&sixty_five),
        Err(XfccError::TooManyCertificates)
    );
    // Refused before decoding: a broken 66th block does not change the answer.
    let broken_tail = format!("{sixty_five}{PEM_BEGIN}\n!!\n");
    assert_eq!(
        pem_to_der_certificates(&broken_tail),
        Err(XfccError::TooManyCertificates)
    );
    // Through the header as well: a Chain of 65 parses, its PEM is refused.
    let element =
        parse_last_element(&format!("Chain=\"{}\"", envoy_url_encode(&sixty_five))).unwrap();
    assert_eq!(
        pem_to_der_certificates(element.chain.as_deref().unwrap()),
        Err(XfccError::TooManyCertificates)
    );
}

#[test]
fn oversize_pem_is_refused() {
    let p = pki();
    let mut big = p.leaf_pem.clone();
    big.push_str(&"\n".repeat(MAX_HEADER_BYTES));
    assert_eq!(pem_to_der_certificates(&big), Err(XfccError::TooLarge));
}

// ---------------------------------------------------------------- property-style

/// xorshift64*: deterministic, no dependencies.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

#[test]
fn random_input_never_panics() {
    let p = pki();
    let fragments: &[&str] = &[
        "\"",
        "\\",
        ",",
        ";",
        "=",
        "%",
        "%0A",
        "%2",
        "%G",
        "%FF",
        "%C3%A9",
        "By",
        "Hash",
        "Cert",
        "Chain",
        "Subject",
        "URI",
        "DNS",
        "a",
        "Z",
        "0",
        "f",
        " ",
        "\n",
        "\r",
        "\t",
        "\u{0}",
        "é",
        "+",
        "/",
        "-----BEGIN CERTIFICATE-----",
        "-----END CERTIFICATE-----",
        "-----BEGIN ",
        "-----",
        "MAA=",
        "AAAA",
        "MII",
        "====",
        HASH,
    ];
    let chain_pem = format!("{}{}", p.leaf_pem, p.ca_pem);
    let header = format!(
        "By=spiffe://gw;Hash={HASH};Cert=\"{}\";Chain=\"{}\";Subject=\"CN=a\\\"b\\,c\";URI=u;DNS=d",
        envoy_url_encode(&p.leaf_pem),
        envoy_url_encode(&chain_pem)
    );
    let mutate = |rng: &mut Rng, text: &str| -> String {
        let mut chars: Vec<char> = text.chars().collect();
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(chars.len());
            match rng.below(3) {
                0 => {
                    chars[at] =
                        *rng.pick(&['A', '=', '-', '\n', ' ', '!', '"', '\\', ',', ';', '%'])
                }
                1 => {
                    chars.remove(at);
                }
                _ => chars.insert(at, chars[at]),
            }
        }
        chars.into_iter().collect()
    };
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut accepted = 0;
    for round in 0..20_000 {
        let input = match round % 4 {
            // Raw bytes, made into a string the lossy way.
            0 => {
                let bytes: Vec<u8> = (0..rng.below(200)).map(|_| rng.next() as u8).collect();
                String::from_utf8_lossy(&bytes).into_owned()
            }
            1 => (0..rng.below(40))
                .map(|_| *rng.pick::<&str>(fragments))
                .collect(),
            // Near-valid PEM, both bare and inside a header.
            2 => {
                let pem = mutate(&mut rng, &chain_pem);
                let _ = parse_last_element(&format!("Chain=\"{}\"", envoy_url_encode(&pem)));
                pem
            }
            // Near-valid header.
            _ => mutate(&mut rng, &header),
        };
        if let Ok(element) = parse_last_element(&input) {
            accepted += 1;
            for pem in [element.cert, element.chain].into_iter().flatten() {
                let _ = pem_to_der_certificates(&pem);
            }
        }
        let _ = pem_to_der_certificates(&input);
    }
    // The fragment mix must reach the success path, or this test proves little.
    assert!(accepted > 1000, "only {accepted} inputs parsed");
}

/// Random values that Envoy could write, and what the parser must return.
fn random_element(rng: &mut Rng) -> (String, XfccElement) {
    const NAME_CHARS: &[char] = &[
        'a', 'b', 'Z', '0', '9', '.', '-', ':', '/', '?', '=', '&', '%', '\\', 'é',
    ];
    const SUBJECT_PIECES: &[&str] = &[
        "CN=", "O=", "a", " ", ",", ";", "=", "\\\"", "\\\\", "\\,", "\\+", "é",
    ];
    const CERT_CHARS: &[char] = &[
        'M', 'I', 'I', '+', '/', '=', '-', ' ', '\n', 'é', '%', ',', ';', '"',
    ];
    let name = |rng: &mut Rng| -> String {
        (0..1 + rng.below(12))
            .map(|_| *rng.pick(NAME_CHARS))
            .collect()
    };
    let mut parts = Vec::new();
    let mut expected = XfccElement::default();
    for _ in 0..rng.below(3) {
        let v = name(rng);
        parts.push(format!("By={v}"));
        expected.by.push(v);
    }
    if rng.below(2) == 0 {
        let hash: String = (0..64)
            .map(|_| *rng.pick(&['0', '9', 'a', 'f', 'A', 'F']))
            .collect();
        parts.push(format!("Hash={hash}"));
        expected.hash = Some(hash);
    }
    for (key, slot) in [("Cert", &mut expected.cert), ("Chain", &mut expected.chain)] {
        if rng.below(2) == 0 {
            let plain: String = (0..1 + rng.below(30))
                .map(|_| *rng.pick(CERT_CHARS))
                .collect();
            // Encode what must be encoded, and some of the rest at random.
            let mut encoded = String::new();
            for b in plain.bytes() {
                let must = matches!(b, b'%' | b',' | b';' | b'"' | b'\n') || b >= 0x80;
                if must || rng.below(3) == 0 {
                    encoded.push_str(&format!("%{b:02X}"));
                } else {
                    encoded.push(b as char);
                }
            }
            parts.push(format!("{key}=\"{encoded}\""));
            *slot = Some(plain);
        }
    }
    if rng.below(2) == 0 {
        let subject: String = (0..rng.below(10))
            .map(|_| *rng.pick(SUBJECT_PIECES))
            .collect();
        parts.push(format!("Subject=\"{subject}\""));
        expected.subject = Some(subject);
    }
    for _ in 0..rng.below(3) {
        let v = name(rng);
        parts.push(format!("URI={v}"));
        expected.uri.push(v);
    }
    for _ in 0..rng.below(3) {
        let v = name(rng);
        parts.push(format!("DNS={v}"));
        expected.dns.push(v);
    }
    if rng.below(3) == 0 {
        parts.push("Unknown=\"x,y;z\"".to_string());
    }
    if parts.is_empty() {
        parts.push("URI=".to_string());
    }
    // Envoy's order is fixed, but the parser must not depend on it.
    if rng.below(2) == 0 {
        parts.reverse();
        expected.by.reverse();
        expected.uri.reverse();
        expected.dns.reverse();
    }
    (parts.join(";"), expected)
}

#[test]
fn random_valid_headers_round_trip() {
    let mut rng = Rng(0x0123_4567_89AB_CDEF);
    for _ in 0..5_000 {
        let mut elements = Vec::new();
        let mut expected = XfccElement::default();
        for _ in 0..1 + rng.below(4) {
            let (text, parsed) = random_element(&mut rng);
            elements.push(text);
            expected = parsed;
        }
        let header = elements.join(",");
        let parsed = parse_last_element(&header);
        assert_eq!(parsed.as_ref(), Ok(&expected), "{header:?}");
    }
}

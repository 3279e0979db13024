//! Elements: what the last one says, verbatim where Envoy writes it so.

use super::*;

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

//! Property-style: random input never panics, random valid headers read back.

use super::*;

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

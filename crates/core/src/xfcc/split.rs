//! The last two elements of a header, as text: behind a trusted front
//! proxy the client's element is one of them (see `policy/front_proxy.rs`).

use super::{MAX_HEADER_BYTES, XfccError, lex_pair};

/// The header's last element and the one before it (if any), each as the
/// header has it. The whole header is checked against the same grammar as
/// [`parse_last_element`](super::parse_last_element), so no prefix a client
/// wrote can move where either element starts.
pub fn last_two_elements(header: &str) -> Result<(Option<&str>, &str), XfccError> {
    if header.len() > MAX_HEADER_BYTES {
        return Err(XfccError::TooLarge);
    }
    if header.is_empty() {
        return Err(XfccError::Empty);
    }
    let bytes = header.as_bytes();
    let mut previous: Option<&str> = None;
    let mut start = 0;
    loop {
        if matches!(bytes.get(start), None | Some(b',')) {
            return Err(XfccError::EmptyElement);
        }
        let mut pos = start;
        loop {
            let (_, end) = lex_pair(header, pos)?;
            match bytes.get(end) {
                None => {
                    let last = header.get(start..).ok_or(XfccError::EmptyElement)?;
                    return Ok((previous, last));
                }
                Some(b';') => pos = end + 1,
                Some(b',') => {
                    previous = header.get(start..end);
                    start = end + 1;
                    break;
                }
                Some(_) => return Err(XfccError::UnexpectedQuote),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_two_elements_are_returned_verbatim() {
        assert_eq!(last_two_elements("Hash=aa").unwrap(), (None, "Hash=aa"));
        assert_eq!(
            last_two_elements("Hash=aa;URI=x,Hash=bb;Cert=\"a,b\",Hash=cc").unwrap(),
            (Some("Hash=bb;Cert=\"a,b\""), "Hash=cc")
        );
    }

    #[test]
    fn a_malformed_header_has_no_elements() {
        for header in [
            "",
            "Hash=aa,",
            ",Hash=aa",
            "Hash=\"aa,Hash=bb",
            "Hash",
            "Hash=a\"b",
        ] {
            assert!(last_two_elements(header).is_err(), "{header:?}");
        }
        let huge = format!("Hash={}", "a".repeat(MAX_HEADER_BYTES));
        assert_eq!(last_two_elements(&huge), Err(XfccError::TooLarge));
    }
}

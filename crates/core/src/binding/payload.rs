//! The verified token payload, read from what the filter is given: the
//! JSON payload itself (the CLI, tests) or Envoy's serialisation of the
//! metadata value. Envoy hands a `google.protobuf.Struct` read through a
//! property path to wasm as proxy-wasm pairs, recursively: a string as its
//! bytes, a number as 8 little-endian bytes of an `f64`, a boolean as one
//! byte, an object as pairs, a list as pairs with empty values; a `null`
//! anywhere makes the whole read fail. Only two claims are kept; both are
//! read in bounded time from a bounded input, whatever its shape.

use serde_json::Value;

/// Larger payloads are refused unread: no real token comes near.
pub const MAX_PAYLOAD_BYTES: usize = 32 * 1024;
/// The claims the binding reads.
pub const AGENT_CLAIM: &str = "logistics_agent_uri";
pub const CNF_CLAIM: &str = "cnf";
pub const THUMBPRINT_MEMBER: &str = "x5t#S256";

/// One claim of the payload.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Claim {
    #[default]
    Absent,
    /// A string without control characters.
    Text(String),
    /// Present, but not such a string: it can match nothing.
    Invalid,
}

/// The claims the binding reads from a verified payload.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenPayload {
    pub logistics_agent_uri: Claim,
    /// `cnf.x5t#S256`; `Invalid` too when `cnf` is not an object.
    pub cnf_x5t_s256: Claim,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PayloadError {
    TooLarge,
    /// Not a JSON object (or not JSON at all).
    NotAnObject,
    /// Not Envoy's serialisation of a map.
    Malformed,
}

impl TokenPayload {
    /// From the JSON payload, as `jwt_authn` would store it.
    pub fn from_json(bytes: &[u8]) -> Result<TokenPayload, PayloadError> {
        if bytes.len() > MAX_PAYLOAD_BYTES {
            return Err(PayloadError::TooLarge);
        }
        // serde_json bounds nesting (128 levels) on its own.
        let value: Value = serde_json::from_slice(bytes).map_err(|_| PayloadError::NotAnObject)?;
        let object = value.as_object().ok_or(PayloadError::NotAnObject)?;
        let cnf_x5t_s256 = match object.get(CNF_CLAIM) {
            None => Claim::Absent,
            Some(Value::Object(cnf)) => json_claim(cnf.get(THUMBPRINT_MEMBER)),
            Some(_) => Claim::Invalid,
        };
        Ok(TokenPayload {
            logistics_agent_uri: json_claim(object.get(AGENT_CLAIM)),
            cnf_x5t_s256,
        })
    }

    /// From Envoy's serialisation of the metadata value (module docs).
    pub fn from_envoy(bytes: &[u8]) -> Result<TokenPayload, PayloadError> {
        if bytes.len() > MAX_PAYLOAD_BYTES {
            return Err(PayloadError::TooLarge);
        }
        let pairs = Pairs::parse(bytes).ok_or(PayloadError::Malformed)?;
        let cnf_x5t_s256 = match pairs.get(CNF_CLAIM.as_bytes()) {
            None => Claim::Absent,
            Some(cnf) => match Pairs::parse(cnf) {
                Some(cnf) => cnf
                    .get(THUMBPRINT_MEMBER.as_bytes())
                    .map_or(Claim::Absent, text_claim),
                None => Claim::Invalid,
            },
        };
        Ok(TokenPayload {
            logistics_agent_uri: pairs
                .get(AGENT_CLAIM.as_bytes())
                .map_or(Claim::Absent, text_claim),
            cnf_x5t_s256,
        })
    }
}

fn json_claim(value: Option<&Value>) -> Claim {
    match value {
        None => Claim::Absent,
        Some(Value::String(text)) => text_claim(text.as_bytes()),
        Some(_) => Claim::Invalid,
    }
}

/// A claim's bytes as text. Envoy does not say which type a value had:
/// bytes that are not printable text (a number, an object) match nothing.
pub fn text_claim(bytes: &[u8]) -> Claim {
    match std::str::from_utf8(bytes) {
        Ok(text) if !text.is_empty() && !text.chars().any(char::is_control) => {
            Claim::Text(text.to_string())
        }
        _ => Claim::Invalid,
    }
}

/// A proxy-wasm pairs buffer, checked: a u32 count, a (key, value) length
/// pair per entry, then each key and value followed by a NUL.
struct Pairs<'a> {
    entries: Vec<(&'a [u8], &'a [u8])>,
}

impl<'a> Pairs<'a> {
    fn parse(bytes: &'a [u8]) -> Option<Pairs<'a>> {
        let count = u32_at(bytes, 0)?;
        // Each entry takes at least ten bytes: more than fit is malformed.
        if count > bytes.len() / 10 {
            return None;
        }
        let mut data = 4usize.checked_add(count.checked_mul(8)?)?;
        let mut entries = Vec::with_capacity(count);
        for i in 0..count {
            let at = 4 + i * 8;
            let key_len = u32_at(bytes, at)?;
            let value_len = u32_at(bytes, at + 4)?;
            let key = take(bytes, &mut data, key_len)?;
            let value = take(bytes, &mut data, value_len)?;
            entries.push((key, value));
        }
        (data == bytes.len()).then_some(Pairs { entries })
    }

    fn get(&self, key: &[u8]) -> Option<&'a [u8]> {
        self.entries
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, value)| *value)
    }
}

/// `len` bytes at `*at`, then a NUL; moves `*at` past both.
fn take<'a>(bytes: &'a [u8], at: &mut usize, len: usize) -> Option<&'a [u8]> {
    let end = at.checked_add(len)?;
    let field = bytes.get(*at..end)?;
    if *bytes.get(end)? != 0 {
        return None;
    }
    *at = end + 1;
    Some(field)
}

fn u32_at(bytes: &[u8], at: usize) -> Option<usize> {
    let raw: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    usize::try_from(u32::from_le_bytes(raw)).ok()
}

/// Envoy's serialisation of a JSON payload held as a `Struct` (module
/// docs); `None` where Envoy's read fails (a `null` anywhere).
#[cfg(any(test, feature = "tools"))]
pub fn envoy_serialization(value: &Value) -> Option<Vec<u8>> {
    Some(match value {
        Value::Null => return None,
        Value::Bool(b) => vec![u8::from(*b)],
        Value::Number(n) => n.as_f64()?.to_le_bytes().to_vec(),
        Value::String(s) => s.as_bytes().to_vec(),
        Value::Array(items) => {
            let keys = items
                .iter()
                .map(envoy_serialization)
                .collect::<Option<Vec<_>>>()?;
            pairs(keys.iter().map(|k| (k.as_slice(), &[][..])))
        }
        Value::Object(members) => {
            let values = members
                .values()
                .map(envoy_serialization)
                .collect::<Option<Vec<_>>>()?;
            pairs(
                members
                    .keys()
                    .map(String::as_bytes)
                    .zip(values.iter().map(Vec::as_slice)),
            )
        }
    })
}

#[cfg(any(test, feature = "tools"))]
fn pairs<'a>(entries: impl Iterator<Item = (&'a [u8], &'a [u8])> + Clone) -> Vec<u8> {
    let mut out = Vec::new();
    let count = entries.clone().count() as u32;
    out.extend_from_slice(&count.to_le_bytes());
    for (k, v) in entries.clone() {
        out.extend_from_slice(&(k.len() as u32).to_le_bytes());
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
    }
    for (k, v) in entries {
        out.extend_from_slice(k);
        out.push(0);
        out.extend_from_slice(v);
        out.push(0);
    }
    out
}

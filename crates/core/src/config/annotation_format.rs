//! `annotation_format`: how the verified facts reach the backend, as one
//! header each (the default) or as one RFC 8941 dictionary header.

use super::json::{kind, present};
use super::{ConfigError, err};
use serde_json::{Map, Value};

pub const FIELDS: &[&str] = &["annotation_format"];

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AnnotationFormat {
    /// `x-onerecord-mtls`, `x-onerecord-client-sha256`, …: one header per fact.
    #[default]
    Headers,
    /// One header, `<prefix>facts`, an RFC 8941 dictionary of the same facts:
    /// one host call per request instead of one per fact.
    Dictionary,
}

impl AnnotationFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            AnnotationFormat::Headers => "headers",
            AnnotationFormat::Dictionary => "dictionary",
        }
    }
}

pub(super) fn read(object: &Map<String, Value>) -> Result<AnnotationFormat, ConfigError> {
    let field = "annotation_format";
    let Some(v) = present(object, field) else {
        return Ok(AnnotationFormat::default());
    };
    match v.as_str() {
        Some("headers") => Ok(AnnotationFormat::Headers),
        Some("dictionary") => Ok(AnnotationFormat::Dictionary),
        Some(other) => Err(err(
            field,
            format!("must be \"headers\" or \"dictionary\", got \"{other}\""),
        )),
        None => Err(err(
            field,
            format!("must be \"headers\" or \"dictionary\", got {}", kind(v)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::AnnotationFormat;
    use crate::config::Config;

    #[test]
    fn headers_by_default_dictionary_when_asked_and_nothing_else() {
        let default = Config::parse(b"{}").unwrap();
        assert_eq!(default.annotation_format, AnnotationFormat::Headers);
        let dictionary = Config::parse(br#"{"annotation_format":"dictionary"}"#).unwrap();
        assert_eq!(dictionary.annotation_format, AnnotationFormat::Dictionary);
        for wrong in [
            &br#"{"annotation_format":"json"}"#[..],
            br#"{"annotation_format":1}"#,
        ] {
            let e = Config::parse(wrong).unwrap_err();
            assert_eq!(e.field, "annotation_format");
            assert!(e.message.contains("\"dictionary\""), "{}", e.message);
        }
    }
}

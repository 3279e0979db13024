//! `x509_profile` and `onerecord_profile`: how strictly client certificates
//! are held to RFC 5280, and whether the ONE Record certificate policy applies.

use super::json::{as_str, kind, present};
use super::{ConfigError, err};
use crate::trust::{CertificateProfile, X509Profile};
use serde_json::{Map, Value};

pub(super) fn read(object: &Map<String, Value>) -> Result<CertificateProfile, ConfigError> {
    let mut profile = CertificateProfile::default();
    if let Some(v) = present(object, "x509_profile") {
        profile.x509 = match as_str(v, "x509_profile")? {
            "strict" => X509Profile::Strict,
            "compatible" => X509Profile::Compatible,
            other => {
                return Err(err(
                    "x509_profile",
                    format!("must be \"strict\" or \"compatible\", got {other:?}"),
                ));
            }
        };
    }
    if let Some(v) = present(object, "onerecord_profile") {
        profile.onerecord = v.as_bool().ok_or_else(|| {
            err(
                "onerecord_profile",
                format!("must be true or false, got {}", kind(v)),
            )
        })?;
    }
    Ok(profile)
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::trust::X509Profile;

    #[test]
    fn profiles_default_to_strict_without_the_onerecord_policy() {
        let config = Config::parse(b"{}").unwrap();
        assert_eq!(config.trust.profile.x509, X509Profile::Strict);
        assert!(!config.trust.profile.onerecord);
        let config =
            Config::parse(br#"{"x509_profile":"compatible","onerecord_profile":true}"#).unwrap();
        assert_eq!(config.trust.profile.x509, X509Profile::Compatible);
        assert!(config.trust.profile.onerecord);
    }

    #[test]
    fn bad_profiles_name_the_field() {
        let e = Config::parse(br#"{"x509_profile":"lenient"}"#).unwrap_err();
        assert_eq!(e.field, "x509_profile");
        assert!(e.message.contains("\"lenient\""), "{}", e.message);
        let e = Config::parse(br#"{"onerecord_profile":"yes"}"#).unwrap_err();
        assert_eq!(e.field, "onerecord_profile");
    }
}

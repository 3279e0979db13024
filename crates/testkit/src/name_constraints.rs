//! nameConstraints values for `CertSpec::extension` that openssl's text
//! form cannot write without a configuration file: directoryName subtrees.

use crate::crl::tlv;
use openssl::x509::X509NameBuilder;

/// Which subtrees a constraint goes in.
#[derive(Clone, Copy, Debug)]
pub enum Subtrees {
    Permitted,
    Excluded,
}

/// A critical nameConstraints with one directoryName subtree of `entries`
/// (`("CN", "agent-1")`, in order), as `critical,DER:…`.
pub fn directory_name(subtrees: Subtrees, entries: &[(&str, &str)]) -> String {
    let mut name = X509NameBuilder::new().expect("name");
    for (field, value) in entries {
        name.append_entry_by_text(field, value).expect("name entry");
    }
    let name = name.build().to_der().expect("name DER");
    let tag = match subtrees {
        Subtrees::Permitted => 0xa0,
        Subtrees::Excluded => 0xa1,
    };
    // NameConstraints { [0|1] GeneralSubtrees { GeneralSubtree { [4] Name } } }
    let der = tlv(0x30, &tlv(tag, &tlv(0x30, &tlv(0xa4, &name))));
    let hex: Vec<String> = der.iter().map(|b| format!("{b:02X}")).collect();
    format!("critical,DER:{}", hex.join(":"))
}

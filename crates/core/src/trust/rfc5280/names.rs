//! The leaf's names as the profile wants them: DNS names in preferred name
//! syntax (a wildcard only as the whole leftmost label, over at least two
//! labels), and a CN in host form that repeats a SAN.

use super::Defect;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;

pub(super) fn defects(
    cert: &X509Certificate<'_>,
    names: &[GeneralName<'_>],
    add: &mut impl FnMut(Defect),
) {
    let dns: Vec<&str> = names
        .iter()
        .filter_map(|n| match n {
            GeneralName::DNSName(d) => Some(*d),
            _ => None,
        })
        .collect();
    for name in &dns {
        // The filter matches no names, so `*.example.com` is only a name to
        // hold against constraints; over a single label (`*`, `*.com`) it
        // covers a whole top-level domain, which no CA may issue.
        let base = name.strip_prefix("*.");
        if *name == "*" || base.is_some_and(|b| !b.contains('.')) {
            add(Defect::DnsNameWildcard);
        }
        if !is_preferred_dns_syntax(base.unwrap_or(name)) && *name != "*" {
            add(Defect::DnsNameMalformed);
        }
    }
    let ips: Vec<String> = names
        .iter()
        .filter_map(|n| match n {
            GeneralName::IPAddress(ip) => ip_text(ip),
            _ => None,
        })
        .collect();
    for cn in cert.subject().iter_common_name() {
        let Ok(cn) = cn.as_str() else { continue };
        // A CN in the form of a SAN present repeats one of them exactly
        // (CA/Browser Forum 7.1.4.3); a DNS form may instead name the
        // domain the DNS SANs lie under.
        let named = match host_form(cn) {
            Some(HostForm::Ip) if !ips.is_empty() => ips.iter().any(|ip| ip == cn),
            Some(HostForm::Dns) if !dns.is_empty() => dns
                .iter()
                .any(|d| *d == cn || d.strip_suffix(cn).is_some_and(|head| head.ends_with('.'))),
            _ => true,
        };
        if !named {
            add(Defect::CommonNameNotInSubjectAltName);
        }
    }
}

enum HostForm {
    Dns,
    Ip,
}

/// How a server-name check would read a CN: an IP literal (in any of the
/// spellings), a dotted name, or neither (an organisation's name).
fn host_form(cn: &str) -> Option<HostForm> {
    if cn.contains(' ') {
        return None;
    }
    let ip_like = cn.contains(':')
        || cn.starts_with("0x")
        || cn
            .split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()));
    if ip_like {
        Some(HostForm::Ip)
    } else if cn.contains('.') {
        Some(HostForm::Dns)
    } else {
        None
    }
}

/// RFC 1034 3.5 preferred name syntax (letters, digits, hyphens; labels of
/// 1 to 63 octets not starting or ending with a hyphen), and not an IP
/// address written as a name.
fn is_preferred_dns_syntax(name: &str) -> bool {
    let labels: Vec<&str> = name.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let all_numeric = labels.iter().all(|l| l.bytes().all(|b| b.is_ascii_digit()));
    name.len() <= 253 && labels.iter().all(label_ok) && !all_numeric
}

/// An IP SAN as text: dotted quad, or RFC 5952 IPv6.
fn ip_text(octets: &[u8]) -> Option<String> {
    if let Ok(v4) = <[u8; 4]>::try_from(octets) {
        return Some(std::net::Ipv4Addr::from(v4).to_string());
    }
    <[u8; 16]>::try_from(octets)
        .ok()
        .map(|v6| std::net::Ipv6Addr::from(v6).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names_in_preferred_syntax() {
        for good in ["example.com", "a-b.example.com", "xn--n3h.com", "localhost"] {
            assert!(is_preferred_dns_syntax(good), "{good}");
        }
        for bad in [
            "under_score.example.com",
            "1.2.3.4",
            "",
            "a..b",
            "-a.com",
            "é.com",
        ] {
            assert!(!is_preferred_dns_syntax(bad), "{bad}");
        }
    }
}

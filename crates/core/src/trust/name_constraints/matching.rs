//! Whether a name lies within a subtree, per form (RFC 5280 4.2.1.10).

use super::Violation;
use super::read::{Names, Rdn, Subtree};

/// Every name of a form that has permitted subtrees lies within one of them.
pub(super) fn permitted(subtrees: &[Subtree], names: &Names) -> Result<(), Violation> {
    unprocessable(subtrees, names)?;
    let dns = subtrees.iter().filter_map(|s| match s {
        Subtree::Dns(c) => Some(c.as_str()),
        _ => None,
    });
    let ips = subtrees.iter().filter_map(|s| match s {
        Subtree::Ip(a, m) => Some((a.as_slice(), m.as_slice())),
        _ => None,
    });
    let emails = subtrees.iter().filter_map(|s| match s {
        Subtree::Email(c) => Some(c.as_str()),
        _ => None,
    });
    let uris = subtrees.iter().filter_map(|s| match s {
        Subtree::Uri(c) => Some(c.as_str()),
        _ => None,
    });
    let dirs = subtrees.iter().filter_map(|s| match s {
        Subtree::Directory(c) => Some(c.as_slice()),
        _ => None,
    });
    let checks = [
        (
            all_within(&names.dns, dns, |n, c| dns_within(n, c)),
            "dns_name_not_permitted",
        ),
        (
            all_within(&names.ips, ips, |n, c| ip_within(n, c)),
            "ip_address_not_permitted",
        ),
        (
            all_within(&names.emails, emails, |n, c| email_within(n, c)),
            "email_not_permitted",
        ),
        (
            all_within(&names.uris, uris, |n, c| uri_within(n, c)),
            "uri_not_permitted",
        ),
        (
            all_within(&names.directories, dirs, |n, c| directory_within(n, c)),
            "directory_name_not_permitted",
        ),
    ];
    match checks.into_iter().find(|(ok, _)| !ok) {
        Some((_, form)) => Err(Violation::Name(form)),
        None => Ok(()),
    }
}

/// No constraint of the form, or every name within one of them.
fn all_within<N, C: Copy>(
    names: &[N],
    constraints: impl Iterator<Item = C>,
    within: impl Fn(&N, C) -> bool,
) -> bool {
    let constraints: Vec<C> = constraints.collect();
    constraints.is_empty()
        || names
            .iter()
            .all(|n| constraints.iter().any(|c| within(n, *c)))
}

/// No name lies within an excluded subtree of its form.
pub(super) fn excluded(subtrees: &[Subtree], names: &Names) -> Result<(), Violation> {
    unprocessable(subtrees, names)?;
    for subtree in subtrees {
        let hit = match subtree {
            Subtree::Dns(c) => names.dns.iter().any(|n| dns_overlaps(n, c)),
            Subtree::Ip(a, m) => names.ips.iter().any(|n| ip_within(n, (a, m))),
            Subtree::Email(c) => names.emails.iter().any(|n| email_within(n, c)),
            Subtree::Uri(c) => names.uris.iter().any(|n| uri_within(n, c)),
            Subtree::Directory(c) => names.directories.iter().any(|n| directory_within(n, c)),
            Subtree::Other(_) | Subtree::Malformed(_) => false,
        };
        if hit {
            return Err(Violation::Name(match subtree {
                Subtree::Dns(_) => "dns_name_excluded",
                Subtree::Ip(..) => "ip_address_excluded",
                Subtree::Email(_) => "email_excluded",
                Subtree::Uri(_) => "uri_excluded",
                _ => "directory_name_excluded",
            }));
        }
    }
    Ok(())
}

/// A constraint that cannot be evaluated, over a name of its form.
fn unprocessable(subtrees: &[Subtree], names: &Names) -> Result<(), Violation> {
    for subtree in subtrees {
        match subtree {
            Subtree::Other(tag) if names.others.contains(tag) => {
                return Err(Violation::Unsupported);
            }
            Subtree::Malformed(tag) if has_form(names, *tag) => {
                return Err(Violation::Name("malformed_constraint"));
            }
            Subtree::Ip(_, mask) if !contiguous(mask) && !names.ips.is_empty() => {
                return Err(Violation::Name("malformed_constraint"));
            }
            _ => {}
        }
    }
    Ok(())
}

fn has_form(names: &Names, tag: u8) -> bool {
    match tag {
        1 => !names.emails.is_empty(),
        2 => !names.dns.is_empty(),
        4 => !names.directories.is_empty(),
        6 => !names.uris.is_empty(),
        7 => !names.ips.is_empty(),
        other => names.others.contains(&other),
    }
}

/// `name` is `constraint` or below it; a constraint with a leading period
/// holds only what is below it; the empty constraint holds every name.
pub(super) fn dns_within(name: &str, constraint: &str) -> bool {
    if constraint.is_empty() {
        return true;
    }
    if constraint.starts_with('.') {
        return name.len() > constraint.len() && name.ends_with(constraint);
    }
    name == constraint
        || name
            .strip_suffix(constraint)
            .is_some_and(|head| head.ends_with('.'))
}

/// For exclusion a wildcard stands for every name it matches: `*.x` meets
/// an excluded `y.x` as well as anything `x` is under.
fn dns_overlaps(name: &str, constraint: &str) -> bool {
    if dns_within(name, constraint) {
        return true;
    }
    let Some(base) = name.strip_prefix("*.") else {
        return false;
    };
    let constraint = constraint.strip_prefix('.').unwrap_or(constraint);
    constraint
        .strip_suffix(base)
        .and_then(|head| head.strip_suffix('.'))
        .is_some_and(|label| !label.is_empty() && !label.contains('.'))
}

fn ip_within(ip: &[u8], (address, mask): (&[u8], &[u8])) -> bool {
    ip.len() == address.len()
        && contiguous(mask)
        && ip
            .iter()
            .zip(address)
            .zip(mask)
            .all(|((i, a), m)| i & m == a & m)
}

/// A mask of leading ones and trailing zeros.
fn contiguous(mask: &[u8]) -> bool {
    let bits = mask
        .iter()
        .flat_map(|b| (0..8).rev().map(move |i| b >> i & 1 == 1));
    let mut seen_zero = false;
    for bit in bits {
        if bit && seen_zero {
            return false;
        }
        seen_zero |= !bit;
    }
    true
}

/// A mailbox `local@domain`: within `local@domain` exactly, within a host
/// `domain`, or within `.domain` when below it (case-insensitive domains).
pub(super) fn email_within(email: &str, constraint: &str) -> bool {
    let Some((local, domain)) = mailbox(email) else {
        return false;
    };
    match constraint.rsplit_once('@') {
        Some((c_local, c_domain)) => local == c_local && domain.eq_ignore_ascii_case(c_domain),
        None => host_within(domain, constraint),
    }
}

/// `local@domain` with one `@`, both parts present, the domain a host name.
fn mailbox(email: &str) -> Option<(&str, &str)> {
    let (local, domain) = email.split_once('@')?;
    let host_like = !domain.is_empty()
        && domain
            .split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    (!local.is_empty() && !domain.contains('@') && host_like).then_some((local, domain))
}

/// The URI's host is the constraint, or below a `.domain` constraint. A URI
/// without a host name (no authority, an IP literal) is within nothing.
pub(super) fn uri_within(uri: &str, constraint: &str) -> bool {
    uri_host(uri).is_some_and(|host| host_within(host, constraint))
}

fn host_within(host: &str, constraint: &str) -> bool {
    let host = host.to_ascii_lowercase();
    let constraint = constraint.to_ascii_lowercase();
    if constraint.starts_with('.') {
        host.len() > constraint.len() && host.ends_with(&constraint)
    } else {
        host == constraint
    }
}

/// The host of `scheme://[userinfo@]host[:port][/…]`.
pub(super) fn uri_host(uri: &str) -> Option<&str> {
    let (scheme, rest) = uri.split_once("://")?;
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.starts_with('[') {
        return None;
    }
    let host = host_port.split(':').next()?;
    let is_name = !host.is_empty()
        && host
            .split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        && !host
            .split('.')
            .all(|l| l.bytes().all(|b| b.is_ascii_digit()));
    is_name.then_some(host)
}

/// The constraint's RDNs begin the name's.
fn directory_within(name: &[Rdn], constraint: &[Rdn]) -> bool {
    name.get(..constraint.len()) == Some(constraint)
}

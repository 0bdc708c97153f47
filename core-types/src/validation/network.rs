//! IP address and CIDR syntax checks with upstream's messages (`IsValidIP`, `IsValidCIDR`).

use std::net::{IpAddr, Ipv4Addr};

use super::field::{ErrorList, FieldError, FieldPath};

/// Parses an IP the way upstream's `ParseIPSloppy` does (IPv4 octets may have leading zeros).
pub fn parse_ip_sloppy(value: &str) -> Option<IpAddr> {
    if let Ok(ip) = value.parse::<IpAddr>() {
        return Some(ip);
    }
    let mut octets = [0u8; 4];
    let mut parts = value.split('.');
    for o in &mut octets {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *o = p.parse().ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(IpAddr::V4(Ipv4Addr::from(octets)))
}

/// Upstream's `IsValidIP`: `must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`.
pub fn validate_ip(value: &str, path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    if parse_ip_sloppy(value).is_none() {
        errs.push(FieldError::invalid(
            path,
            value,
            "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
        ));
    }
    errs
}

/// Whether `value` is `ip/prefix` with a prefix length that fits the address family.
pub fn is_cidr(value: &str) -> bool {
    let Some((ip, len)) = value.split_once('/') else {
        return false;
    };
    let Some(ip) = parse_ip_sloppy(ip) else {
        return false;
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    !len.is_empty()
        && len.len() <= 3
        && len.bytes().all(|b| b.is_ascii_digit())
        && len.parse::<u32>().is_ok_and(|l| l <= max)
}

/// Upstream's `IsValidCIDR`: `must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)`.
pub fn validate_cidr(value: &str, path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    if !is_cidr(value) {
        errs.push(FieldError::invalid(
            path,
            value,
            "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
        ));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ips_and_cidrs() {
        for (s, ip, cidr) in [
            ("10.0.0.1", true, false),
            ("010.000.000.001", true, false),
            ("2001:db8::1", true, false),
            ("10.0.0.0/8", false, true),
            ("2001:db8::/129", false, false),
            ("1.2.3", false, false),
            ("", false, false),
        ] {
            assert_eq!(parse_ip_sloppy(s).is_some(), ip, "{s}");
            assert_eq!(is_cidr(s), cidr, "{s}");
        }
    }
}

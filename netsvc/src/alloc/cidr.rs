//! Service CIDRs: parsing `a.b.c.d/n` and `x::/n`, and address arithmetic over them.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// An IP family, as the Service `ipFamilies` field spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IpFamily {
    /// `IPv4`.
    V4,
    /// `IPv6`.
    V6,
}

impl IpFamily {
    /// The API spelling: `IPv4` or `IPv6`.
    pub fn as_str(self) -> &'static str {
        match self {
            IpFamily::V4 => "IPv4",
            IpFamily::V6 => "IPv6",
        }
    }

    /// Parses the API spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "IPv4" => Some(IpFamily::V4),
            "IPv6" => Some(IpFamily::V6),
            _ => None,
        }
    }

    /// The family of an address.
    pub fn of(ip: &IpAddr) -> Self {
        if ip.is_ipv4() {
            IpFamily::V4
        } else {
            IpFamily::V6
        }
    }

    /// The other family.
    pub fn other(self) -> Self {
        match self {
            IpFamily::V4 => IpFamily::V6,
            IpFamily::V6 => IpFamily::V4,
        }
    }
}

/// A CIDR could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid CIDR address: {0} (expected an address and a prefix length such as 10.96.0.0/12 or fd00::/108)"
)]
pub struct CidrError(pub String);

/// A network: its (masked) base address and prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    base: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// The family.
    pub fn family(&self) -> IpFamily {
        IpFamily::of(&self.base)
    }

    /// Address bits of the family (32 or 128).
    fn bits(&self) -> u32 {
        match self.family() {
            IpFamily::V4 => 32,
            IpFamily::V6 => 128,
        }
    }

    /// Number of addresses in the network, saturating at `u128::MAX`.
    pub fn size(&self) -> u128 {
        let host_bits = self.bits() - u32::from(self.prefix);
        if host_bits >= 128 {
            u128::MAX
        } else {
            1u128 << host_bits
        }
    }

    /// The network (first) address.
    pub fn network(&self) -> IpAddr {
        self.base
    }

    /// Whether `ip` is inside the network.
    pub fn contains(&self, ip: &IpAddr) -> bool {
        IpFamily::of(ip) == self.family()
            && to_u128(ip).wrapping_sub(to_u128(&self.base)) < self.size()
            && to_u128(ip) >= to_u128(&self.base)
    }

    /// The address `n` after the network address (callers keep `n` below [`Cidr::size`]).
    pub fn nth(&self, n: u128) -> IpAddr {
        from_u128(self.family(), to_u128(&self.base).wrapping_add(n))
    }

    /// Offset of `ip` from the network address, if inside.
    pub fn offset_of(&self, ip: &IpAddr) -> Option<u128> {
        self.contains(ip).then(|| to_u128(ip) - to_u128(&self.base))
    }
}

impl FromStr for Cidr {
    type Err = CidrError;
    fn from_str(s: &str) -> Result<Self, CidrError> {
        let err = || CidrError(s.to_owned());
        let (addr, prefix) = s.split_once('/').ok_or_else(err)?;
        let ip: IpAddr = addr.parse().map_err(|_| err())?;
        let prefix: u8 = prefix.parse().map_err(|_| err())?;
        let bits = if ip.is_ipv4() { 32 } else { 128 };
        if u32::from(prefix) > bits {
            return Err(err());
        }
        let mask: u128 = if prefix == 0 {
            0
        } else {
            (u128::MAX << (128 - u32::from(prefix))) >> (128 - bits)
        };
        let base = from_u128(IpFamily::of(&ip), to_u128(&ip) & mask);
        Ok(Cidr { base, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.base, self.prefix)
    }
}

/// An address as a number.
pub fn to_u128(ip: &IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(*v4)),
        IpAddr::V6(v6) => u128::from(*v6),
    }
}

/// A number as an address of `family` (IPv4 keeps the low 32 bits).
pub fn from_u128(family: IpFamily, n: u128) -> IpAddr {
    match family {
        IpFamily::V4 => IpAddr::V4(std::net::Ipv4Addr::from((n & 0xffff_ffff) as u32)),
        IpFamily::V6 => IpAddr::V6(std::net::Ipv6Addr::from(n)),
    }
}

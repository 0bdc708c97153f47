//! The ClusterIP allocator for one service CIDR, as upstream's `ipallocator.Range` (bitmap).
//!
//! The network address is never handed out, nor (IPv4) the broadcast address; IPv6 ranges are
//! capped at 65,536 addresses as upstream caps its bitmap. The lower band of
//! `min(max(16, size/16), 256)` addresses is reserved for explicit (static) requests
//! (KEP-3070): dynamic allocation only falls back to it when the upper band is full.

use std::net::IpAddr;

use super::bitmap::Bitmap;
use super::cidr::{Cidr, IpFamily};

/// Why an address could not be allocated, with upstream's messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IpAllocError {
    /// No free address is left.
    #[error("range is full")]
    Full,
    /// The requested address is taken.
    #[error("provided IP is already allocated")]
    Allocated,
    /// The requested address is outside the range.
    #[error(
        "the provided IP ({ip}) is not in the valid range. The range of valid IPs is {valid_range}"
    )]
    NotInRange {
        /// The requested address.
        ip: IpAddr,
        /// The service CIDR.
        valid_range: String,
    },
}

/// Allocates service addresses from one CIDR.
#[derive(Clone, Debug)]
pub struct IpRange {
    cidr: Cidr,
    /// Offset (from the network address) of slot 0: always 1 (the network address is skipped).
    bitmap: Bitmap,
}

/// `min(max(16, size/16), 256)` — the static band size upstream derives from the CIDR size,
/// 0 for ranges of 16 addresses or fewer.
pub fn static_band_size(cidr_size: u128) -> usize {
    if cidr_size <= 16 {
        return 0;
    }
    (cidr_size / 16).clamp(16, 256) as usize
}

impl IpRange {
    /// A range over `cidr`.
    pub fn new(cidr: Cidr) -> Self {
        let size = cidr.size();
        let mut max = match cidr.family() {
            IpFamily::V6 => size.min(65_536),
            IpFamily::V4 => size.saturating_sub(1),
        };
        max = max.saturating_sub(1);
        let max = max as usize;
        Self {
            cidr,
            bitmap: Bitmap::new(max, static_band_size(size)),
        }
    }

    /// The CIDR.
    pub fn cidr(&self) -> Cidr {
        self.cidr
    }

    /// The family.
    pub fn family(&self) -> IpFamily {
        self.cidr.family()
    }

    /// Number of allocatable addresses.
    pub fn size(&self) -> usize {
        self.bitmap.size()
    }

    /// Number of free addresses.
    pub fn free(&self) -> usize {
        self.bitmap.free()
    }

    /// Number of allocated addresses.
    pub fn used(&self) -> usize {
        self.bitmap.used()
    }

    /// Size of the static (lower) band.
    pub fn static_band(&self) -> usize {
        self.bitmap.offset()
    }

    fn slot(&self, ip: &IpAddr) -> Result<usize, IpAllocError> {
        let not_in_range = || IpAllocError::NotInRange {
            ip: *ip,
            valid_range: self.cidr.to_string(),
        };
        let off = self.cidr.offset_of(ip).ok_or_else(not_in_range)?;
        if off == 0 || off > self.bitmap.size() as u128 {
            return Err(not_in_range());
        }
        Ok((off - 1) as usize)
    }

    /// Allocates `ip` (an explicit request).
    ///
    /// # Errors
    /// [`IpAllocError::NotInRange`] or [`IpAllocError::Allocated`].
    pub fn allocate(&mut self, ip: IpAddr) -> Result<(), IpAllocError> {
        let slot = self.slot(&ip)?;
        if self.bitmap.allocate(slot) {
            Ok(())
        } else {
            Err(IpAllocError::Allocated)
        }
    }

    /// Allocates any free address (upper band first, random start).
    ///
    /// # Errors
    /// [`IpAllocError::Full`].
    pub fn allocate_next(&mut self) -> Result<IpAddr, IpAllocError> {
        let slot = self.bitmap.allocate_next().ok_or(IpAllocError::Full)?;
        Ok(self.cidr.nth(slot as u128 + 1))
    }

    /// Releases `ip`; `false` if it was not allocated here.
    pub fn release(&mut self, ip: &IpAddr) -> bool {
        self.slot(ip)
            .map(|s| self.bitmap.release(s))
            .unwrap_or(false)
    }

    /// Whether `ip` is allocated.
    pub fn has(&self, ip: &IpAddr) -> bool {
        self.slot(ip).map(|s| self.bitmap.has(s)).unwrap_or(false)
    }

    /// Whether `ip` is in the static band.
    pub fn in_static_band(&self, ip: &IpAddr) -> bool {
        self.slot(ip)
            .map(|s| s < self.bitmap.offset())
            .unwrap_or(false)
    }
}

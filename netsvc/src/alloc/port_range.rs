//! The NodePort allocator, as upstream's `portallocator.PortAllocator` (bitmap).
//!
//! One allocator for all protocols: a node port number is taken once, whatever the protocol
//! (a Service that exposes the same port for TCP and UDP shares one node port). The lower band
//! of `min(max(16, size/32), 128)` ports is reserved for explicit requests (KEP-3668).

use std::fmt;
use std::str::FromStr;

use super::bitmap::Bitmap;

/// Why a node port could not be allocated, with upstream's messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortAllocError {
    /// No free port is left.
    #[error("range is full")]
    Full,
    /// The requested port is taken.
    #[error("provided port is already allocated")]
    Allocated,
    /// The requested port is outside the range.
    #[error("provided port is not in the valid range. The range of valid ports is {valid_range}")]
    NotInRange {
        /// The configured range, e.g. `30000-32767`.
        valid_range: String,
    },
}

/// A port range `base-last` (both inclusive), as `--service-node-port-range`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortRange {
    /// First port.
    pub base: u16,
    /// Last port (inclusive).
    pub last: u16,
}

impl PortRange {
    /// The default NodePort range, 30000-32767.
    pub const DEFAULT: PortRange = PortRange {
        base: 30000,
        last: 32767,
    };

    /// Number of ports.
    pub fn size(&self) -> usize {
        usize::from(self.last) - usize::from(self.base) + 1
    }

    /// Whether `port` is inside.
    pub fn contains(&self, port: i32) -> bool {
        port >= i32::from(self.base) && port <= i32::from(self.last)
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.base, self.last)
    }
}

/// A port range string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid port range {0:?} (expected FIRST-LAST such as 30000-32767, FIRST <= LAST)")]
pub struct PortRangeError(pub String);

impl FromStr for PortRange {
    type Err = PortRangeError;
    fn from_str(s: &str) -> Result<Self, PortRangeError> {
        let err = || PortRangeError(s.to_owned());
        let (a, b) = s.split_once('-').ok_or_else(err)?;
        let base: u16 = a.trim().parse().map_err(|_| err())?;
        let last: u16 = b.trim().parse().map_err(|_| err())?;
        if base > last || base == 0 {
            return Err(err());
        }
        Ok(PortRange { base, last })
    }
}

/// `min(max(16, size/32), 128)`, 0 for ranges of 16 ports or fewer.
pub fn static_band_size(range_size: usize) -> usize {
    if range_size <= 16 {
        return 0;
    }
    (range_size / 32).clamp(16, 128)
}

/// Allocates node ports from a [`PortRange`].
#[derive(Clone, Debug)]
pub struct PortAllocator {
    range: PortRange,
    bitmap: Bitmap,
}

impl PortAllocator {
    /// An allocator over `range`.
    pub fn new(range: PortRange) -> Self {
        Self {
            range,
            bitmap: Bitmap::new(range.size(), static_band_size(range.size())),
        }
    }

    /// The range.
    pub fn range(&self) -> PortRange {
        self.range
    }

    /// Number of free ports.
    pub fn free(&self) -> usize {
        self.bitmap.free()
    }

    /// Size of the static (lower) band.
    pub fn static_band(&self) -> usize {
        self.bitmap.offset()
    }

    fn slot(&self, port: i32) -> Result<usize, PortAllocError> {
        if !self.range.contains(port) {
            return Err(PortAllocError::NotInRange {
                valid_range: self.range.to_string(),
            });
        }
        Ok((port - i32::from(self.range.base)) as usize)
    }

    /// Allocates `port` (an explicit request).
    ///
    /// # Errors
    /// [`PortAllocError::NotInRange`] or [`PortAllocError::Allocated`].
    pub fn allocate(&mut self, port: i32) -> Result<(), PortAllocError> {
        let slot = self.slot(port)?;
        if self.bitmap.allocate(slot) {
            Ok(())
        } else {
            Err(PortAllocError::Allocated)
        }
    }

    /// Allocates any free port (upper band first, random start).
    ///
    /// # Errors
    /// [`PortAllocError::Full`].
    pub fn allocate_next(&mut self) -> Result<i32, PortAllocError> {
        let slot = self.bitmap.allocate_next().ok_or(PortAllocError::Full)?;
        Ok(i32::from(self.range.base) + slot as i32)
    }

    /// Releases `port`; `false` if it was not allocated.
    pub fn release(&mut self, port: i32) -> bool {
        self.slot(port)
            .map(|s| self.bitmap.release(s))
            .unwrap_or(false)
    }

    /// Whether `port` is allocated.
    pub fn has(&self, port: i32) -> bool {
        self.slot(port).map(|s| self.bitmap.has(s)).unwrap_or(false)
    }
}

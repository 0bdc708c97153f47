//! ClusterIP and NodePort allocation: bitmaps with static/dynamic bands, dual-stack defaulting,
//! and rebuilding the state from stored Services after a restart.

pub mod bitmap;
pub mod cidr;
pub mod ip_range;
pub mod port_range;
pub mod service;

pub use cidr::{Cidr, CidrError, IpFamily};
pub use ip_range::{IpAllocError, IpRange};
pub use port_range::{PortAllocError, PortAllocator, PortRange};
pub use service::{AllocError, AllocatorConfig, ConfigError, RebuildProblem, ServiceAllocator};

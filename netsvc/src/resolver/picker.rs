//! Pickers: how one backend is chosen among the eligible ones (random, round robin, least
//! connections, source-IP hash).

use std::hash::{Hash, Hasher};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One place a connection can go: an endpoint address and the target port.
#[derive(Debug)]
pub struct Backend {
    /// Address and port to connect to.
    pub addr: SocketAddr,
    /// The node the endpoint runs on.
    pub node_name: Option<String>,
    /// The endpoint's zone.
    pub zone: Option<String>,
    /// Connections currently open to it (shared across resolver rebuilds).
    pub active: Arc<AtomicUsize>,
}

impl Backend {
    /// A backend with no open connections.
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            node_name: None,
            zone: None,
            active: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Connections currently open.
    pub fn active_connections(&self) -> usize {
        self.active.load(Ordering::Relaxed)
    }
}

/// Chooses one of `backends` (never empty when called) for a connection from `client`.
pub trait Picker: Send + Sync + std::fmt::Debug {
    /// Index into `backends`.
    fn pick(&self, backends: &[Arc<Backend>], client: Option<IpAddr>) -> usize;
}

/// Uniformly random (kube-proxy's iptables mode behaves so).
#[derive(Debug, Default)]
pub struct RandomPicker;

impl Picker for RandomPicker {
    fn pick(&self, backends: &[Arc<Backend>], _client: Option<IpAddr>) -> usize {
        fastrand::usize(..backends.len())
    }
}

/// Each backend in turn (IPVS `rr`).
#[derive(Debug, Default)]
pub struct RoundRobinPicker {
    next: AtomicUsize,
}

impl Picker for RoundRobinPicker {
    fn pick(&self, backends: &[Arc<Backend>], _client: Option<IpAddr>) -> usize {
        self.next.fetch_add(1, Ordering::Relaxed) % backends.len()
    }
}

/// The backend with the fewest open connections, ties to a rotating start (IPVS `lc`).
#[derive(Debug, Default)]
pub struct LeastConnectionsPicker {
    next: AtomicUsize,
}

impl Picker for LeastConnectionsPicker {
    fn pick(&self, backends: &[Arc<Backend>], _client: Option<IpAddr>) -> usize {
        let n = backends.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed) % n;
        let mut best = start;
        let mut best_load = usize::MAX;
        for k in 0..n {
            let i = (start + k) % n;
            let load = backends[i].active.load(Ordering::Relaxed);
            if load < best_load {
                best = i;
                best_load = load;
            }
        }
        best
    }
}

/// The same client address always maps to the same backend while the set is unchanged
/// (IPVS `sh`); clients without an address go to the first backend.
#[derive(Debug, Default)]
pub struct SourceHashPicker;

impl Picker for SourceHashPicker {
    fn pick(&self, backends: &[Arc<Backend>], client: Option<IpAddr>) -> usize {
        let Some(ip) = client else { return 0 };
        let mut h = std::collections::hash_map::DefaultHasher::new();
        ip.hash(&mut h);
        (h.finish() % backends.len() as u64) as usize
    }
}

/// The picker kinds, for configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PickerKind {
    /// [`RandomPicker`].
    Random,
    /// [`RoundRobinPicker`].
    RoundRobin,
    /// [`LeastConnectionsPicker`].
    LeastConnections,
    /// [`SourceHashPicker`].
    SourceHash,
}

impl PickerKind {
    /// A new picker of this kind.
    pub fn build(self) -> Arc<dyn Picker> {
        match self {
            PickerKind::Random => Arc::new(RandomPicker),
            PickerKind::RoundRobin => Arc::new(RoundRobinPicker::default()),
            PickerKind::LeastConnections => Arc::new(LeastConnectionsPicker::default()),
            PickerKind::SourceHash => Arc::new(SourceHashPicker),
        }
    }
}

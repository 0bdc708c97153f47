//! ClientIP session affinity: a client keeps its backend until it has been idle for the
//! timeout (`sessionAffinityConfig.clientIP.timeoutSeconds`, default 10800).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Upstream's default affinity timeout (3 hours).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10_800);

/// Remembered client → backend choices.
#[derive(Debug)]
pub struct AffinityTable {
    timeout: Duration,
    entries: Mutex<HashMap<IpAddr, (SocketAddr, Instant)>>,
}

impl AffinityTable {
    /// A table whose entries expire after `timeout` without use.
    pub fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The client's remembered backend if still fresh at `now` (and refreshes it).
    pub fn lookup(&self, client: IpAddr, now: Instant) -> Option<SocketAddr> {
        let mut map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match map.get_mut(&client) {
            Some((addr, last)) if now.saturating_duration_since(*last) <= self.timeout => {
                *last = now;
                Some(*addr)
            }
            Some(_) => {
                map.remove(&client);
                None
            }
            None => None,
        }
    }

    /// Remembers `backend` for `client` at `now`.
    pub fn record(&self, client: IpAddr, backend: SocketAddr, now: Instant) {
        let mut map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        map.insert(client, (backend, now));
    }

    /// Forgets the client.
    pub fn forget(&self, client: IpAddr) {
        let mut map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&client);
    }
}

//! A real userspace L4 (TCP) proxy: one listener per service port (and node port), each
//! accepted connection forwarded to the backend the [`ServiceResolver`] picks.
//!
//! Updates swap the resolver atomically: connections already open keep flowing to their
//! backend until they end (draining), new connections use the new endpoint set. A backend
//! that refuses the connection is skipped and another is tried (at most [`CONNECT_ATTEMPTS`]),
//! so a dead endpoint that has not yet left the set costs latency, not a failed connection.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use kybern_core::api::core::v1::Service;
use tokio::io::copy_bidirectional_with_sizes;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::ports::service_port_protocol;
use crate::resolver::{ServiceResolver, TrafficSource};

/// How many backends one connection tries before giving up.
pub const CONNECT_ATTEMPTS: usize = 3;
/// How long one backend connect may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Copy buffer per direction (64 KiB: large transfers need few syscalls per byte).
pub const COPY_BUFFER: usize = 64 * 1024;

/// One listening port of the proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProxyPort {
    /// Where to listen (port 0 picks a free port).
    pub listen: SocketAddr,
    /// The Service port number it serves.
    pub service_port: i32,
    /// Cluster-IP traffic or node-port traffic.
    pub source: TrafficSource,
}

impl ProxyPort {
    /// The TCP ports of `service`: each service port on `cluster_ip`:port (a loopback
    /// stand-in for the virtual IP; `ephemeral` listens on port 0 instead), and each node port
    /// on `node_ip`:nodePort (external traffic).
    pub fn for_service(
        service: &Service,
        cluster_ip: IpAddr,
        node_ip: IpAddr,
        ephemeral: bool,
    ) -> Vec<ProxyPort> {
        let mut out = Vec::new();
        for sp in service.spec.iter().flat_map(|s| &s.ports) {
            if service_port_protocol(sp) != "TCP" {
                continue;
            }
            let port = if ephemeral {
                0
            } else {
                u16::try_from(sp.port).unwrap_or(0)
            };
            out.push(ProxyPort {
                listen: SocketAddr::new(cluster_ip, port),
                service_port: sp.port,
                source: TrafficSource::Internal,
            });
            if let Some(np) = sp.node_port.and_then(|p| u16::try_from(p).ok()) {
                out.push(ProxyPort {
                    listen: SocketAddr::new(node_ip, if ephemeral { 0 } else { np }),
                    service_port: sp.port,
                    source: TrafficSource::External,
                });
            }
        }
        out
    }
}

/// Counters of a running proxy.
#[derive(Debug, Default)]
pub struct ProxyStats {
    /// Connections accepted.
    pub accepted: AtomicU64,
    /// Connections forwarded to a backend.
    pub forwarded: AtomicU64,
    /// Connections closed because no backend could be reached.
    pub failed: AtomicU64,
    /// Backend connect attempts that failed (and were retried elsewhere).
    pub backend_errors: AtomicU64,
    /// Connections open now.
    pub active: AtomicUsize,
}

struct Shared {
    resolver: RwLock<Arc<ServiceResolver>>,
    stats: ProxyStats,
    idle: Notify,
}

/// A running proxy for one Service.
pub struct ServiceProxy {
    shared: Arc<Shared>,
    addrs: Vec<SocketAddr>,
    stop: watch::Sender<bool>,
    listeners: Vec<JoinHandle<()>>,
}

impl ServiceProxy {
    /// Binds every port and starts forwarding (on the current tokio runtime).
    ///
    /// # Errors
    /// A port could not be bound.
    pub async fn start(resolver: ServiceResolver, ports: &[ProxyPort]) -> io::Result<Self> {
        let shared = Arc::new(Shared {
            resolver: RwLock::new(Arc::new(resolver)),
            stats: ProxyStats::default(),
            idle: Notify::new(),
        });
        let (stop, stop_rx) = watch::channel(false);
        let mut addrs = Vec::new();
        let mut listeners = Vec::new();
        for p in ports {
            let listener = TcpListener::bind(p.listen).await?;
            addrs.push(listener.local_addr()?);
            listeners.push(tokio::spawn(accept_loop(
                listener,
                *p,
                shared.clone(),
                stop_rx.clone(),
            )));
        }
        Ok(Self {
            shared,
            addrs,
            stop,
            listeners,
        })
    }

    /// The bound addresses, in the order of the ports given to [`ServiceProxy::start`].
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Replaces the routing; new connections use it, open ones drain on their backend.
    pub fn update(&self, resolver: ServiceResolver) {
        let mut guard = self
            .shared
            .resolver
            .write()
            .unwrap_or_else(|e| e.into_inner());
        *guard = Arc::new(resolver);
    }

    /// The routing in use.
    pub fn resolver(&self) -> Arc<ServiceResolver> {
        self.shared
            .resolver
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Counters.
    pub fn stats(&self) -> &ProxyStats {
        &self.shared.stats
    }

    /// Stops accepting, then waits up to `grace` for open connections to finish; returns how
    /// many were still open (and are cut) at the deadline.
    pub async fn shutdown(self, grace: Duration) -> usize {
        let _ = self.stop.send(true);
        for l in &self.listeners {
            l.abort();
        }
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            let notified = self.shared.idle.notified();
            let open = self.shared.stats.active.load(Ordering::SeqCst);
            if open == 0 {
                return 0;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.shared.stats.active.load(Ordering::SeqCst);
            }
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    port: ProxyPort,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            accepted = listener.accept() => {
                let Ok((client, peer)) = accepted else { continue };
                shared.stats.accepted.fetch_add(1, Ordering::Relaxed);
                shared.stats.active.fetch_add(1, Ordering::SeqCst);
                let shared = shared.clone();
                tokio::spawn(async move {
                    forward(client, peer, port, &shared).await;
                    if shared.stats.active.fetch_sub(1, Ordering::SeqCst) == 1 {
                        shared.idle.notify_waiters();
                    }
                });
            }
        }
    }
}

async fn forward(mut client: TcpStream, peer: SocketAddr, port: ProxyPort, shared: &Shared) {
    let resolver = shared
        .resolver
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let mut tried = Vec::new();
    for _ in 0..CONNECT_ATTEMPTS {
        let Ok(pick) = resolver.resolve_excluding(
            port.service_port,
            "TCP",
            port.source,
            Some(peer.ip()),
            &tried,
        ) else {
            break;
        };
        match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(pick.addr)).await {
            Ok(Ok(mut backend)) => {
                let _ = backend.set_nodelay(true);
                let _ = client.set_nodelay(true);
                shared.stats.forwarded.fetch_add(1, Ordering::Relaxed);
                let _ = copy_bidirectional_with_sizes(
                    &mut client,
                    &mut backend,
                    COPY_BUFFER,
                    COPY_BUFFER,
                )
                .await;
                drop(pick);
                return;
            }
            _ => {
                shared.stats.backend_errors.fetch_add(1, Ordering::Relaxed);
                tried.push(pick.addr);
            }
        }
    }
    shared.stats.failed.fetch_add(1, Ordering::Relaxed);
}

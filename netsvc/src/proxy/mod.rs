//! A real userspace L4 proxy: one listener per service port (and node port), each accepted
//! TCP connection, or each UDP client flow, forwarded to the backend the [`ServiceResolver`]
//! picks.
//!
//! Updates swap the resolver atomically: connections already open keep flowing to their
//! backend until they end (draining), new connections use the new endpoint set. A backend
//! that refuses the connection is skipped and another is tried (at most [`CONNECT_ATTEMPTS`]),
//! so a dead endpoint that has not yet left the set costs latency, not a failed connection.
//!
//! TCP bytes move in one of two ways ([`ProxyOptions::tcp_forwarding`]):
//! [`TcpForwarding::Copy`] (the default, and the per-direction fallback when the kernel refuses
//! to splice) copies them through userspace buffers of [`ProxyOptions::copy_buffer`] bytes;
//! [`TcpForwarding::Splice`] (opt-in, Linux) moves them socket → pipe → socket with `splice(2)`
//! without copying them into userspace (module `splice`). Either way
//! an EOF in one direction half-closes the other side (`shutdown(SHUT_WR)`) while the
//! opposite direction continues, and an error in either direction closes both sockets.
//!
//! UDP (module `udp`) works as kube-proxy's userspace mode did: one session per client address,
//! with its own socket connected to the chosen backend, ended after
//! [`ProxyOptions::udp_idle_timeout`] without traffic. SCTP ports are not proxied (no SCTP
//! on the loopback test hosts; [`ProxyPort::for_service`] skips them).

mod copy;
#[cfg(target_os = "linux")]
mod splice;
mod udp;

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use kybern_core::api::core::v1::Service;
use tokio::net::{TcpListener, TcpSocket, TcpStream, UdpSocket};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::ports::service_port_protocol;
use crate::resolver::{ServiceResolver, TrafficSource};

/// How many backends one connection tries before giving up.
pub const CONNECT_ATTEMPTS: usize = 3;
/// How long one backend connect may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Default largest copy buffer per direction of a TCP connection (see
/// [`ProxyOptions::copy_buffer`]): 1 MiB, Envoy's default per-connection buffer limit.
pub const COPY_BUFFER: usize = 1024 * 1024;
pub use copy::COPY_BUFFER_START;
/// Default pipe size per direction of a spliced TCP connection (see
/// [`ProxyOptions::splice_pipe_size`]): 1 MiB, the default `/proc/sys/fs/pipe-max-size`.
pub const SPLICE_PIPE_SIZE: usize = 1024 * 1024;
/// Default idle time after which a UDP session ends (kube-proxy's `--udp-timeout`, 250 ms).
pub const UDP_IDLE_TIMEOUT: Duration = Duration::from_millis(250);

/// How the bytes of a proxied TCP connection are moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpForwarding {
    /// Userspace copy through one buffer per direction, growing from [`COPY_BUFFER_START`]
    /// to [`ProxyOptions::copy_buffer`] while reads fill it: portable, but every byte is
    /// copied into and out of the process.
    Copy,
    /// Zero-copy on Linux: `splice(2)` socket → pipe → socket per direction, the pipe sized
    /// by [`ProxyOptions::splice_pipe_size`]. A direction for which no pipe can be created,
    /// or whose sockets the kernel refuses to splice (`EINVAL`/`ENOSYS`), falls back to the
    /// copy (counted in [`ProxyStats::splice_fallbacks`]). On other systems this is
    /// [`TcpForwarding::Copy`].
    Splice,
}

impl Default for TcpForwarding {
    /// [`TcpForwarding::Copy`]: on the 2-core benchmark VM the splice path is not faster than
    /// the copy. With the copy's buffers growing to 1 MiB, three quiet runs of 16 MiB
    /// transfers (BENCHMARKS.md) moved 92–94 % of a direct connection's throughput on uploads
    /// and 72–92 % on downloads through the copy path, 64–65 % and 53–67 % through the splice
    /// path. Splicing spares the two userspace copies but not the second pass through the
    /// loopback TCP stack, and the spliced pages reach the server cold; per 16 MiB it cost as
    /// much CPU as copying or more. So splicing stays opt-in.
    fn default() -> Self {
        TcpForwarding::Copy
    }
}

/// Tuning of a proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProxyOptions {
    /// How TCP bytes are moved (default: [`TcpForwarding::default`]).
    pub tcp_forwarding: TcpForwarding,
    /// Largest copy buffer per direction of a TCP connection on the copy path (default
    /// [`COPY_BUFFER`], 1 MiB). A direction starts with [`COPY_BUFFER_START`] bytes (64 KiB)
    /// and doubles its buffer each time a read fills it, so only bulk flows grow to this
    /// size: on the benchmark VM a 16 MiB transfer through the proxy moved 63 % of a direct
    /// connection's throughput with 64 KiB buffers, 66–77 % with 256 KiB and 85–97 % with
    /// 1 MiB (BENCHMARKS.md), because each `read`/`write` pair (and each wake-up) carries
    /// more bytes.
    pub copy_buffer: usize,
    /// Pipe size asked for (`F_SETPIPE_SZ`) per direction on the splice path (default
    /// [`SPLICE_PIPE_SIZE`]). The kernel rounds it up to a power of two of pages; when it
    /// refuses (above `/proc/sys/fs/pipe-max-size`, or the user is over
    /// `pipe-user-pages-soft` with many connections open) the pipe keeps its default size,
    /// which still works, with more splices per byte.
    pub splice_pipe_size: usize,
    /// `SO_SNDBUF`/`SO_RCVBUF` asked for on both sockets of every proxied TCP connection
    /// (set on the listener, which accepted sockets inherit, and on the backend socket before
    /// it connects). `None` (the default) leaves the kernel's autotuning alone; a fixed size
    /// bounds the bytes in flight per hop (fewer pages in flight, smaller windows). On the
    /// benchmark VM 128 KiB lowered the splice path's CPU per byte without a consistent
    /// throughput gain (BENCHMARKS.md), hence off by default.
    pub socket_buffer: Option<u32>,
    /// A UDP session with no datagram either way for this long ends (default
    /// [`UDP_IDLE_TIMEOUT`]).
    pub udp_idle_timeout: Duration,
}

impl Default for ProxyOptions {
    fn default() -> Self {
        Self {
            tcp_forwarding: TcpForwarding::default(),
            copy_buffer: COPY_BUFFER,
            splice_pipe_size: SPLICE_PIPE_SIZE,
            socket_buffer: None,
            udp_idle_timeout: UDP_IDLE_TIMEOUT,
        }
    }
}

/// The transport a proxy port carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum L4Protocol {
    /// TCP: one backend connection per accepted connection.
    Tcp,
    /// UDP: one backend session per client address.
    Udp,
}

impl L4Protocol {
    /// The Service port protocol name (`TCP`/`UDP`).
    pub fn as_str(self) -> &'static str {
        match self {
            L4Protocol::Tcp => "TCP",
            L4Protocol::Udp => "UDP",
        }
    }
}

/// One listening port of the proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProxyPort {
    /// Where to listen (port 0 picks a free port).
    pub listen: SocketAddr,
    /// The Service port number it serves.
    pub service_port: i32,
    /// Cluster-IP traffic or node-port traffic.
    pub source: TrafficSource,
    /// TCP or UDP.
    pub protocol: L4Protocol,
}

impl ProxyPort {
    /// The TCP and UDP ports of `service`: each service port on `cluster_ip`:port (a loopback
    /// stand-in for the virtual IP; `ephemeral` listens on port 0 instead), and each node port
    /// on `node_ip`:nodePort (external traffic). SCTP ports are skipped (not supported).
    pub fn for_service(
        service: &Service,
        cluster_ip: IpAddr,
        node_ip: IpAddr,
        ephemeral: bool,
    ) -> Vec<ProxyPort> {
        let mut out = Vec::new();
        for sp in service.spec.iter().flat_map(|s| &s.ports) {
            let protocol = match service_port_protocol(sp) {
                "TCP" => L4Protocol::Tcp,
                "UDP" => L4Protocol::Udp,
                other => {
                    tracing::debug!(protocol = other, port = sp.port, "not proxied");
                    continue;
                }
            };
            let port = if ephemeral {
                0
            } else {
                u16::try_from(sp.port).unwrap_or(0)
            };
            out.push(ProxyPort {
                listen: SocketAddr::new(cluster_ip, port),
                service_port: sp.port,
                source: TrafficSource::Internal,
                protocol,
            });
            if let Some(np) = sp.node_port.and_then(|p| u16::try_from(p).ok()) {
                out.push(ProxyPort {
                    listen: SocketAddr::new(node_ip, if ephemeral { 0 } else { np }),
                    service_port: sp.port,
                    source: TrafficSource::External,
                    protocol,
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
    /// TCP connection directions carried by `splice(2)` to their EOF.
    pub spliced: AtomicU64,
    /// TCP connection directions on the splice path that fell back to the userspace copy.
    pub splice_fallbacks: AtomicU64,
    /// UDP sessions opened (one per client flow).
    pub udp_sessions: AtomicU64,
    /// UDP sessions open now.
    pub udp_active: AtomicUsize,
    /// UDP datagrams forwarded (both directions).
    pub datagrams: AtomicU64,
}

struct Shared {
    resolver: RwLock<Arc<ServiceResolver>>,
    stats: ProxyStats,
    idle: Notify,
    options: ProxyOptions,
}

impl Shared {
    fn resolver(&self) -> Arc<ServiceResolver> {
        self.resolver
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// A running proxy for one Service.
pub struct ServiceProxy {
    shared: Arc<Shared>,
    addrs: Vec<SocketAddr>,
    stop: watch::Sender<bool>,
    listeners: Vec<JoinHandle<()>>,
}

impl ServiceProxy {
    /// Binds every port and starts forwarding (on the current tokio runtime), with the
    /// default [`ProxyOptions`].
    ///
    /// # Errors
    /// A port could not be bound.
    pub async fn start(resolver: ServiceResolver, ports: &[ProxyPort]) -> io::Result<Self> {
        Self::start_with(resolver, ports, ProxyOptions::default()).await
    }

    /// [`ServiceProxy::start`] with explicit options.
    ///
    /// # Errors
    /// A port could not be bound.
    pub async fn start_with(
        resolver: ServiceResolver,
        ports: &[ProxyPort],
        options: ProxyOptions,
    ) -> io::Result<Self> {
        let shared = Arc::new(Shared {
            resolver: RwLock::new(Arc::new(resolver)),
            stats: ProxyStats::default(),
            idle: Notify::new(),
            options,
        });
        let (stop, stop_rx) = watch::channel(false);
        let mut addrs = Vec::new();
        let mut listeners = Vec::new();
        for p in ports {
            let task = match p.protocol {
                L4Protocol::Tcp => {
                    let listener = tcp_socket(p.listen, options.socket_buffer)?.listen(1024)?;
                    addrs.push(listener.local_addr()?);
                    tokio::spawn(accept_loop(listener, *p, shared.clone(), stop_rx.clone()))
                }
                L4Protocol::Udp => {
                    let socket = UdpSocket::bind(p.listen).await?;
                    addrs.push(socket.local_addr()?);
                    tokio::spawn(udp::serve(
                        Arc::new(socket),
                        *p,
                        shared.clone(),
                        stop_rx.clone(),
                    ))
                }
            };
            listeners.push(task);
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
        self.shared.resolver()
    }

    /// Counters.
    pub fn stats(&self) -> &ProxyStats {
        &self.shared.stats
    }

    /// Stops accepting (and ends UDP sessions), then waits up to `grace` for open TCP
    /// connections to finish; returns how many were still open (and are cut) at the deadline.
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

/// A TCP socket bound to `listen` (address reuse on, as `TcpListener::bind` does), its
/// buffers sized when `buffer` says so.
fn tcp_socket(listen: SocketAddr, buffer: Option<u32>) -> io::Result<TcpSocket> {
    let socket = tcp_socket_for(listen, buffer)?;
    socket.set_reuseaddr(true)?;
    socket.bind(listen)?;
    Ok(socket)
}

/// An unbound TCP socket of `addr`'s family, its buffers sized when `buffer` says so.
fn tcp_socket_for(addr: SocketAddr, buffer: Option<u32>) -> io::Result<TcpSocket> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if let Some(size) = buffer {
        socket.set_send_buffer_size(size)?;
        socket.set_recv_buffer_size(size)?;
    }
    Ok(socket)
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
    let resolver = shared.resolver();
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
        let connect = async {
            tcp_socket_for(pick.addr, shared.options.socket_buffer)?
                .connect(pick.addr)
                .await
        };
        match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
            Ok(Ok(mut backend)) => {
                let _ = backend.set_nodelay(true);
                let _ = client.set_nodelay(true);
                shared.stats.forwarded.fetch_add(1, Ordering::Relaxed);
                if let Err(error) = carry(&mut client, &mut backend, shared).await {
                    tracing::debug!(%error, backend = %pick.addr, "connection ended with an error");
                }
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

/// Moves bytes both ways between `client` and `backend` until both directions ended, the
/// way [`ProxyOptions::tcp_forwarding`] says.
async fn carry(client: &mut TcpStream, backend: &mut TcpStream, shared: &Shared) -> io::Result<()> {
    let options = &shared.options;
    match options.tcp_forwarding {
        #[cfg(target_os = "linux")]
        TcpForwarding::Splice => {
            splice::bidirectional(client, backend, options, &shared.stats).await
        }
        #[cfg(not(target_os = "linux"))]
        TcpForwarding::Splice => copy::bidirectional(client, backend, options.copy_buffer).await,
        TcpForwarding::Copy => copy::bidirectional(client, backend, options.copy_buffer).await,
    }
}

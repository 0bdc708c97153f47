//! UDP proxying, as kube-proxy's userspace mode did it: each client address gets a session
//! with its own socket connected to the backend the resolver picked for it; datagrams from
//! the client go out on that socket, replies come back from the service port's socket. A
//! session ends after [`super::ProxyOptions::udp_idle_timeout`] with no datagram either way,
//! or when the backend answers with an ICMP error (the next datagram opens a new session,
//! possibly on another backend).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::UdpSocket;
use tokio::sync::watch;
use tokio::time::Instant;

use super::{ProxyPort, Shared};
use crate::resolver::Pick;

/// Largest UDP payload.
const MAX_DATAGRAM: usize = 65_535;

/// One client flow.
struct Session {
    backend: UdpSocket,
    /// Milliseconds since `epoch` of the last datagram either way.
    last: AtomicU64,
    /// Holds the backend's connection count for least-connections.
    _pick: Pick,
}

type Sessions = Arc<Mutex<HashMap<SocketAddr, Arc<Session>>>>;

fn sessions_of(s: &Sessions) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, Arc<Session>>> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

fn millis_since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Serves one UDP service port until `stop` changes.
pub(super) async fn serve(
    socket: Arc<UdpSocket>,
    port: ProxyPort,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let sessions: Sessions = Arc::default();
    let epoch = Instant::now();
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let (n, client) = tokio::select! {
            _ = stop.changed() => return,
            r = socket.recv_from(&mut buf) => match r {
                Ok(r) => r,
                Err(e) => {
                    tracing::debug!(error = %e, "udp receive failed");
                    continue;
                }
            },
        };
        let existing = sessions_of(&sessions).get(&client).cloned();
        let session = match existing {
            Some(s) => s,
            None => match open(&socket, port, client, &shared, &sessions, epoch, &stop).await {
                Some(s) => s,
                None => {
                    shared.stats.failed.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
            },
        };
        session.last.store(millis_since(epoch), Ordering::Relaxed);
        if session.backend.send(&buf[..n]).await.is_ok() {
            shared.stats.datagrams.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Opens a session for `client`: picks a backend, connects a socket to it, and starts the
/// task relaying replies until the session idles out.
async fn open(
    socket: &Arc<UdpSocket>,
    port: ProxyPort,
    client: SocketAddr,
    shared: &Arc<Shared>,
    sessions: &Sessions,
    epoch: Instant,
    stop: &watch::Receiver<bool>,
) -> Option<Arc<Session>> {
    let pick = shared
        .resolver()
        .resolve(port.service_port, "UDP", port.source, Some(client.ip()))
        .ok()?;
    let local: IpAddr = match pick.addr {
        SocketAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
        SocketAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
    };
    let backend = UdpSocket::bind((local, 0)).await.ok()?;
    backend.connect(pick.addr).await.ok()?;
    tracing::debug!(%client, backend = %pick.addr, "udp session opened");
    let session = Arc::new(Session {
        backend,
        last: AtomicU64::new(millis_since(epoch)),
        _pick: pick,
    });
    sessions_of(sessions).insert(client, session.clone());
    shared.stats.udp_sessions.fetch_add(1, Ordering::Relaxed);
    shared.stats.udp_active.fetch_add(1, Ordering::SeqCst);
    let relay = Relay {
        socket: socket.clone(),
        client,
        session: session.clone(),
        shared: shared.clone(),
        sessions: sessions.clone(),
        epoch,
    };
    tokio::spawn(relay.run(stop.clone()));
    Some(session)
}

/// The reply side of one session.
struct Relay {
    socket: Arc<UdpSocket>,
    client: SocketAddr,
    session: Arc<Session>,
    shared: Arc<Shared>,
    sessions: Sessions,
    epoch: Instant,
}

impl Relay {
    async fn run(self, mut stop: watch::Receiver<bool>) {
        let idle = self.shared.options.udp_idle_timeout;
        let idle_ms = u64::try_from(idle.as_millis()).unwrap_or(u64::MAX);
        let mut buf = vec![0u8; MAX_DATAGRAM];
        loop {
            let quiet =
                millis_since(self.epoch).saturating_sub(self.session.last.load(Ordering::Relaxed));
            if quiet >= idle_ms {
                break;
            }
            let wait = std::time::Duration::from_millis(idle_ms - quiet);
            tokio::select! {
                _ = stop.changed() => break,
                r = tokio::time::timeout(wait, self.session.backend.recv(&mut buf)) => match r {
                    Ok(Ok(n)) => {
                        self.session.last.store(millis_since(self.epoch), Ordering::Relaxed);
                        if self.socket.send_to(&buf[..n], self.client).await.is_ok() {
                            self.shared.stats.datagrams.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    // ICMP unreachable and the like: end the session, the next datagram
                    // opens a new one.
                    Ok(Err(e)) => {
                        tracing::debug!(client = %self.client, error = %e, "udp backend error");
                        self.shared.stats.backend_errors.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                    Err(_) => {} // re-check idleness
                },
            }
        }
        {
            let mut map = sessions_of(&self.sessions);
            if map
                .get(&self.client)
                .is_some_and(|s| Arc::ptr_eq(s, &self.session))
            {
                map.remove(&self.client);
            }
        }
        self.shared.stats.udp_active.fetch_sub(1, Ordering::SeqCst);
        tracing::debug!(client = %self.client, "udp session closed");
    }
}

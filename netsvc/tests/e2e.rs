//! End to end on loopback: three real TCP echo servers behind a Service, traffic through the
//! proxy spread by the picker, a killed + not-ready pod leaving rotation with no failed
//! connection, draining of open connections (each on both TCP forwarding paths: userspace copy
//! and `splice(2)`), and byte-stream edges on every forwarding path (copy; splice with a 1 MiB
//! and a one-page pipe): 8 MiB each way with the client's half-close, the backend's half-close
//! first, 24 MiB each way at once checked by checksums, the client's EOF reaching the proxy
//! while its pipe still holds bytes, a reset on either side; and a DNS query over UDP. Bounded
//! loops only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use kybern_core::IntOrString;
use kybern_core::api::core::v1::{
    Container, ContainerPort, Pod, PodCondition, PodSpec, PodStatus, Service, ServicePort,
    ServiceSpec,
};
use kybern_core::api::discovery::v1::EndpointSlice;
use kybern_netsvc::alloc::{AllocatorConfig, PortRange, ServiceAllocator};
use kybern_netsvc::dns::{DnsServer, DnsTable};
use kybern_netsvc::endpointslice::controller::EndpointSliceController;
use kybern_netsvc::proxy::{ProxyOptions, ProxyPort, ServiceProxy, TcpForwarding};
use kybern_netsvc::resolver::{NodeContext, PickerKind, ServiceResolver};
use kybern_reconciler::{Api, ListParams, MemoryStore, Store};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream, UdpSocket};
use tokio::task::JoinHandle;

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// An echo server that prefixes every reply with its id.
async fn echo_server(id: usize) -> (u16, JoinHandle<()>) {
    let listener = TcpListener::bind((LOOPBACK, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                loop {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            let mut out = format!("{id}:").into_bytes();
                            out.extend_from_slice(&buf[..n]);
                            if s.write_all(&out).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    (port, task)
}

fn pod(i: usize, port: u16) -> Pod {
    let mut p = Pod::default();
    p.metadata.name = Some(format!("echo-{i}"));
    p.metadata.namespace = Some("default".into());
    p.metadata.labels = [("app".to_string(), "echo".to_string())].into();
    p.spec = Some(PodSpec {
        node_name: Some("node-a".into()),
        containers: vec![Container {
            name: "echo".into(),
            ports: vec![ContainerPort {
                name: Some("echo".into()),
                container_port: i32::from(port),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    });
    p.status = Some(PodStatus {
        pod_ip: Some("127.0.0.1".into()),
        phase: Some("Running".into()),
        conditions: vec![PodCondition {
            type_: "Ready".into(),
            status: "True".into(),
            ..Default::default()
        }],
        ..Default::default()
    });
    p
}

/// One request through `addr`: returns the id of the server that answered.
async fn request(addr: SocketAddr, msg: &str) -> usize {
    let mut s = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(addr))
        .await
        .unwrap()
        .unwrap();
    s.write_all(msg.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 256];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let reply = String::from_utf8_lossy(&buf[..n]).to_string();
    let (id, echoed) = reply.split_once(':').unwrap();
    assert_eq!(echoed, msg);
    id.parse().unwrap()
}

struct Cluster {
    store: Arc<dyn Store>,
    ctl: EndpointSliceController,
    service: Service,
}

impl Cluster {
    async fn slices(&self) -> Vec<EndpointSlice> {
        Api::<EndpointSlice>::namespaced(self.store.clone(), "default")
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
    }

    async fn resolver(
        &self,
        picker: PickerKind,
        previous: Option<&ServiceResolver>,
    ) -> ServiceResolver {
        self.ctl.sync_service("default", "echo").await.unwrap();
        ServiceResolver::build(
            &self.service,
            &self.slices().await,
            &NodeContext::default(),
            picker.build(),
            previous,
        )
    }

    async fn set_ready(&self, i: usize, ready: bool) {
        let pods: Api<Pod> = Api::namespaced(self.store.clone(), "default");
        let mut p = pods.get(&format!("echo-{i}")).await.unwrap();
        p.status.as_mut().unwrap().conditions[0].status =
            if ready { "True" } else { "False" }.into();
        pods.update_status(&p).await.unwrap();
    }
}

async fn cluster(ports: &[u16]) -> Cluster {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let mut alloc = ServiceAllocator::new(&AllocatorConfig {
        service_cidrs: vec!["10.96.0.0/16".parse().unwrap()],
        node_ports: PortRange::DEFAULT,
    })
    .unwrap();
    let mut svc = Service::default();
    svc.metadata.name = Some("echo".into());
    svc.metadata.namespace = Some("default".into());
    svc.spec = Some(ServiceSpec {
        type_: Some("NodePort".into()),
        selector: [("app".to_string(), "echo".to_string())].into(),
        ports: vec![ServicePort {
            name: Some("tcp-echo".into()),
            port: 80,
            target_port: Some(IntOrString::String("echo".into())),
            ..Default::default()
        }],
        ..Default::default()
    });
    alloc.allocate(&mut svc).unwrap();
    let service = Api::<Service>::namespaced(store.clone(), "default")
        .create(&svc)
        .await
        .unwrap();
    let pods: Api<Pod> = Api::namespaced(store.clone(), "default");
    for (i, port) in ports.iter().enumerate() {
        pods.create(&pod(i, *port)).await.unwrap();
    }
    let ctl = EndpointSliceController::new(store.clone());
    Cluster {
        store,
        ctl,
        service,
    }
}

/// The TCP forwarding paths every TCP proxy scenario runs on.
const PATHS: [TcpForwarding; 2] = [TcpForwarding::Copy, TcpForwarding::Splice];

fn options(path: TcpForwarding) -> ProxyOptions {
    ProxyOptions {
        tcp_forwarding: path,
        ..ProxyOptions::default()
    }
}

/// Waits (bounded: 5 s) until the proxy has no TCP connection open.
async fn wait_all_closed(proxy: &ServiceProxy) {
    let mut waited = 0;
    while proxy
        .stats()
        .active
        .load(std::sync::atomic::Ordering::SeqCst)
        > 0
    {
        assert!(waited < 500, "connections never ended");
        tokio::time::sleep(Duration::from_millis(10)).await;
        waited += 1;
    }
}

/// Waits (bounded) until no TCP connection is open, then checks which path carried them:
/// on the splice path every direction was spliced (none fell back), on the copy path none.
async fn assert_carried_by(proxy: &ServiceProxy, path: TcpForwarding, directions: u64) {
    use std::sync::atomic::Ordering;
    let stats = proxy.stats();
    wait_all_closed(proxy).await;
    let spliced = stats.spliced.load(Ordering::Relaxed);
    let fallbacks = stats.splice_fallbacks.load(Ordering::Relaxed);
    match path {
        TcpForwarding::Splice => assert_eq!((spliced, fallbacks), (directions, 0), "{path:?}"),
        TcpForwarding::Copy => assert_eq!((spliced, fallbacks), (0, 0), "{path:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_spreads_traffic_and_drops_dead_pod_without_failures() {
    for path in PATHS {
        spread_and_dead_pod(path).await;
    }
}

async fn spread_and_dead_pod(path: TcpForwarding) {
    let mut servers = Vec::new();
    for id in 0..3 {
        servers.push(echo_server(id).await);
    }
    let c = cluster(&servers.iter().map(|s| s.0).collect::<Vec<_>>()).await;
    let resolver = c.resolver(PickerKind::RoundRobin, None).await;
    let ports = ProxyPort::for_service(&c.service, LOOPBACK, LOOPBACK, true);
    assert_eq!(ports.len(), 2, "cluster port + node port");
    let proxy = ServiceProxy::start_with(resolver, &ports, options(path))
        .await
        .unwrap();
    let (vip, node_port) = (proxy.local_addrs()[0], proxy.local_addrs()[1]);

    // Round robin: 30 connections, 10 per server.
    let mut hits = BTreeMap::new();
    for i in 0..30 {
        *hits
            .entry(request(vip, &format!("m{i}")).await)
            .or_insert(0) += 1;
    }
    assert_eq!(hits, BTreeMap::from([(0, 10), (1, 10), (2, 10)]));
    assert!(request(node_port, "via-node-port").await < 3);

    // Kill server 1. Before the update, the proxy retries on another backend: no failure.
    servers[1].1.abort();
    tokio::time::sleep(Duration::from_millis(50)).await;
    for i in 0..6 {
        assert_ne!(request(vip, &format!("k{i}")).await, 1);
    }
    // Mark its pod not ready; the slice changes and the proxy gets the new set.
    c.set_ready(1, false).await;
    let before = proxy.resolver();
    proxy.update(c.resolver(PickerKind::RoundRobin, Some(&before)).await);
    let errors_before = proxy
        .stats()
        .backend_errors
        .load(std::sync::atomic::Ordering::Relaxed);
    let mut hits = BTreeMap::new();
    for i in 0..30 {
        *hits
            .entry(request(vip, &format!("a{i}")).await)
            .or_insert(0) += 1;
    }
    assert_eq!(hits, BTreeMap::from([(0, 15), (2, 15)]));
    let stats = proxy.stats();
    assert_eq!(
        stats.failed.load(std::sync::atomic::Ordering::Relaxed),
        0,
        "no failed connection"
    );
    assert_eq!(
        stats
            .backend_errors
            .load(std::sync::atomic::Ordering::Relaxed),
        errors_before,
        "dead backend no longer tried"
    );
    // 30 + 1 + 6 + 30 connections, two directions each.
    assert_carried_by(&proxy, path, 2 * 67).await;
    assert_eq!(proxy.shutdown(Duration::from_secs(1)).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_connections_drain_on_old_backend_and_least_connections_balances() {
    for path in PATHS {
        drain_and_least_connections(path).await;
    }
}

async fn drain_and_least_connections(path: TcpForwarding) {
    let mut servers = Vec::new();
    for id in 0..3 {
        servers.push(echo_server(id).await);
    }
    let c = cluster(&servers.iter().map(|s| s.0).collect::<Vec<_>>()).await;
    let proxy = ServiceProxy::start_with(
        c.resolver(PickerKind::LeastConnections, None).await,
        &ProxyPort::for_service(&c.service, LOOPBACK, LOOPBACK, true),
        options(path),
    )
    .await
    .unwrap();
    let vip = proxy.local_addrs()[0];
    // Three long-lived connections land on three different servers (least connections).
    let mut open = Vec::new();
    let mut ids = Vec::new();
    for i in 0..3 {
        let mut s = TcpStream::connect(vip).await.unwrap();
        s.write_all(format!("x{i}").as_bytes()).await.unwrap();
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).await.unwrap();
        ids.push(
            String::from_utf8_lossy(&buf[..n])
                .split_once(':')
                .unwrap()
                .0
                .to_string(),
        );
        open.push(s);
    }
    ids.sort();
    assert_eq!(ids, vec!["0", "1", "2"]);
    // Server 0 leaves rotation (not ready, still running): its open connection keeps working.
    c.set_ready(0, false).await;
    let prev = proxy.resolver();
    proxy.update(c.resolver(PickerKind::LeastConnections, Some(&prev)).await);
    for s in &mut open {
        s.write_all(b"again").await.unwrap();
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).await.unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).ends_with(":again"));
    }
    for i in 0..10 {
        assert_ne!(
            request(vip, &format!("n{i}")).await,
            0,
            "new connections avoid the drained pod"
        );
    }
    drop(open);
    // 3 long-lived + 10 new connections, two directions each.
    assert_carried_by(&proxy, path, 2 * 13).await;
    assert_eq!(proxy.shutdown(Duration::from_secs(2)).await, 0);
}

/// How one byte-stream scenario's proxy forwards.
#[derive(Clone, Copy, Debug)]
struct Carrier {
    path: TcpForwarding,
    /// [`ProxyOptions::splice_pipe_size`].
    pipe: usize,
    /// [`ProxyOptions::socket_buffer`].
    socket_buffer: Option<u32>,
}

/// The forwarding set-ups of the byte-stream scenarios: the copy, the splice path with the
/// default 1 MiB pipe, with a one-page pipe that forces thousands of partial fill/drain
/// rounds, and with 64 KiB socket buffers.
const CARRIERS: [Carrier; 4] = [
    Carrier {
        path: TcpForwarding::Copy,
        pipe: 0,
        socket_buffer: None,
    },
    Carrier {
        path: TcpForwarding::Splice,
        pipe: 1024 * 1024,
        socket_buffer: None,
    },
    Carrier {
        path: TcpForwarding::Splice,
        pipe: 4096,
        socket_buffer: None,
    },
    Carrier {
        path: TcpForwarding::Splice,
        pipe: 1024 * 1024,
        socket_buffer: Some(64 * 1024),
    },
];

/// A proxy for the Service in front of the one backend listening on `port`.
async fn proxy_to(port: u16, carrier: Carrier) -> ServiceProxy {
    let c = cluster(&[port]).await;
    let options = ProxyOptions {
        tcp_forwarding: carrier.path,
        splice_pipe_size: carrier.pipe,
        socket_buffer: carrier.socket_buffer,
        ..ProxyOptions::default()
    };
    ServiceProxy::start_with(
        c.resolver(PickerKind::RoundRobin, None).await,
        &ProxyPort::for_service(&c.service, LOOPBACK, LOOPBACK, true),
        options,
    )
    .await
    .unwrap()
}

/// An echo server without prefix: echoes while it reads, half-closes after the client's EOF.
async fn plain_echo_server() -> u16 {
    let listener = TcpListener::bind((LOOPBACK, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let (mut r, mut w) = s.split();
                if tokio::io::copy(&mut r, &mut w).await.is_ok() {
                    let _ = w.shutdown().await;
                }
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_mib_each_way_with_half_close_arrive_exactly() {
    const PAYLOAD: usize = 8 * 1024 * 1024;
    let mut payload = vec![0u8; PAYLOAD];
    fastrand::Rng::with_seed(7).fill(&mut payload);
    let backend = plain_echo_server().await;
    for carrier in CARRIERS {
        let proxy = proxy_to(backend, carrier).await;
        let mut s = TcpStream::connect(proxy.local_addrs()[0]).await.unwrap();
        let (mut r, mut w) = s.split();
        // Upload everything, then half-close; the echo keeps flowing back until the backend
        // saw our EOF (through the proxy) and closed its side (through the proxy again).
        let send = async {
            w.write_all(&payload).await.unwrap();
            w.shutdown().await.unwrap();
        };
        let receive = async {
            let mut got = Vec::with_capacity(PAYLOAD);
            r.read_to_end(&mut got).await.unwrap();
            got
        };
        let ((), got) = tokio::time::timeout(Duration::from_secs(60), async {
            tokio::join!(send, receive)
        })
        .await
        .unwrap();
        assert_eq!(got.len(), PAYLOAD, "{carrier:?}");
        assert!(got == payload, "{carrier:?}: bytes differ");
        drop(s);
        assert_carried_by(&proxy, carrier.path, 2).await;
        assert_eq!(proxy.shutdown(Duration::from_secs(1)).await, 0);
    }
}

/// Length and FNV-1a hash of a byte stream, fed in pieces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Checksum {
    len: u64,
    hash: u64,
}

impl Checksum {
    fn new() -> Self {
        Self {
            len: 0,
            hash: 0xcbf2_9ce4_8422_2325,
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        self.len += bytes.len() as u64;
        for b in bytes {
            self.hash = (self.hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Writes `len` pseudo-random bytes (from `seed`) in 64 KiB pieces, then half-closes;
/// returns the checksum of what was sent.
async fn send_stream(w: &mut (impl AsyncWrite + Unpin), seed: u64, len: usize) -> Checksum {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut sum = Checksum::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut left = len;
    while left > 0 {
        let n = left.min(chunk.len());
        rng.fill(&mut chunk[..n]);
        w.write_all(&chunk[..n]).await.unwrap();
        sum.update(&chunk[..n]);
        left -= n;
    }
    w.shutdown().await.unwrap();
    sum
}

/// Reads to EOF; returns the checksum of what came.
async fn receive_stream(r: &mut (impl AsyncRead + Unpin)) -> Checksum {
    let mut sum = Checksum::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match r.read(&mut buf).await.unwrap() {
            0 => return sum,
            n => sum.update(&buf[..n]),
        }
    }
}

/// A backend that serves exactly one connection with `serve` and hands back its result.
async fn one_connection_backend<F, Fut, T>(serve: F) -> (u16, JoinHandle<T>)
where
    F: FnOnce(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    one_connection_backend_with(None, serve).await
}

/// [`one_connection_backend`] whose socket asks for a receive buffer of `recv_buffer` bytes.
async fn one_connection_backend_with<F, Fut, T>(
    recv_buffer: Option<u32>,
    serve: F,
) -> (u16, JoinHandle<T>)
where
    F: FnOnce(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let socket = TcpSocket::new_v4().unwrap();
    if let Some(size) = recv_buffer {
        socket.set_recv_buffer_size(size).unwrap();
    }
    socket.bind(SocketAddr::new(LOOPBACK, 0)).unwrap();
    let listener = socket.listen(16).unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (s, _) = listener.accept().await.unwrap();
        serve(s).await
    });
    (port, task)
}

/// Bounds a scenario step.
async fn within<T>(what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .unwrap_or_else(|_| panic!("{what}: timed out"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_transfers_both_ways_at_once_keep_their_checksums() {
    const LEN: usize = 24 * 1024 * 1024;
    for carrier in CARRIERS {
        // The backend streams its own bytes down while it reads ours.
        let (port, backend) = one_connection_backend(|mut s| async move {
            let (mut r, mut w) = s.split();
            tokio::join!(receive_stream(&mut r), send_stream(&mut w, 2, LEN))
        })
        .await;
        let proxy = proxy_to(port, carrier).await;
        let mut s = TcpStream::connect(proxy.local_addrs()[0]).await.unwrap();
        let (mut r, mut w) = s.split();
        let (sent, received) = within("client", async {
            tokio::join!(send_stream(&mut w, 1, LEN), receive_stream(&mut r))
        })
        .await;
        let (backend_received, backend_sent) = within("backend", backend).await.unwrap();
        assert_eq!(sent.len, LEN as u64, "{carrier:?}");
        assert_eq!(backend_received, sent, "{carrier:?}: upload");
        assert_eq!(received, backend_sent, "{carrier:?}: download");
        drop(s);
        assert_carried_by(&proxy, carrier.path, 2).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backend_half_close_first_leaves_the_upload_open() {
    for carrier in CARRIERS {
        // The backend says everything it has and half-closes before reading anything.
        let (port, backend) = one_connection_backend(|mut s| async move {
            let (mut r, mut w) = s.split();
            let said = send_stream(&mut w, 3, 3 * 1024 * 1024).await;
            (said, receive_stream(&mut r).await)
        })
        .await;
        let proxy = proxy_to(port, carrier).await;
        let mut s = TcpStream::connect(proxy.local_addrs()[0]).await.unwrap();
        let (mut r, mut w) = s.split();
        // The download ends (the proxy forwarded the backend's half-close) while the upload
        // has not started; it then still reaches the backend in full.
        let heard = within("download", receive_stream(&mut r)).await;
        let sent = within("upload", send_stream(&mut w, 4, 8 * 1024 * 1024)).await;
        let (said, backend_received) = within("backend", backend).await.unwrap();
        assert_eq!(heard, said, "{carrier:?}: download");
        assert_eq!(backend_received, sent, "{carrier:?}: upload");
        drop(s);
        assert_carried_by(&proxy, carrier.path, 2).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_eof_behind_buffered_bytes_still_delivers_them_all() {
    const EOF_PAYLOAD: usize = 8 * 1024 * 1024;
    for carrier in CARRIERS {
        // A backend with a small receive buffer that reads slowly (at most 64 KiB a
        // millisecond): the proxy's send buffer towards it stays full, so the pipe fills and
        // the proxy reads the client's EOF while the pipe still holds bytes.
        let (port, backend) = one_connection_backend_with(Some(16 * 1024), |mut s| async move {
            let mut sum = Checksum::new();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                tokio::time::sleep(Duration::from_millis(1)).await;
                match s.read(&mut buf).await.unwrap() {
                    0 => return sum,
                    n => sum.update(&buf[..n]),
                }
            }
        })
        .await;
        let proxy = proxy_to(port, carrier).await;
        let mut s = TcpStream::connect(proxy.local_addrs()[0]).await.unwrap();
        let sent = within("upload", send_stream(&mut s, 5, EOF_PAYLOAD)).await;
        drop(s); // fully closed, not only half-closed
        let received = within("backend", backend).await.unwrap();
        assert_eq!(received, sent, "{carrier:?}");
        assert_carried_by(&proxy, carrier.path, 2).await;
    }
}

/// Writes 64 KiB pieces until a write fails (bounded): the peer's connection was torn down.
async fn write_until_refused(s: &mut TcpStream) -> bool {
    let chunk = vec![9u8; 64 * 1024];
    within("write until refused", async {
        loop {
            if s.write_all(&chunk).await.is_err() {
                return true;
            }
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_on_either_side_tears_down_the_other() {
    for carrier in CARRIERS {
        // The backend resets (SO_LINGER 0) mid-upload: the client's writes start failing.
        let (port, backend) = one_connection_backend(|mut s| async move {
            let mut first = vec![0u8; 64 * 1024];
            s.read_exact(&mut first).await.unwrap();
            s.set_zero_linger().unwrap();
        })
        .await;
        let proxy = proxy_to(port, carrier).await;
        let mut s = TcpStream::connect(proxy.local_addrs()[0]).await.unwrap();
        assert!(write_until_refused(&mut s).await, "{carrier:?}");
        within("backend", backend).await.unwrap();
        wait_all_closed(&proxy).await;

        // The client resets mid-download: the backend's writes start failing.
        let (port, backend) =
            one_connection_backend(|mut s| async move { write_until_refused(&mut s).await }).await;
        let proxy = proxy_to(port, carrier).await;
        let mut s = TcpStream::connect(proxy.local_addrs()[0]).await.unwrap();
        let mut first = vec![0u8; 64 * 1024];
        within("download", s.read_exact(&mut first)).await.unwrap();
        s.set_zero_linger().unwrap();
        drop(s);
        assert!(within("backend", backend).await.unwrap(), "{carrier:?}");
        wait_all_closed(&proxy).await;
        let stats = proxy.stats();
        assert_eq!(stats.failed.load(std::sync::atomic::Ordering::Relaxed), 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_over_udp_answers_service_address_and_nxdomain() {
    let c = cluster(&[8080]).await;
    c.ctl.sync_service("default", "echo").await.unwrap();
    let services = Api::<Service>::namespaced(c.store.clone(), "default")
        .list(&ListParams::default())
        .await
        .unwrap()
        .items;
    let table = DnsTable::build("cluster.local", &services, &c.slices().await);
    let server = DnsServer::start(SocketAddr::new(LOOPBACK, 0), table)
        .await
        .unwrap();
    let socket = UdpSocket::bind((LOOPBACK, 0)).await.unwrap();
    // (name, type, response code, answer data)
    let cluster_ip = c.service.spec.as_ref().unwrap().cluster_ip.clone().unwrap();
    let table: Vec<(&str, RecordType, ResponseCode, Vec<String>)> = vec![
        (
            "echo.default.svc.cluster.local.",
            RecordType::A,
            ResponseCode::NoError,
            vec![cluster_ip],
        ),
        (
            "_tcp-echo._tcp.echo.default.svc.cluster.local.",
            RecordType::SRV,
            ResponseCode::NoError,
            vec!["0 100 80 echo.default.svc.cluster.local.".into()],
        ),
        (
            "echo.default.svc.cluster.local.",
            RecordType::AAAA,
            ResponseCode::NoError,
            vec![],
        ),
        (
            "nope.default.svc.cluster.local.",
            RecordType::A,
            ResponseCode::NXDomain,
            vec![],
        ),
    ];
    for (i, (name, ty, code, want)) in table.into_iter().enumerate() {
        let mut q = Message::new();
        q.set_id(100 + i as u16)
            .set_message_type(MessageType::Query)
            .set_recursion_desired(true);
        q.add_query(Query::query(Name::from_ascii(name).unwrap(), ty));
        socket
            .send_to(&q.to_vec().unwrap(), server.local_addr())
            .await
            .unwrap();
        let mut buf = [0u8; 1500];
        let (n, _) = tokio::time::timeout(Duration::from_secs(2), socket.recv_from(&mut buf))
            .await
            .unwrap()
            .unwrap();
        let reply = Message::from_vec(&buf[..n]).unwrap();
        assert_eq!(reply.id(), 100 + i as u16);
        assert_eq!(reply.response_code(), code, "{name} {ty}");
        let got: Vec<String> = reply
            .answers()
            .iter()
            .map(|r| match r.data() {
                RData::A(a) => a.0.to_string(),
                other => other.to_string(),
            })
            .collect();
        assert_eq!(got, want, "{name} {ty}");
    }
    server.stop();
}

/// A UDP echo server that prefixes every reply with its id.
async fn udp_echo_server(id: usize) -> (u16, JoinHandle<()>) {
    let socket = UdpSocket::bind((LOOPBACK, 0)).await.unwrap();
    let port = socket.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let mut buf = [0u8; 1024];
        loop {
            let Ok((n, from)) = socket.recv_from(&mut buf).await else {
                return;
            };
            let mut out = format!("{id}:").into_bytes();
            out.extend_from_slice(&buf[..n]);
            let _ = socket.send_to(&out, from).await;
        }
    });
    (port, task)
}

/// One datagram from `client` to `addr`: the id of the server that answered.
async fn udp_request(client: &UdpSocket, addr: SocketAddr, msg: &str) -> usize {
    client.send_to(msg.as_bytes(), addr).await.unwrap();
    let mut buf = [0u8; 256];
    let (n, from) = tokio::time::timeout(Duration::from_secs(5), client.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(from, addr, "the reply comes from the service port");
    let reply = String::from_utf8_lossy(&buf[..n]).to_string();
    let (id, echoed) = reply.split_once(':').unwrap();
    assert_eq!(echoed, msg);
    id.parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_sessions_stick_per_client_and_expire_when_idle() {
    use kybern_netsvc::endpointslice::reconcile_service;
    use kybern_netsvc::proxy::{L4Protocol, ProxyOptions};
    use std::sync::atomic::Ordering;

    let servers = [udp_echo_server(0).await, udp_echo_server(1).await];
    let mut svc = Service::default();
    svc.metadata.name = Some("echo".into());
    svc.metadata.namespace = Some("default".into());
    let port = |name: &str, protocol: &str| ServicePort {
        name: Some(name.into()),
        port: 53,
        protocol: Some(protocol.into()),
        target_port: Some(IntOrString::String("echo".into())),
        ..Default::default()
    };
    svc.spec = Some(ServiceSpec {
        selector: [("app".to_string(), "echo".to_string())].into(),
        cluster_ip: Some("10.96.0.53".into()),
        ports: vec![port("dns", "UDP"), port("sctp", "SCTP")],
        ..Default::default()
    });
    let pods: Vec<Pod> = servers
        .iter()
        .enumerate()
        .map(|(i, (p, _))| {
            let mut pod = pod(i, *p);
            pod.spec.as_mut().unwrap().containers[0].ports[0].protocol = Some("UDP".into());
            pod
        })
        .collect();
    let mut slices = reconcile_service(&svc, &pods, &[]).create;
    slices[0].metadata.name = Some("echo-1".into());
    let resolver = ServiceResolver::build(
        &svc,
        &slices,
        &NodeContext::default(),
        PickerKind::RoundRobin.build(),
        None,
    );
    let ports = ProxyPort::for_service(&svc, LOOPBACK, LOOPBACK, true);
    assert_eq!(ports.len(), 1, "the UDP port is proxied, SCTP is not");
    assert_eq!(ports[0].protocol, L4Protocol::Udp);
    let options = ProxyOptions {
        udp_idle_timeout: Duration::from_millis(100),
        ..ProxyOptions::default()
    };
    let proxy = ServiceProxy::start_with(resolver, &ports, options)
        .await
        .unwrap();
    let vip = proxy.local_addrs()[0];

    // One session per client flow: a client keeps its backend; the next client gets the
    // other one (round robin).
    let a = UdpSocket::bind((LOOPBACK, 0)).await.unwrap();
    let b = UdpSocket::bind((LOOPBACK, 0)).await.unwrap();
    let first = udp_request(&a, vip, "a1").await;
    for i in 0..5 {
        assert_eq!(udp_request(&a, vip, &format!("a-{i}")).await, first);
    }
    let other = udp_request(&b, vip, "b1").await;
    assert_ne!(other, first);
    let stats = proxy.stats();
    assert_eq!(stats.udp_sessions.load(Ordering::Relaxed), 2);
    assert_eq!(stats.datagrams.load(Ordering::Relaxed), 14, "7 each way");

    // Idle sessions end; the next datagram opens a new session.
    let mut waited = 0;
    while stats.udp_active.load(Ordering::SeqCst) > 0 {
        assert!(waited < 500, "sessions never expired");
        tokio::time::sleep(Duration::from_millis(10)).await;
        waited += 1;
    }
    udp_request(&a, vip, "again").await;
    assert_eq!(stats.udp_sessions.load(Ordering::Relaxed), 3);
    proxy.shutdown(Duration::from_millis(100)).await;
}

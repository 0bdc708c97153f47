//! Benchmarks: slice reconcile when 1 pod changes in a 10,000-endpoint Service, picker
//! decisions, and proxy throughput (16 MiB upload and download, the same client and server
//! code direct and through each forwarding path, back to back on one runtime) and added
//! latency against direct loopback connections.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::future::Future;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kybern_core::IntOrString;
use kybern_core::api::core::v1::{
    Pod, PodCondition, PodSpec, PodStatus, Service, ServicePort, ServiceSpec,
};
use kybern_core::api::discovery::v1::EndpointSlice;
use kybern_netsvc::endpointslice::{SliceIndex, SliceReconciler, reconcile_service};
use kybern_netsvc::proxy::{ProxyOptions, ProxyPort, ServiceProxy, TcpForwarding};
use kybern_netsvc::resolver::{Backend, NodeContext, PickerKind, ServiceResolver, TrafficSource};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;

fn service() -> Service {
    let mut s = Service::default();
    s.metadata.name = Some("big".into());
    s.metadata.namespace = Some("default".into());
    s.metadata.uid = Some("uid".into());
    s.spec = Some(ServiceSpec {
        selector: [("app".to_string(), "big".to_string())].into(),
        cluster_ip: Some("10.96.0.1".into()),
        ports: vec![ServicePort {
            name: Some("http".into()),
            port: 80,
            target_port: Some(IntOrString::Int(8080)),
            ..Default::default()
        }],
        ..Default::default()
    });
    s
}

fn pod(i: usize, ready: bool) -> Pod {
    let mut p = Pod::default();
    p.metadata.name = Some(format!("p{i}"));
    p.metadata.namespace = Some("default".into());
    p.metadata.labels = [("app".to_string(), "big".to_string())].into();
    p.spec = Some(PodSpec {
        node_name: Some("n".into()),
        ..Default::default()
    });
    p.status = Some(PodStatus {
        pod_ip: Some(format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256)),
        conditions: vec![PodCondition {
            type_: "Ready".into(),
            status: if ready { "True" } else { "False" }.into(),
            ..Default::default()
        }],
        ..Default::default()
    });
    p
}

fn slices_for(svc: &Service, pods: &[Pod]) -> Vec<EndpointSlice> {
    let mut out = Vec::new();
    for (i, mut s) in reconcile_service(svc, pods, &[])
        .create
        .into_iter()
        .enumerate()
    {
        s.metadata.name = Some(format!("big-{i}"));
        out.push(s);
    }
    out
}

fn slice_update(c: &mut Criterion) {
    let svc = service();
    let mut pods: Vec<Pod> = (0..10_000).map(|i| pod(i, true)).collect();
    let slices = slices_for(&svc, &pods);
    pods[5_000] = pod(5_000, false);
    let changes = reconcile_service(&svc, &pods, &slices);
    assert_eq!(changes.writes(), 1, "one slice written");
    c.bench_function("endpointslice/reconcile_1_pod_change_10k", |b| {
        b.iter(|| {
            black_box(reconcile_service(
                black_box(&svc),
                black_box(&pods),
                black_box(&slices),
            ))
        })
    });
    // The same change through the incremental pod -> slice index.
    let r = SliceReconciler::default();
    let index = SliceIndex::new(&svc, slices.clone());
    let changed = &pods[5_000];
    let inc = index.pod_changed(&r, &svc, "p5000", Some(changed));
    assert_eq!(inc, changes, "incremental == full for this change");
    c.bench_function("endpointslice/incremental_1_pod_change_10k", |b| {
        b.iter(|| {
            black_box(index.pod_changed(
                black_box(&r),
                black_box(&svc),
                black_box("p5000"),
                black_box(Some(changed)),
            ))
        })
    });
}

/// A round-robin resolver over `slices` of `svc`.
fn round_robin(svc: &Service, slices: &[EndpointSlice]) -> ServiceResolver {
    ServiceResolver::build(
        svc,
        slices,
        &NodeContext::default(),
        PickerKind::RoundRobin.build(),
        None,
    )
}

fn pickers(c: &mut Criterion) {
    let backends: Vec<Arc<Backend>> = (0..10)
        .map(|i| {
            Arc::new(Backend::new(SocketAddr::new(
                IpAddr::V4(Ipv4Addr::new(10, 0, 0, i)),
                80,
            )))
        })
        .collect();
    let client = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
    let mut g = c.benchmark_group("picker_10_backends");
    for kind in [
        PickerKind::Random,
        PickerKind::RoundRobin,
        PickerKind::LeastConnections,
        PickerKind::SourceHash,
    ] {
        let p = kind.build();
        g.bench_function(format!("{kind:?}"), |b| {
            b.iter(|| black_box(p.pick(black_box(&backends), client)))
        });
    }
    g.finish();
    // A whole resolve (port lookup, pick, connection accounting) over a 10-endpoint slice.
    let svc = service();
    let pods: Vec<Pod> = (0..10).map(|i| pod(i, true)).collect();
    let slices = slices_for(&svc, &pods);
    let r = round_robin(&svc, &slices);
    c.bench_function("resolver/resolve_round_robin_10", |b| {
        b.iter(|| black_box(r.resolve(80, "TCP", TrafficSource::Internal, None).unwrap()))
    });
}

async fn sink_server() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                // Reads everything; answers each 1-byte ping with one byte, then echoes "done".
                loop {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(1) => {
                            if s.write_all(&buf[..1]).await.is_err() {
                                return;
                            }
                        }
                        Ok(_) => {}
                    }
                }
            });
        }
    });
    addr
}

const CHUNK: usize = 64 * 1024;
const TRANSFER: usize = 16 * 1024 * 1024;

/// A server that sends [`TRANSFER`] bytes in [`CHUNK`] writes to each connection, then closes.
async fn source_server() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((s, _)) = l.accept().await else {
                return;
            };
            tokio::spawn(send_all(s));
        }
    });
    addr
}

/// Sends [`TRANSFER`] bytes in [`CHUNK`] writes, half-closes, and waits for the peer's EOF.
async fn send_all(mut s: TcpStream) {
    let buf = vec![7u8; CHUNK];
    for _ in 0..TRANSFER / CHUNK {
        if s.write_all(&buf).await.is_err() {
            return;
        }
    }
    let _ = s.shutdown().await;
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest).await;
}

/// Upload: the client sends [`TRANSFER`] bytes to the sink.
async fn transfer(addr: SocketAddr) {
    send_all(TcpStream::connect(addr).await.unwrap()).await;
}

/// Download: the client reads [`TRANSFER`] bytes from the source in [`CHUNK`] reads (as the
/// sink does).
async fn download(addr: SocketAddr) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut buf = vec![0u8; CHUNK];
    let mut got = 0;
    loop {
        match s.read(&mut buf).await.unwrap() {
            0 => break,
            n => got += n,
        }
    }
    assert_eq!(got, TRANSFER);
}

async fn ping(addr: SocketAddr) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.set_nodelay(true).unwrap();
    s.write_all(b"p").await.unwrap();
    let mut b = [0u8; 1];
    s.read_exact(&mut b).await.unwrap();
}

/// One proxy per forwarding path in front of `backend` (each lives for the whole run); returns
/// `backend` and the proxies' addresses.
async fn proxies_for(backend: SocketAddr) -> (SocketAddr, Vec<(&'static str, SocketAddr)>) {
    let mut svc = service();
    svc.spec.as_mut().unwrap().ports[0].target_port =
        Some(IntOrString::Int(i32::from(backend.port())));
    let mut p = pod(0, true);
    p.status.as_mut().unwrap().pod_ip = Some("127.0.0.1".into());
    let slices = slices_for(&svc, &[p]);
    let mut proxied = Vec::new();
    // The same proxy on the userspace copy path (buffers growing up to 1 MiB, the default; or
    // capped at 256 KiB, 64 KiB) and on the
    // splice(2) path (1 MiB pipes; and 64 KiB pipes), with the kernel's socket buffer
    // autotuning (the default) or 128 KiB socket buffers.
    const SOCKBUF: Option<u32> = Some(128 * 1024);
    const KIB: usize = 1024;
    let paths = [
        ("copy", TcpForwarding::Copy, 1024 * KIB, 0, None),
        ("copy_max_256KiB", TcpForwarding::Copy, 256 * KIB, 0, None),
        ("copy_max_64KiB", TcpForwarding::Copy, 64 * KIB, 0, None),
        ("splice", TcpForwarding::Splice, 256 * KIB, 1024 * KIB, None),
        (
            "splice_64KiB_pipe",
            TcpForwarding::Splice,
            256 * KIB,
            64 * KIB,
            None,
        ),
        (
            "copy_128KiB_sockbuf",
            TcpForwarding::Copy,
            1024 * KIB,
            0,
            SOCKBUF,
        ),
        (
            "splice_128KiB_sockbuf",
            TcpForwarding::Splice,
            256 * KIB,
            1024 * KIB,
            SOCKBUF,
        ),
    ];
    for (name, tcp_forwarding, copy_buffer, splice_pipe_size, socket_buffer) in paths {
        let r = round_robin(&svc, &slices);
        let proxy = ServiceProxy::start_with(
            r,
            &ProxyPort::for_service(
                &svc,
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                true,
            ),
            ProxyOptions {
                tcp_forwarding,
                copy_buffer,
                splice_pipe_size,
                socket_buffer,
                ..ProxyOptions::default()
            },
        )
        .await
        .unwrap();
        proxied.push((name, proxy.local_addrs()[0]));
        std::mem::forget(proxy); // lives for the whole benchmark run
    }
    (backend, proxied)
}

/// One group timing `run` ([`TRANSFER`] bytes) against `direct`, then through each proxy.
fn throughput_group<Fut: Future<Output = ()>>(
    c: &mut Criterion,
    rt: &Runtime,
    name: &str,
    direct: SocketAddr,
    proxied: &[(&str, SocketAddr)],
    run: impl Fn(SocketAddr) -> Fut,
) {
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Bytes(TRANSFER as u64));
    g.sample_size(10);
    g.bench_function("direct", |b| b.iter(|| rt.block_on(run(direct))));
    for (path, addr) in proxied {
        g.bench_function(format!("via_proxy_{path}"), |b| {
            b.iter(|| rt.block_on(run(*addr)))
        });
    }
    g.finish();
}

fn proxy(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (direct, proxied) = rt.block_on(async { proxies_for(sink_server().await).await });
    let (source, proxied_source) = rt.block_on(async { proxies_for(source_server().await).await });
    let (upload, download) = (|a| transfer(a), |a| download(a));
    throughput_group(c, &rt, "proxy_throughput_16MiB", direct, &proxied, upload);
    throughput_group(
        c,
        &rt,
        "proxy_download_16MiB",
        source,
        &proxied_source,
        download,
    );
    let mut g = c.benchmark_group("proxy_connect_and_roundtrip");
    g.bench_function("direct", |b| b.iter(|| rt.block_on(ping(direct))));
    for (name, addr) in &proxied {
        g.bench_function(format!("via_proxy_{name}"), |b| {
            b.iter(|| rt.block_on(ping(*addr)))
        });
    }
    g.finish();
}

criterion_group!(benches, slice_update, pickers, proxy);
criterion_main!(benches);

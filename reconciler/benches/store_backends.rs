//! Store backend benchmarks: DurableStore acknowledged writes/s with 64 concurrent writers,
//! and (feature `etcd`, with an etcd at `$KYBERN_ETCD_ENDPOINT` or 127.0.0.1:2379)
//! EtcdStore creates against raw `etcd-client` puts of the same bytes and raw
//! create-if-absent transactions (what EtcdStore sends), in the same run.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kybern_core::api::core::v1::ConfigMap;
use kybern_core::{DynamicObject, Resource};
use kybern_reconciler::store::{DurableStore, Store};
use serde_json::json;

const WRITERS: usize = 64;
const PER_WRITER: usize = 16;

fn cm(name: String) -> DynamicObject {
    let mut o = DynamicObject::new(&name, &ConfigMap::api_resource(&()));
    o.metadata.namespace = Some("bench".into());
    o.data.insert("data".into(), json!({"k": "v".repeat(200)}));
    o
}

/// `WRITERS` tasks each creating `PER_WRITER` objects; returns the elapsed time.
async fn concurrent_creates(store: Arc<dyn Store>, seq: &AtomicU64) -> Duration {
    let batch = seq.fetch_add(1, Ordering::Relaxed);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            let r = ConfigMap::api_resource(&());
            for i in 0..PER_WRITER {
                s.create(&r, cm(format!("b{batch}-w{w}-{i}")))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    start.elapsed()
}

fn durable(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(DurableStore::open(dir.path()).unwrap());
    let seq = AtomicU64::new(0);
    let mut g = c.benchmark_group("durable_store");
    g.throughput(Throughput::Elements((WRITERS * PER_WRITER) as u64));
    g.sample_size(10);
    g.bench_function("create_64_writers_fsync", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += concurrent_creates(store.clone(), &seq).await;
                }
                total
            })
        })
    });
    g.finish();
}

#[cfg(feature = "etcd")]
fn etcd(c: &mut Criterion) {
    use kybern_reconciler::store::{EtcdStore, EtcdStoreConfig};
    let endpoint =
        std::env::var("KYBERN_ETCD_ENDPOINT").unwrap_or_else(|_| "127.0.0.1:2379".into());
    if std::net::TcpStream::connect(&endpoint).is_err() {
        eprintln!("SKIPPED etcd benchmarks: no etcd at {endpoint} (run scripts/etcd)");
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let prefix = format!("/kybern-bench-{}", std::process::id());
    let store = EtcdStore::new(EtcdStoreConfig {
        endpoints: vec![endpoint.clone()],
        prefix: prefix.clone(),
        ..EtcdStoreConfig::default()
    });
    let client = rt.block_on(store.client()).unwrap();
    let store: Arc<dyn Store> = Arc::new(store);
    let value = serde_json::to_vec(&cm("template".into())).unwrap();
    let seq = AtomicU64::new(0);
    let mut g = c.benchmark_group("etcd");
    g.throughput(Throughput::Elements((WRITERS * PER_WRITER) as u64));
    g.sample_size(10);
    g.bench_function("etcd_store_create_64_writers", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += concurrent_creates(store.clone(), &seq).await;
                }
                total
            })
        })
    });
    g.bench_function("raw_etcd_client_put_64_writers", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let batch = seq.fetch_add(1, Ordering::Relaxed);
                    let start = Instant::now();
                    let mut tasks = Vec::new();
                    for w in 0..WRITERS {
                        let mut kv = client.kv_client();
                        let value = value.clone();
                        let prefix = prefix.clone();
                        tasks.push(tokio::spawn(async move {
                            for i in 0..PER_WRITER {
                                let key = format!("{prefix}/raw/bench/b{batch}-w{w}-{i}");
                                kv.put(key, value.clone(), None).await.unwrap();
                            }
                        }));
                    }
                    for t in tasks {
                        t.await.unwrap();
                    }
                    total += start.elapsed();
                }
                total
            })
        })
    });
    g.bench_function("raw_etcd_client_create_txn_64_writers", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let batch = seq.fetch_add(1, Ordering::Relaxed);
                    let start = Instant::now();
                    let mut tasks = Vec::new();
                    for w in 0..WRITERS {
                        let mut kv = client.kv_client();
                        let value = value.clone();
                        let prefix = prefix.clone();
                        tasks.push(tokio::spawn(async move {
                            for i in 0..PER_WRITER {
                                let key = format!("{prefix}/rawtxn/bench/b{batch}-w{w}-{i}");
                                let txn = etcd_client::Txn::new()
                                    .when([etcd_client::Compare::create_revision(
                                        key.as_str(),
                                        etcd_client::CompareOp::Equal,
                                        0,
                                    )])
                                    .and_then([etcd_client::TxnOp::put(
                                        key.as_str(),
                                        value.clone(),
                                        None,
                                    )]);
                                assert!(kv.txn(txn).await.unwrap().succeeded());
                            }
                        }));
                    }
                    for t in tasks {
                        t.await.unwrap();
                    }
                    total += start.elapsed();
                }
                total
            })
        })
    });
    g.finish();
    // Leave the shared server as found.
    rt.block_on(async {
        let mut kv = client.kv_client();
        kv.delete(
            prefix.as_str(),
            Some(etcd_client::DeleteOptions::new().with_prefix()),
        )
        .await
        .unwrap();
    });
}

#[cfg(not(feature = "etcd"))]
fn etcd(_: &mut Criterion) {
    eprintln!("SKIPPED etcd benchmarks: built without the `etcd` feature");
}

criterion_group!(benches, durable, etcd);
criterion_main!(benches);

//! MemoryStore benchmarks: write throughput with 100 active watchers, write-to-watch delivery
//! latency, and a label-selector list over 100,000 objects.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures::StreamExt as _;
use kybern_core::api::core::v1::ConfigMap;
use kybern_core::{ApiResource, DynamicObject, Resource};
use kybern_reconciler::store::{
    ListOptions, MemoryStore, Store, WatchEvent, WatchOptions, WriteScope,
};
use serde_json::json;

const WATCHERS: usize = 100;
const OBJECTS: usize = 1000;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn cm(i: usize) -> DynamicObject {
    let mut o = DynamicObject::new(&format!("cm-{i}"), &ConfigMap::api_resource(&()));
    o.metadata.namespace = Some("bench".into());
    o.metadata
        .labels
        .insert("app".into(), format!("web-{}", i % 10));
    o.data.insert("data".into(), json!({"n": "0"}));
    o
}

/// Spawns `n` watchers that drain every event; a watcher that falls behind re-watches (counted).
fn spawn_watchers(
    rt: &tokio::runtime::Runtime,
    store: &Arc<dyn Store>,
    n: usize,
    rewatches: &Arc<AtomicU64>,
) {
    let r = ConfigMap::api_resource(&());
    for _ in 0..n {
        let store = store.clone();
        let r = r.clone();
        let rewatches = rewatches.clone();
        rt.spawn(async move {
            loop {
                let from = store.current_revision().await.unwrap();
                let opts = WatchOptions {
                    resource_version: Some(from.to_string()),
                    ..WatchOptions::default()
                };
                let mut w = store.watch(&r, &opts).await.unwrap();
                while let Some(ev) = w.next().await {
                    if ev.is_err() {
                        rewatches.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                    black_box(ev.ok());
                }
            }
        });
    }
}

fn seed(rt: &tokio::runtime::Runtime, store: &Arc<dyn Store>, n: usize) -> Vec<DynamicObject> {
    let r = ConfigMap::api_resource(&());
    rt.block_on(async {
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let mut o = (*store.create(&r, cm(i)).await.unwrap()).clone();
            o.metadata.resource_version = None;
            out.push(o);
        }
        out
    })
}

fn writes_without_watchers(c: &mut Criterion) {
    let rt = runtime();
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let r: ApiResource = ConfigMap::api_resource(&());
    let objs = seed(&rt, &store, OBJECTS);
    let mut g = c.benchmark_group("memory_store");
    g.throughput(Throughput::Elements(1));
    let mut counter = 0u64;
    g.bench_function("update_small_object_no_watchers", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    counter += 1;
                    let mut o = objs[(counter as usize) % OBJECTS].clone();
                    o.data
                        .insert("data".into(), json!({"n": counter.to_string()}));
                    black_box(store.update(&r, o, WriteScope::Main).await.unwrap());
                }
                start.elapsed()
            })
        });
    });
    g.finish();
}

fn writes_with_watchers(c: &mut Criterion) {
    let rt = runtime();
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let r: ApiResource = ConfigMap::api_resource(&());
    let objs = seed(&rt, &store, OBJECTS);
    let rewatches = Arc::new(AtomicU64::new(0));
    spawn_watchers(&rt, &store, WATCHERS, &rewatches);
    let mut g = c.benchmark_group("memory_store");
    g.throughput(Throughput::Elements(1));
    let mut counter = 0u64;
    g.bench_function("update_small_object_100_watchers", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    counter += 1;
                    let mut o = objs[(counter as usize) % OBJECTS].clone();
                    o.data
                        .insert("data".into(), json!({"n": counter.to_string()}));
                    black_box(store.update(&r, o, WriteScope::Main).await.unwrap());
                }
                start.elapsed()
            })
        });
    });
    g.finish();
    let m = store.metrics();
    eprintln!(
        "writes bench: {} watchers, {} re-watches after falling behind, max queue depth {}",
        m.watchers,
        rewatches.load(Ordering::Relaxed),
        m.watch_queue_depth_max
    );
}

fn write_to_watch_latency(c: &mut Criterion) {
    let rt = runtime();
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let r: ApiResource = ConfigMap::api_resource(&());
    let objs = seed(&rt, &store, OBJECTS);
    let rewatches = Arc::new(AtomicU64::new(0));
    spawn_watchers(&rt, &store, WATCHERS - 1, &rewatches);
    // The measured watcher reports the instant it received each event.
    let (tx, rx) = std::sync::mpsc::channel::<Instant>();
    {
        let store = store.clone();
        let r = r.clone();
        rt.block_on(async move {
            let from = store.current_revision().await.unwrap();
            let opts = WatchOptions {
                resource_version: Some(from.to_string()),
                ..WatchOptions::default()
            };
            let mut w = store.watch(&r, &opts).await.unwrap();
            tokio::spawn(async move {
                while let Some(Ok(ev)) = w.next().await {
                    if matches!(ev, WatchEvent::Modified(_)) && tx.send(Instant::now()).is_err() {
                        break;
                    }
                }
            });
        });
    }
    let mut samples = Vec::new();
    let mut counter = 0u64;
    c.bench_function("memory_store/write_to_watch_delivery_100_watchers", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                counter += 1;
                let mut o = objs[(counter as usize) % OBJECTS].clone();
                o.data
                    .insert("data".into(), json!({"n": counter.to_string()}));
                let t0 = Instant::now();
                rt.block_on(store.update(&r, o, WriteScope::Main)).unwrap();
                let got = rx.recv().unwrap();
                let d = got.saturating_duration_since(t0);
                samples.push(d);
                total += d;
            }
            total
        });
    });
    samples.sort();
    if !samples.is_empty() {
        eprintln!(
            "delivery latency over {} writes: p50 {:?}, p90 {:?}, p99 {:?}",
            samples.len(),
            samples[samples.len() / 2],
            samples[samples.len() * 9 / 10],
            samples[samples.len() * 99 / 100]
        );
    }
}

fn list_100k_with_label_selector(c: &mut Criterion) {
    let rt = runtime();
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let r: ApiResource = ConfigMap::api_resource(&());
    rt.block_on(async {
        for i in 0..100_000 {
            store.create(&r, cm(i)).await.unwrap();
        }
    });
    let opts = ListOptions {
        label_selector: Some("app=web-3".into()),
        ..ListOptions::default()
    };
    let mut g = c.benchmark_group("memory_store");
    g.sample_size(20);
    g.bench_function("list_100k_label_selector_10k_match", |b| {
        b.iter(|| {
            let page = rt.block_on(store.list(&r, &opts)).unwrap();
            assert_eq!(page.items.len(), 10_000);
            black_box(page)
        });
    });
    g.bench_function("list_100k_all", |b| {
        b.iter(|| {
            let page = rt
                .block_on(store.list(&r, &ListOptions::default()))
                .unwrap();
            black_box(page)
        });
    });
    g.finish();
}

criterion_group!(
    benches,
    writes_without_watchers,
    writes_with_watchers,
    write_to_watch_latency,
    list_100k_with_label_selector
);
criterion_main!(benches);

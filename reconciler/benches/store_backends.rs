//! Store backend benchmarks: DurableStore acknowledged writes/s with 64 concurrent writers,
//! and (feature `etcd`, with an etcd at `$KYBERN_ETCD_ENDPOINT` or 127.0.0.1:2379)
//! EtcdStore creates and updates against raw `etcd-client` calls with the same bytes (plain
//! puts, create-if-absent and compare-mod-revision transactions), with 64 concurrent writers
//! and sequentially, in the same run. With `KYBERN_ETCD_PAIRED=<rounds>` the etcd rows are
//! also run in paired rounds after the criterion rows (see `paired`); a filter matching no
//! criterion row (`-- paired`) runs only those.
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

/// Runs `writers` tasks, each calling `op(writer, i)` for `i` in `0..per_writer`, and returns
/// the elapsed time.
#[cfg(feature = "etcd")]
async fn run_writers<F, Fut>(writers: usize, per_writer: usize, op: F) -> Duration
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let op = Arc::new(op);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let op = op.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per_writer {
                op(w, i).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    start.elapsed()
}

/// The etcd the bench writes to: `$KYBERN_ETCD_ENDPOINT`, else 127.0.0.1:2379.
#[cfg(feature = "etcd")]
fn etcd_endpoint() -> String {
    std::env::var("KYBERN_ETCD_ENDPOINT").unwrap_or_else(|_| "127.0.0.1:2379".into())
}

/// The keys the create rows add under the bench's prefix (raw puts, raw create transactions,
/// the store's created ConfigMaps `b<batch>-…`); the update rows' keys are not among them.
#[cfg(feature = "etcd")]
const CREATED: [&str; 3] = ["/raw/", "/rawtxn/", "/registry/configmaps/bench/b"];

/// Before a row: deletes the keys earlier create rows added and compacts the server's history
/// to its current revision, so every row starts from the same live keys and retained history
/// rather than what the rows before it left (an update transaction slows as the server holds
/// more keys, a put much less, and etcd slows as history grows: without this, the rows that
/// run first are favoured).
#[cfg(feature = "etcd")]
fn settle(rt: &tokio::runtime::Runtime, client: &etcd_client::Client, prefix: &str) {
    let mut client = client.clone();
    rt.block_on(async {
        for created in CREATED {
            client
                .delete(
                    format!("{prefix}{created}"),
                    Some(etcd_client::DeleteOptions::new().with_prefix()),
                )
                .await
                .unwrap();
        }
        let rev = client
            .get("/", None)
            .await
            .unwrap()
            .header()
            .unwrap()
            .revision();
        let done = client
            .compact(
                rev,
                Some(etcd_client::CompactionOptions::new().with_physical()),
            )
            .await;
        // Nothing written since the last compaction: already settled.
        if let Err(e) = done {
            assert!(
                e.to_string().contains("compacted"),
                "compaction failed: {e}"
            );
        }
    });
}

/// Times `iters` batches of one etcd row: per batch, `writers` tasks each run `per_writer`
/// operations made by `make(batch)` (a fresh batch number per batch, for fresh keys). The
/// criterion rows and the paired rounds both time a row through this.
#[cfg(feature = "etcd")]
fn timer<'a, F, Op, Fut>(
    rt: &'a tokio::runtime::Runtime,
    (writers, per_writer): (usize, usize),
    seq: &'a AtomicU64,
    make: F,
) -> Box<dyn Fn(u64) -> Duration + 'a>
where
    F: Fn(u64) -> Op + 'a,
    Op: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    Box::new(move |iters| {
        rt.block_on(async {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let op = make(seq.fetch_add(1, Ordering::Relaxed));
                total += run_writers(writers, per_writer, op).await;
            }
            total
        })
    })
}

/// One etcd row: its name and its [`timer`].
#[cfg(feature = "etcd")]
type Row<'a> = (&'static str, Box<dyn Fn(u64) -> Duration + 'a>);

/// The CPU time this process's live threads have run, in nanoseconds (Linux's per-thread
/// `schedstat`; `None` elsewhere): the client's CPU per write, server excluded.
#[cfg(feature = "etcd")]
fn process_cpu_ns() -> Option<u64> {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

/// Paired rounds (`KYBERN_ETCD_PAIRED=<rounds>`, opt-in; nothing runs without it): the
/// server's speed drifts by ±10 % between criterion rows measured seconds apart, more than
/// the client work under test, so each round runs every row once, back to back, for the same
/// number of operations (`KYBERN_ETCD_PAIRED_BATCHES` batches of the criterion row's shape,
/// default 8) through the same [`timer`]s, calling `settle` before each, in an order rotated by one
/// row per round. Per round it prints each row's writes/s and the client process's CPU per
/// write, and the ratios taken within the round; then the medians over the rounds.
#[cfg(feature = "etcd")]
fn paired(settle: &dyn Fn(), label: &str, ops_per_batch: usize, rows: &[Row<'_>]) {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let Some(rounds) = env("KYBERN_ETCD_PAIRED").filter(|r| *r > 0) else {
        return;
    };
    let batches = env("KYBERN_ETCD_PAIRED_BATCHES").unwrap_or(8).max(1);
    let ops = (batches as usize * ops_per_batch) as f64;
    let ratios = [
        ("store_update", "raw_put"),
        ("store_create", "raw_put"),
        ("store_update", "raw_update_txn"),
        ("store_create", "raw_create_txn"),
    ];
    let index = |name: &str| rows.iter().position(|(n, _)| *n == name).unwrap();
    // Per row: writes/s and client CPU µs per write, one entry per round.
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); rows.len()];
    let mut cpus: Vec<Vec<f64>> = vec![Vec::new(); rows.len()];
    let mut quotients: Vec<Vec<f64>> = vec![Vec::new(); ratios.len()];
    println!(
        "etcd_{label} paired: {rounds} rounds of {ops} writes per row (k writes/s, client CPU µs/write)"
    );
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let print = |head: String,
                 at: &dyn Fn(&[f64]) -> f64,
                 rates: &[Vec<f64>],
                 cpus: &[Vec<f64>],
                 quotients: &[Vec<f64>]| {
        let mut line = head;
        for (((name, _), rate), cpu) in rows.iter().zip(rates).zip(cpus) {
            line += &format!(" {name}={:.2}k/{:.1}µs", at(rate) / 1000.0, at(cpu));
        }
        line += " |";
        for (q, (a, b)) in quotients.iter().zip(ratios) {
            line += &format!(" {a}/{b}={:.3}", at(q));
        }
        println!("{line}");
    };
    for round in 0..rounds as usize {
        for k in 0..rows.len() {
            let i = (round + k) % rows.len();
            settle();
            let cpu = process_cpu_ns();
            let rate = ops / rows[i].1(batches).as_secs_f64();
            let cpu = cpu
                .zip(process_cpu_ns())
                .map_or(f64::NAN, |(a, b)| b.saturating_sub(a) as f64 / 1000.0 / ops);
            rates[i].push(rate);
            cpus[i].push(cpu);
        }
        for (q, (a, b)) in quotients.iter_mut().zip(ratios) {
            q.push(rates[index(a)][round] / rates[index(b)][round]);
        }
        let last = |v: &[f64]| v.last().copied().unwrap_or(f64::NAN);
        print(format!("round {round}:"), &last, &rates, &cpus, &quotients);
    }
    print("median:".to_owned(), &median, &rates, &cpus, &quotients);
}

/// EtcdStore against raw `etcd-client` calls sending the same bytes, in one run, for creates
/// and updates, with 64 concurrent writers and with one (sequential round trips):
/// - `raw_put`: a plain put (no check at all; what the 20 % goal was first measured against);
/// - `raw_create_txn`: `create_revision == 0` → put, the least a correct create sends;
/// - `raw_update_txn`: `mod_revision == known` → put, else get, the least a correct update sends;
/// - `store_create` / `store_update`: the same through `EtcdStore` (rules, JSON, metrics, the
///   update's cached last state): `store_create` builds a new object per call;
///   `store_update` does what a caller holding the object the store last returned does: copies
///   it out of the `Arc` (it carries that `resourceVersion`), sets a new `data` (made before
///   the timing, as the raw rows' value is; consecutive ones differ, so every call writes),
///   updates, and keeps the answer for the next call.
///
/// All of a row's per-call work is timed (`run_writers` times the whole loop): for the raw
/// rows, cloning the KV client, formatting the key, copying the value and building the
/// transaction.
#[cfg(feature = "etcd")]
fn etcd(c: &mut Criterion) {
    use etcd_client::{Compare, CompareOp, Txn, TxnOp};
    use kybern_reconciler::store::{EtcdStore, EtcdStoreConfig, WriteScope};
    let endpoint = etcd_endpoint();
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
    let r = ConfigMap::api_resource(&());
    let value = Arc::new(serde_json::to_vec(&cm("template".into())).unwrap());
    let seq = AtomicU64::new(0);
    for (writers, per_writer, label) in [(WRITERS, PER_WRITER, "64_writers"), (1, 64, "sequential")]
    {
        // One object per writer for the updates, through the store and raw.
        let (objects, raw_revs) = rt.block_on(async {
            let mut objects = Vec::new();
            let mut revs = Vec::new();
            let mut kv = client.kv_client();
            for w in 0..writers {
                let o = store
                    .create(&r, cm(format!("upd-{label}-{w}")))
                    .await
                    .unwrap();
                objects.push(std::sync::Mutex::new(o));
                let key = format!("{prefix}/rawupd/bench/{label}-{w}");
                let put = kv.put(key, value.as_ref().clone(), None).await.unwrap();
                revs.push(AtomicU64::new(put.header().unwrap().revision() as u64));
            }
            (Arc::new(objects), Arc::new(revs))
        });
        let shape = (writers, per_writer);
        let (cl, v, p) = (client.clone(), value.clone(), prefix.clone());
        let raw_put = timer(&rt, shape, &seq, move |batch| {
            let (client, value, prefix) = (cl.clone(), v.clone(), p.clone());
            move |w, i| {
                let mut kv = client.kv_client();
                let key = format!("{prefix}/raw/bench/b{batch}-w{w}-{i}");
                let value = value.as_ref().clone();
                async move {
                    kv.put(key, value, None).await.unwrap();
                }
            }
        });
        let (cl, v, p) = (client.clone(), value.clone(), prefix.clone());
        let raw_create_txn = timer(&rt, shape, &seq, move |batch| {
            let (client, value, prefix) = (cl.clone(), v.clone(), p.clone());
            move |w, i| {
                let mut kv = client.kv_client();
                let key = format!("{prefix}/rawtxn/bench/b{batch}-w{w}-{i}");
                let txn = Txn::new()
                    .when([Compare::create_revision(key.as_str(), CompareOp::Equal, 0)])
                    .and_then([TxnOp::put(key.as_str(), value.as_ref().clone(), None)]);
                async move {
                    assert!(kv.txn(txn).await.unwrap().succeeded());
                }
            }
        });
        let (st, res) = (store.clone(), r.clone());
        let store_create = timer(&rt, shape, &seq, move |batch| {
            let (store, r) = (st.clone(), res.clone());
            move |w, i| {
                let (store, r) = (store.clone(), r.clone());
                async move {
                    store
                        .create(&r, cm(format!("b{batch}-w{w}-{i}")))
                        .await
                        .unwrap();
                }
            }
        });
        let (cl, v, p, revs) = (
            client.clone(),
            value.clone(),
            prefix.clone(),
            raw_revs.clone(),
        );
        let raw_update_txn = timer(&rt, shape, &seq, move |_| {
            let (client, value, prefix, revs) = (cl.clone(), v.clone(), p.clone(), revs.clone());
            move |w, _| {
                let mut kv = client.kv_client();
                let key = format!("{prefix}/rawupd/bench/{label}-{w}");
                let known = revs[w].load(Ordering::Relaxed) as i64;
                let txn = Txn::new()
                    .when([Compare::mod_revision(key.as_str(), CompareOp::Equal, known)])
                    .and_then([TxnOp::put(key.as_str(), value.as_ref().clone(), None)])
                    .or_else([TxnOp::get(key.as_str(), None)]);
                let revs = revs.clone();
                async move {
                    let resp = kv.txn(txn).await.unwrap();
                    assert!(resp.succeeded());
                    let rev = resp.header().unwrap().revision() as u64;
                    revs[w].store(rev, Ordering::Relaxed);
                }
            }
        });
        // A new `data` per operation (consecutive ones differ, so every update writes),
        // made before the timing as the raw rows' value is.
        let datas: Arc<Vec<serde_json::Value>> = Arc::new(
            (0..per_writer)
                .map(|i| json!({"k": format!("{i:0>200}")}))
                .collect(),
        );
        let (st, res, objs) = (store.clone(), r.clone(), objects.clone());
        let store_update = timer(&rt, shape, &seq, move |_| {
            let (store, r, objects, datas) = (st.clone(), res.clone(), objs.clone(), datas.clone());
            move |w, i| {
                let (store, r, objects) = (store.clone(), r.clone(), objects.clone());
                // What a caller holding the object the store last returned does: copy it
                // (it carries that resourceVersion) and change it.
                let held = objects[w].lock().unwrap().clone();
                let mut o = DynamicObject::clone(&held);
                o.data.insert("data".into(), datas[i].clone());
                async move {
                    let done = store.update(&r, o, WriteScope::Main).await.unwrap();
                    *objects[w].lock().unwrap() = done;
                }
            }
        });
        let rows: [Row<'_>; 5] = [
            ("raw_put", raw_put),
            ("raw_create_txn", raw_create_txn),
            ("store_create", store_create),
            ("raw_update_txn", raw_update_txn),
            ("store_update", store_update),
        ];
        let mut g = c.benchmark_group(format!("etcd_{label}"));
        g.throughput(Throughput::Elements((writers * per_writer) as u64));
        g.sample_size(10);
        let settle = || settle(&rt, &client, &prefix);
        for (name, time) in &rows {
            settle();
            g.bench_function(*name, |b| b.iter_custom(time));
        }
        g.finish();
        paired(&settle, label, writers * per_writer, &rows);
    }
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

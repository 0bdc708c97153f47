//! MemoryStore benchmarks: write throughput with 0, 1 and 100 active watchers (per-event
//! `watch`, and `watch_batches` for 100), write-to-watch delivery latency with 1 and 100
//! watchers (both APIs for 100; the writer as a plain thread and as a runtime task; for 100,
//! one measured watcher and the distribution over every watcher's deliveries, beside the
//! runtime's floor for the same fan-out with bare tasks and no store), and a label-selector
//! list over 100,000 objects.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
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

/// The runtime's worker threads: 2 (this machine's cores), or `KYBERN_BENCH_WORKERS` (e.g. 1
/// to see a fan-out's serial cost without the cross-vCPU wake-up of a parked worker).
fn workers() -> usize {
    std::env::var("KYBERN_BENCH_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers())
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

/// What every watcher does with each event it receives: counts it and reads its type and its
/// object's `resourceVersion` (so the object itself is touched, as any real consumer would).
#[inline]
fn consume(ev: &WatchEvent<&Arc<DynamicObject>>) -> u64 {
    match ev {
        WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) => {
            o.metadata.resource_version.as_deref().map_or(0, str::len) as u64
                + ev.type_name().len() as u64
        }
        WatchEvent::Bookmark(_) => 0,
    }
}

/// One bench watcher's tallies: events received (published after each item) and a checksum
/// of what [`consume`] read.
#[derive(Default)]
struct Tally {
    events: AtomicU64,
    checksum: AtomicU64,
}

/// How the bench watchers read: `Store::watch` (one stream item per event) or
/// `Store::watch_batches` (one item per run of available events, objects borrowed).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Events,
    Batches,
}

/// Spawns `n` watchers that receive and [`consume`] every event; a watcher that falls behind
/// re-watches (counted). Returns each watcher's tally.
fn spawn_watchers(
    rt: &tokio::runtime::Runtime,
    store: &Arc<dyn Store>,
    n: usize,
    rewatches: &Arc<AtomicU64>,
    mode: Mode,
) -> Vec<Arc<Tally>> {
    let r = ConfigMap::api_resource(&());
    let mut tallies = Vec::new();
    for _ in 0..n {
        let store = store.clone();
        let r = r.clone();
        let rewatches = rewatches.clone();
        let tally = Arc::new(Tally::default());
        tallies.push(tally.clone());
        rt.spawn(async move {
            let (mut events, mut sum) = (0u64, 0u64);
            loop {
                let from = store.current_revision().await.unwrap();
                let opts = WatchOptions {
                    resource_version: Some(from.to_string()),
                    ..WatchOptions::default()
                };
                // Each loop ends when the watch ends (Expired: it fell behind).
                if mode == Mode::Events {
                    let mut w = store.watch(&r, &opts).await.unwrap();
                    loop {
                        let Some(Ok(ev)) = w.next().await else {
                            break;
                        };
                        events += 1;
                        sum = sum.wrapping_add(consume(&ev.as_ref()));
                        // Only this watcher writes its tally: an uncontended store.
                        tally.events.store(events, Ordering::Relaxed);
                        tally.checksum.store(sum, Ordering::Relaxed);
                    }
                } else {
                    let mut w = store.watch_batches(&r, &opts).await.unwrap();
                    loop {
                        let Some(Ok(batch)) = w.next().await else {
                            break;
                        };
                        for ev in &batch {
                            events += 1;
                            sum = sum.wrapping_add(consume(&ev));
                        }
                        tally.events.store(events, Ordering::Relaxed);
                        tally.checksum.store(sum, Ordering::Relaxed);
                    }
                }
                rewatches.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    tallies
}

/// Sums the watchers' event counts.
fn delivered(tallies: &[Arc<Tally>]) -> (u64, u64) {
    let events = tallies
        .iter()
        .map(|t| t.events.load(Ordering::Relaxed))
        .sum();
    let checksum = tallies
        .iter()
        .map(|t| t.checksum.load(Ordering::Relaxed))
        .fold(0u64, u64::wrapping_add);
    (events, checksum)
}

/// Waits until `n` watches are open (so that every watcher sees every benchmarked write).
fn wait_for_watchers(store: &Arc<dyn Store>, n: usize) {
    while store.metrics().watchers < n as u64 {
        std::thread::sleep(Duration::from_millis(1));
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

/// Unconditional updates of small objects, round-robin over the seeded ones, with `watchers`
/// watchers draining every event. The writer runs outside the runtime (`block_on` on the bench
/// thread), the watchers on its 2 workers.
fn writes(c: &mut Criterion, name: &str, watchers: usize, mode: Mode) {
    let rt = runtime();
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let r: ApiResource = ConfigMap::api_resource(&());
    let objs = seed(&rt, &store, OBJECTS);
    let rewatches = Arc::new(AtomicU64::new(0));
    let tallies = spawn_watchers(&rt, &store, watchers, &rewatches, mode);
    wait_for_watchers(&store, watchers);
    let mut g = c.benchmark_group("memory_store");
    g.throughput(Throughput::Elements(1));
    let mut counter = 0u64;
    g.bench_function(name, |b| {
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
    // Let the watchers catch up, then check that each received every write.
    let expected = counter * watchers as u64;
    let deadline = Instant::now() + Duration::from_secs(10);
    while delivered(&tallies).0 < expected && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let (events, checksum) = delivered(&tallies);
    eprintln!(
        "{name}: {} watchers, {} re-watches after falling behind, max queue depth {}, \
         {events} of {expected} events received and read (checksum {checksum})",
        m.watchers,
        rewatches.load(Ordering::Relaxed),
        m.watch_queue_depth_max,
    );
}

fn writes_without_watchers(c: &mut Criterion) {
    writes(c, "update_small_object_no_watchers", 0, Mode::Events);
}

fn writes_with_one_watcher(c: &mut Criterion) {
    writes(c, "update_small_object_1_watcher", 1, Mode::Events);
}

fn writes_with_watchers(c: &mut Criterion) {
    writes(
        c,
        "update_small_object_100_watchers",
        WATCHERS,
        Mode::Events,
    );
}

fn writes_with_batched_watchers(c: &mut Criterion) {
    writes(
        c,
        "update_small_object_100_watchers_batched",
        WATCHERS,
        Mode::Batches,
    );
}

/// Where the benchmarked writer runs in the delivery-latency rows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Writer {
    /// A plain thread outside the runtime (`block_on` on the bench thread): every delivery
    /// wakes a parked worker thread across vCPUs, so the OS's wake-up is part of the figure.
    Thread,
    /// A task on the runtime's workers, as a controller or an API server handler writes: the
    /// woken watcher task runs on a worker that is already awake.
    Task,
}

impl Writer {
    /// Runs one `iter_custom` batch where this writer runs.
    fn run(
        self,
        rt: &tokio::runtime::Runtime,
        batch: impl std::future::Future<Output = Duration> + Send + 'static,
    ) -> Duration {
        match self {
            Writer::Thread => rt.block_on(batch),
            Writer::Task => rt.block_on(rt.spawn(batch)).unwrap(),
        }
    }
}

/// The `n`-th paced write: a seeded object, round-robin, with new data (so every write
/// changes it).
fn paced_write(objs: &[DynamicObject], n: u64) -> DynamicObject {
    let mut o = objs[(n as usize) % OBJECTS].clone();
    o.data.insert("data".into(), json!({"n": n.to_string()}));
    o
}

/// Write → the measured watcher's `poll_next` returning the event, one write at a time: the
/// writer waits for the delivery before the next write (a realistic, non-saturating rate), with
/// `watchers - 1` other watchers also receiving every event. The interval starts before
/// `update` is called (so it includes the write itself) and ends when the watcher task holds
/// the event.
fn latency(c: &mut Criterion, name: &str, watchers: usize, mode: Mode, writer: Writer) {
    let rt = runtime();
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let r: ApiResource = ConfigMap::api_resource(&());
    let objs = Arc::new(seed(&rt, &store, OBJECTS));
    let rewatches = Arc::new(AtomicU64::new(0));
    let _tallies = spawn_watchers(&rt, &store, watchers - 1, &rewatches, mode);
    wait_for_watchers(&store, watchers - 1);
    // The measured watcher reports the instant it received each event.
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Instant>();
    {
        let store = store.clone();
        let r = r.clone();
        rt.block_on(async move {
            let from = store.current_revision().await.unwrap();
            let opts = WatchOptions {
                resource_version: Some(from.to_string()),
                ..WatchOptions::default()
            };
            if mode == Mode::Events {
                let mut w = store.watch(&r, &opts).await.unwrap();
                tokio::spawn(async move {
                    while let Some(Ok(ev)) = w.next().await {
                        if matches!(ev, WatchEvent::Modified(_)) && tx.send(Instant::now()).is_err()
                        {
                            break;
                        }
                    }
                });
            } else {
                let mut w = store.watch_batches(&r, &opts).await.unwrap();
                tokio::spawn(async move {
                    while let Some(Ok(batch)) = w.next().await {
                        for ev in &batch {
                            if matches!(ev, WatchEvent::Modified(_))
                                && tx.send(Instant::now()).is_err()
                            {
                                return;
                            }
                        }
                    }
                });
            }
        });
    }
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let counter = Arc::new(AtomicU64::new(0));
    // Recorded by the writer loop only (criterion runs the batches one after another).
    let latencies = Arc::new(Histogram::new());
    c.bench_function(&format!("memory_store/{name}"), |b| {
        b.iter_custom(|iters| {
            let (store, r, objs, counter) =
                (store.clone(), r.clone(), objs.clone(), counter.clone());
            let (rx, latencies) = (rx.clone(), latencies.clone());
            writer.run(&rt, async move {
                let mut rx = rx.lock().await;
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let o = paced_write(&objs, counter.fetch_add(1, Ordering::Relaxed) + 1);
                    let t0 = Instant::now();
                    store.update(&r, o, WriteScope::Main).await.unwrap();
                    let got = rx.recv().await.unwrap();
                    let d = got.saturating_duration_since(t0);
                    latencies.record(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
                    total += d;
                }
                total
            })
        });
    });
    print_percentiles(
        name,
        "writes (the measured watcher's deliveries)",
        std::slice::from_ref(&*latencies),
    );
}

/// One watcher's delivery latencies as a log-linear histogram: exact below 128 ns, then 64
/// buckets per power of two (each at most 1/64 ≈ 1.6 % wide), up to ~2 minutes. 8 KiB per
/// watcher, of which a run touches a few hundred bytes; recording is a load and a store into
/// the watcher's own bucket (only that watcher writes it): no lock, allocation or shared
/// cache line (the arrival count the paced loop waits on is the probe's one shared write).
struct Histogram {
    buckets: Box<[AtomicU32]>,
}

impl Histogram {
    const SUB: u32 = 64;
    const BUCKETS: usize = 2048;

    fn new() -> Self {
        Histogram {
            buckets: (0..Self::BUCKETS).map(|_| AtomicU32::new(0)).collect(),
        }
    }

    /// The bucket of `ns`: `ns` itself below 128, else `(shift, ns >> shift)` with the
    /// mantissa in 64..128.
    fn index(ns: u64) -> usize {
        let bits = u64::BITS - ns.leading_zeros();
        if bits <= 7 {
            return ns as usize;
        }
        let shift = bits - 7;
        ((shift * Self::SUB) as usize + (ns >> shift) as usize).min(Self::BUCKETS - 1)
    }

    /// The exclusive upper bound (ns) of bucket `i`.
    fn upper(i: usize) -> u64 {
        let i = i as u64;
        if i < 2 * u64::from(Self::SUB) {
            return i + 1;
        }
        let shift = i / u64::from(Self::SUB) - 1;
        (i - shift * u64::from(Self::SUB) + 1) << shift
    }

    /// Records one latency (the owning watcher only).
    fn record(&self, ns: u64) {
        let bucket = &self.buckets[Self::index(ns)];
        bucket.store(bucket.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }

    /// Every bucket as `(upper bound in ns, count)`, in order.
    fn buckets(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.buckets
            .iter()
            .enumerate()
            .map(|(i, c)| (Self::upper(i), u64::from(c.load(Ordering::Relaxed))))
    }
}

/// Prints the p1 / p10 / p50 / p90 / p99 over the merged histograms (each percentile is its
/// bucket's upper bound: within 1.6 %), after the count and `what` was counted.
fn print_percentiles(name: &str, what: &str, hists: &[Histogram]) {
    let mut merged: Vec<(u64, u64)> = hists[0].buckets().collect();
    for h in &hists[1..] {
        for (m, (_, c)) in merged.iter_mut().zip(h.buckets()) {
            m.1 += c;
        }
    }
    let total: u64 = merged.iter().map(|b| b.1).sum();
    let at = |q: u64| {
        let want = (total * q).div_ceil(100).max(1);
        let mut seen = 0;
        merged
            .iter()
            .find(|b| {
                seen += b.1;
                seen >= want
            })
            .map_or(Duration::ZERO, |b| Duration::from_nanos(b.0))
    };
    if total > 0 {
        eprintln!(
            "{name}: delivery latency over {total} {what}: \
             p1 {:?} p10 {:?} p50 {:?}, p90 {:?}, p99 {:?}",
            at(1),
            at(10),
            at(50),
            at(90),
            at(99)
        );
    }
}

/// What the all-watchers latency rows share: the start of the current write, how many
/// watchers have received it, and every delivery's latency per watcher.
struct Deliveries {
    /// A calibrated TSC clock (`quanta`, as the work queue's metrics): a read costs a few ns
    /// where this VM's `clock_gettime` costs ~25, so the probe disturbs the watchers less.
    clock: quanta::Clock,
    base: u64,
    /// When the current write started, in ns since `base`.
    t0: AtomicU64,
    arrived: AtomicUsize,
    watchers: usize,
    /// Each watcher's delivery latencies; only that watcher records into its own.
    latencies: Vec<Histogram>,
    all_arrived: tokio::sync::Notify,
}

impl Deliveries {
    fn new(watchers: usize) -> Arc<Self> {
        let clock = quanta::Clock::new();
        Arc::new(Deliveries {
            base: clock.raw(),
            clock,
            t0: AtomicU64::new(0),
            arrived: AtomicUsize::new(0),
            watchers,
            latencies: (0..watchers).map(|_| Histogram::new()).collect(),
            all_arrived: tokio::sync::Notify::new(),
        })
    }

    /// Nanoseconds since the rows started.
    fn now(&self) -> u64 {
        self.clock.delta_as_nanos(self.base, self.clock.raw())
    }

    /// Records one delivery of the current write to watcher `i`.
    fn arrive(&self, i: usize) {
        let d = self.now().saturating_sub(self.t0.load(Ordering::Acquire));
        self.latencies[i].record(d);
        if self.arrived.fetch_add(1, Ordering::AcqRel) + 1 == self.watchers {
            self.all_arrived.notify_one();
        }
    }
}

/// Write → delivery to *every* one of `watchers` watchers, one write at a time (the next write
/// starts when all have it). Each watcher records its own latency, so the printed percentiles
/// are over all deliveries, whatever order the runtime polls the watchers in; criterion's time
/// is until the last watcher has the event.
fn latency_all(c: &mut Criterion, name: &str, watchers: usize, mode: Mode, writer: Writer) {
    let rt = runtime();
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let r: ApiResource = ConfigMap::api_resource(&());
    let objs = Arc::new(seed(&rt, &store, OBJECTS));
    let shared = Deliveries::new(watchers);
    let from = rt.block_on(store.current_revision()).unwrap();
    for i in 0..watchers {
        let (store, r, shared) = (store.clone(), r.clone(), shared.clone());
        let opts = WatchOptions {
            resource_version: Some(from.to_string()),
            ..WatchOptions::default()
        };
        rt.spawn(async move {
            if mode == Mode::Events {
                let mut w = store.watch(&r, &opts).await.unwrap();
                while let Some(ev) = w.next().await {
                    assert!(matches!(ev.unwrap(), WatchEvent::Modified(_)));
                    shared.arrive(i);
                }
            } else {
                let mut w = store.watch_batches(&r, &opts).await.unwrap();
                while let Some(batch) = w.next().await {
                    for ev in &batch.unwrap() {
                        assert!(matches!(ev, WatchEvent::Modified(_)));
                        shared.arrive(i);
                    }
                }
            }
            panic!("a paced watcher's stream ended");
        });
    }
    wait_for_watchers(&store, watchers);
    let publish = move |n: u64| {
        let (store, r) = (store.clone(), r.clone());
        let o = paced_write(&objs, n);
        async move {
            store.update(&r, o, WriteScope::Main).await.unwrap();
        }
    };
    paced_all(c, name, &rt, writer, &shared, publish);
}

/// The paced loop of the all-deliveries rows: per iteration, `publish(n)` builds the `n`-th
/// write (untimed), then the interval starts, the write runs, and the iteration ends when
/// every watcher has it. Prints the percentiles over every delivery.
fn paced_all<F, Fut>(
    c: &mut Criterion,
    name: &str,
    rt: &tokio::runtime::Runtime,
    writer: Writer,
    shared: &Arc<Deliveries>,
    publish: F,
) where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let counter = Arc::new(AtomicU64::new(0));
    c.bench_function(&format!("memory_store/{name}"), |b| {
        b.iter_custom(|iters| {
            let (counter, shared, publish) = (counter.clone(), shared.clone(), publish.clone());
            writer.run(rt, async move {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let write = publish(counter.fetch_add(1, Ordering::Relaxed) + 1);
                    shared.arrived.store(0, Ordering::Relaxed);
                    let t0 = shared.now();
                    shared.t0.store(t0, Ordering::Release);
                    write.await;
                    shared.all_arrived.notified().await;
                    total += Duration::from_nanos(shared.now().saturating_sub(t0));
                }
                total
            })
        });
    });
    let what = format!(
        "deliveries ({} writes × {} watchers)",
        counter.load(Ordering::Relaxed),
        shared.latencies.len()
    );
    print_percentiles(name, &what, &shared.latencies);
}

/// The runtime's floor for the same fan-out, without a store: 100 tasks, each parked on its
/// own waker until a shared counter moves, woken by one relay task (as the store's relay does),
/// each recording its delivery with the same probe. The writer only bumps the counter and
/// notifies the relay. What a store row adds on top of this is the store's cost per delivery.
fn runtime_floor_all(c: &mut Criterion, name: &str, watchers: usize, writer: Writer) {
    use futures::task::AtomicWaker;
    use std::sync::atomic::AtomicBool;
    use std::task::Poll;

    struct Parked {
        waker: AtomicWaker,
        parked: AtomicBool,
    }
    struct Floor {
        published: AtomicU64,
        tasks: Vec<Parked>,
        relay: tokio::sync::Notify,
    }
    let rt = runtime();
    let shared = Deliveries::new(watchers);
    let floor = Arc::new(Floor {
        published: AtomicU64::new(0),
        tasks: (0..watchers)
            .map(|_| Parked {
                waker: AtomicWaker::new(),
                parked: AtomicBool::new(false),
            })
            .collect(),
        relay: tokio::sync::Notify::new(),
    });
    for i in 0..watchers {
        let (floor, shared) = (floor.clone(), shared.clone());
        rt.spawn(async move {
            let mut seen = 0;
            loop {
                std::future::poll_fn(|cx| {
                    let me = &floor.tasks[i];
                    if floor.published.load(Ordering::SeqCst) > seen {
                        return Poll::Ready(());
                    }
                    me.waker.register(cx.waker());
                    me.parked.store(true, Ordering::SeqCst);
                    if floor.published.load(Ordering::SeqCst) > seen {
                        Poll::Ready(())
                    } else {
                        Poll::Pending
                    }
                })
                .await;
                seen += 1;
                shared.arrive(i);
            }
        });
    }
    {
        let floor = floor.clone();
        rt.spawn(async move {
            loop {
                floor.relay.notified().await;
                for t in &floor.tasks {
                    if t.parked.swap(false, Ordering::SeqCst) {
                        t.waker.wake();
                    }
                }
            }
        });
    }
    let publish = move |_: u64| {
        let floor = floor.clone();
        async move {
            floor.published.fetch_add(1, Ordering::SeqCst);
            floor.relay.notify_one();
        }
    };
    paced_all(c, name, &rt, writer, &shared, publish);
}

fn write_to_watch_latency_all(c: &mut Criterion) {
    for (name, mode, writer) in [
        ("all_100_watchers", Mode::Events, Writer::Thread),
        ("all_100_watchers_writer_task", Mode::Events, Writer::Task),
        ("all_100_watchers_batched", Mode::Batches, Writer::Thread),
        (
            "all_100_watchers_batched_writer_task",
            Mode::Batches,
            Writer::Task,
        ),
    ] {
        latency_all(
            c,
            &format!("write_to_watch_delivery_{name}"),
            WATCHERS,
            mode,
            writer,
        );
    }
    runtime_floor_all(c, "runtime_floor_all_100_tasks", WATCHERS, Writer::Thread);
    runtime_floor_all(
        c,
        "runtime_floor_all_100_tasks_writer_task",
        WATCHERS,
        Writer::Task,
    );
}

/// The machine's price of one cross-thread wake-up, which a fan-out on 2 workers pays when
/// the other worker is parked (tokio wakes it as soon as a second task is runnable): a thread
/// parked in `std::thread::park` on an idle vCPU, woken by `unpark` from this one. Criterion's
/// time is the `unpark` call alone (what the waking worker loses before it runs any task);
/// the percentiles printed are from that call until the parked thread runs.
fn cross_thread_wake(c: &mut Criterion) {
    use std::sync::atomic::AtomicBool;

    let shared = Deliveries::new(1);
    let parked = Arc::new(AtomicBool::new(false));
    let sleeper = {
        let (shared, parked) = (shared.clone(), parked.clone());
        std::thread::spawn(move || {
            loop {
                parked.store(true, Ordering::SeqCst);
                std::thread::park();
                if shared.t0.load(Ordering::Acquire) == u64::MAX {
                    return;
                }
                shared.arrive(0);
            }
        })
    };
    c.bench_function("runtime_floor/cross_thread_unpark_to_idle_vcpu", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                while !parked.swap(false, Ordering::SeqCst) {
                    std::hint::spin_loop();
                }
                // Long enough for the sleeper to park and its vCPU to go idle.
                std::thread::sleep(Duration::from_micros(100));
                shared.arrived.store(0, Ordering::Relaxed);
                let t0 = shared.now();
                shared.t0.store(t0, Ordering::Release);
                sleeper.thread().unpark();
                total += Duration::from_nanos(shared.now().saturating_sub(t0));
                while shared.arrived.load(Ordering::Acquire) == 0 {
                    std::hint::spin_loop();
                }
            }
            total
        });
    });
    while !parked.swap(false, Ordering::SeqCst) {
        std::hint::spin_loop();
    }
    shared.t0.store(u64::MAX, Ordering::Release);
    sleeper.thread().unpark();
    sleeper.join().unwrap();
    print_percentiles(
        "runtime_floor/cross_thread_unpark_to_idle_vcpu",
        "wake-ups of a parked thread",
        &shared.latencies,
    );
}

fn write_to_watch_latency_one(c: &mut Criterion) {
    latency(
        c,
        "write_to_watch_delivery_1_watcher",
        1,
        Mode::Events,
        Writer::Thread,
    );
    latency(
        c,
        "write_to_watch_delivery_1_watcher_writer_task",
        1,
        Mode::Events,
        Writer::Task,
    );
}

fn write_to_watch_latency(c: &mut Criterion) {
    latency(
        c,
        "write_to_watch_delivery_100_watchers",
        WATCHERS,
        Mode::Events,
        Writer::Thread,
    );
    latency(
        c,
        "write_to_watch_delivery_100_watchers_writer_task",
        WATCHERS,
        Mode::Events,
        Writer::Task,
    );
}

fn write_to_watch_latency_batched(c: &mut Criterion) {
    latency(
        c,
        "write_to_watch_delivery_100_watchers_batched",
        WATCHERS,
        Mode::Batches,
        Writer::Thread,
    );
    latency(
        c,
        "write_to_watch_delivery_100_watchers_batched_writer_task",
        WATCHERS,
        Mode::Batches,
        Writer::Task,
    );
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
    writes_with_one_watcher,
    writes_with_watchers,
    writes_with_batched_watchers,
    write_to_watch_latency_one,
    write_to_watch_latency,
    write_to_watch_latency_batched,
    write_to_watch_latency_all,
    cross_thread_wake,
    list_100k_with_label_selector
);
criterion_main!(benches);

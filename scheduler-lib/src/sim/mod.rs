//! Simulation: synthetic clusters and workloads mirroring upstream's `scheduler_perf`
//! (SchedulingBasic, SchedulingPodAntiAffinity, TopologySpreading, SchedulingNodeAffinity,
//! Preemption), run end to end through a [`MemoryStore`] and real bindings, reporting
//! throughput as upstream does (average, and percentiles of per-interval throughput) and
//! placement quality.

mod build;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kybern_core::api::core::v1::{Node, Pod};
use kybern_core::{DynamicObject, Resource};
use kybern_reconciler::{MemoryStore, Store};

pub use build::{NodeBuilder, PodBuilder};

use crate::error::Error;
use crate::scheduler::{Scheduler, SchedulerConfig};

/// Which workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkloadKind {
    /// Pods with cpu/memory requests only.
    Basic,
    /// Pods with required anti-affinity to each other per hostname.
    PodAntiAffinity,
    /// Pods spread across 3 zones (`maxSkew: 1`, `DoNotSchedule`).
    TopologySpreading,
    /// Pods requiring a node label value (half the zones).
    NodeAffinity,
    /// Full nodes of low-priority pods; high-priority pods preempt them.
    Preemption,
}

/// A workload: cluster size, pods placed before measuring, pods measured.
#[derive(Clone, Debug)]
pub struct Workload {
    /// The name (upstream's test name).
    pub name: &'static str,
    /// What the pods ask for.
    pub kind: WorkloadKind,
    /// Nodes.
    pub nodes: usize,
    /// Pods scheduled before measuring.
    pub init_pods: usize,
    /// Pods measured.
    pub measured_pods: usize,
}

impl Workload {
    /// A workload.
    pub fn new(kind: WorkloadKind, nodes: usize, init_pods: usize, measured_pods: usize) -> Self {
        let name = match kind {
            WorkloadKind::Basic => "SchedulingBasic",
            WorkloadKind::PodAntiAffinity => "SchedulingPodAntiAffinity",
            WorkloadKind::TopologySpreading => "TopologySpreading",
            WorkloadKind::NodeAffinity => "SchedulingNodeAffinity",
            WorkloadKind::Preemption => "Preemption",
        };
        Workload {
            name,
            kind,
            nodes,
            init_pods,
            measured_pods,
        }
    }

    /// Upstream's published throughput floor for the workload (pods/s), as context.
    pub fn upstream_floor(&self) -> &'static str {
        match self.kind {
            WorkloadKind::Basic => "680",
            WorkloadKind::PodAntiAffinity => "24-90",
            WorkloadKind::TopologySpreading => "160-460",
            WorkloadKind::NodeAffinity => "24-90 (affinity class)",
            WorkloadKind::Preemption => "(none published here)",
        }
    }

    fn node(&self, i: usize) -> Node {
        let name = format!("node-{i}");
        let zone = format!("zone{}", i % 3 + 1);
        match self.kind {
            WorkloadKind::Preemption => NodeBuilder::new(&name, "4", "32Gi").zone(&zone).build(),
            _ => NodeBuilder::new(&name, "4", "32Gi").zone(&zone).build(),
        }
    }

    fn pod(&self, i: usize, measured: bool) -> Pod {
        let name = if measured {
            format!("measured-{i}")
        } else {
            format!("init-{i}")
        };
        let base = PodBuilder::new("default", &name).requests("100m", "500Mi");
        match self.kind {
            WorkloadKind::Basic => base.build(),
            WorkloadKind::PodAntiAffinity => base
                .label("color", "green")
                .anti_affinity(("color", "green"), "kubernetes.io/hostname")
                .build(),
            WorkloadKind::TopologySpreading => base
                .label("app", "spread")
                .spread(
                    crate::cache::ZONE_LABEL,
                    1,
                    "DoNotSchedule",
                    ("app", "spread"),
                )
                .build(),
            WorkloadKind::NodeAffinity => base
                .node_affinity_in(crate::cache::ZONE_LABEL, &["zone1", "zone2"])
                .build(),
            WorkloadKind::Preemption => {
                if measured {
                    PodBuilder::new("default", &name)
                        .requests("1", "1Gi")
                        .priority(10)
                        .build()
                } else {
                    PodBuilder::new("default", &name)
                        .requests("1", "1Gi")
                        .priority(1)
                        .build()
                }
            }
        }
    }
}

/// How to run a workload.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// Throughput sampling interval (upstream: 1 s; shorter runs need shorter intervals).
    pub sample_interval: Duration,
    /// Give up after this long.
    pub timeout: Duration,
    /// The scheduler's configuration.
    pub scheduler: SchedulerConfig,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            sample_interval: Duration::from_millis(100),
            timeout: Duration::from_secs(120),
            scheduler: SchedulerConfig::default(),
        }
    }
}

/// What a run measured.
#[derive(Clone, Debug)]
pub struct Report {
    /// The workload name.
    pub name: &'static str,
    /// Nodes.
    pub nodes: usize,
    /// Measured pods.
    pub measured: usize,
    /// Measured pods bound.
    pub bound: usize,
    /// Wall time of the measured phase.
    pub elapsed: Duration,
    /// Measured pods bound per second over the whole phase.
    pub average: f64,
    /// Percentiles of the per-interval throughput (pods/s): p50, p90, p99.
    pub percentiles: (f64, f64, f64),
    /// Placement quality, in words.
    pub quality: String,
    /// Upstream's floor (context).
    pub upstream_floor: &'static str,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:<26} nodes={:<5} pods={:<6} bound={:<6} {:>8.1} ms  avg {:>9.0} pods/s  p50 {:>9.0}  p90 {:>9.0}  p99 {:>9.0}  (upstream floor {})  {}",
            self.name,
            self.nodes,
            self.measured,
            self.bound,
            self.elapsed.as_secs_f64() * 1000.0,
            self.average,
            self.percentiles.0,
            self.percentiles.1,
            self.percentiles.2,
            self.upstream_floor,
            self.quality
        )
    }
}

/// Creates an object in the store without a typed round trip on the way back.
///
/// # Errors
/// Serialization or store errors.
pub async fn create<K: Resource<DynamicType = ()> + serde::Serialize>(
    store: &Arc<dyn Store>,
    obj: &K,
) -> Result<(), Error> {
    let value = serde_json::to_value(obj).map_err(|e| Error::InvalidProfiles(e.to_string()))?;
    let d = DynamicObject::from_value(value).map_err(|e| Error::InvalidProfiles(e.to_string()))?;
    store.create(&K::api_resource(&()), d).await?;
    Ok(())
}

/// Samples the scheduler's bound count every `cfg.sample_interval` from `start` until it
/// reaches `target` (or `cfg.timeout` passes); returns the per-interval throughputs (pods/s)
/// of the pods bound beyond `base`. For workloads built outside this module.
pub async fn sample_bound(
    scheduler: &Scheduler,
    base: u64,
    target: u64,
    start: Instant,
    cfg: &RunConfig,
) -> Vec<f64> {
    let mut samples = Vec::new();
    let mut prev = base;
    let mut last = Instant::now();
    loop {
        tokio::time::sleep(cfg.sample_interval).await;
        let now_bound = scheduler.stats().1;
        let dt = last.elapsed().as_secs_f64();
        last = Instant::now();
        samples.push(now_bound.saturating_sub(prev) as f64 / dt);
        prev = now_bound;
        if now_bound >= target || start.elapsed() > cfg.timeout {
            break;
        }
    }
    samples
}

/// [`sample_bound`] plus the time from `start` until `target` pods are bound, taken with
/// 2 ms polling: the samples end on an interval boundary, the elapsed time does not, so an
/// average over it is not rounded up to a whole interval.
pub async fn measure_bound(
    scheduler: &Scheduler,
    base: u64,
    target: u64,
    start: Instant,
    cfg: &RunConfig,
) -> (Vec<f64>, Duration) {
    tokio::join!(sample_bound(scheduler, base, target, start, cfg), async {
        wait_bound(scheduler, target, cfg.timeout).await;
        start.elapsed()
    })
}

/// The measured phase of a workload (upstream's `createPods` with its throughput collector):
/// waits until `init` pods are bound, then creates `measured` pods with `create` (in order,
/// concurrently with scheduling, yielding every 64; stopping at the first `false`) while
/// sampling the bound count. Returns the pods bound in the phase, the elapsed time and the
/// per-interval samples.
pub async fn measured_phase<F, Fut>(
    scheduler: &Scheduler,
    init: usize,
    measured: usize,
    cfg: &RunConfig,
    create: F,
) -> (usize, Duration, Vec<f64>)
where
    F: Fn(usize) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    wait_bound(scheduler, init as u64, cfg.timeout).await;
    let base = scheduler.stats().1;
    let target = base + measured as u64;
    let start = Instant::now();
    let creator = tokio::spawn(async move {
        for i in 0..measured {
            if !create(i).await {
                break;
            }
            if i % 64 == 63 {
                tokio::task::yield_now().await;
            }
        }
    });
    let (samples, elapsed) = measure_bound(scheduler, base, target, start, cfg).await;
    let _ = creator.await;
    let bound = (scheduler.stats().1 - base) as usize;
    (bound, elapsed, samples)
}

/// p50, p90 and p99 of per-interval throughput samples.
pub fn percentiles(mut samples: Vec<f64>) -> (f64, f64, f64) {
    samples.sort_by(|a, b| a.total_cmp(b));
    (
        percentile(&samples, 0.5),
        percentile(&samples, 0.9),
        percentile(&samples, 0.99),
    )
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// Waits until the scheduler has bound `want` pods (or `timeout` passes); whether it did.
pub async fn wait_bound(s: &Scheduler, want: u64, timeout: Duration) -> bool {
    let start = Instant::now();
    while s.stats().1 < want {
        if start.elapsed() > timeout {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    true
}

/// Runs a workload end to end: creates the nodes and init pods, starts a scheduler, waits
/// for the init pods, then creates the measured pods while sampling the bound count.
///
/// # Errors
/// Store errors, or the scheduler failing to start.
pub async fn run(w: &Workload, cfg: &RunConfig) -> Result<Report, Error> {
    run_with_source(w, cfg, |_| None).await
}

/// As [`run`], with the scheduler's intake from `source` (given the run's store; `None`:
/// the default [`crate::InformerSource`]) — e.g. [`crate::StoreSource`] to compare intakes.
///
/// # Errors
/// Store errors, or the scheduler failing to start.
pub async fn run_with_source(
    w: &Workload,
    cfg: &RunConfig,
    source: impl FnOnce(Arc<dyn Store>) -> Option<Arc<dyn crate::ClusterSource>>,
) -> Result<Report, Error> {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    for i in 0..w.nodes {
        create(&store, &w.node(i)).await?;
    }
    for i in 0..w.init_pods {
        create(&store, &w.pod(i, false)).await?;
    }
    let mut builder = Scheduler::builder(store.clone()).config(cfg.scheduler.clone());
    if let Some(src) = source(store.clone()) {
        builder = builder.source(src);
    }
    let scheduler = builder.build()?;
    let handle = scheduler.run().await?;
    let wl = w.clone();
    let (bound, elapsed, samples) =
        measured_phase(&scheduler, w.init_pods, w.measured_pods, cfg, move |i| {
            let (store, pod) = (store.clone(), wl.pod(i, true));
            async move { create(&store, &pod).await.is_ok() }
        })
        .await;
    let quality = quality(w, &scheduler);
    handle.shutdown();
    Ok(Report {
        name: w.name,
        nodes: w.nodes,
        measured: w.measured_pods,
        bound,
        elapsed,
        average: bound as f64 / elapsed.as_secs_f64().max(1e-9),
        percentiles: percentiles(samples),
        quality,
        upstream_floor: w.upstream_floor(),
    })
}

fn quality(w: &Workload, s: &Scheduler) -> String {
    let snap = s.snapshot();
    let per_node: Vec<usize> = snap.nodes().iter().map(|n| n.pods().len()).collect();
    let min = per_node.iter().copied().min().unwrap_or(0);
    let max = per_node.iter().copied().max().unwrap_or(0);
    match w.kind {
        WorkloadKind::Basic => format!("pods/node min {min} max {max}"),
        WorkloadKind::PodAntiAffinity => {
            let violations = per_node.iter().filter(|c| **c > 1).count();
            format!("nodes with >1 anti-affine pod: {violations}")
        }
        WorkloadKind::TopologySpreading => {
            let mut zones: HashMap<String, usize> = HashMap::new();
            for n in snap.nodes() {
                let z = n
                    .labels()
                    .get(crate::cache::ZONE_LABEL)
                    .cloned()
                    .unwrap_or_default();
                *zones.entry(z).or_default() += n.pods().len();
            }
            let zmin = zones.values().copied().min().unwrap_or(0);
            let zmax = zones.values().copied().max().unwrap_or(0);
            format!("zone skew {} ({zones:?})", zmax - zmin)
        }
        WorkloadKind::NodeAffinity => {
            let wrong: usize = snap
                .nodes()
                .iter()
                .filter(|n| {
                    n.labels().get(crate::cache::ZONE_LABEL).map(String::as_str) == Some("zone3")
                })
                .map(|n| n.pods().len())
                .sum();
            format!("pods on non-matching nodes: {wrong}")
        }
        WorkloadKind::Preemption => {
            let low: usize = snap
                .nodes()
                .iter()
                .flat_map(|n| n.pods())
                .filter(|p| p.priority < 10)
                .count();
            format!("low-priority pods left {low} of {}", w.init_pods)
        }
    }
}

//! Prometheus metrics for the runtime: a small registry of atomics that renders the text
//! exposition format, with controller-runtime's metric names.
//!
//! Hot paths hold `Arc` handles ([`Counter`], [`Gauge`], [`Histogram`]) and only touch
//! atomics; the registry's lock is taken when a series is first created and when rendering.
//!
//! ```
//! use kybern_reconciler::runtime::metrics::MetricsRegistry;
//! let registry = MetricsRegistry::new();
//! let total = registry.counter("controller_runtime_reconcile_total",
//!     "Total number of reconciliations per controller", &[("controller", "web"), ("result", "success")]);
//! total.inc();
//! let text = registry.render();
//! assert!(text.contains("controller_runtime_reconcile_total{controller=\"web\",result=\"success\"} 1"));
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A monotonically increasing count.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds one.
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    /// The current count.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down (stored as `f64` bits).
#[derive(Debug, Default)]
pub struct Gauge(AtomicU64);

impl Gauge {
    /// Sets the value.
    pub fn set(&self, v: f64) {
        self.0.store(v.to_bits(), Ordering::Relaxed);
    }
    /// The current value.
    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
}

/// An integer gauge (queue depth): cheap increments and decrements.
#[derive(Debug, Default)]
pub struct IntGauge(AtomicI64);

impl IntGauge {
    /// Adds `d` (may be negative).
    pub fn add(&self, d: i64) {
        self.0.fetch_add(d, Ordering::Relaxed);
    }
    /// Sets the value.
    pub fn set(&self, v: i64) {
        self.0.store(v, Ordering::Relaxed);
    }
    /// The current value.
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A histogram of observations (seconds) with fixed upper bounds.
///
/// Recording a duration costs two uncontended atomic additions (its bucket and the sum in
/// nanoseconds): the count is the sum of the buckets (the last one counts observations above
/// every bound), so it needs no counter of its own.
#[derive(Debug)]
pub struct Histogram {
    bounds: Vec<f64>,
    /// The bounds in nanoseconds, for durations.
    bounds_nanos: Vec<u64>,
    /// One per bound, then one for observations above the last bound (`+Inf` only).
    buckets: Vec<AtomicU64>,
    /// Sum of [`Histogram::observe`] values (seconds, as `f64` bits).
    sum_bits: AtomicU64,
    /// Sum of [`Histogram::observe_duration`] values, in nanoseconds.
    sum_nanos: AtomicU64,
}

impl Histogram {
    fn new(bounds: &[f64]) -> Self {
        Histogram {
            bounds: bounds.to_vec(),
            // Saturating float-to-int conversion: negative bounds become 0, huge ones u64::MAX.
            bounds_nanos: bounds.iter().map(|b| (b * 1e9).ceil() as u64).collect(),
            buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_bits: AtomicU64::new(0f64.to_bits()),
            sum_nanos: AtomicU64::new(0),
        }
    }

    fn count_in(&self, i: usize) {
        if let Some(b) = self.buckets.get(i) {
            b.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Records one observation.
    pub fn observe(&self, v: f64) {
        let i = self
            .bounds
            .iter()
            .position(|b| v <= *b)
            .unwrap_or(self.bounds.len());
        self.count_in(i);
        let mut cur = self.sum_bits.load(Ordering::Relaxed);
        loop {
            let next = (f64::from_bits(cur) + v).to_bits();
            match self.sum_bits.compare_exchange_weak(
                cur,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
    }

    /// Records a duration in seconds (exactly, in nanoseconds; no floating point).
    pub fn observe_duration(&self, d: Duration) {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let i = self
            .bounds_nanos
            .iter()
            .position(|b| nanos <= *b)
            .unwrap_or(self.bounds_nanos.len());
        self.count_in(i);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// How many observations.
    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }

    /// The sum of observations.
    pub fn sum(&self) -> f64 {
        f64::from_bits(self.sum_bits.load(Ordering::Relaxed))
            + self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9
    }

    /// Cumulative counts per bound (`le` buckets, without `+Inf`).
    fn cumulative(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        self.bounds
            .iter()
            .zip(&self.buckets)
            .scan(0u64, |acc, (bound, bucket)| {
                *acc += bucket.load(Ordering::Relaxed);
                Some((*bound, *acc))
            })
    }
}

/// controller-runtime's reconcile-time buckets (seconds).
pub const RECONCILE_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9,
    1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 15.0, 20.0,
    25.0, 30.0, 40.0, 50.0, 60.0,
];

/// client-go's work-queue latency buckets: 1 µs to 10 s, by powers of ten.
pub const QUEUE_BUCKETS: &[f64] = &[1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0];

#[derive(Debug, Clone)]
enum Series {
    Counter(Arc<Counter>),
    Gauge(Arc<Gauge>),
    IntGauge(Arc<IntGauge>),
    Histogram(Arc<Histogram>),
}

#[derive(Debug)]
struct Family {
    help: String,
    kind: &'static str,
    series: BTreeMap<Vec<(String, String)>, Series>,
}

/// A set of metric families rendered together. Cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct MetricsRegistry {
    families: Arc<Mutex<BTreeMap<String, Family>>>,
}

fn key(labels: &[(&str, &str)]) -> Vec<(String, String)> {
    labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

impl MetricsRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn series(
        &self,
        name: &str,
        help: &str,
        kind: &'static str,
        labels: &[(&str, &str)],
        make: impl FnOnce() -> Series,
    ) -> Series {
        let mut families = self
            .families
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let family = families.entry(name.to_owned()).or_insert_with(|| Family {
            help: help.to_owned(),
            kind,
            series: BTreeMap::new(),
        });
        family
            .series
            .entry(key(labels))
            .or_insert_with(make)
            .clone()
    }

    /// The counter `name{labels}`, created on first use.
    pub fn counter(&self, name: &str, help: &str, labels: &[(&str, &str)]) -> Arc<Counter> {
        match self.series(name, help, "counter", labels, || {
            Series::Counter(Arc::default())
        }) {
            Series::Counter(c) => c,
            _ => Arc::default(),
        }
    }

    /// The gauge `name{labels}`, created on first use.
    pub fn gauge(&self, name: &str, help: &str, labels: &[(&str, &str)]) -> Arc<Gauge> {
        match self.series(
            name,
            help,
            "gauge",
            labels,
            || Series::Gauge(Arc::default()),
        ) {
            Series::Gauge(g) => g,
            _ => Arc::default(),
        }
    }

    /// The integer gauge `name{labels}`, created on first use.
    pub fn int_gauge(&self, name: &str, help: &str, labels: &[(&str, &str)]) -> Arc<IntGauge> {
        match self.series(name, help, "gauge", labels, || {
            Series::IntGauge(Arc::default())
        }) {
            Series::IntGauge(g) => g,
            _ => Arc::default(),
        }
    }

    /// The histogram `name{labels}` with `buckets`, created on first use.
    pub fn histogram(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
        buckets: &[f64],
    ) -> Arc<Histogram> {
        match self.series(name, help, "histogram", labels, || {
            Series::Histogram(Arc::new(Histogram::new(buckets)))
        }) {
            Series::Histogram(h) => h,
            _ => Arc::new(Histogram::new(buckets)),
        }
    }

    /// Every family in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let families = self
            .families
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out = String::new();
        for (name, family) in families.iter() {
            let _ = writeln!(out, "# HELP {name} {}", family.help);
            let _ = writeln!(out, "# TYPE {name} {}", family.kind);
            for (labels, series) in &family.series {
                let l = render_labels(labels, None);
                match series {
                    Series::Counter(c) => {
                        let _ = writeln!(out, "{name}{l} {}", c.get());
                    }
                    Series::Gauge(g) => {
                        let _ = writeln!(out, "{name}{l} {}", g.get());
                    }
                    Series::IntGauge(g) => {
                        let _ = writeln!(out, "{name}{l} {}", g.get());
                    }
                    Series::Histogram(h) => {
                        for (bound, cumulative) in h.cumulative() {
                            let le = render_labels(labels, Some(&bound.to_string()));
                            let _ = writeln!(out, "{name}_bucket{le} {cumulative}");
                        }
                        let inf = render_labels(labels, Some("+Inf"));
                        let _ = writeln!(out, "{name}_bucket{inf} {}", h.count());
                        let _ = writeln!(out, "{name}_sum{l} {}", h.sum());
                        let _ = writeln!(out, "{name}_count{l} {}", h.count());
                    }
                }
            }
        }
        out
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn render_labels(labels: &[(String, String)], le: Option<&str>) -> String {
    if labels.is_empty() && le.is_none() {
        return String::new();
    }
    let mut parts: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    if let Some(le) = le {
        parts.push(format!("le=\"{le}\""));
    }
    format!("{{{}}}", parts.join(","))
}

/// The per-controller series controller-runtime exports.
#[derive(Debug, Clone)]
pub struct ControllerMetrics {
    /// `controller_runtime_reconcile_total{result="success"}`.
    pub success: Arc<Counter>,
    /// `controller_runtime_reconcile_total{result="error"}`.
    pub error: Arc<Counter>,
    /// `controller_runtime_reconcile_total{result="requeue"}`.
    pub requeue: Arc<Counter>,
    /// `controller_runtime_reconcile_total{result="requeue_after"}`.
    pub requeue_after: Arc<Counter>,
    /// `controller_runtime_reconcile_errors_total`.
    pub errors_total: Arc<Counter>,
    /// `controller_runtime_reconcile_time_seconds`.
    pub reconcile_time: Arc<Histogram>,
    /// `controller_runtime_active_workers`.
    pub active_workers: Arc<IntGauge>,
}

impl ControllerMetrics {
    /// Registers (or finds) the series of controller `name`.
    pub fn new(registry: &MetricsRegistry, name: &str) -> Self {
        const TOTAL: &str = "controller_runtime_reconcile_total";
        const TOTAL_HELP: &str = "Total number of reconciliations per controller";
        let total = |result| {
            registry.counter(
                TOTAL,
                TOTAL_HELP,
                &[("controller", name), ("result", result)],
            )
        };
        ControllerMetrics {
            success: total("success"),
            error: total("error"),
            requeue: total("requeue"),
            requeue_after: total("requeue_after"),
            errors_total: registry.counter(
                "controller_runtime_reconcile_errors_total",
                "Total number of reconciliation errors per controller",
                &[("controller", name)],
            ),
            reconcile_time: registry.histogram(
                "controller_runtime_reconcile_time_seconds",
                "Length of time per reconciliation per controller",
                &[("controller", name)],
                RECONCILE_BUCKETS,
            ),
            active_workers: registry.int_gauge(
                "controller_runtime_active_workers",
                "Number of currently used workers per controller",
                &[("controller", name)],
            ),
        }
    }
}

/// The per-queue series client-go's work queue exports.
#[derive(Debug, Clone)]
pub struct QueueMetrics {
    /// `workqueue_depth`.
    pub depth: Arc<IntGauge>,
    /// `workqueue_adds_total`.
    pub adds: Arc<Counter>,
    /// `workqueue_queue_duration_seconds`.
    pub queue_duration: Arc<Histogram>,
    /// `workqueue_work_duration_seconds`.
    pub work_duration: Arc<Histogram>,
    /// `workqueue_retries_total`.
    pub retries: Arc<Counter>,
    /// `workqueue_longest_running_processor_seconds` (updated when rendering is requested
    /// through [`crate::runtime::queue::WorkQueue::update_gauges`]).
    pub longest_running: Arc<Gauge>,
    /// `workqueue_unfinished_work_seconds`.
    pub unfinished_work: Arc<Gauge>,
}

impl QueueMetrics {
    /// Registers (or finds) the series of queue `name`.
    pub fn new(registry: &MetricsRegistry, name: &str) -> Self {
        let l = [("name", name), ("controller", name)];
        QueueMetrics {
            depth: registry.int_gauge("workqueue_depth", "Current depth of workqueue", &l),
            adds: registry.counter(
                "workqueue_adds_total",
                "Total number of adds handled by workqueue",
                &l,
            ),
            queue_duration: registry.histogram(
                "workqueue_queue_duration_seconds",
                "How long in seconds an item stays in workqueue before being requested",
                &l,
                QUEUE_BUCKETS,
            ),
            work_duration: registry.histogram(
                "workqueue_work_duration_seconds",
                "How long in seconds processing an item from workqueue takes",
                &l,
                QUEUE_BUCKETS,
            ),
            retries: registry.counter(
                "workqueue_retries_total",
                "Total number of retries handled by workqueue",
                &l,
            ),
            longest_running: registry.gauge(
                "workqueue_longest_running_processor_seconds",
                "How many seconds has the longest running processor for workqueue been running",
                &l,
            ),
            unfinished_work: registry.gauge(
                "workqueue_unfinished_work_seconds",
                "How many seconds of work has been done that is in progress and hasn't been observed by work_duration",
                &l,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_histogram_cumulatively() {
        let r = MetricsRegistry::new();
        let h = r.histogram("h_seconds", "help", &[("controller", "c")], &[0.1, 1.0]);
        h.observe(0.05);
        h.observe(0.5);
        h.observe(5.0);
        let text = r.render();
        for line in [
            "# TYPE h_seconds histogram",
            "h_seconds_bucket{controller=\"c\",le=\"0.1\"} 1",
            "h_seconds_bucket{controller=\"c\",le=\"1\"} 2",
            "h_seconds_bucket{controller=\"c\",le=\"+Inf\"} 3",
            "h_seconds_sum{controller=\"c\"} 5.55",
            "h_seconds_count{controller=\"c\"} 3",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
    }

    #[test]
    fn durations_fall_in_inclusive_buckets_and_add_to_the_sum() {
        let r = MetricsRegistry::new();
        let h = r.histogram("d_seconds", "help", &[], &[1e-6, 0.1, 1.0]);
        // (duration, the first bound it counts under: index into [1e-6, 0.1, 1.0, +Inf])
        let table = [
            (Duration::ZERO, 0),
            (Duration::from_nanos(1_000), 0),
            (Duration::from_nanos(1_001), 1),
            (Duration::from_millis(100), 1),
            (Duration::from_nanos(100_000_001), 2),
            (Duration::from_secs(1), 2),
            (Duration::from_secs(3600), 3),
        ];
        for (d, _) in table {
            h.observe_duration(d);
        }
        h.observe(0.25);
        let expected_le = |i: usize| table.iter().filter(|(_, b)| *b <= i).count() as u64;
        let cumulative: Vec<(f64, u64)> = h.cumulative().collect();
        assert_eq!(
            cumulative,
            vec![
                (1e-6, expected_le(0)),
                (0.1, expected_le(1)),
                (1.0, expected_le(2) + 1)
            ]
        );
        assert_eq!(h.count(), table.len() as u64 + 1);
        let total: f64 = table.iter().map(|(d, _)| d.as_secs_f64()).sum::<f64>() + 0.25;
        assert!((h.sum() - total).abs() < 1e-9, "{} vs {total}", h.sum());
    }

    #[test]
    fn same_series_is_shared() {
        let r = MetricsRegistry::new();
        r.counter("c_total", "h", &[("a", "1")]).inc();
        r.counter("c_total", "h", &[("a", "1")]).inc();
        assert_eq!(r.counter("c_total", "h", &[("a", "1")]).get(), 2);
        assert!(r.render().contains("c_total{a=\"1\"} 2"));
    }
}

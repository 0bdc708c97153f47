//! Store metrics: operation counts, error counts, latency histograms and watch queue depth,
//! kept in atomics (no metrics dependency) and read as a [`StoreMetrics`] snapshot.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A store operation, as counted by [`StoreMetrics`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `create`.
    Create,
    /// `get`.
    Get,
    /// `list`.
    List,
    /// `update` (main resource or whole object).
    Update,
    /// `update_status`.
    UpdateStatus,
    /// `patch`.
    Patch,
    /// `delete`.
    Delete,
    /// `watch` (opening one).
    Watch,
    /// `compact`.
    Compact,
}

impl Operation {
    /// Every operation, in [`StoreMetrics::operations`] order.
    pub const ALL: [Operation; 9] = [
        Operation::Create,
        Operation::Get,
        Operation::List,
        Operation::Update,
        Operation::UpdateStatus,
        Operation::Patch,
        Operation::Delete,
        Operation::Watch,
        Operation::Compact,
    ];

    /// The span/metric name, e.g. `store.create`.
    pub fn name(self) -> &'static str {
        match self {
            Operation::Create => "store.create",
            Operation::Get => "store.get",
            Operation::List => "store.list",
            Operation::Update => "store.update",
            Operation::UpdateStatus => "store.update_status",
            Operation::Patch => "store.patch",
            Operation::Delete => "store.delete",
            Operation::Watch => "store.watch",
            Operation::Compact => "store.compact",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Number of latency buckets: `≤ 1 µs`, `≤ 2 µs`, … `≤ 2^20 µs` (≈ 1 s), and `> 2^20 µs`.
pub const LATENCY_BUCKETS: usize = 22;

/// The upper bound of latency bucket `i` (`None` for the last, unbounded one).
pub fn bucket_upper_bound(i: usize) -> Option<Duration> {
    (i + 1 < LATENCY_BUCKETS).then(|| Duration::from_micros(1u64 << i))
}

fn bucket_of(d: Duration) -> usize {
    let micros = u64::try_from(d.as_nanos().div_ceil(1000)).unwrap_or(u64::MAX);
    if micros <= 1 {
        return 0;
    }
    let b = (64 - (micros - 1).leading_zeros()) as usize;
    b.min(LATENCY_BUCKETS - 1)
}

/// Counters for one operation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OperationMetrics {
    /// Calls, successful or not.
    pub count: u64,
    /// Calls that returned an error.
    pub errors: u64,
    /// Latency histogram: calls per bucket (see [`bucket_upper_bound`]).
    pub latency_buckets: Vec<u64>,
}

impl OperationMetrics {
    /// The smallest bucket bound at or under which `q` (0..=1) of the calls finished.
    pub fn latency_quantile(&self, q: f64) -> Option<Duration> {
        let total: u64 = self.latency_buckets.iter().sum();
        if total == 0 {
            return None;
        }
        let want = (q.clamp(0.0, 1.0) * total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, n) in self.latency_buckets.iter().enumerate() {
            seen += n;
            if seen >= want {
                return Some(bucket_upper_bound(i).unwrap_or(Duration::MAX));
            }
        }
        None
    }
}

/// A point-in-time copy of a store's metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoreMetrics {
    /// Per operation, in [`Operation::ALL`] order.
    pub operations: Vec<(Operation, OperationMetrics)>,
    /// The store's current revision.
    pub revision: u64,
    /// Watches currently open.
    pub watchers: u64,
    /// Events written but not yet read by the slowest open watcher (its queue depth).
    pub watch_queue_depth_max: u64,
    /// Sum of all open watchers' queue depths.
    pub watch_queue_depth_total: u64,
    /// Events delivered to watchers (after filtering).
    pub watch_events_sent: u64,
    /// Watchers ended with Expired because they fell behind the retained history.
    pub watchers_expired: u64,
}

impl StoreMetrics {
    /// The counters of one operation.
    pub fn operation(&self, op: Operation) -> Option<&OperationMetrics> {
        self.operations
            .iter()
            .find(|(o, _)| *o == op)
            .map(|(_, m)| m)
    }
}

/// The live counters a backend updates; [`Metrics::snapshot`] reads them.
#[derive(Debug)]
pub struct Metrics {
    counts: [AtomicU64; Operation::ALL.len()],
    errors: [AtomicU64; Operation::ALL.len()],
    latency: [[AtomicU64; LATENCY_BUCKETS]; Operation::ALL.len()],
    /// Events delivered to watchers.
    pub watch_events_sent: AtomicU64,
    /// Watchers ended because they fell behind.
    pub watchers_expired: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
            errors: std::array::from_fn(|_| AtomicU64::new(0)),
            latency: std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0))),
            watch_events_sent: AtomicU64::new(0),
            watchers_expired: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    /// Records the outcome of one call of `op` that started at `start` (a failure also as a
    /// debug event) and hands the outcome back.
    pub(crate) fn finish<T>(
        &self,
        op: Operation,
        start: Instant,
        r: Result<T, super::StoreError>,
    ) -> Result<T, super::StoreError> {
        self.record(op, start, r.is_ok());
        if let Err(e) = &r {
            tracing::debug!(error = %e, "{} failed", op.name());
        }
        r
    }

    /// Records one finished call of `op` that started at `start`.
    pub fn record(&self, op: Operation, start: Instant, ok: bool) {
        let i = op.index();
        self.counts[i].fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.errors[i].fetch_add(1, Ordering::Relaxed);
        }
        self.latency[i][bucket_of(start.elapsed())].fetch_add(1, Ordering::Relaxed);
    }

    /// The counters as a snapshot; watch fields are filled by the backend.
    pub fn snapshot(&self) -> StoreMetrics {
        let operations = Operation::ALL
            .iter()
            .map(|&op| {
                let i = op.index();
                (
                    op,
                    OperationMetrics {
                        count: self.counts[i].load(Ordering::Relaxed),
                        errors: self.errors[i].load(Ordering::Relaxed),
                        latency_buckets: self.latency[i]
                            .iter()
                            .map(|b| b.load(Ordering::Relaxed))
                            .collect(),
                    },
                )
            })
            .collect();
        StoreMetrics {
            operations,
            watch_events_sent: self.watch_events_sent.load(Ordering::Relaxed),
            watchers_expired: self.watchers_expired.load(Ordering::Relaxed),
            ..StoreMetrics::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets() {
        let cases = [
            (Duration::ZERO, 0),
            (Duration::from_nanos(900), 0),
            (Duration::from_micros(1), 0),
            (Duration::from_nanos(1001), 1),
            (Duration::from_micros(2), 1),
            (Duration::from_micros(3), 2),
            (Duration::from_micros(1024), 10),
            (Duration::from_secs(100), LATENCY_BUCKETS - 1),
        ];
        for (d, want) in cases {
            assert_eq!(bucket_of(d), want, "{d:?}");
            if let Some(ub) = bucket_upper_bound(want) {
                assert!(d <= ub, "{d:?} > {ub:?}");
            }
        }
    }

    #[test]
    fn records_and_quantiles() {
        let m = Metrics::default();
        m.record(Operation::Create, Instant::now(), true);
        m.record(Operation::Create, Instant::now(), false);
        let s = m.snapshot();
        let c = s.operation(Operation::Create).unwrap();
        assert_eq!((c.count, c.errors), (2, 1));
        assert!(c.latency_quantile(0.5).is_some());
        assert_eq!(s.operation(Operation::Get).unwrap().count, 0);
        assert!(
            s.operation(Operation::Get)
                .unwrap()
                .latency_quantile(0.5)
                .is_none()
        );
    }
}

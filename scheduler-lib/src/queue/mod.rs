//! The scheduling queue: activeQ (QueueSort order), backoffQ (1 s doubling to 10 s per
//! attempt), unschedulable pods (retried on a relevant cluster event via queueing hints, or
//! after 5 minutes), and gated pods (PreEnqueue).
//!
//! [`SchedulingQueue`] is the synchronous data structure, with time passed in, so every
//! transition is testable; [`Queue`] wraps it for the async scheduler loop, with time from a
//! [`Clock`] (tokio's, so tests run on paused time).

mod heap;

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use self::heap::KeyedHeap;
use crate::cache::{PodInfo, PodKey};
use crate::framework::{ClusterEvent, EventObjects, Framework};

/// The time seam: the queue asks a clock, never the OS.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Now.
    fn now(&self) -> Instant;
}

/// tokio's clock (pausable in tests with `tokio::time::pause`).
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A pod in the queue, with its scheduling history.
#[derive(Clone, Debug)]
pub struct QueuedPodInfo {
    /// The pod.
    pub pod: Arc<PodInfo>,
    /// When it was last added to (or moved within) the queue.
    pub timestamp: Instant,
    /// When it was first popped for scheduling.
    pub initial_attempt_timestamp: Option<Instant>,
    /// Scheduling attempts so far.
    pub attempts: u32,
    /// Plugins that rejected it in the last attempt.
    pub unschedulable_plugins: Vec<String>,
    /// Plugins that returned `Pending` in the last attempt.
    pub pending_plugins: Vec<String>,
    /// Held back by a PreEnqueue plugin.
    pub gated: bool,
    /// The PreEnqueue plugin holding it back, and its message.
    pub gating_status: Option<crate::framework::Status>,
}

impl QueuedPodInfo {
    /// Whether its last attempt ended in an error (no plugin rejected it): such pods serve
    /// their whole backoff (upstream's podErrorBackoffQ).
    pub fn errored(&self) -> bool {
        self.unschedulable_plugins.is_empty() && self.pending_plugins.is_empty()
    }
}

/// Queue timings (upstream's defaults).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueConfig {
    /// The first backoff (1 s).
    pub initial_backoff: Duration,
    /// The longest backoff (10 s).
    pub max_backoff: Duration,
    /// How long a pod stays unschedulable before it is retried regardless (5 min).
    pub max_in_unschedulable: Duration,
    /// How often the unschedulable leftovers are checked (30 s).
    pub leftover_flush_interval: Duration,
    /// Upstream's `SchedulerPopFromBackoffQ` (beta, on by default in v1.33): when activeQ
    /// is empty, `pop` takes the backoffQ pod whose backoff ends first instead of waiting,
    /// except pods backing off after an *error* (they serve their whole backoff).
    pub pop_from_backoff: bool,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(10),
            max_in_unschedulable: Duration::from_secs(5 * 60),
            leftover_flush_interval: Duration::from_secs(30),
            pop_from_backoff: true,
        }
    }
}

impl QueueConfig {
    /// The backoff after `attempts` attempts: initial × 2^(attempts−1), at most the max.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let mut d = self.initial_backoff;
        for _ in 1..attempts {
            d = d.saturating_mul(2);
            if d >= self.max_backoff {
                return self.max_backoff;
            }
        }
        d.min(self.max_backoff)
    }
}

/// Where a pod is in the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueLocation {
    /// Ready to be popped.
    Active,
    /// Waiting for its backoff to pass.
    Backoff,
    /// Waiting for an event (or gated).
    Unschedulable,
    /// Popped and being scheduled.
    InFlight,
}

/// The synchronous scheduling queue.
pub struct SchedulingQueue {
    active: KeyedHeap<QueuedPodInfo>,
    backoff: KeyedHeap<QueuedPodInfo>,
    unschedulable: HashMap<PodKey, QueuedPodInfo>,
    in_flight: HashMap<PodKey, u64>,
    deleted_in_flight: Vec<PodKey>,
    events: VecDeque<(u64, ClusterEvent, EventObjects)>,
    seq: u64,
    frameworks: HashMap<String, Arc<Framework>>,
    config: QueueConfig,
    last_leftover_flush: Option<Instant>,
}

impl fmt::Debug for SchedulingQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SchedulingQueue")
            .field("active", &self.active.len())
            .field("backoff", &self.backoff.len())
            .field("unschedulable", &self.unschedulable.len())
            .field("in_flight", &self.in_flight.len())
            .finish()
    }
}

impl SchedulingQueue {
    /// A queue for these profiles (the first profile's QueueSort orders the active queue;
    /// upstream requires all profiles to share one).
    pub fn new(frameworks: &[Arc<Framework>], config: QueueConfig) -> SchedulingQueue {
        let sort = frameworks.first().and_then(|f| f.queue_sort().cloned());
        let less: heap::Less<QueuedPodInfo> = match sort {
            Some(s) => Arc::new(move |a, b| s.less(a, b)),
            None => Arc::new(|a: &QueuedPodInfo, b: &QueuedPodInfo| a.timestamp < b.timestamp),
        };
        let cfg = config;
        let backoff_less: heap::Less<QueuedPodInfo> = Arc::new(move |a, b| {
            a.timestamp + cfg.backoff(a.attempts) < b.timestamp + cfg.backoff(b.attempts)
        });
        SchedulingQueue {
            active: KeyedHeap::new(less),
            backoff: KeyedHeap::new(backoff_less),
            unschedulable: HashMap::new(),
            in_flight: HashMap::new(),
            deleted_in_flight: Vec::new(),
            events: VecDeque::new(),
            seq: 0,
            frameworks: frameworks
                .iter()
                .map(|f| (f.scheduler_name().to_owned(), f.clone()))
                .collect(),
            config,
            last_leftover_flush: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &QueueConfig {
        &self.config
    }

    fn framework(&self, pod: &PodInfo) -> Option<&Arc<Framework>> {
        self.frameworks.get(pod.scheduler_name())
    }

    /// Where a pod is.
    pub fn location(&self, key: &str) -> Option<QueueLocation> {
        if self.in_flight.contains_key(key) {
            Some(QueueLocation::InFlight)
        } else if self.active.contains(key) {
            Some(QueueLocation::Active)
        } else if self.backoff.contains(key) {
            Some(QueueLocation::Backoff)
        } else if self.unschedulable.contains_key(key) {
            Some(QueueLocation::Unschedulable)
        } else {
            None
        }
    }

    /// Sizes: (active, backoff, unschedulable).
    pub fn lens(&self) -> (usize, usize, usize) {
        (
            self.active.len(),
            self.backoff.len(),
            self.unschedulable.len(),
        )
    }

    /// The queued pod, wherever it waits.
    pub fn get(&self, key: &str) -> Option<&QueuedPodInfo> {
        self.active
            .get(key)
            .or_else(|| self.backoff.get(key))
            .or_else(|| self.unschedulable.get(key))
    }

    /// Every pod waiting (not in flight).
    pub fn pending_pods(&self) -> Vec<Arc<PodInfo>> {
        self.active
            .iter()
            .chain(self.backoff.iter())
            .chain(self.unschedulable.values())
            .map(|q| q.pod.clone())
            .collect()
    }

    fn gate(&self, qpi: &mut QueuedPodInfo) -> bool {
        let status = match self.framework(&qpi.pod) {
            Some(fw) => fw.run_pre_enqueue(&qpi.pod),
            None => crate::framework::Status::success(),
        };
        qpi.gated = !status.is_success();
        qpi.gating_status = (!status.is_success()).then_some(status);
        qpi.gated
    }

    /// A new unscheduled pod: to activeQ, or held back when a PreEnqueue plugin says so.
    pub fn add(&mut self, pod: Arc<PodInfo>, now: Instant) {
        let key = pod.key().clone();
        if self.location(&key).is_some() {
            self.update(pod, now);
            return;
        }
        let mut qpi = QueuedPodInfo {
            pod,
            timestamp: now,
            initial_attempt_timestamp: None,
            attempts: 0,
            unschedulable_plugins: Vec::new(),
            pending_plugins: Vec::new(),
            gated: false,
            gating_status: None,
        };
        if self.gate(&mut qpi) {
            self.unschedulable.insert(key, qpi);
        } else {
            self.active.push(key, qpi);
        }
    }

    /// An unscheduled pod changed.
    pub fn update(&mut self, pod: Arc<PodInfo>, now: Instant) {
        let key = pod.key().clone();
        if let Some(mut q) = self.active.remove(&key) {
            q.pod = pod;
            self.active.push(key, q);
            return;
        }
        if let Some(mut q) = self.backoff.remove(&key) {
            q.pod = pod;
            self.backoff.push(key, q);
            return;
        }
        if let Some(mut q) = self.unschedulable.remove(&key) {
            let spec_changed = q.pod.pod().spec != pod.pod().spec
                || q.pod.pod().metadata.labels != pod.pod().metadata.labels;
            q.pod = pod;
            if q.gated {
                if self.gate(&mut q) {
                    self.unschedulable.insert(key, q);
                } else {
                    q.timestamp = now;
                    self.active.push(key, q);
                }
            } else if spec_changed {
                self.requeue(q, now);
            } else {
                self.unschedulable.insert(key, q);
            }
            return;
        }
        if self.in_flight.contains_key(&key) {
            return;
        }
        self.add(pod, now);
    }

    /// A pod was deleted (or bound by someone else).
    pub fn delete(&mut self, key: &str) {
        self.active.remove(key);
        self.backoff.remove(key);
        self.unschedulable.remove(key);
        if let Some((k, _)) = self.in_flight.get_key_value(key) {
            self.deleted_in_flight.push(k.clone());
        }
    }

    fn backoff_expiry(&self, q: &QueuedPodInfo) -> Instant {
        q.timestamp + self.config.backoff(q.attempts)
    }

    /// Moves a pod out of unschedulable: to backoffQ while its backoff runs, else activeQ.
    fn requeue(&mut self, mut q: QueuedPodInfo, now: Instant) {
        let key = q.pod.key().clone();
        if q.attempts > 0 && self.backoff_expiry(&q) > now {
            self.backoff.push(key, q);
        } else {
            q.timestamp = now;
            self.active.push(key, q);
        }
    }

    /// Moves pods whose backoff has passed to activeQ.
    pub fn flush_backoff_completed(&mut self, now: Instant) {
        while let Some(q) = self.backoff.peek() {
            if self.backoff_expiry(q) > now {
                break;
            }
            if let Some(mut q) = self.backoff.pop() {
                q.timestamp = now;
                let key = q.pod.key().clone();
                self.active.push(key, q);
            }
        }
    }

    /// Retries pods that have been unschedulable longer than the limit (5 min).
    pub fn flush_unschedulable_leftover(&mut self, now: Instant) {
        self.last_leftover_flush = Some(now);
        let limit = self.config.max_in_unschedulable;
        let due: Vec<PodKey> = self
            .unschedulable
            .iter()
            .filter(|(_, q)| !q.gated && q.timestamp + limit <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for k in due {
            if let Some(q) = self.unschedulable.remove(&k) {
                self.requeue(q, now);
            }
        }
    }

    fn maybe_flush_leftover(&mut self, now: Instant) {
        let due = self
            .last_leftover_flush
            .is_none_or(|t| t + self.config.leftover_flush_interval <= now);
        if due {
            self.flush_unschedulable_leftover(now);
        }
    }

    /// The backoffQ pod `pop` may take early when activeQ is empty: the one whose backoff
    /// ends first among pods that were rejected (not errored).
    fn early_backoff_candidate(&self) -> Option<PodKey> {
        if let Some(top) = self.backoff.peek() {
            if !top.errored() {
                return Some(top.pod.key().clone());
            }
        } else {
            return None;
        }
        self.backoff
            .iter()
            .filter(|q| !q.errored())
            .min_by_key(|q| self.backoff_expiry(q))
            .map(|q| q.pod.key().clone())
    }

    /// The next pod to schedule (after moving completed backoffs), marked in flight. With
    /// [`QueueConfig::pop_from_backoff`], an empty activeQ yields a backing-off pod.
    pub fn pop(&mut self, now: Instant) -> Option<QueuedPodInfo> {
        self.flush_backoff_completed(now);
        self.maybe_flush_leftover(now);
        if self.active.len() == 0
            && self.config.pop_from_backoff
            && let Some(key) = self.early_backoff_candidate()
            && let Some(q) = self.backoff.remove(&key)
        {
            tracing::trace!(pod = %q.pod.display_name(), "activeQ empty: popping from backoffQ");
            self.active.push(key, q);
        }
        let mut q = self.active.pop()?;
        q.attempts += 1;
        q.initial_attempt_timestamp.get_or_insert(now);
        self.in_flight.insert(q.pod.key().clone(), self.seq);
        Some(q)
    }

    /// When the earliest backoff ends.
    pub fn next_backoff_expiry(&self) -> Option<Instant> {
        self.backoff.peek().map(|q| self.backoff_expiry(q))
    }

    /// The pod's cycle ended (bound or assumed): forget its in-flight events.
    pub fn done(&mut self, key: &str) {
        self.in_flight.remove(key);
        self.deleted_in_flight.retain(|k| &**k != key);
        match self.in_flight.values().min() {
            None => self.events.clear(),
            Some(&min) => {
                while self.events.front().is_some_and(|(s, _, _)| *s <= min) {
                    self.events.pop_front();
                }
            }
        }
    }

    /// A pod failed its cycle: back to the queue. Events that arrived while it was in
    /// flight and may help (queueing hints of the rejecting plugins) send it to backoffQ,
    /// otherwise it waits in unschedulable. A pod that failed with an error (no rejecting
    /// plugin) goes to backoffQ.
    pub fn add_unschedulable(&mut self, mut q: QueuedPodInfo, now: Instant) {
        let key = q.pod.key().clone();
        if self.deleted_in_flight.contains(&key) {
            self.done(&key);
            return;
        }
        let popped_at = self.in_flight.get(&key).copied().unwrap_or(self.seq);
        q.timestamp = now;
        q.gated = false;
        let errored = q.errored();
        let helped = errored
            || self.framework(&q.pod).is_some_and(|fw| {
                let plugins: Vec<String> = q
                    .unschedulable_plugins
                    .iter()
                    .chain(&q.pending_plugins)
                    .cloned()
                    .collect();
                self.events
                    .iter()
                    .filter(|(s, _, _)| *s > popped_at)
                    .any(|(_, ev, objs)| fw.worth_requeuing(&q.pod, &plugins, ev, objs))
            });
        if helped {
            self.backoff.push(key.clone(), q);
        } else {
            self.unschedulable.insert(key.clone(), q);
        }
        self.done(&key);
    }

    /// A cluster event: unschedulable pods the event may help (by their rejecting plugins'
    /// queueing hints) move to backoffQ/activeQ; pods in flight remember it.
    pub fn on_event(&mut self, event: ClusterEvent, objects: EventObjects, now: Instant) {
        if !self.in_flight.is_empty() {
            self.seq += 1;
            self.events.push_back((self.seq, event, objects.clone()));
        }
        if self.unschedulable.is_empty() {
            return;
        }
        let mut moving = Vec::new();
        for (k, q) in &self.unschedulable {
            if q.gated {
                continue;
            }
            let Some(fw) = self.framework(&q.pod) else {
                continue;
            };
            let plugins: Vec<String> = q
                .unschedulable_plugins
                .iter()
                .chain(&q.pending_plugins)
                .cloned()
                .collect();
            if fw.worth_requeuing(&q.pod, &plugins, &event, &objects) {
                moving.push(k.clone());
            }
        }
        for k in moving {
            if let Some(q) = self.unschedulable.remove(&k) {
                self.requeue(q, now);
            }
        }
    }

    /// Moves every unschedulable (non-gated) pod to backoffQ/activeQ.
    pub fn move_all(&mut self, now: Instant) {
        let keys: Vec<PodKey> = self
            .unschedulable
            .iter()
            .filter(|(_, q)| !q.gated)
            .map(|(k, _)| k.clone())
            .collect();
        for k in keys {
            if let Some(q) = self.unschedulable.remove(&k) {
                self.requeue(q, now);
            }
        }
    }
}

/// The async queue the scheduler loop pops from.
#[derive(Debug)]
pub struct Queue {
    inner: Mutex<SchedulingQueue>,
    notify: Notify,
    closed: AtomicBool,
    clock: Arc<dyn Clock>,
}

impl Queue {
    /// Wraps a queue with a clock.
    pub fn new(queue: SchedulingQueue, clock: Arc<dyn Clock>) -> Queue {
        Queue {
            inner: Mutex::new(queue),
            notify: Notify::new(),
            closed: AtomicBool::new(false),
            clock,
        }
    }

    /// Locks the queue.
    pub fn lock(&self) -> MutexGuard<'_, SchedulingQueue> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Now, by the queue's clock.
    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    /// Runs `f` on the queue and wakes a waiting `pop`.
    pub fn with<R>(&self, f: impl FnOnce(&mut SchedulingQueue, Instant) -> R) -> R {
        let now = self.clock.now();
        let r = f(&mut self.lock(), now);
        self.notify.notify_one();
        r
    }

    /// Stops: `pop` returns `None` from now on.
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
        self.notify.notify_one();
    }

    /// The next pod to schedule; waits for one (moving completed backoffs as they expire).
    /// `None` once closed.
    pub async fn pop(&self) -> Option<QueuedPodInfo> {
        loop {
            if self.closed.load(Ordering::SeqCst) {
                return None;
            }
            let now = self.clock.now();
            let next = {
                let mut q = self.lock();
                if let Some(p) = q.pop(now) {
                    return Some(p);
                }
                q.next_backoff_expiry()
            };
            let wake = next
                .unwrap_or(now + Duration::from_secs(1))
                .min(now + Duration::from_secs(1));
            tokio::select! {
                _ = self.notify.notified() => {}
                _ = tokio::time::sleep_until(wake) => {}
            }
        }
    }
}

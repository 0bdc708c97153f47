//! The work queue: client-go's `workqueue` semantics — a key is queued at most once, never
//! handed to two workers at the same time, can be re-added later, and is rate limited per item
//! and overall when its reconcile keeps failing.
//!
//! # Semantics (as client-go's `Type` + `DelayingQueue` + `RateLimitingQueue`)
//! - `dirty` holds every key that needs processing; `processing` the keys a worker holds.
//!   Adding a dirty key is a no-op; adding a key that is being processed marks it dirty, and
//!   [`WorkQueue::done`] puts it back in the queue — so one key is never processed
//!   concurrently, and no change is lost.
//! - [`WorkQueue::add_after`] delays a key; a key waiting twice keeps the earlier time.
//! - [`WorkQueue::add_rate_limited`] asks the [`RateLimiter`] for the delay; the default
//!   ([`default_controller_rate_limiter`]) is client-go's `DefaultControllerRateLimiter`: the
//!   maximum of a per-item exponential backoff (5 ms doubling to 1000 s) and an overall token
//!   bucket (10 qps, burst 100). [`WorkQueue::forget`] resets an item's backoff.
//!
//! Delays run on tokio's clock, so tests drive them with `tokio::time::pause`/`advance`.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! use kybern_reconciler::runtime::queue::WorkQueue;
//! let q = WorkQueue::new("example");
//! q.add("a");
//! q.add("a"); // deduplicated
//! assert_eq!(q.len(), 1);
//! let key = q.get().await.unwrap();
//! q.add("a"); // being processed: marked dirty, not handed out again yet
//! assert!(q.try_get().is_none());
//! q.done(&key); // now it is queued again
//! assert_eq!(q.try_get(), Some("a"));
//! # });
//! ```

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use hashbrown::HashTable;
use tokio::sync::Notify;
use tokio::time::Instant;

/// The clock of the queue's metrics (time queued, time processing): a calibrated TSC read where
/// the CPU has an invariant one (the OS clock otherwise), several times cheaper than
/// `clock_gettime` — a queue cycle reads it three times. Delays stay on tokio's clock.
type Stamp = quanta::Instant;

use super::metrics::{MetricsRegistry, QueueMetrics};

/// Decides how long to wait before retrying an item.
pub trait RateLimiter<K>: Send + fmt::Debug {
    /// The delay before `key` may be processed again (called once per retry).
    fn when(&mut self, key: &K, now: Instant) -> Duration;
    /// Stops tracking `key` (it succeeded).
    fn forget(&mut self, key: &K);
    /// How many times `key` has been retried since it was last forgotten.
    fn num_requeues(&self, key: &K) -> u32;
}

/// Per-item exponential backoff: `base * 2^failures`, capped at `max` (client-go's
/// `ItemExponentialFailureRateLimiter`).
#[derive(Debug, Clone)]
pub struct ItemExponentialBackoff<K> {
    base: Duration,
    max: Duration,
    failures: HashMap<K, u32, foldhash::fast::RandomState>,
}

impl<K> ItemExponentialBackoff<K> {
    /// Backoff from `base` doubling up to `max`.
    pub fn new(base: Duration, max: Duration) -> Self {
        ItemExponentialBackoff {
            base,
            max,
            failures: HashMap::default(),
        }
    }
}

impl<K: Hash + Eq + Clone + Send + fmt::Debug> RateLimiter<K> for ItemExponentialBackoff<K> {
    fn when(&mut self, key: &K, _now: Instant) -> Duration {
        let n = self.failures.entry(key.clone()).or_insert(0);
        let exp = *n;
        *n = n.saturating_add(1);
        let factor = 2f64.powi(i32::try_from(exp).unwrap_or(i32::MAX));
        let secs = self.base.as_secs_f64() * factor;
        if !secs.is_finite() || secs > self.max.as_secs_f64() {
            return self.max;
        }
        Duration::from_secs_f64(secs)
    }

    fn forget(&mut self, key: &K) {
        self.failures.remove(key);
    }

    fn num_requeues(&self, key: &K) -> u32 {
        self.failures.get(key).copied().unwrap_or(0)
    }
}

/// An overall token bucket (golang.org/x/time/rate's `Limiter.Reserve` semantics): `qps`
/// tokens per second, at most `burst` saved; each retry takes one, waiting when none is left.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    qps: f64,
    burst: f64,
    tokens: f64,
    last: Option<Instant>,
}

impl TokenBucket {
    /// A bucket refilling at `qps`, holding at most `burst` tokens (starts full).
    pub fn new(qps: f64, burst: u32) -> Self {
        TokenBucket {
            qps,
            burst: f64::from(burst),
            tokens: f64::from(burst),
            last: None,
        }
    }
}

impl<K> RateLimiter<K> for TokenBucket {
    fn when(&mut self, _key: &K, now: Instant) -> Duration {
        if let Some(last) = self.last {
            let elapsed = now.saturating_duration_since(last).as_secs_f64();
            self.tokens = (self.tokens + elapsed * self.qps).min(self.burst);
        }
        self.last = Some(now);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 || self.qps <= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.qps)
        }
    }

    fn forget(&mut self, _key: &K) {}

    fn num_requeues(&self, _key: &K) -> u32 {
        0
    }
}

/// The longest delay of several limiters (client-go's `MaxOfRateLimiter`).
#[derive(Debug)]
pub struct MaxOf<K> {
    limiters: Vec<Box<dyn RateLimiter<K>>>,
}

impl<K> MaxOf<K> {
    /// Combines `limiters`.
    pub fn new(limiters: Vec<Box<dyn RateLimiter<K>>>) -> Self {
        MaxOf { limiters }
    }
}

impl<K: fmt::Debug> RateLimiter<K> for MaxOf<K> {
    fn when(&mut self, key: &K, now: Instant) -> Duration {
        self.limiters
            .iter_mut()
            .map(|l| l.when(key, now))
            .max()
            .unwrap_or(Duration::ZERO)
    }

    fn forget(&mut self, key: &K) {
        for l in &mut self.limiters {
            l.forget(key);
        }
    }

    fn num_requeues(&self, key: &K) -> u32 {
        self.limiters
            .iter()
            .map(|l| l.num_requeues(key))
            .max()
            .unwrap_or(0)
    }
}

/// client-go's `DefaultControllerRateLimiter`: max of per-item exponential backoff
/// (5 ms → 1000 s) and a 10 qps / burst 100 token bucket.
pub fn default_controller_rate_limiter<K>() -> MaxOf<K>
where
    K: Hash + Eq + Clone + Send + fmt::Debug + 'static,
{
    MaxOf::new(vec![
        Box::new(ItemExponentialBackoff::new(
            Duration::from_millis(5),
            Duration::from_secs(1000),
        )),
        Box::new(TokenBucket::new(10.0, 100)),
    ])
}

/// One interned key: its state in the queue. A slot lives while its key is dirty, being
/// processed or waiting; then it is freed and its id reused.
struct Slot<K> {
    key: K,
    hash: u64,
    dirty: bool,
    /// When a worker took the key (`Some` while processing).
    processing: Option<Stamp>,
    /// The key's entry in `waiting` (`Some` while delayed).
    waiting: Option<(Instant, u64)>,
}

impl<K> Slot<K> {
    fn idle(&self) -> bool {
        !self.dirty && self.processing.is_none() && self.waiting.is_none()
    }
}

/// The queue's state, behind one mutex. Keys are interned: the hash table maps a key (hashed
/// once per call, with foldhash) to a small slot id, and the ready queue, the delay heap and
/// the dirty/processing flags work on ids, so a cycle clones the key once (to hand it out).
struct State<K> {
    hasher: foldhash::fast::RandomState,
    index: HashTable<u32>,
    slots: Vec<Option<Slot<K>>>,
    free: Vec<u32>,
    queue: VecDeque<(u32, Stamp)>,
    waiting: BTreeMap<(Instant, u64), u32>,
    processing: usize,
    seq: u64,
    limiter: Box<dyn RateLimiter<K>>,
    shutting_down: bool,
    idle_waiters: usize,
}

impl<K: Hash + Eq> State<K> {
    fn new(limiter: Box<dyn RateLimiter<K>>) -> Self {
        State {
            hasher: foldhash::fast::RandomState::default(),
            index: HashTable::new(),
            slots: Vec::new(),
            free: Vec::new(),
            queue: VecDeque::new(),
            waiting: BTreeMap::new(),
            processing: 0,
            seq: 0,
            limiter,
            shutting_down: false,
            idle_waiters: 0,
        }
    }

    fn slot(&self, id: u32) -> Option<&Slot<K>> {
        self.slots.get(id as usize).and_then(Option::as_ref)
    }

    fn slot_mut(&mut self, id: u32) -> Option<&mut Slot<K>> {
        self.slots.get_mut(id as usize).and_then(Option::as_mut)
    }

    /// The id of `key`, if it has a slot.
    fn find(&self, key: &K) -> Option<u32> {
        let hash = self.hasher.hash_one(key);
        let slots = &self.slots;
        self.index
            .find(hash, |&id| {
                slots
                    .get(id as usize)
                    .and_then(Option::as_ref)
                    .is_some_and(|s| s.key == *key)
            })
            .copied()
    }

    /// The id of `key`, interning it (moving it into a new slot) when it has none.
    fn intern(&mut self, key: K) -> u32 {
        let hash = self.hasher.hash_one(&key);
        let State {
            index, slots, free, ..
        } = self;
        let found = index.entry(
            hash,
            |&id| {
                slots
                    .get(id as usize)
                    .and_then(Option::as_ref)
                    .is_some_and(|s| s.key == key)
            },
            |&id| {
                slots
                    .get(id as usize)
                    .and_then(Option::as_ref)
                    .map_or(0, |s| s.hash)
            },
        );
        match found {
            hashbrown::hash_table::Entry::Occupied(e) => *e.get(),
            hashbrown::hash_table::Entry::Vacant(v) => {
                let slot = Slot {
                    key,
                    hash,
                    dirty: false,
                    processing: None,
                    waiting: None,
                };
                let id = match free.pop() {
                    Some(id) => {
                        if let Some(s) = slots.get_mut(id as usize) {
                            *s = Some(slot);
                        }
                        id
                    }
                    None => {
                        slots.push(Some(slot));
                        u32::try_from(slots.len() - 1).unwrap_or(u32::MAX)
                    }
                };
                v.insert(id);
                id
            }
        }
    }

    /// Frees `id`'s slot when nothing refers to it any more.
    fn release_if_idle(&mut self, id: u32) {
        let Some(slot) = self.slot(id) else { return };
        if !slot.idle() {
            return;
        }
        let hash = slot.hash;
        if let Ok(e) = self.index.find_entry(hash, |&other| other == id) {
            e.remove();
        }
        if let Some(s) = self.slots.get_mut(id as usize) {
            *s = None;
        }
        self.free.push(id);
    }
}

struct Shared<K> {
    state: Mutex<State<K>>,
    notify: Notify,
    idle: Notify,
    metrics: QueueMetrics,
}

/// A deduplicating, delaying, rate-limited work queue of keys. Cheap to clone (shared).
pub struct WorkQueue<K> {
    shared: Arc<Shared<K>>,
}

impl<K> Clone for WorkQueue<K> {
    fn clone(&self) -> Self {
        WorkQueue {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<K: fmt::Debug> fmt::Debug for WorkQueue<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkQueue").finish_non_exhaustive()
    }
}

impl<K> WorkQueue<K>
where
    K: Hash + Eq + Clone + Send + fmt::Debug + 'static,
{
    /// A queue with the default controller rate limiter and its own metrics registry.
    pub fn new(name: &str) -> Self {
        Self::with_limiter(
            name,
            Box::new(default_controller_rate_limiter()),
            &MetricsRegistry::new(),
        )
    }

    /// A queue with `limiter`, exporting its metrics (labelled `name`) to `registry`.
    pub fn with_limiter(
        name: &str,
        limiter: Box<dyn RateLimiter<K>>,
        registry: &MetricsRegistry,
    ) -> Self {
        WorkQueue {
            shared: Arc::new(Shared {
                state: Mutex::new(State::new(limiter)),
                notify: Notify::new(),
                idle: Notify::new(),
                metrics: QueueMetrics::new(registry, name),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<K>> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Marks `key` as needing processing.
    pub fn add(&self, key: K) {
        let mut st = self.lock();
        if st.shutting_down {
            return;
        }
        let id = st.intern(key);
        if self.add_locked(&mut st, id, None) {
            drop(st);
            self.shared.notify.notify_one();
        }
    }

    /// Marks slot `id` dirty; returns true when it was put in the ready queue (a worker
    /// should wake).
    fn add_locked(&self, st: &mut State<K>, id: u32, now: Option<Stamp>) -> bool {
        if st.shutting_down {
            st.release_if_idle(id);
            return false;
        }
        let Some(slot) = st.slot_mut(id) else {
            return false;
        };
        if slot.dirty {
            return false;
        }
        slot.dirty = true;
        self.shared.metrics.adds.inc();
        if slot.processing.is_some() {
            return false;
        }
        st.queue.push_back((id, now.unwrap_or_else(Stamp::now)));
        self.shared.metrics.depth.add(1);
        true
    }

    /// Adds `key` after `delay` (immediately when zero). A key already waiting keeps the
    /// earlier of its two times.
    pub fn add_after(&self, key: K, delay: Duration) {
        if delay.is_zero() {
            return self.add(key);
        }
        let at = Instant::now() + delay;
        let mut st = self.lock();
        if st.shutting_down {
            return;
        }
        let id = st.intern(key);
        st.seq += 1;
        let seq = st.seq;
        let Some(slot) = st.slot_mut(id) else { return };
        let previous = slot.waiting;
        if previous.is_some_and(|(existing, _)| existing <= at) {
            return;
        }
        slot.waiting = Some((at, seq));
        if let Some(previous) = previous {
            st.waiting.remove(&previous);
        }
        st.waiting.insert((at, seq), id);
        drop(st);
        self.shared.notify.notify_one();
    }

    /// Adds `key` after the rate limiter's delay for it (a retry).
    pub fn add_rate_limited(&self, key: K) {
        let delay = {
            let mut st = self.lock();
            st.limiter.when(&key, Instant::now())
        };
        self.shared.metrics.retries.inc();
        self.add_after(key, delay);
    }

    /// Resets `key`'s backoff (call after it was processed successfully).
    pub fn forget(&self, key: &K) {
        self.lock().limiter.forget(key);
    }

    /// How many times `key` has been retried since it was last forgotten.
    pub fn num_requeues(&self, key: &K) -> u32 {
        self.lock().limiter.num_requeues(key)
    }

    /// Moves every delayed key whose time has come to the ready queue.
    fn promote(&self, st: &mut State<K>, now: Instant) -> bool {
        let mut woke = false;
        let stamp = Stamp::now();
        while let Some(entry) = st.waiting.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let id = entry.remove();
            if let Some(slot) = st.slot_mut(id) {
                slot.waiting = None;
            }
            woke |= self.add_locked(st, id, Some(stamp));
        }
        woke
    }

    /// Hands out the next ready key: promotes due delayed keys, pops one, marks it processing.
    fn take(&self, st: &mut State<K>) -> Option<K> {
        if !st.waiting.is_empty() {
            self.promote(st, Instant::now());
        }
        let (id, added) = st.queue.pop_front()?;
        let now = Stamp::now();
        self.shared.metrics.depth.add(-1);
        self.shared
            .metrics
            .queue_duration
            .observe_duration(now.saturating_duration_since(added));
        let slot = st.slot_mut(id)?;
        slot.dirty = false;
        slot.processing = Some(now);
        let key = slot.key.clone();
        st.processing += 1;
        Some(key)
    }

    /// Takes the next ready key without waiting; `None` when nothing is ready or the queue is
    /// shut down.
    pub fn try_get(&self) -> Option<K> {
        let mut st = self.lock();
        if st.shutting_down {
            return None;
        }
        self.take(&mut st)
    }

    /// Waits for the next key; `None` once the queue is shut down. The caller must call
    /// [`WorkQueue::done`] with the key when finished.
    pub async fn get(&self) -> Option<K> {
        loop {
            let notified = self.shared.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let deadline = {
                let mut st = self.lock();
                if st.shutting_down {
                    return None;
                }
                if let Some(k) = self.take(&mut st) {
                    let more = !st.queue.is_empty();
                    drop(st);
                    if more {
                        // Pass the wake-up on: another worker may take the next key.
                        self.shared.notify.notify_one();
                    }
                    return Some(k);
                }
                st.waiting.keys().next().map(|(at, _)| *at)
            };
            match deadline {
                Some(at) => {
                    tokio::select! {
                        () = &mut notified => {}
                        () = tokio::time::sleep_until(at) => {}
                    }
                }
                None => notified.await,
            }
        }
    }

    /// Marks `key` as processed; if it was added meanwhile it is queued again.
    pub fn done(&self, key: &K) {
        let mut st = self.lock();
        let Some(id) = st.find(key) else { return };
        let shutting_down = st.shutting_down;
        let Some(slot) = st.slot_mut(id) else { return };
        let Some(started) = slot.processing.take() else {
            return;
        };
        let requeue = slot.dirty && !shutting_down;
        let now = Stamp::now();
        st.processing -= 1;
        self.shared
            .metrics
            .work_duration
            .observe_duration(now.saturating_duration_since(started));
        if requeue {
            st.queue.push_back((id, now));
            self.shared.metrics.depth.add(1);
        } else {
            st.release_if_idle(id);
        }
        let wake_idle = st.processing == 0 && st.idle_waiters > 0;
        drop(st);
        if requeue {
            self.shared.notify.notify_one();
        }
        if wake_idle {
            self.shared.idle.notify_waiters();
        }
    }

    /// Keys ready to be handed out (not counting delayed or in-process keys).
    pub fn len(&self) -> usize {
        self.lock().queue.len()
    }

    /// Whether no key is ready.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keys waiting for a delay to pass.
    pub fn waiting_len(&self) -> usize {
        self.lock().waiting.len()
    }

    /// Keys currently held by workers.
    pub fn processing_len(&self) -> usize {
        self.lock().processing
    }

    /// The delay until `key` becomes ready, if it is waiting.
    pub fn waiting_delay(&self, key: &K) -> Option<Duration> {
        let st = self.lock();
        let (at, _) = st.slot(st.find(key)?)?.waiting?;
        Some(at.saturating_duration_since(Instant::now()))
    }

    /// Stops handing out keys: [`WorkQueue::get`] returns `None` from now on; adds are ignored.
    pub fn shutdown(&self) {
        self.lock().shutting_down = true;
        self.shared.notify.notify_waiters();
    }

    /// Whether [`WorkQueue::shutdown`] was called.
    pub fn is_shutting_down(&self) -> bool {
        self.lock().shutting_down
    }

    /// Waits until no key is being processed (after shutdown: in-flight work finished).
    pub async fn wait_idle(&self) {
        struct Registered<'a, K>(&'a WorkQueue<K>)
        where
            K: Hash + Eq + Clone + Send + fmt::Debug + 'static;
        impl<K> Drop for Registered<'_, K>
        where
            K: Hash + Eq + Clone + Send + fmt::Debug + 'static,
        {
            fn drop(&mut self) {
                let mut st = self.0.lock();
                st.idle_waiters = st.idle_waiters.saturating_sub(1);
            }
        }
        self.lock().idle_waiters += 1;
        let _registered = Registered(self);
        loop {
            let idle = self.shared.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            if self.lock().processing == 0 {
                return;
            }
            idle.await;
        }
    }

    /// Refreshes the time-based gauges (`workqueue_longest_running_processor_seconds`,
    /// `workqueue_unfinished_work_seconds`).
    pub fn update_gauges(&self) {
        let st = self.lock();
        let now = Stamp::now();
        let mut longest = Duration::ZERO;
        let mut total = Duration::ZERO;
        for started in st.slots.iter().flatten().filter_map(|s| s.processing) {
            let d = now.saturating_duration_since(started);
            longest = longest.max(d);
            total += d;
        }
        self.shared
            .metrics
            .longest_running
            .set(longest.as_secs_f64());
        self.shared.metrics.unfinished_work.set(total.as_secs_f64());
    }

    /// The queue's metric handles.
    pub fn metrics(&self) -> &QueueMetrics {
        &self.shared.metrics
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn exponential_backoff_doubles_and_caps() {
        let mut l = ItemExponentialBackoff::new(ms(5), Duration::from_secs(1000));
        let now = Instant::now();
        let got: Vec<Duration> = (0..5).map(|_| l.when(&"k", now)).collect();
        assert_eq!(got, vec![ms(5), ms(10), ms(20), ms(40), ms(80)]);
        for _ in 0..40 {
            l.when(&"k", now);
        }
        assert_eq!(l.when(&"k", now), Duration::from_secs(1000));
        assert_eq!(l.num_requeues(&"k"), 46);
        l.forget(&"k");
        assert_eq!(l.when(&"k", now), ms(5));
    }

    #[test]
    fn token_bucket_allows_burst_then_paces() {
        let mut b = TokenBucket::new(10.0, 100);
        let now = Instant::now();
        for i in 0..100 {
            assert_eq!(RateLimiter::<u32>::when(&mut b, &i, now), Duration::ZERO);
        }
        assert_eq!(RateLimiter::<u32>::when(&mut b, &0, now), ms(100));
        assert_eq!(RateLimiter::<u32>::when(&mut b, &0, now), ms(200));
    }

    #[tokio::test(start_paused = true)]
    async fn delayed_keys_become_ready_on_virtual_time() {
        let q = WorkQueue::new("t");
        q.add_after("late", ms(500));
        q.add_after("early", ms(100));
        q.add_after("late", ms(900)); // keeps the earlier time
        assert!(q.try_get().is_none());
        let start = Instant::now();
        assert_eq!(q.get().await, Some("early"));
        assert_eq!(start.elapsed(), ms(100));
        assert_eq!(q.get().await, Some("late"));
        assert_eq!(start.elapsed(), ms(500));
    }

    #[tokio::test(start_paused = true)]
    async fn rate_limited_retries_grow() {
        let q = WorkQueue::new("t");
        let mut delays = Vec::new();
        for _ in 0..4 {
            q.add_rate_limited("k");
            delays.push(q.waiting_delay(&"k").unwrap_or_default());
            let k = q.get().await;
            assert_eq!(k, Some("k"));
            q.done(&"k");
        }
        assert_eq!(delays, vec![ms(5), ms(10), ms(20), ms(40)]);
        q.forget(&"k");
        assert_eq!(q.num_requeues(&"k"), 0);
    }

    #[test]
    fn dedups_and_never_hands_out_a_key_twice() {
        let q = WorkQueue::new("t");
        q.add("a");
        q.add("b");
        q.add("a");
        assert_eq!(q.len(), 2);
        assert_eq!(q.try_get(), Some("a"));
        q.add("a"); // processing: marked dirty only
        q.add("a");
        assert_eq!(q.try_get(), Some("b"));
        assert_eq!(q.try_get(), None);
        assert_eq!(q.processing_len(), 2);
        q.done(&"a");
        assert_eq!(q.try_get(), Some("a")); // processed again after done, once
        assert_eq!(q.try_get(), None);
        q.done(&"a");
        q.done(&"a"); // a second done is a no-op, not a re-queue
        q.done(&"b");
        assert_eq!((q.len(), q.processing_len()), (0, 0));
        assert_eq!(q.metrics().adds.get(), 3);
    }

    #[test]
    fn slots_are_reused_after_keys_go_idle() {
        let q = WorkQueue::new("t");
        for round in 0..3 {
            for i in 0..100 {
                q.add(format!("k{round}-{i}"));
            }
            while let Some(k) = q.try_get() {
                q.done(&k);
            }
        }
        let st = q.lock();
        assert_eq!(st.slots.len(), 100);
        assert_eq!(st.free.len(), 100);
        assert_eq!(st.index.len(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn delayed_add_of_a_processing_key_requeues_after_done() {
        let q = WorkQueue::new("t");
        q.add("k");
        assert_eq!(q.try_get(), Some("k"));
        q.add_after("k", ms(50));
        tokio::time::advance(ms(60)).await;
        assert_eq!(q.try_get(), None); // promoted to dirty while processing
        assert_eq!(q.waiting_len(), 0);
        q.done(&"k");
        assert_eq!(q.try_get(), Some("k"));
        q.done(&"k");
        assert_eq!(q.waiting_delay(&"k"), None);
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_ignores_adds_and_drops_dirty_keys() {
        let q = WorkQueue::new("t");
        q.add("k");
        let k = q.try_get();
        q.add("k");
        q.shutdown();
        q.add("other");
        q.add_after("later", ms(5));
        assert_eq!(q.try_get(), None);
        q.done(&"k");
        assert_eq!((k, q.len(), q.waiting_len()), (Some("k"), 0, 0));
        q.wait_idle().await;
        assert_eq!(q.get().await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn wait_idle_returns_once_the_last_key_is_done() {
        let q = WorkQueue::new("t");
        q.add("k");
        let k = q.try_get().unwrap_or_default();
        let q2 = q.clone();
        let waiter = tokio::spawn(async move { q2.wait_idle().await });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        q.done(&k);
        assert!(waiter.await.is_ok());
        assert_eq!(q.lock().idle_waiters, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_wakes_waiters() {
        let q: WorkQueue<&str> = WorkQueue::new("t");
        let q2 = q.clone();
        let h = tokio::spawn(async move { q2.get().await });
        tokio::task::yield_now().await;
        q.shutdown();
        assert_eq!(h.await.ok().flatten(), None);
    }
}

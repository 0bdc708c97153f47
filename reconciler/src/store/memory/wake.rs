//! Watcher wake-ups for one kind, coalesced: a watcher that found nothing to read parks once,
//! the next write wakes every parked watcher once (a burst of writes costs one wake-up per
//! parked watcher, not one per write), and large fan-outs are handed to a relay task on the
//! runtime so the writer pays for one wake-up instead of one per watcher.
//!
//! # Why a relay
//! Waking a task from outside its runtime's worker threads costs a locked push onto the
//! runtime's shared queue; a writer waking 100 watchers paid 100 of those per write. The relay
//! is a tiny task spawned on the watchers' runtime: the writer wakes it (one push, and nothing
//! at all while it is already scheduled), and it wakes the watchers from a worker thread,
//! where a wake-up is a cheap local-queue push. A few parked watchers are woken directly (one
//! fewer hop for the common one-watcher case). If the relay's runtime shuts down, the relay
//! wakes everyone on its way out and writers go back to waking directly until the next watch
//! starts a relay again — no wake-up is ever lost. The relay runs only on multi-thread
//! runtimes, whose workers drive it whatever the watch's caller does; elsewhere (current-thread
//! runtimes, no runtime) writers always wake directly.
//!
//! # Parking without a lock or a shared write
//! Every open watcher's [`Slot`] is registered once, when the watch opens. Parking is then a
//! waker registration, the slot's own flag, and a *read* of the kind's "someone parked" mark
//! (written only by the first watcher to park after a walk): no lock and, in the common
//! case, no write to a line other watchers share. With 100 watchers on 2 threads, a shared
//! parked list (lock, push, unlock per park), and then a shared parked counter, were a
//! contended cache line per delivery. Waking clears the mark and walks the registered slots,
//! taking the waker of each one whose flag is set; only the walk takes the registry's lock
//! (once per wake-up round, not per watcher), and the wakers are woken after it is released.
//! The mark may be stale-true (a watcher woken after setting it), which costs one empty walk.
//!
//! # No lost wake-ups
//! A watcher registers its waker, sets its flag, then sees the mark set (reading it, or
//! setting it if clear; SeqCst), then re-checks the history's published count (SeqCst). A
//! writer publishes the count (SeqCst) and then reads the mark (SeqCst); a walk clears the
//! mark (SeqCst) before reading the flags. In the single total order of those operations:
//! the mark stays set from the moment the watcher saw it until some walk clears it, and that
//! walk reads the watcher's flag after it was set. So either the watcher's re-check sees the
//! new event, or the writer's read comes after the watcher saw the mark and finds it set (or
//! already cleared by a walk that reaches the flag) — and the walk it starts reaches the flag.
//! A flag already set when a watcher parks again was set before a mark that no walk has
//! cleared since, or that walk is still to read it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Waker};

use futures::task::AtomicWaker;
use tokio::sync::Notify;

/// With up to this many open watchers the writer wakes them itself; more go through the relay.
const DIRECT_WAKES: usize = 4;

/// One watcher's parking slot.
#[derive(Debug, Default)]
pub(super) struct Slot {
    waker: AtomicWaker,
    /// Parked and not yet woken.
    parked: AtomicBool,
}

/// The open watchers of one kind, which of them are parked, and the relay that wakes them.
#[derive(Debug, Default)]
pub(super) struct Wakeups {
    /// Every open watcher's slot.
    slots: Mutex<Vec<Arc<Slot>>>,
    /// `slots.len()`, readable without the lock.
    open: AtomicUsize,
    /// Someone parked since the last walk started (see the module docs).
    marked: AtomicBool,
    /// Wakes the relay task.
    relay: Notify,
    /// A relay task is running (or spawned and about to).
    relay_running: AtomicBool,
    /// The kind's history is gone: the relay ends.
    closed: AtomicBool,
}

impl Wakeups {
    fn slots(&self) -> MutexGuard<'_, Vec<Arc<Slot>>> {
        match self.slots.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Registers an opening watcher's slot.
    pub(super) fn register(&self, slot: &Arc<Slot>) {
        let mut slots = self.slots();
        slots.push(slot.clone());
        self.open.store(slots.len(), SeqCst);
    }

    /// Removes a closing watcher's slot.
    pub(super) fn unregister(&self, slot: &Arc<Slot>) {
        let mut slots = self.slots();
        if let Some(i) = slots.iter().position(|s| Arc::ptr_eq(s, slot)) {
            slots.swap_remove(i);
        }
        self.open.store(slots.len(), SeqCst);
    }

    /// Parks the watcher owning `slot` until the next [`Wakeups::wake`]. The caller must
    /// re-check for new events afterwards (see the module docs).
    pub(super) fn park(&self, slot: &Slot, cx: &Context<'_>) {
        slot.waker.register(cx.waker());
        slot.parked.store(true, SeqCst);
        // A read in the common case: only the first to park after a walk writes the mark.
        if !self.marked.load(SeqCst) {
            self.marked.store(true, SeqCst);
        }
    }

    /// Wakes every parked watcher; called after new events were published.
    pub(super) fn wake(&self) {
        if !self.marked.load(SeqCst) {
            return;
        }
        if self.open.load(SeqCst) > DIRECT_WAKES && self.relay_running.load(SeqCst) {
            self.relay.notify_one();
        } else {
            self.wake_all();
        }
    }

    /// Clears the mark and wakes each parked watcher once.
    fn wake_all(&self) {
        self.wake_all_with(&mut Vec::new());
    }

    /// [`Wakeups::wake_all`] with `spill` for the wake-ups beyond the first few (the relay
    /// keeps one across rounds). The wakers are taken under the registry's lock and woken
    /// after it is released: a waker may run arbitrary code, even drop a watcher (which
    /// takes the lock to unregister).
    fn wake_all_with(&self, spill: &mut Vec<Waker>) {
        let mut first: [Option<Waker>; DIRECT_WAKES] = Default::default();
        {
            let slots = self.slots();
            if !self.marked.swap(false, SeqCst) {
                return;
            }
            let parked = slots
                .iter()
                .filter(|slot| slot.parked.load(SeqCst) && slot.parked.swap(false, SeqCst))
                .filter_map(|slot| slot.waker.take());
            for (i, waker) in parked.enumerate() {
                match first.get_mut(i) {
                    Some(f) => *f = Some(waker),
                    None => spill.push(waker),
                }
            }
        }
        for waker in first.into_iter().flatten().chain(spill.drain(..)) {
            waker.wake();
        }
    }

    /// Starts the relay on the current tokio runtime unless one is running; without a runtime,
    /// writers keep waking watchers directly.
    pub(super) fn start_relay(self: &Arc<Self>) {
        if self.relay_running.swap(true, SeqCst) {
            return;
        }
        // Only a multi-thread runtime runs the relay no matter what the caller's thread does.
        let handle = tokio::runtime::Handle::try_current()
            .ok()
            .filter(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        let Some(handle) = handle else {
            self.relay_running.store(false, SeqCst);
            return;
        };
        // Built outside the task so that it runs its `Drop` even if the task never starts.
        let guard = RelayGuard(self.clone());
        drop(handle.spawn(async move {
            let wakeups = &guard.0;
            let mut spill = Vec::new();
            loop {
                wakeups.relay.notified().await;
                if wakeups.closed.load(SeqCst) {
                    return;
                }
                wakeups.wake_all_with(&mut spill);
            }
        }));
    }

    /// Ends the relay (the kind's history was dropped).
    pub(super) fn close(&self) {
        self.closed.store(true, SeqCst);
        self.relay.notify_one();
    }
}

/// Marks the relay stopped and wakes everyone it might have owed a wake-up.
struct RelayGuard(Arc<Wakeups>);

impl Drop for RelayGuard {
    fn drop(&mut self) {
        self.0.relay_running.store(false, SeqCst);
        self.0.wake_all();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::atomic::AtomicU64;
    use std::task::Wake;

    /// A waker that counts its wake-ups.
    #[derive(Default)]
    struct Count(AtomicU64);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    fn watcher(w: &Wakeups) -> (Arc<Slot>, Arc<Count>, Waker) {
        let slot = Arc::new(Slot::default());
        w.register(&slot);
        let count = Arc::new(Count::default());
        let waker = Waker::from(count.clone());
        (slot, count, waker)
    }

    fn woken(c: &Count) -> u64 {
        c.0.load(SeqCst)
    }

    /// Parked watchers are woken once per wake-up round, however often they parked; watchers
    /// that did not park, and closed ones, are not woken; with nobody parked a wake-up costs
    /// no walk.
    #[test]
    fn wakes_each_parked_watcher_once() {
        let w = Wakeups::default();
        let (a, ca, wa) = watcher(&w);
        let (b, cb, wb) = watcher(&w);
        let (c, cc, wc) = watcher(&w);
        w.park(&a, &Context::from_waker(&wa));
        w.park(&a, &Context::from_waker(&wa));
        w.park(&b, &Context::from_waker(&wb));
        w.park(&c, &Context::from_waker(&wc));
        w.unregister(&c);
        assert_eq!(w.open.load(SeqCst), 2);
        w.wake();
        assert_eq!((woken(&ca), woken(&cb), woken(&cc)), (1, 1, 0));
        assert!(!w.marked.load(SeqCst));
        // Nobody parked since: nothing to do.
        w.wake();
        assert_eq!((woken(&ca), woken(&cb)), (1, 1));
        // Parking again is owed the next round's wake-up.
        w.park(&b, &Context::from_waker(&wb));
        w.wake();
        assert_eq!((woken(&ca), woken(&cb)), (1, 2));
    }

    /// The waker registered last is the one woken.
    #[test]
    fn wakes_the_latest_waker() {
        let w = Wakeups::default();
        let (a, old, wold) = watcher(&w);
        let new = Arc::new(Count::default());
        let wnew = Waker::from(new.clone());
        w.park(&a, &Context::from_waker(&wold));
        w.park(&a, &Context::from_waker(&wnew));
        w.wake();
        assert_eq!((woken(&old), woken(&new)), (0, 1));
    }

    /// A waker that drops a watcher when woken (as an executor may, dropping a task) does not
    /// deadlock on the registry; more parked watchers than the inline wake-ups spill over.
    #[test]
    fn a_waker_may_unregister_and_many_are_woken() {
        struct DropOnWake {
            wakeups: Arc<Wakeups>,
            slot: Mutex<Option<Arc<Slot>>>,
            count: AtomicU64,
        }
        impl Wake for DropOnWake {
            fn wake(self: Arc<Self>) {
                if let Some(slot) = self.slot.lock().unwrap().take() {
                    self.wakeups.unregister(&slot);
                }
                self.count.fetch_add(1, SeqCst);
            }
        }
        let w = Arc::new(Wakeups::default());
        let slots: Vec<_> = (0..3 * DIRECT_WAKES)
            .map(|_| {
                let slot = Arc::new(Slot::default());
                w.register(&slot);
                let waker = Arc::new(DropOnWake {
                    wakeups: w.clone(),
                    slot: Mutex::new(Some(slot.clone())),
                    count: AtomicU64::new(0),
                });
                w.park(&slot, &Context::from_waker(&Waker::from(waker.clone())));
                waker
            })
            .collect();
        w.wake();
        assert!(slots.iter().all(|s| s.count.load(SeqCst) == 1));
        assert_eq!(w.open.load(SeqCst), 0, "every woken watcher unregistered");
    }
}

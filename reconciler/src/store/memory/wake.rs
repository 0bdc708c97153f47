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
//! # No lost wake-ups
//! A watcher registers its waker, marks itself parked (SeqCst) and then re-checks the
//! history's published count (SeqCst); a writer publishes the count (SeqCst) and then reads
//! the parked count (SeqCst). In the single total order of those operations one side sees the
//! other: either the watcher sees the new event, or the writer sees the parked watcher.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Context;

use futures::task::AtomicWaker;
use tokio::sync::Notify;

/// Up to this many parked watchers are woken by the writer itself; more go through the relay.
const DIRECT_WAKES: usize = 4;

/// One watcher's parking slot.
#[derive(Debug, Default)]
pub(super) struct Slot {
    waker: AtomicWaker,
    /// In the parked list (or being woken).
    queued: AtomicBool,
}

/// The parked watchers of one kind and the relay that wakes them.
#[derive(Debug, Default)]
pub(super) struct Wakeups {
    parked: Mutex<Vec<Arc<Slot>>>,
    /// `parked.len()`, readable without the lock.
    parked_len: AtomicUsize,
    /// Wakes the relay task.
    relay: Notify,
    /// A relay task is running (or spawned and about to).
    relay_running: AtomicBool,
    /// The kind's history is gone: the relay ends.
    closed: AtomicBool,
}

impl Wakeups {
    fn parked(&self) -> MutexGuard<'_, Vec<Arc<Slot>>> {
        match self.parked.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Parks the watcher owning `slot` until the next [`Wakeups::wake`]. The caller must
    /// re-check for new events afterwards (see the module docs).
    pub(super) fn park(&self, slot: &Arc<Slot>, cx: &Context<'_>) {
        slot.waker.register(cx.waker());
        if !slot.queued.swap(true, SeqCst) {
            let mut parked = self.parked();
            parked.push(slot.clone());
            self.parked_len.store(parked.len(), SeqCst);
        }
    }

    /// Wakes every parked watcher; called after new events were published.
    pub(super) fn wake(&self) {
        let n = self.parked_len.load(SeqCst);
        if n == 0 {
            return;
        }
        if n > DIRECT_WAKES && self.relay_running.load(SeqCst) {
            self.relay.notify_one();
        } else {
            self.wake_all();
        }
    }

    /// Takes the parked list and wakes each watcher once.
    fn wake_all(&self) {
        let mut slots = {
            let mut parked = self.parked();
            self.parked_len.store(0, SeqCst);
            std::mem::take(&mut *parked)
        };
        for slot in &slots {
            slot.queued.store(false, SeqCst);
            slot.waker.wake();
        }
        // Hand the allocation back for the next round.
        slots.clear();
        let mut parked = self.parked();
        if parked.is_empty() && parked.capacity() < slots.capacity() {
            *parked = slots;
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
            loop {
                wakeups.relay.notified().await;
                if wakeups.closed.load(SeqCst) {
                    return;
                }
                wakeups.wake_all();
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

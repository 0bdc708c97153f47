//! The event history of one kind: an append-only chain of fixed-size chunks that the writer
//! fills under the store lock and watchers read without any lock.
//!
//! Each write appends one [`Event`] once; watchers keep their own cursor and filter for
//! themselves, so a write costs the same with 1 or 1,000 watchers, and a slow watcher holds
//! nothing up.
//!
//! # Who holds a chunk
//! The history holds its retained chunks; a watcher's cursor holds the one chunk it is
//! reading, so a read touches no shared reference count (with 100 watchers on 2 threads, the
//! upgrade of a shared `Weak` and its release were a contended cache line per delivery).
//! Chunks link to the next one *weakly*, so a cursor pins its own chunk and nothing after it:
//! a stalled watcher that never polls again keeps at most [`CHUNK`] events alive, however far
//! the history moves on. When the history outgrows its retention it drops its oldest chunk and
//! publishes the first sequence number it still holds ([`Shared::retained_from`]); a watcher
//! whose cursor is below it finds that out on its next read and ends with Expired.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use super::wake::Wakeups;
use crate::store::WatchEvent;
use crate::store::batch::WatchEventRef;
use crate::store::plan::Committed;

/// Events per chunk.
pub(super) const CHUNK: usize = 256;

/// What happened to an object: the shared [`ChangeKind`] (the history stores the same
/// [`Committed`] changes the other backends produce).
pub(super) use crate::store::plan::ChangeKind as EventKind;

/// One change, stored once and shared by every watcher: the new state (for Deleted: the last
/// state at the deletion's revision) and the state before it (None for Added), so watchers
/// with selectors can tell "started matching" from "stopped matching".
pub(super) type Event = Committed;

/// A fixed-size block of events; slots fill in order, `next` links to the following block.
#[derive(Debug)]
pub(super) struct Chunk {
    /// Sequence number of slot 0 (events are numbered 0, 1, 2, … per kind).
    pub(super) seq0: u64,
    slots: Box<[OnceLock<Event>]>,
    /// The following chunk, held weakly (see the module docs).
    next: OnceLock<Weak<Chunk>>,
}

/// The slots of one chunk, empty.
type Slots = Box<[OnceLock<Event>]>;

impl Chunk {
    /// A chunk starting at `seq0`, reusing `spare` slots when given (they must be empty).
    fn new(seq0: u64, spare: Option<Slots>) -> Arc<Self> {
        Arc::new(Chunk {
            seq0,
            slots: spare.unwrap_or_else(|| (0..CHUNK).map(|_| OnceLock::new()).collect()),
            next: OnceLock::new(),
        })
    }

    /// The event in slot `i`, once written.
    pub(super) fn get(&self, i: usize) -> Option<&Event> {
        self.slots.get(i).and_then(OnceLock::get)
    }

    /// The following chunk: `Ok(None)` until the writer starts it, `Err(())` once the history
    /// has dropped it (the reader fell behind the retention).
    pub(super) fn next(&self) -> Result<Option<Arc<Chunk>>, Dropped> {
        match self.next.get() {
            None => Ok(None),
            Some(next) => next.upgrade().map(Some).ok_or(Dropped),
        }
    }

    /// The events written so far, in order.
    pub(super) fn events(&self) -> impl Iterator<Item = &Event> {
        self.slots.iter().map_while(OnceLock::get)
    }
}

/// Consecutive events of one chunk, `start..end` (all written), held strongly for as long as
/// a [`WatchBatch`](crate::store::WatchBatch) borrows them: one reference count for the run.
#[derive(Debug)]
pub(in crate::store) struct HistoryRun {
    pub(super) chunk: Arc<Chunk>,
    pub(super) start: usize,
    pub(super) end: usize,
}

impl HistoryRun {
    /// How many events the run holds.
    pub(in crate::store) fn len(&self) -> usize {
        self.end - self.start
    }

    /// The run's events as an unfiltered watch sees them.
    pub(in crate::store) fn iter(&self) -> HistoryRunIter<'_> {
        HistoryRunIter {
            slots: self
                .chunk
                .slots
                .get(self.start..self.end)
                .unwrap_or(&[])
                .iter(),
        }
    }
}

/// The events of a [`HistoryRun`], objects borrowed.
#[derive(Debug)]
pub(in crate::store) struct HistoryRunIter<'a> {
    slots: std::slice::Iter<'a, OnceLock<Event>>,
}

impl<'a> Iterator for HistoryRunIter<'a> {
    type Item = WatchEventRef<'a>;

    #[inline]
    fn next(&mut self) -> Option<WatchEventRef<'a>> {
        // Every slot of a run was written before the run was made.
        let ev = self.slots.next()?.get()?;
        Some(unfiltered(ev))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.slots.len()))
    }
}

/// What an unfiltered watch sees for `ev`: the change as stored (the same as
/// [`plan::watch_event`](crate::store::plan::watch_event) with a selection that selects all).
#[inline]
fn unfiltered(ev: &Event) -> WatchEventRef<'_> {
    match ev.kind {
        EventKind::Added => WatchEvent::Added(&ev.object),
        EventKind::Modified if ev.prev.is_none() => WatchEvent::Added(&ev.object),
        EventKind::Modified => WatchEvent::Modified(&ev.object),
        EventKind::Deleted => WatchEvent::Deleted(&ev.object),
    }
}

/// The chunk after a reader's was already dropped from the history.
#[derive(Debug)]
pub(super) struct Dropped;

/// A watcher's position: the chunk it reads (held, see the module docs) and the next slot.
#[derive(Clone, Debug)]
pub(super) struct Cursor {
    pub(super) chunk: Arc<Chunk>,
    pub(super) slot: usize,
    pub(super) seq: u64,
}

/// A watcher's published position and delivery count, for metrics. Only its watcher writes
/// it (plain stores, no shared counter per delivery); readers sum the open watchers' probes.
#[derive(Debug, Default)]
pub(super) struct Probe {
    pub(super) seq: AtomicU64,
    /// Events this watcher handed out.
    pub(super) sent: AtomicU64,
}

impl Probe {
    /// Counts `n` more events handed out (the owning watcher only).
    pub(super) fn count_sent(&self, n: u64) {
        self.sent
            .store(self.sent.load(Ordering::Relaxed) + n, Ordering::Relaxed);
    }
}

/// The open watchers' probes, and what closed ones handed out.
#[derive(Debug, Default)]
pub(super) struct Probes {
    open: Vec<Arc<Probe>>,
    /// Events handed out by watchers that have closed.
    closed_sent: u64,
}

/// The lock-free side of a history: wake-ups and metrics.
#[derive(Debug, Default)]
pub(super) struct Shared {
    /// Parked watchers, woken after appends.
    pub(super) wake: Arc<Wakeups>,
    /// Events appended so far (published with SeqCst, see [`Wakeups`]).
    pub(super) appended: AtomicU64,
    /// The sequence number of the oldest event the history still holds: a cursor below it
    /// has expired (published with SeqCst before the wake-up that follows the drop).
    pub(super) retained_from: AtomicU64,
    /// Open watchers' probes.
    pub(super) probes: Mutex<Probes>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.wake.close();
    }
}

impl Shared {
    fn probes(&self) -> std::sync::MutexGuard<'_, Probes> {
        match self.probes.lock() {
            Ok(p) => p,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// `(open watchers, max depth, total depth, events handed out)`: the count includes
    /// closed watchers' (folded in under the same lock as their removal, so it never goes
    /// backwards).
    pub(super) fn depths(&self) -> (u64, u64, u64, u64) {
        let appended = self.appended.load(Ordering::Acquire);
        let probes = self.probes();
        let (mut max, mut total, mut sent) = (0, 0, probes.closed_sent);
        for p in &probes.open {
            let d = appended.saturating_sub(p.seq.load(Ordering::Relaxed));
            max = max.max(d);
            total += d;
            sent += p.sent.load(Ordering::Relaxed);
        }
        (probes.open.len() as u64, max, total, sent)
    }

    /// Registers a watcher's probe.
    pub(super) fn register(&self, probe: &Arc<Probe>) {
        self.probes().open.push(probe.clone());
    }

    /// Removes a closing watcher's probe, keeping its count.
    pub(super) fn unregister(&self, probe: &Arc<Probe>) {
        let mut probes = self.probes();
        if let Some(i) = probes.open.iter().position(|p| Arc::ptr_eq(p, probe)) {
            probes.open.swap_remove(i);
            probes.closed_sent += probe.sent.load(Ordering::Relaxed);
        }
    }
}

/// The writer's side of a history (lives under the store lock).
#[derive(Debug)]
pub(super) struct History {
    chunks: VecDeque<Arc<Chunk>>,
    tail_len: usize,
    retained: usize,
    capacity: usize,
    /// Every event at or below this revision is gone from the history.
    floor: u64,
    /// The emptied slots of a dropped chunk, for the next chunk: a chunk's slots are one
    /// ~10 KiB allocation, and allocating one every 256 writes made glibc consolidate its
    /// free lists on the write path.
    spare: Option<Slots>,
    pub(super) shared: Arc<Shared>,
}

impl History {
    /// An empty history keeping at least `capacity` events.
    pub(super) fn new(capacity: usize) -> Self {
        let mut chunks = VecDeque::new();
        chunks.push_back(Chunk::new(0, None));
        History {
            chunks,
            tail_len: 0,
            retained: 0,
            capacity: capacity.max(CHUNK),
            floor: 0,
            spare: None,
            shared: Arc::new(Shared::default()),
        }
    }

    /// The revision at or below which events have been dropped.
    pub(super) fn floor(&self) -> u64 {
        self.floor
    }

    fn tail(&self) -> &Arc<Chunk> {
        // `chunks` is never empty: `new` pushes one and `pop_front` keeps the last.
        &self.chunks[self.chunks.len() - 1]
    }

    /// Appends an event; returns the chunks dropped to stay within retention (their events'
    /// keys may now be pruned down to [`History::floor`]).
    pub(super) fn append(&mut self, event: Event) -> Vec<Arc<Chunk>> {
        if self.tail_len == CHUNK {
            let next = Chunk::new(self.tail().seq0 + CHUNK as u64, self.spare.take());
            let _ = self.tail().next.set(Arc::downgrade(&next));
            self.chunks.push_back(next);
            self.tail_len = 0;
        }
        let _ = self.tail().slots[self.tail_len].set(event);
        self.tail_len += 1;
        self.retained += 1;
        self.shared.appended.fetch_add(1, Ordering::SeqCst);
        let mut dropped = Vec::new();
        while self.chunks.len() > 1 && self.retained - CHUNK >= self.capacity {
            if let Some(c) = self.pop_front() {
                dropped.push(c);
            }
        }
        dropped
    }

    /// Takes back the slots of dropped chunks (once the caller is done with their events):
    /// a chunk no watcher is reading any more is emptied and kept for the next chunk; its
    /// events (and the object versions only they held) are freed here.
    pub(super) fn recycle(&mut self, dropped: Vec<Arc<Chunk>>) {
        for chunk in dropped {
            // Watchers hold chunks weakly; one being read right now stays with its reader.
            let Ok(chunk) = Arc::try_unwrap(chunk) else {
                continue;
            };
            let mut slots = chunk.slots;
            for slot in slots.iter_mut() {
                drop(slot.take());
            }
            self.spare = Some(slots);
        }
    }

    fn pop_front(&mut self) -> Option<Arc<Chunk>> {
        let c = self.chunks.pop_front()?;
        self.retained -= CHUNK;
        if let Some(front) = self.chunks.front() {
            self.shared
                .retained_from
                .store(front.seq0, Ordering::SeqCst);
        }
        if let Some(last) = c.events().last() {
            self.floor = self.floor.max(last.revision);
        }
        Some(c)
    }

    /// Drops every full chunk whose events are all at or below `revision`.
    pub(super) fn compact(&mut self, revision: u64) -> Vec<Arc<Chunk>> {
        let mut dropped = Vec::new();
        while self.chunks.len() > 1 {
            let done = self.chunks[0]
                .events()
                .last()
                .is_none_or(|e| e.revision <= revision);
            if !done {
                break;
            }
            if let Some(c) = self.pop_front() {
                dropped.push(c);
            }
        }
        self.floor = self.floor.max(revision);
        dropped
    }

    /// The cursor just past the last event.
    pub(super) fn tail_cursor(&self) -> Cursor {
        let tail = self.tail();
        Cursor {
            chunk: tail.clone(),
            slot: self.tail_len,
            seq: tail.seq0 + self.tail_len as u64,
        }
    }

    /// The cursor at the first event with a revision greater than `revision`
    /// (the caller has checked `revision >= floor`).
    pub(super) fn cursor_after(&self, revision: u64) -> Cursor {
        // Chunks are in revision order: find the first whose last event is newer.
        let idx = self.chunks.partition_point(|c| {
            c.events().last().is_some_and(|e| e.revision <= revision) && c.get(CHUNK - 1).is_some()
        });
        let Some(chunk) = self.chunks.get(idx) else {
            return self.tail_cursor();
        };
        let slot = chunk
            .events()
            .take_while(|e| e.revision <= revision)
            .count();
        Cursor {
            chunk: chunk.clone(),
            slot,
            seq: chunk.seq0 + slot as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use kybern_core::DynamicObject;
    use kybern_core::api::core::v1::ConfigMap;
    use kybern_core::{ApiResource, Resource};

    fn event(revision: u64) -> Event {
        let r: ApiResource = ConfigMap::api_resource(&());
        Event {
            kind: EventKind::Added,
            revision,
            object: Arc::new(DynamicObject::new("o", &r)),
            prev: None,
        }
    }

    /// A cursor holds its own chunk and nothing after it: once the history drops the chunks
    /// after a stalled cursor, they are freed, and the cursor learns it fell behind.
    #[test]
    fn stalled_cursor_pins_only_its_own_chunk() {
        let mut h = History::new(CHUNK);
        let stalled = h.tail_cursor();
        let mut revision = 0;
        let mut append = |h: &mut History, n: usize| {
            for _ in 0..n {
                revision += 1;
                let dropped = h.append(event(revision));
                h.recycle(dropped);
            }
        };
        append(&mut h, CHUNK + 1);
        let second = Arc::downgrade(&stalled.chunk.next().unwrap().unwrap());
        assert_eq!(second.upgrade().unwrap().seq0, CHUNK as u64);
        assert_eq!(h.shared.retained_from.load(Ordering::SeqCst), 0);
        // Enough for the history to drop the first two chunks.
        append(&mut h, 3 * CHUNK);
        assert!(second.upgrade().is_none(), "the second chunk is freed");
        assert!(stalled.chunk.next().is_err(), "the cursor sees the gap");
        assert!(h.shared.retained_from.load(Ordering::SeqCst) > stalled.seq);
        // The stalled cursor's own chunk is still readable.
        assert_eq!(stalled.chunk.get(0).map(|e| e.revision), Some(1));
        assert_eq!(stalled.chunk.events().count(), CHUNK);
    }

    /// `retained_from` follows compaction too, and a cursor at a retained chunk is not behind.
    #[test]
    fn retained_from_tracks_dropped_chunks() {
        let mut h = History::new(4 * CHUNK);
        for revision in 1..=(3 * CHUNK as u64) {
            let dropped = h.append(event(revision));
            assert!(dropped.is_empty());
        }
        assert_eq!(h.shared.retained_from.load(Ordering::SeqCst), 0);
        let dropped = h.compact(CHUNK as u64 + 10);
        assert_eq!(
            dropped.len(),
            1,
            "only the first chunk is wholly at or below"
        );
        assert_eq!(h.shared.retained_from.load(Ordering::SeqCst), CHUNK as u64);
        let c = h.cursor_after(CHUNK as u64 + 10);
        assert!(c.seq >= h.shared.retained_from.load(Ordering::SeqCst));
        assert_eq!(c.seq, CHUNK as u64 + 10);
    }
}

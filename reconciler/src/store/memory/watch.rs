//! A MemoryStore watch: a cursor into one kind's history, filtered per watcher, turned into a
//! stream of events (with selector transitions and periodic bookmarks).
//!
//! The stream is polled directly (no async state machine moved per event): a wake-up drains
//! every available event (up to [`BATCH`]) into a local queue with one chunk upgrade, the
//! following polls pop from it, and only when the history has nothing new does the watcher
//! park (see [`super::wake`]).
//!
//! The same watcher also runs as a stream of [`WatchBatch`]es ([`Batches`]): an unfiltered
//! watcher then gets every event available in its current chunk as one [`HistoryRun`] (one
//! reference count for the run, no queue, no per-event copy); a filtered one gets the events
//! its drain produced, as one owned batch.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use futures::Stream;
use kybern_core::{ApiResource, DynamicObject};

use super::Inner;
use super::history::{CHUNK, Cursor, HistoryRun, Probe, Shared};
use super::wake::Slot;
use crate::store::batch::{WatchBatch, WatchBatchStream};
use crate::store::plan;
use crate::store::selection::Selection;
use crate::store::{Bookmark, StoreError, WatchEvent, WatchStream};

/// Events read from the history per drain before handing them out (bounds the local queue).
const BATCH: usize = 1024;

type Item = Result<WatchEvent<Arc<DynamicObject>>, StoreError>;

/// One open watch. `repr(C)` keeps declaration order: the fields every delivery touches come
/// first and share two or three cache lines (a watcher task polled on the other worker than
/// last time misses on each line it touches), the rest follow.
#[repr(C)]
pub(super) struct Watcher {
    pub(super) cursor: Cursor,
    pub(super) pending: VecDeque<WatchEvent<Arc<DynamicObject>>>,
    pub(super) shared: Arc<Shared>,
    pub(super) probe: Arc<Probe>,
    pub(super) slot: Arc<Slot>,
    /// Skip events at or below this revision.
    pub(super) after: u64,
    /// The newest revision this watcher has passed.
    pub(super) last_revision: u64,
    /// `(history sequence, revision)`: send a bookmark at `revision` once the cursor reaches
    /// the sequence.
    pub(super) bookmark_due: Option<(u64, u64)>,
    pub(super) done: bool,
    pub(super) selection: Selection,
    pub(super) bookmarks: Option<tokio::time::Interval>,
    pub(super) inner: Arc<Inner>,
    pub(super) resource: ApiResource,
}

impl Watcher {
    /// The watcher as a stream of single events.
    pub(super) fn into_stream(self) -> WatchStream {
        Box::pin(Events(self))
    }

    /// The watcher as a stream of batches.
    pub(super) fn into_batches(self) -> WatchBatchStream {
        Box::pin(Batches(self))
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.shared.wake.unregister(&self.slot);
        self.shared.unregister(&self.probe);
    }
}

/// How a watcher hands out what it reads: one event per item, or batches.
trait Output {
    /// The stream's item.
    type Out;
    /// Takes what is already queued (the initial state, or a previous drain).
    fn take_queued(w: &mut Watcher) -> Option<Self::Out>;
    /// Reads from the history; `None` when nothing new passed the watcher's filter.
    fn read(w: &mut Watcher) -> Result<Option<Self::Out>, StoreError>;
    /// A bookmark as an item.
    fn bookmark(b: Bookmark) -> Self::Out;
}

/// [`Watcher`] as a per-event [`WatchStream`].
struct Events(Watcher);

impl Output for Events {
    type Out = WatchEvent<Arc<DynamicObject>>;

    fn take_queued(w: &mut Watcher) -> Option<Self::Out> {
        w.pending.pop_front()
    }

    fn read(w: &mut Watcher) -> Result<Option<Self::Out>, StoreError> {
        w.drain()?;
        Ok(w.pending.pop_front())
    }

    fn bookmark(b: Bookmark) -> Self::Out {
        WatchEvent::Bookmark(b)
    }
}

/// [`Watcher`] as a [`WatchBatchStream`].
struct Batches(Watcher);

impl Output for Batches {
    type Out = WatchBatch;

    fn take_queued(w: &mut Watcher) -> Option<WatchBatch> {
        (!w.pending.is_empty()).then(|| WatchBatch::from_events(w.pending.drain(..).collect()))
    }

    fn read(w: &mut Watcher) -> Result<Option<WatchBatch>, StoreError> {
        if w.selection.selects_all() {
            return Ok(w.read_run()?.map(WatchBatch::from_run));
        }
        w.drain()?;
        Ok(Self::take_queued(w))
    }

    fn bookmark(b: Bookmark) -> WatchBatch {
        WatchBatch::from_events(vec![WatchEvent::Bookmark(b)])
    }
}

impl Stream for Events {
    type Item = Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        poll_watcher::<Self>(&mut self.get_mut().0, cx)
    }
}

impl Stream for Batches {
    type Item = Result<WatchBatch, StoreError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        poll_watcher::<Self>(&mut self.get_mut().0, cx)
    }
}

/// One poll of a watcher: queued events, then the history, then a due bookmark; parks when
/// there is nothing.
fn poll_watcher<O: Output>(
    this: &mut Watcher,
    cx: &mut Context<'_>,
) -> Poll<Option<Result<O::Out, StoreError>>> {
    loop {
        if let Some(out) = O::take_queued(this) {
            return Poll::Ready(Some(Ok(out)));
        }
        if this.done {
            return Poll::Ready(None);
        }
        match O::read(this) {
            Err(e) => {
                this.done = true;
                this.inner
                    .metrics
                    .watchers_expired
                    .fetch_add(1, Ordering::Relaxed);
                return Poll::Ready(Some(Err(e)));
            }
            Ok(Some(out)) => return Poll::Ready(Some(Ok(out))),
            Ok(None) => {}
        }
        if let Some((seq, rev)) = this.bookmark_due
            && this.cursor.seq >= seq
        {
            this.bookmark_due = None;
            return Poll::Ready(Some(Ok(O::bookmark(Bookmark::at(rev.max(this.after))))));
        }
        if let Some(interval) = this.bookmarks.as_mut()
            && interval.poll_tick(cx).is_ready()
        {
            this.schedule_bookmark();
            continue;
        }
        this.shared.wake.park(&this.slot, cx);
        if this.has_next() {
            continue;
        }
        return Poll::Pending;
    }
}

impl Watcher {
    fn schedule_bookmark(&mut self) {
        let (seq, rev) = self.inner.bookmark_point(&self.resource);
        self.bookmark_due = Some((seq, rev));
    }

    /// Whether the history has events past the cursor (or dropped the cursor's chunk).
    fn has_next(&self) -> bool {
        self.has_new() || self.behind()
    }

    /// Whether the history has events past the cursor.
    fn has_new(&self) -> bool {
        // SeqCst pairs with the writer's publish (see `wake`).
        self.shared.appended.load(Ordering::SeqCst) > self.cursor.seq
    }

    /// Whether the history has dropped events the cursor has not read (it fell behind).
    fn behind(&self) -> bool {
        self.shared.retained_from.load(Ordering::SeqCst) > self.cursor.seq
    }

    fn expired(&self) -> StoreError {
        let floor = self.inner.floor(&self.resource);
        StoreError::too_old(self.last_revision, floor)
    }

    /// Reads up to [`BATCH`] events into `pending`.
    fn drain(&mut self) -> Result<(), StoreError> {
        if self.behind() {
            return Err(self.expired());
        }
        if !self.has_new() {
            return Ok(());
        }
        let queued = self.pending.len();
        let Watcher {
            cursor,
            pending,
            selection,
            resource,
            after,
            last_revision,
            ..
        } = self;
        let mut n = 0;
        let mut dropped = false;
        while n < BATCH {
            if cursor.slot == CHUNK {
                match cursor.chunk.next() {
                    Ok(Some(next)) => {
                        cursor.chunk = next;
                        cursor.slot = 0;
                    }
                    Ok(None) => break,
                    Err(_) => {
                        dropped = true;
                        break;
                    }
                }
            }
            let Some(ev) = cursor.chunk.get(cursor.slot) else {
                break;
            };
            cursor.slot += 1;
            cursor.seq += 1;
            n += 1;
            if ev.revision <= *after {
                continue;
            }
            *last_revision = ev.revision;
            if let Some(out) = plan::watch_event(selection, resource, ev) {
                pending.push_back(out);
            }
        }
        self.probe.seq.store(self.cursor.seq, Ordering::Relaxed);
        let delivered = (self.pending.len() - queued) as u64;
        self.probe.count_sent(delivered);
        // What was read before the gap is still handed out; the next read reports it.
        if dropped && delivered == 0 {
            return Err(self.expired());
        }
        Ok(())
    }

    /// Reads every event available in the cursor's chunk (moving to the next chunk first when
    /// the cursor is at the end of one) as one run, for an unfiltered watcher.
    fn read_run(&mut self) -> Result<Option<HistoryRun>, StoreError> {
        if self.behind() {
            return Err(self.expired());
        }
        if !self.has_new() {
            return Ok(None);
        }
        loop {
            if self.cursor.slot == CHUNK {
                match self.cursor.chunk.next() {
                    Ok(Some(next)) => {
                        self.cursor.chunk = next;
                        self.cursor.slot = 0;
                    }
                    Ok(None) => return Ok(None),
                    Err(_) => return Err(self.expired()),
                }
            }
            let chunk = &self.cursor.chunk;
            // Slots below the published count are written (the count is published after the
            // slot, see `History::append`).
            let published = self.shared.appended.load(Ordering::Acquire);
            let start = self.cursor.slot;
            let end = usize::try_from(published.saturating_sub(chunk.seq0))
                .unwrap_or(CHUNK)
                .min(CHUNK);
            if end <= start {
                return Ok(None);
            }
            // Events at or below the watch's starting revision are skipped.
            let first = start
                + (start..end)
                    .take_while(|&i| chunk.get(i).is_some_and(|e| e.revision <= self.after))
                    .count();
            let last = chunk.get(end - 1).map(|e| e.revision);
            self.cursor.slot = end;
            self.cursor.seq += (end - start) as u64;
            self.probe.seq.store(self.cursor.seq, Ordering::Relaxed);
            if first == end {
                continue;
            }
            if let Some(last) = last {
                self.last_revision = last;
            }
            self.probe.count_sent((end - first) as u64);
            return Ok(Some(HistoryRun {
                chunk: self.cursor.chunk.clone(),
                start: first,
                end,
            }));
        }
    }
}

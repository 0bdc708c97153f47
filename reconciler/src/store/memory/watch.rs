//! A MemoryStore watch: a cursor into one kind's history, filtered per watcher, turned into a
//! stream of events (with selector transitions and periodic bookmarks).
//!
//! The stream is polled directly (no async state machine moved per event): a wake-up drains
//! every available event (up to [`BATCH`]) into a local queue with one chunk upgrade, the
//! following polls pop from it, and only when the history has nothing new does the watcher
//! park (see [`super::wake`]).

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use futures::Stream;
use kybern_core::{ApiResource, DynamicObject};

use super::Inner;
use super::history::{CHUNK, Cursor, Probe, Shared};
use super::wake::Slot;
use crate::store::plan;
use crate::store::selection::Selection;
use crate::store::{Bookmark, StoreError, WatchEvent, WatchStream};

/// Events read from the history per drain before handing them out (bounds the local queue).
const BATCH: usize = 1024;

type Item = Result<WatchEvent<Arc<DynamicObject>>, StoreError>;

/// One open watch.
pub(super) struct Watcher {
    pub(super) inner: Arc<Inner>,
    pub(super) resource: ApiResource,
    pub(super) shared: Arc<Shared>,
    pub(super) cursor: Cursor,
    pub(super) selection: Selection,
    /// Skip events at or below this revision.
    pub(super) after: u64,
    /// The newest revision this watcher has passed.
    pub(super) last_revision: u64,
    pub(super) pending: VecDeque<WatchEvent<Arc<DynamicObject>>>,
    pub(super) bookmarks: Option<tokio::time::Interval>,
    /// `(history sequence, revision)`: send a bookmark at `revision` once the cursor reaches
    /// the sequence.
    pub(super) bookmark_due: Option<(u64, u64)>,
    pub(super) probe: Arc<Probe>,
    pub(super) slot: Arc<Slot>,
    pub(super) done: bool,
}

impl Watcher {
    /// The watcher as a stream.
    pub(super) fn into_stream(self) -> WatchStream {
        Box::pin(self)
    }
}

impl Stream for Watcher {
    type Item = Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        let this = self.get_mut();
        loop {
            if let Some(ev) = this.pending.pop_front() {
                return Poll::Ready(Some(Ok(ev)));
            }
            if this.done {
                return Poll::Ready(None);
            }
            if let Err(e) = this.drain() {
                this.done = true;
                this.inner
                    .metrics
                    .watchers_expired
                    .fetch_add(1, Ordering::Relaxed);
                return Poll::Ready(Some(Err(e)));
            }
            if !this.pending.is_empty() {
                continue;
            }
            if let Some((seq, rev)) = this.bookmark_due
                && this.cursor.seq >= seq
            {
                this.bookmark_due = None;
                let b = WatchEvent::Bookmark(Bookmark {
                    resource_version: rev.max(this.after).to_string(),
                });
                return Poll::Ready(Some(Ok(b)));
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
}

impl Watcher {
    fn schedule_bookmark(&mut self) {
        let (seq, rev) = self.inner.bookmark_point(&self.resource);
        self.bookmark_due = Some((seq, rev));
    }

    /// Whether the history has events past the cursor (or dropped the cursor's chunk).
    fn has_next(&self) -> bool {
        // SeqCst pairs with the writer's publish (see `wake`).
        self.shared.appended.load(Ordering::SeqCst) > self.cursor.seq
            || self.cursor.chunk.strong_count() == 0
    }

    fn expired(&self) -> StoreError {
        let floor = self.inner.floor(&self.resource);
        StoreError::too_old(self.last_revision, floor)
    }

    /// Reads up to [`BATCH`] events into `pending`.
    fn drain(&mut self) -> Result<(), StoreError> {
        let Some(mut chunk) = self.cursor.chunk.upgrade() else {
            return Err(self.expired());
        };
        let mut n = 0;
        let queued = self.pending.len();
        while n < BATCH {
            if self.cursor.slot == CHUNK {
                let Some(next) = chunk.next().cloned() else {
                    break;
                };
                self.cursor.chunk = Arc::downgrade(&next);
                self.cursor.slot = 0;
                chunk = next;
            }
            let Some(ev) = chunk.get(self.cursor.slot) else {
                break;
            };
            self.cursor.slot += 1;
            self.cursor.seq += 1;
            n += 1;
            if ev.revision <= self.after {
                continue;
            }
            self.last_revision = ev.revision;
            if let Some(out) = plan::watch_event(&self.selection, &self.resource, ev) {
                self.pending.push_back(out);
            }
        }
        self.probe.seq.store(self.cursor.seq, Ordering::Relaxed);
        // Counted per batch, not per event: one shared atomic per wake-up, not per delivery.
        let delivered = (self.pending.len() - queued) as u64;
        if delivered > 0 {
            self.inner
                .metrics
                .watch_events_sent
                .fetch_add(delivered, Ordering::Relaxed);
        }
        Ok(())
    }
}

//! A MemoryStore watch: a cursor into one kind's history, filtered per watcher, turned into a
//! stream of events (with selector transitions and periodic bookmarks).

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use kybern_core::{ApiResource, DynamicObject};

use super::Inner;
use super::history::{CHUNK, Cursor, Event, EventKind, Probe, Shared};
use crate::store::selection::Selection;
use crate::store::{Bookmark, StoreError, WatchEvent, WatchStream};

/// Events read from the history per wake-up before yielding (fairness between watchers).
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
    pub(super) done: bool,
}

impl Watcher {
    /// The watcher as a stream.
    pub(super) fn into_stream(self) -> WatchStream {
        Box::pin(futures::stream::unfold(self, Watcher::next))
    }

    async fn next(mut self) -> Option<(Item, Self)> {
        loop {
            if let Some(ev) = self.pending.pop_front() {
                return Some((Ok(ev), self));
            }
            if self.done {
                return None;
            }
            if let Err(e) = self.drain() {
                self.done = true;
                self.inner
                    .metrics
                    .watchers_expired
                    .fetch_add(1, Ordering::Relaxed);
                return Some((Err(e), self));
            }
            if !self.pending.is_empty() {
                continue;
            }
            if let Some((seq, rev)) = self.bookmark_due
                && self.cursor.seq >= seq
            {
                self.bookmark_due = None;
                let b = WatchEvent::Bookmark(Bookmark {
                    resource_version: rev.max(self.after).to_string(),
                });
                return Some((Ok(b), self));
            }
            let shared = self.shared.clone();
            let notified = shared.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.has_next() {
                continue;
            }
            match self.bookmarks.as_mut() {
                Some(interval) => {
                    tokio::select! {
                        _ = &mut notified => {}
                        _ = interval.tick() => self.schedule_bookmark(),
                    }
                }
                None => notified.await,
            }
        }
    }

    fn schedule_bookmark(&mut self) {
        let (seq, rev) = self.inner.bookmark_point(&self.resource);
        self.bookmark_due = Some((seq, rev));
    }

    fn has_next(&self) -> bool {
        let Some(chunk) = self.cursor.chunk.upgrade() else {
            return true;
        };
        if self.cursor.slot == CHUNK {
            chunk.next().is_some()
        } else {
            chunk.get(self.cursor.slot).is_some()
        }
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
            if let Some(out) = self.convert(ev) {
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

    /// The event this watcher sees, upstream's watch-cache rules: an object that starts
    /// matching is ADDED, one that stops matching is DELETED (its previous state at the new
    /// revision).
    fn convert(&self, ev: &Event) -> Option<WatchEvent<Arc<DynamicObject>>> {
        let sel = &self.selection;
        let now = sel.matches(&self.resource, &ev.object);
        match ev.kind {
            EventKind::Added => now.then(|| WatchEvent::Added(ev.object.clone())),
            EventKind::Deleted => now.then(|| WatchEvent::Deleted(ev.object.clone())),
            EventKind::Modified => {
                let before = ev
                    .prev
                    .as_ref()
                    .is_some_and(|p| sel.matches(&self.resource, p));
                match (before, now) {
                    (true, true) => Some(WatchEvent::Modified(ev.object.clone())),
                    (false, true) => Some(WatchEvent::Added(ev.object.clone())),
                    (true, false) => {
                        let prev = ev.prev.as_ref()?;
                        let mut gone = DynamicObject::clone(prev);
                        gone.metadata.resource_version = Some(ev.revision.to_string());
                        Some(WatchEvent::Deleted(Arc::new(gone)))
                    }
                    (false, false) => None,
                }
            }
        }
    }
}

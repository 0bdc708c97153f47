//! Batched watches: [`WatchBatch`], a run of consecutive watch events handed out as one stream
//! item, and the adapter that turns any backend's per-event [`WatchStream`] into batches.
//!
//! # Why batches
//! A per-event stream pays, for every event and every watcher, one poll and one reference
//! count increment and decrement on the event's object — a counter that every other watcher
//! of the kind, on every core, touches too. A batch is one poll for every event available,
//! and the [`MemoryStore`](super::MemoryStore) hands unfiltered watchers a batch that borrows
//! the events straight from its history: one reference count for the whole run, none per
//! event. [`Store::watch_batches`](super::Store::watch_batches) delivers exactly the events,
//! in exactly the order, that [`Store::watch`](super::Store::watch) would.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::Stream;
use kybern_core::DynamicObject;

use super::memory::HistoryRun;
use super::{StoreError, WatchEvent, WatchStream};

/// Most events one batch of [`batched`] holds.
const MAX_BATCH: usize = 1024;

/// A watch event with its object borrowed from a [`WatchBatch`].
pub type WatchEventRef<'a> = WatchEvent<&'a Arc<DynamicObject>>;

/// Consecutive events of one watch, in revision order (never empty).
///
/// A memory store's batch borrows its events from the store's history: while it is held, that
/// part of the history (and what was appended after it) stays in memory even if retention
/// drops it. Process a batch and drop it; keep what must outlive it with
/// [`WatchBatch::into_events`] or by cloning the objects.
#[derive(Debug)]
pub struct WatchBatch {
    repr: Repr,
}

#[derive(Debug)]
enum Repr {
    /// Events owned by the batch.
    Owned(Vec<WatchEvent<Arc<DynamicObject>>>),
    /// A run of a memory store's history, delivered as stored.
    Run(HistoryRun),
}

impl WatchBatch {
    /// A batch of owned events.
    pub fn from_events(events: Vec<WatchEvent<Arc<DynamicObject>>>) -> Self {
        WatchBatch {
            repr: Repr::Owned(events),
        }
    }

    /// A batch borrowing a run of a memory store's history.
    pub(super) fn from_run(run: HistoryRun) -> Self {
        WatchBatch {
            repr: Repr::Run(run),
        }
    }

    /// How many events the batch holds.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Owned(v) => v.len(),
            Repr::Run(r) => r.len(),
        }
    }

    /// Whether the batch holds no event.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The events, in order, objects borrowed (a bookmark's payload is copied).
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            inner: match &self.repr {
                Repr::Owned(v) => IterRepr::Owned(v.iter()),
                Repr::Run(r) => IterRepr::Run(r.iter()),
            },
        }
    }

    /// The events, in order, as owned events (one reference count per object).
    pub fn into_events(self) -> Vec<WatchEvent<Arc<DynamicObject>>> {
        match self.repr {
            Repr::Owned(v) => v,
            Repr::Run(r) => r.iter().map(|e| e.map(Arc::clone)).collect(),
        }
    }
}

impl<'a> IntoIterator for &'a WatchBatch {
    type Item = WatchEventRef<'a>;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// The events of a [`WatchBatch`], objects borrowed.
#[derive(Debug)]
pub struct Iter<'a> {
    inner: IterRepr<'a>,
}

#[derive(Debug)]
enum IterRepr<'a> {
    Owned(std::slice::Iter<'a, WatchEvent<Arc<DynamicObject>>>),
    Run(super::memory::HistoryRunIter<'a>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = WatchEventRef<'a>;

    #[inline]
    fn next(&mut self) -> Option<WatchEventRef<'a>> {
        match &mut self.inner {
            IterRepr::Owned(it) => it.next().map(WatchEvent::as_ref),
            IterRepr::Run(it) => it.next(),
        }
    }
}

/// The stream [`Store::watch_batches`](super::Store::watch_batches) returns: batches in
/// revision order, ending after an error exactly as the per-event [`WatchStream`] does.
pub type WatchBatchStream = Pin<Box<dyn Stream<Item = Result<WatchBatch, StoreError>> + Send>>;

/// Groups a per-event watch into batches: each poll gathers every event the stream has ready
/// (up to 1,024); an error is handed out after the events before it, and then the stream ends.
pub fn batched(events: WatchStream) -> WatchBatchStream {
    Box::pin(Batched {
        events,
        error: None,
        ended: false,
    })
}

struct Batched {
    events: WatchStream,
    /// An error read after some events: the next item.
    error: Option<StoreError>,
    /// The per-event stream ended (or ended with an error): never poll it again.
    ended: bool,
}

impl Stream for Batched {
    type Item = Result<WatchBatch, StoreError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(e) = this.error.take() {
            return Poll::Ready(Some(Err(e)));
        }
        let mut batch = Vec::new();
        let mut pending = false;
        while !this.ended && batch.len() < MAX_BATCH {
            match this.events.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(ev))) => batch.push(ev),
                Poll::Ready(Some(Err(e))) => {
                    this.ended = true;
                    if batch.is_empty() {
                        return Poll::Ready(Some(Err(e)));
                    }
                    this.error = Some(e);
                }
                Poll::Ready(None) => this.ended = true,
                Poll::Pending => {
                    pending = true;
                    break;
                }
            }
        }
        if !batch.is_empty() {
            return Poll::Ready(Some(Ok(WatchBatch::from_events(batch))));
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(None)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use futures::StreamExt as _;
    use kybern_core::Resource as _;
    use kybern_core::api::core::v1::ConfigMap;

    use super::*;
    use crate::store::Bookmark;

    /// An event of object `n` (its name), or a bookmark when `n` is 0.
    fn event(n: usize) -> WatchEvent<Arc<DynamicObject>> {
        if n == 0 {
            return WatchEvent::Bookmark(Bookmark::at(7));
        }
        let o = DynamicObject::new(&n.to_string(), &ConfigMap::api_resource(&()));
        WatchEvent::Modified(Arc::new(o))
    }

    fn name(ev: &WatchEventRef<'_>) -> String {
        match ev {
            WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) => {
                o.metadata.name.clone().unwrap_or_default()
            }
            WatchEvent::Bookmark(b) => format!("bookmark@{}", b.resource_version),
        }
    }

    type Item = Result<WatchEvent<Arc<DynamicObject>>, StoreError>;

    /// What `batched` hands out for a per-event stream whose items are all ready: each batch
    /// as its events' names, an error as `"ERR"`.
    async fn run(items: Vec<Item>) -> Vec<String> {
        let mut out = Vec::new();
        let mut s = batched(futures::stream::iter(items).boxed());
        while let Some(item) = s.next().await {
            out.push(match item {
                Ok(b) => {
                    assert_eq!(b.len(), b.iter().count());
                    b.iter().map(|e| name(&e)).collect::<Vec<_>>().join(",")
                }
                Err(_) => "ERR".into(),
            });
        }
        out
    }

    #[tokio::test]
    async fn batched_groups_ready_events_and_ends_after_an_error() {
        let err = || {
            Err(StoreError::Expired {
                message: "too old".into(),
            })
        };
        let cases: Vec<(&str, Vec<Item>, Vec<String>)> = vec![
            ("empty", vec![], vec![]),
            (
                "events then end",
                vec![Ok(event(1)), Ok(event(0)), Ok(event(2))],
                vec!["1,bookmark@7,2".into()],
            ),
            (
                "events, error, more (never read)",
                vec![Ok(event(1)), Ok(event(2)), err(), Ok(event(3))],
                vec!["1,2".into(), "ERR".into()],
            ),
            ("error first", vec![err(), Ok(event(1))], vec!["ERR".into()]),
        ];
        for (what, items, want) in cases {
            assert_eq!(run(items).await, want, "{what}");
        }
    }

    #[tokio::test]
    async fn batched_caps_a_batch() {
        let items = (1..=MAX_BATCH + 5).map(|n| Ok(event(n))).collect();
        let got = run(items).await;
        let sizes: Vec<usize> = got.iter().map(|b| b.split(',').count()).collect();
        assert_eq!(sizes, vec![MAX_BATCH, 5]);
    }

    #[test]
    fn into_events_keeps_order() {
        let b = WatchBatch::from_events(vec![event(2), event(0), event(1)]);
        let names: Vec<String> = b.into_events().iter().map(|e| name(&e.as_ref())).collect();
        assert_eq!(names, ["2", "bookmark@7", "1"]);
    }
}

//! EtcdStore watches: an etcd watch on a key prefix, pumped by a task into a bounded buffer,
//! converted to store events with upstream's watch-cache selector transitions.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use etcd_client::{EventType, GetOptions, WatchOptions as EtcdWatchOptions};
use futures::StreamExt as _;
use kybern_core::{ApiResource, DynamicObject};
use tokio::sync::mpsc;

use super::{EtcdFailure, EtcdStore, classify, decode, header_revision, other, to_etcd, to_store};
use crate::store::plan::{self, ChangeKind, Committed};
use crate::store::read::{WatchRead, WatchStart, check_not_older_than};
use crate::store::{Bookmark, StoreError, WatchEvent, WatchOptions, WatchStream};

type Item = Result<WatchEvent<Arc<DynamicObject>>, StoreError>;

/// Decrements the open-watch gauge when the pump ends.
struct Open(Arc<std::sync::atomic::AtomicU64>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl EtcdStore {
    pub(super) async fn watch_inner(
        &self,
        resource: &ApiResource,
        options: &WatchOptions,
    ) -> Result<WatchStream, StoreError> {
        let WatchRead { selection, start } = WatchRead::parse(resource, options)?;
        let keys = self.keys();
        let prefix = keys.range(resource, selection.namespace());
        let end = super::prefix_end(&prefix);
        let mut client = self.client().await?;
        let mut initial = Vec::new();
        let start = match start {
            WatchStart::After(r) => {
                // A watch from a compacted revision fails now, not on its first read.
                let probe = GetOptions::new()
                    .with_count_only()
                    .with_revision(to_etcd(r));
                if let Err(e) = client.get(prefix.as_str(), Some(probe)).await {
                    match classify(e) {
                        EtcdFailure::Compacted => {
                            let c = self.compaction_revision().await?;
                            return Err(StoreError::too_old(r, c));
                        }
                        EtcdFailure::Future => {}
                        EtcdFailure::Other(e) => return Err(e),
                    }
                }
                to_etcd(r) + 1
            }
            WatchStart::Now => {
                let resp = client
                    .get(prefix.as_str(), Some(GetOptions::new().with_count_only()))
                    .await
                    .map_err(other)?;
                header_revision(resp.header()) + 1
            }
            WatchStart::Initial {
                not_older_than,
                end_bookmark,
            } => {
                // Initial state: one ADDED per matching object, then changes after it.
                let resp = client
                    .get(
                        prefix.as_str(),
                        Some(GetOptions::new().with_range(end.clone())),
                    )
                    .await
                    .map_err(other)?;
                let at = header_revision(resp.header());
                let revision = to_store(at);
                check_not_older_than(not_older_than, revision)?;
                for kv in resp.kvs() {
                    let obj = decode(kv)?;
                    if selection.matches(resource, &obj) {
                        initial.push(Ok(WatchEvent::Added(Arc::new(obj))));
                    }
                }
                if end_bookmark {
                    initial.push(Ok(WatchEvent::Bookmark(Bookmark::initial_events_end(
                        revision,
                    ))));
                }
                at + 1
            }
        };
        let (mut watcher, mut stream) = client
            .watch(
                prefix.as_str(),
                Some(
                    EtcdWatchOptions::new()
                        .with_range(end)
                        .with_start_revision(start)
                        .with_prev_key(),
                ),
            )
            .await
            .map_err(other)?;
        let capacity = self.inner.config.watch_buffer.max(1);
        let (tx, rx) = mpsc::channel::<WatchEvent<Arc<DynamicObject>>>(capacity);
        let ended: Arc<Mutex<Option<StoreError>>> = Arc::default();
        let slot = ended.clone();
        let resource = resource.clone();
        let bookmarks = options.bookmarks;
        let period = self.inner.config.bookmark_interval;
        self.inner.watchers.fetch_add(1, Ordering::Relaxed);
        let open = Open(self.inner.watchers.clone());
        let mut last = start - 1;
        let mut delivered = to_store(last);
        tokio::spawn(async move {
            let _open = open;
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let fail = |e: StoreError| {
                if let Ok(mut s) = slot.lock() {
                    *s = Some(e);
                }
            };
            loop {
                tokio::select! {
                    _ = tx.closed() => break,
                    _ = ticks.tick(), if bookmarks => {
                        if let Err(e) = watcher.request_progress().await {
                            fail(other(e));
                            break;
                        }
                    }
                    msg = stream.message() => {
                        let resp = match msg {
                            Ok(Some(r)) => r,
                            Ok(None) => { fail(super::etcd_error("watch stream ended")); break; }
                            Err(e) => { fail(other(e)); break; }
                        };
                        if resp.canceled() || resp.compact_revision() > 0 {
                            fail(if resp.compact_revision() > 0 {
                                StoreError::too_old(to_store(last), to_store(resp.compact_revision()))
                            } else {
                                super::etcd_error(format!("watch canceled: {}", resp.cancel_reason()))
                            });
                            break;
                        }
                        if resp.events().is_empty() {
                            if bookmarks && !resp.created() {
                                let rev = header_revision(resp.header()).max(last);
                                let b = WatchEvent::Bookmark(Bookmark::at(to_store(rev)));
                                if tx.try_send(b).is_err() {
                                    fail(StoreError::too_old(delivered, to_store(rev)));
                                    break;
                                }
                            }
                            continue;
                        }
                        let mut overflow = None;
                        for ev in resp.events() {
                            let Some(kv) = ev.kv() else { continue };
                            let change = match convert(ev.event_type(), kv, ev.prev_kv()) {
                                Ok(Some(c)) => c,
                                Ok(None) => continue,
                                Err(e) => { overflow = Some(e); break; }
                            };
                            last = kv.mod_revision();
                            if let Some(out) = plan::watch_event(&selection, &resource, &change) {
                                if tx.try_send(out).is_err() {
                                    overflow = Some(StoreError::too_old(delivered, to_store(last)));
                                    break;
                                }
                                delivered = to_store(last);
                            }
                        }
                        if let Some(e) = overflow {
                            fail(e);
                            break;
                        }
                    }
                }
            }
            let _ = watcher.cancel().await;
        });
        let events =
            futures::stream::unfold((rx, ended, false), |(mut rx, ended, done)| async move {
                if done {
                    return None;
                }
                match rx.recv().await {
                    Some(ev) => Some((Ok(ev), (rx, ended, false))),
                    None => {
                        let e = ended.lock().ok().and_then(|mut s| s.take())?;
                        Some((Err(e), (rx, ended, true)))
                    }
                }
            });
        let initial: Vec<Item> = initial;
        Ok(Box::pin(futures::stream::iter(initial).chain(events)))
    }
}

/// One etcd event as a committed change (`None` for a delete without a previous value).
fn convert(
    kind: EventType,
    kv: &etcd_client::KeyValue,
    prev: Option<&etcd_client::KeyValue>,
) -> Result<Option<Committed>, StoreError> {
    let revision = to_store(kv.mod_revision());
    let prev = prev.map(decode).transpose()?.map(Arc::new);
    Ok(Some(match kind {
        EventType::Put => {
            let object = Arc::new(decode(kv)?);
            Committed {
                kind: if prev.is_some() {
                    ChangeKind::Modified
                } else {
                    ChangeKind::Added
                },
                revision,
                object,
                prev,
            }
        }
        EventType::Delete => {
            let Some(p) = prev else { return Ok(None) };
            let mut last = DynamicObject::clone(&p);
            last.metadata.resource_version = Some(revision.to_string());
            Committed {
                kind: ChangeKind::Deleted,
                revision,
                object: Arc::new(last),
                prev: Some(p),
            }
        }
    }))
}

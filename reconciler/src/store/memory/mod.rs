//! `MemoryStore`: the embedded, in-process store — per-kind ordered maps with multi-version
//! history, one lock per write, and lock-free watchers.
//!
//! # Layout
//! One `RwLock` guards the store state: the global revision, and per kind (group + plural) an
//! ordered map `namespace/name → versions` (etcd's key order) plus the kind's event `history`. Each key keeps
//! the versions written since the compaction floor (and the newest one at or below it), so a
//! list can read the state at any retained revision and pagination stays consistent at the
//! first page's revision. A write takes the write lock once: check, assign the next revision,
//! push the version, append the event, release; then it wakes the kind's parked watchers
//! (see `wake.rs`: coalesced, and relayed through one task when there are many). Kinds are
//! interned (group → plural → index), so finding a kind allocates nothing.
//!
//! # Retention
//! Each kind keeps at least [`MemoryStoreConfig::history`] events (rounded up to whole
//! chunks of 256). Older events are dropped as new ones arrive, and with them the object
//! versions only they needed: reads and watches below the dropped range get Expired (410).
//! [`Store::compact`] drops history explicitly, as etcd's compaction does.
//!
//! A watcher keeps the history chunk it is reading alive while it reads it, so a stream that
//! is never polled again (but not dropped) holds at most one chunk — 256 events and the object
//! versions they share — past the retention; it ends with Expired on its next read.

mod history;
mod index;
mod wake;
mod watch;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::Bound;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use kybern_core::{ApiResource, DynamicObject};
use tracing::Instrument as _;

use self::history::{Chunk, Event, EventKind, History, Probe};
pub(in crate::store) use self::history::{HistoryRun, HistoryRunIter};
use self::watch::Watcher;
use super::continue_token::ContinueToken;
use super::metrics::{Metrics, Operation};
use super::read::{LIST_TOO_OLD, ListRead, ReadAt, WatchRead, WatchStart, check_not_older_than};
use super::rules::{self, DeletePlan, UpdatePlan};
use super::{
    Bookmark, CONTINUE_EXPIRED, DeleteOptions, DeleteOutcome, ListOptions, ObjectPage, Store,
    StoreError, StoreMetrics, WatchBatchStream, WatchEvent, WatchOptions, WatchStream, WriteScope,
};

/// How many times `create` draws a new `generateName` suffix after a name clash.
const GENERATE_NAME_ATTEMPTS: usize = 8;

/// Settings of a [`MemoryStore`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryStoreConfig {
    /// Events retained per kind for watch resume and list-at-revision (at least 256). A watcher
    /// more than this many events behind is ended with Expired.
    pub history: usize,
    /// How often watches that asked for bookmarks get one.
    pub bookmark_interval: Duration,
}

impl Default for MemoryStoreConfig {
    fn default() -> Self {
        MemoryStoreConfig {
            history: 65_536,
            bookmark_interval: Duration::from_secs(60),
        }
    }
}

/// The in-memory [`Store`]. Cheap to clone (a handle to shared state).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use std::sync::Arc;
/// use kybern_core::api::core::v1::ConfigMap;
/// use kybern_core::Resource;
/// use kybern_reconciler::store::{MemoryStore, Store};
///
/// let store = MemoryStore::new();
/// let cm = ConfigMap::api_resource(&());
/// let mut obj = kybern_core::DynamicObject::new("settings", &cm);
/// obj.metadata.namespace = Some("default".into());
/// let created = store.create(&cm, obj).await.unwrap();
/// assert_eq!(created.metadata.resource_version.as_deref(), Some("1"));
/// assert_eq!(created.metadata.generation, Some(1));
/// # });
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    state: RwLock<State>,
    metrics: Metrics,
    config: MemoryStoreConfig,
}

#[derive(Debug, Default)]
struct State {
    revision: u64,
    /// Explicit compaction: reads and watches at or below are gone.
    compacted: u64,
    kinds: Kinds,
}

/// The kinds, interned: group → plural → index into `list`. Looked up with the resource's
/// `&str`s, so an operation allocates nothing to find its kind (only a kind's first write
/// copies the two names).
#[derive(Debug, Default)]
struct Kinds {
    index: HashMap<String, HashMap<String, usize>>,
    list: Vec<Kind>,
}

impl Kinds {
    fn position(&self, resource: &ApiResource) -> Option<usize> {
        self.index
            .get(resource.gvk.group.as_ref())?
            .get(resource.plural.as_ref())
            .copied()
    }

    fn get(&self, resource: &ApiResource) -> Option<&Kind> {
        self.list.get(self.position(resource)?)
    }

    fn get_mut(&mut self, resource: &ApiResource) -> Option<&mut Kind> {
        let i = self.position(resource)?;
        self.list.get_mut(i)
    }

    /// The kind, created empty with a history of `capacity` events if new.
    fn get_or_insert(&mut self, resource: &ApiResource, capacity: usize) -> &mut Kind {
        let i = match self.position(resource) {
            Some(i) => i,
            None => {
                let i = self.list.len();
                self.list.push(Kind {
                    objects: BTreeMap::new(),
                    history: History::new(capacity),
                });
                self.index
                    .entry(resource.gvk.group.to_string())
                    .or_default()
                    .insert(resource.plural.to_string(), i);
                i
            }
        };
        &mut self.list[i]
    }

    fn values(&self) -> impl Iterator<Item = &Kind> {
        self.list.iter()
    }

    fn values_mut(&mut self) -> impl Iterator<Item = &mut Kind> {
        self.list.iter_mut()
    }
}

/// The key of an object inside its kind: `namespace/name`, or `name` for a cluster-scoped
/// object. Keys sort in etcd's order: upstream's etcd key is
/// `/registry/[<group>/]<resource>/<namespace>/<name>`, so `a-b/x` sorts before `a/x`
/// (`'-' < '/'`) and lists come out in the same order from every backend. Neither a namespace
/// nor a name can contain `/` (upstream's path-segment rule), so the split is unambiguous.
fn object_key(namespace: Option<&str>, name: &str) -> String {
    let mut k = String::new();
    push_object_key(&mut k, namespace, name);
    k
}

/// Appends [`object_key`] to `k`.
fn push_object_key(k: &mut String, namespace: Option<&str>, name: &str) {
    match namespace.filter(|ns| !ns.is_empty()) {
        Some(ns) => {
            k.reserve(ns.len() + 1 + name.len());
            k.push_str(ns);
            k.push('/');
        }
        None => k.reserve(name.len()),
    }
    k.push_str(name);
}

/// The first key of a namespace's range.
fn namespace_prefix(namespace: &str) -> String {
    format!("{namespace}/")
}

fn split_key(key: &str) -> (Option<&str>, &str) {
    match key.split_once('/') {
        Some((ns, name)) => (Some(ns), name),
        None => (None, key),
    }
}

/// The versions of one key, oldest first; `None` is a deletion.
type Versions = Vec<(u64, Option<Arc<DynamicObject>>)>;

#[derive(Debug)]
struct Kind {
    objects: BTreeMap<String, Versions>,
    history: History,
}

impl Kind {
    fn latest(&self, key: &str) -> Option<&Arc<DynamicObject>> {
        self.objects
            .get(key)
            .and_then(|v| v.last())
            .and_then(|(_, o)| o.as_ref())
    }

    /// Appends `event` (its version is already recorded) to the history, prunes the versions
    /// only the events that retention dropped were keeping, and returns the kind's waker.
    fn append(&mut self, compacted: u64, event: Event) -> Arc<history::Shared> {
        let dropped = self.history.append(event);
        if !dropped.is_empty() {
            let floor = compacted.max(self.history.floor());
            prune_dropped(self, &dropped, floor);
            self.history.recycle(dropped);
        }
        self.history.shared.clone()
    }
}

/// Drops versions no read at or above `floor` can see: keeps the newest one at or below it
/// (unless that is a deletion) and everything newer.
fn prune(versions: &mut Versions, floor: u64) {
    let keep_from = versions.partition_point(|(rev, _)| *rev <= floor);
    if keep_from == 0 {
        return;
    }
    let base = keep_from - 1;
    let drop_base = versions[base].1.is_none();
    versions.drain(..base + usize::from(drop_base));
}

/// The latest version of an object, `None` when its last change deleted it.
fn latest_version(versions: &Versions) -> Option<&Arc<DynamicObject>> {
    versions.last().and_then(|(_, o)| o.as_ref())
}

fn version_at(versions: &Versions, revision: u64) -> Option<&Arc<DynamicObject>> {
    let i = versions.partition_point(|(rev, _)| *rev <= revision);
    versions
        .get(i.checked_sub(1)?)
        .and_then(|(_, o)| o.as_ref())
}

impl State {
    fn floor(&self, kind: Option<&Kind>) -> u64 {
        self.compacted.max(kind.map_or(0, |k| k.history.floor()))
    }

    fn kind_mut(&mut self, resource: &ApiResource, capacity: usize) -> &mut Kind {
        self.kinds.get_or_insert(resource, capacity)
    }
}

/// Removes versions the dropped chunks' events were keeping alive.
fn prune_dropped(kind: &mut Kind, dropped: &[Arc<Chunk>], floor: u64) {
    // One key buffer for the whole batch (a dropped chunk holds 256 events).
    let mut key = String::new();
    for chunk in dropped {
        for ev in chunk.events() {
            key.clear();
            let m = &ev.object.metadata;
            push_object_key(
                &mut key,
                m.namespace.as_deref(),
                m.name.as_deref().unwrap_or(""),
            );
            if let Some(v) = kind.objects.get_mut(key.as_str()) {
                prune(v, floor);
                if v.is_empty() {
                    kind.objects.remove(key.as_str());
                }
            }
        }
    }
}

impl Inner {
    fn read(&self) -> RwLockReadGuard<'_, State> {
        match self.state.read() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        match self.state.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn floor(&self, resource: &ApiResource) -> u64 {
        let st = self.read();
        st.floor(st.kinds.get(resource))
    }

    /// `(history sequence, revision)` for a bookmark: every event of this kind up to the
    /// sequence has a revision at or below `revision`.
    fn bookmark_point(&self, resource: &ApiResource) -> (u64, u64) {
        let st = self.read();
        let seq = st.kinds.get(resource).map_or(0, |k| {
            k.history
                .shared
                .appended
                .load(std::sync::atomic::Ordering::Acquire)
        });
        (seq, st.revision)
    }

    /// Records a new version and its event under the write lock; returns the kind's waker.
    fn commit(
        &self,
        st: &mut State,
        resource: &ApiResource,
        key: String,
        event: Event,
    ) -> Arc<history::Shared> {
        st.revision = event.revision;
        let compacted = st.compacted;
        let k = st.kinds.get_or_insert(resource, self.config.history);
        let floor = compacted.max(k.history.floor());
        // An update finds its key by reference; only a new key is inserted.
        match k.objects.get_mut(key.as_str()) {
            Some(versions) => push_version(versions, &event, floor),
            None => {
                k.objects
                    .insert(key, vec![(event.revision, stored_state(&event))]);
            }
        }
        k.append(compacted, event)
    }
}

/// What a key's version list keeps for `event`: the object, or `None` for a deletion.
fn stored_state(event: &Event) -> Option<Arc<DynamicObject>> {
    match event.kind {
        EventKind::Deleted => None,
        _ => Some(event.object.clone()),
    }
}

/// Adds `event`'s state to an existing key's versions, pruning what no read at or above
/// `floor` can see.
fn push_version(versions: &mut Versions, event: &Event, floor: u64) {
    versions.push((event.revision, stored_state(event)));
    if versions.len() > 2 {
        prune(versions, floor);
    }
}

impl MemoryStore {
    /// An empty store with the default configuration.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store with the given configuration.
    pub fn with_config(config: MemoryStoreConfig) -> Self {
        MemoryStore {
            inner: Arc::new(Inner {
                config,
                ..Inner::default()
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &MemoryStoreConfig {
        &self.inner.config
    }

    fn create_sync(
        &self,
        resource: &ApiResource,
        mut obj: DynamicObject,
    ) -> Result<Arc<DynamicObject>, StoreError> {
        let generated = obj.metadata.name.as_deref().unwrap_or("").is_empty();
        rules::prepare_create(resource, &mut obj, rules::now())?;
        let mut st = self.inner.write();
        let mut attempts = 0;
        let key = loop {
            let name = obj.metadata.name.as_deref().unwrap_or("");
            let key = object_key(obj.metadata.namespace.as_deref(), name);
            let exists = st
                .kinds
                .get(resource)
                .is_some_and(|k| k.latest(&key).is_some());
            if !exists {
                break key;
            }
            attempts += 1;
            if !generated || attempts >= GENERATE_NAME_ATTEMPTS {
                return Err(StoreError::AlreadyExists {
                    resource: Box::new(resource.clone()),
                    name: name.to_owned(),
                });
            }
            let prefix = obj.metadata.generate_name.clone().unwrap_or_default();
            obj.metadata.name = Some(super::names::generate_name(&prefix));
        };
        let revision = st.revision + 1;
        obj.metadata.resource_version = Some(revision.to_string());
        let obj = Arc::new(obj);
        let event = Event {
            revision,
            kind: EventKind::Added,
            object: obj.clone(),
            prev: None,
        };
        let shared = self.inner.commit(&mut st, resource, key, event);
        drop(st);
        shared.wake.wake();
        tracing::Span::current().record("revision", revision);
        Ok(obj)
    }

    fn update_sync(
        &self,
        resource: &ApiResource,
        obj: DynamicObject,
        scope: WriteScope,
    ) -> Result<Arc<DynamicObject>, StoreError> {
        let namespace = obj
            .metadata
            .namespace
            .as_deref()
            .filter(|_| resource.is_namespaced());
        let key = object_key(namespace, obj.metadata.name.as_deref().unwrap_or(""));
        let mut guard = self.inner.write();
        let st = &mut *guard;
        // One kind lookup and one key lookup: the version list found here takes the new state.
        let not_found = |obj: &DynamicObject| {
            StoreError::not_found(resource, obj.metadata.name.as_deref().unwrap_or(""))
        };
        let Some(kind) = st.kinds.get_mut(resource) else {
            return Err(not_found(&obj));
        };
        let Some(versions) = kind.objects.get_mut(key.as_str()) else {
            return Err(not_found(&obj));
        };
        let Some(old) = versions.last().and_then(|(_, o)| o.clone()) else {
            return Err(not_found(&obj));
        };
        let (event, mut new) = match rules::prepare_update(resource, &old, obj, scope)? {
            UpdatePlan::NoOp => return Ok(old),
            UpdatePlan::Write(new) => (EventKind::Modified, new),
            UpdatePlan::Delete(last) => (EventKind::Deleted, last),
        };
        let revision = st.revision + 1;
        st.revision = revision;
        new.metadata.resource_version = Some(revision.to_string());
        let new = Arc::new(new);
        let event = Event {
            revision,
            kind: event,
            object: new.clone(),
            prev: Some(old),
        };
        let floor = st.compacted.max(kind.history.floor());
        push_version(versions, &event, floor);
        let shared = kind.append(st.compacted, event);
        drop(guard);
        shared.wake.wake();
        tracing::Span::current().record("revision", revision);
        Ok(new)
    }

    fn delete_sync(
        &self,
        resource: &ApiResource,
        namespace: Option<&str>,
        name: &str,
        options: &DeleteOptions,
    ) -> Result<DeleteOutcome<Arc<DynamicObject>>, StoreError> {
        let namespace = namespace.filter(|_| resource.is_namespaced());
        let key = object_key(namespace, name);
        let mut st = self.inner.write();
        let current = st
            .kinds
            .get(resource)
            .and_then(|k| k.latest(&key))
            .cloned()
            .ok_or_else(|| StoreError::not_found(resource, name))?;
        rules::check_preconditions(resource, &current, options.preconditions.as_ref())?;
        let revision = st.revision + 1;
        let (outcome, event, object) =
            match rules::prepare_delete(resource, &current, options, rules::now()) {
                DeletePlan::AlreadyDeleting => return Ok(DeleteOutcome::Finalizing(current)),
                DeletePlan::Delete => {
                    let last = Arc::new(rules::deleted_state(&current, revision));
                    (
                        DeleteOutcome::Deleted(last.clone()),
                        EventKind::Deleted,
                        last,
                    )
                }
                DeletePlan::MarkDeleting(next) => {
                    let mut next = *next;
                    next.metadata.resource_version = Some(revision.to_string());
                    let next = Arc::new(next);
                    (
                        DeleteOutcome::Finalizing(next.clone()),
                        EventKind::Modified,
                        next,
                    )
                }
            };
        let event = Event {
            revision,
            kind: event,
            object,
            prev: Some(current),
        };
        let shared = self.inner.commit(&mut st, resource, key, event);
        drop(st);
        shared.wake.wake();
        tracing::Span::current().record("revision", revision);
        Ok(outcome)
    }

    fn list_sync(
        &self,
        resource: &ApiResource,
        options: &ListOptions,
    ) -> Result<ObjectPage, StoreError> {
        let ListRead {
            selection,
            at,
            limit,
        } = ListRead::parse(resource, options)?;
        let st = self.inner.read();
        let kind = st.kinds.get(resource);
        let floor = st.floor(kind);
        let too_large = |requested: u64| StoreError::TooLargeResourceVersion {
            requested,
            current: st.revision,
        };
        // The revision to read at.
        let (revision, token) = match at {
            ReadAt::Latest => (st.revision, None),
            ReadAt::NotOlderThan(want) if want > st.revision => return Err(too_large(want)),
            ReadAt::NotOlderThan(_) => (st.revision, None),
            ReadAt::Exact(want) | ReadAt::Continue(ContinueToken { revision: want, .. })
                if want > st.revision =>
            {
                return Err(too_large(want));
            }
            ReadAt::Exact(want) if want < floor => {
                return Err(StoreError::Expired {
                    message: LIST_TOO_OLD.to_owned(),
                });
            }
            ReadAt::Exact(want) => (want, None),
            ReadAt::Continue(t) if t.revision < floor => {
                return Err(StoreError::Expired {
                    message: CONTINUE_EXPIRED.to_owned(),
                });
            }
            ReadAt::Continue(t) => (t.revision, Some(t)),
        };
        let latest = revision == st.revision;
        let mut page = ObjectPage {
            items: Vec::new(),
            resource_version: revision,
            continue_token: None,
            remaining_item_count: None,
        };
        let Some(kind) = kind else {
            return Ok(page);
        };
        // The key range: the namespace's keys (or all), after the continue key.
        let ns_prefix = selection.namespace().map(namespace_prefix);
        let start_key = token
            .as_ref()
            .map(|t| object_key(t.namespace.as_deref(), &t.name));
        let lower = match (&start_key, &ns_prefix) {
            (Some(k), Some(p)) if k.as_str() < p.as_str() => Bound::Included(p.clone()),
            (Some(k), _) => Bound::Excluded(k.clone()),
            (None, Some(p)) => Bound::Included(p.clone()),
            (None, None) => Bound::Unbounded,
        };
        let mut last_key: Option<&str> = None;
        let in_range = |key: &String| {
            ns_prefix
                .as_ref()
                .is_none_or(|p| key.starts_with(p.as_str()))
        };
        let at_revision = |versions| {
            if latest {
                latest_version(versions)
            } else {
                version_at(versions, revision)
            }
        };
        let mut range = kind.objects.range((lower, Bound::Unbounded));
        while let Some((key, versions)) = range.next() {
            if !in_range(key) {
                break;
            }
            let Some(obj) = at_revision(versions) else {
                continue;
            };
            if !selection.matches(resource, obj) {
                continue;
            }
            if limit.is_some_and(|l| page.items.len() >= l) {
                // Upstream counts what follows only when nothing is filtered (the namespace is
                // part of the key range): this object and every later one in the range.
                if !selection.has_selectors() {
                    let rest = range
                        .by_ref()
                        .take_while(|(k, _)| in_range(k))
                        .filter(|(_, v)| at_revision(v).is_some())
                        .count();
                    page.remaining_item_count = Some(1 + rest as u64);
                }
                // There is more: hand out a token resuming after the last returned key.
                if let Some(last) = last_key {
                    let (namespace, name) = split_key(last);
                    page.continue_token = Some(
                        ContinueToken {
                            revision,
                            namespace: namespace.map(str::to_owned),
                            name: name.to_owned(),
                        }
                        .encode(),
                    );
                }
                break;
            }
            last_key = Some(key.as_str());
            page.items.push(obj.clone());
        }
        Ok(page)
    }

    fn watch_sync(
        &self,
        resource: &ApiResource,
        options: &WatchOptions,
    ) -> Result<Watcher, StoreError> {
        let WatchRead { selection, start } = WatchRead::parse(resource, options)?;
        // Make sure the kind exists so the watcher has a history to follow.
        self.inner
            .write()
            .kind_mut(resource, self.inner.config.history);
        let st = self.inner.read();
        let kind = st.kinds.get(resource).ok_or_else(|| StoreError::Internal {
            message: "kind vanished while opening a watch".into(),
        })?;
        let floor = st.floor(Some(kind));
        let mut pending = VecDeque::new();
        let (cursor, after) = match start {
            WatchStart::After(r) if r < floor => return Err(StoreError::too_old(r, floor)),
            WatchStart::After(r) if r >= st.revision => (kind.history.tail_cursor(), r),
            WatchStart::After(r) => (kind.history.cursor_after(r), r),
            WatchStart::Now => (kind.history.tail_cursor(), st.revision),
            WatchStart::Initial {
                not_older_than,
                end_bookmark,
            } => {
                check_not_older_than(not_older_than, st.revision)?;
                for versions in kind.objects.values() {
                    if let Some(obj) = latest_version(versions)
                        && selection.matches(resource, obj)
                    {
                        pending.push_back(WatchEvent::Added(obj.clone()));
                    }
                }
                if end_bookmark {
                    pending.push_back(WatchEvent::Bookmark(Bookmark::initial_events_end(
                        st.revision,
                    )));
                }
                (kind.history.tail_cursor(), st.revision)
            }
        };
        let shared = kind.history.shared.clone();
        drop(st);
        shared.wake.start_relay();
        let probe = Arc::new(Probe::default());
        probe
            .seq
            .store(cursor.seq, std::sync::atomic::Ordering::Relaxed);
        shared.register(&probe);
        let slot = Arc::default();
        shared.wake.register(&slot);
        let bookmarks = options.bookmarks.then(|| {
            let period = self.inner.config.bookmark_interval;
            let mut i = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            i
        });
        Ok(Watcher {
            inner: self.inner.clone(),
            resource: resource.clone(),
            shared,
            cursor,
            selection,
            after,
            last_revision: after,
            pending,
            bookmarks,
            bookmark_due: None,
            probe,
            slot,
            done: false,
        })
    }

    fn compact_sync(&self, revision: u64) -> u64 {
        let mut st = self.inner.write();
        let target = revision.min(st.revision);
        if target <= st.compacted {
            return st.compacted;
        }
        st.compacted = target;
        for kind in st.kinds.values_mut() {
            let dropped = kind.history.compact(target);
            prune_dropped(kind, &dropped, target);
            kind.objects.retain(|_, v| {
                prune(v, target);
                !v.is_empty()
            });
        }
        target
    }
}

macro_rules! span {
    ($op:expr, $resource:expr, $ns:expr, $name:expr) => {
        tracing::debug_span!(
            "store",
            op = $op.name(),
            resource = %$resource.plural,
            group = %$resource.gvk.group,
            namespace = $ns.unwrap_or(""),
            name = $name,
            revision = tracing::field::Empty,
        )
    };
}

impl MemoryStore {
    /// Opens a watcher (span, metrics) and hands it out as `stream` makes it.
    fn open_watch<S>(
        &self,
        resource: &ApiResource,
        options: &WatchOptions,
        stream: fn(Watcher) -> S,
    ) -> Result<S, StoreError> {
        let start = Instant::now();
        let span = span!(Operation::Watch, resource, options.namespace.as_deref(), "");
        let r = span.in_scope(|| self.watch_sync(resource, options));
        self.inner
            .metrics
            .finish(Operation::Watch, start, r.map(stream))
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn create(
        &self,
        resource: &ApiResource,
        object: DynamicObject,
    ) -> Result<Arc<DynamicObject>, StoreError> {
        let start = Instant::now();
        let span = span!(
            Operation::Create,
            resource,
            object.metadata.namespace.as_deref(),
            object.metadata.name.as_deref().unwrap_or("")
        );
        let r = span.in_scope(|| self.create_sync(resource, object));
        self.inner.metrics.finish(Operation::Create, start, r)
    }

    async fn get(
        &self,
        resource: &ApiResource,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Arc<DynamicObject>, StoreError> {
        let start = Instant::now();
        let span = span!(Operation::Get, resource, namespace, name);
        let _e = span.enter();
        let namespace = namespace.filter(|_| resource.is_namespaced());
        let key = object_key(namespace, name);
        let r = {
            let st = self.inner.read();
            st.kinds
                .get(resource)
                .and_then(|k| k.latest(&key))
                .cloned()
                .ok_or_else(|| StoreError::not_found(resource, name))
        };
        self.inner.metrics.finish(Operation::Get, start, r)
    }

    async fn list(
        &self,
        resource: &ApiResource,
        options: &ListOptions,
    ) -> Result<ObjectPage, StoreError> {
        let start = Instant::now();
        let span = span!(Operation::List, resource, options.namespace.as_deref(), "");
        let r = span.in_scope(|| self.list_sync(resource, options));
        if let Ok(p) = &r {
            span.record("revision", p.resource_version);
        }
        self.inner.metrics.finish(Operation::List, start, r)
    }

    async fn update(
        &self,
        resource: &ApiResource,
        object: DynamicObject,
        scope: WriteScope,
    ) -> Result<Arc<DynamicObject>, StoreError> {
        let start = Instant::now();
        let op = match scope {
            WriteScope::Status => Operation::UpdateStatus,
            _ => Operation::Update,
        };
        let span = span!(
            op,
            resource,
            object.metadata.namespace.as_deref(),
            object.metadata.name.as_deref().unwrap_or("")
        );
        let r = span.in_scope(|| self.update_sync(resource, object, scope));
        self.inner.metrics.finish(op, start, r)
    }

    async fn patch(
        &self,
        resource: &ApiResource,
        namespace: Option<&str>,
        name: &str,
        patch: &super::Patch,
        options: &super::PatchOptions,
    ) -> Result<Arc<DynamicObject>, StoreError> {
        let start = Instant::now();
        let span = span!(Operation::Patch, resource, namespace, name);
        let r = rules::patch_with_retries(self, resource, namespace, name, patch, options)
            .instrument(span)
            .await;
        self.inner.metrics.finish(Operation::Patch, start, r)
    }

    async fn delete(
        &self,
        resource: &ApiResource,
        namespace: Option<&str>,
        name: &str,
        options: &DeleteOptions,
    ) -> Result<DeleteOutcome<Arc<DynamicObject>>, StoreError> {
        let start = Instant::now();
        let span = span!(Operation::Delete, resource, namespace, name);
        let r = span.in_scope(|| self.delete_sync(resource, namespace, name, options));
        self.inner.metrics.finish(Operation::Delete, start, r)
    }

    async fn watch(
        &self,
        resource: &ApiResource,
        options: &WatchOptions,
    ) -> Result<WatchStream, StoreError> {
        self.open_watch(resource, options, Watcher::into_stream)
    }

    /// Native batches: an unfiltered watcher's batch borrows a run of the kind's history (one
    /// reference count per batch instead of one per event and watcher).
    async fn watch_batches(
        &self,
        resource: &ApiResource,
        options: &WatchOptions,
    ) -> Result<WatchBatchStream, StoreError> {
        self.open_watch(resource, options, Watcher::into_batches)
    }

    async fn current_revision(&self) -> Result<u64, StoreError> {
        Ok(self.inner.read().revision)
    }

    async fn compact(&self, revision: u64) -> Result<u64, StoreError> {
        let start = Instant::now();
        let span = tracing::debug_span!("store", op = "store.compact", revision);
        let r = Ok(span.in_scope(|| self.compact_sync(revision)));
        self.inner.metrics.finish(Operation::Compact, start, r)
    }

    fn metrics(&self) -> StoreMetrics {
        let mut m = self.inner.metrics.snapshot();
        let st = self.inner.read();
        m.revision = st.revision;
        for kind in st.kinds.values() {
            let (n, max, total, sent) = kind.history.shared.depths();
            m.watchers += n;
            m.watch_events_sent += sent;
            m.watch_queue_depth_max = m.watch_queue_depth_max.max(max);
            m.watch_queue_depth_total += total;
        }
        m
    }
}

//! `Cache`: the in-memory copy of one kind's objects, written by one reflector and read by
//! many, with indexes and change subscriptions.
//!
//! # Guarantees
//! - Subscribers see a change only after the cache holds it: a reconcile woken by a change
//!   reads state at least as new as that change.
//! - A relist replaces the cache atomically at `InitDone`; objects gone meanwhile produce
//!   [`Change::Deleted`], changed ones [`Change::Applied`] — subscribers converge even when
//!   the watch missed events.
//! - A new subscriber first receives one [`Change::Applied`] per cached object.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::{mpsc, watch};

use super::super::Object;
use super::super::watcher::Event;
use super::{INDEX_LABEL, INDEX_NAMESPACE, INDEX_OWNER_UID, ObjectKey};

/// A change to the cache, as subscribers see it.
#[derive(Debug)]
pub enum Change<K> {
    /// An object was added (`old: None`) or replaced.
    Applied {
        /// The previous state, if the object was cached before.
        old: Option<Arc<K>>,
        /// The new state.
        new: Arc<K>,
    },
    /// An object was removed (its last known state).
    Deleted(Arc<K>),
}

impl<K> Clone for Change<K> {
    fn clone(&self) -> Self {
        match self {
            Change::Applied { old, new } => Change::Applied {
                old: old.clone(),
                new: Arc::clone(new),
            },
            Change::Deleted(o) => Change::Deleted(Arc::clone(o)),
        }
    }
}

impl<K> Change<K> {
    /// The object's latest state (the deleted state for a deletion).
    pub fn object(&self) -> &Arc<K> {
        match self {
            Change::Applied { new, .. } => new,
            Change::Deleted(o) => o,
        }
    }
}

/// An index function: the index values an object is filed under.
pub type IndexFn<K> = Arc<dyn Fn(&K) -> Vec<String> + Send + Sync>;

/// A function applied to every object before it is cached (e.g. drop `managedFields`, keep
/// only metadata).
pub type Transform<K> = Arc<dyn Fn(K) -> K + Send + Sync>;

/// How a cache indexes and transforms its objects.
pub struct CacheConfig<K> {
    indexers: Vec<(String, IndexFn<K>)>,
    transform: Option<Transform<K>>,
}

impl<K> Clone for CacheConfig<K> {
    fn clone(&self) -> Self {
        CacheConfig {
            indexers: self.indexers.clone(),
            transform: self.transform.clone(),
        }
    }
}

impl<K> fmt::Debug for CacheConfig<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheConfig")
            .field(
                "indexers",
                &self.indexers.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("transform", &self.transform.is_some())
            .finish()
    }
}

impl<K: Object> Default for CacheConfig<K> {
    /// Indexes by namespace and owner uid.
    fn default() -> Self {
        CacheConfig {
            indexers: Vec::new(),
            transform: None,
        }
        .with_index(INDEX_NAMESPACE, |o: &K| {
            vec![o.namespace().unwrap_or("").to_owned()]
        })
        .with_index(INDEX_OWNER_UID, |o: &K| {
            o.meta()
                .owner_references
                .iter()
                .map(|r| r.uid.clone())
                .collect()
        })
    }
}

impl<K: Object> CacheConfig<K> {
    /// No indexes, no transform.
    pub fn bare() -> Self {
        CacheConfig {
            indexers: Vec::new(),
            transform: None,
        }
    }

    /// Adds (or replaces) the index `name`.
    pub fn with_index(
        mut self,
        name: &str,
        f: impl Fn(&K) -> Vec<String> + Send + Sync + 'static,
    ) -> Self {
        self.indexers.retain(|(n, _)| n != name);
        self.indexers.push((name.to_owned(), Arc::new(f)));
        self
    }

    /// Adds the label index ([`INDEX_LABEL`], values `key=value`).
    pub fn with_label_index(self) -> Self {
        self.with_index(INDEX_LABEL, |o: &K| {
            o.meta()
                .labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect()
        })
    }

    /// Transforms every object before caching it.
    pub fn with_transform(mut self, f: impl Fn(K) -> K + Send + Sync + 'static) -> Self {
        self.transform = Some(Arc::new(f));
        self
    }

    /// Caches only metadata: drops `managedFields` and everything outside `metadata` that
    /// `strip` removes (e.g. `|o| { o.spec = None; o.status = None; o }`).
    pub fn metadata_only(self, strip: impl Fn(K) -> K + Send + Sync + 'static) -> Self {
        self.with_transform(move |mut o: K| {
            o.meta_mut().managed_fields.clear();
            strip(o)
        })
    }
}

type Index = HashMap<String, HashSet<ObjectKey>>;

struct Inner<K> {
    objects: HashMap<ObjectKey, Arc<K>>,
    indexes: Vec<Index>,
}

struct Shared<K> {
    inner: RwLock<Inner<K>>,
    config: CacheConfig<K>,
    ready: watch::Sender<bool>,
    subscribers: Mutex<Vec<mpsc::UnboundedSender<Change<K>>>>,
}

/// A cache: make one with [`Cache::new`], which returns its only [`Writer`] and a [`Reader`].
#[derive(Debug, Clone, Copy)]
pub struct Cache;

impl Cache {
    /// A new empty cache.
    #[allow(clippy::new_ret_no_self)]
    pub fn new<K: Object>(config: CacheConfig<K>) -> (Writer<K>, Reader<K>) {
        let n = config.indexers.len();
        let shared = Arc::new(Shared {
            inner: RwLock::new(Inner {
                objects: HashMap::new(),
                indexes: vec![Index::new(); n],
            }),
            config,
            ready: watch::channel(false).0,
            subscribers: Mutex::new(Vec::new()),
        });
        (
            Writer {
                shared: Arc::clone(&shared),
                buffer: None,
            },
            Reader { shared },
        )
    }
}

/// The single writer of a cache (owned by its reflector).
pub struct Writer<K> {
    shared: Arc<Shared<K>>,
    buffer: Option<HashMap<ObjectKey, Arc<K>>>,
}

impl<K> fmt::Debug for Writer<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

fn index_insert<K>(config: &CacheConfig<K>, indexes: &mut [Index], key: &ObjectKey, obj: &K) {
    for ((_, f), index) in config.indexers.iter().zip(indexes.iter_mut()) {
        for value in f(obj) {
            index.entry(value).or_default().insert(key.clone());
        }
    }
}

fn index_remove<K>(config: &CacheConfig<K>, indexes: &mut [Index], key: &ObjectKey, obj: &K) {
    for ((_, f), index) in config.indexers.iter().zip(indexes.iter_mut()) {
        for value in f(obj) {
            if let Some(set) = index.get_mut(&value) {
                set.remove(key);
                if set.is_empty() {
                    index.remove(&value);
                }
            }
        }
    }
}

fn same_version<K: Object>(a: &K, b: &K) -> bool {
    let (ra, rb) = (&a.meta().resource_version, &b.meta().resource_version);
    ra.is_some() && ra == rb
}

impl<K: Object> Writer<K> {
    fn ingest(&self, obj: K) -> Arc<K> {
        match &self.shared.config.transform {
            Some(t) => Arc::new(t(obj)),
            None => Arc::new(obj),
        }
    }

    fn broadcast(&self, changes: Vec<Change<K>>) {
        if changes.is_empty() {
            return;
        }
        let mut subs = self
            .shared
            .subscribers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        subs.retain(|tx| changes.iter().all(|c| tx.send(c.clone()).is_ok()));
    }

    /// Applies one watcher event.
    pub fn apply(&mut self, event: Event<K>) {
        let changes = match event {
            Event::Init => {
                self.buffer = Some(HashMap::new());
                Vec::new()
            }
            Event::InitApply(obj) => {
                let obj = self.ingest(obj);
                if let Some(buf) = &mut self.buffer {
                    buf.insert(ObjectKey::of(obj.as_ref()), obj);
                }
                Vec::new()
            }
            Event::InitDone => {
                let Some(fresh) = self.buffer.take() else {
                    return;
                };
                self.replace_all(fresh)
            }
            Event::Apply(obj) => {
                let obj = self.ingest(obj);
                let key = ObjectKey::of(obj.as_ref());
                let mut inner = self.write();
                let inner = &mut *inner;
                let old = inner.objects.insert(key.clone(), Arc::clone(&obj));
                if let Some(old) = &old {
                    index_remove(&self.shared.config, &mut inner.indexes, &key, old);
                }
                index_insert(&self.shared.config, &mut inner.indexes, &key, &obj);
                vec![Change::Applied { old, new: obj }]
            }
            Event::Delete(obj) => {
                let obj = self.ingest(obj);
                let key = ObjectKey::of(obj.as_ref());
                let mut inner = self.write();
                let inner = &mut *inner;
                if let Some(old) = inner.objects.remove(&key) {
                    index_remove(&self.shared.config, &mut inner.indexes, &key, &old);
                }
                vec![Change::Deleted(obj)]
            }
        };
        self.broadcast(changes);
    }

    fn replace_all(&mut self, fresh: HashMap<ObjectKey, Arc<K>>) -> Vec<Change<K>> {
        let mut changes = Vec::new();
        let mut indexes = vec![Index::new(); self.shared.config.indexers.len()];
        for (key, obj) in &fresh {
            index_insert(&self.shared.config, &mut indexes, key, obj);
        }
        {
            let mut inner = self.write();
            for (key, obj) in &fresh {
                match inner.objects.get(key) {
                    Some(old) if same_version(old.as_ref(), obj.as_ref()) => {}
                    old => changes.push(Change::Applied {
                        old: old.cloned(),
                        new: Arc::clone(obj),
                    }),
                }
            }
            for (key, old) in &inner.objects {
                if !fresh.contains_key(key) {
                    changes.push(Change::Deleted(Arc::clone(old)));
                }
            }
            inner.objects = fresh;
            inner.indexes = indexes;
        }
        self.shared.ready.send_replace(true);
        changes
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner<K>> {
        self.shared
            .inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A reader of this cache.
    pub fn reader(&self) -> Reader<K> {
        Reader {
            shared: Arc::clone(&self.shared),
        }
    }
}

/// A cloneable read handle on a cache.
pub struct Reader<K> {
    shared: Arc<Shared<K>>,
}

impl<K> Clone for Reader<K> {
    fn clone(&self) -> Self {
        Reader {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<K> fmt::Debug for Reader<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader").finish_non_exhaustive()
    }
}

impl<K: Object> Reader<K> {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner<K>> {
        self.shared
            .inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The cached object with this key.
    pub fn get(&self, key: &ObjectKey) -> Option<Arc<K>> {
        self.read().objects.get(key).cloned()
    }

    /// The cached object `namespace/name`.
    pub fn get_named(&self, namespace: Option<&str>, name: &str) -> Option<Arc<K>> {
        self.get(&ObjectKey::new(namespace, name))
    }

    /// Every cached object, in no particular order.
    pub fn state(&self) -> Vec<Arc<K>> {
        self.read().objects.values().cloned().collect()
    }

    /// Every cached object matching `pred`.
    pub fn filter(&self, pred: impl Fn(&K) -> bool) -> Vec<Arc<K>> {
        self.read()
            .objects
            .values()
            .filter(|o| pred(o))
            .cloned()
            .collect()
    }

    /// How many objects are cached.
    pub fn len(&self) -> usize {
        self.read().objects.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The objects filed under `value` in index `name` (empty for an unknown index).
    pub fn by_index(&self, name: &str, value: &str) -> Vec<Arc<K>> {
        let Some(pos) = self
            .shared
            .config
            .indexers
            .iter()
            .position(|(n, _)| n == name)
        else {
            return Vec::new();
        };
        let inner = self.read();
        let Some(keys) = inner.indexes.get(pos).and_then(|i| i.get(value)) else {
            return Vec::new();
        };
        keys.iter()
            .filter_map(|k| inner.objects.get(k).cloned())
            .collect()
    }

    /// Whether index `name` exists.
    pub fn has_index(&self, name: &str) -> bool {
        self.shared.config.indexers.iter().any(|(n, _)| n == name)
    }

    /// Objects in `namespace` (through the namespace index when present).
    pub fn in_namespace(&self, namespace: &str) -> Vec<Arc<K>> {
        if self.has_index(INDEX_NAMESPACE) {
            return self.by_index(INDEX_NAMESPACE, namespace);
        }
        self.filter(|o| o.namespace().unwrap_or("") == namespace)
    }

    /// Objects with an owner reference to `uid` (through the owner index when present).
    pub fn owned_by(&self, uid: &str) -> Vec<Arc<K>> {
        if self.has_index(INDEX_OWNER_UID) {
            return self.by_index(INDEX_OWNER_UID, uid);
        }
        self.filter(|o| o.meta().owner_references.iter().any(|r| r.uid == uid))
    }

    /// Whether the first list has completed.
    pub fn is_ready(&self) -> bool {
        *self.shared.ready.borrow()
    }

    /// Waits until the first list has completed.
    pub async fn wait_until_ready(&self) {
        let mut rx = self.shared.ready.subscribe();
        // An error means the writer is gone; nothing more will change.
        let _ = rx.wait_for(|ready| *ready).await;
    }

    /// Subscribes to changes; the receiver first gets one `Applied` per cached object.
    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<Change<K>> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut subs = self
            .shared
            .subscribers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for obj in self.read().objects.values() {
            let _ = tx.send(Change::Applied {
                old: None,
                new: Arc::clone(obj),
            });
        }
        subs.push(tx);
        rx
    }
}

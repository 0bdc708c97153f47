//! The reflector: applies a [`watcher`](super::watcher) stream to a [`Cache`] — one writer,
//! any number of cloneable [`Reader`]s, indexes, and change subscriptions.
//!
//! The cache is named `Cache`/`Reader` (not kube-runtime's `Store`) so it never clashes with
//! the storage seam [`crate::Store`].

mod cache;

use std::fmt;

use futures::{Stream, StreamExt as _};
use kybern_core::Resource;

pub use cache::{Cache, CacheConfig, Change, IndexFn, Reader, Transform, Writer};

use super::Object;
use super::watcher::{Event, WatcherError};

/// Index name: objects by namespace (`""` for cluster-scoped objects).
pub const INDEX_NAMESPACE: &str = "namespace";
/// Index name: objects by the uid of each of their owner references.
pub const INDEX_OWNER_UID: &str = "owner-uid";
/// Index name: objects by each `key=value` label they carry.
pub const INDEX_LABEL: &str = "label";

/// The identity of an object within one kind: namespace and name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey {
    /// Namespace (`None` for cluster-scoped objects).
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

impl ObjectKey {
    /// A key from namespace and name.
    pub fn new(namespace: Option<&str>, name: &str) -> Self {
        ObjectKey {
            namespace: namespace.filter(|n| !n.is_empty()).map(str::to_owned),
            name: name.to_owned(),
        }
    }

    /// The key of `obj`.
    pub fn of<K: Resource>(obj: &K) -> Self {
        Self::new(obj.namespace(), obj.name())
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{ns}/{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// Applies every event of `stream` to `writer`, passing the events (and errors) through.
pub fn reflector<K, S>(
    mut writer: Writer<K>,
    stream: S,
) -> impl Stream<Item = Result<Event<K>, WatcherError>>
where
    K: Object,
    S: Stream<Item = Result<Event<K>, WatcherError>>,
{
    stream.map(move |item| {
        if let Ok(ev) = &item {
            writer.apply(ev.clone());
        }
        item
    })
}

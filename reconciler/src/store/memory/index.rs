//! `MemoryStore` as an index for another backend: the hooks a backend with its own write path
//! (the durable store) uses to keep a `MemoryStore` as its read, list and watch side.
//!
//! The backend decides and persists writes itself, then applies the committed changes here in
//! revision order ([`MemoryStore::apply_committed`]); every read, list at a revision,
//! pagination, watch, bookmark and compaction is then served by the `MemoryStore` code as is.

use std::sync::Arc;

use kybern_core::{ApiResource, DynamicObject};

use super::{Inner, MemoryStore, MemoryStoreConfig, State, object_key};
use crate::store::metrics::Metrics;
use crate::store::plan::Committed;

impl MemoryStore {
    /// A store holding `objects` (`(group, plural, object)`, each carrying its
    /// `resourceVersion`) at `revision`, with history starting there: reads and watches at
    /// older revisions get Expired.
    pub(crate) fn restored(
        config: MemoryStoreConfig,
        objects: impl IntoIterator<Item = (String, String, Arc<DynamicObject>)>,
        revision: u64,
    ) -> Self {
        let capacity = config.history;
        let mut st = State {
            revision,
            compacted: revision,
            ..State::default()
        };
        for (group, plural, obj) in objects {
            let rev = obj
                .metadata
                .resource_version
                .as_deref()
                .and_then(|r| r.parse().ok())
                .unwrap_or(revision);
            let key = object_key(
                obj.metadata.namespace.as_deref(),
                obj.metadata.name.as_deref().unwrap_or(""),
            );
            // Only the group and plural address a kind in the table.
            let resource = ApiResource {
                gvk: kybern_core::GroupVersionKind::new(group, "", ""),
                plural: plural.into(),
                scope: kybern_core::Scope::Namespaced,
            };
            let kind = st.kinds.get_or_insert(&resource, capacity);
            kind.objects.insert(key, vec![(rev, Some(obj))]);
        }
        MemoryStore {
            inner: Arc::new(Inner {
                state: std::sync::RwLock::new(st),
                config,
                ..Inner::default()
            }),
        }
    }

    /// The latest state of one object, if it exists.
    pub(crate) fn latest(
        &self,
        resource: &ApiResource,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Arc<DynamicObject>> {
        let namespace = namespace.filter(|_| resource.is_namespaced());
        let key = object_key(namespace, name);
        let st = self.inner.read();
        st.kinds.get(resource).and_then(|k| k.latest(&key)).cloned()
    }

    /// The latest revision.
    pub(crate) fn revision(&self) -> u64 {
        self.inner.read().revision
    }

    /// Applies changes already committed elsewhere, in order, under one lock, then wakes the
    /// watchers of every kind touched. Revisions must increase.
    pub(crate) fn apply_committed(&self, changes: &[(ApiResource, Committed)]) {
        let mut wake = Vec::new();
        {
            let mut st = self.inner.write();
            for (resource, c) in changes {
                let namespace = c
                    .object
                    .metadata
                    .namespace
                    .as_deref()
                    .filter(|_| resource.is_namespaced());
                let key = object_key(namespace, c.object.metadata.name.as_deref().unwrap_or(""));
                let shared = self.inner.commit(&mut st, resource, key, c.clone());
                if !wake.iter().any(|w| Arc::ptr_eq(w, &shared)) {
                    wake.push(shared);
                }
            }
        }
        for w in wake {
            w.wake.wake();
        }
    }

    /// The metrics recorder, for a backend that records its own write operations.
    pub(crate) fn metrics_recorder(&self) -> &Metrics {
        &self.inner.metrics
    }
}

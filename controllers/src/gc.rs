//! The garbage collector: deletes objects whose owners are gone, following owner references,
//! with upstream's three propagation policies. The store records a delete's policy as a
//! finalizer ([`kybern_reconciler::store::propagation`]); the collector acts on it:
//!
//! - **Background** (no GC finalizer): the owner is gone at once; the collector then deletes
//!   each dependent whose owners are all gone (checked against the live store, never only the
//!   cache).
//! - **Foreground** (`foregroundDeletion`): the owner stays with `deletionTimestamp`; the
//!   collector queues its dependents, which see the owner as "waiting for dependents": a
//!   dependent with no other live owner is deleted (in the foreground itself when it has
//!   dependents), one with another live owner only loses the reference. Once no dependent with
//!   `blockOwnerDeletion: true` is left, the finalizer is removed and the store deletes the
//!   owner.
//! - **Orphan** (`orphan`): the collector removes the owner's references from its dependents,
//!   then the finalizer.
//!
//! The graph is the union of the watched kinds' caches, each indexed by uid and by owner uid,
//! so finding an object's dependents or owners costs index lookups, not scans.
//!
//! # Deviation
//! Upstream also sets `blockOwnerDeletion: true` on the references of a foreground-deleted
//! dependent's own dependents; this collector does not rewrite references for that.

use std::sync::Arc;

use kybern_core::api::apps::v1::{
    ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet,
};
use kybern_core::api::batch::v1::{CronJob, Job};
use kybern_core::api::core::v1::{
    ConfigMap, PersistentVolumeClaim, Pod, Secret, Service, ServiceAccount,
};
use kybern_core::api::meta::v1::Preconditions;
use kybern_core::registry::Registry;
use kybern_core::{ApiResource, DynamicObject, GroupVersionKind, TypedResource};
use kybern_reconciler::runtime::queue::WorkQueue;
use kybern_reconciler::runtime::reflector::{CacheConfig, Change, Reader};
use kybern_reconciler::runtime::{ObjectKey, Shutdown, watcher};
pub use kybern_reconciler::store::PropagationPolicy as Propagation;
pub use kybern_reconciler::store::propagation::{FOREGROUND_FINALIZER, ORPHAN_FINALIZER};
use kybern_reconciler::store::{DeleteOptions, Patch, PatchOptions};
use kybern_reconciler::{Api, Store, StoreError};
use serde_json::json;

use crate::ControllerManager;

/// Cache index: objects by their own uid.
pub const INDEX_UID: &str = "uid";

/// Deletes an object with a propagation policy: one store delete, which records the policy as
/// the `orphan` / `foregroundDeletion` finalizer for the collector.
///
/// # Errors
/// Store errors (NotFound when the object does not exist).
pub async fn delete_with_propagation(
    store: &Arc<dyn Store>,
    resource: &ApiResource,
    namespace: Option<&str>,
    name: &str,
    propagation: Propagation,
) -> Result<(), StoreError> {
    let options = DeleteOptions {
        propagation_policy: Some(propagation),
        ..DeleteOptions::default()
    };
    store.delete(resource, namespace, name, &options).await?;
    Ok(())
}

/// What the collector watches.
#[derive(Debug, Clone)]
pub struct GcConfig {
    /// The kinds in the graph (owners and dependents).
    pub resources: Vec<ApiResource>,
    /// Resolves owner references to kinds that are not watched (for live lookups).
    pub registry: Registry,
    /// Concurrent workers.
    pub workers: usize,
}

fn r<K: TypedResource>() -> ApiResource {
    K::api_resource(&())
}

impl Default for GcConfig {
    fn default() -> Self {
        GcConfig {
            resources: vec![
                r::<Pod>(),
                r::<ReplicaSet>(),
                r::<Deployment>(),
                r::<StatefulSet>(),
                r::<DaemonSet>(),
                r::<ControllerRevision>(),
                r::<Job>(),
                r::<CronJob>(),
                r::<ConfigMap>(),
                r::<Secret>(),
                r::<Service>(),
                r::<ServiceAccount>(),
                r::<PersistentVolumeClaim>(),
            ],
            registry: Registry::builtin(),
            workers: 4,
        }
    }
}

impl GcConfig {
    /// Adds a kind (e.g. a custom resource) to the graph.
    pub fn with_resource(mut self, resource: ApiResource) -> Self {
        if !self.resources.contains(&resource) {
            self.registry.register_resource(resource.clone());
            self.resources.push(resource);
        }
        self
    }
}

type Item = (usize, ObjectKey);

struct Gc {
    store: Arc<dyn Store>,
    resources: Vec<ApiResource>,
    caches: Vec<Reader<DynamicObject>>,
    registry: Registry,
    queue: WorkQueue<Item>,
}

fn gc_cache_config() -> CacheConfig<DynamicObject> {
    CacheConfig::default().with_index(INDEX_UID, |o: &DynamicObject| {
        o.metadata.uid.clone().into_iter().collect()
    })
}

impl Gc {
    fn dependents(&self, uid: &str) -> Vec<(usize, Arc<DynamicObject>)> {
        self.caches
            .iter()
            .enumerate()
            .flat_map(|(i, c)| c.owned_by(uid).into_iter().map(move |o| (i, o)))
            .collect()
    }

    fn by_uid(&self, uid: &str) -> Option<(usize, Arc<DynamicObject>)> {
        self.caches.iter().enumerate().find_map(|(i, c)| {
            c.by_index(INDEX_UID, uid)
                .into_iter()
                .next()
                .map(|o| (i, o))
        })
    }

    fn enqueue_obj(&self, i: usize, o: &DynamicObject) {
        self.queue.add((i, ObjectKey::of(o)));
    }

    fn enqueue_owners<'a>(
        &self,
        owners: impl Iterator<Item = &'a kybern_core::api::meta::v1::OwnerReference>,
    ) {
        for owner in owners {
            if let Some((j, o)) = self.by_uid(&owner.uid) {
                self.enqueue_obj(j, &o);
            }
        }
    }

    fn on_change(&self, i: usize, change: &Change<DynamicObject>) {
        match change {
            Change::Applied { new, old } => {
                let m = &new.metadata;
                if !m.owner_references.is_empty()
                    || m.has_finalizer(FOREGROUND_FINALIZER)
                    || m.has_finalizer(ORPHAN_FINALIZER)
                {
                    self.enqueue_obj(i, new);
                }
                // An owner this object no longer references may be waiting for it.
                if let Some(old) = old {
                    let dropped = old
                        .metadata
                        .owner_references
                        .iter()
                        .filter(|r| !m.owner_references.iter().any(|n| n.uid == r.uid));
                    self.enqueue_owners(dropped);
                }
            }
            Change::Deleted(old) => {
                if let Some(uid) = &old.metadata.uid {
                    for (j, d) in self.dependents(uid) {
                        self.enqueue_obj(j, &d);
                    }
                }
                self.enqueue_owners(old.metadata.owner_references.iter());
            }
        }
    }

    fn resource_of(&self, api_version: &str, kind: &str) -> Option<ApiResource> {
        let gvk = GroupVersionKind::from_api_version_kind(api_version, kind);
        self.resources
            .iter()
            .find(|r| r.gvk == gvk)
            .cloned()
            .or_else(|| self.registry.resource_for_kind(&gvk).cloned())
    }

    async fn remove_finalizer(
        &self,
        i: usize,
        obj: &DynamicObject,
        f: &str,
    ) -> Result<(), StoreError> {
        let rest: Vec<String> = obj
            .metadata
            .finalizers
            .iter()
            .filter(|x| *x != f)
            .cloned()
            .collect();
        let options = PatchOptions {
            resource_version: obj.metadata.resource_version.clone(),
            ..PatchOptions::default()
        };
        let patch = Patch::Merge(json!({ "metadata": { "finalizers": rest } }));
        self.store
            .patch(
                &self.resources[i],
                obj.metadata.namespace.as_deref(),
                obj.metadata.name.as_deref().unwrap_or(""),
                &patch,
                &options,
            )
            .await
            .map(|_| ())
    }

    async fn process(&self, (i, key): &Item) -> Result<(), StoreError> {
        let Some(obj) = self.caches.get(*i).and_then(|c| c.get(key)) else {
            return Ok(());
        };
        let resource = &self.resources[*i];
        let ns = obj.metadata.namespace.as_deref();
        let name = obj.metadata.name.as_deref().unwrap_or("");
        let uid = obj.metadata.uid.clone().unwrap_or_default();
        if obj.metadata.is_being_deleted() {
            if obj.metadata.has_finalizer(ORPHAN_FINALIZER) {
                for (j, d) in self.dependents(&uid) {
                    let refs: Vec<_> = d
                        .metadata
                        .owner_references
                        .iter()
                        .filter(|r| r.uid != uid)
                        .cloned()
                        .collect();
                    let options = PatchOptions {
                        resource_version: d.metadata.resource_version.clone(),
                        ..PatchOptions::default()
                    };
                    let patch = Patch::Merge(json!({ "metadata": { "ownerReferences": refs } }));
                    match self
                        .store
                        .patch(
                            &self.resources[j],
                            d.metadata.namespace.as_deref(),
                            d.metadata.name.as_deref().unwrap_or(""),
                            &patch,
                            &options,
                        )
                        .await
                    {
                        Ok(_) => {}
                        Err(e) if e.is_not_found() => {}
                        Err(e) => return Err(e),
                    }
                }
                return self.remove_finalizer(*i, &obj, ORPHAN_FINALIZER).await;
            }
            if obj.metadata.has_finalizer(FOREGROUND_FINALIZER) {
                let mut blocking = 0;
                for (j, d) in self.dependents(&uid) {
                    let blocks = d
                        .metadata
                        .owner_references
                        .iter()
                        .any(|r| r.uid == uid && r.block_owner_deletion == Some(true));
                    if blocks {
                        blocking += 1;
                    }
                    // Each dependent decides for itself: deleted when this was its last live
                    // owner, otherwise it only drops the reference.
                    self.enqueue_obj(j, &d);
                }
                if blocking == 0 {
                    return self.remove_finalizer(*i, &obj, FOREGROUND_FINALIZER).await;
                }
                tracing::debug!(object = %key, blocking, "foreground deletion waits for dependents");
            }
            return Ok(());
        }
        if obj.metadata.owner_references.is_empty() {
            return Ok(());
        }
        let (mut solid, mut waiting, mut gone) = (0, 0, Vec::new());
        for owner in &obj.metadata.owner_references {
            let cached = self.by_uid(&owner.uid).map(|(_, o)| o);
            let live = match cached {
                Some(o) => Some(o),
                None => match self.resource_of(&owner.api_version, &owner.kind) {
                    // Verify against the store: the cache may lag behind a new owner.
                    Some(res) => {
                        let owner_ns = if res.is_namespaced() { ns } else { None };
                        match self.store.get(&res, owner_ns, &owner.name).await {
                            Ok(o) if o.metadata.uid.as_deref() == Some(owner.uid.as_str()) => {
                                Some(o)
                            }
                            Ok(_) => None,
                            Err(e) if e.is_not_found() => None,
                            Err(e) => return Err(e),
                        }
                    }
                    None => None,
                },
            };
            match live {
                None => gone.push(owner.uid.clone()),
                Some(o)
                    if o.metadata.is_being_deleted()
                        && o.metadata.has_finalizer(FOREGROUND_FINALIZER) =>
                {
                    waiting += 1;
                    gone.push(owner.uid.clone());
                }
                Some(_) => solid += 1,
            }
        }
        let result = if solid > 0 {
            // Another owner keeps it: drop the references to dangling owners and to owners
            // waiting for their dependents (upstream's attemptToDeleteItem).
            if gone.is_empty() {
                return Ok(());
            }
            let refs: Vec<_> = obj
                .metadata
                .owner_references
                .iter()
                .filter(|r| !gone.contains(&r.uid))
                .cloned()
                .collect();
            let options = PatchOptions {
                resource_version: obj.metadata.resource_version.clone(),
                ..PatchOptions::default()
            };
            let patch = Patch::Merge(json!({ "metadata": { "ownerReferences": refs } }));
            self.store
                .patch(resource, ns, name, &patch, &options)
                .await
                .map(|_| ())
        } else {
            // Upstream's choice: foreground when an owner waits for its dependents and this
            // object has dependents of its own; otherwise a finalizer the object already carries
            // decides, then background.
            let policy = if waiting > 0 && !self.dependents(&uid).is_empty() {
                Propagation::Foreground
            } else if obj.metadata.has_finalizer(ORPHAN_FINALIZER) {
                Propagation::Orphan
            } else if obj.metadata.has_finalizer(FOREGROUND_FINALIZER) {
                Propagation::Foreground
            } else {
                Propagation::Background
            };
            tracing::debug!(object = %key, kind = resource.kind(), %policy, "garbage collecting");
            let options = DeleteOptions {
                preconditions: Some(Preconditions {
                    uid: Some(uid.clone()),
                    resource_version: None,
                }),
                propagation_policy: Some(policy),
                grace_period_seconds: None,
            };
            self.store
                .delete(resource, ns, name, &options)
                .await
                .map(|_| ())
        };
        match result {
            // Gone, or replaced by a new object of the same name: nothing left to collect.
            Err(e) if e.is_not_found() || e.is_conflict() => Ok(()),
            other => other,
        }
    }
}

/// Runs the garbage collector until the manager's shutdown.
pub async fn run(m: ControllerManager, config: GcConfig) {
    let caches: Vec<Reader<DynamicObject>> = config
        .resources
        .iter()
        .map(|res| {
            m.informers
                .informer_with(
                    &Api::<DynamicObject>::all_with(m.store.clone(), res),
                    &watcher::Config::default(),
                    gc_cache_config,
                )
                .reader()
        })
        .collect();
    let queue = WorkQueue::with_limiter(
        "garbagecollector",
        Box::new(kybern_reconciler::runtime::queue::default_controller_rate_limiter()),
        &m.metrics,
    );
    let gc = Arc::new(Gc {
        store: m.store.clone(),
        resources: config.resources.clone(),
        caches,
        registry: config.registry,
        queue: queue.clone(),
    });
    let stop = Shutdown::new();
    for (i, cache) in gc.caches.iter().enumerate() {
        let mut rx = cache.subscribe();
        let gc = Arc::clone(&gc);
        let stop = stop.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = stop.wait() => break,
                    change = rx.recv() => match change {
                        Some(c) => gc.on_change(i, &c),
                        None => break,
                    }
                }
            }
        });
    }
    let mut workers = Vec::new();
    for _ in 0..config.workers.max(1) {
        let gc = Arc::clone(&gc);
        let cancel = m.cancel.clone();
        workers.push(tokio::spawn(async move {
            loop {
                let item = tokio::select! {
                    i = gc.queue.get() => i,
                    () = cancel.wait() => None,
                };
                let Some(item) = item else { break };
                match gc.process(&item).await {
                    Ok(()) => gc.queue.forget(&item),
                    Err(e) => {
                        tracing::debug!(object = %item.1, error = %e, "garbage collector: retrying");
                        gc.queue.add_rate_limited(item.clone());
                    }
                }
                gc.queue.done(&item);
            }
        }));
    }
    tokio::select! {
        () = m.shutdown.wait() => {}
        () = m.cancel.wait() => {}
    }
    queue.shutdown();
    for w in workers {
        let _ = w.await;
    }
    stop.trigger();
}

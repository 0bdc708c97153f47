//! Running the EndpointSlice logic against a store: sync one Service, sync all, and a simple
//! watch loop (Services and Pods). The controller on the Kybern runtime, with the incremental
//! path, is [`super::runtime`]; this loop stays as the simplest store-backed driver.

use std::borrow::Borrow;
use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;

use futures::StreamExt;
use kybern_core::api::core::v1::{Endpoints, Pod, Service};
use kybern_core::api::discovery::v1::EndpointSlice;
use kybern_reconciler::{
    Api, DeleteParams, ListParams, Store, StoreError, WatchEvent, WatchParams,
};

use super::LABEL_SERVICE_NAME;
use super::endpoints::desired_endpoints;
use super::reconciler::{SliceChanges, SliceReconciler};

/// What one sync wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncStats {
    /// Slices created.
    pub created: usize,
    /// Slices updated.
    pub updated: usize,
    /// Slices deleted.
    pub deleted: usize,
    /// Whether the legacy `Endpoints` object was written.
    pub endpoints_written: bool,
}

impl SyncStats {
    /// Slice writes in total.
    pub fn slice_writes(&self) -> usize {
        self.created + self.updated + self.deleted
    }

    fn add(&mut self, o: SyncStats) {
        self.created += o.created;
        self.updated += o.updated;
        self.deleted += o.deleted;
        self.endpoints_written |= o.endpoints_written;
    }
}

/// The EndpointSlice (and Endpoints mirroring) controller over a store.
pub struct EndpointSliceController {
    store: Arc<dyn Store>,
    /// Packing settings.
    pub reconciler: SliceReconciler,
    /// Whether to also maintain the legacy `Endpoints` object.
    pub mirror_endpoints: bool,
}

impl EndpointSliceController {
    /// A controller with default settings, mirroring `Endpoints`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            reconciler: SliceReconciler::default(),
            mirror_endpoints: true,
        }
    }

    /// Brings the slices (and Endpoints) of Service `ns/name` up to date. A Service that no
    /// longer exists has its managed slices deleted (this store has no garbage collector).
    ///
    /// # Errors
    /// Store errors (a Conflict means another writer raced: sync again).
    pub async fn sync_service(&self, ns: &str, name: &str) -> Result<SyncStats, StoreError> {
        let services: Api<Service> = Api::namespaced(self.store.clone(), ns);
        let slices: Api<EndpointSlice> = Api::namespaced(self.store.clone(), ns);
        let pods: Api<Pod> = Api::namespaced(self.store.clone(), ns);
        let by_service = ListParams::default().labels(&format!("{LABEL_SERVICE_NAME}={name}"));
        let existing = slices.list(&by_service).await?.items;
        let mut stats = SyncStats::default();
        let Some(service) = services.get_opt(name).await? else {
            for s in existing {
                if let Some(n) = s.metadata.name.as_deref() {
                    slices.delete(n, &DeleteParams::default()).await?;
                    stats.deleted += 1;
                }
            }
            return Ok(stats);
        };
        let selector = service
            .spec
            .as_ref()
            .map(|s| s.selector.clone())
            .unwrap_or_default();
        if selector.is_empty() {
            return Ok(stats); // endpoints of selectorless Services are managed by hand
        }
        let sel: Vec<String> = selector.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let pod_list = pods
            .list(&ListParams::default().labels(&sel.join(",")))
            .await?
            .items;
        let changes = self.reconciler.reconcile(&service, &pod_list, &existing);
        write_changes(&slices, changes, &mut stats).await?;
        if self.mirror_endpoints {
            let eps: Api<Endpoints> = Api::namespaced(self.store.clone(), ns);
            stats.endpoints_written = write_endpoints(&eps, &service, &pod_list).await?;
        }
        Ok(stats)
    }

    /// Syncs every Service in the store.
    ///
    /// # Errors
    /// Store errors.
    pub async fn sync_all(&self) -> Result<SyncStats, StoreError> {
        let services: Api<Service> = Api::all(self.store.clone());
        let mut stats = SyncStats::default();
        for s in services.list(&ListParams::default()).await?.items {
            let (Some(ns), Some(name)) =
                (s.metadata.namespace.as_deref(), s.metadata.name.as_deref())
            else {
                continue;
            };
            stats.add(self.sync_service(ns, name).await?);
        }
        Ok(stats)
    }

    /// Syncs everything, then watches Services and Pods and re-syncs the affected Services
    /// (a Pod event re-syncs every Service of its namespace) until `stop` completes.
    ///
    /// # Errors
    /// Store errors (an expired watch ends the loop: call again to relist).
    pub async fn run(&self, stop: impl Future<Output = ()>) -> Result<(), StoreError> {
        self.sync_all().await?;
        let rev = self.store.current_revision().await?.to_string();
        let params = WatchParams {
            resource_version: Some(rev),
            ..WatchParams::default()
        };
        let mut svc_events = Api::<Service>::all(self.store.clone())
            .watch(&params)
            .await?;
        let mut pod_events = Api::<Pod>::all(self.store.clone()).watch(&params).await?;
        tokio::pin!(stop);
        loop {
            let mut dirty: BTreeSet<(String, String)> = BTreeSet::new();
            let mut dirty_ns: BTreeSet<String> = BTreeSet::new();
            tokio::select! {
                () = &mut stop => return Ok(()),
                ev = svc_events.next() => match ev {
                    Some(ev) => if let Some(s) = object(ev?) {
                        dirty.insert((s.metadata.namespace.unwrap_or_default(), s.metadata.name.unwrap_or_default()));
                    },
                    None => return Ok(()),
                },
                ev = pod_events.next() => match ev {
                    Some(ev) => if let Some(p) = object(ev?) {
                        dirty_ns.insert(p.metadata.namespace.unwrap_or_default());
                    },
                    None => return Ok(()),
                },
            }
            for ns in dirty_ns {
                let services: Api<Service> = Api::namespaced(self.store.clone(), &ns);
                for s in services.list(&ListParams::default()).await?.items {
                    dirty.insert((ns.clone(), s.metadata.name.unwrap_or_default()));
                }
            }
            for (ns, name) in dirty {
                self.sync_service(&ns, &name).await?;
            }
        }
    }
}

/// What [`write_changes`] wrote: the slices as the store returned them, and deleted names.
#[derive(Debug, Default)]
pub(crate) struct Written {
    pub(crate) slices: Vec<EndpointSlice>,
    pub(crate) deleted: Vec<String>,
}

/// Writes `changes` (creates, updates, deletes) and counts them in `stats`.
pub(crate) async fn write_changes(
    slices: &Api<EndpointSlice>,
    changes: SliceChanges,
    stats: &mut SyncStats,
) -> Result<Written, StoreError> {
    let mut out = Written::default();
    for s in &changes.create {
        out.slices.push(slices.create(s).await?);
        stats.created += 1;
    }
    for s in &changes.update {
        out.slices.push(slices.update(s).await?);
        stats.updated += 1;
    }
    for s in changes.delete {
        if let Some(n) = s.metadata.name {
            slices.delete(&n, &DeleteParams::default()).await?;
            stats.deleted += 1;
            out.deleted.push(n);
        }
    }
    Ok(out)
}

/// Brings the legacy `Endpoints` object of `service` up to date; whether it was written.
pub(crate) async fn write_endpoints<P: Borrow<Pod>>(
    eps: &Api<Endpoints>,
    service: &Service,
    pods: &[P],
) -> Result<bool, StoreError> {
    let want = desired_endpoints(service, pods);
    let name = want.metadata.name.clone().unwrap_or_default();
    match eps.get_opt(&name).await? {
        None => {
            eps.create(&want).await?;
            Ok(true)
        }
        Some(mut have) => {
            if have.subsets == want.subsets
                && have.metadata.labels == want.metadata.labels
                && have.metadata.annotations == want.metadata.annotations
            {
                return Ok(false);
            }
            have.subsets = want.subsets;
            have.metadata.labels = want.metadata.labels;
            have.metadata.annotations = want.metadata.annotations;
            eps.update(&have).await?;
            Ok(true)
        }
    }
}

fn object<T>(ev: WatchEvent<T>) -> Option<T> {
    match ev {
        WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) => Some(o),
        WatchEvent::Bookmark(_) => None,
    }
}

//! [`StorageController`]: runs the reconcile functions against a store, pass after pass,
//! and re-syncs whenever a watch reports a change.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::hash::{Hash as _, Hasher as _};
use std::sync::{Arc, Mutex};

use futures::{FutureExt as _, StreamExt as _};
use kybern_core::Quantity;
use kybern_core::api::core::v1::{
    Event, EventSource, Node, PersistentVolume, PersistentVolumeClaim, Pod,
};
use kybern_core::api::storage::v1::StorageClass;
use kybern_reconciler::{Api, DeleteParams, ListParams, Store, StoreError, WatchParams};

use super::events::{self, EventRecord, EventType};
use super::state::Snapshot;
use super::{Action, reconcile_claim, reconcile_volume};
use crate::annotations::{
    BOUND_BY_CONTROLLER, PROVISIONED_BY, PV_PROTECTION_FINALIZER, RECLAIM_DELETE, STORAGE,
    VOLUME_FAILED,
};
use crate::provision::Provisioner;

/// The component name written into Events.
pub const COMPONENT: &str = "persistentvolume-controller";

/// A controller run that could not finish.
#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// Passes kept changing objects.
    #[error("storage objects still changing after {0} passes")]
    NotStable(usize),
}

/// Runs the PV controller against a store with a set of provisioners.
pub struct StorageController {
    store: Arc<dyn Store>,
    provisioners: BTreeMap<String, Arc<dyn Provisioner>>,
    recorded: Mutex<HashSet<u64>>,
}

impl std::fmt::Debug for StorageController {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageController")
            .field(
                "provisioners",
                &self.provisioners.keys().collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

fn name(meta: &kybern_core::api::meta::v1::ObjectMeta) -> String {
    meta.name.clone().unwrap_or_default()
}

fn ns(meta: &kybern_core::api::meta::v1::ObjectMeta) -> String {
    meta.namespace.clone().unwrap_or_default()
}

/// A write that lost a race; the pass ends for that object and the next pass retries.
fn is_race(e: &StoreError) -> bool {
    e.is_conflict() || e.is_not_found()
}

impl StorageController {
    /// A controller over `store` without provisioners.
    pub fn new(store: Arc<dyn Store>) -> Self {
        StorageController {
            store,
            provisioners: BTreeMap::new(),
            recorded: Mutex::new(HashSet::new()),
        }
    }

    /// Adds a provisioner (used for classes whose `provisioner` is its name).
    pub fn with_provisioner(mut self, provisioner: Arc<dyn Provisioner>) -> Self {
        self.provisioners
            .insert(provisioner.name().to_owned(), provisioner);
        self
    }

    /// Reads every volume, claim, class, pod and node.
    ///
    /// # Errors
    /// When a list fails.
    pub async fn snapshot(&self) -> Result<Snapshot, StoreError> {
        let p = ListParams::default();
        let volumes = Api::<PersistentVolume>::all(self.store.clone())
            .list(&p)
            .await?;
        let claims = Api::<PersistentVolumeClaim>::all(self.store.clone())
            .list(&p)
            .await?;
        let classes = Api::<StorageClass>::all(self.store.clone())
            .list(&p)
            .await?;
        let pods = Api::<Pod>::all(self.store.clone()).list(&p).await?;
        let nodes = Api::<Node>::all(self.store.clone()).list(&p).await?;
        Ok(Snapshot::new(
            volumes.items,
            claims.items,
            classes.items,
            &pods.items,
            nodes.items,
            self.provisioners.keys().cloned(),
        ))
    }

    /// One pass: reconcile every claim, then every volume the claims did not touch, and
    /// apply the actions. Returns how many writes changed something (or lost a race).
    ///
    /// # Errors
    /// When the store fails for another reason than a conflict.
    pub async fn sync_once(&self) -> Result<usize, StoreError> {
        let snap = self.snapshot().await?;
        let mut changes = 0;
        let mut touched = HashSet::new();
        for claim in snap.claims() {
            let actions = reconcile_claim(&snap, claim);
            for a in &actions {
                if let Action::UpdateVolume(v) = a {
                    touched.insert(name(&v.metadata));
                }
            }
            changes += self.apply(actions).await?;
        }
        for volume in snap.volumes() {
            if touched.contains(&name(&volume.metadata)) {
                continue;
            }
            changes += self.apply(reconcile_volume(&snap, volume)).await?;
        }
        Ok(changes)
    }

    /// Passes until one changes nothing (at most `max_passes`); returns the passes run.
    ///
    /// # Errors
    /// Store failures, or [`ControllerError::NotStable`].
    pub async fn sync_until_stable(&self, max_passes: usize) -> Result<usize, ControllerError> {
        for pass in 1..=max_passes {
            if self.sync_once().await? == 0 {
                return Ok(pass);
            }
        }
        Err(ControllerError::NotStable(max_passes))
    }

    /// Syncs, then re-syncs whenever a volume, claim, class, pod or node changes, until
    /// `shutdown` completes. Watches that expire are re-opened.
    ///
    /// # Errors
    /// Store failures, or [`ControllerError::NotStable`].
    pub async fn run(&self, shutdown: impl Future<Output = ()>) -> Result<(), ControllerError> {
        let shutdown = shutdown.fuse();
        futures::pin_mut!(shutdown);
        loop {
            let p = WatchParams::default();
            let s = self.store.clone();
            let streams = vec![
                Api::<PersistentVolume>::all(s.clone())
                    .watch(&p)
                    .await?
                    .map(|e| e.map(drop))
                    .boxed(),
                Api::<PersistentVolumeClaim>::all(s.clone())
                    .watch(&p)
                    .await?
                    .map(|e| e.map(drop))
                    .boxed(),
                Api::<StorageClass>::all(s.clone())
                    .watch(&p)
                    .await?
                    .map(|e| e.map(drop))
                    .boxed(),
                Api::<Pod>::all(s.clone())
                    .watch(&p)
                    .await?
                    .map(|e| e.map(drop))
                    .boxed(),
                Api::<Node>::all(s)
                    .watch(&p)
                    .await?
                    .map(|e| e.map(drop))
                    .boxed(),
            ];
            let mut changes = futures::stream::select_all(streams);
            self.sync_until_stable(100).await?;
            loop {
                futures::select! {
                    () = shutdown => return Ok(()),
                    item = changes.next() => match item {
                        None | Some(Err(_)) => break,
                        Some(Ok(())) => {
                            // Take every change already queued, then sync once for all.
                            while let Some(Some(Ok(()))) = changes.next().now_or_never() {}
                            self.sync_until_stable(100).await?;
                        }
                    },
                }
            }
        }
    }

    async fn apply(&self, actions: Vec<Action>) -> Result<usize, StoreError> {
        let mut latest: HashMap<(String, String), String> = HashMap::new();
        let mut changes = 0;
        for action in actions {
            match self.apply_one(action, &mut latest).await {
                Ok(n) => changes += n,
                Err(e) if is_race(&e) => return Ok(changes + 1),
                Err(e) => return Err(e),
            }
        }
        Ok(changes)
    }

    async fn apply_one(
        &self,
        action: Action,
        latest: &mut HashMap<(String, String), String>,
    ) -> Result<usize, StoreError> {
        match action {
            Action::UpdateVolume(v) => {
                let api = Api::<PersistentVolume>::all(self.store.clone());
                self.write(&api, *v, latest).await
            }
            Action::UpdateClaim(c) => {
                let api =
                    Api::<PersistentVolumeClaim>::namespaced(self.store.clone(), &ns(&c.metadata));
                self.write(&api, *c, latest).await
            }
            Action::Event(e) => self.record(e).await.map(|()| 0),
            Action::Provision { claim, class, node } => {
                self.provision(&claim, &class, node.as_deref()).await
            }
            Action::DeleteVolume(v) => self.delete_volume(*v).await,
            Action::ExpandVolume {
                volume,
                claim,
                size,
            } => self.expand(*volume, *claim, size).await,
        }
    }

    /// Writes metadata+spec (when changed) then status (when changed), each guarded by the
    /// resourceVersion the action was computed from (or the one this action list last wrote).
    async fn write<K: Writable>(
        &self,
        api: &Api<K>,
        mut obj: K,
        latest: &mut HashMap<(String, String), String>,
    ) -> Result<usize, StoreError> {
        let meta = obj.meta().clone();
        let key = (ns(&meta), name(&meta));
        if let Some(rv) = latest.get(&key) {
            obj.meta_mut().resource_version = Some(rv.clone());
        }
        let current = api.get(&name(&meta)).await?;
        if current.meta().resource_version != obj.meta().resource_version {
            return Err(StoreError::Conflict {
                resource: Box::new(api.resource().clone()),
                name: name(&meta),
                message: "the object has been modified".into(),
            });
        }
        let mut changes = 0;
        let mut now = current;
        if !now.same_main(&obj) {
            now = api.update(&obj).await?;
            changes += 1;
        }
        if !now.same_status(&obj) {
            now.take_status_from(&obj);
            now = api.update_status(&now).await?;
            changes += 1;
        }
        if let Some(rv) = now.meta().resource_version.clone() {
            latest.insert(key, rv);
        }
        Ok(changes)
    }

    /// Records an Event once per (object, type, reason, message).
    async fn record(&self, e: EventRecord) -> Result<(), StoreError> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (
            &e.object.uid,
            &e.object.name,
            &e.object.namespace,
            e.type_,
            &e.reason,
            &e.message,
        )
            .hash(&mut h);
        let key = h.finish();
        {
            let mut seen = self.recorded.lock().unwrap_or_else(|p| p.into_inner());
            if !seen.insert(key) {
                return Ok(());
            }
        }
        let namespace = e
            .object
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "default".to_owned());
        let now = kybern_core::Time::from(jiff::Timestamp::now());
        let mut ev = Event::default();
        ev.metadata.name = Some(format!(
            "{}.{key:016x}",
            e.object.name.as_deref().unwrap_or("object")
        ));
        ev.metadata.namespace = Some(namespace.clone());
        ev.involved_object = e.object;
        ev.type_ = Some(e.type_.as_str().to_owned());
        ev.reason = Some(e.reason);
        ev.message = Some(e.message);
        ev.count = Some(1);
        ev.first_timestamp = Some(now);
        ev.last_timestamp = Some(now);
        ev.source = Some(EventSource {
            component: Some(COMPONENT.to_owned()),
            host: None,
        });
        ev.reporting_component = Some(COMPONENT.to_owned());
        match Api::<Event>::namespaced(self.store.clone(), &namespace)
            .create(&ev)
            .await
        {
            Ok(_) => Ok(()),
            Err(StoreError::AlreadyExists { .. }) => Ok(()),
            Err(err) => Err(err),
        }
    }

    async fn provision(
        &self,
        claim: &PersistentVolumeClaim,
        class: &StorageClass,
        node: Option<&Node>,
    ) -> Result<usize, StoreError> {
        let Some(provisioner) = self.provisioners.get(&class.provisioner) else {
            return Ok(0);
        };
        let class_name = name(&class.metadata);
        let mut pv = match provisioner.provision(claim, class, node) {
            Ok(pv) => pv,
            Err(err) => {
                self.record(EventRecord::claim(
                    claim,
                    EventType::Warning,
                    events::PROVISIONING_FAILED,
                    format!("failed to provision volume with StorageClass {class_name:?}: {err}"),
                ))
                .await?;
                return Ok(0);
            }
        };
        let spec = pv.spec.get_or_insert_default();
        spec.claim_ref = Some(events::claim_reference(claim));
        spec.storage_class_name = Some(class_name);
        spec.persistent_volume_reclaim_policy = Some(
            class
                .reclaim_policy
                .clone()
                .unwrap_or_else(|| RECLAIM_DELETE.to_owned()),
        );
        if spec.mount_options.is_empty() {
            spec.mount_options = class.mount_options.clone();
        }
        pv.metadata
            .annotations
            .insert(PROVISIONED_BY.to_owned(), provisioner.name().to_owned());
        pv.metadata
            .annotations
            .insert(BOUND_BY_CONTROLLER.to_owned(), "yes".to_owned());
        if !pv
            .metadata
            .finalizers
            .iter()
            .any(|f| f == PV_PROTECTION_FINALIZER)
        {
            pv.metadata
                .finalizers
                .push(PV_PROTECTION_FINALIZER.to_owned());
        }
        let pv_name = name(&pv.metadata);
        match Api::<PersistentVolume>::all(self.store.clone())
            .create(&pv)
            .await
        {
            Ok(_) => {}
            Err(StoreError::AlreadyExists { .. }) => return Ok(0),
            Err(err) => return Err(err),
        }
        self.record(EventRecord::claim(
            claim,
            EventType::Normal,
            events::PROVISIONING_SUCCEEDED,
            format!(
                "Successfully provisioned volume {pv_name} using {}",
                provisioner.name()
            ),
        ))
        .await?;
        Ok(1)
    }

    async fn delete_volume(&self, volume: PersistentVolume) -> Result<usize, StoreError> {
        let provisioner = volume
            .metadata
            .annotations
            .get(PROVISIONED_BY)
            .and_then(|p| self.provisioners.get(p));
        let Some(provisioner) = provisioner else {
            return Ok(0);
        };
        let api = Api::<PersistentVolume>::all(self.store.clone());
        match provisioner.delete(&volume) {
            Ok(()) => {
                let uid = volume.metadata.uid.clone().unwrap_or_default();
                api.delete(&name(&volume.metadata), &DeleteParams::with_uid(&uid))
                    .await?;
                Ok(1)
            }
            Err(err) => {
                let message = err.to_string();
                let mut failed = volume.clone();
                let st = failed.status.get_or_insert_default();
                st.phase = Some(VOLUME_FAILED.to_owned());
                st.message = Some(message.clone());
                let n = self.write(&api, failed, &mut HashMap::new()).await?;
                self.record(EventRecord::volume(
                    &volume,
                    EventType::Warning,
                    events::VOLUME_FAILED_DELETE,
                    message,
                ))
                .await?;
                Ok(n)
            }
        }
    }

    async fn expand(
        &self,
        volume: PersistentVolume,
        claim: PersistentVolumeClaim,
        size: Quantity,
    ) -> Result<usize, StoreError> {
        let provisioner = volume
            .metadata
            .annotations
            .get(PROVISIONED_BY)
            .and_then(|p| self.provisioners.get(p));
        let Some(provisioner) = provisioner else {
            return Ok(0);
        };
        let pvs = Api::<PersistentVolume>::all(self.store.clone());
        let claims =
            Api::<PersistentVolumeClaim>::namespaced(self.store.clone(), &ns(&claim.metadata));
        let mut latest = HashMap::new();
        match provisioner.expand(&volume, size) {
            Ok(new_size) => {
                let mut v = volume.clone();
                v.spec
                    .get_or_insert_default()
                    .capacity
                    .insert(STORAGE.to_owned(), new_size);
                let mut n = self.write(&pvs, v, &mut latest).await?;
                let mut c = claim.clone();
                let st = c.status.get_or_insert_default();
                st.capacity.insert(STORAGE.to_owned(), new_size);
                st.allocated_resources.insert(STORAGE.to_owned(), new_size);
                st.allocated_resource_statuses.remove(STORAGE);
                st.conditions
                    .retain(|c| c.type_ != "Resizing" && c.type_ != "FileSystemResizePending");
                n += self.write(&claims, c, &mut latest).await?;
                self.record(EventRecord::claim(
                    &claim,
                    EventType::Normal,
                    events::VOLUME_RESIZE_SUCCESSFUL,
                    "Resize volume succeeded",
                ))
                .await?;
                Ok(n)
            }
            Err(err) => {
                let mut c = claim.clone();
                let st = c.status.get_or_insert_default();
                st.allocated_resources.insert(STORAGE.to_owned(), size);
                st.allocated_resource_statuses.insert(
                    STORAGE.to_owned(),
                    super::claims::RESIZE_INFEASIBLE.to_owned(),
                );
                let n = self.write(&claims, c, &mut latest).await?;
                self.record(EventRecord::claim(
                    &claim,
                    EventType::Warning,
                    events::VOLUME_RESIZE_FAILED,
                    format!("resize volume {:?} failed: {err}", name(&volume.metadata)),
                ))
                .await?;
                Ok(n)
            }
        }
    }
}

/// Objects written as metadata+spec, then status.
trait Writable:
    kybern_core::Resource
    + Clone
    + serde::Serialize
    + serde::de::DeserializeOwned
    + Send
    + Sync
    + 'static
{
    fn same_main(&self, other: &Self) -> bool;
    fn same_status(&self, other: &Self) -> bool;
    fn take_status_from(&mut self, other: &Self);
}

macro_rules! writable {
    ($t:ty) => {
        impl Writable for $t {
            fn same_main(&self, other: &Self) -> bool {
                self.metadata == other.metadata && self.spec == other.spec
            }
            fn same_status(&self, other: &Self) -> bool {
                self.status == other.status
            }
            fn take_status_from(&mut self, other: &Self) {
                self.status = other.status.clone();
            }
        }
    };
}

writable!(PersistentVolume);
writable!(PersistentVolumeClaim);

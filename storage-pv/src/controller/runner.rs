//! [`StorageController`]: the PV controller on the runtime's [`Controller`]: one controller
//! reconciles claims, one reconciles volumes, both reading the shared informer caches (through
//! a [`CacheView`] per reconcile) and applying the pure reconcile functions' actions.
//!
//! # What wakes what
//! - a claim reconciles when it changes, when a volume whose `claimRef` names it (before or
//!   after the change) changes, when a volume becomes available for its class while it has
//!   no volume, when a StorageClass changes while it is unbound, when a pod using it changes
//!   or goes (pvc-protection), and when the node it was scheduled to appears;
//! - a volume reconciles when it changes, and when the claim it is bound to (its `claimRef`,
//!   or the claim naming it in `spec.volumeName`) changes or goes.
//!
//! A write that loses a race (conflict, object gone) requeues the object after 100 ms (not
//! through the rate limiter: such races are routine while the caches catch up with the
//! controller's own writes); nothing is re-listed. Upstream also re-syncs every object every 15 s; every input of the
//! reconcile functions is watched here, so there is no periodic re-sync.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, RwLock};

use kybern_core::Quantity;
use kybern_core::api::core::v1::{Node, PersistentVolume, PersistentVolumeClaim, Pod};
use kybern_core::api::storage::v1::StorageClass;
use kybern_reconciler::runtime::controller::{Action as RtAction, Controller};
use kybern_reconciler::runtime::events::{EventType as RtEventType, Recorder};
use kybern_reconciler::runtime::reflector::{CacheConfig, Change, ObjectKey};
use kybern_reconciler::runtime::{SharedInformers, Shutdown, watcher};
use kybern_reconciler::{Api, DeleteParams, Store, StoreError};

use super::events::{self, EventRecord, EventType};
use super::view::{
    Caches, PENDING_CLAIM_CLASS_INDEX, POD_CLAIMS_INDEX, VOLUME_CLAIM_REF_INDEX, indexed,
    pending_claim_class_keys, pod_claim_keys, volume_claim_ref_keys,
};
use super::{Action, reconcile_claim, reconcile_volume};
use crate::annotations::{
    BOUND_BY_CONTROLLER, PROVISIONED_BY, PV_PROTECTION_FINALIZER, RECLAIM_DELETE, SELECTED_NODE,
    STORAGE, VOLUME_AVAILABLE, VOLUME_FAILED, volume_class,
};
use crate::matching::VolumeIndex;
use crate::provision::Provisioner;

/// The component name written into Events.
pub const COMPONENT: &str = "persistentvolume-controller";

/// A reconcile that could not finish (retried with backoff).
#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

/// Runs the PV controller against a store with a set of provisioners.
pub struct StorageController {
    store: Arc<dyn Store>,
    provisioners: BTreeMap<String, Arc<dyn Provisioner>>,
    recorder: Recorder,
    informers: SharedInformers,
    concurrency: usize,
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

/// Applies actions to the store: writes, provisioning, deletion, expansion, Events.
struct Executor {
    store: Arc<dyn Store>,
    provisioners: BTreeMap<String, Arc<dyn Provisioner>>,
    recorder: Recorder,
}

fn name(meta: &kybern_core::api::meta::v1::ObjectMeta) -> String {
    meta.name.clone().unwrap_or_default()
}

fn ns(meta: &kybern_core::api::meta::v1::ObjectMeta) -> String {
    meta.namespace.clone().unwrap_or_default()
}

/// How long after a lost race an object is reconciled again (not rate limited: races are
/// expected while the caches catch up with the controller's own writes).
const RACE_REQUEUE: std::time::Duration = std::time::Duration::from_millis(100);

/// A write that lost a race; the object is requeued and reconciled again.
fn is_race(e: &StoreError) -> bool {
    e.is_conflict() || e.is_not_found()
}

/// What the two controllers share: the executor and the caches.
struct Context {
    exec: Arc<Executor>,
    caches: Caches,
}

/// Calls `f` with the new and old state of a changed object (the last state of a deleted one).
fn each_state<K>(change: &Change<K>, mut f: impl FnMut(&K)) {
    match change {
        Change::Applied { old, new } => {
            f(new);
            if let Some(old) = old {
                f(old);
            }
        }
        Change::Deleted(old) => f(old),
    }
}

fn claim_key_of(namespace: Option<&str>, name: Option<&str>) -> ObjectKey {
    ObjectKey::new(namespace, name.unwrap_or(""))
}

/// Whether a volume is one an unbound claim could take now.
fn offers_itself(v: &PersistentVolume) -> bool {
    v.spec.as_ref().is_none_or(|s| s.claim_ref.is_none())
        && v.status.as_ref().and_then(|s| s.phase.as_deref()) == Some(VOLUME_AVAILABLE)
}

impl StorageController {
    /// A controller over `store` without provisioners.
    pub fn new(store: Arc<dyn Store>) -> Self {
        let recorder = Recorder::new(store.clone(), COMPONENT, COMPONENT);
        StorageController {
            store,
            provisioners: BTreeMap::new(),
            recorder,
            informers: SharedInformers::new(),
            concurrency: 4,
        }
    }

    /// Adds a provisioner (used for classes whose `provisioner` is its name).
    pub fn with_provisioner(mut self, provisioner: Arc<dyn Provisioner>) -> Self {
        self.provisioners
            .insert(provisioner.name().to_owned(), provisioner);
        self
    }

    /// Shares watches and caches with other controllers in the process (the caches this
    /// controller starts itself carry its indexes; caches started before without them are
    /// read by filtering).
    pub fn with_informers(mut self, informers: &SharedInformers) -> Self {
        self.informers = informers.clone();
        self
    }

    /// Reconciles at most `n` claims and `n` volumes at a time (default 4).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Runs the claim and volume controllers until `shutdown` fires (in-flight reconciles
    /// finish first).
    pub async fn run(&self, shutdown: Shutdown) {
        let exec = Arc::new(Executor {
            store: self.store.clone(),
            provisioners: self.provisioners.clone(),
            recorder: self.recorder.clone(),
        });
        let store = self.store.clone();
        let cfg = watcher::Config::default();
        let pvs = Api::<PersistentVolume>::all(store.clone());
        let pvcs = Api::<PersistentVolumeClaim>::all(store.clone());
        let classes = Api::<StorageClass>::all(store.clone());
        let pods = Api::<Pod>::all(store.clone());
        let nodes = Api::<Node>::all(store);
        let inf = &self.informers;
        let caches = Caches {
            volumes: inf
                .informer_with(&pvs, &cfg, || {
                    CacheConfig::default().with_index(VOLUME_CLAIM_REF_INDEX, volume_claim_ref_keys)
                })
                .reader(),
            claims: inf
                .informer_with(&pvcs, &cfg, || {
                    CacheConfig::default()
                        .with_index(PENDING_CLAIM_CLASS_INDEX, pending_claim_class_keys)
                })
                .reader(),
            classes: inf.informer(&classes, &cfg).reader(),
            pods: inf
                .informer_with(&pods, &cfg, || {
                    CacheConfig::default().with_index(POD_CLAIMS_INDEX, pod_claim_keys)
                })
                .reader(),
            nodes: inf.informer(&nodes, &cfg).reader(),
            index: Arc::new(RwLock::new(VolumeIndex::new())),
            provisioners: self.provisioners.keys().cloned().collect::<BTreeSet<_>>(),
        };
        let ctx = Arc::new(Context {
            exec,
            caches: caches.clone(),
        });

        let c = caches.clone();
        let pending = move |class: &str| -> Vec<ObjectKey> {
            indexed(&c.claims, PENDING_CLAIM_CLASS_INDEX, class, |pvc| {
                pending_claim_class_keys(pvc).iter().any(|k| k == class)
            })
            .iter()
            .map(|pvc| ObjectKey::of(pvc.as_ref()))
            .collect()
        };
        let pending2 = pending.clone();
        let c = caches.clone();
        let claims_ctrl = Controller::new(pvcs.clone(), cfg.clone())
            .name("persistentvolume-claims")
            .shared_informers(inf)
            .concurrency(self.concurrency)
            .graceful_shutdown_on(shutdown.clone())
            .watches_changes(pvs.clone(), cfg.clone(), move |change| {
                // The index learns the change before any claim it wakes is reconciled.
                c.index_volume(change);
                let mut keys = Vec::new();
                let mut claim_ref = |v: &PersistentVolume| {
                    if let Some(r) = v.spec.as_ref().and_then(|s| s.claim_ref.as_ref()) {
                        keys.push(claim_key_of(r.namespace.as_deref(), r.name.as_deref()));
                    }
                };
                each_state(change, &mut claim_ref);
                if let Change::Applied { old, new } = change
                    && offers_itself(new)
                    && !old.as_deref().is_some_and(offers_itself)
                {
                    keys.extend(pending(volume_class(new)));
                }
                keys
            })
            .watches(classes, cfg.clone(), move |class: &StorageClass| {
                let mut keys = pending2(class.metadata.name.as_deref().unwrap_or(""));
                // Claims without a class wait for a default one.
                keys.extend(pending2(""));
                keys
            })
            .watches_changes(pods, cfg.clone(), |change: &Change<Pod>| {
                let mut keys = Vec::new();
                let push = |p: &Pod| {
                    for c in crate::controller::state::pod_claim_names(p) {
                        keys.push(claim_key_of(p.metadata.namespace.as_deref(), Some(&c)));
                    }
                };
                each_state(change, push);
                keys
            })
            .watches_changes(nodes, cfg.clone(), {
                let c = caches.clone();
                move |change: &Change<Node>| match change {
                    Change::Applied { old: None, new } => {
                        let node = new.metadata.name.as_deref().unwrap_or("");
                        c.claims
                            .filter(|pvc| {
                                pvc.metadata
                                    .annotations
                                    .get(SELECTED_NODE)
                                    .map(String::as_str)
                                    == Some(node)
                            })
                            .iter()
                            .map(|pvc| ObjectKey::of(pvc.as_ref()))
                            .collect()
                    }
                    _ => Vec::new(),
                }
            });

        let c = caches.clone();
        let volumes_ctrl = Controller::new(pvs, cfg.clone())
            .name("persistentvolume-volumes")
            .shared_informers(inf)
            .concurrency(self.concurrency)
            .graceful_shutdown_on(shutdown)
            .watches_changes(pvcs, cfg, move |change: &Change<PersistentVolumeClaim>| {
                let mut keys = Vec::new();
                let push = |pvc: &PersistentVolumeClaim| {
                    if let Some(v) = pvc.spec.as_ref().and_then(|s| s.volume_name.as_deref())
                        && !v.is_empty()
                    {
                        keys.push(ObjectKey::new(None, v));
                    }
                    let key = format!(
                        "{}/{}",
                        pvc.metadata.namespace.as_deref().unwrap_or(""),
                        pvc.metadata.name.as_deref().unwrap_or("")
                    );
                    for pv in indexed(&c.volumes, VOLUME_CLAIM_REF_INDEX, &key, |pv| {
                        volume_claim_ref_keys(pv).contains(&key)
                    }) {
                        keys.push(ObjectKey::of(pv.as_ref()));
                    }
                };
                each_state(change, push);
                keys.sort_by(|a, b| a.name().cmp(b.name()));
                keys.dedup();
                keys
            });

        tokio::join!(
            claims_ctrl.run(reconcile_claim_key, error_policy, ctx.clone()),
            volumes_ctrl.run(reconcile_volume_key, error_policy, ctx),
        );
    }
}

fn error_policy<K>(_obj: Arc<K>, err: &ControllerError, _ctx: Arc<Context>) -> RtAction {
    tracing::debug!(error = %err, "storage reconcile failed; retrying with backoff");
    RtAction::requeue_with_backoff()
}

async fn reconcile_claim_key(
    claim: Arc<PersistentVolumeClaim>,
    ctx: Arc<Context>,
) -> Result<RtAction, ControllerError> {
    let view = ctx.caches.claim_view(&claim);
    let actions = reconcile_claim(&view, &claim);
    drop(view);
    ctx.exec.apply_all(actions).await
}

async fn reconcile_volume_key(
    volume: Arc<PersistentVolume>,
    ctx: Arc<Context>,
) -> Result<RtAction, ControllerError> {
    let view = ctx.caches.volume_view(&volume);
    let actions = reconcile_volume(&view, &volume);
    drop(view);
    ctx.exec.apply_all(actions).await
}

impl Executor {
    /// Applies `actions` in order; a lost race stops and requeues the object.
    async fn apply_all(&self, actions: Vec<Action>) -> Result<RtAction, ControllerError> {
        if actions.is_empty() {
            return Ok(RtAction::await_change());
        }
        tracing::debug!(actions = actions.len(), "applying storage actions");
        let mut latest: HashMap<(String, String), String> = HashMap::new();
        for action in actions {
            match self.apply_one(action, &mut latest).await {
                Ok(_) => {}
                Err(e) if is_race(&e) => {
                    // A newer version exists (its watch event wakes the object again); the
                    // delayed requeue only covers a change that maps to no key.
                    tracing::debug!(error = %e, "storage write lost a race; requeueing");
                    return Ok(RtAction::requeue(RACE_REQUEUE));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(RtAction::await_change())
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

    /// Records an Event through the runtime's recorder: the first occurrence creates it,
    /// repeats raise its `count` and `lastTimestamp`.
    async fn record(&self, e: EventRecord) -> Result<(), StoreError> {
        let type_ = match e.type_ {
            EventType::Normal => RtEventType::Normal,
            EventType::Warning => RtEventType::Warning,
        };
        tracing::debug!(
            object = e.object.name.as_deref().unwrap_or(""),
            reason = %e.reason,
            message = %e.message,
            "recording event"
        );
        match self
            .recorder
            .publish(&e.object, type_, &e.reason, &e.message)
            .await
        {
            Ok(_) => Ok(()),
            // Two recorders raced to create the same Event: it is recorded.
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

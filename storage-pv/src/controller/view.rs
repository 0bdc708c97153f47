//! [`CacheView`]: the [`StorageState`] one reconcile reads, taken from the controller's shared
//! informer caches (and its volume index) instead of listing the store.
//!
//! A view holds only what one claim's or one volume's reconcile can ask for (the volumes it
//! names, its class, the default class, the selected node, whether a pod uses it), fetched
//! when the view is made; the best match is looked up in the [`VolumeIndex`] on first use.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, OnceLock, RwLock};

use kybern_core::api::core::v1::{Node, PersistentVolume, PersistentVolumeClaim, Pod};
use kybern_core::api::storage::v1::StorageClass;
use kybern_reconciler::runtime::Reader;

use super::state::{
    StorageState, pick_default_class, pod_claim_names, pod_scheduled, pod_terminated,
};
use crate::annotations::{SELECTED_NODE, claim_class};
use crate::matching::{MatchError, VolumeIndex};
use crate::provision::volume_name_for_claim;

/// Index of the Pod cache: `namespace/claim` for each claim a non-terminated pod uses.
pub const POD_CLAIMS_INDEX: &str = "storage-claims";
/// Index of the PersistentVolume cache: `namespace/name` of the claim in `spec.claimRef`.
pub const VOLUME_CLAIM_REF_INDEX: &str = "storage-claim-ref";
/// Index of the claim cache: the class of each claim without `spec.volumeName` (the claims
/// a new volume or class may help).
pub const PENDING_CLAIM_CLASS_INDEX: &str = "storage-pending-class";

/// The index values of a pod under [`POD_CLAIMS_INDEX`].
pub fn pod_claim_keys(pod: &Pod) -> Vec<String> {
    if pod_terminated(pod) {
        return Vec::new();
    }
    let ns = pod.metadata.namespace.as_deref().unwrap_or("");
    pod_claim_names(pod)
        .into_iter()
        .map(|c| format!("{ns}/{c}"))
        .collect()
}

/// The index values of a volume under [`VOLUME_CLAIM_REF_INDEX`].
pub fn volume_claim_ref_keys(volume: &PersistentVolume) -> Vec<String> {
    volume
        .spec
        .as_ref()
        .and_then(|s| s.claim_ref.as_ref())
        .map(|r| {
            vec![format!(
                "{}/{}",
                r.namespace.as_deref().unwrap_or(""),
                r.name.as_deref().unwrap_or("")
            )]
        })
        .unwrap_or_default()
}

/// The index values of a claim under [`PENDING_CLAIM_CLASS_INDEX`].
pub fn pending_claim_class_keys(claim: &PersistentVolumeClaim) -> Vec<String> {
    let unbound = claim
        .spec
        .as_ref()
        .and_then(|s| s.volume_name.as_deref())
        .is_none_or(str::is_empty);
    if unbound {
        vec![claim_class(claim).to_owned()]
    } else {
        Vec::new()
    }
}

/// Objects filed under `value` in index `name`, or (when the cache was started without the
/// index, by someone else sharing it) those `fallback` selects.
pub fn indexed<K: kybern_reconciler::runtime::Object>(
    reader: &Reader<K>,
    name: &str,
    value: &str,
    fallback: impl Fn(&K) -> bool,
) -> Vec<Arc<K>> {
    if reader.has_index(name) {
        reader.by_index(name, value)
    } else {
        reader.filter(fallback)
    }
}

/// The shared caches the PV controller reads.
#[derive(Clone, Debug)]
pub struct Caches {
    /// PersistentVolumes (indexed by [`VOLUME_CLAIM_REF_INDEX`]).
    pub volumes: Reader<PersistentVolume>,
    /// Claims (indexed by [`PENDING_CLAIM_CLASS_INDEX`]).
    pub claims: Reader<PersistentVolumeClaim>,
    /// StorageClasses.
    pub classes: Reader<StorageClass>,
    /// Pods (indexed by [`POD_CLAIMS_INDEX`]).
    pub pods: Reader<Pod>,
    /// Nodes.
    pub nodes: Reader<Node>,
    /// The matching index over the volume cache, kept current by the volume watch.
    pub index: Arc<RwLock<VolumeIndex>>,
    /// Provisioners this controller runs.
    pub provisioners: BTreeSet<String>,
}

impl Caches {
    /// The non-terminated pods using the claim `namespace/name`.
    pub fn pods_using(&self, namespace: &str, name: &str) -> Vec<Arc<Pod>> {
        let key = format!("{namespace}/{name}");
        indexed(&self.pods, POD_CLAIMS_INDEX, &key, |p| {
            pod_claim_keys(p).contains(&key)
        })
    }

    /// Applies a volume change to the matching index.
    pub fn index_volume(
        &self,
        change: &kybern_reconciler::runtime::reflector::Change<PersistentVolume>,
    ) {
        use kybern_reconciler::runtime::reflector::Change;
        let mut index = self
            .index
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let key = |v: &PersistentVolume| {
            (
                v.metadata.name.clone().unwrap_or_default(),
                v.metadata.uid.clone().unwrap_or_default(),
            )
        };
        match change {
            Change::Applied { old, new } => {
                if let Some(old) = old
                    && key(old) != key(new)
                {
                    let (n, u) = key(old);
                    index.remove(&n, &u);
                }
                index.upsert((**new).clone());
            }
            Change::Deleted(old) => {
                let (n, u) = key(old);
                index.remove(&n, &u);
            }
        }
    }

    /// The view a claim's reconcile reads.
    pub fn claim_view(&self, claim: &PersistentVolumeClaim) -> CacheView {
        let mut view = self.empty_view();
        let ns = claim.metadata.namespace.as_deref().unwrap_or("");
        let name = claim.metadata.name.as_deref().unwrap_or("");
        let mut volume_names = vec![volume_name_for_claim(claim)];
        if let Some(v) = claim.spec.as_ref().and_then(|s| s.volume_name.clone()) {
            volume_names.push(v);
        }
        for v in volume_names {
            if let Some(pv) = self.volumes.get_named(None, &v) {
                view.volumes.insert(v, pv);
            }
        }
        let classes: Vec<Arc<StorageClass>> = self.classes.state();
        let default_name =
            pick_default_class(classes.iter().map(|c| &**c)).and_then(|c| c.metadata.name.clone());
        view.default_class = classes
            .iter()
            .find(|c| c.metadata.name.is_some() && c.metadata.name == default_name)
            .cloned();
        let class = claim_class(claim);
        if let Some(c) = classes
            .iter()
            .find(|c| c.metadata.name.as_deref() == Some(class))
        {
            view.classes.insert(class.to_owned(), c.clone());
        }
        if let Some(n) = claim.metadata.annotations.get(SELECTED_NODE)
            && let Some(node) = self.nodes.get_named(None, n)
        {
            view.nodes.insert(n.clone(), node);
        }
        let users = self.pods_using(ns, name);
        view.claim_in_use = !users.is_empty();
        view.unscheduled = users
            .iter()
            .filter(|p| !pod_scheduled(p))
            .map(|p| p.metadata.name.clone().unwrap_or_default())
            .collect();
        view.unscheduled.sort();
        view
    }

    /// The view a volume's reconcile reads.
    pub fn volume_view(&self, volume: &PersistentVolume) -> CacheView {
        let mut view = self.empty_view();
        if let Some(r) = volume.spec.as_ref().and_then(|s| s.claim_ref.as_ref()) {
            let ns = r.namespace.clone().unwrap_or_default();
            let name = r.name.clone().unwrap_or_default();
            if let Some(c) = self.claims.get_named(Some(&ns), &name) {
                view.claims.insert((ns, name), c);
            }
        }
        view
    }

    fn empty_view(&self) -> CacheView {
        CacheView {
            volumes: HashMap::new(),
            claims: HashMap::new(),
            classes: HashMap::new(),
            default_class: None,
            nodes: HashMap::new(),
            claim_in_use: false,
            unscheduled: Vec::new(),
            provisioners: self.provisioners.clone(),
            index: self.index.clone(),
            best: OnceLock::new(),
        }
    }
}

type BestMatch = Result<Option<PersistentVolume>, MatchError>;

/// What one reconcile reads (see the module docs).
#[derive(Debug)]
pub struct CacheView {
    volumes: HashMap<String, Arc<PersistentVolume>>,
    claims: HashMap<(String, String), Arc<PersistentVolumeClaim>>,
    classes: HashMap<String, Arc<StorageClass>>,
    default_class: Option<Arc<StorageClass>>,
    nodes: HashMap<String, Arc<Node>>,
    claim_in_use: bool,
    unscheduled: Vec<String>,
    provisioners: BTreeSet<String>,
    index: Arc<RwLock<VolumeIndex>>,
    best: OnceLock<BestMatch>,
}

impl StorageState for CacheView {
    fn volume(&self, name: &str) -> Option<&PersistentVolume> {
        self.volumes
            .get(name)
            .map(|v| &**v)
            .or_else(|| match self.best.get() {
                Some(Ok(Some(v))) if v.metadata.name.as_deref() == Some(name) => Some(v),
                _ => None,
            })
    }

    fn claim(&self, namespace: &str, name: &str) -> Option<&PersistentVolumeClaim> {
        self.claims
            .get(&(namespace.to_owned(), name.to_owned()))
            .map(|c| &**c)
    }

    fn class(&self, name: &str) -> Option<&StorageClass> {
        self.classes.get(name).map(|c| &**c)
    }

    fn default_class(&self) -> Option<&StorageClass> {
        self.default_class.as_deref()
    }

    fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.get(name).map(|n| &**n)
    }

    fn best_match(
        &self,
        claim: &PersistentVolumeClaim,
        delay_binding: bool,
    ) -> Result<Option<&PersistentVolume>, MatchError> {
        let best = self.best.get_or_init(|| {
            let index = self
                .index
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            index
                .find_best_match(claim, delay_binding)
                .map(|v| v.cloned())
        });
        match best {
            Ok(v) => Ok(v.as_ref()),
            Err(e) => Err(e.clone()),
        }
    }

    /// A claim's view answers for its own claim (the only one its reconcile asks about).
    fn claim_in_use(&self, _namespace: &str, _name: &str) -> bool {
        self.claim_in_use
    }

    fn unscheduled_pods_using(&self, _namespace: &str, _name: &str) -> Vec<String> {
        self.unscheduled.clone()
    }

    fn has_provisioner(&self, name: &str) -> bool {
        self.provisioners.contains(name)
    }
}

//! What the reconcile functions read: the [`StorageState`] trait and [`Snapshot`], its
//! in-memory implementation (with a [`VolumeIndex`] for matching).

use std::collections::{BTreeMap, BTreeSet};

use kybern_core::api::core::v1::{Node, PersistentVolume, PersistentVolumeClaim, Pod};
use kybern_core::api::storage::v1::StorageClass;

use crate::annotations::{BETA_IS_DEFAULT_CLASS, IS_DEFAULT_CLASS};
use crate::matching::{MatchError, VolumeIndex};

/// A consistent view of the objects the storage controller reads.
pub trait StorageState {
    /// The volume with this name.
    fn volume(&self, name: &str) -> Option<&PersistentVolume>;
    /// The claim with this namespace and name.
    fn claim(&self, namespace: &str, name: &str) -> Option<&PersistentVolumeClaim>;
    /// The class with this name.
    fn class(&self, name: &str) -> Option<&StorageClass>;
    /// The default class: among classes annotated `is-default-class: "true"`, the newest
    /// (then the first by name), as upstream's `GetDefaultClass`.
    fn default_class(&self) -> Option<&StorageClass>;
    /// The node with this name.
    fn node(&self, name: &str) -> Option<&Node>;
    /// The PV controller's best volume for the claim (see
    /// [`VolumeIndex::find_best_match`]).
    ///
    /// # Errors
    /// When the claim cannot be matched at all (invalid selector, ...).
    fn best_match(
        &self,
        claim: &PersistentVolumeClaim,
        delay_binding: bool,
    ) -> Result<Option<&PersistentVolume>, MatchError>;
    /// Whether a pod that has not terminated uses the claim (directly or as its generic
    /// ephemeral volume).
    fn claim_in_use(&self, namespace: &str, name: &str) -> bool;
    /// Whether this controller runs the provisioner with this name (otherwise provisioning
    /// is left to an external provisioner).
    fn has_provisioner(&self, name: &str) -> bool;
    /// Names of the non-terminated pods without a node that use the claim, sorted (upstream's
    /// `findNonScheduledPodsByPVC`, for the `WaitForPodScheduled` event). None by default.
    fn unscheduled_pods_using(&self, _namespace: &str, _name: &str) -> Vec<String> {
        Vec::new()
    }
}

/// An in-memory [`StorageState`]: every object, plus the volume index.
#[derive(Debug, Default)]
pub struct Snapshot {
    volumes: BTreeMap<String, PersistentVolume>,
    claims: BTreeMap<(String, String), PersistentVolumeClaim>,
    classes: BTreeMap<String, StorageClass>,
    nodes: BTreeMap<String, Node>,
    /// `(namespace, claim name)` of every claim a non-terminated pod uses.
    claims_in_use: BTreeSet<(String, String)>,
    /// `(namespace, claim name)` → non-terminated pods without a node using it.
    unscheduled: BTreeMap<(String, String), Vec<String>>,
    provisioners: BTreeSet<String>,
    index: VolumeIndex,
}

fn name_of(meta: &kybern_core::api::meta::v1::ObjectMeta) -> String {
    meta.name.clone().unwrap_or_default()
}

impl Snapshot {
    /// A snapshot of these objects; `provisioners` names the provisioners this controller
    /// runs.
    pub fn new(
        volumes: Vec<PersistentVolume>,
        claims: Vec<PersistentVolumeClaim>,
        classes: Vec<StorageClass>,
        pods: &[Pod],
        nodes: Vec<Node>,
        provisioners: impl IntoIterator<Item = String>,
    ) -> Self {
        let index = VolumeIndex::from_volumes(volumes.iter().cloned());
        let mut claims_in_use = BTreeSet::new();
        let mut unscheduled: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for pod in pods {
            if pod_terminated(pod) {
                continue;
            }
            let ns = pod.metadata.namespace.clone().unwrap_or_default();
            for name in pod_claim_names(pod) {
                if !pod_scheduled(pod) {
                    unscheduled
                        .entry((ns.clone(), name.clone()))
                        .or_default()
                        .push(name_of(&pod.metadata));
                }
                claims_in_use.insert((ns.clone(), name));
            }
        }
        for names in unscheduled.values_mut() {
            names.sort();
        }
        Snapshot {
            volumes: volumes
                .into_iter()
                .map(|v| (name_of(&v.metadata), v))
                .collect(),
            claims: claims
                .into_iter()
                .map(|c| {
                    (
                        (
                            c.metadata.namespace.clone().unwrap_or_default(),
                            name_of(&c.metadata),
                        ),
                        c,
                    )
                })
                .collect(),
            classes: classes
                .into_iter()
                .map(|c| (name_of(&c.metadata), c))
                .collect(),
            nodes: nodes
                .into_iter()
                .map(|n| (name_of(&n.metadata), n))
                .collect(),
            claims_in_use,
            unscheduled,
            provisioners: provisioners.into_iter().collect(),
            index,
        }
    }

    /// Every volume, by name.
    pub fn volumes(&self) -> impl Iterator<Item = &PersistentVolume> {
        self.volumes.values()
    }

    /// Every claim, by namespace and name.
    pub fn claims(&self) -> impl Iterator<Item = &PersistentVolumeClaim> {
        self.claims.values()
    }
}

/// Whether a pod has terminated (phase Succeeded or Failed).
pub fn pod_terminated(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

/// Whether a pod has a node (`spec.nodeName`).
pub fn pod_scheduled(pod: &Pod) -> bool {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .is_some_and(|n| !n.is_empty())
}

/// The claims a pod uses: `persistentVolumeClaim.claimName` volumes and the
/// `<pod>-<volume>` claims of its generic ephemeral volumes.
pub fn pod_claim_names(pod: &Pod) -> Vec<String> {
    let pod_name = pod.metadata.name.as_deref().unwrap_or("");
    pod.spec
        .iter()
        .flat_map(|s| s.volumes.iter())
        .filter_map(|v| {
            if let Some(pvc) = &v.persistent_volume_claim {
                Some(pvc.claim_name.clone())
            } else if v.ephemeral.is_some() {
                Some(format!("{pod_name}-{}", v.name))
            } else {
                None
            }
        })
        .collect()
}

/// Upstream's `GetDefaultClass`: among the classes annotated as default, the newest; among
/// equally new ones, the first by name.
pub fn pick_default_class<'a>(
    classes: impl IntoIterator<Item = &'a StorageClass>,
) -> Option<&'a StorageClass> {
    let mut defaults: Vec<&StorageClass> = classes.into_iter().filter(|c| is_default(c)).collect();
    // Reverse name order: `max_by` keeps the last maximum, the first by name.
    defaults.sort_by(|a, b| b.metadata.name.cmp(&a.metadata.name));
    defaults.into_iter().max_by(|a, b| {
        let ta = a.metadata.creation_timestamp.as_ref().map(|t| t.0);
        let tb = b.metadata.creation_timestamp.as_ref().map(|t| t.0);
        ta.cmp(&tb)
    })
}

fn is_default(class: &StorageClass) -> bool {
    [IS_DEFAULT_CLASS, BETA_IS_DEFAULT_CLASS]
        .iter()
        .any(|k| class.metadata.annotations.get(*k).map(String::as_str) == Some("true"))
}

impl StorageState for Snapshot {
    fn volume(&self, name: &str) -> Option<&PersistentVolume> {
        self.volumes.get(name)
    }

    fn claim(&self, namespace: &str, name: &str) -> Option<&PersistentVolumeClaim> {
        self.claims.get(&(namespace.to_owned(), name.to_owned()))
    }

    fn class(&self, name: &str) -> Option<&StorageClass> {
        self.classes.get(name)
    }

    fn default_class(&self) -> Option<&StorageClass> {
        pick_default_class(self.classes.values())
    }

    fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.get(name)
    }

    fn best_match(
        &self,
        claim: &PersistentVolumeClaim,
        delay_binding: bool,
    ) -> Result<Option<&PersistentVolume>, MatchError> {
        self.index.find_best_match(claim, delay_binding)
    }

    fn claim_in_use(&self, namespace: &str, name: &str) -> bool {
        self.claims_in_use
            .contains(&(namespace.to_owned(), name.to_owned()))
    }

    fn has_provisioner(&self, name: &str) -> bool {
        self.provisioners.contains(name)
    }

    fn unscheduled_pods_using(&self, namespace: &str, name: &str) -> Vec<String> {
        self.unscheduled
            .get(&(namespace.to_owned(), name.to_owned()))
            .cloned()
            .unwrap_or_default()
    }
}

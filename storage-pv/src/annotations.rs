//! Well-known annotations, finalizers, labels and phase names of the storage API, and the
//! class lookups that read them (upstream's `GetPersistentVolumeClass` /
//! `GetPersistentVolumeClaimClass`).

use kybern_core::api::core::v1::{PersistentVolume, PersistentVolumeClaim};

/// Beta annotation naming a volume's or claim's class; it wins over `storageClassName`.
pub const BETA_STORAGE_CLASS: &str = "volume.beta.kubernetes.io/storage-class";
/// On a claim: the binding went through the controller at least once (value irrelevant).
pub const BIND_COMPLETED: &str = "pv.kubernetes.io/bind-completed";
/// On a volume or claim: the controller (not the user) installed the binding.
pub const BOUND_BY_CONTROLLER: &str = "pv.kubernetes.io/bound-by-controller";
/// On a volume: the name of the provisioner that created it dynamically.
pub const PROVISIONED_BY: &str = "pv.kubernetes.io/provisioned-by";
/// On a claim: the node the scheduler chose, asking for delayed (WaitForFirstConsumer)
/// provisioning there.
pub const SELECTED_NODE: &str = "volume.kubernetes.io/selected-node";
/// On a claim: the provisioner expected to provision it.
pub const STORAGE_PROVISIONER: &str = "volume.kubernetes.io/storage-provisioner";
/// Deprecated beta spelling of [`STORAGE_PROVISIONER`], still written for compatibility.
pub const BETA_STORAGE_PROVISIONER: &str = "volume.beta.kubernetes.io/storage-provisioner";
/// On a StorageClass: `"true"` makes it the default class for claims without one.
pub const IS_DEFAULT_CLASS: &str = "storageclass.kubernetes.io/is-default-class";
/// Beta spelling of [`IS_DEFAULT_CLASS`].
pub const BETA_IS_DEFAULT_CLASS: &str = "storageclass.beta.kubernetes.io/is-default-class";
/// Finalizer keeping a claim while a pod uses it.
pub const PVC_PROTECTION_FINALIZER: &str = "kubernetes.io/pvc-protection";
/// Finalizer keeping a volume while it is bound.
pub const PV_PROTECTION_FINALIZER: &str = "kubernetes.io/pv-protection";
/// Provisioner name meaning "this class does not support dynamic provisioning".
pub const NO_PROVISIONER: &str = "kubernetes.io/no-provisioner";
/// The node label local volumes are pinned with.
pub const HOSTNAME_LABEL: &str = "kubernetes.io/hostname";

/// Volume phase: not yet available (being created).
pub const VOLUME_PENDING: &str = "Pending";
/// Volume phase: free, not bound to a claim.
pub const VOLUME_AVAILABLE: &str = "Available";
/// Volume phase: bound to a claim.
pub const VOLUME_BOUND: &str = "Bound";
/// Volume phase: its claim is gone; the volume awaits reclamation.
pub const VOLUME_RELEASED: &str = "Released";
/// Volume phase: reclamation failed.
pub const VOLUME_FAILED: &str = "Failed";
/// Claim phase: not yet bound.
pub const CLAIM_PENDING: &str = "Pending";
/// Claim phase: bound to a volume.
pub const CLAIM_BOUND: &str = "Bound";
/// Claim phase: its bound volume is gone.
pub const CLAIM_LOST: &str = "Lost";

/// Reclaim policy: keep the volume (and its data) after the claim is gone.
pub const RECLAIM_RETAIN: &str = "Retain";
/// Reclaim policy: delete the volume and its storage asset.
pub const RECLAIM_DELETE: &str = "Delete";
/// Reclaim policy: scrub and reuse (deprecated upstream).
pub const RECLAIM_RECYCLE: &str = "Recycle";

/// Binding mode: bind and provision as soon as the claim exists.
pub const BINDING_IMMEDIATE: &str = "Immediate";
/// Binding mode: wait until a pod using the claim is scheduled.
pub const BINDING_WAIT_FOR_FIRST_CONSUMER: &str = "WaitForFirstConsumer";

/// Volume mode when unset.
pub const FILESYSTEM: &str = "Filesystem";
/// The resource name of storage capacity.
pub const STORAGE: &str = "storage";

/// The class a volume belongs to: the beta annotation if present, else
/// `spec.storageClassName`, else `""` (no class).
pub fn volume_class(volume: &PersistentVolume) -> &str {
    if let Some(class) = volume.metadata.annotations.get(BETA_STORAGE_CLASS) {
        return class;
    }
    volume
        .spec
        .as_ref()
        .and_then(|s| s.storage_class_name.as_deref())
        .unwrap_or("")
}

/// The class a claim asks for: the beta annotation if present, else
/// `spec.storageClassName`, else `""` (no class).
pub fn claim_class(claim: &PersistentVolumeClaim) -> &str {
    if let Some(class) = claim.metadata.annotations.get(BETA_STORAGE_CLASS) {
        return class;
    }
    claim
        .spec
        .as_ref()
        .and_then(|s| s.storage_class_name.as_deref())
        .unwrap_or("")
}

/// Whether the claim names a class at all (annotation or field, even `""`); claims that do
/// not are candidates for the default class.
pub fn claim_has_class(claim: &PersistentVolumeClaim) -> bool {
    claim.metadata.annotations.contains_key(BETA_STORAGE_CLASS)
        || claim
            .spec
            .as_ref()
            .is_some_and(|s| s.storage_class_name.is_some())
}

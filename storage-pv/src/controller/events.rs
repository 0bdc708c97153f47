//! Events the storage controllers record: upstream's reasons and message texts.

use kybern_core::api::core::v1::{ObjectReference, PersistentVolume, PersistentVolumeClaim};

/// Reason: no volume matched and nothing can be provisioned, or a pre-bound claim/volume
/// cannot be bound.
pub const FAILED_BINDING: &str = "FailedBinding";
/// Reason: a claim waits for a pod to be scheduled before binding (WaitForFirstConsumer).
pub const WAIT_FOR_FIRST_CONSUMER: &str = "WaitForFirstConsumer";
/// Reason: a claim waits for the pods using it to be scheduled (WaitForFirstConsumer).
pub const WAIT_FOR_POD_SCHEDULED: &str = "WaitForPodScheduled";
/// Reason: a provisioner outside this controller is expected to create the volume.
pub const EXTERNAL_PROVISIONING: &str = "ExternalProvisioning";
/// Reason: provisioning a volume failed.
pub const PROVISIONING_FAILED: &str = "ProvisioningFailed";
/// Reason: a volume was provisioned.
pub const PROVISIONING_SUCCEEDED: &str = "ProvisioningSucceeded";
/// Reason: a requested volume does not satisfy the claim.
pub const VOLUME_MISMATCH: &str = "VolumeMismatch";
/// Reason: a bound claim lost its volume.
pub const CLAIM_LOST: &str = "ClaimLost";
/// Reason: two claims are bound to one volume.
pub const CLAIM_MISBOUND: &str = "ClaimMisbound";
/// Reason: deleting a volume failed.
pub const VOLUME_FAILED_DELETE: &str = "VolumeFailedDelete";
/// Reason: recycling a volume failed (Recycle is deprecated and not implemented).
pub const VOLUME_FAILED_RECYCLE: &str = "VolumeFailedRecycle";
/// Reason: a volume was resized.
pub const VOLUME_RESIZE_SUCCESSFUL: &str = "VolumeResizeSuccessful";
/// Reason: resizing a volume failed or is not allowed.
pub const VOLUME_RESIZE_FAILED: &str = "VolumeResizeFailed";

/// Message of [`FAILED_BINDING`] for a claim without class and without a matching volume.
pub const NO_VOLUMES_NO_CLASS: &str =
    "no persistent volumes available for this claim and no storage class is set";
/// Message of [`WAIT_FOR_FIRST_CONSUMER`].
pub const WAITING_FOR_FIRST_CONSUMER: &str =
    "waiting for first consumer to be created before binding";
/// Message of [`CLAIM_LOST`] when the claim's `volumeName` was cleared.
pub const LOST_REFERENCE: &str =
    "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!";
/// Message of [`CLAIM_LOST`] when the volume is gone.
pub const LOST_VOLUME: &str =
    "Bound claim has lost its PersistentVolume. Data on the volume is lost!";
/// Message of [`CLAIM_MISBOUND`].
pub const MISBOUND: &str = "Two claims are bound to the same volume, this one is bound incorrectly";
/// Message of [`VOLUME_FAILED_RECYCLE`]: Recycle is deprecated (upstream's API warning).
pub const RECYCLE_DEPRECATED: &str = "The Recycle reclaim policy is deprecated. Instead, the recommended approach is to use dynamic provisioning.";
/// Message of [`VOLUME_RESIZE_FAILED`] when the class does not allow expansion (upstream's
/// admission error).
pub const RESIZE_NOT_ALLOWED: &str = "only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize";

/// Message of [`WAIT_FOR_POD_SCHEDULED`] for the unscheduled pods using the claim
/// (upstream's `emitEventForUnboundDelayBindingClaim`).
pub fn waiting_for_pods(pods: &[String]) -> String {
    match pods {
        [one] => format!("waiting for pod {one} to be scheduled"),
        many => format!("waiting for pods {} to be scheduled", many.join(",")),
    }
}

/// Message of [`EXTERNAL_PROVISIONING`].
pub fn external_provisioning(provisioner: &str) -> String {
    format!(
        "Waiting for a volume to be created either by the external provisioner '{provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered."
    )
}

/// Event type: Normal or Warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    /// Something expected happened.
    Normal,
    /// Something needs attention.
    Warning,
}

impl EventType {
    /// `Normal` or `Warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// An Event to record about an object.
#[derive(Clone, Debug, PartialEq)]
pub struct EventRecord {
    /// The object the event is about.
    pub object: ObjectReference,
    /// Normal or Warning.
    pub type_: EventType,
    /// Machine-readable reason (`FailedBinding`, ...).
    pub reason: String,
    /// Human-readable message.
    pub message: String,
}

impl EventRecord {
    /// An event about a claim.
    pub fn claim(
        claim: &PersistentVolumeClaim,
        type_: EventType,
        reason: &str,
        message: impl Into<String>,
    ) -> Self {
        EventRecord {
            object: claim_reference(claim),
            type_,
            reason: reason.to_owned(),
            message: message.into(),
        }
    }

    /// An event about a volume.
    pub fn volume(
        volume: &PersistentVolume,
        type_: EventType,
        reason: &str,
        message: impl Into<String>,
    ) -> Self {
        EventRecord {
            object: ObjectReference {
                api_version: Some("v1".into()),
                kind: Some("PersistentVolume".into()),
                name: volume.metadata.name.clone(),
                uid: volume.metadata.uid.clone(),
                resource_version: volume.metadata.resource_version.clone(),
                ..ObjectReference::default()
            },
            type_,
            reason: reason.to_owned(),
            message: message.into(),
        }
    }
}

/// A reference to a claim, as written into a volume's `spec.claimRef`.
pub fn claim_reference(claim: &PersistentVolumeClaim) -> ObjectReference {
    ObjectReference {
        api_version: Some("v1".into()),
        kind: Some("PersistentVolumeClaim".into()),
        name: claim.metadata.name.clone(),
        namespace: claim.metadata.namespace.clone(),
        uid: claim.metadata.uid.clone(),
        resource_version: claim.metadata.resource_version.clone(),
        ..ObjectReference::default()
    }
}

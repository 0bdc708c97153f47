//! Reconciling one claim: protection finalizer, default class, binding (unbound, pre-bound
//! and bound claims, as upstream's `syncClaim`), provisioning decisions and expansion.
//!
//! Expansion, simplified from upstream's expand controller + external resizer: when a bound
//! claim asks for more than its volume has and the class sets `allowVolumeExpansion`, the
//! controller asks the volume's provisioner to grow it; on success the volume's capacity,
//! the claim's `status.capacity` and `status.allocatedResources` show the new size (no
//! `FileSystemResizePending` step: a directory needs no filesystem resize). On failure the
//! claim's `status.allocatedResourceStatuses.storage` becomes `ControllerResizeInfeasible`
//! with a `VolumeResizeFailed` event, and the same size is not retried. When the class does
//! not allow expansion a `VolumeResizeFailed` event says so (upstream's admission would
//! reject the update).

use kybern_core::Quantity;
use kybern_core::api::core::v1::{
    PersistentVolume, PersistentVolumeClaim, PersistentVolumeClaimStatus,
};

use super::Action;
use super::events::{self, EventRecord, EventType};
use super::state::StorageState;
use crate::annotations::{
    BETA_STORAGE_PROVISIONER, BIND_COMPLETED, BINDING_WAIT_FOR_FIRST_CONSUMER, BOUND_BY_CONTROLLER,
    CLAIM_BOUND, CLAIM_LOST, CLAIM_PENDING, NO_PROVISIONER, PROVISIONED_BY,
    PVC_PROTECTION_FINALIZER, SELECTED_NODE, STORAGE, STORAGE_PROVISIONER, claim_class,
    claim_has_class,
};
use crate::matching::{
    check_volume_satisfy_claim, is_volume_bound_to_claim, requested_storage, volume_capacity,
};
use crate::provision::volume_name_for_claim;

/// `allocatedResourceStatuses` value after a failed resize.
pub const RESIZE_INFEASIBLE: &str = "ControllerResizeInfeasible";

/// The actions that move `claim` towards its desired state, given `state`.
pub fn reconcile_claim(state: &dyn StorageState, claim: &PersistentVolumeClaim) -> Vec<Action> {
    let ns = claim.metadata.namespace.as_deref().unwrap_or("");
    let name = claim.metadata.name.as_deref().unwrap_or("");
    let has_finalizer = claim
        .metadata
        .finalizers
        .iter()
        .any(|f| f == PVC_PROTECTION_FINALIZER);
    if claim.metadata.deletion_timestamp.is_some() {
        // pvc-protection: release the claim once no running pod uses it.
        if has_finalizer && !state.claim_in_use(ns, name) {
            let mut c = claim.clone();
            c.metadata
                .finalizers
                .retain(|f| f != PVC_PROTECTION_FINALIZER);
            return vec![Action::UpdateClaim(Box::new(c))];
        }
        return Vec::new();
    }
    if !has_finalizer {
        let mut c = claim.clone();
        c.metadata
            .finalizers
            .push(PVC_PROTECTION_FINALIZER.to_owned());
        return vec![Action::UpdateClaim(Box::new(c))];
    }
    let volume_name = claim
        .spec
        .as_ref()
        .and_then(|s| s.volume_name.as_deref())
        .unwrap_or("");
    if !claim_has_class(claim)
        && volume_name.is_empty()
        && let Some(default) = state.default_class()
    {
        let mut c = claim.clone();
        c.spec.get_or_insert_default().storage_class_name = default.metadata.name.clone();
        return vec![Action::UpdateClaim(Box::new(c))];
    }
    if claim.metadata.annotations.contains_key(BIND_COMPLETED) {
        sync_bound(state, claim, volume_name)
    } else {
        sync_unbound(state, claim, volume_name)
    }
}

fn phase(claim: &PersistentVolumeClaim) -> &str {
    claim
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

/// The claim with `status.phase` set; `None` when it already has it.
fn with_phase(claim: &PersistentVolumeClaim, phase_name: &str) -> Option<Action> {
    if phase(claim) == phase_name {
        return None;
    }
    let mut c = claim.clone();
    c.status.get_or_insert_default().phase = Some(phase_name.to_owned());
    Some(Action::UpdateClaim(Box::new(c)))
}

fn pending_with(claim: &PersistentVolumeClaim, event: EventRecord) -> Vec<Action> {
    let mut out: Vec<Action> = with_phase(claim, CLAIM_PENDING).into_iter().collect();
    out.push(Action::Event(event));
    out
}

fn delay_binding(state: &dyn StorageState, claim: &PersistentVolumeClaim) -> bool {
    let class = claim_class(claim);
    !class.is_empty()
        && state.class(class).is_some_and(|c| {
            c.volume_binding_mode.as_deref() == Some(BINDING_WAIT_FOR_FIRST_CONSUMER)
        })
}

fn sync_unbound(
    state: &dyn StorageState,
    claim: &PersistentVolumeClaim,
    volume_name: &str,
) -> Vec<Action> {
    if volume_name.is_empty() {
        let delay = delay_binding(state, claim);
        return match state.best_match(claim, delay) {
            Err(e) => pending_with(
                claim,
                EventRecord::claim(
                    claim,
                    EventType::Warning,
                    events::FAILED_BINDING,
                    e.to_string(),
                ),
            ),
            Ok(Some(volume)) => bind(claim, volume),
            Ok(None) => {
                if delay && !claim.metadata.annotations.contains_key(SELECTED_NODE) {
                    let ns = claim.metadata.namespace.as_deref().unwrap_or("");
                    let name = claim.metadata.name.as_deref().unwrap_or("");
                    let pods = state.unscheduled_pods_using(ns, name);
                    let (reason, message) = if pods.is_empty() {
                        (
                            events::WAIT_FOR_FIRST_CONSUMER,
                            events::WAITING_FOR_FIRST_CONSUMER.to_owned(),
                        )
                    } else {
                        (
                            events::WAIT_FOR_POD_SCHEDULED,
                            events::waiting_for_pods(&pods),
                        )
                    };
                    pending_with(
                        claim,
                        EventRecord::claim(claim, EventType::Normal, reason, message),
                    )
                } else if !claim_class(claim).is_empty() {
                    provision(state, claim)
                } else {
                    pending_with(
                        claim,
                        EventRecord::claim(
                            claim,
                            EventType::Normal,
                            events::FAILED_BINDING,
                            events::NO_VOLUMES_NO_CLASS,
                        ),
                    )
                }
            }
        };
    }
    // The user asked for a specific volume.
    let Some(volume) = state.volume(volume_name) else {
        return pending_with(
            claim,
            EventRecord::claim(
                claim,
                EventType::Normal,
                events::FAILED_BINDING,
                format!("volume {volume_name:?} not found"),
            ),
        );
    };
    let claim_ref = volume.spec.as_ref().and_then(|s| s.claim_ref.as_ref());
    if claim_ref.is_none() {
        return match check_volume_satisfy_claim(volume, claim) {
            Ok(()) => bind(claim, volume),
            Err(e) => pending_with(
                claim,
                EventRecord::claim(
                    claim,
                    EventType::Warning,
                    events::VOLUME_MISMATCH,
                    format!("Cannot bind to requested volume {volume_name:?}: {e}"),
                ),
            ),
        };
    }
    if is_volume_bound_to_claim(volume, claim) {
        return bind(claim, volume);
    }
    if claim.metadata.annotations.contains_key(BOUND_BY_CONTROLLER) {
        // We bound it and the volume went elsewhere: wait for the volume side to settle.
        return with_phase(claim, CLAIM_PENDING).into_iter().collect();
    }
    pending_with(
        claim,
        EventRecord::claim(
            claim,
            EventType::Warning,
            events::FAILED_BINDING,
            format!("volume {volume_name:?} already bound to a different claim."),
        ),
    )
}

fn lost(claim: &PersistentVolumeClaim, message: &str) -> Vec<Action> {
    let mut out: Vec<Action> = with_phase(claim, CLAIM_LOST).into_iter().collect();
    out.push(Action::Event(EventRecord::claim(
        claim,
        EventType::Warning,
        events::CLAIM_LOST,
        message,
    )));
    out
}

fn sync_bound(
    state: &dyn StorageState,
    claim: &PersistentVolumeClaim,
    volume_name: &str,
) -> Vec<Action> {
    if volume_name.is_empty() {
        return lost(claim, events::LOST_REFERENCE);
    }
    let Some(volume) = state.volume(volume_name) else {
        return lost(claim, events::LOST_VOLUME);
    };
    let claim_ref = volume.spec.as_ref().and_then(|s| s.claim_ref.as_ref());
    let bound_here = claim_ref.is_some_and(|r| {
        r.uid.as_deref().unwrap_or("") == claim.metadata.uid.as_deref().unwrap_or("")
    });
    if claim_ref.is_none() || bound_here {
        let mut out = bind(claim, volume);
        if out.is_empty() {
            out = expand(state, claim, volume);
        }
        return out;
    }
    let mut out: Vec<Action> = with_phase(claim, CLAIM_LOST).into_iter().collect();
    out.push(Action::Event(EventRecord::claim(
        claim,
        EventType::Warning,
        events::CLAIM_MISBOUND,
        events::MISBOUND,
    )));
    out
}

/// Binds both sides (volume first, as upstream): `claimRef` and `bound-by-controller` on the
/// volume, phase Bound; `volumeName`, `bind-completed` (and `bound-by-controller` when the
/// controller chose the volume) on the claim, phase Bound with capacity and access modes.
/// Empty when both are already bound to each other.
pub fn bind(claim: &PersistentVolumeClaim, volume: &PersistentVolume) -> Vec<Action> {
    let mut out = Vec::new();
    let mut v = volume.clone();
    let pre_bound = is_volume_bound_to_claim(volume, claim);
    {
        let spec = v.spec.get_or_insert_default();
        let want_ref = events::claim_reference(claim);
        let same = spec.claim_ref.as_ref().is_some_and(|r| {
            r.name == want_ref.name && r.namespace == want_ref.namespace && r.uid == want_ref.uid
        });
        if !same {
            spec.claim_ref = Some(want_ref);
        }
    }
    if !pre_bound {
        v.metadata
            .annotations
            .entry(BOUND_BY_CONTROLLER.to_owned())
            .or_insert_with(|| "yes".to_owned());
    }
    v.status.get_or_insert_default().phase = Some(crate::annotations::VOLUME_BOUND.to_owned());
    if v != *volume {
        out.push(Action::UpdateVolume(Box::new(v.clone())));
    }

    let mut c = claim.clone();
    let vname = volume.metadata.name.clone().unwrap_or_default();
    let spec = c.spec.get_or_insert_default();
    if spec.volume_name.as_deref() != Some(vname.as_str()) {
        spec.volume_name = Some(vname);
        c.metadata
            .annotations
            .entry(BOUND_BY_CONTROLLER.to_owned())
            .or_insert_with(|| "yes".to_owned());
    }
    c.metadata
        .annotations
        .entry(BIND_COMPLETED.to_owned())
        .or_insert_with(|| "yes".to_owned());
    let status = c
        .status
        .get_or_insert_with(PersistentVolumeClaimStatus::default);
    status.phase = Some(CLAIM_BOUND.to_owned());
    if let Some(vspec) = volume.spec.as_ref() {
        status.access_modes = vspec.access_modes.clone();
        if let Some(cap) = vspec.capacity.get(STORAGE) {
            status.capacity.insert(STORAGE.to_owned(), *cap);
        }
    }
    if c != *claim {
        out.push(Action::UpdateClaim(Box::new(c)));
    }
    out
}

fn provision(state: &dyn StorageState, claim: &PersistentVolumeClaim) -> Vec<Action> {
    let class_name = claim_class(claim);
    let Some(class) = state.class(class_name) else {
        return pending_with(
            claim,
            EventRecord::claim(
                claim,
                EventType::Warning,
                events::PROVISIONING_FAILED,
                format!("storageclass.storage.k8s.io {class_name:?} not found"),
            ),
        );
    };
    let provisioner = class.provisioner.as_str();
    if provisioner == NO_PROVISIONER {
        return pending_with(
            claim,
            EventRecord::claim(
                claim,
                EventType::Warning,
                events::PROVISIONING_FAILED,
                format!("no volume plugin matched name: {provisioner}"),
            ),
        );
    }
    // Announce who provisions the claim (upstream's setClaimProvisioner).
    if claim
        .metadata
        .annotations
        .get(STORAGE_PROVISIONER)
        .map(String::as_str)
        != Some(provisioner)
    {
        let mut c = claim.clone();
        c.metadata
            .annotations
            .insert(STORAGE_PROVISIONER.to_owned(), provisioner.to_owned());
        c.metadata
            .annotations
            .insert(BETA_STORAGE_PROVISIONER.to_owned(), provisioner.to_owned());
        c.status.get_or_insert_default().phase = Some(CLAIM_PENDING.to_owned());
        return vec![Action::UpdateClaim(Box::new(c))];
    }
    if !state.has_provisioner(provisioner) {
        return pending_with(
            claim,
            EventRecord::claim(
                claim,
                EventType::Normal,
                events::EXTERNAL_PROVISIONING,
                events::external_provisioning(provisioner),
            ),
        );
    }
    if state.volume(&volume_name_for_claim(claim)).is_some() {
        // Already provisioned; the next pass binds it.
        return with_phase(claim, CLAIM_PENDING).into_iter().collect();
    }
    let node = match claim.metadata.annotations.get(SELECTED_NODE) {
        None => None,
        Some(n) => match state.node(n) {
            Some(node) => Some(Box::new(node.clone())),
            None => {
                return pending_with(
                    claim,
                    EventRecord::claim(
                        claim,
                        EventType::Warning,
                        events::PROVISIONING_FAILED,
                        format!("failed to get target node: node {n:?} not found"),
                    ),
                );
            }
        },
    };
    let mut out: Vec<Action> = with_phase(claim, CLAIM_PENDING).into_iter().collect();
    out.push(Action::Provision {
        claim: Box::new(claim.clone()),
        class: Box::new(class.clone()),
        node,
    });
    out
}

fn expand(
    state: &dyn StorageState,
    claim: &PersistentVolumeClaim,
    volume: &PersistentVolume,
) -> Vec<Action> {
    let requested = requested_storage(claim);
    let current = volume_capacity(volume);
    if requested <= current {
        return Vec::new();
    }
    let status = claim.status.as_ref();
    let allocated: Option<&Quantity> = status.and_then(|s| s.allocated_resources.get(STORAGE));
    let infeasible = status
        .and_then(|s| s.allocated_resource_statuses.get(STORAGE))
        .is_some_and(|s| s == RESIZE_INFEASIBLE);
    if infeasible && allocated == Some(&requested) {
        return Vec::new();
    }
    let allowed = state
        .class(claim_class(claim))
        .is_some_and(|c| c.allow_volume_expansion == Some(true));
    let ours = volume
        .metadata
        .annotations
        .get(PROVISIONED_BY)
        .is_some_and(|p| state.has_provisioner(p));
    if !allowed || !ours {
        let mut c = claim.clone();
        let st = c.status.get_or_insert_default();
        st.allocated_resources.insert(STORAGE.to_owned(), requested);
        st.allocated_resource_statuses
            .insert(STORAGE.to_owned(), RESIZE_INFEASIBLE.to_owned());
        return vec![
            Action::UpdateClaim(Box::new(c)),
            Action::Event(EventRecord::claim(
                claim,
                EventType::Warning,
                events::VOLUME_RESIZE_FAILED,
                events::RESIZE_NOT_ALLOWED,
            )),
        ];
    }
    vec![Action::ExpandVolume {
        volume: Box::new(volume.clone()),
        claim: Box::new(claim.clone()),
        size: requested,
    }]
}

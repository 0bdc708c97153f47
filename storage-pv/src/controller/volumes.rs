//! Reconciling one volume: protection finalizer, phase from the binding (as upstream's
//! `syncVolume`), release when its claim is gone, and reclaim by policy.

use kybern_core::api::core::v1::PersistentVolume;

use super::Action;
use super::events::{self, EventRecord, EventType};
use super::state::StorageState;
use crate::annotations::{
    BOUND_BY_CONTROLLER, PROVISIONED_BY, PV_PROTECTION_FINALIZER, RECLAIM_DELETE, RECLAIM_RECYCLE,
    RECLAIM_RETAIN, VOLUME_AVAILABLE, VOLUME_BOUND, VOLUME_FAILED, VOLUME_RELEASED,
};
use crate::matching::volume_mode_mismatch;

fn phase(volume: &PersistentVolume) -> &str {
    volume
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

/// The volume with `status.phase` (and message) set.
fn set_phase(
    volume: &PersistentVolume,
    phase_name: &str,
    message: Option<&str>,
) -> PersistentVolume {
    let mut v = volume.clone();
    let st = v.status.get_or_insert_default();
    st.phase = Some(phase_name.to_owned());
    st.message = message.map(str::to_owned);
    v
}

fn phase_action(volume: &PersistentVolume, phase_name: &str) -> Vec<Action> {
    if phase(volume) == phase_name {
        Vec::new()
    } else {
        vec![Action::UpdateVolume(Box::new(set_phase(
            volume, phase_name, None,
        )))]
    }
}

/// The actions that move `volume` towards its desired state, given `state`.
pub fn reconcile_volume(state: &dyn StorageState, volume: &PersistentVolume) -> Vec<Action> {
    let has_finalizer = volume
        .metadata
        .finalizers
        .iter()
        .any(|f| f == PV_PROTECTION_FINALIZER);
    if volume.metadata.deletion_timestamp.is_some() {
        // pv-protection: a volume being deleted goes once it is no longer bound.
        if has_finalizer && phase(volume) != VOLUME_BOUND {
            let mut v = volume.clone();
            v.metadata
                .finalizers
                .retain(|f| f != PV_PROTECTION_FINALIZER);
            return vec![Action::UpdateVolume(Box::new(v))];
        }
    } else if !has_finalizer {
        let mut v = volume.clone();
        v.metadata
            .finalizers
            .push(PV_PROTECTION_FINALIZER.to_owned());
        return vec![Action::UpdateVolume(Box::new(v))];
    }

    let Some(claim_ref) = volume.spec.as_ref().and_then(|s| s.claim_ref.as_ref()) else {
        return phase_action(volume, VOLUME_AVAILABLE);
    };
    let ref_uid = claim_ref.uid.as_deref().unwrap_or("");
    if ref_uid.is_empty() {
        // Pre-bound to a claim by name only: available for that claim.
        return phase_action(volume, VOLUME_AVAILABLE);
    }
    let claim = state
        .claim(
            claim_ref.namespace.as_deref().unwrap_or(""),
            claim_ref.name.as_deref().unwrap_or(""),
        )
        .filter(|c| c.metadata.uid.as_deref().unwrap_or("") == ref_uid);
    let Some(claim) = claim else {
        // The claim is gone: release, then reclaim.
        let released = if phase(volume) == VOLUME_RELEASED || phase(volume) == VOLUME_FAILED {
            volume.clone()
        } else {
            set_phase(volume, VOLUME_RELEASED, None)
        };
        let mut out = Vec::new();
        if released != *volume {
            out.push(Action::UpdateVolume(Box::new(released.clone())));
        }
        out.extend(reclaim(state, &released));
        return out;
    };
    let claim_volume = claim
        .spec
        .as_ref()
        .and_then(|s| s.volume_name.as_deref())
        .unwrap_or("");
    let name = volume.metadata.name.as_deref().unwrap_or("");
    if claim_volume.is_empty() {
        let claim_mode = claim.spec.as_ref().and_then(|s| s.volume_mode.as_deref());
        let pv_mode = volume.spec.as_ref().and_then(|s| s.volume_mode.as_deref());
        if volume_mode_mismatch(claim_mode, pv_mode) {
            let claim_name = claim.metadata.name.as_deref().unwrap_or("");
            return vec![
                Action::Event(EventRecord::volume(
                    volume,
                    EventType::Warning,
                    events::VOLUME_MISMATCH,
                    format!(
                        "Cannot bind PersistentVolume to requested PersistentVolumeClaim {claim_name:?} due to incompatible volumeMode."
                    ),
                )),
                Action::Event(EventRecord::claim(
                    claim,
                    EventType::Warning,
                    events::VOLUME_MISMATCH,
                    format!(
                        "Cannot bind PersistentVolume {name:?} to requested PersistentVolumeClaim due to incompatible volumeMode."
                    ),
                )),
            ];
        }
        // The claim side finishes the binding.
        return Vec::new();
    }
    if claim_volume == name {
        return phase_action(volume, VOLUME_BOUND);
    }
    // The claim is bound to another volume.
    let provisioned = volume.metadata.annotations.contains_key(PROVISIONED_BY);
    if provisioned && reclaim_policy(volume) == RECLAIM_DELETE {
        let released = set_phase(volume, VOLUME_RELEASED, None);
        let mut out = Vec::new();
        if phase(volume) != VOLUME_RELEASED && phase(volume) != VOLUME_FAILED {
            out.push(Action::UpdateVolume(Box::new(released.clone())));
        }
        out.extend(reclaim(state, &released));
        return out;
    }
    if volume
        .metadata
        .annotations
        .contains_key(BOUND_BY_CONTROLLER)
    {
        // We bound it to a claim that went elsewhere: undo our binding.
        let mut v = set_phase(volume, VOLUME_AVAILABLE, None);
        if let Some(spec) = v.spec.as_mut() {
            spec.claim_ref = None;
        }
        v.metadata.annotations.remove(BOUND_BY_CONTROLLER);
        return vec![Action::UpdateVolume(Box::new(v))];
    }
    phase_action(volume, VOLUME_AVAILABLE)
}

/// The volume's reclaim policy (`Retain` when unset, the API default for static volumes).
pub fn reclaim_policy(volume: &PersistentVolume) -> &str {
    volume
        .spec
        .as_ref()
        .and_then(|s| s.persistent_volume_reclaim_policy.as_deref())
        .unwrap_or(RECLAIM_RETAIN)
}

fn reclaim(state: &dyn StorageState, volume: &PersistentVolume) -> Vec<Action> {
    if phase(volume) == VOLUME_FAILED {
        return Vec::new();
    }
    match reclaim_policy(volume) {
        RECLAIM_RECYCLE => vec![
            Action::UpdateVolume(Box::new(set_phase(
                volume,
                VOLUME_FAILED,
                Some(events::RECYCLE_DEPRECATED),
            ))),
            Action::Event(EventRecord::volume(
                volume,
                EventType::Warning,
                events::VOLUME_FAILED_RECYCLE,
                events::RECYCLE_DEPRECATED,
            )),
        ],
        RECLAIM_DELETE => match volume.metadata.annotations.get(PROVISIONED_BY) {
            Some(p) if state.has_provisioner(p) => {
                if volume.metadata.deletion_timestamp.is_some() {
                    Vec::new()
                } else {
                    vec![Action::DeleteVolume(Box::new(volume.clone()))]
                }
            }
            // An external provisioner deletes its own volumes.
            Some(_) => Vec::new(),
            None => {
                let name = volume.metadata.name.as_deref().unwrap_or("");
                let message = format!(
                    "error getting deleter volume plugin for volume {name:?}: no deletable volume plugin matched"
                );
                vec![
                    Action::UpdateVolume(Box::new(set_phase(
                        volume,
                        VOLUME_FAILED,
                        Some(&message),
                    ))),
                    Action::Event(EventRecord::volume(
                        volume,
                        EventType::Warning,
                        events::VOLUME_FAILED_DELETE,
                        message,
                    )),
                ]
            }
        },
        // Retain (and anything unknown): keep the volume and its data.
        _ => Vec::new(),
    }
}

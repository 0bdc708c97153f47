//! VolumeBinding: can a pod's claims be satisfied on a node, and what to write once the
//! node is chosen (upstream's `volumebinding` plugin and volume binder, without the assume
//! cache: [`prebind`] returns the writes; the PV controller then completes the binding).

use std::collections::HashSet;

use kybern_core::api::core::v1::{Node, PersistentVolumeClaim, Pod};

use crate::annotations::{
    BINDING_WAIT_FOR_FIRST_CONSUMER, BOUND_BY_CONTROLLER, NO_PROVISIONER, SELECTED_NODE,
    claim_class,
};
use crate::controller::events::claim_reference;
use crate::controller::state::pod_claim_names;
use crate::controller::{Action, StorageState};
use crate::matching::{VolumeIndex, claim_key};
use crate::node_affinity::check_volume_node_affinity;

/// Filter reason: no volume fits and nothing can be provisioned here.
pub const ERR_REASON_BIND_CONFLICT: &str =
    "node(s) didn't find available persistent volumes to bind";
/// Filter reason: a bound volume's node affinity excludes the node.
pub const ERR_REASON_NODE_CONFLICT: &str = "node(s) had volume node affinity conflict";
/// Filter reason: a claim is bound to a volume that does not exist.
pub const ERR_REASON_PV_NOT_EXIST: &str =
    "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)";
/// PreFilter reason: a claim with Immediate binding is not bound yet.
pub const ERR_UNBOUND_IMMEDIATE: &str = "pod has unbound immediate PersistentVolumeClaims";

/// Why a pod cannot be considered at all (PreFilter): unschedulable and unresolvable until
/// the claims change.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PreFilterError {
    /// A claim the pod uses does not exist.
    #[error("persistentvolumeclaim {0:?} not found")]
    ClaimNotFound(String),
    /// A claim the pod uses is being deleted.
    #[error("persistentvolumeclaim {0:?} is being deleted")]
    ClaimDeleting(String),
    /// A claim with Immediate binding is not bound yet.
    #[error("{ERR_UNBOUND_IMMEDIATE}")]
    UnboundImmediate,
}

/// The pod's claims, sorted by state (PreFilter's result).
#[derive(Clone, Debug, Default)]
pub struct PodClaims {
    /// Claims bound to a volume.
    pub bound: Vec<PersistentVolumeClaim>,
    /// Unbound claims of WaitForFirstConsumer classes: bound or provisioned per node.
    pub delayed: Vec<PersistentVolumeClaim>,
}

impl PodClaims {
    /// Whether the pod has no claims (the plugin is skipped).
    pub fn is_empty(&self) -> bool {
        self.bound.is_empty() && self.delayed.is_empty()
    }
}

/// PreFilter: looks up the pod's claims.
///
/// # Errors
/// [`PreFilterError`] when a claim is missing, deleting, or unbound with Immediate binding.
pub fn pre_filter(state: &dyn StorageState, pod: &Pod) -> Result<PodClaims, PreFilterError> {
    let ns = pod.metadata.namespace.as_deref().unwrap_or("");
    let mut out = PodClaims::default();
    for name in pod_claim_names(pod) {
        let claim = state
            .claim(ns, &name)
            .ok_or_else(|| PreFilterError::ClaimNotFound(name.clone()))?;
        if claim.metadata.deletion_timestamp.is_some() {
            return Err(PreFilterError::ClaimDeleting(name));
        }
        let bound = claim
            .spec
            .as_ref()
            .and_then(|s| s.volume_name.as_deref())
            .is_some_and(|v| !v.is_empty());
        if bound {
            out.bound.push(claim.clone());
            continue;
        }
        let delayed = state.class(claim_class(claim)).is_some_and(|c| {
            c.volume_binding_mode.as_deref() == Some(BINDING_WAIT_FOR_FIRST_CONSUMER)
        });
        if !delayed {
            return Err(PreFilterError::UnboundImmediate);
        }
        out.delayed.push(claim.clone());
    }
    Ok(out)
}

/// What binding the pod's delayed claims on a node takes (Filter's result, used by
/// [`prebind`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PodVolumes {
    /// `(volume name, claim)`: existing volumes chosen for claims.
    pub static_bindings: Vec<(String, PersistentVolumeClaim)>,
    /// Claims to provision on the node.
    pub provisions: Vec<PersistentVolumeClaim>,
}

/// Filter: can the pod's claims be satisfied on `node`? `index` holds the cluster's
/// volumes.
///
/// # Errors
/// The reasons the node does not fit (upstream's messages, deduplicated).
pub fn filter(
    state: &dyn StorageState,
    index: &VolumeIndex,
    claims: &PodClaims,
    node: &Node,
) -> Result<PodVolumes, Vec<&'static str>> {
    let node_name = node.metadata.name.as_deref().unwrap_or("");
    let mut reasons = Vec::new();
    for claim in &claims.bound {
        let vname = claim
            .spec
            .as_ref()
            .and_then(|s| s.volume_name.as_deref())
            .unwrap_or("");
        match state.volume(vname) {
            None => reasons.push(ERR_REASON_PV_NOT_EXIST),
            Some(pv) => {
                if check_volume_node_affinity(pv, node_name, &node.metadata.labels).is_err() {
                    reasons.push(ERR_REASON_NODE_CONFLICT);
                }
            }
        }
    }
    let mut out = PodVolumes::default();
    let mut excluded = HashSet::new();
    for claim in &claims.delayed {
        match index.find_for_node(claim, node, &excluded) {
            Ok(Some(pv)) => {
                let name = pv.metadata.name.clone().unwrap_or_default();
                excluded.insert(name.clone());
                out.static_bindings.push((name, claim.clone()));
            }
            Ok(None) | Err(_) => {
                let provisionable = state.class(claim_class(claim)).is_some_and(|c| {
                    c.provisioner != NO_PROVISIONER
                        && (c.allowed_topologies.is_empty()
                            || c.allowed_topologies.iter().any(|t| {
                                t.match_label_expressions.iter().all(|e| {
                                    node.metadata
                                        .labels
                                        .get(&e.key)
                                        .is_some_and(|v| e.values.contains(v))
                                })
                            }))
                });
                if provisionable {
                    out.provisions.push(claim.clone());
                } else {
                    reasons.push(ERR_REASON_BIND_CONFLICT);
                }
            }
        }
    }
    reasons.dedup();
    if reasons.is_empty() {
        Ok(out)
    } else {
        Err(reasons)
    }
}

/// Reserve + PreBind: the writes that commit the decision for `node`: each chosen volume
/// gets the claim in `claimRef` (marked bound by controller), each claim to provision gets
/// `volume.kubernetes.io/selected-node`. The PV controller completes both. Unreserve is
/// dropping the [`PodVolumes`] before these are applied.
pub fn prebind(state: &dyn StorageState, volumes: &PodVolumes, node: &str) -> Vec<Action> {
    let mut out = Vec::new();
    for (vname, claim) in &volumes.static_bindings {
        if let Some(pv) = state.volume(vname) {
            let mut pv = pv.clone();
            pv.spec.get_or_insert_default().claim_ref = Some(claim_reference(claim));
            pv.metadata
                .annotations
                .insert(BOUND_BY_CONTROLLER.to_owned(), "yes".to_owned());
            out.push(Action::UpdateVolume(Box::new(pv)));
        }
    }
    for claim in &volumes.provisions {
        if claim
            .metadata
            .annotations
            .get(SELECTED_NODE)
            .map(String::as_str)
            != Some(node)
        {
            let mut c = claim.clone();
            c.metadata
                .annotations
                .insert(SELECTED_NODE.to_owned(), node.to_owned());
            out.push(Action::UpdateClaim(Box::new(c)));
        }
    }
    out
}

/// `namespace/name` of each claim in the decision (for logs and plugin state keys).
pub fn claim_keys(volumes: &PodVolumes) -> Vec<String> {
    volumes
        .static_bindings
        .iter()
        .map(|(_, c)| claim_key(c))
        .chain(volumes.provisions.iter().map(claim_key))
        .collect()
}

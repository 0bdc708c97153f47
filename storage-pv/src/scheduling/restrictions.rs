//! VolumeRestrictions: a claim with the ReadWriteOncePod access mode may be used by one pod
//! in the whole cluster.

use kybern_core::api::core::v1::Pod;

use crate::controller::StorageState;
use crate::controller::state::{pod_claim_names, pod_terminated};

/// Upstream's reason when another pod already uses a ReadWriteOncePod claim.
pub const ERR_REASON_RWOP_CONFLICT: &str =
    "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode";

/// The pod's claims that have the ReadWriteOncePod access mode.
pub fn read_write_once_pod_claims(state: &dyn StorageState, pod: &Pod) -> Vec<String> {
    let ns = pod.metadata.namespace.as_deref().unwrap_or("");
    pod_claim_names(pod)
        .into_iter()
        .filter(|name| {
            state.claim(ns, name).is_some_and(|c| {
                c.spec
                    .as_ref()
                    .is_some_and(|s| s.access_modes.iter().any(|m| m == "ReadWriteOncePod"))
            })
        })
        .collect()
}

/// Whether `other` (a different, non-terminated pod in `pod`'s namespace) uses one of
/// `claims`.
pub fn uses_any_claim(pod: &Pod, other: &Pod, claims: &[String]) -> bool {
    other.metadata.uid != pod.metadata.uid
        && other.metadata.namespace == pod.metadata.namespace
        && !pod_terminated(other)
        && pod_claim_names(other).iter().any(|c| claims.contains(c))
}

/// Whether `pod` conflicts with a pod in `others` over a ReadWriteOncePod claim
/// (unschedulable and unresolvable while the other pod exists).
///
/// # Errors
/// [`ERR_REASON_RWOP_CONFLICT`].
pub fn check_read_write_once_pod(
    state: &dyn StorageState,
    pod: &Pod,
    others: &[Pod],
) -> Result<(), &'static str> {
    let claims = read_write_once_pod_claims(state, pod);
    if !claims.is_empty() && others.iter().any(|o| uses_any_claim(pod, o, &claims)) {
        return Err(ERR_REASON_RWOP_CONFLICT);
    }
    Ok(())
}

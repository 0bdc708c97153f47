//! VolumeRestrictions: a claim with the ReadWriteOncePod access mode may be used by one pod
//! in the whole cluster.

use kybern_core::api::core::v1::Pod;

use crate::controller::StorageState;
use crate::controller::state::{pod_claim_names, pod_terminated};

/// Upstream's reason when another pod already uses a ReadWriteOncePod claim.
pub const ERR_REASON_RWOP_CONFLICT: &str =
    "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode";

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
    let ns = pod.metadata.namespace.as_deref().unwrap_or("");
    for name in pod_claim_names(pod) {
        let rwop = state.claim(ns, &name).is_some_and(|c| {
            c.spec
                .as_ref()
                .is_some_and(|s| s.access_modes.iter().any(|m| m == "ReadWriteOncePod"))
        });
        if !rwop {
            continue;
        }
        let used = others.iter().any(|o| {
            o.metadata.uid != pod.metadata.uid
                && o.metadata.namespace.as_deref().unwrap_or("") == ns
                && !pod_terminated(o)
                && pod_claim_names(o).contains(&name)
        });
        if used {
            return Err(ERR_REASON_RWOP_CONFLICT);
        }
    }
    Ok(())
}

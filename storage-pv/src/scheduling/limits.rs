//! NodeVolumeLimits: a node attaches at most N volumes of each CSI driver.
//!
//! The limit per driver comes from the node's `status.allocatable`
//! `attachable-volumes-csi-<driver>` (upstream reads it from CSINode; the allocatable key is
//! its older form). Volumes are counted once per node however many pods use them.

use std::collections::{BTreeMap, BTreeSet};

use kybern_core::api::core::v1::{Node, Pod};

use crate::controller::StorageState;
use crate::controller::state::pod_claim_names;

/// Upstream's reason when the node would exceed a driver's limit.
pub const ERR_REASON_MAX_VOLUME_COUNT: &str = "node(s) exceed max volume count";

/// The CSI volumes (driver → volume handles) the pods' bound claims use.
pub fn csi_volumes<'p>(
    state: &dyn StorageState,
    pods: impl IntoIterator<Item = &'p Pod>,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for pod in pods {
        let ns = pod.metadata.namespace.as_deref().unwrap_or("");
        for name in pod_claim_names(pod) {
            let pv = state
                .claim(ns, &name)
                .and_then(|c| c.spec.as_ref()?.volume_name.as_deref())
                .and_then(|v| state.volume(v));
            if let Some(csi) = pv.and_then(|v| v.spec.as_ref()?.csi.as_ref()) {
                out.entry(csi.driver.clone())
                    .or_default()
                    .insert(csi.volume_handle.clone());
            }
        }
    }
    out
}

/// Whether a node already attaching `existing` stays within every driver's limit when it
/// also attaches `new` (both from [`csi_volumes`]).
///
/// # Errors
/// [`ERR_REASON_MAX_VOLUME_COUNT`].
pub fn check_limits(
    new: &BTreeMap<String, BTreeSet<String>>,
    existing: &BTreeMap<String, BTreeSet<String>>,
    node: &Node,
) -> Result<(), &'static str> {
    let allocatable = node.status.as_ref().map(|s| &s.allocatable);
    for (driver, handles) in new {
        let key = format!("attachable-volumes-csi-{driver}");
        let Some(limit) = allocatable.and_then(|a| a.get(&key)).map(|q| q.value()) else {
            continue;
        };
        let mut all = existing.get(driver).cloned().unwrap_or_default();
        all.extend(handles.iter().cloned());
        if i64::try_from(all.len()).unwrap_or(i64::MAX) > limit {
            return Err(ERR_REASON_MAX_VOLUME_COUNT);
        }
    }
    Ok(())
}

/// Whether adding `pod` to `node` (already running `on_node`) stays within every driver's
/// attach limit.
///
/// # Errors
/// [`ERR_REASON_MAX_VOLUME_COUNT`].
pub fn check_node_volume_limits(
    state: &dyn StorageState,
    pod: &Pod,
    node: &Node,
    on_node: &[Pod],
) -> Result<(), &'static str> {
    let new = csi_volumes(state, [pod]);
    if new.is_empty() {
        return Ok(());
    }
    check_limits(&new, &csi_volumes(state, on_node), node)
}

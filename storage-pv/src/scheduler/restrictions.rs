//! The VolumeRestrictions plugin (PreFilter): a ReadWriteOncePod claim already used by
//! another pod makes the pod unschedulable and unresolvable
//! ([`crate::scheduling::restrictions`]). Upstream's disk conflicts (two pods mounting the
//! same GCE PD / EBS / RBD / iSCSI volume on one node) are not modelled.

use std::sync::Arc;

use kybern_scheduler::cache::{PodInfo, Snapshot};
use kybern_scheduler::framework::{
    ActionType, ClusterEventWithHint, Code, CycleState, EventResource, Plugin, PreFilterPlugin,
    PreFilterResult, Status,
};

use super::volume_cache::VolumeCache;
use crate::scheduling::restrictions::{
    ERR_REASON_RWOP_CONFLICT, read_write_once_pod_claims, uses_any_claim,
};

/// Upstream's plugin name.
pub const NAME: &str = "VolumeRestrictions";

/// The VolumeRestrictions plugin.
#[derive(Debug)]
pub struct VolumeRestrictions {
    cache: VolumeCache,
}

impl VolumeRestrictions {
    /// The plugin reading claims from `cache`.
    pub fn new(cache: VolumeCache) -> Arc<Self> {
        Arc::new(VolumeRestrictions { cache })
    }
}

impl Plugin for VolumeRestrictions {
    fn name(&self) -> &str {
        NAME
    }

    fn events_to_register(&self) -> Vec<ClusterEventWithHint> {
        // A conflicting pod going away is what helps.
        vec![ClusterEventWithHint::always(
            EventResource::AssignedPod,
            ActionType::DELETE,
        )]
    }
}

impl PreFilterPlugin for VolumeRestrictions {
    fn pre_filter(
        &self,
        _state: &mut CycleState,
        pod: &PodInfo,
        snapshot: &Snapshot,
    ) -> (Option<PreFilterResult>, Status) {
        let claims = read_write_once_pod_claims(&*self.cache.read(), pod.pod());
        if claims.is_empty() {
            return (None, Status::skip());
        }
        let conflict = snapshot
            .nodes()
            .iter()
            .flat_map(|n| n.pods())
            .any(|other| uses_any_claim(pod.pod(), other.pod(), &claims));
        if conflict {
            return (None, Status::unresolvable(ERR_REASON_RWOP_CONFLICT));
        }
        (None, Status::code_only(Code::Success))
    }
}

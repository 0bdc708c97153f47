//! The NodeVolumeLimits plugin (PreFilter + Filter): a node attaches at most
//! `attachable-volumes-csi-<driver>` CSI volumes of each driver
//! ([`crate::scheduling::limits`]). PreFilter skips pods without bound CSI volumes.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use kybern_scheduler::cache::{NodeInfo, PodInfo, Snapshot};
use kybern_scheduler::framework::{
    ActionType, ClusterEventWithHint, Code, CycleState, EventResource, FilterPlugin, Plugin,
    PreFilterPlugin, PreFilterResult, Status,
};

use super::volume_cache::VolumeCache;
use crate::scheduling::limits::{check_limits, csi_volumes};

/// Upstream's plugin name.
pub const NAME: &str = "NodeVolumeLimits";

/// The NodeVolumeLimits plugin.
#[derive(Debug)]
pub struct NodeVolumeLimits {
    cache: VolumeCache,
}

impl NodeVolumeLimits {
    /// The plugin reading claims and volumes from `cache`.
    pub fn new(cache: VolumeCache) -> Arc<Self> {
        Arc::new(NodeVolumeLimits { cache })
    }
}

/// The pod's CSI volumes (driver → handles), from PreFilter.
#[derive(Clone, Debug)]
struct PodCsiVolumes(Arc<BTreeMap<String, BTreeSet<String>>>);

impl Plugin for NodeVolumeLimits {
    fn name(&self) -> &str {
        NAME
    }

    fn events_to_register(&self) -> Vec<ClusterEventWithHint> {
        vec![
            ClusterEventWithHint::always(EventResource::AssignedPod, ActionType::DELETE),
            ClusterEventWithHint::always(EventResource::Node, ActionType::ADD | ActionType::UPDATE),
        ]
    }
}

impl PreFilterPlugin for NodeVolumeLimits {
    fn pre_filter(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _snapshot: &Snapshot,
    ) -> (Option<PreFilterResult>, Status) {
        let volumes = csi_volumes(&*self.cache.read(), [pod.pod().as_ref()]);
        if volumes.is_empty() {
            return (None, Status::skip());
        }
        state.write(PodCsiVolumes(Arc::new(volumes)));
        (None, Status::code_only(Code::Success))
    }
}

impl FilterPlugin for NodeVolumeLimits {
    fn filter(&self, state: &CycleState, _pod: &PodInfo, node: &NodeInfo) -> Status {
        let Some(PodCsiVolumes(new)) = state.read::<PodCsiVolumes>() else {
            return Status::code_only(Code::Success);
        };
        let Some(n) = node.node() else {
            return Status::error("NodeVolumeLimits: node not found");
        };
        let existing = csi_volumes(
            &*self.cache.read(),
            node.pods().iter().map(|p| p.pod().as_ref()),
        );
        match check_limits(new, &existing, n) {
            Ok(()) => Status::code_only(Code::Success),
            Err(reason) => Status::unschedulable(reason),
        }
    }
}

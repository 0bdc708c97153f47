//! NodeName: a pod with `spec.nodeName` fits only that node.

use std::sync::Arc;

use super::names;
use crate::cache::{NodeInfo, NodeRef, PodInfo};
use crate::framework::{
    ActionType, ClusterEventWithHint, CycleState, EventResource, FilterPlugin, Plugin, Status,
};

/// The filter failure reason.
pub const ERR_REASON_NODE_NAME: &str = "node(s) didn't match the requested node name";

/// The NodeName plugin.
#[derive(Clone, Copy, Debug, Default)]
pub struct NodeName;

impl NodeName {
    /// The plugin.
    pub fn new() -> Arc<Self> {
        Arc::new(NodeName)
    }
}

impl Plugin for NodeName {
    fn name(&self) -> &str {
        names::NODE_NAME
    }

    fn events_to_register(&self) -> Vec<ClusterEventWithHint> {
        vec![ClusterEventWithHint::always(
            EventResource::Node,
            ActionType::ADD,
        )]
    }
}

impl FilterPlugin for NodeName {
    fn filter(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let want = pod.node_name();
        if want.is_empty() || want == node.name() {
            Status::success()
        } else {
            Status::unresolvable(ERR_REASON_NODE_NAME)
        }
    }

    #[inline]
    fn passes_node(&self, _state: &CycleState, pod: &PodInfo, _node: NodeRef<'_>) -> bool {
        pod.node_name().is_empty()
    }
}

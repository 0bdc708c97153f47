//! NodePorts: the pod's host ports must be free on the node.

use std::sync::Arc;

use super::names;
use crate::cache::{NodeInfo, NodeRef, PodInfo};
use crate::framework::{
    ActionType, ClusterEventWithHint, CycleState, EventResource, FilterPlugin, Plugin, Status,
};

/// The filter failure reason.
pub const ERR_REASON_PORTS: &str = "node(s) didn't have free ports for the requested pod ports";

/// The NodePorts plugin.
#[derive(Clone, Copy, Debug, Default)]
pub struct NodePorts;

impl NodePorts {
    /// The plugin.
    pub fn new() -> Arc<Self> {
        Arc::new(NodePorts)
    }
}

impl Plugin for NodePorts {
    fn name(&self) -> &str {
        names::NODE_PORTS
    }

    fn events_to_register(&self) -> Vec<ClusterEventWithHint> {
        vec![
            ClusterEventWithHint::always(EventResource::AssignedPod, ActionType::DELETE),
            ClusterEventWithHint::always(EventResource::Node, ActionType::ADD),
        ]
    }
}

impl FilterPlugin for NodePorts {
    #[inline]
    fn passes_node(&self, _state: &CycleState, pod: &PodInfo, _node: NodeRef<'_>) -> bool {
        pod.host_ports.is_empty()
    }

    fn filter(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        if pod.host_ports.is_empty() || node.used_ports().is_empty() {
            return Status::success();
        }
        if pod.host_ports.iter().any(|p| node.port_conflicts(p)) {
            Status::unschedulable(ERR_REASON_PORTS)
        } else {
            Status::success()
        }
    }
}

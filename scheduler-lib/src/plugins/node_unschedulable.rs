//! NodeUnschedulable: a node with `spec.unschedulable` takes only pods tolerating the
//! `node.kubernetes.io/unschedulable:NoSchedule` taint.

use std::sync::Arc;

use kybern_core::api::core::v1::Taint;

use super::taint_toleration::{pod_tolerations, tolerations_tolerate_taint};
use super::{FeatureGates, names};
use crate::cache::{NodeInfo, NodeRef, PodInfo};
use crate::framework::{
    ActionType, ClusterEventWithHint, CycleState, EventResource, FilterPlugin, Plugin,
    QueueingHint, Status,
};

/// The filter failure reason.
pub const ERR_REASON_UNSCHEDULABLE: &str = "node(s) were unschedulable";
/// The taint key a cordoned node is treated as having.
pub const TAINT_NODE_UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";

/// The NodeUnschedulable plugin.
#[derive(Clone, Copy, Debug, Default)]
pub struct NodeUnschedulable;

impl NodeUnschedulable {
    /// The plugin.
    pub fn new() -> Arc<Self> {
        Arc::new(NodeUnschedulable)
    }
}

impl Plugin for NodeUnschedulable {
    fn name(&self) -> &str {
        names::NODE_UNSCHEDULABLE
    }

    fn events_to_register(&self) -> Vec<ClusterEventWithHint> {
        vec![ClusterEventWithHint::with_hint(
            EventResource::Node,
            ActionType::ADD | ActionType::UPDATE_NODE_TAINT,
            |_pod, objs| {
                let schedulable = objs
                    .new
                    .as_ref()
                    .and_then(|o| o.as_node())
                    .is_some_and(|n| {
                        !n.spec
                            .as_ref()
                            .and_then(|s| s.unschedulable)
                            .unwrap_or(false)
                    });
                if schedulable {
                    QueueingHint::Queue
                } else {
                    QueueingHint::Skip
                }
            },
        )]
    }
}

impl FilterPlugin for NodeUnschedulable {
    fn filter(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        if !node.unschedulable() {
            return Status::success();
        }
        let taint = Taint {
            key: TAINT_NODE_UNSCHEDULABLE.into(),
            effect: "NoSchedule".into(),
            ..Taint::default()
        };
        if tolerations_tolerate_taint(pod_tolerations(pod), &taint, FeatureGates::default()) {
            Status::success()
        } else {
            Status::unresolvable(ERR_REASON_UNSCHEDULABLE)
        }
    }

    #[inline]
    fn passes_node(&self, _state: &CycleState, _pod: &PodInfo, node: NodeRef<'_>) -> bool {
        !node.row().unschedulable
    }
}

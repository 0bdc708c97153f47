//! SchedulingGates: a pod with `spec.schedulingGates` stays out of the active queue until
//! every gate is removed (PreEnqueue).

use std::sync::Arc;

use super::names;
use crate::cache::PodInfo;
use crate::framework::{
    ActionType, ClusterEventWithHint, EventResource, Plugin, PreEnqueuePlugin, Status,
};

/// The SchedulingGates plugin.
#[derive(Clone, Copy, Debug, Default)]
pub struct SchedulingGates;

impl SchedulingGates {
    /// The plugin.
    pub fn new() -> Arc<Self> {
        Arc::new(SchedulingGates)
    }
}

impl Plugin for SchedulingGates {
    fn name(&self) -> &str {
        names::SCHEDULING_GATES
    }

    fn events_to_register(&self) -> Vec<ClusterEventWithHint> {
        vec![ClusterEventWithHint::always(
            EventResource::Pod,
            ActionType::UPDATE_POD_SCHEDULING_GATES_ELIMINATED,
        )]
    }
}

impl PreEnqueuePlugin for SchedulingGates {
    fn pre_enqueue(&self, pod: &PodInfo) -> Status {
        let gates = pod
            .pod()
            .spec
            .as_ref()
            .map(|s| s.scheduling_gates.as_slice())
            .unwrap_or(&[]);
        if gates.is_empty() {
            return Status::success();
        }
        let names: Vec<&str> = gates.iter().map(|g| g.name.as_str()).collect();
        Status::unresolvable(format!(
            "waiting for scheduling gates: [{}]",
            names.join(" ")
        ))
    }
}

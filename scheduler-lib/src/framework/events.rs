//! Cluster events and queueing hints: which changes in the cluster may make an
//! unschedulable pod schedulable, so the queue retries only the pods an event can help.

use std::fmt;
use std::sync::Arc;

use kybern_core::api::core::v1::Node;

use crate::cache::PodInfo;

/// The kind of object an event is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventResource {
    /// The unscheduled pod itself (its own updates).
    Pod,
    /// A pod bound to a node (added, updated or deleted).
    AssignedPod,
    /// A node.
    Node,
    /// A PodDisruptionBudget.
    PodDisruptionBudget,
    /// A namespace.
    Namespace,
    /// Any resource (matches every event).
    Wildcard,
}

/// What happened, as a bit set (upstream's `ActionType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ActionType(pub u32);

impl ActionType {
    /// Created.
    pub const ADD: ActionType = ActionType(1);
    /// Deleted.
    pub const DELETE: ActionType = ActionType(1 << 1);
    /// A node's allocatable changed.
    pub const UPDATE_NODE_ALLOCATABLE: ActionType = ActionType(1 << 2);
    /// A node's labels changed.
    pub const UPDATE_NODE_LABEL: ActionType = ActionType(1 << 3);
    /// A node's taints (or `spec.unschedulable`) changed.
    pub const UPDATE_NODE_TAINT: ActionType = ActionType(1 << 4);
    /// A node's conditions changed.
    pub const UPDATE_NODE_CONDITION: ActionType = ActionType(1 << 5);
    /// A node's annotations changed.
    pub const UPDATE_NODE_ANNOTATION: ActionType = ActionType(1 << 6);
    /// A pod's labels changed.
    pub const UPDATE_POD_LABEL: ActionType = ActionType(1 << 7);
    /// A pod's requests went down.
    pub const UPDATE_POD_SCALE_DOWN: ActionType = ActionType(1 << 8);
    /// A pod's tolerations changed.
    pub const UPDATE_POD_TOLERATIONS: ActionType = ActionType(1 << 9);
    /// A pod's scheduling gates were all removed.
    pub const UPDATE_POD_SCHEDULING_GATES_ELIMINATED: ActionType = ActionType(1 << 10);
    /// Any other update.
    pub const UPDATE_OTHER: ActionType = ActionType(1 << 11);
    /// Any update.
    pub const UPDATE: ActionType = ActionType(0b1111_1111_1100);
    /// Anything.
    pub const ALL: ActionType = ActionType(u32::MAX);

    /// Whether any bit is shared.
    pub fn intersects(self, other: ActionType) -> bool {
        self.0 & other.0 != 0
    }
}

impl std::ops::BitOr for ActionType {
    type Output = ActionType;
    fn bitor(self, rhs: ActionType) -> ActionType {
        ActionType(self.0 | rhs.0)
    }
}

/// A cluster event: a resource and what happened to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClusterEvent {
    /// The resource.
    pub resource: EventResource,
    /// The action(s).
    pub action: ActionType,
}

impl ClusterEvent {
    /// An event.
    pub const fn new(resource: EventResource, action: ActionType) -> ClusterEvent {
        ClusterEvent { resource, action }
    }

    /// Whether a registration (`self`) covers an event that happened (`event`).
    pub fn covers(&self, event: &ClusterEvent) -> bool {
        (self.resource == EventResource::Wildcard || self.resource == event.resource)
            && self.action.intersects(event.action)
    }
}

impl fmt::Display for ClusterEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}/{:#x}", self.resource, self.action.0)
    }
}

/// An object an event carries.
#[derive(Clone, Debug)]
pub enum EventObject {
    /// A pod.
    Pod(Arc<PodInfo>),
    /// A node.
    Node(Arc<Node>),
}

impl EventObject {
    /// The node, if this is one.
    pub fn as_node(&self) -> Option<&Arc<Node>> {
        match self {
            EventObject::Node(n) => Some(n),
            EventObject::Pod(_) => None,
        }
    }

    /// The pod, if this is one.
    pub fn as_pod(&self) -> Option<&Arc<PodInfo>> {
        match self {
            EventObject::Pod(p) => Some(p),
            EventObject::Node(_) => None,
        }
    }
}

/// The old and new object of an event (`old` is `None` for an add, `new` for a delete).
#[derive(Clone, Debug, Default)]
pub struct EventObjects {
    /// Before.
    pub old: Option<EventObject>,
    /// After.
    pub new: Option<EventObject>,
}

/// A queueing hint's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueingHint {
    /// The event cannot make the pod schedulable: leave it.
    Skip,
    /// The event may make the pod schedulable: retry it.
    Queue,
}

/// A queueing hint function: given the rejected pod and the event's objects, may the event
/// make it schedulable?
pub type QueueingHintFn = Arc<dyn Fn(&PodInfo, &EventObjects) -> QueueingHint + Send + Sync>;

/// A registration: an event a plugin cares about, with an optional hint (none = always
/// retry on this event).
#[derive(Clone)]
pub struct ClusterEventWithHint {
    /// The event.
    pub event: ClusterEvent,
    /// The hint; `None` always queues.
    pub hint: Option<QueueingHintFn>,
}

impl fmt::Debug for ClusterEventWithHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterEventWithHint")
            .field("event", &self.event)
            .field("hint", &self.hint.is_some())
            .finish()
    }
}

impl ClusterEventWithHint {
    /// A registration without a hint.
    pub fn always(resource: EventResource, action: ActionType) -> Self {
        ClusterEventWithHint {
            event: ClusterEvent::new(resource, action),
            hint: None,
        }
    }

    /// A registration with a hint.
    pub fn with_hint(
        resource: EventResource,
        action: ActionType,
        hint: impl Fn(&PodInfo, &EventObjects) -> QueueingHint + Send + Sync + 'static,
    ) -> Self {
        ClusterEventWithHint {
            event: ClusterEvent::new(resource, action),
            hint: Some(Arc::new(hint)),
        }
    }
}

/// The action bits of a node update, from the old and new node.
pub fn node_update_action(old: &Node, new: &Node) -> ActionType {
    let mut a = 0u32;
    let alloc = |n: &Node| n.status.as_ref().map(|s| s.allocatable.clone());
    if alloc(old) != alloc(new) {
        a |= ActionType::UPDATE_NODE_ALLOCATABLE.0;
    }
    if old.metadata.labels != new.metadata.labels {
        a |= ActionType::UPDATE_NODE_LABEL.0;
    }
    let taints = |n: &Node| {
        n.spec
            .as_ref()
            .map(|s| (s.taints.clone(), s.unschedulable.unwrap_or(false)))
    };
    if taints(old) != taints(new) {
        a |= ActionType::UPDATE_NODE_TAINT.0;
    }
    let conds = |n: &Node| n.status.as_ref().map(|s| s.conditions.clone());
    if conds(old) != conds(new) {
        a |= ActionType::UPDATE_NODE_CONDITION.0;
    }
    if old.metadata.annotations != new.metadata.annotations {
        a |= ActionType::UPDATE_NODE_ANNOTATION.0;
    }
    ActionType(a)
}

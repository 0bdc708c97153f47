//! PrioritySort: the active queue orders pods by priority (higher first), then by the time
//! they entered the queue (earlier first).

use std::sync::Arc;

use super::names;
use crate::framework::{Plugin, QueueSortPlugin};
use crate::queue::QueuedPodInfo;

/// The PrioritySort plugin.
#[derive(Clone, Copy, Debug, Default)]
pub struct PrioritySort;

impl PrioritySort {
    /// The plugin.
    pub fn new() -> Arc<Self> {
        Arc::new(PrioritySort)
    }
}

impl Plugin for PrioritySort {
    fn name(&self) -> &str {
        names::PRIORITY_SORT
    }
}

impl QueueSortPlugin for PrioritySort {
    fn less(&self, a: &QueuedPodInfo, b: &QueuedPodInfo) -> bool {
        let (pa, pb) = (a.pod.priority, b.pod.priority);
        pa > pb || (pa == pb && a.timestamp < b.timestamp)
    }
}

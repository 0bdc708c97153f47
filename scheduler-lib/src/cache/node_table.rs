//! `NodeRow` and `NodeRef`: the snapshot's compact table of the per-node numbers the Filter
//! and Score passes read for every node (allocatable, requested, pod count, flags), one
//! contiguous row per node position, so a pass over hundreds of nodes streams through one
//! array instead of visiting one heap `NodeInfo` per node.

use std::sync::Arc;

use super::node_info::NodeInfo;

/// One node's hot numbers, copied from its [`NodeInfo`] whenever the snapshot takes a new
/// version of the node (rows are never written elsewhere, so a row always equals
/// `NodeRow::of` its node).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NodeRow {
    /// `allocatable.milli_cpu`.
    pub allocatable_milli_cpu: i64,
    /// `allocatable.memory`.
    pub allocatable_memory: i64,
    /// `allocatable.ephemeral_storage`.
    pub allocatable_ephemeral_storage: i64,
    /// `allocatable.allowed_pod_number`.
    pub allowed_pod_number: i64,
    /// `requested.milli_cpu`.
    pub requested_milli_cpu: i64,
    /// `requested.memory`.
    pub requested_memory: i64,
    /// `requested.ephemeral_storage`.
    pub requested_ephemeral_storage: i64,
    /// `non_zero_requested.milli_cpu`.
    pub non_zero_milli_cpu: i64,
    /// `non_zero_requested.memory`.
    pub non_zero_memory: i64,
    /// How many pods are on the node (bound and assumed).
    pub pods: u32,
    /// `spec.unschedulable`.
    pub unschedulable: bool,
    /// Whether the node has any taint.
    pub has_taints: bool,
}

impl NodeRow {
    /// The row of `node`.
    pub fn of(node: &NodeInfo) -> NodeRow {
        NodeRow {
            allocatable_milli_cpu: node.allocatable.milli_cpu,
            allocatable_memory: node.allocatable.memory,
            allocatable_ephemeral_storage: node.allocatable.ephemeral_storage,
            allowed_pod_number: node.allocatable.allowed_pod_number,
            requested_milli_cpu: node.requested.milli_cpu,
            requested_memory: node.requested.memory,
            requested_ephemeral_storage: node.requested.ephemeral_storage,
            non_zero_milli_cpu: node.non_zero_requested.milli_cpu,
            non_zero_memory: node.non_zero_requested.memory,
            pods: u32::try_from(node.pods().len()).unwrap_or(u32::MAX),
            unschedulable: node.unschedulable(),
            has_taints: !node.taints().is_empty(),
        }
    }
}

/// A node of a [`Snapshot`](super::Snapshot) as the per-node passes see it: its compact
/// [`NodeRow`] and the full [`NodeInfo`] (read only when a plugin needs more than the row).
#[derive(Clone, Copy, Debug)]
pub struct NodeRef<'a> {
    row: &'a NodeRow,
    info: &'a Arc<NodeInfo>,
}

impl<'a> NodeRef<'a> {
    /// A node and its row (the row must be `NodeRow::of(info)`).
    #[inline]
    pub fn new(row: &'a NodeRow, info: &'a Arc<NodeInfo>) -> NodeRef<'a> {
        NodeRef { row, info }
    }

    /// The compact row.
    #[inline]
    pub fn row(&self) -> &'a NodeRow {
        self.row
    }

    /// The full node.
    #[inline]
    pub fn info(&self) -> &'a NodeInfo {
        self.info
    }

    /// The full node, shared.
    #[inline]
    pub fn arc(&self) -> &'a Arc<NodeInfo> {
        self.info
    }
}

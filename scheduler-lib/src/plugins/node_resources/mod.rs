//! NodeResourcesFit and NodeResourcesBalancedAllocation: resource fit filtering and the
//! resource-based scoring strategies they share.

/// The [`ScorePlugin`](crate::framework::ScorePlugin) methods of a plugin scoring by
/// resource — from the `NodeInfo`, and batched over positions from the nodes' rows — given the
/// plugin's `requests`, `score_from`, `args.resources` and `columns`, and whether it reads
/// `requested` (true) or `non_zero_requested` (false).
macro_rules! resource_score_methods {
    ($use_requested:expr) => {
        fn score(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Result<i64, Status> {
            Ok(self.score_from(&self.requests(state, pod), |i, req| {
                allocatable_and_requested(node, req, &self.args.resources[i].name, $use_requested)
            }))
        }

        fn score_positions(
            &self,
            state: &CycleState,
            pod: &PodInfo,
            snapshot: &Snapshot,
            positions: &[usize],
            out: &mut [i64],
        ) -> Result<(), Status> {
            let reqs = self.requests(state, pod);
            score_each_position(snapshot, positions, out, |node| {
                Ok(self.score_from(&reqs, |i, req| {
                    self.columns
                        .on_node(node, &self.args.resources, i, req, $use_requested)
                }))
            })
        }
    };
}

mod balanced_allocation;
mod fit;

pub use balanced_allocation::{BalancedAllocation, BalancedAllocationArgs};
pub use fit::{Fit, FitArgs, InsufficientResource, ScoringStrategy, ShapePoint, fits_request};

use crate::cache::resource::is_scalar_resource_name;
use crate::cache::{NodeInfo, NodeRef, NodeRow, Resource};

/// A resource and its weight in a score.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceWeight {
    /// The resource name (`cpu`, `memory`, an extended resource …).
    pub name: String,
    /// Its weight (≥ 1).
    pub weight: i64,
}

impl ResourceWeight {
    /// A resource with a weight.
    pub fn new(name: &str, weight: i64) -> Self {
        ResourceWeight {
            name: name.to_owned(),
            weight,
        }
    }
}

/// cpu and memory, weight 1 each (upstream's default scoring resources).
pub fn default_resources() -> Vec<ResourceWeight> {
    vec![
        ResourceWeight::new("cpu", 1),
        ResourceWeight::new("memory", 1),
    ]
}

/// [`allocatable_and_requested`] of a snapshot node: cpu and memory come from its compact
/// row, other resources from its `NodeInfo`.
#[inline]
pub(crate) fn node_allocatable_and_requested(
    node: NodeRef<'_>,
    pod_request: i64,
    resource: &str,
    kind: RowResource,
    use_requested: bool,
) -> (i64, i64) {
    row_allocatable_and_requested(node.row(), pod_request, kind, use_requested).unwrap_or_else(
        || allocatable_and_requested(node.info(), pod_request, resource, use_requested),
    )
}

/// Which column of a [`NodeRow`] a scored resource reads (decided once per plugin, not per
/// node).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RowResource {
    /// `cpu`.
    Cpu,
    /// `memory`.
    Memory,
    /// Anything else: read from the `NodeInfo`.
    Other,
}

/// The row column of each resource a plugin scores, by position.
#[derive(Clone, Debug, Default)]
pub(crate) struct RowColumns(Vec<RowResource>);

impl RowColumns {
    /// The columns of `resources`, in order.
    pub(crate) fn of(resources: &[ResourceWeight]) -> RowColumns {
        RowColumns(
            resources
                .iter()
                .map(|r| match r.name.as_str() {
                    "cpu" => RowResource::Cpu,
                    "memory" => RowResource::Memory,
                    _ => RowResource::Other,
                })
                .collect(),
        )
    }

    /// (allocatable, requested with the pod's `req`) of `resources[i]` on a snapshot node.
    #[inline]
    pub(crate) fn on_node(
        &self,
        node: NodeRef<'_>,
        resources: &[ResourceWeight],
        i: usize,
        req: i64,
        use_requested: bool,
    ) -> (i64, i64) {
        let kind = self.0.get(i).copied().unwrap_or(RowResource::Other);
        let name = resources.get(i).map_or("", |r| r.name.as_str());
        node_allocatable_and_requested(node, req, name, kind, use_requested)
    }
}

/// [`allocatable_and_requested`] for cpu and memory from a node's row (`None` for the
/// other resources).
#[inline]
fn row_allocatable_and_requested(
    row: &NodeRow,
    pod_request: i64,
    kind: RowResource,
    use_requested: bool,
) -> Option<(i64, i64)> {
    match kind {
        RowResource::Cpu => {
            let requested = if use_requested {
                row.requested_milli_cpu
            } else {
                row.non_zero_milli_cpu
            };
            Some((row.allocatable_milli_cpu, requested + pod_request))
        }
        RowResource::Memory => {
            let requested = if use_requested {
                row.requested_memory
            } else {
                row.non_zero_memory
            };
            Some((row.allocatable_memory, requested + pod_request))
        }
        RowResource::Other => None,
    }
}

/// Upstream's `calculateResourceAllocatableRequest`: (allocatable, requested-with-pod) of one
/// resource on a node; (0, 0) for a scalar resource the pod does not request.
pub(crate) fn allocatable_and_requested(
    node: &NodeInfo,
    pod_request: i64,
    resource: &str,
    use_requested: bool,
) -> (i64, i64) {
    if pod_request == 0 && is_scalar_resource_name(resource) {
        return (0, 0);
    }
    let requested: &Resource = if use_requested {
        &node.requested
    } else {
        &node.non_zero_requested
    };
    match resource {
        "cpu" => (
            node.allocatable.milli_cpu,
            requested.milli_cpu + pod_request,
        ),
        "memory" => (node.allocatable.memory, requested.memory + pod_request),
        "ephemeral-storage" => (
            node.allocatable.ephemeral_storage,
            node.requested.ephemeral_storage + pod_request,
        ),
        other => {
            let alloc = node.allocatable.scalar(other);
            if node.allocatable.scalar.iter().any(|(n, _)| n == other) {
                (alloc, node.requested.scalar(other) + pod_request)
            } else {
                (0, 0)
            }
        }
    }
}

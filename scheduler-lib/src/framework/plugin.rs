//! The extension points: one trait per point, each a sub-trait of [`Plugin`], plus closure
//! adapters so a function can be a plugin in tests and examples.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::cycle_state::CycleState;
use super::events::ClusterEventWithHint;
use super::runtime::{Framework, NodeToStatus};
use super::status::Status;
use crate::cache::{NodeInfo, NodeRef, PodInfo, Snapshot};
use crate::queue::QueuedPodInfo;

/// The highest score a Score plugin may give after normalization (upstream's
/// `MaxNodeScore`).
pub const MAX_NODE_SCORE: i64 = 100;
/// The lowest score.
pub const MIN_NODE_SCORE: i64 = 0;

/// What every plugin has: a name, and the cluster events that may make a pod it rejected
/// schedulable (with optional queueing hints).
pub trait Plugin: Send + Sync + 'static {
    /// The plugin's name (upstream's, for the default plugins).
    fn name(&self) -> &str;

    /// Events that may make pods this plugin rejected schedulable. The default (no events)
    /// means a pod it rejected waits for the periodic flush.
    fn events_to_register(&self) -> Vec<ClusterEventWithHint> {
        Vec::new()
    }
}

/// PreEnqueue: may the pod enter the active queue at all? (Scheduling gates.)
pub trait PreEnqueuePlugin: Plugin {
    /// A non-success keeps the pod out of the active queue until an update re-checks it.
    fn pre_enqueue(&self, pod: &PodInfo) -> Status;
}

/// QueueSort: the order of the active queue (exactly one per scheduler).
pub trait QueueSortPlugin: Plugin {
    /// Whether `a` is scheduled before `b`.
    fn less(&self, a: &QueuedPodInfo, b: &QueuedPodInfo) -> bool;
}

/// What a PreFilter may narrow the candidate nodes to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PreFilterResult {
    /// `None` = every node; otherwise only these nodes are evaluated.
    pub node_names: Option<BTreeSet<String>>,
}

impl PreFilterResult {
    /// Every node.
    pub fn all() -> Self {
        PreFilterResult { node_names: None }
    }

    /// Only these nodes.
    pub fn nodes(names: impl IntoIterator<Item = String>) -> Self {
        PreFilterResult {
            node_names: Some(names.into_iter().collect()),
        }
    }

    /// The intersection of two results.
    pub fn merge(self, other: PreFilterResult) -> PreFilterResult {
        match (self.node_names, other.node_names) {
            (None, o) => PreFilterResult { node_names: o },
            (s, None) => PreFilterResult { node_names: s },
            (Some(a), Some(b)) => PreFilterResult {
                node_names: Some(a.intersection(&b).cloned().collect()),
            },
        }
    }
}

/// PreFilter: computes per-pod state once per cycle; may reject the pod outright, narrow the
/// nodes, or `Skip` (its Filter then does not run). Its AddPod/RemovePod extensions let
/// preemption evaluate "what if this pod were (not) on the node" incrementally.
pub trait PreFilterPlugin: Plugin {
    /// Runs once per cycle, before any Filter.
    fn pre_filter(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        snapshot: &Snapshot,
    ) -> (Option<PreFilterResult>, Status);

    /// Whether [`PreFilterPlugin::add_pod`]/[`PreFilterPlugin::remove_pod`] are implemented.
    fn has_extensions(&self) -> bool {
        false
    }

    /// Updates the state as if `to_add` were on `node`.
    fn add_pod(
        &self,
        _state: &mut CycleState,
        _pod: &PodInfo,
        _to_add: &Arc<PodInfo>,
        _node: &NodeInfo,
    ) -> Status {
        Status::success()
    }

    /// Updates the state as if `to_remove` were not on `node`.
    fn remove_pod(
        &self,
        _state: &mut CycleState,
        _pod: &PodInfo,
        _to_remove: &Arc<PodInfo>,
        _node: &NodeInfo,
    ) -> Status {
        Status::success()
    }
}

/// Filter: can the pod run on this node? Called per node; must be fast and read only the
/// cycle state, the pod and the node.
pub trait FilterPlugin: Plugin {
    /// Success, or a rejection with reasons.
    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status;

    /// The same answer as [`FilterPlugin::filter`] for a snapshot node, which the scheduling
    /// cycle calls: a plugin may answer from the node's compact
    /// [`NodeRow`](crate::cache::NodeRow) without reading the full `NodeInfo` (the default
    /// answers `Success` when [`FilterPlugin::passes_node`] does, else calls `filter`).
    /// Overrides must agree with `filter` on every node.
    #[inline]
    fn filter_node(&self, state: &CycleState, pod: &PodInfo, node: NodeRef<'_>) -> Status {
        if self.passes_node(state, pod, node) {
            return Status::success();
        }
        self.filter(state, pod, node.info())
    }

    /// A quick yes for a snapshot node: `true` only when [`FilterPlugin::filter_node`] would
    /// answer `Success`; `false` means "ask `filter_node`". The per-node loop asks this
    /// first, so the common passing case builds no [`Status`]. The default is `false`.
    #[inline]
    fn passes_node(&self, _state: &CycleState, _pod: &PodInfo, _node: NodeRef<'_>) -> bool {
        false
    }
}

/// What PostFilter (preemption) decided.
#[derive(Clone, Debug, Default)]
pub struct PostFilterResult {
    /// The node the pod is nominated to (after its victims are gone).
    pub nominated_node: Option<String>,
    /// Pods to delete so the pod fits on the nominated node. The scheduler deletes them;
    /// plugins never write to the store.
    pub victims: Vec<Arc<PodInfo>>,
    /// Lower-priority pods nominated to the same node whose nomination must be cleared.
    pub clear_nominations: Vec<Arc<PodInfo>>,
}

/// What PostFilter sees: the snapshot, the statuses each node got, and the framework (to
/// re-run filters on modified nodes).
#[derive(Debug)]
pub struct PostFilterContext<'a> {
    /// The cycle's snapshot.
    pub snapshot: &'a Snapshot,
    /// Every node's filter status (absent nodes: see [`NodeToStatus::absent`]).
    pub statuses: &'a NodeToStatus,
    /// The profile's framework.
    pub framework: &'a Framework,
}

/// PostFilter: runs when no node fits (preemption).
pub trait PostFilterPlugin: Plugin {
    /// A nomination (and victims), or a status explaining why not.
    fn post_filter(
        &self,
        ctx: &PostFilterContext<'_>,
        state: &CycleState,
        pod: &Arc<PodInfo>,
    ) -> (Option<PostFilterResult>, Status);
}

/// PreScore: computes state for Score once per cycle over the feasible nodes; `Skip` skips
/// this plugin's Score.
pub trait PreScorePlugin: Plugin {
    /// Runs once, before any Score.
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        nodes: &[Arc<NodeInfo>],
        snapshot: &Snapshot,
    ) -> Status;

    /// Whether [`PreScorePlugin::pre_score`] reads its `nodes` for this pod. When no PreScore
    /// plugin of a profile does, the cycle passes an empty list instead of collecting the
    /// feasible nodes. The default is `true`.
    fn reads_nodes(&self, _pod: &PodInfo) -> bool {
        true
    }
}

/// Score: ranks feasible nodes; scores are normalized to `0..=100` and weighted.
pub trait ScorePlugin: Plugin {
    /// A raw score for one node.
    ///
    /// # Errors
    /// A non-success status aborts the cycle with an error.
    fn score(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Result<i64, Status>;

    /// Raw scores of the snapshot nodes at `positions` into `out` (the same length), as
    /// [`ScorePlugin::score`] on each: the scheduling cycle calls this once per plugin, so a
    /// plugin can read its cycle state once for all nodes and answer from the nodes' compact
    /// [`NodeRow`](crate::cache::NodeRow)s (the default calls `score` per node). Overrides
    /// must agree with `score` on every node.
    ///
    /// # Errors
    /// As [`ScorePlugin::score`]; a position outside the snapshot is an error.
    fn score_positions(
        &self,
        state: &CycleState,
        pod: &PodInfo,
        snapshot: &Snapshot,
        positions: &[usize],
        out: &mut [i64],
    ) -> Result<(), Status> {
        score_each_position(snapshot, positions, out, |node| {
            self.score(state, pod, node.info())
        })
    }

    /// Normalizes the raw scores of all nodes (same order as the nodes passed to PreScore)
    /// to `0..=MAX_NODE_SCORE`. The default leaves them as they are.
    fn normalize_score(&self, _state: &CycleState, _pod: &PodInfo, _scores: &mut [i64]) -> Status {
        Status::success()
    }
}

/// `out[i] = score(node at positions[i])` for every position (for
/// [`ScorePlugin::score_positions`]).
///
/// # Errors
/// The first error of `score`; a position outside the snapshot.
#[inline]
pub fn score_each_position(
    snapshot: &Snapshot,
    positions: &[usize],
    out: &mut [i64],
    mut score: impl FnMut(NodeRef<'_>) -> Result<i64, Status>,
) -> Result<(), Status> {
    for (o, &at) in out.iter_mut().zip(positions) {
        let node = snapshot
            .node_ref(at)
            .ok_or_else(|| Status::error(format!("node position {at} is outside the snapshot")))?;
        *o = score(node)?;
    }
    Ok(())
}

/// Reserve/Unreserve: claim or release per-node resources a plugin tracks itself, before the
/// binding is written.
pub trait ReservePlugin: Plugin {
    /// Claims; a failure unreserves everything and fails the cycle.
    fn reserve(&self, state: &mut CycleState, pod: &PodInfo, node: &str) -> Status;
    /// Releases (must be idempotent).
    fn unreserve(&self, state: &mut CycleState, pod: &PodInfo, node: &str);
}

/// Permit: allow, reject, or make the pod wait (up to a timeout) before binding.
pub trait PermitPlugin: Plugin {
    /// `Success` allows, `Wait` with a timeout holds the pod until [`crate::framework::WaitingPods`]
    /// allows or rejects it, anything else rejects.
    fn permit(&self, state: &CycleState, pod: &PodInfo, node: &str) -> (Status, Duration);
}

/// PreBind: work before the binding (e.g. provisioning volumes). Runs in the binding cycle.
#[async_trait]
pub trait PreBindPlugin: Plugin {
    /// A failure unreserves and requeues the pod.
    async fn pre_bind(&self, state: &CycleState, pod: &PodInfo, node: &str) -> Status;
}

/// Bind: writes the binding. The first binder that does not `Skip` decides.
#[async_trait]
pub trait BindPlugin: Plugin {
    /// `Skip` passes to the next binder.
    async fn bind(&self, state: &CycleState, pod: &PodInfo, node: &str) -> Status;
}

/// PostBind: informational, after a successful binding.
#[async_trait]
pub trait PostBindPlugin: Plugin {
    /// Called once the binding is written.
    async fn post_bind(&self, state: &CycleState, pod: &PodInfo, node: &str);
}

/// A Filter plugin from a closure.
///
/// ```
/// use kybern_scheduler::framework::{FilterFn, Status};
/// let only_even = FilterFn::new("OnlyEven", |_state, _pod, node| {
///     if node.name().ends_with(['0', '2', '4', '6', '8']) {
///         Status::success()
///     } else {
///         Status::unschedulable("node(s) had an odd name")
///     }
/// });
/// # let _ = only_even;
/// ```
pub struct FilterFn<F> {
    name: String,
    f: F,
}

impl<F> FilterFn<F>
where
    F: Fn(&CycleState, &PodInfo, &NodeInfo) -> Status + Send + Sync + 'static,
{
    /// A named Filter plugin.
    pub fn new(name: &str, f: F) -> Arc<Self> {
        Arc::new(FilterFn {
            name: name.to_owned(),
            f,
        })
    }
}

impl<F: Send + Sync + 'static> Plugin for FilterFn<F> {
    fn name(&self) -> &str {
        &self.name
    }
    fn events_to_register(&self) -> Vec<ClusterEventWithHint> {
        vec![ClusterEventWithHint::always(
            super::events::EventResource::Wildcard,
            super::events::ActionType::ALL,
        )]
    }
}

impl<F> FilterPlugin for FilterFn<F>
where
    F: Fn(&CycleState, &PodInfo, &NodeInfo) -> Status + Send + Sync + 'static,
{
    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        (self.f)(state, pod, node)
    }
}

/// A Score plugin from a closure (raw scores must already be within `0..=100`).
pub struct ScoreFn<F> {
    name: String,
    f: F,
}

impl<F> ScoreFn<F>
where
    F: Fn(&PodInfo, &NodeInfo) -> i64 + Send + Sync + 'static,
{
    /// A named Score plugin.
    pub fn new(name: &str, f: F) -> Arc<Self> {
        Arc::new(ScoreFn {
            name: name.to_owned(),
            f,
        })
    }
}

impl<F: Send + Sync + 'static> Plugin for ScoreFn<F> {
    fn name(&self) -> &str {
        &self.name
    }
}

impl<F> ScorePlugin for ScoreFn<F>
where
    F: Fn(&PodInfo, &NodeInfo) -> i64 + Send + Sync + 'static,
{
    fn score(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Result<i64, Status> {
        Ok((self.f)(pod, node))
    }
}

/// A Permit plugin from a closure.
pub struct PermitFn<F> {
    name: String,
    f: F,
}

impl<F> PermitFn<F>
where
    F: Fn(&PodInfo, &str) -> (Status, Duration) + Send + Sync + 'static,
{
    /// A named Permit plugin.
    pub fn new(name: &str, f: F) -> Arc<Self> {
        Arc::new(PermitFn {
            name: name.to_owned(),
            f,
        })
    }
}

impl<F: Send + Sync + 'static> Plugin for PermitFn<F> {
    fn name(&self) -> &str {
        &self.name
    }
}

impl<F> PermitPlugin for PermitFn<F>
where
    F: Fn(&PodInfo, &str) -> (Status, Duration) + Send + Sync + 'static,
{
    fn permit(&self, _state: &CycleState, pod: &PodInfo, node: &str) -> (Status, Duration) {
        (self.f)(pod, node)
    }
}

//! `kybern-scheduler`: a scheduling framework with kube-scheduler's semantics.
//!
//! # Where to start
//! - [`framework`]: one trait per extension point (PreEnqueue, QueueSort, PreFilter +
//!   AddPod/RemovePod, Filter, PostFilter, PreScore, Score + NormalizeScore,
//!   Reserve/Unreserve, Permit, PreBind, Bind, PostBind), [`framework::Status`] codes as
//!   upstream, [`framework::CycleState`], profiles ([`framework::Framework`]) and queueing
//!   hints. Closures can be plugins ([`framework::FilterFn`], [`framework::ScoreFn`],
//!   [`framework::PermitFn`]).
//! - [`cache`]: [`cache::NodeInfo`], the incremental [`cache::Cache`] with assumed pods,
//!   and the per-cycle [`cache::Snapshot`] plugins read.
//! - [`plugins`]: the default plugins and [`plugins::default_framework`].
//! - [`queue`]: activeQ / backoffQ / unschedulable pods, with a clock seam.
//! - [`Scheduler`]: the loop — event intake through a [`ClusterSource`] (by default
//!   [`InformerSource`], the runtime's shared informers), one pod per
//!   cycle, assume, Permit, asynchronous binding through `Api<Pod>::bind_to_node`, the
//!   `PodScheduled=False` condition with upstream's message on failure.
//! - [`explain`]: every node's filter verdicts and scores for one pod.
//! - [`sim`]: synthetic clusters and upstream `scheduler_perf`-like workloads.
//!
//! **Architecture Invariant:** plugins read the [`cache::Snapshot`]; they never touch the
//! store. Only the scheduler loop writes (bindings, pod conditions, preemption victims'
//! deletions) — the DefaultBinder, a Bind plugin, being the one plugin that writes.
//!
//! # Deliberate limits
//! - No volume plugins (VolumeBinding lives in `kybern-storage`), no DRA, no extenders.
//! - PodTopologySpread's system default constraints use a controller-owned pod's own labels
//!   as the selector (upstream asks Services/ReplicaSets/StatefulSets listers).
//! - Nominated pods are not added to nodes when filtering other pods (upstream's
//!   `RunFilterPluginsWithNominatedPods`): after preemption, another pod may take the room
//!   first; the preemptor then simply preempts again.
//! - Preemption tries candidate nodes from the first node, not from a random offset.
//! - InterPodAffinity checks anti-affinity terms whose topology key is node-local (every
//!   node its own value, as `kubernetes.io/hostname`) on the filtered node itself instead of
//!   counting matching pods across the cluster in PreFilter: same verdicts, but for a pod
//!   without terms of its own its PreFilter returns Success rather than Skip while running
//!   pods have such terms. PodTopologySpread reads its domain counts from the cache's
//!   incrementally kept counts when every node counts (see [`cache::topology`]).
//! - The queue implements v1.33's `SchedulerPopFromBackoffQ` (beta, on):
//!   [`queue::QueueConfig::pop_from_backoff`].
//! - The taint filter reports `node(s) had untolerated taint(s)` (upstream dropped the taint
//!   from the message in its v1.33 patch releases for confidentiality).

pub mod cache;
mod error;
pub mod explain;
pub mod framework;
pub mod plugins;
pub mod queue;
mod scheduler;
pub mod sim;
mod source;

pub use error::Error;
pub use scheduler::{
    ASSUMED_CLEANUP_PERIOD, ScheduleOutcome, Scheduler, SchedulerBuilder, SchedulerConfig,
    SchedulerHandle, num_feasible_nodes_to_find,
};
pub use source::{ClusterSource, InformerSource, Listed, PodEvent, StoreSource};

/// The scheduler name pods get when `spec.schedulerName` is unset.
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";

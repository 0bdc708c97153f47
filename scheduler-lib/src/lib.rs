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
//! - [`Scheduler`]: the loop — event intake from a [`kybern_reconciler::Store`], one pod per
//!   cycle, assume, Permit, asynchronous binding through `Api<Pod>::create_binding`, the
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

pub use error::Error;
pub use scheduler::{
    ClusterSource, PodEvent, ScheduleOutcome, Scheduler, SchedulerBuilder, SchedulerConfig,
    SchedulerHandle, StoreSource, num_feasible_nodes_to_find,
};

/// The scheduler name pods get when `spec.schedulerName` is unset.
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";

//! The scheduling framework: one trait per extension point, [`Status`] codes as upstream,
//! per-cycle [`CycleState`], profiles ([`Framework`]) with plugin weights, and queueing
//! hints ([`events`]).
//!
//! A scheduling cycle runs, for one pod: PreFilter → Filter (per node) → PostFilter (only
//! when no node fits) → PreScore → Score (+ NormalizeScore, weights) → Reserve → Permit; the
//! binding cycle then runs (asynchronously) Permit wait → PreBind → Bind → PostBind.

mod cycle_state;
pub mod events;
mod fit_error;
mod plugin;
mod runtime;
mod status;

pub use cycle_state::{CycleState, StateData};
pub use events::{
    ActionType, ClusterEvent, ClusterEventWithHint, EventObject, EventObjects, EventResource,
    QueueingHint, QueueingHintFn,
};
pub use fit_error::{Diagnosis, FitError, NO_NODE_AVAILABLE_MSG};
pub use plugin::{
    BindPlugin, FilterFn, FilterPlugin, MAX_NODE_SCORE, MIN_NODE_SCORE, PermitFn, PermitPlugin,
    Plugin, PostBindPlugin, PostFilterContext, PostFilterPlugin, PostFilterResult, PreBindPlugin,
    PreEnqueuePlugin, PreFilterPlugin, PreFilterResult, PreScorePlugin, QueueSortPlugin,
    ReservePlugin, ScoreFn, ScorePlugin, score_each_position,
};
pub use runtime::{
    Framework, FrameworkBuilder, MAX_PERMIT_TIMEOUT, NodeToStatus, PermitOutcome, PermitWait,
    ScoreBuffers, ScoreResult, WaitingPods,
};
pub use status::{Code, Status};

/// Upstream's `DefaultNormalizeScore`: scales scores so the highest becomes `max`
/// (`reverse`: the highest becomes 0 and the lowest `max`). All zero stays zero, or all
/// `max` when reversed.
pub fn default_normalize_score(max: i64, reverse: bool, scores: &mut [i64]) {
    let highest = scores.iter().copied().max().unwrap_or(0);
    if highest == 0 {
        if reverse {
            scores.iter_mut().for_each(|s| *s = max);
        }
        return;
    }
    for s in scores.iter_mut() {
        let mut v = max * *s / highest;
        if reverse {
            v = max - v;
        }
        *s = v;
    }
}

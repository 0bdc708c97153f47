//! TaintToleration: a node's NoSchedule/NoExecute taints must be tolerated (Filter); fewer
//! untolerated PreferNoSchedule taints score higher (Score, reversed normalization).

use std::sync::Arc;

use kybern_core::api::core::v1::{Taint, Toleration};

use super::{FeatureGates, names};
use crate::cache::{NodeInfo, NodeRef, PodInfo, Snapshot};
use crate::framework::{
    ActionType, ClusterEventWithHint, CycleState, EventResource, FilterPlugin, MAX_NODE_SCORE,
    Plugin, PreScorePlugin, QueueingHint, ScorePlugin, Status, default_normalize_score,
    score_each_position,
};

/// The filter failure reason (upstream no longer prints the taint itself: taint values can
/// be sensitive).
pub const ERR_REASON_UNTOLERATED: &str = "node(s) had untolerated taint(s)";

/// `NoSchedule`.
pub const EFFECT_NO_SCHEDULE: &str = "NoSchedule";
/// `PreferNoSchedule`.
pub const EFFECT_PREFER_NO_SCHEDULE: &str = "PreferNoSchedule";
/// `NoExecute`.
pub const EFFECT_NO_EXECUTE: &str = "NoExecute";

/// Upstream's `Toleration.ToleratesTaint`: effect (if set) and key (if set) must match;
/// `Equal` (or no operator) compares values, `Exists` matches any value; with the
/// `TaintTolerationComparisonOperators` gate, `Gt`/`Lt` compare the taint's value with the
/// toleration's as integers (the taint's must be greater / less), and an unparsable value
/// does not match.
pub fn toleration_tolerates_taint(t: &Toleration, taint: &Taint, gates: FeatureGates) -> bool {
    if let Some(e) = t.effect.as_deref().filter(|e| !e.is_empty())
        && e != taint.effect
    {
        return false;
    }
    if let Some(k) = t.key.as_deref().filter(|k| !k.is_empty())
        && k != taint.key
    {
        return false;
    }
    let tv = t.value.as_deref().unwrap_or("");
    let v = taint.value.as_deref().unwrap_or("");
    match t.operator.as_deref().unwrap_or("") {
        "" | "Equal" => tv == v,
        "Exists" => true,
        op @ ("Gt" | "Lt") if gates.taint_toleration_comparison_operators => {
            match (tv.parse::<i64>(), v.parse::<i64>()) {
                (Ok(tol), Ok(val)) => {
                    if op == "Gt" {
                        val > tol
                    } else {
                        val < tol
                    }
                }
                _ => false,
            }
        }
        _ => false,
    }
}

/// Whether any toleration tolerates the taint.
pub fn tolerations_tolerate_taint(ts: &[Toleration], taint: &Taint, gates: FeatureGates) -> bool {
    ts.iter()
        .any(|t| toleration_tolerates_taint(t, taint, gates))
}

/// Upstream's `FindMatchingUntoleratedTaint`: the first taint passing `filter` that no
/// toleration tolerates.
pub fn find_matching_untolerated_taint<'a>(
    taints: &'a [Taint],
    tolerations: &[Toleration],
    filter: impl Fn(&Taint) -> bool,
    gates: FeatureGates,
) -> Option<&'a Taint> {
    taints
        .iter()
        .filter(|t| filter(t))
        .find(|t| !tolerations_tolerate_taint(tolerations, t, gates))
}

/// Upstream's `Taint.ToString`: `key=value:effect`, `key:effect` without a value.
pub fn taint_to_string(t: &Taint) -> String {
    match t.value.as_deref().filter(|v| !v.is_empty()) {
        Some(v) => format!("{}={}:{}", t.key, v, t.effect),
        None => format!("{}:{}", t.key, t.effect),
    }
}

/// Upstream's `Taint.MatchTaint`: the same key and effect (values are ignored).
pub fn match_taint(a: &Taint, b: &Taint) -> bool {
    a.key == b.key && a.effect == b.effect
}

/// Whether a taint makes pods unschedulable (NoSchedule or NoExecute).
pub fn is_do_not_schedule(t: &Taint) -> bool {
    t.effect == EFFECT_NO_SCHEDULE || t.effect == EFFECT_NO_EXECUTE
}

pub(crate) fn pod_tolerations(pod: &PodInfo) -> &[Toleration] {
    pod.pod()
        .spec
        .as_ref()
        .map(|s| s.tolerations.as_slice())
        .unwrap_or(&[])
}

/// The TaintToleration plugin.
#[derive(Clone, Copy, Debug, Default)]
pub struct TaintToleration {
    gates: FeatureGates,
}

impl TaintToleration {
    /// With feature gates.
    pub fn new(gates: FeatureGates) -> Arc<Self> {
        Arc::new(TaintToleration { gates })
    }
}

#[derive(Clone)]
struct PreScoreState {
    tolerations: Vec<Toleration>,
}

impl Plugin for TaintToleration {
    fn name(&self) -> &str {
        names::TAINT_TOLERATION
    }

    fn events_to_register(&self) -> Vec<ClusterEventWithHint> {
        let gates = self.gates;
        vec![ClusterEventWithHint::with_hint(
            EventResource::Node,
            ActionType::ADD | ActionType::UPDATE_NODE_TAINT,
            move |pod, objs| {
                let Some(node) = objs.new.as_ref().and_then(|o| o.as_node()) else {
                    return QueueingHint::Skip;
                };
                let taints = node
                    .spec
                    .as_ref()
                    .map(|s| s.taints.as_slice())
                    .unwrap_or(&[]);
                match find_matching_untolerated_taint(
                    taints,
                    pod_tolerations(pod),
                    is_do_not_schedule,
                    gates,
                ) {
                    None => QueueingHint::Queue,
                    Some(_) => QueueingHint::Skip,
                }
            },
        )]
    }
}

impl FilterPlugin for TaintToleration {
    fn filter(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let taints = node.taints();
        if taints.is_empty() {
            return Status::success();
        }
        match find_matching_untolerated_taint(
            taints,
            pod_tolerations(pod),
            is_do_not_schedule,
            self.gates,
        ) {
            None => Status::success(),
            Some(_) => Status::unresolvable(ERR_REASON_UNTOLERATED),
        }
    }

    #[inline]
    fn passes_node(&self, _state: &CycleState, _pod: &PodInfo, node: NodeRef<'_>) -> bool {
        !node.row().has_taints
    }
}

impl TaintToleration {
    /// The raw score: how many PreferNoSchedule taints no toleration tolerates.
    fn prefer_no_schedule_untolerated(&self, taints: &[Taint], tolerations: &[Toleration]) -> i64 {
        taints
            .iter()
            .filter(|t| t.effect == EFFECT_PREFER_NO_SCHEDULE)
            .filter(|t| !tolerations_tolerate_taint(tolerations, t, self.gates))
            .count() as i64
    }
}

impl PreScorePlugin for TaintToleration {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _nodes: &[Arc<NodeInfo>],
        _snapshot: &Snapshot,
    ) -> Status {
        let tolerations = pod_tolerations(pod)
            .iter()
            .filter(|t| {
                let e = t.effect.as_deref().unwrap_or("");
                e.is_empty() || e == EFFECT_PREFER_NO_SCHEDULE
            })
            .cloned()
            .collect();
        state.write(PreScoreState { tolerations });
        Status::success()
    }

    fn reads_nodes(&self, _pod: &PodInfo) -> bool {
        false
    }
}

impl ScorePlugin for TaintToleration {
    fn score(&self, state: &CycleState, _pod: &PodInfo, node: &NodeInfo) -> Result<i64, Status> {
        let taints = node.taints();
        if taints.is_empty() {
            return Ok(0);
        }
        let tolerations = state
            .read::<PreScoreState>()
            .map(|s| s.tolerations.as_slice())
            .unwrap_or(&[]);
        Ok(self.prefer_no_schedule_untolerated(taints, tolerations))
    }

    fn score_positions(
        &self,
        state: &CycleState,
        _pod: &PodInfo,
        snapshot: &Snapshot,
        positions: &[usize],
        out: &mut [i64],
    ) -> Result<(), Status> {
        let tolerations = state
            .read::<PreScoreState>()
            .map(|s| s.tolerations.as_slice())
            .unwrap_or(&[]);
        score_each_position(snapshot, positions, out, |node| {
            if !node.row().has_taints {
                return Ok(0);
            }
            Ok(self.prefer_no_schedule_untolerated(node.info().taints(), tolerations))
        })
    }

    fn normalize_score(&self, _state: &CycleState, _pod: &PodInfo, scores: &mut [i64]) -> Status {
        default_normalize_score(MAX_NODE_SCORE, true, scores);
        Status::success()
    }
}

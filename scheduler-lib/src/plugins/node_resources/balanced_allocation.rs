//! NodeResourcesBalancedAllocation: prefer nodes whose resource fractions (requested /
//! allocatable, pod included) are close to each other.

use std::borrow::Cow;
use std::sync::Arc;

use super::{ResourceWeight, RowColumns, allocatable_and_requested, default_resources};
use crate::cache::{NodeInfo, PodInfo, Snapshot};
use crate::framework::{
    CycleState, MAX_NODE_SCORE, Plugin, PreScorePlugin, ScorePlugin, Status, score_each_position,
};
use crate::plugins::names;

/// Arguments (`NodeResourcesBalancedAllocationArgs`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BalancedAllocationArgs {
    /// The resources compared (weights are ignored, as upstream).
    pub resources: Vec<ResourceWeight>,
}

impl Default for BalancedAllocationArgs {
    fn default() -> Self {
        BalancedAllocationArgs {
            resources: default_resources(),
        }
    }
}

/// The NodeResourcesBalancedAllocation plugin.
#[derive(Clone, Debug, Default)]
pub struct BalancedAllocation {
    args: BalancedAllocationArgs,
    /// The row column of each compared resource.
    columns: RowColumns,
}

impl BalancedAllocation {
    /// With arguments.
    pub fn new(args: BalancedAllocationArgs) -> Arc<Self> {
        let columns = RowColumns::of(&args.resources);
        Arc::new(BalancedAllocation { args, columns })
    }
}

#[derive(Clone)]
struct PreScoreState(Vec<i64>);

impl Plugin for BalancedAllocation {
    fn name(&self) -> &str {
        names::NODE_RESOURCES_BALANCED_ALLOCATION
    }
}

impl PreScorePlugin for BalancedAllocation {
    fn reads_nodes(&self, _pod: &PodInfo) -> bool {
        false
    }

    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _nodes: &[Arc<NodeInfo>],
        _snapshot: &Snapshot,
    ) -> Status {
        let reqs: Vec<i64> = self
            .args
            .resources
            .iter()
            .map(|r| pod.requests.get(&r.name))
            .collect();
        // Best-effort pods are not scored (upstream #129138: they would all pile up).
        if reqs.iter().all(|r| *r == 0) {
            return Status::skip();
        }
        state.write(PreScoreState(reqs));
        Status::success()
    }
}

impl ScorePlugin for BalancedAllocation {
    resource_score_methods!(true);
}

impl BalancedAllocation {
    /// The pod's requests of the scored resources: PreScore's copy, or computed.
    fn requests<'a>(&self, state: &'a CycleState, pod: &PodInfo) -> Cow<'a, [i64]> {
        match state.read::<PreScoreState>() {
            Some(s) => Cow::Borrowed(&s.0),
            None => Cow::Owned(
                self.args
                    .resources
                    .iter()
                    .map(|r| pod.requests.get(&r.name))
                    .collect(),
            ),
        }
    }

    /// The score of one node for the pod's requests `reqs` of the scored resources,
    /// `resource(i, pod request)` giving the node's (allocatable, requested with the pod)
    /// of resource `i`.
    #[inline]
    fn score_from(&self, reqs: &[i64], resource: impl Fn(usize, i64) -> (i64, i64)) -> i64 {
        // Fractions without allocating for up to 8 resources (the common case is 2).
        let mut buf = [0f64; 8];
        let mut spill: Vec<f64> = Vec::new();
        let mut n = 0usize;
        let mut total = 0f64;
        for (i, req) in reqs.iter().enumerate().take(self.args.resources.len()) {
            let (alloc, requested) = resource(i, *req);
            if alloc == 0 {
                continue;
            }
            let f = (requested as f64 / alloc as f64).min(1.0);
            total += f;
            if n < buf.len() {
                buf[n] = f;
            } else {
                if spill.is_empty() {
                    spill.extend_from_slice(&buf);
                }
                spill.push(f);
            }
            n += 1;
        }
        let all: &[f64] = if n <= buf.len() { &buf[..n] } else { &spill };
        let std = match all.len() {
            2 => ((all[0] - all[1]) / 2.0).abs(),
            len if len > 2 => {
                let mean = total / len as f64;
                (all.iter().map(|f| (f - mean) * (f - mean)).sum::<f64>() / len as f64).sqrt()
            }
            _ => 0.0,
        };
        ((1.0 - std) * MAX_NODE_SCORE as f64) as i64
    }
}

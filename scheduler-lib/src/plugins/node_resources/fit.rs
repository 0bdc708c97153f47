//! NodeResourcesFit: the pod's requests must fit the node's free allocatable resources
//! (Filter, with upstream's `Insufficient <resource>` / `Too many pods` reasons); nodes are
//! scored by LeastAllocated (default), MostAllocated or RequestedToCapacityRatio.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::Arc;

use super::{ResourceWeight, RowColumns, allocatable_and_requested, default_resources};
use crate::cache::resource::is_extended_resource_name;
use crate::cache::{NodeInfo, NodeRef, PodInfo, Resource, Snapshot};
use crate::framework::{
    ActionType, ClusterEventWithHint, CycleState, EventResource, FilterPlugin, MAX_NODE_SCORE,
    Plugin, PreFilterPlugin, PreFilterResult, PreScorePlugin, QueueingHint, ScorePlugin, Status,
    score_each_position,
};
use crate::plugins::names;

/// One point of a RequestedToCapacityRatio shape: utilization (0–100) → score (0–10).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShapePoint {
    /// Utilization in percent.
    pub utilization: i64,
    /// Score, 0–10.
    pub score: i64,
}

/// How NodeResourcesFit scores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScoringStrategy {
    /// Prefer nodes with more free resources (the default).
    LeastAllocated,
    /// Prefer fuller nodes (bin packing).
    MostAllocated,
    /// Score by a piecewise-linear function of utilization.
    RequestedToCapacityRatio(Vec<ShapePoint>),
}

/// NodeResourcesFit arguments (`NodeResourcesFitArgs`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FitArgs {
    /// Extended resources not checked by the filter.
    pub ignored_resources: BTreeSet<String>,
    /// Extended resource groups (the part before `/`) not checked by the filter.
    pub ignored_resource_groups: BTreeSet<String>,
    /// The scoring strategy.
    pub strategy: ScoringStrategy,
    /// The resources scored and their weights.
    pub resources: Vec<ResourceWeight>,
}

impl Default for FitArgs {
    fn default() -> Self {
        FitArgs {
            ignored_resources: BTreeSet::new(),
            ignored_resource_groups: BTreeSet::new(),
            strategy: ScoringStrategy::LeastAllocated,
            resources: default_resources(),
        }
    }
}

/// A resource the node lacks for the pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InsufficientResource {
    /// The resource name.
    pub resource_name: String,
    /// `Insufficient <name>` or `Too many pods`.
    pub reason: Cow<'static, str>,
    /// The pod's request (cpu in millicores).
    pub requested: i64,
    /// Already requested on the node.
    pub used: i64,
    /// The node's allocatable amount.
    pub capacity: i64,
    /// The request exceeds the node's whole allocatable: preemption cannot help.
    pub unresolvable: bool,
}

/// Upstream's `fitsRequest`: every resource the node lacks for `req`, in upstream's order
/// (pods, cpu, memory, ephemeral-storage, then scalar resources by name).
pub fn fits_request(req: &Resource, node: &NodeInfo, args: &FitArgs) -> Vec<InsufficientResource> {
    let mut out = Vec::new();
    let alloc = &node.allocatable;
    let used = &node.requested;
    let pods = node.pods().len() as i64;
    if pods + 1 > alloc.allowed_pod_number {
        out.push(InsufficientResource {
            resource_name: "pods".into(),
            reason: Cow::Borrowed("Too many pods"),
            requested: 1,
            used: pods,
            capacity: alloc.allowed_pod_number,
            unresolvable: false,
        });
    }
    if req.milli_cpu == 0 && req.memory == 0 && req.ephemeral_storage == 0 && req.scalar.is_empty()
    {
        return out;
    }
    let mut check = |name: &'static str, reason: &'static str, want: i64, a: i64, u: i64| {
        if want > 0 && want > a - u {
            out.push(InsufficientResource {
                resource_name: name.into(),
                reason: Cow::Borrowed(reason),
                requested: want,
                used: u,
                capacity: a,
                unresolvable: want > a,
            });
        }
    };
    check(
        "cpu",
        "Insufficient cpu",
        req.milli_cpu,
        alloc.milli_cpu,
        used.milli_cpu,
    );
    check(
        "memory",
        "Insufficient memory",
        req.memory,
        alloc.memory,
        used.memory,
    );
    check(
        "ephemeral-storage",
        "Insufficient ephemeral-storage",
        req.ephemeral_storage,
        alloc.ephemeral_storage,
        used.ephemeral_storage,
    );
    for (name, want) in &req.scalar {
        if *want == 0 {
            continue;
        }
        if is_extended_resource_name(name) {
            let group = name.split('/').next().unwrap_or("");
            if args.ignored_resources.contains(name) || args.ignored_resource_groups.contains(group)
            {
                continue;
            }
        }
        let a = alloc.scalar(name);
        let u = used.scalar(name);
        if *want > a - u {
            out.push(InsufficientResource {
                resource_name: name.clone(),
                reason: Cow::Owned(format!("Insufficient {name}")),
                requested: *want,
                used: u,
                capacity: a,
                unresolvable: *want > a,
            });
        }
    }
    out
}

/// The NodeResourcesFit plugin.
#[derive(Clone, Debug, Default)]
pub struct Fit {
    args: FitArgs,
    /// The row column of each scored resource.
    columns: RowColumns,
}

impl Fit {
    /// With arguments.
    ///
    /// # Errors
    /// A resource weight below 1, or a shape that is empty, unsorted or out of range.
    pub fn new(args: FitArgs) -> Result<Arc<Self>, crate::Error> {
        let invalid = |m: String| crate::Error::InvalidPluginArgs {
            plugin: names::NODE_RESOURCES_FIT.into(),
            message: m,
        };
        if let Some(r) = args
            .resources
            .iter()
            .find(|r| !(1..=100).contains(&r.weight))
        {
            return Err(invalid(format!(
                "resource {:?} weight {} must be in the range [1, 100]",
                r.name, r.weight
            )));
        }
        if let ScoringStrategy::RequestedToCapacityRatio(shape) = &args.strategy {
            if shape.is_empty() {
                return Err(invalid("at least one point must be specified".into()));
            }
            for w in shape.windows(2) {
                if w[1].utilization <= w[0].utilization {
                    return Err(invalid(
                        "utilization values must be sorted in increasing order".into(),
                    ));
                }
            }
            if shape
                .iter()
                .any(|p| !(0..=100).contains(&p.utilization) || !(0..=10).contains(&p.score))
            {
                return Err(invalid(
                    "utilization must be in [0, 100] and score in [0, 10]".into(),
                ));
            }
        }
        let columns = RowColumns::of(&args.resources);
        Ok(Arc::new(Fit { args, columns }))
    }

    /// The arguments.
    pub fn args(&self) -> &FitArgs {
        &self.args
    }
}

#[derive(Clone)]
struct PreFilterState(Resource);

#[derive(Clone)]
struct PreScoreState(Vec<i64>);

impl Plugin for Fit {
    fn name(&self) -> &str {
        names::NODE_RESOURCES_FIT
    }

    fn events_to_register(&self) -> Vec<ClusterEventWithHint> {
        let args = self.args.clone();
        vec![
            ClusterEventWithHint::with_hint(
                EventResource::AssignedPod,
                ActionType::DELETE | ActionType::UPDATE_POD_SCALE_DOWN,
                |pod, objs| {
                    // A deleted pod frees resources only if it requested any the pod needs.
                    let Some(old) = objs.old.as_ref().and_then(|o| o.as_pod()) else {
                        return QueueingHint::Queue;
                    };
                    let r = &pod.requests;
                    let o = &old.requests;
                    let helps = (r.milli_cpu > 0 && o.milli_cpu > 0)
                        || (r.memory > 0 && o.memory > 0)
                        || (r.ephemeral_storage > 0 && o.ephemeral_storage > 0)
                        || r.scalar.iter().any(|(n, v)| *v > 0 && o.scalar(n) > 0)
                        || r.is_zero();
                    if helps {
                        QueueingHint::Queue
                    } else {
                        QueueingHint::Skip
                    }
                },
            ),
            ClusterEventWithHint::with_hint(
                EventResource::Node,
                ActionType::ADD | ActionType::UPDATE_NODE_ALLOCATABLE,
                move |pod, objs| {
                    let Some(node) = objs.new.as_ref().and_then(|o| o.as_node()) else {
                        return QueueingHint::Skip;
                    };
                    // Queue when the pod fits the node's whole allocatable.
                    let empty = NodeInfo::new(node.clone());
                    let mut need = pod.requests.clone();
                    need.allowed_pod_number = 0;
                    if fits_request(&need, &empty, &args).is_empty() {
                        QueueingHint::Queue
                    } else {
                        QueueingHint::Skip
                    }
                },
            ),
        ]
    }
}

impl PreFilterPlugin for Fit {
    fn pre_filter(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _snapshot: &Snapshot,
    ) -> (Option<PreFilterResult>, Status) {
        state.write(PreFilterState(pod.requests.clone()));
        (None, Status::success())
    }
}

/// The pod's effective requests: PreFilter's copy, or the pod's own.
#[inline]
fn pod_request<'a>(state: &'a CycleState, pod: &'a PodInfo) -> &'a Resource {
    state
        .read::<PreFilterState>()
        .map_or(&pod.requests, |s| &s.0)
}

/// The common case, decided without [`fits_request`]: a pod with no scalar requests fits
/// when the node has room for one more pod and `free` (cpu, memory, ephemeral storage)
/// covers its requests.
#[inline]
fn fits_fixed_resources(req: &Resource, pods: i64, allowed_pods: i64, free: [i64; 3]) -> bool {
    pods < allowed_pods
        && req.scalar.is_empty()
        && req.milli_cpu <= free[0]
        && req.memory <= free[1]
        && req.ephemeral_storage <= free[2]
}

impl FilterPlugin for Fit {
    #[inline]
    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let req = pod_request(state, pod);
        let a = &node.allocatable;
        let u = &node.requested;
        let free = [
            a.milli_cpu - u.milli_cpu,
            a.memory - u.memory,
            a.ephemeral_storage - u.ephemeral_storage,
        ];
        if fits_fixed_resources(req, node.pods().len() as i64, a.allowed_pod_number, free) {
            return Status::success();
        }
        let insufficient = fits_request(req, node, &self.args);
        if insufficient.is_empty() {
            return Status::success();
        }
        let code = if insufficient.iter().any(|r| r.unresolvable) {
            crate::framework::Code::UnschedulableAndUnresolvable
        } else {
            crate::framework::Code::Unschedulable
        };
        Status::with_reasons(code, insufficient.into_iter().map(|r| r.reason).collect())
    }

    #[inline]
    fn passes_node(&self, _state: &CycleState, pod: &PodInfo, node: NodeRef<'_>) -> bool {
        let r = node.row();
        let free = [
            r.allocatable_milli_cpu - r.requested_milli_cpu,
            r.allocatable_memory - r.requested_memory,
            r.allocatable_ephemeral_storage - r.requested_ephemeral_storage,
        ];
        // PreFilter stores exactly `pod.requests` (the `filter` path reads that copy): read
        // the pod's own, not the cycle state, once per node.
        fits_fixed_resources(&pod.requests, i64::from(r.pods), r.allowed_pod_number, free)
    }
}

impl PreScorePlugin for Fit {
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
        let reqs = self
            .args
            .resources
            .iter()
            .map(|r| pod.non_zero_requests.get(&r.name))
            .collect();
        state.write(PreScoreState(reqs));
        Status::success()
    }
}

fn least_requested(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    (capacity - requested) * MAX_NODE_SCORE / capacity
}

fn most_requested(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 {
        return 0;
    }
    requested.min(capacity) * MAX_NODE_SCORE / capacity
}

fn broken_linear(shape: &[ShapePoint], p: i64) -> i64 {
    // Shape scores are 0–10; scaled to 0–100.
    let scale = MAX_NODE_SCORE / 10;
    for (i, pt) in shape.iter().enumerate() {
        if p <= pt.utilization {
            if i == 0 {
                return pt.score * scale;
            }
            let prev = shape[i - 1];
            return prev.score * scale
                + (pt.score * scale - prev.score * scale) * (p - prev.utilization)
                    / (pt.utilization - prev.utilization);
        }
    }
    shape.last().map_or(0, |p| p.score * scale)
}

impl ScorePlugin for Fit {
    resource_score_methods!(false);
}

impl Fit {
    /// The pod's requests of the scored resources: PreScore's copy, or computed.
    fn requests<'a>(&self, state: &'a CycleState, pod: &PodInfo) -> Cow<'a, [i64]> {
        match state.read::<PreScoreState>() {
            Some(s) => Cow::Borrowed(&s.0),
            None => Cow::Owned(
                self.args
                    .resources
                    .iter()
                    .map(|r| pod.non_zero_requests.get(&r.name))
                    .collect(),
            ),
        }
    }

    /// The score of one node for the pod's requests `reqs` of the scored resources,
    /// `resource(i, pod request)` giving the node's (allocatable, requested with the pod)
    /// of resource `i`.
    #[inline]
    fn score_from(&self, reqs: &[i64], resource: impl Fn(usize, i64) -> (i64, i64)) -> i64 {
        let mut score = 0i64;
        let mut weight_sum = 0i64;
        for (i, (r, req)) in self.args.resources.iter().zip(reqs).enumerate() {
            let (alloc, requested) = resource(i, *req);
            if alloc == 0 {
                continue;
            }
            let s = match &self.args.strategy {
                ScoringStrategy::LeastAllocated => least_requested(requested, alloc),
                ScoringStrategy::MostAllocated => most_requested(requested, alloc),
                ScoringStrategy::RequestedToCapacityRatio(shape) => {
                    let util = if requested > alloc {
                        100
                    } else {
                        requested * 100 / alloc
                    };
                    broken_linear(shape, util)
                }
            };
            score += s * r.weight;
            weight_sum += r.weight;
        }
        if weight_sum == 0 {
            return 0;
        }
        match self.args.strategy {
            ScoringStrategy::RequestedToCapacityRatio(_) => {
                (score as f64 / weight_sum as f64).round() as i64
            }
            _ => score / weight_sum,
        }
    }
}

//! InterPodAffinity: required pod affinity / anti-affinity of the incoming pod, and the
//! required anti-affinity of pods already running, per topology domain (Filter); preferred
//! terms of both sides score (Score).

use std::collections::HashMap;
use std::sync::Arc;

use super::names;
use crate::cache::{AffinityTerm, NodeInfo, PodInfo, Snapshot, WeightedAffinityTerm};
use crate::framework::{
    ActionType, ClusterEventWithHint, CycleState, EventResource, FilterPlugin, MAX_NODE_SCORE,
    Plugin, PreFilterPlugin, PreFilterResult, PreScorePlugin, ScorePlugin, Status,
};

/// The filter reason when the pod's affinity is not satisfied.
pub const ERR_REASON_AFFINITY: &str = "node(s) didn't match pod affinity rules";
/// The filter reason when the pod's anti-affinity is violated.
pub const ERR_REASON_ANTI_AFFINITY: &str = "node(s) didn't match pod anti-affinity rules";
/// The filter reason when a running pod's anti-affinity would be violated.
pub const ERR_REASON_EXISTING_ANTI_AFFINITY: &str =
    "node(s) didn't satisfy existing pods anti-affinity rules";

/// InterPodAffinity arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InterPodAffinityArgs {
    /// The score weight of running pods' *required* affinity terms matching the incoming
    /// pod (default 1).
    pub hard_pod_affinity_weight: i64,
    /// Skip running pods' preferred terms when the incoming pod has no affinity.
    pub ignore_preferred_terms_of_existing_pods: bool,
}

impl Default for InterPodAffinityArgs {
    fn default() -> Self {
        InterPodAffinityArgs {
            hard_pod_affinity_weight: 1,
            ignore_preferred_terms_of_existing_pods: false,
        }
    }
}

/// The InterPodAffinity plugin.
#[derive(Clone, Copy, Debug, Default)]
pub struct InterPodAffinity {
    args: InterPodAffinityArgs,
}

impl InterPodAffinity {
    /// With arguments.
    pub fn new(args: InterPodAffinityArgs) -> Arc<Self> {
        Arc::new(InterPodAffinity { args })
    }
}

/// Pod counts per topology pair, nested (key → value → count) so lookups take `&str`s and
/// never allocate in the per-node filter.
#[derive(Clone, Default)]
struct Counts(HashMap<String, HashMap<String, i64>>);

impl Counts {
    fn add(&mut self, key: &str, value: &str, delta: i64) {
        let inner = match self.0.get_mut(key) {
            Some(m) => m,
            None => self.0.entry(key.to_owned()).or_default(),
        };
        match inner.get_mut(value) {
            Some(c) => *c += delta,
            None => {
                inner.insert(value.to_owned(), delta);
            }
        }
        // Zero counts are removed, as upstream's `topologyToMatchedTermCount.update`.
        if inner.get(value) == Some(&0) {
            inner.remove(value);
            if inner.is_empty() {
                self.0.remove(key);
            }
        }
    }

    fn get(&self, key: &str, value: &str) -> i64 {
        self.0
            .get(key)
            .and_then(|m| m.get(value))
            .copied()
            .unwrap_or(0)
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[derive(Clone, Default)]
struct PreFilterState {
    existing_anti: Counts,
    affinity: Counts,
    anti: Counts,
}

fn matches_all(
    terms: &[AffinityTerm],
    pod: &PodInfo,
    snapshot_ns: Option<&kybern_core::LabelMap>,
) -> bool {
    !terms.is_empty() && terms.iter().all(|t| t.matches(pod, snapshot_ns))
}

impl PreFilterState {
    fn update_with(
        &mut self,
        incoming: &PodInfo,
        existing: &PodInfo,
        node: &NodeInfo,
        ns: &Snapshot,
        lazy: &LazyTerms,
        delta: i64,
    ) {
        let labels = node.labels();
        let incoming_ns = ns.namespace_labels(incoming.namespace());
        for t in &existing.required_anti_affinity {
            // Node-local terms are checked on the node itself by Filter.
            if lazy.existing && lazy.domains.is_node_local(&t.topology_key) {
                continue;
            }
            if t.matches(incoming, incoming_ns)
                && let Some(v) = labels.get(&t.topology_key)
            {
                self.existing_anti.add(&t.topology_key, v, delta);
            }
        }
        let existing_ns = ns.namespace_labels(existing.namespace());
        if matches_all(&incoming.required_affinity, existing, existing_ns) {
            for t in &incoming.required_affinity {
                if let Some(v) = labels.get(&t.topology_key) {
                    self.affinity.add(&t.topology_key, v, delta);
                }
            }
        }
        for (t, is_lazy) in incoming.required_anti_affinity.iter().zip(&lazy.anti) {
            if !is_lazy
                && t.matches(existing, existing_ns)
                && let Some(v) = labels.get(&t.topology_key)
            {
                self.anti.add(&t.topology_key, v, delta);
            }
        }
    }
}

/// Which anti-affinity terms Filter checks on the node itself instead of through counts:
/// terms whose topology key is node-local (every node has its own value, as
/// `kubernetes.io/hostname`), where "a matching pod in the node's domain" is exactly "a
/// matching pod on the node". Same verdicts as counting, without scanning every pod.
#[derive(Clone, Default)]
struct LazyTerms {
    /// Per required anti-affinity term of the incoming pod.
    anti: Vec<bool>,
    /// Per required anti-affinity term of the incoming pod: its topology key's interned id.
    anti_keys: Vec<Option<crate::cache::LabelId>>,
    /// Existing pods' node-local required anti-affinity terms are checked on the node.
    existing: bool,
    domains: NodeLocality,
}

/// Which topology keys are node-local in the cycle's snapshot.
#[derive(Clone, Default)]
struct NodeLocality(Arc<crate::cache::LabelDomains>);

impl NodeLocality {
    fn is_node_local(&self, key: &str) -> bool {
        self.0.key(key).is_none_or(|d| d.node_local())
    }
}

/// Namespace labels are read from the snapshot at PreFilter; the state keeps a handle.
#[derive(Clone)]
struct PreFilterCtx {
    state: PreFilterState,
    lazy: LazyTerms,
    snapshot_namespaces: Arc<std::collections::HashMap<String, kybern_core::LabelMap>>,
}

impl Plugin for InterPodAffinity {
    fn name(&self) -> &str {
        names::INTER_POD_AFFINITY
    }

    fn events_to_register(&self) -> Vec<ClusterEventWithHint> {
        vec![
            ClusterEventWithHint::always(EventResource::AssignedPod, ActionType::ALL),
            ClusterEventWithHint::always(
                EventResource::Node,
                ActionType::ADD | ActionType::UPDATE_NODE_LABEL,
            ),
        ]
    }
}

impl PreFilterPlugin for InterPodAffinity {
    fn pre_filter(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        snapshot: &Snapshot,
    ) -> (Option<PreFilterResult>, Status) {
        if let Some(e) = &pod.parse_error {
            return (None, Status::unresolvable(e.clone()));
        }
        let mut s = PreFilterState::default();
        let domains = NodeLocality(snapshot.label_domains.clone());
        let tally = snapshot.affinity_tally();
        // Existing pods' terms are all checked on their own nodes when every topology key
        // they use is node-local; otherwise they are all counted (upstream's way).
        let lazy_existing = tally.anti_keys.keys().all(|k| domains.is_node_local(k));
        let lazy = LazyTerms {
            anti: pod
                .required_anti_affinity
                .iter()
                .map(|t| domains.is_node_local(&t.topology_key))
                .collect(),
            anti_keys: pod
                .required_anti_affinity
                .iter()
                .map(|t| snapshot.label_interner().key(&t.topology_key))
                .collect(),
            existing: lazy_existing,
            domains,
        };
        let incoming_ns = snapshot.namespace_labels(pod.namespace());
        if !lazy_existing {
            for node in snapshot.nodes_with_required_anti_affinity_pods() {
                let labels = node.labels();
                for existing in node.pods_with_required_anti_affinity() {
                    for t in &existing.required_anti_affinity {
                        if t.matches(pod, incoming_ns)
                            && let Some(v) = labels.get(&t.topology_key)
                        {
                            s.existing_anti.add(&t.topology_key, v, 1);
                        }
                    }
                }
            }
        }
        let counted_anti = lazy.anti.iter().any(|l| !l);
        if pod.required_affinity.is_empty() && pod.required_anti_affinity.is_empty() {
            // Nothing can reject the pod when no pod has a required anti-affinity term
            // (lazily checked ones included) and the counted ones do not match it.
            if s.existing_anti.is_empty() && (tally.anti_keys.is_empty() || !lazy_existing) {
                return (None, Status::skip());
            }
        } else if !pod.required_affinity.is_empty() || counted_anti {
            for node in snapshot.nodes() {
                if node.pods().is_empty() {
                    continue;
                }
                let labels = node.labels();
                for existing in node.pods() {
                    let ens = snapshot.namespace_labels(existing.namespace());
                    if matches_all(&pod.required_affinity, existing, ens) {
                        for t in &pod.required_affinity {
                            if let Some(v) = labels.get(&t.topology_key) {
                                s.affinity.add(&t.topology_key, v, 1);
                            }
                        }
                    }
                    for (t, is_lazy) in pod.required_anti_affinity.iter().zip(&lazy.anti) {
                        if !is_lazy
                            && t.matches(existing, ens)
                            && let Some(v) = labels.get(&t.topology_key)
                        {
                            s.anti.add(&t.topology_key, v, 1);
                        }
                    }
                }
            }
        }
        state.write(PreFilterCtx {
            state: s,
            lazy,
            snapshot_namespaces: snapshot.namespaces.clone(),
        });
        (None, Status::success())
    }

    fn has_extensions(&self) -> bool {
        true
    }

    fn add_pod(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        to_add: &Arc<PodInfo>,
        node: &NodeInfo,
    ) -> Status {
        if let Some(ctx) = state.read_mut::<PreFilterCtx>() {
            let snap = Snapshot {
                namespaces: ctx.snapshot_namespaces.clone(),
                ..Snapshot::default()
            };
            ctx.state
                .update_with(pod, to_add, node, &snap, &ctx.lazy, 1);
        }
        Status::success()
    }

    fn remove_pod(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        to_remove: &Arc<PodInfo>,
        node: &NodeInfo,
    ) -> Status {
        if let Some(ctx) = state.read_mut::<PreFilterCtx>() {
            let snap = Snapshot {
                namespaces: ctx.snapshot_namespaces.clone(),
                ..Snapshot::default()
            };
            ctx.state
                .update_with(pod, to_remove, node, &snap, &ctx.lazy, -1);
        }
        Status::success()
    }
}

impl FilterPlugin for InterPodAffinity {
    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let Some(ctx) = state.read::<PreFilterCtx>() else {
            return Status::success();
        };
        let s = &ctx.state;
        let labels = node.labels();
        // Required affinity.
        if !pod.required_affinity.is_empty() {
            let mut pods_exist = true;
            for t in &pod.required_affinity {
                match labels.get(&t.topology_key) {
                    Some(v) => {
                        if s.affinity.get(&t.topology_key, v) <= 0 {
                            pods_exist = false;
                        }
                    }
                    None => return Status::unresolvable(ERR_REASON_AFFINITY),
                }
            }
            if !pods_exist {
                let ns = ctx.snapshot_namespaces.get(pod.namespace());
                if !(s.affinity.is_empty() && matches_all(&pod.required_affinity, pod, ns)) {
                    return Status::unresolvable(ERR_REASON_AFFINITY);
                }
            }
        }
        // Required anti-affinity.
        for ((t, is_lazy), key) in pod
            .required_anti_affinity
            .iter()
            .zip(&ctx.lazy.anti)
            .zip(&ctx.lazy.anti_keys)
        {
            let violated = if *is_lazy {
                // Only whether the node carries the key matters (looked up by interned id for
                // nodes kept by the cache), and only when a pod on it matches.
                node.pods().iter().any(|p| {
                    // Namespace labels matter only to a namespace selector.
                    let ns = t
                        .namespace_selector
                        .as_ref()
                        .and_then(|_| ctx.snapshot_namespaces.get(p.namespace()));
                    t.matches(p, ns)
                }) && match node.label_ids() {
                    Some(ids) => key.is_some_and(|k| ids.contains(k)),
                    None => labels.contains_key(&t.topology_key),
                }
            } else {
                labels
                    .get(&t.topology_key)
                    .is_some_and(|v| s.anti.get(&t.topology_key, v) > 0)
            };
            if violated {
                return Status::unschedulable(ERR_REASON_ANTI_AFFINITY);
            }
        }
        // Running pods' anti-affinity: node-local terms on the node itself, the others
        // through the counts.
        if ctx.lazy.existing && !node.pods_with_required_anti_affinity().is_empty() {
            let mut ns = None;
            for p in node.pods_with_required_anti_affinity() {
                for t in &p.required_anti_affinity {
                    if t.namespace_selector.is_some() && ns.is_none() {
                        ns = ctx.snapshot_namespaces.get(pod.namespace());
                    }
                    if ctx.lazy.domains.is_node_local(&t.topology_key)
                        && labels.contains_key(&t.topology_key)
                        && t.matches(pod, ns)
                    {
                        return Status::unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY);
                    }
                }
            }
        }
        if !s.existing_anti.is_empty() {
            for (k, v) in labels {
                if s.existing_anti.get(k, v) > 0 {
                    return Status::unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY);
                }
            }
        }
        Status::success()
    }
}

#[derive(Clone, Default)]
struct PreScoreState {
    /// topology key → value → score.
    scores: HashMap<String, HashMap<String, i64>>,
}

impl PreScoreState {
    fn process_term(
        &mut self,
        t: &AffinityTerm,
        weight: i64,
        target: &PodInfo,
        ns: Option<&kybern_core::LabelMap>,
        node: &NodeInfo,
        mult: i64,
    ) {
        if t.matches(target, ns)
            && let Some(v) = node.labels().get(&t.topology_key)
        {
            *self
                .scores
                .entry(t.topology_key.clone())
                .or_default()
                .entry(v.clone())
                .or_default() += weight * mult;
        }
    }

    fn process_weighted(
        &mut self,
        terms: &[WeightedAffinityTerm],
        target: &PodInfo,
        ns: Option<&kybern_core::LabelMap>,
        node: &NodeInfo,
        mult: i64,
    ) {
        for t in terms {
            self.process_term(&t.term, t.weight, target, ns, node, mult);
        }
    }
}

impl PreScorePlugin for InterPodAffinity {
    fn reads_nodes(&self, _pod: &PodInfo) -> bool {
        false
    }

    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _nodes: &[Arc<NodeInfo>],
        snapshot: &Snapshot,
    ) -> Status {
        let has_constraints =
            !pod.preferred_affinity.is_empty() || !pod.preferred_anti_affinity.is_empty();
        if self.args.ignore_preferred_terms_of_existing_pods && !has_constraints {
            return Status::skip();
        }
        // Without preferred terms of its own, only other pods' scoring terms can score.
        if !has_constraints && snapshot.affinity_tally().scoring_pods == 0 {
            return Status::skip();
        }
        let mut s = PreScoreState::default();
        let incoming_ns = snapshot.namespace_labels(pod.namespace());
        let mut process = |node: &NodeInfo, existing: &PodInfo| {
            if node.labels().is_empty() {
                return;
            }
            let ens = snapshot.namespace_labels(existing.namespace());
            s.process_weighted(&pod.preferred_affinity, existing, ens, node, 1);
            s.process_weighted(&pod.preferred_anti_affinity, existing, ens, node, -1);
            if self.args.hard_pod_affinity_weight > 0 {
                for t in &existing.required_affinity {
                    s.process_term(
                        t,
                        self.args.hard_pod_affinity_weight,
                        pod,
                        incoming_ns,
                        node,
                        1,
                    );
                }
            }
            s.process_weighted(&existing.preferred_affinity, pod, incoming_ns, node, 1);
            s.process_weighted(
                &existing.preferred_anti_affinity,
                pod,
                incoming_ns,
                node,
                -1,
            );
        };
        if has_constraints {
            for node in snapshot.nodes() {
                for existing in node.pods() {
                    process(node, existing);
                }
            }
        } else {
            for node in snapshot.nodes_with_affinity_pods() {
                for existing in node.pods_with_affinity() {
                    process(node, existing);
                }
            }
        }
        if s.scores.is_empty() {
            return Status::skip();
        }
        state.write(s);
        Status::success()
    }
}

impl ScorePlugin for InterPodAffinity {
    fn score(&self, state: &CycleState, _pod: &PodInfo, node: &NodeInfo) -> Result<i64, Status> {
        let Some(s) = state.read::<PreScoreState>() else {
            return Ok(0);
        };
        let labels = node.labels();
        Ok(s.scores
            .iter()
            .filter_map(|(k, values)| labels.get(k).and_then(|v| values.get(v)))
            .sum())
    }

    fn normalize_score(&self, state: &CycleState, _pod: &PodInfo, scores: &mut [i64]) -> Status {
        if state.read::<PreScoreState>().is_none() {
            return Status::success();
        }
        let min = scores.iter().copied().min().unwrap_or(0);
        let max = scores.iter().copied().max().unwrap_or(0);
        let diff = max - min;
        for s in scores.iter_mut() {
            *s = if diff > 0 {
                (MAX_NODE_SCORE as f64 * ((*s - min) as f64 / diff as f64)) as i64
            } else {
                0
            };
        }
        Status::success()
    }
}

//! PodTopologySpread: pods matching a constraint's selector must stay spread across
//! topology domains within `maxSkew` (Filter for `DoNotSchedule`), and are spread as evenly
//! as possible (Score for `ScheduleAnyway`, and the system default constraints).

use std::collections::HashMap;
use std::sync::Arc;

use kybern_core::api::core::v1::TopologySpreadConstraint;
use kybern_core::labels::{Operator, Requirement, label_selector_as_selector};
use kybern_core::{Labels, Selector};

use super::node_affinity::RequiredNodeAffinity;
use super::taint_toleration::{
    find_matching_untolerated_taint, is_do_not_schedule, pod_tolerations,
};
use super::{FeatureGates, names};
use crate::cache::{LabelId, LabelInterner, NodeInfo, PodInfo, Snapshot, SpreadQuery};
use crate::framework::{
    ActionType, ClusterEventWithHint, CycleState, EventResource, FilterPlugin, MAX_NODE_SCORE,
    Plugin, PreFilterPlugin, PreFilterResult, PreScorePlugin, ScorePlugin, Status,
};

/// The filter reason when the skew would be exceeded.
pub const ERR_REASON_CONSTRAINTS_NOT_MATCH: &str =
    "node(s) didn't match pod topology spread constraints";
/// The filter reason when the node lacks a constraint's topology label.
pub const ERR_REASON_NODE_LABEL_NOT_MATCH: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";
/// `kubernetes.io/hostname`.
pub const HOSTNAME_LABEL: &str = "kubernetes.io/hostname";

/// A parsed spread constraint.
#[derive(Clone, Debug)]
pub struct Constraint {
    /// `maxSkew`.
    pub max_skew: i64,
    /// `topologyKey`.
    pub topology_key: String,
    /// The selector (with `matchLabelKeys` merged in).
    pub selector: Selector,
    /// `minDomains` (1 when unset).
    pub min_domains: i64,
    /// `nodeAffinityPolicy: Honor` (the default).
    pub honor_node_affinity: bool,
    /// `nodeTaintsPolicy: Honor` (default Ignore).
    pub honor_node_taints: bool,
}

/// How pods without constraints are spread.
#[derive(Clone, Debug, PartialEq)]
pub enum DefaultingType {
    /// Upstream's system defaults: hostname maxSkew 3 and zone maxSkew 5, ScheduleAnyway.
    System,
    /// No defaults.
    List(Vec<TopologySpreadConstraint>),
}

/// PodTopologySpread arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct PodTopologySpreadArgs {
    /// Default constraints for pods without any.
    pub defaulting: DefaultingType,
}

impl Default for PodTopologySpreadArgs {
    fn default() -> Self {
        PodTopologySpreadArgs {
            defaulting: DefaultingType::System,
        }
    }
}

fn system_default_constraints() -> Vec<TopologySpreadConstraint> {
    vec![
        TopologySpreadConstraint {
            max_skew: 3,
            topology_key: HOSTNAME_LABEL.into(),
            when_unsatisfiable: "ScheduleAnyway".into(),
            ..TopologySpreadConstraint::default()
        },
        TopologySpreadConstraint {
            max_skew: 5,
            topology_key: crate::cache::ZONE_LABEL.into(),
            when_unsatisfiable: "ScheduleAnyway".into(),
            ..TopologySpreadConstraint::default()
        },
    ]
}

fn parse_constraints(
    pod: &PodInfo,
    list: &[TopologySpreadConstraint],
    want: &str,
    default_selector: Option<&Selector>,
) -> Result<Vec<Constraint>, String> {
    let mut out = Vec::new();
    for c in list.iter().filter(|c| c.when_unsatisfiable == want) {
        let mut selector = match (&c.label_selector, default_selector) {
            (None, Some(d)) => d.clone(),
            (s, _) => label_selector_as_selector(s.as_ref())
                .map_err(|e| format!("parsing topology spread labelSelector: {e}"))?,
        };
        if !c.match_label_keys.is_empty() {
            let extra: Vec<Requirement> = c
                .match_label_keys
                .iter()
                .filter_map(|k| {
                    pod.labels().get(k).map(|v| {
                        Requirement::new_unchecked(k.clone(), Operator::In, vec![v.clone()])
                    })
                })
                .collect();
            selector = selector.add(extra);
        }
        out.push(Constraint {
            max_skew: i64::from(c.max_skew),
            topology_key: c.topology_key.clone(),
            selector,
            min_domains: i64::from(c.min_domains.unwrap_or(1)),
            honor_node_affinity: c.node_affinity_policy.as_deref() != Some("Ignore"),
            honor_node_taints: c.node_taints_policy.as_deref() == Some("Honor"),
        });
    }
    Ok(out)
}

/// The selector the system defaults use for a pod: its labels, when a controller owns it.
/// Upstream derives it from the Services, ReplicaSets, StatefulSets and
/// ReplicationControllers selecting the pod; the cache does not list those, so this uses the
/// owned pod's own label set, which the controller's selector is a subset of (deliberate
/// approximation: it can only make the spread stricter among sibling pods).
fn default_selector(pod: &PodInfo) -> Option<Selector> {
    let owned = pod
        .pod()
        .metadata
        .owner_references
        .iter()
        .any(|o| o.controller == Some(true));
    if !owned || pod.labels().is_empty() {
        return None;
    }
    Some(Selector::from_requirements(
        pod.labels()
            .iter()
            .map(|(k, v)| Requirement::new_unchecked(k.clone(), Operator::Equals, vec![v.clone()]))
            .collect(),
    ))
}

fn count_matching(node: &NodeInfo, selector: &Selector, ns: &str) -> i64 {
    node.pods()
        .iter()
        .filter(|p| p.namespace() == ns && !p.is_terminating() && selector.matches(p.labels()))
        .count() as i64
}

/// The PodTopologySpread plugin.
#[derive(Clone, Debug, Default)]
pub struct PodTopologySpread {
    args: PodTopologySpreadArgs,
}

impl PodTopologySpread {
    /// With arguments.
    pub fn new(args: PodTopologySpreadArgs) -> Arc<Self> {
        Arc::new(PodTopologySpread { args })
    }

    /// The constraints for `want` (`DoNotSchedule`/`ScheduleAnyway`), and whether they are
    /// the system defaults.
    fn constraints(&self, pod: &PodInfo, want: &str) -> Result<(Vec<Constraint>, bool), String> {
        let own = pod
            .pod()
            .spec
            .as_ref()
            .map(|s| s.topology_spread_constraints.as_slice())
            .unwrap_or(&[]);
        if !own.is_empty() {
            return Ok((parse_constraints(pod, own, want, None)?, false));
        }
        let Some(sel) = default_selector(pod) else {
            return Ok((Vec::new(), true));
        };
        let defaults = match &self.args.defaulting {
            DefaultingType::System => system_default_constraints(),
            DefaultingType::List(l) => l.clone(),
        };
        Ok((parse_constraints(pod, &defaults, want, Some(&sel))?, true))
    }
}

fn node_included(
    c: &Constraint,
    pod: &PodInfo,
    required: &RequiredNodeAffinity,
    node: &NodeInfo,
) -> bool {
    if c.honor_node_affinity && !required.matches(node.name(), node.labels()) {
        return false;
    }
    if c.honor_node_taints
        && find_matching_untolerated_taint(
            node.taints(),
            pod_tolerations(pod),
            is_do_not_schedule,
            FeatureGates::default(),
        )
        .is_some()
    {
        return false;
    }
    true
}

fn has_all_keys(node: &NodeInfo, cs: &[Constraint]) -> bool {
    let l = node.labels();
    cs.iter().all(|c| l.contains_key(&c.topology_key))
}

#[derive(Clone)]
struct PreFilterState {
    constraints: Vec<Constraint>,
    /// Per constraint: domain value → matching pods.
    counts: Vec<HashMap<String, i64>>,
    /// Per constraint: whether the incoming pod matches its own selector (0 or 1).
    self_match: Vec<i64>,
    /// Per constraint: which domains the pod may join, precomputed from the counts so
    /// Filter does one lookup per node.
    verdicts: Vec<Verdicts>,
    required: RequiredNodeAffinity,
    /// The snapshot's label ids (Filter reads the nodes' interned labels).
    labels: Arc<LabelInterner>,
}

/// One constraint's verdict per domain: whether placing the pod there keeps the skew within
/// `maxSkew` (upstream's rule `matching + selfMatch − minMatch ≤ maxSkew`).
#[derive(Clone)]
struct Verdicts {
    /// The topology key's id (`None`: no node of the snapshot carries it).
    key: Option<LabelId>,
    /// Per interned value id (dense; values without matching pods count 0).
    by_id: Vec<bool>,
    /// `selfMatch − minMatch`.
    offset: i64,
    max_skew: i64,
}

impl Verdicts {
    #[inline]
    fn allows(&self, matching: i64) -> bool {
        matching + self.offset <= self.max_skew
    }

    /// `Ok` when `node` may take the pod; else the status (the node lacks the key, or the
    /// skew would be exceeded). Nodes kept by the cache are looked up by interned label ids,
    /// others by their labels in `counts`.
    #[inline]
    fn check(
        &self,
        node: &NodeInfo,
        topology_key: &str,
        counts: &HashMap<String, i64>,
    ) -> Result<(), Status> {
        let ok = match node.label_ids() {
            Some(ids) => {
                let Some(v) = self.key.and_then(|k| ids.get(k)) else {
                    return Err(Status::unresolvable(ERR_REASON_NODE_LABEL_NOT_MATCH));
                };
                match self.by_id.get(v as usize) {
                    Some(ok) => *ok,
                    None => self.allows(0),
                }
            }
            None => {
                let Some(v) = node.labels().get(topology_key) else {
                    return Err(Status::unresolvable(ERR_REASON_NODE_LABEL_NOT_MATCH));
                };
                self.allows(counts.get(v).copied().unwrap_or(0))
            }
        };
        if ok {
            Ok(())
        } else {
            Err(Status::unschedulable(ERR_REASON_CONSTRAINTS_NOT_MATCH))
        }
    }
}

impl PreFilterState {
    fn new(
        constraints: Vec<Constraint>,
        counts: Vec<HashMap<String, i64>>,
        pod: &PodInfo,
        required: RequiredNodeAffinity,
        labels: Arc<LabelInterner>,
    ) -> PreFilterState {
        let self_match = constraints
            .iter()
            .map(|c| i64::from(c.selector.matches(pod.labels())))
            .collect();
        let mut s = PreFilterState {
            constraints,
            counts,
            self_match,
            verdicts: Vec::new(),
            required,
            labels,
        };
        s.recompute();
        s
    }

    /// Upstream's Filter rule per domain: `matching + selfMatch − minMatch ≤ maxSkew`, where
    /// the minimum is 0 while there are fewer domains than `minDomains`.
    fn recompute(&mut self) {
        let labels = &self.labels;
        self.verdicts = self
            .constraints
            .iter()
            .zip(&self.counts)
            .zip(&self.self_match)
            .map(|((c, counts), self_match)| {
                let mut min = counts.values().copied().min().unwrap_or(0);
                if (counts.len() as i64) < c.min_domains {
                    min = 0;
                }
                let mut v = Verdicts {
                    key: labels.key(&c.topology_key),
                    by_id: Vec::new(),
                    offset: self_match - min,
                    max_skew: c.max_skew,
                };
                let mut by_id = vec![v.allows(0); labels.value_count()];
                for (value, n) in counts {
                    if let Some(slot) = labels.value(value).and_then(|i| by_id.get_mut(i as usize))
                    {
                        *slot = v.allows(*n);
                    }
                }
                v.by_id = by_id;
                v
            })
            .collect();
    }

    fn update(&mut self, pod: &PodInfo, other: &PodInfo, node: &NodeInfo, delta: i64) {
        if other.namespace() != pod.namespace() || !has_all_keys(node, &self.constraints) {
            return;
        }
        let mut changed = false;
        for (i, c) in self.constraints.iter().enumerate() {
            if !node_included(c, pod, &self.required, node) || !c.selector.matches(other.labels()) {
                continue;
            }
            if let Some(v) = node.labels().get(&c.topology_key) {
                *self.counts[i].entry(v.clone()).or_default() += delta;
                changed = true;
            }
        }
        if changed {
            self.recompute();
        }
    }
}

#[derive(Clone)]
struct PreScoreState {
    constraints: Vec<Constraint>,
    counts: Vec<HashMap<String, i64>>,
    weights: Vec<f64>,
    ignored: Vec<bool>,
    ignored_names: Vec<Arc<str>>,
}

impl Plugin for PodTopologySpread {
    fn name(&self) -> &str {
        names::POD_TOPOLOGY_SPREAD
    }

    fn events_to_register(&self) -> Vec<ClusterEventWithHint> {
        vec![
            ClusterEventWithHint::always(
                EventResource::AssignedPod,
                ActionType::ADD | ActionType::DELETE | ActionType::UPDATE_POD_LABEL,
            ),
            ClusterEventWithHint::always(
                EventResource::Node,
                ActionType::ADD
                    | ActionType::DELETE
                    | ActionType::UPDATE_NODE_LABEL
                    | ActionType::UPDATE_NODE_TAINT,
            ),
        ]
    }
}

impl PreFilterPlugin for PodTopologySpread {
    fn pre_filter(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        snapshot: &Snapshot,
    ) -> (Option<PreFilterResult>, Status) {
        let constraints = match self.constraints(pod, "DoNotSchedule") {
            Ok((c, _)) => c,
            Err(e) => return (None, Status::error(e)),
        };
        if constraints.is_empty() {
            return (None, Status::skip());
        }
        let required = RequiredNodeAffinity::of(pod);
        let counts = match indexed_counts(&constraints, pod, &required, snapshot) {
            Some(c) => c,
            None => scan_counts(&constraints, pod, &required, snapshot),
        };
        state.write(PreFilterState::new(
            constraints,
            counts,
            pod,
            required,
            snapshot.labels.clone(),
        ));
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
        if let Some(s) = state.read_mut::<PreFilterState>() {
            s.update(pod, to_add, node, 1);
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
        if let Some(s) = state.read_mut::<PreFilterState>() {
            s.update(pod, to_remove, node, -1);
        }
        Status::success()
    }
}

impl FilterPlugin for PodTopologySpread {
    fn filter(&self, state: &CycleState, _pod: &PodInfo, node: &NodeInfo) -> Status {
        let Some(s) = state.read::<PreFilterState>() else {
            return Status::success();
        };
        for ((c, verdicts), counts) in s.constraints.iter().zip(&s.verdicts).zip(&s.counts) {
            if let Err(st) = verdicts.check(node, &c.topology_key, counts) {
                return st;
            }
        }
        Status::success()
    }
}

impl PreScorePlugin for PodTopologySpread {
    /// Only when the pod has (its own or default) `ScheduleAnyway` constraints (an invalid
    /// constraint errors in PreScore either way).
    fn reads_nodes(&self, pod: &PodInfo) -> bool {
        self.constraints(pod, "ScheduleAnyway")
            .map_or(true, |(c, _)| !c.is_empty())
    }

    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        nodes: &[Arc<NodeInfo>],
        snapshot: &Snapshot,
    ) -> Status {
        let (constraints, system) = match self.constraints(pod, "ScheduleAnyway") {
            Ok(c) => c,
            Err(e) => return Status::error(e),
        };
        if constraints.is_empty() {
            return Status::skip();
        }
        let require_all = !system;
        let mut counts: Vec<HashMap<String, i64>> = vec![HashMap::new(); constraints.len()];
        let mut ignored = vec![false; nodes.len()];
        let mut ignored_names = Vec::new();
        for (j, n) in nodes.iter().enumerate() {
            if require_all && !has_all_keys(n, &constraints) {
                ignored[j] = true;
                ignored_names.push(n.name_arc().clone());
                continue;
            }
            for (i, c) in constraints.iter().enumerate() {
                if c.topology_key == HOSTNAME_LABEL {
                    continue;
                }
                if let Some(v) = n.labels().get(&c.topology_key) {
                    counts[i].entry(v.clone()).or_insert(0);
                }
            }
        }
        let scored = nodes.len() - ignored_names.len();
        let weights = constraints
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let size = if c.topology_key == HOSTNAME_LABEL {
                    scored
                } else {
                    counts[i].len()
                };
                ((size + 2) as f64).ln()
            })
            .collect();
        let required = RequiredNodeAffinity::of(pod);
        // Hostname constraints are counted per node in Score; the others per domain, from
        // the cache's kept counts when every node counts.
        let domain_constraints: Vec<(usize, Constraint)> = constraints
            .iter()
            .enumerate()
            .filter(|(_, c)| c.topology_key != HOSTNAME_LABEL)
            .map(|(i, c)| (i, c.clone()))
            .collect();
        let subset: Vec<Constraint> = domain_constraints.iter().map(|(_, c)| c.clone()).collect();
        let every_node_has_every_key = constraints.iter().all(|c| {
            snapshot
                .label_domains()
                .key(&c.topology_key)
                .is_some_and(|d| d.nodes == snapshot.len())
        });
        let indexed = if require_all && !every_node_has_every_key {
            None
        } else if subset.is_empty() {
            Some(Vec::new())
        } else {
            indexed_counts(&subset, pod, &required, snapshot)
        };
        if let Some(indexed) = &indexed {
            for ((i, _), idx) in domain_constraints.iter().zip(indexed) {
                for (v, x) in counts[*i].iter_mut() {
                    *x += idx.get(v).copied().unwrap_or(0);
                }
            }
        }
        for n in snapshot.nodes() {
            if indexed.is_some() {
                break;
            }
            if require_all && !has_all_keys(n, &constraints) {
                continue;
            }
            for (i, c) in constraints.iter().enumerate() {
                if c.topology_key == HOSTNAME_LABEL || !node_included(c, pod, &required, n) {
                    continue;
                }
                let Some(v) = n.labels().get(&c.topology_key) else {
                    continue;
                };
                if let Some(x) = counts[i].get_mut(v.as_str()) {
                    *x += count_matching(n, &c.selector, pod.namespace());
                }
            }
        }
        state.write(PreScoreState {
            constraints,
            counts,
            weights,
            ignored,
            ignored_names,
        });
        Status::success()
    }
}

impl ScorePlugin for PodTopologySpread {
    fn score(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Result<i64, Status> {
        let Some(s) = state.read::<PreScoreState>() else {
            return Ok(0);
        };
        if s.ignored_names.iter().any(|n| **n == *node.name()) {
            return Ok(0);
        }
        let mut score = 0f64;
        for (i, c) in s.constraints.iter().enumerate() {
            if let Some(v) = node.labels().get_label(&c.topology_key) {
                let cnt = if c.topology_key == HOSTNAME_LABEL {
                    count_matching(node, &c.selector, pod.namespace())
                } else {
                    s.counts[i].get(v).copied().unwrap_or(0)
                };
                score += cnt as f64 * s.weights[i] + (c.max_skew - 1) as f64;
            }
        }
        Ok(score.round() as i64)
    }

    fn normalize_score(&self, state: &CycleState, _pod: &PodInfo, scores: &mut [i64]) -> Status {
        let Some(s) = state.read::<PreScoreState>() else {
            return Status::success();
        };
        let mut min = i64::MAX;
        let mut max = i64::MIN;
        for (i, sc) in scores.iter().enumerate() {
            if s.ignored.get(i).copied().unwrap_or(false) {
                continue;
            }
            min = min.min(*sc);
            max = max.max(*sc);
        }
        for (i, sc) in scores.iter_mut().enumerate() {
            if s.ignored.get(i).copied().unwrap_or(false) {
                *sc = 0;
                continue;
            }
            if max == 0 {
                *sc = MAX_NODE_SCORE;
                continue;
            }
            *sc = MAX_NODE_SCORE * (max + min - *sc) / max;
        }
        Status::success()
    }
}

/// PreFilter's counts the slow way: every node, every pod (upstream's loop).
fn scan_counts(
    constraints: &[Constraint],
    pod: &PodInfo,
    required: &RequiredNodeAffinity,
    snapshot: &Snapshot,
) -> Vec<HashMap<String, i64>> {
    let mut counts: Vec<HashMap<String, i64>> = vec![HashMap::new(); constraints.len()];
    for node in snapshot.nodes() {
        if !has_all_keys(node, constraints) {
            continue;
        }
        for (i, c) in constraints.iter().enumerate() {
            if !node_included(c, pod, required, node) {
                continue;
            }
            let Some(v) = node.labels().get(&c.topology_key) else {
                continue;
            };
            let n = count_matching(node, &c.selector, pod.namespace());
            match counts[i].get_mut(v.as_str()) {
                Some(x) => *x += n,
                None => {
                    counts[i].insert(v.clone(), n);
                }
            }
        }
    }
    counts
}

/// PreFilter's counts from the cache's incrementally kept [`SpreadQuery`] counts, when every
/// node counts: no node affinity to honor, taints ignored, and every node carrying every
/// constraint's topology key. `None` otherwise, or while a query is not kept yet (it is then
/// registered, and counted by the cache from the next cycle on).
fn indexed_counts(
    constraints: &[Constraint],
    pod: &PodInfo,
    required: &RequiredNodeAffinity,
    snapshot: &Snapshot,
) -> Option<Vec<HashMap<String, i64>>> {
    let all_nodes_count = constraints.iter().all(|c| {
        !c.honor_node_taints
            && (!c.honor_node_affinity || required.is_empty())
            && snapshot
                .label_domains()
                .key(&c.topology_key)
                .is_some_and(|d| d.nodes == snapshot.len())
    });
    if !all_nodes_count {
        return None;
    }
    // Ask for every query before giving up, so all get registered at once.
    let indexed: Vec<Option<Arc<HashMap<String, i64>>>> = constraints
        .iter()
        .map(|c| {
            snapshot
                .spread_counts(&SpreadQuery {
                    namespace: pod.namespace().to_owned(),
                    selector: c.selector.clone(),
                    topology_key: c.topology_key.clone(),
                })
                .cloned()
        })
        .collect();
    let mut out = Vec::with_capacity(constraints.len());
    for (c, idx) in constraints.iter().zip(indexed) {
        let idx = idx?;
        let domains = snapshot.label_domains().key(&c.topology_key)?;
        out.push(
            domains
                .values
                .keys()
                .map(|v| (v.clone(), idx.get(v).copied().unwrap_or(0)))
                .collect(),
        );
    }
    Some(out)
}

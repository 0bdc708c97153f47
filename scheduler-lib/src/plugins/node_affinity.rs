//! NodeAffinity: `spec.nodeSelector` and required node affinity must match the node
//! (Filter, with a PreFilter that narrows to `metadata.name` matchFields); preferred terms
//! score (Score). Also the node-selector matching helpers (upstream's
//! `component-helpers/scheduling/corev1/nodeaffinity`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use kybern_core::api::core::v1::{
    NodeAffinity as NodeAffinitySpec, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm,
    PreferredSchedulingTerm,
};
use kybern_core::labels::{Operator, Requirement};
use kybern_core::validation::{ErrorList, FieldError, FieldPath};
use kybern_core::{Labels, Selector};

use super::names;
use crate::cache::{NodeInfo, PodInfo, Snapshot};
use crate::framework::{
    ActionType, ClusterEventWithHint, CycleState, EventResource, FilterPlugin, MAX_NODE_SCORE,
    Plugin, PreFilterPlugin, PreFilterResult, PreScorePlugin, QueueingHint, ScorePlugin, Status,
    default_normalize_score,
};

/// The filter reason when the pod's selector/affinity does not match.
pub const ERR_REASON_POD: &str = "node(s) didn't match Pod's node affinity/selector";
/// The filter reason when the scheduler-enforced (`addedAffinity`) affinity does not match.
pub const ERR_REASON_ENFORCED: &str = "node(s) didn't match scheduler-enforced node affinity";
/// The PreFilter reason when the terms' `metadata.name` fields select no node.
pub const ERR_REASON_CONFLICT: &str = "pod affinity terms conflict";

/// Converts node selector requirements to a label selector (upstream's
/// `NodeSelectorRequirementsAsSelector`), errors under `path[i]`.
///
/// # Errors
/// The requirements' validation errors (keys, values, unsupported operators).
pub fn node_selector_requirements_as_selector(
    reqs: &[NodeSelectorRequirement],
    path: &FieldPath,
) -> Result<Selector, ErrorList> {
    if reqs.is_empty() {
        return Ok(Selector::nothing());
    }
    let mut out = Vec::with_capacity(reqs.len());
    let mut errs = ErrorList::new();
    for (i, r) in reqs.iter().enumerate() {
        let p = path.index(i);
        let op = match r.operator.as_str() {
            "In" => Operator::In,
            "NotIn" => Operator::NotIn,
            "Exists" => Operator::Exists,
            "DoesNotExist" => Operator::DoesNotExist,
            "Gt" => Operator::GreaterThan,
            "Lt" => Operator::LessThan,
            other => {
                errs.push(FieldError::not_supported(
                    &p.child("operator"),
                    other,
                    &["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"],
                ));
                continue;
            }
        };
        match Requirement::new_at(r.key.clone(), op, r.values.clone(), &p) {
            Ok(req) => out.push(req),
            Err(e) => errs.extend(e.0),
        }
    }
    if errs.is_empty() {
        Ok(Selector::from_requirements(out))
    } else {
        Err(errs)
    }
}

#[derive(Clone, Debug)]
struct FieldReq {
    not_in: bool,
    value: String,
}

/// One parsed node selector term: label requirements ANDed with `metadata.name` fields.
#[derive(Clone, Debug)]
struct TermMatcher {
    labels: Option<Selector>,
    fields: Vec<FieldReq>,
}

impl TermMatcher {
    fn parse(term: &NodeSelectorTerm, path: &FieldPath) -> Result<Option<TermMatcher>, ErrorList> {
        if term.match_expressions.is_empty() && term.match_fields.is_empty() {
            return Ok(None);
        }
        let mut errs = ErrorList::new();
        let labels = if term.match_expressions.is_empty() {
            None
        } else {
            match node_selector_requirements_as_selector(
                &term.match_expressions,
                &path.child("matchExpressions"),
            ) {
                Ok(s) => Some(s),
                Err(e) => {
                    errs.extend(e);
                    None
                }
            }
        };
        let mut fields = Vec::new();
        for (i, f) in term.match_fields.iter().enumerate() {
            let p = path.child("matchFields").index(i);
            if f.values.len() != 1 {
                errs.push(FieldError::invalid(
                    &p.child("values"),
                    serde_json::Value::from(f.values.clone()),
                    "must have one element",
                ));
                continue;
            }
            if f.key != "metadata.name" {
                errs.push(FieldError::invalid(
                    &p.child("key"),
                    f.key.clone(),
                    "not a valid field selector key",
                ));
                continue;
            }
            let not_in = match f.operator.as_str() {
                "In" => false,
                "NotIn" => true,
                other => {
                    errs.push(FieldError::invalid(
                        &p.child("operator"),
                        other,
                        "not a valid selector operator",
                    ));
                    continue;
                }
            };
            fields.push(FieldReq {
                not_in,
                value: f.values[0].clone(),
            });
        }
        if errs.is_empty() {
            Ok(Some(TermMatcher { labels, fields }))
        } else {
            Err(errs)
        }
    }

    fn matches(&self, name: &str, labels: &kybern_core::LabelMap) -> bool {
        if let Some(s) = &self.labels
            && !s.matches(labels)
        {
            return false;
        }
        self.fields.iter().all(|f| (f.value == name) != f.not_in)
    }
}

/// A parsed `NodeSelector` (terms ORed). An empty term matches nothing; so does a nil or
/// empty term list.
#[derive(Clone, Debug, Default)]
pub struct NodeSelectorMatcher {
    terms: Vec<TermMatcher>,
}

impl NodeSelectorMatcher {
    /// Parses strictly (upstream's `NewNodeSelector`): every term's errors are reported,
    /// under `path.nodeSelectorTerms[i]`.
    ///
    /// # Errors
    /// The aggregated errors of all terms.
    pub fn new(ns: &NodeSelector, path: &FieldPath) -> Result<Self, ErrorList> {
        let mut terms = Vec::new();
        let mut errs = ErrorList::new();
        for (i, t) in ns.node_selector_terms.iter().enumerate() {
            match TermMatcher::parse(t, &path.child("nodeSelectorTerms").index(i)) {
                Ok(Some(m)) => terms.push(m),
                Ok(None) => {}
                Err(e) => errs.extend(e),
            }
        }
        if errs.is_empty() {
            Ok(NodeSelectorMatcher { terms })
        } else {
            Err(errs)
        }
    }

    /// Parses leniently (upstream's `NewLazyErrorNodeSelector`): invalid terms match nothing.
    pub fn new_lenient(ns: &NodeSelector) -> Self {
        let terms = ns
            .node_selector_terms
            .iter()
            .filter_map(|t| TermMatcher::parse(t, &FieldPath::root()).ok().flatten())
            .collect();
        NodeSelectorMatcher { terms }
    }

    /// Whether a node with this name and labels matches any term.
    pub fn matches(&self, name: &str, labels: &kybern_core::LabelMap) -> bool {
        self.terms.iter().any(|t| t.matches(name, labels))
    }
}

/// Parsed preferred scheduling terms (weight-0 terms are dropped unparsed, as upstream).
#[derive(Clone, Debug, Default)]
pub struct PreferredSchedulingTerms {
    terms: Vec<(TermMatcher, i64)>,
}

impl PreferredSchedulingTerms {
    /// Parses (upstream's `NewPreferredSchedulingTerms`), errors under `[i]`.
    ///
    /// # Errors
    /// The aggregated errors.
    pub fn new(terms: &[PreferredSchedulingTerm]) -> Result<Self, ErrorList> {
        let mut out = Vec::new();
        let mut errs = ErrorList::new();
        for (i, t) in terms.iter().enumerate() {
            if t.weight == 0 {
                continue;
            }
            match TermMatcher::parse(&t.preference, &FieldPath::root().index(i)) {
                Ok(Some(m)) => out.push((m, i64::from(t.weight))),
                Ok(None) => {}
                Err(e) => errs.extend(e),
            }
        }
        if errs.is_empty() {
            Ok(PreferredSchedulingTerms { terms: out })
        } else {
            Err(errs)
        }
    }

    /// The sum of the weights of the matching terms.
    pub fn score(&self, name: &str, labels: &kybern_core::LabelMap) -> i64 {
        self.terms
            .iter()
            .filter(|(t, _)| t.matches(name, labels))
            .map(|(_, w)| *w)
            .sum()
    }

    /// Whether there are no terms.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }
}

/// The pod's required node constraints: `spec.nodeSelector` and required node affinity.
#[derive(Clone, Debug, Default)]
pub struct RequiredNodeAffinity {
    selector: BTreeMap<String, String>,
    affinity: Option<NodeSelectorMatcher>,
}

impl RequiredNodeAffinity {
    /// From a pod (invalid terms match nothing).
    pub fn of(pod: &PodInfo) -> Self {
        let spec = pod.pod().spec.as_ref();
        RequiredNodeAffinity {
            selector: spec.map(|s| s.node_selector.clone()).unwrap_or_default(),
            affinity: spec
                .and_then(|s| s.affinity.as_ref())
                .and_then(|a| a.node_affinity.as_ref())
                .and_then(|na| {
                    na.required_during_scheduling_ignored_during_execution
                        .as_ref()
                })
                .map(NodeSelectorMatcher::new_lenient),
        }
    }

    /// Whether it matches every node (no nodeSelector, no required node affinity).
    pub fn is_empty(&self) -> bool {
        self.selector.is_empty() && self.affinity.is_none()
    }

    /// Upstream's `RequiredNodeAffinity.Match`.
    pub fn matches(&self, name: &str, labels: &kybern_core::LabelMap) -> bool {
        if !self
            .selector
            .iter()
            .all(|(k, v)| labels.get_label(k) == Some(v.as_str()))
        {
            return false;
        }
        self.affinity
            .as_ref()
            .is_none_or(|a| a.matches(name, labels))
    }
}

/// Upstream's `PodMatchesNodeSelectorAndAffinityTerms`.
pub fn pod_matches_node(pod: &PodInfo, name: &str, labels: &kybern_core::LabelMap) -> bool {
    RequiredNodeAffinity::of(pod).matches(name, labels)
}

/// Arguments of NodeAffinity (`NodeAffinityArgs`).
#[derive(Clone, Debug, Default)]
pub struct NodeAffinityArgs {
    /// Node affinity every pod of the profile gets in addition to its own.
    pub added_affinity: Option<NodeAffinitySpec>,
}

/// The NodeAffinity plugin.
#[derive(Clone, Debug, Default)]
pub struct NodeAffinity {
    added_required: Option<NodeSelectorMatcher>,
    added_preferred: Option<PreferredSchedulingTerms>,
}

impl NodeAffinity {
    /// With arguments.
    ///
    /// # Errors
    /// Invalid `addedAffinity` terms.
    pub fn new(args: &NodeAffinityArgs) -> Result<Arc<Self>, crate::Error> {
        let invalid = |e: ErrorList| crate::Error::InvalidPluginArgs {
            plugin: names::NODE_AFFINITY.into(),
            message: e.to_string(),
        };
        let mut pl = NodeAffinity::default();
        if let Some(a) = &args.added_affinity {
            if let Some(r) = &a.required_during_scheduling_ignored_during_execution {
                pl.added_required = Some(
                    NodeSelectorMatcher::new(r, &FieldPath::new("addedAffinity"))
                        .map_err(invalid)?,
                );
            }
            if !a
                .preferred_during_scheduling_ignored_during_execution
                .is_empty()
            {
                pl.added_preferred = Some(
                    PreferredSchedulingTerms::new(
                        &a.preferred_during_scheduling_ignored_during_execution,
                    )
                    .map_err(invalid)?,
                );
            }
        }
        Ok(Arc::new(pl))
    }
}

#[derive(Clone)]
struct PreFilterState(RequiredNodeAffinity);

#[derive(Clone)]
struct PreScoreState(PreferredSchedulingTerms);

impl Plugin for NodeAffinity {
    fn name(&self) -> &str {
        names::NODE_AFFINITY
    }

    fn events_to_register(&self) -> Vec<ClusterEventWithHint> {
        let added = self.added_required.clone();
        vec![ClusterEventWithHint::with_hint(
            EventResource::Node,
            ActionType::ADD | ActionType::UPDATE_NODE_LABEL,
            move |pod, objs| {
                let Some(node) = objs.new.as_ref().and_then(|o| o.as_node()) else {
                    return QueueingHint::Skip;
                };
                let name = node.metadata.name.as_deref().unwrap_or("");
                let labels = &node.metadata.labels;
                if added.as_ref().is_some_and(|a| !a.matches(name, labels)) {
                    return QueueingHint::Skip;
                }
                if pod_matches_node(pod, name, labels) {
                    QueueingHint::Queue
                } else {
                    QueueingHint::Skip
                }
            },
        )]
    }
}

fn required_terms(pod: &PodInfo) -> Option<&NodeSelector> {
    pod.pod()
        .spec
        .as_ref()?
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()
}

impl PreFilterPlugin for NodeAffinity {
    fn pre_filter(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _snapshot: &Snapshot,
    ) -> (Option<PreFilterResult>, Status) {
        let required = required_terms(pod);
        let no_selector = pod
            .pod()
            .spec
            .as_ref()
            .is_none_or(|s| s.node_selector.is_empty());
        if required.is_none() && self.added_required.is_none() && no_selector {
            return (None, Status::skip());
        }
        state.write(PreFilterState(RequiredNodeAffinity::of(pod)));
        let Some(required) = required else {
            return (None, Status::success());
        };
        let mut names: Option<BTreeSet<String>> = None;
        for t in &required.node_selector_terms {
            let mut term_names: Option<BTreeSet<String>> = None;
            for r in &t.match_fields {
                if r.key == "metadata.name" && r.operator == "In" {
                    let s: BTreeSet<String> = r.values.iter().cloned().collect();
                    term_names = Some(match term_names {
                        None => s,
                        Some(prev) => prev.intersection(&s).cloned().collect(),
                    });
                }
            }
            let Some(term_names) = term_names else {
                return (None, Status::success());
            };
            names.get_or_insert_with(BTreeSet::new).extend(term_names);
        }
        match names {
            Some(n) if n.is_empty() => (None, Status::unresolvable(ERR_REASON_CONFLICT)),
            Some(n) => (
                Some(PreFilterResult {
                    node_names: Some(n),
                }),
                Status::success(),
            ),
            None => (None, Status::success()),
        }
    }
}

impl FilterPlugin for NodeAffinity {
    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let labels = node.labels();
        if let Some(a) = &self.added_required
            && !a.matches(node.name(), labels)
        {
            return Status::unresolvable(ERR_REASON_ENFORCED);
        }
        let ok = match state.read::<PreFilterState>() {
            Some(s) => s.0.matches(node.name(), labels),
            None => pod_matches_node(pod, node.name(), labels),
        };
        if ok {
            Status::success()
        } else {
            Status::unresolvable(ERR_REASON_POD)
        }
    }
}

impl PreScorePlugin for NodeAffinity {
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
        let preferred = pod
            .pod()
            .spec
            .as_ref()
            .and_then(|s| s.affinity.as_ref())
            .and_then(|a| a.node_affinity.as_ref())
            .map(|na| {
                na.preferred_during_scheduling_ignored_during_execution
                    .as_slice()
            })
            .unwrap_or(&[]);
        if preferred.is_empty() && self.added_preferred.is_none() {
            return Status::skip();
        }
        match PreferredSchedulingTerms::new(preferred) {
            Ok(t) => {
                state.write(PreScoreState(t));
                Status::success()
            }
            Err(e) => Status::error(format!("parsing pod's preferred node affinity: {e}")),
        }
    }
}

impl ScorePlugin for NodeAffinity {
    fn score(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Result<i64, Status> {
        let labels = node.labels();
        let mut score = self
            .added_preferred
            .as_ref()
            .map_or(0, |p| p.score(node.name(), labels));
        match state.read::<PreScoreState>() {
            Some(s) => score += s.0.score(node.name(), labels),
            None => {
                let preferred = pod
                    .pod()
                    .spec
                    .as_ref()
                    .and_then(|s| s.affinity.as_ref())
                    .and_then(|a| a.node_affinity.as_ref())
                    .map(|na| {
                        na.preferred_during_scheduling_ignored_during_execution
                            .as_slice()
                    })
                    .unwrap_or(&[]);
                let terms = PreferredSchedulingTerms::new(preferred)
                    .map_err(|e| Status::error(e.to_string()))?;
                score += terms.score(node.name(), labels);
            }
        }
        Ok(score)
    }

    fn normalize_score(&self, _state: &CycleState, _pod: &PodInfo, scores: &mut [i64]) -> Status {
        default_normalize_score(MAX_NODE_SCORE, false, scores);
        Status::success()
    }
}

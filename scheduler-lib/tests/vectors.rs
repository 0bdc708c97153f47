//! The shared Kubernetes vectors (taints, node affinity, resource fit) run through the
//! plugins' own entry points: one `check` helper per group.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use kybern_core::Selector;
use kybern_core::api::core::v1::{
    Node, NodeAffinity as NodeAffinitySpec, NodeSelector, NodeSelectorRequirement, NodeSpec, Pod,
    PreferredSchedulingTerm, Taint, Toleration,
};
use kybern_core::api::meta::v1::ObjectMeta;
use kybern_core::validation::{ErrorList, FieldPath};
use kybern_scheduler::cache::resource::{RequestOptions, pod_requests};
use kybern_scheduler::cache::{NodeInfo, PodInfo, Resource, Snapshot};
use kybern_scheduler::framework::{
    Code, CycleState, FilterPlugin, PreFilterPlugin, PreScorePlugin, ScorePlugin, Status,
};
use kybern_scheduler::plugins::FeatureGates;
use kybern_scheduler::plugins::node_affinity::{
    NodeAffinity, NodeAffinityArgs, NodeSelectorMatcher, PreferredSchedulingTerms,
    node_selector_requirements_as_selector, pod_matches_node,
};
use kybern_scheduler::plugins::node_resources::{Fit, FitArgs, fits_request};
use kybern_scheduler::plugins::taint_toleration::{
    TaintToleration, find_matching_untolerated_taint, match_taint, taint_to_string,
    toleration_tolerates_taint,
};
use serde_json::Value;

fn load(file: &str) -> Value {
    let path = format!("{}/../../shared/vectors/{file}", env!("CARGO_MANIFEST_DIR"));
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("vectors missing at {path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn group<'a>(doc: &'a Value, name: &str) -> &'a [Value] {
    let g = doc[name]
        .as_array()
        .unwrap_or_else(|| panic!("group {name} missing"));
    assert!(!g.is_empty(), "group {name} is empty");
    g
}

fn id(v: &Value) -> String {
    format!(
        "{} / {}",
        v["from"].as_str().unwrap_or("?"),
        v["name"]
            .as_str()
            .or(v["description"].as_str())
            .unwrap_or("?")
    )
}

fn de<T: serde::de::DeserializeOwned + Default>(v: &Value) -> T {
    if v.is_null() {
        return T::default();
    }
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("decode {v}: {e}"))
}

fn gates(v: &Value) -> FeatureGates {
    FeatureGates {
        taint_toleration_comparison_operators:
            v["feature_gates"]["TaintTolerationComparisonOperators"]
                .as_bool()
                .unwrap_or(false),
    }
}

fn node_with_taints(name: &str, taints: Vec<Taint>) -> Arc<NodeInfo> {
    let node = Node {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..ObjectMeta::default()
        },
        spec: Some(NodeSpec {
            taints,
            ..NodeSpec::default()
        }),
        status: None,
    };
    Arc::new(NodeInfo::new(Arc::new(node)))
}

fn pod_with_tolerations(tolerations: Vec<Toleration>) -> PodInfo {
    let mut pod = Pod::default();
    pod.spec.get_or_insert_with(Default::default).tolerations = tolerations;
    PodInfo::new(Arc::new(pod))
}

/// Runs PreScore, Score per node and NormalizeScore as the framework does (a skipped
/// PreScore scores 0).
fn run_score<P: PreScorePlugin + ScorePlugin>(
    p: &P,
    pod: &PodInfo,
    nodes: &[Arc<NodeInfo>],
) -> Vec<i64> {
    let mut state = CycleState::new();
    let snapshot = Snapshot::new();
    let st = p.pre_score(&mut state, pod, nodes, &snapshot);
    if st.is_skip() {
        return vec![0; nodes.len()];
    }
    assert!(st.is_success(), "{st}");
    let mut scores: Vec<i64> = nodes
        .iter()
        .map(|n| p.score(&state, pod, n).unwrap())
        .collect();
    assert!(p.normalize_score(&state, pod, &mut scores).is_success());
    scores
}

fn check_scores(v: &Value, names: &[String], got: &[i64]) {
    for (n, s) in names.iter().zip(got) {
        assert_eq!(
            Some(*s),
            v["expected_scores"][n].as_i64(),
            "{}: node {n}",
            id(v)
        );
    }
}

fn check_errors(v: &Value, errs: &ErrorList) {
    let want = v["errors"].as_array().unwrap();
    assert_eq!(errs.len(), want.len(), "{}: {errs}", id(v));
    for (e, w) in errs.iter().zip(want) {
        assert_eq!(
            e.error_type.reason(),
            w["type"].as_str().unwrap(),
            "{}",
            id(v)
        );
        assert_eq!(e.field.as_str(), w["field"].as_str().unwrap(), "{}", id(v));
        if let Some(d) = w["detail"].as_str() {
            assert_eq!(e.detail, d, "{}", id(v));
        }
        if !w["badValue"].is_null() {
            assert_eq!(e.bad_value.as_ref(), Some(&w["badValue"]), "{}", id(v));
        }
    }
}

#[test]
fn taints() {
    let doc = load("taints.json");
    for v in group(&doc, "tolerates_taint") {
        let t: Toleration = de(&v["toleration"]);
        let taint: Taint = de(&v["taint"]);
        assert_eq!(
            toleration_tolerates_taint(&t, &taint, gates(v)),
            v["tolerated"].as_bool().unwrap(),
            "{}",
            id(v)
        );
    }
    for v in group(&doc, "tolerations_tolerate_taints") {
        let ts: Vec<Toleration> = de(&v["tolerations"]);
        let taints: Vec<Taint> = de(&v["taints"]);
        let filter: Box<dyn Fn(&Taint) -> bool> = match &v["effect_filter"] {
            Value::String(s) if s == "all" => Box::new(|_| true),
            Value::Null => Box::new(|_| true),
            Value::Array(effects) => {
                let effects: Vec<String> = effects
                    .iter()
                    .map(|e| e.as_str().unwrap().to_owned())
                    .collect();
                Box::new(move |t: &Taint| effects.contains(&t.effect))
            }
            other => panic!("{}: effect_filter {other}", id(v)),
        };
        let untolerated = find_matching_untolerated_taint(&taints, &ts, filter, gates(v));
        assert_eq!(
            untolerated.is_none(),
            v["tolerated"].as_bool().unwrap(),
            "{}",
            id(v)
        );
    }
    for v in group(&doc, "scheduler_filter") {
        let pod = pod_with_tolerations(de(&v["tolerations"]));
        let node = node_with_taints("n", de(&v["taints"]));
        let st = TaintToleration::new(gates(v)).filter(&CycleState::new(), &pod, &node);
        check_filter(
            v,
            &st,
            v["schedulable"].as_bool().unwrap(),
            v["status_code"].as_str(),
            v["reason"].as_str(),
        );
    }
    for v in group(&doc, "scheduler_score") {
        let pod = pod_with_tolerations(de(&v["tolerations"]));
        let nodes: Vec<Arc<NodeInfo>> = v["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| node_with_taints(n["name"].as_str().unwrap(), de(&n["taints"])))
            .collect();
        let names: Vec<String> = nodes.iter().map(|n| n.name().to_owned()).collect();
        let got = run_score(&*TaintToleration::new(gates(v)), &pod, &nodes);
        check_scores(v, &names, &got);
    }
    for v in group(&doc, "taint_to_string") {
        assert_eq!(
            taint_to_string(&de(&v["taint"])),
            v["string"].as_str().unwrap(),
            "{}",
            id(v)
        );
    }
    for v in group(&doc, "match_taint") {
        assert_eq!(
            match_taint(&de(&v["taint"]), &de(&v["taint_to_match"])),
            v["match"].as_bool().unwrap(),
            "{}",
            id(v)
        );
    }
}

fn check_filter(
    v: &Value,
    st: &Status,
    schedulable: bool,
    code: Option<&str>,
    reason: Option<&str>,
) {
    assert_eq!(st.is_success(), schedulable, "{}: {st}", id(v));
    if let Some(c) = code {
        assert_eq!(Some(st.code()), Code::from_name(c), "{}", id(v));
    }
    if let Some(r) = reason {
        assert_eq!(st.message(), r, "{}", id(v));
    }
}

fn node_from(v: &Value) -> Option<NodeInfo> {
    if v.is_null() {
        return None;
    }
    let node: Node = de(v);
    Some(NodeInfo::new(Arc::new(node)))
}

fn pod_from(v: &Value) -> PodInfo {
    let pod: Pod = de(v);
    PodInfo::new(Arc::new(pod))
}

fn affinity_plugin(v: &Value) -> Arc<NodeAffinity> {
    let added: Option<NodeAffinitySpec> = match &v["plugin_args"]["addedAffinity"] {
        Value::Null => None,
        a => Some(de(a)),
    };
    NodeAffinity::new(&NodeAffinityArgs {
        added_affinity: added,
    })
    .unwrap()
}

#[test]
fn node_affinity() {
    let doc = load("node_affinity.json");
    for v in group(&doc, "match_node_selector_terms") {
        let got = match (node_from(&v["node"]), &v["nodeSelector"]) {
            (Some(n), ns) if !ns.is_null() => {
                let ns: NodeSelector = de(ns);
                NodeSelectorMatcher::new_lenient(&ns).matches(n.name(), n.labels())
            }
            _ => false,
        };
        assert_eq!(got, v["matches"].as_bool().unwrap(), "{}", id(v));
    }
    for v in group(&doc, "node_selector_match") {
        let ns: NodeSelector = de(&v["nodeSelector"]);
        match NodeSelectorMatcher::new(&ns, &FieldPath::root()) {
            Err(errs) => {
                assert!(v["error"].as_bool().unwrap_or(false), "{}: {errs}", id(v));
                check_errors(v, &errs);
            }
            Ok(m) => {
                assert!(
                    !v["error"].as_bool().unwrap_or(false),
                    "{}: expected errors",
                    id(v)
                );
                let got = node_from(&v["node"]).is_some_and(|n| m.matches(n.name(), n.labels()));
                assert_eq!(got, v["matches"].as_bool().unwrap(), "{}", id(v));
            }
        }
    }
    for v in group(&doc, "preferred_scheduling_terms_score") {
        let terms: Vec<PreferredSchedulingTerm> = de(&v["preferredSchedulingTerms"]);
        match PreferredSchedulingTerms::new(&terms) {
            Err(errs) => {
                assert!(v["error"].as_bool().unwrap_or(false), "{}: {errs}", id(v));
                check_errors(v, &errs);
            }
            Ok(t) => {
                let n = node_from(&v["node"]).unwrap();
                assert_eq!(
                    Some(t.score(n.name(), n.labels())),
                    v["score"].as_i64(),
                    "{}",
                    id(v)
                );
            }
        }
    }
    for v in group(&doc, "node_selector_requirements_as_selector") {
        let reqs: Vec<NodeSelectorRequirement> = de(&v["matchExpressions"]);
        match node_selector_requirements_as_selector(&reqs, &FieldPath::new("root")) {
            Err(errs) => {
                assert!(v["error"].as_bool().unwrap_or(false), "{}: {errs}", id(v));
                check_errors(v, &errs);
            }
            Ok(sel) => {
                let want = Selector::parse(v["equivalent_selector"].as_str().unwrap()).unwrap();
                assert_eq!(sel.to_string(), want.to_string(), "{}", id(v));
            }
        }
    }
    for v in group(&doc, "pod_matches_node") {
        let pod = pod_from(&v["pod"]);
        let node = node_from(&v["node"]);
        let got = node.is_some_and(|n| pod_matches_node(&pod, n.name(), n.labels()));
        assert_eq!(got, v["matches"].as_bool().unwrap(), "{}", id(v));
    }
    for v in group(&doc, "scheduler_filter") {
        let pod = pod_from(&v["pod"]);
        let node = node_from(&v["node"]).unwrap();
        let pl = affinity_plugin(v);
        let mut state = CycleState::new();
        if v["run_prefilter"].as_bool().unwrap_or(false) {
            let (res, st) = pl.pre_filter(&mut state, &pod, &Snapshot::new());
            let want = &v["prefilter"];
            assert_eq!(
                Some(st.code()),
                Code::from_name(want["status"].as_str().unwrap()),
                "{}",
                id(v)
            );
            let got_names: Option<Vec<String>> = res
                .and_then(|r| r.node_names)
                .map(|n| n.into_iter().collect());
            let want_names: Option<Vec<String>> = match &want["node_names"] {
                Value::Null => None,
                n => Some(de(n)),
            };
            assert_eq!(got_names, want_names, "{}", id(v));
            if st.is_skip() {
                // A skipped PreFilter means the framework does not run Filter: passing.
                assert!(v["filter"]["schedulable"].as_bool().unwrap(), "{}", id(v));
                continue;
            }
        }
        let st = pl.filter(&state, &pod, &node);
        let f = &v["filter"];
        check_filter(
            v,
            &st,
            f["schedulable"].as_bool().unwrap(),
            f["code"].as_str(),
            f["reason"].as_str(),
        );
    }
    for v in group(&doc, "scheduler_score") {
        let pod = pod_from(&v["pod"]);
        let nodes: Vec<Arc<NodeInfo>> = v["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| Arc::new(node_from(n).unwrap()))
            .collect();
        let names: Vec<String> = nodes.iter().map(|n| n.name().to_owned()).collect();
        let got = run_score(&*affinity_plugin(v), &pod, &nodes);
        check_scores(v, &names, &got);
    }
}

#[test]
fn resource_fit() {
    let doc = load("resource_fit.json");
    for v in group(&doc, "fit") {
        let mut node = node_from(&v["node"]).unwrap();
        for (i, p) in v["existing_pods"].as_array().unwrap().iter().enumerate() {
            let mut pod: Pod = de(p);
            pod.metadata.name = Some(format!("existing-{i}"));
            node.add_pod(Arc::new(PodInfo::new(Arc::new(pod))));
        }
        let pod = pod_from(&v["pod"]);
        let args = FitArgs {
            ignored_resources: de::<Vec<String>>(&v["plugin_args"]["ignoredResources"])
                .into_iter()
                .collect(),
            ..FitArgs::default()
        };
        let fit = Fit::new(args.clone()).unwrap();
        let mut state = CycleState::new();
        let (_, st) = fit.pre_filter(&mut state, &pod, &Snapshot::new());
        assert!(st.is_success(), "{}", id(v));
        let st = fit.filter(&state, &pod, &node);
        assert_eq!(
            st.is_success(),
            v["fits"].as_bool().unwrap(),
            "{}: {st}",
            id(v)
        );
        let reasons: Vec<String> = de(&v["reasons"]);
        let got: Vec<String> = st.reasons().iter().map(|r| r.to_string()).collect();
        assert_eq!(got, reasons, "{}", id(v));
        if let Some(want) = v["insufficient_resources"].as_array() {
            let got = fits_request(&pod.requests, &node, &args);
            assert_eq!(got.len(), want.len(), "{}", id(v));
            for (g, w) in got.iter().zip(want) {
                assert_eq!(
                    g.resource_name,
                    w["resourceName"].as_str().unwrap(),
                    "{}",
                    id(v)
                );
                assert_eq!(g.reason, w["reason"].as_str().unwrap(), "{}", id(v));
                assert_eq!(Some(g.requested), w["requested"].as_i64(), "{}", id(v));
                assert_eq!(Some(g.used), w["used"].as_i64(), "{}", id(v));
                assert_eq!(Some(g.capacity), w["capacity"].as_i64(), "{}", id(v));
            }
        }
    }
    for v in group(&doc, "pod_requests") {
        let pod: Pod = de(&v["pod"]);
        let opts = RequestOptions {
            exclude_overhead: v["options"]["excludeOverhead"].as_bool().unwrap_or(false),
            non_missing_defaults: false,
        };
        let got = pod_requests(&pod, opts);
        let want = Resource::from_list(&de(&v["expected_requests"]));
        assert_eq!(got, want, "{}", id(v));
    }
}

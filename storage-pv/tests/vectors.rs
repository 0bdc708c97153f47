//! Every group of `shared/vectors/pv_matching.json` through the matching module: the index
//! and the linear reference must both give upstream's answer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashSet};

use kybern_core::api::core::v1::{
    Node, PersistentVolume, PersistentVolumeClaim, PersistentVolumeClaimSpec, PersistentVolumeSpec,
};
use kybern_storage::matching::{
    MatchOptions, VolumeIndex, check_volume_satisfy_claim, find_best_match_linear,
    find_matching_volume, volume_mode_mismatch,
};
use kybern_storage::node_affinity::check_volume_node_affinity;
use serde_json::Value;

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/vectors/pv_matching.json"
);

fn load() -> Value {
    let text = std::fs::read_to_string(VECTORS)
        .unwrap_or_else(|e| panic!("vectors missing at {VECTORS}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn group<'a>(all: &'a Value, name: &str) -> &'a [Value] {
    all.get(name)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("group {name} missing"))
}

fn label(v: &Value) -> String {
    format!(
        "{} / {}",
        v["from"].as_str().unwrap_or("?"),
        v.get("name")
            .and_then(Value::as_str)
            .or(v.get("note").and_then(Value::as_str))
            .unwrap_or("?")
    )
}

fn pvs(v: &Value) -> Vec<PersistentVolume> {
    serde_json::from_value(v["pvs"].clone()).unwrap()
}

fn claim(v: &Value) -> PersistentVolumeClaim {
    serde_json::from_value(v["claim"].clone()).unwrap()
}

/// The identity a vector expects: `expected_pv_uid` or `expected_pv_name`.
fn expected(v: &Value) -> Option<(&'static str, String)> {
    if let Some(uid) = v.get("expected_pv_uid").and_then(Value::as_str) {
        return Some(("uid", uid.to_owned()));
    }
    v.get("expected_pv_name")
        .and_then(Value::as_str)
        .map(|n| ("name", n.to_owned()))
}

fn identity(how: &str, pv: &PersistentVolume) -> String {
    match how {
        "uid" => pv.metadata.uid.clone().unwrap_or_default(),
        _ => pv.metadata.name.clone().unwrap_or_default(),
    }
}

fn check_result(v: &Value, what: &str, got: Option<&PersistentVolume>) {
    let want_match = v
        .get("expected_match")
        .and_then(Value::as_bool)
        .unwrap_or_else(|| expected(v).is_some());
    match (want_match, got, expected(v)) {
        (false, None, _) => {}
        (true, Some(pv), Some((how, id))) => {
            assert_eq!(identity(how, pv), id, "{what}: {}: wrong volume", label(v))
        }
        (true, Some(_), None) => {}
        (w, g, _) => panic!(
            "{what}: {}: expected match={w}, got {:?}",
            label(v),
            g.map(|p| p.metadata.name.clone())
        ),
    }
}

#[test]
fn find_best_match() {
    let all = load();
    let cases = group(&all, "find_best_match");
    assert!(!cases.is_empty());
    for v in cases {
        let volumes = pvs(v);
        let claim = claim(v);
        let delay = v["delay_binding"].as_bool().unwrap();
        let index = VolumeIndex::from_volumes(volumes.clone());
        check_result(v, "index", index.find_best_match(&claim, delay).unwrap());
        check_result(
            v,
            "linear",
            find_best_match_linear(&claim, &volumes, delay, false).unwrap(),
        );
    }
}

#[test]
fn find_matching_volume_with_node() {
    let all = load();
    let cases = group(&all, "find_matching_volume_with_node");
    assert!(!cases.is_empty());
    for v in cases {
        let volumes = pvs(v);
        let claim = claim(v);
        let node: Node = serde_json::from_value(v["node"].clone()).unwrap();
        let excluded: HashSet<String> =
            serde_json::from_value(v["excluded_volume_names"].clone()).unwrap();
        let vac = v["feature_gates"]["VolumeAttributesClass"]
            .as_bool()
            .unwrap();
        let want_error = v["expect_error"].as_bool().unwrap();
        let index = VolumeIndex::from_volumes(volumes.clone()).with_volume_attributes_class(vac);
        let opts = MatchOptions {
            node: Some(&node),
            excluded: Some(&excluded),
            delay_binding: v["delay_binding"].as_bool().unwrap(),
            volume_attributes_class: vac,
        };
        let linear = find_matching_volume(&claim, &volumes, &opts);
        let indexed = index.find_for_node(&claim, &node, &excluded);
        for (what, got) in [("linear", linear), ("index", indexed)] {
            match got {
                Err(e) => assert!(want_error, "{what}: {}: unexpected error {e}", label(v)),
                Ok(found) => {
                    assert!(!want_error, "{what}: {}: expected an error", label(v));
                    check_result(v, what, found);
                }
            }
        }
    }
}

#[test]
fn check_volume_satisfy_claim_vectors() {
    let all = load();
    let cases = group(&all, "check_volume_satisfy_claim");
    assert!(!cases.is_empty());
    for v in cases {
        let pv: PersistentVolume = serde_json::from_value(v["pv"].clone()).unwrap();
        let claim = claim(v);
        let want = v["satisfies"].as_bool().unwrap();
        let got = check_volume_satisfy_claim(&pv, &claim);
        assert_eq!(got.is_ok(), want, "{}: got {got:?}", label(v));
    }
}

#[test]
fn volume_mode_mismatch_vectors() {
    let all = load();
    let cases = group(&all, "volume_mode_mismatch");
    assert!(!cases.is_empty());
    for v in cases {
        let claim_mode = v["pvc_volumeMode"].as_str();
        let pv_mode = v["pv_volumeMode"].as_str();
        let want = v["mismatch"].as_bool().unwrap();
        assert_eq!(
            volume_mode_mismatch(claim_mode, pv_mode),
            want,
            "{}",
            label(v)
        );
        // Through whole objects too: the claim must not match a volume of another mode.
        let pv = PersistentVolume {
            spec: Some(PersistentVolumeSpec {
                volume_mode: pv_mode.map(str::to_owned),
                ..Default::default()
            }),
            ..Default::default()
        };
        let claim = PersistentVolumeClaim {
            spec: Some(PersistentVolumeClaimSpec {
                volume_mode: claim_mode.map(str::to_owned),
                ..Default::default()
            }),
            ..Default::default()
        };
        let satisfied = check_volume_satisfy_claim(&pv, &claim).is_ok();
        assert_eq!(satisfied, !want, "{} (objects)", label(v));
    }
}

#[test]
fn check_volume_node_affinity_vectors() {
    let all = load();
    let cases = group(&all, "check_volume_node_affinity");
    assert!(!cases.is_empty());
    for v in cases {
        let pv: PersistentVolume = serde_json::from_value(v["pv"].clone()).unwrap();
        let labels: BTreeMap<String, String> =
            serde_json::from_value(v["node_labels"].clone()).unwrap();
        let want = v["matches"].as_bool().unwrap();
        let got = check_volume_node_affinity(&pv, "", &labels);
        assert_eq!(got.is_ok(), want, "{}: got {got:?}", label(v));
    }
}

#[test]
fn pvc_has_class_vectors() {
    // The group is present (and may be empty in this sample); every vector it holds is
    // checked against `claim_class`.
    let all = load();
    for v in group(&all, "pvc_has_class") {
        let claim = claim(v);
        let want = v["expected_class"].as_str().unwrap_or("");
        assert_eq!(
            kybern_storage::annotations::claim_class(&claim),
            want,
            "{}",
            label(v)
        );
    }
}

//! Runs every vector of `shared/vectors/label_selectors.json` through the label selector API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use kybern_core::api::meta::v1::LabelSelector;
use kybern_core::labels::{self, Operator, Requirement, Selector};
use kybern_core::validation::field::FieldPath;
use serde_json::Value;

const FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/vectors/label_selectors.json"
);

fn load() -> Value {
    let text = std::fs::read_to_string(FILE)
        .unwrap_or_else(|e| panic!("vectors file {FILE} is missing or unreadable: {e}"));
    serde_json::from_str(&text).expect("vectors file is not JSON")
}

fn name(v: &Value) -> String {
    format!(
        "[from {} / {}]",
        v["from"].as_str().unwrap_or("?"),
        v.get("name")
            .or(v.get("selector"))
            .map(|n| n.to_string())
            .unwrap_or_default()
    )
}

/// A label set as objects hold it (`labels::Set`, the `LabelMap` of `metadata.labels`).
fn labels_of(v: &Value) -> labels::Set {
    serde_json::from_value(v.clone()).unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    serde_json::from_value(v.clone()).unwrap()
}

/// Builds requirements from the vector form through the validated constructor.
fn requirements_of(v: &Value) -> Vec<Requirement> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            Requirement::from_operator_str(
                r["key"].as_str().unwrap(),
                r["operator"].as_str().unwrap(),
                strings(&r["values"]),
                &FieldPath::root(),
            )
            .unwrap_or_else(|e| panic!("requirement {r} rejected: {e}"))
        })
        .collect()
}

/// Runs one group: every vector through `f`, panicking with the vector's name on failure.
fn check(doc: &Value, group: &str, f: impl Fn(&Value, &str)) -> usize {
    let vectors = doc[group]
        .as_array()
        .unwrap_or_else(|| panic!("group {group} missing from {FILE}"));
    for v in vectors {
        f(v, &name(v));
    }
    vectors.len()
}

fn parse_valid(v: &Value, n: &str) {
    let input = v["selector"].as_str().unwrap();
    let sel = Selector::parse(input).unwrap_or_else(|e| panic!("{n}: parse failed: {e}"));
    if let Some(c) = v.get("canonical") {
        assert_eq!(sel.to_string(), c.as_str().unwrap(), "{n}: canonical form");
    }
    if let Some(reqs) = v.get("requirements") {
        let want = requirements_of(reqs);
        assert_eq!(
            sel.requirements().unwrap(),
            want.as_slice(),
            "{n}: requirements"
        );
    }
    if let Some(m) = v.get("matches_nothing") {
        assert_eq!(
            sel.matches_nothing(),
            m.as_bool().unwrap(),
            "{n}: matches_nothing"
        );
    }
    let again = Selector::parse(&sel.to_string())
        .unwrap_or_else(|e| panic!("{n}: canonical form {sel} does not re-parse: {e}"));
    assert_eq!(again, sel, "{n}: re-parse of canonical form");
}

fn parse_error(v: &Value, n: &str) {
    let input = v["selector"].as_str().unwrap();
    assert!(v["parse_error"].as_bool().unwrap(), "{n}: vector shape");
    let err = Selector::parse(input).expect_err(&format!("{n}: parsed but should not"));
    assert!(
        err.to_string().contains("expected") || err.to_string().contains("Invalid value"),
        "{n}: message {err}"
    );
    assert!(err.position() <= input.len(), "{n}: position out of range");
}

fn match_vector(v: &Value, n: &str) {
    let sel = Selector::parse(v["selector"].as_str().unwrap()).unwrap();
    let labels = labels_of(&v["labels"]);
    let want = v["matches"].as_bool().unwrap();
    assert_eq!(sel.matches(&labels), want, "{n}: LabelMap");
    let btree: BTreeMap<String, String> = labels.clone().into();
    assert_eq!(sel.matches(&btree), want, "{n}: BTreeMap");
    let hash: std::collections::HashMap<String, String> = labels.clone().into_iter().collect();
    assert_eq!(sel.matches(&hash), want, "{n}: HashMap");
    let pairs: Vec<(&str, &str)> = labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(sel.matches(pairs.as_slice()), want, "{n}: slice of pairs");
}

fn set_selector_match(v: &Value, n: &str) {
    let sel = labels::selector_from_set(&labels_of(&v["selector_set"]));
    let want = v["matches"].as_bool().unwrap();
    assert_eq!(sel.matches(&labels_of(&v["labels"])), want, "{n}");
}

fn requirement_matching(v: &Value, n: &str) {
    let sel = Selector::from_requirements(requirements_of(&v["requirements"]));
    let want = v["matches"].as_bool().unwrap();
    assert_eq!(sel.matches(&labels_of(&v["labels"])), want, "{n}");
}

fn requirements_to_string(v: &Value, n: &str) {
    let reqs = requirements_of(&v["requirements"]);
    let joined: Vec<String> = reqs.iter().map(ToString::to_string).collect();
    let want = v["string"].as_str().unwrap();
    assert_eq!(joined.join(","), want, "{n}");
    // The vectors list keys in sorted order, so a selector of them prints the same.
    assert_eq!(
        Selector::from_requirements(reqs).to_string(),
        want,
        "{n}: selector"
    );
}

fn new_requirement(v: &Value, n: &str) {
    let res = Requirement::from_operator_str(
        v["key"].as_str().unwrap(),
        v["operator"].as_str().unwrap(),
        strings(&v["values"]),
        &FieldPath::root(),
    );
    let valid = v["valid"].as_bool().unwrap();
    match (res, valid) {
        (Ok(r), true) => {
            assert_eq!(r.key(), v["key"].as_str().unwrap(), "{n}");
            assert_eq!(
                r.operator().as_str(),
                v["operator"].as_str().unwrap(),
                "{n}"
            );
        }
        (Ok(_), false) => panic!("{n}: accepted but should be rejected"),
        (Err(e), true) => panic!("{n}: rejected: {e}"),
        (Err(e), false) => {
            let field = v["error_field"].as_str().unwrap();
            let kind = v["error_type"].as_str().unwrap();
            assert!(
                e.0.iter()
                    .any(|fe| fe.field.as_str() == field && fe.error_type.reason() == kind),
                "{n}: no {kind} error at {field:?} in {e}"
            );
        }
    }
}

fn validated_selector_from_set(v: &Value, n: &str) {
    let res = labels::validated_selector_from_set(&labels_of(&v["labels"]));
    assert_eq!(res.is_ok(), v["valid"].as_bool().unwrap(), "{n}: {res:?}");
}

fn label_set_string(v: &Value, n: &str) {
    let set = labels_of(&v["labels"]);
    let want = v["string"].as_str().unwrap();
    assert_eq!(labels::set_to_string(&set), want, "{n}");
    assert_eq!(
        labels::selector_from_set(&set).to_string(),
        want,
        "{n}: as selector"
    );
}

fn label_set_has(v: &Value, n: &str) {
    use kybern_core::labels::Labels;
    let set = labels_of(&v["labels"]);
    let key = v["key"].as_str().unwrap();
    assert_eq!(set.has_label(key), v["has"].as_bool().unwrap(), "{n}");
}

fn label_conflicts(v: &Value, n: &str) {
    let (a, b) = (labels_of(&v["labels1"]), labels_of(&v["labels2"]));
    let want = v["conflict"].as_bool().unwrap();
    assert_eq!(labels::conflicts(&a, &b), want, "{n}");
    assert_eq!(labels::conflicts(&b, &a), want, "{n}: symmetric");
}

fn label_merge(v: &Value, n: &str) {
    let (a, b) = (labels_of(&v["labels1"]), labels_of(&v["labels2"]));
    assert_eq!(labels::merge(&a, &b), labels_of(&v["merged"]), "{n}");
}

fn convert_selector_to_labels_map(v: &Value, n: &str) {
    let res = labels::convert_selector_to_labels_map(v["selector"].as_str().unwrap());
    match (res, v["valid"].as_bool().unwrap()) {
        (Ok(m), true) => assert_eq!(m, labels_of(&v["labels"]), "{n}"),
        (Ok(m), false) => panic!("{n}: accepted as {m:?}"),
        (Err(e), true) => panic!("{n}: rejected: {e}"),
        (Err(_), false) => {}
    }
}

fn label_selector_of(v: &Value) -> Option<LabelSelector> {
    match v {
        Value::Null => None,
        other => Some(serde_json::from_value(other.clone()).unwrap()),
    }
}

fn label_selector_as_selector(v: &Value, n: &str) {
    let ps = label_selector_of(&v["labelSelector"]);
    let sel = labels::label_selector_as_selector(ps.as_ref())
        .unwrap_or_else(|e| panic!("{n}: conversion failed: {e}"));
    if let Some(s) = v.get("string") {
        assert_eq!(sel.to_string(), s.as_str().unwrap(), "{n}: string");
    }
    let any = BTreeMap::from([("foo".to_owned(), "bar".to_owned())]);
    if let Some(m) = v.get("matches_nothing") {
        assert_eq!(
            sel.matches_nothing(),
            m.as_bool().unwrap(),
            "{n}: matches_nothing"
        );
        assert_eq!(
            !sel.matches(&any),
            m.as_bool().unwrap(),
            "{n}: matches nothing"
        );
    }
    if let Some(m) = v.get("matches_everything") {
        assert_eq!(
            sel.is_empty(),
            m.as_bool().unwrap(),
            "{n}: matches_everything"
        );
        assert!(sel.matches(&BTreeMap::<String, String>::new()), "{n}");
    }
}

fn label_selector_as_map(v: &Value, n: &str) {
    let ps = label_selector_of(&v["labelSelector"]);
    let res = labels::label_selector_as_map(ps.as_ref());
    if v.get("error").and_then(Value::as_bool) == Some(true) {
        let e = res.expect_err(&format!("{n}: converted but should not"));
        let want = v["error_contains"].as_str().unwrap();
        assert!(e.to_string().contains(want), "{n}: {e} lacks {want:?}");
    } else {
        let got = res.unwrap_or_else(|e| panic!("{n}: {e}"));
        let want: Option<BTreeMap<String, String>> =
            serde_json::from_value(v["map"].clone()).unwrap();
        assert_eq!(got, want, "{n}");
    }
}

fn validate_label_selector(v: &Value, n: &str) {
    let ps = label_selector_of(&v["labelSelector"]);
    let errs = labels::validate_label_selector(
        ps.as_ref(),
        labels::LabelSelectorValidationOptions::default(),
        &FieldPath::new("spec").child("selector"),
    );
    assert_eq!(
        errs.is_empty(),
        v["valid"].as_bool().unwrap(),
        "{n}: {errs}"
    );
    if let Some(c) = v.get("error_count") {
        assert_eq!(errs.len() as u64, c.as_u64().unwrap(), "{n}: {errs}");
    }
    if let Some(want) = v.get("error_contains").and_then(Value::as_str) {
        assert!(
            errs.to_string().contains(want),
            "{n}: {errs} lacks {want:?}"
        );
    }
}

#[test]
fn label_selector_conversion_vectors() {
    let doc = load();
    let mut total = 0;
    total += check(
        &doc,
        "label_selector_as_selector",
        label_selector_as_selector,
    );
    total += check(&doc, "label_selector_as_map", label_selector_as_map);
    total += check(&doc, "validate_label_selector", validate_label_selector);
    assert!(total >= 9, "only {total} conversion vectors ran");
}

/// Upstream conversion and validation details beyond the vector file: paths and messages.
#[test]
fn label_selector_conversion_details() {
    let ps: LabelSelector = serde_json::from_value(serde_json::json!({
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["b", "a"]},
            {"key": "legacy", "operator": "DoesNotExist"},
        ]
    }))
    .unwrap();
    let sel = labels::label_selector_as_selector(Some(&ps)).unwrap();
    assert_eq!(sel.to_string(), "app=web,!legacy,tier in (a,b)");
    assert_eq!(ps.to_selector().unwrap(), sel);
    assert_eq!(
        labels::format_label_selector(Some(&ps)),
        "app=web,!legacy,tier in (a,b)"
    );
    assert_eq!(labels::format_label_selector(None), "<none>");

    let bad_op: LabelSelector = serde_json::from_value(serde_json::json!({
        "matchExpressions": [{"key": "k", "operator": "Gt", "values": ["1"]}]
    }))
    .unwrap();
    let e = labels::label_selector_as_selector(Some(&bad_op)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "\"Gt\" is not a valid label selector operator"
    );
    assert_eq!(labels::format_label_selector(Some(&bad_op)), "<error>");

    let empty_in: LabelSelector = serde_json::from_value(serde_json::json!({
        "matchExpressions": [{"key": "k", "operator": "In", "values": []}]
    }))
    .unwrap();
    let e = labels::label_selector_as_selector(Some(&empty_in)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty"
    );

    let invalid: LabelSelector = serde_json::from_value(serde_json::json!({
        "matchLabels": {"-bad": "ok"},
        "matchExpressions": [
            {"key": "a", "operator": "In"},
            {"key": "b", "operator": "Exists", "values": ["x"]},
            {"key": "c", "operator": "Gt", "values": ["1"]},
            {"key": "d", "operator": "In", "values": ["a b"]},
        ]
    }))
    .unwrap();
    let path = FieldPath::new("spec").child("selector");
    let errs = labels::validate_label_selector(
        Some(&invalid),
        labels::LabelSelectorValidationOptions::default(),
        &path,
    );
    let got: Vec<(String, &str)> = errs
        .iter()
        .map(|e| (e.field.to_string(), e.error_type.reason()))
        .collect();
    let want = [
        ("spec.selector.matchLabels", "FieldValueInvalid"),
        (
            "spec.selector.matchExpressions[0].values",
            "FieldValueRequired",
        ),
        (
            "spec.selector.matchExpressions[1].values",
            "FieldValueForbidden",
        ),
        (
            "spec.selector.matchExpressions[2].operator",
            "FieldValueInvalid",
        ),
        (
            "spec.selector.matchExpressions[3].values[0]",
            "FieldValueInvalid",
        ),
    ];
    let want: Vec<(String, &str)> = want.iter().map(|(p, r)| ((*p).to_owned(), *r)).collect();
    assert_eq!(got, want, "{errs}");
    let lenient = labels::validate_label_selector(
        Some(&invalid),
        labels::LabelSelectorValidationOptions {
            allow_invalid_label_value_in_selector: true,
        },
        &path,
    );
    assert_eq!(lenient.len(), 4, "{lenient}");
    assert!(labels::validate_label_selector(None, Default::default(), &path).is_empty());
}

/// Groups that need `metav1.LabelSelector`, run by `label_selector_conversion_vectors`.
const CONVERSION_GROUPS: [&str; 3] = [
    "label_selector_as_selector",
    "label_selector_as_map",
    "validate_label_selector",
];

#[test]
fn every_group_is_covered() {
    let doc = load();
    let known = [
        "source",
        "description",
        "parse_valid",
        "parse_error",
        "match",
        "set_selector_match",
        "requirement_matching",
        "requirements_to_string",
        "new_requirement",
        "validated_selector_from_set",
        "label_set_string",
        "label_set_has",
        "label_conflicts",
        "label_merge",
        "convert_selector_to_labels_map",
    ];
    for key in doc.as_object().unwrap().keys() {
        assert!(
            known.contains(&key.as_str()) || CONVERSION_GROUPS.contains(&key.as_str()),
            "group {key} in {FILE} has no test"
        );
    }
}

#[test]
fn string_selector_vectors() {
    let doc = load();
    let mut total = 0;
    total += check(&doc, "parse_valid", parse_valid);
    total += check(&doc, "parse_error", parse_error);
    total += check(&doc, "match", match_vector);
    total += check(&doc, "set_selector_match", set_selector_match);
    total += check(&doc, "requirement_matching", requirement_matching);
    total += check(&doc, "requirements_to_string", requirements_to_string);
    total += check(&doc, "new_requirement", new_requirement);
    total += check(
        &doc,
        "validated_selector_from_set",
        validated_selector_from_set,
    );
    assert!(total >= 60, "only {total} string selector vectors ran");
}

#[test]
fn label_set_vectors() {
    let doc = load();
    let mut total = 0;
    total += check(&doc, "label_set_string", label_set_string);
    total += check(&doc, "label_set_has", label_set_has);
    total += check(&doc, "label_conflicts", label_conflicts);
    total += check(&doc, "label_merge", label_merge);
    total += check(
        &doc,
        "convert_selector_to_labels_map",
        convert_selector_to_labels_map,
    );
    assert!(total >= 15, "only {total} label set vectors ran");
}

/// Upstream behaviour beyond the vector file: messages, positions, everything/nothing.
#[test]
fn upstream_details() {
    struct Case {
        input: &'static str,
        error: &'static str,
        position: usize,
    }
    let cases = [
        Case {
            input: "x==a==b",
            error: "found '==', expected: ',' or 'end of string'",
            position: 4,
        },
        Case {
            input: ",x,y",
            error: "found ',', expected: !, identifier, or 'end of string'",
            position: 0,
        },
        Case {
            input: "a in (xyz),",
            error: "found '', expected: identifier after ','",
            position: 11,
        },
        Case {
            input: "x nott in (y)",
            error: "unable to parse requirement: found 'nott', expected: in, notin, =, ==, !=, gt, lt",
            position: 2,
        },
        Case {
            input: "a notin(",
            error: "unable to parse requirement: found '', expected: ',', ')' or identifier",
            position: 8,
        },
        Case {
            input: "a in (xyz abc)",
            error: "unable to parse requirement: found 'abc', expected: ',' or ')'",
            position: 10,
        },
        Case {
            input: "!x=a",
            error: "found '=', expected: ',' or 'end of string'",
            position: 2,
        },
        Case {
            input: "x<a",
            error: "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an integer",
            position: 0,
        },
        Case {
            input: "x=a b",
            error: "found 'b', expected: ',' or 'end of string'",
            position: 4,
        },
    ];
    for c in cases {
        let e = Selector::parse(c.input).unwrap_err();
        assert_eq!(e.to_string(), c.error, "{:?}", c.input);
        assert_eq!(e.position(), c.position, "{:?}: position", c.input);
    }

    let key_err = Selector::parse("-key=a").unwrap_err().to_string();
    assert!(
        key_err.starts_with("unable to parse requirement: <nil>: Invalid value: \"-key\": name part must consist of alphanumeric characters"),
        "{key_err}"
    );
    let pipes = Selector::parse("x=a||y=b").unwrap_err().to_string();
    assert!(
        pipes.starts_with("unable to parse requirement: values[0][x]: Invalid value: \"a||y\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex"),
        "{pipes}"
    );
    let value_err = Selector::parse("k=a_").unwrap_err().to_string();
    assert!(
        value_err.starts_with("unable to parse requirement: values[0][k]: Invalid value: \"a_\""),
        "{value_err}"
    );

    let empty = BTreeMap::<String, String>::new();
    assert!(Selector::everything().matches(&empty));
    assert!(Selector::everything().is_empty());
    assert!(!Selector::nothing().matches(&empty));
    assert!(!Selector::nothing().is_empty());
    assert!(Selector::nothing().matches_nothing());
    assert_ne!(Selector::everything(), Selector::nothing());
    assert_eq!(Selector::parse("").unwrap(), Selector::everything());
    assert!(Selector::nothing().requirements().is_none());
    assert!(
        Selector::nothing()
            .add([Requirement::new("a", Operator::Exists, vec![]).unwrap()])
            .matches_nothing()
    );

    let sel = Selector::parse("b in (y),a=x,c in (p,q)").unwrap();
    assert_eq!(sel.requires_exact_match("a"), Some("x"));
    assert_eq!(sel.requires_exact_match("b"), Some("y"));
    assert_eq!(sel.requires_exact_match("c"), None);
    assert_eq!(sel.requires_exact_match("d"), None);
    let added = sel.add([Requirement::new("aa", Operator::DoesNotExist, vec![]).unwrap()]);
    assert_eq!(added.to_string(), "a=x,!aa,b in (y),c in (p,q)");

    // gt/lt: both sides must be integers; absent keys never match.
    let gt = Selector::parse("n>5").unwrap();
    for (value, want) in [
        ("6", true),
        ("5", false),
        ("+7", true),
        ("-9", false),
        ("v6", false),
    ] {
        let l = BTreeMap::from([("n".to_owned(), value.to_owned())]);
        assert_eq!(gt.matches(&l), want, "n>5 vs {value}");
    }
    assert!(!gt.matches(&empty));
    // Unsorted values from the constructor print sorted, as upstream.
    let r = Requirement::new("k", Operator::In, vec!["b".into(), "a".into()]).unwrap();
    assert_eq!(r.to_string(), "k in (a,b)");
    assert_eq!(r.values(), ["b", "a"]);
}

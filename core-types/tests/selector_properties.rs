//! Property tests: no selector parser panics on arbitrary input, and generated valid selectors
//! round-trip through their canonical string form.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use kybern_core::fields::{self, FieldSelector};
use kybern_core::labels::{Operator, Requirement, Selector};
use proptest::prelude::*;

fn label_name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9]([-a-zA-Z0-9_.]{0,8}[a-zA-Z0-9])?"
}

fn label_key() -> impl Strategy<Value = String> {
    (
        prop::option::of("[a-z0-9]([-a-z0-9]{0,5}[a-z0-9])?(\\.[a-z0-9]{1,4}){0,2}"),
        label_name(),
    )
        .prop_map(|(prefix, name)| match prefix {
            Some(p) => format!("{p}/{name}"),
            None => name,
        })
}

fn label_value() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), label_name()]
}

fn requirement() -> impl Strategy<Value = Requirement> {
    let op = prop::sample::select(Operator::ALL.to_vec());
    (
        label_key(),
        op,
        prop::collection::btree_set(label_value(), 1..4),
        any::<i32>(),
    )
        .prop_map(|(key, op, set, n)| {
            let values: Vec<String> = match op {
                Operator::Exists | Operator::DoesNotExist => vec![],
                Operator::In | Operator::NotIn => set.into_iter().collect(),
                Operator::GreaterThan | Operator::LessThan => vec![n.unsigned_abs().to_string()],
                _ => vec![set.into_iter().next().unwrap_or_default()],
            };
            Requirement::new(key, op, values).unwrap()
        })
}

/// Requirements on keys drawn mostly from `keys` (so they hit), with random operators/values.
fn requirements_on(keys: Vec<String>) -> impl Strategy<Value = Vec<Requirement>> {
    let key = if keys.is_empty() {
        label_key().boxed()
    } else {
        prop_oneof![3 => prop::sample::select(keys), 1 => label_key()].boxed()
    };
    let value = prop_oneof![label_value(), Just("v".to_owned())];
    prop::collection::vec(
        (key, prop::sample::select(Operator::ALL.to_vec()), value),
        0..6,
    )
    .prop_map(|reqs| {
        reqs.into_iter()
            .map(|(key, op, v)| {
                let values = match op {
                    Operator::Exists | Operator::DoesNotExist => vec![],
                    Operator::GreaterThan | Operator::LessThan => vec!["5".to_owned()],
                    _ => vec![v],
                };
                Requirement::new(key, op, values).unwrap()
            })
            .collect()
    })
}

fn labels_and_requirements() -> impl Strategy<Value = (BTreeMap<String, String>, Vec<Requirement>)>
{
    let value = prop_oneof![label_value(), Just("v".to_owned()), Just("7".to_owned())];
    prop::collection::btree_map(label_key(), value, 0..12).prop_flat_map(|labels| {
        let keys: Vec<String> = labels.keys().cloned().collect();
        (Just(labels), requirements_on(keys))
    })
}

proptest! {
    /// The `BTreeMap` two-ended merged walk answers exactly as one lookup per requirement, for
    /// sorted requirements (through `Selector`) and unsorted ones (straight to `matches_all`).
    #[test]
    fn btreemap_walk_agrees_with_lookups((labels, reqs) in labels_and_requirements()) {
        use kybern_core::labels::Labels;
        let want = reqs.iter().all(|r| r.matches_value(labels.get(r.key()).map(String::as_str)));
        prop_assert_eq!(labels.matches_all(&reqs), want);
        let sel = Selector::from_requirements(reqs);
        let sorted = sel.requirements().unwrap();
        let want = sorted.iter().all(|r| r.matches_value(labels.get(r.key()).map(String::as_str)));
        prop_assert_eq!(sel.matches(&labels), want);
    }

    #[test]
    fn label_parser_never_panics(s in "\\PC*") {
        let _ = Selector::parse(&s);
    }

    #[test]
    fn label_parser_never_panics_on_selector_alphabet(s in "[a-z!=(),<> \t\r\n\\x00in]{0,40}") {
        if let Ok(sel) = Selector::parse(&s) {
            let again = Selector::parse(&sel.to_string()).unwrap();
            prop_assert_eq!(again, sel);
        }
    }

    #[test]
    fn label_selector_round_trips(reqs in prop::collection::vec(requirement(), 0..6)) {
        let sel = Selector::from_requirements(reqs);
        let text = sel.to_string();
        let again = Selector::parse(&text).unwrap();
        prop_assert_eq!(&again, &sel, "{}", text);
    }

    #[test]
    fn matching_agrees_across_label_containers(
        reqs in prop::collection::vec(requirement(), 0..4),
        labels in prop::collection::btree_map(label_key(), label_value(), 0..6),
    ) {
        let sel = Selector::from_requirements(reqs);
        let hash: std::collections::HashMap<String, String> = labels.clone().into_iter().collect();
        let pairs: Vec<(String, String)> = labels.clone().into_iter().collect();
        let want = sel.matches(&labels);
        prop_assert_eq!(sel.matches(&hash), want);
        prop_assert_eq!(sel.matches(&pairs), want);
    }

    #[test]
    fn field_parser_never_panics(s in "\\PC*") {
        let _ = FieldSelector::parse(&s);
        let _ = fields::unescape_value(&s);
        let _ = fields::split_term(&s);
    }

    #[test]
    fn field_selector_round_trips(terms in prop::collection::btree_map("[a-z.]{1,10}", "\\PC{0,10}", 0..5)) {
        let sel = FieldSelector::from_set(&terms);
        let again = FieldSelector::parse(&sel.to_string()).unwrap();
        let fields: BTreeMap<String, String> = terms.clone();
        prop_assert!(again.matches(&fields));
        // Parsing sorts the raw terms, so the canonical form is a fixed point after one parse.
        let third = FieldSelector::parse(&again.to_string()).unwrap();
        prop_assert_eq!(third, again);
    }

    #[test]
    fn escape_round_trips(s in "\\PC*") {
        prop_assert_eq!(fields::unescape_value(&fields::escape_value(&s)).unwrap(), s);
    }
}

/// Edge cases of the two-ended `BTreeMap` walk, each checked against one lookup per
/// requirement: the entry the forward walk stopped on is the one the backward walk needs, the
/// walks meet in the middle, one side only, empty maps and keys, repeated keys.
#[test]
fn btreemap_walk_edge_cases() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("n", "v")], "!b,n=v"),
        (&[("n", "v")], "b!=x,n"),
        (&[("c", "1"), ("n", "v")], "c=1,n=v"),
        (&[("c", "1"), ("n", "v"), ("z", "2")], "c,!d,n=v,z in (2)"),
        (&[("a", "1"), ("b", "2"), ("y", "3"), ("z", "4")], "b=2,y=3"),
        (&[("a", "1"), ("b", "2"), ("y", "3"), ("z", "4")], "a,b,y,z"),
        (&[("a", "1"), ("b", "2"), ("y", "3"), ("z", "4")], "!c,!x"),
        (&[("x", "1"), ("y", "2")], "a!=1,x=1,y=2"),
        (&[("x", "1"), ("y", "2")], "!m,y"),
        (&[("a", "1"), ("b", "2")], "b=2,z!=3"),
        (&[("a", "1"), ("b", "2")], "b=2,z"),
        (&[], "!a,!z"),
        (&[], "z"),
        (&[("m", "1"), ("n", "2")], "m=1,m!=2,n=2,n in (2,3)"),
        (
            &[("app", "web"), ("tier", "frontend")],
            "app=web,tier in (frontend),env!=prod",
        ),
    ];
    for (labels, selector) in cases {
        let map: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let sel = Selector::parse(selector).unwrap();
        let want = sel
            .requirements()
            .unwrap()
            .iter()
            .all(|r| r.matches_value(map.get(r.key()).map(String::as_str)));
        assert_eq!(sel.matches(&map), want, "{selector:?} against {labels:?}");
    }
}

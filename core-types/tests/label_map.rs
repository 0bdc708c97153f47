//! `LabelMap` against `BTreeMap<String, String>`: the same contents after any edits, the same
//! wire form, and the same selector answers as the `BTreeMap` walk and a slice of pairs — on
//! arbitrary strings chosen to make the cached 8-byte heads tie (shared prefixes, keys of
//! exactly 8 and 9 bytes, empty strings, NUL bytes, non-ASCII).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use kybern_core::labels::{LabelMap, Labels, Operator, Requirement, Selector};
use proptest::prelude::*;

/// Pieces whose concatenations share long prefixes and straddle the 8-byte head boundary.
const PIECES: &[&str] = &[
    "",
    "a",
    "ab",
    "app",
    "app.kube",
    "app.kubernetes.io/",
    "name",
    "\0",
    "\u{e9}",
    "abcdefgh",
    "abcdefghi",
    "x",
    "7",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::collection::vec(prop::sample::select(PIECES), 0..4).prop_map(|p| p.concat()),
        1 => "[a\\x00\u{e9}b]{0,10}",
        1 => "\\PC{0,12}",
        1 => "-?[0-9]{1,3}",
    ]
}

fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec((text(), text()), 0..14)
}

/// Requirements of every operator on keys mostly drawn from `keys`, with arbitrary values
/// (built unchecked, so any string and any value count).
fn requirements_on(keys: Vec<String>) -> impl Strategy<Value = Vec<Requirement>> {
    // Near misses of present strings too: one NUL byte longer (the same head when short), one
    // character shorter.
    let key = if keys.is_empty() {
        text().boxed()
    } else {
        let near = prop::sample::select(keys.clone()).prop_map(|mut k| {
            if k.pop().is_none() {
                k.push('\0');
            }
            k
        });
        prop_oneof![
            3 => prop::sample::select(keys.clone()),
            1 => prop::sample::select(keys).prop_map(|k| k + "\0"),
            1 => near,
            1 => text(),
        ]
        .boxed()
    };
    // Values come from the same pool (label values are in it), plus arbitrary text.
    let value = prop_oneof![text(), key.clone()];
    prop::collection::vec(
        (
            key,
            prop::sample::select(Operator::ALL.to_vec()),
            prop::collection::vec(value, 0..5),
        ),
        0..6,
    )
    .prop_map(|reqs| {
        reqs.into_iter()
            .map(|(key, op, values)| Requirement::new_unchecked(key, op, values))
            .collect()
    })
}

fn labels_and_requirements() -> impl Strategy<Value = (Vec<(String, String)>, Vec<Requirement>)> {
    pairs().prop_flat_map(|pairs| {
        // Values of the labels too, so `=`/`in` requirements hit.
        let keys: Vec<String> = pairs
            .iter()
            .flat_map(|(k, v)| [k.clone(), v.clone()])
            .collect();
        (Just(pairs), requirements_on(keys))
    })
}

/// The answer of one plain lookup per requirement in a `BTreeMap`.
fn oracle(map: &BTreeMap<String, String>, reqs: &[Requirement]) -> bool {
    reqs.iter()
        .all(|r| r.matches_value(map.get(r.key()).map(String::as_str)))
}

/// Checks every container and strategy against the oracle, for `reqs` as given (unsorted) and
/// through a `Selector` (sorted).
fn check_agreement(pairs: &[(String, String)], reqs: Vec<Requirement>) -> Result<(), String> {
    let map: LabelMap = pairs.iter().cloned().collect();
    let btree: BTreeMap<String, String> = pairs.iter().cloned().collect();
    let slice: Vec<(String, String)> = btree.clone().into_iter().collect();
    let want = oracle(&btree, &reqs);
    let got = [
        ("LabelMap", map.matches_all(&reqs)),
        ("BTreeMap", btree.matches_all(&reqs)),
        ("slice", slice.as_slice().matches_all(&reqs)),
    ];
    for (name, g) in got {
        if g != want {
            return Err(format!("{name} unsorted: {g}, want {want}"));
        }
    }
    let sel = Selector::from_requirements(reqs);
    let want = oracle(&btree, sel.requirements().unwrap());
    let got = [
        ("LabelMap", sel.matches(&map)),
        ("BTreeMap", sel.matches(&btree)),
        ("slice", sel.matches(slice.as_slice())),
    ];
    for (name, g) in got {
        if g != want {
            return Err(format!("{name} via {sel:?}: {g}, want {want}"));
        }
    }
    Ok(())
}

/// One edit of a label set, applied to both containers.
#[derive(Debug, Clone)]
enum Edit {
    Insert(String, String),
    Remove(String),
    Retain(String),
    Extend(Vec<(String, String)>),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (text(), text()).prop_map(|(k, v)| Edit::Insert(k, v)),
        2 => text().prop_map(Edit::Remove),
        1 => text().prop_map(Edit::Retain),
        1 => pairs().prop_map(Edit::Extend),
    ]
}

proptest! {
    /// `LabelMap` matching (merged walk over heads, and lookups for unsorted requirements)
    /// answers exactly as the `BTreeMap` walk, a slice of pairs and one lookup per requirement.
    #[test]
    fn matching_agrees_with_btreemap_and_slices((pairs, reqs) in labels_and_requirements()) {
        check_agreement(&pairs, reqs).map_err(TestCaseError::fail)?;
    }

    /// Any sequence of edits leaves a `LabelMap` equal to the `BTreeMap` given the same edits:
    /// contents, order, lookups, encoding and the round trip through JSON.
    #[test]
    fn edits_agree_with_btreemap(start in pairs(), edits in prop::collection::vec(edit(), 0..12)) {
        let mut map: LabelMap = start.iter().cloned().collect();
        let mut btree: BTreeMap<String, String> = start.into_iter().collect();
        for e in edits {
            match e {
                Edit::Insert(k, v) => {
                    prop_assert_eq!(map.insert(k.clone(), v.clone()), btree.insert(k, v));
                }
                Edit::Remove(k) => prop_assert_eq!(map.remove(&k), btree.remove(&k)),
                Edit::Retain(prefix) => {
                    map.retain(|k, _| !k.starts_with(prefix.as_str()));
                    btree.retain(|k, _| !k.starts_with(prefix.as_str()));
                }
                Edit::Extend(more) => {
                    map.extend(more.clone());
                    btree.extend(more);
                }
            }
            prop_assert_eq!(&map, &btree);
        }
        prop_assert_eq!(map.len(), btree.len());
        for k in btree.keys() {
            prop_assert_eq!(map.get(k), btree.get(k));
            prop_assert!(map.contains_key(k));
        }
        let json = serde_json::to_string(&map).unwrap();
        prop_assert_eq!(&json, &serde_json::to_string(&btree).unwrap());
        prop_assert_eq!(serde_json::from_str::<LabelMap>(&json).unwrap(), map.clone());
        prop_assert_eq!(BTreeMap::from(map), btree);
    }
}

/// A label set and requirements (`key`, operator, values) for a table case.
type TieCase<'a> = (
    &'a [(&'a str, &'a str)],
    &'a [(&'a str, Operator, &'a [&'a str])],
);

/// Cases where the cached heads tie or nearly tie, each checked on all three containers.
#[test]
fn head_tie_cases() {
    let cases: &[TieCase<'_>] = &[
        // Keys sharing the first 8 bytes: decided past the head.
        (
            &[
                ("app.kubernetes.io/name", "web"),
                ("app.kubernetes.io/version", "1"),
            ],
            &[
                ("app.kubernetes.io/name", Operator::Equals, &["web"]),
                ("app.kubernetes.io/part-of", Operator::DoesNotExist, &[]),
                ("app.kubernetes.io/version", Operator::In, &["1", "2"]),
            ],
        ),
        // A key of exactly 8 bytes and one of 9 with the same head.
        (
            &[("abcdefgh", "1"), ("abcdefghi", "2")],
            &[
                ("abcdefgh", Operator::Equals, &["1"]),
                ("abcdefghi", Operator::Equals, &["2"]),
            ],
        ),
        (
            &[("abcdefghi", "2")],
            &[("abcdefgh", Operator::Exists, &[])],
        ),
        (
            &[("abcdefgh", "2")],
            &[("abcdefghi", Operator::NotEquals, &["2"])],
        ),
        // Zero padding: "a" and "a\0" have the same head and differ only in length.
        (
            &[("a", "x"), ("a\0", "y")],
            &[
                ("a", Operator::Equals, &["x"]),
                ("a\0", Operator::Equals, &["y"]),
                ("a\0\0", Operator::DoesNotExist, &[]),
            ],
        ),
        (&[("a\0", "y")], &[("a", Operator::Exists, &[])]),
        // Values whose heads tie: equal for 8 bytes, then differing, and NUL-padded lookalikes.
        (
            &[("k", "abcdefgh-1")],
            &[("k", Operator::In, &["abcdefgh-2", "abcdefgh"])],
        ),
        (
            &[("k", "abcdefgh-1")],
            &[("k", Operator::NotIn, &["abcdefgh-2"])],
        ),
        // Values past the ones with cached heads.
        (
            &[("k", "abcdefgh-3")],
            &[("k", Operator::In, &["a", "abcdefgh-1", "abcdefgh-3"])],
        ),
        (
            &[("k", "c")],
            &[("k", Operator::NotIn, &["a", "b", "c", "d"])],
        ),
        (&[("k", "v")], &[("k", Operator::Equals, &["v\0"])]),
        (&[("k", "v\0")], &[("k", Operator::NotEquals, &["v"])]),
        // Empty key and empty value.
        (
            &[("", ""), ("b", "")],
            &[
                ("", Operator::Equals, &[""]),
                ("b", Operator::In, &["", "x"]),
            ],
        ),
        // Non-ASCII bytes sort after ASCII ones.
        (
            &[("z", "1"), ("\u{e9}t\u{e9}", "\u{e9}")],
            &[
                ("z", Operator::Exists, &[]),
                ("\u{e9}t\u{e9}", Operator::Equals, &["\u{e9}"]),
            ],
        ),
        // gt/lt on a shared-prefix key.
        (
            &[("app.kubernetes.io/n", "5"), ("app.kubernetes.io/m", "x")],
            &[
                ("app.kubernetes.io/m", Operator::GreaterThan, &["1"]),
                ("app.kubernetes.io/n", Operator::LessThan, &["9"]),
            ],
        ),
    ];
    for (labels, reqs) in cases {
        let pairs: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let reqs: Vec<Requirement> = reqs
            .iter()
            .map(|(k, op, vs)| {
                Requirement::new_unchecked(*k, *op, vs.iter().map(|v| (*v).to_owned()).collect())
            })
            .collect();
        if let Err(e) = check_agreement(&pairs, reqs.clone()) {
            panic!("{labels:?} / {reqs:?}: {e}");
        }
        // Every requirement alone, in both answers.
        for r in reqs {
            let one = vec![r];
            if let Err(e) = check_agreement(&pairs, one.clone()) {
                panic!("{labels:?} / {one:?}: {e}");
            }
        }
    }
}

/// The table's labels hit and miss as written (the table above checks agreement only).
#[test]
fn head_tie_answers() {
    let map = LabelMap::from([
        ("abcdefgh", "1"),
        ("abcdefghi", "2"),
        ("a", "x"),
        ("a\0", "y"),
    ]);
    let hits = [
        Requirement::new_unchecked("abcdefgh", Operator::Equals, vec!["1".into()]),
        Requirement::new_unchecked("abcdefghi", Operator::Equals, vec!["2".into()]),
        Requirement::new_unchecked("a", Operator::Equals, vec!["x".into()]),
        Requirement::new_unchecked("a\0", Operator::NotEquals, vec!["y\0".into()]),
        Requirement::new_unchecked("a\0\0", Operator::DoesNotExist, vec![]),
    ];
    assert!(Selector::from_requirements(hits.to_vec()).matches(&map));
    let misses = [
        Requirement::new_unchecked("abcdefgh", Operator::Equals, vec!["2".into()]),
        Requirement::new_unchecked("a\0", Operator::Equals, vec!["y\0".into()]),
        Requirement::new_unchecked("abcdefg", Operator::Exists, vec![]),
    ];
    for r in misses {
        assert!(
            !Selector::from_requirements(vec![r.clone()]).matches(&map),
            "{r:?}"
        );
    }
}

//! Criterion benchmarks for label and field selector parsing and matching.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use kybern_core::fields::FieldSelector;
use kybern_core::labels::{LabelMap, Selector};

const LABEL_SELECTOR: &str = "app=web,tier in (frontend,backend),env!=prod";

fn ten_labels(app: &str) -> BTreeMap<String, String> {
    [
        ("app", app),
        ("app.kubernetes.io/managed-by", "kybern"),
        ("app.kubernetes.io/version", "1.2.3"),
        ("env", "staging"),
        ("pod-template-hash", "5d8f7c9b6"),
        ("region", "eu-west-1"),
        ("release", "stable"),
        ("team", "payments"),
        ("tier", "frontend"),
        ("zone", "eu-west-1a"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn label_selectors(c: &mut Criterion) {
    c.bench_function("label_parse_3_requirements", |b| {
        b.iter(|| Selector::parse(black_box(LABEL_SELECTOR)).unwrap())
    });
    let sel = Selector::parse(LABEL_SELECTOR).unwrap();
    let hit = ten_labels("web");
    let miss = ten_labels("db");
    assert!(sel.matches(&hit));
    assert!(!sel.matches(&miss));
    // The object model's own container (`metadata.labels`), on the same ten labels.
    let hit_map = LabelMap::from(hit.clone());
    let miss_map = LabelMap::from(miss.clone());
    assert!(sel.matches(&hit_map));
    assert!(!sel.matches(&miss_map));
    c.bench_function("label_match_labelmap_10_labels_hit", |b| {
        b.iter(|| black_box(&sel).matches(black_box(&hit_map)))
    });
    c.bench_function("label_match_labelmap_10_labels_miss", |b| {
        b.iter(|| black_box(&sel).matches(black_box(&miss_map)))
    });
    c.bench_function("label_match_btreemap_10_labels_hit", |b| {
        b.iter(|| black_box(&sel).matches(black_box(&hit)))
    });
    c.bench_function("label_match_btreemap_10_labels_hit_lookups", |b| {
        b.iter(|| {
            let s = black_box(&sel);
            let l = black_box(&hit);
            s.requirements().unwrap().iter().all(|r| r.matches(l))
        })
    });
    c.bench_function("label_match_btreemap_10_labels_miss", |b| {
        b.iter(|| black_box(&sel).matches(black_box(&miss)))
    });
    // Calibration: one std lookup of the last-sorted key, to put the figures above in context
    // on a loaded machine.
    c.bench_function("calibration_btreemap_get_tier_of_10", |b| {
        b.iter(|| black_box(&hit).get(black_box("tier")).is_some())
    });
    c.bench_function("calibration_btreemap_iter_10", |b| {
        b.iter(|| {
            let mut n = 0u32;
            for (k, _) in black_box(&hit).iter() {
                n += u32::from(k.as_bytes()[0]);
            }
            n
        })
    });
    let hash: HashMap<String, String> = hit.clone().into_iter().collect();
    c.bench_function("label_match_hashmap_10_labels_hit", |b| {
        b.iter(|| black_box(&sel).matches(black_box(&hash)))
    });
    let pairs: Vec<(&str, &str)> = hit.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    c.bench_function("label_match_pairs_10_labels_hit", |b| {
        b.iter(|| black_box(&sel).matches(black_box(pairs.as_slice())))
    });
}

fn field_selectors(c: &mut Criterion) {
    const FIELD_SELECTOR: &str = "metadata.name=web-0,spec.nodeName=node-1,status.phase!=Failed";
    c.bench_function("field_parse_3_terms", |b| {
        b.iter(|| FieldSelector::parse(black_box(FIELD_SELECTOR)).unwrap())
    });
    let sel = FieldSelector::parse(FIELD_SELECTOR).unwrap();
    let fields: BTreeMap<String, String> = [
        ("metadata.name", "web-0"),
        ("metadata.namespace", "default"),
        ("spec.nodeName", "node-1"),
        ("spec.restartPolicy", "Always"),
        ("status.phase", "Running"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert!(sel.matches(&fields));
    c.bench_function("field_match_3_terms_hit", |b| {
        b.iter(|| black_box(&sel).matches(black_box(&fields)))
    });
}

criterion_group!(benches, label_selectors, field_selectors);
criterion_main!(benches);

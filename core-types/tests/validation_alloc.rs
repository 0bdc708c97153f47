//! Proves the name/label validators allocate nothing on valid input (counting global allocator).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::alloc::System;
use std::collections::BTreeMap;
use std::hint::black_box;

use kybern_core::validation::FieldPath;
use kybern_core::validation::meta::{validate_annotations, validate_labels};
use kybern_core::validation::names::*;
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

mod alloc_count;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn valid_inputs_do_not_allocate() {
    let labels: BTreeMap<String, String> = [
        ("app.kubernetes.io/name", "web"),
        ("tier", "frontend"),
        ("example.com/owner", "team-a_1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let path = FieldPath::new("metadata").child("labels");
    let stats = alloc_count::quietest_of_three(GLOBAL, || {
        for _ in 0..100 {
            assert!(is_dns1123_label(black_box("web-0")).is_empty());
            assert!(is_dns1123_subdomain(black_box("web.default.svc.cluster.local")).is_empty());
            assert!(is_dns1035_label(black_box("web")).is_empty());
            assert!(is_qualified_name(black_box("app.kubernetes.io/name")).is_empty());
            assert!(is_valid_label_value(black_box("frontend-1")).is_empty());
            assert!(is_valid_port_name(black_box("http-alt")).is_empty());
            assert!(is_valid_port_num(black_box(8080)).is_empty());
            assert!(is_config_map_key(black_box("app.conf")).is_empty());
            assert!(is_env_var_name(black_box("MY_VAR")).is_empty());
            assert!(is_relaxed_env_var_name(black_box("my.var-1")).is_empty());
            assert!(is_valid_percent(black_box("25%")).is_empty());
            assert!(is_wildcard_dns1123_subdomain(black_box("*.example.com")).is_empty());
            assert!(name_is_dns_subdomain(black_box("web"), false).is_empty());
            assert!(validate_labels(black_box(&labels), &path).is_empty());
            assert!(validate_annotations(black_box(&labels), &path).is_empty());
        }
    });
    assert_eq!(stats.allocations, 0, "allocations: {stats:?}");
    assert_eq!(stats.reallocations, 0, "reallocations: {stats:?}");
}

//! Proves that parsing, canonical formatting, arithmetic and comparison of typical quantities
//! allocate nothing, with a counting global allocator.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::alloc::System;
use std::hint::black_box;

use kybern_core::Quantity;
use kybern_core::quantity::CANONICAL_MAX_LEN;
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

mod alloc_count;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const INPUTS: [&str; 10] = [
    "100m",
    "1Gi",
    "128974848",
    "1.5",
    "2.5e3",
    "500Mi",
    "0.5",
    "4Pi",
    "-3.001n",
    "12E",
];

#[test]
fn typical_operations_do_not_allocate() {
    // Warm up anything lazily initialised by the test harness.
    let _ = black_box(Quantity::parse(black_box("1")));
    let stats = alloc_count::quietest_of_three(GLOBAL, || {
        let mut acc = Quantity::zero();
        let mut buf = [0u8; CANONICAL_MAX_LEN];
        let mut total_len = 0;
        for _ in 0..100 {
            for s in INPUTS {
                let q = Quantity::parse(black_box(s)).unwrap();
                total_len += q.canonical(&mut buf).len();
                acc += &q;
                black_box(acc.cmp(&q));
                black_box(q.value());
                black_box(q.as_f64());
            }
        }
        black_box((acc, total_len));
    });
    assert_eq!(stats.allocations, 0, "allocations: {stats:?}");
    assert_eq!(stats.reallocations, 0, "reallocations: {stats:?}");
}

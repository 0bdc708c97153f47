//! Criterion benchmarks for `Quantity`: parse (typical inputs), canonical formatting, add, cmp.
//! Upstream Go reference: `BenchmarkQuantityParse` ≈ 142 ns/op, 0 allocs.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use kybern_core::Quantity;
use kybern_core::quantity::CANONICAL_MAX_LEN;

const INPUTS: [&str; 7] = ["100m", "1Gi", "128974848", "1.5", "2.5e3", "4Pi", "-3.001n"];

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("quantity_parse");
    for input in INPUTS {
        g.bench_function(input, |b| {
            b.iter(|| Quantity::parse(black_box(input)).unwrap())
        });
    }
    g.finish();
}

fn format(c: &mut Criterion) {
    let mut g = c.benchmark_group("quantity_format");
    for input in ["100m", "1Gi", "1.5", "1024Mi", "2.5e3"] {
        let q = Quantity::parse(input).unwrap();
        g.bench_function(format!("canonical/{input}"), |b| {
            let mut buf = [0u8; CANONICAL_MAX_LEN];
            b.iter(|| black_box(black_box(&q).canonical(&mut buf).len()))
        });
        g.bench_function(format!("to_string/{input}"), |b| {
            b.iter(|| black_box(&q).to_string())
        });
    }
    g.finish();
}

fn arith(c: &mut Criterion) {
    let a = Quantity::parse("1500m").unwrap();
    let b = Quantity::parse("2Gi").unwrap();
    let same_scale = Quantity::parse("250m").unwrap();
    c.bench_function("quantity_add/mixed_scale", |bn| {
        bn.iter(|| black_box(&a) + black_box(&b))
    });
    c.bench_function("quantity_add/same_scale", |bn| {
        bn.iter(|| black_box(&a) + black_box(&same_scale))
    });
    c.bench_function("quantity_cmp/mixed_scale", |bn| {
        bn.iter(|| black_box(&a).cmp(black_box(&b)))
    });
    c.bench_function("quantity_cmp/same_scale", |bn| {
        bn.iter(|| black_box(&a).cmp(black_box(&same_scale)))
    });
}

criterion_group!(benches, parse, format, arith);
criterion_main!(benches);

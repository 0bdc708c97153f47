//! Decode + encode of realistic objects (a production-shaped Deployment and Pod, ~4 KB of JSON
//! each): JSON bytes → typed struct, typed struct → JSON bytes, and the same through
//! `serde_json::Value` (the path manifests take after YAML parsing) and `DynamicObject`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kybern_core::DynamicObject;
use kybern_core::api::apps::v1::Deployment;
use kybern_core::api::core::v1::Pod;
use serde::Serialize;
use serde::de::DeserializeOwned;

const DEPLOYMENT: &str = include_str!("data/deployment.json");
const POD: &str = include_str!("data/pod.json");

fn group<T: DeserializeOwned + Serialize>(c: &mut Criterion, name: &str, json: &str) {
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Bytes(json.len() as u64));
    let typed: T = serde_json::from_str(json).unwrap();
    let value: serde_json::Value = serde_json::from_str(json).unwrap();
    g.bench_function("decode_from_str", |b| {
        b.iter(|| serde_json::from_str::<T>(black_box(json)).unwrap())
    });
    g.bench_function("encode_to_vec", |b| {
        b.iter(|| serde_json::to_vec(black_box(&typed)).unwrap())
    });
    g.bench_function("decode_encode_roundtrip", |b| {
        b.iter(|| {
            let t: T = serde_json::from_str(black_box(json)).unwrap();
            serde_json::to_vec(&t).unwrap()
        })
    });
    g.bench_function("decode_from_value", |b| {
        b.iter(|| serde_json::from_value::<T>(black_box(value.clone())).unwrap())
    });
    g.bench_function("value_clone_only", |b| b.iter(|| black_box(value.clone())));
    g.bench_function("dynamic_object_decode", |b| {
        b.iter(|| serde_json::from_str::<DynamicObject>(black_box(json)).unwrap())
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    group::<Deployment>(c, "deployment", DEPLOYMENT);
    group::<Pod>(c, "pod", POD);
}

criterion_group!(codec, benches);
criterion_main!(codec);

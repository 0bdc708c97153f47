//! Matching benchmarks: binding 10,000 claims against 10,000 volumes with the index (and
//! 1,000 × 1,000 with upstream's linear scan for comparison); matching one claim among
//! 100,000 volumes, indexed and linear.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use kybern_core::Quantity;
use kybern_core::api::core::v1::{
    ObjectReference, PersistentVolume, PersistentVolumeClaim, PersistentVolumeClaimSpec,
    PersistentVolumeSpec, PersistentVolumeStatus, VolumeResourceRequirements,
};
use kybern_storage::matching::{VolumeIndex, find_best_match_linear};

const MODES: [&[&str]; 3] = [
    &["ReadWriteOnce"],
    &["ReadWriteOnce", "ReadOnlyMany"],
    &["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany"],
];

fn volume(i: usize) -> PersistentVolume {
    let mut v = PersistentVolume::default();
    v.metadata.name = Some(format!("pv-{i}"));
    v.metadata.uid = Some(format!("uid-pv-{i}"));
    v.spec = Some(PersistentVolumeSpec {
        access_modes: MODES[i % 3].iter().map(|m| (*m).to_owned()).collect(),
        capacity: [(
            "storage".to_owned(),
            Quantity::parse(&format!("{}Gi", 1 + (i * 7919) % 100)).unwrap(),
        )]
        .into_iter()
        .collect(),
        storage_class_name: Some(["", "fast"][i % 2].to_owned()),
        ..Default::default()
    });
    v.status = Some(PersistentVolumeStatus {
        phase: Some("Available".into()),
        ..Default::default()
    });
    v
}

fn claim(i: usize) -> PersistentVolumeClaim {
    let mut c = PersistentVolumeClaim::default();
    c.metadata.name = Some(format!("c-{i}"));
    c.metadata.namespace = Some("ns".into());
    c.metadata.uid = Some(format!("uid-c-{i}"));
    c.spec = Some(PersistentVolumeClaimSpec {
        access_modes: vec!["ReadWriteOnce".into()],
        resources: Some(VolumeResourceRequirements {
            requests: [(
                "storage".to_owned(),
                Quantity::parse(&format!("{}Gi", 1 + (i * 104_729) % 50)).unwrap(),
            )]
            .into_iter()
            .collect(),
            ..Default::default()
        }),
        storage_class_name: Some(["", "fast"][i % 2].to_owned()),
        ..Default::default()
    });
    c
}

fn bound(mut v: PersistentVolume, c: &PersistentVolumeClaim) -> PersistentVolume {
    v.spec.as_mut().unwrap().claim_ref = Some(ObjectReference {
        name: c.metadata.name.clone(),
        namespace: c.metadata.namespace.clone(),
        uid: c.metadata.uid.clone(),
        ..Default::default()
    });
    v.status.as_mut().unwrap().phase = Some("Bound".into());
    v
}

/// Binds every claim in turn through the index; returns how many were bound.
fn bind_all_indexed(volumes: &[PersistentVolume], claims: &[PersistentVolumeClaim]) -> usize {
    let mut index = VolumeIndex::from_volumes(volumes.iter().cloned());
    let mut n = 0;
    for c in claims {
        let found = index.find_best_match(c, false).unwrap().cloned();
        if let Some(v) = found {
            index.upsert(bound(v, c));
            n += 1;
        }
    }
    n
}

/// The same with upstream's scan of every volume per claim.
fn bind_all_linear(volumes: &[PersistentVolume], claims: &[PersistentVolumeClaim]) -> usize {
    let mut vols = volumes.to_vec();
    let mut n = 0;
    for c in claims {
        let found = find_best_match_linear(c, &vols, false, false)
            .unwrap()
            .and_then(|v| v.metadata.name.clone());
        if let Some(name) = found
            && let Some(slot) = vols
                .iter_mut()
                .find(|v| v.metadata.name.as_deref() == Some(&name))
        {
            *slot = bound(slot.clone(), c);
            n += 1;
        }
    }
    n
}

fn benches(cr: &mut Criterion) {
    let volumes: Vec<_> = (0..10_000).map(volume).collect();
    let claims: Vec<_> = (0..10_000).map(claim).collect();
    let mut g = cr.benchmark_group("bind");
    g.sample_size(10);
    g.bench_function("indexed 10k claims x 10k volumes", |b| {
        b.iter(|| black_box(bind_all_indexed(&volumes, &claims)))
    });
    g.bench_function("linear 1k claims x 1k volumes", |b| {
        b.iter(|| black_box(bind_all_linear(&volumes[..1000], &claims[..1000])))
    });
    g.finish();

    let many: Vec<_> = (0..100_000).map(volume).collect();
    let index = VolumeIndex::from_volumes(many.iter().cloned());
    let one = claim(12_345);
    let mut g = cr.benchmark_group("match one claim among 100k volumes");
    g.bench_function("indexed", |b| {
        b.iter(|| {
            black_box(
                index
                    .find_best_match(black_box(&one), false)
                    .unwrap()
                    .is_some(),
            )
        })
    });
    g.sample_size(10);
    g.bench_function("linear (upstream scan)", |b| {
        b.iter(|| {
            black_box(
                find_best_match_linear(black_box(&one), &many, false, false)
                    .unwrap()
                    .is_some(),
            )
        })
    });
    g.finish();
}

criterion_group!(matching, benches);
criterion_main!(matching);

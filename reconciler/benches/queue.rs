//! Work-queue benchmarks: one key through add + get + done (the per-event cost of a
//! controller's queue), with object keys as controllers use them, uncontended.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use kybern_reconciler::runtime::ObjectKey;
use kybern_reconciler::runtime::queue::WorkQueue;

fn bench(c: &mut Criterion) {
    let q: WorkQueue<ObjectKey> = WorkQueue::new("bench");
    let keys: Vec<ObjectKey> = (0..1024)
        .map(|i| ObjectKey::new(Some("default"), &format!("object-{i}")))
        .collect();
    let mut i = 0usize;
    c.bench_function("queue_add_get_done", |b| {
        b.iter(|| {
            let k = &keys[i & 1023];
            i += 1;
            q.add(k.clone());
            let got = q.try_get().unwrap();
            q.done(black_box(&got));
        })
    });
    // A key added again while it is being processed: marked dirty, re-queued by done.
    c.bench_function("queue_add_while_processing", |b| {
        b.iter(|| {
            let k = &keys[i & 1023];
            i += 1;
            q.add(k.clone());
            let got = q.try_get().unwrap();
            q.add(k.clone());
            q.done(&got);
            let again = q.try_get().unwrap();
            q.done(black_box(&again));
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

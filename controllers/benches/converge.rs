//! ReplicaSet convergence: N ReplicaSets of 3 replicas created at once on an empty
//! MemoryStore, timed until every pod exists and every status reports 3 replicas. Prints
//! reconciles per second and the process's peak memory (VmHWM) for the 10,000-ReplicaSet run,
//! then lets criterion time a 1,000-ReplicaSet run.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::Criterion;
use kybern_controllers::{ControllerManager, replicaset};
use kybern_core::api::apps::v1::{ReplicaSet, ReplicaSetSpec};
use kybern_core::api::core::v1::{Container, Pod, PodSpec, PodTemplateSpec};
use kybern_core::api::meta::v1::{LabelSelector, ObjectMeta};
use kybern_reconciler::runtime::{Shutdown, watcher};
use kybern_reconciler::{Api, MemoryStore, Store};

fn rs(i: usize) -> ReplicaSet {
    let labels = std::collections::BTreeMap::from([("app".to_string(), format!("app-{i}"))]);
    let mut r = ReplicaSet::default();
    r.metadata.name = Some(format!("rs-{i}"));
    r.metadata.namespace = Some("default".into());
    r.spec = Some(ReplicaSetSpec {
        replicas: Some(3),
        selector: LabelSelector {
            match_labels: labels.clone(),
            ..LabelSelector::default()
        },
        template: Some(PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: labels.into(),
                ..ObjectMeta::default()
            }),
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "c".into(),
                    image: Some("nginx:1".into()),
                    ..Container::default()
                }],
                ..PodSpec::default()
            }),
        }),
        ..ReplicaSetSpec::default()
    });
    r
}

/// Runs one convergence; returns (elapsed, reconciles).
fn converge(rt: &tokio::runtime::Runtime, n: usize) -> (Duration, u64) {
    rt.block_on(async move {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let api: Api<ReplicaSet> = Api::namespaced(store.clone(), "default");
        let mut m = ControllerManager::new(store.clone());
        m.concurrency = 8;
        m.shutdown = Shutdown::new();
        let shutdown = m.shutdown.clone();
        let metrics = m.metrics.clone();
        let informers = m.informers.clone();
        let rs_reader = informers
            .informer(
                &Api::<ReplicaSet>::all(store.clone()),
                &watcher::Config::default(),
            )
            .reader();
        let pods = replicaset::pods_reader(&m);
        let start = Instant::now();
        let task = tokio::spawn(replicaset::run(m));
        for i in 0..n {
            api.create(&rs(i)).await.unwrap();
        }
        loop {
            if pods.len() == 3 * n
                && rs_reader.len() == n
                && rs_reader
                    .state()
                    .iter()
                    .all(|r| r.status.as_ref().is_some_and(|s| s.replicas == 3))
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let elapsed = start.elapsed();
        shutdown.trigger();
        task.await.unwrap();
        informers.stop_all();
        let text = metrics.render();
        let reconciles: u64 = text
            .lines()
            .filter(|l| l.starts_with("controller_runtime_reconcile_total{"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum();
        let _ = Pod::default();
        (elapsed, reconciles)
    })
}

fn vm_hwm() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "VmHWM: unavailable".into())
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (elapsed, reconciles) = converge(&rt, 10_000);
    println!(
        "converge/10000_replicasets_x3: {:.2} s, {} reconciles, {:.0} reconciles/s, {}",
        elapsed.as_secs_f64(),
        reconciles,
        reconciles as f64 / elapsed.as_secs_f64(),
        vm_hwm()
    );
    let mut c = Criterion::default().configure_from_args().sample_size(10);
    c.bench_function("converge_1000_replicasets_x3", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| converge(&rt, 1000).0).sum())
    });
    c.final_summary();
}

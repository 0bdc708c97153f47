//! Intake through the runtime's shared informers: the scheduler's cache follows the store,
//! including deletions missed while a watch was broken (the reflector re-lists and emits
//! them), and namespaces' labels reach the snapshot.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use kybern_core::api::core::v1::{Namespace, Pod};
use kybern_reconciler::runtime::SharedInformers;
use kybern_reconciler::{Api, DeleteParams, MemoryStore, Store};
use kybern_scheduler::Scheduler;
use kybern_scheduler::sim::{NodeBuilder, PodBuilder, create};

fn bound(name: &str, node: &str) -> Pod {
    PodBuilder::new("default", name)
        .requests("100m", "100Mi")
        .node_name(node)
        .build()
}

fn cached_pods(s: &Scheduler) -> Vec<String> {
    let mut names: Vec<String> = s
        .snapshot()
        .nodes()
        .iter()
        .flat_map(|n| n.pods().iter().map(|p| p.name().to_owned()))
        .collect();
    names.sort();
    names
}

async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..2000 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(start_paused = true)]
async fn deletion_missed_during_a_broken_watch_reaches_the_cache() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    create(&store, &NodeBuilder::new("n", "64", "64Gi").build())
        .await
        .unwrap();
    create(&store, &bound("victim", "n")).await.unwrap();
    let informers = SharedInformers::new();
    let s = Scheduler::builder(store.clone())
        .informers(informers.clone())
        .build()
        .unwrap();
    let h = s.run().await.unwrap();
    assert_eq!(cached_pods(&s), vec!["victim"]);
    assert!(
        !informers.is_empty(),
        "the scheduler's informers are shared"
    );
    // The watch is open once a change comes through it.
    create(&store, &bound("warmup", "n")).await.unwrap();
    eventually("warmup", || cached_pods(&s).len() == 2).await;
    // Without yielding to the informer task (single-threaded runtime): the victim goes,
    // then enough churn that compaction drops the watch's position.
    let pods: Api<Pod> = Api::namespaced(store.clone(), "default");
    pods.delete("victim", &DeleteParams::default())
        .await
        .unwrap();
    let mut churn = pods.create(&bound("churn", "n")).await.unwrap();
    for i in 0..600 {
        churn.metadata.labels.insert("v".into(), i.to_string());
        churn = pods.update(&churn).await.unwrap();
    }
    let rev = store.current_revision().await.unwrap();
    store.compact(rev).await.unwrap();
    // The watch ends expired; the informer re-lists and the deletion reaches the cache.
    eventually("the relist", || cached_pods(&s) == vec!["churn", "warmup"]).await;
    h.shutdown();
}

#[tokio::test]
async fn namespace_labels_reach_the_snapshot() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let mut ns = Namespace::default();
    ns.metadata.name = Some("team-a".into());
    ns.metadata.labels = kybern_core::LabelMap::from([("team".to_owned(), "a".to_owned())]);
    create(&store, &ns).await.unwrap();
    let s = Scheduler::builder(store.clone()).build().unwrap();
    let h = s.run().await.unwrap();
    let labels = |s: &Scheduler, name: &str| s.snapshot().namespace_labels(name).cloned();
    assert_eq!(labels(&s, "team-a"), Some(ns.metadata.labels.clone()));
    // A namespace created later, then deleted.
    let mut b = Namespace::default();
    b.metadata.name = Some("team-b".into());
    b.metadata.labels = kybern_core::LabelMap::from([("team".to_owned(), "b".to_owned())]);
    create(&store, &b).await.unwrap();
    eventually("team-b", || labels(&s, "team-b").is_some()).await;
    // As upstream, the first delete only marks the namespace Terminating; it is removed once
    // its `spec.finalizers` are empty (the namespace controller's finalize step, done here by
    // hand) — until then the scheduler keeps its labels.
    let namespaces = Api::<Namespace>::all(store.clone());
    namespaces
        .delete("team-b", &DeleteParams::default())
        .await
        .unwrap();
    let mut terminating = namespaces.get("team-b").await.unwrap();
    assert!(terminating.metadata.deletion_timestamp.is_some());
    terminating.spec.get_or_insert_default().finalizers.clear();
    let _ = namespaces.update(&terminating).await;
    assert!(namespaces.get_opt("team-b").await.unwrap().is_none());
    eventually("team-b gone", || labels(&s, "team-b").is_none()).await;
    h.shutdown();
}

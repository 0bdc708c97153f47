//! Scenario tests of the built-in controllers on virtual time: ReplicaSet (expectations,
//! adoption, deletion order), Deployment (rolling update bounds, rollback, recreate, pause,
//! progress deadline), garbage collection (background, foreground, orphan), namespace
//! lifecycle, and leader failover without duplicate pods.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kybern_controllers::deployment::{REVISION, ScaleShare, proportional_sizes, rollback};
use kybern_controllers::gc::{Propagation, delete_with_propagation};
use kybern_controllers::{ControllerManager, manager_for, replicaset, start_in};
use kybern_core::api::apps::v1::{Deployment, ReplicaSet};
use kybern_core::api::coordination::v1::Lease;
use kybern_core::api::core::v1::{ConfigMap, Namespace, Pod};
use kybern_core::{Resource, TypedResource};
use kybern_reconciler::runtime::harness::{Harness, Operation};
use kybern_reconciler::runtime::leader::{LeaderElectionConfig, LeaderElector};
use kybern_reconciler::runtime::reflector::{Change, Reader};
use kybern_reconciler::runtime::{SharedInformers, Shutdown};
use kybern_reconciler::store::WatchEvent;
use kybern_reconciler::{Api, DeleteParams, WatchParams};

const SECS: fn(u64) -> Duration = Duration::from_secs;

fn rs_yaml(name: &str, replicas: i32) -> String {
    format!(
        "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {{name: {name}}}\nspec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec: {{containers: [{{name: c, image: nginx:1}}]}}\n"
    )
}

fn deploy_yaml(name: &str, replicas: i32, image: &str, extra: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: {name}}}}}\n{extra}  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec: {{containers: [{{name: c, image: \"{image}\"}}]}}\n"
    )
}

fn pods_in(h: &Harness) -> Vec<Arc<Pod>> {
    h.reader::<Pod>().state()
}

/// Counts every pod ever created in the store (ADDED events from revision 0).
fn count_created(h: &Harness) -> Arc<Mutex<usize>> {
    let counter = Arc::new(Mutex::new(0));
    let c = Arc::clone(&counter);
    let api: Api<Pod> = h.api();
    h.spawn(async move {
        use futures::StreamExt as _;
        let mut w = api
            .watch(&WatchParams::default().from_revision("0"))
            .await
            .unwrap();
        while let Some(Ok(ev)) = w.next().await {
            if let WatchEvent::Added(_) = ev {
                *c.lock().unwrap() += 1;
            }
        }
    });
    counter
}

#[tokio::test(start_paused = true)]
async fn replicaset_creates_scales_and_reports_status() {
    let h = Harness::new();
    let created = count_created(&h);
    start_in(&h);
    h.start_fake_kubelet(SECS(1));
    h.apply_yaml(&rs_yaml("web", 3)).await.unwrap();
    h.wait_for::<ReplicaSet>("web has 3 ready replicas", SECS(30), |r| {
        r.get_named(Some("default"), "web")
            .and_then(|rs| rs.status.clone())
            .is_some_and(|s| {
                s.replicas == 3
                    && s.ready_replicas == Some(3)
                    && s.available_replicas == Some(3)
                    && s.fully_labeled_replicas == Some(3)
                    && s.observed_generation == Some(1)
            })
    })
    .await
    .unwrap();
    for p in pods_in(&h) {
        let name = p.name();
        let suffix = name.strip_prefix("web-").unwrap();
        assert_eq!(suffix.len(), 5, "generated name {name}");
        assert!(
            p.metadata
                .controller_ref()
                .is_some_and(|r| r.kind == "ReplicaSet" && r.name == "web")
        );
    }
    assert_eq!(*created.lock().unwrap(), 3, "no double creation");
    h.apply_yaml(&rs_yaml("web", 1)).await.unwrap();
    h.wait_until("scaled down to one pod", SECS(30), || {
        pods_in(&h).len() == 1
    })
    .await
    .unwrap();
    h.apply_yaml(&rs_yaml("web", 4)).await.unwrap();
    h.wait_until("scaled up to four pods", SECS(30), || {
        pods_in(&h).len() == 4
    })
    .await
    .unwrap();
    assert_eq!(*created.lock().unwrap(), 6);
    h.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn replicaset_adopts_orphans_and_releases_non_matching_pods() {
    let h = Harness::new();
    h.apply_yaml("apiVersion: v1\nkind: Pod\nmetadata: {name: stray, labels: {app: web}}\nspec: {containers: [{name: c, image: nginx:1}]}\n")
        .await
        .unwrap();
    start_in(&h);
    h.apply_yaml(&rs_yaml("web", 2)).await.unwrap();
    h.wait_until("stray adopted and one more pod", SECS(30), || {
        let pods = pods_in(&h);
        pods.len() == 2 && pods.iter().all(|p| p.metadata.controller_ref().is_some())
    })
    .await
    .unwrap();
    // Relabel the adopted pod: it is released and replaced.
    let pods: Api<Pod> = h.api_in("default");
    let mut stray = pods.get("stray").await.unwrap();
    stray.metadata.labels.insert("app".into(), "other".into());
    pods.update(&stray).await.unwrap();
    h.wait_until("stray released and replaced", SECS(30), || {
        let all = pods_in(&h);
        let owned = all
            .iter()
            .filter(|p| p.metadata.controller_ref().is_some())
            .count();
        let released = all
            .iter()
            .any(|p| p.name() == "stray" && p.metadata.owner_references.is_empty());
        owned == 2 && released
    })
    .await
    .unwrap();
    h.shutdown().await;
}

#[derive(Default)]
struct Observed {
    max_spec_total: i32,
    min_ready_after_start: Option<usize>,
    max_pods: usize,
}

#[tokio::test(start_paused = true)]
async fn rolling_update_respects_surge_and_unavailability_then_rolls_back() {
    let h = Harness::new();
    start_in(&h);
    h.start_fake_kubelet(SECS(2));
    h.apply_yaml(&deploy_yaml("web", 10, "nginx:1", ""))
        .await
        .unwrap();
    let complete = |h: &Harness, image: &'static str| {
        let d = h.reader::<Deployment>();
        move || {
            d.get_named(Some("default"), "web").is_some_and(|d| {
                let s = d.status.clone().unwrap_or_default();
                let img = d
                    .spec
                    .as_ref()
                    .and_then(|s| s.template.spec.as_ref())
                    .map(|p| p.containers[0].image.clone().unwrap_or_default());
                img.as_deref() == Some(image)
                    && s.updated_replicas == Some(10)
                    && s.replicas == Some(10)
                    && s.available_replicas == Some(10)
                    && s.observed_generation == d.metadata.generation
                    && s.conditions.iter().any(|c| {
                        c.type_ == "Progressing"
                            && c.reason.as_deref() == Some("NewReplicaSetAvailable")
                    })
            })
        }
    };
    h.wait_until("v1 rolled out", SECS(120), complete(&h, "nginx:1"))
        .await
        .unwrap();

    // Observe every ReplicaSet and Pod change during the v1 → v2 rollout.
    let obs = Arc::new(Mutex::new(Observed::default()));
    let (o1, o2) = (Arc::clone(&obs), Arc::clone(&obs));
    let mut rs_changes = h.reader::<ReplicaSet>().subscribe();
    let rs_reader = h.reader::<ReplicaSet>();
    h.spawn(async move {
        while let Some(_c) = rs_changes.recv().await {
            let total: i32 = rs_reader
                .state()
                .iter()
                .map(|r| r.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0))
                .sum();
            let mut o = o1.lock().unwrap();
            o.max_spec_total = o.max_spec_total.max(total);
        }
    });
    let mut pod_changes = h.reader::<Pod>().subscribe();
    h.spawn(async move {
        let mut pods: HashMap<String, Arc<Pod>> = HashMap::new();
        while let Some(c) = pod_changes.recv().await {
            match &c {
                Change::Applied { new, .. } => {
                    pods.insert(new.name().to_owned(), Arc::clone(new));
                }
                Change::Deleted(p) => {
                    pods.remove(p.name());
                }
            }
            let ready = pods
                .values()
                .filter(|p| {
                    kybern_controllers::pod::is_ready(p) && kybern_controllers::pod::is_active(p)
                })
                .count();
            let mut o = o2.lock().unwrap();
            o.max_pods = o.max_pods.max(pods.len());
            if pods.len() >= 10 {
                o.min_ready_after_start =
                    Some(o.min_ready_after_start.map_or(ready, |m| m.min(ready)));
            }
        }
    });
    h.apply_yaml(&deploy_yaml("web", 10, "nginx:2", ""))
        .await
        .unwrap();
    h.wait_until("v2 rolled out", SECS(300), complete(&h, "nginx:2"))
        .await
        .unwrap();
    h.wait_until("old ReplicaSet at 0", SECS(60), || {
        h.reader::<ReplicaSet>()
            .state()
            .iter()
            .filter(|r| r.spec.as_ref().and_then(|s| s.replicas) == Some(10))
            .count()
            == 1
    })
    .await
    .unwrap();
    {
        let o = obs.lock().unwrap();
        // maxSurge 25% of 10 rounds up to 3; maxUnavailable 25% rounds down to 2.
        assert!(
            o.max_spec_total <= 13,
            "ReplicaSet replicas summed to {} > 10 + maxSurge 3",
            o.max_spec_total
        );
        assert_eq!(o.max_spec_total, 13, "the rollout used its surge");
        let min_ready = o.min_ready_after_start.unwrap();
        assert!(
            min_ready >= 8,
            "ready pods dropped to {min_ready} < 10 - maxUnavailable 2"
        );
    }
    let rss = h.reader::<ReplicaSet>().state();
    assert_eq!(rss.len(), 2);
    let by_rev = |rev: &str| {
        rss.iter()
            .find(|r| r.metadata.annotation(REVISION) == Some(rev))
            .cloned()
            .unwrap()
    };
    assert_eq!(
        by_rev("1").spec.as_ref().unwrap().replicas,
        Some(0),
        "v1 ReplicaSet ends at 0"
    );
    assert_eq!(by_rev("2").spec.as_ref().unwrap().replicas, Some(10));
    for rs in &rss {
        let hash = rs.metadata.labels.get("pod-template-hash").unwrap();
        assert_eq!(rs.name(), format!("web-{hash}"));
    }
    let d: Api<Deployment> = h.api_in("default");
    assert_eq!(
        d.get("web").await.unwrap().metadata.annotation(REVISION),
        Some("2")
    );

    // Roll back: the v1 template returns, as revision 3, on the same ReplicaSet.
    let used = rollback(&d, "web", 0).await.unwrap();
    assert_eq!(used, 1);
    h.wait_until("rolled back to v1", SECS(300), complete(&h, "nginx:1"))
        .await
        .unwrap();
    let v1 = h
        .reader::<ReplicaSet>()
        .state()
        .into_iter()
        .find(|r| r.name() == by_rev("1").name())
        .unwrap();
    assert_eq!(v1.spec.as_ref().unwrap().replicas, Some(10));
    assert_eq!(v1.metadata.annotation(REVISION), Some("3"));
    h.wait_until("deployment revision 3", SECS(10), || {
        h.reader::<Deployment>()
            .get_named(Some("default"), "web")
            .is_some_and(|d| d.metadata.annotation(REVISION) == Some("3"))
    })
    .await
    .unwrap();
    h.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn recreate_never_runs_old_and_new_together() {
    let h = Harness::new();
    start_in(&h);
    h.start_fake_kubelet(SECS(1));
    let extra = "  strategy: {type: Recreate}\n";
    h.apply_yaml(&deploy_yaml("db", 3, "pg:1", extra))
        .await
        .unwrap();
    h.wait_for::<Deployment>("db available", SECS(60), |r| {
        r.get_named(Some("default"), "db")
            .and_then(|d| d.status.clone())
            .is_some_and(|s| s.available_replicas == Some(3))
    })
    .await
    .unwrap();
    let overlap = Arc::new(Mutex::new(false));
    let o = Arc::clone(&overlap);
    let mut changes = h.reader::<ReplicaSet>().subscribe();
    let reader = h.reader::<ReplicaSet>();
    h.spawn(async move {
        while changes.recv().await.is_some() {
            let active = reader
                .state()
                .iter()
                .filter(|r| r.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0) > 0)
                .count();
            if active > 1 {
                *o.lock().unwrap() = true;
            }
        }
    });
    h.apply_yaml(&deploy_yaml("db", 3, "pg:2", extra))
        .await
        .unwrap();
    h.wait_for::<Deployment>("db v2 available", SECS(120), |r| {
        r.get_named(Some("default"), "db")
            .and_then(|d| d.status.clone())
            .is_some_and(|s| {
                s.available_replicas == Some(3)
                    && s.updated_replicas == Some(3)
                    && s.replicas == Some(3)
            })
    })
    .await
    .unwrap();
    assert!(
        !*overlap.lock().unwrap(),
        "old and new ReplicaSets were active together"
    );
    h.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn progress_deadline_and_pause() {
    let h = Harness::new();
    start_in(&h); // no kubelet: pods never become ready
    h.apply_yaml(&deploy_yaml(
        "stuck",
        2,
        "x:1",
        "  progressDeadlineSeconds: 30\n",
    ))
    .await
    .unwrap();
    h.wait_for::<Deployment>("ProgressDeadlineExceeded", SECS(120), |r| {
        r.get_named(Some("default"), "stuck")
            .and_then(|d| d.status.clone())
            .is_some_and(|s| {
                s.conditions.iter().any(|c| {
                    c.type_ == "Progressing"
                        && c.status == "False"
                        && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
                })
            })
    })
    .await
    .unwrap();
    // Paused: a template change makes no new ReplicaSet until resumed.
    h.apply_yaml(&deploy_yaml(
        "stuck",
        2,
        "x:2",
        "  progressDeadlineSeconds: 30\n  paused: true\n",
    ))
    .await
    .unwrap();
    h.wait_for::<Deployment>("paused condition", SECS(30), |r| {
        r.get_named(Some("default"), "stuck")
            .and_then(|d| d.status.clone())
            .is_some_and(|s| {
                s.conditions.iter().any(|c| {
                    c.type_ == "Progressing" && c.reason.as_deref() == Some("DeploymentPaused")
                })
            })
    })
    .await
    .unwrap();
    assert_eq!(h.reader::<ReplicaSet>().len(), 1);
    h.apply_yaml(&deploy_yaml(
        "stuck",
        2,
        "x:2",
        "  progressDeadlineSeconds: 30\n",
    ))
    .await
    .unwrap();
    h.wait_for::<ReplicaSet>("resumed: second ReplicaSet", SECS(30), |r| r.len() == 2)
        .await
        .unwrap();
    h.shutdown().await;
}

async fn deployed(h: &Harness) {
    start_in(h);
    h.apply_yaml(&deploy_yaml("web", 3, "nginx:1", ""))
        .await
        .unwrap();
    h.wait_until("3 pods", SECS(60), || pods_in(h).len() == 3)
        .await
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn cascade_delete_background_and_foreground() {
    for propagation in [Propagation::Background, Propagation::Foreground] {
        let h = Harness::new();
        deployed(&h).await;
        let saw_owner_waiting = Arc::new(Mutex::new(false));
        if propagation == Propagation::Foreground {
            let s = Arc::clone(&saw_owner_waiting);
            let mut ch = h.reader::<Deployment>().subscribe();
            let pods = h.reader::<Pod>();
            h.spawn(async move {
                while let Some(c) = ch.recv().await {
                    if let Change::Applied { new, .. } = c
                        && new.metadata.is_being_deleted()
                        && !pods.is_empty()
                    {
                        *s.lock().unwrap() = true;
                    }
                }
            });
        }
        delete_with_propagation(
            &h.store(),
            &Deployment::api_resource(&()),
            Some("default"),
            "web",
            propagation,
        )
        .await
        .unwrap();
        h.wait_until(
            &format!("{propagation:?}: everything gone"),
            SECS(60),
            || {
                pods_in(&h).is_empty()
                    && h.reader::<ReplicaSet>().is_empty()
                    && h.reader::<Deployment>().is_empty()
            },
        )
        .await
        .unwrap();
        if propagation == Propagation::Foreground {
            assert!(
                *saw_owner_waiting.lock().unwrap(),
                "the Deployment waited for its pods"
            );
        }
        h.shutdown().await;
    }
}

#[tokio::test(start_paused = true)]
async fn orphan_delete_keeps_children_without_owner_refs() {
    let h = Harness::new();
    deployed(&h).await;
    delete_with_propagation(
        &h.store(),
        &Deployment::api_resource(&()),
        Some("default"),
        "web",
        Propagation::Orphan,
    )
    .await
    .unwrap();
    h.wait_until("deployment gone, ReplicaSet orphaned", SECS(60), || {
        h.reader::<Deployment>().is_empty()
            && h.reader::<ReplicaSet>()
                .state()
                .iter()
                .all(|r| r.metadata.owner_references.is_empty())
    })
    .await
    .unwrap();
    h.advance(SECS(5)).await;
    assert_eq!(h.reader::<ReplicaSet>().len(), 1);
    assert_eq!(
        pods_in(&h).len(),
        3,
        "pods stay (still owned by the orphaned ReplicaSet)"
    );
    h.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn namespace_delete_empties_it_first() {
    let h = Harness::new();
    start_in(&h);
    h.wait_for::<Namespace>("initial namespaces", SECS(10), |r| {
        ["default", "kube-system", "kube-public", "kube-node-lease"]
            .iter()
            .all(|n| r.get_named(None, n).is_some())
    })
    .await
    .unwrap();
    h.apply_yaml("apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n")
        .await
        .unwrap();
    h.apply_yaml(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: team}\ndata: {a: b}\n",
    )
    .await
    .unwrap();
    h.apply_yaml(&deploy_yaml("web", 2, "nginx:1", "").replace(
        "metadata: {name: web}",
        "metadata: {name: web, namespace: team}",
    ))
    .await
    .unwrap();
    h.wait_until("team pods", SECS(60), || pods_in(&h).len() == 2)
        .await
        .unwrap();
    h.wait_for::<Namespace>("team active with finalizer", SECS(10), |r| {
        r.get_named(None, "team").is_some_and(|n| {
            n.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Active")
                && n.spec
                    .as_ref()
                    .is_some_and(|s| s.finalizers == vec!["kubernetes".to_string()])
        })
    })
    .await
    .unwrap();
    let saw_terminating = Arc::new(Mutex::new(false));
    let s = Arc::clone(&saw_terminating);
    let mut ch = h.reader::<Namespace>().subscribe();
    h.spawn(async move {
        while let Some(c) = ch.recv().await {
            if let Change::Applied { new, .. } = c
                && new.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Terminating")
            {
                *s.lock().unwrap() = true;
            }
        }
    });
    Api::<Namespace>::all(h.store())
        .delete("team", &DeleteParams::default())
        .await
        .unwrap();
    h.wait_until("team emptied and gone", SECS(60), || {
        h.reader::<Namespace>().get_named(None, "team").is_none()
            && h.reader::<ConfigMap>().in_namespace("team").is_empty()
            && pods_in(&h).is_empty()
            && h.reader::<Deployment>().is_empty()
    })
    .await
    .unwrap();
    assert!(
        *saw_terminating.lock().unwrap(),
        "namespace went through Terminating"
    );
    h.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn leader_failover_creates_no_duplicate_pods() {
    let h = Harness::new();
    let created = count_created(&h);
    let stop = Shutdown::new();
    let mut tasks = Vec::new();
    for id in ["a", "b"] {
        let elector = LeaderElector::new(
            h.api_in::<Lease>("kube-system"),
            LeaderElectionConfig::new("kube-controller-manager", id),
        )
        .unwrap()
        .with_clock(h.clock());
        let mut m: ControllerManager = manager_for(&h);
        m.informers = SharedInformers::new(); // each replica has its own caches
        m.shutdown = stop.clone();
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            elector
                .run(stop, move |leading: Shutdown| {
                    let mut m = m;
                    m.cancel = leading;
                    async move { replicaset::run(m).await }
                })
                .await
        }));
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    h.apply_yaml(&rs_yaml("web", 5)).await.unwrap();
    h.wait_until("5 pods under a", SECS(30), || pods_in(&h).len() == 5)
        .await
        .unwrap();
    let lease = || async {
        h.api_in::<Lease>("kube-system")
            .get("kube-controller-manager")
            .await
            .unwrap()
            .spec
            .unwrap()
    };
    assert_eq!(lease().await.holder_identity.as_deref(), Some("a"));
    h.faults().fail_always(Operation::Write, "leases");
    tokio::time::sleep(SECS(11)).await; // a fences itself within the renew deadline (10 s)
    h.faults().heal();
    h.wait_for::<Lease>("b holds the lease", SECS(60), |r| {
        r.get_named(Some("kube-system"), "kube-controller-manager")
            .and_then(|l| l.spec.clone())
            .and_then(|s| s.holder_identity)
            .as_deref()
            == Some("b")
    })
    .await
    .unwrap();
    h.apply_yaml(&rs_yaml("web", 7)).await.unwrap();
    h.wait_until("7 pods under b", SECS(60), || pods_in(&h).len() == 7)
        .await
        .unwrap();
    h.advance(SECS(5)).await;
    assert_eq!(pods_in(&h).len(), 7);
    assert_eq!(
        *created.lock().unwrap(),
        7,
        "no pod was created twice across the failover"
    );
    assert_eq!(lease().await.lease_transitions, Some(1));
    stop.trigger();
    for t in tasks {
        t.await.unwrap();
    }
    h.shutdown().await;
}

#[test]
fn fenceposts_round_as_upstream() {
    use kybern_controllers::deployment::resolve_fenceposts;
    let rows = [
        // (replicas, maxSurge, maxUnavailable) → (surge, unavailable)
        (10, "25%", "25%", (3, 2)),
        (4, "25%", "25%", (1, 1)),
        (1, "25%", "25%", (1, 0)),
        (10, "0", "0", (0, 1)),
        (10, "0%", "0%", (0, 1)),
        (3, "50%", "50%", (2, 1)),
        (5, "2", "30%", (2, 1)),
    ];
    for (replicas, surge, unavail, want) in rows {
        let yaml = deploy_yaml(
            "d",
            replicas,
            "x",
            &format!(
                "  strategy: {{type: RollingUpdate, rollingUpdate: {{maxSurge: {}, maxUnavailable: {}}}}}\n",
                q(surge),
                q(unavail)
            ),
        );
        let obj = kybern_core::load::load_objects("t", &yaml, &Default::default())
            .unwrap()
            .remove(0)
            .object;
        let d: Deployment = serde_json::from_value(obj.to_value()).unwrap();
        assert_eq!(
            resolve_fenceposts(&d).unwrap(),
            want,
            "replicas {replicas} surge {surge} unavailable {unavail}"
        );
    }
    assert_eq!(Deployment::KIND, "Deployment");
}

fn q(v: &str) -> String {
    if v.ends_with('%') {
        format!("\"{v}\"")
    } else {
        v.to_string()
    }
}

#[test]
fn proportional_sizes_follow_get_proportion() {
    let share = |replicas, max_replicas| ScaleShare {
        replicas,
        max_replicas,
    };
    // (replicas, maxSurge, status.replicas, sets oldest first) → new sizes
    type Row = (i32, i32, i32, Vec<ScaleShare>, Vec<i32>);
    let rows: Vec<Row> = vec![
        // 5 → 10: shares in proportion to the size each set was scaled for.
        (
            10,
            0,
            5,
            vec![share(3, Some(5)), share(2, Some(5))],
            vec![6, 4],
        ),
        // 10 → 5.
        (
            5,
            0,
            10,
            vec![share(6, Some(10)), share(4, Some(10))],
            vec![3, 2],
        ),
        // Rounding leaves one replica over: it goes to the first set (the newest on ties).
        (
            4,
            0,
            3,
            vec![share(1, Some(3)), share(1, Some(3)), share(1, Some(3))],
            vec![1, 1, 2],
        ),
        // Shrinking on ties takes from the oldest first.
        (
            2,
            0,
            3,
            vec![share(1, Some(3)), share(1, Some(3)), share(1, Some(3))],
            vec![0, 1, 1],
        ),
        // To zero: everything goes.
        (
            0,
            3,
            5,
            vec![share(2, Some(8)), share(3, Some(8))],
            vec![0, 0],
        ),
        // No annotation: status.replicas stands in.
        (10, 0, 5, vec![share(3, None), share(2, None)], vec![6, 4]),
        // With surge: 10+3 → 20+3, from 8 old + 5 new.
        (
            20,
            3,
            13,
            vec![share(8, Some(13)), share(5, Some(13))],
            vec![14, 9],
        ),
        // Nothing to add: sizes stay.
        (
            10,
            3,
            13,
            vec![share(8, Some(13)), share(5, Some(13))],
            vec![8, 5],
        ),
    ];
    for (replicas, surge, status, sets, want) in rows {
        assert_eq!(
            proportional_sizes(replicas, surge, status, &sets),
            want,
            "replicas {replicas} surge {surge} sets {sets:?}"
        );
    }
}

/// `spec.replicas` of every ReplicaSet, oldest revision first.
fn sizes_by_revision(reader: &Reader<ReplicaSet>) -> Vec<i32> {
    let mut sets = reader.state();
    sets.sort_by_key(|r| r.metadata.annotation(REVISION).map(str::to_owned));
    sets.iter()
        .map(|r| r.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0))
        .collect()
}

fn rs_sizes(h: &Harness) -> (i32, i32) {
    match sizes_by_revision(&h.reader::<ReplicaSet>()).as_slice() {
        [old, new] => (*old, *new),
        _ => (-1, -1),
    }
}

#[tokio::test(start_paused = true)]
async fn scaling_mid_rollout_is_proportional() {
    let h = Harness::new();
    start_in(&h); // no kubelet: no pod becomes available, so the rollout stays mid-way
    let strategy =
        "  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 3, maxUnavailable: 2}}
";
    let step = |replicas: i32, image: &'static str, what: &'static str, want: (i32, i32)| {
        let h = &h;
        async move {
            h.apply_yaml(&deploy_yaml("web", replicas, image, strategy))
                .await
                .unwrap();
            h.wait_until(what, SECS(60), || {
                rs_sizes(h) == want && pods_in(h).len() == usize::try_from(want.0 + want.1).unwrap()
            })
            .await
            .unwrap();
        }
    };
    h.apply_yaml(&deploy_yaml("web", 10, "nginx:1", strategy))
        .await
        .unwrap();
    h.wait_until("10 pods", SECS(60), || pods_in(&h).len() == 10)
        .await
        .unwrap();
    // Old shrinks by its 2 unhealthy replicas, the new one grows to the surge: 8 + 5 = 13.
    step(10, "nginx:2", "rollout stuck at 8 old + 5 new", (8, 5)).await;
    let history = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&history);
    let mut changes = h.reader::<ReplicaSet>().subscribe();
    let hh = h.reader::<ReplicaSet>();
    h.spawn(async move {
        while changes.recv().await.is_some() {
            seen.lock().unwrap().push(sizes_by_revision(&hh));
        }
    });
    // 10 → 20: 10 more replicas (23 allowed), spread 6 / 4 as upstream's getProportion.
    step(20, "nginx:2", "scaled proportionally to 14 + 9", (14, 9)).await;
    h.advance(SECS(5)).await;
    assert_eq!(rs_sizes(&h), (14, 9), "stable: nothing is available yet");
    // 20 → 5: 8 allowed; the old set shrinks to 5, the new one to 3, then the rollout goes on.
    step(5, "nginx:2", "rolled on to 3 old + 5 new", (3, 5)).await;
    let history = history.lock().unwrap().clone();
    assert!(
        history.contains(&vec![5, 3]),
        "the scale-down was proportional first: {history:?}"
    );
    assert!(
        history.iter().all(|s| s.iter().sum::<i32>() <= 23),
        "never above replicas + maxSurge: {history:?}"
    );
    h.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn foreground_delete_keeps_dependents_with_another_owner() {
    let h = Harness::new();
    start_in(&h);
    let cms: Api<ConfigMap> = h.api_in("default");
    let mk = |name: &str| {
        let mut c = ConfigMap::default();
        c.metadata.name = Some(name.into());
        c
    };
    let a = cms.create(&mk("owner-a")).await.unwrap();
    let b = cms.create(&mk("owner-b")).await.unwrap();
    let owner_ref = |o: &ConfigMap| {
        let mut r = kybern_core::owner_reference(o, &(), false, true).unwrap();
        r.block_owner_deletion = Some(true);
        r
    };
    let mut shared = mk("shared");
    shared.metadata.owner_references = vec![owner_ref(&a), owner_ref(&b)];
    cms.create(&shared).await.unwrap();
    let mut only_a = mk("only-a");
    only_a.metadata.owner_references = vec![owner_ref(&a)];
    cms.create(&only_a).await.unwrap();
    let marked = cms
        .delete("owner-a", &DeleteParams::foreground())
        .await
        .unwrap();
    assert_eq!(
        marked.into_inner().metadata.finalizers,
        vec!["foregroundDeletion".to_string()],
        "the store records the policy as a finalizer"
    );
    // `shared` keeps only owner-b's reference (owner-b still owns it); the rest is gone.
    h.wait_until("owner-a and only-a gone, shared kept", SECS(60), || {
        let r = h.reader::<ConfigMap>();
        let shared_owners: Option<Vec<String>> = r.get_named(Some("default"), "shared").map(|c| {
            c.metadata
                .owner_references
                .iter()
                .map(|o| o.name.clone())
                .collect()
        });
        r.get_named(Some("default"), "owner-a").is_none()
            && r.get_named(Some("default"), "only-a").is_none()
            && shared_owners == Some(vec!["owner-b".to_string()])
    })
    .await
    .unwrap();
    let live = cms.get("owner-a").await;
    assert!(
        live.unwrap_err().is_not_found(),
        "owner-a is gone from the store"
    );
    h.shutdown().await;
}

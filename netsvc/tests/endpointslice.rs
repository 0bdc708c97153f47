//! EndpointSlice logic: conditions, named ports, packing with minimal churn, the legacy
//! Endpoints mirror, and a scenario over `MemoryStore` (0 → 250 → 3 pods).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use kybern_core::IntOrString;
use kybern_core::api::core::v1::{
    Container, ContainerPort, Pod, PodCondition, PodSpec, PodStatus, Service, ServicePort,
    ServiceSpec,
};
use kybern_core::api::discovery::v1::EndpointSlice;
use kybern_netsvc::endpointslice::controller::EndpointSliceController;
use kybern_netsvc::endpointslice::{
    CONTROLLER_NAME, LABEL_MANAGED_BY, LABEL_SERVICE_NAME, SliceReconciler, desired_endpoints,
    reconcile_service,
};
use kybern_reconciler::{Api, ListParams, MemoryStore, Store};

fn service(name: &str, target: IntOrString) -> Service {
    let mut s = Service::default();
    s.metadata.name = Some(name.into());
    s.metadata.namespace = Some("default".into());
    s.metadata.uid = Some(format!("uid-{name}"));
    s.spec = Some(ServiceSpec {
        selector: [("app".to_string(), "web".to_string())].into(),
        cluster_ip: Some("10.96.0.10".into()),
        ports: vec![ServicePort {
            name: Some("http".into()),
            port: 80,
            target_port: Some(target),
            ..Default::default()
        }],
        ..Default::default()
    });
    s
}

fn pod(name: &str, ip: &str, ready: bool, container_port: i32) -> Pod {
    let mut p = Pod::default();
    p.metadata.name = Some(name.into());
    p.metadata.namespace = Some("default".into());
    p.metadata.labels = [("app".to_string(), "web".to_string())].into();
    p.spec = Some(PodSpec {
        node_name: Some("node-a".into()),
        containers: vec![Container {
            name: "c".into(),
            ports: vec![ContainerPort {
                name: Some("web".into()),
                container_port,
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    });
    p.status = Some(PodStatus {
        pod_ip: Some(ip.into()),
        phase: Some("Running".into()),
        conditions: vec![PodCondition {
            type_: "Ready".into(),
            status: if ready { "True" } else { "False" }.into(),
            ..Default::default()
        }],
        ..Default::default()
    });
    p
}

fn pods(n: usize) -> Vec<Pod> {
    (0..n)
        .map(|i| {
            pod(
                &format!("p{i}"),
                &format!("10.1.{}.{}", i / 250, i % 250 + 1),
                true,
                8080,
            )
        })
        .collect()
}

/// Applies changes to an in-memory slice set the way the store would (names for creates);
/// returns the slices written (with their names) and the names deleted.
fn apply(
    slices: &mut Vec<EndpointSlice>,
    changes: kybern_netsvc::endpointslice::SliceChanges,
    counter: &mut usize,
) -> (Vec<EndpointSlice>, Vec<String>) {
    let mut written = Vec::new();
    let mut deleted = Vec::new();
    for d in &changes.delete {
        slices.retain(|s| s.metadata.name != d.metadata.name);
        deleted.push(d.metadata.name.clone().unwrap());
    }
    for u in changes.update {
        let i = slices
            .iter()
            .position(|s| s.metadata.name == u.metadata.name)
            .unwrap();
        slices[i] = u.clone();
        written.push(u);
    }
    for mut c in changes.create {
        *counter += 1;
        c.metadata.name = Some(format!(
            "{}{counter}",
            c.metadata.generate_name.clone().unwrap()
        ));
        slices.push(c.clone());
        written.push(c);
    }
    (written, deleted)
}

fn total(slices: &[EndpointSlice]) -> usize {
    slices.iter().map(|s| s.endpoints.len()).sum()
}

#[test]
fn endpoint_fields_conditions_and_labels() {
    let svc = service("web", IntOrString::String("web".into()));
    let mut terminating = pod("t", "10.1.0.3", true, 8080);
    terminating.metadata.deletion_timestamp = Some("2024-01-01T00:00:00Z".parse().unwrap());
    let mut done = pod("d", "10.1.0.4", false, 8080);
    done.status.as_mut().unwrap().phase = Some("Succeeded".into());
    let mut other = pod("o", "10.1.0.5", true, 8080);
    other.metadata.labels.insert("app".into(), "db".into());
    let all = vec![
        pod("r", "10.1.0.1", true, 8080),
        pod("n", "10.1.0.2", false, 8080),
        terminating,
        done,
        other,
    ];
    let changes = reconcile_service(&svc, &all, &[]);
    assert_eq!(changes.create.len(), 1);
    let s = &changes.create[0];
    assert_eq!(s.metadata.generate_name.as_deref(), Some("web-"));
    assert_eq!(
        s.metadata
            .labels
            .get(LABEL_SERVICE_NAME)
            .map(String::as_str),
        Some("web")
    );
    assert_eq!(
        s.metadata.labels.get(LABEL_MANAGED_BY).map(String::as_str),
        Some(CONTROLLER_NAME)
    );
    let owner = &s.metadata.owner_references[0];
    assert_eq!(
        (owner.kind.as_str(), owner.uid.as_str(), owner.controller),
        ("Service", "uid-web", Some(true))
    );
    assert_eq!(s.address_type, "IPv4");
    assert_eq!(s.ports[0].port, Some(8080), "named targetPort resolved");
    assert_eq!(s.ports[0].name.as_deref(), Some("http"));
    // (address, ready, serving, terminating)
    let want = [
        ("10.1.0.1", true, true, false),
        ("10.1.0.2", false, false, false),
        ("10.1.0.3", false, true, true),
    ];
    let mut got: Vec<(String, bool, bool, bool)> = s
        .endpoints
        .iter()
        .map(|e| {
            let c = e.conditions.clone().unwrap();
            (
                e.addresses[0].clone(),
                c.ready.unwrap(),
                c.serving.unwrap(),
                c.terminating.unwrap(),
            )
        })
        .collect();
    got.sort();
    let want: Vec<(String, bool, bool, bool)> = want
        .iter()
        .map(|(a, r, s, t)| (a.to_string(), *r, *s, *t))
        .collect();
    assert_eq!(got, want);
    assert!(
        s.endpoints
            .iter()
            .all(|e| e.node_name.as_deref() == Some("node-a"))
    );
}

#[test]
fn pods_resolving_different_ports_get_different_slices() {
    let svc = service("web", IntOrString::String("web".into()));
    let all = vec![
        pod("a", "10.1.0.1", true, 8080),
        pod("b", "10.1.0.2", true, 9090),
        pod("c", "10.1.0.3", true, 8080),
    ];
    let changes = reconcile_service(&svc, &all, &[]);
    let mut sizes: Vec<(i32, usize)> = changes
        .create
        .iter()
        .map(|s| (s.ports[0].port.unwrap(), s.endpoints.len()))
        .collect();
    sizes.sort();
    assert_eq!(sizes, vec![(8080, 2), (9090, 1)]);
}

#[test]
fn headless_hostname_and_zone_hints() {
    let mut svc = service("db", IntOrString::Int(5432));
    let spec = svc.spec.as_mut().unwrap();
    spec.cluster_ip = Some("None".into());
    spec.traffic_distribution = Some("PreferClose".into());
    let mut p = pod("db-0", "10.1.0.1", true, 5432);
    p.spec.as_mut().unwrap().hostname = Some("db-0".into());
    p.spec.as_mut().unwrap().subdomain = Some("db".into());
    let r = SliceReconciler {
        node_zones: [("node-a".to_string(), "zone-1".to_string())].into(),
        ..Default::default()
    };
    let changes = r.reconcile(&svc, &[p], &[]);
    let ep = &changes.create[0].endpoints[0];
    assert_eq!(ep.hostname.as_deref(), Some("db-0"));
    assert_eq!(ep.zone.as_deref(), Some("zone-1"));
    assert_eq!(ep.hints.as_ref().unwrap().for_zones[0].name, "zone-1");
    assert!(
        changes.create[0]
            .metadata
            .labels
            .contains_key("service.kubernetes.io/headless")
    );
}

#[test]
fn minimal_churn_scale_and_single_pod_change() {
    let svc = service("web", IntOrString::Int(8080));
    let mut slices = Vec::new();
    let mut n = 0;
    // 0 pods: one placeholder slice; a second reconcile writes nothing.
    let c = reconcile_service(&svc, &[], &slices);
    assert_eq!((c.create.len(), c.writes()), (1, 1));
    apply(&mut slices, c, &mut n);
    assert!(reconcile_service(&svc, &[], &slices).is_empty());
    // 250 pods: the placeholder is reused, then two new slices: 3 writes, slices <= 100.
    let mut current = pods(250);
    let c = reconcile_service(&svc, &current, &slices);
    assert_eq!((c.update.len(), c.create.len(), c.delete.len()), (1, 2, 0));
    apply(&mut slices, c, &mut n);
    assert_eq!(total(&slices), 250);
    assert!(slices.iter().all(|s| s.endpoints.len() <= 100));
    assert!(
        reconcile_service(&svc, &current, &slices).is_empty(),
        "steady state writes nothing"
    );
    // One pod turns not ready: exactly one slice written.
    current[42] = pod("p42", "10.1.0.43", false, 8080);
    let c = reconcile_service(&svc, &current, &slices);
    assert_eq!(c.writes(), 1);
    apply(&mut slices, c, &mut n);
    // One pod goes, one comes: the new one fills the slice that has room (one write each way at most).
    current.remove(7);
    current.push(pod("new", "10.2.0.1", true, 8080));
    let c = reconcile_service(&svc, &current, &slices);
    assert!(
        c.writes() <= 2 && c.create.is_empty(),
        "{:?}",
        (c.update.len(), c.create.len(), c.delete.len())
    );
    apply(&mut slices, c, &mut n);
    assert_eq!(total(&slices), 250);
    // 250 -> 3.
    current.truncate(3);
    let c = reconcile_service(&svc, &current, &slices);
    assert!(c.writes() <= 3);
    apply(&mut slices, c, &mut n);
    assert_eq!(total(&slices), 3);
    assert!(slices.len() <= 3 && slices.iter().all(|s| !s.endpoints.is_empty()));
    // Back to 0: a placeholder remains.
    let c = reconcile_service(&svc, &[], &slices);
    apply(&mut slices, c, &mut n);
    assert_eq!((slices.len(), total(&slices)), (1, 0));
}

#[test]
fn legacy_endpoints_ready_not_ready_and_truncation() {
    let svc = service("web", IntOrString::Int(8080));
    let eps = desired_endpoints(
        &svc,
        &[
            pod("a", "10.1.0.1", true, 1),
            pod("b", "10.1.0.2", false, 1),
        ],
    );
    assert_eq!(eps.metadata.name.as_deref(), Some("web"));
    assert_eq!(eps.subsets.len(), 1);
    assert_eq!(eps.subsets[0].addresses[0].ip, "10.1.0.1");
    assert_eq!(eps.subsets[0].not_ready_addresses[0].ip, "10.1.0.2");
    assert_eq!(eps.subsets[0].ports[0].port, 8080);
    assert!(eps.metadata.annotations.is_empty());
    // (ready, not ready) -> (kept ready, kept not ready)
    let table = [
        ((900, 300), (900, 100)),
        ((1200, 10), (1000, 0)),
        ((500, 500), (500, 500)),
    ];
    for ((r, nr), (wr, wnr)) in table {
        let mut all = Vec::new();
        for i in 0..r + nr {
            all.push(pod(
                &format!("p{i}"),
                &format!("10.{}.{}.{}", i / 62500, (i / 250) % 250, i % 250 + 1),
                i < r,
                1,
            ));
        }
        let eps = desired_endpoints(&svc, &all);
        let ready: usize = eps.subsets.iter().map(|s| s.addresses.len()).sum();
        let not_ready: usize = eps
            .subsets
            .iter()
            .map(|s| s.not_ready_addresses.len())
            .sum();
        assert_eq!((ready, not_ready), (wr, wnr), "({r}, {nr})");
        let truncated = eps
            .metadata
            .annotations
            .get("endpoints.kubernetes.io/over-capacity")
            .map(String::as_str);
        assert_eq!(
            truncated,
            (r + nr > 1000).then_some("truncated"),
            "({r}, {nr})"
        );
    }
}

async fn slice_list(store: &Arc<dyn Store>) -> Vec<EndpointSlice> {
    Api::<EndpointSlice>::namespaced(store.clone(), "default")
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
}

#[tokio::test]
async fn store_scenario_scales_0_250_3_with_counted_writes() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let svcs: Api<Service> = Api::namespaced(store.clone(), "default");
    let pod_api: Api<Pod> = Api::namespaced(store.clone(), "default");
    let svc = service("web", IntOrString::Int(8080));
    svcs.create(&svc).await.unwrap();
    let ctl = EndpointSliceController::new(store.clone());
    let st = ctl.sync_service("default", "web").await.unwrap();
    assert_eq!((st.created, st.slice_writes()), (1, 1), "placeholder");
    let mut created = Vec::new();
    for p in pods(250) {
        created.push(pod_api.create(&p).await.unwrap());
    }
    let st = ctl.sync_service("default", "web").await.unwrap();
    assert_eq!(st.slice_writes(), 3);
    let slices = slice_list(&store).await;
    assert_eq!((slices.len(), total(&slices)), (3, 250));
    assert!(slices.iter().all(
        |s| s.endpoints.len() <= 100 && s.metadata.name.as_deref().unwrap().starts_with("web-")
    ));
    assert_eq!(
        ctl.sync_service("default", "web")
            .await
            .unwrap()
            .slice_writes(),
        0
    );
    // A pod turning not-ready: one write, and it leaves the ready set.
    let mut p = created[10].clone();
    p.status.as_mut().unwrap().conditions[0].status = "False".into();
    pod_api.update_status(&p).await.unwrap();
    let st = ctl.sync_service("default", "web").await.unwrap();
    assert_eq!(st.slice_writes(), 1);
    assert!(st.endpoints_written);
    let ready: usize = slice_list(&store)
        .await
        .iter()
        .flat_map(|s| &s.endpoints)
        .filter(|e| e.conditions.as_ref().unwrap().ready == Some(true))
        .count();
    assert_eq!(ready, 249);
    // Scale to 3.
    for p in &created[3..] {
        pod_api
            .delete(p.metadata.name.as_deref().unwrap(), &Default::default())
            .await
            .unwrap();
    }
    let st = ctl.sync_service("default", "web").await.unwrap();
    assert!(st.slice_writes() <= 3, "{st:?}");
    let slices = slice_list(&store).await;
    assert_eq!(total(&slices), 3);
    let eps = Api::<kybern_core::api::core::v1::Endpoints>::namespaced(store.clone(), "default")
        .get("web")
        .await
        .unwrap();
    assert_eq!(
        eps.subsets.iter().map(|s| s.addresses.len()).sum::<usize>(),
        3
    );
    // Deleting the Service removes its slices.
    svcs.delete("web", &Default::default()).await.unwrap();
    ctl.sync_service("default", "web").await.unwrap();
    assert!(slice_list(&store).await.is_empty());
}

/// One step of a random pod history for the incremental-index property.
#[derive(Clone, Debug)]
enum PodOp {
    /// Creates pod `i` (no-op if it exists) with readiness and one of two container ports.
    Add(usize, bool, bool),
    /// Deletes pod `i`.
    Delete(usize),
    /// Flips readiness.
    ToggleReady(usize),
    /// Gives the pod a new IP.
    NewIp(usize),
    /// Switches the container port (the pod moves to the other port list's slices).
    SwitchPort(usize),
    /// Flips whether the Service's selector matches the pod.
    ToggleSelected(usize),
}

/// The state the property test tracks per pod: (ready, second port, ip version, selected).
type PodState = (bool, bool, usize, bool);

fn pod_from_state(i: usize, (ready, second, ipv, selected): PodState) -> Pod {
    let mut p = pod(
        &format!("p{i}"),
        &format!("10.{ipv}.{}.{}", i / 250, i % 250 + 1),
        ready,
        if second { 9090 } else { 8080 },
    );
    if !selected {
        p.metadata.labels.insert("app".into(), "other".into());
    }
    p
}

fn pod_op() -> impl proptest::strategy::Strategy<Value = PodOp> {
    use proptest::prelude::*;
    let i = 0usize..24;
    prop_oneof![
        3 => (i.clone(), any::<bool>(), any::<bool>()).prop_map(|(i, r, s)| PodOp::Add(i, r, s)),
        2 => i.clone().prop_map(PodOp::Delete),
        2 => i.clone().prop_map(PodOp::ToggleReady),
        1 => i.clone().prop_map(PodOp::NewIp),
        1 => i.clone().prop_map(PodOp::SwitchPort),
        1 => i.prop_map(PodOp::ToggleSelected),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Incremental (index) == full reconcile: after every single-pod change applied through
    /// `SliceIndex::pod_changed`, a full reconcile of the same pods over the resulting slices
    /// writes nothing, no slice exceeds the maximum, at most two slices were written, and the
    /// maintained index equals one rebuilt from the slices.
    #[test]
    fn incremental_index_matches_full_reconcile(
        initial in proptest::collection::vec((proptest::prelude::any::<bool>(), proptest::prelude::any::<bool>()), 0..20),
        ops in proptest::collection::vec(pod_op(), 1..60),
        max in 2usize..6,
    ) {
        use kybern_netsvc::endpointslice::SliceIndex;
        use std::collections::BTreeMap;
        let svc = service("web", IntOrString::String("web".into()));
        let r = SliceReconciler { max_endpoints_per_slice: max, ..Default::default() };
        let mut state: BTreeMap<usize, PodState> = initial
            .iter()
            .enumerate()
            .map(|(i, (ready, second))| (i, (*ready, *second, 0, true)))
            .collect();
        let pods_of = |state: &BTreeMap<usize, PodState>| -> Vec<Pod> {
            state.iter().map(|(i, st)| pod_from_state(*i, *st)).collect()
        };
        let mut slices = Vec::new();
        let mut n = 0;
        let c = r.reconcile(&svc, &pods_of(&state), &slices);
        apply(&mut slices, c, &mut n);
        let mut index = SliceIndex::new(&svc, slices.clone());
        for op in ops {
            let i = match op {
                PodOp::Add(i, ready, second) => {
                    state.entry(i).or_insert((ready, second, 0, true));
                    i
                }
                PodOp::Delete(i) => {
                    state.remove(&i);
                    i
                }
                PodOp::ToggleReady(i) | PodOp::NewIp(i) | PodOp::SwitchPort(i) | PodOp::ToggleSelected(i) => {
                    if let Some(st) = state.get_mut(&i) {
                        match op {
                            PodOp::ToggleReady(_) => st.0 = !st.0,
                            PodOp::SwitchPort(_) => st.1 = !st.1,
                            PodOp::NewIp(_) => st.2 += 1,
                            _ => st.3 = !st.3,
                        }
                    }
                    i
                }
            };
            let current = state.get(&i).map(|st| pod_from_state(i, *st));
            let c = index.pod_changed(&r, &svc, &format!("p{i}"), current.as_ref());
            proptest::prop_assert!(c.writes() <= 2, "{op:?}: {} writes", c.writes());
            let (written, deleted) = apply(&mut slices, c, &mut n);
            for name in deleted {
                index.remove(&name);
            }
            for s in written {
                index.upsert(s);
            }
            let full = r.reconcile(&svc, &pods_of(&state), &slices);
            proptest::prop_assert!(full.is_empty(), "{op:?}: full reconcile still writes {:?}", (full.create.len(), full.update.len(), full.delete.len()));
            proptest::prop_assert!(slices.iter().all(|s| s.endpoints.len() <= max));
            proptest::prop_assert_eq!(&index, &SliceIndex::new(&svc, slices.clone()));
        }
    }
}

/// Polls `check` until it holds (10 s at most).
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..1000 {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

fn ready_count(slices: &[EndpointSlice]) -> usize {
    slices
        .iter()
        .flat_map(|s| &s.endpoints)
        .filter(|e| e.conditions.as_ref().unwrap().ready == Some(true))
        .count()
}

/// The controller on the runtime: 0 -> 250 -> 3 pods, every pod change through the index
/// (no full sync after the first), slices <= 100, one write for a pod turning not-ready, and
/// a full reconcile of the end state writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_controller_scales_incrementally() {
    use kybern_netsvc::endpointslice::runtime::{self, Settings, Stats};
    use kybern_reconciler::runtime::{SharedInformers, Shutdown};
    use std::sync::atomic::Ordering;

    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let svcs: Api<Service> = Api::namespaced(store.clone(), "default");
    let pod_api: Api<Pod> = Api::namespaced(store.clone(), "default");
    svcs.create(&service("web", IntOrString::Int(8080)))
        .await
        .unwrap();
    let stats = Arc::new(Stats::default());
    let shutdown = Shutdown::new();
    let informers = SharedInformers::new();
    let task = {
        let (store, stats, shutdown) = (store.clone(), stats.clone(), shutdown.clone());
        tokio::spawn(async move {
            runtime::run(store, &informers, shutdown, Settings::default(), stats).await;
        })
    };
    eventually("placeholder slice", || async {
        let s = slice_list(&store).await;
        s.len() == 1 && s[0].endpoints.is_empty()
    })
    .await;
    let full_syncs = stats.full_syncs.load(Ordering::Relaxed);
    assert_eq!(full_syncs, 1);

    // 0 -> 250.
    let mut created = Vec::new();
    for p in pods(250) {
        created.push(pod_api.create(&p).await.unwrap());
    }
    eventually("250 ready endpoints", || async {
        ready_count(&slice_list(&store).await) == 250
    })
    .await;
    let slices = slice_list(&store).await;
    assert_eq!((slices.len(), total(&slices)), (3, 250));
    assert!(slices.iter().all(|s| s.endpoints.len() <= 100));
    assert_eq!(stats.full_syncs.load(Ordering::Relaxed), full_syncs);
    assert!(stats.incremental_pods.load(Ordering::Relaxed) >= 250);

    // One pod turns not-ready: it leaves rotation, and exactly one slice is rewritten (seen
    // in the store: one resourceVersion changes, the set of slices stays).
    let versions = |slices: &[EndpointSlice]| -> std::collections::BTreeMap<String, String> {
        slices
            .iter()
            .map(|s| {
                let m = &s.metadata;
                (m.name.clone().unwrap(), m.resource_version.clone().unwrap())
            })
            .collect()
    };
    let before = versions(&slices);
    let mut p = created[10].clone();
    p.status.as_mut().unwrap().conditions[0].status = "False".into();
    pod_api.update_status(&p).await.unwrap();
    eventually("pod 10 not ready", || async {
        ready_count(&slice_list(&store).await) == 249
    })
    .await;
    let after = versions(&slice_list(&store).await);
    assert!(after.keys().eq(before.keys()));
    let rewritten = after.iter().filter(|(n, v)| before[*n] != **v).count();
    assert_eq!(rewritten, 1);
    let ip = p.status.as_ref().unwrap().pod_ip.clone().unwrap();
    let eps_api: Api<kybern_core::api::core::v1::Endpoints> =
        Api::namespaced(store.clone(), "default");
    eventually("Endpoints mirror moved the address", || async {
        eps_api.get_opt("web").await.unwrap().is_some_and(|e| {
            e.subsets
                .iter()
                .any(|s| s.not_ready_addresses.iter().any(|a| a.ip == ip))
        })
    })
    .await;

    // 250 -> 3: every deletion rewrites (at most) the one slice holding the pod.
    let writes = stats.slice_writes();
    for p in &created[3..] {
        pod_api
            .delete(p.metadata.name.as_deref().unwrap(), &Default::default())
            .await
            .unwrap();
    }
    eventually("3 endpoints left", || async {
        total(&slice_list(&store).await) == 3
    })
    .await;
    let slices = slice_list(&store).await;
    assert!(slices.len() <= 3 && slices.iter().all(|s| !s.endpoints.is_empty()));
    assert!(stats.slice_writes() - writes <= 247);
    assert_eq!(stats.full_syncs.load(Ordering::Relaxed), full_syncs);
    // The full (reference) reconcile agrees with the incremental end state.
    let st = EndpointSliceController::new(store.clone())
        .sync_service("default", "web")
        .await
        .unwrap();
    assert_eq!(st.slice_writes(), 0, "{st:?}");

    shutdown.trigger();
    task.await.unwrap();
}

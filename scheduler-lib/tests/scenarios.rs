//! Scenario tests: the scheduler end to end over a MemoryStore, one scheduling decision at a
//! time (`schedule_next`), and the running loop.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use kybern_core::api::core::v1::{Node, Pod};
use kybern_core::api::meta::v1::{LabelSelector, ObjectMeta};
use kybern_core::api::policy::v1::{
    PodDisruptionBudget, PodDisruptionBudgetSpec, PodDisruptionBudgetStatus,
};
use kybern_reconciler::{Api, MemoryStore, Store};
use kybern_scheduler::framework::{Code, Framework, PermitFn, Status};
use kybern_scheduler::plugins::default_binder::DefaultBinder;
use kybern_scheduler::plugins::{DefaultPluginArgs, default_builder, default_framework};
use kybern_scheduler::sim::{NodeBuilder, PodBuilder};
use kybern_scheduler::{PodEvent, ScheduleOutcome, Scheduler};

struct Env {
    store: Arc<dyn Store>,
    s: Scheduler,
}

impl Env {
    fn new() -> Env {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let s = Scheduler::builder(store.clone()).build().unwrap();
        Env { store, s }
    }

    fn with_profiles(profiles: Vec<Framework>) -> Env {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let mut b = Scheduler::builder(store.clone());
        for p in profiles {
            b = b.profile(p);
        }
        Env {
            s: b.build().unwrap(),
            store,
        }
    }

    async fn node(&self, n: Node) {
        let created = Api::<Node>::all(self.store.clone())
            .create(&n)
            .await
            .unwrap();
        self.s.on_node(PodEvent::Added(Arc::new(created)));
    }

    async fn pod(&self, p: Pod) -> Pod {
        let created = Api::<Pod>::namespaced(self.store.clone(), "default")
            .create(&p)
            .await
            .unwrap();
        self.s.on_pod(PodEvent::Added(Arc::new(created.clone())));
        created
    }

    /// A pod already bound to a node.
    async fn bound(&self, p: Pod, node: &str) {
        let mut p = p;
        p.spec.as_mut().unwrap().node_name = Some(node.into());
        self.pod(p).await;
    }

    fn next(&self) -> ScheduleOutcome {
        self.s.schedule_next().expect("a pod is ready")
    }

    fn next_node(&self) -> String {
        match self.next() {
            ScheduleOutcome::Assumed { node, .. } => node,
            other => panic!("expected a placement, got {other:?}"),
        }
    }

    fn next_unschedulable(&self) -> String {
        match self.next() {
            ScheduleOutcome::Unschedulable { message, .. } => message,
            other => panic!("expected unschedulable, got {other:?}"),
        }
    }

    async fn settle(&self) {
        for _ in 0..50 {
            tokio::task::yield_now().await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn node(name: &str, cpu: &str) -> NodeBuilder {
    NodeBuilder::new(name, cpu, "8Gi")
}

fn pod(name: &str, cpu: &str) -> PodBuilder {
    PodBuilder::new("default", name).requests(cpu, "100Mi")
}

/// One scenario: nodes, already-bound pods, then pods scheduled in order; the expected node
/// (or unschedulable message) per pod.
async fn check(
    nodes: Vec<NodeBuilder>,
    bound: Vec<(PodBuilder, &str)>,
    pods: Vec<PodBuilder>,
    want: &[&str],
) {
    let env = Env::new();
    for n in nodes {
        env.node(n.build()).await;
    }
    for (p, n) in bound {
        env.bound(p.build(), n).await;
    }
    for (p, w) in pods.into_iter().zip(want) {
        env.pod(p.build()).await;
        match env.next() {
            ScheduleOutcome::Assumed { node, pod } => assert_eq!(&node, w, "pod {pod}"),
            ScheduleOutcome::Unschedulable { message, pod, .. } => {
                assert_eq!(&message, w, "pod {pod}")
            }
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn fit_error_message_is_upstreams() {
    // a, b, c lack free cpu (preemption might help, but nothing has a lower priority);
    // d, e have untolerated taints (preemption cannot help).
    check(
        vec![
            node("a", "2"),
            node("b", "2"),
            node("c", "2"),
            node("d", "8").taint("dedicated", "gpu", "NoSchedule"),
            node("e", "8").taint("dedicated", "gpu", "NoSchedule"),
        ],
        vec![(pod("x", "1"), "a"), (pod("y", "1"), "b"), (pod("z", "1"), "c")],
        vec![pod("big", "2")],
        &["0/5 nodes are available: 2 node(s) had untolerated taint(s), 3 Insufficient cpu. preemption: 0/5 nodes are available: 2 Preemption is not helpful for scheduling, 3 No preemption victims found for incoming pod."],
    )
    .await;
    // A request larger than any node's allocatable: preemption cannot help anywhere.
    check(
        vec![node("a", "1"), node("b", "1")],
        vec![],
        vec![pod("huge", "2")],
        &["0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."],
    )
    .await;
}

#[tokio::test]
async fn plugin_filters() {
    // NodeUnschedulable, NodeName, NodePorts, NodeAffinity, TaintToleration with toleration.
    check(
        vec![node("cordoned", "4").unschedulable(), node("open", "4")],
        vec![],
        vec![pod("p", "1")],
        &["open"],
    )
    .await;
    // NodeName (pods with spec.nodeName bypass the queue; the filter is checked directly).
    {
        use kybern_scheduler::framework::{CycleState, FilterPlugin};
        let nn = kybern_scheduler::plugins::node_name::NodeName::new();
        let p =
            kybern_scheduler::cache::PodInfo::new(Arc::new(pod("p", "1").node_name("b").build()));
        let a = kybern_scheduler::cache::NodeInfo::new(Arc::new(node("a", "1").build()));
        let b = kybern_scheduler::cache::NodeInfo::new(Arc::new(node("b", "1").build()));
        assert!(nn.filter(&CycleState::new(), &p, &b).is_success());
        let st = nn.filter(&CycleState::new(), &p, &a);
        assert_eq!(
            (st.code(), st.message().as_str()),
            (
                Code::UnschedulableAndUnresolvable,
                "node(s) didn't match the requested node name"
            )
        );
    }
    check(
        vec![node("a", "4"), node("b", "4")],
        vec![(pod("web-a", "0").host_port(80), "a")],
        vec![pod("web", "1").host_port(80), pod("web2", "1").host_port(80)],
        &["b", "0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod."],
    )
    .await;
    check(
        vec![node("a", "4").label("disk", "hdd"), node("b", "4").label("disk", "ssd")],
        vec![],
        vec![pod("p", "1").node_selector("disk", "ssd"), pod("q", "1").node_affinity_in("disk", &["nvme"])],
        &["b", "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."],
    )
    .await;
    check(
        vec![node("a", "4").taint("gpu", "", "NoSchedule")],
        vec![],
        vec![pod("p", "1").toleration("gpu", "Exists", "", "NoSchedule")],
        &["a"],
    )
    .await;
}

#[tokio::test]
async fn scoring_plugins() {
    // LeastAllocated: the emptier node wins.
    check(
        vec![node("busy", "4"), node("idle", "4")],
        vec![(pod("x", "3"), "busy")],
        vec![pod("p", "500m")],
        &["idle"],
    )
    .await;
    // Preferred node affinity (weight 2) beats a small resource difference.
    check(
        vec![node("a", "4").label("tier", "gold"), node("b", "4")],
        vec![(pod("x", "1"), "a")],
        vec![pod("p", "100m").prefer_node("tier", "gold", 100)],
        &["a"],
    )
    .await;
    // PreferNoSchedule taints score lower.
    check(
        vec![
            node("a", "4").taint("spot", "", "PreferNoSchedule"),
            node("b", "4"),
        ],
        vec![(pod("x", "1"), "b")],
        vec![pod("p", "100m")],
        &["b"],
    )
    .await;
    // ImageLocality: the node with the (large) image wins.
    check(
        vec![
            node("a", "4"),
            node("b", "4").image("example.com/big:1", 900 * 1024 * 1024),
        ],
        vec![(pod("x", "1"), "b")],
        vec![pod("p", "100m").image("example.com/big:1")],
        &["b"],
    )
    .await;
    // Preferred pod affinity.
    check(
        vec![node("a", "4"), node("b", "4")],
        vec![
            (pod("db", "1").label("app", "db"), "a"),
            (pod("y", "2"), "b"),
        ],
        vec![pod("p", "100m").prefer_pod_affinity(("app", "db"), "kubernetes.io/hostname", 100)],
        &["a"],
    )
    .await;
}

#[tokio::test]
async fn inter_pod_affinity_and_spread() {
    let web = |n: &str| {
        pod(n, "100m")
            .label("app", "web")
            .anti_affinity(("app", "web"), "kubernetes.io/hostname")
    };
    check(
        vec![node("a", "4"), node("b", "4")],
        vec![],
        vec![web("w1"), web("w2"), web("w3")],
        &["a", "b", "0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod."],
    )
    .await;
    // Required affinity: only the node with a matching pod; with none, a pod matching its
    // own term may go anywhere.
    check(
        vec![node("a", "4"), node("b", "4")],
        vec![(pod("cache", "100m").label("app", "cache"), "b")],
        vec![pod("p", "100m").pod_affinity(("app", "cache"), "kubernetes.io/hostname")],
        &["b"],
    )
    .await;
    check(
        vec![node("a", "4")],
        vec![],
        vec![pod("p", "100m").pod_affinity(("app", "cache"), "kubernetes.io/hostname")],
        &["0/1 nodes are available: 1 node(s) didn't match pod affinity rules. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."],
    )
    .await;
    // Existing pods' anti-affinity repels the incoming pod.
    check(
        vec![node("a", "4"), node("b", "4")],
        vec![(
            pod("loner", "100m").anti_affinity(("app", "noisy"), "kubernetes.io/hostname"),
            "a",
        )],
        vec![pod("n", "100m").label("app", "noisy")],
        &["b"],
    )
    .await;
    // Spread across zones, maxSkew 1.
    let s = |n: &str| {
        pod(n, "100m").label("app", "s").spread(
            "topology.kubernetes.io/zone",
            1,
            "DoNotSchedule",
            ("app", "s"),
        )
    };
    check(
        vec![
            node("a", "4").zone("z1"),
            node("b", "4").zone("z2"),
            node("c", "4"),
        ],
        vec![(s("s0"), "a")],
        vec![s("s1")],
        &["b"],
    )
    .await;
}

#[tokio::test]
async fn preemption_picks_lowest_priority_minimal_victims() {
    let env = Env::new();
    env.node(node("a", "4").build()).await;
    env.node(node("b", "4").build()).await;
    // a: two priority-1 pods of 2 cpu; b: a priority-5 pod of 2 and a priority-1 pod of 2.
    env.bound(pod("a1", "2").priority(1).build(), "a").await;
    env.bound(pod("a2", "2").priority(1).build(), "a").await;
    env.bound(pod("b1", "2").priority(5).build(), "b").await;
    env.bound(pod("b2", "2").priority(1).build(), "b").await;
    env.pod(pod("vip", "2").priority(10).build()).await;
    match env.next() {
        ScheduleOutcome::Unschedulable {
            nominated_node,
            message,
            ..
        } => {
            // Both nodes need one victim; a's highest victim priority (1) is lower than b's
            // would be if it took b1, but b can give b2 (priority 1) alone too: tie on all
            // criteria except order → the first candidate, a.
            assert_eq!(nominated_node.as_deref(), Some("a"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    env.settle().await;
    let pods = Api::<Pod>::namespaced(env.store.clone(), "default");
    let left: Vec<String> = pods
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .iter()
        .map(|p| p.metadata.name.clone().unwrap())
        .collect();
    // Exactly one victim (minimal set), from node a, lowest priority.
    assert_eq!(left.len(), 4, "{left:?}");
    assert!(
        left.contains(&"b1".to_string()) && left.contains(&"b2".to_string()),
        "{left:?}"
    );
    let vip = pods.get("vip").await.unwrap();
    assert_eq!(
        vip.status.unwrap().nominated_node_name.as_deref(),
        Some("a")
    );
}

#[tokio::test]
async fn preemption_respects_pdbs_and_priorities() {
    let env = Env::new();
    env.node(node("a", "4").build()).await;
    env.node(node("b", "4").build()).await;
    env.bound(
        pod("a1", "2").priority(1).label("app", "guarded").build(),
        "a",
    )
    .await;
    env.bound(
        pod("a2", "2").priority(1).label("app", "guarded").build(),
        "a",
    )
    .await;
    env.bound(pod("b1", "2").priority(2).build(), "b").await;
    env.bound(pod("b2", "2").priority(2).build(), "b").await;
    env.s.on_pdb(PodEvent::Added(Arc::new(PodDisruptionBudget {
        metadata: ObjectMeta {
            name: Some("guard".into()),
            namespace: Some("default".into()),
            ..ObjectMeta::default()
        },
        spec: Some(PodDisruptionBudgetSpec {
            selector: Some(LabelSelector {
                match_labels: [("app".to_string(), "guarded".to_string())].into(),
                ..LabelSelector::default()
            }),
            ..PodDisruptionBudgetSpec::default()
        }),
        status: Some(PodDisruptionBudgetStatus {
            disruptions_allowed: 0,
            ..PodDisruptionBudgetStatus::default()
        }),
    })));
    env.pod(pod("vip", "2").priority(10).build()).await;
    match env.next() {
        ScheduleOutcome::Unschedulable { nominated_node, .. } => {
            // a's victim would violate the PDB: b is chosen despite higher-priority victims.
            assert_eq!(nominated_node.as_deref(), Some("b"));
        }
        other => panic!("{other:?}"),
    }
    // preemptionPolicy: Never.
    env.pod(
        pod("polite", "4")
            .priority(10)
            .preemption_policy("Never")
            .build(),
    )
    .await;
    let msg = env.next_unschedulable();
    assert!(
        msg.ends_with("preemption: not eligible due to preemptionPolicy=Never."),
        "{msg}"
    );
}

#[tokio::test]
async fn failure_sets_pod_scheduled_false() {
    let env = Env::new();
    env.node(node("a", "1").build()).await;
    env.pod(pod("big", "2").build()).await;
    let msg = env.next_unschedulable();
    env.settle().await;
    let p = Api::<Pod>::namespaced(env.store.clone(), "default")
        .get("big")
        .await
        .unwrap();
    let c = p
        .status
        .unwrap()
        .conditions
        .into_iter()
        .find(|c| c.type_ == "PodScheduled")
        .unwrap();
    assert_eq!(
        (c.status.as_str(), c.reason.as_deref()),
        ("False", Some("Unschedulable"))
    );
    assert_eq!(c.message.as_deref(), Some(msg.as_str()));
}

#[tokio::test]
async fn binding_writes_node_name() {
    let env = Env::new();
    env.node(node("a", "4").build()).await;
    env.pod(pod("p", "1").build()).await;
    assert_eq!(env.next_node(), "a");
    env.settle().await;
    let p = Api::<Pod>::namespaced(env.store.clone(), "default")
        .get("p")
        .await
        .unwrap();
    assert_eq!(p.spec.unwrap().node_name.as_deref(), Some("a"));
    assert_eq!(env.s.stats().1, 1);
}

#[tokio::test]
async fn profiles_serve_their_scheduler_names() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let args = DefaultPluginArgs::default();
    let default = default_framework("default-scheduler", store.clone(), &args).unwrap();
    let packer = default_builder("packer", &args)
        .unwrap()
        .without("NodeResourcesFit")
        .pre_filter(
            kybern_scheduler::plugins::node_resources::Fit::new(
                kybern_scheduler::plugins::node_resources::FitArgs {
                    strategy:
                        kybern_scheduler::plugins::node_resources::ScoringStrategy::MostAllocated,
                    ..Default::default()
                },
            )
            .unwrap(),
        )
        .filter(kybern_scheduler::plugins::node_resources::Fit::new(Default::default()).unwrap())
        .score(
            kybern_scheduler::plugins::node_resources::Fit::new(
                kybern_scheduler::plugins::node_resources::FitArgs {
                    strategy:
                        kybern_scheduler::plugins::node_resources::ScoringStrategy::MostAllocated,
                    ..Default::default()
                },
            )
            .unwrap(),
            5,
        )
        .bind(DefaultBinder::new(store.clone()))
        .build()
        .unwrap();
    let env = Env::with_profiles(vec![default, packer]);
    env.node(node("busy", "4").build()).await;
    env.node(node("idle", "4").build()).await;
    env.bound(pod("x", "2").build(), "busy").await;
    env.pod(pod("spread", "500m").build()).await;
    assert_eq!(env.next_node(), "idle");
    env.pod(pod("packed", "500m").scheduler_name("packer").build())
        .await;
    assert_eq!(env.next_node(), "busy");
    // A pod for a scheduler nobody serves is ignored.
    env.pod(pod("other", "500m").scheduler_name("someone-else").build())
        .await;
    assert!(env.s.schedule_next().is_none());
    // Duplicate names are refused.
    let dup = Scheduler::builder(store.clone())
        .profile(default_framework("x", store.clone(), &args).unwrap())
        .profile(default_framework("x", store.clone(), &args).unwrap())
        .build();
    assert!(dup.is_err());
}

#[tokio::test(start_paused = true)]
async fn permit_wait_allow_and_timeout() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let fw = default_builder("default-scheduler", &DefaultPluginArgs::default())
        .unwrap()
        .permit(PermitFn::new("Gang", |_pod, _node| {
            (Status::code_only(Code::Wait), Duration::from_secs(5))
        }))
        .bind(DefaultBinder::new(store.clone()))
        .build()
        .unwrap();
    let s = Scheduler::builder(store.clone())
        .profile(fw)
        .build()
        .unwrap();
    let env = Env {
        store: store.clone(),
        s,
    };
    env.node(node("a", "4").build()).await;
    let allowed = env.pod(pod("allowed", "1").build()).await;
    assert_eq!(env.next_node(), "a");
    let waiting = env
        .s
        .profile("default-scheduler")
        .unwrap()
        .waiting_pods()
        .clone();
    let key = allowed.metadata.uid.clone().unwrap();
    assert!(waiting.contains(&key));
    waiting.allow(&key, "Gang");
    env.settle().await;
    assert_eq!(env.s.stats().1, 1, "allowed pod is bound");

    let timed = env.pod(pod("timed-out", "1").build()).await;
    assert_eq!(env.next_node(), "a");
    tokio::time::sleep(Duration::from_secs(6)).await;
    env.settle().await;
    assert_eq!(env.s.stats().1, 1, "timed-out pod is not bound");
    let p = Api::<Pod>::namespaced(store, "default")
        .get("timed-out")
        .await
        .unwrap();
    let c = p
        .status
        .unwrap()
        .conditions
        .into_iter()
        .find(|c| c.type_ == "PodScheduled")
        .unwrap();
    assert_eq!(
        c.message.as_deref(),
        Some("rejected due to timeout after waiting 5s at plugin Gang")
    );
    assert!(
        !env.s
            .cache()
            .contains_pod(timed.metadata.uid.as_deref().unwrap())
    );
}

#[tokio::test(start_paused = true)]
async fn unschedulable_pod_retried_on_node_add_and_gates() {
    let env = Env::new();
    env.node(node("small", "1").build()).await;
    let big = env.pod(pod("big", "2").build()).await;
    env.next_unschedulable();
    let key = big.metadata.uid.clone().unwrap();
    use kybern_scheduler::queue::QueueLocation;
    assert_eq!(
        env.s.queue().lock().location(&key),
        Some(QueueLocation::Unschedulable)
    );
    // A node too small does not help (NodeResourcesFit's hint).
    env.node(node("small2", "1").build()).await;
    assert_eq!(
        env.s.queue().lock().location(&key),
        Some(QueueLocation::Unschedulable)
    );
    // A big node does: the pod moves to backoff; activeQ being empty, it is popped at once
    // (SchedulerPopFromBackoffQ, on by default in v1.33).
    env.node(node("large", "8").build()).await;
    assert_eq!(
        env.s.queue().lock().location(&key),
        Some(QueueLocation::Backoff)
    );
    assert_eq!(env.next_node(), "large");

    // Scheduling gates keep a pod out until removed.
    let mut gated = env
        .pod(pod("gated", "100m").gate("example.com/wait").build())
        .await;
    let gkey = gated.metadata.uid.clone().unwrap();
    assert_eq!(
        env.s.queue().lock().location(&gkey),
        Some(QueueLocation::Unschedulable)
    );
    assert!(env.s.schedule_next().is_none());
    gated.spec.as_mut().unwrap().scheduling_gates.clear();
    env.s.on_pod(PodEvent::Modified(Arc::new(gated)));
    // Least allocated: the idle small node.
    assert_eq!(env.next_node(), "small");
}

#[tokio::test]
async fn running_scheduler_binds_everything() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    for i in 0..20 {
        kybern_scheduler::sim::create(
            &store,
            &NodeBuilder::new(&format!("n{i}"), "4", "8Gi")
                .zone(&format!("z{}", i % 3))
                .build(),
        )
        .await
        .unwrap();
    }
    let s = Scheduler::builder(store.clone()).build().unwrap();
    let h = s.run().await.unwrap();
    for i in 0..200 {
        kybern_scheduler::sim::create(&store, &pod(&format!("p{i}"), "100m").build())
            .await
            .unwrap();
    }
    // One that never fits.
    kybern_scheduler::sim::create(&store, &pod("huge", "64").build())
        .await
        .unwrap();
    let pods = Api::<Pod>::namespaced(store.clone(), "default");
    let mut bound = 0;
    for _ in 0..500 {
        bound = pods
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .iter()
            .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some())
            .count();
        if bound == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(bound, 200);
    // The cache confirmed the bound pods from the watch.
    let snap = s.snapshot();
    let in_cache: usize = snap.nodes().iter().map(|n| n.pods().len()).sum();
    assert_eq!(in_cache, 200);
    let mut msg = String::new();
    for _ in 0..500 {
        let huge = pods.get("huge").await.unwrap();
        let c = huge
            .status
            .and_then(|s| s.conditions.into_iter().find(|c| c.type_ == "PodScheduled"));
        msg = c.and_then(|c| c.message).unwrap_or_default();
        if !msg.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        msg.starts_with("0/20 nodes are available: 20 Insufficient cpu."),
        "{msg:?}"
    );
    h.shutdown();
}

/// A Bind plugin that reports success without writing anything: the bound pod never comes
/// back through the intake, so the assumed pod stays assumed.
struct SilentBinder;

impl kybern_scheduler::framework::Plugin for SilentBinder {
    fn name(&self) -> &str {
        "SilentBinder"
    }
}

#[async_trait::async_trait]
impl kybern_scheduler::framework::BindPlugin for SilentBinder {
    async fn bind(
        &self,
        _state: &kybern_scheduler::framework::CycleState,
        _pod: &kybern_scheduler::cache::PodInfo,
        _node: &str,
    ) -> Status {
        Status::success()
    }
}

/// Upstream's cache cleanup: the running loop drops assumed pods whose binding finished
/// more than the TTL ago without the bound pod being seen; without a TTL they stay.
#[tokio::test(start_paused = true)]
async fn running_loop_expires_assumed_pods() {
    for (ttl, want_after) in [(Some(Duration::from_secs(30)), false), (None, true)] {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let fw = default_builder("default-scheduler", &DefaultPluginArgs::default())
            .unwrap()
            .bind(Arc::new(SilentBinder))
            .build()
            .unwrap();
        let s = Scheduler::builder(store.clone())
            .profile(fw)
            .config(kybern_scheduler::SchedulerConfig {
                assumed_ttl: ttl,
                ..Default::default()
            })
            .build()
            .unwrap();
        kybern_scheduler::sim::create(&store, &node("a", "4").build())
            .await
            .unwrap();
        let h = s.run().await.unwrap();
        kybern_scheduler::sim::create(&store, &pod("p", "1").build())
            .await
            .unwrap();
        let mut key = None;
        for _ in 0..200 {
            if s.stats().1 == 1 {
                let p = Api::<Pod>::namespaced(store.clone(), "default")
                    .get("p")
                    .await
                    .unwrap();
                key = p.metadata.uid;
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let key = key.expect("the pod was bound");
        assert!(s.cache().is_assumed(&key), "ttl {ttl:?}");
        tokio::time::sleep(Duration::from_secs(29)).await;
        assert!(s.cache().is_assumed(&key), "ttl {ttl:?}: expired early");
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(s.cache().is_assumed(&key), want_after, "ttl {ttl:?}");
        assert_eq!(
            s.snapshot().nodes()[0].pods().len(),
            usize::from(want_after)
        );
        h.shutdown();
    }
}

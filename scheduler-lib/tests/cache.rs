//! The cache and snapshot: incremental `update_snapshot` always equals a snapshot built from
//! scratch (property test over random operation sequences; the compact node rows included),
//! assumed pods and their expiry, and `percentageOfNodesToScore`; Filter verdicts on interned node labels equal those on the
//! labels themselves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use std::collections::HashMap;

use kybern_core::Selector;
use kybern_scheduler::cache::{
    Cache, NodeInfo, NodeRow, PodInfo, Snapshot, SpreadQuery, ZONE_LABEL,
};
use kybern_scheduler::framework::{CycleState, FilterPlugin, PreFilterPlugin};
use kybern_scheduler::num_feasible_nodes_to_find;
use kybern_scheduler::plugins::inter_pod_affinity::{InterPodAffinity, InterPodAffinityArgs};
use kybern_scheduler::plugins::pod_topology_spread::{PodTopologySpread, PodTopologySpreadArgs};
use kybern_scheduler::sim::{NodeBuilder, PodBuilder};
use proptest::prelude::*;
use tokio::time::Instant;

#[derive(Clone, Debug)]
enum Op {
    AddNode(u8),
    RemoveNode(u8),
    AddPod(u8, u8),
    AssumePod(u8, u8),
    ForgetPod(u8),
    RemovePod(u8),
    Snapshot,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..6).prop_map(Op::AddNode),
        (0u8..6).prop_map(Op::RemoveNode),
        (0u8..20, 0u8..6).prop_map(|(p, n)| Op::AddPod(p, n)),
        (0u8..20, 0u8..6).prop_map(|(p, n)| Op::AssumePod(p, n)),
        (0u8..20).prop_map(Op::ForgetPod),
        (0u8..20).prop_map(Op::RemovePod),
        Just(Op::Snapshot),
    ]
}

fn pod(i: u8, node: Option<u8>) -> Arc<PodInfo> {
    let mut b = PodBuilder::new("d", &format!("p{i}")).requests("100m", "10Mi");
    if i.is_multiple_of(3) {
        b = b
            .label("app", "x")
            .anti_affinity(("app", "x"), "kubernetes.io/hostname");
    }
    if let Some(n) = node {
        b = b.node_name(&format!("n{n}"));
    }
    let mut p = b.build();
    p.metadata.uid = Some(format!("uid-{i}"));
    Arc::new(PodInfo::new(Arc::new(p)))
}

fn summary(s: &Snapshot) -> Vec<(String, usize, i64, usize)> {
    let mut v: Vec<_> = s
        .nodes()
        .iter()
        .map(|n| {
            (
                n.name().to_owned(),
                n.pods().len(),
                n.requested.milli_cpu,
                n.pods_with_affinity().len(),
            )
        })
        .collect();
    v.sort();
    v
}

proptest! {
    #[test]
    fn incremental_snapshot_equals_fresh(ops in proptest::collection::vec(op(), 1..60)) {
        let mut cache = Cache::new();
        let mut snap = Snapshot::new();
        // The spread counts kept for this query follow every change.
        let query = SpreadQuery {
            namespace: "d".into(),
            selector: Selector::parse("app=x").unwrap(),
            topology_key: ZONE_LABEL.into(),
        };
        cache.update_snapshot(&mut snap);
        prop_assert!(snap.spread_counts(&query).is_none(), "registered on first use");
        for o in ops {
            match o {
                // Nodes move between zones when re-added (odd generations flip the zone).
                Op::AddNode(n) => cache.add_node(Arc::new(
                    NodeBuilder::new(&format!("n{n}"), "4", "4Gi")
                        .zone(&format!("z{}", (n + (cache.node_count() as u8)) % 2))
                        .build(),
                )),
                Op::RemoveNode(n) => cache.remove_node(&format!("n{n}")),
                Op::AddPod(p, n) => cache.add_pod(pod(p, Some(n))),
                Op::AssumePod(p, n) => { let _ = cache.assume_pod(pod(p, None), &format!("n{n}")); }
                Op::ForgetPod(p) => cache.forget_pod(&format!("uid-{p}")),
                Op::RemovePod(p) => cache.remove_pod(&format!("uid-{p}")),
                Op::Snapshot => cache.update_snapshot(&mut snap),
            }
        }
        cache.update_snapshot(&mut snap);
        let mut fresh = Snapshot::new();
        cache.update_snapshot(&mut fresh);
        prop_assert_eq!(summary(&snap), summary(&fresh));
        // The compact rows the per-node passes read follow every node change.
        prop_assert_eq!(snap.rows().len(), snap.nodes().len());
        for (row, n) in snap.rows().iter().zip(snap.nodes()) {
            prop_assert_eq!(*row, NodeRow::of(n));
        }
        // The lists of nodes with affinity pods, kept in place, equal rebuilt ones.
        let names = |it: &mut dyn Iterator<Item = &Arc<NodeInfo>>| {
            it.map(|n| n.name().to_owned()).collect::<Vec<_>>()
        };
        prop_assert_eq!(
            names(&mut snap.nodes_with_affinity_pods()),
            names(&mut fresh.nodes_with_affinity_pods())
        );
        prop_assert_eq!(
            names(&mut snap.nodes_with_required_anti_affinity_pods()),
            names(&mut fresh.nodes_with_required_anti_affinity_pods())
        );
        let mut want: HashMap<String, i64> = HashMap::new();
        for n in fresh.nodes() {
            let zone = n.labels().get(ZONE_LABEL).cloned().unwrap_or_default();
            let c = n.pods().iter().filter(|p| p.labels().get("app").map(String::as_str) == Some("x")).count() as i64;
            if c > 0 {
                *want.entry(zone).or_default() += c;
            }
        }
        let got = snap.spread_counts(&query).map(|c| (**c).clone());
        prop_assert_eq!(got, Some(want));
        // Every cached node's interned labels say what its labels say (zones move).
        let interner = snap.label_interner();
        for n in snap.nodes() {
            let ids = n.label_ids().expect("cached nodes carry label ids");
            for (k, v) in n.labels() {
                let key = interner.key(k).expect("interned key");
                prop_assert_eq!(ids.get(key), interner.value(v));
            }
            for absent in ["z0", "z1"].iter().filter_map(|k| interner.key(k)) {
                prop_assert_eq!(ids.get(absent), None);
            }
        }
    }
}

/// The same node without interned label ids (as a `NodeInfo` built outside the cache).
fn uninterned(n: &NodeInfo) -> NodeInfo {
    let mut ni = NodeInfo::new(n.node().unwrap().clone());
    for p in n.pods() {
        ni.add_pod(p.clone());
    }
    assert!(ni.label_ids().is_none());
    ni
}

#[test]
fn filters_on_interned_labels_agree_with_the_labels() {
    let mut cache = Cache::new();
    for i in 0..9u8 {
        let mut b = NodeBuilder::new(&format!("n{i}"), "4", "4Gi");
        // n8 has no zone (PodTopologySpread: missing required label).
        if i < 8 {
            b = b.zone(&format!("z{}", i % 3));
        }
        cache.add_node(Arc::new(b.build()));
    }
    // Zone z0 gets 3 matching pods, z1 one, z2 none; n1 also runs an anti-affine pod.
    for (i, n) in [0u8, 3, 6, 1].iter().enumerate() {
        let mut b = PodBuilder::new("d", &format!("s{i}"))
            .label("app", "s")
            .node_name(&format!("n{n}"));
        if *n == 1 {
            b = b.anti_affinity(("app", "s"), "kubernetes.io/hostname");
        }
        let mut p = b.build();
        p.metadata.uid = Some(format!("uid-s{i}"));
        cache.add_pod(Arc::new(PodInfo::new(Arc::new(p))));
    }
    let mut snap = Snapshot::new();
    cache.update_snapshot(&mut snap);
    // Twice: the first PreFilter registers the spread query, the second reads the kept counts.
    cache.update_snapshot(&mut snap);
    let spread = PodTopologySpread::new(PodTopologySpreadArgs::default());
    let affinity = InterPodAffinity::new(InterPodAffinityArgs::default());
    let pods = [
        PodBuilder::new("d", "spread")
            .label("app", "s")
            .spread(ZONE_LABEL, 1, "DoNotSchedule", ("app", "s"))
            .build(),
        PodBuilder::new("d", "anti")
            .label("app", "s")
            .anti_affinity(("app", "s"), "kubernetes.io/hostname")
            .build(),
    ];
    for round in 0..2 {
        for pod in &pods {
            let pod = PodInfo::new(Arc::new(pod.clone()));
            let mut state = CycleState::new();
            let (_, st) = spread.pre_filter(&mut state, &pod, &snap);
            assert!(st.is_success() || st.is_skip(), "{st:?}");
            let (_, st) = affinity.pre_filter(&mut state, &pod, &snap);
            assert!(st.is_success() || st.is_skip(), "{st:?}");
            let mut rejected = 0;
            for n in snap.nodes() {
                assert!(n.label_ids().is_some());
                let plain = uninterned(n);
                for (by_ids, by_labels) in [
                    (
                        spread.filter(&state, &pod, n),
                        spread.filter(&state, &pod, &plain),
                    ),
                    (
                        affinity.filter(&state, &pod, n),
                        affinity.filter(&state, &pod, &plain),
                    ),
                ] {
                    assert_eq!(
                        by_ids,
                        by_labels,
                        "round {round} {} on {}",
                        pod.name(),
                        n.name()
                    );
                    rejected += usize::from(!by_ids.is_success());
                }
            }
            // Spread: z0 (3 pods) and z1 (1 pod, with the pod itself 2 − 0 > 1) are full and n8
            // lacks the zone, and the anti-affine pod on n1 rejects it (it has app=s);
            // anti-affinity: the nodes running app=s pods (n0, n1, n3, n6).
            let want = if pod.name() == "spread" { 6 + 1 + 1 } else { 4 };
            assert_eq!(rejected, want, "round {round} {}", pod.name());
        }
        cache.update_snapshot(&mut snap);
    }
}

#[tokio::test(start_paused = true)]
async fn assumed_pods_expire_only_with_a_ttl() {
    let now = Instant::now();
    for (ttl, expired) in [(None, 0usize), (Some(Duration::from_secs(30)), 1)] {
        let mut cache = match ttl {
            Some(t) => Cache::with_assumed_ttl(t),
            None => Cache::new(),
        };
        cache.add_node(Arc::new(NodeBuilder::new("n0", "4", "4Gi").build()));
        cache.assume_pod(pod(1, None), "n0").unwrap();
        assert!(
            cache.assume_pod(pod(1, None), "n0").is_err(),
            "assumed twice"
        );
        cache.finish_binding("uid-1", now);
        assert!(
            cache
                .cleanup_assumed_pods(now + Duration::from_secs(29))
                .is_empty()
        );
        assert_eq!(
            cache
                .cleanup_assumed_pods(now + Duration::from_secs(31))
                .len(),
            expired
        );
        // A confirmed pod never expires.
        cache.assume_pod(pod(2, None), "n0").unwrap();
        cache.finish_binding("uid-2", now);
        cache.add_pod(pod(2, Some(0)));
        assert!(!cache.is_assumed("uid-2"));
        assert!(
            cache
                .cleanup_assumed_pods(now + Duration::from_secs(3600))
                .is_empty()
        );
    }
}

#[test]
fn percentage_of_nodes_to_score() {
    // (configured percentage, nodes, nodes to find) — upstream's numFeasibleNodesToFind.
    let rows: [(Option<u32>, usize, usize); 8] = [
        (None, 10, 10),
        (None, 99, 99),
        (None, 100, 100),
        (None, 1000, 420),    // 50 - 1000/125 = 42 %
        (None, 5000, 500),    // 50 - 40 = 10 %
        (None, 6000, 300),    // 50 - 48 = 2 % -> floor 5 %
        (Some(1), 5000, 100), // at least 100
        (Some(100), 5000, 5000),
    ];
    for (pct, n, want) in rows {
        assert_eq!(
            num_feasible_nodes_to_find(pct, n),
            want,
            "pct {pct:?} nodes {n}"
        );
    }
}

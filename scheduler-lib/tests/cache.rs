//! The cache and snapshot: incremental `update_snapshot` always equals a snapshot built from
//! scratch (property test over random operation sequences), assumed pods and their expiry,
//! and `percentageOfNodesToScore`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use std::collections::HashMap;

use kybern_core::Selector;
use kybern_scheduler::cache::{Cache, PodInfo, Snapshot, SpreadQuery, ZONE_LABEL};
use kybern_scheduler::num_feasible_nodes_to_find;
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
        let aff: usize = snap.nodes_with_affinity_pods().count();
        let fresh_aff: usize = fresh.nodes_with_affinity_pods().count();
        prop_assert_eq!(aff, fresh_aff);
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

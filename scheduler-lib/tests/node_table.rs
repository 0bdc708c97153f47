//! The per-node passes on the snapshot's compact rows (`filter_node`, `passes_node`,
//! `score_positions`, the framework's `run_filters_node` / `run_score_positions`) answer
//! exactly what the `NodeInfo` paths answer, for every default plugin, over nodes that take
//! each branch (cordoned, tainted, full, extended resources, images) and pods that do too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use kybern_scheduler::cache::{Cache, PodInfo, Snapshot};
use kybern_scheduler::framework::{CycleState, Framework, ScoreBuffers};
use kybern_scheduler::plugins::{DefaultPluginArgs, default_builder};
use kybern_scheduler::sim::{NodeBuilder, PodBuilder};

/// A cluster whose nodes cover the branches of the row fast paths.
fn snapshot() -> Snapshot {
    let mut cache = Cache::new();
    let nodes = [
        NodeBuilder::new("plain", "4", "8Gi").zone("z1"),
        NodeBuilder::new("cordoned", "4", "8Gi")
            .zone("z1")
            .unschedulable(),
        NodeBuilder::new("tainted", "4", "8Gi")
            .zone("z2")
            .taint("dedicated", "gpu", "NoSchedule"),
        NodeBuilder::new("prefer", "4", "8Gi")
            .zone("z2")
            .taint("spot", "true", "PreferNoSchedule"),
        NodeBuilder::new("small", "500m", "1Gi").zone("z3"),
        NodeBuilder::new("full", "4", "8Gi").zone("z3").max_pods(1),
        NodeBuilder::new("gpu", "8", "16Gi")
            .zone("z1")
            .allocatable("example.com/gpu", "2"),
        NodeBuilder::new("imaged", "4", "8Gi")
            .zone("z2")
            .image("registry.example/app:v1", 600 * 1024 * 1024),
    ];
    for n in nodes {
        cache.add_node(Arc::new(n.build()));
    }
    // Pods already placed, so requested and non-zero requested differ per node.
    let placed = [
        ("full", PodBuilder::new("d", "f0").requests("100m", "100Mi")),
        (
            "small",
            PodBuilder::new("d", "s0").requests("300m", "512Mi"),
        ),
        ("plain", PodBuilder::new("d", "b0")),
        (
            "gpu",
            PodBuilder::new("d", "g0").request("example.com/gpu", "1"),
        ),
    ];
    for (i, (node, p)) in placed.into_iter().enumerate() {
        let mut pod = p.node_name(node).build();
        pod.metadata.uid = Some(format!("uid-{i}"));
        cache.add_pod(Arc::new(PodInfo::new(Arc::new(pod))));
    }
    let mut snap = Snapshot::new();
    cache.update_snapshot(&mut snap);
    snap
}

fn pods() -> Vec<PodInfo> {
    [
        PodBuilder::new("d", "basic").requests("100m", "500Mi"),
        PodBuilder::new("d", "best-effort"),
        PodBuilder::new("d", "big").requests("3", "6Gi"),
        PodBuilder::new("d", "gpu").request("example.com/gpu", "1"),
        PodBuilder::new("d", "tolerant")
            .requests("100m", "100Mi")
            .toleration("dedicated", "Equal", "gpu", "NoSchedule")
            .toleration(
                "node.kubernetes.io/unschedulable",
                "Exists",
                "",
                "NoSchedule",
            )
            .toleration("spot", "Exists", "", "PreferNoSchedule"),
        PodBuilder::new("d", "imaged")
            .requests("100m", "100Mi")
            .image("registry.example/app:v1"),
    ]
    .into_iter()
    .map(|b| PodInfo::new(Arc::new(b.build())))
    .collect()
}

fn framework() -> Framework {
    default_builder("default-scheduler", &DefaultPluginArgs::default())
        .unwrap()
        .build()
        .unwrap()
}

#[test]
fn filters_on_rows_equal_filters_on_node_infos() {
    let snap = snapshot();
    let fw = framework();
    for pod in pods() {
        let mut state = CycleState::new();
        let (_, st) = fw.run_pre_filter(&mut state, &pod, &snap);
        assert!(st.is_success(), "{}: {st}", pod.name());
        let mut rejected = 0;
        for (i, node) in snap.nodes().iter().enumerate() {
            let by_row = fw.run_filters_node(&state, &pod, snap.node_ref(i).unwrap());
            let by_info = fw.run_filters(&state, &pod, node);
            assert_eq!(
                by_row,
                by_info,
                "pod {} on node {}",
                pod.name(),
                node.name()
            );
            rejected += usize::from(!by_info.is_success());
        }
        // Every pod is rejected somewhere except the tolerant one, so both outcomes and the
        // rejection reasons are compared.
        assert!(rejected > 0 || pod.name() == "tolerant", "{}", pod.name());
    }
}

#[test]
fn scores_on_rows_equal_scores_on_node_infos() {
    let snap = snapshot();
    let fw = framework();
    let positions: Vec<usize> = (0..snap.len()).collect();
    let mut buffers = ScoreBuffers::default();
    for pod in pods() {
        let mut state = CycleState::new();
        let (_, st) = fw.run_pre_filter(&mut state, &pod, &snap);
        assert!(st.is_success(), "{st}");
        let st = fw.run_pre_score(&mut state, &pod, snap.nodes(), &snap);
        assert!(st.is_success(), "{st}");
        let by_info = fw.run_score(&state, &pod, snap.nodes(), true).unwrap();
        let by_row = fw
            .run_score_positions(&state, &pod, &snap, &positions, &mut buffers)
            .unwrap();
        assert_eq!(by_row, by_info.totals.as_slice(), "pod {}", pod.name());
        // The totals are not all equal: the compared scores depend on the nodes.
        assert!(
            by_info.totals.iter().any(|t| *t != by_info.totals[0]),
            "pod {}: {:?}",
            pod.name(),
            by_info.per_plugin
        );
    }
}

#[test]
fn pre_score_on_positions_skips_collecting_nodes_only_when_unread() {
    let snap = snapshot();
    let fw = framework();
    let positions: Vec<usize> = (0..snap.len()).collect();
    for pod in pods() {
        let mut a = CycleState::new();
        let mut b = CycleState::new();
        let _ = fw.run_pre_filter(&mut a, &pod, &snap);
        let _ = fw.run_pre_filter(&mut b, &pod, &snap);
        let st_a = fw.run_pre_score(&mut a, &pod, snap.nodes(), &snap);
        let st_b = fw.run_pre_score_positions(&mut b, &pod, &snap, &positions);
        assert_eq!(st_a, st_b);
        let mut buffers = ScoreBuffers::default();
        let sa = fw
            .run_score_positions(&a, &pod, &snap, &positions, &mut buffers)
            .unwrap()
            .to_vec();
        let sb = fw
            .run_score_positions(&b, &pod, &snap, &positions, &mut buffers)
            .unwrap();
        assert_eq!(sa, sb, "pod {}", pod.name());
    }
}

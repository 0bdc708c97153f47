//! NodeResourcesFit's RequestedToCapacityRatio strategy, with upstream's shapes: the
//! least-requested-like shape `{0: 10, 100: 0}` and the bin-packing shape `{0: 0, 100: 10}`
//! (scores scaled ×10), weighted per resource and rounded as upstream.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use kybern_scheduler::cache::{NodeInfo, PodInfo, Snapshot};
use kybern_scheduler::framework::{CycleState, PreScorePlugin, ScorePlugin};
use kybern_scheduler::plugins::node_resources::{
    Fit, FitArgs, ResourceWeight, ScoringStrategy, ShapePoint,
};
use kybern_scheduler::sim::{NodeBuilder, PodBuilder};

fn shape(points: &[(i64, i64)]) -> ScoringStrategy {
    ScoringStrategy::RequestedToCapacityRatio(
        points
            .iter()
            .map(|&(utilization, score)| ShapePoint { utilization, score })
            .collect(),
    )
}

/// Scores `pod` on `node` (with `existing` pods already on it) through PreScore + Score.
fn score(fit: &Fit, node: NodeBuilder, existing: Vec<PodBuilder>, pod: PodBuilder) -> i64 {
    let mut ni = NodeInfo::new(Arc::new(node.build()));
    for p in existing {
        ni.add_pod(Arc::new(PodInfo::new(Arc::new(p.build()))));
    }
    let nodes = vec![Arc::new(ni)];
    let pod = PodInfo::new(Arc::new(pod.build()));
    let mut state = CycleState::new();
    let st = fit.pre_score(&mut state, &pod, &nodes, &Snapshot::new());
    assert!(st.is_success(), "{st}");
    fit.score(&state, &pod, &nodes[0]).unwrap()
}

struct Case {
    name: &'static str,
    shape: &'static [(i64, i64)],
    resources: Vec<ResourceWeight>,
    node: NodeBuilder,
    existing: Vec<PodBuilder>,
    pod: PodBuilder,
    want: i64,
}

fn pod(name: &str) -> PodBuilder {
    PodBuilder::new("default", name)
}

#[test]
fn requested_to_capacity_ratio_table() {
    let least: &[(i64, i64)] = &[(0, 10), (100, 0)];
    let packing: &[(i64, i64)] = &[(0, 0), (100, 10)];
    let cpu_mem = || {
        vec![
            ResourceWeight::new("cpu", 1),
            ResourceWeight::new("memory", 1),
        ]
    };
    let foo = |w| vec![ResourceWeight::new("intel.com/foo", w)];
    let cases = vec![
        Case {
            // cpu 3000/4000 = 75 % → 25; memory 5000/10000 = 50 % → 50; (25+50)/2 = 37.5 → 38.
            name: "least shape, small node",
            shape: least,
            resources: cpu_mem(),
            node: NodeBuilder::new("n", "4", "10000"),
            existing: vec![],
            pod: pod("p").requests("3", "5000"),
            want: 38,
        },
        Case {
            // cpu 3000/6000 = 50 % → 50; memory 50 % → 50.
            name: "least shape, large node",
            shape: least,
            resources: cpu_mem(),
            node: NodeBuilder::new("n", "6", "10000"),
            existing: vec![],
            pod: pod("p").requests("3", "5000"),
            want: 50,
        },
        Case {
            // cpu (1000+2000)/4000 = 75 % → 25; memory (2000+3000)/10000 = 50 % → 50.
            name: "least shape, existing pods count",
            shape: least,
            resources: cpu_mem(),
            node: NodeBuilder::new("n", "4", "10000"),
            existing: vec![pod("e").requests("1", "2000")],
            pod: pod("p").requests("2", "3000"),
            want: 38,
        },
        Case {
            // Over capacity counts as 100 % → the last point's score, 0.
            name: "least shape, over capacity",
            shape: least,
            resources: vec![ResourceWeight::new("cpu", 1)],
            node: NodeBuilder::new("n", "2", "10000"),
            existing: vec![],
            pod: pod("p").requests("3", "5000"),
            want: 0,
        },
        Case {
            // 2/4 = 50 % → 50.
            name: "bin packing, extended resource",
            shape: packing,
            resources: foo(1),
            node: NodeBuilder::new("n", "4", "10000").allocatable("intel.com/foo", "4"),
            existing: vec![],
            pod: pod("p").request("intel.com/foo", "2"),
            want: 50,
        },
        Case {
            // 2/8 = 25 % → 25.
            name: "bin packing, larger node scores lower",
            shape: packing,
            resources: foo(1),
            node: NodeBuilder::new("n", "4", "10000").allocatable("intel.com/foo", "8"),
            existing: vec![],
            pod: pod("p").request("intel.com/foo", "2"),
            want: 25,
        },
        Case {
            // (1+2)/4 = 75 % → 75.
            name: "bin packing, existing usage",
            shape: packing,
            resources: foo(3),
            node: NodeBuilder::new("n", "4", "10000").allocatable("intel.com/foo", "4"),
            existing: vec![pod("e").request("intel.com/foo", "1")],
            pod: pod("p").request("intel.com/foo", "2"),
            want: 75,
        },
        Case {
            // cpu 1000/4000 = 25 % → 25 (weight 1); foo 2/4 = 50 % → 50 (weight 3):
            // (25 + 150) / 4 = 43.75 → 44.
            name: "bin packing, weighted mix",
            shape: packing,
            resources: vec![
                ResourceWeight::new("cpu", 1),
                ResourceWeight::new("intel.com/foo", 3),
            ],
            node: NodeBuilder::new("n", "4", "10000").allocatable("intel.com/foo", "4"),
            existing: vec![],
            pod: pod("p").requests("1", "100").request("intel.com/foo", "2"),
            want: 44,
        },
        Case {
            // Three points {0:0, 50:10, 100:0}: 30 % → 0 + (100−0)·30/50 = 60; 80 % →
            // 100 + (0−100)·(80−50)/50 = 40.
            name: "peaked shape, rising side",
            shape: &[(0, 0), (50, 10), (100, 0)],
            resources: vec![ResourceWeight::new("cpu", 1)],
            node: NodeBuilder::new("n", "10", "10000"),
            existing: vec![],
            pod: pod("p").requests("3", "100"),
            want: 60,
        },
        Case {
            name: "peaked shape, falling side",
            shape: &[(0, 0), (50, 10), (100, 0)],
            resources: vec![ResourceWeight::new("cpu", 1)],
            node: NodeBuilder::new("n", "10", "10000"),
            existing: vec![],
            pod: pod("p").requests("8", "100"),
            want: 40,
        },
        Case {
            // Below the first point: the first point's score (upstream's {10: 1, 90: 9}).
            name: "below the first point",
            shape: &[(10, 1), (90, 9)],
            resources: vec![ResourceWeight::new("cpu", 1)],
            node: NodeBuilder::new("n", "100", "10000"),
            existing: vec![],
            pod: pod("p").requests("5", "100"),
            want: 10,
        },
        Case {
            // 50 % → 10 + (90−10)·(50−10)/80 = 50.
            name: "between two points",
            shape: &[(10, 1), (90, 9)],
            resources: vec![ResourceWeight::new("cpu", 1)],
            node: NodeBuilder::new("n", "100", "10000"),
            existing: vec![],
            pod: pod("p").requests("50", "100"),
            want: 50,
        },
        Case {
            // Above the last point: the last point's score.
            name: "above the last point",
            shape: &[(10, 1), (90, 9)],
            resources: vec![ResourceWeight::new("cpu", 1)],
            node: NodeBuilder::new("n", "100", "10000"),
            existing: vec![],
            pod: pod("p").requests("95", "100"),
            want: 90,
        },
    ];
    for c in cases {
        let fit = Fit::new(FitArgs {
            strategy: shape(c.shape),
            resources: c.resources,
            ..FitArgs::default()
        })
        .unwrap();
        let got = score(&fit, c.node, c.existing, c.pod);
        assert_eq!(got, c.want, "{}", c.name);
    }
}

#[test]
fn invalid_shapes_are_rejected() {
    let cases: [(&str, &[(i64, i64)]); 4] = [
        ("empty", &[]),
        ("unsorted", &[(50, 1), (10, 2)]),
        ("utilization over 100", &[(0, 1), (101, 2)]),
        ("score over 10", &[(0, 1), (100, 11)]),
    ];
    for (name, points) in cases {
        let r = Fit::new(FitArgs {
            strategy: shape(points),
            ..FitArgs::default()
        });
        assert!(r.is_err(), "{name}");
    }
}

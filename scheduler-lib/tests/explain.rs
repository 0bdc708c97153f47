//! Explain mode on a small cluster: every node's filter verdicts (all plugins, not only the
//! first failure), the feasible nodes' per-plugin scores and totals, and the printed table.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use kybern_reconciler::{MemoryStore, Store};
use kybern_scheduler::sim::{NodeBuilder, PodBuilder};
use kybern_scheduler::{PodEvent, Scheduler};

/// Failing plugins and the start of their messages.
type Failures = &'static [(&'static str, &'static str)];

fn scheduler() -> Scheduler {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let s = Scheduler::builder(store).build().unwrap();
    for n in [
        NodeBuilder::new("big", "8", "16Gi"),
        NodeBuilder::new("half", "4", "16Gi"),
        NodeBuilder::new("small", "1", "16Gi"),
        NodeBuilder::new("tainted", "1", "16Gi").taint("dedicated", "db", "NoSchedule"),
    ] {
        s.on_node(PodEvent::Added(Arc::new(n.build())));
    }
    s
}

#[tokio::test]
async fn explain_data_lists_every_verdict_and_score() {
    let s = scheduler();
    let pod = PodBuilder::new("default", "web")
        .requests("2", "1Gi")
        .build();
    let e = s.explain(&pod).expect("the default profile serves the pod");
    assert_eq!(e.pod, "default/web");
    assert!(e.pre_filter.is_success(), "{}", e.pre_filter);
    let fw = s.profile("default-scheduler").unwrap();
    let names: Vec<&str> = e.score_plugins.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        fw.score_names().iter().map(|(n, _)| *n).collect::<Vec<_>>()
    );
    // Per node: feasible, and the failing plugins with their messages.
    let want: [(&str, bool, Failures); 4] = [
        ("big", true, &[]),
        ("half", true, &[]),
        ("small", false, &[("NodeResourcesFit", "Insufficient cpu")]),
        (
            "tainted",
            false,
            &[
                ("TaintToleration", "node(s) had untolerated taint"),
                ("NodeResourcesFit", "Insufficient cpu"),
            ],
        ),
    ];
    for (node, feasible, failures) in want {
        let n = e.nodes.iter().find(|n| n.node == node).unwrap();
        assert_eq!(n.feasible, feasible, "{node}");
        assert_eq!(
            n.filters.len(),
            fw.filter_names().len(),
            "{node}: every filter"
        );
        let failed: Vec<(&str, String)> = n
            .filters
            .iter()
            .filter(|(_, st)| !st.is_success() && !st.is_skip())
            .map(|(p, st)| (p.as_str(), st.message()))
            .collect();
        assert_eq!(failed.len(), failures.len(), "{node}: {failed:?}");
        for (plugin, msg) in failures {
            assert!(
                failed
                    .iter()
                    .any(|(p, m)| p == plugin && m.starts_with(msg)),
                "{node}: {plugin} {msg:?} not in {failed:?}"
            );
        }
        if feasible {
            assert_eq!(n.scores.len(), e.score_plugins.len());
            let total: i64 = n
                .scores
                .iter()
                .zip(&e.score_plugins)
                .map(|(s, (_, w))| s * w)
                .sum();
            assert_eq!(n.total, Some(total), "{node}");
        } else {
            assert!(n.scores.is_empty() && n.total.is_none(), "{node}");
        }
    }
    // LeastAllocated and BalancedAllocation prefer the big node.
    let score_of = |node: &str| {
        e.nodes
            .iter()
            .find(|n| n.node == node)
            .and_then(|n| n.total)
            .unwrap()
    };
    assert!(score_of("big") > score_of("half"));
    assert_eq!(e.best.as_deref(), Some("big"));
}

#[tokio::test]
async fn explain_table_output() {
    let s = scheduler();
    let pod = PodBuilder::new("default", "web")
        .requests("2", "1Gi")
        .build();
    let table = s.explain(&pod).unwrap().to_string();
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("pod default/web (PreFilter: "),
        "{table}"
    );
    let header = lines[1];
    assert!(header.starts_with("NODE"), "{table}");
    for col in [
        "VERDICT",
        "NodeResourcesFit(1)",
        "TaintToleration(3)",
        "TOTAL",
    ] {
        assert!(header.contains(col), "{col} missing: {table}");
    }
    let row = |node: &str| {
        *lines
            .iter()
            .find(|l| l.split_whitespace().next() == Some(node))
            .unwrap_or_else(|| panic!("no row for {node}: {table}"))
    };
    assert!(row("big").contains(" ok "), "{table}");
    assert!(
        row("small").contains("NodeResourcesFit: Insufficient cpu"),
        "{table}"
    );
    assert!(row("tainted").contains("TaintToleration: "), "{table}");
    // Infeasible rows carry no scores: the row ends with the verdict.
    assert!(
        row("small").trim_end().ends_with("Insufficient cpu"),
        "{table}"
    );
    // The feasible row's last column is the total from the data.
    let e = s.explain(&pod).unwrap();
    let big_total = e
        .nodes
        .iter()
        .find(|n| n.node == "big")
        .unwrap()
        .total
        .unwrap();
    assert!(
        row("big").trim_end().ends_with(&format!(" {big_total}")),
        "{table}"
    );
    assert_eq!(lines.last().copied(), Some("best: big"), "{table}");
    // A pod nobody serves has no explanation.
    let other = PodBuilder::new("default", "x")
        .scheduler_name("other")
        .build();
    assert!(s.explain(&other).is_none());
}

//! Explain mode: for one pod, every node's filter verdicts (all plugins, not just the first
//! failure) and, for the feasible nodes, every score plugin's normalized score, weight and
//! the total — as data and as a printed table.
//!
//! ```text
//! pod default/web (PreFilter: Success)
//! NODE      VERDICT                                            NodeResourcesFit(1)  TaintToleration(3)  TOTAL
//! big       ok                                                                  87                 100    ...
//! tainted   TaintToleration: node(s) had untolerated taint(s)
//! ```

use std::fmt;
use std::sync::Arc;

use crate::cache::{NodeInfo, PodInfo, Snapshot};
use crate::framework::{CycleState, Framework, Status};

/// One node's verdicts and scores.
#[derive(Clone, Debug)]
pub struct NodeExplanation {
    /// The node.
    pub node: String,
    /// Every Filter plugin's status on this node (`Skip` when its PreFilter skipped).
    pub filters: Vec<(String, Status)>,
    /// Whether every filter passed.
    pub feasible: bool,
    /// Normalized score per Score plugin (same order as [`Explanation::score_plugins`]);
    /// empty for infeasible nodes.
    pub scores: Vec<i64>,
    /// The weighted total (feasible nodes only).
    pub total: Option<i64>,
}

/// Why a pod would (not) go where.
#[derive(Clone, Debug)]
pub struct Explanation {
    /// `namespace/name`.
    pub pod: String,
    /// The PreFilter outcome.
    pub pre_filter: Status,
    /// Score plugins and weights.
    pub score_plugins: Vec<(String, i64)>,
    /// Per node, in snapshot order.
    pub nodes: Vec<NodeExplanation>,
    /// The best node (highest total; the first on ties).
    pub best: Option<String>,
}

/// Explains the scheduling of `pod` against `snapshot` with `fw` (no side effects).
pub fn explain(fw: &Framework, snapshot: &Snapshot, pod: &PodInfo) -> Explanation {
    let mut state = CycleState::new();
    let (result, pre_filter) = fw.run_pre_filter(&mut state, pod, snapshot);
    let score_plugins: Vec<(String, i64)> = fw
        .score_names()
        .into_iter()
        .map(|(n, w)| (n.to_owned(), w))
        .collect();
    let mut nodes: Vec<NodeExplanation> = Vec::new();
    let mut feasible: Vec<Arc<NodeInfo>> = Vec::new();
    for n in snapshot.nodes() {
        let filters = if !pre_filter.is_success() {
            vec![("PreFilter".to_owned(), pre_filter.clone())]
        } else if result
            .node_names
            .as_ref()
            .is_some_and(|names| !names.contains(n.name()))
        {
            vec![(
                "PreFilter".to_owned(),
                Status::unresolvable("node not in the PreFilter result"),
            )]
        } else {
            fw.run_all_filters(&state, pod, n)
        };
        let ok = filters.iter().all(|(_, s)| s.is_success() || s.is_skip());
        if ok {
            feasible.push(n.clone());
        }
        nodes.push(NodeExplanation {
            node: n.name().to_owned(),
            filters,
            feasible: ok,
            scores: Vec::new(),
            total: None,
        });
    }
    let mut best = None;
    if !feasible.is_empty() {
        let _ = fw.run_pre_score(&mut state, pod, &feasible, snapshot);
        if let Ok(r) = fw.run_score(&state, pod, &feasible, true) {
            let mut best_total = i64::MIN;
            for (i, fnode) in feasible.iter().enumerate() {
                if let Some(e) = nodes.iter_mut().find(|e| e.node == fnode.name()) {
                    e.scores = r.per_plugin.iter().map(|(_, _, s)| s[i]).collect();
                    e.total = Some(r.totals[i]);
                    if r.totals[i] > best_total {
                        best_total = r.totals[i];
                        best = Some(e.node.clone());
                    }
                }
            }
        }
    }
    Explanation {
        pod: pod.display_name(),
        pre_filter,
        score_plugins,
        nodes,
        best,
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "pod {} (PreFilter: {})", self.pod, self.pre_filter)?;
        let verdict = |n: &NodeExplanation| -> String {
            if n.feasible {
                return "ok".into();
            }
            n.filters
                .iter()
                .filter(|(_, s)| !s.is_success() && !s.is_skip())
                .map(|(p, s)| format!("{p}: {}", s.message()))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let name_w = self
            .nodes
            .iter()
            .map(|n| n.node.len())
            .max()
            .unwrap_or(4)
            .max(4);
        let verdict_w = self
            .nodes
            .iter()
            .map(|n| verdict(n).len())
            .max()
            .unwrap_or(7)
            .clamp(7, 70);
        write!(f, "{:<name_w$}  {:<verdict_w$}", "NODE", "VERDICT")?;
        let heads: Vec<String> = self
            .score_plugins
            .iter()
            .map(|(p, w)| format!("{p}({w})"))
            .collect();
        for h in &heads {
            write!(f, "  {h}")?;
        }
        writeln!(f, "  TOTAL")?;
        for n in &self.nodes {
            let mut v = verdict(n);
            if v.len() > verdict_w {
                v.truncate(verdict_w.saturating_sub(1));
                v.push('…');
            }
            write!(f, "{:<name_w$}  {:<verdict_w$}", n.node, v)?;
            if n.feasible {
                for (h, s) in heads.iter().zip(&n.scores) {
                    write!(f, "  {:>w$}", s, w = h.len())?;
                }
                writeln!(f, "  {}", n.total.unwrap_or(0))?;
            } else {
                writeln!(f)?;
            }
        }
        if let Some(b) = &self.best {
            writeln!(f, "best: {b}")?;
        }
        Ok(())
    }
}

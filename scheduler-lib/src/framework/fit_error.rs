//! `FitError`: why no node fits a pod, with upstream's aggregate message
//! (`0/5 nodes are available: 3 Insufficient cpu, 2 node(s) had untolerated taint(s). preemption: …`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::runtime::NodeToStatus;

/// Upstream's `NoNodeAvailableMsg` prefix.
pub const NO_NODE_AVAILABLE_MSG: &str = "nodes are available";

/// What the scheduling cycle learnt about each node.
#[derive(Clone, Debug, Default)]
pub struct Diagnosis {
    /// Every evaluated node's status; absent nodes share its absent status.
    pub node_to_status: NodeToStatus,
    /// Plugins that rejected the pod on some node (for queueing hints).
    pub unschedulable_plugins: BTreeSet<String>,
    /// Plugins that returned `Pending`.
    pub pending_plugins: BTreeSet<String>,
    /// The PreFilter rejection message, if PreFilter rejected.
    pub pre_filter_msg: String,
    /// The PostFilter (preemption) message.
    pub post_filter_msg: String,
}

/// No node fits the pod.
#[derive(Clone, Debug)]
pub struct FitError {
    /// `namespace/name` of the pod.
    pub pod: String,
    /// How many nodes the snapshot had.
    pub num_all_nodes: usize,
    /// The per-node reasons.
    pub diagnosis: Diagnosis,
}

impl FitError {
    /// The sorted `"<count> <reason>"` histogram upstream prints.
    pub fn reason_histogram(&self) -> Vec<String> {
        let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
        let d = &self.diagnosis;
        for (_, st) in d.node_to_status.iter() {
            for r in st.reasons() {
                *reasons.entry(r.to_string()).or_default() += 1;
            }
        }
        let absent = self.num_all_nodes.saturating_sub(d.node_to_status.len());
        if absent > 0 {
            for r in d.node_to_status.absent().reasons() {
                *reasons.entry(r.to_string()).or_default() += absent;
            }
        }
        let mut out: Vec<String> = reasons
            .into_iter()
            .map(|(r, n)| format!("{n} {r}"))
            .collect();
        out.sort();
        out
    }
}

fn push_sentence(out: &mut String, msg: &str) {
    out.push(' ');
    out.push_str(msg);
    if !msg.ends_with('.') {
        out.push('.');
    }
}

impl fmt::Display for FitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut msg = format!("0/{} {NO_NODE_AVAILABLE_MSG}:", self.num_all_nodes);
        let d = &self.diagnosis;
        if !d.pre_filter_msg.is_empty() {
            push_sentence(&mut msg, &d.pre_filter_msg);
        } else {
            let hist = self.reason_histogram();
            if !hist.is_empty() {
                push_sentence(&mut msg, &hist.join(", "));
            }
        }
        if !d.post_filter_msg.is_empty() {
            push_sentence(&mut msg, &d.post_filter_msg);
        }
        f.write_str(&msg)
    }
}

impl std::error::Error for FitError {}

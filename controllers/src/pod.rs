//! Pod facts controllers ask: active, ready, available, and upstream's deletion ranking.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use kybern_core::Time;
use kybern_core::api::core::v1::Pod;

/// Whether the pod counts toward a workload's replicas: not terminated, not being deleted
/// (upstream `IsPodActive`).
pub fn is_active(pod: &Pod) -> bool {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    !matches!(phase, Some("Succeeded" | "Failed")) && pod.metadata.deletion_timestamp.is_none()
}

/// The time the pod's `Ready` condition became true, if it is ready.
pub fn ready_since(pod: &Pod) -> Option<Option<Time>> {
    pod.status.as_ref().and_then(|s| {
        s.conditions
            .iter()
            .find(|c| c.type_ == "Ready" && c.status == "True")
            .map(|c| c.last_transition_time)
    })
}

/// Whether the pod is Ready.
pub fn is_ready(pod: &Pod) -> bool {
    ready_since(pod).is_some()
}

/// Whether the pod has been Ready for at least `min_ready_seconds` at `now`
/// (upstream `IsPodAvailable`).
pub fn is_available(pod: &Pod, min_ready_seconds: i32, now: Time) -> bool {
    match ready_since(pod) {
        None => false,
        Some(_) if min_ready_seconds <= 0 => true,
        Some(None) => false,
        Some(Some(t)) => {
            let elapsed = now.0.duration_since(t.0).as_secs();
            elapsed >= i64::from(min_ready_seconds)
        }
    }
}

fn phase_rank(pod: &Pod) -> u8 {
    match pod.status.as_ref().and_then(|s| s.phase.as_deref()) {
        Some("Pending") | None => 0,
        Some("Unknown") => 1,
        Some("Running") => 2,
        _ => 3,
    }
}

fn restarts(pod: &Pod) -> i32 {
    pod.status.as_ref().map_or(0, |s| {
        s.container_statuses
            .iter()
            .map(|c| c.restart_count)
            .max()
            .unwrap_or(0)
    })
}

fn node(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .unwrap_or("")
}

/// Orders `pods` so that the ones to delete first come first, as upstream's
/// `ActivePodsWithRanks`: unassigned < assigned; Pending < Unknown < Running; not ready <
/// ready; more pods of the same owner on the node first; ready for less time first; more
/// restarts first; newer first.
pub fn sort_for_deletion(pods: &mut [Arc<Pod>], related: &[Arc<Pod>]) {
    let mut per_node: HashMap<&str, usize> = HashMap::new();
    for p in related {
        let n = node(p);
        if !n.is_empty() && is_active(p) {
            *per_node.entry(n).or_default() += 1;
        }
    }
    let rank = |p: &Pod| per_node.get(node(p)).copied().unwrap_or(0);
    pods.sort_by(|a, b| {
        let (a, b) = (a.as_ref(), b.as_ref());
        let assigned = |p: &Pod| !node(p).is_empty();
        assigned(a)
            .cmp(&assigned(b))
            .then_with(|| phase_rank(a).cmp(&phase_rank(b)))
            .then_with(|| is_ready(a).cmp(&is_ready(b)))
            .then_with(|| rank(b).cmp(&rank(a)))
            .then_with(
                || match (ready_since(a).flatten(), ready_since(b).flatten()) {
                    (Some(x), Some(y)) => y.0.cmp(&x.0),
                    _ => Ordering::Equal,
                },
            )
            .then_with(|| restarts(b).cmp(&restarts(a)))
            .then_with(|| {
                let c = |p: &Pod| p.metadata.creation_timestamp.map(|t| t.0);
                match (c(a), c(b)) {
                    (None, Some(_)) => Ordering::Less,
                    (Some(_), None) => Ordering::Greater,
                    (x, y) => y.cmp(&x),
                }
            })
    });
}

#[cfg(test)]
mod tests {
    use kybern_core::api::core::v1::{PodCondition, PodSpec, PodStatus};

    use super::*;

    fn pod(name: &str, node: &str, phase: &str, ready: bool, created: i64) -> Arc<Pod> {
        let mut p = Pod::default();
        p.metadata.name = Some(name.into());
        p.metadata.creation_timestamp = jiff::Timestamp::from_second(created).ok().map(Time);
        p.spec = Some(PodSpec {
            node_name: (!node.is_empty()).then(|| node.to_string()),
            ..PodSpec::default()
        });
        p.status = Some(PodStatus {
            phase: Some(phase.into()),
            conditions: if ready {
                vec![PodCondition {
                    type_: "Ready".into(),
                    status: "True".into(),
                    ..PodCondition::default()
                }]
            } else {
                vec![]
            },
            ..PodStatus::default()
        });
        Arc::new(p)
    }

    #[test]
    fn deletion_order_table() {
        type Row = (&'static str, Vec<Arc<Pod>>, Vec<&'static str>);
        let rows: Vec<Row> = vec![
            (
                "unassigned first",
                vec![
                    pod("assigned", "n1", "Running", true, 1),
                    pod("unassigned", "", "Pending", false, 1),
                ],
                vec!["unassigned", "assigned"],
            ),
            (
                "pending < unknown < running",
                vec![
                    pod("running", "n1", "Running", false, 1),
                    pod("unknown", "n1", "Unknown", false, 1),
                    pod("pending", "n1", "Pending", false, 1),
                ],
                vec!["pending", "unknown", "running"],
            ),
            (
                "not ready before ready",
                vec![
                    pod("ready", "n1", "Running", true, 1),
                    pod("notready", "n1", "Running", false, 1),
                ],
                vec!["notready", "ready"],
            ),
            (
                "crowded node first",
                vec![
                    pod("alone", "n2", "Running", true, 1),
                    pod("crowd-a", "n1", "Running", true, 1),
                    pod("crowd-b", "n1", "Running", true, 1),
                ],
                vec!["crowd-a", "crowd-b", "alone"],
            ),
            (
                "newer first",
                vec![
                    pod("old", "n1", "Running", true, 100),
                    pod("new", "n2", "Running", true, 200),
                ],
                vec!["new", "old"],
            ),
        ];
        for (name, mut pods, want) in rows {
            let related = pods.clone();
            sort_for_deletion(&mut pods, &related);
            let got: Vec<&str> = pods
                .iter()
                .map(|p| p.metadata.name.as_deref().unwrap_or(""))
                .collect();
            assert_eq!(got, want, "{name}");
        }
    }
}

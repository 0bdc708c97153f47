//! DefaultPreemption: when no node fits, find a node where evicting lower-priority pods
//! makes room — the fewest PodDisruptionBudget violations, then the lowest-priority and
//! smallest set of victims — and nominate it (PostFilter).
//!
//! The plugin only *decides*: the victims and the nomination go back to the scheduler in the
//! [`PostFilterResult`], which deletes them (plugins never write to the store).

use std::cmp::Reverse;
use std::sync::Arc;

use kybern_core::labels::label_selector_as_selector;

use super::names;
use crate::cache::{NodeInfo, PodInfo};
use crate::framework::{
    Code, CycleState, Diagnosis, FitError, NodeToStatus, Plugin, PostFilterContext,
    PostFilterPlugin, PostFilterResult, Status,
};

/// The status of nodes where removing pods cannot help.
pub const PREEMPTION_NOT_HELPFUL: &str = "Preemption is not helpful for scheduling";
/// The status of a node without lower-priority pods.
pub const NO_VICTIMS: &str = "No preemption victims found for incoming pod";

/// DefaultPreemption arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DefaultPreemptionArgs {
    /// At least this percentage of nodes is tried as candidates (10).
    pub min_candidate_nodes_percentage: usize,
    /// At least this many nodes are tried (100).
    pub min_candidate_nodes_absolute: usize,
}

impl Default for DefaultPreemptionArgs {
    fn default() -> Self {
        DefaultPreemptionArgs {
            min_candidate_nodes_percentage: 10,
            min_candidate_nodes_absolute: 100,
        }
    }
}

/// The DefaultPreemption plugin.
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultPreemption {
    args: DefaultPreemptionArgs,
}

impl DefaultPreemption {
    /// With arguments.
    pub fn new(args: DefaultPreemptionArgs) -> Arc<Self> {
        Arc::new(DefaultPreemption { args })
    }
}

/// A node where preemption would make the pod fit.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// The node.
    pub node: String,
    /// The pods to evict, most important first.
    pub victims: Vec<Arc<PodInfo>>,
    /// How many victims' PodDisruptionBudgets would be violated.
    pub pdb_violations: usize,
}

fn more_important(a: &PodInfo, b: &PodInfo) -> bool {
    if a.priority != b.priority {
        return a.priority > b.priority;
    }
    start_time(a) < start_time(b)
}

fn start_time(p: &PodInfo) -> Option<jiff::Timestamp> {
    p.pod()
        .status
        .as_ref()
        .and_then(|s| s.start_time.as_ref())
        .map(|t| t.0)
        .or_else(|| p.pod().metadata.creation_timestamp.as_ref().map(|t| t.0))
}

/// Splits pods into (violating, non-violating) their PodDisruptionBudgets, in order,
/// decrementing each budget's allowed disruptions as upstream's `filterPodsWithPDBViolation`.
fn split_by_pdb(
    pods: &[Arc<PodInfo>],
    pdbs: &[Arc<kybern_core::api::policy::v1::PodDisruptionBudget>],
) -> (Vec<Arc<PodInfo>>, Vec<Arc<PodInfo>>) {
    let mut allowed: Vec<i64> = pdbs
        .iter()
        .map(|p| {
            p.status
                .as_ref()
                .map_or(0, |s| i64::from(s.disruptions_allowed))
        })
        .collect();
    let mut violating = Vec::new();
    let mut ok = Vec::new();
    for pod in pods {
        let mut violates = false;
        for (i, pdb) in pdbs.iter().enumerate() {
            if pdb.metadata.namespace.as_deref().unwrap_or("") != pod.namespace() {
                continue;
            }
            let sel = pdb.spec.as_ref().and_then(|s| s.selector.as_ref());
            let Ok(selector) = label_selector_as_selector(sel) else {
                continue;
            };
            if selector.is_empty() || !selector.matches(pod.labels()) {
                continue;
            }
            if pdb
                .status
                .as_ref()
                .is_some_and(|s| s.disrupted_pods.contains_key(pod.name()))
            {
                continue;
            }
            allowed[i] -= 1;
            if allowed[i] < 0 {
                violates = true;
            }
        }
        if violates {
            violating.push(pod.clone());
        } else {
            ok.push(pod.clone());
        }
    }
    (violating, ok)
}

/// Upstream's `SelectVictimsOnNode`: remove every lower-priority pod; if the pod then fits,
/// add them back most important first (PDB-violating ones first), keeping out only those
/// without which it does not fit.
///
/// # Errors
/// The reason the pod does not fit even without them, or [`NO_VICTIMS`].
pub fn select_victims_on_node(
    ctx: &PostFilterContext<'_>,
    state: &CycleState,
    pod: &PodInfo,
    node: &NodeInfo,
) -> Result<Candidate, Status> {
    let fw = ctx.framework;
    let mut node_copy = node.clone();
    let mut state = state.clone();
    let mut potential: Vec<Arc<PodInfo>> = Vec::new();
    for p in node.pods() {
        if p.priority < pod.priority {
            potential.push(p.clone());
        }
    }
    if potential.is_empty() {
        return Err(Status::unresolvable(NO_VICTIMS));
    }
    for p in &potential {
        node_copy.remove_pod(p.key());
        let s = fw.run_pre_filter_remove_pod(&mut state, pod, p, &node_copy);
        if !s.is_success() {
            return Err(s);
        }
    }
    let s = fw.run_filters(&state, pod, &node_copy);
    if !s.is_success() {
        return Err(s);
    }
    potential.sort_by(|a, b| {
        if more_important(a, b) {
            std::cmp::Ordering::Less
        } else if more_important(b, a) {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Equal
        }
    });
    let (violating, non_violating) = split_by_pdb(&potential, ctx.snapshot.pdbs());
    let mut victims = Vec::new();
    let mut pdb_violations = 0;
    let mut reprieve =
        |p: &Arc<PodInfo>, node_copy: &mut NodeInfo, state: &mut CycleState| -> bool {
            node_copy.add_pod(p.clone());
            let _ = fw.run_pre_filter_add_pod(state, pod, p, node_copy);
            if fw.run_filters(state, pod, node_copy).is_success() {
                true
            } else {
                node_copy.remove_pod(p.key());
                let _ = fw.run_pre_filter_remove_pod(state, pod, p, node_copy);
                victims.push(p.clone());
                false
            }
        };
    for p in &violating {
        if !reprieve(p, &mut node_copy, &mut state) {
            pdb_violations += 1;
        }
    }
    for p in &non_violating {
        reprieve(p, &mut node_copy, &mut state);
    }
    Ok(Candidate {
        node: node.name().to_owned(),
        victims,
        pdb_violations,
    })
}

/// Upstream's `pickOneNodeForPreemption`: fewest PDB violations, then the lowest highest
/// victim priority, the lowest priority sum, the fewest victims, the latest start of the
/// highest-priority victims, then the first.
pub fn pick_one(candidates: &[Candidate]) -> Option<&Candidate> {
    candidates.iter().min_by_key(|c| {
        let highest = c
            .victims
            .iter()
            .map(|v| v.priority)
            .max()
            .unwrap_or(i32::MIN);
        let sum: i64 = c
            .victims
            .iter()
            .map(|v| i64::from(v.priority) + i64::from(i32::MAX) + 1)
            .sum();
        let earliest_of_highest = c
            .victims
            .iter()
            .filter(|v| v.priority == highest)
            .filter_map(|v| start_time(v))
            .min();
        (
            c.pdb_violations,
            highest,
            sum,
            c.victims.len(),
            Reverse(earliest_of_highest),
        )
    })
}

fn preemption_fit_error(pod: &PodInfo, all: usize, statuses: NodeToStatus) -> String {
    let mut statuses = statuses;
    statuses.set_absent(Status::unresolvable(PREEMPTION_NOT_HELPFUL));
    FitError {
        pod: pod.display_name(),
        num_all_nodes: all,
        diagnosis: Diagnosis {
            node_to_status: statuses,
            ..Diagnosis::default()
        },
    }
    .to_string()
}

impl Plugin for DefaultPreemption {
    fn name(&self) -> &str {
        names::DEFAULT_PREEMPTION
    }
}

impl PostFilterPlugin for DefaultPreemption {
    fn post_filter(
        &self,
        ctx: &PostFilterContext<'_>,
        state: &CycleState,
        pod: &Arc<PodInfo>,
    ) -> (Option<PostFilterResult>, Status) {
        let policy = pod
            .pod()
            .spec
            .as_ref()
            .and_then(|s| s.preemption_policy.as_deref());
        if policy == Some("Never") {
            return (
                None,
                Status::unschedulable("preemption: not eligible due to preemptionPolicy=Never."),
            );
        }
        let snapshot = ctx.snapshot;
        let all = snapshot.len();
        let potential: Vec<&Arc<NodeInfo>> = snapshot
            .nodes()
            .iter()
            .filter(|n| ctx.statuses.get(n.name()).code() != Code::UnschedulableAndUnresolvable)
            .collect();
        let mut statuses = NodeToStatus::default();
        if potential.is_empty() {
            let msg = preemption_fit_error(pod, all, statuses);
            return (None, Status::unschedulable(format!("preemption: {msg}")));
        }
        let want = (potential.len() * self.args.min_candidate_nodes_percentage / 100)
            .max(self.args.min_candidate_nodes_absolute)
            .min(potential.len());
        let mut candidates = Vec::new();
        for n in &potential {
            if candidates.len() >= want {
                break;
            }
            match select_victims_on_node(ctx, state, pod, n) {
                Ok(c) if !c.victims.is_empty() => candidates.push(c),
                Ok(_) => {}
                Err(s) => statuses.set(n.name_arc().clone(), s),
            }
        }
        let Some(best) = pick_one(&candidates) else {
            let msg = preemption_fit_error(pod, all, statuses);
            return (None, Status::unschedulable(format!("preemption: {msg}")));
        };
        let result = PostFilterResult {
            nominated_node: Some(best.node.clone()),
            victims: best.victims.clone(),
            clear_nominations: Vec::new(),
        };
        (Some(result), Status::success())
    }
}

//! `Framework`: one profile's plugins wired per extension point, and the code that runs each
//! point with upstream's rules (skips, first failure wins, score normalization and weights,
//! permit waiting).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

use super::cycle_state::CycleState;
use super::events::{ClusterEvent, ClusterEventWithHint, EventObjects, QueueingHint};
use super::plugin::{
    BindPlugin, FilterPlugin, MAX_NODE_SCORE, MIN_NODE_SCORE, PermitPlugin, PostBindPlugin,
    PostFilterContext, PostFilterPlugin, PostFilterResult, PreBindPlugin, PreEnqueuePlugin,
    PreFilterPlugin, PreFilterResult, PreScorePlugin, QueueSortPlugin, ReservePlugin, ScorePlugin,
};
use super::status::{Code, Status};
use crate::cache::{NodeInfo, NodeRef, PodInfo, PodKey, Snapshot};
use crate::error::Error;

/// The filter status of every evaluated node; nodes not in the map share
/// [`NodeToStatus::absent`].
#[derive(Clone, Debug)]
pub struct NodeToStatus {
    map: HashMap<Arc<str>, Status>,
    absent: Status,
}

impl Default for NodeToStatus {
    fn default() -> Self {
        NodeToStatus {
            map: HashMap::new(),
            absent: Status::code_only(Code::UnschedulableAndUnresolvable),
        }
    }
}

impl NodeToStatus {
    /// Records a node's status.
    pub fn set(&mut self, node: Arc<str>, status: Status) {
        self.map.insert(node, status);
    }

    /// A node's status (the absent status when not recorded).
    pub fn get(&self, node: &str) -> &Status {
        self.map.get(node).unwrap_or(&self.absent)
    }

    /// The status of nodes not in the map.
    pub fn absent(&self) -> &Status {
        &self.absent
    }

    /// Sets the status of nodes not in the map.
    pub fn set_absent(&mut self, status: Status) {
        self.absent = status;
    }

    /// How many nodes have a recorded status.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no node has a recorded status.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The recorded statuses.
    pub fn iter(&self) -> impl Iterator<Item = (&Arc<str>, &Status)> {
        self.map.iter()
    }
}

/// Pods held by a Permit `Wait`, waiting to be allowed or rejected.
#[derive(Clone, Default)]
pub struct WaitingPods {
    inner: Arc<Mutex<HashMap<PodKey, WaitingPod>>>,
}

struct WaitingPod {
    pending: Vec<String>,
    tx: Option<oneshot::Sender<Status>>,
}

impl fmt::Debug for WaitingPods {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitingPods").finish_non_exhaustive()
    }
}

impl WaitingPods {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PodKey, WaitingPod>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn register(&self, key: PodKey, pending: Vec<String>) -> oneshot::Receiver<Status> {
        let (tx, rx) = oneshot::channel();
        self.lock().insert(
            key,
            WaitingPod {
                pending,
                tx: Some(tx),
            },
        );
        rx
    }

    /// The keys of the waiting pods.
    pub fn keys(&self) -> Vec<PodKey> {
        self.lock().keys().cloned().collect()
    }

    /// Whether a pod is waiting.
    pub fn contains(&self, key: &str) -> bool {
        self.lock().contains_key(key)
    }

    /// Plugin `plugin` allows the pod; it proceeds once every waiting plugin allowed it.
    pub fn allow(&self, key: &str, plugin: &str) {
        let mut map = self.lock();
        let done = match map.get_mut(key) {
            Some(wp) => {
                wp.pending.retain(|p| p != plugin);
                wp.pending.is_empty()
            }
            None => false,
        };
        if done
            && let Some(mut wp) = map.remove(key)
            && let Some(tx) = wp.tx.take()
        {
            let _ = tx.send(Status::success());
        }
    }

    /// Plugin `plugin` rejects the pod with `message`.
    pub fn reject(&self, key: &str, plugin: &str, message: &str) {
        let removed = self.lock().remove(key);
        if let Some(mut wp) = removed
            && let Some(tx) = wp.tx.take()
        {
            let _ = tx.send(Status::unschedulable(message.to_owned()).with_plugin(plugin));
        }
    }

    fn remove(&self, key: &str) {
        self.lock().remove(key);
    }
}

/// The scores of one cycle: per node totals, and per plugin details when asked for.
#[derive(Clone, Debug, Default)]
pub struct ScoreResult {
    /// Weighted sum per node (same order as the nodes scored).
    pub totals: Vec<i64>,
    /// Per plugin: name, weight, normalized (unweighted) score per node.
    pub per_plugin: Vec<(String, i64, Vec<i64>)>,
}

/// Buffers [`Framework::run_score_positions`] reuses from one cycle to the next.
#[derive(Clone, Debug, Default)]
pub struct ScoreBuffers {
    totals: Vec<i64>,
    scores: Vec<i64>,
}

/// One profile: a scheduler name and its plugins at each extension point.
pub struct Framework {
    scheduler_name: String,
    pre_enqueue: Vec<Arc<dyn PreEnqueuePlugin>>,
    queue_sort: Option<Arc<dyn QueueSortPlugin>>,
    pre_filter: Vec<Arc<dyn PreFilterPlugin>>,
    filter: Vec<Arc<dyn FilterPlugin>>,
    /// The Filter plugins' names, shared into rejection statuses without allocating.
    filter_plugin_names: Vec<Arc<str>>,
    post_filter: Vec<Arc<dyn PostFilterPlugin>>,
    pre_score: Vec<Arc<dyn PreScorePlugin>>,
    score: Vec<(Arc<dyn ScorePlugin>, i64)>,
    reserve: Vec<Arc<dyn ReservePlugin>>,
    permit: Vec<Arc<dyn PermitPlugin>>,
    pre_bind: Vec<Arc<dyn PreBindPlugin>>,
    bind: Vec<Arc<dyn BindPlugin>>,
    post_bind: Vec<Arc<dyn PostBindPlugin>>,
    events: Vec<(String, ClusterEventWithHint)>,
    percentage_of_nodes_to_score: Option<u32>,
    waiting: WaitingPods,
}

impl fmt::Debug for Framework {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = |v: Vec<&str>| v.join(",");
        f.debug_struct("Framework")
            .field("scheduler_name", &self.scheduler_name)
            .field(
                "filter",
                &names(self.filter.iter().map(|p| p.name()).collect()),
            )
            .field(
                "score",
                &names(self.score.iter().map(|(p, _)| p.name()).collect()),
            )
            .finish_non_exhaustive()
    }
}

/// Builds a [`Framework`]: register plugins per extension point, like upstream's
/// `profiles[].plugins` configuration.
pub struct FrameworkBuilder {
    fw: Framework,
    seen: Vec<String>,
}

impl FrameworkBuilder {
    fn note(&mut self, p: &dyn super::plugin::Plugin) {
        if !self.seen.iter().any(|s| s == p.name()) {
            self.seen.push(p.name().to_owned());
            for e in p.events_to_register() {
                self.fw.events.push((p.name().to_owned(), e));
            }
        }
    }

    /// Adds a PreEnqueue plugin.
    pub fn pre_enqueue(mut self, p: Arc<dyn PreEnqueuePlugin>) -> Self {
        self.note(&*p);
        self.fw.pre_enqueue.push(p);
        self
    }
    /// Sets the QueueSort plugin.
    pub fn queue_sort(mut self, p: Arc<dyn QueueSortPlugin>) -> Self {
        self.note(&*p);
        self.fw.queue_sort = Some(p);
        self
    }
    /// Adds a PreFilter plugin.
    pub fn pre_filter(mut self, p: Arc<dyn PreFilterPlugin>) -> Self {
        self.note(&*p);
        self.fw.pre_filter.push(p);
        self
    }
    /// Adds a Filter plugin.
    pub fn filter(mut self, p: Arc<dyn FilterPlugin>) -> Self {
        self.note(&*p);
        self.fw.filter_plugin_names.push(Arc::from(p.name()));
        self.fw.filter.push(p);
        self
    }
    /// Adds a PostFilter plugin.
    pub fn post_filter(mut self, p: Arc<dyn PostFilterPlugin>) -> Self {
        self.note(&*p);
        self.fw.post_filter.push(p);
        self
    }
    /// Adds a PreScore plugin.
    pub fn pre_score(mut self, p: Arc<dyn PreScorePlugin>) -> Self {
        self.note(&*p);
        self.fw.pre_score.push(p);
        self
    }
    /// Adds a Score plugin with a weight.
    pub fn score(mut self, p: Arc<dyn ScorePlugin>, weight: i64) -> Self {
        self.note(&*p);
        self.fw.score.push((p, weight));
        self
    }
    /// Adds a Reserve plugin.
    pub fn reserve(mut self, p: Arc<dyn ReservePlugin>) -> Self {
        self.note(&*p);
        self.fw.reserve.push(p);
        self
    }
    /// Adds a Permit plugin.
    pub fn permit(mut self, p: Arc<dyn PermitPlugin>) -> Self {
        self.note(&*p);
        self.fw.permit.push(p);
        self
    }
    /// Adds a PreBind plugin.
    pub fn pre_bind(mut self, p: Arc<dyn PreBindPlugin>) -> Self {
        self.note(&*p);
        self.fw.pre_bind.push(p);
        self
    }
    /// Adds a Bind plugin.
    pub fn bind(mut self, p: Arc<dyn BindPlugin>) -> Self {
        self.note(&*p);
        self.fw.bind.push(p);
        self
    }
    /// Adds a PostBind plugin.
    pub fn post_bind(mut self, p: Arc<dyn PostBindPlugin>) -> Self {
        self.note(&*p);
        self.fw.post_bind.push(p);
        self
    }
    /// Removes every plugin named `name` from every extension point (to replace a default).
    pub fn without(mut self, name: &str) -> Self {
        let fw = &mut self.fw;
        fw.pre_enqueue.retain(|p| p.name() != name);
        fw.pre_filter.retain(|p| p.name() != name);
        fw.filter.retain(|p| p.name() != name);
        fw.filter_plugin_names.retain(|p| &**p != name);
        fw.post_filter.retain(|p| p.name() != name);
        fw.pre_score.retain(|p| p.name() != name);
        fw.score.retain(|(p, _)| p.name() != name);
        fw.reserve.retain(|p| p.name() != name);
        fw.permit.retain(|p| p.name() != name);
        fw.pre_bind.retain(|p| p.name() != name);
        fw.bind.retain(|p| p.name() != name);
        fw.post_bind.retain(|p| p.name() != name);
        fw.events.retain(|(p, _)| p != name);
        self.seen.retain(|p| p != name);
        self
    }
    /// Sets the profile's `percentageOfNodesToScore` (`None`/0 = adaptive default).
    pub fn percentage_of_nodes_to_score(mut self, pct: Option<u32>) -> Self {
        self.fw.percentage_of_nodes_to_score = pct.filter(|p| *p > 0);
        self
    }

    /// The framework.
    ///
    /// # Errors
    /// [`Error::InvalidProfile`] when no QueueSort plugin is set, or a score weight is not
    /// positive.
    pub fn build(self) -> Result<Framework, Error> {
        if self.fw.queue_sort.is_none() {
            return Err(Error::InvalidProfile {
                profile: self.fw.scheduler_name.clone(),
                message: "no QueueSort plugin is enabled".into(),
            });
        }
        if let Some((p, w)) = self.fw.score.iter().find(|(_, w)| *w <= 0) {
            return Err(Error::InvalidProfile {
                profile: self.fw.scheduler_name.clone(),
                message: format!("score plugin {:?} has a non-positive weight {w}", p.name()),
            });
        }
        Ok(self.fw)
    }
}

impl Framework {
    /// A builder for a profile serving `scheduler_name`.
    pub fn builder(scheduler_name: &str) -> FrameworkBuilder {
        FrameworkBuilder {
            fw: Framework {
                scheduler_name: scheduler_name.to_owned(),
                pre_enqueue: Vec::new(),
                queue_sort: None,
                pre_filter: Vec::new(),
                filter: Vec::new(),
                filter_plugin_names: Vec::new(),
                post_filter: Vec::new(),
                pre_score: Vec::new(),
                score: Vec::new(),
                reserve: Vec::new(),
                permit: Vec::new(),
                pre_bind: Vec::new(),
                bind: Vec::new(),
                post_bind: Vec::new(),
                events: Vec::new(),
                percentage_of_nodes_to_score: None,
                waiting: WaitingPods::default(),
            },
            seen: Vec::new(),
        }
    }

    /// The scheduler name this profile serves (`spec.schedulerName`).
    pub fn scheduler_name(&self) -> &str {
        &self.scheduler_name
    }

    /// The QueueSort plugin.
    pub fn queue_sort(&self) -> Option<&Arc<dyn QueueSortPlugin>> {
        self.queue_sort.as_ref()
    }

    /// The profile's `percentageOfNodesToScore`.
    pub fn percentage_of_nodes_to_score(&self) -> Option<u32> {
        self.percentage_of_nodes_to_score
    }

    /// Pods waiting at Permit.
    pub fn waiting_pods(&self) -> &WaitingPods {
        &self.waiting
    }

    /// Whether the profile has Filter plugins.
    pub fn has_filters(&self) -> bool {
        !self.filter.is_empty()
    }

    /// Whether the profile has Score plugins.
    pub fn has_scores(&self) -> bool {
        !self.score.is_empty()
    }

    /// The names of the Filter plugins, in order.
    pub fn filter_names(&self) -> Vec<&str> {
        self.filter.iter().map(|p| p.name()).collect()
    }

    /// The names and weights of the Score plugins, in order.
    pub fn score_names(&self) -> Vec<(&str, i64)> {
        self.score.iter().map(|(p, w)| (p.name(), *w)).collect()
    }

    /// The queueing hints registered by the plugins: `(plugin, registration)`.
    pub fn events(&self) -> &[(String, ClusterEventWithHint)] {
        &self.events
    }

    /// Whether `event` may make a pod rejected by `plugins` schedulable (upstream's
    /// `isPodWorthRequeuing`). No rejecting plugins (an error) always requeues.
    pub fn worth_requeuing(
        &self,
        pod: &PodInfo,
        plugins: &[String],
        event: &ClusterEvent,
        objects: &EventObjects,
    ) -> bool {
        if plugins.is_empty() {
            return true;
        }
        for (plugin, reg) in &self.events {
            if !plugins.iter().any(|p| p == plugin) || !reg.event.covers(event) {
                continue;
            }
            match &reg.hint {
                None => return true,
                Some(h) => {
                    if h(pod, objects) == QueueingHint::Queue {
                        return true;
                    }
                }
            }
        }
        false
    }

    /// Runs PreEnqueue plugins; the first non-success (with its plugin) is returned.
    pub fn run_pre_enqueue(&self, pod: &PodInfo) -> Status {
        for p in &self.pre_enqueue {
            let s = p.pre_enqueue(pod);
            if !s.is_success() {
                return s.with_plugin(p.name());
            }
        }
        Status::success()
    }

    /// Runs PreFilter plugins: skips are recorded, results intersected, the first rejection
    /// returned.
    pub fn run_pre_filter(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        snapshot: &Snapshot,
    ) -> (PreFilterResult, Status) {
        let (r, s, _) = self.run_pre_filter_with_names(state, pod, snapshot);
        (r, s)
    }

    /// As [`Framework::run_pre_filter`], also naming the plugins that narrowed the nodes.
    pub fn run_pre_filter_with_names(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        snapshot: &Snapshot,
    ) -> (PreFilterResult, Status, Vec<String>) {
        let mut result = PreFilterResult::all();
        let mut narrowing: Vec<&str> = Vec::new();
        for p in &self.pre_filter {
            let (r, s) = p.pre_filter(state, pod, snapshot);
            if s.is_skip() {
                state.skip_filter_of(p.name());
                for (i, f) in self.filter.iter().enumerate().take(64) {
                    if f.name() == p.name() {
                        state.skip_filter_mask |= 1 << i;
                    }
                }
                continue;
            }
            if !s.is_success() {
                return (result, s.with_plugin(p.name()), Vec::new());
            }
            if let Some(r) = r
                && r.node_names.is_some()
            {
                narrowing.push(p.name());
                result = result.merge(r);
                if result.node_names.as_ref().is_some_and(|n| n.is_empty()) {
                    let msg = if narrowing.len() > 1 {
                        format!(
                            "node(s) didn't satisfy plugin(s) [{}] simultaneously",
                            narrowing.join(" ")
                        )
                    } else {
                        format!("node(s) didn't satisfy plugin {}", p.name())
                    };
                    return (
                        result,
                        Status::unresolvable(msg).with_plugin(p.name()),
                        Vec::new(),
                    );
                }
            }
        }
        let names = narrowing.iter().map(|s| (*s).to_owned()).collect();
        (result, Status::success(), names)
    }

    /// Runs the PreFilter AddPod extensions.
    pub fn run_pre_filter_add_pod(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        to_add: &Arc<PodInfo>,
        node: &NodeInfo,
    ) -> Status {
        for p in &self.pre_filter {
            if !p.has_extensions() || state.is_filter_skipped(p.name()) {
                continue;
            }
            let s = p.add_pod(state, pod, to_add, node);
            if !s.is_success() {
                return s.with_plugin(p.name());
            }
        }
        Status::success()
    }

    /// Runs the PreFilter RemovePod extensions.
    pub fn run_pre_filter_remove_pod(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        to_remove: &Arc<PodInfo>,
        node: &NodeInfo,
    ) -> Status {
        for p in &self.pre_filter {
            if !p.has_extensions() || state.is_filter_skipped(p.name()) {
                continue;
            }
            let s = p.remove_pod(state, pod, to_remove, node);
            if !s.is_success() {
                return s.with_plugin(p.name());
            }
        }
        Status::success()
    }

    /// Runs Filter plugins on one node; the first non-success wins.
    #[inline]
    pub fn run_filters(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        self.filter_chain(state, |p| Some(p.filter(state, pod, node)))
    }

    /// As [`Framework::run_filters`] for a snapshot node: each plugin answers through
    /// [`FilterPlugin::filter_node`] (from the node's compact row where it can).
    #[inline]
    pub fn run_filters_node(&self, state: &CycleState, pod: &PodInfo, node: NodeRef<'_>) -> Status {
        self.filter_chain(state, |p| {
            if p.passes_node(state, pod, node) {
                None
            } else {
                Some(p.filter_node(state, pod, node))
            }
        })
    }

    /// The Filter plugins not skipped this cycle, in order, until one does not succeed
    /// (`filter` answers `None` for a pass known without building a [`Status`]).
    #[inline(always)]
    fn filter_chain(
        &self,
        state: &CycleState,
        mut filter: impl FnMut(&dyn FilterPlugin) -> Option<Status>,
    ) -> Status {
        let mask = state.skip_filter_mask;
        for (i, p) in self.filter.iter().enumerate() {
            if i < 64 && mask & (1 << i) != 0 {
                continue;
            }
            let Some(s) = filter(&**p) else {
                continue;
            };
            if s.is_success() {
                s.discard();
            } else {
                return match self.filter_plugin_names.get(i) {
                    Some(name) if **name == *p.name() => s.with_plugin_name(name),
                    _ => s.with_plugin(p.name()),
                };
            }
        }
        Status::success()
    }

    /// Runs every Filter plugin on one node, without stopping at the first failure
    /// (explain mode). Skipped plugins report `Skip`.
    pub fn run_all_filters(
        &self,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
    ) -> Vec<(String, Status)> {
        self.filter
            .iter()
            .map(|p| {
                let s = if state.is_filter_skipped(p.name()) {
                    Status::skip()
                } else {
                    p.filter(state, pod, node)
                };
                (p.name().to_owned(), s)
            })
            .collect()
    }

    /// Runs PostFilter plugins until one nominates a node.
    pub fn run_post_filter(
        &self,
        ctx: &PostFilterContext<'_>,
        state: &CycleState,
        pod: &Arc<PodInfo>,
    ) -> (Option<PostFilterResult>, Status) {
        let mut last = Status::code_only(Code::Unschedulable);
        let mut reasons = Vec::new();
        for p in &self.post_filter {
            let (r, s) = p.post_filter(ctx, state, pod);
            if s.is_success() {
                return (r, s);
            }
            if s.code() == Code::UnschedulableAndUnresolvable {
                return (r, s.with_plugin(p.name()));
            }
            if s.is_error() {
                return (None, s.with_plugin(p.name()));
            }
            reasons.extend(s.reasons().iter().cloned());
            last = s.with_plugin(p.name());
        }
        if reasons.is_empty() {
            (None, last)
        } else {
            (None, Status::with_reasons(last.code(), reasons))
        }
    }

    /// Runs PreScore plugins; skips are recorded.
    pub fn run_pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        nodes: &[Arc<NodeInfo>],
        snapshot: &Snapshot,
    ) -> Status {
        for p in &self.pre_score {
            let s = p.pre_score(state, pod, nodes, snapshot);
            if s.is_skip() {
                state.skip_score_of(p.name());
                for (i, (sp, _)) in self.score.iter().enumerate().take(64) {
                    if sp.name() == p.name() {
                        state.skip_score_mask |= 1 << i;
                    }
                }
                continue;
            }
            if !s.is_success() {
                return s.with_plugin(p.name());
            }
        }
        Status::success()
    }

    /// As [`Framework::run_pre_score`] for the snapshot nodes at `positions`: the nodes
    /// are collected for the plugins only when one of them reads them
    /// ([`PreScorePlugin::reads_nodes`]); otherwise they get an empty list.
    pub fn run_pre_score_positions(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        snapshot: &Snapshot,
        positions: &[usize],
    ) -> Status {
        let nodes: Vec<Arc<NodeInfo>> = if self.pre_score.iter().any(|p| p.reads_nodes(pod)) {
            positions
                .iter()
                .filter_map(|&i| snapshot.nodes().get(i).cloned())
                .collect()
        } else {
            Vec::new()
        };
        self.run_pre_score(state, pod, &nodes, snapshot)
    }

    /// Runs Score plugins over `nodes`, normalizes, checks the range and applies weights.
    ///
    /// # Errors
    /// A plugin's error status, or an out-of-range normalized score.
    pub fn run_score(
        &self,
        state: &CycleState,
        pod: &PodInfo,
        nodes: &[Arc<NodeInfo>],
        breakdown: bool,
    ) -> Result<ScoreResult, Status> {
        let mut totals = Vec::new();
        let mut per_plugin = Vec::new();
        self.score_all(
            state,
            pod,
            nodes.len(),
            &mut totals,
            &mut Vec::new(),
            breakdown.then_some(&mut per_plugin),
            |p, out| {
                for (o, n) in out.iter_mut().zip(nodes) {
                    *o = p.score(state, pod, n)?;
                }
                Ok(())
            },
        )?;
        Ok(ScoreResult { totals, per_plugin })
    }

    /// As [`Framework::run_score`] for the snapshot nodes at `positions` (in that order):
    /// each plugin answers once for all of them through [`ScorePlugin::score_positions`].
    ///
    /// # Errors
    /// As [`Framework::run_score`]; a position outside the snapshot is an error.
    pub fn run_score_positions<'b>(
        &self,
        state: &CycleState,
        pod: &PodInfo,
        snapshot: &Snapshot,
        positions: &[usize],
        buffers: &'b mut ScoreBuffers,
    ) -> Result<&'b [i64], Status> {
        let ScoreBuffers { totals, scores } = buffers;
        self.score_all(
            state,
            pod,
            positions.len(),
            totals,
            scores,
            None,
            |p, out| p.score_positions(state, pod, snapshot, positions, out),
        )?;
        Ok(totals)
    }

    /// Scores `len` nodes (`score(plugin, out)` scores them all into `out`) with every Score plugin not
    /// skipped, normalizes, checks the range and sums the weighted scores into `totals`
    /// (`scores` is scratch space; `per_plugin` receives the breakdown when given).
    #[allow(clippy::too_many_arguments)]
    fn score_all(
        &self,
        state: &CycleState,
        pod: &PodInfo,
        len: usize,
        totals: &mut Vec<i64>,
        scores: &mut Vec<i64>,
        mut per_plugin: Option<&mut Vec<(String, i64, Vec<i64>)>>,
        mut score: impl FnMut(&dyn ScorePlugin, &mut [i64]) -> Result<(), Status>,
    ) -> Result<(), Status> {
        totals.clear();
        totals.resize(len, 0);
        scores.clear();
        scores.resize(len, 0);
        for (idx, (p, weight)) in self.score.iter().enumerate() {
            if idx < 64 && state.skip_score_mask & (1 << idx) != 0 {
                if let Some(pp) = per_plugin.as_deref_mut() {
                    pp.push((p.name().to_owned(), *weight, vec![0; len]));
                }
                continue;
            }
            score(&**p, scores).map_err(|e| e.with_plugin(p.name()))?;
            let st = p.normalize_score(state, pod, scores);
            if !st.is_success() {
                return Err(st.with_plugin(p.name()));
            }
            for (i, s) in scores.iter().enumerate() {
                if !(MIN_NODE_SCORE..=MAX_NODE_SCORE).contains(s) {
                    return Err(Status::error(format!(
                        "plugin {:?} returns an invalid score {s}, it should in the range of [{MIN_NODE_SCORE}, {MAX_NODE_SCORE}] after normalizing",
                        p.name()
                    ))
                    .with_plugin(p.name()));
                }
                totals[i] += s * weight;
            }
            if let Some(pp) = per_plugin.as_deref_mut() {
                pp.push((p.name().to_owned(), *weight, scores.clone()));
            }
        }
        Ok(())
    }

    /// Runs Reserve plugins; on a failure, unreserves all and returns it.
    pub fn run_reserve(&self, state: &mut CycleState, pod: &PodInfo, node: &str) -> Status {
        for p in &self.reserve {
            let s = p.reserve(state, pod, node);
            if !s.is_success() {
                self.run_unreserve(state, pod, node);
                return s.with_plugin(p.name());
            }
        }
        Status::success()
    }

    /// Runs Unreserve of every Reserve plugin, in reverse order.
    pub fn run_unreserve(&self, state: &mut CycleState, pod: &PodInfo, node: &str) {
        for p in self.reserve.iter().rev() {
            p.unreserve(state, pod, node);
        }
    }

    /// Runs Permit plugins: a rejection is returned at once; waits register the pod in
    /// [`Framework::waiting_pods`] and return `Wait` (then call [`Framework::wait_on_permit`]).
    pub fn run_permit(&self, state: &CycleState, pod: &PodInfo, node: &str) -> PermitOutcome {
        let mut waiting: Vec<String> = Vec::new();
        let mut timeout: Option<(Duration, String)> = None;
        for p in &self.permit {
            let (s, t) = p.permit(state, pod, node);
            match s.code() {
                Code::Success => {}
                Code::Wait => {
                    waiting.push(p.name().to_owned());
                    let t = t.min(MAX_PERMIT_TIMEOUT);
                    if timeout.as_ref().is_none_or(|(cur, _)| t < *cur) {
                        timeout = Some((t, p.name().to_owned()));
                    }
                }
                _ => return PermitOutcome::Rejected(s.with_plugin(p.name())),
            }
        }
        match timeout {
            None => PermitOutcome::Allowed,
            Some((t, plugin)) => {
                let rx = self.waiting.register(pod.key().clone(), waiting);
                PermitOutcome::Wait(PermitWait {
                    rx,
                    timeout: t,
                    plugin,
                    key: pod.key().clone(),
                    waiting: self.waiting.clone(),
                })
            }
        }
    }

    /// Runs PreBind plugins.
    pub async fn run_pre_bind(&self, state: &CycleState, pod: &PodInfo, node: &str) -> Status {
        for p in &self.pre_bind {
            let s = p.pre_bind(state, pod, node).await;
            if s.is_skip() {
                continue;
            }
            if !s.is_success() {
                return s.with_plugin(p.name());
            }
        }
        Status::success()
    }

    /// Runs Bind plugins until one does not skip.
    pub async fn run_bind(&self, state: &CycleState, pod: &PodInfo, node: &str) -> Status {
        for p in &self.bind {
            let s = p.bind(state, pod, node).await;
            if s.is_skip() {
                continue;
            }
            return if s.is_success() {
                s
            } else {
                s.with_plugin(p.name())
            };
        }
        Status::error("no bind plugin bound the pod")
    }

    /// Runs PostBind plugins.
    pub async fn run_post_bind(&self, state: &CycleState, pod: &PodInfo, node: &str) {
        for p in &self.post_bind {
            p.post_bind(state, pod, node).await;
        }
    }
}

/// The longest a Permit plugin may make a pod wait (upstream's `maxTimeout`, 15 minutes).
pub const MAX_PERMIT_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// What Permit decided.
#[derive(Debug)]
pub enum PermitOutcome {
    /// Every plugin allowed.
    Allowed,
    /// A plugin rejected.
    Rejected(Status),
    /// At least one plugin asked to wait.
    Wait(PermitWait),
}

/// A pending Permit wait: await it in the binding cycle.
#[derive(Debug)]
pub struct PermitWait {
    rx: oneshot::Receiver<Status>,
    timeout: Duration,
    plugin: String,
    key: PodKey,
    waiting: WaitingPods,
}

impl PermitWait {
    /// Waits for all waiting plugins to allow, a rejection, or the timeout (upstream's
    /// `rejected due to timeout after waiting … at plugin …`).
    pub async fn wait(self) -> Status {
        match tokio::time::timeout(self.timeout, self.rx).await {
            Ok(Ok(s)) => s,
            Ok(Err(_)) => Status::error("permit wait was abandoned"),
            Err(_) => {
                self.waiting.remove(&self.key);
                Status::unschedulable(format!(
                    "rejected due to timeout after waiting {:?} at plugin {}",
                    self.timeout, self.plugin
                ))
                .with_plugin(&self.plugin)
            }
        }
    }
}

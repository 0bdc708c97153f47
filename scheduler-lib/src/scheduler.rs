//! The scheduler loop: event intake from the cluster (pods without a node for our profiles,
//! nodes, bound pods into the cache), the queue, one pod per scheduling cycle (filter,
//! score, assume, reserve, permit) and an asynchronous binding cycle per pod.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use futures::StreamExt as _;
use kybern_core::api::core::v1::{Namespace, Node, Pod, PodCondition};
use kybern_core::api::policy::v1::PodDisruptionBudget;
use kybern_reconciler::runtime::SharedInformers;
use kybern_reconciler::{Api, DeleteParams, Patch, Store};
use serde_json::json;
use tokio::task::JoinHandle;

use crate::cache::{Cache, NodeInfo, NodeRef, PodInfo, Snapshot};
use crate::error::Error;
use crate::framework::{
    ActionType, ClusterEvent, Code, CycleState, Diagnosis, EventObject, EventObjects,
    EventResource, FitError, Framework, NodeToStatus, PermitOutcome, PostFilterContext,
    ScoreBuffers, Status, events::node_update_action,
};
use crate::plugins::{DefaultPluginArgs, default_framework};
use crate::queue::{Clock, Queue, QueueConfig, QueuedPodInfo, SchedulingQueue, TokioClock};
use crate::source::{ClusterSource, InformerSource, PodEvent};

/// How often the running loop drops expired assumed pods (upstream: every second).
pub const ASSUMED_CLEANUP_PERIOD: std::time::Duration = std::time::Duration::from_secs(1);

/// Upstream's `minFeasibleNodesToFind`.
pub const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;
/// Upstream's `minFeasibleNodesPercentageToFind`.
pub const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND: usize = 5;

/// Upstream's `numFeasibleNodesToFind`: every node below 100 nodes; otherwise `pct` percent
/// (adaptive when unset: `50 − nodes/125`, at least 5 %), at least 100 nodes.
pub fn num_feasible_nodes_to_find(pct: Option<u32>, nodes: usize) -> usize {
    if nodes < MIN_FEASIBLE_NODES_TO_FIND {
        return nodes;
    }
    let pct = match pct {
        Some(p) if p > 0 => p as usize,
        _ => (50usize.saturating_sub(nodes / 125)).max(MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND),
    };
    if pct >= 100 {
        return nodes;
    }
    (nodes * pct / 100).max(MIN_FEASIBLE_NODES_TO_FIND)
}

/// Scheduler settings.
#[derive(Clone, Debug)]
pub struct SchedulerConfig {
    /// The global `percentageOfNodesToScore` (`None` = adaptive); profiles may override.
    pub percentage_of_nodes_to_score: Option<u32>,
    /// Queue timings.
    pub queue: QueueConfig,
    /// Seed of the tie-breaking random choice among equally scored nodes.
    pub seed: u64,
    /// Run filters on this many nodes or more in parallel on scoped threads (`0` = always
    /// sequential).
    pub parallel_filter_threshold: usize,
    /// How long assumed pods live after their binding without being seen bound (`None`:
    /// forever, upstream's default).
    pub assumed_ttl: Option<std::time::Duration>,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            percentage_of_nodes_to_score: None,
            queue: QueueConfig::default(),
            seed: 0x5eed,
            parallel_filter_threshold: 0,
            assumed_ttl: None,
        }
    }
}

/// What one scheduling cycle did.
#[derive(Clone, Debug)]
pub enum ScheduleOutcome {
    /// Assumed on a node; the binding runs asynchronously.
    Assumed {
        /// `namespace/name`.
        pod: String,
        /// The node.
        node: String,
    },
    /// No node fits (upstream's message).
    Unschedulable {
        /// `namespace/name`.
        pod: String,
        /// The FitError message.
        message: String,
        /// The node preemption nominated, if any.
        nominated_node: Option<String>,
    },
    /// An error (retried with backoff).
    Error {
        /// `namespace/name`.
        pod: String,
        /// The message.
        message: String,
    },
    /// Nothing to do (the pod was deleted, is already assumed, or has no profile).
    Skipped,
}

/// Builds a [`Scheduler`].
pub struct SchedulerBuilder {
    store: Arc<dyn Store>,
    profiles: Vec<Framework>,
    config: SchedulerConfig,
    source: Option<Arc<dyn ClusterSource>>,
    informers: Option<SharedInformers>,
    clock: Arc<dyn Clock>,
}

impl SchedulerBuilder {
    /// Shares these informers (e.g. the controller manager's) for the default
    /// [`InformerSource`] intake, instead of starting a private set.
    pub fn informers(mut self, informers: SharedInformers) -> Self {
        self.informers = Some(informers);
        self
    }

    /// Adds a profile (a [`Framework`] serving one scheduler name).
    pub fn profile(mut self, fw: Framework) -> Self {
        self.profiles.push(fw);
        self
    }

    /// Sets the configuration.
    pub fn config(mut self, config: SchedulerConfig) -> Self {
        self.config = config;
        self
    }

    /// Replaces the event source (default: [`InformerSource`] over the store).
    pub fn source(mut self, source: Arc<dyn ClusterSource>) -> Self {
        self.source = Some(source);
        self
    }

    /// Replaces the clock (default: tokio's).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The scheduler. Without profiles, the default profile (`default-scheduler`).
    ///
    /// # Errors
    /// Duplicate scheduler names, or profiles with different QueueSort plugins.
    pub fn build(mut self) -> Result<Scheduler, Error> {
        if self.profiles.is_empty() {
            self.profiles.push(default_framework(
                crate::DEFAULT_SCHEDULER_NAME,
                self.store.clone(),
                &DefaultPluginArgs::default(),
            )?);
        }
        let mut profiles = HashMap::new();
        let mut list = Vec::new();
        let sort_name = self.profiles[0].queue_sort().map(|q| q.name().to_owned());
        for fw in self.profiles {
            if fw.queue_sort().map(|q| q.name().to_owned()) != sort_name {
                return Err(Error::InvalidProfiles(
                    "all profiles must use the same QueueSort plugin".into(),
                ));
            }
            let fw = Arc::new(fw);
            if profiles
                .insert(fw.scheduler_name().to_owned(), fw.clone())
                .is_some()
            {
                return Err(Error::InvalidProfiles(format!(
                    "duplicate profile with scheduler name {:?}",
                    fw.scheduler_name()
                )));
            }
            list.push(fw);
        }
        let queue = Queue::new(SchedulingQueue::new(&list, self.config.queue), self.clock);
        let cache = match self.config.assumed_ttl {
            Some(t) => Cache::with_assumed_ttl(t),
            None => Cache::new(),
        };
        let informers = self.informers;
        let store = self.store.clone();
        let source = self
            .source
            .unwrap_or_else(|| Arc::new(InformerSource::new(store, informers.unwrap_or_default())));
        Ok(Scheduler {
            inner: Arc::new(Inner {
                rng: Mutex::new(fastrand::Rng::with_seed(self.config.seed)),
                store: self.store,
                profiles,
                cache: Mutex::new(cache),
                queue,
                snapshot: Mutex::new(Snapshot::new()),
                next_start: AtomicUsize::new(0),
                config: self.config,
                source,
                stats: Stats::default(),
                nominated: Mutex::new(HashMap::new()),
                buffers: Mutex::new(CycleBuffers::default()),
            }),
        })
    }
}

#[derive(Debug, Default)]
struct Stats {
    attempts: AtomicU64,
    bound: AtomicU64,
    unschedulable: AtomicU64,
    errors: AtomicU64,
}

struct Inner {
    store: Arc<dyn Store>,
    profiles: HashMap<String, Arc<Framework>>,
    cache: Mutex<Cache>,
    queue: Queue,
    snapshot: Mutex<Snapshot>,
    next_start: AtomicUsize,
    rng: Mutex<fastrand::Rng>,
    config: SchedulerConfig,
    source: Arc<dyn ClusterSource>,
    stats: Stats,
    /// Pods nominated to nodes by preemption: node → pods (upstream's nominator).
    nominated: Mutex<HashMap<String, Vec<Arc<PodInfo>>>>,
    /// Per-cycle buffers reused from one cycle to the next.
    buffers: Mutex<CycleBuffers>,
}

/// The buffers of the per-node passes, kept across cycles: a fresh few-KiB vector per
/// cycle made the allocator grow and trim its heap every cycle (`mprotect` and page faults
/// showed up as ~6 % of SchedulingBasic's samples).
#[derive(Debug, Default)]
struct CycleBuffers {
    feasible: Vec<usize>,
    scores: ScoreBuffers,
}

/// The scheduler. Cheap to clone.
#[derive(Clone)]
pub struct Scheduler {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("profiles", &self.inner.profiles.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// A running scheduler: counters and shutdown.
#[derive(Debug)]
pub struct SchedulerHandle {
    scheduler: Scheduler,
    tasks: Vec<JoinHandle<()>>,
}

impl SchedulerHandle {
    /// The scheduler.
    pub fn scheduler(&self) -> &Scheduler {
        &self.scheduler
    }

    /// Stops the loop and the intake.
    pub fn shutdown(self) {
        self.scheduler.inner.queue.close();
        for t in self.tasks {
            t.abort();
        }
    }
}

/// The result of a successful placement decision.
struct Placement {
    node: String,
}

enum Failure {
    Fit(Box<FitError>),
    Error(Status),
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Scheduler {
    /// A builder over `store` (bindings and status updates are written there).
    pub fn builder(store: Arc<dyn Store>) -> SchedulerBuilder {
        SchedulerBuilder {
            store,
            profiles: Vec::new(),
            config: SchedulerConfig::default(),
            source: None,
            informers: None,
            clock: Arc::new(TokioClock),
        }
    }

    /// The profile serving a scheduler name.
    pub fn profile(&self, scheduler_name: &str) -> Option<&Arc<Framework>> {
        self.inner.profiles.get(scheduler_name)
    }

    /// Locks the cache (for tests and tools).
    pub fn cache(&self) -> MutexGuard<'_, Cache> {
        lock(&self.inner.cache)
    }

    /// The queue.
    pub fn queue(&self) -> &Queue {
        &self.inner.queue
    }

    /// A fresh snapshot of the cache.
    pub fn snapshot(&self) -> Snapshot {
        let mut s = Snapshot::new();
        self.cache().update_snapshot(&mut s);
        s
    }

    /// Explains how `pod` would be scheduled now (every node's filter verdicts and scores),
    /// with the profile serving its scheduler name.
    pub fn explain(&self, pod: &Pod) -> Option<crate::explain::Explanation> {
        let info = PodInfo::new(Arc::new(pod.clone()));
        let fw = self.inner.profiles.get(info.scheduler_name())?;
        let snapshot = self.snapshot();
        Some(crate::explain::explain(fw, &snapshot, &info))
    }

    /// Counters: (attempts, bound, unschedulable, errors).
    pub fn stats(&self) -> (u64, u64, u64, u64) {
        let s = &self.inner.stats;
        (
            s.attempts.load(Ordering::Relaxed),
            s.bound.load(Ordering::Relaxed),
            s.unschedulable.load(Ordering::Relaxed),
            s.errors.load(Ordering::Relaxed),
        )
    }

    /// A task feeding every event of `stream` to `handle`, until the stream ends.
    fn follow<K: Send + Sync + 'static>(
        &self,
        mut stream: futures::stream::BoxStream<'static, PodEvent<K>>,
        handle: fn(&Scheduler, PodEvent<K>),
    ) -> tokio::task::JoinHandle<()> {
        let s = self.clone();
        tokio::spawn(async move {
            while let Some(ev) = stream.next().await {
                handle(&s, ev);
            }
        })
    }

    /// Lists the cluster, fills the cache and queue, then starts the intake and the loop.
    ///
    /// # Errors
    /// The initial lists failed.
    pub async fn run(&self) -> Result<SchedulerHandle, Error> {
        let (nodes, node_stream) = self.inner.source.nodes().await?;
        let (pdbs, pdb_stream) = self.inner.source.pdbs().await?;
        let (namespaces, ns_stream) = self.inner.source.namespaces().await?;
        let (pods, pod_stream) = self.inner.source.pods().await?;
        for ns in namespaces {
            self.on_namespace(PodEvent::Added(ns));
        }
        for n in nodes {
            self.on_node(PodEvent::Added(n));
        }
        for p in pdbs {
            self.on_pdb(PodEvent::Added(p));
        }
        for p in pods {
            self.on_pod(PodEvent::Added(p));
        }
        let mut tasks = vec![
            self.follow(node_stream, Scheduler::on_node),
            self.follow(pdb_stream, Scheduler::on_pdb),
            self.follow(ns_stream, Scheduler::on_namespace),
            self.follow(pod_stream, Scheduler::on_pod),
        ];
        if self.inner.config.assumed_ttl.is_some() {
            let s = self.clone();
            tasks.push(tokio::spawn(async move {
                let mut tick = tokio::time::interval(ASSUMED_CLEANUP_PERIOD);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    s.cleanup_assumed_pods();
                }
            }));
        }
        let s = self.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(q) = s.inner.queue.pop().await {
                s.schedule_one(q);
                tokio::task::yield_now().await;
            }
        }));
        Ok(SchedulerHandle {
            scheduler: self.clone(),
            tasks,
        })
    }

    /// Drops assumed pods whose binding finished more than [`SchedulerConfig::assumed_ttl`]
    /// ago without the bound pod being seen (upstream's `cleanupAssumedPods`, which the
    /// running loop calls every second); returns their keys.
    pub fn cleanup_assumed_pods(&self) -> Vec<crate::cache::PodKey> {
        let now = self.inner.queue.now();
        let expired = self.cache().cleanup_assumed_pods(now);
        for k in &expired {
            tracing::warn!(pod = %k, "assumed pod expired without its binding being observed");
        }
        expired
    }

    /// Handles a pod event (public so other sources, e.g. shared informers, can feed it).
    pub fn on_pod(&self, ev: PodEvent<Pod>) {
        match ev {
            PodEvent::Added(p) | PodEvent::Modified(p) => {
                let info = Arc::new(PodInfo::new(p));
                if !info.node_name().is_empty() {
                    self.cache().add_pod(info.clone());
                    self.inner.queue.with(|q, now| {
                        q.delete(info.key());
                        q.on_event(
                            ClusterEvent::new(EventResource::AssignedPod, ActionType::ADD),
                            EventObjects {
                                old: None,
                                new: Some(EventObject::Pod(info.clone())),
                            },
                            now,
                        );
                    });
                    return;
                }
                if info.is_terminating() {
                    self.inner.queue.with(|q, _| q.delete(info.key()));
                    return;
                }
                if !self.inner.profiles.contains_key(info.scheduler_name()) {
                    return;
                }
                if self.cache().contains_pod(info.key()) {
                    // Assumed by us; the bound version will follow.
                    return;
                }
                self.inner.queue.with(|q, now| q.add(info, now));
            }
            PodEvent::Deleted(p) => {
                let info = Arc::new(PodInfo::new(p));
                self.clear_nomination(info.key());
                let in_cache = {
                    let mut cache = self.cache();
                    let had = cache.contains_pod(info.key());
                    cache.remove_pod(info.key());
                    had
                };
                for fw in self.inner.profiles.values() {
                    fw.waiting_pods().reject(
                        info.key(),
                        "",
                        "pod was deleted while waiting at Permit",
                    );
                }
                self.inner.queue.with(|q, now| {
                    q.delete(info.key());
                    if in_cache {
                        q.on_event(
                            ClusterEvent::new(EventResource::AssignedPod, ActionType::DELETE),
                            EventObjects {
                                old: Some(EventObject::Pod(info.clone())),
                                new: None,
                            },
                            now,
                        );
                    }
                });
            }
        }
    }

    /// Handles a node event.
    pub fn on_node(&self, ev: PodEvent<Node>) {
        match ev {
            PodEvent::Added(n) | PodEvent::Modified(n) => {
                let name = n.metadata.name.clone().unwrap_or_default();
                let old = {
                    let mut cache = self.cache();
                    let old = cache.node(&name);
                    cache.add_node(n.clone());
                    old
                };
                let (event, old_obj) = match &old {
                    None => (
                        ClusterEvent::new(EventResource::Node, ActionType::ADD),
                        None,
                    ),
                    Some(o) => {
                        let action = node_update_action(o, &n);
                        if action.0 == 0 {
                            return;
                        }
                        (
                            ClusterEvent::new(EventResource::Node, action),
                            Some(EventObject::Node(o.clone())),
                        )
                    }
                };
                self.inner.queue.with(|q, now| {
                    q.on_event(
                        event,
                        EventObjects {
                            old: old_obj,
                            new: Some(EventObject::Node(n)),
                        },
                        now,
                    )
                });
            }
            PodEvent::Deleted(n) => {
                let name = n.metadata.name.clone().unwrap_or_default();
                self.cache().remove_node(&name);
                self.inner.queue.with(|q, now| {
                    q.on_event(
                        ClusterEvent::new(EventResource::Node, ActionType::DELETE),
                        EventObjects {
                            old: Some(EventObject::Node(n)),
                            new: None,
                        },
                        now,
                    )
                });
            }
        }
    }

    /// Handles a PodDisruptionBudget event.
    pub fn on_pdb(&self, ev: PodEvent<PodDisruptionBudget>) {
        match ev {
            PodEvent::Added(p) | PodEvent::Modified(p) => self.cache().upsert_pdb(p),
            PodEvent::Deleted(p) => self.cache().remove_pdb(
                p.metadata.namespace.as_deref().unwrap_or(""),
                p.metadata.name.as_deref().unwrap_or(""),
            ),
        }
    }

    /// Handles a Namespace event: its labels feed InterPodAffinity's `namespaceSelector`;
    /// the queue sees a Namespace cluster event (pods rejected by plugins registered for it
    /// are retried).
    pub fn on_namespace(&self, ev: PodEvent<Namespace>) {
        let (action, name) = match &ev {
            PodEvent::Added(n) => (ActionType::ADD, n.metadata.name.clone()),
            PodEvent::Modified(n) => (ActionType::UPDATE, n.metadata.name.clone()),
            PodEvent::Deleted(n) => (ActionType::DELETE, n.metadata.name.clone()),
        };
        let name = name.unwrap_or_default();
        match ev {
            PodEvent::Added(n) | PodEvent::Modified(n) => {
                if self.cache().namespace_labels(&name) == Some(&n.metadata.labels) {
                    return;
                }
                self.cache()
                    .upsert_namespace(&name, n.metadata.labels.clone());
            }
            PodEvent::Deleted(_) => self.cache().remove_namespace(&name),
        }
        self.inner.queue.with(|q, now| {
            q.on_event(
                ClusterEvent::new(EventResource::Namespace, action),
                EventObjects::default(),
                now,
            )
        });
    }

    /// Pops and schedules one pod if one is ready now (for step-by-step tests); `None` when
    /// the active queue is empty.
    pub fn schedule_next(&self) -> Option<ScheduleOutcome> {
        let now = self.inner.queue.now();
        let q = self.inner.queue.lock().pop(now)?;
        Some(self.schedule_one(q))
    }

    /// One scheduling cycle for `q` (binding continues on a spawned task).
    fn schedule_one(&self, q: QueuedPodInfo) -> ScheduleOutcome {
        let inner = &self.inner;
        inner.stats.attempts.fetch_add(1, Ordering::Relaxed);
        let pod = q.pod.clone();
        let Some(fw) = inner.profiles.get(pod.scheduler_name()).cloned() else {
            inner.queue.with(|qq, _| qq.done(pod.key()));
            return ScheduleOutcome::Skipped;
        };
        if pod.is_terminating() || self.cache().contains_pod(pod.key()) {
            inner.queue.with(|qq, _| qq.done(pod.key()));
            return ScheduleOutcome::Skipped;
        }
        let mut state = CycleState::new();
        let mut snapshot = lock(&inner.snapshot);
        self.cache().update_snapshot(&mut snapshot);
        let result = self.schedule_pod(&fw, &mut state, &pod, &snapshot);
        match result {
            Ok(placement) => {
                drop(snapshot);
                self.assume_and_bind(fw, state, q, placement.node)
            }
            Err(Failure::Fit(mut fit)) => {
                let ctx = PostFilterContext {
                    snapshot: &snapshot,
                    statuses: &fit.diagnosis.node_to_status,
                    framework: &fw,
                };
                let (res, st) = fw.run_post_filter(&ctx, &state, &pod);
                drop(snapshot);
                let mut nominated = None;
                if st.is_success() {
                    if let Some(r) = res {
                        nominated = r.nominated_node.clone();
                        if let Some(n) = &nominated {
                            self.nominate(&pod, n);
                        }
                        self.apply_preemption(&pod, r);
                    }
                } else if !st.reasons().is_empty() {
                    fit.diagnosis.post_filter_msg = st.message();
                }
                let message = fit.to_string();
                let plugins: Vec<String> = fit
                    .diagnosis
                    .unschedulable_plugins
                    .iter()
                    .cloned()
                    .collect();
                let pending: Vec<String> = fit.diagnosis.pending_plugins.iter().cloned().collect();
                inner.stats.unschedulable.fetch_add(1, Ordering::Relaxed);
                self.fail(
                    q,
                    plugins,
                    pending,
                    "Unschedulable",
                    message.clone(),
                    nominated.clone(),
                );
                ScheduleOutcome::Unschedulable {
                    pod: pod.display_name(),
                    message,
                    nominated_node: nominated,
                }
            }
            Err(Failure::Error(st)) => {
                drop(snapshot);
                inner.stats.errors.fetch_add(1, Ordering::Relaxed);
                let message = st.message();
                self.fail(
                    q,
                    Vec::new(),
                    Vec::new(),
                    "SchedulerError",
                    message.clone(),
                    None,
                );
                ScheduleOutcome::Error {
                    pod: pod.display_name(),
                    message,
                }
            }
        }
    }

    fn schedule_pod(
        &self,
        fw: &Framework,
        state: &mut CycleState,
        pod: &Arc<PodInfo>,
        snapshot: &Snapshot,
    ) -> Result<Placement, Failure> {
        if snapshot.is_empty() {
            return Err(Failure::Error(Status::error(
                "no nodes available to schedule pods",
            )));
        }
        let mut buffers = lock(&self.inner.buffers);
        let CycleBuffers {
            feasible,
            scores: score_buffers,
        } = &mut *buffers;
        let diagnosis = self.find_nodes_that_fit(fw, state, pod, snapshot, feasible)?;
        if feasible.is_empty() {
            return Err(Failure::Fit(Box::new(FitError {
                pod: pod.display_name(),
                num_all_nodes: snapshot.len(),
                diagnosis,
            })));
        }
        let name_at = |i: usize| {
            snapshot
                .nodes()
                .get(i)
                .map(|n| n.name().to_owned())
                .unwrap_or_default()
        };
        if feasible.len() == 1 {
            return Ok(Placement {
                node: name_at(feasible[0]),
            });
        }
        let st = fw.run_pre_score_positions(state, pod, snapshot, feasible);
        if !st.is_success() {
            return Err(Failure::Error(st));
        }
        let totals = fw
            .run_score_positions(state, pod, snapshot, feasible, score_buffers)
            .map_err(Failure::Error)?;
        let mut rng = lock(&self.inner.rng);
        let mut best = 0usize;
        let mut best_score = i64::MIN;
        let mut ties = 0u32;
        for (i, s) in totals.iter().enumerate() {
            if *s > best_score {
                best_score = *s;
                best = i;
                ties = 1;
            } else if *s == best_score {
                ties += 1;
                if rng.u32(0..ties) == 0 {
                    best = i;
                }
            }
        }
        Ok(Placement {
            node: name_at(feasible[best]),
        })
    }

    /// Fills `feasible` with the positions (in [`Snapshot::nodes`]) of the feasible nodes,
    /// in evaluation order; returns the diagnosis (rejections recorded only when no node
    /// fits).
    fn find_nodes_that_fit(
        &self,
        fw: &Framework,
        state: &mut CycleState,
        pod: &Arc<PodInfo>,
        snapshot: &Snapshot,
        feasible: &mut Vec<usize>,
    ) -> Result<Diagnosis, Failure> {
        feasible.clear();
        let mut diagnosis = Diagnosis {
            node_to_status: NodeToStatus::default(),
            ..Diagnosis::default()
        };
        if let Some(e) = &pod.parse_error {
            return Err(Failure::Error(Status::error(e.clone())));
        }
        let (pf, st, narrowed_by) = fw.run_pre_filter_with_names(state, pod, snapshot);
        if !st.is_success() {
            if !st.is_rejected() {
                return Err(Failure::Error(st));
            }
            diagnosis.pre_filter_msg = st.message();
            if let Some(p) = st.plugin() {
                diagnosis.unschedulable_plugins.insert(p.to_owned());
            }
            diagnosis.node_to_status.set_absent(st);
            return Ok(diagnosis);
        }
        // A nominated node (after preemption) is tried first.
        if let Some(nominated) = pod
            .pod()
            .status
            .as_ref()
            .and_then(|s| s.nominated_node_name.as_deref())
            && let Some(i) = snapshot.position(nominated)
            && let Some(n) = snapshot.node_ref(i)
            && fw.run_filters_node(state, pod, n).is_success()
        {
            feasible.push(i);
            return Ok(diagnosis);
        }
        // The candidate positions: every node, or the ones PreFilter narrowed to.
        let narrowed: Option<Vec<usize>> = pf.node_names.as_ref().map(|names| {
            diagnosis
                .node_to_status
                .set_absent(Status::unresolvable(format!(
                    "node(s) didn't satisfy plugin(s) [{}]",
                    narrowed_by.join(" ")
                )));
            names.iter().filter_map(|n| snapshot.position(n)).collect()
        });
        let n = narrowed.as_ref().map_or(snapshot.len(), Vec::len);
        if n == 0 {
            return Ok(diagnosis);
        }
        let position = |k: usize| narrowed.as_ref().map_or(k, |v| v[k]);
        let pct = fw
            .percentage_of_nodes_to_score()
            .or(self.inner.config.percentage_of_nodes_to_score);
        let to_find = num_feasible_nodes_to_find(pct, n);
        let start = self.inner.next_start.load(Ordering::Relaxed) % n;
        // Rejections are kept in evaluation order and recorded into the diagnosis only when
        // no node fits (the only case that reads it), instead of hashing every rejected
        // node's status while feasible nodes are still being found.
        let mut rejected: Vec<(usize, Status)> = Vec::new();
        let mut processed = 0usize;
        if !fw.has_filters() {
            for i in 0..to_find.min(n) {
                feasible.push(position((start + i) % n));
            }
            processed = feasible.len();
        } else {
            let parallel = self.inner.config.parallel_filter_threshold > 0
                && n >= self.inner.config.parallel_filter_threshold;
            let statuses = parallel.then(|| {
                let order: Vec<usize> = (0..n).map(|i| position((start + i) % n)).collect();
                parallel_filter(fw, state, pod, snapshot, &order)
            });
            let nominated = if parallel {
                HashMap::new()
            } else {
                self.nominated_for(pod)
            };
            for i in 0..n {
                let at = position((start + i) % n);
                let Some(node) = snapshot.node_ref(at) else {
                    continue;
                };
                processed = i + 1;
                let st = match &statuses {
                    Some(all) => all
                        .get(i)
                        .cloned()
                        .unwrap_or_else(|| Status::error("no filter status for a node")),
                    None if nominated.is_empty() => fw.run_filters_node(state, pod, node),
                    None => filter_with_nominated(fw, state, pod, node, &nominated),
                };
                if st.is_success() {
                    st.discard();
                    feasible.push(at);
                    if feasible.len() >= to_find {
                        break;
                    }
                } else if st.is_rejected() {
                    rejected.push((at, st));
                } else {
                    return Err(Failure::Error(st));
                }
            }
        }
        let all = snapshot.len().max(1);
        self.inner
            .next_start
            .store((start + processed) % all, Ordering::Relaxed);
        if feasible.is_empty() {
            for (at, st) in rejected {
                if let Some(node) = snapshot.nodes().get(at) {
                    record_rejection(&mut diagnosis, node, st);
                }
            }
        }
        Ok(diagnosis)
    }

    fn assume_and_bind(
        &self,
        fw: Arc<Framework>,
        mut state: CycleState,
        q: QueuedPodInfo,
        node: String,
    ) -> ScheduleOutcome {
        let pod = q.pod.clone();
        self.clear_nomination(pod.key());
        if let Err(e) = self.cache().assume_pod(pod.clone(), &node) {
            self.fail(
                q,
                Vec::new(),
                Vec::new(),
                "SchedulerError",
                e.to_string(),
                None,
            );
            return ScheduleOutcome::Error {
                pod: pod.display_name(),
                message: e.to_string(),
            };
        }
        let st = fw.run_reserve(&mut state, &pod, &node);
        if !st.is_success() {
            self.cache().forget_pod(pod.key());
            return self.fail_status(q, st);
        }
        let wait = match fw.run_permit(&state, &pod, &node) {
            PermitOutcome::Rejected(st) => {
                fw.run_unreserve(&mut state, &pod, &node);
                self.cache().forget_pod(pod.key());
                return self.fail_status(q, st);
            }
            PermitOutcome::Allowed => None,
            PermitOutcome::Wait(w) => Some(w),
        };
        let s = self.clone();
        let node2 = node.clone();
        tokio::spawn(async move {
            s.binding_cycle(fw, state, q, node2, wait).await;
        });
        ScheduleOutcome::Assumed {
            pod: pod.display_name(),
            node,
        }
    }

    async fn binding_cycle(
        &self,
        fw: Arc<Framework>,
        mut state: CycleState,
        q: QueuedPodInfo,
        node: String,
        wait: Option<crate::framework::PermitWait>,
    ) {
        let pod = q.pod.clone();
        let mut st = match wait {
            Some(w) => w.wait().await,
            None => Status::success(),
        };
        if st.is_success() {
            st = fw.run_pre_bind(&state, &pod, &node).await;
        }
        if st.is_success() {
            st = fw.run_bind(&state, &pod, &node).await;
        }
        if st.is_success() {
            let now = self.inner.queue.now();
            self.cache().finish_binding(pod.key(), now);
            fw.run_post_bind(&state, &pod, &node).await;
            self.inner.stats.bound.fetch_add(1, Ordering::Relaxed);
            self.inner.queue.with(|qq, _| qq.done(pod.key()));
            return;
        }
        fw.run_unreserve(&mut state, &pod, &node);
        self.cache().forget_pod(pod.key());
        self.inner.queue.with(|qq, now| {
            qq.on_event(
                ClusterEvent::new(EventResource::AssignedPod, ActionType::DELETE),
                EventObjects {
                    old: Some(EventObject::Pod(pod.clone())),
                    new: None,
                },
                now,
            )
        });
        self.fail_status(q, st);
    }

    fn fail_status(&self, q: QueuedPodInfo, st: Status) -> ScheduleOutcome {
        let pod = q.pod.display_name();
        let message = st.message();
        if st.is_rejected() {
            self.inner
                .stats
                .unschedulable
                .fetch_add(1, Ordering::Relaxed);
            let plugins = st.plugin().map(|p| vec![p.to_owned()]).unwrap_or_default();
            self.fail(
                q,
                plugins,
                Vec::new(),
                "Unschedulable",
                message.clone(),
                None,
            );
            ScheduleOutcome::Unschedulable {
                pod,
                message,
                nominated_node: None,
            }
        } else {
            self.inner.stats.errors.fetch_add(1, Ordering::Relaxed);
            self.fail(
                q,
                Vec::new(),
                Vec::new(),
                "SchedulerError",
                message.clone(),
                None,
            );
            ScheduleOutcome::Error { pod, message }
        }
    }

    /// Requeues a failed pod and records `PodScheduled=False` on it.
    fn fail(
        &self,
        mut q: QueuedPodInfo,
        plugins: Vec<String>,
        pending: Vec<String>,
        reason: &str,
        message: String,
        nominated: Option<String>,
    ) {
        q.unschedulable_plugins = plugins;
        q.pending_plugins = pending;
        let pod = q.pod.clone();
        self.inner
            .queue
            .with(|qq, now| qq.add_unschedulable(q, now));
        let store = self.inner.store.clone();
        let reason = reason.to_owned();
        tokio::spawn(async move {
            let _ = update_pod_condition(store, &pod, &reason, &message, nominated).await;
        });
    }

    fn apply_preemption(&self, pod: &Arc<PodInfo>, r: crate::framework::PostFilterResult) {
        let store = self.inner.store.clone();
        let pod = pod.clone();
        tokio::spawn(async move {
            for v in &r.victims {
                let api: Api<Pod> = Api::namespaced(store.clone(), v.namespace());
                let params = match v.pod().metadata.uid.as_deref() {
                    Some(uid) => DeleteParams::with_uid(uid),
                    None => DeleteParams::default(),
                };
                let _ = api.delete(v.name(), &params).await;
            }
            if let Some(node) = r.nominated_node {
                let api: Api<Pod> = Api::namespaced(store.clone(), pod.namespace());
                let patch = Patch::Merge(json!({"status": {"nominatedNodeName": node}}));
                let _ = api.patch_status(pod.name(), &patch).await;
            }
        });
    }
}

impl Scheduler {
    fn nominate(&self, pod: &Arc<PodInfo>, node: &str) {
        let mut map = lock(&self.inner.nominated);
        for list in map.values_mut() {
            list.retain(|p| p.key() != pod.key());
        }
        map.entry(node.to_owned()).or_default().push(pod.clone());
    }

    fn clear_nomination(&self, key: &str) {
        let mut map = lock(&self.inner.nominated);
        if map.is_empty() {
            return;
        }
        for list in map.values_mut() {
            list.retain(|p| &**p.key() != key);
        }
        map.retain(|_, l| !l.is_empty());
    }

    /// Nominated pods (other than `pod`) with at least its priority, per node.
    fn nominated_for(&self, pod: &PodInfo) -> HashMap<String, Vec<Arc<PodInfo>>> {
        let map = lock(&self.inner.nominated);
        if map.is_empty() {
            return HashMap::new();
        }
        map.iter()
            .map(|(n, l)| {
                let l: Vec<Arc<PodInfo>> = l
                    .iter()
                    .filter(|p| p.key() != pod.key() && p.priority >= pod.priority)
                    .cloned()
                    .collect();
                (n.clone(), l)
            })
            .filter(|(_, l)| !l.is_empty())
            .collect()
    }
}

/// Upstream's `RunFilterPluginsWithNominatedPods`: with higher-or-equal-priority pods
/// nominated to the node added (their resources and affinity count), and without them.
fn filter_with_nominated(
    fw: &Framework,
    state: &CycleState,
    pod: &PodInfo,
    node: NodeRef<'_>,
    nominated: &HashMap<String, Vec<Arc<PodInfo>>>,
) -> Status {
    let Some(extra) = nominated.get(node.info().name()) else {
        return fw.run_filters_node(state, pod, node);
    };
    let mut with = node.info().clone();
    let mut st = state.clone();
    for p in extra {
        with.add_pod(p.clone());
        let s = fw.run_pre_filter_add_pod(&mut st, pod, p, &with);
        if !s.is_success() {
            return s;
        }
    }
    let s = fw.run_filters(&st, pod, &with);
    if !s.is_success() {
        return s;
    }
    fw.run_filters_node(state, pod, node)
}

fn record_rejection(diagnosis: &mut Diagnosis, node: &Arc<NodeInfo>, st: Status) {
    if let Some(p) = st.plugin() {
        let set = if st.code() == Code::Pending {
            &mut diagnosis.pending_plugins
        } else {
            &mut diagnosis.unschedulable_plugins
        };
        if !set.contains(p) {
            set.insert(p.to_owned());
        }
    }
    diagnosis.node_to_status.set(node.name_arc().clone(), st);
}

/// Runs filters over the snapshot nodes at `order` on scoped threads; returns the statuses
/// in that order.
fn parallel_filter(
    fw: &Framework,
    state: &CycleState,
    pod: &PodInfo,
    snapshot: &Snapshot,
    order: &[usize],
) -> Vec<Status> {
    let n = order.len();
    let workers = std::thread::available_parallelism()
        .map(|p| p.get())
        .unwrap_or(1)
        .clamp(1, 4);
    let chunk = n.div_ceil(workers);
    let mut out: Vec<Status> = Vec::with_capacity(n);
    std::thread::scope(|scope| {
        let handles: Vec<_> = order
            .chunks(chunk.max(1))
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|&at| match snapshot.node_ref(at) {
                            Some(node) => fw.run_filters_node(state, pod, node),
                            None => Status::error("node position outside the snapshot"),
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            match h.join() {
                Ok(v) => out.extend(v),
                Err(_) => out.push(Status::error("filter thread panicked")),
            }
        }
    });
    out
}

/// Sets `PodScheduled=False` (reason, message) on the pod, and `nominatedNodeName`, unless
/// the condition already says exactly that.
async fn update_pod_condition(
    store: Arc<dyn Store>,
    pod: &PodInfo,
    reason: &str,
    message: &str,
    nominated: Option<String>,
) -> Result<(), Error> {
    let current = pod.pod().status.as_ref();
    let existing = current.and_then(|s| s.conditions.iter().find(|c| c.type_ == "PodScheduled"));
    if let Some(c) = existing
        && c.status == "False"
        && c.reason.as_deref() == Some(reason)
        && c.message.as_deref() == Some(message)
        && nominated.is_none()
    {
        return Ok(());
    }
    let mut conditions: Vec<PodCondition> =
        current.map(|s| s.conditions.clone()).unwrap_or_default();
    let now = kybern_core::Time(jiff::Timestamp::now());
    let cond = PodCondition {
        type_: "PodScheduled".into(),
        status: "False".into(),
        reason: Some(reason.to_owned()),
        message: Some(message.to_owned()),
        last_transition_time: match existing {
            Some(c) if c.status == "False" => c.last_transition_time,
            _ => Some(now),
        },
        ..PodCondition::default()
    };
    match conditions.iter_mut().find(|c| c.type_ == "PodScheduled") {
        Some(c) => *c = cond,
        None => conditions.push(cond),
    }
    let mut status = json!({ "conditions": conditions });
    if let Some(n) = nominated {
        status["nominatedNodeName"] = json!(n);
    }
    let api: Api<Pod> = Api::namespaced(store, pod.namespace());
    match api
        .patch_status(pod.name(), &Patch::Merge(json!({ "status": status })))
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e.into()),
    }
}

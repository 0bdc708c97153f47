//! The scheduler cache: nodes and the pods placed on them (bound or assumed), updated
//! incrementally from cluster events, and the [`Snapshot`] each cycle reads.
//!
//! **Architecture Invariant:** plugins read the [`Snapshot`]; they never touch the store or
//! the cache. The cache is written only by the scheduler's event intake (bound pods, nodes)
//! and by the scheduling cycle (assume / forget).

pub mod label_ids;
mod node_info;
pub mod node_table;
mod pod_info;
pub mod resource;
mod snapshot;
pub mod topology;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use kybern_core::api::core::v1::Node;
use kybern_core::api::policy::v1::PodDisruptionBudget;
use tokio::time::Instant;

pub use label_ids::{LabelId, LabelInterner, NodeLabelIds};
pub use node_info::NodeInfo;
pub use node_table::{NodeRef, NodeRow};
pub use pod_info::{
    AffinityTerm, HostPort, PodInfo, PodKey, WeightedAffinityTerm, normalize_image,
};
pub use resource::Resource;
pub use snapshot::Snapshot;
pub use topology::{LabelDomains, LabelKeyDomains, SpreadQuery};

use topology::SpreadIndex;

use crate::error::Error;

/// The zone label used to interleave nodes (upstream's node tree).
pub const ZONE_LABEL: &str = "topology.kubernetes.io/zone";
/// The region label used to interleave nodes.
pub const REGION_LABEL: &str = "topology.kubernetes.io/region";

#[derive(Debug)]
struct PodState {
    #[allow(dead_code)]
    pod: Arc<PodInfo>,
    node: Arc<str>,
    assumed: bool,
    binding_finished: bool,
    deadline: Option<Instant>,
}

/// Nodes, pods on them, assumed pods, PodDisruptionBudgets and namespace labels.
///
/// Every change bumps a generation; [`Cache::update_snapshot`] copies only the nodes changed
/// since the snapshot's generation (upstream's `UpdateSnapshot`).
#[derive(Debug, Default)]
pub struct Cache {
    nodes: HashMap<Arc<str>, Arc<NodeInfo>>,
    pods: HashMap<PodKey, PodState>,
    generation: u64,
    /// (generation, node) of every node change, in generation order.
    log: Vec<(u64, Arc<str>)>,
    /// Bumped when a node object is added, updated or removed: the snapshot rebuilds its
    /// order, index and image counts.
    tree_generation: u64,
    pdbs: BTreeMap<String, Arc<PodDisruptionBudget>>,
    pdb_generation: u64,
    namespaces: HashMap<String, kybern_core::LabelMap>,
    namespaces_generation: u64,
    assumed_ttl: Option<Duration>,
    spread: SpreadIndex,
    affinity: AffinityTally,
    labels: Arc<LabelInterner>,
}

/// What InterPodAffinity needs to know about every pod in the cache without scanning them:
/// the topology keys of required anti-affinity terms, and how many pods have terms that
/// score (required affinity, preferred (anti-)affinity).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AffinityTally {
    /// Topology key → required anti-affinity terms using it.
    pub anti_keys: HashMap<String, usize>,
    /// Pods with required affinity or preferred (anti-)affinity terms.
    pub scoring_pods: usize,
    generation: u64,
}

impl AffinityTally {
    fn on_pod(&mut self, pod: &PodInfo, delta: i64) {
        if !pod.has_affinity() {
            return;
        }
        for t in &pod.required_anti_affinity {
            let c = self.anti_keys.entry(t.topology_key.clone()).or_default();
            *c = c.saturating_add_signed(delta as isize);
            if *c == 0 {
                self.anti_keys.remove(&t.topology_key);
            }
        }
        if !pod.required_affinity.is_empty()
            || !pod.preferred_affinity.is_empty()
            || !pod.preferred_anti_affinity.is_empty()
        {
            self.scoring_pods = self.scoring_pods.saturating_add_signed(delta as isize);
        }
        self.generation += 1;
    }
}

impl Cache {
    /// An empty cache; assumed pods never expire (upstream's default since v1.29).
    pub fn new() -> Cache {
        Cache::default()
    }

    /// An empty cache whose assumed pods expire `ttl` after their binding finished, unless
    /// the bound pod was seen by then.
    pub fn with_assumed_ttl(ttl: Duration) -> Cache {
        Cache {
            assumed_ttl: Some(ttl),
            ..Cache::default()
        }
    }

    fn touch(&mut self, name: &Arc<str>) -> Option<&mut NodeInfo> {
        self.generation += 1;
        let g = self.generation;
        self.log.push((g, name.clone()));
        if self.log.len() > 2 * self.nodes.len() + 1024 {
            self.compact_log();
        }
        let ni = self.nodes.get_mut(name)?;
        let ni = Arc::make_mut(ni);
        ni.generation = g;
        Some(ni)
    }

    fn compact_log(&mut self) {
        let mut seen = HashSet::new();
        let mut kept: Vec<(u64, Arc<str>)> = self
            .log
            .iter()
            .rev()
            .filter(|(_, n)| seen.insert(n.clone()))
            .cloned()
            .collect();
        kept.reverse();
        self.log = kept;
    }

    /// The number of node objects.
    pub fn node_count(&self) -> usize {
        self.nodes.values().filter(|n| n.node().is_some()).count()
    }

    /// The node object by name.
    pub fn node(&self, name: &str) -> Option<Arc<Node>> {
        self.nodes.get(name).and_then(|n| n.node().cloned())
    }

    /// Adds or replaces a node object.
    pub fn add_node(&mut self, node: Arc<Node>) {
        let name: Arc<str> = Arc::from(node.metadata.name.as_deref().unwrap_or(""));
        let labels = &node.metadata.labels;
        let ids = match self.labels.lookup_labels(labels) {
            Some(ids) => ids,
            None => Arc::make_mut(&mut self.labels).intern_labels(labels),
        };
        self.nodes
            .entry(name.clone())
            .or_insert_with(|| Arc::new(NodeInfo::placeholder(&name)));
        if let Some(ni) = self.touch(&name) {
            ni.set_node(node);
            ni.set_label_ids(ids);
        }
        self.tree_generation += 1;
        self.spread.on_node_change();
    }

    /// Replaces a node object (same as [`Cache::add_node`]).
    pub fn update_node(&mut self, node: Arc<Node>) {
        self.add_node(node);
    }

    /// Removes a node object; its pods stay (as upstream) until their deletions arrive.
    pub fn remove_node(&mut self, name: &str) {
        let Some((key, _)) = self.nodes.get_key_value(name) else {
            return;
        };
        let key = key.clone();
        let empty = self.touch(&key).map(|ni| {
            ni.clear_node();
            ni.pods().is_empty()
        });
        if empty == Some(true) {
            self.nodes.remove(name);
        }
        self.tree_generation += 1;
        self.spread.on_node_change();
    }

    fn add_pod_to_node(&mut self, pod: Arc<PodInfo>, node: &str) -> Arc<str> {
        let name: Arc<str> = match self.nodes.get_key_value(node) {
            Some((k, _)) => k.clone(),
            None => {
                let k: Arc<str> = Arc::from(node);
                self.nodes
                    .insert(k.clone(), Arc::new(NodeInfo::placeholder(node)));
                k
            }
        };
        self.affinity.on_pod(&pod, 1);
        if let Some(ni) = self.touch(&name) {
            ni.add_pod(pod.clone());
        }
        if let Some(ni) = self.nodes.get(&name) {
            self.spread.on_pod(&pod, ni, 1);
        }
        name
    }

    fn remove_pod_from_node(&mut self, key: &str, node: &Arc<str>) {
        let pod = self
            .nodes
            .get(node)
            .and_then(|ni| ni.pods().iter().find(|p| &**p.key() == key).cloned());
        if let (Some(pod), Some(ni)) = (&pod, self.nodes.get(node)) {
            self.spread.on_pod(pod, ni, -1);
            self.affinity.on_pod(pod, -1);
        }
        let mut drop_node = false;
        if let Some(ni) = self.touch(node) {
            ni.remove_pod(key);
            drop_node = ni.node().is_none() && ni.pods().is_empty();
        }
        if drop_node {
            self.nodes.remove(node);
        }
    }

    /// Assumes `pod` runs on `node` before its binding is written (optimistic binding).
    ///
    /// # Errors
    /// [`Error::PodAlreadyInCache`] when the pod is already assumed or bound.
    pub fn assume_pod(&mut self, pod: Arc<PodInfo>, node: &str) -> Result<(), Error> {
        if self.pods.contains_key(pod.key()) {
            return Err(Error::PodAlreadyInCache {
                pod: pod.display_name(),
            });
        }
        let key = pod.key().clone();
        let node = self.add_pod_to_node(pod.clone(), node);
        self.pods.insert(
            key,
            PodState {
                pod,
                node,
                assumed: true,
                binding_finished: false,
                deadline: None,
            },
        );
        Ok(())
    }

    /// The binding of an assumed pod was written: its expiry clock starts (when a TTL is set).
    pub fn finish_binding(&mut self, key: &str, now: Instant) {
        let ttl = self.assumed_ttl;
        if let Some(st) = self.pods.get_mut(key).filter(|s| s.assumed) {
            st.binding_finished = true;
            st.deadline = ttl.map(|t| now + t);
        }
    }

    /// Drops an assumed pod (its binding failed).
    pub fn forget_pod(&mut self, key: &str) {
        if let Some(st) = self.pods.get(key).filter(|s| s.assumed) {
            let node = st.node.clone();
            self.pods.remove(key);
            self.remove_pod_from_node(key, &node);
        }
    }

    /// Whether the pod is assumed (not yet confirmed by an event).
    pub fn is_assumed(&self, key: &str) -> bool {
        self.pods.get(key).is_some_and(|s| s.assumed)
    }

    /// Whether the cache holds the pod (assumed or bound).
    pub fn contains_pod(&self, key: &str) -> bool {
        self.pods.contains_key(key)
    }

    /// The node a cached pod is on.
    pub fn pod_node(&self, key: &str) -> Option<&str> {
        self.pods.get(key).map(|s| &*s.node)
    }

    /// A bound pod seen by the intake: confirms an assumed pod, or adds it.
    pub fn add_pod(&mut self, pod: Arc<PodInfo>) {
        let node = pod.node_name().to_owned();
        if node.is_empty() {
            return;
        }
        let key = pod.key().clone();
        if let Some(st) = self.pods.get(&key) {
            let old_node = st.node.clone();
            self.remove_pod_from_node(&key, &old_node);
        }
        let node = self.add_pod_to_node(pod.clone(), &node);
        self.pods.insert(
            key,
            PodState {
                pod,
                node,
                assumed: false,
                binding_finished: false,
                deadline: None,
            },
        );
    }

    /// A bound pod changed.
    pub fn update_pod(&mut self, pod: Arc<PodInfo>) {
        self.add_pod(pod);
    }

    /// A pod was deleted (or is no longer bound).
    pub fn remove_pod(&mut self, key: &str) {
        if let Some(st) = self.pods.remove(key) {
            self.remove_pod_from_node(key, &st.node);
        }
    }

    /// Drops assumed pods whose binding finished more than the TTL ago without the bound pod
    /// being seen. Returns their keys.
    pub fn cleanup_assumed_pods(&mut self, now: Instant) -> Vec<PodKey> {
        let expired: Vec<PodKey> = self
            .pods
            .iter()
            .filter(|(_, s)| {
                s.assumed && s.binding_finished && s.deadline.is_some_and(|d| d <= now)
            })
            .map(|(k, _)| k.clone())
            .collect();
        for k in &expired {
            self.forget_pod(k);
        }
        expired
    }

    /// Adds or replaces a PodDisruptionBudget.
    pub fn upsert_pdb(&mut self, pdb: Arc<PodDisruptionBudget>) {
        let key = format!(
            "{}/{}",
            pdb.metadata.namespace.as_deref().unwrap_or(""),
            pdb.metadata.name.as_deref().unwrap_or("")
        );
        self.pdbs.insert(key, pdb);
        self.pdb_generation += 1;
    }

    /// Removes a PodDisruptionBudget.
    pub fn remove_pdb(&mut self, namespace: &str, name: &str) {
        self.pdbs.remove(&format!("{namespace}/{name}"));
        self.pdb_generation += 1;
    }

    /// Records a namespace's labels (for namespace selectors in affinity terms).
    pub fn upsert_namespace(&mut self, name: &str, labels: kybern_core::LabelMap) {
        self.namespaces.insert(name.to_owned(), labels);
        self.namespaces_generation += 1;
    }

    /// A namespace's labels, when known.
    pub fn namespace_labels(&self, name: &str) -> Option<&kybern_core::LabelMap> {
        self.namespaces.get(name)
    }

    /// Forgets a namespace.
    pub fn remove_namespace(&mut self, name: &str) {
        if self.namespaces.remove(name).is_some() {
            self.namespaces_generation += 1;
        }
    }

    /// Brings `snapshot` up to date, copying only what changed since its generation.
    pub fn update_snapshot(&mut self, snapshot: &mut Snapshot) {
        if !Arc::ptr_eq(&snapshot.spread_requests, &self.spread.requests) {
            snapshot.spread_requests = self.spread.requests.clone();
        }
        self.spread.refresh(|| self.nodes.values().map(|n| &**n));
        if snapshot.spread_generation != self.spread.generation {
            snapshot.spread = Arc::new(self.spread.published());
            snapshot.spread_generation = self.spread.generation;
        }
        if snapshot.affinity.generation != self.affinity.generation {
            snapshot.affinity = Arc::new(self.affinity.clone());
        }
        if snapshot.pdb_generation != self.pdb_generation {
            snapshot.pdbs = Arc::new(self.pdbs.values().cloned().collect());
            snapshot.pdb_generation = self.pdb_generation;
        }
        if snapshot.namespaces_generation != self.namespaces_generation {
            snapshot.namespaces = Arc::new(self.namespaces.clone());
            snapshot.namespaces_generation = self.namespaces_generation;
        }
        if snapshot.tree_generation != self.tree_generation {
            self.rebuild_snapshot(snapshot);
            return;
        }
        for (g, name) in self.log.iter().rev() {
            if *g <= snapshot.generation {
                break;
            }
            let Some(&i) = snapshot.index.get(name) else {
                continue;
            };
            let Some(new) = self.nodes.get(name) else {
                continue;
            };
            let old = &snapshot.nodes[i];
            if old.generation == new.generation {
                continue;
            }
            // The lists of nodes with affinity pods are kept sorted by position and updated
            // in place (rebuilding them would read every node of the snapshot).
            let affinity = !new.pods_with_affinity().is_empty();
            if affinity == old.pods_with_affinity().is_empty() {
                set_member(&mut snapshot.with_affinity, i, affinity);
            }
            let anti = !new.pods_with_required_anti_affinity().is_empty();
            if anti == old.pods_with_required_anti_affinity().is_empty() {
                set_member(&mut snapshot.with_required_anti_affinity, i, anti);
            }
            snapshot.rows[i] = NodeRow::of(new);
            snapshot.nodes[i] = new.clone();
        }
        snapshot.generation = self.generation;
    }

    fn rebuild_snapshot(&self, snapshot: &mut Snapshot) {
        // Zone-interleaved order (upstream's node tree): zones in order of first appearance
        // by name, nodes within a zone by name, then round robin across zones.
        let mut zones: BTreeMap<String, Vec<&Arc<NodeInfo>>> = BTreeMap::new();
        for ni in self.nodes.values().filter(|n| n.node().is_some()) {
            let labels = ni.labels();
            let zone = format!(
                "{}:\u{0}:{}",
                labels.get(REGION_LABEL).map_or("", String::as_str),
                labels.get(ZONE_LABEL).map_or("", String::as_str)
            );
            zones.entry(zone).or_default().push(ni);
        }
        for list in zones.values_mut() {
            list.sort_by(|a, b| a.name().cmp(b.name()));
        }
        let total: usize = zones.values().map(Vec::len).sum();
        let mut nodes = Vec::with_capacity(total);
        let lists: Vec<&Vec<&Arc<NodeInfo>>> = zones.values().collect();
        let mut i = 0;
        while nodes.len() < total {
            for l in &lists {
                if let Some(n) = l.get(i) {
                    nodes.push((*n).clone());
                }
            }
            i += 1;
        }
        snapshot.index = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name_arc().clone(), i))
            .collect();
        let mut images: HashMap<String, usize> = HashMap::new();
        for n in &nodes {
            let mut seen = HashSet::new();
            for (img, _) in n.images() {
                if seen.insert(img.as_str()) {
                    *images.entry(img.clone()).or_default() += 1;
                }
            }
        }
        snapshot.image_nodes = images;
        snapshot.label_domains = Arc::new(LabelDomains::build(nodes.iter().map(|n| &**n)));
        snapshot.labels = self.labels.clone();
        snapshot.rows = nodes.iter().map(|n| NodeRow::of(n)).collect();
        snapshot.nodes = nodes;
        snapshot.rebuild_lists();
        snapshot.generation = self.generation;
        snapshot.tree_generation = self.tree_generation;
    }
}

/// Adds (`member`) or removes node position `i` in a sorted position list.
fn set_member(list: &mut Vec<usize>, i: usize, member: bool) {
    match list.binary_search(&i) {
        Ok(at) if !member => {
            list.remove(at);
        }
        Err(at) if member => list.insert(at, i),
        _ => {}
    }
}

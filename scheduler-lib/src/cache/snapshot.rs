//! `Snapshot`: the immutable view of the cluster one scheduling cycle reads. Plugins see only
//! this; the cache refreshes it between cycles by copying pointers to the nodes that changed.

use std::collections::HashMap;
use std::sync::Arc;

use kybern_core::api::policy::v1::PodDisruptionBudget;

use super::AffinityTally;
use super::label_ids::LabelInterner;
use super::node_info::NodeInfo;
use super::node_table::{NodeRef, NodeRow};
use super::topology::{LabelDomains, SpreadCounts, SpreadQuery};

/// The nodes (zone-interleaved, as upstream's node tree lists them), an index by name, the
/// nodes hosting pods with affinity, image spread, PodDisruptionBudgets and namespace labels.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub(crate) nodes: Vec<Arc<NodeInfo>>,
    /// `NodeRow::of` every node, by the same positions.
    pub(crate) rows: Vec<NodeRow>,
    pub(crate) index: HashMap<Arc<str>, usize>,
    pub(crate) with_affinity: Vec<usize>,
    pub(crate) with_required_anti_affinity: Vec<usize>,
    pub(crate) image_nodes: HashMap<String, usize>,
    pub(crate) pdbs: Arc<Vec<Arc<PodDisruptionBudget>>>,
    pub(crate) namespaces: Arc<HashMap<String, kybern_core::LabelMap>>,
    pub(crate) generation: u64,
    pub(crate) tree_generation: u64,
    pub(crate) pdb_generation: u64,
    pub(crate) namespaces_generation: u64,
    pub(crate) label_domains: Arc<LabelDomains>,
    pub(crate) spread: Arc<SpreadCounts>,
    pub(crate) spread_generation: u64,
    pub(crate) spread_requests: Arc<std::sync::Mutex<Vec<SpreadQuery>>>,
    pub(crate) affinity: Arc<AffinityTally>,
    pub(crate) labels: Arc<LabelInterner>,
}

impl Snapshot {
    /// An empty snapshot (fill it with [`crate::cache::Cache::update_snapshot`]).
    pub fn new() -> Snapshot {
        Snapshot::default()
    }

    /// Every node, in node-tree order.
    #[inline]
    pub fn nodes(&self) -> &[Arc<NodeInfo>] {
        &self.nodes
    }

    /// The compact rows of every node, by the positions of [`Snapshot::nodes`].
    #[inline]
    pub fn rows(&self) -> &[NodeRow] {
        &self.rows
    }

    /// The node at position `i` of [`Snapshot::nodes`] with its row (`None` out of range).
    #[inline]
    pub fn node_ref(&self, i: usize) -> Option<NodeRef<'_>> {
        Some(NodeRef::new(self.rows.get(i)?, self.nodes.get(i)?))
    }

    /// The number of nodes.
    #[inline]
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether there are no nodes.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// A node by name.
    pub fn get(&self, name: &str) -> Option<&Arc<NodeInfo>> {
        self.index.get(name).map(|&i| &self.nodes[i])
    }

    /// A node's position in [`Snapshot::nodes`].
    pub fn position(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// Nodes hosting at least one pod with pod (anti-)affinity terms.
    pub fn nodes_with_affinity_pods(&self) -> impl Iterator<Item = &Arc<NodeInfo>> {
        self.with_affinity.iter().map(|&i| &self.nodes[i])
    }

    /// Nodes hosting at least one pod with required anti-affinity terms.
    pub fn nodes_with_required_anti_affinity_pods(&self) -> impl Iterator<Item = &Arc<NodeInfo>> {
        self.with_required_anti_affinity
            .iter()
            .map(|&i| &self.nodes[i])
    }

    /// How many nodes have an image (normalized name).
    pub fn image_node_count(&self, image: &str) -> usize {
        self.image_nodes.get(image).copied().unwrap_or(0)
    }

    /// The PodDisruptionBudgets known to the cache.
    pub fn pdbs(&self) -> &[Arc<PodDisruptionBudget>] {
        &self.pdbs
    }

    /// A namespace's labels, when the cache knows the namespace.
    pub fn namespace_labels(&self, ns: &str) -> Option<&kybern_core::LabelMap> {
        self.namespaces.get(ns)
    }

    /// The cache generation this snapshot reflects.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Per node label key, its values and how many nodes carry each.
    pub fn label_domains(&self) -> &LabelDomains {
        &self.label_domains
    }

    /// The interner of the nodes' [`NodeInfo::label_ids`].
    #[inline]
    pub fn label_interner(&self) -> &LabelInterner {
        &self.labels
    }

    /// Whether `key` is a node-local topology key in this snapshot: every node carrying it
    /// has its own value (true as well when no node carries it).
    pub fn is_node_local(&self, key: &str) -> bool {
        self.label_domains.key(key).is_none_or(|d| d.node_local())
    }

    /// The matching pods per topology value for `q`, when the cache maintains that query.
    /// On a miss the query is registered for the next cycles (and the caller counts itself).
    pub fn spread_counts(&self, q: &SpreadQuery) -> Option<&Arc<HashMap<String, i64>>> {
        let hit = self.spread.get(q);
        if hit.is_none() {
            let mut r = self
                .spread_requests
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if !r.contains(q) {
                r.push(q.clone());
            }
        }
        hit
    }

    /// The cache's tally of pod (anti-)affinity terms.
    pub fn affinity_tally(&self) -> &AffinityTally {
        &self.affinity
    }

    pub(crate) fn rebuild_lists(&mut self) {
        self.with_affinity.clear();
        self.with_required_anti_affinity.clear();
        for (i, n) in self.nodes.iter().enumerate() {
            if !n.pods_with_affinity().is_empty() {
                self.with_affinity.push(i);
            }
            if !n.pods_with_required_anti_affinity().is_empty() {
                self.with_required_anti_affinity.push(i);
            }
        }
    }
}

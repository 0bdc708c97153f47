//! Topology bookkeeping kept incrementally by the cache so PreFilter need not scan every pod
//! of every node: per label key, its values and how many nodes carry each (which keys are
//! *node-local*, i.e. every node has its own value, like `kubernetes.io/hostname`), and
//! per registered [`SpreadQuery`] the matching pods per topology value.
//!
//! Queries are registered lazily: a plugin asks the [`Snapshot`](super::Snapshot) for a
//! query's counts; on a miss it computes them itself this cycle and the request is picked up
//! by the next [`Cache::update_snapshot`](super::Cache::update_snapshot), which counts once
//! and then keeps the counts up to date on every pod and node change.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use kybern_core::Selector;

use super::node_info::NodeInfo;
use super::pod_info::PodInfo;

/// The most queries kept; registering more drops them all (they re-register on use).
pub const MAX_SPREAD_QUERIES: usize = 64;

/// Pods counted per value of a node label: the non-terminating pods of one namespace that a
/// selector matches (PodTopologySpread's counting rule).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SpreadQuery {
    /// The pods' namespace.
    pub namespace: String,
    /// The pods' label selector.
    pub selector: Selector,
    /// The node label whose values are the domains.
    pub topology_key: String,
}

impl SpreadQuery {
    fn counts_pod(&self, pod: &PodInfo) -> bool {
        pod.namespace() == self.namespace
            && !pod.is_terminating()
            && self.selector.matches(pod.labels())
    }

    /// The matching pods per topology value over `nodes` (nodes without the label, or
    /// without a node object, count nothing).
    fn count<'a>(&self, nodes: impl Iterator<Item = &'a NodeInfo>) -> HashMap<String, i64> {
        let mut out: HashMap<String, i64> = HashMap::new();
        for n in nodes {
            if n.node().is_none() {
                continue;
            }
            let Some(v) = n.labels().get(&self.topology_key) else {
                continue;
            };
            let c = n.pods().iter().filter(|p| self.counts_pod(p)).count() as i64;
            if c > 0 {
                *out.entry(v.clone()).or_default() += c;
            }
        }
        out
    }
}

/// Published per-query counts (what a snapshot sees).
pub type SpreadCounts = HashMap<SpreadQuery, Arc<HashMap<String, i64>>>;

/// The cache side: registered queries and their live counts.
#[derive(Debug, Default)]
pub(crate) struct SpreadIndex {
    entries: HashMap<SpreadQuery, Arc<HashMap<String, i64>>>,
    /// Queries asked for by plugins since the last snapshot update (shared with snapshots).
    pub(crate) requests: Arc<Mutex<Vec<SpreadQuery>>>,
    /// Node objects changed: recount every entry at the next snapshot update.
    dirty: bool,
    /// Bumped whenever a count changes.
    pub(crate) generation: u64,
}

impl SpreadIndex {
    /// A pod was added to (`delta` 1) or removed from (−1) `node`.
    pub(crate) fn on_pod(&mut self, pod: &PodInfo, node: &NodeInfo, delta: i64) {
        if self.entries.is_empty() || self.dirty || node.node().is_none() {
            return;
        }
        let labels = node.labels();
        let mut changed = false;
        for (q, counts) in &mut self.entries {
            if !q.counts_pod(pod) {
                continue;
            }
            let Some(v) = labels.get(&q.topology_key) else {
                continue;
            };
            let counts = Arc::make_mut(counts);
            let c = counts.entry(v.clone()).or_default();
            *c += delta;
            if *c == 0 {
                counts.remove(v);
            }
            changed = true;
        }
        if changed {
            self.generation += 1;
        }
    }

    /// A node object was added, changed or removed: its labels may have moved pods between
    /// domains.
    pub(crate) fn on_node_change(&mut self) {
        if !self.entries.is_empty() {
            self.dirty = true;
        }
    }

    /// Registers requested queries and recounts after node changes; returns whether the
    /// published counts must be refreshed.
    pub(crate) fn refresh<'a, I>(&mut self, nodes: impl Fn() -> I) -> bool
    where
        I: Iterator<Item = &'a NodeInfo>,
    {
        let requested: Vec<SpreadQuery> = {
            let mut r = self
                .requests
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            std::mem::take(&mut *r)
        };
        let mut changed = false;
        if self.dirty {
            for (q, counts) in &mut self.entries {
                *counts = Arc::new(q.count(nodes()));
            }
            self.dirty = false;
            changed = true;
        }
        for q in requested {
            if self.entries.contains_key(&q) {
                continue;
            }
            if self.entries.len() >= MAX_SPREAD_QUERIES {
                tracing::debug!("spread index full: dropping every query");
                self.entries.clear();
            }
            tracing::trace!(?q, "spread index: registering a query");
            let counts = Arc::new(q.count(nodes()));
            self.entries.insert(q, counts);
            changed = true;
        }
        if changed {
            self.generation += 1;
        }
        changed
    }

    /// The counts to publish.
    pub(crate) fn published(&self) -> SpreadCounts {
        self.entries.clone()
    }
}

/// Per label key: value → how many nodes carry it (snapshot side, rebuilt with the node
/// order).
#[derive(Clone, Debug, Default)]
pub struct LabelDomains {
    keys: HashMap<String, LabelKeyDomains>,
}

/// One label key's domains.
#[derive(Clone, Debug, Default)]
pub struct LabelKeyDomains {
    /// Value → nodes carrying it.
    pub values: BTreeMap<String, usize>,
    /// Nodes carrying the key.
    pub nodes: usize,
}

impl LabelKeyDomains {
    /// Whether every node carrying the key has its own value (a node-local domain, like
    /// `kubernetes.io/hostname` normally is).
    pub fn node_local(&self) -> bool {
        self.values.len() == self.nodes
    }
}

impl LabelDomains {
    pub(crate) fn build<'a>(nodes: impl Iterator<Item = &'a NodeInfo>) -> LabelDomains {
        let mut keys: HashMap<String, LabelKeyDomains> = HashMap::new();
        for n in nodes {
            for (k, v) in n.labels() {
                let d = match keys.get_mut(k) {
                    Some(d) => d,
                    None => keys.entry(k.clone()).or_default(),
                };
                d.nodes += 1;
                match d.values.get_mut(v) {
                    Some(c) => *c += 1,
                    None => {
                        d.values.insert(v.clone(), 1);
                    }
                }
            }
        }
        LabelDomains { keys }
    }

    /// One key's domains (`None` when no node carries it).
    pub fn key(&self, key: &str) -> Option<&LabelKeyDomains> {
        self.keys.get(key)
    }
}

//! `NodeInfo`: one node as the scheduler sees it — allocatable and requested resources, the
//! pods on it (assumed ones included), used host ports, taints and images.

use std::sync::Arc;

use kybern_core::api::core::v1::{Node, Taint};

use super::label_ids::NodeLabelIds;
use super::pod_info::{HostPort, PodInfo};
use super::resource::Resource;
use crate::cache::pod_info::normalize_image;

/// A node and the pods the scheduler has placed on it.
///
/// The fields a filter reads for every node (allocatable, requested, pod count, the
/// unschedulable flag) come first; the node object and pod lists follow.
#[derive(Clone, Debug, Default)]
pub struct NodeInfo {
    /// What the node offers (`status.allocatable`).
    pub allocatable: Resource,
    /// The sum of the effective requests of the pods on the node.
    pub requested: Resource,
    /// The same with missing cpu/memory requests counted as 100m / 200 MiB (for scoring).
    pub non_zero_requested: Resource,
    unschedulable: bool,
    name: Arc<str>,
    /// The node's labels interned by the cache (`None` outside the cache).
    label_ids: Option<NodeLabelIds>,
    node: Option<Arc<Node>>,
    taints: Vec<Taint>,
    pods: Vec<Arc<PodInfo>>,
    pods_with_affinity: Vec<Arc<PodInfo>>,
    pods_with_required_anti_affinity: Vec<Arc<PodInfo>>,
    used_ports: Vec<HostPort>,
    images: Vec<(String, i64)>,
    /// Bumped by the cache on every change; snapshots copy only nodes that moved.
    pub(crate) generation: u64,
}

impl NodeInfo {
    /// A node without pods.
    pub fn new(node: Arc<Node>) -> NodeInfo {
        let mut ni = NodeInfo::default();
        ni.set_node(node);
        ni
    }

    /// An entry for pods whose node object is not (yet) known.
    pub(crate) fn placeholder(name: &str) -> NodeInfo {
        NodeInfo {
            name: Arc::from(name),
            ..NodeInfo::default()
        }
    }

    /// Replaces the node object (keeps the pods; forgets interned label ids, which the
    /// cache sets again).
    pub fn set_node(&mut self, node: Arc<Node>) {
        self.label_ids = None;
        self.name = Arc::from(node.metadata.name.as_deref().unwrap_or(""));
        let status = node.status.as_ref();
        self.allocatable = status
            .map(|s| Resource::from_list(&s.allocatable))
            .unwrap_or_default();
        let spec = node.spec.as_ref();
        self.unschedulable = spec.and_then(|s| s.unschedulable).unwrap_or(false);
        self.taints = spec.map(|s| s.taints.clone()).unwrap_or_default();
        self.images = status
            .map(|s| {
                s.images
                    .iter()
                    .flat_map(|img| {
                        let size = img.size_bytes.unwrap_or(0);
                        img.names.iter().map(move |n| (normalize_image(n), size))
                    })
                    .collect()
            })
            .unwrap_or_default();
        self.node = Some(node);
    }

    /// Forgets the node object (pods stay until removed).
    pub(crate) fn clear_node(&mut self) {
        self.node = None;
        self.label_ids = None;
    }

    /// The node's name.
    #[inline]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The node's name, shared.
    pub fn name_arc(&self) -> &Arc<str> {
        &self.name
    }

    /// The node object (`None` for a placeholder holding pods of an unknown node).
    #[inline]
    pub fn node(&self) -> Option<&Arc<Node>> {
        self.node.as_ref()
    }

    /// The node's labels (empty for a placeholder).
    #[inline]
    pub fn labels(&self) -> &kybern_core::LabelMap {
        static EMPTY: kybern_core::LabelMap = kybern_core::LabelMap::new();
        self.node.as_ref().map_or(&EMPTY, |n| &n.metadata.labels)
    }

    /// The node's labels as ids of the snapshot's
    /// [`LabelInterner`](crate::cache::LabelInterner), for nodes kept by the cache (`None`
    /// for a `NodeInfo` built elsewhere: read [`NodeInfo::labels`] then).
    #[inline]
    pub fn label_ids(&self) -> Option<&NodeLabelIds> {
        self.label_ids.as_ref()
    }

    pub(crate) fn set_label_ids(&mut self, ids: NodeLabelIds) {
        self.label_ids = Some(ids);
    }

    /// `spec.taints`.
    #[inline]
    pub fn taints(&self) -> &[Taint] {
        &self.taints
    }

    /// `spec.unschedulable`.
    #[inline]
    pub fn unschedulable(&self) -> bool {
        self.unschedulable
    }

    /// The pods on the node (bound and assumed).
    #[inline]
    pub fn pods(&self) -> &[Arc<PodInfo>] {
        &self.pods
    }

    /// The pods with any pod affinity or anti-affinity term.
    pub fn pods_with_affinity(&self) -> &[Arc<PodInfo>] {
        &self.pods_with_affinity
    }

    /// The pods with a required anti-affinity term.
    pub fn pods_with_required_anti_affinity(&self) -> &[Arc<PodInfo>] {
        &self.pods_with_required_anti_affinity
    }

    /// Host ports in use.
    pub fn used_ports(&self) -> &[HostPort] {
        &self.used_ports
    }

    /// Images on the node: normalized name and size in bytes.
    pub fn images(&self) -> &[(String, i64)] {
        &self.images
    }

    /// The change counter.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Adds a pod's requests, ports and affinity to the node.
    pub fn add_pod(&mut self, pod: Arc<PodInfo>) {
        self.requested.add(&pod.requests);
        self.non_zero_requested.add(&pod.non_zero_requests);
        self.used_ports.extend(pod.host_ports.iter().cloned());
        if pod.has_affinity() {
            self.pods_with_affinity.push(pod.clone());
        }
        if !pod.required_anti_affinity.is_empty() {
            self.pods_with_required_anti_affinity.push(pod.clone());
        }
        self.pods.push(pod);
    }

    /// Removes a pod by key; returns whether it was there.
    pub fn remove_pod(&mut self, key: &str) -> bool {
        let Some(i) = self.pods.iter().position(|p| &**p.key() == key) else {
            return false;
        };
        let pod = self.pods.swap_remove(i);
        self.requested.sub(&pod.requests);
        self.non_zero_requested.sub(&pod.non_zero_requests);
        for hp in &pod.host_ports {
            if let Some(j) = self.used_ports.iter().position(|u| u == hp) {
                self.used_ports.swap_remove(j);
            }
        }
        self.pods_with_affinity.retain(|p| &**p.key() != key);
        self.pods_with_required_anti_affinity
            .retain(|p| &**p.key() != key);
        true
    }

    /// Whether the host port is free for `want` (upstream's `HostPortInfo.CheckConflict`:
    /// `0.0.0.0` conflicts with the same port on any IP).
    pub fn port_conflicts(&self, want: &HostPort) -> bool {
        self.used_ports.iter().any(|u| {
            u.port == want.port
                && u.protocol == want.protocol
                && (want.ip == "0.0.0.0" || u.ip == "0.0.0.0" || u.ip == want.ip)
        })
    }
}

//! Builders for synthetic nodes and pods (tests, examples, benchmarks).

use std::collections::BTreeMap;

use kybern_core::Quantity;
use kybern_core::api::core::v1::{
    Affinity, Container, ContainerImage, ContainerPort, Node, NodeAffinity, NodeSelector,
    NodeSelectorRequirement, NodeSelectorTerm, NodeSpec, NodeStatus, Pod, PodAffinity,
    PodAffinityTerm, PodAntiAffinity, PodSchedulingGate, PodSpec, ResourceRequirements, Taint,
    Toleration, TopologySpreadConstraint, WeightedPodAffinityTerm,
};
use kybern_core::api::meta::v1::{LabelSelector, ObjectMeta};

fn q(s: &str) -> Quantity {
    Quantity::parse(s).unwrap_or_default()
}

/// Builds a Node.
#[derive(Clone, Debug)]
pub struct NodeBuilder {
    node: Node,
}

impl NodeBuilder {
    /// A node with `kubernetes.io/hostname` set, `cpu` (e.g. `"4"`), `memory` (e.g.
    /// `"32Gi"`) and 110 pods allocatable.
    pub fn new(name: &str, cpu: &str, memory: &str) -> Self {
        let mut alloc = BTreeMap::new();
        alloc.insert("cpu".to_owned(), q(cpu));
        alloc.insert("memory".to_owned(), q(memory));
        alloc.insert("pods".to_owned(), q("110"));
        let mut labels = kybern_core::LabelMap::new();
        labels.insert("kubernetes.io/hostname".to_owned(), name.to_owned());
        NodeBuilder {
            node: Node {
                metadata: ObjectMeta {
                    name: Some(name.to_owned()),
                    labels,
                    ..ObjectMeta::default()
                },
                spec: Some(NodeSpec::default()),
                status: Some(NodeStatus {
                    capacity: alloc.clone(),
                    allocatable: alloc,
                    ..NodeStatus::default()
                }),
            },
        }
    }

    /// Adds a label.
    pub fn label(mut self, k: &str, v: &str) -> Self {
        self.node.metadata.labels.insert(k.to_owned(), v.to_owned());
        self
    }

    /// Sets `topology.kubernetes.io/zone`.
    pub fn zone(self, zone: &str) -> Self {
        self.label(crate::cache::ZONE_LABEL, zone)
    }

    /// Adds a taint.
    pub fn taint(mut self, key: &str, value: &str, effect: &str) -> Self {
        if let Some(spec) = self.node.spec.as_mut() {
            spec.taints.push(Taint {
                key: key.to_owned(),
                value: (!value.is_empty()).then(|| value.to_owned()),
                effect: effect.to_owned(),
                ..Taint::default()
            });
        }
        self
    }

    /// Cordons the node.
    pub fn unschedulable(mut self) -> Self {
        if let Some(spec) = self.node.spec.as_mut() {
            spec.unschedulable = Some(true);
        }
        self
    }

    /// Sets allocatable pods.
    pub fn max_pods(mut self, n: i64) -> Self {
        if let Some(st) = self.node.status.as_mut() {
            st.allocatable.insert("pods".into(), Quantity::from(n));
        }
        self
    }

    /// Sets an allocatable resource.
    pub fn allocatable(mut self, name: &str, value: &str) -> Self {
        if let Some(st) = self.node.status.as_mut() {
            st.allocatable.insert(name.into(), q(value));
        }
        self
    }

    /// Adds an image present on the node.
    pub fn image(mut self, name: &str, size_bytes: i64) -> Self {
        if let Some(st) = self.node.status.as_mut() {
            st.images.push(ContainerImage {
                names: vec![name.to_owned()],
                size_bytes: Some(size_bytes),
            });
        }
        self
    }

    /// The node.
    pub fn build(self) -> Node {
        self.node
    }
}

/// Builds a Pod with one container.
#[derive(Clone, Debug)]
pub struct PodBuilder {
    pod: Pod,
}

impl PodBuilder {
    /// A pod in `namespace` with one container `c` (image `registry.k8s.io/pause:3.10`).
    pub fn new(namespace: &str, name: &str) -> Self {
        PodBuilder {
            pod: Pod {
                metadata: ObjectMeta {
                    name: Some(name.to_owned()),
                    namespace: Some(namespace.to_owned()),
                    ..ObjectMeta::default()
                },
                spec: Some(PodSpec {
                    containers: vec![Container {
                        name: "c".into(),
                        image: Some("registry.k8s.io/pause:3.10".into()),
                        ..Container::default()
                    }],
                    ..PodSpec::default()
                }),
                status: None,
            },
        }
    }

    fn spec(&mut self) -> &mut PodSpec {
        self.pod.spec.get_or_insert_with(PodSpec::default)
    }

    fn container(&mut self) -> &mut Container {
        let spec = self.spec();
        if spec.containers.is_empty() {
            spec.containers.push(Container::default());
        }
        &mut spec.containers[0]
    }

    /// Sets cpu and memory requests.
    pub fn requests(mut self, cpu: &str, memory: &str) -> Self {
        let c = self.container();
        let r = c
            .resources
            .get_or_insert_with(ResourceRequirements::default);
        r.requests.insert("cpu".into(), q(cpu));
        r.requests.insert("memory".into(), q(memory));
        self
    }

    /// Sets one request.
    pub fn request(mut self, name: &str, value: &str) -> Self {
        let c = self.container();
        let r = c
            .resources
            .get_or_insert_with(ResourceRequirements::default);
        r.requests.insert(name.into(), q(value));
        self
    }

    /// Sets the container image.
    pub fn image(mut self, image: &str) -> Self {
        self.container().image = Some(image.into());
        self
    }

    /// Adds a label.
    pub fn label(mut self, k: &str, v: &str) -> Self {
        self.pod.metadata.labels.insert(k.into(), v.into());
        self
    }

    /// Sets `spec.priority`.
    pub fn priority(mut self, p: i32) -> Self {
        self.spec().priority = Some(p);
        self
    }

    /// Sets `spec.preemptionPolicy`.
    pub fn preemption_policy(mut self, p: &str) -> Self {
        self.spec().preemption_policy = Some(p.into());
        self
    }

    /// Sets `spec.schedulerName`.
    pub fn scheduler_name(mut self, n: &str) -> Self {
        self.spec().scheduler_name = Some(n.into());
        self
    }

    /// Sets `spec.nodeName`.
    pub fn node_name(mut self, n: &str) -> Self {
        self.spec().node_name = Some(n.into());
        self
    }

    /// Adds a `spec.nodeSelector` entry.
    pub fn node_selector(mut self, k: &str, v: &str) -> Self {
        self.spec().node_selector.insert(k.into(), v.into());
        self
    }

    /// Adds a toleration (`operator` `Equal` or `Exists`).
    pub fn toleration(mut self, key: &str, operator: &str, value: &str, effect: &str) -> Self {
        self.spec().tolerations.push(Toleration {
            key: Some(key.into()),
            operator: Some(operator.into()),
            value: (!value.is_empty()).then(|| value.into()),
            effect: (!effect.is_empty()).then(|| effect.into()),
            ..Toleration::default()
        });
        self
    }

    /// Adds a scheduling gate.
    pub fn gate(mut self, name: &str) -> Self {
        self.spec()
            .scheduling_gates
            .push(PodSchedulingGate { name: name.into() });
        self
    }

    /// Adds a host port (TCP).
    pub fn host_port(mut self, port: i32) -> Self {
        self.container().ports.push(ContainerPort {
            container_port: port,
            host_port: Some(port),
            ..ContainerPort::default()
        });
        self
    }

    fn affinity(&mut self) -> &mut Affinity {
        self.spec().affinity.get_or_insert_with(Affinity::default)
    }

    /// Requires a node label to be one of `values`.
    pub fn node_affinity_in(mut self, key: &str, values: &[&str]) -> Self {
        let na = self
            .affinity()
            .node_affinity
            .get_or_insert_with(NodeAffinity::default);
        let ns = na
            .required_during_scheduling_ignored_during_execution
            .get_or_insert_with(NodeSelector::default);
        ns.node_selector_terms.push(NodeSelectorTerm {
            match_expressions: vec![NodeSelectorRequirement {
                key: key.into(),
                operator: "In".into(),
                values: values.iter().map(|v| (*v).to_owned()).collect(),
            }],
            ..NodeSelectorTerm::default()
        });
        self
    }

    /// Prefers nodes with a label value (weight 1–100).
    pub fn prefer_node(mut self, key: &str, value: &str, weight: i32) -> Self {
        let na = self
            .affinity()
            .node_affinity
            .get_or_insert_with(NodeAffinity::default);
        na.preferred_during_scheduling_ignored_during_execution
            .push(kybern_core::api::core::v1::PreferredSchedulingTerm {
                weight,
                preference: NodeSelectorTerm {
                    match_expressions: vec![NodeSelectorRequirement {
                        key: key.into(),
                        operator: "In".into(),
                        values: vec![value.into()],
                    }],
                    ..NodeSelectorTerm::default()
                },
            });
        self
    }

    fn term(label: (&str, &str), topology_key: &str) -> PodAffinityTerm {
        let mut ml = BTreeMap::new();
        ml.insert(label.0.to_owned(), label.1.to_owned());
        PodAffinityTerm {
            label_selector: Some(LabelSelector {
                match_labels: ml,
                ..LabelSelector::default()
            }),
            topology_key: topology_key.into(),
            ..PodAffinityTerm::default()
        }
    }

    /// Required anti-affinity to pods with `label` per `topology_key`.
    pub fn anti_affinity(mut self, label: (&str, &str), topology_key: &str) -> Self {
        let a = self
            .affinity()
            .pod_anti_affinity
            .get_or_insert_with(PodAntiAffinity::default);
        a.required_during_scheduling_ignored_during_execution
            .push(Self::term(label, topology_key));
        self
    }

    /// Required affinity to pods with `label` per `topology_key`.
    pub fn pod_affinity(mut self, label: (&str, &str), topology_key: &str) -> Self {
        let a = self
            .affinity()
            .pod_affinity
            .get_or_insert_with(PodAffinity::default);
        a.required_during_scheduling_ignored_during_execution
            .push(Self::term(label, topology_key));
        self
    }

    /// Preferred affinity to pods with `label` per `topology_key`.
    pub fn prefer_pod_affinity(
        mut self,
        label: (&str, &str),
        topology_key: &str,
        weight: i32,
    ) -> Self {
        let a = self
            .affinity()
            .pod_affinity
            .get_or_insert_with(PodAffinity::default);
        a.preferred_during_scheduling_ignored_during_execution
            .push(WeightedPodAffinityTerm {
                pod_affinity_term: Self::term(label, topology_key),
                weight,
            });
        self
    }

    /// A topology spread constraint over pods with `label`.
    pub fn spread(
        mut self,
        topology_key: &str,
        max_skew: i32,
        when: &str,
        label: (&str, &str),
    ) -> Self {
        let mut ml = BTreeMap::new();
        ml.insert(label.0.to_owned(), label.1.to_owned());
        self.spec()
            .topology_spread_constraints
            .push(TopologySpreadConstraint {
                max_skew,
                topology_key: topology_key.into(),
                when_unsatisfiable: when.into(),
                label_selector: Some(LabelSelector {
                    match_labels: ml,
                    ..LabelSelector::default()
                }),
                ..TopologySpreadConstraint::default()
            });
        self
    }

    /// The pod.
    pub fn build(self) -> Pod {
        self.pod
    }
}

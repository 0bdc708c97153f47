//! `PodInfo`: a pod with everything the plugins need precomputed once — requests, parsed
//! (anti-)affinity terms, host ports, priority — so no plugin re-parses a pod per node.

use std::sync::Arc;

use kybern_core::api::core::v1::{Pod, PodAffinityTerm, WeightedPodAffinityTerm};
use kybern_core::labels::label_selector_as_selector;
use kybern_core::{Labels, Selector};

use super::resource::{RequestOptions, Resource, pod_requests};

/// The identity of a pod in the cache and queue: its uid when it has one, else
/// `namespace/name`.
pub type PodKey = Arc<str>;

/// A parsed pod (anti-)affinity term (upstream's `framework.AffinityTerm`).
#[derive(Clone, Debug)]
pub struct AffinityTerm {
    /// Namespaces the term selects pods in (the pod's own when neither this nor a namespace
    /// selector is given).
    pub namespaces: Vec<String>,
    /// The pods' label selector.
    pub selector: Selector,
    /// The node label whose values define the topology domains.
    pub topology_key: String,
    /// Namespace label selector; `None` = no selector (only `namespaces` count).
    pub namespace_selector: Option<Selector>,
}

impl AffinityTerm {
    fn parse(term: &PodAffinityTerm, pod_namespace: &str) -> Result<AffinityTerm, String> {
        let selector = label_selector_as_selector(term.label_selector.as_ref())
            .map_err(|e| format!("parsing labelSelector: {e}"))?;
        let namespace_selector = match term.namespace_selector.as_ref() {
            None => None,
            Some(s) => Some(
                label_selector_as_selector(Some(s))
                    .map_err(|e| format!("parsing namespaceSelector: {e}"))?,
            ),
        };
        let mut namespaces = term.namespaces.clone();
        if namespaces.is_empty() && namespace_selector.is_none() {
            namespaces.push(pod_namespace.to_owned());
        }
        namespaces.sort();
        namespaces.dedup();
        Ok(AffinityTerm {
            namespaces,
            selector,
            topology_key: term.topology_key.clone(),
            namespace_selector,
        })
    }

    /// Whether `pod` (with its namespace's labels, when known) is selected by this term.
    pub fn matches(&self, pod: &PodInfo, namespace_labels: Option<&kybern_core::LabelMap>) -> bool {
        let ns = pod.namespace();
        let ns_ok = self
            .namespaces
            .binary_search_by(|n| n.as_str().cmp(ns))
            .is_ok()
            || self.namespace_selector.as_ref().is_some_and(|s| {
                if s.is_empty() {
                    true
                } else {
                    namespace_labels.is_some_and(|l| s.matches(l))
                }
            });
        ns_ok && self.selector.matches(pod.labels())
    }
}

/// A weighted parsed term (preferred affinity).
#[derive(Clone, Debug)]
pub struct WeightedAffinityTerm {
    /// The term.
    pub term: AffinityTerm,
    /// Its weight (1–100).
    pub weight: i64,
}

/// A host port a pod's container asks for.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostPort {
    /// The host IP (`0.0.0.0` when unset).
    pub ip: String,
    /// `TCP`, `UDP` or `SCTP` (`TCP` when unset).
    pub protocol: String,
    /// The port.
    pub port: i32,
}

/// A pod prepared for scheduling: the object plus everything plugins read per node.
#[derive(Debug)]
pub struct PodInfo {
    pod: Arc<Pod>,
    key: PodKey,
    /// Effective requests (init containers, sidecars, overhead).
    pub requests: Resource,
    /// Requests with missing cpu/memory counted as 100m / 200 MiB (for scoring).
    pub non_zero_requests: Resource,
    /// `spec.priority` (0 when unset).
    pub priority: i32,
    /// Required pod affinity terms.
    pub required_affinity: Vec<AffinityTerm>,
    /// Required pod anti-affinity terms.
    pub required_anti_affinity: Vec<AffinityTerm>,
    /// Preferred pod affinity terms.
    pub preferred_affinity: Vec<WeightedAffinityTerm>,
    /// Preferred pod anti-affinity terms.
    pub preferred_anti_affinity: Vec<WeightedAffinityTerm>,
    /// Host ports (only ports with `hostPort > 0`).
    pub host_ports: Vec<HostPort>,
    /// Container images, normalized (`:latest` added when no tag or digest).
    pub images: Vec<String>,
    /// A term that failed to parse: the pod is unschedulable with this message.
    pub parse_error: Option<String>,
}

fn parse_terms(
    terms: &[PodAffinityTerm],
    ns: &str,
    errs: &mut Option<String>,
) -> Vec<AffinityTerm> {
    terms
        .iter()
        .filter_map(|t| match AffinityTerm::parse(t, ns) {
            Ok(t) => Some(t),
            Err(e) => {
                errs.get_or_insert(e);
                None
            }
        })
        .collect()
}

fn parse_weighted(
    terms: &[WeightedPodAffinityTerm],
    ns: &str,
    errs: &mut Option<String>,
) -> Vec<WeightedAffinityTerm> {
    terms
        .iter()
        .filter_map(|t| match AffinityTerm::parse(&t.pod_affinity_term, ns) {
            Ok(term) => Some(WeightedAffinityTerm {
                term,
                weight: i64::from(t.weight),
            }),
            Err(e) => {
                errs.get_or_insert(e);
                None
            }
        })
        .collect()
}

/// Upstream's image name normalization for ImageLocality: a name without a tag or digest
/// gets `:latest`.
pub fn normalize_image(name: &str) -> String {
    let last = name.rsplit('/').next().unwrap_or(name);
    if last.contains(':') || last.contains('@') {
        name.to_owned()
    } else {
        format!("{name}:latest")
    }
}

impl PodInfo {
    /// Prepares a pod.
    pub fn new(pod: Arc<Pod>) -> PodInfo {
        let ns = pod.metadata.namespace.as_deref().unwrap_or("");
        let key: PodKey = match pod.metadata.uid.as_deref() {
            Some(uid) if !uid.is_empty() => Arc::from(uid),
            _ => Arc::from(format!(
                "{}/{}",
                ns,
                pod.metadata.name.as_deref().unwrap_or("")
            )),
        };
        let requests = pod_requests(&pod, RequestOptions::default());
        let non_zero_requests = pod_requests(
            &pod,
            RequestOptions {
                exclude_overhead: false,
                non_missing_defaults: true,
            },
        );
        let mut parse_error = None;
        let spec = pod.spec.as_ref();
        let affinity = spec.and_then(|s| s.affinity.as_ref());
        let pa = affinity.and_then(|a| a.pod_affinity.as_ref());
        let paa = affinity.and_then(|a| a.pod_anti_affinity.as_ref());
        let required_affinity = pa
            .map(|a| {
                parse_terms(
                    &a.required_during_scheduling_ignored_during_execution,
                    ns,
                    &mut parse_error,
                )
            })
            .unwrap_or_default();
        let required_anti_affinity = paa
            .map(|a| {
                parse_terms(
                    &a.required_during_scheduling_ignored_during_execution,
                    ns,
                    &mut parse_error,
                )
            })
            .unwrap_or_default();
        let preferred_affinity = pa
            .map(|a| {
                parse_weighted(
                    &a.preferred_during_scheduling_ignored_during_execution,
                    ns,
                    &mut parse_error,
                )
            })
            .unwrap_or_default();
        let preferred_anti_affinity = paa
            .map(|a| {
                parse_weighted(
                    &a.preferred_during_scheduling_ignored_during_execution,
                    ns,
                    &mut parse_error,
                )
            })
            .unwrap_or_default();
        let mut host_ports = Vec::new();
        let mut images = Vec::new();
        if let Some(spec) = spec {
            for c in spec.init_containers.iter().chain(&spec.containers) {
                for p in &c.ports {
                    if let Some(hp) = p.host_port.filter(|hp| *hp > 0) {
                        host_ports.push(HostPort {
                            ip: p
                                .host_ip
                                .clone()
                                .filter(|ip| !ip.is_empty())
                                .unwrap_or_else(|| "0.0.0.0".to_owned()),
                            protocol: p
                                .protocol
                                .clone()
                                .filter(|p| !p.is_empty())
                                .unwrap_or_else(|| "TCP".to_owned()),
                            port: hp,
                        });
                    }
                }
            }
            for c in &spec.containers {
                if let Some(img) = c.image.as_deref().filter(|i| !i.is_empty()) {
                    images.push(normalize_image(img));
                }
            }
        }
        PodInfo {
            priority: spec.and_then(|s| s.priority).unwrap_or(0),
            pod,
            key,
            requests,
            non_zero_requests,
            required_affinity,
            required_anti_affinity,
            preferred_affinity,
            preferred_anti_affinity,
            host_ports,
            images,
            parse_error,
        }
    }

    /// The pod object.
    #[inline]
    pub fn pod(&self) -> &Arc<Pod> {
        &self.pod
    }

    /// The cache/queue key.
    #[inline]
    pub fn key(&self) -> &PodKey {
        &self.key
    }

    /// `metadata.namespace` (`""` when unset).
    #[inline]
    pub fn namespace(&self) -> &str {
        self.pod.metadata.namespace.as_deref().unwrap_or("")
    }

    /// `metadata.name` (`""` when unset).
    #[inline]
    pub fn name(&self) -> &str {
        self.pod.metadata.name.as_deref().unwrap_or("")
    }

    /// The pod's labels.
    #[inline]
    pub fn labels(&self) -> &kybern_core::LabelMap {
        &self.pod.metadata.labels
    }

    /// `spec.nodeName` (`""` when unset).
    pub fn node_name(&self) -> &str {
        self.pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .unwrap_or("")
    }

    /// `spec.schedulerName`, `default-scheduler` when unset.
    pub fn scheduler_name(&self) -> &str {
        self.pod
            .spec
            .as_ref()
            .and_then(|s| s.scheduler_name.as_deref())
            .filter(|s| !s.is_empty())
            .unwrap_or(crate::DEFAULT_SCHEDULER_NAME)
    }

    /// Whether the pod has any pod affinity or anti-affinity term (required or preferred).
    pub fn has_affinity(&self) -> bool {
        !self.required_affinity.is_empty()
            || !self.required_anti_affinity.is_empty()
            || !self.preferred_affinity.is_empty()
            || !self.preferred_anti_affinity.is_empty()
    }

    /// Whether the pod is being deleted.
    pub fn is_terminating(&self) -> bool {
        self.pod.metadata.deletion_timestamp.is_some()
    }

    /// `"namespace/name"` for messages.
    pub fn display_name(&self) -> String {
        format!("{}/{}", self.namespace(), self.name())
    }

    /// A label lookup helper for selectors over the pod's labels.
    pub fn get_label(&self, key: &str) -> Option<&str> {
        self.labels().get_label(key)
    }
}

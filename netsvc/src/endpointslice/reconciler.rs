//! Packing a Service's endpoints into EndpointSlices with minimal churn (upstream's
//! `endpointslice` reconciler).
//!
//! Per address type and per distinct port list:
//! 1. existing slices keep the endpoints that are still wanted; a slice whose endpoints changed
//!    (one removed, one's conditions changed) is marked for update, the others are unchanged;
//!    slices whose port list is no longer wanted are deleted;
//! 2. new endpoints first fill slices already being updated (fullest first), then, if what is
//!    left fits, ONE unchanged slice that has room (fullest first), and only then new slices;
//! 3. slices about to be deleted are reused for slices about to be created (one update instead
//!    of a delete and a create);
//! 4. a Service with no endpoints keeps one empty placeholder slice.
//!
//! So when one pod changes, exactly one slice is written.

use std::borrow::Borrow;
use std::collections::BTreeMap;

use kybern_core::api::core::v1::{Pod, Service};
use kybern_core::api::discovery::v1::{Endpoint, EndpointPort, EndpointSlice};
use kybern_core::api::meta::v1::{ObjectMeta, OwnerReference};

use super::desired::{
    endpoint_key, pod_endpoint, pod_endpoint_ports, selects, should_pod_be_in_endpoints,
};
use super::{
    CONTROLLER_NAME, DEFAULT_MAX_ENDPOINTS_PER_SLICE, LABEL_HEADLESS, LABEL_MANAGED_BY,
    LABEL_SERVICE_NAME,
};
use crate::alloc::IpFamily;
use crate::service_type::CLUSTER_IP_NONE;

/// The writes that bring a Service's slices to the desired state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SliceChanges {
    /// Slices to create (`metadata.generateName` set, no name).
    pub create: Vec<EndpointSlice>,
    /// Slices to update (name and resourceVersion of the existing slice kept).
    pub update: Vec<EndpointSlice>,
    /// Slices to delete.
    pub delete: Vec<EndpointSlice>,
}

impl SliceChanges {
    /// Number of writes (creates + updates + deletes).
    pub fn writes(&self) -> usize {
        self.create.len() + self.update.len() + self.delete.len()
    }

    /// Whether nothing needs writing.
    pub fn is_empty(&self) -> bool {
        self.writes() == 0
    }
}

/// Reconciler settings.
#[derive(Clone, Debug)]
pub struct SliceReconciler {
    /// At most this many endpoints per slice (upstream default 100, maximum 1000).
    pub max_endpoints_per_slice: usize,
    /// Node name → zone (`topology.kubernetes.io/zone` of the node), for `zone` and hints.
    pub node_zones: BTreeMap<String, String>,
}

impl Default for SliceReconciler {
    fn default() -> Self {
        Self {
            max_endpoints_per_slice: DEFAULT_MAX_ENDPOINTS_PER_SLICE,
            node_zones: BTreeMap::new(),
        }
    }
}

/// [`SliceReconciler::reconcile`] with the default settings.
pub fn reconcile_service(
    service: &Service,
    pods: &[Pod],
    existing: &[EndpointSlice],
) -> SliceChanges {
    SliceReconciler::default().reconcile(service, pods, existing)
}

/// The address types (`IPv4`/`IPv6`) a Service's slices carry: its `ipFamilies`, else the
/// family of its cluster IP, else IPv4.
pub fn address_types(service: &Service) -> Vec<IpFamily> {
    let Some(spec) = service.spec.as_ref() else {
        return vec![IpFamily::V4];
    };
    let mut fams: Vec<IpFamily> = spec
        .ip_families
        .iter()
        .filter_map(|f| IpFamily::parse(f))
        .collect();
    if fams.is_empty() {
        fams.extend(
            spec.cluster_ips
                .iter()
                .chain(spec.cluster_ip.as_ref())
                .filter_map(|ip| ip.parse::<std::net::IpAddr>().ok())
                .map(|ip| IpFamily::of(&ip))
                .take(1),
        );
    }
    if fams.is_empty() {
        fams.push(IpFamily::V4);
    }
    fams
}

/// Owner reference to the Service with `controller` and `blockOwnerDeletion` set.
pub(crate) fn owner_ref(service: &Service) -> OwnerReference {
    OwnerReference {
        api_version: "v1".into(),
        kind: "Service".into(),
        name: service.metadata.name.clone().unwrap_or_default(),
        uid: service.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// The labels every slice of the Service carries: the Service's own labels plus the
/// service-name and managed-by labels (and the headless label for headless Services).
pub fn slice_labels(service: &Service) -> kybern_core::LabelMap {
    let mut labels = service.metadata.labels.clone();
    labels.remove(LABEL_HEADLESS);
    labels.insert(
        LABEL_SERVICE_NAME.into(),
        service.metadata.name.clone().unwrap_or_default(),
    );
    labels.insert(LABEL_MANAGED_BY.into(), CONTROLLER_NAME.into());
    let headless =
        service.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some(CLUSTER_IP_NONE);
    if headless {
        labels.insert(LABEL_HEADLESS.into(), String::new());
    }
    labels
}

pub(crate) fn new_slice(
    service: &Service,
    family: IpFamily,
    ports: Vec<EndpointPort>,
) -> EndpointSlice {
    EndpointSlice {
        metadata: ObjectMeta {
            generate_name: Some(format!(
                "{}-",
                service.metadata.name.as_deref().unwrap_or("")
            )),
            namespace: service.metadata.namespace.clone(),
            labels: slice_labels(service),
            owner_references: vec![owner_ref(service)],
            ..ObjectMeta::default()
        },
        address_type: family.as_str().into(),
        endpoints: Vec::new(),
        ports,
    }
}

fn owned_by(slice: &EndpointSlice, service: &Service) -> bool {
    slice
        .metadata
        .owner_references
        .iter()
        .any(|o| o.kind == "Service" && Some(&o.uid) == service.metadata.uid.as_ref())
        || service.metadata.uid.is_none()
}

/// `slice` (about to be created) written under the identity of `old` (about to be deleted):
/// one update instead of a delete and a create.
pub(crate) fn reuse_identity(old: &EndpointSlice, mut slice: EndpointSlice) -> EndpointSlice {
    slice.metadata.name = old.metadata.name.clone();
    slice.metadata.generate_name = old.metadata.generate_name.clone();
    slice.metadata.resource_version = old.metadata.resource_version.clone();
    slice.metadata.uid = old.metadata.uid.clone();
    slice
}

/// Whether `slice` is one this controller manages for `service` (managed-by and
/// service-name labels).
pub(crate) fn managed_for(slice: &EndpointSlice, service: &Service) -> bool {
    slice
        .metadata
        .labels
        .get(LABEL_MANAGED_BY)
        .map(String::as_str)
        == Some(CONTROLLER_NAME)
        && slice.metadata.labels.get(LABEL_SERVICE_NAME) == service.metadata.name.as_ref()
}

/// A port list as a sortable key (order-insensitive).
pub(crate) type PortKey = Vec<(Option<String>, Option<String>, Option<i32>, Option<String>)>;

pub(crate) fn port_key(ports: &[EndpointPort]) -> PortKey {
    let mut key: PortKey = ports
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                p.protocol.clone(),
                p.port,
                p.app_protocol.clone(),
            )
        })
        .collect();
    key.sort();
    key
}

/// A slice being worked on.
struct Work {
    slice: EndpointSlice,
    changed: bool,
}

impl SliceReconciler {
    /// The endpoint (of `family`) and endpoint ports `pod` contributes to `service`, or `None`
    /// when the Service does not select it, it should not be published, or it has no address
    /// of that family. Shared by the full reconcile and the incremental index.
    pub(crate) fn pod_wants(
        &self,
        service: &Service,
        pod: &Pod,
        family: IpFamily,
    ) -> Option<(Vec<EndpointPort>, Endpoint)> {
        if !selects(service, pod) || !should_pod_be_in_endpoints(pod, true) {
            return None;
        }
        let ep = pod_endpoint(service, pod, family, &self.node_zones)?;
        Some((pod_endpoint_ports(service, pod), ep))
    }

    /// Computes the writes that make `existing` (the slices labelled with the Service's name)
    /// the Service's desired slices for `pods` (any pods: the selector is applied here).
    ///
    /// This is O(all pods) and is the correctness reference; for one pod's change the
    /// [`super::index::SliceIndex`] computes the same outcome touching one slice.
    pub fn reconcile(
        &self,
        service: &Service,
        pods: &[Pod],
        existing: &[EndpointSlice],
    ) -> SliceChanges {
        self.reconcile_shared(service, pods, existing)
    }

    /// [`SliceReconciler::reconcile`] over pods held any way that borrows as a `Pod` (e.g. the
    /// `Arc<Pod>`s of a runtime cache, without cloning them).
    pub fn reconcile_shared<P: Borrow<Pod>>(
        &self,
        service: &Service,
        pods: &[P],
        existing: &[EndpointSlice],
    ) -> SliceChanges {
        let max = self.max_endpoints_per_slice.max(1);
        let mut changes = SliceChanges::default();
        let mine: Vec<&EndpointSlice> = existing
            .iter()
            .filter(|s| managed_for(s, service))
            .collect();
        let families = address_types(service);
        let labels = slice_labels(service);
        let owner = owner_ref(service);
        let mut total_desired = 0usize;

        // Slices of address types the Service no longer has are deleted.
        for s in &mine {
            if !families.iter().any(|f| f.as_str() == s.address_type) {
                changes.delete.push((*s).clone());
            }
        }

        for family in &families {
            // Desired endpoints, grouped by port list, keyed by endpoint identity.
            let mut desired: BTreeMap<PortKey, (Vec<EndpointPort>, BTreeMap<String, Endpoint>)> =
                BTreeMap::new();
            for pod in pods {
                let Some((ports, ep)) = self.pod_wants(service, pod.borrow(), *family) else {
                    continue;
                };
                desired
                    .entry(port_key(&ports))
                    .or_insert_with(|| (ports, BTreeMap::new()))
                    .1
                    .insert(endpoint_key(&ep), ep);
                total_desired += 1;
            }

            // 1. Existing slices of this family: keep what is wanted.
            let mut slices: Vec<&EndpointSlice> = mine
                .iter()
                .copied()
                .filter(|s| s.address_type == family.as_str())
                .collect();
            slices.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
            let mut per_key: BTreeMap<PortKey, (Vec<Work>, Vec<Work>)> = BTreeMap::new();
            for s in slices {
                let key = port_key(&s.ports);
                let Some((_, want)) = desired.get_mut(&key) else {
                    changes.delete.push(s.clone());
                    continue;
                };
                let mut changed = s.metadata.labels != labels
                    || !s.metadata.owner_references.iter().any(|o| o == &owner);
                let mut kept = Vec::with_capacity(s.endpoints.len());
                for ep in &s.endpoints {
                    match want.remove(&endpoint_key(ep)) {
                        Some(new) => {
                            if &new != ep {
                                changed = true;
                            }
                            kept.push(new);
                        }
                        None => changed = true,
                    }
                }
                if kept.is_empty() && changed {
                    changes.delete.push(s.clone());
                    continue;
                }
                let mut slice = s.clone();
                slice.endpoints = kept;
                if changed {
                    slice.metadata.labels = labels.clone();
                    slice
                        .metadata
                        .owner_references
                        .retain(|o| o.uid != owner.uid);
                    slice.metadata.owner_references.push(owner.clone());
                }
                let entry = per_key.entry(key).or_default();
                if changed {
                    entry.0.push(Work { slice, changed });
                } else {
                    entry.1.push(Work { slice, changed });
                }
            }

            // 2. Place the endpoints no existing slice holds.
            for (key, (ports, rest)) in desired {
                let (mut to_update, mut unchanged) = per_key.remove(&key).unwrap_or_default();
                let mut rest: Vec<Endpoint> = rest.into_values().collect();
                rest.reverse(); // pop() from the end keeps key order
                to_update.sort_by_key(|w| std::cmp::Reverse(w.slice.endpoints.len()));
                for w in &mut to_update {
                    while w.slice.endpoints.len() < max {
                        let Some(ep) = rest.pop() else { break };
                        w.slice.endpoints.push(ep);
                    }
                }
                if !rest.is_empty() && rest.len() < max {
                    unchanged.sort_by_key(|w| std::cmp::Reverse(w.slice.endpoints.len()));
                    if let Some(i) = unchanged
                        .iter()
                        .position(|w| w.slice.endpoints.len() + rest.len() <= max)
                    {
                        let mut w = unchanged.remove(i);
                        w.changed = true;
                        while let Some(ep) = rest.pop() {
                            w.slice.endpoints.push(ep);
                        }
                        to_update.push(w);
                    }
                }
                while !rest.is_empty() {
                    let mut slice = new_slice(service, *family, ports.clone());
                    while slice.endpoints.len() < max {
                        let Some(ep) = rest.pop() else { break };
                        slice.endpoints.push(ep);
                    }
                    changes.create.push(slice);
                }
                changes
                    .update
                    .extend(to_update.into_iter().filter(|w| w.changed).map(|w| w.slice));
            }
            // Slices of port lists with nothing new stay as they are or are updated.
            for (_, (to_update, _)) in per_key {
                changes
                    .update
                    .extend(to_update.into_iter().map(|w| w.slice));
            }
        }

        // 4. Placeholder: a Service with no endpoints keeps one empty slice.
        if total_desired == 0 && changes.create.is_empty() && mine.len() == changes.delete.len() {
            let family = families.first().copied().unwrap_or(IpFamily::V4);
            let placeholder = new_slice(service, family, Vec::new());
            let same = |s: &EndpointSlice| {
                s.endpoints.is_empty()
                    && s.ports.is_empty()
                    && s.address_type == placeholder.address_type
                    && s.metadata.labels == placeholder.metadata.labels
                    && s.metadata.owner_references == placeholder.metadata.owner_references
            };
            if let Some(i) = changes.delete.iter().position(same) {
                changes.delete.remove(i);
            } else {
                changes.create.push(placeholder);
            }
        }

        // 3. Reuse slices about to be deleted for slices about to be created.
        let mut i = 0;
        while i < changes.delete.len() && !changes.create.is_empty() {
            let Some(create) = changes.create.last() else {
                break;
            };
            let old = &changes.delete[i];
            if owned_by(old, service) && old.address_type == create.address_type {
                let old = changes.delete.remove(i);
                if let Some(slice) = changes.create.pop() {
                    changes.update.push(reuse_identity(&old, slice));
                }
            } else {
                i += 1;
            }
        }
        changes
    }
}

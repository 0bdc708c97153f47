//! The legacy `Endpoints` object mirrored from the same pods (upstream's endpoints
//! controller): subsets of ready `addresses` and `notReadyAddresses` per port list, capped at
//! 1000 addresses with the over-capacity annotation.

use std::borrow::Borrow;
use std::collections::BTreeMap;

use kybern_core::api::core::v1::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, ObjectReference, Pod, Service,
};
use kybern_core::api::meta::v1::ObjectMeta;

use super::LABEL_HEADLESS;
use super::desired::{is_pod_ready, pod_address, selects, should_pod_be_in_endpoints};
use super::reconciler::address_types;
use crate::ports::{find_port, service_port_protocol};
use crate::service_type::CLUSTER_IP_NONE;

/// Most addresses an `Endpoints` object carries (upstream `maxCapacity`).
pub const MAX_ENDPOINTS_CAPACITY: usize = 1000;
/// Annotation set when addresses were cut to [`MAX_ENDPOINTS_CAPACITY`].
pub const ANNOTATION_OVER_CAPACITY: &str = "endpoints.kubernetes.io/over-capacity";

/// The `Endpoints` object the Service should have, named as the Service. Uses the Service's
/// primary IP family; `publishNotReadyAddresses` puts every address in `addresses`.
pub fn desired_endpoints<P: Borrow<Pod>>(service: &Service, pods: &[P]) -> Endpoints {
    let spec = service.spec.clone().unwrap_or_default();
    let publish = spec.publish_not_ready_addresses.unwrap_or(false);
    let family = address_types(service)[0];
    // Port list -> (ready, not ready).
    type Addrs = (Vec<EndpointAddress>, Vec<EndpointAddress>);
    let mut groups: BTreeMap<Vec<(String, i32, String)>, Addrs> = BTreeMap::new();
    for pod in pods {
        let pod = pod.borrow();
        if !selects(service, pod) || !should_pod_be_in_endpoints(pod, publish) {
            continue;
        }
        let Some(ip) = pod_address(pod, family) else {
            continue;
        };
        let pod_spec = pod.spec.as_ref();
        let hostname = pod_spec.and_then(|s| {
            (s.subdomain.as_deref() == service.metadata.name.as_deref()
                && pod.metadata.namespace == service.metadata.namespace)
                .then(|| s.hostname.clone())
                .flatten()
                .filter(|h| !h.is_empty())
        });
        let address = EndpointAddress {
            ip,
            hostname,
            node_name: pod_spec.and_then(|s| s.node_name.clone()),
            target_ref: Some(ObjectReference {
                kind: Some("Pod".into()),
                namespace: pod.metadata.namespace.clone(),
                name: pod.metadata.name.clone(),
                uid: pod.metadata.uid.clone(),
                ..ObjectReference::default()
            }),
        };
        let mut ports: Vec<(String, i32, String)> = spec
            .ports
            .iter()
            .filter_map(|sp| {
                let p = find_port(pod, sp).ok()?;
                Some((
                    sp.name.clone().unwrap_or_default(),
                    p,
                    service_port_protocol(sp).to_owned(),
                ))
            })
            .collect();
        ports.sort();
        if !spec.ports.is_empty() && ports.is_empty() {
            continue;
        }
        let entry = groups.entry(ports).or_default();
        if publish || is_pod_ready(pod) {
            entry.0.push(address);
        } else {
            entry.1.push(address);
        }
    }
    let mut subsets: Vec<EndpointSubset> = groups
        .into_iter()
        .map(|(ports, (mut ready, mut not_ready))| {
            ready.sort_by(|a, b| a.ip.cmp(&b.ip));
            not_ready.sort_by(|a, b| a.ip.cmp(&b.ip));
            EndpointSubset {
                addresses: ready,
                not_ready_addresses: not_ready,
                ports: ports
                    .into_iter()
                    .map(|(name, port, protocol)| EndpointPort {
                        name: (!name.is_empty()).then_some(name),
                        port,
                        protocol: Some(protocol),
                        app_protocol: None,
                    })
                    .collect(),
            }
        })
        .collect();
    let mut annotations = BTreeMap::new();
    if truncate(&mut subsets) {
        annotations.insert(ANNOTATION_OVER_CAPACITY.into(), "truncated".into());
    }
    let mut labels = service.metadata.labels.clone();
    if spec.cluster_ip.as_deref() == Some(CLUSTER_IP_NONE) {
        labels.insert(LABEL_HEADLESS.into(), String::new());
    } else {
        labels.remove(LABEL_HEADLESS);
    }
    Endpoints {
        metadata: ObjectMeta {
            name: service.metadata.name.clone(),
            namespace: service.metadata.namespace.clone(),
            labels,
            annotations,
            ..ObjectMeta::default()
        },
        subsets,
    }
}

/// Upstream `truncateEndpoints`: keep at most 1000 addresses, ready ones first, each subset
/// keeping its share (rounded up) of what is kept. Returns whether anything was cut.
fn truncate(subsets: &mut [EndpointSubset]) -> bool {
    let ready: usize = subsets.iter().map(|s| s.addresses.len()).sum();
    let not_ready: usize = subsets.iter().map(|s| s.not_ready_addresses.len()).sum();
    if ready + not_ready <= MAX_ENDPOINTS_CAPACITY {
        return false;
    }
    let truncate_ready = ready > MAX_ENDPOINTS_CAPACITY;
    let (max, total) = if truncate_ready {
        (MAX_ENDPOINTS_CAPACITY, ready)
    } else {
        (MAX_ENDPOINTS_CAPACITY - ready, not_ready)
    };
    let mut can_add = max;
    for s in subsets.iter_mut() {
        let n = if truncate_ready {
            s.addresses.len()
        } else {
            s.not_ready_addresses.len()
        };
        let share = (n * max).div_ceil(total.max(1)).min(can_add);
        if truncate_ready {
            s.addresses.truncate(share);
            s.not_ready_addresses.clear();
            can_add -= s.addresses.len();
        } else {
            s.not_ready_addresses.truncate(share);
            can_add -= s.not_ready_addresses.len();
        }
    }
    true
}

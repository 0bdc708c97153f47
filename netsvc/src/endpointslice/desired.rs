//! From pods to endpoints: which pods are published, their addresses, conditions, hostname,
//! node, zone and zone hints, and the ports they resolve for a Service.

use std::collections::BTreeMap;
use std::net::IpAddr;

use kybern_core::api::core::v1::{ObjectReference, Pod, Service};
use kybern_core::api::discovery::v1::{
    Endpoint, EndpointConditions, EndpointHints, EndpointPort, ForZone,
};

use super::ANNOTATION_TOPOLOGY_MODE;
use crate::alloc::IpFamily;
use crate::ports::{find_port, service_port_protocol};

/// Whether the pod's `Ready` condition is `True` (upstream `podutil.IsPodReady`).
pub fn is_pod_ready(pod: &Pod) -> bool {
    pod.status.as_ref().is_some_and(|s| {
        s.conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True")
    })
}

/// Whether the pod is `Succeeded` or `Failed`.
pub fn is_pod_terminal(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

/// Upstream `ShouldPodBeInEndpoints`: not terminal, has an IP, and (unless
/// `include_terminating`) not being deleted.
pub fn should_pod_be_in_endpoints(pod: &Pod, include_terminating: bool) -> bool {
    if is_pod_terminal(pod) {
        return false;
    }
    let has_ip = pod.status.as_ref().is_some_and(|s| {
        s.pod_ip.as_deref().is_some_and(|ip| !ip.is_empty()) || !s.pod_ips.is_empty()
    });
    if !has_ip {
        return false;
    }
    include_terminating || pod.metadata.deletion_timestamp.is_none()
}

/// Whether the Service's selector selects the pod (same namespace, every selector pair set
/// on the pod). An empty selector selects nothing: such Services' endpoints are managed by hand.
pub fn selects(service: &Service, pod: &Pod) -> bool {
    let Some(spec) = service.spec.as_ref() else {
        return false;
    };
    if spec.selector.is_empty() || pod.metadata.namespace != service.metadata.namespace {
        return false;
    }
    spec.selector
        .iter()
        .all(|(k, v)| pod.metadata.labels.get(k) == Some(v))
}

/// The pod's first address of `family` (from `podIPs`, else `podIP`).
pub fn pod_address(pod: &Pod, family: IpFamily) -> Option<String> {
    let status = pod.status.as_ref()?;
    status
        .pod_ips
        .iter()
        .map(|p| p.ip.as_str())
        .chain(status.pod_ip.as_deref())
        .find(|ip| {
            ip.parse::<IpAddr>()
                .is_ok_and(|a| IpFamily::of(&a) == family)
        })
        .map(str::to_owned)
}

/// Whether the Service asks for zone hints: `trafficDistribution: PreferClose`, or the
/// `service.kubernetes.io/topology-mode: Auto` annotation.
///
/// Simplification (documented): both give each endpoint a hint for its own zone (upstream's
/// `PreferClose` heuristic). Upstream's `Auto` mode instead spreads endpoints over zones in
/// proportion to allocatable CPU; that needs node capacities this crate does not track.
pub fn wants_zone_hints(service: &Service) -> bool {
    let dist = service
        .spec
        .as_ref()
        .and_then(|s| s.traffic_distribution.as_deref());
    let mode = service
        .metadata
        .annotations
        .get(ANNOTATION_TOPOLOGY_MODE)
        .map(String::as_str);
    dist == Some("PreferClose") || matches!(mode, Some("Auto" | "auto"))
}

/// Upstream `podToEndpoint` for one address family: `None` when the pod has no address of it.
///
/// `ready` is `serving && !terminating` (or always true with `publishNotReadyAddresses`);
/// `hostname` is set when the pod's `subdomain` names the Service; `zone` comes from
/// `node_zones` (node name → `topology.kubernetes.io/zone`).
pub fn pod_endpoint(
    service: &Service,
    pod: &Pod,
    family: IpFamily,
    node_zones: &BTreeMap<String, String>,
) -> Option<Endpoint> {
    let address = pod_address(pod, family)?;
    let spec = service.spec.as_ref();
    let serving = is_pod_ready(pod);
    let terminating = pod.metadata.deletion_timestamp.is_some();
    let publish = spec
        .and_then(|s| s.publish_not_ready_addresses)
        .unwrap_or(false);
    let ready = publish || (serving && !terminating);
    let pod_spec = pod.spec.as_ref();
    let node_name = pod_spec
        .and_then(|s| s.node_name.clone())
        .filter(|n| !n.is_empty());
    let zone = node_name.as_ref().and_then(|n| node_zones.get(n)).cloned();
    let hostname = pod_spec.and_then(|s| {
        let subdomain_matches = s.subdomain.as_deref() == service.metadata.name.as_deref()
            && pod.metadata.namespace == service.metadata.namespace;
        s.hostname
            .clone()
            .filter(|h| !h.is_empty() && subdomain_matches)
    });
    let hints = zone
        .as_ref()
        .filter(|_| wants_zone_hints(service))
        .map(|z| EndpointHints {
            for_zones: vec![ForZone { name: z.clone() }],
            ..EndpointHints::default()
        });
    Some(Endpoint {
        addresses: vec![address],
        conditions: Some(EndpointConditions {
            ready: Some(ready),
            serving: Some(serving),
            terminating: Some(terminating),
        }),
        hostname,
        node_name,
        zone,
        hints,
        target_ref: Some(ObjectReference {
            kind: Some("Pod".into()),
            namespace: pod.metadata.namespace.clone(),
            name: pod.metadata.name.clone(),
            uid: pod.metadata.uid.clone(),
            ..ObjectReference::default()
        }),
        ..Endpoint::default()
    })
}

/// The endpoint ports a pod publishes for the Service: one per Service port whose target
/// port resolves on the pod (ports that do not resolve are left out, as upstream).
pub fn pod_endpoint_ports(service: &Service, pod: &Pod) -> Vec<EndpointPort> {
    let Some(spec) = service.spec.as_ref() else {
        return Vec::new();
    };
    spec.ports
        .iter()
        .filter_map(|sp| {
            let port = find_port(pod, sp).ok()?;
            Some(EndpointPort {
                name: Some(sp.name.clone().unwrap_or_default()),
                port: Some(port),
                protocol: Some(service_port_protocol(sp).to_owned()),
                app_protocol: sp.app_protocol.clone(),
            })
        })
        .collect()
}

/// The identity of an endpoint inside a slice: the pod it targets and its first address.
pub fn endpoint_key(ep: &Endpoint) -> String {
    let target = ep
        .target_ref
        .as_ref()
        .map(|t| {
            format!(
                "{}/{}",
                t.namespace.as_deref().unwrap_or(""),
                t.name.as_deref().unwrap_or("")
            )
        })
        .unwrap_or_default();
    format!(
        "{target}@{}",
        ep.addresses.first().map(String::as_str).unwrap_or("")
    )
}

/// Whether [`endpoint_key`] of `ep` is `key`, without building the key (hot path of the
/// incremental index).
pub(crate) fn has_endpoint_key(ep: &Endpoint, key: &str) -> bool {
    let addr = ep.addresses.first().map(String::as_str).unwrap_or("");
    let rest = match ep.target_ref.as_ref() {
        Some(t) => key
            .strip_prefix(t.namespace.as_deref().unwrap_or(""))
            .and_then(|r| r.strip_prefix('/'))
            .and_then(|r| r.strip_prefix(t.name.as_deref().unwrap_or(""))),
        None => Some(key),
    };
    rest.and_then(|r| r.strip_prefix('@')) == Some(addr)
}

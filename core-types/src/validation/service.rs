//! Service networking rules with upstream's messages: `Service`, `Endpoints` and
//! `EndpointSlice`. Fields upstream defaults (`type: ClusterIP`, `sessionAffinity: None`,
//! port `protocol: TCP`, `targetPort = port`) are checked with their default when absent.

use std::collections::BTreeSet;

use super::Validate;
use super::field::{ErrorList, FieldError, FieldPath};
use super::meta::{validate_labels, validate_resource_meta};
use super::names::{
    is_dns1123_label, is_dns1123_subdomain, is_qualified_name, is_valid_port_num,
    name_is_dns_subdomain, name_is_dns1035_label,
};
use super::network::{validate_cidr, validate_ip};
use super::pod::{SUPPORTED_PORT_PROTOCOLS, check_enum, validate_port_num_or_name};
use crate::IntOrString;
use crate::api::core::v1::{Endpoints, Service, ServiceSpec};
use crate::api::discovery::v1::EndpointSlice;

const SERVICE_TYPES: [&str; 4] = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
const SESSION_AFFINITIES: [&str; 2] = ["ClientIP", "None"];
const TRAFFIC_POLICIES: [&str; 2] = ["Cluster", "Local"];
/// The default NodePort range of an API server (`--service-node-port-range`).
pub const DEFAULT_NODE_PORT_RANGE: (i32, i32) = (30000, 32767);
const KUBELET_PORT: i32 = 10250;
const MAX_CLIENT_IP_AFFINITY_SECONDS: i32 = 86400;

fn dns1123_label_errs(value: &str, path: &FieldPath) -> ErrorList {
    is_dns1123_label(value)
        .into_iter()
        .map(|m| FieldError::invalid(path, value, m))
        .collect()
}

/// Upstream's `ValidateService` (main rules) for a spec at `path`.
pub fn validate_service_spec(spec: &ServiceSpec, path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    let type_ = spec.type_.as_deref().unwrap_or("ClusterIP");
    let cluster_ip = spec
        .cluster_ip
        .as_deref()
        .or(spec.cluster_ips.first().map(String::as_str))
        .unwrap_or("");
    let headless = cluster_ip == "None";
    let pp = path.child("ports");
    if spec.ports.is_empty() && !headless && type_ != "ExternalName" {
        errs.push(FieldError::required(&pp, ""));
    }
    match type_ {
        "LoadBalancer" | "NodePort" => {
            if headless {
                errs.push(FieldError::invalid(
                    &path.child("clusterIPs").index(0),
                    cluster_ip,
                    format!("may not be set to 'None' for {type_} services"),
                ));
            }
            if type_ == "LoadBalancer" {
                for (i, p) in spec.ports.iter().enumerate() {
                    if p.port == KUBELET_PORT {
                        errs.push(FieldError::invalid(
                            &pp.index(i),
                            p.port,
                            format!(
                                "may not expose port {KUBELET_PORT} externally since it is used by kubelet"
                            ),
                        ));
                    }
                }
            }
        }
        "ExternalName" => {
            if !cluster_ip.is_empty() || !spec.cluster_ips.is_empty() {
                errs.push(FieldError::forbidden(
                    &path.child("clusterIPs"),
                    "may not be set for ExternalName services",
                ));
            }
            if !spec.ip_families.is_empty() {
                errs.push(FieldError::forbidden(
                    &path.child("ipFamilies"),
                    "may not be set for ExternalName services",
                ));
            }
            if spec.ip_family_policy.is_some() {
                errs.push(FieldError::forbidden(
                    &path.child("ipFamilyPolicy"),
                    "may not be set for ExternalName services",
                ));
            }
            let en = spec.external_name.as_deref().unwrap_or("");
            let cname = en.strip_suffix('.').unwrap_or(en);
            let ep = path.child("externalName");
            if cname.is_empty() {
                errs.push(FieldError::required(&ep, ""));
            } else {
                for m in is_dns1123_subdomain(cname) {
                    errs.push(FieldError::invalid(&ep, cname, m));
                }
            }
        }
        _ => {}
    }
    let mut names: BTreeSet<&str> = BTreeSet::new();
    let require_name = spec.ports.len() > 1;
    for (i, p) in spec.ports.iter().enumerate() {
        let ip = pp.index(i);
        let name = p.name.as_deref().unwrap_or("");
        if require_name && name.is_empty() {
            errs.push(FieldError::required(&ip.child("name"), ""));
        } else if !name.is_empty() {
            errs.extend(dns1123_label_errs(name, &ip.child("name")));
            if !names.insert(name) {
                errs.push(FieldError::duplicate(&ip.child("name"), name));
            }
        }
        for m in is_valid_port_num(i64::from(p.port)) {
            errs.push(FieldError::invalid(&ip.child("port"), p.port, m));
        }
        match p.protocol.as_deref() {
            Some("") => errs.push(FieldError::required(&ip.child("protocol"), "")),
            proto => check_enum(
                &mut errs,
                proto,
                &SUPPORTED_PORT_PROTOCOLS,
                &ip.child("protocol"),
            ),
        }
        let target = p.target_port.clone().unwrap_or(IntOrString::Int(p.port));
        errs.extend(validate_port_num_or_name(&target, &ip.child("targetPort")));
        if let Some(ap) = p.app_protocol.as_deref() {
            for m in is_qualified_name(ap) {
                errs.push(FieldError::invalid(&ip.child("appProtocol"), ap, m));
            }
        }
        if let Some(np) = p.node_port.filter(|n| *n != 0) {
            let npp = ip.child("nodePort");
            match type_ {
                "ClusterIP" => errs.push(FieldError::forbidden(
                    &npp,
                    "may not be used when `type` is 'ClusterIP'",
                )),
                "NodePort" | "LoadBalancer" => {
                    let (lo, hi) = DEFAULT_NODE_PORT_RANGE;
                    if !(lo..=hi).contains(&np) {
                        errs.push(FieldError::invalid(
                            &npp,
                            np,
                            format!(
                                "provided port is not in the valid range. The range of valid ports is {lo}-{hi}"
                            ),
                        ));
                    }
                }
                _ => {}
            }
        }
    }
    errs.extend(validate_labels(&spec.selector, &path.child("selector")));
    let affinity = spec.session_affinity.as_deref().unwrap_or("None");
    let ap = path.child("sessionAffinity");
    match affinity {
        "" => errs.push(FieldError::required(&ap, "")),
        "ClientIP" => {
            if let Some(t) = spec
                .session_affinity_config
                .as_ref()
                .and_then(|c| c.client_ip.as_ref())
                .and_then(|c| c.timeout_seconds)
                && !(1..=MAX_CLIENT_IP_AFFINITY_SECONDS).contains(&t)
            {
                errs.push(FieldError::invalid(
                    &path
                        .child("sessionAffinityConfig")
                        .child("clientIP")
                        .child("timeoutSeconds"),
                    t,
                    format!(
                        "must be greater than 0 and less than {MAX_CLIENT_IP_AFFINITY_SECONDS}"
                    ),
                ));
            }
        }
        "None" => {
            if spec.session_affinity_config.is_some() {
                errs.push(FieldError::forbidden(
                    &path.child("sessionAffinityConfig"),
                    "must not be set when session affinity is None",
                ));
            }
        }
        other => errs.push(FieldError::not_supported(&ap, other, &SESSION_AFFINITIES)),
    }
    let cips = path.child("clusterIPs");
    if let (Some(ip), Some(first)) = (spec.cluster_ip.as_deref(), spec.cluster_ips.first())
        && ip != first
    {
        errs.push(FieldError::invalid(
            &cips.index(0),
            first.as_str(),
            "first value must match `clusterIP`",
        ));
    }
    if type_ != "ExternalName" {
        let ips: Vec<&str> = if spec.cluster_ips.is_empty() {
            spec.cluster_ip.as_deref().into_iter().collect()
        } else {
            spec.cluster_ips.iter().map(String::as_str).collect()
        };
        for (i, ip) in ips.iter().enumerate() {
            if ip.is_empty() || (i == 0 && *ip == "None") {
                continue;
            }
            errs.extend(validate_ip(ip, &cips.index(i)));
        }
    }
    for (i, ip) in spec.external_ips.iter().enumerate() {
        errs.extend(validate_ip(ip, &path.child("externalIPs").index(i)));
    }
    if spec.type_.as_deref() == Some("") {
        errs.push(FieldError::required(&path.child("type"), ""));
    } else {
        check_enum(
            &mut errs,
            spec.type_.as_deref(),
            &SERVICE_TYPES,
            &path.child("type"),
        );
    }
    let mut node_ports = BTreeSet::new();
    let mut ports = BTreeSet::new();
    for (i, p) in spec.ports.iter().enumerate() {
        let proto = p.protocol.as_deref().unwrap_or("TCP");
        if let Some(np) = p.node_port.filter(|n| *n != 0)
            && !node_ports.insert((proto, np))
        {
            errs.push(FieldError::duplicate(&pp.index(i).child("nodePort"), np));
        }
        if !ports.insert((proto, p.port)) {
            errs.push(FieldError::duplicate(
                &pp.index(i),
                serde_json::json!({"port": p.port, "protocol": proto}),
            ));
        }
    }
    if !spec.load_balancer_source_ranges.is_empty() {
        let rp = path.child("loadBalancerSourceRanges");
        if type_ != "LoadBalancer" {
            errs.push(FieldError::forbidden(
                &rp,
                "may only be used when `type` is 'LoadBalancer'",
            ));
        }
        for (i, r) in spec.load_balancer_source_ranges.iter().enumerate() {
            errs.extend(validate_cidr(r.trim(), &rp.index(i)));
        }
    }
    let externally_accessible = matches!(type_, "LoadBalancer" | "NodePort")
        || (type_ == "ClusterIP" && !spec.external_ips.is_empty());
    if let Some(etp) = spec.external_traffic_policy.as_deref() {
        let ep = path.child("externalTrafficPolicy");
        if !externally_accessible {
            errs.push(FieldError::invalid(
                &ep,
                etp,
                "may only be set for externally-accessible services",
            ));
        } else {
            check_enum(&mut errs, Some(etp), &TRAFFIC_POLICIES, &ep);
        }
    }
    check_enum(
        &mut errs,
        spec.internal_traffic_policy.as_deref(),
        &TRAFFIC_POLICIES,
        &path.child("internalTrafficPolicy"),
    );
    errs
}

impl Validate for Service {
    /// Metadata (DNS-1035 label name, namespaced) and [`validate_service_spec`].
    fn validate(&self) -> ErrorList {
        let mut errs = validate_resource_meta(self, name_is_dns1035_label);
        let default = ServiceSpec::default();
        errs.extend(validate_service_spec(
            self.spec.as_ref().unwrap_or(&default),
            &FieldPath::new("spec"),
        ));
        errs
    }
}

impl Validate for Endpoints {
    /// Metadata; each subset has addresses (valid IPs, DNS-label hostnames) and ports (named
    /// when more than one, valid numbers and protocols).
    fn validate(&self) -> ErrorList {
        let mut errs = validate_resource_meta(self, name_is_dns_subdomain);
        let sp = FieldPath::new("subsets");
        for (i, ss) in self.subsets.iter().enumerate() {
            let ip = sp.index(i);
            if ss.addresses.is_empty() && ss.not_ready_addresses.is_empty() {
                errs.push(FieldError::required(
                    &ip,
                    "must specify `addresses` or `notReadyAddresses`",
                ));
            }
            for (list, name) in [
                (&ss.addresses, "addresses"),
                (&ss.not_ready_addresses, "notReadyAddresses"),
            ] {
                for (j, a) in list.iter().enumerate() {
                    let ap = ip.child(name).index(j);
                    errs.extend(validate_ip(&a.ip, &ap.child("ip")));
                    if let Some(h) = a.hostname.as_deref().filter(|h| !h.is_empty()) {
                        errs.extend(dns1123_label_errs(h, &ap.child("hostname")));
                    }
                    if let Some(n) = a.node_name.as_deref().filter(|n| !n.is_empty()) {
                        for m in is_dns1123_subdomain(n) {
                            errs.push(FieldError::invalid(&ap.child("nodeName"), n, m));
                        }
                    }
                }
            }
            let require_name = ss.ports.len() > 1;
            for (j, p) in ss.ports.iter().enumerate() {
                let pp = ip.child("ports").index(j);
                let name = p.name.as_deref().unwrap_or("");
                if require_name && name.is_empty() {
                    errs.push(FieldError::required(&pp.child("name"), ""));
                } else if !name.is_empty() {
                    errs.extend(dns1123_label_errs(name, &pp.child("name")));
                }
                for m in is_valid_port_num(i64::from(p.port)) {
                    errs.push(FieldError::invalid(&pp.child("port"), p.port, m));
                }
                check_enum(
                    &mut errs,
                    p.protocol.as_deref(),
                    &SUPPORTED_PORT_PROTOCOLS,
                    &pp.child("protocol"),
                );
            }
        }
        errs
    }
}

const MAX_ENDPOINT_ADDRESSES: usize = 100;

impl Validate for EndpointSlice {
    /// Metadata; `addressType` IPv4/IPv6/FQDN; each endpoint has 1–100 addresses valid for
    /// the address type; ports have unique DNS-label names, numbers in range, protocols.
    fn validate(&self) -> ErrorList {
        let mut errs = validate_resource_meta(self, name_is_dns_subdomain);
        let at = self.address_type.as_str();
        let atp = FieldPath::new("addressType");
        match at {
            "" => errs.push(FieldError::required(&atp, "")),
            "IPv4" | "IPv6" | "FQDN" => {}
            other => errs.push(FieldError::not_supported(
                &atp,
                other,
                &["FQDN", "IPv4", "IPv6"],
            )),
        }
        let ep = FieldPath::new("endpoints");
        for (i, e) in self.endpoints.iter().enumerate() {
            let ap = ep.index(i).child("addresses");
            if e.addresses.is_empty() {
                errs.push(FieldError::required(&ap, "must contain at least 1 address"));
            } else if e.addresses.len() > MAX_ENDPOINT_ADDRESSES {
                errs.push(FieldError::too_many(
                    &ap,
                    e.addresses.len(),
                    MAX_ENDPOINT_ADDRESSES,
                ));
            }
            for (j, a) in e.addresses.iter().enumerate() {
                let p = ap.index(j);
                match at {
                    "IPv4" | "IPv6" => {
                        let parsed = super::network::parse_ip_sloppy(a);
                        match parsed {
                            None => errs.extend(validate_ip(a, &p)),
                            Some(ip) if (at == "IPv4") != ip.is_ipv4() => {
                                errs.push(FieldError::invalid(
                                    &p,
                                    a.as_str(),
                                    format!("must be an {at} address"),
                                ))
                            }
                            Some(_) => {}
                        }
                    }
                    "FQDN" => {
                        for m in is_dns1123_subdomain(a) {
                            errs.push(FieldError::invalid(&p, a.as_str(), m));
                        }
                    }
                    _ => {}
                }
            }
            if let Some(h) = e.hostname.as_deref() {
                errs.extend(dns1123_label_errs(h, &ep.index(i).child("hostname")));
            }
        }
        let pp = FieldPath::new("ports");
        let mut names = BTreeSet::new();
        for (i, p) in self.ports.iter().enumerate() {
            let ip = pp.index(i);
            let name = p.name.as_deref().unwrap_or("");
            if !name.is_empty() {
                errs.extend(dns1123_label_errs(name, &ip.child("name")));
            }
            if !names.insert(name) {
                errs.push(FieldError::duplicate(&ip.child("name"), name));
            }
            if let Some(port) = p.port {
                for m in is_valid_port_num(i64::from(port)) {
                    errs.push(FieldError::invalid(&ip.child("port"), port, m));
                }
            }
            check_enum(
                &mut errs,
                p.protocol.as_deref(),
                &SUPPORTED_PORT_PROTOCOLS,
                &ip.child("protocol"),
            );
        }
        errs
    }
}

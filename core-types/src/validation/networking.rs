//! Networking kinds with upstream's messages: `Ingress` (rules, paths, path types, backends,
//! TLS hosts), `IngressClass` (controller, parameters) and `NetworkPolicy` (selectors, ports,
//! peers, policy types).

use super::Validate;
use super::field::{ErrorList, FieldError, FieldPath};
use super::meta::validate_resource_meta;
use super::names::{
    is_dns1035_label, is_dns1123_subdomain, is_domain_prefixed_path, is_valid_path_segment_name,
    is_valid_port_name, is_valid_port_num, is_wildcard_dns1123_subdomain, name_is_dns_subdomain,
};
use super::network::{parse_ip_sloppy, validate_cidr};
use super::pod::SUPPORTED_PORT_PROTOCOLS;
use super::selector::validate_label_selector;
use crate::IntOrString;
use crate::api::networking::v1::{
    HTTPIngressPath, Ingress, IngressBackend, IngressClass, IngressSpec, NetworkPolicy,
    NetworkPolicyPeer, NetworkPolicyPort,
};

const PATH_TYPES: [&str; 3] = ["Exact", "ImplementationSpecific", "Prefix"];
const INVALID_PATH_SEQUENCES: [&str; 5] = ["//", "/./", "/../", "%2f", "%2F"];
const INVALID_PATH_SUFFIXES: [&str; 2] = ["/..", "/."];
const MAX_LEN_INGRESS_CLASS_CONTROLLER: usize = 250;

fn host_errors(host: &str, path: &FieldPath) -> ErrorList {
    let msgs = if host.contains('*') {
        is_wildcard_dns1123_subdomain(host)
    } else {
        is_dns1123_subdomain(host)
    };
    msgs.into_iter()
        .map(|m| FieldError::invalid(path, host, m))
        .collect()
}

fn path_segment_errors(value: &str, what: &str, path: &FieldPath) -> ErrorList {
    if value.is_empty() {
        let mut errs = ErrorList::new();
        errs.push(FieldError::required(path, format!("{what} is required")));
        return errs;
    }
    is_valid_path_segment_name(value)
        .into_iter()
        .map(|m| FieldError::invalid(path, value, m))
        .collect()
}

/// Upstream's `validateIngressBackend`: exactly one of `service` and `resource`; a service
/// backend names a DNS-1035 service and exactly one of port name and number.
pub fn validate_ingress_backend(b: &IngressBackend, path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    match (&b.resource, &b.service) {
        (Some(_), Some(_)) => errs.push(FieldError::invalid(
            path,
            "",
            "cannot set both resource and service backends",
        )),
        (Some(r), None) => {
            let rp = path.child("resource");
            if let Some(g) = r.api_group.as_deref() {
                for m in is_dns1123_subdomain(g) {
                    errs.push(FieldError::invalid(&rp.child("apiGroup"), g, m));
                }
            }
            errs.extend(path_segment_errors(&r.kind, "kind", &rp.child("kind")));
            errs.extend(path_segment_errors(&r.name, "name", &rp.child("name")));
        }
        (None, Some(s)) => {
            let sp = path.child("service");
            if s.name.is_empty() {
                errs.push(FieldError::required(&sp.child("name"), ""));
            } else {
                for m in is_dns1035_label(&s.name) {
                    errs.push(FieldError::invalid(&sp.child("name"), s.name.as_str(), m));
                }
            }
            let name = s
                .port
                .as_ref()
                .and_then(|p| p.name.as_deref())
                .unwrap_or("");
            let number = s.port.as_ref().and_then(|p| p.number).unwrap_or(0);
            let pp = sp.child("port");
            match (!name.is_empty(), number != 0) {
                (true, true) => errs.push(FieldError::invalid(
                    path,
                    "",
                    "cannot set both port name & port number",
                )),
                (true, false) => {
                    for m in is_valid_port_name(name) {
                        errs.push(FieldError::invalid(&pp.child("name"), name, m));
                    }
                }
                (false, true) => {
                    for m in is_valid_port_num(i64::from(number)) {
                        errs.push(FieldError::invalid(&pp.child("number"), number, m));
                    }
                }
                (false, false) => errs.push(FieldError::required(
                    path,
                    "port name or number is required",
                )),
            }
        }
        (None, None) => errs.push(FieldError::invalid(
            path,
            "",
            "resource or service backend is required",
        )),
    }
    errs
}

fn validate_http_ingress_path(p: &HTTPIngressPath, path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    let value = p.path.as_deref().unwrap_or("");
    let pp = path.child("path");
    match p.path_type.as_str() {
        "" => {
            errs.push(FieldError::required(
                &path.child("pathType"),
                "pathType must be specified",
            ));
            return errs;
        }
        "Exact" | "Prefix" => {
            if !value.starts_with('/') {
                errs.push(FieldError::invalid(&pp, value, "must be an absolute path"));
            }
            if !value.is_empty() {
                for seq in INVALID_PATH_SEQUENCES {
                    if value.contains(seq) {
                        errs.push(FieldError::invalid(
                            &pp,
                            value,
                            format!("must not contain '{seq}'"),
                        ));
                    }
                }
                for suffix in INVALID_PATH_SUFFIXES {
                    if value.ends_with(suffix) {
                        errs.push(FieldError::invalid(
                            &pp,
                            value,
                            format!("cannot end with '{suffix}'"),
                        ));
                    }
                }
            }
        }
        "ImplementationSpecific" => {
            if !value.is_empty() && !value.starts_with('/') {
                errs.push(FieldError::invalid(&pp, value, "must be an absolute path"));
            }
        }
        other => errs.push(FieldError::not_supported(
            &path.child("pathType"),
            other,
            &PATH_TYPES,
        )),
    }
    errs.extend(validate_ingress_backend(&p.backend, &path.child("backend")));
    errs
}

/// Upstream's `ValidateIngressSpec` (main rules) at `path`.
pub fn validate_ingress_spec(spec: &IngressSpec, path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    if spec.rules.is_empty() && spec.default_backend.is_none() {
        errs.push(FieldError::invalid(
            path,
            serde_json::Value::Array(Vec::new()),
            "either `defaultBackend` or `rules` must be specified",
        ));
    }
    if let Some(b) = &spec.default_backend {
        errs.extend(validate_ingress_backend(b, &path.child("defaultBackend")));
    }
    let rp = path.child("rules");
    for (i, rule) in spec.rules.iter().enumerate() {
        let ip = rp.index(i);
        if let Some(host) = rule.host.as_deref().filter(|h| !h.is_empty()) {
            if parse_ip_sloppy(host).is_some() {
                errs.push(FieldError::invalid(
                    &ip.child("host"),
                    host,
                    "must be a DNS name, not an IP address",
                ));
            }
            errs.extend(host_errors(host, &ip.child("host")));
        }
        if let Some(http) = &rule.http {
            let hp = ip.child("http").child("paths");
            if http.paths.is_empty() {
                errs.push(FieldError::required(&hp, ""));
            }
            for (j, p) in http.paths.iter().enumerate() {
                errs.extend(validate_http_ingress_path(p, &hp.index(j)));
            }
        }
    }
    let tp = path.child("tls");
    for (i, tls) in spec.tls.iter().enumerate() {
        for (j, host) in tls.hosts.iter().enumerate() {
            errs.extend(host_errors(host, &tp.index(i).child("hosts").index(j)));
        }
        if let Some(s) = tls.secret_name.as_deref().filter(|s| !s.is_empty()) {
            for m in is_dns1123_subdomain(s) {
                errs.push(FieldError::invalid(&tp.index(i).child("secretName"), s, m));
            }
        }
    }
    if let Some(c) = spec.ingress_class_name.as_deref() {
        for m in is_dns1123_subdomain(c) {
            errs.push(FieldError::invalid(&path.child("ingressClassName"), c, m));
        }
    }
    errs
}

impl Validate for Ingress {
    /// Metadata and [`validate_ingress_spec`].
    fn validate(&self) -> ErrorList {
        let mut errs = validate_resource_meta(self, name_is_dns_subdomain);
        let default = IngressSpec::default();
        errs.extend(validate_ingress_spec(
            self.spec.as_ref().unwrap_or(&default),
            &FieldPath::new("spec"),
        ));
        errs
    }
}

impl Validate for IngressClass {
    /// Metadata (cluster-scoped); `spec.controller` a domain-prefixed path of at most 250
    /// characters; parameters kind/name, scope `Cluster` (no namespace) or `Namespace` (with one).
    fn validate(&self) -> ErrorList {
        let mut errs = validate_resource_meta(self, name_is_dns_subdomain);
        let default = Default::default();
        let spec = self.spec.as_ref().unwrap_or(&default);
        let sp = FieldPath::new("spec");
        let controller = spec.controller.as_deref().unwrap_or("");
        let cp = sp.child("controller");
        if controller.len() > MAX_LEN_INGRESS_CLASS_CONTROLLER {
            errs.push(FieldError::too_long(&cp, MAX_LEN_INGRESS_CLASS_CONTROLLER));
        }
        errs.extend(is_domain_prefixed_path(&cp, controller));
        if let Some(p) = &spec.parameters {
            let pp = sp.child("parameters");
            if let Some(g) = p.api_group.as_deref() {
                for m in is_dns1123_subdomain(g) {
                    errs.push(FieldError::invalid(&pp.child("apiGroup"), g, m));
                }
            }
            errs.extend(path_segment_errors(&p.kind, "kind", &pp.child("kind")));
            errs.extend(path_segment_errors(&p.name, "name", &pp.child("name")));
            let ns = p.namespace.as_deref();
            match p.scope.as_deref() {
                None | Some("Cluster") => {
                    if ns.is_some() {
                        errs.push(FieldError::forbidden(
                            &pp.child("namespace"),
                            "`parameters.scope` is set to 'Cluster'",
                        ));
                    }
                }
                Some("Namespace") => match ns {
                    None | Some("") => errs.push(FieldError::required(
                        &pp.child("namespace"),
                        "`parameters.scope` is set to 'Namespace'",
                    )),
                    Some(n) => {
                        for m in super::names::is_dns1123_label(n) {
                            errs.push(FieldError::invalid(&pp.child("namespace"), n, m));
                        }
                    }
                },
                Some(other) => errs.push(FieldError::not_supported(
                    &pp.child("scope"),
                    other,
                    &["Cluster", "Namespace"],
                )),
            }
        }
        errs
    }
}

/// Upstream's `ValidateNetworkPolicyPort`.
pub fn validate_network_policy_port(port: &NetworkPolicyPort, path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    if let Some(p) = port.protocol.as_deref()
        && !SUPPORTED_PORT_PROTOCOLS.contains(&p)
    {
        errs.push(FieldError::not_supported(
            &path.child("protocol"),
            p,
            &["TCP", "UDP", "SCTP"],
        ));
    }
    let ep = path.child("endPort");
    match (&port.port, port.end_port) {
        (Some(IntOrString::Int(n)), end) => {
            for m in is_valid_port_num(i64::from(*n)) {
                errs.push(FieldError::invalid(&path.child("port"), *n, m));
            }
            if let Some(e) = end {
                if e < *n {
                    errs.push(FieldError::invalid(
                        &ep,
                        *n,
                        "must be greater than or equal to `port`",
                    ));
                }
                for m in is_valid_port_num(i64::from(e)) {
                    errs.push(FieldError::invalid(&ep, e, m));
                }
            }
        }
        (Some(IntOrString::String(s)), end) => {
            if let Some(e) = end {
                errs.push(FieldError::invalid(
                    &ep,
                    e,
                    "may not be specified when `port` is non-numeric",
                ));
            }
            for m in is_valid_port_name(s) {
                errs.push(FieldError::invalid(&path.child("port"), s.as_str(), m));
            }
        }
        (None, Some(e)) => errs.push(FieldError::invalid(
            &ep,
            e,
            "may not be specified when `port` is not specified",
        )),
        (None, None) => {}
    }
    errs
}

/// Upstream's `ValidateNetworkPolicyPeer`: at least one peer; `ipBlock` alone.
pub fn validate_network_policy_peer(peer: &NetworkPolicyPeer, path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut n = 0;
    if let Some(s) = &peer.pod_selector {
        n += 1;
        errs.extend(validate_label_selector(s, &path.child("podSelector")));
    }
    if let Some(s) = &peer.namespace_selector {
        n += 1;
        errs.extend(validate_label_selector(s, &path.child("namespaceSelector")));
    }
    if let Some(b) = &peer.ip_block {
        n += 1;
        let bp = path.child("ipBlock");
        if b.cidr.is_empty() {
            errs.push(FieldError::required(&bp.child("cidr"), ""));
        } else {
            errs.extend(validate_cidr(&b.cidr, &bp.child("cidr")));
            for (i, e) in b.except.iter().enumerate() {
                errs.extend(validate_cidr(e, &bp.child("except").index(i)));
            }
        }
    }
    if n == 0 {
        errs.push(FieldError::required(path, "must specify a peer"));
    } else if n > 1 && peer.ip_block.is_some() {
        errs.push(FieldError::forbidden(
            path,
            "may not specify both ipBlock and another peer",
        ));
    }
    errs
}

impl Validate for NetworkPolicy {
    /// Metadata; pod selector; each ingress/egress rule's ports and peers; `policyTypes` at
    /// most two of `Ingress`/`Egress`.
    fn validate(&self) -> ErrorList {
        let mut errs = validate_resource_meta(self, name_is_dns_subdomain);
        let default = Default::default();
        let spec = self.spec.as_ref().unwrap_or(&default);
        let sp = FieldPath::new("spec");
        errs.extend(validate_label_selector(
            &spec.pod_selector,
            &sp.child("podSelector"),
        ));
        for (i, rule) in spec.ingress.iter().enumerate() {
            let rp = sp.child("ingress").index(i);
            for (j, p) in rule.ports.iter().enumerate() {
                errs.extend(validate_network_policy_port(p, &rp.child("ports").index(j)));
            }
            for (j, p) in rule.from.iter().enumerate() {
                errs.extend(validate_network_policy_peer(p, &rp.child("from").index(j)));
            }
        }
        for (i, rule) in spec.egress.iter().enumerate() {
            let rp = sp.child("egress").index(i);
            for (j, p) in rule.ports.iter().enumerate() {
                errs.extend(validate_network_policy_port(p, &rp.child("ports").index(j)));
            }
            for (j, p) in rule.to.iter().enumerate() {
                errs.extend(validate_network_policy_peer(p, &rp.child("to").index(j)));
            }
        }
        let pp = sp.child("policyTypes");
        if spec.policy_types.len() > 2 {
            errs.push(FieldError::invalid(
                &pp,
                spec.policy_types.clone(),
                "may not specify more than two policyTypes",
            ));
            return errs;
        }
        for (i, t) in spec.policy_types.iter().enumerate() {
            if t != "Ingress" && t != "Egress" {
                errs.push(FieldError::not_supported(
                    &pp.index(i),
                    t.as_str(),
                    &["Ingress", "Egress"],
                ));
            }
        }
        errs
    }
}

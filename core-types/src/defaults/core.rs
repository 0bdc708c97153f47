//! Defaults of the core (`v1`) kinds: Pod, Service, PV, PVC, Namespace, Node, Secret, ….
//!
//! Upstream: `pkg/apis/core/v1/defaults.go` and the declarative defaults of `k8s.io/api/core/v1`.

use crate::api::core::v1::{
    Endpoints, LimitRange, Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod, Secret,
    Service,
};

use super::pod::{self, pod_only};
use super::{SetDefaults, default_str};

/// The label every named namespace carries with its own name.
const LABEL_METADATA_NAME: &str = "kubernetes.io/metadata.name";
/// `sessionAffinityConfig.clientIP.timeoutSeconds` default: three hours.
const DEFAULT_CLIENT_IP_TIMEOUT_SECONDS: i32 = 10800;

impl SetDefaults for Pod {
    fn set_defaults(&mut self) {
        let spec = self.spec.get_or_insert_with(Default::default);
        // SetDefaults_Pod runs before SetDefaults_PodSpec and the container defaulters.
        pod_only::spec(spec);
        pod::spec(spec);
    }
}

impl SetDefaults for Service {
    fn set_defaults(&mut self) {
        let spec = self.spec.get_or_insert_with(Default::default);
        default_str(&mut spec.session_affinity, "None");
        match spec.session_affinity.as_deref() {
            Some("None") => spec.session_affinity_config = None,
            Some("ClientIP") => {
                let config = spec
                    .session_affinity_config
                    .get_or_insert_with(Default::default);
                let client_ip = config.client_ip.get_or_insert_with(Default::default);
                client_ip
                    .timeout_seconds
                    .get_or_insert(DEFAULT_CLIENT_IP_TIMEOUT_SECONDS);
            }
            _ => {}
        }
        default_str(&mut spec.type_, "ClusterIP");
        for p in &mut spec.ports {
            default_str(&mut p.protocol, "TCP");
            let unset = match &p.target_port {
                None => true,
                Some(crate::IntOrString::Int(0)) => true,
                Some(crate::IntOrString::String(s)) => s.is_empty(),
                Some(crate::IntOrString::Int(_)) => false,
            };
            if unset {
                p.target_port = Some(crate::IntOrString::Int(p.port));
            }
        }
        let type_ = spec.type_.as_deref().unwrap_or("");
        let externally_accessible = matches!(type_, "LoadBalancer" | "NodePort")
            || (type_ == "ClusterIP" && !spec.external_ips.is_empty());
        if externally_accessible {
            default_str(&mut spec.external_traffic_policy, "Cluster");
        }
        if spec.internal_traffic_policy.is_none()
            && matches!(type_, "ClusterIP" | "NodePort" | "LoadBalancer")
        {
            spec.internal_traffic_policy = Some("Cluster".to_owned());
        }
        if type_ == "LoadBalancer" {
            spec.allocate_load_balancer_node_ports.get_or_insert(true);
            let ingress = self
                .status
                .as_mut()
                .and_then(|s| s.load_balancer.as_mut())
                .map(|lb| lb.ingress.iter_mut());
            for ing in ingress.into_iter().flatten() {
                if ing.ip.as_deref().is_some_and(|ip| !ip.is_empty()) && ing.ip_mode.is_none() {
                    ing.ip_mode = Some("VIP".to_owned());
                }
            }
        }
    }
}

impl SetDefaults for Endpoints {
    fn set_defaults(&mut self) {
        for subset in &mut self.subsets {
            for p in &mut subset.ports {
                default_str(&mut p.protocol, "TCP");
            }
        }
    }
}

impl SetDefaults for Secret {
    fn set_defaults(&mut self) {
        default_str(&mut self.type_, "Opaque");
    }
}

impl SetDefaults for Namespace {
    fn set_defaults(&mut self) {
        // Upstream sets this label unconditionally (it always mirrors the name).
        if let Some(name) = self.metadata.name.as_deref().filter(|n| !n.is_empty()) {
            let name = name.to_owned();
            self.metadata
                .labels
                .insert(LABEL_METADATA_NAME.to_owned(), name);
        }
        let status = self.status.get_or_insert_with(Default::default);
        default_str(&mut status.phase, "Active");
    }
}

impl SetDefaults for Node {
    fn set_defaults(&mut self) {
        if let Some(status) = &mut self.status
            && status.allocatable.is_empty()
            && !status.capacity.is_empty()
        {
            status.allocatable = status.capacity.clone();
        }
    }
}

impl SetDefaults for PersistentVolume {
    fn set_defaults(&mut self) {
        let status = self.status.get_or_insert_with(Default::default);
        default_str(&mut status.phase, "Pending");
        let spec = self.spec.get_or_insert_with(Default::default);
        default_str(&mut spec.persistent_volume_reclaim_policy, "Retain");
        if spec.volume_mode.is_none() {
            spec.volume_mode = Some("Filesystem".to_owned());
        }
        if let Some(h) = &mut spec.host_path
            && h.type_.is_none()
        {
            h.type_ = Some(String::new());
        }
        if let Some(i) = &mut spec.iscsi {
            default_str(&mut i.iscsi_interface, "default");
        }
        if let Some(r) = &mut spec.rbd {
            default_str(&mut r.pool, "rbd");
            default_str(&mut r.user, "admin");
            default_str(&mut r.keyring, "/etc/ceph/keyring");
        }
        if let Some(a) = &mut spec.azure_disk {
            pod::azure_disk(a);
        }
        if let Some(s) = &mut spec.scale_io {
            default_str(&mut s.storage_mode, "ThinProvisioned");
            default_str(&mut s.fs_type, "xfs");
        }
    }
}

impl SetDefaults for PersistentVolumeClaim {
    fn set_defaults(&mut self) {
        let status = self.status.get_or_insert_with(Default::default);
        default_str(&mut status.phase, "Pending");
        pod::claim_spec(self.spec.get_or_insert_with(Default::default));
    }
}

impl SetDefaults for LimitRange {
    fn set_defaults(&mut self) {
        let Some(spec) = &mut self.spec else {
            return;
        };
        for item in &mut spec.limits {
            if item.type_ != "Container" {
                continue;
            }
            for (name, max) in &item.max {
                if !item.default.contains_key(name) {
                    item.default.insert(name.clone(), *max);
                }
            }
            for (name, limit) in &item.default {
                if !item.default_request.contains_key(name) {
                    item.default_request.insert(name.clone(), *limit);
                }
            }
            for (name, min) in &item.min {
                if !item.default_request.contains_key(name) {
                    item.default_request.insert(name.clone(), *min);
                }
            }
        }
    }
}

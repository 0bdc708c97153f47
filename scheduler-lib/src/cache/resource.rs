//! `Resource`: cpu (millicores), memory, ephemeral storage, pod count and scalar resources as
//! plain integers — what a node offers and what pods request — and upstream's effective pod
//! request rules (init containers, sidecars, overhead).

use std::collections::BTreeMap;

use kybern_core::Quantity;
use kybern_core::api::core::v1::{Container, Pod};

/// `cpu`.
pub const CPU: &str = "cpu";
/// `memory`.
pub const MEMORY: &str = "memory";
/// `ephemeral-storage`.
pub const EPHEMERAL_STORAGE: &str = "ephemeral-storage";
/// `pods`.
pub const PODS: &str = "pods";

/// The cpu request a container without one counts as when scoring (upstream's
/// `DefaultMilliCPURequest`, 100m).
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// The memory request a container without one counts as when scoring (upstream's
/// `DefaultMemoryRequest`, 200 MiB).
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// Resource amounts in base units: cpu in millicores, the rest in units (bytes, pods).
///
/// The four fixed resources sit first and contiguous: a fit check reads 32 bytes of each of
/// a node's allocatable and requested amounts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resource {
    /// Millicores.
    pub milli_cpu: i64,
    /// Bytes.
    pub memory: i64,
    /// Bytes.
    pub ephemeral_storage: i64,
    /// Pods (only meaningful for a node's allocatable).
    pub allowed_pod_number: i64,
    /// Scalar resources (extended resources, hugepages, attachable volumes), sorted by name.
    pub scalar: Vec<(String, i64)>,
}

impl Resource {
    /// From a resource list (a node's `allocatable`, a container's `requests`).
    pub fn from_list(list: &BTreeMap<String, Quantity>) -> Resource {
        let mut r = Resource::default();
        for (name, q) in list {
            r.add_named(name, q);
        }
        r
    }

    /// Adds one named quantity.
    pub fn add_named(&mut self, name: &str, q: &Quantity) {
        match name {
            CPU => self.milli_cpu = self.milli_cpu.saturating_add(q.milli_value()),
            MEMORY => self.memory = self.memory.saturating_add(q.value()),
            EPHEMERAL_STORAGE => {
                self.ephemeral_storage = self.ephemeral_storage.saturating_add(q.value())
            }
            PODS => self.allowed_pod_number = self.allowed_pod_number.saturating_add(q.value()),
            other if is_scalar_resource_name(other) => self.add_scalar(other, q.value()),
            _ => {}
        }
    }

    /// The amount of a scalar resource (0 when absent).
    pub fn scalar(&self, name: &str) -> i64 {
        self.scalar
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .map(|i| self.scalar[i].1)
            .unwrap_or(0)
    }

    /// Adds to a scalar resource.
    pub fn add_scalar(&mut self, name: &str, v: i64) {
        match self.scalar.binary_search_by(|(n, _)| n.as_str().cmp(name)) {
            Ok(i) => self.scalar[i].1 = self.scalar[i].1.saturating_add(v),
            Err(i) => self.scalar.insert(i, (name.to_owned(), v)),
        }
    }

    /// The amount of any resource by name (cpu in millicores).
    pub fn get(&self, name: &str) -> i64 {
        match name {
            CPU => self.milli_cpu,
            MEMORY => self.memory,
            EPHEMERAL_STORAGE => self.ephemeral_storage,
            PODS => self.allowed_pod_number,
            other => self.scalar(other),
        }
    }

    /// `self += other` (every resource).
    pub fn add(&mut self, other: &Resource) {
        self.milli_cpu = self.milli_cpu.saturating_add(other.milli_cpu);
        self.memory = self.memory.saturating_add(other.memory);
        self.ephemeral_storage = self
            .ephemeral_storage
            .saturating_add(other.ephemeral_storage);
        self.allowed_pod_number = self
            .allowed_pod_number
            .saturating_add(other.allowed_pod_number);
        for (n, v) in &other.scalar {
            self.add_scalar(n, *v);
        }
    }

    /// `self -= other` (every resource).
    pub fn sub(&mut self, other: &Resource) {
        self.milli_cpu = self.milli_cpu.saturating_sub(other.milli_cpu);
        self.memory = self.memory.saturating_sub(other.memory);
        self.ephemeral_storage = self
            .ephemeral_storage
            .saturating_sub(other.ephemeral_storage);
        self.allowed_pod_number = self
            .allowed_pod_number
            .saturating_sub(other.allowed_pod_number);
        for (n, v) in &other.scalar {
            self.add_scalar(n, v.saturating_neg());
        }
    }

    /// `self = max(self, other)` per resource.
    pub fn max_with(&mut self, other: &Resource) {
        self.milli_cpu = self.milli_cpu.max(other.milli_cpu);
        self.memory = self.memory.max(other.memory);
        self.ephemeral_storage = self.ephemeral_storage.max(other.ephemeral_storage);
        self.allowed_pod_number = self.allowed_pod_number.max(other.allowed_pod_number);
        for (n, v) in &other.scalar {
            let cur = self.scalar(n);
            if *v > cur {
                self.add_scalar(n, v - cur);
            }
        }
    }

    /// Whether nothing is requested.
    pub fn is_zero(&self) -> bool {
        self.milli_cpu == 0
            && self.memory == 0
            && self.ephemeral_storage == 0
            && self.scalar.iter().all(|(_, v)| *v == 0)
    }
}

/// Upstream's `IsScalarResourceName`: extended resources (a domain-prefixed name outside
/// `kubernetes.io/` except `requests.`-style quota names), `hugepages-*`, `attachable-volumes-*`
/// and `kubernetes.io/*` names the device plugins use.
pub fn is_scalar_resource_name(name: &str) -> bool {
    is_extended_resource_name(name)
        || name.starts_with("hugepages-")
        || name.starts_with("attachable-volumes-")
        || is_prefixed_native_resource(name)
}

/// Upstream's `IsPrefixedNativeResource`: a name containing `kubernetes.io/`.
pub fn is_prefixed_native_resource(name: &str) -> bool {
    name.contains("kubernetes.io/")
}

/// Upstream's `IsExtendedResourceName`: not native (no `kubernetes.io/` domain), has a
/// domain prefix, and does not start with `requests.`.
pub fn is_extended_resource_name(name: &str) -> bool {
    if is_native_resource(name) || name.starts_with("requests.") {
        return false;
    }
    name.contains('/')
}

/// Upstream's `IsNativeResource`: no domain, or in `kubernetes.io/`.
fn is_native_resource(name: &str) -> bool {
    !name.contains('/') || is_prefixed_native_resource(name)
}

/// Options of [`pod_requests`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestOptions {
    /// Leave `spec.overhead` out.
    pub exclude_overhead: bool,
    /// Count a container without a cpu/memory request as 100m / 200 MiB (scoring's
    /// "non-zero" requests).
    pub non_missing_defaults: bool,
}

fn container_requests(c: &Container, opts: RequestOptions) -> Resource {
    let mut r = match c.resources.as_ref() {
        Some(res) => Resource::from_list(&res.requests),
        None => Resource::default(),
    };
    if opts.non_missing_defaults {
        let has = |n: &str| {
            c.resources
                .as_ref()
                .is_some_and(|res| res.requests.contains_key(n))
        };
        if !has(CPU) {
            r.milli_cpu = DEFAULT_MILLI_CPU_REQUEST;
        }
        if !has(MEMORY) {
            r.memory = DEFAULT_MEMORY_REQUEST;
        }
    }
    r
}

/// Upstream's `PodRequests`: the sum of the containers' requests, at least the largest init
/// container's (plus the restartable "sidecar" init containers started before it), with
/// sidecars added to the sum, plus the pod overhead unless excluded.
pub fn pod_requests(pod: &Pod, opts: RequestOptions) -> Resource {
    let Some(spec) = pod.spec.as_ref() else {
        return Resource::default();
    };
    let mut reqs = Resource::default();
    for c in &spec.containers {
        reqs.add(&container_requests(c, opts));
    }
    let mut restartable = Resource::default();
    let mut init_max = Resource::default();
    for c in &spec.init_containers {
        let own = container_requests(c, opts);
        let effective = if c.restart_policy.as_deref() == Some("Always") {
            reqs.add(&own);
            restartable.add(&own);
            restartable.clone()
        } else {
            let mut tmp = own;
            tmp.add(&restartable);
            tmp
        };
        init_max.max_with(&effective);
    }
    reqs.max_with(&init_max);
    if !opts.exclude_overhead {
        reqs.add(&Resource::from_list(&spec.overhead));
    }
    reqs
}

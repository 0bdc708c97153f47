//! Service resolution: "where does a connection to this service port go", computed from the
//! Service and its EndpointSlices the way kube-proxy does, with pluggable [`Picker`]s,
//! ClientIP session affinity and the internal/external traffic policies.
//!
//! Endpoint eligibility (kube-proxy's `CategorizeEndpoints`):
//! - only `ready` endpoints; when none is ready, endpoints that are `serving` and
//!   `terminating` are used instead (graceful termination);
//! - `Cluster` policy: every eligible endpoint, narrowed to those hinted for this node's zone
//!   when every endpoint carries zone hints and at least one is for this zone;
//! - `Local` policy: only endpoints on this node; none means the traffic is dropped.

pub mod affinity;
pub mod picker;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kybern_core::api::core::v1::Service;
use kybern_core::api::discovery::v1::EndpointSlice;

pub use affinity::AffinityTable;
pub use picker::{Backend, Picker, PickerKind};

use crate::ports::service_port_protocol;

/// Where a connection comes from, which decides the traffic policy that applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrafficSource {
    /// From inside the cluster to the cluster IP (`internalTrafficPolicy`).
    Internal,
    /// From outside, through a node port or load balancer (`externalTrafficPolicy`).
    External,
}

/// The node this resolver runs on.
#[derive(Clone, Debug, Default)]
pub struct NodeContext {
    /// Node name (for `Local` traffic policies).
    pub node_name: Option<String>,
    /// Node zone (for zone hints).
    pub zone: Option<String>,
}

/// Why no backend could be chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// The Service has no such port.
    #[error("service {service} has no port {port}/{protocol}")]
    NoSuchPort {
        /// `namespace/name`.
        service: String,
        /// The port asked for.
        port: i32,
        /// Its protocol.
        protocol: String,
    },
    /// No eligible endpoint (kube-proxy would reject the connection).
    #[error("service {service} port {port} has no endpoints{detail}")]
    NoEndpoints {
        /// `namespace/name`.
        service: String,
        /// The port.
        port: i32,
        /// Extra context, e.g. " on this node" for Local policies.
        detail: String,
    },
}

/// The backends for one service port, split by traffic source.
#[derive(Debug, Default)]
struct PortBackends {
    internal: Vec<Arc<Backend>>,
    external: Vec<Arc<Backend>>,
}

/// A connection's chosen backend; holding it counts as an open connection for
/// least-connections (drop it when the connection closes).
#[derive(Debug)]
pub struct Pick {
    /// Where to connect.
    pub addr: SocketAddr,
    counter: Arc<AtomicUsize>,
}

impl Drop for Pick {
    fn drop(&mut self) {
        self.counter.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A snapshot of a Service's routing, rebuilt when the Service or its slices change.
#[derive(Debug)]
pub struct ServiceResolver {
    key: String,
    ports: Vec<((i32, String), PortBackends)>,
    picker: Arc<dyn Picker>,
    affinity: Option<Arc<AffinityTable>>,
}

/// One endpoint as read from a slice.
struct Candidate {
    ip: IpAddr,
    port: i32,
    ready: bool,
    serving: bool,
    terminating: bool,
    node: Option<String>,
    zone: Option<String>,
    hint_zones: Option<Vec<String>>,
}

impl ServiceResolver {
    /// Builds the routing of `service` from its `slices`, for a node. `previous` (the resolver
    /// this one replaces) carries over connection counts and the affinity table.
    pub fn build(
        service: &Service,
        slices: &[EndpointSlice],
        node: &NodeContext,
        picker: Arc<dyn Picker>,
        previous: Option<&ServiceResolver>,
    ) -> Self {
        let key = format!(
            "{}/{}",
            service.metadata.namespace.as_deref().unwrap_or("default"),
            service.metadata.name.as_deref().unwrap_or("")
        );
        let spec = service.spec.clone().unwrap_or_default();
        let counters: HashMap<SocketAddr, Arc<AtomicUsize>> = previous
            .map(|p| {
                p.ports
                    .iter()
                    .map(|(_, b)| b)
                    .flat_map(|b| b.internal.iter().chain(&b.external))
                    .map(|b| (b.addr, b.active.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let affinity = (spec.session_affinity.as_deref() == Some("ClientIP")).then(|| {
            let timeout = spec
                .session_affinity_config
                .as_ref()
                .and_then(|c| c.client_ip.as_ref())
                .and_then(|c| c.timeout_seconds)
                .map(|s| Duration::from_secs(u64::try_from(s).unwrap_or(0)))
                .unwrap_or(affinity::DEFAULT_TIMEOUT);
            match previous.and_then(|p| p.affinity.clone()) {
                Some(t) if t.timeout() == timeout => t,
                _ => Arc::new(AffinityTable::new(timeout)),
            }
        });
        let internal_local = spec.internal_traffic_policy.as_deref() == Some("Local");
        let external_local = spec.external_traffic_policy.as_deref() == Some("Local");
        let mut ports = Vec::new();
        for sp in &spec.ports {
            let protocol = service_port_protocol(sp).to_owned();
            let name = sp.name.clone().unwrap_or_default();
            let mut cands = Vec::new();
            for slice in slices {
                let Some(ep_port) = slice.ports.iter().find(|p| {
                    p.name.clone().unwrap_or_default() == name
                        && p.protocol.as_deref().unwrap_or("TCP") == protocol
                }) else {
                    continue;
                };
                let Some(port) = ep_port.port else { continue };
                for ep in &slice.endpoints {
                    let c = ep.conditions.clone().unwrap_or_default();
                    let Some(ip) = ep.addresses.first().and_then(|a| a.parse::<IpAddr>().ok())
                    else {
                        continue;
                    };
                    let ready = c.ready.unwrap_or(true);
                    cands.push(Candidate {
                        ip,
                        port,
                        ready,
                        serving: c.serving.unwrap_or(ready),
                        terminating: c.terminating.unwrap_or(false),
                        node: ep.node_name.clone(),
                        zone: ep.zone.clone(),
                        hint_zones: ep
                            .hints
                            .as_ref()
                            .map(|h| h.for_zones.iter().map(|z| z.name.clone()).collect()),
                    });
                }
            }
            let to_backend = |c: &Candidate| {
                let addr = SocketAddr::new(c.ip, u16::try_from(c.port).unwrap_or(0));
                Arc::new(Backend {
                    addr,
                    node_name: c.node.clone(),
                    zone: c.zone.clone(),
                    active: counters.get(&addr).cloned().unwrap_or_default(),
                })
            };
            let cluster = eligible(&cands, node, false);
            let local = eligible(&cands, node, true);
            let cluster: Vec<Arc<Backend>> = cluster.iter().map(|c| to_backend(c)).collect();
            let local: Vec<Arc<Backend>> = local.iter().map(|c| to_backend(c)).collect();
            let entry = PortBackends {
                internal: if internal_local {
                    local.clone()
                } else {
                    cluster.clone()
                },
                external: if external_local { local } else { cluster },
            };
            ports.push(((sp.port, protocol), entry));
        }
        Self {
            key,
            ports,
            picker,
            affinity,
        }
    }

    /// The eligible backends of a service port for a traffic source.
    pub fn backends(&self, port: i32, protocol: &str, source: TrafficSource) -> &[Arc<Backend>] {
        self.port(port, protocol)
            .map(|b| match source {
                TrafficSource::Internal => b.internal.as_slice(),
                TrafficSource::External => b.external.as_slice(),
            })
            .unwrap_or(&[])
    }

    /// Chooses the backend for a new connection to service port `port`/`protocol`.
    ///
    /// # Errors
    /// [`ResolveError::NoSuchPort`], or [`ResolveError::NoEndpoints`] when nothing is eligible.
    pub fn resolve(
        &self,
        port: i32,
        protocol: &str,
        source: TrafficSource,
        client: Option<IpAddr>,
    ) -> Result<Pick, ResolveError> {
        self.resolve_excluding(port, protocol, source, client, &[])
    }

    /// As [`ServiceResolver::resolve`], skipping backends in `exclude` (e.g. ones that just
    /// refused a connection).
    ///
    /// # Errors
    /// As [`ServiceResolver::resolve`].
    pub fn resolve_excluding(
        &self,
        port: i32,
        protocol: &str,
        source: TrafficSource,
        client: Option<IpAddr>,
        exclude: &[SocketAddr],
    ) -> Result<Pick, ResolveError> {
        let entry = self
            .port(port, protocol)
            .ok_or_else(|| ResolveError::NoSuchPort {
                service: self.key.clone(),
                port,
                protocol: protocol.to_owned(),
            })?;
        let all = match source {
            TrafficSource::Internal => &entry.internal,
            TrafficSource::External => &entry.external,
        };
        let filtered: Vec<Arc<Backend>>;
        let backends: &[Arc<Backend>] = if exclude.is_empty() {
            all
        } else {
            filtered = all
                .iter()
                .filter(|b| !exclude.contains(&b.addr))
                .cloned()
                .collect();
            &filtered
        };
        if backends.is_empty() {
            return Err(ResolveError::NoEndpoints {
                service: self.key.clone(),
                port,
                detail: String::new(),
            });
        }
        let now = Instant::now();
        let chosen = match (&self.affinity, client) {
            (Some(table), Some(ip)) => {
                let remembered = table
                    .lookup(ip, now)
                    .and_then(|addr| backends.iter().find(|b| b.addr == addr));
                match remembered {
                    Some(b) => b.clone(),
                    None => {
                        let b = backends[self.picker.pick(backends, client)].clone();
                        table.record(ip, b.addr, now);
                        b
                    }
                }
            }
            _ => backends[self.picker.pick(backends, client)].clone(),
        };
        chosen.active.fetch_add(1, Ordering::Relaxed);
        Ok(Pick {
            addr: chosen.addr,
            counter: chosen.active.clone(),
        })
    }

    fn port(&self, port: i32, protocol: &str) -> Option<&PortBackends> {
        self.ports
            .iter()
            .find(|((p, proto), _)| *p == port && proto == protocol)
            .map(|(_, b)| b)
    }

    /// The picker in use.
    pub fn picker(&self) -> &Arc<dyn Picker> {
        &self.picker
    }
}

/// kube-proxy's endpoint selection for one policy (see the module docs).
fn eligible<'a>(cands: &'a [Candidate], node: &NodeContext, local: bool) -> Vec<&'a Candidate> {
    let scoped: Vec<&Candidate> = cands
        .iter()
        .filter(|c| !local || (c.node.is_some() && c.node == node.node_name))
        .collect();
    let ready: Vec<&Candidate> = scoped.iter().copied().filter(|c| c.ready).collect();
    let mut chosen = if ready.is_empty() {
        scoped
            .iter()
            .copied()
            .filter(|c| c.serving && c.terminating)
            .collect()
    } else {
        ready
    };
    if !local
        && let Some(zone) = node.zone.as_deref()
        && !chosen.is_empty()
        && chosen.iter().all(|c| c.hint_zones.is_some())
    {
        let in_zone: Vec<&Candidate> = chosen
            .iter()
            .copied()
            .filter(|c| {
                c.hint_zones
                    .as_ref()
                    .is_some_and(|z| z.iter().any(|z| z == zone))
            })
            .collect();
        if !in_zone.is_empty() {
            chosen = in_zone;
        }
    }
    chosen
}

//! Service types (ClusterIP, headless, NodePort, LoadBalancer, ExternalName), the
//! `LoadBalancerProvider` seam, and [`sync_load_balancer`], which writes the provider's
//! ingress points to `status.loadBalancer` through the store's status update (upstream's
//! service controller in the cloud-controller-manager).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::Mutex;

use kybern_core::api::core::v1::{LoadBalancerIngress, LoadBalancerStatus, Service};
use kybern_reconciler::{Api, StoreError};

/// `spec.clusterIP` value marking a headless Service.
pub const CLUSTER_IP_NONE: &str = "None";

/// What kind of Service this is, headless folded in as its own kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceKind {
    /// `type: ClusterIP` (the default) with a virtual IP.
    ClusterIp,
    /// `type: ClusterIP` with `clusterIP: None`: DNS answers with the endpoints themselves.
    Headless,
    /// `type: NodePort`: a cluster IP plus a port on every node.
    NodePort,
    /// `type: LoadBalancer`: a NodePort Service plus an external load balancer.
    LoadBalancer,
    /// `type: ExternalName`: a DNS alias (CNAME), no proxying.
    ExternalName,
}

/// An unknown `spec.type`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "spec.type: Unsupported value: {0:?}: supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""
)]
pub struct UnknownServiceType(pub String);

impl ServiceKind {
    /// Classifies a Service (`type` unset means ClusterIP).
    ///
    /// # Errors
    /// [`UnknownServiceType`] for a `spec.type` upstream does not know.
    pub fn of(service: &Service) -> Result<Self, UnknownServiceType> {
        let spec = service.spec.as_ref();
        let ty = spec.and_then(|s| s.type_.as_deref()).unwrap_or("ClusterIP");
        Ok(match ty {
            "ClusterIP" => {
                if spec.and_then(|s| s.cluster_ip.as_deref()) == Some(CLUSTER_IP_NONE) {
                    ServiceKind::Headless
                } else {
                    ServiceKind::ClusterIp
                }
            }
            "NodePort" => ServiceKind::NodePort,
            "LoadBalancer" => ServiceKind::LoadBalancer,
            "ExternalName" => ServiceKind::ExternalName,
            other => return Err(UnknownServiceType(other.to_owned())),
        })
    }

    /// Whether the Service gets a virtual cluster IP.
    pub fn has_cluster_ip(self) -> bool {
        matches!(
            self,
            ServiceKind::ClusterIp | ServiceKind::NodePort | ServiceKind::LoadBalancer
        )
    }

    /// Whether the Service gets node ports (LoadBalancer: unless
    /// `allocateLoadBalancerNodePorts: false`, checked by the allocator).
    pub fn has_node_ports(self) -> bool {
        matches!(self, ServiceKind::NodePort | ServiceKind::LoadBalancer)
    }
}

/// Why a load balancer could not be provisioned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadBalancerError {
    /// The provider has no address left.
    #[error("load balancer provider {provider}: no address left for {service}")]
    Exhausted {
        /// Provider name.
        provider: String,
        /// `namespace/name` of the Service.
        service: String,
    },
}

/// Provisions external load balancers for `type: LoadBalancer` Services (the cloud provider's
/// `LoadBalancer` interface, reduced to what a library needs).
pub trait LoadBalancerProvider: Send + Sync {
    /// Ensures a load balancer exists for `service` and returns its status.
    ///
    /// # Errors
    /// When no load balancer can be provided.
    fn ensure(&self, service: &Service) -> Result<LoadBalancerStatus, LoadBalancerError>;
    /// Releases the Service's load balancer (idempotent).
    fn release(&self, service: &Service);
}

/// A provider for tests and examples: hands out `127.0.0.2`, `127.0.0.3`, … (loopback only),
/// one per Service, stable for a Service until released.
#[derive(Debug, Default)]
pub struct LoopbackLoadBalancer {
    assigned: Mutex<BTreeMap<String, Ipv4Addr>>,
}

impl LoopbackLoadBalancer {
    /// A new provider with nothing assigned.
    pub fn new() -> Self {
        Self::default()
    }
}

fn key(service: &Service) -> String {
    format!(
        "{}/{}",
        service.metadata.namespace.as_deref().unwrap_or("default"),
        service.metadata.name.as_deref().unwrap_or("")
    )
}

impl LoadBalancerProvider for LoopbackLoadBalancer {
    fn ensure(&self, service: &Service) -> Result<LoadBalancerStatus, LoadBalancerError> {
        let k = key(service);
        let mut assigned = self.assigned.lock().unwrap_or_else(|e| e.into_inner());
        let ip = match assigned.get(&k) {
            Some(ip) => *ip,
            None => {
                let ip = (2u32..=254)
                    .map(|n| Ipv4Addr::new(127, 0, 0, n as u8))
                    .find(|ip| !assigned.values().any(|a| a == ip))
                    .ok_or_else(|| LoadBalancerError::Exhausted {
                        provider: "loopback".into(),
                        service: k.clone(),
                    })?;
                assigned.insert(k, ip);
                ip
            }
        };
        Ok(LoadBalancerStatus {
            ingress: vec![LoadBalancerIngress {
                ip: Some(ip.to_string()),
                ip_mode: Some("VIP".into()),
                ..LoadBalancerIngress::default()
            }],
        })
    }

    fn release(&self, service: &Service) {
        let mut assigned = self.assigned.lock().unwrap_or_else(|e| e.into_inner());
        assigned.remove(&key(service));
    }
}

/// Why [`sync_load_balancer`] failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadBalancerSyncError {
    /// The provider could not provision the load balancer.
    #[error(transparent)]
    Provider(#[from] LoadBalancerError),
    /// Writing the status failed (a Conflict means the Service changed: sync again).
    #[error("writing status.loadBalancer: {0}")]
    Store(#[from] StoreError),
    /// The Service's `spec.type` is unknown.
    #[error(transparent)]
    Type(#[from] UnknownServiceType),
}

/// Brings `status.loadBalancer` of `service` in line with `provider`: a `LoadBalancer`
/// Service gets the provider's ingress points; any other Service has its load balancer
/// released and the status cleared. Writes (through `api.update_status`) only when the status
/// differs; returns the Service as stored afterwards.
///
/// # Errors
/// [`LoadBalancerSyncError`]: the provider failed, the status write failed, or the type is
/// unknown.
pub async fn sync_load_balancer(
    api: &Api<Service>,
    provider: &dyn LoadBalancerProvider,
    service: &Service,
) -> Result<Service, LoadBalancerSyncError> {
    let want = if ServiceKind::of(service)? == ServiceKind::LoadBalancer {
        Some(provider.ensure(service)?)
    } else {
        provider.release(service);
        None
    };
    let have = service
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.clone())
        .filter(|lb| !lb.ingress.is_empty());
    if have == want {
        return Ok(service.clone());
    }
    let mut updated = service.clone();
    updated
        .status
        .get_or_insert_with(Default::default)
        .load_balancer = want;
    tracing::info!(
        service = service.metadata.name.as_deref().unwrap_or(""),
        namespace = service.metadata.namespace.as_deref().unwrap_or(""),
        "writing status.loadBalancer"
    );
    Ok(api.update_status(&updated).await?)
}

//! Allocation for whole Services: dual-stack family defaulting, cluster IPs, node ports and
//! health-check node ports, release on delete, and rebuilding the state from stored Services.

use std::collections::BTreeMap;
use std::net::IpAddr;

use kybern_core::api::core::v1::Service;

use super::cidr::{Cidr, IpFamily};
use super::ip_range::{IpAllocError, IpRange};
use super::port_range::{PortAllocError, PortAllocator, PortRange};
use crate::service_type::{CLUSTER_IP_NONE, ServiceKind, UnknownServiceType};

/// `ipFamilyPolicy` values.
pub mod policy {
    /// One family.
    pub const SINGLE_STACK: &str = "SingleStack";
    /// Two families when the cluster has two, else one.
    pub const PREFER_DUAL_STACK: &str = "PreferDualStack";
    /// Two families or fail.
    pub const REQUIRE_DUAL_STACK: &str = "RequireDualStack";
}

/// How the allocator is configured: the service CIDRs (primary first, at most one per
/// family) and the NodePort range.
#[derive(Clone, Debug)]
pub struct AllocatorConfig {
    /// Service CIDRs, `--service-cluster-ip-range` (one, or two of different families).
    pub service_cidrs: Vec<Cidr>,
    /// `--service-node-port-range`.
    pub node_ports: PortRange,
}

/// The configuration could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// No CIDR, more than two, or two of the same family.
    #[error("service CIDRs must be one CIDR or two of different IP families, got [{0}]")]
    Cidrs(String),
}

/// Why a Service could not be allocated for; messages follow upstream's REST layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllocError {
    /// An explicit cluster IP was refused.
    #[error(
        "spec.clusterIPs[{index}]: Invalid value: \"{ip}\": failed to allocate IP {ip}: {source}"
    )]
    ClusterIp {
        /// Index in `clusterIPs`.
        index: usize,
        /// The requested value.
        ip: String,
        /// The range's refusal.
        source: IpAllocError,
    },
    /// A requested cluster IP is not an address.
    #[error(
        "spec.clusterIPs[{index}]: Invalid value: \"{ip}\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
    )]
    BadIp {
        /// Index in `clusterIPs`.
        index: usize,
        /// The requested value.
        ip: String,
    },
    /// No cluster IP left.
    #[error("Internal error occurred: failed to allocate a serviceIP: {0}")]
    ClusterIpFull(IpAllocError),
    /// An explicit node port was refused.
    #[error("spec.ports[{index}].nodePort: Invalid value: {port}: {source}")]
    NodePort {
        /// Index in `ports`.
        index: usize,
        /// The requested port.
        port: i32,
        /// The allocator's refusal.
        source: PortAllocError,
    },
    /// An explicit health-check node port was refused.
    #[error("spec.healthCheckNodePort: Invalid value: {port}: {source}")]
    HealthCheckNodePort {
        /// The requested port.
        port: i32,
        /// The allocator's refusal.
        source: PortAllocError,
    },
    /// No node port left.
    #[error("Internal error occurred: failed to allocate a nodePort: {0}")]
    NodePortFull(PortAllocError),
    /// RequireDualStack on a single-stack cluster.
    #[error(
        "spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": this cluster is not configured for dual-stack services"
    )]
    NotDualStack,
    /// A family the cluster has no CIDR for.
    #[error(
        "spec.ipFamilies[{index}]: Invalid value: \"{family}\": not configured on this cluster"
    )]
    FamilyNotConfigured {
        /// Index in `ipFamilies`.
        index: usize,
        /// The family.
        family: String,
    },
    /// An `ipFamilies` value that is neither `IPv4` nor `IPv6`.
    #[error(
        "spec.ipFamilies[{index}]: Unsupported value: \"{family}\": supported values: \"IPv4\", \"IPv6\""
    )]
    BadFamily {
        /// Index in `ipFamilies`.
        index: usize,
        /// The value.
        family: String,
    },
    /// Unknown `spec.type`.
    #[error(transparent)]
    Type(#[from] UnknownServiceType),
}

/// One conflict found while rebuilding the allocation state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RebuildProblem {
    /// A cluster IP held by two Services (upstream's repair loop: "Cluster IP … was assigned
    /// to multiple services; please recreate service").
    DuplicateIp {
        /// The address.
        ip: IpAddr,
        /// `namespace/name` of the Service that kept it (the first seen).
        kept_by: String,
        /// `namespace/name` of the Service that also claims it.
        service: String,
    },
    /// A cluster IP outside every configured CIDR.
    IpOutOfRange {
        /// The address.
        ip: String,
        /// `namespace/name`.
        service: String,
    },
    /// A node port held by two Services.
    DuplicateNodePort {
        /// The port.
        port: i32,
        /// `namespace/name` of the Service that kept it.
        kept_by: String,
        /// `namespace/name` of the Service that also claims it.
        service: String,
    },
    /// A node port outside the range.
    NodePortOutOfRange {
        /// The port.
        port: i32,
        /// `namespace/name`.
        service: String,
    },
}

/// Cluster IP and node port allocation state for a cluster.
#[derive(Clone, Debug)]
pub struct ServiceAllocator {
    ranges: Vec<IpRange>,
    ports: PortAllocator,
    ip_owner: BTreeMap<IpAddr, String>,
    port_owner: BTreeMap<i32, String>,
}

fn service_key(service: &Service) -> String {
    format!(
        "{}/{}",
        service.metadata.namespace.as_deref().unwrap_or("default"),
        service.metadata.name.as_deref().unwrap_or("")
    )
}

/// What one `allocate` call took, to undo it when a later step fails.
#[derive(Default)]
struct Taken {
    ips: Vec<IpAddr>,
    ports: Vec<i32>,
}

impl ServiceAllocator {
    /// An empty allocator.
    ///
    /// # Errors
    /// [`ConfigError::Cidrs`] unless one CIDR or two of different families.
    pub fn new(config: &AllocatorConfig) -> Result<Self, ConfigError> {
        let c = &config.service_cidrs;
        let ok = match c.len() {
            1 => true,
            2 => c[0].family() != c[1].family(),
            _ => false,
        };
        if !ok {
            let list: Vec<String> = c.iter().map(ToString::to_string).collect();
            return Err(ConfigError::Cidrs(list.join(", ")));
        }
        Ok(Self {
            ranges: c.iter().map(|c| IpRange::new(*c)).collect(),
            ports: PortAllocator::new(config.node_ports),
            ip_owner: BTreeMap::new(),
            port_owner: BTreeMap::new(),
        })
    }

    /// The primary family (the first CIDR's).
    pub fn primary_family(&self) -> IpFamily {
        self.ranges[0].family()
    }

    /// Whether the cluster is dual-stack.
    pub fn is_dual_stack(&self) -> bool {
        self.ranges.len() == 2
    }

    /// The cluster IP range of a family.
    pub fn range(&self, family: IpFamily) -> Option<&IpRange> {
        self.ranges.iter().find(|r| r.family() == family)
    }

    fn range_mut(&mut self, family: IpFamily) -> Option<&mut IpRange> {
        self.ranges.iter_mut().find(|r| r.family() == family)
    }

    /// The node port allocator.
    pub fn node_ports(&self) -> &PortAllocator {
        &self.ports
    }

    /// Number of cluster IPs in use (all families).
    pub fn ips_in_use(&self) -> usize {
        self.ranges.iter().map(IpRange::used).sum()
    }

    /// Defaults a new Service's dual-stack fields and allocates its cluster IPs, node ports and
    /// health-check node port, writing them into `service.spec`. All or nothing: on error
    /// nothing stays allocated.
    ///
    /// # Errors
    /// See [`AllocError`].
    pub fn allocate(&mut self, service: &mut Service) -> Result<(), AllocError> {
        let mut taken = Taken::default();
        let result = self.allocate_inner(service, &mut taken);
        if result.is_err() {
            for ip in &taken.ips {
                self.release_ip(ip);
            }
            for p in &taken.ports {
                self.release_port(*p);
            }
        }
        result
    }

    fn allocate_inner(
        &mut self,
        service: &mut Service,
        taken: &mut Taken,
    ) -> Result<(), AllocError> {
        let kind = ServiceKind::of(service)?;
        let owner = service_key(service);
        let dual = self.is_dual_stack();
        let primary = self.primary_family();
        let spec = service.spec.get_or_insert_with(Default::default);

        if kind == ServiceKind::ExternalName {
            spec.cluster_ip = None;
            spec.cluster_ips.clear();
            spec.ip_families.clear();
            spec.ip_family_policy = None;
            return Ok(());
        }
        if spec.cluster_ips.is_empty()
            && let Some(ip) = spec.cluster_ip.clone().filter(|s| !s.is_empty())
        {
            spec.cluster_ips.push(ip);
        }
        // Families written by the user.
        let mut families = Vec::new();
        for (index, f) in spec.ip_families.iter().enumerate() {
            families.push(IpFamily::parse(f).ok_or_else(|| AllocError::BadFamily {
                index,
                family: f.clone(),
            })?);
        }
        // Infer families from requested IPs.
        let mut requested = Vec::new();
        for (index, ip) in spec.cluster_ips.iter().enumerate() {
            if ip == CLUSTER_IP_NONE {
                break;
            }
            let addr: IpAddr = ip.parse().map_err(|_| AllocError::BadIp {
                index,
                ip: ip.clone(),
            })?;
            if families.len() < index + 1 {
                families.push(IpFamily::of(&addr));
            }
            requested.push(addr);
        }
        let headless = kind == ServiceKind::Headless;
        if headless && spec.selector.is_empty() {
            if spec.ip_family_policy.is_none() && families.is_empty() {
                spec.ip_family_policy = Some(policy::REQUIRE_DUAL_STACK.into());
            }
            if families.is_empty() {
                families.push(primary);
            }
            if families.len() < 2 && spec.ip_family_policy.as_deref() != Some(policy::SINGLE_STACK)
            {
                families.push(families[0].other());
            }
            spec.ip_families = families.iter().map(|f| f.as_str().to_owned()).collect();
            spec.cluster_ip = Some(CLUSTER_IP_NONE.into());
            spec.cluster_ips = vec![CLUSTER_IP_NONE.into()];
            return Ok(());
        }
        if spec.ip_family_policy.is_none() {
            let two = families.len() >= 2 || spec.cluster_ips.len() >= 2;
            spec.ip_family_policy = Some(
                if two {
                    policy::REQUIRE_DUAL_STACK
                } else {
                    policy::SINGLE_STACK
                }
                .into(),
            );
        }
        let pol = spec.ip_family_policy.clone().unwrap_or_default();
        if pol == policy::REQUIRE_DUAL_STACK && !dual {
            return Err(AllocError::NotDualStack);
        }
        for (index, f) in families.iter().enumerate() {
            if !self.ranges.iter().any(|r| r.family() == *f) {
                return Err(AllocError::FamilyNotConfigured {
                    index,
                    family: f.as_str().into(),
                });
            }
        }
        if families.is_empty() {
            families.push(primary);
        }
        if pol != policy::SINGLE_STACK && families.len() == 1 && dual {
            families.push(families[0].other());
        }
        spec.ip_families = families.iter().map(|f| f.as_str().to_owned()).collect();

        if headless {
            spec.cluster_ip = Some(CLUSTER_IP_NONE.into());
            spec.cluster_ips = vec![CLUSTER_IP_NONE.into()];
        } else {
            let mut ips = Vec::new();
            for (index, family) in families.iter().enumerate() {
                let range = self
                    .range_mut(*family)
                    .ok_or(AllocError::FamilyNotConfigured {
                        index,
                        family: family.as_str().into(),
                    })?;
                let ip = match requested.get(index) {
                    Some(ip) => {
                        range
                            .allocate(*ip)
                            .map_err(|source| AllocError::ClusterIp {
                                index,
                                ip: ip.to_string(),
                                source,
                            })?;
                        *ip
                    }
                    None => range.allocate_next().map_err(AllocError::ClusterIpFull)?,
                };
                taken.ips.push(ip);
                self.ip_owner.insert(ip, owner.clone());
                ips.push(ip.to_string());
            }
            spec.cluster_ip = ips.first().cloned();
            spec.cluster_ips = ips;
        }

        // Node ports: one per service port number, whatever the protocol.
        let want_node_ports = kind == ServiceKind::NodePort
            || (kind == ServiceKind::LoadBalancer
                && spec.allocate_load_balancer_node_ports != Some(false));
        let mut by_port: BTreeMap<i32, i32> = BTreeMap::new();
        for index in 0..spec.ports.len() {
            let requested_np = spec.ports[index].node_port.filter(|p| *p != 0);
            if requested_np.is_none() && !want_node_ports {
                continue;
            }
            let svc_port = spec.ports[index].port;
            if let Some(np) = by_port.get(&svc_port)
                && (requested_np.is_none() || requested_np == Some(*np))
            {
                spec.ports[index].node_port = Some(*np);
                continue;
            }
            // A user-provided node port for this port number anywhere later in the list wins.
            let explicit = requested_np.or_else(|| {
                spec.ports[index..]
                    .iter()
                    .find(|p| p.port == svc_port && p.node_port.is_some_and(|n| n != 0))
                    .and_then(|p| p.node_port)
            });
            let np = match explicit {
                Some(np) => {
                    self.ports
                        .allocate(np)
                        .map_err(|source| AllocError::NodePort {
                            index,
                            port: np,
                            source,
                        })?;
                    np
                }
                None => self
                    .ports
                    .allocate_next()
                    .map_err(AllocError::NodePortFull)?,
            };
            taken.ports.push(np);
            self.port_owner.insert(np, owner.clone());
            by_port.insert(svc_port, np);
            spec.ports[index].node_port = Some(np);
        }

        // Health-check node port for LoadBalancer + externalTrafficPolicy: Local.
        if kind == ServiceKind::LoadBalancer
            && spec.external_traffic_policy.as_deref() == Some("Local")
        {
            let np = match spec.health_check_node_port.filter(|p| *p != 0) {
                Some(port) => {
                    self.ports
                        .allocate(port)
                        .map_err(|source| AllocError::HealthCheckNodePort { port, source })?;
                    port
                }
                None => self
                    .ports
                    .allocate_next()
                    .map_err(AllocError::NodePortFull)?,
            };
            taken.ports.push(np);
            self.port_owner.insert(np, owner);
            spec.health_check_node_port = Some(np);
        }
        Ok(())
    }

    fn release_ip(&mut self, ip: &IpAddr) {
        if let Some(r) = self.range_mut(IpFamily::of(ip)) {
            r.release(ip);
        }
        self.ip_owner.remove(ip);
    }

    fn release_port(&mut self, port: i32) {
        self.ports.release(port);
        self.port_owner.remove(&port);
    }

    /// Releases everything `service` holds (on delete). Addresses and ports held by another
    /// Service (after a conflict) are left alone.
    pub fn release(&mut self, service: &Service) {
        let owner = service_key(service);
        for ip in service_ips(service) {
            if self.ip_owner.get(&ip) == Some(&owner) {
                self.release_ip(&ip);
            }
        }
        for port in service_node_ports(service) {
            if self.port_owner.get(&port) == Some(&owner) {
                self.release_port(port);
            }
        }
    }

    /// Rebuilds the allocation state from stored Services (the state survives a restart because
    /// the Services are its record, as upstream's repair controllers rebuild their bitmaps).
    /// Conflicts are reported, the first Service seen keeping the address or port.
    ///
    /// # Errors
    /// [`ConfigError`] for a bad configuration.
    pub fn rebuild<'a>(
        config: &AllocatorConfig,
        services: impl IntoIterator<Item = &'a Service>,
    ) -> Result<(Self, Vec<RebuildProblem>), ConfigError> {
        let mut me = Self::new(config)?;
        let mut problems = Vec::new();
        for service in services {
            let key = service_key(service);
            let spec = service.spec.as_ref();
            let mut raw: Vec<&String> = spec
                .map(|s| s.cluster_ips.iter().collect())
                .unwrap_or_default();
            if raw.is_empty() {
                raw.extend(spec.and_then(|s| s.cluster_ip.as_ref()));
            }
            for text in raw {
                if text.is_empty() || text == CLUSTER_IP_NONE {
                    continue;
                }
                let Ok(ip) = text.parse::<IpAddr>() else {
                    problems.push(RebuildProblem::IpOutOfRange {
                        ip: text.clone(),
                        service: key.clone(),
                    });
                    continue;
                };
                let result = match me.range_mut(IpFamily::of(&ip)) {
                    Some(r) => r.allocate(ip),
                    None => Err(IpAllocError::Full),
                };
                match result {
                    Ok(()) => {
                        me.ip_owner.insert(ip, key.clone());
                    }
                    Err(IpAllocError::Allocated) => problems.push(RebuildProblem::DuplicateIp {
                        ip,
                        kept_by: me.ip_owner.get(&ip).cloned().unwrap_or_default(),
                        service: key.clone(),
                    }),
                    Err(_) => problems.push(RebuildProblem::IpOutOfRange {
                        ip: text.clone(),
                        service: key.clone(),
                    }),
                }
            }
            for port in service_node_ports(service) {
                match me.ports.allocate(port) {
                    Ok(()) => {
                        me.port_owner.insert(port, key.clone());
                    }
                    Err(PortAllocError::Allocated) => {
                        problems.push(RebuildProblem::DuplicateNodePort {
                            port,
                            kept_by: me.port_owner.get(&port).cloned().unwrap_or_default(),
                            service: key.clone(),
                        })
                    }
                    Err(_) => problems.push(RebuildProblem::NodePortOutOfRange {
                        port,
                        service: key.clone(),
                    }),
                }
            }
        }
        Ok((me, problems))
    }
}

/// The cluster IPs of a Service (parsed, `None` and junk skipped).
pub fn service_ips(service: &Service) -> Vec<IpAddr> {
    let Some(spec) = service.spec.as_ref() else {
        return Vec::new();
    };
    let mut ips: Vec<IpAddr> = spec
        .cluster_ips
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect();
    if ips.is_empty() {
        ips.extend(
            spec.cluster_ip
                .as_deref()
                .and_then(|s| s.parse::<IpAddr>().ok()),
        );
    }
    ips
}

/// The node ports a Service holds (each number once; health-check node port included).
pub fn service_node_ports(service: &Service) -> Vec<i32> {
    let Some(spec) = service.spec.as_ref() else {
        return Vec::new();
    };
    let mut ports: Vec<i32> = spec
        .ports
        .iter()
        .filter_map(|p| p.node_port)
        .chain(spec.health_check_node_port)
        .filter(|p| *p != 0)
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

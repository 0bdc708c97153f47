//! DNS records for Services as CoreDNS's `kubernetes` plugin publishes them:
//! - `<svc>.<ns>.svc.<domain>`: A/AAAA with the cluster IPs; for headless Services the ready
//!   endpoint addresses; for ExternalName a CNAME to `spec.externalName`;
//! - `_<port>._<proto>.<svc>.<ns>.svc.<domain>`: SRV for each named port (ClusterIP: target
//!   the Service name; headless: one per endpoint, target its own name);
//! - headless endpoints: `<hostname>.<svc>.<ns>.svc.<domain>` when the endpoint has a hostname
//!   (a pod whose `hostname`/`subdomain` match), else `<a-b-c-d>.<svc>.<ns>.svc.<domain>`
//!   (the address with `.`/`:` turned to `-`).
//!
//! - pods (CoreDNS `pods insecure` / `pods verified`, see [`PodRecords`]):
//!   `<a-b-c-d>.<ns>.pod.<domain>` answers the address the name spells; in `verified` mode only
//!   when a pod of that namespace has that IP ([`DnsTable::add_pod`]).
//!
//! TTL is CoreDNS's default, 5 s. SRV priority is 0 and weight `100 / n` for `n` records
//! (CoreDNS spreads weight evenly this way). Names are compared lower-case, without the
//! trailing dot.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use kybern_core::api::core::v1::{Pod, Service};
use kybern_core::api::discovery::v1::EndpointSlice;

use crate::service_type::{CLUSTER_IP_NONE, ServiceKind};

/// CoreDNS's default TTL for cluster records.
pub const DEFAULT_TTL: u32 = 5;

/// What a record holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordData {
    /// IPv4 address.
    A(Ipv4Addr),
    /// IPv6 address.
    Aaaa(Ipv6Addr),
    /// Alias to another name.
    Cname(String),
    /// Service location.
    Srv {
        /// Priority (0).
        priority: u16,
        /// Weight.
        weight: u16,
        /// Port.
        port: u16,
        /// Target name.
        target: String,
    },
}

/// Record types one can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordKind {
    /// A.
    A,
    /// AAAA.
    Aaaa,
    /// CNAME.
    Cname,
    /// SRV.
    Srv,
    /// Any type.
    Any,
}

impl RecordData {
    /// The record's type.
    pub fn kind(&self) -> RecordKind {
        match self {
            RecordData::A(_) => RecordKind::A,
            RecordData::Aaaa(_) => RecordKind::Aaaa,
            RecordData::Cname(_) => RecordKind::Cname,
            RecordData::Srv { .. } => RecordKind::Srv,
        }
    }
}

/// One record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsRecord {
    /// Owner name (lower-case, no trailing dot).
    pub name: String,
    /// Time to live, seconds.
    pub ttl: u32,
    /// Data.
    pub data: RecordData,
}

/// The answer to a question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DnsAnswer {
    /// Records of the asked type (or a CNAME for the name).
    Records(Vec<DnsRecord>),
    /// The name exists but has no record of that type (NOERROR, empty).
    NoData,
    /// No such name (NXDOMAIN).
    NxDomain,
}

/// How pod names `<a-b-c-d>.<ns>.pod.<domain>` are answered (CoreDNS's `pods` option).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PodRecords {
    /// No pod records (CoreDNS's default).
    #[default]
    Disabled,
    /// Any well-formed name answers the address it spells, pod or not (kubeadm's Corefile).
    Insecure,
    /// Only names of pods added with [`DnsTable::add_pod`] answer.
    Verified,
}

/// All cluster records, rebuilt from Services and slices (and pods, in verified mode).
#[derive(Clone, Debug)]
pub struct DnsTable {
    domain: String,
    records: HashMap<String, Vec<DnsRecord>>,
    names: HashSet<String>,
    pods: PodRecords,
}

/// `10-1-2-3` → `10.1.2.3`, `fd00--1` → `fd00::1` (the inverse of [`dashed`]).
pub fn undashed(label: &str) -> Option<IpAddr> {
    if let Ok(v4) = label.replace('-', ".").parse::<Ipv4Addr>() {
        return Some(IpAddr::V4(v4));
    }
    label
        .replace('-', ":")
        .parse::<Ipv6Addr>()
        .ok()
        .map(IpAddr::V6)
}

fn norm(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// `10.1.2.3` → `10-1-2-3`, `fd00::1` → `fd00--1`.
pub fn dashed(ip: &IpAddr) -> String {
    ip.to_string().replace(['.', ':'], "-")
}

impl DnsTable {
    /// An empty table for `cluster_domain` (e.g. `cluster.local`).
    pub fn new(cluster_domain: &str) -> Self {
        Self {
            domain: norm(cluster_domain),
            records: HashMap::new(),
            names: HashSet::new(),
            pods: PodRecords::Disabled,
        }
    }

    /// Sets how pod names are answered (before adding pods).
    pub fn with_pod_records(mut self, mode: PodRecords) -> Self {
        self.pods = mode;
        self
    }

    /// `<a-b-c-d>.<ns>.pod.<domain>` for `ip`.
    pub fn pod_name(&self, ip: &IpAddr, namespace: &str) -> String {
        norm(&format!("{}.{namespace}.pod.{}", dashed(ip), self.domain))
    }

    /// Adds the records of one pod (verified mode: one A/AAAA per pod IP; other modes: nothing).
    /// Terminal pods (`Succeeded`/`Failed`) get none.
    pub fn add_pod(&mut self, pod: &Pod) {
        if self.pods != PodRecords::Verified || crate::endpointslice::desired::is_pod_terminal(pod)
        {
            return;
        }
        let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
        let Some(status) = pod.status.as_ref() else {
            return;
        };
        let ips: Vec<IpAddr> = status
            .pod_ips
            .iter()
            .map(|p| p.ip.as_str())
            .chain(status.pod_ip.as_deref())
            .filter_map(|ip| ip.parse().ok())
            .collect();
        for ip in ips {
            let name = self.pod_name(&ip, ns);
            self.add_ip(&name, ip);
        }
    }

    /// Insecure mode: the record a well-formed pod name spells.
    fn insecure_pod_record(&self, name: &str) -> Option<DnsRecord> {
        let rest = name.strip_suffix(&format!(".pod.{}", self.domain))?;
        let (label, ns) = rest.split_once('.')?;
        if ns.is_empty() || ns.contains('.') {
            return None;
        }
        let data = match undashed(label)? {
            IpAddr::V4(v4) => RecordData::A(v4),
            IpAddr::V6(v6) => RecordData::Aaaa(v6),
        };
        Some(DnsRecord {
            name: name.to_owned(),
            ttl: DEFAULT_TTL,
            data,
        })
    }

    /// The cluster domain.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// `<svc>.<ns>.svc.<domain>`.
    pub fn service_name(&self, service: &str, namespace: &str) -> String {
        norm(&format!("{service}.{namespace}.svc.{}", self.domain))
    }

    fn add(&mut self, name: String, data: RecordData) {
        let name = norm(&name);
        // Every suffix is an existing (possibly empty) name: NOERROR, not NXDOMAIN.
        let mut rest = name.as_str();
        while let Some((_, tail)) = rest.split_once('.') {
            self.names.insert(tail.to_owned());
            rest = tail;
        }
        self.names.insert(name.clone());
        let list = self.records.entry(name.clone()).or_default();
        let rec = DnsRecord {
            name,
            ttl: DEFAULT_TTL,
            data,
        };
        if !list.contains(&rec) {
            list.push(rec);
        }
    }

    fn add_ip(&mut self, name: &str, ip: IpAddr) {
        match ip {
            IpAddr::V4(v4) => self.add(name.to_owned(), RecordData::A(v4)),
            IpAddr::V6(v6) => self.add(name.to_owned(), RecordData::Aaaa(v6)),
        }
    }

    /// Adds the records of one Service (its `slices` are used for headless Services).
    pub fn add_service(&mut self, service: &Service, slices: &[EndpointSlice]) {
        let Ok(kind) = ServiceKind::of(service) else {
            return;
        };
        let ns = service.metadata.namespace.as_deref().unwrap_or("default");
        let Some(svc) = service.metadata.name.as_deref() else {
            return;
        };
        let base = self.service_name(svc, ns);
        let spec = service.spec.clone().unwrap_or_default();
        match kind {
            ServiceKind::ExternalName => {
                if let Some(target) = spec.external_name.as_deref().filter(|t| !t.is_empty()) {
                    self.add(base, RecordData::Cname(norm(target)));
                }
            }
            ServiceKind::Headless => {
                self.names.insert(base.clone());
                let mut srv: HashMap<String, Vec<(u16, String)>> = HashMap::new();
                for slice in slices {
                    for ep in &slice.endpoints {
                        let ready = ep.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true);
                        if !ready {
                            continue;
                        }
                        for addr in &ep.addresses {
                            let Ok(ip) = addr.parse::<IpAddr>() else {
                                continue;
                            };
                            self.add_ip(&base, ip);
                            let host = ep.hostname.clone().unwrap_or_else(|| dashed(&ip));
                            let ep_name = format!("{host}.{base}");
                            self.add_ip(&ep_name, ip);
                            for p in &slice.ports {
                                let (Some(name), Some(port)) = (p.name.as_deref(), p.port) else {
                                    continue;
                                };
                                if name.is_empty() {
                                    continue;
                                }
                                let proto =
                                    p.protocol.as_deref().unwrap_or("TCP").to_ascii_lowercase();
                                srv.entry(format!("_{name}._{proto}.{base}"))
                                    .or_default()
                                    .push((u16::try_from(port).unwrap_or(0), ep_name.clone()));
                            }
                        }
                    }
                }
                for (name, targets) in srv {
                    let weight = (100 / targets.len().max(1)).max(1) as u16;
                    for (port, target) in targets {
                        self.add(
                            name.clone(),
                            RecordData::Srv {
                                priority: 0,
                                weight,
                                port,
                                target: norm(&target),
                            },
                        );
                    }
                }
            }
            _ => {
                let ips: Vec<IpAddr> = spec
                    .cluster_ips
                    .iter()
                    .chain(spec.cluster_ip.as_ref())
                    .filter(|s| s.as_str() != CLUSTER_IP_NONE)
                    .filter_map(|s| s.parse().ok())
                    .collect();
                for ip in ips {
                    self.add_ip(&base, ip);
                }
                for p in &spec.ports {
                    let Some(name) = p.name.as_deref().filter(|n| !n.is_empty()) else {
                        continue;
                    };
                    let proto = p.protocol.as_deref().unwrap_or("TCP").to_ascii_lowercase();
                    self.add(
                        format!("_{name}._{proto}.{base}"),
                        RecordData::Srv {
                            priority: 0,
                            weight: 100,
                            port: u16::try_from(p.port).unwrap_or(0),
                            target: base.clone(),
                        },
                    );
                }
            }
        }
    }

    /// Builds a table from Services and all slices (matched to their Service by the
    /// `kubernetes.io/service-name` label and namespace).
    pub fn build(cluster_domain: &str, services: &[Service], slices: &[EndpointSlice]) -> Self {
        let mut t = Self::new(cluster_domain);
        for s in services {
            let mine: Vec<EndpointSlice> = slices
                .iter()
                .filter(|sl| {
                    sl.metadata.namespace == s.metadata.namespace
                        && sl
                            .metadata
                            .labels
                            .get(crate::endpointslice::LABEL_SERVICE_NAME)
                            == s.metadata.name.as_ref()
                })
                .cloned()
                .collect();
            t.add_service(s, &mine);
        }
        t
    }

    /// Answers `name`/`kind`: the records of that type; a CNAME answers any type; NODATA for a
    /// known name without such records; NXDOMAIN otherwise.
    pub fn lookup(&self, name: &str, kind: RecordKind) -> DnsAnswer {
        let name = norm(name);
        if self.pods == PodRecords::Insecure
            && let Some(rec) = self.insecure_pod_record(&name)
        {
            return if kind == RecordKind::Any || rec.data.kind() == kind {
                DnsAnswer::Records(vec![rec])
            } else {
                DnsAnswer::NoData
            };
        }
        match self.records.get(&name) {
            Some(list) => {
                let out: Vec<DnsRecord> = list
                    .iter()
                    .filter(|r| {
                        kind == RecordKind::Any
                            || r.data.kind() == kind
                            || r.data.kind() == RecordKind::Cname
                    })
                    .cloned()
                    .collect();
                if out.is_empty() {
                    DnsAnswer::NoData
                } else {
                    DnsAnswer::Records(out)
                }
            }
            None if self.names.contains(&name) => DnsAnswer::NoData,
            None => DnsAnswer::NxDomain,
        }
    }

    /// Number of names with records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether there is no record.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

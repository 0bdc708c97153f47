//! Allocation: bands, exclusions, upstream errors, dual-stack defaulting, node ports, rebuild.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::net::IpAddr;

use kybern_core::api::core::v1::{Service, ServicePort, ServiceSpec};
use kybern_netsvc::alloc::ip_range::static_band_size;
use kybern_netsvc::alloc::port_range::static_band_size as port_band;
use kybern_netsvc::alloc::{
    AllocError, AllocatorConfig, Cidr, IpRange, PortAllocator, PortRange, RebuildProblem,
    ServiceAllocator,
};

fn cfg(cidrs: &[&str]) -> AllocatorConfig {
    AllocatorConfig {
        service_cidrs: cidrs.iter().map(|c| c.parse().unwrap()).collect(),
        node_ports: PortRange::DEFAULT,
    }
}

fn svc(name: &str, ty: &str, spec: ServiceSpec) -> Service {
    let mut s = Service::default();
    s.metadata.name = Some(name.into());
    s.metadata.namespace = Some("default".into());
    s.spec = Some(ServiceSpec {
        type_: Some(ty.into()),
        selector: [("app".to_string(), name.to_string())].into(),
        ..spec
    });
    s
}

fn port(p: i32, proto: &str) -> ServicePort {
    ServicePort {
        port: p,
        protocol: Some(proto.into()),
        ..Default::default()
    }
}

#[test]
fn static_band_sizes_follow_upstream_formula() {
    // (cidr size, band) for min(max(16, size/16), 256), 0 when size <= 16.
    let table: &[(u128, usize)] = &[
        (8, 0),
        (16, 0),
        (32, 16),
        (256, 16),
        (1024, 64),
        (4096, 256),
        (1 << 20, 256),
    ];
    for (size, want) in table {
        assert_eq!(static_band_size(*size), *want, "ip size {size}");
    }
    let ports: &[(usize, usize)] = &[(10, 0), (100, 16), (2768, 86), (10_000, 128)];
    for (size, want) in ports {
        assert_eq!(port_band(*size), *want, "port range size {size}");
    }
}

#[test]
fn ipv4_range_excludes_network_and_broadcast_and_exhausts() {
    let mut r = IpRange::new("10.0.0.0/29".parse().unwrap());
    assert_eq!(r.size(), 6);
    let mut got = BTreeSet::new();
    for _ in 0..6 {
        got.insert(r.allocate_next().unwrap());
    }
    let want: BTreeSet<IpAddr> = (1..=6)
        .map(|i| format!("10.0.0.{i}").parse().unwrap())
        .collect();
    assert_eq!(got, want);
    assert_eq!(r.allocate_next().unwrap_err().to_string(), "range is full");
    for bad in ["10.0.0.0", "10.0.0.7", "10.0.1.1"] {
        assert_eq!(
            r.allocate(bad.parse().unwrap()).unwrap_err().to_string(),
            format!(
                "the provided IP ({bad}) is not in the valid range. The range of valid IPs is 10.0.0.0/29"
            )
        );
    }
    assert_eq!(
        r.allocate("10.0.0.3".parse().unwrap())
            .unwrap_err()
            .to_string(),
        "provided IP is already allocated"
    );
    assert!(r.release(&"10.0.0.3".parse().unwrap()));
    assert_eq!(r.allocate_next().unwrap().to_string(), "10.0.0.3");
}

#[test]
fn ipv6_range_keeps_last_address_and_caps_at_65536() {
    let mut r = IpRange::new("fd00::/126".parse().unwrap());
    assert_eq!(r.size(), 3); // ::1, ::2, ::3 (no broadcast in IPv6)
    r.allocate("fd00::3".parse().unwrap()).unwrap();
    assert!(IpRange::new("fd00::/64".parse().unwrap()).size() == 65_535);
    assert!(r.allocate("fd00::".parse().unwrap()).is_err());
}

#[test]
fn dynamic_allocation_avoids_static_band_until_upper_full() {
    let mut r = IpRange::new("10.0.0.0/24".parse().unwrap()); // 254 usable, band 16
    assert_eq!(r.static_band(), 16);
    let upper = r.size() - r.static_band();
    for _ in 0..upper {
        let ip = r.allocate_next().unwrap();
        assert!(
            !r.in_static_band(&ip),
            "{ip} came from the static band too early"
        );
    }
    let ip = r.allocate_next().unwrap();
    assert!(
        r.in_static_band(&ip),
        "{ip} should come from the static band once the upper is full"
    );
}

#[test]
fn node_ports_band_errors_and_exhaustion() {
    let mut p = PortAllocator::new("30000-30019".parse().unwrap());
    assert_eq!(p.static_band(), 16);
    assert_eq!(
        p.allocate(29999).unwrap_err().to_string(),
        "provided port is not in the valid range. The range of valid ports is 30000-30019"
    );
    p.allocate(30000).unwrap();
    assert_eq!(
        p.allocate(30000).unwrap_err().to_string(),
        "provided port is already allocated"
    );
    let mut n = 1;
    while p.allocate_next().is_ok() {
        n += 1;
    }
    assert_eq!(n, 20);
    assert!(p.release(30005));
    assert_eq!(p.allocate_next().unwrap(), 30005);
}

fn check_alloc(
    name: &str,
    cidrs: &[&str],
    spec: ServiceSpec,
    ty: &str,
    want_families: &[&str],
    want_err: Option<&str>,
) {
    let mut a = ServiceAllocator::new(&cfg(cidrs)).unwrap();
    let mut s = svc("s", ty, spec);
    match (a.allocate(&mut s), want_err) {
        (Ok(()), None) => {
            let spec = s.spec.unwrap();
            assert_eq!(spec.ip_families, want_families, "{name}: families");
            if spec.cluster_ip.as_deref() != Some("None") && ty != "ExternalName" {
                assert_eq!(
                    spec.cluster_ips.len(),
                    want_families.len(),
                    "{name}: one IP per family"
                );
                assert_eq!(spec.cluster_ip.as_ref(), spec.cluster_ips.first(), "{name}");
            }
        }
        (Err(e), Some(w)) => assert_eq!(e.to_string(), w, "{name}"),
        (got, _) => panic!("{name}: got {got:?}, want error {want_err:?}"),
    }
}

/// (name, cidrs, spec, type, families wanted, error wanted)
type Case<'a> = (
    &'a str,
    &'a [&'a str],
    ServiceSpec,
    &'a str,
    Vec<&'a str>,
    Option<&'a str>,
);

#[test]
fn dual_stack_defaulting() {
    let v4 = &["10.96.0.0/16"][..];
    let ds = &["10.96.0.0/16", "fd00::/108"][..];
    let pol = |p: &str| ServiceSpec {
        ip_family_policy: Some(p.into()),
        ..Default::default()
    };
    let table: Vec<Case<'_>> = vec![
        (
            "default single stack",
            v4,
            ServiceSpec::default(),
            "ClusterIP",
            vec!["IPv4"],
            None,
        ),
        (
            "prefer dual on single-stack",
            v4,
            pol("PreferDualStack"),
            "ClusterIP",
            vec!["IPv4"],
            None,
        ),
        (
            "prefer dual on dual-stack",
            ds,
            pol("PreferDualStack"),
            "ClusterIP",
            vec!["IPv4", "IPv6"],
            None,
        ),
        (
            "require dual on single-stack",
            v4,
            pol("RequireDualStack"),
            "ClusterIP",
            vec![],
            Some(
                "spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": this cluster is not configured for dual-stack services",
            ),
        ),
        (
            "v6 on v4 cluster",
            v4,
            ServiceSpec {
                ip_families: vec!["IPv6".into()],
                ..Default::default()
            },
            "ClusterIP",
            vec![],
            Some("spec.ipFamilies[0]: Invalid value: \"IPv6\": not configured on this cluster"),
        ),
        (
            "v6 first dual",
            ds,
            ServiceSpec {
                ip_families: vec!["IPv6".into()],
                ip_family_policy: Some("RequireDualStack".into()),
                ..Default::default()
            },
            "ClusterIP",
            vec!["IPv6", "IPv4"],
            None,
        ),
        (
            "family inferred from requested ip",
            ds,
            ServiceSpec {
                cluster_ip: Some("fd00::10".into()),
                ..Default::default()
            },
            "ClusterIP",
            vec!["IPv6"],
            None,
        ),
        (
            "headless with selector, one family",
            v4,
            ServiceSpec {
                cluster_ip: Some("None".into()),
                ..Default::default()
            },
            "ClusterIP",
            vec!["IPv4"],
            None,
        ),
        (
            "requested ip out of range",
            v4,
            ServiceSpec {
                cluster_ip: Some("10.97.0.1".into()),
                ..Default::default()
            },
            "ClusterIP",
            vec![],
            Some(
                "spec.clusterIPs[0]: Invalid value: \"10.97.0.1\": failed to allocate IP 10.97.0.1: the provided IP (10.97.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/16",
            ),
        ),
        (
            "external name has no families",
            v4,
            ServiceSpec {
                external_name: Some("example.com".into()),
                ..Default::default()
            },
            "ExternalName",
            vec![],
            None,
        ),
    ];
    for (name, cidrs, spec, ty, fams, err) in table {
        check_alloc(name, cidrs, spec, ty, &fams, err);
    }
}

#[test]
fn explicit_ip_double_allocation_refused_and_released_on_delete() {
    let mut a = ServiceAllocator::new(&cfg(&["10.96.0.0/16"])).unwrap();
    let spec = ServiceSpec {
        cluster_ip: Some("10.96.0.10".into()),
        ..Default::default()
    };
    let mut one = svc("one", "ClusterIP", spec.clone());
    a.allocate(&mut one).unwrap();
    let mut two = svc("two", "ClusterIP", spec.clone());
    let err = a.allocate(&mut two).unwrap_err();
    assert_eq!(
        err.to_string(),
        "spec.clusterIPs[0]: Invalid value: \"10.96.0.10\": failed to allocate IP 10.96.0.10: provided IP is already allocated"
    );
    a.release(&one);
    let mut two = svc("two", "ClusterIP", spec);
    a.allocate(&mut two).unwrap();
}

#[test]
fn node_ports_shared_across_protocols_and_rolled_back_on_failure() {
    let mut a = ServiceAllocator::new(&cfg(&["10.96.0.0/16"])).unwrap();
    let mut s = svc(
        "dns",
        "NodePort",
        ServiceSpec {
            ports: vec![port(53, "TCP"), port(53, "UDP"), port(80, "TCP")],
            ..Default::default()
        },
    );
    a.allocate(&mut s).unwrap();
    let nps: Vec<i32> = s
        .spec
        .as_ref()
        .unwrap()
        .ports
        .iter()
        .map(|p| p.node_port.unwrap())
        .collect();
    assert_eq!(
        nps[0], nps[1],
        "same port number, TCP and UDP share one node port"
    );
    assert_ne!(nps[0], nps[2]);
    // A second service asking for a taken node port fails and leaves nothing allocated.
    let before = a.ips_in_use();
    let mut taken = ServicePort {
        node_port: Some(nps[2]),
        ..port(8080, "TCP")
    };
    taken.name = Some("x".into());
    let mut s2 = svc(
        "other",
        "NodePort",
        ServiceSpec {
            ports: vec![port(9090, "TCP"), taken],
            ..Default::default()
        },
    );
    let err = a.allocate(&mut s2).unwrap_err();
    assert!(
        matches!(err, AllocError::NodePort { index: 1, .. }),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "spec.ports[1].nodePort: Invalid value: {}: provided port is already allocated",
            nps[2]
        )
    );
    assert_eq!(a.ips_in_use(), before, "cluster IP rolled back");
    assert_eq!(
        a.node_ports().free(),
        PortRange::DEFAULT.size() - 2,
        "node port rolled back"
    );
}

#[test]
fn exhaustion_reports_range_full() {
    let mut a = ServiceAllocator::new(&cfg(&["10.0.0.0/30"])).unwrap(); // 2 usable
    for i in 0..2 {
        a.allocate(&mut svc(
            &format!("s{i}"),
            "ClusterIP",
            ServiceSpec::default(),
        ))
        .unwrap();
    }
    let err = a
        .allocate(&mut svc("s3", "ClusterIP", ServiceSpec::default()))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Internal error occurred: failed to allocate a serviceIP: range is full"
    );
}

#[test]
fn rebuild_restores_state_and_reports_duplicates() {
    let config = cfg(&["10.96.0.0/24", "fd00::/120"]);
    let mut a = ServiceAllocator::new(&config).unwrap();
    let mut stored = Vec::new();
    for i in 0..50 {
        let ty = if i % 2 == 0 { "NodePort" } else { "ClusterIP" };
        let mut s = svc(
            &format!("s{i}"),
            ty,
            ServiceSpec {
                ip_family_policy: Some("PreferDualStack".into()),
                ports: vec![port(80, "TCP")],
                ..Default::default()
            },
        );
        a.allocate(&mut s).unwrap();
        stored.push(s);
    }
    // Restart: a fresh allocator rebuilt from the stored Services.
    let (mut b, problems) = ServiceAllocator::rebuild(&config, &stored).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(b.ips_in_use(), 100);
    for _ in 0..100 {
        let mut s = svc(
            "new",
            "NodePort",
            ServiceSpec {
                ports: vec![port(80, "TCP")],
                ..Default::default()
            },
        );
        b.allocate(&mut s).unwrap();
        let ip = s.spec.as_ref().unwrap().cluster_ip.clone().unwrap();
        assert!(
            !stored
                .iter()
                .any(|o| o.spec.as_ref().unwrap().cluster_ips.contains(&ip)),
            "{ip} handed out twice"
        );
        let np = s.spec.as_ref().unwrap().ports[0].node_port;
        assert!(
            !stored
                .iter()
                .any(|o| o.spec.as_ref().unwrap().ports[0].node_port == np),
            "node port {np:?} twice"
        );
        b.release(&s);
    }
    // A stored duplicate is reported, the first keeps the address.
    let mut dup = stored[1].clone();
    dup.metadata.name = Some("dup".into());
    stored.push(dup);
    let (_, problems) = ServiceAllocator::rebuild(&config, &stored).unwrap();
    let ip: IpAddr = stored[1].spec.as_ref().unwrap().cluster_ips[0]
        .parse()
        .unwrap();
    assert!(
        problems.contains(&RebuildProblem::DuplicateIp {
            ip,
            kept_by: "default/s1".into(),
            service: "default/dup".into()
        }),
        "{problems:?}"
    );
}

#[test]
fn bad_configs_refused() {
    let two_v4: Vec<Cidr> = vec![
        "10.0.0.0/24".parse().unwrap(),
        "10.1.0.0/24".parse().unwrap(),
    ];
    assert!(
        ServiceAllocator::new(&AllocatorConfig {
            service_cidrs: two_v4,
            node_ports: PortRange::DEFAULT
        })
        .is_err()
    );
    for bad in ["10.0.0.0", "10.0.0.0/33", "x/8", "fd00::/129"] {
        assert!(bad.parse::<Cidr>().is_err(), "{bad}");
    }
}

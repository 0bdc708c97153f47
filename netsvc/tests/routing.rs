//! Ingress matching, resolver eligibility (readiness, terminating fallback, Local policies,
//! affinity, pickers) and DNS records for ClusterIP, headless and ExternalName Services.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;
use std::time::Duration;

use kybern_core::api::core::v1::{
    ClientIPConfig, Service, ServicePort, ServiceSpec, SessionAffinityConfig,
};
use kybern_core::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use kybern_core::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressClass, IngressClassSpec,
    IngressRule, IngressServiceBackend, IngressSpec, ServiceBackendPort,
};
use kybern_netsvc::dns::{DnsAnswer, DnsTable, RecordData, RecordKind};
use kybern_netsvc::ingress::{
    BackendPort, host_match, ingresses_for_controller, path_match, route,
};
use kybern_netsvc::resolver::{
    NodeContext, PickerKind, ResolveError, ServiceResolver, TrafficSource,
};

#[test]
fn host_and_path_matching_table() {
    // (rule host, request host, match rank)
    let hosts: &[(Option<&str>, &str, Option<u8>)] = &[
        (Some("foo.com"), "foo.com", Some(2)),
        (Some("foo.com"), "FOO.com:8080", Some(2)),
        (Some("foo.com"), "bar.com", None),
        (Some("*.foo.com"), "bar.foo.com", Some(1)),
        (Some("*.foo.com"), "foo.com", None),
        (Some("*.foo.com"), "baz.bar.foo.com", None),
        (None, "anything", Some(0)),
    ];
    for (rule, host, want) in hosts {
        assert_eq!(host_match(*rule, host), *want, "{rule:?} vs {host}");
    }
    // (type, rule path, request path, matches)
    let paths = [
        ("Prefix", "/foo", "/foo", true),
        ("Prefix", "/foo", "/foo/", true),
        ("Prefix", "/foo", "/foo/bar", true),
        ("Prefix", "/foo", "/foobar", false),
        ("Prefix", "/foo/", "/foo", true),
        ("Prefix", "/", "/anything", true),
        ("Prefix", "/aaa/bb", "/aaa/bbb", false),
        ("Exact", "/foo", "/foo", true),
        ("Exact", "/foo", "/foo/", false),
        ("ImplementationSpecific", "/foo", "/foo/bar", true),
    ];
    for (ty, rule, path, want) in paths {
        assert_eq!(
            path_match(ty, rule, path).is_some(),
            want,
            "{ty} {rule} vs {path}"
        );
    }
}

fn ing_path(ty: &str, path: &str, svc: &str) -> HTTPIngressPath {
    HTTPIngressPath {
        path: Some(path.into()),
        path_type: ty.into(),
        backend: IngressBackend {
            service: Some(IngressServiceBackend {
                name: svc.into(),
                port: Some(ServiceBackendPort {
                    number: Some(80),
                    name: None,
                }),
            }),
            ..Default::default()
        },
    }
}

#[test]
fn routing_longest_match_default_backend_and_classes() {
    let mut ing = Ingress::default();
    ing.metadata.name = Some("web".into());
    ing.metadata.namespace = Some("prod".into());
    ing.spec = Some(IngressSpec {
        default_backend: Some(ing_path("Prefix", "/", "fallback").backend),
        rules: vec![
            IngressRule {
                host: Some("shop.example.com".into()),
                http: Some(HTTPIngressRuleValue {
                    paths: vec![
                        ing_path("Prefix", "/", "shop"),
                        ing_path("Prefix", "/api", "api"),
                        ing_path("Exact", "/api/login", "login"),
                    ],
                }),
            },
            IngressRule {
                host: Some("*.example.com".into()),
                http: Some(HTTPIngressRuleValue {
                    paths: vec![ing_path("Prefix", "/", "wild")],
                }),
            },
        ],
        ..Default::default()
    });
    let mut other = ing.clone();
    other.metadata.name = Some("other".into());
    other.spec.as_mut().unwrap().ingress_class_name = Some("nginx".into());
    let mut default_class = IngressClass::default();
    default_class.metadata.name = Some("kybern".into());
    default_class.metadata.annotations.insert(
        "ingressclass.kubernetes.io/is-default-class".into(),
        "true".into(),
    );
    default_class.spec = Some(IngressClassSpec {
        controller: Some("kybern.dev/ingress".into()),
        ..Default::default()
    });
    let all = [ing, other];
    let classes = [default_class];
    let mine = ingresses_for_controller(&all, &classes, "kybern.dev/ingress");
    assert_eq!(
        mine.len(),
        1,
        "the class-less Ingress falls to the default class; the nginx one is not ours"
    );
    // (host, path, service)
    let table = [
        ("shop.example.com", "/", "shop"),
        ("shop.example.com", "/api/v1", "api"),
        ("shop.example.com", "/api/login", "login"),
        ("shop.example.com", "/apix", "shop"),
        ("blog.example.com", "/api", "wild"),
        ("example.com", "/", "fallback"),
    ];
    for (host, path, svc) in table {
        let b = route(&mine, host, path).unwrap();
        assert_eq!(
            (b.service.as_str(), b.namespace.as_str(), &b.port),
            (svc, "prod", &BackendPort::Number(80)),
            "{host}{path}"
        );
    }
}

fn svc(spec: ServiceSpec) -> Service {
    let mut s = Service::default();
    s.metadata.name = Some("web".into());
    s.metadata.namespace = Some("default".into());
    s.spec = Some(ServiceSpec {
        ports: vec![ServicePort {
            name: Some("http".into()),
            port: 80,
            ..Default::default()
        }],
        ..spec
    });
    s
}

fn ep(ip: &str, ready: bool, serving: bool, terminating: bool, node: &str) -> Endpoint {
    Endpoint {
        addresses: vec![ip.into()],
        conditions: Some(EndpointConditions {
            ready: Some(ready),
            serving: Some(serving),
            terminating: Some(terminating),
        }),
        node_name: Some(node.into()),
        ..Default::default()
    }
}

fn slice(eps: Vec<Endpoint>) -> EndpointSlice {
    let mut s = EndpointSlice {
        address_type: "IPv4".into(),
        endpoints: eps,
        ports: vec![EndpointPort {
            name: Some("http".into()),
            port: Some(8080),
            protocol: Some("TCP".into()),
            app_protocol: None,
        }],
        ..Default::default()
    };
    s.metadata
        .labels
        .insert("kubernetes.io/service-name".into(), "web".into());
    s.metadata.namespace = Some("default".into());
    s
}

fn eligible(service: &Service, slices: &[EndpointSlice], source: TrafficSource) -> Vec<String> {
    let node = NodeContext {
        node_name: Some("n1".into()),
        zone: None,
    };
    let r = ServiceResolver::build(service, slices, &node, PickerKind::Random.build(), None);
    let mut v: Vec<String> = r
        .backends(80, "TCP", source)
        .iter()
        .map(|b| b.addr.ip().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn eligibility_readiness_fallback_and_local_policies() {
    let cluster = svc(ServiceSpec::default());
    let mixed = [slice(vec![
        ep("10.0.0.1", true, true, false, "n1"),
        ep("10.0.0.2", false, false, false, "n2"),
        ep("10.0.0.3", false, true, true, "n2"),
    ])];
    assert_eq!(
        eligible(&cluster, &mixed, TrafficSource::Internal),
        ["10.0.0.1"],
        "only ready"
    );
    let terminating = [slice(vec![
        ep("10.0.0.2", false, false, false, "n2"),
        ep("10.0.0.3", false, true, true, "n2"),
    ])];
    assert_eq!(
        eligible(&cluster, &terminating, TrafficSource::Internal),
        ["10.0.0.3"],
        "serving+terminating fallback"
    );
    let spread = [slice(vec![
        ep("10.0.0.1", true, true, false, "n1"),
        ep("10.0.0.4", true, true, false, "n2"),
    ])];
    let local_int = svc(ServiceSpec {
        internal_traffic_policy: Some("Local".into()),
        ..Default::default()
    });
    assert_eq!(
        eligible(&local_int, &spread, TrafficSource::Internal),
        ["10.0.0.1"]
    );
    assert_eq!(
        eligible(&local_int, &spread, TrafficSource::External),
        ["10.0.0.1", "10.0.0.4"]
    );
    let local_ext = svc(ServiceSpec {
        external_traffic_policy: Some("Local".into()),
        ..Default::default()
    });
    assert_eq!(
        eligible(&local_ext, &spread, TrafficSource::External),
        ["10.0.0.1"]
    );
    let remote_only = [slice(vec![ep("10.0.0.4", true, true, false, "n2")])];
    let r = ServiceResolver::build(
        &local_ext,
        &remote_only,
        &NodeContext {
            node_name: Some("n1".into()),
            zone: None,
        },
        PickerKind::Random.build(),
        None,
    );
    assert!(
        matches!(
            r.resolve(80, "TCP", TrafficSource::External, None),
            Err(ResolveError::NoEndpoints { .. })
        ),
        "Local with no local endpoint drops"
    );
    assert!(matches!(
        r.resolve(81, "TCP", TrafficSource::Internal, None),
        Err(ResolveError::NoSuchPort { .. })
    ));
}

#[test]
fn pickers_and_client_ip_affinity() {
    let slices = [slice(
        (1..=4)
            .map(|i| ep(&format!("10.0.0.{i}"), true, true, false, "n1"))
            .collect(),
    )];
    let plain = svc(ServiceSpec::default());
    let client: IpAddr = "192.0.2.7".parse().unwrap();
    // (picker, distinct backends over 8 picks from one client)
    let table = [(PickerKind::RoundRobin, 4), (PickerKind::SourceHash, 1)];
    for (kind, want) in table {
        let r =
            ServiceResolver::build(&plain, &slices, &NodeContext::default(), kind.build(), None);
        let seen: std::collections::BTreeSet<_> = (0..8)
            .map(|_| {
                r.resolve(80, "TCP", TrafficSource::Internal, Some(client))
                    .unwrap()
                    .addr
            })
            .collect();
        assert_eq!(seen.len(), want, "{kind:?}");
    }
    // Least connections: held picks push new ones elsewhere.
    let r = ServiceResolver::build(
        &plain,
        &slices,
        &NodeContext::default(),
        PickerKind::LeastConnections.build(),
        None,
    );
    let held: Vec<_> = (0..4)
        .map(|_| r.resolve(80, "TCP", TrafficSource::Internal, None).unwrap())
        .collect();
    let distinct: std::collections::BTreeSet<_> = held.iter().map(|p| p.addr).collect();
    assert_eq!(distinct.len(), 4);
    drop(held);
    assert!(
        r.backends(80, "TCP", TrafficSource::Internal)
            .iter()
            .all(|b| b.active_connections() == 0)
    );
    // ClientIP affinity with round robin underneath: one client sticks, another moves on.
    let sticky = svc(ServiceSpec {
        session_affinity: Some("ClientIP".into()),
        session_affinity_config: Some(SessionAffinityConfig {
            client_ip: Some(ClientIPConfig {
                timeout_seconds: Some(1),
            }),
        }),
        ..Default::default()
    });
    let r = ServiceResolver::build(
        &sticky,
        &slices,
        &NodeContext::default(),
        PickerKind::RoundRobin.build(),
        None,
    );
    let first = r
        .resolve(80, "TCP", TrafficSource::Internal, Some(client))
        .unwrap()
        .addr;
    for _ in 0..5 {
        assert_eq!(
            r.resolve(80, "TCP", TrafficSource::Internal, Some(client))
                .unwrap()
                .addr,
            first
        );
    }
    // Survives a rebuild; expires after the timeout.
    let r2 = ServiceResolver::build(
        &sticky,
        &slices,
        &NodeContext::default(),
        PickerKind::RoundRobin.build(),
        Some(&r),
    );
    assert_eq!(
        r2.resolve(80, "TCP", TrafficSource::Internal, Some(client))
            .unwrap()
            .addr,
        first
    );
    std::thread::sleep(Duration::from_millis(1100));
    // After the timeout: another client takes the round-robin slot `first` had, and the
    // expired client is picked afresh onto the next backend.
    let other = r2
        .resolve(
            80,
            "TCP",
            TrafficSource::Internal,
            Some("192.0.2.8".parse().unwrap()),
        )
        .unwrap()
        .addr;
    assert_eq!(other, first);
    assert_ne!(
        r2.resolve(80, "TCP", TrafficSource::Internal, Some(client))
            .unwrap()
            .addr,
        first,
        "affinity expired"
    );
}

fn records(t: &DnsTable, name: &str, kind: RecordKind) -> Vec<RecordData> {
    match t.lookup(name, kind) {
        DnsAnswer::Records(r) => r.into_iter().map(|r| r.data).collect(),
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn dns_records_for_service_kinds() {
    let cluster_ip = svc(ServiceSpec {
        cluster_ip: Some("10.96.0.10".into()),
        cluster_ips: vec!["10.96.0.10".into(), "fd00::a".into()],
        ..Default::default()
    });
    let mut headless = svc(ServiceSpec {
        cluster_ip: Some("None".into()),
        ..Default::default()
    });
    headless.metadata.name = Some("db".into());
    let mut db_slice = slice(vec![
        ep("10.1.0.1", true, true, false, "n1"),
        ep("10.1.0.2", true, true, false, "n1"),
        ep("10.1.0.3", false, false, false, "n1"),
    ]);
    db_slice.endpoints[0].hostname = Some("db-0".into());
    db_slice
        .metadata
        .labels
        .insert("kubernetes.io/service-name".into(), "db".into());
    let mut ext = svc(ServiceSpec {
        type_: Some("ExternalName".into()),
        external_name: Some("Example.COM".into()),
        ..Default::default()
    });
    ext.metadata.name = Some("ext".into());
    let t = DnsTable::build("cluster.local", &[cluster_ip, headless, ext], &[db_slice]);
    assert_eq!(
        records(&t, "web.default.svc.cluster.local.", RecordKind::A),
        [RecordData::A("10.96.0.10".parse().unwrap())]
    );
    assert_eq!(
        records(&t, "WEB.default.svc.cluster.local", RecordKind::Aaaa),
        [RecordData::Aaaa("fd00::a".parse().unwrap())]
    );
    assert_eq!(
        records(
            &t,
            "_http._tcp.web.default.svc.cluster.local",
            RecordKind::Srv
        ),
        [RecordData::Srv {
            priority: 0,
            weight: 100,
            port: 80,
            target: "web.default.svc.cluster.local".into()
        }]
    );
    // Headless: ready endpoints only, per-endpoint names by hostname or dashed IP.
    let mut a = records(&t, "db.default.svc.cluster.local", RecordKind::A);
    a.sort_by_key(|r| format!("{r:?}"));
    assert_eq!(
        a,
        [
            RecordData::A("10.1.0.1".parse().unwrap()),
            RecordData::A("10.1.0.2".parse().unwrap())
        ]
    );
    assert_eq!(
        records(&t, "db-0.db.default.svc.cluster.local", RecordKind::A),
        [RecordData::A("10.1.0.1".parse().unwrap())]
    );
    assert_eq!(
        records(&t, "10-1-0-2.db.default.svc.cluster.local", RecordKind::A),
        [RecordData::A("10.1.0.2".parse().unwrap())]
    );
    assert_eq!(
        t.lookup("10-1-0-3.db.default.svc.cluster.local", RecordKind::A),
        DnsAnswer::NxDomain,
        "not-ready endpoint unpublished"
    );
    let srv = records(
        &t,
        "_http._tcp.db.default.svc.cluster.local",
        RecordKind::Srv,
    );
    assert_eq!(srv.len(), 2);
    assert!(srv.contains(&RecordData::Srv {
        priority: 0,
        weight: 50,
        port: 8080,
        target: "db-0.db.default.svc.cluster.local".into()
    }));
    // ExternalName: a CNAME whatever the type asked.
    assert_eq!(
        records(&t, "ext.default.svc.cluster.local", RecordKind::A),
        [RecordData::Cname("example.com".into())]
    );
    // Existing parent name: NODATA; unknown: NXDOMAIN.
    assert_eq!(
        t.lookup("default.svc.cluster.local", RecordKind::A),
        DnsAnswer::NoData
    );
    assert_eq!(
        t.lookup("nope.default.svc.cluster.local", RecordKind::A),
        DnsAnswer::NxDomain
    );
}

#[test]
fn dns_pod_records_insecure_verified_disabled() {
    use kybern_core::api::core::v1::{Pod, PodIP, PodStatus};
    use kybern_netsvc::dns::PodRecords;
    let mut pod = Pod::default();
    pod.metadata.namespace = Some("team".into());
    pod.status = Some(PodStatus {
        pod_ip: Some("10.1.2.3".into()),
        pod_ips: ["10.1.2.3", "fd00::7"]
            .iter()
            .map(|ip| PodIP { ip: (*ip).into() })
            .collect(),
        ..Default::default()
    });
    let ip = |s: &str| -> Option<IpAddr> { Some(s.parse().unwrap()) };
    use DnsAnswer::{NoData, NxDomain};
    use PodRecords::{Disabled, Insecure, Verified};
    use RecordKind::{A, Aaaa};
    // (mode, name, type, Ok(address) or the empty answer)
    type Case = (
        PodRecords,
        &'static str,
        RecordKind,
        Result<Option<IpAddr>, DnsAnswer>,
    );
    let table: [Case; 9] = [
        (
            Insecure,
            "10-1-2-3.team.pod.cluster.local",
            A,
            Ok(ip("10.1.2.3")),
        ),
        (
            Insecure,
            "9-9-9-9.other.pod.cluster.local.",
            A,
            Ok(ip("9.9.9.9")),
        ),
        (
            Insecure,
            "fd00--7.team.pod.cluster.local",
            Aaaa,
            Ok(ip("fd00::7")),
        ),
        (
            Insecure,
            "10-1-2-3.team.pod.cluster.local",
            Aaaa,
            Err(NoData),
        ),
        (
            Insecure,
            "not-an-ip.team.pod.cluster.local",
            A,
            Err(NxDomain),
        ),
        (
            Verified,
            "10-1-2-3.team.pod.cluster.local",
            A,
            Ok(ip("10.1.2.3")),
        ),
        (
            Verified,
            "fd00--7.team.pod.cluster.local",
            Aaaa,
            Ok(ip("fd00::7")),
        ),
        (
            Verified,
            "10-1-2-3.other.pod.cluster.local",
            A,
            Err(NxDomain),
        ),
        (
            Disabled,
            "10-1-2-3.team.pod.cluster.local",
            A,
            Err(NxDomain),
        ),
    ];
    for (mode, name, kind, want) in table {
        let mut t = DnsTable::new("cluster.local").with_pod_records(mode);
        t.add_pod(&pod);
        let got = match t.lookup(name, kind) {
            DnsAnswer::Records(r) => {
                assert_eq!(r.len(), 1, "{mode:?} {name}");
                Ok(match r[0].data {
                    RecordData::A(a) => Some(IpAddr::V4(a)),
                    RecordData::Aaaa(a) => Some(IpAddr::V6(a)),
                    _ => None,
                })
            }
            other => Err(other),
        };
        assert_eq!(got, want, "{mode:?} {name} {kind:?}");
    }
}

#[tokio::test]
async fn load_balancer_status_written_back_and_cleared() {
    use kybern_netsvc::service_type::{LoopbackLoadBalancer, sync_load_balancer};
    use kybern_reconciler::{Api, MemoryStore, Store};
    use std::sync::Arc;
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let api: Api<Service> = Api::namespaced(store, "default");
    let provider = LoopbackLoadBalancer::new();
    let mut lb = svc(ServiceSpec {
        type_: Some("LoadBalancer".into()),
        ..Default::default()
    });
    lb = api.create(&lb).await.unwrap();
    let ingress_of = |s: &Service| -> Vec<Option<String>> {
        s.status
            .iter()
            .flat_map(|st| st.load_balancer.iter())
            .flat_map(|l| l.ingress.iter())
            .map(|i| i.ip.clone())
            .collect()
    };
    let synced = sync_load_balancer(&api, &provider, &lb).await.unwrap();
    assert_eq!(ingress_of(&synced), [Some("127.0.0.2".to_string())]);
    let stored = api.get("web").await.unwrap();
    assert_eq!(ingress_of(&stored), [Some("127.0.0.2".to_string())]);
    // Idempotent: no second write (the resourceVersion stays).
    let again = sync_load_balancer(&api, &provider, &stored).await.unwrap();
    assert_eq!(
        again.metadata.resource_version,
        stored.metadata.resource_version
    );
    // Turned into a ClusterIP Service: released and cleared.
    let mut cip = stored.clone();
    cip.spec.as_mut().unwrap().type_ = Some("ClusterIP".into());
    let cip = api.update(&cip).await.unwrap();
    let cleared = sync_load_balancer(&api, &provider, &cip).await.unwrap();
    assert!(ingress_of(&cleared).is_empty());
    assert!(ingress_of(&api.get("web").await.unwrap()).is_empty());
}

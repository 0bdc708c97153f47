//! Services for learners: three pods (real echo servers on loopback) behind a Service, traffic
//! spread across them by a userspace proxy, one pod dies and traffic moves away, and the
//! Service's DNS name resolves. Run: `cargo run --example services --features netsvc`.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use kybern::core::IntOrString;
use kybern::core::api::core::v1::{
    Container, ContainerPort, Pod, PodCondition, PodSpec, PodStatus, Service, ServicePort,
    ServiceSpec,
};
use kybern::core::api::discovery::v1::EndpointSlice;
use kybern::netsvc::alloc::{AllocatorConfig, PortRange, ServiceAllocator};
use kybern::netsvc::dns::{DnsAnswer, DnsTable, RecordKind};
use kybern::netsvc::endpointslice::controller::EndpointSliceController;
use kybern::netsvc::proxy::{ProxyPort, ServiceProxy};
use kybern::netsvc::resolver::{NodeContext, PickerKind, ServiceResolver};
use kybern::reconciler::{Api, ListParams, MemoryStore, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// A tiny server standing in for a pod's container: it answers "<name> says: <what you sent>".
async fn echo_server(name: String) -> anyhow::Result<(u16, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind((LOOPBACK, 0)).await?;
    let port = listener.local_addr()?.port();
    let task = tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let name = name.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 512];
                if let Ok(n) = conn.read(&mut buf).await {
                    let reply = format!("{name} says: {}", String::from_utf8_lossy(&buf[..n]));
                    let _ = conn.write_all(reply.as_bytes()).await;
                }
            });
        }
    });
    Ok((port, task))
}

fn pod(name: &str, port: u16) -> Pod {
    let mut p = Pod::default();
    p.metadata.name = Some(name.into());
    p.metadata.namespace = Some("shop".into());
    p.metadata.labels = kybern::core::LabelMap::from([("app".to_string(), "web".to_string())]);
    p.spec = Some(PodSpec {
        containers: vec![Container {
            name: "web".into(),
            ports: vec![ContainerPort {
                name: Some("http".into()),
                container_port: i32::from(port),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    });
    p.status = Some(PodStatus {
        phase: Some("Running".into()),
        pod_ip: Some("127.0.0.1".into()),
        conditions: vec![PodCondition {
            type_: "Ready".into(),
            status: "True".into(),
            ..Default::default()
        }],
        ..Default::default()
    });
    p
}

async fn ask(addr: SocketAddr, what: &str) -> anyhow::Result<String> {
    let mut conn = TcpStream::connect(addr).await?;
    conn.write_all(what.as_bytes()).await?;
    let mut reply = String::new();
    conn.read_to_string(&mut reply).await?;
    Ok(reply)
}

async fn spread(addr: SocketAddr, n: usize) -> anyhow::Result<BTreeMap<String, usize>> {
    let mut count = BTreeMap::new();
    for i in 0..n {
        let reply = ask(addr, &format!("hello #{i}")).await?;
        let who = reply.split(' ').next().unwrap_or("?").to_string();
        *count.entry(who).or_insert(0) += 1;
    }
    Ok(count)
}

async fn slices(store: &Arc<dyn Store>) -> anyhow::Result<Vec<EndpointSlice>> {
    Ok(Api::<EndpointSlice>::namespaced(store.clone(), "shop")
        .list(&ListParams::default())
        .await?
        .items)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());

    println!("1. Three pods start. Each runs a real server on 127.0.0.1, on a port of its own.");
    let mut servers = Vec::new();
    let pods: Api<Pod> = Api::namespaced(store.clone(), "shop");
    for name in ["web-a", "web-b", "web-c"] {
        let (port, task) = echo_server(name.to_string()).await?;
        pods.create(&pod(name, port)).await?;
        println!("   {name} listens on 127.0.0.1:{port} (its container port is named \"http\")");
        servers.push(task);
    }

    println!(
        "2. A Service \"web\" selects them (app=web) and sends port 80 to the port named \"http\"."
    );
    let mut svc = Service::default();
    svc.metadata.name = Some("web".into());
    svc.metadata.namespace = Some("shop".into());
    svc.spec = Some(ServiceSpec {
        selector: BTreeMap::from([("app".to_string(), "web".to_string())]),
        ports: vec![ServicePort {
            name: Some("http".into()),
            port: 80,
            target_port: Some(IntOrString::String("http".into())),
            ..Default::default()
        }],
        ..Default::default()
    });
    let config = AllocatorConfig {
        service_cidrs: vec!["10.96.0.0/16".parse()?],
        node_ports: PortRange::DEFAULT,
    };
    let mut allocator = ServiceAllocator::new(&config)?;
    allocator.allocate(&mut svc)?;
    let svc = Api::<Service>::namespaced(store.clone(), "shop")
        .create(&svc)
        .await?;
    println!(
        "   it gets the virtual IP {}",
        svc.spec
            .as_ref()
            .and_then(|s| s.cluster_ip.as_deref())
            .unwrap_or("?")
    );

    println!("3. The EndpointSlice controller writes down where the Service's pods are.");
    let controller = EndpointSliceController::new(store.clone());
    controller.sync_service("shop", "web").await?;
    for s in slices(&store).await? {
        let port = s.ports.first().and_then(|p| p.port).unwrap_or(0);
        println!(
            "   slice {} → {} endpoint(s) on port {port}",
            s.metadata.name.as_deref().unwrap_or("?"),
            s.endpoints.len()
        );
    }

    println!(
        "   (three slices, not one: a slice holds endpoints that share one port list, and each"
    );
    println!("   pod's \"http\" port has a different number here.)");
    println!(
        "4. A proxy listens for the Service (on loopback, standing in for the virtual IP) and"
    );
    println!("   hands each new connection to the next pod in turn (round robin).");
    let node = NodeContext::default();
    let resolver = ServiceResolver::build(
        &svc,
        &slices(&store).await?,
        &node,
        PickerKind::RoundRobin.build(),
        None,
    );
    let proxy = ServiceProxy::start(
        resolver,
        &ProxyPort::for_service(&svc, LOOPBACK, LOOPBACK, true),
    )
    .await?;
    let addr = proxy.local_addrs()[0];
    println!("   first reply: {:?}", ask(addr, "hi").await?);
    println!(
        "   12 more connections were answered by: {:?}",
        spread(addr, 12).await?
    );

    println!("5. web-b dies. Its kubelet would mark the pod not ready; we do the same.");
    if let Some(task) = servers.get(1) {
        task.abort();
    }
    let mut b = pods.get("web-b").await?;
    if let Some(status) = b.status.as_mut() {
        status.conditions[0].status = "False".into();
    }
    pods.update_status(&b).await?;
    let stats = controller.sync_service("shop", "web").await?;
    println!(
        "   the controller rewrote {} slice(s) — only the one that changed",
        stats.slice_writes()
    );
    let previous = proxy.resolver();
    proxy.update(ServiceResolver::build(
        &svc,
        &slices(&store).await?,
        &node,
        PickerKind::RoundRobin.build(),
        Some(&previous),
    ));
    println!(
        "   12 new connections were answered by: {:?}",
        spread(addr, 12).await?
    );
    println!(
        "   connections that failed: {}",
        proxy
            .stats()
            .failed
            .load(std::sync::atomic::Ordering::Relaxed)
    );

    println!("6. Cluster DNS knows the Service by name.");
    let services = Api::<Service>::namespaced(store.clone(), "shop")
        .list(&ListParams::default())
        .await?
        .items;
    let dns = DnsTable::build("cluster.local", &services, &slices(&store).await?);
    for name in [
        "web.shop.svc.cluster.local",
        "_http._tcp.web.shop.svc.cluster.local",
        "nope.shop.svc.cluster.local",
    ] {
        let kind = if name.starts_with('_') {
            RecordKind::Srv
        } else {
            RecordKind::A
        };
        match dns.lookup(name, kind) {
            DnsAnswer::Records(r) => println!(
                "   {name} → {:?}",
                r.iter().map(|r| &r.data).collect::<Vec<_>>()
            ),
            other => println!("   {name} → {other:?}"),
        }
    }
    proxy.shutdown(std::time::Duration::from_secs(1)).await;
    Ok(())
}

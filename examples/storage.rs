//! A stateful database keeps its data across pod restarts: a claim, a StorageClass that
//! waits for the first consumer, the local-path provisioner making a real directory, the
//! "pod" writing into it, the pod deleted and recreated, and the data still there. The PV
//! controller runs in the background, woken by watches, as it would in a control plane.
//!
//! Run it with `cargo run --example storage`.

use std::sync::Arc;

use kybern::core::Quantity;
use kybern::core::api::core::v1::{
    Event, Node, PersistentVolume, PersistentVolumeClaim, PersistentVolumeClaimSpec,
    PersistentVolumeClaimVolumeSource, Pod, PodSpec, PodStatus, Volume, VolumeResourceRequirements,
};
use kybern::core::api::storage::v1::StorageClass;
use kybern::reconciler::runtime::Shutdown;
use kybern::reconciler::{Api, DeleteParams, ListParams, MemoryStore, Store};
use kybern::storage::annotations::{HOSTNAME_LABEL, SELECTED_NODE};
use kybern::storage::controller::StorageController;
use kybern::storage::provision::{LOCAL_PATH_PROVISIONER, LocalPathProvisioner};

fn db_pod(node: &str) -> Pod {
    let mut pod = Pod::default();
    pod.metadata.name = Some("postgres-0".into());
    pod.metadata.namespace = Some("shop".into());
    pod.spec = Some(PodSpec {
        node_name: Some(node.into()),
        volumes: vec![Volume {
            name: "data".into(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: "postgres-data".into(),
                read_only: None,
            }),
            ..Default::default()
        }],
        ..Default::default()
    });
    pod.status = Some(PodStatus {
        phase: Some("Running".into()),
        ..Default::default()
    });
    pod
}

/// Waits (up to 10 s) until `done` says the controller got there.
async fn wait_until<F, Fut>(what: &str, mut done: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<bool>>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !done().await? {
        if tokio::time::Instant::now() > deadline {
            anyhow::bail!("timed out waiting for {what}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    Ok(())
}

fn phase(c: &PersistentVolumeClaim) -> &str {
    c.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("-")
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let disk = std::env::temp_dir().join(format!("kybern-storage-example-{}", std::process::id()));
    println!(
        "1. A node, \"worker-1\", offers 10Gi of local disk under {}.",
        disk.display()
    );
    let mut node = Node::default();
    node.metadata.name = Some("worker-1".into());
    node.metadata
        .labels
        .insert(HOSTNAME_LABEL.into(), "worker-1".into());
    Api::<Node>::all(store.clone()).create(&node).await?;
    let provisioner = LocalPathProvisioner::new(&disk, Quantity::parse("10Gi")?);
    let controller = StorageController::new(store.clone()).with_provisioner(Arc::new(provisioner));
    let stop = Shutdown::new();
    let running = tokio::spawn({
        let stop = stop.clone();
        async move { controller.run(stop).await }
    });

    println!(
        "2. The administrator offers a StorageClass \"local\" that waits for the first consumer:"
    );
    println!("   a volume is only made once we know which node the database runs on.");
    let mut class = StorageClass::default();
    class.metadata.name = Some("local".into());
    class.provisioner = LOCAL_PATH_PROVISIONER.into();
    class.volume_binding_mode = Some("WaitForFirstConsumer".into());
    class.reclaim_policy = Some("Delete".into());
    Api::<StorageClass>::all(store.clone())
        .create(&class)
        .await?;

    println!("3. The database asks for 1Gi through a PersistentVolumeClaim.");
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(store.clone(), "shop");
    let mut claim = PersistentVolumeClaim::default();
    claim.metadata.name = Some("postgres-data".into());
    claim.spec = Some(PersistentVolumeClaimSpec {
        access_modes: vec!["ReadWriteOnce".into()],
        storage_class_name: Some("local".into()),
        resources: Some(VolumeResourceRequirements {
            requests: [("storage".to_owned(), Quantity::parse("1Gi")?)]
                .into_iter()
                .collect(),
            ..Default::default()
        }),
        ..Default::default()
    });
    claims.create(&claim).await?;
    let events: Api<Event> = Api::all(store.clone());
    wait_until("the WaitForFirstConsumer event", || async {
        Ok(!events.list(&ListParams::default()).await?.items.is_empty())
    })
    .await?;
    let c = claims.get("postgres-data").await?;
    println!(
        "   The claim is {}: nobody uses it yet, so the controller waits.",
        phase(&c)
    );
    for e in Api::<Event>::all(store.clone())
        .list(&ListParams::default())
        .await?
        .items
    {
        println!(
            "   event: {} {}: {}",
            e.type_.unwrap_or_default(),
            e.reason.unwrap_or_default(),
            e.message.unwrap_or_default()
        );
    }

    println!("4. The database pod is scheduled to worker-1; the scheduler tells the claim.");
    let mut c = c;
    c.metadata
        .annotations
        .insert(SELECTED_NODE.into(), "worker-1".into());
    claims.update(&c).await?;
    let pods: Api<Pod> = Api::namespaced(store.clone(), "shop");
    pods.create(&db_pod("worker-1")).await?;
    wait_until("the claim to be bound", || async {
        Ok(phase(&claims.get("postgres-data").await?) == "Bound")
    })
    .await?;
    let c = claims.get("postgres-data").await?;
    let volume_name = c
        .spec
        .as_ref()
        .and_then(|s| s.volume_name.clone())
        .unwrap_or_default();
    let pv = Api::<PersistentVolume>::all(store.clone())
        .get(&volume_name)
        .await?;
    let path = pv
        .spec
        .as_ref()
        .and_then(|s| s.local.as_ref())
        .map(|l| l.path.clone())
        .unwrap_or_default();
    println!(
        "   The claim is {}, bound to volume {volume_name}.",
        phase(&c)
    );
    println!("   Its data lives in the directory {path}");

    println!("5. The database writes a row to its volume.");
    std::fs::write(
        std::path::Path::new(&path).join("orders.db"),
        "order 1: 3 apples\n",
    )?;

    println!("6. The pod crashes and is deleted. The claim and the volume stay.");
    pods.delete("postgres-0", &DeleteParams::default()).await?;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    println!(
        "   Claim: {}; directory still there: {}",
        phase(&claims.get("postgres-data").await?),
        std::path::Path::new(&path).is_dir()
    );

    println!("7. A new pod starts with the same claim and reads the data.");
    pods.create(&db_pod("worker-1")).await?;
    let c = claims.get("postgres-data").await?;
    let same = c.spec.as_ref().and_then(|s| s.volume_name.as_deref()) == Some(volume_name.as_str());
    let data = std::fs::read_to_string(std::path::Path::new(&path).join("orders.db"))?;
    println!("   Same volume: {same}. The new pod reads: {}", data.trim());

    println!("8. Cleaning up: the pod and the claim are deleted; with reclaim policy Delete the");
    println!("   provisioner removes the directory.");
    pods.delete("postgres-0", &DeleteParams::default()).await?;
    claims
        .delete("postgres-data", &DeleteParams::default())
        .await?;
    let volumes: Api<PersistentVolume> = Api::all(store.clone());
    wait_until("the volume to be deleted", || async {
        Ok(volumes.get_opt(&volume_name).await?.is_none())
    })
    .await?;
    println!(
        "   Directory still there: {}",
        std::path::Path::new(&path).exists()
    );
    stop.trigger();
    running.await?;
    let _ = std::fs::remove_dir_all(&disk);
    Ok(())
}

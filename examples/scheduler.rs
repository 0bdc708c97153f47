//! The scheduler, for learners: three nodes of different sizes (one tainted for GPUs), pods
//! with requests and affinity arriving, the explain table for one pod, and a pod that fits
//! nowhere — with kube-scheduler's own message in its `PodScheduled` condition.
//!
//! Run: `cargo run --example scheduler --features scheduler`

use std::sync::Arc;
use std::time::Duration;

use kybern::core::api::core::v1::Pod;
use kybern::reconciler::{Api, ListParams, MemoryStore, Store};
use kybern::scheduler::Scheduler;
use kybern::scheduler::sim::{NodeBuilder, PodBuilder, create};

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());

    println!("1. Three nodes join the cluster:");
    let nodes = [
        NodeBuilder::new("small", "2", "4Gi").zone("zone-a").build(),
        NodeBuilder::new("large", "8", "32Gi")
            .zone("zone-b")
            .build(),
        NodeBuilder::new("gpu", "8", "32Gi")
            .zone("zone-b")
            .label("accelerator", "nvidia")
            .taint("nvidia.com/gpu", "present", "NoSchedule")
            .build(),
    ];
    for n in &nodes {
        create(&store, n).await?;
        println!(
            "   {} (zone {})",
            n.metadata.name.as_deref().unwrap_or(""),
            n.metadata.labels["topology.kubernetes.io/zone"]
        );
    }
    println!(
        "   `gpu` is tainted nvidia.com/gpu=present:NoSchedule: only pods tolerating it may land there."
    );

    println!("2. The scheduler starts: it lists nodes and pods, then watches for changes.");
    let scheduler = Scheduler::builder(store.clone()).build()?;
    let handle = scheduler.run().await?;

    println!("3. Pods arrive:");
    let pods = [
        PodBuilder::new("default", "web-1")
            .requests("500m", "512Mi")
            .label("app", "web")
            .build(),
        PodBuilder::new("default", "web-2")
            .requests("500m", "512Mi")
            .label("app", "web")
            .anti_affinity(("app", "web"), "kubernetes.io/hostname")
            .build(),
        PodBuilder::new("default", "trainer")
            .requests("4", "8Gi")
            .node_selector("accelerator", "nvidia")
            .toleration("nvidia.com/gpu", "Exists", "", "NoSchedule")
            .build(),
    ];
    for p in &pods {
        create(&store, p).await?;
    }
    let api: Api<Pod> = Api::namespaced(store.clone(), "default");
    wait_until_bound(&api, 3).await?;
    for p in api.list(&ListParams::default()).await?.items {
        println!(
            "   {:<8} -> {}",
            p.metadata.name.as_deref().unwrap_or(""),
            p.spec
                .as_ref()
                .and_then(|s| s.node_name.as_deref())
                .unwrap_or("(pending)")
        );
    }
    println!("   web-2 avoided web-1's node (required anti-affinity on kubernetes.io/hostname);");
    println!(
        "   the trainer went to the GPU node: it selects accelerator=nvidia and tolerates the taint."
    );

    println!(
        "4. Where would an `api` pod (1 cpu, prefers zone-a) go? The explain table shows every"
    );
    println!(
        "   node's filter verdicts and, for the nodes that pass, each plugin's score (weight):"
    );
    let next = PodBuilder::new("default", "api")
        .requests("1", "1Gi")
        .prefer_node("topology.kubernetes.io/zone", "zone-a", 50)
        .build();
    if let Some(e) = scheduler.explain(&next) {
        print!("{e}");
    }

    println!("5. A pod that fits nowhere:");
    create(
        &store,
        &PodBuilder::new("default", "huge")
            .requests("16", "1Gi")
            .build(),
    )
    .await?;
    let message = wait_for_condition(&api, "huge").await?;
    println!("   PodScheduled=False, reason Unschedulable:");
    println!("   {message}");
    handle.shutdown();
    Ok(())
}

async fn wait_until_bound(api: &Api<Pod>, n: usize) -> anyhow::Result<()> {
    for _ in 0..500 {
        let bound = api
            .list(&ListParams::default())
            .await?
            .items
            .iter()
            .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some())
            .count();
        if bound >= n {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    anyhow::bail!("pods were not bound in time")
}

async fn wait_for_condition(api: &Api<Pod>, name: &str) -> anyhow::Result<String> {
    for _ in 0..500 {
        let p = api.get(name).await?;
        if let Some(c) = p.status.and_then(|s| {
            s.conditions
                .into_iter()
                .find(|c| c.type_ == "PodScheduled" && c.status == "False")
        }) {
            return Ok(c.message.unwrap_or_default());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    anyhow::bail!("no PodScheduled condition in time")
}

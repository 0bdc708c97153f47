//! End to end through the real scheduler loop (default profile + the volume plugins) and the
//! PV controller on a MemoryStore: pods land only where their claims can be satisfied, and
//! the claims end up bound (statically, or by the local-path provisioner on the chosen node).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use kybern_core::Quantity;
use kybern_core::api::core::v1::{PersistentVolume, PersistentVolumeClaim, Pod};
use kybern_core::api::storage::v1::StorageClass;
use kybern_reconciler::runtime::{SharedInformers, Shutdown};
use kybern_reconciler::{Api, MemoryStore, Store};
use kybern_scheduler::sim::NodeBuilder;
use kybern_scheduler::{Scheduler, SchedulerHandle};
use kybern_storage::annotations::{
    BINDING_WAIT_FOR_FIRST_CONSUMER, CLAIM_BOUND, HOSTNAME_LABEL, RECLAIM_DELETE, SELECTED_NODE,
};
use kybern_storage::controller::StorageController;
use kybern_storage::provision::{LOCAL_PATH_PROVISIONER, LocalPathProvisioner};
use kybern_storage::scheduler::sim::{claim, pinned_volume, pod_with_claims, static_wffc_class};
use kybern_storage::scheduler::{VolumeCache, requeue_on_volume_changes, volume_framework};
use kybern_storage::scheduling::volume_binding::ERR_UNBOUND_IMMEDIATE;

const NS: &str = "db";

struct Cluster {
    store: Arc<dyn Store>,
    stop: Shutdown,
    scheduler: Option<SchedulerHandle>,
    _dir: tempfile::TempDir,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(h) = self.scheduler.take() {
            h.shutdown();
        }
        self.stop.trigger();
    }
}

impl Cluster {
    /// Nodes, then the PV controller (with a local-path provisioner) and the scheduler.
    async fn start(nodes: &[&str]) -> Self {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        for n in nodes {
            Api::all(store.clone())
                .create(&NodeBuilder::new(n, "4", "32Gi").build())
                .await
                .unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        let informers = SharedInformers::new();
        let stop = Shutdown::new();
        let lp = LocalPathProvisioner::new(dir.path(), Quantity::parse("10Gi").unwrap());
        let ctrl = StorageController::new(store.clone())
            .with_provisioner(Arc::new(lp))
            .with_informers(&informers);
        let signal = stop.clone();
        tokio::spawn(async move { ctrl.run(signal).await });
        let cache = VolumeCache::new();
        cache.feed(store.clone(), &informers, stop.clone()).await;
        let profile = volume_framework(
            "default-scheduler",
            store.clone(),
            cache.clone(),
            &Default::default(),
        )
        .unwrap();
        let scheduler = Scheduler::builder(store.clone())
            .profile(profile)
            .build()
            .unwrap();
        requeue_on_volume_changes(&scheduler, &cache, stop.clone());
        let handle = scheduler.run().await.unwrap();
        Cluster {
            store,
            stop,
            scheduler: Some(handle),
            _dir: dir,
        }
    }

    async fn create<K>(&self, obj: &K)
    where
        K: kybern_core::Resource<DynamicType = ()>
            + Clone
            + serde::Serialize
            + serde::de::DeserializeOwned
            + Send
            + Sync
            + 'static,
    {
        let api: Api<K> = match obj.meta().namespace.as_deref() {
            Some(ns) => Api::namespaced(self.store.clone(), ns),
            None => Api::all(self.store.clone()),
        };
        api.create(obj).await.unwrap();
    }

    async fn pod(&self, name: &str) -> Pod {
        Api::<Pod>::namespaced(self.store.clone(), NS)
            .get(name)
            .await
            .unwrap()
    }

    async fn claim(&self, name: &str) -> PersistentVolumeClaim {
        Api::<PersistentVolumeClaim>::namespaced(self.store.clone(), NS)
            .get(name)
            .await
            .unwrap()
    }

    /// Waits (virtual time) until the pod has a node; returns it.
    async fn node_of(&self, name: &str) -> Option<String> {
        for _ in 0..600 {
            if let Some(n) = self.pod(name).await.spec.and_then(|s| s.node_name) {
                return Some(n);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        None
    }
}

fn phase(c: &PersistentVolumeClaim) -> &str {
    c.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

fn volume_of(c: &PersistentVolumeClaim) -> String {
    c.spec
        .as_ref()
        .and_then(|s| s.volume_name.clone())
        .unwrap_or_default()
}

#[tokio::test(start_paused = true)]
async fn a_pod_with_two_claims_lands_only_where_both_can_be_satisfied() {
    let k = Cluster::start(&["node-a", "node-b", "node-c"]).await;
    k.create(&static_wffc_class("local")).await;
    // node-a only has room for "data", node-b only for "logs"; node-c for both.
    for (pv, size, node) in [
        ("data-on-a", "10Gi", "node-a"),
        ("logs-on-b", "1Gi", "node-b"),
        ("data-on-c", "10Gi", "node-c"),
        ("logs-on-c", "1Gi", "node-c"),
    ] {
        k.create(&pinned_volume(pv, size, "local", node)).await;
    }
    k.create(&claim(NS, "data", "5Gi", "local")).await;
    k.create(&claim(NS, "logs", "1Gi", "local")).await;
    k.create(&pod_with_claims(NS, "db-0", &["data", "logs"]))
        .await;

    assert_eq!(k.node_of("db-0").await.as_deref(), Some("node-c"));
    let data = k.claim("data").await;
    let logs = k.claim("logs").await;
    assert_eq!(
        (phase(&data), volume_of(&data).as_str()),
        (CLAIM_BOUND, "data-on-c")
    );
    assert_eq!(
        (phase(&logs), volume_of(&logs).as_str()),
        (CLAIM_BOUND, "logs-on-c")
    );
    for unused in ["data-on-a", "logs-on-b"] {
        let v = Api::<PersistentVolume>::all(k.store.clone())
            .get(unused)
            .await
            .unwrap();
        assert!(v.spec.unwrap().claim_ref.is_none(), "{unused} untouched");
    }
}

#[tokio::test(start_paused = true)]
async fn no_node_satisfies_both_claims_so_the_pod_stays_pending() {
    let k = Cluster::start(&["node-a", "node-b"]).await;
    k.create(&static_wffc_class("local")).await;
    k.create(&pinned_volume("data-on-a", "10Gi", "local", "node-a"))
        .await;
    k.create(&pinned_volume("logs-on-b", "1Gi", "local", "node-b"))
        .await;
    k.create(&claim(NS, "data", "5Gi", "local")).await;
    k.create(&claim(NS, "logs", "1Gi", "local")).await;
    k.create(&pod_with_claims(NS, "db-0", &["data", "logs"]))
        .await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let pod = k.pod("db-0").await;
    assert!(pod.spec.as_ref().unwrap().node_name.is_none());
    let cond = pod
        .status
        .unwrap()
        .conditions
        .into_iter()
        .find(|c| c.type_ == "PodScheduled")
        .unwrap();
    assert_eq!(
        cond.message.as_deref(),
        Some(
            "0/2 nodes are available: 2 node(s) didn't find available persistent volumes to bind. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
        )
    );
    for c in ["data", "logs"] {
        assert!(volume_of(&k.claim(c).await).is_empty(), "{c} unbound");
    }
}

#[tokio::test(start_paused = true)]
async fn wait_for_first_consumer_claim_is_provisioned_on_the_chosen_node() {
    let k = Cluster::start(&["node-a", "node-b"]).await;
    let mut class = StorageClass::default();
    class.metadata.name = Some("local-path".into());
    class.provisioner = LOCAL_PATH_PROVISIONER.into();
    class.volume_binding_mode = Some(BINDING_WAIT_FOR_FIRST_CONSUMER.into());
    class.reclaim_policy = Some(RECLAIM_DELETE.into());
    k.create(&class).await;
    k.create(&claim(NS, "data", "1Gi", "local-path")).await;
    k.create(&pod_with_claims(NS, "db-0", &["data"])).await;

    let node = k.node_of("db-0").await.expect("pod scheduled");
    let c = k.claim("data").await;
    assert_eq!(phase(&c), CLAIM_BOUND);
    assert_eq!(
        c.metadata.annotations.get(SELECTED_NODE),
        Some(&node),
        "the scheduler recorded its choice"
    );
    let v = Api::<PersistentVolume>::all(k.store.clone())
        .get(&volume_of(&c))
        .await
        .unwrap();
    let term = &v
        .spec
        .unwrap()
        .node_affinity
        .unwrap()
        .required
        .unwrap()
        .node_selector_terms[0];
    assert_eq!(term.match_expressions[0].key, HOSTNAME_LABEL);
    assert_eq!(term.match_expressions[0].values, vec![node]);
}

#[tokio::test(start_paused = true)]
async fn unbound_immediate_claim_keeps_the_pod_pending() {
    let k = Cluster::start(&["node-a"]).await;
    let mut class = static_wffc_class("slow");
    class.volume_binding_mode = Some("Immediate".into());
    k.create(&class).await;
    k.create(&claim(NS, "data", "1Gi", "slow")).await;
    k.create(&pod_with_claims(NS, "db-0", &["data"])).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let pod = k.pod("db-0").await;
    assert!(pod.spec.as_ref().unwrap().node_name.is_none());
    let message = pod
        .status
        .unwrap()
        .conditions
        .into_iter()
        .find(|c| c.type_ == "PodScheduled")
        .and_then(|c| c.message)
        .unwrap();
    assert!(message.contains(ERR_UNBOUND_IMMEDIATE), "{message}");
}

//! Volume workloads in the style of upstream's `scheduler_perf` (SchedulingCSIPVs /
//! SchedulingMigratedInTreePVs: every pod has one claim bound to its own volume; the claims
//! and volumes are created before the scheduler starts, the pods while measuring), plus a
//! WaitForFirstConsumer variant whose claims are bound at scheduling time by VolumeBinding
//! and the PV controller. Run end to end through a MemoryStore, the real scheduler loop with
//! the volume plugins, and (for the WaitForFirstConsumer variant) the PV controller;
//! reported like `kybern_scheduler::sim` (average, and percentiles of per-interval
//! throughput).

use std::sync::Arc;
use std::time::Instant;

use kybern_core::Quantity;
use kybern_core::api::core::v1::{
    CSIPersistentVolumeSource, LocalVolumeSource, Node, NodeSelector, NodeSelectorRequirement,
    NodeSelectorTerm, ObjectReference, PersistentVolume, PersistentVolumeClaim,
    PersistentVolumeClaimSpec, PersistentVolumeClaimVolumeSource, PersistentVolumeSpec, Pod,
    Volume, VolumeNodeAffinity, VolumeResourceRequirements,
};
use kybern_core::api::storage::v1::StorageClass;
use kybern_reconciler::runtime::{SharedInformers, Shutdown};
use kybern_reconciler::{Api, MemoryStore, Store};
use kybern_scheduler::Scheduler;
use kybern_scheduler::sim::{
    NodeBuilder, PodBuilder, Report, RunConfig, create, measured_phase, percentiles,
};

use super::{VolumeCache, volume_framework};
use crate::annotations::{
    BIND_COMPLETED, BINDING_WAIT_FOR_FIRST_CONSUMER, HOSTNAME_LABEL, NO_PROVISIONER,
    RECLAIM_RETAIN, STORAGE,
};
use crate::controller::StorageController;

/// The CSI driver of the bound workload's volumes.
pub const CSI_DRIVER: &str = "ebs.csi.aws.com";
/// The class of the WaitForFirstConsumer workload.
pub const LOCAL_CLASS: &str = "local-static";

fn q(s: &str) -> Quantity {
    Quantity::parse(s).unwrap_or_default()
}

/// A volume of `size` whose node affinity pins it to the node with hostname `node`.
pub fn pinned_volume(name: &str, size: &str, class: &str, node: &str) -> PersistentVolume {
    let mut v = PersistentVolume::default();
    v.metadata.name = Some(name.to_owned());
    v.spec = Some(PersistentVolumeSpec {
        access_modes: vec!["ReadWriteOnce".into()],
        capacity: [(STORAGE.to_owned(), q(size))].into_iter().collect(),
        storage_class_name: Some(class.to_owned()),
        persistent_volume_reclaim_policy: Some(RECLAIM_RETAIN.into()),
        local: Some(LocalVolumeSource {
            path: format!("/mnt/disks/{name}"),
            fs_type: None,
        }),
        node_affinity: Some(VolumeNodeAffinity {
            required: Some(NodeSelector {
                node_selector_terms: vec![NodeSelectorTerm {
                    match_expressions: vec![NodeSelectorRequirement {
                        key: HOSTNAME_LABEL.into(),
                        operator: "In".into(),
                        values: vec![node.to_owned()],
                    }],
                    match_fields: Vec::new(),
                }],
            }),
        }),
        ..PersistentVolumeSpec::default()
    });
    v
}

/// A claim for `size` of `class`.
pub fn claim(namespace: &str, name: &str, size: &str, class: &str) -> PersistentVolumeClaim {
    let mut c = PersistentVolumeClaim::default();
    c.metadata.name = Some(name.to_owned());
    c.metadata.namespace = Some(namespace.to_owned());
    c.spec = Some(PersistentVolumeClaimSpec {
        access_modes: vec!["ReadWriteOnce".into()],
        resources: Some(VolumeResourceRequirements {
            requests: [(STORAGE.to_owned(), q(size))].into_iter().collect(),
            ..VolumeResourceRequirements::default()
        }),
        storage_class_name: Some(class.to_owned()),
        ..PersistentVolumeClaimSpec::default()
    });
    c
}

/// A pod (100m CPU, 500Mi) using `claims` as volumes `vol-0`, `vol-1`, ….
pub fn pod_with_claims(namespace: &str, name: &str, claims: &[&str]) -> Pod {
    let mut pod = PodBuilder::new(namespace, name)
        .requests("100m", "500Mi")
        .build();
    if let Some(spec) = pod.spec.as_mut() {
        for (i, c) in claims.iter().enumerate() {
            spec.volumes.push(Volume {
                name: format!("vol-{i}"),
                persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                    claim_name: (*c).to_owned(),
                    read_only: None,
                }),
                ..Volume::default()
            });
        }
    }
    pod
}

/// A StorageClass that binds at the first consumer and never provisions.
pub fn static_wffc_class(name: &str) -> StorageClass {
    let mut c = StorageClass::default();
    c.metadata.name = Some(name.to_owned());
    c.provisioner = NO_PROVISIONER.into();
    c.volume_binding_mode = Some(BINDING_WAIT_FOR_FIRST_CONSUMER.into());
    c
}

/// Which volume workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VolumeWorkloadKind {
    /// Every pod's claim is already bound to a CSI volume pinned to one node (upstream's
    /// SchedulingCSIPVs; nodes allow 39 attachments of the driver).
    BoundCsi,
    /// Every pod's claim is unbound (WaitForFirstConsumer); a local volume pinned to one
    /// node waits for it; VolumeBinding picks it, the PV controller binds it.
    WaitForFirstConsumer,
}

/// A volume workload.
#[derive(Clone, Debug)]
pub struct VolumeWorkload {
    /// The name.
    pub name: &'static str,
    /// What the claims are.
    pub kind: VolumeWorkloadKind,
    /// Nodes.
    pub nodes: usize,
    /// Pods scheduled before measuring.
    pub init_pods: usize,
    /// Pods measured.
    pub measured_pods: usize,
}

impl VolumeWorkload {
    /// A workload.
    pub fn new(kind: VolumeWorkloadKind, nodes: usize, init_pods: usize, measured: usize) -> Self {
        let name = match kind {
            VolumeWorkloadKind::BoundCsi => "SchedulingCSIPVs",
            VolumeWorkloadKind::WaitForFirstConsumer => "SchedulingWFFCLocalPVs",
        };
        VolumeWorkload {
            name,
            kind,
            nodes,
            init_pods,
            measured_pods: measured,
        }
    }

    fn node(&self, i: usize) -> Node {
        NodeBuilder::new(&format!("node-{i}"), "4", "32Gi")
            .allocatable(&format!("attachable-volumes-csi-{CSI_DRIVER}"), "39")
            .build()
    }

    /// Creates pod `i`'s claim and volume (bound to each other for [`VolumeWorkloadKind::BoundCsi`]).
    async fn volume_for(&self, store: &Arc<dyn Store>, name: &str, i: usize) -> Result<(), Error> {
        let node = format!("node-{}", i % self.nodes.max(1));
        match self.kind {
            VolumeWorkloadKind::BoundCsi => {
                let mut c = claim("default", name, "1Gi", "csi");
                if let Some(s) = c.spec.as_mut() {
                    s.volume_name = Some(format!("pv-{name}"));
                }
                c.metadata
                    .annotations
                    .insert(BIND_COMPLETED.into(), "yes".into());
                let c = Api::<PersistentVolumeClaim>::namespaced(store.clone(), "default")
                    .create(&c)
                    .await?;
                let mut v = pinned_volume(&format!("pv-{name}"), "1Gi", "csi", &node);
                if let Some(s) = v.spec.as_mut() {
                    s.local = None;
                    s.csi = Some(CSIPersistentVolumeSource {
                        driver: CSI_DRIVER.into(),
                        volume_handle: format!("vol-{name}"),
                        ..CSIPersistentVolumeSource::default()
                    });
                    s.claim_ref = Some(ObjectReference {
                        name: c.metadata.name.clone(),
                        namespace: c.metadata.namespace.clone(),
                        uid: c.metadata.uid.clone(),
                        ..ObjectReference::default()
                    });
                }
                create(store, &v).await?;
            }
            VolumeWorkloadKind::WaitForFirstConsumer => {
                create(store, &claim("default", name, "1Gi", LOCAL_CLASS)).await?;
                create(
                    store,
                    &pinned_volume(&format!("pv-{name}"), "1Gi", LOCAL_CLASS, &node),
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn pod(store: &Arc<dyn Store>, name: &str) -> Result<(), Error> {
        create(store, &pod_with_claims("default", name, &[name])).await?;
        Ok(())
    }
}

/// A workload run that could not finish.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] kybern_reconciler::StoreError),
    /// The scheduler failed.
    #[error("scheduler: {0}")]
    Scheduler(#[from] kybern_scheduler::Error),
}

/// Runs a volume workload end to end (see the module docs).
///
/// # Errors
/// Store errors, or the scheduler failing to start.
pub async fn run(w: &VolumeWorkload, cfg: &RunConfig) -> Result<Report, Error> {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let stop = Shutdown::new();
    let informers = SharedInformers::new();
    for i in 0..w.nodes {
        create(&store, &w.node(i)).await?;
    }
    create(&store, &static_wffc_class(LOCAL_CLASS)).await?;
    // Every pod's claim and volume exist before the scheduler starts (upstream creates each
    // just before its pod; here they would race the pod through separate watches).
    for i in 0..w.init_pods {
        w.volume_for(&store, &format!("init-{i}"), i).await?;
    }
    for i in 0..w.measured_pods {
        w.volume_for(&store, &format!("measured-{i}"), w.init_pods + i)
            .await?;
    }
    for i in 0..w.init_pods {
        VolumeWorkload::pod(&store, &format!("init-{i}")).await?;
    }
    if w.kind == VolumeWorkloadKind::WaitForFirstConsumer {
        let ctrl = StorageController::new(store.clone()).with_informers(&informers);
        let signal = stop.clone();
        tokio::spawn(async move { ctrl.run(signal).await });
        // Let it finish its first pass (finalizers, phases, WaitForFirstConsumer events) so
        // the measurement sees binding work only.
        controller_settled(&store, cfg.timeout).await?;
    }
    let cache = VolumeCache::new();
    cache.feed(store.clone(), &informers, stop.clone()).await;
    let profile = volume_framework(
        kybern_scheduler::DEFAULT_SCHEDULER_NAME,
        store.clone(),
        cache.clone(),
        &Default::default(),
    )?;
    let scheduler = Scheduler::builder(store.clone())
        .profile(profile)
        .config(cfg.scheduler.clone())
        .build()?;
    super::requeue_on_volume_changes(&scheduler, &cache, stop.clone());
    let handle = scheduler.run().await?;
    let creator_store = store.clone();
    let (bound, elapsed, samples) =
        measured_phase(&scheduler, w.init_pods, w.measured_pods, cfg, move |i| {
            let store = creator_store.clone();
            async move {
                VolumeWorkload::pod(&store, &format!("measured-{i}"))
                    .await
                    .is_ok()
            }
        })
        .await;
    let wrong = misplaced(&scheduler, &store).await?;
    let (attempts, _, unschedulable, errors) = scheduler.stats();
    handle.shutdown();
    stop.trigger();
    informers.stop_all();
    Ok(Report {
        name: w.name,
        nodes: w.nodes,
        measured: w.measured_pods,
        bound,
        elapsed,
        average: bound as f64 / elapsed.as_secs_f64().max(1e-9),
        percentiles: percentiles(samples),
        quality: format!(
            "pods off their volume's node: {wrong}; attempts {attempts}, unschedulable {unschedulable}, errors {errors}"
        ),
        upstream_floor: "100-290",
    })
}

/// Waits until every volume and claim has a phase (the PV controller has seen them all).
async fn controller_settled(
    store: &Arc<dyn Store>,
    timeout: std::time::Duration,
) -> Result<(), Error> {
    let start = Instant::now();
    let volumes = Api::<PersistentVolume>::all(store.clone());
    let claims = Api::<PersistentVolumeClaim>::all(store.clone());
    let lp = kybern_reconciler::ListParams::default();
    while start.elapsed() < timeout {
        let v = volumes.list(&lp).await?.items;
        let c = claims.list(&lp).await?.items;
        let phased = v
            .iter()
            .all(|v| v.status.as_ref().is_some_and(|s| s.phase.is_some()))
            && c.iter()
                .all(|c| c.status.as_ref().is_some_and(|s| s.phase.is_some()));
        if phased {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Ok(())
}

/// Pods placed on a node other than the one their volume is pinned to.
async fn misplaced(s: &Scheduler, store: &Arc<dyn Store>) -> Result<usize, Error> {
    let claims = Api::<PersistentVolumeClaim>::namespaced(store.clone(), "default");
    let volumes = Api::<PersistentVolume>::all(store.clone());
    let mut wrong = 0;
    let snap = s.snapshot();
    for n in snap.nodes() {
        for p in n.pods() {
            let c = claims.get_opt(p.name()).await?;
            let vname = c.and_then(|c| c.spec?.volume_name).unwrap_or_default();
            let pinned = volumes
                .get_opt(&vname)
                .await?
                .as_ref()
                .and_then(crate::node_affinity::pinned_node_names);
            if !pinned.is_some_and(|names| names.contains(n.name())) {
                wrong += 1;
            }
        }
    }
    Ok(wrong)
}

//! End-to-end scenarios: the PV controller (claim and volume controllers on the runtime's
//! `Controller<K>`, woken by watches) over a MemoryStore, with the real local-path provisioner
//! making and removing directories in a temp dir. Time is virtual: `settle` lets the
//! controllers run until they are idle.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use kybern_core::Quantity;
use kybern_core::api::core::v1::{
    Event, Node, PersistentVolume, PersistentVolumeClaim, PersistentVolumeClaimSpec,
    PersistentVolumeClaimVolumeSource, PersistentVolumeSpec, Pod, PodSpec, PodStatus,
    VolumeResourceRequirements,
};
use kybern_core::api::core::v1::{HostPathVolumeSource, ObjectReference, Volume};
use kybern_core::api::storage::v1::StorageClass;
use kybern_reconciler::runtime::Shutdown;
use kybern_reconciler::{Api, DeleteParams, ListParams, MemoryStore, Store};
use kybern_storage::annotations::*;
use kybern_storage::controller::StorageController;
use kybern_storage::provision::{LOCAL_PATH_PROVISIONER, LocalPathProvisioner};

const NS: &str = "db";

struct Cluster {
    store: Arc<dyn Store>,
    stop: Shutdown,
    dir: tempfile::TempDir,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop.trigger();
    }
}

fn q(s: &str) -> Quantity {
    Quantity::parse(s).unwrap()
}

impl Cluster {
    /// A WaitForFirstConsumer class `local` and a 1Gi claim `data` of it, settled.
    async fn delayed_claim_data(&self) {
        self.class(
            "local",
            BINDING_WAIT_FOR_FIRST_CONSUMER,
            RECLAIM_DELETE,
            false,
        )
        .await;
        self.pvcs()
            .create(&claim("data", "1Gi", Some("local"), &["ReadWriteOnce"]))
            .await
            .unwrap();
        self.settle().await;
    }

    fn new(quota: &str) -> Self {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let dir = tempfile::tempdir().unwrap();
        let lp = LocalPathProvisioner::new(dir.path(), q(quota)).with_default_node("node-a");
        let ctrl = StorageController::new(store.clone()).with_provisioner(Arc::new(lp));
        let stop = Shutdown::new();
        let signal = stop.clone();
        tokio::spawn(async move { ctrl.run(signal).await });
        Cluster { store, stop, dir }
    }

    /// Lets the controllers work until idle (virtual time: costs nothing).
    async fn settle(&self) {
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    }

    fn pvs(&self) -> Api<PersistentVolume> {
        Api::all(self.store.clone())
    }
    fn pvcs(&self) -> Api<PersistentVolumeClaim> {
        Api::namespaced(self.store.clone(), NS)
    }
    fn pods(&self) -> Api<Pod> {
        Api::namespaced(self.store.clone(), NS)
    }

    async fn pvc(&self, name: &str) -> Option<PersistentVolumeClaim> {
        self.pvcs().get_opt(name).await.unwrap()
    }
    async fn pv(&self, name: &str) -> Option<PersistentVolume> {
        self.pvs().get_opt(name).await.unwrap()
    }

    async fn events(&self, object: &str) -> Vec<(String, String, String)> {
        Api::<Event>::all(self.store.clone())
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter(|e| e.involved_object.name.as_deref() == Some(object))
            .map(|e| {
                (
                    e.type_.unwrap_or_default(),
                    e.reason.unwrap_or_default(),
                    e.message.unwrap_or_default(),
                )
            })
            .collect()
    }

    async fn class(&self, name: &str, mode: &str, reclaim: &str, default: bool) {
        let mut c = StorageClass::default();
        c.metadata.name = Some(name.into());
        c.provisioner = LOCAL_PATH_PROVISIONER.into();
        c.volume_binding_mode = Some(mode.into());
        c.reclaim_policy = Some(reclaim.into());
        c.allow_volume_expansion = Some(true);
        if default {
            c.metadata
                .annotations
                .insert(IS_DEFAULT_CLASS.into(), "true".into());
        }
        Api::<StorageClass>::all(self.store.clone())
            .create(&c)
            .await
            .unwrap();
    }

    async fn node(&self, name: &str) {
        let mut n = Node::default();
        n.metadata.name = Some(name.into());
        n.metadata
            .labels
            .insert(HOSTNAME_LABEL.into(), format!("{name}-host"));
        Api::<Node>::all(self.store.clone())
            .create(&n)
            .await
            .unwrap();
    }
}

fn claim(name: &str, size: &str, class: Option<&str>, modes: &[&str]) -> PersistentVolumeClaim {
    let mut c = PersistentVolumeClaim::default();
    c.metadata.name = Some(name.into());
    c.metadata.namespace = Some(NS.into());
    c.spec = Some(PersistentVolumeClaimSpec {
        access_modes: modes.iter().map(|m| (*m).to_owned()).collect(),
        resources: Some(VolumeResourceRequirements {
            requests: [(STORAGE.to_owned(), q(size))].into_iter().collect(),
            ..Default::default()
        }),
        storage_class_name: class.map(str::to_owned),
        ..Default::default()
    });
    c
}

fn static_pv(name: &str, size: &str, modes: &[&str], reclaim: &str) -> PersistentVolume {
    let mut v = PersistentVolume::default();
    v.metadata.name = Some(name.into());
    v.spec = Some(PersistentVolumeSpec {
        access_modes: modes.iter().map(|m| (*m).to_owned()).collect(),
        capacity: [(STORAGE.to_owned(), q(size))].into_iter().collect(),
        persistent_volume_reclaim_policy: Some(reclaim.into()),
        host_path: Some(HostPathVolumeSource {
            path: format!("/mnt/{name}"),
            type_: None,
        }),
        ..Default::default()
    });
    v
}

fn pod(name: &str, claim: &str, node: Option<&str>, phase: &str) -> Pod {
    let mut p = Pod::default();
    p.metadata.name = Some(name.into());
    p.metadata.namespace = Some(NS.into());
    p.spec = Some(PodSpec {
        node_name: node.map(str::to_owned),
        volumes: vec![Volume {
            name: "data".into(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: claim.into(),
                read_only: None,
            }),
            ..Default::default()
        }],
        ..Default::default()
    });
    p.status = Some(PodStatus {
        phase: Some(phase.into()),
        ..Default::default()
    });
    p
}

fn phase_of_pv(v: &PersistentVolume) -> &str {
    v.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}
fn phase_of_pvc(c: &PersistentVolumeClaim) -> &str {
    c.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}
fn volume_name(c: &PersistentVolumeClaim) -> &str {
    c.spec
        .as_ref()
        .and_then(|s| s.volume_name.as_deref())
        .unwrap_or("")
}

#[tokio::test(start_paused = true)]
async fn static_binding_picks_smallest_fit_and_binds_both_sides() {
    let k = Cluster::new("1Gi");
    for (n, s) in [("pv-big", "100Gi"), ("pv-small", "1Gi"), ("pv-mid", "10Gi")] {
        k.pvs()
            .create(&static_pv(n, s, &["ReadWriteOnce"], RECLAIM_RETAIN))
            .await
            .unwrap();
    }
    k.pvcs()
        .create(&claim("data", "5Gi", Some(""), &["ReadWriteOnce"]))
        .await
        .unwrap();
    k.settle().await;

    let c = k.pvc("data").await.unwrap();
    assert_eq!(volume_name(&c), "pv-mid");
    assert_eq!(phase_of_pvc(&c), CLAIM_BOUND);
    assert_eq!(
        c.metadata
            .annotations
            .get(BIND_COMPLETED)
            .map(String::as_str),
        Some("yes")
    );
    assert_eq!(
        c.metadata
            .annotations
            .get(BOUND_BY_CONTROLLER)
            .map(String::as_str),
        Some("yes")
    );
    assert!(
        c.metadata
            .finalizers
            .contains(&PVC_PROTECTION_FINALIZER.to_owned())
    );
    let st = c.status.unwrap();
    assert_eq!(st.capacity.get(STORAGE), Some(&q("10Gi")));
    assert_eq!(st.access_modes, vec!["ReadWriteOnce".to_owned()]);

    let v = k.pv("pv-mid").await.unwrap();
    assert_eq!(phase_of_pv(&v), VOLUME_BOUND);
    let r = v.spec.as_ref().unwrap().claim_ref.as_ref().unwrap();
    assert_eq!(r.name.as_deref(), Some("data"));
    assert_eq!(r.uid, c.metadata.uid);
    assert!(
        v.metadata
            .finalizers
            .contains(&PV_PROTECTION_FINALIZER.to_owned())
    );
    for other in ["pv-big", "pv-small"] {
        assert_eq!(
            phase_of_pv(&k.pv(other).await.unwrap()),
            VOLUME_AVAILABLE,
            "{other}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn prebound_volume_and_prebound_claim() {
    let k = Cluster::new("1Gi");
    // A volume reserved (by name) for claim "reserved", larger than the best fit.
    let mut reserved = static_pv("pv-reserved", "50Gi", &["ReadWriteOnce"], RECLAIM_RETAIN);
    reserved.spec.as_mut().unwrap().claim_ref = Some(ObjectReference {
        name: Some("reserved".into()),
        namespace: Some(NS.into()),
        ..Default::default()
    });
    k.pvs().create(&reserved).await.unwrap();
    k.pvs()
        .create(&static_pv(
            "pv-fit",
            "5Gi",
            &["ReadWriteOnce"],
            RECLAIM_RETAIN,
        ))
        .await
        .unwrap();
    k.pvs()
        .create(&static_pv(
            "pv-named",
            "20Gi",
            &["ReadWriteOnce"],
            RECLAIM_RETAIN,
        ))
        .await
        .unwrap();
    k.pvs()
        .create(&static_pv(
            "pv-tiny",
            "1Gi",
            &["ReadWriteOnce"],
            RECLAIM_RETAIN,
        ))
        .await
        .unwrap();
    k.pvcs()
        .create(&claim("reserved", "5Gi", Some(""), &["ReadWriteOnce"]))
        .await
        .unwrap();
    let mut named = claim("named", "5Gi", Some(""), &["ReadWriteOnce"]);
    named.spec.as_mut().unwrap().volume_name = Some("pv-named".into());
    k.pvcs().create(&named).await.unwrap();
    let mut too_big = claim("too-big", "5Gi", Some(""), &["ReadWriteOnce"]);
    too_big.spec.as_mut().unwrap().volume_name = Some("pv-tiny".into());
    k.pvcs().create(&too_big).await.unwrap();
    k.settle().await;

    let c = k.pvc("reserved").await.unwrap();
    assert_eq!(volume_name(&c), "pv-reserved");
    let v = k.pv("pv-reserved").await.unwrap();
    assert_eq!(phase_of_pv(&v), VOLUME_BOUND);
    // Pre-bound by the user: the controller does not claim the binding as its own.
    assert!(!v.metadata.annotations.contains_key(BOUND_BY_CONTROLLER));

    let c = k.pvc("named").await.unwrap();
    assert_eq!(
        (volume_name(&c), phase_of_pvc(&c)),
        ("pv-named", CLAIM_BOUND)
    );
    assert!(!c.metadata.annotations.contains_key(BOUND_BY_CONTROLLER));
    let v = k.pv("pv-named").await.unwrap();
    assert_eq!(
        v.metadata
            .annotations
            .get(BOUND_BY_CONTROLLER)
            .map(String::as_str),
        Some("yes")
    );

    let c = k.pvc("too-big").await.unwrap();
    assert_eq!(phase_of_pvc(&c), CLAIM_PENDING);
    assert!(k.events("too-big").await.contains(&(
        "Warning".into(),
        "VolumeMismatch".into(),
        "Cannot bind to requested volume \"pv-tiny\": requested PV is too small".into()
    )));
    assert_eq!(
        phase_of_pv(&k.pv("pv-fit").await.unwrap()),
        VOLUME_AVAILABLE
    );
}

#[tokio::test(start_paused = true)]
async fn immediate_provisioning_creates_and_delete_policy_removes_directory() {
    let k = Cluster::new("10Gi");
    k.class("fast", BINDING_IMMEDIATE, RECLAIM_DELETE, false)
        .await;
    let created = k
        .pvcs()
        .create(&claim("data", "1Gi", Some("fast"), &["ReadWriteOnce"]))
        .await
        .unwrap();
    k.settle().await;

    let c = k.pvc("data").await.unwrap();
    let pv_name = format!("pvc-{}", created.metadata.uid.unwrap());
    assert_eq!(
        (volume_name(&c), phase_of_pvc(&c)),
        (pv_name.as_str(), CLAIM_BOUND)
    );
    assert_eq!(
        c.metadata
            .annotations
            .get(STORAGE_PROVISIONER)
            .map(String::as_str),
        Some(LOCAL_PATH_PROVISIONER)
    );
    let v = k.pv(&pv_name).await.unwrap();
    assert_eq!(
        v.metadata
            .annotations
            .get(PROVISIONED_BY)
            .map(String::as_str),
        Some(LOCAL_PATH_PROVISIONER)
    );
    let spec = v.spec.as_ref().unwrap();
    assert_eq!(spec.storage_class_name.as_deref(), Some("fast"));
    assert_eq!(
        spec.persistent_volume_reclaim_policy.as_deref(),
        Some(RECLAIM_DELETE)
    );
    let path = k.dir.path().join(&pv_name);
    assert!(path.is_dir(), "volume directory {path:?} exists");
    assert_eq!(
        spec.local.as_ref().unwrap().path,
        path.display().to_string()
    );
    let term = &spec
        .node_affinity
        .as_ref()
        .unwrap()
        .required
        .as_ref()
        .unwrap()
        .node_selector_terms[0];
    assert_eq!(term.match_expressions[0].values, vec!["node-a".to_owned()]);
    assert!(k.events("data").await.iter().any(|(t, r, m)| t == "Normal"
        && r == "ProvisioningSucceeded"
        && m == &format!(
            "Successfully provisioned volume {pv_name} using {LOCAL_PATH_PROVISIONER}"
        )));

    k.pvcs()
        .delete("data", &DeleteParams::default())
        .await
        .unwrap();
    k.settle().await;
    assert!(k.pvc("data").await.is_none(), "claim gone");
    assert!(k.pv(&pv_name).await.is_none(), "volume object gone");
    assert!(!path.exists(), "directory removed");
}

#[tokio::test(start_paused = true)]
async fn wait_for_first_consumer_provisions_on_the_selected_node() {
    let k = Cluster::new("10Gi");
    k.node("node-b").await;
    k.delayed_claim_data().await;

    let c = k.pvc("data").await.unwrap();
    assert_eq!(phase_of_pvc(&c), CLAIM_PENDING);
    assert!(k.events("data").await.contains(&(
        "Normal".into(),
        "WaitForFirstConsumer".into(),
        "waiting for first consumer to be created before binding".into()
    )));
    assert_eq!(
        std::fs::read_dir(k.dir.path()).unwrap().count(),
        0,
        "nothing provisioned yet"
    );

    // The scheduler picks node-b for the pod and says so on the claim.
    let mut c = c;
    c.metadata
        .annotations
        .insert(SELECTED_NODE.into(), "node-b".into());
    k.pvcs().update(&c).await.unwrap();
    k.settle().await;

    let c = k.pvc("data").await.unwrap();
    assert_eq!(phase_of_pvc(&c), CLAIM_BOUND);
    let v = k.pv(volume_name(&c)).await.unwrap();
    let term = &v
        .spec
        .as_ref()
        .unwrap()
        .node_affinity
        .as_ref()
        .unwrap()
        .required
        .as_ref()
        .unwrap()
        .node_selector_terms[0];
    assert_eq!(term.match_expressions[0].key, HOSTNAME_LABEL);
    assert_eq!(
        term.match_expressions[0].values,
        vec!["node-b-host".to_owned()]
    );
    assert!(k.dir.path().join(volume_name(&c)).is_dir());
}

#[tokio::test(start_paused = true)]
async fn retain_keeps_released_volume_and_its_data() {
    let k = Cluster::new("10Gi");
    k.class("keep", BINDING_IMMEDIATE, RECLAIM_RETAIN, false)
        .await;
    k.pvcs()
        .create(&claim("data", "1Gi", Some("keep"), &["ReadWriteOnce"]))
        .await
        .unwrap();
    k.settle().await;
    let c = k.pvc("data").await.unwrap();
    let pv_name = volume_name(&c).to_owned();
    let file = k.dir.path().join(&pv_name).join("table.db");
    std::fs::write(&file, "precious rows").unwrap();

    k.pvcs()
        .delete("data", &DeleteParams::default())
        .await
        .unwrap();
    k.settle().await;
    assert!(k.pvc("data").await.is_none());
    let v = k.pv(&pv_name).await.unwrap();
    assert_eq!(phase_of_pv(&v), VOLUME_RELEASED);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "precious rows");
}

#[tokio::test(start_paused = true)]
async fn claim_in_use_survives_deletion_until_its_pod_is_gone() {
    let k = Cluster::new("10Gi");
    k.class("fast", BINDING_IMMEDIATE, RECLAIM_DELETE, false)
        .await;
    k.pvcs()
        .create(&claim("data", "1Gi", Some("fast"), &["ReadWriteOnce"]))
        .await
        .unwrap();
    k.pods()
        .create(&pod("db-0", "data", Some("node-a"), "Running"))
        .await
        .unwrap();
    k.settle().await;
    let pv_name = volume_name(&k.pvc("data").await.unwrap()).to_owned();

    k.pvcs()
        .delete("data", &DeleteParams::default())
        .await
        .unwrap();
    k.settle().await;
    let c = k.pvc("data").await.expect("claim kept while the pod runs");
    assert!(c.metadata.deletion_timestamp.is_some());
    assert_eq!(phase_of_pvc(&c), CLAIM_BOUND);
    assert!(k.dir.path().join(&pv_name).is_dir());

    k.pods()
        .delete("db-0", &DeleteParams::default())
        .await
        .unwrap();
    k.settle().await;
    assert!(
        k.pvc("data").await.is_none(),
        "claim released after the pod is gone"
    );
    assert!(k.pv(&pv_name).await.is_none());
    assert!(!k.dir.path().join(&pv_name).exists());
}

#[tokio::test(start_paused = true)]
async fn terminated_pod_does_not_hold_a_claim() {
    let k = Cluster::new("10Gi");
    k.class("fast", BINDING_IMMEDIATE, RECLAIM_DELETE, false)
        .await;
    k.pvcs()
        .create(&claim("data", "1Gi", Some("fast"), &["ReadWriteOnce"]))
        .await
        .unwrap();
    k.pods()
        .create(&pod("job", "data", Some("node-a"), "Succeeded"))
        .await
        .unwrap();
    k.settle().await;
    k.pvcs()
        .delete("data", &DeleteParams::default())
        .await
        .unwrap();
    k.settle().await;
    assert!(k.pvc("data").await.is_none());
}

#[tokio::test(start_paused = true)]
async fn bad_input_stays_pending_with_an_event_that_says_why() {
    let k = Cluster::new("10Gi");
    k.class("fast", BINDING_IMMEDIATE, RECLAIM_DELETE, false)
        .await;
    k.pvcs()
        .create(&claim("huge", "1Ti", Some("fast"), &["ReadWriteOnce"]))
        .await
        .unwrap();
    k.pvcs()
        .create(&claim("shared", "1Gi", Some("fast"), &["ReadWriteMany"]))
        .await
        .unwrap();
    k.pvcs()
        .create(&claim("classless", "1Gi", Some(""), &["ReadWriteOnce"]))
        .await
        .unwrap();
    k.pvcs()
        .create(&claim(
            "nowhere",
            "1Gi",
            Some("missing"),
            &["ReadWriteOnce"],
        ))
        .await
        .unwrap();
    k.settle().await;

    let cases: [(&str, &str, &str, &str); 4] = [
        (
            "huge",
            "Warning",
            "ProvisioningFailed",
            "insufficient capacity on",
        ),
        (
            "shared",
            "Warning",
            "ProvisioningFailed",
            "access mode ReadWriteMany is not supported",
        ),
        (
            "classless",
            "Normal",
            "FailedBinding",
            "no persistent volumes available for this claim and no storage class is set",
        ),
        (
            "nowhere",
            "Warning",
            "ProvisioningFailed",
            "storageclass.storage.k8s.io \"missing\" not found",
        ),
    ];
    for (name, t, reason, msg) in cases {
        let c = k.pvc(name).await.unwrap();
        assert_eq!(phase_of_pvc(&c), CLAIM_PENDING, "{name}");
        let events = k.events(name).await;
        assert!(
            events
                .iter()
                .any(|(et, r, m)| et == t && r == reason && m.contains(msg)),
            "{name}: no {t} {reason} event containing {msg:?} in {events:?}"
        );
    }
    // Nothing was written for the refused claims.
    assert_eq!(
        k.pvs()
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        0
    );
    // Events are recorded once, not once per pass.
    assert_eq!(k.events("huge").await.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn default_class_is_applied_to_claims_without_one() {
    let k = Cluster::new("10Gi");
    k.class("standard", BINDING_IMMEDIATE, RECLAIM_DELETE, true)
        .await;
    k.pvcs()
        .create(&claim("data", "1Gi", None, &["ReadWriteOnce"]))
        .await
        .unwrap();
    k.pvcs()
        .create(&claim("explicit-none", "1Gi", Some(""), &["ReadWriteOnce"]))
        .await
        .unwrap();
    k.settle().await;
    let c = k.pvc("data").await.unwrap();
    assert_eq!(
        c.spec.as_ref().unwrap().storage_class_name.as_deref(),
        Some("standard")
    );
    assert_eq!(phase_of_pvc(&c), CLAIM_BOUND);
    let c = k.pvc("explicit-none").await.unwrap();
    assert_eq!(
        c.spec.as_ref().unwrap().storage_class_name.as_deref(),
        Some("")
    );
    assert_eq!(phase_of_pvc(&c), CLAIM_PENDING);
}

#[tokio::test(start_paused = true)]
async fn expansion_grows_volume_within_quota() {
    let k = Cluster::new("4Gi");
    k.class("fast", BINDING_IMMEDIATE, RECLAIM_DELETE, false)
        .await;
    k.pvcs()
        .create(&claim("data", "1Gi", Some("fast"), &["ReadWriteOnce"]))
        .await
        .unwrap();
    k.settle().await;
    let mut c = k.pvc("data").await.unwrap();
    let pv_name = volume_name(&c).to_owned();
    c.spec
        .as_mut()
        .unwrap()
        .resources
        .as_mut()
        .unwrap()
        .requests
        .insert(STORAGE.into(), q("3Gi"));
    k.pvcs().update(&c).await.unwrap();
    k.settle().await;
    let v = k.pv(&pv_name).await.unwrap();
    assert_eq!(
        v.spec.as_ref().unwrap().capacity.get(STORAGE),
        Some(&q("3Gi"))
    );
    let c = k.pvc("data").await.unwrap();
    assert_eq!(
        c.status.as_ref().unwrap().capacity.get(STORAGE),
        Some(&q("3Gi"))
    );

    // Beyond the quota: refused, recorded, not retried.
    let mut c = c;
    c.spec
        .as_mut()
        .unwrap()
        .resources
        .as_mut()
        .unwrap()
        .requests
        .insert(STORAGE.into(), q("8Gi"));
    k.pvcs().update(&c).await.unwrap();
    k.settle().await;
    let c = k.pvc("data").await.unwrap();
    let st = c.status.as_ref().unwrap();
    assert_eq!(st.capacity.get(STORAGE), Some(&q("3Gi")));
    assert_eq!(
        st.allocated_resource_statuses
            .get(STORAGE)
            .map(String::as_str),
        Some("ControllerResizeInfeasible")
    );
    assert!(
        k.events("data")
            .await
            .iter()
            .any(|(t, r, _)| t == "Warning" && r == "VolumeResizeFailed")
    );
}

#[tokio::test(start_paused = true)]
async fn recycle_is_reported_deprecated_and_static_delete_fails() {
    let k = Cluster::new("1Gi");
    k.pvs()
        .create(&static_pv(
            "pv-recycle",
            "1Gi",
            &["ReadWriteOnce"],
            RECLAIM_RECYCLE,
        ))
        .await
        .unwrap();
    k.pvcs()
        .create(&claim("a", "1Gi", Some(""), &["ReadWriteOnce"]))
        .await
        .unwrap();
    k.settle().await;
    assert_eq!(volume_name(&k.pvc("a").await.unwrap()), "pv-recycle");
    k.pvcs()
        .delete("a", &DeleteParams::default())
        .await
        .unwrap();
    k.settle().await;
    let v = k.pv("pv-recycle").await.unwrap();
    assert_eq!(phase_of_pv(&v), VOLUME_FAILED);
    assert!(
        k.events("pv-recycle")
            .await
            .iter()
            .any(|(t, r, m)| t == "Warning"
                && r == "VolumeFailedRecycle"
                && m.contains("Recycle reclaim policy is deprecated"))
    );

    k.pvs()
        .create(&static_pv(
            "pv-del",
            "1Gi",
            &["ReadWriteOnce"],
            RECLAIM_DELETE,
        ))
        .await
        .unwrap();
    k.pvcs()
        .create(&claim("b", "1Gi", Some(""), &["ReadWriteOnce"]))
        .await
        .unwrap();
    k.settle().await;
    k.pvcs()
        .delete("b", &DeleteParams::default())
        .await
        .unwrap();
    k.settle().await;
    assert_eq!(phase_of_pv(&k.pv("pv-del").await.unwrap()), VOLUME_FAILED);
    assert!(
        k.events("pv-del")
            .await
            .iter()
            .any(|(_, r, _)| r == "VolumeFailedDelete")
    );
}

#[tokio::test(start_paused = true)]
async fn lost_volume_marks_claim_lost() {
    let k = Cluster::new("1Gi");
    k.pvs()
        .create(&static_pv("pv", "1Gi", &["ReadWriteOnce"], RECLAIM_RETAIN))
        .await
        .unwrap();
    k.pvcs()
        .create(&claim("a", "1Gi", Some(""), &["ReadWriteOnce"]))
        .await
        .unwrap();
    k.settle().await;
    // An administrator force-removes the volume (finalizer cleared, then deleted).
    let mut v = k.pv("pv").await.unwrap();
    v.metadata.finalizers.clear();
    k.pvs().update(&v).await.unwrap();
    k.pvs()
        .delete("pv", &DeleteParams::default())
        .await
        .unwrap();
    k.settle().await;
    let c = k.pvc("a").await.unwrap();
    assert_eq!(phase_of_pvc(&c), CLAIM_LOST);
    assert!(
        k.events("a")
            .await
            .iter()
            .any(|(t, r, _)| t == "Warning" && r == "ClaimLost")
    );
}

#[tokio::test(start_paused = true)]
async fn volume_created_after_the_claim_binds_it() {
    let k = Cluster::new("1Gi");
    k.pvcs()
        .create(&claim("a", "1Gi", Some(""), &["ReadWriteOnce"]))
        .await
        .unwrap();
    k.settle().await;
    assert_eq!(phase_of_pvc(&k.pvc("a").await.unwrap()), CLAIM_PENDING);
    // The new volume's watch event wakes the pending claim of its class.
    k.pvs()
        .create(&static_pv("pv", "1Gi", &["ReadWriteOnce"], RECLAIM_RETAIN))
        .await
        .unwrap();
    k.settle().await;
    let c = k.pvc("a").await.unwrap();
    assert_eq!((volume_name(&c), phase_of_pvc(&c)), ("pv", CLAIM_BOUND));
    assert_eq!(phase_of_pv(&k.pv("pv").await.unwrap()), VOLUME_BOUND);
}

#[tokio::test(start_paused = true)]
async fn repeated_events_are_counted_on_one_event() {
    let k = Cluster::new("1Gi");
    k.pvcs()
        .create(&claim("a", "1Gi", Some(""), &["ReadWriteOnce"]))
        .await
        .unwrap();
    k.settle().await;
    // Any change to the claim reconciles it again: the same Event is raised again.
    let mut c = k.pvc("a").await.unwrap();
    c.metadata.labels.insert("touched".into(), "yes".into());
    k.pvcs().update(&c).await.unwrap();
    k.settle().await;
    let events: Vec<Event> = Api::<Event>::all(k.store.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.involved_object.name.as_deref() == Some("a"))
        .collect();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        events[0].message.as_deref(),
        Some("no persistent volumes available for this claim and no storage class is set")
    );
    assert!(events[0].count.unwrap_or(0) >= 2, "{:?}", events[0].count);
}

#[tokio::test(start_paused = true)]
async fn delayed_claim_names_the_pods_waiting_to_be_scheduled() {
    let k = Cluster::new("10Gi");
    k.delayed_claim_data().await;
    // Two pods without a node use the claim: the event names both (sorted).
    for name in ["db-1", "db-0"] {
        k.pods()
            .create(&pod(name, "data", None, "Pending"))
            .await
            .unwrap();
    }
    k.settle().await;
    let events = k.events("data").await;
    for want in [
        (
            "Normal",
            "WaitForFirstConsumer",
            "waiting for first consumer to be created before binding",
        ),
        (
            "Normal",
            "WaitForPodScheduled",
            "waiting for pods db-0,db-1 to be scheduled",
        ),
    ] {
        assert!(
            events
                .iter()
                .any(|(t, r, m)| (t.as_str(), r.as_str(), m.as_str()) == want),
            "no {want:?} in {events:?}"
        );
    }
}

//! The scheduler-side volume decisions: VolumeBinding PreFilter/Filter/PreBind,
//! VolumeRestrictions (ReadWriteOncePod) and NodeVolumeLimits, table-driven.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::type_complexity)]

use kybern_core::Quantity;
use kybern_core::api::core::v1::{
    CSIPersistentVolumeSource, Node, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm,
    NodeStatus, PersistentVolume, PersistentVolumeClaim, PersistentVolumeClaimSpec,
    PersistentVolumeClaimVolumeSource, PersistentVolumeSpec, PersistentVolumeStatus, Pod, PodSpec,
    Volume, VolumeNodeAffinity, VolumeResourceRequirements,
};
use kybern_core::api::storage::v1::StorageClass;
use kybern_storage::annotations::SELECTED_NODE;
use kybern_storage::controller::{Action, Snapshot};
use kybern_storage::matching::VolumeIndex;
use kybern_storage::scheduling::limits::{ERR_REASON_MAX_VOLUME_COUNT, check_node_volume_limits};
use kybern_storage::scheduling::restrictions::{
    ERR_REASON_RWOP_CONFLICT, check_read_write_once_pod,
};
use kybern_storage::scheduling::volume_binding::{
    ERR_REASON_BIND_CONFLICT, ERR_REASON_NODE_CONFLICT, ERR_REASON_PV_NOT_EXIST, PreFilterError,
    filter, pre_filter, prebind,
};

fn q(s: &str) -> Quantity {
    Quantity::parse(s).unwrap()
}

fn class(name: &str, provisioner: &str) -> StorageClass {
    let mut c = StorageClass::default();
    c.metadata.name = Some(name.into());
    c.provisioner = provisioner.into();
    c.volume_binding_mode = Some("WaitForFirstConsumer".into());
    c
}

fn immediate(name: &str) -> StorageClass {
    let mut c = class(name, "x.io/p");
    c.volume_binding_mode = Some("Immediate".into());
    c
}

fn pvc(name: &str, class: &str, volume: Option<&str>, modes: &[&str]) -> PersistentVolumeClaim {
    let mut c = PersistentVolumeClaim::default();
    c.metadata.name = Some(name.into());
    c.metadata.namespace = Some("ns".into());
    c.metadata.uid = Some(format!("uid-{name}"));
    c.spec = Some(PersistentVolumeClaimSpec {
        access_modes: modes.iter().map(|m| (*m).to_owned()).collect(),
        resources: Some(VolumeResourceRequirements {
            requests: [("storage".to_owned(), q("1Gi"))].into_iter().collect(),
            ..Default::default()
        }),
        storage_class_name: Some(class.into()),
        volume_name: volume.map(str::to_owned),
        ..Default::default()
    });
    c
}

fn pv(name: &str, class: &str, host: Option<&str>, csi: Option<&str>) -> PersistentVolume {
    let mut v = PersistentVolume::default();
    v.metadata.name = Some(name.into());
    v.spec = Some(PersistentVolumeSpec {
        access_modes: vec!["ReadWriteOnce".into()],
        capacity: [("storage".to_owned(), q("1Gi"))].into_iter().collect(),
        storage_class_name: Some(class.into()),
        node_affinity: host.map(|h| VolumeNodeAffinity {
            required: Some(NodeSelector {
                node_selector_terms: vec![NodeSelectorTerm {
                    match_expressions: vec![NodeSelectorRequirement {
                        key: "kubernetes.io/hostname".into(),
                        operator: "In".into(),
                        values: vec![h.into()],
                    }],
                    match_fields: vec![],
                }],
            }),
        }),
        csi: csi.map(|d| CSIPersistentVolumeSource {
            driver: d.into(),
            volume_handle: format!("h-{name}"),
            ..Default::default()
        }),
        ..Default::default()
    });
    v.status = Some(PersistentVolumeStatus {
        phase: Some("Available".into()),
        ..Default::default()
    });
    v
}

fn node(name: &str) -> Node {
    let mut n = Node::default();
    n.metadata.name = Some(name.into());
    n.metadata
        .labels
        .insert("kubernetes.io/hostname".into(), name.into());
    n
}

fn pod(name: &str, claims: &[&str]) -> Pod {
    let mut p = Pod::default();
    p.metadata.name = Some(name.into());
    p.metadata.namespace = Some("ns".into());
    p.metadata.uid = Some(format!("uid-{name}"));
    p.spec = Some(PodSpec {
        volumes: claims
            .iter()
            .map(|c| Volume {
                name: (*c).to_owned(),
                persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                    claim_name: (*c).to_owned(),
                    read_only: None,
                }),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    });
    p
}

fn world() -> (Snapshot, VolumeIndex) {
    let mut bound = pv("bound-a", "wait", Some("node-a"), None);
    bound.spec.as_mut().unwrap().claim_ref = Some(kybern_core::api::core::v1::ObjectReference {
        name: Some("on-a".into()),
        namespace: Some("ns".into()),
        uid: Some("uid-on-a".into()),
        ..Default::default()
    });
    bound.status.as_mut().unwrap().phase = Some("Bound".into());
    let volumes = vec![
        bound,
        pv("free-a", "wait", Some("node-a"), None),
        pv("csi-1", "csi", None, Some("d.io")),
        pv("csi-2", "csi", None, Some("d.io")),
    ];
    let claims = vec![
        pvc("on-a", "wait", Some("bound-a"), &["ReadWriteOnce"]),
        pvc("ghost", "wait", Some("missing"), &["ReadWriteOnce"]),
        pvc("delayed", "wait", None, &["ReadWriteOnce"]),
        pvc("static-only", "static", None, &["ReadWriteOnce"]),
        pvc("dynamic", "dyn", None, &["ReadWriteOnce"]),
        pvc("now", "now", None, &["ReadWriteOnce"]),
        pvc("solo", "wait", Some("bound-a"), &["ReadWriteOncePod"]),
        pvc("c1", "csi", Some("csi-1"), &["ReadWriteOnce"]),
        pvc("c2", "csi", Some("csi-2"), &["ReadWriteOnce"]),
    ];
    let classes = vec![
        class("wait", "kubernetes.io/no-provisioner"),
        class("static", "kubernetes.io/no-provisioner"),
        class("dyn", "kybern.io/local-path"),
        immediate("now"),
    ];
    let index = VolumeIndex::from_volumes(volumes.clone());
    let snap = Snapshot::new(volumes, claims, classes, &[], vec![], Vec::new());
    (snap, index)
}

#[test]
fn pre_filter_cases() {
    let (snap, _) = world();
    let cases: [(&str, &[&str], Result<(usize, usize), PreFilterError>); 4] = [
        ("no claims", &[], Ok((0, 0))),
        ("bound and delayed", &["on-a", "delayed"], Ok((1, 1))),
        (
            "missing",
            &["nope"],
            Err(PreFilterError::ClaimNotFound("nope".into())),
        ),
        (
            "immediate unbound",
            &["now"],
            Err(PreFilterError::UnboundImmediate),
        ),
    ];
    for (name, claims, want) in cases {
        let got = pre_filter(&snap, &pod("p", claims)).map(|c| (c.bound.len(), c.delayed.len()));
        assert_eq!(got, want, "{name}");
    }
    assert_eq!(
        PreFilterError::UnboundImmediate.to_string(),
        "pod has unbound immediate PersistentVolumeClaims"
    );
}

#[test]
fn filter_cases() {
    let (snap, index) = world();
    // (case, claims, node, Ok((static bindings, provisions)) or Err(reasons))
    type Want = Result<(Vec<&'static str>, usize), Vec<&'static str>>;
    let cases: Vec<(&str, Vec<&str>, &str, Want)> = vec![
        (
            "bound volume on its node",
            vec!["on-a"],
            "node-a",
            Ok((vec![], 0)),
        ),
        (
            "bound volume elsewhere",
            vec!["on-a"],
            "node-b",
            Err(vec![ERR_REASON_NODE_CONFLICT]),
        ),
        (
            "bound to missing volume",
            vec!["ghost"],
            "node-a",
            Err(vec![ERR_REASON_PV_NOT_EXIST]),
        ),
        (
            "delayed finds local volume",
            vec!["delayed"],
            "node-a",
            Ok((vec!["free-a"], 0)),
        ),
        (
            "delayed, no volume on node",
            vec!["delayed"],
            "node-b",
            Err(vec![ERR_REASON_BIND_CONFLICT]),
        ),
        (
            "static class, nothing fits",
            vec!["static-only"],
            "node-a",
            Err(vec![ERR_REASON_BIND_CONFLICT]),
        ),
        ("provisionable", vec!["dynamic"], "node-b", Ok((vec![], 1))),
    ];
    for (name, claims, node_name, want) in cases {
        let pc = pre_filter(&snap, &pod("p", &claims)).unwrap();
        let got = filter(&snap, &index, &pc, &node(node_name)).map(|v| {
            (
                v.static_bindings
                    .iter()
                    .map(|(n, _)| n.clone())
                    .collect::<Vec<_>>(),
                v.provisions.len(),
            )
        });
        let want = want.map(|(s, p)| (s.into_iter().map(str::to_owned).collect::<Vec<_>>(), p));
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn prebind_writes_claim_ref_and_selected_node() {
    let (snap, index) = world();
    let pc = pre_filter(&snap, &pod("p", &["delayed", "dynamic"])).unwrap();
    let decision = filter(&snap, &index, &pc, &node("node-a")).unwrap();
    let actions = prebind(&snap, &decision, "node-a");
    assert_eq!(actions.len(), 2);
    let Action::UpdateVolume(v) = &actions[0] else {
        panic!("{actions:?}")
    };
    assert_eq!(v.metadata.name.as_deref(), Some("free-a"));
    let r = v.spec.as_ref().unwrap().claim_ref.as_ref().unwrap();
    assert_eq!(
        (r.name.as_deref(), r.uid.as_deref()),
        (Some("delayed"), Some("uid-delayed"))
    );
    let Action::UpdateClaim(c) = &actions[1] else {
        panic!("{actions:?}")
    };
    assert_eq!(
        c.metadata
            .annotations
            .get(SELECTED_NODE)
            .map(String::as_str),
        Some("node-a")
    );
}

#[test]
fn read_write_once_pod_conflicts() {
    let (snap, _) = world();
    let cases: [(&str, &str, Vec<Pod>, Result<(), &str>); 3] = [
        ("alone", "solo", vec![], Ok(())),
        (
            "another pod has it",
            "solo",
            vec![pod("other", &["solo"])],
            Err(ERR_REASON_RWOP_CONFLICT),
        ),
        (
            "RWO claims may share",
            "on-a",
            vec![pod("other", &["on-a"])],
            Ok(()),
        ),
    ];
    for (name, claim, others, want) in cases {
        assert_eq!(
            check_read_write_once_pod(&snap, &pod("p", &[claim]), &others),
            want,
            "{name}"
        );
    }
}

#[test]
fn node_volume_limits() {
    let (snap, _) = world();
    let mut n = node("node-a");
    n.status = Some(NodeStatus {
        allocatable: [("attachable-volumes-csi-d.io".to_owned(), q("1"))]
            .into_iter()
            .collect(),
        ..Default::default()
    });
    let cases: [(&str, Vec<Pod>, Result<(), &str>); 3] = [
        ("first volume fits", vec![], Ok(())),
        ("same volume counted once", vec![pod("o", &["c1"])], Ok(())),
        (
            "second volume exceeds",
            vec![pod("o", &["c2"])],
            Err(ERR_REASON_MAX_VOLUME_COUNT),
        ),
    ];
    for (name, on_node, want) in cases {
        assert_eq!(
            check_node_volume_limits(&snap, &pod("p", &["c1"]), &n, &on_node),
            want,
            "{name}"
        );
    }
}

//! Property: the index answers exactly as the linear upstream algorithm, for arbitrary
//! volumes and claims (sizes, modes, classes, phases, reservations, selectors).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kybern_core::Quantity;
use kybern_core::api::core::v1::{
    ObjectReference, PersistentVolume, PersistentVolumeClaim, PersistentVolumeClaimSpec,
    PersistentVolumeSpec, PersistentVolumeStatus, VolumeResourceRequirements,
};
use kybern_core::api::meta::v1::LabelSelector;
use kybern_storage::matching::{VolumeIndex, find_best_match_linear};
use proptest::prelude::*;

const MODES: [&str; 3] = ["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany"];

fn modes(bits: u8) -> Vec<String> {
    MODES
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, m)| (*m).to_owned())
        .collect()
}

fn volume(
    i: usize,
    (size, bits, class, phase, reserved, label): (u8, u8, u8, u8, u8, bool),
) -> PersistentVolume {
    let mut v = PersistentVolume::default();
    v.metadata.name = Some(format!("pv{i}"));
    v.metadata.uid = Some(format!("uid{i}"));
    if label {
        v.metadata.labels.insert("tier".into(), "gold".into());
    }
    v.spec = Some(PersistentVolumeSpec {
        access_modes: modes(bits),
        capacity: [(
            "storage".to_owned(),
            Quantity::parse(&format!("{size}Gi")).unwrap(),
        )]
        .into_iter()
        .collect(),
        storage_class_name: Some(["", "a", "b"][usize::from(class % 3)].into()),
        claim_ref: match reserved % 4 {
            0 => Some(ObjectReference::default()),
            1 => Some(ObjectReference {
                name: Some("c".into()),
                namespace: Some("ns".into()),
                ..Default::default()
            }),
            _ => None,
        },
        ..Default::default()
    });
    v.status = Some(PersistentVolumeStatus {
        phase: Some(["Available", "Bound", "Released", "Available"][usize::from(phase % 4)].into()),
        ..Default::default()
    });
    v
}

fn claim(size: u8, bits: u8, class: u8, selector: bool) -> PersistentVolumeClaim {
    let mut c = PersistentVolumeClaim::default();
    c.metadata.name = Some("c".into());
    c.metadata.namespace = Some("ns".into());
    c.spec = Some(PersistentVolumeClaimSpec {
        access_modes: modes(bits),
        resources: Some(VolumeResourceRequirements {
            requests: [(
                "storage".to_owned(),
                Quantity::parse(&format!("{size}Gi")).unwrap(),
            )]
            .into_iter()
            .collect(),
            ..Default::default()
        }),
        storage_class_name: Some(["", "a", "b"][usize::from(class % 3)].into()),
        selector: selector.then(|| LabelSelector {
            match_labels: [("tier".to_owned(), "gold".to_owned())]
                .into_iter()
                .collect(),
            ..Default::default()
        }),
        ..Default::default()
    });
    c
}

proptest! {
    #[test]
    fn index_matches_linear(
        vols in proptest::collection::vec((1u8..20, 0u8..8, 0u8..3, 0u8..4, 0u8..8, any::<bool>()), 0..40),
        (size, bits, class, selector, delay) in (1u8..20, 0u8..8, 0u8..3, any::<bool>(), any::<bool>()),
    ) {
        let volumes: Vec<PersistentVolume> = vols.into_iter().enumerate().map(|(i, p)| volume(i, p)).collect();
        let c = claim(size, bits, class, selector);
        let index = VolumeIndex::from_volumes(volumes.clone());
        let linear = find_best_match_linear(&c, &volumes, delay, false).unwrap();
        let indexed = index.find_best_match(&c, delay).unwrap();
        // Same capacity and same pre-bound-ness (ties between equal volumes may differ).
        let key = |v: Option<&PersistentVolume>| v.map(|v| (
            v.spec.as_ref().unwrap().capacity.get("storage").copied(),
            v.spec.as_ref().unwrap().claim_ref.is_some(),
            v.spec.as_ref().unwrap().access_modes.clone(),
        ));
        prop_assert_eq!(key(indexed), key(linear));
    }
}

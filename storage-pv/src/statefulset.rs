//! What StatefulSet's `volumeClaimTemplates` need from storage: the claim names
//! (`<template>-<set>-<ordinal>`) and the claims one replica uses, as upstream's StatefulSet
//! controller derives them (`getPersistentVolumeClaimName`, `getPersistentVolumeClaims`).
//!
//! Deliberate limit: `persistentVolumeClaimRetentionPolicy` owner references are left to the
//! StatefulSet controller that will call this (it knows whether the set or the pod owns them).

use std::collections::BTreeMap;

use kybern_core::api::apps::v1::StatefulSet;
use kybern_core::api::core::v1::PersistentVolumeClaim;

/// The claim a replica of `set` gets from the template named `template`: upstream's
/// `<template>-<set>-<ordinal>`.
pub fn claim_name(template: &str, set: &str, ordinal: u32) -> String {
    format!("{template}-{set}-{ordinal}")
}

/// The claims replica `ordinal` of `set` uses, keyed by template name: each template copied,
/// renamed with [`claim_name`], put in the set's namespace, and labelled with the set's
/// `selector.matchLabels` (over the template's own labels, as upstream).
pub fn claims_for_ordinal(
    set: &StatefulSet,
    ordinal: u32,
) -> BTreeMap<String, PersistentVolumeClaim> {
    let set_name = set.metadata.name.as_deref().unwrap_or_default();
    let Some(spec) = set.spec.as_ref() else {
        return BTreeMap::new();
    };
    spec.volume_claim_templates
        .iter()
        .map(|template| {
            let template_name = template.metadata.name.clone().unwrap_or_default();
            let mut claim = template.clone();
            claim.metadata.name = Some(claim_name(&template_name, set_name, ordinal));
            claim.metadata.namespace = set.metadata.namespace.clone();
            claim.metadata.labels.extend(
                spec.selector
                    .match_labels
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone())),
            );
            (template_name, claim)
        })
        .collect()
}

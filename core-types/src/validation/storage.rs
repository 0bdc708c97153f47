//! Storage kinds with upstream's messages: `PersistentVolume`, `PersistentVolumeClaim` and
//! `StorageClass`.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::Validate;
use super::field::{ErrorList, FieldError, FieldPath};
use super::meta::{validate_object_meta, validate_resource_meta};
use super::names::{is_dns1123_subdomain, is_qualified_name, name_is_dns_subdomain};
use super::pod::check_enum;
use super::selector::validate_label_selector;
use crate::Quantity;
use crate::api::core::v1::{PersistentVolume, PersistentVolumeClaim, PersistentVolumeClaimSpec};
use crate::api::storage::v1::StorageClass;

const ACCESS_MODES: [&str; 4] = [
    "ReadOnlyMany",
    "ReadWriteMany",
    "ReadWriteOnce",
    "ReadWriteOncePod",
];
const VOLUME_MODES: [&str; 2] = ["Block", "Filesystem"];
const PV_RECLAIM_POLICIES: [&str; 3] = ["Delete", "Recycle", "Retain"];
const CLASS_RECLAIM_POLICIES: [&str; 2] = ["Delete", "Retain"];
const BINDING_MODES: [&str; 2] = ["Immediate", "WaitForFirstConsumer"];
const MAX_PARAMETERS: usize = 512;
const MAX_PARAMETERS_SIZE: usize = 256 * 1024;

/// PersistentVolume source fields in upstream's checking order (JSON names).
const PV_SOURCES: [&str; 22] = [
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "glusterfs",
    "flocker",
    "nfs",
    "rbd",
    "quobyte",
    "cinder",
    "cephfs",
    "iscsi",
    "fc",
    "flexVolume",
    "azureFile",
    "vsphereVolume",
    "photonPersistentDisk",
    "portworxVolume",
    "azureDisk",
    "scaleIO",
    "local",
    "storageos",
    "csi",
];

/// Upstream's `ValidatePositiveQuantityValue`: `must be greater than zero`.
pub fn validate_positive_quantity(q: &Quantity, path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    if q.cmp_i64(0) != Ordering::Greater {
        errs.push(FieldError::invalid(
            path,
            q.to_string(),
            "must be greater than zero",
        ));
    }
    errs
}

fn validate_access_modes(modes: &[String], required_detail: &str, path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    if modes.is_empty() {
        errs.push(FieldError::required(path, required_detail));
    }
    for m in modes {
        if !ACCESS_MODES.contains(&m.as_str()) {
            errs.push(FieldError::not_supported(path, m.as_str(), &ACCESS_MODES));
        }
    }
    if modes.len() > 1 && modes.iter().any(|m| m == "ReadWriteOncePod") {
        errs.push(FieldError::forbidden(
            path,
            "may not use ReadWriteOncePod with other access modes",
        ));
    }
    errs
}

fn validate_class_name(name: Option<&str>, path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    if let Some(n) = name.filter(|n| !n.is_empty()) {
        for m in is_dns1123_subdomain(n) {
            errs.push(FieldError::invalid(path, n, m));
        }
    }
    errs
}

impl Validate for PersistentVolume {
    /// Metadata (cluster-scoped); access modes required and supported; capacity with exactly
    /// `storage`, positive; exactly one volume source; storage class name; volume mode and
    /// reclaim policy supported values.
    fn validate(&self) -> ErrorList {
        let mut errs = validate_resource_meta(self, name_is_dns_subdomain);
        let default = Default::default();
        let spec = self.spec.as_ref().unwrap_or(&default);
        let sp = FieldPath::new("spec");
        errs.extend(validate_access_modes(
            &spec.access_modes,
            "",
            &sp.child("accessModes"),
        ));
        let cp = sp.child("capacity");
        if spec.capacity.is_empty() {
            errs.push(FieldError::required(&cp, ""));
        }
        if !spec.capacity.contains_key("storage") || spec.capacity.len() > 1 {
            let caps: BTreeMap<&String, String> = spec
                .capacity
                .iter()
                .map(|(k, v)| (k, v.to_string()))
                .collect();
            errs.push(FieldError::not_supported(
                &cp,
                serde_json::to_value(caps).unwrap_or_default(),
                &["storage"],
            ));
        }
        for (k, q) in &spec.capacity {
            errs.extend(validate_positive_quantity(q, &cp.key(k)));
        }
        if let Ok(serde_json::Value::Object(obj)) = serde_json::to_value(spec) {
            let mut n = 0;
            for src in PV_SOURCES {
                if obj.contains_key(src) {
                    if n > 0 {
                        errs.push(FieldError::forbidden(
                            &sp.child(src),
                            "may not specify more than 1 volume type",
                        ));
                    }
                    n += 1;
                }
            }
            if n == 0 {
                errs.push(FieldError::required(&sp, "must specify a volume type"));
            }
        }
        errs.extend(validate_class_name(
            spec.storage_class_name.as_deref(),
            &sp.child("storageClassName"),
        ));
        check_enum(
            &mut errs,
            spec.volume_mode.as_deref(),
            &VOLUME_MODES,
            &sp.child("volumeMode"),
        );
        if let Some(p) = spec
            .persistent_volume_reclaim_policy
            .as_deref()
            .filter(|p| !p.is_empty())
        {
            check_enum(
                &mut errs,
                Some(p),
                &PV_RECLAIM_POLICIES,
                &sp.child("persistentVolumeReclaimPolicy"),
            );
        }
        errs
    }
}

/// Upstream's `ValidatePersistentVolumeClaimSpec` (main rules) at `path`.
pub fn validate_persistent_volume_claim_spec(
    spec: &PersistentVolumeClaimSpec,
    path: &FieldPath,
) -> ErrorList {
    let mut errs = validate_access_modes(
        &spec.access_modes,
        "at least 1 access mode is required",
        &path.child("accessModes"),
    );
    if let Some(sel) = &spec.selector {
        errs.extend(validate_label_selector(sel, &path.child("selector")));
    }
    let rp = path.child("resources").key("storage");
    match spec
        .resources
        .as_ref()
        .and_then(|r| r.requests.get("storage"))
    {
        None => errs.push(FieldError::required(&rp, "")),
        Some(q) => errs.extend(validate_positive_quantity(q, &rp)),
    }
    errs.extend(validate_class_name(
        spec.storage_class_name.as_deref(),
        &path.child("storageClassName"),
    ));
    check_enum(
        &mut errs,
        spec.volume_mode.as_deref(),
        &VOLUME_MODES,
        &path.child("volumeMode"),
    );
    errs
}

impl Validate for PersistentVolumeClaim {
    /// Metadata (namespaced) and [`validate_persistent_volume_claim_spec`].
    fn validate(&self) -> ErrorList {
        let mut errs = validate_object_meta(
            &self.metadata,
            true,
            name_is_dns_subdomain,
            &FieldPath::new("metadata"),
        );
        let default = PersistentVolumeClaimSpec::default();
        errs.extend(validate_persistent_volume_claim_spec(
            self.spec.as_ref().unwrap_or(&default),
            &FieldPath::new("spec"),
        ));
        errs
    }
}

impl Validate for StorageClass {
    /// Metadata (cluster-scoped); `provisioner` required and a qualified name; parameters at
    /// most 512 entries / 256 KiB with non-empty keys; `reclaimPolicy` Delete/Retain;
    /// `volumeBindingMode` Immediate/WaitForFirstConsumer.
    fn validate(&self) -> ErrorList {
        let mut errs = validate_resource_meta(self, name_is_dns_subdomain);
        let pp = FieldPath::new("provisioner");
        if self.provisioner.is_empty() {
            errs.push(FieldError::required(&pp, ""));
        } else {
            let lower = self.provisioner.to_lowercase();
            for m in is_qualified_name(&lower) {
                errs.push(FieldError::invalid(&pp, lower.as_str(), m));
            }
        }
        let parp = FieldPath::new("parameters");
        if self.parameters.len() > MAX_PARAMETERS {
            errs.push(FieldError::too_long(&parp, MAX_PARAMETERS));
        } else {
            let mut size = 0;
            for (k, v) in &self.parameters {
                if k.is_empty() {
                    errs.push(FieldError::invalid(
                        &parp,
                        k.as_str(),
                        "field can not be empty.",
                    ));
                }
                size += k.len() + v.len();
            }
            if size > MAX_PARAMETERS_SIZE {
                errs.push(FieldError::too_long(&parp, MAX_PARAMETERS_SIZE));
            }
        }
        if let Some(r) = self.reclaim_policy.as_deref().filter(|r| !r.is_empty()) {
            check_enum(
                &mut errs,
                Some(r),
                &CLASS_RECLAIM_POLICIES,
                &FieldPath::new("reclaimPolicy"),
            );
        }
        check_enum(
            &mut errs,
            self.volume_binding_mode.as_deref(),
            &BINDING_MODES,
            &FieldPath::new("volumeBindingMode"),
        );
        errs
    }
}

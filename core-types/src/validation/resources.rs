//! Compute-resource rules: resource names, quantity values, requests ≤ limits
//! (`ResourceRequirements`), and the `ResourceQuota` / `LimitRange` kinds.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::Validate;
use super::field::{ErrorList, FieldError, FieldPath};
use super::meta::{IS_NEGATIVE_ERROR_MSG, validate_resource_meta};
use super::names::{is_qualified_name, name_is_dns_subdomain};
use crate::Quantity;
use crate::api::core::v1::{LimitRange, ResourceQuota, ResourceRequirements};

/// Compares two quantities by value (`Quantity`'s exact `Ord`). The single place validation
/// compares quantities.
pub fn quantity_cmp(a: &Quantity, b: &Quantity) -> Ordering {
    a.cmp(b)
}

/// Whether a quantity is below zero.
fn is_negative(q: &Quantity) -> bool {
    q.cmp_i64(0) == Ordering::Less
}

/// Resource names a container may request without a domain prefix.
fn is_standard_container_resource_name(name: &str) -> bool {
    matches!(name, "cpu" | "memory" | "ephemeral-storage") || name.starts_with("hugepages-")
}

/// Upstream's `IsNativeResource`: no domain, or a `kubernetes.io/` domain.
fn is_native_resource(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

/// Upstream's `IsOvercommitAllowed`: native and not hugepages.
fn is_overcommit_allowed(name: &str) -> bool {
    is_native_resource(name) && !name.starts_with("hugepages-")
}

/// Upstream's `validateContainerResourceName`: a qualified name; a bare name must be a
/// standard container resource (`cpu`, `memory`, `ephemeral-storage`, `hugepages-*`).
pub fn validate_container_resource_name(name: &str, path: &FieldPath) -> ErrorList {
    let mut errs: ErrorList = is_qualified_name(name)
        .into_iter()
        .map(|m| FieldError::invalid(path, name, m))
        .collect();
    if !errs.is_empty() {
        return errs;
    }
    if !name.contains('/') {
        if !is_standard_container_resource_name(name) {
            errs.push(FieldError::invalid(
                path,
                name,
                "must be a standard resource for containers",
            ));
        }
    } else if !is_native_resource(name) && name.starts_with("requests.") {
        errs.push(FieldError::invalid(
            path,
            name,
            "doesn't follow extended resource name standard",
        ));
    }
    errs
}

/// Upstream's `ValidateResourceQuantityValue`: not negative.
pub fn validate_resource_quantity_value(q: &Quantity, path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    if is_negative(q) {
        errs.push(FieldError::invalid(
            path,
            q.to_string(),
            IS_NEGATIVE_ERROR_MSG,
        ));
    }
    errs
}

/// Upstream's `ValidateResourceRequirements` for a container: valid names and values, each
/// request ≤ its limit (equal for non-overcommitable resources, which also need a limit).
pub fn validate_resource_requirements(r: &ResourceRequirements, path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    let lim_path = path.child("limits");
    let req_path = path.child("requests");
    for (name, q) in &r.limits {
        let p = lim_path.key(name);
        errs.extend(validate_container_resource_name(name, &p));
        errs.extend(validate_resource_quantity_value(q, &p));
    }
    for (name, q) in &r.requests {
        let p = req_path.key(name);
        errs.extend(validate_container_resource_name(name, &p));
        errs.extend(validate_resource_quantity_value(q, &p));
        match r.limits.get(name) {
            Some(limit) => {
                let ord = quantity_cmp(q, limit);
                if ord != Ordering::Equal && !is_overcommit_allowed(name) {
                    errs.push(FieldError::invalid(
                        &req_path,
                        q.to_string(),
                        format!("must be equal to {name} limit of {limit}"),
                    ));
                } else if ord == Ordering::Greater {
                    errs.push(FieldError::invalid(
                        &req_path,
                        q.to_string(),
                        format!("must be less than or equal to {name} limit of {limit}"),
                    ));
                }
            }
            None if !is_overcommit_allowed(name) => errs.push(FieldError::required(
                &lim_path,
                "Limit must be set for non overcommitable resources",
            )),
            None => {}
        }
    }
    errs
}

/// Resource names a quota may constrain without a domain prefix (upstream's standard quota
/// resources, plus `requests.*`/`limits.*` forms and `count/*`).
fn is_standard_quota_resource_name(name: &str) -> bool {
    matches!(
        name,
        "pods"
            | "services"
            | "replicationcontrollers"
            | "resourcequotas"
            | "secrets"
            | "configmaps"
            | "persistentvolumeclaims"
            | "services.nodeports"
            | "services.loadbalancers"
            | "cpu"
            | "memory"
            | "ephemeral-storage"
            | "storage"
            | "requests.cpu"
            | "requests.memory"
            | "requests.ephemeral-storage"
            | "requests.storage"
            | "limits.cpu"
            | "limits.memory"
            | "limits.ephemeral-storage"
    ) || name.starts_with("hugepages-")
        || name.starts_with("requests.hugepages-")
}

/// Upstream's quota resource name check: a qualified name; a bare name must be a standard
/// quota resource.
fn validate_quota_resource_name(name: &str, path: &FieldPath) -> ErrorList {
    let mut errs: ErrorList = is_qualified_name(name)
        .into_iter()
        .map(|m| FieldError::invalid(path, name, m))
        .collect();
    if errs.is_empty() && !name.contains('/') && !is_standard_quota_resource_name(name) {
        errs.push(FieldError::invalid(
            path,
            name,
            "must be a standard resource for quota",
        ));
    }
    errs
}

fn validate_quantity_map(
    map: &BTreeMap<String, Quantity>,
    path: &FieldPath,
    name_check: fn(&str, &FieldPath) -> ErrorList,
) -> ErrorList {
    let mut errs = ErrorList::new();
    for (name, q) in map {
        let p = path.key(name);
        errs.extend(name_check(name, &p));
        errs.extend(validate_resource_quantity_value(q, &p));
    }
    errs
}

impl Validate for ResourceQuota {
    /// Metadata; `spec.hard` resource names are standard quota resources with non-negative
    /// quantities; scopes are supported values.
    fn validate(&self) -> ErrorList {
        let mut errs = validate_resource_meta(self, name_is_dns_subdomain);
        if let Some(spec) = &self.spec {
            let sp = FieldPath::new("spec");
            errs.extend(validate_quantity_map(
                &spec.hard,
                &sp.child("hard"),
                validate_quota_resource_name,
            ));
            const SCOPES: [&str; 6] = [
                "BestEffort",
                "CrossNamespacePodAffinity",
                "NotBestEffort",
                "NotTerminating",
                "PriorityClass",
                "Terminating",
            ];
            for (i, s) in spec.scopes.iter().enumerate() {
                if !SCOPES.contains(&s.as_str()) {
                    errs.push(FieldError::not_supported(
                        &sp.child("scopes").index(i),
                        s.as_str(),
                        &SCOPES,
                    ));
                }
            }
        }
        errs
    }
}

impl Validate for LimitRange {
    /// Metadata; each limit's type is `Pod`, `Container` or `PersistentVolumeClaim`, quantities
    /// non-negative, and `min ≤ defaultRequest ≤ default ≤ max` per resource.
    fn validate(&self) -> ErrorList {
        let mut errs = validate_resource_meta(self, name_is_dns_subdomain);
        let Some(spec) = &self.spec else {
            return errs;
        };
        let lp = FieldPath::new("spec").child("limits");
        for (i, item) in spec.limits.iter().enumerate() {
            let ip = lp.index(i);
            const TYPES: [&str; 3] = ["Container", "PersistentVolumeClaim", "Pod"];
            if !TYPES.contains(&item.type_.as_str()) {
                errs.push(FieldError::not_supported(
                    &ip.child("type"),
                    item.type_.as_str(),
                    &TYPES,
                ));
            }
            let any_name = |_: &str, _: &FieldPath| ErrorList::new();
            errs.extend(validate_quantity_map(&item.max, &ip.child("max"), any_name));
            errs.extend(validate_quantity_map(&item.min, &ip.child("min"), any_name));
            errs.extend(validate_quantity_map(
                &item.default,
                &ip.child("default"),
                any_name,
            ));
            errs.extend(validate_quantity_map(
                &item.default_request,
                &ip.child("defaultRequest"),
                any_name,
            ));
            for (name, min) in &item.min {
                if let Some(max) = item.max.get(name)
                    && quantity_cmp(min, max) == Ordering::Greater
                {
                    errs.push(FieldError::invalid(
                        &ip.child("min").key(name),
                        min.to_string(),
                        format!("min value {min} is greater than max value {max}"),
                    ));
                }
            }
            for (name, dr) in &item.default_request {
                if let Some(max) = item.max.get(name)
                    && quantity_cmp(dr, max) == Ordering::Greater
                {
                    errs.push(FieldError::invalid(
                        &ip.child("defaultRequest").key(name),
                        dr.to_string(),
                        format!("default request value {dr} is greater than max value {max}"),
                    ));
                }
                if let Some(def) = item.default.get(name)
                    && quantity_cmp(dr, def) == Ordering::Greater
                {
                    errs.push(FieldError::invalid(
                        &ip.child("defaultRequest").key(name),
                        dr.to_string(),
                        format!(
                            "default request value {dr} is greater than default limit value {def}"
                        ),
                    ));
                }
            }
            for (name, def) in &item.default {
                if let Some(max) = item.max.get(name)
                    && quantity_cmp(def, max) == Ordering::Greater
                {
                    errs.push(FieldError::invalid(
                        &ip.child("default").key(name),
                        def.to_string(),
                        format!("default value {def} is greater than max value {max}"),
                    ));
                }
            }
        }
        errs
    }
}

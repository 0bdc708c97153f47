//! `ObjectMeta` validation with upstream's rules and messages: labels, annotations, finalizers,
//! owner references, name/generateName and namespace (`k8s.io/apimachinery/pkg/api/validation`
//! and `k8s.io/apimachinery/pkg/apis/meta/v1/validation`).

use std::collections::BTreeMap;

use super::field::{ErrorList, FieldError, FieldPath};
use super::names::{NameFn, is_dns1123_label, is_qualified_name, is_valid_label_value};
use crate::api::meta::v1::{ObjectMeta, OwnerReference};
use crate::resource::{Scope, TypedResource, split_api_version};

/// Upstream's `TotalAnnotationSizeLimitB`: the sum of all annotation key and value lengths
/// may not exceed 256 KiB.
pub const TOTAL_ANNOTATION_SIZE_LIMIT_B: usize = 256 * 1024;

/// Upstream's `IsNegativeErrorMsg`.
pub const IS_NEGATIVE_ERROR_MSG: &str = "must be greater than or equal to 0";

/// The finalizer that orphans dependents.
pub const FINALIZER_ORPHAN_DEPENDENTS: &str = "orphan";
/// The finalizer that deletes dependents in the foreground.
pub const FINALIZER_DELETE_DEPENDENTS: &str = "foregroundDeletion";

/// Upstream's `ValidateLabelName`: the key must be a qualified name.
pub fn validate_label_name(name: &str, path: &FieldPath) -> ErrorList {
    is_qualified_name(name)
        .into_iter()
        .map(|m| FieldError::invalid(path, name, m))
        .collect()
}

/// Upstream's `ValidateLabels`: every key a qualified name, every value a valid label value.
/// Errors are reported at `path` itself (upstream does not index by key). Takes any map of
/// strings by reference: `&LabelMap` (`metadata.labels`) or `&BTreeMap` (`matchLabels`, a
/// Service's selector).
pub fn validate_labels<'a>(
    labels: impl IntoIterator<Item = (&'a String, &'a String)>,
    path: &FieldPath,
) -> ErrorList {
    let mut errs = ErrorList::new();
    for (k, v) in labels {
        errs.extend(validate_label_name(k, path));
        for m in is_valid_label_value(v) {
            errs.push(FieldError::invalid(path, v.as_str(), m));
        }
    }
    errs
}

/// The total size (key and value bytes) of a set of annotations.
pub fn annotations_size(annotations: &BTreeMap<String, String>) -> usize {
    annotations.iter().map(|(k, v)| k.len() + v.len()).sum()
}

/// Upstream's `ValidateAnnotations`: keys are qualified names (case-insensitive) and the total
/// size is at most [`TOTAL_ANNOTATION_SIZE_LIMIT_B`].
pub fn validate_annotations(annotations: &BTreeMap<String, String>, path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    for k in annotations.keys() {
        let msgs = if k.bytes().any(|b| b.is_ascii_uppercase()) {
            is_qualified_name(&k.to_lowercase())
        } else {
            is_qualified_name(k)
        };
        for m in msgs {
            errs.push(FieldError::invalid(path, k.as_str(), m));
        }
    }
    if annotations_size(annotations) > TOTAL_ANNOTATION_SIZE_LIMIT_B {
        errs.push(FieldError::too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT_B));
    }
    errs
}

/// Upstream's `ValidateNonnegativeField`.
pub fn validate_nonnegative_field(value: i64, path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    if value < 0 {
        errs.push(FieldError::invalid(path, value, IS_NEGATIVE_ERROR_MSG));
    }
    errs
}

/// Upstream's `ValidateFinalizerName`: a qualified name.
pub fn validate_finalizer_name(name: &str, path: &FieldPath) -> ErrorList {
    is_qualified_name(name)
        .into_iter()
        .map(|m| FieldError::invalid(path, name, m))
        .collect()
}

/// Upstream's `ValidateFinalizers`: every finalizer a qualified name (at `path`), `orphan` and
/// `foregroundDeletion` not both set; additionally (Kybern) no finalizer listed twice
/// (`Duplicate value` at `path[i]`).
pub fn validate_finalizers(finalizers: &[String], path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    for (i, f) in finalizers.iter().enumerate() {
        errs.extend(validate_finalizer_name(f, path));
        if finalizers[..i].contains(f) {
            errs.push(FieldError::duplicate(&path.index(i), f.as_str()));
        }
    }
    let has = |n: &str| finalizers.iter().any(|f| f == n);
    if has(FINALIZER_ORPHAN_DEPENDENTS) && has(FINALIZER_DELETE_DEPENDENTS) {
        errs.push(FieldError::invalid(
            path,
            finalizers.to_vec(),
            format!(
                "finalizer {FINALIZER_ORPHAN_DEPENDENTS} and {FINALIZER_DELETE_DEPENDENTS} cannot be both set"
            ),
        ));
    }
    errs
}

/// The name checks of upstream's `ValidateObjectMetaAccessor`: `generateName` (as a prefix)
/// and `name` with the kind's name validator. `name` is required unless `generateName` is set
/// (upstream fills `name` from `generateName` before validating; a manifest may carry only the
/// prefix).
pub fn validate_name_and_generate_name(
    name: &str,
    generate_name: &str,
    name_fn: NameFn,
    path: &FieldPath,
) -> ErrorList {
    let mut errs = ErrorList::new();
    if !generate_name.is_empty() {
        let p = path.child("generateName");
        for m in name_fn(generate_name, true) {
            errs.push(FieldError::invalid(&p, generate_name, m));
        }
    }
    if name.is_empty() {
        if generate_name.is_empty() {
            errs.push(FieldError::required(
                &path.child("name"),
                "name or generateName is required",
            ));
        }
    } else {
        let p = path.child("name");
        for m in name_fn(name, false) {
            errs.push(FieldError::invalid(&p, name, m));
        }
    }
    errs
}

/// The namespace check of upstream's `ValidateObjectMetaAccessor`: required and a DNS-1123
/// label for namespaced kinds, forbidden for cluster-scoped kinds.
pub fn validate_namespace_field(
    namespace: &str,
    requires_namespace: bool,
    path: &FieldPath,
) -> ErrorList {
    let mut errs = ErrorList::new();
    let p = path.child("namespace");
    if requires_namespace {
        if namespace.is_empty() {
            errs.push(FieldError::required(&p, ""));
        } else {
            for m in is_dns1123_label(namespace) {
                errs.push(FieldError::invalid(&p, namespace, m));
            }
        }
    } else if !namespace.is_empty() {
        errs.push(FieldError::forbidden(&p, "not allowed on this type"));
    }
    errs
}

/// Upstream's `validateOwnerReference`: apiVersion (with a version), kind, name and uid
/// required; `v1 Event` may not be an owner. Errors are reported under `path` (upstream does
/// not index by reference).
pub fn validate_owner_reference(r: &OwnerReference, path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    let (group, version) = split_api_version(&r.api_version);
    if version.is_empty() {
        errs.push(FieldError::invalid(
            &path.child("apiVersion"),
            r.api_version.as_str(),
            "version must not be empty",
        ));
    }
    if r.kind.is_empty() {
        errs.push(FieldError::invalid(
            &path.child("kind"),
            r.kind.as_str(),
            "must not be empty",
        ));
    }
    if r.name.is_empty() {
        errs.push(FieldError::invalid(
            &path.child("name"),
            r.name.as_str(),
            "must not be empty",
        ));
    }
    if r.uid.is_empty() {
        errs.push(FieldError::invalid(
            &path.child("uid"),
            r.uid.as_str(),
            "must not be empty",
        ));
    }
    if group.is_empty() && version == "v1" && r.kind == "Event" {
        errs.push(FieldError::invalid(
            path,
            serde_json::to_value(r).unwrap_or_default(),
            "/v1, Kind=Event is disallowed from being an owner",
        ));
    }
    errs
}

/// Upstream's `ValidateOwnerReferences`: each reference valid, at most one with
/// `controller: true`.
pub fn validate_owner_references(refs: &[OwnerReference], path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut first_controller: Option<String> = None;
    for r in refs {
        errs.extend(validate_owner_reference(r, path));
        if r.controller == Some(true) {
            let current = format!("{}/{}", r.kind, r.name);
            match &first_controller {
                Some(first) => errs.push(FieldError::invalid(
                    path,
                    serde_json::to_value(refs).unwrap_or_default(),
                    format!(
                        "Only one reference can have Controller set to true. Found \"true\" in references for {first} and {current}"
                    ),
                )),
                None => first_controller = Some(current),
            }
        }
    }
    errs
}

/// Upstream's `ValidateObjectMeta`: name/generateName with the kind's `name_fn`, namespace
/// (required and a DNS-1123 label when `requires_namespace`, forbidden otherwise),
/// `generation >= 0`, labels, annotations, owner references and finalizers. `path` is usually
/// `metadata`.
pub fn validate_object_meta(
    meta: &ObjectMeta,
    requires_namespace: bool,
    name_fn: NameFn,
    path: &FieldPath,
) -> ErrorList {
    let mut errs = validate_name_and_generate_name(
        meta.name.as_deref().unwrap_or(""),
        meta.generate_name.as_deref().unwrap_or(""),
        name_fn,
        path,
    );
    errs.extend(validate_namespace_field(
        meta.namespace.as_deref().unwrap_or(""),
        requires_namespace,
        path,
    ));
    if let Some(g) = meta.generation {
        errs.extend(validate_nonnegative_field(g, &path.child("generation")));
    }
    errs.extend(validate_labels(&meta.labels, &path.child("labels")));
    errs.extend(validate_annotations(
        &meta.annotations,
        &path.child("annotations"),
    ));
    errs.extend(validate_owner_references(
        &meta.owner_references,
        &path.child("ownerReferences"),
    ));
    errs.extend(validate_finalizers(
        &meta.finalizers,
        &path.child("finalizers"),
    ));
    errs
}

/// [`validate_object_meta`] for a typed kind at `metadata`, with the scope taken from the kind.
pub fn validate_resource_meta<K: TypedResource>(obj: &K, name_fn: NameFn) -> ErrorList {
    validate_object_meta(
        obj.meta(),
        K::SCOPE == Scope::Namespaced,
        name_fn,
        &FieldPath::new("metadata"),
    )
}

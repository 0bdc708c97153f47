//! `Namespace` validation with upstream's messages: a DNS-1123 label name, cluster-scoped, and
//! `spec.finalizers` standard or domain-qualified.

use super::Validate;
use super::field::{ErrorList, FieldError, FieldPath};
use super::meta::{validate_finalizer_name, validate_resource_meta};
use super::names::name_is_dns_label;
use crate::api::core::v1::Namespace;

/// Finalizer names that need no domain prefix.
const STANDARD_FINALIZERS: [&str; 3] = ["kubernetes", "orphan", "foregroundDeletion"];

/// Upstream's `validateKubeFinalizerName`: a qualified name, and either a standard finalizer or
/// domain-qualified (`example.com/name`).
pub fn validate_kube_finalizer_name(name: &str, path: &FieldPath) -> ErrorList {
    let mut errs = validate_finalizer_name(name, path);
    if !name.contains('/') && !STANDARD_FINALIZERS.contains(&name) {
        errs.push(FieldError::invalid(
            path,
            name,
            "name is neither a standard finalizer name nor is it fully qualified",
        ));
    }
    errs
}

impl Validate for Namespace {
    /// Metadata (DNS-1123 label, cluster-scoped) and `spec.finalizers`.
    fn validate(&self) -> ErrorList {
        let mut errs = validate_resource_meta(self, name_is_dns_label);
        if let Some(spec) = &self.spec {
            let p = FieldPath::new("spec").child("finalizers");
            for f in &spec.finalizers {
                errs.extend(validate_kube_finalizer_name(f, &p));
            }
        }
        errs
    }
}

//! Which objects a list or watch selects: namespace, label selector and field selector, and
//! the per-kind table of selectable fields (upstream's field label conversion functions).
//!
//! [`Selection`] is the one seam every backend filters through, so list and watch agree on
//! what matches, everywhere.

use std::borrow::Cow;

use kybern_core::{ApiResource, DynamicObject};
use serde_json::Value;

use super::StoreError;

/// How a missing field reads: Go zero values, as upstream formats typed fields.
#[derive(Clone, Copy, Debug)]
enum Zero {
    /// A string field: `""`.
    Str,
    /// A bool field: `"false"`.
    Bool,
    /// An integer field: `"0"`.
    Int,
}

/// One selectable field of a kind: its selector label, JSON path and zero value.
struct FieldSpec {
    label: &'static str,
    path: &'static [&'static str],
    zero: Zero,
}

const fn f(label: &'static str, path: &'static [&'static str], zero: Zero) -> FieldSpec {
    FieldSpec { label, path, zero }
}

/// The per-kind selectable fields beyond `metadata.name` and `metadata.namespace`, as
/// upstream's `AddFieldLabelConversionFunc` registrations allow them (v1.33).
const KIND_FIELDS: &[(&str, &str, &[FieldSpec])] = &[
    (
        "",
        "Pod",
        &[
            f("spec.nodeName", &["spec", "nodeName"], Zero::Str),
            f("spec.restartPolicy", &["spec", "restartPolicy"], Zero::Str),
            f("spec.schedulerName", &["spec", "schedulerName"], Zero::Str),
            f(
                "spec.serviceAccountName",
                &["spec", "serviceAccountName"],
                Zero::Str,
            ),
            f("spec.hostNetwork", &["spec", "hostNetwork"], Zero::Bool),
            f("status.phase", &["status", "phase"], Zero::Str),
            f("status.podIP", &["status", "podIP"], Zero::Str),
            f(
                "status.nominatedNodeName",
                &["status", "nominatedNodeName"],
                Zero::Str,
            ),
        ],
    ),
    (
        "",
        "Event",
        &[
            f(
                "involvedObject.kind",
                &["involvedObject", "kind"],
                Zero::Str,
            ),
            f(
                "involvedObject.namespace",
                &["involvedObject", "namespace"],
                Zero::Str,
            ),
            f(
                "involvedObject.name",
                &["involvedObject", "name"],
                Zero::Str,
            ),
            f("involvedObject.uid", &["involvedObject", "uid"], Zero::Str),
            f(
                "involvedObject.apiVersion",
                &["involvedObject", "apiVersion"],
                Zero::Str,
            ),
            f(
                "involvedObject.resourceVersion",
                &["involvedObject", "resourceVersion"],
                Zero::Str,
            ),
            f(
                "involvedObject.fieldPath",
                &["involvedObject", "fieldPath"],
                Zero::Str,
            ),
            f("reason", &["reason"], Zero::Str),
            f("reportingComponent", &["reportingComponent"], Zero::Str),
            f("source", &["source", "component"], Zero::Str),
            f("type", &["type"], Zero::Str),
        ],
    ),
    ("", "Secret", &[f("type", &["type"], Zero::Str)]),
    (
        "",
        "Node",
        &[f(
            "spec.unschedulable",
            &["spec", "unschedulable"],
            Zero::Bool,
        )],
    ),
    (
        "",
        "Namespace",
        &[f("status.phase", &["status", "phase"], Zero::Str)],
    ),
    (
        "",
        "ReplicationController",
        &[f("status.replicas", &["status", "replicas"], Zero::Int)],
    ),
    (
        "apps",
        "ReplicaSet",
        &[f("status.replicas", &["status", "replicas"], Zero::Int)],
    ),
    (
        "batch",
        "Job",
        &[f("status.successful", &["status", "successful"], Zero::Int)],
    ),
];

/// The field selector labels a kind supports, `metadata.name` and `metadata.namespace` first.
pub fn supported_fields(resource: &ApiResource) -> Vec<&'static str> {
    let mut out = vec!["metadata.name", "metadata.namespace"];
    if let Some(specs) = kind_fields(resource) {
        out.extend(specs.iter().map(|s| s.label));
    }
    out
}

fn kind_fields(resource: &ApiResource) -> Option<&'static [FieldSpec]> {
    KIND_FIELDS
        .iter()
        .find(|(g, k, _)| *g == resource.gvk.group && *k == resource.gvk.kind)
        .map(|(_, _, specs)| *specs)
}

/// The value of a selectable field of `obj`, formatted as upstream formats it.
///
/// # Errors
/// BadRequest `field label not supported: <label>` (upstream's wording) when the kind does
/// not register that field.
pub fn field_value<'a>(
    resource: &ApiResource,
    obj: &'a DynamicObject,
    label: &str,
) -> Result<Cow<'a, str>, StoreError> {
    match label {
        "metadata.name" => return Ok(Cow::Borrowed(obj.metadata.name.as_deref().unwrap_or(""))),
        "metadata.namespace" => {
            return Ok(Cow::Borrowed(
                obj.metadata.namespace.as_deref().unwrap_or(""),
            ));
        }
        _ => {}
    }
    let spec = kind_fields(resource)
        .and_then(|specs| specs.iter().find(|s| s.label == label))
        .ok_or_else(|| StoreError::bad_request(format!("field label not supported: {label}")))?;
    let mut cur: Option<&Value> = obj.data.get(spec.path[0]);
    for seg in &spec.path[1..] {
        cur = cur.and_then(|v| v.get(*seg));
    }
    Ok(match (cur, spec.zero) {
        (Some(Value::String(s)), _) => Cow::Borrowed(s.as_str()),
        (Some(Value::Bool(b)), _) => Cow::Borrowed(if *b { "true" } else { "false" }),
        (Some(Value::Number(n)), _) => Cow::Owned(n.to_string()),
        (_, Zero::Str) => Cow::Borrowed(""),
        (_, Zero::Bool) => Cow::Borrowed("false"),
        (_, Zero::Int) => Cow::Borrowed("0"),
    })
}

/// A parsed selection: namespace plus label and field selectors, checked once at the start of a
/// list or watch and then matched against every object.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    namespace: Option<String>,
}

impl Selection {
    /// Parses the selection of a list or watch on `resource`.
    ///
    /// # Errors
    /// BadRequest for unparsable selectors or field labels the kind does not support.
    pub fn parse(
        resource: &ApiResource,
        namespace: Option<&str>,
        label_selector: Option<&str>,
        field_selector: Option<&str>,
    ) -> Result<Self, StoreError> {
        let _ = resource;
        if label_selector.is_some_and(|s| !s.trim().is_empty())
            || field_selector.is_some_and(|s| !s.trim().is_empty())
        {
            return Err(StoreError::bad_request(
                "label and field selectors are not available in this build yet",
            ));
        }
        Ok(Selection {
            namespace: namespace.filter(|n| !n.is_empty()).map(str::to_owned),
        })
    }

    /// The namespace this selection is limited to.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// Whether label or field selectors are set (upstream then omits `remainingItemCount`).
    pub fn has_selectors(&self) -> bool {
        false
    }

    /// Whether `obj` (of `resource`) is selected.
    pub fn matches(&self, resource: &ApiResource, obj: &DynamicObject) -> bool {
        let _ = resource;
        if let Some(ns) = &self.namespace
            && obj.metadata.namespace.as_deref() != Some(ns.as_str())
        {
            return false;
        }
        true
    }
}

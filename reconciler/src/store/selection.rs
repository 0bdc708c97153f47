//! Which objects a list or watch selects: namespace, label selector and field selector, and
//! the per-kind table of selectable fields (upstream's field label conversion functions).
//!
//! [`Selection`] is the one seam every backend filters through, so list and watch agree on
//! what matches, everywhere.

use std::borrow::Cow;

use kybern_core::fields::{FieldOperator, FieldRequirement, FieldSelector};
use kybern_core::labels::Selector;
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
    labels: Option<Selector>,
    fields: Vec<FieldRequirement>,
}

impl Selection {
    /// Parses the selection of a list or watch on `resource`.
    ///
    /// # Errors
    /// BadRequest for unparsable selectors or field labels the kind does not support
    /// (`field label not supported: spec.foo`).
    pub fn parse(
        resource: &ApiResource,
        namespace: Option<&str>,
        label_selector: Option<&str>,
        field_selector: Option<&str>,
    ) -> Result<Self, StoreError> {
        let labels = match label_selector.filter(|s| !s.trim().is_empty()) {
            None => None,
            Some(s) => {
                let sel = Selector::parse(s).map_err(|e| StoreError::bad_request(e.to_string()))?;
                (!sel.is_empty()).then_some(sel)
            }
        };
        let fields = match field_selector.filter(|s| !s.trim().is_empty()) {
            None => Vec::new(),
            Some(s) => {
                let sel =
                    FieldSelector::parse(s).map_err(|e| StoreError::bad_request(e.to_string()))?;
                let supported = supported_fields(resource);
                for r in sel.requirements() {
                    if !supported.contains(&r.field.as_str()) {
                        return Err(StoreError::bad_request(format!(
                            "field label not supported: {}",
                            r.field
                        )));
                    }
                }
                sel.requirements().to_vec()
            }
        };
        Ok(Selection {
            namespace: namespace.filter(|n| !n.is_empty()).map(str::to_owned),
            labels,
            fields,
        })
    }

    /// The namespace this selection is limited to.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// Whether label or field selectors are set.
    pub fn has_selectors(&self) -> bool {
        self.labels.is_some() || !self.fields.is_empty()
    }

    /// Whether every object is selected (no namespace, no selectors): matching can be skipped.
    #[inline]
    pub fn selects_all(&self) -> bool {
        self.namespace.is_none() && !self.has_selectors()
    }

    /// Whether `obj` (of `resource`) is selected.
    pub fn matches(&self, resource: &ApiResource, obj: &DynamicObject) -> bool {
        if let Some(ns) = &self.namespace
            && obj.metadata.namespace.as_deref() != Some(ns.as_str())
        {
            return false;
        }
        if let Some(sel) = &self.labels
            && !sel.matches(&obj.metadata.labels)
        {
            return false;
        }
        self.fields.iter().all(|r| {
            // Unsupported labels were rejected by `parse`; treat a lookup failure as no match.
            let Ok(value) = field_value(resource, obj, &r.field) else {
                return false;
            };
            match r.operator {
                FieldOperator::Equals => value == r.value.as_str(),
                FieldOperator::NotEquals => value != r.value.as_str(),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kybern_core::Resource;
    use kybern_core::api::core::v1::{ConfigMap, Event, Node, Pod};
    use serde_json::json;

    fn obj(r: &ApiResource, v: serde_json::Value) -> DynamicObject {
        let mut o = DynamicObject::from_value(v).unwrap();
        o.types = Some(crate::store::rules::type_meta(r));
        o
    }

    #[test]
    fn field_values_per_kind() {
        let pods = Pod::api_resource(&());
        let nodes = Node::api_resource(&());
        let events = Event::api_resource(&());
        let p = obj(
            &pods,
            json!({"metadata": {"name": "p", "namespace": "ns"},
                   "spec": {"nodeName": "n1", "hostNetwork": true}, "status": {"phase": "Running"}}),
        );
        let n = obj(&nodes, json!({"metadata": {"name": "n1"}}));
        let e = obj(
            &events,
            json!({"metadata": {"name": "e"}, "involvedObject": {"kind": "Pod", "name": "p"},
                   "source": {"component": "kubelet"}, "reason": "Started"}),
        );
        let cases: Vec<(&ApiResource, &DynamicObject, &str, &str)> = vec![
            (&pods, &p, "metadata.name", "p"),
            (&pods, &p, "metadata.namespace", "ns"),
            (&pods, &p, "spec.nodeName", "n1"),
            (&pods, &p, "spec.hostNetwork", "true"),
            (&pods, &p, "status.phase", "Running"),
            (&pods, &p, "status.podIP", ""),
            (&pods, &p, "spec.restartPolicy", ""),
            (&nodes, &n, "spec.unschedulable", "false"),
            (&nodes, &n, "metadata.namespace", ""),
            (&events, &e, "involvedObject.kind", "Pod"),
            (&events, &e, "source", "kubelet"),
            (&events, &e, "reason", "Started"),
            (&events, &e, "type", ""),
        ];
        for (r, o, label, want) in cases {
            assert_eq!(
                field_value(r, o, label).unwrap(),
                want,
                "{} {label}",
                r.kind()
            );
        }
        let cm = ConfigMap::api_resource(&());
        let e = field_value(&cm, &n, "spec.nodeName").unwrap_err();
        assert_eq!(e.to_string(), "field label not supported: spec.nodeName");
    }

    #[test]
    fn selections() {
        let pods = Pod::api_resource(&());
        let p = obj(
            &pods,
            json!({"metadata": {"name": "p", "namespace": "ns", "labels": {"app": "web", "tier": "fe"}},
                   "spec": {"nodeName": "n1"}}),
        );
        type Case<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>, bool);
        let cases: Vec<Case<'_>> = vec![
            (None, None, None, true),
            (Some("ns"), None, None, true),
            (Some("other"), None, None, false),
            (None, Some("app=web"), None, true),
            (None, Some("app in (api,db)"), None, false),
            (None, Some("!legacy,tier"), None, true),
            (None, None, Some("spec.nodeName=n1"), true),
            (None, None, Some("spec.nodeName="), false),
            (None, None, Some("spec.nodeName!=n2,metadata.name=p"), true),
            (
                Some("ns"),
                Some("app=web"),
                Some("status.phase=Running"),
                false,
            ),
        ];
        for (ns, l, fsel, want) in cases {
            let s = Selection::parse(&pods, ns, l, fsel).unwrap();
            assert_eq!(s.matches(&pods, &p), want, "{ns:?} {l:?} {fsel:?}");
        }
        let bad: Vec<(Option<&str>, Option<&str>, &str)> = vec![
            (
                None,
                Some("spec.foo=1"),
                "field label not supported: spec.foo",
            ),
            (Some("app in (a"), None, ""),
            (None, Some("novalue"), ""),
        ];
        for (l, fsel, msg) in bad {
            let e = Selection::parse(&pods, None, l, fsel).unwrap_err();
            assert_eq!(e.to_status().code, Some(400), "{l:?} {fsel:?}: {e}");
            if !msg.is_empty() {
                assert_eq!(e.to_string(), msg);
            }
        }
    }
}

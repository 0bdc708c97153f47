//! Registry, `AnyObject`, custom resources and schema export: kind identity lookups, decoding
//! into typed/dynamic/removed/unknown, CRD printing and registration, OpenAPI documents.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kybern_core::api::apps::v1::Deployment;
use kybern_core::api::core::v1::Pod;
use kybern_core::object::downcast_ref;
use kybern_core::{
    AnyObject, ApiResource, CustomResourceExt, Decoded, DynamicObject, GroupVersionKind,
    GroupVersionResource, Registry, Scope, TypedResource, custom_resource,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The spec of the test custom kind.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackupSpec {
    /// Cron schedule.
    pub schedule: String,
    /// How many to keep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep: Option<u32>,
    /// Free-form options.
    #[serde(default)]
    pub options: serde_json::Value,
    /// Port or name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<kybern_core::IntOrString>,
}

/// The status of the test custom kind.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BackupStatus {
    /// Completed backups.
    pub completed: u32,
}

custom_resource! {
    /// A scheduled backup (test kind).
    #[resource(group = "stable.example.com", version = "v1", kind = "Backup", plural = "backups", scope = Namespaced, short_names = ["bk"])]
    pub struct Backup {
        spec: BackupSpec,
        status: BackupStatus,
    }
}

custom_resource! {
    /// A cluster-scoped kind without status (test kind).
    #[resource(group = "stable.example.com", version = "v1alpha1", kind = "Tenant", plural = "tenants", scope = Cluster, validate = validate_tenant)]
    pub struct Tenant {
        spec: BackupSpec,
    }
}

fn validate_tenant(t: &Tenant) -> kybern_core::validation::ErrorList {
    let mut errs = kybern_core::validation::ErrorList::new();
    if t.spec.schedule.is_empty() {
        let path = kybern_core::validation::FieldPath::new("spec").child("schedule");
        errs.push(kybern_core::validation::FieldError::required(&path, ""));
    }
    errs
}

#[test]
fn custom_validation_hook() {
    let mut t = Tenant::default();
    t.metadata.name = Some("Bad_Name".into());
    let errs = AnyObject::validate(&t);
    let text: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert_eq!(text.len(), 2, "{text:?}");
    assert!(
        text[0].starts_with("metadata.name: Invalid value: \"Bad_Name\""),
        "{text:?}"
    );
    assert_eq!(text[1], "spec.schedule: Required value");
}

#[test]
fn builtin_lookups() {
    let r = Registry::builtin();
    let cases = [
        ("", "v1", "Pod", "pods", Scope::Namespaced, true),
        (
            "apps",
            "v1",
            "Deployment",
            "deployments",
            Scope::Namespaced,
            true,
        ),
        ("", "v1", "Node", "nodes", Scope::Cluster, true),
        (
            "rbac.authorization.k8s.io",
            "v1",
            "ClusterRole",
            "clusterroles",
            Scope::Cluster,
            true,
        ),
        (
            "",
            "v1",
            "ReplicationController",
            "replicationcontrollers",
            Scope::Namespaced,
            false,
        ),
        (
            "apiregistration.k8s.io",
            "v1",
            "APIService",
            "apiservices",
            Scope::Cluster,
            false,
        ),
    ];
    for (g, v, k, plural, scope, typed) in cases {
        let gvk = GroupVersionKind::new(g, v, k);
        let ar = r
            .resource_for_kind(&gvk)
            .unwrap_or_else(|| panic!("{gvk} not registered"));
        assert_eq!((ar.plural.as_ref(), ar.scope), (plural, scope), "{gvk}");
        assert_eq!(r.is_typed(&gvk), typed, "{gvk}");
        let gvr = GroupVersionResource {
            group: g.into(),
            version: v.into(),
            resource: plural.into(),
        };
        assert_eq!(r.resource_for_gvr(&gvr).map(|a| &a.gvk), Some(&gvk));
    }
    let typed = r.resources().filter(|a| r.is_typed(&a.gvk)).count();
    assert_eq!(typed, 35);
    assert!(
        r.resource_for_kind(&GroupVersionKind::new("apps", "v1", "Pod"))
            .is_none()
    );
}

#[test]
fn decode_paths() {
    let r = Registry::builtin();
    let dep = DynamicObject::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "c", "image": "nginx", "portz": 1}]}}}
    }))
    .unwrap();
    match r.decode(dep).unwrap() {
        Decoded::Typed {
            mut object,
            unknown_fields,
        } => {
            assert_eq!(unknown_fields, ["spec.template.spec.containers[0].portz"]);
            assert_eq!(object.gvk(), <Deployment as TypedResource>::gvk());
            object.set_defaults();
            assert!(object.validate().is_empty(), "{}", object.validate());
            let d: &Deployment = downcast_ref(object.as_ref()).unwrap();
            assert_eq!(d.spec.as_ref().unwrap().replicas, Some(1));
            assert!(downcast_ref::<Pod>(object.as_ref()).is_none());
            assert_eq!(
                object.to_json().unwrap()["spec"]["revisionHistoryLimit"],
                10
            );
        }
        other => panic!("expected typed, got {other:?}"),
    }

    let bad = DynamicObject::from_value(
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "ports": [{"containerPort": "http"}]}]}}),
    )
    .unwrap();
    let err = r.decode(bad).unwrap_err();
    assert_eq!(err.path, "spec.containers[0].ports[0].containerPort");
    assert_eq!(err.type_name, "v1, Kind=Pod");

    let old = DynamicObject::from_value(json!({"apiVersion": "extensions/v1beta1", "kind": "DaemonSet", "metadata": {"name": "x"}, "spec": {"a": 1}})).unwrap();
    match r.decode(old.clone()).unwrap() {
        Decoded::Removed(obj, note) => {
            assert_eq!(obj, old, "nothing lost");
            assert!(note.contains("apps/v1"), "{note}");
        }
        other => panic!("expected removed, got {other:?}"),
    }

    let unknown = DynamicObject::from_value(json!({"apiVersion": "x.io/v1", "kind": "Thing", "metadata": {"name": "t"}, "spec": {"deep": [1, {"b": null}]}})).unwrap();
    match r.decode(unknown.clone()).unwrap() {
        Decoded::Unknown(obj) => assert_eq!(obj.to_value(), unknown.to_value()),
        other => panic!("expected unknown, got {other:?}"),
    }
}

#[test]
fn custom_resource_wire_format_and_crd() {
    let mut b = Backup::default();
    b.metadata.name = Some("nightly".into());
    b.spec.schedule = "0 3 * * *".into();
    let v = serde_json::to_value(&b).unwrap();
    assert_eq!(v["apiVersion"], "stable.example.com/v1");
    assert_eq!(v["kind"], "Backup");
    assert!(v.get("status").is_none());
    let back: Backup = serde_json::from_value(v).unwrap();
    assert_eq!(back, b);
    let wrong = serde_json::from_value::<Backup>(
        json!({"apiVersion": "v1", "kind": "Pod", "spec": {"schedule": "x"}}),
    );
    assert!(
        wrong
            .unwrap_err()
            .to_string()
            .contains("expected apiVersion \"stable.example.com/v1\"")
    );

    let crd = Backup::crd();
    assert_eq!(
        crd.metadata.name.as_deref(),
        Some("backups.stable.example.com")
    );
    let spec = &crd.spec;
    assert_eq!(
        (spec.group.as_str(), spec.scope.as_str()),
        ("stable.example.com", "Namespaced")
    );
    assert_eq!(spec.names.short_names, ["bk"]);
    assert_eq!(spec.names.list_kind.as_deref(), Some("BackupList"));
    let version = &spec.versions[0];
    assert!(
        version.served
            && version.storage
            && version.subresources.as_ref().unwrap().status.is_some()
    );
    let schema = serde_json::to_value(
        version
            .schema
            .as_ref()
            .unwrap()
            .open_api_v3_schema
            .as_ref()
            .unwrap(),
    )
    .unwrap();
    // Structural: metadata reduced to an object, no $refs, untyped values preserved, int-or-string kept.
    assert_eq!(schema["properties"]["metadata"], json!({"type": "object"}));
    let text = schema.to_string();
    assert!(
        !text.contains("$ref") && !text.contains("$schema"),
        "{text}"
    );
    let spec_props = &schema["properties"]["spec"]["properties"];
    assert_eq!(spec_props["schedule"]["type"], "string");
    assert_eq!(
        spec_props["options"]["x-kubernetes-preserve-unknown-fields"],
        true
    );
    assert_eq!(spec_props["port"]["x-kubernetes-int-or-string"], true);
    assert_eq!(
        schema["properties"]["status"]["properties"]["completed"]["type"],
        "integer"
    );

    let tenant = Tenant::crd();
    assert_eq!(tenant.spec.scope, "Cluster");
    assert!(tenant.spec.versions[0].subresources.is_none());

    // A registry learns the CRD's kinds: objects of it decode as dynamic with the right identity.
    let mut r = Registry::builtin();
    let registered = r.register_crd(&crd);
    assert_eq!(registered.len(), 1);
    let obj = DynamicObject::from_value(json!({"apiVersion": "stable.example.com/v1", "kind": "Backup", "metadata": {"name": "n"}, "spec": {"schedule": "x"}})).unwrap();
    match r.decode(obj).unwrap() {
        Decoded::Dynamic(_, ar) => assert_eq!(
            ar,
            ApiResource {
                gvk: <Backup as TypedResource>::gvk(),
                plural: "backups".into(),
                scope: Scope::Namespaced
            }
        ),
        other => panic!("expected dynamic, got {other:?}"),
    }
    // ... and a typed registration decodes into the struct.
    r.register::<Backup>();
    let obj = DynamicObject::from_value(json!({"apiVersion": "stable.example.com/v1", "kind": "Backup", "metadata": {"name": "n"}, "spec": {"schedule": "x"}})).unwrap();
    assert!(matches!(r.decode(obj).unwrap(), Decoded::Typed { .. }));
}

#[test]
fn openapi_document_has_every_kind() {
    let doc = kybern_core::schema::openapi_v3_document();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for kind in [
        "Pod",
        "Deployment",
        "CustomResourceDefinition",
        "ObjectMeta",
        "PodSpec",
        "Quantity",
    ] {
        assert!(
            schemas.contains_key(kind),
            "missing {kind}; have {:?}",
            schemas.keys().take(10).collect::<Vec<_>>()
        );
    }
    assert!(schemas.len() > 300, "{}", schemas.len());
    // Every subschema reference resolves inside the document.
    let text = doc.to_string();
    for r in text.split("\"$ref\":\"").skip(1) {
        let target = r.split('"').next().unwrap();
        let name = target.rsplit('/').next().unwrap();
        assert!(
            target.starts_with("#/components/schemas/") && schemas.contains_key(name),
            "dangling {target}"
        );
    }
    let pod = kybern_core::schema::openapi_v3_schema::<Pod>();
    assert_eq!(
        pod["properties"]["spec"]["properties"]["containers"]["type"],
        "array"
    );
}

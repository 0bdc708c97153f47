//! Tests of the generated API types: wire shape of every root kind, realistic objects, errors,
//! Go's `null` conventions, base64 bytes, and field coverage against the upstream OpenAPI schema.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use kybern_core::api::apps::v1::Deployment;
use kybern_core::api::core::v1::{Pod, Secret};
use kybern_core::api::rbac::v1::ClusterRole;
use kybern_core::{ByteString, IntOrString, Quantity, TypedResource};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

const OPENAPI: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/openapi/kubernetes-v1.33-definitions.json"
);

/// One check per root kind: a name and a function returning what went wrong, if anything.
type KindCheck = (&'static str, fn() -> Result<(), String>);

macro_rules! kind_checks {
    ($($kind:path),* $(,)?) => {
        vec![$((<$kind as TypedResource>::KIND, check_kind::<$kind> as fn() -> Result<(), String>)),*]
    };
}

fn all_kind_checks() -> Vec<KindCheck> {
    kybern_core::for_each_builtin_kind!(kind_checks)
}

/// Every root kind: `default()` writes apiVersion/kind first, round-trips, and has a JSON Schema
/// naming apiVersion, kind and metadata.
fn check_kind<K>() -> Result<(), String>
where
    K: TypedResource
        + Default
        + Serialize
        + DeserializeOwned
        + schemars::JsonSchema
        + PartialEq
        + Debug,
{
    let obj = K::default();
    let text = serde_json::to_string(&obj).map_err(|e| e.to_string())?;
    let want_prefix = format!(
        r#"{{"apiVersion":"{}","kind":"{}","metadata":{{"#,
        K::API_VERSION,
        K::KIND
    );
    if !text.starts_with(&want_prefix) {
        return Err(format!("serialized as {text}, want prefix {want_prefix}"));
    }
    let back: K = serde_json::from_str(&text).map_err(|e| format!("decoding {text}: {e}"))?;
    if back != obj {
        return Err(format!("round trip changed the object: {back:?}"));
    }
    // Without type fields it decodes too (the Rust type names the kind).
    let bare: K = serde_json::from_str("{}").map_err(|e| format!("decoding {{}}: {e}"))?;
    if bare != obj {
        return Err("`{}` did not decode to default()".into());
    }
    let schema = serde_json::to_value(schemars::schema_for!(K)).map_err(|e| e.to_string())?;
    for prop in ["apiVersion", "kind", "metadata"] {
        if schema["properties"].get(prop).is_none() {
            return Err(format!("schema has no property {prop}: {schema}"));
        }
    }
    Ok(())
}

#[test]
fn every_root_kind_round_trips_with_type_fields_first() {
    let checks = all_kind_checks();
    assert_eq!(
        checks.len(),
        35,
        "for_each_builtin_kind! lists every root kind"
    );
    let failures: Vec<String> = checks
        .iter()
        .filter_map(|(kind, check)| check().err().map(|e| format!("{kind}: {e}")))
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
}

fn deployment_json() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "shop",
            "labels": {"app": "web"},
            "creationTimestamp": "2024-05-01T10:00:00Z",
            "generation": 3
        },
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}
            },
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "nginx",
                            "image": "nginx:1.27",
                            "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"}],
                            "resources": {
                                "requests": {"cpu": "250m", "memory": "64Mi"},
                                "limits": {"cpu": "1", "memory": "128Mi"}
                            },
                            "livenessProbe": {
                                "httpGet": {"path": "/healthz", "port": "http"},
                                "initialDelaySeconds": 5,
                                "periodSeconds": 10
                            },
                            "readinessProbe": {
                                "tcpSocket": {"port": 80},
                                "failureThreshold": 3
                            },
                            "volumeMounts": [{"name": "cache", "mountPath": "/var/cache/nginx"}]
                        },
                        {
                            "name": "sidecar",
                            "image": "busybox",
                            "command": ["sh", "-c", "sleep infinity"],
                            "env": [
                                {"name": "MODE", "value": "tail"},
                                {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}
                            ]
                        }
                    ],
                    "volumes": [
                        {"name": "cache", "emptyDir": {"sizeLimit": "1Gi"}},
                        {"name": "conf", "configMap": {"name": "web-conf", "defaultMode": 420}}
                    ],
                    "tolerations": [
                        {"key": "dedicated", "operator": "Equal", "value": "web", "effect": "NoSchedule"},
                        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
                    ],
                    "hostIPC": false
                }
            }
        },
        "status": {
            "observedGeneration": 3,
            "replicas": 3,
            "readyReplicas": 2,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                 "lastTransitionTime": "2024-05-01T10:01:00Z"}
            ]
        }
    })
}

fn pod_json() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web-0",
            "namespace": "shop",
            "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-abc",
                "uid": "1b4e28ba-2fa1-11d2-883f-0016d3cca427", "controller": true
            }]
        },
        "spec": {
            "nodeName": "node-1",
            "restartPolicy": "Always",
            "initContainers": [{"name": "init", "image": "busybox", "args": ["true"]}],
            "containers": [{
                "name": "app",
                "image": "example/app:2",
                "ports": [{"containerPort": 8080, "hostPort": 8080}],
                "resources": {"requests": {"cpu": "100m", "nvidia.com/gpu": "1"}},
                "startupProbe": {"exec": {"command": ["cat", "/ready"]}}
            }],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data-web-0"}}],
            "tolerations": [{"operator": "Exists"}],
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [
                    {"key": "zone", "operator": "In", "values": ["a", "b"]}
                ]}]
            }}}
        },
        "status": {
            "phase": "Running",
            "podIP": "10.0.0.7",
            "podIPs": [{"ip": "10.0.0.7"}],
            "startTime": "2024-05-01T10:00:05Z"
        }
    })
}

#[test]
fn realistic_deployment_decodes_to_typed_fields_and_re_encodes() {
    let input = deployment_json();
    let d: Deployment = serde_json::from_value(input.clone()).unwrap();
    assert_eq!(d.metadata.name.as_deref(), Some("web"));
    let spec = d.spec.as_ref().unwrap();
    assert_eq!(spec.replicas, Some(3));
    let ru = spec
        .strategy
        .as_ref()
        .unwrap()
        .rolling_update
        .as_ref()
        .unwrap();
    assert_eq!(ru.max_surge, Some(IntOrString::String("25%".into())));
    assert_eq!(ru.max_unavailable, Some(IntOrString::Int(1)));
    let pod = spec.template.spec.as_ref().unwrap();
    assert_eq!(pod.containers.len(), 2);
    assert_eq!(pod.host_ipc, Some(false));
    let nginx = &pod.containers[0];
    assert_eq!(nginx.ports[0].container_port, 80);
    let requests = &nginx.resources.as_ref().unwrap().requests;
    assert_eq!(
        requests.get("cpu"),
        Some(&serde_json::from_value::<Quantity>(json!("250m")).unwrap())
    );
    let http_get = nginx
        .liveness_probe
        .as_ref()
        .unwrap()
        .http_get
        .as_ref()
        .unwrap();
    assert_eq!(http_get.port, IntOrString::String("http".into()));
    let tcp = nginx
        .readiness_probe
        .as_ref()
        .unwrap()
        .tcp_socket
        .as_ref()
        .unwrap();
    assert_eq!(tcp.port, IntOrString::Int(80));
    assert_eq!(
        pod.containers[1].env[1]
            .value_from
            .as_ref()
            .unwrap()
            .field_ref
            .as_ref()
            .unwrap()
            .field_path,
        "metadata.name"
    );
    assert_eq!(
        pod.volumes[1].config_map.as_ref().unwrap().default_mode,
        Some(420)
    );
    assert_eq!(pod.tolerations[1].toleration_seconds, Some(300));
    assert_eq!(d.status.as_ref().unwrap().conditions[0].type_, "Available");
    assert_eq!(serde_json::to_value(&d).unwrap(), input);
}

#[test]
fn realistic_pod_decodes_to_typed_fields_and_re_encodes() {
    let input = pod_json();
    let p: Pod = serde_json::from_value(input.clone()).unwrap();
    assert_eq!(p.metadata.owner_references[0].controller, Some(true));
    let spec = p.spec.as_ref().unwrap();
    assert_eq!(spec.node_name.as_deref(), Some("node-1"));
    assert_eq!(spec.init_containers[0].args, ["true"]);
    assert_eq!(spec.containers[0].ports[0].host_port, Some(8080));
    assert_eq!(spec.tolerations[0].operator.as_deref(), Some("Exists"));
    let terms = &spec
        .affinity
        .as_ref()
        .unwrap()
        .node_affinity
        .as_ref()
        .unwrap()
        .required_during_scheduling_ignored_during_execution
        .as_ref()
        .unwrap()
        .node_selector_terms;
    assert_eq!(terms[0].match_expressions[0].values, ["a", "b"]);
    let status = p.status.as_ref().unwrap();
    assert_eq!(status.pod_ip.as_deref(), Some("10.0.0.7"));
    assert_eq!(status.pod_ips[0].ip, "10.0.0.7");
    assert_eq!(serde_json::to_value(&p).unwrap(), input);
}

/// Decodes `input` as `K` through serde_path_to_error; returns the error path and message.
fn decode_error<K: DeserializeOwned>(input: &Value) -> (String, String) {
    let text = input.to_string();
    let de = &mut serde_json::Deserializer::from_str(&text);
    match serde_path_to_error::deserialize::<_, K>(de) {
        Ok(_) => ("<decoded>".into(), String::new()),
        Err(e) => (e.path().to_string(), e.inner().to_string()),
    }
}

#[test]
fn bad_input_is_rejected_with_a_clear_error() {
    struct Case {
        name: &'static str,
        input: Value,
        path: &'static str,
        message: &'static str,
    }
    let mut wrong_kind = deployment_json();
    wrong_kind["kind"] = json!("StatefulSet");
    let mut wrong_version = deployment_json();
    wrong_version["apiVersion"] = json!("apps/v1beta1");
    let mut bad_port = deployment_json();
    bad_port["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = json!("x");
    let mut bad_replicas = deployment_json();
    bad_replicas["spec"]["replicas"] = json!(1.5);
    let cases = [
        Case {
            name: "wrong kind",
            input: wrong_kind,
            path: ".",
            message: r#"expected apiVersion "apps/v1" and kind "Deployment", got apiVersion "apps/v1" and kind "StatefulSet""#,
        },
        Case {
            name: "wrong apiVersion",
            input: wrong_version,
            path: ".",
            message: r#"expected apiVersion "apps/v1" and kind "Deployment", got apiVersion "apps/v1beta1" and kind "Deployment""#,
        },
        Case {
            name: "string containerPort",
            input: bad_port,
            path: "spec.template.spec.containers[0].ports[0].containerPort",
            message: "invalid type: string \"x\", expected i32",
        },
        Case {
            name: "fractional replicas",
            input: bad_replicas,
            path: "spec.replicas",
            message: "invalid type: floating point `1.5`, expected i32",
        },
    ];
    for c in cases {
        let (path, message) = decode_error::<Deployment>(&c.input);
        assert_eq!(path, c.path, "{}: path (message {message})", c.name);
        assert!(
            message.contains(c.message),
            "{}: message {message:?}",
            c.name
        );
    }
}

#[test]
fn null_and_absent_lists_decode_as_empty() {
    let check = |name: &str, input: Value| {
        let role: ClusterRole =
            serde_json::from_value(input).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(role.rules.is_empty(), "{name}");
        assert!(role.metadata.labels.is_empty(), "{name}");
        // Empty lists are omitted on the wire, as Go's omitempty does.
        let out = serde_json::to_value(&role).unwrap();
        assert!(out.get("rules").is_none(), "{name}: {out}");
    };
    check(
        "rbac bootstrap admin role",
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "admin", "labels": null},
            "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"a": "b"}}]},
            "rules": null
        }),
    );
    check("absent rules", json!({"metadata": {"name": "x"}}));
    check("null metadata", json!({"metadata": null, "rules": []}));
}

#[test]
fn secret_data_is_base64_bytes() {
    let input = json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "s"},
        "type": "Opaque",
        "data": {"password": "czNjcjN0", "bin": "AP+A"},
        "stringData": {"plain": "text"}
    });
    let s: Secret = serde_json::from_value(input.clone()).unwrap();
    assert_eq!(s.data["password"], ByteString::from("s3cr3t"));
    assert_eq!(s.data["bin"].0, [0u8, 255, 128]);
    assert_eq!(s.type_.as_deref(), Some("Opaque"));
    assert_eq!(serde_json::to_value(&s).unwrap(), input);

    let bad = json!({"data": {"password": "not base64!"}});
    let (path, message) = decode_error::<Secret>(&bad);
    assert_eq!(path, "data.password");
    assert!(message.contains("invalid base64"), "{message}");
}

// ---------------------------------------------------------------------------------------------
// Field coverage against the upstream OpenAPI schema.
// ---------------------------------------------------------------------------------------------

/// Definition names a schema node refers to (through items/additionalProperties/anyOf/...).
fn refs_in(node: &Value, out: &mut Vec<String>) {
    match node {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r.trim_start_matches("#/$defs/").to_owned());
            }
            for (k, v) in m {
                if k != "properties" && k != "description" {
                    refs_in(v, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| refs_in(v, out)),
        _ => {}
    }
}

fn property_names(schema: &Value) -> BTreeSet<String> {
    schema["properties"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// Walks the upstream definition and our schemars schema side by side; returns the number of
/// object definitions compared, or the mismatches.
fn compare(
    upstream: &BTreeMap<String, Value>,
    ours: &Value,
    up_name: &str,
    our_schema: &Value,
    seen: &mut BTreeSet<String>,
    problems: &mut Vec<String>,
) {
    if !seen.insert(up_name.to_owned()) {
        return;
    }
    let up = &upstream[up_name];
    let want = property_names(up);
    if want.is_empty() {
        return; // hand-mapped (Quantity, Time, JSON, ...) or an empty struct.
    }
    let have = property_names(our_schema);
    if want != have {
        problems.push(format!(
            "{up_name}: missing {:?}, extra {:?}",
            want.difference(&have).collect::<Vec<_>>(),
            have.difference(&want).collect::<Vec<_>>()
        ));
        return;
    }
    for prop in &want {
        let mut up_refs = Vec::new();
        refs_in(&up["properties"][prop], &mut up_refs);
        let mut our_refs = Vec::new();
        refs_in(&our_schema["properties"][prop], &mut our_refs);
        let Some(up_ref) = up_refs.first() else {
            continue;
        };
        if upstream[up_ref].get("properties").is_none() {
            continue;
        }
        match our_refs.first() {
            Some(r) => compare(upstream, ours, up_ref, &ours["$defs"][r], seen, problems),
            None => problems.push(format!(
                "{up_name}.{prop}: upstream refers to {up_ref}, ours does not"
            )),
        }
    }
}

macro_rules! schemas_of {
    ($($kind:path),* $(,)?) => {
        vec![$((<$kind as TypedResource>::API_VERSION, <$kind as TypedResource>::KIND,
                serde_json::to_value(schemars::schema_for!($kind)).unwrap())),*]
    };
}

#[test]
fn every_upstream_field_exists_in_our_json_shape() {
    let text = std::fs::read_to_string(OPENAPI)
        .unwrap_or_else(|e| panic!("the OpenAPI schema must exist at {OPENAPI}: {e}"));
    let doc: Value = serde_json::from_str(&text).unwrap();
    let upstream: BTreeMap<String, Value> = serde_json::from_value(doc["$defs"].clone()).unwrap();
    let mut seen = BTreeSet::new();
    let mut problems = Vec::new();
    let kinds: Vec<(&str, &str, Value)> = kybern_core::for_each_builtin_kind!(schemas_of);
    for (api_version, kind, schema) in &kinds {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let gvk = json!({"group": group, "version": version, "kind": kind});
        let def = upstream
            .iter()
            .find(|(name, d)| {
                !name.ends_with("List")
                    && d["x-kubernetes-group-version-kind"]
                        .as_array()
                        .is_some_and(|a| a.contains(&gvk))
            })
            .map(|(name, _)| name.clone())
            .unwrap_or_else(|| panic!("{api_version} {kind}: no upstream definition"));
        compare(&upstream, schema, &def, schema, &mut seen, &mut problems);
    }
    assert!(problems.is_empty(), "{problems:#?}");
    // The walk really covered the generated closure (about 300 object types).
    let objects = seen
        .iter()
        .filter(|n| upstream[*n].get("properties").is_some())
        .count();
    assert!(objects > 290, "compared only {objects} definitions");
}

#[test]
fn meta_types_keep_upstream_field_names() {
    // Status and DeleteOptions keep apiVersion/kind as ordinary optional fields.
    let status: kybern_core::api::meta::v1::Status = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Status", "status": "Failure", "code": 404,
        "reason": "NotFound", "details": {"name": "x", "kind": "pods", "causes": [{"field": "spec"}]}
    }))
    .unwrap();
    assert_eq!(status.kind.as_deref(), Some("Status"));
    assert_eq!(status.code, Some(404));
    assert_eq!(
        status.details.unwrap().causes[0].field.as_deref(),
        Some("spec")
    );
}

proptest::proptest! {
    #[test]
    fn arbitrary_text_never_panics_the_decoders(text in ".*") {
        let _ = ByteString::from_base64(&text);
        let _ = serde_json::from_str::<Deployment>(&text);
        let _ = serde_json::from_value::<Pod>(json!({"spec": {"containers": [{"name": text.clone(), "image": text}]}}));
    }

    #[test]
    fn arbitrary_bytes_round_trip_through_base64(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
        let b = ByteString(bytes);
        let back: ByteString = serde_json::from_value(serde_json::to_value(&b).unwrap()).unwrap();
        proptest::prop_assert_eq!(back, b);
    }
}

#[test]
fn crd_schema_unions_decode_and_re_encode() {
    use kybern_core::api::apiextensions::v1::{
        CustomResourceDefinition, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
    };
    let input = json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "kind": "Widget"},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "spec": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": true,
                            "additionalProperties": false,
                            "properties": {
                                "size": {"type": "integer", "default": 3, "minimum": 1.0},
                                "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
                                "pair": {"type": "array", "items": [{"type": "string"}, {"type": "integer"}]},
                                "labels": {"type": "object", "additionalProperties": {"type": "string"}}
                            },
                            "dependencies": {"size": ["tags"]},
                            "x-kubernetes-validations": [{"rule": "self.size < 10", "message": "too big"}]
                        }
                    }
                }}
            }]
        }
    });
    let crd: CustomResourceDefinition = serde_json::from_value(input.clone()).unwrap();
    let root = crd.spec.versions[0]
        .schema
        .as_ref()
        .unwrap()
        .open_api_v3_schema
        .as_ref()
        .unwrap();
    let spec = &root.properties["spec"];
    assert_eq!(spec.x_kubernetes_preserve_unknown_fields, Some(true));
    assert_eq!(
        spec.additional_properties,
        Some(JSONSchemaPropsOrBool::Bool(false))
    );
    let props = &spec.properties;
    assert_eq!(props["size"].default.as_ref().unwrap().0, json!(3));
    assert!(matches!(
        props["tags"].items,
        Some(JSONSchemaPropsOrArray::Schema(_))
    ));
    assert!(
        matches!(&props["pair"].items, Some(JSONSchemaPropsOrArray::Schemas(v)) if v.len() == 2)
    );
    assert!(matches!(
        props["labels"].additional_properties,
        Some(JSONSchemaPropsOrBool::Schema(_))
    ));
    assert_eq!(
        spec.x_kubernetes_validations[0].message.as_deref(),
        Some("too big")
    );
    assert_eq!(serde_json::to_value(&crd).unwrap(), input);
}

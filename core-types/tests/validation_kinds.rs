//! Per-kind validation: one table of objects (API JSON) with the exact errors upstream reports.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kybern_core::Validate;
use kybern_core::api::apiextensions::v1::CustomResourceDefinition;
use kybern_core::api::apps::v1::{
    ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet,
};
use kybern_core::api::autoscaling::v2::HorizontalPodAutoscaler;
use kybern_core::api::batch::v1::{CronJob, Job};
use kybern_core::api::coordination::v1::Lease;
use kybern_core::api::core::v1::{
    Binding, ConfigMap, Endpoints, Event, LimitRange, Namespace, Node, PersistentVolume,
    PersistentVolumeClaim, Pod, ResourceQuota, Secret, Service, ServiceAccount,
};
use kybern_core::api::discovery::v1::EndpointSlice;
use kybern_core::api::networking::v1::{Ingress, IngressClass, NetworkPolicy};
use kybern_core::api::policy::v1::PodDisruptionBudget;
use kybern_core::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use kybern_core::api::scheduling::v1::PriorityClass;
use kybern_core::api::storage::v1::StorageClass;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Helpers

fn run<K: DeserializeOwned + Validate>(obj: &Value) -> Vec<String> {
    let k: K = serde_json::from_value(obj.clone())
        .unwrap_or_else(|e| panic!("object does not deserialize: {e}\n{obj:#}"));
    k.validate().iter().map(|e| e.to_string()).collect()
}

/// Validates an object of any typed kind, dispatching on its `kind`.
fn validate_json(obj: &Value) -> Vec<String> {
    match obj["kind"].as_str().expect("object has a kind") {
        "Pod" => run::<Pod>(obj),
        "Node" => run::<Node>(obj),
        "Namespace" => run::<Namespace>(obj),
        "Service" => run::<Service>(obj),
        "Endpoints" => run::<Endpoints>(obj),
        "ConfigMap" => run::<ConfigMap>(obj),
        "Secret" => run::<Secret>(obj),
        "ServiceAccount" => run::<ServiceAccount>(obj),
        "PersistentVolume" => run::<PersistentVolume>(obj),
        "PersistentVolumeClaim" => run::<PersistentVolumeClaim>(obj),
        "Event" => run::<Event>(obj),
        "ResourceQuota" => run::<ResourceQuota>(obj),
        "LimitRange" => run::<LimitRange>(obj),
        "Binding" => run::<Binding>(obj),
        "Deployment" => run::<Deployment>(obj),
        "ReplicaSet" => run::<ReplicaSet>(obj),
        "StatefulSet" => run::<StatefulSet>(obj),
        "DaemonSet" => run::<DaemonSet>(obj),
        "ControllerRevision" => run::<ControllerRevision>(obj),
        "Job" => run::<Job>(obj),
        "CronJob" => run::<CronJob>(obj),
        "HorizontalPodAutoscaler" => run::<HorizontalPodAutoscaler>(obj),
        "EndpointSlice" => run::<EndpointSlice>(obj),
        "Ingress" => run::<Ingress>(obj),
        "IngressClass" => run::<IngressClass>(obj),
        "NetworkPolicy" => run::<NetworkPolicy>(obj),
        "StorageClass" => run::<StorageClass>(obj),
        "Role" => run::<Role>(obj),
        "ClusterRole" => run::<ClusterRole>(obj),
        "RoleBinding" => run::<RoleBinding>(obj),
        "ClusterRoleBinding" => run::<ClusterRoleBinding>(obj),
        "Lease" => run::<Lease>(obj),
        "CustomResourceDefinition" => run::<CustomResourceDefinition>(obj),
        "PodDisruptionBudget" => run::<PodDisruptionBudget>(obj),
        "PriorityClass" => run::<PriorityClass>(obj),
        other => panic!("no typed kind {other}"),
    }
}

/// The one assertion: validating `obj` yields exactly `expected`, in order.
fn check(name: &str, obj: &Value, expected: &[&str]) {
    let got = validate_json(obj);
    assert_eq!(got, expected, "row {name:?}\nobject: {obj:#}");
}

/// `base` with each JSON-pointer path set to a value (`null` removes the field).
fn with(mut base: Value, patches: &[(&str, Value)]) -> Value {
    for (ptr, val) in patches {
        let (parent, last) = ptr.rsplit_once('/').expect("pointer starts with /");
        let mut cur = &mut base;
        for seg in parent.split('/').skip(1) {
            cur = match cur {
                Value::Array(a) => &mut a[seg.parse::<usize>().unwrap()],
                Value::Object(o) => o.entry(seg.to_owned()).or_insert_with(|| json!({})),
                other => panic!("cannot descend into {other} at {ptr}"),
            };
        }
        match (cur, val) {
            (Value::Object(o), Value::Null) => {
                o.remove(last);
            }
            (Value::Object(o), v) => {
                o.insert((*last).to_owned(), v.clone());
            }
            (Value::Array(a), v) => a[last.parse::<usize>().unwrap()] = v.clone(),
            (other, _) => panic!("cannot set {ptr} in {other}"),
        }
    }
    base
}

fn obj(api_version: &str, kind: &str, name: &str, namespaced: bool, rest: Value) -> Value {
    let mut o = json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name}});
    if namespaced {
        o["metadata"]["namespace"] = json!("default");
    }
    if let Value::Object(r) = rest {
        for (k, v) in r {
            o[k] = v;
        }
    }
    o
}

fn pod_spec() -> Value {
    json!({"containers": [{"name": "app", "image": "nginx:1.27"}]})
}

fn template(labels: Value) -> Value {
    json!({"metadata": {"labels": labels}, "spec": pod_spec()})
}

fn pod() -> Value {
    obj("v1", "Pod", "web-0", true, json!({"spec": pod_spec()}))
}

fn workload(kind: &str) -> Value {
    obj(
        "apps/v1",
        kind,
        "web",
        true,
        json!({"spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template(json!({"app": "web"}))}}),
    )
}

fn job() -> Value {
    obj(
        "batch/v1",
        "Job",
        "pi",
        true,
        json!({"spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "pi", "image": "perl"}]}}}}),
    )
}

fn cronjob() -> Value {
    obj(
        "batch/v1",
        "CronJob",
        "nightly",
        true,
        json!({"spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "OnFailure", "containers": [{"name": "c", "image": "busybox"}]}}}}}}),
    )
}

fn service() -> Value {
    obj(
        "v1",
        "Service",
        "web",
        true,
        json!({"spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}}),
    )
}

const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS1035_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const RANGE_MSG: &str = "must be between 1 and 65535, inclusive";

fn rows(table: &[(&str, Value, Vec<String>)]) {
    for (name, o, expected) in table {
        let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
        check(name, o, &expected);
    }
}

macro_rules! errs {
    ($($e:expr),* $(,)?) => { vec![$(String::from($e)),*] };
}

// ---------------------------------------------------------------------------------------------
// Tables

#[test]
fn metadata_rules() {
    rows(&[
        ("valid pod", pod(), errs![]),
        (
            "name required",
            with(pod(), &[("/metadata/name", Value::Null)]),
            errs!["metadata.name: Required value: name or generateName is required"],
        ),
        (
            "generateName alone is enough",
            with(
                pod(),
                &[
                    ("/metadata/name", Value::Null),
                    ("/metadata/generateName", json!("web-")),
                ],
            ),
            errs![],
        ),
        (
            "bad generateName",
            with(
                pod(),
                &[
                    ("/metadata/name", Value::Null),
                    ("/metadata/generateName", json!("Web-")),
                ],
            ),
            errs![format!(
                "metadata.generateName: Invalid value: \"Web-\": {SUBDOMAIN_MSG}"
            )],
        ),
        (
            "bad name",
            with(pod(), &[("/metadata/name", json!("Web_0"))]),
            errs![format!(
                "metadata.name: Invalid value: \"Web_0\": {SUBDOMAIN_MSG}"
            )],
        ),
        (
            "namespace required",
            with(pod(), &[("/metadata/namespace", Value::Null)]),
            errs!["metadata.namespace: Required value"],
        ),
        (
            "namespace a label",
            with(pod(), &[("/metadata/namespace", json!("a.b"))]),
            errs!["metadata.namespace: Invalid value: \"a.b\": must not contain dots"],
        ),
        (
            "namespace forbidden on cluster kinds",
            obj("v1", "Namespace", "prod", true, json!({})),
            errs!["metadata.namespace: Forbidden: not allowed on this type"],
        ),
        (
            "negative generation",
            with(pod(), &[("/metadata/generation", json!(-1))]),
            errs!["metadata.generation: Invalid value: -1: must be greater than or equal to 0"],
        ),
        (
            "bad label value",
            with(pod(), &[("/metadata/labels", json!({"app": "-web"}))]),
            errs![format!(
                "metadata.labels: Invalid value: \"-web\": {LABEL_VALUE_MSG}"
            )],
        ),
        (
            "bad label key",
            with(pod(), &[("/metadata/labels", json!({"a/b/c": "x"}))]),
            errs![
                "metadata.labels: Invalid value: \"a/b/c\": a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            ],
        ),
        (
            "annotations too large",
            with(
                pod(),
                &[(
                    "/metadata/annotations",
                    json!({"a": "b".repeat(256 * 1024)}),
                )],
            ),
            errs!["metadata.annotations: Too long: may not be more than 262144 bytes"],
        ),
        (
            "owner reference fields required",
            with(
                pod(),
                &[(
                    "/metadata/ownerReferences",
                    json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web", "uid": ""}]),
                )],
            ),
            errs!["metadata.ownerReferences.uid: Invalid value: \"\": must not be empty"],
        ),
        (
            "owner reference version",
            with(
                pod(),
                &[(
                    "/metadata/ownerReferences",
                    json!([{"apiVersion": "apps/", "kind": "ReplicaSet", "name": "web", "uid": "1"}]),
                )],
            ),
            errs![
                "metadata.ownerReferences.apiVersion: Invalid value: \"apps/\": version must not be empty"
            ],
        ),
        (
            "one controller",
            with(
                pod(),
                &[(
                    "/metadata/ownerReferences",
                    json!([
                        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "a", "uid": "1", "controller": true},
                        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "b", "uid": "2", "controller": true}
                    ]),
                )],
            ),
            errs![
                "metadata.ownerReferences: Invalid value: [{\"apiVersion\":\"apps/v1\",\"controller\":true,\"kind\":\"ReplicaSet\",\"name\":\"a\",\"uid\":\"1\"},{\"apiVersion\":\"apps/v1\",\"controller\":true,\"kind\":\"ReplicaSet\",\"name\":\"b\",\"uid\":\"2\"}]: Only one reference can have Controller set to true. Found \"true\" in references for ReplicaSet/a and ReplicaSet/b"
            ],
        ),
        (
            "event cannot own",
            with(
                pod(),
                &[(
                    "/metadata/ownerReferences",
                    json!([{"apiVersion": "v1", "kind": "Event", "name": "e", "uid": "1"}]),
                )],
            ),
            errs![
                "metadata.ownerReferences: Invalid value: {\"apiVersion\":\"v1\",\"kind\":\"Event\",\"name\":\"e\",\"uid\":\"1\"}: /v1, Kind=Event is disallowed from being an owner"
            ],
        ),
        (
            "finalizers qualified and unique",
            with(
                pod(),
                &[(
                    "/metadata/finalizers",
                    json!(["example.com/x", "example.com/x", "-bad"]),
                )],
            ),
            errs![
                "metadata.finalizers[1]: Duplicate value: \"example.com/x\"",
                "metadata.finalizers: Invalid value: \"-bad\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
            ],
        ),
        (
            "orphan and foreground",
            with(
                pod(),
                &[(
                    "/metadata/finalizers",
                    json!(["orphan", "foregroundDeletion"]),
                )],
            ),
            errs![
                "metadata.finalizers: Invalid value: [\"orphan\",\"foregroundDeletion\"]: finalizer orphan and foregroundDeletion cannot be both set"
            ],
        ),
    ]);
}

#[test]
fn pod_rules() {
    let c = |v: Value| with(pod(), &[("/spec/containers/0", v)]);
    rows(&[
        (
            "at least one container",
            with(pod(), &[("/spec/containers", json!([]))]),
            errs!["spec.containers: Required value"],
        ),
        (
            "container name a label",
            c(json!({"name": "App", "image": "x"})),
            errs![format!(
                "spec.containers[0].name: Invalid value: \"App\": {LABEL_MSG}"
            )],
        ),
        (
            "container names unique",
            with(
                pod(),
                &[(
                    "/spec/containers",
                    json!([{"name": "a", "image": "x"}, {"name": "a", "image": "y"}]),
                )],
            ),
            errs!["spec.containers[1].name: Duplicate value: \"a\""],
        ),
        (
            "init container names unique across containers",
            with(
                pod(),
                &[(
                    "/spec/initContainers",
                    json!([{"name": "app", "image": "x"}]),
                )],
            ),
            errs!["spec.initContainers[0].name: Duplicate value: \"app\""],
        ),
        (
            "image required",
            c(json!({"name": "app"})),
            errs!["spec.containers[0].image: Required value"],
        ),
        (
            "container port range",
            c(json!({"name": "app", "image": "x", "ports": [{"containerPort": 70000}]})),
            errs![format!(
                "spec.containers[0].ports[0].containerPort: Invalid value: 70000: {RANGE_MSG}"
            )],
        ),
        (
            "container port required",
            c(json!({"name": "app", "image": "x", "ports": [{"containerPort": 0}]})),
            errs!["spec.containers[0].ports[0].containerPort: Required value"],
        ),
        (
            "host port range",
            c(
                json!({"name": "app", "image": "x", "ports": [{"containerPort": 80, "hostPort": 65536}]}),
            ),
            errs![format!(
                "spec.containers[0].ports[0].hostPort: Invalid value: 65536: {RANGE_MSG}"
            )],
        ),
        (
            "port names IANA and unique",
            c(json!({"name": "app", "image": "x", "ports": [
                {"containerPort": 80, "name": "http"},
                {"containerPort": 81, "name": "http"},
                {"containerPort": 82, "name": "web-"}
            ]})),
            errs![
                "spec.containers[0].ports[1].name: Duplicate value: \"http\"",
                "spec.containers[0].ports[2].name: Invalid value: \"web-\": must not begin or end with a hyphen",
            ],
        ),
        (
            "protocol",
            c(
                json!({"name": "app", "image": "x", "ports": [{"containerPort": 80, "protocol": "ICMP"}]}),
            ),
            errs![
                "spec.containers[0].ports[0].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\""
            ],
        ),
        (
            "env names",
            c(json!({"name": "app", "image": "x", "env": [{"name": "A=B"}, {"name": ""}]})),
            errs![
                "spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='",
                "spec.containers[0].env[1].name: Required value",
                "spec.containers[0].env[1].name: Invalid value: \"\": environment variable name must be non-empty",
            ],
        ),
        (
            "env valueFrom one source",
            c(json!({"name": "app", "image": "x", "env": [{"name": "A", "valueFrom": {}}]})),
            errs![
                "spec.containers[0].env[0].valueFrom: Invalid value: \"\": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"
            ],
        ),
        (
            "volume names unique labels; mounts refer to volumes",
            with(
                pod(),
                &[
                    (
                        "/spec/volumes",
                        json!([{"name": "data", "emptyDir": {}}, {"name": "data", "emptyDir": {}}, {"name": "Cache", "emptyDir": {}}]),
                    ),
                    (
                        "/spec/containers/0/volumeMounts",
                        json!([{"name": "logs", "mountPath": "/logs"}]),
                    ),
                ],
            ),
            errs![
                "spec.volumes[1].name: Duplicate value: \"data\"",
                format!("spec.volumes[2].name: Invalid value: \"Cache\": {LABEL_MSG}"),
                "spec.containers[0].volumeMounts[0].name: Not found: \"logs\"",
            ],
        ),
        (
            "one volume source",
            with(
                pod(),
                &[(
                    "/spec/volumes",
                    json!([{"name": "data", "emptyDir": {}, "hostPath": {"path": "/x"}}]),
                )],
            ),
            errs!["spec.volumes[0].emptyDir: Forbidden: may not specify more than 1 volume type"],
        ),
        (
            "requests within limits",
            c(
                json!({"name": "app", "image": "x", "resources": {"requests": {"cpu": "2", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}}}),
            ),
            errs![
                "spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1"
            ],
        ),
        (
            "resource names",
            c(json!({"name": "app", "image": "x", "resources": {"limits": {"gpu": "1"}}})),
            errs![
                "spec.containers[0].resources.limits[gpu]: Invalid value: \"gpu\": must be a standard resource for containers"
            ],
        ),
        (
            "restartPolicy",
            with(pod(), &[("/spec/restartPolicy", json!("Sometimes"))]),
            errs![
                "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\""
            ],
        ),
        (
            "dnsPolicy",
            with(pod(), &[("/spec/dnsPolicy", json!("Bogus"))]),
            errs![
                "spec.dnsPolicy: Unsupported value: \"Bogus\": supported values: \"ClusterFirstWithHostNet\", \"ClusterFirst\", \"Default\", \"None\""
            ],
        ),
        (
            "probe needs a handler",
            c(json!({"name": "app", "image": "x", "livenessProbe": {"periodSeconds": 5}})),
            errs!["spec.containers[0].livenessProbe: Required value: must specify a handler type"],
        ),
        (
            "probe one handler",
            c(
                json!({"name": "app", "image": "x", "readinessProbe": {"exec": {"command": ["true"]}, "tcpSocket": {"port": 80}}}),
            ),
            errs![
                "spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type"
            ],
        ),
        (
            "probe port and liveness success threshold",
            c(
                json!({"name": "app", "image": "x", "livenessProbe": {"httpGet": {"port": 0}, "successThreshold": 2}}),
            ),
            errs![
                format!(
                    "spec.containers[0].livenessProbe.httpGet.port: Invalid value: 0: {RANGE_MSG}"
                ),
                "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
            ],
        ),
        (
            "toleration operator",
            with(
                pod(),
                &[(
                    "/spec/tolerations",
                    json!([{"key": "k", "operator": "Exists", "value": "v"}]),
                )],
            ),
            errs![
                "spec.tolerations[0].operator: Invalid value: {\"key\":\"k\",\"operator\":\"Exists\",\"value\":\"v\"}: value must be empty when `operator` is 'Exists'"
            ],
        ),
        (
            "valid pod with probes, env, volumes",
            with(
                pod(),
                &[
                    ("/spec/volumes", json!([{"name": "data", "emptyDir": {}}])),
                    (
                        "/spec/containers/0",
                        json!({
                            "name": "app", "image": "nginx",
                            "ports": [{"containerPort": 80, "name": "http", "protocol": "TCP"}],
                            "env": [{"name": "MODE", "value": "prod"}, {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                            "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "128Mi"}},
                            "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
                            "readinessProbe": {"tcpSocket": {"port": 80}}
                        }),
                    ),
                    ("/spec/restartPolicy", json!("OnFailure")),
                    ("/spec/tolerations", json!([{"operator": "Exists"}])),
                ],
            ),
            errs![],
        ),
    ]);
}

#[test]
fn workload_rules() {
    let d = || workload("Deployment");
    rows(&[
        ("valid deployment", d(), errs![]),
        (
            "selector does not match template",
            with(d(), &[("/spec/selector/matchLabels/app", json!("api"))]),
            errs![
                "spec.template.metadata.labels: Invalid value: {\"app\":\"web\"}: `selector` does not match template `labels`"
            ],
        ),
        (
            "empty selector",
            with(d(), &[("/spec/selector", json!({}))]),
            errs!["spec.selector: Invalid value: {}: empty selector is invalid for deployment"],
        ),
        (
            "negative replicas",
            with(d(), &[("/spec/replicas", json!(-1))]),
            errs!["spec.replicas: Invalid value: -1: must be greater than or equal to 0"],
        ),
        (
            "template restartPolicy Always",
            with(
                d(),
                &[("/spec/template/spec/restartPolicy", json!("Never"))],
            ),
            errs![
                "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\""
            ],
        ),
        (
            "template pod spec is validated",
            with(d(), &[("/spec/template/spec/containers", json!([]))]),
            errs!["spec.template.spec.containers: Required value"],
        ),
        (
            "strategy type",
            with(d(), &[("/spec/strategy", json!({"type": "Bogus"}))]),
            errs![
                "spec.strategy.type: Unsupported value: \"Bogus\": supported values: \"Recreate\", \"RollingUpdate\""
            ],
        ),
        (
            "maxSurge and maxUnavailable not both 0",
            with(
                d(),
                &[(
                    "/spec/strategy",
                    json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"}}),
                )],
            ),
            errs![
                "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: \"0%\": may not be 0 when `maxSurge` is 0"
            ],
        ),
        (
            "maxUnavailable at most 100%",
            with(
                d(),
                &[(
                    "/spec/strategy",
                    json!({"rollingUpdate": {"maxUnavailable": "150%"}}),
                )],
            ),
            errs![
                "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: \"150%\": must not be greater than 100%"
            ],
        ),
        (
            "maxSurge a percent",
            with(
                d(),
                &[(
                    "/spec/strategy",
                    json!({"rollingUpdate": {"maxSurge": "ten"}}),
                )],
            ),
            errs![
                "spec.strategy.rollingUpdate.maxSurge: Invalid value: \"ten\": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"
            ],
        ),
        (
            "recreate has no rollingUpdate",
            with(
                d(),
                &[(
                    "/spec/strategy",
                    json!({"type": "Recreate", "rollingUpdate": {}}),
                )],
            ),
            errs![
                "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"
            ],
        ),
        (
            "revisionHistoryLimit",
            with(d(), &[("/spec/revisionHistoryLimit", json!(-2))]),
            errs![
                "spec.revisionHistoryLimit: Invalid value: -2: must be greater than or equal to 0"
            ],
        ),
        (
            "progressDeadlineSeconds > minReadySeconds",
            with(
                d(),
                &[
                    ("/spec/progressDeadlineSeconds", json!(10)),
                    ("/spec/minReadySeconds", json!(10)),
                ],
            ),
            errs![
                "spec.progressDeadlineSeconds: Invalid value: 10: must be greater than minReadySeconds"
            ],
        ),
        ("valid replicaset", workload("ReplicaSet"), errs![]),
        (
            "replicaset selector mismatch (matchExpressions)",
            with(
                workload("ReplicaSet"),
                &[(
                    "/spec/selector",
                    json!({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}),
                )],
            ),
            errs![
                "spec.template.metadata.labels: Invalid value: {\"app\":\"web\"}: `selector` does not match template `labels`"
            ],
        ),
        (
            "selector operator",
            with(
                workload("ReplicaSet"),
                &[(
                    "/spec/selector",
                    json!({"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "Near"}]}),
                )],
            ),
            errs![
                "spec.selector.matchExpressions[0].operator: Invalid value: \"Near\": not a valid selector operator",
                "spec.selector: Invalid value: {\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"Near\"}],\"matchLabels\":{\"app\":\"web\"}}: invalid label selector",
            ],
        ),
        ("valid statefulset", workload("StatefulSet"), errs![]),
        (
            "statefulset policies",
            with(
                workload("StatefulSet"),
                &[
                    ("/spec/podManagementPolicy", json!("Random")),
                    ("/spec/updateStrategy", json!({"type": "Sometimes"})),
                ],
            ),
            errs![
                "spec.podManagementPolicy: Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'",
                "spec.updateStrategy: Invalid value: \"Sometimes\": must be 'RollingUpdate' or 'OnDelete'",
            ],
        ),
        (
            "statefulset empty selector",
            with(workload("StatefulSet"), &[("/spec/selector", json!({}))]),
            errs!["spec.selector: Invalid value: {}: empty selector is invalid for statefulset"],
        ),
        ("valid daemonset", workload("DaemonSet"), errs![]),
        (
            "daemonset surge xor unavailable",
            with(
                workload("DaemonSet"),
                &[(
                    "/spec/updateStrategy",
                    json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1}}),
                )],
            ),
            errs![
                "spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: 1: may not be set when maxUnavailable is non-zero"
            ],
        ),
        (
            "daemonset activeDeadlineSeconds",
            with(
                workload("DaemonSet"),
                &[("/spec/template/spec/activeDeadlineSeconds", json!(30))],
            ),
            errs![
                "spec.template.spec.activeDeadlineSeconds: Invalid value: 30: activeDeadlineSeconds must be nil for daemons"
            ],
        ),
        (
            "controllerrevision data and revision",
            obj(
                "apps/v1",
                "ControllerRevision",
                "web-1",
                true,
                json!({"revision": -1}),
            ),
            errs![
                "data: Required value: data is mandatory",
                "revision: Invalid value: -1: must be greater than or equal to 0",
            ],
        ),
        ("valid job", job(), errs![]),
        (
            "job restartPolicy OnFailure or Never",
            with(job(), &[("/spec/template/spec/restartPolicy", Value::Null)]),
            errs![
                "spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\""
            ],
        ),
        (
            "job counts",
            with(
                job(),
                &[
                    ("/spec/parallelism", json!(-1)),
                    ("/spec/completions", json!(-1)),
                ],
            ),
            errs![
                "spec.parallelism: Invalid value: -1: must be greater than or equal to 0",
                "spec.completions: Invalid value: -1: must be greater than or equal to 0",
            ],
        ),
        (
            "indexed job needs completions",
            with(job(), &[("/spec/completionMode", json!("Indexed"))]),
            errs!["spec.completions: Required value: when completion mode is Indexed"],
        ),
        ("valid cronjob", cronjob(), errs![]),
        (
            "cron schedule required",
            with(cronjob(), &[("/spec/schedule", json!(""))]),
            errs!["spec.schedule: Required value"],
        ),
        (
            "cron schedule fields",
            with(cronjob(), &[("/spec/schedule", json!("every day"))]),
            errs![
                "spec.schedule: Invalid value: \"every day\": expected exactly 5 fields, found 2: [every day]"
            ],
        ),
        (
            "cron schedule range",
            with(cronjob(), &[("/spec/schedule", json!("0 24 * * *"))]),
            errs![
                "spec.schedule: Invalid value: \"0 24 * * *\": end of range (24) above maximum (23): 24"
            ],
        ),
        (
            "cron TZ",
            with(cronjob(), &[("/spec/schedule", json!("TZ=UTC 0 3 * * *"))]),
            errs![
                "spec.schedule: Invalid value: \"TZ=UTC 0 3 * * *\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
            ],
        ),
        (
            "concurrencyPolicy",
            with(
                cronjob(),
                &[("/spec/concurrencyPolicy", json!("Sometimes"))],
            ),
            errs![
                "spec.concurrencyPolicy: Unsupported value: \"Sometimes\": supported values: \"Allow\", \"Forbid\", \"Replace\""
            ],
        ),
        (
            "cronjob name length and job template",
            with(
                cronjob(),
                &[
                    ("/metadata/name", json!("a".repeat(53))),
                    (
                        "/spec/jobTemplate/spec/template/spec/restartPolicy",
                        json!("Always"),
                    ),
                ],
            ),
            errs![
                "metadata.name: Invalid value: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": must be no more than 52 characters",
                "spec.jobTemplate.spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\"",
            ],
        ),
    ]);
}

#[test]
fn service_rules() {
    let s = service;
    rows(&[
        ("valid service", s(), errs![]),
        (
            "name is a DNS-1035 label",
            with(s(), &[("/metadata/name", json!("1web"))]),
            errs![format!(
                "metadata.name: Invalid value: \"1web\": {DNS1035_MSG}"
            )],
        ),
        (
            "ports required",
            with(s(), &[("/spec/ports", json!([]))]),
            errs!["spec.ports: Required value"],
        ),
        (
            "headless needs no ports",
            with(
                s(),
                &[
                    ("/spec/ports", json!([])),
                    ("/spec/clusterIP", json!("None")),
                ],
            ),
            errs![],
        ),
        (
            "port range and target port",
            with(
                s(),
                &[("/spec/ports", json!([{"port": 0, "targetPort": "HTTP"}]))],
            ),
            errs![
                format!("spec.ports[0].port: Invalid value: 0: {RANGE_MSG}"),
                "spec.ports[0].targetPort: Invalid value: \"HTTP\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                "spec.ports[0].targetPort: Invalid value: \"HTTP\": must contain at least one letter (a-z)",
            ],
        ),
        (
            "names required for several ports, unique",
            with(
                s(),
                &[(
                    "/spec/ports",
                    json!([{"port": 80}, {"port": 443, "name": "a"}, {"port": 8443, "name": "a"}]),
                )],
            ),
            errs![
                "spec.ports[0].name: Required value",
                "spec.ports[2].name: Duplicate value: \"a\"",
            ],
        ),
        (
            "duplicate port and protocol",
            with(
                s(),
                &[(
                    "/spec/ports",
                    json!([{"port": 80, "name": "a"}, {"port": 80, "name": "b", "protocol": "TCP"}]),
                )],
            ),
            errs!["spec.ports[1]: Duplicate value: {\"port\":80,\"protocol\":\"TCP\"}"],
        ),
        (
            "protocol",
            with(s(), &[("/spec/ports/0/protocol", json!("HTTP"))]),
            errs![
                "spec.ports[0].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\""
            ],
        ),
        (
            "type",
            with(s(), &[("/spec/type", json!("Public"))]),
            errs![
                "spec.type: Unsupported value: \"Public\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""
            ],
        ),
        (
            "nodePort not for ClusterIP",
            with(s(), &[("/spec/ports/0/nodePort", json!(30080))]),
            errs!["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"],
        ),
        (
            "nodePort range",
            with(
                s(),
                &[
                    ("/spec/type", json!("NodePort")),
                    ("/spec/ports/0/nodePort", json!(80)),
                ],
            ),
            errs![
                "spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767"
            ],
        ),
        (
            "valid NodePort",
            with(
                s(),
                &[
                    ("/spec/type", json!("NodePort")),
                    ("/spec/ports/0/nodePort", json!(30080)),
                ],
            ),
            errs![],
        ),
        (
            "headless NodePort",
            with(
                s(),
                &[
                    ("/spec/type", json!("NodePort")),
                    ("/spec/clusterIP", json!("None")),
                ],
            ),
            errs![
                "spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for NodePort services"
            ],
        ),
        (
            "ExternalName needs a name",
            with(
                s(),
                &[
                    ("/spec/type", json!("ExternalName")),
                    ("/spec/ports", json!([])),
                ],
            ),
            errs!["spec.externalName: Required value"],
        ),
        (
            "ExternalName DNS name (trailing dot ok)",
            with(
                s(),
                &[
                    ("/spec/type", json!("ExternalName")),
                    ("/spec/externalName", json!("db.example.com.")),
                ],
            ),
            errs![],
        ),
        (
            "ExternalName bad name and clusterIP",
            with(
                s(),
                &[
                    ("/spec/type", json!("ExternalName")),
                    ("/spec/externalName", json!("DB")),
                    ("/spec/clusterIP", json!("10.0.0.1")),
                ],
            ),
            errs![
                "spec.clusterIPs: Forbidden: may not be set for ExternalName services",
                format!("spec.externalName: Invalid value: \"DB\": {SUBDOMAIN_MSG}"),
            ],
        ),
        (
            "clusterIP an IP",
            with(s(), &[("/spec/clusterIP", json!("300.1.1.1"))]),
            errs![
                "spec.clusterIPs[0]: Invalid value: \"300.1.1.1\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
            ],
        ),
        (
            "sessionAffinity",
            with(s(), &[("/spec/sessionAffinity", json!("Sticky"))]),
            errs![
                "spec.sessionAffinity: Unsupported value: \"Sticky\": supported values: \"ClientIP\", \"None\""
            ],
        ),
        (
            "endpoints need addresses",
            obj(
                "v1",
                "Endpoints",
                "web",
                true,
                json!({"subsets": [{"ports": [{"port": 80}]}]}),
            ),
            errs!["subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`"],
        ),
        (
            "valid endpoints",
            obj(
                "v1",
                "Endpoints",
                "web",
                true,
                json!({"subsets": [{"addresses": [{"ip": "10.1.2.3"}], "ports": [{"port": 80}]}]}),
            ),
            errs![],
        ),
        (
            "valid endpointslice",
            obj(
                "discovery.k8s.io/v1",
                "EndpointSlice",
                "web-abc",
                true,
                json!({"addressType": "IPv4", "endpoints": [{"addresses": ["10.1.2.3"]}], "ports": [{"name": "http", "port": 80}]}),
            ),
            errs![],
        ),
        (
            "endpointslice address type",
            obj(
                "discovery.k8s.io/v1",
                "EndpointSlice",
                "web-abc",
                true,
                json!({"addressType": "IPv5", "endpoints": [{"addresses": []}]}),
            ),
            errs![
                "addressType: Unsupported value: \"IPv5\": supported values: \"FQDN\", \"IPv4\", \"IPv6\"",
                "endpoints[0].addresses: Required value: must contain at least 1 address",
            ],
        ),
    ]);
}

#[test]
fn config_rules() {
    let cm = |data: Value| obj("v1", "ConfigMap", "cfg", true, data);
    let secret =
        |t: &str, data: Value| obj("v1", "Secret", "s", true, json!({"type": t, "data": data}));
    rows(&[
        (
            "valid configmap",
            cm(json!({"data": {"a.conf": "x", "B_KEY": "y"}})),
            errs![],
        ),
        (
            "config keys",
            cm(json!({"data": {"a b": "x", "..": "y"}})),
            errs![
                "data[..]: Invalid value: \"..\": must not be '..'",
                "data[a b]: Invalid value: \"a b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
            ],
        ),
        (
            "key in data and binaryData",
            cm(json!({"data": {"k": "x"}, "binaryData": {"k": "eA=="}})),
            errs!["data[k]: Invalid value: \"k\": duplicate of key present in binaryData"],
        ),
        (
            "configmap 1 MiB",
            cm(json!({"data": {"k": "x".repeat(1024 * 1024 + 1)}})),
            errs!["Too long: may not be more than 1048576 bytes"],
        ),
        (
            "tls secret needs cert and key",
            secret("kubernetes.io/tls", json!({"tls.crt": "eA=="})),
            errs!["data[tls.key]: Required value"],
        ),
        (
            "tls secret from stringData",
            obj(
                "v1",
                "Secret",
                "s",
                true,
                json!({"type": "kubernetes.io/tls", "stringData": {"tls.crt": "c", "tls.key": "k"}}),
            ),
            errs![],
        ),
        (
            "basic-auth needs username or password",
            secret("kubernetes.io/basic-auth", json!({})),
            errs![
                "data[username]: Required value",
                "data[password]: Required value"
            ],
        ),
        (
            "ssh-auth needs key",
            secret("kubernetes.io/ssh-auth", json!({})),
            errs!["data[ssh-privatekey]: Required value"],
        ),
        (
            "dockerconfigjson needs key",
            secret("kubernetes.io/dockerconfigjson", json!({})),
            errs!["data[.dockerconfigjson]: Required value"],
        ),
        (
            "valid dockerconfigjson",
            secret(
                "kubernetes.io/dockerconfigjson",
                json!({".dockerconfigjson": "eyJhdXRocyI6e319"}),
            ),
            errs![],
        ),
        (
            "service account token needs the annotation",
            secret("kubernetes.io/service-account-token", json!({})),
            errs!["metadata.annotations[kubernetes.io/service-account.name]: Required value"],
        ),
        (
            "secret size",
            obj(
                "v1",
                "Secret",
                "s",
                true,
                json!({"stringData": {"k": "x".repeat(1024 * 1024 + 1)}}),
            ),
            errs!["data: Too long: may not be more than 1048576 bytes"],
        ),
        (
            "valid service account",
            obj(
                "v1",
                "ServiceAccount",
                "builder",
                true,
                json!({"secrets": [{"name": "tok"}]}),
            ),
            errs![],
        ),
    ]);
}

#[test]
fn cluster_rules() {
    rows(&[
        (
            "valid namespace",
            obj("v1", "Namespace", "prod", false, json!({})),
            errs![],
        ),
        (
            "namespace name a label",
            obj("v1", "Namespace", "prod.eu", false, json!({})),
            errs!["metadata.name: Invalid value: \"prod.eu\": must not contain dots"],
        ),
        (
            "namespace finalizers",
            obj(
                "v1",
                "Namespace",
                "prod",
                false,
                json!({"spec": {"finalizers": ["kubernetes", "foo"]}}),
            ),
            errs![
                "spec.finalizers: Invalid value: \"foo\": name is neither a standard finalizer name nor is it fully qualified"
            ],
        ),
        (
            "valid node",
            obj(
                "v1",
                "Node",
                "node-1",
                false,
                json!({"spec": {"podCIDRs": ["10.244.1.0/24"], "taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]}}),
            ),
            errs![],
        ),
        (
            "node taints",
            obj(
                "v1",
                "Node",
                "node-1",
                false,
                json!({"spec": {"taints": [
                    {"key": "a", "effect": "Sometimes"},
                    {"key": "b", "effect": "NoSchedule"},
                    {"key": "b", "effect": "NoSchedule"}
                ]}}),
            ),
            errs![
                "spec.taints[0].effect: Unsupported value: \"Sometimes\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"",
                "spec.taints[2]: Duplicate value: {\"effect\":\"NoSchedule\",\"key\":\"b\"}: taints must be unique by key and effect pair",
            ],
        ),
        (
            "node pod CIDRs",
            obj(
                "v1",
                "Node",
                "node-1",
                false,
                json!({"spec": {"podCIDRs": ["10.244.1.0/33"]}}),
            ),
            errs![
                "spec.podCIDRs[0]: Invalid value: \"10.244.1.0/33\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
            ],
        ),
        (
            "valid event",
            obj(
                "v1",
                "Event",
                "web.1",
                true,
                json!({"involvedObject": {"kind": "Pod", "name": "web", "namespace": "default"}, "reason": "Started"}),
            ),
            errs![],
        ),
        (
            "event namespace mismatch",
            obj(
                "v1",
                "Event",
                "web.1",
                true,
                json!({"involvedObject": {"kind": "Pod", "name": "web", "namespace": "prod"}}),
            ),
            errs![
                "involvedObject.namespace: Invalid value: \"prod\": does not match event.namespace"
            ],
        ),
        (
            "valid lease",
            obj(
                "coordination.k8s.io/v1",
                "Lease",
                "kube-scheduler",
                true,
                json!({"spec": {"holderIdentity": "a", "leaseDurationSeconds": 15}}),
            ),
            errs![],
        ),
        (
            "lease rules",
            obj(
                "coordination.k8s.io/v1",
                "Lease",
                "l",
                true,
                json!({"spec": {"leaseDurationSeconds": 0, "leaseTransitions": -1, "preferredHolder": "x"}}),
            ),
            errs![
                "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0",
                "spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0",
                "spec.preferredHolder: Forbidden: may only be specified if `strategy` is defined",
            ],
        ),
        (
            "valid priorityclass",
            obj(
                "scheduling.k8s.io/v1",
                "PriorityClass",
                "high",
                false,
                json!({"value": 1000}),
            ),
            errs![],
        ),
        (
            "priority value limit",
            obj(
                "scheduling.k8s.io/v1",
                "PriorityClass",
                "high",
                false,
                json!({"value": 2000000000}),
            ),
            errs![
                "value: Forbidden: maximum allowed value of a user defined priority is 1000000000"
            ],
        ),
        (
            "system- prefix reserved",
            obj(
                "scheduling.k8s.io/v1",
                "PriorityClass",
                "system-mine",
                false,
                json!({"value": 10}),
            ),
            errs![
                "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class"
            ],
        ),
        (
            "valid binding",
            obj(
                "v1",
                "Binding",
                "web-0",
                true,
                json!({"target": {"kind": "Node", "name": "node-1"}}),
            ),
            errs![],
        ),
        (
            "binding target",
            obj(
                "v1",
                "Binding",
                "web-0",
                true,
                json!({"target": {"kind": "Pod"}}),
            ),
            errs![
                "target.kind: Unsupported value: \"Pod\": supported values: \"Node\"",
                "target.name: Required value",
            ],
        ),
        (
            "valid resourcequota",
            obj(
                "v1",
                "ResourceQuota",
                "q",
                true,
                json!({"spec": {"hard": {"pods": "10", "requests.cpu": "4", "example.com/gpu": "2"}}}),
            ),
            errs![],
        ),
        (
            "quota resource names",
            obj(
                "v1",
                "ResourceQuota",
                "q",
                true,
                json!({"spec": {"hard": {"widgets": "1"}, "scopes": ["Sometimes"]}}),
            ),
            errs![
                "spec.hard[widgets]: Invalid value: \"widgets\": must be a standard resource for quota",
                "spec.scopes[0]: Unsupported value: \"Sometimes\": supported values: \"BestEffort\", \"CrossNamespacePodAffinity\", \"NotBestEffort\", \"NotTerminating\", \"PriorityClass\", \"Terminating\"",
            ],
        ),
        (
            "limitrange",
            obj(
                "v1",
                "LimitRange",
                "lr",
                true,
                json!({"spec": {"limits": [{"type": "Node", "min": {"cpu": "2"}, "max": {"cpu": "1"}}]}}),
            ),
            errs![
                "spec.limits[0].type: Unsupported value: \"Node\": supported values: \"Container\", \"PersistentVolumeClaim\", \"Pod\"",
                "spec.limits[0].min[cpu]: Invalid value: \"2\": min value 2 is greater than max value 1",
            ],
        ),
    ]);
}

#[test]
fn storage_rules() {
    let pv = |spec: Value| {
        obj(
            "v1",
            "PersistentVolume",
            "pv-1",
            false,
            json!({"spec": spec}),
        )
    };
    let pvc = |spec: Value| {
        obj(
            "v1",
            "PersistentVolumeClaim",
            "data",
            true,
            json!({"spec": spec}),
        )
    };
    let sc = |rest: Value| obj("storage.k8s.io/v1", "StorageClass", "fast", false, rest);
    rows(&[
        (
            "valid pv",
            pv(
                json!({"accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}, "hostPath": {"path": "/data"}, "persistentVolumeReclaimPolicy": "Retain"}),
            ),
            errs![],
        ),
        (
            "pv access modes and capacity",
            pv(json!({"capacity": {"storage": "0"}, "hostPath": {"path": "/data"}})),
            errs![
                "spec.accessModes: Required value",
                "spec.capacity[storage]: Invalid value: \"0\": must be greater than zero",
            ],
        ),
        (
            "pv unsupported mode, no source, bad policy",
            pv(
                json!({"accessModes": ["ReadWriteSometimes"], "capacity": {"storage": "1Gi"}, "persistentVolumeReclaimPolicy": "Keep"}),
            ),
            errs![
                "spec.accessModes: Unsupported value: \"ReadWriteSometimes\": supported values: \"ReadOnlyMany\", \"ReadWriteMany\", \"ReadWriteOnce\", \"ReadWriteOncePod\"",
                "spec: Required value: must specify a volume type",
                "spec.persistentVolumeReclaimPolicy: Unsupported value: \"Keep\": supported values: \"Delete\", \"Recycle\", \"Retain\"",
            ],
        ),
        (
            "valid pvc",
            pvc(
                json!({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}}, "storageClassName": "fast"}),
            ),
            errs![],
        ),
        (
            "pvc access modes and storage request",
            pvc(json!({"resources": {}})),
            errs![
                "spec.accessModes: Required value: at least 1 access mode is required",
                "spec.resources[storage]: Required value",
            ],
        ),
        (
            "pvc ReadWriteOncePod alone",
            pvc(
                json!({"accessModes": ["ReadWriteOncePod", "ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}),
            ),
            errs![
                "spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes"
            ],
        ),
        (
            "valid storageclass",
            sc(
                json!({"provisioner": "ebs.csi.aws.com", "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer"}),
            ),
            errs![],
        ),
        (
            "storageclass rules",
            sc(json!({"reclaimPolicy": "Recycle", "volumeBindingMode": "Later"})),
            errs![
                "provisioner: Required value",
                "reclaimPolicy: Unsupported value: \"Recycle\": supported values: \"Delete\", \"Retain\"",
                "volumeBindingMode: Unsupported value: \"Later\": supported values: \"Immediate\", \"WaitForFirstConsumer\"",
            ],
        ),
    ]);
}

#[test]
fn networking_rules() {
    let backend = json!({"service": {"name": "web", "port": {"number": 80}}});
    let ing = |paths: Value| {
        obj(
            "networking.k8s.io/v1",
            "Ingress",
            "web",
            true,
            json!({"spec": {"rules": [{"host": "example.com", "http": {"paths": paths}}]}}),
        )
    };
    let np = |spec: Value| {
        obj(
            "networking.k8s.io/v1",
            "NetworkPolicy",
            "deny",
            true,
            json!({"spec": spec}),
        )
    };
    rows(&[
        (
            "valid ingress",
            ing(json!([{"path": "/", "pathType": "Prefix", "backend": backend}])),
            errs![],
        ),
        (
            "pathType supported",
            ing(json!([{"path": "/", "pathType": "Regex", "backend": backend}])),
            errs![
                "spec.rules[0].http.paths[0].pathType: Unsupported value: \"Regex\": supported values: \"Exact\", \"ImplementationSpecific\", \"Prefix\""
            ],
        ),
        (
            "pathType required",
            ing(json!([{"path": "/", "backend": backend}])),
            errs![
                "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified"
            ],
        ),
        (
            "absolute path",
            ing(json!([{"path": "api", "pathType": "Exact", "backend": backend}])),
            errs![
                "spec.rules[0].http.paths[0].path: Invalid value: \"api\": must be an absolute path"
            ],
        ),
        (
            "backend exactly one",
            ing(
                json!([{"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 80}}, "resource": {"kind": "Bucket", "name": "b"}}}]),
            ),
            errs![
                "spec.rules[0].http.paths[0].backend: Invalid value: \"\": cannot set both resource and service backends"
            ],
        ),
        (
            "service port name or number",
            ing(
                json!([{"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web"}}}]),
            ),
            errs![
                "spec.rules[0].http.paths[0].backend: Required value: port name or number is required"
            ],
        ),
        (
            "service port number range",
            ing(
                json!([{"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 70000}}}}]),
            ),
            errs![format!(
                "spec.rules[0].http.paths[0].backend.service.port.number: Invalid value: 70000: {RANGE_MSG}"
            )],
        ),
        (
            "rules or default backend",
            obj(
                "networking.k8s.io/v1",
                "Ingress",
                "web",
                true,
                json!({"spec": {}}),
            ),
            errs!["spec: Invalid value: []: either `defaultBackend` or `rules` must be specified"],
        ),
        (
            "host not an IP",
            with(
                ing(json!([{"path": "/", "pathType": "Prefix", "backend": backend}])),
                &[("/spec/rules/0/host", json!("10.0.0.1"))],
            ),
            errs![
                "spec.rules[0].host: Invalid value: \"10.0.0.1\": must be a DNS name, not an IP address"
            ],
        ),
        (
            "valid ingressclass",
            obj(
                "networking.k8s.io/v1",
                "IngressClass",
                "nginx",
                false,
                json!({"spec": {"controller": "k8s.io/ingress-nginx"}}),
            ),
            errs![],
        ),
        (
            "ingressclass controller",
            obj(
                "networking.k8s.io/v1",
                "IngressClass",
                "nginx",
                false,
                json!({"spec": {"controller": "nginx"}}),
            ),
            errs![
                "spec.controller: Invalid value: \"nginx\": must be a domain-prefixed path (such as \"acme.io/foo\")"
            ],
        ),
        (
            "valid networkpolicy",
            np(
                json!({"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"port": 80}]}]}),
            ),
            errs![],
        ),
        (
            "networkpolicy peers, ports and types",
            np(
                json!({"podSelector": {}, "policyTypes": ["Sideways"], "ingress": [{"from": [{}], "ports": [{"port": 90, "endPort": 80}]}]}),
            ),
            errs![
                "spec.ingress[0].ports[0].endPort: Invalid value: 90: must be greater than or equal to `port`",
                "spec.ingress[0].from[0]: Required value: must specify a peer",
                "spec.policyTypes[0]: Unsupported value: \"Sideways\": supported values: \"Ingress\", \"Egress\"",
            ],
        ),
    ]);
}

#[test]
fn rbac_rules() {
    let role = |rules: Value| {
        obj(
            "rbac.authorization.k8s.io/v1",
            "Role",
            "reader",
            true,
            json!({"rules": rules}),
        )
    };
    let rb = |kind: &str, role_kind: &str, subjects: Value| {
        obj(
            "rbac.authorization.k8s.io/v1",
            kind,
            "bind",
            kind == "RoleBinding",
            json!({"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": "reader"}, "subjects": subjects}),
        )
    };
    rows(&[
        (
            "valid role",
            role(json!([{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}])),
            errs![],
        ),
        (
            "verbs required; resources need groups",
            role(json!([{"resources": ["pods"]}])),
            errs![
                "rules[0].verbs: Required value: verbs must contain at least one value",
                "rules[0].apiGroups: Required value: resource rules must supply at least one api group",
            ],
        ),
        (
            "namespaced rules cannot use URLs",
            role(json!([{"nonResourceURLs": ["/healthz"], "verbs": ["get"]}])),
            errs![
                "rules[0].nonResourceURLs: Invalid value: [\"/healthz\"]: namespaced rules cannot apply to non-resource URLs"
            ],
        ),
        (
            "role name a path segment",
            with(role(json!([])), &[("/metadata/name", json!("a/b"))]),
            errs!["metadata.name: Invalid value: \"a/b\": may not contain '/'"],
        ),
        (
            "valid clusterrole",
            obj(
                "rbac.authorization.k8s.io/v1",
                "ClusterRole",
                "health",
                false,
                json!({"rules": [{"nonResourceURLs": ["/healthz"], "verbs": ["get"]}]}),
            ),
            errs![],
        ),
        (
            "clusterrole mixed rule",
            obj(
                "rbac.authorization.k8s.io/v1",
                "ClusterRole",
                "health",
                false,
                json!({"rules": [{"nonResourceURLs": ["/healthz"], "resources": ["pods"], "verbs": ["get"]}]}),
            ),
            errs![
                "rules[0].nonResourceURLs: Invalid value: [\"/healthz\"]: rules cannot apply to both regular resources and non-resource URLs"
            ],
        ),
        (
            "valid rolebinding",
            rb(
                "RoleBinding",
                "Role",
                json!([{"kind": "User", "name": "jane"}, {"kind": "ServiceAccount", "name": "builder"}]),
            ),
            errs![],
        ),
        (
            "rolebinding roleRef kind and subject kind",
            rb(
                "RoleBinding",
                "Pod",
                json!([{"kind": "Robot", "name": "r2"}]),
            ),
            errs![
                "roleRef.kind: Unsupported value: \"Pod\": supported values: \"Role\", \"ClusterRole\"",
                "subjects[0].kind: Unsupported value: \"Robot\": supported values: \"ServiceAccount\", \"User\", \"Group\"",
            ],
        ),
        (
            "clusterrolebinding refers to a ClusterRole; SA needs namespace",
            rb(
                "ClusterRoleBinding",
                "Role",
                json!([{"kind": "ServiceAccount", "name": "builder"}]),
            ),
            errs![
                "roleRef.kind: Unsupported value: \"Role\": supported values: \"ClusterRole\"",
                "subjects[0].namespace: Required value",
            ],
        ),
    ]);
}

#[test]
fn policy_autoscaling_crd_rules() {
    let pdb = |spec: Value| {
        obj(
            "policy/v1",
            "PodDisruptionBudget",
            "web",
            true,
            json!({"spec": spec}),
        )
    };
    let hpa = |spec: Value| {
        obj(
            "autoscaling/v2",
            "HorizontalPodAutoscaler",
            "web",
            true,
            json!({"spec": spec}),
        )
    };
    let target = json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"});
    let crd = |versions: Value| {
        obj(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            "widgets.example.com",
            false,
            json!({"spec": {"group": "example.com", "scope": "Namespaced", "names": {"plural": "widgets", "kind": "Widget"}, "versions": versions}}),
        )
    };
    rows(&[
        (
            "valid pdb",
            pdb(json!({"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}})),
            errs![],
        ),
        (
            "pdb min xor max",
            pdb(json!({"minAvailable": 1, "maxUnavailable": "120%"})),
            errs![
                "spec: Invalid value: {\"maxUnavailable\":\"120%\",\"minAvailable\":1}: minAvailable and maxUnavailable cannot be both set",
                "spec.maxUnavailable: Invalid value: \"120%\": must not be greater than 100%",
            ],
        ),
        (
            "valid hpa",
            hpa(
                json!({"scaleTargetRef": target, "minReplicas": 1, "maxReplicas": 5, "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]}),
            ),
            errs![],
        ),
        (
            "hpa bounds",
            hpa(json!({"scaleTargetRef": target, "minReplicas": 5, "maxReplicas": 3})),
            errs![
                "spec.maxReplicas: Invalid value: 3: must be greater than or equal to `minReplicas`"
            ],
        ),
        (
            "hpa max at least 1, min at least 1",
            hpa(
                json!({"scaleTargetRef": {"kind": "", "name": "web"}, "minReplicas": 0, "maxReplicas": 0}),
            ),
            errs![
                "spec.minReplicas: Invalid value: 0: must be greater than or equal to 1",
                "spec.maxReplicas: Invalid value: 0: must be greater than 0",
                "spec.scaleTargetRef.kind: Required value",
            ],
        ),
        (
            "hpa metric source",
            hpa(
                json!({"scaleTargetRef": target, "maxReplicas": 3, "metrics": [{"type": "Resource"}]}),
            ),
            errs![
                "spec.metrics[0].resource: Required value: must populate information for the given metric source"
            ],
        ),
        (
            "valid crd",
            crd(json!([{"name": "v1", "served": true, "storage": true}])),
            errs![],
        ),
        (
            "crd one storage version",
            crd(
                json!([{"name": "v1", "served": true, "storage": true}, {"name": "v2", "served": true, "storage": true}]),
            ),
            errs![
                "spec.versions: Invalid value: [\"v1\",\"v2\"]: must have exactly one version marked as storage version"
            ],
        ),
        (
            "crd name and group",
            with(
                crd(json!([{"name": "v1", "served": true, "storage": true}])),
                &[("/spec/group", json!("example"))],
            ),
            errs![
                "metadata.name: Invalid value: \"widgets.example.com\": must be spec.names.plural+\".\"+spec.group",
                "spec.group: Invalid value: \"example\": should be a domain with at least one dot",
            ],
        ),
        (
            "crd scope and version names",
            with(
                crd(json!([{"name": "V1", "served": true, "storage": true}])),
                &[("/spec/scope", json!("Global"))],
            ),
            errs![
                "spec.scope: Unsupported value: \"Global\": supported values: \"Cluster\", \"Namespaced\"",
                format!("spec.versions[0].name: Invalid value: \"V1\": {DNS1035_MSG}"),
            ],
        ),
    ]);
}

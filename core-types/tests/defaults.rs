//! Defaulting tests: upstream v1.33's defaulted form of minimal objects, the image pull policy
//! table, idempotence for every kind, and set values surviving defaulting.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kybern_core::SetDefaults;
use kybern_core::api;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Deserializes `input` as `T`, defaults it, and serializes it back.
fn default_as<T: SetDefaults + DeserializeOwned + Serialize>(input: &Value) -> Value {
    let mut obj: T = serde_json::from_value(input.clone())
        .unwrap_or_else(|e| panic!("input does not deserialize: {e}\n{input:#}"));
    obj.set_defaults();
    let mut out = serde_json::to_value(&obj).unwrap();
    let map = out.as_object_mut().unwrap();
    map.remove("apiVersion");
    map.remove("kind");
    out
}

/// Defaults `input` as the compiled-in kind named `kind` (kind names are unique among the
/// built-in kinds). `apiVersion` and `kind` are dropped from the result: the typed kinds always
/// write them, and they are not what defaulting is about.
fn default_kind(kind: &str, input: &Value) -> Value {
    use api::apiextensions::v1 as apiext;
    use api::storage::v1 as storage;
    use api::{apps::v1 as apps, batch::v1 as batch, core::v1 as core};
    use api::{coordination::v1 as coord, discovery::v1 as disc, networking::v1 as net};
    use api::{policy::v1 as policy, rbac::v1 as rbac, scheduling::v1 as sched};
    match kind {
        "Pod" => default_as::<core::Pod>(input),
        "Node" => default_as::<core::Node>(input),
        "Namespace" => default_as::<core::Namespace>(input),
        "Service" => default_as::<core::Service>(input),
        "Endpoints" => default_as::<core::Endpoints>(input),
        "ConfigMap" => default_as::<core::ConfigMap>(input),
        "Secret" => default_as::<core::Secret>(input),
        "ServiceAccount" => default_as::<core::ServiceAccount>(input),
        "PersistentVolume" => default_as::<core::PersistentVolume>(input),
        "PersistentVolumeClaim" => default_as::<core::PersistentVolumeClaim>(input),
        "Event" => default_as::<core::Event>(input),
        "ResourceQuota" => default_as::<core::ResourceQuota>(input),
        "LimitRange" => default_as::<core::LimitRange>(input),
        "Binding" => default_as::<core::Binding>(input),
        "Deployment" => default_as::<apps::Deployment>(input),
        "ReplicaSet" => default_as::<apps::ReplicaSet>(input),
        "StatefulSet" => default_as::<apps::StatefulSet>(input),
        "DaemonSet" => default_as::<apps::DaemonSet>(input),
        "ControllerRevision" => default_as::<apps::ControllerRevision>(input),
        "Job" => default_as::<batch::Job>(input),
        "CronJob" => default_as::<batch::CronJob>(input),
        "HorizontalPodAutoscaler" => {
            default_as::<api::autoscaling::v2::HorizontalPodAutoscaler>(input)
        }
        "EndpointSlice" => default_as::<disc::EndpointSlice>(input),
        "Ingress" => default_as::<net::Ingress>(input),
        "IngressClass" => default_as::<net::IngressClass>(input),
        "NetworkPolicy" => default_as::<net::NetworkPolicy>(input),
        "StorageClass" => default_as::<storage::StorageClass>(input),
        "Role" => default_as::<rbac::Role>(input),
        "ClusterRole" => default_as::<rbac::ClusterRole>(input),
        "RoleBinding" => default_as::<rbac::RoleBinding>(input),
        "ClusterRoleBinding" => default_as::<rbac::ClusterRoleBinding>(input),
        "Lease" => default_as::<coord::Lease>(input),
        "CustomResourceDefinition" => default_as::<apiext::CustomResourceDefinition>(input),
        "PodDisruptionBudget" => default_as::<policy::PodDisruptionBudget>(input),
        "PriorityClass" => default_as::<sched::PriorityClass>(input),
        other => panic!("no such kind in the test table: {other}"),
    }
}

/// The one helper every case goes through: defaulting `input` as `kind` gives `expected`,
/// and defaulting the result again changes nothing.
fn check(name: &str, input: Value, kind: &str, mut expected: Value) {
    let map = expected.as_object_mut().unwrap();
    map.remove("apiVersion");
    map.remove("kind");
    let once = default_kind(kind, &input);
    assert_eq!(
        once, expected,
        "case {name}: defaulted {kind} differs\n got: {once:#}\nwant: {expected:#}"
    );
    let twice = default_kind(kind, &once);
    assert_eq!(
        twice, once,
        "case {name}: defaulting {kind} twice changed it"
    );
}

/// A container as upstream defaults it in any pod spec.
fn defaulted_container(name: &str, image: &str, pull: &str) -> Value {
    json!({
        "name": name, "image": image, "imagePullPolicy": pull,
        "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"
    })
}

/// The PodSpec-level defaults, merged over `extra`.
fn defaulted_pod_spec(extra: Value) -> Value {
    let mut spec = json!({
        "dnsPolicy": "ClusterFirst", "restartPolicy": "Always",
        "schedulerName": "default-scheduler", "securityContext": {},
        "terminationGracePeriodSeconds": 30
    });
    for (k, v) in extra.as_object().unwrap() {
        spec[k] = v.clone();
    }
    spec
}

fn template(labels: Value, containers: Value) -> Value {
    json!({"metadata": {"labels": labels}, "spec": {"containers": containers}})
}

#[test]
fn minimal_objects_get_upstreams_defaulted_form() {
    let web = json!({"app": "web"});
    let nginx = json!([{"name": "nginx", "image": "nginx"}]);
    let nginx_defaulted = json!([defaulted_container("nginx", "nginx", "Always")]);
    let cases: Vec<(&str, &str, Value, Value)> = vec![
        (
            "deployment from kubectl create deployment",
            "Deployment",
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "web", "labels": web},
                   "spec": {"replicas": 1, "selector": {"matchLabels": web},
                            "strategy": {}, "template": template(web.clone(), nginx.clone())}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "web", "labels": web},
                   "spec": {"replicas": 1, "selector": {"matchLabels": web},
                            "progressDeadlineSeconds": 600, "revisionHistoryLimit": 10,
                            "strategy": {"type": "RollingUpdate",
                                         "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                            "template": {"metadata": {"labels": web},
                                         "spec": defaulted_pod_spec(json!({"containers": nginx_defaulted}))}}}),
        ),
        (
            "pod from kubectl run",
            "Pod",
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                   "spec": {"containers": [{"name": "c", "image": "nginx:1.25",
                                            "ports": [{"containerPort": 80}],
                                            "resources": {"limits": {"cpu": "500m", "memory": "128Mi"},
                                                          "requests": {"cpu": "100m"}},
                                            "readinessProbe": {"httpGet": {"port": 80}},
                                            "env": [{"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}]}],
                            "volumes": [{"name": "scratch"},
                                        {"name": "cfg", "configMap": {"name": "cfg"}},
                                        {"name": "sec", "secret": {"secretName": "s"}},
                                        {"name": "host", "hostPath": {"path": "/data"}}]}}),
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                   "spec": defaulted_pod_spec(json!({
                       "enableServiceLinks": true,
                       "containers": [{"name": "c", "image": "nginx:1.25", "imagePullPolicy": "IfNotPresent",
                                       "terminationMessagePath": "/dev/termination-log",
                                       "terminationMessagePolicy": "File",
                                       "ports": [{"containerPort": 80, "protocol": "TCP"}],
                                       "resources": {"limits": {"cpu": "500m", "memory": "128Mi"},
                                                     "requests": {"cpu": "100m", "memory": "128Mi"}},
                                       "readinessProbe": {"httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
                                                          "timeoutSeconds": 1, "periodSeconds": 10,
                                                          "successThreshold": 1, "failureThreshold": 3},
                                       "env": [{"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace", "apiVersion": "v1"}}}]}],
                       "volumes": [{"name": "scratch", "emptyDir": {}},
                                   {"name": "cfg", "configMap": {"name": "cfg", "defaultMode": 420}},
                                   {"name": "sec", "secret": {"secretName": "s", "defaultMode": 420}},
                                   {"name": "host", "hostPath": {"path": "/data", "type": ""}}]}))}),
        ),
        (
            "pod on the host network gets host ports",
            "Pod",
            json!({"metadata": {"name": "p"},
                   "spec": {"hostNetwork": true,
                            "containers": [{"name": "c", "image": "nginx", "ports": [{"containerPort": 8080}]}]}}),
            json!({"metadata": {"name": "p"},
                   "spec": defaulted_pod_spec(json!({
                       "hostNetwork": true, "enableServiceLinks": true,
                       "containers": [{"name": "c", "image": "nginx", "imagePullPolicy": "Always",
                                       "terminationMessagePath": "/dev/termination-log",
                                       "terminationMessagePolicy": "File",
                                       "ports": [{"containerPort": 8080, "hostPort": 8080, "protocol": "TCP"}]}]}))}),
        ),
        (
            "service ClusterIP",
            "Service",
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                   "spec": {"selector": web, "ports": [{"port": 80}, {"name": "m", "port": 9090, "targetPort": "metrics", "protocol": "UDP"}]}}),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                   "spec": {"selector": web, "type": "ClusterIP", "sessionAffinity": "None",
                            "internalTrafficPolicy": "Cluster",
                            "ports": [{"port": 80, "targetPort": 80, "protocol": "TCP"},
                                      {"name": "m", "port": 9090, "targetPort": "metrics", "protocol": "UDP"}]}}),
        ),
        (
            "service NodePort with ClientIP affinity",
            "Service",
            json!({"metadata": {"name": "web"},
                   "spec": {"type": "NodePort", "sessionAffinity": "ClientIP", "selector": web,
                            "ports": [{"port": 80, "targetPort": 8080, "nodePort": 30080}]}}),
            json!({"metadata": {"name": "web"},
                   "spec": {"type": "NodePort", "sessionAffinity": "ClientIP", "selector": web,
                            "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 10800}},
                            "externalTrafficPolicy": "Cluster", "internalTrafficPolicy": "Cluster",
                            "ports": [{"port": 80, "targetPort": 8080, "nodePort": 30080, "protocol": "TCP"}]}}),
        ),
        (
            "service LoadBalancer",
            "Service",
            json!({"metadata": {"name": "lb"},
                   "spec": {"type": "LoadBalancer", "ports": [{"port": 443}]},
                   "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}, {"hostname": "lb.example"}]}}}),
            json!({"metadata": {"name": "lb"},
                   "spec": {"type": "LoadBalancer", "sessionAffinity": "None",
                            "externalTrafficPolicy": "Cluster", "internalTrafficPolicy": "Cluster",
                            "allocateLoadBalancerNodePorts": true,
                            "ports": [{"port": 443, "targetPort": 443, "protocol": "TCP"}]},
                   "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.7", "ipMode": "VIP"}, {"hostname": "lb.example"}]}}}),
        ),
        (
            "service ExternalName gets no traffic policies",
            "Service",
            json!({"metadata": {"name": "ext"}, "spec": {"type": "ExternalName", "externalName": "db.example"}}),
            json!({"metadata": {"name": "ext"},
                   "spec": {"type": "ExternalName", "externalName": "db.example", "sessionAffinity": "None"}}),
        ),
        (
            "job",
            "Job",
            json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "pi"},
                   "spec": {"template": {"spec": {"restartPolicy": "Never",
                                                  "containers": [{"name": "pi", "image": "perl:5.34.0"}]}}}}),
            json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "pi"},
                   "spec": {"backoffLimit": 6, "completionMode": "NonIndexed", "completions": 1,
                            "manualSelector": false, "parallelism": 1,
                            "podReplacementPolicy": "TerminatingOrFailed", "suspend": false,
                            "template": {"spec": defaulted_pod_spec(json!({
                                "restartPolicy": "Never",
                                "containers": [defaulted_container("pi", "perl:5.34.0", "IfNotPresent")]}))}}}),
        ),
        (
            "job with per-index backoff and a pod failure policy",
            "Job",
            json!({"metadata": {"name": "j"},
                   "spec": {"completions": 4, "completionMode": "Indexed", "backoffLimitPerIndex": 1,
                            "podFailurePolicy": {"rules": [{"action": "Ignore",
                                                            "onPodConditions": [{"type": "DisruptionTarget"}]}]},
                            "template": {"metadata": {"labels": {"app": "j"}},
                                         "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}}),
            json!({"metadata": {"name": "j", "labels": {"app": "j"}},
                   "spec": {"completions": 4, "parallelism": 1, "completionMode": "Indexed",
                            "backoffLimitPerIndex": 1, "backoffLimit": 2147483647,
                            "manualSelector": false, "suspend": false, "podReplacementPolicy": "Failed",
                            "podFailurePolicy": {"rules": [{"action": "Ignore",
                                                            "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]}]},
                            "template": {"metadata": {"labels": {"app": "j"}},
                                         "spec": defaulted_pod_spec(json!({
                                             "restartPolicy": "Never",
                                             "containers": [defaulted_container("c", "busybox", "Always")]}))}}}),
        ),
        (
            "cronjob",
            "CronJob",
            json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "hello"},
                   "spec": {"schedule": "* * * * *",
                            "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "OnFailure",
                                "containers": [{"name": "hello", "image": "busybox:1.28"}]}}}}}}),
            json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "hello"},
                   "spec": {"schedule": "* * * * *", "concurrencyPolicy": "Allow", "suspend": false,
                            "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1,
                            "jobTemplate": {"spec": {"template": {"spec": defaulted_pod_spec(json!({
                                "restartPolicy": "OnFailure",
                                "containers": [defaulted_container("hello", "busybox:1.28", "IfNotPresent")]}))}}}}}),
        ),
        (
            "statefulset with a claim template",
            "StatefulSet",
            json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
                   "spec": {"serviceName": "db", "selector": {"matchLabels": web},
                            "template": template(web.clone(), nginx.clone()),
                            "volumeClaimTemplates": [{"metadata": {"name": "data"},
                                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}}),
            json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
                   "spec": {"serviceName": "db", "selector": {"matchLabels": web},
                            "replicas": 1, "revisionHistoryLimit": 10, "podManagementPolicy": "OrderedReady",
                            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
                            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
                            "template": {"metadata": {"labels": web},
                                         "spec": defaulted_pod_spec(json!({"containers": nginx_defaulted}))},
                            "volumeClaimTemplates": [{"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                                "metadata": {"name": "data"},
                                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
                                         "volumeMode": "Filesystem"},
                                "status": {"phase": "Pending"}}]}}),
        ),
        (
            "statefulset with an explicit RollingUpdate type keeps rollingUpdate unset",
            "StatefulSet",
            json!({"metadata": {"name": "db"},
                   "spec": {"replicas": 3, "selector": {"matchLabels": web}, "updateStrategy": {"type": "RollingUpdate"},
                            "template": template(web.clone(), nginx.clone())}}),
            json!({"metadata": {"name": "db"},
                   "spec": {"replicas": 3, "selector": {"matchLabels": web}, "updateStrategy": {"type": "RollingUpdate"},
                            "revisionHistoryLimit": 10, "podManagementPolicy": "OrderedReady",
                            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
                            "template": {"metadata": {"labels": web},
                                         "spec": defaulted_pod_spec(json!({"containers": nginx_defaulted}))}}}),
        ),
        (
            "daemonset",
            "DaemonSet",
            json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
                   "spec": {"selector": {"matchLabels": web}, "template": template(web.clone(), nginx.clone())}}),
            json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
                   "spec": {"selector": {"matchLabels": web}, "revisionHistoryLimit": 10,
                            "updateStrategy": {"type": "RollingUpdate",
                                               "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
                            "template": {"metadata": {"labels": web},
                                         "spec": defaulted_pod_spec(json!({"containers": nginx_defaulted}))}}}),
        ),
        (
            "pvc",
            "PersistentVolumeClaim",
            json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
                   "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}),
            json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
                   "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
                            "volumeMode": "Filesystem"},
                   "status": {"phase": "Pending"}}),
        ),
        (
            "pv",
            "PersistentVolume",
            json!({"metadata": {"name": "pv1"},
                   "spec": {"capacity": {"storage": "5Gi"}, "accessModes": ["ReadWriteOnce"],
                            "hostPath": {"path": "/mnt/data"}}}),
            json!({"metadata": {"name": "pv1"},
                   "spec": {"capacity": {"storage": "5Gi"}, "accessModes": ["ReadWriteOnce"],
                            "hostPath": {"path": "/mnt/data", "type": ""},
                            "persistentVolumeReclaimPolicy": "Retain", "volumeMode": "Filesystem"},
                   "status": {"phase": "Pending"}}),
        ),
        (
            "storageclass",
            "StorageClass",
            json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "standard"},
                   "provisioner": "rancher.io/local-path"}),
            json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "standard"},
                   "provisioner": "rancher.io/local-path",
                   "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"}),
        ),
        (
            "rolebinding",
            "RoleBinding",
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                   "metadata": {"name": "read", "namespace": "dev"},
                   "roleRef": {"kind": "Role", "name": "reader", "apiGroup": ""},
                   "subjects": [{"kind": "User", "name": "jane"},
                                {"kind": "Group", "name": "devs"},
                                {"kind": "ServiceAccount", "name": "builder", "namespace": "dev"}]}),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                   "metadata": {"name": "read", "namespace": "dev"},
                   "roleRef": {"kind": "Role", "name": "reader", "apiGroup": "rbac.authorization.k8s.io"},
                   "subjects": [{"kind": "User", "name": "jane", "apiGroup": "rbac.authorization.k8s.io"},
                                {"kind": "Group", "name": "devs", "apiGroup": "rbac.authorization.k8s.io"},
                                {"kind": "ServiceAccount", "name": "builder", "namespace": "dev", "apiGroup": ""}]}),
        ),
        (
            "namespace",
            "Namespace",
            json!({"metadata": {"name": "dev"}}),
            json!({"metadata": {"name": "dev", "labels": {"kubernetes.io/metadata.name": "dev"}},
                   "status": {"phase": "Active"}}),
        ),
        (
            "secret",
            "Secret",
            json!({"metadata": {"name": "s"}, "stringData": {"k": "v"}}),
            json!({"metadata": {"name": "s"}, "stringData": {"k": "v"}, "type": "Opaque"}),
        ),
        (
            "hpa v2 without metrics",
            "HorizontalPodAutoscaler",
            json!({"metadata": {"name": "web"},
                   "spec": {"maxReplicas": 5,
                            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}}}),
            json!({"metadata": {"name": "web"},
                   "spec": {"maxReplicas": 5, "minReplicas": 1,
                            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                            "metrics": [{"type": "Resource",
                                         "resource": {"name": "cpu",
                                                      "target": {"type": "Utilization", "averageUtilization": 80}}}],
                            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60, "selectPolicy": "Max",
                                                       "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]},
                                         "scaleUp": {"stabilizationWindowSeconds": 0, "selectPolicy": "Max",
                                                     "policies": [{"type": "Pods", "value": 4, "periodSeconds": 15},
                                                                  {"type": "Percent", "value": 100, "periodSeconds": 15}]}}}}),
        ),
        (
            "networkpolicy with egress",
            "NetworkPolicy",
            json!({"metadata": {"name": "np"},
                   "spec": {"podSelector": {},
                            "ingress": [{"ports": [{"port": 80}]}],
                            "egress": [{"ports": [{"port": 53, "protocol": "UDP"}, {"port": 443}]}]}}),
            json!({"metadata": {"name": "np"},
                   "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"],
                            "ingress": [{"ports": [{"port": 80, "protocol": "TCP"}]}],
                            "egress": [{"ports": [{"port": 53, "protocol": "UDP"}, {"port": 443, "protocol": "TCP"}]}]}}),
        ),
        (
            "networkpolicy ingress only",
            "NetworkPolicy",
            json!({"metadata": {"name": "deny"}, "spec": {"podSelector": {}}}),
            json!({"metadata": {"name": "deny"}, "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}),
        ),
        (
            "endpointslice",
            "EndpointSlice",
            json!({"metadata": {"name": "web-abc"}, "addressType": "IPv4", "endpoints": [],
                   "ports": [{"port": 80}]}),
            // An empty list is not serialized: absent and empty are the same here.
            json!({"metadata": {"name": "web-abc"}, "addressType": "IPv4",
                   "ports": [{"port": 80, "name": "", "protocol": "TCP"}]}),
        ),
        (
            "priorityclass",
            "PriorityClass",
            json!({"metadata": {"name": "high"}, "value": 1000}),
            json!({"metadata": {"name": "high"}, "value": 1000, "preemptionPolicy": "PreemptLowerPriority"}),
        ),
        (
            "crd",
            "CustomResourceDefinition",
            json!({"metadata": {"name": "widgets.example.com"},
                   "spec": {"group": "example.com", "scope": "Namespaced",
                            "names": {"kind": "Widget", "plural": "widgets"},
                            "versions": [{"name": "v1", "served": true, "storage": true}]}}),
            json!({"metadata": {"name": "widgets.example.com"},
                   "spec": {"group": "example.com", "scope": "Namespaced",
                            "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
                            "conversion": {"strategy": "None"},
                            "versions": [{"name": "v1", "served": true, "storage": true}]},
                   "status": {"storedVersions": ["v1"]}}),
        ),
        (
            "limitrange container item",
            "LimitRange",
            json!({"metadata": {"name": "lr"},
                   "spec": {"limits": [{"type": "Container", "max": {"cpu": "2"}, "min": {"memory": "64Mi"}},
                                       {"type": "Pod", "max": {"cpu": "4"}}]}}),
            json!({"metadata": {"name": "lr"},
                   "spec": {"limits": [{"type": "Container", "max": {"cpu": "2"}, "min": {"memory": "64Mi"},
                                        "default": {"cpu": "2"}, "defaultRequest": {"cpu": "2", "memory": "64Mi"}},
                                       {"type": "Pod", "max": {"cpu": "4"}}]}}),
        ),
        (
            "node allocatable from capacity",
            "Node",
            json!({"metadata": {"name": "n1"}, "status": {"capacity": {"cpu": "4", "pods": "110"}}}),
            json!({"metadata": {"name": "n1"},
                   "status": {"capacity": {"cpu": "4", "pods": "110"}, "allocatable": {"cpu": "4", "pods": "110"}}}),
        ),
        (
            "ingressclass parameters scope",
            "IngressClass",
            json!({"metadata": {"name": "nginx"},
                   "spec": {"controller": "k8s.io/ingress-nginx",
                            "parameters": {"kind": "Params", "name": "p", "apiGroup": "example.com"}}}),
            json!({"metadata": {"name": "nginx"},
                   "spec": {"controller": "k8s.io/ingress-nginx",
                            "parameters": {"kind": "Params", "name": "p", "apiGroup": "example.com", "scope": "Cluster"}}}),
        ),
    ];
    for (name, kind, input, expected) in cases {
        check(name, input, kind, expected);
    }
}

#[test]
fn image_pull_policy_follows_the_tag() {
    let digest = format!("nginx@sha256:{}", "0123456789abcdef".repeat(4));
    let cases: Vec<(&str, &str)> = vec![
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("nginx:1.25", "IfNotPresent"),
        (&digest, "IfNotPresent"),
        ("registry:5000/nginx", "Always"),
        ("registry:5000/nginx:1.0", "IfNotPresent"),
        ("docker.io/library/nginx:latest", "Always"),
        ("", "IfNotPresent"),
    ];
    for (image, pull) in cases {
        let pod = json!({"metadata": {"name": "p"},
                         "spec": {"containers": [{"name": "c", "image": image}]}});
        let out = default_kind("Pod", &pod);
        assert_eq!(
            out["spec"]["containers"][0]["imagePullPolicy"], pull,
            "image {image:?}"
        );
    }
}

/// One object of every kind, with nothing set beyond what the kind requires.
fn every_kind() -> Vec<(&'static str, Value)> {
    let tpl = json!({"metadata": {"labels": {"a": "b"}},
                     "spec": {"containers": [{"name": "c", "image": "busybox",
                                              "livenessProbe": {"grpc": {"port": 9000}},
                                              "lifecycle": {"preStop": {"httpGet": {"port": 80}}}}],
                              "initContainers": [{"name": "i", "image": "busybox", "resources": {"limits": {"cpu": "1"}}}],
                              "volumes": [{"name": "p", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}},
                                                                                  {"downwardAPI": {"items": [{"path": "n", "fieldRef": {"fieldPath": "metadata.name"}}]}}]}},
                                          {"name": "e", "ephemeral": {"volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"]}}}},
                                          {"name": "d", "downwardAPI": {"items": []}}]}});
    let sel = json!({"matchLabels": {"a": "b"}});
    vec![
        (
            "Pod",
            json!({"metadata": {"name": "x"}, "spec": tpl["spec"].clone()}),
        ),
        (
            "Node",
            json!({"metadata": {"name": "x"}, "status": {"capacity": {"cpu": "1"}}}),
        ),
        ("Namespace", json!({"metadata": {"name": "x"}})),
        (
            "Service",
            json!({"metadata": {"name": "x"}, "spec": {"sessionAffinity": "ClientIP", "externalIPs": ["192.0.2.1"], "ports": [{"port": 1}]}}),
        ),
        (
            "Endpoints",
            json!({"metadata": {"name": "x"}, "subsets": [{"ports": [{"port": 1}]}]}),
        ),
        ("ConfigMap", json!({"metadata": {"name": "x"}})),
        ("Secret", json!({"metadata": {"name": "x"}})),
        ("ServiceAccount", json!({"metadata": {"name": "x"}})),
        (
            "PersistentVolume",
            json!({"metadata": {"name": "x"}, "spec": {"azureDisk": {"diskName": "d", "diskURI": "u"}}}),
        ),
        (
            "PersistentVolumeClaim",
            json!({"metadata": {"name": "x"}, "spec": {}}),
        ),
        (
            "Event",
            json!({"metadata": {"name": "x"}, "involvedObject": {}}),
        ),
        (
            "ResourceQuota",
            json!({"metadata": {"name": "x"}, "spec": {"hard": {"pods": "10"}}}),
        ),
        (
            "LimitRange",
            json!({"metadata": {"name": "x"}, "spec": {"limits": [{"type": "Container", "max": {"cpu": "1"}}]}}),
        ),
        (
            "Binding",
            json!({"metadata": {"name": "x"}, "target": {"name": "n"}}),
        ),
        (
            "Deployment",
            json!({"metadata": {"name": "x"}, "spec": {"selector": sel, "template": tpl.clone()}}),
        ),
        (
            "ReplicaSet",
            json!({"metadata": {"name": "x"}, "spec": {"selector": sel, "template": tpl.clone()}}),
        ),
        (
            "StatefulSet",
            json!({"metadata": {"name": "x"}, "spec": {"selector": sel, "template": tpl.clone(), "volumeClaimTemplates": [{"metadata": {"name": "d"}, "spec": {}}]}}),
        ),
        (
            "DaemonSet",
            json!({"metadata": {"name": "x"}, "spec": {"selector": sel, "template": tpl.clone()}}),
        ),
        (
            "ControllerRevision",
            json!({"metadata": {"name": "x"}, "revision": 1}),
        ),
        (
            "Job",
            json!({"metadata": {"name": "x"}, "spec": {"template": tpl.clone()}}),
        ),
        (
            "CronJob",
            json!({"metadata": {"name": "x"}, "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": tpl.clone()}}}}),
        ),
        (
            "HorizontalPodAutoscaler",
            json!({"metadata": {"name": "x"}, "spec": {"maxReplicas": 3, "scaleTargetRef": {"kind": "Deployment", "name": "x"}, "behavior": {}}}),
        ),
        (
            "EndpointSlice",
            json!({"metadata": {"name": "x"}, "addressType": "IPv4", "endpoints": [], "ports": [{}]}),
        ),
        (
            "Ingress",
            json!({"metadata": {"name": "x"}, "spec": {"rules": [{"host": "a.example"}]}}),
        ),
        (
            "IngressClass",
            json!({"metadata": {"name": "x"}, "spec": {"parameters": {"kind": "K", "name": "n"}}}),
        ),
        (
            "NetworkPolicy",
            json!({"metadata": {"name": "x"}, "spec": {"podSelector": {}, "egress": [{}]}}),
        ),
        (
            "StorageClass",
            json!({"metadata": {"name": "x"}, "provisioner": "p"}),
        ),
        (
            "Role",
            json!({"metadata": {"name": "x"}, "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]}),
        ),
        ("ClusterRole", json!({"metadata": {"name": "x"}})),
        (
            "RoleBinding",
            json!({"metadata": {"name": "x"}, "roleRef": {"apiGroup": "", "kind": "Role", "name": "r"}, "subjects": [{"kind": "User", "name": "u"}]}),
        ),
        (
            "ClusterRoleBinding",
            json!({"metadata": {"name": "x"}, "roleRef": {"apiGroup": "", "kind": "ClusterRole", "name": "r"}, "subjects": [{"kind": "ServiceAccount", "name": "s", "namespace": "n"}]}),
        ),
        (
            "Lease",
            json!({"metadata": {"name": "x"}, "spec": {"holderIdentity": "h"}}),
        ),
        (
            "CustomResourceDefinition",
            json!({"metadata": {"name": "x"}, "spec": {"group": "g", "scope": "Cluster", "names": {"kind": "K", "plural": "ks"}, "versions": [{"name": "v1", "served": true, "storage": true}],
                                                                               "conversion": {"strategy": "Webhook", "webhook": {"conversionReviewVersions": ["v1"], "clientConfig": {"service": {"namespace": "n", "name": "s"}}}}}}),
        ),
        (
            "PodDisruptionBudget",
            json!({"metadata": {"name": "x"}, "spec": {"minAvailable": 1}}),
        ),
        (
            "PriorityClass",
            json!({"metadata": {"name": "x"}, "value": 1}),
        ),
    ]
}

#[test]
fn defaulting_is_idempotent_for_every_kind() {
    for (kind, input) in every_kind() {
        let once = default_kind(kind, &input);
        let twice = default_kind(kind, &once);
        assert_eq!(twice, once, "{kind}: defaulting twice differs from once");
    }
}

/// Defaults that upstream derives from other fields, checked on the every-kind objects.
#[test]
fn nested_defaults_reach_every_template() {
    for (kind, input) in every_kind() {
        let out = default_kind(kind, &input);
        let spec = match kind {
            "Pod" => &out["spec"],
            "CronJob" => &out["spec"]["jobTemplate"]["spec"]["template"]["spec"],
            "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" | "Job" => {
                &out["spec"]["template"]["spec"]
            }
            _ => continue,
        };
        let c = &spec["containers"][0];
        assert_eq!(
            c["livenessProbe"]["grpc"]["service"], "",
            "{kind}: grpc service"
        );
        assert_eq!(
            c["livenessProbe"]["periodSeconds"], 10,
            "{kind}: probe period"
        );
        assert_eq!(
            c["lifecycle"]["preStop"]["httpGet"]["scheme"], "HTTP",
            "{kind}: preStop"
        );
        let sources = &spec["volumes"][0]["projected"];
        assert_eq!(sources["defaultMode"], 420, "{kind}: projected mode");
        assert_eq!(
            sources["sources"][0]["serviceAccountToken"]["expirationSeconds"], 3600,
            "{kind}"
        );
        assert_eq!(
            sources["sources"][1]["downwardAPI"]["items"][0]["fieldRef"]["apiVersion"], "v1",
            "{kind}"
        );
        assert_eq!(
            spec["volumes"][1]["ephemeral"]["volumeClaimTemplate"]["spec"]["volumeMode"],
            "Filesystem",
            "{kind}: ephemeral claim"
        );
        assert_eq!(
            spec["volumes"][2]["downwardAPI"]["defaultMode"], 420,
            "{kind}"
        );
        // Requests from limits and service links are Pod-only.
        let init = &spec["initContainers"][0]["resources"];
        if kind == "Pod" {
            assert_eq!(init["requests"]["cpu"], "1", "{kind}: requests from limits");
            assert_eq!(spec["enableServiceLinks"], true, "{kind}");
        } else {
            assert_eq!(
                init.get("requests"),
                None,
                "{kind}: template requests stay unset"
            );
            assert_eq!(spec.get("enableServiceLinks"), None, "{kind}");
        }
    }
}

/// Every defaulted field, when already set to a non-default value, keeps that value.
#[test]
fn set_values_are_never_overwritten() {
    let c = json!([{"name": "c", "image": "nginx", "imagePullPolicy": "Never",
                    "terminationMessagePath": "/tmp/log", "terminationMessagePolicy": "FallbackToLogsOnError",
                    "ports": [{"containerPort": 53, "protocol": "UDP"}],
                    "readinessProbe": {"tcpSocket": {"port": 1}, "timeoutSeconds": 5, "periodSeconds": 7,
                                       "successThreshold": 2, "failureThreshold": 9},
                    "livenessProbe": {"httpGet": {"port": 1, "path": "/healthz", "scheme": "HTTPS"}, "timeoutSeconds": 2,
                                      "periodSeconds": 3, "successThreshold": 1, "failureThreshold": 4},
                    "env": [{"name": "X", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels", "apiVersion": "v2"}}}]}]);
    let spec = json!({"containers": c, "dnsPolicy": "Default", "restartPolicy": "Never",
                      "schedulerName": "mine", "securityContext": {"runAsUser": 1000},
                      "terminationGracePeriodSeconds": 5,
                      "volumes": [{"name": "s", "secret": {"secretName": "s", "defaultMode": 256}},
                                  {"name": "h", "hostPath": {"path": "/x", "type": "Directory"}}]});
    let tpl = json!({"metadata": {"labels": {"a": "b"}}, "spec": spec});
    let sel = json!({"matchLabels": {"a": "b"}});
    let cases: Vec<(&str, Value)> = vec![
        (
            "Pod",
            json!({"metadata": {"name": "x"}, "spec": {
            "containers": [{"name": "c", "image": "nginx", "imagePullPolicy": "Always",
                            "terminationMessagePath": "/t", "terminationMessagePolicy": "File",
                            "resources": {"limits": {"cpu": "2"}, "requests": {"cpu": "1"}},
                            "ports": [{"containerPort": 80, "hostPort": 8080, "protocol": "TCP"}]}],
            "hostNetwork": true, "enableServiceLinks": false, "dnsPolicy": "None", "restartPolicy": "OnFailure",
            "schedulerName": "s", "securityContext": {}, "terminationGracePeriodSeconds": 0}}),
        ),
        (
            "Deployment",
            json!({"metadata": {"name": "x"}, "spec": {"replicas": 0, "selector": sel, "template": tpl.clone(),
            "revisionHistoryLimit": 0, "progressDeadlineSeconds": 60,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": "50%"}}}}),
        ),
        (
            "Deployment",
            json!({"metadata": {"name": "y"}, "spec": {"replicas": 2, "selector": sel, "template": tpl.clone(),
            "revisionHistoryLimit": 1, "progressDeadlineSeconds": 60, "strategy": {"type": "Recreate"}}}),
        ),
        (
            "ReplicaSet",
            json!({"metadata": {"name": "x"}, "spec": {"replicas": 0, "selector": sel, "template": tpl.clone()}}),
        ),
        (
            "StatefulSet",
            json!({"metadata": {"name": "x"}, "spec": {"replicas": 0, "selector": sel, "template": tpl.clone(),
            "revisionHistoryLimit": 2, "podManagementPolicy": "Parallel",
            "updateStrategy": {"type": "OnDelete"},
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete", "whenScaled": "Delete"}}}),
        ),
        (
            "DaemonSet",
            json!({"metadata": {"name": "x"}, "spec": {"selector": sel, "template": tpl.clone(),
            "revisionHistoryLimit": 3, "updateStrategy": {"type": "OnDelete"}}}),
        ),
        (
            "Job",
            json!({"metadata": {"name": "x", "labels": {"mine": "yes"}}, "spec": {"template": tpl.clone(),
            "completions": 5, "parallelism": 2, "backoffLimit": 0, "completionMode": "Indexed",
            "suspend": true, "manualSelector": true, "podReplacementPolicy": "Failed"}}),
        ),
        (
            "CronJob",
            json!({"metadata": {"name": "x"}, "spec": {"schedule": "@daily", "concurrencyPolicy": "Forbid",
            "suspend": true, "successfulJobsHistoryLimit": 0, "failedJobsHistoryLimit": 0,
            "jobTemplate": {"spec": {"template": tpl.clone()}}}}),
        ),
        (
            "Service",
            json!({"metadata": {"name": "x"}, "spec": {"type": "LoadBalancer", "sessionAffinity": "ClientIP",
            "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}},
            "externalTrafficPolicy": "Local", "internalTrafficPolicy": "Local",
            "allocateLoadBalancerNodePorts": false,
            "ports": [{"port": 80, "targetPort": "http", "protocol": "SCTP"}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.1", "ipMode": "Proxy"}]}}}),
        ),
        (
            "Secret",
            json!({"metadata": {"name": "x"}, "type": "kubernetes.io/tls"}),
        ),
        (
            "PersistentVolume",
            json!({"metadata": {"name": "x"}, "spec": {"persistentVolumeReclaimPolicy": "Delete",
            "volumeMode": "Block"}, "status": {"phase": "Bound"}}),
        ),
        (
            "PersistentVolumeClaim",
            json!({"metadata": {"name": "x"}, "spec": {"volumeMode": "Block"}, "status": {"phase": "Bound"}}),
        ),
        (
            "Namespace",
            json!({"metadata": {"name": "x", "labels": {"kubernetes.io/metadata.name": "x"}}, "status": {"phase": "Terminating"}}),
        ),
        (
            "Node",
            json!({"metadata": {"name": "x"}, "status": {"capacity": {"cpu": "4"}, "allocatable": {"cpu": "3"}}}),
        ),
        (
            "HorizontalPodAutoscaler",
            json!({"metadata": {"name": "x"}, "spec": {"maxReplicas": 3, "minReplicas": 2,
            "scaleTargetRef": {"kind": "Deployment", "name": "x"},
            "metrics": [{"type": "Resource", "resource": {"name": "memory", "target": {"type": "Utilization", "averageUtilization": 50}}}],
            "behavior": {"scaleUp": {"stabilizationWindowSeconds": 30, "selectPolicy": "Min",
                                     "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]},
                         "scaleDown": {"stabilizationWindowSeconds": 300, "selectPolicy": "Disabled",
                                       "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}}}}),
        ),
        (
            "NetworkPolicy",
            json!({"metadata": {"name": "x"}, "spec": {"podSelector": {}, "policyTypes": ["Egress"],
            "egress": [{"ports": [{"protocol": "UDP", "port": 53}]}]}}),
        ),
        (
            "StorageClass",
            json!({"metadata": {"name": "x"}, "provisioner": "p", "reclaimPolicy": "Retain",
            "volumeBindingMode": "WaitForFirstConsumer"}),
        ),
        (
            "RoleBinding",
            json!({"metadata": {"name": "x"}, "roleRef": {"apiGroup": "example.com", "kind": "Role", "name": "r"},
            "subjects": [{"kind": "User", "name": "u", "apiGroup": "example.com"}]}),
        ),
        (
            "PriorityClass",
            json!({"metadata": {"name": "x"}, "value": 1, "preemptionPolicy": "Never"}),
        ),
        (
            "EndpointSlice",
            json!({"metadata": {"name": "x"}, "addressType": "IPv4", "endpoints": [],
            "ports": [{"name": "http", "protocol": "UDP", "port": 1}]}),
        ),
        (
            "IngressClass",
            json!({"metadata": {"name": "x"}, "spec": {"parameters": {"kind": "K", "name": "n", "scope": "Namespace", "namespace": "ns"}}}),
        ),
        (
            "CustomResourceDefinition",
            json!({"metadata": {"name": "x"}, "spec": {"group": "g", "scope": "Cluster",
            "names": {"kind": "K", "plural": "ks", "singular": "kay", "listKind": "KList"},
            "conversion": {"strategy": "Webhook", "webhook": {"conversionReviewVersions": ["v1"],
                                                             "clientConfig": {"service": {"namespace": "n", "name": "s", "port": 8443}}}},
            "versions": [{"name": "v1", "served": true, "storage": true}]},
            "status": {"storedVersions": ["v1beta1", "v1"]}}),
        ),
    ];
    for (kind, input) in cases {
        let out = default_kind(kind, &input);
        assert_contains(&out, &input, kind, "");
    }
}

/// Every leaf of `want` appears unchanged in `got`.
fn assert_contains(got: &Value, want: &Value, kind: &str, path: &str) {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            for (k, wv) in w {
                // An empty list or map is not serialized (absent and empty are the same).
                let empty = wv.as_array().is_some_and(Vec::is_empty)
                    || wv.as_object().is_some_and(serde_json::Map::is_empty);
                if empty && !g.contains_key(k) {
                    continue;
                }
                let gv = g
                    .get(k)
                    .unwrap_or_else(|| panic!("{kind}: {path}.{k} was removed"));
                assert_contains(gv, wv, kind, &format!("{path}.{k}"));
            }
        }
        (Value::Array(g), Value::Array(w)) => {
            assert_eq!(g.len(), w.len(), "{kind}: {path} changed length");
            for (i, (gv, wv)) in g.iter().zip(w).enumerate() {
                assert_contains(gv, wv, kind, &format!("{path}[{i}]"));
            }
        }
        _ => assert_eq!(got, want, "{kind}: {path} was overwritten"),
    }
}

/// Upstream's two deliberate exceptions to "a set value is kept".
#[test]
fn upstream_exceptions_to_keeping_set_values() {
    check(
        "sessionAffinity None drops sessionAffinityConfig",
        json!({"metadata": {"name": "s"},
               "spec": {"sessionAffinity": "None", "type": "ExternalName", "externalName": "a.example",
                        "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 5}}}}),
        "Service",
        json!({"metadata": {"name": "s"},
               "spec": {"sessionAffinity": "None", "type": "ExternalName", "externalName": "a.example"}}),
    );
    check(
        "the metadata.name label always mirrors the name",
        json!({"metadata": {"name": "dev", "labels": {"kubernetes.io/metadata.name": "other", "team": "a"}},
               "status": {"phase": "Active"}}),
        "Namespace",
        json!({"metadata": {"name": "dev", "labels": {"kubernetes.io/metadata.name": "dev", "team": "a"}},
               "status": {"phase": "Active"}}),
    );
}

/// Every built-in root kind implements `SetDefaults`; its empty object defaults idempotently.
#[test]
fn every_builtin_kind_defaults_idempotently_from_empty() {
    fn empty_twice<K>() -> usize
    where
        K: SetDefaults + Default + Clone + PartialEq + std::fmt::Debug,
    {
        let mut obj = K::default();
        obj.set_defaults();
        let once = obj.clone();
        obj.set_defaults();
        assert_eq!(obj, once, "{}", std::any::type_name::<K>());
        1
    }
    macro_rules! all {
        ($($kind:path),* $(,)?) => { 0 $(+ empty_twice::<$kind>())* };
    }
    assert_eq!(kybern_core::for_each_builtin_kind!(all), 35);
}

proptest::proptest! {
    /// The image reference parser never panics, and its pull policy is one of the two defaults.
    #[test]
    fn any_image_string_gets_a_pull_policy(image in ".*") {
        let policy = kybern_core::defaults::image::default_pull_policy(&image);
        proptest::prop_assert!(policy == "Always" || policy == "IfNotPresent");
    }

    /// Valid references: `Always` exactly when there is neither tag nor digest, or the tag is
    /// `latest`.
    #[test]
    fn valid_references_pull_always_only_for_latest(
        domain in proptest::option::of("(registry\\.example|localhost|reg:5000)"),
        path in "[a-z0-9]{1,8}(/[a-z0-9]{1,8}(-[a-z0-9]{1,3})?){0,2}",
        tag in proptest::option::of("(latest|[A-Za-z0-9_][A-Za-z0-9_.-]{0,9})"),
        digest in proptest::option::of("[0-9a-f]{64}"),
    ) {
        let mut image = domain.map(|d| format!("{d}/")).unwrap_or_default() + &path;
        if let Some(t) = &tag {
            image = format!("{image}:{t}");
        }
        if let Some(d) = &digest {
            image = format!("{image}@sha256:{d}");
        }
        let want = match (&tag, &digest) {
            (None, None) => "Always",
            (Some(t), _) if t == "latest" => "Always",
            _ => "IfNotPresent",
        };
        let got = kybern_core::defaults::image::default_pull_policy(&image);
        proptest::prop_assert_eq!(got, want, "image {}", image);
    }
}

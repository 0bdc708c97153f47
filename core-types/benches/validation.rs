//! Validation throughput: name checks (valid and invalid), label maps, and whole objects.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use kybern_core::Validate;
use kybern_core::api::apps::v1::Deployment;
use kybern_core::api::core::v1::{Pod, Service};
use kybern_core::validation::FieldPath;
use kybern_core::validation::meta::validate_labels;
use kybern_core::validation::names::{is_dns1123_label, is_dns1123_subdomain, is_qualified_name};
use serde_json::json;

fn names(c: &mut Criterion) {
    c.bench_function("is_dns1123_label/valid", |b| {
        b.iter(|| is_dns1123_label(black_box("web-frontend-0")))
    });
    c.bench_function("is_dns1123_label/invalid", |b| {
        b.iter(|| is_dns1123_label(black_box("Web_Frontend")))
    });
    c.bench_function("is_dns1123_subdomain/valid", |b| {
        b.iter(|| is_dns1123_subdomain(black_box("web.default.svc.cluster.local")))
    });
    c.bench_function("is_qualified_name/valid", |b| {
        b.iter(|| is_qualified_name(black_box("app.kubernetes.io/name")))
    });
    let labels: BTreeMap<String, String> = (0..10)
        .map(|i| (format!("example.com/key-{i}"), format!("value-{i}")))
        .collect();
    let path = FieldPath::new("metadata").child("labels");
    c.bench_function("validate_labels/10_valid", |b| {
        b.iter(|| validate_labels(black_box(&labels), &path))
    });
}

fn objects(c: &mut Criterion) {
    let pod: Pod = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-0", "namespace": "default", "labels": {"app": "web", "tier": "frontend"}},
        "spec": {
            "volumes": [{"name": "data", "emptyDir": {}}],
            "containers": [{
                "name": "app", "image": "nginx:1.27",
                "ports": [{"containerPort": 80, "name": "http"}],
                "env": [{"name": "MODE", "value": "prod"}],
                "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "128Mi"}},
                "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}}
            }]
        }
    }))
    .unwrap();
    let deployment: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "app", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]}}
        }
    }))
    .unwrap();
    let service: Service = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}, {"name": "https", "port": 443}]}
    }))
    .unwrap();
    assert!(pod.validate().is_empty());
    assert!(deployment.validate().is_empty());
    assert!(service.validate().is_empty());
    c.bench_function("validate/pod", |b| b.iter(|| black_box(&pod).validate()));
    c.bench_function("validate/deployment", |b| {
        b.iter(|| black_box(&deployment).validate())
    });
    c.bench_function("validate/service", |b| {
        b.iter(|| black_box(&service).validate())
    });
}

criterion_group!(benches, names, objects);
criterion_main!(benches);

//! StatefulSet claim naming and per-replica claims from `volumeClaimTemplates`, checked on a
//! real StatefulSet manifest.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kybern_core::api::apps::v1::StatefulSet;
use kybern_storage::statefulset::{claim_name, claims_for_ordinal};

#[test]
fn claim_names_follow_template_set_ordinal() {
    let cases = [
        (("data", "db", 0), "data-db-0"),
        (("data", "db", 12), "data-db-12"),
        (("www", "web-app", 3), "www-web-app-3"),
    ];
    for ((template, set, ordinal), want) in cases {
        assert_eq!(claim_name(template, set, ordinal), want);
    }
}

#[test]
fn claims_for_a_replica_come_from_every_template() {
    let set: StatefulSet = serde_json::from_value(serde_json::json!({
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "selector": {"matchLabels": {"app": "nginx"}},
            "serviceName": "nginx",
            "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}
            },
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "www", "labels": {"tier": "web", "app": "template"}},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "storageClassName": "local",
                        "resources": {"requests": {"storage": "1Gi"}}
                    }
                },
                {
                    "metadata": {"name": "logs"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "100Mi"}}
                    }
                }
            ]
        }
    }))
    .unwrap();
    let claims = claims_for_ordinal(&set, 2);
    assert_eq!(
        claims.keys().collect::<Vec<_>>(),
        ["logs", "www"],
        "keyed by template name"
    );
    let www = &claims["www"];
    assert_eq!(www.metadata.name.as_deref(), Some("www-web-2"));
    assert_eq!(www.metadata.namespace.as_deref(), Some("shop"));
    // The set's matchLabels win over the template's own labels; other labels stay.
    assert_eq!(www.metadata.labels["app"], "nginx");
    assert_eq!(www.metadata.labels["tier"], "web");
    let spec = www.spec.as_ref().unwrap();
    assert_eq!(spec.storage_class_name.as_deref(), Some("local"));
    let logs = &claims["logs"];
    assert_eq!(logs.metadata.name.as_deref(), Some("logs-web-2"));
    assert_eq!(logs.metadata.labels.len(), 1);
    assert_eq!(logs.metadata.labels["app"], "nginx");
}

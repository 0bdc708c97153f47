//! The aggregation controller on the runtime harness (virtual time): aggregated ClusterRoles
//! pick up matching roles, including ones created later, and drop rules of roles deleted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use kybern_core::api::rbac::v1::ClusterRole;
use kybern_reconciler::runtime::harness::Harness;

const ROLES: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: view}
aggregationRule:
  clusterRoleSelectors:
    - matchLabels: {rbac.authorization.k8s.io/aggregate-to-view: "true"}
rules: null
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:aggregate-to-view
  labels: {rbac.authorization.k8s.io/aggregate-to-view: "true"}
rules:
  - apiGroups: [""]
    resources: [pods]
    verbs: [get, list, watch]
"#;

const NEW_ROLE: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: widgets-view
  labels: {rbac.authorization.k8s.io/aggregate-to-view: "true"}
rules:
  - apiGroups: [example.com]
    resources: [widgets]
    verbs: [get]
"#;

fn resources(h: &Harness) -> Vec<String> {
    h.reader::<ClusterRole>()
        .get_named(None, "view")
        .map(|v| v.rules.iter().flat_map(|r| r.resources.clone()).collect())
        .unwrap_or_default()
}

#[tokio::test(start_paused = true)]
async fn aggregated_roles_follow_their_selectors() {
    let h = Harness::new();
    h.apply_yaml(ROLES).await.unwrap();
    let api = h.api::<ClusterRole>();
    let informers = h.informers().clone();
    let stop = h.shutdown_signal();
    h.spawn(async move { kybern_rbac::aggregation_controller::run(api, &informers, stop).await });

    h.wait_until("view aggregates pods", Duration::from_secs(10), || {
        resources(&h) == ["pods"]
    })
    .await
    .unwrap();

    // A role created later with the label reaches `view`.
    h.apply_yaml(NEW_ROLE).await.unwrap();
    h.wait_until("view picks up widgets", Duration::from_secs(10), || {
        resources(&h) == ["pods", "widgets"]
    })
    .await
    .unwrap();

    // Deleting it takes its rules away again.
    h.api::<ClusterRole>()
        .delete("widgets-view", &Default::default())
        .await
        .unwrap();
    h.wait_until("view drops widgets", Duration::from_secs(10), || {
        resources(&h) == ["pods"]
    })
    .await
    .unwrap();
    h.shutdown().await;
}

/// The authorizer's index follows the store: a RoleBinding created after start grants, and
/// deleting it takes the grant away — no rebuild.
#[tokio::test(start_paused = true)]
async fn authorizer_index_is_watch_driven() {
    use kybern_core::api::rbac::v1::RoleBinding;
    use kybern_rbac::{Attributes, Authorizer, Decision, RbacAuthorizer, UserInfo};
    use std::sync::{Arc, RwLock};

    let h = Harness::new();
    h.apply_yaml(
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: dev}
rules:
  - apiGroups: [""]
    resources: [pods]
    verbs: [get, list]
"#,
    )
    .await
    .unwrap();
    let authz = Arc::new(RwLock::new(RbacAuthorizer::default()));
    kybern_rbac::aggregation_controller::feed_authorizer(
        authz.clone(),
        h.store(),
        h.informers(),
        h.shutdown_signal(),
    )
    .await;
    let john = UserInfo {
        name: "john".into(),
        ..UserInfo::default()
    };
    let allowed = |authz: &Arc<RwLock<RbacAuthorizer>>| {
        let a = authz.read().unwrap();
        let attrs = Attributes::resource(&john, "get", "", "pods").in_namespace("dev");
        a.authorize(&attrs).decision == Decision::Allow
    };
    assert!(!allowed(&authz));
    h.apply_yaml(
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read-pods, namespace: dev}
subjects: [{kind: User, name: john, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: Role, name: pod-reader, apiGroup: rbac.authorization.k8s.io}
"#,
    )
    .await
    .unwrap();
    h.wait_until("john may get pods", Duration::from_secs(10), || {
        allowed(&authz)
    })
    .await
    .unwrap();
    h.api_in::<RoleBinding>("dev")
        .delete("read-pods", &Default::default())
        .await
        .unwrap();
    h.wait_until("john may not get pods", Duration::from_secs(10), || {
        !allowed(&authz)
    })
    .await
    .unwrap();
    h.shutdown().await;
}

//! Proves that an allowed decision allocates nothing (and neither does a plain denial), with a
//! counting global allocator. One test only, so no other test allocates concurrently.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::alloc::System;

use kybern_core::api::meta::v1::ObjectMeta;
use kybern_core::api::rbac::v1::{Role, RoleBinding, RoleRef, Subject};
use kybern_rbac::{Attributes, Authorizer, PolicyRuleBuilder, UserInfo, bootstrap};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The statistics of the quietest of three counted runs of `pass`: the counting allocator is
/// process-wide and the harness's own threads can allocate meanwhile (seen in a sibling test
/// under CI load); code that allocates does so in every run.
fn quietest_of_three(mut pass: impl FnMut()) -> stats_alloc::Stats {
    (0..3)
        .map(|_| {
            let region = Region::new(GLOBAL);
            pass();
            region.change()
        })
        .min_by_key(|s| (s.allocations, s.reallocations))
        .unwrap_or_default()
}

#[test]
fn decisions_allocate_nothing() {
    let mut policy = bootstrap::policy();
    policy.roles.push(Role {
        metadata: ObjectMeta {
            name: Some("pod-reader".into()),
            namespace: Some("dev".into()),
            ..Default::default()
        },
        rules: vec![
            PolicyRuleBuilder::new(["get", "list"])
                .groups([""])
                .resources(["pods"])
                .rule()
                .unwrap(),
        ],
    });
    policy.role_bindings.push(RoleBinding {
        metadata: ObjectMeta {
            name: Some("john".into()),
            namespace: Some("dev".into()),
            ..Default::default()
        },
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "Role".into(),
            name: "pod-reader".into(),
        },
        subjects: vec![Subject {
            kind: "User".into(),
            name: "john".into(),
            ..Default::default()
        }],
    });
    let authz = policy.authorizer();
    let john = UserInfo::new("john", ["system:authenticated"]);
    let root = UserInfo::new("root", ["system:masters", "system:authenticated"]);
    let sa = UserInfo::service_account("kube-system", "deployment-controller");
    let allowed = [
        Attributes::resource(&john, "get", "", "pods").in_namespace("dev"),
        Attributes::resource(&john, "list", "", "pods").in_namespace("dev"),
        Attributes::non_resource(&john, "get", "/healthz"),
        Attributes::resource(&root, "delete", "", "nodes").named("n1"),
        Attributes::resource(&sa, "create", "apps", "replicasets").in_namespace("dev"),
    ];
    let denied = [
        Attributes::resource(&john, "get", "", "secrets").in_namespace("dev"),
        Attributes::resource(&john, "get", "", "pods").in_namespace("prod"),
    ];
    // Warm up (lazy statics, first-use paths).
    for a in allowed.iter().chain(&denied) {
        let _ = authz.authorize(a);
    }

    let mut allows = 0;
    let stats = quietest_of_three(|| {
        for _ in 0..1000 {
            for a in &allowed {
                allows += usize::from(std::hint::black_box(authz.authorize(a)).is_allowed());
            }
        }
    });
    assert_eq!(
        allows,
        3 * 1000 * allowed.len(),
        "every request above is allowed"
    );
    assert_eq!(
        (stats.allocations, stats.reallocations),
        (0, 0),
        "allow path allocated: {stats:?}"
    );

    let mut denies = 0;
    let stats = quietest_of_three(|| {
        for _ in 0..1000 {
            for a in &denied {
                denies += usize::from(!std::hint::black_box(authz.authorize(a)).is_allowed());
            }
        }
    });
    assert_eq!(denies, 3 * 1000 * denied.len());
    assert_eq!(
        (stats.allocations, stats.reallocations),
        (0, 0),
        "deny path allocated: {stats:?}"
    );

    // Rendering the reason is where the text is built (and allocates).
    let region = Region::new(GLOBAL);
    let text = authz.authorize(&allowed[0]).reason.to_string();
    assert!(region.change().allocations > 0);
    assert_eq!(
        text,
        r#"RBAC: allowed by RoleBinding "john/dev" of Role "pod-reader" to User "john""#
    );
}

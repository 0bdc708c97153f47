//! Scenarios on the embedded bootstrap policy: default roles, aggregation, namespaced admin,
//! escalation refusals, `system:masters`, incremental updates and `can-i --list`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kybern_core::api::meta::v1::ObjectMeta;
use kybern_core::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};
use kybern_rbac::escalation::{BindingWrite, RoleWrite, check_binding_write, check_role_write};
use kybern_rbac::{
    Attributes, Authorizer, Decision, Policy, PolicyRuleBuilder, RbacAuthorizer, RbacEvent,
    RbacObject, UserInfo, bootstrap, can_i_list, rules_review,
};

const SHARED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/manifests/rbac-bootstrap"
);

fn meta(namespace: Option<&str>, name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: namespace.map(Into::into),
        ..Default::default()
    }
}

fn role_ref(kind: &str, name: &str) -> RoleRef {
    RoleRef {
        api_group: "rbac.authorization.k8s.io".into(),
        kind: kind.into(),
        name: name.into(),
    }
}

fn user_subject(name: &str) -> Subject {
    Subject {
        kind: "User".into(),
        name: name.into(),
        api_group: Some("rbac.authorization.k8s.io".into()),
        namespace: None,
    }
}

fn rule(verbs: &[&str], groups: &[&str], resources: &[&str]) -> PolicyRule {
    PolicyRuleBuilder::new(verbs.iter().copied())
        .groups(groups.iter().copied())
        .resources(resources.iter().copied())
        .rule()
        .unwrap()
}

fn crb(name: &str, role: &str, user: &str) -> ClusterRoleBinding {
    ClusterRoleBinding {
        metadata: meta(None, name),
        role_ref: role_ref("ClusterRole", role),
        subjects: vec![user_subject(user)],
    }
}

fn rb(ns: &str, name: &str, kind: &str, role: &str, user: &str) -> RoleBinding {
    RoleBinding {
        metadata: meta(Some(ns), name),
        role_ref: role_ref(kind, role),
        subjects: vec![user_subject(user)],
    }
}

/// One request and the expected decision.
struct Case {
    user: &'static str,
    groups: &'static [&'static str],
    verb: &'static str,
    group: &'static str,
    resource: &'static str,
    namespace: &'static str,
    allowed: bool,
}

const fn case(
    user: &'static str,
    verb: &'static str,
    group: &'static str,
    resource: &'static str,
    namespace: &'static str,
    allowed: bool,
) -> Case {
    Case {
        user,
        groups: &["system:authenticated"],
        verb,
        group,
        resource,
        namespace,
        allowed,
    }
}

fn check(authz: &RbacAuthorizer, cases: &[Case]) {
    for c in cases {
        let user = UserInfo::new(c.user, c.groups.iter().copied());
        let attrs =
            Attributes::resource(&user, c.verb, c.group, c.resource).in_namespace(c.namespace);
        let verdict = authz.authorize(&attrs);
        assert_eq!(
            verdict.is_allowed(),
            c.allowed,
            "{} {} {}.{} in {:?}: reason {:?}",
            c.user,
            c.verb,
            c.resource,
            c.group,
            c.namespace,
            verdict.reason.to_string()
        );
        assert_ne!(verdict.decision, Decision::Deny, "RBAC never denies");
    }
}

fn bootstrap_with(extra: Policy) -> RbacAuthorizer {
    let mut policy = bootstrap::policy();
    policy.extend(extra);
    policy.authorizer()
}

#[test]
fn embedded_files_are_byte_exact_copies() {
    for (name, text) in bootstrap::FILES {
        let path = format!("{SHARED}/{name}");
        let shared =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("missing {path}: {e}"));
        assert_eq!(shared, text, "{name} differs from the shared copy");
    }
    let raw = bootstrap::try_policy_unaggregated().unwrap();
    assert_eq!(
        (
            raw.cluster_roles.len(),
            raw.cluster_role_bindings.len(),
            raw.roles.len(),
            raw.role_bindings.len()
        ),
        (69, 48, 7, 7)
    );
    // Aggregated roles start with `rules: null` and get them from the aggregate-to-* roles.
    assert!(raw.cluster_role("view").unwrap().rules.is_empty());
    let policy = bootstrap::policy();
    for name in ["admin", "edit", "view"] {
        assert!(
            !policy.cluster_role(name).unwrap().rules.is_empty(),
            "{name} not aggregated"
        );
    }
    assert!(
        policy.cluster_role("admin").unwrap().rules.len()
            > policy.cluster_role("edit").unwrap().rules.len()
    );
}

#[test]
fn default_roles_view_edit_admin() {
    let mut extra = Policy::default();
    extra
        .cluster_role_bindings
        .push(crb("viewer", "view", "vera"));
    extra
        .cluster_role_bindings
        .push(crb("editor", "edit", "ed"));
    extra
        .role_bindings
        .push(rb("team-a", "team-a-admin", "ClusterRole", "admin", "ada"));
    let authz = bootstrap_with(extra);
    check(
        &authz,
        &[
            case("vera", "get", "", "pods", "dev", true),
            case("vera", "list", "apps", "deployments", "dev", true),
            case("vera", "get", "", "secrets", "dev", false),
            case("vera", "list", "", "secrets", "", false),
            case("vera", "create", "", "pods", "dev", false),
            case("ed", "create", "apps", "deployments", "dev", true),
            case("ed", "get", "", "secrets", "dev", true),
            case(
                "ed",
                "create",
                "rbac.authorization.k8s.io",
                "roles",
                "dev",
                false,
            ),
            case(
                "ed",
                "create",
                "rbac.authorization.k8s.io",
                "rolebindings",
                "dev",
                false,
            ),
            case(
                "ada",
                "create",
                "rbac.authorization.k8s.io",
                "roles",
                "team-a",
                true,
            ),
            case("ada", "delete", "apps", "deployments", "team-a", true),
            case(
                "ada",
                "create",
                "rbac.authorization.k8s.io",
                "roles",
                "team-b",
                false,
            ),
            case("ada", "get", "", "pods", "team-b", false),
            case("ada", "list", "", "nodes", "", false),
            case("ada", "list", "", "pods", "", false),
            // Every authenticated user may ask what it may do (system:basic-user).
            case(
                "nobody",
                "create",
                "authorization.k8s.io",
                "selfsubjectaccessreviews",
                "",
                true,
            ),
            case("nobody", "get", "", "pods", "dev", false),
        ],
    );
    let ada = UserInfo::new("ada", ["system:authenticated"]);
    let v = authz.authorize(
        &Attributes::resource(&ada, "create", "rbac.authorization.k8s.io", "roles")
            .in_namespace("team-a"),
    );
    assert_eq!(
        v.reason.to_string(),
        r#"RBAC: allowed by RoleBinding "team-a-admin/team-a" of ClusterRole "admin" to User "ada""#
    );
}

#[test]
fn system_masters_get_everything_through_cluster_admin() {
    let authz = bootstrap::policy().authorizer();
    let root = UserInfo::new("root", ["system:masters", "system:authenticated"]);
    let requests = [
        Attributes::resource(&root, "delete", "", "nodes"),
        Attributes::resource(
            &root,
            "escalate",
            "rbac.authorization.k8s.io",
            "clusterroles",
        ),
        Attributes::resource(&root, "get", "", "secrets")
            .in_namespace("kube-system")
            .named("x"),
        Attributes::non_resource(&root, "get", "/metrics"),
    ];
    for attrs in requests {
        let v = authz.authorize(&attrs);
        assert_eq!(
            v.reason.to_string(),
            r#"RBAC: allowed by ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" to Group "system:masters""#,
            "{attrs:?}"
        );
    }
}

#[test]
fn aggregation_picks_up_new_cluster_roles() {
    let mut policy = bootstrap::try_policy_unaggregated().unwrap();
    let mut crontab_view = ClusterRole {
        metadata: meta(None, "crontabs-view"),
        aggregation_rule: None,
        rules: vec![rule(
            &["get", "list", "watch"],
            &["stable.example.com"],
            &["crontabs"],
        )],
    };
    crontab_view.metadata.labels.insert(
        "rbac.authorization.k8s.io/aggregate-to-view".into(),
        "true".into(),
    );
    policy.cluster_roles.push(crontab_view);
    policy.aggregate();
    policy
        .cluster_role_bindings
        .push(crb("viewer", "view", "vera"));
    policy
        .cluster_role_bindings
        .push(crb("admins", "admin", "ada"));
    let want = rule(
        &["get", "list", "watch"],
        &["stable.example.com"],
        &["crontabs"],
    );
    for name in ["view", "edit", "admin"] {
        assert!(
            policy.cluster_role(name).unwrap().rules.contains(&want),
            "{name} lacks the crontab rule"
        );
    }
    check(
        &policy.authorizer(),
        &[
            case(
                "vera",
                "list",
                "stable.example.com",
                "crontabs",
                "dev",
                true,
            ),
            case(
                "vera",
                "delete",
                "stable.example.com",
                "crontabs",
                "dev",
                false,
            ),
            case(
                "ada",
                "watch",
                "stable.example.com",
                "crontabs",
                "dev",
                true,
            ),
        ],
    );
    // Deterministic: a second pass changes nothing.
    let before = policy.cluster_roles.clone();
    policy.aggregate();
    assert_eq!(before, policy.cluster_roles);
}

#[test]
fn escalation_is_refused_with_upstreams_message() {
    let mut extra = Policy::default();
    extra
        .role_bindings
        .push(rb("dev", "jane-view", "ClusterRole", "view", "jane"));
    extra
        .role_bindings
        .push(rb("dev", "ed-edit", "ClusterRole", "edit", "ed"));
    extra.cluster_roles.push(ClusterRole {
        metadata: meta(None, "role-escalator"),
        aggregation_rule: None,
        rules: vec![rule(
            &["escalate", "bind"],
            &["rbac.authorization.k8s.io"],
            &["roles", "clusterroles"],
        )],
    });
    extra
        .role_bindings
        .push(rb("dev", "esc", "ClusterRole", "role-escalator", "esc"));
    let authz = bootstrap_with(extra);
    let jane = UserInfo::new("jane", ["system:authenticated"]);
    let ed = UserInfo::new("ed", ["system:authenticated"]);
    let esc = UserInfo::new("esc", ["system:authenticated"]);
    let root = UserInfo::new("root", ["system:masters"]);

    let secret_reader = [rule(&["get", "list"], &[""], &["secrets"])];
    let pod_reader = [rule(&["get", "list"], &[""], &["pods"])];
    fn role(rules: &[PolicyRule]) -> RoleWrite<'_> {
        RoleWrite::Role {
            namespace: "dev",
            name: "secret-reader",
            rules,
        }
    }
    let secret = &secret_reader[..];
    let pods = &pod_reader[..];

    let refused = check_role_write(&authz, &authz, &jane, role(secret)).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "roles.rbac.authorization.k8s.io \"secret-reader\" is forbidden: user \"jane\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\" \"list\"]}"
    );
    // What jane holds she may grant; what she lacks, `escalate` or system:masters allow.
    assert!(check_role_write(&authz, &authz, &jane, role(pods)).is_ok());
    assert!(check_role_write(&authz, &authz, &ed, role(secret)).is_ok());
    assert!(check_role_write(&authz, &authz, &esc, role(secret)).is_ok());
    assert!(check_role_write(&authz, &authz, &root, role(secret)).is_ok());
    // Outside dev, ed holds nothing.
    let other = RoleWrite::Role {
        namespace: "prod",
        name: "secret-reader",
        rules: secret,
    };
    assert!(check_role_write(&authz, &authz, &ed, other).is_err());
    // An aggregationRule needs everything.
    let aggregated = RoleWrite::ClusterRole {
        name: "agg",
        rules: &[],
        has_aggregation_rule: true,
    };
    assert_eq!(
        check_role_write(&authz, &authz, &ed, aggregated)
            .unwrap_err()
            .to_string(),
        "clusterroles.rbac.authorization.k8s.io \"agg\" is forbidden: must have cluster-admin privileges to use the aggregationRule"
    );

    // Bindings: binding `admin` needs admin's permissions or `bind`.
    let admin_ref = role_ref("ClusterRole", "admin");
    let bind = |user: &UserInfo| {
        check_binding_write(
            &authz,
            &authz,
            user,
            BindingWrite::RoleBinding {
                namespace: "dev",
                name: "make-admin",
                role_ref: &admin_ref,
            },
        )
    };
    let all = r#"["create" "delete" "deletecollection" "get" "list" "patch" "update" "watch"]"#;
    assert_eq!(
        bind(&ed).unwrap_err().to_string(),
        format!(
            "rolebindings.rbac.authorization.k8s.io \"make-admin\" is forbidden: user \"ed\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n\
             {{APIGroups:[\"authorization.k8s.io\"], Resources:[\"localsubjectaccessreviews\"], Verbs:[\"create\"]}}\n\
             {{APIGroups:[\"rbac.authorization.k8s.io\"], Resources:[\"rolebindings\"], Verbs:{all}}}\n\
             {{APIGroups:[\"rbac.authorization.k8s.io\"], Resources:[\"roles\"], Verbs:{all}}}"
        )
    );
    assert!(bind(&esc).is_ok(), "bind permission");
    assert!(bind(&root).is_ok());
    let view_ref = role_ref("ClusterRole", "view");
    assert!(
        check_binding_write(
            &authz,
            &authz,
            &jane,
            BindingWrite::RoleBinding {
                namespace: "dev",
                name: "v",
                role_ref: &view_ref
            }
        )
        .is_ok()
    );
    let missing = role_ref("ClusterRole", "no-such-role");
    assert_eq!(
        check_binding_write(
            &authz,
            &authz,
            &jane,
            BindingWrite::ClusterRoleBinding {
                name: "x",
                role_ref: &missing
            }
        )
        .unwrap_err()
        .to_string(),
        "clusterrole.rbac.authorization.k8s.io \"no-such-role\" not found"
    );
}

#[test]
fn bindings_to_missing_roles_grant_nothing_and_say_why() {
    let authz = bootstrap::policy().authorizer();
    let sa = UserInfo::service_account("kube-system", "podcheckpoint-controller");
    let v =
        authz.authorize(&Attributes::resource(&sa, "get", "", "pods").in_namespace("kube-system"));
    assert_eq!(v.decision, Decision::NoOpinion);
    assert_eq!(
        v.reason.to_string(),
        r#"RBAC: clusterrole.rbac.authorization.k8s.io "system:controller:podcheckpoint-controller" not found"#
    );
    // A controller whose role exists works through its ServiceAccount subject.
    let deployer = UserInfo::service_account("kube-system", "deployment-controller");
    let v = authz.authorize(
        &Attributes::resource(&deployer, "create", "apps", "replicasets").in_namespace("dev"),
    );
    assert_eq!(
        v.reason.to_string(),
        r#"RBAC: allowed by ClusterRoleBinding "system:controller:deployment-controller" of ClusterRole "system:controller:deployment-controller" to ServiceAccount "deployment-controller/kube-system""#
    );
}

#[test]
fn incremental_updates_match_a_rebuild() {
    let mut authz = bootstrap::policy().authorizer();
    let john = UserInfo::new("john", ["system:authenticated"]);
    let get = Attributes::resource(&john, "get", "", "pods").in_namespace("dev");
    assert!(!authz.authorize(&get).is_allowed());
    let binding = rb("dev", "john-read", "Role", "pod-reader", "john");
    authz.apply(RbacEvent::Applied(RbacObject::RoleBinding(binding.clone())));
    assert!(!authz.authorize(&get).is_allowed(), "role missing yet");
    let role = Role {
        metadata: meta(Some("dev"), "pod-reader"),
        rules: vec![rule(&["get"], &[""], &["pods"])],
    };
    authz.apply(RbacEvent::Applied(RbacObject::Role(role.clone())));
    assert!(authz.authorize(&get).is_allowed());
    // Modifying the binding to another user revokes john.
    let mut moved = binding.clone();
    moved.subjects = vec![user_subject("jane")];
    authz.upsert_role_binding(&moved);
    assert!(!authz.authorize(&get).is_allowed());
    authz.upsert_role_binding(&binding);
    assert!(authz.authorize(&get).is_allowed());
    authz.apply(RbacEvent::Deleted(RbacObject::Role(role)));
    assert!(!authz.authorize(&get).is_allowed());
    assert_eq!(
        authz.binding_count(),
        bootstrap::policy().authorizer().binding_count() + 1
    );
    authz.remove_role_binding("dev", "john-read");
    assert_eq!(
        authz.binding_count(),
        bootstrap::policy().authorizer().binding_count()
    );
}

#[test]
fn can_i_list_prints_like_kubectl() {
    let mut policy = Policy::default();
    policy.roles.push(Role {
        metadata: meta(Some("dev"), "pod-read-only-role"),
        rules: vec![rule(&["get", "list"], &[""], &["pods"])],
    });
    policy.role_bindings.push(rb(
        "dev",
        "john-reads-pods",
        "Role",
        "pod-read-only-role",
        "john",
    ));
    let authz = policy.authorizer();
    let john = UserInfo::new("john", ["system:authenticated"]);
    assert_eq!(
        can_i_list(&rules_review(&authz, &john, "dev"), false),
        "Resources   Non-Resource URLs   Resource Names   Verbs\n\
         pods        []                  []               [get list]\n"
    );
    assert_eq!(
        can_i_list(&rules_review(&authz, &john, "prod"), false),
        "Resources   Non-Resource URLs   Resource Names   Verbs\n"
    );

    // With the bootstrap policy: basic-user and discovery rules join, sorted as kubectl does.
    let mut full = bootstrap::policy();
    full.extend(policy);
    let table = can_i_list(&rules_review(&full.authorizer(), &john, "dev"), true);
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("selfsubjectreviews.authentication.k8s.io "),
        "{table}"
    );
    assert!(
        lines[1].starts_with("selfsubjectaccessreviews.authorization.k8s.io "),
        "{table}"
    );
    assert!(
        lines[2].starts_with("selfsubjectrulesreviews.authorization.k8s.io "),
        "{table}"
    );
    assert!(
        lines[3].starts_with("pods ") && lines[3].ends_with("[get list]"),
        "{table}"
    );
    assert!(
        lines[4..].iter().all(|l| l.trim_start().starts_with('[')),
        "{table}"
    );
    assert!(table.contains("[/healthz]"), "{table}");
}

#[test]
fn explain_lists_every_grant() {
    let mut extra = Policy::default();
    extra
        .role_bindings
        .push(rb("dev", "ed-edit", "ClusterRole", "edit", "ed"));
    let authz = bootstrap_with(extra);
    let ed = UserInfo::new("ed", ["system:authenticated"]);
    let grants: Vec<String> = authz
        .explain(&ed, "dev")
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        grants,
        [
            r#"ClusterRoleBinding "system:basic-user" of ClusterRole "system:basic-user" to Group "system:authenticated""#,
            r#"ClusterRoleBinding "system:discovery" of ClusterRole "system:discovery" to Group "system:authenticated""#,
            r#"ClusterRoleBinding "system:public-info-viewer" of ClusterRole "system:public-info-viewer" to Group "system:authenticated""#,
            r#"RoleBinding "ed-edit/dev" of ClusterRole "edit" to User "ed""#,
        ]
    );
    let matches = authz.explain_request(
        &Attributes::resource(&ed, "create", "apps", "deployments").in_namespace("dev"),
    );
    assert_eq!(matches.len(), 1);
    assert!(matches[0].1.resources.contains(&"deployments".to_owned()));
}

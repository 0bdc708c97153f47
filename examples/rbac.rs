//! RBAC walk-through: a user bound to a read-only Role, what it may and may not do, what
//! `kubectl auth can-i --list` would print, and an escalation attempt the API server refuses.
//!
//! Run with `cargo run --example rbac` (the facade's `rbac` feature is on by default).

use kybern::rbac::escalation::{RoleWrite, check_role_write};
use kybern::rbac::{
    Attributes, Authorizer, Policy, UserInfo, bootstrap, can_i_list, forbidden_message,
    rules_review,
};

const MANIFEST: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  namespace: dev
  name: pod-read-only-role
rules:
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  namespace: dev
  name: john-reads-pods
subjects:
- kind: User
  name: john
  apiGroup: rbac.authorization.k8s.io
roleRef:
  kind: Role
  name: pod-read-only-role
  apiGroup: rbac.authorization.k8s.io
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. The policy: the defaults every cluster starts with, plus our Role and RoleBinding.
    //    RBAC only ever *adds* permissions; there are no "deny" rules.
    let mut policy = bootstrap::policy();
    println!(
        "The bootstrap policy has {} ClusterRoles and {} ClusterRoleBindings.",
        policy.cluster_roles.len(),
        policy.cluster_role_bindings.len()
    );
    policy.extend(Policy::from_yaml("john.yaml", MANIFEST)?);
    let rbac = policy.authorizer();

    // 2. Ask questions. Every logged-in user is in the group `system:authenticated`.
    let john = UserInfo::new("john", ["system:authenticated"]);
    let questions = [
        Attributes::resource(&john, "get", "", "pods")
            .in_namespace("dev")
            .named("web-1"),
        Attributes::resource(&john, "list", "", "pods").in_namespace("dev"),
        Attributes::resource(&john, "delete", "", "pods")
            .in_namespace("dev")
            .named("web-1"),
        Attributes::resource(&john, "get", "", "pods").in_namespace("prod"),
        Attributes::resource(&john, "get", "", "secrets").in_namespace("dev"),
        Attributes::resource(&john, "get", "", "pods")
            .in_namespace("dev")
            .with_subresource("log"),
    ];
    println!("\nCan john ...?");
    for q in &questions {
        let verdict = rbac.authorize(q);
        let what = format!(
            "{} {}{}{} in {}",
            q.verb,
            q.resource,
            if q.subresource.is_empty() { "" } else { "/" },
            q.subresource,
            q.namespace
        );
        if verdict.is_allowed() {
            // The reason names the binding and role that granted it.
            println!("  yes  {what:<22} {}", verdict.reason);
        } else {
            // Nothing matched: RBAC has no opinion, and the API server answers 403 with this text.
            println!("  no   {what:<22} {}", forbidden_message(q));
        }
    }
    println!("  (pods/log is a subresource: a rule on `pods` does not cover it.)");

    // 3. `kubectl auth can-i --list --namespace dev` as john: the discovery and self-review
    //    rules come from the bootstrap policy, the pods line from our Role.
    println!("\n$ kubectl auth can-i --list --namespace dev   # as john");
    print!("{}", can_i_list(&rules_review(&rbac, &john, "dev"), false));

    // 4. Escalation: john tries to create a Role that can read secrets. He cannot grant what he
    //    does not hold himself (unless he is allowed the `escalate` verb on roles).
    let secret_reader = [kybern::rbac::PolicyRuleBuilder::new(["get"])
        .groups([""])
        .resources(["secrets"])
        .rule()?];
    let attempt = RoleWrite::Role {
        namespace: "dev",
        name: "secret-reader",
        rules: &secret_reader,
    };
    println!("\njohn creates Role dev/secret-reader (get secrets):");
    match check_role_write(&rbac, &rbac, &john, attempt) {
        Ok(()) => println!("  allowed"),
        Err(refused) => println!("  refused: {refused}"),
    }
    // A role that only repeats what he holds is fine.
    let pod_reader = [kybern::rbac::PolicyRuleBuilder::new(["get"])
        .groups([""])
        .resources(["pods"])
        .rule()?];
    let ok = check_role_write(
        &rbac,
        &rbac,
        &john,
        RoleWrite::Role {
            namespace: "dev",
            name: "pod-getter",
            rules: &pod_reader,
        },
    );
    println!(
        "john creates Role dev/pod-getter (get pods): {}",
        if ok.is_ok() { "allowed" } else { "refused" }
    );
    Ok(())
}

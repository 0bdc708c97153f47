//! The default RBAC policy an API server creates at startup: every default ClusterRole,
//! ClusterRoleBinding, Role and RoleBinding upstream ships.
//!
//! The data is embedded: byte-exact copies (Apache-2.0, "The Kubernetes Authors") of
//! kubernetes/kubernetes `plugin/pkg/auth/authorizer/rbac/bootstrappolicy/testdata/*.yaml`,
//! committed under `rbac/bootstrap/` (taken from the project's `shared/manifests/rbac-bootstrap/`,
//! whose README and `SOURCES.tsv` name each file's upstream commit). The six files come from
//! slightly different upstream commits (around Kubernetes 1.33); known consequences:
//! `system:controller:podcheckpoint-controller` is bound but not defined (the binding grants
//! nothing, as upstream), `system:controller:device-taint-eviction-controller` is defined but
//! not bound, and `cluster-role-bindings.yaml` lacks a few bindings later versions add (such as
//! `system:service-account-issuer-discovery`).

use std::sync::OnceLock;

use crate::policy::{Policy, PolicyError};

/// The embedded files: (file name, contents).
pub const FILES: [(&str, &str); 6] = [
    (
        "cluster-roles.yaml",
        include_str!("../bootstrap/cluster-roles.yaml"),
    ),
    (
        "cluster-role-bindings.yaml",
        include_str!("../bootstrap/cluster-role-bindings.yaml"),
    ),
    (
        "controller-roles.yaml",
        include_str!("../bootstrap/controller-roles.yaml"),
    ),
    (
        "controller-role-bindings.yaml",
        include_str!("../bootstrap/controller-role-bindings.yaml"),
    ),
    (
        "namespace-roles.yaml",
        include_str!("../bootstrap/namespace-roles.yaml"),
    ),
    (
        "namespace-role-bindings.yaml",
        include_str!("../bootstrap/namespace-role-bindings.yaml"),
    ),
];

/// Parses the embedded files, without aggregation.
///
/// # Errors
/// Only if the embedded data were corrupt (a test checks it is not).
pub fn try_policy_unaggregated() -> Result<Policy, PolicyError> {
    let mut policy = Policy::default();
    for (name, text) in FILES {
        policy.extend(Policy::from_yaml(name, text)?);
    }
    Ok(policy)
}

/// The bootstrap policy with aggregation applied (`admin`, `edit` and `view` filled from the
/// `aggregate-to-*` roles). Parsed once, then cloned.
pub fn policy() -> Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY
        .get_or_init(|| match try_policy_unaggregated() {
            Ok(mut p) => {
                p.aggregate();
                p
            }
            // The embedded data is fixed and parsed by this crate's tests; an empty policy
            // here would mean a broken build, which those tests catch.
            Err(_) => Policy::default(),
        })
        .clone()
}

//! Defaults of the `rbac.authorization.k8s.io/v1` bindings: role reference and subject groups.
//!
//! Upstream: `pkg/apis/rbac/v1/defaults.go`. Role and ClusterRole have none (see `noop.rs`).

use crate::api::rbac::v1::{ClusterRoleBinding, RoleBinding, RoleRef, Subject};

use super::{SetDefaults, default_required_str};

/// The RBAC API group.
const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

impl SetDefaults for RoleBinding {
    fn set_defaults(&mut self) {
        role_ref(&mut self.role_ref);
        self.subjects.iter_mut().for_each(subject);
    }
}

impl SetDefaults for ClusterRoleBinding {
    fn set_defaults(&mut self) {
        role_ref(&mut self.role_ref);
        self.subjects.iter_mut().for_each(subject);
    }
}

fn role_ref(r: &mut RoleRef) {
    default_required_str(&mut r.api_group, RBAC_GROUP);
}

/// `User` and `Group` subjects live in the RBAC group; service accounts in the core group.
fn subject(s: &mut Subject) {
    if s.api_group.as_deref().is_none_or(str::is_empty) {
        match s.kind.as_str() {
            "ServiceAccount" => s.api_group = Some(String::new()),
            "User" | "Group" => s.api_group = Some(RBAC_GROUP.to_owned()),
            _ => {}
        }
    }
}

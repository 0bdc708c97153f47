//! RBAC kinds with upstream's messages: `Role`, `ClusterRole` (policy rules, aggregation),
//! `RoleBinding` and `ClusterRoleBinding` (role references and subjects).

use super::Validate;
use super::field::{ErrorList, FieldError, FieldPath};
use super::meta::validate_resource_meta;
use super::names::{is_dns1123_subdomain, name_is_path_segment};
use super::selector::validate_label_selector;
use crate::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};

/// The RBAC API group.
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// Upstream's `ValidatePolicyRule`: verbs required; non-resource URLs only cluster-wide and not
/// mixed with resources; resource rules need API groups and resources.
pub fn validate_policy_rule(rule: &PolicyRule, namespaced: bool, path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    if rule.verbs.is_empty() {
        errs.push(FieldError::required(
            &path.child("verbs"),
            "verbs must contain at least one value",
        ));
    }
    if !rule.non_resource_urls.is_empty() {
        let np = path.child("nonResourceURLs");
        if namespaced {
            errs.push(FieldError::invalid(
                &np,
                rule.non_resource_urls.clone(),
                "namespaced rules cannot apply to non-resource URLs",
            ));
        }
        if !rule.api_groups.is_empty()
            || !rule.resources.is_empty()
            || !rule.resource_names.is_empty()
        {
            errs.push(FieldError::invalid(
                &np,
                rule.non_resource_urls.clone(),
                "rules cannot apply to both regular resources and non-resource URLs",
            ));
        }
        return errs;
    }
    if rule.api_groups.is_empty() {
        errs.push(FieldError::required(
            &path.child("apiGroups"),
            "resource rules must supply at least one api group",
        ));
    }
    if rule.resources.is_empty() {
        errs.push(FieldError::required(
            &path.child("resources"),
            "resource rules must supply at least one resource",
        ));
    }
    errs
}

fn validate_rules(rules: &[PolicyRule], namespaced: bool) -> ErrorList {
    let rp = FieldPath::new("rules");
    rules
        .iter()
        .enumerate()
        .flat_map(|(i, r)| validate_policy_rule(r, namespaced, &rp.index(i)))
        .collect()
}

impl Validate for Role {
    /// Metadata (path-segment name, namespaced) and every rule (namespaced).
    fn validate(&self) -> ErrorList {
        let mut errs = validate_resource_meta(self, name_is_path_segment);
        errs.extend(validate_rules(&self.rules, true));
        errs
    }
}

impl Validate for ClusterRole {
    /// Metadata (path-segment name, cluster-scoped), every rule, and an aggregation rule with
    /// at least one valid selector.
    fn validate(&self) -> ErrorList {
        let mut errs = validate_resource_meta(self, name_is_path_segment);
        errs.extend(validate_rules(&self.rules, false));
        if let Some(agg) = &self.aggregation_rule {
            let sp = FieldPath::new("aggregationRule").child("clusterRoleSelectors");
            if agg.cluster_role_selectors.is_empty() {
                errs.push(FieldError::required(
                    &sp,
                    "at least one clusterRoleSelector required if aggregationRule is non-nil",
                ));
            }
            for (i, s) in agg.cluster_role_selectors.iter().enumerate() {
                errs.extend(validate_label_selector(s, &sp.index(i)));
            }
        }
        errs
    }
}

fn validate_role_ref(r: &RoleRef, kinds: &[&str]) -> ErrorList {
    let mut errs = ErrorList::new();
    let rp = FieldPath::new("roleRef");
    if r.api_group != RBAC_GROUP {
        errs.push(FieldError::not_supported(
            &rp.child("apiGroup"),
            r.api_group.as_str(),
            &[RBAC_GROUP],
        ));
    }
    if !kinds.contains(&r.kind.as_str()) {
        errs.push(FieldError::not_supported(
            &rp.child("kind"),
            r.kind.as_str(),
            kinds,
        ));
    }
    if r.name.is_empty() {
        errs.push(FieldError::required(&rp.child("name"), ""));
    } else {
        for m in name_is_path_segment(&r.name, false) {
            errs.push(FieldError::invalid(&rp.child("name"), r.name.as_str(), m));
        }
    }
    errs
}

/// Upstream's `ValidateRoleBindingSubject`: name required; `ServiceAccount` (valid name, core
/// group, a namespace in cluster bindings), `User` or `Group` (RBAC group, the default).
pub fn validate_subject(s: &Subject, namespaced: bool, path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    if s.name.is_empty() {
        errs.push(FieldError::required(&path.child("name"), ""));
    }
    let group = s.api_group.as_deref();
    match s.kind.as_str() {
        "ServiceAccount" => {
            if !s.name.is_empty() {
                for m in is_dns1123_subdomain(&s.name) {
                    errs.push(FieldError::invalid(&path.child("name"), s.name.as_str(), m));
                }
            }
            if let Some(g) = group.filter(|g| !g.is_empty()) {
                errs.push(FieldError::not_supported(&path.child("apiGroup"), g, &[""]));
            }
            if !namespaced && s.namespace.as_deref().unwrap_or("").is_empty() {
                errs.push(FieldError::required(&path.child("namespace"), ""));
            }
        }
        "User" | "Group" => {
            if let Some(g) = group.filter(|g| *g != RBAC_GROUP) {
                errs.push(FieldError::not_supported(
                    &path.child("apiGroup"),
                    g,
                    &[RBAC_GROUP],
                ));
            }
        }
        other => errs.push(FieldError::not_supported(
            &path.child("kind"),
            other,
            &["ServiceAccount", "User", "Group"],
        )),
    }
    errs
}

impl Validate for RoleBinding {
    /// Metadata; `roleRef` (RBAC group, kind `Role` or `ClusterRole`, a name); subjects.
    fn validate(&self) -> ErrorList {
        let mut errs = validate_resource_meta(self, name_is_path_segment);
        errs.extend(validate_role_ref(&self.role_ref, &["Role", "ClusterRole"]));
        let sp = FieldPath::new("subjects");
        for (i, s) in self.subjects.iter().enumerate() {
            errs.extend(validate_subject(s, true, &sp.index(i)));
        }
        errs
    }
}

impl Validate for ClusterRoleBinding {
    /// Metadata; `roleRef` (RBAC group, kind `ClusterRole`, a name); subjects (service
    /// accounts need a namespace).
    fn validate(&self) -> ErrorList {
        let mut errs = validate_resource_meta(self, name_is_path_segment);
        errs.extend(validate_role_ref(&self.role_ref, &["ClusterRole"]));
        let sp = FieldPath::new("subjects");
        for (i, s) in self.subjects.iter().enumerate() {
            errs.extend(validate_subject(s, false, &sp.index(i)));
        }
        errs
    }
}

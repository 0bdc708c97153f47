//! Upstream's rule and subject matching, one function per check: does a [`PolicyRule`] allow a
//! request ([`rule_allows`]), and does a binding's [`Subject`] apply to a user
//! ([`subject_applies`]). None of these allocate.

use kybern_core::api::rbac::v1::{PolicyRule, Subject};

use crate::attributes::{Attributes, UserInfo, service_account_matches};

/// `*`: every verb, API group, resource or non-resource URL.
pub const ALL: &str = "*";

/// The `User` subject kind.
pub const USER_KIND: &str = "User";
/// The `Group` subject kind.
pub const GROUP_KIND: &str = "Group";
/// The `ServiceAccount` subject kind.
pub const SERVICE_ACCOUNT_KIND: &str = "ServiceAccount";

/// String equality without a `memcmp` call for the short strings RBAC compares (verbs, groups,
/// resources, names): profiling showed libc's `memcmp` call dominating decisions.
#[inline(always)]
pub(crate) fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    if a.len() > 64 {
        return a == b;
    }
    a.iter().zip(b).all(|(x, y)| x == y)
}

/// Whether `rule` allows the request, as upstream's `RuleAllows`: for a resource request the
/// verb, API group, resource (with `resource/subresource` and `*/subresource` forms) and
/// resource name must all match; for a non-resource request the verb and URL.
pub fn rule_allows(attributes: &Attributes<'_>, rule: &PolicyRule) -> bool {
    if attributes.resource_request {
        // A rule without resources (a non-resource rule) never matches a resource request.
        !rule.resources.is_empty()
            && verb_matches(rule, attributes.verb)
            && api_group_matches(rule, attributes.api_group)
            && resource_matches_parts(rule, attributes.resource, attributes.subresource)
            && resource_name_matches(rule, attributes.name)
    } else {
        verb_matches(rule, attributes.verb) && non_resource_url_matches(rule, attributes.path)
    }
}

/// Whether any of `rules` allows the request.
pub fn rules_allow(attributes: &Attributes<'_>, rules: &[PolicyRule]) -> bool {
    rules.iter().any(|rule| rule_allows(attributes, rule))
}

/// The rule lists the verb or `*`.
pub fn verb_matches(rule: &PolicyRule, verb: &str) -> bool {
    rule.verbs.iter().any(|v| str_eq(v, ALL) || str_eq(v, verb))
}

/// The rule lists the API group or `*`.
pub fn api_group_matches(rule: &PolicyRule, group: &str) -> bool {
    rule.api_groups
        .iter()
        .any(|g| str_eq(g, ALL) || str_eq(g, group))
}

/// Upstream's `ResourceMatches` with the combined `resource/subresource` string already built:
/// `*`, an exact match, or `*/<subresource>` when the request has a subresource.
pub fn resource_matches(rule: &PolicyRule, combined_resource: &str, subresource: &str) -> bool {
    rule.resources.iter().any(|r| {
        r == ALL
            || r == combined_resource
            || (!subresource.is_empty() && r.strip_prefix("*/") == Some(subresource))
    })
}

/// [`resource_matches`] without building the combined string: `resource` and `subresource`
/// separately (`subresource` empty when none).
pub fn resource_matches_parts(rule: &PolicyRule, resource: &str, subresource: &str) -> bool {
    rule.resources.iter().any(|r| {
        if str_eq(r, ALL) {
            return true;
        }
        if subresource.is_empty() {
            return str_eq(r, resource);
        }
        // `resource/subresource` exactly, or `*/subresource`.
        let exact = r.len() == resource.len() + 1 + subresource.len()
            && r.starts_with(resource)
            && r.as_bytes().get(resource.len()) == Some(&b'/')
            && r.ends_with(subresource);
        exact || r.strip_prefix("*/") == Some(subresource)
    })
}

/// An empty `resourceNames` allows every name (including none); otherwise the request's name
/// must be listed — so a rule with names never matches a request without one (`list`,
/// `create`, `deletecollection`).
pub fn resource_name_matches(rule: &PolicyRule, name: &str) -> bool {
    rule.resource_names.is_empty() || rule.resource_names.iter().any(|n| str_eq(n, name))
}

/// `*`, an exact URL, or a URL ending in `*` as a prefix (`/apis/*` covers `/apis/v1` but not
/// `/apis`).
pub fn non_resource_url_matches(rule: &PolicyRule, path: &str) -> bool {
    rule.non_resource_urls.iter().any(|u| {
        u == ALL || u == path || (u.ends_with('*') && path.starts_with(u.trim_end_matches('*')))
    })
}

/// Whether a binding subject applies to `user`, as upstream's `appliesToUser`: `User` by name,
/// `Group` by membership, `ServiceAccount` by the user name
/// `system:serviceaccount:<ns>:<name>`, where an empty subject namespace defaults to the
/// binding's namespace (`binding_namespace`, empty for a ClusterRoleBinding, in which case the
/// subject matches nobody). Other kinds match nobody.
pub fn subject_applies(user: &UserInfo, subject: &Subject, binding_namespace: &str) -> bool {
    match subject.kind.as_str() {
        USER_KIND => str_eq(&user.name, &subject.name),
        GROUP_KIND => user.in_group(&subject.name),
        SERVICE_ACCOUNT_KIND => {
            let namespace = match subject.namespace.as_deref() {
                Some(ns) if !ns.is_empty() => ns,
                _ => binding_namespace,
            };
            !namespace.is_empty() && service_account_matches(namespace, &subject.name, &user.name)
        }
        _ => false,
    }
}

/// The index of the first subject that applies to `user`, as upstream's `appliesTo`.
pub fn applies_to(user: &UserInfo, subjects: &[Subject], binding_namespace: &str) -> Option<usize> {
    subjects
        .iter()
        .position(|s| subject_applies(user, s, binding_namespace))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(resources: &[&str]) -> PolicyRule {
        PolicyRule {
            resources: resources.iter().map(|s| (*s).to_owned()).collect(),
            ..PolicyRule::default()
        }
    }

    #[test]
    fn split_and_combined_resource_forms_agree() {
        let rules = [
            rule(&["*"]),
            rule(&["pods"]),
            rule(&["pods/status"]),
            rule(&["*/scale"]),
            rule(&["*something/scale"]),
            rule(&["pods/"]),
            rule(&[""]),
            rule(&["*/other/segment"]),
        ];
        let requests = [
            ("pods", ""),
            ("pods", "status"),
            ("deployments", "scale"),
            ("pods", "scale"),
            ("foo", "other/segment"),
            ("", ""),
            ("pods", "/"),
        ];
        for r in &rules {
            for (res, sub) in requests {
                let combined = if sub.is_empty() {
                    res.to_owned()
                } else {
                    format!("{res}/{sub}")
                };
                assert_eq!(
                    resource_matches(r, &combined, sub),
                    resource_matches_parts(r, res, sub),
                    "{:?} vs {res}/{sub}",
                    r.resources
                );
            }
        }
    }
}

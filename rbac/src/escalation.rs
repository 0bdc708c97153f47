//! Escalation prevention, as upstream's `ConfirmNoEscalation`, `EscalationAllowed`,
//! `RoleEscalationAuthorized` and `BindingAuthorized`: nobody can grant, through a Role,
//! ClusterRole or binding, permissions they do not hold — unless they are in `system:masters`,
//! have `escalate` on the role (for role writes) or `bind` on the role (for binding writes).
//!
//! "Holding" is decided by [`covers`]: every servant rule is broken down into one-verb,
//! one-group, one-resource (one-name) pieces ([`breakdown_rule`]) and each piece must be covered
//! by a single owner rule ([`rule_covers`]); `*` covers everything, `*/sub` covers any
//! resource's `sub`, a URL ending in `*` covers the URLs it prefixes
//! ([`non_resource_url_covers`]), an owner rule without resource names covers any names.

use std::collections::BTreeSet;
use std::fmt;

use kybern_core::api::rbac::v1::{PolicyRule, RoleRef};

use crate::attributes::{Attributes, SYSTEM_PRIVILEGED_GROUP, UserInfo};
use crate::authorizer::{Authorizer, Decision, write_aggregate};
use crate::gofmt::{quote, write_quoted, write_quoted_list};
use crate::matching::ALL;
use crate::rbac::RbacAuthorizer;

/// The RBAC API group.
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// Breaks a rule into rules with at most one verb, API group, resource and resource name (and
/// URL/verb pairs for non-resource URLs), in upstream's order.
pub fn breakdown_rule(rule: &PolicyRule) -> Vec<PolicyRule> {
    let one = |s: &String| vec![s.clone()];
    let mut out = Vec::new();
    for group in &rule.api_groups {
        for resource in &rule.resources {
            for verb in &rule.verbs {
                if rule.resource_names.is_empty() {
                    out.push(PolicyRule {
                        api_groups: one(group),
                        resources: one(resource),
                        verbs: one(verb),
                        ..PolicyRule::default()
                    });
                } else {
                    for name in &rule.resource_names {
                        out.push(PolicyRule {
                            api_groups: one(group),
                            resources: one(resource),
                            verbs: one(verb),
                            resource_names: one(name),
                            ..PolicyRule::default()
                        });
                    }
                }
            }
        }
    }
    for url in &rule.non_resource_urls {
        for verb in &rule.verbs {
            out.push(PolicyRule {
                non_resource_urls: one(url),
                verbs: one(verb),
                ..PolicyRule::default()
            });
        }
    }
    out
}

fn has(set: &[String], item: &str) -> bool {
    set.iter().any(|s| s == item)
}

fn has_all(set: &[String], items: &[String]) -> bool {
    items.iter().all(|i| has(set, i))
}

fn resource_covers_all(owner: &[String], requested: &[String]) -> bool {
    if has(owner, ALL) || has_all(owner, requested) {
        return true;
    }
    requested.iter().all(|path| {
        has(owner, path)
            || path
                .split_once('/')
                .is_some_and(|(_, sub)| has(owner, &format!("*/{sub}")))
    })
}

/// Whether the owner URL covers the requested one: equal, or the owner ends in `*` and the
/// request starts with the owner's text before its trailing `*`s.
pub fn non_resource_url_covers(owner: &str, requested: &str) -> bool {
    owner == requested
        || (owner.ends_with('*') && requested.starts_with(owner.trim_end_matches('*')))
}

fn non_resource_urls_cover_all(owner: &[String], requested: &[String]) -> bool {
    requested
        .iter()
        .all(|r| owner.iter().any(|o| non_resource_url_covers(o, r)))
}

/// Whether one owner rule covers a broken-down servant rule.
pub fn rule_covers(owner: &PolicyRule, sub: &PolicyRule) -> bool {
    let verbs = has(&owner.verbs, ALL) || has_all(&owner.verbs, &sub.verbs);
    let groups = has(&owner.api_groups, ALL) || has_all(&owner.api_groups, &sub.api_groups);
    let resources = resource_covers_all(&owner.resources, &sub.resources);
    let urls = non_resource_urls_cover_all(&owner.non_resource_urls, &sub.non_resource_urls);
    let names = if sub.resource_names.is_empty() {
        owner.resource_names.is_empty()
    } else {
        owner.resource_names.is_empty() || has_all(&owner.resource_names, &sub.resource_names)
    };
    verbs && groups && resources && urls && names
}

/// Whether `owner` rules cover every permission in `servant` rules, and the broken-down
/// servant pieces they do not cover.
pub fn covers(owner: &[PolicyRule], servant: &[PolicyRule]) -> (bool, Vec<PolicyRule>) {
    let uncovered: Vec<PolicyRule> = servant
        .iter()
        .flat_map(breakdown_rule)
        .filter(|sub| !owner.iter().any(|o| rule_covers(o, sub)))
        .collect();
    (uncovered.is_empty(), uncovered)
}

/// Upstream's `CompactRules` (API-server flavour): rules with exactly one API group and one
/// resource and nothing but verbs besides are merged per group/resource, verbs appended in
/// order; other rules are kept as they are, first.
pub fn compact_rules(rules: &[PolicyRule]) -> Vec<PolicyRule> {
    let mut out = Vec::new();
    let mut simple: Vec<PolicyRule> = Vec::new();
    for rule in rules {
        let is_simple = rule.resource_names.is_empty()
            && rule.non_resource_urls.is_empty()
            && rule.api_groups.len() == 1
            && rule.resources.len() == 1;
        if !is_simple {
            out.push(rule.clone());
            continue;
        }
        match simple
            .iter_mut()
            .find(|s| s.api_groups == rule.api_groups && s.resources == rule.resources)
        {
            Some(existing) => existing.verbs.extend(rule.verbs.iter().cloned()),
            None => simple.push(rule.clone()),
        }
    }
    out.extend(simple);
    out
}

/// Upstream's `CompactString`: `{APIGroups:["apps"], Resources:["deployments"], Verbs:["get"]}`
/// (empty fields left out).
pub fn compact_string(rule: &PolicyRule) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut field = |name: &str, items: &[String]| {
        if !items.is_empty() {
            let mut s = format!("{name}:");
            // Writing into a String cannot fail.
            let _ = write_quoted_list(&mut s, items);
            parts.push(s);
        }
    };
    field("APIGroups", &rule.api_groups);
    field("Resources", &rule.resources);
    field("NonResourceURLs", &rule.non_resource_urls);
    field("ResourceNames", &rule.resource_names);
    field("Verbs", &rule.verbs);
    format!("{{{}}}", parts.join(", "))
}

/// Refused: the user tries to grant permissions it does not hold (upstream's
/// `ConfirmNoEscalation` error).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct EscalationError {
    /// The user's name.
    pub user: String,
    /// The user's groups.
    pub groups: Vec<String>,
    /// The missing permissions, compacted, as [`compact_string`]s, sorted and unique.
    pub missing: Vec<String>,
    /// Errors met resolving the user's own rules (bindings to missing roles).
    pub resolution_errors: Vec<String>,
}

impl fmt::Display for EscalationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("user ")?;
        write_quoted(f, &self.user)?;
        f.write_str(" (groups=")?;
        write_quoted_list(f, &self.groups)?;
        f.write_str(") is attempting to grant RBAC permissions not currently held:\n")?;
        f.write_str(&self.missing.join("\n"))?;
        if !self.resolution_errors.is_empty() {
            f.write_str("; resolution errors: [")?;
            write_aggregate(f, self.resolution_errors.iter().cloned())?;
            f.write_str("]")?;
        }
        Ok(())
    }
}

/// Checks that `user`'s own RBAC rules in `namespace` cover `rules` (upstream's
/// `ConfirmNoEscalation`).
///
/// # Errors
/// [`EscalationError`] listing what is missing.
pub fn confirm_no_escalation(
    resolver: &RbacAuthorizer,
    user: &UserInfo,
    namespace: &str,
    rules: &[PolicyRule],
) -> Result<(), EscalationError> {
    let owner = resolver.rules_for(user, namespace);
    let (covered, missing) = covers(&owner.rules, rules);
    if covered {
        return Ok(());
    }
    let missing: BTreeSet<String> = compact_rules(&missing).iter().map(compact_string).collect();
    Err(EscalationError {
        user: user.name.clone(),
        groups: user.groups.clone(),
        missing: missing.into_iter().collect(),
        resolution_errors: owner.errors,
    })
}

/// Why a write of a role or binding was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WriteRefused {
    /// `<resource> "<name>" is forbidden: <cause>` (HTTP 403), as the API server says it.
    #[error("{resource} {} is forbidden: {cause}", quote(name))]
    Forbidden {
        /// The qualified resource (`roles.rbac.authorization.k8s.io`).
        resource: &'static str,
        /// The object's name.
        name: String,
        /// Why.
        cause: ForbiddenCause,
    },
    /// A binding names a role that does not exist (and the user may not `bind` it): the
    /// not-found error, as upstream returns it.
    #[error("{0}")]
    RoleNotFound(String),
}

/// The cause inside [`WriteRefused::Forbidden`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ForbiddenCause {
    /// The rules grant permissions the user does not hold.
    #[error(transparent)]
    Escalation(Box<EscalationError>),
    /// Only a user holding everything may set an `aggregationRule`.
    #[error("must have cluster-admin privileges to use the aggregationRule")]
    AggregationRuleNeedsClusterAdmin,
}

/// Which role is written.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RoleWrite<'a> {
    /// A Role in a namespace.
    Role {
        /// Its namespace.
        namespace: &'a str,
        /// Its name.
        name: &'a str,
        /// Its rules.
        rules: &'a [PolicyRule],
    },
    /// A ClusterRole.
    ClusterRole {
        /// Its name.
        name: &'a str,
        /// Its rules.
        rules: &'a [PolicyRule],
        /// Whether it has an `aggregationRule`.
        has_aggregation_rule: bool,
    },
}

/// Which binding is written.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BindingWrite<'a> {
    /// A RoleBinding.
    RoleBinding {
        /// Its namespace.
        namespace: &'a str,
        /// Its name.
        name: &'a str,
        /// The role it binds.
        role_ref: &'a RoleRef,
    },
    /// A ClusterRoleBinding.
    ClusterRoleBinding {
        /// Its name.
        name: &'a str,
        /// The role it binds.
        role_ref: &'a RoleRef,
    },
}

/// Members of `system:masters` may grant anything (upstream's `EscalationAllowed`).
pub fn escalation_allowed(user: &UserInfo) -> bool {
    user.in_group(SYSTEM_PRIVILEGED_GROUP)
}

fn full_authority() -> [PolicyRule; 2] {
    let star = || vec![ALL.to_owned()];
    [
        PolicyRule {
            verbs: star(),
            api_groups: star(),
            resources: star(),
            ..PolicyRule::default()
        },
        PolicyRule {
            verbs: star(),
            non_resource_urls: star(),
            ..PolicyRule::default()
        },
    ]
}

/// Decides a create or update of a Role or ClusterRole by `user`, as upstream's role storage:
/// allowed for `system:masters`, for a user the `authorizer` allows to `escalate` the role,
/// and for a user whose RBAC rules (from `resolver`) cover the new rules; setting an
/// `aggregationRule` needs full authority (`*` on everything).
///
/// # Errors
/// [`WriteRefused::Forbidden`] with the escalation error or the aggregation-rule message.
pub fn check_role_write(
    authorizer: &dyn Authorizer,
    resolver: &RbacAuthorizer,
    user: &UserInfo,
    write: RoleWrite<'_>,
) -> Result<(), WriteRefused> {
    if escalation_allowed(user) {
        return Ok(());
    }
    let (resource, plural, namespace, name, rules, aggregation) = match write {
        RoleWrite::Role {
            namespace,
            name,
            rules,
        } => (
            "roles.rbac.authorization.k8s.io",
            "roles",
            namespace,
            name,
            rules,
            false,
        ),
        RoleWrite::ClusterRole {
            name,
            rules,
            has_aggregation_rule,
        } => (
            "clusterroles.rbac.authorization.k8s.io",
            "clusterroles",
            "",
            name,
            rules,
            has_aggregation_rule,
        ),
    };
    let escalate = Attributes::resource(user, "escalate", RBAC_GROUP, plural)
        .with_api_version("*")
        .in_namespace(namespace)
        .named(name);
    if authorizer.authorize(&escalate).decision == Decision::Allow {
        return Ok(());
    }
    let forbidden = |cause| WriteRefused::Forbidden {
        resource,
        name: name.to_owned(),
        cause,
    };
    confirm_no_escalation(resolver, user, namespace, rules)
        .map_err(|e| forbidden(ForbiddenCause::Escalation(Box::new(e))))?;
    if aggregation && confirm_no_escalation(resolver, user, namespace, &full_authority()).is_err() {
        return Err(forbidden(ForbiddenCause::AggregationRuleNeedsClusterAdmin));
    }
    Ok(())
}

/// Decides a create or update of a RoleBinding or ClusterRoleBinding by `user`, as upstream's
/// binding storage: allowed for `system:masters`, for a user the `authorizer` allows to `bind`
/// the referenced role (in the binding's namespace), and for a user whose RBAC rules cover the
/// role's rules.
///
/// # Errors
/// [`WriteRefused::RoleNotFound`] when the role is missing;
/// [`WriteRefused::Forbidden`] with the escalation error.
pub fn check_binding_write(
    authorizer: &dyn Authorizer,
    resolver: &RbacAuthorizer,
    user: &UserInfo,
    write: BindingWrite<'_>,
) -> Result<(), WriteRefused> {
    if escalation_allowed(user) {
        return Ok(());
    }
    let (resource, namespace, name, role_ref) = match write {
        BindingWrite::RoleBinding {
            namespace,
            name,
            role_ref,
        } => (
            "rolebindings.rbac.authorization.k8s.io",
            namespace,
            name,
            role_ref,
        ),
        BindingWrite::ClusterRoleBinding { name, role_ref } => (
            "clusterrolebindings.rbac.authorization.k8s.io",
            "",
            name,
            role_ref,
        ),
    };
    let plural = match role_ref.kind.as_str() {
        crate::rbac::CLUSTER_ROLE_KIND => Some("clusterroles"),
        crate::rbac::ROLE_KIND => Some("roles"),
        _ => None,
    };
    if let Some(plural) = plural {
        let bind = Attributes::resource(user, "bind", &role_ref.api_group, plural)
            .in_namespace(namespace)
            .named(&role_ref.name);
        if authorizer.authorize(&bind).decision == Decision::Allow {
            return Ok(());
        }
    }
    let rules = resolver
        .role_reference_rules(role_ref, namespace)
        .map_err(|e| WriteRefused::RoleNotFound(e.to_string()))?;
    confirm_no_escalation(resolver, user, namespace, rules).map_err(|e| WriteRefused::Forbidden {
        resource,
        name: name.to_owned(),
        cause: ForbiddenCause::Escalation(Box::new(e)),
    })
}

//! `authorization.k8s.io/v1` review shapes with upstream's JSON field names:
//! SubjectAccessReview (ask "may this user do this?") and the SelfSubjectRulesReview status
//! (list what a user may do in a namespace — `kubectl auth can-i --list`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::attributes::{Attributes, UserInfo};
use crate::authorizer::{Authorizer, Decision};
use crate::rbac::RbacAuthorizer;

/// `authorization.k8s.io/v1`.
pub const AUTHORIZATION_API_VERSION: &str = "authorization.k8s.io/v1";

/// The resource part of an access review.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceAttributes {
    /// Namespace (empty: all namespaces for namespaced resources).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// Verb.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub verb: String,
    /// API group (`*` all).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    /// API version (`*` all).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    /// Resource.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub resource: String,
    /// Subresource.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub subresource: String,
    /// Object name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
}

/// The non-resource part of an access review.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NonResourceAttributes {
    /// URL path.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// Verb.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub verb: String,
}

/// What a SubjectAccessReview asks: exactly one of the attribute sets, and the user.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubjectAccessReviewSpec {
    /// A resource request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_attributes: Option<ResourceAttributes>,
    /// A non-resource request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub non_resource_attributes: Option<NonResourceAttributes>,
    /// The user name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user: String,
    /// The user's groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Extra authenticator attributes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, Vec<String>>,
    /// The user's uid.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
}

/// The answer of an access review.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubjectAccessReviewStatus {
    /// Allowed.
    pub allowed: bool,
    /// Explicitly denied (an authorizer said Deny, not just nobody allowed).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub denied: bool,
    /// Why.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// An error while evaluating (the review may still be allowed).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub evaluation_error: String,
}

/// A SubjectAccessReview object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubjectAccessReview {
    /// `authorization.k8s.io/v1`.
    pub api_version: String,
    /// `SubjectAccessReview`.
    pub kind: String,
    /// The question.
    pub spec: SubjectAccessReviewSpec,
    /// The answer, once reviewed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<SubjectAccessReviewStatus>,
}

impl SubjectAccessReview {
    /// A review asking `spec`.
    pub fn new(spec: SubjectAccessReviewSpec) -> Self {
        Self {
            api_version: AUTHORIZATION_API_VERSION.to_owned(),
            kind: "SubjectAccessReview".to_owned(),
            spec,
            status: None,
        }
    }
}

/// A SubjectAccessReview that cannot be evaluated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    /// Neither attribute set given (upstream's validation text).
    #[error(
        "spec.resourceAttributes: exactly one of nonResourceAttributes or resourceAttributes must be specified"
    )]
    NoAttributes,
    /// Both attribute sets given.
    #[error(
        "spec.nonResourceAttributes: cannot be specified in combination with resourceAttributes"
    )]
    BothAttributes,
    /// No user and no groups.
    #[error("spec.user: at least one of user or group must be specified")]
    NoUserOrGroup,
}

/// Answers a SubjectAccessReview with `authorizer`: `allowed` for [`Decision::Allow`],
/// `denied` for [`Decision::Deny`], and the verdict's reason.
///
/// # Errors
/// [`ReviewError`] for a spec upstream's validation rejects.
pub fn review(
    authorizer: &dyn Authorizer,
    spec: &SubjectAccessReviewSpec,
) -> Result<SubjectAccessReviewStatus, ReviewError> {
    if spec.user.is_empty() && spec.groups.is_empty() {
        return Err(ReviewError::NoUserOrGroup);
    }
    let user = UserInfo {
        name: spec.user.clone(),
        uid: spec.uid.clone(),
        groups: spec.groups.clone(),
        extra: spec.extra.clone(),
    };
    let attributes = match (&spec.resource_attributes, &spec.non_resource_attributes) {
        (Some(r), None) => Attributes {
            user: &user,
            verb: &r.verb,
            resource_request: true,
            namespace: &r.namespace,
            api_group: &r.group,
            api_version: &r.version,
            resource: &r.resource,
            subresource: &r.subresource,
            name: &r.name,
            path: "",
        },
        (None, Some(n)) => Attributes::non_resource(&user, &n.verb, &n.path),
        (Some(_), Some(_)) => return Err(ReviewError::BothAttributes),
        (None, None) => return Err(ReviewError::NoAttributes),
    };
    let verdict = authorizer.authorize(&attributes);
    Ok(SubjectAccessReviewStatus {
        allowed: verdict.decision == Decision::Allow,
        denied: verdict.decision == Decision::Deny,
        reason: verdict.reason.to_string(),
        evaluation_error: String::new(),
    })
}

/// A resource rule of a rules review.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceRule {
    /// Verbs.
    pub verbs: Vec<String>,
    /// API groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_groups: Vec<String>,
    /// Resources.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// Resource names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_names: Vec<String>,
}

/// A non-resource rule of a rules review.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NonResourceRule {
    /// Verbs.
    pub verbs: Vec<String>,
    /// URLs.
    #[serde(
        default,
        rename = "nonResourceURLs",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub non_resource_urls: Vec<String>,
}

/// What a user may do in a namespace (SelfSubjectRulesReview / SubjectRulesReview status).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubjectRulesReviewStatus {
    /// Resource rules.
    pub resource_rules: Vec<ResourceRule>,
    /// Non-resource rules.
    pub non_resource_rules: Vec<NonResourceRule>,
    /// Whether the list may be incomplete (never for RBAC alone).
    pub incomplete: bool,
    /// Errors met (bindings to missing roles), upstream's aggregate text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub evaluation_error: String,
}

/// The rules review for `user` in `namespace`, as upstream's RBAC `RulesFor`: each rule with
/// resources becomes a resource rule, each with URLs a non-resource rule.
pub fn rules_review(
    rbac: &RbacAuthorizer,
    user: &UserInfo,
    namespace: &str,
) -> SubjectRulesReviewStatus {
    let resolved = rbac.rules_for(user, namespace);
    let mut status = SubjectRulesReviewStatus::default();
    for rule in resolved.rules {
        if !rule.resources.is_empty() {
            status.resource_rules.push(ResourceRule {
                verbs: rule.verbs.clone(),
                api_groups: rule.api_groups.clone(),
                resources: rule.resources.clone(),
                resource_names: rule.resource_names.clone(),
            });
        }
        if !rule.non_resource_urls.is_empty() {
            status.non_resource_rules.push(NonResourceRule {
                verbs: rule.verbs,
                non_resource_urls: rule.non_resource_urls,
            });
        }
    }
    if !resolved.errors.is_empty() {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = crate::authorizer::write_aggregate(&mut text, resolved.errors.into_iter());
        status.evaluation_error = text;
    }
    status
}

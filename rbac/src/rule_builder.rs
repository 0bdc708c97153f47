//! [`PolicyRuleBuilder`]: builds a [`PolicyRule`] and checks its shape as upstream's
//! `rbacv1helpers.NewRule(...).Groups(...).Resources(...).Rule()`.

use kybern_core::api::rbac::v1::PolicyRule;

use crate::escalation::compact_string;

/// A rule that has the wrong shape.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuleBuildError {
    /// No verbs.
    #[error("verbs are required: {0}")]
    NoVerbs(String),
    /// A non-resource rule that also names API groups, resources or resource names.
    #[error("non-resource rule may not have apiGroups, resources, or resourceNames: {0}")]
    NonResourceWithResourceFields(String),
    /// A resource rule without API groups (the common bug: `""` is the core group).
    #[error("resource rule must have apiGroups: {0}")]
    ResourceWithoutApiGroups(String),
    /// Neither resources nor non-resource URLs.
    #[error("a rule must have either nonResourceURLs or resources: {0}")]
    Empty(String),
}

/// Builds a [`PolicyRule`]: `PolicyRuleBuilder::new(["get", "list"]).groups([""]).resources(["pods"]).rule()`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PolicyRuleBuilder {
    rule: PolicyRule,
}

fn strings<S: Into<String>>(items: impl IntoIterator<Item = S>) -> impl Iterator<Item = String> {
    items.into_iter().map(Into::into)
}

impl PolicyRuleBuilder {
    /// A rule with these verbs.
    pub fn new<S: Into<String>>(verbs: impl IntoIterator<Item = S>) -> Self {
        Self {
            rule: PolicyRule {
                verbs: strings(verbs).collect(),
                ..PolicyRule::default()
            },
        }
    }

    /// Adds API groups (`""` is the core group).
    #[must_use]
    pub fn groups<S: Into<String>>(mut self, groups: impl IntoIterator<Item = S>) -> Self {
        self.rule.api_groups.extend(strings(groups));
        self
    }

    /// Adds resources (`pods`, `pods/status`, `*/scale`, `*`).
    #[must_use]
    pub fn resources<S: Into<String>>(mut self, resources: impl IntoIterator<Item = S>) -> Self {
        self.rule.resources.extend(strings(resources));
        self
    }

    /// Adds resource names.
    #[must_use]
    pub fn names<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.rule.resource_names.extend(strings(names));
        self
    }

    /// Adds non-resource URLs (`/healthz`, `/apis/*`).
    #[must_use]
    pub fn urls<S: Into<String>>(mut self, urls: impl IntoIterator<Item = S>) -> Self {
        self.rule.non_resource_urls.extend(strings(urls));
        self
    }

    /// The rule, every list sorted, if its shape is valid.
    ///
    /// # Errors
    /// No verbs; a non-resource rule with API groups, resources or names; a resource rule
    /// without API groups; neither resources nor URLs.
    pub fn rule(self) -> Result<PolicyRule, RuleBuildError> {
        let mut r = self.rule;
        if r.verbs.is_empty() {
            return Err(RuleBuildError::NoVerbs(compact_string(&r)));
        }
        if !r.non_resource_urls.is_empty() {
            if !r.api_groups.is_empty() || !r.resources.is_empty() || !r.resource_names.is_empty() {
                return Err(RuleBuildError::NonResourceWithResourceFields(
                    compact_string(&r),
                ));
            }
        } else if !r.resources.is_empty() {
            if r.api_groups.is_empty() {
                return Err(RuleBuildError::ResourceWithoutApiGroups(compact_string(&r)));
            }
        } else {
            return Err(RuleBuildError::Empty(compact_string(&r)));
        }
        r.resources.sort();
        r.resource_names.sort();
        r.api_groups.sort();
        r.non_resource_urls.sort();
        r.verbs.sort();
        Ok(r)
    }
}

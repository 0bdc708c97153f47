//! `kybern-rbac`: Kubernetes RBAC, exact and fast.
//!
//! Placeholder docs (rewritten below).

mod gofmt;

pub mod aggregation;
pub mod attributes;
pub mod authorizer;
pub mod bootstrap;
pub mod can_i;
pub mod escalation;
pub mod matching;
pub mod policy;
pub mod rbac;
pub mod review;
pub mod rule_builder;
pub mod selector;

pub use aggregation::{aggregate, aggregate_one, apply_aggregation};
pub use attributes::{Attributes, UserInfo};
pub use authorizer::{
    AllowedBy, Authorizer, BindingKind, Decision, Reason, Union, Verdict, forbidden_message,
};
pub use can_i::can_i_list;
pub use escalation::{
    BindingWrite, EscalationError, RoleWrite, WriteRefused, check_binding_write, check_role_write,
    confirm_no_escalation, covers,
};
pub use policy::{Policy, PolicyError};
pub use rbac::{Grant, RbacAuthorizer, RbacEvent, RbacObject, ResolutionError, ResolvedRules};
pub use review::{
    SubjectAccessReview, SubjectAccessReviewSpec, SubjectAccessReviewStatus,
    SubjectRulesReviewStatus, review, rules_review,
};
pub use rule_builder::{PolicyRuleBuilder, RuleBuildError};

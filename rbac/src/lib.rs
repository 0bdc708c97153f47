//! `kybern-rbac`: Kubernetes RBAC, exact and fast.
//!
//! Upstream's RBAC (Kubernetes v1.33 `plugin/pkg/auth/authorizer/rbac` and
//! `pkg/registry/rbac/validation`) as a library: pure, synchronous, no IO.
//!
//! - [`Authorizer`]: the object-safe decision trait ([`Attributes`] → [`Verdict`] =
//!   [`Decision`] + lazily rendered [`Reason`]); closures and `()` are authorizers; [`Union`]
//!   chains them (first Allow or Deny wins). [`forbidden_message`] gives the API server's 403
//!   text.
//! - [`RbacAuthorizer`]: Roles, ClusterRoles, RoleBindings and ClusterRoleBindings, indexed by
//!   subject and namespace, updated incrementally ([`RbacAuthorizer::apply`]); an allowed
//!   decision allocates nothing. Its allow reason is upstream's
//!   (`RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "y" to User "z"`); when nothing
//!   matches it has no opinion (RBAC never denies) and an empty reason, or the resolution
//!   errors of bindings to missing roles. [`RbacAuthorizer::explain`] lists every binding that
//!   applies to a user, [`RbacAuthorizer::rules_for`] every rule.
//! - [`matching`]: the rule and subject checks ([`matching::rule_allows`],
//!   [`matching::applies_to`]).
//! - [`review`]: SubjectAccessReview and SubjectRulesReview shapes (upstream JSON names);
//!   [`can_i_list`] prints a rules review as `kubectl auth can-i --list` does.
//! - [`aggregation`]: ClusterRole aggregation as a pure function ([`aggregate`]).
//! - `aggregation_controller` (feature `controller`, on the Kybern runtime): the
//!   ClusterRole aggregation controller (`run`), and `feed_authorizer`, which keeps an
//!   `RbacAuthorizer`'s index current from store watches, change by change. The evaluator
//!   itself stays pure: only this module touches the runtime.
//! - [`bootstrap`]: the default policy upstream ships (embedded, aggregated):
//!   [`bootstrap::policy`].
//! - [`escalation`]: `covers`, [`confirm_no_escalation`], and the storage checks
//!   [`check_role_write`] / [`check_binding_write`] (`escalate`, `bind`, `system:masters`)
//!   with upstream's refusal text.
//! - [`PolicyRuleBuilder`] and [`Policy`] (load RBAC objects from YAML/JSON with
//!   `kybern_core::load`).
//!
//! ```
//! use kybern_rbac::{Attributes, Authorizer, Policy, UserInfo, bootstrap};
//! let mut policy = bootstrap::policy();
//! policy.extend(Policy::from_yaml("john.yaml", r#"
//! apiVersion: rbac.authorization.k8s.io/v1
//! kind: RoleBinding
//! metadata: {namespace: dev, name: john-view}
//! roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
//! subjects: [{kind: User, name: john}]
//! "#).unwrap());
//! let rbac = policy.authorizer();
//! let john = UserInfo::new("john", ["system:authenticated"]);
//! let get_pods = Attributes::resource(&john, "get", "", "pods").in_namespace("dev");
//! assert_eq!(
//!     rbac.authorize(&get_pods).reason.to_string(),
//!     r#"RBAC: allowed by RoleBinding "john-view/dev" of ClusterRole "view" to User "john""#
//! );
//! let get_secrets = Attributes::resource(&john, "get", "", "secrets").in_namespace("dev");
//! assert!(!rbac.authorize(&get_secrets).is_allowed());
//! ```

mod gofmt;

pub mod aggregation;
#[cfg(feature = "controller")]
pub mod aggregation_controller;
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

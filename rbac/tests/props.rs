//! Property tests: arbitrary text into the policy loader and arbitrary requests and rules into
//! the matchers never panic; the split resource matcher agrees with the combined one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kybern_core::api::rbac::v1::PolicyRule;
use kybern_rbac::matching::{resource_matches, resource_matches_parts, rule_allows};
use kybern_rbac::{Attributes, Authorizer, Policy, UserInfo, bootstrap, covers};
use proptest::prelude::*;

fn list() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(prop_oneof![Just("*".to_owned()), "[a-z*/]{0,6}"], 0..4)
}

fn rule() -> impl Strategy<Value = PolicyRule> {
    (list(), list(), list(), list(), list()).prop_map(
        |(verbs, api_groups, resources, resource_names, non_resource_urls)| PolicyRule {
            verbs,
            api_groups,
            resources,
            resource_names,
            non_resource_urls,
        },
    )
}

proptest! {
    #[test]
    fn policy_loader_never_panics(text in ".{0,300}") {
        let _ = Policy::from_yaml("fuzz.yaml", &text);
    }

    #[test]
    fn matchers_never_panic_and_agree(r in rule(), verb in "[a-z*]{0,5}", res in "[a-z*/]{0,6}", sub in "[a-z/*]{0,6}", name in "[a-z]{0,3}", path in "[a-z/*]{0,6}", owner in prop::collection::vec(rule(), 0..3)) {
        let user = UserInfo::new("u", ["g"]);
        let mut a = Attributes::resource(&user, &verb, "", &res).with_subresource(&sub).named(&name);
        let _ = rule_allows(&a, &r);
        a.resource_request = false;
        a.path = &path;
        let _ = rule_allows(&a, &r);
        let combined = if sub.is_empty() { res.clone() } else { format!("{res}/{sub}") };
        prop_assert_eq!(resource_matches(&r, &combined, &sub), resource_matches_parts(&r, &res, &sub));
        let (ok, missing) = covers(&owner, std::slice::from_ref(&r));
        prop_assert_eq!(ok, missing.is_empty());
    }

    #[test]
    fn bootstrap_authorizer_never_panics(name in ".{0,20}", group in ".{0,20}", verb in ".{0,8}", ns in ".{0,8}", res in ".{0,8}") {
        let authz = bootstrap::policy().authorizer();
        let user = UserInfo::new(name, [group]);
        let _ = authz.authorize(&Attributes::resource(&user, &verb, "", &res).in_namespace(&ns)).reason.to_string();
    }
}

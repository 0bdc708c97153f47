//! Every vector of `shared/vectors/rbac.json`, one `check` helper per group.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kybern_core::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, Subject,
};
use kybern_rbac::escalation::non_resource_url_covers;
use kybern_rbac::matching::{applies_to, resource_matches, resource_matches_parts, rule_allows};
use kybern_rbac::{Attributes, Authorizer, PolicyRuleBuilder, RbacAuthorizer, UserInfo, covers};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/vectors/rbac.json"
);

fn group(name: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(VECTORS)
        .unwrap_or_else(|e| panic!("missing vectors file {VECTORS}: {e}"));
    let all: Value = serde_json::from_str(&text).unwrap();
    let vectors = all[name]
        .as_array()
        .unwrap_or_else(|| panic!("no group {name}"))
        .clone();
    assert!(!vectors.is_empty(), "group {name} is empty");
    vectors
}

/// Runs `check` on every vector of `name`, failing with the vector's `from`/`name`.
fn run<T: DeserializeOwned>(name: &str, check: impl Fn(&T) -> Result<(), String>) {
    let mut failures = Vec::new();
    let vectors = group(name);
    for (i, raw) in vectors.iter().enumerate() {
        let label = format!(
            "{name}[{i}] {} / {}",
            raw["from"].as_str().unwrap_or("?"),
            raw["name"].as_str().or(raw["note"].as_str()).unwrap_or("")
        );
        match serde_json::from_value::<T>(raw.clone()) {
            Ok(v) => {
                if let Err(e) = check(&v) {
                    failures.push(format!("{label}: {e}"));
                }
            }
            Err(e) => failures.push(format!("{label}: does not decode: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
}

#[derive(Deserialize)]
struct VUser {
    name: String,
    #[serde(default)]
    groups: Vec<String>,
}

impl VUser {
    fn info(&self) -> UserInfo {
        UserInfo::new(self.name.clone(), self.groups.clone())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VRequest {
    user: Option<VUser>,
    resource_request: bool,
    verb: String,
    #[serde(default)]
    api_group: String,
    #[serde(default)]
    resource: String,
    #[serde(default)]
    subresource: String,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    path: String,
}

impl VRequest {
    fn attributes<'a>(&'a self, user: &'a UserInfo) -> Attributes<'a> {
        Attributes {
            user,
            verb: &self.verb,
            resource_request: self.resource_request,
            namespace: &self.namespace,
            api_group: &self.api_group,
            api_version: "",
            resource: &self.resource,
            subresource: &self.subresource,
            name: &self.name,
            path: &self.path,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VPolicy {
    #[serde(default)]
    roles: Vec<Role>,
    #[serde(default)]
    cluster_roles: Vec<ClusterRole>,
    #[serde(default)]
    role_bindings: Vec<RoleBinding>,
    #[serde(default)]
    cluster_role_bindings: Vec<ClusterRoleBinding>,
}

impl VPolicy {
    fn authorizer(&self) -> RbacAuthorizer {
        RbacAuthorizer::new(
            &self.roles,
            &self.cluster_roles,
            &self.role_bindings,
            &self.cluster_role_bindings,
        )
    }
}

#[derive(Deserialize)]
struct Authorize {
    #[serde(flatten)]
    policy: VPolicy,
    request: VRequest,
    allowed: bool,
}

#[test]
fn authorize() {
    run("authorize", |v: &Authorize| {
        let authz = v.policy.authorizer();
        let user = v.request.user.as_ref().ok_or("no user")?.info();
        let verdict = authz.authorize(&v.request.attributes(&user));
        let got = verdict.is_allowed();
        if got != v.allowed {
            return Err(format!(
                "allowed {got}, want {} (reason {:?})",
                v.allowed,
                verdict.reason.to_string()
            ));
        }
        // The allow reason names a binding; an RBAC denial never says Deny.
        if got != verdict.reason.to_string().starts_with("RBAC: allowed by ") {
            return Err(format!("reason {:?}", verdict.reason.to_string()));
        }
        Ok(())
    });
}

#[derive(Deserialize)]
struct RuleAllows {
    rule: PolicyRule,
    request: VRequest,
    allowed: bool,
}

#[test]
fn rule_allows_vectors() {
    run("rule_allows", |v: &RuleAllows| {
        let user = UserInfo::default();
        let got = rule_allows(&v.request.attributes(&user), &v.rule);
        (got == v.allowed)
            .then_some(())
            .ok_or(format!("allowed {got}, want {}", v.allowed))
    });
}

#[derive(Deserialize)]
struct ResourceMatches {
    rule_resources: Vec<String>,
    combined_requested_resource: String,
    requested_subresource: String,
    matches: bool,
}

#[test]
fn resource_matches_vectors() {
    run("resource_matches", |v: &ResourceMatches| {
        let rule = PolicyRule {
            resources: v.rule_resources.clone(),
            ..PolicyRule::default()
        };
        let got = resource_matches(
            &rule,
            &v.combined_requested_resource,
            &v.requested_subresource,
        );
        let resource = if v.requested_subresource.is_empty() {
            v.combined_requested_resource.as_str()
        } else {
            v.combined_requested_resource
                .strip_suffix(&format!("/{}", v.requested_subresource))
                .ok_or("combined does not end in the subresource")?
        };
        let parts = resource_matches_parts(&rule, resource, &v.requested_subresource);
        if got != v.matches || parts != v.matches {
            return Err(format!("combined {got}, parts {parts}, want {}", v.matches));
        }
        Ok(())
    });
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RuleBuilder {
    verbs: Vec<String>,
    api_groups: Vec<String>,
    resources: Vec<String>,
    resource_names: Vec<String>,
    #[serde(rename = "nonResourceURLs")]
    non_resource_urls: Vec<String>,
    valid: bool,
    rule: Option<PolicyRule>,
}

#[test]
fn policy_rule_builder() {
    run("policy_rule_builder", |v: &RuleBuilder| {
        let built = PolicyRuleBuilder::new(v.verbs.clone())
            .groups(v.api_groups.clone())
            .resources(v.resources.clone())
            .names(v.resource_names.clone())
            .urls(v.non_resource_urls.clone())
            .rule();
        match (&built, v.valid) {
            (Ok(rule), true) => match &v.rule {
                Some(want) if want != rule => Err(format!("built {rule:?}, want {want:?}")),
                _ => Ok(()),
            },
            (Err(_), false) => Ok(()),
            _ => Err(format!("built {built:?}, want valid={}", v.valid)),
        }
    });
}

#[derive(Deserialize)]
struct AppliesTo {
    subjects: Vec<Subject>,
    user: VUser,
    binding_namespace: String,
    applies: bool,
}

#[test]
fn applies_to_vectors() {
    run("applies_to", |v: &AppliesTo| {
        let got = applies_to(&v.user.info(), &v.subjects, &v.binding_namespace).is_some();
        // The index must agree with the direct check: a binding with these subjects.
        let binding = RoleBinding {
            metadata: kybern_core::api::meta::v1::ObjectMeta {
                name: Some("b".into()),
                namespace: Some(if v.binding_namespace.is_empty() {
                    "ns".into()
                } else {
                    v.binding_namespace.clone()
                }),
                ..Default::default()
            },
            role_ref: kybern_core::api::rbac::v1::RoleRef {
                api_group: "rbac.authorization.k8s.io".into(),
                kind: "ClusterRole".into(),
                name: "r".into(),
            },
            subjects: v.subjects.clone(),
        };
        let role = ClusterRole {
            metadata: kybern_core::api::meta::v1::ObjectMeta {
                name: Some("r".into()),
                ..Default::default()
            },
            aggregation_rule: None,
            rules: vec![
                PolicyRuleBuilder::new(["get"])
                    .groups([""])
                    .resources(["pods"])
                    .rule()
                    .unwrap(),
            ],
        };
        let ns = binding.metadata.namespace.clone().unwrap();
        let authz = RbacAuthorizer::new([], [&role], [&binding], []);
        let user = v.user.info();
        let indexed = authz
            .authorize(&Attributes::resource(&user, "get", "", "pods").in_namespace(&ns))
            .is_allowed();
        let direct_in_ns = applies_to(&user, &v.subjects, &ns).is_some();
        if got != v.applies || indexed != direct_in_ns {
            return Err(format!(
                "applies {got} (indexed {indexed}), want {}",
                v.applies
            ));
        }
        Ok(())
    });
}

#[derive(Deserialize)]
struct EffectiveRules {
    #[serde(flatten)]
    policy: VPolicy,
    user: VUser,
    namespace: String,
    effective_rules: Vec<PolicyRule>,
}

fn sorted(rules: &[PolicyRule]) -> Vec<String> {
    let mut v: Vec<String> = rules
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    v.sort();
    v
}

#[test]
fn effective_rules() {
    run("effective_rules", |v: &EffectiveRules| {
        let got = v
            .policy
            .authorizer()
            .rules_for(&v.user.info(), &v.namespace);
        if sorted(&got.rules) != sorted(&v.effective_rules) || !got.errors.is_empty() {
            return Err(format!(
                "got {:?} (errors {:?}), want {:?}",
                got.rules, got.errors, v.effective_rules
            ));
        }
        Ok(())
    });
}

#[derive(Deserialize)]
struct Covers {
    owner_rules: Vec<PolicyRule>,
    servant_rules: Vec<PolicyRule>,
    covered: bool,
    uncovered_rules: Vec<PolicyRule>,
}

#[test]
fn covers_vectors() {
    run("covers", |v: &Covers| {
        let (covered, uncovered) = covers(&v.owner_rules, &v.servant_rules);
        if covered != v.covered || uncovered != v.uncovered_rules {
            return Err(format!(
                "covered {covered} {uncovered:?}, want {} {:?}",
                v.covered, v.uncovered_rules
            ));
        }
        Ok(())
    });
}

#[derive(Deserialize)]
struct UrlCovers {
    owner: String,
    requested: String,
    covers: bool,
}

#[test]
fn non_resource_url_covers_vectors() {
    run("non_resource_url_covers", |v: &UrlCovers| {
        let got = non_resource_url_covers(&v.owner, &v.requested);
        (got == v.covers)
            .then_some(())
            .ok_or(format!("covers {got}, want {}", v.covers))
    });
}

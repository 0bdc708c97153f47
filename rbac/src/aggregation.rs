//! ClusterRole aggregation as a pure function: what upstream's `ClusterRoleAggregator`
//! controller converges to.
//!
//! For each ClusterRole with an `aggregationRule`, the new rules are, for each selector in
//! order, the rules of every *other* ClusterRole the selector matches (sorted by name), in
//! order, each rule kept once. Because an aggregated role can itself be aggregated (`edit`
//! into `admin`), [`aggregate`] repeats that pass over a working copy until nothing changes,
//! which is where the controller ends up after its re-syncs.
//!
//! The controller that runs this on a live runtime (watching ClusterRoles and writing the
//! result back) comes with the runtime; this crate only computes.

use kybern_core::api::rbac::v1::{ClusterRole, PolicyRule};

use crate::selector::selector_matches;

/// One sync of one aggregated role against the current `cluster_roles`: `None` when `target`
/// has no aggregation rule or one of its selectors is invalid (upstream's controller then
/// fails the sync and leaves the role unchanged).
pub fn aggregate_one(
    target: &ClusterRole,
    cluster_roles: &[ClusterRole],
) -> Option<Vec<PolicyRule>> {
    let rule = target.aggregation_rule.as_ref()?;
    let target_name = target.metadata.name.as_deref().unwrap_or("");
    let mut sorted: Vec<&ClusterRole> = cluster_roles.iter().collect();
    sorted.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    let mut out: Vec<PolicyRule> = Vec::new();
    let no_labels = kybern_core::LabelMap::new();
    for selector in &rule.cluster_role_selectors {
        selector_matches(selector, &no_labels).ok()?;
        for role in &sorted {
            if role.metadata.name.as_deref().unwrap_or("") == target_name {
                continue;
            }
            if !selector_matches(selector, &role.metadata.labels).ok()? {
                continue;
            }
            for r in &role.rules {
                if !out.contains(r) {
                    out.push(r.clone());
                }
            }
        }
    }
    Some(out)
}

/// The aggregated rules of every ClusterRole with an aggregation rule, sorted by name: the
/// fixed point of [`aggregate_one`] over all of them (at most one pass per role, plus one).
pub fn aggregate(cluster_roles: &[ClusterRole]) -> Vec<(String, Vec<PolicyRule>)> {
    let mut work: Vec<ClusterRole> = cluster_roles.to_vec();
    work.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    let aggregated: Vec<usize> = (0..work.len())
        .filter(|&i| work.get(i).is_some_and(|r| r.aggregation_rule.is_some()))
        .collect();
    for _ in 0..=aggregated.len() {
        let mut changed = false;
        for &i in &aggregated {
            let Some(target) = work.get(i) else { continue };
            let Some(rules) = aggregate_one(target, &work) else {
                continue;
            };
            if let Some(target) = work.get_mut(i)
                && target.rules != rules
            {
                target.rules = rules;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    aggregated
        .into_iter()
        .filter_map(|i| work.get(i))
        .map(|r| (r.metadata.name.clone().unwrap_or_default(), r.rules.clone()))
        .collect()
}

/// Applies [`aggregate`] in place: every aggregated ClusterRole gets its computed rules.
pub fn apply_aggregation(cluster_roles: &mut [ClusterRole]) {
    for (name, rules) in aggregate(cluster_roles) {
        for role in cluster_roles.iter_mut() {
            if role.metadata.name.as_deref() == Some(name.as_str()) {
                role.rules.clone_from(&rules);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kybern_core::api::meta::v1::{LabelSelector, LabelSelectorRequirement, ObjectMeta};
    use kybern_core::api::rbac::v1::AggregationRule;

    fn role(name: &str, labels: &[(&str, &str)], verb: &str) -> ClusterRole {
        ClusterRole {
            metadata: ObjectMeta {
                name: Some(name.into()),
                labels: labels
                    .iter()
                    .map(|(k, v)| ((*k).into(), (*v).into()))
                    .collect(),
                ..ObjectMeta::default()
            },
            aggregation_rule: None,
            rules: vec![PolicyRule {
                verbs: vec![verb.into()],
                ..PolicyRule::default()
            }],
        }
    }

    fn aggregated(name: &str, operator: &str, values: &[&str]) -> ClusterRole {
        let mut r = role(name, &[], "old");
        r.aggregation_rule = Some(AggregationRule {
            cluster_role_selectors: vec![LabelSelector {
                match_expressions: vec![LabelSelectorRequirement {
                    key: "tier".into(),
                    operator: operator.into(),
                    values: values.iter().map(|v| (*v).into()).collect(),
                }],
                ..LabelSelector::default()
            }],
        });
        r
    }

    #[test]
    fn selectors_pick_roles_by_name_order_and_invalid_ones_leave_the_role() {
        let sources = [
            role("b", &[("tier", "x")], "b"),
            role("a", &[("tier", "x")], "a"),
            role("c", &[("tier", "y")], "c"),
        ];
        let cases: [(ClusterRole, Option<Vec<&str>>); 4] = [
            (aggregated("agg", "In", &["x"]), Some(vec!["a", "b"])),
            (aggregated("agg", "NotIn", &["x"]), Some(vec!["c", "old"])),
            (aggregated("agg", "Exists", &[]), Some(vec!["a", "b", "c"])),
            (aggregated("agg", "Bogus", &[]), None),
        ];
        for (target, want) in cases {
            let mut all = sources.to_vec();
            all.push(target.clone());
            let got = aggregate_one(&target, &all)
                .map(|rules| rules.iter().map(|r| r.verbs[0].clone()).collect::<Vec<_>>());
            // NotIn also matches the target itself, which is skipped; "old" comes from nowhere.
            let want = want.map(|w| {
                w.into_iter()
                    .filter(|v| *v != "old")
                    .map(String::from)
                    .collect::<Vec<_>>()
            });
            assert_eq!(got, want, "{:?}", target.aggregation_rule);
        }
    }
}

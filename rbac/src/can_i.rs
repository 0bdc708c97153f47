//! `kubectl auth can-i --list` printing: a rules review broken down, compacted and sorted as
//! kubectl does, then aligned as kubectl's tab writer does (minimum width 6, padding 3).

use kybern_core::api::rbac::v1::PolicyRule;

use crate::escalation::breakdown_rule;
use crate::gofmt::plain_list;
use crate::review::SubjectRulesReviewStatus;

/// The rules of a review as [`PolicyRule`]s (resource rules, then non-resource rules).
pub fn review_to_rules(status: &SubjectRulesReviewStatus) -> Vec<PolicyRule> {
    let resource = status.resource_rules.iter().map(|r| PolicyRule {
        verbs: r.verbs.clone(),
        api_groups: r.api_groups.clone(),
        resources: r.resources.clone(),
        resource_names: r.resource_names.clone(),
        ..PolicyRule::default()
    });
    let non_resource = status.non_resource_rules.iter().map(|r| PolicyRule {
        verbs: r.verbs.clone(),
        non_resource_urls: r.non_resource_urls.clone(),
        ..PolicyRule::default()
    });
    resource.chain(non_resource).collect()
}

/// kubectl's `CompactRules`: rules with one API group, one resource, at most one resource
/// name and no URLs are merged per (group, resource, name), verbs appended (duplicates kept,
/// as kubectl prints them).
pub fn kubectl_compact_rules(rules: &[PolicyRule]) -> Vec<PolicyRule> {
    let mut out = Vec::new();
    let mut simple: Vec<PolicyRule> = Vec::new();
    for rule in rules {
        let is_simple = rule.resource_names.len() <= 1
            && rule.non_resource_urls.is_empty()
            && rule.api_groups.len() == 1
            && rule.resources.len() == 1;
        if !is_simple {
            out.push(rule.clone());
            continue;
        }
        match simple.iter_mut().find(|s| {
            s.api_groups == rule.api_groups
                && s.resources == rule.resources
                && s.resource_names == rule.resource_names
        }) {
            Some(existing) => existing.verbs.extend(rule.verbs.iter().cloned()),
            None => simple.push(rule.clone()),
        }
    }
    out.extend(simple);
    out
}

/// The Go `PolicyRule.String()` kubectl sorts by.
fn go_string(rule: &PolicyRule) -> String {
    format!(
        "&PolicyRule{{Verbs:{},APIGroups:{},Resources:{},ResourceNames:{},NonResourceURLs:{},}}",
        plain_list(&rule.verbs),
        plain_list(&rule.api_groups),
        plain_list(&rule.resources),
        plain_list(&rule.resource_names),
        plain_list(&rule.non_resource_urls),
    )
}

/// kubectl's `CombineResourceGroup`: `deployments.apps`, `pods`, `deployments.apps/scale`.
pub fn combine_resource_group(resources: &[String], groups: &[String]) -> String {
    let Some(first) = resources.first() else {
        return String::new();
    };
    let (resource, sub) = match first.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (first.as_str(), None),
    };
    let mut out = resource.to_owned();
    if let Some(group) = groups.first().filter(|g| !g.is_empty()) {
        out.push('.');
        out.push_str(group);
    }
    if let Some(sub) = sub {
        out.push('/');
        out.push_str(sub);
    }
    out
}

/// The rows kubectl prints, in order: (resources, non-resource URLs, resource names, verbs).
pub fn can_i_rows(status: &SubjectRulesReviewStatus) -> Vec<[String; 4]> {
    let broken: Vec<PolicyRule> = review_to_rules(status)
        .iter()
        .flat_map(breakdown_rule)
        .collect();
    let mut compact: Vec<(String, PolicyRule)> = kubectl_compact_rules(&broken)
        .into_iter()
        .map(|r| (go_string(&r), r))
        .collect();
    compact.sort_by(|a, b| a.0.cmp(&b.0));
    compact
        .into_iter()
        .map(|(_, r)| {
            [
                combine_resource_group(&r.resources, &r.api_groups),
                plain_list(&r.non_resource_urls),
                plain_list(&r.resource_names),
                plain_list(&r.verbs),
            ]
        })
        .collect()
}

/// The table `kubectl auth can-i --list` prints for a rules review (with the header unless
/// `no_headers`). The incomplete-list warning kubectl prints to stderr is not included.
pub fn can_i_list(status: &SubjectRulesReviewStatus, no_headers: bool) -> String {
    let mut rows: Vec<[String; 4]> = Vec::new();
    if !no_headers {
        rows.push([
            "Resources".to_owned(),
            "Non-Resource URLs".to_owned(),
            "Resource Names".to_owned(),
            "Verbs".to_owned(),
        ]);
    }
    rows.extend(can_i_rows(status));
    tabwrite(&rows)
}

/// Go's `text/tabwriter` with kubectl's settings (min width 6, padding 3, spaces) for rows
/// whose first three cells are tab-terminated: each of those columns is as wide as its widest
/// cell plus 3 (at least 6); the last cell is written as is.
fn tabwrite(rows: &[[String; 4]]) -> String {
    let mut widths = [0usize; 3];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.chars().count() + 3).max(6);
        }
    }
    let mut out = String::new();
    for row in rows {
        for (w, cell) in widths.iter().zip(row.iter()) {
            out.push_str(cell);
            out.extend(std::iter::repeat_n(
                ' ',
                w.saturating_sub(cell.chars().count()),
            ));
        }
        out.push_str(&row[3]);
        out.push('\n');
    }
    out
}
